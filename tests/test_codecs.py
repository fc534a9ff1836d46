"""Spot checks of decoded values, strictness and error reporting, protocol by protocol."""

from __future__ import annotations

import importlib
import json
import pickle
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests._fixtures import FIXTURES
from trio_feeds import DecodeError, UnknownMessage, cryptology, gateway, onyx, peatio
from trio_feeds._codecs._base import model_classes
from trio_feeds._codecs._scalars import (
    DECIMAL_PATTERN,
    _decimal_from_string,
    _nullable,
    decimals_from_strings,
)
from trio_feeds._types import ExplicitNulls

# -- Cryptology --------------------------------------------------------------------------------


def test_cryptology_document_example_values() -> None:
    msg = cryptology.decode((FIXTURES / "cryptology" / "01-buy-order-placed-message.json").read_text())
    assert isinstance(msg, cryptology.BuyOrderPlacedMessage)
    assert msg.type == "BuyOrderPlacedMessage"
    assert msg.amount == Decimal("1")
    assert isinstance(msg.amount, Decimal)
    assert msg.closed_inline is False
    assert msg.time == datetime(2000, 1, 1, tzinfo=UTC)
    assert msg.time.tzinfo is not None


def test_cryptology_fraction_units_differ_by_message() -> None:
    # Order/wallet messages carry microseconds ...
    placed = cryptology.decode(
        '{"@type": "BuyOrderPlaced", "amount": "1", "closed_inline": false, "order_id": 1, '
        '"price": "1", "time": [946684800, 250], "trade_pair": "BTC_USD"}'
    )
    assert placed.time == datetime(2000, 1, 1, 0, 0, 0, 250, tzinfo=UTC)
    # ... the market-data AnonymousTrade carries milliseconds.
    trade = cryptology.decode(
        '{"@type": "AnonymousTrade", "time": [946684800, 250], "trade_pair": "BTC_USD", '
        '"amount": "42.42", "price": "555", "maker_buy": false}'
    )
    assert trade.time == datetime(2000, 1, 1, 0, 0, 0, 250_000, tzinfo=UTC)
    assert cryptology.encode(trade).count("[946684800,250]") == 1


def test_cryptology_one_element_time_is_valid() -> None:
    msg = cryptology.decode(
        '{"@type": "SetBalance", "balance": "0", "change": "0", "currency": "BTC", "reason": "x", "time": [0]}'
    )
    assert msg.time == datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("time", ["[946684800, 1000000]", "[946684800, -1]", "[]", "[1, 2, 3]", '["1", 0]'])
def test_cryptology_bad_time(time: str) -> None:
    with pytest.raises(DecodeError) as info:
        cryptology.decode(
            '{"@type": "SetBalance", "balance": "0", "change": "0", "currency": "BTC", "reason": "x", '
            f'"time": {time}}}'
        )
    assert info.value.path == "$.time"
    assert info.value.tag == "SetBalance"


def test_cryptology_both_wire_forms_round_trip_to_their_own_form() -> None:
    legacy = '{"_cls":"BuyOrderAmountChanged","amount":"1","order_id":1,"time":[946684800,0],"trade_pair":"BTC_USD"}'
    later = legacy.replace('"_cls"', '"@type"')
    a, b = cryptology.decode(legacy), cryptology.decode(later)
    assert type(a) is cryptology.BuyOrderAmountChangedMessage
    assert type(b) is cryptology.BuyOrderAmountChangedV2
    assert isinstance(a, cryptology.BuyOrderAmountChanged)
    assert isinstance(b, cryptology.BuyOrderAmountChanged)
    assert cryptology.encode(a) == legacy
    assert cryptology.encode(b) == later


def test_small_decimals_keep_their_notation() -> None:
    msg = cryptology.decode(
        '{"@type": "BuyOrderAmountChanged", "amount": "0.00000001", "order_id": 1, '
        '"time": [0, 0], "trade_pair": "BTC_USD"}'
    )
    assert '"amount":"0.00000001"' in cryptology.encode(msg)


# -- strictness (the examples the design names) -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("closed_inline", '"false"', "$.closed_inline"),
        ("order_id", '"12"', "$.order_id"),
        ("order_id", "true", "$.order_id"),
        ("order_id", "1.5", "$.order_id"),
        ("amount", "1.5", "$.amount"),
        ("amount", '"NaN"', "$.amount"),
        ("amount", '"1,5"', "$.amount"),
        ("trade_pair", "5", "$.trade_pair"),
    ],
)
def test_wrong_json_types_are_errors_not_coercions(field: str, value: str, path: str) -> None:
    fields = {
        "_cls": '"BuyOrderPlacedMessage"',
        "amount": '"1"',
        "closed_inline": "false",
        "order_id": "1",
        "price": '"1"',
        "time": "[946684800, 0]",
        "trade_pair": '"BTC_USD"',
    }
    fields[field] = value
    frame = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"
    with pytest.raises(DecodeError) as info:
        cryptology.decode(frame)
    err = info.value
    assert (err.protocol, err.tag, err.path) == ("cryptology", "BuyOrderPlacedMessage", path)
    assert path in str(err)


def test_unknown_tag_is_kept_whole() -> None:
    msg = cryptology.decode('{"@type": "MarginCall", "level": "0.5"}')
    assert isinstance(msg, UnknownMessage)
    assert msg.tag == "MarginCall"
    assert msg.raw == {"@type": "MarginCall", "level": "0.5"}
    assert cryptology.encode(msg) == '{"@type":"MarginCall","level":"0.5"}'


