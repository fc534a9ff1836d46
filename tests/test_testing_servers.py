"""The in-process test servers of trio_feeds.testing, checked with a plain trio-websocket client.

Not with the engine: these servers are what the engine's own fault tests stand on, so they are
verified independently of it. Real clock, small delays.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    WebSocketConnection,
    wrap_client_stream,
)

from tests._fixtures import validator
from trio_feeds import cryptology, gateway, onyx, peatio
from trio_feeds.testing import (
    FeedServer,
    GatewayServer,
    open_cryptology_server,
    open_gateway_server,
    open_onyx_server,
    sign,
)

pytest_plugins = ["trio_feeds.testing.pytest_plugin"]

WAIT = 2.0  # generous bound for anything that should happen "now"


def load(frame: str | bytes) -> Any:
    return json.loads(frame, parse_float=Decimal)


CODECS = {"cryptology": cryptology, "gateway": gateway, "onyx": onyx, "peatio": peatio}


def check_server_frame(protocol: str, frame: str | bytes) -> dict[str, Any]:
    """Parse a server frame, check it against the schema and the library's own decoder."""
    obj = load(frame)
    errors = list(validator(protocol, "ServerMessage").iter_errors(obj))
    assert not errors, f"{protocol} frame not schema-valid: {frame!r}: {errors[0].message}"
    CODECS[protocol].decode(frame)
    assert isinstance(obj, dict)
    return obj


async def recv(ws: WebSocketConnection, within: float = WAIT) -> str | bytes:
    with trio.fail_after(within):
        return await ws.get_message()


async def recv_json(ws: WebSocketConnection, protocol: str, within: float = WAIT) -> dict[str, Any]:
    return check_server_frame(protocol, await recv(ws, within))


async def nothing_within(ws: WebSocketConnection, seconds: float) -> bool:
    with trio.move_on_after(seconds):
        await ws.get_message()
        return False
    return True


async def closed_by(
    ws: WebSocketConnection, within: float = WAIT
) -> tuple[int, str | None, list[str | bytes]]:
    """Read until the connection closes; return its close code, reason and what came before."""
    seen: list[str | bytes] = []
    with trio.fail_after(within):
        while True:
            try:
                seen.append(await ws.get_message())
            except ConnectionClosed as exc:
                assert exc.reason is not None
                return exc.reason.code, exc.reason.reason, seen


async def closed_code(ws: WebSocketConnection, within: float = WAIT) -> tuple[int, list[str | bytes]]:
    """Read until the connection closes; return its close code and what came before."""
    code, _, seen = await closed_by(ws, within)
    return code, seen


@asynccontextmanager
async def client(url: str, **kwargs: Any) -> AsyncIterator[WebSocketConnection]:
    """A trio-websocket client connection, as ``open_websocket_url`` makes it, except that we
    own the TCP stream: trio-websocket 0.12 never closes its socket when the *server* closed
    the WebSocket first (``aclose`` returns early), which leaks it (a ResourceWarning)."""
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1"
    assert parts.port is not None
    resource = parts.path + (f"?{parts.query}" if parts.query else "")
    stream = await trio.open_tcp_stream(parts.hostname, parts.port)
    try:
        async with trio.open_nursery() as nursery:
            ws = await wrap_client_stream(
                nursery, stream, f"{parts.hostname}:{parts.port}", resource, **kwargs
            )
            try:
                yield ws
            finally:
                # Bounded exit: leaving a connection can wait on the server without limit.
                with trio.move_on_after(WAIT, shield=True):
                    await ws.aclose()
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise
    finally:
        await trio.aclose_forcefully(stream)


# -- gateway ------------------------------------------------------------------------------------


def gw_auth(key: str = "test-key", secret: str = "test-secret", ts: int | None = None) -> str:
    ts = ts if ts is not None else int(time.time() * 1000)
    return json.dumps(
        {"action": "authenticate", "api_key": key, "timestamp": ts, "signature": sign(key, secret, ts)}
    )


