"""The Onyx conformance fixtures say what they are, and the new wire forms decode as documented."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests._fixtures import fixture_text, manifest
from trio_feeds import DecodeError, onyx

ENTRIES = manifest("onyx")


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_every_onyx_fixture_says_what_it_is(entry: dict[str, str]) -> None:
    assert len(entry.get("note", "")) > 20, "each Onyx fixture says what is copied and what is ours"
    source = entry["source"]
    if source.startswith("Onyx-Capital-Technology/"):
        # A public source names the file and the commit it was read at.
        assert re.fullmatch(r"Onyx-Capital-Technology/[\w.-]+ [\w./-]+@[0-9a-f]{7,40}", source), source


def _entry(name: str) -> dict[str, str]:
    return next(e for e in ENTRIES if e["file"] == name)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("16-response-object-message.json", "subscribed to server_info"),
        ("24-response-unsubscribed-object.json", "unsubscribed from server_info"),
        ("26-response-auth-required.json", "authentication required for method subscribe"),
        ("27-response-already-subscribed.json", "already subscribed to dashboards"),
        ("28-response-no-products.json", "no products specified"),
        ("29-response-subscribed-tickers.json", "subscribed to tickers for product dub"),
    ],
)
def test_object_form_replies_copied_from_the_clients_tests(name: str, text: str) -> None:
    entry = _entry(name)
    assert "/tests/" in "/" + entry["source"].split(" ", 1)[1]
    msg = onyx.decode(fixture_text("onyx", entry))
    assert isinstance(msg, onyx.Response)
    assert msg.message == onyx.ResponseDetail(text=text)


def test_string_form_reply_of_early_2024() -> None:
    msg = onyx.decode(fixture_text("onyx", _entry("25-response-string-subscribed.json")))
    assert isinstance(msg, onyx.Response)
    assert msg.message == "subscribed to server_info"


def test_server_info_without_offset_and_fractional_age() -> None:
    text = fixture_text("onyx", _entry("30-server-info-event-no-offset.json"))
    msg = onyx.decode(text)
    assert isinstance(msg, onyx.ServerInfoEvent)
    assert msg.message.timestamp == datetime(2024, 6, 11, 9, 15, 35, 127981, tzinfo=UTC)
    assert msg.message.age_millis == 10008.25
    encoded = onyx.encode(msg)
    assert '"timestamp":"2024-06-11T09:15:35.127981"' in encoded  # written back without an offset
    assert '"age_millis":10008.25' in encoded


def _server_info(age: str) -> str:
    return (
        '{"channel": "server_info", "message": {"uid": "u", "timestamp": "2024-06-11T09:15:35Z",'
        f' "age_millis": {age}}}, "message_type": 0}}'
    )


@pytest.mark.parametrize(
    ("age", "value"), [("10008", 10008), ("0", 0), ("10008.5", 10008.5), ("1.5e3", 1500.0), ("7E-1", 0.7)]
)
def test_age_millis_is_any_json_number(age: str, value: float) -> None:
    msg = onyx.decode(_server_info(age))
    assert isinstance(msg, onyx.ServerInfoEvent)
    assert msg.message.age_millis == value
    assert type(msg.message.age_millis) is type(value)  # an integer stays an int
    assert onyx.decode(onyx.encode(msg)) == msg


@pytest.mark.parametrize("age", ["true", '"10008"', "null", "[1]", "1" + "0" * 400])
def test_age_millis_refuses_what_is_no_number(age: str) -> None:
    with pytest.raises(DecodeError, match="age_millis"):
        onyx.decode(_server_info(age))
