"""The network side of a test server: accept, handshake, and one task set per connection.

:class:`Acceptor` runs everything :class:`~trio_feeds.testing.FeedServer` leaves to its hooks:
the handshake (and refusing it), the reader, the request worker (in order, after any delay),
the rate-driven stream, heartbeats and WebSocket pings. :func:`serve` owns the nursery.

With an ``ssl_context`` each accepted TCP stream is wrapped in a server-side
:class:`trio.SSLStream`, and its TLS handshake runs in that connection's own task, bounded, so
a client that never finishes it holds up nobody else.
"""

from __future__ import annotations

import math
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, TypeVar

import trio
from wsproto.events import AcceptConnection, RejectConnection, RejectData, Request
from wsproto.utilities import RemoteProtocolError

from ._connection import RECV_CHUNK, Connection, ConnectionRecord, Frame, Gone
from ._server import HOST, FeedServer

__all__ = ["Acceptor", "serve"]

_MAX_BATCH = 512  # most frames one streaming tick writes at once (bounds bursts after a stall)
_POLL = 0.05  # waits for a rate change re-check at least this often
_HANDSHAKE_TIMEOUT = 5.0

_S = TypeVar("_S", bound=FeedServer)


class Acceptor:
    """Serves the connections of one :class:`FeedServer` (made by :func:`serve`)."""

    def __init__(self, server: FeedServer) -> None:
        self.server = server

    async def _handle(self, tcp: trio.SocketStream) -> None:
        self.server._ids += 1
        record = ConnectionRecord(id=self.server._ids, opened_at=trio.current_time())
        stream: trio.abc.Stream = tcp
        context = self.server._ssl_context
        if context is not None:
            # Abrupt closes without close_notify are the norm for WebSocket peers: an EOF.
            stream = trio.SSLStream(tcp, context, server_side=True, https_compatible=True)
        conn = Connection(self.server, stream, record)
        try:
            with conn.cancel_scope:
                await self._serve_connection(conn)
        finally:
            if record.status is None and record.closed_at is None and record in self.server.connections:
                record.closed_at = trio.current_time()
            self.server._conns.pop(record.id, None)
            if conn.reset_on_close:
                # SO_LINGER 0: close() sends RST, the client sees "connection reset".
                tcp.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # Forcefully: no TLS close_notify either, an abort must look like a dropped path.
            await trio.aclose_forcefully(stream)
            conn.finished.set()
            self.server._notify()

    async def _serve_connection(self, conn: Connection) -> None:
        record = conn.record
        # A blackhole also swallows new connections: TCP is accepted by the OS, nothing answers
        # (not even the TLS handshake).
        while not self.server._new_unblocked.is_set():
            await self.server._new_unblocked.wait()
        if isinstance(conn.stream, trio.SSLStream) and not await self._tls_handshake(conn.stream, record):
            return
        request = await self._read_handshake(conn)
        if request is None:
            return
        record.target = request.target
        record.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.extra_headers}
        status: int | None = None
        refuse = False
        if self.server._refuse:
            status, refuse = self.server._refuse.pop(0), True
        else:
            status = self.server._check_handshake(record, request)
            refuse = status is not None
        if refuse:
            record.status = status or 0
            self.server.refused.append(record)
            self.server._notify()
            if status:  # None or 0: close TCP without an answer
                body = f"{status} refused by the {self.server.protocol} test server\n".encode()
                data = conn.ws.send(
                    RejectConnection(
                        status_code=status,
                        headers=[
                            (b"content-type", b"text/plain"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                        has_body=True,
                    )
                )
                data += conn.ws.send(RejectData(data=body, body_finished=True))
                # The client may have given up already; it is refused either way.
                with suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                    await conn.stream.send_all(data)
            return
        try:
            await conn.stream.send_all(conn.ws.send(AcceptConnection()))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        record.opened_at = trio.current_time()
        self.server.connections.append(record)
        self.server._conns[record.id] = conn
        self.server._setup(conn)
        hello = self.server._hello(conn)
        if hello:
            # Before any task of the connection starts: nothing may overtake these frames.
            try:
                await conn.send(hello)
            except Gone:
                return
        self.server._notify()
        send, receive = trio.open_memory_channel[tuple[float, Frame]](1000)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._request_worker, conn, receive)
            nursery.start_soon(self._stream_loop, conn)
            nursery.start_soon(self._guard, self.server._heartbeat, conn)
            nursery.start_soon(self._guard, self._ws_ping_loop, conn)
            nursery.start_soon(self._guard, self.server._on_open, conn)
            async with send:
                await conn.read_loop(send)
            nursery.cancel_scope.cancel()

    async def _guard(self, fn: Callable[[Connection], Any], conn: Connection) -> None:
        # A hook may find the connection gone mid-send: that ends the hook, not the server.
        with suppress(Gone):
            await fn(conn)

    async def _tls_handshake(
        self, stream: trio.SSLStream[trio.SocketStream], record: ConnectionRecord
    ) -> bool:
        """Run the TLS handshake; on failure record it in ``tls_failures`` and return False.

        A failed handshake is the client's business (it rejected the certificate, spoke plain
        ``ws://``, or went away): it ends this connection only, and never the server.
        """
        error = f"no TLS handshake within {_HANDSHAKE_TIMEOUT:g} s"
        with trio.move_on_after(_HANDSHAKE_TIMEOUT):
            try:
                await stream.do_handshake()
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                error = _tls_error(exc)
            else:
                return True
        record.tls_error = error
        record.closed_at = trio.current_time()
        self.server.tls_failures.append(record)
        self.server._notify()
        return False

    async def _read_handshake(self, conn: Connection) -> Request | None:
        with trio.move_on_after(_HANDSHAKE_TIMEOUT):
            while True:
                try:
                    data = await conn.stream.receive_some(RECV_CHUNK)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    return None
                if not data:
                    return None
                try:
                    conn.ws.receive_data(bytes(data))  # a TLS stream reads bytearrays
                    for event in conn.ws.events():
                        if isinstance(event, Request):
                            return event
                except RemoteProtocolError as exc:
                    # Not a WebSocket handshake (plain HTTP, garbage): answer as wsproto suggests.
                    with suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                        await conn.stream.send_all(conn.ws.send(exc.event_hint or RejectConnection()))
                    return None
        return None

    async def _request_worker(
        self, conn: Connection, receive: trio.MemoryReceiveChannel[tuple[float, Frame]]
    ) -> None:
        async with receive:
            async for arrived, frame in receive:
                if self.server._reply_delay:
                    await trio.sleep_until(arrived + self.server._reply_delay)
                try:
                    await self.server._on_message(conn, frame)
                except Gone:
                    return
                self.server._notify()

    async def _stream_loop(self, conn: Connection) -> None:
        """Send generated data at :attr:`rate` messages/s for as long as the connection lives."""
        while True:
            rate = self.server._rate
            if not rate:
                await self.server.wait_for(lambda: self.server._rate, timeout=math.inf)
                continue
            start = trio.current_time()
            done = 0
            while self.server._rate == rate:
                await conn.wait_unblocked()
                now = trio.current_time()
                due = int((now - start) * rate) + 1 - done
                if due > _MAX_BATCH * 4:
                    # Far behind (a blackhole, a slow client): restart the schedule, no burst.
                    start, done, due = now, 0, 1
                due = max(0, min(due, _MAX_BATCH))
                frames = [f for f in (self.server._next_data(conn) for _ in range(due)) if f is not None]
                if due and not frames:
                    # Nothing subscribed: wait for a change rather than spin.
                    with trio.move_on_after(_POLL):
                        await self.server._changed.wait()
                    start, done = trio.current_time(), 0
                    continue
                if frames and not await self.server._try_send(conn, frames):
                    return
                done += due
                await trio.sleep_until(start + done / rate)

    async def _ws_ping_loop(self, conn: Connection) -> None:
        interval = self.server._ws_ping_interval
        if not interval:
            return
        n = 0
        while True:
            await trio.sleep(interval)
            await self.server._heartbeats_on()
            n += 1
            await conn.send_ping(str(n).encode())


def _tls_error(exc: BaseException) -> str:
    """What went wrong in a TLS handshake, in words: trio hides the SSL error in ``__cause__``."""
    cause = exc.__cause__
    if isinstance(cause, ssl.SSLError):
        return f"{type(cause).__name__}: {cause.reason or cause}"
    if cause is not None:
        return f"{type(cause).__name__}: {cause}"
    return f"{type(exc).__name__}: connection closed during the TLS handshake"


@asynccontextmanager
async def serve(server: _S, *, port: int = 0, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[_S]:
    """Run ``server`` on ``127.0.0.1`` for the duration of the context.

    ``port`` 0 (the default) lets the OS choose a free port (read it from ``server.port``);
    the ``trio-feeds serve --port N`` command passes a fixed one.

    ``ssl_context`` (a server-side context with a certificate loaded, e.g. from
    :func:`trio_feeds.testing.tls.tls_contexts`) makes it a ``wss://`` server: ``server.url``
    says ``wss://``, and connections whose TLS handshake fails are recorded in
    ``server.tls_failures``.

    On a normal exit the open connections are closed with 1001 (going away), bounded by 1 s;
    then, and on any error or cancellation, every task is cancelled and every socket closed.
    An exception from the body or from the server's tasks propagates (a group of one is
    unwrapped, so ``pytest.raises`` around the context sees the exception itself).
    """
    try:
        async with trio.open_nursery() as nursery:
            listeners = await trio.open_tcp_listeners(port, host=HOST)
            server._port = listeners[0].socket.getsockname()[1]
            server._ssl_context = ssl_context
            server._nursery = nursery
            await nursery.start(trio.serve_listeners, Acceptor(server)._handle, listeners)
            try:
                yield server
                with trio.move_on_after(1.0):
                    await server.close(1001, "server shutting down")
            finally:
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise
