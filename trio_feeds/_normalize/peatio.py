"""Peatio Ranger messages -> normalized items.

A Ranger frame decodes to a ``StreamMessage`` (stream name + payload); the payload's class picks
the mapping:

=======================================  ===================================================
payload (stream)                         items
=======================================  ===================================================
``PublicTrades`` (``<market>.trades``)   one :class:`Trade` per trade (``taker_type`` side, or
                                         ``type`` before 2019-03)
``MarketUpdate`` (``<market>.update``)   one :class:`BookSnapshot` (the whole book)
``OrderBookSnapshot`` (``ob-snap``)      one :class:`BookSnapshot`, with its ``sequence``
``OrderBookIncrement`` (``ob-inc``)      one :class:`BookUpdate` (a level or a list of them;
                                         an amount of zero, or the engine's ``""``, removes
                                         the level)
``GlobalTickers`` (``global.tickers``)   one :class:`Ticker` per market (``buy``/``sell``
                                         as bid/ask, where the older form sends them; the
                                         base volume is the later form's ``amount``, whose
                                         ``volume`` is in the quote currency, else ``volume``)
``Order`` (``order``)                    one :class:`OrderUpdate` (status below)
``Trade`` (``trade``)                    one :class:`Fill` (your side: ``side``, else ``kind``)
``DepositAddress``, ``Success``,         nothing; nor do client requests and unknown streams
``Error``, ``KLine``                     (a k-line is a candle: no normalized type has it)
=======================================  ===================================================

Order ``state``: ``pending`` -> ``PENDING``, ``wait`` -> ``OPEN`` (``PARTIALLY_FILLED`` once
``executed_volume`` is above zero), ``done`` -> ``FILLED``, ``cancel`` -> ``CANCELLED``,
``reject`` -> ``REJECTED``. ``remaining`` is ``remaining_volume`` (older form: ``volume``);
``filled`` is ``executed_volume``, else ``origin_volume - remaining``; an ``avg_price`` of zero
(nothing executed yet) is ``None``; a ``done`` order that does not say has nothing remaining.
Times: orders ``updated_at``, else ``created_at``, else ``at``; trades ``created_at``, else
``date``/``at``; books carry none.

Symbols: ``btcusd`` -> ``BTC-USD`` by the known-quote heuristic (:meth:`Symbols.concatenated`);
pass ``known`` names (from the exchange's ``/markets``: each market's ``base_unit`` and
``quote_unit``) to be sure. Private ``order``/``trade`` frames name their market in
``market_id`` or ``market``; one naming neither has ``symbol`` ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from .._codecs import UnknownMessage
from .._codecs.peatio import Payload, StreamMessage
from ..models.peatio import (
    AuthRequest,
    DepositAddress,
    Error,
    GlobalTickers,
    IncrementLevel,
    MarketUpdate,
    Order,
    OrderBookIncrement,
    OrderBookSnapshot,
    PublicTrade,
    PublicTrades,
    SubscribeRequest,
    Success,
    Trade,
    UnsubscribeRequest,
)
from ..normalized import (
    BookSnapshot,
    BookUpdate,
    Fill,
    Level,
    Normalized,
    OrderStatus,
    OrderUpdate,
    Side,
    SymbolMap,
    Symbols,
    Ticker,
)
from ..normalized import Trade as NormalizedTrade
from ._build import NOTHING, builder

__all__ = ["EXCHANGE", "IGNORED", "IGNORED_PAYLOADS", "PAYLOAD_HANDLERS", "normalize", "symbols"]

EXCHANGE = "peatio"

_ZERO = Decimal(0)
_SIDE = {"buy": Side.BUY, "sell": Side.SELL, "bid": Side.BUY, "ask": Side.SELL}
_STATUS = {
    "pending": OrderStatus.PENDING,
    "wait": OrderStatus.OPEN,
    "done": OrderStatus.FILLED,
    "cancel": OrderStatus.CANCELLED,
    "reject": OrderStatus.REJECTED,
}

_trade = builder(NormalizedTrade)
_ticker = builder(Ticker)
_fill = builder(Fill)
_snapshot = builder(BookSnapshot)
_update = builder(BookUpdate)
_order = builder(OrderUpdate)


def symbols(known: SymbolMap | None = None) -> Symbols:
    """Peatio's symbol rule (``btcusd`` -> ``BTC-USD``), with your ``known`` names first."""
    return Symbols.concatenated(known)


