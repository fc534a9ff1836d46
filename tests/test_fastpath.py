"""The codecs' fast path (trio_feeds/_codecs/_fastpath.py) against the strict path it shortcuts.

Its contract: a frame the fast path decodes, the strict path decodes to an equal message (same
class, values of the same types, same explicit nulls, same encoding); every other frame is left
to the strict path. Checked on every fixture, on fuzzed frames, on near-miss values put at every
leaf of every fixture, and on frames that play with the keys the routes read.
"""

from __future__ import annotations

import copy
import json
import typing
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import fuzz
from tests._fixtures import fixture_cases, fixture_value, load_json
from tests.test_conformance import BAD_DECIMAL_STRINGS, EDGE_INTEGERS
from trio_feeds import DecodeError, UnknownMessage
from trio_feeds._codecs import cryptology, gateway, onyx, peatio
from trio_feeds._codecs._base import Codec
from trio_feeds._types import WireTime, explicit_nulls

CODECS: dict[str, Codec] = {
    "cryptology": cryptology.codec,
    "gateway": gateway.codec,
    "onyx": onyx.codec,
    "peatio": peatio.codec,
}


def _fast_class(message: Any) -> type:
    """The class the fast path is asked for: a Ranger object frame's payload's, else the message's."""
    if isinstance(message, peatio.StreamMessage):
        return type(message.data) if message.form == "object" else peatio.StreamMessage
    return type(message)


