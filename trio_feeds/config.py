"""Feed configuration: liveness, reconnect backoff, buffering and frame limits.

Every protocol runs on the same engine and takes the same :class:`FeedConfig`. The defaults
suit a feed on the public internet; tests shrink the timeouts to milliseconds.
"""

from __future__ import annotations

import random
from typing import Literal, TypeAlias

import attrs

__all__ = ["DEFAULT_PING_INTERVAL", "DEFAULT_PING_TIMEOUT", "BadFramePolicy", "FeedConfig", "OverflowPolicy"]

DEFAULT_PING_INTERVAL = 10.0
"""Seconds between WebSocket pings when neither the config nor the protocol says otherwise."""

DEFAULT_PING_TIMEOUT = 10.0
"""Seconds a pong may take when neither the config nor the protocol says otherwise."""

OverflowPolicy: TypeAlias = Literal["drop_oldest", "fail"]
BadFramePolicy: TypeAlias = Literal["event", "raise"]


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:  # also rejects NaN
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _optional_positive(_: object, attribute: attrs.Attribute[float | None], value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{attribute.name} must be None or > 0, got {value!r}")


def _non_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _positive_int(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 1:
        raise ValueError(f"{attribute.name} must be an integer >= 1, got {value!r}")


def _optional_attempts(_: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None and (type(value) is not int or value < 0):
        raise ValueError(f"{attribute.name} must be None or an integer >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class FeedConfig:
    """How a feed keeps its connection alive, reconnects, and buffers for its consumer.

    All durations are seconds.

    Attributes:
        ping_interval: a WebSocket ping is sent this often (the first one at a random point
            of the interval's second half, so that feeds connected together do not ping
            together). A ping answered in time proves the connection alive, so quiet channels
            never cause a reconnect. ``None`` (the
            default): the protocol's own recommendation (``HeartbeatPolicy.ping_interval``,
            e.g. 3 s for Cryptology, as its official client), else
            :data:`DEFAULT_PING_INTERVAL`. A value set here always wins.
        ping_timeout: no pong within this long means the connection is dead (a half-open TCP
            connection, a server that stopped reading): it is dropped and the feed reconnects.
            A dead connection is therefore noticed within ``ping_interval + ping_timeout``.
            ``None`` (the default): the protocol's recommendation, else
            :data:`DEFAULT_PING_TIMEOUT`; a value set here always wins.
        stale_grace: slack over a protocol's promised heartbeat
            (``HeartbeatPolicy.server_heartbeat``): no frame for ``server_heartbeat +
            stale_grace`` means dead even if pings are answered (the server's feed is stuck).
        connect_timeout: bound on TCP connect + TLS + WebSocket handshake.
        close_timeout: bound on a graceful close. Closing waits for the server's Close reply
            at most this long, then the socket is closed regardless (trio-websocket alone can
            hang on a server that sends Close but keeps TCP open).
        backoff_initial, backoff_multiplier, backoff_max: reconnect delays use "full jitter":
            attempt ``n`` (1-based) waits ``uniform(0, min(backoff_max, backoff_initial *
            backoff_multiplier ** (n - 1)))``, so many clients dropped at once do not return
            in lockstep.
        rate_limit_backoff: minimum extra delay when the server's close says we were rate
            limited (verdict ``RETRY_SLOW``): the delay is ``rate_limit_backoff`` plus the
            jittered delay above.
        healthy_after: a connection that stayed up this long resets the attempt counter, so
            the next drop reconnects quickly again.
        max_attempts: give up (``FeedClosed``) after this many reconnect attempts in a row
            without a healthy connection. ``None``: never give up. ``0``: never reconnect.
        buffer_size: capacity of the buffer between the connection and the consumer, in
            messages. Session events do not count against it and are never dropped.
        overflow: what happens when the consumer falls ``buffer_size`` messages behind.
            ``"drop_oldest"`` drops the oldest messages and yields ``Overflow(dropped)`` before
            the next one; ``"fail"`` ends the feed with ``SlowConsumer``. There is no "block":
            the reader must keep reading to answer heartbeats (application-level pings and
            WebSocket pings, whichever transport), so it never waits for the consumer.
        bad_frames: ``"event"`` yields a ``DecodeFailed`` event for a frame that cannot be
            decoded and goes on; ``"raise"`` ends the feed with the ``DecodeError``.
        max_frame_size: frames larger than this many bytes are not decoded; they count as bad
            frames (see ``bad_frames``). The connection survives frames up to 4x this size;
            beyond that the WebSocket layer refuses to buffer them and the feed reconnects.
        request_timeout: bound on waiting for the answer to subscribe/unsubscribe (raises
            ``RequestTimeout``), for authentication (the connection is dropped and retried),
            and for the answers to re-subscriptions after a reconnect.
        poll_interval: the longest the engine's per-connection check sleeps (heartbeat silence
            and the authentication deadline are also checked exactly when due).
        rng: source of jitter (reconnect delays, the first ping); pass ``random.Random(seed)``
            for reproducible delays.
    """

    ping_interval: float | None = attrs.field(default=None, validator=_optional_positive)
    ping_timeout: float | None = attrs.field(default=None, validator=_optional_positive)
    stale_grace: float = attrs.field(default=5.0, validator=_non_negative)
    connect_timeout: float = attrs.field(default=10.0, validator=_positive)
    close_timeout: float = attrs.field(default=0.5, validator=_non_negative)
    backoff_initial: float = attrs.field(default=0.1, validator=_positive)
    backoff_max: float = attrs.field(default=30.0, validator=_positive)
    backoff_multiplier: float = attrs.field(default=2.0)
    rate_limit_backoff: float = attrs.field(default=10.0, validator=_non_negative)
    healthy_after: float = attrs.field(default=30.0, validator=_non_negative)
    max_attempts: int | None = attrs.field(default=None, validator=_optional_attempts)
    buffer_size: int = attrs.field(default=10_000, validator=_positive_int)
    overflow: OverflowPolicy = attrs.field(
        default="drop_oldest", validator=attrs.validators.in_(("drop_oldest", "fail"))
    )
    bad_frames: BadFramePolicy = attrs.field(
        default="event", validator=attrs.validators.in_(("event", "raise"))
    )
    max_frame_size: int = attrs.field(default=4 * 2**20, validator=_positive_int)
    request_timeout: float = attrs.field(default=10.0, validator=_positive)
    poll_interval: float = attrs.field(default=0.5, validator=_positive)
    rng: random.Random = attrs.field(factory=random.Random, eq=False, repr=False)

    @backoff_multiplier.validator
    def _check_multiplier(self, attribute: attrs.Attribute[float], value: float) -> None:
        if not value >= 1:
            raise ValueError(f"{attribute.name} must be >= 1, got {value!r}")

    def __attrs_post_init__(self) -> None:
        if self.backoff_initial > self.backoff_max:
            raise ValueError(
                f"backoff_initial ({self.backoff_initial}) must not exceed backoff_max ({self.backoff_max})"
            )

    def pings(
        self, interval_hint: float | None = None, timeout_hint: float | None = None
    ) -> tuple[float, float]:
        """The ping interval and pong timeout in force: this config's, else the hints, else the defaults.

        The engine passes its protocol's hints (``HeartbeatPolicy.ping_interval`` and
        ``ping_timeout``).
        """
        interval = self.ping_interval if self.ping_interval is not None else interval_hint
        timeout = self.ping_timeout if self.ping_timeout is not None else timeout_hint
        return (
            interval if interval is not None else DEFAULT_PING_INTERVAL,
            timeout if timeout is not None else DEFAULT_PING_TIMEOUT,
        )

    def backoff_ceiling(self, attempt: int) -> float:
        """Return the upper bound of the jittered delay before reconnect attempt ``attempt`` (1-based)."""
        try:
            ceiling = self.backoff_initial * self.backoff_multiplier ** (attempt - 1)
        except OverflowError:  # a very long outage: the exponent no longer fits a float
            return self.backoff_max
        return min(self.backoff_max, ceiling)
