# DO NOT EDIT: generated from schemas/cryptology.json by codegen/generate.py.
# Regenerate with `nox -s codegen`; CI fails when this file and the schema drift apart.
"""Typed models for the Cryptology protocol, generated from ``schemas/cryptology.json``."""

from __future__ import annotations

import attrs
from decimal import Decimal
from typing import Literal, TypeAlias

from trio_feeds._types import MicrosTime, MillisTime

DecimalString: TypeAlias = Decimal


PriceLevels: TypeAlias = dict[str, DecimalString]


@attrs.define(kw_only=True)
class BuyOrderPlacedMessage:
    """
    A buy order was received. `closed_inline` means it was fully executed at once: no further messages follow for this order. Legacy wire form: tag key `_cls`, name with the `Message` suffix.
    """

    type: Literal["BuyOrderPlacedMessage"] = attrs.field(
        default="BuyOrderPlacedMessage", metadata={"tag": True, "wire": "_cls"}
    )
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


@attrs.define(kw_only=True)
class BuyOrderAmountChangedMessage:
    """
    A buy order was partially executed; `amount` is what is left. Legacy wire form: tag key `_cls`, name with the `Message` suffix. (This one never had the `Message` suffix on the wire.)
    """

    type: Literal["BuyOrderAmountChanged"] = attrs.field(
        default="BuyOrderAmountChanged", metadata={"tag": True, "wire": "_cls"}
    )
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


@attrs.define(kw_only=True)
class BuyOrderCancelledMessage:
    """
    A buy order was cancelled (manual, TTL, IOC, FOK); end of its lifecycle. Legacy wire form: tag key `_cls`, name with the `Message` suffix.
    """

    type: Literal["BuyOrderCancelledMessage"] = attrs.field(
        default="BuyOrderCancelledMessage", metadata={"tag": True, "wire": "_cls"}
    )
    order_id: int
    """
    Exchange order id.
    """
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """


@attrs.define(kw_only=True)
class BuyOrderClosedMessage:
    """
    A buy order was fully executed; end of its lifecycle. Legacy wire form: tag key `_cls`, name with the `Message` suffix.
    """

    type: Literal["BuyOrderClosedMessage"] = attrs.field(
        default="BuyOrderClosedMessage", metadata={"tag": True, "wire": "_cls"}
    )
    order_id: int
    """
    Exchange order id.
    """
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """


@attrs.define(kw_only=True)
class BuyOrderPlaced:
    """
    A buy order was received. `closed_inline` means it was fully executed at once: no further messages follow for this order. Later wire form: tag key `@type`.
    """

    type: Literal["BuyOrderPlaced"] = attrs.field(
        default="BuyOrderPlaced", metadata={"tag": True, "wire": "@type"}
    )
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
class BuyOrderAmountChanged:
    """
    A buy order was partially executed; `amount` is what is left. Later wire form: tag key `@type`.
    """

    type: Literal["BuyOrderAmountChanged"] = attrs.field(
        default="BuyOrderAmountChanged", metadata={"tag": True, "wire": "@type"}
    )
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
class BuyOrderCancelled:
    """
    A buy order was cancelled (manual, TTL, IOC, FOK); end of its lifecycle. Later wire form: tag key `@type`.
    """

    type: Literal["BuyOrderCancelled"] = attrs.field(
        default="BuyOrderCancelled", metadata={"tag": True, "wire": "@type"}
    )
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
class BuyOrderClosed:
    """
    A buy order was fully executed; end of its lifecycle. Later wire form: tag key `@type`.
    """

    type: Literal["BuyOrderClosed"] = attrs.field(
        default="BuyOrderClosed", metadata={"tag": True, "wire": "@type"}
    )
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
class SellOrderPlacedMessage:
    """
    A sell order was received. `closed_inline` means it was fully executed at once: no further messages follow for this order. Legacy wire form: tag key `_cls`, name with the `Message` suffix.
    """

    type: Literal["SellOrderPlacedMessage"] = attrs.field(
        default="SellOrderPlacedMessage", metadata={"tag": True, "wire": "_cls"}
    )
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


@attrs.define(kw_only=True)
class SellOrderAmountChangedMessage:
    """
    A sell order was partially executed; `amount` is what is left. Legacy wire form: tag key `_cls`, name with the `Message` suffix. (This one never had the `Message` suffix on the wire.)
    """

    type: Literal["SellOrderAmountChanged"] = attrs.field(
        default="SellOrderAmountChanged", metadata={"tag": True, "wire": "_cls"}
    )
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


@attrs.define(kw_only=True)
class SellOrderCancelledMessage:
    """
    A sell order was cancelled (manual, TTL, IOC, FOK); end of its lifecycle. Legacy wire form: tag key `_cls`, name with the `Message` suffix.
    """

    type: Literal["SellOrderCancelledMessage"] = attrs.field(
        default="SellOrderCancelledMessage", metadata={"tag": True, "wire": "_cls"}
    )
    order_id: int
    """
    Exchange order id.
    """
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """


@attrs.define(kw_only=True)
class SellOrderClosedMessage:
    """
    A sell order was fully executed; end of its lifecycle. Legacy wire form: tag key `_cls`, name with the `Message` suffix.
    """

    type: Literal["SellOrderClosedMessage"] = attrs.field(
        default="SellOrderClosedMessage", metadata={"tag": True, "wire": "_cls"}
    )
    order_id: int
    """
    Exchange order id.
    """
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """


