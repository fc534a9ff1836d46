"""Order books: the builders against a plain dict fold, and the sync bookkeeping."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_feeds.books import Books, OrderBook
from trio_feeds.events import BookOutOfSync, BookSynced

D = Decimal
prices = st.integers(min_value=1, max_value=60).map(lambda n: D(n) / 4)
amounts = st.integers(min_value=0, max_value=5).map(D)
levels = st.dictionaries(prices, amounts.filter(bool), max_size=12)
increment = st.tuples(st.sampled_from(["bid", "ask"]), prices, amounts)


def fold(book: dict[str, dict[D, D]], side: str, price: D, amount: D) -> None:
    """The reference: a plain dict per side."""
    if amount:
        book[side][price] = amount
    else:
        book[side].pop(price, None)


def expected(book: dict[str, dict[D, D]]) -> tuple[list[tuple[D, D]], list[tuple[D, D]]]:
    bids = sorted(book["bid"].items(), reverse=True)
    asks = sorted(book["ask"].items())
    return bids, asks


@settings(max_examples=200, deadline=None)
@given(bids=levels, asks=levels, steps=st.lists(increment, max_size=60))
def test_book_equals_a_plain_fold(bids: dict[D, D], asks: dict[D, D], steps: list[tuple[str, D, D]]) -> None:
    ob: OrderBook[str] = OrderBook("m")
    ob.replace(bids.items(), asks.items(), sequence=1)
    ref = {"bid": dict(bids), "ask": dict(asks)}
    for side, price, amount in steps:
        ob.update("bid" if side == "bid" else "ask", price, amount)
        fold(ref, side, price, amount)
        want_bids, want_asks = expected(ref)
        assert list(ob.bids) == want_bids
        assert list(ob.asks) == want_asks
        assert ob.best_bid == (want_bids[0] if want_bids else None)
        assert ob.best_ask == (want_asks[0] if want_asks else None)
        assert ob.depth(3) == (want_bids[:3], want_asks[:3])
        if want_bids and want_asks:
            assert ob.spread == want_asks[0][0] - want_bids[0][0]
            assert ob.crossed == (want_bids[0][0] >= want_asks[0][0])


@settings(max_examples=200, deadline=None)
@given(
    snapshots=st.lists(st.tuples(levels, levels), min_size=1, max_size=4),
    steps=st.lists(increment, max_size=40),
)
def test_books_are_synced_exactly_when_they_equal_the_reference(
    snapshots: list[tuple[dict[D, D], dict[D, D]]], steps: list[tuple[str, D, D]]
) -> None:
    """Sequenced increments, some skipped: synced implies equal to the fold; never crossed."""
    books: Books[str] = Books()
    ref = {"bid": {}, "ask": {}}
    seq = 0
    for bids, asks in snapshots:
        seq += 1
        was_synced = "m" in books and books["m"].synced
        events = books.snapshot("m", bids.items(), asks.items(), sequence=seq)
        ref = {"bid": dict(bids), "ask": dict(asks)}
        book = books["m"]
        if book.crossed:
            assert not book.synced
            assert events == ([BookOutOfSync("m", book.unsynced_reason)] if was_synced else [])
        else:
            assert book.synced
            assert events == ([] if was_synced else [BookSynced("m")])
        for j, (side, price, amount) in enumerate(steps):
            seq += 2 if j % 7 == 6 else 1  # now and then a number is skipped
            books.increment("m", "bid" if side == "bid" else "ask", price, amount, sequence=seq)
            if book.synced:
                fold(ref, side, price, amount)
                assert (list(book.bids), list(book.asks)) == expected(ref)
                assert not book.crossed


def test_sequence_jump_unsyncs_asks_for_a_resync_and_the_snapshot_heals() -> None:
    books: Books[str] = Books()
    assert books.snapshot("btcusd", [(D(10), D(1))], [(D(11), D(2))], sequence=1) == [BookSynced("btcusd")]
    assert books.increment("btcusd", "bid", D(9), D(3), sequence=2) == []
    assert books.increment("btcusd", "bid", D(9), D(4), sequence=2) == []  # a repeat: ignored
    assert books["btcusd"].bids[1] == (D(9), D(3))
    events = books.increment("btcusd", "ask", D(12), D(1), sequence=5)
    assert events == [BookOutOfSync("btcusd", "sequence jump: 2 -> 5")]
    book = books["btcusd"]
    assert not book.synced
    assert book.unsynced_reason == "sequence jump: 2 -> 5"
    assert books.take_resyncs() == ["btcusd"]
    assert books.take_resyncs() == []  # asked once
    # Increments before the resync's snapshot are dropped: the book they apply to is wrong.
    assert books.increment("btcusd", "ask", D(13), D(1), sequence=6) == []
    assert len(book.asks) == 1
    assert books.snapshot("btcusd", [(D(10), D(1))], [(D(12), D(1))], sequence=7) == [BookSynced("btcusd")]
    assert book.synced
    assert books.increment("btcusd", "ask", D(12), D(0), sequence=8) == []
    assert list(book.asks) == []


def test_crossed_book_is_out_of_sync_until_the_next_snapshot() -> None:
    books: Books[tuple[str, str]] = Books()
    key = ("binance", "BTCUSDT")
    books.snapshot(key, [(D(10), D(1))], [(D(11), D(1))])
    events = books.increment(key, "bid", D(11), D(1))
    assert events == [BookOutOfSync(key, "crossed book: best bid 11 >= best ask 11")]
    assert books.take_resyncs() == [key]
    assert books.snapshot(key, [(D(12), D(1))], [(D(11), D(1))]) == []  # still crossed
    assert not books[key].synced
    assert books.snapshot(key, [(D(10), D(1))], [(D(11), D(1))]) == [BookSynced(key)]


def test_unsync_all_reports_each_synced_book_once() -> None:
    books: Books[str] = Books()
    books.snapshot("a", [], [])
    books.snapshot("b", [], [])
    assert books.unsync_all("disconnected") == [
        BookOutOfSync("a", "disconnected"),
        BookOutOfSync("b", "disconnected"),
    ]
    assert books.unsync_all("disconnected") == []
    assert not books["a"].synced


def test_levels_view() -> None:
    ob: OrderBook[str] = OrderBook("m")
    ob.replace([(D(1), D(1)), (D(3), D(3)), (D(2), D(2))], [(D(5), D(1)), (D(4), D(1))])
    assert ob.bids[0] == (D(3), D(3))
    assert ob.bids[-1] == (D(1), D(1))
    assert ob.bids[1:] == [(D(2), D(2)), (D(1), D(1))]
    assert ob.asks[:1] == [(D(4), D(1))]
    assert len(ob.bids) == 3
    with pytest.raises(IndexError):
        ob.asks[2]
    assert repr(ob.bids) == "Levels([(3, 3), (2, 2), (1, 1)])"
    assert "NOT synced (no snapshot yet)" in repr(OrderBook("x"))


def test_a_side_other_than_bid_or_ask_is_refused() -> None:
    # A trade side ("buy") once landed silently on the ask side.
    books: Books[str] = Books()
    books.snapshot("m", [(Decimal("99"), Decimal("1"))], [(Decimal("101"), Decimal("1"))], sequence=1)
    with pytest.raises(ValueError, match="'bid' or 'ask'"):
        books.increment("m", "buy", Decimal("100"), Decimal("1"), sequence=2)  # type: ignore[arg-type]
    books.increment("m", "bid", Decimal("100"), Decimal("1"), sequence=2)
    assert books["m"].best_bid == (Decimal("100"), Decimal("1"))
