"""A feed keeps the orders, balances and positions its private messages carry, and says when stale."""

from __future__ import annotations

import random

import trio

from trio_feeds import FeedConfig, events, gateway
from trio_feeds.testing import open_gateway_server

CREDS = gateway.Credentials("key-1", "account-SECRET-21c9")


def fast() -> FeedConfig:
    return FeedConfig(
        ping_interval=0.05, ping_timeout=0.2, backoff_initial=0.01, backoff_max=0.05, request_timeout=1.0,
        rng=random.Random(3),
    )  # fmt: skip


async def test_gateway_orders_and_positions_are_kept_and_marked_stale_after_a_gap() -> None:
    async with (
        open_gateway_server(
            api_key="key-1", api_secret="account-SECRET-21c9", rate=None, idle_ping=None
        ) as server,
        gateway.open_feed(server.url, credentials=CREDS, config=fast()) as feed,
    ):
        await feed.subscribe(["orders", "positions"], exchange="binance", symbols=["ETHUSDT"])
        record = await server.wait_for_connection(1)
        assert feed.account is not None
        assert feed.account.orders.stale is not None  # no full state yet: it never had one
        await server.push(count=4, connection=record)
        with trio.fail_after(5):
            async for item in feed:
                if isinstance(item, gateway.PositionsMessage) and server.sequence_of(item) == 4:
                    break
        orders = feed.account.orders
        positions = feed.account.positions
        assert len(orders) == 2  # the orders channel's messages: ids "1" and "3"
        assert {order.order_id for order in orders.values()} == {"1", "3"}
        assert all(o.native_symbol == "ETHUSDT" for o in orders.values())
        assert len(positions) == 1
        assert not orders.stale_keys
        await server.abort()
        with trio.fail_after(5):
            async for item in feed:
                if isinstance(item, events.Gap):
                    gap = item
                    break
        stale = orders.stale
        assert stale is not None
        assert stale.until == gap.until  # the gap's interval, on the engine clock
        assert orders.stale_keys == frozenset(orders)  # every order held may be outdated
