"""``trio-feeds conform``: check captured frames against our schema and our decoder.

Input: one frame per line (JSON lines, as a capture tool writes them); blank lines and lines
starting with ``#`` are skipped. Each frame is validated against the exchange's schema
(``schemas/<name>.json``, shipped in the package) and decoded with its codec; a frame passes
when both accept it. The report counts frames per message type and shows the first
failures with the JSON path of the bad value.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import IO, Any

import attrs
import jsonschema  # type: ignore[import-untyped]
from rich.console import Console
from rich.table import Table

from .._codecs import UnknownMessage
from ..errors import DecodeError
from ..exchanges import Exchange
from ..exchanges._base import SchemaNotFound
from ._common import EXIT_FAILURE, EXIT_OK, UsageError, json_line, message_type, write_line

__all__ = ["ConformOptions", "Failure", "check_frames", "load_schema", "run_conform"]

_NOT_JSON = "(not JSON)"


@attrs.frozen
class ConformOptions:
    """Options of ``trio-feeds conform``."""

    exchange: Exchange
    source: str  # a path, or "-" for standard input
    max_failures: int = 10
    json: bool = False


@attrs.frozen
class Failure:
    """One check a frame failed.

    Attributes:
        line: the frame's line number in the input (1-based).
        type: the message type (class name) it was taken for.
        check: ``"json"``, ``"schema"`` or ``"decoder"``.
        path: JSON path of the bad value (``$`` for the whole frame).
        reason: what was wrong.
    """

    line: int
    type: str
    check: str
    path: str
    reason: str


@attrs.define
class Report:
    """Counts per message type, and the failures (all of them; the output shows the first few)."""

    frames: Counter[str] = attrs.field(factory=Counter)
    failed: Counter[str] = attrs.field(factory=Counter)
    failures: list[Failure] = attrs.field(factory=list)

    @property
    def total(self) -> int:
        return sum(self.frames.values())

    @property
    def total_failed(self) -> int:
        return sum(self.failed.values())


@cache
def load_schema(exchange: Exchange) -> dict[str, Any]:
    """The exchange's JSON Schema (2020-12)."""
    try:
        return exchange.schema()
    except (SchemaNotFound, OSError) as exc:
        raise UsageError(f"{exc}; is trio-feeds installed properly?") from None


