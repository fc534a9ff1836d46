"""The default :class:`~trio_feeds.transports.Transport`, on websockets' sans-IO ``ClientProtocol``.

trio-websocket runs a reader task that hands every message to ``get_message`` through a memory
channel: one scheduler round trip per message, which caps it near 26 k frames/s. Here there is
no reader task at all. :meth:`FastConnection.receive` reads
a chunk (up to 64 KiB) from the Trio stream, feeds it to the sans-IO parser, keeps the parsed
messages in a local deque and returns them one by one; only when the deque is empty does it
read again. So a burst of 300 small frames costs one ``receive_some``.

Everything the protocol wants to write after a feed (pongs to the server's pings, the echo of
its Close) is flushed right away by the task that fed it, i.e. by the engine's reader, which
never waits for the consumer: pings are answered however slow the consumer is.

Concurrency: the engine's reader calls :meth:`receive`; its writer calls :meth:`send`; its
ping task calls :meth:`ping`. All writes go through one lock, and each writer drains the
protocol's pending output *inside* the lock, so bytes reach the socket in the order the
protocol produced them. ``ping`` does not read: it waits on a :class:`trio.Event` that the
reader sets when the matching pong goes by.

Behaviour matches :class:`~trio_feeds._transports.tws.TrioWebsocketTransport` where the engine can see
it: the same errors, close codes 4000-4999 raw, ``None`` for a TCP drop without a Close frame,
1009 when a message exceeds ``max_message_size``, bounded close, no socket left on
cancellation.

websockets' sans-IO protocol is driven below its documented surface here (its parser buffer,
``current_size``, ``parser_exc`` and ``writes``), so the versions it is tested with are pinned
(``WEBSOCKETS_TESTED``); on another, :class:`FastTransport` refuses to start with a clear
message instead of misbehaving.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import ssl
from collections import deque
from typing import Final

import trio
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidStatus, InvalidURI, PayloadTooBig
from websockets.frames import Frame, Opcode
from websockets.protocol import OPEN, Event
from websockets.uri import WebSocketURI, parse_uri
from websockets.version import version as _websockets_version

from .._sansio._protocol import ConnectTarget
from ._base import (
    ABNORMAL_CLOSURE,
    CONNECT_ERRORS,
    STREAM_ERRORS,
    ConnectFailed,
    Connection,
    HandshakeRejected,
    TransportClosed,
    close_args,
    map_exceptions,
    open_stream,
    redact_url,
    split_url,
)

__all__ = ["WEBSOCKETS_TESTED", "FastConnection", "FastTransport", "check_websockets_version"]

WEBSOCKETS_TESTED = (17,)
"""Major versions of websockets this transport is tested with (the range pyproject.toml pins)."""


def check_websockets_version(version: str = _websockets_version) -> None:
    """Raise ``RuntimeError`` naming the fix when ``version`` is not a tested websockets release."""
    major = version.split(".", 1)[0]
    if not major.isdigit() or int(major) not in WEBSOCKETS_TESTED:
        tested = ", ".join(f"{m}.x" for m in WEBSOCKETS_TESTED)
        raise RuntimeError(
            f"trio-feeds' FastTransport is tested with websockets {tested}, not {version}: install a "
            f"tested release (pip install 'websockets>={WEBSOCKETS_TESTED[0]},<{WEBSOCKETS_TESTED[-1] + 1}') "
            "or pass transport=TrioWebsocketTransport()"
        )


_TEXT: Final = Opcode.TEXT
_BINARY: Final = Opcode.BINARY
_CONT: Final = Opcode.CONT
_PONG: Final = Opcode.PONG
_CLOSE: Final = Opcode.CLOSE
_INVALID_DATA = 1007
_logger = logging.getLogger("trio_feeds.transport")
_MAX_HANDSHAKE = 64 * 1024  # a handshake response bigger than this is not one
_STREAM_ERROR_TYPES: tuple[type[BaseException], ...] = (*STREAM_ERRORS, OSError)  # see _stream_closed
_POSIX = os.name == "posix"  # where a socket's fd can be read with os.read (see _read_ready)
_CLOSED_ERRNOS = frozenset({errno.EBADF, errno.ENOTSOCK})  # trio.SocketStream's: socket closed


def _stream_closed(exc: BaseException) -> TransportClosed:
    """What ``map_exceptions(STREAM_ERRORS)`` raises for ``exc`` (a stream error).

    An ``OSError`` comes from a socket read or written directly (see ``_read_once``): it is
    taken as the error ``trio.SocketStream`` would have raised for it.
    """
    if isinstance(exc, OSError):
        exc = _socket_error(exc)
    for source, factory in STREAM_ERRORS.items():
        if isinstance(exc, source):
            closed = factory(exc)
            if isinstance(closed, TransportClosed):
                return closed
    return TransportClosed(None, f"connection lost: {type(exc).__name__}")  # pragma: no cover


def _socket_error(exc: OSError) -> trio.BrokenResourceError | trio.ClosedResourceError:
    """What ``trio.SocketStream`` raises for an ``OSError`` of its socket."""
    if exc.errno in _CLOSED_ERRNOS:
        return trio.ClosedResourceError("this socket was already closed")
    return trio.BrokenResourceError(f"socket connection broken: {exc}")


class FastConnection:
    """:class:`~trio_feeds.transports.Connection` over a Trio stream and a ``ClientProtocol``.

    Created by :meth:`FastTransport.connect` once the handshake is done.
    """

    __slots__ = (
        "_broken",
        "_chunk",
        "_close_seen",
        "_closed",
        "_drained",
        "_fast_path",
        "_frames",
        "_parts",
        "_pings",
        "_proto",
        "_reading",
        "_send_lock",
        "_since_yield",
        "_socket",
        "_stream",
        "_tail",
        "_yield_every",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        proto: ClientProtocol,
        *,
        chunk: int,
        yield_every: int = 1,
        fast_path: bool = True,
    ) -> None:
        self._stream = stream
        # A plain TCP stream is read and written through its socket (see _read_ready and
        # _send_all).
        self._socket = stream.socket if isinstance(stream, trio.SocketStream) else None
        self._drained = True  # the last socket read did not fill the chunk: wait before reading
        self._fast_path = fast_path and not proto.extensions
        self._tail = b""  # an incomplete plain frame held back by the fast path
        self._yield_every = yield_every if yield_every > 0 else 1 << 62
        self._since_yield = 0
        self._proto = proto
        self._chunk = chunk
        # Messages parsed and not yet handed out; None until a read brings some. An idle
        # connection holds no deque (a deque takes about 0.7 KiB even when empty).
        self._frames: deque[str | bytes] | None = None
        # Fragments of a message in progress (first opcode, parts); None when none.
        self._parts: tuple[Opcode, list[bytes]] | None = None
        # Why the connection is closed; raised once the frames before it were handed out.
        self._closed: TransportClosed | None = None
        self._close_seen: trio.Event | None = None  # set with _closed; made when awaited
        self._send_lock = trio.Lock()
        self._pings: dict[bytes, trio.Event] = {}  # payload -> set when its pong arrives
        self._reading = False  # a task is inside receive_some (only one may be)
        self._broken = False  # a write was interrupted: the stream may hold half a frame

    def __repr__(self) -> str:
        return f"<FastConnection state={self._proto.state.name} closed={self._closed is not None}>"

    # -- Connection -----------------------------------------------------------------------------

    async def receive(self) -> str | bytes:
        """Next message; reads from the socket only when none is parsed and waiting."""
        frames = self._frames
        if frames:
            # No read needed. Still a checkpoint, as a channel receive is: the consumer of the
            # engine's buffer yields once per item, so the reader must too, or it outruns the
            # consumer by a whole chunk per scheduling round (and drop_oldest drops).
            self._since_yield += 1
            if self._since_yield >= self._yield_every:
                self._since_yield = 0
                await trio.lowlevel.checkpoint()
            else:
                await trio.lowlevel.checkpoint_if_cancelled()
            return frames.popleft()
        while True:
            if self._closed is not None:
                raise self._closed
            await self._read_once()
            frames = self._frames
            if frames:
                return frames.popleft()

    async def receive_batch(self) -> deque[str | bytes]:
        """Every message parsed and waiting (at least one); reads from the socket when none is.

        One call and one checkpoint per socket read rather than per message (the engine's
        reader takes whole reads this way). The caller owns the returned deque.
        """
        frames = self._frames
        if frames:
            await trio.lowlevel.checkpoint_if_cancelled()
        else:
            while not frames:
                if self._closed is not None:
                    raise self._closed
                await self._read_once()  # a checkpoint (the socket read)
                frames = self._frames
        self._frames = None
        return frames

    async def send(self, frame: str | bytes) -> None:
        """Send one frame: ``str`` as text, ``bytes`` as binary."""
        if self._closed is not None:
            raise self._closed
        proto = self._proto
        if proto.state is not OPEN or self._broken:
            raise TransportClosed(None, "connection is closing")
        if isinstance(frame, str):
            proto.send_text(frame.encode())
        else:
            proto.send_binary(frame)
        await self._flush()

    async def ping(self, pong_timeout: float) -> bool:
        """Send a ping and wait (at most ``pong_timeout``) for the reader to see its pong."""
        if self._closed is not None:
            raise self._closed
        proto = self._proto
        if proto.state is not OPEN or self._broken:
            raise TransportClosed(None, "connection is closing")
        payload = secrets.token_bytes(4)
        while payload in self._pings:  # pragma: no cover - 1 in 4 billion
            payload = secrets.token_bytes(4)
        got_pong = trio.Event()
        self._pings[payload] = got_pong
        try:
            with trio.move_on_after(pong_timeout):
                proto.send_ping(payload)
                await self._flush()
                await got_pong.wait()
        finally:
            self._pings.pop(payload, None)
        if got_pong.is_set() and self._closed is None:
            return True
        if self._closed is not None:
            raise self._closed
        return False

    async def aclose(self, code: int = 1000, reason: str = "", *, grace: float) -> None:
        """Close within ``grace``: send Close, wait for the server's, then close TCP (always)."""
        try:
            proto = self._proto
            if proto.state is OPEN and self._closed is None and not self._broken and grace > 0:
                code, text = close_args(code, reason)
                with trio.move_on_after(grace):
                    try:
                        proto.send_close(code, text)
                        await self._flush()
                        # Read (or, if the reader is in receive(), let it read) up to the reply.
                        while self._closed is None:
                            await self._read_once()
                    except TransportClosed:
                        pass
        finally:
            self._set_closed(TransportClosed(None, "connection closed by us"))
            await trio.aclose_forcefully(self._stream)

    # -- internals ------------------------------------------------------------------------------

    def _set_closed(self, exc: TransportClosed) -> None:
        if self._closed is None:
            self._closed = exc
            if self._close_seen is not None:
                self._close_seen.set()
            for event in self._pings.values():
                event.set()  # ping() sees _closed and raises

    async def _read_once(self) -> None:
        """Read one chunk, parse it, queue its messages, flush replies. Sets ``_closed`` at the end."""
        proto = self._proto
        if self._reading:
            # Another task reads (aclose while the reader is in receive): it reports the end.
            if self._close_seen is None:
                self._close_seen = trio.Event()
                if self._closed is not None:
                    self._close_seen.set()
            await self._close_seen.wait()
            return
        self._reading = True
        sock = self._socket
        data: bytes | bytearray
        try:  # STREAM_ERRORS mapped as map_exceptions does, without a context manager per read
            if sock is None:
                data = await self._stream.receive_some(self._chunk)
            elif _POSIX:
                # The socket's file descriptor read as _read_ready says. The wait is here, not
                # in a coroutine of its own: an idle feed's reader keeps every frame of its
                # stack, 0.25 KiB each.
                read: bytes | None = None
                while read is None:
                    if sock.fileno() == -1:
                        raise trio.ClosedResourceError("this socket was already closed")
                    if self._drained:
                        await trio.lowlevel.wait_readable(sock)
                    else:
                        await trio.lowlevel.checkpoint()
                    read = _read_ready(self, sock, self._chunk)
                data = read
            else:
                # SocketStream.receive_some minus its error-translating context manager, which
                # an idle connection keeps alive (a generator and its frames) while it waits.
                data = await sock.recv(self._chunk)
        except _STREAM_ERROR_TYPES as exc:
            self._set_closed(_stream_closed(exc))
            return
        finally:
            self._reading = False
        if data:
            if self._tail:
                data = self._tail + data
                self._tail = b""
            if (
                self._fast_path
                and proto.state is OPEN
                and not proto.reader.buffer
                and proto.current_size is None
            ):
                done, incomplete = take_simple_frames(
                    data, self._queue(), self._proto.max_message_size, self._chunk
                )
                if done == len(data):
                    return
                if incomplete:  # the start of a small plain frame: keep it for the next read
                    self._tail = bytes(data[done:])
                    return
                data = data[done:]
            proto.receive_data(data)
        else:
            if self._tail:
                proto.receive_data(self._tail)
                self._tail = b""
            proto.receive_eof()
        events = proto.events_received()
        if events:
            _process(self, events)
        if proto.writes:
            with contextlib.suppress(TransportClosed):  # reported below, or on the next read
                await self._flush()
        if self._closed is None and (not data or proto.parser_exc is not None):
            self._closed_by_protocol()

    def _queue(self) -> deque[str | bytes]:
        """The deque that parsed messages go to, made when the first one comes."""
        frames = self._frames
        if frames is None:
            frames = self._frames = deque()
        return frames

    def _pong(self, payload: bytes) -> None:
        pings = self._pings
        if payload not in pings:
            return  # unsolicited
        # A pong acknowledges its ping and every earlier one (RFC 6455 5.5.3).
        for key in list(pings):
            pings.pop(key).set()
            if key == payload:
                break

    def _invalid_utf8(self) -> None:
        proto = self._proto
        if proto.state is OPEN:
            proto.fail(_INVALID_DATA, "invalid UTF-8 in a text message")
        self._set_closed(TransportClosed(_INVALID_DATA, "invalid UTF-8 in a text message"))

    def _closed_by_protocol(self) -> None:
        """The protocol left OPEN without a Close frame from the server: TCP dropped, or it failed."""
        self._set_closed(_why_protocol_closed(self._proto))

    async def _flush(self) -> None:
        """Write whatever the protocol has queued, in order, under the send lock."""
        async with self._send_lock:
            writes = self._proto.data_to_send()
            if not writes:
                return
            if self._broken:
                raise TransportClosed(None, "connection broken")
            # SEND_EOF (b"") asks for a half-close: we close the whole socket later instead.
            data = b"".join(writes)
            if not data:
                return
            done = False
            # STREAM_ERRORS mapped as map_exceptions does, without a context manager: with
            # thousands of connections starting at once, thousands of writes are under way.
            try:
                await _send_all(self._stream, self._socket, data)
                done = True
            except _STREAM_ERROR_TYPES as exc:
                self._set_closed(_stream_closed(exc))
                raise TransportClosed(None, "connection lost while sending") from None
            finally:
                if not done:
                    self._broken = True  # cancelled or failed mid-frame


