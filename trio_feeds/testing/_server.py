"""The base of the in-process test servers: records, streaming, fault controls, protocol hooks.

Why not ``trio_websocket.serve_websocket``: its reader task answers WebSocket pings on its own,
and the fault controls need to stop exactly that (:meth:`FeedServer.blackhole`), drop TCP
without a close frame (:meth:`FeedServer.abort`) and reject handshakes with any HTTP status
(:meth:`FeedServer.refuse_next`). So each connection is a byte stream (TCP, or TLS over TCP
for a ``wss://`` server) driven by a sans-IO :class:`wsproto.WSConnection` here, and every
byte on the wire is ours to hold back.

A protocol server subclasses :class:`FeedServer` and fills in the hooks (``_on_message``,
``_next_data``, ...). The network side is :class:`~trio_feeds.testing._accept.Acceptor`;
everything runs in the nursery of :func:`~trio_feeds.testing._accept.serve`, and leaving its
context cancels every task and closes every socket.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import trio
from wsproto.events import Request

from .._codecs import Codec
from ..errors import DecodeError
from ._books import BookRecords, BookState
from ._connection import Connection, ConnectionRecord, Frame, Gone, Target
from ._controls import AuthFaults, FaultControls

__all__ = [
    "HOST",
    "SEQUENCE_EPOCH_MS",
    "AuthFaults",
    "BookState",
    "Connection",
    "ConnectionRecord",
    "FeedServer",
    "Frame",
    "Target",
    "as_object",
]

HOST = "127.0.0.1"
"""The only address the test servers listen on."""

SEQUENCE_EPOCH_MS = 1_700_000_000_000
"""Base of sequence-stamped millisecond timestamps: ``timestamp = SEQUENCE_EPOCH_MS + seq``.

Used where a protocol's message has no id field to carry the per-connection sequence number
(gateway channel data, Onyx tickers). 2023-11-14T22:13:20Z, so the values stay plausible times.
"""

_POLL = 0.05  # wait_for re-checks its predicate at least this often


class FeedServer(BookRecords, FaultControls):
    """Base of the protocol test servers: connection bookkeeping, streaming and fault controls.

    Not instantiated directly: use ``open_<protocol>_server``. Every method is meant to be
    called from the Trio task that opened the server (or tasks under it) while clients are
    connected. Fault controls that take ``connection=`` act on one connection (a
    :class:`ConnectionRecord` or its ``id``) or, by default, on every open connection. A server
    with order books keeps their true state (:meth:`book`, :meth:`book_as_of`).
    """

    protocol: ClassVar[str] = ""
    codec: ClassVar[Codec]
    path: ClassVar[str] = "/"

    def __init__(self, *, rate: float | None, ws_ping_interval: float | None = None) -> None:
        BookRecords.__init__(self)
        self.connections: list[ConnectionRecord] = []
        """Every accepted connection, oldest first (closed ones included)."""
        self.refused: list[ConnectionRecord] = []
        """Every handshake the server refused (``status`` set: 503, 401, ...), oldest first."""
        self.tls_failures: list[ConnectionRecord] = []
        """Every connection whose TLS handshake failed (``tls_error`` says why), oldest first.

        Only a ``wss://`` server (``ssl_context=``) has any: e.g. a client that rejected the
        server's certificate, spoke plain ``ws://``, or never finished the handshake.
        """
        self._ssl_context: ssl.SSLContext | None = None
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
    def tls(self) -> bool:
        """Whether the server speaks TLS (it was opened with an ``ssl_context``)."""
        return self._ssl_context is not None

    @property
    def url(self) -> str:
        """The WebSocket URL to connect to, e.g. ``ws://127.0.0.1:PORT/ws`` (``wss://`` with TLS)."""
        scheme = "wss" if self.tls else "ws"
        return f"{scheme}://{HOST}:{self._port}{self.path}"

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

    def wrap(self, text: str) -> Frame:
        """The frame that carries this message text in the server's wire form.

        The text itself for the JSON protocols; a server whose wire form wraps each message
        (Cryptology's binary XDR form) wraps it. The ``raw`` fault sends this.
        """
        return text

    # -- protocol hooks ---------------------------------------------------------------------

    def _check_handshake(self, record: ConnectionRecord, request: Request) -> int | None:
        """HTTP status to refuse this handshake with, ``None`` to accept it, ``0`` to drop TCP unanswered."""
        return None

    def _setup(self, conn: Connection) -> None:
        """Prepare per-connection state right after the handshake, before any task runs."""

    def _hello(self, conn: Connection) -> Sequence[Frame]:
        """Frames written right after the handshake, before any other (e.g. a version frame)."""
        return ()

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
        except Gone:
            return False
        return True

    async def _heartbeats_on(self) -> None:
        while not self._heartbeats.is_set():
            await self._heartbeats.wait()

    def _spawn(self, fn: Callable[[], Any]) -> None:
        assert self._nursery is not None
        self._nursery.start_soon(fn)

    @staticmethod
    def _now_ms() -> int:
        return int(time.time() * 1000)

    # -- connection lifecycle -----------------------------------------------------------------


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
