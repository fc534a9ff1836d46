"""The reader: typed items out of Redis streams, as one consumer of a consumer group.

Each read is one ``MULTI``/``EXEC`` transaction: the acknowledgements of what the application
has finished, then per stream ``XINFO STREAM`` and ``XINFO GROUPS``, then ``XREADGROUP``. Redis
runs it as one step, so what the ``XINFO`` replies say about the group's position is exactly
where the ``XREADGROUP`` starts: when the group's last delivered id is below the stream's first
entry, the entries in between were trimmed unread, and ``entries-added - length -
entries-read`` is how many (Redis counts each exactly while no entry was ``XDEL``-eted).
Only the one consumer whose read crosses the gap sees it, so a gap is reported once per group.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import math
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import coredis
import coredis.exceptions
import trio

from .. import normalized as nz
from ._codec import EVENT_TAG, RAW_TAG, EntryError, decode_event, decode_item
from ._common import TRANSIENT, Backoff, connect, describe, redact_url, registry_key, url_secret
from ._events import BadEntry, EntryRef, RawFrame, StreamEvent, StreamGap

__all__ = ["ReaderConfig", "ReaderItem", "ReaderStats", "StreamReader", "open_stream_reader"]

log = logging.getLogger("trio_feeds.redis_streams")

ReaderItem = nz.Normalized | StreamEvent | StreamGap | RawFrame | BadEntry
"""What a reader yields."""

_ACK_DELAY = 0.05  # seconds acknowledgements wait to go together

_Row = tuple[ReaderItem, str, bytes | None, bytes | None, bytes | None]  # item, stream, id, p, n


@attrs.frozen(kw_only=True)
class ReaderConfig:
    """How a reader reads.

    Attributes:
        count: entries read per stream per round trip at most.
        block: the longest one wait for new entries lasts (seconds) before the reader looks for
            new streams and idle entries to claim again.
        claim_idle: entries another consumer has held unacknowledged this long (seconds) are
            taken over (``XAUTOCLAIM``): that consumer is taken for dead. Keep it well above
            the time your code needs for a batch of ``count`` items.
        claim_interval: how often (seconds) to look for such entries.
        discover_interval: how often (seconds) to look for new streams under ``prefix``.
        start: where the group starts in a stream it did not read before: ``"0"`` everything
            the stream still holds, ``"$"`` only what comes after.
        prefetch: batches read ahead of the application.
        sources: decode each item's exchange message, when the publisher wrote it.
        backoff_initial, backoff_max: reconnect delays (full jitter) while Redis is away.
        connect_timeout: bound on connecting.
    """

    count: int = 500
    block: float = 1.0
    claim_idle: float = 30.0
    claim_interval: float = 5.0
    discover_interval: float = 1.0
    start: str = "0"
    prefetch: int = 2
    sources: bool = True
    backoff_initial: float = 0.1
    backoff_max: float = 5.0
    connect_timeout: float = 5.0


@attrs.define
class ReaderStats:
    """Counts of a reader's work so far.

    Attributes:
        delivered: entries read (items, events and bad entries; claimed ones included).
        claimed: entries taken over from other consumers.
        acknowledged: entries acknowledged (``XACK``).
        gaps: :class:`StreamGap` reported.
        reconnects: times Redis became reachable again after being away.
    """

    delivered: int = 0
    claimed: int = 0
    acknowledged: int = 0
    gaps: int = 0
    reconnects: int = 0


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _raw(key: str, fields: Any) -> RawFrame:
    data: bytes = fields[b"d"]
    try:
        frame: str | bytes = data.decode() if fields[b"x"] == b"t" else data
        nanos = int(fields[b"r"])
    except (UnicodeDecodeError, ValueError) as exc:
        raise EntryError(f"bad raw frame: {exc}") from None
    received = _EPOCH + timedelta(microseconds=nanos // 1000)
    return RawFrame(key, fields[b"f"].decode(), frame, received)


def _id(value: bytes | str) -> tuple[int, int]:
    text = value.decode() if isinstance(value, bytes) else value
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def _item(key: str, entry_id: bytes, fields: Any, sources: bool) -> ReaderItem:
    """The item an entry holds (a :class:`BadEntry` when it is not in the format)."""
    tag = fields.get(b"k")
    try:
        if tag == EVENT_TAG:
            feed, number, event = decode_event(fields[b"d"])
            return StreamEvent(key, (fields.get(b"p") or b"").decode(), feed, number, event)
        if tag == RAW_TAG:
            return _raw(key, fields)
        if tag is None:
            return BadEntry(key, entry_id.decode(), "no k field")
        return decode_item(tag, fields[b"d"], fields.get(b"s") if sources else None)
    except (EntryError, KeyError) as exc:
        return BadEntry(key, entry_id.decode(), str(exc))


def _trimmed(key: str, info: Any, groups: Any, group: bytes) -> StreamGap | None:
    """The gap between the group's position and the stream's first entry, if any.

    See the module's docstring for why the count is exact.
    """
    first = info.get("first-entry")
    if first is None:
        return None
    mine = next((g for g in groups if g.get(b"name") == group), None)
    if mine is None:
        return None
    delivered = mine[b"last-delivered-id"]
    if _id(delivered) >= _id(first.identifier):
        return None
    read = mine.get(b"entries-read")
    trimmed = int(info["entries-added"]) - int(info["length"])
    lost: int | None = (None if trimmed > 0 else 0) if read is None else trimmed - int(read)
    if lost is not None and lost <= 0:
        return None
    return StreamGap(key, lost, delivered.decode() if isinstance(delivered, bytes) else str(delivered))


class StreamReader:
    """Typed items of a consumer group's streams (see :func:`open_stream_reader`).

    Iterate it for normalized items, :class:`StreamEvent`, :class:`StreamGap` and
    :class:`BadEntry`. An item is acknowledged when the application asks for the next one (or
    leaves the block normally): it was handled. An item being handled when the consumer dies
    is not acknowledged, and another consumer gets it again after ``claim_idle``: delivery is
    at least once, and exactly once for every item whose handling finished.
    """

    def __init__(
        self,
        group: str,
        *,
        consumer: str,
        streams: Iterable[str],
        prefix: str | None,
        match: str | None,
        config: ReaderConfig,
    ) -> None:
        self.group = group
        self.consumer = consumer
        self.config = config
        self.stats = ReaderStats()
        self._prefix = prefix
        self._match = match
        self._streams: dict[str, None] = dict.fromkeys(streams)
        self._grouped: set[str] = set()
        self._to_ack: dict[str, list[bytes]] = {}
        self._inflight: set[tuple[str, bytes]] = set()
        # Batches are read only when there is room for them: an entry read ahead is pending for
        # this consumer, and its idle time (what claiming goes by) runs from the read.
        self._send, self._receive = trio.open_memory_channel[list[_Row]](math.inf)
        self._room = trio.Semaphore(config.prefetch)
        self._ack_wanted = trio.Event()
        self._batch: list[_Row] = []
        self._at = 0
        self._last: _Row | None = None
        self._url = ""
        self._secret: str | None = None

    def __repr__(self) -> str:
        return f"<StreamReader group={self.group!r} consumer={self.consumer!r} redis={self._url!r}>"

    @property
    def streams(self) -> tuple[str, ...]:
        """The streams read now."""
        return tuple(self._streams)

    @property
    def last(self) -> EntryRef | None:
        """Where the item yielded last came from (``None`` for a :class:`StreamGap`)."""
        row = self._last
        if row is None or row[2] is None:
            return None
        number = int(row[4]) if row[4] is not None else 0
        publisher = row[3].decode() if row[3] is not None else ""
        return EntryRef(row[1], row[2].decode(), publisher, number)

    def __aiter__(self) -> AsyncIterator[ReaderItem]:
        return self

    async def __anext__(self) -> ReaderItem:
        """The next item (waits for one); the one before it is acknowledged."""
        self._done_with_last()
        if self._at >= len(self._batch):
            try:
                self._batch = await self._receive.receive()
            except (trio.EndOfChannel, trio.ClosedResourceError):
                raise StopAsyncIteration from None
            self._room.release()
            self._at = 0
        row = self._batch[self._at]
        self._at += 1
        self._last = row
        return row[0]

    def _done_with_last(self) -> None:
        row = self._last
        if row is not None and row[2] is not None:
            self._to_ack.setdefault(row[1], []).append(row[2])
            self._ack_wanted.set()
        self._last = None

    # -- the fetching task -------------------------------------------------------------------

    async def _run(self, client: coredis.Redis[Any]) -> None:
        config = self.config
        backoff = Backoff(config.backoff_initial, config.backoff_max)
        away = False
        next_discover = next_claim = trio.current_time()
        while True:
            try:
                now = trio.current_time()
                if self._prefix is not None and now >= next_discover:
                    await self._discover(client)
                    next_discover = now + config.discover_interval
                await self._make_groups(client)
                if not self._streams:
                    await trio.sleep(min(config.block, config.discover_interval))
                    continue
                if now >= next_claim:
                    async with self._room_for_batch() as batch:
                        batch.extend(await self._claim(client))
                    next_claim = now + config.claim_interval
                async with self._room_for_batch() as batch:
                    rows, waiting = await self._read(client)
                    batch.extend(rows)
                if not rows and waiting:
                    # Until any stream has an entry after its last (or the time is up).
                    seconds = min(config.block, max(next_claim - now, 0.01))
                    await client.xread(waiting, count=1, block=max(1, int(seconds * 1000)))
                elif not rows:  # every stream went away (its group is made again next round)
                    await trio.sleep(min(config.block, config.discover_interval))
            except TRANSIENT as exc:
                if not away:
                    log.warning(
                        "reader %s: Redis unreachable (%s); retrying",
                        self.consumer,
                        describe(exc, self._secret),
                    )
                away = True
                await trio.sleep(backoff.next())
                continue
            if away:
                away = False
                self.stats.reconnects += 1
            backoff.reset()

    @contextlib.asynccontextmanager
    async def _room_for_batch(self) -> AsyncIterator[list[_Row]]:
        """Wait for room for one batch, then fill it: a non-empty one goes to the application."""
        await self._room.acquire()
        batch: list[_Row] = []
        try:
            yield batch
        finally:
            if batch:
                self._send.send_nowait(batch)  # the room taken is given back when it is taken out
            else:
                self._room.release()

    async def _ack_soon(self, client: coredis.Redis[Any]) -> None:
        """Acknowledge what the application handled within a moment, whatever the reads do.

        A read waits for room (a slow application) or for new entries: acknowledgements must
        not wait with it, or entries handled long ago look idle to the other consumers.
        """
        backoff = Backoff(self.config.backoff_initial, self.config.backoff_max)
        while True:
            await self._ack_wanted.wait()
            await trio.sleep(_ACK_DELAY)  # gather a few
            self._ack_wanted = trio.Event()
            try:
                await self._flush_acks(client)
            except TRANSIENT:
                self._ack_wanted.set()  # they were put back: again after a pause
                await trio.sleep(backoff.next())
            else:
                backoff.reset()

    async def _discover(self, client: coredis.Redis[Any]) -> None:
        assert self._prefix is not None
        members = await client.smembers(registry_key(self._prefix))
        for raw in sorted(members):
            key = raw.decode() if isinstance(raw, bytes) else str(raw)
            if self._match is None or fnmatch.fnmatchcase(key, self._match):
                self._streams.setdefault(key, None)

    async def _make_groups(self, client: coredis.Redis[Any]) -> None:
        new = [key for key in self._streams if key not in self._grouped]
        if not new:
            return
        for key in new:
            # Made by another consumer (or before a restart): join it.
            with contextlib.suppress(coredis.exceptions.StreamDuplicateConsumerGroupError):
                await client.xgroup_create(key, self.group, identifier=self.config.start, mkstream=True)
            self._grouped.add(key)

    async def _read(self, client: coredis.Redis[Any]) -> tuple[list[_Row], dict[str, bytes]]:
        """One transaction: acks, the group's position in each stream, then the read."""
        keys = list(self._streams)
        acks = self._to_ack
        self._to_ack = {}
        try:
            async with client.pipeline(transaction=True, raise_on_error=False) as pipe:
                for key, ids in acks.items():
                    pipe.xack(key, self.group, ids)
                for key in keys:
                    pipe.xinfo_stream(key)
                    pipe.xinfo_groups(key)
                pipe.xreadgroup(self.group, self.consumer, dict.fromkeys(keys, ">"), count=self.config.count)
        except BaseException:
            for key, ids in acks.items():  # not acknowledged: send them with the next read
                self._to_ack.setdefault(key, []).extend(ids)
            raise
        results = list(pipe.results or ())
        for (key, ids), result in zip(acks.items(), results, strict=False):
            if isinstance(result, BaseException):
                raise result
            self.stats.acknowledged += len(ids)
            self._inflight.difference_update((key, i) for i in ids)
        results = results[len(acks) :]
        rows: list[_Row] = []
        waiting: dict[str, bytes] = {}
        for index, key in enumerate(keys):
            info, groups = results[2 * index], results[2 * index + 1]
            if isinstance(info, BaseException) or isinstance(groups, BaseException):
                self._grouped.discard(key)  # the stream (or the group) went away: make it again
                continue
            gap = _trimmed(key, info, groups, self.group.encode())
            if gap is not None:
                self.stats.gaps += 1
                rows.append((gap, key, None, None, None))
            waiting[key] = info["last-generated-id"]
        read = results[-1]
        if isinstance(read, BaseException):
            if "NOGROUP" in str(read):
                self._grouped.clear()
                return rows, {}
            raise read
        for key, entries in (read or {}).items():
            self._decode(key.decode() if isinstance(key, bytes) else key, entries, rows)
        return rows, waiting

    def _decode(self, key: str, entries: Iterable[Any], rows: list[_Row], claimed: bool = False) -> None:
        sources = self.config.sources
        inflight = self._inflight
        before = len(rows)
        for entry in entries:
            entry_id = entry.identifier
            if claimed and (key, entry_id) in inflight:
                continue  # ours already, waiting in the prefetch
            inflight.add((key, entry_id))
            fields = entry.field_values
            item = _item(key, entry_id, fields, sources)
            rows.append((item, key, entry_id, fields.get(b"p"), fields.get(b"n")))
        self.stats.delivered += len(rows) - before

    async def _claim(self, client: coredis.Redis[Any]) -> list[_Row]:
        rows: list[_Row] = []
        idle = int(self.config.claim_idle * 1000)
        for key in list(self._streams):
            start: bytes | str = "0-0"
            for _ in range(100):  # a bound: the rest waits for the next round
                try:
                    reply = await client.xautoclaim(
                        key, self.group, self.consumer, idle, start, count=self.config.count
                    )
                except coredis.exceptions.ResponseError as exc:
                    if "NOGROUP" in str(exc) or "no such key" in str(exc):
                        self._grouped.discard(key)
                        break
                    raise
                start, entries = reply[0], reply[1]
                before = len(rows)
                self._decode(key, entries, rows, claimed=True)
                self.stats.claimed += len(rows) - before
                deleted = reply[2] if len(reply) > 2 else ()
                if deleted:
                    self.stats.gaps += 1
                    rows.append(
                        (
                            StreamGap(key, len(deleted), deleted[0].decode(), "pending trimmed"),
                            key,
                            None,
                            None,
                            None,
                        )
                    )
                if _id(start) == (0, 0):
                    break
        return rows

    async def _flush_acks(self, client: coredis.Redis[Any]) -> None:
        acks = self._to_ack
        self._to_ack = {}
        if not acks:
            return
        try:
            async with client.pipeline(transaction=False) as pipe:
                for key, ids in acks.items():
                    pipe.xack(key, self.group, ids)
        except BaseException:
            for key, ids in acks.items():  # not known to be acknowledged: again later (XACK is idempotent)
                self._to_ack.setdefault(key, []).extend(ids)
            raise
        for key, ids in acks.items():
            self.stats.acknowledged += len(ids)
            self._inflight.difference_update((key, i) for i in ids)