def test_untagged_object_is_unknown_not_an_error() -> None:
    msg = gateway.decode('{"hello": "world"}')
    assert isinstance(msg, UnknownMessage)
    assert msg.tag is None


def test_decode_error_survives_pickling() -> None:
    with pytest.raises(DecodeError) as info:
        gateway.decode('{"channel": "trades"')
    again = pickle.loads(pickle.dumps(info.value))
    assert (again.protocol, again.path, str(again)) == ("gateway", "$", str(info.value))


# -- gateway: JSON numbers are money -------------------------------------------------------------


def test_gateway_numbers_are_exact_decimals() -> None:
    msg = gateway.decode((FIXTURES / "gateway" / "13-trades.json").read_text())
    assert isinstance(msg, gateway.TradesMessage)
    assert msg.data.price == Decimal("42650.5")
    assert msg.data.amount == Decimal("0.1")  # not 0.1000000000000000055511151231257827
    assert str(msg.data.amount) == "0.1"
    assert msg.data.side == "buy"


def test_gateway_float_text_survives_encode() -> None:
    frame = (FIXTURES / "gateway" / "11-orderbook.json").read_text()
    msg = gateway.decode(frame)
    assert msg.data.bids[0] == (Decimal("42650.0"), Decimal("1.5"))
    assert "42650.0" in gateway.encode(msg)


def test_gateway_error_path_names_nested_field() -> None:
    frame = (FIXTURES / "gateway" / "13-trades.json").read_text().replace("42650.5", '"42650.5"')
    with pytest.raises(DecodeError) as info:
        gateway.decode(frame)
    assert info.value.path == "$.data.price"
    assert info.value.tag == "trades"


def test_gateway_nullable_money_stays_null() -> None:
    msg = gateway.decode((FIXTURES / "gateway" / "17-positions-update.json").read_text())
    assert msg.data.liquidation_price is None
    assert '"liquidation_price":null' in gateway.encode(msg)


def test_secrets_do_not_reach_error_texts() -> None:
    frame = (
        '{"action": "authenticate", "api_key": "AKSECRET1", "timestamp": "soon", "signature": "SIGSECRET2"}'
    )
    with pytest.raises(DecodeError) as info:
        gateway.decode(frame)
    text = str(info.value) + repr(info.value)
    assert "AKSECRET1" not in text
    assert "SIGSECRET2" not in text
    assert info.value.path == "$.timestamp"


# -- Onyx ----------------------------------------------------------------------------------------


def test_onyx_server_info_timestamp_is_aware() -> None:
    msg = onyx.decode(
        '{"channel": "server_info", "message": {"uid": "u1", "timestamp": "2024-06-11T09:15:30.123456Z", '
        '"age_millis": 42}, "message_type": 0}'
    )
    assert isinstance(msg, onyx.ServerInfoEvent)
    assert msg.message.timestamp == datetime(2024, 6, 11, 9, 15, 30, 123456, tzinfo=UTC)


def test_onyx_tickers_decimal_strings() -> None:
    msg = onyx.decode(
        '{"channel": "tickers", "message": [{"symbol": "brtsep24", "timestamp_millis": 1718097330123, '
        '"bid": {"price": "81.25", "amount": "10"}, "ask": {"price": "81.30", "amount": "5"}}], "message_type": 1}'
    )
    assert isinstance(msg, onyx.TickersEvent)
    assert msg.message[0].timestamp == datetime(2024, 6, 11, 9, 15, 30, 123_000, tzinfo=UTC)
    assert msg.message[0].bid.price == Decimal("81.25")
    assert str(msg.message[0].ask.price) == "81.30"


def test_onyx_dashboards_snapshot_and_increment_are_told_apart() -> None:
    snap = onyx.decode('{"channel": "dashboards", "message": [{"id": "d1"}], "message_type": 0}')
    inc = onyx.decode('{"channel": "dashboards", "message": {"id": "d1"}, "message_type": 3}')
    assert isinstance(snap, onyx.DashboardsSnapshotEvent)
    assert isinstance(inc, onyx.DashboardsIncrementEvent)
    assert inc.message_type == 3


def test_onyx_response_message_text_keeps_wire_name() -> None:
    msg = onyx.decode('{"id": "tf:1", "method": "subscribe", "message": {"Message": "ok"}, "error": false}')
    assert isinstance(msg, onyx.Response)
    assert msg.message.text == "ok"
    assert '"Message":"ok"' in onyx.encode(msg)


def test_onyx_tickers_filter_accepts_both_names() -> None:
    for key in ("product_groups", "products"):
        msg = onyx.decode(
            f'{{"id": "1", "method": "subscribe", "channel": {{"tickers": {{"{key}": ["crude"]}}}}}}'
        )
        assert isinstance(msg, onyx.SubscribeRequest)
    with pytest.raises(DecodeError):
        onyx.decode('{"id": "1", "method": "subscribe", "channel": {"tickers": {}}}')


# -- Peatio ----------------------------------------------------------------------------------------


def test_peatio_stream_envelope() -> None:
    msg = peatio.decode(
        '{"btcusd.trades": {"trades": [{"tid": 7, "taker_type": "buy", "price": "9421.5", '
        '"amount": "0.01", "date": 1559903600}]}}'
    )
    assert isinstance(msg, peatio.StreamMessage)
    assert msg.stream == "btcusd.trades"
    assert msg.market == "btcusd"
    assert isinstance(msg.data, peatio.PublicTrades)
    assert msg.data.trades[0].price == Decimal("9421.5")


