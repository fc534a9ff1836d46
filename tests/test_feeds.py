"""The fault matrix: every protocol's real ``open_feed`` against its real local test server.

Each cell injects one fault into a live session (REAL ``open_feed`` + REAL sans-IO protocol +
REAL ``trio_feeds.testing`` server on 127.0.0.1) and proves, from the feed's events and the
server's records, that the feed

1. notices the fault within its configured bound (fault injection -> ``Disconnected``),
2. reconnects with backoff (``Reconnecting`` delays within the ceiling),
3. authenticates again (a new server connection, authenticated, with an auth frame),
4. subscribes again to everything asked for (same server-side subscriptions),
5. reports the session in order (Disconnected, Reconnecting, Connected, [Authenticated],
   Resubscribed, Gap),
6. loses nothing the server sent before the fault (per-connection sequence numbers), and
7. leaves no task or socket behind.

Around the matrix: bad frames (no reconnect), auth rejection (no retry storm), rate limits,
slow consumers (heartbeats still answered), cancellation at every stage, and secrets.

Real clock, small timeouts: MockClock's autojump does not mix with real sockets. Every wait is
bounded, so a bug fails a test instead of hanging it. ``pytest -s`` prints the measured times.
"""

from __future__ import annotations

import logging
import os
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import attrs
import pytest
import trio

from tests._tasks import all_tasks
from trio_feeds import Feed, UnknownMessage, exchanges, peatio
from trio_feeds import events as ev
from trio_feeds.config import FeedConfig
from trio_feeds.errors import AuthenticationError, SlowConsumer
from trio_feeds.exchanges import Exchange, ExchangeCredentials
from trio_feeds.testing import (
    FeedServer,
    open_peatio_server,
)
from trio_feeds.transports import FastTransport, Transport, TrioWebsocketTransport

pytest_plugins = ["trio_feeds.testing.pytest_plugin"]

API_SECRET = "gw-SECRET-9d2f71c4e8"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.JWT-SIG-c0ffee42"
SECRETS = (API_SECRET, JWT)

SLACK = 0.6  # scheduling slack on a loaded 2-core machine, on top of every configured bound
WAIT = 5.0  # bound on anything that must happen "soon"; a bug fails here instead of hanging
N_BEFORE = 5  # messages the server sends on the first connection right before the fault
N_AFTER = 3  # messages sent on the new connection


def make_config(**overrides: Any) -> FeedConfig:
    """Everything in tens of milliseconds."""
    base: dict[str, Any] = {
        "ping_interval": 0.05,
        "ping_timeout": 0.15,
        "stale_grace": 0.05,
        "connect_timeout": 2.0,
        "close_timeout": 0.2,
        "backoff_initial": 0.01,
        "backoff_max": 0.2,
        "rate_limit_backoff": 0.15,
        "healthy_after": 60.0,  # attempts count up for the whole test
        "request_timeout": 1.0,
        "poll_interval": 0.02,
        "max_frame_size": 16384,
        "rng": random.Random(1234),
    }
    base.update(overrides)
    return FeedConfig(**base)


@pytest.fixture(params=["trio-websocket", "fast"])
def feed_transport(request: pytest.FixtureRequest) -> Transport | None:
    """The transport every feed here is opened with: the whole matrix runs on both."""
    if request.param == "fast":
        return FastTransport()
    return TrioWebsocketTransport()


# -- the per-protocol adapter table, from the exchange registry ----------------------------------


@attrs.frozen
class Adapter:
    """How the matrix drives one protocol (made from its registry entry, see :func:`adapter_of`).

    Attributes:
        name: the protocol.
        server: ``server(**overrides)`` opens its test server (``rate=None`` unless overridden).
        feed: ``feed(server, config, transport, server_heartbeat)`` opens the real feed.
        subscribe: what the user asks for once the feed is open.
        subscriptions: the server-side subscription keys that request yields.
        is_auth_frame: recognises the auth frame in ``ConnectionRecord.received`` (None: no auth).
        unknown_frame: a well-formed frame of a type the codec does not know.
        app_heartbeat: the server has application-level heartbeats (gateway ``ping`` event,
            Ranger text ``ping``); otherwise its data stream is the heartbeat.
    """

    name: str
    server: Callable[..., AbstractAsyncContextManager[Any]]
    feed: Callable[[Any, FeedConfig, Transport | None, float | None], AbstractAsyncContextManager[Feed[Any]]]
    subscribe: Callable[[Feed[Any]], Awaitable[None]]
    subscriptions: tuple[str, ...]
    is_auth_frame: Callable[[Any], bool] | None
    unknown_frame: str | bytes
    app_heartbeat: bool
    heartbeat_server_options: dict[str, Any] = attrs.field(factory=dict)

    @property
    def auth(self) -> bool:
        return self.is_auth_frame is not None

    def sequence(self, server: FeedServer, item: Any) -> int | None:
        return server.sequence_of(item)


