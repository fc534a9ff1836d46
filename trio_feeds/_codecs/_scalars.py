"""Strict scalar hooks: JSON values to Python values, never coerced.

``type(v) is X`` rather than isinstance throughout: bool is a subclass of int and must not pass
as one. Each hook has cattrs' signature ``hook(value, type) -> structured``.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .._types import WireTime, remember

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


# -- times ------------------------------------------------------------------------------------
# Every time decodes to an aware UTC datetime. Where the field's type fixes the wire form
# (EpochMillis, MicrosTime, ...), the datetime alone gives back the exact wire value. Where it
# does not (ISO text: "Z" or "+00:00", three or six fraction digits, an offset; a field that
# takes text or an integer), the decoded value is a WireTime that remembers what came in.


def _utc(dt: datetime) -> datetime:
    """``dt`` in UTC: a time without offset is taken as UTC (every protocol here documents UTC)."""
    tz = dt.tzinfo
    if tz is UTC:  # fromisoformat gives this very object for "Z" and "+00:00"
        return dt
    if tz is None:
        return dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        # The first or last hours of datetime's range with an offset that moves them outside
        # it: the instant is right, only not in UTC (nothing else can hold it).
        return dt


def _iso_canonical(dt: datetime) -> str:
    """ISO-8601 text: ``Z`` for UTC, milliseconds when the microseconds allow it."""
    if dt.microsecond % 1000 == 0:
        text = dt.isoformat(timespec="milliseconds" if dt.microsecond else "seconds")
    else:
        text = dt.isoformat()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def _iso_datetime(v: object, _: object) -> datetime:
    if type(v) is not str:
        raise _WrongType("ISO-8601 date-time string", v)
    try:
        dt = _utc(datetime.fromisoformat(v))
    except ValueError:
        raise ValueError(f"not an ISO-8601 date-time: {v[:40]!r}") from None
    if _is_canonical(v, dt.microsecond):
        return dt  # encode writes this very text: nothing to remember (the usual case)
    return remember(dt, v)


def _is_canonical(v: str, us: int) -> bool:
    """Whether ``v`` (parsed by ``fromisoformat``) is the text :func:`_iso_canonical` writes.

    That is ``YYYY-MM-DDTHH:MM:SS`` with ``.fff`` when the microseconds are whole
    milliseconds, ``.ffffff`` when not, none when zero, and ``Z``. Tested by shape rather than by
    formatting and comparing, which costs twice as much; the digits were checked by the parse.
    """
    n = len(v)
    return (
        v[-1] == "Z"
        and v[10] == "T"
        and v[4] == v[7] == "-"
        and v[13] == v[16] == ":"
        and v.isascii()
        and (
            (n == 20 and not us)
            or (n == 24 and v[19] == "." and us and not us % 1000)
            or (n == 27 and v[19] == "." and us % 1000 != 0)
        )
    )


def _iso_text(dt: datetime) -> str:
    """The wire text of an ISO-8601 field: the text that was decoded, else the canonical text."""
    if type(dt) is WireTime:
        wire = dt.wire
        if type(wire) is str:  # a remembered integer (Peatio) is no ISO text
            return wire
    return _iso_canonical(dt)


_MILLIS = tuple(timedelta(0, 0, ms * 1000) for ms in range(1000))
_MICROS = tuple(timedelta(0, 0, us) for us in range(1000))


class _Seconds:
    """The datetime of a whole second since the epoch, keeping the last one built.

    Building a ``timedelta`` is the costly step (~0.5 us). Feeds send many messages per second,
    so the hooks read :attr:`last` (one tuple, read in one step: safe if threads share a codec)
    and call :meth:`base` only when the second changed. Integer arithmetic only: a float
    timestamp would round the microseconds, and ``fromtimestamp`` goes through the C library's
    ``gmtime``, which applies leap seconds under a ``right/`` TZ.
    """

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: tuple[int, datetime] = (0, _EPOCH)

    def base(self, seconds: int) -> datetime:
        try:
            base = _EPOCH + timedelta(0, seconds)
        except OverflowError:
            raise ValueError(f"timestamp out of range: {seconds}") from None
        self.last = (seconds, base)
        return base


def _time_pair(unit: int, name: str) -> Callable[[object, object], datetime]:
    """Hook for Cryptology's ``[seconds, fraction]``; ``unit`` is fractions per second.

    The fraction is added from a table of ready ``timedelta``s. ``base + fraction`` cannot
    overflow: the largest datetime ends at .999999 of its second.
    """
    scale = 1_000_000 // unit
    seconds_cache = _Seconds()
    base_of = seconds_cache.base

    def structure(v: object, _: object) -> datetime:
        if type(v) is list and len(v) == 2:
            seconds, fraction = v
            if type(seconds) is int and type(fraction) is int and 0 <= fraction < unit:
                cached, base = seconds_cache.last
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


def _since_epoch(dt: datetime) -> timedelta:
    try:
        return dt - _EPOCH
    except TypeError:  # an int, a naive datetime, ...: say what a time field takes
        what = "a naive datetime" if isinstance(dt, datetime) else type(dt).__name__
        raise TypeError(f"a time field takes an aware datetime, not {what}") from None


def _time_pair_out(unit: int) -> Callable[[datetime], list[int]]:
    def unstructure(dt: datetime) -> list[int]:
        delta = _since_epoch(dt)
        return [delta.days * 86400 + delta.seconds, delta.microseconds // (1_000_000 // unit)]

    return unstructure


def _epoch_millis() -> Callable[[object, object], datetime]:
    """Hook for integer milliseconds since the Unix epoch (the second cached as above).

    The last value is kept too: a gateway frame repeats its time (the envelope's and the
    data's), and a datetime is immutable, so the same object serves both.
    """
    seconds_cache = _Seconds()
    base_of = seconds_cache.base
    last: tuple[int, datetime] = (0, _EPOCH)

    def structure(v: object, _: object) -> datetime:
        nonlocal last
        if type(v) is int:
            cached_v, value = last
            if v == cached_v:
                return value
            seconds, ms = divmod(v, 1000)
            cached, base = seconds_cache.last
            if seconds != cached:
                base = base_of(seconds)
            value = base + _MILLIS[ms]
            last = (v, value)
            return value
        raise _WrongType("integer (milliseconds since the Unix epoch)", v)

    return structure


def _epoch_seconds() -> Callable[[object, object], datetime]:
    """Hook for integer seconds since the Unix epoch."""
    seconds_cache = _Seconds()
    base_of = seconds_cache.base

    def structure(v: object, _: object) -> datetime:
        if type(v) is int:
            cached, base = seconds_cache.last
            return base if v == cached else base_of(v)
        raise _WrongType("integer (seconds since the Unix epoch)", v)

    return structure


def _epoch_out(unit: int) -> Callable[[datetime], int]:
    """Unstructure hook: ``unit`` per second since the epoch, floored."""
    micros_per_unit = 1_000_000 // unit

    def unstructure(dt: datetime) -> int:
        delta = _since_epoch(dt)
        return (delta.days * 86400 + delta.seconds) * unit + delta.microseconds // micros_per_unit

    return unstructure


def _iso_or_epoch_seconds() -> Callable[[object, object], datetime]:
    """Hook for a field sent as ISO-8601 text or integer seconds; the value remembers which.

    ISO text is the form ``encode`` writes for a value without memory, so canonical text needs
    none (see :func:`_iso_datetime`); an integer always is remembered.
    """
    seconds = _epoch_seconds()
    # The last remembered integer and its value: a datetime is immutable, so one object can
    # serve every field and message of the same second (created_at and updated_at often are).
    last: tuple[int, datetime] = (0, remember(_EPOCH, 0))

    def structure(v: object, _: object) -> datetime:
        nonlocal last
        if type(v) is str:
            return _iso_datetime(v, _)
        if type(v) is int:
            cached, value = last
            if v != cached:
                value = remember(seconds(v, _), v)
                last = (v, value)
            return value
        raise _WrongType("ISO-8601 date-time string or integer (seconds since the Unix epoch)", v)

    return structure


def _iso_or_epoch_seconds_out(dt: datetime) -> str | int:
    if type(dt) is WireTime:
        return dt.wire
    return _iso_canonical(dt)


_DIGITS = re.compile(r"[0-9]{1,11}")  # ASCII digits only (str.isdigit takes others), years < 5138


def _epoch_seconds_or_digits() -> Callable[[object, object], datetime]:
    """Hook for integer seconds sent as a JSON integer or as a string of digits (Peatio tickers).

    The value remembers which, so ``encode`` writes back the integer or the exact text.
    """
    seconds = _epoch_seconds()

    def structure(v: object, _: object) -> datetime:
        if type(v) is int:
            return remember(seconds(v, _), v)
        if type(v) is str:
            if _DIGITS.fullmatch(v) is None:
                raise ValueError(f"not a number of seconds: {v[:40]!r}")
            return remember(seconds(int(v), _), v)
        raise _WrongType("integer or digit string (seconds since the Unix epoch)", v)

    return structure


_whole_seconds = _epoch_out(1)


def _epoch_seconds_or_digits_out(dt: datetime) -> str | int:
    if type(dt) is WireTime:
        return dt.wire
    return _whole_seconds(dt)


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
