"""The sans-IO contract between an exchange protocol and the shared Trio engine.

A protocol object (one per feed, e.g. ``GatewayProtocol``) knows everything about its wire
format and nothing about I/O: it never imports trio, never touches a socket and never reads a
clock. The engine (``trio_feeds._engine``) owns the socket, the tasks and the clock, and drives
the protocol through the methods below, executing the *actions* it returns.

Rules (in the spirit of h11's ``_state.py``):

1. The engine calls :meth:`FeedProtocol.connection_made` once per WebSocket connection, right
   after the handshake, and sends the frames it returns, in order. Before that it calls
   :meth:`FeedProtocol.connect_target` to learn URL and headers (they may change between
   connections: e.g. Ranger streams in the query string).
2. Every received frame goes to :meth:`FeedProtocol.receive_frame`, in arrival order, from the
   engine's reader task. The returned actions are executed in order before the next frame is
   read: ``Send`` frames are written (heartbeat replies go out even when the consumer is slow,
   because the reader never waits on the consumer), ``Deliver`` items go to the consumer's
   buffer, the rest update the engine's session state.
3. Each protocol's ``subscribe`` / ``unsubscribe`` (their signatures are the protocol's own)
   record the user's wish *and* return ``(request_id, actions)``: the request frames for the
   current connection. The protocol remembers the wish: after a reconnect,
   ``connection_made`` (or the ``AuthAccepted`` action's follow-up frames) re-sends every
   active subscription. A request is finished when ``RequestDone`` with its id comes back from
   ``receive_frame`` (or ``request_id`` is ``None``: no acknowledgement exists). Requests are
   kept in a :class:`~trio_feeds._sansio._requests.RequestTracker`.
4. The engine owns the clock and one deadline per request id (``request_timeout``): when it
   passes, the engine stops waiting and calls :meth:`FeedProtocol.forget_request`, so the
   protocol never completes that id. Authentication has one deadline per connection
   (:attr:`HeartbeatPolicy.auth_deadline`, at most ``request_timeout``).
5. :meth:`FeedProtocol.classify_close` turns a close code / reason into a verdict: retry,
   retry slowly (rate limit), or fatal (the feed ends with an error).
6. Time is a float in seconds from the engine's clock (``trio.current_time()``), passed in.
7. :meth:`FeedProtocol.connection_lost` is called once per connection that opened, after
   its last frame; its actions run after the consumer got ``Disconnected``.
   :meth:`FeedProtocol.connect_failed` is called for each attempt that did not open.

Actions are attrs classes defined here. A protocol returns a list of them; an empty list means
"nothing to do".
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeAlias

import attrs

from ..books import Books
from ..errors import DecodeError
from ..normalized import Normalized
from ..state import Tracked

__all__ = [
    "Action",
    "AuthAccepted",
    "AuthFailed",
    "BadFrame",
    "CloseVerdict",
    "ConnectTarget",
    "Deliver",
    "FeedProtocol",
    "Notify",
    "HeartbeatPolicy",
    "ProtocolClose",
    "RequestDone",
    "Send",
]


# -- actions -----------------------------------------------------------------------------------


@attrs.frozen
class Send:
    """Write this frame (``str``: a text frame, ``bytes``: a binary one) on the current connection now.

    ``request_id`` (optional) marks a request frame whose answer the protocol will report with
    ``RequestDone(request_id)``. Set it on re-subscription frames (``connection_made`` /
    ``AuthAccepted.then``): the engine then waits for those answers before it reports the
    session as re-subscribed. Leave it ``None`` for frames without such an answer.
    """

    text: str | bytes = attrs.field(repr=False)  # may carry credentials (auth frames): never in reprs
    request_id: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class Deliver:
    """Hand this typed item (a generated model or ``UnknownMessage``) to the consumer."""

    item: object


@attrs.frozen
class Notify:
    """Hand this session event to the consumer, in order with the messages (never dropped).

    For events a protocol finds itself, such as an order book going out of sync.
    """

    event: object


@attrs.frozen
class AuthAccepted:
    """The server accepted our credentials. ``then`` are frames to send next (re-subscriptions)."""

    then: tuple[Send, ...] = ()


@attrs.frozen
class AuthFailed:
    """The server rejected our credentials: the feed must end with ``AuthenticationError``."""

    reason: str


@attrs.frozen
class RequestDone:
    """A subscribe/unsubscribe/auth request was answered. ``error`` is None on success."""

    request_id: str
    error: str | None = None


@attrs.frozen
class BadFrame:
    """A frame that could not be decoded. The feed goes on; the engine reports it per config."""

    error: DecodeError


class CloseVerdict(enum.Enum):
    """What a close (or an app-level close/error message) means for reconnecting."""

    RETRY = "retry"  # normal backoff
    RETRY_SLOW = "retry_slow"  # rate limited: back off longer
    FATAL = "fatal"  # cannot heal (policy violation, auth): end the feed with an error


@attrs.frozen
class ProtocolClose:
    """The server said at application level that it is closing, or the protocol decided to.

    The engine closes the connection with ``code`` and then acts on ``verdict``.
    ``deliberate``: the protocol closes on purpose (e.g. to get a fresh snapshot in the new
    connection's query string), not because the connection failed: like a close a user call
    asked for, it does not count as a failed attempt for the backoff.
    """

    code: int
    reason: str
    verdict: CloseVerdict
    deliberate: bool = attrs.field(default=False, kw_only=True)


Action: TypeAlias = (
    Send | Deliver | Notify | AuthAccepted | AuthFailed | RequestDone | BadFrame | ProtocolClose
)


# -- connection parameters -----------------------------------------------------------------------


@attrs.frozen
class ConnectTarget:
    """Where and how to open the WebSocket."""

    url: str
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=False)  # may hold a JWT


@attrs.frozen
class HeartbeatPolicy:
    """What the protocol promises about liveness.

    Attributes:
        server_heartbeat: the server promises *some* frame at least this often (seconds), so
            silence longer than this (plus the engine's grace) means the connection is dead.
            ``None`` when quiet periods are legitimate (then only WebSocket pings decide).
        auth_deadline: the session must be ready (:attr:`FeedProtocol.ready`: authenticated,
            or the protocol's opening handshake done) within this many seconds of connecting,
            or the connection is dropped and retried, for the reason
            :meth:`FeedProtocol.not_ready_reason` gives (the engine uses the smaller of this
            and ``FeedConfig.request_timeout``; ``None``: ``request_timeout`` alone). Onyx
            closes unauthenticated connections after about 5 s, so waiting longer for its
            answer is pointless.
        ping_interval, ping_timeout: the WebSocket ping interval and pong timeout this
            protocol recommends (its official client's), used where ``FeedConfig`` leaves
            them ``None``; ``None`` here: the engine's defaults.
    """

    server_heartbeat: float | None = None
    auth_deadline: float | None = None
    ping_interval: float | None = None
    ping_timeout: float | None = None


# -- the protocol interface ----------------------------------------------------------------------


class FeedProtocol(ABC):
    """A sans-IO exchange protocol. See the module docstring for the rules."""

    #: protocol name, e.g. ``"gateway"``
    name: str
    heartbeat: HeartbeatPolicy = HeartbeatPolicy()

    @abstractmethod
    def connect_target(self) -> ConnectTarget:
        """URL and headers for the next connection attempt."""

    @abstractmethod
    def connection_made(self, now: float) -> Sequence[Action]:
        """A new connection is open: auth and/or re-subscription frames to send."""

    @abstractmethod
    def receive_frame(self, frame: str | bytes, now: float) -> Sequence[Action]:
        """Turn one received frame into actions (deliveries, replies, session changes)."""

    def forget_request(self, request_id: str) -> None:  # noqa: B027 - optional hook
        """The engine stopped waiting for ``request_id`` (its deadline passed): never complete it."""

    def connection_lost(self) -> Sequence[Action]:
        """The connection is gone; forget per-connection state (pending requests, auth).

        The returned actions run right after the consumer was given ``Disconnected`` (e.g.
        ``Notify`` that the books are out of sync); frames to send make no sense here.
        """
        return ()

    def connect_failed(self, reason: str) -> str:
        """A connection attempt failed before the WebSocket opened; return the reason to report.

        The attempt is retried with backoff whatever this returns (an HTTP 401/403 answer is
        the engine's business: it ends the feed). A protocol may add what such a failure
        means for its servers, e.g. that one closes the TCP connection to refuse a token.
        """
        return reason

    def not_ready_reason(self, waited: float) -> str:
        """Why a connection that was not :attr:`ready` within ``waited`` seconds is dropped."""
        return f"not authenticated within {waited:g} s"

    @property
    def books(self) -> Books[Any] | None:
        """The order books this protocol keeps from its messages, or ``None`` if it has none."""
        return None

    #: whether :meth:`account_message` can be true (the engine then keeps an ``Account``)
    def tracked(self) -> Sequence[Tracked[Any, Any]]:
        """State this protocol keeps from its messages besides books (Onyx's dashboards).

        The engine marks it stale when the connection drops and on every data gap, as it
        does the account. None by default.
        """
        return ()

    keeps_account: bool = False

    def account_message(self, item: object) -> bool:
        """Whether ``item`` carries orders, balances or positions (cheap: runs per message)."""
        return False

    def normalize(self, item: object, received_at: datetime) -> tuple[Normalized, ...]:
        """``item`` as :mod:`trio_feeds.normalized` items (none for control messages)."""
        return ()

    @abstractmethod
    def classify_close(self, code: int | None, reason: str) -> CloseVerdict:
        """Verdict for a WebSocket close with this code (``None``: TCP dropped, no close frame)."""

    @property
    @abstractmethod
    def ready(self) -> bool:
        """True once the current connection is authenticated (or needs no auth).

        A protocol with an opening handshake of its own (Cryptology's version frame) becomes
        ready when a received frame completes it; the engine then reports the session
        (re)subscribed at once.
        """