@cache
def _validator(exchange: Exchange, definition: str | None) -> Any:
    schema = load_schema(exchange)
    target = schema if definition is None else {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    cls = jsonschema.Draft202012Validator
    return cls(target, format_checker=cls.FORMAT_CHECKER)


def _schema_error(exchange: Exchange, definition: str | None, value: Any) -> tuple[str, str] | None:
    """(JSON path, message) of the most relevant schema error, or None when valid."""
    errors = list(_validator(exchange, definition).iter_errors(value))
    if not errors:
        return None
    best = jsonschema.exceptions.best_match(errors)
    return best.json_path, best.message


@cache
def _message_defs(exchange: Exchange) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every message ``$defs`` name -> (its class name, the def), both directions."""
    defs = load_schema(exchange)["$defs"]
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for union in ("ServerMessage", "ClientMessage"):
        for ref in defs.get(union, {}).get("anyOf", []):
            name = ref["$ref"].rsplit("/", 1)[1]
            # A def named <Type>Frame is an envelope around <Type> (Ranger's {stream: payload}).
            out[name] = (name.removesuffix("Frame"), defs[name])
    return out


def _guess_def(exchange: Exchange, value: Any) -> str | None:
    """The message ``$defs`` entry a frame most looks like (its tag constants, its keys)."""
    if not isinstance(value, dict):
        return None
    best: tuple[int, str] | None = None
    for name, (_, definition) in _message_defs(exchange).items():
        props = definition.get("properties", {})
        consts = {k: v["const"] for k, v in props.items() if "const" in v}
        patterns = definition.get("patternProperties", {})
        if consts:
            if not all(k in value and value[k] == c for k, c in consts.items()):
                continue
            score = 10 * len(consts)
        elif patterns:
            if not any(re.match(p, key) for p in patterns for key in value):
                continue
            score = 5
        else:
            required = definition.get("required", [])
            if not required or not all(k in value for k in required):
                continue
            score = len(required)
        if best is None or score > best[0]:
            best = (score, name)
    return None if best is None else best[1]


def _def_of(exchange: Exchange, message: object) -> str | None:
    """The ``$defs`` entry of a decoded message's class."""
    name = message_type(message)
    defs = _message_defs(exchange)
    if f"{name}Frame" in defs:
        return f"{name}Frame"
    return name if name in defs else None


def check_frames(exchange: Exchange, lines: Iterable[str]) -> Report:
    """Check every frame; return the counts and failures."""
    decode = exchange.decode
    report = Report()
    for number, line in _frames(lines):
        if line in exchange.text_frames:
            report.frames[f"text {line}"] += 1
            continue
        try:
            value = json.loads(line, parse_float=Decimal)
        except ValueError as exc:
            report.frames[_NOT_JSON] += 1
            report.failed[_NOT_JSON] += 1
            report.failures.append(Failure(number, _NOT_JSON, "json", "$", f"not valid JSON: {exc}"))
            continue
        failures: list[Failure] = []
        kind: str | None = None
        definition: str | None = None
        try:
            message = decode(line)
        except DecodeError as exc:
            decoded_error: DecodeError | None = exc
        else:
            decoded_error = None
            if isinstance(message, UnknownMessage):
                kind = message_type(message)
            else:
                kind = message_type(message)
                definition = _def_of(exchange, message)
        if definition is None:
            definition = _guess_def(exchange, value)
            if kind is None:
                kind = _message_defs(exchange)[definition][0] if definition else "(unrecognised)"
        assert kind is not None
        # The verdict is the whole schema's; the path comes from the message's own definition.
        if _schema_error(exchange, None, value) is not None:
            error = (definition and _schema_error(exchange, definition, value)) or _schema_error(
                exchange, None, value
            )
            assert error is not None
            failures.append(Failure(number, kind, "schema", error[0], error[1]))
        if decoded_error is not None:
            failures.append(Failure(number, kind, "decoder", decoded_error.path, decoded_error.reason))
        elif kind.startswith("Unknown("):
            tag = kind[len("Unknown(") : -1]
            failures.append(Failure(number, kind, "decoder", "$", f"unknown message type {tag!r}"))
        report.frames[kind] += 1
        if failures:
            report.failed[kind] += 1
            report.failures.extend(failures)
    return report


def _frames(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line


def _open_source(source: str) -> IO[str]:
    if source == "-":
        return sys.stdin
    try:
        return Path(source).open(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from None


def run_conform(options: ConformOptions) -> int:
    """Check the input; print the report; exit status 1 on any failure (or no frames at all)."""
    stream = _open_source(options.source)
    try:
        report = check_frames(options.exchange, stream)
    except UnicodeDecodeError:
        raise UsageError(f"{options.source}: not UTF-8 text") from None
    finally:
        if stream is not sys.stdin:
            stream.close()
    name = "standard input" if options.source == "-" else options.source
    if options.json:
        _print_json(options, report)
    else:
        _print_report(options, report, name)
    return EXIT_FAILURE if report.total_failed or not report.total else EXIT_OK


def _print_json(options: ConformOptions, report: Report) -> None:
    types = {
        kind: {"frames": n, "passed": n - report.failed[kind], "failed": report.failed[kind]}
        for kind, n in sorted(report.frames.items())
    }
    summary = {
        "protocol": options.exchange.name,
        "frames": report.total,
        "passed": report.total - report.total_failed,
        "failed": report.total_failed,
        "types": types,
        "failures": [attrs.asdict(f) for f in report.failures[: options.max_failures]],
    }
    write_line(json_line(summary))


def _print_report(options: ConformOptions, report: Report, name: str) -> None:
    console = Console(highlight=False)
    passed = report.total - report.total_failed
    if not report.total:
        console.print(f"[bold red]✘ {name}: no frames found[/]")
        return
    table = Table(title=f"{options.exchange.name} conformance: {name}", title_justify="left")
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
    if report.failures:
        shown = report.failures[: options.max_failures]
        console.print(f"[bold]first failures ({len(shown)} of {len(report.failures)}):[/]")
        for f in shown:
            console.print(f"  line {f.line}: {f.type}: {f.check}: {f.path}: {f.reason}", markup=False)
        console.print(f"[bold red]✘ {report.total_failed} of {report.total} frames failed[/]")
    else:
        console.print(f"[bold green]✔ all {report.total} frames pass the schema and the decoder[/]")
