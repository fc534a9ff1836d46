"""The install's shape: what works without the `cli` and `testing` extras, and how it says so.

A core install (``pip install trio-feeds``) lacks rich, jsonschema and wsproto. Each test runs a
fresh interpreter in which those modules are made unimportable: ``sys.modules[name] = None`` is
how Python itself marks a module as absent (``import`` raises ModuleNotFoundError and
``importlib.util.find_spec`` answers ``None``, exactly as when it is not installed).
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from trio_feeds.__main__ import CLI_MODULES


def _run(code: str, cwd: Path, *blocked: str) -> subprocess.CompletedProcess[str]:
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in blocked)
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


def test_console_script_points_at_the_checking_entry() -> None:
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="trio-feeds")
    assert script.value == "trio_feeds.__main__:main"
    (plugin,) = importlib.metadata.entry_points(group="pytest11", name="trio_feeds")
    assert plugin.value == "trio_feeds._pytest_entry"


def _extra(name: str) -> set[str]:
    """Distribution names the installed metadata requires for extra ``name``."""
    found = set()
    for line in importlib.metadata.metadata("trio-feeds").get_all("Requires-Dist") or []:
        req = Requirement(line)
        if req.marker is not None and req.marker.evaluate({"extra": name}):
            found.add(req.name.lower())
    return found


def test_extras_declare_what_the_checks_look_for() -> None:
    # The command checks for modules; the `cli` extra must install their distributions
    # (rfc3339_validator is the rfc3339-validator distribution).
    assert {m.replace("_", "-") for m in CLI_MODULES} <= _extra("cli")
    assert {"wsproto", "trustme"} <= _extra("testing")
    # The core install has none of them.
    core = {
        Requirement(r).name.lower()
        for r in importlib.metadata.requires("trio-feeds") or []
        if "extra ==" not in r
    }
    assert core.isdisjoint({m.replace("_", "-") for m in CLI_MODULES})


@pytest.mark.parametrize("blocked", [("rich",), ("jsonschema",), ("wsproto",), ("rich", "jsonschema")])
def test_command_without_cli_extra_prints_one_line_and_exits_2(
    tmp_path: Path, blocked: tuple[str, ...]
) -> None:
    proc = _run(
        """
        from trio_feeds.__main__ import main
        code = main(["demo"])
        assert "rich" not in sys.modules or sys.modules["rich"] is None
        sys.exit(code)
        """,
        tmp_path,
        *blocked,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("trio-feeds: the command needs the 'cli' extra")
    assert "pip install 'trio-feeds[cli]'" in lines[0]
    assert f"(missing: {', '.join(blocked)})" in lines[0]


def test_python_m_without_cli_extra_prints_the_same_line(tmp_path: Path) -> None:
    proc = _run("import runpy; runpy.run_module('trio_feeds', run_name='__main__')", tmp_path, "rich")
    assert proc.returncode == 2
    assert proc.stderr.startswith("trio-feeds: the command needs the 'cli' extra (missing: rich)")


def test_command_with_cli_extra_runs(tmp_path: Path) -> None:
    proc = _run("from trio_feeds.__main__ import main; sys.exit(main(['--version']))", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("trio-feeds ")


_PLUGIN_PROBE = """
def test_probe(request):
    loaded = request.config.pluginmanager.has_plugin("trio_feeds.testing.pytest_plugin")
    print("fixtures loaded:", loaded)
"""


@pytest.mark.parametrize("wsproto", ["installed", "missing"])
def test_pytest_starts_in_another_project_with_or_without_testing_extra(tmp_path: Path, wsproto: str) -> None:
    # Another project: its own directory, no conftest, our plugin arriving by entry point only.
    (tmp_path / "test_probe.py").write_text(_PLUGIN_PROBE)
    blocked = ("wsproto",) if wsproto == "missing" else ()
    proc = _run(
        "import pytest; sys.exit(pytest.main(['-q', '-s', '-p', 'no:cacheprovider', 'test_probe.py']))",
        tmp_path,
        *blocked,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
    assert f"fixtures loaded: {wsproto == 'installed'}" in proc.stdout


def test_redis_extra_declares_coredis_and_the_core_does_not_import_it(tmp_path: Path) -> None:
    assert "coredis" in _extra("redis")
    proc = _run("import trio_feeds, trio_feeds.group, trio_feeds.testing; print('ok')", tmp_path, "coredis")
    assert proc.stdout.strip() == "ok", proc.stderr


@pytest.mark.parametrize(
    "command",
    [["publish", "x.toml"], ["consume", "redis://h", "--group", "g", "--consumer", "c", "--stream", "s"]],
)
def test_redis_commands_without_redis_extra_say_so(tmp_path: Path, command: list[str]) -> None:
    proc = _run(f"from trio_feeds.cli import main; sys.exit(main({command!r}))", tmp_path, "coredis")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "pip install 'trio-feeds[redis]'" in proc.stderr
    assert "Traceback" not in proc.stderr