def _same(a: Any, b: Any, path: str = "$") -> None:
    """``a == b`` down to the types of the values (``1 == 1.0 == True == Decimal(1)`` in Python)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, WireTime):
        assert a.wire == b.wire, path
    if isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif hasattr(type(a), "__attrs_attrs__"):
        assert explicit_nulls(a) == explicit_nulls(b), path
        for field in type(a).__attrs_attrs__:
            _same(getattr(a, field.name), getattr(b, field.name), f"{path}.{field.name}")
    else:
        assert a == b, path
        if isinstance(a, Decimal):
            assert a.as_tuple() == b.as_tuple(), path  # 1.50 stays 1.50


def check_frame(codec: Codec, frame: str | bytes) -> bool:
    """The contract on one frame; True when the fast path took it."""
    fast = codec._fast
    assert fast is not None
    message = fast(frame)
    # Again: a codec may decode a frame it has seen the like of another way (Ranger's one-pass
    # decoder of a stream, made at its first frame, which may refuse more). Whatever either way
    # takes must agree with the strict path.
    taken = [m for m in (message, fast(frame)) if m is not None]
    if not taken:
        return False
    try:
        strict = codec.decode_strict(frame)
    except DecodeError as exc:
        raise AssertionError(
            f"the fast path took a frame the strict path refuses ({exc}): {frame!r}"
        ) from None
    assert not isinstance(strict, UnknownMessage), frame
    for m in taken:
        _same(m, strict)
        assert codec.encode(m) == codec.encode(strict)
    return message is not None


def _fixtures(protocol: str) -> list[Any]:
    return [fixture_value(p, entry) for p, entry in fixture_cases() if p == protocol]


@pytest.mark.parametrize("protocol", sorted(CODECS))
def test_fast_path_takes_the_common_fixtures_and_agrees(protocol: str) -> None:
    codec = CODECS[protocol]
    taken = 0
    for value in _fixtures(protocol):
        text = _dumps(value)
        took = check_frame(codec, text)
        took_bytes = check_frame(codec, text.encode())
        assert took == took_bytes
        strict = codec.decode_strict(text)
        # Every frame of a class the fast path knows is taken: the contract is not met vacuously.
        if _fast_class(strict) in codec.fast.classes:
            assert took, text
        taken += took
    assert taken >= 2


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaf_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaf_paths(v, (*path, i))
    if path:
        yield path


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    out = copy.deepcopy(value)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return out


_NEAR_MISSES: list[Any] = [
    *BAD_DECIMAL_STRINGS,
    *EDGE_INTEGERS,
    "1.50",
    "-0",
    "007",
    0,
    1,
    -1.5,
    1.0,
    True,
    False,
    None,
    "",
    "x",
    [],
    {},
    [1, 2],
    [1530093825, 250],
    [1530093825],
    [-1, 0],
    ["1", "2"],
    {"price": "1", "amount": "2"},
]


_encode = msgspec.json.Encoder(decimal_format="number").encode


def _dumps(value: Any) -> str:
    # Decimals as JSON numbers, exactly (json.dumps would refuse them).
    return _encode(value).decode()


@pytest.mark.parametrize("protocol", sorted(CODECS))
def test_near_misses_at_every_leaf_never_pass_where_the_strict_path_refuses(protocol: str) -> None:
    codec = CODECS[protocol]
    checked = taken = 0
    for value in _fixtures(protocol):
        if not isinstance(value, dict) or not check_frame(codec, _dumps(value)):
            continue
        for path in _leaf_paths(value):
            for new in _NEAR_MISSES:
                taken += check_frame(codec, _dumps(_replaced(value, path, new)))
                checked += 1
    assert checked > 500
    assert 0 < taken < checked


@pytest.mark.parametrize("protocol", sorted(CODECS))
def test_fuzzed_frames_agree(protocol: str) -> None:
    codec = CODECS[protocol]
    taken = sum(check_frame(codec, fuzz.make_case(protocol, 7, i).frame) for i in range(1500))
    assert taken > 10


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text(alphabet="0123456789-.eE+ _abc\n", max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["price", "amount", "x"]), inner)
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.data())
def test_generated_values_at_generated_places_agree(data: st.DataObject) -> None:
    protocol = data.draw(st.sampled_from(sorted(CODECS)))
    codec = CODECS[protocol]
    value = data.draw(st.sampled_from([v for v in _fixtures(protocol) if isinstance(v, dict)]))
    paths = list(_leaf_paths(value))
    path = data.draw(st.sampled_from(paths))
    check_frame(codec, _dumps(_replaced(value, path, data.draw(_json_values))))


TRADE_V2 = {
    "@type": "AnonymousTrade",
    "time": [1530093825, 250],
    "trade_pair": "BTC_USD",
    "current_order_id": 123456,
    "amount": "42.42",
    "price": "555.1",
    "maker_buy": False,
}


@pytest.mark.parametrize(
    ("frame", "taken"),
    [
        (json.dumps(TRADE_V2), True),
        # `_cls` decides first (as classify): null is absent, anything else is the strict path's.
        (json.dumps({"_cls": None, **TRADE_V2}), True),
        (json.dumps({"_cls": "AnonymousTradeMessage", **TRADE_V2}), False),
        (json.dumps({"_cls": 1, **TRADE_V2}), False),
        # An escaped key is the same key: left to the strict path, which reads it as `_cls`.
        ('{"\\u005fcls": "X", ' + json.dumps(TRADE_V2)[1:], False),
        # Duplicate keys: the last one counts, in both paths.
        ('{"amount": "1", ' + json.dumps(TRADE_V2)[1:], True),
        (json.dumps(TRADE_V2)[:-1] + ', "amount": "2"}', True),
        (json.dumps(TRADE_V2)[:-1] + ', "amount": "2e1"}', False),
        # A field the model does not have: the strict path's (which checks it as JSON).
        (json.dumps({**TRADE_V2, "extra": {"deep": [1, 2]}}), False),
        (json.dumps({**TRADE_V2, "extra": 1e999}), False),
        (json.dumps(TRADE_V2).encode()[:-1] + b', "extra": "\xe5"}', False),
        (json.dumps({**TRADE_V2, "@type": "NoSuchMessage"}), False),
        (json.dumps({**TRADE_V2, "current_order_id": None}), True),
        (json.dumps({**TRADE_V2, "current_order_id": 2**63}), False),
        (json.dumps({**TRADE_V2, "time": [1530093825, 1000]}), False),
        (json.dumps([TRADE_V2]), False),
        ("{", False),
        (b"\xff" + json.dumps(TRADE_V2).encode(), False),
    ],
)
def test_cryptology_routes(frame: str | bytes, taken: bool) -> None:
    assert check_frame(cryptology.codec, frame) is taken


@pytest.mark.parametrize(
    ("value", "taken"),
    [
        ({"channel": "trades", "exchange": "b", "symbol": "S", "timestamp": 1, "data": {}}, False),
        # `channel` decides before `event`, `event` before `action`.
        ({"event": "authenticated", "success": True, "timestamp": 1}, True),
        ({"event": "authenticated", "success": True, "timestamp": 1, "channel": None}, True),
        ({"event": "authenticated", "success": True, "timestamp": 1, "channel": "trades"}, False),
        ({"action": "pong", "timestamp": 1}, True),
        ({"action": "pong", "timestamp": 1, "event": "pong"}, False),
        ({"action": "pong", "timestamp": 1.0}, False),
        ({"action": "pong", "timestamp": True}, False),
    ],
)
def test_gateway_routes(value: dict[str, Any], taken: bool) -> None:
    assert check_frame(gateway.codec, json.dumps(value)) is taken


def test_gateway_money_stays_exact() -> None:
    frame = (
        '{"channel":"trades","exchange":"binance","symbol":"BTCUSDT","data":{"id":"1",'
        '"price":42650.50,"amount":1E-8,"side":"buy","timestamp":1647356789123},"timestamp":1}'
    )
    assert check_frame(gateway.codec, frame)
    message = gateway.codec.decode(frame)
    assert message.data.price.as_tuple() == Decimal("42650.50").as_tuple()
    assert message.data.amount == Decimal("1E-8")


def test_onyx_events_need_message_type_as_classify_does() -> None:
    ticker = {
        "symbol": "brtsep24",
        "timestamp_millis": 1718097330123,
        "bid": {"price": "81.25", "amount": "10"},
        "ask": {"price": "81.30", "amount": "5"},
    }
    event = {"channel": "tickers", "message": [ticker], "message_type": 1}
    assert check_frame(onyx.codec, json.dumps(event))
    without = {"channel": "tickers", "message": [ticker]}
    assert not check_frame(onyx.codec, json.dumps(without))
    # `dashboards` has two shapes under one channel: the strict path tells them apart.
    dashboards = {"channel": "dashboards", "message": [], "message_type": 0}
    assert not check_frame(onyx.codec, json.dumps(dashboards))
    assert type(onyx.codec.decode(json.dumps(dashboards))).__name__ == "DashboardsSnapshotEvent"


def test_every_codec_with_routes_has_a_fast_path_for_its_data() -> None:
    names = {p: {c.__name__ for c in codec.fast.classes} for p, codec in CODECS.items()}
    assert {"AnonymousTradeV2", "AnonymousTradeMessage", "OrderBookAggV2"} <= names["cryptology"]
    assert {"TradesMessage", "OrderbookMessage", "OrdersMessage", "PingEvent"} <= names["gateway"]
    assert {"TickersEvent", "ServerInfoEvent"} <= names["onyx"]
    assert {"PublicTrades", "OrderBookSnapshot", "OrderBookIncrement", "Order", "Trade"} <= names["peatio"]
    # The classes left out are those whose shape the routes cannot express, none by accident.
    for codec in CODECS.values():
        for cls in codec.fast.classes:
            assert typing.get_type_hints(cls)


def test_bad_frames_still_get_the_strict_paths_errors() -> None:
    frame = json.dumps({**TRADE_V2, "price": "1e5"})
    with pytest.raises(DecodeError) as info:
        cryptology.codec.decode(frame)
    assert info.value.path == "$.price"
    assert load_json(frame)["price"] == "1e5"


@pytest.mark.parametrize("protocol", CODECS)
def test_every_class_gets_its_hooks(protocol: str) -> None:
    # A codec makes each class's strict hooks on first use (at import they cost every process a
    # tenth of a second): each must still be makeable, and a class the codec does not know
    # stays a KeyError, as in the plain dict before.
    codec = CODECS[protocol]
    assert codec._classes
    for cls in codec._classes:
        assert callable(codec._structure[cls])
        assert callable(codec._unstructure[cls])
    with pytest.raises(KeyError):
        codec._structure[int]
    assert int not in codec._structure


_PEATIO_TRADES = {
    "trades": [{"tid": 1, "taker_type": "buy", "price": "9421.5", "amount": "0.01", "date": 1559903600}]
}


def _counting_envelopes(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Each frame the Ranger codec reads as an envelope first (its first-sight way)."""
    seen: list[Any] = []
    envelope = peatio._envelope

    def counted(frame: Any) -> Any:
        seen.append(frame)
        return envelope(frame)

    monkeypatch.setattr(peatio, "_envelope", counted)
    return seen


