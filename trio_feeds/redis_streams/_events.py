"""What a stream reader yields besides normalized items: events in the streams, and gaps."""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = [
    "BadEntry",
    "EntryRef",
    "RawFrame",
    "PublisherOverflow",
    "PublisherStarted",
    "StreamEvent",
    "StreamGap",
]


@attrs.frozen
class PublisherOverflow:
    """The publisher's queue overflowed: items of this stream were dropped just before here.

    Redis was away or slow, and ``dropped`` items of this stream were never written.

    Attributes:
        dropped: how many items of this stream were dropped.
    """

    dropped: int


@attrs.frozen
class PublisherStarted:
    """A publisher instance wrote its first entry to this stream.

    An entry of another instance before it may be followed by data nobody published (between
    that instance's end and this start): what a feed's own :class:`~trio_feeds.events.Gap` is
    for a connection, this is for a publisher.
    """


PUBLISHER_EVENTS: dict[str, type] = {
    "PublisherOverflow": PublisherOverflow,
    "PublisherStarted": PublisherStarted,
}


@attrs.frozen
class StreamEvent:
    """A session event a publisher wrote into a stream, in its place between the items.

    Attributes:
        stream: the stream it came from (each event of a feed is written to every stream that
            feed has written to, and to the publisher's event stream).
        publisher: the publisher instance (``name/hex``).
        feed: the feed of the publisher's group it happened to (``""`` for the publisher's own
            events).
        number: the publisher instance's event number: the same event in several streams has
            the same ``(publisher, number)``.
        event: the event: a :mod:`trio_feeds.events` type (``Gap.since``/``until`` are on the
            publisher's clock), :class:`PublisherOverflow` or :class:`PublisherStarted`.
    """

    stream: str
    publisher: str
    feed: str
    number: int
    event: object


@attrs.frozen
class StreamGap:
    """Entries of ``stream`` were removed before the consumer group read them.

    Attributes:
        stream: the stream.
        lost: how many entries the group never got (``None``: unknown, Redis could not say).
        after: for ``"trimmed"``, the last entry id the group had been given before the gap;
            for ``"pending trimmed"``, the first id lost.
        reason: ``"trimmed"`` (``MAXLEN`` removed entries the group had not read yet) or
            ``"pending trimmed"`` (entries a consumer had received but not acknowledged were
            removed before another could claim them).
    """

    stream: str
    lost: int | None
    after: str
    reason: str = "trimmed"


@attrs.frozen
class EntryRef:
    """Where the item a reader yielded last came from.

    Attributes:
        stream: the stream key.
        id: the entry id (``"1717000000000-0"``).
        publisher: the publisher instance that wrote it.
        number: that instance's sequence number of the entry in this stream.
    """

    stream: str
    id: str
    publisher: str
    number: int


@attrs.frozen
class RawFrame:
    """A frame a publisher's feed received, exactly as received (``PublisherConfig`` ``raw``).

    Attributes:
        stream: the stream (``<prefix>:<exchange>:raw:<feed>``).
        feed: the feed of the publisher's group that received it.
        frame: the frame: ``str`` for a text frame, ``bytes`` for a binary one.
        received_at: when the publisher received it (aware UTC, to the microsecond).
    """

    stream: str
    feed: str
    frame: str | bytes
    received_at: datetime


@attrs.frozen
class BadEntry:
    """An entry that is not in the publisher's format (it is acknowledged and skipped).

    Attributes:
        stream: the stream.
        id: the entry id.
        reason: what was wrong.
    """

    stream: str
    id: str
    reason: str
