"""Order books that never go stale silently: :class:`OrderBook` and the :class:`Books` a feed keeps.

Pure data structures (no trio, no I/O): a feed keeps them from its messages (``feed.books``),
and they work the same over decoded messages from anywhere else (a recording, a test).

Truth in ``synced``: a book is synced only from a snapshot on. From a disconnect, a data gap,
a sequence jump or a crossed book (best bid >= best ask) until the next snapshot is applied, it
is not, and :class:`~trio_feeds.events.BookOutOfSync` / :class:`~trio_feeds.events.BookSynced`
say so in-band, in order with the messages. Prices and amounts are :class:`~decimal.Decimal`.

Levels are kept in a dict (price -> amount) and a sorted list of prices, so an increment costs
a dict update and, for a new or removed level, one binary search and a list insert/delete.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Generic, Literal, TypeVar, overload

from .events import BookOutOfSync, BookSynced

__all__ = ["BookEvent", "Books", "Level", "Levels", "OrderBook", "Side"]

Level = tuple[Decimal, Decimal]
"""One price level: ``(price, amount)``."""

Side = Literal["bid", "ask"]
BookEvent = BookOutOfSync | BookSynced

K = TypeVar("K", bound=Hashable)


class _Levels:
    """One side: amounts by price, and the prices sorted ascending."""

    __slots__ = ("amounts", "descending", "prices")

    def __init__(self, *, descending: bool) -> None:
        self.amounts: dict[Decimal, Decimal] = {}
        self.prices: list[Decimal] = []
        self.descending = descending  # bids: the best is the highest price

    def set(self, price: Decimal, amount: Decimal) -> None:
        amounts = self.amounts
        if amount:
            if price not in amounts:
                insort(self.prices, price)
            amounts[price] = amount
        elif price in amounts:
            del amounts[price]
            prices = self.prices
            del prices[bisect_left(prices, price)]

    def replace(self, levels: Iterable[Level]) -> None:
        self.amounts = {price: amount for price, amount in levels if amount}
        self.prices = sorted(self.amounts)

    def best(self) -> Level | None:
        prices = self.prices
        if not prices:
            return None
        price = prices[-1] if self.descending else prices[0]
        return price, self.amounts[price]

    def at(self, index: int) -> Level:
        prices = self.prices
        price = prices[-1 - index] if self.descending else prices[index]
        return price, self.amounts[price]


class Levels(Sequence[Level]):
    """One side of a book, best level first: a live, read-only view (no copy)."""

    __slots__ = ("_levels",)

    def __init__(self, levels: _Levels) -> None:
        self._levels = levels

    def __len__(self) -> int:
        return len(self._levels.prices)

    @overload
    def __getitem__(self, index: int) -> Level: ...
    @overload
    def __getitem__(self, index: slice) -> list[Level]: ...

    def __getitem__(self, index: int | slice) -> Level | list[Level]:
        if isinstance(index, slice):
            return [self._levels.at(i) for i in range(*index.indices(len(self)))]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("level index out of range")
        return self._levels.at(index)

    def __iter__(self) -> Iterator[Level]:
        levels = self._levels
        amounts = levels.amounts
        prices = reversed(levels.prices) if levels.descending else iter(levels.prices)
        return ((price, amounts[price]) for price in prices)

    def __repr__(self) -> str:
        shown = ", ".join(f"({p}, {a})" for p, a in self[:3])
        more = f", ... {len(self) - 3} more" if len(self) > 3 else ""
        return f"Levels([{shown}{more}])"


class OrderBook(Generic[K]):
    """One market's book.

    Attributes:
        key: the market, in the protocol's own terms (``"btcusd"``, ``"BTC_USD"``,
            ``("binance", "BTCUSDT")``).
        sequence: the sequence number of the last applied message, where the protocol has one.
        updated_at: the exchange's time of the last applied message (aware UTC), when it says.
        synced: the book equals the exchange's, as far as the feed can know; see the module
            docstring for when it is not.
        unsynced_reason: why the book is not synced (``None`` when it is).
    """

    __slots__ = ("_asks", "_bids", "key", "sequence", "synced", "unsynced_reason", "updated_at")

    def __init__(self, key: K) -> None:
        self.key = key
        self._bids = _Levels(descending=True)
        self._asks = _Levels(descending=False)
        self.sequence: int | None = None
        self.updated_at: datetime | None = None
        self.synced = False
        self.unsynced_reason: str | None = "no snapshot yet"

    def __repr__(self) -> str:
        state = "synced" if self.synced else f"NOT synced ({self.unsynced_reason})"
        return (
            f"<OrderBook {self.key!r} {state} bid={self.best_bid} ask={self.best_ask} "
            f"levels={len(self._bids.prices)}/{len(self._asks.prices)} sequence={self.sequence}>"
        )

    @property
    def bids(self) -> Levels:
        """Bid levels ``(price, amount)``, best (highest) first."""
        return Levels(self._bids)

    @property
    def asks(self) -> Levels:
        """Ask levels ``(price, amount)``, best (lowest) first."""
        return Levels(self._asks)

    @property
    def best_bid(self) -> Level | None:
        """The highest bid, or ``None`` when there is none."""
        return self._bids.best()

    @property
    def best_ask(self) -> Level | None:
        """The lowest ask, or ``None`` when there is none."""
        return self._asks.best()

    @property
    def spread(self) -> Decimal | None:
        """Best ask minus best bid, or ``None`` when a side is empty."""
        bid, ask = self._bids.best(), self._asks.best()
        return None if bid is None or ask is None else ask[0] - bid[0]

    @property
    def crossed(self) -> bool:
        """Best bid >= best ask: impossible on a live exchange, so the book is wrong."""
        bid, ask = self._bids.best(), self._asks.best()
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def depth(self, n: int) -> tuple[list[Level], list[Level]]:
        """The best ``n`` levels of each side: ``(bids, asks)``."""
        return self.bids[:n], self.asks[:n]

    # -- changes (the builders call these; Books wraps them with the sync bookkeeping) ----------

    def replace(
        self,
        bids: Iterable[Level],
        asks: Iterable[Level],
        *,
        sequence: int | None = None,
        updated_at: datetime | None = None,
    ) -> None:
        """Replace both sides with a snapshot (zero amounts are left out)."""
        self._bids.replace(bids)
        self._asks.replace(asks)
        self.sequence = sequence
        if updated_at is not None:
            self.updated_at = updated_at

    def update(
        self,
        side: Side,
        price: Decimal,
        amount: Decimal,
        *,
        sequence: int | None = None,
        updated_at: datetime | None = None,
    ) -> None:
        """Set one level (``amount`` 0 removes it).

        Raises:
            ValueError: ``side`` is neither ``"bid"`` nor ``"ask"`` (a trade side such as
                ``normalized.Side.BUY`` would otherwise land on the ask side unnoticed).
        """
        if side == "bid":
            self._bids.set(price, amount)
        elif side == "ask":
            self._asks.set(price, amount)
        else:
            raise ValueError(f"side must be 'bid' or 'ask', not {side!r}")
        if sequence is not None:
            self.sequence = sequence
        if updated_at is not None:
            self.updated_at = updated_at


class Books(Mapping[K, OrderBook[K]]):
    """The books of one feed, by market key, with the in-band sync bookkeeping.

    Every method that changes a book returns the events to hand to the consumer right after
    the message that caused them (an empty list when the sync state did not change).
    :meth:`take_resyncs` gives the markets whose book needs a fresh snapshot the feed must ask
    for (a sequence jump or a crossed book: nothing else would bring one).
    """

    def __init__(self) -> None:
        self._books: dict[K, OrderBook[K]] = {}
        self._resync: dict[K, None] = {}  # ordered set

    def __getitem__(self, key: K) -> OrderBook[K]:
        return self._books[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._books)

    def __len__(self) -> int:
        return len(self._books)

    def __repr__(self) -> str:
        return f"Books({list(self._books.values())!r})"

    def book(self, key: K) -> OrderBook[K]:
        """The book of ``key``, created (empty, not synced) if new."""
        book = self._books.get(key)
        if book is None:
            book = self._books[key] = OrderBook(key)
        return book

    def snapshot(
        self,
        key: K,
        bids: Iterable[Level],
        asks: Iterable[Level],
        *,
        sequence: int | None = None,
        updated_at: datetime | None = None,
    ) -> list[BookEvent]:
        """Apply a whole book; it is synced from here on unless it is crossed."""
        book = self.book(key)
        book.replace(bids, asks, sequence=sequence, updated_at=updated_at)
        self._resync.pop(key, None)
        if book.crossed:
            return self._unsync(book, _crossed(book), resync=False)
        if book.synced:
            return []
        book.synced = True
        book.unsynced_reason = None
        return [BookSynced(key)]

    def increment(
        self,
        key: K,
        side: Side,
        price: Decimal,
        amount: Decimal,
        *,
        sequence: int | None = None,
        updated_at: datetime | None = None,
    ) -> list[BookEvent]:
        """Apply one level change; ``sequence`` (if the protocol has one) must follow the last.

        An increment with a sequence at or below the book's is a repeat and is ignored. One
        that skips numbers (or arrives before any snapshot) leaves the book out of sync and
        asks for a resync (:meth:`take_resyncs`); the increment itself is dropped, since the
        book it would apply to is already wrong.
        """
        book = self.book(key)
        if sequence is not None:
            last = book.sequence
            if last is not None and sequence <= last:
                return []  # already applied (a repeat after a resubscription)
            if last is None or sequence != last + 1:
                if not book.synced:
                    return []  # waiting for the snapshot of a resync: nothing to apply to
                return self._unsync(book, f"sequence jump: {last} -> {sequence}", resync=True)
        elif not book.synced:
            return []
        book.update(side, price, amount, sequence=sequence, updated_at=updated_at)
        if book.crossed:
            return self._unsync(book, _crossed(book), resync=True)
        return []

    def unsync(self, key: K, reason: str, *, resync: bool = True) -> list[BookEvent]:
        """Mark the book of ``key`` out of sync for a reason the protocol found itself.

        E.g. a sequence that went back (the exchange's engine restarted): a repeat for
        :meth:`increment`, but the protocol knows better. With ``resync``, ``key`` is among
        :meth:`take_resyncs` afterwards.
        """
        return self._unsync(self.book(key), reason, resync=resync)

    def unsync_all(self, reason: str) -> list[BookEvent]:
        """Mark every book out of sync (the connection dropped, data may be missing)."""
        events: list[BookEvent] = []
        for book in self._books.values():
            events += self._unsync(book, reason, resync=False)
        return events

    def take_resyncs(self) -> list[K]:
        """The markets that need a fresh snapshot requested, once each (then forgotten)."""
        keys = list(self._resync)
        self._resync.clear()
        return keys

    def _unsync(self, book: OrderBook[K], reason: str, *, resync: bool) -> list[BookEvent]:
        if resync:
            self._resync[book.key] = None
        if not book.synced:
            book.unsynced_reason = reason
            return []
        book.synced = False
        book.unsynced_reason = reason
        book.sequence = None  # only the next snapshot says where the sequence stands
        return [BookOutOfSync(book.key, reason)]


def _crossed(book: OrderBook[K]) -> str:
    bid, ask = book.best_bid, book.best_ask
    assert bid is not None
    assert ask is not None
    return f"crossed book: best bid {bid[0]} >= best ask {ask[0]}"
