"""Replay a recording (:mod:`trio_feeds.recording`) through the same engine and protocol.

::

    async with open_replay("session.jsonl.gz", speed=math.inf) as feed:
        async for item in feed:  # the typed messages and events the live session gave
            ...

The recording names its exchange; :func:`open_replay` builds that exchange's feed through the
registry (:mod:`trio_feeds.exchanges`) with the recorded config and ``open_feed`` options, on a
*replay transport* that plays the recorded connections back: connection ``k`` yields its
frames at their recorded times (relative to the recording's start, divided by ``speed``), then
ends as recorded (its close code and reason, or a drop); recorded failed attempts fail the same
way. What the feed sends is accepted and dropped (the credentials given to it are stand-ins).
The application's ``subscribe``/``unsubscribe`` calls were recorded with their arguments, and
the replay makes them again at the same point between the same two frames, so request ids,
the protocol's state and ``Subscribed``/``Resubscribed`` come out as they did. Your own calls
on a replayed feed return at once and change nothing: code written for a live feed runs on a
replay unchanged.

**What is reproduced exactly**, at any ``speed`` and under any clock (Trio's ``MockClock``
included): every message, in order; every session event with every field (``Connected``'s
URL, ``Disconnected``'s code and reason, ``Reconnecting``'s attempt, delay and reason,
``Subscribed``'s request id, ``Resubscribed``, ``DecodeFailed``'s error, ``BookOutOfSync`` /
``BookSynced``), except the times of ``Gap``; ``feed.books`` at the end; the error that ended
the feed. This holds because nothing the engine decides by its own clock is decided again:

* its timers are off (pings, heartbeat silence, authentication and request deadlines): a
  connection that died of an unanswered ping or of silence ends where and as it did live, and a
  request that timed out expires between the same two frames;
* ``Reconnecting.delay`` and the attempt numbers come from the recording (the jitter is not
  drawn again, and "healthy" connections need not last as long again);
* WebSocket pings, if anything sends one, are answered at once.

**What is not**: ``Gap.since``/``Gap.until`` are times on the replay's clock (the gap is in the
same place; its length follows the replay's pace); ``Overflow`` depends on your consumer, not on
the recording (the replay waits for a consumer that falls behind rather than drop messages); and
the time between items follows ``speed`` (``1``: as recorded; ``2``: twice as fast;
``math.inf``: as fast as the consumer takes them, backoff pauses included).

The replay checks itself: each session event it produces is compared with the recorded one,
and a difference (a protocol that behaves differently since the recording) ends the feed with
:class:`ReplayDiverged` (``strict=False``: logged as a warning instead).
"""

from __future__ import annotations

import base64
import contextvars
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import attrs
import msgspec
import trio

from . import exchanges
from ._engine import Feed, FeedControls, FeedSetup, Tap
from ._recordfile import config_from_json, iter_records
from ._sansio._protocol import ConnectTarget
from ._transports import ConnectFailed, Connection, HandshakeRejected, TransportClosed
from .config import FeedConfig
from .errors import FeedError
from .exchanges import ExchangeCredentials
from .recording import RecordingError, event_json, raise_single

if TYPE_CHECKING:
    from ._engine._core import Engine

__all__ = ["CallOutcome", "ReplayDiverged", "open_replay"]

logger = logging.getLogger("trio_feeds.replay")

_BATCH = 4096  # records read per trip to the worker thread
_BACKPRESSURE_POLL = 0.001  # seconds between looks at a full buffer
_MAX_DIVERGENCES = 100
_DRIVING: contextvars.ContextVar[bool] = contextvars.ContextVar("trio_feeds_replay_driving", default=False)


class ReplayDiverged(FeedError):
    """The replay did something else than the recorded session (a protocol changed since?)."""


@attrs.frozen
class CallOutcome:
    """A recorded ``subscribe``/``unsubscribe`` the replay made again, and how it ended.

    Attributes:
        kind: ``"subscribe"`` or ``"unsubscribe"``.
        args, kwargs: its arguments, as recorded.
        error: ``None`` if it succeeded, else the error's type and text (as the live call had).
    """

    kind: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    error: str | None


# -- reading ahead -------------------------------------------------------------------------------


