"""The parts of the Peatio Ranger protocol that stand alone: its requests and its order books.

:class:`RangerRequests` matches Ranger's replies, which carry no request id, to the requests in
flight (each server answers a connection's requests one by one, in order), splits requests over
rango's 512-byte limit, and keeps rango's per-stream refusals. :class:`RangerBooks` keeps the
books of ``<market>.ob-inc`` streams and decides when one needs a fresh snapshot. Both are pure:
no I/O, time passed in. ``trio_feeds._sansio.peatio`` drives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Literal

from .._codecs import peatio as _codec
from .._codecs.peatio import StreamMessage, market_of
from ..books import BookEvent, Books, Side
from ..models.peatio import OrderBookIncrement, OrderBookSnapshot, SubscribeRequest, UnsubscribeRequest
from ._protocol import Action, RequestDone, Send
from ._requests import Request, RequestState, RequestTracker

__all__ = [
    "MAX_CLIENT_MESSAGE",
    "Kind",
    "RangerBooks",
    "RangerRequests",
    "book_market",
    "frame_size",
    "handshake_closed_hint",
    "keeps_book",
]

Kind = Literal["subscribe", "unsubscribe"]
Key = tuple[str, ...]

MAX_CLIENT_MESSAGE = 512
"""rango closes the connection (1009) on a client message over this many bytes: longer
subscribe/unsubscribe lists are split into several requests."""


class RangerRequests:
    """The requests of one protocol object, and how Ranger's replies complete them."""

    def __init__(self) -> None:
        self.tracker: RequestTracker[Key] = RequestTracker()
        # A request split in several frames: earlier frame -> the last one, whose reply the
        # caller waits for (a refusal of an earlier frame fails the caller too).
        self._last_of: dict[Request[Key], Request[Key]] = {}
        self._refusals: dict[Request[Key], str] = {}  # rango's "cannot subscribe to X", per request
        self.carried: list[Request[Key]] = []  # carried by the query string: the handshake ack answers

    def send(self, kind: Kind, streams: Key, *, user: bool) -> tuple[str | None, list[Action]]:
        """Request frames for ``streams``, each at most MAX_CLIENT_MESSAGE bytes; the waiter id.

        Only a user's request has a waiter (on its last frame); the protocol's own are answered
        in order like any other, completing nothing anyone waits for.
        """
        chunks = _split(kind, streams)
        requests = [
            self.tracker.add(kind, chunk, user=user, sent=True, waiter=user and i == len(chunks) - 1)
            for i, chunk in enumerate(chunks)
        ]
        for earlier in requests[:-1]:
            self._last_of[earlier] = requests[-1]
        return requests[-1].first_waiter, [_send(r) for r in requests]

    def carry_queued(self, *, ack_expected: bool) -> list[Action]:
        """A new connection's query string carries every queued request's streams.

        With a server that acknowledges the handshake they complete with that acknowledgement;
        otherwise (the document form has no acknowledgements) now.
        """
        actions: list[Action] = []
        for request in self.tracker.select(state=RequestState.QUEUED):
            if ack_expected:
                self.tracker.send(request)
                self.carried.append(request)
            else:
                actions += self.tracker.cancel(request, None)
        return actions

    def acknowledged(self) -> list[Action]:
        """The handshake acknowledgement came: every carried request is answered."""
        actions: list[Action] = []
        for request in self.carried:
            if request.state is RequestState.SENT:
                actions += self.done(request, None)
        self.carried.clear()
        return actions

    def oldest_sent(self, *kinds: str) -> Request[Key] | None:
        """The oldest request in flight of one of ``kinds`` (not one the handshake ack answers)."""
        return self.tracker.find(
            state=RequestState.SENT, where=lambda r: r.kind in kinds and r not in self.carried
        )

    def refused_stream(self, text: str) -> None:
        """Rango's ``cannot subscribe to X``: a note for the subscribe in flight, given with its reply."""
        request = self.oldest_sent("subscribe")
        if request is not None:
            note = self._refusals.get(request)
            self._refusals[request] = text if note is None else f"{note}; {text}"

    def done(self, request: Request[Key], error: str | None) -> list[Action]:
        """Complete ``request`` (answered, or refused with ``error``), and its split siblings."""
        refusal = self._refusals.pop(request, None)
        if error is None and refusal is not None:
            error = refusal
        done: list[Action] = []
        if error is None:
            done += self.tracker.answer(request)
        else:
            done += self.tracker.refuse(request, error)
        last = self._last_of.pop(request, None)
        if last is not None and error is not None and last.waiters:
            # The caller waits on the last frame of the split request: it fails now; that
            # frame's own reply is still consumed in order when it comes.
            done += [RequestDone(w, error) for w in last.waiters]
            last.waiters.clear()
        return done

    def connection_lost(self) -> None:
        """Awaited user requests are queued again; the rest, and the notes about them, go."""
        self.carried.clear()
        self.tracker.connection_lost()
        self._last_of.clear()
        self._refusals.clear()


