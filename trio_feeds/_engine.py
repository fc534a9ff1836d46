"""The one Trio engine that runs every protocol: connect, auth, heartbeat, reconnect, buffer.

A protocol object (see :mod:`trio_feeds._protocol`) knows its wire format; this module owns
the socket, the tasks and the clock. The task tree, all of it structured:

``open_protocol_feed`` (its own nursery) or the caller's nursery (``connect_feed``)
  └─ ``Feed._run``: the reconnect loop, inside ``Feed._run_scope``
       └─ one nursery per connection (``Feed._connect_once``), holding
            ├─ the transport's reader, if it has one (trio-websocket's; the default fast
            │  transport parses inside the reader loop below and has no task of its own)
            ├─ ``_writer``: the only task that writes frames; drains the session's outbox
            ├─ ``_pinger``: WebSocket ping every ``ping_interval``, pong within ``ping_timeout``
            ├─ ``_ticker``: ``protocol.poll``, heartbeat-silence, auth and re-subscribe deadlines
            └─ the nursery's own body: the reader loop (frame → protocol → actions)

Design points:

* The reader never awaits the consumer. Actions are executed synchronously: ``Deliver`` goes
  into one bounded buffer with the overflow policy, ``Send`` into the session's outbox. So
  heartbeat replies go out however slow the consumer is, and trio-websocket's own queue (whose
  reader stops, pings unanswered, when full) never fills. The consumer side lets the other
  tasks run at least every millisecond while a backlog waits.
* One writer per connection: frames are written in the order actions produced them, and a user
  task cancelled in ``subscribe`` can never leave half a frame on the socket.
* Liveness: an unanswered WebSocket ping, or silence beyond the protocol's promised heartbeat
  plus ``stale_grace``, ends the connection. A quiet channel whose pings are answered is alive.
* Every connection close is bounded (``close_timeout``) and shielded from cancellation, and the
  socket is closed regardless, so cancellation leaves no task or socket behind.
* Errors propagate: out of ``open_protocol_feed`` (unwrapped from the nursery's exception
  group when there is just one) and out of iteration.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import attrs
import trio

from . import events as ev
from ._protocol import (
    Action,
    AuthFailed,
    BadFrame,
    CloseVerdict,
    ConnectTarget,
    Deliver,
    FeedProtocol,
    ProtocolClose,
    RequestDone,
    Send,
)
from ._protocol import Authenticated as AuthenticatedAction
from ._transport import (
    ConnectFailed,
    Connection,
    HandshakeRejected,
    Transport,
    TransportClosed,
    redact_url,
)
from ._transport_fast import FastTransport
from .config import FeedConfig
from .errors import (
    AuthenticationError,
    DecodeError,
    FeedClosed,
    FeedError,
    RequestTimeout,
    SlowConsumer,
    SubscriptionError,
)

__all__ = ["Feed", "FeedStats", "RequestTimeout", "connect_feed", "open_protocol_feed"]

logger = logging.getLogger("trio_feeds")

# A frame may be up to this many times max_frame_size before the WebSocket layer refuses to
# buffer it (and closes with 1009); between the two it is read and reported as a bad frame.
_TRANSPORT_SIZE_FACTOR = 4


@attrs.define
class FeedStats:
    """Counters of one feed, updated as it runs.

    Attributes:
        frames: frames received, all connections together.
        messages: items handed to the buffer (decoded messages and ``UnknownMessage``).
        reconnects: reconnect attempts started (one per ``Reconnecting`` event).
        decode_errors: frames that could not be decoded, oversized ones included.
        dropped: messages dropped by ``overflow="drop_oldest"``.
    """

    frames: int = 0
    messages: int = 0
    reconnects: int = 0
    decode_errors: int = 0
    dropped: int = 0


# Session events are never dropped and do not count against buffer_size. (Overflow is made
# up at delivery time; DecodeFailed stands in for a message and is dropped like one.)
_EVENT_TYPES: frozenset[type] = frozenset(
    {ev.Connected, ev.Authenticated, ev.Subscribed, ev.Disconnected, ev.Reconnecting, ev.Resubscribed, ev.Gap}
)


# get() hands out items without a scheduler round for at most this long (seconds, wall time).
_YIELD_INTERVAL = 0.001
_perf_counter = time.perf_counter


class _Buffer:
    """The one bounded buffer between the reader and the consumer. ``put`` never blocks."""

    __slots__ = (
        "_closed",
        "_data",
        "_dropped",
        "_error",
        "_fail",
        "_items",
        "_last_yield",
        "_size",
        "_stats",
        "_wakeup",
    )

    def __init__(self, size: int, *, fail: bool, stats: FeedStats) -> None:
        self._items: deque[Any] = deque()
        self._data = 0  # messages in _items (events excluded)
        self._size = size
        self._fail = fail
        self._stats = stats
        self._dropped = 0  # dropped since the last Overflow was handed out
        self._wakeup: trio.Event | None = None
        self._closed = False
        self._error: BaseException | None = None
        self._last_yield = 0.0  # perf_counter() when get() last let other tasks run

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Any) -> None:
        """Add a message; apply the overflow policy when ``buffer_size`` messages wait."""
        if self._closed:
            return  # the feed ended; nobody reads any more
        if self._data >= self._size:
            if self._fail:
                raise SlowConsumer(f"the consumer fell {self._size} messages behind (overflow='fail')")
            self._drop_oldest()
        self._items.append(item)
        self._data += 1
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            wakeup.set()

    def put_event(self, event: Any) -> None:
        """Add a session event: never dropped, not counted against the bound."""
        if self._closed:
            return
        self._items.append(event)
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            wakeup.set()

    def _drop_oldest(self) -> None:
        items = self._items
        if type(items[0]) not in _EVENT_TYPES:
            items.popleft()
        else:  # skip the (few) events at the head: they are never dropped
            for i, item in enumerate(items):
                if type(item) not in _EVENT_TYPES:
                    del items[i]
                    break
        self._data -= 1
        self._dropped += 1
        self._stats.dropped += 1

    def close(self, error: BaseException | None, *, discard: bool) -> None:
        """Stop accepting items.

        Waiting items are still handed out unless ``discard``; then ``error`` is raised (or
        iteration stops when it is ``None``).
        """
        if self._closed:
            return
        self._closed = True
        self._error = error
        if discard:
            self._items.clear()
            self._data = 0
            self._dropped = 0
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None

    async def get(self) -> Any:
        await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            items = self._items
            if items:
                item = items[0]
                is_message = type(item) not in _EVENT_TYPES
                if is_message and self._dropped:
                    # Overflow goes right before the next message, carrying the count so far.
                    out: Any = ev.Overflow(self._dropped)
                    self._dropped = 0
                else:
                    items.popleft()
                    out = item
                    if is_message:
                        self._data -= 1
                # Let the reader, pinger and writer run while a backlog waits, so heartbeats
                # are answered meanwhile: at least every _YIELD_INTERVAL, not after every item.
                # A scheduler round per item (~15 us) would cap a fast transport, whose reader
                # parses a whole socket read (hundreds of frames) per turn, far below its speed.
                now = _perf_counter()
                if now - self._last_yield >= _YIELD_INTERVAL:
                    await trio.lowlevel.cancel_shielded_checkpoint()
                    self._last_yield = _perf_counter()
                return out
            if self._closed:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            if self._wakeup is None:
                self._wakeup = trio.Event()
            await self._wakeup.wait()
            self._last_yield = _perf_counter()


@attrs.frozen
class _Ending:
    """Why a connection (or a connection attempt) ended, and what to do about it."""

    code: int | None
    reason: str
    verdict: CloseVerdict
    close_code: int = 1000  # what we send in our Close frame
    graceful: bool = True  # False: the peer is unresponsive, do not wait for its Close reply
    connected_at: float | None = None  # None: the attempt never connected
    deliberate: bool = False  # asked for by a user call (e.g. new streams in the URL): no failure


class _Session:
    """State of one live connection."""

    __slots__ = (
        "conn",
        "connected_at",
        "ending",
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

    def __init__(self, conn: Connection, url: str, now: float, *, is_reconnect: bool) -> None:
        self.conn = conn
        self.url = url
        self.connected_at = now
        self.last_frame = now
        self.is_reconnect = is_reconnect
        self.scope = trio.CancelScope()
        # Unbounded on purpose: puts come from synchronous code (the reader must not block);
        # a socket that stops taking writes is found dead by the pinger within its timeout.
        self.outbox_send, self.outbox_recv = trio.open_memory_channel[str](math.inf)
        self.ending: _Ending | None = None
        self.resub_started: float | None = None
        self.resub_done_at: float | None = None
        self.resub_pending: set[str] = set()
        self.resub_count = 0
        self.resub_errors: list[str] = []

    def end(self, ending: _Ending) -> None:
        """End this connection (the first reason wins) and stop reading and writing."""
        if self.ending is None:
            self.ending = ending
        self.scope.cancel()
        self.outbox_send.close()


class _Waiter:
    __slots__ = ("done", "error", "event", "kind")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.done = False
        self.error: str | None = None
        self.event = trio.Event()


class Feed:
    """A running exchange feed: iterate it for messages and session events.

    Create one with :func:`open_protocol_feed` (or :func:`connect_feed`); the protocol-specific
    helpers in each protocol module call these.

    Iteration yields, in arrival order: decoded messages (generated models or
    :class:`~trio_feeds.UnknownMessage`) and the session events of :mod:`trio_feeds.events`.
    Iteration ends when the feed is closed with :meth:`aclose`, and raises the error that ended
    the feed otherwise (:class:`~trio_feeds.AuthenticationError`, :class:`~trio_feeds.FeedClosed`,
    :class:`~trio_feeds.SlowConsumer`, ...).
    """

    def __init__(
        self, protocol: FeedProtocol, config: FeedConfig | None = None, *, transport: Transport | None = None
    ) -> None:
        self._protocol = protocol
        self._config = config if config is not None else FeedConfig()
        # The fast transport passes the whole fault matrix (tests/test_feeds.py runs it on both)
        # and delivers several times more messages per second; trio-websocket stays available.
        self._transport: Transport = transport if transport is not None else FastTransport()
        self._stats = FeedStats()
        self._buffer = _Buffer(
            self._config.buffer_size, fail=self._config.overflow == "fail", stats=self._stats
        )
        self._session: _Session | None = None
        self._connections = 0
        self._gap_since: float | None = None
        self._waiters: dict[str, _Waiter] = {}
        self._run_scope = trio.CancelScope()
        self._started = False
        self._done = trio.Event()
        self._closed = False  # closed by the user
        self._end_error: BaseException | None = None  # why the feed ended, if not by aclose
        self._abort_error: BaseException | None = None  # a fatal error found outside _run
        self._in_user_call = False  # _execute runs actions returned to subscribe/unsubscribe

    def __repr__(self) -> str:
        state = "closed" if self._done.is_set() else "connected" if self.connected else "connecting"
        return f"<Feed protocol={self._protocol.name!r} {state}>"

    # -- public API --------------------------------------------------------------------------

    @property
    def protocol(self) -> FeedProtocol:
        """The sans-IO protocol object this feed drives."""
        return self._protocol

    @property
    def config(self) -> FeedConfig:
        """Configuration of this feed."""
        return self._config

    @property
    def transport(self) -> Transport:
        """The transport this feed opens its WebSockets with."""
        return self._transport

    @property
    def stats(self) -> FeedStats:
        """Live counters (messages, reconnects, decode errors, drops)."""
        return self._stats

    @property
    def connected(self) -> bool:
        """True while a connection is open and has not begun to close."""
        return self._session is not None and self._session.ending is None

    async def subscribe(self, *args: Any, **kwargs: Any) -> None:
        """Subscribe (arguments as the protocol's ``subscribe``) and wait for the answer.

        The protocol records the wish first, so it holds across reconnects. When the request
        has an answer to wait for, this returns once the server acknowledged it, on this
        connection or, if the connection drops meanwhile, on a later one (the protocol re-sends
        it). While disconnected, the request goes out with the next connection.

        Raises:
            SubscriptionError: the server refused it.
            RequestTimeout: no answer within ``request_timeout`` (the wish is kept).
            FeedClosed: the feed has ended.
        """
        await self._request("subscribe", args, kwargs)

    async def unsubscribe(self, *args: Any, **kwargs: Any) -> None:
        """Unsubscribe (arguments as the protocol's ``unsubscribe``) and wait for the answer.

        The protocol forgets the wish at once, so no later connection re-subscribes it.

        Raises:
            SubscriptionError: the server refused it.
            RequestTimeout: no answer within ``request_timeout``.
            FeedClosed: the feed has ended.
        """
        await self._request("unsubscribe", args, kwargs)

    def __aiter__(self) -> Feed:
        return self

    async def __anext__(self) -> Any:
        """Return the next message or session event (waits for one)."""
        return await self._buffer.get()

    async def aclose(self) -> None:
        """Close the feed: stop the engine, close the connection, end iteration.

        Waiting items are discarded. Returns once the connection is closed (bounded by
        ``close_timeout``). Idempotent.
        """
        self._stop()
        if self._started:
            await self._done.wait()

    # -- requests ------------------------------------------------------------------------------

    async def _request(self, kind: Literal["subscribe", "unsubscribe"], args: Any, kwargs: Any) -> None:
        await trio.lowlevel.checkpoint_if_cancelled()
        self._raise_if_ended()
        timeout = self._config.request_timeout
        try:
            with trio.fail_after(timeout):
                method = self._protocol.subscribe if kind == "subscribe" else self._protocol.unsubscribe
                request_id, actions = method(trio.current_time(), *args, **kwargs)
                waiter: _Waiter | None = None
                if request_id is not None:
                    # Registered before the actions run: they may already hold its RequestDone.
                    waiter = self._waiters[request_id] = _Waiter(kind)
                try:
                    self._execute_outside_engine(actions)
                    if waiter is None:
                        await trio.lowlevel.cancel_shielded_checkpoint()
                        return
                    # Across reconnects the protocol keeps the request and answers it on a later
                    # connection, so waiting for the id alone is right; the feed ending or the
                    # deadline ends the wait too.
                    await waiter.event.wait()
                    if not waiter.done:
                        # The feed ended. If that cancels us (open_protocol_feed's block), the
                        # engine's error is the one to see: let the cancellation in first.
                        await trio.lowlevel.checkpoint()
                        self._raise_if_ended()
                    if waiter.error is not None:
                        raise SubscriptionError(f"{self._protocol.name} {kind} refused: {waiter.error}")
                finally:
                    if request_id is not None:
                        self._waiters.pop(request_id, None)
        except trio.TooSlowError:
            raise RequestTimeout(
                f"{self._protocol.name} {kind} not answered within request_timeout ({timeout:g} s)"
            ) from None

    def _raise_if_ended(self) -> None:
        if self._closed:
            raise FeedClosed("the feed was closed")
        if self._done.is_set():
            raise FeedClosed(f"the feed has ended: {self._end_error!r}") from self._end_error

    def _execute_outside_engine(self, actions: Sequence[Action]) -> None:
        """Run actions returned to a user call (subscribe/unsubscribe)."""
        self._in_user_call = True
        try:
            self._execute(actions, self._session)
        except FeedError as exc:
            # Whatever ends the feed must end it even when found in a user's task: hand it to
            # the engine (which raises it out of the feed) and raise it here too.
            self._abort_error = exc
            self._run_scope.cancel()
            raise
        finally:
            self._in_user_call = False

    # -- actions -------------------------------------------------------------------------------

    def _execute(self, actions: Sequence[Action], sess: _Session | None) -> None:
        """Carry out a protocol's actions in order. Synchronous: it never waits for anyone."""
        for action in actions:
            if isinstance(action, Deliver):  # the hot path first
                self._buffer.put(action.item)
                self._stats.messages += 1
            elif isinstance(action, Send):
                if sess is not None and sess.ending is None:
                    sess.outbox_send.send_nowait(action.text)
                # else: no live connection. Dropping is right: the protocol re-sends what it
                # remembers from connection_made / Authenticated.then on the next one.
            elif isinstance(action, RequestDone):
                self._request_done(action, sess)
            elif isinstance(action, AuthenticatedAction):
                logger.info("%s: authenticated", self._protocol.name)
                self._buffer.put_event(ev.Authenticated())
                self._execute(action.then, sess)
                if sess is not None:
                    self._start_resubscription(sess, action.then)
            elif isinstance(action, AuthFailed):
                raise AuthenticationError(f"{self._protocol.name}: authentication failed: {action.reason}")
            elif isinstance(action, BadFrame):
                self._bad_frame(action.error)
            elif isinstance(action, ProtocolClose):
                if sess is not None:
                    logger.info(
                        "%s: protocol closes the connection: code %s, %s",
                        self._protocol.name,
                        action.code,
                        action.reason,
                    )
                    sess.end(
                        _Ending(
                            action.code,
                            action.reason,
                            action.verdict,
                            close_code=action.code,
                            connected_at=sess.connected_at,
                            deliberate=self._in_user_call,
                        )
                    )
            else:
                raise TypeError(f"unknown protocol action: {type(action).__name__}")

    def _bad_frame(self, error: DecodeError) -> None:
        self._stats.decode_errors += 1
        if self._config.bad_frames == "raise":
            raise error
        logger.debug("%s: bad frame: %s", self._protocol.name, error)
        self._buffer.put(ev.DecodeFailed(error))

    def _request_done(self, action: RequestDone, sess: _Session | None) -> None:
        waiter = self._waiters.get(action.request_id)
        if waiter is not None and not waiter.done:
            waiter.done = True
            waiter.error = action.error
            waiter.event.set()
            if waiter.kind == "subscribe" and action.error is None:
                self._buffer.put_event(ev.Subscribed(action.request_id))
        if sess is not None and action.request_id in sess.resub_pending:
            sess.resub_pending.discard(action.request_id)
            if action.error is not None:
                sess.resub_errors.append(action.error)
            if not sess.resub_pending:
                self._resubscription_done(sess)

    def _start_resubscription(self, sess: _Session, actions: Sequence[Action]) -> None:
        """Note that the connection is ready and ``actions`` re-sent the remembered subscriptions."""
        if sess.resub_started is not None:
            return
        sess.resub_started = trio.current_time()
        frames = [a for a in actions if isinstance(a, Send)]
        sess.resub_count = len(frames)
        sess.resub_pending = {f.request_id for f in frames if f.request_id is not None}
        if not sess.resub_pending:
            self._resubscription_done(sess)

    def _resubscription_done(self, sess: _Session) -> None:
        now = trio.current_time()
        sess.resub_done_at = now
        if sess.is_reconnect:
            errors = tuple(sess.resub_errors)
            logger.info(
                "%s: resubscribed (%d requests, %d errors)",
                self._protocol.name,
                sess.resub_count,
                len(errors),
            )
            self._buffer.put_event(ev.Resubscribed(sess.resub_count, errors))
            if self._gap_since is not None:
                self._buffer.put_event(ev.Gap(self._gap_since, now))

    # -- the engine ----------------------------------------------------------------------------

    def _stop(self) -> None:
        self._closed = True
        self._run_scope.cancel()
        self._buffer.close(None, discard=True)
        for waiter in self._waiters.values():
            waiter.event.set()

    async def _run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the reconnect loop until the feed is closed or fails; raise what failed it."""
        if self._started:
            raise RuntimeError("a Feed can only be run once")
        self._started = True
        error: BaseException | None = None
        try:
            with self._run_scope:
                task_status.started()
                await self._reconnect_loop()
            self._raise_abort_error()
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._finish(error)

    def _raise_abort_error(self) -> None:
        # A fatal error found in a user's task (see _execute_outside_engine) cancelled the run
        # scope; it is raised here so it ends the feed like any engine error.
        if self._abort_error is not None:
            raise self._abort_error

    def _finish(self, error: BaseException | None) -> None:
        end_error: BaseException | None
        if error is None or _only_cancelled(error):
            end_error = None if self._closed else FeedClosed("the feed's task was cancelled")
        else:
            end_error = _single_error(error) or error
            logger.error("%s: feed ended: %r", self._protocol.name, end_error)
        self._end_error = end_error
        self._buffer.close(end_error, discard=self._closed)
        for waiter in self._waiters.values():
            waiter.event.set()
        self._done.set()

    async def _reconnect_loop(self) -> None:
        cfg = self._config
        name = self._protocol.name
        attempt = 0  # reconnect attempts since the last healthy connection
        while True:
            ending = await self._connect_once(self._protocol.connect_target())
            now = trio.current_time()
            if ending.connected_at is not None:
                self._buffer.put_event(ev.Disconnected(ending.code, ending.reason))
                if ending.deliberate or now - ending.connected_at >= cfg.healthy_after:
                    attempt = 0
            if ending.verdict is CloseVerdict.FATAL:
                raise FeedClosed(
                    f"{name}: connection closed with code {ending.code} ({ending.reason}); not retrying"
                )
            attempt += 1
            if cfg.max_attempts is not None and attempt > cfg.max_attempts:
                raise FeedClosed(
                    f"{name}: gave up after {cfg.max_attempts} reconnect attempts; last: {ending.reason}"
                )
            delay = cfg.rng.uniform(0.0, cfg.backoff_ceiling(attempt))
            if ending.verdict is CloseVerdict.RETRY_SLOW:
                delay += cfg.rate_limit_backoff
            self._stats.reconnects += 1
            logger.warning(
                "%s: disconnected (code %s: %s); reconnect attempt %d in %.3f s",
                name,
                ending.code,
                ending.reason,
                attempt,
                delay,
            )
            self._buffer.put_event(ev.Reconnecting(attempt, delay, ending.reason))
            await trio.sleep(delay)

    async def _connect_once(self, target: ConnectTarget) -> _Ending:
        """One connection attempt, and the whole life of the connection if it opens."""
        cfg = self._config
        async with trio.open_nursery() as nursery:
            try:
                try:
                    conn = await self._transport.connect(
                        nursery,
                        target,
                        connect_timeout=cfg.connect_timeout,
                        max_message_size=_TRANSPORT_SIZE_FACTOR * cfg.max_frame_size,
                    )
                except HandshakeRejected as exc:
                    if exc.status_code in (401, 403):
                        # The credentials in the handshake were refused: retrying cannot help.
                        raise AuthenticationError(
                            f"{self._protocol.name}: handshake rejected with HTTP {exc.status_code}"
                        ) from None
                    slow = exc.status_code == 429
                    return _Ending(None, str(exc), CloseVerdict.RETRY_SLOW if slow else CloseVerdict.RETRY)
                except ConnectFailed as exc:
                    return _Ending(None, str(exc), CloseVerdict.RETRY)
                return await self._run_session(nursery, conn, target)
            finally:
                nursery.cancel_scope.cancel()

    async def _run_session(self, nursery: trio.Nursery, conn: Connection, target: ConnectTarget) -> _Ending:
        protocol = self._protocol
        now = trio.current_time()
        sess = _Session(conn, redact_url(target.url), now, is_reconnect=self._connections > 0)
        try:
            # Everything after connect() is inside this try: the finally must close the
            # connection (the transport's reader is shielded until then).
            self._connections += 1
            self._session = sess
            logger.info("%s: connected to %s", protocol.name, sess.url)
            self._buffer.put_event(ev.Connected(sess.url))
            nursery.start_soon(self._writer, sess)
            nursery.start_soon(self._pinger, sess)
            nursery.start_soon(self._ticker, sess)
            with sess.scope:
                actions = protocol.connection_made(now)
                self._execute(actions, sess)
                if sess.resub_started is None and protocol.ready:
                    self._start_resubscription(sess, actions)
                await self._read_loop(sess)
        finally:
            self._session = None
            sess.outbox_send.close()
            protocol.connection_lost()
            if sess.resub_done_at is not None:
                # Data flowed on this connection: a gap starts at its last sign of data.
                self._gap_since = max(sess.last_frame, sess.resub_done_at)
            ending = sess.ending
            close_code = 1000 if ending is None else ending.close_code
            graceful = ending is None or ending.graceful
            with trio.CancelScope(shield=True):
                await conn.aclose(close_code, grace=self._config.close_timeout if graceful else 0.0)
        if sess.ending is None:  # pragma: no cover - the read loop only returns after end()
            raise RuntimeError("connection ended without a reason")
        return sess.ending

    async def _read_loop(self, sess: _Session) -> None:
        # Locals: this loop runs once per frame.
        receive = sess.conn.receive
        receive_frame = self._protocol.receive_frame
        execute = self._execute
        stats = self._stats
        max_size = self._config.max_frame_size
        current_time = trio.current_time
        while True:
            try:
                frame = await receive()
            except TransportClosed as exc:
                self._transport_closed(sess, exc)
                return
            now = current_time()
            sess.last_frame = now
            stats.frames += 1
            size = len(frame)
            # A str's UTF-8 size is at least its length and at most 4x: encode only near the limit.
            if size * 4 > max_size and type(frame) is str and size <= max_size:
                size = len(frame.encode())
            if size > max_size:
                self._bad_frame(
                    DecodeError(
                        self._protocol.name, f"frame of {size} bytes exceeds max_frame_size ({max_size})"
                    )
                )
                continue
            actions = receive_frame(frame, now)
            if actions:
                execute(actions, sess)

    async def _writer(self, sess: _Session) -> None:
        try:
            async for text in sess.outbox_recv:
                await sess.conn.send(text)
        except TransportClosed as exc:
            self._transport_closed(sess, exc)

    def _transport_closed(self, sess: _Session, exc: TransportClosed) -> None:
        """End the session for the close (or drop) the transport reported."""
        verdict = self._protocol.classify_close(exc.code, exc.reason)
        sess.end(_Ending(exc.code, exc.reason, verdict, connected_at=sess.connected_at))

    async def _pinger(self, sess: _Session) -> None:
        cfg = self._config
        while True:
            await trio.sleep(cfg.ping_interval)
            try:
                answered = await sess.conn.ping(cfg.ping_timeout)
            except TransportClosed:
                return  # the reader reports the close with its code
            if not answered:
                reason = f"no pong within ping_timeout ({cfg.ping_timeout:g} s)"
                sess.end(
                    _Ending(None, reason, CloseVerdict.RETRY, graceful=False, connected_at=sess.connected_at)
                )
                return

    async def _ticker(self, sess: _Session) -> None:
        cfg = self._config
        protocol = self._protocol
        promised = protocol.heartbeat.server_heartbeat
        stale_after = None if promised is None else promised + cfg.stale_grace
        while True:
            now = trio.current_time()
            actions = protocol.poll(now)
            if actions:
                self._execute(actions, sess)
            if sess.ending is not None:
                return
            if stale_after is not None and now - sess.last_frame >= stale_after:
                reason = f"no frame for {stale_after:g} s (server heartbeat {promised:g} s + grace)"
                sess.end(
                    _Ending(None, reason, CloseVerdict.RETRY, graceful=False, connected_at=sess.connected_at)
                )
                return
            if sess.resub_started is None:
                if protocol.ready:
                    self._start_resubscription(sess, ())
                elif now - sess.connected_at >= cfg.request_timeout:
                    reason = f"not authenticated within request_timeout ({cfg.request_timeout:g} s)"
                    sess.end(_Ending(None, reason, CloseVerdict.RETRY, connected_at=sess.connected_at))
                    return
            elif sess.resub_done_at is None and now - sess.resub_started >= cfg.request_timeout:
                sess.resub_errors += [
                    f"{rid}: not answered within request_timeout" for rid in sess.resub_pending
                ]
                sess.resub_pending.clear()
                self._resubscription_done(sess)
            delay = cfg.poll_interval
            if stale_after is not None:
                delay = min(delay, max(0.0, sess.last_frame + stale_after - now))
            await trio.sleep(delay)


def _leaves(error: BaseException) -> list[BaseException]:
    """Return the distinct non-group exceptions inside ``error``."""
    found: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for sub in exc.exceptions:
                walk(sub)
        elif not any(exc is seen for seen in found):
            found.append(exc)

    walk(error)
    return found


def _only_cancelled(error: BaseException) -> bool:
    return all(isinstance(e, trio.Cancelled) for e in _leaves(error))


def _single_error(error: BaseException) -> BaseException | None:
    """Return the one real exception in ``error`` (cancellations aside), or None if several."""
    leaves = _leaves(error)
    real = [e for e in leaves if not isinstance(e, trio.Cancelled)]
    if len(real) == 1:
        return real[0]
    if not real and leaves:
        return leaves[0]
    return None


async def connect_feed(
    nursery: trio.Nursery,
    protocol: FeedProtocol,
    config: FeedConfig | None = None,
    *,
    transport: Transport | None = None,
) -> Feed:
    """Start a feed whose engine runs in ``nursery``; the caller must :meth:`Feed.aclose` it.

    Like ``trio_websocket.connect_websocket``: for an application that already has a nursery
    and wants the feed to outlive one block. Errors that end the feed are raised into
    ``nursery`` and out of iteration. Returns at once; the first connection is made in the
    background (watch for :class:`~trio_feeds.events.Connected`).
    """
    feed = Feed(protocol, config, transport=transport)
    await nursery.start(feed._run)
    return feed


@asynccontextmanager
async def open_protocol_feed(
    protocol: FeedProtocol,
    config: FeedConfig | None = None,
    *,
    transport: Transport | None = None,
) -> AsyncIterator[Feed]:
    """Run a feed for the duration of an ``async with`` block.

    The feed owns a nursery for its engine. Leaving the block closes the connection and ends
    every task. An error that ends the feed (``AuthenticationError``, ``FeedClosed`` for a
    fatal close, ``SlowConsumer``, ...) cancels the block and is raised out of it as itself,
    not wrapped in an exception group (a group is raised only when several errors happened).

    Args:
        protocol: the sans-IO protocol object (one per feed).
        config: timeouts, backoff and buffer policy (default ``FeedConfig()``).
        transport: how to open WebSockets (default: the fast transport on websockets' sans-IO
            protocol; ``trio_feeds.transports.TrioWebsocketTransport()`` for trio-websocket).
    """
    feed = Feed(protocol, config, transport=transport)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(feed._run)
            try:
                yield feed
            finally:
                feed._stop()
    except BaseExceptionGroup as group:
        single = _single_error(group)
        if single is None:
            raise
        context = single.__context__
        try:
            raise single  # the group was only a wrapper; the original chain is restored below
        finally:
            single.__context__ = context
            del single, context, group
