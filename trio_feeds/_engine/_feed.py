"""The public face of the engine: :class:`Feed`, :func:`run_feed` and :func:`start_feed`.

Each protocol module subclasses :class:`Feed` with a typed ``subscribe``/``unsubscribe`` and
an item type (``GatewayFeed``, ...), and its ``open_feed`` is ``run_feed(GatewayFeed(...))``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Concatenate, Generic, Literal, ParamSpec, TypeVar

import trio

from .._sansio._protocol import Action, FeedProtocol
from .._transports import Transport
from .._transports import fast as _fast
from ..books import Books
from ..config import FeedConfig
from ..errors import FeedClosed, FeedError, RequestTimeout, SubscriptionError
from ..events import FeedEvent
from ..normalized import Normalized
from ..state import Account
from ._buffer import FeedStats
from ._core import Engine, logger
from ._tap import FeedControls, FeedSetup, Tap

__all__ = ["Feed", "RequestCall", "run_feed", "start_feed"]

ItemT_co = TypeVar("ItemT_co", covariant=True)
FeedT = TypeVar("FeedT", bound="Feed[object]")

P = ParamSpec("P")

RequestCall = Callable[Concatenate[float, P], tuple[str | None, Sequence[Action]]]
"""A protocol call ``(now, *args, **kwargs) -> (request_id, actions)``: a subscribe or unsubscribe."""


class Feed(Generic[ItemT_co]):
    """A running exchange feed: iterate it for messages and session events.

    Iteration yields, in arrival order, items of type ``ItemT_co`` (the protocol's decoded
    messages and :class:`~trio_feeds.UnknownMessage`) and the events of
    :mod:`trio_feeds.events`. It ends when the feed is closed with :meth:`aclose`, and raises
    the error that ended the feed otherwise (:class:`~trio_feeds.AuthenticationError`,
    :class:`~trio_feeds.FeedClosed`, :class:`~trio_feeds.SlowConsumer`, ...).

    Each protocol module has its own subclass with typed ``subscribe``/``unsubscribe``; open
    one with that module's ``open_feed`` (or :func:`run_feed` / :func:`start_feed`).
    """

    def __init__(
        self,
        protocol: FeedProtocol,
        config: FeedConfig | None = None,
        *,
        transport: Transport | None = None,
        recorder: Tap | None = None,
    ) -> None:
        if transport is None:
            # Looked up in the module at call time, so a test can swap the default.
            transport = _fast.FastTransport()
        config = config if config is not None else FeedConfig()
        self._engine = Engine(protocol, config, transport, recorder)
        self._started = False
        self._done = False  # the run ended (or never will: see _finish)
        self._done_event: trio.Event | None = None  # made for aclose() to wait on, if it must
        self._closed = False  # closed by the user
        self._end_error: BaseException | None = None  # why the feed ended, if not by aclose
        self._abort_error: BaseException | None = None  # a fatal error found outside the engine
        self._no_books: Books[Any] | None = None  # made on first use (most protocols have books)
        if recorder is not None:
            controls = FeedControls(
                end=lambda: self._stop(discard=False), fail=self._fail, closed=lambda: self._closed
            )
            recorder.attach(self._engine, self._replay_setup(), controls)

    def __repr__(self) -> str:
        state = "closed" if self._done else "connected" if self.connected else "connecting"
        return f"<{type(self).__name__} protocol={self._engine.protocol.name!r} {state}>"

    # -- public API --------------------------------------------------------------------------

    @property
    def protocol(self) -> FeedProtocol:
        """The sans-IO protocol object this feed drives."""
        return self._engine.protocol

    @property
    def config(self) -> FeedConfig:
        """Configuration of this feed."""
        return self._engine.config

    @property
    def transport(self) -> Transport:
        """The transport this feed opens its WebSockets with."""
        return self._engine.transport

    @property
    def stats(self) -> FeedStats:
        """Live counters (frames, messages, reconnects, gaps, decode errors, drops)."""
        return self._engine.stats

    @property
    def buffered(self) -> int:
        """Items waiting in the feed's buffer for the consumer now (messages and events).

        At most ``config.buffer_size`` messages wait; the overflow policy applies beyond.
        """
        return len(self._engine.buffer)

    @property
    def books(self) -> Books[Any]:
        """The order books the feed keeps from its messages (empty for a protocol without books).

        Keyed by the protocol's market name; see :mod:`trio_feeds.books`. A book says in
        ``synced`` whether it can be trusted, and the feed yields
        :class:`~trio_feeds.events.BookOutOfSync` / :class:`~trio_feeds.events.BookSynced` in
        order with the messages when that changes.
        """
        books = self._engine.protocol.books
        if books is not None:
            return books
        if self._no_books is None:
            self._no_books = Books()
        return self._no_books

    @property
    def account(self) -> Account | None:
        """Orders, balances and positions kept from the feed's private messages.

        ``None`` for a protocol without them (Onyx). Each container says in ``stale`` whether
        it may miss updates (from a disconnect or a data gap on), see :mod:`trio_feeds.state`.
        """
        return self._engine.account

    def normalize(self, item: object, received_at: datetime | None = None) -> tuple[Normalized, ...]:
        """``item`` (a message of this feed) as :mod:`trio_feeds.normalized` items.

        ``received_at`` defaults to now; session events and control messages give none.
        """
        return self._engine.protocol.normalize(item, received_at or datetime.now(UTC))

    @property
    def connected(self) -> bool:
        """True while a connection is open and has not begun to close."""
        session = self._engine.session
        return session is not None and session.live

    def __aiter__(self) -> AsyncIterator[ItemT_co | FeedEvent]:
        return self

    def __anext__(self) -> Awaitable[ItemT_co | FeedEvent]:
        """Return the next message or session event (waits for one).

        The buffer's own coroutine is returned, not awaited in one of ours: a frame less per
        item.
        """
        return self._engine.buffer.get()

    async def aclose(self) -> None:
        """Close the feed: stop the engine, close the connection, end iteration.

        Waiting items are discarded. Returns once the connection is closed (bounded by
        ``close_timeout``). Idempotent.
        """
        self._stop()
        if not self._started:
            return
        if self._done:
            await trio.lowlevel.checkpoint()  # as a wait on a set Event would
            return
        if self._done_event is None:
            self._done_event = trio.Event()
        await self._done_event.wait()

    # -- for the protocol subclasses -------------------------------------------------------------

    def _replay_setup(self) -> FeedSetup | None:
        """The ``open_feed`` options and credential names that rebuild this feed's protocol.

        Called once, when the feed is made with a recorder; a recording keeps it so a replay
        can build the same feed (see :mod:`trio_feeds.replay`). ``None`` (this default): not
        known, and a replay uses the module's defaults.
        """
        return None

    async def _request(
        self,
        kind: Literal["subscribe", "unsubscribe"],
        call: RequestCall[P],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        """Make a request, ``call(now, *args, **kwargs)``, and wait for its answer.

        ``args`` and ``kwargs`` are the arguments of the public method (``subscribe``'s),
        as JSON values: a recorder keeps them, and a replay calls that method with them.

        The protocol records the wish first, so it holds across reconnects. When the request
        has an answer to wait for, this returns once the server acknowledged it, on this
        connection or, if the connection drops meanwhile, on a later one (the protocol re-sends
        it). While disconnected, the request goes out with the next connection. The engine's
        clock gives the answer ``request_timeout`` seconds.

        Raises:
            SubscriptionError: the server refused it.
            RequestTimeout: no answer within ``request_timeout`` (the wish is kept).
            FeedClosed: the feed has ended.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        self._raise_if_ended()
        engine = self._engine
        tap = engine.tap
        if tap is not None and not tap.request(kind, args, kwargs):
            return  # a replay makes the recorded calls itself, in their place
        timeout = engine.config.request_timeout
        now = trio.current_time()
        request_id, actions = call(now, *args, **kwargs)
        # Registered before the actions run: they may already hold its RequestDone.
        waiter = None if request_id is None else engine.waiters.add(request_id, kind, now + timeout)
        try:
            self._execute_outside_engine(actions)
            if waiter is None:
                await trio.lowlevel.cancel_shielded_checkpoint()
                return
            # Across reconnects the protocol keeps the request and answers it on a later
            # connection, so waiting for the id alone is right; the feed ending or the
            # deadline ends the wait too.
            await waiter.event.wait()
        finally:
            if request_id is not None and engine.waiters.discard(request_id):
                # We stopped waiting (cancelled): the protocol must not complete it later.
                engine.protocol.forget_request(request_id)
        if not waiter.done:
            # The feed ended. If that cancels us (run_feed's block), the engine's error is the
            # one to see: let the cancellation in first.
            await trio.lowlevel.checkpoint()
            self._raise_if_ended()
        name = engine.protocol.name
        if waiter.timed_out:
            # Unanswered because there was no connection to answer on: say why not.
            why = (
                ""
                if self.connected or engine.last_failure is None
                else f"; not connected: {engine.last_failure}"
            )
            raise RequestTimeout(f"{name} {kind} not answered within request_timeout ({timeout:g} s){why}")
        if waiter.error is not None:
            raise SubscriptionError(f"{name} {kind} refused: {waiter.error}")

    def _raise_if_ended(self) -> None:
        if self._closed:
            raise FeedClosed("the feed was closed")
        if self._done:
            raise FeedClosed(f"the feed has ended: {self._end_error!r}") from self._end_error

    def _execute_outside_engine(self, actions: Sequence[Action]) -> None:
        """Run actions returned to a user call (subscribe/unsubscribe)."""
        engine = self._engine
        engine.in_user_call = True
        try:
            engine.execute(actions, engine.session)
        except FeedError as exc:
            # Whatever ends the feed must end it even when found in a user's task: hand it to
            # the engine (which raises it out of the feed) and raise it here too.
            self._abort_error = exc
            engine.cancel()
            raise
        finally:
            engine.in_user_call = False

    # -- running ---------------------------------------------------------------------------------

    def _stop(self, *, discard: bool = True) -> None:
        self._closed = True
        self._engine.cancel()
        self._engine.buffer.close(None, discard=discard)
        self._engine.waiters.release_all()

    def _fail(self, error: BaseException) -> None:
        # Ends the feed with ``error``, raised after what is buffered (as an engine error is).
        if self._abort_error is None:
            self._abort_error = error
        self._engine.cancel()

    async def _run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the engine until the feed is closed or fails; raise what failed it."""
        if self._started:
            raise RuntimeError("a Feed can only be run once")
        self._started = True
        error: BaseException | None = None
        try:
            task_status.started()
            # The status object holds the nursery that start() opened, with its cancel scope
            # and sets, for as long as this frame lives: about 1 KiB per feed.
            del task_status
            await self._engine.run()  # returns once cancelled (Engine.cancel)
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
            logger.error("%s: feed ended: %r", self._engine.protocol.name, end_error)
        self._end_error = end_error
        self._engine.buffer.close(end_error, discard=self._closed)
        self._engine.waiters.release_all()
        self._done = True
        if self._done_event is not None:
            self._done_event.set()


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


async def start_feed(nursery: trio.Nursery, feed: FeedT) -> FeedT:
    """Start ``feed``'s engine in ``nursery`` and return it; the caller must :meth:`Feed.aclose` it.

    Like ``trio_websocket.connect_websocket``: for an application that already has a nursery
    and wants the feed to outlive one block. Errors that end the feed are raised into
    ``nursery`` and out of iteration. Returns at once; the first connection is made in the
    background (watch for :class:`~trio_feeds.events.Connected`).
    """
    await nursery.start(feed._run)
    return feed


@asynccontextmanager
async def run_feed(feed: FeedT) -> AsyncIterator[FeedT]:
    """Run ``feed`` for the duration of an ``async with`` block.

    The block owns a nursery for the feed's engine. Leaving it closes the connection and ends
    every task. An error that ends the feed (``AuthenticationError``, ``FeedClosed`` for a
    fatal close, ``SlowConsumer``, ...) cancels the block and is raised out of it as itself,
    not wrapped in an exception group (a group is raised only when several errors happened).
    """
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