def test_peatio_iso_created_at_is_utc_and_keeps_its_text() -> None:
    frame = '{"order":{"id":1,"state":"wait","origin_volume":"1","created_at":"2019-01-29T10:17:44+01:00"}}'
    msg = peatio.decode(frame)
    assert msg.data.created_at == datetime(2019, 1, 29, 9, 17, 44, tzinfo=UTC)
    assert msg.data.created_at.tzinfo is UTC
    assert msg.data.created_at.hour == 9
    assert peatio.encode(msg) == frame


def test_peatio_error_path_includes_stream() -> None:
    with pytest.raises(DecodeError) as info:
        peatio.decode(
            '{"btcusd.trades": {"trades": [{"tid": "7", "taker_type": "buy", "price": "1", "amount": "1"}]}}'
        )
    assert info.value.path == '$["btcusd.trades"].trades[0].tid'


def test_peatio_unknown_stream_is_unknown() -> None:
    # peatio-core's own spec publishes such an event (spec/peatio/ranger/web_socket_spec.rb).
    msg = peatio.decode('{"btcusd.order":{"key":"btcusd_order_1"}}')
    assert isinstance(msg, UnknownMessage)
    assert msg.tag == "btcusd.order"
    assert peatio.encode(msg) == '{"btcusd.order":{"key":"btcusd_order_1"}}'


