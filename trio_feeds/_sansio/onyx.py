"""Sans-IO protocol for the Onyx WebSocket, and a :class:`Dashboards` state helper.

Every request carries an ``id`` and the server answers each with a ``Response`` of the same
``id``, so correlation is exact. Ids are ``"tf:1"``, ``"tf:2"``, ... and never reused for a new
request; a request re-sent after a reconnect keeps its id (it is the same request).

The server closes a connection that has not authenticated within about 5 s and answers other
requests with an error until then, so subscriptions wait for the auth response and go out in
``Authenticated.then``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import attrs

from .. import onyx as _codec_module
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
from ..models.onyx import DashboardsIncrementEvent, DashboardsSnapshotEvent, Response, ResponseDetail
from . import RequestIds, Waiter, classify_close, expire_waiters, scrub

__all__ = ["Dashboard", "Dashboards", "OnyxProtocol"]

Dashboard = dict[str, Any]


@attrs.frozen
class _Channel:
    """A channel as subscribed: a name, plus the ``tickers`` filter."""

    name: str
    products: tuple[str, ...] | None = None
    product_groups: tuple[str, ...] | None = None

    def to_wire(self) -> str | dict[str, Any]:
        if self.products is None and self.product_groups is None:
            return self.name
        flt: dict[str, list[str]] = {}
        if self.products is not None:
            flt["products"] = list(self.products)
        if self.product_groups is not None:
            flt["product_groups"] = list(self.product_groups)
        return {self.name: flt}


_Kind = Literal["auth", "subscribe", "unsubscribe"]


@attrs.define(eq=False)  # identity: two equal records are still two requests
class _Pending:
    """A request (by wire id) awaiting its response.

    ``waiters`` are the request ids it completes, with deadlines: user requests (``user``), or
    the protocol's own resubscription, which the engine waits for; empty for auth, whose answer
    is ``Authenticated``/``AuthFailed``. ``sent`` is False while queued before auth.
    """

    kind: _Kind
    channel: _Channel | None
    sent: bool
    user: bool = False
    deadline: float | None = None  # for the auth request only
    waiters: list[Waiter] = attrs.Factory(list)


class OnyxProtocol(FeedProtocol):
    """The Onyx feed.

    Args:
        url: the WebSocket URL.
        token: the API token, sent in the ``auth`` request (never in any repr or error).
        request_timeout: seconds a request may go unanswered. A user's subscribe/unsubscribe
            then completes with ``"timed out"`` from :meth:`poll`; an unanswered auth closes
            the connection to retry. ``None``: never.
        auth_deadline: how soon after connecting the server wants the auth request (~5 s).
        server_heartbeat: Onyx promises no periodic frame, so ``None`` by default; set it when
            subscribed to a channel known to tick (``server_info``).
    """

    name = "onyx"

    def __init__(
        self,
        url: str,
        token: str,
        *,
        request_timeout: float | None = 10.0,
        auth_deadline: float | None = 5.0,
        server_heartbeat: float | None = None,
    ) -> None:
        self.url = url
        self._token = token
        self.request_timeout = request_timeout
        self.heartbeat = HeartbeatPolicy(server_heartbeat=server_heartbeat, auth_deadline=auth_deadline)
        self._ids = RequestIds()
        self._ready = False
        self._wishes: list[_Channel] = []  # re-subscribed after every auth, in this order
        self._active: set[_Channel] = set()  # acknowledged on the current connection
        self._pending: dict[str, _Pending] = {}  # by wire id

    def __repr__(self) -> str:
        return f"OnyxProtocol(url={self.url!r}, ready={self._ready}, subscriptions={len(self._wishes)})"

    # -- FeedProtocol -----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once the server accepted the token on the current connection."""
        return self._ready

    def connect_target(self) -> ConnectTarget:
        """Return the URL as given; the token goes in the auth request, not in a header."""
        return ConnectTarget(self.url)

    def connection_made(self, now: float) -> Sequence[Action]:
        """Send the ``auth`` request at once (the server allows about 5 s)."""
        self._ready = False
        self._active.clear()
        auth_id = self._ids.next()
        deadline = None if self.request_timeout is None else now + self.request_timeout
        self._pending[auth_id] = _Pending("auth", None, sent=True, deadline=deadline)
        # No request_id on the Send: the answer is Authenticated/AuthFailed, not RequestDone.
        return [self._frame(auth_id, "auth", None, token=self._token)]

    def connection_lost(self) -> None:
        """Forget auth and acknowledgements; keep wishes and the requests users wait for.

        A user's subscribe is re-sent with the same id after the next auth. A user's
        unsubscribe completes after the next auth: the new connection does not have it.
        """
        self._ready = False
        self._active.clear()
        # Auth and resubscriptions die with the connection (the next one makes its own); user
        # requests nobody waits for any more (timed out) need no answer.
        self._pending = {wire_id: p for wire_id, p in self._pending.items() if p.user and p.waiters}
        for p in self._pending.values():
            p.sent = False

    def receive_frame(self, frame: str | bytes, now: float) -> Sequence[Action]:
        """Decode; correlate responses by id; deliver events."""
        try:
            msg = _codec_module.decode(frame)
        except DecodeError as exc:
            return [BadFrame(exc)]
        if isinstance(msg, Response):
            return self._on_response(msg, now)
        return [Deliver(msg)]

    def subscribe(
        self,
        now: float,
        /,
        channel: str | Mapping[str, Any],
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
        ch = _make_channel(channel, products, product_groups)
        if ch not in self._wishes:
            self._wishes.append(ch)
        if ch in self._active:
            return None, ()
        request_id = self._ids.next()
        waiter = (request_id, self._deadline(now))
        # Join a request for the same channel that is already queued or in flight: a second
        # frame would only earn an "already subscribed" error.
        for p in self._pending.values():
            if p.kind == "subscribe" and p.channel == ch and p.sent == self._ready:
                p.waiters.append(waiter)
                return request_id, ()
        self._pending[request_id] = _Pending("subscribe", ch, sent=self._ready, user=True, waiters=[waiter])
        if not self._ready:
            return request_id, ()  # goes out in Authenticated.then
        return request_id, [self._frame(request_id, "subscribe", request_id, channel=ch.to_wire())]

    def unsubscribe(
        self,
        now: float,
        /,
        channel: str | Mapping[str, Any],
        *,
        products: Iterable[str] | None = None,
        product_groups: Iterable[str] | None = None,
    ) -> tuple[str | None, Sequence[Action]]:
        """Forget a subscription and, when authenticated, tell the server.

        Not authenticated: nothing is sent (a new connection will not have it), the request is
        done at once (``None``), and a subscribe still queued for it completes with an error.
        """
        ch = _make_channel(channel, products, product_groups)
        self._wishes = [w for w in self._wishes if w != ch]
        self._active.discard(ch)
        if not self._ready:
            actions: list[Action] = []
            for wire_id, p in list(self._pending.items()):
                if p.kind == "subscribe" and p.channel == ch and not p.sent:
                    del self._pending[wire_id]
                    actions += [RequestDone(rid, "unsubscribed before it was sent") for rid, _ in p.waiters]
            return None, actions
        request_id = self._ids.next()
        self._pending[request_id] = _Pending(
            "unsubscribe", ch, sent=True, user=True, waiters=[(request_id, self._deadline(now))]
        )
        return request_id, [self._frame(request_id, "unsubscribe", request_id, channel=ch.to_wire())]

    def poll(self, now: float) -> Sequence[Action]:
        """Time out requests.

        A user's request completes with ``"timed out"``; the subscription stays wished for (the
        server may have done it late, and data may flow: unsubscribe to stop it), and a late
        response is ignored. The engine may have its own timeout: the shorter wins, and the
        engine ignores a ``RequestDone`` for a request it gave up on. An unanswered auth closes
        the connection with verdict RETRY.
        """
        actions: list[Action] = []
        for wire_id, p in list(self._pending.items()):
            if p.kind == "auth":
                if p.deadline is not None and now >= p.deadline:
                    del self._pending[wire_id]
                    actions.append(ProtocolClose(1000, "no answer to the auth request", CloseVerdict.RETRY))
                continue
            p.waiters, expired = expire_waiters(p.waiters, now, self.request_timeout)
            actions += expired
        return actions

    def classify_close(self, code: int | None, reason: str) -> CloseVerdict:
        """Use the shared table: 1008 fatal, rate limits slow, the rest retry."""
        return classify_close(code, reason)

    # -- internals ----------------------------------------------------------------------------

    def _deadline(self, now: float) -> float | None:
        return None if self.request_timeout is None else now + self.request_timeout

    def _frame(self, wire_id: str, method: str, request_id: str | None, **fields: Any) -> Send:
        text = _codec_module.codec.dumps({"id": wire_id, "method": method, **fields})
        return Send(text, request_id=request_id)

    def _on_response(self, msg: Response, now: float) -> list[Action]:
        p = self._pending.pop(msg.id, None)
        if p is None:
            return []  # late answer to a request that timed out or belongs to a dead connection
        text = scrub(
            msg.message.text if isinstance(msg.message, ResponseDetail) else msg.message, self._token
        )
        if p.kind == "auth":
            if msg.error:
                return [AuthFailed(text)]
            return self._on_authenticated(now)
        if p.kind == "subscribe" and p.channel is not None and not msg.error:
            self._active.add(p.channel)
        if p.kind == "subscribe" and msg.error:
            # Refused: do not offer it again on every reconnect.
            self._wishes = [w for w in self._wishes if w != p.channel]
        return [RequestDone(rid, text if msg.error else None) for rid, _ in p.waiters]

    def _on_authenticated(self, now: float) -> list[Action]:
        self._ready = True
        actions: list[Action] = []
        queued: dict[_Channel, str] = {}
        for wire_id, p in list(self._pending.items()):
            if p.sent:
                continue
            if not p.waiters:  # queued, then timed out before auth: a resubscription replaces it
                del self._pending[wire_id]
            elif p.kind == "unsubscribe":
                # The new connection never had this subscription: the unsubscribe is done.
                del self._pending[wire_id]
                actions += [RequestDone(rid) for rid, _ in p.waiters]
            elif p.channel not in self._wishes:
                # Subscribed, then unsubscribed, and the connection died before either answer.
                del self._pending[wire_id]
                actions += [
                    RequestDone(rid, "unsubscribed before it was acknowledged") for rid, _ in p.waiters
                ]
            elif p.channel is not None:
                queued[p.channel] = wire_id
        frames = []
        for ch in self._wishes:
            frame_id = queued.get(ch)
            if frame_id is None:
                # A resubscription: its own id, which the engine waits for like any request.
                frame_id = self._ids.next()
                self._pending[frame_id] = _Pending(
                    "subscribe", ch, sent=True, waiters=[(frame_id, self._deadline(now))]
                )
            entry = self._pending[frame_id]
            entry.sent = True
            # A re-sent request keeps its wire id; the Send is marked with the first request
            # still awaited (the first one may have timed out meanwhile).
            frames.append(self._frame(frame_id, "subscribe", entry.waiters[0][0], channel=ch.to_wire()))
        return [*actions, Authenticated(then=tuple(frames))]


def _make_channel(
    channel: str | Mapping[str, Any],
    products: Iterable[str] | None,
    product_groups: Iterable[str] | None,
) -> _Channel:
    if not isinstance(channel, str):
        # Wire form: {"tickers": {"products": [...]}}.
        if len(channel) != 1:
            raise ValueError("a channel object has exactly one key, e.g. {'tickers': {...}}")
        ((name, flt),) = channel.items()
        if not isinstance(flt, Mapping) or (products is not None or product_groups is not None):
            raise ValueError("give the filter either inside the channel object or as keywords")
        channel, products, product_groups = name, flt.get("products"), flt.get("product_groups")
    prods = None if products is None else _names(products, "products")
    groups = None if product_groups is None else _names(product_groups, "product_groups")
    if channel == "tickers" and not prods and not groups:
        # The server rejects an empty filter; say so here, where the caller can fix it.
        raise ValueError("the tickers channel needs products=[...] or product_groups=[...]")
    if channel != "tickers" and (prods is not None or groups is not None):
        raise ValueError(f"channel {channel!r} takes no filter")
    return _Channel(channel, prods, groups)


def _names(values: Iterable[str], what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(f"{what} must be a list of names, not a string")
    return tuple(values)


class Dashboards(Mapping[Hashable, Dashboard]):
    """The current set of dashboards, kept from ``dashboards`` channel events.

    Feed it every :class:`~trio_feeds.onyx.DashboardsSnapshotEvent` and
    :class:`~trio_feeds.onyx.DashboardsIncrementEvent` with :meth:`apply`; it is a read-only
    mapping from dashboard key to dashboard. Dashboards are opaque dicts; ``key`` picks their
    identity and defaults to ``d.get("id")`` (the field the live server sends).

    A snapshot replaces everything (the server sends one after every (re)subscription, so a
    reconnect resynchronises). Increments: 1 update and 2 create both store the dashboard
    (an update for a key we do not hold is stored rather than dropped: losing it would be
    worse); 3 delete removes it (deleting an unknown key is a no-op).
    """

    def __init__(self, key: Callable[[Dashboard], Hashable] | None = None) -> None:
        self._key: Callable[[Dashboard], Hashable] = key or _dashboard_id
        self._items: dict[Hashable, Dashboard] = {}
        self._synced = False

    @property
    def synced(self) -> bool:
        """True once a snapshot has been applied (before that, the set is partial)."""
        return self._synced

    def apply(self, event: DashboardsSnapshotEvent | DashboardsIncrementEvent) -> None:
        """Apply one ``dashboards`` event.

        Raises:
            ValueError: a dashboard for which ``key`` returns ``None`` (it cannot be tracked).
        """
        if isinstance(event, DashboardsSnapshotEvent):
            items = {self._key_of(d): d for d in event.message}
            self._items = items
            self._synced = True
            return
        k = self._key_of(event.message)
        if event.message_type == 3:
            self._items.pop(k, None)
        else:
            self._items[k] = event.message

    def _key_of(self, dashboard: Dashboard) -> Hashable:
        k = self._key(dashboard)
        if k is None:
            raise ValueError("dashboard has no key (pass Dashboards(key=...) for your data)")
        return k

    def __getitem__(self, key: Hashable) -> Dashboard:
        return self._items[key]

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Dashboards(keys={list(self._items)!r}, synced={self._synced})"


def _dashboard_id(d: Dashboard) -> Hashable:
    value: Hashable = d.get("id")
    return value
