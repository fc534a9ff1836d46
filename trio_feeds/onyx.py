"""Onyx: typed messages, their codec, and the feed.

Requests carry an ``id`` and a ``method``; the server answers each valid request with a
``Response`` of the same ``id`` and ``method`` and pushes events tagged by ``channel``. The
``dashboards`` channel sends the full list first (``DashboardsSnapshotEvent``, message_type 0)
and then one dashboard per event (``DashboardsIncrementEvent``: 1 update, 2 create, 3 delete).
Times are aware UTC ``datetime``s: ``ServerInfo.timestamp`` (ISO-8601 on the wire; text
without an offset is UTC) and ``Ticker.timestamp`` (:data:`EpochMillis`; on the wire the
integer ``timestamp_millis``). ``ServerInfo.age_millis`` is any JSON number: an ``int`` when
the wire sends an integer, else a ``float``. A response's ``message`` is a ``str`` (the
protocol document's form) or a :class:`ResponseDetail` (``{"Message": ...}``, the live
server's form).

``open_feed`` gives an :class:`OnyxFeed`; ``decode``/``encode`` work on single frames.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Literal, overload

from ._codecs import UnknownMessage, model_classes
from ._codecs.onyx import Message, codec, decode, encode
from ._engine import Feed, FeedSetup, Tap, run_feed
from ._sansio.onyx import Dashboard, Dashboards, OnyxProtocol
from ._transports import Transport
from ._types import EpochMillis, from_epoch_millis, to_epoch_millis
from .config import FeedConfig
from .models import onyx as _models
from .models.onyx import *  # noqa: F403 - the generated models are this module's API
from .models.onyx import ServerMessage

__all__ = [  # noqa: PLE0604 - generated names
    *(cls.__name__ for cls in model_classes(_models)),
    "Dashboard",
    "Dashboards",
    "EpochMillis",
    "Item",
    "Message",
    "OnyxFeed",
    "OnyxProtocol",
    "ServerMessage",
    "codec",
    "decode",
    "encode",
    "from_epoch_millis",
    "open_feed",
    "to_epoch_millis",
]

Item = ServerMessage | UnknownMessage
"""What an Onyx feed yields besides session events."""

PlainChannel = Literal["server_info", "dashboards"]
"""Channels that take no filter."""


class OnyxFeed(Feed[Item]):
    """An Onyx feed: ``subscribe("server_info")``, ``subscribe("tickers", products=[...])``, ..."""

    def __init__(
        self,
        protocol: OnyxProtocol,
        config: FeedConfig | None = None,
        *,
        transport: Transport | None = None,
        recorder: Tap | None = None,
    ) -> None:
        self._onyx = protocol
        super().__init__(protocol, config, transport=transport, recorder=recorder)

    @property
    def dashboards(self) -> Dashboards:
        """The dashboards of the ``dashboards`` channel, kept from its events.

        ``stale`` says when they may miss changes: from the start until the first snapshot,
        and from a disconnect or a data gap until the next one (the server sends a snapshot
        after every resubscription). See :class:`Dashboards`.
        """
        return self._onyx.dashboards

    def _replay_setup(self) -> FeedSetup:
        heartbeat = self._onyx.heartbeat
        options = {"auth_deadline": heartbeat.auth_deadline, "server_heartbeat": heartbeat.server_heartbeat}
        return FeedSetup(options, credentials=("token",))

    @overload
    async def subscribe(self, channel: PlainChannel) -> None: ...
    @overload
    async def subscribe(
        self,
        channel: Literal["tickers"],
        *,
        products: Sequence[str] | None = None,
        product_groups: Sequence[str] | None = None,
    ) -> None: ...
    @overload
    async def subscribe(self, channel: Mapping[Literal["tickers"], Mapping[str, Sequence[str]]]) -> None: ...

    async def subscribe(
        self,
        channel: str | Mapping[Literal["tickers"], Mapping[str, Sequence[str]]],
        *,
        products: Sequence[str] | None = None,
        product_groups: Sequence[str] | None = None,
    ) -> None:
        """Subscribe to a channel and wait for the server's answer (correlated by id).

        ``"tickers"`` needs ``products=`` or ``product_groups=`` (or the wire form
        ``{"tickers": {"products": [...]}}``). Remembered and re-sent after every reconnect.

        Raises:
            trio_feeds.SubscriptionError: the server refused it (it is forgotten).
            trio_feeds.RequestTimeout: no answer within ``request_timeout`` (it is kept).
            trio_feeds.FeedClosed: the feed has ended.
        """
        await self._request(
            "subscribe",
            self._onyx.subscribe,
            channel,
            products=None if products is None else list(products),
            product_groups=None if product_groups is None else list(product_groups),
        )

    @overload
    async def unsubscribe(self, channel: PlainChannel) -> None: ...
    @overload
    async def unsubscribe(
        self,
        channel: Literal["tickers"],
        *,
        products: Sequence[str] | None = None,
        product_groups: Sequence[str] | None = None,
    ) -> None: ...
    @overload
    async def unsubscribe(
        self, channel: Mapping[Literal["tickers"], Mapping[str, Sequence[str]]]
    ) -> None: ...

    async def unsubscribe(
        self,
        channel: str | Mapping[Literal["tickers"], Mapping[str, Sequence[str]]],
        *,
        products: Sequence[str] | None = None,
        product_groups: Sequence[str] | None = None,
    ) -> None:
        """Forget a subscription and, when authenticated, wait for the server's answer."""
        await self._request(
            "unsubscribe",
            self._onyx.unsubscribe,
            channel,
            products=None if products is None else list(products),
            product_groups=None if product_groups is None else list(product_groups),
        )


