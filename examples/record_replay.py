"""Record a live feed to a file, then replay the file: the same typed messages and events.

The recording holds every frame as received, the connections and their ends, the session
events and your own subscribe calls; never the frames the feed sent (they carry credentials).
A replay runs them through the same engine and protocol.

    python examples/record_replay.py [FILE]   # starts its own local server

FILE defaults to session.jsonl.gz in a temporary directory.
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import trio

from trio_feeds import events, gateway
from trio_feeds.recording import open_recorder
from trio_feeds.replay import open_replay
from trio_feeds.testing import open_gateway_server


async def record(path: Path) -> list[object]:
    """Record a gateway session with one dropped connection; return what the feed gave."""
    live: list[object] = []
    credentials = gateway.Credentials("key", "secret")
    # Entered in order, left in reverse: the feed ends, then the recorder writes what is left.
    async with (
        open_gateway_server(api_key="key", api_secret="secret", rate=200) as server,
        open_recorder(path, overwrite=True) as recorder,
        gateway.open_feed(server.url, credentials=credentials, recorder=recorder) as feed,
    ):
        await feed.subscribe(["trades"], symbols=["BTCUSDT"])
        async for item in feed:
            live.append(item)
            if len(live) == 10:
                await server.close(1011, "restart")  # recorded too
            if isinstance(item, events.Gap):
                break
    return live


async def replay(path: Path) -> list[object]:
    """Play the recording back as fast as it is consumed."""
    async with open_replay(path, speed=math.inf) as feed:
        return [item async for item in feed]


async def main(path: Path) -> None:
    live = await record(path)
    size = (await trio.Path(path).stat()).st_size
    print(f"recorded {len(live)} items to {path} ({size} bytes)")
    replayed = await replay(path)
    same = sum(1 for was, now in zip(live, replayed, strict=False) if was == now)
    print(f"replayed {len(replayed)} items; {same} of the first {len(live)} equal")
    # A Gap's times are on the replay's clock: the only field that may differ.
    for was, now in zip(live, replayed, strict=False):
        assert was == now or isinstance(now, events.Gap), (was, now)
    print("events:", [type(item).__name__ for item in replayed if isinstance(item, events.SessionEvent)])


if __name__ == "__main__":
    if len(sys.argv) > 1:
        trio.run(main, Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            trio.run(main, Path(tmp) / "session.jsonl.gz")