async def gw_login(
    ws: WebSocketConnection, channels: list[str], params: dict[str, Any] | None = None
) -> None:
    await ws.send_message(gw_auth())
    assert (await recv_json(ws, "gateway"))["event"] == "authenticated"
    request: dict[str, Any] = {"action": "subscribe", "channels": channels}
    if params is not None:
        request["params"] = params
    await ws.send_message(json.dumps(request))
    ack = await recv_json(ws, "gateway")
    assert ack["event"] == "subscribed"
    assert ack["channels"] == channels
    assert ack.get("params") == params


ALL_CHANNELS = ["market_data", "orderbook", "trades", "orders", "positions", "system_events"]


async def test_gateway_streams_valid_sequenced_data_and_records_the_client() -> None:
    async with open_gateway_server(rate=400) as server, client(server.url) as ws:
        assert server.url.startswith("ws://127.0.0.1:")
        assert server.url.endswith("/ws")
        params = {"exchange": "binance", "symbols": ["BTCUSDT"], "depth": 3}
        await gw_login(ws, ALL_CHANNELS, params)
        seqs, channels = [], set()
        for _ in range(36):
            obj = await recv_json(ws, "gateway")
            channels.add(obj["channel"])
            seqs.append(GatewayServer.sequence_of(obj))
        assert seqs == list(range(1, 37))
        assert channels == set(ALL_CHANNELS)
        record = server.connections[0]
        assert record.authenticated
        assert record.auth_attempts == [True]
        assert [m["action"] for m in record.received] == ["authenticate", "subscribe"]
        assert "trades:binance:BTCUSDT" in record.subscriptions
        assert "system_events:binance" in record.subscriptions
        # Unsubscribe leaves only what was not named.
        await ws.send_message(json.dumps({"action": "unsubscribe", "channels": ALL_CHANNELS[1:]}))
        await server.wait_for(lambda: record.subscriptions == ["market_data:binance:BTCUSDT"])


async def test_gateway_sequence_field_in_trades_is_data_id() -> None:
    async with open_gateway_server(rate=None) as server, client(server.url) as ws:
        await gw_login(ws, ["trades"], {"symbols": ["ETHUSDT"]})
        assert await server.push(count=3) == 3
        trades = [await recv_json(ws, "gateway") for _ in range(3)]
        assert [t["data"]["id"] for t in trades] == ["1", "2", "3"]
        assert all(t["symbol"] == "ETHUSDT" for t in trades)
        # A model pushed by hand goes out exactly as encoded.
        ping = gateway.PingEvent(event="ping", timestamp=gateway.from_epoch_millis(1))
        await server.push(ping)
        assert await recv(ws) == gateway.encode(ping)


async def test_gateway_rejects_bad_signatures_and_reject_auth() -> None:
    async with open_gateway_server(rate=None) as server, client(server.url) as ws:
        await ws.send_message(json.dumps({"action": "subscribe", "channels": ["trades"]}))
        assert (await recv_json(ws, "gateway"))["code"] == 401  # not authenticated yet
        await ws.send_message(gw_auth(secret="wrong"))
        failed = await recv_json(ws, "gateway")
        assert (failed["event"], failed["code"]) == ("error", 401)
        server.reject_auth(1)
        await ws.send_message(gw_auth())
        assert (await recv_json(ws, "gateway"))["code"] == 401
        await ws.send_message(gw_auth())
        assert (await recv_json(ws, "gateway"))["event"] == "authenticated"
        server.reject_auth_always()
        await ws.send_message(gw_auth())
        assert (await recv_json(ws, "gateway"))["code"] == 401
        assert server.connections[0].auth_attempts == [False, False, True, False]
        await ws.send_message("{not json")
        assert (await recv_json(ws, "gateway"))["code"] == 400


async def test_gateway_ping_pong_and_pong_timeout() -> None:
    async with (
        open_gateway_server(rate=None, idle_ping=0.15, pong_timeout=0.3) as server,
        client(server.url) as ws,
    ):
        await gw_login(ws, ["trades"])
        ping = await recv_json(ws, "gateway", within=1)
        assert ping["event"] == "ping"
        await ws.send_message(json.dumps({"action": "pong", "timestamp": int(time.time() * 1000)}))
        assert (await recv_json(ws, "gateway", within=1))["event"] == "ping"  # answered: pinged again later
        code, before = await closed_code(ws)  # not answered this time
        assert code == 1008
        assert load(before[-1])["event"] == "close"
        assert load(before[-1])["code"] == 1008
        assert server.connections[0].close_reason == "Pong timeout"


