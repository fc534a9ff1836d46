"""``trio-feeds conform``: the compiled validator against the reference, input forms, failure
counting, drift, progress and streaming. (The command's basic runs are in tests/test_cli.py.)"""

from __future__ import annotations

import gzip
import json
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import jsonschema_rs
import msgspec
import pytest

from tests import fifth
from tests._fixtures import (
    PROTOCOLS,
    convention_validator,
    fixture_text,
    fixture_value,
    load_json,
    manifest,
    schema,
)
from tests.test_cli import _good_frames, json_lines, run
from tests.test_conformance import _WRONG_VALUES, _delete, _dump, _paths, _replace
from trio_feeds import exchanges
from trio_feeds.cli import conform, main
from trio_feeds.cli._common import UsageError
from trio_feeds.cli._conform_input import Frame
from trio_feeds.cli._conform_schema import (
    _NOT_DECIMAL,
    SchemaChecks,
    _compiled_reads_like_the_reference,
    _for_compiled,
    _regex_safe,
    schema_checks,
)
from trio_feeds.cli.conform import (
    ConformOptions,
    check_frames,
    compiled_validator_unsafe,
    read_input,
    run_conform,
    wants_progress,
)
from trio_feeds.errors import DecodeError

# -- the compiled validator gives the reference's verdicts -----------------------------------


def _reference_verdict(protocol: str, frame: str | bytes) -> str:
    """What the reference says: "not JSON", "valid" or "invalid".

    The reference reads the schema as the decoder does (64-bit integers, a final ``$`` at the
    end of the text): tests/_fixtures.py's convention validator.
    """
    try:
        value = json.loads(frame, parse_float=Decimal)
    except (ValueError, RecursionError):
        return "not JSON"
    try:
        ok = convention_validator(protocol).is_valid(value)
    except RecursionError:
        return "invalid"
    return "valid" if ok else "invalid"


def _conform_verdict(protocol: str, frame: str | bytes) -> str:
    report = check_frames(exchanges.get(protocol), [frame], keep=0)
    assert report.total == 1
    if report.checks["json"]:
        return "not JSON"
    return "invalid" if report.checks["schema"] else "valid"


def _one_line(protocol: str, entry: dict[str, Any]) -> str:
    if entry.get("template"):
        return json.dumps(entry["instance"])
    return " ".join(fixture_text(protocol, entry).split())  # no fixture has whitespace in a string


_NUMBER = "@@number@@"
# Strings where the two regex engines differ (a final newline, a \s only Python has, digits
# of other scripts), date-times where the two format checkers differ (a leap second), and
# numbers the reference never takes for integers (Decimal) or does not parse strictly.
_TRICKY_SUFFIXES = ["\n", "\u001c"]
_TRICKY_STRINGS = ["\u0661\u0662", "2024-12-31T23:59:60Z"]
_TRICKY_NUMBERS = [
    "5.0",
    "1e2",
    "1E+400",
    "NaN",
    # 64-bit limits: the decoder takes a signed 64-bit integer only (the compiled validator
    # would take any up to 2^64 - 1).
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "1" + "0" * 30,
]


def _bad_inputs(protocol: str) -> Iterator[str | bytes]:
    """The fixtures, and tests/test_conformance.py's bad input made of them, plus tricky values."""
    for entry in manifest(protocol):
        value = fixture_value(protocol, entry)
        yield _one_line(protocol, entry)
        for _, keys in _paths(value):
            original = value
            for k in keys:
                original = original[k]
            for wrong in _WRONG_VALUES:
                yield _dump(_replace(value, keys, wrong))
            if isinstance(keys[-1], str):
                yield _dump(_delete(value, keys))
                renamed = _delete(value, keys)
                parent = renamed
                for k in keys[:-1]:
                    parent = parent[k]
                parent[keys[-1] + "\n"] = original  # a key the patterns may or may not match
                yield _dump(renamed)
            if isinstance(original, str):
                for suffix in _TRICKY_SUFFIXES:
                    yield _dump(_replace(value, keys, original + suffix))
                for tricky in _TRICKY_STRINGS:
                    yield _dump(_replace(value, keys, tricky))
            elif isinstance(original, int | Decimal) and not isinstance(original, bool):
                for tricky in _TRICKY_NUMBERS:
                    yield _dump(_replace(value, keys, _NUMBER)).replace(f'"{_NUMBER}"', tricky)


