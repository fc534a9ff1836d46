# DO NOT EDIT: generated from schemas/onyx.json by codegen/generate.py.
# Regenerate with `nox -s codegen`; CI fails when this file and the schema drift apart.
"""Typed models for the Onyx protocol, generated from ``schemas/onyx.json``."""

from __future__ import annotations

import attrs
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeAlias

from trio_feeds._types import EpochMillis

DecimalString: TypeAlias = Decimal


@attrs.define(kw_only=True)
class AuthRequest:
    """
    Authenticate the connection with an API token. Send it first: the server closes a connection that has not authenticated within about 5 seconds (no close code is documented), and (our reading; no public source shows it) answers other requests with an error response until then (`authentication required for method subscribe`). The server replies with a `Response` carrying the same `id`; `error` true means the token was refused.
    """

    id: str
    """
    Client-chosen request id, echoed in the response (e.g. `msg:1`).
    """
    method: Literal["auth"] = attrs.field(default="auth", metadata={"tag": True})
    token: str
    """
    Onyx API token.
    """


ChannelName: TypeAlias = Literal["server_info", "dashboards"]
"""
A channel that takes no parameters, named by a plain string.
"""


@attrs.define(kw_only=True)
class TickersFilter:
    """
    Which tickers to stream. The document form filters by `product_groups`; later servers filter by `products` (product symbols such as `ebob`, `dub`). Give at least one of the two: the server answers an empty `products` list with the error `no products specified`, and a product it does not know (or the user may not see) with `no permissions for product <name> or product does not exist`.
    """

    products: list[str] | None = None
    """
    Product symbols (later form), e.g. `["ebob"]`.
    """
    product_groups: list[str] | None = None
    """
    Product groups (document form), e.g. `["crude"]`.
    """


@attrs.define(kw_only=True)
class ResponseDetail:
    """
    The object form of a response's `message`, as the live server sends it: `{"Message": "subscribed to server_info"}`.
    """

    text: str = attrs.field(metadata={"wire": "Message"})
    """
    The result or error text.
    """


@attrs.define(kw_only=True)
class ServerInfo:
    """
    State of the websocket connection as seen by the server.
    """

    uid: str
    """
    Unique identifier of this websocket connection.
    """
    timestamp: datetime
    """
    UTC time when the server sent the event.
    """
    age_millis: int | float = attrs.field(metadata={"minimum": 0})
    """
    Milliseconds since the websocket connection was established: any JSON number (the document says `<number>`). An integer stays an `int` and a fraction is a `float`, as Python's `json` reads them, so `encode` writes back the number that came in.
    """


@attrs.define(kw_only=True)
class PriceAmount:
    """
    A price level: price and the amount available at it.
    """

    price: DecimalString
    amount: DecimalString


Dashboard: TypeAlias = dict[str, Any]
"""
One of the user's dashboards, kept as the JSON object the server sends (a `dict`). Neither the protocol document nor the public client specifies its fields, so no key is assumed.
"""


@attrs.define(kw_only=True)
class DashboardsSnapshotEvent:
    """
    The full state of the user's dashboards: the first `dashboards` event after subscribing. Replace any dashboards held so far with this list; `DashboardsIncrementEvent`s follow.
    """

    channel: Literal["dashboards"] = attrs.field(
        default="dashboards", metadata={"tag": True}
    )
    message: list[Dashboard]
    """
    Every dashboard of the user.
    """
    message_type: Literal[0] = attrs.field(default=0, metadata={"tag": True})
    """
    0 (not specified): a full snapshot.
    """


@attrs.define(kw_only=True)
class DashboardsIncrementEvent:
    """
    A change to one of the user's dashboards, after the snapshot: `message_type` 1 means the dashboard was updated, 2 created, 3 deleted. Apply it to the set from `DashboardsSnapshotEvent`.
    """

    channel: Literal["dashboards"] = attrs.field(
        default="dashboards", metadata={"tag": True}
    )
    message: Dashboard
    """
    The dashboard that changed. What a delete carries (the whole dashboard or only its key) is not documented.
    """
    message_type: Literal[1, 2, 3]
    """
    1 update, 2 create, 3 delete.
    """


@attrs.define(kw_only=True)
class TickersChannel:
    """
    The `tickers` channel with its filter, as sent in a subscribe or unsubscribe request: `{"tickers": {"products": ["ebob"]}}` (later form) or `{"tickers": {"product_groups": ["crude"]}}` (document form).
    """

    tickers: TickersFilter


