# DO NOT EDIT: generated from schemas/peatio.json by codegen/generate.py.
# Regenerate with `nox -s codegen`; CI fails when this file and the schema drift apart.
"""Typed models for the Peatio protocol, generated from ``schemas/peatio.json``."""

from __future__ import annotations

import attrs
from decimal import Decimal
from typing import Literal, TypeAlias

from trio_feeds._types import EpochSeconds, ExplicitNulls, IsoOrEpochSeconds


@attrs.define(kw_only=True)
class AuthRequest:
    """
    Authenticate the connection with a JWT, sent after connecting (document form; later servers take an `Authorization: Bearer <jwt>` header at the handshake instead). Only the Bearer type is supported. The server answers with `success` or `error`; once authenticated, the private streams given as `?stream=` parameters are delivered.
    """

    jwt: str = attrs.field(metadata={"pattern": "^Bearer \\S+$"})
    """
    `Bearer <token>`.
    """


@attrs.define(kw_only=True)
class SubscribeRequest:
    """
    Subscribe to more streams after connecting (later form). The server answers with `{"success": {"message": "subscribed", "streams": [...]}}` listing all streams of the connection.
    """

    event: Literal["subscribe"] = attrs.field(
        default="subscribe", metadata={"tag": True}
    )
    streams: list[str]
    """
    Stream names, e.g. `btcusd.trades`, `btcusd.ob-inc`, `order`.
    """


@attrs.define(kw_only=True)
class UnsubscribeRequest:
    """
    Unsubscribe from streams (later form). The server answers with `{"success": {"message": "unsubscribed", "streams": [...]}}` listing the streams left.
    """

    event: Literal["unsubscribe"] = attrs.field(
        default="unsubscribe", metadata={"tag": True}
    )
    streams: list[str]
    """
    Stream names, e.g. `btcusd.trades`, `btcusd.ob-inc`, `order`.
    """


@attrs.define(kw_only=True)
class DepositAddressAttributes:
    """
    A deposit address of the member.
    """

    currency: str
    """
    Currency code, e.g. `btc`.
    """
    address: str
    """
    The address to deposit to.
    """


@attrs.define(kw_only=True)
class Success:
    """
    Payload of a `success` reply: authentication succeeded (`Authenticated.`), or a subscribe / unsubscribe request was done (`subscribed` / `unsubscribed`, with the streams the connection is now subscribed to).
    """

    message: str
    """
    What succeeded, e.g. `Authenticated.` or `subscribed`.
    """
    streams: list[str] | None = None
    """
    All streams of the connection after a subscribe or unsubscribe.
    """


@attrs.define(kw_only=True)
class Error:
    """
    Payload of an `error` reply, e.g. `Authentication failed.`, `Token type is not provided or invalid.`, `Error while handling message.`
    """

    message: str
    """
    What went wrong.
    """


DecimalString: TypeAlias = Decimal
"""
A decimal number sent as a JSON string, e.g. "1020.0" (price, volume, amount).
"""


ClientMessage: TypeAlias = AuthRequest | SubscribeRequest | UnsubscribeRequest
"""
Any JSON frame a client sends.
"""


@attrs.define(kw_only=True)
class SuccessFrame:
    """
    Wire frame of the `success` reply: an object with exactly one key, `success`, whose value is a `Success`.
    """

    success: Success


@attrs.define(kw_only=True)
class ErrorFrame:
    """
    Wire frame of the `error` reply: an object with exactly one key, `error`, whose value is an `Error`.
    """

    error: Error


@attrs.define(kw_only=True)
class PublicTrade:
    """
    One trade of a market, as everyone sees it (no member data).
    """

    tid: int
    """
    Unique trade id.
    """
    taker_type: Literal["buy", "sell"]
    """
    Side of the taker order of the trade.
    """
    price: DecimalString
    """
    Trade price.
    """
    amount: DecimalString
    """
    Traded amount (base currency).
    """
    date: EpochSeconds | None = None
    """
    Trade time in Unix seconds.
    """
    created_at: IsoOrEpochSeconds | None = None
    """
    Trade time (later public form).
    """


@attrs.define(kw_only=True)
class OrderTrade:
    """
    A trade listed in an order's `trades`: the fields of a `Trade` without the nested `bid`/`ask` orders (a separate class so the models are not recursive).
    """

    id: int
    """
    Unique trade id.
    """
    price: DecimalString
    """
    Price for each unit.
    """
    volume: DecimalString | None = None
    """
    Traded amount (documented name).
    """
    amount: DecimalString | None = None
    """
    Traded amount (later name).
    """
    funds: DecimalString | None = None
    """
    Traded value, price times volume (documented name).
    """
    total: DecimalString | None = None
    """
    Traded value, price times amount (later name).
    """
    market_id: str | None = None
    """
    Market of the trade, e.g. `btcusd` (documented name).
    """
    market: str | None = None
    """
    Market of the trade (name used by peatio's code).
    """
    created_at: IsoOrEpochSeconds | None = None
    """
    Trade time.
    """
    at: EpochSeconds | None = None
    """
    Trade time in Unix seconds. Deprecated.
    """
    side: Literal["bid", "ask", "buy", "sell"] | None = None
    """
    The member's side in the trade: `bid`/`ask` in the document, `buy`/`sell` in later versions.
    """
    kind: Literal["bid", "ask"] | None = None
    """
    The member's side in the older naming. Deprecated.
    """
    taker_type: Literal["buy", "sell"] | None = None
    """
    Side of the taker order.
    """
    order_id: int | None = None
    """
    The member's order in this trade.
    """
    ask_id: int | None = None
    """
    Id of the sell order.
    """
    bid_id: int | None = None
    """
    Id of the buy order.
    """