def _garbage(protocol: str) -> list[str | bytes]:
    """tests/test_conformance.py's garbage (but the empty frame: conform skips blank lines)."""
    text = _one_line(protocol, next(e for e in manifest(protocol) if e["direction"] == "server"))
    return [
        text[: len(text) // 2],
        "[" + text + "]",
        text + "}",
        "[" * 100_000 + "]" * 100_000,
        text[:-1] + ', "x": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}",
        text[:-1] + ', "x": ' + '{"a": ' * 900 + "1" + "}" * 900 + "}",
        text[:-1] + ', "x": 1' + "0" * 5000 + "}",
        text[:-1] + ', "x": NaN}',
        text.encode()[:-1] + b"\xff\xfe}",
        text[:-1] + ', "x": "\\ud800"}',
    ]


# The reference takes 1-4 ms a frame: by default every 6th bad-input case (all garbage) is
# compared; TRIO_FEEDS_AGREEMENT_STRIDE=1 compares all of them (about 10,000, a minute).
STRIDE = int(os.environ.get("TRIO_FEEDS_AGREEMENT_STRIDE", "6"))


@pytest.mark.slow
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_conform_gives_the_reference_verdict_on_every_case(protocol: str) -> None:
    """Fixtures and bad input: conform's schema verdict is the reference's, and so is the
    compiled validator's on every frame conform hands it (most of them)."""
    checker = schema_checks(exchanges.get(protocol))
    assert checker.validator == "compiled"
    cases = [*list(_bad_inputs(protocol))[::STRIDE], *_garbage(protocol)]
    compiled = 0
    for frame in cases:
        expected = _reference_verdict(protocol, frame)
        assert _conform_verdict(protocol, frame) == expected, frame
        if isinstance(frame, str) and checker.agrees(frame):
            try:
                value = msgspec.json.Decoder(float_hook=Decimal).decode(frame)
            except (ValueError, RecursionError):
                continue  # conform gives the reference what only the standard library parses
            compiled += 1
            assert checker.compiled.is_valid(value) == (expected == "valid"), frame
    # The 64-bit cases (19 digits and more) all go to the reference: about a tenth of them.
    assert compiled > 0.65 * len(cases)


def _decoder_verdict(protocol: str, frame: str) -> str:
    try:
        exchanges.get(protocol).decode(frame)
    except DecodeError:
        return "invalid"
    return "valid"


@pytest.mark.parametrize(
    ("frame", "verdict"),
    [
        ('{"jwt": "Bearer abc"}', "valid"),
        # Python's $ matches before a final newline; JSON Schema's and the decoder's do not.
        ('{"jwt": "Bearer abc\\n"}', "invalid"),
        ('{"global.tickers": {"btcusd": {"price_change_percent": "+1.25%"}}}', "valid"),
        ('{"global.tickers": {"btcusd": {"price_change_percent": "+1.25%\\n"}}}', "invalid"),
    ],
)
def test_a_final_dollar_is_the_end_of_the_text_as_in_the_decoder(frame: str, verdict: str) -> None:
    assert _decoder_verdict("peatio", frame) == verdict
    assert _conform_verdict("peatio", frame) == verdict
    assert _reference_verdict("peatio", frame) == verdict


@pytest.mark.parametrize(
    ("number", "verdict"),
    [
        ("9223372036854775807", "valid"),
        ("-9223372036854775808", "valid"),
        ("9223372036854775808", "invalid"),  # 2^63: beyond the decoder's signed 64 bits
        ("-9223372036854775809", "invalid"),
        ("18446744073709551615", "invalid"),  # 2^64 - 1: an integer to the compiled validator
        ("1" + "0" * 25, "invalid"),
    ],
)
def test_integers_are_64_bit_as_in_the_decoder(number: str, verdict: str) -> None:
    frame = '{"btcusd.ob-inc": {"asks": ["100.5", "1"], "sequence": NUMBER}}'.replace("NUMBER", number)
    assert _decoder_verdict("peatio", frame) == verdict
    assert _conform_verdict("peatio", frame) == verdict
    assert _reference_verdict("peatio", frame) == verdict
    # The compiled validator would take 2^63 .. 2^64 - 1: such frames go to the reference.
    assert not schema_checks(exchanges.get("peatio")).agrees(frame)


class _RiskyTicker(fifth.TickerExchange):
    """The fifth exchange with a schema the compiled validator may read differently."""

    name = "risky-ticker"

    def schema(self) -> dict[str, Any]:
        s = super().schema()
        s["$defs"]["Tick"]["properties"]["symbol"]["pattern"] = "^(?=[A-Z])[A-Z]{2,10}$"  # a look-ahead
        return s


def test_a_schema_beyond_the_shared_subset_is_checked_by_the_reference() -> None:
    risky = _RiskyTicker()
    good = '{"type": "tick", "symbol": "BTC", "seq": 1, "price": "100.25"}'
    bad = '{"type": "tick", "symbol": "btc", "seq": 1, "price": "100.25"}'
    report = check_frames(risky, [good, bad])
    assert schema_checks(risky).compiled is None
    assert report.validator.startswith("reference only: the pattern '^(?=[A-Z])")
    assert (report.total, report.total_failed) == (2, 1)
    # The decoder checks the field's pattern too (the one of the generated models).
    assert [(f.line, f.check, f.path) for f in report.failures] == [
        (2, "schema", "$.symbol"),
        (2, "decoder", "$.symbol"),
    ]


@pytest.mark.parametrize(
    ("pattern", "safe"),
    [
        ("^[-+]?[0-9]+(\\.[0-9]+)?$", True),
        ("^[a-z0-9_]+\\.ob-snap$", True),
        ("^Bearer \\S+$", True),
        ("^[A-Z]{2,10}$", True),
        ("^(?:ab|cd)*?x$", True),
        ("^(?=a)", False),  # look-ahead
        ("(?i)abc", False),  # flags
        ("[[:alpha:]]", False),  # a POSIX class in one engine, a nested set in the other
        ("[a-z&&[^x]]", False),
        ("[0-9--4]", False),  # class difference in one engine, literals in the other
        ("(a)\\1", False),  # back reference
        ("\\bword", False),
        ("a{2", False),  # a literal brace in one engine, an error in the other
        ("a++", False),  # possessive
        ("\\Z", False),
        ("[]a]", False),
        ("[a", False),
        ("*a", False),
    ],
)
def test_regex_subset(pattern: str, safe: bool) -> None:
    assert _regex_safe(pattern) is safe


def test_what_keeps_the_compiled_validator_out() -> None:
    assert compiled_validator_unsafe({"type": "integer", "minimum": 1}) is None
    assert compiled_validator_unsafe({"multipleOf": 2}) == "the schema uses multipleOf"
    assert compiled_validator_unsafe({"properties": {"p": {"maximum": 0.1}}}) == (
        "the schema has a non-integer maximum"
    )
    assert "may read differently" in str(compiled_validator_unsafe({"patternProperties": {"(?i)x": {}}}))
    # Decimal("0.1") is not the float 0.1 to the reference; it is 0.1 to the compiled validator.
    assert "const or an enum" in str(compiled_validator_unsafe({"const": 0.1}))
    assert "const or an enum" in str(compiled_validator_unsafe({"enum": ["a", [0.5]]}))
    # A property named like a keyword is not a keyword.
    assert compiled_validator_unsafe({"properties": {"multipleOf": {"type": "integer"}}}) is None


def test_the_installed_compiled_validator_reads_like_the_reference() -> None:
    # jsonschema-rs before 0.49 ignores our keyword: conform would then use the reference only.
    assert _compiled_reads_like_the_reference()


def test_only_schemas_get_the_decimal_keyword() -> None:
    given = {
        "properties": {"n": {"type": "integer"}, "x": {"type": ["integer", "number"]}},
        "const": {"type": "integer"},
        "anyOf": [{"type": ["integer", "null"]}],
    }
    assert _for_compiled(given) == {
        "properties": {"n": {"type": "integer", _NOT_DECIMAL: True}, "x": {"type": ["integer", "number"]}},
        "const": {"type": "integer"},  # a value, not a schema
        "anyOf": [{"type": ["integer", "null"], _NOT_DECIMAL: True}],
    }
    for protocol in PROTOCOLS:
        assert compiled_validator_unsafe(schema(protocol)) is None


def test_explanations_come_from_the_reference_or_say_whose_they_are() -> None:
    checker = schema_checks(exchanges.get("gateway"))
    assert checker.explain(load_json(BAD_TRADE), "TradesMessage") == (
        "$.data.price",
        "'oops' is not of type 'number'",
    )
    pong = {"action": "pong", "timestamp": Decimal("5.0")}
    assert checker.explain(pong, "PongMessage") == ("$.timestamp", "Decimal('5.0') is not of type 'integer'")
    # Without its definition, the union's error.
    assert checker.explain(pong, None)[0] == "$"
    # Should the compiled validator ever reject what the reference accepts, its own error shows.
    stricter = SchemaChecks(exchanges.get("gateway"))
    stricter.compiled = jsonschema_rs.validator_for({"properties": {"timestamp": {"type": "string"}}})
    assert stricter.explain({"action": "pong", "timestamp": 5}, "PongMessage") == (
        "$.timestamp",
        '5 is not of type "string" (the compiled validator\'s verdict)',
    )


# -- counting --------------------------------------------------------------------------------

BAD_TRADE = (
    '{"channel": "trades", "exchange": "binance", "symbol": "BTCUSDT", "data": '
    '{"id": "1", "price": "oops", "amount": 1, "side": "buy", "timestamp": 1}, "timestamp": 1}'
)


def test_a_frame_failing_two_checks_counts_once() -> None:
    report = check_frames(
        exchanges.get("gateway"), [BAD_TRADE, "not json", '{"event": "pong", "timestamp": 1}']
    )
    assert report.total == 3
    assert report.total_failed == 3
    assert report.failed == {"TradesMessage": 1, "(not JSON)": 1, "Unknown(pong)": 1}
    assert report.checks == {"schema": 2, "decoder": 2, "json": 1}
    assert report.failing_shown == 3
    assert [(f.line, f.check) for f in report.failures] == [
        (1, "schema"),
        (1, "decoder"),
        (2, "json"),
        (3, "schema"),
        (3, "decoder"),
    ]


def test_failure_details_are_kept_for_the_first_frames_only() -> None:
    lines = [BAD_TRADE] * 1000
    report = check_frames(exchanges.get("gateway"), lines, keep=3)
    assert report.total_failed == 1000
    assert report.checks == {"schema": 1000, "decoder": 1000}
    assert report.failing_shown == 3
    assert [f.line for f in report.failures] == [1, 1, 2, 2, 3, 3]


def test_conform_text_report_groups_the_checks_of_each_failing_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "bad.jsonl"
    capture.write_text(_good_frames("gateway") + BAD_TRADE + "\n" + BAD_TRADE + "\n")
    assert run_conform(ConformOptions(exchanges.get("gateway"), str(capture), max_failures=1)) == 1
    out = capsys.readouterr().out
    frames = len(manifest("gateway")) + 2
    assert "first failing frames (1 of 2):" in out
    assert f"  line {frames - 1}: TradesMessage\n    schema: $.data.price:" in out
    assert "    decoder: $.data.price: expected number, got string" in out
    assert f"✘ 2 of {frames} frames failed" in out


def test_lines_that_are_not_utf8_fail_alone() -> None:
    good = _good_frames("onyx").encode().splitlines()
    report = check_frames(exchanges.get("onyx"), [good[0], b'{"id": "\xff"}', *good[1:]])
    assert report.total == len(good) + 1
    assert report.total_failed == 1
    assert [(f.line, f.check, f.reason) for f in report.failures] == [(2, "json", "not valid UTF-8 text")]


def test_a_compressed_capture_is_read_through(tmp_path: Path) -> None:
    frames = _good_frames("gateway")
    capture = tmp_path / "capture.jsonl.gz"
    capture.write_bytes(gzip.compress(frames.encode()))
    report_of_file = json.loads(
        subprocess.run(
            [sys.executable, "-m", "trio_feeds", "conform", "gateway", str(capture), "--json"],
            capture_output=True,
            timeout=30,
            check=True,
        ).stdout
    )
    piped = subprocess.run(
        [sys.executable, "-m", "trio_feeds", "conform", "gateway", "-", "--json"],
        input=capture.read_bytes(),
        capture_output=True,
        timeout=30,
        check=True,
    )
    assert json.loads(piped.stdout) == report_of_file
    assert report_of_file["frames"] == len(frames.splitlines())
    assert report_of_file["failed"] == 0
    corrupt = tmp_path / "corrupt.gz"
    corrupt.write_bytes(capture.read_bytes()[:10] + b"\xff" * 32)
    with pytest.raises(UsageError, match="corrupt gzip data"):
        run_conform(ConformOptions(exchanges.get("gateway"), str(corrupt)))


# -- the watch --json form -------------------------------------------------------------------


def _watch_lines(protocol: str) -> list[str]:
    """What ``watch --json`` prints for the protocol's server fixtures, between two events."""
    exchange = exchanges.get(protocol)
    lines = [
        json.dumps({"t": 0.0, "protocol": protocol, "kind": "event", "type": "Connected", "url": "ws://x"})
    ]
    for entry in manifest(protocol):
        if entry["direction"] != "server":
            continue
        message = exchange.decode(_one_line(protocol, entry))
        data = exchange.encode(message)  # as watch writes it: JSON text spliced in, numbers exact
        kind = type(message).__name__
        lines.append(f'{{"t":1.5,"protocol":"{protocol}","kind":"message","type":"{kind}","data":{data}}}')
    lines.append(json.dumps({"t": 2.0, "protocol": protocol, "kind": "event", "type": "Disconnected"}))
    return lines


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_watch_json_output_is_read_as_frames(protocol: str) -> None:
    lines = _watch_lines(protocol)
    report = check_frames(exchanges.get(protocol), lines)
    assert report.form == "watch --json"
    servers = [e for e in manifest(protocol) if e["direction"] == "server"]
    assert (report.total, report.total_failed) == (len(servers), 0), report.failures
    assert "Unknown(None)" not in report.frames
    assert report.events == {"Connected": 1, "Disconnected": 1}


def test_watch_json_numbers_stay_exact() -> None:
    record = (
        '{"t":1,"protocol":"gateway","kind":"message","type":"TradesMessage","data":{"channel":"trades",'
        '"exchange":"binance","symbol":"BTCUSDT","data":{"id":"1","price":42650.50000000000000001,'
        '"amount":0.1,"side":"buy","timestamp":1647356789123},"timestamp":1647356789123}}'
    )
    _, items = read_input(exchanges.get("gateway"), [record])
    (frame,) = list(items)
    assert isinstance(frame, Frame)
    assert "42650.50000000000000001" in frame.text
    assert frame.value["data"]["price"] == Decimal("42650.50000000000000001")


def test_watch_json_lines_of_another_form_fail_as_input() -> None:
    lines = [*_watch_lines("gateway"), BAD_TRADE, '{"t":1,"protocol":"gateway","kind":"message","type":"X"}']
    report = check_frames(exchanges.get("gateway"), lines)
    assert report.failed == {"(unreadable)": 2}
    assert [(f.check, f.reason) for f in report.failures] == [
        ("input", "not a watch --json record"),
        ("input", "a message record without data"),
    ]


def test_watch_json_of_another_protocol_is_a_usage_error() -> None:
    message = "the input is 'trio-feeds watch onyx --json' output; check it with 'trio-feeds conform onyx'"
    with pytest.raises(UsageError, match=message):
        check_frames(exchanges.get("gateway"), _watch_lines("onyx"))


def test_conform_reads_what_watch_printed_from_a_live_server() -> None:
    """``watch --json`` against ``serve``, piped into ``conform``: every message passes."""
    from tests.test_cli import CREDENTIALS, WATCH_OPTIONS, first_line, interrupt, started

    with started("serve", "gateway", "--rate", "200") as server:
        url = first_line(server)
        watch = run(
            "watch",
            "gateway",
            url,
            "--json",
            "--count",
            "50",
            *WATCH_OPTIONS["gateway"],
            **CREDENTIALS["gateway"],
        )
        interrupt(server)
    assert watch.returncode == 0, watch.stderr
    result = run("conform", "gateway", "-", "--json", stdin=watch.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    (report,) = json_lines(result.stdout)
    assert report["input"] == "watch --json"
    assert report["frames"] == 50
    assert report["failed"] == 0
    assert {"Connected", "Authenticated", "Subscribed"} <= set(report["events"])


# -- drift -----------------------------------------------------------------------------------


def _with(protocol: str, cls: str, edit: Any) -> str:
    entry = next(e for e in manifest(protocol) if e["class"] == cls)
    value = fixture_value(protocol, entry)
    edit(value)
    return _dump(value)


def test_drift_counts_extra_fields_per_type_and_path() -> None:
    plain = _with("gateway", "TradesMessage", lambda v: None)
    top = _with("gateway", "TradesMessage", lambda v: v.update(venue="x"))
    nested = _with("gateway", "TradesMessage", lambda v: v["data"].update(fee=1, maker=True))
    report = check_frames(exchanges.get("gateway"), [plain, top, nested, nested])
    assert report.total_failed == 0  # extra fields are tolerated
    assert report.extra_fields == {"TradesMessage": {"$.venue": 1, "$.data.fee": 2, "$.data.maker": 2}}
    assert not report.unknown_types


def test_drift_in_arrays_maps_and_envelopes() -> None:
    def trade_extra(v: dict[str, Any]) -> None:
        for trade in next(iter(v.values()))["trades"]:
            trade["fee"] = "0.1"

    peatio = check_frames(exchanges.get("peatio"), [_with("peatio", "PublicTrades", trade_extra)])
    assert peatio.extra_fields == {"PublicTrades": {"$.*.trades[*].fee": 1}}

    def level_extra(v: dict[str, Any]) -> None:
        v["buy_levels"]["99.5"] = "1"  # a map: its keys are prices, not fields
        v["depth"] = 5

    crypto = check_frames(exchanges.get("cryptology"), [_with("cryptology", "OrderBookAggV2", level_extra)])
    assert crypto.extra_fields == {"OrderBookAggV2": {"$.depth": 1}}


def test_unknown_message_types_are_drift_and_failures() -> None:
    frames = ['{"event": "pong", "timestamp": 1}'] * 3 + ['{"channel": "news", "text": "hi"}']
    report = check_frames(exchanges.get("gateway"), frames)
    assert report.unknown_types == {"pong": 3, "news": 1}
    assert report.total_failed == 4


def test_drift_shows_in_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = ['{"type": "tick", "symbol": "BTC", "seq": 1, "price": "100.25"}']
    extra = ['{"type": "tick", "symbol": "BTC", "seq": 2, "price": "100.5", "foo": 1}'] * 120
    capture = tmp_path / "ticks.jsonl"
    capture.write_text("\n".join(good + extra) + "\n")
    options = ConformOptions(exchanges.get("ticker"), str(capture))  # the fifth exchange
    assert run_conform(options) == 0  # drift alone is no failure
    out = capsys.readouterr().out
    assert "Tick: extra field $.foo in 120 of 121 frames" in out
    assert "all 121 frames pass" in out
    assert run_conform(attrs.evolve(options, json=True)) == 0
    (report,) = json_lines(capsys.readouterr().out)
    assert report["drift"] == {"extra_fields": {"Tick": {"$.foo": 120}}, "unknown_types": {}}


def test_what_a_report_keeps_is_bounded() -> None:
    unknown = [f'{{"event": "e{i}", "timestamp": 1}}' for i in range(1500)]
    extra = [_with("gateway", "TradesMessage", lambda v, i=i: v.update({f"f{i}": 1})) for i in range(1500)]
    report = check_frames(exchanges.get("gateway"), unknown + extra, keep=2)
    limit = conform._MAX_KEYS
    assert len(report.unknown_types) == limit + 1  # and "(others)"
    assert len(report.frames) == limit + 2  # and TradesMessage
    assert report.frames["(others)"] == 1500 - limit
    assert report.frames["TradesMessage"] == 1500  # the schema's types are always counted
    assert report.unknown_types["(others)"] == 1500 - limit
    assert len(report.extra_fields["TradesMessage"]) == limit + 1
    assert report.extra_fields["TradesMessage"]["(others)"] == 1500 - limit
    assert len(report.failures) == 4  # two frames, two checks each


# -- streaming, progress ---------------------------------------------------------------------


def test_check_frames_reads_one_line_at_a_time() -> None:
    pulled = 0

    def lines() -> Iterator[str]:
        nonlocal pulled
        for line in _good_frames("gateway").splitlines() * 10:
            pulled += 1
            yield line

    seen: list[tuple[int, int]] = []
    check_frames(
        exchanges.get("gateway"), lines(), on_progress=lambda n: seen.append((n, pulled)), progress_every=20
    )
    # Each time: the frames checked so far, and the one line read to be checked next.
    assert seen[:3] == [(19, 20), (39, 40), (59, 60)]


def test_progress_only_on_a_terminal_for_long_files() -> None:
    assert wants_progress(stderr_is_tty=True, input_size=conform.PROGRESS_MIN_BYTES)
    assert not wants_progress(stderr_is_tty=True, input_size=conform.PROGRESS_MIN_BYTES - 1)
    assert not wants_progress(stderr_is_tty=True, input_size=None)  # a pipe
    assert not wants_progress(stderr_is_tty=False, input_size=10 * conform.PROGRESS_MIN_BYTES)
    assert wants_progress(stderr_is_tty=True, input_size=5, min_bytes=5)


def test_a_progress_bar_shows_on_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = tmp_path / "trades.jsonl"
    capture.write_text(_good_frames("gateway") * 500)
    controller, terminal = pty.openpty()
    shown = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal side closed
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    with os.fdopen(terminal, "w") as stderr:
        options = ConformOptions(exchange=exchanges.get("gateway"), source=str(capture), progress_min_bytes=0)
        assert run_conform(options, stderr=stderr) == 0
    reader.join(timeout=10)
    os.close(controller)
    assert b"conform" in shown
    assert b"frames/s" in shown
    # Not a terminal: nothing on stderr.
    assert (
        run_conform(
            ConformOptions(exchange=exchanges.get("gateway"), source=str(capture), progress_min_bytes=0)
        )
        == 0
    )
    assert capsys.readouterr().err == ""


def test_help_describes_the_input_forms_and_drift(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["conform", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "watch --json the output of 'trio-feeds watch PROTOCOL --json'" in text
    assert "drift: fields and message types on the wire that the schema does not know" in text
    assert "failing frames to show" in text
    assert "progress bar" in text
