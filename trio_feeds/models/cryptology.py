# DO NOT EDIT: generated from schemas/cryptology.json by codegen/generate.py.
# Regenerate with `nox -s codegen`; CI fails when this file and the schema drift apart.
"""Typed models for the Cryptology protocol, generated from ``schemas/cryptology.json``."""

from __future__ import annotations

import attrs
from datetime import datetime
from decimal import Decimal
from typing import Literal, TypeAlias

from trio_feeds._types import MicrosTime, MillisTime

DecimalString: TypeAlias = Decimal


PriceLevels: TypeAlias = dict[str, DecimalString]


@attrs.define(kw_only=True)
class BuyOrderPlaced:
    """
    A buy order was received. `closed_inline` means it was fully executed at once: no further messages follow for this order. Match this class: a decoded message is one of its two wire forms, `BuyOrderPlacedMessage` (the documents' `_cls` form) or `BuyOrderPlacedV2` (the later `@type` form), both subclasses of it.
    """

    amount: DecimalString
    """
    The part of the order placed in the order book: what was left after instant execution.
    """
    closed_inline: bool
    order_id: int
    """
    Exchange order id.
    """
    price: DecimalString
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    initial_amount: DecimalString | None = None
    """
    The full order size (later protocol versions; `amount` is the part left for the book).
    """
    client_order_id: int | None = None
    """
    Client-chosen order id, echoed back (later protocol versions).
    """


@attrs.define(kw_only=True)
class BuyOrderPlacedMessage(BuyOrderPlaced):
    """
    `BuyOrderPlaced` in the documents' wire form: tag key `_cls`, value `BuyOrderPlacedMessage`.
    """

    type: Literal["BuyOrderPlacedMessage"] = attrs.field(
        default="BuyOrderPlacedMessage", metadata={"tag": True, "wire": "_cls"}
    )


@attrs.define(kw_only=True)
class BuyOrderPlacedV2(BuyOrderPlaced):
    """
    `BuyOrderPlaced` in the later wire form: tag key `@type`, value `BuyOrderPlaced`.
    """

    type: Literal["BuyOrderPlaced"] = attrs.field(
        default="BuyOrderPlaced", metadata={"tag": True, "wire": "@type"}
    )


@attrs.define(kw_only=True)
class BuyOrderAmountChanged:
    """
    A buy order was partially executed; `amount` is what is left. Match this class: a decoded message is one of its two wire forms, `BuyOrderAmountChangedMessage` (the documents' `_cls` form) or `BuyOrderAmountChangedV2` (the later `@type` form), both subclasses of it.
    """

    amount: DecimalString
    order_id: int
    """
    Exchange order id.
    """
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    fee: DecimalString | None = None
    """
    The fee of this execution (later protocol versions; the documents give no currency).
    """
    client_order_id: int | None = None
    """
    Client-chosen order id, echoed back (later protocol versions).
    """


@attrs.define(kw_only=True)
class BuyOrderAmountChangedMessage(BuyOrderAmountChanged):
    """
    `BuyOrderAmountChanged` in the documents' wire form: tag key `_cls`, value `BuyOrderAmountChanged`. (This one never had the `Message` suffix on the wire.)
    """

    type: Literal["BuyOrderAmountChanged"] = attrs.field(
        default="BuyOrderAmountChanged", metadata={"tag": True, "wire": "_cls"}
    )


@attrs.define(kw_only=True)
class BuyOrderAmountChangedV2(BuyOrderAmountChanged):
    """
    `BuyOrderAmountChanged` in the later wire form: tag key `@type`, value `BuyOrderAmountChanged`.
    """

    type: Literal["BuyOrderAmountChanged"] = attrs.field(
        default="BuyOrderAmountChanged", metadata={"tag": True, "wire": "@type"}
    )


@attrs.define(kw_only=True)
class BuyOrderCancelled:
    """
    A buy order was cancelled (manual, TTL, IOC, FOK); end of its lifecycle. Match this class: a decoded message is one of its two wire forms, `BuyOrderCancelledMessage` (the documents' `_cls` form) or `BuyOrderCancelledV2` (the later `@type` form), both subclasses of it.
    """

    order_id: int
    """
    Exchange order id.
    """
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    client_order_id: int | None = None
    """
    Client-chosen order id, echoed back (later protocol versions).
    """


