"""Cryptology exchange: typed messages and their codec.

Server messages are JSON objects tagged by ``_cls`` (the documents' form, names ending in
``Message``) or ``@type`` (later versions, no suffix). Both decode; each wire form has its own
class (``BuyOrderPlacedMessage`` and ``BuyOrderPlaced``), so ``encode`` writes back exactly the
form that was received. ``time`` pairs become aware UTC datetimes (microseconds for order and
wallet messages, milliseconds for the market-data ``AnonymousTrade``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._codec import Codec, JSONObject, UnknownMessage, model_classes, tag_table
from .models import cryptology as _models
from .models.cryptology import *  # noqa: F403 - the generated models are this module's API
from .models.cryptology import ServerMessage

__all__ = [  # noqa: PLE0604 - generated names
    *(cls.__name__ for cls in model_classes(_models)),
    "Message",
    "ServerMessage",
    "codec",
    "decode",
    "encode",
    "CryptologyProtocol",
    "open_feed",
]

Message = ServerMessage
"""Any Cryptology server message."""

_TAG_KEYS = ("_cls", "@type")
_BY_TAG = tag_table(model_classes(_models), _TAG_KEYS)


_LEGACY = {tag: cls for (key, tag), cls in _BY_TAG.items() if key == "_cls"}
_LATER = {tag: cls for (key, tag), cls in _BY_TAG.items() if key == "@type"}


def _classify(obj: JSONObject) -> tuple[str | None, type | None]:
    # `_cls` first, then `@type`; one table per key (no tuple key to build per frame).
    tag = obj.get("_cls")
    table = _LEGACY
    if tag is None:
        tag = obj.get("@type")
        if tag is None:
            return None, None
        table = _LATER
    if isinstance(tag, str):
        return tag, table.get(tag)
    return repr(tag), None


codec = Codec("cryptology", model_classes(_models), _classify, numbers="string")
"""The Cryptology :class:`~trio_feeds._codec.Codec`."""


def decode(frame: str | bytes) -> ServerMessage | UnknownMessage:
    """Decode one frame. Unknown tags give :class:`~trio_feeds.UnknownMessage`.

    Raises:
        trio_feeds.DecodeError: malformed JSON or a field of the wrong type or value.
    """
    result: ServerMessage | UnknownMessage = codec.decode(frame)
    return result


def encode(message: ServerMessage | UnknownMessage | Any) -> str:
    """Encode a message back to its wire JSON."""
    return codec.encode(message)


# -- the feed ----------------------------------------------------------------------------------
# Imported here, after the codec exists: the protocol object imports this module's codec.
from contextlib import AbstractAsyncContextManager  # noqa: E402

from ._engine import Feed, open_protocol_feed  # noqa: E402
from ._sansio.cryptology import CryptologyProtocol  # noqa: E402
from ._transport import Transport  # noqa: E402
from .config import FeedConfig  # noqa: E402


def open_feed(
    url: str,
    *,
    trade_pairs: Iterable[str] | None = None,
    config: FeedConfig | None = None,
    server_heartbeat: float | None = 15.0,
    transport: Transport | None = None,
) -> AbstractAsyncContextManager[Feed]:
    """Open a reconnecting feed of Cryptology market data (plain, unauthenticated JSON).

    The server streams every trade pair; ``trade_pairs`` (and ``feed.subscribe("BTC_USD")``)
    filter on our side, since the protocol has no subscribe message.

    Args:
        url: the market-data WebSocket URL.
        trade_pairs: deliver only these pairs (default: all).
        config: timeouts, backoff and buffer policy (default :class:`~trio_feeds.FeedConfig`).
        server_heartbeat: the server sends something at least this often (seconds); longer
            silence means a dead connection. ``None`` to rely on WebSocket pings alone.
        transport: how WebSockets are opened (default trio-websocket).
    """
    protocol = CryptologyProtocol(url, trade_pairs=trade_pairs, server_heartbeat=server_heartbeat)
    return open_protocol_feed(protocol, config, transport=transport)
