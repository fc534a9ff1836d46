"""Every ```python example in README.md runs, as written, in a fresh interpreter.

Examples that need a server start the local ones of ``trio_feeds.testing`` themselves. An
example that defines pytest tests (``def test_...``) is run by pytest, with the installed
plugin's fixtures and no pytest settings (the plugin runs its fixtures' tests under trio).
The Quickstart commands are checked against what CI runs. ``tests/test_docs.py`` runs the
examples of ``docs/`` the same way (:func:`run_block`).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
TIMEOUT = 30.0  # per example; each finishes in about a second


def python_blocks(text: str) -> list[str]:
    """The ```python blocks of a Markdown text."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def run_block(block: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run one example in a fresh interpreter in ``tmp_path``: under pytest if it defines tests."""
    script = tmp_path / "example.py"
    script.write_text(block)
    if re.search(r"^(async )?def test_", block, flags=re.MULTILINE):
        script = script.rename(tmp_path / "test_example.py")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
    else:
        command = [sys.executable, str(script)]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path, check=False)


BLOCKS = python_blocks(README)


def _id(block: str) -> str:
    line = README[: README.index(block)].count("\n") + 1
    return f"README.md:{line}"


def test_the_readme_has_examples() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("block", BLOCKS, ids=[_id(b) for b in BLOCKS])
def test_example_runs(block: str, tmp_path: Path) -> None:
    result = run_block(block, tmp_path)
    assert result.returncode == 0, f"{_id(block)} failed:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr


def test_quickstart_commands_match_ci() -> None:
    install = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]'"
    demo = f"{install} && .venv/bin/trio-feeds demo"
    tests = f"{install} && .venv/bin/python -m pytest"
    commands = re.findall(r"^```bash\n(.*?)\n```", README, flags=re.DOTALL | re.MULTILINE)
    assert commands[:2] == [demo, tests]
    # CI (.ci/run) runs the README's test command, unchanged.
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\n.venv/bin/python -m pytest\n" in ci
