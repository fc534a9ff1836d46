"""The input forms of ``trio-feeds conform``: how frames are laid out in what it reads.

An input is read line by line, never whole. Its form is detected once, from its first content
line (blank lines and lines starting with ``#`` are skipped): the first of :data:`INPUT_FORMS`
that claims it reads the whole input. A line of another form within it is a failure (check
``input``), not read as something it is not.

To add a form, write an :class:`InputForm` and put it in :data:`INPUT_FORMS`; nothing else
changes. Compressed input (gzip, zstd: recordings are) is decompressed before it gets here.
"""

from __future__ import annotations

import base64
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, ClassVar, Final, NamedTuple, TypeAlias

import msgspec

from .._recordfile import FORMAT as RECORDING_FORMAT
from ..exchanges import Exchange
from ._common import UsageError

__all__ = [
    "INPUT_FORMS",
    "UNPARSED",
    "Frame",
    "InputForm",
    "Item",
    "PlainFrames",
    "RecordingLines",
    "Skipped",
    "Unreadable",
    "WatchJson",
    "parse_exact",
    "read_input",
]

# Exact numbers both ways: JSON number literals with a fraction or exponent become Decimal (as
# json.loads(..., parse_float=Decimal) does, at a fifth of its cost), and Decimals go back out
# as the same number literals.
parse_exact: Callable[[str | bytes], Any] = msgspec.json.Decoder(float_hook=Decimal).decode
_dump_exact: Callable[[Any], bytes] = msgspec.json.Encoder(decimal_format="number").encode


class _Unparsed:
    """The value of a :class:`Frame` whose JSON has not been parsed yet."""

    def __repr__(self) -> str:
        return "<unparsed>"


UNPARSED: Final = _Unparsed()


class Frame(NamedTuple):
    """A frame to check: its text as the decoder gets it, and its parsed value when known."""

    line: int
    text: str
    value: Any = UNPARSED


class Skipped(NamedTuple):
    """A line that is not a frame and not a failure (a ``watch --json`` session event)."""

    line: int
    what: str


class Unreadable(NamedTuple):
    """A line that could not be read as its input form says (counted as a failing frame)."""

    line: int
    check: str
    reason: str


Item: TypeAlias = Frame | Skipped | Unreadable
Lines: TypeAlias = Iterator[tuple[int, str | None]]  # numbered content lines; None: not UTF-8

_NOT_UTF8 = "not valid UTF-8 text"


class InputForm(ABC):
    """One way frames can be laid out in ``conform``'s input.

    To add a form (recordings, say), subclass this and add an instance to :data:`INPUT_FORMS`
    ahead of the forms whose first lines it could be mistaken for; nothing else changes. (A
    form that is not line-oriented text, compressed say, also needs ``_open_source`` to hand
    its lines over.)
    """

    name: ClassVar[str]
    """How the report names the form."""

    @abstractmethod
    def claims(self, first: str) -> bool:
        """Whether an input whose first content line is ``first`` is in this form."""

    @abstractmethod
    def items(self, exchange: Exchange, lines: Lines) -> Iterator[Item]:
        """The frames (and skipped or unreadable lines) of the input's numbered lines."""


class PlainFrames(InputForm):
    """One frame per line, as received."""

    name = "frames"

    def claims(self, first: str) -> bool:
        """Anything: the form of last resort."""
        return True

    def items(self, exchange: Exchange, lines: Lines) -> Iterator[Item]:
        """Each line is a frame."""
        for number, text in lines:
            yield Frame(number, text) if text is not None else Unreadable(number, "json", _NOT_UTF8)


class WatchJson(InputForm):
    """``trio-feeds watch --json`` output: one JSON object per message or session event."""

    name = "watch --json"
    _KINDS: ClassVar[frozenset[str]] = frozenset({"message", "event"})

    def _record(self, text: str) -> dict[str, Any] | None:
        try:
            record = parse_exact(text)
        except (ValueError, RecursionError):
            return None
        if (
            type(record) is dict
            and record.get("kind") in self._KINDS
            and isinstance(record.get("type"), str)
            and isinstance(record.get("protocol"), str)
            and "t" in record
        ):
            return record
        return None

    def claims(self, first: str) -> bool:
        """A first line that is a ``watch --json`` record."""
        return self._record(first) is not None

    def items(self, exchange: Exchange, lines: Lines) -> Iterator[Item]:
        """Message records become frames; event records are skipped; anything else fails.

        Raises:
            UsageError: the first record is of another protocol than ``exchange``.
        """
        first = True
        for number, text in lines:
            record = None if text is None else self._record(text)
            if record is None:
                yield Unreadable(number, "input", _NOT_UTF8 if text is None else "not a watch --json record")
            elif record["protocol"] != exchange.name:
                if first:
                    other = record["protocol"]
                    raise UsageError(
                        f"the input is 'trio-feeds watch {other} --json' output; "
                        f"check it with 'trio-feeds conform {other}'"
                    )
                yield Unreadable(number, "input", f"a {record['protocol']} record")
            elif record["kind"] == "event":
                yield Skipped(number, record["type"])
            elif "data" not in record:
                yield Unreadable(number, "input", "a message record without data")
            else:
                data = record["data"]
                yield Frame(number, _dump_exact(data).decode(), data)
            first = False


