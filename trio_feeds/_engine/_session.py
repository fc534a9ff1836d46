"""One WebSocket connection's life: its tasks, its liveness checks and its resubscription.

A :class:`Session` is made by the engine for each connection that opened. Its tasks, all in
the connection's nursery (owned by ``Engine.connect_once``):

* the reader loop (the nursery's body, :meth:`Session.read_loop`): frame -> protocol ->
  actions, executed by the engine at once;
* ``writer``, only while frames wait in the outbox: the only task that writes frames;
* ``ping``, only while a WebSocket ping waits for its pong (at most ``ping_timeout``).

Idle, a connection holds no task but its reader: with thousands of feeds in one process,
every sleeping task costs its frames, its cancel scopes and its bookkeeping. The deadlines
(heartbeat silence, the authentication deadline, the next ping) are checked by the feed's
one clock task (``Engine.clock``), which calls :meth:`Session.tick`.

The session ends with the first reason found (:meth:`Session.end`), which cancels the
connection's nursery: the reader, the writer and a ping stop at once (a writer stopped in the
middle of a frame marks the connection broken, and its close is then not graceful). The engine
then closes the connection (bounded, shielded) and acts on the :class:`Ending`. The nursery's
scope is the session's: one cancel scope per connection rather than two, 0.6 KiB less per
feed (its status keeps two sets).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import attrs
import trio

from .._sansio._protocol import Action, CloseVerdict, ProtocolClose
from .._transports import Connection, TransportClosed
from ..errors import DecodeError

if TYPE_CHECKING:
    from ._core import Engine

__all__ = ["NO_REQUESTS", "Ending", "Session"]

logger = logging.getLogger("trio_feeds")

NO_REQUESTS: frozenset[str] = frozenset()
"""The one empty ``Session.resub_pending``, shared (Python makes a new empty frozenset each time)."""

# A frame may be up to this many times max_frame_size before the WebSocket layer refuses to
# buffer it (and closes with 1009); between the two it is read and reported as a bad frame.
TRANSPORT_SIZE_FACTOR = 4

YIELD_FRAMES = 128
"""The reader lets other tasks run after this many frames of one socket read.