async def test_gateway_stop_heartbeats_and_resume() -> None:
    async with (
        open_gateway_server(rate=None, idle_ping=0.1, pong_timeout=5) as server,
        client(server.url) as ws,
    ):
        server.stop_heartbeats()
        assert await nothing_within(ws, 0.4)
        server.resume()
        assert (await recv_json(ws, "gateway", within=1))["event"] == "ping"


async def test_gateway_explicit_ping_while_streaming() -> None:
    async with (
        open_gateway_server(rate=100, idle_ping=None, pong_timeout=0.2) as server,
        client(server.url) as ws,
    ):
        await gw_login(ws, ["trades"])
        await server.ping()
        code, before = await closed_code(ws)
        assert code == 1008
        assert any(load(f).get("event") == "ping" for f in before)


async def test_gateway_rate_limit_and_close_codes() -> None:
    async with open_gateway_server(rate=None) as server:
        async with client(server.url) as ws:
            await server.rate_limit()
            code, before = await closed_code(ws)
            assert code == 1008
            assert [load(f)["event"] for f in before] == ["error", "close"]
            assert load(before[0])["code"] == 429
        async with client(server.url) as ws:
            await server.wait_for_connection(2)
            await server.close(4000, "bye")
            code, reason, before = await closed_by(ws)
            assert (code, reason) == (4000, "bye")
            assert [check_server_frame("gateway", f)["event"] for f in before] == ["close"]
        second = server.connections[1]
        assert (second.close_code, second.closed_by) == (4000, "server")


async def test_abort_drops_tcp_without_close_frame() -> None:
    async with open_gateway_server(rate=None) as server, client(server.url) as ws:
        await server.wait_for_connection()
        await server.abort()
        code, _ = await closed_code(ws)
        assert code == 1006  # abnormal closure: no close frame was received
        record = server.connections[0]
        assert (record.closed_by, record.close_code, record.open) == ("abort", None, False)


async def test_blackhole_stops_pongs_and_data_until_resume() -> None:
    async with open_gateway_server(rate=100) as server, client(server.url) as ws:
        await gw_login(ws, ["trades"])
        seqs = [GatewayServer.sequence_of(await recv(ws)) for _ in range(3)]
        server.blackhole()
        await trio.sleep(0.05)
        # Drain what was already in flight, then nothing may arrive, not even a pong.
        while not await nothing_within(ws, 0.1):
            pass
        with trio.move_on_after(0.3) as no_pong:
            await ws.ping(b"hello")
        assert no_pong.cancelled_caught
        assert await nothing_within(ws, 0.2)
        server.resume()
        after: list[str | bytes] = []

        async def read() -> None:
            # Keep reading: trio-websocket's reader (and so its pong handling) stalls while its
            # one-message queue is full, and the pong comes after the data held back.
            while True:
                after.append(await ws.get_message())

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read)
            with trio.fail_after(WAIT):
                await ws.ping(b"again")
            nursery.cancel_scope.cancel()
        after += [await recv(ws) for _ in range(5)]
        seqs += [GatewayServer.sequence_of(f) for f in after]
        numbers = [s for s in seqs if s is not None]
        assert numbers == list(range(1, len(numbers) + 1))  # nothing lost across the blackhole