def test_peatio_array_frames_decode_and_encode_back_as_arrays() -> None:
    # peatio-core 0.4.0-0.4.4 (spec/peatio/events/ranger_spec.rb at v0.4.3) and the Node example.
    frame = '["btcusd.trades",{"trades":[{"tid":7,"price":"1020.0","amount":"0.001","type":"buy","date":1537370580}]}]'
    msg = peatio.decode(frame)
    assert isinstance(msg, peatio.StreamMessage)
    assert msg.form == "array"
    assert msg.market == "btcusd"
    assert msg.data.trades[0].type == "buy"
    assert peatio.encode(msg) == frame
    # unstructure gives the object form (what the servers' tools read), encode the wire form.
    assert list(peatio.codec.unstructure(msg)) == ["btcusd.trades"]
    assert peatio.encode(attrs.evolve(msg, form="object")).startswith('{"btcusd.trades":')
    unknown = peatio.decode('["btcusd.order",{"key":"btcusd_order_1"}]')
    assert isinstance(unknown, peatio.UnknownArrayFrame)
    assert isinstance(unknown, UnknownMessage)
    assert unknown.tag == "btcusd.order"
    assert unknown.raw == {"btcusd.order": {"key": "btcusd_order_1"}}
    assert peatio.encode(unknown) == '["btcusd.order",{"key":"btcusd_order_1"}]'


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("[]", "expected a JSON object, got array"),
        ('["btcusd.trades"]', "expected a JSON object, got array"),
        ('[1, {"trades": []}]', "expected a JSON object, got array"),
        ('"btcusd.trades"', "expected a JSON object, got string"),
    ],
)
def test_peatio_other_json_values_are_refused(frame: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        peatio.decode(frame)


def test_peatio_array_frame_error_path() -> None:
    with pytest.raises(DecodeError) as info:
        peatio.decode('["btcusd.trades", {"trades": [{"tid": "7", "price": "1", "amount": "1"}]}]')
    assert info.value.path == "$[1].trades[0].tid"


def test_peatio_engine_increments_flat_pair_and_empty_amount() -> None:
    # openware/peatio spec/trading/matching/engine_spec.rb; "" is the engine's removal.
    msg = peatio.decode('{"btcusd.ob-inc":{"asks":["10.0","5.0"],"sequence":2}}')
    assert msg.data.asks == (Decimal("10.0"), Decimal("5.0"))
    assert msg.data.sequence == 2
    gone = peatio.decode('{"btcusd.ob-inc":{"bids":["10.0",""],"sequence":3}}')
    assert gone.data.bids == (Decimal("10.0"), "")
    assert peatio.encode(gone) == '{"btcusd.ob-inc":{"bids":["10.0",""],"sequence":3}}'
    nested = peatio.decode('{"eurusd.ob-inc":{"asks":[["15.0","22.1257"]]}}')
    assert nested.data.asks == [(Decimal("15.0"), Decimal("22.1257"))]
    with pytest.raises(DecodeError):  # only increments remove levels with ""
        peatio.decode('{"btcusd.ob-snap":{"asks":[["10.0",""]],"bids":[]}}')
    with pytest.raises(DecodeError):
        peatio.decode('{"btcusd.ob-inc":{"asks":["10.0"," "]}}')


def test_peatio_rango_string_error_is_a_text_error() -> None:
    msg = peatio.decode('{"error":"Could not parse Type: Invalid event"}')
    assert isinstance(msg.data, peatio.TextError)
    assert isinstance(msg.data, peatio.Error)
    assert msg.data.message == "Could not parse Type: Invalid event"
    assert peatio.encode(msg) == '{"error":"Could not parse Type: Invalid event"}'
    assert peatio.encode(peatio.decode('{"error":{"message":"x"}}')) == '{"error":{"message":"x"}}'


def test_peatio_global_tickers_both_forms() -> None:
    later = (
        '{"global.tickers":{"btcusd":{"at":"1626300000","avg_price":"0.0","high":"0.0","last":"0.0",'
        '"low":"0.0","open":"0.0","price_change_percent":"+0.00%","volume":"0.0","amount":"0.0"}}}'
    )
    msg = peatio.decode(later)
    assert msg.market is None
    ticker = msg.data["btcusd"]
    assert isinstance(ticker, peatio.Ticker)
    assert ticker.at == datetime(2021, 7, 14, 22, 0, tzinfo=UTC)
    assert ticker.price_change_percent == "+0.00%"
    assert json.loads(peatio.encode(msg)) == json.loads(later)  # "at" stays a string
    older = '{"global.tickers":{"ethusd":{"name":"ETH/USD","at":1537370580,"buy":"199.5","sell":"200.5"}}}'
    again = peatio.decode(older)
    assert again.data["ethusd"].buy == Decimal("199.5")
    assert json.loads(peatio.encode(again)) == json.loads(older)  # "at" stays an integer
    with pytest.raises(DecodeError):
        peatio.decode('{"global.tickers":{"btcusd":{"at":"16263e5"}}}')


def test_peatio_kline_numbers_are_exact_decimals() -> None:
    # openware/peatio docs/api/websocket_api.md (its example candle).
    frame = '{"btcusd.kline-15m":[1537370580,0.0839,0.0921,0.0781,0.0845,0.5895]}'
    msg = peatio.decode(frame)
    time, open_, _, _, close, volume = msg.data
    assert time == datetime(2018, 9, 19, 15, 23, tzinfo=UTC)
    assert (open_, close, volume) == (Decimal("0.0839"), Decimal("0.0845"), Decimal("0.5895"))
    assert peatio.encode(msg) == frame
    with pytest.raises(DecodeError):  # decimal strings are not k-line numbers
        peatio.decode('{"btcusd.kline-1m":[1537370580,"1","2","3","4","5"]}')
    with pytest.raises(DecodeError):  # a float never passes where a decimal string belongs
        peatio.decode('{"btcusd.trades":{"trades":[{"tid":1,"price":1.5,"amount":"1"}]}}')


def test_peatio_deposit_address_forms_and_public_trade_type() -> None:
    for payload in (
        '{"type":"create","attributes":{"currency":"btc","address":"2N4"}}',
        '{"type":"create","currency":"btc","address":"2N4"}',
        '{"type":"create","currencies":["eth","usdt"],"address":"0xab"}',
        '{"type":"create","currencies":["eth"],"blockchain_key":"eth-rinkeby","address":"0xab"}',
    ):
        frame = '{"deposit_address":' + payload + "}"
        assert json.loads(peatio.encode(peatio.decode(frame))) == json.loads(frame)


# -- the gateway's number parser is exact ---------------------------------------------------------

_REFERENCE = json.JSONDecoder(parse_float=Decimal)  # the standard library, exact by construction


@given(
    mantissa=st.integers(min_value=-(10**40), max_value=10**40),
    scale=st.integers(min_value=0, max_value=30),
    exponent=st.one_of(st.none(), st.integers(min_value=-400, max_value=400)),
)
@settings(max_examples=500, deadline=None, database=None)
def test_gateway_number_parser_agrees_with_exact_reference(
    mantissa: int, scale: int, exponent: int | None
) -> None:
    digits = str(abs(mantissa)).rjust(scale + 1, "0")
    literal = ("-" if mantissa < 0 else "") + (digits[:-scale] + "." + digits[-scale:] if scale else digits)
    if exponent is not None:
        literal += f"e{exponent}"
    frame = f'{{"price": {literal}, "list": [{literal}, 1]}}'
    ours = gateway.codec.loads(frame)
    reference = _REFERENCE.decode(frame)
    assert ours == reference
    assert [type(v) for v in ours["list"]] == [type(v) for v in reference["list"]]
    assert str(ours["price"]) == str(reference["price"])


# -- no frame ends a feed: depth, size and non-string tags (issue 9, defect 1) --------------------


def _nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


# Frames whose tag (or a value the codec keeps as it is) nests ~1000 deep: within what the JSON
# parsers take, beyond what repr, == and encode can walk.
_DEEP_TAGS = [
    (cryptology, '{"@type": %s}'),
    (cryptology, '{"_cls": %s}'),
    (cryptology, '{"@type": "NewThing", "x": %s}'),
    (onyx, '{"channel": %s, "message": 1, "message_type": 0}'),
    (onyx, '{"id": "1", "method": %s, "message": "ok", "error": false}'),
    (onyx, '{"id": "1", "method": "order", "message": %s, "error": false}'),
    (onyx, '{"channel": "dashboards", "message": {"a": %s}, "message_type": 1}'),
    (peatio, '{"event": %s}'),
    (peatio, '{"event": %s, "streams": []}'),
    (peatio, '{"btcusd.order": %s}'),  # a stream no model knows: kept as it is
    (peatio, '["btcusd.order", %s]'),  # the same in an array frame (peatio-core 0.4.x)
    (gateway, '{"channel": %s}'),
    (gateway, '{"event": %s}'),
    (gateway, '{"action": %s}'),
]


@pytest.mark.parametrize("depth", [65, 1000, 1023])
@pytest.mark.parametrize(("module", "template"), _DEEP_TAGS)
def test_deep_nesting_is_a_decode_error(module: Any, template: str, depth: int) -> None:
    with pytest.raises(DecodeError) as info:
        module.decode(template % _nested(depth))
    assert "nested" in info.value.reason


@pytest.mark.parametrize(("module", "template"), _DEEP_TAGS)
def test_nesting_within_the_limit_is_kept_and_usable(module: Any, template: str) -> None:
    # 63 levels of arrays inside the frame's own level(s): within MAX_DEPTH (64).
    msg = module.decode(template % _nested(63))
    assert "nested" not in repr(msg)  # repr works (and no error text in it)
    again = module.decode(module.encode(msg))
    assert again == msg


def test_deep_value_in_an_ignored_key_of_a_known_message_is_dropped() -> None:
    frame = '{"@type": "OrderNotFound", "order_id": 1, "x": DEEP}'.replace("DEEP", _nested(500))
    msg = cryptology.decode(frame)
    assert msg == cryptology.OrderNotFound(order_id=1)


@pytest.mark.parametrize(
    ("module", "frame"),
    [
        (cryptology, '{"@type": ["BuyOrderPlaced"]}'),
        (cryptology, '{"_cls": 5}'),
        (onyx, '{"channel": {"tickers": 1}, "message": 1}'),
        (onyx, '{"id": "1", "method": 7, "message": "ok", "error": false}'),
        (peatio, '{"event": ["subscribe"], "streams": []}'),
        (gateway, '{"channel": true}'),
        (gateway, '{"action": 1.5}'),
    ],
)
def test_non_string_tag_is_unknown_with_tag_none(module: Any, frame: str) -> None:
    msg = module.decode(frame)
    assert isinstance(msg, UnknownMessage)
    assert msg.tag is None
    assert json.loads(module.encode(msg)) == json.loads(frame)


def test_huge_non_string_tag_is_not_repr_d() -> None:
    # A megabyte-long tag value: unknown, quickly, and the tag is not a megabyte of repr text.
    frame = '{"@type": [' + ",".join(["1"] * 500_000) + "]}"
    msg = cryptology.decode(frame)
    assert isinstance(msg, UnknownMessage)
    assert msg.tag is None
    assert len(repr(msg)) < 200


# -- Onyx: replies to methods the schema does not model (defect 2) ------------------------------


def test_onyx_reply_to_an_unmodelled_method_is_unknown() -> None:
    frame = '{"id":"1","method":"order","message":"ok","error":false}'
    msg = onyx.decode(frame)
    assert isinstance(msg, UnknownMessage)
    assert msg.tag == "order"
    assert onyx.encode(msg) == frame


@pytest.mark.parametrize("method", ["auth", "subscribe", "unsubscribe"])
def test_onyx_replies_to_modelled_methods_stay_responses(method: str) -> None:
    msg = onyx.decode(f'{{"id":"1","method":"{method}","message":"ok","error":false}}')
    assert isinstance(msg, onyx.Response)
    assert msg.method == method


# -- explicit nulls round-trip (defect 4) -------------------------------------------------------

_MARKET_ORDER = '{"order":{"id":24,"state":"done","origin_volume":"0.2","ord_type":"market","price":null}}'


def test_peatio_explicit_null_is_written_back() -> None:
    msg = peatio.decode(_MARKET_ORDER)
    assert msg.data.price is None
    assert peatio.encode(msg) == _MARKET_ORDER  # same keys, same order


def test_peatio_absent_optional_stays_absent_and_equals_the_null_form() -> None:
    absent = _MARKET_ORDER.replace(',"price":null', "")
    msg = peatio.decode(absent)
    assert peatio.encode(msg) == absent
    # Present-as-null and absent mean the same: equal messages, equal reprs.
    assert msg == peatio.decode(_MARKET_ORDER)
    assert repr(msg) == repr(peatio.decode(_MARKET_ORDER))


def test_explicit_null_is_written_only_while_the_field_is_none() -> None:
    msg = peatio.decode(_MARKET_ORDER)
    msg.data.price = Decimal("1030.5")
    assert '"price":"1030.5"' in peatio.encode(msg)


def test_a_message_built_in_code_leaves_none_fields_out() -> None:
    order = peatio.Order(id=1, state="wait", origin_volume=Decimal("1"), price=None)
    assert "price" not in peatio.encode(peatio.StreamMessage(stream="order", data=order))


def test_explicit_null_of_a_non_nullable_optional_field_reads_as_absent() -> None:
    # `side` is optional but not nullable in the schema: a null there is the documented
    # leniency (read as absent), not a null to write back.
    msg = peatio.decode(_MARKET_ORDER.replace('"price":null', '"side":null'))
    assert msg.data.side is None
    assert '"side"' not in peatio.encode(msg)


def test_required_nullable_fields_are_always_written() -> None:
    msg = gateway.decode((FIXTURES / "gateway" / "17-positions-update.json").read_text())
    msg.data.stop_loss = None
    assert '"stop_loss":null' in gateway.encode(msg)


def test_every_nullable_optional_field_is_marked_and_its_class_remembers() -> None:
    # The template marks exactly the optional fields whose schema allows null, in every protocol.
    found = []
    for name in ("cryptology", "gateway", "onyx", "peatio"):
        for cls in model_classes(importlib.import_module(f"trio_feeds.models.{name}")):
            for a in attrs.fields(cls):
                if a.metadata.get("nullable"):
                    assert issubclass(cls, ExplicitNulls), cls
                    assert a.default is None
                    found.append(f"{cls.__name__}.{a.name}")
    assert "Order.price" in found
    assert "Order.avg_price" in found


# -- strict decimals and one integer range (defect 6) --------------------------------------------

BAD_DECIMALS = [
    " 1",
    "1 ",
    "1\n",
    "1_000",
    "\u0661\u0662\u0663.\u0664",  # Arabic-Indic digits
    "\uff11",  # a fullwidth digit
    "1e5",
    "1E5",
    ".5",
    "5.",
    "-.5",
    "+1",
    "NaN",
    "-Infinity",
    "",
]

# One frame per protocol with decimal strings, and the JSON paths of those decimals.
_DECIMAL_FIELDS = [
    (
        cryptology,
        '{"@type": "AnonymousTrade", "time": [1, 0], "trade_pair": "BTC_USD", "amount": "1", '
        '"price": "2", "maker_buy": false}',
        ["amount", "price"],
    ),
    (
        onyx,
        '{"channel": "tickers", "message": [{"symbol": "s", "timestamp_millis": 1, "mid": "1", '
        '"bid": {"price": "1", "amount": "2"}, "ask": {"price": "1", "amount": "2"}}], "message_type": 1}',
        ["message.0.mid", "message.0.bid.price", "message.0.ask.amount"],
    ),
    (
        peatio,
        '{"order": {"id": 1, "state": "wait", "origin_volume": "1", "price": "2", "avg_price": "3"}}',
        ["order.origin_volume", "order.price", "order.avg_price"],
    ),
    (
        peatio,
        '{"btcusd.trades": {"trades": [{"tid": 1, "taker_type": "buy", "price": "1", "amount": "2"}]}}',
        ["btcusd.trades.trades.0.price"],
    ),
]


def _set_path(obj: Any, dotted: str, value: Any) -> str:
    """JSON path text (as DecodeError spells it) of ``dotted`` after setting it to ``value``."""
    keys: list[Any] = []
    for part in dotted.split("."):
        keys.append(int(part) if part.isdigit() else part)
    if keys[0] == "btcusd" and keys[1] == "trades":  # the Ranger stream name has a dot
        keys[:2] = ["btcusd.trades"]
    target = obj
    for k in keys[:-1]:
        target = target[k]
    target[keys[-1]] = value
    path = "$"
    for k in keys:
        path += f"[{k}]" if isinstance(k, int) else (f'["{k}"]' if "." in k else f".{k}")
    return path


@pytest.mark.parametrize("bad", BAD_DECIMALS)
@pytest.mark.parametrize(("module", "frame", "fields"), _DECIMAL_FIELDS)
def test_decimal_strings_must_match_the_schema_pattern(
    module: Any, frame: str, fields: list[str], bad: str
) -> None:
    for dotted in fields:
        obj = json.loads(frame)
        path = _set_path(obj, dotted, bad)
        with pytest.raises(DecodeError) as info:
            module.decode(json.dumps(obj, ensure_ascii=False))
        assert info.value.path == path
        assert "decimal" in info.value.reason


@pytest.mark.parametrize("good", ["0", "-0", "007", "1.50", "-12.000001", "0.00000001", "1" * 60 + ".5"])
def test_decimal_strings_the_pattern_allows_decode_exactly(good: str) -> None:
    msg = peatio.decode(
        json.dumps({"order": {"id": 1, "state": "wait", "origin_volume": good, "price": good}})
    )
    assert msg.data.origin_volume == Decimal(good)
    assert msg.data.price == Decimal(good)
    assert str(msg.data.price) == str(Decimal(good))


def test_every_schema_spells_the_decimal_pattern_the_codec_checks() -> None:
    for name in ("cryptology", "onyx", "peatio"):
        text = (FIXTURES.parent.parent / "schemas" / f"{name}.json").read_text()
        patterns = set(re.findall(r'"pattern": "(\^-\?\[0-9\][^"]*)"', text))
        assert patterns == {"^" + DECIMAL_PATTERN.replace("\\", "\\\\") + "$"}, (name, patterns)


@pytest.mark.parametrize(
    ("value", "ok"),
    [(2**63 - 1, True), (-(2**63), True), (2**63, False), (-(2**63) - 1, False), (2**64 - 1, False)],
)
def test_integers_are_signed_64_bit_everywhere(value: int, ok: bool) -> None:
    # (Times are narrower: what a datetime holds; see test_time_*.)
    frames = [
        # a required integer
        (cryptology, f'{{"@type": "OrderNotFound", "order_id": {value}}}', "$.order_id"),
        # an optional one (the fused nullable hook)
        (
            peatio,
            f'{{"order": {{"id": 1, "state": "wait", "origin_volume": "1", "trades_count": {value}}}}}',
            "$.order.trades_count",
        ),
        # gateway (the exact-number parser)
        (gateway, f'{{"event": "error", "message": "x", "code": {value}, "timestamp": 1}}', "$.code"),
    ]
    for module, frame, path in frames:
        if ok:
            module.decode(frame)
        else:
            with pytest.raises(DecodeError) as info:
                module.decode(frame)
            assert info.value.path == path


def test_json_number_decimals_take_every_json_number_form() -> None:
    frame = (FIXTURES / "gateway" / "13-trades.json").read_text()
    for literal, value in [("1e5", "1E+5"), ("1E-7", "1E-7"), ("-0.0", "-0.0"), ("12", "12")]:
        msg = gateway.decode(frame.replace("42650.5", literal))
        assert msg.data.price == Decimal(value)
        assert gateway.decode(gateway.encode(msg)) == msg
    assert '"price":0.0000001' in gateway.encode(gateway.decode(frame.replace("42650.5", "1E-7")))


def test_json_number_with_a_giant_exponent_neither_escapes_nor_explodes() -> None:
    frame = (FIXTURES / "gateway" / "13-trades.json").read_text()
    # Beyond what Decimal holds: a DecodeError (it used to raise decimal.InvalidOperation).
    with pytest.raises(DecodeError) as info:
        gateway.decode(frame.replace("42650.5", "1e99999999999999999999"))
    assert "out of range" in info.value.reason
    # Within it: decoded, and encoded with an exponent instead of a billion zeros.
    msg = gateway.decode(frame.replace("42650.5", "1e999999999"))
    assert msg.data.price == Decimal("1E+999999999")
    assert '"price":1E+999999999' in gateway.encode(msg)


@pytest.mark.parametrize(
    ("time", "ok"),
    [("[0, 0]", True), ("[253402300799, 999999]", True), ("[-1, 0]", False), ("[253402300800, 0]", False)],
)
def test_time_pairs_stay_within_the_schema_range(time: str, ok: bool) -> None:
    frame = f'{{"@type": "SetBalance", "balance": "0", "change": "0", "currency": "B", "reason": "x", "time": {time}}}'
    if ok:
        cryptology.decode(frame)
    else:
        with pytest.raises(DecodeError) as info:
            cryptology.decode(frame)
        assert info.value.path == "$.time"


def test_schema_minimum_is_checked() -> None:
    def frame(age: int) -> str:
        info = {"uid": "u", "timestamp": "2024-06-11T09:15:30Z", "age_millis": age}
        return json.dumps({"channel": "server_info", "message": info, "message_type": 0})

    assert onyx.decode(frame(0)).message.age_millis == 0
    with pytest.raises(DecodeError) as info:
        onyx.decode(frame(-1))
    assert info.value.path == "$.message.age_millis"


def test_schema_minimum_applies_to_the_wire_value_of_a_time() -> None:
    # Onyx's ticker time is milliseconds >= 0 on the wire; decoded, it is a datetime.
    ticker = {"symbol": "s", "bid": {"price": "1", "amount": "1"}, "ask": {"price": "1", "amount": "1"}}
    frame = {"channel": "tickers", "message": [ticker], "message_type": 1}
    ticker["timestamp_millis"] = 0
    assert onyx.decode(json.dumps(frame)).message[0].timestamp == datetime(1970, 1, 1, tzinfo=UTC)
    ticker["timestamp_millis"] = -1
    with pytest.raises(DecodeError) as info:
        onyx.decode(json.dumps(frame))
    assert info.value.path == "$.message[0].timestamp_millis"
    assert "at least 0" in info.value.reason


def test_schema_pattern_is_checked_without_quoting_the_value() -> None:
    assert isinstance(peatio.decode('{"jwt": "Bearer abc.def"}'), peatio.AuthRequest)
    for bad in ("Basic SECRET-abc", "Bearer SECRET-abc\n", "Bearer "):
        with pytest.raises(DecodeError) as info:
            peatio.decode(json.dumps({"jwt": bad}))
        assert info.value.path == "$.jwt"
        assert "SECRET" not in str(info.value)


# -- binary frames on text protocols (defect 12) --------------------------------------------------


@pytest.mark.parametrize("module", [cryptology, onyx, peatio, gateway])
def test_binary_frame_is_named_as_such(module: Any) -> None:
    with pytest.raises(DecodeError) as info:
        module.decode(b"\xff\xfe\x00garbage")
    assert info.value.reason == "binary frame (10 bytes) where this protocol sends text: not UTF-8 text"
    with pytest.raises(DecodeError) as info:
        module.decode(b'{"x": ')
    assert info.value.reason.startswith(
        "binary frame (6 bytes) where this protocol sends text: malformed JSON"
    )


@pytest.mark.parametrize("module", [cryptology, onyx, peatio, gateway])
def test_text_with_a_lone_surrogate_says_so(module: Any) -> None:
    with pytest.raises(DecodeError) as info:
        module.decode('{"x": "\ud800"}')
    assert info.value.reason == "text holds a lone surrogate at character 7"


_TRICKY = [
    *"0123456789.-+eE_ \t\n",
    "\u00a0",
    "\u2003",
    "\u0661",
    "\uff11",
    "\u00b2",
    "N",
    "a",
    "I",
    "n",
    "f",
    "s",
]
# The schema's own pattern, with JSON Schema's meaning of `$` (the end of the text).
_SCHEMA_DECIMAL = re.compile(
    json.loads((FIXTURES.parent.parent / "schemas" / "peatio.json").read_text())["$defs"]["DecimalString"][
        "pattern"
    ].removesuffix("$")
    + r"\Z"
)
_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=5)
_VALID_DECIMAL = st.builds(
    lambda minus, whole, fraction: (
        ("-" if minus else "") + whole + ("" if fraction is None else "." + fraction)
    ),
    st.booleans(),
    _DIGITS,
    st.none() | _DIGITS,
)


