"""Size limits that keep the code readable: no class over 300 lines, no function over 100.

Generated models are exempt (their size follows the schemas).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "trio_feeds"
MAX_CLASS = 300
MAX_FUNCTION = 100


def test_no_class_or_function_is_too_long() -> None:
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "models" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                limit = MAX_CLASS if isinstance(node, ast.ClassDef) else MAX_FUNCTION
                if lines > limit:
                    too_long.append(
                        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}: {lines} lines"
                    )
    assert not too_long, "\n".join(too_long)
