"""What the publisher and the reader share: connecting (with a redacted URL), backoff, key names."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs
import coredis
import coredis.exceptions
import trio

from .._redact import PLACEHOLDER, redact

__all__ = ["TRANSIENT", "Backoff", "connect", "describe", "redact_url", "registry_key", "url_secret"]

TRANSIENT: tuple[type[BaseException], ...] = (
    coredis.exceptions.ConnectionError,  # refused, reset, closed mid-reply; BusyLoadingError (AOF loading)
    TimeoutError,
    OSError,
)
"""Errors that mean "Redis is away for now": retried with backoff, never raised."""


def redact_url(url: str) -> str:
    """``url`` with its password (and a user name standing alone) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    userinfo = f"{user}:{PLACEHOLDER}" if parts.password is not None else PLACEHOLDER
    return urlunsplit((parts.scheme, f"{userinfo}@{host}", parts.path, parts.query, parts.fragment))


def url_secret(redis: object) -> str | None:
    """The password of a ``redis://`` URL (to redact from error texts), if it has one."""
    return urlsplit(redis).password if isinstance(redis, str) else None


def describe(exc: BaseException, secret: str | None) -> str:
    """An error's text for a log line, without the password."""
    return redact(str(exc) or type(exc).__name__, secret)


def registry_key(prefix: str) -> str:
    """The set of every stream key publishers under ``prefix`` have written (readers discover them)."""
    return f"{prefix}:streams"


@attrs.define
class Backoff:
    """Full-jitter exponential backoff, as :class:`~trio_feeds.FeedConfig` describes it."""

    initial: float
    maximum: float
    multiplier: float = 2.0
    rng: random.Random = attrs.field(factory=random.Random)
    attempt: int = 0

    def next(self) -> float:
        """The delay before the next attempt (and count it)."""
        self.attempt += 1
        ceiling = min(self.maximum, self.initial * self.multiplier ** (self.attempt - 1))
        return self.rng.uniform(0, ceiling)

    def reset(self) -> None:
        """A success: the next failure starts from the initial delay again."""
        self.attempt = 0


@asynccontextmanager
async def connect(
    redis: str | coredis.Redis[Any], connect_timeout: float
) -> AsyncIterator[coredis.Redis[Any]]:
    """A client for ``redis`` (a ``redis://`` URL, or a client you made, used as it is)."""
    if not isinstance(redis, str):
        yield redis
        return
    client: coredis.Redis[Any] = coredis.Redis.from_url(
        # A reply that takes longer than this is a dead connection (a blocking read asks for
        # at most a few seconds): without a bound, a half-open TCP connection hangs forever.
        redis,
        decode_responses=False,
        connect_timeout=connect_timeout,
        stream_timeout=connect_timeout + 10.0,
    )
    try:
        async with client:
            yield client
    except BaseExceptionGroup as group:
        # The client runs a task group of its own, which wraps whatever leaves the block: give
        # the caller its own error back, as a plain `async with` would.
        leaves = _leaves(group)
        errors = [e for e in leaves if not isinstance(e, trio.Cancelled)]
        if len(errors) == 1:
            raise errors[0] from None
        if not errors and leaves:
            raise leaves[0] from None
        raise


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for sub in error.exceptions for leaf in _leaves(sub)]
    return [error]
