"""The engine's side of requests: who waits for which request id, until when.

The sans-IO protocols track requests on the wire (``_sansio/_requests.py``); the engine owns
the clock, so every request id it waits for (a user's subscribe, a resubscription) has one
deadline here. The feed's clock task (``Engine.clock``) completes the expired ones
(:meth:`Waiters.expire_due`) and tells the protocol; it sleeps on an :class:`Alarm`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import trio

__all__ = ["Alarm", "Waiter", "WaiterKind", "Waiters"]

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

    __slots__ = ("_changed", "_waiters")

    def __init__(self, changed: Callable[[], None]) -> None:
        self._waiters: dict[str, Waiter] = {}
        self._changed = changed  # called when a deadline is added (it may be the next one)

    def __contains__(self, request_id: str) -> bool:
        return request_id in self._waiters

    def add(self, request_id: str, kind: WaiterKind, deadline: float) -> Waiter:
        """Wait for ``request_id`` until ``deadline`` (engine clock)."""
        waiter = self._waiters[request_id] = Waiter(kind, deadline)
        self._changed()
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

    def expire_due(self, now: float, expire: Callable[[str], None]) -> float:
        """Call ``expire(request_id)`` for each id whose deadline passed; return the next deadline."""
        waiters = self._waiters
        if not waiters:
            return math.inf
        for request_id, waiter in list(waiters.items()):
            if waiter.deadline <= now:
                expire(request_id)
        return min((w.deadline for w in waiters.values()), default=math.inf)


class Alarm:
    """One task's sleep until a deadline, which other code can cut short with :meth:`ring`.

    The feed's clock task sleeps on it. Parked with Trio's low-level primitives rather than a
    ``trio.Event`` made per sleep: with thousands of feeds, each holds one of these asleep.
    """

    __slots__ = ("_rung", "_task")

    def __init__(self) -> None:
        self._task: trio.lowlevel.Task | None = None  # the task asleep, if it is
        self._rung = False  # rung while nobody slept: the next sleep returns at once

    def ring(self) -> None:
        """Wake the sleeper now (or make its next sleep return at once): a deadline changed."""
        task = self._task
        if task is None:
            self._rung = True
        else:
            self._task = None
            trio.lowlevel.reschedule(task)

    async def sleep_until(self, deadline: float) -> None:
        """Sleep until ``deadline`` (engine clock) or until rung, whichever comes first."""
        if self._rung:
            self._rung = False
            await trio.lowlevel.checkpoint()
            return
        with trio.move_on_at(deadline):
            self._task = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(self._abort)

    def _abort(self, _: object) -> trio.lowlevel.Abort:
        # The deadline passed (or the feed is cancelled): not rung any more.
        self._task = None
        return trio.lowlevel.Abort.SUCCEEDED
