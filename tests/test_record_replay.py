"""Record a live session against the local servers with faults, replay it, compare item by item.

Each registered exchange runs one live session (REAL ``open_feed``, REAL local server on
127.0.0.1, REAL recorder writing a gzip file): data, a malformed frame and a frame of an
unknown type, a server close, a subscription made mid-session, a TCP drop followed by a refused
handshake, then more data. The replay of that file must give the same messages and events, in
the same order (``Gap`` times aside: they are the replay's clock), books included; at any
speed, under the real clock and under Trio's ``MockClock``.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import msgspec
import pytest
import trio
import trio.testing

from trio_feeds import events as ev
from trio_feeds import exchanges, gateway
from trio_feeds.config import FeedConfig
from trio_feeds.errors import RequestTimeout
from trio_feeds.exchanges import Exchange, ExchangeCredentials
from trio_feeds.recording import iter_records, open_recorder
from trio_feeds.replay import ReplayDiverged, open_replay

SECRETS = {
    "api_key": "rec-KEY-7f3a91",
    "api_secret": "REC-SECRET-5b9e0c77",
    "token": "eyJhbGciOi.REC-JWT.sig-d4c2e8",
}
BAD_FRAME = '{"oops": '  # not JSON: a DecodeFailed, and the feed goes on
WAIT = 20.0
CONFIG: dict[str, Any] = {
    "ping_interval": 0.1,
    "ping_timeout": 1.0,
    "stale_grace": 1.0,
    "connect_timeout": 2.0,
    "close_timeout": 0.2,
    "backoff_initial": 0.01,
    "backoff_max": 0.05,
    "rate_limit_backoff": 0.05,
    "healthy_after": 60.0,  # attempts count up: the replay must number them as live did
    "request_timeout": 2.0,
    "poll_interval": 0.05,
}


def normal(item: Any) -> Any:
    """An item as compared: ``Gap`` without its (clock) times, ``DecodeFailed`` by its error's text."""
    if isinstance(item, ev.Gap):
        return ("Gap",)
    if isinstance(item, ev.DecodeFailed):
        return ("DecodeFailed", str(item.error), item.error.path)
    return item


def books_of(feed: Any) -> dict[Any, Any]:
    return {
        key: (
            tuple(book.bids),
            tuple(book.asks),
            book.synced,
            book.unsynced_reason,
            book.sequence,
            book.updated_at,
        )
        for key, book in feed.books.items()
    }


@attrs.frozen
class Live:
    path: Path
    items: list[Any]
    books: dict[Any, Any]
    frames: int
    client_frames: list[Any] = attrs.field(factory=list)  # what the server got from the client


def credentials_of(exchange: Exchange) -> ExchangeCredentials:
    return ExchangeCredentials(**{n: v for n, v in SECRETS.items() if n in exchange.uses})


async def _drive(exchange: Exchange, server: Any, feed: Any, nursery: trio.Nursery, items: list[Any]) -> None:
    stage = messages = mark = 0
    async for item in feed:
        items.append(normal(item))
        if type(item).__module__ != ev.__name__:
            messages += 1
        if stage == 0 and messages >= 30:
            await server.send_raw(BAD_FRAME)
            await server.send_raw(exchange.fault_profile.unknown_frame)
            stage = 1
        elif stage == 1 and messages >= 45:
            await server.close(1011, "restart")
            stage = 2
        elif stage == 2 and isinstance(item, ev.Resubscribed):
            nursery.start_soon(exchange.matrix_subscribe, feed)  # a request made mid-session
            stage, mark = 3, messages
        elif stage == 3 and messages >= mark + 20:
            server.refuse_next(1, status=503)
            await server.abort()
            stage = 4
        elif stage == 4 and isinstance(item, ev.Resubscribed):
            stage, mark = 5, messages
        elif stage == 5 and messages >= mark + 20:
            return


async def live_session(exchange: Exchange, path: Path) -> Live:
    creds = credentials_of(exchange)
    config = FeedConfig(**CONFIG, rng=random.Random(7))
    items: list[Any] = []
    async with exchange.open_server(rate=150, credentials=creds) as server, open_recorder(path) as recorder:
        options = exchange.demo_feed_options()
        feed_cm = exchange.open_feed(server.url, creds, config=config, recorder=recorder, **options)
        async with feed_cm as feed, trio.open_nursery() as nursery:
            nursery.start_soon(exchange.demo_subscribe, feed)
            with trio.fail_after(WAIT):
                await _drive(exchange, server, feed, nursery, items)
            nursery.cancel_scope.cancel()
        books = books_of(feed)
        sent = [frame for conn in server.connections for frame in conn.received]
    return Live(path, items, books, recorder.frames, sent)


