"""The Peatio Ranger codec: frames to generated models and back.

Every server frame is a one-key object, ``{"<stream>": payload}``: ``{"btcusd.trades": {...}}``,
``{"order": {...}}``, and the replies ``{"success": {...}}`` / ``{"error": {...}}``. ``decode``
returns a :class:`StreamMessage` holding the stream name and the typed payload, so ``encode``
can write the frame back. Client requests (``{"jwt": ...}``, ``{"event": "subscribe", ...}``)
decode to their own classes. The later form's text ``ping``/``pong`` frames are not JSON and
never reach this codec.
"""

from __future__ import annotations

import json
import re
from typing import Any, Generic, TypeVar

import attrs

from ..errors import DecodeError
from ..models import peatio as _models
from ..models.peatio import (
    AuthRequest,
    ClientMessage,
    DepositAddress,
    Error,
    MarketUpdate,
    Order,
    OrderBookIncrement,
    OrderBookSnapshot,
    PublicTrades,
    SubscribeRequest,
    Success,
    Trade,
    UnsubscribeRequest,
)
from ._base import Codec, JSONObject, UnknownMessage, model_classes
from ._converter import constructor

PUBLIC_CLASSES = [c for c in model_classes(_models) if not c.__name__.endswith("Frame")]

__all__ = ["PUBLIC_CLASSES", "Payload", "StreamMessage", "codec", "decode", "encode", "market_of"]

Payload = (
    MarketUpdate
    | PublicTrades
    | OrderBookSnapshot
    | OrderBookIncrement
    | Order
    | Trade
    | DepositAddress
    | Success
    | Error
)
"""Any payload a Ranger server frame can carry."""

P = TypeVar("P", bound=Payload)


@attrs.define(kw_only=True)
class StreamMessage(Generic[P]):
    """A server frame: the stream it came on and its typed payload.

    Attributes:
        stream: the frame's key: ``"btcusd.trades"``, ``"order"``, ``"success"``, ...
        data: the payload (``PublicTrades``, ``Order``, ``Success``, ...).
    """

    stream: str
    data: P

    @property
    def market(self) -> str | None:
        """The market of a public stream (``"btcusd"`` for ``"btcusd.trades"``), else None."""
        return market_of(self.stream)


_new_stream_message = constructor(StreamMessage, ["stream", "data"]) or StreamMessage
"""Builds a StreamMessage without ``type.__call__``'s keyword packing (see ``_constructor``)."""

# The same patterns as the `*Frame` defs of schemas/peatio.json.
_MARKET_STREAMS: list[tuple[re.Pattern[str], type]] = [
    (re.compile(r"^[a-z0-9_]+\.update$"), MarketUpdate),
    (re.compile(r"^[a-z0-9_]+\.trades$"), PublicTrades),
    (re.compile(r"^[a-z0-9_]+\.ob-snap$"), OrderBookSnapshot),
    (re.compile(r"^[a-z0-9_]+\.ob-inc$"), OrderBookIncrement),
]
_NAMED_STREAMS: dict[str, type] = {
    "order": Order,
    "trade": Trade,
    "deposit_address": DepositAddress,
    "success": Success,
    "error": Error,
}
_EVENTS: dict[str, type] = {"subscribe": SubscribeRequest, "unsubscribe": UnsubscribeRequest}


def market_of(stream: str) -> str | None:
    """The market part of a public stream name, or None for private streams and replies."""
    market, dot, _ = stream.partition(".")
    return market if dot else None


def _match_payload_class(stream: str) -> type | None:
    cls = _NAMED_STREAMS.get(stream)
    if cls is not None:
        return cls
    for pattern, candidate in _MARKET_STREAMS:
        if pattern.match(stream):
            return candidate
    return None


_PAYLOAD_CLASSES: dict[str, type | None] = {}


def _payload_class(stream: str) -> type | None:
    # A feed uses a handful of streams: remember the answer instead of running the patterns
    # on every frame (bounded, in case a server invents stream names).
    try:
        return _PAYLOAD_CLASSES[stream]
    except KeyError:
        cls = _match_payload_class(stream)
        # Only short names: a server could send a thousand megabyte-long keys.
        if len(_PAYLOAD_CLASSES) < 1024 and len(stream) <= 128:
            _PAYLOAD_CLASSES[stream] = cls
        return cls


def _classify_client(obj: JSONObject) -> tuple[str | None, type | None]:
    event = obj.get("event")
    if event is not None:
        # A non-string event is unknown, its tag None (never repr'd: it may be of any size).
        return (event, _EVENTS.get(event)) if type(event) is str else (None, None)
    if "jwt" in obj:
        return "jwt", AuthRequest
    return None, None


class _RangerCodec(Codec):
    """Codec whose server frames are ``{stream: payload}`` envelopes."""

    def decode_object(self, obj: JSONObject) -> Any:
        if len(obj) == 1:
            ((stream, payload),) = obj.items()
            cls = _payload_class(stream)
            if cls is not None:
                try:
                    data = self._structure[cls](payload, cls)
                except Exception:  # noqa: BLE001 - re-raised below as DecodeError with its path
                    raise self._error_at(payload, cls, stream) from None
                return _new_stream_message(stream=stream, data=data)
            if "jwt" not in obj:
                return self.unknown(stream, obj)
        return super().decode_object(obj)

    def _error_at(self, payload: Any, cls: type, stream: str) -> DecodeError:
        """Why ``payload`` is not a ``cls``, with its path relative to the frame (``$.<stream>...``)."""
        path, reason = self._explain(payload, cls)
        key = f".{stream}" if re.fullmatch(r"[A-Za-z_]\w*", stream) else f"[{json.dumps(stream)}]"
        return DecodeError(self.protocol, reason, tag=stream, path="$" + key + path[1:])

    def unstructure(self, message: Any) -> JSONObject:
        if isinstance(message, StreamMessage):
            return {message.stream: super().unstructure(message.data)}
        return super().unstructure(message)


codec = _RangerCodec("peatio", PUBLIC_CLASSES, _classify_client, numbers="string")
"""The Peatio Ranger :class:`~trio_feeds._codec.Codec`."""


def decode(frame: str | bytes) -> StreamMessage[Payload] | ClientMessage | UnknownMessage:
    """Decode one frame (either direction). Unknown streams give :class:`~trio_feeds.UnknownMessage`.

    Raises:
        trio_feeds.DecodeError: malformed JSON or a field of the wrong type or value.
    """
    result: StreamMessage[Payload] | ClientMessage | UnknownMessage = codec.decode(frame)
    return result


def encode(message: StreamMessage[Any] | ClientMessage | UnknownMessage) -> str:
    """Encode a message to its wire JSON."""
    return codec.encode(message)