def _read_ready(conn: FastConnection, sock: trio.socket.SocketType, size: int) -> bytes | None:
    """The read of ``receive_some`` on a plain TCP stream on POSIX, once ``sock`` may be ready.

    Trio's ``receive_some`` first tries the read: after a read that emptied the socket, as
    nearly every read of a live feed does (a message or two at a time), the try fails with
    ``BlockingIOError`` through a context manager, and only then does it wait. Instead
    (``FastConnection._read_once``), a read that did not fill ``size`` is taken to have
    emptied the socket, and the next one waits for readability first; after a full read it
    reads again at once, behind a checkpoint. Either way each read yields once and can be
    cancelled before it reads (no data is lost), as ``receive_some``. None: a wake-up with
    nothing to read (wait again). Errors are the stream's: ``ClosedResourceError`` for a
    closed socket, ``BrokenResourceError`` for a socket error (as _socket_error maps them).
    """
    try:
        data = os.read(sock.fileno(), size)
    except BlockingIOError:
        conn._drained = True
        return None
    except OSError as exc:
        if sock.fileno() == -1:
            raise trio.ClosedResourceError("this socket was already closed") from None
        raise _socket_error(exc) from exc
    conn._drained = len(data) < size
    return data


async def _send_all(stream: trio.abc.Stream, sock: trio.socket.SocketType | None, data: bytes) -> None:
    """``stream.send_all(data)``; on plain TCP straight on its socket ``sock``, as reads are.

    Only ``FastConnection._flush`` calls this, under the send lock: no write can interleave.
    """
    if sock is None:
        await stream.send_all(data)
        return
    with memoryview(data) as view:
        sent = 0
        while sent < len(view):
            with view[sent:] as rest:
                sent += await sock.send(rest)