async def replay(path: Path, speed: float, **kwargs: Any) -> tuple[list[Any], dict[Any, Any]]:
    async with open_replay(path, speed=speed, **kwargs) as feed:
        items = [normal(item) async for item in feed]
    return items, books_of(feed)  # once the feed is closed, as the live books were taken


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Live]:
    """One live session per registered exchange, recorded (a trio run of its own: real clock)."""
    folder = tmp_path_factory.mktemp("recordings")
    return {
        exchange.name: trio.run(live_session, exchange, folder / f"{exchange.name}.jsonl.gz")
        for exchange in exchanges.all_exchanges()
    }


NAMES = exchanges.names()


@pytest.mark.parametrize("name", NAMES)
async def test_the_live_session_went_through_every_fault(recorded: dict[str, Live], name: str) -> None:
    kinds = [type(i).__name__ if not isinstance(i, tuple) else i[0] for i in recorded[name].items]
    for kind in (
        "Connected",
        "DecodeFailed",
        "UnknownMessage",
        "Disconnected",
        "Reconnecting",
        "Resubscribed",
    ):
        assert kind in kinds, (name, kind)
    reconnecting = [i for i in recorded[name].items if isinstance(i, ev.Reconnecting)]
    assert [r.attempt for r in reconnecting] == [1, 2, 3]  # close; drop; the refused handshake
    assert "HTTP 503" in reconnecting[2].reason


@pytest.mark.parametrize("name", NAMES)
async def test_replay_gives_the_live_items_and_books(recorded: dict[str, Live], name: str) -> None:
    live = recorded[name]
    items, books = await replay(live.path, math.inf)
    # The live consumer stopped early; frames received before the feed closed are replayed too.
    assert len(items) >= len(live.items)
    for i, (want, got) in enumerate(zip(live.items, items, strict=False)):
        assert got == want, (name, i)
    assert books == live.books
    if name in ("cryptology", "gateway"):
        assert books, "the session kept books"
        assert any(isinstance(i, ev.BookOutOfSync) for i in live.items)
        assert any(isinstance(i, ev.BookSynced) for i in live.items)


@pytest.mark.parametrize("name", NAMES)
async def test_replay_at_any_speed_under_mock_clock_is_the_same(
    recorded: dict[str, Live], name: str, autojump_clock: trio.testing.MockClock
) -> None:
    live = recorded[name]
    runs = [await replay(live.path, speed) for speed in (1.0, 3.0, math.inf)]
    assert runs[0] == runs[1] == runs[2]
    assert runs[0][0][: len(live.items)] == live.items


