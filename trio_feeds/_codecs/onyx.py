"""The Onyx codec: frames to generated models and back.

Requests carry an ``id`` and a ``method``; the server answers each valid request with a
``Response`` of the same ``id`` and ``method`` and pushes events tagged by ``channel``. The
``dashboards`` channel sends the full list first (``DashboardsSnapshotEvent``, message_type 0)
and then one dashboard per event (``DashboardsIncrementEvent``: 1 update, 2 create, 3 delete).
"""

from __future__ import annotations

import typing
from collections.abc import Callable

from ..models import onyx as _models
from ..models.onyx import (
    AuthRequest,
    ClientMessage,
    DashboardsIncrementEvent,
    DashboardsSnapshotEvent,
    Response,
    ServerInfoEvent,
    ServerMessage,
    SubscribeRequest,
    TickersEvent,
    TickersFilter,
    UnsubscribeRequest,
)
from ._base import Codec, JSONObject, Route, UnknownMessage, model_classes

__all__ = ["Message", "codec", "decode", "encode"]

Message = ServerMessage | ClientMessage
"""Any Onyx message, either direction."""

_CHANNELS: dict[str, type] = {"server_info": ServerInfoEvent, "tickers": TickersEvent}
_REQUESTS: dict[str, type] = {
    "auth": AuthRequest,
    "subscribe": SubscribeRequest,
    "unsubscribe": UnsubscribeRequest,
}

# The methods whose replies the schema models: `Response.method`'s values.
_RESPONSE_METHODS = frozenset(typing.get_args(typing.get_type_hints(Response)["method"]))


def _classify(obj: JSONObject) -> tuple[str | None, type | None]:
    channel = obj.get("channel")
    method = obj.get("method")
    if "message_type" in obj or ("message" in obj and "method" not in obj):
        # An event. `dashboards` has two shapes, told apart by message_type.
        if type(channel) is not str:
            return None, None  # no channel, or not a string: unknown (never repr'd: any size)
        if channel == "dashboards":
            message_type = obj.get("message_type")
            snapshot = type(message_type) is int and message_type == 0
            return channel, DashboardsSnapshotEvent if snapshot else DashboardsIncrementEvent
        return channel, _CHANNELS.get(channel)
    if type(method) is str:
        # A response has `error`/`message`; a request has neither. A reply to a method the
        # schema does not model (the server has more, e.g. `order`) is unknown, not an error.
        if "error" in obj or "message" in obj:
            return method, Response if method in _RESPONSE_METHODS else None
        return method, _REQUESTS.get(method)
    return None, None


def _check_tickers_filter(value: TickersFilter) -> None:
    # The schema's "products or product_groups" rule, which the generated class cannot express.
    if value.products is None and value.product_groups is None:
        raise ValueError("a tickers filter needs products or product_groups")


codec = Codec(
    "onyx",
    model_classes(_models),
    _classify,
    numbers="string",
    checks={TickersFilter: _check_tickers_filter},
    # Events with `message_type` (which _classify reads as events) and a plain channel; the
    # two `dashboards` shapes share a channel and take the strict path.
    routes=(Route("channel", _CHANNELS, require=("message_type",)),),
)
"""The Onyx :class:`~trio_feeds._codec.Codec`."""


# The codec's decode itself, typed: the sans-IO protocol calls it once per frame, without the
# call decode() adds.
decode_frame: Callable[[str | bytes], ServerMessage | ClientMessage | UnknownMessage] = codec.decode


def decode(frame: str | bytes) -> ServerMessage | ClientMessage | UnknownMessage:
    """Decode one frame (either direction). Unknown channels/methods give :class:`~trio_feeds.UnknownMessage`.

    Raises:
        trio_feeds.DecodeError: malformed JSON or a field of the wrong type or value.
    """
    result: ServerMessage | ClientMessage | UnknownMessage = codec.decode(frame)
    return result


def encode(message: ServerMessage | ClientMessage | UnknownMessage) -> str:
    """Encode a message to its wire JSON."""
    return codec.encode(message)
