"""Tests of the sans-IO protocol objects: frames in, actions out, no I/O and no clock."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from tests._fixtures import FIXTURES
from trio_feeds import UnknownMessage
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
from trio_feeds._sansio._shared import Credentials
from trio_feeds._sansio._shared import mask as mask_fn
from trio_feeds._sansio.cryptology import CryptologyProtocol
from trio_feeds._sansio.gateway import GatewayProtocol
from trio_feeds._sansio.onyx import Dashboards, OnyxProtocol
from trio_feeds.errors import AuthenticationError, DecodeError, SubscriptionError
from trio_feeds.models import cryptology as cm
from trio_feeds.models import gateway as gm
from trio_feeds.models import onyx as om

API_KEY = "AK-0123456789abcdef"
API_SECRET = "S3CRET-deadbeef-cafebabe"
ONYX_TOKEN = "onyx-tok-0f1e2d3c4b5a"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
WALL_MS = 1_647_356_789_123


def texts(actions: Sequence[Action]) -> list[str]:
    return [a.text for a in actions if isinstance(a, Send)]


def frames(actions: Sequence[Action]) -> list[Any]:
    return [json.loads(t) for t in texts(actions)]


def only(actions: Sequence[Action], kind: type) -> Any:
    found = [a for a in actions if isinstance(a, kind)]
    assert len(found) == 1, actions
    return found[0]


def fixture(protocol: str, name: str) -> str:
    return (FIXTURES / protocol / name).read_text()


def dumps(obj: Any) -> str:
    return json.dumps(obj)


# == gateway ==================================================================================


class WallClock:
    def __init__(self, ms: int = WALL_MS) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def gateway(**kwargs: Any) -> GatewayProtocol:
    kwargs.setdefault("wall_clock_ms", WallClock())
    return GatewayProtocol("ws://gw.example:8080/ws", Credentials(API_KEY, API_SECRET), **kwargs)


def gw_authed(p: GatewayProtocol | None = None, now: float = 0.0) -> GatewayProtocol:
    p = p or gateway()
    p.connection_made(now)
    p.receive_frame(fixture("gateway", "02-authenticated.json"), now)
    assert p.ready
    return p


def gw_ack(event: str, channels: list[str], params: dict[str, Any] | None = None) -> str:
    obj: dict[str, Any] = {"event": event, "channels": channels, "timestamp": WALL_MS}
    if params is not None:
        obj["params"] = params
    return dumps(obj)


def test_gateway_connect_target_is_plain_url() -> None:
    assert gateway().connect_target() == ConnectTarget("ws://gw.example:8080/ws")


def test_gateway_auth_frame_and_default_hmac_signature() -> None:
    p = gateway()
    (frame,) = frames(p.connection_made(12.5))
    expected = hmac.new(API_SECRET.encode(), f"{WALL_MS}{API_KEY}".encode(), hashlib.sha256).hexdigest()
    assert frame == {
        "action": "authenticate",
        "api_key": API_KEY,
        "timestamp": WALL_MS,
        "signature": expected,
    }
    assert not p.ready


def test_gateway_auth_timestamp_is_read_per_connection() -> None:
    clock = WallClock()
    p = gateway(wall_clock_ms=clock)
    first = frames(p.connection_made(0))[0]
    p.connection_lost()
    clock.ms += 60_000
    second = frames(p.connection_made(1))[0]
    assert second["timestamp"] == first["timestamp"] + 60_000
    assert second["signature"] != first["signature"]


def test_gateway_custom_signer() -> None:
    calls: list[tuple[str, str, int]] = []

    def signer(key: str, secret: str, ts: int) -> str:
        calls.append((key, secret, ts))
        return "custom-sig"

    p = gateway(signer=signer)
    (frame,) = frames(p.connection_made(0))
    assert frame["signature"] == "custom-sig"
    assert calls == [(API_KEY, API_SECRET, WALL_MS)]


def test_gateway_ping_answered_before_auth() -> None:
    clock = WallClock()
    p = gateway(wall_clock_ms=clock)
    p.connection_made(0)
    clock.ms = WALL_MS + 3
    actions = p.receive_frame(fixture("gateway", "21-ping.json"), 1)
    assert frames(actions) == [{"action": "pong", "timestamp": WALL_MS + 3}]
    assert not p.ready


def test_gateway_authenticated_then_carries_queued_subscription() -> None:
    p = gateway()
    p.connection_made(0)
    rid, actions = p.subscribe(0, ["market_data"], exchange="binance", symbols=["BTCUSDT"], type="ticker")
    assert rid is not None
    assert actions == []  # not authenticated yet: nothing on the wire
    auth = only(p.receive_frame(fixture("gateway", "02-authenticated.json"), 1), AuthAccepted)
    assert [json.loads(s.text) for s in auth.then] == [
        {
            "action": "subscribe",
            "channels": ["market_data"],
            "params": {"exchange": "binance", "symbols": ["BTCUSDT"], "type": "ticker"},
        }
    ]
    ack = gw_ack(
        "subscribed", ["market_data"], {"exchange": "binance", "symbols": ["BTCUSDT"], "type": "ticker"}
    )
    assert p.receive_frame(ack, 2) == [RequestDone(rid)]


def test_gateway_subscribe_when_ready_sends_frame_without_empty_params() -> None:
    p = gw_authed()
    rid, actions = p.subscribe(1, "system_events")
    assert frames(actions) == [{"action": "subscribe", "channels": ["system_events"]}]
    assert p.receive_frame(gw_ack("subscribed", ["system_events"]), 2) == [RequestDone(rid)]


def test_gateway_acks_matched_by_content_then_fifo() -> None:
    p = gw_authed()
    a, _ = p.subscribe(1, ["trades"], exchange="binance", symbols=["BTCUSDT"])
    b, _ = p.subscribe(1, ["orderbook"], exchange="binance", symbols=["BTCUSDT"], depth=10)
    c, _ = p.subscribe(1, ["orders"], exchange="binance")
    # The orderbook ack arrives first: it completes b, not the older a.
    ack_b = gw_ack("subscribed", ["orderbook"], {"exchange": "binance", "symbols": ["BTCUSDT"], "depth": 10})
    assert p.receive_frame(ack_b, 2) == [RequestDone(b)]
    # An echo matching nothing (server normalised it) completes the oldest: a.
    assert p.receive_frame(gw_ack("subscribed", ["trades"], {"exchange": "BINANCE"}), 2) == [RequestDone(a)]
    assert p.receive_frame(gw_ack("subscribed", ["orders"], {"exchange": "binance"}), 2) == [RequestDone(c)]
    # Nothing left in flight: a stray ack completes nothing.
    assert p.receive_frame(gw_ack("subscribed", ["orders"]), 2) == []


def test_gateway_error_completes_oldest_request_and_forgets_it() -> None:
    p = gw_authed()
    bad, _ = p.subscribe(1, ["trades"], symbols=["BTC/USDT"])
    good, _ = p.subscribe(1, ["orders"], exchange="binance")
    done = p.receive_frame(fixture("gateway", "20-error.json"), 2)
    assert done == [RequestDone(bad, "400: Invalid symbol format")]
    assert p.receive_frame(gw_ack("subscribed", ["orders"], {"exchange": "binance"}), 2) == [
        RequestDone(good)
    ]
    # The refused subscription is not offered again after a reconnect.
    p.connection_lost()
    p.connection_made(3)
    auth = only(p.receive_frame(fixture("gateway", "02-authenticated.json"), 3), AuthAccepted)
    assert [json.loads(s.text)["channels"] for s in auth.then] == [["orders"]]


def test_gateway_error_without_request_is_delivered() -> None:
    p = gw_authed()
    (action,) = p.receive_frame(fixture("gateway", "20-error.json"), 1)
    assert isinstance(action, Deliver)
    assert isinstance(action.item, gm.ErrorEvent)


@pytest.mark.parametrize("code", [401, 403, 400])
def test_gateway_error_before_auth_is_auth_failure(code: int) -> None:
    p = gateway()
    p.connection_made(0)
    err = dumps({"event": "error", "message": "Authentication failed", "code": code, "timestamp": 1})
    assert p.receive_frame(err, 1) == [AuthFailed(f"{code}: Authentication failed")]


def test_gateway_authenticated_success_false_is_auth_failure() -> None:
    p = gateway()
    p.connection_made(0)
    actions = p.receive_frame(dumps({"event": "authenticated", "success": False, "timestamp": 1}), 1)
    assert isinstance(only(actions, AuthFailed), AuthFailed)
    assert not p.ready


def test_gateway_429_closes_to_retry_slowly_and_keeps_request() -> None:
    p = gw_authed()
    rid, _ = p.subscribe(1, ["trades"], exchange="binance")
    err = dumps({"event": "error", "message": "Too many requests", "code": 429, "timestamp": 1})
    (close,) = p.receive_frame(err, 2)
    assert isinstance(close, ProtocolClose)
    assert close.verdict is CloseVerdict.RETRY_SLOW
    # The request survives the reconnect and completes on the next connection.
    p.connection_lost()
    p.connection_made(30)
    auth = only(p.receive_frame(fixture("gateway", "02-authenticated.json"), 30), AuthAccepted)
    assert len(auth.then) == 1
    assert p.receive_frame(gw_ack("subscribed", ["trades"], {"exchange": "binance"}), 31) == [
        RequestDone(rid)
    ]


def test_gateway_500_before_auth_retries() -> None:
    p = gateway()
    p.connection_made(0)
    err = dumps({"event": "error", "message": "Internal server error", "code": 500, "timestamp": 1})
    (close,) = p.receive_frame(err, 1)
    assert isinstance(close, ProtocolClose)
    assert close.verdict is CloseVerdict.RETRY


@pytest.mark.parametrize(
    ("code", "reason", "verdict"),
    [
        (1000, "Session timeout", CloseVerdict.RETRY),
        (1008, "Session timeout", CloseVerdict.RETRY),  # a timed-out session heals on reconnect
        (1008, "Policy violation", CloseVerdict.FATAL),
        (1011, "Internal error", CloseVerdict.RETRY),
    ],
)
def test_gateway_close_event(code: int, reason: str, verdict: CloseVerdict) -> None:
    p = gw_authed()
    msg = dumps({"event": "close", "message": reason, "code": code, "timestamp": 1})
    assert p.receive_frame(msg, 1) == [ProtocolClose(code, reason, verdict)]


@pytest.mark.parametrize(
    ("code", "reason", "verdict"),
    [
        (1000, "", CloseVerdict.RETRY),
        (1001, "", CloseVerdict.RETRY),
        (1006, "", CloseVerdict.RETRY),
        (1011, "", CloseVerdict.RETRY),
        (None, "", CloseVerdict.RETRY),
        (1008, "", CloseVerdict.FATAL),
        (4009, "", CloseVerdict.RETRY_SLOW),
        (4029, "", CloseVerdict.RETRY_SLOW),
        (1013, "", CloseVerdict.RETRY_SLOW),
        (1000, "rate limit exceeded", CloseVerdict.RETRY_SLOW),
        (1008, "Too many requests", CloseVerdict.RETRY_SLOW),
        (1008, "Pong timeout", CloseVerdict.RETRY),
        (1008, "authentication timeout", CloseVerdict.RETRY),
        (1008, "Policy violation", CloseVerdict.FATAL),
        (4999, "", CloseVerdict.RETRY),
    ],
)
def test_gateway_classify_close(code: int | None, reason: str, verdict: CloseVerdict) -> None:
    assert gateway().classify_close(code, reason) is verdict


def test_gateway_heartbeat_policy() -> None:
    assert gateway().heartbeat == HeartbeatPolicy(server_heartbeat=45.0)
    assert gateway(server_heartbeat=None).heartbeat.server_heartbeat is None


def test_gateway_resubscribes_everything_after_reconnect() -> None:
    p = gw_authed()
    a, _ = p.subscribe(1, ["trades"], exchange="binance", symbols=["BTCUSDT"])
    p.receive_frame(gw_ack("subscribed", ["trades"], {"exchange": "binance", "symbols": ["BTCUSDT"]}), 1)
    b, _ = p.subscribe(2, ["orders"], exchange="binance")  # in flight when the connection drops
    p.connection_lost()
    assert not p.ready
    (auth_frame,) = frames(p.connection_made(5))
    assert auth_frame["action"] == "authenticate"
    auth = only(p.receive_frame(fixture("gateway", "02-authenticated.json"), 5), AuthAccepted)
    assert [json.loads(s.text) for s in auth.then] == [
        {
            "action": "subscribe",
            "channels": ["trades"],
            "params": {"exchange": "binance", "symbols": ["BTCUSDT"]},
        },
        {"action": "subscribe", "channels": ["orders"], "params": {"exchange": "binance"}},
    ]
    # Every frame is marked with the request id its acknowledgement completes: a fresh id for
    # the resubscription of trades, the user's own id for the orders request still in flight.
    resub_id, b_again = (s.request_id for s in auth.then)
    assert b_again == b
    assert resub_id not in (None, a, b)
    ack_trades = gw_ack("subscribed", ["trades"], {"exchange": "binance", "symbols": ["BTCUSDT"]})
    assert p.receive_frame(ack_trades, 6) == [RequestDone(str(resub_id))]
    assert p.receive_frame(gw_ack("subscribed", ["orders"], {"exchange": "binance"}), 6) == [RequestDone(b)]


def test_gateway_refused_or_unanswered_resubscription_completes() -> None:
    p = gw_authed()
    p.subscribe(1, ["trades"])
    p.subscribe(1, ["orders"])
    p.receive_frame(gw_ack("subscribed", ["trades"]), 1)
    p.receive_frame(gw_ack("subscribed", ["orders"]), 1)
    p.connection_lost()
    p.connection_made(5)
    auth = only(p.receive_frame(fixture("gateway", "02-authenticated.json"), 5), AuthAccepted)
    trades_id, orders_id = (str(s.request_id) for s in auth.then)
    refused = p.receive_frame(fixture("gateway", "20-error.json"), 6)
    assert refused == [RequestDone(trades_id, "400: Invalid symbol format")]
    # The engine times resubscriptions too; once it gave up, the late ack completes nothing.
    p.forget_request(orders_id)
    assert p.receive_frame(gw_ack("subscribed", ["orders"]), 16) == []


def test_gateway_queued_subscribe_timed_out_before_auth_is_still_sent() -> None:
    p = gateway()
    p.connection_made(0)
    rid, _ = p.subscribe(0, ["trades"])
    assert rid is not None
    p.forget_request(rid)  # the engine's deadline passed before auth
    auth = only(p.receive_frame(fixture("gateway", "02-authenticated.json"), 11), AuthAccepted)
    (frame,) = auth.then
    assert frame.request_id not in (None, rid)  # the wish stays; a fresh id is awaited
    assert p.receive_frame(gw_ack("subscribed", ["trades"]), 12) == [RequestDone(str(frame.request_id))]


def test_gateway_partial_unsubscribe_updates_remembered_subscriptions() -> None:
    p = gw_authed()
    p.subscribe(1, ["market_data", "orders", "positions"], exchange="binance", symbols=["BTCUSDT", "ETHUSDT"])
    rid, actions = p.unsubscribe(2, ["positions"], exchange="binance", symbols=["BTCUSDT"])
    assert frames(actions) == [
        {
            "action": "unsubscribe",
            "channels": ["positions"],
            "params": {"exchange": "binance", "symbols": ["BTCUSDT"]},
        }
    ]
    assert p.receive_frame(fixture("gateway", "07-unsubscribed.json"), 3)[-1] == RequestDone(rid)
    p.connection_lost()
    p.connection_made(4)
    auth = only(p.receive_frame(fixture("gateway", "02-authenticated.json"), 4), AuthAccepted)
    assert [json.loads(s.text)["params"] | {"ch": json.loads(s.text)["channels"]} for s in auth.then] == [
        {"exchange": "binance", "symbols": ["BTCUSDT", "ETHUSDT"], "ch": ["market_data", "orders"]},
        {"exchange": "binance", "symbols": ["ETHUSDT"], "ch": ["positions"]},
    ]


def test_gateway_unsubscribe_whole_channel_and_other_exchange_untouched() -> None:
    p = gw_authed()
    p.subscribe(1, ["trades"], exchange="binance", symbols=["BTCUSDT"])
    p.subscribe(1, ["trades"], exchange="kraken", symbols=["XBTUSD"])
    p.unsubscribe(2, ["trades"], exchange="binance")
    assert [s.exchange for s in p.subscriptions] == ["kraken"]
    p.unsubscribe(2, "trades")
    assert p.subscriptions == ()


def test_gateway_unsubscribe_before_auth_cancels_queued_subscribe() -> None:
    p = gateway()
    p.connection_made(0)
    rid, _ = p.subscribe(0, ["trades"], exchange="binance")
    urid, actions = p.unsubscribe(0, ["trades"])
    assert urid is None
    assert actions == [RequestDone(rid, "unsubscribed before it was sent")]
    auth = only(p.receive_frame(fixture("gateway", "02-authenticated.json"), 1), AuthAccepted)
    assert auth.then == ()


def test_gateway_unsubscribe_in_flight_at_disconnect_completes_after_auth() -> None:
    p = gw_authed()
    p.subscribe(1, ["trades"])
    p.receive_frame(gw_ack("subscribed", ["trades"]), 1)
    rid, _ = p.unsubscribe(2, ["trades"])
    p.connection_lost()
    p.connection_made(3)
    actions = p.receive_frame(fixture("gateway", "02-authenticated.json"), 3)
    assert RequestDone(rid) in actions
    assert only(actions, AuthAccepted).then == ()


def test_gateway_forgotten_request_keeps_its_place_for_the_late_ack() -> None:
    p = gw_authed()
    rid, _ = p.subscribe(100.0, ["trades"])
    later, _ = p.subscribe(101.0, ["orders"])
    assert rid is not None
    p.forget_request(rid)  # the engine's deadline passed
    # The late ack is consumed in order, without completing anything, so the next ack is
    # not taken for the answer to the forgotten request.
    assert p.receive_frame(gw_ack("subscribed", ["trades"]), 201) == []
    assert p.receive_frame(gw_ack("subscribed", ["orders"]), 202) == [RequestDone(str(later))]


def test_gateway_delivers_data_as_exact_decimals() -> None:
    p = gw_authed()
    (action,) = p.receive_frame(fixture("gateway", "09-market-data-ticker.json"), 1)
    assert isinstance(action, Deliver)
    assert isinstance(action.item, gm.MarketDataMessage)
    assert action.item.data.price == Decimal("42650.5")


def test_gateway_unknown_tag_is_delivered_as_unknown_message() -> None:
    p = gw_authed()
    (action,) = p.receive_frame(dumps({"channel": "funding", "rate": 1}), 1)
    assert isinstance(action, Deliver)
    assert action.item == UnknownMessage(
        protocol="gateway", tag="funding", raw={"channel": "funding", "rate": 1}
    )


@pytest.mark.parametrize(
    "frame",
    ["not json", b"\xff\xfe", "[1, 2]", '{"event": "ping"}', '{"channel": "trades", "data": 1}', ""],
)
def test_gateway_bad_frames(frame: str | bytes) -> None:
    p = gw_authed()
    (action,) = p.receive_frame(frame, 1)
    assert isinstance(action, BadFrame)
    assert isinstance(action.error, DecodeError)
    assert action.error.protocol == "gateway"


def test_gateway_subscribe_needs_a_channel() -> None:
    with pytest.raises(ValueError, match="channel"):
        gateway().subscribe(0, [])


# == cryptology ===============================================================================


def crypto(**kwargs: Any) -> CryptologyProtocol:
    p = CryptologyProtocol("wss://marketdata.example/ws", **kwargs)
    assert p.connection_made(0) == ()
    return p


def delivered(p: FeedProtocol, frame: str) -> Any:
    actions = p.receive_frame(frame, 1)
    return [a.item for a in actions if isinstance(a, Deliver)]


def test_cryptology_connects_without_auth() -> None:
    p = CryptologyProtocol("wss://marketdata.example/ws")
    assert p.connect_target() == ConnectTarget("wss://marketdata.example/ws")
    assert not p.ready
    assert p.connection_made(0) == ()
    assert not p.ready  # the first frame tells the wire form (XDR: the version frame)
    delivered(p, fixture("cryptology", "26-anonymous-trade.json"))
    assert p.ready
    assert p.form == "json"
    p.connection_lost()
    assert not p.ready
    assert p.form is None
    # The documents' JSON form has no opening frame: ready at once.
    p = CryptologyProtocol("wss://marketdata.example/ws", wire_form="json")
    assert p.connection_made(0) == ()
    assert p.ready


def test_cryptology_delivers_every_message_without_filter() -> None:
    p = crypto()
    (trade,) = delivered(p, fixture("cryptology", "26-anonymous-trade.json"))
    assert isinstance(trade, cm.AnonymousTrade)
    (balance,) = delivered(p, fixture("cryptology", "05-set-balance-message.json"))
    assert isinstance(balance, cm.SetBalanceMessage)


def test_cryptology_subscribe_is_a_client_side_filter() -> None:
    p = crypto()
    assert p.subscribe(0, "ETH_USD") == (None, ())  # nothing on the wire, nothing to await
    assert p.trade_pairs == frozenset({"ETH_USD"})
    assert delivered(p, fixture("cryptology", "26-anonymous-trade.json")) == []  # BTC_USD
    # Messages without a trade pair are never filtered out.
    assert len(delivered(p, fixture("cryptology", "05-set-balance-message.json"))) == 1
    p.subscribe(0, "BTC_USD")
    assert len(delivered(p, fixture("cryptology", "26-anonymous-trade.json"))) == 1
    assert p.unsubscribe(0, "BTC_USD") == (None, ())
    assert delivered(p, fixture("cryptology", "26-anonymous-trade.json")) == []
    p.subscribe(0)  # no pairs: back to everything
    assert p.trade_pairs is None
    assert len(delivered(p, fixture("cryptology", "26-anonymous-trade.json"))) == 1


def test_cryptology_initial_filter_and_unsubscribe_errors() -> None:
    assert crypto(trade_pairs=["BTC_USD"]).trade_pairs == frozenset({"BTC_USD"})
    with pytest.raises(ValueError, match="every trade pair"):
        crypto().unsubscribe(0, "BTC_USD")
    with pytest.raises(ValueError, match="at least one"):
        crypto(trade_pairs=["BTC_USD"]).unsubscribe(0)


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        (4000, CloseVerdict.RETRY_SLOW),
        (4001, CloseVerdict.RETRY),
        (4009, CloseVerdict.RETRY_SLOW),
        (1012, CloseVerdict.RETRY),
        (1008, CloseVerdict.FATAL),
        (1000, CloseVerdict.RETRY),
        (1006, CloseVerdict.RETRY),
        (None, CloseVerdict.RETRY),
    ],
)
def test_cryptology_classify_close(code: int | None, verdict: CloseVerdict) -> None:
    assert crypto().classify_close(code, "") is verdict


def test_cryptology_heartbeat_configurable() -> None:
    # The official client's liveness: WebSocket pings every 3 s; no silence bound (a quiet
    # market sends nothing); the version frame within 3 s.
    assert crypto().heartbeat == HeartbeatPolicy(
        server_heartbeat=None, auth_deadline=3.0, ping_interval=3.0, ping_timeout=3.0
    )
    assert crypto(server_heartbeat=3.0).heartbeat.server_heartbeat == 3.0
    assert crypto(version_timeout=1.5).heartbeat.auth_deadline == 1.5
    assert crypto(wire_form="json").heartbeat == HeartbeatPolicy()


def test_cryptology_bad_and_unknown_frames() -> None:
    p = crypto()
    (bad,) = p.receive_frame('{"_cls": "AnonymousTradeMessage", "price": 1}', 1)
    assert isinstance(bad, BadFrame)
    assert bad.error.tag == "AnonymousTradeMessage"
    (unknown,) = delivered(p, '{"@type": "Heartbeat", "trade_pair": "BTC_USD"}')
    assert isinstance(unknown, UnknownMessage)
    assert unknown.tag == "Heartbeat"
    # A filter never hides an unknown message's pair: the filter works on known models too.
    p.subscribe(0, "ETH_USD")
    assert delivered(p, '{"@type": "Heartbeat"}') != []


# == onyx =====================================================================================


def onyx(**kwargs: Any) -> OnyxProtocol:
    return OnyxProtocol("wss://ws.onyx.example/v1/ws", ONYX_TOKEN, **kwargs)


def onyx_response(rid: str, method: str, message: Any = "ok", error: bool = False) -> str:
    return dumps({"id": rid, "method": method, "message": message, "error": error})


def onyx_authed(p: OnyxProtocol | None = None, now: float = 0.0) -> tuple[OnyxProtocol, list[Action]]:
    p = p or onyx()
    (auth,) = frames(p.connection_made(now))
    actions = list(p.receive_frame(onyx_response(auth["id"], "auth", "authenticated"), now))
    assert p.ready
    return p, actions


def test_onyx_auth_request_on_connect() -> None:
    p = onyx()
    assert p.connect_target() == ConnectTarget("wss://ws.onyx.example/v1/ws")
    assert p.heartbeat == HeartbeatPolicy(server_heartbeat=None, auth_deadline=5.0)
    assert frames(p.connection_made(0)) == [{"id": "tf:1", "method": "auth", "token": ONYX_TOKEN}]
    assert not p.ready


def test_onyx_auth_ok_sends_queued_subscriptions_with_their_ids() -> None:
    p = onyx()
    (auth,) = frames(p.connection_made(0))
    rid, actions = p.subscribe(0, "server_info")
    assert actions == ()
    rid2, _ = p.subscribe(0, "tickers", products=["ebob"])
    done = p.receive_frame(onyx_response(auth["id"], "auth", "authenticated"), 1)
    then = [json.loads(s.text) for s in only(done, AuthAccepted).then]
    assert then == [
        {"id": rid, "method": "subscribe", "channel": "server_info"},
        {"id": rid2, "method": "subscribe", "channel": {"tickers": {"products": ["ebob"]}}},
    ]
    assert p.receive_frame(fixture("onyx", "16-response-object-message.json").replace("msg:2", rid), 2) == [
        RequestDone(rid)
    ]
    assert p.receive_frame(onyx_response(rid2, "subscribe", "subscribed to tickers"), 2) == [
        RequestDone(rid2)
    ]


def test_onyx_auth_error_is_auth_failure_without_token() -> None:
    p = onyx()
    p.connection_made(0)
    # A server that echoes the rejected token must not make us print it.
    (failed,) = p.receive_frame(onyx_response("tf:1", "auth", f"invalid token {ONYX_TOKEN}", True), 1)
    assert isinstance(failed, AuthFailed)
    assert failed.reason == "invalid token ***"
    assert ONYX_TOKEN not in repr(failed)
    assert ONYX_TOKEN not in str(AuthenticationError(failed.reason))


def test_onyx_ids_unique_across_reconnects() -> None:
    p = onyx()
    ids = [frames(p.connection_made(0))[0]["id"]]
    p.connection_lost()
    ids.append(frames(p.connection_made(1))[0]["id"])
    rid, _ = p.subscribe(1, "dashboards")
    ids.append(rid)
    assert ids == ["tf:1", "tf:2", "tf:3"]


def test_onyx_subscribe_forms_and_validation() -> None:
    p, _ = onyx_authed()
    _, a = p.subscribe(1, "tickers", product_groups=["crude"])
    assert frames(a)[0]["channel"] == {"tickers": {"product_groups": ["crude"]}}
    _, b = p.subscribe(1, {"tickers": {"products": ["ebob", "dub"]}})
    assert frames(b)[0]["channel"] == {"tickers": {"products": ["ebob", "dub"]}}
    with pytest.raises(ValueError, match="needs products"):
        p.subscribe(1, "tickers")
    with pytest.raises(ValueError, match="takes no filter"):
        p.subscribe(1, "server_info", products=["x"])
    with pytest.raises(TypeError, match="list of names"):
        p.subscribe(1, "tickers", products="ebob")
    with pytest.raises(ValueError, match="exactly one key"):
        p.subscribe(1, {"tickers": {"products": ["a"]}, "x": {}})


def test_onyx_subscribe_error_completes_with_message_and_is_forgotten() -> None:
    p, _ = onyx_authed()
    rid, _ = p.subscribe(1, "dashboards")
    err = onyx_response(rid, "subscribe", {"Message": "not allowed"}, True)
    assert p.receive_frame(err, 2) == [RequestDone(rid, "not allowed")]
    p.connection_lost()
    _, actions = onyx_authed(p, 3)
    assert only(actions, AuthAccepted).then == ()


def test_onyx_already_active_and_in_flight_subscriptions_send_no_duplicate() -> None:
    p, _ = onyx_authed()
    rid, first = p.subscribe(1, "server_info")
    rid2, second = p.subscribe(1, "server_info")  # joins the request in flight
    assert len(texts(first)) == 1
    assert second == ()
    assert p.receive_frame(onyx_response(rid, "subscribe"), 2) == [RequestDone(rid), RequestDone(rid2)]
    assert p.subscribe(3, "server_info") == (None, ())  # acknowledged on this connection


def test_onyx_resubscribes_after_reconnect_reusing_pending_id() -> None:
    p, _ = onyx_authed()
    done, _ = p.subscribe(1, "server_info")
    p.receive_frame(onyx_response(done, "subscribe"), 1)
    pending, _ = p.subscribe(2, "dashboards")  # the connection dies before the answer
    p.connection_lost()
    (auth,) = frames(p.connection_made(5))
    actions = p.receive_frame(onyx_response(auth["id"], "auth"), 5)
    then = [json.loads(s.text) for s in only(actions, AuthAccepted).then]
    assert [t["channel"] for t in then] == ["server_info", "dashboards"]
    assert then[1]["id"] == pending
    assert then[0]["id"] not in (done, pending)  # resubscription: a fresh id
    assert [s.request_id for s in only(actions, AuthAccepted).then] == [then[0]["id"], pending]
    assert p.receive_frame(onyx_response(then[0]["id"], "subscribe"), 6) == [RequestDone(then[0]["id"])]
    assert p.receive_frame(onyx_response(pending, "subscribe"), 6) == [RequestDone(pending)]


def test_onyx_auth_frame_has_no_request_id() -> None:
    (auth,) = onyx().connection_made(0)
    assert isinstance(auth, Send)
    assert auth.request_id is None


def test_onyx_queued_subscribe_timed_out_before_auth_is_still_sent() -> None:
    p = onyx()
    rid, _ = p.subscribe(0, "server_info")  # before any connection: queued
    assert rid is not None
    (auth,) = frames(p.connection_made(5))
    p.forget_request(rid)  # the engine's deadline passed
    actions = p.receive_frame(onyx_response(auth["id"], "auth"), 11)
    (frame,) = only(actions, AuthAccepted).then
    assert json.loads(frame.text)["id"] == frame.request_id != rid
    assert p.receive_frame(onyx_response(str(frame.request_id), "subscribe"), 12) == [
        RequestDone(str(frame.request_id))
    ]


def test_onyx_refused_resubscription_completes_with_error() -> None:
    p, _ = onyx_authed()
    rid, _ = p.subscribe(1, "server_info")
    p.receive_frame(onyx_response(rid, "subscribe"), 1)
    p.connection_lost()
    (auth,) = frames(p.connection_made(5))
    actions = p.receive_frame(onyx_response(auth["id"], "auth"), 5)
    (resub,) = [json.loads(s.text) for s in only(actions, AuthAccepted).then]
    assert p.receive_frame(onyx_response(resub["id"], "subscribe", "gone", True), 6) == [
        RequestDone(resub["id"], "gone")
    ]
    # ...and is not offered again.
    p.connection_lost()
    _, again = onyx_authed(p, 7)
    assert only(again, AuthAccepted).then == ()


def test_onyx_unsubscribe() -> None:
    p, _ = onyx_authed()
    rid, _ = p.subscribe(1, "tickers", products=["ebob"])
    p.receive_frame(onyx_response(rid, "subscribe"), 1)
    urid, actions = p.unsubscribe(2, "tickers", products=["ebob"])
    assert frames(actions) == [
        {"id": urid, "method": "unsubscribe", "channel": {"tickers": {"products": ["ebob"]}}}
    ]
    assert p.receive_frame(fixture("onyx", "17-response-error.json").replace("msg:6", str(urid)), 3) == [
        RequestDone(str(urid), "not subscribed to server_info")
    ]
    p.connection_lost()
    _, auth_actions = onyx_authed(p, 4)
    assert only(auth_actions, AuthAccepted).then == ()


def test_onyx_unsubscribe_before_auth_cancels_queued_subscribe() -> None:
    p = onyx()
    p.connection_made(0)
    rid, _ = p.subscribe(0, "dashboards")
    assert p.unsubscribe(0, "dashboards") == (None, [RequestDone(rid, "unsubscribed before it was sent")])


def test_onyx_forgotten_request_ignores_its_late_response() -> None:
    p, _ = onyx_authed()
    rid, _ = p.subscribe(10.0, "server_info")
    assert rid is not None
    p.forget_request(rid)
    # A late response completes nothing.
    assert p.receive_frame(onyx_response(rid, "subscribe"), 14) == []


def test_onyx_auth_deadline_is_the_engines() -> None:
    # The engine drops a connection not authenticated within auth_deadline (test_engine.py);
    # the protocol only says how long the server allows.
    assert onyx(auth_deadline=3).heartbeat.auth_deadline == 3


def test_onyx_delivers_events_and_unknown_channels() -> None:
    p, _ = onyx_authed()
    (snap,) = delivered(p, fixture("onyx", "20-dashboards-snapshot.json"))
    assert isinstance(snap, om.DashboardsSnapshotEvent)
    (unknown,) = delivered(p, dumps({"channel": "orders", "message": {}, "message_type": 1}))
    assert isinstance(unknown, UnknownMessage)
    assert unknown.tag == "orders"
    (bad,) = p.receive_frame('{"channel": "tickers", "message": 5, "message_type": 1}', 1)
    assert isinstance(bad, BadFrame)
    assert p.receive_frame(onyx_response("tf:999", "subscribe"), 1) == []  # answer to nothing


@pytest.mark.parametrize(
    ("code", "reason", "verdict"),
    [
        # Onyx documents no close code ("the server will terminate the connection"): whatever
        # code an auth timeout or any other close comes with, the feed reconnects.
        (1008, "", CloseVerdict.RETRY),
        (1008, "Policy Violation", CloseVerdict.RETRY),
        (1008, "invalid method", CloseVerdict.RETRY),
        (1008, "authentication timeout", CloseVerdict.RETRY),
        (1000, "", CloseVerdict.RETRY),
        (1011, "", CloseVerdict.RETRY),
        (None, "", CloseVerdict.RETRY),
        (4000, "", CloseVerdict.RETRY),
        # A rate limit still backs off slowly, by its code or its words.
        (1008, "Too many requests", CloseVerdict.RETRY_SLOW),
        (1013, "", CloseVerdict.RETRY_SLOW),
        (4009, "", CloseVerdict.RETRY_SLOW),
    ],
)
def test_onyx_classify_close_is_never_fatal(code: int | None, reason: str, verdict: CloseVerdict) -> None:
    assert onyx().classify_close(code, reason) is verdict


def decode_onyx(name: str) -> Any:
    from trio_feeds import onyx as onyx_codec

    return onyx_codec.decode(fixture("onyx", name))


def test_dashboards_snapshot_then_increments() -> None:
    d = Dashboards()
    assert not d.synced
    d.apply(decode_onyx("20-dashboards-snapshot.json"))
    assert d.synced
    assert list(d) == ["dash-1", "dash-2"]
    d.apply(decode_onyx("21-dashboards-update.json"))
    assert d["dash-1"]["symbols"] == ["brtz24", "brtf25", "brtg25"]
    d.apply(decode_onyx("22-dashboards-create.json"))
    assert set(d) == {"dash-1", "dash-2", "dash-3"}
    d.apply(decode_onyx("23-dashboards-delete.json"))
    assert set(d) == {"dash-1", "dash-3"}
    d.apply(decode_onyx("23-dashboards-delete.json"))  # deleting again: no-op
    assert len(d) == 2
    # A new snapshot (after a resubscription) replaces everything.
    d.apply(om.DashboardsSnapshotEvent(channel="dashboards", message=[{"id": "x"}], message_type=0))
    assert dict(d) == {"x": {"id": "x"}}


def test_dashboards_custom_key_and_missing_key() -> None:
    d = Dashboards(key=lambda dash: dash["name"])
    d.apply(decode_onyx("20-dashboards-snapshot.json"))
    assert set(d) == {"Crude", "Gasoline"}
    with pytest.raises(ValueError, match="no key"):
        Dashboards().apply(
            om.DashboardsIncrementEvent(channel="dashboards", message={"name": "n"}, message_type=2)
        )


# Peatio Ranger: tests/test_peatio_sansio.py


# == secrets ==================================================================================


def test_mask_never_shows_the_whole_value() -> None:
    assert mask_fn("abcdefghij") == "abc…"
    assert mask_fn("short") == "…"


def test_credentials_repr_hides_secret() -> None:
    creds = Credentials(API_KEY, API_SECRET)
    for text in (repr(creds), str(creds), repr([creds]), f"{creds}"):
        assert API_SECRET not in text
        assert API_KEY not in text
        assert "AK-…" in text


def test_gateway_secrets_absent_from_reprs() -> None:
    p = gateway()
    actions = list(p.connection_made(0))
    assert API_KEY in actions[0].text  # the frame carries the key (never the secret)...
    assert API_SECRET not in actions[0].text
    err = dumps({"event": "error", "message": f"bad secret {API_SECRET}", "code": 401, "timestamp": 1})
    actions += p.receive_frame(err, 1)
    for text in (repr(p), repr(actions), str(actions), str(SubscriptionError(str(actions)))):
        assert API_SECRET not in text
        assert API_KEY not in text


def test_onyx_secrets_absent_from_reprs() -> None:
    p = onyx()
    actions = list(p.connection_made(0))
    assert ONYX_TOKEN in actions[0].text
    for text in (repr(p), repr(actions), str(p)):
        assert ONYX_TOKEN not in text


def test_gateway_delivered_error_is_scrubbed() -> None:
    p = gw_authed()
    err = dumps({"event": "error", "message": f"secret {API_SECRET} leaked", "code": 400, "timestamp": 1})
    (action,) = p.receive_frame(err, 1)
    assert isinstance(action, Deliver)
    assert action.item.message == "secret *** leaked"


def test_bad_frame_errors_do_not_quote_secrets() -> None:
    # A garbage frame that happens to contain a secret must not put it in the error text.
    p = gw_authed()
    (bad,) = p.receive_frame(f'{{"event": "ping", "timestamp": "{API_SECRET}"}}', 1)
    assert isinstance(bad, BadFrame)
    assert API_SECRET not in str(bad.error)