A read of 64 KiB holds hundreds of small frames. Decoded all at once, their messages wait in
the buffer together, and with two or more objects each they outnumber the cyclic garbage
collector's young generation (700 objects): every read then runs a collection that keeps
them all, and promotes them, until full collections cost about a tenth of the time
(benchmarks/throughput.py, ``-gc`` in the profile notes). A turn for the consumer every 128
frames keeps the messages in flight below that, for one scheduler round per 128 frames.
"""


@attrs.frozen
class Ending:
    """Why a connection (or a connection attempt) ended, and what to do about it."""

    code: int | None
    reason: str
    verdict: CloseVerdict
    close_code: int = 1000  # what we send in our Close frame
    graceful: bool = True  # False: the peer is unresponsive, do not wait for its Close reply
    connected_at: float | None = None  # None: the attempt never connected
    deliberate: bool = False  # asked for by a user call (e.g. new streams in the URL): no failure
    after: tuple[Action, ...] = ()  # the protocol's actions for after Disconnected (connection_lost)


class Session:
    """State and tasks of one live connection."""

    __slots__ = (
        "auth_deadline",
        "conn",
        "connected_at",
        "ending",
        "engine",
        "is_reconnect",
        "last_frame",
        "next_ping",
        "nursery",
        "outbox",
        "resub_count",
        "resub_done_at",
        "resub_errors",
        "resub_pending",
        "resub_started",
        "sending",
        "url",
    )

    def __init__(
        self,
        engine: Engine,
        conn: Connection,
        nursery: trio.Nursery,
        url: str,
        now: float,
        *,
        is_reconnect: bool,
    ) -> None:
        self.engine = engine
        self.conn = conn
        self.url = url
        self.connected_at = now
        self.last_frame = now
        self.is_reconnect = is_reconnect
        self.nursery = nursery  # the connection's: the writer's and pings', and the session's scope
        # Frames waiting for the writer; None while no writer runs. Unbounded on purpose: puts
        # come from synchronous code (the reader must not block); a socket that stops taking
        # writes is found dead by a ping within its timeout. A list, taken whole by the writer:
        # it holds a frame or two, where a deque would take 0.7 KiB.
        self.outbox: list[str | bytes] | None = None
        self.sending = True  # False once the engine is done with the connection
        self.next_ping = math.inf  # when the next WebSocket ping is due; inf while one is out
        self.ending: Ending | None = None
        cfg = engine.config
        auth_deadline = engine.protocol.heartbeat.auth_deadline
        wait = cfg.request_timeout if auth_deadline is None else min(auth_deadline, cfg.request_timeout)
        self.auth_deadline = now + wait
        self.resub_started: float | None = None
        self.resub_done_at: float | None = None
        # A frozenset, so that sessions share one empty value (NO_REQUESTS): an empty set or
        # frozenset takes 216 bytes.
        self.resub_pending: frozenset[str] = NO_REQUESTS
        self.resub_count = 0
        self.resub_errors: list[str] = []

    @property
    def live(self) -> bool:
        """True until the session began to end."""
        return self.ending is None

    def end(self, ending: Ending) -> None:
        """End this connection (the first reason wins) and stop reading and writing."""
        if self.ending is None:
            self.ending = ending
        self.nursery.cancel_scope.cancel()

    def close_for_protocol(self, action: ProtocolClose, *, by_user: bool) -> None:
        """End the session as the protocol asked (``by_user``: in a user's call, so deliberate)."""
        code, reason = action.code, action.reason
        name = self.engine.protocol.name
        logger.info("%s: protocol closes the connection: code %s, %s", name, code, reason)
        deliberate = by_user or action.deliberate
        at = self.connected_at
        ending = Ending(code, reason, action.verdict, close_code=code, connected_at=at, deliberate=deliberate)
        self.end(ending)

    def end_dead(self, reason: str) -> None:
        """End a connection found dead (no pong, silence): no graceful close, then retry."""
        self.end(Ending(None, reason, CloseVerdict.RETRY, graceful=False, connected_at=self.connected_at))

    def send(self, frame: str | bytes) -> None:
        """Queue a frame for the writer, starting one if none runs.

        Dropped once the session is ending (see the caller).
        """
        if self.ending is not None or not self.sending:
            return
        outbox = self.outbox
        if outbox is None:
            self.outbox = [frame]
            self.nursery.start_soon(self.writer)
        else:
            outbox.append(frame)

    def stop_sending(self) -> None:
        """The engine is done with this connection: drop frames from now on."""
        self.sending = False

    def start(self) -> None:
        """Schedule the first ping; wake the clock for this connection's deadlines.

        A replay's engine has no clock (see ``_tap.py``): its recording says when a ping went
        unanswered or the server fell silent, so no ping is sent and no deadline checked.
        """
        cfg = self.engine.config
        hb = self.engine.protocol.heartbeat
        interval, _ = cfg.pings(hb.ping_interval, hb.ping_timeout)
        # The first ping at a random point of the interval's second half. Feeds that connected
        # together (an application starting a thousand) would otherwise ping together for as
        # long as they live: a burst for the server every interval, and here a thousand ping
        # tasks waiting at once, whose objects left pymalloc pools pinned for good (2 KiB of
        # RSS per feed at 2,000 feeds, benchmarks/throughput.py memory).
        self.next_ping = trio.current_time() + interval * (0.5 + 0.5 * cfg.rng.random())
        self.engine.alarm.ring()

    # -- tasks ----------------------------------------------------------------------------------

    def read_loop(self) -> Awaitable[None]:
        """Read frames until the connection ends; hand each to the protocol, run its actions.

        Returns the loop's coroutine rather than awaiting it in one of its own: a frame less
        on the stack of every connection's reader, for its whole life.
        """
        receive_batch = getattr(self.conn, "receive_batch", None)
        if receive_batch is not None:
            return self._read_batches(receive_batch)
        return self._read_frames()

    async def _read_frames(self) -> None:
        """:meth:`read_loop` for a transport that hands out one frame per call."""
        # Locals: this loop runs once per frame.
        engine = self.engine
        receive = self.conn.receive
        current_time = trio.current_time
        while True:
            try:
                frame = await receive()
            except TransportClosed as exc:
                self.transport_closed(exc)
                return
            now = current_time()
            self.last_frame = now
            engine.stats.frames += 1
            self._frame(frame, now)

    async def _read_batches(self, receive_batch: Callable[[], Awaitable[Iterable[str | bytes]]]) -> None:
        """:meth:`read_loop` for a transport that hands out a whole socket read at once.

        The frames of one read arrived together: they share one receive time. The session may
        end on any frame (a close message, a protocol error); the frames after it in the batch
        are then left, as the per-frame loop would leave them unread.
        """
        # Locals: the inner loop runs once per frame (_frame's body, inlined).
        engine = self.engine
        stats = engine.stats
        protocol = engine.protocol
        receive_frame = protocol.receive_frame
        execute = engine.execute
        max_size = engine.config.max_frame_size
        current_time = trio.current_time
        frame: str | bytes = ""
        actions: Sequence[Action] = ()
        while True:
            try:
                frames = await receive_batch()
            except TransportClosed as exc:
                self.transport_closed(exc)
                return
            now = current_time()
            self.last_frame = now
            since_yield = 0
            for frame in frames:
                if since_yield == YIELD_FRAMES:
                    # Let the consumer take what was decoded so far (see YIELD_FRAMES).
                    await trio.lowlevel.checkpoint()
                    since_yield = 0
                since_yield += 1
                stats.frames += 1
                size = len(frame)
                if size * 4 > max_size:
                    self._frame(frame, now)  # near or over the limit: checked there
                else:
                    actions = receive_frame(frame, now)
                    if actions:
                        execute(actions, self)
                    if self.resub_started is None and protocol.ready:
                        engine.start_resubscription(self, ())
                if self.ending is not None:
                    await trio.lowlevel.checkpoint()  # the connection's nursery is cancelled: leave
                    return  # pragma: no cover - the checkpoint raises Cancelled
            # Not kept while the next read waits: the batch, its last frame, and the actions
            # of that frame (its decoded message, which only the consumer needs now).
            frames = ()
            frame = ""
            actions = ()

    def _frame(self, frame: str | bytes, now: float) -> None:
        """One received frame: size check, the protocol, its actions."""
        engine = self.engine
        max_size = engine.config.max_frame_size
        size = len(frame)
        # A str's UTF-8 size is at least its length and at most 4x: encode only near the limit.
        if size * 4 > max_size and type(frame) is str and size <= max_size:
            size = len(frame.encode())
        if size > max_size:
            reason = f"frame of {size} bytes exceeds max_frame_size ({max_size})"
            engine.bad_frame(DecodeError(engine.protocol.name, reason))
            return
        actions = engine.protocol.receive_frame(frame, now)
        if actions:
            engine.execute(actions, self)
        if self.resub_started is None and engine.protocol.ready:
            # This frame completed the protocol's opening handshake (no auth answer to
            # start it): the session is ready now, not at the clock's next poll.
            engine.start_resubscription(self, ())

    async def writer(self) -> None:
        """Write the queued frames in order, then end; the only task that writes frames.

        Frames queued meanwhile are written by this task too: :meth:`send` starts another
        writer only once this one has found the outbox empty and let it go.
        """
        try:
            while batch := self.outbox:
                self.outbox = []  # frames queued while we write go here, after the batch
                for frame in batch:
                    await self.conn.send(frame)
        except TransportClosed as exc:
            self.transport_closed(exc)
            return  # the session ends: the frames left are dropped with it
        self.outbox = None

    def transport_closed(self, exc: TransportClosed) -> None:
        """End the session for the close (or drop) the transport reported."""
        verdict = self.engine.protocol.classify_close(exc.code, exc.reason)
        self.end(Ending(exc.code, exc.reason, verdict, connected_at=self.connected_at))

    async def ping(self) -> None:
        """One WebSocket ping; no pong within ``ping_timeout`` ends the session.

        Started by the clock (:meth:`tick`) when a ping is due; the next one is due
        ``ping_interval`` after this one's pong, as with a task pinging in a loop.
        """
        hb = self.engine.protocol.heartbeat
        interval, timeout = self.engine.config.pings(hb.ping_interval, hb.ping_timeout)
        try:
            answered = await self.conn.ping(timeout)
        except TransportClosed:
            return  # the reader reports the close with its code; no more pings
        if not answered:
            self.end_dead(f"no pong within ping_timeout ({timeout:g} s)")
            return
        self.next_ping = trio.current_time() + interval
        self.engine.alarm.ring()

    def tick(self, now: float) -> float:
        """Check this connection's deadlines (the clock calls this); return the next one.

        Ends the session on heartbeat silence or when not authenticated in time, and starts a
        ping when one is due. The clock calls again at least every ``poll_interval``.
        """
        engine = self.engine
        protocol = engine.protocol
        cfg = engine.config
        promised = protocol.heartbeat.server_heartbeat
        deadline = math.inf
        if promised is not None:
            stale_after = promised + cfg.stale_grace
            if now - self.last_frame >= stale_after:
                self.end_dead(f"no frame for {stale_after:g} s (server heartbeat {promised:g} s + grace)")
                return math.inf
            deadline = self.last_frame + stale_after
        if self.resub_started is None:
            if protocol.ready:
                engine.start_resubscription(self, ())
            elif now >= self.auth_deadline:
                reason = protocol.not_ready_reason(self.auth_deadline - self.connected_at)
                self.end(Ending(None, reason, CloseVerdict.RETRY, connected_at=self.connected_at))
                return math.inf
            else:
                deadline = min(deadline, self.auth_deadline)
        if now >= self.next_ping:
            self.next_ping = math.inf  # until this ping's pong (see ping)
            self.nursery.start_soon(self.ping)
        else:
            deadline = min(deadline, self.next_ping)
        return min(deadline, now + cfg.poll_interval)
