"""WebSocket transports a feed can run on: pass one as ``transport=`` to any ``open_feed``.

* :class:`FastTransport` (the default): websockets' sans-IO protocol driven straight from the
  feed's reader, no task or channel per message. It passes the same fault matrix as the other
  and delivers several times more messages per second (``benchmarks/throughput.py``).
* :class:`TrioWebsocketTransport`: trio-websocket. Its reader task hands every message over a
  channel, which caps it at a few tens of thousands of frames per second. trio-websocket is
  imported only when this name is first used.

Both take no required arguments and behave the same towards the engine: the same errors
(:class:`ConnectFailed`, :class:`HandshakeRejected`, :class:`TransportClosed`), close codes,
bounded close and cleanup on cancellation.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._transports import ConnectFailed, Connection, HandshakeRejected, Transport, TransportClosed
from ._transports.fast import FastTransport

__all__ = [
    "ConnectFailed",
    "Connection",
    "FastTransport",
    "HandshakeRejected",
    "Transport",
    "TransportClosed",
    "TrioWebsocketTransport",
]

if TYPE_CHECKING:
    from ._transports.tws import TrioWebsocketTransport


def __getattr__(name: str) -> Any:
    if name == "TrioWebsocketTransport":
        value = importlib.import_module(
            "._transports.tws", __name__.rpartition(".")[0]
        ).TrioWebsocketTransport
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
