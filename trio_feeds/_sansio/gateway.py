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

Resubscription frames sent after a reconnect are queued too, with their own request ids (set
on the ``Send``), so their acknowledgements complete them and are never taken for the answer to
a user's request.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

import attrs

from .. import gateway as _codec_module
from .._protocol import (
    Action,
    Authenticated,
    AuthFailed,
    BadFrame,
    CloseVerdict,
    ConnectTarget,
    Deliver,
    FeedProtocol,
    HeartbeatPolicy,
    ProtocolClose,
    RequestDone,
    Send,
)
from ..errors import DecodeError
from ..models.gateway import (
    AuthenticatedEvent,
    CloseEvent,
    ErrorEvent,
    PingEvent,
    SubscribedEvent,
    SubscriptionParams,
    UnsubscribedEvent,
)
from . import Credentials, RequestIds, Waiter, classify_close, expire_waiters, mask, scrub

__all__ = ["GatewayProtocol", "Signer", "hmac_sha256_signer", "system_wall_clock_ms"]

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


_Action = Literal["subscribe", "unsubscribe"]


@attrs.frozen
class _Subscription:
    """One subscribe request's content: channels and params (``None``: param not sent)."""

    channels: tuple[str, ...]
    exchange: str | None = None
    symbols: tuple[str, ...] | None = None
    depth: int | None = None
    type: str | None = None

    def to_wire(self, action: _Action) -> dict[str, object]:
        params: dict[str, object] = {}
        if self.exchange is not None:
            params["exchange"] = self.exchange
        if self.symbols is not None:
            params["symbols"] = list(self.symbols)
        if self.depth is not None:
            params["depth"] = self.depth
        if self.type is not None:
            params["type"] = self.type
        frame: dict[str, object] = {"action": action, "channels": list(self.channels)}
        if params:  # the document's system_events example sends no params at all
            frame["params"] = params
        return frame

    def matches_echo(self, channels: Sequence[str], params: SubscriptionParams | None) -> bool:
        p = params or SubscriptionParams()
        return (
            tuple(channels) == self.channels
            and p.exchange == self.exchange
            and (tuple(p.symbols) if p.symbols is not None else None) == self.symbols
            and p.depth == self.depth
            and p.type == self.type
        )

    def without(self, other: _Subscription) -> list[_Subscription]:
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
        rest: list[_Subscription] = []
        kept_channels = tuple(c for c in self.channels if c not in other.channels)
        if kept_channels:
            rest.append(attrs.evolve(self, channels=kept_channels))
        if other.symbols is not None and self.symbols is not None:
            kept_symbols = tuple(s for s in self.symbols if s not in other.symbols)
            if kept_symbols:
                rest.append(attrs.evolve(self, channels=tuple(hit), symbols=kept_symbols))
        return rest


