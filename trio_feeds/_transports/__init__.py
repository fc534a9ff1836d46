"""Transports: how the engine opens WebSockets (see :mod:`trio_feeds.transports` for users).

``_base`` holds the interface the engine sees; ``fast`` (the default, websockets' sans-IO
protocol) and ``tws`` (trio-websocket, loaded only when used) implement it.
"""

from __future__ import annotations

from ._base import ConnectFailed, Connection, HandshakeRejected, Transport, TransportClosed, redact_url

__all__ = ["ConnectFailed", "Connection", "HandshakeRejected", "Transport", "TransportClosed", "redact_url"]
