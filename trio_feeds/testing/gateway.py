"""In-process trading gateway server (``ws://127.0.0.1:PORT/ws``) for tests.

Speaks the gateway document: ``authenticate`` (HMAC-SHA256 signature checked), ``subscribe`` /
``unsubscribe`` acknowledged with the request's channels and params, data for each subscribed
channel and symbol, a server ``ping`` after ``idle_ping`` seconds without traffic and a close
when no ``pong`` follows within ``pong_timeout``, and a ``close`` event before every close frame.

Sequence numbers: every generated channel message carries the connection's sequence number as
``data.timestamp = SEQUENCE_EPOCH_MS + seq``; ``trades`` and ``orders`` also as ``data.id =
str(seq)``. :meth:`GatewayServer.sequence_of` reads it back.

Subscription keys in :attr:`ConnectionRecord.subscriptions`: ``"<channel>:<exchange>:<symbol>"``,
and ``"system_events:<exchange>"``.

Order books: each ``orderbook`` message is the whole book at the subscribed depth, so the true
book of ``(exchange, symbol)`` is the last one sent: :meth:`~trio_feeds.testing.FeedServer.book`,
and :meth:`~trio_feeds.testing.FeedServer.book_as_of` for the book a given frame carried.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, Literal

import trio

from .. import gateway
from .._codecs import UnknownMessage
from .._types import EpochMillis, from_epoch_millis, to_epoch_millis
from ..errors import DecodeError
from ..gateway import (
    AuthenticatedEvent,
    AuthenticateRequest,
    CloseEvent,
    ErrorEvent,
    MarketDataMessage,
    Order,
    OrderBook,
    OrderbookMessage,
    OrderFee,
    OrdersMessage,
    PingEvent,
    PongMessage,
    Position,
    PositionsMessage,
    SubscribedEvent,
    SubscribeRequest,
    SubscriptionParams,
    SystemEventData,
    SystemEventsMessage,
    Ticker,
    Trade,
    TradesMessage,
    UnsubscribedEvent,
    UnsubscribeRequest,
)
from ._accept import serve
from ._server import (
    SEQUENCE_EPOCH_MS,
    AuthFaults,
    BookState,
    Connection,
    FeedServer,
    Frame,
    Target,
    as_object,
)

__all__ = ["GatewayServer", "open_gateway_server", "sign"]

Signer = Callable[[str, str, int], str]
"""``signer(api_key, api_secret, timestamp_ms) -> signature``."""

_SYMBOL = re.compile(r"^[A-Z0-9]{2,30}$")
PONG_TIMEOUT_CODE = 1008  # policy violation: the client broke the heartbeat rule


def sign(api_key: str, api_secret: str, timestamp: int) -> str:
    """Return the default gateway signature.

    That is the hex HMAC-SHA256 of ``f"{timestamp}{api_key}"`` keyed by the API secret.
    """
    return hmac.new(api_secret.encode(), f"{timestamp}{api_key}".encode(), hashlib.sha256).hexdigest()


class GatewayServer(AuthFaults, FeedServer):
    """The gateway test server; see :func:`open_gateway_server` and the module docstring.

    Fault controls (besides those of :class:`~trio_feeds.testing.FeedServer`):
    :meth:`reject_auth`, :meth:`reject_auth_always`, :meth:`rate_limit`, :meth:`ping`.
    """

    protocol = "gateway"
    codec = gateway.codec
    path = "/ws"

    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        rate: float | None,
        idle_ping: float | None,
        pong_timeout: float,
        exchange: str,
        symbols: Sequence[str],
        signer: Signer,
        max_clock_skew: float | None,
        close_events: bool,
        ws_ping_interval: float | None,
    ) -> None:
        super().__init__(rate=rate, ws_ping_interval=ws_ping_interval)
        self.api_key = api_key
        self._api_secret = api_secret
        self.idle_ping = idle_ping
        """Seconds without traffic before the server sends ``ping`` (``None``: never). Settable."""
        self.pong_timeout = pong_timeout
        """Seconds the client has to answer a ``ping`` before the server closes. Settable."""
        self.exchange = exchange
        self.symbols = list(symbols)
        self._signer = signer
        self._max_skew = max_clock_skew
        self._close_events = close_events

    # -- public controls --------------------------------------------------------------------

    async def ping(self, *, connection: Target = None) -> None:
        """Send a ``ping`` event now, whatever the traffic; returns once the pings are sent.

        Unless a ``pong`` arrives within :attr:`pong_timeout` seconds the server closes (1008).
        """
        for conn in self._targets(connection):
            await self._send_ping(conn)

    async def rate_limit(self, *, connection: Target = None, close: bool = True) -> None:
        """Answer as a rate-limited gateway: an ``error`` event with code 429.

        With ``close`` (default) a ``close`` event and a close frame with 1008 follow, and
        this returns once the connections are closed.
        """
        conns = self._targets(connection)
        for conn in conns:
            await self._reply(conn, self._error(429, "Too many requests"))
            if close:
                await self._close_conn(conn, 1008, "Too many requests")
        if close:
            for conn in conns:
                await conn.finished.wait()

    @staticmethod
    def sequence_of(message: object) -> int | None:
        """Return the sequence number of a generated channel message (frame text, dict or model).

        ``None`` for anything else (acks, pings, messages pushed by hand without a stamp).
        """
        obj = as_object(gateway.codec, message)
        if obj is None or not isinstance(obj.get("channel"), str) or not isinstance(obj.get("data"), dict):
            return None
        data = obj["data"]
        if obj["channel"] in ("trades", "orders"):
            ident = data.get("id")
            return int(ident) if isinstance(ident, str) and ident.isdigit() else None
        ts = data.get("timestamp")
        return ts - SEQUENCE_EPOCH_MS if type(ts) is int and ts > SEQUENCE_EPOCH_MS else None

    # -- protocol -------------------------------------------------------------------------------

    def _error(self, code: int, text: str) -> ErrorEvent:
        return ErrorEvent(event="error", message=text, code=code, timestamp=self._now())

    def _now(self) -> EpochMillis:
        return from_epoch_millis(self._now_ms())

    def _valid(self, msg: AuthenticateRequest) -> bool:
        if msg.api_key != self.api_key:
            return False
        # The signature covers the wire integer, which the datetime gives back exactly.
        timestamp = to_epoch_millis(msg.timestamp)
        if self._max_skew is not None and abs(self._now_ms() - timestamp) > self._max_skew * 1000:
            return False
        expected = self._signer(self.api_key, self._api_secret, timestamp)
        return hmac.compare_digest(expected.lower(), msg.signature.lower())

    async def _on_message(self, conn: Connection, frame: Frame) -> None:
        record = conn.record
        try:
            msg = gateway.decode(frame)
        except DecodeError as exc:
            await self._reply(conn, self._error(400, f"Bad request: {exc.reason}"))
            return
        if isinstance(msg, AuthenticateRequest):
            ok = self._auth_verdict(self._valid(msg))
            record.auth_attempts.append(ok)
            record.authenticated = ok
            if ok:
                await self._reply(
                    conn, AuthenticatedEvent(event="authenticated", success=True, timestamp=self._now())
                )
            else:
                await self._reply(conn, self._error(401, "Authentication failed"))
        elif isinstance(msg, PongMessage):
            pong: trio.Event | None = conn.state.get("pong")
            if pong is not None:
                pong.set()
        elif isinstance(msg, SubscribeRequest | UnsubscribeRequest):
            if not record.authenticated:
                await self._reply(conn, self._error(401, "Unauthorized"))
                return
            params = msg.params or SubscriptionParams()
            error = self._check_params(msg.channels, params)
            if error:
                await self._reply(conn, self._error(400, error))
                return
            ts = self._now()
            if isinstance(msg, SubscribeRequest):
                self._subscribe(conn, msg.channels, params)
                ack: Any = SubscribedEvent(
                    event="subscribed", channels=msg.channels, params=msg.params, timestamp=ts
                )
            else:
                self._unsubscribe(conn, msg.channels, params)
                ack = UnsubscribedEvent(
                    event="unsubscribed", channels=msg.channels, params=msg.params, timestamp=ts
                )
            await self._reply(conn, ack)
        elif isinstance(msg, UnknownMessage):
            await self._reply(conn, self._error(400, f"Unknown action: {msg.tag}"))
        else:
            await self._reply(conn, self._error(400, f"Not a client message: {type(msg).__name__}"))

    def _check_params(self, channels: Sequence[str], params: SubscriptionParams) -> str | None:
        for symbol in params.symbols or ():
            if not _SYMBOL.match(symbol):
                return "Invalid symbol format"
        if "market_data" in channels and params.type not in (None, "ticker"):
            return f"Unsupported market data type: {params.type}"
        if params.depth is not None and not 1 <= params.depth <= 1000:
            return "Invalid depth"
        return None

    def _keys(self, channels: Sequence[str], params: SubscriptionParams) -> list[str]:
        exchange = params.exchange or self.exchange
        keys = []
        for channel in channels:
            if channel == "system_events":
                keys.append(f"system_events:{exchange}")
            else:
                keys.extend(f"{channel}:{exchange}:{s}" for s in params.symbols or self.symbols)
        return keys

    def _subscribe(self, conn: Connection, channels: Sequence[str], params: SubscriptionParams) -> None:
        subs = conn.record.subscriptions
        depths: dict[str, int] = conn.state.setdefault("depth", {})
        for key in self._keys(channels, params):
            if key not in subs:
                subs.append(key)
            if params.depth is not None:
                depths[key] = params.depth

    def _unsubscribe(self, conn: Connection, channels: Sequence[str], params: SubscriptionParams) -> None:
        subs = conn.record.subscriptions
        if params.symbols is None and params.exchange is None:
            # No filter: the whole channel goes, whatever exchange/symbols it was subscribed with.
            subs[:] = [k for k in subs if k.split(":", 1)[0] not in channels]
        else:
            gone = set(self._keys(channels, params))
            subs[:] = [k for k in subs if k not in gone]

    def _next_data(self, conn: Connection) -> Frame | None:
        key = conn.next_in_turn(conn.record.subscriptions)
        if key is None:
            return None
        seq = conn.record.next_sequence()
        depth = conn.state.get("depth", {}).get(key, 10)
        message = _generated(key, seq, depth, self._now())
        frame = gateway.encode(message)
        if isinstance(message, OrderbookMessage):
            # A snapshot per message: the true book is the one just sent.
            book = message.data
            state = BookState.of(book.bids, book.asks)
            self._sent_book(frame, (message.exchange, message.symbol), state)
        return frame

    # -- heartbeat and closing ----------------------------------------------------------------

    async def _heartbeat(self, conn: Connection) -> None:
        while True:
            await self._heartbeats_on()
            idle_ping = self.idle_ping
            if idle_ping is None:
                await self.wait_for(lambda: self.idle_ping is not None, timeout=float("inf"))
                continue
            idle = trio.current_time() - conn.last_activity
            if idle < idle_ping:
                await trio.sleep(idle_ping - idle)
                continue
            await self._send_ping(conn)
            pong: trio.Event = conn.state["pong"]
            with trio.move_on_after(self.pong_timeout):
                await pong.wait()
            # Whether answered or not, the watcher started by _send_ping acts; just go on.
            if not pong.is_set():
                return

    async def _send_ping(self, conn: Connection) -> None:
        pong = trio.Event()
        conn.state["pong"] = pong
        if await self._reply(conn, PingEvent(event="ping", timestamp=self._now())):
            self._spawn(lambda: self._pong_watch(conn, pong))

    async def _pong_watch(self, conn: Connection, pong: trio.Event) -> None:
        with trio.move_on_after(self.pong_timeout):
            await pong.wait()
            return
        if conn.record.open:
            await self._close_conn(conn, PONG_TIMEOUT_CODE, "Pong timeout")

    async def _close_conn(self, conn: Connection, code: int, reason: str) -> None:
        if self._close_events and not conn.blackholed:
            text = reason or {1000: "Normal closure", 1001: "Going away"}.get(code, "Closing")
            await self._reply(conn, CloseEvent(event="close", message=text, code=code, timestamp=self._now()))
        await conn.close(code, reason)


def _generated(key: str, seq: int, depth: int, now: EpochMillis) -> Any:
    """The generated channel message of ``key`` with sequence number ``seq`` (see the module docstring)."""
    channel, exchange, *rest = key.split(":")
    symbol = rest[0] if rest else ""
    # The sequence number rides in the time of the data (a plausible time, see
    # SEQUENCE_EPOCH_MS); sequence_of reads the wire integer back.
    ts = from_epoch_millis(SEQUENCE_EPOCH_MS + seq)
    price = Decimal(42650) + Decimal(seq % 200) / 2
    side: Literal["buy", "sell"] = "buy" if seq % 2 else "sell"
    if channel == "market_data":
        ticker = Ticker(
            price=price,
            volume=Decimal("2541.34"),
            timestamp=ts,
            bid=price - Decimal("0.5"),
            ask=price + Decimal("0.5"),
            high=price + 450,
            low=price - 150,
        )
        return MarketDataMessage(
            channel="market_data",
            type="ticker",
            exchange=exchange,
            symbol=symbol,
            data=ticker,
            timestamp=now,
        )
    if channel == "orderbook":
        half = Decimal("0.5")
        book = OrderBook(
            bids=[(price - half * (i + 1), Decimal(i + 1) / 10) for i in range(depth)],
            asks=[(price + half * (i + 1), Decimal(i + 1) / 10) for i in range(depth)],
            timestamp=ts,
        )
        return OrderbookMessage(
            channel="orderbook", exchange=exchange, symbol=symbol, data=book, timestamp=now
        )
    if channel == "trades":
        trade = Trade(id=str(seq), price=price, amount=Decimal("0.1"), side=side, timestamp=ts)
        return TradesMessage(channel="trades", exchange=exchange, symbol=symbol, data=trade, timestamp=now)
    if channel == "orders":
        amount = Decimal("0.1")
        order = Order(
            id=str(seq),
            symbol=symbol,
            exchange=exchange,
            timestamp=ts,
            type="limit",
            side=side,
            amount=amount,
            price=price,
            cost=price * amount,
            filled=Decimal("0.05"),
            remaining=Decimal("0.05"),
            status="partially_filled",
            fee=OrderFee(
                cost=price * Decimal("0.05") * Decimal("0.001"), currency="USDT", rate=Decimal("0.001")
            ),
        )
        return OrdersMessage(
            channel="orders", exchange=exchange, symbol=symbol, event="update", data=order, timestamp=now
        )
    if channel == "positions":
        amount = Decimal("0.5")
        position = Position(
            symbol=symbol,
            exchange=exchange,
            timestamp=ts,
            type="spot",
            side="long",
            amount=amount,
            cost=amount * Decimal(42650),
            average_price=Decimal(42650),
            unrealized_pnl=(price - 42650) * amount,
            unrealized_pnl_percentage=((price - 42650) / 42650 * 100).quantize(Decimal("0.01")),
            liquidation_price=None,
            stop_loss=Decimal(41000),
            take_profit=Decimal(45000),
            trailing_stop=None,
        )
        return PositionsMessage(
            channel="positions",
            exchange=exchange,
            symbol=symbol,
            event="update",
            data=position,
            timestamp=now,
        )
    data = SystemEventData(exchange=exchange, status="connected", timestamp=ts)
    return SystemEventsMessage(
        channel="system_events", event="exchange_connection_status", data=data, timestamp=now
    )


@asynccontextmanager
async def open_gateway_server(
    *,
    api_key: str = "test-key",
    api_secret: str = "test-secret",
    rate: float | None = 100.0,
    idle_ping: float | None = 30.0,
    pong_timeout: float = 10.0,
    exchange: str = "binance",
    symbols: Sequence[str] = ("BTCUSDT", "ETHUSDT"),
    signer: Signer = sign,
    max_clock_skew: float | None = None,
    close_events: bool = True,
    ws_ping_interval: float | None = None,
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[GatewayServer]:
    """Run a trading gateway test server on ``127.0.0.1`` for the duration of the context.

    Args:
        api_key: the only API key accepted.
        api_secret: the secret that signatures must be made with.
        rate: generated data messages per second per connection, round-robin over its
            subscriptions; ``None`` or 0: only :meth:`~GatewayServer.push`.
        idle_ping: seconds without any frame either way before the server sends ``ping``
            (the document says 30); ``None``: never.
        pong_timeout: seconds to answer a ``ping`` before the server closes with 1008
            (the document says 10).
        exchange: used when a subscription does not name one.
        symbols: used when a subscription does not name any.
        signer: ``signer(api_key, api_secret, timestamp_ms) -> signature`` (default :func:`sign`).
        max_clock_skew: reject timestamps further than this many seconds from now.
        close_events: send a ``close`` event before each close frame, as the document shows.
        ws_ping_interval: also send WebSocket ping frames this often (``None``: never).
        port: the TCP port on 127.0.0.1 (default 0: a free one, see ``server.port``).
        ssl_context: serve ``wss://`` with this server-side TLS context (a certificate
            loaded; :func:`trio_feeds.testing.tls.tls_contexts` makes one); ``None``: ``ws://``.
    """
    server = GatewayServer(
        api_key=api_key,
        api_secret=api_secret,
        rate=rate,
        idle_ping=idle_ping,
        pong_timeout=pong_timeout,
        exchange=exchange,
        symbols=symbols,
        signer=signer,
        max_clock_skew=max_clock_skew,
        close_events=close_events,
        ws_ping_interval=ws_ping_interval,
    )
    async with serve(server, port=port, ssl_context=ssl_context) as running:
        yield running
