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

__all__ = ["EXCHANGE", "IGNORED", "ORDER_STATUS", "dispatch", "normalize", "symbols"]

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
    return dispatch(message, received_at, symbols or _SYMBOLS)


def _trades(m: TradesMessage, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    t = m.data
    native = m.symbol
    return (
        _trade(
            exchange=EXCHANGE,
            venue=m.exchange,
            symbol=sym(native),
            native_symbol=native,
            side=_SIDE[t.side],
            price=t.price,
            amount=t.amount,
            trade_id=t.id,
            exchange_time=t.timestamp,
            received_at=at,
            source=m,
        ),
    )


def _orderbook(m: OrderbookMessage, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    b = m.data
    native = m.symbol
    return (
        _book(
            exchange=EXCHANGE,
            venue=m.exchange,
            symbol=sym(native),
            native_symbol=native,
            bids=tuple(b.bids),
            asks=tuple(b.asks),
            exchange_time=b.timestamp,
            received_at=at,
            source=m,
        ),
    )


def _market_data(m: MarketDataMessage, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    t = m.data
    native = m.symbol
    return (
        _ticker(
            exchange=EXCHANGE,
            venue=m.exchange,
            symbol=sym(native),
            native_symbol=native,
            bid=t.bid,
            ask=t.ask,
            last=t.price,
            volume=t.volume,
            high=t.high,
            low=t.low,
            exchange_time=t.timestamp,
            received_at=at,
            source=m,
        ),
    )


def _orders(m: OrdersMessage, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    o = m.data
    native = o.symbol
    fee = o.fee
    return (
        _order(
            exchange=EXCHANGE,
            venue=o.exchange,
            symbol=sym(native),
            native_symbol=native,
            order_id=o.id,
            side=_SIDE[o.side],
            status=ORDER_STATUS.get(o.status.lower(), OrderStatus.UNKNOWN),
            order_type=o.type,
            price=o.price,
            amount=o.amount,
            filled=o.filled,
            remaining=o.remaining,
            # No average price: `cost` is the whole order's value (the document's example has
            # amount 0.1 at 42500.0 and cost 4250.0 with half of it filled), not the fills'.
            fee=fee.cost,
            fee_currency=fee.currency,
            exchange_time=o.timestamp,
            received_at=at,
            source=m,
        ),
    )


def _positions(m: PositionsMessage, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    p = m.data
    native = p.symbol
    return (
        _position(
            exchange=EXCHANGE,
            venue=p.exchange,
            symbol=sym(native),
            native_symbol=native,
            side=_POSITION_SIDE[p.side],
            amount=p.amount,
            entry_price=p.average_price,
            cost=p.cost,
            unrealized_pnl=p.unrealized_pnl,
            liquidation_price=p.liquidation_price,
            position_type=p.type,
            exchange_time=p.timestamp,
            received_at=at,
            source=m,
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

dispatch = Dispatch(HANDLERS, IGNORED)
"""``dispatch(message, received_at, symbols)``: :func:`normalize` without the defaults."""
