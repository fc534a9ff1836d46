"""Sphinx configuration of the trio-feeds documentation (``nox -s docs`` builds it, warnings as errors).

Why Sphinx, furo and MyST rather than MkDocs Material and mkdocstrings: the pages stay Markdown
(MyST), the API reference comes from the docstrings with autodoc + napoleon (the package's
Google-style ``Args:``/``Raises:`` sections), the command-line reference is generated from the
``argparse`` parsers themselves (sphinx-argparse), and ``-W --keep-going`` with ``nitpicky``
turns every broken cross-reference into a failed build. Everything builds offline from PyPI
packages (no intersphinx fetches), as CI must.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # examples/ and tests/fifth/ are shown from the checkout
sys.path.insert(0, str(ROOT / "docs"))  # _cli_reference: the parser the CLI page documents

import trio_feeds  # noqa: E402

project = "trio-feeds"
author = "trio-feeds developers"
copyright = "trio-feeds developers"
release = trio_feeds.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinxarg.ext",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"trio-feeds {release}"

# Every cross-reference must resolve (-n, with -W: a broken one fails the build), except to what
# this build cannot document: the standard library's and trio's objects (intersphinx would fetch
# their inventories from the internet, which CI does not reach) and the package's private modules
# and type variables, which the public signatures name.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(abc|collections\.abc|contextlib|datetime|decimal|enum|os|pathlib|random|ssl|typing)\..*"),
    (r"py:.*", r"(trio|_pytest|pytest|coredis|prometheus_client)\..*"),
    (r"py:.*", r"trio_feeds\.(.*\.)?_\w+(\..*)?"),  # a private module or class
    (r"py:class", r"_\w+"),  # a private class named in its module's annotations
    (r"py:.*", r"trio_feeds\.(.*\.)?(K|V|T_co|FeedT)"),  # type variables
    # Names that signatures show unqualified: Literal aliases and private classes that the
    # modules import for their annotations only.
    (r"py:class", r"AuthMode|AuthRejection|FailurePolicy|FrameForm|SubscribeMode|WireForm|K"),
    (r"py:class", r"Dashboard|Engine|FeedControls|FeedProtocol|FeedSetup|PartWriter|Signer|Tap"),
    (r"py:class", r"Path|AbstractAsyncContextManager"),  # the standard library's, as imported
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = False


# Docstrings of the generated models come from the schemas' descriptions, written in Markdown:
# `x` there is code. reST would read it as interpreted text (and napoleon would split an
# attribute docstring at a colon inside it), so it becomes ``x`` before napoleon reads it.
_MARKDOWN_CODE = re.compile(r"(?<![`\w:])`([^`\n]+)`(?![`\w])")


def _markdown_code(app: object, what: str, name: str, obj: object, options: object, lines: list[str]) -> None:
    lines[:] = [_MARKDOWN_CODE.sub(r"``\1``", line) for line in lines]


# An attribute's docstring here is prose ("Seconds the order is valid for: 0 means ..."), never
# napoleon's "type: description" form, which would make a type of the words before a colon.
_ATTRIBUTE_LINES: dict[str, list[str]] = {}


def _keep_attribute_prose(
    app: object, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    if what in ("attribute", "property", "data"):
        _ATTRIBUTE_LINES[name] = list(lines)


def _restore_attribute_prose(
    app: object, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    if what in ("attribute", "property", "data") and name in _ATTRIBUTE_LINES:
        lines[:] = _ATTRIBUTE_LINES.pop(name)


def setup(app: object) -> None:
    # napoleon converts docstrings at the default priority, 500.
    app.connect("autodoc-process-docstring", _markdown_code, priority=400)  # type: ignore[attr-defined]
    app.connect("autodoc-process-docstring", _keep_attribute_prose, priority=401)  # type: ignore[attr-defined]
    app.connect("autodoc-process-docstring", _restore_attribute_prose, priority=600)  # type: ignore[attr-defined]
