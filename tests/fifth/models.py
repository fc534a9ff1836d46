# DO NOT EDIT: generated from tests/fifth/ticker.json by codegen/generate.py.
# Regenerate with `nox -s codegen`; CI fails when this file and the schema drift apart.
"""Typed models for the TickerMessage protocol, generated from ``tests/fifth/ticker.json``."""

from __future__ import annotations

import attrs
from decimal import Decimal
from typing import Literal, TypeAlias

from trio_feeds._types import ExplicitNulls

Price: TypeAlias = Decimal


Symbol: TypeAlias = str


Symbols: TypeAlias = list[Symbol]


@attrs.define(kw_only=True)
class Authed:
    type: Literal["authed"] = attrs.field(default="authed", metadata={"tag": True})


@attrs.define(kw_only=True)
class Subscribed:
    type: Literal["subscribed"] = attrs.field(
        default="subscribed", metadata={"tag": True}
    )
    id: str
    symbols: Symbols


@attrs.define(kw_only=True)
class Unsubscribed:
    type: Literal["unsubscribed"] = attrs.field(
        default="unsubscribed", metadata={"tag": True}
    )
    id: str
    symbols: Symbols


@attrs.define(kw_only=True)
class Error(ExplicitNulls):
    type: Literal["error"] = attrs.field(default="error", metadata={"tag": True})
    code: int
    message: str
    id: str | None = attrs.field(default=None, metadata={"nullable": True})


@attrs.define(kw_only=True)
class Tick:
    type: Literal["tick"] = attrs.field(default="tick", metadata={"tag": True})
    symbol: str = attrs.field(metadata={"pattern": "^[A-Z]{2,10}$"})
    seq: int = attrs.field(metadata={"minimum": 1})
    price: Price


@attrs.define(kw_only=True)
class Ping:
    type: Literal["ping"] = attrs.field(default="ping", metadata={"tag": True})


@attrs.define(kw_only=True)
class Auth:
    op: Literal["auth"] = attrs.field(default="auth", metadata={"tag": True})
    token: str


@attrs.define(kw_only=True)
class Subscribe:
    op: Literal["subscribe"] = attrs.field(default="subscribe", metadata={"tag": True})
    id: str
    symbols: Symbols


@attrs.define(kw_only=True)
class Unsubscribe:
    op: Literal["unsubscribe"] = attrs.field(
        default="unsubscribe", metadata={"tag": True}
    )
    id: str
    symbols: Symbols


@attrs.define(kw_only=True)
class Pong:
    op: Literal["pong"] = attrs.field(default="pong", metadata={"tag": True})


ServerMessage: TypeAlias = Authed | Subscribed | Unsubscribed | Error | Tick | Ping


ClientMessage: TypeAlias = Auth | Subscribe | Unsubscribe | Pong


TickerMessage: TypeAlias = ServerMessage | ClientMessage
"""
A small fifth protocol defined in tests/ to prove that adding an exchange touches no library code.
"""
