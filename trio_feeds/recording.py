"""Record a feed's session to a file, to replay it later (:mod:`trio_feeds.replay`).

::

    async with open_recorder("session.jsonl.gz") as recorder:
        async with gateway.open_feed(url, credentials=creds, recorder=recorder) as feed:
            await feed.subscribe(["trades"])
            async for item in feed: ...

A recording holds every frame the feed received, exactly as received (text, or binary as
base64) with its receive time on the engine's clock and the wall clock; every connection
attempt (the URL without query string or credentials), its opening, failure or close (code and
reason); every session event the consumer was given; the application's ``subscribe`` /
``unsubscribe`` calls with their arguments; requests whose deadline passed; and the engine's
reconnect decisions. Frames the feed *sent* are never recorded (they carry credentials), and
the header holds only the names of the credentials the feed had, never their values.

The file is JSON lines, one record per line, compressed with gzip (the default: ``zcat FILE``
reads it), zstd (``compression="zstd"``, with ``pip install 'trio-feeds[zstd]'``: a fifth of
gzip's CPU) or not at all. Every record is a JSON array ``[kind, t, w, ...]`` (``t``: engine
clock, ``w``: wall clock, both in seconds):

==============  ===========================================  ======================================
kind            the rest                                     what happened
==============  ===========================================  ======================================
``header``      ``{format, version, trio_feeds, exchange,    first record of every file: the
                started, session, part, compression,         exchange (registry name), the feed's
                config, options, credentials}``              config and ``open_feed`` options
``t`` / ``b``   the frame (text; binary as base64)           a frame was received
``dial``        URL                                          a connection attempt starts
``open``        URL                                          it connected
``fail``        ``{reason, status}``                         it failed (``status``: HTTP, or null)
``end``         ``{code, reason, by}``                       the connection ended: ``by`` the
                                                             ``server`` (``code`` null: dropped)
                                                             or the ``client`` (the feed closed it)
``event``       type name, ``{fields}``                      a session event for the consumer
``call``        ``subscribe``/``unsubscribe``, args, kwargs  the application's request
``expire``      request id                                   its deadline passed
``reconnect``   attempt, delay                               the engine will reconnect
``next``        file name                                    (rotation) the next part's file
==============  ===========================================  ======================================

Records are buffered in memory and written by a worker thread (the event loop never waits for
the disk) at least every ``flush_interval`` (1 s), flushed through the compressor each time: a
reader of the growing file sees every record up to the last flush, and a killed recorder loses
at most that last second (a file cut mid-record reads up to its last whole record). With
``rotate_bytes`` or ``rotate_seconds`` the recording is split into parts
(``session.00001.jsonl.gz``, ``session.00002.jsonl.gz``, ...), each with its own header; each
part names the next, and :func:`iter_records` / the replay follow them from the first.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import attrs
import msgspec
import trio

from . import __version__
from . import events as ev
from ._engine import FeedControls, FeedSetup, Tap
from ._recordfile import (
    FORMAT,
    VERSION,
    Compression,
    PartWriter,
    RecordingError,
    config_json,
    iter_records,
    read_header,
)
from ._sansio._protocol import ConnectTarget
from ._transports import ConnectFailed, Connection, HandshakeRejected, Transport, TransportClosed, redact_url

if TYPE_CHECKING:
    from ._engine._core import Engine

__all__ = [
    "FORMAT",
    "VERSION",
    "Compression",
    "Recorder",
    "RecorderOverflow",
    "RecordingError",
    "event_json",
    "frames",
    "iter_records",
    "open_recorder",
    "read_header",
]

_now = trio.current_time
_wall = time.time


class RecorderOverflow(RuntimeError):
    """The recorder fell too far behind: the disk does not take records as fast as they come."""


def event_json(event: object) -> dict[str, Any]:
    """A session event's fields as JSON values (what ``event`` records hold)."""
    if isinstance(event, ev.DecodeFailed):
        error = event.error
        return {"error": str(error), "path": error.path, "tag": error.tag, "reason": error.reason}
    if not attrs.has(type(event)):
        return {}
    fields: dict[str, Any] = attrs.asdict(event, recurse=False)  # type: ignore[arg-type]
    return {k: list(v) if isinstance(v, tuple) else _finite(v) for k, v in fields.items()}


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


