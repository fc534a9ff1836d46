"""Several feeds at once: a gateway and a Cryptology feed in one group, as normalized trades.

`open_feeds` runs each feed in the group's nursery and merges their items, tagged with the
feed's name; `normalized=True` maps every message to exchange-neutral `trio_feeds.normalized`
items (here `Trade`, with a common `BASE-QUOTE` symbol). `group.health` tells how each feed is.
One server is then stopped for good: with `on_failure="isolate"` the group yields `FeedFailed`
for that feed and goes on with the other.

    python examples/many_feeds.py       # starts its own local servers
"""

from __future__ import annotations

import trio

from trio_feeds import FeedConfig, cryptology, gateway, normalized
from trio_feeds.group import FeedFailed, open_feeds
from trio_feeds.testing import open_cryptology_server, open_gateway_server


async def main() -> None:
    # Give up on a feed after two failed reconnects (the default retries for ever).
    config = FeedConfig(backoff_initial=0.05, max_attempts=2)
    async with (
        open_gateway_server(api_key="key", api_secret="secret") as gw,
        open_cryptology_server(trade_pairs=["ETH_USD"]) as cr,
    ):
        feeds = {
            "gw": gateway.open_feed(gw.url, credentials=gateway.Credentials("key", "secret"), config=config),
            "cr": cryptology.open_feed(cr.url, config=config),
        }
        async with open_feeds(feeds, normalized=True, on_failure="isolate") as group:
            # The group's feeds have their common type; the gateway's own methods need its class.
            gw_feed = group["gw"]
            assert isinstance(gw_feed, gateway.GatewayFeed)
            await gw_feed.subscribe(["trades"], symbols=["BTCUSDT"])
            trades = {"gw": 0, "cr": 0}
            async for tagged in group:
                item = tagged.item
                if isinstance(item, normalized.Trade):
                    trades[tagged.feed] += 1
                    if trades[tagged.feed] <= 2:
                        side = item.side.name if item.side is not None else "?"
                        print(f"{tagged.feed}: {item.symbol} {side} {item.amount} @ {item.price}")
                    if min(trades.values()) == 2 and cr.connections[-1].open:
                        health = {name: h.connected for name, h in group.health.items()}
                        print("health:", health)
                        cr.refuse_next(10, status=503)  # the Cryptology server refuses every reconnect
                        await cr.close(1011, "going away")
                elif isinstance(item, FeedFailed):
                    print(f"{tagged.feed} failed: {type(item.error).__name__}; the others go on")
                    break
            print("still connected:", [name for name, h in group.health.items() if h.connected])


if __name__ == "__main__":
    trio.run(main)
