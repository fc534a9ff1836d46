"""Errors raised by trio-feeds (all re-exported from ``trio_feeds``).

Texts never contain credentials: the frames and requests that carry them are not quoted.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "DecodeError",
    "FeedClosed",
    "FeedError",
    "RequestTimeout",
    "SlowConsumer",
    "SubscriptionError",
]


class FeedError(Exception):
    """Base class of every error trio-feeds raises on purpose."""


class DecodeError(FeedError, ValueError):
    """A frame could not be decoded into a model.

    Attributes:
        protocol: the protocol whose codec rejected the frame (``"cryptology"``, ...).
        tag: the message tag, when the frame got far enough to have one (else ``None``).
        path: JSON path of the bad value (``"$.data.price"``), or ``"$"`` for the whole frame.
        reason: what was wrong, in words.
    """

    def __init__(self, protocol: str, reason: str, *, tag: str | None = None, path: str = "$") -> None:
        self.protocol = protocol
        self.tag = tag
        self.path = path
        self.reason = reason
        where = f" {tag}" if tag is not None else ""
        super().__init__(f"{protocol}{where} at {path}: {reason}")

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_decode_error, (self.protocol, self.reason, self.tag, self.path))


def _rebuild_decode_error(protocol: str, reason: str, tag: str | None, path: str) -> DecodeError:
    return DecodeError(protocol, reason, tag=tag, path=path)


class AuthenticationError(FeedError):
    """The server rejected our credentials. Retrying with the same ones cannot help."""


class SubscriptionError(FeedError):
    """The server answered a subscribe or unsubscribe request with an error."""


class RequestTimeout(SubscriptionError, TimeoutError):
    """A subscribe/unsubscribe got no answer within ``FeedConfig.request_timeout``.

    The wish stays recorded by the protocol (it may still be granted late, and is re-sent after
    a reconnect); call ``unsubscribe`` to drop it.
    """


class FeedClosed(FeedError):
    """The feed ended: closed by the user, or by a server close that cannot heal."""


class SlowConsumer(FeedError):
    """The consumer fell behind and the buffer policy is ``"fail"``."""
