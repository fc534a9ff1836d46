"""Strict scalar hooks: JSON values to Python values, never coerced.

``type(v) is X`` rather than isinstance throughout: bool is a subclass of int and must not pass
as one. Each hook has cattrs' signature ``hook(value, type) -> structured``.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def json_type_name(value: object) -> str:
    """The JSON type name of a decoded value, for error texts."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class _WrongType(TypeError):
    def __init__(self, expected: str, value: object) -> None:
        super().__init__(f"expected {expected}, got {json_type_name(value)}")


# -- strict scalar hooks ----------------------------------------------------------------------
# ``type(v) is X`` rather than isinstance: bool is a subclass of int and must not pass as one.


def _str(v: object, _: object) -> str:
    if type(v) is str:
        return v
    raise _WrongType("string", v)


_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1


def _int(v: object, _: object) -> int:
    if type(v) is int:
        # Exchange integers are 64-bit; a larger one is corrupt input, and could not be
        # encoded again.
        if _INT_MIN <= v <= _INT_MAX:
            return v
        raise ValueError("integer out of 64-bit range")
    raise _WrongType("integer", v)


def _float(v: object, _: object) -> float:
    t = type(v)
    if t is float or t is int:
        return float(v)  # type: ignore[arg-type]
    if t is Decimal:
        return float(v)  # type: ignore[arg-type]
    raise _WrongType("number", v)


def _bool(v: object, _: object) -> bool:
    if type(v) is bool:
        return v
    raise _WrongType("boolean", v)


def _decimal_from_string(v: object, _: object) -> Decimal:
    if type(v) is str:
        try:
            d = Decimal(v)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {v[:40]!r}") from None
        if d.is_finite():
            return d
        raise ValueError("expected a finite decimal")
    raise _WrongType("decimal string", v)


def _decimal_from_number(v: object, _: object) -> Decimal:
    # The JSON parser for numeric protocols yields Decimal for every non-integer literal
    # (parse_float=Decimal), so no value ever passed through a binary float.
    t = type(v)
    if t is Decimal:
        if v.is_finite():  # type: ignore[attr-defined]
            return v  # type: ignore[return-value]
        raise ValueError("expected a finite decimal")
    if t is int:
        return Decimal(v)  # type: ignore[arg-type]
    raise _WrongType("number", v)


def _decimal_text(d: Decimal) -> str:
    # format "f" never uses exponent notation: 0.00000001 stays as written, not "1E-8".
    return format(d, "f")


def _iso_datetime(v: object, _: object) -> datetime:
    if type(v) is not str:
        raise _WrongType("ISO-8601 date-time string", v)
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        raise ValueError(f"not an ISO-8601 date-time: {v[:40]!r}") from None
    # A timestamp without offset is taken as UTC: every protocol here documents UTC.
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _iso_text(dt: datetime) -> str:
    """ISO-8601 text: ``Z`` for UTC, milliseconds when the microseconds allow it."""
    if dt.microsecond % 1000 == 0:
        text = dt.isoformat(timespec="milliseconds" if dt.microsecond else "seconds")
    else:
        text = dt.isoformat()
    if dt.utcoffset() == timedelta(0):
        text = text.rsplit("+", 1)[0] + "Z" if text.endswith("+00:00") else text
    return text


_MILLIS = tuple(timedelta(0, 0, ms * 1000) for ms in range(1000))
_MICROS = tuple(timedelta(0, 0, us) for us in range(1000))


