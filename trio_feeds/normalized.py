"""Normalized data: one set of types for trades, books, tickers, orders, balances and positions.

========================  ============================================================
type                      what
========================  ============================================================
:class:`Trade`            a public trade (taker side)
:class:`Fill`             a trade of one of your orders (your side)
:class:`BookSnapshot`     a whole book (or its top levels): replaces what you hold
:class:`BookUpdate`       changed levels, on the last snapshot (zero amount: removed)
:class:`Ticker`           top of book and recent activity of a market
:class:`OrderUpdate`      one of your orders after a change (:class:`OrderStatus`)
:class:`BalanceUpdate`    your balance of a currency
:class:`PositionUpdate`   one of your positions after a change
========================  ============================================================

Every exchange names things its own way (``BTC_USD``, ``btcusd``, ``BTCUSDT``; ``maker_buy``,
``taker_type``, ``side``; order ``state`` ``"wait"`` or ``status`` ``"partially_filled"``). The
types here say the same things the same way, whatever the exchange:

- ``exchange``: the protocol the item came through (``"cryptology"``, ``"gateway"``, ``"onyx"``,
  ``"peatio"``); ``venue``: the market it happened on: the exchange itself, or for the trading
  gateway the exchange it relays (its ``exchange`` field, ``"binance"``);
- ``symbol``: the common form ``BASE-QUOTE`` (``"BTC-USD"``), and ``native_symbol``, the
  exchange's own name (``"BTC_USD"``, ``"btcusd"``, ``"BTCUSDT"``). See :class:`Symbols` for how a
  native name is split, and for instruments that are not a currency pair (Onyx futures);
- sides are enums (:class:`Side`, :class:`PositionSide`), order states :class:`OrderStatus`;
- prices and amounts are :class:`~decimal.Decimal`, exactly as decoded;
- ``exchange_time``: when the exchange says it happened (aware UTC ``datetime``, ``None`` when
  the message carries no time), and ``received_at``: when the frame was received (aware UTC,
  passed in by whoever normalizes);
- ``source``: the typed exchange message the item came from (``None`` for an item built by
  hand, e.g. from a REST answer); it is left out of ``==``, ``hash`` and ``repr``: two items
  are equal when they say the same thing.

The items are frozen, slotted attrs classes. The mappings from each exchange's messages live
in ``trio_feeds._normalize`` (one pure function per exchange, ``normalize(message,
received_at)``); tracked state built on these items is :mod:`trio_feeds.state`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import attrs

__all__ = [
    "KNOWN_QUOTES",
    "BalanceUpdate",
    "BookSnapshot",
    "BookUpdate",
    "Fill",
    "Level",
    "Normalized",
    "OrderStatus",
    "OrderUpdate",
    "PositionSide",
    "PositionUpdate",
    "Side",
    "SymbolMap",
    "Symbols",
    "Ticker",
    "Trade",
]

Level = tuple[Decimal, Decimal]
"""One price level: ``(price, amount)``."""


class Side(StrEnum):
    """Buy or sell: a trade's taker side, an order's side, the side of your fill."""

    BUY = "buy"
    SELL = "sell"


class PositionSide(StrEnum):
    """The side of a position."""

    LONG = "long"
    SHORT = "short"


class OrderStatus(StrEnum):
    """Where an order is in its lifecycle.

    ``FILLED``, ``CANCELLED``, ``REJECTED`` and ``EXPIRED`` end it (:attr:`final`); an order in
    any other status is open. ``UNKNOWN`` is a status text the mapping does not know (the
    message is in ``source``): the order is kept open, visibly, rather than guessed closed.
    """

    PENDING = "pending"  # accepted, not yet on the book
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def final(self) -> bool:
        """Whether this status ends the order's lifecycle (no further change will come)."""
        return self in _FINAL


_FINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})

# Each public class is frozen and adds nothing to a private base that declares its fields: the
# base's slots hold the values. trio_feeds._normalize builds an item by filling a base instance
# with plain attribute stores and then setting its class to the frozen one (same layout), about
# three times faster than a frozen __init__, whose object.__setattr__ per field costs more than
# the rest of a mapping (benchmarks/normalize.py). Nothing else ever sees a base instance.
#
# `source` is the exchange's message: mutable attrs models are not hashable, and it repeats what
# the normalized fields say, so every class keeps it out of eq, hash and repr.


