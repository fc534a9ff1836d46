"""What the sans-IO protocols share: credentials, the close-code table, request ids, secrets."""

from __future__ import annotations

import itertools

import attrs

from .._redact import redact as scrub
from ._protocol import CloseVerdict, RequestDone

__all__ = [
    "Credentials",
    "classify_close",
    "expire_waiters",
    "mask",
    "scrub",
]


def mask(value: str) -> str:
    """Return a masked form of an identifier for reprs: a 3-character prefix at most, never the whole.

    Short values are masked entirely: three characters of a six-character key are half of it.
    """
    return f"{value[:3]}…" if len(value) >= 8 else "…"


@attrs.frozen(repr=False)
class Credentials:
    """An API key and its secret (trading gateway).

    ``repr()`` shows at most a masked prefix of the key and never the secret, so credentials can
    sit in objects that get logged.
    """

    api_key: str
    api_secret: str

    def __repr__(self) -> str:
        return f"Credentials(api_key={mask(self.api_key)!r})"

    __str__ = __repr__


class RequestIds:
    """Request ids ``"tf:1"``, ``"tf:2"``, ... unique for the life of one protocol object.

    They never restart on reconnect, so a late answer from a dead connection cannot be taken
    for the answer to a new request.
    """

    def __init__(self, prefix: str = "tf") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def next(self) -> str:
        """Return the next unused id."""
        return f"{self._prefix}:{next(self._counter)}"


# Close codes whose meaning is the same for every feed. Exchange-specific codes are looked up
# first by each protocol; anything not listed anywhere is retried with normal backoff, because a
# feed that gives up on an unknown code is worse than one that reconnects once too often.
_FATAL_CODES = frozenset({1008})  # policy violation: we did something the server forbids
_SLOW_CODES = frozenset({1013, 4009, 4029, 4429})  # try again later / rate limited / "429"
_RATE_LIMIT_WORDS = ("rate limit", "too many", "429")
# A 1008 for a missed deadline ("Pong timeout", "authentication timeout") heals: we always answer
# pings and send auth at once, so missing one means a slow or lossy path, not a forbidden act.
_TIMEOUT_WORDS = ("timeout", "timed out")


Waiter = tuple[str, float | None]
"""A request id waiting for its answer, and its deadline (``None``: no deadline)."""


def expire_waiters(
    waiters: list[Waiter], now: float, timeout: float | None
) -> tuple[list[Waiter], list[RequestDone]]:
    """Split ``waiters`` into those still waiting and ``RequestDone`` errors for the expired."""
    kept: list[Waiter] = []
    expired: list[RequestDone] = []
    for rid, deadline in waiters:
        if deadline is not None and now >= deadline:
            expired.append(RequestDone(rid, f"timed out after {timeout:g} s"))
        else:
            kept.append((rid, deadline))
    return kept, expired


def classify_close(code: int | None, reason: str) -> CloseVerdict:
    """Return the verdict shared by all feeds for a close code (``None``: no close frame at all).

    1013 and the rate-limit codes 4009/4029/4429, and any close whose reason says "rate limit"
    or "too many", retry slowly: a rate limit heals, even when a server signals it with 1008
    (Onyx and Ranger close with 1008 "Too many requests"). A 1008 whose reason is a timeout
    ("Pong timeout", "authentication timeout") retries normally: it heals. Any other 1008 is
    fatal; everything else, including 1000, 1001, 1006, 1011, 1012 and ``None``, retries with
    normal backoff.
    """
    if code in _SLOW_CODES:
        return CloseVerdict.RETRY_SLOW
    lowered = reason.lower()
    if any(word in lowered for word in _RATE_LIMIT_WORDS):
        return CloseVerdict.RETRY_SLOW
    if code in _FATAL_CODES and not any(word in lowered for word in _TIMEOUT_WORDS):
        return CloseVerdict.FATAL
    return CloseVerdict.RETRY
