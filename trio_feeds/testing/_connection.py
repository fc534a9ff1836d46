"""One accepted WebSocket connection of a test server, and its record.

Every byte on the wire goes through :class:`Connection`: a byte stream (TCP, or TLS over TCP for
a ``wss://`` server) driven by a sans-IO :class:`wsproto.WSConnection`, so a fault control can
hold back or drop anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import attrs
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
from wsproto.utilities import RemoteProtocolError

if TYPE_CHECKING:
    from ._server import FeedServer

__all__ = [
    "CLOSE_TIMEOUT",
    "RECV_CHUNK",
    "ClosedBy",
    "Connection",
    "ConnectionRecord",
    "Frame",
    "Gone",
    "Target",
]

RECV_CHUNK = 65536
_MAX_CLIENT_MESSAGE = 1 << 20  # a client frame bigger than this is a client bug: close 1009
CLOSE_TIMEOUT = 2.0  # how long a server-initiated close waits for the client's Close reply

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
        tls_error: why the TLS handshake failed (only on :attr:`FeedServer.tls_failures`), e.g.
            the alert the client sent when it rejected the server's certificate.
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
    tls_error: str = ""
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


class Gone(Exception):
    """The connection cannot take frames any more (closing, closed or broken)."""


class Connection:
    """One accepted WebSocket connection (internal; tests use :class:`ConnectionRecord`).

    Every write goes through :meth:`send`, under one lock, so data, replies, pongs and close
    frames never interleave mid-frame.
    """

    def __init__(self, server: FeedServer, stream: trio.abc.Stream, record: ConnectionRecord) -> None:
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
            Gone: the connection is closing or broken.
        """
        while True:
            await self.wait_unblocked()
            async with self._lock:
                if self.blackholed:
                    continue  # blackholed while waiting for the lock
                if self.ws.state is not ConnectionState.OPEN:
                    raise Gone
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
                raise Gone
            await self._write(self.ws.send(Ping(payload=payload)))

    async def _write(self, data: bytes) -> None:
        try:
            await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._vanished()
            raise Gone from None

    def _vanished(self) -> None:
        if self.record.closed_by is None:
            self.record.closed_by = "eof"
        self.cancel_scope.cancel()

    # -- closing ----------------------------------------------------------------------------

    async def close(self, code: int, reason: str = "") -> None:
        """Send a close frame (bypassing a blackhole) and end the connection.

        The client's Close reply ends the reader; if it does not come within
        ``CLOSE_TIMEOUT`` seconds, TCP is dropped.
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
            except Gone:
                return
        # The reader must run to see the reply even when blackholed.
        self.unblock()
        self.server._spawn(self._close_deadline)

    async def _close_deadline(self) -> None:
        with trio.move_on_after(CLOSE_TIMEOUT):
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
                data = await self.stream.receive_some(RECV_CHUNK)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            # Held, unread by wsproto, while blackholed: no pong goes out for a ping in `data`.
            await self.wait_unblocked()
            if not data:
                if self.record.closed_by is None:
                    self.record.closed_by = "eof"
                return
            try:
                # A TLS stream reads bytearrays; bytes(data) is data itself for plain TCP.
                self.ws.receive_data(bytes(data))
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
                            except Gone:
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
                            except Gone:
                                return
                    return