@st.composite
def _near_misses(draw: st.DrawFn) -> str:
    """A valid decimal string with one character inserted, replaced or removed."""
    text = draw(_VALID_DECIMAL)
    i = draw(st.integers(0, len(text)))
    c = draw(st.sampled_from(_TRICKY))
    how = draw(st.sampled_from(["insert", "replace", "remove"]))
    if how == "insert":
        return text[:i] + c + text[i:]
    if how == "replace":
        return text[:i] + c + text[i + 1 :]
    return text[:i] + text[i + 1 :]


@pytest.mark.slow
@given(
    text=st.one_of(st.text(alphabet=st.sampled_from(_TRICKY), max_size=10), _VALID_DECIMAL, _near_misses())
)
@settings(max_examples=600, deadline=None, database=None)
def test_decimal_string_check_is_exactly_the_schema_pattern(text: str) -> None:
    expected = _SCHEMA_DECIMAL.search(text) is not None
    for hook in (_decimal_from_string, _nullable(_decimal_from_string)):
        assert hook is not None
        try:
            value = hook(text, Decimal)
        except ValueError:
            assert not expected, text
        else:
            assert expected, text
            assert value == Decimal(text)


@given(
    text=st.one_of(st.text(alphabet=st.sampled_from(_TRICKY), max_size=10), _VALID_DECIMAL, _near_misses())
)
@settings(max_examples=600, deadline=None, database=None)
def test_the_emitted_hooks_take_exactly_the_decimal_strings_of_the_pattern(text: str) -> None:
    # Each model's fast hook tests decimal strings inline (without calling the scalar hook):
    # a frame must decode exactly when the pattern allows its decimal, to the same value.
    expected = _SCHEMA_DECIMAL.search(text) is not None
    frame = {
        "@type": "AnonymousTrade",
        "time": [1530093825, 250],
        "trade_pair": "BTC_USD",
        "current_order_id": 1,
        "amount": text,
        "price": "1.5",
        "maker_buy": False,
    }
    try:
        message = cryptology.decode(json.dumps(frame))
    except DecodeError as exc:
        assert not expected, text
        assert exc.path == "$.amount"
    else:
        assert expected, text
        assert message.amount == Decimal(text)  # type: ignore[union-attr]


