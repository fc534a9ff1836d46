"""Peatio feeds against the local Ranger server: order-book recovery, session events, wire forms.

REAL ``peatio.open_feed`` + REAL sans-IO protocol + REAL ``trio_feeds.testing`` server on
127.0.0.1, on both transports. The server keeps the true book (``server.book(market)``); the
client's book must equal it whenever the client says it is synced and has seen the same
sequence, checked after every item the feed yields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import trio
import trio.lowlevel

from tests.test_feeds import JWT, WAIT, feed_tasks, make_config, wait_no_connections
from trio_feeds import events as ev
from trio_feeds import peatio
from trio_feeds.errors import AuthenticationError, FeedClosed
from trio_feeds.testing import PeatioServer, open_peatio_server
from trio_feeds.transports import FastTransport, Transport, TrioWebsocketTransport

pytest_plugins = ["trio_feeds.testing.pytest_plugin"]

MARKET = "btcusd"
STREAMS = [f"{MARKET}.ob-inc", f"{MARKET}.trades"]


@pytest.fixture(params=["trio-websocket", "fast"])
def transport(request: pytest.FixtureRequest) -> Transport:
    return FastTransport() if request.param == "fast" else TrioWebsocketTransport()


class Watcher:
    """Consumes a feed; after every item checks that a synced book equals the server's."""

    def __init__(self, feed: peatio.PeatioFeed, server: PeatioServer) -> None:
        self.feed = feed
        self.server = server
        self.items: list[Any] = []
        self.compared = 0  # items after which the synced book was compared with the server's
        self.checking = True  # off while the server's sequence numbers restart (engine restart)
        self.error: BaseException | None = None
        self._changed = trio.Event()

    async def run(self) -> None:
        try:
            async for item in self.feed:
                self.items.append(item)
                self.check()
                self._changed.set()
                self._changed = trio.Event()
        except Exception as exc:  # the test looks at it
            self.error = exc
            self._changed.set()

    def check(self) -> None:
        book = self.feed.books.get(MARKET)
        if not self.checking or book is None or not book.synced:
            return
        truth = self.server.book(MARKET)
        if book.sequence == truth.sequence:
            # Everything the engine published is applied: the books must be the same.
            assert (list(book.bids), list(book.asks)) == (truth.bids, truth.asks)
            self.compared += 1

    async def wait_for(self, predicate: Callable[[], object], timeout: float = WAIT) -> None:  # noqa: ASYNC109
        with trio.fail_after(timeout):
            while not predicate():
                if self.error is not None:
                    raise self.error
                await self._changed.wait()

    def count(self, kind: type) -> int:
        return sum(isinstance(i, kind) for i in self.items)

    def events(self) -> list[Any]:
        return [i for i in self.items if isinstance(i, ev.SessionEvent)]

    def trade_ids(self) -> list[int]:
        return [
            s
            for i in self.items
            if isinstance(i, peatio.StreamMessage)
            and i.stream.endswith(".trades")
            and (s := self.server.sequence_of(i)) is not None
        ]


async def consume(feed_cm: Any, into: list[Any] | None = None) -> None:
    """Open a feed and read it until it ends (bounded), keeping the items."""
    async with feed_cm as feed:
        with trio.fail_after(WAIT):
            async for item in feed:
                if into is not None:
                    into.append(item)


async def started(watcher: Watcher) -> None:
    """Wait until the book is synced the first time (the query streams are subscribed by then)."""
    await watcher.wait_for(lambda: watcher.count(ev.BookSynced) == 1)
    record = watcher.server.connections[0]
    assert record.subscriptions == STREAMS


async def pump(server: PeatioServer, watcher: Watcher, n: int) -> None:
    """Have the server publish ``n`` frames, round-robin over the connection's streams."""
    for _ in range(n):
        await server.push()
        await trio.lowlevel.checkpoint()


async def synced_with_server(watcher: Watcher) -> None:
    """Wait until the client's book is synced and has everything the server published."""
    await watcher.wait_for(
        lambda: (
            (b := watcher.feed.books.get(MARKET)) is not None
            and b.synced
            and b.sequence == watcher.server.book(MARKET).sequence
        )
    )
    watcher.check()


