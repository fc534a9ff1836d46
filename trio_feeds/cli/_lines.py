"""One readable line per message, and JSON for normalized items (``watch``, ``demo``).

A message with a normalized form reads as that form (``BTC-USD buy 0.1 @ 42650.5``); any other
message as its most telling fields (the control messages of each protocol), never as truncated
raw JSON.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from .. import normalized as n

__all__ = ["normalized_fields", "normalized_text"]


def _num(value: Decimal | None) -> str:
    return "?" if value is None else format(value, "f")


def _side(side: enum.Enum | None) -> str:
    return "?" if side is None else side.value


def _trade(t: n.Trade) -> str:
    return f"{t.symbol} {_side(t.side)} {_num(t.amount)} @ {_num(t.price)}"


def _fill(f: n.Fill) -> str:
    order = f" (order {f.order_id})" if f.order_id else ""
    return f"fill {f.symbol or '?'} {_side(f.side)} {_num(f.amount)} @ {_num(f.price)}{order}"


def _book(b: n.BookSnapshot) -> str:
    bid = f"{_num(b.bids[0][0])} x {_num(b.bids[0][1])}" if b.bids else "-"
    ask = f"{_num(b.asks[0][0])} x {_num(b.asks[0][1])}" if b.asks else "-"
    return f"{b.symbol} book {len(b.bids)}/{len(b.asks)} levels, bid {bid}, ask {ask}"


def _book_update(b: n.BookUpdate) -> str:
    changes = [f"bid {_num(p)} -> {_num(a)}" for p, a in b.bids] + [
        f"ask {_num(p)} -> {_num(a)}" for p, a in b.asks
    ]
    seq = f" (sequence {b.sequence})" if b.sequence is not None else ""
    return f"{b.symbol} {', '.join(changes)}{seq}"


def _ticker(t: n.Ticker) -> str:
    parts = [f"bid {_num(t.bid)}", f"ask {_num(t.ask)}"]
    if t.last is not None:
        parts.append(f"last {_num(t.last)}")
    return f"{t.symbol} {', '.join(parts)}"


def _order(o: n.OrderUpdate) -> str:
    left = f", {_num(o.remaining)} left" if o.remaining is not None else ""
    kind = f" {o.order_type}" if o.order_type else ""
    return (
        f"order {o.order_id} {o.symbol or '?'} {_side(o.side)}{kind} {_num(o.amount)} @ {_num(o.price)}: "
        f"{o.status.value}{left}"
    )


def _balance(b: n.BalanceUpdate) -> str:
    available = f" (available {_num(b.available)})" if b.available is not None else ""
    return f"balance {b.currency} {_num(b.balance)}{available}"


def _position(p: n.PositionUpdate) -> str:
    return f"position {p.symbol} {p.side.value} {_num(p.amount)} @ {_num(p.entry_price)}"


_TEXTS: dict[type, Callable[[Any], str]] = {
    n.Trade: _trade,
    n.Fill: _fill,
    n.BookSnapshot: _book,
    n.BookUpdate: _book_update,
    n.Ticker: _ticker,
    n.OrderUpdate: _order,
    n.BalanceUpdate: _balance,
    n.PositionUpdate: _position,
}


def normalized_text(item: n.Normalized) -> str:
    """One line that says what a normalized item says."""
    return _TEXTS[type(item)](item)


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    return value


def normalized_fields(item: n.Normalized) -> dict[str, Any]:
    """A normalized item's fields as JSON-ready values (decimals exact, as strings).

    ``source`` (the exchange message) is left out: ``watch --json`` shows it as the message.
    """
    values = attrs.asdict(item, recurse=False, filter=lambda a, _: a.name != "source")
    return {key: _json_value(value) for key, value in values.items()}
