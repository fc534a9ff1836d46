"""The ``trio-feeds`` command, run as a user runs it: ``python -m trio_feeds ...`` in a subprocess."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests._fixtures import PROTOCOLS, fixture_value, load_json, manifest
from trio_feeds.cli import main

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30.0

# What `trio-feeds serve` accepts (trio_feeds/cli/_servers.py), and a watch per protocol.
CREDENTIALS = {
    "gateway": {"TRIO_FEEDS_API_KEY": "demo-key", "TRIO_FEEDS_API_SECRET": "demo-secret"},
    "cryptology": {},
    "onyx": {"TRIO_FEEDS_TOKEN": "demo-token"},
    "peatio": {"TRIO_FEEDS_TOKEN": "demo-token"},
}
WATCH_OPTIONS = {
    "gateway": ["--channel", "trades", "--channel", "orderbook", "--symbol", "BTCUSDT"],
    "cryptology": ["--trade-pair", "BTC_USD"],
    "onyx": ["--channel", "tickers", "--product-group", "crude"],
    "peatio": ["--stream", "btcusd.trades", "--stream", "order"],
}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIO_FEEDS_")}
    env.update(extra)
    return env


def run(
    *args: str, stdin: str | None = None, timeout: float = TIMEOUT, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trio_feeds", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=_env(**env),
        check=False,
    )


@contextmanager
def started(*args: str, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """A running ``trio-feeds`` process; killed at the end if it is still running."""
    with subprocess.Popen(
        [sys.executable, "-m", "trio_feeds", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=_env(**env),
    ) as proc:
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=TIMEOUT)


def first_line(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> str:
    """The first line the process prints (waits for it; fails after ``timeout``)."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            pytest.fail(f"no output within {timeout} s")
    return proc.stdout.readline().decode().strip()