class Recorder(Tap):
    """Records one feed's session; make it with :func:`open_recorder`, give it to ``open_feed``.

    One record is one tuple appended to a list on the event loop's side; a worker thread
    encodes, compresses and writes them (see :func:`open_recorder`).
    """

    def __init__(
        self,
        writer: PartWriter,
        *,
        flush_interval: float,
        max_pending: int,
        exchange: str | None,
    ) -> None:
        self._writer = writer
        self._flush_interval = flush_interval
        self._max_pending = max_pending
        # A backlog this long wakes the writer before the interval is up (batches stay small).
        self._early = min(65_536, max_pending)
        self._pending: list[Any] = []
        self._wakeup = trio.Event()
        self._encode = msgspec.json.Encoder().encode
        self._recording = True
        self._overflowed = False
        self._attached = False
        self._written = 0  # records taken out of memory for the writer
        self._notes = 0  # records that are not frames
        self._header: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "trio_feeds": __version__,
            "exchange": exchange,
            "started": datetime.now(UTC).isoformat(),
            "session": uuid.uuid4().hex,
        }

    def __repr__(self) -> str:
        return f"<Recorder {str(self._writer.base)!r} frames={self.frames}>"

    @property
    def paths(self) -> list[Path]:
        """The files written so far (more than one with rotation)."""
        return list(self._writer.parts)

    @property
    def bytes_written(self) -> int:
        """Bytes written to disk so far (compressed), all parts."""
        return self._writer.bytes_written

    # -- the engine's hooks --------------------------------------------------------------------

    def attach(self, engine: Engine, setup: FeedSetup | None, controls: FeedControls) -> None:
        """Note the feed's exchange, config and ``open_feed`` options in the header."""
        if self._attached:
            raise RuntimeError("a recorder records one feed: open another recorder for this one")
        self._attached = True
        config = attrs.asdict(engine.config, filter=lambda a, _: a.name != "rng")
        self._header.update(
            exchange=self._header["exchange"] or engine.protocol.name,
            config=config_json(config),
            options=None if setup is None else dict(setup.options),
            credentials=None if setup is None else list(setup.credentials),
        )

    def transport(self, transport: Transport) -> Transport:
        """Wrap the feed's transport: frames, attempts and closes are recorded there."""
        return _RecordingTransport(transport, self)

    def event(self, event: object) -> None:
        """Record a session event."""
        self._note("event", type(event).__name__, event_json(event))

    def request(self, kind: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> bool:
        """Record the application's request (its arguments must be JSON values)."""
        try:
            self._note("call", kind, list(args), dict(kwargs))
        except (TypeError, msgspec.EncodeError) as exc:
            raise TypeError(f"a recorded feed's {kind} takes JSON values only: {exc}") from None
        return True

    def expired(self, request_id: str) -> None:
        """Record that a request's deadline passed."""
        self._note("expire", request_id)

    async def reconnect(self, attempt: int, delay: float) -> tuple[int, float, float]:
        """Record the reconnect decision, and leave it as it is (no checkpoint)."""
        self._note("reconnect", attempt, delay)
        return attempt, delay, delay

    # -- records ---------------------------------------------------------------------------------

    def _note(self, kind: str, *body: Any) -> None:
        """Record anything but a frame (rare): encoded now, so a bad value fails here."""
        if self._recording:
            pending = self._pending
            pending.append(msgspec.Raw(self._encode([kind, _now(), _wall(), *body])))
            self._notes += 1
            if len(pending) >= self._early:
                self._backlog(pending)

    def _frame(self, frame: str | bytes) -> None:
        """Record a received frame (the hot path: one tuple, encoded later by the writer)."""
        if self._recording:
            pending = self._pending
            pending.append(("t" if type(frame) is str else "b", _now(), _wall(), frame))
            if len(pending) >= self._early:
                self._backlog(pending)

    @property
    def frames(self) -> int:
        """Frames recorded so far."""
        return self.records - self._notes

    def _backlog(self, pending: list[Any]) -> None:
        self._wakeup.set()
        if len(pending) >= self._max_pending:
            # Never block the feed and never grow without bound: the recording ends here,
            # and the error ends the recorder's block.
            self._overflowed = True
            self._recording = False

    # -- writing ---------------------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            with trio.move_on_after(self._flush_interval):
                await self._wakeup.wait()
            self._wakeup = trio.Event()
            await self._flush()
            if self._overflowed:
                raise RecorderOverflow(
                    f"the recorder fell {self._max_pending} records behind the feed (is the disk "
                    f"too slow?); the recording ends after record {self.records}"
                )

    @property
    def records(self) -> int:
        """Records of every kind recorded so far (frames included)."""
        return self._written + len(self._pending)

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        self._written += len(batch)
        t, wall = _now(), _wall()
        # Shielded: a batch taken out of memory is written, whatever is cancelled meanwhile.
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(self._writer.write, batch, self._header, t, wall)

    async def _close(self) -> None:
        self._recording = False
        batch, self._pending = self._pending, []
        self._written += len(batch)
        t, wall = _now(), _wall()

        def write_and_close() -> None:
            try:
                if batch:
                    self._writer.write(batch, self._header, t, wall)
            finally:
                self._writer.close(self._header, t, wall)

        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(write_and_close)


@asynccontextmanager
async def open_recorder(
    path: str | os.PathLike[str],
    *,
    compression: Compression = "gzip",
    level: int | None = None,
    rotate_bytes: int | None = None,
    rotate_seconds: float | None = None,
    flush_interval: float = 1.0,
    fsync: bool = True,
    overwrite: bool = False,
    exchange: str | None = None,
    max_pending: int = 2_000_000,
) -> AsyncIterator[Recorder]:
    """Record a feed's session to ``path``: give the recorder to the feed's ``open_feed``.

    The recorder owns a nursery with its writer task for as long as the block runs; leaving
    the block writes what is left and closes the file. Open the feed inside the block.

    Args:
        path: the file (it must not exist, unless ``overwrite``). With rotation, the parts are
            named after it: ``x.jsonl.gz`` gives ``x.00001.jsonl.gz``, ``x.00002.jsonl.gz``, ...
        compression: ``"gzip"`` (default), ``"zstd"`` (needs ``trio-feeds[zstd]``) or ``"none"``.
        level: the compression level (default: gzip 6, zstd 3).
        rotate_bytes: start a new part once a part holds this many (compressed) bytes.
        rotate_seconds: start a new part once a part is this old.
        flush_interval: the longest records wait in memory (seconds): what a killed recorder
            can lose.
        fsync: ``fsync`` the file at every flush, so the recording also survives a machine
            crash (a killed process loses nothing written either way).
        overwrite: replace an existing file.
        exchange: the registry name to put in the header (default: the feed's protocol name).
        max_pending: records allowed to wait for the disk; beyond that the recording fails
            with :class:`RecorderOverflow` (rather than block the feed or grow without bound).

    Raises:
        FileExistsError: ``path`` exists (and not ``overwrite``).
        RecordingError: ``compression="zstd"`` without the zstandard package.
    """
    if not flush_interval > 0:
        raise ValueError(f"flush_interval must be > 0, got {flush_interval!r}")
    if rotate_bytes is not None and rotate_bytes < 1:
        raise ValueError(f"rotate_bytes must be >= 1, got {rotate_bytes!r}")
    if rotate_seconds is not None and not rotate_seconds > 0:
        raise ValueError(f"rotate_seconds must be > 0, got {rotate_seconds!r}")
    writer = PartWriter(
        Path(path),
        compression=compression,
        level=level,
        rotate_bytes=rotate_bytes,
        rotate_seconds=rotate_seconds,
        fsync=fsync,
        overwrite=overwrite,
    )
    await trio.to_thread.run_sync(writer.open, _now(), _wall())
    recorder = Recorder(writer, flush_interval=flush_interval, max_pending=max_pending, exchange=exchange)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(recorder._flush_loop)
            try:
                yield recorder
            finally:
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise_single(group)  # the recorder's error (or the block's) as itself, not in a group
    finally:
        await recorder._close()


def raise_single(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Raise the one error inside ``group`` (cancellations aside) as itself; else re-raise the group."""
    errors = [e for e in _leaves(group) if not isinstance(e, trio.Cancelled)]
    if len(errors) != 1:
        raise group
    single = errors[0]
    context = single.__context__
    try:
        raise single  # the group was only a wrapper; the error's own chain is put back below
    finally:
        single.__context__ = context
        del single, context, group


def _leaves(error: BaseException) -> Iterator[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        for sub in error.exceptions:
            yield from _leaves(sub)
    else:
        yield error


# -- the transport seen through the recorder ------------------------------------------------------


class _RecordingTransport:
    """A transport that records attempts, received frames and closes (never what is sent)."""

    def __init__(self, inner: Transport, recorder: Recorder) -> None:
        self._inner = inner
        self._recorder = recorder

    def __repr__(self) -> str:
        return f"<recording {self._inner!r}>"

    async def connect(
        self,
        nursery: trio.Nursery,
        target: ConnectTarget,
        *,
        connect_timeout: float,
        max_message_size: int,
    ) -> Connection:
        recorder = self._recorder
        url = redact_url(target.url)  # the query string and user info may hold credentials
        recorder._note("dial", url)
        try:
            conn = await self._inner.connect(
                nursery, target, connect_timeout=connect_timeout, max_message_size=max_message_size
            )
        except HandshakeRejected as exc:
            recorder._note("fail", {"reason": str(exc), "status": exc.status_code})
            raise
        except ConnectFailed as exc:
            recorder._note("fail", {"reason": str(exc), "status": None})
            raise
        recorder._note("open", url)
        return _RecordingConnection(conn, recorder)


class _RecordingConnection:
    """A connection whose received frames and end are recorded."""

    def __init__(self, inner: Connection, recorder: Recorder) -> None:
        self._inner = inner
        self._recorder = recorder
        self._ended = False
        self._receive = inner.receive  # bound once: receive runs once per frame
        self._record = recorder._frame

    def _end(self, code: int | None, reason: str, by: str) -> None:
        if not self._ended:
            self._ended = True
            self._recorder._note("end", {"code": code, "reason": reason, "by": by})

    async def receive(self) -> str | bytes:
        try:
            frame = await self._receive()
        except TransportClosed as exc:
            self._end(exc.code, exc.reason, "server")
            raise
        self._record(frame)
        return frame

    async def send(self, frame: str | bytes) -> None:
        # Never recorded: what the client sends carries its credentials.
        try:
            await self._inner.send(frame)
        except TransportClosed as exc:
            self._end(exc.code, exc.reason, "server")
            raise

    async def ping(self, pong_timeout: float) -> bool:
        try:
            return await self._inner.ping(pong_timeout)
        except TransportClosed as exc:
            self._end(exc.code, exc.reason, "server")
            raise

    async def aclose(self, code: int = 1000, reason: str = "", *, grace: float) -> None:
        self._end(code, reason, "client")
        await self._inner.aclose(code, reason, grace=grace)


def frames(path: str | os.PathLike[str]) -> Iterator[tuple[float, float, str | bytes]]:
    """Every received frame of a recording (all parts), as ``(t, w, frame)``."""
    import base64  # noqa: PLC0415 - only binary frames need it

    for record in iter_records(path):
        if record[0] == "t":
            yield record[1], record[2], record[3]
        elif record[0] == "b":
            yield record[1], record[2], base64.b64decode(record[3])