def _time_pair(unit: int, name: str) -> Callable[[object, object], datetime]:
    """Hook for Cryptology's ``[seconds, fraction]``; ``unit`` is fractions per second.

    Integer arithmetic only (a float timestamp would round the microseconds), and no
    ``fromtimestamp``: the C library's ``gmtime`` applies leap seconds under a ``right/`` TZ.
    Building a ``timedelta`` is the costly step (~0.5 us), so the datetime of the last whole
    second is kept (feeds send many messages per second) and the fraction is added from a
    table of ready ``timedelta``s. ``base + fraction`` cannot overflow: the largest datetime
    ends at .999999 of its second.
    """
    scale = 1_000_000 // unit
    last: tuple[int, datetime] = (0, _EPOCH)

    def base_of(seconds: int) -> datetime:
        nonlocal last
        try:
            base = _EPOCH + timedelta(0, seconds)
        except OverflowError:
            raise ValueError(f"timestamp out of range: {seconds}") from None
        last = (seconds, base)  # one tuple, read in one step: safe if threads share the codec
        return base

    def structure(v: object, _: object) -> datetime:
        if type(v) is list and len(v) == 2:
            seconds, fraction = v
            if type(seconds) is int and type(fraction) is int and 0 <= fraction < unit:
                cached, base = last
                if seconds != cached:
                    base = base_of(seconds)
                if scale == 1000:
                    return base + _MILLIS[fraction]
                return base + _MILLIS[fraction // 1000] + _MICROS[fraction % 1000]
        # One-element pairs and every error.
        if type(v) is not list or not 1 <= len(v) <= 2:
            raise TypeError(f"expected [seconds, {name}], got {json_type_name(v)}")
        seconds = v[0]
        fraction = v[1] if len(v) == 2 else 0
        if type(seconds) is not int or type(fraction) is not int:
            raise TypeError(f"expected integers in [seconds, {name}]")
        if not 0 <= fraction < unit:
            raise ValueError(f"{name} out of range: {fraction}")
        micros = fraction * scale
        return base_of(seconds) + _MILLIS[micros // 1000] + _MICROS[micros % 1000]

    return structure


def _time_pair_out(unit: int) -> Callable[[datetime], list[int]]:
    def unstructure(dt: datetime) -> list[int]:
        delta = dt - _EPOCH
        return [delta.days * 86400 + delta.seconds, delta.microseconds // (1_000_000 // unit)]

    return unstructure


# -- strict containers ------------------------------------------------------------------------


def _literal_factory(t: Any) -> Callable[[object, object], Any]:
    # By value *and* JSON type: cattrs' own check lets True pass for 1 and 1.0 for 1.
    args = typing.get_args(t)
    allowed = {(type(v), v) for v in args}
    expected = " or ".join(json.dumps(v) for v in args)

    def fail(v: object) -> Any:
        raise ValueError(f"expected {expected}, got {json.dumps(v, default=str)[:40]}")

    if len(args) == 1:
        # Tags are one-value Literals: one identity test and one comparison, no tuple.
        (value,) = args
        value_type = type(value)

        def structure_one(v: object, _: object) -> Any:
            if type(v) is value_type and v == value:
                return v
            return fail(v)

        return structure_one

    value_types = {type(v) for v in args}
    if len(value_types) == 1 and value_types <= {str, int}:
        # `Literal["buy", "sell"]`: one type test, then a set lookup of the value.
        (value_type,) = value_types
        values = frozenset(args)

        def structure_same_type(v: object, _: object) -> Any:
            if type(v) is value_type and v in values:
                return v
            return fail(v)

        return structure_same_type

    def structure(v: object, _: object) -> Any:
        if (type(v), v) in allowed:
            return v
        return fail(v)

    return structure


def _nullable(inner: Callable[[object, object], Any]) -> Callable[[object, object], Any] | None:
    """A one-call hook for ``X | None`` when ``X``'s hook is one of the strict scalar hooks.

    Each returns exactly what ``None if v is None else inner(v, X)`` returns, and on a bad
    value calls ``inner`` itself so that the error is the same.
    """
    if inner is _str:

        def str_or_none(v: object, _: object) -> str | None:
            if type(v) is str or v is None:
                return v
            return _str(v, _)

        return str_or_none
    if inner is _int:

        def int_or_none(v: object, _: object) -> int | None:
            if (type(v) is int and _INT_MIN <= v <= _INT_MAX) or v is None:
                return v
            return _int(v, _)

        return int_or_none
    if inner is _bool:

        def bool_or_none(v: object, _: object) -> bool | None:
            if type(v) is bool or v is None:
                return v
            return _bool(v, _)

        return bool_or_none
    if inner is _decimal_from_string:

        def decimal_or_none(v: object, _: object) -> Decimal | None:
            if type(v) is str:
                try:
                    d = Decimal(v)
                except InvalidOperation:
                    return _decimal_from_string(v, _)
                if d.is_finite():
                    return d
            elif v is None:
                return None
            return _decimal_from_string(v, _)

        return decimal_or_none
    return None
