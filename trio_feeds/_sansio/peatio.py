"""Sans-IO protocol for the Peatio Ranger WebSocket.

Two generations of the server are spoken:

* **Document form**: streams are chosen only by ``?stream=`` query parameters at connection
  time; auth is a message ``{"jwt": "Bearer <token>"}`` sent after connecting, answered by
  ``{"success": {"message": "Authenticated."}}`` or an ``error``.
* **Later form**: auth by an ``Authorization: Bearer <jwt>`` header at the handshake (a bad
  token fails the handshake); streams can also be added and removed on a live connection with
  ``{"event": "subscribe"|"unsubscribe", "streams": [...]}``, answered by ``{"success":
  {"message": "subscribed"|"unsubscribed", "streams": [<all streams now>]}}``; the server sends
  the text frame ``ping`` and expects ``pong``.

Both forms take the streams in the query string, so :meth:`PeatioProtocol.connect_target` always
puts *every* current stream there: a reconnect needs no resubscription messages at all.

Ranger replies carry no request id. A subscribe/unsubscribe reply completes the oldest request
in flight (FIFO, in a :class:`~._requests.RequestTracker`) whose kind matches its ``message``
and whose streams agree with the reply's stream list; an ``error`` answers the oldest request
in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from .._codecs import peatio as _codec
from .._codecs.peatio import StreamMessage
from .._normalize import peatio as _normalize
from ..errors import DecodeError
from ..models.peatio import AuthRequest, Error, Order, SubscribeRequest, Success, Trade, UnsubscribeRequest
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
    ProtocolClose,
    Send,
)
from ._requests import Request, RequestState, RequestTracker
from ._shared import classify_close, scrub

__all__ = ["PRIVATE_STREAMS", "AuthMode", "PeatioProtocol", "SubscribeMode", "private_streams"]

AuthMode = Literal["message", "header"]
SubscribeMode = Literal["query", "event"]
_Kind = Literal["subscribe", "unsubscribe"]

# Error texts that mean "your token is no good": retrying with the same token cannot help.
_AUTH_ERRORS = frozenset({"Authentication failed.", "Token type is not provided or invalid."})
_REPLIES = {"subscribe": "subscribed", "unsubscribe": "unsubscribed"}

PRIVATE_STREAMS = frozenset({"order", "trade", "deposit_address"})
"""Streams that carry a user's own data: Ranger delivers them only to an authenticated client."""


def private_streams(streams: Sequence[str]) -> list[str]:
    """The private streams among ``streams`` (without a token, the server sends nothing on them)."""
    return [s for s in streams if s in PRIVATE_STREAMS]


def _answered_by(request: Request[tuple[str, ...]], success: Success) -> bool:
    """Whether ``success`` can be the reply to ``request``.

    The reply lists every stream of the connection after the change, so a subscribe's streams
    are all in it and an unsubscribe's are all gone. This keeps the unsolicited ``subscribed``
    reply to the handshake's query streams from completing a request.
    """
    if success.message != _REPLIES.get(request.kind):
        return False
    if success.streams is None:
        return True  # a server that does not list streams: order alone decides
    listed = set(success.streams)
    if request.kind == "subscribe":
        return listed.issuperset(request.key)
    return listed.isdisjoint(request.key)


