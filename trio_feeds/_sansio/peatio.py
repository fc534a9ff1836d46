"""Sans-IO protocol for the Peatio Ranger WebSocket.

Generations of the server (each named by its public source):

* **Document form** (peatio-core 0.4.0 to 0.4.4, the server of the protocol document):
  streams only from ``?stream=`` query parameters at connection time; auth by the message
  ``{"jwt": "Bearer <token>"}``, answered by ``{"success": {"message": "Authenticated."}}`` or
  ``{"error": {"message": "Authentication failed."}}``; data frames ``["<stream>", payload]``.
* **Later form** (peatio-core 0.4.5 to 2.x ``lib/peatio/ranger/``, and openware/rango):
  auth by an ``Authorization: Bearer <jwt>`` header at the handshake; streams from the query
  string and from ``{"event": "subscribe"|"unsubscribe", "streams": [...]}`` on the live
  connection, each answered by ``{"success": {"message": "subscribed"|"unsubscribed",
  "streams": [<all streams now>]}}``; data frames ``{"<stream>": payload}``. Right after the
  handshake the server subscribes the query string's streams and sends that same
  ``subscribed`` reply unasked (the *handshake acknowledgement*). rango answers a malformed
  request with ``{"error": "<text>"}``, refuses a stream the client may not have with
  ``{"success": {"message": "cannot subscribe to <stream>"}}`` before its reply, and closes
  with 1009 on a client message over 512 bytes; the Ruby server answers nothing but
  well-formed subscribe/unsubscribe events.

Both forms take the streams in the query string, so :meth:`PeatioProtocol.connect_target` puts
*every* current stream there: a reconnect needs no resubscription messages at all.

**Session events mean what they mean for every protocol.** ``Authenticated``: the server
accepted the token on this connection: the ``Authenticated.`` reply (message auth), or the
handshake acknowledgement after a handshake that carried the header (header auth: the Ruby
server aborts the handshake on a bad token and rango's ``/private`` answers 401, so reaching the
acknowledgement means the header was taken; rango's ``/public`` ignores a bad token, which shows
as private query streams missing from the acknowledgement, an :class:`AuthFailed`).
``Subscribed``: the server acknowledged a subscribe. In event mode that is its reply; a request
whose connection dropped is carried by the next connection's query string and acknowledged by
that connection's handshake acknowledgement (header auth), or, for the document form, which has
no acknowledgements at all, by the connection itself.

**Replies.** Ranger replies carry no request id, and each server answers the requests of a
connection one by one, in order. The first ``subscribed`` reply of a connection that lists only
the connection's query streams is the handshake acknowledgement (no reply to a request of ours
can be: a subscribe of ours always adds a stream the query string did not have, and an
unsubscribe is answered ``unsubscribed``); every other reply answers the oldest request in flight
of its kind (FIFO, in a :class:`~._requests.RequestTracker`), and an ``error`` the oldest request
in flight.

**Order books** (``feed.books``, keyed by market: ``"btcusd"``). The matching engine publishes
a snapshot ``{"asks": [[price, amount], ...], "bids": [...], "sequence": N}`` and increments
``{"asks": [price, amount], "sequence": N + 1}`` (one flat pair; the amount ``""`` removes the
level). Ranger stores the last snapshot and the increments since, and sends them to each new
subscriber of ``<market>.ob-inc`` (the snapshot under the key ``<market>.ob-snap``); live
subscribers get no later snapshot. So the feed keeps the book from that snapshot and the
increments that follow it, checks the sequence, and when the book cannot be trusted (a sequence
jump, a sequence that went back because the engine restarted, a crossed book) it says so
in-band (``BookOutOfSync``) and gets a fresh snapshot by itself: in event mode by unsubscribing
and subscribing ``<market>.ob-inc`` again on the same connection (the Ruby server sends nothing
for a stream already held, so a second subscribe alone would not do), in query mode by
reconnecting. Increments that arrive while no snapshot came within ``snapshot_timeout`` (rango
stores the first snapshot without sending it to live subscribers) trigger the same resync.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from .._codecs import peatio as _codec
from .._codecs.peatio import StreamMessage, market_of
from ..books import BookEvent, Books, Side
from ..errors import DecodeError
from ..models.peatio import (
    AuthRequest,
    Error,
    OrderBookIncrement,
    OrderBookSnapshot,
    SubscribeRequest,
    Success,
    UnsubscribeRequest,
)
from ._protocol import (
    Action,
    AuthAccepted,
    AuthFailed,
    BadFrame,
    CloseVerdict,
    ConnectTarget,
    Deliver,
    FeedProtocol,
    HeartbeatPolicy,
    Notify,
    ProtocolClose,
    RequestDone,
    Send,
)
from ._requests import Request, RequestState, RequestTracker
from ._shared import classify_close, scrub

__all__ = [
    "MAX_CLIENT_MESSAGE",
    "PRIVATE_STREAMS",
    "AuthMode",
    "PeatioProtocol",
    "SubscribeMode",
    "private_streams",
]

AuthMode = Literal["message", "header"]
SubscribeMode = Literal["query", "event"]
_Kind = Literal["subscribe", "unsubscribe"]
_Key = tuple[str, ...]

# Error texts that mean "your token is no good": retrying with the same token cannot help.
_AUTH_ERRORS = frozenset({"Authentication failed.", "Token type is not provided or invalid."})
_KIND_OF_REPLY: dict[str, _Kind] = {"subscribed": "subscribe", "unsubscribed": "unsubscribe"}
_CANNOT_SUBSCRIBE = "cannot subscribe to "  # rango's refusal of one stream (RBAC)

MAX_CLIENT_MESSAGE = 512
"""rango closes the connection (1009) on a client message over this many bytes: longer
subscribe/unsubscribe lists are split into several requests."""

# Characters a stream name may have: those that need no percent-encoding in a query string.
# rango reads the query string without decoding it (and splits values on commas).
_STREAM_NAME = re.compile(r"[A-Za-z0-9._~-]+")

# A query-mode resync reconnects; reconnects for a resync closer together than this count as
# failed attempts, so a server that keeps sending broken books gets the normal backoff.
_RESYNC_RECONNECT_INTERVAL = 60.0

PRIVATE_STREAMS = frozenset({"order", "trade", "deposit_address"})
"""Streams that carry a user's own data: Ranger delivers them only to an authenticated client."""

