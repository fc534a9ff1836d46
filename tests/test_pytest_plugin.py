"""The pytest plugin in a user's own project: the README's pytest example runs as written.

Each test writes a separate project (its own ``pyproject.toml``, so none of this repository's
pytest settings apply) and runs pytest on it in a fresh interpreter, as a user would.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
(PYTEST_EXAMPLE,) = (
    block
    for block in re.findall(r"^```python\n(.*?)^```", README, flags=re.DOTALL | re.MULTILINE)
    if "trio_feeds_server" in block
)


def _pytest(project: Path, ini: str, tests: str) -> subprocess.CompletedProcess[str]:
    (project / "pyproject.toml").write_text(f'[project]\nname = "my-app"\nversion = "0"\n\n{ini}')
    (project / "test_my_app.py").write_text(tests)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=project,
        check=False,
    )


@pytest.mark.parametrize(
    "ini",
    [
        "",  # no pytest settings at all
        "[tool.pytest.ini_options]\ntrio_mode = true\n",  # a project already in trio mode
        '[tool.pytest.ini_options]\naddopts = ["--strict-markers"]\n',
    ],
    ids=["no-settings", "trio-mode", "strict-markers"],
)
def test_the_readme_example_passes_in_a_fresh_project(tmp_path: Path, ini: str) -> None:
    result = _pytest(tmp_path, ini, PYTEST_EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_a_fixture_test_really_runs_under_trio(tmp_path: Path) -> None:
    # It fails if the test body did not run (an unawaited coroutine passes no assertion).
    tests = textwrap.dedent(
        """
        import trio
        from trio_feeds import events, gateway

        async def test_a_feed(gateway_server):
            credentials = gateway.Credentials("test-key", "test-secret")
            async with gateway.open_feed(gateway_server.url, credentials=credentials) as feed:
                async for item in feed:
                    assert not isinstance(item, events.Disconnected)
                    if isinstance(item, events.Authenticated):
                        break
            assert trio.lowlevel.current_task() is not None
            raise AssertionError("the body ran")
        """
    )
    result = _pytest(tmp_path, "", tests)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "AssertionError: the body ran" in result.stdout
