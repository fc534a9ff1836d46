"""Order books: a Peatio book kept by the feed, broken by a missed increment and healed in band.

The feed applies Ranger's snapshot, then each sequenced increment. Here the local server drops
increments on purpose (`skip_sequence`): the feed sees the sequence jump, yields
`BookOutOfSync`, resubscribes by itself and yields `BookSynced` when the fresh snapshot is in.
Then the same book is built by hand from `trio_feeds.books`, which is pure (no I/O): how you
would rebuild books from a recording or a REST snapshot.

    python examples/books.py     # starts its own local server: it injects the fault
"""

from __future__ import annotations

from decimal import Decimal

import trio

from trio_feeds import events, peatio
from trio_feeds.books import Books
from trio_feeds.testing import open_peatio_server


def level(level: tuple[Decimal, Decimal] | None) -> str:
    """A price level as ``amount @ price``."""
    return "none" if level is None else f"{level[1]} @ {level[0]}"


async def follow_a_book() -> None:
    async with open_peatio_server(rate=200) as server:
        # The later servers' forms: the feed can resubscribe on the same connection.
        async with peatio.open_feed(
            server.url, streams=["btcusd.ob-inc"], auth="header", subscribe_mode="event"
        ) as feed:
            broken = False
            async for item in feed:
                if isinstance(item, events.BookSynced):
                    book = feed.books[item.key]
                    print(f"synced {item.key} at sequence {book.sequence}: {len(book.bids)} bids,", end=" ")
                    print(f"{len(book.asks)} asks, best {level(book.best_bid)} / {level(book.best_ask)}")
                    if broken:
                        break
                    server.skip_sequence(3)  # three increments never reach us
                    broken = True
                elif isinstance(item, events.BookOutOfSync):
                    print(f"out of sync {item.key}: {item.reason}")
        # Same connection throughout: the resync was a resubscription, not a reconnect.
        print("connections:", len(server.connections))


def build_by_hand() -> None:
    books: Books[str] = Books()
    bids = [(Decimal("99"), Decimal("1"))]
    asks = [(Decimal("101"), Decimal("2"))]
    print(books.snapshot("btcusd", bids, asks, sequence=1))  # [BookSynced(key='btcusd')]
    books.increment("btcusd", "bid", Decimal("100"), Decimal("0.5"), sequence=2)
    book = books["btcusd"]
    print(f"by hand: best {level(book.best_bid)} / {level(book.best_ask)}, spread {book.spread}")
    print(books.increment("btcusd", "ask", Decimal("102"), Decimal("1"), sequence=5))  # a jump


if __name__ == "__main__":
    trio.run(follow_a_book)
    build_by_hand()
