"""A :class:`~trio_feeds._transports.Transport` on trio-websocket.

Imported only when :class:`TrioWebsocketTransport` is used, so ``import trio_feeds`` does not
load trio-websocket. Its quirks, and what is done about each:

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
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import trio
import trio_websocket
import wsproto.utilities

from .._sansio._protocol import ConnectTarget
from ._base import (
    ABNORMAL_CLOSURE,
    CONNECT_ERRORS,
    ConnectFailed,
    Connection,
    HandshakeRejected,
    TransportClosed,
    close_args,
    map_exceptions,
    open_stream,
    split_url,
)

__all__ = ["TrioWebsocketTransport"]


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
        self.closing = False  # we sent (or are sending) our Close

    def start_soon(self, fn: Callable[[], Awaitable[Any]], *, name: object = None) -> None:
        async def watched() -> None:
            try:
                with self.reader_scope:
                    await fn()
            except trio_websocket.ConnectionRejected as exc:
                # Not swallowed: connect() turns it into HandshakeRejected for the caller.
                self.rejected = exc.status_code
            except wsproto.utilities.LocalProtocolError:
                # trio-websocket answers a Ping that arrives after our Close with a Pong, which
                # wsproto refuses in LOCAL_CLOSING; the reader dies with it. The connection is
                # ending by our own choice (aclose forces TCP shut after its grace), so this is
                # the end of the reader, not a failure of the feed. Any other time it is a bug
                # and propagates.
                if not self.closing:
                    raise
            finally:
                self.ended = True
                self.handshake_scope.cancel()  # no effect once the handshake is over

        self._nursery.start_soon(watched, name=name or "trio_feeds transport reader")


class _WebSocketConnection:
    """:class:`Connection` over a trio-websocket client connection whose stream we own."""

    def __init__(
        self, ws: trio_websocket.WebSocketConnection, stream: trio.abc.Stream, watch: _ReaderWatch
    ) -> None:
        self._ws = ws
        self._stream = stream
        self._watch = watch
        self._reader_scope = watch.reader_scope

    async def send(self, frame: str | bytes) -> None:
        with _closed_errors():
            await self._ws.send_message(frame)

    async def receive(self) -> str | bytes:
        with _closed_errors():
            return await self._ws.get_message()

    async def ping(self, pong_timeout: float) -> bool:
        with trio.move_on_after(pong_timeout), _closed_errors():
            await self._ws.ping()
            return True
        return False

    async def aclose(self, code: int = 1000, reason: str = "", *, grace: float) -> None:
        code, text = close_args(code, reason)
        self._watch.closing = True
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


@contextmanager
def _closed_errors() -> Iterator[None]:
    """trio-websocket's ``ConnectionClosed`` as our :class:`TransportClosed`, code and all."""
    try:
        yield
    except trio_websocket.ConnectionClosed as exc:
        reason = exc.reason
        if reason is None:
            raise TransportClosed(None, "connection closed") from None
        if reason.code == ABNORMAL_CLOSURE:
            raise TransportClosed(None, reason.reason or "connection dropped without a close frame") from None
        raise TransportClosed(reason.code, reason.reason or "") from None


class TrioWebsocketTransport:
    """A :class:`~trio_feeds.transports.Transport` on trio-websocket.

    Args:
        ssl_context: TLS settings for ``wss:`` URLs (default: ``ssl.create_default_context()``).
        message_queue_size: trio-websocket's queue between its reader and ours. Ours drains it
            at once, so a small queue is enough; it must not fill, or pings go unanswered.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, message_queue_size: int = 64) -> None:
        self._ssl_context = ssl_context
        self._message_queue_size = message_queue_size

    def __repr__(self) -> str:
        return f"TrioWebsocketTransport(message_queue_size={self._message_queue_size})"

    async def connect(
        self,
        nursery: trio.Nursery,
        target: ConnectTarget,
        *,
        connect_timeout: float,
        max_message_size: int,
    ) -> Connection:
        """Open TCP (and TLS), then the WebSocket handshake, all within ``connect_timeout``."""
        host, port, resource, tls = split_url(target.url)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in target.headers]
        host_header = host if port in (80, 443) else f"{host}:{port}"
        stream: trio.abc.Stream | None = None
        watch = _ReaderWatch(nursery)
        done = False
        try:
            with map_exceptions(CONNECT_ERRORS, timeout=connect_timeout):
                stream = await open_stream(host, port, tls, self._ssl_context)
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
            return _WebSocketConnection(ws, stream, watch)
        finally:
            if not done:
                watch.reader_scope.cancel()
                if stream is not None:
                    # Also on cancellation: frees the socket.
                    await trio.aclose_forcefully(stream)
