"""Every module of the package imports alone, in an interpreter that imported nothing else first.

An import cycle between layers (a sans-IO module importing the public module that imports the
engine that imports the sans-IO module) passes unnoticed when something else happened to import
the modules in a working order first, as the pytest plugin does in this suite. So each module is
imported in a process of its own: one driver interpreter forks a child per module (two at a
time) before it has imported any of the package, so every child starts from the same bare
state as ``python -c "import X"`` at a fraction of the cost. ``lint-imports`` (pyproject.toml)
checks the layer order itself; this checks that what the contracts allow also runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "trio_feeds"


def _all_modules() -> list[str]:
    """Every module and package under trio_feeds/, found on disk (importing nothing)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


MODULES = _all_modules()

# Runs in the driver interpreter. Imports only the standard library modules it needs, then
# forks; each child imports one module and reports through its exit status and a file.
_DRIVER = r"""
import importlib, json, os, sys, traceback, warnings

out_dir, modules = sys.argv[1], sys.argv[2:]
# The dependencies' top-level packages (and the heaviest standard modules ours import), once,
# before the forks: no module of ours, so a cycle among ours still shows, and each child no
# longer spends most of its time on them. The optional ones only where they are installed.
for dependency in ("trio", "attrs", "cattrs", "msgspec", "ssl", "importlib.metadata", "websockets",
                   "wsproto", "trio_websocket", "rich", "coredis", "jsonschema"):
    try:
        importlib.import_module(dependency)
    except ImportError:
        pass
PARALLEL = 2
results, running, pending = {}, {}, list(modules)
while pending or running:
    while pending and len(running) < PARALLEL:
        name = pending.pop(0)
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                warnings.simplefilter("error")  # a warning at import time is a failure too
                importlib.import_module(name)
            except BaseException:
                with open(os.path.join(out_dir, name + ".err"), "w") as f:
                    f.write(traceback.format_exc())
                status = 1
            os._exit(status)
        running[pid] = name
    pid, status = os.wait()
    name = running.pop(pid)
    error = None
    if status != 0:
        path = os.path.join(out_dir, name + ".err")
        error = open(path).read() if os.path.exists(path) else f"exit status {status}"
    results[name] = error
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def import_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out_dir = tmp_path_factory.mktemp("imports")
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(out_dir), *MODULES],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=out_dir,  # not the repository: the installed package is what gets imported
    )
    assert proc.returncode == 0, proc.stderr
    results: dict[str, Any] = json.loads(proc.stdout)
    return results


def test_the_walk_finds_every_layer() -> None:
    # Guards the walk itself: a wrong root would make every parametrized test vacuous.
    for name in ("trio_feeds", "trio_feeds._sansio.gateway", "trio_feeds.models.onyx", "trio_feeds.cli"):
        assert name in MODULES
    assert len(MODULES) > 40


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="the driver forks (POSIX)")
@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone(module: str, import_results: dict[str, Any]) -> None:
    assert module in import_results
    error = import_results[module]
    assert error is None, f"python -c 'import {module}' fails:\n{error}"


_OTHERS = """
import sys
import trio_feeds.{name}
others = sorted(
    m for m in sys.modules
    if m.startswith("trio_feeds.") and any(o in m for o in {others!r})
)
print(others)
"""


@pytest.mark.parametrize("name", ["gateway", "cryptology", "onyx", "peatio"])
def test_one_exchange_loads_no_other_exchange(name: str, tmp_path: Path) -> None:
    # An exchange's feed pulls in its own codec, models and mapping only: a package that
    # imported every exchange's modules would make each feed pay for all four at start-up.
    others = [o for o in ("gateway", "cryptology", "onyx", "peatio") if o != name]
    proc = subprocess.run(
        [sys.executable, "-c", _OTHERS.format(name=name, others=others)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
    )
    assert proc.stdout.strip() == "[]"


def test_the_testing_package_imports_a_server_when_asked(tmp_path: Path) -> None:
    # trio_feeds.testing (which the command imports, for its faults) loads no server until one
    # is asked for, and then only that one: each server imports its exchange's codec.
    code = (
        "import sys\n"
        "import trio_feeds.testing.faults\n"
        "print(sorted(m for m in sys.modules if m.startswith('trio_feeds.testing.')))\n"
        "from trio_feeds.testing import open_gateway_server, GatewayServer, sign\n"
        "print(sorted(m for m in sys.modules if m.startswith('trio_feeds.testing.')))\n"
        "import trio_feeds.testing as t\n"
        "print('open_peatio_server' in dir(t), hasattr(t, 'no_such_thing'))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, cwd=tmp_path
    )
    before, after, names = proc.stdout.splitlines()
    assert not any(server in before for server in ("gateway", "cryptology", "onyx", "peatio"))
    assert "trio_feeds.testing.gateway" in after
    assert not any(server in after for server in ("cryptology", "onyx", "peatio"))
    assert names == "True False"
