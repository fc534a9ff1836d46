"""The shared engine, against a fake protocol, real local servers, and a scripted transport.

Real-socket tests use the real clock with timeouts of tens of milliseconds; pure timing logic
(backoff) uses ``autojump_clock`` with the in-memory transport of ``tests/_fake_protocol.py``.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import math
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import pytest
import trio
import trio_websocket
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage

from tests._fake_protocol import Fail, FakeFeed, FakeProtocol, FakeTransport, Up, dumps, open_fake_feed
from tests._tasks import all_tasks
from trio_feeds import Feed, start_feed
from trio_feeds import events as ev
from trio_feeds._engine._buffer import Buffer, FeedStats
from trio_feeds._engine._session import YIELD_FRAMES
from trio_feeds._sansio._protocol import CloseVerdict, ConnectTarget, HeartbeatPolicy, Send
from trio_feeds._transports import redact_url
from trio_feeds.config import FeedConfig
from trio_feeds.errors import (
    AuthenticationError,
    DecodeError,
    FeedClosed,
    RequestTimeout,
    SlowConsumer,
    SubscriptionError,
)

HOST = "127.0.0.1"
SECRET = "SECRET-KEY-7f3a9c"


def fast(**overrides: Any) -> FeedConfig:
    """A config for real-socket tests: everything in tens of milliseconds."""
    base: dict[str, Any] = {
        "ping_interval": 0.05,
        "ping_timeout": 0.25,  # generous: a loaded 2-core CI box must not fake a dead connection
        "stale_grace": 0.05,
        "connect_timeout": 1.0,
        "close_timeout": 0.2,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "rate_limit_backoff": 0.1,
        "healthy_after": 10.0,
        "request_timeout": 1.0,
        "poll_interval": 0.02,
        "rng": random.Random(7),
    }
    base.update(overrides)
    return FeedConfig(**base)


# -- a scriptable trio-websocket server speaking the fake protocol -------------------------------


@attrs.define(eq=False)
class ServerConn:
    index: int
    ws: trio_websocket.WebSocketConnection
    received: list[Any] = attrs.Factory(list)
    closed: trio.Event = attrs.Factory(trio.Event)
    changed: trio.Event = attrs.Factory(trio.Event)
    close_code: int | None = None  # the code of the client's Close frame, if it sent one

    def record(self, msg: Any) -> None:
        self.received.append(msg)
        self.changed.set()
        self.changed = trio.Event()

    async def wait_received(self, kind: str) -> None:
        while not any(m.get("t") == kind for m in self.received):
            await self.changed.wait()

    async def send(self, obj: Any) -> None:
        await self.ws.send_message(obj if isinstance(obj, str) else dumps(obj))


Script = Callable[[ServerConn], Awaitable[None]]


@attrs.define(eq=False)
class FakeServer:
    port: int = 0
    key: str | None = None
    refuse: set[str] = attrs.Factory(set)  # channels answered with an error
    silent: set[str] = attrs.Factory(set)  # channels never answered
    answer_auth: bool = True
    reject_status: int | None = None  # reject every handshake with this HTTP status
    script: Script | None = None  # runs alongside the standard replies, per connection
    conns: list[ServerConn] = attrs.Factory(list)
    handshakes: int = 0
    new_conn: trio.Event = attrs.Factory(trio.Event)
    pongs: int = 0
    got_pong: trio.Event = attrs.Factory(trio.Event)

    @property
    def url(self) -> str:
        return f"ws://{HOST}:{self.port}/feed?token=abc"

    async def wait_conns(self, n: int) -> ServerConn:
        while len(self.conns) < n:
            await self.new_conn.wait()
        return self.conns[n - 1]

    async def handler(self, request: trio_websocket.WebSocketRequest) -> None:
        self.handshakes += 1
        if self.reject_status is not None:
            await request.reject(self.reject_status)
            return
        ws = await request.accept()
        conn = ServerConn(len(self.conns), ws)
        self.conns.append(conn)
        self.new_conn.set()
        self.new_conn = trio.Event()
        try:
            async with trio.open_nursery() as nursery:
                if self.script is not None:
                    nursery.start_soon(self._run_script, conn, nursery.cancel_scope)
                await self._replies(conn)
                nursery.cancel_scope.cancel()
        finally:
            if ws.closed is not None:
                conn.close_code = ws.closed.code
            conn.closed.set()

    async def _run_script(self, conn: ServerConn, scope: trio.CancelScope) -> None:
        assert self.script is not None
        try:
            await self.script(conn)
        except trio_websocket.ConnectionClosed:
            scope.cancel()

    async def _replies(self, conn: ServerConn) -> None:
        while True:
            try:
                msg = json.loads(await conn.ws.get_message())
            except trio_websocket.ConnectionClosed:
                return
            conn.record(msg)
            kind = msg.get("t")
            if kind == "auth":
                if not self.answer_auth:
                    continue
                if msg["key"] == self.key:
                    await conn.send({"t": "authed"})
                else:
                    await conn.send({"t": "auth_failed", "reason": "bad key"})
            elif kind in ("sub", "unsub"):
                if msg["ch"] in self.silent:
                    continue
                error = "no such channel" if msg["ch"] in self.refuse else None
                await conn.send({"t": "ack", "id": msg["id"], "error": error})
            elif kind == "pong":
                self.pongs += 1
                self.got_pong.set()


@asynccontextmanager
async def serving(server: FakeServer) -> AsyncIterator[FakeServer]:
    async with trio.open_nursery() as nursery:
        ws_server = await nursery.start(trio_websocket.serve_websocket, server.handler, HOST, 0, None)
        server.port = ws_server.port
        yield server
        nursery.cancel_scope.cancel()


# -- raw TCP servers for faults trio-websocket's server cannot make -------------------------------


@attrs.define(eq=False)
class RawServer:
    """Completes the WebSocket handshake with wsproto (or not), then does as ``mode`` says.

    ``blackhole``: never reads or writes again (no pongs, no Close reply, TCP stays open).
    ``abort``: sends one data frame, then drops TCP without a Close frame.
    ``no_handshake``: accepts TCP and never answers the HTTP request.
    ``close_no_fin``: sends a Close frame, then keeps TCP open (never closes it itself).
    ``burst``: sends ``burst`` (text frames) in one write, then reads until the client leaves.
    """

    mode: str
    burst: list[str] = attrs.Factory(list)
    port: int = 0
    accepted: int = 0
    closed: int = 0  # connections whose socket the client closed
    closed_event: trio.Event = attrs.Factory(trio.Event)

    @property
    def url(self) -> str:
        return f"ws://{HOST}:{self.port}/"

    async def handle(self, stream: trio.SocketStream) -> None:
        self.accepted += 1
        ws = WSConnection(ConnectionType.SERVER)
        if self.mode != "no_handshake":
            while True:
                ws.receive_data(await stream.receive_some(4096))
                if any(isinstance(e, Request) for e in ws.events()):
                    break
            await stream.send_all(ws.send(AcceptConnection()))
        if self.mode == "close_no_fin":
            try:
                await stream.send_all(ws.send(CloseConnection(code=1001, reason="bye")))
            except trio.BrokenResourceError:
                # The client left first: a test that took what it needed from the previous
                # connection closes the feed while this one is being answered.
                self.closed += 1
                self.closed_event.set()
                return
        if self.mode == "burst":
            await stream.send_all(b"".join(ws.send(TextMessage(frame)) for frame in self.burst))
        if self.mode == "abort":
            await stream.send_all(ws.send(TextMessage(dumps({"t": "data", "v": "last"}))))
            await trio.sleep(0.02)
            stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            await stream.aclose()
            return
        # Blackhole: stop reading. Only to learn when the client gives up do we peek at EOF,
        # after the client had every chance to be answered.
        await trio.sleep(0.01)
        try:
            while await stream.receive_some(65536):
                # Data (pings, Close) is read and ignored: nothing is ever answered.
                pass
        except trio.BrokenResourceError:
            pass
        self.closed += 1
        self.closed_event.set()


@asynccontextmanager
async def raw_serving(server: RawServer) -> AsyncIterator[RawServer]:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, server.handle, 0, host=HOST))
        server.port = listeners[0].socket.getsockname()[1]
        yield server
        nursery.cancel_scope.cancel()


def feed_tasks() -> list[str]:
    """Names of live tasks that belong to trio-feeds (there must be none after a feed exits)."""
    return [t.name for t in all_tasks() if t.name.startswith("trio_feeds")]


async def take(feed: Feed, n: int, *, within: float = 5.0) -> list[Any]:
    """The next ``n`` items; fails (rather than hangs) when they do not come."""
    out = []
    with trio.fail_after(within):
        async for item in feed:
            out.append(item)
            if len(out) == n:
                break
    return out


async def take_until(feed: Feed, predicate: Callable[[Any], bool], *, within: float = 5.0) -> list[Any]:
    """Items up to and including the first one that satisfies ``predicate``."""
    out = []
    with trio.fail_after(within):
        async for item in feed:
            out.append(item)
            if predicate(item):
                break
    return out


async def drain(
    protocol: FakeProtocol, config: FeedConfig, into: list[Any], *, transport: FakeTransport | None = None
) -> None:
    """Run a feed, collecting everything it yields into ``into``, until it ends."""
    async with open_fake_feed(protocol, config, transport=transport) as feed:
        async for item in feed:
            into.append(item)


def events_of(items: list[Any], kind: type) -> list[Any]:
    return [i for i in items if isinstance(i, kind)]


# -- config and events ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"ping_interval": 0},
        {"ping_timeout": -1},
        {"buffer_size": 0},
        {"backoff_multiplier": 0.5},
        {"backoff_initial": 10, "backoff_max": 1},
        {"overflow": "block"},
        {"bad_frames": "ignore"},
        {"max_attempts": -1},
        {"request_timeout": float("nan")},
    ],
)
def test_config_rejects_bad_values(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - attrs' in_ validator raises a plain ValueError
        FeedConfig(**bad)


def test_backoff_ceiling_caps_and_survives_huge_attempts() -> None:
    cfg = FeedConfig(backoff_initial=0.1, backoff_multiplier=2, backoff_max=30)
    assert [cfg.backoff_ceiling(n) for n in (1, 2, 3)] == [0.1, 0.2, 0.4]
    assert cfg.backoff_ceiling(20) == 30
    assert cfg.backoff_ceiling(100_000) == 30


def test_redact_url_and_event_reprs_hide_secrets() -> None:
    assert redact_url(f"wss://user:{SECRET}@ex.com:9443/ws?token={SECRET}") == "wss://ex.com:9443/ws"
    assert SECRET not in repr(Send(f'{{"key": "{SECRET}"}}'))
    assert SECRET not in repr(ConnectTarget("wss://x/", (("Authorization", SECRET),)))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ev.Gap(1.0, 2.0).since = 3.0  # type: ignore[misc]


# -- delivery, requests ----------------------------------------------------------------------------


async def test_delivers_in_order_with_session_events() -> None:
    async def script(conn: ServerConn) -> None:
        for i in range(200):
            await conn.send({"t": "data", "v": i})

    async with (
        serving(FakeServer(script=script)) as server,
        open_fake_feed(FakeProtocol(server.url), fast()) as feed,
    ):
        items = await take(feed, 201)
        assert items[0] == ev.Connected(f"ws://{HOST}:{server.port}/feed")  # query string dropped
        assert items[1:] == list(range(200))
        assert feed.stats.messages == 200
        assert feed.connected
        # The check below can see the engine's tasks: an idle feed runs its reader and its
        # clock (the writer and pings only while they have work).
        assert {"trio_feeds._engine._feed.Feed._run", "trio_feeds._engine._core.Engine.clock"} <= set(
            feed_tasks()
        )
    assert feed_tasks() == []


def awaited_chain(task: trio.lowlevel.Task) -> list[str]:
    """The qualified names of the coroutines (and generators) ``task`` is parked in, outermost first."""
    names: list[str] = []
    frame: Any = task.coro
    while frame is not None:
        code = getattr(frame, "cr_code", None) or frame.gi_code
        if "trio_feeds" in code.co_filename:
            names.append(code.co_qualname)
        frame = getattr(frame, "cr_await", None) if hasattr(frame, "cr_await") else frame.gi_yieldfrom
    return names


async def test_an_idle_connection_keeps_a_short_reader_stack() -> None:
    # Every coroutine an idle feed's reader waits in lives as long as the connection: 0.25 to
    # 0.35 KiB each, for every one of thousands of feeds (benchmarks/throughput.py, memory).
    # So the reconnect loop runs in Engine.run's own frame, the session in connect_once's
    # (session_started and session_over are called around the read, not awaited over it),
    # and the fast transport waits for its socket in _read_once itself.
    async with (
        serving(FakeServer()) as server,
        open_fake_feed(FakeProtocol(server.url), fast(ping_interval=60.0)) as feed,
    ):
        assert await take(feed, 1) == [ev.Connected(f"ws://{HOST}:{server.port}/feed")]
        await trio.testing.wait_all_tasks_blocked()
        (reader,) = [t for t in all_tasks() if t.name == "trio_feeds._engine._feed.Feed._run"]
        assert awaited_chain(reader) == [
            "Feed._run",
            "Engine.run",
            "Engine.connect_once",
            "Session._read_batches",
            "FastConnection.receive_batch",
            "FastConnection._read_once",
        ]


async def test_subscribe_acknowledged_refused_and_timed_out() -> None:
    server = FakeServer(refuse={"nope"}, silent={"void"})
    async with (
        serving(server),
        open_fake_feed(FakeProtocol(server.url), fast(request_timeout=0.2)) as feed,
    ):
        await feed.subscribe("a")
        assert {"t": "sub", "ch": "a", "id": "s1"} in server.conns[0].received
        with pytest.raises(SubscriptionError, match="no such channel"):
            await feed.subscribe("nope")
        start = trio.current_time()
        with pytest.raises(RequestTimeout):
            await feed.subscribe("void")
        assert 0.2 <= trio.current_time() - start < 0.5
        await feed.unsubscribe("a")
        items = await take(feed, 2)
        assert items == [ev.Connected(redact_url(server.url)), ev.Subscribed("s1")]


async def test_subscribe_waits_across_a_reconnect() -> None:
    async def drop_first_sub(conn: ServerConn) -> None:
        if conn.index > 0:
            server.silent.clear()  # later connections answer
        else:
            await conn.wait_received("sub")
            await conn.ws.aclose(1012, "restart")  # before acknowledging

    server = FakeServer(silent=set(), script=drop_first_sub)
    # The first connection does not answer the subscription: it closes instead.
    server.silent.add("flaky")
    async with serving(server), open_fake_feed(FakeProtocol(server.url), fast()) as feed:
        await take(feed, 1)  # Connected
        await feed.subscribe("flaky")  # returns once the second connection acknowledged it
        assert len(server.conns) == 2
        assert [m["ch"] for m in server.conns[1].received if m["t"] == "sub"] == ["flaky"]
        items = await take_until(feed, lambda i: isinstance(i, ev.Gap))
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["Disconnected", "Reconnecting", "Connected", "Subscribed", "Resubscribed", "Gap"]
    assert items[0] == ev.Disconnected(1012, "restart")


# -- reconnect -------------------------------------------------------------------------------------


async def test_reconnects_after_server_close_and_resubscribes() -> None:
    async def script(conn: ServerConn) -> None:
        await conn.wait_received("sub")
        await trio.sleep(0.01)
        if conn.index == 0:
            await conn.send({"t": "data", "v": 1})
            await conn.ws.aclose(1001, "going away")
        else:
            await conn.send({"t": "data", "v": 2})

    server = FakeServer(script=script)
    async with serving(server):
        proto = FakeProtocol(server.url)
        async with open_fake_feed(proto, fast()) as feed:
            await feed.subscribe("a")
            items = await take_until(feed, lambda i: i == 2)
    kinds = [type(i).__name__ for i in items]
    assert kinds == [
        "Connected",
        "Subscribed",
        "int",
        "Disconnected",
        "Reconnecting",
        "Connected",
        "Resubscribed",
        "Gap",
        "int",
    ]
    assert items[3] == ev.Disconnected(1001, "going away")
    reconnecting = items[4]
    assert reconnecting.attempt == 1
    assert 0 <= reconnecting.delay <= 0.01
    assert items[6] == ev.Resubscribed(1)
    gap = items[7]
    assert gap.since < gap.until
    # The resubscription went out on the new connection.
    assert [m["ch"] for m in server.conns[1].received if m["t"] == "sub"] == ["a"]
    assert feed.stats.reconnects == 1
    assert proto.connections_lost == 2


async def test_reconnects_after_tcp_abort() -> None:
    async with (
        raw_serving(RawServer("abort")) as server,
        open_fake_feed(FakeProtocol(server.url), fast()) as feed,
    ):
        items = await take(feed, 5)
    assert [type(i).__name__ for i in items] == [
        "Connected",
        "str",
        "Disconnected",
        "Reconnecting",
        "Connected",
    ]
    assert items[2].code is None  # no close frame


async def test_close_without_tcp_fin_does_not_hang_the_reconnect() -> None:
    # The server sends Close and never closes TCP: trio-websocket alone would wait for the FIN.
    async with (
        raw_serving(RawServer("close_no_fin")) as server,
        open_fake_feed(FakeProtocol(server.url), fast(close_timeout=5)) as feed,
    ):
        items = await take(feed, 4, within=1.0)
        with trio.fail_after(1):
            await server.closed_event.wait()  # we closed the socket ourselves
    assert [type(i).__name__ for i in items] == ["Connected", "Disconnected", "Reconnecting", "Connected"]
    assert items[1] == ev.Disconnected(1001, "bye")


async def test_protocol_close_sends_its_code_and_reconnects() -> None:
    close_codes: list[int] = []

    async def script(conn: ServerConn) -> None:
        if conn.index == 0:
            await conn.send({"t": "close", "code": 4321, "verdict": "retry"})
            try:
                await conn.ws.get_message()
            except trio_websocket.ConnectionClosed as exc:
                assert exc.reason is not None
                close_codes.append(exc.reason.code)

    async with (
        serving(FakeServer(script=script)) as server,
        open_fake_feed(FakeProtocol(server.url), fast()) as feed,
    ):
        items = await take(feed, 4)
    assert [type(i).__name__ for i in items] == ["Connected", "Disconnected", "Reconnecting", "Connected"]
    assert items[1] == ev.Disconnected(4321, "server asked")
    assert close_codes == [4321]


# -- liveness --------------------------------------------------------------------------------------


async def test_blackhole_is_detected_within_ping_interval_plus_timeout() -> None:
    cfg = fast(ping_interval=0.05, ping_timeout=0.05, close_timeout=0.2)
    async with (
        raw_serving(RawServer("blackhole")) as server,
        open_fake_feed(FakeProtocol(server.url), cfg) as feed,
    ):
        connected = (await take(feed, 1))[0]
        assert isinstance(connected, ev.Connected)
        t0 = trio.current_time()
        disconnected = (await take(feed, 1))[0]
        detected = trio.current_time() - t0
        assert disconnected == ev.Disconnected(None, "no pong within ping_timeout (0.05 s)")
        # Not answered pings are not waited out gracefully: no close_timeout on top.
        assert detected < cfg.ping_interval + cfg.ping_timeout + 0.1
        await take_until(feed, lambda i: isinstance(i, ev.Connected))
        assert server.closed >= 1  # the dead socket was closed, not leaked
    print(f"blackhole detected after {detected * 1000:.0f} ms")


async def test_quiet_channel_with_answered_pings_stays_connected() -> None:
    async with (
        serving(FakeServer()) as server,
        open_fake_feed(FakeProtocol(server.url), fast(ping_interval=0.02)) as feed,
    ):
        await take(feed, 1)
        await trio.sleep(0.4)  # 20 ping intervals, not a single data frame
        assert feed.connected
        assert feed.stats.reconnects == 0
        assert len(server.conns) == 1


async def test_silence_beyond_server_heartbeat_reconnects() -> None:
    proto = FakeProtocol("", heartbeat=HeartbeatPolicy(server_heartbeat=0.1))
    async with serving(FakeServer()) as server:
        proto.url = server.url
        async with open_fake_feed(proto, fast(stale_grace=0.05)) as feed:
            await take(feed, 1)
            t0 = trio.current_time()
            disconnected = (await take(feed, 1))[0]
            elapsed = trio.current_time() - t0
    assert isinstance(disconnected, ev.Disconnected)
    assert "no frame for 0.15 s" in disconnected.reason
    # Measured from when the test saw Connected, a little after the engine's clock started.
    assert 0.12 <= elapsed < 0.4
    print(f"stale connection detected after {elapsed * 1000:.0f} ms")


async def test_one_deadline_per_request_owned_by_the_engine(autojump_clock: trio.testing.MockClock) -> None:
    """The engine times every awaited request id once, also while disconnected, and tells the
    protocol to forget it; a resubscription left unanswered is timed the same way."""
    transport = FakeTransport([Fail(), Up(for_=3.0), Up(for_=math.inf)])
    proto = FakeProtocol("ws://x/")
    cfg = FeedConfig(request_timeout=2.0, backoff_initial=5.0, backoff_max=5.0, rng=random.Random(0))
    async with open_fake_feed(proto, cfg, transport=transport) as feed:
        start = trio.current_time()
        # The first attempt fails and the backoff outlasts the deadline: no connection at all.
        with pytest.raises(
            RequestTimeout, match=r"fake subscribe not answered within request_timeout \(2 s\)"
        ):
            await feed.subscribe("never")
        assert trio.current_time() - start == pytest.approx(2.0)
        assert proto.forgotten == ["s1"]
        # The wish is kept: each connection that follows re-sends it, unanswered (the scripted
        # transport never answers); after a reconnect, Resubscribed reports the expiry.
        items = await take_until(feed, lambda i: isinstance(i, ev.Resubscribed), within=30)
        resubscribed = items[-1]
        assert isinstance(resubscribed, ev.Resubscribed)
        assert resubscribed.count == 1
        assert resubscribed.errors == ("r3: not answered within request_timeout",)
        assert proto.forgotten == ["s1", "r2", "r3"]
        assert [json.loads(f)["ch"] for c in transport.connections for f in c.sent] == ["never", "never"]


async def test_request_timeout_while_disconnected_names_the_cause(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = FakeTransport([Fail("connection refused by the test")])
    cfg = FeedConfig(request_timeout=2.0, rng=random.Random(0))
    async with open_fake_feed(FakeProtocol("ws://x/"), cfg, transport=transport) as feed:
        with pytest.raises(RequestTimeout, match=r"\(2 s\); not connected: connection refused by the test"):
            await feed.subscribe("a")


async def test_the_first_ping_is_jittered_then_pings_follow_the_interval(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Feeds that connect together must not ping together for as long as they live: the first
    # ping comes at a random point of the interval's second half (from the config's rng), the
    # next ones an interval after each pong.
    firsts = []
    for seed in (1, 2, 3):
        transport = FakeTransport([Up()])
        cfg = FeedConfig(ping_interval=10.0, ping_timeout=1.0, rng=random.Random(seed))
        async with open_fake_feed(FakeProtocol("ws://x/"), cfg, transport=transport):
            await trio.sleep(35.0)
        (conn,) = transport.connections
        connected_at = transport.attempt_times[0]
        first = conn.ping_times[0] - connected_at
        assert first == pytest.approx(10.0 * (0.5 + 0.5 * random.Random(seed).random()))
        assert [b - a for a, b in itertools.pairwise(conn.ping_times)] == pytest.approx([10.0, 10.0])
        firsts.append(first)
    assert all(5.0 <= f < 10.0 for f in firsts)
    assert len(set(firsts)) == 3


# -- backoff (pure timing: mock clock, scripted transport) ------------------------------------------


async def test_backoff_full_jitter_capped_and_gives_up(autojump_clock: trio.testing.MockClock) -> None:
    cfg = FeedConfig(
        backoff_initial=1.0,
        backoff_multiplier=2.0,
        backoff_max=10.0,
        max_attempts=8,
        rng=random.Random(42),
    )
    transport = FakeTransport([Fail()])
    seen: list[Any] = []
    with pytest.raises(FeedClosed, match="gave up after 8 reconnect attempts"):
        await drain(FakeProtocol("ws://x/"), cfg, seen, transport=transport)
    times = transport.attempt_times
    assert len(times) == 9  # the first attempt and 8 reconnects
    gaps = [b - a for a, b in itertools.pairwise(times)]
    expected_rng = random.Random(42)
    ceilings = [min(10.0, 2.0 ** (n - 1)) for n in range(1, 9)]
    expected = [expected_rng.uniform(0, c) for c in ceilings]
    assert gaps == pytest.approx(expected)
    assert all(0 <= g <= c for g, c in zip(gaps, ceilings, strict=True))
    assert len(set(gaps)) == len(gaps)  # jittered, not a fixed schedule
    reconnecting = events_of(seen, ev.Reconnecting)
    assert [r.attempt for r in reconnecting] == list(range(1, len(reconnecting) + 1))
    assert [r.delay for r in reconnecting] == pytest.approx(expected[: len(reconnecting)])
    assert not events_of(seen, ev.Disconnected)  # never connected: nothing to disconnect


async def test_attempt_counter_resets_after_a_healthy_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    cfg = FeedConfig(healthy_after=50.0, backoff_initial=1.0, backoff_max=100.0, rng=random.Random(1))
    transport = FakeTransport([Up(100), Fail(), Fail(), Up(5), Up(100), Up(1)])
    seen: list[Any] = []
    async with open_fake_feed(FakeProtocol("ws://x/"), cfg, transport=transport) as feed:
        async for item in feed:
            seen.append(item)
            if len(events_of(seen, ev.Reconnecting)) == 5:
                break
    attempts = [r.attempt for r in events_of(seen, ev.Reconnecting)]
    # healthy (100 s) -> 1; two failures -> 2, 3; short-lived (5 s) -> 4; healthy -> 1
    assert attempts == [1, 2, 3, 4, 1]


async def test_rate_limited_close_backs_off_longer(autojump_clock: trio.testing.MockClock) -> None:
    cfg = FeedConfig(rate_limit_backoff=20.0, backoff_initial=1.0, rng=random.Random(3))
    proto = FakeProtocol("ws://x/", verdicts={4009: CloseVerdict.RETRY_SLOW})
    transport = FakeTransport([Up(1, code=4009), Up(1, code=1001), Up()])
    seen: list[Any] = []
    async with open_fake_feed(proto, cfg, transport=transport) as feed:
        async for item in feed:
            seen.append(item)
            if len(events_of(seen, ev.Connected)) == 3:
                break
    slow, normal = events_of(seen, ev.Reconnecting)
    assert 20.0 <= slow.delay <= 21.0
    assert 0.0 <= normal.delay <= 2.0  # attempt 2: ceiling 2 s
    times = transport.attempt_times
    assert times[1] - times[0] == pytest.approx(1 + slow.delay)


async def test_reconnect_asked_for_by_subscribe_is_not_a_failure(
    autojump_clock: trio.testing.MockClock,
) -> None:
    cfg = FeedConfig(backoff_initial=1.0, healthy_after=1000.0, rng=random.Random(5))
    transport = FakeTransport([Up()])
    async with open_fake_feed(FakeProtocol("ws://x/"), cfg, transport=transport) as feed:
        for n in range(1, 4):
            await take_until(feed, lambda i: isinstance(i, ev.Connected))
            await feed.subscribe(f"url:{n}")  # the protocol closes to reconnect with new streams
            reconnecting = (await take_until(feed, lambda i: isinstance(i, ev.Reconnecting)))[-1]
            assert reconnecting.attempt == 1  # not 1, 2, 3: nothing failed
            assert reconnecting.delay <= 1.0
    assert [c.closed_with for c in transport.connections[:3]] == [1000, 1000, 1000]


# -- fatal endings -----------------------------------------------------------------------------------


async def test_fatal_close_ends_the_feed_with_its_code() -> None:
    async def script(conn: ServerConn) -> None:
        await conn.ws.aclose(4003, "policy violation")

    server = FakeServer(script=script)
    proto = FakeProtocol("", verdicts={4003: CloseVerdict.FATAL})
    seen: list[Any] = []
    async with serving(server):
        proto.url = server.url
        with pytest.raises(FeedClosed, match="code 4003 \\(policy violation\\)"):
            await drain(proto, fast(), seen)
        assert len(server.conns) == 1
    assert seen[-1] == ev.Disconnected(4003, "policy violation")


async def test_auth_failure_raises_without_retrying(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = FakeServer(key="the-right-key")
    async with serving(server):
        with pytest.raises(AuthenticationError, match="bad key") as excinfo:
            async with open_fake_feed(FakeProtocol(server.url, key=SECRET), fast()) as feed:
                await feed.subscribe("a")
        await trio.sleep(0.1)  # a retry storm would show up as more connections
        assert server.handshakes == 1
    assert type(excinfo.value) is AuthenticationError  # not wrapped in an exception group
    assert SECRET not in caplog.text
    assert SECRET not in str(excinfo.value)


async def test_handshake_401_is_an_authentication_error() -> None:
    server = FakeServer(reject_status=401)
    async with serving(server):
        with pytest.raises(AuthenticationError, match="HTTP 401"):
            async with open_fake_feed(FakeProtocol(server.url, header_token=SECRET), fast()) as feed:
                await take(feed, 1)
        assert server.handshakes == 1


async def test_handshake_503_is_retried() -> None:
    server = FakeServer(reject_status=503)
    async with serving(server), open_fake_feed(FakeProtocol(server.url), fast()) as feed:
        items = await take(feed, 2)
    assert all(isinstance(i, ev.Reconnecting) for i in items)
    assert "HTTP 503" in items[0].reason


async def test_authenticated_session_with_resubscription_acks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    async def script(conn: ServerConn) -> None:
        if conn.index == 0:
            await conn.wait_received("sub")
            await conn.ws.aclose(1011, "oops")

    server = FakeServer(key=SECRET, script=script)
    async with serving(server):
        proto = FakeProtocol(server.url, key=SECRET, header_token=SECRET)
        async with open_fake_feed(proto, fast()) as feed:
            await feed.subscribe("a")
            items = await take_until(feed, lambda i: isinstance(i, ev.Gap))
    kinds = [type(i).__name__ for i in items]
    assert kinds == [
        "Connected",
        "Authenticated",
        "Subscribed",
        "Disconnected",
        "Reconnecting",
        "Connected",
        "Authenticated",
        "Resubscribed",
        "Gap",
    ]
    assert server.conns[1].received[0] == {"t": "auth", "key": SECRET}
    # Secrets: not in logs, event reprs or the feed's repr.
    assert SECRET not in caplog.text
    assert all(SECRET not in repr(i) for i in items)
    assert SECRET not in repr(feed)


# -- slow consumers and bad frames --------------------------------------------------------------------


async def test_drop_oldest_counts_drops_and_keeps_answering_heartbeats() -> None:
    async def script(conn: ServerConn) -> None:
        for i in range(100):
            await conn.send({"t": "data", "v": i})
        await conn.send({"t": "ping"})

    server = FakeServer(script=script)
    async with serving(server), open_fake_feed(FakeProtocol(server.url), fast(buffer_size=10)) as feed:
        # The consumer reads nothing until the application-level ping was answered.
        with trio.fail_after(2):
            await server.got_pong.wait()
        await trio.sleep(0.2)  # several WebSocket ping rounds while the buffer is full
        items = await take(feed, 12)
        assert feed.connected
        assert feed.stats.reconnects == 0
    assert items[0] == ev.Connected(redact_url(server.url))
    assert items[1] == ev.Overflow(90)
    assert items[2:] == list(range(90, 100))
    assert feed.stats.dropped == 90


async def test_a_burst_in_one_read_lets_other_tasks_run_every_yield_frames() -> None:
    # 1000 frames in one write: the fast transport reads them in one or a few reads. The reader
    # must let other tasks run every YIELD_FRAMES frames, not only between socket reads.
    count = 1000
    server = RawServer("burst", burst=[dumps({"t": "data", "v": i}) for i in range(count)])
    turns = 0
    seen: list[int] = []  # the side task's turns when each message was taken

    async def side_task() -> None:
        nonlocal turns
        while True:
            await trio.lowlevel.checkpoint()
            turns += 1

    async with raw_serving(server), trio.open_nursery() as nursery:
        async with open_fake_feed(FakeProtocol(server.url), fast()) as feed:
            nursery.start_soon(side_task)
            with trio.fail_after(5):
                async for item in feed:
                    if isinstance(item, int):
                        seen.append(turns)
                        if item == count - 1:
                            break
        nursery.cancel_scope.cancel()
    assert len(seen) == count
    # 1000 short frames are one socket read (~25 KB): without the per-YIELD_FRAMES turns the
    # side task would run about once. Half the yields is the bound: the consumer may take its
    # first item only after the reader's first few yields (their turns fall before seen[0]).
    assert seen[-1] - seen[0] >= count // YIELD_FRAMES // 2


async def test_frames_after_a_protocol_close_in_the_same_read_are_not_delivered() -> None:
    # The per-frame reader stopped at the close (its next receive was cancelled); a batch of
    # frames from one read must stop there too.
    frames = [dumps({"t": "data", "v": i}) for i in range(300)]
    frames.insert(200, dumps({"t": "close", "code": 4321, "verdict": "retry"}))
    server = RawServer("burst", burst=frames)
    async with raw_serving(server), open_fake_feed(FakeProtocol(server.url), fast()) as feed:
        items = await take_until(feed, lambda i: isinstance(i, ev.Disconnected))
    assert [i for i in items if isinstance(i, int)] == list(range(200))
    assert items[-1].code == 4321


async def test_buffer_consumers_parked_cancelled_and_woken() -> None:
    # The buffer parks its consumers itself (no trio.Event): a cancelled wait must leave no
    # stale waiter behind, and every parked consumer is woken by a put or by close.
    buffer = Buffer(10, fail=False, stats=FeedStats())
    got: list[Any] = []

    async def consume() -> None:
        got.append(await buffer.get())

    async with trio.open_nursery() as nursery:
        with trio.CancelScope() as scope:
            scope.cancel()
            with pytest.raises(trio.Cancelled):
                await buffer.get()  # cancelled before it parks

        async def gives_up_then_sleeps() -> None:
            with trio.move_on_after(0.01):
                await buffer.get()  # parked, then cancelled by the timeout
            await trio.sleep_forever()  # a stale wake-up would raise here

        nursery.start_soon(gives_up_then_sleeps)
        await trio.sleep(0.05)
        nursery.start_soon(consume)
        nursery.start_soon(consume)
        await trio.testing.wait_all_tasks_blocked()
        buffer.put("a")  # wakes both; one takes it, the other parks again
        await trio.testing.wait_all_tasks_blocked()
        assert got == ["a"]
        buffer.put("b")
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert got == ["a", "b"]
    buffer.put("c")
    buffer.close(None, discard=False)
    assert await buffer.get() == "c"
    with pytest.raises(StopAsyncIteration):
        await buffer.get()


async def test_fail_policy_raises_slow_consumer() -> None:
    async def script(conn: ServerConn) -> None:
        for i in range(50):
            await conn.send({"t": "data", "v": i})

    async with serving(FakeServer(script=script)) as server:
        with pytest.raises(SlowConsumer):
            async with open_fake_feed(FakeProtocol(server.url), fast(buffer_size=5, overflow="fail")):
                await trio.sleep(2)


async def test_bad_and_oversized_frames_become_events() -> None:
    async def script(conn: ServerConn) -> None:
        await conn.send({"t": "data", "v": 1})
        await conn.send("not json")
        await conn.send({"t": "data", "v": 2})
        await conn.send({"t": "data", "v": "x" * 2000})  # over max_frame_size
        await conn.send({"t": "data", "v": "é" * 400})  # 400 characters, over 800 bytes
        await conn.send({"t": "data", "v": 3})

    async with (
        serving(FakeServer(script=script)) as server,
        open_fake_feed(FakeProtocol(server.url), fast(max_frame_size=800)) as feed,
    ):
        items = await take(feed, 7)
        assert feed.stats.decode_errors == 3
    assert items[1] == 1
    assert isinstance(items[2], ev.DecodeFailed)
    assert items[3] == 2
    assert isinstance(items[4], ev.DecodeFailed)
    assert "exceeds max_frame_size (800)" in str(items[4].error)
    assert isinstance(items[5], ev.DecodeFailed)
    assert items[6] == 3


async def test_bad_frame_with_raise_policy_ends_the_feed() -> None:
    async def script(conn: ServerConn) -> None:
        await conn.send("not json")

    async with serving(FakeServer(script=script)) as server:
        with pytest.raises(DecodeError, match="not a fake frame"):
            await drain(FakeProtocol(server.url), fast(bad_frames="raise"), [])


# -- lifecycle: cancellation, close, errors ---------------------------------------------------------------


@pytest.mark.parametrize("stage", ["connecting", "authenticating", "backing_off", "reading", "blackholed"])
async def test_cancellation_at_any_stage_exits_promptly_and_closes_the_socket(stage: str) -> None:
    cfg = fast(connect_timeout=10, request_timeout=10, ping_interval=10, close_timeout=0.5)
    async with trio.open_nursery() as nursery:
        raw = None
        ws_server = None
        proto = FakeProtocol("")
        if stage == "connecting":
            raw = await nursery.start(_start_raw, RawServer("no_handshake"))
            proto.url = raw.url
        elif stage == "blackholed":
            raw = await nursery.start(_start_raw, RawServer("blackhole"))
            proto.url = raw.url
        elif stage == "backing_off":
            with socket.socket() as s:  # a port nobody listens on
                s.bind((HOST, 0))
                port = s.getsockname()[1]
            proto.url = f"ws://{HOST}:{port}/"
            cfg = attrs.evolve(cfg, backoff_initial=5, backoff_max=5)
        else:
            # "authenticating": the auth message is never answered.
            ws_server = FakeServer(key="k", answer_auth=stage != "authenticating")
            await nursery.start(_start_ws, ws_server)
            proto.url = ws_server.url
            proto.key = "k"

        with trio.move_on_after(0.3) as scope:
            async with open_fake_feed(proto, cfg) as feed:
                async for _ in feed:
                    pass
        exit_delay = trio.current_time() - scope.deadline
        assert scope.cancelled_caught
        assert exit_delay < 1.0
        assert feed_tasks() == []
        if raw is not None:
            with trio.fail_after(1):
                await raw.closed_event.wait()
        if ws_server is not None:
            with trio.fail_after(1):
                await ws_server.conns[0].closed.wait()
            # A healthy server got a proper Close even though we were cancelled, and the exit
            # did not wait out close_timeout (the reader took in the server's Close reply).
            assert ws_server.conns[0].close_code == 1000
            assert exit_delay < cfg.close_timeout / 2
        nursery.cancel_scope.cancel()
    print(f"{stage}: exited {exit_delay * 1000:.0f} ms after cancellation")


async def _start_raw(server: RawServer, *, task_status: trio.TaskStatus[RawServer]) -> None:
    async with raw_serving(server):
        task_status.started(server)
        await trio.sleep_forever()


async def _start_ws(server: FakeServer, *, task_status: trio.TaskStatus[FakeServer]) -> None:
    async with serving(server):
        task_status.started(server)
        await trio.sleep_forever()


async def test_user_exception_comes_out_unwrapped() -> None:
    async def fail_inside(url: str) -> None:
        async with open_fake_feed(FakeProtocol(url), fast()) as feed:
            await take(feed, 1)
            raise KeyError("mine")

    async with serving(FakeServer()) as server:
        with pytest.raises(KeyError) as excinfo:
            await fail_inside(server.url)
        assert type(excinfo.value) is KeyError
        with trio.fail_after(1):
            await server.conns[0].closed.wait()


async def test_start_feed_and_aclose() -> None:
    async with serving(FakeServer()) as server, trio.open_nursery() as nursery:
        feed = await start_feed(nursery, FakeFeed(FakeProtocol(server.url), fast()))
        assert isinstance((await take(feed, 1))[0], ev.Connected)
        await feed.aclose()
        assert [i async for i in feed] == []  # iteration ends after aclose
        with pytest.raises(FeedClosed):
            await feed.subscribe("a")
        assert not feed_tasks()
        with trio.fail_after(1):
            await server.conns[0].closed.wait()


async def test_a_parked_consumer_holds_no_queue() -> None:
    # Thousands of idle feeds each park a consumer in get(): the emptied queue must not stay
    # alive in the waiting frame (a 1 KiB deque per feed, found with tracemalloc).
    buffer = Buffer(10, fail=False, stats=FeedStats())
    buffer.put("a")
    got: list[Any] = []
    frames: list[Any] = []

    async def consume() -> None:
        got.append(await buffer.get())
        coro = buffer.get()
        frames.append(coro.cr_frame)
        got.append(await coro)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consume)
        await trio.testing.wait_all_tasks_blocked()
        assert got == ["a"]
        assert buffer._items is None
        assert frames[0].f_locals["items"] is None  # the parked get()'s own reference
        buffer.put("b")
    assert got == ["a", "b"]
