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
from itertools import chain
from typing import Any

from .._types import WireTime, remember

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# -- what is accepted (README "Decoding frames", schemas/README.md) ---------------------------

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
"""Every JSON integer field holds a signed 64-bit integer.

That is what the exchanges' databases and every mainstream JSON library round-trip; a larger
value is corrupt input. The schemas do not repeat the bound on each field (schemas/README.md);
fields whose schema gives a narrower ``minimum``/``maximum`` are checked against that too.
"""

DECIMAL_PATTERN = r"-?[0-9]+(\.[0-9]+)?"
"""A decimal string: ASCII digits, an optional leading minus, an optional fraction.

The ``DecimalString`` pattern of every schema is this, anchored (``^...$``): no sign ``+``, no
exponent, no blank, no ``_``, no other digits than ASCII, no leading or trailing point.
"""

MAX_DEPTH = 64
"""How deep JSON kept as it is (an unknown message, an opaque object) may nest.

Real messages nest a few levels. A value nested thousands of levels deep would make ``repr``,
``==``, ``copy`` or ``encode`` of the message exceed Python's recursion limit later, far from
the frame that carried it; it is refused at decode time instead.
"""


def nested_deeper_than(value: object, limit: int) -> bool:
    """Whether arrays/objects in ``value`` nest more than ``limit`` levels (``[]`` is one level)."""
    t = type(value)
    if t is dict:
        items: Any = value.values()  # type: ignore[attr-defined]
    elif t is list:
        items = value
    else:
        return False
    if limit < 1:
        return True
    for item in items:
        ti = type(item)
        if (ti is dict or ti is list) and nested_deeper_than(item, limit - 1):
            return True
    return False


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


def _int(v: object, _: object) -> int:
    if type(v) is int:
        if INT_MIN <= v <= INT_MAX:
            return v
        raise ValueError("integer out of the signed 64-bit range")
    raise _WrongType("integer", v)


def _any(v: object, _: object) -> object:
    """JSON kept as it is (``Any`` in a model): only its depth is checked (see MAX_DEPTH)."""
    if nested_deeper_than(v, MAX_DEPTH):
        raise ValueError(f"JSON nested more than {MAX_DEPTH} levels deep")
    return v


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


_DIGITS = "0123456789"
_SIGN_OR_DIGIT = "-0123456789"


def _decimal_from_string(v: object, _: object) -> Decimal:
    """A decimal string (``DECIMAL_PATTERN``) as a Decimal.

    ``Decimal()`` alone takes more: blanks at either end, ``_`` between digits, other scripts'
    digits, ``+``, an exponent, a point with no digit on one side, ``NaN`` and ``Infinity``. A
    string ``Decimal()`` parses matches the pattern exactly when it is ASCII, has no ``_``,
    ``e`` or ``E``, starts with a digit or ``-`` and a digit, and ends with a digit: those
    tests rule out each extra in turn, and what is left of Decimal's grammar (``[sign] digits
    ['.' [digits]]`` or ``[sign] '.' digits``) is then the pattern. They cost half of a regex
    match; tests/test_codecs.py checks the two agree on strings made to be near misses.
    """
    if type(v) is str:
        if v and v[-1] in _DIGITS and v.isascii() and "_" not in v and "e" not in v and "E" not in v:
            first = v[0]
            if first in _DIGITS or (first == "-" and v[1:2] in _DIGITS):
                try:
                    return Decimal(v)
                except InvalidOperation:
                    pass  # "1-2", "1..2": not a number at all
        raise ValueError(f"not a decimal string: {_quote(v)}")
    raise _WrongType("decimal string", v)


def _describe(value: object) -> str:
    """A short text for a JSON value in an error: scalars as JSON, containers by their type.

    Never serializes a container: it may be huge, or nested too deeply to serialize.
    """
    if type(value) is str:
        return _quote(value)
    if value is None or type(value) in (bool, int, float, Decimal):
        text = json.dumps(value) if type(value) is not Decimal else str(value)
        return text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"
    return json_type_name(value)


_ONLY_STR = frozenset({str})
# Characters Decimal() takes that no decimal string holds: underscores, exponents, signs other
# than a leading minus, blanks (those Decimal strips: str.isspace in ASCII, the newline is the
# separator below), and n/N, which every spelling of NaN and Infinity contains.
_NOT_IN_DECIMALS = tuple("_eE+ \t\r\x0b\x0c\x1c\x1d\x1e\x1fnN")


