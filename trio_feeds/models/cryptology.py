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
    Aggregated order book of a trade pair, recalculated after each change. Either side may be empty. `current_order_id` (later form) is the order that led to this state. Match this class: a decoded message is one of its two wire forms, `OrderBookAggMessage` (the documents' `_cls` form) or `OrderBookAggV2` (the later `@type` form), both subclasses of it.
    """

    buy_levels: PriceLevels
    sell_levels: PriceLevels
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    current_order_id: int | None = None


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
    maker_buy: bool


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


ServerMessage: TypeAlias = BuyOrderPlacedMessage | BuyOrderPlacedV2 | BuyOrderAmountChangedMessage | BuyOrderAmountChangedV2 | BuyOrderCancelledMessage | BuyOrderCancelledV2 | BuyOrderClosedMessage | BuyOrderClosedV2 | SellOrderPlacedMessage | SellOrderPlacedV2 | SellOrderAmountChangedMessage | SellOrderAmountChangedV2 | SellOrderCancelledMessage | SellOrderCancelledV2 | SellOrderClosedMessage | SellOrderClosedV2 | SetBalanceMessage | SetBalanceV2 | AnonymousTradeMessage | AnonymousTradeV2 | OrderBookAggMessage | OrderBookAggV2 | OwnTrade | OrderNotFound | InsufficientFunds


Cryptology: TypeAlias = ServerMessage
"""
Cryptology exchange server messages, tagged by `_cls` (the documents' form, names ending in `Message`) or `@type` (later form). Each message is one concept (`BuyOrderPlaced`) with its fields, and one def per wire form (`BuyOrderPlacedMessage`, `BuyOrderPlacedV2`) that adds the tag by `allOf`. Market data is a plain JSON websocket; the client sends nothing on it, so there are no client messages.
"""