class _Source:
    """The recording's records, read ahead by a worker thread (the event loop never reads the disk)."""

    def __init__(self, records: Iterator[list[Any]]) -> None:
        self._records = records
        self._send, self._recv = trio.open_memory_channel[list[list[Any]]](4)
        self._buffer: deque[list[Any]] = deque()
        self._done = False

    async def run(self) -> None:
        """Read batches until the recording ends (a task of the replay's nursery)."""
        async with self._send:
            while batch := await trio.to_thread.run_sync(lambda: list(islice(self._records, _BATCH))):
                await self._send.send(batch)

    async def _fill(self) -> bool:
        if self._done:
            return False
        try:
            self._buffer.extend(await self._recv.receive())
        except trio.EndOfChannel:
            self._done = True
            return False
        return True

    async def peek(self) -> list[Any] | None:
        """The next record, left in place, or ``None`` at the end of the recording."""
        while not self._buffer:
            if not await self._fill():
                return None
        return self._buffer[0]

    async def next(self) -> list[Any] | None:
        """The next record, or ``None`` at the end of the recording."""
        record = await self.peek()
        if record is not None:
            self._buffer.popleft()
        return record

    def next_now(self) -> list[Any]:
        """Take the record :meth:`peek` gave."""
        return self._buffer.popleft()

    def push_back(self, record: list[Any]) -> None:
        """Make ``record`` the next one again."""
        self._buffer.appendleft(record)

    async def find(self, match: Callable[[list[Any]], bool], before: frozenset[str]) -> list[Any] | None:
        """Look ahead (consuming nothing) for the first record that ``match``es, before one of ``before``."""
        index = 0
        while True:
            while index >= len(self._buffer):
                if not await self._fill():
                    return None
            record = self._buffer[index]
            if record[0] in before:
                return None
            if match(record):
                return record
            index += 1


# -- the player: the recording's cursor, shared by the transport and the tap ------------------


_NEXT_PHASE = frozenset({"reconnect", "dial", "open", "fail"})
_UNPACED = frozenset({"event", "header"})  # records that only inform: no wait for their time


