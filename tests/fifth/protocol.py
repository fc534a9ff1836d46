"""The ticker protocol's codec, sans-IO protocol and typed feed: what an exchange module holds.

Wire form (JSON text frames). Client: ``{"op": "auth", "token": ...}`` first, then
``{"op": "subscribe"|"unsubscribe", "id": ..., "symbols": [...]}`` and ``{"op": "pong"}``.
Server: ``{"type": "authed"}``, ``{"type": "subscribed"|"unsubscribed", "id": ..., "symbols":
[...]}``, ``{"type": "error", "id": ..., "code": ..., "message": ...}``, ``{"type": "tick", ...}``
and ``{"type": "ping"}``, which must be answered with a pong.

Built only from the library's public extension points: the codec machinery, the sans-IO
contract, the request tracker and the engine's Feed.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

from tests.fifth import models
from trio_feeds import Feed, run_feed
from trio_feeds._codecs import Codec, JSONObject, UnknownMessage, model_classes, tag_table
from trio_feeds._engine import Tap
from trio_feeds._sansio._protocol import (
    Action,
    AuthAccepted,
    AuthFailed,
    BadFrame,
    CloseVerdict,
    ConnectTarget,
    Deliver,
    FeedProtocol,
    HeartbeatPolicy,
    ProtocolClose,
    Send,
)
from trio_feeds._sansio._requests import Request, RequestState, RequestTracker
from trio_feeds._sansio._shared import classify_close, scrub
from trio_feeds.config import FeedConfig
from trio_feeds.errors import DecodeError
from trio_feeds.transports import Transport

_BY_TAG = tag_table(model_classes(models), ("type", "op"))
_SERVER = {tag: cls for (key, tag), cls in _BY_TAG.items() if key == "type"}
_CLIENT = {tag: cls for (key, tag), cls in _BY_TAG.items() if key == "op"}


def _classify(obj: JSONObject) -> tuple[str | None, type | None]:
    for key, table in (("type", _SERVER), ("op", _CLIENT)):
        tag = obj.get(key)
        if tag is not None:
            return (tag, table.get(tag)) if isinstance(tag, str) else (None, None)
    return None, None


codec = Codec("ticker", model_classes(models), _classify, numbers="string")

Item = models.Tick | models.Error | UnknownMessage


class TickerProtocol(FeedProtocol):
    """Token auth, then id-correlated subscriptions re-sent after every reconnect."""

    name = "ticker"

    def __init__(self, url: str, token: str, *, server_heartbeat: float | None = 5.0) -> None:
        self.url = url
        self._token = token
        self.heartbeat = HeartbeatPolicy(server_heartbeat=server_heartbeat)
        self._ready = False
        self._wishes: list[str] = []
        self._requests: RequestTracker[tuple[str, ...]] = RequestTracker()

    @property
    def ready(self) -> bool:
        """True once the token was accepted on this connection."""
        return self._ready

    def connect_target(self) -> ConnectTarget:
        """The URL as given."""
        return ConnectTarget(self.url)

    def connection_made(self, now: float) -> Sequence[Action]:
        """Authenticate at once."""
        self._ready = False
        return [Send(codec.encode(models.Auth(token=self._token)))]

    def connection_lost(self) -> Sequence[Action]:
        """Users' requests are re-sent after the next auth; the rest is dropped."""
        self._ready = False
        self._requests.connection_lost()
        return ()

    def forget_request(self, request_id: str) -> None:
        """The engine gave up waiting for ``request_id``."""
        self._requests.forget_waiter(request_id)

    def receive_frame(self, frame: str | bytes, now: float) -> Sequence[Action]:
        """Answer pings, follow auth and answers, deliver ticks."""
        try:
            msg = codec.decode(frame)
        except DecodeError as exc:
            return [BadFrame(exc)]
        if isinstance(msg, models.Ping):
            return [Send(codec.encode(models.Pong()))]
        if isinstance(msg, models.Authed):
            return self._on_authenticated()
        if isinstance(msg, models.Subscribed | models.Unsubscribed):
            request = self._sent(msg.id)
            return list(self._requests.answer(request)) if request is not None else []
        if isinstance(msg, models.Error):
            return self._on_error(msg)
        return [Deliver(msg)]

    def subscribe(self, now: float, /, *symbols: str) -> tuple[str | None, Sequence[Action]]:
        """Add symbols; wait for ``subscribed`` (sent after auth when not ready yet)."""
        key = tuple(symbols)
        for symbol in key:
            if symbol not in self._wishes:
                self._wishes.append(symbol)
        request = self._requests.add("subscribe", key, user=True, sent=self._ready, wire_id=True)
        return request.first_waiter, [self._send(request)] if self._ready else []

    def unsubscribe(self, now: float, /, *symbols: str) -> tuple[str | None, Sequence[Action]]:
        """Remove symbols; nothing to tell a connection that is not ready."""
        self._wishes = [s for s in self._wishes if s not in symbols]
        if not self._ready:
            return None, ()
        request = self._requests.add("unsubscribe", tuple(symbols), user=True, sent=True, wire_id=True)
        return request.first_waiter, [self._send(request)]

    def classify_close(self, code: int | None, reason: str) -> CloseVerdict:
        """The shared table."""
        return classify_close(code, reason)

    def _send(self, request: Request[tuple[str, ...]]) -> Send:
        assert request.wire_id is not None
        model = models.Subscribe if request.kind == "subscribe" else models.Unsubscribe
        return Send(
            codec.encode(model(id=request.wire_id, symbols=list(request.key))),
            request_id=request.first_waiter,
        )

    def _sent(self, wire_id: str | None) -> Request[tuple[str, ...]] | None:
        request = None if wire_id is None else self._requests.by_wire_id(wire_id)
        return request if request is not None and request.state is RequestState.SENT else None

    def _on_authenticated(self) -> list[Action]:
        self._ready = True
        queued = list(self._requests.select(state=RequestState.QUEUED))
        if not self._wishes:
            return [*(d for r in queued for d in self._requests.cancel(r, None)), AuthAccepted()]
        # One frame re-subscribes every wish; users waiting on queued requests wait on its answer.
        resub = self._requests.add("subscribe", tuple(self._wishes), user=False, sent=True, wire_id=True)
        for request in queued:
            resub.waiters += request.waiters
            request.waiters.clear()
            self._requests.cancel(request, None)
        return [AuthAccepted(then=(self._send(resub),))]

    def _on_error(self, msg: models.Error) -> list[Action]:
        text = scrub(f"{msg.code}: {msg.message}", self._token)
        if not self._ready:
            if msg.code == 429:
                return [ProtocolClose(4029, text, CloseVerdict.RETRY_SLOW)]
            return [AuthFailed(text)]
        request = self._sent(msg.id)
        if request is None:
            return [Deliver(msg)]
        return list(self._requests.refuse(request, text))


