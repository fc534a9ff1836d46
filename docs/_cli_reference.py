"""The ``trio-feeds`` parser as the CLI reference page shows it (``docs/cli.md``).

sphinx-argparse reads descriptions and epilogs as reST, but the command writes some as
preformatted text (``RawDescriptionHelpFormatter``: aligned columns under a heading line).
Each indented run of lines becomes a literal block here, so it reads as ``--help`` prints it.
"""

from __future__ import annotations

import argparse

from trio_feeds.cli import build_parser


def _as_rest(text: str | None) -> str | None:
    if not text:
        return text
    out: list[str] = []
    indented = False
    for line in text.splitlines():
        starts_block = line.startswith(" ") and not indented
        if starts_block:
            out += ["", "::", ""]
        elif indented and line and not line.startswith(" "):
            out.append("")
        indented = line.startswith(" ") or (indented and not line)
        out.append(line)
    return "\n".join(out)


def _convert(parser: argparse.ArgumentParser) -> None:
    parser.description = _as_rest(parser.description)
    parser.epilog = _as_rest(parser.epilog)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _convert(sub)


def parser() -> argparse.ArgumentParser:
    """``build_parser()`` with its preformatted texts as reST literal blocks."""
    result = build_parser()
    _convert(result)
    return result
