# DO NOT EDIT: generated from schemas/gateway.json by codegen/generate.py.
# Regenerate with `nox -s codegen`; CI fails when this file and the schema drift apart.
"""Typed models for the GatewayMessage protocol, generated from ``schemas/gateway.json``."""

from __future__ import annotations

import attrs
from decimal import Decimal
from typing import Literal, TypeAlias

from trio_feeds._types import EpochMillis

Channel: TypeAlias = Literal["market_data", "orderbook", "trades", "orders", "positions", "system_events"]
"""
Name of a data channel a client can subscribe to.
"""


@attrs.define(kw_only=True)
class SubscriptionParams:
    """
    Filters for a subscription. Every key is optional; a channel ignores the keys it does not use (system_events takes none).
    """

    exchange: str | None = None
    """
    Exchange to stream from, e.g. "binance".
    """
    symbols: list[str] | None = None
    """
    Symbols to stream, e.g. ["BTCUSDT", "ETHUSDT"].
    """
    depth: int | None = attrs.field(default=None, metadata={"minimum": 1})
    """
    Number of price levels per side (orderbook channel).
    """
    type: str | None = None
    """
    Kind of market data (market_data channel), e.g. "ticker".
    """


@attrs.define(kw_only=True)
class AuthenticateRequest:
    """
    Authenticates the connection with an API key. Send it first, right after connecting; the server answers with AuthenticatedEvent or, on failure, ErrorEvent (code 401).
    """

    action: Literal["authenticate"] = attrs.field(
        default="authenticate", metadata={"tag": True}
    )
    """
    Message tag.
    """
    api_key: str
    """
    The API key (the same keys as the REST API).
    """
    timestamp: EpochMillis
    """
    Client time, in milliseconds since the Unix epoch.
    """
    signature: str
    """
    Signature proving possession of the API secret.
    """


@attrs.define(kw_only=True)
class SubscribeRequest:
    """
    Subscribes to one or more channels, optionally filtered by exchange, symbols, order-book depth or market-data type. The server answers with SubscribedEvent.
    """

    action: Literal["subscribe"] = attrs.field(
        default="subscribe", metadata={"tag": True}
    )
    """
    Message tag.
    """
    channels: list[Channel]
    """
    Channels to subscribe.
    """
    params: SubscriptionParams | None = None
    """
    Which exchange, symbols, depth or data type the request applies to.
    """


@attrs.define(kw_only=True)
class UnsubscribeRequest:
    """
    Stops one or more channel subscriptions for the given filters. The server answers with UnsubscribedEvent.
    """

    action: Literal["unsubscribe"] = attrs.field(
        default="unsubscribe", metadata={"tag": True}
    )
    """
    Message tag.
    """
    channels: list[Channel]
    """
    Channels to unsubscribe.
    """
    params: SubscriptionParams | None = None
    """
    Which exchange, symbols, depth or data type the request applies to.
    """


@attrs.define(kw_only=True)
class PongMessage:
    """
    The client's answer to a server PingEvent. It must arrive within 10 seconds of the ping or the server closes the connection.
    """

    action: Literal["pong"] = attrs.field(default="pong", metadata={"tag": True})
    """
    Message tag.
    """
    timestamp: EpochMillis
    """
    Client time, in milliseconds since the Unix epoch.
    """


@attrs.define(kw_only=True)
class AuthenticatedEvent:
    """
    The server accepted the AuthenticateRequest; the client may now subscribe.
    """

    event: Literal["authenticated"] = attrs.field(
        default="authenticated", metadata={"tag": True}
    )
    """
    Message tag.
    """
    success: bool
    """
    Whether authentication succeeded.
    """
    timestamp: EpochMillis
    """
    Server time the message was sent, in milliseconds since the Unix epoch.
    """


