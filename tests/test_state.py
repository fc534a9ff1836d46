"""Tracked state: orders, balances and positions from normalized updates, and when they are stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_feeds import cryptology, gateway
from trio_feeds._normalize import cryptology as n_cryptology
from trio_feeds._normalize import gateway as n_gateway
from trio_feeds.normalized import (
    BalanceUpdate,
    OrderStatus,
    OrderUpdate,
    PositionSide,
    PositionUpdate,
    Side,
    Trade,
)
from trio_feeds.state import Account, Balances, Orders, Positions, Stale, merge_order

from ._fixtures import fixture_text

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def order(
    order_id: str = "1", status: OrderStatus = OrderStatus.OPEN, t: float = 0, **fields: Any
) -> OrderUpdate:
    values: dict[str, Any] = {
        "exchange": "x",
        "venue": "x",
        "symbol": "BTC-USD",
        "native_symbol": "BTC_USD",
        "side": Side.BUY,
        "exchange_time": None,
        "received_at": at(t),
        **fields,
    }
    return OrderUpdate(order_id=order_id, status=status, **values)


def balance(currency: str, amount: str, t: float = 0) -> BalanceUpdate:
    return BalanceUpdate(
        exchange="x",
        venue="x",
        currency=currency,
        native_currency=currency,
        balance=D(amount),
        exchange_time=None,
        received_at=at(t),
    )


def position(symbol: str, side: PositionSide, amount: str, t: float = 0) -> PositionUpdate:
    return PositionUpdate(
        exchange="x",
        venue="x",
        symbol=symbol,
        native_symbol=symbol,
        side=side,
        amount=D(amount),
        exchange_time=None,
        received_at=at(t),
    )


def crypto(name: str) -> Any:
    (item,) = n_cryptology.normalize(cryptology.decode(fixture_text("cryptology", {"file": name})), T0)
    return item


def test_cryptology_order_lifecycle_from_the_fixtures() -> None:
    orders = Orders()
    placed = orders.apply(crypto("08-buy-order-placed.json"))
    key = ("cryptology", "1")
    assert placed is not None
    assert (orders[key].remaining, orders[key].filled, orders[key].amount) == (D("1.5"), None, None)
    changed = orders.apply(crypto("09-buy-order-amount-changed.json"))
    # What is left, with the price and ids of the placement kept; the full size is unknown.
    assert changed == orders[key]
    assert changed is not None
    assert (changed.status, changed.remaining, changed.filled) == (
        OrderStatus.PARTIALLY_FILLED,
        D("1E-8"),
        None,
    )
    assert (changed.price, changed.client_order_id, changed.side) == (D("42650.10"), "123", Side.BUY)
    assert changed.source is not placed.source
    closed = orders.apply(crypto("11-buy-order-closed.json"))
    assert key not in orders
    assert orders.closed[key] is closed
    assert closed is not None
    assert (closed.status, closed.remaining, closed.price) == (OrderStatus.FILLED, D(0), D("42650.10"))


def test_known_size_gives_filled_from_what_is_left() -> None:
    orders = Orders()
    placed = crypto("08-buy-order-placed.json")
    orders.apply(attrs.evolve(placed, amount=D("1.5")))  # e.g. a size known from a REST answer
    changed = orders.apply(crypto("09-buy-order-amount-changed.json"))
    assert changed is not None
    assert (changed.amount, changed.remaining, changed.filled) == (D("1.5"), D("1E-8"), D("1.49999999"))
    closed = orders.apply(crypto("11-buy-order-closed.json"))
    assert closed is not None
    assert (closed.remaining, closed.filled) == (D(0), D("1.5"))


def test_cancel_keeps_the_last_known_amounts_and_late_news_cannot_reopen() -> None:
    orders = Orders()
    orders.apply(order(amount=D(2), remaining=D(2)))
    orders.apply(order(status=OrderStatus.PARTIALLY_FILLED, remaining=D("0.5")))
    cancelled = orders.apply(order(status=OrderStatus.CANCELLED))
    assert cancelled is not None
    assert (cancelled.filled, cancelled.remaining) == (D("1.5"), D("0.5"))
    assert len(orders) == 0
    assert orders.apply(order(status=OrderStatus.PARTIALLY_FILLED, remaining=D("0.1"))) is None
    assert len(orders) == 0
    # A final message about a closed order still adds what it says.
    again = orders.apply(order(status=OrderStatus.CANCELLED, fee=D("0.01"), fee_currency="USD"))
    assert again is not None
    assert (again.fee, again.remaining) == (D("0.01"), D("0.5"))


def test_order_that_ends_unseen_goes_straight_to_history_and_history_is_bounded() -> None:
    orders = Orders(history=3)
    for i in range(5):
        orders.apply(order(str(i), OrderStatus.REJECTED))
    assert list(orders.closed) == [("x", "2"), ("x", "3"), ("x", "4")]
    assert len(orders) == 0
    filled = orders.apply(order("9", OrderStatus.FILLED, amount=D(3)))
    assert filled is not None
    assert (filled.filled, filled.remaining) == (D(3), D(0))


def test_merge_derives_remaining_from_filled() -> None:
    held = order(amount=D(10), filled=D(0), remaining=D(10), price=D(5))
    merged = merge_order(held, order(status=OrderStatus.PARTIALLY_FILLED, filled=D(4), price=None))
    assert (merged.filled, merged.remaining, merged.price) == (D(4), D(6), D(5))


def test_starts_stale_until_a_full_state_unless_complete() -> None:
    orders = Orders()
    assert orders.stale == Stale(None, None, "no full state yet")
    orders.apply(order("1"))
    assert orders.stale_keys == frozenset()
    orders.replace([order("1"), order("2")])
    assert orders.stale is None
    assert set(orders) == {("x", "1"), ("x", "2")}
    assert Orders(complete=True).stale is None
    assert Account(complete=True).balances.stale is None


def test_gap_marks_the_held_entries_until_each_is_confirmed() -> None:
    orders = Orders(complete=True)
    orders.apply(order("1"))
    orders.apply(order("2"))
    orders.disconnected(10.0)
    assert orders.stale == Stale(10.0, None, "disconnected")
    assert orders.stale_keys == {("x", "1"), ("x", "2")}
    orders.gap(9.5, 12.0)  # the feed's Gap: since the last frame, until resubscribed
    assert orders.stale == Stale(9.5, 12.0, "disconnected")
    orders.apply(order("1", OrderStatus.PARTIALLY_FILLED, remaining=D(1)))
    assert orders.stale_keys == {("x", "2")}
    assert orders.is_stale(("x", "2"))
    assert not orders.is_stale(("x", "1"))
    orders.apply(order("3"))  # new since the gap: not stale
    assert not orders.is_stale(("x", "3"))
    assert orders.stale is not None  # an order may have ended unseen: only a full state tells
    orders.gap(20.0, 21.0)
    assert orders.stale == Stale(9.5, 21.0, "disconnected")
    orders.gap(15.0, 16.0)  # told late: the interval still ends at the later end
    assert orders.stale == Stale(9.5, 21.0, "disconnected")
    orders.replace([order("1"), order("3")])
    assert orders.stale is None
    assert orders.stale_keys == frozenset()
    assert set(orders) == {("x", "1"), ("x", "3")}
    assert "complete" in repr(orders)


def test_replace_keeps_what_the_stream_said_after_the_snapshot_was_taken() -> None:
    orders = Orders()
    orders.apply(order("1", t=1, remaining=D(5)))
    orders.apply(order("2", t=5, remaining=D(7)))  # after the snapshot was asked for
    orders.apply(order("3", t=1))
    orders.apply(order("3", OrderStatus.FILLED, t=6))  # closed by the stream meanwhile
    snapshot = [order("1", t=3, remaining=D(4)), order("2", t=3, remaining=D(8)), order("3", t=3)]
    orders.replace([*snapshot, order("4", OrderStatus.CANCELLED, t=3)], taken_at=at(3))
    assert orders[("x", "1")].remaining == D(4)  # the snapshot is newer
    assert orders[("x", "2")].remaining == D(7)  # the stream is newer
    assert ("x", "3") not in orders  # seen closed: stays closed
    assert ("x", "4") in orders.closed
    assert orders.stale is None


def test_balances_confirm_per_currency_and_stay_stale_without_a_full_state() -> None:
    balances = Balances()
    balances.apply(crypto("21-set-balance.json"))
    balances.apply(crypto("27-time-seconds-only.json"))
    assert balances[("cryptology", "USD")].balance == D(1)
    balances.gap(1.0, 2.0)
    assert balances.stale_keys == {("cryptology", "USD"), ("cryptology", "BTC")}
    balances.apply(crypto("05-set-balance-message.json"))  # SetBalance for USD
    assert balances.stale_keys == {("cryptology", "BTC")}
    assert balances.stale == Stale(None, 2.0, "no full state yet")
    balances.replace([balance("USD", "3", t=1)], taken_at=at(2))
    assert balances.stale is None
    assert dict(balances) == {("x", "USD"): balance("USD", "3", t=1)}
    balances.apply(balance("EUR", "1", t=5))
    balances.replace([balance("EUR", "0", t=3)], taken_at=at(3))
    assert balances[("x", "EUR")].balance == D(1)


def test_positions_by_symbol_and_side_close_at_zero() -> None:
    positions = Positions()
    (item,) = n_gateway.normalize(
        gateway.decode(fixture_text("gateway", {"file": "17-positions-update.json"})), T0
    )
    assert isinstance(item, PositionUpdate)
    positions.apply(item)
    positions.apply(position("BTC-USDT", PositionSide.SHORT, "1"))
    assert set(positions) == {
        ("binance", "BTC-USDT", PositionSide.LONG),
        ("x", "BTC-USDT", PositionSide.SHORT),
    }
    positions.apply(attrs.evolve(item, amount=D(0)))
    assert set(positions) == {("x", "BTC-USDT", PositionSide.SHORT)}
    positions.disconnected(3.0)
    assert positions.is_stale(("x", "BTC-USDT", PositionSide.SHORT))
    positions.replace([position("ETH-USDT", PositionSide.LONG, "2"), position("X-Y", PositionSide.LONG, "0")])
    assert set(positions) == {("x", "ETH-USDT", PositionSide.LONG)}
    assert positions.stale is None


def test_account_routes_items_and_gaps() -> None:
    account = Account()
    trade = Trade(
        exchange="x", venue="x", symbol="A-B", native_symbol="ab", side=Side.BUY, price=D(1), amount=D(1),
        exchange_time=None, received_at=T0,
    )  # fmt: skip
    assert not account.apply(trade)
    assert account.apply(order("1"))
    assert account.apply(balance("USD", "1"))
    assert account.apply(position("A-B", PositionSide.LONG, "1"))
    account.disconnected(1.0)
    account.gap(0.5, 2.0)
    for tracked in (account.orders, account.balances, account.positions):
        assert len(tracked) == 1
        assert tracked.stale == Stale(None, 2.0, "no full state yet")
        assert len(tracked.stale_keys) == 1
    assert "Account" in repr(account)


_STATUSES = list(OrderStatus)


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from("abcde"),
            st.sampled_from(_STATUSES),
            st.none() | st.integers(min_value=0, max_value=10).map(D),
        ),
        max_size=60,
    ),
    history=st.integers(min_value=1, max_value=4),
)
def test_orders_against_a_reference(
    steps: list[tuple[str, OrderStatus, Decimal | None]], history: int
) -> None:
    """Open and closed are disjoint; closed is final; a remembered close is never reopened."""
    orders = Orders(history=history, complete=True)
    closed_ref: list[str] = []  # the reference history: oldest first, bounded
    open_ref: set[str] = set()
    for order_id, status, remaining in steps:
        result = orders.apply(order(order_id, status, remaining=remaining))
        key = ("x", order_id)
        if order_id in closed_ref:
            assert (result is None) == (not status.final)
            assert key not in orders
        elif status.final:
            closed_ref.append(order_id)
            del closed_ref[:-history]
            open_ref.discard(order_id)
        else:
            open_ref.add(order_id)
        assert {k[1] for k in orders} == open_ref
        assert [k[1] for k in orders.closed] == closed_ref
        assert all(not o.status.final for o in orders.values())
        assert all(o.status.final for o in orders.closed.values())