@pytest.mark.parametrize("as_bytes", [False, True])
def test_ranger_decodes_a_known_streams_frames_in_one_pass(
    monkeypatch: pytest.MonkeyPatch, as_bytes: bool
) -> None:
    codec = peatio._RangerCodec()
    envelopes = _counting_envelopes(monkeypatch)

    def frame(stream: str, tid: int) -> str | bytes:
        payload = {"trades": [{**_PEATIO_TRADES["trades"][0], "tid": tid}]}
        text = json.dumps({stream: payload}, separators=(",", ":"))
        return text.encode() if as_bytes else text

    first = codec.decode(frame("btcusd.trades", 1))
    assert len(envelopes) == 1
    # Later frames of the stream, in either type, skip the envelope: one msgspec pass.
    for tid in range(2, 5):
        message = codec.decode(frame("btcusd.trades", tid))
        _same(message, codec.decode_strict(frame("btcusd.trades", tid)))
        assert message.data.trades[0].tid == tid
    assert codec.decode(json.dumps({"btcusd.trades": _PEATIO_TRADES})).stream == "btcusd.trades"
    assert len(envelopes) == 1
    _same(first, codec.decode_strict(frame("btcusd.trades", 1)))
    # Another market's stream is its own key: its first frame reads the envelope. Then frames
    # of the two streams in turn each find their own decoder.
    assert codec.decode(frame("ethusd.trades", 9)).stream == "ethusd.trades"
    assert len(envelopes) == 2
    for tid in range(10, 14):
        stream = ("btcusd.trades", "ethusd.trades")[tid % 2]
        message = codec.decode(frame(stream, tid))
        assert (message.stream, message.data.trades[0].tid) == (stream, tid)
    assert len(envelopes) == 2