def _process(conn: FastConnection, events: list[Event]) -> None:
    """Queue the messages of parsed ``events`` on ``conn``; note pongs and the server's Close.

    A function beside the class rather than a method of it, which is long enough as it is.
    """
    frames = conn._queue()
    for event in events:
        if not isinstance(event, Frame):  # pragma: no cover - the Response came in connect()
            continue
        opcode = event.opcode
        if opcode is _TEXT or opcode is _BINARY:
            if not event.fin:
                conn._parts = (opcode, [bytes(event.data)])
                continue
            if opcode is _BINARY:
                frames.append(bytes(event.data))
                continue
            try:
                frames.append(str(event.data, "utf-8"))
            except UnicodeDecodeError:
                conn._invalid_utf8()
                return
        elif opcode is _CONT:
            if conn._parts is None:  # pragma: no cover - the protocol rejects it first
                continue
            first, parts = conn._parts
            parts.append(bytes(event.data))
            if event.fin:
                conn._parts = None
                whole = b"".join(parts)
                if first is _BINARY:
                    frames.append(whole)
                else:
                    try:
                        frames.append(str(whole, "utf-8"))
                    except UnicodeDecodeError:
                        conn._invalid_utf8()
                        return
        elif opcode is _PONG:
            conn._pong(bytes(event.data))
        elif opcode is _CLOSE:
            rcvd = conn._proto.close_rcvd
            if rcvd is not None:
                code = int(rcvd.code)
                if code == ABNORMAL_CLOSURE:  # pragma: no cover - never on the wire
                    conn._set_closed(TransportClosed(None, rcvd.reason or "abnormal closure"))
                else:
                    conn._set_closed(TransportClosed(code, rcvd.reason))
        # PING: the protocol already queued the pong; the caller flushes it.


