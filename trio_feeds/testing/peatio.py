"""In-process Peatio Ranger server (``ws://127.0.0.1:PORT/?stream=...``) for tests.

Speaks both forms of the Ranger protocol:

- Streams come from the ``?stream=`` query parameters of the handshake (repeatable; build the
  URL with :meth:`PeatioServer.url_for`) and from ``{"event": "subscribe"|"unsubscribe",
  "streams": [...]}`` requests, answered by ``{"success": {"message": "subscribed"|
  "unsubscribed", "streams": [<the connection's active streams>]}}``.
- Authentication by the message ``{"jwt": "Bearer <token>"}`` (document form), answered by
  ``success`` "Authenticated." or ``error`` "Authentication failed." / "Token type is not
  provided or invalid."; or by an ``Authorization: Bearer <token>`` handshake header (later
  form), where a wrong token rejects the handshake with HTTP 401.
- Private streams (``order``, ``trade``, ``deposit_address``) are only delivered to an
  authenticated connection: asked for before that, they wait and become active on
  authentication (they are not listed in ``success`` replies until then).
- Public streams ``<market>.trades``, ``<market>.update``, ``<market>.ob-snap`` and
  ``<market>.ob-inc``; a new ``ob-inc`` subscriber first gets the ``<market>.ob-snap``
  snapshot of the connection's book, then increments that apply to it.
- The text frame ``ping`` is answered by ``pong``; with ``ping_interval`` the server also
  sends ``ping`` itself (a heartbeat; :meth:`~trio_feeds.testing.FeedServer.stop_heartbeats`).
- Anything else gets ``{"error": {"message": "Error while handling message."}}``.

Sequence numbers: public trades carry ``tid = seq`` (one trade per frame), private orders and
trades ``id = seq``. Book and market-update frames carry none. :meth:`PeatioServer.sequence_of`
reads them back. :attr:`ConnectionRecord.subscriptions` lists the active stream names.
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import trio
from wsproto.events import Request

from .. import peatio
from .._types import from_epoch_seconds, sent_as_epoch_seconds
from ..errors import DecodeError
from ..peatio import (
    AuthRequest,
    DepositAddress,
    DepositAddressAttributes,
    Error,
    MarketUpdate,
    Order,
    OrderBookIncrement,
    OrderBookSnapshot,
    PublicTrade,
    PublicTrades,
    StreamMessage,
    SubscribeRequest,
    Success,
    Trade,
    UnsubscribeRequest,
)
from ._accept import serve
from ._server import AuthFaults, Connection, ConnectionRecord, FeedServer, Frame, Target, as_object

__all__ = ["PeatioServer", "open_peatio_server"]

PRIVATE_STREAMS = frozenset({"order", "trade", "deposit_address"})
_PUBLIC = re.compile(r"^([a-z0-9_]+)\.(trades|update|ob-snap|ob-inc)$")
_BOOK_LEVELS = 10
_TICK = Decimal("0.5")


def _error(text: str) -> StreamMessage[Error]:
    return StreamMessage(stream="error", data=Error(message=text))


def _success(text: str, streams: list[str] | None = None) -> StreamMessage[Success]:
    return StreamMessage(stream="success", data=Success(message=text, streams=streams))


class _Book:
    """One market's order book as one connection knows it: snapshots and increments agree."""

    def __init__(self) -> None:
        mid = Decimal(100)
        self.asks = {mid + _TICK * i: Decimal(i) for i in range(1, _BOOK_LEVELS + 1)}
        self.bids = {mid - _TICK * i: Decimal(i) for i in range(1, _BOOK_LEVELS + 1)}
        self.ticks = 0

    def snapshot(self) -> OrderBookSnapshot:
        return OrderBookSnapshot(
            asks=[(p, v) for p, v in sorted(self.asks.items())],
            bids=[(p, v) for p, v in sorted(self.bids.items(), reverse=True)],
        )

    def increment(self) -> OrderBookIncrement:
        # Deterministic walk over the levels; volume 0 removes a level, a later tick restores it.
        self.ticks += 1
        n = self.ticks
        price_offset = _TICK * (n % _BOOK_LEVELS + 1)
        volume = Decimal(n % 5) / 2
        if n % 2:
            price = Decimal(100) + price_offset
            self._apply(self.asks, price, volume)
            return OrderBookIncrement(asks=[(price, volume)])
        price = Decimal(100) - price_offset
        self._apply(self.bids, price, volume)
        return OrderBookIncrement(bids=[(price, volume)])

    @staticmethod
    def _apply(side: dict[Decimal, Decimal], price: Decimal, volume: Decimal) -> None:
        if volume:
            side[price] = volume
        else:
            side.pop(price, None)