@pytest.mark.parametrize("auth", ["message", "header"])
async def test_sequence_jump_resyncs_on_the_same_connection(auth: str, transport: Transport) -> None:
    async with open_peatio_server(token=JWT, rate=None, snapshot_every=7) as server:
        async with (
            peatio.open_feed(
                server.url,
                streams=STREAMS,
                token=JWT,
                auth=auth,  # type: ignore[arg-type]
                subscribe_mode="event",
                config=make_config(),
                transport=transport,
            ) as feed,
            trio.open_nursery() as nursery,
        ):
            watcher = Watcher(feed, server)
            nursery.start_soon(watcher.run)
            await watcher.wait_for(lambda: watcher.count(ev.BookSynced) == 1)
            record = server.connections[0]
            await pump(server, watcher, 20)
            await synced_with_server(watcher)
            compared = watcher.compared

            server.skip_sequence(3)  # three increments never reach this connection
            await pump(server, watcher, 6)
            await watcher.wait_for(lambda: watcher.count(ev.BookOutOfSync) == 1)
            (out,) = [i for i in watcher.items if isinstance(i, ev.BookOutOfSync)]
            assert out.key == MARKET
            assert out.reason.startswith("sequence jump")
            await watcher.wait_for(lambda: watcher.count(ev.BookSynced) == 2)
            await pump(server, watcher, 10)
            await synced_with_server(watcher)
            assert watcher.compared > compared

            # The same connection: resynced by unsubscribe + subscribe, no reconnect.
            assert server.connections == [record]
            assert watcher.count(ev.Disconnected) == 0
            requests = [
                (e["event"], e["streams"]) for e in record.received if isinstance(e, dict) and "event" in e
            ]
            assert requests == [("unsubscribe", [f"{MARKET}.ob-inc"]), ("subscribe", [f"{MARKET}.ob-inc"])]
            assert record.subscriptions == [f"{MARKET}.trades", f"{MARKET}.ob-inc"]
            # The other stream flowed throughout: every trade the server sent, in order.
            await watcher.wait_for(lambda: len(watcher.trade_ids()) == record.sequence)
            assert watcher.trade_ids() == list(range(1, record.sequence + 1))
            assert not any(isinstance(i, ev.DecodeFailed) for i in watcher.items)
            nursery.cancel_scope.cancel()
        assert feed_tasks() == []
        await wait_no_connections(server)


async def test_engine_restart_resyncs(transport: Transport) -> None:
    async with (
        open_peatio_server(rate=None) as server,
        peatio.open_feed(
            server.url, streams=STREAMS, subscribe_mode="event", config=make_config(), transport=transport
        ) as feed,
        trio.open_nursery() as nursery,
    ):
        watcher = Watcher(feed, server)
        nursery.start_soon(watcher.run)
        await started(watcher)
        await pump(server, watcher, 10)
        await synced_with_server(watcher)
        # Live subscribers see only the sequence go back; until the feed sees that, equal
        # sequence numbers name different books (the old numbering and the new).
        watcher.checking = False
        server.restart_engine(MARKET)
        await pump(server, watcher, 6)
        await watcher.wait_for(lambda: watcher.count(ev.BookSynced) == 2)
        watcher.checking = True
        (out,) = [i for i in watcher.items if isinstance(i, ev.BookOutOfSync)]
        assert "went back" in out.reason
        await pump(server, watcher, 4)
        await synced_with_server(watcher)
        assert len(server.connections) == 1
        nursery.cancel_scope.cancel()


async def test_query_mode_resyncs_by_reconnecting(transport: Transport) -> None:
    async with (
        open_peatio_server(rate=None) as server,
        peatio.open_feed(
            server.url, streams=STREAMS, subscribe_mode="query", config=make_config(), transport=transport
        ) as feed,
        trio.open_nursery() as nursery,
    ):
        watcher = Watcher(feed, server)
        nursery.start_soon(watcher.run)
        await started(watcher)
        await pump(server, watcher, 6)
        await synced_with_server(watcher)
        server.skip_sequence(2)
        await pump(server, watcher, 4)
        await watcher.wait_for(lambda: watcher.count(ev.BookSynced) == 2)
        kinds = [type(e) for e in watcher.events() if not isinstance(e, ev.Connected | ev.BookSynced)]
        assert kinds[:3] == [ev.BookOutOfSync, ev.Disconnected, ev.Reconnecting]
        disconnected = next(e for e in watcher.items if isinstance(e, ev.Disconnected))
        assert "resync of the order book btcusd" in disconnected.reason
        reconnecting = next(e for e in watcher.items if isinstance(e, ev.Reconnecting))
        assert reconnecting.attempt == 1
        assert len(server.connections) == 2
        await pump(server, watcher, 6)
        await synced_with_server(watcher)
        nursery.cancel_scope.cancel()