@attrs.define(kw_only=True)
class BuyOrderCancelledMessage(BuyOrderCancelled):
    """
    `BuyOrderCancelled` in the documents' wire form: tag key `_cls`, value `BuyOrderCancelledMessage`.
    """

    type: Literal["BuyOrderCancelledMessage"] = attrs.field(
        default="BuyOrderCancelledMessage", metadata={"tag": True, "wire": "_cls"}
    )


@attrs.define(kw_only=True)
class BuyOrderCancelledV2(BuyOrderCancelled):
    """
    `BuyOrderCancelled` in the later wire form: tag key `@type`, value `BuyOrderCancelled`.
    """

    type: Literal["BuyOrderCancelled"] = attrs.field(
        default="BuyOrderCancelled", metadata={"tag": True, "wire": "@type"}
    )


@attrs.define(kw_only=True)
class BuyOrderClosed:
    """
    A buy order was fully executed; end of its lifecycle. Match this class: a decoded message is one of its two wire forms, `BuyOrderClosedMessage` (the documents' `_cls` form) or `BuyOrderClosedV2` (the later `@type` form), both subclasses of it.
    """

    order_id: int
    """
    Exchange order id.
    """
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    client_order_id: int | None = None
    """
    Client-chosen order id, echoed back (later protocol versions).
    """


@attrs.define(kw_only=True)
class BuyOrderClosedMessage(BuyOrderClosed):
    """
    `BuyOrderClosed` in the documents' wire form: tag key `_cls`, value `BuyOrderClosedMessage`.
    """

    type: Literal["BuyOrderClosedMessage"] = attrs.field(
        default="BuyOrderClosedMessage", metadata={"tag": True, "wire": "_cls"}
    )


@attrs.define(kw_only=True)
class BuyOrderClosedV2(BuyOrderClosed):
    """
    `BuyOrderClosed` in the later wire form: tag key `@type`, value `BuyOrderClosed`.
    """

    type: Literal["BuyOrderClosed"] = attrs.field(
        default="BuyOrderClosed", metadata={"tag": True, "wire": "@type"}
    )


@attrs.define(kw_only=True)
class SellOrderPlaced:
    """
    A sell order was received. `closed_inline` means it was fully executed at once: no further messages follow for this order. Match this class: a decoded message is one of its two wire forms, `SellOrderPlacedMessage` (the documents' `_cls` form) or `SellOrderPlacedV2` (the later `@type` form), both subclasses of it.
    """

    amount: DecimalString
    """
    The part of the order placed in the order book: what was left after instant execution.
    """
    closed_inline: bool
    order_id: int
    """
    Exchange order id.
    """
    price: DecimalString
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    initial_amount: DecimalString | None = None
    """
    The full order size (later protocol versions; `amount` is the part left for the book).
    """
    client_order_id: int | None = None
    """
    Client-chosen order id, echoed back (later protocol versions).
    """


@attrs.define(kw_only=True)
class SellOrderPlacedMessage(SellOrderPlaced):
    """
    `SellOrderPlaced` in the documents' wire form: tag key `_cls`, value `SellOrderPlacedMessage`.
    """

    type: Literal["SellOrderPlacedMessage"] = attrs.field(
        default="SellOrderPlacedMessage", metadata={"tag": True, "wire": "_cls"}
    )


@attrs.define(kw_only=True)
class SellOrderPlacedV2(SellOrderPlaced):
    """
    `SellOrderPlaced` in the later wire form: tag key `@type`, value `SellOrderPlaced`.
    """

    type: Literal["SellOrderPlaced"] = attrs.field(
        default="SellOrderPlaced", metadata={"tag": True, "wire": "@type"}
    )


@attrs.define(kw_only=True)
class SellOrderAmountChanged:
    """
    A sell order was partially executed; `amount` is what is left. Match this class: a decoded message is one of its two wire forms, `SellOrderAmountChangedMessage` (the documents' `_cls` form) or `SellOrderAmountChangedV2` (the later `@type` form), both subclasses of it.
    """

    amount: DecimalString
    order_id: int
    """
    Exchange order id.
    """
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    fee: DecimalString | None = None
    """
    The fee of this execution (later protocol versions; the documents give no currency).
    """
    client_order_id: int | None = None
    """
    Client-chosen order id, echoed back (later protocol versions).
    """


