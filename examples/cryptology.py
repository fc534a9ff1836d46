"""Cryptology market data: trades and order books of one trade pair, no authentication.

The server sends every trade pair; the feed keeps those asked for. It reads both wire forms,
binary XDR frames (the real server's) and JSON text frames (the documents'): `feed.form` says
which one the first frame showed.

    python examples/cryptology.py                          # starts a local server
    python examples/cryptology.py ws://127.0.0.1:PORT/     # e.g. `trio-feeds serve cryptology`
"""

from __future__ import annotations

import sys

import trio

from trio_feeds import cryptology, events


async def print_market(url: str, pair: str = "BTC_USD", trades: int = 3) -> None:
    """Print `trades` anonymous trades of `pair` and its order book once it is synced."""
    async with cryptology.open_feed(url, trade_pairs=[pair]) as feed:
        seen = 0
        book_shown = False
        async for item in feed:
            if isinstance(item, cryptology.AnonymousTrade):
                print(f"{item.time.isoformat()} {item.trade_pair} {item.amount} @ {item.price}")
                seen += 1
            elif isinstance(item, events.BookSynced) and not book_shown:
                book = feed.books[item.key]
                print(f"book {item.key}: bid {book.best_bid} ask {book.best_ask} ({feed.form} frames)")
                book_shown = True
            elif isinstance(item, events.DecodeFailed):
                print("bad frame, skipped:", item.error)
            if seen >= trades and book_shown:
                return


async def main(argv: list[str]) -> None:
    if len(argv) > 1:
        await print_market(argv[1])
        return
    from trio_feeds.testing import open_cryptology_server  # the `testing` extra

    async with open_cryptology_server(trade_pairs=["BTC_USD", "ETH_USD"]) as server:
        await print_market(server.url)


if __name__ == "__main__":
    trio.run(main, sys.argv)
