"""One request tracker for every protocol whose server answers requests.

A *request* is one frame we send and whose answer we wait for: a subscribe, an unsubscribe, an
auth. Several user calls may wait on one request (two ``subscribe("trades")`` before the
connection is ready share one frame); each call has its own *waiter id*, and the request's
first waiter id is the one its ``Send`` carries. The engine owns the clock: it gives every
waiter one deadline and, when it passes, calls :meth:`RequestTracker.forget_waiter`. Protocols
keep only their wire format and how an answer is matched to a request.

States and transitions are a table, after h11's ``_state.py``:

===========  ====================  ===========  ==========================================
state        event                 next state   meaning
===========  ====================  ===========  ==========================================
QUEUED       SEND                  SENT         the connection became ready; the frame went
QUEUED       CANCEL                DROPPED      no longer wished before it was sent
QUEUED       ORPHAN                DROPPED      its last waiter gave up; a resubscription
                                                made from the wishes replaces it
SENT         ANSWER                DONE         the server acknowledged it
SENT         REFUSE                REFUSED      the server answered with an error
SENT         CONNECTION_LOST       QUEUED       a user still waits: it is sent again
SENT         DISCARD               DROPPED      connection lost and nobody waits (or the
                                                request belongs to that connection only)
SENT         CANCEL                DROPPED      superseded on the live connection
===========  ====================  ===========  ==========================================

Rules:

1. Only these transitions exist; anything else is a bug in a protocol and raises
   :class:`RequestStateError` at once rather than leaving a request in a state it cannot
   leave.
2. A SENT request whose last waiter gave up stays SENT: the server still answers it, in order,
   and protocols that match answers by position (first in, first answered) must consume that
   answer rather than give it to the next request.
3. Waiter ids are never reused (:class:`RequestIds`), so a late answer from a dead connection
   can never complete a new request.
4. DONE, REFUSED and DROPPED are final; the tracker forgets such requests at once.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

import attrs

from ._protocol import RequestDone

__all__ = ["Request", "RequestEvent", "RequestIds", "RequestState", "RequestStateError", "RequestTracker"]

K = TypeVar("K", bound=Hashable)


class RequestState(enum.Enum):
    """Where a request is in its life (see the module docstring's table)."""

    QUEUED = "queued"
    SENT = "sent"
    DONE = "done"
    REFUSED = "refused"
    DROPPED = "dropped"


class RequestEvent(enum.Enum):
    """What can happen to a request."""

    SEND = "send"
    ANSWER = "answer"
    REFUSE = "refuse"
    CANCEL = "cancel"
    ORPHAN = "orphan"
    CONNECTION_LOST = "connection_lost"
    DISCARD = "discard"


_S = RequestState
_E = RequestEvent
_TRANSITIONS: dict[tuple[RequestState, RequestEvent], RequestState] = {
    (_S.QUEUED, _E.SEND): _S.SENT,
    (_S.QUEUED, _E.CANCEL): _S.DROPPED,
    (_S.QUEUED, _E.ORPHAN): _S.DROPPED,
    (_S.SENT, _E.ANSWER): _S.DONE,
    (_S.SENT, _E.REFUSE): _S.REFUSED,
    (_S.SENT, _E.CONNECTION_LOST): _S.QUEUED,
    (_S.SENT, _E.DISCARD): _S.DROPPED,
    (_S.SENT, _E.CANCEL): _S.DROPPED,
}
_FINAL = frozenset({_S.DONE, _S.REFUSED, _S.DROPPED})


class RequestStateError(RuntimeError):
    """A protocol drove a request through a transition the table does not have."""


class RequestIds:
    """Ids ``"tf:1"``, ``"tf:2"``, ... unique for the life of one protocol object.

    They never restart on reconnect, so a late answer from a dead connection cannot be taken
    for the answer to a new request.
    """

    def __init__(self, prefix: str = "tf") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def next(self) -> str:
        """Return the next unused id."""
        return f"{self._prefix}:{next(self._counter)}"


@attrs.define(eq=False)  # identity: two equal requests are still two requests
class Request(Generic[K]):
    """One request frame and the calls waiting for its answer.

    Attributes:
        kind: what it asks (``"subscribe"``, ``"unsubscribe"``, ``"auth"``, ...).
        key: what it is about, in the protocol's own terms (a subscription, a stream list).
        wire_id: the id the frame carries on the wire, for protocols that have one (Onyx);
            it stays the same when the request is sent again after a reconnect.
        waiters: waiter ids still waiting, oldest first. The first is the id the frame's
            ``Send`` carries.
        user: made by a user call (else by the protocol: a resubscription, an auth).
        state: see :class:`RequestState`.
    """

    kind: str
    key: K
    wire_id: str | None
    waiters: list[str]
    user: bool
    state: RequestState = RequestState.QUEUED

    @property
    def first_waiter(self) -> str | None:
        """The waiter id a frame for this request carries, or None when nobody waits."""
        return self.waiters[0] if self.waiters else None


class RequestTracker(Generic[K]):
    """Every live request of one protocol object, in the order they were made."""

    def __init__(self, ids: RequestIds | None = None) -> None:
        self.ids = ids or RequestIds()
        self._requests: list[Request[K]] = []

    def __iter__(self) -> Iterator[Request[K]]:
        return iter(list(self._requests))

    def __len__(self) -> int:
        return len(self._requests)

    # -- creating -------------------------------------------------------------------------------

    def add(
        self, kind: str, key: K, *, user: bool, sent: bool, wire_id: bool = False, waiter: bool = True
    ) -> Request[K]:
        """Start a request (QUEUED, or SENT when ``sent``) with one new waiter id.

        ``wire_id``: the request's wire id is its first waiter id. ``waiter=False``: nobody
        waits (an auth, whose answer is the session's, not a call's).
        """
        first = self.ids.next()
        request = Request(kind, key, first if wire_id else None, [first] if waiter else [], user)
        if sent:
            self._fire(request, RequestEvent.SEND)
        self._requests.append(request)
        return request

    def join(self, kind: str, key: K, *, sent: bool) -> str | None:
        """Add a waiter to a live request of this kind and key (QUEUED, or SENT when ``sent``).

        Returns the new waiter id, or None when there is no such request.
        """
        state = RequestState.SENT if sent else RequestState.QUEUED
        for request in self._requests:
            if request.kind == kind and request.key == key and request.state is state:
                waiter = self.ids.next()
                request.waiters.append(waiter)
                return waiter
        return None

    # -- finding --------------------------------------------------------------------------------

    def find(
        self,
        *,
        state: RequestState | None = None,
        kind: str | None = None,
        where: Callable[[Request[K]], bool] | None = None,
    ) -> Request[K] | None:
        """The oldest live request matching all the given conditions, or None."""
        return next(self.select(state=state, kind=kind, where=where), None)

    def select(
        self,
        *,
        state: RequestState | None = None,
        kind: str | None = None,
        where: Callable[[Request[K]], bool] | None = None,
    ) -> Iterator[Request[K]]:
        """Live requests matching all the given conditions, oldest first."""
        for request in list(self._requests):
            if state is not None and request.state is not state:
                continue
            if kind is not None and request.kind != kind:
                continue
            if where is not None and not where(request):
                continue
            yield request

    def by_wire_id(self, wire_id: str) -> Request[K] | None:
        """The live request whose frame carried ``wire_id``."""
        return next((r for r in self._requests if r.wire_id == wire_id), None)

    # -- transitions ----------------------------------------------------------------------------

    def send(self, request: Request[K]) -> str | None:
        """QUEUED -> SENT; returns the waiter id the frame carries (None: nobody waits)."""
        self._fire(request, RequestEvent.SEND)
        return request.first_waiter

    def answer(self, request: Request[K]) -> list[RequestDone]:
        """The server acknowledged it: every waiter is done."""
        self._fire(request, RequestEvent.ANSWER)
        return [RequestDone(w) for w in request.waiters]

    def refuse(self, request: Request[K], reason: str) -> list[RequestDone]:
        """The server refused it: every waiter fails with ``reason``."""
        self._fire(request, RequestEvent.REFUSE)
        return [RequestDone(w, reason) for w in request.waiters]

    def cancel(self, request: Request[K], reason: str | None) -> list[RequestDone]:
        """Drop it; waiters complete with ``reason`` as error (``None``: successfully)."""
        self._fire(request, RequestEvent.CANCEL)
        return [RequestDone(w, reason) for w in request.waiters]

    def forget_waiter(self, waiter: str) -> None:
        """The engine gave up on ``waiter`` (its deadline passed): never complete it.

        A QUEUED request left without waiters is dropped (rule 2 keeps a SENT one).
        """
        for request in list(self._requests):
            if waiter in request.waiters:
                request.waiters.remove(waiter)
                if not request.waiters and request.state is RequestState.QUEUED:
                    self._fire(request, RequestEvent.ORPHAN)
                return

    def connection_lost(self, *, keep: Callable[[Request[K]], bool] | None = None) -> None:
        """The connection is gone: what a user still waits for is queued again, the rest dropped.

        ``keep`` (default: made by a user and still awaited) decides which SENT requests are
        sent again on the next connection.
        """
        keep = keep or _awaited_user_request
        for request in list(self._requests):
            if request.state is RequestState.SENT:
                event = RequestEvent.CONNECTION_LOST if keep(request) else RequestEvent.DISCARD
                self._fire(request, event)
            elif not request.waiters:
                self._fire(request, RequestEvent.ORPHAN)

    def _fire(self, request: Request[K], event: RequestEvent) -> None:
        try:
            request.state = _TRANSITIONS[request.state, event]
        except KeyError:
            raise RequestStateError(
                f"{request.kind} request in state {request.state.value} cannot take event {event.value}"
            ) from None
        if request.state in _FINAL and request in self._requests:
            self._requests.remove(request)


def _awaited_user_request(request: Request[K]) -> bool:
    return request.user and bool(request.waiters)
