"""One type to match, the wire form kept for ``encode``.

Cryptology: each message is one concept class (``BuyOrderPlaced``) whose two wire forms (``_cls``
and ``@type``) are subclasses; matching the concept catches both, ``encode`` writes back the form
that came in. Times, in all four protocols: every point in time decodes to an aware UTC
``datetime``, and ``encode`` writes back the exact wire value (integer, pair or ISO text).
"""

from __future__ import annotations

import copy
import json
import pickle
import typing
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests._fixtures import fixture_text, load_json, manifest, schema
from trio_feeds import DecodeError, cryptology, gateway, onyx, peatio
from trio_feeds import _types as times
from trio_feeds.models import cryptology as cryptology_models

# -- Cryptology: concepts and their wire forms ---------------------------------------------------

_DEFS: dict[str, Any] = schema("cryptology")["$defs"]
_FORMS = {name: d["allOf"][0]["$ref"].rsplit("/", 1)[1] for name, d in _DEFS.items() if "allOf" in d}
_CONCEPTS = sorted(set(_FORMS.values()))
_TAG_KEYS = ("_cls", "@type")


def _tags(cls: type) -> list[str]:
    return [a.metadata.get("wire", a.name) for a in attrs.fields(cls) if a.metadata.get("tag")]


def test_every_paired_message_is_one_concept_with_two_form_subclasses() -> None:
    assert len(_CONCEPTS) == 11
    for concept_name in _CONCEPTS:
        concept = getattr(cryptology, concept_name)
        forms = sorted(name for name, c in _FORMS.items() if c == concept_name)
        assert forms == sorted([f"{concept_name}Message", f"{concept_name}V2"])
        assert _tags(concept) == [], "a concept declares no tag: its forms do"
        for name in forms:
            form = getattr(cryptology, name)
            assert issubclass(form, concept)
            assert _tags(form) == ["_cls" if name.endswith("Message") else "@type"]


def test_every_decodable_class_is_a_form_or_a_single_later_message() -> None:
    union = typing.get_args(cryptology.ServerMessage)
    singles = {cls.__name__ for cls in union} - set(_FORMS)
    assert singles == {
        "OwnTrade",
        "OrderNotFound",
        "InsufficientFunds",
        "DepositTransactionAccepted",
        "WithdrawalTransactionAccepted",
        "TradesDisabledOnPairs",
        "TradesEnabledOnPairs",
        "UserOrdersResponse",
        "UserBalanceResponse",
    }
    assert not set(typing.get_args(cryptology.ClientMessage)) & set(union)
    for cls in union:
        assert len(_tags(cls)) == 1


def test_a_concept_field_is_declared_in_one_place() -> None:
    """Form defs add their tag and nothing else, except ``time`` where the forms' units differ:
    a field added to a concept's def reaches both forms."""
    for name, concept_name in _FORMS.items():
        props = set(_DEFS[name]["properties"])
        tag = {"_cls", "@type"} & props
        assert len(tag) == 1, name
        extra = props - tag
        if extra:
            assert extra == {"time"}, name
            assert _DEFS[concept_name]["properties"]["time"] == {"$ref": "#/$defs/PairTime"}, name


def _fixtures_of(class_name: str) -> list[str]:
    """Every fixture's text of this class (a template's valid instance, as JSON)."""
    return [
        json.dumps(e["instance"]) if e.get("template") else fixture_text("cryptology", e)
        for e in manifest("cryptology")
        if e["class"] == class_name
    ]


