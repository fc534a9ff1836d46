"""Shared machinery of the in-process test servers: a WebSocket server on a raw Trio listener.

Why not ``trio_websocket.serve_websocket``: its reader task answers WebSocket pings on its own,
and the fault controls need to stop exactly that (:meth:`FeedServer.blackhole`), drop TCP
without a close frame (:meth:`FeedServer.abort`) and reject handshakes with any HTTP status
(:meth:`FeedServer.refuse_next`). So each connection is a :class:`trio.SocketStream` driven by
a sans-IO :class:`wsproto.WSConnection` here, and every byte on the wire is ours to hold back.

A protocol server subclasses :class:`FeedServer` and fills in the hooks (``_on_message``,
``_next_data``, ...). Everything runs in the nursery of :func:`serve`; leaving its context
cancels every task and closes every socket.
"""

from __future__ import annotations

import math
import socket
import struct
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, ClassVar, Literal, TypeAlias, TypeVar

import attrs
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import RemoteProtocolError

from .._codecs import Codec
from ..errors import DecodeError

__all__ = [
    "HOST",
    "AuthFaults",
    "Connection",
    "as_object",
    "SEQUENCE_EPOCH_MS",
    "ConnectionRecord",
    "FeedServer",
    "Target",
    "serve",
]

HOST = "127.0.0.1"
"""The only address the test servers listen on."""

SEQUENCE_EPOCH_MS = 1_700_000_000_000
"""Base of sequence-stamped millisecond timestamps: ``timestamp = SEQUENCE_EPOCH_MS + seq``.

Used where a protocol's message has no id field to carry the per-connection sequence number
(gateway channel data, Onyx tickers). 2023-11-14T22:13:20Z, so the values stay plausible times.
"""

_RECV_CHUNK = 65536
_MAX_CLIENT_MESSAGE = 1 << 20  # a client frame bigger than this is a client bug: close 1009
_MAX_BATCH = 512  # most frames one streaming tick writes at once (bounds bursts after a stall)
_POLL = 0.05  # wait_for re-checks its predicate at least this often
_CLOSE_TIMEOUT = 2.0  # how long a server-initiated close waits for the client's Close reply
_HANDSHAKE_TIMEOUT = 5.0

ClosedBy: TypeAlias = Literal["server", "client", "abort", "eof", "error"]
Frame: TypeAlias = str | bytes


@attrs.define(eq=False, kw_only=True)
class ConnectionRecord:
    """Everything one client connection did, as the server saw it.

    Records stay in :attr:`FeedServer.connections` after the connection closed, so a test can
    compare the first connection with the one after a reconnect (re-authentication,
    re-subscription).

    Attributes:
        id: 1 for the server's first connection, then 2, 3, ...
        target: the HTTP request target of the handshake, e.g. ``/ws?stream=btcusd.trades``.
        headers: handshake request headers, names lower-cased (``authorization``, ...).
        received: every frame the client sent, in order: the parsed JSON value (decimals as
            :class:`~decimal.Decimal` where the protocol sends numbers), or the raw ``str`` /
            ``bytes`` when the frame is not JSON (e.g. Peatio's text ``pong``).
        sent: every frame the server sent (data, replies, heartbeats, raw frames), in order.
        authenticated: whether the connection is authenticated now.
        auth_attempts: the result of each authentication attempt, in order.
        subscriptions: the active subscriptions now, as protocol-specific keys (see each
            server's docstring), in the order they were made.
        sequence: the last sequence number stamped on a data message (0: none yet).
        status: HTTP status of a refused handshake (only on :attr:`FeedServer.refused`).
        close_code: the WebSocket close code of the closing handshake (whoever started it);
            ``None`` when the connection ended without one (abort, client vanished).
        close_reason: the reason text of that close frame.
        closed_by: ``"server"`` (a close frame from the server), ``"client"``, ``"abort"``
            (:meth:`FeedServer.abort`), ``"eof"`` (TCP closed without a close frame) or
            ``"error"`` (the client broke the WebSocket protocol); ``None`` while open.
        pings_received: WebSocket ping frames received from the client.
        pongs_received: WebSocket pong frames received from the client.
        opened_at / closed_at: :func:`trio.current_time` of accept and of the end.
    """

    id: int
    target: str = ""
    headers: dict[str, str] = attrs.field(factory=dict)
    received: list[Any] = attrs.field(factory=list, repr=False)
    sent: list[Frame] = attrs.field(factory=list, repr=False)
    authenticated: bool = False
    auth_attempts: list[bool] = attrs.field(factory=list)
    subscriptions: list[str] = attrs.field(factory=list)
    sequence: int = 0
    status: int | None = None
    close_code: int | None = None
    close_reason: str = ""
    closed_by: ClosedBy | None = None
    pings_received: int = 0
    pongs_received: int = 0
    opened_at: float = 0.0
    closed_at: float | None = None

    @property
    def open(self) -> bool:
        """Whether the connection is still open."""
        return self.closed_at is None and self.status is None

    def next_sequence(self) -> int:
        """Advance and return this connection's sequence number (servers call this)."""
        self.sequence += 1
        return self.sequence