@attrs.define(kw_only=True)
class Response:
    """
    The server's answer to a request, with the request's `id` and `method`. If `error` is true, `message` says what went wrong; otherwise the request succeeded and `message` is informative (e.g. `subscribed to server_info`). `message` has two forms: a plain string (the document's form, and what the server sent in early 2024) and an object `{"Message": "..."}` (what the live server sends since about April 2024, for results and errors alike; the document now says `<object | string>`). A request with an unknown `method` gets no response: the server closes the connection (no close code is documented).
    """

    id: str
    """
    The `id` of the request this answers.
    """
    method: Literal["auth", "subscribe", "unsubscribe"]
    """
    The `method` of the request this answers.
    """
    message: str | ResponseDetail
    """
    Result or error text: a plain string (document form) or a `ResponseDetail` object (live server).
    """
    error: bool
    """
    True if the request failed; `message` then holds the error.
    """


@attrs.define(kw_only=True)
class ServerInfoEvent:
    """
    A `server_info` event about this websocket connection, sent from time to time while subscribed to `server_info` (the interval is not documented).
    """

    channel: Literal["server_info"] = attrs.field(
        default="server_info", metadata={"tag": True}
    )
    message: ServerInfo
    message_type: Literal[0] = attrs.field(default=0, metadata={"tag": True})
    """
    Always 0 (not specified) for this channel.
    """


@attrs.define(kw_only=True)
class Ticker:
    """
    Top of book of one tradable symbol (a contract of a product).
    """

    symbol: str
    """
    Tradable symbol, e.g. `brtz24`.
    """
    timestamp: EpochMillis = attrs.field(
        metadata={"wire": "timestamp_millis", "minimum": 0}
    )
    """
    Time of the quote, milliseconds since the Unix epoch (UTC) on the wire. The Python attribute is `timestamp` (an aware UTC datetime); the wire name stays `timestamp_millis`.
    """
    bid: PriceAmount
    """
    Best bid.
    """
    ask: PriceAmount
    """
    Best ask.
    """
    product_symbol: str | None = None
    """
    Product the symbol belongs to, e.g. `ebob` (later form).
    """
    mid: DecimalString | None = None
    """
    Mid price (later form).
    """


@attrs.define(kw_only=True)
class SubscribeRequest:
    """
    Subscribe to a channel. `channel` is the channel name (`server_info`, `dashboards`) or, for channels that take parameters, an object such as `{"tickers": {"products": [...]}}`. The server replies with a `Response` (e.g. `subscribed to server_info`; a channel already subscribed gets `already subscribed to dashboards`), then sends the channel's events.
    """

    id: str
    """
    Client-chosen request id, echoed in the response (e.g. `msg:2`).
    """
    method: Literal["subscribe"] = attrs.field(
        default="subscribe", metadata={"tag": True}
    )
    channel: ChannelName | TickersChannel
    """
    The channel: a plain channel name, or a parameterised channel object.
    """


@attrs.define(kw_only=True)
class UnsubscribeRequest:
    """
    Stop a subscription. `channel` takes the same forms as in `SubscribeRequest` (also for `tickers`: the object form `{"tickers": {"products": [...]}}`, which is what the document's malformed `"channel": "tickers": {...}` example means). The server replies with a `Response` (`unsubscribed from server_info`; and, in our reading (no public source shows it), an error response `not subscribed to server_info` if the connection was not subscribed).
    """

    id: str
    """
    Client-chosen request id, echoed in the response.
    """
    method: Literal["unsubscribe"] = attrs.field(
        default="unsubscribe", metadata={"tag": True}
    )
    channel: ChannelName | TickersChannel
    """
    The channel: a plain channel name, or a parameterised channel object.
    """


@attrs.define(kw_only=True)
class TickersEvent:
    """
    Ticker updates for the subscribed products: a list of tickers, each the best bid and ask of one symbol.
    """

    channel: Literal["tickers"] = attrs.field(default="tickers", metadata={"tag": True})
    message: list[Ticker]
    """
    The tickers of this update.
    """
    message_type: Literal[1] = attrs.field(default=1, metadata={"tag": True})
    """
    Always 1 (update) for this channel.
    """


ServerMessage: TypeAlias = Response | ServerInfoEvent | TickersEvent | DashboardsSnapshotEvent | DashboardsIncrementEvent
"""
Any frame the Onyx server sends: a response to a request, or a channel event.
"""


ClientMessage: TypeAlias = AuthRequest | SubscribeRequest | UnsubscribeRequest
"""
Any request a client sends to the Onyx server.
"""


Onyx: TypeAlias = ServerMessage | ClientMessage
"""
Onyx websocket API v1 (wss://ws.onyxhub.co/stream/v1), JSON text frames. The client sends requests with an `id` and a `method` (`auth`, `subscribe`, `unsubscribe`); the server answers each valid request with a response carrying the same `id` and `method`, and pushes events tagged by `channel` (`server_info`, `tickers`, `dashboards`) to subscribed clients. A server frame with `method` is a response, one with `channel` is an event.
"""
