"""In-process Onyx WebSocket server (``ws://127.0.0.1:PORT/``) for tests.

Speaks the Onyx websocket API v1 as its public sources show it: requests carry ``id`` and
``method`` and get a ``Response`` with the same ``id`` and ``method``. A request with an
unknown ``method`` (or a frame that is not a JSON request at all) makes the server close the
connection without a reply; so does a connection that has not authenticated within
``auth_timeout`` seconds. The document names no close code for either: this server uses 1008,
and the client does not rely on it.

Response ``message`` forms (one option, ``detail_messages``):

- ``{"Message": "subscribed to server_info"}`` (default): what the live server sends since
  about April 2024 (onyx-api-client ``tests/test_websocket.py``, onyx-otc
  ``tests/v1/test_websocket_v1.py``; the README now says ``"<object | string>"``);
- ``"subscribed to server_info"`` (``detail_messages=False``): the protocol document's form
  (``"message": "<string>"``), also what the server sent in February 2024.

Response texts follow those tests where they show one: ``subscribed to server_info``,
``unsubscribed from server_info``, ``already subscribed to dashboards``, ``not subscribed to
server_info`` (an error), ``authentication required for method subscribe`` (an error, to any
request before ``auth``), ``subscribed to tickers for product dub``, ``no products specified``
and ``no permissions for product <name> or product does not exist`` (errors). Texts no source
shows are this server's own: ``authenticated`` / ``invalid token`` (auth), ``bad request`` (a
request of a known method that does not decode; onyx-otc shows that text for a malformed
``order``), the text for several products, product groups and unknown groups. ``already
subscribed`` is answered with ``error`` false (no source shows the flag).

Channels:

- ``server_info``: ``ServerInfoEvent`` with the connection's uid and age;
- ``tickers``: ``TickersEvent`` for the products chosen by ``products`` (later form) or
  ``product_groups`` (document form; groups map to products via the ``products`` argument of
  :func:`open_onyx_server`); a product in none of the groups is refused, as the live server
  refuses one it does not know;
- ``dashboards``: the full list (``message_type`` 0) right after the subscribe response, then
  increments cycling create (2), update (1), delete (3) of a dashboard ``dash-<seq>``.

Sequence numbers: tickers carry ``timestamp_millis = SEQUENCE_EPOCH_MS + seq``; dashboard
increments carry the key ``"seq": seq`` in the dashboard object. ``server_info`` events and
the dashboards snapshot carry none. :meth:`OnyxServer.sequence_of` reads them back.

Subscription keys in :attr:`ConnectionRecord.subscriptions`: ``"server_info"``,
``"dashboards"``, ``"tickers:<product>"``.
"""

from __future__ import annotations

import copy
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import trio

from .. import onyx
from .._types import from_epoch_millis
from ..errors import DecodeError
from ..onyx import (
    AuthRequest,
    DashboardsIncrementEvent,
    DashboardsSnapshotEvent,
    PriceAmount,
    Response,
    ResponseDetail,
    ServerInfo,
    ServerInfoEvent,
    SubscribeRequest,
    Ticker,
    TickersChannel,
    TickersEvent,
    UnsubscribeRequest,
)
from ._accept import serve
from ._server import SEQUENCE_EPOCH_MS, AuthFaults, Connection, FeedServer, Frame, Target, as_object

__all__ = ["OnyxServer", "open_onyx_server"]

# The close code for unknown methods, auth timeout and rate limiting. Onyx documents none ("the
# server will terminate the connection"); 1008 is WebSocket's code for a broken rule.
POLICY_VIOLATION = 1008
_METHODS = frozenset({"auth", "subscribe", "unsubscribe"})

DEFAULT_PRODUCTS: Mapping[str, Sequence[str]] = {
    # `dub` and `ebob` are the products the public client's examples subscribe to.
    "crude": ("brt", "wti", "dub"),
    "gasoline": ("ebob", "rbob"),
    "distillates": ("gasoil",),
}
DEFAULT_DASHBOARDS: Sequence[Mapping[str, Any]] = (
    {"id": "dash-1", "name": "Crude", "symbols": ["brtz24", "brtf25"], "shared": False},
    {"id": "dash-2", "name": "Gasoline", "symbols": ["ebobz24"], "layout": {"columns": 2}},
)


