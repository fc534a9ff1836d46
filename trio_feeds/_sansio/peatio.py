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
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from .._codecs import peatio as _codec
from .._codecs.peatio import StreamMessage
from .._normalize import peatio as _normalize
from ..books import Books
from ..errors import DecodeError
from ..models.peatio import (
    AuthRequest,
    Error,
    Order,
    OrderBookIncrement,
    OrderBookSnapshot,
    Success,
    Trade,
)
from ..normalized import Normalized
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
    Send,
)
from ._ranger import MAX_CLIENT_MESSAGE, Kind, RangerBooks, RangerRequests, frame_size, handshake_closed_hint
from ._requests import RequestState
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

# Error texts that mean "your token is no good": retrying with the same token cannot help.
_AUTH_ERRORS = frozenset({"Authentication failed.", "Token type is not provided or invalid."})
_KIND_OF_REPLY: dict[str, Kind] = {"subscribed": "subscribe", "unsubscribed": "unsubscribe"}
_CANNOT_SUBSCRIBE = "cannot subscribe to "  # rango's refusal of one stream (RBAC)

# Characters a stream name may have: those that need no percent-encoding in a query string.
# rango reads the query string without decoding it (and splits values on commas).
_STREAM_NAME = re.compile(r"[A-Za-z0-9._~-]+")

# A query-mode resync reconnects; reconnects for a resync closer together than this count as
# failed attempts, so a server that keeps sending broken books gets the normal backoff.
_RESYNC_RECONNECT_INTERVAL = 60.0

PRIVATE_STREAMS = frozenset({"order", "trade", "deposit_address"})
"""Streams that carry a user's own data: Ranger delivers them only to an authenticated client."""

