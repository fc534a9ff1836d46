"""Sans-IO protocol for the Onyx WebSocket, and a :class:`Dashboards` state helper.

Every request carries an ``id`` and the server answers each with a ``Response`` of the same
``id``, so correlation is exact. Ids are ``"tf:1"``, ``"tf:2"``, ... and never reused for a new
request; a request re-sent after a reconnect keeps its id (it is the same request).

The server closes a connection that has not authenticated within about 5 s and answers other
requests with an error until then (``authentication required for method subscribe``), so
subscriptions wait for the auth response and go out in ``Authenticated.then``.

Onyx documents no close codes: the server "terminates the connection" for an unknown method or
a missing authentication, with a code nobody has published. So no close code ends the feed:
every close is retried (slowly when its reason says rate limit), and only an error response to
the ``auth`` request (:class:`AuthFailed`) is fatal.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from .._codecs import onyx as _codec
from .._normalize import onyx as _normalize
from ..errors import DecodeError
from ..models.onyx import (
    AuthRequest,
    ChannelName,
    DashboardsIncrementEvent,
    DashboardsSnapshotEvent,
    Response,
    ResponseDetail,
    SubscribeRequest,
    TickersChannel,
    TickersFilter,
    UnsubscribeRequest,
)
from ..normalized import Normalized
from ..state import Tracked
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
    Send,
)
from ._requests import Request, RequestState, RequestTracker
from ._shared import classify_close, scrub

__all__ = ["Channel", "Dashboard", "Dashboards", "OnyxProtocol"]

Dashboard = dict[str, Any]


@attrs.frozen
class Channel:
    """A channel as subscribed: a name, plus the ``tickers`` filter."""

    name: str
    products: tuple[str, ...] | None = None
    product_groups: tuple[str, ...] | None = None

    def to_wire(self) -> ChannelName | TickersChannel:
        """The channel as the request models carry it: a name, or ``{"tickers": filter}``."""
        if self.products is None and self.product_groups is None:
            return self.name  # type: ignore[return-value]  # checked by make_channel
        products = None if self.products is None else list(self.products)
        groups = None if self.product_groups is None else list(self.product_groups)
        return TickersChannel(tickers=TickersFilter(products=products, product_groups=groups))


_AUTH = Channel("auth")  # the key of the auth request in the tracker


class OnyxProtocol(FeedProtocol):
    """The Onyx feed.

    Args:
        url: the WebSocket URL.
        token: the API token, sent in the ``auth`` request (never in any repr or error).
        auth_deadline: the server closes a connection not authenticated within about 5 s, so
            the engine waits at most this long for the auth answer before it reconnects.
        server_heartbeat: Onyx promises no periodic frame, so ``None`` by default; set it when
            subscribed to a channel known to tick (``server_info``).
    """

    name = "onyx"

    def __init__(
        self,
        url: str,
        token: str,
        *,
        auth_deadline: float | None = 5.0,
        server_heartbeat: float | None = None,
        dashboard_key: Callable[[Dashboard], Hashable] | None = None,
    ) -> None:
        self.url = url
        self.dashboards = Dashboards(dashboard_key)
        """The dashboards kept from the ``dashboards`` events (see :class:`Dashboards`)."""
        self._token = token
        self.heartbeat = HeartbeatPolicy(server_heartbeat=server_heartbeat, auth_deadline=auth_deadline)
        self._ready = False
        self._wishes: list[Channel] = []  # re-subscribed after every auth, in this order
        self._active: set[Channel] = set()  # acknowledged on the current connection
        self._requests: RequestTracker[Channel] = RequestTracker()  # matched by wire id

    def __repr__(self) -> str:
        return f"OnyxProtocol(url={self.url!r}, ready={self._ready}, subscriptions={len(self._wishes)})"

    # -- FeedProtocol -----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once the server accepted the token on the current connection."""
        return self._ready

    def normalize(self, item: object, received_at: datetime) -> tuple[Normalized, ...]:
        """See :func:`trio_feeds._normalize.onyx.normalize` (tickers)."""
        return _normalize.normalize(item, received_at)  # type: ignore[arg-type]

    def connect_target(self) -> ConnectTarget:
        """Return the URL as given; the token goes in the auth request, not in a header."""
        return ConnectTarget(self.url)

    def connection_made(self, now: float) -> Sequence[Action]:
        """Send the ``auth`` request at once (the server allows about 5 s)."""
        self._ready = False
        self._active.clear()
        # Nobody waits on it: its answer is AuthAccepted/AuthFailed, and the engine times it.
        auth = self._requests.add("auth", _AUTH, user=False, sent=True, wire_id=True, waiter=False)
        assert auth.wire_id is not None
        return [Send(_codec.encode(AuthRequest(id=auth.wire_id, token=self._token)))]

    def connection_lost(self) -> Sequence[Action]:
        """Forget auth and acknowledgements; keep wishes and the requests users wait for.

        A user's subscribe is re-sent with the same id after the next auth. A user's
        unsubscribe completes after the next auth: the new connection does not have it.
        """
        self._ready = False
        self._active.clear()
        self._requests.connection_lost()
        return ()

    def forget_request(self, request_id: str) -> None:
        """The engine gave up on ``request_id``; a late response to it is ignored."""
        self._requests.forget_waiter(request_id)

    def receive_frame(self, frame: str | bytes, now: float) -> Sequence[Action]:
        """Decode; correlate responses by id; deliver events."""
        try:
            msg = _codec.decode_frame(frame)
        except DecodeError as exc:
            return [BadFrame(exc)]
        if isinstance(msg, Response):
            return self._on_response(msg)
        if isinstance(msg, DashboardsSnapshotEvent | DashboardsIncrementEvent):
            try:
                self.dashboards.apply(msg, at=now)
            except ValueError as exc:
                # A dashboard the key cannot name: the set is wrong until the next snapshot.
                self.dashboards.missed(now, str(exc))
        return [Deliver(msg)]

    def tracked(self) -> Sequence[Tracked[Any, Any]]:
        """The dashboards: the engine marks them stale on a disconnect and a data gap."""
        return (self.dashboards,)

    def subscribe(
        self,
        now: float,
        /,
        channel: str | Mapping[Any, Any],
        *,
        products: Iterable[str] | None = None,
        product_groups: Iterable[str] | None = None,
    ) -> tuple[str | None, Sequence[Action]]:
        """Subscribe to a channel; remembered across reconnects.

        ``channel`` is ``"server_info"``, ``"dashboards"``, ``"tickers"`` with ``products=`` or
        ``product_groups=``, or the wire form ``{"tickers": {"products": [...]}}``. Returns
        ``(request_id, actions)``; ``request_id`` is ``None`` when the channel is already
        acknowledged on this connection (nothing to wait for).
        """
        ch = make_channel(channel, products, product_groups)
        if ch not in self._wishes:
            self._wishes.append(ch)
        if ch in self._active:
            return None, ()
        # Join a request for the same channel that is already queued or in flight: a second
        # frame would only earn an "already subscribed" answer.
        joined = self._requests.join("subscribe", ch, sent=self._ready)
        if joined is not None:
            return joined, ()
        request = self._requests.add("subscribe", ch, user=True, sent=self._ready, wire_id=True)
        if not self._ready:
            return request.first_waiter, ()  # goes out in AuthAccepted.then
        return request.first_waiter, [self._send(request)]

    def unsubscribe(
        self,
        now: float,
        /,
        channel: str | Mapping[Any, Any],
        *,
        products: Iterable[str] | None = None,
        product_groups: Iterable[str] | None = None,
    ) -> tuple[str | None, Sequence[Action]]:
        """Forget a subscription and, when authenticated, tell the server.

        Not authenticated: nothing is sent (a new connection will not have it), the request is
        done at once (``None``), and a subscribe still queued for it completes with an error.
        """
        ch = make_channel(channel, products, product_groups)
        self._wishes = [w for w in self._wishes if w != ch]
        self._active.discard(ch)
        if not self._ready:
            actions: list[Action] = []
            for request in self._requests.select(state=RequestState.QUEUED, kind="subscribe"):
                if request.key == ch:
                    actions += self._requests.cancel(request, "unsubscribed before it was sent")
            return None, actions
        request = self._requests.add("unsubscribe", ch, user=True, sent=True, wire_id=True)
        return request.first_waiter, [self._send(request)]

    def classify_close(self, code: int | None, reason: str) -> CloseVerdict:
        """Retry every close, slowly for a rate limit: Onyx documents no close code.

        The shared table's "1008 is fatal" does not apply: the server's only documented closes
        (an unknown method, no auth within about 5 s) name no code, and the second heals on
        reconnect whatever code it comes with. A refused token is an error response, which
        ends the feed without waiting for any close.
        """
        if classify_close(code, reason) is CloseVerdict.RETRY_SLOW:
            return CloseVerdict.RETRY_SLOW
        return CloseVerdict.RETRY

    # -- internals ----------------------------------------------------------------------------

    def _send(self, request: Request[Channel]) -> Send:
        # A re-sent request keeps its wire id; the Send is marked with the first request still
        # awaited (the first one may have timed out meanwhile).
        assert request.wire_id is not None
        channel = request.key.to_wire()
        model = (
            SubscribeRequest(id=request.wire_id, channel=channel)
            if request.kind == "subscribe"
            else UnsubscribeRequest(id=request.wire_id, channel=channel)
        )
        return Send(_codec.encode(model), request_id=request.first_waiter)

    def _on_response(self, msg: Response) -> list[Action]:
        request = self._requests.by_wire_id(msg.id)
        if request is None or request.state is not RequestState.SENT:
            return []  # late answer to a request that timed out or belongs to a dead connection
        text = scrub(
            msg.message.text if isinstance(msg.message, ResponseDetail) else msg.message, self._token
        )
        if request.kind == "auth":
            self._requests.answer(request)
            if msg.error:
                return [AuthFailed(text)]
            return self._on_authenticated()
        if not msg.error:
            if request.kind == "subscribe":
                self._active.add(request.key)
            return list(self._requests.answer(request))
        if request.kind == "subscribe":
            # Refused: do not offer it again on every reconnect.
            self._wishes = [w for w in self._wishes if w != request.key]
        return list(self._requests.refuse(request, text))

    def _on_authenticated(self) -> list[Action]:
        self._ready = True
        actions: list[Action] = []
        queued: dict[Channel, Request[Channel]] = {}
        for request in self._requests.select(state=RequestState.QUEUED):
            if request.kind == "unsubscribe":
                # The new connection never had this subscription: the unsubscribe is done.
                actions += self._requests.cancel(request, None)
            elif request.key not in self._wishes:
                # Subscribed, then unsubscribed, and the connection died before either answer.
                actions += self._requests.cancel(request, "unsubscribed before it was acknowledged")
            else:
                queued[request.key] = request
        frames = []
        for ch in self._wishes:
            # A resubscription gets its own id, which the engine waits for like any request.
            request = queued.get(ch) or self._requests.add(
                "subscribe", ch, user=False, sent=False, wire_id=True
            )
            self._requests.send(request)
            frames.append(self._send(request))
        return [*actions, AuthAccepted(then=tuple(frames))]


