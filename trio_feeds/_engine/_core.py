"""The one Trio engine that runs every protocol: connect, auth, heartbeat, reconnect, buffer.

A protocol object (see :mod:`trio_feeds._sansio._protocol`) knows its wire format; the engine
owns the socket, the tasks and the clock. The task tree, all of it structured:

``run_feed`` (its own nursery) or the caller's nursery (``start_feed``)
  └─ ``Engine.run``: a nursery holding
       ├─ the clock (``Engine.clock``): every deadline of the feed, in one task: one per
       │  awaited request id, and the live connection's (silence, authentication, next ping)
       └─ the reconnect loop (the nursery's body); per connection (``Engine.connect_once``)
          one nursery, which is also the session's cancel scope, holding
            ├─ the transport's reader, if it has one (trio-websocket's; the default fast
            │  transport parses inside the reader loop and has no task of its own)
            ├─ ``Session.writer`` while frames wait, ``Session.ping`` while a ping is out
            └─ the nursery's own body: ``Session.read_loop`` (frame → protocol → actions)

An idle feed on the fast transport thus runs two tasks: its reader and its clock. Each task
that sleeps costs frames, cancel scopes and Trio's bookkeeping, a few KiB; with thousands of
feeds in one process that is most of their memory.

Design points:

* The reader never awaits the consumer. Actions are executed synchronously (:meth:`Engine.execute`):
  ``Deliver`` goes into one bounded buffer with the overflow policy, ``Send`` into the
  session's outbox. So heartbeat replies go out however slow the consumer is.
* One writer per connection: frames are written in the order actions produced them, and a user
  task cancelled in ``subscribe`` can never leave half a frame on the socket.
* Liveness: an unanswered WebSocket ping, or silence beyond the protocol's promised heartbeat
  plus ``stale_grace``, ends the connection. A quiet channel whose pings are answered is alive.
* Every connection close is bounded (``close_timeout``) and shielded from cancellation, and the
  socket is closed regardless, so cancellation leaves no task or socket behind.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import attrs
import trio

from .. import events as ev
from .._sansio._protocol import (
    Action,
    AuthAccepted,
    AuthFailed,
    BadFrame,
    CloseVerdict,
    ConnectTarget,
    Deliver,
    FeedProtocol,
    Notify,
    ProtocolClose,
    RequestDone,
    Send,
)
from .._transports import ConnectFailed, HandshakeRejected, Transport, redact_url
from ..config import FeedConfig
from ..errors import AuthenticationError, DecodeError, FeedClosed
from ..state import Account
from ._buffer import Buffer, FeedStats
from ._requests import Alarm, Waiters
from ._session import NO_REQUESTS, TRANSPORT_SIZE_FACTOR, Ending, Session
from ._tap import Tap

__all__ = ["Engine"]

logger = logging.getLogger("trio_feeds")


class Engine:
    """Everything one feed shares across its connections, and the reconnect loop."""

    def __init__(
        self, protocol: FeedProtocol, config: FeedConfig, transport: Transport, tap: Tap | None = None
    ) -> None:
        self.protocol = protocol
        self.config = config
        self.tap = tap  # a recorder or a replay (see _tap.py); None: no hook runs
        self.transport = transport if tap is None else tap.transport(transport)
        self.stats = FeedStats()
        self.buffer = Buffer(
            config.buffer_size,
            fail=config.overflow == "fail",
            stats=self.stats,
            on_event=None if tap is None else tap.event,
        )
        self.alarm = Alarm()  # wakes the clock when a deadline changes
        self.waiters = Waiters(self.alarm.ring)
        self.session: Session | None = None
        self.connections = 0
        self.gap_since: float | None = None
        self.last_failure: str | None = None  # why the last connection (attempt) ended
        # Orders, balances and positions, for a protocol whose messages carry them.
        self.account: Account | None = Account() if protocol.keeps_account else None
        self.in_user_call = False  # execute() runs actions returned to subscribe/unsubscribe
        # run()'s nursery scope, so cancel() needs no scope of its own (one less per feed).
        self._scope: trio.CancelScope | None = None
        self._cancelled = False

    def cancel(self) -> None:
        """Stop :meth:`run` (it returns), or make it return at once if it has not started yet."""
        self._cancelled = True
        if self._scope is not None:
            self._scope.cancel()

    async def run(self) -> None:
        """Run the clock and the reconnect loop until :meth:`cancel` (then return) or a fatal error.

        A replay's engine has no clock (see ``_tap.py``): its recording says when requests
        expired, pings went unanswered or the server fell silent.
        """
        async with trio.open_nursery() as nursery:
            self._scope = nursery.cancel_scope
            if self._cancelled:
                nursery.cancel_scope.cancel()
            if self.tap is None or self.tap.timers:
                nursery.start_soon(self.clock)
            # The reconnect loop: connect, run the connection, back off, reconnect; raise what
            # ends the feed. Here, not in a coroutine of its own, as the session is in
            # connect_once's: while a connection lives, only run() and connect_once() are on
            # the reader's stack (each coroutine there is 0.3 KiB per feed).
            attempt = 0  # reconnect attempts since the last healthy connection
            while True:
                ending = await self.connect_once(self.protocol.connect_target())
                attempt = await self.back_off(ending, attempt)

    async def clock(self) -> None:
        """Act on each deadline as it passes (forever): request answers, and the live session's.

        Woken early (:attr:`alarm`) when a deadline is added: a request, a connection, a pong.
        """
        waiters = self.waiters
        while True:
            now = trio.current_time()
            deadline = waiters.expire_due(now, self.expire_request)
            sess = self.session
            if sess is not None and sess.live:
                deadline = min(deadline, sess.tick(now))
            await self.alarm.sleep_until(deadline)

    # -- actions -------------------------------------------------------------------------------

    def execute(self, actions: Sequence[Action], sess: Session | None) -> None:
        """Carry out a protocol's actions in order. Synchronous: it never waits for anyone."""
        for action in actions:
            if isinstance(action, Deliver):  # the hot path first
                item = action.item
                self.buffer.put(item)
                self.stats.messages += 1
                account = self.account
                if account is not None and self.protocol.account_message(item):
                    for update in self.protocol.normalize(item, datetime.now(UTC)):
                        account.apply(update)
            elif isinstance(action, Notify):
                self.buffer.put_event(action.event)
            elif isinstance(action, Send):
                # Without a live connection the frame is dropped, rightly: the protocol re-sends
                # what it remembers from connection_made / AuthAccepted.then on the next one.
                if sess is not None:
                    sess.send(action.text)
            elif isinstance(action, RequestDone):
                self.request_done(action.request_id, action.error, sess)
            elif isinstance(action, AuthAccepted):
                logger.info("%s: authenticated", self.protocol.name)
                self.buffer.put_event(ev.Authenticated())
                self.execute(action.then, sess)
                if sess is not None:
                    self.start_resubscription(sess, action.then)
            elif isinstance(action, AuthFailed):
                raise AuthenticationError(f"{self.protocol.name}: authentication failed: {action.reason}")
            elif isinstance(action, BadFrame):
                self.bad_frame(action.error)
            elif isinstance(action, ProtocolClose):
                if sess is not None:
                    sess.close_for_protocol(action, by_user=self.in_user_call)
            else:
                raise TypeError(f"unknown protocol action: {type(action).__name__}")

    def bad_frame(self, error: DecodeError) -> None:
        """Count a bad frame; report it in-band, or end the feed (``bad_frames="raise"``)."""
        self.stats.decode_errors += 1
        if self.config.bad_frames == "raise":
            raise error
        logger.debug("%s: bad frame: %s", self.protocol.name, error)
        event = ev.DecodeFailed(error)
        if self.tap is not None:
            self.tap.event(event)
        self.buffer.put(event)

    # -- requests ------------------------------------------------------------------------------

    def request_done(self, request_id: str, error: str | None, sess: Session | None) -> None:
        """A request id was answered (or expired): wake its waiter, follow resubscription."""
        waiter = self.waiters.complete(request_id, error)
        if waiter is not None and waiter.kind == "subscribe" and error is None:
            self.buffer.put_event(ev.Subscribed(request_id))
        if sess is not None and request_id in sess.resub_pending:
            sess.resub_pending = sess.resub_pending - {request_id} or NO_REQUESTS
            if error is not None:
                sess.resub_errors.append(error)
            if not sess.resub_pending:
                self.resubscription_done(sess)

    def expire_request(self, request_id: str) -> None:
        """The deadline of ``request_id`` passed: stop waiting, and make the protocol forget it."""
        if self.tap is not None:
            self.tap.expired(request_id)
        self.protocol.forget_request(request_id)
        self.waiters.complete(request_id, "timed out", timed_out=True)
        sess = self.session
        if sess is not None and request_id in sess.resub_pending:
            sess.resub_pending = sess.resub_pending - {request_id} or NO_REQUESTS
            sess.resub_errors.append(f"{request_id}: not answered within request_timeout")
            if not sess.resub_pending:
                self.resubscription_done(sess)

    def start_resubscription(self, sess: Session, actions: Sequence[Action]) -> None:
        """Note that the connection is ready and ``actions`` re-sent the remembered subscriptions."""
        if sess.resub_started is not None:
            return
        now = trio.current_time()
        sess.resub_started = now
        frames = [a for a in actions if isinstance(a, Send)]
        sess.resub_count = len(frames)
        ids = frozenset(f.request_id for f in frames if f.request_id is not None)
        sess.resub_pending = ids or NO_REQUESTS
        deadline = now + self.config.request_timeout
        for request_id in sess.resub_pending:
            if request_id not in self.waiters:  # a user's request re-sent keeps its own waiter
                self.waiters.add(request_id, "resubscribe", deadline)
        if not sess.resub_pending:
            self.resubscription_done(sess)

    def resubscription_done(self, sess: Session) -> None:
        """Every re-subscription was answered: ``Resubscribed``, then the ``Gap`` it closes."""
        now = trio.current_time()
        sess.resub_done_at = now
        if sess.is_reconnect:
            errors = tuple(sess.resub_errors)
            logger.info(
                "%s: resubscribed (%d requests, %d errors)", self.protocol.name, sess.resub_count, len(errors)
            )
            self.buffer.put_event(ev.Resubscribed(sess.resub_count, errors))
            if self.gap_since is not None:
                self.stats.gaps += 1
                self.buffer.put_event(ev.Gap(self.gap_since, now))
                if self.account is not None:
                    self.account.gap(self.gap_since, now)
                for tracked in self.protocol.tracked():
                    tracked.gap(self.gap_since, now)

    # -- connections ---------------------------------------------------------------------------

    async def back_off(self, ending: Ending, attempt: int) -> int:
        """Report a connection's end, wait before the next attempt; return the attempt's number.

        ``attempt`` counts reconnect attempts since the last healthy connection. Raises what
        ends the feed: a fatal close, or ``max_attempts`` used up.
        """
        cfg = self.config
        name = self.protocol.name
        self.last_failure = ending.reason
        now = trio.current_time()
        if ending.connected_at is not None:
            self.buffer.put_event(ev.Disconnected(ending.code, ending.reason))
            if self.account is not None:
                self.account.disconnected(now)
            for tracked in self.protocol.tracked():
                tracked.disconnected(now)
            self.execute(ending.after, None)  # e.g. the books are out of sync now
            if ending.deliberate or now - ending.connected_at >= cfg.healthy_after:
                attempt = 0
        if ending.verdict is CloseVerdict.FATAL:
            why = f"connection closed with code {ending.code} ({ending.reason})"
            raise FeedClosed(f"{name}: {why}; not retrying")
        attempt += 1
        delay = cfg.rng.uniform(0.0, cfg.backoff_ceiling(attempt))
        if ending.verdict is CloseVerdict.RETRY_SLOW:
            delay += cfg.rate_limit_backoff
        pause = delay
        if self.tap is not None:
            # A replay takes both from its recording: they depend on how long connections
            # lasted and on the jitter, neither of which it can measure again.
            attempt, delay, pause = await self.tap.reconnect(attempt, delay)
        if cfg.max_attempts is not None and attempt > cfg.max_attempts:
            tries = f"{cfg.max_attempts} reconnect attempt{'' if cfg.max_attempts == 1 else 's'}"
            raise FeedClosed(f"{name}: gave up after {tries}; last: {ending.reason}")
        self.stats.reconnects += 1
        logger.warning(
            "%s: disconnected (code %s: %s); reconnect attempt %d in %.3f s",
            name,
            ending.code,
            ending.reason,
            attempt,
            delay,
        )
        self.buffer.put_event(ev.Reconnecting(attempt, delay, ending.reason))
        await trio.sleep(pause)
        return attempt

    async def connect_once(self, target: ConnectTarget) -> Ending:
        """One connection attempt, and the whole life of the connection if it opens.

        The connection's nursery is its session's scope: ``Session.end`` cancels it, and the
        nursery stops that cancellation (one from outside passes on). The connection is closed
        (bounded, shielded) whatever happens.
        """
        cfg = self.config
        sess: Session | None = None
        async with trio.open_nursery() as nursery:
            try:
                try:
                    conn = await self.transport.connect(
                        nursery,
                        target,
                        connect_timeout=cfg.connect_timeout,
                        max_message_size=TRANSPORT_SIZE_FACTOR * cfg.max_frame_size,
                    )
                except (HandshakeRejected, ConnectFailed) as exc:
                    return _attempt_failed(self.protocol, exc)
                url, now = redact_url(target.url), trio.current_time()
                sess = Session(self, conn, nursery, url, now, is_reconnect=self.connections > 0)
                # Everything after connect() but Session() (which only sets fields) is inside
                # this try: the finally must close the connection (the transport's reader is
                # shielded until then).
                try:
                    self.session_started(sess)
                    await sess.read_loop()
                finally:
                    await self.session_over(sess)
            finally:
                nursery.cancel_scope.cancel()
        if sess is None or sess.ending is None:  # pragma: no cover - the read loop only returns after end()
            raise RuntimeError("connection ended without a reason")
        return sess.ending

    def session_started(self, sess: Session) -> None:
        """A connection opened: report it, start its protocol and (if ready) its resubscription."""
        protocol = self.protocol
        self.connections += 1
        self.session = sess
        logger.info("%s: connected to %s", protocol.name, sess.url)
        self.buffer.put_event(ev.Connected(sess.url))
        sess.start()
        actions = protocol.connection_made(sess.connected_at)
        self.execute(actions, sess)
        if sess.resub_started is None and protocol.ready:
            self.start_resubscription(sess, actions)

    async def session_over(self, sess: Session) -> None:
        """A connection's session ended (or failed): close it (bounded, shielded), note the gap.

        Sets ``sess.ending``'s ``after`` (the protocol's actions for after Disconnected).
        """
        self.session = None
        sess.stop_sending()
        lost_actions = self.protocol.connection_lost()
        if sess.resub_done_at is not None:
            # Data flowed on this connection: a gap starts at its last sign of data.
            self.gap_since = max(sess.last_frame, sess.resub_done_at)
        ending = sess.ending
        close_code = 1000 if ending is None else ending.close_code
        graceful = ending is None or ending.graceful
        with trio.CancelScope(shield=True):
            await sess.conn.aclose(close_code, grace=self.config.close_timeout if graceful else 0.0)
        if ending is not None:
            sess.ending = attrs.evolve(ending, after=tuple(lost_actions))


def _attempt_failed(protocol: FeedProtocol, exc: HandshakeRejected | ConnectFailed) -> Ending:
    """The ending of a connection attempt that failed; raises when retrying cannot help."""
    verdict = CloseVerdict.RETRY
    if isinstance(exc, HandshakeRejected):
        status = exc.status_code
        if status in (401, 403):
            # The credentials in the handshake were refused: retrying cannot help.
            raise AuthenticationError(f"{protocol.name}: handshake rejected with HTTP {status}") from None
        if status == 429:
            verdict = CloseVerdict.RETRY_SLOW
    return Ending(None, protocol.connect_failed(str(exc)), verdict)
