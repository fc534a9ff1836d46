"""Trading gateway: typed messages, their codec, and the feed.

Client requests carry ``action``; server control messages carry ``event``; channel data carries
``channel`` (and orders/positions/system events also an ``event`` such as ``"update"``, so
``channel`` is looked at first). Prices and amounts are JSON numbers on the wire; they are
parsed straight to :class:`decimal.Decimal`, never through a binary float. Every ``timestamp``
is integer milliseconds on the wire and an aware UTC ``datetime`` in the models
(:data:`~trio_feeds._types.EpochMillis`; ``encode`` writes the same integer back).

``open_feed`` gives a :class:`GatewayFeed`; ``decode``/``encode`` work on single frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager

from ._codecs import UnknownMessage, model_classes
from ._codecs.gateway import Message, codec, decode, encode
from ._engine import Feed, FeedSetup, Tap, run_feed
from ._sansio._shared import Credentials
from ._sansio.gateway import GatewayProtocol, Signer, Subscription, hmac_sha256_signer
from ._transports import Transport
from ._types import EpochMillis, from_epoch_millis, to_epoch_millis
from .config import FeedConfig
from .models import gateway as _models
from .models.gateway import *  # noqa: F403 - the generated models are this module's API
from .models.gateway import Channel, ClientMessage, ServerMessage

__all__ = [  # noqa: PLE0604 - generated names
    *(cls.__name__ for cls in model_classes(_models)),
    "Channel",
    "ClientMessage",
    "Credentials",
    "EpochMillis",
    "GatewayFeed",
    "GatewayProtocol",
    "Item",
    "Message",
    "ServerMessage",
    "Signer",
    "Subscription",
    "codec",
    "decode",
    "encode",
    "from_epoch_millis",
    "hmac_sha256_signer",
    "open_feed",
    "to_epoch_millis",
]

Item = ServerMessage | UnknownMessage
"""What a gateway feed yields besides session events."""


class GatewayFeed(Feed[Item]):
    """A gateway feed: typed ``subscribe``/``unsubscribe``; iterate it for messages and events."""

    def __init__(
        self,
        protocol: GatewayProtocol,
        config: FeedConfig | None = None,
        *,
        transport: Transport | None = None,
        recorder: Tap | None = None,
    ) -> None:
        self._gateway = protocol
        super().__init__(protocol, config, transport=transport, recorder=recorder)

    def _replay_setup(self) -> FeedSetup:
        return FeedSetup(
            {"server_heartbeat": self._gateway.heartbeat.server_heartbeat},
            credentials=("api_key", "api_secret"),
        )

    async def subscribe(
        self,
        channels: Channel | Iterable[Channel],
        *,
        exchange: str | None = None,
        symbols: Iterable[str] | None = None,
        depth: int | None = None,
        type: str | None = None,
    ) -> None:
        """Subscribe to ``channels`` and wait for the server's acknowledgement.

        The subscription is remembered and re-sent after every reconnect.

        Raises:
            trio_feeds.SubscriptionError: the server refused it (it is forgotten).
            trio_feeds.RequestTimeout: no answer within ``request_timeout`` (it is kept).
            trio_feeds.FeedClosed: the feed has ended.
        """
        # Iterables become lists: the arguments are recorded (JSON) when a recorder is attached.
        await self._request(
            "subscribe",
            self._gateway.subscribe,
            channels if isinstance(channels, str) else list(channels),
            exchange=exchange,
            symbols=None if symbols is None else list(symbols),
            depth=depth,
            type=type,
        )

    async def unsubscribe(
        self,
        channels: Channel | Iterable[Channel],
        *,
        exchange: str | None = None,
        symbols: Iterable[str] | None = None,
        depth: int | None = None,
        type: str | None = None,
    ) -> None:
        """Forget matching subscriptions (``None`` params match any) and wait for the answer.

        Raises:
            trio_feeds.SubscriptionError: the server refused it.
            trio_feeds.RequestTimeout: no answer within ``request_timeout``.
            trio_feeds.FeedClosed: the feed has ended.
        """
        # Iterables become lists: the arguments are recorded (JSON) when a recorder is attached.
        await self._request(
            "unsubscribe",
            self._gateway.unsubscribe,
            channels if isinstance(channels, str) else list(channels),
            exchange=exchange,
            symbols=None if symbols is None else list(symbols),
            depth=depth,
            type=type,
        )


def open_feed(
    url: str,
    *,
    credentials: Credentials,
    config: FeedConfig | None = None,
    signer: Signer | None = None,
    wall_clock_ms: Callable[[], int] | None = None,
    server_heartbeat: float | None = 45.0,
    transport: Transport | None = None,
    recorder: Tap | None = None,
) -> AbstractAsyncContextManager[GatewayFeed]:
    """Open a reconnecting, authenticated feed to a trading gateway (``ws://host:port/ws``).

    ``async with gateway.open_feed(url, credentials=gateway.Credentials(key, secret)) as feed:``
    then ``await feed.subscribe(["trades"], exchange="binance", symbols=["BTCUSDT"])`` (returns
    once the server acknowledged) and ``async for item in feed`` (models and session events).

    Args:
        url: the gateway's WebSocket URL.
        credentials: API key and secret; the secret never appears in reprs, logs or errors.
        config: timeouts, backoff and buffer policy (default :class:`~trio_feeds.config.FeedConfig`).
        signer: ``signer(api_key, api_secret, timestamp_ms) -> signature``; default HMAC-SHA256
            hex of ``f"{timestamp}{api_key}"`` keyed by the secret.
        wall_clock_ms: the wall clock for auth timestamps (default: the system clock).
        server_heartbeat: seconds of silence after which the connection is taken for dead
            (the server pings after 30 s idle); ``None`` to rely on WebSocket pings alone.
        transport: how WebSockets are opened (default :class:`~trio_feeds.transports.FastTransport`).
        recorder: record the session to a file: a recorder from
            :func:`trio_feeds.recording.open_recorder` (see "Record and replay" in the README).
    """
    protocol = GatewayProtocol(
        url, credentials, signer=signer, wall_clock_ms=wall_clock_ms, server_heartbeat=server_heartbeat
    )
    return run_feed(GatewayFeed(protocol, config, transport=transport, recorder=recorder))
