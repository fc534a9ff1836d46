"""``python -m trio_feeds`` and the ``trio-feeds`` console script: the command.

The command needs the ``cli`` extra (rich, jsonschema, the local servers' wsproto). :func:`main`
checks for it before importing :mod:`trio_feeds.cli`, so that a core install answers with one
line naming the extra instead of an ImportError traceback.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

__all__ = ["main"]

# The top-level modules of the `cli` extra in pyproject.toml (rfc3339_validator: without it,
# `conform` would silently skip `format: date-time` checks).
CLI_MODULES = ("rich", "jsonschema", "rfc3339_validator", "wsproto")
EXIT_USAGE = 2  # as the command's own "bad arguments": the command cannot run as installed


def missing_cli_modules() -> list[str]:
    """The modules of the ``cli`` extra that cannot be imported (found, not imported)."""
    return [name for name in CLI_MODULES if importlib.util.find_spec(name) is None]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``trio-feeds`` command; return its exit status (2 without the ``cli`` extra)."""
    missing = missing_cli_modules()
    if missing:
        print(
            f"trio-feeds: the command needs the 'cli' extra (missing: {', '.join(missing)}): "
            "pip install 'trio-feeds[cli]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        from .cli import main as cli_main  # noqa: PLC0415 - only after the check above
    except KeyboardInterrupt:  # Ctrl-C while Python is still loading the command
        return 130
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
