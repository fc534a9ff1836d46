"""In-process Peatio Ranger server (``ws://127.0.0.1:PORT/?stream=...``) for tests.

It speaks the servers' own forms (openware/peatio-core ``lib/peatio/ranger/``, openware/rango,
openware/peatio's matching engine), and the protocol document's where those say nothing:

- Streams come from the ``?stream=`` query parameters of the handshake (repeatable; build the
  URL with :meth:`PeatioServer.url_for`) and from ``{"event": "subscribe"|"unsubscribe",
  "streams": [...]}`` requests, answered by ``{"success": {"message": "subscribed"|
  "unsubscribed", "streams": [<the connection's active streams>]}}``. Right after the
  handshake the query streams are subscribed and acknowledged the same way, unasked
  (``handshake_ack``; the document-form server of ``frames="array"`` sends none). A subscribe
  to a stream already held sends no snapshot again (the Ruby server's behaviour).
- Authentication by the message ``{"jwt": "Bearer <token>"}`` (document form), answered by
  ``success`` "Authenticated." or ``error`` "Authentication failed." / "Token type is not
  provided or invalid."; or by an ``Authorization: Bearer <token>`` handshake header (later
  form). A wrong header token is refused as ``auth_rejection`` says: ``"401"`` (rango's
  ``/private``), ``"drop"`` (the Ruby Ranger: TCP closed mid-handshake, no answer) or
  ``"anonymous"`` (rango's ``/public``: the connection opens unauthenticated). Both auth forms
  are accepted on every connection (no real server took both).
- Private streams (``order``, ``trade``, ``deposit_address``) are only delivered to an
  authenticated connection: asked for before that, they wait and become active on
  authentication (they are not listed in ``success`` replies until then, as rango does).
- Public streams: ``global.tickers`` (every market's ticker, the later form: every value a
  string), ``<market>.trades``, ``<market>.update`` (the older full book),
  ``<market>.kline-<period>`` (JSON numbers) and ``<market>.ob-inc``. Subscribing to
  ``<market>.ob-snap`` is acknowledged and brings nothing, as on the real servers.
- **Order books** as the matching engine and Ranger make them: one book per market, shared by
  every connection, whose ``sequence`` counts every increment (+1 each). Ranger's store holds
  the last snapshot and the increments since (a new snapshot every ``snapshot_every``
  increments, taken after the book changed and carrying the previous sequence, as the engine
  does). A new subscriber of ``<market>.ob-inc`` gets the stored snapshot (key
  ``<market>.ob-snap``) and the stored increments, then the reply; live subscribers get every
  increment, one flat ``[price, amount]`` pair with ``sequence``, ``""`` for a removed level.
  :meth:`PeatioServer.book` reads the true book, to compare with a client's.
- ``frames="array"`` sends every data frame as ``["<stream>", payload]`` (peatio-core 0.4.0 to
  0.4.4, which ``rubykube/ranger-example-nodejs`` expects); replies stay objects.
- The text frame ``ping`` is answered by ``pong``. With ``ping_interval`` the server also sends
  ``ping`` itself, a heartbeat no real Ranger has (the fault matrix uses it;
  :meth:`~trio_feeds.testing.FeedServer.stop_heartbeats` stops it).
- Anything else gets ``{"error": {"message": "Error while handling message."}}`` (the
  document's text), or with ``text_errors=True`` rango's plain strings (``{"error": "Could not
  parse Type: Invalid event"}``).

Fault controls besides :class:`~trio_feeds.testing.FeedServer`'s: :meth:`reject_auth`,
:meth:`rate_limit`, :meth:`skip_sequence` (a sequence jump on the live book streams) and
:meth:`restart_engine` (the matching engine restarts: the sequence begins again at 1).

Sequence numbers: public trades carry ``tid = seq`` (one trade per frame), private orders and
trades ``id = seq``: per connection, read back by :meth:`PeatioServer.sequence_of`. Book
frames carry their market's own ``sequence`` instead.
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import AsyncIterator, Hashable, Iterable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import trio
from wsproto.events import Request

from .. import peatio
from .._types import from_epoch_seconds, sent_as_epoch_seconds, sent_as_seconds_text
from ..errors import DecodeError
from ..peatio import (
    AuthRequest,
    DecimalNumber,
    DepositAddress,
    DepositAddressAttributes,
    Error,
    FrameForm,
    MarketUpdate,
    Order,
    OrderBookIncrement,
    OrderBookSnapshot,
    PublicTrade,
    PublicTrades,
    StreamMessage,
    SubscribeRequest,
    Success,
    TextError,
    Ticker,
    Trade,
    UnsubscribeRequest,
)
from ._accept import serve
from ._server import AuthFaults, BookState, Connection, ConnectionRecord, FeedServer, Frame, Target, as_object

__all__ = ["AuthRejection", "BookState", "PeatioServer", "open_peatio_server"]

PRIVATE_STREAMS = frozenset({"order", "trade", "deposit_address"})
_PUBLIC = re.compile(r"^([a-z0-9_]+)\.(trades|update|ob-snap|ob-inc|kline-[0-9]+[mhdw])$")
_TICKERS = "global.tickers"
_BOOK_LEVELS = 10
_TICK = Decimal("0.5")
_MID = Decimal(100)

AuthRejection = Literal["401", "drop", "anonymous"]
"""How a wrong ``Authorization`` header is refused (see the module docstring)."""


class _Market:
    """One market's matching-engine book, and Ranger's store of its snapshot and increments."""

    def __init__(self, name: str, snapshot_every: int) -> None:
        self.name = name
        self.snapshot_every = snapshot_every
        self.asks = {_MID + _TICK * i: Decimal(i) for i in range(1, _BOOK_LEVELS + 1)}
        self.bids = {_MID - _TICK * i: Decimal(i) for i in range(1, _BOOK_LEVELS + 1)}
        self.sequence = 1  # the engine starts at 1 and publishes its first snapshot with it
        self.ticks = 0
        self.stored = self.snapshot()
        self.increments: list[OrderBookIncrement] = []
        self.states: list[BookState] = []  # the true book after each stored increment

    def snapshot(self) -> OrderBookSnapshot:
        return OrderBookSnapshot(
            asks=sorted(self.asks.items()),
            bids=sorted(self.bids.items(), reverse=True),
            sequence=self.sequence,
        )

    def state(self) -> BookState:
        snap = self.snapshot()
        return BookState(bids=snap.bids, asks=snap.asks, sequence=self.sequence)

    def stored_state(self) -> BookState:
        """The book the stored snapshot carries (the engine's when it was taken)."""
        snap = self.stored
        return BookState(bids=list(snap.bids or ()), asks=list(snap.asks or ()), sequence=snap.sequence)

    def step(self) -> OrderBookIncrement:
        """Change one level (a deterministic walk that never crosses the book); the increment."""
        self.ticks += 1
        n = self.ticks
        offset = _TICK * (n % _BOOK_LEVELS + 1)
        amount = Decimal(n % 5) / 2  # 0 now and then: the level goes
        side, price = ("asks", _MID + offset) if n % 2 else ("bids", _MID - offset)
        levels = self.asks if side == "asks" else self.bids
        if amount:
            levels[price] = amount
        else:
            levels.pop(price, None)
        if len(self.increments) >= self.snapshot_every:
            # The engine snapshots inside publish_increment: after the change, with the
            # sequence of the previous increment (the next increment repeats the change).
            self.stored = self.snapshot()
            self.increments = []
            self.states = []
        self.sequence += 1
        wire: Any = (price, amount if amount else "")  # "": the engine's nil.to_s
        if side == "asks":
            inc = OrderBookIncrement(asks=wire, sequence=self.sequence)
        else:
            inc = OrderBookIncrement(bids=wire, sequence=self.sequence)
        self.increments.append(inc)
        self.states.append(self.state())
        return inc

    def restart(self) -> None:
        """The engine starts again: sequence 1, a new stored snapshot (live subscribers get none)."""
        self.sequence = 1
        self.stored = self.snapshot()
        self.increments = []
        self.states = []


def _error(text: str, *, plain: bool = False) -> StreamMessage[Error]:
    return StreamMessage(stream="error", data=TextError(message=text) if plain else Error(message=text))


def _success(text: str, streams: list[str] | None = None) -> StreamMessage[Success]:
    return StreamMessage(stream="success", data=Success(message=text, streams=streams))


class PeatioServer(AuthFaults, FeedServer):
    """The Peatio Ranger test server; see :func:`open_peatio_server` and the module docstring.

    Fault controls (besides those of :class:`~trio_feeds.testing.FeedServer`):
    :meth:`reject_auth`, :meth:`reject_auth_always` (for the header form the handshake is
    refused as ``auth_rejection`` says), :meth:`rate_limit`, :meth:`skip_sequence`,
    :meth:`restart_engine`.
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
        frames: FrameForm = "object",
        handshake_ack: bool | None = None,
        auth_rejection: AuthRejection = "401",
        text_errors: bool = False,
        snapshot_every: int = 20,
    ) -> None:
        super().__init__(rate=rate, ws_ping_interval=ws_ping_interval)
        if frames not in ("object", "array"):
            raise ValueError(f"frames must be 'object' or 'array', not {frames!r}")
        if auth_rejection not in ("401", "drop", "anonymous"):
            raise ValueError(f"auth_rejection must be '401', 'drop' or 'anonymous', not {auth_rejection!r}")
        if snapshot_every < 1:
            raise ValueError("snapshot_every must be at least 1")
        self._token = token
        self.ping_interval = ping_interval
        """Seconds between the server's text ``ping`` frames (``None``: none). Settable."""
        self.market = market
        self.frames: FrameForm = frames
        self.handshake_ack = frames == "object" if handshake_ack is None else handshake_ack
        self.auth_rejection: AuthRejection = auth_rejection
        self.text_errors = text_errors
        self._snapshot_every = snapshot_every
        self._markets: dict[str, _Market] = {}

    def url_for(self, *streams: str) -> str:
        """Return the URL with ``?stream=`` parameters, e.g. ``url_for("btcusd.trades", "order")``."""
        query = urlencode([("stream", s) for s in streams])
        return f"{self.url}?{query}" if streams else self.url

    # -- the books ------------------------------------------------------------------------------

    def book(self, market: Hashable, /) -> BookState:
        """The true order book of ``market`` now (a market nobody asked for starts its book).

        The matching engine's book, whatever reached the clients; see also
        :meth:`~trio_feeds.testing.FeedServer.book_as_of`.
        """
        if not isinstance(market, str):
            raise KeyError(market)
        return self._market(market).state()

    def skip_sequence(self, n: int = 1, *, market: str | None = None) -> None:
        """The next ``n`` increments of ``market`` (default: every market) reach no live subscriber.

        The book changes and Ranger stores them, so a new subscriber's snapshot has them, but a
        connection already subscribed sees the next increment's ``sequence`` jump by ``n``.
        """
        if n < 1:
            raise ValueError("n must be at least 1")
        markets = list(self._markets.values()) if market is None else [self._market(market)]
        for m in markets:
            for _ in range(n):
                m.step()

    def restart_engine(self, market: str | None = None) -> None:
        """The matching engine of ``market`` (default: every market) restarts: sequences begin at 1.

        Its new snapshot is stored, not sent: live subscribers see the sequence go back.
        """
        for m in list(self._markets.values()) if market is None else [self._market(market)]:
            m.restart()

    def _market(self, name: str) -> _Market:
        m = self._markets.get(name)
        if m is None:
            m = self._markets[name] = _Market(name, self._snapshot_every)
        return m

    # -- faults -----------------------------------------------------------------------------------

    async def rate_limit(self, *, connection: Target = None) -> None:
        """Send an ``error`` reply "Too many requests", then close with 1008."""
        conns = self._targets(connection)
        for conn in conns:
            await self._reply(conn, _error("Too many requests", plain=self.text_errors))
            await conn.close(1008, "Too many requests")
        for conn in conns:
            await conn.finished.wait()

    @staticmethod
    def sequence_of(message: object) -> int | None:
        """Return the sequence number of a generated public trade, private order or private trade.

        Takes frame text, a parsed ``dict`` or a decoded :class:`~trio_feeds.peatio.StreamMessage`
        (either frame form); ``None`` for other frames (books, replies, ``ping``).
        """
        if isinstance(message, str | bytes):
            try:
                parsed = peatio.codec.loads(message)
            except DecodeError:
                return None
            if isinstance(parsed, list) and len(parsed) == 2 and isinstance(parsed[0], str):
                parsed = {parsed[0]: parsed[1]}
            message = parsed
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
        if ok or self.auth_rejection == "anonymous":
            return None
        return 401 if self.auth_rejection == "401" else 0

    def _setup(self, conn: Connection) -> None:
        conn.state["pending"] = []
        conn.state["queue"] = []  # (stream, frame): book increments made on other connections' turns
        conn.state["opened"] = trio.Event()

    async def _on_open(self, conn: Connection) -> None:
        try:
            query = parse_qs(urlsplit(conn.record.target).query)
            await self._add_streams(conn, query.get("stream", []))
            if self.handshake_ack:
                await self._reply(conn, _success("subscribed", list(conn.record.subscriptions)))
        finally:
            # Client messages wait for this: the servers acknowledge the handshake first.
            conn.state["opened"].set()
        self._notify()

    async def _add_streams(self, conn: Connection, streams: Iterable[str]) -> None:
        """Subscribe; a new ``-inc`` subscriber first gets the stored snapshot and increments."""
        subs = conn.record.subscriptions
        pending: list[str] = conn.state["pending"]
        for stream in dict.fromkeys(streams):
            if stream in subs:
                continue  # already held: nothing again (the Ruby server)
            if stream in PRIVATE_STREAMS and not conn.record.authenticated:
                if stream not in pending:
                    pending.append(stream)
                continue
            match = _PUBLIC.match(stream)
            if match and match.group(2) == "ob-inc":
                m = self._market(match.group(1))
                snap_stream = f"{m.name}.ob-snap"
                snap = self._sent_book(self._frame(snap_stream, m.stored), m.name, m.stored_state())
                incs = [
                    self._sent_book(self._frame(stream, inc), m.name, state)
                    for inc, state in zip(m.increments, m.states, strict=True)
                ]
                frames = [snap, *incs]
                if not await self._try_send(conn, frames):
                    return
            subs.append(stream)

    async def _on_message(self, conn: Connection, frame: Frame) -> None:
        await conn.state["opened"].wait()
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
            await self._error_reply(conn, "Could not parse message: invalid JSON")
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
            await self._add_streams(conn, msg.streams)
            await self._reply(conn, _success("subscribed", list(record.subscriptions)))
        elif isinstance(msg, UnsubscribeRequest):
            gone = set(msg.streams)
            record.subscriptions[:] = [s for s in record.subscriptions if s not in gone]
            conn.state["pending"][:] = [s for s in conn.state["pending"] if s not in gone]
            conn.state["queue"][:] = [(s, f) for s, f in conn.state["queue"] if s not in gone]
            await self._reply(conn, _success("unsubscribed", list(record.subscriptions)))
        else:
            await self._error_reply(conn, "Could not parse Type: Invalid event")

    async def _error_reply(self, conn: Connection, rango_text: str) -> None:
        if self.text_errors:
            await self._reply(conn, _error(rango_text, plain=True))
        else:
            await self._reply(conn, _error("Error while handling message."))

    # -- data -----------------------------------------------------------------------------------

    def _frame(self, stream: str, payload: Any) -> str:
        return peatio.encode(StreamMessage(stream=stream, data=payload, form=self.frames))

    def _next_data(self, conn: Connection) -> Frame | None:
        queue: list[tuple[str, Frame]] = conn.state["queue"]
        if queue:
            return queue.pop(0)[1]
        stream = conn.next_in_turn([s for s in conn.record.subscriptions if _has_data(s)])
        if stream is None:
            return None
        match = _PUBLIC.match(stream)
        payload: Any
        if stream == _TICKERS:
            self._market(self.market)  # the server's own market has a ticker from the start
            payload = _tickers(list(self._markets.values()))
        elif match:
            market, kind = match.groups()
            m = self._market(market)
            if kind == "ob-inc":
                inc = m.step()
                frame = self._sent_book(self._frame(stream, inc), m.name, m.states[-1])
                # One engine per market: every subscriber gets the same increment.
                for other in self._conns.values():
                    if other is not conn and stream in other.record.subscriptions:
                        other.state["queue"].append((stream, frame))
                return frame
            if kind == "trades":
                seq = conn.record.next_sequence()
                trade = PublicTrade(
                    tid=seq,
                    taker_type="buy" if seq % 2 else "sell",
                    price=_MID + Decimal(seq % 20) / 4,
                    amount=Decimal("0.1") * (seq % 9 + 1),
                    date=from_epoch_seconds(int(time.time())),
                )
                payload = PublicTrades(trades=[trade])
            elif kind == "update":
                snap = m.snapshot()
                payload = MarketUpdate(asks=snap.asks, bids=snap.bids)
            else:  # kline-<period>
                payload = _kline(m)
        elif stream == "deposit_address":
            n = conn.state["deposits"] = conn.state.get("deposits", 0) + 1
            payload = DepositAddress(
                type="create", attributes=DepositAddressAttributes(currency="btc", address=f"2N{n:032d}")
            )
        else:
            payload = _private(stream, conn.record.next_sequence(), self.market)
        return self._frame(stream, payload)

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


def _tickers(markets: list[_Market]) -> dict[str, Ticker]:
    # The later form (peatio's TickersService): every value a string, "at" too.
    at = sent_as_seconds_text(int(time.time()))
    tickers = {}
    for m in sorted(markets, key=lambda m: m.name):
        snap = m.snapshot()
        last = snap.asks[0][0] if snap.asks else _MID
        tickers[m.name] = Ticker(
            at=at,
            avg_price=last,
            high=last,
            last=last,
            low=last,
            open=last,
            price_change_percent="+0.00%",
            volume=Decimal("0.0"),
            amount=Decimal("0.0"),
        )
    return tickers


def _private(stream: str, seq: int, market: str) -> Order | Trade:
    seconds = int(time.time())
    at = from_epoch_seconds(seconds)
    # Integer seconds on the wire, as the peatio code publishes these events.
    now = sent_as_epoch_seconds(seconds)
    price = Decimal(1000) + Decimal(seq % 40) / 2
    side: Literal["buy", "sell"] = "buy" if seq % 2 else "sell"
    if stream == "order":
        return Order(
            id=seq,
            market=market,
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
        market=market,
        side=side,
        taker_type=side,
        created_at=now,
        order_id=seq,
    )


def _kline(m: _Market) -> Any:
    """A candle of the market's best prices: ``[time, open, high, low, close, volume]``."""
    best = m.snapshot()
    low = best.bids[0][0] if best.bids else _MID
    high = best.asks[0][0] if best.asks else _MID
    numbers = (DecimalNumber(v) for v in (low, high, low, high, Decimal("1.25")))
    return (from_epoch_seconds(int(time.time()) // 60 * 60), *numbers)


def _has_data(stream: str) -> bool:
    """Whether the server generates messages for ``stream`` (``-snap`` and unknown streams: none)."""
    if stream in PRIVATE_STREAMS or stream == _TICKERS:
        return True
    match = _PUBLIC.match(stream)
    return match is not None and match.group(2) != "ob-snap"


@asynccontextmanager
async def open_peatio_server(
    *,
    token: str = "test-token",
    rate: float | None = 100.0,
    ping_interval: float | None = None,
    market: str = "btcusd",
    ws_ping_interval: float | None = None,
    frames: FrameForm = "object",
    handshake_ack: bool | None = None,
    auth_rejection: AuthRejection = "401",
    text_errors: bool = False,
    snapshot_every: int = 20,
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[PeatioServer]:
    """Run a Peatio Ranger test server on ``127.0.0.1`` for the duration of the context.

    Args:
        token: the only JWT accepted (``Bearer <token>`` in the ``jwt`` message or the
            ``Authorization`` header). Any string: the server does not parse it.
        rate: generated frames per second per connection, round-robin over its active
            streams; ``None`` or 0: only :meth:`~trio_feeds.testing.FeedServer.push`.
        ping_interval: send the text frame ``ping`` this often; ``None``: never (no real
            Ranger does).
        market: the market of generated private orders and trades, and of the tickers.
        ws_ping_interval: also send WebSocket ping frames this often (rango: 54 s; ``None``:
            never).
        frames: ``"object"`` (``{"<stream>": payload}``) or ``"array"`` (``["<stream>",
            payload]``, peatio-core 0.4.0 to 0.4.4, for ``rubykube/ranger-example-nodejs``).
        handshake_ack: acknowledge the query streams right after the handshake (default: yes
            with object frames, as every later server does; no with array frames).
        auth_rejection: how a wrong ``Authorization`` header is refused: ``"401"`` (rango
            ``/private``), ``"drop"`` (the Ruby Ranger) or ``"anonymous"`` (rango ``/public``).
        text_errors: rango's plain-string errors instead of the document's objects.
        snapshot_every: Ranger's stored snapshot is renewed every this many increments.
        port: the TCP port on 127.0.0.1 (default 0: a free one, see ``server.port``).
        ssl_context: serve ``wss://`` with this server-side TLS context (a certificate
            loaded; :func:`trio_feeds.testing.tls.tls_contexts` makes one); ``None``: ``ws://``.
    """
    server = PeatioServer(
        token=token,
        rate=rate,
        ping_interval=ping_interval,
        market=market,
        ws_ping_interval=ws_ping_interval,
        frames=frames,
        handshake_ack=handshake_ack,
        auth_rejection=auth_rejection,
        text_errors=text_errors,
        snapshot_every=snapshot_every,
    )
    async with serve(server, port=port, ssl_context=ssl_context) as running:
        yield running
