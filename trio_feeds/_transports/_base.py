"""The engine's view of a WebSocket: :class:`Transport`, :class:`Connection` and their errors.

The engine only sees these, so each WebSocket library's types and quirks stay in its own
module (``fast.py`` on websockets' sans-IO protocol, ``tws.py`` on trio-websocket). What both
share lives here: URL handling, opening TCP/TLS, Close-frame arguments, and
:func:`map_exceptions`, the one place where library and socket errors become ours (the
pattern of httpcore's ``map_exceptions``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import ssl
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

import trio

from .._sansio._protocol import ConnectTarget

__all__ = [
    "ConnectFailed",
    "Connection",
    "HandshakeRejected",
    "Transport",
    "TransportClosed",
    "CONNECT_ERRORS",
    "STREAM_ERRORS",
    "map_exceptions",
    "redact_url",
]

ABNORMAL_CLOSURE = 1006
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

    async def send(self, frame: str | bytes) -> None:
        """Send one frame (``str``: text, ``bytes``: binary). Raises :class:`TransportClosed`."""

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


def split_url(url: str) -> tuple[str, int, str, bool]:
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


async def open_stream(host: str, port: int, tls: bool, ssl_context: ssl.SSLContext | None) -> trio.abc.Stream:
    """TCP to ``host:port``, and for ``wss:`` TLS over it with the TLS handshake done.

    The TLS handshake happens here, not inside the WebSocket library (where a TLS failure may
    only end a reader task). On any failure, cancellation included, the socket is closed.
    """
    tcp = await _open_tcp(host, port)
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


async def _open_tcp(host: str, port: int) -> trio.SocketStream:
    """``trio.open_tcp_stream(host, port)``; for an IP address, its one connect without the race.

    With one address there is nothing for Happy Eyeballs to race, and the race's machinery (a
    nursery, a task, events, cancel scopes) held about 3 KiB per connection while it lasted:
    a thousand feeds connecting at once left that much more resident memory per feed behind,
    pymalloc pools pinned by the long-lived objects made among them (benchmarks/throughput.py,
    memory). A failure is an ``OSError`` naming the address, as trio's is.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return await trio.open_tcp_stream(host, port)
    family = trio.socket.AF_INET6 if address.version == 6 else trio.socket.AF_INET
    sock = trio.socket.socket(family, trio.socket.SOCK_STREAM)
    try:
        await sock.connect((host, port))
    except BaseException as exc:  # cancellation included: the socket is closed either way
        sock.close()
        if isinstance(exc, OSError):
            raise OSError(exc.errno, f"could not connect to {host}:{port}: {_os_error_text(exc)}") from None
        raise
    return trio.SocketStream(sock)


def close_args(code: int, reason: str) -> tuple[int, str]:
    """``code`` if a Close frame may carry it (else 1000), and ``reason`` cut to fit the frame."""
    if code not in _SENDABLE_CODES:
        code = 1000
    # The Close reason is limited to 123 bytes; cut by characters, conservatively.
    return code, reason.encode()[:_MAX_CLOSE_REASON].decode(errors="ignore")


ErrorMap = Mapping[type[BaseException], Callable[[BaseException], Exception]]
"""Which exception types become which of ours (a factory per type); the first match wins."""


def _connect_failed(exc: BaseException) -> Exception:
    # trio.SSLStream reports a failed TLS handshake as a bare BrokenResourceError whose cause is
    # the ssl error: that cause is what says why ("certificate verify failed: ...").
    if isinstance(exc, trio.BrokenResourceError) and isinstance(exc.__cause__, ssl.SSLError):
        exc = exc.__cause__
    # Texts name the address only (what OSError and TLS errors say), never query or headers.
    # trio.open_tcp_stream raises "all attempts to connect to ... failed" with the errors of
    # the single attempts as its cause: name those (refused, unreachable), not the summary.
    cause = exc.__cause__
    if isinstance(cause, BaseExceptionGroup):
        causes = sorted({_os_error_text(e) for e in cause.exceptions if isinstance(e, OSError)})
        if causes:
            return ConnectFailed(f"{type(exc).__name__}: {exc}: {'; '.join(causes)}")
    return ConnectFailed(f"{type(exc).__name__}: {exc}")


def _os_error_text(exc: OSError) -> str:
    return os.strerror(exc.errno) if exc.errno else str(exc)


def _connection_lost(exc: BaseException) -> Exception:
    return TransportClosed(None, f"connection lost: {type(exc).__name__}")


CONNECT_ERRORS: ErrorMap = {
    # Refused, unreachable, DNS, TLS (ssl.SSLError is an OSError), a stream closed under us.
    OSError: _connect_failed,
    trio.BrokenResourceError: _connect_failed,
    trio.ClosedResourceError: _connect_failed,
}
"""Errors while opening a connection: all become :class:`ConnectFailed`."""

STREAM_ERRORS: ErrorMap = {
    trio.BrokenResourceError: _connection_lost,
    trio.ClosedResourceError: _connection_lost,
}
"""Errors of the byte stream under an open connection: all become :class:`TransportClosed`."""


@contextlib.contextmanager
def map_exceptions(mapping: ErrorMap, *, timeout: float | None = None) -> Iterator[None]:
    """Re-raise an exception of a type in ``mapping`` as what its factory makes of it.

    ``timeout`` (seconds, optional) bounds the block; running out raises :class:`ConnectFailed`
    naming the bound. The original exception is not chained: library and socket errors can
    carry request details (URLs with query strings) that must not reach our error texts.
    Our own errors pass through unchanged.
    """
    try:
        if timeout is None:
            yield
        else:
            with trio.fail_after(timeout):
                yield
    except trio.TooSlowError:
        raise ConnectFailed(f"no connection within connect_timeout ({timeout:g} s)") from None
    except (ConnectFailed, TransportClosed):
        raise
    except Exception as exc:
        for source, factory in mapping.items():
            if isinstance(exc, source):
                raise factory(exc) from None
        raise