@attrs.define(kw_only=True)
class SellOrderAmountChangedMessage(SellOrderAmountChanged):
    """
    `SellOrderAmountChanged` in the documents' wire form: tag key `_cls`, value `SellOrderAmountChanged`. (This one never had the `Message` suffix on the wire.)
    """

    type: Literal["SellOrderAmountChanged"] = attrs.field(
        default="SellOrderAmountChanged", metadata={"tag": True, "wire": "_cls"}
    )


@attrs.define(kw_only=True)
class SellOrderAmountChangedV2(SellOrderAmountChanged):
    """
    `SellOrderAmountChanged` in the later wire form: tag key `@type`, value `SellOrderAmountChanged`.
    """

    type: Literal["SellOrderAmountChanged"] = attrs.field(
        default="SellOrderAmountChanged", metadata={"tag": True, "wire": "@type"}
    )


@attrs.define(kw_only=True)
class SellOrderCancelled:
    """
    A sell order was cancelled (manual, TTL, IOC, FOK); end of its lifecycle. Match this class: a decoded message is one of its two wire forms, `SellOrderCancelledMessage` (the documents' `_cls` form) or `SellOrderCancelledV2` (the later `@type` form), both subclasses of it.
    """

    order_id: int
    """
    Exchange order id.
    """
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    client_order_id: int | None = None
    """
    Client-chosen order id, echoed back (later protocol versions).
    """


@attrs.define(kw_only=True)
class SellOrderCancelledMessage(SellOrderCancelled):
    """
    `SellOrderCancelled` in the documents' wire form: tag key `_cls`, value `SellOrderCancelledMessage`.
    """

    type: Literal["SellOrderCancelledMessage"] = attrs.field(
        default="SellOrderCancelledMessage", metadata={"tag": True, "wire": "_cls"}
    )


@attrs.define(kw_only=True)
class SellOrderCancelledV2(SellOrderCancelled):
    """
    `SellOrderCancelled` in the later wire form: tag key `@type`, value `SellOrderCancelled`.
    """

    type: Literal["SellOrderCancelled"] = attrs.field(
        default="SellOrderCancelled", metadata={"tag": True, "wire": "@type"}
    )


@attrs.define(kw_only=True)
class SellOrderClosed:
    """
    A sell order was fully executed; end of its lifecycle. Match this class: a decoded message is one of its two wire forms, `SellOrderClosedMessage` (the documents' `_cls` form) or `SellOrderClosedV2` (the later `@type` form), both subclasses of it.
    """

    order_id: int
    """
    Exchange order id.
    """
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    client_order_id: int | None = None
    """
    Client-chosen order id, echoed back (later protocol versions).
    """


@attrs.define(kw_only=True)
class SellOrderClosedMessage(SellOrderClosed):
    """
    `SellOrderClosed` in the documents' wire form: tag key `_cls`, value `SellOrderClosedMessage`.
    """

    type: Literal["SellOrderClosedMessage"] = attrs.field(
        default="SellOrderClosedMessage", metadata={"tag": True, "wire": "_cls"}
    )


@attrs.define(kw_only=True)
class SellOrderClosedV2(SellOrderClosed):
    """
    `SellOrderClosed` in the later wire form: tag key `@type`, value `SellOrderClosed`.
    """

    type: Literal["SellOrderClosed"] = attrs.field(
        default="SellOrderClosed", metadata={"tag": True, "wire": "@type"}
    )


@attrs.define(kw_only=True)
class SetBalance:
    """
    Sets the account's new balance for a currency. Match this class: a decoded message is one of its two wire forms, `SetBalanceMessage` (the documents' `_cls` form) or `SetBalanceV2` (the later `@type` form), both subclasses of it.
    """

    balance: DecimalString
    change: DecimalString
    currency: str
    reason: str
    """
    Why the balance changed. The later documents list `trade` and `on_hold` (changes caused by trades), `transfer` (a deposit) and `withdraw` (a withdrawal); the first document's example says `aaaaa`, so any string is accepted.
    """
    time: MicrosTime