_MATRIX_CREDENTIALS = {"api_key": "key-1", "api_secret": API_SECRET, "token": JWT}


def adapter_of(exchange: Exchange) -> Adapter:
    """The matrix's view of a registered exchange: its fault profile, with the matrix's secrets."""
    profile = exchange.fault_profile
    creds = ExchangeCredentials(**{n: v for n, v in _MATRIX_CREDENTIALS.items() if n in exchange.uses})

    def server(**overrides: Any) -> AbstractAsyncContextManager[Any]:
        return exchange.open_server(credentials=creds, **{**profile.server_options, **overrides})

    def feed(
        server: Any, cfg: FeedConfig, transport: Transport | None, hb: float | None
    ) -> AbstractAsyncContextManager[Feed[Any]]:
        return exchange.open_feed(
            server.url, creds, config=cfg, transport=transport, server_heartbeat=hb, **profile.feed_options
        )

    return Adapter(
        name=exchange.name,
        server=server,
        feed=feed,
        subscribe=exchange.matrix_subscribe,
        subscriptions=profile.subscriptions,
        is_auth_frame=profile.is_auth_frame,
        unknown_frame=profile.unknown_frame,
        app_heartbeat=profile.app_heartbeat,
        heartbeat_server_options=dict(profile.heartbeat_server_options),
    )


ADAPTERS: dict[str, Adapter] = {e.name: adapter_of(e) for e in exchanges.all_exchanges()}
PROTOCOLS = list(ADAPTERS)
AUTH_PROTOCOLS = [p for p, a in ADAPTERS.items() if a.auth]


# -- helpers -----------------------------------------------------------------------------------


class Collector:
    """Consumes a feed in its own task, stamping every item with ``trio.current_time()``."""

    def __init__(self) -> None:
        self.items: list[tuple[float, Any]] = []
        self.finished = False
        self.error: BaseException | None = None
        self._changed = trio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def run(self, feed: Feed) -> None:
        try:
            async for item in feed:
                self.items.append((trio.current_time(), item))
                self._notify()
        except Exception as exc:  # the test looks at it
            self.error = exc
        finally:
            self.finished = True
            self._notify()

    async def wait_for(self, predicate: Callable[[], object], timeout: float = WAIT) -> None:  # noqa: ASYNC109
        with trio.fail_after(timeout):
            while not predicate():
                await self._changed.wait()

    def count(self, kind: type) -> int:
        return sum(isinstance(item, kind) for _, item in self.items)

    def find(self, kind: type, start: int = 0) -> int | None:
        """Index of the first item of ``kind`` at or after ``start``."""
        for i in range(start, len(self.items)):
            if isinstance(self.items[i][1], kind):
                return i
        return None

    async def wait_index(self, kind: type, start: int = 0, timeout: float = WAIT) -> int:  # noqa: ASYNC109
        await self.wait_for(lambda: self.find(kind, start) is not None, timeout)
        index = self.find(kind, start)
        assert index is not None
        return index

    def segments(self) -> list[list[Any]]:
        """Items split per connection: each segment starts at a ``Connected``."""
        out: list[list[Any]] = []
        for _, item in self.items:
            if isinstance(item, ev.Connected):
                out.append([])
            elif out:
                out[-1].append(item)
        return out


_SESSION_LETTERS = {
    ev.Disconnected: "D",
    ev.Reconnecting: "R",
    ev.Connected: "C",
    ev.Authenticated: "A",
    ev.Resubscribed: "S",
    ev.Gap: "G",
}


def letters(items: list[tuple[float, Any]]) -> str:
    return "".join(_SESSION_LETTERS[type(item)] for _, item in items if type(item) in _SESSION_LETTERS)


def sent_sequences(server: FeedServer, record: Any) -> list[int]:
    return [s for f in record.sent if (s := server.sequence_of(f)) is not None]


def delivered_sequences(server: FeedServer, segment: list[Any]) -> list[int]:
    return [
        s
        for item in segment
        if not isinstance(item, ev.SessionEvent | ev.DecodeFailed)
        and (s := server.sequence_of(item)) is not None
    ]


def feed_tasks() -> list[str]:
    """Names of every live task of the engine or the transport, anywhere in this run."""
    return [
        name
        for name in (t.name for t in all_tasks())
        if (name.startswith("trio_feeds") and not name.startswith("trio_feeds.testing"))
        or "trio_websocket" in name
    ]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def consume(feed_cm: AbstractAsyncContextManager[Feed]) -> None:
    """Open a feed and read it until it ends (bounded)."""
    async with feed_cm as feed:
        with trio.fail_after(WAIT):
            async for _ in feed:
                pass


