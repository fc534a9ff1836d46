"""Sans-IO protocol for the trading gateway WebSocket (``ws://host:port/ws``).

Session: on every connection the client sends ``authenticate`` (api key, wall-clock timestamp
in ms, signature); the server answers ``authenticated`` or ``error`` 401. Then the client
re-sends every remembered subscription. The server pings (``{"event": "ping"}``) after 30 s
without traffic and drops the connection if no pong follows within 10 s.

Acknowledgement correlation. Gateway requests carry no id. ``subscribed`` / ``unsubscribed``
echo the request's channels and params, and ``error`` echoes nothing. So every request frame
sent on the connection is queued in send order (FIFO), and:

* an ``subscribed``/``unsubscribed`` event completes the *first* queued request of that action
  whose channels and params equal the echo; if none is equal (a server may normalise what it
  echoes), it completes the oldest queued request of that action;
* an ``error`` event completes the oldest queued request (the server answers in order).

Resubscription frames sent after a reconnect are tracked too, with their own request ids (set
on the ``Send``), so their acknowledgements complete them and are never taken for the answer to
a user's request. Requests live in a :class:`~._requests.RequestTracker`; outgoing frames are
built from the generated request models.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Literal

import attrs

from .._codecs import UnknownMessage, model_classes
from .._codecs import gateway as _codec
from .._normalize import gateway as _normalize
from .._types import from_epoch_millis
from ..books import Books
from ..errors import DecodeError
from ..models import gateway as _models
from ..models.gateway import (
    AuthenticatedEvent,
    AuthenticateRequest,
    Channel,
    CloseEvent,
    ErrorEvent,
    OrderbookMessage,
    OrdersMessage,
    PingEvent,
    PongMessage,
    PositionsMessage,
    SubscribedEvent,
    SubscribeRequest,
    SubscriptionParams,
    UnsubscribedEvent,
    UnsubscribeRequest,
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
    RequestDone,
    Send,
)
from ._requests import Request, RequestState, RequestTracker
from ._shared import Credentials, classify_close, mask, scrub

__all__ = ["GatewayProtocol", "Signer", "Subscription", "hmac_sha256_signer", "system_wall_clock_ms"]

# Messages receive_frame acts on itself; every other class is delivered as it is. The data
# classes are found once, so the per-frame path is one set lookup (no isinstance chain).
_HANDLED = (PingEvent, AuthenticatedEvent, ErrorEvent, SubscribedEvent, UnsubscribedEvent, CloseEvent)
_ACKS = (SubscribedEvent, UnsubscribedEvent)
_JUST_DELIVERED = frozenset(
    [UnknownMessage] + [c for c in model_classes(_models) if not issubclass(c, (*_HANDLED, OrderbookMessage))]
)

Signer = Callable[[str, str, int], str]
"""``signer(api_key, api_secret, timestamp_ms) -> signature`` for the ``authenticate`` message."""


def hmac_sha256_signer(api_key: str, api_secret: str, timestamp: int) -> str:
    """Sign by default: hex HMAC-SHA256 of ``f"{timestamp}{api_key}"`` keyed by the secret.

    The gateway document does not specify the signature; this is the common exchange scheme.
    Pass your own ``signer`` to :class:`GatewayProtocol` when your gateway differs.
    """
    message = f"{timestamp}{api_key}".encode()
    return hmac.new(api_secret.encode(), message, hashlib.sha256).hexdigest()


def system_wall_clock_ms() -> int:
    """Milliseconds since the Unix epoch, from the system clock."""
    return time.time_ns() // 1_000_000


_Kind = Literal["subscribe", "unsubscribe"]


@attrs.frozen
class Subscription:
    """One subscribe request's content: channels and params (``None``: param not sent)."""

    channels: tuple[Channel, ...]
    exchange: str | None = None
    symbols: tuple[str, ...] | None = None
    depth: int | None = None
    type: str | None = None

    def request(self, kind: _Kind) -> SubscribeRequest | UnsubscribeRequest:
        """The generated request model for this subscription."""
        params = None
        if (self.exchange, self.symbols, self.depth, self.type) != (None, None, None, None):
            # The document's system_events example sends no params at all.
            params = SubscriptionParams(
                exchange=self.exchange,
                symbols=None if self.symbols is None else list(self.symbols),
                depth=self.depth,
                type=self.type,
            )
        model = SubscribeRequest if kind == "subscribe" else UnsubscribeRequest
        return model(channels=list(self.channels), params=params)

    def matches_echo(self, channels: Sequence[str], params: SubscriptionParams | None) -> bool:
        """Whether an acknowledgement's echoed channels and params are exactly this subscription."""
        p = params or SubscriptionParams()
        return (
            tuple(channels) == self.channels
            and p.exchange == self.exchange
            and (tuple(p.symbols) if p.symbols is not None else None) == self.symbols
            and p.depth == self.depth
            and p.type == self.type
        )

    def without(self, other: Subscription) -> list[Subscription]:
        """Return what is left of this subscription after unsubscribing ``other``.

        ``None`` fields of ``other`` match anything (``unsubscribe(["trades"])`` drops trades
        for every exchange and symbol). Symbols cannot be taken out of an all-symbols
        subscription (we cannot write "all but X" on the wire), so such a request leaves it.
        """
        if other.exchange is not None and other.exchange != self.exchange:
            return [self]
        if other.depth is not None and other.depth != self.depth:
            return [self]
        if other.type is not None and other.type != self.type:
            return [self]
        hit = [c for c in self.channels if c in other.channels]
        if not hit:
            return [self]
        if other.symbols is not None and self.symbols is None:
            return [self]
        rest: list[Subscription] = []
        kept_channels = tuple(c for c in self.channels if c not in other.channels)
        if kept_channels:
            rest.append(attrs.evolve(self, channels=kept_channels))
        if other.symbols is not None and self.symbols is not None:
            kept_symbols = tuple(s for s in self.symbols if s not in other.symbols)
            if kept_symbols:
                rest.append(attrs.evolve(self, channels=tuple(hit), symbols=kept_symbols))
        return rest


