"""The true order books of the test servers (mixed into :class:`~trio_feeds.testing.FeedServer`).

A server with order books says what each market's book is, two ways:

* :meth:`BookRecords.book`: the true book of a market now (the matching engine's where the
  server has one, Peatio's; otherwise the last book the server sent for that market);
* :meth:`BookRecords.book_as_of`: the true book when the server sent a given frame. The book
  changes while frames are on their way, so a test that compares a client's book with the
  server's compares it with the book as of the last book frame that client processed (its
  feed's tap sees every frame): exact, whatever the timing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable
from decimal import Decimal

import attrs

from ._connection import Frame

__all__ = ["BOOK_HISTORY", "BookRecords", "BookState"]

BOOK_HISTORY = 1_000
"""How many book frames :meth:`BookRecords.book_as_of` remembers by default (the oldest are
forgotten). A client is never more than its socket buffers behind the server, a few hundred
frames at most; each remembered frame holds its text and a whole book (a few KiB), so a long
run (``trio-feeds serve``, a soak) sets ``book_history`` lower, or to 0."""


@attrs.frozen
class BookState:
    """A market's true order book.

    Attributes:
        bids: ``(price, amount)`` levels, best (highest) first.
        asks: ``(price, amount)`` levels, best (lowest) first.
        sequence: the sequence of the last increment (that the next snapshot would carry);
            ``None`` for a protocol without sequences.
    """

    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]
    sequence: int | None = None

    @classmethod
    def of(
        cls,
        bids: Iterable[tuple[Decimal, Decimal]],
        asks: Iterable[tuple[Decimal, Decimal]],
        sequence: int | None = None,
    ) -> BookState:
        """The book with these levels, sorted best first; levels of amount 0 are not levels."""
        return cls(
            bids=sorted(((p, a) for p, a in bids if a), reverse=True),
            asks=sorted((p, a) for p, a in asks if a),
            sequence=sequence,
        )


class BookRecords:
    """The true books of a server, now and as of each book frame it sent.

    Attributes:
        book_history: how many book frames :meth:`book_as_of` remembers (default
            :data:`BOOK_HISTORY`; 0 remembers none, for long runs).
    """

    def __init__(self) -> None:
        self.book_history = BOOK_HISTORY  # book frames remembered for book_as_of; 0: none
        self._last_books: dict[Hashable, BookState] = {}
        self._book_frames: OrderedDict[Frame, tuple[Hashable, BookState]] = OrderedDict()

    def book(self, key: Hashable) -> BookState:
        """The true book of market ``key`` (keyed as ``feed.books`` is): the last one sent.

        Raises:
            KeyError: the server sent no book of ``key``.
        """
        return self._last_books[key]

    def book_as_of(self, frame: Frame) -> tuple[Hashable, BookState] | None:
        """``(market key, true book)`` when the server sent ``frame``; ``None``: not a book frame.

        A frame is the exact ``str``/``bytes`` a client received. Only the last
        ``book_history`` book frames are remembered.
        """
        return self._book_frames.get(frame)

    def _sent_book(self, frame: Frame, key: Hashable, state: BookState) -> Frame:
        """Note that ``frame`` carries market ``key`` whose true book is ``state``; returns ``frame``."""
        self._last_books[key] = state
        frames = self._book_frames
        if self.book_history > 0:
            frames[frame] = (key, state)
            frames.move_to_end(frame)
        while len(frames) > self.book_history:
            frames.popitem(last=False)
        return frame