class PeatioProtocol(FeedProtocol):
    """The Peatio Ranger feed.

    Args:
        url: the WebSocket URL; ``stream`` parameters already in it join ``streams``.
        token: a JWT for private streams (``order``, ``trade``, ``deposit_address``); ``None``
            for public streams only. With or without the ``"Bearer "`` prefix.
        streams: initial streams, e.g. ``["btcusd.trades", "order"]``.
        auth: ``"message"`` (document form: send ``{"jwt": ...}`` after connecting) or
            ``"header"`` (later form: ``Authorization`` header at the handshake).
        subscribe_mode: how :meth:`subscribe`/:meth:`unsubscribe` change streams on a live
            connection. ``"event"`` sends subscribe/unsubscribe events (later servers);
            ``"query"`` (document servers, which take streams only up front) records the change
            and returns a ``ProtocolClose(RETRY)`` so the engine reconnects with the new query
            string. Default: ``"event"`` with header auth, else ``"query"``.
        server_heartbeat: Ranger promises no periodic frame (later servers ping at an
            unpublished interval), so ``None`` by default.
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
    ) -> None:
        if auth not in ("message", "header"):
            raise ValueError(f"auth must be 'message' or 'header', not {auth!r}")
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        self._base = parts
        self._other_params = [(k, v) for k, v in query if k != "stream"]
        self._streams: list[str] = []
        self._add_streams([v for k, v in query if k == "stream"])
        self._add_streams(_check_streams(streams))
        if token is not None and token.startswith("Bearer "):
            token = token[len("Bearer ") :]
        self._token = token
        self.auth: AuthMode = auth
        self.subscribe_mode: SubscribeMode = subscribe_mode or ("event" if auth == "header" else "query")
        self.heartbeat = HeartbeatPolicy(server_heartbeat=server_heartbeat)
        self._connected = False
        self._ready = False
        self._requests: RequestTracker[tuple[str, ...]] = RequestTracker()
        # The streams of the last connect_target(): a subscribe/unsubscribe made while that
        # connection was being opened is not in its query string (see connection_made).
        self._target_streams: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        return (
            f"PeatioProtocol(url={urlunsplit(self._base)!r}, streams={self._streams!r}, "
            f"auth={self.auth!r}, token={'set' if self._token else None!r}, ready={self._ready})"
        )

    # -- FeedProtocol -----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once connected and, with message auth, once the token was accepted."""
        return self._ready

    @property
    def has_token(self) -> bool:
        """Whether a JWT was given (private streams need one)."""
        return self._token is not None

    @property
    def streams(self) -> tuple[str, ...]:
        """Every stream the next connection asks for."""
        return tuple(self._streams)

    keeps_account = True

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
        """Send the JWT message (message auth with a token); otherwise ready at once.

        Requests left from a lost connection complete here: the query string of this
        connection already carries the stream set they asked for. Streams changed while this
        connection was being opened (after :meth:`connect_target`) are not in its query string:
        they are sent as events (``"event"`` mode, after the JWT), or the connection is
        replaced by one with the new query string (``"query"`` mode).
        """
        self._connected = True
        actions: list[Action] = []
        for request in self._requests.select(state=RequestState.QUEUED):
            actions += self._requests.cancel(request, None)
        if self._token is not None and self.auth == "message":
            self._ready = False
            self._requests.add("auth", (), user=False, sent=True, waiter=False)
            actions.append(Send(_codec.encode(AuthRequest(jwt=f"Bearer {self._token}"))))
        else:
            self._ready = True
        target, self._target_streams = self._target_streams, None
        if target is not None:
            added = tuple(s for s in self._streams if s not in target)
            removed = tuple(s for s in target if s not in self._streams)
            if (added or removed) and self.subscribe_mode == "query":
                actions.append(ProtocolClose(1000, "reconnecting to change streams", CloseVerdict.RETRY))
            elif added or removed:
                for kind, streams in (("subscribe", added), ("unsubscribe", removed)):
                    if streams:
                        # No user waits (their call returned): the reply is consumed, in order.
                        request = self._requests.add(kind, streams, user=False, sent=True, waiter=False)
                        actions.append(self._send(request))
        return actions

    def connection_lost(self) -> Sequence[Action]:
        """Forget auth; requests in flight complete on the next connection (see above)."""
        self._connected = False
        self._ready = False
        self._requests.connection_lost()
        return ()

    def forget_request(self, request_id: str) -> None:
        """The engine gave up on ``request_id``; its reply is still consumed in order."""
        self._requests.forget_waiter(request_id)

    def receive_frame(self, frame: str | bytes, now: float) -> Sequence[Action]:
        """Answer ``ping``; follow auth and request replies; deliver stream messages."""
        if frame in ("ping", b"ping"):
            # A text heartbeat, not JSON. Answered in any state, auth or not.
            return [Send("pong")]
        try:
            msg: Any = _codec.decode(frame)
        except DecodeError as exc:
            return [BadFrame(exc)]
        payload = _reply_payload(msg)
        if isinstance(payload, Success):
            return self._on_success(payload)
        if isinstance(payload, Error):
            return self._on_error(payload, msg)
        return [Deliver(msg)]

    def subscribe(self, now: float, /, *streams: str) -> tuple[str | None, Sequence[Action]]:
        """Add streams; every later connection asks for them in its query string.

        On a live connection: ``"event"`` mode sends a subscribe event and returns its request
        id; ``"query"`` mode returns ``(None, [ProtocolClose(RETRY)])`` so the engine reconnects
        with the new streams. Streams already present change nothing: ``(None, ())``.
        """
        new = [s for s in dict.fromkeys(_check_streams(streams)) if s not in self._streams]
        self._add_streams(new)
        return self._change("subscribe", new)

    def unsubscribe(self, now: float, /, *streams: str) -> tuple[str | None, Sequence[Action]]:
        """Remove streams; the same modes as :meth:`subscribe`."""
        gone = [s for s in dict.fromkeys(_check_streams(streams)) if s in self._streams]
        self._streams = [s for s in self._streams if s not in gone]
        return self._change("unsubscribe", gone)

    def classify_close(self, code: int | None, reason: str) -> CloseVerdict:
        """Use the shared table: 1008 fatal, rate limits slow, the rest retry."""
        return classify_close(code, reason)

    # -- internals ----------------------------------------------------------------------------

    def _add_streams(self, streams: Sequence[str]) -> None:
        for s in streams:
            if s not in self._streams:
                self._streams.append(s)

    def _change(self, kind: _Kind, streams: list[str]) -> tuple[str | None, Sequence[Action]]:
        if not streams or not self._connected:
            return None, ()  # nothing changes, or the next connect_target carries it
        if self.subscribe_mode == "query":
            return None, [ProtocolClose(1000, "reconnecting to change streams", CloseVerdict.RETRY)]
        request = self._requests.add(kind, tuple(streams), user=True, sent=True)
        return request.first_waiter, [self._send(request)]

    def _send(self, request: Request[tuple[str, ...]]) -> Send:
        streams = list(request.key)
        model = (
            SubscribeRequest(streams=streams)
            if request.kind == "subscribe"
            else UnsubscribeRequest(streams=streams)
        )
        return Send(_codec.encode(model), request_id=request.first_waiter)

    def _on_success(self, success: Success) -> list[Action]:
        auth = self._requests.find(state=RequestState.SENT, kind="auth")
        if auth is not None and success.message == "Authenticated.":
            self._requests.answer(auth)
            self._ready = True
            # Streams travel in the query string: nothing to re-send.
            return [AuthAccepted()]
        request = self._requests.find(state=RequestState.SENT, where=lambda r: _answered_by(r, success))
        if request is None:
            # E.g. the "subscribed" reply to the handshake's query streams: nothing to complete.
            return []
        return list(self._requests.answer(request))

    def _on_error(self, error: Error, msg: Any) -> list[Action]:
        text = scrub(error.message, self._token)
        auth = self._requests.find(state=RequestState.SENT, kind="auth")
        if auth is not None:
            # The JWT message is the only thing sent so far on this connection.
            self._requests.refuse(auth, text)
            if error.message in _AUTH_ERRORS:
                return [AuthFailed(text)]
            return [ProtocolClose(1011, text, CloseVerdict.RETRY)]
        request = self._requests.find(state=RequestState.SENT)
        if request is not None:
            return list(self._requests.refuse(request, text))
        # Unsolicited: the application decides. Delivered with the token scrubbed, like every
        # server text we pass on.
        return [Deliver(attrs.evolve(msg, data=Error(message=text)))]


_ACCOUNT_PAYLOADS = frozenset({Order, Trade})


def _reply_payload(msg: Any) -> Success | Error | None:
    """Return the ``success``/``error`` payload of a reply, or None for any other message."""
    if isinstance(msg, StreamMessage) and msg.stream in ("success", "error"):
        data: Any = msg.data
        if isinstance(data, Success | Error):
            return data
    return None


def _check_streams(streams: Sequence[str]) -> list[str]:
    if isinstance(streams, str):
        raise TypeError("streams must be a list of names, not a string")
    bad = [s for s in streams if not isinstance(s, str) or not s]
    if bad:
        raise ValueError(f"stream names must be non-empty strings: {bad!r}")
    return list(streams)