@pytest.mark.parametrize("concept_name", _CONCEPTS)
def test_both_forms_decode_to_the_concept_and_encode_back_exactly(concept_name: str) -> None:
    concept = getattr(cryptology, concept_name)
    for form_name in (f"{concept_name}Message", f"{concept_name}V2"):
        texts = _fixtures_of(form_name)
        assert texts, form_name
        for text in texts:
            msg = cryptology.decode(text)
            assert isinstance(msg, concept)
            assert type(msg) is getattr(cryptology, form_name)
            wire = load_json(text)
            (key,) = (k for k in _TAG_KEYS if k in wire)
            again = load_json(cryptology.encode(msg))
            assert [k for k in _TAG_KEYS if k in again] == [key]
            assert again[key] == wire[key]
            if "time" in wire and len(wire["time"]) == 2:
                assert again["time"] == wire["time"]
            expected = [
                e.get("encoded") for e in manifest("cryptology") if fixture_text("cryptology", e) == text
            ]
            assert again == (load_json(json.dumps(expected[0])) if expected and expected[0] else wire)


def test_the_time_unit_is_the_forms() -> None:
    body = '"amount":"1","maker_buy":true,"price":"2","time":[946684800,250],"trade_pair":"BTC_USD"'
    legacy = cryptology.decode('{"_cls":"AnonymousTradeMessage",' + body + "}")
    later = cryptology.decode('{"@type":"AnonymousTrade",' + body + "}")
    assert isinstance(legacy, cryptology.AnonymousTrade)
    assert isinstance(later, cryptology.AnonymousTrade)
    assert legacy.time == datetime(2000, 1, 1, 0, 0, 0, 250, tzinfo=UTC)  # microseconds
    assert later.time == datetime(2000, 1, 1, 0, 0, 0, 250_000, tzinfo=UTC)  # milliseconds
    assert cryptology.encode(legacy) == '{"_cls":"AnonymousTradeMessage",' + body + "}"
    assert cryptology.encode(later) == '{"@type":"AnonymousTrade",' + body + "}"


def test_one_match_arm_catches_both_forms() -> None:
    seen = []
    texts = _fixtures_of("BuyOrderPlacedMessage") + _fixtures_of("BuyOrderPlacedV2")
    for text in texts:
        match cryptology.decode(text):
            case cryptology.BuyOrderPlaced(order_id=order_id, time=time):
                seen.append((order_id, time.tzinfo))
            case other:
                pytest.fail(f"not matched: {other!r}")
    assert len(seen) == len(texts) >= 2
    assert all(tz is UTC for _, tz in seen)


def test_a_concept_alone_cannot_be_encoded() -> None:
    msg = cryptology.OrderBookAgg(buy_levels={}, sell_levels={}, trade_pair="BTC_USD")
    with pytest.raises(TypeError, match="OrderBookAggMessage, OrderBookAggV2"):
        cryptology.encode(msg)
    built = cryptology.OrderBookAggV2(buy_levels={}, sell_levels={}, trade_pair="BTC_USD", current_order_id=7)
    assert cryptology.encode(built) == (
        '{"@type":"OrderBookAgg","trade_pair":"BTC_USD","buy_levels":{},"sell_levels":{},"current_order_id":7}'
    )
    # A side may be absent (the official client reads it as empty): encoded absent too.
    sideless = cryptology.OrderBookAggV2(trade_pair="BTC_USD")
    assert cryptology.encode(sideless) == '{"@type":"OrderBookAgg","trade_pair":"BTC_USD"}'


def test_concepts_are_exported_and_documented() -> None:
    for name in _CONCEPTS:
        assert name in cryptology.__all__
        assert getattr(cryptology, name).__doc__
    assert set(cryptology_models.__dict__) >= set(_CONCEPTS)


# -- times: one type, the wire value kept -----------------------------------------------------------

_TIME_TYPES = (
    datetime,
    times.MicrosTime,
    times.MillisTime,
    times.EpochMillis,
    times.EpochSeconds,
    times.IsoOrEpochSeconds,
    times.EpochSecondsOrDigits,
)
_TIME_NAMES = {"time", "timestamp", "timestamp_millis", "date", "at"}