@attrs.define(kw_only=True)
class SetBalanceMessage(SetBalance):
    """
    `SetBalance` in the documents' wire form: tag key `_cls`, value `SetBalanceMessage`.
    """

    type: Literal["SetBalanceMessage"] = attrs.field(
        default="SetBalanceMessage", metadata={"tag": True, "wire": "_cls"}
    )


@attrs.define(kw_only=True)
class SetBalanceV2(SetBalance):
    """
    `SetBalance` in the later wire form: tag key `@type`, value `SetBalance`.
    """

    type: Literal["SetBalance"] = attrs.field(
        default="SetBalance", metadata={"tag": True, "wire": "@type"}
    )


@attrs.define(kw_only=True)
class AnonymousTrade:
    """
    A trade on the exchange with sensitive data removed. `maker_buy` tells whether the maker was the buyer; `current_order_id` (later form) is the order that caused it. `time` is exact in both forms: microseconds in the documents' form, milliseconds in the later one. Match this class: a decoded message is one of its two wire forms, `AnonymousTradeMessage` (the documents' `_cls` form) or `AnonymousTradeV2` (the later `@type` form), both subclasses of it.
    """

    amount: DecimalString
    maker_buy: bool
    price: DecimalString
    time: datetime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    current_order_id: int | None = None


@attrs.define(kw_only=True)
class AnonymousTradeMessage(AnonymousTrade):
    """
    `AnonymousTrade` in the documents' wire form: tag key `_cls`, value `AnonymousTradeMessage`. `time` carries microseconds, as in the server-messages document.
    """

    type: Literal["AnonymousTradeMessage"] = attrs.field(
        default="AnonymousTradeMessage", metadata={"tag": True, "wire": "_cls"}
    )
    time: MicrosTime


@attrs.define(kw_only=True)
class AnonymousTradeV2(AnonymousTrade):
    """
    `AnonymousTrade` in the later wire form: tag key `@type`, value `AnonymousTrade`. `time` carries **milliseconds**, as in the market-data document.
    """

    type: Literal["AnonymousTrade"] = attrs.field(
        default="AnonymousTrade", metadata={"tag": True, "wire": "@type"}
    )
    time: MillisTime


@attrs.define(kw_only=True)
class OrderBookAgg:
    """
    Aggregated order book of a trade pair (price -> volume per side), recalculated after each change: each one is the whole book of its pair. A side may be empty, or absent (the official client reads an absent side as empty; here it is `None`). `current_order_id` (later form) is the order that led to this state. Match this class: a decoded message is one of its two wire forms, `OrderBookAggMessage` (the documents' `_cls` form) or `OrderBookAggV2` (the later `@type` form), both subclasses of it.
    """

    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    buy_levels: PriceLevels | None = None
    """
    Bids: price -> volume; absent means none.
    """
    sell_levels: PriceLevels | None = None
    """
    Asks: price -> volume; absent means none.
    """
    current_order_id: int | None = None
    """
    The order that led to this state of the book (later form).
    """


@attrs.define(kw_only=True)
class OrderBookAggMessage(OrderBookAgg):
    """
    `OrderBookAgg` in the documents' wire form: tag key `_cls`, value `OrderBookAggMessage`.
    """

    type: Literal["OrderBookAggMessage"] = attrs.field(
        default="OrderBookAggMessage", metadata={"tag": True, "wire": "_cls"}
    )


@attrs.define(kw_only=True)
class OrderBookAggV2(OrderBookAgg):
    """
    `OrderBookAgg` in the later wire form: tag key `@type`, value `OrderBookAgg`.
    """

    type: Literal["OrderBookAgg"] = attrs.field(
        default="OrderBookAgg", metadata={"tag": True, "wire": "@type"}
    )


@attrs.define(kw_only=True)
class OwnTrade:
    """
    The account took part in a trade, on either side. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["OwnTrade"] = attrs.field(
        default="OwnTrade", metadata={"tag": True, "wire": "@type"}
    )
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    amount: DecimalString
    price: DecimalString
    maker: bool
    """
    The account was the maker.
    """
    maker_buy: bool
    """
    The maker side was buying.
    """
    order_id: int | None = None
    """
    Exchange id of the account's order in this trade.
    """
    client_order_id: int | None = None
    """
    Client-chosen id of the account's order in this trade.
    """


@attrs.define(kw_only=True)
class OrderNotFound:
    """
    An attempt to cancel an order that does not exist. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["OrderNotFound"] = attrs.field(
        default="OrderNotFound", metadata={"tag": True, "wire": "@type"}
    )
    order_id: int
    """
    Exchange order id.
    """