class GatewayProtocol(FeedProtocol):
    """The trading gateway feed.

    Args:
        url: the WebSocket URL, e.g. ``"ws://gateway.example:8080/ws"``.
        credentials: API key and secret.
        signer: ``signer(api_key, api_secret, timestamp_ms) -> str``; default
            :func:`hmac_sha256_signer`.
        wall_clock_ms: milliseconds since the Unix epoch, for the ``authenticate`` and ``pong``
            timestamps. The server checks the auth timestamp against *its* wall clock, which the
            engine's monotonic ``now`` cannot give, so this one clock is read here; it is
            injected (default :func:`~trio_feeds._sansio.gateway.system_wall_clock_ms`) so
            tests stay deterministic.
        server_heartbeat: stale bound for
            :class:`~trio_feeds._sansio._protocol.HeartbeatPolicy`; see ``heartbeat``.

    ``heartbeat.server_heartbeat`` defaults to 45 s: the server pings after 30 s without
    traffic. Every client frame is a pong (which follows a server ping) or a request (which the
    server answers at once), so a live connection is never silent much longer than 30 s plus
    latency; 45 s adds the server's own 10 s pong allowance and 5 s of slack.
    """

    name = "gateway"

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        signer: Signer | None = None,
        wall_clock_ms: Callable[[], int] | None = None,
        server_heartbeat: float | None = 45.0,
    ) -> None:
        self.url = url
        self.credentials = credentials
        self._signer: Signer = signer or hmac_sha256_signer
        self._wall_clock_ms = wall_clock_ms or system_wall_clock_ms
        self.heartbeat = HeartbeatPolicy(server_heartbeat=server_heartbeat)
        self._ready = False
        self._subs: list[Subscription] = []  # remembered wishes, re-sent after every auth
        self._requests: RequestTracker[Subscription] = RequestTracker()  # FIFO, see module docstring
        self._books: Books[tuple[str, str]] = Books()

    def __repr__(self) -> str:
        return (
            f"GatewayProtocol(url={self.url!r}, api_key={mask(self.credentials.api_key)!r}, "
            f"ready={self._ready}, subscriptions={len(self._subs)})"
        )

    # -- FeedProtocol -----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once the server acknowledged ``authenticate`` on the current connection."""
        return self._ready

    @property
    def books(self) -> Books[tuple[str, str]]:
        """The order books of the ``orderbook`` subscriptions, keyed ``(exchange, symbol)``."""
        return self._books

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """The remembered subscriptions, re-sent after every (re)authentication."""
        return tuple(self._subs)

    keeps_account = True

    def account_message(self, item: object) -> bool:
        """``orders`` and ``positions`` channel messages."""
        return type(item) in _ACCOUNT_TYPES

    def normalize(self, item: object, received_at: datetime) -> tuple[Normalized, ...]:
        """See :func:`trio_feeds._normalize.gateway.normalize`."""
        return _normalize.normalize(item, received_at)  # type: ignore[arg-type]

    def connect_target(self) -> ConnectTarget:
        """Return the URL as given; the gateway authenticates by message, not by header."""
        return ConnectTarget(self.url)

    def connection_made(self, now: float) -> Sequence[Action]:
        """Send ``authenticate``.

        Re-subscriptions follow in :class:`~trio_feeds._sansio._protocol.AuthAccepted` ``.then``.
        """
        self._ready = False
        timestamp = self._wall_clock_ms()
        creds = self.credentials
        signature = self._signer(creds.api_key, creds.api_secret, timestamp)
        request = AuthenticateRequest(
            api_key=creds.api_key, timestamp=from_epoch_millis(timestamp), signature=signature
        )
        return [Send(_codec.encode(request))]

    def connection_lost(self) -> Sequence[Action]:
        """Forget auth and which frames were sent; keep the wishes and the users' requests.

        A subscribe awaited by a user is re-sent after the next auth (it is still wished for)
        and completes when that is acknowledged. An unsubscribe awaited by a user completes when
        the next connection authenticates: a new connection does not carry the subscription.
        """
        self._ready = False
        # Resubscription frames die with the connection (the next one makes its own).
        self._requests.connection_lost()
        return [Notify(e) for e in self._books.unsync_all("disconnected")]

    def forget_request(self, request_id: str) -> None:
        """The engine gave up on ``request_id``; a sent frame's late answer is still consumed."""
        self._requests.forget_waiter(request_id)

    def receive_frame(self, frame: str | bytes, now: float) -> Sequence[Action]:
        """Decode a frame; answer pings, follow auth and acks, deliver data."""
        try:
            msg = _codec.decode_frame(frame)
        except DecodeError as exc:
            return [BadFrame(exc)]
        if type(msg) in _JUST_DELIVERED:  # market data: the per-frame path
            return [Deliver(msg)]
        if isinstance(msg, PingEvent):
            # Answered even before auth: the server drops a connection that leaves a ping
            # unanswered for 10 s, whatever state the session is in.
            return [Send(_codec.encode(PongMessage(timestamp=from_epoch_millis(self._wall_clock_ms()))))]
        if isinstance(msg, AuthenticatedEvent):
            return self._on_authenticated(msg)
        if isinstance(msg, ErrorEvent):
            return self._on_error(msg)
        if isinstance(msg, _ACKS):
            return self._on_ack(msg)
        if isinstance(msg, CloseEvent):
            reason = scrub(msg.message, self.credentials.api_secret)
            return [ProtocolClose(msg.code, reason, self.classify_close(msg.code, reason))]
        if type(msg) is OrderbookMessage:
            # Each orderbook message is the whole book at the subscribed depth: a snapshot.
            book = msg.data
            key = (msg.exchange, msg.symbol)
            events = self._books.snapshot(key, book.bids, book.asks, updated_at=book.timestamp)
            return [Deliver(msg), *(Notify(e) for e in events)]
        # Data, and UnknownMessage: a new server message type must not end a feed.
        return [Deliver(msg)]

    def subscribe(
        self,
        now: float,
        /,
        channels: Channel | Iterable[Channel],
        *,
        exchange: str | None = None,
        symbols: Iterable[str] | None = None,
        depth: int | None = None,
        type: str | None = None,
    ) -> tuple[str | None, Sequence[Action]]:
        """Subscribe to ``channels`` with the given params; remembered across reconnects.

        Returns the request id (completed by a ``RequestDone`` when the server answers) and the
        frame to send now; before auth the frame goes out with ``AuthAccepted.then`` instead.
        """
        sub = make_subscription(channels, exchange, symbols, depth, type)
        if sub not in self._subs:
            self._subs.append(sub)
        if not self._ready:
            # Queued: one frame per distinct subscription goes out after auth; several users
            # waiting for the same one share its acknowledgement.
            joined = self._requests.join("subscribe", sub, sent=False)
            if joined is not None:
                return joined, []
            request = self._requests.add("subscribe", sub, user=True, sent=False)
            return request.first_waiter, []
        request = self._requests.add("subscribe", sub, user=True, sent=True)
        return request.first_waiter, [self._send(request)]

    def unsubscribe(
        self,
        now: float,
        /,
        channels: Channel | Iterable[Channel],
        *,
        exchange: str | None = None,
        symbols: Iterable[str] | None = None,
        depth: int | None = None,
        type: str | None = None,
    ) -> tuple[str | None, Sequence[Action]]:
        """Forget matching subscriptions (``None`` params match anything) and tell the server.

        When not authenticated there is nothing to tell: the request completes at once
        (``request_id`` ``None``), and queued subscribes it cancels complete with an error.
        """
        target = make_subscription(channels, exchange, symbols, depth, type)
        self._subs = [rest for sub in self._subs for rest in sub.without(target)]
        if not self._ready:
            actions: list[Action] = []
            for request in self._requests.select(state=RequestState.QUEUED, kind="subscribe"):
                if request.key not in self._subs:
                    actions += self._requests.cancel(request, "unsubscribed before it was sent")
            return None, actions
        request = self._requests.add("unsubscribe", target, user=True, sent=True)
        return request.first_waiter, [self._send(request)]

    def classify_close(self, code: int | None, reason: str) -> CloseVerdict:
        """1008 fatal; 4009/4029/rate limits slow; 1000/1001/1006/1011/``None`` and others retry."""
        return classify_close(code, reason)

    # -- internals ----------------------------------------------------------------------------

    def _send(self, request: Request[Subscription]) -> Send:
        kind: _Kind = "subscribe" if request.kind == "subscribe" else "unsubscribe"
        return Send(_codec.encode(request.key.request(kind)), request_id=request.first_waiter)

    def _on_authenticated(self, msg: AuthenticatedEvent) -> list[Action]:
        if not msg.success:
            return [AuthFailed("authentication failed (success=false)")]
        self._ready = True
        actions: list[Action] = []
        # What was queued while disconnected: unsubscribes are done (this connection never had
        # those subscriptions), subscribes no longer wished fail, duplicates share one frame.
        queued: dict[Subscription, Request[Subscription]] = {}
        for request in self._requests.select(state=RequestState.QUEUED):
            if request.kind == "unsubscribe":
                actions += self._requests.cancel(request, None)
            elif request.key not in self._subs:
                # Subscribed, then unsubscribed, and the connection died before either answer.
                actions += self._requests.cancel(request, "unsubscribed before it was acknowledged")
            elif request.key in queued:
                queued[request.key].waiters += request.waiters
                request.waiters.clear()
                self._requests.cancel(request, None)
            else:
                queued[request.key] = request
        frames = []
        # Every remembered subscription goes out again, in the order it was first made, so the
        # acknowledgements line up with the requests in the tracker.
        for sub in self._subs:
            request = (
                queued.pop(sub)
                if sub in queued
                else self._requests.add("subscribe", sub, user=False, sent=False)
            )
            self._requests.send(request)
            frames.append(self._send(request))
        return [*actions, AuthAccepted(then=tuple(frames))]

    def _on_error(self, msg: ErrorEvent) -> list[Action]:
        reason = scrub(f"{msg.code}: {msg.message}", self.credentials.api_secret)
        if msg.code == 429:
            # Rate limited: close and come back slowly; queued requests are re-sent then.
            return [ProtocolClose(4029, reason, CloseVerdict.RETRY_SLOW)]
        if not self._ready:
            if msg.code >= 500:
                return [ProtocolClose(1011, reason, CloseVerdict.RETRY)]
            # 401/403 and any other refusal of our authenticate message cannot heal by retrying.
            return [AuthFailed(reason)]
        request = self._requests.find(state=RequestState.SENT)
        if request is None:
            # Not an answer to anything we sent: the application decides. Scrubbed, like every
            # server text we pass on.
            message = scrub(msg.message, self.credentials.api_secret)
            return [Deliver(attrs.evolve(msg, message=message))]
        if request.kind == "subscribe":
            # Refused: do not offer it again on every reconnect.
            self._subs = [s for s in self._subs if s != request.key]
        return list(self._requests.refuse(request, reason))

    def _on_ack(self, msg: SubscribedEvent | UnsubscribedEvent) -> list[Action]:
        kind: _Kind = "subscribe" if isinstance(msg, SubscribedEvent) else "unsubscribe"
        request = self._requests.find(
            state=RequestState.SENT, kind=kind, where=lambda r: r.key.matches_echo(msg.channels, msg.params)
        ) or self._requests.find(state=RequestState.SENT, kind=kind)
        if request is None:
            return []  # an acknowledgement of nothing we sent: nothing to complete
        done: list[RequestDone] = self._requests.answer(request)
        return list(done)


_ACCOUNT_TYPES = frozenset({OrdersMessage, PositionsMessage})


def make_subscription(
    channels: Channel | Iterable[Channel],
    exchange: str | None,
    symbols: Iterable[str] | None,
    depth: int | None,
    type_: str | None,
) -> Subscription:
    """A :class:`Subscription` from ``subscribe``'s arguments (one channel name or several)."""
    chans: tuple[Channel, ...] = (channels,) if isinstance(channels, str) else tuple(channels)
    if not chans:
        raise ValueError("at least one channel is required")
    syms = None if symbols is None else ((symbols,) if isinstance(symbols, str) else tuple(symbols))
    return Subscription(chans, exchange, syms, depth, type_)
