"""trio-feeds: typed, reconnecting exchange WebSocket feeds for Trio.

Each protocol has a module with its generated models, ``decode``/``encode`` and ``open_feed``:
:mod:`trio_feeds.cryptology`, :mod:`trio_feeds.onyx`, :mod:`trio_feeds.peatio`,
:mod:`trio_feeds.gateway`. Session events live in :mod:`trio_feeds.events`, errors in
:mod:`trio_feeds.errors` (re-exported here), local protocol servers for tests in
:mod:`trio_feeds.testing`.
"""

from __future__ import annotations

import logging as _logging

from . import events as events
from ._codec import UnknownMessage as UnknownMessage
from ._engine import Feed as Feed
from ._engine import FeedStats as FeedStats
from ._engine import connect_feed as connect_feed
from ._engine import open_protocol_feed as open_protocol_feed
from .config import FeedConfig as FeedConfig
from .errors import AuthenticationError as AuthenticationError
from .errors import DecodeError as DecodeError
from .errors import FeedClosed as FeedClosed
from .errors import FeedError as FeedError
from .errors import RequestTimeout as RequestTimeout
from .errors import SlowConsumer as SlowConsumer
from .errors import SubscriptionError as SubscriptionError

__version__ = "0.1.0.dev0"

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