def make_channel(
    channel: str | Mapping[Any, Any],
    products: Iterable[str] | None,
    product_groups: Iterable[str] | None,
) -> Channel:
    """A :class:`Channel` from ``subscribe``'s arguments (a name, or the wire form)."""
    if isinstance(channel, str):
        name = channel
    else:
        # Wire form: {"tickers": {"products": [...]}}.
        if len(channel) != 1:
            raise ValueError("a channel object has exactly one key, e.g. {'tickers': {...}}")
        ((key, flt),) = channel.items()
        if not isinstance(flt, Mapping) or (products is not None or product_groups is not None):
            raise ValueError("give the filter either inside the channel object or as keywords")
        name, products, product_groups = str(key), flt.get("products"), flt.get("product_groups")
    prods = None if products is None else _names(products, "products")
    groups = None if product_groups is None else _names(product_groups, "product_groups")
    if name == "tickers" and not prods and not groups:
        # The server rejects an empty filter; say so here, where the caller can fix it.
        raise ValueError("the tickers channel needs products=[...] or product_groups=[...]")
    if name != "tickers" and (prods is not None or groups is not None):
        raise ValueError(f"channel {name!r} takes no filter")
    return Channel(name, prods, groups)


def _names(values: Iterable[str], what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(f"{what} must be a list of names, not a string")
    return tuple(values)


class Dashboards(Tracked[Hashable, Dashboard]):
    """The current set of dashboards, kept from ``dashboards`` channel events.

    An Onyx feed keeps one (``feed.dashboards``); you can also feed one yourself every
    :class:`~trio_feeds.onyx.DashboardsSnapshotEvent` and
    :class:`~trio_feeds.onyx.DashboardsIncrementEvent` with :meth:`apply` (e.g. from a
    recording). It is a read-only mapping from dashboard key to dashboard. Dashboards are opaque
    dicts; ``key`` picks their identity and defaults to ``d.get("id")``. No public source shows a
    dashboard's fields, so that default is a guess (the local test server sends ``id``): pass
    ``key`` for real data.

    A snapshot replaces everything (the server sends one after every (re)subscription, so a
    reconnect resynchronises). Increments: 1 update and 2 create both store the dashboard
    (an update for a key we do not hold is stored rather than dropped: losing it would be
    worse); 3 delete removes it (deleting an unknown key is a no-op).

    Never stale silently, as the other tracked state (:class:`~trio_feeds.state.Tracked`):
    ``stale`` is ``None`` only from a snapshot on, until a disconnect
    (:meth:`~trio_feeds.state.Tracked.disconnected`) or a data gap
    (:meth:`~trio_feeds.state.Tracked.gap`); the feed marks its own on each. Until the next
    snapshot, the dashboards held when it began are in ``stale_keys`` (an increment about
    one confirms it). A gap that began before the last snapshot (given with ``at``) is covered
    by it: that snapshot came on the live connection after the gap began.
    """

    def __init__(self, key: Callable[[Dashboard], Hashable] | None = None, *, complete: bool = False) -> None:
        super().__init__(complete=complete)
        self._key: Callable[[Dashboard], Hashable] = key or _dashboard_id
        self._loaded_at: float | None = None  # engine clock of the last snapshot, when known

    @property
    def synced(self) -> bool:
        """True while the set is known whole: a snapshot was applied and nothing missed since."""
        return self.stale is None

    def apply(
        self, event: DashboardsSnapshotEvent | DashboardsIncrementEvent, *, at: float | None = None
    ) -> None:
        """Apply one ``dashboards`` event (``at``: when it arrived, on the engine's clock).

        Raises:
            ValueError: a dashboard for which ``key`` returns ``None`` (it cannot be tracked).
        """
        if isinstance(event, DashboardsSnapshotEvent):
            self._load({self._key_of(d): d for d in event.message})
            self._loaded_at = at
            return
        k = self._key_of(event.message)
        if event.message_type == 3:
            self._remove(k)
        else:
            self._store(k, event.message)

    def gap(self, since: float, until: float) -> None:
        """Updates between ``since`` and ``until`` may be missing, unless a later snapshot covers them."""
        if self._loaded_at is not None and self._loaded_at >= since:
            return  # the snapshot came after the gap began, on the live connection
        super().gap(since, until)

    def _key_of(self, dashboard: Dashboard) -> Hashable:
        k = self._key(dashboard)
        if k is None:
            raise ValueError("dashboard has no key (pass Dashboards(key=...) for your data)")
        return k

    def __repr__(self) -> str:
        state = "synced" if self.stale is None else f"stale {self.stale}"
        return f"Dashboards(keys={list(self)!r}, {state})"


def _dashboard_id(d: Dashboard) -> Hashable:
    value: Hashable = d.get("id")
    return value