class PeatioServer(AuthFaults, FeedServer):
    """The Peatio Ranger test server; see :func:`open_peatio_server` and the module docstring.

    Fault controls (besides those of :class:`~trio_feeds.testing.FeedServer`):
    :meth:`reject_auth`, :meth:`reject_auth_always` (for the header form the handshake is
    rejected with 401), :meth:`rate_limit`.
    """

    protocol = "peatio"
    codec = peatio.codec

    def __init__(
        self,
        *,
        token: str,
        rate: float | None,
        ping_interval: float | None,
        market: str,
        ws_ping_interval: float | None,
    ) -> None:
        super().__init__(rate=rate, ws_ping_interval=ws_ping_interval)
        self._token = token
        self.ping_interval = ping_interval
        """Seconds between the server's text ``ping`` frames (``None``: none). Settable."""
        self.market = market

    def url_for(self, *streams: str) -> str:
        """Return the URL with ``?stream=`` parameters, e.g. ``url_for("btcusd.trades", "order")``."""
        query = urlencode([("stream", s) for s in streams])
        return f"{self.url}?{query}" if streams else self.url

    async def rate_limit(self, *, connection: Target = None) -> None:
        """Send an ``error`` reply "Too many requests", then close with 1008."""
        conns = self._targets(connection)
        for conn in conns:
            await self._reply(conn, _error("Too many requests"))
            await conn.close(1008, "Too many requests")
        for conn in conns:
            await conn.finished.wait()

    @staticmethod
    def sequence_of(message: object) -> int | None:
        """Return the sequence number of a generated public trade, private order or private trade.

        Takes frame text, a parsed ``dict`` or a decoded :class:`~trio_feeds.peatio.StreamMessage`;
        ``None`` for other frames (books, replies, ``ping``).
        """
        obj = as_object(peatio.codec, message)
        if obj is None or len(obj) != 1:
            return None
        ((stream, payload),) = obj.items()
        if not isinstance(payload, dict):
            return None
        if stream.endswith(".trades"):
            trades = payload.get("trades")
            if isinstance(trades, list) and trades and isinstance(trades[0], dict):
                tid = trades[0].get("tid")
                return tid if type(tid) is int else None
            return None
        if stream in ("order", "trade"):
            ident = payload.get("id")
            return ident if type(ident) is int else None
        return None

    # -- handshake and auth ---------------------------------------------------------------------

    def _check_handshake(self, record: ConnectionRecord, request: Request) -> int | None:
        header = record.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        ok = self._auth_verdict(scheme == "Bearer" and token == self._token)
        record.auth_attempts.append(ok)
        record.authenticated = ok
        return None if ok else 401

    def _setup(self, conn: Connection) -> None:
        conn.state["pending"] = []
        conn.state["books"] = {}

    async def _on_open(self, conn: Connection) -> None:
        query = parse_qs(urlsplit(conn.record.target).query)
        await self._add_streams(conn, query.get("stream", []))
        self._notify()

    async def _add_streams(self, conn: Connection, streams: Sequence[str]) -> None:
        subs = conn.record.subscriptions
        pending: list[str] = conn.state["pending"]
        for stream in dict.fromkeys(streams):
            if stream in subs:
                continue
            if stream in PRIVATE_STREAMS and not conn.record.authenticated:
                if stream not in pending:
                    pending.append(stream)
                continue
            match = _PUBLIC.match(stream)
            if match and match.group(2) == "ob-inc":
                # A new increment subscriber gets the latest snapshot first.
                book = self._book(conn, match.group(1))
                snap = StreamMessage(stream=f"{match.group(1)}.ob-snap", data=book.snapshot())
                if not await self._reply(conn, snap):
                    return
            subs.append(stream)

    def _book(self, conn: Connection, market: str) -> _Book:
        books: dict[str, _Book] = conn.state["books"]
        if market not in books:
            books[market] = _Book()
        return books[market]

    async def _on_message(self, conn: Connection, frame: Frame) -> None:
        if frame == "ping":
            await self._reply(conn, "pong")
            return
        if frame == "pong":
            return  # the answer to our heartbeat; recorded in `received`
        try:
            msg = peatio.decode(frame)
        except DecodeError as exc:
            if exc.path == "$.jwt":
                # Not `Bearer <token>`: the schema's pattern refuses it when decoding.
                conn.record.auth_attempts.append(False)
                await self._reply(conn, _error("Token type is not provided or invalid."))
                return
            await self._reply(conn, _error("Error while handling message."))
            return
        record = conn.record
        if isinstance(msg, AuthRequest):
            scheme, _, token = msg.jwt.partition(" ")
            if scheme != "Bearer" or not token:
                record.auth_attempts.append(False)
                await self._reply(conn, _error("Token type is not provided or invalid."))
                return
            ok = self._auth_verdict(token == self._token)
            record.auth_attempts.append(ok)
            if not ok:
                await self._reply(conn, _error("Authentication failed."))
                return
            record.authenticated = True
            await self._reply(conn, _success("Authenticated."))
            pending: list[str] = conn.state["pending"]
            waiting, pending[:] = list(pending), []
            await self._add_streams(conn, waiting)
        elif isinstance(msg, SubscribeRequest):
            await self._reply(conn, _success("subscribed", self._ack_streams(conn, msg.streams)))
            await self._add_streams(conn, msg.streams)
        elif isinstance(msg, UnsubscribeRequest):
            gone = set(msg.streams)
            record.subscriptions[:] = [s for s in record.subscriptions if s not in gone]
            conn.state["pending"][:] = [s for s in conn.state["pending"] if s not in gone]
            await self._reply(conn, _success("unsubscribed", list(record.subscriptions)))
        else:
            await self._reply(conn, _error("Error while handling message."))

    def _ack_streams(self, conn: Connection, new: Sequence[str]) -> list[str]:
        # The ack goes out before the ob-snap snapshots, so compute the list it announces.
        active = list(conn.record.subscriptions)
        for stream in dict.fromkeys(new):
            allowed = stream not in PRIVATE_STREAMS or conn.record.authenticated
            if allowed and stream not in active:
                active.append(stream)
        return active

    # -- data -----------------------------------------------------------------------------------

    def _next_data(self, conn: Connection) -> Frame | None:
        stream = conn.next_in_turn(
            [s for s in conn.record.subscriptions if s in PRIVATE_STREAMS or _PUBLIC.match(s)]
        )
        if stream is None:
            return None
        match = _PUBLIC.match(stream)
        payload: Any
        if match:
            market, kind = match.groups()
            book = self._book(conn, market)
            if kind == "trades":
                seq = conn.record.next_sequence()
                trade = PublicTrade(
                    tid=seq,
                    taker_type="buy" if seq % 2 else "sell",
                    price=Decimal(100) + Decimal(seq % 20) / 4,
                    amount=Decimal("0.1") * (seq % 9 + 1),
                    date=from_epoch_seconds(int(time.time())),
                )
                payload = PublicTrades(trades=[trade])
            elif kind == "update":
                snap = book.snapshot()
                payload = MarketUpdate(asks=snap.asks, bids=snap.bids)
            elif kind == "ob-snap":
                payload = book.snapshot()
            else:
                payload = book.increment()
        elif stream == "deposit_address":
            n = conn.state["deposits"] = conn.state.get("deposits", 0) + 1
            payload = DepositAddress(
                type="create", attributes=DepositAddressAttributes(currency="btc", address=f"2N{n:032d}")
            )
        else:
            payload = self._private(stream, conn.record.next_sequence())
        return peatio.encode(StreamMessage(stream=stream, data=payload))

    def _private(self, stream: str, seq: int) -> Order | Trade:
        seconds = int(time.time())
        at = from_epoch_seconds(seconds)
        # Integer seconds on the wire, as the peatio code publishes these events.
        now = sent_as_epoch_seconds(seconds)
        price = Decimal(1000) + Decimal(seq % 40) / 2
        side: Literal["buy", "sell"] = "buy" if seq % 2 else "sell"
        if stream == "order":
            return Order(
                id=seq,
                market=self.market,
                kind="bid" if side == "buy" else "ask",
                side=side,
                ord_type="limit",
                price=price,
                avg_price=Decimal("0.0"),
                state="wait",
                origin_volume=Decimal("0.5"),
                remaining_volume=Decimal("0.5"),
                executed_volume=Decimal("0.0"),
                at=at,
                created_at=now,
                updated_at=now,
                trades_count=0,
            )
        amount = Decimal("0.2")
        return Trade(
            id=seq,
            price=price,
            amount=amount,
            total=price * amount,
            market=self.market,
            side=side,
            taker_type=side,
            created_at=now,
            order_id=seq,
        )

    async def _heartbeat(self, conn: Connection) -> None:
        while True:
            interval = self.ping_interval
            if interval is None:
                await self.wait_for(lambda: self.ping_interval is not None, timeout=float("inf"))
                continue
            await trio.sleep(interval)
            await self._heartbeats_on()
            if not await self._reply(conn, "ping"):
                return


