"""Sans-IO protocol for the Cryptology market-data WebSocket.

The market-data feed is a plain, unauthenticated JSON stream: the server sends every message to
every client and has no subscribe request. ``subscribe`` / ``unsubscribe`` therefore never put
anything on the wire; they set a *client-side* trade-pair filter (see
:meth:`CryptologyProtocol.subscribe`), so an application can still say what it wants in the same
words it uses with the other feeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from .._codecs import cryptology as _codec_module
from .._normalize import cryptology as _normalize
from ..books import Books, Level
from ..errors import DecodeError
from ..models.cryptology import (
    BuyOrderAmountChanged,
    BuyOrderCancelled,
    BuyOrderClosed,
    BuyOrderPlaced,
    InsufficientFunds,
    OrderBookAgg,
    OwnTrade,
    SellOrderAmountChanged,
    SellOrderCancelled,
    SellOrderClosed,
    SellOrderPlaced,
    SetBalance,
)
from ..normalized import Normalized
from ._protocol import (
    Action,
    BadFrame,
    CloseVerdict,
    ConnectTarget,
    Deliver,
    FeedProtocol,
    HeartbeatPolicy,
    Notify,
)
from ._shared import classify_close

__all__ = ["CryptologyProtocol"]

# Cryptology's own close codes. The rest follow the shared table.
_CLOSE_CODES = {
    # Concurrent connection. After a network drop the server may still hold our *previous*
    # connection for a while, so this is expected on reconnect and heals; retrying at normal
    # speed would only make the two fight, hence slowly.
    4000: CloseVerdict.RETRY_SLOW,
    # Invalid sequence: the server lost track of what we have seen; a fresh connection fixes it.
    4001: CloseVerdict.RETRY,
    4009: CloseVerdict.RETRY_SLOW,  # rate limit
    1012: CloseVerdict.RETRY,  # server restart
}


class CryptologyProtocol(FeedProtocol):
    """The Cryptology market-data feed (no auth, no subscribe messages).

    Args:
        url: the WebSocket URL.
        trade_pairs: initial client-side filter (``None``: deliver every message).
        server_heartbeat: the real server sent a heartbeat every few seconds, so silence
            longer than this (default 15 s) means the connection is dead. ``None`` turns the
            bound off (for a server that does not send heartbeats).
    """

    name = "cryptology"

    def __init__(
        self,
        url: str,
        *,
        trade_pairs: Iterable[str] | None = None,
        server_heartbeat: float | None = 15.0,
    ) -> None:
        self.url = url
        self.heartbeat = HeartbeatPolicy(server_heartbeat=server_heartbeat)
        self._pairs: set[str] | None = None if trade_pairs is None else set(trade_pairs)
        self._connected = False
        self._books: Books[str] = Books()

    def __repr__(self) -> str:
        pairs = "all" if self._pairs is None else sorted(self._pairs)
        return f"CryptologyProtocol(url={self.url!r}, trade_pairs={pairs!r})"

    @property
    def ready(self) -> bool:
        """True while connected: there is nothing to authenticate."""
        return self._connected

    @property
    def trade_pairs(self) -> frozenset[str] | None:
        """The client-side filter, or ``None`` when every message is delivered."""
        return None if self._pairs is None else frozenset(self._pairs)

    keeps_account = True

    def account_message(self, item: object) -> bool:
        """Order lifecycle messages, ``SetBalance``, ``OwnTrade``, ``InsufficientFunds``."""
        return isinstance(item, _ACCOUNT_TYPES)

    def normalize(self, item: object, received_at: datetime) -> tuple[Normalized, ...]:
        """See :func:`trio_feeds._normalize.cryptology.normalize`."""
        return _normalize.normalize(item, received_at)  # type: ignore[arg-type]

    def connect_target(self) -> ConnectTarget:
        """Return the URL as given."""
        return ConnectTarget(self.url)

    def connection_made(self, now: float) -> Sequence[Action]:
        """Nothing to send: the server starts streaming by itself."""
        self._connected = True
        return ()

    def connection_lost(self) -> Sequence[Action]:
        """Not ready until the next connection; the books may be stale from here on."""
        self._connected = False
        return [Notify(e) for e in self._books.unsync_all("disconnected")]

    @property
    def books(self) -> Books[str]:
        """The aggregated order book of each trade pair, keyed by its name (``"BTC_USD"``)."""
        return self._books

    def receive_frame(self, frame: str | bytes, now: float) -> Sequence[Action]:
        """Decode and deliver, unless the client-side trade-pair filter excludes it."""
        try:
            msg = _codec_module.decode(frame)
        except DecodeError as exc:
            return [BadFrame(exc)]
        if self._pairs is not None:
            # Messages without a pair (balances, errors, unknown tags) are never filtered out:
            # the filter is about markets, and dropping an account message would lose money.
            pair = getattr(msg, "trade_pair", None)
            if isinstance(pair, str) and pair not in self._pairs:
                return ()
        if isinstance(msg, OrderBookAgg):
            # Each OrderBookAgg is the whole aggregated book of its pair: a snapshot.
            events = self._books.snapshot(msg.trade_pair, _levels(msg.buy_levels), _levels(msg.sell_levels))
            return [Deliver(msg), *(Notify(e) for e in events)]
        return [Deliver(msg)]

    def subscribe(self, now: float, /, *trade_pairs: str) -> tuple[str | None, Sequence[Action]]:
        """Deliver messages of these trade pairs (client-side; nothing is sent).

        The first call narrows the feed from "everything" to the pairs given; later calls add
        pairs. With no pairs, the filter is dropped and everything is delivered again. Returns
        ``(None, ())``: there is no request to wait for.
        """
        if not trade_pairs:
            self._pairs = None
        elif self._pairs is None:
            self._pairs = set(trade_pairs)
        else:
            self._pairs.update(trade_pairs)
        return None, ()

    def unsubscribe(self, now: float, /, *trade_pairs: str) -> tuple[str | None, Sequence[Action]]:
        """Stop delivering messages of these trade pairs (client-side; nothing is sent).

        Raises:
            ValueError: no pairs given, or no filter is set (the feed delivers everything and
                there is no "all but" filter): subscribe to the pairs you want instead.
        """
        if not trade_pairs:
            raise ValueError("unsubscribe() needs at least one trade pair")
        if self._pairs is None:
            raise ValueError(
                "the feed delivers every trade pair; subscribe to the pairs you want instead of "
                "unsubscribing from the others"
            )
        self._pairs.difference_update(trade_pairs)
        return None, ()

    def classify_close(self, code: int | None, reason: str) -> CloseVerdict:
        """4000 and 4009 retry slowly, 4001 and 1012 retry, then the shared table (1008 fatal)."""
        verdict = _CLOSE_CODES.get(code) if code is not None else None
        return verdict if verdict is not None else classify_close(code, reason)


_ACCOUNT_TYPES = (
    BuyOrderPlaced,
    BuyOrderAmountChanged,
    BuyOrderCancelled,
    BuyOrderClosed,
    SellOrderPlaced,
    SellOrderAmountChanged,
    SellOrderCancelled,
    SellOrderClosed,
    SetBalance,
    OwnTrade,
    InsufficientFunds,
)


def _levels(levels: dict[str, Decimal] | None) -> list[Level]:
    # Prices are the keys, as decimal strings the codec checked.
    return [] if not levels else [(Decimal(price), amount) for price, amount in levels.items()]
