from __future__ import annotations

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
