"""The ``pytest11`` entry point: the local-server fixtures, when the ``testing`` extra is installed.

pytest loads every installed plugin at startup, in every project. The fixtures' servers need
wsproto (``pip install 'trio-feeds[testing]'``); a project that installed trio-feeds without it
must still be able to run pytest, so without wsproto this entry point adds nothing. The fixtures
themselves live in :mod:`trio_feeds.testing.pytest_plugin` (which a ``conftest.py`` may also
name in ``pytest_plugins``).
"""

from __future__ import annotations

import importlib.util

# The plugin's imports, checked without importing them: pytest imports the listed plugin after
# this module, and only if it is listed.
_NEEDS = ("wsproto",)

pytest_plugins: list[str] = (
    ["trio_feeds.testing.pytest_plugin"]
    if all(importlib.util.find_spec(name) is not None for name in _NEEDS)
    else []
)
