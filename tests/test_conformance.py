"""Schema conformance: document examples, generated instances, and bad input, for every protocol.

The counts per protocol (examples, generated cases, bad-input cases, failures) are printed at
the end of the run by ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from tests._fixtures import (
    COUNTS,
    FIXTURES,
    PROTOCOLS,
    SEEDS,
    class_def,
    convention_validator,
    fixture_cases,
    fixture_text,
    fixture_value,
    load_json,
    manifest,
    message_defs,
    model_name,
    module,
    schema,
)
from trio_feeds import DecodeError, UnknownMessage

GENERATED_EXAMPLES = int(os.environ.get("TRIO_FEEDS_CONFORMANCE_EXAMPLES", "10"))


def _id(case: tuple[str, dict[str, Any]]) -> str:
    return f"{case[0]}:{case[1]['file']}"


@contextmanager
def _count(protocol: str, kind: str) -> Iterator[None]:
    """Count one case of ``kind`` for the summary table, and a failure if it raises."""
    COUNTS[protocol][kind] += 1
    try:
        yield
    except BaseException:
        COUNTS[protocol]["failures"] += 1
        raise


def _encoded_value(protocol: str, message: Any) -> Any:
    return load_json(module(protocol).encode(message))


# -- the fixture set itself ------------------------------------------------------------------


def test_every_schema_belongs_to_a_registered_exchange() -> None:
    """The suite runs over the registry: a schema without an exchange would go unchecked."""
    from tests._fixtures import SCHEMAS

    assert sorted(p.stem for p in SCHEMAS.glob("*.json")) == PROTOCOLS
    assert all((FIXTURES / p).is_dir() for p in PROTOCOLS)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_manifest_lists_every_fixture_file(protocol: str) -> None:
    listed = {e["file"] for e in manifest(protocol)}
    on_disk = {p.name for p in (FIXTURES / protocol).glob("*.json") if p.name != "manifest.json"}
    assert listed == on_disk
    classes = {name for _, name in message_defs(protocol)}
    for entry in manifest(protocol):
        assert entry["direction"] in ("server", "client")
        assert entry["class"] in classes, entry
        assert "skip_roundtrip" not in entry


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_message_class_has_an_example(protocol: str) -> None:
    covered = {e["class"] for e in manifest(protocol)}
    missing = {name for _, name in message_defs(protocol)} - covered
    assert not missing


def _seed_blocks(source: str) -> set[str]:
    """Every fenced or indented code block of a seed document, dedented."""
    text = (SEEDS / source).read_text()
    blocks = set()
    for match in re.finditer(r"```[a-zA-Z]*\n(.*?)```", text, re.S):
        blocks.add(textwrap.dedent(match.group(1)).strip("\n"))
    for match in re.finditer(r"\.\. code-block:: json\n\n((?:(?:[ \t]+.*)?\n)+)", text):
        blocks.add(textwrap.dedent(match.group(1)).strip("\n"))
    return blocks


def _verbatim_cases() -> list[tuple[str, dict[str, Any]]]:
    return [c for c in fixture_cases() if c[1].get("verbatim")]


@pytest.mark.seeds
@pytest.mark.parametrize("case", _verbatim_cases(), ids=_id)
def test_verbatim_fixture_is_in_its_document(case: tuple[str, dict[str, Any]]) -> None:
    protocol, entry = case
    assert fixture_text(protocol, entry).strip("\n") in _seed_blocks(entry["source"])


def _copied_cases() -> list[tuple[str, dict[str, Any]]]:
    return [c for c in fixture_cases() if c[1].get("copied")]


def _source_blocks(repo_dir: Path, commit: str, path: str) -> set[str]:
    """Every ``code-block:: json`` block of one file of a public source, dedented."""
    git_dir = repo_dir / "repo" if (repo_dir / "repo").exists() else repo_dir
    text = subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pattern = r"\.\. code-block:: json\n\n((?:(?:[ \t]+.*)?\n)+)"
    return {textwrap.dedent(m.group(1)).strip("\n") for m in re.finditer(pattern, text)}


@pytest.mark.parametrize("case", _copied_cases(), ids=_id)
def test_copied_fixture_names_its_source(case: tuple[str, dict[str, Any]]) -> None:
    _, entry = case
    repo, _, path = entry["source"].partition(" ")
    assert re.fullmatch(r"[\w.-]+/[\w.-]+", repo), entry
    assert path, entry
    assert re.fullmatch(r"[0-9a-f]{40}", entry["commit"]), entry
    if entry.get("template"):
        assert entry.get("invalid_json"), "a copied block that is not JSON says why"


@pytest.mark.sources
@pytest.mark.parametrize("case", _copied_cases(), ids=_id)
def test_copied_fixture_is_in_its_source(case: tuple[str, dict[str, Any]]) -> None:
    """Needs git mirrors of the public sources: ``TRIO_FEEDS_SOURCES=DIR pytest -m sources``."""
    protocol, entry = case
    repo, _, path = entry["source"].partition(" ")
    repo_dir = Path(os.environ["TRIO_FEEDS_SOURCES"]) / repo.replace("/", "+")
    blocks = _source_blocks(repo_dir, entry["commit"], path)
    assert fixture_text(protocol, entry).strip("\n") in blocks


@pytest.mark.seeds
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_document_block_is_a_fixture(protocol: str) -> None:
    """No JSON block of a seed document is left out of the fixtures."""
    sources = {e["source"] for e in manifest(protocol) if e.get("verbatim")}
    assert sources, "a protocol with no verbatim document examples"
    stored = {fixture_text(protocol, e).strip("\n") for e in manifest(protocol) if e.get("verbatim")}
    for source in sources:
        for block in _seed_blocks(source):
            looks_like_json = block.lstrip().startswith(("{", "["))
            if looks_like_json:
                assert block in stored, f"{source}: block not stored as a fixture:\n{block[:200]}"


# -- document examples -----------------------------------------------------------------------


@pytest.mark.parametrize("case", fixture_cases(), ids=_id)
def test_example_conforms(case: tuple[str, dict[str, Any]]) -> None:
    """Validates against the schema, decodes to its class, and round-trips."""
    protocol, entry = case
    with _count(protocol, "examples"):
        if entry.get("template"):
            # The document's block is a template (placeholders, trailing commas). Its keys must
            # be the instance's keys, at every level that the template spells out.
            template_keys = set(re.findall(r'"([A-Za-z_@][\w@]*)"\s*:', fixture_text(protocol, entry)))
            instance_keys = set(re.findall(r'"([A-Za-z_@][\w@]*)"\s*:', json.dumps(entry["instance"])))
            assert template_keys <= instance_keys, template_keys - instance_keys
        value = fixture_value(protocol, entry)
        direction = "ServerMessage" if entry["direction"] == "server" else "ClientMessage"
        convention_validator(protocol).validate(value)
        convention_validator(protocol, direction).validate(value)
        convention_validator(protocol, class_def(protocol, entry["direction"], entry["class"])).validate(
            value
        )
        text = json.dumps(value, default=str) if entry.get("template") else fixture_text(protocol, entry)
        if any(isinstance(v, Decimal) for v in _leaves(value)):
            text = fixture_text(protocol, entry)  # keep the document's exact number text
        message = module(protocol).decode(text)
        assert model_name(protocol, message) == entry["class"]
        expected = load_json(json.dumps(entry["encoded"])) if "encoded" in entry else value
        assert _encoded_value(protocol, message) == expected


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


# -- generated instances ---------------------------------------------------------------------


def _no_lone_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _for_generator(node: Any) -> Any:
    """hypothesis-jsonschema reads draft-7 tuples: 2020-12 ``prefixItems`` + ``items: false``
    become ``items: [...]`` + ``additionalItems: false`` (same meaning)."""
    if isinstance(node, dict):
        out = {k: _for_generator(v) for k, v in node.items()}
        if "prefixItems" in out:
            rest = out.pop("items", True)
            out["items"] = out.pop("prefixItems")
            out["additionalItems"] = rest
        return out
    if isinstance(node, list):
        return [_for_generator(v) for v in node]
    return node


def _generated_cases() -> list[tuple[str, str, str]]:
    return [(p, d, name) for p in PROTOCOLS for d, name in message_defs(p)]


@pytest.mark.slow
@pytest.mark.parametrize(("protocol", "direction", "name"), _generated_cases())
def test_generated_instances_decode_and_round_trip(protocol: str, direction: str, name: str) -> None:
    """Instances generated from the schema decode (or raise only DecodeError) and round-trip."""
    s = schema(protocol)
    ref = class_def(protocol, direction, name)
    strategy = from_schema(_for_generator({"$defs": s["$defs"], "$ref": f"#/$defs/{ref}"}))
    mod = module(protocol)
    codec = importlib.import_module(f"trio_feeds._codecs.{protocol}").codec

    @settings(
        max_examples=GENERATED_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(strategy)
    def check(instance: Any) -> None:
        text = json.dumps(instance, ensure_ascii=False)
        # JSON may spell a lone surrogate (\ud800) but no UTF-8 frame can carry one.
        assume(_no_lone_surrogates(text))
        COUNTS[protocol]["generated"] += 1
        # The generator does not know schemas/README.md's conventions (64-bit integers, a
        # pattern's `$` is the end of the text): what it makes beyond them must be refused.
        valid = convention_validator(protocol).is_valid(load_json(text))
        try:
            message = mod.decode(text)
        except DecodeError as exc:
            assert not valid, exc
            return
        assert valid, f"decoded what the schema's conventions refuse: {text[:200]}"
        assert not isinstance(message, UnknownMessage)
        # The strict path (without the fast one, trio_feeds/_codecs/_fastpath.py) agrees.
        assert codec.decode_strict(text) == message
        assert model_name(protocol, message) == name
        encoded = mod.encode(message)
        convention_validator(protocol).validate(load_json(encoded))
        assert mod.decode(encoded) == message

    with _count(protocol, "generated_classes"):
        check()


# -- bad input -------------------------------------------------------------------------------

_WRONG_VALUES: list[Any] = ["12", "false", 12, 1.5, True, None, [], {}, [1, 2]]

# Put at every string: forms `Decimal()` would take that a decimal string's pattern refuses,
# and other near misses. Wherever the schema refuses one, decode must refuse it too.
BAD_DECIMAL_STRINGS: list[str] = [
    " 1",
    "1 ",
    "1\n",
    "1_000",
    "\u0661\u0662\u0663.\u0664",  # Arabic-Indic digits
    "\uff11",  # a fullwidth digit
    "1e5",
    "1E-5",
    ".5",
    "5.",
    "-.5",
    "+1",
    "--1",
    "NaN",
    "Infinity",
    "-",
    "",
    "1.2.3",
    "0x10",
]

# Put at every integer: the edges of schemas/README.md's 64-bit range, and negatives.
EDGE_INTEGERS: list[int] = [-1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64 - 1]


def _json_kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float | Decimal):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(v)]


def _paths(value: Any, path: str = "$") -> Iterator[tuple[str, list[str | int]]]:
    """JSON paths of every value below the root, with their key lists."""

    def walk(v: Any, p: str, keys: list[str | int]) -> Iterator[tuple[str, list[str | int]]]:
        if keys:
            yield p, keys
        if isinstance(v, dict):
            for k, sub in v.items():
                step = f".{k}" if re.fullmatch(r"[A-Za-z_@][\w@]*", k) else f"[{json.dumps(k)}]"
                yield from walk(sub, p + step, [*keys, k])
        elif isinstance(v, list):
            for i, sub in enumerate(v):
                yield from walk(sub, f"{p}[{i}]", [*keys, i])

    yield from walk(value, path, [])


def _replace(value: Any, keys: list[str | int], new: Any) -> Any:
    copy = json.loads(_dump(value), parse_float=Decimal)
    target = copy
    for k in keys[:-1]:
        target = target[k]
    target[keys[-1]] = new
    return copy


def _dump(value: Any) -> str:
    class _Enc(json.JSONEncoder):
        def default(self, o: Any) -> Any:
            if isinstance(o, Decimal):
                return float(o)
            return super().default(o)

    return json.dumps(value, cls=_Enc)


@pytest.mark.parametrize("case", fixture_cases(), ids=_id)
def test_wrong_types_agree_with_schema(case: tuple[str, dict[str, Any]]) -> None:
    """Put a value of another JSON type at every path: decode fails exactly when the schema does.

    A failure must be a DecodeError naming that path (or the value's container, for tags);
    a wrong tag type makes the frame unknown, never an exception of another kind.
    """
    protocol, entry = case
    value = fixture_value(protocol, entry)
    mod = module(protocol)
    full = convention_validator(protocol)
    for path, keys in _paths(value):
        original = value
        for k in keys:
            original = original[k]
        kind = _json_kind(original)
        same_kind = BAD_DECIMAL_STRINGS if kind == "string" else EDGE_INTEGERS if kind == "integer" else []
        for wrong in [*_WRONG_VALUES, *same_kind]:
            if wrong not in same_kind and (
                _json_kind(wrong) == kind or {_json_kind(wrong), kind} <= {"integer", "number"}
            ):
                continue
            mutated = _replace(value, keys, wrong)
            with _count(protocol, "bad_input"):
                schema_ok = full.is_valid(load_json(_dump(mutated)))
                try:
                    message = mod.decode(_dump(mutated))
                except DecodeError as exc:
                    assert not schema_ok, f"{path}={wrong!r}: schema accepts, decode says {exc}"
                    got = _dotted(exc.path)
                    assert path.startswith(got) or got.startswith(path), (path, exc.path)
                    assert exc.protocol == protocol
                    continue
                if isinstance(message, UnknownMessage):
                    # The mutation hit the tag: no longer a known message, which the schema
                    # must agree with.
                    assert not schema_ok, f"{path}={wrong!r}: schema accepts an unknown message"
                    continue
                if wrong is None and not schema_ok and isinstance(keys[-1], str):
                    # Documented leniency: an *optional* field sent as null reads as absent.
                    # It is optional when the schema accepts the frame without it.
                    schema_ok = full.is_valid(load_json(_dump(_delete(value, keys))))
                assert schema_ok, f"{path}={wrong!r}: decode accepted what the schema rejects"


def _dotted(path: str) -> str:
    """A codec path in this file's spelling: the codec brackets every map key (``["BTC_USD"]``),
    ``_paths`` writes a key that is an identifier with a dot (``.BTC_USD``)."""
    return re.sub(r'\["([A-Za-z_@][\w@]*)"\]', r".\1", path)


def _delete(value: Any, keys: list[str | int]) -> Any:
    copy = json.loads(_dump(value), parse_float=Decimal)
    target = copy
    for k in keys[:-1]:
        target = target[k]
    del target[keys[-1]]
    return copy


@pytest.mark.parametrize("case", fixture_cases(), ids=_id)
def test_missing_required_fields_raise(case: tuple[str, dict[str, Any]]) -> None:
    protocol, entry = case
    value = fixture_value(protocol, entry)
    mod = module(protocol)
    for path, keys in _paths(value):
        container = value
        for k in keys[:-1]:
            container = container[k]
        if not isinstance(container, dict):
            continue
        mutated = _delete(value, keys)
        with _count(protocol, "bad_input"):
            schema_ok = convention_validator(protocol).is_valid(mutated)
            try:
                message = mod.decode(_dump(mutated))
            except DecodeError as exc:
                assert not schema_ok, f"without {path}: schema accepts, decode says {exc}"
                assert path.startswith(_dotted(exc.path)), (path, exc.path)
                continue
            if isinstance(message, UnknownMessage):
                assert not schema_ok
                continue
            assert schema_ok, f"without {path}: decode accepted what the schema rejects"


def _first_examples() -> list[tuple[str, dict[str, Any]]]:
    return [(p, next(e for e in manifest(p) if e["direction"] == "server")) for p in PROTOCOLS]


@pytest.mark.parametrize("case", _first_examples(), ids=_id)
@pytest.mark.parametrize(
    ("label", "mutate"),
    [
        ("truncated", lambda t: t[: len(t) // 2]),
        ("empty", lambda t: ""),
        ("not-an-object", lambda t: "[" + t + "]"),
        ("trailing-garbage", lambda t: t + "}"),
        ("deep-nesting", lambda t: "[" * 100_000 + "]" * 100_000),
        ("deep-object", lambda t: t[:-2] + ', "x": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}"),
        ("huge-number", lambda t: t[:-2] + ', "x": 1' + "0" * 5000 + "}"),
        ("nan", lambda t: t[:-2] + ', "x": NaN}'),
        ("not-utf8", lambda t: t.encode()[:-1] + b"\xff\xfe}"),
        ("lone-surrogate", lambda t: t[:-2] + ', "x": "\\ud800"}'),
    ],
)
def test_garbage_raises_decode_error(case: tuple[str, dict[str, Any]], label: str, mutate: Any) -> None:
    protocol, entry = case
    with _count(protocol, "bad_input"):
        text = fixture_text(protocol, entry) if not entry.get("template") else json.dumps(entry["instance"])
        frame = mutate(text.strip())
        try:
            result = module(protocol).decode(frame)
        except DecodeError as exc:
            assert exc.protocol == protocol
            assert str(exc).startswith(protocol)
            return
        # Some of these are still valid JSON with an extra unknown key ("x"): tolerated.
        assert label in {"deep-object", "huge-number", "lone-surrogate"}, f"{label} decoded: {result!r}"


@pytest.mark.parametrize("protocol", PROTOCOLS)
@given(data=st.binary(max_size=200))
@settings(max_examples=50, deadline=None, database=None)
def test_random_bytes_never_raise_anything_but_decode_error(protocol: str, data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        module(protocol).decode(data)


@pytest.mark.parametrize("case", fixture_cases(), ids=_id)
def test_unknown_extra_fields_are_tolerated(case: tuple[str, dict[str, Any]]) -> None:
    """Real servers add fields: an extra key, at the top or in any nested object, changes nothing."""
    protocol, entry = case
    value = fixture_value(protocol, entry)
    mod = module(protocol)
    expected = mod.decode(_dump(value))
    objects = [keys for _, keys in _paths(value) if isinstance(_at(value, keys), dict)]
    if not (protocol == "peatio" and entry["direction"] == "server"):
        objects.append([])  # a Ranger frame has exactly one key: extras go inside its payload
    for keys in objects:
        with _count(protocol, "bad_input"):
            mutated = json.loads(_dump(value), parse_float=Decimal)
            _at(mutated, keys)["x_added_by_server"] = {"nested": [1, "two", None]}
            if not convention_validator(protocol).is_valid(load_json(_dump(mutated))):
                # A map with constrained keys (price -> volume levels), not a message object.
                continue
            decoded = mod.decode(_dump(mutated))
            if "x_added_by_server" in repr(decoded):
                # An opaque map (e.g. an Onyx dashboard) keeps every key, as it should.
                continue
            assert decoded == expected


def _at(value: Any, keys: list[str | int]) -> Any:
    for k in keys:
        value = value[k]
    return value
