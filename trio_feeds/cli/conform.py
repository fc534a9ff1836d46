"""``trio-feeds conform``: check captured frames against our schema and our decoder.

Input, read line by line (never whole; blank lines and lines starting with ``#`` are skipped),
in one of the :data:`INPUT_FORMS`, detected once per input from its first line:

* plain frames, one per line (JSON lines, as a capture tool writes them);
* ``trio-feeds watch --json`` output: each ``"kind": "message"`` line's ``data`` is the frame
  (re-serialized with its numbers exact); ``"kind": "event"`` lines are skipped and counted.

Each frame is validated against the exchange's schema (``schemas/<name>.json``, shipped in the
package) and decoded with its codec, exactly as a feed decodes it; a frame passes when both
accept it. A frame that fails counts once, whichever checks it failed. The report counts frames
per message type, shows the checks the first few failing frames failed with the JSON path of
the bad value, and reports *drift*: fields and message types on the wire that the schema does
not know (extra fields are tolerated, so they are not failures).

Two validators give one verdict, the reference's (``_conform_schema.py`` says how); the input
forms are in ``_conform_input.py``.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Final

import attrs
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from .._codecs import UnknownMessage
from ..errors import DecodeError
from ..exchanges import Exchange
from ._common import EXIT_FAILURE, EXIT_OK, UsageError, json_line, message_type, write_line
from ._conform_input import (
    INPUT_FORMS,
    UNPARSED,
    Frame,
    InputForm,
    PlainFrames,
    Skipped,
    Unreadable,
    parse_exact,
    read_input,
)
from ._conform_schema import SchemaChecks, compiled_validator_unsafe, load_schema, schema_checks

__all__ = [
    "INPUT_FORMS",
    "PROGRESS_MIN_BYTES",
    "ConformOptions",
    "Failure",
    "Frame",
    "InputForm",
    "Report",
    "Skipped",
    "Unreadable",
    "check_frames",
    "compiled_validator_unsafe",
    "load_schema",
    "read_input",
    "run_conform",
    "wants_progress",
]

_NOT_JSON = "(not JSON)"
_UNREADABLE = "(unreadable)"
_UNRECOGNISED = "(unrecognised)"

PROGRESS_MIN_BYTES: Final = 16 * 2**20
"""Inputs smaller than this get no progress bar: they are checked in about a second."""

# Bounds on what a report keeps, whatever the input: distinct message types (unknown tags are
# free text), distinct drift paths per type, distinct unknown tags, distinct event types.
_MAX_KEYS: Final = 1000
_OTHER: Final = "(others)"


@attrs.frozen
class ConformOptions:
    """Options of ``trio-feeds conform``."""

    exchange: Exchange
    source: str  # a path, or "-" for standard input
    max_failures: int = 10  # failing frames shown (each with every check it failed)
    json: bool = False
    progress_min_bytes: int = PROGRESS_MIN_BYTES


@attrs.frozen
class Failure:
    """One check a frame failed (a failing frame has one or more).

    Attributes:
        line: the frame's line number in the input (1-based).
        type: the message type (class name) it was taken for.
        check: ``"json"``, ``"input"`` (a line that is not of the input's form), ``"schema"``
            or ``"decoder"``.
        path: JSON path of the bad value (``$`` for the whole frame).
        reason: what was wrong.
    """

    line: int
    type: str
    check: str
    path: str
    reason: str


def _bump(counter: Counter[str], key: str, n: int = 1) -> None:
    """Count ``key``; past :data:`_MAX_KEYS` distinct keys, new keys count as ``(others)``."""
    if key not in counter and len(counter) >= _MAX_KEYS:
        key = _OTHER
    counter[key] += n


@attrs.define
class Report:
    """What ``conform`` found; every part is bounded, whatever the input's size.

    Attributes:
        form: the input form (:attr:`InputForm.name`).
        validator: ``"compiled"``, or why the reference validator checked every frame.
        frames: frames per message type.
        failed: failing frames per message type (a frame counts once).
        checks: failing frames per check (a frame failing two checks counts in both).
        failures: the checks of the first ``keep`` failing frames, in input order.
        failing_shown: how many failing frames :attr:`failures` covers.
        events: lines skipped per event type (``watch --json`` session events).
        extra_fields: per message type, per JSON path of a field the schema does not know,
            the number of frames that carried it.
        unknown_types: per tag the schema and the decoder do not know, the number of frames.
    """

    form: str = "frames"
    validator: str = "compiled"
    frames: Counter[str] = attrs.field(factory=Counter)
    failed: Counter[str] = attrs.field(factory=Counter)
    checks: Counter[str] = attrs.field(factory=Counter)
    failures: list[Failure] = attrs.field(factory=list)
    failing_shown: int = 0
    events: Counter[str] = attrs.field(factory=Counter)
    extra_fields: dict[str, Counter[str]] = attrs.field(factory=dict)
    unknown_types: Counter[str] = attrs.field(factory=Counter)

    @property
    def total(self) -> int:
        """Frames checked."""
        return sum(self.frames.values())

    @property
    def total_failed(self) -> int:
        """Frames that failed at least one check."""
        return sum(self.failed.values())

    @property
    def has_drift(self) -> bool:
        """Whether any frame carried a field or a message type the schema does not know."""
        return bool(self.extra_fields or self.unknown_types)

    def _drift(self, kind: str, paths: Iterable[str]) -> None:
        """Count one frame of type ``kind`` carrying fields the schema does not know."""
        if kind not in self.extra_fields and len(self.extra_fields) >= _MAX_KEYS:
            kind = _OTHER
        counter = self.extra_fields.setdefault(kind, Counter())
        for path in paths:
            _bump(counter, path)

    def _fail(self, kind: str, problems: list[tuple[str, str, str]], line: int, keep: int) -> None:
        """Count one failing frame; keep its checks if it is among the first ``keep``."""
        _bump(self.failed, kind)
        for check, _, _ in problems:
            self.checks[check] += 1
        if self.failing_shown < keep:
            self.failing_shown += 1
            self.failures.extend(Failure(line, kind, c, p, r) for c, p, r in problems)


def check_frames(
    exchange: Exchange,
    lines: Iterable[str | bytes],
    *,
    keep: int = 10,
    on_progress: Callable[[int], None] | None = None,
    progress_every: int = 4096,
) -> Report:
    """Check every frame of an input (lines as text or bytes, read one at a time).

    Args:
        exchange: whose schema and decoder check the frames.
        lines: the input, in any of :data:`INPUT_FORMS`.
        keep: how many failing frames to keep the checks of (the rest are counted).
        on_progress: called with the number of frames checked so far, every
            ``progress_every`` lines.
        progress_every: see ``on_progress``.

    Raises:
        UsageError: the input is another protocol's ``watch --json`` output.
    """
    checker = schema_checks(exchange)
    decode = exchange.decode
    text_frames = exchange.text_frames
    agrees = checker.agrees
    compiled_is_valid = None if checker.compiled is None else checker.compiled.is_valid
    shapes = checker.shapes
    found: set[str] = set()  # one frame's extra fields
    def_of_kind = checker.def_of_kind
    report = Report(validator=checker.validator)
    frames = report.frames
    form, items = read_input(exchange, lines)
    report.form = form.name
    count = 0
    for item in items:
        count += 1
        if on_progress is not None and count % progress_every == 0:
            on_progress(report.total)
        if type(item) is not Frame:
            if type(item) is Skipped:
                _bump(report.events, item.what)
            else:
                assert type(item) is Unreadable
                _bump(frames, _UNREADABLE)
                report._fail(_UNREADABLE, [(item.check, "$", item.reason)], item.line, keep)
            continue
        text = item.text
        if text in text_frames:
            frames[f"text {text}"] += 1
            continue
        value = item.value
        exact_parse = True
        if value is UNPARSED:
            try:
                value, exact_parse = _parse(text)
            except ValueError as exc:
                _bump(frames, _NOT_JSON)
                report._fail(_NOT_JSON, [("json", "$", f"not valid JSON: {exc}")], item.line, keep)
                continue
        unknown: UnknownMessage | None = None
        error: DecodeError | None = None
        try:
            message = decode(text)
        except DecodeError as exc:
            error = exc
            definition = checker.guess_def(value)
            kind = checker.defs[definition].kind if definition else _UNRECOGNISED
        else:
            kind = message_type(message)
            if isinstance(message, UnknownMessage):
                unknown, definition = message, None
            else:
                definition = def_of_kind.get(kind)
        # The compiled validator where it agrees with the reference, else the reference.
        if exact_parse and compiled_is_valid is not None and agrees(text):
            valid = compiled_is_valid(value)
        else:
            valid = checker.reference_valid(value)
        if unknown is not None:
            _bump(frames, kind)  # tags are free text: bounded
            _bump(report.unknown_types, str(unknown.tag))
        else:
            frames[kind] += 1  # the schema's types, and "(unrecognised)"
        if definition is not None and (shape := shapes[definition]) is not None:
            shape.extra_fields(value, "$", found)
            if found:
                report._drift(kind, found)
                found.clear()
        if valid and error is None and unknown is None:
            continue
        # A failing frame: rare, so it may take its time (the reference explains the first).
        problems = _problems(
            checker, report, keep, value, definition, valid=valid, error=error, unknown=unknown
        )
        report._fail(kind, problems, item.line, keep)
    if on_progress is not None:
        on_progress(report.total)
    return report


def _parse(text: str) -> tuple[object, bool]:
    """The JSON value of a frame, and whether it was parsed exactly (strict JSON, by msgspec).

    Raises:
        ValueError: not JSON even to the reference parser.
    """
    try:
        return parse_exact(text), True
    except (ValueError, RecursionError):
        # Not strict JSON to msgspec; the reference parser (the standard library's) also reads
        # NaN, Infinity and lone surrogates.
        try:
            return json.loads(text, parse_float=Decimal), False
        except RecursionError:
            raise ValueError("nested too deeply") from None


def _problems(
    checker: SchemaChecks,
    report: Report,
    keep: int,
    value: object,
    definition: str | None,
    *,
    valid: bool,
    error: DecodeError | None,
    unknown: UnknownMessage | None,
) -> list[tuple[str, str, str]]:
    """What is wrong with a failing frame: ``(check, path, reason)`` per failed check."""
    problems: list[tuple[str, str, str]] = []
    if not valid:
        path, reason = "$", "rejected by the schema"
        if report.failing_shown < keep:
            path, reason = checker.explain(value, definition or checker.guess_def(value))
        problems.append(("schema", path, reason))
    if error is not None:
        problems.append(("decoder", error.path, error.reason))
    elif unknown is not None:
        problems.append(("decoder", "$", f"unknown message type {unknown.tag!r}"))
    return problems


# -- the command ---------------------------------------------------------------------------


def wants_progress(
    *, stderr_is_tty: bool, input_size: int | None, min_bytes: int = PROGRESS_MIN_BYTES
) -> bool:
    """Whether ``conform`` shows a progress bar: on a terminal, for a long input of known size."""
    return stderr_is_tty and input_size is not None and input_size >= min_bytes


def _input_size(stream: IO[bytes]) -> int | None:
    """The size of a regular file (a path, or standard input redirected from one), else None."""
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


class _CountingLines:
    """Lines of a binary stream, counting the bytes read (for the progress bar)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.bytes = 0

    def __iter__(self) -> Iterator[bytes]:
        for raw in self.stream:
            self.bytes += len(raw)
            yield raw


_GZIP_MAGIC = b"\x1f\x8b"


def _open_source(source: str) -> IO[bytes]:
    if source == "-":
        stream: IO[bytes] = sys.stdin.buffer
    else:
        try:
            stream = Path(source).open("rb")  # noqa: SIM115 - run_conform closes it
        except OSError as exc:
            raise UsageError(f"cannot read {source}: {exc.strerror}") from None
    peek = getattr(stream, "peek", None)  # buffered streams: a look without consuming
    if peek is not None and peek(2)[:2] == _GZIP_MAGIC:
        if stream is not sys.stdin.buffer:
            stream.close()
        name = "the input" if source == "-" else source
        raise UsageError(
            f"{name} is gzip-compressed: decompress it first (zcat FILE | trio-feeds conform ... -)"
        )
    return stream


def run_conform(options: ConformOptions, *, stderr: IO[str] | None = None) -> int:
    """Check the input; print the report; exit status 1 on any failure (or no frames at all).

    A progress bar shows on ``stderr`` (standard error by default) when it is a terminal and
    the input is a file of at least ``options.progress_min_bytes``.
    """
    err = sys.stderr if stderr is None else stderr
    stream = _open_source(options.source)
    name = "standard input" if options.source == "-" else options.source
    try:
        size = _input_size(stream)
        if wants_progress(stderr_is_tty=err.isatty(), input_size=size, min_bytes=options.progress_min_bytes):
            assert size is not None
            report = _check_with_progress(options, stream, size, err)
        else:
            report = check_frames(options.exchange, stream, keep=options.max_failures)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if options.json:
        _print_json(options, report)
    else:
        _print_report(options, report, name)
    return EXIT_FAILURE if report.total_failed or not report.total else EXIT_OK


def _check_with_progress(options: ConformOptions, stream: IO[bytes], size: int, err: IO[str]) -> Report:
    lines = _CountingLines(stream)
    columns = (
        TextColumn("[bold]conform[/] {task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[frames]:,} frames, {task.fields[rate]:,.0f} frames/s"),
        TimeRemainingColumn(),
    )
    console = Console(file=err, highlight=False)
    started = time.perf_counter()
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(options.exchange.name, total=size, frames=0, rate=0.0)

        def on_progress(frames: int) -> None:
            elapsed = max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=lines.bytes, frames=frames, rate=frames / elapsed)

        return check_frames(options.exchange, lines, keep=options.max_failures, on_progress=on_progress)


