"""The engine's view of a WebSocket, and its default implementation on trio-websocket.

The engine (``_engine.py``) only sees :class:`Transport` / :class:`Connection` and the three
errors below, so trio-websocket's types and quirks stay in this module. The quirks, and what
is done about each:

* Its reader task stops reading when its message queue is full, and then stops answering
  pings and closes as well. The engine's reader always drains :meth:`Connection.receive`
  promptly (it never waits for the consumer), so the queue here only absorbs scheduling jitter.
* ``ping()`` waits for its pong without a timeout: :meth:`Connection.ping` takes one.
* Closing can hang when the server sends Close but never closes TCP (the client waits for the
  server's TCP close, as RFC 6455 says it should). :meth:`Connection.aclose` bounds the graceful
  part with a deadline and then closes the socket itself; we own the stream for that reason
  (we open TCP/TLS ourselves and hand the stream to ``wrap_client_stream``).
* A server that drops TCP during the handshake leaves ``wrap_client_stream`` waiting forever:
  we watch its reader task and fail the connect when the reader ends early.
* Close codes 4000-4999 come back with a generic name: we read the raw ``code``.
* 1006 ("abnormal closure") is what it reports when TCP dropped without a Close frame; the
  protocol contract calls that ``None``.
"""

from __future__ import annotations

import ssl
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, cast

import trio
import trio_websocket

from ._protocol import ConnectTarget

__all__ = [
    "ConnectFailed",
    "Connection",
    "HandshakeRejected",
    "Transport",
    "TransportClosed",
    "WebSocketTransport",
    "redact_url",
]

_ABNORMAL_CLOSURE = 1006
# Codes an endpoint may put in a Close frame (RFC 6455 section 7.4): others are reserved.
_SENDABLE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, *range(3000, 5000)})
_MAX_CLOSE_REASON = 120  # a Close frame's reason must fit in 123 bytes of UTF-8


class TransportClosed(Exception):
    """The connection is closed (by either side, or TCP dropped).

    Attributes:
        code: the WebSocket close code, or ``None`` when TCP dropped without a Close frame.
        reason: the close reason, or a description of what happened.
    """

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"connection closed (code {self.code}): {self.reason}" if self.reason else f"code {self.code}"


class ConnectFailed(Exception):
    """Opening the connection failed: refused, unreachable, timed out, TLS or handshake error."""


class HandshakeRejected(ConnectFailed):
    """The server answered the WebSocket handshake with an HTTP error status.

    401 and 403 mean the credentials (sent as handshake headers) were refused.

    Attributes:
        status_code: the HTTP status.
    """

    def __init__(self, status_code: int) -> None:
        super().__init__(f"handshake rejected with HTTP {status_code}")
        self.status_code = status_code


class Connection(Protocol):
    """An open WebSocket connection, as the engine uses it."""

    async def send(self, text: str) -> None:
        """Send one text frame. Raises :class:`TransportClosed`."""

    async def receive(self) -> str | bytes:
        """Receive the next message. Raises :class:`TransportClosed` once the connection is closed."""

    async def ping(self, pong_timeout: float) -> bool:
        """Send a WebSocket ping; True if its pong came within ``pong_timeout`` seconds.

        Raises :class:`TransportClosed`.
        """

    async def aclose(self, code: int = 1000, reason: str = "", *, grace: float) -> None:
        """Close: a graceful close bounded by ``grace`` seconds (0: none), then the socket, always.

        Never raises :class:`TransportClosed`; returns within ``grace`` plus a moment even
        when the peer is unresponsive. Call it inside a shielded cancel scope when the caller
        may be cancelled, so the socket is closed even then.
        """


class Transport(Protocol):
    """Opens connections. The engine runs each connection's background tasks in ``nursery``."""

    async def connect(
        self,
        nursery: trio.Nursery,
        target: ConnectTarget,
        *,
        connect_timeout: float,
        max_message_size: int,
    ) -> Connection:
        """Open a WebSocket to ``target`` within ``connect_timeout``.

        Background tasks go in ``nursery`` and end once the connection is closed with
        :meth:`Connection.aclose`. Raises :class:`ConnectFailed` (or :class:`HandshakeRejected`).
        """


