"""The schema side of ``trio-feeds conform``: one verdict from two validators, and drift.

The reference is the Python ``jsonschema`` validator on the frame parsed with exact decimals
(``json.loads(..., parse_float=Decimal)``), reading the schemas as the decoder does
(schemas/README.md): a JSON integer is a signed 64-bit integer, and a pattern's final ``$`` is
the end of the text (JSON Schema's ECMA-262 meaning; Python's ``$`` also matches before a final
newline). That is what "conforms" means: the decoder's verdict on the schema. It checks about a
thousand frames a second, so every frame it provably agrees with goes to a compiled validator
(``jsonschema-rs``) instead, fifty to a hundred times faster. They agree when

* the schema keeps to what both read alike (:func:`compiled_validator_unsafe`, checked once:
  regexes in a subset both engines read alike, no ``multipleOf``, integer numeric limits);
* the frame's strings are printable ASCII (:meth:`SchemaChecks.agrees`, per frame: the regex
  engines differ on non-ASCII classes, and on a newline before a ``$`` that is not the
  pattern's last character) and it has no run of 19 digits (the smallest integer beyond 64
  bits has 19; the compiled validator takes any integer up to 2^64 - 1 for one);
* formats are checked by the reference's own checkers in both, and a Decimal (``5.0``) is an
  integer in neither (the compiled validator takes any whole number for one).

Other frames go to the reference. The reference also explains the failures shown, with its most
relevant error (the compiled validator only says that a frame matched none of a union's
branches). tests/test_conform_cli.py compares the two on every fixture and bad-input case.

Drift, the fields a schema does not know, is found by walking a frame alongside a
:class:`Shape` built once per message definition from the schema's ``properties``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import cache, partial
from typing import Any

import attrs
import jsonschema  # type: ignore[import-untyped]
import jsonschema_rs

from .._codecs._converter import ecma_search
from .._codecs._scalars import INT_MAX, INT_MIN
from ..exchanges import Exchange
from ..exchanges._base import SchemaNotFound
from ._common import UsageError

__all__ = ["SchemaChecks", "Shape", "compiled_validator_unsafe", "load_schema", "schema_checks"]


@cache
def load_schema(exchange: Exchange) -> dict[str, Any]:
    """The exchange's JSON Schema (2020-12)."""
    try:
        return exchange.schema()
    except (SchemaNotFound, OSError) as exc:
        raise UsageError(f"{exc}; is trio-feeds installed properly?") from None


_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_ONE = (
    "items",
    "additionalProperties",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
)
_SCHEMA_LISTS = ("prefixItems", "allOf", "anyOf", "oneOf")


