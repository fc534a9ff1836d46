"""The library works on a core install, without the ``[testing]`` extra (wsproto, trustme).

The registry's entries name the local test servers, but import them only where they are used
(opening a server, the demo's faults): ``trio_feeds.replay`` and the registry must load and
replay a recording in a process where wsproto and trustme cannot be imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import trio

from trio_feeds import gateway
from trio_feeds.recording import open_recorder
from trio_feeds.testing import open_gateway_server

WAIT = 5.0
KEY = ("binance", "BTCUSDT")

# Run in a fresh interpreter: importing wsproto or trustme there raises ImportError.
REPLAY = textwrap.dedent(
    """
    import json, math, sys

    for blocked in ("wsproto", "trustme"):
        sys.modules[blocked] = None  # "import wsproto" raises ImportError from here on

    import trio

    from trio_feeds import exchanges
    from trio_feeds.replay import open_replay


    async def main():
        names = [e.name for e in exchanges.all_exchanges()]
        async with open_replay(sys.argv[1], speed=math.inf) as feed:
            kinds = [type(item).__name__ async for item in feed]
            book = feed.books[("binance", "BTCUSDT")]
            levels = [[str(p), str(a)] for p, a in (*book.bids, *book.asks)]
        extra = ("trio_feeds.testing", "wsproto", "trustme")
        testing = sorted(m for m, mod in sys.modules.items() if m.startswith(extra) and mod is not None)
        print(json.dumps({"names": names, "kinds": kinds, "levels": levels, "loaded": testing}))


    trio.run(main)
    """
)


async def record_session(path: Path) -> tuple[list[str], list[list[str]]]:
    """A short live gateway session with an order book, recorded to ``path``."""
    async with (
        open_gateway_server(api_key="key", api_secret="secret", rate=None) as server,
        open_recorder(path, overwrite=True) as recorder,
        gateway.open_feed(
            server.url, credentials=gateway.Credentials("key", "secret"), recorder=recorder
        ) as feed,
    ):
        with trio.fail_after(WAIT):
            await feed.subscribe(["orderbook"], exchange="binance", symbols=["BTCUSDT"], depth=3)
            await server.push(count=3)
            kinds = []
            books = 0
            async for item in feed:
                kinds.append(type(item).__name__)
                books += isinstance(item, gateway.OrderbookMessage)
                if books == 3:
                    break
        book = feed.books[KEY]
        levels = [[str(p), str(a)] for p, a in (*book.bids, *book.asks)]
    return kinds, levels


async def test_replay_and_registry_need_no_testing_extra(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl.gz"
    kinds, levels = await record_session(path)
    assert kinds.count("OrderbookMessage") == 3
    result = await trio.run_process(
        [sys.executable, "-c", REPLAY, str(path)], capture_stdout=True, capture_stderr=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    out = json.loads(result.stdout)
    assert out["names"] == ["cryptology", "gateway", "onyx", "peatio"]
    assert out["loaded"] == []  # nothing of the [testing] extra was loaded
    # The replay gives what the live feed gave (the recording ends where the feed was left).
    assert out["kinds"][: len(kinds)] == kinds
    assert out["levels"] == levels
    assert levels


def test_the_blocking_works() -> None:
    # The check above means something only if the snippet's blocking makes imports fail.
    code = "import sys; sys.modules['wsproto'] = None; import trio_feeds.testing"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert result.returncode != 0
    assert b"ImportError" in result.stderr or b"ModuleNotFoundError" in result.stderr
