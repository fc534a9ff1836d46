"""Normalization: every conformance fixture maps to its expected items or is a documented no-op."""

from __future__ import annotations

import copy
import json
import pickle
import types
import typing
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_feeds import DecodeError, UnknownMessage, cryptology, gateway, onyx, peatio
from trio_feeds._normalize import cryptology as n_cryptology
from trio_feeds._normalize import gateway as n_gateway
from trio_feeds._normalize import onyx as n_onyx
from trio_feeds._normalize import peatio as n_peatio
from trio_feeds._normalize._build import Dispatch, builder
from trio_feeds.normalized import (
    BalanceUpdate,
    BookSnapshot,
    BookUpdate,
    Fill,
    Normalized,
    OrderStatus,
    OrderUpdate,
    PositionSide,
    PositionUpdate,
    Side,
    Symbols,
    Ticker,
    Trade,
)

from ._fixtures import PROTOCOLS, fixture_text, manifest, message_defs, module

D = Decimal
AT = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)  # received_at, passed in
Y2K = datetime(2000, 1, 1, tzinfo=UTC)
Y2K_250 = Y2K + timedelta(microseconds=250)
GW_TIME = datetime(2022, 3, 15, 15, 6, 29, 123000, tzinfo=UTC)  # 1647356789123 ms

MODULES = {"cryptology": n_cryptology, "gateway": n_gateway, "onyx": n_onyx, "peatio": n_peatio}
NORMALIZERS = {name: m.normalize for name, m in MODULES.items()}


def _with(cls: type[Any], **common: Any) -> Callable[..., Any]:
    def make(**fields: Any) -> Any:
        return cls(**{"received_at": AT, "source": None, **common, **fields})

    return make


c_common: dict[str, Any] = {"exchange": "cryptology", "venue": "cryptology"}
c_pair = {"symbol": "BTC-USD", "native_symbol": "BTC_USD"}
c_order = _with(OrderUpdate, **c_common, **c_pair, exchange_time=Y2K_250)
c_order_y2k = _with(OrderUpdate, **c_common, **c_pair, exchange_time=Y2K)
c_eth_order = _with(OrderUpdate, **c_common, symbol="ETH-BTC", native_symbol="ETH_BTC", exchange_time=Y2K_250)
c_balance = _with(BalanceUpdate, **c_common, currency="USD", native_currency="USD")
c_book = _with(BookSnapshot, **c_common, **c_pair, exchange_time=None)
c_trade = _with(Trade, **c_common, **c_pair)
BUY, SELL = Side.BUY, Side.SELL
OPEN, PARTIAL, FILLED, CANCELLED = (
    OrderStatus.OPEN,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.FILLED,
    OrderStatus.CANCELLED,
)

g_common: dict[str, Any] = {
    "exchange": "gateway",
    "venue": "binance",
    "symbol": "BTC-USDT",
    "native_symbol": "BTCUSDT",
    "exchange_time": GW_TIME,
}
p_common: dict[str, Any] = {"exchange": "peatio", "venue": "peatio"}
p_btcusd = {"symbol": "BTC-USD", "native_symbol": "btcusd"}
p_eurusd = {"symbol": "EUR-USD", "native_symbol": "eurusd"}
o_common: dict[str, Any] = {"exchange": "onyx", "venue": "onyx"}