async def wait_no_connections(server: FeedServer) -> None:
    await server.wait_for(lambda: not server.open_connections, timeout=WAIT)


@asynccontextmanager
async def running_feed(
    adapter: Adapter,
    server: Any,
    cfg: FeedConfig,
    transport: Transport | None,
    *,
    server_heartbeat: float | None = None,
) -> AsyncIterator[tuple[Feed, Collector]]:
    """Open the feed with a consumer task; on exit check (7): no task left anywhere."""
    collector = Collector()
    async with trio.open_nursery() as nursery:
        async with adapter.feed(server, cfg, transport, server_heartbeat) as feed:
            nursery.start_soon(collector.run, feed)
            yield feed, collector
        # The feed's block is left: its engine and connection tasks are gone already...
        assert feed_tasks() == []
        await collector.wait_for(lambda: collector.finished)  # ... and the consumer ends promptly.
    assert not nursery.child_tasks
    # ... and the server sees no connection left open.
    await wait_no_connections(server)


async def open_session(adapter: Adapter, server: Any, feed: Feed, collector: Collector) -> Any:
    """Wait until the first connection is up, authenticated and fully subscribed."""
    with trio.fail_after(WAIT):
        await adapter.subscribe(feed)
    record = await server.wait_for_connection(1, timeout=WAIT)
    await server.wait_for(lambda: tuple(record.subscriptions) == adapter.subscriptions, timeout=WAIT)
    await collector.wait_index(ev.Connected)
    # The leak check can see the engine: its clock (the writer and pings run only while they
    # have work), and the trio-websocket transport's reader (the fast transport reads in the
    # engine's own reader, no task of its own).
    expected = {"trio_feeds._engine._core.Engine.clock"}
    if isinstance(feed.transport, TrioWebsocketTransport):
        expected.add("trio_feeds transport reader")
    assert expected <= set(feed_tasks())
    if adapter.auth:
        await collector.wait_for(lambda: collector.count(ev.Authenticated) >= 1)
    return record


# -- the matrix --------------------------------------------------------------------------------


@attrs.frozen
class Fault:
    """One fault of the matrix.

    ``inject(server)`` injects it; ``expect`` is the session-event letters expected from the
    first ``Disconnected`` on (``{A}`` stands for ``A`` with auth, nothing without).
    ``bound(cfg, hb)`` is the detection bound in seconds, measured from injection.
    """

    name: str
    expect: str
    bound: Callable[[FeedConfig, float], float]
    heartbeat: bool = False  # the cell needs the server's heartbeats (and server_heartbeat)
    code: int | str | None = "any"  # expected Disconnected.code of the fault
    reason: str = ""  # regex the first Disconnected.reason must match
    settle: bool = False  # the messages before the fault are delivered before it is injected


def _immediate(cfg: FeedConfig, hb: float) -> float:
    return cfg.close_timeout + SLACK


FAULTS: dict[str, Fault] = {
    f.name: f
    for f in [
        Fault("close_1001", "DRC{A}SG", _immediate, code=1001),
        Fault("close_1011", "DRC{A}SG", _immediate, code=1011),
        Fault("close_4001", "DRC{A}SG", _immediate, code=4001),
        Fault("tcp_abort", "DRC{A}SG", _immediate, code=None),
        # An RST may make the kernel discard data the client has not read yet: not the
        # feed's loss, so this cell lets the messages arrive before the reset (settle).
        Fault("tcp_reset", "DRC{A}SG", _immediate, code=None, settle=True),
        Fault(
            "blackhole",
            "DRC{A}SG",
            lambda cfg, hb: cfg.ping_interval + cfg.ping_timeout + SLACK,
            code=None,
            reason="pong",
        ),
        Fault(
            "stop_heartbeats",
            "DRC{A}SG",
            lambda cfg, hb: hb + cfg.stale_grace + cfg.poll_interval + SLACK,
            heartbeat=True,
            code=None,
            reason="no frame",
        ),
        Fault("frame_too_big", "DRC{A}SG", _immediate, code=1009),
        Fault("refuse_next_503", "DRRRC{A}SG", _immediate, code=1012),
        Fault("refuse_next_drop", "DRRRC{A}SG", _immediate, code=1012),
        # The reconnect's auth is answered too late: that connection is dropped after
        # request_timeout (bound measured from its Connected), the next one heals.
        Fault(
            "delay_replies",
            "DRC{A}SG",  # without auth: nothing to delay; with auth: see expected_letters
            lambda cfg, hb: cfg.request_timeout + cfg.poll_interval + SLACK,
            code=1012,
        ),
    ]
}