@attrs.define(kw_only=True)
class _TradeFields:
    exchange: str
    venue: str
    symbol: str
    native_symbol: str
    side: Side | None
    price: Decimal
    amount: Decimal
    trade_id: str | None = None
    exchange_time: datetime | None
    received_at: datetime
    source: object = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Trade(_TradeFields):
    """A public trade of a market.

    Attributes:
        side: the taker's (aggressor's) side, ``None`` when the exchange does not say.
        price: the trade price.
        amount: the traded amount, in the base currency.
        trade_id: the exchange's trade id (as text), ``None`` when it sends none.
    """


@attrs.define(kw_only=True)
class _FillFields:
    exchange: str
    venue: str
    symbol: str | None
    native_symbol: str | None
    side: Side | None
    price: Decimal
    amount: Decimal | None
    trade_id: str | None = None
    order_id: str | None = None
    maker: bool | None = None
    exchange_time: datetime | None
    received_at: datetime
    source: object = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Fill(_FillFields):
    """A trade of one of your own orders (Cryptology ``OwnTrade``, Peatio's private ``trade``).

    Attributes:
        symbol, native_symbol: the market, ``None`` when the message names none (a Peatio
            ``trade`` frame without ``market_id``/``market``).
        side: *your* side in the trade, ``None`` when the exchange does not say.
        price: the trade price.
        amount: the traded amount, in the base currency (``None`` when the message does not
            say: Peatio's ``volume`` and ``amount`` are both optional).
        trade_id: the exchange's trade id (as text), when it sends one.
        order_id: your order that traded (as text), when the exchange says which.
        maker: ``True`` when your order was the resting (maker) one, ``None`` when unknown.
    """


@attrs.define(kw_only=True)
class _BookSnapshotFields:
    exchange: str
    venue: str
    symbol: str
    native_symbol: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    sequence: int | None = None
    exchange_time: datetime | None
    received_at: datetime
    source: object = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class BookSnapshot(_BookSnapshotFields):
    """A whole order book (or its top levels): replace what you hold for the market with it.

    Cryptology ``OrderBookAgg``, the gateway's ``orderbook`` (at the subscribed depth), Peatio
    ``ob-snap`` and ``update``.

    Attributes:
        bids: ``(price, amount)`` levels, best (highest) first.
        asks: ``(price, amount)`` levels, best (lowest) first.
        sequence: the book's sequence number, where the protocol has one (Peatio ``ob-snap``);
            increments continue from it.
    """


@attrs.define(kw_only=True)
class _BookUpdateFields:
    exchange: str
    venue: str
    symbol: str
    native_symbol: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    sequence: int | None = None
    exchange_time: datetime | None
    received_at: datetime
    source: object = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class BookUpdate(_BookUpdateFields):
    """Changed levels of an order book (Peatio ``ob-inc``): apply them on the last snapshot.

    Attributes:
        bids: changed bid levels ``(price, amount)``: the amount replaces the level's, an
            amount of zero removes the level.
        asks: changed ask levels, the same way.
        sequence: the increment's sequence number, where the protocol has one; it must
            follow the last applied one, or increments were missed.
    """


@attrs.define(kw_only=True)
class _TickerFields:
    exchange: str
    venue: str
    symbol: str
    native_symbol: str
    bid: Decimal | None = None
    bid_amount: Decimal | None = None
    ask: Decimal | None = None
    ask_amount: Decimal | None = None
    last: Decimal | None = None
    volume: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    exchange_time: datetime | None
    received_at: datetime
    source: object = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Ticker(_TickerFields):
    """Top of book and recent activity of one market.

    A field is ``None`` where the exchange does not send it.

    Attributes:
        bid, ask: the best bid and ask prices.
        bid_amount, ask_amount: the amounts at them.
        last: the last traded price.
        volume: traded volume (the exchange's window, usually 24 h), in the base currency.
        high, low: highest and lowest price of that window.
    """

    @property
    def mid(self) -> Decimal | None:
        """``(bid + ask) / 2``, or ``None`` when a side is missing."""
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2


