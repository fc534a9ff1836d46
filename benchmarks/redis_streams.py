"""Publish and consume throughput of trio_feeds.redis_streams against raw coredis loops, one run.

A real valkey-server (or redis-server) is started on a free port. Both sides move the same
entries (normalized trades in the publisher's entry format):

- publish: ``Publisher.publish(item)`` for N items then ``flush()`` (encoding, the queue, ids
  of its own, pipelined ``XADD ... MAXLEN ~``) against a loop of pipelines of 500 ``XADD``
  of the already-encoded entries (auto ids, same ``MAXLEN ~``). Target >= 0.5x.
- consume: ``open_stream_reader`` yielding N typed items as one consumer of a group (the
  gap check in each read, decoding, acknowledgements) against a loop of ``XREADGROUP COUNT 500``
  + ``XACK`` of the ids, decoding nothing. Target >= 0.5x.

``python benchmarks/redis_streams.py [--count N] [--rounds R]``; each figure is the best of R rounds.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import coredis
import trio
from coredis.tokens import PureToken

from trio_feeds import normalized as nz
from trio_feeds.redis_streams import (
    PublisherConfig,
    ReaderConfig,
    open_publisher,
    open_stream_reader,
    stream_key,
)
from trio_feeds.redis_streams._codec import encode_item, item_tag
from trio_feeds.testing.redis import open_redis_server

BATCH = 500
MAXLEN = 1_000_000


def trades(count: int) -> list[nz.Trade]:
    now = datetime.now(UTC)
    return [
        nz.Trade(
            exchange="gateway",
            venue="binance",
            symbol="BTC-USDT",
            native_symbol="BTCUSDT",
            side=nz.Side.BUY if n % 2 else nz.Side.SELL,
            price=Decimal(f"{60000 + n % 1000}.{n % 100:02d}"),
            amount=Decimal(f"0.{n % 9999:04d}"),
            trade_id=str(n),
            exchange_time=now,
            received_at=now,
        )
        for n in range(count)
    ]


async def publish_ours(url: str, items: list[nz.Trade], prefix: str) -> float:
    config = PublisherConfig(maxlen=MAXLEN, batch_size=BATCH, queue_size=len(items) + 10)
    async with open_publisher(url, prefix=prefix, config=config) as publisher:
        start = time.perf_counter()
        for item in items:
            publisher.publish(item)
        await publisher.flush()
        return time.perf_counter() - start


async def publish_raw(client: coredis.Redis[Any], items: list[nz.Trade], key: str) -> float:
    entries = [
        {b"k": item_tag(i) or b"", b"d": encode_item(i), b"p": b"raw/0", b"n": str(n).encode()}
        for n, i in enumerate(items, 1)
    ]
    start = time.perf_counter()
    for at in range(0, len(entries), BATCH):
        async with client.pipeline(transaction=False) as pipe:
            for fields in entries[at : at + BATCH]:
                pipe.xadd(
                    key,
                    fields,
                    trim_strategy=PureToken.MAXLEN,
                    threshold=MAXLEN,
                    trim_operator=PureToken.APPROXIMATELY,
                )
    return time.perf_counter() - start


async def consume_ours(url: str, key: str, count: int, group: str) -> float:
    config = ReaderConfig(count=BATCH, block=0.1)
    async with open_stream_reader(url, group=group, consumer="c", streams=[key], config=config) as reader:
        start = time.perf_counter()
        seen = 0
        async for item in reader:
            if type(item) is nz.Trade:
                seen += 1
                if seen == count:
                    break
        return time.perf_counter() - start


async def consume_raw(client: coredis.Redis[Any], key: str, count: int, group: str) -> float:
    await client.xgroup_create(key, group, identifier="0")
    start = time.perf_counter()
    seen = 0
    while seen < count:
        reply = await client.xreadgroup(group, "c", {key: ">"}, count=BATCH)
        if not reply:
            continue
        entries = reply[key.encode()]
        seen += len(entries)
        await client.xack(key, group, [e.identifier for e in entries])
    return time.perf_counter() - start


async def main(count: int, rounds: int) -> None:
    items = trades(count)
    key = stream_key("bench", items[0])
    ours_pub, raw_pub, ours_con, raw_con = [], [], [], []
    async with (
        open_redis_server() as server,
        coredis.Redis.from_url(server.url, decode_responses=False) as client,
    ):
        for r in range(rounds):
            await client.flushall()
            raw_pub.append(await publish_raw(client, items, f"raw{r}"))
            ours_pub.append(await publish_ours(server.url, items, "bench"))
            raw_con.append(await consume_raw(client, key, count, f"raw{r}"))
            ours_con.append(await consume_ours(server.url, key, count, f"ours{r}"))
    print(f"redis streams: {count} normalized trades, best of {rounds} rounds (a real valkey/redis server)")
    for name, ours, raw, what in (
        ("publish", min(ours_pub), min(raw_pub), "pipelined XADD of pre-encoded entries"),
        ("consume", min(ours_con), min(raw_con), "XREADGROUP + XACK, no decoding"),
    ):
        ratio = (count / ours) / (count / raw)
        verdict = "met" if ratio >= 0.5 else "MISSED"
        print(
            f"  {name}: ours {count / ours:>9,.0f} msgs/s   raw coredis ({what}) {count / raw:>9,.0f} msgs/s"
            f"   ratio {ratio:.2f}x (target >= 0.5x: {verdict})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trio.run(main, args.count, args.rounds)
