"""One WebSocket connection's life: its tasks, its liveness checks and its resubscription.

A :class:`Session` is made by the engine for each connection that opened. Its tasks, all in
the connection's nursery (owned by ``Engine.connect_once``):

* the reader loop (the nursery's body, :meth:`Session.read_loop`): frame -> protocol ->
  actions, executed by the engine at once;
* ``writer``: the only task that writes frames; drains the session's outbox;
* ``pinger``: a WebSocket ping every ``ping_interval``, pong within ``ping_timeout``;
* ``ticker``: heartbeat silence and the authentication deadline.

The session ends with the first reason found (:meth:`Session.end`), which cancels its scope;
the engine then closes the connection (bounded, shielded) and acts on the :class:`Ending`.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

import attrs
import trio

from .._sansio._protocol import Action, CloseVerdict
from .._transports import Connection, TransportClosed
from ..errors import DecodeError

if TYPE_CHECKING:
    from ._core import Engine

__all__ = ["Ending", "Session"]

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
        "outbox_recv",
        "outbox_send",
        "resub_count",
        "resub_done_at",
        "resub_errors",
        "resub_pending",
        "resub_started",
        "scope",
        "url",
    )

    def __init__(self, engine: Engine, conn: Connection, url: str, now: float, *, is_reconnect: bool) -> None:
        self.engine = engine
        self.conn = conn
        self.url = url
        self.connected_at = now
        self.last_frame = now
        self.is_reconnect = is_reconnect
        self.scope = trio.CancelScope()
        # Unbounded on purpose: puts come from synchronous code (the reader must not block);
        # a socket that stops taking writes is found dead by the pinger within its timeout.
        self.outbox_send, self.outbox_recv = trio.open_memory_channel[str | bytes](math.inf)
        self.ending: Ending | None = None
        cfg = engine.config
        auth_deadline = engine.protocol.heartbeat.auth_deadline
        wait = cfg.request_timeout if auth_deadline is None else min(auth_deadline, cfg.request_timeout)
        self.auth_deadline = now + wait
        self.resub_started: float | None = None
        self.resub_done_at: float | None = None
        self.resub_pending: set[str] = set()
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
        self.scope.cancel()
        self.outbox_send.close()

    def end_dead(self, reason: str) -> None:
        """End a connection found dead (no pong, silence): no graceful close, then retry."""
        self.end(Ending(None, reason, CloseVerdict.RETRY, graceful=False, connected_at=self.connected_at))

    def send(self, frame: str | bytes) -> None:
        """Queue a frame for the writer; dropped once the session is ending (see the caller)."""
        if self.ending is None:
            self.outbox_send.send_nowait(frame)

    def start(self, nursery: trio.Nursery) -> None:
        """Start the writer, pinger and ticker in the connection's nursery.

        A replay's engine has no timers (see ``_tap.py``): its recording says when a ping went
        unanswered or the server fell silent, so neither pinger nor ticker runs.
        """
        nursery.start_soon(self.writer)
        tap = self.engine.tap
        if tap is None or tap.timers:
            nursery.start_soon(self.pinger)
            nursery.start_soon(self.ticker)

    # -- tasks ----------------------------------------------------------------------------------

    async def read_loop(self) -> None:
        """Read frames until the connection ends; hand each to the protocol, run its actions."""
        receive_batch = getattr(self.conn, "receive_batch", None)
        if receive_batch is not None:
            await self._read_batches(receive_batch)
            return
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
                    await trio.lowlevel.checkpoint()  # the session's scope is cancelled: leave
                    return  # pragma: no cover - the checkpoint raises Cancelled
            frames = ()  # not kept (nor its last frames) while the next read waits

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
            # start it): the session is ready now, not at the ticker's next poll.
            engine.start_resubscription(self, ())

    async def writer(self) -> None:
        """Write queued frames in order; the only task that writes."""
        try:
            async for frame in self.outbox_recv:
                await self.conn.send(frame)
        except TransportClosed as exc:
            self.transport_closed(exc)

    def transport_closed(self, exc: TransportClosed) -> None:
        """End the session for the close (or drop) the transport reported."""
        verdict = self.engine.protocol.classify_close(exc.code, exc.reason)
        self.end(Ending(exc.code, exc.reason, verdict, connected_at=self.connected_at))

    async def pinger(self) -> None:
        """A WebSocket ping every ``ping_interval``; no pong within ``ping_timeout`` ends the session."""
        hb = self.engine.protocol.heartbeat
        interval, timeout = self.engine.config.pings(hb.ping_interval, hb.ping_timeout)
        while True:
            await trio.sleep(interval)
            try:
                answered = await self.conn.ping(timeout)
            except TransportClosed:
                return  # the reader reports the close with its code
            if not answered:
                self.end_dead(f"no pong within ping_timeout ({timeout:g} s)")
                return

    async def ticker(self) -> None:
        """End the session on heartbeat silence, or when not authenticated in time."""
        engine = self.engine
        protocol = engine.protocol
        cfg = engine.config
        promised = protocol.heartbeat.server_heartbeat
        stale_after = None if promised is None else promised + cfg.stale_grace
        while True:
            now = trio.current_time()
            if stale_after is not None and now - self.last_frame >= stale_after:
                self.end_dead(f"no frame for {stale_after:g} s (server heartbeat {promised:g} s + grace)")
                return
            deadline = self.last_frame + stale_after if stale_after is not None else math.inf
            if self.resub_started is None:
                if protocol.ready:
                    engine.start_resubscription(self, ())
                elif now >= self.auth_deadline:
                    reason = protocol.not_ready_reason(self.auth_deadline - self.connected_at)
                    self.end(Ending(None, reason, CloseVerdict.RETRY, connected_at=self.connected_at))
                    return
                else:
                    deadline = min(deadline, self.auth_deadline)
            await trio.sleep_until(min(deadline, now + cfg.poll_interval))
