"""The exchange registry: one :class:`Exchange` object per protocol trio-feeds speaks.

The command (``watch``, ``serve``, ``conform``, ``demo``), the conformance suite and the fault
matrix iterate over this registry instead of naming exchanges. The four built-in entries load
on first use; more come from

* :func:`register` (an application or a test), or
* the ``trio_feeds.exchanges`` entry-point group (a package that adds an exchange: the entry
  point names an :class:`Exchange` instance), or
* the ``TRIO_FEEDS_EXCHANGES`` environment variable: ``module:attribute`` entries separated by
  commas (handy for a command run in a subprocess).

This module imports nothing heavy itself: ``codegen/generate.py`` reads
:data:`BUILTIN_NAMES` from it without loading any generated model.
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._base import Exchange, ExchangeCredentials, FaultProfile

__all__ = [
    "BUILTIN_NAMES",
    "ENTRY_POINT_GROUP",
    "ENV_VAR",
    "Exchange",
    "ExchangeCredentials",
    "FaultProfile",
    "all_exchanges",
    "get",
    "names",
    "register",
    "unregister",
]

_BUILTIN = {
    "cryptology": "trio_feeds.exchanges.cryptology",
    "gateway": "trio_feeds.exchanges.gateway",
    "onyx": "trio_feeds.exchanges.onyx",
    "peatio": "trio_feeds.exchanges.peatio",
}
BUILTIN_NAMES: tuple[str, ...] = tuple(_BUILTIN)
"""The exchanges that ship with trio-feeds (their schemas are ``schemas/<name>.json``)."""

ENTRY_POINT_GROUP = "trio_feeds.exchanges"
ENV_VAR = "TRIO_FEEDS_EXCHANGES"

_registry: dict[str, Exchange] = {}
_plugins = {"loaded": False}  # entry points and TRIO_FEEDS_EXCHANGES are read once, on first use


def register(exchange: Exchange, *, replace: bool = False) -> Exchange:
    """Add ``exchange`` to the registry and return it.

    Raises:
        ValueError: another exchange has that name already (pass ``replace=True`` to replace it).
    """
    current = _registry.get(exchange.name)
    if current is not None and current is not exchange and not replace:
        raise ValueError(f"an exchange named {exchange.name!r} is registered already: {current!r}")
    _registry[exchange.name] = exchange
    return exchange


def unregister(name: str) -> None:
    """Remove an exchange added with :func:`register` (a built-in one comes back on next use)."""
    _registry.pop(name, None)


def get(name: str) -> Exchange:
    """The exchange called ``name``.

    Raises:
        KeyError: no such exchange (the message lists the known ones).
    """
    _load_plugins()
    if name not in _registry and name in _BUILTIN:
        _load(_BUILTIN[name] + ":EXCHANGE")
    try:
        return _registry[name]
    except KeyError:
        raise KeyError(f"unknown exchange {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    """Every exchange's name, built-in and registered, sorted."""
    _load_plugins()
    return sorted({*_BUILTIN, *_registry})


def all_exchanges() -> list[Exchange]:
    """Every exchange, sorted by name (built-in entries are loaded)."""
    return [get(name) for name in names()]


def _load_plugins() -> None:
    if _plugins["loaded"]:
        return
    _plugins["loaded"] = True
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        register(entry.load())
    for spec in os.environ.get(ENV_VAR, "").split(","):
        if spec.strip():
            _load(spec.strip())


def _load(spec: str) -> None:
    module_name, colon, attribute = spec.partition(":")
    if not colon:
        raise ValueError(f"{ENV_VAR}: expected module:attribute, got {spec!r}")
    exchange = getattr(importlib.import_module(module_name), attribute)
    register(exchange)


def __getattr__(name: str) -> Any:
    if name in ("Exchange", "ExchangeCredentials", "FaultProfile"):
        return getattr(importlib.import_module("._base", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
