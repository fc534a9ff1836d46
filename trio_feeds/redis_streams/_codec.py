"""The entry format: normalized items and session events as Redis stream entries, both ways.

An entry has these fields (short names: every byte is repeated in every entry):

======  =========================================================================================
``k``   what the entry holds: an item tag (``trade``, ``fill``, ``book_snapshot``,
        ``book_update``, ``ticker``, ``order``, ``balance``, ``position``) or ``event``
``d``   the payload, JSON: for an item, the array of its field values in field order (without
        ``source``); for an event, ``{"f": feed, "t": event type, "e": number, "a": fields}``
``p``   the publisher instance that wrote it (``name/hex``: a new hex on every start)
``n``   that instance's sequence number in this stream (1, 2, ...): with ``p``, the entry's
        identity, which lets a publisher tell its own entry from another's after a lost reply
``x``   raw frames only (``k`` is ``raw``, ``d`` the frame): ``t`` text, ``b`` binary; with
        ``r``, the receive time (unix ns), and ``f``, the feed
``s``   optional: the exchange message the item came from, as its wire JSON (``encode`` of the
        protocol module); only for the four built-in protocols, and only when asked for
======  =========================================================================================

Decimals are JSON strings (``str(d)``, so ``Decimal("1.50")`` comes back with its exponent),
datetimes RFC 3339 (aware, their offset kept), enums their value: every field comes back equal
and of the same type.
"""

from __future__ import annotations

import importlib
import operator
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs
import msgspec

from .. import events as ev
from .. import normalized as nz
from .._normalize._build import builder
from ..errors import DecodeError
from ._events import PUBLISHER_EVENTS

__all__ = [
    "EVENT_TAG",
    "RAW_TAG",
    "EntryError",
    "decode_event",
    "decode_item",
    "encode_event",
    "encode_item",
    "encode_source",
    "item_tag",
]

EVENT_TAG: Final = b"event"
RAW_TAG: Final = b"raw"

_TAGS: Mapping[type, bytes] = {
    nz.Trade: b"trade",
    nz.Fill: b"fill",
    nz.BookSnapshot: b"book_snapshot",
    nz.BookUpdate: b"book_update",
    nz.Ticker: b"ticker",
    nz.OrderUpdate: b"order",
    nz.BalanceUpdate: b"balance",
    nz.PositionUpdate: b"position",
}

# The protocol modules whose messages can travel as `s` (wire JSON) and come back typed. Each
# is imported when an item of its exchange first needs it: a publisher of one exchange loads
# no other's codec and models (as a feed of one exchange does not).
_SOURCE_MODULES: Mapping[str, str] = {
    name: f"trio_feeds.{name}" for name in ("cryptology", "gateway", "onyx", "peatio")
}
_source_codecs: dict[str, tuple[Callable[[Any], str], Callable[[str], object]]] = {}


def _source_codec(exchange: str) -> tuple[Callable[[Any], str], Callable[[str], object]] | None:
    codec = _source_codecs.get(exchange)
    if codec is None and exchange in _SOURCE_MODULES:
        module = importlib.import_module(_SOURCE_MODULES[exchange])
        codec = _source_codecs[exchange] = (module.encode, module.decode)
    return codec


class EntryError(ValueError):
    """A stream entry is not in the format above (written by something else, or damaged)."""


@attrs.frozen
class _Spec:
    tag: bytes
    cls: type
    names: tuple[str, ...]
    decoder: msgspec.json.Decoder[Any]
    build: Callable[..., Any]


def _spec(cls: type, tag: bytes) -> _Spec:
    hints = typing.get_type_hints(cls.__mro__[1], vars(nz))
    names = tuple(f.name for f in attrs.fields(cls) if f.name != "source")
    row = tuple.__class_getitem__(tuple(hints[n] for n in names))
    return _Spec(tag, cls, names, msgspec.json.Decoder(row), builder(cls))


