"""trio_feeds.redis_streams against a real server (valkey-server / redis-server; never mocked)."""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import coredis
import pytest
import trio

from trio_feeds import events as ev
from trio_feeds import exchanges, gateway
from trio_feeds import normalized as nz
from trio_feeds.errors import DecodeError, SlowConsumer
from trio_feeds.group import open_feeds
from trio_feeds.redis_streams import (
    BadEntry,
    PublishedEntry,
    PublisherConfig,
    PublisherOverflow,
    PublisherStarted,
    RawFrame,
    ReaderConfig,
    StreamEvent,
    StreamGap,
    open_publisher,
    open_stream_reader,
    publish_feeds,
    raw_frames,
    redact_url,
    stream_key,
)
from trio_feeds.redis_streams._codec import decode_event, decode_item, encode_event, encode_item, item_tag
from trio_feeds.testing.redis import RedisServer

NOW = datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
PLUS2 = datetime(2025, 3, 4, 7, 6, 7, tzinfo=timezone(timedelta(hours=2)))
D = Decimal


def every_type() -> list[nz.Normalized]:
    """One item of each normalized type with every field set (and some with None)."""
    common: dict[str, Any] = {"exchange": "gateway", "venue": "binance", "received_at": NOW}
    return [
        nz.Trade(
            **common,
            symbol="BTC-USDT",
            native_symbol="BTCUSDT",
            side=nz.Side.SELL,
            price=D("1.50"),
            amount=D("1E-8"),
            trade_id="t1",
            exchange_time=PLUS2,
        ),
        nz.Trade(
            **common,
            symbol="BTC-USDT",
            native_symbol="BTCUSDT",
            side=None,
            price=D("-0"),
            amount=D("123456789.123456789123456789"),
            exchange_time=None,
        ),
        nz.Fill(
            **common,
            symbol=None,
            native_symbol=None,
            side=nz.Side.BUY,
            price=D("2"),
            amount=None,
            trade_id="f",
            order_id="o",
            maker=True,
            exchange_time=NOW,
        ),
        nz.BookSnapshot(
            **common,
            symbol="ETH-BTC",
            native_symbol="ETHBTC",
            bids=((D("1.0"), D("2")),),
            asks=((D("3"), D("4.00")), (D("5"), D("6"))),
            sequence=7,
            exchange_time=NOW,
        ),
        nz.BookUpdate(
            **common,
            symbol="ETH-BTC",
            native_symbol="ETHBTC",
            bids=(),
            asks=((D("3"), D("0")),),
            sequence=None,
            exchange_time=None,
        ),
        nz.Ticker(
            **common,
            symbol="X",
            native_symbol="x",
            bid=D("1"),
            bid_amount=D("2"),
            ask=D("3"),
            ask_amount=D("4"),
            last=D("5"),
            volume=D("6"),
            high=D("7"),
            low=D("8"),
            exchange_time=NOW,
        ),
        nz.OrderUpdate(
            **common,
            symbol="BTC-USDT",
            native_symbol="BTCUSDT",
            order_id="42",
            client_order_id="c",
            side=nz.Side.BUY,
            status=nz.OrderStatus.PARTIALLY_FILLED,
            order_type="limit",
            price=D("1"),
            amount=D("2"),
            filled=D("1"),
            remaining=D("1"),
            average_price=D("1"),
            fee=D("0.001"),
            fee_currency="BNB",
            exchange_time=NOW,
        ),
        nz.BalanceUpdate(
            **common,
            currency="USD",
            native_currency="usd",
            balance=D("10"),
            available=D("9"),
            on_hold=D("1"),
            change=D("-1"),
            reason="trade",
            exchange_time=None,
        ),
        nz.PositionUpdate(
            **common,
            symbol="BTC-USD",
            native_symbol="btcusd",
            side=nz.PositionSide.SHORT,
            amount=D("0"),
            entry_price=D("1"),
            cost=D("2"),
            unrealized_pnl=D("-3"),
            liquidation_price=None,
            position_type="spot",
            exchange_time=NOW,
        ),
    ]


