"""The Peatio Ranger test server, checked with a plain trio-websocket client (not the engine).

It must speak the real servers' forms (see trio_feeds/testing/peatio.py), since the feed's own
tests and any real client pointed at ``trio-feeds serve peatio`` stand on it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionRejected, WebSocketConnection

from tests._fixtures import validator
from tests.test_testing_servers import WAIT, client, nothing_within, recv
from trio_feeds import peatio
from trio_feeds.testing import open_peatio_server
from trio_feeds.testing.faults import SequenceFaults, parse_fault

pytest_plugins = ["trio_feeds.testing.pytest_plugin"]


def check(frame: str | bytes) -> Any:
    """Parse a server frame, check it against the schema and the library's decoder."""
    obj = json.loads(frame, parse_float=Decimal)
    errors = list(validator("peatio", "ServerMessage").iter_errors(obj))
    assert not errors, f"frame not schema-valid: {frame!r}: {errors[0].message}"
    peatio.decode(frame)
    return obj


async def recv_json(ws: WebSocketConnection, within: float = WAIT) -> Any:
    return check(await recv(ws, within))


def fold(book: dict[str, dict[Decimal, Decimal]], inc: dict[str, Any]) -> None:
    """Apply one engine increment ({side: [price, amount]}, "" removes) to a plain dict book."""
    for side in ("asks", "bids"):
        if side in inc:
            price, amount = inc[side]
            if amount == "":
                book[side].pop(Decimal(price), None)
            else:
                book[side][Decimal(price)] = Decimal(amount)


def from_snapshot(snap: dict[str, Any]) -> dict[str, dict[Decimal, Decimal]]:
    return {side: {Decimal(p): Decimal(a) for p, a in snap[side]} for side in ("asks", "bids")}


def as_state(book: dict[str, dict[Decimal, Decimal]]) -> tuple[list[Any], list[Any]]:
    return sorted(book["bids"].items(), reverse=True), sorted(book["asks"].items())


async def test_query_streams_ack_then_jwt_message_auth_and_sequence() -> None:
    async with open_peatio_server(rate=300) as server:
        url = server.url_for("btcusd.trades", "order", "trade")
        async with client(url) as ws:
            # Subscribed unasked right after the handshake; private streams wait for auth.
            assert await recv_json(ws) == {"success": {"message": "subscribed", "streams": ["btcusd.trades"]}}
            before_auth = [await recv_json(ws) for _ in range(4)]
            assert all(list(o) == ["btcusd.trades"] for o in before_auth)
            await ws.send_message(json.dumps({"jwt": "Bearer test-token"}))
            frames: list[dict[str, Any]] = []
            while len(frames) < 30:
                frames.append(await recv_json(ws))
            assert {"success": {"message": "Authenticated."}} in frames
            keys = {next(iter(o)) for o in frames}
            assert {"order", "trade", "btcusd.trades"} <= keys
            seqs = [server.sequence_of(o) for o in before_auth + frames]
            numbers = [s for s in seqs if s is not None]
            assert numbers == list(range(1, len(numbers) + 1))
        record = server.connections[0]
        assert record.subscriptions == ["btcusd.trades", "order", "trade"]
        assert record.auth_attempts == [True]


async def test_auth_errors_and_the_error_forms() -> None:
    async with open_peatio_server(rate=None) as server, client(server.url) as ws:
        assert await recv_json(ws) == {"success": {"message": "subscribed", "streams": []}}
        await ws.send_message(json.dumps({"jwt": "Basic abc"}))
        assert await recv_json(ws) == {"error": {"message": "Token type is not provided or invalid."}}
        await ws.send_message(json.dumps({"jwt": "Bearer nope"}))
        assert await recv_json(ws) == {"error": {"message": "Authentication failed."}}
        await ws.send_message(json.dumps({"something": "else"}))
        assert await recv_json(ws) == {"error": {"message": "Error while handling message."}}
    async with open_peatio_server(rate=None, text_errors=True) as server, client(server.url) as ws:
        await recv_json(ws)
        await ws.send_message(json.dumps({"something": "else"}))
        assert await recv_json(ws) == {"error": "Could not parse Type: Invalid event"}  # rango
        await ws.send_message("{")
        assert await recv_json(ws) == {"error": "Could not parse message: invalid JSON"}


