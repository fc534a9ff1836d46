"""The public API as a type checker sees it: ``mypy --strict`` on snippets a user would write.

The README's calls must type-check; a misspelt channel or keyword must be an error on its line
(before this, ``subscribe(*args: Any, **kwargs: Any)`` let both through to fail at run time);
and what ``async for item in feed`` gives must be the protocol's message types, not ``Any``.

All snippets go through one mypy run (the package and its dependencies are analysed once).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ACCEPTED = """
from trio_feeds import FeedConfig, cryptology, gateway, onyx, peatio


async def use_gateway() -> None:
    credentials = gateway.Credentials("key", "secret")
    async with gateway.open_feed("ws://127.0.0.1:1/ws", credentials=credentials) as feed:
        await feed.subscribe(["trades"], exchange="binance", symbols=["BTCUSDT"])
        await feed.subscribe(["trades"], symbols=["BTCUSDT"])
        await feed.subscribe("orderbook", exchange="binance", symbols=("ETHUSDT",), depth=10)
        await feed.subscribe(["trades"])
        await feed.unsubscribe(["trades"], symbols=["BTCUSDT"])
        async for item in feed:
            if isinstance(item, gateway.TradesMessage):
                print(item.symbol, item.data.side, item.data.amount, "@", item.data.price)


async def use_onyx() -> None:
    async with onyx.open_feed("ws://127.0.0.1:1/", token="t", config=FeedConfig()) as feed:
        await feed.subscribe("tickers", products=["x"])
        await feed.subscribe("tickers", product_groups=["crude"])
        await feed.subscribe("server_info")
        await feed.subscribe("dashboards")
        await feed.unsubscribe("server_info")
        async for item in feed:
            if isinstance(item, onyx.TickersEvent):
                for ticker in item.message:
                    print(ticker.product_symbol, ticker.bid.price, ticker.ask.price)


async def use_peatio() -> None:
    streams = ["btcusd.trades", "btcusd.ob-inc", "order"]
    async with peatio.open_feed("ws://127.0.0.1:1/", streams=streams, token="jwt") as feed:
        await feed.subscribe("btcusd.trades")
        await feed.unsubscribe("btcusd.trades", "order")
        async for item in feed:
            if isinstance(item, peatio.StreamMessage):
                print(item.stream, type(item.data).__name__)


def round_trips(frame: str) -> list[str]:
    trades = peatio.StreamMessage(stream="btcusd.trades", data=peatio.PublicTrades(trades=[]))
    return [
        gateway.encode(gateway.decode(frame)),
        onyx.encode(onyx.decode(frame)),
        peatio.encode(peatio.decode(frame)),
        peatio.encode(trades),
        cryptology.encode(cryptology.decode(frame)),
    ]


async def use_cryptology() -> None:
    async with cryptology.open_feed("ws://127.0.0.1:1/", trade_pairs=["BTC_USD"]) as feed:
        await feed.subscribe("BTC_USD")
        await feed.unsubscribe("BTC_USD")
        async for item in feed:
            if isinstance(item, cryptology.AnonymousTrade):
                print(item.time.isoformat(), item.amount, "@", item.price)
"""

# Every line marked "# E" must have an error, and no other line may.
REJECTED = """
from trio_feeds import cryptology, gateway, onyx, peatio


async def misuse_gateway() -> None:
    credentials = gateway.Credentials("key", "secret")
    async with gateway.open_feed("ws://127.0.0.1:1/ws", credentials=credentials) as feed:
        await feed.subscribe(["orderbok"])  # E misspelt channel
        await feed.subscribe(["trades"], symbolz=["X"])  # E misspelt keyword
        await feed.subscribe("trade")  # E misspelt single channel
        await feed.subscribe(["trades"], depth="10")  # E wrong type
        await feed.unsubscribe(["orderbok"])  # E misspelt channel
    async with gateway.open_feed("ws://127.0.0.1:1/ws", credential=credentials):  # E misspelt keyword
        pass


async def misuse_onyx() -> None:
    async with onyx.open_feed("ws://127.0.0.1:1/", token="t") as feed:
        await feed.subscribe("tickerz")  # E misspelt channel
        await feed.subscribe("tickers", product=["x"])  # E misspelt filter
        await feed.subscribe("server_info", products=["x"])  # E a filter on a plain channel
        await feed.unsubscribe("dashboard")  # E misspelt channel


async def misuse_peatio() -> None:
    async with peatio.open_feed("ws://127.0.0.1:1/", streams=["order"], token="jwt") as feed:
        await feed.subscribe(["btcusd.trades"])  # E a list where streams are arguments
        await feed.subscribe(stream="btcusd.trades")  # E no such keyword


async def misuse_cryptology() -> None:
    async with cryptology.open_feed("ws://127.0.0.1:1/", trade_pair=["BTC_USD"]) as feed:  # E keyword
        await feed.subscribe(["BTC_USD"])  # E a list where pairs are arguments