@attrs.define(kw_only=True)
class DepositAddress:
    """
    Payload of the private `deposit_address` stream: a deposit address was created for the member.
    """

    type: Literal["create"] = attrs.field(default="create", metadata={"tag": True})
    """
    What happened to the address.
    """
    attributes: DepositAddressAttributes


PriceLevel: TypeAlias = tuple[DecimalString, DecimalString]
"""
One order-book level: `[price, volume]`, both decimal strings. A volume of zero removes the level.
"""


@attrs.define(kw_only=True)
class DepositAddressFrame:
    """
    Wire frame of the `deposit_address` private stream: an object with exactly one key, `deposit_address`, whose value is a `DepositAddress`.
    """

    deposit_address: DepositAddress


@attrs.define(kw_only=True)
class MarketUpdate:
    """
    Payload of the public `<market>.update` stream: the current state of the market's order book (up to 300 levels a side), sent periodically. Each message replaces the previous one.
    """

    asks: list[PriceLevel]
    """
    Sell levels, best (lowest) price first.
    """
    bids: list[PriceLevel]
    """
    Buy levels, best (highest) price first.
    """


@attrs.define(kw_only=True)
class PublicTrades:
    """
    Payload of the public `<market>.trades` stream: trades that just happened in the market.
    """

    trades: list[PublicTrade]
    """
    The new trades.
    """


@attrs.define(kw_only=True)
class OrderBookSnapshot:
    """
    Payload of the public `<market>.ob-snap` stream: a full order-book snapshot. A subscriber of `<market>.ob-inc` first receives the latest snapshot, then the increments made since; apply increments on top of the last snapshot.
    """

    asks: list[PriceLevel]
    """
    Sell levels, best (lowest) price first.
    """
    bids: list[PriceLevel]
    """
    Buy levels, best (highest) price first.
    """
    sequence: int | None = None
    """
    Sequence number of the book state, when the server sends one (some peatio versions do); increments continue from it.
    """


@attrs.define(kw_only=True)
class OrderBookIncrement:
    """
    Payload of the public `<market>.ob-inc` stream: changes to apply to the order book received from `<market>.ob-snap`. Usually only one side is present.
    """

    asks: list[PriceLevel] | PriceLevel | None = None
    """
    Changed sell levels: the new volume replaces the old one, a zero volume removes the level. Ranger's documented form is a list of levels; some peatio versions send a single `[price, volume]` level instead.
    """
    bids: list[PriceLevel] | PriceLevel | None = None
    """
    Changed buy levels: the new volume replaces the old one, a zero volume removes the level. Ranger's documented form is a list of levels; some peatio versions send a single `[price, volume]` level instead.
    """
    sequence: int | None = None
    """
    Sequence number of this increment, when the server sends one (some peatio versions do; Ranger itself does not check it).
    """


@attrs.define(kw_only=True)
class Order(ExplicitNulls):
    """
    Payload of the private `order` stream: one of the member's orders was created or changed (e.g. filled or cancelled). Field sets differ between peatio versions, so only `id`, `state` and `origin_volume` are always present.
    """

    id: int
    """
    Unique order id.
    """
    state: Literal["pending", "wait", "done", "cancel", "reject"]
    """
    `wait` (open), `done` (filled), `cancel` (cancelled), `reject` (refused), `pending` (not yet submitted).
    """
    origin_volume: DecimalString
    """
    The amount the member wants to buy or sell.
    """
    side: Literal["buy", "sell"] | None = None
    """
    Order side.
    """
    kind: Literal["bid", "ask"] | None = None
    """
    Order side in the older naming (`bid` = buy, `ask` = sell). Deprecated.
    """
    ord_type: Literal["limit", "market"] | None = None
    """
    Order type.
    """
    price: DecimalString | None = attrs.field(default=None, metadata={"nullable": True})
    """
    Price for each unit; null for market orders.
    """
    avg_price: DecimalString | None = attrs.field(
        default=None, metadata={"nullable": True}
    )
    """
    Average execution price.
    """
    market_id: str | None = None
    """
    Market of the order, e.g. `btcusd` (documented name).
    """
    market: str | None = None
    """
    Market of the order, e.g. `btcusd` (name used by peatio's code).
    """
    created_at: IsoOrEpochSeconds | None = None
    """
    Order creation time.
    """
    updated_at: IsoOrEpochSeconds | None = None
    """
    Time of the last change.
    """
    at: EpochSeconds | None = None
    """
    Order creation time in Unix seconds. Deprecated.
    """
    volume: DecimalString | None = None
    """
    Amount still to execute (older form of `remaining_volume`).
    """
    remaining_volume: DecimalString | None = None
    """
    Amount still to execute.
    """
    executed_volume: DecimalString | None = None
    """
    Amount executed so far.
    """
    trades_count: int | None = None
    """
    Number of trades of this order.
    """
    trades: list[OrderTrade] | None = None
    """
    Trades of this order.
    """


