"""Peatio Ranger: public trades, the order book of a market and the private order stream.

Streams go in the URL; the JWT opens the private `order` and `trade` streams. `auth="header"`
and `subscribe_mode="event"` speak the later (Ruby 0.4.5+, rango) servers' forms; the defaults
speak the protocol document's.

    python examples/peatio.py                          # starts a local server
    python examples/peatio.py ws://127.0.0.1:PORT/     # e.g. `trio-feeds serve peatio`

The token comes from TRIO_FEEDS_TOKEN (default: the one `trio-feeds serve peatio` accepts).
"""

from __future__ import annotations

import os
import sys

import trio

from trio_feeds import events, peatio

TOKEN = os.environ.get("TRIO_FEEDS_TOKEN", "demo-token")


async def print_streams(url: str, count: int = 5) -> None:
    """Print `count` stream messages and the btcusd book once it is synced."""
    streams = ["btcusd.trades", "btcusd.ob-inc", "order"]
    async with peatio.open_feed(url, streams=streams, token=TOKEN) as feed:
        seen = 0
        book_shown = False
        async for item in feed:
            if isinstance(item, peatio.StreamMessage):
                print(f"{item.stream}: {type(item.data).__name__}")
                seen += 1
            elif isinstance(item, events.BookSynced) and not book_shown:
                book = feed.books[item.key]
                print(f"book {item.key}: sequence {book.sequence}, spread {book.spread}")
                book_shown = True
            if seen >= count and book_shown:
                return


async def main(argv: list[str]) -> None:
    if len(argv) > 1:
        await print_streams(argv[1])
        return
    from trio_feeds.testing import open_peatio_server  # the `testing` extra

    async with open_peatio_server(token=TOKEN) as server:
        await print_streams(server.url)


if __name__ == "__main__":
    trio.run(main, sys.argv)
