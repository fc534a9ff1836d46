"""Onyx: authenticate with a token, subscribe to tickers, print a few bid/ask quotes.

`subscribe` waits for the server's answer and raises `trio_feeds.SubscriptionError` if it
refuses (an unknown product, say).

    python examples/onyx.py                                # starts a local server
    python examples/onyx.py ws://127.0.0.1:PORT/stream/v1  # e.g. `trio-feeds serve onyx`

The token comes from TRIO_FEEDS_TOKEN (default: the one `trio-feeds serve onyx` accepts).
"""

from __future__ import annotations

import os
import sys

import trio

from trio_feeds import SubscriptionError, onyx

TOKEN = os.environ.get("TRIO_FEEDS_TOKEN", "demo-token")


async def print_tickers(url: str, count: int = 3) -> None:
    """Print `count` ticker events of the crude product group."""
    async with onyx.open_feed(url, token=TOKEN) as feed:
        try:
            await feed.subscribe("tickers", product_groups=["no-such-group"])
        except SubscriptionError as exc:
            print("refused, as expected:", exc)
        await feed.subscribe("tickers", product_groups=["crude"])
        seen = 0
        async for item in feed:
            if isinstance(item, onyx.TickersEvent):
                for ticker in item.message:
                    print(f"{ticker.product_symbol}: {ticker.bid.price} / {ticker.ask.price}")
                seen += 1
                if seen == count:
                    return


async def main(argv: list[str]) -> None:
    if len(argv) > 1:
        await print_tickers(argv[1])
        return
    from trio_feeds.testing import open_onyx_server  # the `testing` extra

    async with open_onyx_server(token=TOKEN) as server:
        await print_tickers(server.url)


if __name__ == "__main__":
    trio.run(main, sys.argv)