@attrs.define(kw_only=True)
class Trade:
    """
    Payload of the private `trade` stream: one of the member's orders traded. Field names differ between peatio versions (`volume`/`amount`, `funds`/`total`, `market_id`/`market`).
    """

    id: int
    """
    Unique trade id.
    """
    price: DecimalString
    """
    Price for each unit.
    """
    volume: DecimalString | None = None
    """
    Traded amount (documented name).
    """
    amount: DecimalString | None = None
    """
    Traded amount (later name).
    """
    funds: DecimalString | None = None
    """
    Traded value, price times volume (documented name).
    """
    total: DecimalString | None = None
    """
    Traded value, price times amount (later name).
    """
    market_id: str | None = None
    """
    Market of the trade, e.g. `btcusd` (documented name).
    """
    market: str | None = None
    """
    Market of the trade (name used by peatio's code).
    """
    created_at: IsoOrEpochSeconds | None = None
    """
    Trade time.
    """
    at: EpochSeconds | None = None
    """
    Trade time in Unix seconds. Deprecated.
    """
    side: Literal["bid", "ask", "buy", "sell"] | None = None
    """
    The member's side in the trade: `bid`/`ask` in the document, `buy`/`sell` in later versions.
    """
    kind: Literal["bid", "ask"] | None = None
    """
    The member's side in the older naming. Deprecated.
    """
    taker_type: Literal["buy", "sell"] | None = None
    """
    Side of the taker order.
    """
    order_id: int | None = None
    """
    The member's order in this trade.
    """
    ask_id: int | None = None
    """
    Id of the sell order.
    """
    bid_id: int | None = None
    """
    Id of the buy order.
    """
    bid: Order | None = None
    """
    The buy order, when the server includes it.
    """
    ask: Order | None = None
    """
    The sell order, when the server includes it.
    """


MarketUpdateFrame: TypeAlias = dict[str, MarketUpdate]
"""
Wire frame of the public `<market>.update` stream: an object with exactly one key, the stream name (matching `^[a-z0-9_]+\\.update$`), whose value is a `MarketUpdate`. Decoded as `StreamMessage(stream, MarketUpdate)`.
"""


PublicTradesFrame: TypeAlias = dict[str, PublicTrades]
"""
Wire frame of the public `<market>.trades` stream: an object with exactly one key, the stream name (matching `^[a-z0-9_]+\\.trades$`), whose value is a `PublicTrades`. Decoded as `StreamMessage(stream, PublicTrades)`.
"""


OrderBookSnapshotFrame: TypeAlias = dict[str, OrderBookSnapshot]
"""
Wire frame of the public `<market>.ob-snap` stream: an object with exactly one key, the stream name (matching `^[a-z0-9_]+\\.ob-snap$`), whose value is an `OrderBookSnapshot`. Decoded as `StreamMessage(stream, OrderBookSnapshot)`.
"""


OrderBookIncrementFrame: TypeAlias = dict[str, OrderBookIncrement]
"""
Wire frame of the public `<market>.ob-inc` stream: an object with exactly one key, the stream name (matching `^[a-z0-9_]+\\.ob-inc$`), whose value is an `OrderBookIncrement`. Decoded as `StreamMessage(stream, OrderBookIncrement)`.
"""


@attrs.define(kw_only=True)
class OrderFrame:
    """
    Wire frame of the `order` private stream: an object with exactly one key, `order`, whose value is an `Order`.
    """

    order: Order


@attrs.define(kw_only=True)
class TradeFrame:
    """
    Wire frame of the `trade` private stream: an object with exactly one key, `trade`, whose value is a `Trade`.
    """

    trade: Trade


ServerMessage: TypeAlias = MarketUpdateFrame | PublicTradesFrame | OrderBookSnapshotFrame | OrderBookIncrementFrame | OrderFrame | TradeFrame | DepositAddressFrame | SuccessFrame | ErrorFrame
"""
Any JSON frame the Ranger server sends: a one-key object `{"<stream>": payload}`, or a `success`/`error` reply.
"""


Peatio: TypeAlias = ServerMessage | ClientMessage
"""
Peatio Ranger websocket protocol. Streams are chosen with `?stream=` query parameters (repeatable) when connecting, or later with subscribe/unsubscribe events. Public streams: `<market>.update`, `<market>.trades`, `<market>.ob-snap`, `<market>.ob-inc`; private streams (need authentication): `order`, `trade`, `deposit_address`. Every server frame is a JSON object with exactly one key: the stream name, or `success` / `error` for replies. Decimals are strings. Later servers also send the text frame `ping`, which the client answers with the text frame `pong`; these are not JSON and are not described here.
"""