async def test_header_auth_rejections_as_each_server_makes_them() -> None:
    bad = [(b"Authorization", b"Bearer bad")]
    async with open_peatio_server(rate=None) as server:  # rango /private
        with pytest.raises(ConnectionRejected) as info:
            async with client(server.url_for("order"), extra_headers=bad):
                pass
        assert info.value.status_code == 401
        assert server.refused[0].auth_attempts == [False]
        async with client(
            server.url_for("order"), extra_headers=[(b"Authorization", b"Bearer test-token")]
        ) as ws:
            assert await recv_json(ws) == {"success": {"message": "subscribed", "streams": ["order"]}}
            await server.push()
            obj = await recv_json(ws)
            assert server.sequence_of(obj) == obj["order"]["id"] == 1
    async with open_peatio_server(rate=None, auth_rejection="drop") as server:  # the Ruby Ranger
        # TCP closed with no HTTP answer (trio-websocket's client would wait forever: raw TCP here).
        stream = await trio.open_tcp_stream("127.0.0.1", server.port)
        async with stream:
            await stream.send_all(
                b"GET /?stream=order HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer bad\r\n\r\n"
            )
            with trio.fail_after(WAIT):
                assert await stream.receive_some() == b""
        assert [r.status for r in server.refused] == [0]
    async with open_peatio_server(rate=None, auth_rejection="anonymous") as server:  # rango /public
        async with client(server.url_for("btcusd.trades", "order"), extra_headers=bad) as ws:
            # Anonymous: the private stream is left out of the acknowledgement.
            assert await recv_json(ws) == {"success": {"message": "subscribed", "streams": ["btcusd.trades"]}}
        assert not server.connections[0].authenticated


async def test_order_book_snapshot_increments_and_the_true_book() -> None:
    async with open_peatio_server(rate=None, snapshot_every=5) as server, client(server.url) as ws:
        await recv_json(ws)
        await ws.send_message(json.dumps({"event": "subscribe", "streams": ["ethusd.ob-inc"]}))
        # The stored snapshot (under the -snap key) comes before the reply.
        snap = (await recv_json(ws))["ethusd.ob-snap"]
        assert snap["sequence"] == 1
        assert await recv_json(ws) == {"success": {"message": "subscribed", "streams": ["ethusd.ob-inc"]}}
        book = from_snapshot(snap)
        await server.push(count=12)
        last = snap["sequence"]
        removed = 0
        for _ in range(12):
            inc = (await recv_json(ws))["ethusd.ob-inc"]
            assert inc["sequence"] == last + 1
            last = inc["sequence"]
            (side,) = {"asks", "bids"} & set(inc)
            _, amount = inc[side]  # one flat pair
            removed += amount == ""
            fold(book, inc)
        assert removed > 0
        state = server.book("ethusd")
        assert as_state(book) == (state.bids, state.asks)
        assert state.sequence == last == 13
        # A second client gets the stored snapshot and the increments since: the same book.
        async with client(server.url_for("ethusd.ob-inc")) as other:
            first = await recv_json(other)
            stored = first["ethusd.ob-snap"]
            assert stored["sequence"] > 1  # renewed every 5 increments
            book2 = from_snapshot(stored)
            while "success" not in (obj := await recv_json(other)):
                fold(book2, obj["ethusd.ob-inc"])
            assert as_state(book2) == (state.bids, state.asks)
            # One engine: an increment made on one connection's turn is the next frame of every
            # other subscriber (at its next turn: push() serves every connection).
            await server.push()
            a = (await recv_json(ws))["ethusd.ob-inc"]
            b = (await recv_json(other))["ethusd.ob-inc"]
            assert a == b
            assert a["sequence"] == last + 1
            await server.push(connection=server.connections[1])
            await server.push(connection=server.connections[0])
            assert (await recv_json(ws)) == (await recv_json(other))


