"""The publisher: normalized items and session events into Redis streams, acknowledged or retried.

Keys: ``<prefix>:<exchange>:<kind>:<symbol>`` for items (:func:`stream_key`), and
``<prefix>:events:<publisher name>`` for the publisher's own record of events. Every key written
is added to the set ``<prefix>:streams``, where readers find them.

An item is *published* once Redis acknowledged its ``XADD``. Until then it is in the queue or in
the batch being sent; a batch whose replies did not all come back (a connection lost mid-way) is
sent again whole. So that a resent entry that Redis had already stored is not stored twice, the
publisher chooses every entry's id itself (``<unix ms>-<n>``, increasing per stream, above the
stream's ``last-generated-id`` read at the first write of each stream): Redis refuses an id that
is not above the stream's last one, and the publisher then reads the entry at that id and takes
it as published when it is its own (same ``p`` and ``n`` fields). A stream must have one
publisher (configs share out the feeds); with two, nothing is lost, but their entries interleave
by the ids' times and a refused id is moved above the other's.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs
import coredis
import coredis.exceptions
import trio
from coredis.tokens import PureToken

from .. import events as ev
from .. import normalized as nz
from ..config import OverflowPolicy
from ..errors import SlowConsumer
from ..group import FeedFailed, FeedGroup
from ._codec import EVENT_TAG, RAW_TAG, encode_event, encode_item, encode_source, item_tag
from ._common import TRANSIENT, Backoff, connect, describe, redact_url, registry_key, url_secret
from ._events import PublisherOverflow, PublisherStarted

__all__ = [
    "PublishedEntry",
    "Publisher",
    "PublisherConfig",
    "PublisherStats",
    "open_publisher",
    "publish_feeds",
    "stream_key",
]

log = logging.getLogger("trio_feeds.redis_streams")

_REFUSED_ID = "equal or smaller than the target stream top item"


def stream_key(prefix: str, item: nz.Normalized) -> str:
    """The stream an item goes to: ``<prefix>:<exchange>:<kind>:<symbol>``.

    ``kind`` is ``trade``, ``fill``, ``book`` (snapshots and updates share a stream: their order
    matters), ``ticker``, ``order``, ``balance`` (``symbol`` is the currency) or ``position``;
    an item without a symbol (a fill or order naming no market) goes to symbol ``_``.
    """
    kind = _KINDS[type(item)]
    if type(item) is nz.BalanceUpdate:
        symbol: str | None = item.currency
    else:
        symbol = getattr(item, "symbol", None)
    return f"{prefix}:{item.exchange}:{kind}:{symbol or '_'}"


_KINDS: dict[type, str] = {
    nz.Trade: "trade",
    nz.Fill: "fill",
    nz.BookSnapshot: "book",
    nz.BookUpdate: "book",
    nz.Ticker: "ticker",
    nz.OrderUpdate: "order",
    nz.BalanceUpdate: "balance",
    nz.PositionUpdate: "position",
}


def _positive_int(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 1:
        raise ValueError(f"{attribute.name} must be an integer >= 1, got {value!r}")


@attrs.frozen(kw_only=True)
class PublisherConfig:
    """How a publisher writes: stream length, batching, its queue and reconnect backoff.

    Attributes:
        maxlen: each stream is trimmed to about this many entries (``XADD ... MAXLEN ~``:
            Redis trims whole nodes, so a stream may hold a little more).
        batch_size: entries per pipelined round trip at most.
        queue_size: entries waiting to be written at most (session events do not count and are
            never dropped). When Redis is away or slow and the queue is full, ``overflow``
            decides, as for a feed.
        overflow: ``"drop_oldest"`` drops the oldest waiting items and writes a
            :class:`PublisherOverflow` event in their place into each stream that lost some;
            ``"fail"`` makes :meth:`Publisher.publish` raise :class:`~trio_feeds.SlowConsumer`.
        sources: also write each item's exchange message (as its wire JSON; the four built-in
            protocols): readers then give items with ``source`` set. Costs a second encode.
        backoff_initial, backoff_max: reconnect delays (full jitter) while Redis is away.
        connect_timeout: bound on connecting to Redis.
        close_timeout: on leaving :func:`open_publisher`, how long to wait for what is still
            queued to be written; what is left after it is reported (logged and in
            :attr:`PublisherStats.unpublished`).
    """

    maxlen: int = attrs.field(default=100_000, validator=_positive_int)
    batch_size: int = attrs.field(default=500, validator=_positive_int)
    queue_size: int = attrs.field(default=100_000, validator=_positive_int)
    overflow: OverflowPolicy = attrs.field(
        default="drop_oldest", validator=attrs.validators.in_(("drop_oldest", "fail"))
    )
    sources: bool = False
    backoff_initial: float = 0.1
    backoff_max: float = 5.0
    connect_timeout: float = 5.0
    close_timeout: float = 10.0

    def __attrs_post_init__(self) -> None:
        # A resent entry is recognised by reading it back: one batch must not be able to trim
        # its own first entries away.
        if self.maxlen < self.batch_size:
            raise ValueError(f"maxlen ({self.maxlen}) must be at least batch_size ({self.batch_size})")


@attrs.define
class PublisherStats:
    """Counts of a publisher's work so far.

    Attributes:
        published: entries Redis acknowledged (items and events).
        duplicates: entries sent again after a lost reply that Redis turned out to hold
            already (counted once, in ``published``).
        dropped: items dropped by the queue's ``drop_oldest`` overflow.
        retries: batches sent again after a connection failure.
        reconnects: times Redis became reachable again after being away.
        unpublished: entries still unwritten when the publisher closed.
    """

    published: int = 0
    duplicates: int = 0
    dropped: int = 0
    retries: int = 0
    reconnects: int = 0
    unpublished: int = 0


@attrs.frozen
class PublishedEntry:
    """An entry Redis acknowledged (what :func:`open_publisher`'s ``on_published`` gets)."""

    stream: str
    id: str
    number: int


@attrs.define(slots=True)
class _Entry:
    key: str
    fields: dict[bytes, bytes]
    is_event: bool
    id: str = ""
    number: int = 0


class _Ids:
    """Each stream's entry numbers and ids, as this publisher instance gives them."""

    def __init__(self, instance: bytes) -> None:
        self.instance = instance
        self.numbers: defaultdict[str, int] = defaultdict(int)
        self.last: dict[str, tuple[int, int]] = {}  # the last id given, per stream
        self.known: set[str] = set()  # streams whose last-generated-id was read

    def _next_id(self, key: str, now: int) -> str:
        ms, seq = self.last.get(key, (0, -1))
        ms, seq = (now, 0) if now > ms else (ms, seq + 1)
        self.last[key] = (ms, seq)
        return f"{ms}-{seq}"

    def assign(self, entry: _Entry, now: int) -> None:
        """Number the entry (its identity, kept for good) and give it an id."""
        key = entry.key
        self.numbers[key] += 1
        entry.number = self.numbers[key]
        entry.id = self._next_id(key, now)
        entry.fields[b"p"] = self.instance
        entry.fields[b"n"] = str(entry.number).encode()

    def _raise_last(self, key: str, last: object) -> None:
        text = last.decode() if isinstance(last, bytes) else str(last)
        ms, _, seq = text.partition("-")
        theirs = (int(ms), int(seq or 0))
        if theirs > self.last.get(key, (0, -1)):
            self.last[key] = theirs

    async def learn(self, client: coredis.Redis[Any], keys: list[str], registry: str) -> None:
        """Read each new stream's last-generated-id, so that the ids given go above it.

        The streams go into the registry set, where readers find them.
        """
        keys = list(dict.fromkeys(keys))
        async with client.pipeline(transaction=False, raise_on_error=False) as pipe:
            for key in keys:
                pipe.xinfo_stream(key)
            pipe.sadd(registry, keys)
        results = pipe.results or ()
        for key, info in zip(keys, results, strict=False):
            if isinstance(info, coredis.exceptions.ResponseError):
                if "no such key" not in str(info):
                    raise info
            else:
                self._raise_last(key, info["last-generated-id"])
            self.known.add(key)

    async def move_up(self, client: coredis.Redis[Any], entries: list[_Entry]) -> None:
        """New ids for ``entries``, above their streams' last ones (numbers kept)."""
        keys = list(dict.fromkeys(e.key for e in entries))
        async with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.xinfo_stream(key)
        for key, info in zip(keys, pipe.results or (), strict=True):
            self._raise_last(key, info["last-generated-id"])
        now = time.time_ns() // 1_000_000
        for entry in entries:
            entry.id = self._next_id(entry.key, now)


class Publisher:
    """Writes items and events to Redis streams from a bounded queue (see :func:`open_publisher`)."""

    def __init__(
        self,
        prefix: str,
        name: str,
        config: PublisherConfig,
        on_published: Callable[[Sequence[PublishedEntry]], None] | None = None,
    ) -> None:
        self.prefix = prefix
        self.name = name
        self.instance = f"{name}/{secrets.token_hex(4)}"
        self.config = config
        self.stats = PublisherStats()
        self._on_published = on_published
        self._instance = self.instance.encode()
        self._queue: deque[_Entry] = deque()  # items and events, oldest first
        self._front: deque[_Entry] = deque()  # events saved from an overflow: older than _queue
        self._items = 0  # items in _queue (the bound counts only these)
        self._dropped: defaultdict[str, int] = defaultdict(int)  # per stream, not yet reported
        self._feed_streams: defaultdict[str, dict[str, None]] = defaultdict(dict)
        self._events_key = f"{prefix}:events:{name}"
        self._events = 0
        self._ids = _Ids(self._instance)
        self._enqueued = 0
        self._done = 0  # published + dropped
        self._progress = trio.Event()
        self._work = trio.Event()
        self._url = ""
        self._secret: str | None = None

    def __repr__(self) -> str:
        return f"<Publisher {self.instance!r} prefix={self.prefix!r} redis={self._url!r}>"

    @property
    def pending(self) -> int:
        """Entries queued or being written, not yet acknowledged."""
        return self._enqueued - self._done

    # -- producing ---------------------------------------------------------------------------

    def publish(self, item: nz.Normalized, *, feed: str = "") -> None:
        """Queue ``item`` for its stream (:func:`stream_key`); returns at once.

        ``feed`` names the feed it came from: that feed's session events go to its streams.

        Raises:
            SlowConsumer: the queue is full and ``overflow`` is ``"fail"``.
            TypeError: ``item`` is not a normalized item.
        """
        tag = item_tag(item)
        if tag is None:
            raise TypeError(f"not a normalized item: {type(item).__name__}")
        key = stream_key(self.prefix, item)
        fields = {b"k": tag, b"d": encode_item(item)}
        if self.config.sources:
            source = encode_source(item)
            if source is not None:
                fields[b"s"] = source
        self._enqueue(key, fields, feed)

    def publish_raw(self, frame: str | bytes, *, exchange: str, feed: str) -> None:
        """Queue one frame as received, for ``<prefix>:<exchange>:raw:<feed>`` (see :func:`raw_frames`).

        Raw frames count against the queue like items.
        """
        key = f"{self.prefix}:{exchange}:raw:{feed}"
        text = isinstance(frame, str)
        fields = {
            b"k": RAW_TAG,
            b"d": frame.encode() if isinstance(frame, str) else frame,
            b"x": b"t" if text else b"b",
            b"r": str(time.time_ns()).encode(),
            b"f": feed.encode(),
        }
        self._enqueue(key, fields, feed)

    def _enqueue(self, key: str, fields: dict[bytes, bytes], feed: str) -> None:
        if self._items >= self.config.queue_size:
            self._overflow()
        self._feed_streams[feed][key] = None
        self._queue.append(_Entry(key, fields, False))
        self._items += 1
        self._enqueued += 1
        self._work.set()

    def publish_event(self, event: object, *, feed: str = "") -> None:
        """Queue a session event of ``feed``, to be written in band.

        It goes into every stream that feed has written to, in its place between the items,
        and into the publisher's event stream.

        Events are never dropped.
        """
        self._events += 1
        payload = encode_event(event, feed, self._events)
        for key in (*self._feed_streams.get(feed, ()), self._events_key):
            self._queue.append(_Entry(key, {b"k": EVENT_TAG, b"d": payload}, True))
            self._enqueued += 1
        self._work.set()

    def _overflow(self) -> None:
        if self.config.overflow == "fail":
            raise SlowConsumer(
                f"publisher queue full ({self.config.queue_size} items): Redis is away or slow"
            )
        while self._queue:
            entry = self._queue.popleft()
            if entry.is_event:
                self._front.append(entry)  # older than every queued item: it stays first
                continue
            self._items -= 1
            self._dropped[entry.key] += 1
            self.stats.dropped += 1
            self._done += 1
            return

    async def flush(self) -> None:
        """Wait until everything queued before this call is acknowledged by Redis (or dropped)."""
        target = self._enqueued
        while self._done < target:
            await self._progress.wait()

    # -- writing -----------------------------------------------------------------------------

    def _take(self) -> list[_Entry]:
        batch: list[_Entry] = []
        size = self.config.batch_size
        # Events an overflow kept are the oldest; then where the dropped items were, a marker;
        # then the queue.
        while self._front and len(batch) < size:
            batch.append(self._front.popleft())
        if not self._front:
            for key, count in self._dropped.items():
                self._events += 1
                payload = encode_event(PublisherOverflow(count), "", self._events)
                batch.append(_Entry(key, {b"k": EVENT_TAG, b"d": payload}, True))
                self._enqueued += 1
            self._dropped.clear()
        queue = self._queue
        while queue and len(batch) < size:
            entry = queue.popleft()
            if not entry.is_event:
                self._items -= 1
            batch.append(entry)
        return batch

    def _number(self, entries: list[_Entry]) -> list[_Entry]:
        """Give each entry its stream's next number and id.

        The first write of a stream in this instance is preceded by a :class:`PublisherStarted`.
        """
        out: list[_Entry] = []
        now = time.time_ns() // 1_000_000
        for entry in entries:
            if entry.number:
                out.append(entry)  # numbered in an earlier attempt: keeps its identity
                continue
            key = entry.key
            if not self._ids.numbers[key]:
                self._events += 1
                payload = encode_event(PublisherStarted(), "", self._events)
                started = _Entry(key, {b"k": EVENT_TAG, b"d": payload}, True)
                self._enqueued += 1
                self._ids.assign(started, now)
                out.append(started)
            self._ids.assign(entry, now)
            out.append(entry)
        return out

    async def _run(self, client: coredis.Redis[Any]) -> None:
        backoff = Backoff(self.config.backoff_initial, self.config.backoff_max)
        while True:
            if not (self._queue or self._front or self._dropped):
                self._work = trio.Event()
                await self._work.wait()
            batch = self._take()
            await self._send(client, batch, backoff)

    async def _send(self, client: coredis.Redis[Any], batch: list[_Entry], backoff: Backoff) -> None:
        todo = batch
        away = False
        while todo:
            try:
                new = [e.key for e in todo if e.key not in self._ids.known]
                if new:
                    await self._ids.learn(client, new, registry_key(self.prefix))
                todo = self._number(todo)
                todo = await self._write(client, todo)
            except TRANSIENT as exc:
                if not away:
                    log.warning(
                        "publisher %s: Redis unreachable (%s); retrying",
                        self.instance,
                        describe(exc, self._secret),
                    )
                away = True
                self.stats.retries += 1
                await trio.sleep(backoff.next())
                continue
            if away:
                away = False
                self.stats.reconnects += 1
                log.warning("publisher %s: Redis reachable again", self.instance)
            backoff.reset()

    async def _write(self, client: coredis.Redis[Any], todo: list[_Entry]) -> list[_Entry]:
        """XADD every entry in one round trip; the entries to send again (ids moved up)."""
        maxlen = self.config.maxlen
        async with client.pipeline(transaction=False, raise_on_error=False) as pipe:
            for entry in todo:
                pipe.xadd(
                    entry.key,
                    entry.fields,
                    identifier=entry.id,
                    trim_strategy=PureToken.MAXLEN,
                    threshold=maxlen,
                    trim_operator=PureToken.APPROXIMATELY,
                )
        results = pipe.results or ()
        if len(results) != len(todo):
            raise coredis.exceptions.ConnectionError("pipeline replies missing")
        done: list[PublishedEntry] = []
        refused: list[_Entry] = []
        for entry, result in zip(todo, results, strict=True):
            if isinstance(result, BaseException):
                if not (isinstance(result, coredis.exceptions.ResponseError) and _REFUSED_ID in str(result)):
                    raise result
                refused.append(entry)
            else:
                done.append(PublishedEntry(entry.key, entry.id, entry.number))
        again: list[_Entry] = []
        if refused:
            again = await self._settle(client, refused, done)
        self._published(done)
        return again

    async def _settle(
        self, client: coredis.Redis[Any], refused: list[_Entry], done: list[PublishedEntry]
    ) -> list[_Entry]:
        """Sort out refused ids: ours already stored (a reply was lost) count as published.

        The others get ids above the stream's last one and go again.
        """
        async with client.pipeline(transaction=False, raise_on_error=True) as pipe:
            for entry in refused:
                pipe.xrange(entry.key, entry.id, entry.id)
        again: list[_Entry] = []
        for entry, found in zip(refused, pipe.results or (), strict=True):
            fields = found[0].field_values if found else None
            if (
                fields is not None
                and fields.get(b"p") == self._instance
                and fields.get(b"n") == entry.fields[b"n"]
            ):
                self.stats.duplicates += 1
                done.append(PublishedEntry(entry.key, entry.id, entry.number))
            else:
                again.append(entry)
        if again:
            for entry in again:
                log.warning(
                    "publisher %s: id %s of %s taken by another writer", self.instance, entry.id, entry.key
                )
            await self._ids.move_up(client, again)
        return again

    def _published(self, done: list[PublishedEntry]) -> None:
        if not done:
            return
        self.stats.published += len(done)
        self._done += len(done)
        if self._on_published is not None:
            self._on_published(done)
        self._progress.set()
        self._progress = trio.Event()


async def publish_feeds(group: FeedGroup[Any], publisher: Publisher) -> None:
    """Publish everything a feed group (``open_feeds(..., normalized=True)``) yields, until it ends.

    Normalized items go to their streams, session events (and :class:`~trio_feeds.group.FeedFailed`
    as a ``Disconnected`` with the error's type) in band; ``UnknownMessage`` and anything else
    not normalized is skipped.
    """
    async for tagged in group:
        item = tagged.item
        if item_tag(item) is not None:
            publisher.publish(item, feed=tagged.feed)  # type: ignore[arg-type]
        elif type(item) in _SESSION_EVENTS:
            publisher.publish_event(item, feed=tagged.feed)
        elif isinstance(item, FeedFailed):
            publisher.publish_event(
                ev.Disconnected(None, f"feed failed: {type(item.error).__name__}"), feed=tagged.feed
            )


_SESSION_EVENTS = ev.FEED_EVENT_TYPES


@asynccontextmanager
async def open_publisher(
    redis: str | coredis.Redis[Any],
    *,
    prefix: str = "trio-feeds",
    name: str = "publisher",
    config: PublisherConfig | None = None,
    on_published: Callable[[Sequence[PublishedEntry]], None] | None = None,
) -> AsyncIterator[Publisher]:
    """A publisher writing to ``redis`` while the block runs.

    Its writer task runs in a nursery the block owns.

    Args:
        redis: a ``redis://`` (or ``rediss://``, ``unix://``) URL, or a ``coredis.Redis`` client
            made with ``decode_responses=False``. A password in the URL never appears in a repr
            or log line.
        prefix: the first part of every key (:func:`stream_key`).
        name: this publisher's name: its event stream is ``<prefix>:events:<name>``. Give each
            publisher process its own.
        config: batching, queue, overflow and backoff (:class:`PublisherConfig`).
        on_published: called with each batch of entries Redis acknowledged (an audit trail).

    On leaving the block, what is queued is written (for up to ``close_timeout`` seconds) before
    the connection closes. Redis being away never raises: the publisher retries with backoff and
    queues meanwhile (up to ``queue_size`` items).
    """
    config = config or PublisherConfig()
    publisher = Publisher(prefix, name, config, on_published)
    publisher._url = redact_url(redis) if isinstance(redis, str) else repr(redis)
    publisher._secret = url_secret(redis)
    async with connect(redis, config.connect_timeout) as client, trio.open_nursery() as nursery:
        nursery.start_soon(publisher._run, client)
        try:
            yield publisher
            with trio.move_on_after(config.close_timeout):
                await publisher.flush()
        finally:
            publisher.stats.unpublished = publisher.pending
            if publisher.pending:
                log.warning(
                    "publisher %s closed with %d entries unpublished", publisher.instance, publisher.pending
                )
            nursery.cancel_scope.cancel()
