"""The engine's one hook: a :class:`Tap` sees what a feed's engine does, or steers it by a recording.

A recorder (:mod:`trio_feeds.recording`) is a tap that writes down everything a live session
went through; a replay (:mod:`trio_feeds.replay`) is a tap that makes the engine go through
it again. Without a tap, none of the code behind these hooks runs: the engine tests
``tap is None`` at the few points below, and the frame path has no test at all (frames are
seen by wrapping the transport, :meth:`Tap.transport`).

The points where the engine calls its tap, and why each one is needed:

* :meth:`Tap.transport`: once, to wrap the transport. Frames, connection attempts and closes
  are seen there, at zero cost to a feed that has no tap.
* :meth:`Tap.event`: every session event put in the consumer's buffer, and ``DecodeFailed``.
* :meth:`Tap.request`: a user's ``subscribe``/``unsubscribe`` with its arguments, before the
  protocol sees it: a replay makes the same call at the same point, so request ids, the
  protocol's state and ``Subscribed`` come out the same.
* :meth:`Tap.expired`: a request's deadline passed (a replay expires it at the same point).
* :meth:`Tap.reconnect`: the reconnect decision (attempt number and jittered delay). They depend
  on how long connections lasted and on the random jitter, which a replay at another speed
  cannot reproduce by measuring: it takes them from the recording.
* :attr:`Tap.timers`: a replay turns the engine's own timers off (pings, heartbeat silence, the
  authentication and request deadlines): the recording says when they fired.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._transports import Transport

if TYPE_CHECKING:
    from ._core import Engine

__all__ = ["FeedControls", "FeedSetup", "Tap"]


@attrs.frozen
class FeedSetup:
    """How to build a feed like this one again: what a recording keeps to replay it.

    Attributes:
        options: keyword arguments of the protocol module's ``open_feed`` (JSON values) that
            give a protocol in the state this feed's protocol was created in.
        credentials: names of the credentials the feed was given (``"api_key"``, ``"token"``,
            ...), never their values: a replay passes stand-ins, since it sends nothing.
    """

    options: Mapping[str, Any] = attrs.field(factory=dict)
    credentials: tuple[str, ...] = ()


@attrs.frozen
class FeedControls:
    """What a tap may do to its feed.

    Attributes:
        end: end the feed as a user's ``aclose`` would, except that the consumer still gets what
            is buffered before iteration stops.
        fail: end the feed with this error (raised after what is buffered).
        closed: whether the feed was closed (by the application, or by ``end``).
    """

    end: Callable[[], None]
    fail: Callable[[BaseException], None]
    closed: Callable[[], bool]


class Tap:
    """Sees (a recorder) or steers (a replay) one feed's engine. Every hook does nothing here.

    One tap serves one feed: :meth:`attach` is called once, when the feed is made.
    """

    timers: bool = True
    """``False``: the engine runs no timers of its own (pings, heartbeat silence, auth and request
    deadlines); a replay re-enacts what they did from its recording."""

    def attach(self, engine: Engine, setup: FeedSetup | None, controls: FeedControls) -> None:
        """The feed was made: its engine, how to make it again (``None``: unknown), its controls."""

    def transport(self, transport: Transport) -> Transport:
        """The transport the engine will use (a recorder wraps it to see frames and closes)."""
        return transport

    def event(self, event: object) -> None:
        """A session event (or ``DecodeFailed``) was given to the consumer."""

    def request(self, kind: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> bool:
        """A user asked for ``kind`` (``"subscribe"``/``"unsubscribe"``) with these arguments.

        Returns whether the request goes ahead: a replay declines the application's own
        calls, because it makes the recorded ones itself.
        """
        return True

    def expired(self, request_id: str) -> None:
        """The engine stopped waiting for ``request_id``: its deadline passed."""

    async def reconnect(self, attempt: int, delay: float) -> tuple[int, float, float]:
        """The engine will make reconnect attempt ``attempt`` after ``delay`` seconds.

        Returns ``(attempt, delay, pause)``: the attempt number and delay to go on with (a
        replay gives the recorded ones) and how long to wait before the attempt (a replay
        waits in its transport instead, at its speed).
        """
        return attempt, delay, delay