def _model_classes() -> list[type]:
    from trio_feeds.models import cryptology, gateway, onyx, peatio

    return [
        obj
        for module in (cryptology, gateway, onyx, peatio)
        for obj in vars(module).values()
        if isinstance(obj, type) and attrs.has(obj) and obj.__module__ == module.__name__
    ]


def _is_time(annotation: Any) -> bool:
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    return all(a in _TIME_TYPES for a in args)


def test_every_time_field_has_a_time_type() -> None:
    """A field named like a time (``timestamp``, ``created_at``, ...) is a datetime, never an int."""
    found = 0
    for cls in _model_classes():
        hints = typing.get_type_hints(cls)
        for a in attrs.fields(cls):
            wire = a.metadata.get("wire", a.name)
            if wire in _TIME_NAMES or wire.endswith("_at"):
                assert _is_time(hints[a.name]), f"{cls.__name__}.{a.name}: {hints[a.name]}"
                found += 1
    assert found > 40


def _times_in(value: Any) -> list[datetime]:
    if isinstance(value, datetime):
        return [value]
    if attrs.has(type(value)):
        return [t for a in attrs.fields(type(value)) for t in _times_in(getattr(value, a.name))]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _times_in(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _times_in(v)]
    return []


@pytest.mark.parametrize("protocol", ["cryptology", "gateway", "onyx", "peatio"])
def test_every_decoded_time_is_aware_utc(protocol: str) -> None:
    module = {"cryptology": cryptology, "gateway": gateway, "onyx": onyx, "peatio": peatio}[protocol]
    count = 0
    for entry in manifest(protocol):
        text = json.dumps(entry["instance"]) if entry.get("template") else fixture_text(protocol, entry)
        for t in _times_in(module.decode(text)):
            assert t.tzinfo is UTC, (entry["file"], t)
            count += 1
    assert count > 0


_ISO_TEXTS = [
    "2024-06-11T09:15:30Z",
    "2024-06-11T09:15:30.123Z",
    "2024-06-11T09:15:30.123456Z",
    "2024-06-11T09:15:30.000Z",  # canonical would drop the zero fraction
    "2024-06-11T09:15:30.1Z",
    "2024-06-11T09:15:30.1234567Z",  # beyond microseconds: the datetime truncates, the text stays
    "2024-06-11T09:15:30+00:00",
    "2024-06-11T11:15:30+02:00",
    "2024-06-11T03:45:30-05:30",
    "2024-06-11T09:15:30",  # no offset: UTC, as every protocol here documents
    "2024-06-11 09:15:30Z",
]


@pytest.mark.parametrize("text", _ISO_TEXTS)
def test_iso_text_decodes_to_utc_and_encodes_back_exactly(text: str) -> None:
    frame = f'{{"channel":"server_info","message":{{"uid":"u1","timestamp":"{text}","age_millis":1}},"message_type":0}}'

    msg = onyx.decode(frame)
    assert isinstance(msg, onyx.ServerInfoEvent)
    ts = msg.message.timestamp
    assert ts.tzinfo is UTC
    assert ts.replace(microsecond=0) == datetime(2024, 6, 11, 9, 15, 30, tzinfo=UTC)
    assert onyx.encode(msg) == frame
    assert repr(ts).startswith("datetime.datetime(2024, 6, 11, 9, 15, 30")


_OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))])


@given(
    moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_OFFSETS),
    timespec=st.sampled_from(["auto", "seconds", "milliseconds", "microseconds"]),
    zulu=st.booleans(),
)
@settings(max_examples=300, deadline=None, database=None)
def test_any_iso_text_round_trips_and_only_non_canonical_text_is_remembered(
    moment: datetime, timespec: str, zulu: bool
) -> None:
    text = moment.isoformat(timespec=timespec)
    if zulu:
        text = text.replace("+00:00", "Z")
    frame = f'{{"channel":"server_info","message":{{"uid":"u","timestamp":"{text}","age_millis":1}},"message_type":0}}'
    msg = onyx.decode(frame)
    ts = msg.message.timestamp
    assert ts.tzinfo is UTC
    assert ts == moment.replace(microsecond=ts.microsecond)  # isoformat may have cut the fraction
    assert onyx.encode(msg) == frame
    # A plain datetime exactly when encode would write this very text anyway.
    canonical = onyx.encode(
        attrs.evolve(
            msg, message=attrs.evolve(msg.message, timestamp=datetime.combine(ts.date(), ts.timetz()))
        )
    )
    assert (type(ts) is datetime) == (canonical == frame)


