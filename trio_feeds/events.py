"""Session events: what happened to a feed's connection, delivered in-band with the messages.

A feed yields these from the same iterator as the exchange messages, in the order things
happened, so an application that keeps state (an order book, a position) sees exactly where a
disconnect, a reconnect or a data gap falls between two messages.

Times (``Gap.since``, ``Gap.until``) are on the engine's clock, ``trio.current_time()``: compare
them with each other or with ``trio.current_time()``, not with wall-clock time.

None of these carries a credential: URLs are shown without their query string and user info.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import get_args

import attrs

from .errors import DecodeError

__all__ = [
    "Authenticated",
    "BookOutOfSync",
    "BookSynced",
    "Connected",
    "DecodeFailed",
    "Disconnected",
    "FEED_EVENT_TYPES",
    "FeedEvent",
    "Gap",
    "Overflow",
    "Reconnecting",
    "Resubscribed",
    "SessionEvent",
    "Subscribed",
]


@attrs.frozen
class Connected:
    """A WebSocket connection is open (the handshake succeeded).

    Attributes:
        url: the URL connected to, without query string or user info (either may carry a token).
    """

    url: str


@attrs.frozen
class Authenticated:
    """The server accepted our credentials on the current connection."""


@attrs.frozen
class Subscribed:
    """A subscribe request was acknowledged by the server.

    Attributes:
        request: the protocol's request id of the acknowledged request.
    """

    request: str


@attrs.frozen
class Disconnected:
    """The connection ended; the feed reconnects unless the close was fatal.

    Attributes:
        code: the WebSocket close code, or ``None`` when there was none (TCP dropped, a ping
            went unanswered, the server went silent).
        reason: the close reason or what the engine saw, in words.
    """

    code: int | None
    reason: str


@attrs.frozen
class Reconnecting:
    """The engine waits ``delay`` seconds, then makes reconnect attempt number ``attempt``.

    Attributes:
        attempt: 1 for the first attempt after a connection was healthy, then 2, 3, ...
        delay: seconds of backoff before the attempt (jittered).
        reason: why the previous connection or attempt ended, in words.
    """

    attempt: int
    delay: float
    reason: str = ""


@attrs.frozen
class Resubscribed:
    """After a reconnect, every remembered subscription was sent again and answered.

    Attributes:
        count: the number of re-subscription frames sent on the new connection.
        errors: error texts of re-subscriptions the server refused or left unanswered within
            ``request_timeout`` (empty when all succeeded).
    """

    count: int
    errors: tuple[str, ...] = ()


@attrs.frozen
class Gap:
    """Data between ``since`` and ``until`` (engine clock) may have been missed.

    Emitted after :class:`Resubscribed` on every reconnect. An application that keeps state
    built from increments (an order book) should rebuild it from a fresh snapshot.

    Attributes:
        since: when the dead connection last received a frame.
        until: when re-subscription on the new connection completed.
    """

    since: float
    until: float


@attrs.frozen
class Overflow:
    """The consumer fell behind: ``dropped`` messages were dropped before the next one.

    Only with ``FeedConfig(overflow="drop_oldest")``. Session events are never dropped; the
    oldest exchange messages (and :class:`DecodeFailed` events) are.

    Attributes:
        dropped: how many messages were dropped since the previous ``Overflow``.
    """

    dropped: int


@attrs.frozen
class DecodeFailed:
    """A frame could not be decoded (malformed, wrong types, or larger than ``max_frame_size``).

    The feed goes on. Only with ``FeedConfig(bad_frames="event")``; with ``"raise"`` the
    :class:`~trio_feeds.DecodeError` ends the feed instead.

    Attributes:
        error: what was wrong, with the JSON path of the bad value. It never quotes the frame.
    """

    error: DecodeError


@attrs.frozen
class BookOutOfSync:
    """The book of ``key`` may differ from the exchange's from here on (``feed.books[key]``).

    Attributes:
        key: the market (``"btcusd"``, ``"BTC_USD"``, ``("binance", "BTCUSDT")``).
        reason: why: the connection dropped, a sequence jump, a crossed book, ...
    """

    key: Hashable
    reason: str


@attrs.frozen
class BookSynced:
    """The book of ``key`` was rebuilt from a snapshot and is in sync again.

    Attributes:
        key: the market.
    """

    key: Hashable


SessionEvent = (
    Connected
    | Authenticated
    | Subscribed
    | Disconnected
    | Reconnecting
    | Resubscribed
    | Gap
    | Overflow
    | BookOutOfSync
    | BookSynced
)
"""Every session event type except :class:`DecodeFailed` (which stands in for a message)."""

FeedEvent = SessionEvent | DecodeFailed
"""Everything a feed yields besides its protocol's messages."""

FEED_EVENT_TYPES = frozenset[type[FeedEvent]](get_args(FeedEvent))
"""The classes of :data:`FeedEvent`, for ``type(item) in FEED_EVENT_TYPES`` (one set lookup)."""