class OnyxServer(AuthFaults, FeedServer):
    """The Onyx test server; see :func:`open_onyx_server` and the module docstring.

    Fault controls (besides those of :class:`~trio_feeds.testing.FeedServer`):
    :meth:`reject_auth`, :meth:`reject_auth_always`, :meth:`rate_limit`.
    """

    protocol = "onyx"
    codec = onyx.codec

    def __init__(
        self,
        *,
        token: str,
        rate: float | None,
        auth_timeout: float | None,
        products: Mapping[str, Sequence[str]],
        dashboards: Sequence[Mapping[str, Any]],
        detail_messages: bool,
        ws_ping_interval: float | None,
    ) -> None:
        super().__init__(rate=rate, ws_ping_interval=ws_ping_interval)
        self._token = token
        self.auth_timeout = auth_timeout
        self.products = {group: list(items) for group, items in products.items()}
        self.dashboards = [dict(d) for d in dashboards]
        self.detail_messages = detail_messages

    async def rate_limit(self, *, connection: Target = None) -> None:
        """Close with 1008 "Too many requests" (Onyx documents no rate-limit message)."""
        await self.close(POLICY_VIOLATION, "Too many requests", connection=connection)

    @staticmethod
    def sequence_of(message: object) -> int | None:
        """Return the sequence number of a generated ticker or dashboard increment, else ``None``."""
        obj = as_object(onyx.codec, message)
        if obj is None:
            return None
        body = obj.get("message")
        if obj.get("channel") == "tickers" and isinstance(body, list) and body and isinstance(body[0], dict):
            ts = body[0].get("timestamp_millis")
            return ts - SEQUENCE_EPOCH_MS if type(ts) is int and ts > SEQUENCE_EPOCH_MS else None
        if (
            obj.get("channel") == "dashboards"
            and obj.get("message_type") in (1, 2, 3)
            and isinstance(body, dict)
        ):
            seq = body.get("seq")
            return seq if type(seq) is int else None
        return None

    # -- protocol -------------------------------------------------------------------------------

    def _response(self, request_id: str, method: Any, text: str, *, error: bool = False) -> Response:
        message: str | ResponseDetail = ResponseDetail(text=text) if self.detail_messages else text
        return Response(id=request_id, method=method, message=message, error=error)

    def _setup(self, conn: Connection) -> None:
        conn.state["uid"] = f"conn-{conn.record.id}"

    async def _on_open(self, conn: Connection) -> None:
        if self.auth_timeout is None:
            return
        await trio.sleep(self.auth_timeout)
        if not conn.record.authenticated:
            await conn.close(POLICY_VIOLATION, "authentication timeout")

    async def _on_message(self, conn: Connection, frame: Frame) -> None:
        obj = as_object(onyx.codec, frame)
        method = obj.get("method") if obj is not None else None
        if obj is None or method not in _METHODS or not isinstance(obj.get("id"), str):
            # The document: an invalid method terminates the connection without a response.
            await conn.close(POLICY_VIOLATION, "invalid method")
            return
        request_id: str = obj["id"]
        try:
            msg = onyx.decode(frame)
        except DecodeError:
            await self._reply(conn, self._response(request_id, method, "bad request", error=True))
            return
        record = conn.record
        if isinstance(msg, AuthRequest):
            ok = self._auth_verdict(msg.token == self._token)
            record.auth_attempts.append(ok)
            record.authenticated = record.authenticated or ok
            text = "authenticated" if ok else "invalid token"
            await self._reply(conn, self._response(request_id, method, text, error=not ok))
        elif isinstance(msg, SubscribeRequest | UnsubscribeRequest):
            if not record.authenticated:
                text = f"authentication required for method {method}"
                await self._reply(conn, self._response(request_id, method, text, error=True))
                return
            await self._subscription(conn, msg)
        else:  # a known method in another shape, e.g. a Response sent to the server
            await self._reply(conn, self._response(request_id, method, "bad request", error=True))

    async def _subscription(self, conn: Connection, msg: SubscribeRequest | UnsubscribeRequest) -> None:
        subs = conn.record.subscriptions
        channel = msg.channel
        subscribe = isinstance(msg, SubscribeRequest)
        if isinstance(channel, TickersChannel):
            keys, error = self._ticker_keys(channel, subscribe=subscribe, subs=subs)
            if error:
                await self._reply(conn, self._response(msg.id, msg.method, error, error=True))
                return
            name = _tickers_name(keys)
        else:
            name = channel
            keys = [channel]
        if not subscribe:
            if not any(k in subs for k in keys):
                await self._reply(
                    conn, self._response(msg.id, msg.method, f"not subscribed to {name}", error=True)
                )
                return
            subs[:] = [k for k in subs if k not in keys]
            await self._reply(conn, self._response(msg.id, msg.method, f"unsubscribed from {name}"))
            return
        if not isinstance(channel, TickersChannel) and channel in subs:
            # No new snapshot either: the subscription is unchanged.
            await self._reply(conn, self._response(msg.id, msg.method, f"already subscribed to {name}"))
            return
        response = self._response(msg.id, msg.method, f"subscribed to {name}")
        if name == "dashboards":
            # The full state first, sent with the response so no increment can come between.
            state: list[dict[str, Any]] = copy.deepcopy(self.dashboards)
            conn.state["dashboards"] = state
            conn.state["dash_step"] = 0
            snapshot = DashboardsSnapshotEvent(
                channel="dashboards", message=copy.deepcopy(state), message_type=0
            )
            await self._reply(conn, response, snapshot)
        else:
            await self._reply(conn, response)
        subs.extend(k for k in keys if k not in subs)

    def _ticker_keys(
        self, channel: TickersChannel, *, subscribe: bool, subs: list[str]
    ) -> tuple[list[str], str]:
        """The subscription keys a tickers filter names, or an error text."""
        flt = channel.tickers
        products: list[str] = list(flt.products or [])
        known = {p for group in self.products.values() for p in group}
        for product in products:
            if product not in known:
                return [], f"no permissions for product {product} or product does not exist"
        for group in flt.product_groups or []:
            if group not in self.products:
                return [], f"unknown product group: {group}"
            products.extend(self.products[group])
        if not products:
            if subscribe:
                return [], "no products specified"
            return [k for k in subs if k.startswith("tickers:")], ""
        return [f"tickers:{p}" for p in dict.fromkeys(products)], ""

    def _next_data(self, conn: Connection) -> Frame | None:
        key = conn.next_in_turn(conn.record.subscriptions)
        if key is None:
            return None
        if key == "server_info":
            age = int((trio.current_time() - conn.record.opened_at) * 1000)
            info = ServerInfo(uid=conn.state.get("uid", ""), timestamp=datetime.now(UTC), age_millis=age)
            return onyx.encode(ServerInfoEvent(channel="server_info", message=info, message_type=0))
        seq = conn.record.next_sequence()
        if key == "dashboards":
            return onyx.encode(self._dashboard_increment(conn, seq))
        product = key.split(":", 1)[1]
        bid = Decimal(745) + Decimal(seq % 40) / 4
        ask = bid + Decimal("0.5")
        ticker = Ticker(
            symbol=f"{product}z24",
            product_symbol=product,
            timestamp=from_epoch_millis(SEQUENCE_EPOCH_MS + seq),  # on the wire: timestamp_millis
            mid=(bid + ask) / 2,
            bid=PriceAmount(price=bid, amount=Decimal(5)),
            ask=PriceAmount(price=ask, amount=Decimal("3.5")),
        )
        return onyx.encode(TickersEvent(channel="tickers", message=[ticker], message_type=1))

    def _dashboard_increment(self, conn: Connection, seq: int) -> DashboardsIncrementEvent:
        # Cycle create -> update -> delete of one dashboard, so the set stays bounded and a
        # client that applies increments to the snapshot ends where the server is.
        state: list[dict[str, Any]] = conn.state.setdefault("dashboards", copy.deepcopy(self.dashboards))
        step = conn.state.get("dash_step", 0)
        conn.state["dash_step"] = step + 1
        if step % 3 == 0:
            dash: dict[str, Any] = {
                "id": f"dash-{seq}",
                "name": f"Dashboard {seq}",
                "symbols": ["brtz24"],
                "seq": seq,
            }
            state.append(dash)
            kind = 2
        else:
            dash = state[-1]
            dash["seq"] = seq
            if step % 3 == 1:
                dash["symbols"] = [*dash["symbols"], "brtf25"]
                kind = 1
            else:
                state.pop()
                kind = 3
        message_type: Any = kind
        return DashboardsIncrementEvent(
            channel="dashboards", message=copy.deepcopy(dash), message_type=message_type
        )


