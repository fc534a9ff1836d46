"""Cryptology messages -> normalized items.

=============================================  ==============================================
message (either wire form)                     items
=============================================  ==============================================
``AnonymousTrade``                             one :class:`Trade`; taker side from ``maker_buy``
``OrderBookAgg``                               one :class:`BookSnapshot` (the whole book)
``OwnTrade``                                   one :class:`Fill` (``order_id`` when the later
                                               documents' field is there)
``Buy/SellOrderPlaced``                        :class:`OrderUpdate` ``OPEN`` (``FILLED`` when
                                               ``closed_inline``); ``remaining`` = the
                                               message's ``amount``, the part put on the book;
                                               with ``initial_amount`` (later documents)
                                               ``amount`` = it and ``filled`` = the rest
``Buy/SellOrderAmountChanged``                 :class:`OrderUpdate` ``PARTIALLY_FILLED``,
                                               ``remaining`` = the message's ``amount``
``Buy/SellOrderCancelled``                     :class:`OrderUpdate` ``CANCELLED``
``Buy/SellOrderClosed``                        :class:`OrderUpdate` ``FILLED``, nothing remaining
``InsufficientFunds``                          :class:`OrderUpdate` ``REJECTED`` (no market: the
                                               message names none)
``SetBalance``                                 one :class:`BalanceUpdate`
``OrderNotFound``, unknown messages            nothing (a reply to a cancel request; it changes
                                               no order we could hold)
``Deposit/WithdrawalTransactionAccepted``      nothing: the ``SetBalance`` that goes with it
                                               (reason ``transfer`` / ``withdraw``) carries the
                                               balance; mapping both would count it twice
``TradesDisabled/EnabledOnPairs``              nothing (a market's trading state, no item has it)
RPC answers, client messages                   nothing (the account socket's requests and
                                               answers; this library has no account feed)
=============================================  ==============================================

``Buy/SellOrderAmountChanged.fee`` is not mapped: the documents do not say whether it is this
execution's fee or the order's so far, nor its currency; it stays on the source message.

Symbols: ``BTC_USD`` -> ``BTC-USD`` (:meth:`Symbols.separated`). Times are the messages' own.
Cryptology has no ticker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from .._codecs import UnknownMessage
from ..models.cryptology import (
    AnonymousTrade,
    BuyOrderAmountChanged,
    BuyOrderCancelled,
    BuyOrderClosed,
    BuyOrderPlaced,
    CancelAllOrders,
    CancelOrder,
    DepositTransactionAccepted,
    InsufficientFunds,
    OrderBookAgg,
    OrderNotFound,
    OwnTrade,
    PlaceBuyFoKOrder,
    PlaceBuyIoCOrder,
    PlaceBuyLimitOrder,
    PlaceSellFoKOrder,
    PlaceSellIoCOrder,
    PlaceSellLimitOrder,
    SellOrderAmountChanged,
    SellOrderCancelled,
    SellOrderClosed,
    SellOrderPlaced,
    ServerMessage,
    SetBalance,
    TradesDisabledOnPairs,
    TradesEnabledOnPairs,
    TriggerCryptoTransferRequest,
    UserBalanceRequest,
    UserBalanceResponse,
    UserOrdersRequest,
    UserOrdersResponse,
    WithdrawalTransactionAccepted,
)
from ..normalized import (
    BalanceUpdate,
    BookSnapshot,
    Fill,
    Normalized,
    OrderStatus,
    OrderUpdate,
    Side,
    SymbolMap,
    Symbols,
    Trade,
)
from ._build import Dispatch, Handler, builder, sorted_levels

__all__ = ["EXCHANGE", "HANDLERS", "IGNORED", "normalize", "symbols"]

EXCHANGE = "cryptology"

_ZERO = Decimal(0)
_BUY, _SELL = Side.BUY, Side.SELL
_trade = builder(Trade)
_fill = builder(Fill)
_book = builder(BookSnapshot)
_order = builder(OrderUpdate)
_balance = builder(BalanceUpdate)


def symbols(known: SymbolMap | None = None) -> Symbols:
    """Cryptology's symbol rule (``BTC_USD`` -> ``BTC-USD``), with your ``known`` names first."""
    return Symbols.separated("_", known)


