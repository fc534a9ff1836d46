"""In-process Cryptology market-data server (``ws://127.0.0.1:PORT/``) for tests.

Cryptology market data is a read-only, unauthenticated WebSocket: the server streams
``OrderBookAgg`` and ``AnonymousTrade`` for every trade pair from the moment a client connects;
nothing the client sends changes that (it is recorded, and otherwise ignored). By default
messages have the later ``@type`` form; ``legacy=True`` sends the documents' ``_cls`` form
(``OrderBookAggMessage``, ``AnonymousTradeMessage``).

Sequence numbers: ``current_order_id`` = the connection's sequence number. The documents'
``_cls`` form does not list that field, so legacy frames carry it as an added key (the later
field, which the ``_cls`` models also read). :meth:`CryptologyServer.sequence_of` reads it back.

Subscription keys in :attr:`ConnectionRecord.subscriptions`: ``"order_book:<pair>"`` and
``"trades:<pair>"``, one each per trade pair, set when the connection opens.

Close codes the real exchange used: 4000 concurrent connection, 4001 invalid sequence,
4009 rate limit (:meth:`CryptologyServer.rate_limit`), 1012 server restart; send any of them
with :meth:`~trio_feeds.testing.FeedServer.close`.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

from .. import cryptology
from .._types import MicrosTime, MillisTime
from ..cryptology import AnonymousTradeMessage, AnonymousTradeV2, OrderBookAggMessage, OrderBookAggV2
from ._accept import serve
from ._server import Connection, FeedServer, Frame, Target, as_object

__all__ = ["CryptologyServer", "open_cryptology_server"]

RATE_LIMIT_CODE = 4009
_SEQUENCED = frozenset({"OrderBookAgg", "AnonymousTrade", "OrderBookAggMessage", "AnonymousTradeMessage"})


class CryptologyServer(FeedServer):
    """The Cryptology market-data test server; see :func:`open_cryptology_server`.

    Fault controls: those of :class:`~trio_feeds.testing.FeedServer`, and :meth:`rate_limit`.
    """

    protocol = "cryptology"
    codec = cryptology.codec

    def __init__(
        self,
        *,
        rate: float | None,
        trade_pairs: Sequence[str],
        legacy: bool,
        ws_ping_interval: float | None,
    ) -> None:
        super().__init__(rate=rate, ws_ping_interval=ws_ping_interval)
        self.trade_pairs = list(trade_pairs)
        self.legacy = legacy

    async def rate_limit(self, *, connection: Target = None) -> None:
        """Close with 4009, as the exchange does when a client exceeds its rate limit."""
        await self.close(RATE_LIMIT_CODE, "rate limit exceeded", connection=connection)

    @staticmethod
    def sequence_of(message: object) -> int | None:
        """Return the sequence number (``current_order_id``) of a generated market-data message.

        Takes frame text, a parsed ``dict`` or a decoded model; ``None`` when absent.
        """
        obj = as_object(cryptology.codec, message)
        if obj is None or (obj.get("@type") or obj.get("_cls")) not in _SEQUENCED:
            return None
        seq = obj.get("current_order_id")
        return seq if type(seq) is int else None

    def _setup(self, conn: Connection) -> None:
        # No subscription protocol: every connection gets every trade pair.
        conn.record.subscriptions.extend(
            f"{kind}:{pair}" for pair in self.trade_pairs for kind in ("order_book", "trades")
        )

    def _next_data(self, conn: Connection) -> Frame | None:
        key = conn.next_in_turn(conn.record.subscriptions)
        if key is None:
            return None
        kind, pair = key.split(":", 1)
        seq = conn.record.next_sequence()
        price = Decimal(555) + Decimal(seq % 100) / 4
        if kind == "order_book":
            buy = {format(price - Decimal(i) / 2, "f"): Decimal(i + 1) for i in range(1, 4)}
            sell = {format(price + Decimal(i) / 2, "f"): Decimal(i + 1) for i in range(1, 4)}
            if self.legacy:
                legacy_book = OrderBookAggMessage(
                    type="OrderBookAggMessage", buy_levels=buy, sell_levels=sell, trade_pair=pair
                )
                return self._with_sequence(legacy_book, seq)
            book = OrderBookAggV2(
                type="OrderBookAgg", buy_levels=buy, sell_levels=sell, trade_pair=pair, current_order_id=seq
            )
            return cryptology.encode(book)
        now = datetime.now(UTC)
        amount = Decimal("0.5") + Decimal(seq % 10) / 10
        if self.legacy:
            legacy_trade = AnonymousTradeMessage(
                type="AnonymousTradeMessage",
                amount=amount,
                maker_buy=bool(seq % 2),
                price=price,
                time=MicrosTime(now),
                trade_pair=pair,
            )
            return self._with_sequence(legacy_trade, seq)
        trade = AnonymousTradeV2(
            type="AnonymousTrade",
            amount=amount,
            maker_buy=bool(seq % 2),
            price=price,
            time=MillisTime(now.replace(microsecond=now.microsecond // 1000 * 1000)),
            trade_pair=pair,
            current_order_id=seq,
        )
        return cryptology.encode(trade)

    def _with_sequence(self, message: object, seq: int) -> str:
        obj = cryptology.codec.unstructure(message)
        obj["current_order_id"] = seq
        return cryptology.codec.dumps(obj)


@asynccontextmanager
async def open_cryptology_server(
    *,
    rate: float | None = 100.0,
    trade_pairs: Sequence[str] = ("BTC_USD",),
    legacy: bool = False,
    ws_ping_interval: float | None = None,
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[CryptologyServer]:
    """Run a Cryptology market-data test server on ``127.0.0.1`` for the duration of the context.

    Args:
        rate: generated messages per second per connection, alternating ``OrderBookAgg`` and
            ``AnonymousTrade`` over the trade pairs; ``None`` or 0: only
            :meth:`~trio_feeds.testing.FeedServer.push`.
        trade_pairs: the trade pairs to stream, e.g. ``("BTC_USD", "ETH_USD")``.
        legacy: send the documents' ``_cls`` form instead of the later ``@type`` form.
        ws_ping_interval: send WebSocket ping frames this often as the heartbeat (``None``: none).
        port: the TCP port on 127.0.0.1 (default 0: a free one, see ``server.port``).
        ssl_context: serve ``wss://`` with this server-side TLS context (a certificate
            loaded; :func:`trio_feeds.testing.tls.tls_contexts` makes one); ``None``: ``ws://``.
    """
    server = CryptologyServer(
        rate=rate, trade_pairs=trade_pairs, legacy=legacy, ws_ping_interval=ws_ping_interval
    )
    async with serve(server, port=port, ssl_context=ssl_context) as running:
        yield running