def fields_of(item: object) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__slots__ if name != "source"} | {
        n: getattr(item, n) for c in type(item).__mro__ for n in getattr(c, "__slots__", ()) if n != "source"
    }


def assert_same(got: object, want: object) -> None:
    assert type(got) is type(want)
    assert got == want
    for name, value in fields_of(want).items():
        other = getattr(got, name)
        assert type(other) is type(value), name
        if isinstance(value, Decimal):
            assert other.as_tuple() == value.as_tuple(), name  # the exponent too: "1.50" stays "1.50"
        if isinstance(value, datetime):
            assert other.utcoffset() == value.utcoffset(), name


def test_codec_round_trips_every_type_exactly() -> None:
    for item in every_type():
        tag = item_tag(item)
        assert tag is not None
        assert_same(decode_item(tag, encode_item(item)), item)


def test_codec_round_trips_every_event() -> None:
    samples: list[object] = [
        ev.Connected("ws://x/"),
        ev.Authenticated(),
        ev.Subscribed("3"),
        ev.Disconnected(None, "gone"),
        ev.Reconnecting(2, 0.5, "r"),
        ev.Resubscribed(2, ("a", "b")),
        ev.Gap(1.5, 2.5),
        ev.Overflow(3),
        ev.DecodeFailed(DecodeError("onyx", "bad", tag="T", path="$.x")),
        ev.BookOutOfSync(("binance", "X"), "jump"),
        ev.BookSynced("btcusd"),
        PublisherOverflow(4),
        PublisherStarted(),
    ]
    for number, event in enumerate(samples):
        feed, got_number, got = decode_event(encode_event(event, "f", number))
        assert (feed, got_number) == ("f", number)
        if isinstance(event, ev.DecodeFailed):
            assert isinstance(got, ev.DecodeFailed)
            assert str(got.error) == str(event.error)
            assert got.error.path == "$.x"
        else:
            assert got == event


def test_publisher_config_checks() -> None:
    with pytest.raises(ValueError, match="maxlen"):
        PublisherConfig(maxlen=10, batch_size=20)
    with pytest.raises(ValueError, match="overflow"):
        PublisherConfig(overflow="block")  # type: ignore[arg-type]


def test_keys() -> None:
    trade, _, fill, snap, update, ticker, order, balance, position = every_type()
    assert stream_key("p", trade) == "p:gateway:trade:BTC-USDT"
    assert stream_key("p", fill) == "p:gateway:fill:_"
    assert stream_key("p", snap) == stream_key("p", update) == "p:gateway:book:ETH-BTC"
    assert stream_key("p", ticker) == "p:gateway:ticker:X"
    assert stream_key("p", order) == "p:gateway:order:BTC-USDT"
    assert stream_key("p", balance) == "p:gateway:balance:USD"
    assert stream_key("p", position) == "p:gateway:position:BTC-USD"


def test_import_trio_feeds_does_not_import_coredis() -> None:
    code = "import sys, trio_feeds, trio_feeds.group, trio_feeds.gateway; print('coredis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_password_never_shown() -> None:
    assert redact_url("redis://user:s3cret@h:6379/0") == "redis://user:***@h:6379/0"
    assert redact_url("redis://:s3cret@h/0") == "redis://:***@h/0"
    assert redact_url("redis://h:1") == "redis://h:1"


async def test_password_not_in_reprs(redis_server: RedisServer) -> None:
    url = f"redis://default:hunter2@127.0.0.1:{redis_server.port}"
    async with open_publisher(url, prefix="r") as publisher:
        assert "hunter2" not in repr(publisher)
    async with open_stream_reader(url, group="g", consumer="c", streams=["r:x"]) as reader:
        assert "hunter2" not in repr(reader)
        assert "***" in repr(reader)


