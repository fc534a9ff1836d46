"""A consumer process for tests/test_redis_e2e.py: reads a group, writes one JSON line per item.

``python -m tests.redis_consumer URL PREFIX GROUP NAME OUTPUT [SECONDS [COUNT]]``: SECONDS the
time it takes per item (a slow consumer holds entries it read ahead), COUNT its batch size.
It claims entries idle for 8 s (ReaderConfig.claim_idle): longer than a consumer holds entries
(at most three batches), and longer than the test's Redis crash and restart take on a loaded
machine, while which no entry can be acknowledged (with 3 s, a restart that took long let one
consumer claim what the other had handled but not yet acknowledged: a second delivery the test
does not expect). SIGINT or SIGTERM ends it normally (the last item acknowledged), SIGKILL is a
dead consumer.
"""

from __future__ import annotations

import json
import signal
import sys

import attrs
import trio

from trio_feeds import normalized as nz
from trio_feeds.redis_streams import ReaderConfig, StreamEvent, StreamGap, open_stream_reader


async def main(argv: list[str]) -> None:
    url, prefix, group, name, output = argv[:5]
    delay, count = (argv[5:] + ["0", "50"][len(argv[5:]) :])[:2]
    config = ReaderConfig(
        count=int(count),
        block=0.2,
        claim_idle=8.0,
        claim_interval=0.3,
        discover_interval=0.3,
        backoff_initial=0.05,
        backoff_max=0.3,
    )
    with open(output, "a", encoding="utf-8") as out:  # noqa: ASYNC230 - a line per item, as a log
        async with open_stream_reader(
            url, group=group, consumer=name, prefix=prefix, config=config
        ) as reader:
            with trio.CancelScope() as scope:
                async with trio.open_nursery() as nursery:

                    async def stop() -> None:
                        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                            async for _ in signals:
                                scope.cancel()

                    nursery.start_soon(stop)
                    print("ready", flush=True)
                    async for item in reader:
                        ref = reader.last
                        line: dict[str, object] = {}
                        if isinstance(item, StreamGap):
                            line = {"gap": item.stream, "lost": item.lost}
                        elif ref is not None:
                            line = {"s": ref.stream, "id": ref.id, "p": ref.publisher, "n": ref.number}
                            if isinstance(item, StreamEvent):
                                line |= {"ev": type(item.event).__name__, "en": item.number}
                            else:
                                assert isinstance(item, nz.Normalized.__args__)  # type: ignore[attr-defined]
                                line["k"] = type(item).__name__
                        if float(delay):
                            await trio.sleep(float(delay))  # handling it
                        out.write(json.dumps(line) + "\n")
                        out.flush()
        print("stats", json.dumps(attrs.asdict(reader.stats)), flush=True)


if __name__ == "__main__":
    trio.run(main, sys.argv[1:])