class TickerFeed(Feed[Item]):
    """The typed feed of the ticker protocol."""

    def __init__(
        self,
        protocol: TickerProtocol,
        config: FeedConfig | None = None,
        *,
        transport: Transport | None = None,
        recorder: Tap | None = None,
    ) -> None:
        self._ticker = protocol
        super().__init__(protocol, config, transport=transport, recorder=recorder)

    async def subscribe(self, *symbols: str) -> None:
        """Ticks of these symbols, once the server acknowledged."""
        # The protocol's method and this method's arguments: a recording keeps them for a replay.
        await self._request("subscribe", self._ticker.subscribe, *symbols)

    async def unsubscribe(self, *symbols: str) -> None:
        """No more ticks of these symbols."""
        await self._request("unsubscribe", self._ticker.unsubscribe, *symbols)


def open_feed(
    url: str,
    *,
    token: str,
    config: FeedConfig | None = None,
    server_heartbeat: float | None = 5.0,
    transport: Transport | None = None,
    recorder: Tap | None = None,
) -> AbstractAsyncContextManager[TickerFeed]:
    """A reconnecting ticker feed."""
    protocol = TickerProtocol(url, token, server_heartbeat=server_heartbeat)
    return run_feed(TickerFeed(protocol, config, transport=transport, recorder=recorder))