@given(keys=st.lists(st.one_of(_VALID_DECIMAL, _near_misses()), min_size=1, max_size=5, unique=True))
@settings(max_examples=400, deadline=None, database=None)
def test_book_price_keys_are_taken_exactly_when_the_pattern_allows_each(keys: list[str]) -> None:
    # OrderBookAgg's keys are checked all at once (one regex over the joined keys).
    expected = all(_SCHEMA_DECIMAL.search(k) is not None for k in keys)
    frame = {"@type": "OrderBookAgg", "trade_pair": "X", "buy_levels": dict.fromkeys(keys, "1")}
    try:
        message = cryptology.decode(json.dumps(frame))
    except DecodeError as exc:
        assert not expected, keys
        assert "buy_levels: price not a decimal string" in exc.reason
    else:
        assert expected, keys
        assert list(message.buy_levels) == keys  # type: ignore[union-attr]


_ANY_DECIMALISH = st.one_of(
    st.text(alphabet=st.sampled_from(_TRICKY), max_size=8), _VALID_DECIMAL, _near_misses()
)


@pytest.mark.slow
@given(values=st.lists(st.one_of(_VALID_DECIMAL, _ANY_DECIMALISH), max_size=6))
@settings(max_examples=600, deadline=None, database=None)
def test_book_side_check_agrees_with_the_one_by_one_check(values: list[str]) -> None:
    # Book sides are checked at once (decimals_from_strings); the result must be the hook's.
    expected: list[Decimal] | None = []
    for v in values:
        if _SCHEMA_DECIMAL.search(v) is None:
            expected = None
            break
        assert expected is not None
        expected.append(Decimal(v))
    assert decimals_from_strings(values) == expected