async def collect(reader: Any, count: int, seconds: float = 10.0) -> list[object]:
    got: list[object] = []
    with trio.fail_after(seconds):
        async for item in reader:
            got.append(item)
            if len(got) >= count:
                break
    return got


async def test_publish_and_read_back_in_order_with_events_in_band(redis_server: RedisServer) -> None:
    items = every_type()
    acked: list[PublishedEntry] = []
    async with open_publisher(redis_server.url, prefix="t", name="p", on_published=acked.extend) as publisher:
        publisher.publish(items[0], feed="gw")
        publisher.publish_event(ev.Gap(1.0, 2.0), feed="gw")
        for item in items[1:]:
            publisher.publish(item, feed="gw")
        await publisher.flush()
        assert publisher.pending == 0
    key = stream_key("t", items[0])
    async with open_stream_reader(redis_server.url, group="g", consumer="c", streams=[key]) as reader:
        got = await collect(reader, 4)
        assert reader.last is not None
        assert reader.last.stream == key
    # The publisher's start, then the trades in order with the feed's Gap between them.
    assert isinstance(got[0], StreamEvent)
    assert got[0].event == PublisherStarted()
    assert_same(got[1], items[0])
    assert isinstance(got[2], StreamEvent)
    assert got[2].event == ev.Gap(1.0, 2.0)
    assert got[2].feed == "gw"
    assert_same(got[3], items[1])
    # Every item is in a stream of its own kind, readable by prefix discovery.
    async with open_stream_reader(redis_server.url, group="all", consumer="c", prefix="t") as reader:
        everything = await collect(reader, len(acked))
    assert sorted(map(repr, (i for i in everything if not isinstance(i, StreamEvent)))) == sorted(
        map(repr, items)
    )


async def test_sources_round_trip_from_live_feeds(redis_server: RedisServer) -> None:
    """Items of all four protocols' local servers, with their exchange messages, come back equal."""
    published: list[nz.Normalized] = []
    names = ["cryptology", "gateway", "onyx", "peatio"]
    async with trio.open_nursery() as nursery:
        servers = {}
        for name in names:
            entry = exchanges.get(name)
            servers[name] = await nursery.start(_serve, entry)
        openers = {
            name: exchanges.get(name).open_feed(
                servers[name].url,
                exchanges.get(name).test_credentials,
                **exchanges.get(name).demo_feed_options(),
            )
            for name in names
        }
        config = PublisherConfig(sources=True)
        async with (
            open_publisher(redis_server.url, prefix="s", config=config) as publisher,
            open_feeds(openers, normalized=True) as group,
        ):
            for name in names:
                await exchanges.get(name).demo_subscribe(group[name])
            with trio.fail_after(10):
                async for tagged in group:
                    if item_tag(tagged.item) is not None:
                        publisher.publish(tagged.item, feed=tagged.feed)  # type: ignore[arg-type]
                        published.append(tagged.item)  # type: ignore[arg-type]
                        if {i.exchange for i in published} == set(names) and len(published) >= 40:
                            break
            await publisher.flush()
        nursery.cancel_scope.cancel()
    async with open_stream_reader(redis_server.url, group="g", consumer="c", prefix="s") as reader:
        got: list[object] = []
        with trio.fail_after(10):
            async for item in reader:
                if not isinstance(item, StreamEvent):
                    got.append(item)
                if len(got) == len(published):
                    break
    assert len(got) == len(published)
    by_key: dict[str, list[object]] = {}
    for item in got:
        by_key.setdefault(stream_key("s", item), []).append(item)  # type: ignore[arg-type]
    for item in published:
        other = by_key[stream_key("s", item)].pop(0)
        assert_same(other, item)
        assert other.source == item.source  # type: ignore[attr-defined]
        assert type(other.source) is type(item.source)  # type: ignore[attr-defined]


