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

__all__ = ["EXCHANGE", "HANDLERS", "IGNORED", "normalize", "symbols"]

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
    try:
        handler = _table[type(message)]
    except KeyError:
        handler = _resolve(type(message))
    return handler(message, received_at, _SYMBOLS if symbols is None else symbols)


def _tickers(m: TickersEvent, at: datetime, sym: Symbols) -> tuple[Normalized, ...]:
    return tuple(
        [
            _ticker(
                EXCHANGE,  # exchange
                EXCHANGE,  # venue
                sym[t.symbol],  # symbol
                t.symbol,  # native_symbol
                t.bid.price,  # bid
                t.bid.amount,  # bid_amount
                t.ask.price,  # ask
                t.ask.amount,  # ask_amount
                None,  # last
                None,  # volume
                None,  # high
                None,  # low
                t.timestamp,  # exchange_time
                at,  # received_at
                m,  # source
            )
            for t in m.message
        ]
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

_dispatch = Dispatch(HANDLERS, IGNORED)
_table, _resolve = _dispatch.table, _dispatch.resolve
