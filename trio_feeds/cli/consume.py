"""``trio-feeds consume URL --group G --consumer C``: print what a consumer group reads from Redis.

One consumer of the group: items are shared with the group's other consumers (and acknowledged
once printed), as :func:`~trio_feeds.redis_streams.open_stream_reader` does for an application.
"""

from __future__ import annotations

from typing import Any

import attrs
import trio

from .. import normalized as nz
from ..redis_streams import (
    BadEntry,
    RawFrame,
    ReaderConfig,
    StreamEvent,
    StreamGap,
    StreamReader,
    open_stream_reader,
    redact_url,
)
from ._common import EXIT_INTERRUPTED, EXIT_OK, Stopper, event_fields, event_text, json_line, write_line
from ._lines import normalized_fields, normalized_text

__all__ = ["ConsumeOptions", "run_consume"]


@attrs.frozen
class ConsumeOptions:
    """Options of ``trio-feeds consume``."""

    url: str
    group: str
    consumer: str
    prefix: str | None = None
    match: str | None = None
    streams: tuple[str, ...] = ()
    start: str = "0"
    json: bool = False
    count: int | None = None


def _line(reader: StreamReader, item: object, as_json: bool) -> str:
    ref = reader.last
    where: dict[str, Any] = {"stream": ref.stream, "id": ref.id} if ref is not None else {}
    name = type(item).__name__
    if isinstance(item, StreamEvent):
        if as_json:
            fields = {"feed": item.feed, "publisher": item.publisher, **event_fields(item.event)}
            return json_line({**where, "kind": "event", "type": type(item.event).__name__, "data": fields})
        return f"{where.get('stream', '')}  {type(item.event).__name__:<18} {event_text(item.event)}"
    if isinstance(item, StreamGap):
        data = {"stream": item.stream, "lost": item.lost, "after": item.after, "reason": item.reason}
        if as_json:
            return json_line({"kind": "gap", "type": name, "data": data})
        lost = "unknown" if item.lost is None else item.lost
        return f"{item.stream}  {name:<18} {lost} entries lost ({item.reason})"
    if isinstance(item, RawFrame | BadEntry):
        data = attrs.asdict(item)
        if as_json:
            return json_line(
                {**where, "kind": "raw" if isinstance(item, RawFrame) else "bad", "type": name, "data": data}
            )
        return f"{where.get('stream', '')}  {name:<18} {data}"
    assert isinstance(item, nz.Normalized)  # the reader yields nothing else
    if as_json:
        return json_line({**where, "kind": "normalized", "type": name, "data": normalized_fields(item)})
    return f"{where.get('stream', '')}  {name:<18} {normalized_text(item)}"


async def run_consume(options: ConsumeOptions, stopper: Stopper) -> int:
    """Print items until Ctrl-C or ``--count`` items."""
    if not options.json:
        write_line(
            f"reading as {options.consumer!r} of group {options.group!r} from {redact_url(options.url)}"
        )
    config = ReaderConfig(start=options.start)
    seen = 0
    async with open_stream_reader(
        options.url,
        group=options.group,
        consumer=options.consumer,
        streams=options.streams,
        prefix=options.prefix,
        match=options.match,
        config=config,
    ) as reader:
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:

                async def stop() -> None:
                    await stopper.wait()
                    scope.cancel()

                nursery.start_soon(stop)
                async for item in reader:
                    write_line(_line(reader, item, options.json))
                    if not isinstance(item, StreamEvent | StreamGap):
                        seen += 1
                        if options.count is not None and seen >= options.count:
                            break
                nursery.cancel_scope.cancel()
    return EXIT_INTERRUPTED if stopper.interrupted else EXIT_OK
