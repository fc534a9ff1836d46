"""Scalar types that the generated models refer to by ``customTypePath``, and exact conversions.

Every point in time in a decoded model is an aware UTC :class:`~datetime.datetime`, whatever the
wire sends. The type of the field names the wire form, so that ``encode`` writes back exactly the
value that came in: an ``EpochMillis`` field is written as the same integer of milliseconds, a
``MicrosTime`` as the same ``[seconds, microseconds]`` pair. These are ``NewType``s of
``datetime``: reading a field gives a ``datetime``; building a message by hand takes
``EpochMillis(dt)`` (or :func:`from_epoch_millis`) so the type checker sees the form was meant.

Plain ``datetime`` fields are ISO-8601 strings on the wire (schema ``format: date-time``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NewType

__all__ = [
    "DecimalNumber",
    "EpochMillis",
    "EpochSeconds",
    "EpochSecondsOrDigits",
    "ExplicitNulls",
    "IsoOrEpochSeconds",
    "MicrosTime",
    "MillisTime",
    "explicit_nulls",
    "from_epoch_millis",
    "from_epoch_seconds",
    "sent_as_epoch_seconds",
    "sent_as_seconds_text",
    "to_epoch_millis",
]

MicrosTime = NewType("MicrosTime", datetime)
"""Aware UTC datetime sent as ``[unix_seconds, microseconds]`` (Cryptology order/wallet messages)."""

MillisTime = NewType("MillisTime", datetime)
"""Aware UTC datetime sent as ``[unix_seconds, milliseconds]`` (Cryptology market-data trades)."""

EpochMillis = NewType("EpochMillis", datetime)
"""Aware UTC datetime sent as integer milliseconds since the Unix epoch (gateway, Onyx tickers).

Encoding floors to the millisecond: a decoded value is written back as the integer it came from.
"""

EpochSeconds = NewType("EpochSeconds", datetime)
"""Aware UTC datetime sent as integer seconds since the Unix epoch (Peatio ``date``, ``at``).

Encoding floors to the second: a decoded value is written back as the integer it came from.
"""

IsoOrEpochSeconds = NewType("IsoOrEpochSeconds", datetime)
"""Aware UTC datetime sent as an ISO-8601 string *or* integer Unix seconds (Peatio ``created_at``).

A decoded value remembers which form it came in, and ``encode`` writes that form back; a
``datetime`` built by hand is written as ISO-8601 text (see :func:`sent_as_epoch_seconds`).
"""

EpochSecondsOrDigits = NewType("EpochSecondsOrDigits", datetime)
"""Aware UTC datetime sent as integer Unix seconds, or as the same digits in a string.

Peatio's tickers: integer ``at`` before 2020-03, every value a string (``"1626300000"``) since.
A decoded value remembers its form and ``encode`` writes it back; a ``datetime`` built by hand
is written as an integer.
"""

DecimalNumber = NewType("DecimalNumber", Decimal)
"""A decimal sent as a JSON number by a protocol whose other decimals are strings (Peatio k-lines).

Parsed from the number's text, exactly (never through a binary float); ``encode`` writes it as
a JSON number again.
"""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def from_epoch_millis(ms: int) -> EpochMillis:
    """The aware UTC datetime of ``ms`` milliseconds since the Unix epoch, exactly (no float)."""
    return EpochMillis(_EPOCH + timedelta(milliseconds=ms))


def from_epoch_seconds(seconds: int) -> EpochSeconds:
    """The aware UTC datetime of ``seconds`` since the Unix epoch, exactly."""
    return EpochSeconds(_EPOCH + timedelta(seconds=seconds))


def to_epoch_millis(dt: datetime) -> int:
    """Milliseconds since the Unix epoch of an aware datetime, floored.

    The inverse of :func:`from_epoch_millis`: a decoded value gives back its wire integer.
    """
    return (dt - _EPOCH) // _MILLISECOND


def sent_as_epoch_seconds(seconds: int) -> IsoOrEpochSeconds:
    """The time ``seconds`` since the Unix epoch, for an ``IsoOrEpochSeconds`` field.

    ``encode`` writes it as that integer (as the peatio code does) rather than as ISO-8601 text.
    """
    return IsoOrEpochSeconds(remember(from_epoch_seconds(seconds), seconds))


def sent_as_seconds_text(seconds: int) -> EpochSecondsOrDigits:
    """The time ``seconds`` since the Unix epoch, for an ``EpochSecondsOrDigits`` field.

    ``encode`` writes it as the digit string (``"1626300000"``, peatio's later tickers) rather
    than as an integer.
    """
    return EpochSecondsOrDigits(remember(from_epoch_seconds(seconds), str(seconds)))


class WireTime(datetime):
    """A decoded datetime that remembers its wire value (``wire``), so ``encode`` writes it back.

    The codec's hooks make one where the field's type does not fix the wire form (ISO text
    that ``encode`` would not write the same way; a field that takes text or an integer), via
    :func:`remember`. Otherwise it is a plain aware UTC datetime: equal, same hash, same repr.
    Values derived from it forget the wire value: datetime's own methods build their results by
    calling the class (``dt + delta``, ``astimezone``), and the class gives a plain datetime;
    ``replace`` (which datetime builds without calling the class) is overridden to do the same.
    So no derived value carries a stale wire text, and derived values are exactly ``datetime``
    (JSON libraries that refuse subclasses, such as orjson, take them).
    """

    __slots__ = ("wire",)
    wire: str | int

    def __new__(cls, *args: Any, **kwargs: Any) -> datetime:  # type: ignore[misc]
        # A plain datetime on purpose: see the class docstring.
        return datetime(*args, **kwargs)

    def __repr__(self) -> str:
        # A datetime to the reader: the remembered wire value is an encoding detail.
        text = datetime.__repr__(self)
        return "datetime.datetime" + text[text.index("(") :]

    def plain(self) -> datetime:
        """The same time as a plain ``datetime``."""
        return datetime(
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.microsecond,
            self.tzinfo,
            fold=self.fold,
        )

    def replace(self, *args: Any, **kwargs: Any) -> Any:
        # A plain datetime, as every other derived value (see the class docstring).
        return self.plain().replace(*args, **kwargs)

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # pickle and copy keep the wire value (datetime's own reduce would call the class).
        return (remember, (self.plain(), self.wire))


def remember(dt: datetime, wire: str | int) -> datetime:
    """``dt`` as a :class:`WireTime` that remembers ``wire`` (the codec's decode hooks use it)."""
    t = datetime.__new__(
        WireTime, dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond, dt.tzinfo
    )
    t.wire = wire
    return t


class ExplicitNulls:
    """Base of the generated models that have optional fields the schema lets be ``null``.

    Such a field may be absent from a frame or sent as ``null``; both read as ``None``. The
    codec records which of them a frame sent as ``null`` (here, outside the attrs fields: it
    changes neither ``==`` nor ``repr``), so that ``encode`` writes them back as ``null`` while
    they are still ``None``. A message built in code has no record: its ``None`` fields are left
    out. Nothing is stored when a frame has no such null. ``copy``, ``pickle`` and
    ``attrs.evolve`` make messages without the record.
    """

    __slots__ = ("_explicit_nulls",)


def explicit_nulls(message: object) -> frozenset[str]:
    """Names of the fields of ``message`` that its frame sent as ``null`` (see ExplicitNulls)."""
    found: frozenset[str] = getattr(message, "_explicit_nulls", frozenset())
    return found
