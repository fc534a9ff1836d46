"""``trio-feeds record`` and ``trio-feeds replay``: a session to a file, and the file back through the feed.

``record`` is ``watch`` with a recorder (:mod:`trio_feeds.recording`): the same endpoint
options and credentials, every received frame and session event written to ``-o FILE``. It
prints the session events as they happen (``--messages``: the messages too) and, at the end, what
it wrote. ``replay`` plays a recording through the recorded exchange's feed
(:mod:`trio_feeds.replay`) and prints what the feed gives, as ``watch`` prints it (``--json``
output is ``watch --json`` output, which ``conform`` reads too).
"""

from __future__ import annotations

from pathlib import Path

import attrs
import trio
from rich.console import Console

from .. import exchanges
from ..exchanges import ExchangeCredentials
from ..recording import Compression, RecordingError, open_recorder, read_header
from ..replay import open_replay
from ._common import Stopper, UsageError
from .watch import WatchOptions, run_watch, show_feed

__all__ = ["RecordOptions", "ReplayOptions", "run_record", "run_replay"]


@attrs.frozen
class RecordOptions:
    """Options of ``trio-feeds record``: ``watch``'s, and where and how to write."""

    watch: WatchOptions
    output: str
    compression: Compression = "gzip"
    rotate_bytes: int | None = None
    rotate_seconds: float | None = None
    overwrite: bool = False


async def run_record(options: RecordOptions, creds: ExchangeCredentials, stopper: Stopper) -> int:
    """Record a feed until Ctrl-C, ``--count`` messages, or an error that ends the feed."""
    err = Console(stderr=True, highlight=False)
    try:
        recorder_cm = open_recorder(
            options.output,
            compression=options.compression,
            rotate_bytes=options.rotate_bytes,
            rotate_seconds=options.rotate_seconds,
            overwrite=options.overwrite,
            exchange=options.watch.exchange.name,
        )
        async with recorder_cm as recorder:
            status = await run_watch(options.watch, creds, stopper, recorder=recorder)
    except FileExistsError:
        raise UsageError(f"{options.output} exists: choose another name, or pass --overwrite") from None
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
    files = ", ".join(str(p) for p in recorder.paths)
    err.print(
        f"recorded {recorder.frames} frames ({recorder.records} records, {recorder.bytes_written:,} bytes) "
        f"in {files}",
        markup=False,
        soft_wrap=True,
    )
    return status


@attrs.frozen
class ReplayOptions:
    """Options of ``trio-feeds replay``."""

    path: str
    speed: float = 1.0
    json: bool = False
    count: int | None = None
    events: bool = True
    strict: bool = True


async def run_replay(options: ReplayOptions, stopper: Stopper) -> int:
    """Replay a recording until it ends, Ctrl-C, or ``--count`` messages; print it as ``watch`` does."""
    path = Path(options.path)
    try:
        header = await trio.to_thread.run_sync(read_header, path)
        exchange = exchanges.get(str(header.get("exchange")))
    except FileNotFoundError:
        raise UsageError(f"cannot read {path}: no such file") from None
    except (RecordingError, KeyError) as exc:
        raise UsageError(str(exc.args[0])) from None
    view = WatchOptions(
        exchange=exchange,
        url=str(path),
        json=options.json,
        count=options.count,
        events=options.events,
        command="replay",
    )
    feed_cm = open_replay(path, speed=options.speed, strict=options.strict)
    try:
        return await show_feed(feed_cm, view, stopper, subscribe=None)
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
