from __future__ import annotations

import os

import pytest

from tests import fifth
from tests._fixtures import COUNTS, PROTOCOLS, SEEDS
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


def _missing_needs() -> list[str]:
    """The markers whose tests cannot run here: what they need is not available."""
    missing = []
    if not os.environ.get("TRIO_FEEDS_SOURCES"):
        missing.append("sources")
    if not SEEDS.is_dir():
        missing.append("seeds")
    return missing


def pytest_report_header() -> list[str]:
    return [f"trio-feeds: deselected for want of what they need: {m}" for m in _missing_needs()]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``sources`` or ``seeds`` are deselected when what they need is missing.

    ``sources``: git mirrors of the public sources (``TRIO_FEEDS_SOURCES=DIR``). ``seeds``: the
    protocol documents, beside the checkout in the project's workspace (``../shared/seeds``, or
    ``TRIO_FEEDS_SEEDS=DIR``); an unpacked sdist has neither. Deselected, not skipped: a default
    run has nothing to skip, and the header says what was left out.
    """
    missing = _missing_needs()
    deselected = [item for item in items if any(item.get_closest_marker(m) for m in missing)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]
