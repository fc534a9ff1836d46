"""Cryptology exchange: typed messages, their codec, and the market-data feed.

Messages are JSON objects tagged by ``_cls`` (the first documents' form, names ending in
``Message``) or ``@type`` (the later documents, no suffix). Match the message's concept class,
one per message whatever its form::

    if isinstance(msg, cryptology.BuyOrderPlaced):  # either wire form
        print(msg.order_id, msg.amount, msg.time)

Each concept has a subclass per wire form, which is what ``decode`` returns and what ``encode``
needs: ``BuyOrderPlacedMessage`` (``_cls``) and ``BuyOrderPlacedV2`` (``@type``), so ``encode``
writes back exactly the form that was received. Messages sent only in the later form
(``OwnTrade``, ``OrderNotFound``, ``DepositTransactionAccepted``, ``TradesDisabledOnPairs``,
the client's orders and RPC messages, ...) are one class each. ``time`` pairs become aware UTC
datetimes; their unit is the form's (microseconds, except milliseconds in
``AnonymousTradeV2``), and a hand-built message takes ``MicrosTime(dt)`` / ``MillisTime(dt)``.

``open_feed`` gives a :class:`CryptologyFeed`; ``decode``/``encode`` work on single JSON
messages. The real market-data socket wraps each one in a binary XDR frame after a version
frame; the feed reads that form and the plain JSON text form alike (the first frame tells),
and :mod:`cryptology.xdr <trio_feeds._codecs.cryptology_xdr>` packs and unpacks the frames.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from typing import Literal

from ._codecs import UnknownMessage, model_classes
from ._codecs import cryptology_xdr as xdr
from ._codecs.cryptology import Message, codec, decode, encode
from ._engine import Feed, FeedSetup, Tap, run_feed
from ._sansio.cryptology import VERSION_TIMEOUT, CryptologyProtocol, WireForm
from ._transports import Transport
from ._types import MicrosTime, MillisTime
from .config import FeedConfig
from .models import cryptology as _models
from .models.cryptology import *  # noqa: F403 - the generated models are this module's API
from .models.cryptology import ClientMessage, ServerMessage

__all__ = [  # noqa: PLE0604 - generated names
    *(cls.__name__ for cls in model_classes(_models)),
    "ClientMessage",
    "CryptologyFeed",
    "CryptologyProtocol",
    "Item",
    "Message",
    "MicrosTime",
    "MillisTime",
    "ServerMessage",
    "WireForm",
    "codec",
    "decode",
    "encode",
    "open_feed",
    "xdr",
]

Item = ServerMessage | ClientMessage | UnknownMessage
"""What a Cryptology feed yields besides session events (a server sends only server messages)."""


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
            "wire_form": self._cryptology.wire_form,
            "version_timeout": self._cryptology.version_timeout,
        }
        return FeedSetup(options)

    async def subscribe(self, *trade_pairs: str) -> None:
        """Deliver messages of these trade pairs (client-side: the server sends every pair).

        The first call narrows the feed from "everything" to the pairs given; later calls add
        pairs. With no pairs, the filter is dropped and everything is delivered again.
        """
        await self._request("subscribe", self._cryptology.subscribe, *trade_pairs)

    @property
    def form(self) -> Literal["xdr", "json"] | None:
        """The current connection's wire form (``None`` before its first frame)."""
        return self._cryptology.form

    @property
    def server_version(self) -> int | None:
        """The protocol version the server's version frame gave (XDR form), else ``None``."""
        return self._cryptology.server_version

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
    server_heartbeat: float | None = None,
    wire_form: WireForm = "auto",
    version_timeout: float = VERSION_TIMEOUT,
    transport: Transport | None = None,
    recorder: Tap | None = None,
) -> AbstractAsyncContextManager[CryptologyFeed]:
    """Open a reconnecting feed of Cryptology market data (unauthenticated, read-only).

    The server streams every trade pair; ``trade_pairs`` (and ``feed.subscribe("BTC_USD")``)
    filter on our side, since the protocol has no subscribe message. The real server's binary
    XDR frames and the documents' plain JSON text frames both work with no option: the first
    frame of each connection tells which (see ``wire_form``).

    Args:
        url: the market-data WebSocket URL.
        trade_pairs: deliver only these pairs (default: all).
        config: timeouts, backoff and buffer policy (default :class:`~trio_feeds.config.FeedConfig`).
            Unless it sets ``ping_interval``/``ping_timeout``, the feed pings every 3 s and
            wants the pong within 3 s, as the official client.
        server_heartbeat: the server sends something at least this often (seconds); longer
            silence means a dead connection. ``None`` (default): the real server is silent
            on a quiet market, so WebSocket pings alone decide.
        wire_form: ``"auto"`` (default): a binary first frame means the XDR form (it is the
            version frame, due within ``version_timeout``), a text one the JSON form.
            ``"xdr"`` or ``"json"``: only that form. A server of the JSON form that may
            send nothing for ``version_timeout`` after a connect needs ``"json"``: on
            ``"auto"`` its silence looks like a missing version frame.
        version_timeout: seconds the version frame may take (the official client's 3 s).
        transport: how WebSockets are opened (default :class:`~trio_feeds.transports.FastTransport`).
        recorder: record the session to a file: a recorder from
            :func:`trio_feeds.recording.open_recorder` (see "Record and replay" in the README).
    """
    protocol = CryptologyProtocol(
        url,
        trade_pairs=trade_pairs,
        server_heartbeat=server_heartbeat,
        wire_form=wire_form,
        version_timeout=version_timeout,
    )
    return run_feed(CryptologyFeed(protocol, config, transport=transport, recorder=recorder))