HEARTBEAT = 0.25  # server_heartbeat of the stop_heartbeats cells
DELAY_REQUEST_TIMEOUT = 0.3  # request_timeout of the delay_replies cells

RESULTS: dict[tuple[str, str], tuple[float, float]] = {}


def expected_letters(adapter: Adapter, fault: Fault) -> str:
    expect = fault.expect
    if fault.name == "delay_replies" and adapter.auth:
        expect = "DRCDRC{A}SG"
    return expect.replace("{A}", "A" if adapter.auth else "")


@pytest.fixture(scope="module", autouse=True)
def _print_matrix() -> Iterator[None]:
    yield
    if not RESULTS:
        return
    faults = list(FAULTS)
    lines = [
        "",
        "fault matrix: detection (fault -> Disconnected) / reconnect (Disconnected -> Resubscribed), ms",
    ]
    lines.append(f"{'fault':<18}" + "".join(f"{p:>16}" for p in PROTOCOLS))
    for fault in faults:
        cells = []
        for p in PROTOCOLS:
            r = RESULTS.get((p, fault))
            cells.append(f"{r[0] * 1000:7.0f}/{r[1] * 1000:<7.0f}" if r else f"{'-':>15}")
        lines.append(f"{fault:<18}" + "".join(f"{c:>16}" for c in cells))
    print("\n".join(lines))  # the measured matrix, shown with -s


async def inject(fault: Fault, adapter: Adapter, server: Any, record: Any, collector: Collector) -> None:
    name = fault.name
    if name.startswith("close_"):
        await server.close(int(name.removeprefix("close_")), "going away")
    elif name == "tcp_abort":
        await server.abort()
    elif name == "tcp_reset":
        await server.abort(reset=True)
    elif name == "blackhole":
        server.blackhole()
    elif name == "stop_heartbeats":
        server.stop_heartbeats()
        if not adapter.app_heartbeat:
            server.rate = None  # the data stream is this protocol's heartbeat
    elif name == "frame_too_big":
        # Beyond 4x max_frame_size the WebSocket layer refuses it (1009) and the feed reconnects.
        await server.send_raw('"' + "x" * 70_000 + '"')
    elif name.startswith("refuse_next"):
        server.refuse_next(2, status=503 if name.endswith("503") else None)
        await server.close(1012, "service restart")
    elif name == "delay_replies":
        server.delay_replies(3 * DELAY_REQUEST_TIMEOUT)
        await server.close(1012, "service restart")
    else:  # pragma: no cover
        raise AssertionError(name)


@pytest.mark.parametrize("fault_name", list(FAULTS))
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_fault_matrix(protocol: str, fault_name: str, feed_transport: Transport | None) -> None:
    detection, reconnect = await run_fault_cell(ADAPTERS[protocol], FAULTS[fault_name], feed_transport)
    RESULTS[(protocol, fault_name)] = (detection, reconnect)
    print(
        f"\n{protocol:<11} {fault_name:<17} detect {detection * 1000:6.0f} ms  reconnect {reconnect * 1000:6.0f} ms"
    )