@attrs.define(eq=False)  # identity: two equal records are still two requests
class _InFlight:
    """A request frame (queued for sending or sent) awaiting its acknowledgement.

    ``waiters`` are the request ids it completes, with their deadlines: the ids of user
    requests (``user``), or the id of a resubscription frame the engine waits for. ``sent`` is
    False while queued before auth.
    """

    action: _Action
    sub: _Subscription
    sent: bool
    user: bool
    waiters: list[Waiter] = attrs.Factory(list)


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
            injected (default :func:`system_wall_clock_ms`) so tests stay deterministic.
        request_timeout: seconds a subscribe/unsubscribe may go unanswered before
            :meth:`poll` completes it with ``"timed out"`` (``None``: never).
        server_heartbeat: stale bound for :class:`HeartbeatPolicy`; see :attr:`heartbeat`.

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
        request_timeout: float | None = 10.0,
        server_heartbeat: float | None = 45.0,
    ) -> None:
        self.url = url
        self.credentials = credentials
        self._signer: Signer = signer or hmac_sha256_signer
        self._wall_clock_ms = wall_clock_ms or system_wall_clock_ms
        self.request_timeout = request_timeout
        self.heartbeat = HeartbeatPolicy(server_heartbeat=server_heartbeat)
        self._ids = RequestIds()
        self._connected = False
        self._ready = False
        self._subs: list[_Subscription] = []  # remembered wishes, re-sent after every auth
        self._inflight: list[_InFlight] = []  # FIFO, see module docstring

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
    def subscriptions(self) -> tuple[_Subscription, ...]:
        """The remembered subscriptions, re-sent after every (re)authentication."""
        return tuple(self._subs)

    def connect_target(self) -> ConnectTarget:
        """Return the URL as given; the gateway authenticates by message, not by header."""
        return ConnectTarget(self.url)

    def connection_made(self, now: float) -> Sequence[Action]:
        """Send ``authenticate``. Re-subscriptions follow in :class:`Authenticated` ``.then``."""
        self._connected = True
        self._ready = False
        timestamp = self._wall_clock_ms()
        creds = self.credentials
        frame = {
            "action": "authenticate",
            "api_key": creds.api_key,
            "timestamp": timestamp,
            "signature": self._signer(creds.api_key, creds.api_secret, timestamp),
        }
        return [Send(_codec_module.codec.dumps(frame))]

    def connection_lost(self) -> None:
        """Forget auth and which frames were sent; keep the wishes and the users' requests.

        A subscribe awaited by a user is re-sent after the next auth (it is still wished for)
        and completes when that is acknowledged. An unsubscribe awaited by a user completes when
        the next connection authenticates: a new connection does not carry the subscription.
        """
        self._connected = False
        self._ready = False
        # Resubscription frames die with the connection (the next one makes its own); user
        # requests nobody waits for any more (timed out) need no answer.
        self._inflight = [e for e in self._inflight if e.user and e.waiters]
        for entry in self._inflight:
            entry.sent = False

    def receive_frame(self, frame: str | bytes, now: float) -> Sequence[Action]:
        """Decode a frame; answer pings, follow auth and acks, deliver data."""
        try:
            msg = _codec_module.decode(frame)
        except DecodeError as exc:
            return [BadFrame(exc)]
        if isinstance(msg, PingEvent):
            # Answered even before auth: the server drops a connection that leaves a ping
            # unanswered for 10 s, whatever state the session is in.
            return [Send(_codec_module.codec.dumps({"action": "pong", "timestamp": self._wall_clock_ms()}))]
        if isinstance(msg, AuthenticatedEvent):
            return self._on_authenticated(msg, now)
        if isinstance(msg, ErrorEvent):
            return self._on_error(msg)
        if isinstance(msg, SubscribedEvent | UnsubscribedEvent):
            return self._on_ack(msg)
        if isinstance(msg, CloseEvent):
            reason = scrub(msg.message, self.credentials.api_secret)
            return [ProtocolClose(msg.code, reason, self.classify_close(msg.code, reason))]
        # Data, and UnknownMessage: a new server message type must not end a feed.
        return [Deliver(msg)]

    def subscribe(
        self,
        now: float,
        /,
        channels: str | Iterable[str],
        *,
        exchange: str | None = None,
        symbols: Iterable[str] | None = None,
        depth: int | None = None,
        type: str | None = None,
    ) -> tuple[str | None, Sequence[Action]]:
        """Subscribe to ``channels`` with the given params; remembered across reconnects.

        Returns the request id (completed by a ``RequestDone`` when the server answers) and the
        frame to send now; before auth the frame goes out with ``Authenticated.then`` instead.
        """
        sub = _make_subscription(channels, exchange, symbols, depth, type)
        request_id = self._ids.next()
        waiter = (request_id, self._deadline(now))
        if sub not in self._subs:
            self._subs.append(sub)
        if not self._ready:
            # Queued: one frame per distinct subscription goes out after auth; several users
            # waiting for the same one share its acknowledgement.
            for entry in self._inflight:
                if not entry.sent and entry.action == "subscribe" and entry.sub == sub:
                    entry.waiters.append(waiter)
                    return request_id, []
            self._inflight.append(_InFlight("subscribe", sub, sent=False, user=True, waiters=[waiter]))
            return request_id, []
        self._inflight.append(_InFlight("subscribe", sub, sent=True, user=True, waiters=[waiter]))
        return request_id, [self._send(sub, "subscribe", request_id)]

    def unsubscribe(
        self,
        now: float,
        /,
        channels: str | Iterable[str],
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
        target = _make_subscription(channels, exchange, symbols, depth, type)
        self._subs = [rest for sub in self._subs for rest in sub.without(target)]
        if not self._ready:
            actions: list[Action] = []
            for entry in list(self._inflight):
                if entry.action == "subscribe" and entry.sub not in self._subs:
                    self._inflight.remove(entry)
                    actions += [
                        RequestDone(rid, "unsubscribed before it was sent") for rid, _ in entry.waiters
                    ]
            return None, actions
        request_id = self._ids.next()
        self._inflight.append(
            _InFlight(
                "unsubscribe", target, sent=True, user=True, waiters=[(request_id, self._deadline(now))]
            )
        )
        return request_id, [self._send(target, "unsubscribe", request_id)]

    def poll(self, now: float) -> Sequence[Action]:
        """Complete user requests whose deadline passed with ``"timed out"``.

        The frame stays queued, so a late acknowledgement is still consumed in order. The engine
        may also time out its wait; whichever is shorter wins, and a ``RequestDone`` for a
        request the engine gave up on is simply ignored by it.
        """
        actions: list[Action] = []
        for entry in self._inflight:
            entry.waiters, expired = expire_waiters(entry.waiters, now, self.request_timeout)
            actions += expired
        return actions

    def classify_close(self, code: int | None, reason: str) -> CloseVerdict:
        """1008 fatal; 4009/4029/rate limits slow; 1000/1001/1006/1011/``None`` and others retry."""
        return classify_close(code, reason)

    # -- internals ----------------------------------------------------------------------------

    def _deadline(self, now: float) -> float | None:
        return None if self.request_timeout is None else now + self.request_timeout

    def _send(self, sub: _Subscription, action: _Action, request_id: str) -> Send:
        return Send(_codec_module.codec.dumps(sub.to_wire(action)), request_id=request_id)

    def _on_authenticated(self, msg: AuthenticatedEvent, now: float) -> list[Action]:
        if not msg.success:
            return [AuthFailed("authentication failed (success=false)")]
        self._ready = True
        actions: list[Action] = []
        # Unsubscribes from a lost connection are done: this connection never had those.
        queued: dict[_Subscription, _InFlight] = {}
        for e in self._inflight:
            if e.sent or not e.waiters:  # (unsent and timed out: a resubscription replaces it)
                continue
            if e.action == "unsubscribe":
                actions += [RequestDone(rid) for rid, _ in e.waiters]
            elif e.sub not in self._subs:
                # Subscribed, then unsubscribed, and the connection died before either answer.
                actions += [
                    RequestDone(rid, "unsubscribed before it was acknowledged") for rid, _ in e.waiters
                ]
            elif e.sub in queued:  # queued twice (before and after a reconnect): one frame
                queued[e.sub].waiters += e.waiters
            else:
                queued[e.sub] = e
        inflight = [e for e in self._inflight if e.sent]
        frames = []
        # Every remembered subscription goes out again, in the order it was first made; the
        # queue is rebuilt in that order so acknowledgements line up with it.
        for sub in self._subs:
            entry = queued.pop(sub, None)
            if entry is None:
                waiter = (self._ids.next(), self._deadline(now))
                entry = _InFlight("subscribe", sub, sent=True, user=False, waiters=[waiter])
            entry.sent = True
            inflight.append(entry)
            # The frame is marked with a request id that its acknowledgement will complete:
            # the first one still awaited (an earlier one may have timed out meanwhile).
            frames.append(self._send(sub, "subscribe", entry.waiters[0][0]))
        self._inflight = inflight
        return [*actions, Authenticated(then=tuple(frames))]

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
        entry = next((e for e in self._inflight if e.sent), None)
        if entry is None:
            # Not an answer to anything we sent: the application decides. Scrubbed, like every
            # server text we pass on.
            message = scrub(msg.message, self.credentials.api_secret)
            return [Deliver(attrs.evolve(msg, message=message))]
        self._inflight.remove(entry)
        if entry.action == "subscribe":
            # Refused: do not offer it again on every reconnect.
            self._subs = [s for s in self._subs if s != entry.sub]
        return [RequestDone(rid, reason) for rid, _ in entry.waiters]

    def _on_ack(self, msg: SubscribedEvent | UnsubscribedEvent) -> list[Action]:
        action: _Action = "subscribe" if isinstance(msg, SubscribedEvent) else "unsubscribe"
        candidates = [e for e in self._inflight if e.sent and e.action == action]
        entry = next((e for e in candidates if e.sub.matches_echo(msg.channels, msg.params)), None)
        if entry is None and candidates:
            entry = candidates[0]
        if entry is None:
            return []  # an acknowledgement of nothing we sent: nothing to complete
        self._inflight.remove(entry)
        return [RequestDone(rid) for rid, _ in entry.waiters]


def _make_subscription(
    channels: str | Iterable[str],
    exchange: str | None,
    symbols: Iterable[str] | None,
    depth: int | None,
    type_: str | None,
) -> _Subscription:
    chans = (channels,) if isinstance(channels, str) else tuple(channels)
    if not chans:
        raise ValueError("at least one channel is required")
    syms = None if symbols is None else ((symbols,) if isinstance(symbols, str) else tuple(symbols))
    return _Subscription(chans, exchange, syms, depth, type_)