def interrupt(proc: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    """Ctrl-C: SIGINT, then the exit status and the rest of the output."""
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out.decode(), err.decode()


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -- help and bad arguments ------------------------------------------------------------------


HELP_PATHS = [[], ["demo"], ["watch"], ["watch", "gateway"], ["watch", "peatio"], ["serve"], ["conform"]]


def test_help_of_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    # In-process for speed (the parser is the same); the subprocess test below covers the entry point.
    for path in HELP_PATHS:
        with pytest.raises(SystemExit) as exit_info:
            main([*path, "--help"])
        assert exit_info.value.code == 0, path
        out = capsys.readouterr().out
        assert out.startswith("usage: trio-feeds"), path
        assert "exit status" in out, path


def test_help_as_a_user_runs_it() -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: trio-feeds")
    for command in ("demo", "watch", "serve", "conform"):
        assert command in result.stdout


def test_serve_help_documents_the_fault_syntax(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    for kind in ("close", "abort", "blackhole", "raw", "rate-limit", "refuse", "reject-auth"):
        assert kind in out


BAD_ARGUMENTS = [
    ([], "required"),
    (["explode"], "invalid choice"),
    (["demo", "--duration", "-1"], "must be > 0"),
    (["demo", "--duration", "soon"], "not a number"),
    (["demo", "--metrics-port", "70000"], "port must be 0-65535"),
    (["serve", "nope"], "invalid choice"),
    (["serve", "gateway", "--port", "70000"], "port must be"),
    (["serve", "gateway", "--fault", "explode@1s"], "unknown fault"),
    (["serve", "gateway", "--fault", "close:99@1s"], "close code"),
    (["serve", "gateway", "--fault", "abort"], "KIND[:ARG]@WHEN"),
    (["serve", "gateway", "--fault", "blackhole:forever@1s"], "not a duration"),
    (["serve", "cryptology", "--fault", "reject-auth@1s"], "no authentication"),
    (["watch", "gateway", "http://example.invalid"], "not a WebSocket URL"),
    (["watch", "gateway", "ws://127.0.0.1:9/ws"], "TRIO_FEEDS_API_KEY"),
    (["watch", "onyx", "ws://127.0.0.1:9/"], "TRIO_FEEDS_TOKEN"),
    (["watch", "peatio", "ws://127.0.0.1:9/"], "--stream"),
    (["watch", "gateway", "ws://127.0.0.1:9/ws", "--credentials-file", "/nonexistent"], "cannot read"),
    (["watch", "gateway", "ws://127.0.0.1:9/ws", "--api-secret", "x"], "unrecognized arguments"),
    (["conform", "gateway"], "required"),
    (["conform", "gateway", "/nonexistent.jsonl"], "cannot read"),
]


@pytest.mark.parametrize(
    ("args", "message"), BAD_ARGUMENTS, ids=lambda v: " ".join(v) if isinstance(v, list) else None
)
def test_bad_arguments_exit_2_with_a_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TRIO_FEEDS_API_KEY", "TRIO_FEEDS_API_SECRET", "TRIO_FEEDS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [["explode"], ["serve", "gateway", "--fault", "explode@1s"], ["watch", "onyx", "ws://127.0.0.1:9/"]],
    ids=" ".join,
)
def test_bad_arguments_as_a_user_runs_them(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr


# -- demo ----------------------------------------------------------------------------------


def test_demo_json_shows_every_feed_delivering_and_healing() -> None:
    result = run("demo", "--duration", "3", "--json", "--seed", "7")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = json_lines(result.stdout)
    assert all({"t", "protocol", "kind"} <= line.keys() for line in lines)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_kind.setdefault(line["kind"], []).append(line)
    assert set(by_kind) == {"message", "event", "fault", "summary"}
    assert {m["protocol"] for m in by_kind["message"]} == set(PROTOCOLS)
    assert {f["protocol"] for f in by_kind["fault"]} == set(PROTOCOLS)
    events = {e["type"] for e in by_kind["event"]}
    assert {"Connected", "Disconnected", "Reconnecting", "Gap", "DecodeFailed"} <= events
    # Messages carry their wire JSON, their sequence stamp and their delivery latency.
    sample = by_kind["message"][0]
    assert isinstance(sample["data"], dict)
    assert any(m["latency_ms"] is not None for m in by_kind["message"])

    assert lines[-1]["kind"] == "summary"
    summary = lines[-1]["protocols"]
    assert set(summary) == set(PROTOCOLS)
    assert sum(s["reconnects"] for s in summary.values()) >= 1
    for protocol, s in summary.items():
        assert s["messages"] > 0, protocol
        assert s["faults"] > 0, protocol
        assert s["latency_ms"]["p50"] is not None, protocol
        assert s["healed"], (protocol, s)
    assert lines[-1]["healed"] is True


def test_demo_ctrl_c_prints_the_summary_and_exits_130() -> None:
    # Not a terminal: the demo prints what happens as plain lines, then the summary table.
    with started("demo", "--duration", "60", COLUMNS="120") as proc:
        assert first_line(proc)  # the first fault or session event: it is running
        code, out, err = interrupt(proc)
    assert code == 130
    assert "Traceback" not in err
    assert "summary" in out


def test_demo_serves_its_feeds_metrics_while_it_runs() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    def scrape(url: str) -> dict[tuple[str, str], float]:
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        return {
            (s.name, s.labels.get("feed", "")): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    with started("demo", "--duration", "5", "--json", "--metrics-port", "0", "--seed", "3") as proc:
        line = json.loads(first_line(proc))
        assert line["kind"] == "metrics"
        url = line["url"]
        assert url.startswith("http://127.0.0.1:")
        first = scrape(url)
        deadline = time.monotonic() + 4.5
        while time.monotonic() < deadline:
            later = scrape(url)
            grew = all(
                later.get(("trio_feeds_messages_total", p), 0)
                > first.get(("trio_feeds_messages_total", p), 0)
                for p in PROTOCOLS
            )
            reconnected = sum(later.get(("trio_feeds_reconnects_total", p), 0) for p in PROTOCOLS) >= 1
            if grew and reconnected:
                break
            time.sleep(0.2)
        code, _, err = interrupt(proc)
    assert grew, later
    assert reconnected, later
    assert any(("trio_feeds_delivery_latency_seconds", p) in later for p in PROTOCOLS)
    assert code in (0, 130), err


# -- conform -------------------------------------------------------------------------------


def _good_frames(protocol: str) -> str:
    """Every document example of the protocol (tests/fixtures), one frame per line."""
    lines = []
    for entry in manifest(protocol):
        value = fixture_value(protocol, entry)
        lines.append(json.dumps(value, default=str) if entry.get("template") else _compact(protocol, entry))
    return "\n".join(lines) + "\n"


def _compact(protocol: str, entry: dict[str, Any]) -> str:
    text = (ROOT / "tests" / "fixtures" / protocol / entry["file"]).read_text()
    load_json(text)  # a valid JSON document
    return " ".join(text.split())  # one line; whitespace inside strings is not in the fixtures


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_conform_accepts_the_document_examples(protocol: str, tmp_path: Path) -> None:
    capture = tmp_path / f"{protocol}.jsonl"
    capture.write_text(_good_frames(protocol))
    result = run("conform", protocol, str(capture))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"all {len(manifest(protocol))} frames pass" in result.stdout


BAD_GATEWAY = [
    '{"channel": "trades", "exchange": "binance", "symbol": "BTCUSDT", "data": '
    '{"id": "1", "price": "oops", "amount": 1, "side": "buy", "timestamp": 1}, "timestamp": 1}',
    "not json at all",
    '{"event": "pong", "timestamp": 1}',
]


def test_conform_reports_failures_with_json_paths(tmp_path: Path) -> None:
    capture = tmp_path / "bad.jsonl"
    capture.write_text(_good_frames("gateway") + "\n".join(BAD_GATEWAY) + "\n")
    result = run("conform", "gateway", str(capture), "--max-failures", "20")
    assert result.returncode == 1
    out = result.stdout
    # The bad value's JSON path, from the schema and the decoder, under the frame's line.
    assert "TradesMessage\n    schema: $.data.price:" in out
    assert "\n    decoder: $.data.price:" in out
    assert "not valid JSON" in out
    assert "unknown message type 'pong'" in out
    assert "first failing frames (3 of 3)" in out  # frames, not failed checks (there are five)
    assert "3 of" in out


def test_conform_reads_stdin_and_reports_json() -> None:
    good = _good_frames("peatio")
    result = run("conform", "peatio", "-", stdin=good + "ping\n")
    assert result.returncode == 0, result.stdout
    bad = good + '{"btcusd.trades": {"trades": [{"tid": "x"}]}}\n'
    result = run("conform", "peatio", "-", "--json", stdin=bad)
    assert result.returncode == 1
    (report,) = json_lines(result.stdout)
    assert report["failed"] == 1
    assert report["types"]["PublicTrades"]["failed"] == 1
    assert {f["check"] for f in report["failures"]} == {"schema", "decoder"}
    # JSON paths into the one-key Ranger frame: $["btcusd.trades"]... (jsonschema quotes with ')
    assert all(
        f["path"].replace("'", '"').startswith('$["btcusd.trades"].trades[0]') for f in report["failures"]
    )


def test_conform_of_nothing_fails() -> None:
    result = run("conform", "onyx", "-", stdin="\n# only a comment\n")
    assert result.returncode == 1
    assert "no frames" in result.stdout


# -- serve and watch -------------------------------------------------------------------------


def test_watch_against_serve_for_every_protocol() -> None:
    """``serve`` each protocol (closing connections every 0.5 s) and ``watch`` them all at once."""
    with ExitStack() as stack:
        servers = {
            p: stack.enter_context(started("serve", p, "--rate", "100", "--fault", "close:1012@0.5s/0.5s"))
            for p in PROTOCOLS
        }
        urls = {p: first_line(server) for p, server in servers.items()}
        watchers = {
            p: stack.enter_context(
                started("watch", p, urls[p], *WATCH_OPTIONS[p], "--json", "--count", "60", **CREDENTIALS[p])
            )
            for p in PROTOCOLS
        }
        results = {p: (w.communicate(timeout=TIMEOUT), w.returncode) for p, w in watchers.items()}
        stopped = {p: interrupt(server) for p, server in servers.items()}
    for protocol in PROTOCOLS:
        assert urls[protocol].startswith("ws://127.0.0.1:")
        (out, err), code = results[protocol]
        assert code == 0, (protocol, err)
        lines = json_lines(out.decode())
        messages = [line for line in lines if line["kind"] == "message"]
        assert len(messages) == 60, protocol
        assert all(isinstance(m["data"], dict) and m["protocol"] == protocol for m in messages)
        events = [line["type"] for line in lines if line["kind"] == "event"]
        assert events[0] == "Connected"
        assert "Reconnecting" in events, (protocol, events)  # the server's scheduled closes, healed
        for secret in CREDENTIALS[protocol].values():
            assert secret not in out.decode() + err.decode()
        code, _, server_err = stopped[protocol]
        assert code == 130
        assert "Traceback" not in server_err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_on_a_fixed_port_with_json_output() -> None:
    port = _free_port()
    with started("serve", "cryptology", "--port", str(port), "--json") as server:
        ready = json.loads(first_line(server))
        assert ready["kind"] == "ready"
        assert ready["url"] == f"ws://127.0.0.1:{port}/"
        assert ready["credentials"] == {}
        result = run("watch", "cryptology", ready["url"], "--count", "3", "--no-events")
        assert result.returncode == 0, result.stderr
        kinds = [line.split()[1] for line in result.stdout.splitlines()]
        assert len(kinds) == 3
        assert set(kinds) <= {"OrderBookAgg", "AnonymousTrade"}
        code, _, err = interrupt(server)
    assert code == 130
    assert "Traceback" not in err


def test_secrets_are_never_printed(tmp_path: Path) -> None:
    secret = "s3cr3t-never-print-me"
    with started("serve", "gateway") as server:
        url = first_line(server)
        # Right key, wrong secret, from a credentials file: authentication fails, exit 1.
        creds = tmp_path / "creds.env"
        creds.write_text(f"TRIO_FEEDS_API_KEY=demo-key\nTRIO_FEEDS_API_SECRET={secret}\n")
        result = run("watch", "gateway", url, "--credentials-file", str(creds), TRIO_FEEDS_DEBUG="1")
        assert result.returncode == 1
        assert "authentication" in result.stderr.lower()
        assert secret not in result.stdout + result.stderr
        # The same from the environment, in JSON mode.
        result = run(
            "watch", "gateway", url, "--json", TRIO_FEEDS_API_KEY="demo-key", TRIO_FEEDS_API_SECRET=secret
        )
        assert result.returncode == 1
        assert secret not in result.stdout + result.stderr
        interrupt(server)
    # A malformed credentials file is reported without quoting it.
    creds.write_text(f"this line has the secret {secret} but no equals sign\n")
    result = run("watch", "gateway", "ws://127.0.0.1:9/ws", "--credentials-file", str(creds))
    assert result.returncode == 2
    assert secret not in result.stdout + result.stderr


def test_watch_of_an_unreachable_server_is_stopped_by_ctrl_c() -> None:
    port = _free_port()  # nothing listens there: the feed keeps reconnecting
    with started("watch", "cryptology", f"ws://127.0.0.1:{port}/") as proc:
        assert "Reconnecting" in first_line(proc)
        code, _, err = interrupt(proc)
    assert code == 130
    assert "Traceback" not in err


def test_watch_says_why_it_cannot_connect_and_stops_after_max_attempts() -> None:
    port = _free_port()  # nothing listens there
    result = run(
        "watch", "gateway", f"ws://127.0.0.1:{port}/ws", "--max-attempts", "2", **CREDENTIALS["gateway"]
    )
    assert result.returncode == 1
    reconnecting = [line for line in result.stdout.splitlines() if "reconnecting" in line]
    assert len(reconnecting) == 2
    # Every retry names its cause, and so does the final error, not a request timeout.
    assert all("refused" in line.lower() for line in reconnecting), reconnecting
    assert "gave up after 2 reconnect attempts" in result.stderr
    assert "refused" in result.stderr.lower()


def test_watch_warns_about_private_streams_without_a_token() -> None:
    port = _free_port()
    result = run("watch", "peatio", f"ws://127.0.0.1:{port}/", "--stream", "order", "--max-attempts", "0")
    assert "private streams order need a token" in result.stderr


def test_serve_takes_each_exchanges_own_server_options() -> None:
    from trio_feeds import exchanges
    from trio_feeds.cli import build_parser

    args = build_parser().parse_args(["serve", "onyx", "--reply-form", "string", "--rate", "0"])
    assert exchanges.get("onyx").serve_options(args) == {"detail_messages": False}
    args = build_parser().parse_args(["serve", "onyx"])
    assert exchanges.get("onyx").serve_options(args) == {"detail_messages": True}
    assert exchanges.get("gateway").serve_options(build_parser().parse_args(["serve", "gateway"])) == {}


def test_watch_prints_readable_lines_and_normalized_items() -> None:
    with started("serve", "gateway", "--rate", "200") as server:
        url = first_line(server)
        text = run("watch", "gateway", url, "--channel", "trades", "--symbol", "BTCUSDT", "--count", "5",
                   "--no-events", **CREDENTIALS["gateway"])  # fmt: skip
        normal = run("watch", "gateway", url, "--channel", "trades", "--symbol", "BTCUSDT", "--count", "5",
                     "--normalized", "--json", "--no-events", **CREDENTIALS["gateway"])  # fmt: skip
        interrupt(server)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert len(lines) == 5
    # "HH:MM:SS.mmm  TradesMessage          BTC-USDT buy 0.1 @ 42651.5": no raw JSON
    assert all(" TradesMessage " in line and " BTC-USDT " in line and " @ " in line for line in lines), lines
    assert not any("{" in line for line in lines)
    assert normal.returncode == 0, normal.stderr
    items = json_lines(normal.stdout)
    assert {i["kind"] for i in items} == {"normalized"}
    assert {i["type"] for i in items} == {"Trade"}
    assert all(i["data"]["symbol"] == "BTC-USDT" and i["data"]["native_symbol"] == "BTCUSDT" for i in items)
    assert all(i["data"]["side"] in ("buy", "sell") for i in items)
