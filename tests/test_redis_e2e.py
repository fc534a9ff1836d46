"""End to end: 2 publisher processes x the 4 protocols (local servers, with faults) -> Redis ->
2 consumer processes in one group, through a Redis crash and a consumer's death.

Checked: every entry Redis acknowledged is still there after the crash; each publisher's
entries of each stream are numbered 1..N with none missing or doubled; every entry went to
the group exactly once, except the ones the killed consumer held unacknowledged when it died
(those may have been handled by it and again by the other: at least once); every Gap a feed
had reached the consumers; nothing is left pending.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import coredis
import pytest
import trio

from trio_feeds import exchanges
from trio_feeds.redis_streams import registry_key
from trio_feeds.redis_streams._codec import decode_event
from trio_feeds.testing.redis import RedisServer

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "e2e"
GROUP = "strategies"

FEEDS: dict[str, list[str]] = {
    "gateway": [
        "--channel",
        "trades",
        "--channel",
        "orderbook",
        "--exchange",
        "binance",
        "--symbol",
        "BTCUSDT",
    ],
    "cryptology": [],
    "onyx": ["--channel", "tickers", "--product-group", "crude"],
    "peatio": ["--stream", "btcusd.trades", "--stream", "btcusd.ob-inc"],
}
SPLIT = {"pub-a": ["gateway", "cryptology"], "pub-b": ["onyx", "peatio"]}


def write_config(tmp: Path, name: str, urls: dict[str, str], redis_url: str) -> Path:
    lines = [
        "[redis]",
        f'url = "{redis_url}"',
        f'prefix = "{PREFIX}"',
        f'name = "{name}"',
        "backoff_initial = 0.05",
        "backoff_max = 0.3",
        "",
    ]
    for exchange in SPLIT[name]:
        creds = tmp / f"{exchange}.creds"
        creds.write_text(json.dumps(exchanges.get(exchange).test_credentials.environment()))
        lines += [
            "[[feeds]]",
            f'name = "{exchange}"',
            f'exchange = "{exchange}"',
            f'url = "{urls[exchange]}"',
            f"args = {json.dumps(FEEDS[exchange])}",
            f'credentials_file = "{creds}"',
            "",
        ]
    path = tmp / f"{name}.toml"
    path.write_text("\n".join(lines))
    return path


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with log.open("wb") as out:  # the child has its own copy of the descriptor
        return subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)


async def serve(
    entry: exchanges.Exchange, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED
) -> None:
    async with entry.open_server(rate=40.0) as server:
        task_status.started(server)
        await trio.sleep_forever()


def lines(path: Path) -> list[Any]:
    if not path.exists():
        return []
    text = path.read_text()
    # A line being written may be incomplete: only whole lines count.
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines() if line.strip()]


def read_logs(tmp: Path) -> dict[str, str]:
    return {p.name: p.read_text(errors="replace") for p in tmp.glob("*.log")}


async def ready(tmp: Path, procs: list[subprocess.Popen[bytes]]) -> None:
    """Until every feed has published and both consumers read (process start-up takes seconds)."""
    with trio.fail_after(60):
        while True:
            assert all(p.poll() is None for p in procs), "a process ended early"
            streams = {x[0] for name in SPLIT for x in lines(tmp / f"{name}.acked")}
            fed = all(any(f":{exchange}:" in key for key in streams) for exchange in FEEDS)
            if fed and all("ready" in (tmp / f"{c}.log").read_text() for c in ("alice", "bob")):
                return
            await trio.sleep(0.1)


async def wait_for(proc: subprocess.Popen[bytes], seconds: float) -> int:
    with trio.fail_after(seconds):
        while proc.poll() is None:  # noqa: ASYNC110 - a child process: nothing to wait on but polling
            await trio.sleep(0.05)
    return proc.returncode


@pytest.mark.slow
async def test_publishers_to_consumer_group_through_crash_and_death(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    names = list(FEEDS)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        async with trio.open_nursery() as nursery:
            servers = {name: await nursery.start(serve, exchanges.get(name)) for name in names}
            urls = {name: servers[name].url for name in names}
            publishers = {
                name: spawn(
                    [
                        sys.executable,
                        "-m",
                        "trio_feeds",
                        "publish",
                        str(write_config(tmp_path, name, urls, redis_server.url)),
                        "--acked",
                        str(tmp_path / f"{name}.acked"),
                    ],
                    tmp_path / f"{name}.log",
                )
                for name in SPLIT
            }
            consumers = {
                name: spawn(
                    [
                        sys.executable,
                        "-m",
                        "tests.redis_consumer",
                        redis_server.url,
                        PREFIX,
                        GROUP,
                        name,
                        str(tmp_path / f"{name}.out"),
                        # Bob is slow (30 ms an item, 5 a batch): he always holds entries when killed.
                        *(["0.03", "5"] if name == "bob" else []),
                    ],
                    tmp_path / f"{name}.log",
                )
                for name in ("alice", "bob")
            }
            procs = [*publishers.values(), *consumers.values()]
            await ready(tmp_path, procs)
            await trio.sleep(1.0)  # data flowing
            for server in servers.values():
                await server.close(1011, "fault: server restart")  # every feed: a Gap
            await trio.sleep(1.0)
            await trio.to_thread.run_sync(lambda: redis_server.restart(crash=True))  # SIGKILL Redis
            await trio.sleep(1.5)
            consumers["bob"].kill()  # a dead consumer: what it held is claimed by alice
            consumers["bob"].wait()
            async with coredis.Redis.from_url(redis_server.url, decode_responses=False) as client:
                held = set()
                for key in await client.smembers(registry_key(PREFIX)):
                    for entry in await client.xpending(
                        key, GROUP, start="-", end="+", count=10_000, consumer="bob"
                    ):
                        held.add((key.decode(), entry.identifier.decode()))
            for server in servers.values():
                await server.abort()  # TCP dropped: another Gap
            await trio.sleep(1.5)
            for proc in publishers.values():
                proc.send_signal(signal.SIGINT)
            codes = [await wait_for(p, 15) for p in publishers.values()]
            nursery.cancel_scope.cancel()
        # Alice drains the group, then stops.
        async with coredis.Redis.from_url(redis_server.url, decode_responses=False) as client:
            keys = [k.decode() for k in await client.smembers(registry_key(PREFIX))]
            with trio.fail_after(30):
                while True:  # every entry read, what bob held claimed (after claim_idle), ...
                    groups = [await client.xinfo_groups(k) for k in keys]
                    summaries = [await client.xpending(k, GROUP) for k in keys]
                    bob_holds = sum(p.consumers.get(b"bob", 0) for p in summaries)
                    # ... and alice has handled all but the one she may be on.
                    handled = sum(p.pending for p in summaries) <= 1
                    if all(g[0][b"lag"] == 0 for g in groups) and not bob_holds and handled:
                        break
                    await trio.sleep(0.2)
            consumers["alice"].send_signal(signal.SIGINT)
            assert await wait_for(consumers["alice"], 10) == 0
            stored = {k: list(await client.xrange(k)) for k in keys}
            pending = [await client.xpending(k, GROUP) for k in keys]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    logs = read_logs(tmp_path)
    assert codes == [130, 130], logs  # stopped by SIGINT, nothing left unpublished (else 1)
    for name in SPLIT:
        assert "unpublished=0" in logs[f"{name}.log"], logs[f"{name}.log"]

    ids = {(k, e.identifier.decode()) for k, entries in stored.items() for e in entries}
    # 1. Nothing Redis acknowledged was lost in the crash.
    acked = {tuple(x) for name in SPLIT for x in lines(tmp_path / f"{name}.acked")}
    assert acked
    assert acked <= ids
    # 2. Each publisher instance's entries of each stream: 1..N, none missing, none twice.
    numbers: dict[tuple[str, bytes], list[int]] = {}
    for key, entries in stored.items():
        for e in entries:
            numbers.setdefault((key, e.field_values[b"p"]), []).append(int(e.field_values[b"n"]))
    for series in numbers.values():
        assert series == list(range(1, len(series) + 1))
    # 3. Every entry went to the group exactly once, but what bob held when he died.
    got = [x for name in ("alice", "bob") for x in lines(tmp_path / f"{name}.out")]
    assert not [x for x in got if "gap" in x]  # nothing was trimmed
    delivered = Counter((x["s"], x["id"]) for x in got)
    assert set(delivered) == ids
    twice = {entry for entry, count in delivered.items() if count > 1}
    assert max(delivered.values()) <= 2
    assert twice <= held
    alice = {(x["s"], x["id"]) for x in lines(tmp_path / "alice.out")}
    assert held  # bob died holding entries...
    assert held <= alice  # ... and alice claimed them all
    # 4. Every Gap of every feed reached the group (once per stream it was written to).
    gaps = {
        (k, e.identifier.decode())
        for k, entries in stored.items()
        for e in entries
        if e.field_values[b"k"] == b"event" and type(decode_event(e.field_values[b"d"])[2]).__name__ == "Gap"
    }
    # Two faults per server (a close, a TCP drop): each feed had two Gaps or more, each one event
    # (publisher, number) written to several streams.
    gap_events: dict[str, set[tuple[bytes, int]]] = {}
    for k, entries in stored.items():
        for e in entries:
            if (k, e.identifier.decode()) in gaps:
                feed, number, _ = decode_event(e.field_values[b"d"])
                gap_events.setdefault(feed, set()).add((e.field_values[b"p"], number))
    assert set(gap_events) == set(names)
    assert all(len(events) >= 2 for events in gap_events.values()), gap_events
    assert gaps <= set(delivered)
    # 5. Nothing pending.
    assert all(p.pending == 0 for p in pending)
