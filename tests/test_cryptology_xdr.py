"""Cryptology's binary XDR form: the framing, the protocol's handling of every frame, live feeds.

The framing follows the official client (CryptologyExchange/cryptology-client-python at
``ba206b1``, ``market_data_client.py``, ``common.py``, ``client.py``); byte-level examples are
built by hand here from that description, never by the code under test.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from tests._fake_protocol import FakeProtocol, open_fake_feed
from trio_feeds import DecodeError, UnknownMessage, cryptology
from trio_feeds import events as ev
from trio_feeds._sansio._protocol import Action, BadFrame, Deliver, HeartbeatPolicy, Notify
from trio_feeds.config import FeedConfig
from trio_feeds.cryptology import CryptologyProtocol, xdr
from trio_feeds.testing import open_cryptology_server
from trio_feeds.transports import FastTransport, Transport, TrioWebsocketTransport

pytest_plugins = ["trio_feeds.testing.pytest_plugin"]

WAIT = 5.0

BOOK = '{"@type":"OrderBookAgg","buy_levels":{"1":"1"},"sell_levels":{"0.1":"1"},"trade_pair":"BTC_USD","current_order_id":123456}'
TRADE = (
    '{"@type":"AnonymousTrade","time":[1530093825,250],"trade_pair":"BTC_USD","current_order_id":7,'
    '"amount":"42.42","price":"555","maker_buy":false}'
)


def broadcast(text: str | bytes) -> bytes:
    """A type-4 frame, built by hand: enum 4, uint32 length, the bytes, zero padding."""
    data = text.encode() if isinstance(text, str) else text
    return struct.pack(">iI", 4, len(data)) + data + b"\x00" * (-len(data) % 4)


VERSION_1 = b"\x00\x00\x00\x01"


# -- the framing ------------------------------------------------------------------------------


def test_broadcast_bytes_match_the_hand_built_frame() -> None:
    frame = xdr.pack_broadcast(BOOK)
    assert len(BOOK) == 122
    assert len(frame) == 132  # 4 type + 4 length + 122 data + 2 pad
    assert frame[:8] == bytes.fromhex("0000000400 00007a".replace(" ", ""))
    assert frame[-2:] == b"\x00\x00"
    assert frame == broadcast(BOOK)
    assert xdr.pack_broadcast("{}") == bytes.fromhex("00000004000000027b7d0000")
    assert xdr.unpack(frame) == xdr.Broadcast(BOOK.encode())


def test_every_message_type_round_trips() -> None:
    frames = {
        xdr.pack_outbox(12, 1530093825.5, "{}"): xdr.Outbox(12, 1530093825.5, b"{}"),
        xdr.pack_rpc_response(-1, '{"@type":"UserBalanceRequest"}'): xdr.RpcResponse(
            -1, b'{"@type":"UserBalanceRequest"}'
        ),
        xdr.pack_error(2, "invalid payload"): xdr.ServerError(2, "invalid payload"),
        xdr.pack_throttling(5, 2**40, 7): xdr.Throttling(5, 2**40, 7),
        xdr.pack_broadcast(b"abc"): xdr.Broadcast(b"abc"),
    }
    for frame, expected in frames.items():
        assert len(frame) % 4 == 0
        assert xdr.unpack(frame) == expected
    assert xdr.ServerError(2, "").kind == "INVALID_PAYLOAD"
    assert xdr.ServerError(-1, "").kind == "UNKNOWN_ERROR"
    assert xdr.ServerError(42, "").kind == "42"
    # The error type is a signed XDR int, as in the official client.
    assert xdr.pack_error(-1, "x")[4:8] == b"\xff\xff\xff\xff"


def test_version_frame() -> None:
    assert xdr.pack_version() == VERSION_1
    assert xdr.unpack_version(b"\x00\x00\x01\x00") == 256
    for frame in (b"", b"\x00\x00\x01", b"\x00\x00\x00\x01\x00"):
        with pytest.raises(xdr.XdrError, match="4 bytes"):
            xdr.unpack_version(frame)


GARBLED = {
    "empty": (b"", "starts with a 4-byte type"),
    "short": (b"\x00\x00\x04", "starts with a 4-byte type"),
    "type only": (b"\x00\x00\x00\x04", "length of the JSON string"),
    "bad length": (struct.pack(">iI", 4, 100) + b"{}\x00\x00", "says 100 bytes"),
    "huge length": (struct.pack(">iI", 4, 2**32 - 1) + b"{}\x00\x00", "says 4294967295 bytes"),
    "missing padding": (struct.pack(">iI", 4, 2) + b"{}", "padding"),
    "bad padding": (struct.pack(">iI", 4, 2) + b"{}\x00\x01", "padding after the JSON string is not zero"),
    "trailing bytes": (broadcast("{}") + b"\x00\x00\x00\x00", "4 bytes after the end"),
    "unknown type 0": (struct.pack(">iI", 0, 2) + b"{}\x00\x00", "unknown message type 0"),
    "unknown type 6": (struct.pack(">iI", 6, 2) + b"{}\x00\x00", "unknown message type 6"),
    "negative type": (struct.pack(">iI", -4, 2) + b"{}\x00\x00", "unknown message type -4"),
    "short throttling": (struct.pack(">ii", 5, 1), "sequence id"),
    "short outbox": (struct.pack(">iq", 1, 1) + b"\x00\x00", "timestamp"),
}


@pytest.mark.parametrize("name", list(GARBLED))
def test_garbled_frames_say_what_is_wrong(name: str) -> None:
    frame, words = GARBLED[name]
    with pytest.raises(xdr.XdrError, match=words):
        xdr.unpack(frame)
    assert xdr.broadcast_payload(frame) is None  # the fast path takes none of them


def test_the_fast_path_takes_exactly_the_well_formed_broadcasts() -> None:
    for text in ("", "{}", "{1}", "{12}", BOOK, TRADE, "é" * 7):
        frame = broadcast(text)
        assert xdr.broadcast_payload(frame) == text.encode() == xdr.unpack(frame).payload  # type: ignore[union-attr]
    for frame in (
        xdr.pack_error(4, "x"),
        xdr.pack_throttling(1, 2, 3),
        xdr.pack_rpc_response(1, "{}"),
        VERSION_1,
    ):
        assert xdr.broadcast_payload(frame) is None


# -- the protocol, frame by frame --------------------------------------------------------------


def connected(**kwargs: Any) -> CryptologyProtocol:
    p = CryptologyProtocol("ws://127.0.0.1:1/", **kwargs)
    assert p.connection_made(0) == ()
    return p


def xdr_ready(**kwargs: Any) -> CryptologyProtocol:
    p = connected(**kwargs)
    assert p.receive_frame(VERSION_1, 0) == ()
    assert p.ready
    return p


def items(actions: Sequence[Action]) -> list[Any]:
    return [a.item for a in actions if isinstance(a, Deliver)]


def bad(actions: Sequence[Action]) -> DecodeError:
    (action,) = actions
    assert isinstance(action, BadFrame), action
    assert action.error.protocol == "cryptology"
    return action.error


def test_auto_binary_first_frame_is_the_version_then_broadcasts_decode() -> None:
    p = connected()
    assert not p.ready
    assert p.form is None
    assert p.receive_frame(VERSION_1, 0) == ()
    assert (p.ready, p.form, p.server_version) == (True, "xdr", 1)
    (trade,) = items(p.receive_frame(broadcast(TRADE), 1))
    assert isinstance(trade, cryptology.AnonymousTradeV2)
    assert trade.current_order_id == 7
    assert json.loads(cryptology.encode(trade)) == json.loads(TRADE)  # the JSON inside, all of it
    (book, *notes) = p.receive_frame(broadcast(BOOK), 1)
    assert isinstance(book, Deliver)
    assert isinstance(book.item, cryptology.OrderBookAggV2)
    assert p.books["BTC_USD"].best_bid is not None
    assert all(isinstance(n, Notify) for n in notes)


def test_auto_text_first_frame_is_the_json_form() -> None:
    p = connected()
    (trade,) = items(p.receive_frame(TRADE, 0))
    assert isinstance(trade, cryptology.AnonymousTradeV2)
    assert (p.ready, p.form, p.server_version) == (True, "json", None)


def test_text_frame_on_the_xdr_form_is_a_clear_bad_frame() -> None:
    p = xdr_ready()
    error = bad(p.receive_frame(TRADE, 1))
    assert "text frame on the binary XDR form" in error.reason
    (trade,) = items(p.receive_frame(broadcast(TRADE), 1))  # and the feed goes on
    assert isinstance(trade, cryptology.AnonymousTrade)


def test_binary_frame_on_the_json_form_is_a_clear_bad_frame() -> None:
    p = connected()
    items(p.receive_frame(TRADE, 0))
    assert "binary frame on the JSON text form" in bad(p.receive_frame(broadcast(TRADE), 1)).reason
    assert len(items(p.receive_frame(TRADE, 1))) == 1


def test_forced_forms() -> None:
    p = connected(wire_form="xdr")
    assert "text frame" in bad(p.receive_frame(TRADE, 0)).reason
    assert not p.ready  # still waiting for the version frame
    assert p.receive_frame(VERSION_1, 0) == ()
    assert p.ready
    p = connected(wire_form="json")
    assert p.ready
    assert "binary frame" in bad(p.receive_frame(VERSION_1, 0)).reason
    with pytest.raises(ValueError, match="wire_form"):
        CryptologyProtocol("ws://x/", wire_form="binary")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="version_timeout"):
        CryptologyProtocol("ws://x/", version_timeout=0)


def test_each_connection_detects_its_own_form() -> None:
    p = xdr_ready()
    p.connection_lost()
    assert (p.form, p.server_version, p.ready) == (None, None, False)
    p.connection_made(1)
    assert len(items(p.receive_frame(TRADE, 1))) == 1
    assert p.form == "json"


@pytest.mark.parametrize("where", ["before the version", "after the version"])
def test_legacy_one_byte_heartbeat_is_skipped(where: str) -> None:
    p = connected()
    if where == "after the version":
        p.receive_frame(VERSION_1, 0)
    assert p.receive_frame(b"\x00", 1) == ()
    assert p.ready is (where == "after the version")  # it is not the version frame
    p.receive_frame(VERSION_1, 0)
    assert p.server_version == 1


@pytest.mark.parametrize("name", list(GARBLED))
def test_garbled_frames_are_bad_frames_and_the_next_one_decodes(name: str) -> None:
    frame, words = GARBLED[name]
    p = xdr_ready()
    error = bad(p.receive_frame(frame, 1))
    assert words in error.reason
    assert len(items(p.receive_frame(broadcast(TRADE), 1))) == 1


def test_error_and_account_messages_are_bad_frames_that_say_what_they_are() -> None:
    p = xdr_ready()
    reason = bad(p.receive_frame(xdr.pack_error(2, "bad JSON in your order"), 1)).reason
    assert "server error message (INVALID_PAYLOAD)" in reason
    assert "bad JSON in your order" in reason
    long_words = bad(p.receive_frame(xdr.pack_error(-1, "x" * 5000), 1)).reason
    assert len(long_words) < 300  # the server's words, bounded
    reason = bad(p.receive_frame(xdr.pack_throttling(3, 11, 12), 1)).reason
    assert "throttling message (level 3, sequence 11, order 12)" in reason
    assert (
        "outbox message belongs to the account socket"
        in bad(p.receive_frame(xdr.pack_outbox(1, 0.0, "{}"), 1)).reason
    )
    assert "RPC response" in bad(p.receive_frame(xdr.pack_rpc_response(1, "{}"), 1)).reason
    assert len(items(p.receive_frame(broadcast(TRADE), 1))) == 1


def test_bad_json_inside_a_broadcast() -> None:
    p = xdr_ready()
    error = bad(p.receive_frame(broadcast(b"\xff\xfe{}"), 1))
    assert "not valid UTF-8" in error.reason
    error = bad(p.receive_frame(broadcast('{"@type":"AnonymousTrade","price":1}'), 1))
    assert error.tag == "AnonymousTrade"
    (unknown,) = items(p.receive_frame(broadcast('{"@type":"FundingRate"}'), 1))
    assert isinstance(unknown, UnknownMessage)


def test_a_garbled_version_frame_leaves_the_version_unknown() -> None:
    p = connected()
    assert "4 bytes" in bad(p.receive_frame(b"\x00\x01", 0)).reason
    assert p.ready  # the handshake frame came, garbled: the messages still decode
    assert p.server_version is None
    assert len(items(p.receive_frame(broadcast(TRADE), 1))) == 1


def test_a_server_that_begins_with_data_loses_none_of_it() -> None:
    p = connected()
    (trade,) = items(p.receive_frame(broadcast(TRADE), 0))  # no version frame before it
    assert isinstance(trade, cryptology.AnonymousTradeV2)
    assert (p.ready, p.form, p.server_version) == (True, "xdr", None)


def test_an_unknown_version_is_accepted_and_named_in_every_bad_frame() -> None:
    p = connected()
    assert p.receive_frame(b"\x00\x00\x00\x02", 0) == ()
    assert p.server_version == 2
    assert len(items(p.receive_frame(broadcast(TRADE), 1))) == 1  # decoded as version 1
    error = bad(p.receive_frame(b"\x00\x00\x00\x09\x00\x00\x00\x00", 1))
    assert "unknown message type 9" in error.reason
    assert "server protocol version 2; this client knows 1" in error.reason
    error = bad(p.receive_frame(broadcast('{"@type":"AnonymousTrade","price":1}'), 1))
    assert "server protocol version 2" in error.reason
    assert error.tag == "AnonymousTrade"


@given(
    frames=st.lists(
        st.one_of(
            st.binary(max_size=64),
            st.builds(broadcast, st.binary(max_size=40)),
            st.builds(
                lambda b: b[:8] + b[8:].replace(b"\x00", b"\x01"), st.builds(broadcast, st.text(max_size=20))
            ),
            st.builds(
                lambda n, b: struct.pack(">iI", n, len(b)) + b,
                st.integers(-(2**31), 2**31 - 1),
                st.binary(max_size=12),
            ),
            st.text(max_size=20),
        ),
        max_size=8,
    )
)
@settings(max_examples=300, deadline=None, database=None)
def test_no_frame_raises_out_of_the_protocol(frames: list[str | bytes]) -> None:
    """Any frames in any order, first frame included: actions only, never an exception."""
    p = connected()
    for frame in frames:
        for action in p.receive_frame(frame, 0):
            assert isinstance(action, BadFrame | Deliver | Notify), action
    # ... and the next good frame of the connection's form is delivered.
    assert len(items(p.receive_frame(broadcast(TRADE) if p.form == "xdr" else TRADE, 1))) == 1


def test_not_ready_reason_says_what_to_do() -> None:
    reason = connected().not_ready_reason(3.0)
    assert "no version frame within 3 s" in reason
    assert "wire_form='json'" in reason
    assert "wire_form" not in connected(wire_form="xdr").not_ready_reason(3.0)


def test_order_book_without_a_side_is_an_empty_side() -> None:
    p = xdr_ready()
    (book, *_) = p.receive_frame(
        broadcast('{"@type":"OrderBookAgg","trade_pair":"BTC_USD","current_order_id":1}'), 1
    )
    assert isinstance(book, Deliver)
    assert book.item.buy_levels is None
    assert p.books["BTC_USD"].best_bid is None
    assert p.books["BTC_USD"].best_ask is None
    assert p.books["BTC_USD"].synced


# -- the engine takes the protocol's ping recommendation unless the config sets its own --------


def test_config_pings_in_force() -> None:
    assert FeedConfig().pings() == (10.0, 10.0)
    assert FeedConfig().pings(3.0, 3.0) == (3.0, 3.0)
    assert FeedConfig(ping_interval=1.0).pings(3.0, 2.0) == (1.0, 2.0)
    assert FeedConfig(ping_interval=1.0, ping_timeout=4.0).pings(3.0, 2.0) == (1.0, 4.0)
    with pytest.raises(ValueError, match="ping_interval"):
        FeedConfig(ping_interval=0)


@pytest.mark.parametrize("explicit", [False, True])
async def test_engine_pings_at_the_protocols_interval_unless_configured(explicit: bool) -> None:
    proto = FakeProtocol("", heartbeat=HeartbeatPolicy(ping_interval=0.02, ping_timeout=0.5))
    config = FeedConfig(ping_interval=30.0) if explicit else FeedConfig()
    async with open_cryptology_server(rate=None, form="json") as server:
        proto.url = server.url
        async with open_fake_feed(proto, config):
            record = await server.wait_for_connection()
            await trio.sleep(0.3)
            pings = record.pings_received
    if explicit:
        assert pings == 0
    else:
        assert pings >= 3


async def test_watch_takes_the_wire_form() -> None:
    import argparse

    from trio_feeds.exchanges import get

    entry = get("cryptology")
    parser = argparse.ArgumentParser()
    entry.add_watch_arguments(parser)
    assert parser.parse_args([]).wire_form == "auto"
    with pytest.raises(SystemExit):
        parser.parse_args(["--wire-form", "binary"])
    args = parser.parse_args(["--wire-form", "json", "--trade-pair", "BTC_USD"])
    config = quick(request_timeout=0.2)  # "auto" would give up on a version frame after 0.2 s
    async with (
        open_cryptology_server(rate=None, form="json") as server,
        entry.watch_feed(server.url, args, entry.test_credentials, config) as feed,
    ):
        await server.wait_for_connection()
        await trio.sleep(0.5)
        assert feed.connected
        assert feed.stats.reconnects == 0
        assert feed.protocol.wire_form == "json"  # type: ignore[attr-defined]
        assert feed.protocol.trade_pairs == frozenset({"BTC_USD"})  # type: ignore[attr-defined]


def test_serve_takes_the_wire_form() -> None:
    from trio_feeds import exchanges
    from trio_feeds.cli import build_parser

    entry = exchanges.get("cryptology")
    assert entry.serve_options(build_parser().parse_args(["serve", "cryptology"])) == {"form": "xdr"}
    args = build_parser().parse_args(["serve", "cryptology", "--wire-form", "json"])
    assert entry.serve_options(args) == {"form": "json"}


# -- live feeds against the local server -------------------------------------------------------


@pytest.fixture(params=["trio-websocket", "fast"])
def transport(request: pytest.FixtureRequest) -> Transport:
    return FastTransport() if request.param == "fast" else TrioWebsocketTransport()


def quick(**overrides: Any) -> FeedConfig:
    base: dict[str, Any] = {
        "ping_interval": 0.05,
        "ping_timeout": 0.5,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "close_timeout": 0.2,
        "request_timeout": 1.0,
        "poll_interval": 0.02,
    }
    base.update(overrides)
    return FeedConfig(**base)


async def collect(feed: Any, predicate: Any, within: float = WAIT) -> list[Any]:
    seen: list[Any] = []
    with trio.fail_after(within):
        async for item in feed:
            seen.append(item)
            if predicate(seen):
                return seen
    raise AssertionError(seen)  # pragma: no cover - the feed ended


def sequences(seen: list[Any]) -> list[int]:
    return [
        i.current_order_id for i in seen if isinstance(i, cryptology.AnonymousTrade | cryptology.OrderBookAgg)
    ]


@pytest.mark.parametrize("form", ["xdr", "json"])
async def test_open_feed_reads_either_form_with_no_option(form: str, transport: Transport) -> None:
    async with (
        open_cryptology_server(rate=200, form=form) as server,  # type: ignore[arg-type]
        cryptology.open_feed(server.url, config=quick(), transport=transport) as feed,
    ):
        seen = await collect(feed, lambda s: len(sequences(s)) >= 6)
        assert feed.form == form
        assert feed.server_version == (1 if form == "xdr" else None)
        assert feed.stats.decode_errors == 0
    assert sequences(seen)[:6] == [1, 2, 3, 4, 5, 6]
    assert not any(isinstance(i, ev.DecodeFailed | ev.Disconnected) for i in seen)


async def test_no_version_frame_in_time_reconnects_saying_why(transport: Transport) -> None:
    # A server that accepts and then says nothing: as a broken XDR server, or a quiet JSON one.
    async with open_cryptology_server(rate=None, form="json") as server:
        async with cryptology.open_feed(
            server.url, config=quick(), version_timeout=0.2, transport=transport
        ) as feed:
            seen = await collect(feed, lambda s: isinstance(s[-1], ev.Reconnecting))
            disconnected = next(i for i in seen if isinstance(i, ev.Disconnected))
            assert disconnected.code is None
            assert "no version frame within 0.2 s" in disconnected.reason
            assert "wire_form='json'" in disconnected.reason
        async with cryptology.open_feed(
            server.url, config=quick(), wire_form="json", transport=transport
        ) as feed:
            with trio.move_on_after(0.5):
                async for item in feed:
                    assert not isinstance(item, ev.Disconnected), item
            assert feed.connected


async def test_reconnect_is_reported_resubscribed_on_the_version_frame_not_at_a_poll(
    transport: Transport,
) -> None:
    # The ticker polls every 5 s here: Resubscribed and Gap must come from the version frame.
    async with (
        open_cryptology_server(rate=None) as server,
        cryptology.open_feed(server.url, config=quick(poll_interval=5.0), transport=transport) as feed,
    ):
        await collect(feed, lambda s: isinstance(s[-1], ev.Connected))
        await server.wait_for_connection()
        await server.close(1012, "service restart")
        start = trio.current_time()
        seen = await collect(feed, lambda s: isinstance(s[-1], ev.Gap), within=2.0)
        assert trio.current_time() - start < 1.0
    assert [type(i).__name__ for i in seen] == [
        "Disconnected",
        "Reconnecting",
        "Connected",
        "Resubscribed",
        "Gap",
    ]


async def test_garbled_and_foreign_frames_never_end_the_feed(transport: Transport) -> None:
    frames: list[str | bytes] = [frame for frame, _ in GARBLED.values()]
    frames += [
        TRADE,  # a text frame
        xdr.pack_error(2, "invalid payload"),
        xdr.pack_throttling(1, 2, 3),
        xdr.pack_outbox(1, 0.0, TRADE),
        xdr.pack_rpc_response(1, "{}"),
        broadcast(b"\xff"),
        b"\x00",  # the legacy heartbeat: skipped, no event
    ]
    async with (
        open_cryptology_server(rate=None) as server,
        cryptology.open_feed(server.url, config=quick(), transport=transport) as feed,
    ):
        await collect(feed, lambda s: isinstance(s[-1], ev.Connected))
        record = await server.wait_for_connection()
        await server.push(count=2, connection=record)
        for frame in frames:
            await server.send_raw(frame, connection=record)
        await server.push(count=2, connection=record)
        seen = await collect(feed, lambda s: len(sequences(s)) >= 4)
        assert feed.connected
    failed = [i for i in seen if isinstance(i, ev.DecodeFailed)]
    assert len(failed) == len(frames) - 1
    assert sequences(seen) == [1, 2, 3, 4]
    assert not any(isinstance(i, ev.Disconnected) for i in seen)
    # Each says what was wrong, without quoting the frame.
    reasons = [f.error.reason for f in failed]
    assert any("text frame on the binary XDR form" in r for r in reasons)
    assert any("server error message (INVALID_PAYLOAD)" in r for r in reasons)
    assert not any("555" in r for r in reasons)


async def test_the_raw_fault_goes_in_the_servers_form() -> None:
    from trio_feeds.testing.faults import parse_fault

    async with (
        open_cryptology_server(rate=None) as server,
        cryptology.open_feed(server.url, config=quick()) as feed,
    ):
        await collect(feed, lambda s: isinstance(s[-1], ev.Connected))
        await server.wait_for_connection()
        async with trio.open_nursery() as nursery:
            await parse_fault('raw:{"@type":"TradesDisabledOnPairs","trade_pairs":["BTC_USD"]}@0s').apply(
                server, nursery
            )
        seen = await collect(feed, lambda s: isinstance(s[-1], cryptology.TradesDisabledOnPairs))
    assert seen[-1].trade_pairs == ["BTC_USD"]
    assert json.loads(cryptology.encode(seen[-1])) == {
        "@type": "TradesDisabledOnPairs",
        "trade_pairs": ["BTC_USD"],
    }


@pytest.mark.parametrize("price", ["abc", "1e5", " 1", "1_0", "", "-.5", "NaN"])
@pytest.mark.parametrize("side", ["buy_levels", "sell_levels"])
def test_a_price_key_that_is_no_decimal_string_is_a_bad_frame_and_the_next_frame_decodes(
    side: str, price: str
) -> None:
    # The schema's propertyNames: a price level's key is a decimal string. A bad one was taken
    # by the codec and raised InvalidOperation from the books, out of receive_frame.
    book = {
        "@type": "OrderBookAgg",
        "trade_pair": "BTC_USD",
        "buy_levels": {"1": "1"},
        "sell_levels": {"3": "1"},
    }
    book[side] = {"2": "2", price: "1"}
    with pytest.raises(DecodeError) as info:
        cryptology.decode(json.dumps(book))
    assert f"{side}: price not a decimal string" in info.value.reason
    p = connected(wire_form="json")
    assert isinstance(bad(p.receive_frame(json.dumps(book), 0)), DecodeError)
    book[side] = {"2": "2"}
    (message,) = items(p.receive_frame(json.dumps(book), 0))
    assert getattr(message, side) == {"2": 2}
    assert p.books["BTC_USD"].synced
