"""Pure mappings from each exchange's typed messages to :mod:`trio_feeds.normalized` items.

One module per exchange, each with ``normalize(message, received_at, symbols=None) ->
tuple[Normalized, ...]`` (several items for a message that carries several, none for control
messages), ``symbols(known=None)`` (the exchange's symbol rule, with your known names first),
``HANDLERS`` (the message classes that give items) and ``IGNORED`` (those that give none, on
purpose). Dispatch is one dict lookup on ``type(message)``; a handler registered for a
Cryptology concept class serves both of its wire forms.

This layer sits above the codecs (it reads Peatio's ``StreamMessage``) and below the sans-IO
protocols: no trio, no I/O. A new message type is one function and one ``HANDLERS`` entry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..normalized import Normalized, Symbols
from . import cryptology, gateway, onyx, peatio

__all__ = ["NORMALIZERS", "cryptology", "gateway", "onyx", "peatio"]

NORMALIZERS: dict[str, Callable[[Any, datetime, Symbols | None], tuple[Normalized, ...]]] = {
    cryptology.EXCHANGE: cryptology.normalize,
    gateway.EXCHANGE: gateway.normalize,
    onyx.EXCHANGE: onyx.normalize,
    peatio.EXCHANGE: peatio.normalize,
}
"""Each built-in exchange's ``normalize``, by protocol name."""
