"""The engine's side of requests: who waits for which request id, until when.

The sans-IO protocols track requests on the wire (``_sansio/_requests.py``); the engine owns
the clock, so every request id it waits for (a user's subscribe, a resubscription) has one
deadline here. :meth:`Waiters.run_clock` completes the expired ones and tells the protocol.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import trio

__all__ = ["Waiter", "WaiterKind", "Waiters"]

WaiterKind = Literal["subscribe", "unsubscribe", "resubscribe"]


class Waiter:
    """One awaited request id: its deadline and, once done, its outcome."""

    __slots__ = ("deadline", "done", "error", "event", "kind", "timed_out")

    def __init__(self, kind: WaiterKind, deadline: float) -> None:
        self.kind = kind
        self.deadline = deadline
        self.done = False
        self.error: str | None = None
        self.timed_out = False
        self.event = trio.Event()


class Waiters:
    """Every request id the engine waits for, with one deadline each."""

    def __init__(self) -> None:
        self._waiters: dict[str, Waiter] = {}
        self._changed = trio.Event()

    def __contains__(self, request_id: str) -> bool:
        return request_id in self._waiters

    def add(self, request_id: str, kind: WaiterKind, deadline: float) -> Waiter:
        """Wait for ``request_id`` until ``deadline`` (engine clock)."""
        waiter = self._waiters[request_id] = Waiter(kind, deadline)
        self._changed.set()
        return waiter

    def complete(self, request_id: str, error: str | None, *, timed_out: bool = False) -> Waiter | None:
        """Record the outcome of ``request_id``; returns its waiter, or None if nobody waits."""
        waiter = self._waiters.pop(request_id, None)
        if waiter is None or waiter.done:
            return None
        waiter.done = True
        waiter.error = error
        waiter.timed_out = timed_out
        waiter.event.set()
        return waiter

    def discard(self, request_id: str) -> bool:
        """Stop waiting for ``request_id`` (the caller gave up); True if it was still awaited."""
        return self._waiters.pop(request_id, None) is not None

    def release_all(self) -> None:
        """Wake every waiter without an outcome: the feed ended."""
        for waiter in self._waiters.values():
            waiter.event.set()

    async def run_clock(self, expire: Callable[[str], None]) -> None:
        """Call ``expire(request_id)`` for each id whose deadline passed, as it passes (forever)."""
        while True:
            now = trio.current_time()
            for request_id, waiter in list(self._waiters.items()):
                if waiter.deadline <= now:
                    expire(request_id)
            next_deadline = min((w.deadline for w in self._waiters.values()), default=math.inf)
            self._changed = trio.Event()
            with trio.move_on_at(next_deadline):
                await self._changed.wait()