class _Player:
    """Walks the recording: paces it, re-enacts calls and expiries, checks the events."""

    def __init__(self, source: _Source, *, speed: float, strict: bool, nursery: trio.Nursery) -> None:
        self.source = source
        self.speed = speed
        self.strict = strict
        self.nursery = nursery
        self.feed: Feed[Any] | None = None
        self.feed_ready = trio.Event()
        self.engine: Engine | None = None
        self.controls: FeedControls | None = None
        self.ended = False
        self.calls: list[CallOutcome] = []
        self.divergences: list[str] = []
        self._anchor: tuple[float, float] | None = None  # (recorded t, replay time) of the first paced record
        self._expected: deque[tuple[str, Any]] = deque()  # recorded events not yet produced
        self._produced: deque[tuple[str, Any]] = deque()  # produced events not yet recorded
        self._call_started: trio.Event | None = None

    # -- pacing and re-enacting ---------------------------------------------------------------

    async def _due(self, t: float) -> None:
        if math.isinf(self.speed):
            await trio.lowlevel.checkpoint()
            return
        if self._anchor is None:
            self._anchor = (t, trio.current_time())
        recorded, replayed = self._anchor
        await trio.sleep_until(replayed + (t - recorded) / self.speed)

    async def step(self, *, paced: bool = True) -> list[Any] | None:
        """The next record that is the caller's to handle (``None``: the recording ended).

        On the way, recorded events are queued for comparison, and calls and expiries are
        made again in their place.
        """
        source = self.source
        while True:
            # Paced before it is taken: a cancellation while waiting loses no record.
            record = await source.peek()
            if record is None:
                return None
            if paced and record[0] not in _UNPACED:
                await self._due(record[1])
            source.next_now()
            if not await self.handle(record):
                return record

    async def handle(self, record: list[Any]) -> bool:
        """Handle an event, call or expiry record (True), or leave it to the caller (False)."""
        kind = record[0]
        if kind == "event":
            self._expect(record[3], record[4])
            return True
        if kind == "header":
            return True
        if kind == "call":
            await self._call(record[3], record[4], record[5])
            return True
        if kind == "expire":
            assert self.engine is not None
            self.engine.expire_request(record[3])
            return True
        return False

    async def _call(self, kind: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        started = self._call_started = trio.Event()
        self.nursery.start_soon(self._run_call, kind, args, kwargs, started)
        # The call's synchronous part (the protocol's state, its frames, its waiter) happens
        # before the next record, as it did between the same two frames live.
        await started.wait()

    async def _run_call(
        self, kind: str, args: list[Any], kwargs: dict[str, Any], started: trio.Event
    ) -> None:
        _DRIVING.set(True)  # this task's context only: the replay's own call
        error = None
        try:
            await self.feed_ready.wait()
            assert self.feed is not None
            await getattr(self.feed, kind)(*args, **kwargs)
        except (FeedError, ValueError) as exc:
            # What the live call raised too (refused, timed out, the feed ended): kept, and logged.
            error = f"{type(exc).__name__}: {exc}"
            logger.debug("replayed %s%s: %s", kind, tuple(args), error)
        finally:
            started.set()  # also when it raised before the protocol saw it
        self.calls.append(CallOutcome(kind, tuple(args), kwargs, error))

    def driver_call(self) -> bool:
        """Whether the request being made is the replay's own (else the application's: declined)."""
        if not _DRIVING.get():
            return False
        if self._call_started is not None:
            self._call_started.set()
        return True

    async def backpressure(self) -> None:
        """Wait while the consumer has half a buffer to go: a replay never outruns it into drops."""
        assert self.engine is not None
        buffer = self.engine.buffer
        limit = max(1, self.engine.config.buffer_size // 2)
        # Polled (replay only): the buffer has no "drained" signal, and one would cost every get().
        while len(buffer) >= limit:  # noqa: ASYNC110
            await trio.sleep(_BACKPRESSURE_POLL)

    # -- events ---------------------------------------------------------------------------------

    def _expect(self, kind: str, fields: Any) -> None:
        self._expected.append((kind, _comparable(kind, fields)))
        self._match()

    def produced(self, event: object) -> None:
        """The engine gave the consumer ``event``: compare it with the recorded one."""
        if self.ended:
            return
        kind = type(event).__name__
        fields = msgspec.json.decode(msgspec.json.encode(event_json(event)))
        self._produced.append((kind, _comparable(kind, fields)))
        self._match()

    def _match(self) -> None:
        while self._expected and self._produced:
            expected, produced = self._expected.popleft(), self._produced.popleft()
            if expected != produced:
                self.diverged(f"recorded event {_show(expected)}, the replay gave {_show(produced)}")

    def diverged(self, what: str) -> None:
        """Note a difference from the recording; with ``strict``, end the feed with it."""
        if len(self.divergences) < _MAX_DIVERGENCES:
            self.divergences.append(what)
        if self.strict:
            if self.controls is not None and len(self.divergences) == 1:
                self.controls.fail(ReplayDiverged(f"the replay diverged from the recording: {what}"))
        else:
            logger.warning("replay diverged from the recording: %s", what)

    # -- the end ----------------------------------------------------------------------------------

    def finish(self, *, check: bool = True) -> None:
        """The recording ended: check what is left, and end the feed once its items are consumed."""
        if self.ended:
            return
        if check:
            for kind, fields in self._expected:
                self.diverged(f"recorded event {_show((kind, fields))} was not produced")
        self.ended = True
        if self.controls is not None:
            self.controls.end()

    async def end_of_recording(self) -> NoReturn:
        """:meth:`finish`, then wait for the cancellation that ending the feed brings."""
        self.finish()
        await trio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover

    async def reconnect(self, attempt: int, delay: float) -> tuple[int, float, float]:
        """The recorded reconnect decision (the transport paces the attempt itself: no pause)."""
        record = await self.step()
        if record is None:
            await self.end_of_recording()
        if record[0] == "reconnect":
            return int(record[3]), float(record[4]), 0.0
        self.diverged(f"a {record[0]!r} record where the live session reconnected")
        self.source.push_back(record)
        return attempt, delay, 0.0


def _comparable(kind: str, fields: Any) -> Any:
    if kind == "Gap" and isinstance(fields, dict):
        return {}  # engine-clock times: the replay's own
    return fields


def _show(event: tuple[str, Any]) -> str:
    kind, fields = event
    return f"{kind}({fields})" if fields else kind


# -- the transport ------------------------------------------------------------------------------


class _ReplayTransport:
    """Plays the recorded connections (and failed attempts) back, one per ``connect``."""

    def __init__(self, player: _Player) -> None:
        self._player = player

    def __repr__(self) -> str:
        return "<replay transport>"

    async def connect(
        self,
        nursery: trio.Nursery,
        target: ConnectTarget,
        *,
        connect_timeout: float,
        max_message_size: int,
    ) -> Connection:
        player = self._player
        record = await player.step()
        while record is not None and record[0] != "dial":
            player.diverged(f"a {record[0]!r} record where the live session made a connection attempt")
            record = await player.step()
        if record is not None:
            record = await player.step()  # what became of the attempt
        if record is None:
            await player.end_of_recording()
        if record[0] == "fail":
            reason, status = record[3]["reason"], record[3]["status"]
            error: ConnectFailed = ConnectFailed(reason) if status is None else HandshakeRejected(status)
            error.args = (reason,)  # its text as the live transport gave it
            raise error
        if record[0] != "open":
            player.diverged(f"a {record[0]!r} record where a connection attempt ended")
        return _ReplayConnection(player)


class _ReplayConnection:
    """One recorded connection: its frames at their times, then its end."""

    def __init__(self, player: _Player) -> None:
        self._player = player
        self._ended = False  # its "end" record was reached

    async def receive(self) -> str | bytes:
        player = self._player
        while True:
            record = await player.step()
            if record is None:
                await player.end_of_recording()
            kind = record[0]
            if kind == "t":
                await player.backpressure()
                text: str = record[3]
                return text
            if kind == "b":
                await player.backpressure()
                return base64.b64decode(record[3])
            if kind == "end":
                self._ended = True
                await self._close_as_recorded()
            player.diverged(f"a {kind!r} record inside a connection")

    async def _close_as_recorded(self) -> NoReturn:
        # The close as the engine reported it live: a server's close code and reason, or a drop,
        # or the engine's own finding (no pong, silence, no auth): the Disconnected that follows.
        player = self._player
        disconnected = await player.source.find(_is_disconnected, _NEXT_PHASE)
        if disconnected is None:  # the feed was closed by the application here: the end
            await player.end_of_recording()
        fields = disconnected[4]
        raise TransportClosed(fields["code"], fields["reason"])

    async def send(self, frame: str | bytes) -> None:
        await trio.lowlevel.checkpoint()  # accepted and dropped

    async def ping(self, pong_timeout: float) -> bool:
        await trio.lowlevel.checkpoint()
        return True  # answered at once

    async def aclose(self, code: int = 1000, reason: str = "", *, grace: float) -> None:
        """The engine closes the connection: skip to its recorded end, then make the calls made meanwhile."""
        player = self._player
        if player.ended:
            return
        if player.controls is not None and player.controls.closed():
            player.finish(check=False)  # the application closed the replayed feed: it ends here
            return
        # Not paced: this runs shielded.
        while not self._ended:
            record = await player.step(paced=False)
            if record is None:
                player.finish()
                return
            if record[0] == "end":
                self._ended = True
            else:
                player.diverged(
                    f"a {record[0]!r} record the replay did not reach before the connection closed"
                )
        # Calls made while the live connection was closing came after the protocol heard of
        # it: make them now, up to the Disconnected event (or the next phase).
        while True:
            record = await player.source.next()
            if record is None:
                player.finish()
                return
            if record[0] in _NEXT_PHASE or _is_disconnected(record):
                player.source.push_back(record)
                return
            if not await player.handle(record):
                player.diverged(f"a {record[0]!r} record after a connection's end")


def _is_disconnected(record: list[Any]) -> bool:
    return bool(record[0] == "event" and record[3] == "Disconnected")


class _ReplayTap(Tap):
    """The replay's hook in the engine: no timers, decisions and events from the recording."""

    timers = False

    def __init__(self, player: _Player) -> None:
        self._player = player

    def attach(self, engine: Engine, setup: FeedSetup | None, controls: FeedControls) -> None:
        self._player.engine = engine
        self._player.controls = controls

    def event(self, event: object) -> None:
        self._player.produced(event)

    def request(self, kind: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> bool:
        return self._player.driver_call()

    async def reconnect(self, attempt: int, delay: float) -> tuple[int, float, float]:
        return await self._player.reconnect(attempt, delay)


# -- opening a replay -----------------------------------------------------------------------------


@attrs.frozen
class _Setup:
    exchange: str
    url: str
    config: FeedConfig
    options: dict[str, Any]
    credentials: tuple[str, ...] | None


def _read_setup(path: Path) -> _Setup:
    """The header's exchange, config and options, and the first attempt's URL (a worker thread)."""
    records = iter_records(path)
    header_record = next(records, None)
    if header_record is None:  # pragma: no cover - iter_records raises for a file without header
        raise RecordingError(f"{path}: empty")
    header = header_record[3]
    if header.get("part", 1) != 1:
        raise RecordingError(f"{path} is part {header['part']} of a recording: replay it from its first part")
    if not header.get("exchange"):
        raise RecordingError(f"{path}: the recording names no exchange")
    url = next((r[3] for r in islice(records, 10_000) if r[0] == "dial"), "ws://replay.invalid/")
    known = attrs.fields_dict(FeedConfig)
    config = config_from_json(header.get("config") or {})
    creds = header.get("credentials")
    return _Setup(
        exchange=header["exchange"],
        url=url,
        config=FeedConfig(**{k: v for k, v in config.items() if k in known and k != "rng"}),
        options=dict(header.get("options") or {}),
        credentials=None if creds is None else tuple(creds),
    )


@asynccontextmanager
async def open_replay(
    path: str | Path,
    *,
    speed: float = 1.0,
    strict: bool = True,
) -> AsyncIterator[Feed[Any]]:
    """Replay a recording: the typed feed of the recorded exchange, fed from the file.

    Iterate it as the live feed: it gives the same messages and events (see the module
    docstring for what is exact), and ends (iteration stops) where the recording ends, or with
    the error that ended the live feed. ``feed.books`` is the books as they were.

    Args:
        path: the recording (its first part, when rotated: the others are followed).
        speed: ``1`` plays at the recorded pace, ``2`` twice as fast, ``math.inf`` as fast as
            the consumer takes it.
        strict: end the feed with :class:`ReplayDiverged` when an event differs from the
            recorded one (``False``: log a warning and go on).

    Raises:
        RecordingError: not a recording, a missing part, or an unknown exchange.
    """
    if not speed > 0:
        raise ValueError(f"speed must be > 0, got {speed!r}")
    path = Path(path)
    setup = await trio.to_thread.run_sync(_read_setup, path)
    try:
        exchange = exchanges.get(setup.exchange)
    except KeyError as exc:
        raise RecordingError(f"{path}: {exc.args[0]}") from None
    names = exchange.needs if setup.credentials is None else setup.credentials
    # Stand-ins: what the feed sends (auth frames included) goes nowhere.
    credentials = ExchangeCredentials(**dict.fromkeys(names, "replay"))
    try:
        async with _replaying(path, setup, exchange, credentials, speed=speed, strict=strict) as feed:
            yield feed
    except BaseExceptionGroup as group:
        raise_single(group)  # the one error (the feed's, or the file's) as itself


@asynccontextmanager
async def _replaying(
    path: Path,
    setup: _Setup,
    exchange: exchanges.Exchange,
    credentials: ExchangeCredentials,
    *,
    speed: float,
    strict: bool,
) -> AsyncIterator[Feed[Any]]:
    records = iter_records(path)
    try:
        async with _player_nursery(records, setup, exchange, credentials, speed=speed, strict=strict) as feed:
            yield feed
    finally:
        records.close()  # its file; the reading thread is done (the nursery waited for it)


@asynccontextmanager
async def _player_nursery(
    records: Iterator[list[Any]],
    setup: _Setup,
    exchange: exchanges.Exchange,
    credentials: ExchangeCredentials,
    *,
    speed: float,
    strict: bool,
) -> AsyncIterator[Feed[Any]]:
    async with trio.open_nursery() as nursery:
        source = _Source(records)
        nursery.start_soon(source.run)
        player = _Player(source, speed=speed, strict=strict, nursery=nursery)
        feed_cm = exchange.open_feed(
            setup.url,
            credentials,
            config=setup.config,
            transport=_ReplayTransport(player),
            recorder=_ReplayTap(player),
            **setup.options,
        )
        async with feed_cm as feed:
            player.feed = feed
            player.feed_ready.set()
            yield feed
        nursery.cancel_scope.cancel()
