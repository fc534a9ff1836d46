"""trio-feeds: typed, reconnecting exchange WebSocket feeds for Trio.

Each protocol has a module with its generated models, ``decode``/``encode`` and ``open_feed``:
:mod:`trio_feeds.cryptology`, :mod:`trio_feeds.onyx`, :mod:`trio_feeds.peatio`,
:mod:`trio_feeds.gateway`. Session events live in :mod:`trio_feeds.events`, errors in
:mod:`trio_feeds.errors` (re-exported here), transports in :mod:`trio_feeds.transports`, local
protocol servers for tests in :mod:`trio_feeds.testing`.

Names here load on first use, so ``import trio_feeds`` stays cheap: an application that
streams one exchange does not pay for the other three, nor for the engine before it needs it.
"""

from __future__ import annotations

import importlib
import logging as _logging
from typing import TYPE_CHECKING, Any

from .errors import (
    AuthenticationError,
    DecodeError,
    FeedClosed,
    FeedError,
    RequestTimeout,
    SlowConsumer,
    SubscriptionError,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "AuthenticationError",
    "DecodeError",
    "Feed",
    "FeedClosed",
    "FeedConfig",
    "FeedError",
    "FeedStats",
    "RequestTimeout",
    "SlowConsumer",
    "SubscriptionError",
    "UnknownMessage",
    "events",
    "run_feed",
    "start_feed",
]

# A library logs; the application decides where logs go. Without this, Python's last-resort
# handler would print our warnings (reconnects) to stderr in apps that never set up logging.
_logging.getLogger("trio_feeds").addHandler(_logging.NullHandler())

# Re-exported errors claim this package as their home, so tracebacks and docs show
# `trio_feeds.DecodeError` rather than a private module (trio's __init__ does the same).
# Only exceptions: attrs classes keep their real module, where their string annotations resolve.
for _error in (
    AuthenticationError,
    DecodeError,
    FeedClosed,
    FeedError,
    RequestTimeout,
    SlowConsumer,
    SubscriptionError,
):
    _error.__module__ = "trio_feeds"
del _error

_LAZY = {
    "Feed": "._engine",
    "FeedStats": "._engine",
    "run_feed": "._engine",
    "start_feed": "._engine",
    "FeedConfig": ".config",
    "UnknownMessage": "._codecs",
}

if TYPE_CHECKING:
    from . import events as events
    from ._codecs import UnknownMessage as UnknownMessage
    from ._engine import Feed as Feed
    from ._engine import FeedStats as FeedStats
    from ._engine import run_feed as run_feed
    from ._engine import start_feed as start_feed
    from .config import FeedConfig as FeedConfig


def __getattr__(name: str) -> Any:
    if name == "events":
        return importlib.import_module(".events", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
