"""Trading gateway: typed messages and their codec.

Client requests carry ``action``; server control messages carry ``event``; channel data carries
``channel`` (and orders/positions/system events also an ``event`` such as ``"update"``, so
``channel`` is looked at first). Prices and amounts are JSON numbers on the wire; they are
parsed straight to :class:`decimal.Decimal`, never through a binary float.
"""

from __future__ import annotations

from typing import Any

from ._codec import Codec, JSONObject, UnknownMessage, model_classes, tag_table
from .models import gateway as _models
from .models.gateway import *  # noqa: F403 - the generated models are this module's API
from .models.gateway import ClientMessage, ServerMessage

__all__ = [  # noqa: PLE0604 - generated names
    *(cls.__name__ for cls in model_classes(_models)),
    "ClientMessage",
    "Message",
    "ServerMessage",
    "codec",
    "decode",
    "encode",
    "Credentials",
    "GatewayProtocol",
    "Signer",
    "hmac_sha256_signer",
    "open_feed",
]

Message = ServerMessage | ClientMessage
"""Any gateway message, either direction."""

# Order matters: data messages carry both `channel` and `event`.
_TAG_KEYS = ("channel", "event", "action")
_BY_TAG = tag_table(model_classes(_models), _TAG_KEYS)


_BY_KEY = tuple((key, {tag: cls for (k, tag), cls in _BY_TAG.items() if k == key}) for key in _TAG_KEYS)


def _classify(obj: JSONObject) -> tuple[str | None, type | None]:
    for key, table in _BY_KEY:
        tag = obj.get(key)
        if tag is not None:
            if not isinstance(tag, str):
                return repr(tag), None
            return tag, table.get(tag)
    return None, None


codec = Codec("gateway", model_classes(_models), _classify, numbers="json")
"""The gateway :class:`~trio_feeds._codec.Codec`."""


def decode(frame: str | bytes) -> ServerMessage | ClientMessage | UnknownMessage:
    """Decode one frame (either direction). Unknown tags give :class:`~trio_feeds.UnknownMessage`.

    Raises:
        trio_feeds.DecodeError: malformed JSON or a field of the wrong type or value.
    """
    result: ServerMessage | ClientMessage | UnknownMessage = codec.decode(frame)
    return result


def encode(message: ServerMessage | ClientMessage | UnknownMessage | Any) -> str:
    """Encode a message to its wire JSON (money as exact JSON numbers)."""
    return codec.encode(message)


# -- the feed ----------------------------------------------------------------------------------
# Imported here, after the codec exists: the protocol object imports this module's codec.
from contextlib import AbstractAsyncContextManager  # noqa: E402

from ._engine import Feed, open_protocol_feed  # noqa: E402
from ._sansio import Credentials  # noqa: E402
from ._sansio.gateway import GatewayProtocol, Signer, hmac_sha256_signer  # noqa: E402
from ._transport import Transport  # noqa: E402
from .config import FeedConfig  # noqa: E402


def open_feed(
    url: str,
    *,
    credentials: Credentials,
    config: FeedConfig | None = None,
    signer: Signer | None = None,
    server_heartbeat: float | None = 45.0,
    transport: Transport | None = None,
) -> AbstractAsyncContextManager[Feed]:
    """Open a reconnecting, authenticated feed to a trading gateway (``ws://host:port/ws``).

    ``async with gateway.open_feed(url, credentials=gateway.Credentials(key, secret)) as feed:``
    then ``await feed.subscribe(["trades"], exchange="binance", symbols=["BTCUSDT"])`` (returns
    once the server acknowledged) and ``async for item in feed`` (models and session events).

    Args:
        url: the gateway's WebSocket URL.
        credentials: API key and secret; the secret never appears in reprs, logs or errors.
        config: timeouts, backoff and buffer policy (default :class:`~trio_feeds.FeedConfig`).
        signer: ``signer(api_key, api_secret, timestamp_ms) -> signature``; default HMAC-SHA256
            hex of ``f"{timestamp}{api_key}"`` keyed by the secret.
        server_heartbeat: seconds of silence after which the connection is taken for dead
            (the server pings after 30 s idle); ``None`` to rely on WebSocket pings alone.
        transport: how WebSockets are opened (default trio-websocket).
    """
    config = config or FeedConfig()
    protocol = GatewayProtocol(
        url,
        credentials,
        signer=signer,
        request_timeout=config.request_timeout,
        server_heartbeat=server_heartbeat,
    )
    return open_protocol_feed(protocol, config, transport=transport)
