"""Peatio Ranger: typed messages, their codec, and the feed.

Every server frame is a one-key object, ``{"<stream>": payload}``: ``{"btcusd.trades": {...}}``,
``{"order": {...}}``, and the replies ``{"success": {...}}`` / ``{"error": {...}}``; peatio-core
0.4.0 to 0.4.4 sent ``["btcusd.trades", {...}]`` instead. ``decode`` returns a
:class:`StreamMessage` holding the stream name, the typed payload and the frame's form, so
``encode`` writes the same frame back. Client requests (``{"jwt": ...}``, ``{"event":
"subscribe", ...}``) decode to their own classes. Times are aware UTC ``datetime``s: ``date`` and
``at`` are integer seconds on the wire (:data:`~trio_feeds._types.EpochSeconds`);
``created_at``/``updated_at`` are ISO-8601 text in the protocol document and integer seconds
from the peatio code
(:data:`~trio_feeds._types.IsoOrEpochSeconds`); a ticker's ``at`` is an integer or a digit string
(:data:`~trio_feeds._types.EpochSecondsOrDigits`); ``encode`` writes back the form that came in.

``open_feed`` gives a :class:`PeatioFeed`, which keeps the order book of every
``<market>.ob-inc`` stream (``feed.books["btcusd"]``); ``decode``/``encode`` work on single frames.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

from ._codecs import UnknownMessage
from ._codecs.peatio import (
    PUBLIC_CLASSES,
    FrameForm,
    Payload,
    StreamMessage,
    TextError,
    UnknownArrayFrame,
    codec,
    decode,
    encode,
    market_of,
)
from ._engine import Feed, FeedSetup, Tap, run_feed
from ._sansio.peatio import MAX_CLIENT_MESSAGE, AuthMode, PeatioProtocol, SubscribeMode, private_streams
from ._transports import Transport
from ._types import (
    DecimalNumber,
    EpochSeconds,
    EpochSecondsOrDigits,
    IsoOrEpochSeconds,
    from_epoch_seconds,
    sent_as_epoch_seconds,
    sent_as_seconds_text,
)
from .config import FeedConfig
from .models.peatio import *  # noqa: F403 - the generated models are this module's API
from .models.peatio import ClientMessage, GlobalTickers, IncrementLevel, KLine, LevelAmount, PriceLevel

__all__ = [  # noqa: PLE0604 - generated names
    *(cls.__name__ for cls in PUBLIC_CLASSES),
    "MAX_CLIENT_MESSAGE",
    "AuthMode",
    "ClientMessage",
    "DecimalNumber",
    "EpochSeconds",
    "EpochSecondsOrDigits",
    "FrameForm",
    "GlobalTickers",
    "IncrementLevel",
    "IsoOrEpochSeconds",
    "Item",
    "KLine",
    "LevelAmount",
    "Payload",
    "PeatioFeed",
    "PeatioProtocol",
    "PriceLevel",
    "StreamMessage",
    "SubscribeMode",
    "TextError",
    "UnknownArrayFrame",
    "codec",
    "decode",
    "encode",
    "from_epoch_seconds",
    "market_of",
    "open_feed",
    "sent_as_epoch_seconds",
    "sent_as_seconds_text",
]

Item = StreamMessage[Payload] | UnknownMessage
"""What a Peatio feed yields besides session events."""


class PeatioFeed(Feed[Item]):
    """A Peatio Ranger feed: ``subscribe(*streams)`` / ``unsubscribe(*streams)``.

    ``feed.books`` holds the order book of each ``<market>.ob-inc`` stream, keyed by market
    (``"btcusd"``), from Ranger's snapshot and the sequenced increments after it. A book that
    cannot be trusted (a sequence jump, an engine restart, a crossed book, a disconnect) is
    marked out of sync in-band (``BookOutOfSync``) and resynced by the feed itself: by
    unsubscribing and subscribing the stream again on the same connection in ``"event"`` mode,
    by reconnecting in ``"query"`` mode; ``BookSynced`` follows the fresh snapshot.
    """

    def __init__(
        self,
        protocol: PeatioProtocol,
        config: FeedConfig | None = None,
        *,
        transport: Transport | None = None,
        recorder: Tap | None = None,
    ) -> None:
        self._peatio = protocol
        super().__init__(protocol, config, transport=transport, recorder=recorder)

    def _replay_setup(self) -> FeedSetup:
        proto = self._peatio
        options = {
            "streams": list(proto.streams),
            "auth": proto.auth,
            "subscribe_mode": proto.subscribe_mode,
            "server_heartbeat": proto.heartbeat.server_heartbeat,
            "snapshot_timeout": proto.snapshot_timeout,
        }
        return FeedSetup(options, credentials=("token",) if proto.has_token else ())

    async def subscribe(self, *streams: str) -> None:
        """Add streams (``"btcusd.trades"``, ``"order"``, ...); every reconnect asks for them.

        With ``subscribe_mode="event"`` this waits for the server's answer; in ``"query"`` mode
        the feed reconnects with the new query string.
        """
        proto = self._peatio
        if not proto.has_token:
            _warn_private(streams)
        await self._request("subscribe", proto.subscribe, *streams)

    async def unsubscribe(self, *streams: str) -> None:
        """Remove streams; the same modes as :meth:`subscribe`."""
        await self._request("unsubscribe", self._peatio.unsubscribe, *streams)


def open_feed(
    url: str,
    *,
    streams: Sequence[str] = (),
    token: str | None = None,
    auth: AuthMode = "message",
    subscribe_mode: SubscribeMode | None = None,
    config: FeedConfig | None = None,
    server_heartbeat: float | None = None,
    snapshot_timeout: float = 10.0,
    transport: Transport | None = None,
    recorder: Tap | None = None,
) -> AbstractAsyncContextManager[PeatioFeed]:
    """Open a reconnecting Peatio Ranger feed.

    Streams given here go in the query string (``?stream=btcusd.trades&stream=order``), the
    document's way, and every reconnect carries every stream subscribed so far.

    Args:
        url: the Ranger WebSocket URL.
        streams: streams to subscribe from the start (public ``<market>.trades``, ... and,
            with a token, private ``order``, ``trade``, ``deposit_address``).
        token: JWT for private streams (never in reprs, logs or errors).
        auth: ``"message"`` sends ``{"jwt": "Bearer <token>"}`` after connecting (document
            form); ``"header"`` sends ``Authorization: Bearer <token>`` at the handshake
            (later servers). rango answers a rejected token with HTTP 401 (the feed ends with
            ``AuthenticationError``); the Ruby Ranger drops the connection mid-handshake, which
            looks like a network failure and is retried with backoff (the reconnect reason
            says what it may mean; bound it with ``FeedConfig(max_attempts=...)``).
        subscribe_mode: ``"event"`` sends ``{"event": "subscribe", ...}`` on the live
            connection (later servers); ``"query"`` reconnects with the new query string
            (document form). Default: ``"event"`` with header auth, else ``"query"``.
        config: timeouts, backoff and buffer policy (default :class:`~trio_feeds.config.FeedConfig`).
        server_heartbeat: silence bound in seconds, or ``None`` (WebSocket pings alone).
        snapshot_timeout: seconds an order book waits for Ranger's snapshot while increments
            arrive before the feed subscribes its stream again (see :class:`PeatioFeed`).
        transport: how WebSockets are opened (default :class:`~trio_feeds.transports.FastTransport`).
        recorder: record the session to a file: a recorder from
            :func:`trio_feeds.recording.open_recorder` (see "Record and replay" in the README).
    """
    if token is None:
        _warn_private(streams)
    protocol = PeatioProtocol(
        url,
        token=token,
        streams=streams,
        auth=auth,
        subscribe_mode=subscribe_mode,
        server_heartbeat=server_heartbeat,
        snapshot_timeout=snapshot_timeout,
    )
    return run_feed(PeatioFeed(protocol, config, transport=transport, recorder=recorder))


def _warn_private(streams: Sequence[str]) -> None:
    # Ranger acknowledges a private stream of an anonymous client and then sends nothing on it:
    # without this warning the feed would just stay silent.
    private = private_streams(streams)
    if private:
        warnings.warn(
            f"peatio: private streams {', '.join(private)} need a token: without one the server "
            "acknowledges them and sends nothing",
            UserWarning,
            stacklevel=3,
        )
