"""The fault matrix with order books: a feed's books never say ``synced`` while they are wrong.

For every exchange with order books (``Exchange.matrix_subscribe_books``, from the registry) and
every fault kind of :mod:`trio_feeds.testing.faults` that applies to it, a real feed keeps books
from its real local server while the server streams and the fault strikes. After **every** item
the feed yields, each book the feed says is ``synced`` must equal the server's true book exactly,
and after the fault the books must be synced (and equal) again, unless the fault ended the feed.

The exact comparison: the server's book changes while frames are on their way, so "the server's
book" means its true book as of the last book frame this client processed. The server records,
for every book frame it sends, the true book at that moment (``FeedServer.book_as_of``), and a
tap on the feed (the engine's one hook, :class:`trio_feeds._engine.Tap`) sees each frame as the
engine takes it: the engine processes a frame without a checkpoint in between, so whenever the
consumer looks, ``feed.books`` and the tap's "last book frame per market" describe the same
moment. No timing is involved; waits are bounded only so a bug fails instead of hanging.
"""

from __future__ import annotations

import random
from collections.abc import Hashable
from typing import Any

import pytest
import trio

from trio_feeds import FeedError, exchanges
from trio_feeds import events as ev
from trio_feeds._engine import Tap
from trio_feeds._transports import Connection, Transport
from trio_feeds._transports._base import ConnectTarget
from trio_feeds.config import FeedConfig
from trio_feeds.exchanges import Exchange, ExchangeCredentials
from trio_feeds.testing import BookState, FeedServer
from trio_feeds.testing.faults import Fault, parse_fault

WAIT = 5.0  # bound on anything that must happen "soon"
RATE = 400.0  # generated frames per second per connection while the cell runs
AFTER = 6  # book frames the client must process after the fault (on a new connection if it dropped)

# The argument of each fault kind in the cells (None: the kind's default).
KIND_ARGS: dict[str, str | None] = {
    "close": "1011:going away",
    "abort": None,
    "blackhole": "0.3",
    "stop-heartbeats": "0.2",
    "raw": "not json at all",
    "rate-limit": None,
    "refuse": "503",
    "reject-auth": None,
    "skip-sequence": "2",
}
# Kinds that act on the next connection: the cell closes the current one so they bite.
NEXT_CONNECTION = frozenset({"refuse", "reject-auth"})

CREDENTIALS = {"api_key": "key-1", "api_secret": "book-secret", "token": "book-jwt"}


def book_exchanges() -> list[Exchange]:
    """Every registered exchange whose protocol keeps books (it subscribes the matrix to some)."""
    found = []
    for exchange in exchanges.all_exchanges():
        if type(exchange).matrix_subscribe_books is not Exchange.matrix_subscribe_books:
            found.append(exchange)
    return found


def cells() -> list[Any]:
    out = []
    for exchange in book_exchanges():
        for kind, arg in KIND_ARGS.items():
            spec = f"{kind}{'' if arg is None else ':' + arg}@0s"
            try:
                fault = parse_fault(spec, has_auth=exchange.has_auth, has_sequences=exchange.has_sequences)
            except ValueError:
                continue  # the kind does not apply (no auth, no sequenced books)
            out.append(pytest.param(exchange, fault, id=f"{exchange.name}-{kind}"))
    return out


def make_config() -> FeedConfig:
    """Everything in tens of milliseconds."""
    return FeedConfig(
        ping_interval=0.05,
        ping_timeout=0.15,
        connect_timeout=2.0,
        close_timeout=0.2,
        backoff_initial=0.01,
        backoff_max=0.05,
        rate_limit_backoff=0.05,
        request_timeout=1.0,
        poll_interval=0.02,
        rng=random.Random(7),
    )


# -- the tap: what the engine processed -----------------------------------------------------------


class BookWatch(Tap):
    """Sees every frame the feed's engine receives, and keeps the server's book as of the last one.

    ``truth[key]`` is the server's true book when it sent the last book frame of market ``key``
    that the engine took; ``after_mark`` counts book frames taken since :meth:`mark`.
    """

    def __init__(self, server: FeedServer) -> None:
        self.server = server
        self.truth: dict[Hashable, BookState] = {}
        self.book_frames = 0
        self._mark = 0

    def transport(self, transport: Transport) -> Transport:
        return _WatchedTransport(transport, self)

    def saw(self, frame: str | bytes) -> None:
        found = self.server.book_as_of(frame)
        if found is not None:
            key, state = found
            self.truth[key] = state
            self.book_frames += 1

    def mark(self) -> None:
        self._mark = self.book_frames

    @property
    def after_mark(self) -> int:
        return self.book_frames - self._mark


class _WatchedTransport:
    def __init__(self, inner: Transport, watch: BookWatch) -> None:
        self._inner = inner
        self._watch = watch

    async def connect(
        self, nursery: trio.Nursery, target: ConnectTarget, *, connect_timeout: float, max_message_size: int
    ) -> Connection:
        conn = await self._inner.connect(
            nursery, target, connect_timeout=connect_timeout, max_message_size=max_message_size
        )
        return _WatchedConnection(conn, self._watch)