_SYMBOLS = symbols()

Message = StreamMessage[Payload] | AuthRequest | SubscribeRequest | UnsubscribeRequest | UnknownMessage
"""What ``trio_feeds.peatio.decode`` gives."""


def normalize(
    message: Message, received_at: datetime, symbols: Symbols | None = None
) -> tuple[Normalized, ...]:
    """The normalized items of one Ranger message (none for replies and requests).

    Args:
        message: a decoded message.
        received_at: when its frame was received (aware UTC).
        symbols: the symbol rule (default: :func:`symbols` with no known names).
    """
    if not isinstance(message, StreamMessage):
        return NOTHING  # a client request, or an unknown stream
    data = message.data
    handler = _PAYLOADS.get(type(data), _no_items)
    return handler(message, data, received_at, _SYMBOLS if symbols is None else symbols)


_MARKETS: dict[str, str] = {}


def _market(m: StreamMessage[Any]) -> str:
    """The market of a public stream: ``"<market>.<kind>"`` (the codec matched it so)."""
    stream = m.stream
    try:
        return _MARKETS[stream]
    except KeyError:
        market = stream.partition(".")[0]
        if len(_MARKETS) < 4096:  # bounded: a server inventing stream names
            _MARKETS[stream] = market
        return market


# -- payload mappings: (stream message, its payload, received_at, symbols) -> items ------------


def _public_trades(
    m: StreamMessage[Any], data: PublicTrades, at: datetime, sym: Symbols
) -> tuple[Normalized, ...]:
    market = _market(m)
    common = sym[market]
    trades = data.trades
    if len(trades) == 1:  # the usual frame: no comprehension to run
        return (_public_trade(trades[0], market, common, at, m),)
    return tuple([_public_trade(t, market, common, at, m) for t in trades])


def _public_trade(
    t: PublicTrade, market: str, common: str, at: datetime, m: StreamMessage[Any]
) -> Normalized:
    return _trade(
        EXCHANGE,  # exchange
        EXCHANGE,  # venue
        common,  # symbol
        market,  # native_symbol
        _SIDE.get(t.taker_type or t.type or ""),  # side
        t.price,  # price
        t.amount,  # amount
        str(t.tid),  # trade_id
        t.created_at or t.date,  # exchange_time
        at,  # received_at
        m,  # source
    )