@attrs.define(kw_only=True)
class _OrderUpdateFields:
    exchange: str
    venue: str
    symbol: str | None
    native_symbol: str | None
    order_id: str
    client_order_id: str | None = None
    side: Side | None
    status: OrderStatus
    order_type: str | None = None
    price: Decimal | None = None
    amount: Decimal | None = None
    filled: Decimal | None = None
    remaining: Decimal | None = None
    average_price: Decimal | None = None
    fee: Decimal | None = None
    fee_currency: str | None = None
    exchange_time: datetime | None
    received_at: datetime
    source: object = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class OrderUpdate(_OrderUpdateFields):
    """The state of one of your orders after a change.

    A field is ``None`` where the message does not say (Cryptology's ``...AmountChanged`` says
    only what is left; its ``InsufficientFunds`` does not name the market, so ``symbol`` and
    ``native_symbol`` are ``None`` there). :class:`trio_feeds.state.Orders` merges updates, so
    the order it holds keeps what earlier messages said.

    Attributes:
        order_id: the exchange's order id, as text (``"42"`` for an integer id).
        client_order_id: your own id for the order, as text, when the exchange echoes one.
        side: buy or sell.
        status: where the order is in its lifecycle; :attr:`OrderStatus.final` ends it.
        order_type: the exchange's order type text (``"limit"``, ``"market"``), when it says.
        price: the limit price (``None`` for market orders or when not said).
        amount: the amount ordered at first, in the base currency.
        filled: the amount executed so far.
        remaining: the amount still open.
        average_price: the average execution price so far.
        fee, fee_currency: the fee charged so far and its currency, when the exchange says.
    """


@attrs.define(kw_only=True)
class _BalanceUpdateFields:
    exchange: str
    venue: str
    currency: str
    native_currency: str
    balance: Decimal | None
    available: Decimal | None = None
    on_hold: Decimal | None = None
    change: Decimal | None = None
    reason: str | None = None
    exchange_time: datetime | None
    received_at: datetime
    source: object = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class BalanceUpdate(_BalanceUpdateFields):
    """Your balance of one currency.

    A currency, not a market: ``currency`` stands where the other types have ``symbol``.

    Attributes:
        currency: the common (upper-case) currency code, ``"USD"``.
        native_currency: the exchange's spelling.
        balance: the balance the exchange states (Cryptology ``SetBalance.balance``, which its
            documents call the new balance without saying whether funds on hold in open
            orders are in it).
        available: the part free to trade, where the exchange says.
        on_hold: the part on hold (in open orders, withdrawals), where the exchange says.
        change: the change that led here, where the exchange says.
        reason: the exchange's reason text for the change, where it says.
    """


@attrs.define(kw_only=True)
class _PositionUpdateFields:
    exchange: str
    venue: str
    symbol: str
    native_symbol: str
    side: PositionSide
    amount: Decimal
    entry_price: Decimal | None = None
    cost: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    liquidation_price: Decimal | None = None
    position_type: str | None = None
    exchange_time: datetime | None
    received_at: datetime
    source: object = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class PositionUpdate(_PositionUpdateFields):
    """The state of one of your positions after a change. An ``amount`` of zero: closed.

    Attributes:
        side: long or short.
        amount: the position size, in the base currency.
        entry_price: the average entry price.
        cost: the position's cost in the quote currency.
        unrealized_pnl: unrealized profit or loss in the quote currency.
        liquidation_price: where the position would be liquidated (``None``: none, or not said).
        position_type: the exchange's position type text (``"spot"``), when it says.
    """


Normalized = Trade | Fill | BookSnapshot | BookUpdate | Ticker | OrderUpdate | BalanceUpdate | PositionUpdate
"""Any normalized item."""

# -- symbols -------------------------------------------------------------------------------------

SymbolMap = Mapping[str, str | tuple[str, str]]
"""Native symbol -> its common symbol (``"BTC-USD"``) or its ``(base, quote)`` currencies."""

KNOWN_QUOTES: tuple[str, ...] = (
    # Tried in this order; the first that ends a name (leaving a base) is its quote. The order
    # settles overlaps: BUSD and FDUSD before USD (ETHBUSD is ETH-BUSD), USD before TUSD
    # (USDTUSD is USDT-USD; a TUSD market such as ETHTUSD needs a known name).
    *("USDT", "USDC", "BUSD", "FDUSD", "DAI", "USD", "TUSD", "EUR", "GBP", "JPY", "CHF", "CAD"),
    *("AUD", "RUB", "UAH", "TRY", "KRW", "BRL", "NGN", "ZAR", "IDR", "INR"),
    *("BTC", "ETH", "BNB", "TRX", "XRP"),
)
"""Quote currencies the heuristic split of concatenated symbols (``btcusd``) recognises, in the
order it tries them."""