_SPECS: Mapping[type, _Spec] = {cls: _spec(cls, tag) for cls, tag in _TAGS.items()}
_BY_TAG: Mapping[bytes, _Spec] = {s.tag: s for s in _SPECS.values()}
_GETTERS: Mapping[type, Callable[[Any], tuple[Any, ...]]] = {
    cls: operator.attrgetter(*s.names) for cls, s in _SPECS.items()
}
_encoder = msgspec.json.Encoder()
_any_decoder = msgspec.json.Decoder()


def item_tag(item: object) -> bytes | None:
    """The ``k`` of a normalized item, or ``None`` when ``item`` is not one."""
    return _TAGS.get(type(item))


def encode_item(item: nz.Normalized) -> bytes:
    """The ``d`` payload of a normalized item."""
    return _encoder.encode(_GETTERS[type(item)](item))


def encode_source(item: nz.Normalized) -> bytes | None:
    """The ``s`` field: the item's source message as wire JSON, when its protocol is known."""
    if item.source is None:
        return None
    codec = _source_codec(item.exchange)
    if codec is None:
        return None
    return codec[0](item.source).encode()


def decode_item(tag: bytes, payload: bytes, source: bytes | None = None) -> nz.Normalized:
    """The normalized item of an entry (``source`` decoded with its protocol, when given).

    Raises:
        EntryError: an unknown tag or a payload that does not fit the tag's type.
    """
    spec = _BY_TAG.get(tag)
    if spec is None:
        raise EntryError(f"unknown entry kind {tag!r}")
    try:
        values = spec.decoder.decode(payload)
    except msgspec.DecodeError as exc:
        raise EntryError(f"bad {tag.decode()} payload: {exc}") from None
    item: nz.Normalized = spec.build(*values, None)
    if source is not None:
        codec = _source_codec(item.exchange)
        if codec is not None:
            try:
                object.__setattr__(item, "source", codec[1](source.decode()))
            except (DecodeError, UnicodeDecodeError) as exc:
                raise EntryError(f"bad source message: {exc}") from None
    return item


# -- session events ------------------------------------------------------------------------------

_EVENT_TYPES: Mapping[str, type] = {cls.__name__: cls for cls in ev.FEED_EVENT_TYPES}


def _plain(value: object) -> object:
    # Book keys may be tuples (("binance", "BTCUSDT")): JSON arrays, tuples again on the way back.
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _tuples(value: object) -> object:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def encode_event(event: object, feed: str, number: int) -> bytes:
    """The ``d`` payload of a session event of ``feed`` (the publisher's ``number``-th event)."""
    name = type(event).__name__
    if type(event) is ev.DecodeFailed:
        error = event.error
        fields: dict[str, object] = {
            "protocol": error.protocol,
            "reason": error.reason,
            "tag": error.tag,
            "path": error.path,
        }
    elif attrs.has(type(event)):
        fields = {a.name: _plain(getattr(event, a.name)) for a in attrs.fields(typing.cast(Any, type(event)))}
    else:
        raise TypeError(f"not a session event: {type(event).__name__}")
    return _encoder.encode({"f": feed, "t": name, "e": number, "a": fields})


def decode_event(payload: bytes) -> tuple[str, int, object]:
    """``(feed, number, event)`` of an event payload.

    Raises:
        EntryError: the payload is not an event this version knows.
    """
    try:
        data = _any_decoder.decode(payload)
        feed, name, number, fields = data["f"], data["t"], data["e"], data["a"]
    except (msgspec.DecodeError, KeyError, TypeError) as exc:
        raise EntryError(f"bad event payload: {exc}") from None
    cls = _event_class(name)
    try:
        if cls is ev.DecodeFailed:
            error = DecodeError(fields["protocol"], fields["reason"], tag=fields["tag"], path=fields["path"])
            return feed, number, ev.DecodeFailed(error)
        kwargs = {key: _tuples(value) for key, value in fields.items()}
        return feed, number, cls(**kwargs)
    except (KeyError, TypeError) as exc:
        raise EntryError(f"bad {name} event: {exc}") from None


def _event_class(name: object) -> type:
    cls = (_EVENT_TYPES.get(name) or PUBLISHER_EVENTS.get(name)) if isinstance(name, str) else None
    if cls is None:
        raise EntryError(f"unknown event type {name!r}")
    return cls