def decimals_from_strings(values: list[Any]) -> list[Decimal] | None:
    """``values`` as Decimals if every one is a decimal string, else None (then check one by one).

    A book side has dozens of decimals. The tests of :func:`_decimal_from_string` are made once
    on the values joined by newlines (a value holding a newline changes the count): ASCII, no
    character of ``_NOT_IN_DECIMALS``, and no point at either end of a value (after a newline or
    a minus, before a newline, or at either end of the text); what ``Decimal()`` then parses is
    a decimal string.
    Each test is one pass in C, and so is ``map(Decimal, ...)``: this costs a third of a check
    per value. tests/test_codecs.py checks it agrees with the one-by-one hook.
    """
    if not values:
        return []
    if not set(map(type, values)) <= _ONLY_STR:
        return None
    joined = "\n".join(values)
    if (
        joined.count("\n") != len(values) - 1
        or not joined.isascii()
        or joined[:1] == "."
        or joined[-1:] == "."
        or "\n." in joined
        or ".\n" in joined
        or "-." in joined
    ):
        return None
    for c in _NOT_IN_DECIMALS:
        if c in joined:
            return None
    try:
        return list(map(Decimal, values))
    except InvalidOperation:  # "", "-", "1-2", "1..2", "--1"
        return None


def decimal_pairs_from_strings(pairs: list[Any]) -> list[tuple[Decimal, Decimal]] | None:
    """Book levels (``pairs``: two-item sequences of decimal strings) as Decimal pairs, else None.

    One :func:`decimals_from_strings` on all the values; the caller has checked that every
    item has two, and goes one by one on None (to convert or explain each).
    """
    values = decimals_from_strings(list(chain.from_iterable(pairs)))
    if values is None:
        return None
    it = iter(values)
    return list(zip(it, it))  # noqa: B905 - an even count, by the caller's check


def _quote(text: str, limit: int = 40) -> str:
    """``text`` as a JSON string literal for an error message, cut to ``limit`` characters."""
    if len(text) <= limit:
        return json.dumps(text)
    return json.dumps(text[:limit]) + f"... ({len(text)} characters)"


def _decimal_from_number(v: object, _: object) -> Decimal:
    # The JSON parser for numeric protocols yields Decimal for every non-integer literal
    # (parse_float=Decimal), so no value ever passed through a binary float. JSON has no NaN
    # or Infinity, so every such Decimal is finite.
    t = type(v)
    if t is Decimal:
        return v  # type: ignore[return-value]
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
        raise ValueError(f"not an ISO-8601 date-time: {_quote(v)}") from None
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

    def base_of(seconds: int) -> datetime:
        # The schemas' range for pairs starts at the epoch (the cached second never is < 0).
        if seconds < 0:
            raise ValueError(f"timestamp out of range: {seconds}")
        return seconds_cache.base(seconds)

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


_SECONDS_TEXT = re.compile(r"[0-9]{1,11}")  # ASCII digits only (str.isdigit takes others), years < 5138


def _epoch_seconds_or_digits() -> Callable[[object, object], datetime]:
    """Hook for integer seconds sent as a JSON integer or as a string of digits (Peatio tickers).

    The value remembers which, so ``encode`` writes back the integer or the exact text.
    """
    seconds = _epoch_seconds()

    def structure(v: object, _: object) -> datetime:
        if type(v) is int:
            return remember(seconds(v, _), v)
        if type(v) is str:
            if _SECONDS_TEXT.fullmatch(v) is None:
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
        raise ValueError(f"expected {expected}, got {_describe(v)}")

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
            if (type(v) is int and INT_MIN <= v <= INT_MAX) or v is None:
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
            # _decimal_from_string's tests, inlined; anything else goes there for its error.
            if type(v) is str:
                if v and v[-1] in _DIGITS and v.isascii() and "_" not in v and "e" not in v and "E" not in v:
                    first = v[0]
                    if first in _DIGITS or (first == "-" and v[1:2] in _DIGITS):
                        try:
                            return Decimal(v)
                        except InvalidOperation:
                            pass
            elif v is None:
                return None
            return _decimal_from_string(v, _)

        return decimal_or_none
    return None
