"""The engine layer: one Trio engine for every protocol, and the :class:`Feed` users iterate.

``_core`` runs connections and reconnects, ``_session`` one connection's tasks, ``_buffer``
the bounded buffer to the consumer, ``_requests`` the deadline of every awaited request, and
``_feed`` the public :class:`Feed` with :func:`run_feed` / :func:`start_feed`, and ``_tap``
the hook recorders and replays use.
"""

from __future__ import annotations

from ._buffer import FeedStats
from ._feed import Feed, RequestCall, run_feed, start_feed
from ._tap import FeedControls, FeedSetup, Tap

__all__ = ["Feed", "FeedControls", "FeedSetup", "FeedStats", "RequestCall", "Tap", "run_feed", "start_feed"]