def misuse_codecs() -> None:
    gateway.encode({"channel": "trades"})  # E encode takes models, not dicts
    peatio.encode("btcusd.trades")  # E
"""

REVEALED = """
from trio_feeds import cryptology, gateway, onyx, peatio


async def items() -> None:
    credentials = gateway.Credentials("key", "secret")
    async with gateway.open_feed("ws://127.0.0.1:1/ws", credentials=credentials) as g:
        async for g_item in g:
            reveal_type(g_item)  # R gateway
    async with onyx.open_feed("ws://127.0.0.1:1/", token="t") as o:
        async for o_item in o:
            reveal_type(o_item)  # R onyx
    async with peatio.open_feed("ws://127.0.0.1:1/", streams=["order"]) as p:
        async for p_item in p:
            reveal_type(p_item)  # R peatio
    async with cryptology.open_feed("ws://127.0.0.1:1/") as c:
        async for c_item in c:
            reveal_type(c_item)  # R cryptology
"""

# A message type each protocol's item union must name (besides UnknownMessage and the events).
EXPECTED_MESSAGE = {
    "gateway": "trio_feeds.models.gateway.TradesMessage",
    "onyx": "trio_feeds.models.onyx.TickersEvent",
    "peatio": "trio_feeds._codecs.peatio.StreamMessage",
    "cryptology": "trio_feeds.models.cryptology.AnonymousTrade",
}

_LINE = re.compile(r"^(?P<file>[^:]+\.py):(?P<line>\d+): (?P<kind>error|note): (?P<text>.*)$")


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[int, str, str]]]:
    """One strict mypy run over the three snippets: ``{file: [(line, kind, text), ...]}``."""
    root = tmp_path_factory.mktemp("typing")
    files = {"accepted.py": ACCEPTED, "rejected.py": REJECTED, "revealed.py": REVEALED}
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text).lstrip())
    stdout, stderr, _status = mypy_api.run(
        [
            "--strict",
            "--python-version=3.11",
            "--no-error-summary",
            "--show-error-codes",
            "--hide-error-context",
            "--no-pretty",
            f"--cache-dir={root / '.mypy_cache'}",
            "--config-file=",  # the snippets alone, not this repository's settings
            *(str(root / name) for name in files),
        ]
    )
    assert not stderr, stderr
    report: dict[str, list[tuple[int, str, str]]] = {name: [] for name in files}
    for line in stdout.splitlines():
        m = _LINE.match(line)
        assert m is not None, f"unexpected mypy output: {line}\n{stdout}"
        report[Path(m["file"]).name].append((int(m["line"]), m["kind"], m["text"]))
    return report


def _marked(source: str, mark: str) -> dict[int, str]:
    lines = textwrap.dedent(source).lstrip().splitlines()
    return {n: line.split(mark, 1)[1].strip() for n, line in enumerate(lines, 1) if mark in line}


def test_readme_style_calls_type_check(mypy_report: dict[str, list[tuple[int, str, str]]]) -> None:
    assert mypy_report["accepted.py"] == []


def test_misspelt_channels_and_keywords_are_errors_on_their_lines(
    mypy_report: dict[str, list[tuple[int, str, str]]],
) -> None:
    expected = _marked(REJECTED, "# E")
    assert len(expected) == 16
    errors: dict[int, list[str]] = {}
    for line, kind, text in mypy_report["rejected.py"]:
        if kind == "error":
            errors.setdefault(line, []).append(text)
    missing = {n: why for n, why in expected.items() if n not in errors}
    unexpected = {n: texts for n, texts in errors.items() if n not in expected}
    assert not missing, f"accepted by mypy: {missing}"
    assert not unexpected, f"errors on unmarked lines: {unexpected}"


def test_iterated_items_are_typed(mypy_report: dict[str, list[tuple[int, str, str]]]) -> None:
    revealed = {
        line: text.removeprefix("Revealed type is ").strip('"')
        for line, kind, text in mypy_report["revealed.py"]
        if kind == "note" and text.startswith("Revealed type is")
    }
    marked = _marked(REVEALED, "# R")
    assert set(revealed) == set(marked)
    assert not [t for _, k, t in mypy_report["revealed.py"] if k == "error"]
    for line, protocol in marked.items():
        shown = revealed[line]
        assert "Any" not in shown, f"{protocol}: {shown}"
        assert EXPECTED_MESSAGE[protocol] in shown, f"{protocol}: {shown}"
        assert "trio_feeds._codecs._base.UnknownMessage" in shown, f"{protocol}: {shown}"
        for event in ("Connected", "Disconnected", "Gap", "DecodeFailed"):
            assert f"trio_feeds.events.{event}" in shown, f"{protocol}: {shown}"
