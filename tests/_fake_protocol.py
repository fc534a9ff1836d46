"""A tiny sans-IO protocol and a scripted in-memory transport, for testing the engine alone.

Wire format (JSON text frames), server to client::

    {"t": "data", "v": <any>}                 -> Deliver(v)
    {"t": "authed"}                           -> AuthAccepted(then=<re-subscriptions>)
    {"t": "auth_failed", "reason": "..."}     -> AuthFailed
    {"t": "ack", "id": "...", "error": null}  -> RequestDone
    {"t": "ping"}                             -> Send({"t": "pong"})
    {"t": "close", "code": 4321, "verdict": "retry"} -> ProtocolClose
    anything else                             -> BadFrame

client to server: ``{"t": "auth", "key": ...}``, ``{"t": "sub"|"unsub", "ch": ..., "id": ...}``,
``{"t": "pong"}``.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from typing import Any

import attrs
import trio

from trio_feeds import Feed, run_feed
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
    RequestDone,
    Send,
)
from trio_feeds.config import FeedConfig
from trio_feeds.errors import DecodeError
from trio_feeds.transports import ConnectFailed, Transport, TransportClosed


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


class FakeProtocol(FeedProtocol):
    """Auth by message when ``key`` is set, by handshake header when ``header_token`` is set."""

    name = "fake"

    def __init__(
        self,
        url: str,
        *,
        key: str | None = None,
        header_token: str | None = None,
        heartbeat: HeartbeatPolicy | None = None,
        verdicts: dict[int, CloseVerdict] | None = None,
    ) -> None:
        self.url = url
        self.key = key
        self.header_token = header_token
        if heartbeat is not None:
            self.heartbeat = heartbeat
        self.verdicts = verdicts or {}
        self._ids = itertools.count(1)
        self._ready = False
        self.wishes: list[str] = []
        self.pending: dict[str, str] = {}  # channel -> user request id, kept across reconnects
        self.forgotten: list[str] = []  # request ids the engine gave up on
        self.connections_made = 0
        self.connections_lost = 0

    @property
    def ready(self) -> bool:
        return self._ready

    def connect_target(self) -> ConnectTarget:
        headers = () if self.header_token is None else (("Authorization", f"Bearer {self.header_token}"),)
        return ConnectTarget(self.url, headers)

    def connection_made(self, now: float) -> Sequence[Action]:
        self.connections_made += 1
        if self.key is not None:
            self._ready = False
            return [Send(dumps({"t": "auth", "key": self.key}))]
        self._ready = True
        return self._resubscriptions()

    def connection_lost(self) -> Sequence[Action]:
        self.connections_lost += 1
        self._ready = False
        return ()

    def _resubscriptions(self) -> list[Send]:
        frames = []
        for ch in self.wishes:
            rid = self.pending.get(ch) or f"r{next(self._ids)}"
            frames.append(Send(dumps({"t": "sub", "ch": ch, "id": rid}), request_id=rid))
        return frames

    def receive_frame(self, frame: str | bytes, now: float) -> Sequence[Action]:
        try:
            msg = json.loads(frame)
            kind = msg["t"]
        except (ValueError, KeyError, TypeError):
            return [BadFrame(DecodeError(self.name, "not a fake frame"))]
        if kind == "data":
            return [Deliver(msg["v"])]
        if kind == "authed":
            self._ready = True
            return [AuthAccepted(tuple(self._resubscriptions()))]
        if kind == "auth_failed":
            return [AuthFailed(msg["reason"])]
        if kind == "ack":
            rid = msg["id"]
            for ch, pending in list(self.pending.items()):
                if pending == rid:
                    del self.pending[ch]
            return [RequestDone(rid, msg.get("error"))]
        if kind == "ping":
            return [Send(dumps({"t": "pong"}))]
        if kind == "close":
            return [ProtocolClose(msg["code"], "server asked", CloseVerdict(msg["verdict"]))]
        return [BadFrame(DecodeError(self.name, f"unknown kind {kind!r}"))]

    def subscribe(self, now: float, /, ch: str) -> tuple[str | None, Sequence[Action]]:
        if ch not in self.wishes:
            self.wishes.append(ch)
        if ch.startswith("url:"):  # like Ranger's query mode: a new connection carries it
            return None, [ProtocolClose(1000, "streams changed", CloseVerdict.RETRY)]
        rid = f"s{next(self._ids)}"
        self.pending[ch] = rid
        if not self._ready:
            return rid, ()  # goes out with the re-subscriptions once ready
        return rid, [Send(dumps({"t": "sub", "ch": ch, "id": rid}), request_id=rid)]

    def unsubscribe(self, now: float, /, ch: str) -> tuple[str | None, Sequence[Action]]:
        self.wishes = [w for w in self.wishes if w != ch]
        self.pending.pop(ch, None)
        if not self._ready:
            return None, ()
        rid = f"u{next(self._ids)}"
        return rid, [Send(dumps({"t": "unsub", "ch": ch, "id": rid}))]

    def forget_request(self, request_id: str) -> None:
        self.forgotten.append(request_id)
        self.pending = {ch: rid for ch, rid in self.pending.items() if rid != request_id}

    def classify_close(self, code: int | None, reason: str) -> CloseVerdict:
        if code is None:
            return CloseVerdict.RETRY
        return self.verdicts.get(code, CloseVerdict.RETRY)


class FakeFeed(Feed[Any]):
    """The feed of :class:`FakeProtocol`: ``subscribe(channel)`` / ``unsubscribe(channel)``."""

    def __init__(
        self, protocol: FakeProtocol, config: FeedConfig | None = None, *, transport: Transport | None = None
    ) -> None:
        super().__init__(protocol, config, transport=transport)
        self._fake = protocol

    async def subscribe(self, ch: str) -> None:
        await self._request("subscribe", lambda now: self._fake.subscribe(now, ch))

    async def unsubscribe(self, ch: str) -> None:
        await self._request("unsubscribe", lambda now: self._fake.unsubscribe(now, ch))


def open_fake_feed(
    protocol: FakeProtocol, config: FeedConfig | None = None, *, transport: Transport | None = None
) -> Any:
    """``run_feed(FakeFeed(...))``."""
    return run_feed(FakeFeed(protocol, config, transport=transport))


# -- a scripted in-memory transport (for MockClock tests: no sockets) ---------------------------


@attrs.define
class Up:
    """Connect, stay up ``for_`` seconds, then close with ``code``."""

    for_: float = math.inf
    code: int | None = 1001


@attrs.define
class Fail:
    """The connection attempt fails."""

    reason: str = "refused"


class FakeConnection:
    def __init__(self, closes_at: float, code: int | None) -> None:
        self.closes_at = closes_at
        self.code = code
        self.sent: list[str] = []
        self.closed_with: int | None = None
        self.ping_times: list[float] = []

    async def send(self, text: str) -> None:
        await trio.lowlevel.checkpoint()
        self.sent.append(text)

    async def receive(self) -> str | bytes:
        await trio.sleep_until(self.closes_at)
        raise TransportClosed(self.code, "scripted close")

    async def ping(self, pong_timeout: float) -> bool:
        self.ping_times.append(trio.current_time())
        await trio.lowlevel.checkpoint()
        return True

    async def aclose(self, code: int = 1000, reason: str = "", *, grace: float) -> None:
        await trio.lowlevel.checkpoint()
        self.closed_with = code


class FakeTransport:
    """Plays ``script`` (one step per attempt; the last step repeats)."""

    def __init__(self, script: list[Up | Fail]) -> None:
        self.script = script
        self.attempt_times: list[float] = []
        self.connections: list[FakeConnection] = []

    async def connect(
        self,
        nursery: trio.Nursery,
        target: ConnectTarget,
        *,
        connect_timeout: float,
        max_message_size: int,
    ) -> FakeConnection:
        await trio.lowlevel.checkpoint()
        now = trio.current_time()
        step = self.script[min(len(self.attempt_times), len(self.script) - 1)]
        self.attempt_times.append(now)
        if isinstance(step, Fail):
            raise ConnectFailed(step.reason)
        conn = FakeConnection(now + step.for_, step.code)
        self.connections.append(conn)
        return conn