@attrs.define(kw_only=True)
class InsufficientFunds:
    """
    The account lacks the funds to place the order. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["InsufficientFunds"] = attrs.field(
        default="InsufficientFunds", metadata={"tag": True, "wire": "@type"}
    )
    order_id: int
    """
    Exchange order id.
    """
    currency: str


@attrs.define(kw_only=True)
class TransactionInfo:
    """
    Where a deposit or withdrawal went on its blockchain.
    """

    to_address: str
    """
    The receiving address.
    """
    blockchain_tx_ids: list[str]
    """
    Ids of the blockchain transactions.
    """


@attrs.define(kw_only=True)
class DepositTransactionAccepted:
    """
    A deposit to the account was accepted, with its blockchain transaction. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["DepositTransactionAccepted"] = attrs.field(
        default="DepositTransactionAccepted", metadata={"tag": True, "wire": "@type"}
    )
    currency: str
    """
    Currency, e.g. BTC.
    """
    amount: DecimalString
    transaction_info: TransactionInfo
    time: MicrosTime


@attrs.define(kw_only=True)
class WithdrawalTransactionAccepted:
    """
    A withdrawal from the account was accepted, with its blockchain transaction. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["WithdrawalTransactionAccepted"] = attrs.field(
        default="WithdrawalTransactionAccepted", metadata={"tag": True, "wire": "@type"}
    )
    currency: str
    """
    Currency, e.g. BTC.
    """
    amount: DecimalString
    transaction_info: TransactionInfo
    time: MicrosTime


@attrs.define(kw_only=True)
class TradesDisabledOnPairs:
    """
    Trading stopped on these trade pairs (a market-data broadcast, also sent on the account socket; known from the official client's code, which has no example). Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["TradesDisabledOnPairs"] = attrs.field(
        default="TradesDisabledOnPairs", metadata={"tag": True, "wire": "@type"}
    )
    trade_pairs: list[str]
    """
    The trade pairs, e.g. ["BTC_USD"].
    """


@attrs.define(kw_only=True)
class TradesEnabledOnPairs:
    """
    Trading resumed on these trade pairs (a market-data broadcast, also sent on the account socket; known from the official client's code, which has no example). Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["TradesEnabledOnPairs"] = attrs.field(
        default="TradesEnabledOnPairs", metadata={"tag": True, "wire": "@type"}
    )
    trade_pairs: list[str]
    """
    The trade pairs, e.g. ["BTC_USD"].
    """


@attrs.define(kw_only=True)
class UserOrder:
    """
    One active order of the account, in a `UserOrdersResponse`.
    """

    order_id: int
    """
    Exchange order id.
    """
    amount: DecimalString | int
    """
    A decimal string, or a JSON integer as in the RPC document's example (a fractional JSON number is refused: it could not be read exactly).
    """
    price: DecimalString | int
    """
    A decimal string, or a JSON integer as in the RPC document's example (a fractional JSON number is refused: it could not be read exactly).
    """
    client_order_id: int | None = None
    """
    Client-chosen order id.
    """


@attrs.define(kw_only=True)
class UserOrderBook:
    """
    The account's active orders on one trade pair.
    """

    buy: list[UserOrder]
    sell: list[UserOrder]


@attrs.define(kw_only=True)
class UserOrdersResponse:
    """
    RPC answer to `UserOrdersRequest`: every active order of the account, per trade pair. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["UserOrdersResponse"] = attrs.field(
        default="UserOrdersResponse", metadata={"tag": True, "wire": "@type"}
    )
    order_books: dict[str, UserOrderBook]
    """
    Trade pair -> its active orders.
    """


@attrs.define(kw_only=True)
class Balance:
    """
    The account's balance in one currency, in a `UserBalanceResponse`.
    """

    available: DecimalString
    """
    Free to use.
    """
    on_hold: DecimalString
    """
    Reserved by open orders.
    """