@pytest.mark.parametrize(
    "frame",
    [
        # The key spelled with an escape: not found by its text, decoded the first-sight way.
        '{"\\u0062tcusd.trades":' + json.dumps(_PEATIO_TRADES) + "}",
        # The known key, then another: the one-pass decoder refuses, the strict path decides.
        '{"btcusd.trades":' + json.dumps(_PEATIO_TRADES) + ',"x":1}',
        # The key twice (the strict parse keeps the last): refused in one pass, decided strictly.
        '{"btcusd.trades":true,"btcusd.trades":' + json.dumps(_PEATIO_TRADES) + "}",
        # Blanks before the key; a payload of another stream's shape under the known key.
        '{ "btcusd.trades":' + json.dumps(_PEATIO_TRADES) + "}",
        '{"btcusd.trades":{"asks":[],"bids":[]}}',
        '["btcusd.trades",' + json.dumps(_PEATIO_TRADES) + "]",
    ],
)
def test_ranger_frames_near_a_known_stream_get_the_strict_answer(frame: str) -> None:
    codec = peatio._RangerCodec()
    codec.decode(json.dumps({"btcusd.trades": _PEATIO_TRADES}))  # the stream is known
    for text in (frame, frame.encode()):
        try:
            strict = codec.decode_strict(text)
        except DecodeError as exc:
            with pytest.raises(DecodeError) as info:
                codec.decode(text)
            assert str(info.value) == str(exc)
            continue
        _same(codec.decode(text), strict)
        check_frame(codec, text)


def test_ranger_one_pass_decoders_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # A server that invents stream names gets a decoder made for the first few only; the rest
    # still decode, the first-sight way.
    monkeypatch.setattr(peatio, "_MAX_ONE_PASS_STREAMS", 3)
    codec = peatio._RangerCodec()
    envelopes = _counting_envelopes(monkeypatch)
    for _ in range(2):
        for i in range(5):
            message = codec.decode(json.dumps({f"m{i}.trades": _PEATIO_TRADES}))
            assert message.stream == f"m{i}.trades"
    assert sorted(k for k in codec._streams if type(k) is str) == ["m0.trades", "m1.trades", "m2.trades"]
    assert len(envelopes) == 5 + 2  # the first round, then the two streams left without
