"""Onyx's real wire forms, live: the real ``onyx.open_feed`` against the local Onyx server.

The local server answers in the live server's form by default (``{"Message": ...}``) and in the
protocol document's (a plain string) with ``detail_messages=False``; the feed must work the same
on both, on both transports. Onyx documents no close code, so no close may end the feed; a
``server_info`` event may carry a fractional age and a time without an offset.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import trio

from tests.test_feeds import WAIT, Collector, feed_tasks, letters, make_config
from trio_feeds import SubscriptionError, onyx
from trio_feeds import events as ev
from trio_feeds.testing import open_onyx_server
from trio_feeds.testing.onyx import OnyxServer
from trio_feeds.transports import FastTransport, Transport, TrioWebsocketTransport

pytest_plugins = ["trio_feeds.testing.pytest_plugin"]

TOKEN = "onyx-TOKEN-5e1f09ab77"


@pytest.fixture(params=["trio-websocket", "fast"])
def feed_transport(request: pytest.FixtureRequest) -> Transport:
    if request.param == "fast":
        return FastTransport()
    return TrioWebsocketTransport()


@asynccontextmanager
async def live_feed(
    server: OnyxServer, transport: Transport, **config: Any
) -> AsyncIterator[tuple[onyx.OnyxFeed, Collector]]:
    """An Onyx feed on ``server`` with a consumer task; no engine task may outlive it."""
    collector = Collector()
    cfg = make_config(**config)
    async with (
        trio.open_nursery() as nursery,
        onyx.open_feed(server.url, token=TOKEN, config=cfg, transport=transport) as feed,
    ):
        nursery.start_soon(collector.run, feed)
        yield feed, collector
    assert feed_tasks() == []


def items_of(collector: Collector, kind: type) -> list[Any]:
    return [item for _, item in collector.items if isinstance(item, kind)]


async def wait_items(collector: Collector, kind: type, n: int) -> list[Any]:
    await collector.wait_for(lambda: len(items_of(collector, kind)) >= n)
    return items_of(collector, kind)


@pytest.mark.parametrize("detail_messages", [True, False], ids=["live-object", "document-string"])
async def test_feed_works_with_either_response_form(detail_messages: bool, feed_transport: Transport) -> None:
    async with open_onyx_server(token=TOKEN, rate=None, detail_messages=detail_messages) as server:
        async with live_feed(server, feed_transport) as (feed, col):
            with trio.fail_after(WAIT):
                await feed.subscribe("server_info")
                await feed.subscribe("tickers", products=["dub"])
                await feed.subscribe("dashboards")
                with pytest.raises(
                    SubscriptionError, match="no permissions for product nope or product does"
                ):
                    await feed.subscribe("tickers", products=["nope"])
                await feed.unsubscribe("server_info")
            record = server.connections[0]
            # The answers the feed matched were in the form asked for.
            answers = [f for f in record.sent if isinstance(f, str) and '"method"' in f]
            assert len(answers) == 6  # auth, three subscribes, the refused one, the unsubscribe
            assert all(('{"Message":' in f) is detail_messages for f in answers)
            assert record.subscriptions == ["tickers:dub", "dashboards"]
            await server.push(count=2)
            (tickers,) = await wait_items(col, onyx.TickersEvent, 1)
            (ticker,) = tickers.message
            assert (ticker.product_symbol, ticker.symbol) == ("dub", "dubz24")
            assert ticker.mid == (ticker.bid.price + ticker.ask.price) / 2
            assert isinstance(ticker.mid, Decimal)
            assert ticker.timestamp.tzinfo is UTC
            (snapshot,) = await wait_items(col, onyx.DashboardsSnapshotEvent, 1)
            assert [d["id"] for d in snapshot.message] == ["dash-1", "dash-2"]
            await wait_items(col, onyx.DashboardsIncrementEvent, 1)
        assert col.error is None
        assert letters(col.items) == "CA"


@pytest.mark.parametrize(
    ("code", "reason"),
    [(1008, "Policy Violation"), (1008, ""), (1000, "bye"), (1011, "internal error")],
)
async def test_no_close_code_ends_the_feed(code: int, reason: str, feed_transport: Transport) -> None:
    """The document names no close code: whatever the server closes with, the feed comes back."""
    async with open_onyx_server(token=TOKEN, rate=None) as server:
        async with live_feed(server, feed_transport) as (feed, col):
            with trio.fail_after(WAIT):
                await feed.subscribe("tickers", products=["brt"])
            await server.close(code, reason)
            second = await server.wait_for_connection(2, timeout=WAIT)
            await server.wait_for(lambda: second.subscriptions == ["tickers:brt"], timeout=WAIT)
            await col.wait_for(lambda: col.count(ev.Gap) == 1)
            (disconnected,) = items_of(col, ev.Disconnected)
            assert (disconnected.code, disconnected.reason) == (code, reason)
        assert col.error is None
        assert letters(col.items) == "CADRCASG"


async def test_server_closing_an_unauthenticated_connection_heals(feed_transport: Transport) -> None:
    """The auth answer comes after the server's auth deadline: it closes, the feed reconnects."""
    async with open_onyx_server(token=TOKEN, rate=None, auth_timeout=0.2) as server:
        server.delay_replies(0.6)
        async with live_feed(server, feed_transport, request_timeout=2.0) as (feed, col):
            first = await server.wait_for_connection(1, timeout=WAIT)
            await server.wait_for(lambda: first.close_code is not None, timeout=WAIT)
            assert first.close_reason == "authentication timeout"
            server.resume()
            await col.wait_for(lambda: col.count(ev.Authenticated) == 1)
            with trio.fail_after(WAIT):
                await feed.subscribe("server_info")
        assert col.error is None
        assert letters(col.items).startswith("CDRC")


def server_info_frame(age: str, timestamp: str) -> str:
    """A ``server_info`` frame with ``age`` as raw JSON number text."""
    body = f'{{"uid": "conn-1", "timestamp": "{timestamp}", "age_millis": {age}}}'
    return f'{{"channel": "server_info", "message": {body}, "message_type": 0}}'


@pytest.mark.parametrize(
    ("age", "timestamp", "expected_age", "expected_time"),
    [
        ("10008", "2024-06-11T09:15:35.127981Z", 10008, datetime(2024, 6, 11, 9, 15, 35, 127981, UTC)),
        ("10008.25", "2024-06-11T09:15:35.127981", 10008.25, datetime(2024, 6, 11, 9, 15, 35, 127981, UTC)),
        ("5e3", "2024-06-11T11:15:35+02:00", 5000.0, datetime(2024, 6, 11, 9, 15, 35, tzinfo=UTC)),
    ],
    ids=["int-Z", "float-no-offset", "exponent-offset"],
)
async def test_server_info_number_age_and_utc_time(
    age: str, timestamp: str, expected_age: float, expected_time: datetime, feed_transport: Transport
) -> None:
    async with open_onyx_server(token=TOKEN, rate=None) as server:
        async with live_feed(server, feed_transport) as (feed, col):
            with trio.fail_after(WAIT):
                await feed.subscribe("server_info")
            await server.push(server_info_frame(age, timestamp))
            (event,) = await wait_items(col, onyx.ServerInfoEvent, 1)
        info = event.message
        assert info.age_millis == expected_age
        assert type(info.age_millis) is type(expected_age)
        assert info.timestamp == expected_time
        assert info.timestamp.tzinfo is UTC
        assert onyx.decode(onyx.encode(event)) == event
        assert timestamp in onyx.encode(event)  # written back as it came
