"""Many feeds in one nursery: :func:`open_feeds` merges their items into one async iterator.

::

    async with open_feeds({
        "gateway": gateway.open_feed(gw_url, credentials=creds),
        "crypto": cryptology.open_feed(cr_url),
    }) as group:
        await group["gateway"].subscribe(["trades"], symbols=["BTCUSDT"])
        async for tagged in group:
            print(tagged.feed, tagged.item)          # every item, tagged with its feed

Each feed runs in a task of the group's nursery, which the ``async with`` owns; leaving the
block closes every feed. Items keep their order within a feed; between feeds they are merged
as they arrive. A slow consumer holds the feeds' own buffers up, so each feed's overflow
policy (``FeedConfig.overflow``) applies as it would alone.

When one feed fails (its iteration raises: bad credentials, a fatal close, ``SlowConsumer``),
what happens is an explicit choice, never silent:

* ``on_failure="end"`` (the default): the group ends, and the error comes out of the
  iteration and out of the ``async with``;
* ``on_failure="isolate"``: the group yields :class:`FeedFailed` for that feed, in order with
  the other items, and goes on with the others; :attr:`FeedGroup.health` shows it failed.
  Iteration ends when every feed has ended.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

import attrs
import trio

from . import events as ev
from ._codecs import UnknownMessage
from ._engine import Feed

__all__ = ["FailurePolicy", "FeedFailed", "FeedGroup", "FeedHealth", "Tagged", "open_feeds"]

T_co = TypeVar("T_co", covariant=True)
FeedT = TypeVar("FeedT", bound="Feed[Any]")  # the feeds' common type: ``group[name]`` is one
FailurePolicy = Literal["end", "isolate"]

_CHANNEL_SIZE = 256  # items in flight between the feeds' tasks and the consumer


@attrs.frozen
class Tagged(Generic[T_co]):
    """One item of a group: the name of the feed it came from, and the item."""

    feed: str
    item: T_co


@attrs.frozen
class FeedFailed:
    """A feed of the group ended with an error (``on_failure="isolate"``); the others go on.

    Attributes:
        error: what ended it (``AuthenticationError``, ``FeedClosed``, ...).
    """

    error: BaseException


@attrs.define
class FeedHealth:
    """How one feed of a group is doing, updated as its items go by.

    Attributes:
        connected: a connection is open now.
        messages: messages delivered (session events excluded).
        last_message_at: ``trio.current_time()`` of the last message (``None``: none yet).
        reconnects: reconnect attempts so far.
        gaps: data gaps reported (:class:`~trio_feeds.events.Gap`).
        decode_failures: frames that could not be decoded.
        failed: the error that ended the feed, if one did.
    """

    connected: bool = False
    messages: int = 0
    last_message_at: float | None = None
    reconnects: int = 0
    gaps: int = 0
    decode_failures: int = 0
    failed: BaseException | None = None

    def note(self, item: object) -> None:
        """Update the health for one item of the feed (a message or a session event).

        A group calls this for every item; :class:`trio_feeds.metrics.FeedMetrics` too, for a
        feed outside a group. One type lookup and a counter per item.
        """
        kind = type(item)
        if kind is ev.Connected:
            self.connected = True
        elif kind is ev.Disconnected:
            self.connected = False
        elif kind is ev.Reconnecting:
            self.reconnects += 1
        elif kind is ev.Gap:
            self.gaps += 1
        elif kind is ev.DecodeFailed:
            self.decode_failures += 1
        elif kind not in _EVENTS:
            self.messages += 1
            self.last_message_at = trio.current_time()

    def age(self, now: float | None = None) -> float | None:
        """Seconds since the last message (``now``: default ``trio.current_time()``)."""
        if self.last_message_at is None:
            return None
        return (trio.current_time() if now is None else now) - self.last_message_at


class FeedGroup(Generic[FeedT]):
    """Running feeds, by name: iterate for :class:`Tagged` items; ``group[name]`` is a feed.

    Generic in the feeds' type: a group of gateway feeds gives ``GatewayFeed``s, typed
    ``subscribe`` included; a group of different exchanges gives their common base.
    """

    def __init__(self, names: list[str], on_failure: FailurePolicy, *, normalized: bool = False) -> None:
        self._normalized = normalized
        self._feeds: dict[str, FeedT] = {}
        self._health = {name: FeedHealth() for name in names}
        self._on_failure = on_failure
        self._send, self._receive = trio.open_memory_channel[Tagged[object]](_CHANNEL_SIZE)
        self._ready = trio.Event()

    def __getitem__(self, name: str) -> FeedT:
        return self._feeds[name]

    def __repr__(self) -> str:
        return f"<FeedGroup {sorted(self._health)} on_failure={self._on_failure!r}>"

    @property
    def feeds(self) -> Mapping[str, FeedT]:
        """The open feeds, by name."""
        return dict(self._feeds)

    @property
    def health(self) -> Mapping[str, FeedHealth]:
        """Each feed's health, by name (live objects: they change as items go by)."""
        return self._health

    def __aiter__(self) -> AsyncIterator[Tagged[object]]:
        return self

    async def __anext__(self) -> Tagged[object]:
        """The next item of any feed (waits for one)."""
        try:
            return await self._receive.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None

    async def _run_one(
        self,
        name: str,
        opener: AbstractAsyncContextManager[FeedT],
        send: trio.MemorySendChannel[Tagged[object]],
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Open one feed and pass its items on until it ends; apply the failure policy."""
        health = self._health[name]
        started = False
        async with send:
            try:
                async with opener as feed:
                    self._feeds[name] = feed
                    task_status.started()
                    started = True
                    async for item in feed:
                        health.note(item)
                        if (
                            self._normalized
                            and type(item) not in _EVENTS
                            and type(item) is not UnknownMessage
                        ):
                            # Normalized as it leaves the feed's buffer: the receive time is
                            # now, give or take the group's own backlog.
                            for normal in feed.normalize(item, datetime.now(UTC)):
                                await send.send(Tagged(name, normal))
                        else:
                            await send.send(Tagged(name, item))
            except Exception as exc:
                health.failed = exc
                health.connected = False
                if self._on_failure == "end":
                    raise
                if not started:  # failed while opening: the group starts without it
                    task_status.started()
                await send.send(Tagged(name, FeedFailed(exc)))


_EVENTS = ev.FEED_EVENT_TYPES


@asynccontextmanager
async def open_feeds(
    feeds: Mapping[str, AbstractAsyncContextManager[FeedT]],
    *,
    on_failure: FailurePolicy = "end",
    normalized: bool = False,
) -> AsyncIterator[FeedGroup[FeedT]]:
    """Run several feeds (any exchanges) in one nursery and merge their items.

    Args:
        feeds: the feeds to run, by name: each an ``open_feed(...)`` of a protocol module.
        on_failure: ``"end"`` (default) ends the group when any feed fails, raising its error;
            ``"isolate"`` yields :class:`FeedFailed` for it and goes on with the others.
        normalized: yield each message as its :mod:`trio_feeds.normalized` items (trades,
            tickers, book updates, order/balance/position updates; each keeps its ``source``
            message) instead of the exchange's own types. Control messages give nothing;
            session events and ``UnknownMessage`` come through as they are.

    Every feed is open (its ``async with`` entered) when the block starts, so
    ``group[name].subscribe(...)`` works at once.
    """
    if on_failure not in ("end", "isolate"):
        raise ValueError(f"on_failure must be 'end' or 'isolate', not {on_failure!r}")
    if not feeds:
        raise ValueError("open_feeds needs at least one feed")
    group: FeedGroup[FeedT] = FeedGroup(list(feeds), on_failure, normalized=normalized)
    try:
        async with trio.open_nursery() as nursery:
            async with group._send:
                for name, opener in feeds.items():
                    await nursery.start(group._run_one, name, opener, group._send.clone())
            try:
                yield group
            finally:
                nursery.cancel_scope.cancel()
                await group._receive.aclose()
    except BaseExceptionGroup as exc_group:
        # One feed's error ends the group: raise it as itself, as a single feed's block does.
        errors = [e for e in _leaves(exc_group) if not isinstance(e, trio.Cancelled)]
        if len(errors) == 1:
            raise errors[0] from None
        raise


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for sub in error.exceptions for leaf in _leaves(sub)]
    return [error]