@attrs.define(kw_only=True)
class UserBalanceResponse:
    """
    RPC answer to `UserBalanceRequest`: the account's up-to-date balances. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["UserBalanceResponse"] = attrs.field(
        default="UserBalanceResponse", metadata={"tag": True, "wire": "@type"}
    )
    account_id: str
    """
    The account.
    """
    balances: dict[str, Balance]
    """
    Currency -> balance.
    """


@attrs.define(kw_only=True)
class PlaceBuyLimitOrder:
    """
    Place a limit order (bid). The official client's example sends no `client_order_id` or `ttl` for a fill-or-kill order, so both are optional. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["PlaceBuyLimitOrder"] = attrs.field(
        default="PlaceBuyLimitOrder", metadata={"tag": True, "wire": "@type"}
    )
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    amount: DecimalString
    price: DecimalString
    client_order_id: int | None = None
    """
    The client's id for the order, echoed in the server's order messages.
    """
    ttl: int | None = attrs.field(default=None, metadata={"minimum": 0})
    """
    Seconds the order is valid for (1-minute granularity); 0: forever.
    """


@attrs.define(kw_only=True)
class PlaceBuyFoKOrder:
    """
    Place a fill-or-kill order (bid). The official client's example sends no `client_order_id` or `ttl` for a fill-or-kill order, so both are optional. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["PlaceBuyFoKOrder"] = attrs.field(
        default="PlaceBuyFoKOrder", metadata={"tag": True, "wire": "@type"}
    )
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    amount: DecimalString
    price: DecimalString
    client_order_id: int | None = None
    """
    The client's id for the order, echoed in the server's order messages.
    """
    ttl: int | None = attrs.field(default=None, metadata={"minimum": 0})
    """
    Seconds the order is valid for (1-minute granularity); 0: forever.
    """


@attrs.define(kw_only=True)
class PlaceBuyIoCOrder:
    """
    Place an immediate-or-cancel order (bid). The official client's example sends no `client_order_id` or `ttl` for a fill-or-kill order, so both are optional. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["PlaceBuyIoCOrder"] = attrs.field(
        default="PlaceBuyIoCOrder", metadata={"tag": True, "wire": "@type"}
    )
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    amount: DecimalString
    price: DecimalString
    client_order_id: int | None = None
    """
    The client's id for the order, echoed in the server's order messages.
    """
    ttl: int | None = attrs.field(default=None, metadata={"minimum": 0})
    """
    Seconds the order is valid for (1-minute granularity); 0: forever.
    """


@attrs.define(kw_only=True)
class PlaceSellLimitOrder:
    """
    Place a limit order (ask). The official client's example sends no `client_order_id` or `ttl` for a fill-or-kill order, so both are optional. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["PlaceSellLimitOrder"] = attrs.field(
        default="PlaceSellLimitOrder", metadata={"tag": True, "wire": "@type"}
    )
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    amount: DecimalString
    price: DecimalString
    client_order_id: int | None = None
    """
    The client's id for the order, echoed in the server's order messages.
    """
    ttl: int | None = attrs.field(default=None, metadata={"minimum": 0})
    """
    Seconds the order is valid for (1-minute granularity); 0: forever.
    """


@attrs.define(kw_only=True)
class PlaceSellFoKOrder:
    """
    Place a fill-or-kill order (ask). The official client's example sends no `client_order_id` or `ttl` for a fill-or-kill order, so both are optional. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["PlaceSellFoKOrder"] = attrs.field(
        default="PlaceSellFoKOrder", metadata={"tag": True, "wire": "@type"}
    )
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    amount: DecimalString
    price: DecimalString
    client_order_id: int | None = None
    """
    The client's id for the order, echoed in the server's order messages.
    """
    ttl: int | None = attrs.field(default=None, metadata={"minimum": 0})
    """
    Seconds the order is valid for (1-minute granularity); 0: forever.
    """


