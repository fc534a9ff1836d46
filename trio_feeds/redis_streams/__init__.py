"""Scale out on Redis Streams: publish normalized items to Redis, read them in consumer groups.

Needs the ``redis`` extra (``pip install 'trio-feeds[redis]'``: coredis, which runs natively
under Trio). ``import trio_feeds`` never imports this module.

- :func:`open_publisher` writes items (and each feed's session events, in band) to streams
  ``<prefix>:<exchange>:<kind>:<symbol>`` (:func:`stream_key`); :func:`publish_feeds` publishes
  a whole feed group.
- :func:`open_stream_reader` gives them back typed, as one consumer of a consumer group, with
  claiming of a dead consumer's entries and :class:`StreamGap` when trimming outran the group.
"""

from __future__ import annotations

from ._codec import EntryError
from ._common import redact_url, registry_key
from ._events import (
    BadEntry,
    EntryRef,
    PublisherOverflow,
    PublisherStarted,
    RawFrame,
    StreamEvent,
    StreamGap,
)
from ._publisher import (
    PublishedEntry,
    Publisher,
    PublisherConfig,
    PublisherStats,
    open_publisher,
    publish_feeds,
    stream_key,
)
from ._raw import raw_frames
from ._reader import ReaderConfig, ReaderItem, ReaderStats, StreamReader, open_stream_reader

__all__ = [
    "BadEntry",
    "EntryError",
    "EntryRef",
    "PublishedEntry",
    "Publisher",
    "PublisherConfig",
    "PublisherOverflow",
    "PublisherStarted",
    "PublisherStats",
    "RawFrame",
    "ReaderConfig",
    "ReaderItem",
    "ReaderStats",
    "StreamEvent",
    "StreamGap",
    "StreamReader",
    "open_publisher",
    "open_stream_reader",
    "publish_feeds",
    "raw_frames",
    "redact_url",
    "registry_key",
    "stream_key",
]