async def _serve(
    entry: exchanges.Exchange, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED
) -> None:
    async with entry.open_server(rate=200.0) as server:
        task_status.started(server)
        await trio.sleep_forever()


def trade(n: int) -> nz.Trade:
    return nz.Trade(
        exchange="gateway",
        venue="binance",
        symbol="BTC-USDT",
        native_symbol="BTCUSDT",
        side=nz.Side.BUY,
        price=D(n),
        amount=D("1"),
        trade_id=str(n),
        exchange_time=None,
        received_at=NOW,
    )


async def entries(url: str, key: str) -> list[Any]:
    async with coredis.Redis.from_url(url, decode_responses=False) as client:
        return list(await client.xrange(key))


async def test_restart_mid_publish_loses_nothing_acknowledged(redis_server: RedisServer) -> None:
    acked: list[PublishedEntry] = []
    config = PublisherConfig(batch_size=50, backoff_initial=0.02, backoff_max=0.2)
    async with open_publisher(
        redis_server.url, prefix="t", config=config, on_published=acked.extend
    ) as publisher:
        for n in range(300):
            publisher.publish(trade(n))
        await publisher.flush()
        await trio.to_thread.run_sync(lambda: redis_server.restart(crash=True))  # SIGKILL: a crash
        for n in range(300, 600):
            publisher.publish(trade(n))
            if n == 400:
                await trio.to_thread.run_sync(redis_server.stop)
            if n == 500:
                # Let the writer try while Redis is down, so the test does not depend on whether
                # it happened to write before the stop (then no reconnect would be needed).
                await trio.sleep(0.3)
                await trio.to_thread.run_sync(redis_server.start)
        with trio.fail_after(10):
            await publisher.flush()
        assert publisher.stats.reconnects >= 1
    stored = await entries(redis_server.url, "t:gateway:trade:BTC-USDT")
    ids = [e.identifier.decode() for e in stored]
    assert {a.id for a in acked if a.stream == "t:gateway:trade:BTC-USDT"} <= set(ids)
    prices = [
        decode_item(e.field_values[b"k"], e.field_values[b"d"]).price
        for e in stored
        if e.field_values[b"k"] == b"trade"
    ]
    assert prices == [D(n) for n in range(600)]  # each once, in order