def test_canonical_iso_text_gives_a_plain_datetime() -> None:
    msg = onyx.decode(
        '{"channel":"server_info","message":{"uid":"u1","timestamp":"2024-06-11T09:15:30.123Z",'
        '"age_millis":1},"message_type":0}'
    )
    assert type(msg.message.timestamp) is datetime


def test_an_instant_outside_utc_range_keeps_its_offset() -> None:
    frame = (
        '{"channel":"server_info","message":{"uid":"u1","timestamp":"0001-01-01T00:30:00+01:00",'
        '"age_millis":1},"message_type":0}'
    )
    msg = onyx.decode(frame)
    assert msg.message.timestamp.utcoffset() == timedelta(hours=1)
    assert onyx.encode(msg) == frame


def test_derived_and_hand_built_times_are_plain_and_written_canonically() -> None:
    frame = '{"order":{"id":1,"state":"wait","origin_volume":"1","created_at":"2019-01-29T10:17:44+01:00"}}'
    msg = peatio.decode(frame)
    decoded = msg.data.created_at
    assert decoded is not None
    for derived in (
        decoded + timedelta(0),
        decoded - timedelta(0),
        decoded.replace(),
        decoded.astimezone(timezone(timedelta(hours=1))),
    ):
        assert type(derived) is datetime
        assert derived == decoded
    shifted = attrs.evolve(msg.data, created_at=peatio.IsoOrEpochSeconds(decoded + timedelta(seconds=1)))
    assert '"created_at":"2019-01-29T09:17:45Z"' in peatio.encode(attrs.evolve(msg, data=shifted))
    built = attrs.evolve(msg.data, created_at=peatio.sent_as_epoch_seconds(1548753464))
    assert '"created_at":1548753464' in peatio.encode(attrs.evolve(msg, data=built))


def test_remembered_times_survive_pickle_and_copy() -> None:
    frame = '{"order":{"id":1,"state":"wait","origin_volume":"1","created_at":1548753464,"at":1548753464}}'
    msg = peatio.decode(frame)
    for again in (pickle.loads(pickle.dumps(msg)), copy.deepcopy(msg), copy.copy(msg)):
        assert again == msg
        assert peatio.encode(again) == frame


@pytest.mark.parametrize(
    "created_at", ['"2019-01-29T10:17:44+01:00"', "1548753464", '"2019-01-29T09:17:44Z"', "0", "-1"]
)
def test_peatio_time_keeps_the_form_it_came_in(created_at: str) -> None:
    frame = (
        '{"btcusd.trades":{"trades":[{"tid":7,"price":"9421.5","amount":"0.01","taker_type":"buy",'
        f'"date":1559903600,"created_at":{created_at}}}]}}}}'
    )
    msg = peatio.decode(frame)
    trade = msg.data.trades[0]
    assert trade.date == datetime(2019, 6, 7, 10, 33, 20, tzinfo=UTC)
    assert trade.created_at is not None
    assert trade.created_at.tzinfo is UTC
    assert peatio.encode(msg) == frame