def _print_json(options: ConformOptions, report: Report) -> None:
    types = {
        kind: {"frames": n, "passed": n - report.failed[kind], "failed": report.failed[kind]}
        for kind, n in sorted(report.frames.items())
    }
    summary = {
        "protocol": options.exchange.name,
        "input": report.form,
        "validator": report.validator,
        "frames": report.total,
        "passed": report.total - report.total_failed,
        "failed": report.total_failed,
        "types": types,
        "checks": dict(sorted(report.checks.items())),
        "events": dict(sorted(report.events.items())),
        "drift": {
            "extra_fields": {k: dict(sorted(v.items())) for k, v in sorted(report.extra_fields.items())},
            "unknown_types": dict(sorted(report.unknown_types.items())),
        },
        # Every check of the first --max-failures failing frames (a frame may fail two).
        "failures": [attrs.asdict(f) for f in report.failures],
    }
    write_line(json_line(summary))


def _print_report(options: ConformOptions, report: Report, name: str) -> None:
    console = Console(highlight=False)
    passed = report.total - report.total_failed
    if report.events:
        skipped = ", ".join(f"{kind} {n}" for kind, n in sorted(report.events.items()))
        console.print(f"skipped {sum(report.events.values())} session event lines: {skipped}", markup=False)
    if not report.total:
        console.print(f"[bold red]✘ {name}: no frames found[/]")
        return
    form = "" if report.form == PlainFrames.name else f" ({report.form} output)"
    table = Table(title=f"{options.exchange.name} conformance: {name}{form}", title_justify="left")
    table.add_column("message type")
    for column in ("frames", "passed", "failed"):
        table.add_column(column, justify="right")
    for kind, n in sorted(report.frames.items()):
        bad = report.failed[kind]
        table.add_row(kind, str(n), str(n - bad), f"[bold red]{bad}[/]" if bad else "0")
    table.add_row(
        "total", str(report.total), str(passed), str(report.total_failed), style="bold", end_section=True
    )
    console.print(table)
    if report.validator != "compiled":
        console.print(f"validator: {report.validator}", markup=False)
    if report.failures:
        console.print(f"[bold]first failing frames ({report.failing_shown} of {report.total_failed}):[/]")
        line = None
        for f in report.failures:
            if f.line != line:
                line = f.line
                console.print(f"  line {f.line}: {f.type}", markup=False)
            console.print(f"    {f.check}: {f.path}: {f.reason}", markup=False)
    if report.has_drift:
        _print_drift(console, report)
    if report.total_failed:
        console.print(f"[bold red]✘ {report.total_failed} of {report.total} frames failed[/]")
    else:
        console.print(f"[bold green]✔ all {report.total} frames pass the schema and the decoder[/]")


def _print_drift(console: Console, report: Report) -> None:
    console.print("[bold]drift[/] (what the wire has and the schema does not know; extra fields pass):")
    for kind, paths in sorted(report.extra_fields.items()):
        of = report.frames.get(kind, 0)
        for path, n in sorted(paths.items(), key=lambda item: (-item[1], item[0])):
            console.print(f"  {kind}: extra field {path} in {n} of {_frames(of)}", markup=False)
    for tag, n in sorted(report.unknown_types.items(), key=lambda item: (-item[1], item[0])):
        console.print(f"  unknown message type {tag!r}: {_frames(n)}", markup=False)


def _frames(n: int) -> str:
    return "1 frame" if n == 1 else f"{n} frames"
