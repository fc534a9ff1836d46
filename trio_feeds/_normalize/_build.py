"""Shared machinery of the mappings: fast item construction and dispatch by message class.

Normalizing must cost little next to decoding (benchmarks/normalize.py: a trade decodes in a
few microseconds), and a frozen attrs ``__init__`` spends most of its time going through
``object.__setattr__`` once per field. :func:`builder` makes a function that fills the slots
directly, which is what ``__init__`` does for these classes (no validators, converters or
post-init hooks, checked when the builder is made) in about half the time.
"""

from __future__ import annotations

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
    """A keyword-only function that builds ``cls`` as its ``__init__`` would, faster.

    Raises:
        TypeError: ``cls`` is not a frozen slotted attrs class whose ``__init__`` only stores
            its arguments (a validator, converter, factory default or post-init hook would be
            skipped).
    """
    fields = attrs.fields(cast(Any, cls))
    if "__slots__" not in cls.__dict__ or hasattr(cls, "__attrs_post_init__"):
        raise TypeError(f"{cls.__name__}: not a slotted attrs class without hooks")
    params = []
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    for f in fields:
        if f.validator is not None or f.converter is not None or isinstance(f.default, attrs.Factory):  # type: ignore[arg-type]  # Factory is a class
            raise TypeError(f"{cls.__name__}.{f.name}: has a validator, converter or factory")
        if f.default is attrs.NOTHING:
            params.append(f.name)
        else:
            namespace[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
        # The slot's own descriptor: what object.__setattr__ ends up calling, minus the lookup.
        namespace[f"_s_{f.name}"] = cls.__dict__[f.name].__set__
    body = "".join(f"    _s_{f.name}(_o, {f.name})\n" for f in fields)
    source = f"def build(*, {', '.join(params)}):\n    _o = _new(_cls)\n{body}    return _o\n"
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

    __slots__ = ("_table",)

    def __init__(self, handlers: Mapping[type, Handler], ignored: Iterable[type] = ()) -> None:
        table: dict[type, Handler] = {cls: _nothing for cls in ignored}
        table.update(handlers)
        for cls, handler in list(table.items()):
            for sub in _subclasses(cls):
                table.setdefault(sub, handler)
        self._table = table

    def __call__(self, message: object, received_at: datetime, symbols: Symbols) -> tuple[Normalized, ...]:
        """The items of ``message``."""
        try:
            handler = self._table[type(message)]
        except KeyError:
            handler = self._resolve(type(message))
        return handler(message, received_at, symbols)

    def _resolve(self, cls: type) -> Handler:
        # A subclass made after the table (e.g. by a user): its nearest registered base serves.
        handler = next((self._table[base] for base in cls.__mro__[1:] if base in self._table), _nothing)
        if len(self._table) < 1024:
            self._table[cls] = handler
        return handler

    def handles(self, cls: type) -> bool:
        """``cls`` has a handler that may give items (not an ignored or unknown class)."""
        handler = self._table.get(cls) or self._resolve(cls)
        return handler is not _nothing


def _subclasses(cls: type) -> list[type]:
    out: list[type] = []
    sub: type
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


def sorted_levels(
    protocol: str, tag: str, path: str, levels: Mapping[str, Decimal], descending: bool
) -> tuple[Level, ...]:
    """Levels keyed by decimal-string price, best first.

    Raises:
        DecodeError: a price key that is no finite decimal number.
    """
    try:
        out = sorted(((Decimal(price), amount) for price, amount in levels.items()), reverse=descending)
    except (ArithmeticError, ValueError):  # not a number; or NaN, which raises when compared
        out = None
    # NaN alone in a side is never compared, and the infinities sort to the ends: the ends tell.
    if out is None or (out and not (out[0][0].is_finite() and out[-1][0].is_finite())):
        raise DecodeError(protocol, "a price key is not a finite decimal number", tag=tag, path=path)
    return tuple(out)