def _epoch(seconds: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def _placed(side: Side) -> OrderUpdate:
    return c_order(
        order_id="1",
        client_order_id="123",
        side=side,
        status=OPEN,
        price=D("42650.10"),
        remaining=D("1.5"),  # the part put on the book; the full size is not said
    )


EXPECTED: dict[tuple[str, str], tuple[Normalized, ...]] = {
    # -- Cryptology: the documents' form (time [946684800, 0]) and the later one ([.., 250] µs)
    ("cryptology", "01-buy-order-placed-message.json"): (
        c_order_y2k(order_id="1", side=BUY, status=OPEN, price=D(1), remaining=D(1)),
    ),
    ("cryptology", "02-buy-order-amount-changed.json"): (
        c_order_y2k(order_id="1", side=BUY, status=PARTIAL, remaining=D(1)),
    ),
    ("cryptology", "03-buy-order-cancelled-message.json"): (
        c_order_y2k(order_id="1", side=BUY, status=CANCELLED),
    ),
    ("cryptology", "04-buy-order-closed-message.json"): (
        c_order_y2k(order_id="1", side=BUY, status=FILLED, remaining=D(0)),
    ),
    ("cryptology", "05-set-balance-message.json"): (
        c_balance(balance=D(1), change=D(1), reason="aaaaa", exchange_time=Y2K),
    ),
    ("cryptology", "06-anonymous-trade-message.json"): (
        # maker_buy false: the maker sold, the taker bought
        c_trade(side=BUY, price=D(1), amount=D(1), exchange_time=Y2K),
    ),
    ("cryptology", "07-order-book-agg-message.json"): (
        c_book(bids=((D(1), D(1)),), asks=((D("0.1"), D(1)),)),
    ),
    ("cryptology", "08-buy-order-placed.json"): (_placed(BUY),),
    ("cryptology", "09-buy-order-amount-changed.json"): (
        c_order(order_id="1", client_order_id="123", side=BUY, status=PARTIAL, remaining=D("0.00000001")),
    ),
    ("cryptology", "10-buy-order-cancelled.json"): (
        c_order(order_id="1", client_order_id="123", side=BUY, status=CANCELLED),
    ),
    ("cryptology", "11-buy-order-closed.json"): (
        c_order(order_id="1", side=BUY, status=FILLED, remaining=D(0)),
    ),
    ("cryptology", "12-sell-order-placed.json"): (_placed(SELL),),
    ("cryptology", "13-sell-order-amount-changed.json"): (
        c_order(order_id="1", client_order_id="123", side=SELL, status=PARTIAL, remaining=D("0.00000001")),
    ),
    ("cryptology", "14-sell-order-cancelled.json"): (
        c_order(order_id="1", client_order_id="123", side=SELL, status=CANCELLED),
    ),
    ("cryptology", "15-sell-order-closed.json"): (
        c_order(order_id="1", side=SELL, status=FILLED, remaining=D(0)),
    ),
    ("cryptology", "16-sell-order-placed-message.json"): (
        # closed_inline: executed in full at once
        c_eth_order(
            order_id="7",
            side=SELL,
            status=FILLED,
            price=D("0.5"),
            remaining=D(0),
            exchange_time=Y2K + timedelta(microseconds=999999),
        ),
    ),
    ("cryptology", "17-sell-order-amount-changed.json"): (
        c_eth_order(order_id="7", side=SELL, status=PARTIAL, remaining=D(1)),
    ),
    ("cryptology", "18-sell-order-cancelled-message.json"): (
        c_eth_order(order_id="7", side=SELL, status=CANCELLED),
    ),
    ("cryptology", "19-sell-order-closed-message.json"): (
        c_eth_order(order_id="7", side=SELL, status=FILLED, remaining=D(0)),
    ),
    ("cryptology", "21-set-balance.json"): (
        c_balance(balance=D(1), change=D("-0.25"), reason="trade", exchange_time=Y2K_250),
    ),
    ("cryptology", "22-insufficient-funds.json"): (
        OrderUpdate(
            **c_common,
            symbol=None,
            native_symbol=None,
            order_id="1",
            side=None,
            status=OrderStatus.REJECTED,
            exchange_time=None,
            received_at=AT,
        ),
    ),
    ("cryptology", "23-own-trade.json"): (
        # we were the maker and the maker sold
        Fill(
            **c_common,
            **c_pair,
            side=SELL,
            price=D(1),
            amount=D(1),
            maker=True,
            exchange_time=Y2K_250,
            received_at=AT,
        ),
    ),
    ("cryptology", "24-order-book-agg.json"): (c_book(bids=((D(1), D(1)),), asks=((D("0.1"), D(1)),)),),
    ("cryptology", "25-order-book-agg.json"): (c_book(bids=(), asks=()),),
    ("cryptology", "26-anonymous-trade.json"): (
        c_trade(
            side=BUY,
            price=D(555),
            amount=D("42.42"),
            exchange_time=datetime(2018, 6, 27, 10, 3, 45, 250000, tzinfo=UTC),  # milliseconds here
        ),
    ),
    ("cryptology", "27-time-seconds-only.json"): (
        BalanceUpdate(
            **c_common,
            currency="BTC",
            native_currency="BTC",
            balance=D(0),
            change=D(0),
            reason="initial",
            exchange_time=_epoch(0),
            received_at=AT,
        ),
    ),
    # The later documents' examples (CryptologyExchange/cryptology-client-python at ba206b1).
    ("cryptology", "28-buy-order-placed.json"): (
        # initial_amount 3, amount 1 put on the book: 2 executed at once
        c_order_y2k(
            order_id="1",
            client_order_id="123",
            side=BUY,
            status=OPEN,
            price=D(1),
            amount=D(3),
            filled=D(2),
            remaining=D(1),
        ),
    ),
    ("cryptology", "29-buy-order-amount-changed.json"): (
        # the fee is not mapped (per execution or so far? in which currency? not said)
        c_order_y2k(order_id="1", client_order_id="123", side=BUY, status=PARTIAL, remaining=D(1)),
    ),
    ("cryptology", "30-buy-order-cancelled.json"): (
        c_order_y2k(order_id="1", client_order_id="123", side=BUY, status=CANCELLED),
    ),
    ("cryptology", "31-buy-order-closed.json"): (
        c_order_y2k(order_id="1", client_order_id="123", side=BUY, status=FILLED, remaining=D(0)),
    ),
    ("cryptology", "32-set-balance.json"): (
        c_balance(balance=D(1), change=D(1), reason="trade", exchange_time=Y2K),
    ),
    ("cryptology", "35-own-trade.json"): (
        Fill(
            **c_common,
            **c_pair,
            side=SELL,  # we were the maker and the maker sold
            price=D(1),
            amount=D(1),
            order_id="1",
            maker=True,
            exchange_time=Y2K,
            received_at=AT,
        ),
    ),
    ("cryptology", "36-anonymous-trade.json"): (
        c_trade(
            side=BUY,
            price=D(555),
            amount=D("42.42"),
            exchange_time=datetime(2018, 6, 27, 10, 3, 45, tzinfo=UTC),
        ),
    ),
    ("cryptology", "46-order-book-agg-without-buy-levels.json"): (
        c_book(symbol="ETH-USD", native_symbol="ETH_USD", bids=(), asks=((D("555.5"), D("0.25")),)),
    ),
    # -- gateway --------------------------------------------------------------------------------
    ("gateway", "09-market-data-ticker.json"): (
        Ticker(
            **g_common,
            bid=D("42650.0"),
            ask=D("42651.0"),
            last=D("42650.5"),
            volume=D("2541.34"),
            high=D("43100.0"),
            low=D("42500.0"),
            received_at=AT,
        ),
    ),
    ("gateway", "11-orderbook.json"): (
        BookSnapshot(
            **g_common,
            bids=((D("42650.0"), D("1.5")), (D("42649.5"), D("2.3"))),
            asks=((D("42651.0"), D("0.8")), (D("42652.5"), D("1.2"))),
            received_at=AT,
        ),
    ),
    ("gateway", "13-trades.json"): (
        Trade(
            **g_common, side=BUY, price=D("42650.5"), amount=D("0.1"), trade_id="123456789", received_at=AT
        ),
    ),
    ("gateway", "15-orders-update.json"): (
        OrderUpdate(
            **g_common,
            order_id="123456789",
            side=BUY,
            status=PARTIAL,
            order_type="limit",
            price=D("42500.0"),
            amount=D("0.1"),
            filled=D("0.05"),
            remaining=D("0.05"),
            fee=D("2.125"),
            fee_currency="USDT",
            received_at=AT,
        ),
    ),
    ("gateway", "17-positions-update.json"): (
        PositionUpdate(
            **g_common,
            side=PositionSide.LONG,
            amount=D("0.5"),
            entry_price=D("42650.0"),
            cost=D("21325.0"),
            unrealized_pnl=D("125.0"),
            liquidation_price=None,
            position_type="spot",
            received_at=AT,
        ),
    ),
    # -- onyx -----------------------------------------------------------------------------------
    ("onyx", "12-tickers-event.json"): (
        Ticker(
            **o_common,
            symbol="BRTZ24",
            native_symbol="brtz24",
            bid=D("82.45"),
            bid_amount=D(25),
            ask=D("82.47"),
            ask_amount=D(10),
            exchange_time=datetime(2024, 6, 11, 9, 15, 30, 123000, tzinfo=UTC),
            received_at=AT,
        ),
    ),
    ("onyx", "19-tickers-event-later.json"): (
        Ticker(
            **o_common,
            symbol="EBOBZ24",
            native_symbol="ebobz24",
            bid=D("745.00"),
            bid_amount=D(5),
            ask=D("745.50"),
            ask_amount=D("3.5"),
            exchange_time=datetime(2024, 6, 11, 9, 15, 30, 456000, tzinfo=UTC),
            received_at=AT,
        ),
        Ticker(
            **o_common,
            symbol="EBOBF25",
            native_symbol="ebobf25",
            bid=D("739.50"),
            bid_amount=D(2),
            ask=D("740.00"),
            ask_amount=D(2),
            exchange_time=datetime(2024, 6, 11, 9, 15, 30, 460000, tzinfo=UTC),
            received_at=AT,
        ),
    ),
    # -- peatio ---------------------------------------------------------------------------------
    ("peatio", "08-market-update.json"): (
        BookSnapshot(
            **p_common,
            **p_btcusd,
            bids=((D("1000.0"), D("0.25")), (D("999.0"), D("0.005")), (D("1.0"), D("11.0"))),
            asks=((D("1020.0"), D("0.005")), (D("1026.0"), D("0.03"))),
            exchange_time=None,
            received_at=AT,
        ),
    ),
    ("peatio", "09-public-trades.json"): (
        Trade(
            **p_common,
            **p_btcusd,
            side=BUY,
            price=D("1020.0"),
            amount=D("0.001"),
            trade_id="7",
            exchange_time=_epoch(1559903520),
            received_at=AT,
        ),
    ),
    ("peatio", "10-public-trades-created-at.json"): tuple(
        Trade(
            **p_common,
            symbol="ETH-USD",
            native_symbol="ethusd",
            side=SELL,
            price=price,
            amount=amount,
            trade_id=tid,
            exchange_time=_epoch(1559903580),
            received_at=AT,
        )
        for tid, price, amount in (("12", D("250.5"), D("1.25")), ("13", D("250.0"), D("0.75")))
    ),
    ("peatio", "11-order-book-snapshot.json"): (
        BookSnapshot(
            **p_common,
            **p_eurusd,
            bids=((D("10.95"), D("21.7068")), (D("10.90"), D("65.2068"))),
            asks=((D("15.0"), D("21.7068")), (D("20.0"), D("100.2068"))),
            exchange_time=None,
            received_at=AT,
        ),
    ),
    ("peatio", "12-order-book-snapshot-sequence.json"): (
        BookSnapshot(
            **p_common,
            **p_btcusd,
            bids=((D("11.0"), D("2.0")), (D("10.0"), D("2.0"))),
            asks=((D("12.0"), D("1.0")), (D("14.0"), D("1.0"))),
            sequence=1,
            exchange_time=None,
            received_at=AT,
        ),
    ),
    ("peatio", "13-order-book-increment.json"): (
        BookUpdate(
            **p_common,
            **p_eurusd,
            bids=(),
            asks=((D("15.0"), D("22.1257")),),
            exchange_time=None,
            received_at=AT,
        ),
    ),
    ("peatio", "14-order-book-increment-single-level.json"): (
        BookUpdate(
            **p_common,
            **p_btcusd,
            bids=((D("10.0"), D("5.0")),),
            asks=(),
            sequence=3,
            exchange_time=None,
            received_at=AT,
        ),
    ),
    ("peatio", "27-order-book-increment-removed-level.json"): (
        # The engine's "" for a level that is gone: amount zero.
        BookUpdate(
            **p_common,
            **p_btcusd,
            bids=(),
            asks=((D("10.0"), D(0)),),
            sequence=4,
            exchange_time=None,
            received_at=AT,
        ),
    ),
    ("peatio", "28-global-tickers.json"): (
        # The later form: "amount" is the base volume ("volume" is price times amount).
        Ticker(
            **p_common,
            **p_btcusd,
            last=D("8.0"),
            volume=D("80.0"),
            high=D("12.0"),
            low=D("8.0"),
            exchange_time=_epoch(1626300000),
            received_at=AT,
        ),
    ),
    ("peatio", "29-global-tickers-older-form.json"): (
        Ticker(
            **p_common,
            symbol="ETH-USD",
            native_symbol="ethusd",
            bid=D("199.5"),
            ask=D("200.5"),
            last=D("200.0"),
            volume=D("12.5"),
            high=D("205.0"),
            low=D("190.0"),
            exchange_time=_epoch(1537370580),
            received_at=AT,
        ),
    ),
    ("peatio", "31-array-frame-public-trades.json"): (
        # The array frame of peatio-core 0.4.x; the side is the older "type".
        Trade(
            **p_common,
            **p_btcusd,
            side=BUY,
            price=D("1020.0"),
            amount=D("0.001"),
            trade_id="7",
            exchange_time=_epoch(1537370580),
            received_at=AT,
        ),
    ),
    ("peatio", "32-array-frame-order.json"): (
        OrderUpdate(
            **p_common,
            **p_btcusd,
            order_id="24",
            side=BUY,
            status=OPEN,
            price=D("1020.0"),
            amount=D("0.2"),
            filled=D("0.0"),
            remaining=D("0.2"),
            exchange_time=_epoch(1537370580),
            received_at=AT,
        ),
    ),
    ("peatio", "15-order-document-form.json"): (
        # "done" with no volumes: executed in full
        OrderUpdate(
            **p_common,
            **p_btcusd,
            order_id="22",
            side=BUY,
            status=FILLED,
            order_type="limit",
            price=D("1026.0"),
            amount=D("0.001"),
            filled=D("0.001"),
            remaining=D(0),
            average_price=D("1020.0"),
            exchange_time=datetime(2019, 6, 7, 10, 32, tzinfo=UTC),
            received_at=AT,
        ),
    ),
    ("peatio", "16-order-limit.json"): (
        OrderUpdate(
            **p_common,
            **p_btcusd,
            order_id="23",
            side=SELL,
            status=OPEN,
            order_type="limit",
            price=D("1030.0"),
            amount=D("0.5"),
            filled=D(0),
            remaining=D("0.5"),
            average_price=None,  # "0.0": nothing executed
            exchange_time=_epoch(1559903520),
            received_at=AT,
        ),
    ),
    ("peatio", "17-order-market-done.json"): (
        OrderUpdate(
            **p_common,
            **p_btcusd,
            order_id="24",
            side=BUY,
            status=FILLED,
            order_type="market",
            price=None,
            amount=D("0.2"),
            filled=D("0.2"),
            remaining=D(0),
            average_price=D(1030),
            exchange_time=_epoch(1559903601),  # updated_at
            received_at=AT,
        ),
    ),
    ("peatio", "18-order-legacy-form.json"): (
        OrderUpdate(
            **p_common,
            **p_eurusd,
            order_id="22",
            side=BUY,  # kind "bid"
            status=OPEN,
            price=D("1026.0"),
            amount=D("0.001"),
            filled=D(0),
            remaining=D("0.001"),  # the older `volume`
            exchange_time=_epoch(1559902920),
            received_at=AT,
        ),
    ),
    ("peatio", "19-trade-document-form.json"): (
        Fill(
            **p_common,
            **p_btcusd,
            side=BUY,
            price=D("1020.0"),
            amount=D("0.001"),
            trade_id="7",
            order_id="22",
            maker=None,
            exchange_time=datetime(2019, 6, 7, 10, 42, tzinfo=UTC),
            received_at=AT,
        ),
    ),
    ("peatio", "20-trade-later-form.json"): (
        Fill(
            **p_common,
            **p_btcusd,
            side=BUY,
            price=D("1030.0"),
            amount=D("0.2"),
            trade_id="8",
            order_id="24",
            maker=False,  # taker_type buy: our buy order took
            exchange_time=_epoch(1559903600),
            received_at=AT,
        ),
    ),
    ("peatio", "21-trade-legacy-form.json"): (
        Fill(
            **p_common,
            **p_eurusd,
            side=SELL,  # kind "ask": ours is the ask
            price=D("1020.0"),
            amount=D("0.001"),
            trade_id="7",
            order_id="15",
            maker=None,
            exchange_time=_epoch(1559902920),
            received_at=AT,
        ),
    ),
}


def _decoded(protocol: str, entry: dict[str, Any]) -> Any:
    text = json.dumps(entry["instance"]) if entry.get("template") else fixture_text(protocol, entry)
    return module(protocol).decode(text)


def _cases() -> list[tuple[str, dict[str, Any]]]:
    return [(p, e) for p in PROTOCOLS for e in manifest(p)]


@pytest.mark.parametrize(
    ("protocol", "entry"), _cases(), ids=lambda v: v if isinstance(v, str) else v["file"]
)
def test_every_fixture_maps_to_its_items_or_is_a_documented_no_op(
    protocol: str, entry: dict[str, Any]
) -> None:
    message = _decoded(protocol, entry)
    items = NORMALIZERS[protocol](message, AT, None)
    expected = EXPECTED.get((protocol, entry["file"]))
    if expected is None:
        # No items: the message's class (Peatio: its payload's) must be declared a no-op.
        mod = MODULES[protocol]
        cls = type(message.data) if protocol == "peatio" and hasattr(message, "data") else type(message)
        ignored = mod.IGNORED + getattr(mod, "IGNORED_PAYLOADS", ())
        assert any(issubclass(cls, i) for i in ignored), f"{cls.__name__} neither mapped nor ignored"
        assert items == ()
        return
    assert items == expected
    for item in items:
        assert item.source is message
        assert item.received_at is AT


def test_every_expectation_names_a_fixture() -> None:
    files = {(p, e["file"]) for p, e in _cases()}
    assert set(EXPECTED) <= files


def _server_classes(protocol: str) -> list[type]:
    """The class of each server message; for a payload that is a type alias (a Ranger map or
    array payload, ``dict[str, X]``), the runtime class its values have (``dict``)."""
    mod = module(protocol)
    names = [name for direction, name in message_defs(protocol) if direction == "server"]
    objects = [getattr(mod, name) for name in names]
    return [obj if isinstance(obj, type) else typing.get_origin(obj) or obj for obj in objects]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_server_message_class_is_mapped_or_ignored(protocol: str) -> None:
    """A message type added to a schema must be given a mapping or declared a no-op."""
    mod = MODULES[protocol]
    known = tuple(mod.HANDLERS if protocol != "peatio" else mod.PAYLOAD_HANDLERS)
    ignored = mod.IGNORED + getattr(mod, "IGNORED_PAYLOADS", ())
    for cls in _server_classes(protocol):
        assert issubclass(cls, known) != issubclass(cls, ignored), cls.__name__


def test_both_cryptology_wire_forms_give_the_same_items() -> None:
    fields = '"amount": "1", "closed_inline": false, "order_id": 5, "price": "2", "time": [1, 2], "trade_pair": "A_B"'
    legacy = cryptology.decode('{"_cls": "SellOrderPlacedMessage", ' + fields + "}")
    later = cryptology.decode('{"@type": "SellOrderPlaced", ' + fields + "}")
    assert type(legacy) is not type(later)
    assert n_cryptology.normalize(legacy, AT) == n_cryptology.normalize(later, AT)


def test_cryptology_book_is_sorted_best_first_and_rejects_bad_price_keys() -> None:
    frame = {
        "@type": "OrderBookAgg",
        "buy_levels": {"9.5": "1", "10": "2", "9": "3"},
        "sell_levels": {"12": "1", "10.5": "2"},
        "trade_pair": "BTC_USD",
    }
    (book,) = n_cryptology.normalize(cryptology.decode(json.dumps(frame)), AT)
    assert isinstance(book, BookSnapshot)
    assert book.bids == ((D(10), D(2)), (D("9.5"), D(1)), (D(9), D(3)))
    assert book.asks == ((D("10.5"), D(2)), (D(12), D(1)))
    # The codec does not check the keys; the mapping says which side was bad, as a DecodeError.
    for bad in ("abc", "NaN", "Infinity"):
        message = cryptology.decode(json.dumps({**frame, "sell_levels": {bad: "1"}}))
        with pytest.raises(DecodeError) as info:
            n_cryptology.normalize(message, AT)
        assert info.value.path == "$.sell_levels"
        assert info.value.protocol == "cryptology"
    message = cryptology.decode(json.dumps({**frame, "buy_levels": {"1": "1", "NaN": "1"}}))
    with pytest.raises(DecodeError):
        n_cryptology.normalize(message, AT)


def test_peatio_increment_forms_and_removal() -> None:
    doc = peatio.decode(
        '{"btcusd.ob-inc": {"asks": [["10.0", "5.0"], ["11.0", "0"]], "bids": [["9.0", "1"]]}}'
    )
    (inc,) = n_peatio.normalize(doc, AT)
    assert isinstance(inc, BookUpdate)
    assert inc.asks == ((D("10.0"), D("5.0")), (D("11.0"), D(0)))
    assert inc.bids == ((D("9.0"), D(1)),)
    assert inc.sequence is None
    flat = peatio.decode('{"btcusd.ob-inc": {"asks": ["10.0", "5.0"], "sequence": 2}}')
    (inc,) = n_peatio.normalize(flat, AT)
    assert isinstance(inc, BookUpdate)
    assert (inc.asks, inc.bids, inc.sequence) == (((D("10.0"), D("5.0")),), (), 2)


def test_gateway_status_texts() -> None:
    text = fixture_text("gateway", {"file": "15-orders-update.json"})
    for status, want in [
        *n_gateway.ORDER_STATUS.items(),
        ("Canceled", CANCELLED),
        ("weird", OrderStatus.UNKNOWN),
    ]:
        message = gateway.decode(text.replace('"partially_filled"', json.dumps(status)))
        (order,) = n_gateway.normalize(message, AT)
        assert isinstance(order, OrderUpdate)
        assert order.status is want
        assert order.status.final == (want in {FILLED, CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


def test_unknown_messages_and_foreign_types_give_nothing() -> None:
    unknown = cryptology.decode('{"@type": "FundingRate", "trade_pairs": ["BTC_USD"]}')  # no such message
    assert isinstance(unknown, UnknownMessage)
    for normalize in NORMALIZERS.values():
        assert normalize(unknown, AT, None) == ()
        assert normalize(object(), AT, None) == ()
    assert n_peatio.normalize(peatio.decode('{"madeup": {"x": 1}}'), AT) == ()


def test_onyx_dashboards_are_no_ops() -> None:
    message = onyx.decode('{"channel": "dashboards", "message": [{"id": 1}], "message_type": 0}')
    assert n_onyx.normalize(message, AT) == ()


# -- symbols -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("native", "common"),
    [
        ("btcusd", "BTC-USD"),
        ("BTCUSDT", "BTC-USDT"),
        ("ethtusd", "ETHT-USD"),  # ambiguous: the first known quote wins; known names fix it
        ("ethbtc", "ETH-BTC"),
        ("ethbusd", "ETH-BUSD"),
        ("usdtusd", "USDT-USD"),
        ("BTC/USDT", "BTC-USDT"),
        ("btc_eur", "BTC-EUR"),
        ("usd", "USD"),  # only a quote: no base, no pair
        ("foobar", "FOOBAR"),  # no known quote: kept whole, never a guessed pair
        ("/usd", "/USD"),
    ],
)
def test_concatenated_symbols(native: str, common: str) -> None:
    assert Symbols.concatenated()(native) == common


def test_known_names_win_over_the_heuristic() -> None:
    sym = n_peatio.symbols({"trstusd": ("trst", "usd"), "abcxyz": "ABC-XYZ", "ethbtc": ("e", "btc")})
    assert sym("trstusd") == "TRST-USD"
    assert sym("abcxyz") == "ABC-XYZ"
    assert sym("ethbtc") == "E-BTC"
    assert sym.pair("trstusd") == ("TRST", "USD")
    message = peatio.decode(fixture_text("peatio", {"file": "09-public-trades.json"}))
    (trade,) = n_peatio.normalize(message, AT, n_peatio.symbols({"btcusd": "XBT-USD"}))
    assert isinstance(trade, Trade)
    assert (trade.symbol, trade.native_symbol) == ("XBT-USD", "btcusd")
    fresh = n_peatio.symbols()  # empty, so falsy: still the one used
    n_peatio.normalize(message, AT, fresh)
    assert dict(fresh) == {"btcusd": "BTC-USD"}


def test_separated_and_instrument_symbols() -> None:
    assert n_cryptology.symbols()("BTC_USD") == "BTC-USD"
    assert n_cryptology.symbols()("BTCUSD") == "BTCUSD"
    assert n_cryptology.symbols()("_USD") == "_USD"
    assert n_onyx.symbols()("brtz24") == "BRTZ24"
    assert n_onyx.symbols().pair("brtz24") is None
    assert n_onyx.symbols({"brtz24": ("brent", "usd")})("brtz24") == "BRENT-USD"


def test_symbol_cache_is_bounded() -> None:
    sym = Symbols.concatenated()
    for i in range(5000):
        assert sym(f"x{i}usd") == f"X{i}-USD"
    assert len(sym) == 4096


# -- machinery -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls", [Trade, Fill, BookSnapshot, BookUpdate, Ticker, OrderUpdate, BalanceUpdate, PositionUpdate]
)
def test_builders_build_what_init_builds(cls: type[Any]) -> None:
    fields = attrs.fields(cls)
    values = {f.name: f"v-{f.name}" for f in fields}
    built = builder(cls)(*values.values())  # positional, in field order
    assert built == cls(**values)
    assert type(built) is cls
    assert [getattr(built, f.name) for f in fields] == list(values.values())
    assert builder(cls)(**values) == built
    assert pickle.loads(pickle.dumps(built)) == built
    assert copy.copy(built) == built
    assert weakref.ref(built)() is built
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.exchange = "x"
    with pytest.raises(TypeError):
        builder(cls)()  # every field must be given


def test_builder_refuses_classes_it_would_misbuild() -> None:
    @attrs.define
    class Fields:
        x: int

    @attrs.frozen
    class Plain:  # frozen, but its slots are its own: no mutable base to fill
        x: int

    @attrs.define
    class CheckedFields:
        x: int = attrs.field(validator=attrs.validators.instance_of(int))

    @attrs.frozen
    class Checked(CheckedFields):
        pass

    @attrs.frozen
    class Hooked(Fields):
        def __attrs_post_init__(self) -> None:
            pass

    @attrs.frozen
    class More(Fields):
        y: int

    for cls in (Plain, Checked, Hooked, More):
        with pytest.raises(TypeError):
            builder(cls)

    @attrs.frozen
    class Fine(Fields):
        pass

    assert builder(Fine)(3) == Fine(x=3)


def test_dispatch_serves_subclasses_made_later() -> None:
    class Base:
        pass

    def handler(m: object, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
        return (
            Ticker(
                exchange="x", venue="x", symbol="A", native_symbol="a", exchange_time=None, received_at=at
            ),
        )

    dispatch = Dispatch({Base: handler})

    class Later(Base):
        pass

    assert len(dispatch(Later(), AT, Symbols.instrument())) == 1
    assert dispatch.handles(Later)
    assert not dispatch.handles(int)
    assert dispatch(3, AT, Symbols.instrument()) == ()


def test_items_hash_and_compare_without_their_source() -> None:
    a = Trade(
        exchange="x", venue="x", symbol="A-B", native_symbol="ab", side=BUY, price=D(1), amount=D(1),
        exchange_time=None, received_at=AT, source={"unhashable": []},
    )  # fmt: skip
    b = attrs.evolve(a, source=object())
    assert a == b
    assert hash(a) == hash(b)
    assert "unhashable" not in repr(a)
    assert Ticker(exchange="x", venue="x", symbol="A", native_symbol="a", bid=D(1), ask=D(2), exchange_time=None,
                  received_at=AT).mid == D("1.5")  # fmt: skip


# -- generated messages --------------------------------------------------------------------------

_NUMBER = (int, Decimal)


def _check_item(protocol: str, item: Normalized, message: Any) -> None:
    assert item.exchange == protocol
    assert item.received_at is AT
    assert item.source is message
    assert item.exchange_time is None or item.exchange_time.utcoffset() == timedelta(0)
    for f in attrs.fields(type(item)):
        value = getattr(item, f.name)
        if f.name in {"price", "amount", "filled", "remaining", "balance", "change", "fee", "cost"}:
            assert value is None or type(value) is Decimal, f.name
    if isinstance(item, BookSnapshot | BookUpdate):
        for level in item.bids + item.asks:
            assert all(type(x) is Decimal for x in level)
    symbol = getattr(item, "symbol", None)
    if symbol is not None:
        assert symbol == symbol.upper()


def _item_count(message: Any) -> int:
    """One item a message, one a list element for the messages that carry lists."""
    if isinstance(message, onyx.TickersEvent):
        return len(message.message)
    if isinstance(message, peatio.StreamMessage) and isinstance(message.data, peatio.PublicTrades):
        return len(message.data.trades)
    return 1


def _strategy(tp: Any) -> st.SearchStrategy[Any]:
    """Values of a generated model's field type: models are built straight, no JSON."""
    if isinstance(tp, typing.NewType):
        tp = tp.__supertype__
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Decimal:
        return st.decimals(
            allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9
        )
    if tp is datetime:
        return st.datetimes(timezones=st.just(UTC))
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(min_value=-(2**63), max_value=2**63 - 1)
    if tp is str:
        return st.text(max_size=12)
    if tp is type(None):
        return st.none()
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin in (types.UnionType, typing.Union):
        return st.one_of(*(_strategy(a) for a in args))
    if origin is list:
        return st.lists(_strategy(args[0]), max_size=5)
    if origin is tuple:
        return st.tuples(*(_strategy(a) for a in args))
    if origin is dict:
        if args[0] is str and args[1] is Decimal:  # a Cryptology book side: decimal-string prices
            return st.dictionaries(_strategy(Decimal).map(str), _strategy(Decimal), max_size=6)
        return st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)
    if attrs.has(tp):
        return _model(tp)
    raise TypeError(f"no strategy for {tp!r}")


def _model(cls: type[Any]) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    fields = {f.name: _strategy(hints[f.name]) for f in attrs.fields(cls) if not f.metadata.get("tag")}
    return st.builds(cls, **fields)


def _message(protocol: str, cls: type[Any]) -> st.SearchStrategy[Any]:
    if protocol == "peatio":
        market = st.sampled_from(["btcusd", "ethbtc", "foo", "x_y"])
        return st.builds(peatio.StreamMessage, stream=market.map(lambda m: m + ".stream"), data=_model(cls))
    return _model(cls)


def _generated_cases() -> list[tuple[str, type[Any]]]:
    out = []
    for protocol in PROTOCOLS:
        mod = MODULES[protocol]
        handled = tuple(mod.PAYLOAD_HANDLERS if protocol == "peatio" else mod.HANDLERS)
        for direction, name in message_defs(protocol):
            cls = getattr(module(protocol), name)
            if direction == "server" and issubclass(cls, handled):
                out.append((protocol, cls))
    return out


@pytest.mark.parametrize(("protocol", "cls"), _generated_cases(), ids=lambda v: getattr(v, "__name__", v))
def test_generated_messages_normalize_without_error(protocol: str, cls: type[Any]) -> None:
    """Any message of a mapped type gives well-formed items and never raises."""
    normalize = NORMALIZERS[protocol]

    @settings(max_examples=40, deadline=None, database=None)
    @given(_message(protocol, cls))
    def check(message: Any) -> None:
        items = normalize(message, AT, None)
        assert len(items) == _item_count(message)
        for item in items:
            _check_item(protocol, item, message)

    check()