@attrs.define(kw_only=True)
class ErrorEvent:
    """
    A request failed (for example authentication or a malformed subscription). The code follows HTTP: 400 bad request, 401 unauthorized, 403 forbidden, 404 not found, 429 too many requests, 500 internal server error.
    """

    event: Literal["error"] = attrs.field(default="error", metadata={"tag": True})
    """
    Message tag.
    """
    message: str
    """
    Human-readable reason, e.g. "Invalid symbol format".
    """
    code: int
    """
    HTTP-style error code.
    """
    timestamp: EpochMillis
    """
    Server time the message was sent, in milliseconds since the Unix epoch.
    """


@attrs.define(kw_only=True)
class SubscribedEvent:
    """
    Confirms a SubscribeRequest, echoing its channels and params.
    """

    event: Literal["subscribed"] = attrs.field(
        default="subscribed", metadata={"tag": True}
    )
    """
    Message tag.
    """
    channels: list[Channel]
    """
    Channels the confirmation covers.
    """
    timestamp: EpochMillis
    """
    Server time the message was sent, in milliseconds since the Unix epoch.
    """
    params: SubscriptionParams | None = None
    """
    The filters of the request being confirmed.
    """


@attrs.define(kw_only=True)
class UnsubscribedEvent:
    """
    Confirms an UnsubscribeRequest, echoing its channels and params.
    """

    event: Literal["unsubscribed"] = attrs.field(
        default="unsubscribed", metadata={"tag": True}
    )
    """
    Message tag.
    """
    channels: list[Channel]
    """
    Channels the confirmation covers.
    """
    timestamp: EpochMillis
    """
    Server time the message was sent, in milliseconds since the Unix epoch.
    """
    params: SubscriptionParams | None = None
    """
    The filters of the request being confirmed.
    """


@attrs.define(kw_only=True)
class PingEvent:
    """
    Heartbeat sent after 30 seconds without traffic. Answer with PongMessage within 10 seconds or the server closes the connection.
    """

    event: Literal["ping"] = attrs.field(default="ping", metadata={"tag": True})
    """
    Message tag.
    """
    timestamp: EpochMillis
    """
    Server time the message was sent, in milliseconds since the Unix epoch.
    """


@attrs.define(kw_only=True)
class CloseEvent:
    """
    The server is about to close the connection. The code follows WebSocket close codes: 1000 normal closure, 1001 going away, 1008 policy violation, 1011 internal error.
    """

    event: Literal["close"] = attrs.field(default="close", metadata={"tag": True})
    """
    Message tag.
    """
    message: str
    """
    Human-readable reason, e.g. "Session timeout".
    """
    code: int
    """
    WebSocket-style close code.
    """
    timestamp: EpochMillis
    """
    Server time the message was sent, in milliseconds since the Unix epoch.
    """


@attrs.define(kw_only=True)
class Ticker:
    """
    A ticker snapshot of one market.
    """

    price: Decimal
    """
    Last traded price.
    """
    volume: Decimal
    """
    Traded volume (24 h, in the base currency).
    """
    timestamp: EpochMillis
    """
    Exchange time of the ticker, in milliseconds since the Unix epoch.
    """
    bid: Decimal
    """
    Best bid price.
    """
    ask: Decimal
    """
    Best ask price.
    """
    high: Decimal
    """
    Highest price (24 h).
    """
    low: Decimal
    """
    Lowest price (24 h).
    """


@attrs.define(kw_only=True)
class MarketDataMessage:
    """
    A market-data update on the market_data channel (a ticker for type "ticker").
    """

    channel: Literal["market_data"] = attrs.field(
        default="market_data", metadata={"tag": True}
    )
    """
    Message tag.
    """
    type: str
    """
    Kind of market data, e.g. "ticker".
    """
    exchange: str
    """
    Exchange the data comes from, e.g. "binance".
    """
    symbol: str
    """
    Market symbol, e.g. "BTCUSDT".
    """
    data: Ticker
    """
    The market data.
    """
    timestamp: EpochMillis
    """
    Server time the message was sent, in milliseconds since the Unix epoch.
    """