def _why_protocol_closed(proto: ClientProtocol) -> TransportClosed:
    """Why ``proto`` left OPEN without a Close frame from the server: TCP dropped, or it failed."""
    exc = proto.parser_exc
    if isinstance(exc, PayloadTooBig):
        limit = proto.max_message_size
        return TransportClosed(1009, f"Exceeded maximum message size: {limit} bytes")
    if exc is None or isinstance(exc, EOFError) or proto.close_sent is None:
        return TransportClosed(None, "connection dropped without a close frame")
    return TransportClosed(int(proto.close_sent.code), str(exc))


def take_simple_frames(
    data: bytes | bytearray, frames: deque[str | bytes], limit: int | None, chunk: int
) -> tuple[int, bool]:
    """Take the complete, final, unmasked text/binary frames at the start of ``data``.

    ``frames`` receives the messages (``str`` for text, ``bytes`` for binary); ``limit`` is the
    protocol's ``max_message_size``; ``chunk`` the most bytes one read returns. Called only when
    the protocol's parser stands at a frame boundary (its buffer is empty, no fragmented message
    in progress, state OPEN). For such frames the protocol would only hand us a ``Frame`` event
    and change no state, so we cut them out ourselves, without a ``Frame`` object and generator
    steps per frame. The first frame that is anything
    else (control, fragment, masked, reserved bits, oversized, incomplete, bad UTF-8)
    stops this; it and everything after it go to the protocol.

    Returns the bytes taken, and whether what follows is the start of a plain frame that
    is merely incomplete (and small: at most one receive chunk), which the caller keeps.
    """
    view = memoryview(data)
    end = len(data)
    i = 0
    incomplete = False
    try:
        while True:
            if end - i < 2:
                incomplete = i < end
                break
            b0 = data[i]
            if b0 not in (0x81, 0x82):  # FIN, no RSV, TEXT or BINARY
                break
            n = data[i + 1]  # mask bit 0 (server frames are unmasked)
            if n < 126:
                start = i + 2
            elif n == 126:
                if end - i < 4:
                    incomplete = True
                    break
                n = (data[i + 2] << 8) | data[i + 3]
                start = i + 4
            elif n == 127:
                if end - i < 10:
                    break  # a big frame: the protocol buffers it
                n = int.from_bytes(data[i + 2 : i + 10], "big")
                start = i + 10
            else:  # masked
                break
            stop = start + n
            if limit is not None and n > limit:
                break
            if stop > end:
                incomplete = stop - i <= chunk
                break
            if b0 == 0x81:
                try:
                    frames.append(str(view[start:stop], "utf-8"))
                except UnicodeDecodeError:
                    break  # the protocol path reports it (close 1007)
            else:
                frames.append(bytes(view[start:stop]))
            i = stop
    finally:
        view.release()
    return i, incomplete