Target: TypeAlias = ConnectionRecord | int | None
"""Which connection a fault control acts on: a record, its ``id``, or ``None`` for all open ones."""


class _Gone(Exception):
    """The connection cannot take frames any more (closing, closed or broken)."""


class Connection:
    """One accepted WebSocket connection (internal; tests use :class:`ConnectionRecord`).

    Every write goes through :meth:`send`, under one lock, so data, replies, pongs and close
    frames never interleave mid-frame.
    """

    def __init__(self, server: FeedServer, stream: trio.SocketStream, record: ConnectionRecord) -> None:
        self.server = server
        self.stream = stream
        self.record = record
        self.ws = WSConnection(ConnectionType.SERVER)
        self.state: dict[str, Any] = {}  # protocol-specific per-connection state
        self.cancel_scope = trio.CancelScope()
        self.finished = trio.Event()
        self.last_activity = trio.current_time()
        self.reset_on_close = False
        self._lock = trio.StrictFIFOLock()
        self._unblocked = trio.Event()
        self._unblocked.set()
        self._close_started = False

    # -- blackhole --------------------------------------------------------------------------

    @property
    def blackholed(self) -> bool:
        """Whether the connection neither sends nor reads now."""
        return not self._unblocked.is_set()

    def blackhole(self) -> None:
        """Stop sending and reading (see :meth:`FeedServer.blackhole`)."""
        if not self.blackholed:
            self._unblocked = trio.Event()

    def unblock(self) -> None:
        """Undo :meth:`blackhole`."""
        self._unblocked.set()

    async def wait_unblocked(self) -> None:
        """Return once the connection is not blackholed."""
        while self.blackholed:
            await self._unblocked.wait()

    # -- generated data -----------------------------------------------------------------------

    def next_in_turn(self, keys: Sequence[str]) -> str | None:
        """The key whose turn it is (each call takes the next, round-robin); ``None`` if none."""
        if not keys:
            return None
        turn: int = self.state.get("turn", 0)
        self.state["turn"] = turn + 1
        return keys[turn % len(keys)]

    # -- writing ------------------------------------------------------------------------------

    async def send(self, frames: Sequence[Frame]) -> None:
        """Write whole messages (``str`` as text, ``bytes`` as binary) in one write.

        Waits while the connection is blackholed (nothing is dropped: sequence numbers stay
        gap-free across a blackhole).

        Raises:
            _Gone: the connection is closing or broken.
        """
        while True:
            await self.wait_unblocked()
            async with self._lock:
                if self.blackholed:
                    continue  # blackholed while waiting for the lock
                if self.ws.state is not ConnectionState.OPEN:
                    raise _Gone
                data = b"".join(
                    self.ws.send(TextMessage(data=f) if isinstance(f, str) else BytesMessage(data=f))
                    for f in frames
                )
                await self._write(data)
                self.record.sent.extend(frames)
                self.last_activity = trio.current_time()
                return

    async def send_ping(self, payload: bytes) -> None:
        """Send a WebSocket ping frame (protocol heartbeats)."""
        await self.wait_unblocked()
        async with self._lock:
            if self.ws.state is not ConnectionState.OPEN:
                raise _Gone
            await self._write(self.ws.send(Ping(payload=payload)))

    async def _write(self, data: bytes) -> None:
        try:
            await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._vanished()
            raise _Gone from None

    def _vanished(self) -> None:
        if self.record.closed_by is None:
            self.record.closed_by = "eof"
        self.cancel_scope.cancel()

    # -- closing ----------------------------------------------------------------------------

    async def close(self, code: int, reason: str = "") -> None:
        """Send a close frame (bypassing a blackhole) and end the connection.

        The client's Close reply ends the reader; if it does not come within
        ``_CLOSE_TIMEOUT`` seconds, TCP is dropped.
        """
        async with self._lock:
            if self._close_started or self.ws.state is not ConnectionState.OPEN:
                return
            self._close_started = True
            self.record.close_code = code
            self.record.close_reason = reason
            self.record.closed_by = "server"
            try:
                await self._write(self.ws.send(CloseConnection(code=code, reason=reason or None)))
            except _Gone:
                return
        # The reader must run to see the reply even when blackholed.
        self.unblock()
        self.server._spawn(self._close_deadline)

    async def _close_deadline(self) -> None:
        with trio.move_on_after(_CLOSE_TIMEOUT):
            await self.finished.wait()
            return
        self.cancel_scope.cancel()

    def abort(self, *, reset: bool = False) -> None:
        """Drop TCP without a close frame (FIN, or RST with ``reset=True``)."""
        if self.record.closed_by is None:
            self.record.closed_by = "abort"
        self.reset_on_close = reset
        self.cancel_scope.cancel()

    # -- reading ----------------------------------------------------------------------------

    async def read_loop(self, requests: trio.MemorySendChannel[tuple[float, Frame]]) -> None:
        """Read frames until the connection ends; hand client messages to the request worker."""
        parts: list[Frame] = []
        size = 0
        while True:
            try:
                data = await self.stream.receive_some(_RECV_CHUNK)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            # Held, unread by wsproto, while blackholed: no pong goes out for a ping in `data`.
            await self.wait_unblocked()
            if not data:
                if self.record.closed_by is None:
                    self.record.closed_by = "eof"
                return
            try:
                self.ws.receive_data(data)
                events = list(self.ws.events())
            except RemoteProtocolError:
                # The client broke the WebSocket protocol: nothing sensible can follow.
                self.record.closed_by = self.record.closed_by or "error"
                return
            for event in events:
                if isinstance(event, TextMessage | BytesMessage):
                    chunk: Frame = event.data if isinstance(event.data, str) else bytes(event.data)
                    parts.append(chunk)
                    size += len(chunk)
                    if size > _MAX_CLIENT_MESSAGE:
                        await self.close(1009, "message too big")
                        parts, size = [], 0
                        continue
                    if event.message_finished:
                        frame: Frame = (
                            "".join(p for p in parts if isinstance(p, str))
                            if isinstance(event, TextMessage)
                            else b"".join(p for p in parts if isinstance(p, bytes))
                        )
                        parts, size = [], 0
                        self.last_activity = trio.current_time()
                        self.record.received.append(self.server._parse(frame))
                        self.server._notify()
                        await requests.send((trio.current_time(), frame))
                elif isinstance(event, Ping):
                    self.record.pings_received += 1
                    async with self._lock:
                        if self.ws.state is ConnectionState.OPEN:
                            try:
                                await self._write(self.ws.send(event.response()))
                            except _Gone:
                                return
                elif isinstance(event, Pong):
                    self.record.pongs_received += 1
                    self.server._notify()
                elif isinstance(event, CloseConnection):
                    if self.record.closed_by is None:
                        self.record.closed_by = "client"
                        self.record.close_code = int(event.code)  # wsproto may give an IntEnum
                        self.record.close_reason = event.reason or ""
                    async with self._lock:
                        if self.ws.state is ConnectionState.REMOTE_CLOSING:
                            try:
                                await self._write(self.ws.send(event.response()))
                            except _Gone:
                                return
                    return