def redact_url(url: str) -> str:
    """``url`` without user info and query string (both may carry credentials)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None else f"{host}:{port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _split_url(url: str) -> tuple[str, int, str, bool]:
    """``(host, port, resource, tls)`` for a ``ws:``/``wss:`` URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ConnectFailed(f"not a WebSocket URL (scheme {parts.scheme!r}): {redact_url(url)}")
    if not parts.hostname:
        raise ConnectFailed(f"URL has no host: {redact_url(url)}")
    tls = parts.scheme == "wss"
    try:
        port = parts.port or (443 if tls else 80)
    except ValueError:
        raise ConnectFailed(f"bad port in URL: {redact_url(url)}") from None
    resource = parts.path or "/"  # RFC 7230 5.3.1: an empty path is sent as "/"
    if parts.query:
        resource += "?" + parts.query
    return parts.hostname, port, resource, tls


async def _open_stream(
    host: str, port: int, tls: bool, ssl_context: ssl.SSLContext | None
) -> trio.abc.Stream:
    """TCP to ``host:port``, and for ``wss:`` TLS over it with the TLS handshake done.

    The TLS handshake happens here, not inside the WebSocket library (where a TLS failure may
    only end a reader task). On any failure, cancellation included, the socket is closed.
    """
    tcp = await trio.open_tcp_stream(host, port)
    if not tls:
        return tcp
    stream: trio.abc.Stream = tcp
    try:
        context = ssl_context or ssl.create_default_context()
        ssl_stream = trio.SSLStream(tcp, context, server_hostname=host, https_compatible=True)
        stream = ssl_stream
        await ssl_stream.do_handshake()
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return ssl_stream


def _close_args(code: int, reason: str) -> tuple[int, str]:
    """``code`` if a Close frame may carry it (else 1000), and ``reason`` cut to fit the frame."""
    if code not in _SENDABLE_CODES:
        code = 1000
    # The Close reason is limited to 123 bytes; cut by characters, conservatively.
    return code, reason.encode()[:_MAX_CLOSE_REASON].decode(errors="ignore")