PriceLevel: TypeAlias = tuple[Decimal, Decimal]
"""
One order-book level: [price, amount].
"""


@attrs.define(kw_only=True)
class OrderBook:
    """
    The top levels of an order book, each level a [price, amount] pair.
    """

    bids: list[PriceLevel]
    """
    Bid levels as [price, amount] pairs, best first.
    """
    asks: list[PriceLevel]
    """
    Ask levels as [price, amount] pairs, best first.
    """
    timestamp: EpochMillis
    """
    Exchange time of the book, in milliseconds since the Unix epoch.
    """


@attrs.define(kw_only=True)
class OrderbookMessage:
    """
    An order-book update on the orderbook channel, limited to the subscribed depth.
    """

    channel: Literal["orderbook"] = attrs.field(
        default="orderbook", metadata={"tag": True}
    )
    """
    Message tag.
    """
    exchange: str
    """
    Exchange the data comes from, e.g. "binance".
    """
    symbol: str
    """
    Market symbol, e.g. "BTCUSDT".
    """
    data: OrderBook
    """
    The order book.
    """
    timestamp: EpochMillis
    """
    Server time the message was sent, in milliseconds since the Unix epoch.
    """


@attrs.define(kw_only=True)
class Trade:
    """
    One public trade.
    """

    id: str
    """
    Trade id.
    """
    price: Decimal
    """
    Trade price.
    """
    amount: Decimal
    """
    Traded amount in the base currency.
    """
    side: Literal["buy", "sell"]
    """
    Taker side.
    """
    timestamp: EpochMillis
    """
    Exchange time of the trade, in milliseconds since the Unix epoch.
    """


@attrs.define(kw_only=True)
class TradesMessage:
    """
    A public trade on the trades channel.
    """

    channel: Literal["trades"] = attrs.field(default="trades", metadata={"tag": True})
    """
    Message tag.
    """
    exchange: str
    """
    Exchange the data comes from, e.g. "binance".
    """
    symbol: str
    """
    Market symbol, e.g. "BTCUSDT".
    """
    data: Trade
    """
    The trade.
    """
    timestamp: EpochMillis
    """
    Server time the message was sent, in milliseconds since the Unix epoch.
    """


@attrs.define(kw_only=True)
class OrderFee:
    """
    Fee charged for an order.
    """

    cost: Decimal
    """
    Fee amount, in currency.
    """
    currency: str
    """
    Currency the fee is charged in, e.g. "USDT".
    """
    rate: Decimal
    """
    Fee rate, e.g. 0.001 for 0.1 %.
    """


@attrs.define(kw_only=True)
class Order:
    """
    The current state of one of your orders.
    """

    id: str
    """
    Order id.
    """
    symbol: str
    """
    Market symbol, e.g. "BTCUSDT".
    """
    exchange: str
    """
    Exchange the data comes from, e.g. "binance".
    """
    timestamp: EpochMillis
    """
    Time of this order state, in milliseconds since the Unix epoch.
    """
    type: str
    """
    Order type, e.g. "limit".
    """
    side: Literal["buy", "sell"]
    """
    Order side.
    """
    amount: Decimal
    """
    Ordered amount in the base currency.
    """
    price: Decimal
    """
    Limit price.
    """
    cost: Decimal
    """
    Value in the quote currency.
    """
    filled: Decimal
    """
    Amount filled so far.
    """
    remaining: Decimal
    """
    Amount still open.
    """
    status: str
    """
    Order status, e.g. "partially_filled".
    """
    fee: OrderFee
    """
    Fee charged so far.
    """


@attrs.define(kw_only=True)
class OrdersMessage:
    """
    A change to one of your orders, on the orders channel.
    """

    channel: Literal["orders"] = attrs.field(default="orders", metadata={"tag": True})
    """
    Message tag.
    """
    exchange: str
    """
    Exchange the data comes from, e.g. "binance".
    """
    symbol: str
    """
    Market symbol, e.g. "BTCUSDT".
    """
    event: str
    """
    What happened to the order, e.g. "update".
    """
    data: Order
    """
    The order after the change.
    """
    timestamp: EpochMillis
    """
    Server time the message was sent, in milliseconds since the Unix epoch.
    """