_S = TypeVar("_S", bound="FeedServer")


class FeedServer:
    """Base of the protocol test servers: connection bookkeeping, streaming and fault controls.

    Not instantiated directly: use ``open_<protocol>_server``. Every method is meant to be
    called from the Trio task that opened the server (or tasks under it) while clients are
    connected. Fault controls that take ``connection=`` act on one connection (a
    :class:`ConnectionRecord` or its ``id``) or, by default, on every open connection.
    """

    protocol: ClassVar[str] = ""
    codec: ClassVar[Codec]
    path: ClassVar[str] = "/"

    def __init__(self, *, rate: float | None, ws_ping_interval: float | None = None) -> None:
        self.connections: list[ConnectionRecord] = []
        """Every accepted connection, oldest first (closed ones included)."""
        self.refused: list[ConnectionRecord] = []
        """Every handshake the server refused (``status`` set: 503, 401, ...), oldest first."""
        self._rate = float(rate) if rate else 0.0
        self._ws_ping_interval = ws_ping_interval
        self._conns: dict[int, Connection] = {}
        self._ids = 0
        self._port = 0
        self._nursery: trio.Nursery | None = None
        self._changed = trio.Event()
        self._heartbeats = trio.Event()
        self._heartbeats.set()
        self._new_unblocked = trio.Event()
        self._new_unblocked.set()
        self._refuse: list[int | None] = []
        self._reply_delay = 0.0

    # -- addresses ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the server listens on (chosen by the OS)."""
        return self._port

    @property
    def url(self) -> str:
        """The WebSocket URL to connect to, e.g. ``ws://127.0.0.1:PORT/ws``."""
        return f"ws://{HOST}:{self._port}{self.path}"

    @property
    def open_connections(self) -> list[ConnectionRecord]:
        """Records of the connections open now, oldest first."""
        return [c for c in self.connections if c.open]

    # -- streaming ----------------------------------------------------------------------------

    @property
    def rate(self) -> float | None:
        """Data messages per second per connection; ``None`` means on demand only (:meth:`push`).

        Settable while clients are connected.
        """
        return self._rate or None

    @rate.setter
    def rate(self, value: float | None) -> None:
        self._rate = float(value) if value else 0.0
        self._notify()

    async def push(self, message: object | None = None, *, connection: Target = None, count: int = 1) -> int:
        """Send data now, whatever :attr:`rate` is.

        Args:
            message: ``None`` to send the next ``count`` generated data messages (sequence
                stamped, for what each connection subscribed, exactly as the rate streaming
                does); or one message to send as is: a generated model instance (encoded with
                the protocol's codec), a ``dict``/``list`` (dumped as JSON, decimals exact) or a
                ``str``/``bytes`` frame.
            connection: the target connection; every open connection by default.
            count: how many generated messages per connection (``message=None`` only).

        Returns:
            The number of frames sent.
        """
        sent = 0
        for conn in self._targets(connection):
            if message is None:
                frames = [f for f in (self._next_data(conn) for _ in range(count)) if f is not None]
            else:
                frames = [self._frame_of(message)]
            if frames and await self._try_send(conn, frames):
                sent += len(frames)
        return sent

    async def send_raw(self, data: Frame, *, connection: Target = None) -> int:
        """Send ``data`` as one WebSocket message exactly as given.

        ``str`` goes as a text frame, ``bytes`` as a binary frame: for malformed JSON, unknown
        message types, oversized frames.

        Returns:
            The number of connections it was sent to.
        """
        sent = 0
        for conn in self._targets(connection):
            if await self._try_send(conn, [data]):
                sent += 1
        return sent

    # -- fault controls ---------------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "", *, connection: Target = None) -> None:
        """Close connections with a WebSocket close frame carrying ``code`` and ``reason``.

        Returns once the connections are closed: the client answered the close frame, or
        after 2 s without an answer TCP was dropped (also when the close frame could not even
        be written because the client stopped reading). Works on blackholed connections too.
        """
        conns = self._targets(connection)
        for conn in conns:
            # Bounded: a client that stopped reading can keep a write (and so the lock) forever.
            with trio.move_on_after(_CLOSE_TIMEOUT) as scope:
                await self._close_conn(conn, code, reason)
            if scope.cancelled_caught:
                conn.abort()
        for conn in conns:
            await conn.finished.wait()

    async def _close_conn(self, conn: Connection, code: int, reason: str) -> None:
        """Protocol hook: gateway sends its ``close`` event before the close frame."""
        await conn.close(code, reason)

    async def abort(self, *, connection: Target = None, reset: bool = False) -> None:
        """Drop TCP without a WebSocket close frame; the client sees an abnormal closure (1006).

        ``reset=True`` sends a TCP RST instead of a FIN. Returns once the sockets are closed.
        """
        conns = self._targets(connection)
        for conn in conns:
            conn.abort(reset=reset)
        for conn in conns:
            await conn.finished.wait()

    def blackhole(self, *, connection: Target = None, new_connections: bool = True) -> None:
        """Make connections go silent while staying open, like a dead network path.

        The server stops sending (data, replies, heartbeats) and stops *reading*, so the
        client's WebSocket pings get no pong and its messages are not processed. What the
        client sends meanwhile is processed after :meth:`resume`. With ``new_connections``
        (default, only when ``connection`` is not given) new TCP connections are accepted by
        the OS but their handshake is never answered, until :meth:`resume`. :meth:`close` and
        :meth:`abort` still work on blackholed connections.
        """
        for conn in self._targets(connection):
            conn.blackhole()
        if connection is None and new_connections and self._new_unblocked.is_set():
            self._new_unblocked = trio.Event()

    def stop_heartbeats(self) -> None:
        """Stop the server's heartbeats; data and replies continue. Undo: :meth:`resume`.

        Heartbeats are the gateway's ``ping`` events, Peatio's text ``ping`` and the WebSocket
        pings of ``ws_ping_interval``.
        """
        if self._heartbeats.is_set():
            self._heartbeats = trio.Event()

    def refuse_next(self, n: int = 1, *, status: int | None = 503) -> None:
        """Refuse the next ``n`` connection attempts.

        With a ``status`` the handshake is answered with that HTTP status (the client sees a
        rejected handshake, e.g. ``trio_websocket.ConnectionRejected``); with ``status=None``
        the TCP connection is closed as soon as the handshake request arrived, without any
        answer. Refused attempts are recorded in :attr:`refused`.
        """
        self._refuse.extend([status] * n)

    def delay_replies(self, seconds: float) -> None:
        """Answer client requests (auth, subscribe, pong replies, ...) ``seconds`` late.

        Requests are still answered in order, and WebSocket pings are still answered at once.
        ``0`` (or :meth:`resume`) switches the delay off.
        """
        self._reply_delay = max(0.0, float(seconds))

    def resume(self) -> None:
        """Undo :meth:`blackhole`, :meth:`stop_heartbeats` and :meth:`delay_replies`."""
        for conn in self._conns.values():
            conn.unblock()
        self._new_unblocked.set()
        self._heartbeats.set()
        self._reply_delay = 0.0
        self._notify()

    async def rate_limit(self, *, connection: Target = None) -> None:
        """Behave as the exchange does when a client exceeds its rate limit (see subclasses)."""
        raise NotImplementedError

    # -- waiting ------------------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Callable[[], object],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a wait bounded by default is the point here
    ) -> None:
        """Wait until ``predicate()`` is true, e.g. ``lambda: server.connections``.

        Raises:
            trio.TooSlowError: not true within ``timeout`` seconds.
        """
        with trio.fail_after(timeout):
            while not predicate():
                with trio.move_on_after(_POLL):
                    await self._changed.wait()

    async def wait_for_connection(
        self,
        n: int = 1,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - as wait_for
    ) -> ConnectionRecord:
        """Wait until the server has accepted ``n`` connections in all; return the ``n``-th record."""
        await self.wait_for(lambda: len(self.connections) >= n, timeout=timeout)
        return self.connections[n - 1]

    @staticmethod
    def sequence_of(message: object) -> int | None:
        """Return the sequence number a server stamped on ``message`` (per protocol)."""
        raise NotImplementedError

    # -- protocol hooks ---------------------------------------------------------------------

    def _check_handshake(self, record: ConnectionRecord, request: Request) -> int | None:
        """HTTP status to refuse this handshake with, or ``None`` to accept it."""
        return None

    def _setup(self, conn: Connection) -> None:
        """Prepare per-connection state right after the handshake, before any task runs."""

    async def _on_open(self, conn: Connection) -> None:
        """Run in the connection's nursery right after the handshake (e.g. auth deadlines)."""

    async def _on_message(self, conn: Connection, frame: Frame) -> None:
        """Handle one client frame (called in order, after any :meth:`delay_replies` delay)."""

    def _next_data(self, conn: Connection) -> Frame | None:
        """Return the next generated data frame for what ``conn`` subscribed, or ``None``."""
        return None

    async def _heartbeat(self, conn: Connection) -> None:
        """Protocol heartbeat loop (runs while the connection is open)."""

    def _frame_of(self, message: object) -> Frame:
        if isinstance(message, str | bytes):
            return message
        if isinstance(message, dict | list):
            return self.codec.dumps(message)
        return self.codec.encode(message)

    def _parse(self, frame: Frame) -> Any:
        try:
            return self.codec.loads(frame)
        except DecodeError:
            return frame

    # -- helpers for subclasses -------------------------------------------------------------

    async def _reply(self, conn: Connection, *messages: object) -> bool:
        """Send replies/events (models, dicts or frames) in one write; ``False`` if gone."""
        return await self._try_send(conn, [self._frame_of(m) for m in messages])

    async def _try_send(self, conn: Connection, frames: Sequence[Frame]) -> bool:
        try:
            await conn.send(frames)
        except _Gone:
            return False
        return True

    async def _heartbeats_on(self) -> None:
        while not self._heartbeats.is_set():
            await self._heartbeats.wait()

    def _targets(self, connection: Target) -> list[Connection]:
        if connection is None:
            return list(self._conns.values())
        cid = connection if isinstance(connection, int) else connection.id
        conn = self._conns.get(cid)
        return [conn] if conn is not None else []

    def _connection_of(self, record: ConnectionRecord) -> Connection | None:
        return self._conns.get(record.id)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def _spawn(self, fn: Callable[[], Any]) -> None:
        assert self._nursery is not None
        self._nursery.start_soon(fn)

    @staticmethod
    def _now_ms() -> int:
        return int(time.time() * 1000)

    # -- connection lifecycle -----------------------------------------------------------------

    async def _handle(self, stream: trio.SocketStream) -> None:
        self._ids += 1
        record = ConnectionRecord(id=self._ids, opened_at=trio.current_time())
        conn = Connection(self, stream, record)
        try:
            with conn.cancel_scope:
                await self._serve_connection(conn)
        finally:
            if record.status is None and record.closed_at is None and record in self.connections:
                record.closed_at = trio.current_time()
            self._conns.pop(record.id, None)
            if conn.reset_on_close:
                # SO_LINGER 0: close() sends RST, the client sees "connection reset".
                stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            await trio.aclose_forcefully(stream)
            conn.finished.set()
            self._notify()

    async def _serve_connection(self, conn: Connection) -> None:
        record = conn.record
        # A blackhole also swallows new connections: TCP is accepted by the OS, nothing answers.
        while not self._new_unblocked.is_set():
            await self._new_unblocked.wait()
        request = await self._read_handshake(conn)
        if request is None:
            return
        record.target = request.target
        record.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.extra_headers}
        status: int | None = None
        refuse = False
        if self._refuse:
            status, refuse = self._refuse.pop(0), True
        else:
            status = self._check_handshake(record, request)
            refuse = status is not None
        if refuse:
            record.status = status or 0
            self.refused.append(record)
            self._notify()
            if status is not None:
                body = f"{status} refused by the {self.protocol} test server\n".encode()
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
        self.connections.append(record)
        self._conns[record.id] = conn
        self._setup(conn)
        self._notify()
        send, receive = trio.open_memory_channel[tuple[float, Frame]](1000)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._request_worker, conn, receive)
            nursery.start_soon(self._stream_loop, conn)
            nursery.start_soon(self._guard, self._heartbeat, conn)
            nursery.start_soon(self._guard, self._ws_ping_loop, conn)
            nursery.start_soon(self._guard, self._on_open, conn)
            async with send:
                await conn.read_loop(send)
            nursery.cancel_scope.cancel()

    async def _guard(self, fn: Callable[[Connection], Any], conn: Connection) -> None:
        # A hook may find the connection gone mid-send: that ends the hook, not the server.
        with suppress(_Gone):
            await fn(conn)

    async def _read_handshake(self, conn: Connection) -> Request | None:
        with trio.move_on_after(_HANDSHAKE_TIMEOUT):
            while True:
                try:
                    data = await conn.stream.receive_some(_RECV_CHUNK)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    return None
                if not data:
                    return None
                try:
                    conn.ws.receive_data(data)
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
                if self._reply_delay:
                    await trio.sleep_until(arrived + self._reply_delay)
                try:
                    await self._on_message(conn, frame)
                except _Gone:
                    return
                self._notify()

    async def _stream_loop(self, conn: Connection) -> None:
        """Send generated data at :attr:`rate` messages/s for as long as the connection lives."""
        while True:
            rate = self._rate
            if not rate:
                await self.wait_for(lambda: self._rate, timeout=math.inf)
                continue
            start = trio.current_time()
            done = 0
            while self._rate == rate:
                await conn.wait_unblocked()
                now = trio.current_time()
                due = int((now - start) * rate) + 1 - done
                if due > _MAX_BATCH * 4:
                    # Far behind (a blackhole, a slow client): restart the schedule, no burst.
                    start, done, due = now, 0, 1
                due = max(0, min(due, _MAX_BATCH))
                frames = [f for f in (self._next_data(conn) for _ in range(due)) if f is not None]
                if due and not frames:
                    # Nothing subscribed: wait for a change rather than spin.
                    with trio.move_on_after(_POLL):
                        await self._changed.wait()
                    start, done = trio.current_time(), 0
                    continue
                if frames and not await self._try_send(conn, frames):
                    return
                done += due
                await trio.sleep_until(start + done / rate)

    async def _ws_ping_loop(self, conn: Connection) -> None:
        interval = self._ws_ping_interval
        if not interval:
            return
        n = 0
        while True:
            await trio.sleep(interval)
            await self._heartbeats_on()
            n += 1
            await conn.send_ping(str(n).encode())