_ACCOUNT_PAYLOADS = frozenset({Order, Trade})
_AWAITED = {"header": "no handshake acknowledgement", "message": "not authenticated"}


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
    keeps_account = True

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
        _check_options(auth, subscribe_mode, snapshot_timeout)
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        self._base = parts
        self._other_params = [(k, v) for k, v in query if k != "stream"]
        in_url = [v for k, v in query if k == "stream"]
        self._streams: list[str] = list(dict.fromkeys(_check_streams([*in_url, *_check_streams(streams)])))
        if token is not None and token.startswith("Bearer "):
            token = token[len("Bearer ") :]
        self._token = token
        self.auth: AuthMode = auth
        self.subscribe_mode: SubscribeMode = subscribe_mode or ("event" if auth == "header" else "query")
        self.heartbeat = HeartbeatPolicy(server_heartbeat=server_heartbeat)
        self._requests = RangerRequests()
        self.snapshot_timeout = snapshot_timeout
        self._books = RangerBooks(snapshot_timeout)
        self._last_resync_close: float | None = None
        # Per connection.
        self._connected = False
        self._ready = False
        self._target_streams: tuple[str, ...] | None = None  # the streams of the last connect_target()
        self._conn_streams: frozenset[str] = frozenset()  # this connection's query streams
        self._first_success = False  # no success reply seen yet on this connection
        self._auth_by_ack = False  # header auth: Authenticated comes with the handshake ack

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
        return self._books.books

    def account_message(self, item: object) -> bool:
        """The private ``order`` and ``trade`` streams."""
        return type(item) is StreamMessage and type(item.data) in _ACCOUNT_PAYLOADS

    def normalize(self, item: object, received_at: datetime) -> tuple[Normalized, ...]:
        """See :func:`trio_feeds._normalize.peatio.normalize`."""
        return _normalize.normalize(item, received_at)  # type: ignore[arg-type]

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
        actions = self._requests.carry_queued(ack_expected=self.auth == "header")
        self._auth_by_ack = self._token is not None and self.auth == "header"
        self._ready = self._token is None
        if self._token is not None and self.auth == "message":
            self._requests.tracker.add("auth", (), user=False, sent=True, waiter=False)
            actions.append(Send(_codec.encode(AuthRequest(jwt=f"Bearer {self._token}"))))
        self._books.expect(target, now)
        added = tuple(s for s in self._streams if s not in target)
        removed = tuple(s for s in target if s not in self._streams)
        if (added or removed) and self.subscribe_mode == "query":
            actions.append(
                ProtocolClose(1000, "reconnecting to change streams", CloseVerdict.RETRY, deliberate=True)
            )
            return actions
        # No user waits (their calls returned): the replies are consumed, in order.
        if added:
            actions += self._requests.send("subscribe", added, user=False)[1]
            self._books.expect(added, now)
        if removed:
            actions += self._requests.send("unsubscribe", removed, user=False)[1]
        return actions

    def connection_lost(self) -> Sequence[Action]:
        """Forget auth; the books are out of sync until the next connection's snapshots."""
        self._connected = False
        self._ready = False
        self._auth_by_ack = False
        self._requests.connection_lost()
        return [Notify(e) for e in self._books.disconnected()]

    def forget_request(self, request_id: str) -> None:
        """The engine gave up on ``request_id``; its reply is still consumed in order."""
        self._requests.tracker.forget_waiter(request_id)

    def receive_frame(self, frame: str | bytes, now: float) -> Sequence[Action]:
        """Answer ``ping``; follow auth and request replies; keep the books; deliver stream messages."""
        if frame in ("ping", b"ping"):
            # Not JSON. No Ranger sends it (clients do); answering costs nothing and keeps a
            # server that does happy.
            return [Send("pong")]
        try:
            msg: Any = _codec.decode_frame(frame)
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
        longer than :data:`~trio_feeds._sansio._ranger.MAX_CLIENT_MESSAGE` bytes) and returns
        the request id to wait for;
        ``"query"`` mode returns ``(None, [ProtocolClose(RETRY)])`` so the engine reconnects
        with the new streams. Streams already present change nothing: ``(None, ())``.
        """
        new = [s for s in dict.fromkeys(_check_streams(streams)) if s not in self._streams]
        self._streams += new
        return self._change("subscribe", new, now)

    def unsubscribe(self, now: float, /, *streams: str) -> tuple[str | None, Sequence[Action]]:
        """Remove streams; the same modes as :meth:`subscribe`. A book no longer kept is unsynced."""
        gone = [s for s in dict.fromkeys(_check_streams(streams)) if s in self._streams]
        self._streams = [s for s in self._streams if s not in gone]
        events = self._books.unsubscribed(gone, self._streams)
        request_id, actions = self._change("unsubscribe", gone, now)
        return request_id, [*(Notify(e) for e in events), *actions]

    def classify_close(self, code: int | None, reason: str) -> CloseVerdict:
        """Use the shared table: 1008 fatal, rate limits slow, the rest retry."""
        return classify_close(code, reason)

    def not_ready_reason(self, waited: float) -> str:
        """Header auth waits for the handshake acknowledgement, message auth for its answer."""
        return f"{_AWAITED[self.auth]} within {waited:g} s"

    def connect_failed(self, reason: str) -> str:
        """Say what a handshake cut short may mean with header auth (it is retried all the same)."""
        if self._token is not None and self.auth == "header":
            return handshake_closed_hint(reason)
        return reason

    # -- internals ----------------------------------------------------------------------------

    def _change(self, kind: Kind, streams: list[str], now: float) -> tuple[str | None, Sequence[Action]]:
        if not streams or not self._connected:
            return None, ()  # nothing changes, or the next connect_target carries it
        if self.subscribe_mode == "query":
            return None, [ProtocolClose(1000, "reconnecting to change streams", CloseVerdict.RETRY)]
        if kind == "subscribe":
            self._books.expect(streams, now)
        return self._requests.send(kind, tuple(streams), user=True)

    def _on_success(self, success: Success) -> list[Action]:
        requests = self._requests
        if success.message.startswith(_CANNOT_SUBSCRIBE):
            # rango refuses a stream the client's role may not have this way, before its reply
            # to the same request (or its handshake acknowledgement). For good: not asked again.
            refused = success.message[len(_CANNOT_SUBSCRIBE) :]
            self._streams = [s for s in self._streams if s != refused]
            if not self._first_success:
                requests.refused_stream(success.message)
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
        auth = requests.tracker.find(state=RequestState.SENT, kind="auth")
        if auth is not None and success.message == "Authenticated.":
            requests.tracker.answer(auth)
            self._ready = True
            # Streams travel in the query string: nothing to re-send.
            return [AuthAccepted()]
        kind = _KIND_OF_REPLY.get(success.message)
        request = None if kind is None else requests.oldest_sent(kind)
        return [] if request is None else requests.done(request, None)  # none: unsolicited

    def _on_handshake_ack(self, listed: list[str]) -> list[Action]:
        """The server subscribed this connection's query streams: requests they carry are done."""
        actions = self._requests.acknowledged()
        if self._auth_by_ack:
            self._auth_by_ack = False
            refused = _token_refused(self._conn_streams, listed)
            if refused is not None:
                return [*actions, AuthFailed(refused)]
            self._ready = True
            actions.append(AuthAccepted())
        return actions

    def _on_error(self, error: Error, msg: StreamMessage[Any]) -> list[Action]:
        text = scrub(error.message, self._token)
        tracker = self._requests.tracker
        auth = tracker.find(state=RequestState.SENT, kind="auth")
        if auth is not None:
            # The JWT message is the first thing sent on this connection.
            tracker.refuse(auth, text)
            if error.message in _AUTH_ERRORS:
                return [AuthFailed(text)]
            return [ProtocolClose(1011, text, CloseVerdict.RETRY)]
        request = self._requests.oldest_sent("subscribe", "unsubscribe")
        if request is not None:
            return self._requests.done(request, text)
        # Unsolicited: the application decides. Delivered with the token scrubbed, like every
        # server text we pass on.
        return [Deliver(attrs.evolve(msg, data=attrs.evolve(error, message=text)))]

    def _on_book(self, msg: StreamMessage[Any], now: float) -> list[Action]:
        events, resyncs = self._books.on_frame(msg, now, self._streams)
        return [Deliver(msg), *(Notify(e) for e in events), *self._resync(resyncs, now)]

    def _resync(self, markets: list[str], now: float) -> list[Action]:
        """Ask for a fresh snapshot of the books of ``markets``."""
        if not markets or not self._connected:
            return []
        streams = tuple(f"{m}.ob-inc" for m in markets)
        if self.subscribe_mode == "event":
            # Ranger sends its stored snapshot to a *new* subscriber only.
            return [
                *self._requests.send("unsubscribe", streams, user=False)[1],
                *self._requests.send("subscribe", streams, user=False)[1],
            ]
        close = _resync_close(markets, self.books[markets[0]].unsynced_reason, self._last_resync_close, now)
        self._last_resync_close = now
        return [close]


