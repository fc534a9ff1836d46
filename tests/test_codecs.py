"""Spot checks of decoded values, strictness and error reporting, protocol by protocol."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests._fixtures import FIXTURES
from trio_feeds import DecodeError, UnknownMessage, cryptology, gateway, onyx, peatio

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
