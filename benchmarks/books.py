"""Order-book apply cost per message: ``trio_feeds.books`` against a plain dict fold.

Run with ``python benchmarks/books.py``. Not part of CI: it prints figures and asserts nothing.
Every figure is measured in this process against a baseline on the same data, interleaved
(baseline, contender, baseline, ...) and keeping each one's best round, so load from elsewhere
on the machine moves both.

- **increment**: one level change (Peatio ``ob-inc``) on a 25+25-level book: a third of them
  change an existing level, a third add one and a third remove one, so the book keeps its size;
  bids stay below the asks (a crossed book would unsync and skip work). The baseline is the
  reference fold of tests/test_books.py: one dict per side, ``d[price] = amount`` or
  ``d.pop(price)``. ``Books.increment`` adds the sequence check and keeps the prices sorted
  (what ``best_bid``, ``depth(n)`` and iteration need); ``OrderBook.update`` is the level change
  alone. The last row applies a normalized ``BookUpdate`` (one level, sequenced), the way a feed
  would from ``trio_feeds.normalized`` items.
- **snapshot**: a whole 25+25-level book replaces the old one (Cryptology ``OrderBookAgg``,
  gateway ``orderbook``, Peatio ``ob-snap``). Baseline: two ``dict(levels)``.

Target (issue 10): an increment in <= 2 us.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from trio_feeds.books import Books, OrderBook
from trio_feeds.normalized import BookUpdate

D = Decimal
LEVELS = 25
N = 20_000  # increments per timed run


def make_book() -> tuple[list[tuple[D, D]], list[tuple[D, D]]]:
    bids = [(D(10_000) - D(i) / 2, D(1) + D(i) / 100) for i in range(LEVELS)]
    asks = [(D("10000.5") + D(i) / 2, D(1) + D(i) / 100) for i in range(LEVELS)]
    return bids, asks


def make_increments(n: int, seed: int = 7) -> list[tuple[str, D, D]]:
    """Changes that keep each side near LEVELS levels and never cross the book."""
    rng = random.Random(seed)
    bids, asks = make_book()
    held = {"bid": {p for p, _ in bids}, "ask": {p for p, _ in asks}}
    out: list[tuple[str, D, D]] = []
    for _ in range(n):
        side = rng.choice(("bid", "ask"))
        prices = held[side]
        kind = rng.randrange(3)  # 0 change, 1 add, 2 remove; the side stays within LEVELS +- 5
        if kind == 1 and len(prices) >= LEVELS + 5:
            kind = 2
        elif kind == 2 and len(prices) <= LEVELS - 5:
            kind = 1
        if kind == 0:
            price = rng.choice(sorted(prices))
            out.append((side, price, D(rng.randint(1, 500)) / 100))
        elif kind == 1:
            step = D(rng.randint(0, 4 * LEVELS)) / 2
            price = D(10_000) - step if side == "bid" else D("10000.5") + step
            prices.add(price)
            out.append((side, price, D(rng.randint(1, 500)) / 100))
        else:
            price = rng.choice(sorted(prices))
            prices.discard(price)
            out.append((side, price, D(0)))
    return out


# -- the contenders: each takes a prepared state and runs the increments ---------------------------


def fold_run(incs: list[tuple[str, D, D]]) -> Callable[[], None]:
    bids, asks = make_book()
    ref = {"bid": dict(bids), "ask": dict(asks)}

    def run() -> None:
        for side, price, amount in incs:
            levels = ref[side]
            if amount:
                levels[price] = amount
            else:
                levels.pop(price, None)

    return run


def orderbook_run(incs: list[tuple[str, D, D]]) -> Callable[[], None]:
    book: OrderBook[str] = OrderBook("btcusd")
    bids, asks = make_book()
    book.replace(bids, asks)
    update = book.update

    def run() -> None:
        for side, price, amount in incs:
            update(side, price, amount)  # type: ignore[arg-type]

    return run


def books_run(incs: list[tuple[str, D, D]]) -> Callable[[], None]:
    books: Books[str] = Books()
    bids, asks = make_book()
    books.snapshot("btcusd", bids, asks, sequence=0)
    increment = books.increment

    def run() -> None:
        for seq, (side, price, amount) in enumerate(incs, 1):
            increment("btcusd", side, price, amount, sequence=seq)  # type: ignore[arg-type]

    return run


def normalized_run(incs: list[tuple[str, D, D]]) -> Callable[[], None]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    updates = [
        BookUpdate(
            exchange="peatio",
            venue="peatio",
            symbol="BTC-USD",
            native_symbol="btcusd",
            bids=((price, amount),) if side == "bid" else (),
            asks=((price, amount),) if side == "ask" else (),
            sequence=seq,
            exchange_time=None,
            received_at=at,
        )
        for seq, (side, price, amount) in enumerate(incs, 1)
    ]
    books: Books[str] = Books()
    bids, asks = make_book()
    books.snapshot("btcusd", bids, asks, sequence=0)
    increment = books.increment

    def run() -> None:
        for u in updates:
            # The first level carries the message's sequence; any further level of the same
            # message applies without one (Books.increment skips the check then).
            seq: int | None = u.sequence
            for price, amount in u.bids:
                increment(u.native_symbol, "bid", price, amount, sequence=seq)
                seq = None
            for price, amount in u.asks:
                increment(u.native_symbol, "ask", price, amount, sequence=seq)
                seq = None

    return run


def best_of(makers: dict[str, Callable[[], Callable[[], None]]], n: int, rounds: int) -> dict[str, float]:
    """Seconds per message of each contender: interleaved rounds, fresh state each, best kept."""
    best = dict.fromkeys(makers, float("inf"))
    for _ in range(rounds):
        for name, make in makers.items():
            run = make()  # state reset outside the timing: every run applies the same changes
            t0 = time.perf_counter()
            run()
            best[name] = min(best[name], (time.perf_counter() - t0) / n)
    return best


def snapshot_rates(rounds: int, number: int) -> dict[str, float]:
    bids, asks = make_book()
    books: Books[str] = Books()
    book: OrderBook[str] = OrderBook("btcusd")

    ref: dict[str, dict[D, D]] = {}

    def fold() -> None:
        ref["bid"] = dict(bids)
        ref["ask"] = dict(asks)

    def replace() -> None:
        book.replace(bids, asks)

    def snapshot() -> None:
        books.snapshot("btcusd", bids, asks)

    contenders = {"dict fold": fold, "OrderBook.replace": replace, "Books.snapshot": snapshot}
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(rounds):
        for name, fn in contenders.items():
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t0) / number)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (best kept)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    incs = make_increments(N)
    inc = best_of(
        {
            "dict fold": lambda: fold_run(incs),
            "OrderBook.update": lambda: orderbook_run(incs),
            "Books.increment": lambda: books_run(incs),
            "normalized BookUpdate": lambda: normalized_run(incs),
        },
        N,
        args.rounds,
    )
    snap = snapshot_rates(args.rounds, 2_000)
    if args.json:
        out = {"python": sys.version.split()[0], "increment_s": inc, "snapshot_25x25_s": snap}
        print(json.dumps(out, indent=2))
        return 0
    for title, row in (("increment, per message", inc), ("25+25-level snapshot, per message", snap)):
        base = row["dict fold"]
        print(f"\n{title} (ratio = time / dict fold)")
        print(f"{'contender':<24}{'us':>9}{'ratio':>8}")
        for name, t in row.items():
            print(f"{name:<24}{t * 1e6:>9.3f}{t / base:>8.2f}")
    verdict = "met" if inc["Books.increment"] <= 2e-6 else "NOT met"
    print(f"\ntarget: an increment in <= 2 us: {verdict} ({inc['Books.increment'] * 1e6:.2f} us)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
