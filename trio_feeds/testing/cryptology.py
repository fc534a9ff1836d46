r"""In-process Cryptology market-data server (``ws://127.0.0.1:PORT/``) for tests.

Cryptology market data is a read-only, unauthenticated WebSocket: the server streams
``OrderBookAgg`` and ``AnonymousTrade`` for every trade pair from the moment a client connects;
nothing the client sends changes that (it is recorded, and otherwise ignored).

Wire forms (``form=``):

* ``"xdr"`` (default), the real server's, as the official client reads it
  (CryptologyExchange/cryptology-client-python ``market_data_client.py``): binary frames only,
  first the version frame (an XDR unsigned int, ``version=``, at once), then each message as an
  XDR broadcast (type 4) carrying the ``@type`` JSON. The official client's
  ``examples/market_radio.py`` runs against it. ``heartbeat_interval`` adds the 2018 server's
  one-byte ``b"\x00"`` heartbeat frames.
* ``"json"``: the JSON text itself in text frames, as the documents' examples suggest. Only
  here, ``legacy=True`` sends the first documents' ``_cls`` form (``OrderBookAggMessage``,
  ``AnonymousTradeMessage``); no source shows ``_cls`` on the market-data socket, whose client
  always read ``@type``.

Sequence numbers: ``current_order_id`` = the connection's sequence number. The documents'
``_cls`` form does not list that field, so legacy frames carry it as an added key (the later
field, which the ``_cls`` models also read). :meth:`CryptologyServer.sequence_of` reads it back,
from frames of either form.

:meth:`~trio_feeds.testing.FeedServer.push` wraps a message (a model or a ``dict``) in the
server's form; a ``str``/``bytes`` frame goes as given, as with ``send_raw``. For XDR frames
of other types (errors, throttling) see :mod:`trio_feeds.cryptology.xdr
<trio_feeds._codecs.cryptology_xdr>`'s ``pack_*`` functions.

Order books: each ``OrderBookAgg`` is the whole aggregated book of its trade pair, so the true
book of a pair is the last one sent: :meth:`~trio_feeds.testing.FeedServer.book`, and
:meth:`~trio_feeds.testing.FeedServer.book_as_of` for the book a given frame carried.

Subscription keys in :attr:`ConnectionRecord.subscriptions`: ``"order_book:<pair>"`` and
``"trades:<pair>"``, one each per trade pair, set when the connection opens.

Close codes the real exchange used: 4000 concurrent connection, 4001 invalid sequence,
4009 rate limit (:meth:`CryptologyServer.rate_limit`), 1012 server restart; send any of them
with :meth:`~trio_feeds.testing.FeedServer.close`.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

import trio

from .. import cryptology
from .._types import MicrosTime, MillisTime
from ..cryptology import AnonymousTradeMessage, AnonymousTradeV2, OrderBookAggMessage, OrderBookAggV2, xdr
from ._accept import serve
from ._server import BookState, Connection, FeedServer, Frame, Target, as_object

__all__ = ["CryptologyServer", "open_cryptology_server"]

RATE_LIMIT_CODE = 4009
_SEQUENCED = frozenset({"OrderBookAgg", "AnonymousTrade", "OrderBookAggMessage", "AnonymousTradeMessage"})


class CryptologyServer(FeedServer):
    r"""The Cryptology market-data test server; see :func:`open_cryptology_server`.

    Fault controls: those of :class:`~trio_feeds.testing.FeedServer`, and :meth:`rate_limit`.
    :meth:`~trio_feeds.testing.FeedServer.stop_heartbeats` also stops the ``b"\x00"`` frames
    of ``heartbeat_interval``.
    """

    protocol = "cryptology"
    codec = cryptology.codec

    def __init__(
        self,
        *,
        rate: float | None,
        trade_pairs: Sequence[str],
        form: Literal["xdr", "json"],
        legacy: bool,
        version: int,
        heartbeat_interval: float | None,
        ws_ping_interval: float | None,
    ) -> None:
        if form not in ("xdr", "json"):
            raise ValueError(f"form must be 'xdr' or 'json', got {form!r}")
        if legacy and form != "json":
            raise ValueError(
                "legacy=True (the documents' _cls form) needs form='json': the binary market-data "
                "socket always carried @type"
            )
        if heartbeat_interval is not None and form != "xdr":
            raise ValueError("heartbeat_interval (binary b'\\x00' frames) needs form='xdr'")
        super().__init__(rate=rate, ws_ping_interval=ws_ping_interval)
        self.trade_pairs = list(trade_pairs)
        self.form = form
        self.legacy = legacy
        self.version = version
        self.heartbeat_interval = heartbeat_interval

    async def rate_limit(self, *, connection: Target = None) -> None:
        """Close with 4009, as the exchange does when a client exceeds its rate limit."""
        await self.close(RATE_LIMIT_CODE, "rate limit exceeded", connection=connection)

    @staticmethod
    def sequence_of(message: object) -> int | None:
        """Return the sequence number (``current_order_id``) of a generated market-data message.

        Takes frame text, an XDR broadcast frame, a parsed ``dict`` or a decoded model;
        ``None`` when absent (or for any other frame).
        """
        if isinstance(message, bytes):
            try:
                unpacked = xdr.unpack(message)
            except xdr.XdrError:
                return None
            if not isinstance(unpacked, xdr.Broadcast):
                return None
            message = unpacked.payload
        obj = as_object(cryptology.codec, message)
        if obj is None or (obj.get("@type") or obj.get("_cls")) not in _SEQUENCED:
            return None
        seq = obj.get("current_order_id")
        return seq if type(seq) is int else None

    def wrap(self, text: str) -> Frame:
        """On the XDR form, a broadcast frame carrying ``text``; on the JSON form, ``text``."""
        return xdr.pack_broadcast(text) if self.form == "xdr" else text

    def _frame_of(self, message: object) -> Frame:
        if isinstance(message, str | bytes):
            return message  # a frame, as given
        text = super()._frame_of(message)  # JSON text for a model or dict
        return self.wrap(text) if isinstance(text, str) else text

    def _setup(self, conn: Connection) -> None:
        # No subscription protocol: every connection gets every trade pair.
        conn.record.subscriptions.extend(
            f"{kind}:{pair}" for pair in self.trade_pairs for kind in ("order_book", "trades")
        )

    def _hello(self, conn: Connection) -> Sequence[Frame]:
        # The real server's first frame, at once: the official client waits 3 s for it.
        return [xdr.pack_version(self.version)] if self.form == "xdr" else []

    async def _heartbeat(self, conn: Connection) -> None:
        interval = self.heartbeat_interval
        if interval is None:
            return
        while True:
            await trio.sleep(interval)
            await self._heartbeats_on()
            await conn.send([xdr.LEGACY_HEARTBEAT])

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
                legacy_frame = self._with_sequence(legacy_book, seq)
                return self._sent_book(legacy_frame, pair, _book_state(buy, sell))
            book = OrderBookAggV2(
                type="OrderBookAgg", buy_levels=buy, sell_levels=sell, trade_pair=pair, current_order_id=seq
            )
            frame = self.wrap(cryptology.encode(book))
            return self._sent_book(frame, pair, _book_state(buy, sell))
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
        return self.wrap(cryptology.encode(trade))

    def _with_sequence(self, message: object, seq: int) -> str:
        obj = cryptology.codec.unstructure(message)
        obj["current_order_id"] = seq
        return cryptology.codec.dumps(obj)


def _book_state(buy: Mapping[str, Decimal], sell: Mapping[str, Decimal]) -> BookState:
    """The whole aggregated book a message carries (each ``OrderBookAgg`` replaces the last)."""
    return BookState.of(((Decimal(p), a) for p, a in buy.items()), ((Decimal(p), a) for p, a in sell.items()))


@asynccontextmanager
async def open_cryptology_server(
    *,
    rate: float | None = 100.0,
    trade_pairs: Sequence[str] = ("BTC_USD",),
    form: Literal["xdr", "json"] = "xdr",
    legacy: bool = False,
    version: int = xdr.VERSION,
    heartbeat_interval: float | None = None,
    ws_ping_interval: float | None = None,
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[CryptologyServer]:
    r"""Run a Cryptology market-data test server on ``127.0.0.1`` for the duration of the context.

    Args:
        rate: generated messages per second per connection, alternating ``OrderBookAgg`` and
            ``AnonymousTrade`` over the trade pairs; ``None`` or 0: only
            :meth:`~trio_feeds.testing.FeedServer.push`.
        trade_pairs: the trade pairs to stream, e.g. ``("BTC_USD", "ETH_USD")``.
        form: ``"xdr"`` (default): the real server's binary frames, a version frame first;
            ``"json"``: plain JSON text frames.
        legacy: send the first documents' ``_cls`` form instead of ``@type`` (``form="json"``
            only).
        version: the protocol version the XDR form's first frame announces (the official
            client knows 1 and accepts any).
        heartbeat_interval: on the XDR form, send the 2018 server's one-byte ``b"\x00"``
            heartbeat frame this often (``None``: never, as the later server).
        ws_ping_interval: send WebSocket ping frames this often as the heartbeat (``None``: none).
        port: the TCP port on 127.0.0.1 (default 0: a free one, see ``server.port``).
        ssl_context: serve ``wss://`` with this server-side TLS context (a certificate
            loaded; :func:`trio_feeds.testing.tls.tls_contexts` makes one); ``None``: ``ws://``.

    Raises:
        ValueError: an unknown ``form``, or ``legacy``/``heartbeat_interval`` on the other form.
    """
    server = CryptologyServer(
        rate=rate,
        trade_pairs=trade_pairs,
        form=form,
        legacy=legacy,
        version=version,
        heartbeat_interval=heartbeat_interval,
        ws_ping_interval=ws_ping_interval,
    )
    async with serve(server, port=port, ssl_context=ssl_context) as running:
        yield running