_HANDSHAKE_CLOSED = "connection closed during the WebSocket handshake"


def private_streams(streams: Sequence[str]) -> list[str]:
    """The private streams among ``streams`` (without a token, the server sends nothing on them)."""
    return [s for s in streams if s in PRIVATE_STREAMS]


class PeatioProtocol(FeedProtocol):
    """The Peatio Ranger feed.

    Args:
        url: the WebSocket URL; ``stream`` parameters already in it join ``streams``.
        token: a JWT for private streams (``order``, ``trade``, ``deposit_address``); ``None``
            for public streams only. With or without the ``"Bearer "`` prefix.
        streams: initial streams, e.g. ``["btcusd.trades", "btcusd.ob-inc", "order"]``.
        auth: ``"message"`` (document form: send ``{"jwt": ...}`` after connecting) or
            ``"header"`` (later form: ``Authorization`` header at the handshake).
        subscribe_mode: how :meth:`subscribe`/:meth:`unsubscribe` change streams on a live
            connection. ``"event"`` sends subscribe/unsubscribe events (later servers);
            ``"query"`` (document servers, which take streams only up front) records the change
            and returns a ``ProtocolClose(RETRY)`` so the engine reconnects with the new query
            string. Default: ``"event"`` with header auth, else ``"query"``.
        server_heartbeat: Ranger promises no periodic frame (rango sends WebSocket pings every
            54 s, which the transport answers), so ``None`` by default.
        snapshot_timeout: seconds an order book may wait for its snapshot, after subscribing
            (or resyncing) ``<market>.ob-inc``, while increments arrive; then it is resynced.
    """

    name = "peatio"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        streams: Sequence[str] = (),
        auth: AuthMode = "message",
        subscribe_mode: SubscribeMode | None = None,
        server_heartbeat: float | None = None,
        snapshot_timeout: float = 10.0,
    ) -> None:
        if auth not in ("message", "header"):
            raise ValueError(f"auth must be 'message' or 'header', not {auth!r}")
        if subscribe_mode not in (None, "query", "event"):
            raise ValueError(f"subscribe_mode must be 'query' or 'event', not {subscribe_mode!r}")
        if not snapshot_timeout > 0:
            raise ValueError(f"snapshot_timeout must be > 0, not {snapshot_timeout!r}")
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        self._base = parts
        self._other_params = [(k, v) for k, v in query if k != "stream"]
        self._streams: list[str] = []
        self._add_streams(_check_streams([v for k, v in query if k == "stream"]))
        self._add_streams(_check_streams(streams))
        if token is not None and token.startswith("Bearer "):
            token = token[len("Bearer ") :]
        self._token = token
        self.auth: AuthMode = auth
        self.subscribe_mode: SubscribeMode = subscribe_mode or ("event" if auth == "header" else "query")
        self.heartbeat = HeartbeatPolicy(server_heartbeat=server_heartbeat)
        self.snapshot_timeout = snapshot_timeout
        self._requests: RequestTracker[_Key] = RequestTracker()
        # A request split in several frames (MAX_CLIENT_MESSAGE): earlier frame -> the last one,
        # whose reply the caller waits for (a refusal of an earlier frame fails the caller too).
        self._chunk_last: dict[Request[_Key], Request[_Key]] = {}
        self._refusals: dict[Request[_Key], str] = {}  # rango's "cannot subscribe to X", per request
        self._books: Books[str] = Books()
        self._snapshot_due: dict[str, float] = {}  # market -> since when its snapshot is awaited
        self._last_resync_close: float | None = None
        # Per connection.
        self._connected = False
        self._ready = False
        self._target_streams: _Key | None = None  # the streams of the last connect_target()
        self._conn_streams: frozenset[str] = frozenset()  # this connection's query streams
        self._first_success = False  # no success reply seen yet on this connection
        self._auth_by_ack = False  # header auth: Authenticated comes with the handshake ack
        self._carried: list[Request[_Key]] = []  # requests the handshake ack completes

    def __repr__(self) -> str:
        return (
            f"PeatioProtocol(url={urlunsplit(self._base)!r}, streams={self._streams!r}, "
            f"auth={self.auth!r}, token={'set' if self._token else None!r}, ready={self._ready})"
        )

    # -- FeedProtocol -----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once connected and, with a token, once the server accepted it."""
        return self._ready

    @property
    def has_token(self) -> bool:
        """Whether a JWT was given (private streams need one)."""
        return self._token is not None

    @property
    def streams(self) -> tuple[str, ...]:
        """Every stream the next connection asks for."""
        return tuple(self._streams)

    @property
    def books(self) -> Books[str]:
        """The order book of each ``<market>.ob-inc`` stream, keyed by market (``"btcusd"``)."""
        return self._books

    def connect_target(self) -> ConnectTarget:
        """Return the URL with every current stream as a ``stream`` parameter, and the auth header."""
        query = urlencode([*self._other_params, *(("stream", s) for s in self._streams)])
        url = urlunsplit(self._base._replace(query=query))
        headers: tuple[tuple[str, str], ...] = ()
        if self._token is not None and self.auth == "header":
            headers = (("Authorization", f"Bearer {self._token}"),)
        self._target_streams = tuple(self._streams)
        return ConnectTarget(url, headers)

    def connection_made(self, now: float) -> Sequence[Action]:
        """Send the JWT message (message auth with a token); ready at once without a token.

        Requests left from a lost connection are carried by this connection's query string:
        they complete with its handshake acknowledgement (header auth: later servers send one),
        or now (the document form has none). Streams changed while this connection was being
        opened (after :meth:`connect_target`) are not in its query string: they are sent as
        events (``"event"`` mode, after the JWT), or the connection is replaced by one with the
        new query string (``"query"`` mode).
        """
        self._connected = True
        self._first_success = True
        target, self._target_streams = self._target_streams, None
        if target is None:
            target = tuple(self._streams)
        self._conn_streams = frozenset(target)
        actions: list[Action] = []
        for request in self._requests.select(state=RequestState.QUEUED):
            if self.auth == "header":
                self._requests.send(request)
                self._carried.append(request)
            else:
                actions += self._requests.cancel(request, None)
        self._auth_by_ack = False
        if self._token is not None and self.auth == "message":
            self._ready = False
            self._requests.add("auth", (), user=False, sent=True, waiter=False)
            actions.append(Send(_codec.encode(AuthRequest(jwt=f"Bearer {self._token}"))))
        elif self._token is not None:
            self._ready = False
            self._auth_by_ack = True
        else:
            self._ready = True
        for stream in target:
            market = _book_market(stream)
            if market is not None:
                self._snapshot_due[market] = now
        added = tuple(s for s in self._streams if s not in target)
        removed = tuple(s for s in target if s not in self._streams)
        if (added or removed) and self.subscribe_mode == "query":
            actions.append(
                ProtocolClose(1000, "reconnecting to change streams", CloseVerdict.RETRY, deliberate=True)
            )
        else:
            # No user waits (their calls returned): the replies are consumed, in order.
            if added:
                actions += self._send_requests("subscribe", added, user=False, now=now)[1]
            if removed:
                actions += self._send_requests("unsubscribe", removed, user=False, now=now)[1]
        return actions

    def connection_lost(self) -> Sequence[Action]:
        """Forget auth; the books are out of sync until the next connection's snapshots."""
        self._connected = False
        self._ready = False
        self._auth_by_ack = False
        self._carried.clear()
        self._requests.connection_lost()
        self._chunk_last.clear()
        self._refusals.clear()
        self._snapshot_due.clear()
        events = self._books.unsync_all("disconnected")
        self._books.take_resyncs()  # the next connection's query string brings every snapshot
        return [Notify(e) for e in events]

    def forget_request(self, request_id: str) -> None:
        """The engine gave up on ``request_id``; its reply is still consumed in order."""
        self._requests.forget_waiter(request_id)

    def receive_frame(self, frame: str | bytes, now: float) -> Sequence[Action]:
        """Answer ``ping``; follow auth and request replies; keep the books; deliver stream messages."""
        if frame in ("ping", b"ping"):
            # Not JSON. No Ranger sends it (clients do); answering costs nothing and keeps a
            # server that does happy.
            return [Send("pong")]
        try:
            msg: Any = _codec.decode(frame)
        except DecodeError as exc:
            return [BadFrame(exc)]
        if isinstance(msg, StreamMessage):
            data = msg.data
            if msg.stream == "success" and isinstance(data, Success):
                return self._on_success(data)
            if msg.stream == "error" and isinstance(data, Error):
                return self._on_error(data, msg)
            if isinstance(data, OrderBookSnapshot | OrderBookIncrement):
                return self._on_book(msg, now)
        return [Deliver(msg)]

    def subscribe(self, now: float, /, *streams: str) -> tuple[str | None, Sequence[Action]]:
        """Add streams; every later connection asks for them in its query string.

        On a live connection: ``"event"`` mode sends a subscribe event (split in several when
        longer than :data:`MAX_CLIENT_MESSAGE` bytes) and returns the request id to wait for;
        ``"query"`` mode returns ``(None, [ProtocolClose(RETRY)])`` so the engine reconnects
        with the new streams. Streams already present change nothing: ``(None, ())``.
        """
        new = [s for s in dict.fromkeys(_check_streams(streams)) if s not in self._streams]
        self._add_streams(new)
        return self._change("subscribe", new, now)

    def unsubscribe(self, now: float, /, *streams: str) -> tuple[str | None, Sequence[Action]]:
        """Remove streams; the same modes as :meth:`subscribe`. A book no longer kept is unsynced."""
        gone = [s for s in dict.fromkeys(_check_streams(streams)) if s in self._streams]
        self._streams = [s for s in self._streams if s not in gone]
        events: list[BookEvent] = []
        for market in dict.fromkeys(m for s in gone if (m := market_of(s)) is not None and _is_book(s)):
            if not self._keeps_book(market):
                self._snapshot_due.pop(market, None)
                if market in self._books:
                    events += self._books.unsync(market, "unsubscribed", resync=False)
        request_id, actions = self._change("unsubscribe", gone, now)
        return request_id, [*(Notify(e) for e in events), *actions]

    def classify_close(self, code: int | None, reason: str) -> CloseVerdict:
        """Use the shared table: 1008 fatal, rate limits slow, the rest retry."""
        return classify_close(code, reason)

    def connect_failed(self, reason: str) -> str:
        """Say what a handshake cut short may mean with header auth (it is retried all the same)."""
        if self._token is not None and self.auth == "header" and _HANDSHAKE_CLOSED in reason:
            # The Ruby Ranger refuses a bad Authorization header by dropping TCP mid-handshake
            # (no 401). A network blip or a restarting server looks exactly the same, so this
            # is never fatal: it is retried with backoff, and the reason says what it may mean.
            return (
                f"{reason} (with header auth, the Ruby Ranger closes the connection like this when "
                "it refuses the token; rango answers 401)"
            )
        return reason

    # -- requests ---------------------------------------------------------------------------------

    def _add_streams(self, streams: Sequence[str]) -> None:
        for s in streams:
            if s not in self._streams:
                self._streams.append(s)

    def _change(self, kind: _Kind, streams: list[str], now: float) -> tuple[str | None, Sequence[Action]]:
        if not streams or not self._connected:
            return None, ()  # nothing changes, or the next connect_target carries it
        if self.subscribe_mode == "query":
            return None, [ProtocolClose(1000, "reconnecting to change streams", CloseVerdict.RETRY)]
        return self._send_requests(kind, tuple(streams), user=True, now=now)

    def _send_requests(
        self, kind: _Kind, streams: _Key, *, user: bool, now: float
    ) -> tuple[str | None, list[Action]]:
        """Request frames for ``streams``, each at most MAX_CLIENT_MESSAGE bytes; the last one's waiter id."""
        chunks = _split(kind, streams)
        requests = [
            self._requests.add(kind, chunk, user=user, sent=True, waiter=user and i == len(chunks) - 1)
            for i, chunk in enumerate(chunks)
        ]
        for earlier in requests[:-1]:
            self._chunk_last[earlier] = requests[-1]
        if kind == "subscribe":
            for stream in streams:
                market = _book_market(stream)
                if market is not None:
                    self._snapshot_due[market] = now
        return requests[-1].first_waiter, [self._send(r) for r in requests]

    def _send(self, request: Request[_Key]) -> Send:
        streams = list(request.key)
        model = (
            SubscribeRequest(streams=streams)
            if request.kind == "subscribe"
            else UnsubscribeRequest(streams=streams)
        )
        return Send(_codec.encode(model), request_id=request.first_waiter)

    def _done(self, request: Request[_Key], error: str | None) -> list[Action]:
        """Complete ``request`` (answered, or refused with ``error``), and its split siblings."""
        refusal = self._refusals.pop(request, None)
        if error is None and refusal is not None:
            error = refusal
        done: list[Action] = []
        if error is None:
            done += self._requests.answer(request)
        else:
            done += self._requests.refuse(request, error)
        last = self._chunk_last.pop(request, None)
        if last is not None and error is not None and last.waiters:
            # The caller waits on the last frame of the split request: it fails now; that
            # frame's own reply is still consumed in order when it comes.
            done += [RequestDone(w, error) for w in last.waiters]
            last.waiters.clear()
        return done

    def _on_success(self, success: Success) -> list[Action]:
        if success.message.startswith(_CANNOT_SUBSCRIBE):
            # rango refuses a stream the client's role may not have this way, before its reply
            # to the same request (or its handshake acknowledgement). For good: not asked again.
            refused = success.message[len(_CANNOT_SUBSCRIBE) :]
            self._streams = [s for s in self._streams if s != refused]
            request = None if self._first_success else self._oldest_sent("subscribe")
            if request is not None:
                note = self._refusals.get(request)
                self._refusals[request] = success.message if note is None else f"{note}; {success.message}"
            return []
        first, self._first_success = self._first_success, False
        listed = success.streams
        if (
            first
            and success.message == "subscribed"
            and listed is not None
            and set(listed) <= self._conn_streams
        ):
            return self._on_handshake_ack(listed)
        auth = self._requests.find(state=RequestState.SENT, kind="auth")
        if auth is not None and success.message == "Authenticated.":
            self._requests.answer(auth)
            self._ready = True
            # Streams travel in the query string: nothing to re-send.
            return [AuthAccepted()]
        kind = _KIND_OF_REPLY.get(success.message)
        request = None if kind is None else self._oldest_sent(kind)
        if request is None:
            return []  # unsolicited: nothing to complete
        return self._done(request, None)

    def _on_handshake_ack(self, listed: list[str]) -> list[Action]:
        """The server subscribed this connection's query streams: requests they carry are done."""
        actions: list[Action] = []
        for request in self._carried:
            if request.state is RequestState.SENT:
                actions += self._done(request, None)
        self._carried.clear()
        if self._auth_by_ack:
            self._auth_by_ack = False
            # rango leaves out the private streams (no dot) of a client it did not authenticate.
            missing = sorted(s for s in self._conn_streams if "." not in s and s not in listed)
            if missing:
                actions.append(
                    AuthFailed(
                        "the server did not take the token: it left out the private streams "
                        f"{', '.join(missing)} (rango's /public endpoint ignores a token it rejects; "
                        "its /private endpoint answers 401)"
                    )
                )
                return actions
            self._ready = True
            actions.append(AuthAccepted())
        return actions

    def _on_error(self, error: Error, msg: StreamMessage[Any]) -> list[Action]:
        text = scrub(error.message, self._token)
        auth = self._requests.find(state=RequestState.SENT, kind="auth")
        if auth is not None:
            # The JWT message is the first thing sent on this connection.
            self._requests.refuse(auth, text)
            if error.message in _AUTH_ERRORS:
                return [AuthFailed(text)]
            return [ProtocolClose(1011, text, CloseVerdict.RETRY)]
        request = self._requests.find(
            state=RequestState.SENT, where=lambda r: r.kind != "auth" and r not in self._carried
        )
        if request is not None:
            return self._done(request, text)
        # Unsolicited: the application decides. Delivered with the token scrubbed, like every
        # server text we pass on.
        return [Deliver(attrs.evolve(msg, data=attrs.evolve(error, message=text)))]

    def _oldest_sent(self, kind: _Kind) -> Request[_Key] | None:
        # Requests carried by the query string are answered by the handshake ack only.
        return self._requests.find(state=RequestState.SENT, kind=kind, where=lambda r: r not in self._carried)

    # -- order books ------------------------------------------------------------------------------

    def _keeps_book(self, market: str) -> bool:
        return f"{market}.ob-inc" in self._streams or f"{market}.ob-snap" in self._streams

    def _on_book(self, msg: StreamMessage[Any], now: float) -> list[Action]:
        actions: list[Action] = [Deliver(msg)]
        market = market_of(msg.stream)
        if market is None or not self._keeps_book(market):
            return actions  # a frame still in flight for a book no longer kept
        data = msg.data
        if isinstance(data, OrderBookSnapshot):
            events = self._books.snapshot(market, data.bids, data.asks, sequence=data.sequence)
            if self._books[market].synced:
                self._snapshot_due.pop(market, None)
            else:
                self._snapshot_due[market] = now  # crossed: wait for the next one
        else:
            events = self._increment(market, data, now)
        actions += [Notify(e) for e in events]
        actions += self._resync(now)
        return actions

    def _increment(self, market: str, inc: OrderBookIncrement, now: float) -> list[BookEvent]:
        books = self._books
        book = books.book(market)
        seq = inc.sequence
        events: list[BookEvent] = []
        if seq is not None and book.synced and book.sequence is not None and seq < book.sequence:
            # A repeat has the same number; a smaller one means the engine started again at 1.
            why = f"sequence went back: {book.sequence} -> {seq} (engine restarted?)"
            events += books.unsync(market, why)
        else:
            for i, (side, price, amount) in enumerate(_changes(inc)):
                if i == 0:
                    before = book.sequence
                    events += books.increment(market, side, price, amount, sequence=seq)
                    if seq is not None and not (book.synced and book.sequence == seq and before != seq):
                        break  # not applied (a repeat, a jump, no snapshot): neither are the others
                else:
                    events += books.increment(market, side, price, amount)
        if not book.synced and f"{market}.ob-inc" in self._streams:
            # Increments flow, so the server has a snapshot to give: ask again when it is late.
            since = self._snapshot_due.setdefault(market, now)
            if now - since >= self.snapshot_timeout:
                books.unsync(market, f"no snapshot within {self.snapshot_timeout:g} s", resync=True)
        return events

    def _resync(self, now: float) -> list[Action]:
        """Ask for a fresh snapshot of every book :meth:`Books.take_resyncs` names."""
        markets = [m for m in self._books.take_resyncs() if f"{m}.ob-inc" in self._streams]
        if not markets or not self._connected:
            return []
        for market in markets:
            self._snapshot_due[market] = now
        streams = tuple(f"{m}.ob-inc" for m in markets)
        if self.subscribe_mode == "event":
            # Ranger sends its stored snapshot to a *new* subscriber only.
            return [
                *self._send_requests("unsubscribe", streams, user=False, now=now)[1],
                *self._send_requests("subscribe", streams, user=False, now=now)[1],
            ]
        why = self._books[markets[0]].unsynced_reason
        last = self._last_resync_close
        deliberate = last is None or now - last >= _RESYNC_RECONNECT_INTERVAL
        self._last_resync_close = now
        reason = (
            f"resync of the order book {', '.join(markets)} ({why}): reconnecting, streams are in the URL"
        )
        return [ProtocolClose(1000, reason, CloseVerdict.RETRY, deliberate=deliberate)]


