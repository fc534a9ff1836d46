"""``python -m trio_feeds``: the ``trio-feeds`` command."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    try:
        from .cli import main
    except KeyboardInterrupt:  # Ctrl-C while Python is still loading the command
        sys.exit(130)
    sys.exit(main())
