"""trio-feeds: typed, reconnecting exchange WebSocket feeds for Trio.

Each protocol has a module with its generated models, ``decode`` and ``encode``:
:mod:`trio_feeds.cryptology`, :mod:`trio_feeds.onyx`, :mod:`trio_feeds.peatio`,
:mod:`trio_feeds.gateway`. Errors live in :mod:`trio_feeds.errors` and are re-exported here.
"""

from __future__ import annotations

from ._codec import UnknownMessage as UnknownMessage
from .errors import AuthenticationError as AuthenticationError
from .errors import DecodeError as DecodeError
from .errors import FeedClosed as FeedClosed
from .errors import FeedError as FeedError
from .errors import SlowConsumer as SlowConsumer
from .errors import SubscriptionError as SubscriptionError

__version__ = "0.1.0.dev0"

# Re-exported names claim this package as their home, so reprs, tracebacks and docs show
# `trio_feeds.DecodeError` rather than a private module (trio's __init__ does the same).
for _obj in (
    AuthenticationError,
    DecodeError,
    FeedClosed,
    FeedError,
    SlowConsumer,
    SubscriptionError,
    UnknownMessage,
):
    _obj.__module__ = "trio_feeds"
del _obj
