"""Trading gateway messages -> normalized items.

==========================  =====================================================================
message                     items
==========================  =====================================================================
``TradesMessage``           one :class:`Trade` (``side`` is the taker's, as the gateway says)
``OrderbookMessage``        one :class:`BookSnapshot` (the book at the subscribed depth)
``MarketDataMessage``       one :class:`Ticker` (last price, 24 h volume, high, low, bid, ask)
``OrdersMessage``           one :class:`OrderUpdate` (the order's full state; status table below)
``PositionsMessage``        one :class:`PositionUpdate` (the position's full state)
others                      nothing: replies, pings, close notices, ``system_events``, requests
==========================  =====================================================================

``venue`` is the message's ``exchange`` (``"binance"``); ``exchange`` is ``"gateway"``. Symbols:
``BTCUSDT`` -> ``BTC-USDT`` by the known-quote heuristic (:meth:`Symbols.concatenated`; a name
with a ``/``, ``-``, ``_`` or ``:`` is split there instead); pass ``known`` names to be sure.

Order ``status`` text (the document shows ``"partially_filled"`` only; the rest are the usual
names of the exchanges a gateway relays): ``new``/``open`` -> ``OPEN``, ``pending`` ->
``PENDING``, ``partially_filled`` -> ``PARTIALLY_FILLED``, ``filled``/``closed`` -> ``FILLED``,
``canceled``/``cancelled`` -> ``CANCELLED``, ``rejected`` -> ``REJECTED``, ``expired`` ->
``EXPIRED``; any other text -> ``UNKNOWN`` (kept open; the text is in ``source``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .._codecs import UnknownMessage
from ..models.gateway import (
    AuthenticatedEvent,
    AuthenticateRequest,
    CloseEvent,
    ErrorEvent,
    GatewayMessage,
    MarketDataMessage,
    OrderbookMessage,
    OrdersMessage,
    PingEvent,
    PongMessage,
    PositionsMessage,
    SubscribedEvent,
    SubscribeRequest,
    SystemEventsMessage,
    TradesMessage,
    UnsubscribedEvent,
    UnsubscribeRequest,
)
from ..normalized import (
    BookSnapshot,
    Normalized,
    OrderStatus,
    OrderUpdate,
    PositionSide,
    PositionUpdate,
    Side,
    SymbolMap,
    Symbols,
    Ticker,
    Trade,
)
from ._build import Dispatch, builder

__all__ = ["EXCHANGE", "HANDLERS", "IGNORED", "ORDER_STATUS", "normalize", "symbols"]

EXCHANGE = "gateway"

_SIDE = {"buy": Side.BUY, "sell": Side.SELL}
_POSITION_SIDE = {"long": PositionSide.LONG, "short": PositionSide.SHORT}
ORDER_STATUS: dict[str, OrderStatus] = {
    "new": OrderStatus.OPEN,
    "open": OrderStatus.OPEN,
    "pending": OrderStatus.PENDING,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
    "expired": OrderStatus.EXPIRED,
}
"""The gateway's order ``status`` texts (lower-cased) and their :class:`OrderStatus`."""

_trade = builder(Trade)
_book = builder(BookSnapshot)
_ticker = builder(Ticker)
_order = builder(OrderUpdate)
_position = builder(PositionUpdate)


def symbols(known: SymbolMap | None = None) -> Symbols:
    """The gateway's symbol rule (``BTCUSDT`` -> ``BTC-USDT``), with your ``known`` names first."""
    return Symbols.concatenated(known)


_SYMBOLS = symbols()


def normalize(
    message: GatewayMessage | UnknownMessage, received_at: datetime, symbols: Symbols | None = None
) -> tuple[Normalized, ...]:
    """The normalized items of one gateway message (none for control messages).

    Args:
        message: a decoded message.
        received_at: when its frame was received (aware UTC).
        symbols: the symbol rule (default: :func:`symbols` with no known names).
    """
    try:
        handler = _table[type(message)]
    except KeyError:
        handler = _resolve(type(message))
    return handler(message, received_at, _SYMBOLS if symbols is None else symbols)


def _trades(m: TradesMessage, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    t = m.data
    native = m.symbol
    return (
        _trade(
            EXCHANGE,  # exchange
            m.exchange,  # venue
            sym[native],  # symbol
            native,  # native_symbol
            _SIDE[t.side],  # side
            t.price,  # price
            t.amount,  # amount
            t.id,  # trade_id
            t.timestamp,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


def _orderbook(m: OrderbookMessage, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    b = m.data
    native = m.symbol
    return (
        _book(
            EXCHANGE,  # exchange
            m.exchange,  # venue
            sym[native],  # symbol
            native,  # native_symbol
            tuple(b.bids),  # bids
            tuple(b.asks),  # asks
            None,  # sequence
            b.timestamp,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


def _market_data(m: MarketDataMessage, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    t = m.data
    native = m.symbol
    return (
        _ticker(
            EXCHANGE,  # exchange
            m.exchange,  # venue
            sym[native],  # symbol
            native,  # native_symbol
            t.bid,  # bid
            None,  # bid_amount
            t.ask,  # ask
            None,  # ask_amount
            t.price,  # last
            t.volume,  # volume
            t.high,  # high
            t.low,  # low
            t.timestamp,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


def _orders(m: OrdersMessage, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    o = m.data
    native = o.symbol
    fee = o.fee
    return (
        _order(
            EXCHANGE,  # exchange
            o.exchange,  # venue
            sym[native],  # symbol
            native,  # native_symbol
            o.id,  # order_id
            None,  # client_order_id
            _SIDE[o.side],  # side
            ORDER_STATUS.get(o.status.lower(), OrderStatus.UNKNOWN),  # status
            o.type,  # order_type
            o.price,  # price
            o.amount,  # amount
            o.filled,  # filled
            o.remaining,  # remaining
            None,  # average_price: `cost` is the whole order's value (the document: amount 0.1 at
            # 42500.0, cost 4250.0, half filled), not the fills': no average price to derive
            fee.cost,  # fee
            fee.currency,  # fee_currency
            o.timestamp,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


def _positions(m: PositionsMessage, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    p = m.data
    native = p.symbol
    return (
        _position(
            EXCHANGE,  # exchange
            p.exchange,  # venue
            sym[native],  # symbol
            native,  # native_symbol
            _POSITION_SIDE[p.side],  # side
            p.amount,  # amount
            p.average_price,  # entry_price
            p.cost,  # cost
            p.unrealized_pnl,  # unrealized_pnl
            p.liquidation_price,  # liquidation_price
            p.type,  # position_type
            p.timestamp,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


HANDLERS: dict[type, Callable[..., tuple[Normalized, ...]]] = {
    TradesMessage: _trades,
    OrderbookMessage: _orderbook,
    MarketDataMessage: _market_data,
    OrdersMessage: _orders,
    PositionsMessage: _positions,
}
"""The messages that give items, and their mapping."""

IGNORED: tuple[type, ...] = (
    AuthenticatedEvent,
    ErrorEvent,
    SubscribedEvent,
    UnsubscribedEvent,
    PingEvent,
    CloseEvent,
    SystemEventsMessage,
    AuthenticateRequest,
    SubscribeRequest,
    UnsubscribeRequest,
    PongMessage,
    UnknownMessage,
)
"""Messages that give no items, on purpose: control messages and venue status events."""

_dispatch = Dispatch(HANDLERS, IGNORED)
_table, _resolve = _dispatch.table, _dispatch.resolve
