"""Send-time bookkeeping for the local servers as the commands run them (latency, bounded records)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import trio

from ..testing import ConnectionRecord, FeedServer

__all__ = ["SendTimes"]


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
