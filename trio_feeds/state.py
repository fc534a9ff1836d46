"""Tracked state of your account: open orders, balances, positions, each saying when it may be stale.

Pure data structures (no trio, no I/O), built on the normalized updates of
:mod:`trio_feeds.normalized`, so the same code keeps the state of any exchange: feed them
:class:`~trio_feeds.normalized.OrderUpdate`, :class:`~trio_feeds.normalized.BalanceUpdate` and
:class:`~trio_feeds.normalized.PositionUpdate` items (:class:`Account` routes a stream of any
normalized items to the three), from a live feed or from a recording.

- :class:`Orders`: open orders by ``(venue, order_id)``. Updates are merged (a field a message
  does not carry keeps its earlier value; ``filled``/``remaining`` are kept consistent with
  ``amount``). An order whose status is final (filled, cancelled, rejected, expired) leaves the
  open set for :attr:`Orders.closed`, a bounded history of recently closed orders; a late
  message about a closed order never reopens it.
- :class:`Balances`: by ``(venue, currency)``: the balance, and what is available / on hold
  where the exchange says.
- :class:`Positions`: by ``(venue, symbol, side)``; a position whose amount is zero is closed
  and removed.

Never stale silently
--------------------
Every container has :attr:`~Tracked.stale`: ``None`` when it is known complete, else a
:class:`Stale` interval ``(since, until)`` in which updates may have been missed. Times are the
engine's clock (``trio.current_time()``, float seconds), the clock of
:class:`~trio_feeds.events.Gap`, so a feed passes its events straight in: ``gap(since, until)``
on a Gap, ``disconnected(at)`` when the connection drops (``until`` is ``None`` until the gap
closes). ``since`` is ``None`` for "from the start": a new container has seen nothing that
happened before it was made (orders placed earlier, balances never changed since), so it starts
stale, ``Stale(None, None, "no full state yet")``, unless made with ``complete=True``.

A gap also marks every entry held at that moment as possibly outdated (:attr:`~Tracked.stale_keys`);
an update for an entry confirms it again (each update these exchanges send carries the entry's
whole state: an order's remaining amount, a currency's balance, a position's size). Only a full
state clears ``stale``: :meth:`~Orders.replace` with the complete set, e.g. from the exchange's
REST API (none of the four WebSocket protocols sends the full set of orders, balances or
positions; the Onyx ``dashboards`` snapshot is the one full state they have). Pass
``taken_at`` (when you asked for it, aware UTC) and updates the stream brought after that
moment win over the snapshot's older view: a REST snapshot racing the stream cannot roll an
entry back.

State and recovery
------------------
What a client can and cannot recover after a gap (a reconnect, a dropped message), per protocol:

- **Cryptology.** Books: each ``OrderBookAgg`` is the whole aggregated book, so the first one
  after the gap heals the book. Orders: the stream sends lifecycle events only (placed, amount
  changed, cancelled, closed), no open-order list. An order that changes again after the gap is
  corrected (``...AmountChanged`` carries what is left; ``Cancelled``/``Closed`` end it); an
  order that ended during the gap stays open here (in ``stale_keys``) until you ``replace`` the
  open orders from REST; an order placed during the gap appears at its next change, without
  its price or original amount. Balances: ``SetBalance`` states one currency's whole balance,
  so it confirms that currency only; a currency that changed during the gap and not since stays
  outdated, and the set stays ``stale``. Public trades of the gap are lost. (The exchange's own
  client replayed missed account messages from a ``last_seen_message_id``; that handshake is
  not in the protocol documents, so trio-feeds cannot.)
- **Trading gateway.** Books: each ``orderbook`` message is the whole book at the subscribed
  depth: the next one heals it. Orders and positions: each ``orders``/``positions`` message is
  one order's or position's whole state, so one that changes again is corrected; one that
  ended or closed during the gap stays until ``replace``. The gateway sends no full set and no
  balances. Trades and tickers of the gap are lost (the next ticker is whole).
- **Peatio Ranger.** Books: a new ``<market>.ob-inc`` subscriber gets the stored snapshot, then
  the increments: resubscribing heals the book (``sequence`` numbers, where sent, reveal a
  jump); ``<market>.update`` is a whole book each time. Orders: each ``order`` frame is the
  order's whole state: as the gateway. Fills (``trade`` frames) of the gap are lost, but the
  order's ``executed_volume`` says how much traded. Ranger streams no balances.
- **Onyx.** Tickers: each is the whole top of book of its symbol: the next one is whole. The
  ``dashboards`` channel sends the full list after every (re)subscription: a full recovery.
  Onyx streams no orders, balances or positions.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

from .normalized import BalanceUpdate, Normalized, OrderStatus, OrderUpdate, PositionSide, PositionUpdate

__all__ = [
    "Account",
    "BalanceKey",
    "Balances",
    "OrderKey",
    "Orders",
    "PositionKey",
    "Positions",
    "Stale",
    "Tracked",
    "merge_order",
]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

OrderKey = tuple[str, str]
"""``(venue, order_id)``: ``("cryptology", "42")``, ``("binance", "123456789")``."""

BalanceKey = tuple[str, str]
"""``(venue, currency)``: ``("cryptology", "USD")``."""

PositionKey = tuple[str, str, PositionSide]
"""``(venue, symbol, side)``: ``("binance", "BTC-USDT", PositionSide.LONG)``."""

_ZERO = Decimal(0)


@attrs.frozen
class Stale:
    """Updates in this interval may have been missed (engine clock, float seconds).

    Attributes:
        since: when the interval began; ``None``: from the start (before the container saw
            anything).
        until: when it ended (the gap closed: the stream is live again from here); ``None``:
            it has not ended (the connection is down, or no full state was ever loaded and the
            container cannot know when its stream began).
        reason: what began it: ``"no full state yet"``, ``"disconnected"``, ``"data gap"``.
    """

    since: float | None
    until: float | None
    reason: str


_NO_FULL_STATE = Stale(None, None, "no full state yet")


class Tracked(Mapping[K, V], Generic[K, V]):
    """A read-only mapping of tracked entries that knows when it may be stale.

    The base of :class:`Orders`, :class:`Balances` and :class:`Positions`; subclasses change
    the entries through ``_store``, ``_remove`` and ``_load`` (a full state), which keep the
    staleness bookkeeping.

    Args:
        complete: ``True`` when you know there is nothing from before (a fresh account, a
            recording from its start): the container starts not stale.
    """

    def __init__(self, *, complete: bool = False) -> None:
        self._items: dict[K, V] = {}
        self._stale: Stale | None = None if complete else _NO_FULL_STATE
        # Keys held when a gap began and not updated since; None while there are none (most
        # containers never see a gap, and an empty set takes 216 bytes).
        self._suspect: set[K] | None = None

    # -- the mapping ------------------------------------------------------------------------------

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        state = "complete" if self._stale is None else f"stale {self._stale}"
        unconfirmed = len(self._suspect or ())
        return f"<{type(self).__name__} {len(self._items)} entries, {state}, {unconfirmed} unconfirmed>"

    # -- staleness --------------------------------------------------------------------------------

    @property
    def stale(self) -> Stale | None:
        """When updates may have been missed, or ``None``.

        ``None``: the entries are the exchange's, as far as can be known.
        """
        return self._stale

    @property
    def stale_keys(self) -> frozenset[K]:
        """Entries held when a gap began and not updated since: they may be outdated."""
        return frozenset(self._suspect or ())

    def is_stale(self, key: K) -> bool:
        """The entry of ``key`` was held when a gap began and has not been updated since."""
        return self._suspect is not None and key in self._suspect

    def disconnected(self, at: float) -> None:
        """The connection dropped at ``at`` (engine clock): from here updates may be missed."""
        self._widen(at, None, "disconnected")

    def gap(self, since: float, until: float) -> None:
        """Updates between ``since`` and ``until`` (engine clock) may have been missed.

        What a feed's :class:`~trio_feeds.events.Gap` says.
        """
        self._widen(since, until, "data gap")

    def missed(self, at: float, reason: str) -> None:
        """An update that arrived at ``at`` (engine clock) could not be applied.

        Stale from ``at`` until a full state is loaded (``reason`` says why).
        """
        self._widen(at, None, reason)

    def _widen(self, since: float, until: float | None, reason: str) -> None:
        old = self._stale
        if old is None:
            self._stale = Stale(since, until, reason)
        else:
            # One interval covering both: the earliest start (None, the start of time, stays)
            # and the later end, or none while disconnected.
            start = None if old.since is None else min(old.since, since)
            if until is not None and old.until is not None:
                until = max(old.until, until)
            self._stale = Stale(start, until, old.reason)
        if self._suspect is None:
            self._suspect = set(self._items)
        else:
            self._suspect.update(self._items)

    # -- changes (for subclasses) -----------------------------------------------------------------

    def _store(self, key: K, value: V) -> None:
        self._items[key] = value
        if self._suspect:
            self._suspect.discard(key)

    def _remove(self, key: K) -> None:
        self._items.pop(key, None)
        if self._suspect:
            self._suspect.discard(key)

    def _load(self, items: Mapping[K, V]) -> None:
        """Replace every entry with a full state: nothing is stale any more."""
        self._items = dict(items)
        self._suspect = None
        self._stale = None


def _received_after(value: OrderUpdate | BalanceUpdate | PositionUpdate, taken_at: datetime | None) -> bool:
    return taken_at is not None and value.received_at > taken_at


# -- orders ----------------------------------------------------------------------------------------

_MERGED = (
    "symbol",
    "native_symbol",
    "client_order_id",
    "side",
    "order_type",
    "price",
    "amount",
    "average_price",
    "fee",
    "fee_currency",
    "exchange_time",
)


def merge_order(held: OrderUpdate, update: OrderUpdate) -> OrderUpdate:
    """``update`` with what it does not say taken from ``held``, the order as known before.

    ``filled`` and ``remaining`` follow the update: when it gives one of them and the order's
    amount is known, the other is derived (a Cryptology ``...AmountChanged`` gives only what is
    left); a filled order has nothing remaining. When the update gives neither, the held values
    stay (a Cryptology ``...Cancelled`` says nothing about amounts).
    """
    changes: dict[str, Any] = {name: getattr(held, name) for name in _MERGED if getattr(update, name) is None}
    amount = update.amount if update.amount is not None else held.amount
    filled, remaining = _amounts(update.status, amount, update.filled, update.remaining)
    if filled is None and remaining is None:
        filled, remaining = held.filled, held.remaining
    changes["filled"], changes["remaining"] = filled, remaining
    return attrs.evolve(update, **changes)


def _amounts(
    status: OrderStatus, amount: Decimal | None, filled: Decimal | None, remaining: Decimal | None
) -> tuple[Decimal | None, Decimal | None]:
    if status is OrderStatus.FILLED and remaining is None:
        remaining = _ZERO
    if amount is not None:
        if filled is None and remaining is not None:
            filled = amount - remaining
        elif remaining is None and filled is not None:
            remaining = amount - filled
    return filled, remaining


class Orders(Tracked[OrderKey, OrderUpdate]):
    """Your open orders by ``(venue, order_id)``, and the recently closed ones.

    Each value is the order as last known: the latest :class:`~trio_feeds.normalized.OrderUpdate`
    merged with what earlier ones said (:func:`merge_order`); its ``source`` is the latest
    message.

    Args:
        history: how many closed orders :attr:`closed` keeps (the oldest go first). A late
            message about an order that has left the history is taken as news of an order
            not seen before.
        complete: start not stale (see :class:`Tracked`).
    """

    def __init__(self, *, history: int = 1000, complete: bool = False) -> None:
        super().__init__(complete=complete)
        self._history = history
        self._closed: OrderedDict[OrderKey, OrderUpdate] = OrderedDict()

    @property
    def closed(self) -> Mapping[OrderKey, OrderUpdate]:
        """Recently closed orders (filled, cancelled, rejected, expired), oldest first."""
        return self._closed

    def apply(self, update: OrderUpdate) -> OrderUpdate | None:
        """Apply one update; returns the order as now known, or ``None`` if ignored.

        Ignored: a non-final update of an order already closed (it arrived late: it cannot
        reopen the order).
        """
        key = (update.venue, update.order_id)
        done = self._closed.get(key)
        if done is not None:
            if not update.status.final:
                return None
            order = self._closed[key] = merge_order(done, update)
            return order
        held = self._items.get(key)
        order = update if held is None else merge_order(held, update)
        if held is None:
            filled, remaining = _amounts(order.status, order.amount, order.filled, order.remaining)
            if (filled, remaining) != (order.filled, order.remaining):
                order = attrs.evolve(order, filled=filled, remaining=remaining)
        if order.status.final:
            self._remove(key)
            self._close(key, order)
        else:
            self._store(key, order)
        return order

    def replace(self, orders: Iterable[OrderUpdate], *, taken_at: datetime | None = None) -> None:
        """Load the full set of open orders (e.g. from REST): nothing is stale afterwards.

        Orders held but absent from ``orders`` are dropped (the exchange says they are not
        open). With ``taken_at`` (when the snapshot was asked for, aware UTC), orders the stream
        updated after that moment keep the stream's view; an order seen closed stays closed.
        Final orders in ``orders`` join :attr:`closed`.
        """
        items: dict[OrderKey, OrderUpdate] = {}
        for order in orders:
            key = (order.venue, order.order_id)
            if order.status.final:
                self._close(key, order)
            else:
                items[key] = order
        for key, held in self._items.items():
            if _received_after(held, taken_at):
                items[key] = held
        # A final status is for good: an order seen closed stays closed, even if the snapshot
        # (taken before the close reached it) still lists it.
        self._load({key: order for key, order in items.items() if key not in self._closed})

    def _close(self, key: OrderKey, order: OrderUpdate) -> None:
        closed = self._closed
        closed[key] = order
        closed.move_to_end(key)
        while len(closed) > self._history:
            closed.popitem(last=False)


# -- balances and positions ------------------------------------------------------------------------


class Balances(Tracked[BalanceKey, BalanceUpdate]):
    """Your balances by ``(venue, currency)``: the latest update of each currency.

    Args:
        complete: start not stale (see :class:`Tracked`).
    """

    def apply(self, update: BalanceUpdate) -> BalanceUpdate:
        """Apply one update (a currency's whole balance); returns it."""
        self._store((update.venue, update.currency), update)
        return update

    def replace(self, balances: Iterable[BalanceUpdate], *, taken_at: datetime | None = None) -> None:
        """Load every balance (e.g. from REST): nothing is stale afterwards.

        With ``taken_at`` (when the snapshot was asked for), balances the stream updated after
        that moment keep the stream's value.
        """
        items = {(b.venue, b.currency): b for b in balances}
        items.update({k: b for k, b in self._items.items() if _received_after(b, taken_at)})
        self._load(items)


class Positions(Tracked[PositionKey, PositionUpdate]):
    """Your open positions by ``(venue, symbol, side)``; a zero amount closes one.

    Args:
        complete: start not stale (see :class:`Tracked`).
    """

    def apply(self, update: PositionUpdate) -> PositionUpdate:
        """Apply one update (a position's whole state); returns it."""
        key = (update.venue, update.symbol, update.side)
        if update.amount:
            self._store(key, update)
        else:
            self._remove(key)
        return update

    def replace(self, positions: Iterable[PositionUpdate], *, taken_at: datetime | None = None) -> None:
        """Load every open position (e.g. from REST): nothing is stale afterwards.

        With ``taken_at`` (when the snapshot was asked for), positions the stream updated after
        that moment keep the stream's view.
        """
        items = {(p.venue, p.symbol, p.side): p for p in positions if p.amount}
        items.update({k: p for k, p in self._items.items() if _received_after(p, taken_at)})
        self._load(items)


class Account:
    """Orders, balances and positions together, fed from a stream of normalized items.

    Keep one per feed: a gap of one connection says nothing about another's.

    Args:
        history: how many closed orders ``orders.closed`` keeps.
        complete: start not stale (see :class:`Tracked`).
    """

    def __init__(self, *, history: int = 1000, complete: bool = False) -> None:
        self.orders = Orders(history=history, complete=complete)
        self.balances = Balances(complete=complete)
        self.positions = Positions(complete=complete)

    def __repr__(self) -> str:
        return f"<Account orders={self.orders!r} balances={self.balances!r} positions={self.positions!r}>"

    def apply(self, item: Normalized) -> bool:
        """Apply an order, balance or position update; other items are not account state.

        Returns whether ``item`` was one of those three.
        """
        if isinstance(item, OrderUpdate):
            self.orders.apply(item)
        elif isinstance(item, BalanceUpdate):
            self.balances.apply(item)
        elif isinstance(item, PositionUpdate):
            self.positions.apply(item)
        else:
            return False
        return True

    def disconnected(self, at: float) -> None:
        """The connection dropped at ``at`` (engine clock): see :meth:`Tracked.disconnected`."""
        for tracked in (self.orders, self.balances, self.positions):
            tracked.disconnected(at)

    def gap(self, since: float, until: float) -> None:
        """Updates between ``since`` and ``until`` may have been missed: see :meth:`Tracked.gap`."""
        for tracked in (self.orders, self.balances, self.positions):
            tracked.gap(since, until)
