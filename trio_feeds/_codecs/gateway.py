"""The Trading gateway codec: frames to generated models and back.

Client requests carry ``action``; server control messages carry ``event``; channel data carries
``channel`` (and orders/positions/system events also an ``event`` such as ``"update"``, so
``channel`` is looked at first). Prices and amounts are JSON numbers on the wire; they are
parsed straight to :class:`decimal.Decimal`, never through a binary float.
"""

from __future__ import annotations

from collections.abc import Callable

from ..models import gateway as _models
from ..models.gateway import ClientMessage, ServerMessage
from ._base import Codec, JSONObject, Route, UnknownMessage, model_classes, tag_table

__all__ = ["Message", "codec", "decode", "encode"]

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
            if type(tag) is not str:
                return None, None  # unknown; never repr'd (it may be of any size or depth)
            return tag, table.get(tag)
    return None, None


codec = Codec(
    "gateway",
    model_classes(_models),
    _classify,
    numbers="json",
    # As _classify: each key only where the keys before it are absent or null.
    routes=[Route(key, table, before=_TAG_KEYS[:i]) for i, (key, table) in enumerate(_BY_KEY)],
)
"""The gateway :class:`~trio_feeds._codec.Codec`."""


# The codec's decode itself, typed: the sans-IO protocol calls it once per frame, without the
# call decode() adds.
decode_frame: Callable[[str | bytes], ServerMessage | ClientMessage | UnknownMessage] = codec.decode


def decode(frame: str | bytes) -> ServerMessage | ClientMessage | UnknownMessage:
    """Decode one frame (either direction). Unknown tags give :class:`~trio_feeds.UnknownMessage`.

    Raises:
        trio_feeds.DecodeError: malformed JSON or a field of the wrong type or value.
    """
    result: ServerMessage | ClientMessage | UnknownMessage = codec.decode(frame)
    return result


def encode(message: ServerMessage | ClientMessage | UnknownMessage) -> str:
    """Encode a message to its wire JSON (money as exact JSON numbers)."""
    return codec.encode(message)