def open_feed(
    url: str,
    *,
    token: str,
    config: FeedConfig | None = None,
    auth_deadline: float | None = 5.0,
    server_heartbeat: float | None = None,
    transport: Transport | None = None,
    recorder: Tap | None = None,
    dashboard_key: Callable[[Dashboard], Hashable] | None = None,
) -> AbstractAsyncContextManager[OnyxFeed]:
    """Open a reconnecting, authenticated Onyx feed.

    ``await feed.subscribe("server_info")``, ``await feed.subscribe("tickers", products=[...])``
    or ``await feed.subscribe("dashboards")`` return once the server answered the request
    (correlated by id); an error response raises :class:`~trio_feeds.SubscriptionError`, no
    answer within ``config.request_timeout`` raises :class:`~trio_feeds.RequestTimeout`.
    Onyx documents no close code, so no close ends the feed (it reconnects, slowly on a rate
    limit); a refused token does (:class:`~trio_feeds.AuthenticationError`).
    ``feed.dashboards`` (a :class:`Dashboards`) keeps the current dashboard set from the
    ``dashboards`` events, and says when it may be stale.

    Args:
        url: the Onyx WebSocket URL.
        token: API token, sent in the ``auth`` request (never in reprs, logs or errors).
        config: timeouts, backoff and buffer policy (default :class:`~trio_feeds.FeedConfig`).
        auth_deadline: seconds to wait for the auth answer before reconnecting (the server
            drops connections not authenticated within about 5 s); at most ``request_timeout``.
        server_heartbeat: silence bound in seconds, or ``None`` (WebSocket pings alone).
        transport: how WebSockets are opened (default :class:`~trio_feeds.transports.FastTransport`).
        recorder: record the session to a file: a recorder from
            :func:`trio_feeds.recording.open_recorder` (see "Record and replay" in the README).
        dashboard_key: the identity of a dashboard in ``feed.dashboards`` (default its
            ``"id"``); see :class:`Dashboards`.
    """
    protocol = OnyxProtocol(
        url,
        token,
        auth_deadline=auth_deadline,
        server_heartbeat=server_heartbeat,
        dashboard_key=dashboard_key,
    )
    return run_feed(OnyxFeed(protocol, config, transport=transport, recorder=recorder))