class _ReaderWatch:
    """Stands in for a nursery in ``wrap_client_stream`` so we learn when its reader ends.

    trio-websocket starts its reader with ``nursery.start_soon(connection._reader_task)`` and
    then waits for the handshake. If the reader ends first (TCP closed, garbage reply), that
    wait never ends; if the server rejects the handshake, the reader *raises*
    ``ConnectionRejected`` into the nursery. This wrapper records both and cancels the wait,
    so connect fails at once with a clear error instead.
    """

    def __init__(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery
        self.handshake_scope = trio.CancelScope()
        # Shielded: when the engine is cancelled, it still closes the connection gracefully
        # (bounded), and that needs the reader to take in the server's Close reply. Whoever
        # closes the stream cancels this scope too (see _WebSocketConnection.aclose and the
        # failure path of connect), so the reader can never outlive its connection.
        self.reader_scope = trio.CancelScope(shield=True)
        self.rejected: int | None = None
        self.ended = False

    def start_soon(self, fn: Callable[[], Awaitable[Any]], *, name: object = None) -> None:
        async def watched() -> None:
            try:
                with self.reader_scope:
                    await fn()
            except trio_websocket.ConnectionRejected as exc:
                # Not swallowed: connect() turns it into HandshakeRejected for the caller.
                self.rejected = exc.status_code
            finally:
                self.ended = True
                self.handshake_scope.cancel()  # no effect once the handshake is over

        self._nursery.start_soon(watched, name=name or "trio_feeds transport reader")


class _WebSocketConnection:
    """:class:`Connection` over a trio-websocket client connection whose stream we own."""

    def __init__(
        self, ws: trio_websocket.WebSocketConnection, stream: trio.abc.Stream, reader_scope: trio.CancelScope
    ) -> None:
        self._ws = ws
        self._stream = stream
        self._reader_scope = reader_scope

    async def send(self, text: str) -> None:
        try:
            await self._ws.send_message(text)
        except trio_websocket.ConnectionClosed as exc:
            raise _closed(exc.reason) from None

    async def receive(self) -> str | bytes:
        try:
            return await self._ws.get_message()
        except trio_websocket.ConnectionClosed as exc:
            raise _closed(exc.reason) from None

    async def ping(self, pong_timeout: float) -> bool:
        with trio.move_on_after(pong_timeout):
            try:
                await self._ws.ping()
            except trio_websocket.ConnectionClosed as exc:
                raise _closed(exc.reason) from None
            return True
        return False

    async def aclose(self, code: int = 1000, reason: str = "", *, grace: float) -> None:
        code, text = _close_args(code, reason)
        try:
            with trio.move_on_after(grace):
                await self._ws.aclose(code, text or None)
        finally:
            # Always, even after a graceful close: trio-websocket leaves TCP open after the
            # peer's Close until the peer closes it, and its reader task waits for that.
            try:
                await trio.aclose_forcefully(self._stream)
            finally:
                self._reader_scope.cancel()


def _closed(reason: trio_websocket.CloseReason | None) -> TransportClosed:
    if reason is None:
        return TransportClosed(None, "connection closed")
    if reason.code == _ABNORMAL_CLOSURE:
        return TransportClosed(None, reason.reason or "connection dropped without a close frame")
    return TransportClosed(reason.code, reason.reason or "")


class WebSocketTransport:
    """The default :class:`Transport`, on trio-websocket.

    Args:
        ssl_context: TLS settings for ``wss:`` URLs (default: ``ssl.create_default_context()``).
        message_queue_size: trio-websocket's queue between its reader and ours. Ours drains it
            at once, so a small queue is enough; it must not fill, or pings go unanswered.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, message_queue_size: int = 64) -> None:
        self._ssl_context = ssl_context
        self._message_queue_size = message_queue_size

    def __repr__(self) -> str:
        return f"WebSocketTransport(message_queue_size={self._message_queue_size})"

    async def connect(
        self,
        nursery: trio.Nursery,
        target: ConnectTarget,
        *,
        connect_timeout: float,
        max_message_size: int,
    ) -> Connection:
        """Open TCP (and TLS), then the WebSocket handshake, all within ``connect_timeout``."""
        host, port, resource, tls = _split_url(target.url)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in target.headers]
        host_header = host if port in (80, 443) else f"{host}:{port}"
        stream: trio.abc.Stream | None = None
        watch = _ReaderWatch(nursery)
        done = False
        try:
            with trio.fail_after(connect_timeout):
                stream = await _open_stream(host, port, tls, self._ssl_context)
                with watch.handshake_scope:
                    ws = await trio_websocket.wrap_client_stream(
                        # Duck-typed: wrap_client_stream only calls start_soon (see _ReaderWatch).
                        cast(trio.Nursery, watch),
                        cast("trio.SocketStream", stream),
                        host_header,
                        resource,
                        extra_headers=headers,
                        message_queue_size=self._message_queue_size,
                        max_message_size=max_message_size,
                    )
                if watch.rejected is not None:
                    raise HandshakeRejected(watch.rejected)
                if watch.ended or watch.handshake_scope.cancelled_caught:
                    raise ConnectFailed("connection closed during the WebSocket handshake")
            done = True
            return _WebSocketConnection(ws, stream, watch.reader_scope)
        except trio.TooSlowError:
            raise ConnectFailed(f"no connection within connect_timeout ({connect_timeout:g} s)") from None
        except (OSError, trio.BrokenResourceError) as exc:
            # OSError covers refused/unreachable/DNS and ssl.SSLError; texts name the address only.
            raise ConnectFailed(f"{type(exc).__name__}: {exc}") from None
        finally:
            if not done:
                watch.reader_scope.cancel()
                if stream is not None:
                    # Also on cancellation: frees the socket.
                    await trio.aclose_forcefully(stream)
