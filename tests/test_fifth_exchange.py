"""A fifth exchange, defined in tests/fifth/, runs everywhere the four built-in ones run.

No library file knows it. ``tests/conftest.py`` registers it, so the fault matrix
(``tests/test_feeds.py``) runs on it in this process; here the command runs on it in
subprocesses (``watch`` against ``serve``, ``conform``), finding it through the
``TRIO_FEEDS_EXCHANGES`` environment variable, and ``codegen`` checks its models.
"""

from __future__ import annotations

import subprocess
import sys

from tests import fifth
from tests.test_cli import ROOT, first_line, interrupt, json_lines, run, started
from tests.test_feeds import ADAPTERS
from trio_feeds import exchanges

PLUGIN = {"TRIO_FEEDS_EXCHANGES": "tests.fifth:EXCHANGE", "PYTHONPATH": str(ROOT)}


def test_registered_in_this_process() -> None:
    assert exchanges.get("ticker") is fifth.EXCHANGE
    assert "ticker" in exchanges.names()
    assert "ticker" in ADAPTERS  # so the fault matrix has a row for it


def test_watch_against_serve() -> None:
    with started("serve", "ticker", "--rate", "200", "--json", **PLUGIN) as server:
        ready = json_lines(first_line(server))[0]
        assert ready["protocol"] == "ticker"
        assert ready["credentials"] == {"TRIO_FEEDS_TOKEN": "demo-token"}
        watch = run(
            "watch", "ticker", ready["url"], "--symbol", "BTC", "--symbol", "ETH", "--json", "--count", "20",
            TRIO_FEEDS_TOKEN="demo-token", **PLUGIN,
        )  # fmt: skip
        code, _, _ = interrupt(server)
    assert watch.returncode == 0, watch.stderr
    lines = json_lines(watch.stdout)
    messages = [line for line in lines if line["kind"] == "message"]
    assert len(messages) == 20
    assert {m["type"] for m in messages} == {"Tick"}
    assert {m["data"]["symbol"] for m in messages} == {"BTC", "ETH"}
    events = [line["type"] for line in lines if line["kind"] == "event"]
    assert events[:3] == ["Connected", "Authenticated", "Subscribed"]
    assert code == 130


def test_watch_says_which_credentials_it_needs() -> None:
    result = run("watch", "ticker", "ws://127.0.0.1:9/ticker", **PLUGIN)
    assert result.returncode == 2
    assert "ticker needs credentials: set TRIO_FEEDS_TOKEN" in result.stderr


def test_serve_faults_apply() -> None:
    # Counted from the server's start, the rejection is armed before any client connects.
    with started(
        "serve", "ticker", "--fault", "reject-auth@0s", "--faults-from", "start", **PLUGIN
    ) as server:
        url = first_line(server)
        watch = run(
            "watch", "ticker", url, "--json", "--count", "5", "--max-attempts", "3",
            TRIO_FEEDS_TOKEN="demo-token", **PLUGIN,
        )  # fmt: skip
        interrupt(server)
    # The first authentication is refused (reject-auth): an authentication error, no retry.
    assert watch.returncode == 1
    assert "authentication failed" in watch.stderr
    assert "demo-token" not in watch.stderr + watch.stdout


def test_conform_accepts_good_frames_and_reports_bad_ones() -> None:
    good = [
        '{"type": "authed"}',
        '{"type": "tick", "symbol": "BTC", "seq": 1, "price": "100.25"}',
        '{"op": "subscribe", "id": "tf:1", "symbols": ["BTC"]}',
    ]
    result = run("conform", "ticker", "-", "--json", stdin="\n".join(good), **PLUGIN)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json_lines(result.stdout)[0]
    assert report["frames"] == 3
    assert report["types"]["Tick"] == {"frames": 1, "passed": 1, "failed": 0}
    bad = '{"type": "tick", "symbol": "BTC", "seq": 1, "price": "cheap"}'
    result = run("conform", "ticker", "-", "--json", stdin=bad, **PLUGIN)
    assert result.returncode == 1
    failures = json_lines(result.stdout)[0]["failures"]
    assert {(f["check"], f["path"]) for f in failures} == {("schema", "$.price"), ("decoder", "$.price")}


def test_codegen_generates_its_models() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "codegen/generate.py",
            "--check",
            "--schema",
            "tests/fifth/ticker.json",
            "--output",
            "tests/fifth/models.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