@asynccontextmanager
async def open_stream_reader(
    redis: str | coredis.Redis[Any],
    *,
    group: str,
    consumer: str,
    streams: Iterable[str] = (),
    prefix: str | None = None,
    match: str | None = None,
    config: ReaderConfig | None = None,
) -> AsyncIterator[StreamReader]:
    """Read streams as ``consumer`` of consumer group ``group``.

    The reading task runs in a nursery the block owns.

    Args:
        redis: a ``redis://`` URL (a password in it is never shown) or a ``coredis.Redis``
            client made with ``decode_responses=False``.
        group: the consumer group (made in each stream when missing, at ``config.start``).
            Consumers of one group share the entries; each group gets every entry.
        consumer: this consumer's name in the group (one per process; a restarted process
            may take its old name back).
        streams: stream keys to read.
        prefix: also read every stream publishers under this prefix wrote (found again every
            ``discover_interval``).
        match: only the discovered streams matching this glob (``"trio-feeds:*:trade:*"``).
        config: batch size, claiming, backoff (:class:`ReaderConfig`).

    Redis being away never raises: the reader waits and reconnects with backoff.
    """
    config = config or ReaderConfig()
    reader = StreamReader(
        group, consumer=consumer, streams=streams, prefix=prefix, match=match, config=config
    )
    reader._url = redact_url(redis) if isinstance(redis, str) else repr(redis)
    reader._secret = url_secret(redis)
    async with connect(redis, config.connect_timeout) as client:
        ok = False
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(reader._run, client)
                nursery.start_soon(reader._ack_soon, client)
                try:
                    yield reader
                    ok = True
                finally:
                    nursery.cancel_scope.cancel()
        finally:
            if ok:
                reader._done_with_last()  # left normally: the last item was handled
            with trio.move_on_after(config.connect_timeout) as scope:
                scope.shield = True
                try:
                    await reader._flush_acks(client)
                except TRANSIENT as exc:
                    log.warning(
                        "reader %s: acknowledgements not sent (%s)", consumer, describe(exc, reader._secret)
                    )