def _subschemas(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The schemas directly inside a schema (boolean schemas left out)."""
    for key in _SCHEMA_MAPS:
        value = node.get(key)
        if isinstance(value, dict):
            yield from (s for s in value.values() if isinstance(s, dict))
    for key in _SCHEMA_ONE:
        value = node.get(key)
        if isinstance(value, dict):
            yield value
        elif isinstance(value, list):  # draft-7 style tuple items
            yield from (s for s in value if isinstance(s, dict))
    for key in _SCHEMA_LISTS:
        value = node.get(key)
        if isinstance(value, list):
            yield from (s for s in value if isinstance(s, dict))


def _all_schemas(root: dict[str, Any]) -> Iterator[dict[str, Any]]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(_subschemas(node))


_LIMITS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_SAFE_ESCAPES = frozenset("dDwWsS")
_QUANTIFIER = re.compile(r"\{[0-9]+(,[0-9]*)?\}")


def _regex_safe(pattern: str) -> bool:
    r"""Whether both regex engines read ``pattern`` alike on printable ASCII text.

    A conservative subset: literals, escaped punctuation, ``\d \w \s`` and their negations,
    classes of literals and ranges, ``(...)`` and ``(?:...)`` groups, ``| . ^ $`` and greedy or
    lazy quantifiers. Flags, look-arounds, back references, POSIX classes and class set
    operations (which Rust's engine has and Python's reads as literals) are out.
    """
    i, n, atom = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n or not _safe_escape(pattern[i + 1]):
                return False
            i, atom = i + 2, True
        elif c == "[":
            end = _class_end(pattern, i)
            if end < 0:
                return False
            i, atom = end, True
        elif c == "(":
            if pattern.startswith("(?:", i):
                i += 3
            elif pattern.startswith("(?", i):
                return False
            else:
                i += 1
            atom = False
        elif c in "*+?{":
            if c == "{":
                match = _QUANTIFIER.match(pattern, i)
                if match is None:
                    return False
                i = match.end()
            else:
                i += 1
            if not atom:
                return False
            if i < n and pattern[i] == "?":  # lazy
                i += 1
            if i < n and pattern[i] in "*+?{":  # possessive, or stacked quantifiers
                return False
            atom = False
        elif c in ")." or (c.isprintable() and c not in "]}"):
            i, atom = i + 1, c not in "|^$"
        else:
            return False
    return True


def _safe_escape(c: str) -> bool:
    return c in _SAFE_ESCAPES or (c.isascii() and c.isprintable() and not c.isalnum() and c != " ")


def _class_end(pattern: str, start: int) -> int:
    """The index after a safe ``[...]`` class starting at ``start``, or -1."""
    i = start + 1
    if pattern.startswith("^", i):
        i += 1
    if pattern.startswith("]", i):  # a leading ] is a literal in one engine, maybe not another
        return -1
    while i < len(pattern):
        c = pattern[i]
        if c == "]":
            return i + 1
        if c == "[" or pattern.startswith(("&&", "--", "~~"), i):  # nesting, set operations
            return -1
        if c == "\\":
            if i + 1 >= len(pattern) or not _safe_escape(pattern[i + 1]):
                return -1
            i += 2
        elif c.isprintable():
            i += 1
        else:
            return -1
    return -1


def compiled_validator_unsafe(schema: dict[str, Any]) -> str | None:
    """Why the compiled validator might judge a frame of this schema unlike the reference.

    ``None`` when it cannot (for frames whose strings are printable ASCII): every regex is in
    the subset both engines read alike, no ``multipleOf`` (float arithmetic differs), and no
    number that is not an integer in a limit, a ``const`` or an ``enum`` (the reference
    compares an exact Decimal with the float, the compiled validator with the number's text).
    """
    for node in _all_schemas(schema):
        patterns = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        props = node.get("patternProperties")
        if isinstance(props, dict):
            patterns.extend(props)
        for pattern in patterns:
            if not _regex_safe(pattern):
                return f"the pattern {pattern!r} may read differently in the two regex engines"
        if "multipleOf" in node:
            return "the schema uses multipleOf"
        for key in _LIMITS:
            if isinstance(node.get(key), float):
                return f"the schema has a non-integer {key}"
        if ("const" in node and _has_float(node["const"])) or _has_float(node.get("enum")):
            return "the schema has a non-integer number in a const or an enum"
    return None


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return False


_NOT_DECIMAL = "x-trio-feeds-decimal-is-not-integer"


class _DecimalIsNotInteger:
    """A keyword beside ``"type": "integer"`` in the compiled validator's copy of a schema.

    The reference parses ``5.0`` and ``1e2`` to :class:`~decimal.Decimal`, which it never takes
    for an integer; the compiled validator takes any whole number for one. This keeps the
    reference's reading.
    """

    def __init__(self, parent_schema: dict[str, Any], value: Any, schema_path: list[str | int]) -> None:
        pass

    def validate(self, instance: Any) -> None:
        """Reject a Decimal where only an integer is allowed."""
        if type(instance) is Decimal:
            raise ValueError(f"{instance} is not of type 'integer'")


def _for_compiled(node: Any) -> Any:
    """A copy of a schema with :class:`_DecimalIsNotInteger` beside every integer-only type.

    Only schemas change, not values that look like them (a ``const``, an ``enum``).
    """
    if not isinstance(node, dict):
        return node
    out = dict(node)
    for key in _SCHEMA_MAPS:
        if isinstance(node.get(key), dict):
            out[key] = {name: _for_compiled(sub) for name, sub in node[key].items()}
    for key in (*_SCHEMA_ONE, *_SCHEMA_LISTS):
        value = node.get(key)
        if isinstance(value, dict):
            out[key] = _for_compiled(value)
        elif isinstance(value, list):
            out[key] = [_for_compiled(sub) for sub in value]
    types = node.get("type")
    named = {types} if isinstance(types, str) else set(types) if isinstance(types, list) else set()
    if "integer" in named and "number" not in named:
        out[_NOT_DECIMAL] = True
    return out


def _compile(schema: dict[str, Any], formats: dict[str, Callable[[Any], bool]] | None = None) -> Any:
    """The compiled validator of a schema, reading decimals and formats as the reference does."""
    return jsonschema_rs.Draft202012Validator(
        _for_compiled(schema),
        validate_formats=True,
        formats=_reference_formats(schema) if formats is None else formats,
        keywords={_NOT_DECIMAL: _DecimalIsNotInteger},
    )


_PROBE_FORMAT = "x-trio-feeds-probe"


def _probe_format(value: object) -> bool:
    return value == "ok"


@cache
def _compiled_reads_like_the_reference() -> bool:
    """Whether the installed jsonschema-rs applies our keyword and our format checkers.

    Versions before 0.49 silently ignore part of them, and would give other verdicts.
    """
    schema = {"properties": {"n": {"type": "integer"}, "f": {"format": _PROBE_FORMAT}}}
    probe = _compile(schema, {_PROBE_FORMAT: _probe_format})
    return bool(
        probe.is_valid({"n": 5, "f": "ok"})
        and not probe.is_valid({"n": Decimal("5")})
        and not probe.is_valid({"f": "not ok"})
    )


def _reference_formats(schema: dict[str, Any]) -> dict[str, Callable[[Any], bool]]:
    """Every format the schema names, checked as the reference checks it (or not at all)."""
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    names = {n["format"] for n in _all_schemas(schema) if isinstance(n.get("format"), str)}
    return {
        name: partial(checker.conforms, format=name) if name in checker.checkers else _any_value
        for name in names
    }


def _any_value(value: object) -> bool:
    return True


def _is_int64(checker: Any, instance: object) -> bool:
    """A JSON integer, as the decoder takes one: a signed 64-bit integer (never a bool or a Decimal)."""
    return type(instance) is int and INT_MIN <= instance <= INT_MAX


def _ecma_pattern(validator: Any, pattern: str, instance: object, schema: Any) -> Iterator[Any]:
    r"""``pattern`` as the decoder checks it: a final ``$`` is the end of the text, not before a ``\n``."""
    if isinstance(instance, str) and ecma_search(pattern)(instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_ReferenceValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    validators={"pattern": _ecma_pattern},
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_int64),
)
"""Draft 2020-12 reading the schema's conventions as the decoder does (the module docstring)."""


def _reference(schema: dict[str, Any], definition: str | None = None) -> Any:
    target = schema if definition is None else {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    return _ReferenceValidator(target, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _explain(reference: Any, value: Any) -> tuple[str, str] | None:
    """(JSON path, message) of the reference's most relevant error, or None when valid."""
    try:
        errors = list(reference.iter_errors(value))
    except RecursionError:
        return "$", "nested too deeply to validate"
    if not errors:
        return None
    best = jsonschema.exceptions.best_match(errors)
    return best.json_path, best.message


def _compiled_error(validator: Any, value: Any) -> tuple[str, str]:
    """(JSON path, message) of the compiled validator's first error (it rejected ``value``)."""
    error = next(iter(validator.iter_errors(value)))
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else _step(p) for p in error.instance_path)
    return path, error.message


_LONG_DIGITS = re.compile(r"[0-9]{19}")
"""19 digits in a row: a number at or beyond 10^18 may be (or a string may look like) 2^63 or more."""

_IDENTIFIER = re.compile(r"[A-Za-z_@$][\w@$]*")


def _step(key: str) -> str:
    return f".{key}" if _IDENTIFIER.fullmatch(key) else f"[{json.dumps(key)}]"


# -- drift: fields the schema does not know ------------------------------------------------


@attrs.frozen
class Shape:
    """What a schema knows of the values at one place in a message, for finding extra fields.

    Attributes:
        known: the field names of an object there; None where its keys are data (a map).
        patterns: key patterns (``patternProperties``) that make a key known.
        fields: the shapes of known fields' values (only those with something to check).
        by_pattern: the shapes of the values of keys matching a pattern.
        rest: the shape of the values of other keys of a map.
        items: the shape of an array's elements.
    """

    known: frozenset[str] | None = frozenset()
    patterns: tuple[re.Pattern[str], ...] = ()
    fields: tuple[tuple[str, Shape], ...] = ()
    by_pattern: tuple[tuple[re.Pattern[str], Shape], ...] = ()
    rest: Shape | None = None
    items: Shape | None = None

    def extra_fields(self, value: Any, path: str, found: set[str]) -> None:
        """Add to ``found`` the path of every field in ``value`` this shape does not know.

        Array elements are ``[*]`` and map keys ``.*`` in the paths, so that frames count
        together whatever their indexes and keys.
        """
        if type(value) is dict:
            known = self.known
            if known is not None and not known.issuperset(value):
                for key in value:
                    if key not in known and not any(p.search(key) for p in self.patterns):
                        found.add(path + _step(key))
            for name, shape in self.fields:
                child = value.get(name)
                if child is not None:
                    shape.extra_fields(child, path + _step(name), found)
            if self.by_pattern or self.rest is not None:
                self._map_values(value, path, found)
        elif type(value) is list and self.items is not None:
            for child in value:
                self.items.extra_fields(child, path + "[*]", found)

    def _map_values(self, value: dict[str, Any], path: str, found: set[str]) -> None:
        known = self.known or frozenset()
        for key, child in value.items():
            if key in known:
                continue
            shapes = [s for p, s in self.by_pattern if p.search(key)]
            if not shapes and self.rest is not None:
                shapes = [self.rest]
            for shape in shapes:
                shape.extra_fields(child, path + ".*", found)


def _merge(a: Shape | None, b: Shape | None) -> Shape | None:
    """The shape of a value that may match either schema: what either knows is known."""
    if a is None or b is None:
        return a if b is None else b
    fields = dict(a.fields)
    for name, shape in b.fields:
        merged = _merge(fields.get(name), shape)
        assert merged is not None  # shape is not None
        fields[name] = merged
    return Shape(
        known=None if a.known is None or b.known is None else a.known | b.known,
        patterns=a.patterns + b.patterns,
        fields=tuple(fields.items()),
        by_pattern=a.by_pattern + b.by_pattern,
        rest=_merge(a.rest, b.rest),
        items=_merge(a.items, b.items),
    )


class _ShapeBuilder:
    """Builds :class:`Shape` trees from a schema, following its local ``$ref`` s."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._defs: dict[str, Any] = schema.get("$defs", {})
        self._building: set[str] = set()

    def build(self, node: Any) -> Shape | None:
        """The shape of a schema; None when nothing at or below it can be an unknown field."""
        if not isinstance(node, dict):
            return None
        shape = self._own(node)
        ref = node.get("$ref")
        if isinstance(ref, str):
            shape = _merge(shape, self._ref(ref))
        for key in ("allOf", "anyOf", "oneOf"):
            for branch in node.get(key, ()):
                shape = _merge(shape, self.build(branch))
        return shape

    def _ref(self, ref: str) -> Shape | None:
        name = ref.removeprefix("#/$defs/")
        if name == ref or name in self._building or name not in self._defs:
            return None  # not a local definition, or one inside itself: not followed
        self._building.add(name)
        try:
            return self.build(self._defs[name])
        finally:
            self._building.discard(name)

    def _own(self, node: dict[str, Any]) -> Shape | None:
        props = node.get("properties")
        patterns = node.get("patternProperties")
        rest = node.get("additionalProperties")
        items = self.build(node.get("items"))
        for sub in node.get("prefixItems", ()):
            items = _merge(items, self.build(sub))
        if not isinstance(props, dict) and not isinstance(patterns, dict) and not isinstance(rest, dict):
            return None if items is None else Shape(known=None, items=items)
        props = props if isinstance(props, dict) else {}
        patterns = patterns if isinstance(patterns, dict) else {}
        compiled = {p: re.compile(p) for p in patterns}
        return Shape(
            # An object whose other keys must match a schema is a map: its keys are data.
            known=None if isinstance(rest, dict) else frozenset(props),
            patterns=tuple(compiled.values()),
            fields=tuple((k, s) for k, v in props.items() if (s := self.build(v)) is not None),
            by_pattern=tuple(
                (compiled[p], s) for p, v in patterns.items() if (s := self.build(v)) is not None
            ),
            rest=self.build(rest),
            items=items,
        )


@attrs.frozen
class _DefInfo:
    """A message definition, as :func:`SchemaChecks.guess_def` matches frames against it."""

    name: str
    kind: str
    consts: tuple[tuple[str, Any], ...]
    patterns: tuple[re.Pattern[str], ...]
    required: tuple[str, ...]


class SchemaChecks:
    """Everything ``conform`` needs of one exchange, built once: validators, definitions, shapes."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.schema = load_schema(exchange)
        self.reference = _reference(self.schema)
        unsafe = compiled_validator_unsafe(self.schema)
        self.compiled: Any = None
        self.validator = f"reference only: {unsafe}" if unsafe else "compiled"
        if unsafe is None:
            try:
                self.compiled = _compile(self.schema)
            except (ValueError, TypeError, jsonschema_rs.ReferencingError) as exc:
                self.validator = f"reference only: the compiled validator refuses the schema ({exc})"
            else:
                if not _compiled_reads_like_the_reference():
                    self.compiled = None
                    self.validator = (
                        "reference only: the installed jsonschema-rs does not read decimals and "
                        "formats as the reference does (trio-feeds needs jsonschema-rs >= 0.49)"
                    )
        self.defs = self._message_defs()
        self.def_of_kind = {info.kind: name for name, info in self.defs.items()}
        builder = _ShapeBuilder(self.schema)
        self.shapes = {name: builder.build(self.schema["$defs"][name]) for name in self.defs}
        self._references: dict[str, Any] = {}

    def _message_defs(self) -> dict[str, _DefInfo]:
        """Every message ``$defs`` entry of the ServerMessage/ClientMessage unions."""
        defs = self.schema.get("$defs", {})
        out: dict[str, _DefInfo] = {}
        for union in ("ServerMessage", "ClientMessage"):
            for ref in defs.get(union, {}).get("anyOf", []):
                name = ref["$ref"].rsplit("/", 1)[1]
                definition = defs[name]
                props = definition.get("properties", {})
                out[name] = _DefInfo(
                    name=name,
                    # A def named <Type>Frame is an envelope around <Type> (Ranger's {stream: payload}).
                    kind=name.removesuffix("Frame"),
                    consts=tuple((k, v["const"]) for k, v in props.items() if "const" in v),
                    patterns=tuple(re.compile(p) for p in definition.get("patternProperties", {})),
                    required=tuple(definition.get("required", ())),
                )
        return out

    def guess_def(self, value: Any) -> str | None:
        """The message definition a frame most looks like (its tag constants, its keys)."""
        if not isinstance(value, dict):
            return None
        best: tuple[int, str] | None = None
        for name, info in self.defs.items():
            if info.consts:
                if not all(k in value and value[k] == c for k, c in info.consts):
                    continue
                score = 10 * len(info.consts)
            elif info.patterns:
                if not any(p.match(key) for p in info.patterns for key in value):
                    continue
                score = 5
            else:
                if not info.required or not all(k in value for k in info.required):
                    continue
                score = len(info.required)
            if best is None or score > best[0]:
                best = (score, name)
        return None if best is None else best[1]

    def agrees(self, text: str) -> bool:
        r"""Whether the compiled validator's verdict on this frame is the reference's.

        The schema keeps to what both read alike (else there is no compiled validator), and the
        frame's strings are printable ASCII: no non-ASCII character, no ``\u`` escape (which
        may spell a control or non-ASCII character) and no ``\n`` (before which Python's ``$``
        matches, where it is not a pattern's last character). Raw control characters are not
        JSON, so a frame that parses has none. Nor has it a run of 19 digits: an integer of 2^63
        or more is none for the reference (as for the decoder), but is one for the compiled
        validator up to 2^64 - 1.
        """
        return (
            self.compiled is not None
            and text.isascii()
            and "\\n" not in text
            and "\\u" not in text
            and _LONG_DIGITS.search(text) is None
        )

    def reference_valid(self, value: Any) -> bool:
        """The reference's verdict (a value nested too deeply for it is invalid)."""
        try:
            return bool(self.reference.is_valid(value))
        except RecursionError:
            return False

    def explain(self, value: Any, definition: str | None) -> tuple[str, str]:
        """(JSON path, message) of why the schema rejects ``value``.

        The path comes from the message's own definition when there is one (the whole schema
        is a union of them, whose most relevant error is less precise).
        """
        if definition is not None:
            found = _explain(self._reference_for(definition), value)
            if found is not None:
                return found
        found = _explain(self.reference, value)
        if found is not None:
            return found
        # Only the compiled validator rejected it: the two disagree, which their agreement
        # rules should exclude. Say what it saw rather than nothing.
        path, message = _compiled_error(self.compiled, value)
        return path, f"{message} (the compiled validator's verdict)"

    def _reference_for(self, definition: str) -> Any:
        if definition not in self._references:
            self._references[definition] = _reference(self.schema, definition)
        return self._references[definition]


@cache
def schema_checks(exchange: Exchange) -> SchemaChecks:
    return SchemaChecks(exchange)