class ReplyEater:
    """A TCP relay to Redis that, once armed, passes requests on and drops the connection
    before any reply comes back: the writes happen, the acknowledgements are lost."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.armed = False
        self.listen_port = 0
        self.cut = trio.Event()
        self.eating = False

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.listen_port = listeners[0].socket.getsockname()[1]
        task_status.started()
        await trio.serve_listeners(self._relay, listeners)

    async def _relay(self, client: trio.SocketStream) -> None:
        upstream = await trio.open_tcp_stream("127.0.0.1", self.port)
        async with client, upstream, trio.open_nursery() as nursery:

            async def up() -> None:
                async for data in client:
                    if self.armed and data.upper().count(b"XADD") >= 5:
                        self.armed = False
                        self.eating = True
                        await upstream.send_all(data)
                        await trio.sleep(0.2)  # Redis applies them
                        self.cut.set()
                        self.eating = False
                        nursery.cancel_scope.cancel()  # ... and the replies never come
                        return
                    await upstream.send_all(data)

            async def down() -> None:
                async for data in upstream:
                    if not self.eating:
                        await client.send_all(data)

            nursery.start_soon(up)
            nursery.start_soon(down)


async def test_lost_replies_do_not_duplicate(redis_server: RedisServer) -> None:
    eater = ReplyEater(redis_server.port)
    async with trio.open_nursery() as nursery:
        await nursery.start(eater.run)
        url = f"redis://127.0.0.1:{eater.listen_port}"
        config = PublisherConfig(batch_size=100, backoff_initial=0.01, backoff_max=0.05)
        async with open_publisher(url, prefix="t", config=config) as publisher:
            publisher.publish(trade(-1))
            await publisher.flush()
            eater.armed = True
            for n in range(100):
                publisher.publish(trade(n))
            with trio.fail_after(10):
                await publisher.flush()
            assert eater.cut.is_set()
            assert publisher.stats.retries >= 1
            assert publisher.stats.duplicates >= 5  # resent, found stored, not stored again
        nursery.cancel_scope.cancel()
    stored = await entries(redis_server.url, "t:gateway:trade:BTC-USDT")
    prices = [
        decode_item(e.field_values[b"k"], e.field_values[b"d"]).price
        for e in stored
        if e.field_values[b"k"] == b"trade"
    ]
    assert prices == [D(n) for n in range(-1, 100)]


async def test_overflow_while_redis_is_away(redis_server: RedisServer) -> None:
    await trio.to_thread.run_sync(redis_server.stop)
    config = PublisherConfig(queue_size=10, backoff_initial=0.01, backoff_max=0.05)
    async with open_publisher(redis_server.url, prefix="o", config=config) as publisher:
        publisher.publish(trade(0), feed="gw")
        publisher.publish_event(ev.Disconnected(1006, "x"), feed="gw")
        for n in range(1, 30):
            publisher.publish(trade(n), feed="gw")
        assert publisher.stats.dropped == 20
        await trio.to_thread.run_sync(redis_server.start)
        with trio.fail_after(10):
            await publisher.flush()
    stored = await entries(redis_server.url, "o:gateway:trade:BTC-USDT")
    kinds = [
        decode_event(e.field_values[b"d"])[2]
        if e.field_values[b"k"] == b"event"
        else decode_item(e.field_values[b"k"], e.field_values[b"d"]).price
        for e in stored
    ]
    # The oldest 20 items were dropped (one before the event, 19 after it); the marker comes
    # after the event an overflow kept, before the items that were written.
    assert kinds[:3] == [PublisherStarted(), ev.Disconnected(1006, "x"), PublisherOverflow(20)]
    assert [k for k in kinds if isinstance(k, Decimal)] == [D(n) for n in range(20, 30)]

    async with open_publisher(
        redis_server.url, prefix="o", config=PublisherConfig(queue_size=2, overflow="fail")
    ) as p:
        await trio.to_thread.run_sync(redis_server.stop)
        p.publish(trade(0))
        p.publish(trade(1))
        with pytest.raises(SlowConsumer):
            p.publish(trade(2))
        await trio.to_thread.run_sync(redis_server.start)


async def test_gap_when_trimming_outruns_the_group(redis_server: RedisServer) -> None:
    key = "g:gateway:trade:BTC-USDT"
    async with open_publisher(
        redis_server.url, prefix="g", config=PublisherConfig(maxlen=100, batch_size=50)
    ) as publisher:
        for n in range(10):
            publisher.publish(trade(n))
        await publisher.flush()
        config = ReaderConfig(count=5)
        async with open_stream_reader(
            redis_server.url, group="slow", consumer="c", streams=[key], config=config
        ) as r:
            first = await collect(r, 6)  # PublisherStarted + 5 trades
            for n in range(10, 3000):
                publisher.publish(trade(n))
            await publisher.flush()
            rest: list[object] = []
            with trio.fail_after(10):
                async for item in r:
                    rest.append(item)
                    if isinstance(item, nz.Trade) and item.price == 2999:
                        break
    gaps = [i for i in rest if isinstance(i, StreamGap)]
    assert gaps  # one per time trimming passed the group (the writer and the reader run together)
    entries_seen = len(first) + len(rest) - len(gaps)
    # 3000 trades and the publisher's start: the gaps count exactly what the group never got.
    assert sum(g.lost or 0 for g in gaps) == 3001 - entries_seen > 2000
    seen = [i.price for i in first + rest if isinstance(i, nz.Trade)]
    assert seen == sorted(seen)


async def test_dead_consumers_entries_are_claimed(redis_server: RedisServer) -> None:
    key = "c:gateway:trade:BTC-USDT"
    async with open_publisher(redis_server.url, prefix="c") as publisher:
        for n in range(20):
            publisher.publish(trade(n))
        await publisher.flush()
    # A consumer that reads and dies without acknowledging (a raw client: no reader to ack).
    async with coredis.Redis.from_url(redis_server.url, decode_responses=False) as client:
        await client.xgroup_create(key, "g", identifier="0")
        taken = await client.xreadgroup("g", "dead", {key: ">"}, count=8)
        assert taken is not None
        assert len(taken[key.encode()]) == 8
    config = ReaderConfig(claim_idle=0.3, claim_interval=0.1, block=0.1)
    async with open_stream_reader(
        redis_server.url, group="g", consumer="alive", streams=[key], config=config
    ) as r:
        got = await collect(r, 21)
        assert r.stats.claimed == 8
    prices = sorted(i.price for i in got if isinstance(i, nz.Trade))
    assert prices == [D(n) for n in range(20)]
    async with coredis.Redis.from_url(redis_server.url, decode_responses=False) as client:
        pending = await client.xpending(key, "g")
        assert pending.pending == 0  # everything acknowledged


async def test_bad_entry_is_an_event_not_an_error(redis_server: RedisServer) -> None:
    async with coredis.Redis.from_url(redis_server.url, decode_responses=False) as client:
        await client.xadd("b:x", {"k": "trade", "d": "[1, 2]"})
        await client.xadd("b:x", {"hello": "world"})
    async with open_stream_reader(redis_server.url, group="g", consumer="c", streams=["b:x"]) as r:
        got = await collect(r, 2)
    assert all(isinstance(i, BadEntry) for i in got)


async def test_publish_feeds_of_a_group(redis_server: RedisServer) -> None:
    entry = exchanges.get("gateway")
    async with entry.open_server(rate=100.0) as server:
        opener = entry.open_feed(server.url, entry.test_credentials)
        async with (
            open_publisher(redis_server.url, prefix="f") as publisher,
            open_feeds({"gw": opener}, normalized=True) as group,
        ):
            await entry.demo_subscribe(group["gw"])
            with trio.move_on_after(0.5):
                await publish_feeds(group, publisher)
            await server.close(1011, "restart")
            with trio.move_on_after(1.0):
                await publish_feeds(group, publisher)
            await publisher.flush()
    async with open_stream_reader(redis_server.url, group="g", consumer="c", prefix="f") as r:
        got: list[object] = []
        with trio.move_on_after(1.5):
            async for item in r:
                got.append(item)
    events = {type(i.event) for i in got if isinstance(i, StreamEvent)}
    assert {ev.Disconnected, ev.Reconnecting, ev.Gap} <= events
    assert any(isinstance(i, nz.Normalized.__args__) for i in got)  # type: ignore[attr-defined]


async def test_raw_frames_as_received(redis_server: RedisServer) -> None:
    entry = exchanges.get("gateway")
    async with (
        entry.open_server(rate=100.0) as server,
        open_publisher(redis_server.url, prefix="raw") as publisher,
    ):
        tap = raw_frames(publisher, exchange="gateway", feed="gw")
        async with entry.open_feed(server.url, entry.test_credentials, recorder=tap) as feed:
            await entry.matrix_subscribe(feed)
            seen = 0
            async for item in feed:
                if isinstance(item, gateway.TradesMessage):
                    seen += 1
                    if seen == 5:
                        break
        await publisher.flush()
    async with open_stream_reader(
        redis_server.url, group="g", consumer="c", streams=["raw:gateway:raw:gw"]
    ) as r:
        got = await collect(r, 8)
    frames = [i for i in got if isinstance(i, RawFrame)]
    assert frames
    for frame in frames:
        assert isinstance(frame.frame, str)  # the gateway sends text frames
        assert frame.feed == "gw"
        assert frame.received_at.tzinfo is UTC
        gateway.decode(frame.frame)  # exactly a frame the server sent


def test_publish_config_errors(tmp_path: Path) -> None:
    from trio_feeds.cli._common import UsageError
    from trio_feeds.cli.publish import load_publish_config

    path = tmp_path / "c.toml"
    cases = {
        "": "a [redis] table",
        "[redis]\nurl_env = 'NOPE'\n": "NOPE is not set",
        "[redis]\nurl = 'redis://x'\nbogus = 1\n": "unknown [redis] keys: bogus",
        "[redis]\nurl = 'redis://x'\nmaxlen = 0\n": "maxlen",
        "[redis]\nurl = 'redis://x'\n": "at least one [[feeds]]",
        "[redis]\nurl = 'redis://x'\n[[feeds]]\nname = 'a'\nexchange = 'nope'\nurl = 'ws://h/'\n": "unknown exchange",
        "[redis]\nurl = 'redis://x'\n[[feeds]]\nname = 'a'\nexchange = 'peatio'\nurl = 'ws://h/'\nargs = ['--bad']\n": "bad args",
    }
    for text, message in cases.items():
        path.write_text(text)
        with pytest.raises(UsageError, match=re.escape(message)):
            load_publish_config(str(path), environ={})
    path.write_text(
        "[redis]\nurl_env = 'R'\nname = 'p'\nqueue_size = 5\n"
        "[[feeds]]\nname = 'a'\nexchange = 'peatio'\nurl = 'ws://h/'\nargs = ['--stream', 'btcusd.trades']\nraw = true\n"
    )
    settings = load_publish_config(str(path), environ={"R": "redis://:pw@h:1"})
    assert settings.publisher.queue_size == 5
    assert settings.feeds[0].raw
    assert settings.feeds[0].args.stream == ["btcusd.trades"]


async def test_password_not_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there
    url = f"redis://default:hunter2@127.0.0.1:{port}"
    config = PublisherConfig(close_timeout=0.1, backoff_initial=0.01, backoff_max=0.02)
    with caplog.at_level(logging.WARNING, logger="trio_feeds.redis_streams"):
        async with open_publisher(url, prefix="r", config=config) as publisher:
            publisher.publish(trade(1))
            await trio.sleep(0.2)
            assert publisher.stats.retries >= 1
        assert publisher.stats.unpublished == 1
    assert "unreachable" in caplog.text
    assert "hunter2" not in caplog.text


def test_consume_command_never_prints_the_password(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", password="hunter2")
    server.start()
    try:

        async def publish() -> None:
            async with open_publisher(server.url, prefix="cmd") as publisher:
                for n in range(3):
                    publisher.publish(trade(n))

        trio.run(publish)
        command = [
            sys.executable,
            "-m",
            "trio_feeds",
            "consume",
            server.url,
            "--group",
            "g",
            "--consumer",
            "c",
        ]
        out = subprocess.run(
            [*command, "--prefix", "cmd", "--json", "--count", "3"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        lines = [json.loads(line) for line in out.stdout.splitlines()]
        assert [line["data"]["price"] for line in lines if line["kind"] == "normalized"] == ["0", "1", "2"]
        other_group = [*command[:6], "g2", *command[7:]]
        text = subprocess.run(
            [*other_group, "--prefix", "cmd", "--count", "1"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert text.returncode == 0, text.stderr
        assert "BTC-USDT" in text.stdout
        wrong = server.url.replace("hunter2", "wrong-one")
        bad = subprocess.run(
            [
                sys.executable,
                "-m",
                "trio_feeds",
                "consume",
                wrong,
                "--group",
                "g",
                "--consumer",
                "c",
                "--stream",
                "x",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        for result in (out, text, bad):
            assert "hunter2" not in result.stdout + result.stderr
        assert "wrong-one" not in bad.stdout + bad.stderr
        assert bad.returncode == 1
    finally:
        server.stop()
