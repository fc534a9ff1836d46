"""Scheduled faults for the local servers: ``trio-feeds serve --fault``, the demo, your tests.

Syntax: ``KIND[:ARG]@WHEN[/EVERY]``; ``WHEN`` and ``EVERY`` are durations such as ``5s``,
``500ms``, ``2m`` or a bare number of seconds, counted from a start the caller chooses (the
server's start, or its first connection: see :meth:`Fault.run`).

============================= =====================================================================
``close[:CODE[:REASON]]``     WebSocket close with CODE (default 1011), e.g. ``close:1012@5s``
``abort``                     drop TCP without a close frame (the client sees 1006)
``blackhole[:SECONDS]``       stall: send nothing, read nothing (pings unanswered, new handshakes
                              hang) for SECONDS (default 5), then resume
``stop-heartbeats[:SECONDS]`` stop the server's heartbeats for SECONDS (default 5)
``raw:TEXT``                  send TEXT as one message, exactly (e.g. ``raw:{"@type":1}@3s``): one
                              text frame, or on Cryptology's binary XDR form one broadcast frame
                              carrying TEXT
``rate-limit``                the protocol's rate-limit behaviour (Cryptology closes with 4009;
                              the others send an error and close with 1008)
``refuse[:STATUS]``           refuse the next connection attempt with HTTP STATUS (default 503)
``reject-auth``               reject the next authentication attempt (gateway, onyx, peatio)
``skip-sequence[:N]``         the next N increments (default 1) of every sequenced order-book
                              stream reach no live subscriber: a sequence jump (peatio)
============================= =====================================================================


``/EVERY`` repeats the fault: ``abort@10s/30s`` aborts at 10 s, 40 s, 70 s, ...
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import attrs
import trio

from ._server import AuthFaults, FeedServer

__all__ = ["FAULT_HELP", "Fault", "SequenceFaults", "parse_duration", "parse_fault"]

FAULT_HELP = (
    "KIND[:ARG]@WHEN[/EVERY], e.g. close:1011@5s, abort@10s/30s, blackhole:3@20s, "
    "raw:{...}@3s, rate-limit@8s, refuse:503@12s, reject-auth@15s, stop-heartbeats:10@5s, "
    "skip-sequence:3@6s"
)

_KINDS = (
    "close",
    "abort",
    "blackhole",
    "stop-heartbeats",
    "raw",
    "rate-limit",
    "refuse",
    "reject-auth",
    "skip-sequence",
)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")


def parse_duration(text: str) -> float:
    """Seconds from ``5s``, ``500ms``, ``2m`` or ``1.5``.

    Raises:
        ValueError: not a duration.
    """
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 5s, 500ms, 2m)")
    value = float(match.group(1))
    unit = match.group(2) or "s"
    return value / 1000 if unit == "ms" else value * 60 if unit == "m" else value


@runtime_checkable
class SequenceFaults(Protocol):
    """A server with sequenced order-book streams, which can skip sequence numbers (Peatio's)."""

    def skip_sequence(self, n: int = 1) -> None:
        """Let the next ``n`` increments of every book stream reach no live subscriber."""


@attrs.frozen
class Fault:
    """One fault: what to do to a server, when, and how often.

    Attributes:
        kind: one of the kinds in the module docstring.
        arg: the kind's argument as written (``None``: the default).
        at: seconds after the start.
        every: repeat period in seconds, or ``None`` for once.
    """

    kind: str
    arg: str | None = None
    at: float = 0.0
    every: float | None = None

    @property
    def spec(self) -> str:
        """The fault written back in the ``--fault`` syntax."""
        arg = "" if self.arg is None else f":{self.arg}"
        every = "" if self.every is None else f"/{round(self.every, 3):g}s"
        return f"{self.kind}{arg}@{round(self.at, 3):g}s{every}"

    def describe(self) -> str:
        """What the fault does, in words."""
        if self.kind == "close":
            code, reason = self._close_args()
            return f"close {code}" + (f" ({reason})" if reason else "")
        if self.kind == "abort":
            return "drop TCP, no close frame (1006)"
        if self.kind == "blackhole":
            return f"blackhole: server stalls for {self._seconds(5.0):g} s"
        if self.kind == "stop-heartbeats":
            return f"stop heartbeats for {self._seconds(5.0):g} s"
        if self.kind == "raw":
            text = self.arg or ""
            return f"raw frame {text[:40]}{'…' if len(text) > 40 else ''}"
        if self.kind == "rate-limit":
            return "rate limit (the protocol's close)"
        if self.kind == "refuse":
            return f"refuse next handshake: HTTP {self._status()}"
        if self.kind == "skip-sequence":
            return f"sequence jump: {self._count()} book increment(s) not sent"
        return "reject next authentication"

    async def apply(self, server: FeedServer, nursery: trio.Nursery) -> None:
        """Inflict the fault on every open connection of ``server``.

        Timed faults (blackhole, stop-heartbeats) schedule their own end in ``nursery``.
        """
        if self.kind == "close":
            code, reason = self._close_args()
            await server.close(code, reason)
        elif self.kind == "abort":
            await server.abort()
        elif self.kind == "blackhole":
            server.blackhole()
            nursery.start_soon(_resume_after, server, self._seconds(5.0))
        elif self.kind == "stop-heartbeats":
            server.stop_heartbeats()
            nursery.start_soon(_resume_after, server, self._seconds(5.0))
        elif self.kind == "raw":
            await server.send_raw(server.wrap(self.arg or ""))
        elif self.kind == "rate-limit":
            await server.rate_limit()
        elif self.kind == "refuse":
            server.refuse_next(1, status=self._status())
        elif self.kind == "skip-sequence":
            if isinstance(server, SequenceFaults):
                server.skip_sequence(self._count())
        elif isinstance(server, AuthFaults):
            server.reject_auth(1)

    async def run(
        self, server: FeedServer, nursery: trio.Nursery, start: float, report: Callable[[Fault], None]
    ) -> None:
        """Apply at ``start + at`` (and every ``every`` seconds after), calling ``report(self)`` each time."""
        when = start + self.at
        while True:
            await trio.sleep_until(when)
            report(self)
            await self.apply(server, nursery)
            if self.every is None:
                return
            when += self.every

    def _close_args(self) -> tuple[int, str]:
        code_text, _, reason = (self.arg or "1011").partition(":")
        return int(code_text), reason

    def _seconds(self, default: float) -> float:
        return default if self.arg is None else parse_duration(self.arg)

    def _status(self) -> int:
        return 503 if self.arg is None else int(self.arg)

    def _count(self) -> int:
        return 1 if self.arg is None else int(self.arg)


def parse_fault(spec: str, *, has_auth: bool = True, has_sequences: bool = True) -> Fault:
    """Parse ``KIND[:ARG]@WHEN[/EVERY]``.

    ``has_auth``: whether the server authenticates; ``has_sequences``: whether it has
    sequenced order-book streams (``Exchange.has_auth`` / ``Exchange.has_sequences``).

    Raises:
        ValueError: the spec is malformed, or the kind does not apply (``reject-auth``
            without authentication, ``skip-sequence`` without sequenced books).
    """
    head, at_sign, when = spec.rpartition("@")
    if not at_sign or not head:
        raise ValueError(f"{spec!r}: expected KIND[:ARG]@WHEN, e.g. close:1011@5s")
    kind, colon, arg = head.partition(":")
    kind = kind.strip().lower()
    if kind not in _KINDS:
        raise ValueError(f"{spec!r}: unknown fault {kind!r}; one of {', '.join(_KINDS)}")
    at_text, slash, every_text = when.partition("/")
    at = parse_duration(at_text)
    every = parse_duration(every_text) if slash else None
    if every is not None and every <= 0:
        raise ValueError(f"{spec!r}: the repeat period must be > 0")
    fault = Fault(kind=kind, arg=arg if colon else None, at=at, every=every)
    # Check the argument now, so a typo fails at startup rather than at WHEN.
    if kind == "close":
        code_text = (fault.arg or "1011").partition(":")[0]
        if not code_text.isdigit() or not (1000 <= int(code_text) <= 4999):
            raise ValueError(f"{spec!r}: the close code must be a number in 1000-4999")
    elif kind in ("blackhole", "stop-heartbeats") and fault.arg is not None:
        parse_duration(fault.arg)
    elif (
        kind == "refuse"
        and fault.arg is not None
        and not (fault.arg.isdigit() and 100 <= int(fault.arg) <= 599)
    ):
        raise ValueError(f"{spec!r}: the HTTP status must be a number in 100-599")
    elif (
        kind == "skip-sequence"
        and fault.arg is not None
        and not (fault.arg.isdigit() and int(fault.arg) >= 1)
    ):
        raise ValueError(f"{spec!r}: skip-sequence takes a count of at least 1")
    elif kind == "raw" and not fault.arg:
        raise ValueError(f"{spec!r}: raw needs the frame text, e.g. raw:{{}}@3s")
    elif kind in ("abort", "rate-limit", "reject-auth") and fault.arg is not None:
        raise ValueError(f"{spec!r}: {kind} takes no argument")
    if kind == "reject-auth" and not has_auth:
        raise ValueError(f"{spec!r}: this protocol has no authentication")
    if kind == "skip-sequence" and not has_sequences:
        raise ValueError(f"{spec!r}: this protocol has no sequenced order-book streams")
    return fault


async def _resume_after(server: FeedServer, seconds: float) -> None:
    await trio.sleep(seconds)
    server.resume()