class RangerBooks:
    """The order book of each ``<market>.ob-inc`` stream, and when it needs a fresh snapshot.

    Args:
        snapshot_timeout: seconds a book may wait for its snapshot (after its stream was
            subscribed or resynced) while increments arrive, before it is resynced.
    """

    def __init__(self, snapshot_timeout: float) -> None:
        self.books: Books[str] = Books()
        self.snapshot_timeout = snapshot_timeout
        self._due: dict[str, float] = {}  # market -> since when its snapshot is awaited

    def expect(self, streams: Iterable[str], now: float) -> None:
        """``streams`` were (re)subscribed: the snapshot of each book among them is due from ``now``."""
        for stream in streams:
            market = book_market(stream)
            if market is not None:
                self._due[market] = now

    def snapshot(self, market: str, snap: OrderBookSnapshot, now: float) -> list[BookEvent]:
        """Apply a snapshot; a crossed one is waited past like a missing one."""
        events = self.books.snapshot(market, snap.bids, snap.asks, sequence=snap.sequence)
        if self.books[market].synced:
            self._due.pop(market, None)
        else:
            self._due[market] = now
        return events

    def increment(
        self, market: str, inc: OrderBookIncrement, now: float, *, subscribed: bool
    ) -> list[BookEvent]:
        """Apply an increment, checking its sequence; ``subscribed``: the stream is still wished."""
        books = self.books
        book = books.book(market)
        seq = inc.sequence
        events: list[BookEvent] = []
        if seq is not None and book.synced and book.sequence is not None and seq < book.sequence:
            # A repeat has the same number; a smaller one means the engine started again at 1.
            why = f"sequence went back: {book.sequence} -> {seq} (engine restarted?)"
            events += books.unsync(market, why)
        else:
            for i, (side, price, amount) in enumerate(_changes(inc)):
                if i == 0:
                    before = book.sequence
                    events += books.increment(market, side, price, amount, sequence=seq)
                    if seq is not None and not (book.synced and book.sequence == seq and before != seq):
                        break  # not applied (a repeat, a jump, no snapshot): neither are the others
                else:
                    events += books.increment(market, side, price, amount)
        if not book.synced and subscribed:
            # Increments flow, so the server has a snapshot to give: ask again when it is late.
            since = self._due.setdefault(market, now)
            if now - since >= self.snapshot_timeout:
                books.unsync(market, f"no snapshot within {self.snapshot_timeout:g} s", resync=True)
        return events

    def take_resyncs(self, wished: Iterable[str], now: float) -> list[str]:
        """The markets whose book needs a fresh snapshot and whose stream is still in ``wished``."""
        wanted = set(wished)
        markets = [m for m in self.books.take_resyncs() if f"{m}.ob-inc" in wanted]
        for market in markets:
            self._due[market] = now
        return markets

    def on_frame(
        self, msg: StreamMessage[Any], now: float, wished: Sequence[str]
    ) -> tuple[list[BookEvent], list[str]]:
        """Apply an ``ob-snap``/``ob-inc`` frame; its events and the markets to resync now.

        ``wished``: the streams the user wants; a frame of a book no longer among them (still in
        flight after an unsubscribe) changes nothing.
        """
        market = market_of(msg.stream)
        if market is None or not keeps_book(market, wished):
            return [], []
        data = msg.data
        if isinstance(data, OrderBookSnapshot):
            events = self.snapshot(market, data, now)
        else:
            events = self.increment(market, data, now, subscribed=f"{market}.ob-inc" in wished)
        return events, self.take_resyncs(wished, now)

    def unsubscribed(self, gone: Iterable[str], wished: Sequence[str]) -> list[BookEvent]:
        """Streams were unsubscribed: a book no longer kept is out of sync for good (no resync)."""
        events: list[BookEvent] = []
        for market in dict.fromkeys(m for s in gone if (m := market_of(s)) is not None and _is_book(s)):
            if not keeps_book(market, wished):
                self._due.pop(market, None)
                if market in self.books:
                    events += self.books.unsync(market, "unsubscribed", resync=False)
        return events

    def disconnected(self) -> list[BookEvent]:
        """The connection is gone: every book waits for the next connection's snapshot."""
        self._due.clear()
        events = self.books.unsync_all("disconnected")
        self.books.take_resyncs()  # the next connection's query string brings every snapshot
        return events