@attrs.define(kw_only=True)
class SellOrderPlaced:
    """
    A sell order was received. `closed_inline` means it was fully executed at once: no further messages follow for this order. Later wire form: tag key `@type`.
    """

    type: Literal["SellOrderPlaced"] = attrs.field(
        default="SellOrderPlaced", metadata={"tag": True, "wire": "@type"}
    )
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
class SellOrderAmountChanged:
    """
    A sell order was partially executed; `amount` is what is left. Later wire form: tag key `@type`.
    """

    type: Literal["SellOrderAmountChanged"] = attrs.field(
        default="SellOrderAmountChanged", metadata={"tag": True, "wire": "@type"}
    )
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
class SellOrderCancelled:
    """
    A sell order was cancelled (manual, TTL, IOC, FOK); end of its lifecycle. Later wire form: tag key `@type`.
    """

    type: Literal["SellOrderCancelled"] = attrs.field(
        default="SellOrderCancelled", metadata={"tag": True, "wire": "@type"}
    )
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
class SellOrderClosed:
    """
    A sell order was fully executed; end of its lifecycle. Later wire form: tag key `@type`.
    """

    type: Literal["SellOrderClosed"] = attrs.field(
        default="SellOrderClosed", metadata={"tag": True, "wire": "@type"}
    )
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
class SetBalanceMessage:
    """
    Sets the account's new balance for a currency. Legacy wire form: tag key `_cls`, name with the `Message` suffix.
    """

    type: Literal["SetBalanceMessage"] = attrs.field(
        default="SetBalanceMessage", metadata={"tag": True, "wire": "_cls"}
    )
    balance: DecimalString
    change: DecimalString
    currency: str
    reason: str
    time: MicrosTime


@attrs.define(kw_only=True)
class SetBalance:
    """
    Sets the account's new balance for a currency. Later wire form: tag key `@type`.
    """

    type: Literal["SetBalance"] = attrs.field(
        default="SetBalance", metadata={"tag": True, "wire": "@type"}
    )
    balance: DecimalString
    change: DecimalString
    currency: str
    reason: str
    time: MicrosTime


@attrs.define(kw_only=True)
class AnonymousTradeMessage:
    """
    A trade on the exchange with sensitive data removed. `maker_buy` tells whether the maker was the buyer. Legacy wire form: tag key `_cls`, name with the `Message` suffix. `time` carries microseconds, as in the server-messages document.
    """

    type: Literal["AnonymousTradeMessage"] = attrs.field(
        default="AnonymousTradeMessage", metadata={"tag": True, "wire": "_cls"}
    )
    amount: DecimalString
    maker_buy: bool
    price: DecimalString
    time: MicrosTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """


@attrs.define(kw_only=True)
class AnonymousTrade:
    """
    A trade on the exchange (market-data feed). `maker_buy` tells whether the maker was the buyer; `current_order_id` is the order that caused it. Later wire form: tag key `@type`. `time` carries **milliseconds**, as in the market-data document.
    """

    type: Literal["AnonymousTrade"] = attrs.field(
        default="AnonymousTrade", metadata={"tag": True, "wire": "@type"}
    )
    amount: DecimalString
    maker_buy: bool
    price: DecimalString
    time: MillisTime
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    current_order_id: int | None = None


@attrs.define(kw_only=True)
class OrderBookAggMessage:
    """
    Aggregated order book of a trade pair, recalculated after each change. Either side may be empty. Legacy wire form: tag key `_cls`, name with the `Message` suffix.
    """

    type: Literal["OrderBookAggMessage"] = attrs.field(
        default="OrderBookAggMessage", metadata={"tag": True, "wire": "_cls"}
    )
    buy_levels: PriceLevels
    sell_levels: PriceLevels
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """


@attrs.define(kw_only=True)
class OrderBookAgg:
    """
    Aggregated order book of a trade pair (market-data feed); `current_order_id` is the order that led to this state. Later wire form: tag key `@type`.
    """

    type: Literal["OrderBookAgg"] = attrs.field(
        default="OrderBookAgg", metadata={"tag": True, "wire": "@type"}
    )
    buy_levels: PriceLevels
    sell_levels: PriceLevels
    trade_pair: str
    """
    Trade pair, e.g. BTC_USD.
    """
    current_order_id: int | None = None


@attrs.define(kw_only=True)
class OwnTrade:
    """
    The account took part in a trade, on either side. Later wire form: tag key `@type`.
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
    An attempt to cancel an order that does not exist. Later wire form: tag key `@type`.
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
    The account lacks the funds to place the order. Later wire form: tag key `@type`.
    """

    type: Literal["InsufficientFunds"] = attrs.field(
        default="InsufficientFunds", metadata={"tag": True, "wire": "@type"}
    )
    order_id: int
    """
    Exchange order id.
    """
    currency: str


ServerMessage: TypeAlias = BuyOrderPlacedMessage | BuyOrderAmountChangedMessage | BuyOrderCancelledMessage | BuyOrderClosedMessage | BuyOrderPlaced | BuyOrderAmountChanged | BuyOrderCancelled | BuyOrderClosed | SellOrderPlacedMessage | SellOrderAmountChangedMessage | SellOrderCancelledMessage | SellOrderClosedMessage | SellOrderPlaced | SellOrderAmountChanged | SellOrderCancelled | SellOrderClosed | SetBalanceMessage | SetBalance | AnonymousTradeMessage | AnonymousTrade | OrderBookAggMessage | OrderBookAgg | OwnTrade | OrderNotFound | InsufficientFunds


Cryptology: TypeAlias = ServerMessage
"""
Cryptology exchange server messages, tagged by `_cls` (document form) or `@type` (later form). Market data is a plain JSON websocket; the client sends nothing on it, so there are no client messages.
"""
