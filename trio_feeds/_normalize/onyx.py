"""Onyx messages -> normalized items.

=====================================  =========================================================
message                                items
=====================================  =========================================================
``TickersEvent``                       one :class:`Ticker` per symbol in it (best bid and ask
                                       with their amounts; Onyx's own ``mid`` stays in
                                       ``source``)
others                                 nothing: responses, ``server_info``, requests, and the
                                       ``dashboards`` events, which are opaque documents with no
                                       normalized form (``trio_feeds.onyx.Dashboards`` keeps them)
=====================================  =========================================================

Symbols: Onyx trades futures contracts (``brtz24``: Brent, December 2024), which have no base
and quote currency. Their common symbol is the name upper-cased with no ``-`` (``BRTZ24``;
:meth:`Symbols.instrument`), so it is never mistaken for a currency pair; pass ``known`` names to
choose your own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .._codecs import UnknownMessage
from ..models.onyx import (
    AuthRequest,
    DashboardsIncrementEvent,
    DashboardsSnapshotEvent,
    Onyx,
    Response,
    ServerInfoEvent,
    SubscribeRequest,
    TickersEvent,
    UnsubscribeRequest,
)
from ..normalized import Normalized, SymbolMap, Symbols, Ticker
from ._build import Dispatch, builder

__all__ = ["EXCHANGE", "IGNORED", "dispatch", "normalize", "symbols"]

EXCHANGE = "onyx"

_ticker = builder(Ticker)


def symbols(known: SymbolMap | None = None) -> Symbols:
    """Onyx's symbol rule (``brtz24`` -> ``BRTZ24``, no pair), with your ``known`` names first."""
    return Symbols.instrument(known)


_SYMBOLS = symbols()


def normalize(
    message: Onyx | UnknownMessage, received_at: datetime, symbols: Symbols | None = None
) -> tuple[Normalized, ...]:
    """The normalized items of one Onyx message (none for control messages).

    Args:
        message: a decoded message.
        received_at: when its frame was received (aware UTC).
        symbols: the symbol rule (default: :func:`symbols` with no known names).
    """
    return dispatch(message, received_at, symbols or _SYMBOLS)


def _tickers(m: TickersEvent, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    return tuple(
        _ticker(
            exchange=EXCHANGE,
            venue=EXCHANGE,
            symbol=sym(t.symbol),
            native_symbol=t.symbol,
            bid=t.bid.price,
            bid_amount=t.bid.amount,
            ask=t.ask.price,
            ask_amount=t.ask.amount,
            exchange_time=t.timestamp,
            received_at=at,
            source=m,
        )
        for t in m.message
    )


HANDLERS: dict[type, Callable[..., tuple[Normalized, ...]]] = {TickersEvent: _tickers}
"""The messages that give items, and their mapping."""

IGNORED: tuple[type, ...] = (
    Response,
    ServerInfoEvent,
    DashboardsSnapshotEvent,
    DashboardsIncrementEvent,
    AuthRequest,
    SubscribeRequest,
    UnsubscribeRequest,
    UnknownMessage,
)
"""Messages that give no items, on purpose (see the module docstring)."""

dispatch = Dispatch(HANDLERS, IGNORED)
"""``dispatch(message, received_at, symbols)``: :func:`normalize` without the defaults."""
