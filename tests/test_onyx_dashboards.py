"""Onyx dashboards never stale silently: ``Dashboards.stale`` like the other tracked state.

The builder on its own (pure, engine clock passed in), then a real Onyx feed against the local
server: stale from the start until the snapshot, stale from the disconnect on, fresh again with
the snapshot the server sends after the resubscription.
"""

from __future__ import annotations

import random
from typing import Any

import trio

from trio_feeds import events as ev
from trio_feeds import onyx
from trio_feeds.config import FeedConfig
from trio_feeds.models import onyx as om
from trio_feeds.state import Stale
from trio_feeds.testing import open_onyx_server

WAIT = 5.0
TOKEN = "dash-token"


def snapshot(*ids: str) -> om.DashboardsSnapshotEvent:
    return om.DashboardsSnapshotEvent(channel="dashboards", message=[{"id": i} for i in ids], message_type=0)


def increment(kind: int, ident: str | None) -> om.DashboardsIncrementEvent:
    dashboard: dict[str, Any] = {} if ident is None else {"id": ident, "v": kind}
    return om.DashboardsIncrementEvent(channel="dashboards", message=dashboard, message_type=kind)


def test_dashboards_say_when_they_may_be_stale() -> None:
    d = onyx.Dashboards()
    assert d.stale == Stale(None, None, "no full state yet")
    assert not d.synced
    d.apply(increment(2, "early"))  # an increment before any snapshot: still not whole
    assert d.stale is not None

    d.apply(snapshot("a", "b"), at=1.0)
    assert d.stale is None
    assert d.synced
    assert d.stale_keys == frozenset()

    d.disconnected(2.0)
    assert d.stale == Stale(2.0, None, "disconnected")
    assert not d.synced
    assert d.stale_keys == {"a", "b"}
    d.gap(2.0, 3.0)  # the reconnect closed the gap: the interval ends
    assert d.stale == Stale(2.0, 3.0, "disconnected")
    d.apply(increment(1, "a"))  # an update confirms its dashboard, not the set
    assert d.stale_keys == {"b"}
    assert d.is_stale("b")
    assert not d.is_stale("a")
    assert d.stale is not None

    d.apply(snapshot("b", "c"), at=4.0)  # the snapshot after the resubscription: whole again
    assert d.stale is None
    assert set(d) == {"b", "c"}
    assert d.stale_keys == frozenset()

    # A gap that began before that snapshot is covered by it (it came on the live connection).
    d.gap(3.5, 4.5)
    assert d.stale is None
    d.gap(5.0, 6.0)  # one that began after it is not
    assert d.stale == Stale(5.0, 6.0, "data gap")

    # Made with complete=True (nothing from before): fresh from the start.
    assert onyx.Dashboards(complete=True).stale is None


def test_protocol_marks_dashboards_stale_on_an_unkeyed_dashboard() -> None:
    # A dashboard the key cannot name must not kill the stream, nor leave the set claiming to
    # be whole: the message is delivered and the set is stale until the next snapshot.
    protocol = onyx.OnyxProtocol("wss://onyx.example/ws", TOKEN)
    actions = protocol.receive_frame(onyx.encode(snapshot("a")), 1.0)
    assert len(actions) == 1
    assert protocol.dashboards.synced
    actions = protocol.receive_frame(onyx.encode(increment(2, None)), 2.0)
    assert len(actions) == 1  # still delivered
    stale = protocol.dashboards.stale
    assert stale is not None
    assert (stale.since, stale.until) == (2.0, None)
    assert "no key" in stale.reason
    protocol.receive_frame(onyx.encode(snapshot("a")), 3.0)
    assert protocol.dashboards.stale is None
    assert protocol.tracked() == (protocol.dashboards,)


class Seen:
    """Each item the feed yields, with ``feed.dashboards.stale`` right after it."""

    def __init__(self, feed: onyx.OnyxFeed) -> None:
        self.feed = feed
        self.items: list[tuple[object, Stale | None]] = []
        self._changed = trio.Event()

    async def consume(self) -> None:
        async for item in self.feed:
            self.items.append((item, self.feed.dashboards.stale))
            self._changed.set()
            self._changed = trio.Event()

    def count(self, kind: type) -> int:
        return sum(isinstance(i, kind) for i, _ in self.items)

    async def wait_count(self, kind: type, n: int) -> None:
        with trio.fail_after(WAIT):
            while self.count(kind) < n:
                await self._changed.wait()


async def test_feed_dashboards_stale_from_disconnect_until_the_next_snapshot() -> None:
    config = FeedConfig(
        ping_interval=0.05,
        ping_timeout=0.2,
        backoff_initial=0.01,
        backoff_max=0.05,
        close_timeout=0.2,
        request_timeout=1.0,
        poll_interval=0.02,
        rng=random.Random(3),
    )
    async with (
        open_onyx_server(token=TOKEN, rate=None) as server,
        onyx.open_feed(server.url, token=TOKEN, config=config) as feed,
    ):
        assert feed.dashboards.stale == Stale(None, None, "no full state yet")
        seen = Seen(feed)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(seen.consume)
            with trio.fail_after(WAIT):
                await feed.subscribe("dashboards")
            await seen.wait_count(om.DashboardsSnapshotEvent, 1)
            assert feed.dashboards.stale is None
            assert set(feed.dashboards) == {"dash-1", "dash-2"}

            # New handshakes hang while the server is blackholed: the feed stays disconnected
            # until resume(), so what it says meanwhile is checked exactly.
            server.blackhole()
            await server.close(1011, "restart")
            await seen.wait_count(ev.Disconnected, 1)
            stale = feed.dashboards.stale
            assert stale is not None
            assert stale.reason == "disconnected"
            assert stale.until is None
            assert feed.dashboards.stale_keys == {"dash-1", "dash-2"}
            server.resume()
            await seen.wait_count(om.DashboardsSnapshotEvent, 2)
            nursery.cancel_scope.cancel()

    kinds = [type(i) for i, _ in seen.items]
    first_snap = kinds.index(om.DashboardsSnapshotEvent)
    disconnected = kinds.index(ev.Disconnected)
    gap = kinds.index(ev.Gap)
    second_snap = kinds.index(om.DashboardsSnapshotEvent, disconnected)
    assert first_snap < disconnected < gap < second_snap
    assert all(stale is None for _, stale in seen.items[first_snap:disconnected])
    assert seen.items[disconnected][1] is not None
    # The Gap came before the snapshot it is healed by, which leaves the set whole.
    assert seen.items[second_snap][1] is None
    assert feed.dashboards.stale is None
    assert feed.dashboards.stale_keys == frozenset()