def _book_market(stream: str) -> str | None:
    """The market of a ``<market>.ob-inc`` stream (the one that brings a book), else None."""
    market, dot, event = stream.partition(".")
    return market if dot and event == "ob-inc" else None


def _is_book(stream: str) -> bool:
    return stream.endswith((".ob-inc", ".ob-snap"))


_ZERO = Decimal(0)
_SIDES: tuple[tuple[Side, str], ...] = (("ask", "asks"), ("bid", "bids"))


def _changes(inc: OrderBookIncrement) -> list[tuple[Side, Decimal, Decimal]]:
    """The level changes of an increment: one flat pair per side (engine) or lists (document)."""
    out: list[tuple[Side, Decimal, Decimal]] = []
    for side, name in _SIDES:
        levels: Any = getattr(inc, name)
        if levels is None:
            continue
        for price, amount in [levels] if isinstance(levels, tuple) else levels:
            # "" is what the engine sends for a level that is gone; the document says zero.
            out.append((side, price, _ZERO if amount == "" else amount))
    return out


def _split(kind: _Kind, streams: _Key) -> list[_Key]:
    """``streams`` in groups whose request frame is at most MAX_CLIENT_MESSAGE bytes."""
    groups: list[_Key] = []
    group: list[str] = []
    for stream in streams:
        if group and _frame_size(kind, [*group, stream]) > MAX_CLIENT_MESSAGE:
            groups.append(tuple(group))
            group = []
        group.append(stream)
    groups.append(tuple(group))
    return groups


def _frame_size(kind: _Kind, streams: list[str]) -> int:
    model = SubscribeRequest(streams=streams) if kind == "subscribe" else UnsubscribeRequest(streams=streams)
    return len(_codec.encode(model).encode())


def _check_streams(streams: Sequence[str]) -> list[str]:
    if isinstance(streams, str):
        raise TypeError("streams must be a list of names, not a string")
    bad = [s for s in streams if not isinstance(s, str) or not s]
    if bad:
        raise ValueError(f"stream names must be non-empty strings: {bad!r}")
    odd = [s for s in streams if not _STREAM_NAME.fullmatch(s)]
    if odd:
        # rango takes the query string as it is (no percent-decoding, values split on commas).
        raise ValueError(f"stream names may use only letters, digits and . _ ~ -: {odd!r}")
    long = [s for s in streams if _frame_size("unsubscribe", [s]) > MAX_CLIENT_MESSAGE]
    if long:
        limit = MAX_CLIENT_MESSAGE
        raise ValueError(f"stream name too long for one request of {limit} bytes: {long[0][:40]!r}...")
    return list(streams)