def _resync_close(markets: list[str], why: str | None, last: float | None, now: float) -> ProtocolClose:
    """The reconnect that resyncs books in query mode (deliberate, unless the last was recent)."""
    deliberate = last is None or now - last >= _RESYNC_RECONNECT_INTERVAL
    reason = f"resync of the order book {', '.join(markets)} ({why}): reconnecting, streams are in the URL"
    return ProtocolClose(1000, reason, CloseVerdict.RETRY, deliberate=deliberate)


def _check_options(auth: str, subscribe_mode: str | None, snapshot_timeout: float) -> None:
    if auth not in ("message", "header"):
        raise ValueError(f"auth must be 'message' or 'header', not {auth!r}")
    if subscribe_mode not in (None, "query", "event"):
        raise ValueError(f"subscribe_mode must be 'query' or 'event', not {subscribe_mode!r}")
    if not snapshot_timeout > 0:
        raise ValueError(f"snapshot_timeout must be > 0, not {snapshot_timeout!r}")


def _token_refused(asked: frozenset[str], listed: list[str]) -> str | None:
    """Why a handshake ack says the header's token was not taken, or None if it does not."""
    # rango leaves out the private streams (no dot) of a client it did not authenticate.
    missing = sorted(s for s in asked if "." not in s and s not in listed)
    if not missing:
        return None
    return (
        f"the server did not take the token: it left out the private streams {', '.join(missing)} "
        "(rango's /public endpoint ignores a token it rejects; its /private endpoint answers 401)"
    )


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
    long = [s for s in streams if frame_size("unsubscribe", [s]) > MAX_CLIENT_MESSAGE]
    if long:
        limit = MAX_CLIENT_MESSAGE
        raise ValueError(f"stream name too long for one request of {limit} bytes: {long[0][:40]!r}...")
    return list(streams)
