"""Cryptology exchange: typed messages, their codec, and the market-data feed.

Server messages are JSON objects tagged by ``_cls`` (the documents' form, names ending in
``Message``) or ``@type`` (later versions, no suffix). Match the message's concept class, one
per message whatever its form::

    if isinstance(msg, cryptology.BuyOrderPlaced):  # either wire form
        print(msg.order_id, msg.amount, msg.time)

Each concept has a subclass per wire form, which is what ``decode`` returns and what ``encode``
needs: ``BuyOrderPlacedMessage`` (``_cls``) and ``BuyOrderPlacedV2`` (``@type``), so ``encode``
writes back exactly the form that was received. Messages sent only in the later form
(``OwnTrade``, ``OrderNotFound``, ``InsufficientFunds``) are one class. ``time`` pairs become
aware UTC datetimes; their unit is the form's (microseconds, except milliseconds in
``AnonymousTradeV2``), and a hand-built message takes ``MicrosTime(dt)`` / ``MillisTime(dt)``.

``open_feed`` gives a :class:`CryptologyFeed`; ``decode``/``encode`` work on single frames.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager

from ._codecs import UnknownMessage, model_classes
from ._codecs.cryptology import Message, codec, decode, encode
from ._engine import Feed, FeedSetup, Tap, run_feed
from ._sansio.cryptology import CryptologyProtocol
from ._transports import Transport
from ._types import MicrosTime, MillisTime
from .config import FeedConfig
from .models import cryptology as _models
from .models.cryptology import *  # noqa: F403 - the generated models are this module's API
from .models.cryptology import ServerMessage

__all__ = [  # noqa: PLE0604 - generated names
    *(cls.__name__ for cls in model_classes(_models)),
    "CryptologyFeed",
    "CryptologyProtocol",
    "Item",
    "Message",
    "MicrosTime",
    "MillisTime",
    "ServerMessage",
    "codec",
    "decode",
    "encode",
    "open_feed",
]

Item = ServerMessage | UnknownMessage
"""What a Cryptology feed yields besides session events."""


class CryptologyFeed(Feed[Item]):
    """A Cryptology market-data feed; ``subscribe`` sets the client-side trade-pair filter."""

    def __init__(
        self,
        protocol: CryptologyProtocol,
        config: FeedConfig | None = None,
        *,
        transport: Transport | None = None,
        recorder: Tap | None = None,
    ) -> None:
        self._cryptology = protocol
        super().__init__(protocol, config, transport=transport, recorder=recorder)

    def _replay_setup(self) -> FeedSetup:
        pairs = self._cryptology.trade_pairs
        options = {
            "trade_pairs": None if pairs is None else sorted(pairs),
            "server_heartbeat": self._cryptology.heartbeat.server_heartbeat,
        }
        return FeedSetup(options)

    async def subscribe(self, *trade_pairs: str) -> None:
        """Deliver messages of these trade pairs (client-side: the server sends every pair).

        The first call narrows the feed from "everything" to the pairs given; later calls add
        pairs. With no pairs, the filter is dropped and everything is delivered again.
        """
        await self._request("subscribe", self._cryptology.subscribe, *trade_pairs)

    async def unsubscribe(self, *trade_pairs: str) -> None:
        """Stop delivering messages of these trade pairs (client-side).

        Raises:
            ValueError: no pairs given, or no filter is set (there is no "all but" filter).
        """
        await self._request("unsubscribe", self._cryptology.unsubscribe, *trade_pairs)


def open_feed(
    url: str,
    *,
    trade_pairs: Iterable[str] | None = None,
    config: FeedConfig | None = None,
    server_heartbeat: float | None = 15.0,
    transport: Transport | None = None,
    recorder: Tap | None = None,
) -> AbstractAsyncContextManager[CryptologyFeed]:
    """Open a reconnecting feed of Cryptology market data (plain, unauthenticated JSON).

    The server streams every trade pair; ``trade_pairs`` (and ``feed.subscribe("BTC_USD")``)
    filter on our side, since the protocol has no subscribe message.

    Args:
        url: the market-data WebSocket URL.
        trade_pairs: deliver only these pairs (default: all).
        config: timeouts, backoff and buffer policy (default :class:`~trio_feeds.FeedConfig`).
        server_heartbeat: the server sends something at least this often (seconds); longer
            silence means a dead connection. ``None`` to rely on WebSocket pings alone.
        transport: how WebSockets are opened (default :class:`~trio_feeds.transports.FastTransport`).
        recorder: record the session to a file: a recorder from
            :func:`trio_feeds.recording.open_recorder` (see "Record and replay" in the README).
    """
    protocol = CryptologyProtocol(url, trade_pairs=trade_pairs, server_heartbeat=server_heartbeat)
    return run_feed(CryptologyFeed(protocol, config, transport=transport, recorder=recorder))