async def test_refuse_next_rejects_handshakes() -> None:
    async with open_gateway_server(rate=None) as server:
        server.refuse_next(2)
        for _ in range(2):
            with pytest.raises(ConnectionRejected) as info:
                async with client(server.url):
                    pass
            assert info.value.status_code == 503
        server.refuse_next(1, status=None)
        # Dropped before any answer: the handshake request gets EOF, not an HTTP response.
        # (trio-websocket itself only notices by its connect timeout.)
        async with await trio.open_tcp_stream("127.0.0.1", server.port) as raw:
            await raw.send_all(
                b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            with trio.fail_after(WAIT):
                assert await raw.receive_some(1024) == b""
        async with client(server.url) as ws:
            await ws.send_message(gw_auth())
            assert (await recv_json(ws, "gateway"))["event"] == "authenticated"
        assert [r.status for r in server.refused] == [503, 503, 0]
        assert len(server.connections) == 1


async def test_send_raw_delivers_frames_as_is() -> None:
    async with open_gateway_server(rate=None) as server, client(server.url) as ws:
        await server.wait_for_connection()
        big = "x" * 300_000
        frames: list[str | bytes] = [
            '{"event": "bogus"',
            '{"event":"unknown_type","timestamp":1}',
            b"\x00\xff",
            big,
        ]

        async def send_all() -> None:
            # In a task of its own: a big frame only fits through TCP while the client reads.
            for frame in frames:
                assert await server.send_raw(frame) == 1

        async with trio.open_nursery() as nursery:
            nursery.start_soon(send_all)
            assert [await recv(ws) for _ in frames] == frames


async def test_delay_replies_delays_answers_but_not_websocket_pongs() -> None:
    async with open_gateway_server(rate=None) as server, client(server.url) as ws:
        server.delay_replies(0.4)
        start = trio.current_time()
        await ws.send_message(gw_auth())
        with trio.fail_after(0.2):
            await ws.ping(b"quick")
        assert (await recv_json(ws, "gateway"))["event"] == "authenticated"
        assert trio.current_time() - start >= 0.4
        server.resume()


async def test_reconnect_is_recorded_per_connection() -> None:
    async with open_gateway_server(rate=200) as server:
        for _ in range(2):
            async with client(server.url) as ws:
                await gw_login(ws, ["trades"], {"symbols": ["BTCUSDT"]})
                first = await recv_json(ws, "gateway")
                assert GatewayServer.sequence_of(first) == 1  # sequences are per connection
        one, two = server.connections
        assert one.received[:2] == two.received[:2] or [m["action"] for m in two.received] == [
            "authenticate",
            "subscribe",
        ]
        assert one.subscriptions == two.subscriptions == ["trades:binance:BTCUSDT"]
        assert one.closed_by == two.closed_by == "client"
        assert one.close_code == 1000


# -- cryptology ---------------------------------------------------------------------------------


async def recv_xdr_json(ws: WebSocketConnection) -> dict[str, Any]:
    """One broadcast frame of the XDR form, its JSON checked as ``recv_json`` does."""
    frame = await recv(ws)
    assert isinstance(frame, bytes), frame
    message = cryptology.xdr.unpack(frame)
    assert isinstance(message, cryptology.xdr.Broadcast)
    return check_server_frame("cryptology", message.payload)


async def test_cryptology_xdr_form_by_default_version_frame_first() -> None:
    async with open_cryptology_server(rate=300, trade_pairs=["BTC_USD", "ETH_USD"]) as server:
        async with client(server.url) as ws:
            first = await recv(ws)
            assert first == b"\x00\x00\x00\x01"  # an XDR unsigned int: version 1
            objs = [await recv_xdr_json(ws) for _ in range(12)]
        assert {o["@type"] for o in objs} == {"OrderBookAgg", "AnonymousTrade"}
        assert {o["trade_pair"] for o in objs} == {"BTC_USD", "ETH_USD"}
        assert [server.sequence_of(o) for o in objs] == list(range(1, 13))
        record = server.connections[0]
        assert record.sent[0] == first
        assert [server.sequence_of(f) for f in record.sent[1:13]] == list(range(1, 13))


async def test_cryptology_xdr_push_wraps_messages_and_send_raw_does_not() -> None:
    async with open_cryptology_server(rate=None, version=7) as server, client(server.url) as ws:
        assert await recv(ws) == b"\x00\x00\x00\x07"
        await server.push({"@type": "TradesDisabledOnPairs", "trade_pairs": ["BTC_USD"]})
        assert await recv_xdr_json(ws) == {"@type": "TradesDisabledOnPairs", "trade_pairs": ["BTC_USD"]}
        await server.push(count=1)
        assert server.sequence_of(await recv(ws)) == 1
        await server.send_raw('{"@type": "x"}')
        assert await recv(ws) == '{"@type": "x"}'
        assert server.wrap("{}") == b"\x00\x00\x00\x04\x00\x00\x00\x02{}\x00\x00"


async def test_cryptology_xdr_legacy_heartbeat_frames_stop_and_resume() -> None:
    async with open_cryptology_server(rate=None, heartbeat_interval=0.02) as server, client(server.url) as ws:
        assert await recv(ws) == b"\x00\x00\x00\x01"
        assert await recv(ws) == b"\x00"
        server.stop_heartbeats()
        await trio.sleep(0.05)  # one may be in flight
        while not await nothing_within(ws, 0.1):
            pass
        server.resume()
        assert await recv(ws) == b"\x00"


@pytest.mark.parametrize(
    ("legacy", "tag", "names"),
    [
        (False, "@type", {"OrderBookAgg", "AnonymousTrade"}),
        (True, "_cls", {"OrderBookAggMessage", "AnonymousTradeMessage"}),
    ],
)
async def test_cryptology_json_form_streams_both_tags_with_sequence(
    legacy: bool, tag: str, names: set[str]
) -> None:
    async with open_cryptology_server(
        rate=300, form="json", legacy=legacy, trade_pairs=["BTC_USD", "ETH_USD"]
    ) as server:
        async with client(server.url) as ws:
            objs = [await recv_json(ws, "cryptology") for _ in range(12)]
        assert {o[tag] for o in objs} == names
        assert {o["trade_pair"] for o in objs} == {"BTC_USD", "ETH_USD"}
        assert [server.sequence_of(o) for o in objs] == list(range(1, 13))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"legacy": True}, "needs form='json'"),
        ({"form": "json", "heartbeat_interval": 1.0}, "needs form='xdr'"),
        ({"form": "text"}, "form must be"),
    ],
)
async def test_cryptology_server_refuses_options_of_the_other_form(
    options: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        async with open_cryptology_server(**options):
            pass  # pragma: no cover


async def test_cryptology_rate_limit_closes_4009_and_ws_heartbeat() -> None:
    async with open_cryptology_server(rate=None, ws_ping_interval=0.05) as server, client(server.url) as ws:
        assert await recv(ws) == b"\x00\x00\x00\x01"
        record = await server.wait_for_connection()
        await server.wait_for(lambda: record.pongs_received >= 2)  # the client answered our pings
        server.stop_heartbeats()
        await trio.sleep(0.1)
        stopped_at = record.pongs_received
        await trio.sleep(0.2)
        assert record.pongs_received == stopped_at
        server.resume()
        await server.wait_for(lambda: record.pongs_received > stopped_at)
        await server.rate_limit()
        code, _ = await closed_code(ws)
        assert code == 4009


# -- onyx ---------------------------------------------------------------------------------------


def onyx_req(rid: str, method: str, **fields: Any) -> str:
    return json.dumps({"id": rid, "method": method, **fields})


async def onyx_call(ws: WebSocketConnection, rid: str, method: str, **fields: Any) -> dict[str, Any]:
    await ws.send_message(onyx_req(rid, method, **fields))
    response = await recv_json(ws, "onyx")
    assert (response["id"], response["method"]) == (rid, method)
    return response


async def test_onyx_auth_subscribe_channels_and_sequence() -> None:
    async with open_onyx_server(rate=None) as server, client(server.url) as ws:
        assert (await onyx_call(ws, "1", "subscribe", channel="server_info"))["error"] is True  # no auth yet
        assert (await onyx_call(ws, "2", "auth", token="test-token"))["error"] is False
        assert (await onyx_call(ws, "3", "subscribe", channel={"tickers": {"product_groups": ["crude"]}}))[
            "error"
        ] is False
        assert (await onyx_call(ws, "4", "subscribe", channel={"tickers": {"products": ["ebob"]}}))[
            "error"
        ] is False
        assert (await onyx_call(ws, "5", "subscribe", channel="dashboards"))["error"] is False
        snapshot = await recv_json(ws, "onyx")
        assert (snapshot["channel"], snapshot["message_type"]) == ("dashboards", 0)
        assert [d["id"] for d in snapshot["message"]] == ["dash-1", "dash-2"]
        assert (await onyx_call(ws, "6", "subscribe", channel="server_info"))["message"] == {
            "Message": "subscribed to server_info"
        }
        record = server.connections[0]
        assert record.subscriptions == [
            "tickers:brt",
            "tickers:wti",
            "tickers:dub",
            "tickers:ebob",
            "dashboards",
            "server_info",
        ]
        await server.push(count=12)
        events = [await recv_json(ws, "onyx") for _ in range(12)]
        stamped = [server.sequence_of(e) for e in events if e["channel"] != "server_info"]
        assert stamped == list(range(1, 11))
        products = {e["message"][0]["product_symbol"] for e in events if e["channel"] == "tickers"}
        assert products == {"brt", "wti", "dub", "ebob"}
        dashboards = [e["message_type"] for e in events if e["channel"] == "dashboards"]
        assert dashboards == [2, 1]
        info = next(e for e in events if e["channel"] == "server_info")
        assert info["message"]["uid"] == "conn-1"
        response = await onyx_call(ws, "7", "unsubscribe", channel="server_info")
        assert response["error"] is False
        response = await onyx_call(ws, "8", "unsubscribe", channel="server_info")
        assert (response["error"], response["message"]) == (
            True,
            {"Message": "not subscribed to server_info"},
        )


# What the live server answers, as the public clients' tests show it (onyx-api-client
# tests/test_websocket.py; onyx-otc tests/v1/test_websocket_v1.py): `message` is an object, and
# these texts. The error flag is asserted where those tests assert it.
ONYX_LIVE_ANSWERS: list[tuple[str, dict[str, Any], str, bool | None]] = [
    ("subscribe", {"channel": "server_info"}, "subscribed to server_info", False),
    ("unsubscribe", {"channel": "server_info"}, "unsubscribed from server_info", None),
    ("unsubscribe", {"channel": "server_info"}, "not subscribed to server_info", True),
    ("subscribe", {"channel": "dashboards"}, "subscribed to dashboards", None),
    ("subscribe", {"channel": "dashboards"}, "already subscribed to dashboards", None),
    ("unsubscribe", {"channel": "dashboards"}, "unsubscribed from dashboards", None),
    ("subscribe", {"channel": {"tickers": {"products": []}}}, "no products specified", True),
    (
        "subscribe",
        {"channel": {"tickers": {"products": ["gjhgjg"]}}},
        "no permissions for product gjhgjg or product does not exist",
        True,
    ),
    (
        "subscribe",
        {"channel": {"tickers": {"products": ["dub"]}}},
        "subscribed to tickers for product dub",
        None,
    ),
]


async def test_onyx_speaks_the_live_servers_answers_by_default() -> None:
    async with open_onyx_server(rate=None) as server, client(server.url) as ws:
        # Before auth, every request is refused with a response (the connection stays open).
        response = await onyx_call(ws, "msg:1", "subscribe", channel="server_info")
        assert response["message"] == {"Message": "authentication required for method subscribe"}
        assert response["error"] is True
        assert (await onyx_call(ws, "msg:2", "auth", token="test-token"))["error"] is False
        for n, (method, fields, text, error) in enumerate(ONYX_LIVE_ANSWERS, start=3):
            response = await onyx_call(ws, f"msg:{n}", method, **fields)
            if fields["channel"] == "dashboards" and text.startswith("subscribed"):
                assert (await recv_json(ws, "onyx"))["message_type"] == 0  # the snapshot
            assert response["message"] == {"Message": text}, (method, fields)
            if error is not None:
                assert response["error"] is error
        # A request of a known method that does not decode: an error response, not a close.
        response = await onyx_call(ws, "msg:99", "subscribe", channel=5)
        assert (response["error"], response["message"]) == (True, {"Message": "bad request"})
        response = await onyx_call(ws, "msg:100", "auth", message="a response?", error=False)
        assert (response["error"], response["message"]) == (True, {"Message": "bad request"})
        assert server.connections[0].subscriptions == ["tickers:dub"]


async def test_onyx_document_form_is_an_option() -> None:
    async with open_onyx_server(rate=None, detail_messages=False) as server, client(server.url) as ws:
        response = await onyx_call(ws, "1", "subscribe", channel="server_info")
        assert response["message"] == "authentication required for method subscribe"
        assert (await onyx_call(ws, "2", "auth", token="test-token"))["message"] == "authenticated"
        response = await onyx_call(
            ws, "3", "subscribe", channel={"tickers": {"product_groups": ["gasoline"]}}
        )
        assert response == {
            "id": "3",
            "method": "subscribe",
            "message": "subscribed to tickers for products ebob, rbob",
            "error": False,
        }
        response = await onyx_call(ws, "4", "subscribe", channel={"tickers": {"product_groups": ["metals"]}})
        assert (response["error"], response["message"]) == (True, "unknown product group: metals")
        response = await onyx_call(ws, "5", "unsubscribe", channel={"tickers": {"products": []}})
        assert response["message"] == "unsubscribed from tickers for products ebob, rbob"
        response = await onyx_call(ws, "6", "unsubscribe", channel={"tickers": {"products": []}})
        assert (response["error"], response["message"]) == (True, "not subscribed to tickers")
        assert server.connections[0].subscriptions == []


async def test_onyx_unknown_method_closes_without_reply() -> None:
    async with open_onyx_server(rate=None) as server, client(server.url) as ws:
        await ws.send_message(onyx_req("1", "frobnicate"))
        code, before = await closed_code(ws)
        assert before == []
        assert code == 1008
        assert server.connections[0].closed_by == "server"


async def test_onyx_auth_timeout_and_reject_auth() -> None:
    async with open_onyx_server(rate=None, auth_timeout=0.3) as server:
        server.reject_auth_always()
        async with client(server.url) as ws:
            response = await onyx_call(ws, "a", "auth", token="test-token")
            assert response["error"] is True
            assert response["message"] == {"Message": "invalid token"}
            code, _ = await closed_code(ws, within=1)
            assert code == 1008
        assert server.connections[0].auth_attempts == [False]
        assert server.connections[0].close_reason == "authentication timeout"


# -- peatio: tests/test_peatio_server.py ---------------------------------------------------------

# -- structure and the pytest plugin ------------------------------------------------------------


async def test_server_errors_propagate_and_nothing_is_left_behind() -> None:
    class Boom(Exception):
        pass

    port = 0

    async def crash() -> None:
        nonlocal port
        async with open_gateway_server(rate=1000) as server, client(server.url) as ws:
            port = server.port
            await gw_login(ws, ["trades"])
            raise Boom

    with pytest.raises(Boom):
        await crash()
    # Leaving the context closed the listener: connecting now fails.
    with pytest.raises(OSError, match="connect"):
        await trio.open_tcp_stream("127.0.0.1", port)


# The `trio_feeds_server` marker works too once the plugin is registered before collection
# (entry point or conftest); a test module's `pytest_plugins` comes too late for marker checks.
@pytest.mark.parametrize(
    "gateway_server", [{"rate": None, "idle_ping": 0.1, "pong_timeout": 5}], indirect=True
)
async def test_pytest_plugin_fixture(gateway_server: GatewayServer) -> None:
    assert isinstance(gateway_server, FeedServer)
    assert gateway_server.rate is None
    assert gateway_server.idle_ping == 0.1
    async with client(gateway_server.url) as ws:
        assert (await recv_json(ws, "gateway", within=1))["event"] == "ping"


def test_validator_sanity() -> None:
    # The schema helper used above really rejects a bad frame (guards against vacuous checks).
    with pytest.raises(jsonschema.ValidationError):
        validator("gateway", "ServerMessage").validate({"channel": "trades", "data": {}})


def test_book_history_is_bounded_and_can_be_turned_off() -> None:
    from decimal import Decimal

    from trio_feeds.testing._books import BookRecords, BookState

    records = BookRecords()
    records.book_history = 3
    states = [BookState.of([(Decimal(i), Decimal(1))], []) for i in range(5)]
    for i, state in enumerate(states):
        records._sent_book(f"frame {i}", "m", state)
    assert records.book_as_of("frame 1") is None  # forgotten
    assert records.book_as_of("frame 4") == ("m", states[4])
    records.book_history = 0  # a long run: nothing remembered, the true book still kept
    records._sent_book("frame 5", "m", states[0])
    assert records.book_as_of("frame 5") is None
    assert records.book_as_of("frame 4") is None
    assert records.book("m") == states[0]
