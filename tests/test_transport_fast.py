"""The fast transport (websockets' sans-IO protocol, no reader task) against real local servers.

Transport-level tests drive :class:`FastTransport` directly (``connect`` / ``receive`` /
``ping`` / ``aclose``) against the ``trio_feeds.testing`` servers and a raw wsproto server
for what they cannot do. At the end, the engine's real-socket tests from ``test_engine.py``
run again with the fast transport as the engine's default.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import attrs
import pytest
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    Request,
    TextMessage,
)

from trio_feeds import events as ev
from trio_feeds import gateway
from trio_feeds._sansio._protocol import ConnectTarget
from trio_feeds._transports._base import open_stream
from trio_feeds._transports.fast import FastConnection
from trio_feeds.config import FeedConfig
from trio_feeds.testing import FeedServer, open_cryptology_server, open_gateway_server
from trio_feeds.transports import (
    ConnectFailed,
    Connection,
    FastTransport,
    HandshakeRejected,
    TransportClosed,
    TrioWebsocketTransport,
)

HOST = "127.0.0.1"


@asynccontextmanager
async def connected(
    url: str | FeedServer | RawServer,
    *,
    headers: tuple[tuple[str, str], ...] = (),
    max_size: int = 1 << 20,
    connect_timeout: float = 2.0,
    transport: FastTransport | None = None,
) -> AsyncIterator[Connection]:
    """A FastTransport connection, closed (gracefully, bounded) on exit.

    Given a test server, returns once the server has registered the connection too (its
    fault controls act on registered connections only).
    """
    server = url if isinstance(url, FeedServer) else None
    registered = 0 if server is None else len(server.connections) + 1
    if not isinstance(url, str):
        url = url.url
    try:
        async with trio.open_nursery() as nursery:
            conn = await (transport or FastTransport()).connect(
                nursery,
                ConnectTarget(url, headers),
                connect_timeout=connect_timeout,
                max_message_size=max_size,
            )
            if server is not None:
                await server.wait_for(lambda: len(server.connections) >= registered)
            try:
                yield conn
            finally:
                with trio.CancelScope(shield=True):
                    await conn.aclose(grace=0.5)
    except BaseExceptionGroup as group:  # the nursery's wrapper around a single error
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise


async def receive_until_closed(conn: Connection, *, within: float = 3.0) -> tuple[list[Any], TransportClosed]:
    got: list[Any] = []
    with trio.fail_after(within):
        while True:
            try:
                got.append(await conn.receive())
            except TransportClosed as exc:
                return got, exc


# -- a raw server for faults the test servers do not make ------------------------------------------


Handler = Callable[[trio.SocketStream, WSConnection], Awaitable[None]]


@attrs.define(eq=False)
class RawServer:
    """Completes the handshake (unless ``handshake`` is False), then runs ``handler``."""

    handler: Handler | None = None
    handshake: bool = True
    response: bytes | None = None  # sent instead of the 101, raw
    port: int = 0
    accepted: int = 0
    eof: trio.Event = attrs.Factory(trio.Event)  # the client closed its socket
    received: list[Any] = attrs.Factory(list)  # wsproto events the handler read

    @property
    def url(self) -> str:
        return f"ws://{HOST}:{self.port}/"

    async def handle(self, stream: trio.SocketStream) -> None:
        self.accepted += 1
        ws = WSConnection(ConnectionType.SERVER)
        try:
            if self.handshake:
                while True:
                    data = await stream.receive_some(4096)
                    if not data:
                        return
                    ws.receive_data(data)
                    if any(isinstance(e, Request) for e in ws.events()):
                        break
                if self.response is not None:
                    await stream.send_all(self.response)
                else:
                    await stream.send_all(ws.send(AcceptConnection()))
            if self.handler is not None:
                await self.handler(stream, ws)
            # Wait for the client to close its socket (data is read and recorded).
            while True:
                data = await stream.receive_some(65536)
                if not data:
                    break
                ws.receive_data(data)
                self.received.extend(ws.events())
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            self.eof.set()
            await trio.aclose_forcefully(stream)


@asynccontextmanager
async def raw_serving(server: RawServer) -> AsyncIterator[RawServer]:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, server.handle, 0, host=HOST))
        server.port = listeners[0].socket.getsockname()[1]
        yield server
        nursery.cancel_scope.cancel()


# -- handshake -----------------------------------------------------------------------------------


def test_constructible_without_arguments() -> None:
    assert repr(FastTransport()).startswith("FastTransport(")
    assert repr(TrioWebsocketTransport()).startswith("TrioWebsocketTransport(")


def test_untested_websockets_release_is_refused_with_a_clear_message() -> None:
    from trio_feeds._transports.fast import WEBSOCKETS_TESTED, check_websockets_version

    check_websockets_version(f"{WEBSOCKETS_TESTED[0]}.0")
    with pytest.raises(RuntimeError, match=r"tested with websockets .*not 99\.1.*TrioWebsocketTransport"):
        check_websockets_version("99.1")


async def test_handshake_sends_custom_headers_and_receives_text() -> None:
    async with open_cryptology_server(rate=None, form="json") as server:
        headers = (("Authorization", "Bearer t0ken"), ("X-Client", "trio-feeds"))
        async with connected(server.url + "?stream=a", headers=headers) as conn:
            await server.wait_for(lambda: len(server.connections) == 1)
            record = server.connections[0]
            assert record.headers["authorization"] == "Bearer t0ken"
            assert record.headers["x-client"] == "trio-feeds"
            assert record.target == "/?stream=a"
            await server.send_raw("hello")
            await server.send_raw(b"\x00\x01binary")
            assert await conn.receive() == "hello"
            assert await conn.receive() == b"\x00\x01binary"
            await server.push()
            frame = await conn.receive()
            assert isinstance(frame, str)
            assert server.sequence_of(frame) == 1


@pytest.mark.parametrize("status", [401, 403, 429, 503])
async def test_handshake_rejection_carries_the_status(status: int) -> None:
    async with open_cryptology_server(rate=None, form="json") as server:
        server.refuse_next(status=status)
        with pytest.raises(HandshakeRejected) as excinfo:
            async with connected(server):
                pass
        assert excinfo.value.status_code == status
        assert isinstance(excinfo.value, ConnectFailed)


async def test_rejection_with_an_open_ended_body_fails_at_once() -> None:
    # No Content-Length and the socket stays open: the status is enough, no wait for the body.
    server = RawServer(response=b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\n\r\nno")
    async with raw_serving(server):
        start = trio.current_time()
        with pytest.raises(HandshakeRejected) as excinfo:
            async with connected(server.url, connect_timeout=5):
                pass
        assert excinfo.value.status_code == 401
        assert trio.current_time() - start < 1.0


async def test_connect_failures() -> None:
    async with open_cryptology_server(rate=None, form="json") as server:
        server.refuse_next(status=None)  # dropped before any answer
        with pytest.raises(ConnectFailed, match="handshake"):
            async with connected(server):
                pass
    with socket.socket() as s:  # a port nobody listens on
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    # An IP address: one connect (no Happy Eyeballs race), its error naming the address.
    with pytest.raises(ConnectFailed, match=rf"could not connect to {HOST}:{port}: Connection refused"):
        async with connected(f"ws://{HOST}:{port}/"):
            pass
    # A host name: trio's open_tcp_stream over its addresses, each attempt's error named.
    with pytest.raises(ConnectFailed, match=rf"attempts to connect to localhost:{port} failed: .*refused"):
        async with connected(f"ws://localhost:{port}/"):
            pass
    with pytest.raises(ConnectFailed, match="not a WebSocket URL"):
        async with connected(f"http://{HOST}:{port}/"):
            pass
    garbage = RawServer(response=b"SSH-2.0-OpenSSH\r\n\r\n")
    async with raw_serving(garbage):
        with pytest.raises(ConnectFailed, match="handshake failed"):
            async with connected(garbage.url):
                pass


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
async def test_an_ipv6_address_connects_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    # An IP address is one connect of the address's own family: trio's Happy Eyeballs race
    # (open_tcp_stream) is for host names only.
    async def no_race(*args: object, **kwargs: object) -> trio.SocketStream:
        raise AssertionError("open_tcp_stream used for an IP address")

    monkeypatch.setattr(trio, "open_tcp_stream", no_race)
    async with trio.open_nursery() as nursery:

        async def handler(stream: trio.SocketStream) -> None:
            await trio.sleep_forever()

        listeners = await nursery.start(functools.partial(trio.serve_tcp, handler, 0, host="::1"))
        port = listeners[0].socket.getsockname()[1]
        stream = await open_stream("::1", port, False, None)
        assert isinstance(stream, trio.SocketStream)
        assert stream.socket.family == socket.AF_INET6
        assert stream.socket.getpeername()[:2] == ("::1", port)
        await stream.aclose()
        nursery.cancel_scope.cancel()


async def test_connect_timeout_and_no_socket_left() -> None:
    server = RawServer(handshake=False)  # accepts TCP, never answers
    async with raw_serving(server):
        start = trio.current_time()
        with pytest.raises(ConnectFailed, match="connect_timeout"):
            async with connected(server.url, connect_timeout=0.2):
                pass
        assert trio.current_time() - start < 1.0
        with trio.fail_after(1):
            await server.eof.wait()  # our socket is closed


async def test_frames_right_behind_the_handshake_response_are_kept() -> None:
    async def handler(stream: trio.SocketStream, ws: WSConnection) -> None:
        pass

    ws = WSConnection(ConnectionType.SERVER)
    # Built per connection below: the accept key depends on the request.
    server = RawServer(handler=handler, handshake=False)

    async def handle(stream: trio.SocketStream) -> None:
        data = await stream.receive_some(4096)
        ws.receive_data(data)
        assert any(isinstance(e, Request) for e in ws.events())
        await stream.send_all(ws.send(AcceptConnection()) + ws.send(TextMessage("first")))
        await server.handle(stream)

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, handle, 0, host=HOST))
        server.port = listeners[0].socket.getsockname()[1]
        async with connected(server) as conn:
            assert await conn.receive() == "first"
        nursery.cancel_scope.cancel()


# -- frames ---------------------------------------------------------------------------------------


async def test_fragmented_messages_are_reassembled() -> None:
    async def handler(stream: trio.SocketStream, ws: WSConnection) -> None:
        data = ws.send(TextMessage("hé", message_finished=False))
        data += ws.send(Ping(b"mid"))  # control frames may come between fragments
        data += ws.send(TextMessage("llo", message_finished=True))
        data += ws.send(BytesMessage(b"ab", message_finished=False))
        data += ws.send(BytesMessage(b"cd", message_finished=True))
        await stream.send_all(data)

    server = RawServer(handler=handler)
    async with raw_serving(server), connected(server) as conn:
        assert await conn.receive() == "héllo"
        assert await conn.receive() == b"abcd"
        await conn.aclose(grace=0.5)
    assert any(isinstance(e, Pong) and e.payload == b"mid" for e in server.received)


@pytest.mark.parametrize("fast_path", [True, False])
@pytest.mark.parametrize(("piece", "chunk"), [(777, 65536), (131, 65536), (5000, 300), (65536, 65536)])
async def test_many_frames_in_one_chunk_and_across_chunk_boundaries(
    fast_path: bool, piece: int, chunk: int
) -> None:
    # Sizes on both sides of the 7-bit and 16-bit length forms, pings and a binary frame mixed in.
    frames: list[str | bytes] = [f'{{"n":{i},"pad":"{"é" * (i % 300)}"}}' for i in range(1500)]
    frames[700] = b"\x00binary"
    frames[701] = "z" * 70_000

    async def handler(stream: trio.SocketStream, ws: WSConnection) -> None:
        parts = []
        for i, f in enumerate(frames):
            parts.append(ws.send(BytesMessage(f) if isinstance(f, bytes) else TextMessage(f)))
            if i % 97 == 0:
                parts.append(ws.send(Ping(str(i).encode())))
        blob = b"".join(parts)
        with trio.fail_after(10):
            for i in range(0, len(blob), piece):  # frames split at odd places
                await stream.send_all(blob[i : i + piece])

    server = RawServer(handler=handler)
    transport = FastTransport(fast_path=fast_path, receive_chunk=chunk)
    async with raw_serving(server), connected(server, transport=transport) as conn:
        with trio.fail_after(10):
            got = [await conn.receive() for _ in frames]
            await conn.aclose(grace=1)
    assert got == frames
    pongs = [e.payload for e in server.received if isinstance(e, Pong)]
    assert pongs == [str(i).encode() for i in range(0, 1500, 97)]


async def test_receive_batch_hands_out_every_frame_once_in_order() -> None:
    frames = [f'{{"n":{i}}}' for i in range(2000)]

    async def handler(stream: trio.SocketStream, ws: WSConnection) -> None:
        blob = b"".join(ws.send(TextMessage(f)) for f in frames)
        for i in range(0, len(blob), 7001):  # frames cut at odd places
            await stream.send_all(blob[i : i + 7001])

    server = RawServer(handler=handler)
    got: list[str | bytes] = []
    batches = 0
    async with raw_serving(server), connected(server, transport=FastTransport(receive_chunk=4096)) as conn:
        assert isinstance(conn, FastConnection)
        with trio.fail_after(10):
            got.append(await conn.receive())  # both calls take from the same queue
            while len(got) < len(frames):
                batch = await conn.receive_batch()
                assert batch
                got.extend(batch)
                batches += 1
    assert got == frames
    assert 1 < batches < len(frames)  # whole reads, not one frame per call


async def test_invalid_utf8_closes_with_1007() -> None:
    async def handler(stream: trio.SocketStream, ws: WSConnection) -> None:
        await stream.send_all(ws.send(TextMessage("ok")) + b"\x81\x02\xff\xfe")

    server = RawServer(handler=handler)
    async with raw_serving(server), connected(server) as conn:
        got, closed = await receive_until_closed(conn)
    assert got == ["ok"]
    assert closed.code == 1007
    assert any(isinstance(e, CloseConnection) and e.code == 1007 for e in server.received)


async def test_send_reaches_the_server() -> None:
    async with open_gateway_server(rate=None) as server, connected(server) as conn:
        await conn.send('{"action":"pong","timestamp":1}')
        await server.wait_for(lambda: server.connections and server.connections[0].received)
        assert server.connections[0].received == [{"action": "pong", "timestamp": 1}]


# -- pings ----------------------------------------------------------------------------------------


async def test_server_pings_are_answered_while_the_consumer_does_not_read() -> None:
    # Engine level: the reader keeps calling receive(), the consumer sleeps; pongs still go out.
    async with open_gateway_server(rate=200, ws_ping_interval=0.02) as server:
        config = FeedConfig(ping_interval=10, buffer_size=10_000)
        creds = gateway.Credentials("test-key", "test-secret")
        async with gateway.open_feed(
            server.url, credentials=creds, config=config, transport=FastTransport()
        ) as feed:
            await feed.subscribe(["trades"], exchange="binance", symbols=["BTCUSDT"])
            record = server.connections[0]
            before = record.pongs_received
            await trio.sleep(0.5)  # not reading the feed at all
            assert record.pongs_received - before >= 10
            assert feed.connected
            assert feed.stats.messages > 20  # the reader kept reading meanwhile
            assert feed.stats.reconnects == 0


async def test_client_ping_is_answered_while_another_task_receives() -> None:
    async with open_cryptology_server(rate=500, form="json") as server, connected(server) as conn:
        received = 0

        async def reader() -> None:
            nonlocal received
            while True:
                await conn.receive()
                received += 1

        async with trio.open_nursery() as nursery:
            nursery.start_soon(reader)
            for _ in range(5):
                assert await conn.ping(1.0) is True
            # Concurrent pings, answered out of order or in one go, all complete.
            results: list[bool] = []

            async def one() -> None:
                results.append(await conn.ping(1.0))

            async with trio.open_nursery() as pings:
                for _ in range(5):
                    pings.start_soon(one)
            assert results == [True] * 5
            nursery.cancel_scope.cancel()
        assert received > 0
        assert server.connections[0].pings_received >= 10


async def test_client_ping_times_out_on_a_blackholed_server() -> None:
    async with open_cryptology_server(rate=None, form="json") as server, connected(server) as conn:
        server.blackhole()
        async with trio.open_nursery() as nursery:

            async def reader() -> None:
                with suppress(TransportClosed):  # once we close it below
                    while True:
                        await conn.receive()

            nursery.start_soon(reader)
            start = trio.current_time()
            assert await conn.ping(0.1) is False
            assert 0.09 < trio.current_time() - start < 0.5
            start = trio.current_time()
            await conn.aclose(grace=0.2)  # no Close reply ever comes: bounded
            assert trio.current_time() - start < 0.5


# -- closing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "reason"), [(4009, "rate limit"), (1011, "boom"), (1000, ""), (4999, "x")])
async def test_server_close_codes_are_mapped_raw(code: int, reason: str) -> None:
    async with open_cryptology_server(rate=None, form="json") as server, connected(server) as conn:
        await server.send_raw("before")
        await server.close(code, reason)
        got, closed = await receive_until_closed(conn)
        assert got == ["before"]
        assert (closed.code, closed.reason) == (code, reason)
        record = server.connections[0]
        assert record.closed_by == "server"
        assert record.close_code == code  # the server got our echo: a clean closing handshake
        with pytest.raises(TransportClosed):
            await conn.send("late")


async def test_abort_without_close_frame_is_code_none() -> None:
    async with open_cryptology_server(rate=None, form="json") as server, connected(server) as conn:
        await server.send_raw("last")
        await server.abort()
        got, closed = await receive_until_closed(conn)
    assert got == ["last"]
    assert closed.code is None


async def test_reset_is_code_none() -> None:
    async with open_cryptology_server(rate=None, form="json") as server, connected(server) as conn:
        await server.abort(reset=True)
        _, closed = await receive_until_closed(conn)
    assert closed.code is None


async def test_graceful_client_close() -> None:
    async with open_cryptology_server(rate=100, form="json") as server, connected(server) as conn:
        await conn.receive()
        start = trio.current_time()
        await conn.aclose(4001, "bye " + "é" * 200, grace=1.0)  # reason cut to fit a Close frame
        assert trio.current_time() - start < 0.5
        await server.wait_for(lambda: not server.connections[0].open)
        record = server.connections[0]
        assert (record.closed_by, record.close_code) == ("client", 4001)
        assert record.close_reason.startswith("bye ")
        with pytest.raises(TransportClosed):
            await conn.receive()
        await conn.aclose(grace=1.0)  # idempotent


async def test_close_without_tcp_fin_does_not_hang() -> None:
    async def handler(stream: trio.SocketStream, ws: WSConnection) -> None:
        await stream.send_all(ws.send(CloseConnection(code=1001, reason="going away")))

    server = RawServer(handler=handler)
    async with raw_serving(server):
        start = trio.current_time()
        async with connected(server) as conn:
            _, closed = await receive_until_closed(conn)
            assert (closed.code, closed.reason) == (1001, "going away")
        assert trio.current_time() - start < 0.5
        with trio.fail_after(1):
            await server.eof.wait()


async def test_oversize_message_closes_with_1009() -> None:
    async with (
        open_cryptology_server(rate=None, form="json") as server,
        connected(server, max_size=1000) as conn,
    ):
        await server.send_raw("x" * 1000)  # at the limit: fine
        await server.send_raw("y" * 1001)
        got, closed = await receive_until_closed(conn)
        assert got == ["x" * 1000]
        assert closed.code == 1009
        await server.wait_for(lambda: not server.connections[0].open)
        assert server.connections[0].close_code == 1009


async def test_cancellation_while_receiving_leaves_no_socket() -> None:
    server = RawServer()
    async with raw_serving(server):
        with trio.move_on_after(0.1):
            async with connected(server) as conn:
                await conn.receive()  # never comes
        with trio.fail_after(1):
            await server.eof.wait()
        # We sent a Close before closing the socket (the server here never answers it).
        assert any(isinstance(e, CloseConnection) and e.code == 1000 for e in server.received)


async def test_cancellation_while_connecting_leaves_no_socket() -> None:
    server = RawServer(handshake=False)
    async with raw_serving(server):
        with trio.move_on_after(0.1):
            async with connected(server.url, connect_timeout=10):
                pass
        with trio.fail_after(1):
            await server.eof.wait()


async def test_engine_reconnects_through_codes_with_fast_transport() -> None:
    config = FeedConfig(backoff_initial=0.01, backoff_max=0.02, rate_limit_backoff=0.05, healthy_after=0)
    async with open_gateway_server(rate=500) as server:
        creds = gateway.Credentials("test-key", "test-secret")
        async with gateway.open_feed(
            server.url, credentials=creds, config=config, transport=FastTransport()
        ) as feed:
            await feed.subscribe(["trades"], exchange="binance", symbols=["BTCUSDT"])
            disconnects: list[ev.Disconnected] = []
            with trio.fail_after(5):
                for fault in ("close", "abort", "close"):
                    if fault == "close":
                        await server.close(1011, "boom")
                    else:
                        await server.abort()
                    async for item in feed:
                        if isinstance(item, ev.Disconnected):
                            disconnects.append(item)
                        if isinstance(item, ev.Resubscribed):
                            break
    assert [d.code for d in disconnects] == [1011, None, 1011]


# -- the engine's real-socket tests again, with trio-websocket as the engine's default ---------------
# (tests/test_engine.py itself runs on the default, the fast transport.)

from tests import test_engine as _engine_tests  # noqa: E402
from trio_feeds._transports import fast as _fast_module  # noqa: E402

_ENGINE_TESTS = [
    "test_delivers_in_order_with_session_events",
    "test_subscribe_acknowledged_refused_and_timed_out",
    "test_subscribe_waits_across_a_reconnect",
    "test_reconnects_after_server_close_and_resubscribes",
    "test_reconnects_after_tcp_abort",
    "test_close_without_tcp_fin_does_not_hang_the_reconnect",
    "test_protocol_close_sends_its_code_and_reconnects",
    "test_blackhole_is_detected_within_ping_interval_plus_timeout",
    "test_quiet_channel_with_answered_pings_stays_connected",
    "test_silence_beyond_server_heartbeat_reconnects",
    "test_fatal_close_ends_the_feed_with_its_code",
    "test_auth_failure_raises_without_retrying",
    "test_handshake_401_is_an_authentication_error",
    "test_handshake_503_is_retried",
    "test_authenticated_session_with_resubscription_acks",
    "test_drop_oldest_counts_drops_and_keeps_answering_heartbeats",
    "test_fail_policy_raises_slow_consumer",
    "test_bad_and_oversized_frames_become_events",
    "test_bad_frame_with_raise_policy_ends_the_feed",
    "test_cancellation_at_any_stage_exits_promptly_and_closes_the_socket",
    "test_user_exception_comes_out_unwrapped",
    "test_start_feed_and_aclose",
]


def _with_fast_default(name: str) -> Any:
    test = getattr(_engine_tests, name)  # a rename upstream must fail here, not skip quietly

    # A copy (marks and parameters included), so the original keeps the default transport.
    @functools.wraps(test)
    async def run_with_trio_websocket(*args: Any, **kwargs: Any) -> None:
        # Feed() looks up its default transport in the fast module at construction time.
        saved = _fast_module.FastTransport
        _fast_module.FastTransport = TrioWebsocketTransport  # type: ignore[misc,assignment]
        try:
            await test(*args, **kwargs)
        finally:
            _fast_module.FastTransport = saved  # type: ignore[misc]

    return run_with_trio_websocket


for _name in _ENGINE_TESTS:
    globals()[f"{_name}__trio_websocket"] = _with_fast_default(_name)
del _name


@pytest.mark.parametrize("transport", [FastTransport, TrioWebsocketTransport])
async def test_a_ping_after_our_close_ends_nothing_but_the_connection(transport: type[Any]) -> None:
    # A server that pings between our Close and its reply: trio-websocket's reader answers
    # with a Pong that wsproto refuses in LOCAL_CLOSING, which once ended the whole feed.
    pinged = trio.Event()

    async def handler(stream: trio.SocketStream, ws: WSConnection) -> None:
        while True:
            data = await stream.receive_some(65536)
            if not data:
                return
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, CloseConnection):
                    # Written raw: wsproto, rightly, sends no Ping after a Close either.
                    await stream.send_all(b"\x89\x04late")
                    pinged.set()
                    await trio.sleep(0.05)
                    await stream.send_all(ws.send(event.response()))
                    return

    async with raw_serving(RawServer(handler)) as server:
        async with connected(server, transport=transport()) as conn:
            assert conn is not None
        assert pinged.is_set()


# -- reading a plain TCP socket directly -----------------------------------------------------------


async def test_a_cancelled_receive_loses_nothing_and_the_next_one_reads_on() -> None:
    go = trio.Event()
    frames = [f'{{"n":{i}}}' for i in range(50)]

    async def handler(stream: trio.SocketStream, ws: WSConnection) -> None:
        await go.wait()
        for f in frames:  # one write per frame: many small reads, each draining the socket
            await stream.send_all(ws.send(TextMessage(f)))
        await trio.sleep_forever()

    server = RawServer(handler=handler)
    async with raw_serving(server), connected(server) as conn:
        assert isinstance(conn, FastConnection)
        assert conn._socket is not None  # plain TCP: read from the socket (see _read_ready)
        with trio.move_on_after(0.05) as scope:
            await conn.receive()  # nothing yet: cancelled while waiting for readability
        assert scope.cancelled_caught
        go.set()
        with trio.fail_after(5):
            got = [await conn.receive() for _ in frames]
    assert got == frames


async def test_aclose_from_another_task_ends_a_waiting_receive() -> None:
    server = RawServer()  # completes the handshake, then sends nothing
    async with raw_serving(server), connected(server) as conn:
        outcome: list[BaseException] = []

        async def reader() -> None:
            try:
                await conn.receive()
            except TransportClosed as exc:
                outcome.append(exc)

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(reader)
                await trio.sleep(0.05)  # the reader waits for readability
                await conn.aclose(grace=0.2)
        assert len(outcome) == 1
        with pytest.raises(TransportClosed):
            await conn.receive()
