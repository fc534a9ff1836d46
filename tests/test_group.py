"""Many feeds in one nursery: merged, tagged, with an explicit policy for a feed that fails."""

from __future__ import annotations

import random
from typing import Any

import pytest
import trio

from trio_feeds import AuthenticationError, FeedConfig, cryptology, events, gateway
from trio_feeds.group import FeedFailed, Tagged, open_feeds
from trio_feeds.testing import GatewayServer, open_cryptology_server, open_gateway_server

CREDS = gateway.Credentials("key-1", "group-SECRET-7f3a")


def fast() -> FeedConfig:
    return FeedConfig(
        ping_interval=0.05, ping_timeout=0.2, backoff_initial=0.01, backoff_max=0.05, request_timeout=1.0,
        rng=random.Random(7),
    )  # fmt: skip


def sequences(items: list[Tagged[object]], name: str, server: Any) -> list[int]:
    return [s for t in items if t.feed == name and (s := server.sequence_of(t.item)) is not None]


async def test_items_of_several_feeds_are_merged_in_each_feeds_order() -> None:
    async with (
        open_gateway_server(api_key="key-1", api_secret="group-SECRET-7f3a", rate=200, idle_ping=None) as gw,
        open_cryptology_server(rate=200) as cr,
    ):
        feeds = {
            "gw": gateway.open_feed(gw.url, credentials=CREDS, config=fast()),
            "cr": cryptology.open_feed(cr.url, config=fast()),
        }
        items: list[Tagged[object]] = []
        async with open_feeds(feeds) as group:
            assert isinstance(group["gw"], gateway.GatewayFeed)
            await group["gw"].subscribe(["trades"], exchange="binance", symbols=["BTCUSDT"])
            with trio.fail_after(5):
                async for tagged in group:
                    items.append(tagged)
                    if len(sequences(items, "gw", gw)) >= 20 and len(sequences(items, "cr", cr)) >= 20:
                        break
            health = group.health
            assert health["gw"].connected
            assert health["cr"].connected
            assert health["gw"].messages >= 20
            assert health["cr"].age() is not None
        for name, server in (("gw", gw), ("cr", cr)):
            seqs = sequences(items, name, server)
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # in order, nothing lost
        kinds = [type(t.item) for t in items if t.feed == "gw"]
        assert kinds[0] is events.Connected


async def test_a_failing_feed_ends_the_group_by_default() -> None:
    async with (
        open_gateway_server(api_key="key-1", api_secret="other-secret", rate=None, idle_ping=None) as gw,
        open_cryptology_server(rate=50) as cr,
    ):
        feeds = {
            "gw": gateway.open_feed(gw.url, credentials=CREDS, config=fast()),
            "cr": cryptology.open_feed(cr.url, config=fast()),
        }
        seen: list[Any] = []

        async def consume() -> None:
            async with open_feeds(feeds) as group:
                seen.append(group)
                async for _ in group:
                    pass

        with trio.fail_after(5), pytest.raises(AuthenticationError):
            await consume()
        await cr.wait_for(lambda: not cr.open_connections)  # the healthy feed was closed too
        assert isinstance(seen[0].health["gw"].failed, AuthenticationError)
        assert "group-SECRET" not in repr(seen[0].health)


async def test_isolate_reports_the_failure_in_band_and_goes_on() -> None:
    async with (
        open_gateway_server(api_key="key-1", api_secret="group-SECRET-7f3a", rate=None, idle_ping=None) as gw,
        open_cryptology_server(rate=100) as cr,
    ):
        assert isinstance(gw, GatewayServer)
        gw.reject_auth_always()
        feeds = {
            "gw": gateway.open_feed(gw.url, credentials=CREDS, config=fast()),
            "cr": cryptology.open_feed(cr.url, config=fast()),
        }
        after_failure = 0
        async with open_feeds(feeds, on_failure="isolate") as group:
            failed: Tagged[object] | None = None
            with trio.fail_after(5):
                async for tagged in group:
                    if isinstance(tagged.item, FeedFailed):
                        failed = tagged
                    elif failed is not None and tagged.feed == "cr" and cr.sequence_of(tagged.item):
                        after_failure += 1
                        if after_failure == 10:
                            break
            assert failed is not None
            assert failed.feed == "gw"
            assert isinstance(failed.item, FeedFailed)
            assert isinstance(failed.item.error, AuthenticationError)
            assert group.health["gw"].failed is failed.item.error
            assert group.health["cr"].failed is None
            assert group.health["cr"].connected


async def test_a_dropped_connection_heals_without_disturbing_the_others() -> None:
    async with (
        open_gateway_server(api_key="key-1", api_secret="group-SECRET-7f3a", rate=100, idle_ping=None) as gw,
        open_cryptology_server(rate=100) as cr,
    ):
        feeds = {
            "gw": gateway.open_feed(gw.url, credentials=CREDS, config=fast()),
            "cr": cryptology.open_feed(cr.url, config=fast()),
        }
        async with open_feeds(feeds) as group:
            await group["gw"].subscribe(["trades"], exchange="binance", symbols=["BTCUSDT"])
            await cr.wait_for_connection(1)
            await cr.abort()
            seen: list[Tagged[object]] = []
            with trio.fail_after(5):
                async for tagged in group:
                    seen.append(tagged)
                    if tagged.feed == "cr" and isinstance(tagged.item, events.Gap):
                        break
            assert group.health["cr"].reconnects == 1
            assert group.health["cr"].gaps == 1
            assert group.health["gw"].reconnects == 0


async def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one feed"):
        async with open_feeds({}):
            pass
    with pytest.raises(ValueError, match="on_failure"):
        async with open_feeds({"x": cryptology.open_feed("ws://127.0.0.1:1/")}, on_failure="ignore"):  # type: ignore[arg-type]
            pass


async def test_normalized_group_yields_common_items_from_every_exchange() -> None:
    from trio_feeds import normalized

    async with (
        open_gateway_server(api_key="key-1", api_secret="group-SECRET-7f3a", rate=200, idle_ping=None) as gw,
        open_cryptology_server(rate=200, trade_pairs=("BTC_USD",)) as cr,
    ):
        feeds = {
            "gw": gateway.open_feed(gw.url, credentials=CREDS, config=fast()),
            "cr": cryptology.open_feed(cr.url, config=fast()),
        }
        trades: dict[str, normalized.Trade] = {}
        async with open_feeds(feeds, normalized=True) as group:
            await group["gw"].subscribe(["trades"], exchange="binance", symbols=["BTCUSDT"])
            with trio.fail_after(5):
                async for tagged in group:
                    if isinstance(tagged.item, normalized.Trade):
                        trades.setdefault(tagged.feed, tagged.item)
                        if len(trades) == 2:
                            break
                    else:  # events pass through; nothing of an exchange's own type does
                        assert type(tagged.item).__module__ in ("trio_feeds.events", "trio_feeds.normalized")
        assert trades["gw"].symbol == "BTC-USDT"
        assert trades["gw"].native_symbol == "BTCUSDT"
        assert trades["cr"].symbol == "BTC-USD"
        assert isinstance(trades["gw"].source, gateway.TradesMessage)
        assert isinstance(trades["cr"].source, cryptology.AnonymousTrade)
        assert trades["gw"].received_at.tzinfo is not None