def _tickers_name(keys: Sequence[str]) -> str:
    """How responses name a tickers subscription: ``tickers for product dub`` (live server)."""
    products = [k.split(":", 1)[1] for k in keys]
    if not products:
        return "tickers"
    if len(products) == 1:
        return f"tickers for product {products[0]}"
    return f"tickers for products {', '.join(products)}"  # our own text: no source shows several


@asynccontextmanager
async def open_onyx_server(
    *,
    token: str = "test-token",
    rate: float | None = 100.0,
    auth_timeout: float | None = 5.0,
    products: Mapping[str, Sequence[str]] = DEFAULT_PRODUCTS,
    dashboards: Sequence[Mapping[str, Any]] = DEFAULT_DASHBOARDS,
    detail_messages: bool = True,
    ws_ping_interval: float | None = None,
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[OnyxServer]:
    """Run an Onyx test server on ``127.0.0.1`` for the duration of the context.

    Args:
        token: the only API token accepted.
        rate: generated events per second per connection, round-robin over its
            subscriptions; ``None`` or 0: only :meth:`~trio_feeds.testing.FeedServer.push`.
        auth_timeout: seconds a connection may stay unauthenticated before it is closed with
            1008 (the real server: about 5, with an undocumented code); ``None``: never.
        products: product group -> product symbols, for ``product_groups`` filters; a
            ``products`` filter naming a symbol in no group is refused.
        dashboards: the user's dashboards at the start (the snapshot of a new subscription).
        detail_messages: send response ``message`` as ``{"Message": ...}``, the live server's
            form (default); ``False``: as a plain string, the protocol document's form.
        ws_ping_interval: send WebSocket ping frames this often as the heartbeat (``None``: none).
        port: the TCP port on 127.0.0.1 (default 0: a free one, see ``server.port``).
        ssl_context: serve ``wss://`` with this server-side TLS context (a certificate
            loaded; :func:`trio_feeds.testing.tls.tls_contexts` makes one); ``None``: ``ws://``.
    """
    server = OnyxServer(
        token=token,
        rate=rate,
        auth_timeout=auth_timeout,
        products=products,
        dashboards=dashboards,
        detail_messages=detail_messages,
        ws_ping_interval=ws_ping_interval,
    )
    async with serve(server, port=port, ssl_context=ssl_context) as running:
        yield running