class _WatchedConnection:
    def __init__(self, inner: Connection, watch: BookWatch) -> None:
        self._inner = inner
        self._watch = watch

    async def receive(self) -> str | bytes:
        frame = await self._inner.receive()
        # No checkpoint between here and the engine applying the frame to its books.
        self._watch.saw(frame)
        return frame

    async def send(self, frame: str | bytes) -> None:
        await self._inner.send(frame)

    async def ping(self, pong_timeout: float) -> bool:
        return await self._inner.ping(pong_timeout)

    async def aclose(self, code: int = 1000, reason: str = "", *, grace: float) -> None:
        await self._inner.aclose(code, reason, grace=grace)


# -- the consumer, checking after every item ------------------------------------------------------


class Consumer:
    """Reads the feed; after every item, every synced book equals the server's as of that moment."""

    def __init__(self, feed: Any, watch: BookWatch) -> None:
        self.feed = feed
        self.watch = watch
        self.items: list[Any] = []
        self.checked = 0  # synced books compared, in all
        self.error: BaseException | None = None
        self.finished = False
        self._changed = trio.Event()

    async def run(self) -> None:
        try:
            async for item in self.feed:
                self.items.append(item)
                self.check()
                self._changed.set()
                self._changed = trio.Event()
        except FeedError as exc:
            self.error = exc
        finally:
            self.finished = True
            self._changed.set()

    def check(self) -> None:
        for key, book in self.feed.books.items():
            if not book.synced:
                continue
            truth = self.watch.truth.get(key)
            assert truth is not None, f"{key!r} synced, but the client processed no book frame of it"
            here = (list(book.bids), list(book.asks))
            assert here == (truth.bids, truth.asks), (
                f"{key!r} says synced but differs from the server's book after item "
                f"{len(self.items)} ({type(self.items[-1]).__name__}): {book!r} vs {truth!r}"
            )
            self.checked += 1

    async def wait_for(self, predicate: Any) -> None:
        with trio.fail_after(WAIT):
            while not predicate():
                await self._changed.wait()

    def since(self, start: int, kind: type) -> list[Any]:
        return [i for i in self.items[start:] if isinstance(i, kind)]


def all_synced(feed: Any, keys: tuple[Hashable, ...]) -> bool:
    return all(k in feed.books and feed.books[k].synced for k in keys)


@pytest.mark.parametrize(("exchange", "fault"), cells())
async def test_books_stay_true_through_every_fault(exchange: Exchange, fault: Fault) -> None:
    profile = exchange.fault_profile
    creds = ExchangeCredentials(**{n: v for n, v in CREDENTIALS.items() if n in exchange.uses})
    server_options = {**profile.server_options, "rate": RATE}
    async with exchange.open_server(credentials=creds, **server_options) as server:
        watch = BookWatch(server)
        feed_cm = exchange.open_feed(
            server.url, creds, config=make_config(), recorder=watch, **profile.feed_options
        )
        ended: FeedError | None = None
        async with trio.open_nursery() as nursery:
            try:
                async with feed_cm as feed:
                    consumer = Consumer(feed, watch)
                    nursery.start_soon(consumer.run)
                    await run_cell(
                        exchange, fault, server, feed, watch=watch, consumer=consumer, nursery=nursery
                    )
            except FeedError as exc:
                ended = exc
        if ended is not None:
            # A fault the feed does not survive (a refused token, a fatal close): it ended
            # with that error, and no book it leaves behind claims to be synced.
            assert consumer.error is ended
            assert not any(book.synced for book in feed.books.values())


async def run_cell(
    exchange: Exchange,
    fault: Fault,
    server: FeedServer,
    feed: Any,
    *,
    watch: BookWatch,
    consumer: Consumer,
    nursery: trio.Nursery,
) -> None:
    with trio.fail_after(WAIT):
        keys = await exchange.matrix_subscribe_books(feed)
    assert keys
    await consumer.wait_for(lambda: all_synced(feed, keys) and watch.book_frames >= AFTER)

    start = len(consumer.items)
    await fault.apply(server, nursery)
    if fault.kind in NEXT_CONNECTION:
        await server.close(1012, "service restart")
    watch.mark()
    disconnects = fault.kind in ("close", "abort", "blackhole", "rate-limit", *NEXT_CONNECTION)

    def healed() -> bool:
        if consumer.finished:
            return True
        if disconnects and not consumer.since(start, ev.Resubscribed):
            return False
        if fault.kind == "skip-sequence" and not consumer.since(start, ev.BookSynced):
            return False
        return all_synced(feed, keys) and watch.after_mark >= AFTER

    await consumer.wait_for(healed)
    assert consumer.checked > 0
    if consumer.finished:
        return  # the feed ended: the caller checks how
    if fault.kind == "skip-sequence":
        # The jump was seen and repaired in band, on the same connection.
        assert consumer.since(start, ev.BookOutOfSync)
        assert not consumer.since(start, ev.Disconnected)
    if disconnects:
        assert consumer.since(start, ev.BookOutOfSync), "a disconnect left a book synced"
    consumer.check()
    for key in keys:
        truth = watch.truth[key]
        book = feed.books[key]
        assert (list(book.bids), list(book.asks)) == (truth.bids, truth.asks)
    await feed.aclose()
