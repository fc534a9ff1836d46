"""Every script of examples/ runs against the local servers, as its docstring says to run it.

Each runs in a fresh interpreter, as ``python examples/NAME.py``: starting its own server, and
(for the one-protocol scripts, which take a URL) against a server this test started, the way a
user points one at ``trio-feeds serve``. Each finishes in about half a second.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
import trio

from trio_feeds.testing import (
    open_cryptology_server,
    open_gateway_server,
    open_onyx_server,
    open_peatio_server,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TIMEOUT = 30.0

# What each script prints when it worked (one line it cannot print otherwise).
EXPECTED = {
    "gateway.py": "BTCUSDT ",
    "cryptology.py": "book BTC_USD: bid",
    "onyx.py": "refused, as expected: onyx subscribe refused",
    "peatio.py": "book btcusd: sequence",
    "books.py": "out of sync btcusd: sequence jump",
    "many_feeds.py": "cr failed: FeedClosed; the others go on",
    "record_replay.py": "replayed ",
    "redis_streams.py": "the group read each once",
}

# The servers the one-protocol scripts are pointed at, with the credentials the scripts default to.
SERVERS: dict[str, Callable[[], AbstractAsyncContextManager[Any]]] = {
    "gateway.py": lambda: open_gateway_server(api_key="demo-key", api_secret="demo-secret"),
    "cryptology.py": lambda: open_cryptology_server(trade_pairs=["BTC_USD"]),
    "onyx.py": lambda: open_onyx_server(token="demo-token"),
    "peatio.py": lambda: open_peatio_server(token="demo-token"),
}


def test_every_example_is_tested() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_on_its_own(name: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, f"{name}:\n{result.stdout}\n{result.stderr}"
    assert EXPECTED[name] in result.stdout, result.stdout
    assert not result.stderr, result.stderr


@pytest.mark.parametrize("name", sorted(SERVERS))
async def test_example_runs_against_a_url(name: str, tmp_path: Path) -> None:
    async with SERVERS[name]() as server:
        with trio.fail_after(TIMEOUT):
            result = await trio.run_process(
                [sys.executable, str(EXAMPLES / name), server.url],
                capture_stdout=True,
                capture_stderr=True,
                check=False,
                cwd=tmp_path,
            )
        assert server.connections, "the script connected to the given URL"
    stdout = result.stdout.decode()
    assert result.returncode == 0, f"{name}:\n{stdout}\n{result.stderr.decode()}"
    assert EXPECTED[name] in stdout, stdout
