"""Trades from a trading gateway: authenticate, subscribe, print five trades, then stop.

Run it as it is and it starts a local gateway server in the same process (needs the `testing`
extra); give it a URL to connect to a running one instead, e.g. `trio-feeds serve gateway`:

    python examples/gateway.py
    python examples/gateway.py ws://127.0.0.1:PORT/ws

Credentials come from TRIO_FEEDS_API_KEY and TRIO_FEEDS_API_SECRET (default: the ones
`trio-feeds serve gateway` accepts). The login signature is HMAC-SHA256; pass `signer=` to
`gateway.open_feed` if your gateway signs differently.
"""

from __future__ import annotations

import os
import sys

import trio

from trio_feeds import events, gateway

API_KEY = os.environ.get("TRIO_FEEDS_API_KEY", "demo-key")
API_SECRET = os.environ.get("TRIO_FEEDS_API_SECRET", "demo-secret")


async def print_trades(url: str, count: int = 5) -> None:
    """Subscribe to BTCUSDT trades and print `count` of them, with the session events."""
    credentials = gateway.Credentials(API_KEY, API_SECRET)
    async with gateway.open_feed(url, credentials=credentials) as feed:
        # Returns once the server acknowledged the subscription (or raises SubscriptionError).
        await feed.subscribe(["trades"], exchange="binance", symbols=["BTCUSDT"])
        seen = 0
        async for item in feed:
            if isinstance(item, gateway.TradesMessage):
                trade = item.data
                print(f"{item.symbol} {trade.side} {trade.amount} @ {trade.price}")
                seen += 1
                if seen == count:
                    return
            elif isinstance(item, events.SessionEvent):
                print("event:", item)


async def main(argv: list[str]) -> None:
    if len(argv) > 1:
        await print_trades(argv[1])
        return
    from trio_feeds.testing import open_gateway_server  # the `testing` extra

    async with open_gateway_server(api_key=API_KEY, api_secret=API_SECRET) as server:
        await print_trades(server.url)


if __name__ == "__main__":
    trio.run(main, sys.argv)