class _Numbered:
    """Content lines of the input, numbered: stripped, decoded, blanks and comments left out."""

    def __init__(self, lines: Iterable[str | bytes]) -> None:
        self._lines = iter(enumerate(lines, 1))
        self._first: tuple[int, str | None] | None = None

    def first(self) -> tuple[int, str | None] | None:
        """The first content line (kept: iteration still starts with it)."""
        if self._first is None:
            self._first = next(self._content(), None)
        return self._first

    def _content(self) -> Lines:
        for number, raw in self._lines:
            if isinstance(raw, bytes):
                try:
                    text: str | None = raw.decode("utf-8").strip()
                except UnicodeDecodeError:
                    yield number, None
                    continue
            else:
                text = raw.strip()
            if text and not text.startswith("#"):
                yield number, text

    def __iter__(self) -> Lines:
        if self._first is not None:
            yield self._first
        yield from self._content()


class RecordingLines(InputForm):
    """A recording (``trio-feeds record``, :mod:`trio_feeds.recording`): its frames as received.

    ``t`` records are text frames, ``b`` records binary ones (checked when they are UTF-8 text);
    every other record (connections, session events, subscriptions) is skipped and counted by
    its kind, or its event type. One file of a rotated recording is read alone.
    """

    name = "recording"

    def _record(self, text: str) -> list[Any] | None:
        try:
            record = parse_exact(text)
        except (ValueError, RecursionError):
            return None
        if type(record) is list and len(record) >= 4 and type(record[0]) is str:
            return record
        return None

    def claims(self, first: str) -> bool:
        """A first line that is a recording's header record."""
        record = self._record(first)
        return (
            record is not None
            and record[0] == "header"
            and type(record[3]) is dict
            and record[3].get("format") == RECORDING_FORMAT
        )

    def items(self, exchange: Exchange, lines: Lines) -> Iterator[Item]:
        """Frame records become frames; the others are skipped; a line that is no record fails.

        Raises:
            UsageError: the recording is of another exchange than ``exchange``.
        """
        for number, text in lines:
            record = None if text is None else self._record(text)
            if record is None:
                yield Unreadable(number, "input", _NOT_UTF8 if text is None else "not a recording's record")
                continue
            kind = record[0]
            if kind == "t" and type(record[3]) is str:
                yield Frame(number, record[3])
            elif kind == "b":
                yield _binary_frame(number, record[3])
            elif kind == "header":
                other = record[3].get("exchange") if type(record[3]) is dict else None
                if other is not None and other != exchange.name:
                    raise UsageError(
                        f"the input is a recording of {other}; check it with 'trio-feeds conform {other}'"
                    )
                yield Skipped(number, "(header)")
            elif kind == "event" and type(record[3]) is str:
                yield Skipped(number, record[3])
            else:
                yield Skipped(number, f"({kind})")


def _binary_frame(number: int, data: object) -> Item:
    try:
        text = base64.b64decode(str(data), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return Unreadable(number, "input", "a binary frame that is not UTF-8 text")
    return Frame(number, text)


INPUT_FORMS: tuple[InputForm, ...] = (RecordingLines(), WatchJson(), PlainFrames())
"""The input forms, most specific first: the first to claim an input's first line reads it."""


def read_input(exchange: Exchange, lines: Iterable[str | bytes]) -> tuple[InputForm, Iterator[Item]]:
    """Detect the input's form from its first content line; return it and the input's items.

    Detection is per input, not per line: a line of another form within it fails (check
    ``input``), rather than being read as something it is not.
    """
    numbered = _Numbered(lines)
    first = numbered.first()
    form: InputForm = INPUT_FORMS[-1]
    if first is not None and first[1] is not None:
        form = next(f for f in INPUT_FORMS if f.claims(first[1]))
    return form, form.items(exchange, iter(numbered))
