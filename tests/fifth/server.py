"""The ticker protocol's local test server, on the library's :class:`FeedServer` base.

Sequence numbers: every tick carries the connection's sequence number in ``seq``.
Subscription keys: ``"tick:<SYMBOL>"``. The server sends ``{"type": "ping"}`` every
``ping_interval`` seconds (``None``: never) and stops when told to (``stop_heartbeats``).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import trio

from tests.fifth import models
from tests.fifth.protocol import codec
from trio_feeds.errors import DecodeError
from trio_feeds.testing import FeedServer, Target
from trio_feeds.testing._accept import serve
from trio_feeds.testing._server import AuthFaults, Connection, Frame, as_object


class TickerServer(AuthFaults, FeedServer):
    """Token auth, subscribe/unsubscribe by symbol, a tick stream, app-level pings."""

    protocol = "ticker"
    codec = codec
    path = "/ticker"

    def __init__(
        self, *, token: str, rate: float | None, ping_interval: float | None, ws_ping_interval: float | None
    ) -> None:
        super().__init__(rate=rate, ws_ping_interval=ws_ping_interval)
        self.token = token
        self.ping_interval = ping_interval

    @staticmethod
    def sequence_of(message: object) -> int | None:
        """The ``seq`` of a tick (frame, dict or model); ``None`` for anything else."""
        obj = as_object(codec, message)
        if obj is None or obj.get("type") != "tick":
            return None
        seq = obj.get("seq")
        return seq if type(seq) is int else None

    async def rate_limit(self, *, connection: Target = None) -> None:
        """An error 429, then close 1008 "Too many requests"."""
        for conn in self._targets(connection):
            await self._reply(conn, models.Error(code=429, message="Too many requests"))
        await self.close(1008, "Too many requests", connection=connection)

    async def _on_message(self, conn: Connection, frame: Frame) -> None:
        record = conn.record
        try:
            msg = codec.decode(frame)
        except DecodeError as exc:
            await self._reply(conn, models.Error(code=400, message=exc.reason))
            return
        if isinstance(msg, models.Auth):
            ok = self._auth_verdict(msg.token == self.token)
            record.auth_attempts.append(ok)
            record.authenticated = ok
            await self._reply(conn, models.Authed() if ok else models.Error(code=401, message="bad token"))
        elif isinstance(msg, models.Subscribe | models.Unsubscribe):
            if not record.authenticated:
                await self._reply(conn, models.Error(id=msg.id, code=401, message="not authenticated"))
                return
            keys = [f"tick:{s}" for s in msg.symbols]
            if isinstance(msg, models.Subscribe):
                record.subscriptions.extend(k for k in keys if k not in record.subscriptions)
                await self._reply(conn, models.Subscribed(id=msg.id, symbols=msg.symbols))
            else:
                record.subscriptions[:] = [k for k in record.subscriptions if k not in keys]
                await self._reply(conn, models.Unsubscribed(id=msg.id, symbols=msg.symbols))

    def _next_data(self, conn: Connection) -> Frame | None:
        key = conn.next_in_turn(conn.record.subscriptions)
        if key is None:
            return None
        seq = conn.record.next_sequence()
        tick = models.Tick(symbol=key.split(":", 1)[1], seq=seq, price=Decimal(100) + Decimal(seq % 40) / 8)
        return codec.encode(tick)

    async def _heartbeat(self, conn: Connection) -> None:
        if self.ping_interval is None:
            return
        while True:
            await trio.sleep(self.ping_interval)
            await self._heartbeats_on()
            await self._reply(conn, models.Ping())


@asynccontextmanager
async def open_ticker_server(
    *,
    token: str = "test-token",
    rate: float | None = 100.0,
    ping_interval: float | None = 1.0,
    ws_ping_interval: float | None = None,
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[TickerServer]:
    """Run a ticker server on 127.0.0.1 for the duration of the context (``wss://`` with ``ssl_context``)."""
    server = TickerServer(
        token=token, rate=rate, ping_interval=ping_interval, ws_ping_interval=ws_ping_interval
    )
    async with serve(server, port=port, ssl_context=ssl_context) as running:
        yield running
