"""WebSocket transports a feed can run on: pass one as ``transport=`` to any ``open_feed``.

* :class:`FastTransport` (the default): websockets' sans-IO protocol driven straight from the
  feed's reader, no task or channel per message. It passes the same fault matrix as the other
  and delivers several times more messages per second (``benchmarks/throughput.py``).
* :class:`TrioWebsocketTransport`: trio-websocket. Its reader task hands every message over a
  channel, which caps it at a few tens of thousands of frames per second.

Both take no required arguments and behave the same towards the engine: the same errors
(:class:`ConnectFailed`, :class:`HandshakeRejected`, :class:`TransportClosed`), close codes,
bounded close and cleanup on cancellation.

``websockets_sansio()`` and ``trio_websocket()`` are shorthands for the two constructors.
"""

from __future__ import annotations

import ssl

from ._transport import ConnectFailed, Connection, HandshakeRejected, Transport, TransportClosed
from ._transport import WebSocketTransport as TrioWebsocketTransport
from ._transport_fast import FastTransport

__all__ = [
    "ConnectFailed",
    "Connection",
    "FastTransport",
    "HandshakeRejected",
    "Transport",
    "TransportClosed",
    "TrioWebsocketTransport",
    "trio_websocket",
    "websockets_sansio",
]


def trio_websocket(*, ssl_context: ssl.SSLContext | None = None) -> TrioWebsocketTransport:
    """The trio-websocket transport."""
    return TrioWebsocketTransport(ssl_context=ssl_context)


def websockets_sansio(
    *, ssl_context: ssl.SSLContext | None = None, receive_chunk: int = 65536
) -> FastTransport:
    """The fast transport (the default), on websockets' sans-IO protocol."""
    return FastTransport(ssl_context=ssl_context, receive_chunk=receive_chunk)
