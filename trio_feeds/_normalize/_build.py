"""Shared machinery of the mappings: fast item construction and dispatch by message class.

Normalizing must cost little next to decoding (benchmarks/normalize.py: a trade decodes in a
few microseconds). Two costs dominate building a frozen attrs object of a dozen fields or more:
passing the values as keywords (CPython matches each keyword against the parameter names) and
``object.__setattr__`` once per field. :func:`builder` makes a function that takes the values
positionally, stores them in an instance of the class's mutable base (plain attribute stores,
which the interpreter specialises for slots) and then sets the instance's class to the frozen
one: the same object ``__init__`` makes (no validators, converters or post-init hooks: checked
when the builder is made) in about a fifth of the time. The mappings' tests compare every
field of every item.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

import attrs

from ..errors import DecodeError
from ..normalized import Level, Normalized, Symbols

__all__ = ["NOTHING", "Dispatch", "Handler", "builder", "sorted_levels"]

T = TypeVar("T")

Handler = Callable[[Any, datetime, Symbols], tuple[Normalized, ...]]
"""One mapping: ``(message, received_at, symbols) -> items``."""

NOTHING: tuple[Normalized, ...] = ()


def _nothing(message: object, received_at: datetime, symbols: Symbols) -> tuple[Normalized, ...]:
    return NOTHING


def builder(cls: type[T]) -> Callable[..., T]:
    """A function that builds ``cls`` from every field, in field order, as ``__init__`` would.

    ``cls`` is a frozen attrs class that adds nothing to the mutable slotted attrs class it
    derives from (the layout of :mod:`trio_feeds.normalized`). Call the builder with positional
    arguments, one per field in the order of ``attrs.fields(cls)``: with a dozen fields or more,
    passing keywords costs more than building the object.

    Raises:
        TypeError: ``cls`` is not of that layout, or its ``__init__`` does more than store its
            arguments (a validator, converter or post-init hook would be skipped).
    """
    base: type = cls.__mro__[1]
    if not (attrs.has(cls) and attrs.has(base)) or cls.__basicsize__ != base.__basicsize__:
        raise TypeError(f"{cls.__name__}: not a frozen class over a slotted attrs base holding its fields")
    fields = attrs.fields(cast(Any, cls))
    if (
        base.__setattr__ is not object.__setattr__
        or [f.name for f in fields] != [f.name for f in attrs.fields(base)]
        or any(hasattr(c, "__attrs_post_init__") for c in (cls, base))
        or any(f.validator is not None or f.converter is not None for f in fields)
    ):
        raise TypeError(f"{cls.__name__}: its __init__ does more than store the fields")
    params = ", ".join(f.name for f in fields)
    body = "".join(f"    _o.{f.name} = {f.name}\n" for f in fields)
    source = f"def build({params}):\n    _o = _new(_base)\n{body}    _o.__class__ = _cls\n    return _o\n"
    namespace: dict[str, Any] = {"_new": object.__new__, "_base": base, "_cls": cls}
    exec(compile(source, f"<trio_feeds builder {cls.__qualname__}>", "exec"), namespace)
    build: Callable[..., T] = namespace["build"]
    build.__qualname__ = f"build_{cls.__qualname__}"
    return build


class Dispatch:
    """Calls the handler registered for a message's class; unknown classes give no items.

    A handler registered for a class also serves its subclasses (a Cryptology concept class
    serves both of its wire forms), found once and then looked up by ``type(message)`` in one
    dict. A class registered itself wins over its parent's handler.
    """

    __slots__ = ("table",)

    def __init__(self, handlers: Mapping[type, Handler], ignored: Iterable[type] = ()) -> None:
        table: dict[type, Handler] = {cls: _nothing for cls in ignored}
        table.update(handlers)
        for cls, handler in list(table.items()):
            for sub in _subclasses(cls):
                table.setdefault(sub, handler)
        self.table = table
        """Handler by message class; the mappings look it up themselves (one call less)."""

    def __call__(self, message: object, received_at: datetime, symbols: Symbols) -> tuple[Normalized, ...]:
        """The items of ``message``."""
        try:
            handler = self.table[type(message)]
        except KeyError:
            handler = self.resolve(type(message))
        return handler(message, received_at, symbols)

    def resolve(self, cls: type) -> Handler:
        """The handler of a class not in :attr:`table` (then remembered, up to a bound).

        A subclass made after the table (e.g. by a user) is served by its nearest registered
        base; any other class gives no items.
        """
        # A subclass made after the table (e.g. by a user): its nearest registered base serves.
        handler = next((self.table[base] for base in cls.__mro__[1:] if base in self.table), _nothing)
        if len(self.table) < 1024:
            self.table[cls] = handler
        return handler

    def handles(self, cls: type) -> bool:
        """``cls`` has a handler that may give items (not an ignored or unknown class)."""
        handler = self.table.get(cls) or self.resolve(cls)
        return handler is not _nothing


def _subclasses(cls: type) -> list[type]:
    out: list[type] = []
    sub: type
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


# Price text -> Decimal. Books repeat the same few hundred prices message after message, and
# Decimal(str) is most of a whole-book normalization (50 levels: ~7 of ~9 us). Decimals are
# immutable, so sharing them is safe; the cache is emptied when full rather than tracking use
# (a moving market's old prices simply fall out at the next clear).
_PRICES: dict[str, Decimal] = {}
_PRICES_MAX = 8192


_first = operator.itemgetter(0)


def _price(text: str) -> Decimal:
    price = _PRICES.get(text)
    if price is None:
        price = Decimal(text)  # raises before caching anything that is not a number
        if len(_PRICES) >= _PRICES_MAX:
            _PRICES.clear()
        _PRICES[text] = price
    return price


def sorted_levels(
    protocol: str, tag: str, path: str, levels: Mapping[str, Decimal] | None, descending: bool
) -> tuple[Level, ...]:
    """Levels keyed by decimal-string price, best first (an absent side has none).

    Raises:
        DecodeError: a price key that is no finite decimal number.
    """
    if not levels:
        return ()
    try:
        try:  # the usual case, every price seen before: no Python call per level
            prices = [_PRICES[text] for text in levels]
        except KeyError:
            prices = [_price(text) for text in levels]
        out = list(zip(prices, levels.values(), strict=True))
        # By price alone (comparing the tuples would test prices for equality first, then
        # order them: twice the Decimal comparisons); near free when already in order.
        out.sort(key=_first, reverse=descending)
    except (ArithmeticError, ValueError):  # not a number; or NaN, which raises when compared
        out = None
    # NaN alone in a side is never compared, and the infinities sort to the ends: the ends tell.
    if out is None or (out and not (out[0][0].is_finite() and out[-1][0].is_finite())):
        raise DecodeError(protocol, "a price key is not a finite decimal number", tag=tag, path=path)
    return tuple(out)
