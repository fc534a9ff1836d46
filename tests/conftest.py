from __future__ import annotations

import os

import pytest

from tests import fifth
from tests._fixtures import COUNTS, PROTOCOLS
from trio_feeds import exchanges

# The fifth exchange, defined in tests/fifth/, joins the registry for the whole session: every
# test that iterates the registry (the fault matrix, the command's parser) covers it too.
exchanges.register(fifth.EXCHANGE)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not COUNTS:
        return
    tr = terminalreporter
    tr.section("schema conformance")
    cols = ("examples", "generated", "bad_input", "failures")
    tr.write_line(f"{'protocol':<12}" + "".join(f"{c:>12}" for c in cols))
    for protocol in PROTOCOLS:
        counts = COUNTS.get(protocol)
        if counts is None:
            continue
        tr.write_line(f"{protocol:<12}" + "".join(f"{counts[c]:>12}" for c in cols))
    tr.write_line("generated = instances drawn from each message schema (hypothesis-jsonschema);")
    tr.write_line("failures = failed example, bad-input or per-class generated tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``sources`` need git mirrors of the public sources (``TRIO_FEEDS_SOURCES``).

    Without them they are deselected, not skipped: a default run has nothing to skip.
    """
    if os.environ.get("TRIO_FEEDS_SOURCES"):
        return
    deselected = [item for item in items if item.get_closest_marker("sources")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("sources")]