class FastTransport:
    """:class:`~trio_feeds.transports.Transport` on websockets' sans-IO protocol, no reader task.

    Several times the frame rate of trio-websocket on small frames (see
    ``benchmarks/throughput.py``). Needs a tested ``websockets`` release (see
    :func:`~trio_feeds._transports.fast.check_websockets_version`).

    Args:
        ssl_context: TLS settings for ``wss:`` URLs (default: ``ssl.create_default_context()``).
        receive_chunk: most bytes taken from the socket per read.
        yield_every: ``receive`` yields to the scheduler once per this many messages handed
            out from a chunk already read (1: every message, like a channel; 0: never, only at
            socket reads). 0 suits the engine: its consumer side lets other tasks run at least
            every millisecond, so the two take turns in batches rather than per message.
        fast_path: cut plain data frames out of the stream without the protocol's per-frame
            machinery when its parser stands at a frame boundary (see
            ``take_simple_frames`` in this module); False: every byte goes through the protocol.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        receive_chunk: int = 65536,
        yield_every: int = 0,
        fast_path: bool = True,
    ) -> None:
        check_websockets_version()
        self._ssl_context = ssl_context
        self._chunk = receive_chunk
        self._yield_every = yield_every
        self._fast_path = fast_path

    def __repr__(self) -> str:
        return f"FastTransport(receive_chunk={self._chunk})"

    async def connect(
        self,
        nursery: trio.Nursery,
        target: ConnectTarget,
        *,
        connect_timeout: float,
        max_message_size: int,
    ) -> Connection:
        """Open TCP (and TLS), then the WebSocket handshake, all within ``connect_timeout``.

        ``nursery`` is not used: this transport runs no background task.
        """
        host, port, _resource, tls = split_url(target.url)
        try:
            uri = parse_uri(target.url)
        except InvalidURI:
            raise ConnectFailed(f"invalid WebSocket URL: {redact_url(target.url)}") from None
        stream: trio.abc.Stream | None = None
        done = False
        try:
            with map_exceptions(CONNECT_ERRORS, timeout=connect_timeout):
                stream = await open_stream(host, port, tls, self._ssl_context)
                # Made once TCP is up, not while it may take long to come up: with thousands
                # of feeds connecting at once, their requests would all wait in memory.
                proto = _client_protocol(uri, target, max_message_size)
                conn = FastConnection(
                    stream, proto, chunk=self._chunk, yield_every=self._yield_every, fast_path=self._fast_path
                )
                await stream.send_all(b"".join(proto.data_to_send()))
                await _handshake(stream, proto, conn, self._chunk)
            done = True
            return conn
        finally:
            if not done and stream is not None:
                await trio.aclose_forcefully(stream)


def _client_protocol(uri: WebSocketURI, target: ConnectTarget, max_message_size: int) -> ClientProtocol:
    """A client protocol for ``uri`` with its handshake request (``target``'s headers) queued."""
    proto = ClientProtocol(uri, max_size=max_message_size, logger=_logger)
    # websockets' debug logging prints frames and headers, credentials included: never.
    proto.debug = False
    request = proto.connect()
    for name, value in target.headers:
        if name.lower() == "host":
            del request.headers["Host"]
        request.headers[name] = value
    proto.send_request(request)
    return proto


async def _handshake(
    stream: trio.abc.Stream, proto: ClientProtocol, conn: FastConnection, chunk: int
) -> None:
    """Read until the handshake response; frames right behind it go to ``conn``."""
    head = bytearray()  # the raw response head, to answer a rejection without its body
    while True:
        data = await stream.receive_some(chunk)
        if not data:
            proto.receive_eof()
        else:
            proto.receive_data(data)
            if len(head) < _MAX_HANDSHAKE:
                head += data
        events = proto.events_received()
        failure = proto.handshake_exc
        if failure is not None:
            if isinstance(failure, InvalidStatus):
                raise HandshakeRejected(failure.response.status_code)
            if not (isinstance(failure.__cause__, EOFError) or isinstance(failure, EOFError)):
                raise ConnectFailed(f"WebSocket handshake failed: {failure}")
            raise ConnectFailed("connection closed during the WebSocket handshake")
        if events:
            _process(conn, events[1:])  # the Response, then frames sent right after it
            if proto.writes:
                await conn._flush()
            if conn._closed is None and proto.parser_exc is not None:
                conn._closed_by_protocol()
            if len(events) == 1 and head.find(b"\r\n\r\n") == len(head) - 4:
                _restart_parser(proto)
            return
        if not data:  # pragma: no cover - the parser reports EOF as a handshake failure
            raise ConnectFailed("connection closed during the WebSocket handshake")
        # A rejection may leave its body open-ended (no Content-Length): the status is enough.
        status = _rejected_status(head)
        if status is not None:
            raise HandshakeRejected(status)


def _restart_parser(proto: ClientProtocol) -> None:
    """Give ``proto`` a fresh frame parser once the handshake is done and no byte followed it.

    The parser that read the handshake is a generator that keeps the whole ``Response``
    (status, headers) in its frame for the connection's life: over 1 KiB per connection. A
    new one, made while the state is OPEN, starts straight at the frame loop. Safe only when
    the old one stands at a frame boundary with nothing buffered: the read that completed the
    response ended with it (``head`` ends at its blank line; ``head`` holds every byte read
    while it is below ``_MAX_HANDSHAKE``) and no frame came with it.
    """
    if proto.state is not OPEN or proto.reader.buffer or proto.parser_exc is not None:
        return
    proto.parser = proto.parse()
    next(proto.parser)  # as the protocol does with each parser it makes: run to the first read


def _rejected_status(head: bytes | bytearray) -> int | None:
    """The status of a complete non-101 response head in ``head``, else None."""
    if b"\r\n\r\n" not in head:
        return None
    line = bytes(head[: head.find(b"\r\n")]).split(b" ", 2)
    if len(line) >= 2 and line[1].isdigit() and line[1] != b"101":
        return int(line[1])
    return None