async def run_fault_cell(
    adapter: Adapter,
    fault: Fault,
    feed_transport: Transport | None,
    *,
    server_options: dict[str, Any] | None = None,
) -> tuple[float, float]:
    """One cell of the matrix, all its checks; returns (detection, reconnect) in seconds.

    ``server_options`` go to the server on top of the cell's own (tests/test_tls.py runs cells
    over ``wss://`` with ``ssl_context``).
    """
    hb = HEARTBEAT if fault.heartbeat else None
    overrides: dict[str, Any] = {}
    if fault.name == "delay_replies":
        overrides["request_timeout"] = DELAY_REQUEST_TIMEOUT
    cfg = make_config(**overrides)
    server_options = {
        **(adapter.heartbeat_server_options if fault.heartbeat else {}),
        **(server_options or {}),
    }
    fds_before = open_fds()
    async with adapter.server(**server_options) as server:
        async with running_feed(adapter, server, cfg, feed_transport, server_heartbeat=hb) as (feed, col):
            first = await open_session(adapter, server, feed, col)
            if fault.heartbeat:
                # The heartbeats alone keep a data-less connection alive well past the bound.
                await trio.sleep(2 * (HEARTBEAT + cfg.stale_grace))
                assert col.count(ev.Disconnected) == 0, col.items
            # (6) Messages in flight at the moment of the fault: not awaited by the consumer.
            assert await server.push(count=N_BEFORE, connection=first) == N_BEFORE
            if fault.settle:
                await col.wait_for(lambda: len(delivered_sequences(server, col.segments()[0])) >= N_BEFORE)
            start = len(col.items)
            t_fault = trio.current_time()
            await inject(fault, adapter, server, first, col)

            # (1) detected within the bound
            d1 = await col.wait_index(ev.Disconnected, start)
            t_detect = col.items[d1][0]
            if fault.name == "blackhole":
                server.resume()  # new connections hang in the handshake until then
            detect_from = t_fault
            disconnected = col.items[d1][1]
            if fault.name == "delay_replies" and adapter.auth:
                # The fault proper: the reconnect's auth goes unanswered. Measured from its Connected.
                c2 = await col.wait_index(ev.Connected, d1)
                d2 = await col.wait_index(ev.Disconnected, c2)
                detect_from, t_detect = col.items[c2][0], col.items[d2][0]
                assert re.search("auth", col.items[d2][1].reason), col.items[d2][1]
                server.resume()
            detection = t_detect - detect_from
            bound = fault.bound(cfg, hb or 0.0)
            assert detection <= bound, (detection, bound, disconnected)
            if fault.code != "any":
                assert disconnected.code == fault.code, disconnected
            assert re.search(fault.reason, disconnected.reason), disconnected

            # (2)-(5) healed: wait for the Gap that closes the session sequence
            gap_index = await col.wait_index(ev.Gap, d1)
            last = server.connections[-1]
            assert last is not first
            await server.wait_for(lambda: tuple(last.subscriptions) == adapter.subscriptions, timeout=WAIT)
            assert await server.push(count=N_AFTER, connection=last) == N_AFTER
            await col.wait_for(lambda: len(delivered_sequences(server, col.segments()[-1])) >= N_AFTER)
            # Nothing else goes wrong for a moment (no reconnect loop).
            await trio.sleep(0.05)
            assert feed.connected

        # -- after the feed's block: (7) checked by running_feed; now the records --------------
        assert col.error is None, col.error
        items = col.items
        after = items[start:]
        # (5) the session events, in order
        assert letters(after) == expected_letters(adapter, fault), [i for _, i in after]
        assert letters(items[:start]).startswith("C" + ("A" if adapter.auth else "")), items[:start]
        resub_index = max(i for i, (_, it) in enumerate(items) if isinstance(it, ev.Resubscribed))
        resub = items[resub_index][1]
        assert resub.errors == ()
        gap = items[gap_index][1]
        assert gap.since <= gap.until <= items[gap_index][0]
        assert gap.since <= t_detect
        # (2) backoff: attempts 1, 2, ... with delays under the ceiling
        reconnecting = [it for _, it in after if isinstance(it, ev.Reconnecting)]
        assert [r.attempt for r in reconnecting] == list(range(1, len(reconnecting) + 1))
        for r in reconnecting:
            assert 0 <= r.delay <= cfg.backoff_ceiling(r.attempt), r
        # (3) re-authenticated on a new connection, (4) re-subscribed to the same set
        assert server.connections[0] is first
        final = server.connections[-1]
        if adapter.is_auth_frame is not None:
            assert final.authenticated
            assert final.auth_attempts == [True]
            assert sum(map(adapter.is_auth_frame, final.received)) == 1, final.received
        assert final.subscriptions == first.subscriptions == list(adapter.subscriptions)
        if fault.name.startswith("refuse_next"):
            assert len(server.refused) == 2
        # (6) per connection: exactly what the server sent, in order, no gap, no duplicate
        segments = col.segments()
        assert len(segments) == len(server.connections)
        sent_first = sent_sequences(server, first)
        assert sent_first == list(range(1, len(sent_first) + 1))
        assert len(sent_first) >= N_BEFORE
        assert delivered_sequences(server, segments[0]) == sent_first
        sent_last = sent_sequences(server, final)
        assert sent_last == list(range(1, N_AFTER + 1))
        assert delivered_sequences(server, segments[-1]) == sent_last
        assert not any(isinstance(it, ev.DecodeFailed | ev.Overflow) for _, it in items)
        reconnect = items[resub_index][0] - t_detect
    assert open_fds() == fds_before
    return detection, reconnect


# -- bad frames: delivered around, never a reconnect ------------------------------------------

BAD_FRAMES = ["malformed", "unknown_type", "oversized", "binary_garbage", "deep_nesting"]
_DEEP = "[" * 1000 + "]" * 1000
# Every protocol's tag keys at once, each a list nested 1000 deep (about 2 KB, within what the
# JSON parsers take): this used to raise RecursionError out of the feed.
_DEEP_FRAME = (
    "{"
    + ", ".join(
        f'"{k}": {_DEEP}' for k in ("_cls", "@type", "channel", "event", "action", "method", "type", "op")
    )
    + "}"
)


