# DO NOT EDIT: generated from schemas/peatio.json by codegen/generate.py.
# Regenerate with `nox -s codegen`; CI fails when this file and the schema drift apart.
"""Typed models for the Peatio protocol, generated from ``schemas/peatio.json``."""

from __future__ import annotations

import attrs
from decimal import Decimal
from typing import Any, Literal, TypeAlias

from trio_feeds._types import ExplicitNulls

from trio_feeds._types import (
    DecimalNumber,
    EpochSeconds,
    EpochSecondsOrDigits,
    IsoOrEpochSeconds,
)

MarketUpdateFrameItem: TypeAlias = str


PublicTradesFrameItem: TypeAlias = str


OrderBookSnapshotFrameItem: TypeAlias = str


OrderBookIncrementFrameItem: TypeAlias = str


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
    Payload of a `success` reply: authentication succeeded (`Authenticated.`), or a subscribe / unsubscribe request was done (`subscribed` / `unsubscribed`, with the streams the connection is now subscribed to). Later servers also send a `subscribed` reply right after the handshake, listing the query string's streams, and rango answers a stream the client may not have with `cannot subscribe to <stream>` (no `streams`).
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
    Payload of an `error` reply. The document lists `Authentication failed.`, `Token type is not provided or invalid.` and `Error while handling message.`; peatio-core 0.4.x only ever sent `Authentication failed.`. rango sends the text as a plain string instead (`{"error": "No streams provided"}`), decoded as a `TextError`.
    """

    message: str
    """
    What went wrong.
    """


DecimalString: TypeAlias = Decimal
"""
A decimal number sent as a JSON string, e.g. "1020.0" (price, volume, amount).
"""


KLineFrameItem: TypeAlias = str


@attrs.define(kw_only=True)
class Ticker:
    """
    One market's 24-hour ticker. peatio before 2020-03 (`app/trading/global.rb`) sent `name`, `base_unit`, `quote_unit`, `low`, `high`, `last`, `open`, `volume`, `sell`, `buy`, `avg_price`, `price_change_percent` and `at` as integer seconds; later peatio (`app/services/tickers_service.rb`) sends `at`, `avg_price`, `high`, `last`, `low`, `open`, `price_change_percent`, `volume` and `amount`, every value a string. All fields are optional.
    """

    at: EpochSecondsOrDigits | None = None
    """
    Time of the ticker.
    """
    name: str | None = None
    """
    Market name, e.g. `BTC/USD` (older form).
    """
    base_unit: str | None = None
    """
    Base currency, e.g. `btc` (older form).
    """
    quote_unit: str | None = None
    """
    Quote currency, e.g. `usd` (older form).
    """
    low: DecimalString | None = None
    """
    Lowest price of the last 24 hours.
    """
    high: DecimalString | None = None
    """
    Highest price of the last 24 hours.
    """
    open: DecimalString | None = None
    """
    First price of the last 24 hours.
    """
    last: DecimalString | None = None
    """
    Last trade price.
    """
    volume: DecimalString | None = None
    """
    Traded volume of the last 24 hours (base currency).
    """
    amount: DecimalString | None = None
    """
    Traded amount of the last 24 hours (later form).
    """
    avg_price: DecimalString | None = None
    """
    Volume-weighted average price of the last 24 hours.
    """
    sell: DecimalString | None = None
    """
    Best ask price (older form).
    """
    buy: DecimalString | None = None
    """
    Best bid price (older form).
    """
    price_change_percent: str | None = attrs.field(
        default=None, metadata={"pattern": "^[-+][0-9]+\\.[0-9]{2}%$"}
    )
    """
    Change from `open` to `last`, e.g. `+1.25%`.
    """


KLine: TypeAlias = tuple[EpochSeconds, DecimalNumber, DecimalNumber, DecimalNumber, DecimalNumber, DecimalNumber]
"""
Payload of the public `<market>.kline-<period>` stream, sent every few seconds: the latest candle, `[time, open, high, low, close, volume]`, time in Unix seconds and the rest JSON numbers (decoded exactly, as `Decimal`).
"""


LevelAmount: TypeAlias = DecimalString | Literal[""]
"""
A level's new total amount, or `""` when the level was removed (the engine sends Ruby's `nil.to_s`).
"""


ClientMessage: TypeAlias = AuthRequest | SubscribeRequest | UnsubscribeRequest
"""
Any JSON frame a client sends.
"""


@attrs.define(kw_only=True)
class SuccessFrame1:
    """
    Wire frame of the `success` reply: an object with exactly one key, `success`, whose value is a `Success`. peatio-core 0.4.0 to 0.4.4 sent the two-item array `[<stream>, payload]` instead; `encode` writes back the form that came in.
    """

    success: Success


SuccessFrame: TypeAlias = tuple[Literal["success"], Success] | SuccessFrame1
"""
Wire frame of the `success` reply: an object with exactly one key, `success`, whose value is a `Success`. peatio-core 0.4.0 to 0.4.4 sent the two-item array `[<stream>, payload]` instead; `encode` writes back the form that came in.
"""


@attrs.define(kw_only=True)
class ErrorFrame1:
    """
    Wire frame of the `error` reply: an object with exactly one key, `error`, whose value is an `Error`, or (rango) the error text itself as a string. peatio-core 0.4.0 to 0.4.4 could also send the two-item array form.
    """

    error: Error | str


ErrorFrame: TypeAlias = tuple[Literal["error"], Error | str] | ErrorFrame1
"""
Wire frame of the `error` reply: an object with exactly one key, `error`, whose value is an `Error`, or (rango) the error text itself as a string. peatio-core 0.4.0 to 0.4.4 could also send the two-item array form.
"""


@attrs.define(kw_only=True)
class PublicTrade:
    """
    One trade of a market, as everyone sees it (no member data).
    """

    tid: int
    """
    Unique trade id.
    """
    price: DecimalString
    """
    Trade price.
    """
    amount: DecimalString
    """
    Traded amount (base currency).
    """
    taker_type: Literal["buy", "sell"] | None = None
    """
    Side of the taker order of the trade (peatio since 2019-03; before, `type`).
    """
    type: Literal["buy", "sell"] | None = None
    """
    Side of the trade, the older name of `taker_type` (peatio before 2019-03).
    """
    date: EpochSeconds | None = None
    """
    Trade time in Unix seconds (what the peatio code sends).
    """
    created_at: IsoOrEpochSeconds | None = None
    """
    Trade time (the protocol document's name; the peatio code sends `date`).
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
    Payload of the private `deposit_address` stream: a deposit address was created for the member. The shape changed over time (`app/workers/amqp/deposit_coin_address.rb`, `app/models/payment_address.rb`): `attributes` until 2020-02; then `currency` and `address`; from 2020-09 `currencies`, and from 2021-06 also `blockchain_key`.
    """

    type: Literal["create"] = attrs.field(default="create", metadata={"tag": True})
    """
    What happened to the address.
    """
    attributes: DepositAddressAttributes | None = None
    """
    The address and its currency (form until 2020-02).
    """
    currency: str | None = None
    """
    Currency code, e.g. `btc` (2020-02 form).
    """
    currencies: list[str] | None = None
    """
    Currency codes sharing the address (2020-09 form).
    """
    blockchain_key: str | None = None
    """
    The blockchain of the address (2021-06 form).
    """
    address: str | None = None
    """
    The address to deposit to (2020-02 form and later).
    """


PriceLevel: TypeAlias = tuple[DecimalString, DecimalString]
"""
One order-book level: `[price, volume]`, both decimal strings. A volume of zero removes the level.
"""


KLineFrame: TypeAlias = dict[str, Any] | tuple[KLineFrameItem, KLine]
"""
Wire frame of the public `<market>.kline-<period>` stream (periods `1m 5m 15m 30m 1h 2h 4h 6h 12h 1d 3d 1w`): an object with exactly one key, the stream name, whose value is a `KLine`. Decoded as `StreamMessage(stream, KLine)`.
"""


GlobalTickers: TypeAlias = dict[str, Ticker]
"""
Payload of the public `global.tickers` stream, sent every 5 s: the ticker of every market, keyed by market id (`btcusd`).
"""


IncrementLevel: TypeAlias = tuple[DecimalString, LevelAmount]
"""
One changed order-book level: `[price, amount]`, the amount a decimal string or `""` (the level is gone).
"""


@attrs.define(kw_only=True)
class DepositAddressFrame1:
    """
    Wire frame of the `deposit_address` private stream: an object with exactly one key, `deposit_address`, whose value is a `DepositAddress`. peatio-core 0.4.0 to 0.4.4 sent the two-item array `[<stream>, payload]` instead; `encode` writes back the form that came in.
    """

    deposit_address: DepositAddress


DepositAddressFrame: TypeAlias = tuple[Literal["deposit_address"], DepositAddress] | DepositAddressFrame1
"""
Wire frame of the `deposit_address` private stream: an object with exactly one key, `deposit_address`, whose value is a `DepositAddress`. peatio-core 0.4.0 to 0.4.4 sent the two-item array `[<stream>, payload]` instead; `encode` writes back the form that came in.
"""


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
    Payload of `<market>.ob-snap` frames: a full order-book snapshot. Ranger sends its stored snapshot (then the increments stored since) to each new subscriber of `<market>.ob-inc`, under the key `<market>.ob-snap`; live subscribers get no later snapshots (peatio-core `lib/peatio/ranger/router.rb`, rango `pkg/routing/hub.go`). Apply increments on top of the last snapshot. The matching engine sends at most 301 levels a side (`app/trading/matching/engine.rb`).
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
    Sequence number of the book state: the `sequence` of the last increment the snapshot contains (peatio 2.4 and later; the protocol document's example has none). The next increment carries `sequence + 1`.
    """


@attrs.define(kw_only=True)
class OrderBookIncrement:
    """
    Payload of the public `<market>.ob-inc` stream: changes to apply to the order book received as `<market>.ob-snap`. The matching engine (peatio 2.4 and later, `app/trading/matching/engine.rb`) sends one side with one flat `[price, amount]` pair and a `sequence`; the protocol document shows a list of levels and no sequence.
    """

    asks: list[IncrementLevel] | IncrementLevel | None = None
    """
    Changed sell levels: the amount is the level's new total, replacing the old one; an empty string (what the engine sends) or zero (what the document says) removes the level. One flat `[price, amount]` pair from the engine, a list of pairs in the document.
    """
    bids: list[IncrementLevel] | IncrementLevel | None = None
    """
    Changed buy levels: the amount is the level's new total, replacing the old one; an empty string (what the engine sends) or zero (what the document says) removes the level. One flat `[price, amount]` pair from the engine, a list of pairs in the document.
    """
    sequence: int | None = None
    """
    Sequence number of this increment: consecutive per market (+1 each), restarting at 1 when the matching engine restarts. A jump means increments were missed.
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


@attrs.define(kw_only=True)
class GlobalTickersFrame1:
    """
    Wire frame of the public `global.tickers` stream: an object with exactly one key, `global.tickers`, whose value is a `GlobalTickers` map. Decoded as `StreamMessage(stream, GlobalTickers)`.
    """

    global_tickers: GlobalTickers = attrs.field(metadata={"wire": "global.tickers"})


GlobalTickersFrame: TypeAlias = tuple[Literal["global.tickers"], GlobalTickers] | GlobalTickersFrame1
"""
Wire frame of the public `global.tickers` stream: an object with exactly one key, `global.tickers`, whose value is a `GlobalTickers` map. Decoded as `StreamMessage(stream, GlobalTickers)`.
"""


MarketUpdateFrame: TypeAlias = dict[str, Any] | tuple[MarketUpdateFrameItem, MarketUpdate]
"""
Wire frame of the public `<market>.update` stream: an object with exactly one key, the stream name (matching `^[a-z0-9_]+\\.update$`), whose value is a `MarketUpdate`. Decoded as `StreamMessage(stream, MarketUpdate)`. peatio-core 0.4.0 to 0.4.4 sent the two-item array `[<stream>, payload]` instead; `encode` writes back the form that came in.
"""


PublicTradesFrame: TypeAlias = dict[str, Any] | tuple[PublicTradesFrameItem, PublicTrades]
"""
Wire frame of the public `<market>.trades` stream: an object with exactly one key, the stream name (matching `^[a-z0-9_]+\\.trades$`), whose value is a `PublicTrades`. Decoded as `StreamMessage(stream, PublicTrades)`. peatio-core 0.4.0 to 0.4.4 sent the two-item array `[<stream>, payload]` instead; `encode` writes back the form that came in.
"""


OrderBookSnapshotFrame: TypeAlias = dict[str, Any] | tuple[OrderBookSnapshotFrameItem, OrderBookSnapshot]
"""
Wire frame of the public `<market>.ob-snap` stream: an object with exactly one key, the stream name (matching `^[a-z0-9_]+\\.ob-snap$`), whose value is an `OrderBookSnapshot`. Decoded as `StreamMessage(stream, OrderBookSnapshot)`. peatio-core 0.4.0 to 0.4.4 sent the two-item array `[<stream>, payload]` instead; `encode` writes back the form that came in.
"""


OrderBookIncrementFrame: TypeAlias = dict[str, Any] | tuple[OrderBookIncrementFrameItem, OrderBookIncrement]
"""
Wire frame of the public `<market>.ob-inc` stream: an object with exactly one key, the stream name (matching `^[a-z0-9_]+\\.ob-inc$`), whose value is an `OrderBookIncrement`. Decoded as `StreamMessage(stream, OrderBookIncrement)`. peatio-core 0.4.0 to 0.4.4 sent the two-item array `[<stream>, payload]` instead; `encode` writes back the form that came in.
"""


@attrs.define(kw_only=True)
class OrderFrame1:
    """
    Wire frame of the `order` private stream: an object with exactly one key, `order`, whose value is an `Order`. peatio-core 0.4.0 to 0.4.4 sent the two-item array `[<stream>, payload]` instead; `encode` writes back the form that came in.
    """

    order: Order


OrderFrame: TypeAlias = tuple[Literal["order"], Order] | OrderFrame1
"""
Wire frame of the `order` private stream: an object with exactly one key, `order`, whose value is an `Order`. peatio-core 0.4.0 to 0.4.4 sent the two-item array `[<stream>, payload]` instead; `encode` writes back the form that came in.
"""


@attrs.define(kw_only=True)
class TradeFrame1:
    """
    Wire frame of the `trade` private stream: an object with exactly one key, `trade`, whose value is a `Trade`. peatio-core 0.4.0 to 0.4.4 sent the two-item array `[<stream>, payload]` instead; `encode` writes back the form that came in.
    """

    trade: Trade


TradeFrame: TypeAlias = tuple[Literal["trade"], Trade] | TradeFrame1
"""
Wire frame of the `trade` private stream: an object with exactly one key, `trade`, whose value is a `Trade`. peatio-core 0.4.0 to 0.4.4 sent the two-item array `[<stream>, payload]` instead; `encode` writes back the form that came in.
"""


ServerMessage: TypeAlias = GlobalTickersFrame | MarketUpdateFrame | PublicTradesFrame | KLineFrame | OrderBookSnapshotFrame | OrderBookIncrementFrame | OrderFrame | TradeFrame | DepositAddressFrame | SuccessFrame | ErrorFrame
"""
Any JSON frame the Ranger server sends: a one-key object `{"<stream>": payload}` (or the two-item array `["<stream>", payload]` of peatio-core 0.4.0 to 0.4.4), or a `success`/`error` reply.
"""


Peatio: TypeAlias = ServerMessage | ClientMessage
"""
Peatio Ranger websocket protocol. Streams are chosen with `?stream=` query parameters (repeatable) when connecting, or later with subscribe/unsubscribe events. Public streams: `global.tickers`, `<market>.trades`, `<market>.ob-inc` (whose subscribers first receive the stored snapshot under the key `<market>.ob-snap`), `<market>.kline-<period>`, and the older `<market>.update`; private streams (need authentication): `order`, `trade`, `deposit_address`. Every server frame is a JSON object with exactly one key: the stream name, or `success` / `error` for replies; peatio-core 0.4.0 to 0.4.4 (2018-08 to 2019-01) sent the same as a two-item array `["<stream>", payload]` instead. Decimals are strings, except in k-lines (JSON numbers). A client may send the text frame `ping` (answered by the text frame `pong`, peatio-core 2.4.4 and rango); no Ranger sends `ping` itself. These text frames are not JSON and are not described here.
"""