@pytest.mark.parametrize("bad", BAD_DECIMALS)
def test_a_bad_decimal_in_a_book_side_is_found_at_its_path(bad: str) -> None:
    levels = [["1", "2"], ["3", "4"], ["5", "6"]]
    levels[1][1] = bad
    frame = json.dumps({"btcusd.ob-snap": {"asks": levels, "bids": []}})
    with pytest.raises(DecodeError) as info:
        peatio.decode(frame)
    assert info.value.path == '$["btcusd.ob-snap"].asks[1][1]'
    book = {"@type": "OrderBookAgg", "buy_levels": {"1": "1", "2": bad}, "sell_levels": {}, "trade_pair": "X"}
    with pytest.raises(DecodeError) as info:
        cryptology.decode(json.dumps(book))
    assert info.value.path == '$.buy_levels["2"]'


def test_a_model_encodes_with_wire_names_before_anything_was_decoded(tmp_path: Any) -> None:
    # Hooks are made on first use. An encode that comes first (a test server's first answer)
    # must still find the nested model's wire names: Onyx's ResponseDetail is {"Message": ...}.
    # A fresh interpreter: in this one, earlier tests have made the hooks already.
    import subprocess
    import sys

    code = (
        "from trio_feeds._codecs import onyx\n"
        "from trio_feeds.models.onyx import Response, ResponseDetail\n"
        "print(onyx.codec.encode(Response(id='1', method='auth', message=ResponseDetail(text='ok'), error=False)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60, cwd=tmp_path
    )
    assert json.loads(proc.stdout) == {
        "id": "1",
        "method": "auth",
        "message": {"Message": "ok"},
        "error": False,
    }
