"""The local protocol servers as the commands run them: test credentials, fixed ports, send times."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import trio

from ..testing import (
    ConnectionRecord,
    CryptologyServer,
    FeedServer,
    GatewayServer,
    OnyxServer,
    PeatioServer,
    sign,
)
from ..testing._server import serve

__all__ = [
    "API_KEY",
    "API_SECRET",
    "PEATIO_STREAMS",
    "TOKEN",
    "SendTimes",
    "open_server",
    "server_credentials",
]

# The test credentials the local servers accept (printed by `trio-feeds serve`: they open nothing).
API_KEY = "demo-key"
API_SECRET = "demo-secret"
TOKEN = "demo-token"

PEATIO_STREAMS = ("btcusd.trades", "btcusd.update", "btcusd.ob-inc", "order", "trade")


@asynccontextmanager
async def open_server(protocol: str, *, rate: float | None, port: int = 0) -> AsyncIterator[FeedServer]:
    """Run the ``protocol`` test server on 127.0.0.1 (``port`` 0: a free one) with the CLI's credentials."""
    server: FeedServer
    if protocol == "gateway":
        server = GatewayServer(
            api_key=API_KEY,
            api_secret=API_SECRET,
            rate=rate,
            idle_ping=30.0,
            pong_timeout=10.0,
            exchange="binance",
            symbols=("BTCUSDT", "ETHUSDT"),
            signer=sign,
            max_clock_skew=None,
            close_events=True,
            ws_ping_interval=None,
        )
    elif protocol == "cryptology":
        server = CryptologyServer(
            rate=rate, trade_pairs=("BTC_USD", "ETH_USD"), legacy=False, ws_ping_interval=None
        )
    elif protocol == "onyx":
        server = OnyxServer(
            token=TOKEN,
            rate=rate,
            auth_timeout=5.0,
            products={"crude": ("brt", "wti"), "gasoline": ("ebob", "rbob"), "distillates": ("gasoil",)},
            dashboards=({"id": "dash-1", "name": "Crude", "symbols": ["brtz24", "brtf25"], "shared": False},),
            detail_messages=False,
            ws_ping_interval=None,
        )
    elif protocol == "peatio":
        server = PeatioServer(
            token=TOKEN, rate=rate, ping_interval=None, market="btcusd", ws_ping_interval=None
        )
    else:  # pragma: no cover - argparse restricts the choices
        raise ValueError(f"unknown protocol {protocol!r}")
    async with serve(server, port=port) as running:
        yield running


def server_credentials(protocol: str) -> dict[str, str]:
    """The environment a ``trio-feeds watch`` needs to log in to the local ``protocol`` server."""
    if protocol == "gateway":
        return {"TRIO_FEEDS_API_KEY": API_KEY, "TRIO_FEEDS_API_SECRET": API_SECRET}
    if protocol in ("onyx", "peatio"):
        return {"TRIO_FEEDS_TOKEN": TOKEN}
    return {}


class _Tap(list[Any]):
    """Stands in for ``ConnectionRecord.sent``: notes what is sent and keeps only the latest frames."""

    def __init__(self, on_frames: Callable[[Iterable[Any]], None], keep: int) -> None:
        super().__init__()
        self._on_frames = on_frames
        self._keep = keep

    def append(self, frame: Any) -> None:
        self.extend([frame])

    def extend(self, frames: Iterable[Any]) -> None:
        frames = list(frames)
        super().extend(frames)
        if len(self) > 2 * self._keep:
            del self[: -self._keep]
        self._on_frames(frames)

    def __iadd__(self, frames: Iterable[Any]) -> _Tap:  # type: ignore[misc]
        self.extend(frames)
        return self


class SendTimes:
    """When the server sent each sequence-stamped frame, per connection (``trio.current_time()``).

    Run :meth:`watch` in a nursery: it taps every new connection record. Then
    :meth:`pop` gives a frame's send time by connection id and sequence number, so the
    consumer can compute the delivery latency of what it receives.
    """

    def __init__(self, server: FeedServer, *, timed: bool = True, keep: int = 200) -> None:
        self.server = server
        self._timed = timed
        self._keep = keep
        self._times: dict[int, dict[int, float]] = {}

    async def watch(self) -> None:
        """Tap every connection record as it appears (until cancelled)."""
        connections = self.server.connections
        tapped = 0

        def more() -> bool:
            return len(connections) > tapped

        while True:
            await self.server.wait_for(more, timeout=math.inf)
            for record in connections[tapped:]:
                self._tap(record)
            tapped = len(connections)

    def _tap(self, record: ConnectionRecord) -> None:
        times = self._times.setdefault(record.id, {})
        sequence_of = self.server.sequence_of
        timed = self._timed

        def on_frames(frames: Iterable[Any]) -> None:
            if not timed:
                return
            now = trio.current_time()
            for frame in frames:
                seq = sequence_of(frame)
                if seq is not None:
                    times[seq] = now
            if len(times) > 50_000:  # never read (a consumer that fell far behind): bound it
                times.clear()

        record.sent = _Tap(on_frames, self._keep)
        record.received = _Tap(lambda _: None, self._keep)

    def pop(self, connection_id: int, seq: int) -> float | None:
        """The send time of frame ``seq`` on connection ``connection_id`` (forgotten after)."""
        times = self._times.get(connection_id)
        return None if times is None else times.pop(seq, None)
