"""Every ```python block of the docs site (docs/*.md) runs, as the README's do.

The pages that include README sections are covered by ``tests/test_readme.py``; the scripts
the pages show with ``literalinclude`` are ``examples/`` (``tests/test_examples.py``) and
``tests/fifth/`` (run by the suite). Here: the blocks written in the pages themselves.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_readme import ROOT, python_blocks, run_block

DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)
BLOCKS = [(page, block) for page in PAGES for block in python_blocks(page.read_text())]


def _id(case: tuple[Path, str]) -> str:
    page, block = case
    line = page.read_text()[: page.read_text().index(block)].count("\n") + 1
    return f"{page.relative_to(ROOT)}:{line}"


def test_the_docs_have_examples() -> None:
    assert len(BLOCKS) >= 6


def test_no_python_escapes_the_tests() -> None:
    # Python shown any other way (a code-block directive, an rST literal) would not be run here.
    for page in PAGES:
        text = page.read_text()
        assert not re.search(r"code-block::? *python|\{code-block\} *python|```\{code\}", text), page
        for match in re.finditer(r"\{literalinclude\} *(\S+)", text):
            target = (page.parent / match.group(1)).resolve()
            assert target.is_relative_to(ROOT / "examples") or target.is_relative_to(ROOT / "tests"), (
                page,
                target,
            )


@pytest.mark.parametrize("case", BLOCKS, ids=[_id(c) for c in BLOCKS])
def test_example_runs(case: tuple[Path, str], tmp_path: Path) -> None:
    _, block = case
    result = run_block(block, tmp_path)
    assert result.returncode == 0, f"{_id(case)} failed:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