@asynccontextmanager
async def serve(server: _S, *, port: int = 0) -> AsyncIterator[_S]:
    """Run ``server`` on ``127.0.0.1`` for the duration of the context.

    ``port`` 0 (the default) lets the OS choose a free port (read it from ``server.port``);
    the ``trio-feeds serve --port N`` command passes a fixed one.

    On a normal exit the open connections are closed with 1001 (going away), bounded by 1 s;
    then, and on any error or cancellation, every task is cancelled and every socket closed.
    An exception from the body or from the server's tasks propagates (a group of one is
    unwrapped, so ``pytest.raises`` around the context sees the exception itself).
    """
    try:
        async with trio.open_nursery() as nursery:
            listeners = await trio.open_tcp_listeners(port, host=HOST)
            server._port = listeners[0].socket.getsockname()[1]
            server._nursery = nursery
            await nursery.start(trio.serve_listeners, server._handle, listeners)
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


class AuthFaults:
    """Fault controls for protocols with authentication (mixed into their servers)."""

    _reject_auth_next = 0
    _reject_auth_forever = False

    def reject_auth(self, n: int = 1) -> None:
        """Reject the next ``n`` authentication attempts, even with valid credentials.

        The rejection looks exactly like bad credentials (the protocol's auth error, or a 401
        handshake rejection for Peatio's header form). Attempts on every connection count.
        """
        self._reject_auth_next += n

    def reject_auth_always(self) -> None:
        """Reject every authentication attempt from now on, until :meth:`accept_auth`."""
        self._reject_auth_forever = True

    def accept_auth(self) -> None:
        """Undo :meth:`reject_auth` and :meth:`reject_auth_always`: valid credentials pass again."""
        self._reject_auth_next = 0
        self._reject_auth_forever = False

    def _auth_verdict(self, valid: bool) -> bool:
        """Apply the reject controls to the outcome of a credentials check."""
        if not valid:
            return False
        if self._reject_auth_forever:
            return False
        if self._reject_auth_next > 0:
            self._reject_auth_next -= 1
            return False
        return True


def as_object(codec: Codec, message: object) -> dict[str, Any] | None:
    """Return a message as its JSON object: parses ``str``/``bytes``, unstructures models.

    ``None`` when it is not a JSON object (e.g. Peatio's text ``ping``).
    """
    if isinstance(message, str | bytes):
        try:
            message = codec.loads(message)
        except DecodeError:
            return None
    elif not isinstance(message, dict):
        try:
            message = codec.unstructure(message)
        except TypeError:
            return None
    return message if isinstance(message, dict) else None