@attrs.define(kw_only=True)
class Position:
    """
    The current state of one of your positions. Unset prices are null.
    """

    symbol: str
    """
    Market symbol, e.g. "BTCUSDT".
    """
    exchange: str
    """
    Exchange the data comes from, e.g. "binance".
    """
    timestamp: EpochMillis
    """
    Time of this position state, in milliseconds since the Unix epoch.
    """
    type: str
    """
    Position type, e.g. "spot".
    """
    side: Literal["long", "short"]
    """
    Position side.
    """
    amount: Decimal
    """
    Position size in the base currency.
    """
    cost: Decimal
    """
    Cost of the position in the quote currency.
    """
    average_price: Decimal
    """
    Average entry price.
    """
    unrealized_pnl: Decimal
    """
    Unrealized profit or loss in the quote currency.
    """
    unrealized_pnl_percentage: Decimal
    """
    Unrealized profit or loss in percent of the cost.
    """
    liquidation_price: Decimal | None
    """
    Liquidation price, null when there is none (e.g. spot).
    """
    stop_loss: Decimal | None
    """
    Stop-loss price, null when not set.
    """
    take_profit: Decimal | None
    """
    Take-profit price, null when not set.
    """
    trailing_stop: Decimal | None
    """
    Trailing-stop distance, null when not set.
    """


@attrs.define(kw_only=True)
class PositionsMessage:
    """
    A change to one of your positions, on the positions channel.
    """

    channel: Literal["positions"] = attrs.field(
        default="positions", metadata={"tag": True}
    )
    """
    Message tag.
    """
    exchange: str
    """
    Exchange the data comes from, e.g. "binance".
    """
    symbol: str
    """
    Market symbol, e.g. "BTCUSDT".
    """
    event: str
    """
    What happened to the position, e.g. "update".
    """
    data: Position
    """
    The position after the change.
    """
    timestamp: EpochMillis
    """
    Server time the message was sent, in milliseconds since the Unix epoch.
    """


@attrs.define(kw_only=True)
class SystemEventData:
    """
    Details of a system event: the exchange it concerns and its new status.
    """

    exchange: str
    """
    Exchange the event concerns, e.g. "binance".
    """
    status: str
    """
    New status, e.g. "connected".
    """
    timestamp: EpochMillis
    """
    Time of the event, in milliseconds since the Unix epoch.
    """


@attrs.define(kw_only=True)
class SystemEventsMessage:
    """
    A gateway system event on the system_events channel, such as a change of an exchange connection's status.
    """

    channel: Literal["system_events"] = attrs.field(
        default="system_events", metadata={"tag": True}
    )
    """
    Message tag.
    """
    event: str
    """
    Event name, e.g. "exchange_connection_status".
    """
    data: SystemEventData
    """
    Event details.
    """
    timestamp: EpochMillis
    """
    Server time the message was sent, in milliseconds since the Unix epoch.
    """


ServerMessage: TypeAlias = AuthenticatedEvent | ErrorEvent | SubscribedEvent | UnsubscribedEvent | PingEvent | CloseEvent | MarketDataMessage | OrderbookMessage | TradesMessage | OrdersMessage | PositionsMessage | SystemEventsMessage
"""
Any message the gateway sends to the client.
"""


ClientMessage: TypeAlias = AuthenticateRequest | SubscribeRequest | UnsubscribeRequest | PongMessage
"""
Any message the client sends to the gateway.
"""


GatewayMessage: TypeAlias = ServerMessage | ClientMessage
"""
Trading gateway WebSocket protocol (ws://host:port/ws): authenticate with an API key, subscribe to the market_data, orderbook, trades, orders, positions and system_events channels, answer server pings with pongs.
"""