async def test_after_a_disconnect_books_wait_for_the_next_snapshot(transport: Transport) -> None:
    async with (
        open_peatio_server(rate=None) as server,
        peatio.open_feed(
            server.url, streams=STREAMS, subscribe_mode="event", config=make_config(), transport=transport
        ) as feed,
        trio.open_nursery() as nursery,
    ):
        watcher = Watcher(feed, server)
        nursery.start_soon(watcher.run)
        await started(watcher)
        await pump(server, watcher, 6)
        await synced_with_server(watcher)
        await server.abort()
        await watcher.wait_for(lambda: watcher.count(ev.BookSynced) == 2)
        events = [
            type(e).__name__
            for e in watcher.events()
            if isinstance(e, ev.Disconnected | ev.BookOutOfSync | ev.Connected | ev.BookSynced)
        ]
        assert events == [
            "Connected",
            "BookSynced",
            "Disconnected",
            "BookOutOfSync",
            "Connected",
            "BookSynced",
        ]
        out = next(e for e in watcher.items if isinstance(e, ev.BookOutOfSync))
        assert out.reason == "disconnected"
        await pump(server, watcher, 6)
        await synced_with_server(watcher)
        nursery.cancel_scope.cancel()


# -- session events: the same meaning in every mode ----------------------------------------------


@pytest.mark.parametrize(("auth", "mode"), [("message", "event"), ("header", "event"), ("header", "query")])
async def test_session_events_mean_the_same_in_every_mode(auth: str, mode: str, transport: Transport) -> None:
    async with (
        open_peatio_server(token=JWT, rate=None) as server,
        peatio.open_feed(
            server.url,
            streams=["btcusd.trades", "order"],
            token=JWT,
            auth=auth,  # type: ignore[arg-type]
            subscribe_mode=mode,  # type: ignore[arg-type]
            config=make_config(),
            transport=transport,
        ) as feed,
        trio.open_nursery() as nursery,
    ):
        watcher = Watcher(feed, server)
        nursery.start_soon(watcher.run)
        # Authenticated: the server took the token on this connection.
        await watcher.wait_for(lambda: watcher.count(ev.Authenticated) == 1)
        assert isinstance(watcher.items[0], ev.Connected)
        assert server.connections[0].authenticated
        await feed.subscribe("ethusd.trades")
        if mode == "event":
            # Subscribed: the server acknowledged the subscribe.
            await watcher.wait_for(lambda: watcher.count(ev.Subscribed) == 1)
            assert "ethusd.trades" in server.connections[0].subscriptions
        else:
            # No request goes out: the feed reconnects with the stream in the URL.
            await watcher.wait_for(lambda: watcher.count(ev.Authenticated) == 2)
            assert watcher.count(ev.Subscribed) == 0
            assert "ethusd.trades" in server.connections[1].subscriptions
        nursery.cancel_scope.cancel()


async def test_header_token_refused_as_rango_public_does_is_an_authentication_error(
    transport: Transport,
) -> None:
    async with open_peatio_server(token=JWT, rate=None, auth_rejection="anonymous") as server:
        server.reject_auth_always()
        feed = peatio.open_feed(
            server.url,
            streams=["btcusd.trades", "order"],
            token=JWT,
            auth="header",
            config=make_config(),
            transport=transport,
        )
        with pytest.raises(AuthenticationError, match="left out the private streams order") as info:
            await consume(feed)
        assert JWT not in str(info.value)
        assert len(server.connections) == 1  # no retry


async def test_header_token_refused_as_the_ruby_ranger_does_is_retried_with_the_cause(
    transport: Transport,
) -> None:
    async with open_peatio_server(token=JWT, rate=None, auth_rejection="drop") as server:
        server.reject_auth_always()
        feed = peatio.open_feed(
            server.url,
            streams=["order"],
            token=JWT,
            auth="header",
            config=make_config(max_attempts=2),
            transport=transport,
        )
        items: list[Any] = []
        with pytest.raises(FeedClosed, match="gave up after 2") as info:
            await consume(feed, items)
        assert "refuses the token" in str(info.value)
        reasons = [i.reason for i in items if isinstance(i, ev.Reconnecting)]
        assert len(reasons) == 2
        assert all("refuses the token" in r for r in reasons)
        assert len(server.refused) == 3
        assert JWT not in str(info.value)


# -- the document generation: array frames ---------------------------------------------------------


async def test_array_frame_server(transport: Transport) -> None:
    async with (
        open_peatio_server(token=JWT, rate=None, frames="array") as server,
        peatio.open_feed(
            server.url,
            streams=["btcusd.trades", "order", "global.tickers"],
            token=JWT,
            config=make_config(),
            transport=transport,
        ) as feed,
    ):
        record = await server.wait_for_connection()
        await server.wait_for(lambda: record.authenticated)
        await server.push(count=6)
        got: list[peatio.StreamMessage[Any]] = []
        with trio.fail_after(WAIT):
            async for item in feed:
                if isinstance(item, peatio.StreamMessage):
                    got.append(item)
                    if len(got) == 6:
                        break
        assert {m.stream for m in got} == {"btcusd.trades", "order", "global.tickers"}
        assert all(m.form == "array" for m in got)
        assert [peatio.encode(m) for m in got] == record.sent[-6:]
