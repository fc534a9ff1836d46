"""Raw frames: every frame a feed receives, exactly as received, into a stream of its own.

:func:`raw_frames` makes a tap (the engine's hook that the recorder also uses) to pass as
``open_feed(..., recorder=...)``: it sees each received frame on its way to the decoder and
queues it on the publisher (``<prefix>:<exchange>:raw:<feed>``). Frames the client sends are
never published: they carry credentials.
"""

from __future__ import annotations

from collections.abc import Callable

import trio

from .._engine._tap import Tap
from .._sansio._protocol import ConnectTarget
from .._transports import Connection, Transport
from ._publisher import Publisher

__all__ = ["raw_frames"]


def raw_frames(publisher: Publisher, *, exchange: str, feed: str) -> Tap:
    """A tap publishing the frames of one feed (``exchange``: its protocol's name)."""

    def publish(frame: str | bytes) -> None:
        publisher.publish_raw(frame, exchange=exchange, feed=feed)

    return _RawTap(publish)


class _RawTap(Tap):
    def __init__(self, publish: Callable[[str | bytes], None]) -> None:
        self._publish = publish

    def transport(self, transport: Transport) -> Transport:
        return _RawTransport(transport, self._publish)


class _RawTransport:
    def __init__(self, inner: Transport, publish: Callable[[str | bytes], None]) -> None:
        self._inner = inner
        self._publish = publish

    def __repr__(self) -> str:
        return f"<publishing raw frames {self._inner!r}>"

    async def connect(
        self,
        nursery: trio.Nursery,
        target: ConnectTarget,
        *,
        connect_timeout: float,
        max_message_size: int,
    ) -> Connection:
        conn = await self._inner.connect(
            nursery, target, connect_timeout=connect_timeout, max_message_size=max_message_size
        )
        return _RawConnection(conn, self._publish)


class _RawConnection:
    def __init__(self, inner: Connection, publish: Callable[[str | bytes], None]) -> None:
        self._inner = inner
        self._receive = inner.receive
        self._publish = publish

    async def receive(self) -> str | bytes:
        frame = await self._receive()
        self._publish(frame)
        return frame

    async def send(self, frame: str | bytes) -> None:
        await self._inner.send(frame)

    async def ping(self, pong_timeout: float) -> bool:
        return await self._inner.ping(pong_timeout)

    async def aclose(self, code: int = 1000, reason: str = "", *, grace: float) -> None:
        await self._inner.aclose(code, reason, grace=grace)