@pytest.mark.parametrize("kind", BAD_FRAMES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_bad_frame_is_reported_between_good_frames(
    protocol: str, kind: str, feed_transport: Transport | None
) -> None:
    adapter = ADAPTERS[protocol]
    # The deep frame is 16 KB (eight tag keys): under the limit, so that it reaches decode.
    cfg = make_config(max_frame_size=65536 if kind == "deep_nesting" else 4096)
    frames: dict[str, str | bytes] = {
        "malformed": '{"channel": "trades", "data": {',
        "unknown_type": adapter.unknown_frame,
        "oversized": '{"pad": "' + "x" * 8000 + '"}',  # over max_frame_size, under 4x
        "binary_garbage": b"\xff\xfe\x00garbage",
        "deep_nesting": _DEEP_FRAME,
    }
    frame = frames[kind]
    async with adapter.server() as server:
        async with running_feed(adapter, server, cfg, feed_transport) as (feed, col):
            record = await open_session(adapter, server, feed, col)
            start = len(col.items)
            await server.push(count=3, connection=record)
            await server.send_raw(frame, connection=record)
            await server.push(count=3, connection=record)
            await col.wait_for(lambda: len(delivered_sequences(server, col.segments()[-1])) >= 6)
            await trio.sleep(0.05)
        assert letters(col.items[start:]) == ""  # no Disconnected, no reconnect
        after = [it for _, it in col.items[start:] if not isinstance(it, ev.SessionEvent)]
        assert len(server.connections) == 1
        expected = UnknownMessage if kind == "unknown_type" else ev.DecodeFailed
        odd = [i for i, it in enumerate(after) if server.sequence_of(it) is None]
        assert len(odd) == 1, after
        assert isinstance(after[odd[0]], expected), after[odd[0]]
        assert [server.sequence_of(it) for it in after[: odd[0]]] == [1, 2, 3]
        assert [server.sequence_of(it) for it in after[odd[0] + 1 :]] == [4, 5, 6]
        assert feed.stats.decode_errors == (0 if kind == "unknown_type" else 1)
        if isinstance(after[odd[0]], ev.DecodeFailed):
            # The error names what was wrong, never quotes the frame.
            assert "xxxxxxxx" not in str(after[odd[0]].error)
            assert "garbage" not in str(after[odd[0]].error)


# -- auth rejection: fails fast, no retry storm -------------------------------------------------


@pytest.mark.parametrize("protocol", AUTH_PROTOCOLS)
async def test_auth_rejection_ends_the_feed_without_retrying(
    protocol: str, feed_transport: Transport | None
) -> None:
    adapter = ADAPTERS[protocol]
    async with adapter.server() as server:
        server.reject_auth_always()
        t0 = trio.current_time()
        with pytest.raises(AuthenticationError) as info:
            await consume(adapter.feed(server, make_config(), feed_transport, None))
        assert trio.current_time() - t0 < 1.0
        assert feed_tasks() == []
        await wait_no_connections(server)
        attempts = [a for rec in server.connections for a in rec.auth_attempts]
        assert 1 <= len(attempts) <= 2
        assert not any(attempts)
        assert len(server.connections) == 1
        assert not any(s in str(info.value) for s in SECRETS)


async def test_peatio_header_auth_handshake_401_is_an_authentication_error(
    feed_transport: Transport | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with open_peatio_server(token=JWT, rate=None) as server:
        server.reject_auth_always()
        t0 = trio.current_time()
        feed = peatio.open_feed(
            server.url,
            streams=["btcusd.trades", "order"],
            token=JWT,
            auth="header",
            config=make_config(),
            transport=feed_transport,
        )
        with pytest.raises(AuthenticationError) as info:
            await consume(feed)
        assert trio.current_time() - t0 < 1.0
        assert [r.status for r in server.refused] == [401]
        assert server.connections == []
        assert "401" in str(info.value)
        assert JWT not in str(info.value)
        assert JWT not in caplog.text  # the Authorization header is never logged
        assert feed_tasks() == []


@pytest.mark.parametrize("mode", ["event", "query"])
async def test_peatio_streams_changed_while_connecting_reach_that_connection(
    mode: str, feed_transport: Transport | None
) -> None:
    # connect_target() has built the URL before the user's first subscribe() runs: the change
    # must still reach the server, not wait silently for some later reconnect.
    async with open_peatio_server(token=JWT, rate=None) as server:
        async with peatio.open_feed(
            server.url,
            streams=["btcusd.trades", "btcusd.update"],
            token=JWT,
            subscribe_mode=mode,  # type: ignore[arg-type]
            config=make_config(),
            transport=feed_transport,
        ) as feed:
            assert not feed.connected
            await feed.subscribe("order")
            await feed.unsubscribe("btcusd.update")
            await server.wait_for(
                lambda: any(
                    r.open and r.subscriptions == ["btcusd.trades", "order"] for r in server.connections
                )
            )
            assert len(server.connections) == (1 if mode == "event" else 2)
        await wait_no_connections(server)


# -- rate limits: back off at least rate_limit_backoff, then heal --------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_rate_limit_backs_off_slowly_and_heals(protocol: str, feed_transport: Transport | None) -> None:
    adapter = ADAPTERS[protocol]
    cfg = make_config(rate_limit_backoff=0.2)
    async with adapter.server() as server:
        async with running_feed(adapter, server, cfg, feed_transport) as (feed, col):
            first = await open_session(adapter, server, feed, col)
            start = len(col.items)
            await server.rate_limit()
            r = await col.wait_index(ev.Reconnecting, start)
            d = col.find(ev.Disconnected, start)
            assert d is not None
            assert d < r
            reconnecting = col.items[r][1]
            assert reconnecting.attempt == 1
            ceiling = cfg.rate_limit_backoff + cfg.backoff_ceiling(1)
            assert cfg.rate_limit_backoff <= reconnecting.delay <= ceiling, reconnecting
            c = await col.wait_index(ev.Connected, r)
            # The engine really waited: the next connection came no sooner than the delay.
            assert col.items[c][0] - col.items[r][0] >= cfg.rate_limit_backoff - 0.01
            await col.wait_index(ev.Gap, c)
            final = server.connections[-1]
            assert final is not first
            await server.wait_for(lambda: tuple(final.subscriptions) == adapter.subscriptions)
        assert col.error is None
        assert letters(col.items[start:]) == "DRC" + ("A" if adapter.auth else "") + "SG"


# -- slow consumers: heartbeats are answered while the consumer sleeps -------------------------


@pytest.mark.parametrize("policy", ["drop_oldest", "fail"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_slow_consumer_keeps_answering_heartbeats(
    protocol: str, policy: str, feed_transport: Transport | None
) -> None:
    adapter = ADAPTERS[protocol]
    size = 8
    cfg = make_config(buffer_size=size, overflow=policy)
    options: dict[str, Any] = {"ws_ping_interval": 0.05}
    if protocol == "gateway":
        options["pong_timeout"] = 0.3
    if protocol == "peatio":
        options["ping_interval"] = 0.05
    async with adapter.server(**options) as server:
        feed_cm = adapter.feed(server, cfg, feed_transport, None)

        seen: list[Any] = []
        stats: list[Any] = []

        async def body() -> None:
            async with feed_cm as feed:
                stats.append(feed.stats)
                await adapter.subscribe(feed)
                record = await server.wait_for_connection(1)
                await server.wait_for(lambda: tuple(record.subscriptions) == adapter.subscriptions)
                # Drain the start-up events, then stop reading: the consumer is "asleep".
                with trio.move_on_after(0.1):
                    async for item in feed:
                        seen.append(item)
                pongs, pings = record.pongs_received, record.pings_received
                app_pongs = sum(f == "pong" for f in record.received)
                n = 3 * size if policy == "drop_oldest" else size
                await server.push(count=n, connection=record)
                if protocol == "gateway":
                    await server.ping(connection=record)  # closes 1008 without a pong in 0.3 s
                await trio.sleep(0.6)
                # Heartbeats of every kind were answered meanwhile, and nothing reconnected.
                assert record.open
                assert record.pongs_received > pongs  # the server's WebSocket pings
                assert record.pings_received > pings  # the feed's own pings go on
                if protocol == "gateway":
                    assert sum(_is_gateway_pong(f) for f in record.received) >= 1
                if protocol == "peatio":
                    assert sum(f == "pong" for f in record.received) > app_pongs
                assert feed.connected
                if policy == "fail":
                    await server.push(count=1, connection=record)  # one too many
                    with trio.fail_after(1.0):
                        await trio.sleep_forever()  # still asleep: SlowConsumer ends the block
                with trio.fail_after(1.0):
                    async for item in feed:  # Overflow, then the newest messages
                        seen.append(item)
                        if policy == "drop_oldest" and server.sequence_of(item) == n:
                            break

        if policy == "fail":
            with pytest.raises(SlowConsumer), trio.fail_after(WAIT):
                await body()
            assert feed_tasks() == []
            # It failed on exactly the first message beyond the buffer, not before.
            assert stats[0].messages == size
            assert stats[0].frames >= size + 1
        else:
            with trio.fail_after(WAIT):
                await body()
            assert feed_tasks() == []
            overflow = [it for it in seen if isinstance(it, ev.Overflow)]
            assert [o.dropped for o in overflow] == [3 * size - size]
            tail = seen[seen.index(overflow[0]) + 1 :]
            assert [server.sequence_of(it) for it in tail] == list(range(2 * size + 1, 3 * size + 1))
            assert not any(isinstance(it, ev.Disconnected) for it in seen)
        await wait_no_connections(server)


def _is_gateway_pong(frame: Any) -> bool:
    return isinstance(frame, dict) and frame.get("action") == "pong"


# -- cancellation at every stage -----------------------------------------------------------------


class _MaxJitter(random.Random):
    """Always the longest backoff, so "backing off" is a stage that lasts."""

    def uniform(self, a: float, b: float) -> float:
        return b


STAGES = ["connecting_refused", "connecting_blackholed", "authenticating", "backing_off", "reading"]


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_cancellation_at_every_stage_is_prompt_and_clean(
    protocol: str, stage: str, feed_transport: Transport | None
) -> None:
    adapter = ADAPTERS[protocol]
    cfg = make_config(connect_timeout=10.0)
    if stage == "backing_off":
        cfg = make_config(backoff_initial=10.0, backoff_max=10.0, rng=_MaxJitter())
    fds_before = open_fds()
    async with adapter.server(rate=100) as server:
        if stage == "connecting_refused":
            server.refuse_next(10_000, status=503)
        elif stage == "connecting_blackholed":
            server.blackhole()
        elif stage == "authenticating":
            server.delay_replies(10.0)
        collector = Collector()
        reached = trio.Event()
        exited = trio.Event()

        async def run_feed(cancel_scope: trio.CancelScope) -> None:
            with cancel_scope:
                async with (
                    trio.open_nursery() as nursery,
                    adapter.feed(server, cfg, feed_transport, None) as feed,
                ):
                    nursery.start_soon(collector.run, feed)
                    if stage in ("authenticating", "reading"):
                        nursery.start_soon(adapter.subscribe, feed)
                    await trio.sleep_forever()
            exited.set()

        async def wait_stage() -> None:
            if stage == "connecting_refused":
                await server.wait_for(lambda: len(server.refused) >= 2)
            elif stage == "connecting_blackholed":
                await trio.sleep(0.2)
                assert server.connections == []
            elif stage == "authenticating":
                if adapter.auth:
                    await collector.wait_index(ev.Connected)
                    await trio.sleep(0.1)
                    assert collector.count(ev.Authenticated) == 0
                else:  # nothing to authenticate: connected and reading
                    await collector.wait_index(ev.Connected)
            elif stage == "backing_off":
                await collector.wait_index(ev.Connected)
                await server.abort()
                await collector.wait_index(ev.Reconnecting)
                await trio.sleep(0.05)
            else:
                await collector.wait_for(
                    lambda: len(delivered_sequences(server, [i for _, i in collector.items])) >= 5
                )
            reached.set()

        scope = trio.CancelScope()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_feed, scope)
            with trio.fail_after(WAIT):
                await wait_stage()
            t0 = trio.current_time()
            scope.cancel()
            with trio.fail_after(1.0):
                await exited.wait()
            elapsed = trio.current_time() - t0
            assert feed_tasks() == []
        assert elapsed < 1.0
        assert reached.is_set()
        server.resume()
        await wait_no_connections(server)
    assert open_fds() == fds_before


# -- secrets never show ---------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_secrets_absent_from_reprs_and_debug_logs_across_a_faulty_session(
    protocol: str, caplog: pytest.LogCaptureFixture, feed_transport: Transport | None
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = ADAPTERS[protocol]
    cfg = make_config()
    texts: list[str] = []
    async with adapter.server() as server:
        async with running_feed(adapter, server, cfg, feed_transport) as (feed, col):
            first = await open_session(adapter, server, feed, col)
            await server.push(count=3)
            await server.send_raw('{"broken": ')
            await server.close(1011, "internal error")
            await col.wait_index(ev.Gap)
            server.refuse_next(1)
            await server.abort()
            await col.wait_index(ev.Gap, col.find(ev.Gap) + 1)  # type: ignore[operator]
            texts += [repr(feed), str(feed), repr(feed.protocol), repr(feed.config), repr(feed.stats)]
            if protocol == "gateway":
                texts.append(repr(feed.protocol.credentials))  # type: ignore[attr-defined]
            assert first.authenticated or not adapter.auth
        texts += [repr(item) for _, item in col.items]
        texts += [str(item.error) for _, item in col.items if isinstance(item, ev.DecodeFailed)]
    if adapter.auth:
        # A rejected session too: the error and its logs.
        async with adapter.server() as server:
            server.reject_auth_always()
            with pytest.raises(AuthenticationError) as info:
                await consume(adapter.feed(server, cfg, feed_transport, None))
            texts += [str(info.value), repr(info.value)]
    texts.append(caplog.text)
    texts += [repr(r.args) for r in caplog.records]
    assert any("trio_feeds" in r.name for r in caplog.records)  # the session was logged
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text[:400])
