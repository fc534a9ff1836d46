"""The one bounded buffer between a feed's reader and its consumer."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import trio

from .. import events as ev
from ..errors import SlowConsumer

__all__ = ["Buffer", "FeedStats"]


@attrs.define
class FeedStats:
    """Counters of one feed, updated as it runs.

    Attributes:
        frames: frames received, all connections together.
        messages: items handed to the buffer (decoded messages and ``UnknownMessage``).
        reconnects: reconnect attempts started (one per ``Reconnecting`` event).
        decode_errors: frames that could not be decoded, oversized ones included.
        dropped: messages dropped by ``overflow="drop_oldest"``.
        gaps: data gaps reported (one per :class:`~trio_feeds.events.Gap` event).
    """

    frames: int = 0
    messages: int = 0
    reconnects: int = 0
    decode_errors: int = 0
    dropped: int = 0
    gaps: int = 0


# Session events are never dropped and do not count against buffer_size. (Overflow is made
# up at delivery time; DecodeFailed stands in for a message and is dropped like one.)
_EVENT_TYPES: frozenset[type] = frozenset(
    {
        ev.Connected,
        ev.Authenticated,
        ev.Subscribed,
        ev.Disconnected,
        ev.Reconnecting,
        ev.Resubscribed,
        ev.Gap,
        ev.BookOutOfSync,
        ev.BookSynced,
    }
)


# get() hands out items without a scheduler round for at most this long (seconds, wall time).
_YIELD_INTERVAL = 0.001
_perf_counter = time.perf_counter


class Buffer:
    """The one bounded buffer between the reader and the consumer. ``put`` never blocks."""

    __slots__ = (
        "_closed",
        "_data",
        "_dropped",
        "_error",
        "_fail",
        "_items",
        "_last_yield",
        "_on_event",
        "_size",
        "_stats",
        "_waiting",
    )

    def __init__(
        self, size: int, *, fail: bool, stats: FeedStats, on_event: Callable[[Any], None] | None = None
    ) -> None:
        # None while the consumer waits on an empty buffer: a deque takes about 0.7 KiB even
        # empty, and an idle feed need not hold one (put makes it again).
        self._items: deque[Any] | None = None
        self._on_event = on_event  # sees every session event put (a recorder's or a replay's tap)
        self._data = 0  # messages in _items (events excluded)
        self._size = size
        self._fail = fail
        self._stats = stats
        self._dropped = 0  # dropped since the last Overflow was handed out
        # Consumer tasks parked in get() (usually one), woken by put/put_event/close. Parked
        # with Trio's low-level primitives rather than a trio.Event made per wait: with many
        # feeds a message often arrives alone, and each one then costs a wake-up.
        self._waiting: list[trio.lowlevel.Task] = []
        self._closed = False
        self._error: BaseException | None = None
        self._last_yield = 0.0  # perf_counter() when get() last let other tasks run

    def __len__(self) -> int:
        items = self._items
        return 0 if items is None else len(items)

    def _queue(self) -> deque[Any]:
        items = self._items
        if items is None:
            items = self._items = deque()
        return items

    def put(self, item: Any) -> None:
        """Add a message; apply the overflow policy when ``buffer_size`` messages wait."""
        if self._closed:
            return  # the feed ended; nobody reads any more
        if self._data >= self._size:
            if self._fail:
                raise SlowConsumer(f"the consumer fell {self._size} messages behind (overflow='fail')")
            self._drop_oldest()
        self._queue().append(item)
        self._data += 1
        if self._waiting:
            self._wake()

    def put_event(self, event: Any) -> None:
        """Add a session event: never dropped, not counted against the bound."""
        if self._closed:
            return
        if self._on_event is not None:
            self._on_event(event)
        self._queue().append(event)
        if self._waiting:
            self._wake()

    def _wake(self) -> None:
        waiting = self._waiting
        self._waiting = []
        for task in waiting:
            trio.lowlevel.reschedule(task)

    def _drop_oldest(self) -> None:
        items = self._queue()  # holds buffer_size messages (> 0) here
        if type(items[0]) not in _EVENT_TYPES:
            items.popleft()
        else:  # skip the (few) events at the head: they are never dropped
            for i, item in enumerate(items):
                if type(item) not in _EVENT_TYPES:
                    del items[i]
                    break
        self._data -= 1
        self._dropped += 1
        self._stats.dropped += 1

    def close(self, error: BaseException | None, *, discard: bool) -> None:
        """Stop accepting items.

        Waiting items are still handed out unless ``discard``; then ``error`` is raised (or
        iteration stops when it is ``None``).
        """
        if self._closed:
            return
        self._closed = True
        self._error = error
        if discard:
            self._items = None
            self._data = 0
            self._dropped = 0
        if self._waiting:
            self._wake()

    async def get(self) -> Any:
        await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            items = self._items
            if items:
                item = items[0]
                is_message = type(item) not in _EVENT_TYPES
                if is_message and self._dropped:
                    # Overflow goes right before the next message, carrying the count so far.
                    out: Any = ev.Overflow(self._dropped)
                    self._dropped = 0
                else:
                    items.popleft()
                    out = item
                    if is_message:
                        self._data -= 1
                # Let the reader, the clock and the writer run while a backlog waits, so heartbeats
                # are answered meanwhile: at least every _YIELD_INTERVAL, not after every item.
                # A scheduler round per item (~15 us) would cap a fast transport, whose reader
                # parses a whole socket read (hundreds of frames) per turn, far below its speed.
                now = _perf_counter()
                if now - self._last_yield >= _YIELD_INTERVAL:
                    await trio.lowlevel.cancel_shielded_checkpoint()
                    self._last_yield = _perf_counter()
                return out
            if self._closed:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            # Empty: not kept while we wait (see __init__), by the buffer nor by this frame's
            # local, which would hold it for as long as the consumer waits (1 KiB per feed).
            self._items = items = None
            await self._park()
            self._last_yield = _perf_counter()

    def _park(self) -> Awaitable[object]:
        """Wait until an item is put or the buffer is closed (or the caller is cancelled).

        Returns Trio's wait rather than awaiting it: no frame of its own while the consumer
        waits, which with thousands of feeds is most of the time.
        """
        task = trio.lowlevel.current_task()
        self._waiting.append(task)

        def abort(_: object) -> trio.lowlevel.Abort:
            # Cancelled while parked: not woken by put any more. (A wake that already came
            # took the task off the list; then Trio does not call this.)
            if task in self._waiting:
                self._waiting.remove(task)
            return trio.lowlevel.Abort.SUCCEEDED

        return trio.lowlevel.wait_task_rescheduled(abort)  # noqa: ASYNC105 - get() awaits it