def _whole_book(
    m: StreamMessage[Any], data: MarketUpdate | OrderBookSnapshot, at: datetime, sym: Symbols
) -> tuple[Normalized, ...]:
    market = _market(m)
    return (
        _snapshot(
            EXCHANGE,  # exchange
            EXCHANGE,  # venue
            sym[market],  # symbol
            market,  # native_symbol
            tuple(data.bids),  # bids
            tuple(data.asks),  # asks
            getattr(data, "sequence", None),  # sequence (MarketUpdate has none)
            None,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


def _changed(levels: list[IncrementLevel] | IncrementLevel | None) -> tuple[Level, ...]:
    """An increment side as levels: absent, one ``[price, amount]``, or a list of them.

    The amount ``""`` (the engine's removal) is zero, as is a zero.
    """
    if not levels:
        return ()
    if isinstance(levels, tuple):  # one level, flat: [price, amount]
        price, amount = levels
        return ((price, amount or _ZERO),)
    return tuple((price, amount or _ZERO) for price, amount in levels)


def _tickers(
    m: StreamMessage[Any], data: GlobalTickers, at: datetime, sym: Symbols
) -> tuple[Normalized, ...]:
    return tuple(
        _ticker(
            EXCHANGE,  # exchange
            EXCHANGE,  # venue
            sym[market],  # symbol
            market,  # native_symbol
            t.buy,  # bid (older form only)
            None,  # bid_amount
            t.sell,  # ask (older form only)
            None,  # ask_amount
            t.last,  # last
            t.amount if t.amount is not None else t.volume,  # volume (base currency; see above)
            t.high,  # high
            t.low,  # low
            t.at,  # exchange_time
            at,  # received_at
            m,  # source
        )
        for market, t in data.items()
    )


def _increment(
    m: StreamMessage[Any], data: OrderBookIncrement, at: datetime, sym: Symbols
) -> tuple[Normalized, ...]:
    market = _market(m)
    return (
        _update(
            EXCHANGE,  # exchange
            EXCHANGE,  # venue
            sym[market],  # symbol
            market,  # native_symbol
            _changed(data.bids),  # bids
            _changed(data.asks),  # asks
            data.sequence,  # sequence
            None,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


def _order_update(m: StreamMessage[Any], o: Order, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    market = o.market_id or o.market
    remaining = o.remaining_volume if o.remaining_volume is not None else o.volume
    filled = o.executed_volume
    if filled is None and remaining is not None:
        filled = o.origin_volume - remaining
    status = _STATUS[o.state]
    if status is OrderStatus.OPEN and filled:
        status = OrderStatus.PARTIALLY_FILLED
    elif status is OrderStatus.FILLED and remaining is None:
        # The document's form says neither: "done" is executed in full.
        remaining = _ZERO
        if filled is None:
            filled = o.origin_volume
    side = o.side or o.kind
    return (
        _order(
            EXCHANGE,  # exchange
            EXCHANGE,  # venue
            None if market is None else sym[market],  # symbol
            market,  # native_symbol
            str(o.id),  # order_id
            None,  # client_order_id
            None if side is None else _SIDE[side],  # side
            status,  # status
            o.ord_type,  # order_type
            o.price,  # price
            o.origin_volume,  # amount
            filled,  # filled
            remaining,  # remaining
            o.avg_price or None,  # average_price (zero: nothing executed, no average yet)
            None,  # fee
            None,  # fee_currency
            o.updated_at or o.created_at or o.at,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


def _own_trade(m: StreamMessage[Any], t: Trade, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    market = t.market_id or t.market
    side_text = t.side or t.kind
    side = None if side_text is None else _SIDE[side_text]
    order_id = t.order_id
    if order_id is None and side is not None:
        order_id = t.bid_id if side is Side.BUY else t.ask_id
    taker = None if t.taker_type is None else _SIDE[t.taker_type]
    return (
        _fill(
            EXCHANGE,  # exchange
            EXCHANGE,  # venue
            None if market is None else sym[market],  # symbol
            market,  # native_symbol
            side,  # side
            t.price,  # price
            t.volume if t.volume is not None else t.amount,  # amount
            str(t.id),  # trade_id
            None if order_id is None else str(order_id),  # order_id
            None if taker is None or side is None else taker is not side,  # maker
            t.created_at or t.at,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


PAYLOAD_HANDLERS: dict[
    type, Callable[[StreamMessage[Any], Any, datetime, Symbols], tuple[Normalized, ...]]
] = {
    PublicTrades: _public_trades,
    MarketUpdate: _whole_book,
    OrderBookSnapshot: _whole_book,
    OrderBookIncrement: _increment,
    dict: _tickers,  # GlobalTickers, the one payload that is a map
    Order: _order_update,
    Trade: _own_trade,
}
"""The payloads that give items, and their mapping."""

IGNORED_PAYLOADS: tuple[type, ...] = (DepositAddress, Success, Error, tuple)
"""Payloads that give no items, on purpose (``tuple``: a ``KLine``, the one array payload)."""


def _no_items(m: StreamMessage[Any], data: object, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    return NOTHING


_PAYLOADS = {**dict.fromkeys(IGNORED_PAYLOADS, _no_items), **PAYLOAD_HANDLERS}


IGNORED: tuple[type, ...] = (AuthRequest, SubscribeRequest, UnsubscribeRequest, UnknownMessage)
"""Messages that give no items, on purpose (client requests, unknown streams)."""
