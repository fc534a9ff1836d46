"""Shared access to schemas and conformance fixtures for the tests."""

from __future__ import annotations

import importlib
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema

from trio_feeds import exchanges

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
FIXTURES = ROOT / "tests" / "fixtures"
# The protocol documents: beside the checkout in the project's workspace, not in the repository
# or the sdist. Tests marked `seeds` need them and are deselected without them (conftest.py).
SEEDS = Path(os.environ.get("TRIO_FEEDS_SEEDS") or ROOT.parent / "shared" / "seeds")
# The conformance suite runs over the registry's built-in exchanges (each has schemas/<name>.json
# and tests/fixtures/<name>/); test_conformance.py checks that no schema is left out.
PROTOCOLS = sorted(exchanges.BUILTIN_NAMES)

# Filled by the conformance tests, printed by conftest.pytest_terminal_summary.
COUNTS: defaultdict[str, Counter[str]] = defaultdict(Counter)


def load_json(text: str | bytes) -> Any:
    """Parse JSON the way a schema validator should see it: numbers exact (no float)."""
    return json.loads(text, parse_float=Decimal)


@cache
def schema(protocol: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{protocol}.json").read_text())


INT64 = (-(2**63), 2**63 - 1)
"""schemas/README.md: every JSON integer is a signed 64-bit integer (not repeated per field)."""


def _is_int64(checker: Any, instance: object) -> bool:
    return type(instance) is int and INT64[0] <= instance <= INT64[1]


def _ecma_pattern(validator: Any, pattern: str, instance: object, schema: Any) -> Iterator[Any]:
    """``pattern`` as JSON Schema means it (ECMA-262): a final ``$`` is the end of the text.

    The library uses Python's ``re.search``, whose ``$`` also matches before a final newline
    (``"1\n"`` would match ``^[0-9]+$``).
    """
    if not isinstance(instance, str):
        return
    anchored = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
    if re.search(anchored, instance) is None:
        yield jsonschema.ValidationError(f"{instance[:40]!r} does not match {pattern!r}")


ConventionValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    validators={"pattern": _ecma_pattern},
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_int64),
)
"""Draft 2020-12 with the conventions of schemas/README.md the library does not know."""


@cache
def validator(protocol: str, ref: str | None = None) -> jsonschema.Draft202012Validator:
    """Validator for the whole schema, or for one `$defs` entry (``ref`` is its name).

    The library as it is (``trio-feeds conform``'s reference). See :func:`convention_validator`
    for the schemas' conventions on top.
    """
    s = schema(protocol)
    target = s if ref is None else {"$defs": s["$defs"], "$ref": f"#/$defs/{ref}"}
    return jsonschema.Draft202012Validator(
        target, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@cache
def convention_validator(protocol: str, ref: str | None = None) -> Any:
    """As :func:`validator`, with the conventions of schemas/README.md the library does not know:
    64-bit integers, and a pattern's final ``$`` as the end of the text (what the codecs check)."""
    s = schema(protocol)
    target = s if ref is None else {"$defs": s["$defs"], "$ref": f"#/$defs/{ref}"}
    return ConventionValidator(target, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def module(protocol: str) -> ModuleType:
    return importlib.import_module(f"trio_feeds.{protocol}")


def manifest(protocol: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURES / protocol / "manifest.json").read_text())


def fixture_cases() -> list[tuple[str, dict[str, Any]]]:
    return [(p, entry) for p in PROTOCOLS for entry in manifest(p)]


def fixture_text(protocol: str, entry: dict[str, Any]) -> str:
    return (FIXTURES / protocol / entry["file"]).read_text()


def fixture_value(protocol: str, entry: dict[str, Any]) -> Any:
    """The concrete message of a fixture: the instance for templates, else the file's JSON."""
    if entry.get("template"):
        return entry["instance"]
    return load_json(fixture_text(protocol, entry))


def message_defs(protocol: str) -> list[tuple[str, str]]:
    """(direction, def name) for every message class listed in ServerMessage/ClientMessage."""
    out = []
    defs = schema(protocol)["$defs"]
    for direction, union in (("server", "ServerMessage"), ("client", "ClientMessage")):
        for ref in defs.get(union, {}).get("anyOf", []):
            name = ref["$ref"].rsplit("/", 1)[1]
            # Ranger frames are envelopes; the class a frame decodes to is the payload's.
            out.append((direction, name.removesuffix("Frame") if protocol == "peatio" else name))
    return out


def class_def(protocol: str, direction: str, name: str) -> str:
    """The `$defs` entry that validates a whole frame of this class."""
    if protocol == "peatio" and direction == "server":
        return name + "Frame"
    return name


def model_name(protocol: str, message: object) -> str:
    """Class name of a decoded message; Ranger stream messages are named by their payload."""
    if protocol == "peatio":
        data = getattr(message, "data", None)
        if data is not None and type(message).__name__ == "StreamMessage":
            # Payloads that are not classes: the global.tickers map and the k-line array.
            if isinstance(data, dict):
                return "GlobalTickers"
            if isinstance(data, tuple):
                return "KLine"
            # The generated class (a TextError is an Error that came as a plain string).
            generated = (c for c in type(data).__mro__ if c.__module__ == "trio_feeds.models.peatio")
            return next(generated).__name__
    return type(message).__name__