@attrs.define(kw_only=True)
class PlaceSellIoCOrder:
    """
    Place an immediate-or-cancel order (ask). The official client's example sends no `client_order_id` or `ttl` for a fill-or-kill order, so both are optional. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["PlaceSellIoCOrder"] = attrs.field(
        default="PlaceSellIoCOrder", metadata={"tag": True, "wire": "@type"}
    )
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    amount: DecimalString
    price: DecimalString
    client_order_id: int | None = None
    """
    The client's id for the order, echoed in the server's order messages.
    """
    ttl: int | None = attrs.field(default=None, metadata={"minimum": 0})
    """
    Seconds the order is valid for (1-minute granularity); 0: forever.
    """


@attrs.define(kw_only=True)
class CancelOrder:
    """
    Cancel one order. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["CancelOrder"] = attrs.field(
        default="CancelOrder", metadata={"tag": True, "wire": "@type"}
    )
    order_id: int
    """
    Exchange order id.
    """


@attrs.define(kw_only=True)
class CancelAllOrders:
    """
    Cancel every active order of the account. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["CancelAllOrders"] = attrs.field(
        default="CancelAllOrders", metadata={"tag": True, "wire": "@type"}
    )


@attrs.define(kw_only=True)
class UserOrdersRequest:
    """
    RPC request for every active order of the account. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["UserOrdersRequest"] = attrs.field(
        default="UserOrdersRequest", metadata={"tag": True, "wire": "@type"}
    )


@attrs.define(kw_only=True)
class UserBalanceRequest:
    """
    RPC request for the account's balances. Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["UserBalanceRequest"] = attrs.field(
        default="UserBalanceRequest", metadata={"tag": True, "wire": "@type"}
    )


@attrs.define(kw_only=True)
class TriggerCryptoTransferRequest:
    """
    RPC request to transfer crypto currency (in the official client's README and example only; no document describes it or its answer). Sent only in the later wire form (tag key `@type`).
    """

    type: Literal["TriggerCryptoTransferRequest"] = attrs.field(
        default="TriggerCryptoTransferRequest", metadata={"tag": True, "wire": "@type"}
    )
    currency: str
    """
    Currency, e.g. BTC.
    """
    amount: DecimalString


ServerMessage: TypeAlias = BuyOrderPlacedMessage | BuyOrderPlacedV2 | BuyOrderAmountChangedMessage | BuyOrderAmountChangedV2 | BuyOrderCancelledMessage | BuyOrderCancelledV2 | BuyOrderClosedMessage | BuyOrderClosedV2 | SellOrderPlacedMessage | SellOrderPlacedV2 | SellOrderAmountChangedMessage | SellOrderAmountChangedV2 | SellOrderCancelledMessage | SellOrderCancelledV2 | SellOrderClosedMessage | SellOrderClosedV2 | SetBalanceMessage | SetBalanceV2 | AnonymousTradeMessage | AnonymousTradeV2 | OrderBookAggMessage | OrderBookAggV2 | OwnTrade | OrderNotFound | InsufficientFunds | DepositTransactionAccepted | WithdrawalTransactionAccepted | TradesDisabledOnPairs | TradesEnabledOnPairs | UserOrdersResponse | UserBalanceResponse


ClientMessage: TypeAlias = PlaceBuyLimitOrder | PlaceBuyFoKOrder | PlaceBuyIoCOrder | PlaceSellLimitOrder | PlaceSellFoKOrder | PlaceSellIoCOrder | CancelOrder | CancelAllOrders | UserOrdersRequest | UserBalanceRequest | TriggerCryptoTransferRequest


Cryptology: TypeAlias = ServerMessage | ClientMessage
"""
Cryptology exchange messages, tagged by `_cls` (the first documents' form, names ending in `Message`) or `@type` (the later documents' form, no suffix). Each message sent in both forms is one concept (`BuyOrderPlaced`) with its fields, and one def per wire form (`BuyOrderPlacedMessage`, `BuyOrderPlacedV2`) that adds the tag by `allOf`; a message sent only in the later form is one def with its `@type`. Server messages: order lifecycle, wallet and trades of the account (docs/server_messages.rst), market data (docs/market_data_protocol.rst, plus `TradesDisabledOnPairs`/`TradesEnabledOnPairs` of the client code) and RPC responses (docs/RPC.rst). Client messages: orders and cancellations (docs/client_messages.rst) and RPC requests (docs/RPC.rst, README.rst). On the real market-data WebSocket each server message is the JSON text inside a binary XDR frame (a 4-byte version frame first, then message type 4, broadcast, and an XDR string); the account socket encrypts its frames. This schema describes the JSON only.
"""