def test_gateway_timestamps_are_datetimes_written_as_the_same_integer() -> None:
    frame = (
        '{"channel":"trades","exchange":"binance","symbol":"BTCUSDT","data":{"id":"1","price":1,"amount":1,'
        '"side":"buy","timestamp":1647356789123},"timestamp":1647356789124}'
    )
    msg = gateway.decode(frame)
    assert isinstance(msg, gateway.TradesMessage)
    assert msg.data.timestamp == datetime(2022, 3, 15, 15, 6, 29, 123_000, tzinfo=UTC)
    assert msg.timestamp - msg.data.timestamp == timedelta(milliseconds=1)
    assert gateway.encode(msg) == frame
    assert gateway.to_epoch_millis(msg.timestamp) == 1647356789124


def test_hand_built_millisecond_times_floor_to_the_millisecond() -> None:
    ping = gateway.PingEvent(
        timestamp=gateway.EpochMillis(datetime(2022, 3, 15, 15, 6, 29, 123_999, tzinfo=UTC))
    )
    assert gateway.encode(ping) == '{"event":"ping","timestamp":1647356789123}'
    early = gateway.PingEvent(timestamp=gateway.from_epoch_millis(-1))
    assert early.timestamp == datetime(1969, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)
    assert gateway.encode(early) == '{"event":"ping","timestamp":-1}'


@pytest.mark.parametrize("value", [1647356789123, datetime(2022, 3, 15, 15, 6, 29)])
def test_encoding_a_time_field_takes_an_aware_datetime(value: Any) -> None:
    with pytest.raises(TypeError, match=r"takes an aware datetime, not (int|a naive datetime)"):
        gateway.encode(gateway.PingEvent(timestamp=value))


@pytest.mark.parametrize(
    ("frame", "path"),
    [
        ('{"event":"ping","timestamp":253402300800000}', "$.timestamp"),  # after year 9999
        ('{"event":"ping","timestamp":-62135596800001}', "$.timestamp"),  # before year 1
        ('{"event":"ping","timestamp":true}', "$.timestamp"),
        ('{"event":"ping","timestamp":"1647356789123"}', "$.timestamp"),
        ('{"event":"ping","timestamp":1647356789123.5}', "$.timestamp"),
    ],
)
def test_bad_epoch_times_are_decode_errors(frame: str, path: str) -> None:
    with pytest.raises(DecodeError) as info:
        gateway.decode(frame)
    assert info.value.path == path


@given(st.lists(st.integers(min_value=-62135596800000, max_value=253402300799999), min_size=1, max_size=20))
@settings(max_examples=200, deadline=None, database=None)
def test_epoch_millis_are_exact_whatever_the_order(values: list[int]) -> None:
    """The hook keeps the last whole second: any sequence of values must still be exact."""
    for ms in values:
        msg = gateway.decode(f'{{"event":"ping","timestamp":{ms}}}')
        assert msg.timestamp == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
        assert gateway.encode(msg) == f'{{"event":"ping","timestamp":{ms}}}'


def test_onyx_ticker_time_attribute_keeps_its_wire_name() -> None:
    frame = (
        '{"channel":"tickers","message":[{"symbol":"brtsep24","timestamp_millis":1718097330123,'
        '"bid":{"price":"81.25","amount":"10"},"ask":{"price":"81.30","amount":"5"}}],"message_type":1}'
    )
    msg = onyx.decode(frame)
    assert isinstance(msg, onyx.TickersEvent)
    assert msg.message[0].timestamp == datetime(2024, 6, 11, 9, 15, 30, 123_000, tzinfo=UTC)
    assert onyx.encode(msg) == frame


def test_money_is_untouched_by_the_time_hooks() -> None:
    # The gateway's JSON numbers and the times share one converter: a Decimal stays a Decimal.
    msg = gateway.decode('{"event":"ping","timestamp":1}')
    assert msg.timestamp == datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)
    trade = gateway.decode(
        '{"channel":"trades","exchange":"x","symbol":"y","data":{"id":"1","price":0.1,"amount":1,'
        '"side":"buy","timestamp":1},"timestamp":1}'
    )
    assert trade.data.price == Decimal("0.1")