async def test_speed_scales_the_recorded_timeline(
    recorded: dict[str, Live], autojump_clock: trio.testing.MockClock
) -> None:
    path = recorded["gateway"].path
    opened = [r[1] for r in iter_records(path) if r[0] == "open"]
    for speed in (1.0, 4.0):
        connected = []
        async with open_replay(path, speed=speed) as feed:
            async for item in feed:
                if isinstance(item, ev.Connected):
                    connected.append(trio.current_time())
        assert len(connected) == len(opened) == 3
        gaps = [b - a for a, b in itertools.pairwise(connected)]
        recorded_gaps = [(b - a) / speed for a, b in itertools.pairwise(opened)]
        assert gaps == pytest.approx(recorded_gaps, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("name", NAMES)
async def test_a_recording_holds_no_secret_and_no_frame_the_client_sent(
    recorded: dict[str, Live], name: str
) -> None:
    live = recorded[name]
    exchange = exchanges.get(name)
    text = "\n".join(msgspec.json.encode(r).decode() for r in iter_records(live.path))
    for secret in credentials_of(exchange).secrets:
        assert secret not in text
    header = next(iter_records(live.path))[3]
    if header["credentials"] is not None:  # None: a Feed without _replay_setup (tests/fifth's)
        assert set(header["credentials"]) == {n for n, _ in credentials_of(exchange).items()}
    assert header["exchange"] == name
    assert header["format"] == "trio-feeds-recording"
    frames = [r[3] for r in iter_records(live.path) if r[0] in ("t", "b")]
    assert len(frames) == live.frames > 50
    is_auth = exchange.fault_profile.is_auth_frame
    if is_auth is not None:
        auth_frames = [f for f in live.client_frames if is_auth(f)]
        assert len(auth_frames) >= 3  # one per connection
        parsed = [json.loads(f, parse_float=Decimal) for f in frames if f not in (BAD_FRAME, "ping")]
        assert not any(f in parsed for f in auth_frames)


async def test_the_applications_own_calls_are_declined_in_a_replay(recorded: dict[str, Live]) -> None:
    live = recorded["gateway"]
    async with open_replay(live.path, speed=math.inf) as feed:
        assert isinstance(feed, gateway.GatewayFeed)
        with trio.fail_after(1):
            await feed.subscribe(["orders"], symbols=["XRPUSDT"])  # returns at once, changes nothing
        items = [normal(item) async for item in feed]
    assert items[: len(live.items)] == live.items


# -- the engine's own timers: an unanswered ping, a request that timed out ---------------------


async def timer_session(path: Path) -> Live:
    """The gateway server goes silent (no pong: the engine ends the connection), then answers a
    subscribe too late (it times out, and its late answer comes)."""
    creds = credentials_of(exchanges.get("gateway"))
    config = FeedConfig(**{**CONFIG, "ping_interval": 0.05, "ping_timeout": 0.2, "request_timeout": 0.3})
    items: list[Any] = []
    timed_out = trio.Event()

    async def late_subscribe(feed: Any) -> None:
        with pytest.raises(RequestTimeout):
            await feed.subscribe(["market_data"], symbols=["ETHUSDT"])
        timed_out.set()

    server_cm = exchanges.get("gateway").open_server(rate=100, credentials=creds)
    gw_creds = gateway.Credentials(SECRETS["api_key"], SECRETS["api_secret"])
    async with server_cm as server, open_recorder(path) as recorder:
        feed_cm = gateway.open_feed(server.url, credentials=gw_creds, config=config, recorder=recorder)
        async with feed_cm as feed, trio.open_nursery() as nursery:
            await feed.subscribe(["trades"], symbols=["BTCUSDT"])
            with trio.fail_after(WAIT):
                await _drive_timers(
                    server, feed, items, lambda: nursery.start_soon(late_subscribe, feed), timed_out
                )
        books = books_of(feed)
    return Live(path, items, books, recorder.frames)


async def _drive_timers(
    server: Any, feed: Any, items: list[Any], start_late_subscribe: Any, timed_out: trio.Event
) -> None:
    stage = messages = mark = 0
    async for item in feed:
        items.append(normal(item))
        messages += not isinstance(item, ev.Gap | ev.Connected | ev.Subscribed)
        if stage == 0 and messages >= 20:
            server.blackhole()
            stage = 1
        elif stage == 1 and isinstance(item, ev.Disconnected):
            server.resume()
            stage = 2
        elif stage == 2 and isinstance(item, ev.Resubscribed):
            server.delay_replies(0.6)
            start_late_subscribe()
            stage = 3
        elif stage == 3 and timed_out.is_set():
            server.resume()
            stage, mark = 4, messages
        elif stage == 4 and messages >= mark + 40:
            return


@pytest.fixture(scope="session")
def recorded_timers(tmp_path_factory: pytest.TempPathFactory) -> Live:
    return trio.run(timer_session, tmp_path_factory.mktemp("timers") / "gateway.jsonl.gz")


async def test_ends_and_timeouts_of_the_engines_own_timers_replay_in_place(recorded_timers: Live) -> None:
    live = recorded_timers
    disconnected = [i for i in live.items if isinstance(i, ev.Disconnected)]
    assert disconnected[0] == ev.Disconnected(None, "no pong within ping_timeout (0.2 s)")
    kinds = [r[0] for r in iter_records(live.path)]
    assert "expire" in kinds
    for speed in (math.inf, 1.0):
        items, books = await replay(live.path, speed)
        assert items[: len(live.items)] == live.items
        assert books == live.books


async def test_replay_under_mock_clock_with_the_engines_timers(
    recorded_timers: Live, autojump_clock: trio.testing.MockClock
) -> None:
    runs = [await replay(recorded_timers.path, speed) for speed in (0.5, 1.0, math.inf)]
    assert runs[0] == runs[1] == runs[2]
    assert runs[0][0][: len(recorded_timers.items)] == recorded_timers.items


# -- divergence ----------------------------------------------------------------------------------


def _edited(records: Iterator[list[Any]], path: Path) -> None:
    import gzip

    path.write_bytes(gzip.compress(b"".join(msgspec.json.encode(r) + b"\n" for r in records)))


async def test_a_replay_that_diverges_from_the_recording_says_so(
    recorded: dict[str, Live], tmp_path: Path
) -> None:
    live = recorded["gateway"]

    def tampered() -> Iterator[list[Any]]:
        done = False
        for record in iter_records(live.path):
            if not done and record[0] == "event" and record[3] == "Disconnected":
                record[4]["reason"] = "something else"  # the recording says another reason
                done = True
            yield record

    path = tmp_path / "tampered.jsonl.gz"
    _edited(tampered(), path)
    with pytest.raises(ReplayDiverged, match="something else"):
        await replay(path, math.inf)
    items, _ = await replay(path, math.inf, strict=False)  # lenient: goes on, as recorded
    assert items[: len(live.items)] == live.items


async def test_leaving_a_replay_early_ends_it_at_once(recorded: dict[str, Live], caplog: Any) -> None:
    live = recorded["gateway"]
    with trio.fail_after(2):
        async with open_replay(live.path, speed=1.0) as feed:  # the recorded pace
            async for item in feed:
                if isinstance(item, gateway.TradesMessage):
                    break  # the rest of the recording is never played
    assert not [r for r in caplog.records if r.name.startswith("trio_feeds.replay")]