@asynccontextmanager
async def open_peatio_server(
    *,
    token: str = "test-token",
    rate: float | None = 100.0,
    ping_interval: float | None = None,
    market: str = "btcusd",
    ws_ping_interval: float | None = None,
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[PeatioServer]:
    """Run a Peatio Ranger test server on ``127.0.0.1`` for the duration of the context.

    Args:
        token: the only JWT accepted (``Bearer <token>`` in the ``jwt`` message or the
            ``Authorization`` header). Any string: the server does not parse it.
        rate: generated frames per second per connection, round-robin over its active
            streams; ``None`` or 0: only :meth:`~trio_feeds.testing.FeedServer.push`.
        ping_interval: send the text frame ``ping`` this often (later servers); ``None``: never.
        market: the market of generated private orders and trades.
        ws_ping_interval: also send WebSocket ping frames this often (``None``: never).
        port: the TCP port on 127.0.0.1 (default 0: a free one, see ``server.port``).
        ssl_context: serve ``wss://`` with this server-side TLS context (a certificate
            loaded; :func:`trio_feeds.testing.tls.tls_contexts` makes one); ``None``: ``ws://``.
    """
    server = PeatioServer(
        token=token, rate=rate, ping_interval=ping_interval, market=market, ws_ping_interval=ws_ping_interval
    )
    async with serve(server, port=port, ssl_context=ssl_context) as running:
        yield running