_SYMBOLS = symbols()


def normalize(
    message: ServerMessage | UnknownMessage, received_at: datetime, symbols: Symbols | None = None
) -> tuple[Normalized, ...]:
    """The normalized items of one Cryptology message (none for control messages).

    Args:
        message: a decoded message (either wire form).
        received_at: when its frame was received (aware UTC).
        symbols: the symbol rule (default: :func:`symbols` with no known names).

    Raises:
        trio_feeds.DecodeError: an ``OrderBookAgg`` price key that is no decimal number.
    """
    try:
        handler = _table[type(message)]
    except KeyError:
        handler = _resolve(type(message))
    return handler(message, received_at, _SYMBOLS if symbols is None else symbols)


def _anonymous_trade(m: AnonymousTrade, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    pair = m.trade_pair
    return (
        _trade(
            EXCHANGE,  # exchange
            EXCHANGE,  # venue
            sym[pair],  # symbol
            pair,  # native_symbol
            _SELL if m.maker_buy else _BUY,  # side: maker_buy, the resting order bought: the taker sold
            m.price,  # price
            m.amount,  # amount
            None,  # trade_id
            m.time,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


def _own_trade(m: OwnTrade, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    pair = m.trade_pair
    # We were the buyer when we were the maker and the maker bought, or the taker and it sold.
    bought = m.maker_buy if m.maker else not m.maker_buy
    return (
        _fill(
            EXCHANGE,  # exchange
            EXCHANGE,  # venue
            sym[pair],  # symbol
            pair,  # native_symbol
            _BUY if bought else _SELL,  # side
            m.price,  # price
            m.amount,  # amount
            None,  # trade_id
            None if m.order_id is None else str(m.order_id),  # order_id (later documents)
            m.maker,  # maker
            m.time,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


def _order_book(m: OrderBookAgg, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    pair = m.trade_pair
    tag = type(m).__name__
    return (
        _book(
            EXCHANGE,  # exchange
            EXCHANGE,  # venue
            sym[pair],  # symbol
            pair,  # native_symbol
            # A JSON object has no order: sorted, so the snapshot is best first like the others.
            sorted_levels(EXCHANGE, tag, "$.buy_levels", m.buy_levels, descending=True),  # bids
            sorted_levels(EXCHANGE, tag, "$.sell_levels", m.sell_levels, descending=False),  # asks
            None,  # sequence
            None,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


def _placed(side: Side) -> Handler:
    def handler(m: BuyOrderPlaced | SellOrderPlaced, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
        pair = m.trade_pair
        inline = m.closed_inline  # executed in full at once: the end of its lifecycle
        size = m.initial_amount  # the full order size (later documents), else not said
        return (
            _order(
                EXCHANGE,  # exchange
                EXCHANGE,  # venue
                sym[pair],  # symbol
                pair,  # native_symbol
                str(m.order_id),  # order_id
                None if m.client_order_id is None else str(m.client_order_id),  # client_order_id
                side,  # side
                OrderStatus.FILLED if inline else OrderStatus.OPEN,  # status
                None,  # order_type
                m.price,  # price
                # The message's amount is what went on the book, after any instant execution
                # (the later documents); initial_amount, when there, is the full size.
                size,  # amount
                None if size is None else size if inline else size - m.amount,  # filled
                _ZERO if inline else m.amount,  # remaining
                None,  # average_price
                None,  # fee
                None,  # fee_currency
                m.time,  # exchange_time
                at,  # received_at
                m,  # source
            ),
        )

    return handler


def _amount_changed(side: Side) -> Handler:
    def handler(
        m: BuyOrderAmountChanged | SellOrderAmountChanged, at: datetime, sym: Symbols
    ) -> tuple[Normalized, ...]:
        pair = m.trade_pair
        return (
            _order(
                EXCHANGE,  # exchange
                EXCHANGE,  # venue
                sym[pair],  # symbol
                pair,  # native_symbol
                str(m.order_id),  # order_id
                None if m.client_order_id is None else str(m.client_order_id),  # client_order_id
                side,  # side
                OrderStatus.PARTIALLY_FILLED,  # status
                None,  # order_type
                None,  # price
                None,  # amount
                None,  # filled
                m.amount,  # remaining: "sets new amount", what is left of the order
                None,  # average_price
                None,  # fee
                None,  # fee_currency
                m.time,  # exchange_time
                at,  # received_at
                m,  # source
            ),
        )

    return handler


def _ended(side: Side, status: OrderStatus) -> Handler:
    remaining = _ZERO if status is OrderStatus.FILLED else None

    def handler(
        m: BuyOrderCancelled | SellOrderCancelled | BuyOrderClosed | SellOrderClosed,
        at: datetime,
        sym: Symbols,
    ) -> tuple[Normalized, ...]:
        pair = m.trade_pair
        return (
            _order(
                EXCHANGE,  # exchange
                EXCHANGE,  # venue
                sym[pair],  # symbol
                pair,  # native_symbol
                str(m.order_id),  # order_id
                None if m.client_order_id is None else str(m.client_order_id),  # client_order_id
                side,  # side
                status,  # status
                None,  # order_type
                None,  # price
                None,  # amount
                None,  # filled
                remaining,  # remaining
                None,  # average_price
                None,  # fee
                None,  # fee_currency
                m.time,  # exchange_time
                at,  # received_at
                m,  # source
            ),
        )

    return handler


def _insufficient_funds(m: InsufficientFunds, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    return (
        _order(
            EXCHANGE,  # exchange
            EXCHANGE,  # venue
            None,  # symbol
            None,  # native_symbol
            str(m.order_id),  # order_id
            None,  # client_order_id
            None,  # side
            OrderStatus.REJECTED,  # status
            None,  # order_type
            None,  # price
            None,  # amount
            None,  # filled
            None,  # remaining
            None,  # average_price
            None,  # fee
            None,  # fee_currency
            None,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


def _set_balance(m: SetBalance, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    return (
        _balance(
            EXCHANGE,  # exchange
            EXCHANGE,  # venue
            m.currency.upper(),  # currency
            m.currency,  # native_currency
            m.balance,  # balance
            None,  # available
            None,  # on_hold
            m.change,  # change
            m.reason,  # reason
            m.time,  # exchange_time
            at,  # received_at
            m,  # source
        ),
    )


HANDLERS: dict[type, Callable[..., tuple[Normalized, ...]]] = {
    AnonymousTrade: _anonymous_trade,
    OwnTrade: _own_trade,
    OrderBookAgg: _order_book,
    BuyOrderPlaced: _placed(_BUY),
    SellOrderPlaced: _placed(_SELL),
    BuyOrderAmountChanged: _amount_changed(_BUY),
    SellOrderAmountChanged: _amount_changed(_SELL),
    BuyOrderCancelled: _ended(_BUY, OrderStatus.CANCELLED),
    SellOrderCancelled: _ended(_SELL, OrderStatus.CANCELLED),
    BuyOrderClosed: _ended(_BUY, OrderStatus.FILLED),
    SellOrderClosed: _ended(_SELL, OrderStatus.FILLED),
    InsufficientFunds: _insufficient_funds,
    SetBalance: _set_balance,
}
"""The concept classes that give items (each serves both its wire forms), and their mapping."""

IGNORED: tuple[type, ...] = (
    OrderNotFound,
    UnknownMessage,
    DepositTransactionAccepted,
    WithdrawalTransactionAccepted,
    TradesDisabledOnPairs,
    TradesEnabledOnPairs,
    UserOrdersResponse,
    UserBalanceResponse,
    PlaceBuyLimitOrder,
    PlaceBuyFoKOrder,
    PlaceBuyIoCOrder,
    PlaceSellLimitOrder,
    PlaceSellFoKOrder,
    PlaceSellIoCOrder,
    CancelOrder,
    CancelAllOrders,
    UserOrdersRequest,
    UserBalanceRequest,
    TriggerCryptoTransferRequest,
)
"""Messages that give no items, on purpose (see the module docstring)."""

_dispatch = Dispatch(HANDLERS, IGNORED)
_table, _resolve = _dispatch.table, _dispatch.resolve