def keeps_book(market: str, wished: Sequence[str]) -> bool:
    """Whether a stream among ``wished`` brings the book of ``market``."""
    return f"{market}.ob-inc" in wished or f"{market}.ob-snap" in wished


def _is_book(stream: str) -> bool:
    return stream.endswith((".ob-inc", ".ob-snap"))


def book_market(stream: str) -> str | None:
    """The market of a ``<market>.ob-inc`` stream (the one that brings a book), else None."""
    market, dot, event = stream.partition(".")
    return market if dot and event == "ob-inc" else None


_ZERO = Decimal(0)
_SIDES: tuple[tuple[Side, str], ...] = (("ask", "asks"), ("bid", "bids"))


def _changes(inc: OrderBookIncrement) -> list[tuple[Side, Decimal, Decimal]]:
    """The level changes of an increment: one flat pair per side (engine) or lists (document)."""
    out: list[tuple[Side, Decimal, Decimal]] = []
    for side, name in _SIDES:
        levels: Any = getattr(inc, name)
        if levels is None:
            continue
        for price, amount in [levels] if isinstance(levels, tuple) else levels:
            # "" is what the engine sends for a level that is gone; the document says zero.
            out.append((side, price, _ZERO if amount == "" else amount))
    return out


def _send(request: Request[Key]) -> Send:
    streams = list(request.key)
    model = (
        SubscribeRequest(streams=streams)
        if request.kind == "subscribe"
        else UnsubscribeRequest(streams=streams)
    )
    return Send(_codec.encode(model), request_id=request.first_waiter)


def _split(kind: Kind, streams: Key) -> list[Key]:
    """``streams`` in groups whose request frame is at most MAX_CLIENT_MESSAGE bytes."""
    groups: list[Key] = []
    group: list[str] = []
    for stream in streams:
        if group and frame_size(kind, [*group, stream]) > MAX_CLIENT_MESSAGE:
            groups.append(tuple(group))
            group = []
        group.append(stream)
    groups.append(tuple(group))
    return groups


def frame_size(kind: Kind, streams: list[str]) -> int:
    """The size in bytes of the request frame for ``streams``."""
    model = SubscribeRequest(streams=streams) if kind == "subscribe" else UnsubscribeRequest(streams=streams)
    return len(_codec.encode(model).encode())


_HANDSHAKE_CLOSED = "connection closed during the WebSocket handshake"


def handshake_closed_hint(reason: str) -> str:
    """``reason`` with what a handshake cut short may mean when the token went in a header."""
    if _HANDSHAKE_CLOSED not in reason:
        return reason
    # The Ruby Ranger refuses a bad Authorization header by dropping TCP mid-handshake (no 401).
    # A network blip or a restarting server looks exactly the same, so this is never fatal: it
    # is retried with backoff, and the reason says what it may mean.
    return (
        f"{reason} (with header auth, the Ruby Ranger closes the connection like this when it "
        "refuses the token; rango answers 401)"
    )