async def test_resubscribing_a_held_stream_brings_nothing_unsubscribe_then_subscribe_does() -> None:
    async with open_peatio_server(rate=None) as server, client(server.url_for("btcusd.ob-inc")) as ws:
        assert "btcusd.ob-snap" in await recv_json(ws)
        await recv_json(ws)  # the acknowledgement
        await ws.send_message(
            json.dumps({"event": "subscribe", "streams": ["btcusd.ob-inc", "btcusd.ob-snap"]})
        )
        # The Ruby server: no snapshot for a stream already held; -snap brings nothing ever.
        assert await recv_json(ws) == {
            "success": {"message": "subscribed", "streams": ["btcusd.ob-inc", "btcusd.ob-snap"]}
        }
        await server.push(count=2)
        assert [next(iter(await recv_json(ws))) for _ in range(2)] == ["btcusd.ob-inc"] * 2
        await ws.send_message(json.dumps({"event": "unsubscribe", "streams": ["btcusd.ob-inc"]}))
        assert await recv_json(ws) == {"success": {"message": "unsubscribed", "streams": ["btcusd.ob-snap"]}}
        await ws.send_message(json.dumps({"event": "subscribe", "streams": ["btcusd.ob-inc"]}))
        fresh = await recv_json(ws)
        assert "btcusd.ob-snap" in fresh


async def test_skip_sequence_and_engine_restart() -> None:
    async with open_peatio_server(rate=None) as server, client(server.url_for("btcusd.ob-inc")) as ws:
        book = from_snapshot((await recv_json(ws))["btcusd.ob-snap"])
        await recv_json(ws)
        await server.push()
        assert (await recv_json(ws))["btcusd.ob-inc"]["sequence"] == 2
        assert isinstance(server, SequenceFaults)
        server.skip_sequence(3)
        await server.push()
        assert (await recv_json(ws))["btcusd.ob-inc"]["sequence"] == 6  # 3, 4, 5 never came
        # A new subscriber's store has the skipped changes: its book is the true one.
        await ws.send_message(json.dumps({"event": "unsubscribe", "streams": ["btcusd.ob-inc"]}))
        await recv_json(ws)
        await ws.send_message(json.dumps({"event": "subscribe", "streams": ["btcusd.ob-inc"]}))
        book = from_snapshot((await recv_json(ws))["btcusd.ob-snap"])
        while "success" not in (obj := await recv_json(ws)):
            fold(book, obj["btcusd.ob-inc"])
        state = server.book("btcusd")
        assert as_state(book) == (state.bids, state.asks)
        server.restart_engine("btcusd")
        await server.push()
        assert (await recv_json(ws))["btcusd.ob-inc"]["sequence"] == 2  # back to the start
    fault = parse_fault("skip-sequence:3@1s")
    assert fault.describe() == "sequence jump: 3 book increment(s) not sent"
    with pytest.raises(ValueError, match="sequenced"):
        parse_fault("skip-sequence@1s", has_sequences=False)
    with pytest.raises(ValueError, match="at least 1"):
        parse_fault("skip-sequence:0@1s")


async def test_skip_sequence_fault_applies_to_the_server() -> None:
    async with open_peatio_server(rate=None) as server, client(server.url_for("btcusd.ob-inc")) as ws:
        await recv_json(ws)
        await recv_json(ws)
        async with trio.open_nursery() as nursery:
            await parse_fault("skip-sequence:2@0s").apply(server, nursery)
        await server.push()
        assert (await recv_json(ws))["btcusd.ob-inc"]["sequence"] == 4


async def test_array_frames_the_document_generation() -> None:
    streams = ("global.tickers", "usdbtc.update", "order", "trade")
    async with (
        open_peatio_server(rate=None, frames="array") as server,
        client(server.url_for(*streams)) as ws,
    ):
        assert await nothing_within(ws, 0.1)  # no acknowledgement in this generation
        await server.push(count=2)
        frames = [await recv_json(ws) for _ in range(2)]
        assert [f[0] for f in frames] == ["global.tickers", "usdbtc.update"]
        assert "btcusd" in frames[0][1]
        await ws.send_message(json.dumps({"jwt": "Bearer test-token"}))
        assert await recv_json(ws) == {"success": {"message": "Authenticated."}}  # replies stay objects
        await server.push(count=4)
        streams = [(await recv_json(ws))[0] for _ in range(4)]
        assert {"order", "trade"} <= set(streams)


async def test_tickers_and_klines() -> None:
    streams = ("global.tickers", "btcusd.kline-15m")
    async with open_peatio_server(rate=None) as server, client(server.url_for(*streams)) as ws:
        await recv_json(ws)
        await server.push(count=2)
        tickers = (await recv_json(ws))["global.tickers"]
        assert isinstance(tickers["btcusd"]["at"], str)  # the later form: every value a string
        kline = (await recv_json(ws))["btcusd.kline-15m"]
        assert len(kline) == 6
        assert all(isinstance(v, int | Decimal) for v in kline)  # JSON numbers
