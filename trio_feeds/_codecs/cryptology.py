"""The Cryptology exchange codec: JSON messages to generated models and back.

Messages are JSON objects tagged by ``_cls`` (the first documents' form, names ending in
``Message``) or ``@type`` (the later documents, no suffix). A message sent in both forms is one
concept class (``BuyOrderPlaced``, what applications match) with one subclass per wire form
(``BuyOrderPlacedMessage`` for ``_cls``, ``BuyOrderPlacedV2`` for ``@type``). A frame decodes to
the subclass of its form, so ``encode`` writes back exactly that form: tag key, tag value and
the unit of ``time`` (microseconds, except milliseconds in the later ``AnonymousTrade``).
Concept classes themselves have no tag and are not encoded. Client messages (orders, RPC
requests) decode too: the codec reads either direction.

This codec reads the JSON text only. On the real market-data socket that text travels inside
binary XDR frames; :mod:`trio_feeds._codecs.cryptology_xdr` packs and unpacks those.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..models import cryptology as _models
from ..models.cryptology import ClientMessage, OrderBookAgg, ServerMessage
from ._base import Codec, JSONObject, Route, UnknownMessage, model_classes, tag_table
from ._scalars import DECIMAL_PATTERN, _decimal_from_string

__all__ = ["Message", "codec", "decode", "encode"]

Message = ServerMessage | ClientMessage
"""Any Cryptology message, either direction."""

_TAG_KEYS = ("_cls", "@type")
_BY_TAG = tag_table(model_classes(_models), _TAG_KEYS)
# Only classes with a tag are wire forms; concept classes (their bases) are for matching.
_FORMS = list(_BY_TAG.values())

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
    if type(tag) is str:
        return tag, table.get(tag)
    # Not a string: an unknown message (its raw object shows the value; a repr of it could
    # be megabytes, or nested too deeply to make).
    return None, None


_PRICE = DECIMAL_PATTERN.replace("(", "(?:")
_PRICE_KEYS = re.compile(f"{_PRICE}(?:\n{_PRICE})*")


def _check_price_keys(book: OrderBookAgg) -> None:
    # The schema's propertyNames of PriceLevels: every price (a key) is a decimal string, as
    # the amounts are. The keys stay text in the model; a bad one is a DecodeError here rather
    # than an error far away, where the books or normalization read it as a Decimal.
    for side, levels in (("buy_levels", book.buy_levels), ("sell_levels", book.sell_levels)):
        if not levels:
            continue
        # All keys at once: one regex pass over them joined by newlines (a key holding a
        # newline changes the count), rather than a Decimal built for each.
        joined = "\n".join(levels)
        if joined.count("\n") != len(levels) - 1 or _PRICE_KEYS.fullmatch(joined) is None:
            for price in levels:
                try:
                    _decimal_from_string(price, None)
                except ValueError as exc:
                    raise ValueError(f"{side}: price {exc}") from None


codec = Codec(
    "cryptology",
    _FORMS,
    _classify,
    numbers="string",
    checks={cls: _check_price_keys for cls in _FORMS if issubclass(cls, OrderBookAgg)},
    # As _classify: `_cls` first; `@type` only where `_cls` is absent or null.
    routes=(Route("_cls", _LEGACY), Route("@type", _LATER, before=("_cls",))),
)
"""The Cryptology :class:`~trio_feeds._codec.Codec`."""


# The codec's decode itself, typed: the sans-IO protocol calls it once per frame, without the
# call decode() adds.
decode_frame: Callable[[str | bytes], ServerMessage | ClientMessage | UnknownMessage] = codec.decode


def decode(frame: str | bytes) -> ServerMessage | ClientMessage | UnknownMessage:
    """Decode one JSON message (either direction). Unknown tags give :class:`~trio_feeds.UnknownMessage`.

    Raises:
        trio_feeds.DecodeError: malformed JSON or a field of the wrong type or value.
    """
    result: ServerMessage | ClientMessage | UnknownMessage = codec.decode(frame)
    return result


def encode(message: ServerMessage | ClientMessage | UnknownMessage) -> str:
    """Encode a message back to its wire JSON."""
    return codec.encode(message)