_SEPARATORS = ("/", "-", "_", ":")
_CACHE_LIMIT = 4096  # a server inventing names cannot grow a cache without bound


class Symbols(dict[str, str]):
    """One exchange's native symbols and their common ``BASE-QUOTE`` form, filled on demand.

    A dict (native -> common) that computes a missing entry by the exchange's rule and keeps
    it (up to 4096 names: a server inventing names cannot grow it without bound), so a lookup
    is one dict access: ``symbols["btcusd"]`` (or ``symbols("btcusd")``) is ``"BTC-USD"``. The
    rule depends on the exchange's naming; build one with a class method:

    - :meth:`separated`: ``BTC_USD`` (Cryptology) -> ``BTC-USD``;
    - :meth:`concatenated`: ``btcusd`` (Peatio), ``BTCUSDT`` (gateway), split where a known quote
      currency ends the name (the first of :data:`KNOWN_QUOTES` that does: ``BTCUSDT`` ->
      ``BTC-USDT``, ``ETHBUSD`` -> ``ETH-BUSD``), or at a ``/``, ``-``, ``_`` or ``:`` if the
      name has one. This is a heuristic: pass ``known`` (your markets' base and quote, e.g.
      from the exchange's market list) and it is used first;
    - :meth:`instrument`: names that are no currency pair (Onyx futures such as ``brtz24``):
      the common form is the name upper-cased, with no ``-`` (``BRTZ24``).

    A name the rule cannot split becomes its upper-cased self, without ``-``: a common symbol
    with no ``-`` is never a guessed pair. Setting an entry (``symbols["x"] = "A-B"``) works
    like a ``known`` name.

    Args:
        split: the rule: ``(base, quote)`` for a native name, or ``None``.
        known: native names with their common symbol or ``(base, quote)``, used before ``split``.
    """

    __slots__ = ("_split",)

    def __init__(
        self, split: Callable[[str], tuple[str, str] | None], known: SymbolMap | None = None
    ) -> None:
        super().__init__()
        self._split = split
        for native, common in (known or {}).items():
            self[native] = common if isinstance(common, str) else _join(*common)

    @classmethod
    def separated(cls, separator: str, known: SymbolMap | None = None) -> Symbols:
        """Names with base and quote around ``separator`` (``"_"``: ``BTC_USD``)."""

        def split(native: str) -> tuple[str, str] | None:
            base, sep, quote = native.partition(separator)
            return (base, quote) if sep and base and quote else None

        return cls(split, known)

    @classmethod
    def concatenated(cls, known: SymbolMap | None = None, quotes: tuple[str, ...] = KNOWN_QUOTES) -> Symbols:
        """Names written base then quote with nothing between (``btcusd``, ``BTCUSDT``)."""
        ordered = tuple(dict.fromkeys(q.upper() for q in quotes))

        def split(native: str) -> tuple[str, str] | None:
            upper = native.upper()
            for separator in _SEPARATORS:
                base, sep, quote = upper.partition(separator)
                if sep:
                    return (base, quote) if base and quote else None
            for quote in ordered:
                if len(upper) > len(quote) and upper.endswith(quote):
                    return upper[: -len(quote)], quote
            return None

        return cls(split, known)

    @classmethod
    def instrument(cls, known: SymbolMap | None = None) -> Symbols:
        """Names that are no currency pair: kept whole, upper-cased (``brtz24`` -> ``BRTZ24``)."""
        return cls(_no_split, known)

    def __missing__(self, native: str) -> str:
        pair = self._split(native)
        common = native.upper() if pair is None else _join(*pair)
        if len(self) < _CACHE_LIMIT:
            self[native] = common
        return common

    def __call__(self, native: str) -> str:
        """The common symbol of ``native``."""
        return self[native]

    def pair(self, native: str) -> tuple[str, str] | None:
        """``(base, quote)`` of ``native`` in the common form, or ``None`` if it is no pair."""
        base, sep, quote = self[native].partition("-")
        return (base, quote) if sep else None

    def __repr__(self) -> str:
        return f"<Symbols: {len(self)} names>"


def _join(base: str, quote: str) -> str:
    return f"{base.upper()}-{quote.upper()}"


def _no_split(native: str) -> None:
    return None
