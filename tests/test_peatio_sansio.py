"""The Peatio Ranger sans-IO protocol: frames in, actions out, no I/O, time passed in.

The frames are the servers' own forms (see trio_feeds/_sansio/peatio.py for the sources):
the handshake acknowledgement, FIFO replies, rango's string errors and refusals, the matching
engine's flat sequenced increments, and the order-book recovery in both subscribe modes.
"""

from __future__ import annotations

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
    Notify,
    ProtocolClose,
    RequestDone,
    Send,
)
from trio_feeds._sansio.peatio import MAX_CLIENT_MESSAGE, PeatioProtocol
from trio_feeds.errors import AuthenticationError
from trio_feeds.events import BookOutOfSync, BookSynced
from trio_feeds.peatio import PublicTrades, StreamMessage, TextError

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
RANGER = "wss://ranger.example/api/v2/ranger/public"
D = Decimal


def peatio(**kwargs: Any) -> PeatioProtocol:
    return PeatioProtocol(RANGER, **kwargs)


def texts(actions: Sequence[Action]) -> list[str]:
    return [a.text for a in actions if isinstance(a, Send) and isinstance(a.text, str)]


def frames(actions: Sequence[Action]) -> list[Any]:
    return [json.loads(t) for t in texts(actions)]


def only(actions: Sequence[Action], kind: type) -> Any:
    found = [a for a in actions if isinstance(a, kind)]
    assert len(found) == 1, actions
    return found[0]


def notes(actions: Sequence[Action]) -> list[object]:
    return [a.event for a in actions if isinstance(a, Notify)]


def delivered(actions: Sequence[Action]) -> list[Any]:
    return [a.item for a in actions if isinstance(a, Deliver)]


def fixture(name: str) -> str:
    return (FIXTURES / "peatio" / name).read_text()


def dumps(obj: Any) -> str:
    return json.dumps(obj)


def success(message: str, streams: list[str] | None = None) -> str:
    body: dict[str, Any] = {"message": message}
    if streams is not None:
        body["streams"] = streams
    return dumps({"success": body})


def error(message: str) -> str:
    return dumps({"error": {"message": message}})


def snap(market: str, asks: list[list[str]], bids: list[list[str]], sequence: int | None = None) -> str:
    body: dict[str, Any] = {"asks": asks, "bids": bids}
    if sequence is not None:
        body["sequence"] = sequence
    return dumps({f"{market}.ob-snap": body})


def inc(market: str, side: str, price: str, amount: str, sequence: int | None = None) -> str:
    body: dict[str, Any] = {side: [price, amount]}
    if sequence is not None:
        body["sequence"] = sequence
    return dumps({f"{market}.ob-inc": body})


def levels(book: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    return [(str(p), str(a)) for p, a in book.bids], [(str(p), str(a)) for p, a in book.asks]


def connected(**kwargs: Any) -> PeatioProtocol:
    """A protocol on a live connection: the target taken, connected, the handshake ack read."""
    p = peatio(**kwargs)
    p.connect_target()
    p.connection_made(0)
    p.receive_frame(success("subscribed", list(p.streams)), 0)
    return p


# -- the URL -------------------------------------------------------------------------------------


def test_connect_target_carries_every_stream_in_query() -> None:
    p = peatio(streams=["btcusd.trades", "order"])
    assert p.connect_target() == ConnectTarget(f"{RANGER}?stream=btcusd.trades&stream=order")
    p.subscribe(0, "ethusd.ob-inc")  # not connected: only recorded
    assert p.connect_target().url == f"{RANGER}?stream=btcusd.trades&stream=order&stream=ethusd.ob-inc"
    p.unsubscribe(0, "order")
    assert p.connect_target().url == f"{RANGER}?stream=btcusd.trades&stream=ethusd.ob-inc"


def test_url_query_streams_and_other_params_are_kept() -> None:
    p = PeatioProtocol("ws://r.example/?stream=a.trades&lang=en", streams=["b.trades", "a.trades"])
    assert p.streams == ("a.trades", "b.trades")
    assert p.connect_target().url == "ws://r.example/?lang=en&stream=a.trades&stream=b.trades"


def test_stream_names_must_need_no_percent_encoding() -> None:
    # rango reads the query string without decoding it and splits values on commas.
    for bad in ("btc usd.trades", "a,b", "x&y", "ü.trades"):
        with pytest.raises(ValueError, match="letters, digits"):
            peatio(streams=[bad])
    with pytest.raises(TypeError, match="not a string"):
        peatio(streams="btcusd.trades")
    with pytest.raises(ValueError, match="non-empty"):
        peatio().subscribe(0, "")
    with pytest.raises(ValueError, match="too long"):
        peatio().subscribe(0, "x" * MAX_CLIENT_MESSAGE)
    with pytest.raises(ValueError, match="auth must be"):
        peatio(auth="cookie")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="snapshot_timeout"):
        peatio(snapshot_timeout=0)


# -- auth and the handshake acknowledgement ------------------------------------------------------


def test_message_auth_document_form() -> None:
    p = peatio(token=JWT, streams=["order"])
    assert p.connect_target().headers == ()
    actions = p.connection_made(0)
    assert frames(actions) == [{"jwt": f"Bearer {JWT}"}]
    assert only(actions, Send).request_id is None
    assert not p.ready
    assert p.receive_frame(fixture("02-success-authenticated.json"), 1) == [AuthAccepted()]
    assert p.ready


def test_bearer_prefix_not_doubled() -> None:
    p = peatio(token=f"Bearer {JWT}")
    assert frames(p.connection_made(0)) == [{"jwt": f"Bearer {JWT}"}]


@pytest.mark.parametrize("name", ["03-error-authentication-failed.json", "04-error-token-type-invalid.json"])
def test_auth_errors_are_auth_failures(name: str) -> None:
    p = peatio(token=JWT)
    p.connection_made(0)
    (failed,) = p.receive_frame(fixture(name), 1)
    assert isinstance(failed, AuthFailed)
    assert not p.ready


def test_other_error_during_auth_retries() -> None:
    p = peatio(token=JWT)
    p.connection_made(0)
    (close,) = p.receive_frame(fixture("05-error-while-handling-message.json"), 1)
    assert close == ProtocolClose(1011, "Error while handling message.", CloseVerdict.RETRY)


def test_header_auth_is_authenticated_by_the_handshake_ack() -> None:
    # The Ruby Ranger checks the header in the handshake and drops TCP on a bad one; rango's
    # /private answers 401. So the acknowledgement after a handshake with the header is the
    # server's word that it took the token: the same moment as "Authenticated." above.
    p = peatio(token=JWT, auth="header", streams=["btcusd.trades", "order"])
    assert p.connect_target().headers == (("Authorization", f"Bearer {JWT}"),)
    assert p.subscribe_mode == "event"
    assert p.connection_made(0) == []  # nothing to send
    assert not p.ready
    assert p.receive_frame(success("subscribed", ["btcusd.trades", "order"]), 1) == [AuthAccepted()]
    assert p.ready
    # The next subscribed reply is a reply, not a second acknowledgement.
    assert p.receive_frame(success("subscribed", ["btcusd.trades", "order"]), 2) == []


def test_header_auth_ack_without_the_private_streams_is_an_auth_failure() -> None:
    # rango's /public treats a rejected token as anonymous and leaves private streams out.
    p = peatio(token=JWT, auth="header", streams=["btcusd.trades", "order", "trade"])
    p.connect_target()
    p.connection_made(0)
    (failed,) = p.receive_frame(success("subscribed", ["btcusd.trades"]), 1)
    assert isinstance(failed, AuthFailed)
    assert "order, trade" in failed.reason
    assert not p.ready


def test_not_ready_reason_names_what_was_missing() -> None:
    assert (
        peatio(token=JWT, auth="header").not_ready_reason(1.5) == "no handshake acknowledgement within 1.5 s"
    )
    assert peatio(token=JWT).not_ready_reason(2) == "not authenticated within 2 s"


def test_without_token_ready_at_once_and_the_ack_is_consumed() -> None:
    p = peatio(streams=["btcusd.trades"], auth="header")
    p.connect_target()
    assert p.connection_made(0) == []
    assert p.ready
    assert p.receive_frame(success("subscribed", ["btcusd.trades"]), 1) == []


def test_handshake_ack_never_answers_a_request() -> None:
    # A subscribe sent before the acknowledgement arrived: the acknowledgement (first, listing
    # only the query streams) is not its reply; the next one is.
    p = peatio(auth="header", streams=["global.tickers"])
    p.connect_target()
    p.connection_made(0)
    rid, actions = p.subscribe(1, "ethusd.trades")
    assert frames(actions) == [{"event": "subscribe", "streams": ["ethusd.trades"]}]
    assert p.receive_frame(success("subscribed", ["global.tickers"]), 1) == []
    assert p.receive_frame(success("subscribed", ["global.tickers", "ethusd.trades"]), 2) == [
        RequestDone(str(rid))
    ]


def test_document_server_without_ack_answers_the_first_request() -> None:
    # A server that sends no acknowledgement: the first reply lists a stream the query string
    # did not have, so it is the reply.
    p = peatio(subscribe_mode="event", streams=["global.tickers"])
    p.connect_target()
    p.connection_made(0)
    rid, _ = p.subscribe(1, "ethusd.trades")
    assert p.receive_frame(success("subscribed", ["global.tickers", "ethusd.trades"]), 2) == [
        RequestDone(str(rid))
    ]


@pytest.mark.parametrize("frame", ["ping", b"ping"])
def test_text_ping_answered_before_auth(frame: str | bytes) -> None:
    p = peatio(token=JWT)
    p.connection_made(0)
    assert p.receive_frame(frame, 1) == [Send("pong")]
    assert not p.ready


def test_handshake_closed_with_header_auth_says_what_it_may_mean() -> None:
    reason = "connection closed during the WebSocket handshake"
    hinted = peatio(token=JWT, auth="header").connect_failed(reason)
    assert hinted.startswith(reason)
    assert "refuses the token" in hinted
    assert JWT not in hinted
    assert peatio(token=JWT).connect_failed(reason) == reason  # message auth: no header to refuse
    assert peatio(auth="header").connect_failed(reason) == reason  # no token
    assert peatio(token=JWT, auth="header").connect_failed("Connection refused") == "Connection refused"


# -- requests: FIFO replies, errors, splitting -----------------------------------------------------


def test_event_mode_subscribe_and_unsubscribe() -> None:
    p = connected(token=JWT, auth="header", streams=["global.tickers"])
    rid, actions = p.subscribe(1, "ethusd.trades", "ethusd.ob-inc", "global.tickers")
    assert frames(actions) == [{"event": "subscribe", "streams": ["ethusd.trades", "ethusd.ob-inc"]}]
    assert only(actions, Send).request_id == rid
    assert p.receive_frame(fixture("24-success-subscribed.json"), 2) == [RequestDone(str(rid))]
    urid, actions = p.unsubscribe(3, "ethusd.trades", "ethusd.ob-inc", "nope")
    assert frames(actions) == [{"event": "unsubscribe", "streams": ["ethusd.trades", "ethusd.ob-inc"]}]
    assert p.receive_frame(fixture("26-success-unsubscribed.json"), 4) == [RequestDone(str(urid))]
    assert p.streams == ("global.tickers",)


def test_replies_answer_requests_in_order() -> None:
    p = connected(auth="header")
    a, _ = p.subscribe(1, "a.trades")
    b, _ = p.unsubscribe(1, "a.trades")
    c, _ = p.subscribe(1, "c.trades")
    assert p.receive_frame(success("subscribed", ["a.trades"]), 2) == [RequestDone(str(a))]
    assert p.receive_frame(success("unsubscribed", []), 2) == [RequestDone(str(b))]
    assert p.receive_frame(success("subscribed", ["c.trades"]), 2) == [RequestDone(str(c))]
    assert p.receive_frame(success("subscribed", ["c.trades"]), 2) == []  # unsolicited


def test_error_refuses_the_oldest_request_and_rango_string_errors() -> None:
    p = connected(auth="header", token=JWT)
    rid, _ = p.subscribe(1, "btcusd.trades")
    assert p.receive_frame(error("Error while handling message."), 2) == [
        RequestDone(str(rid), "Error while handling message.")
    ]
    rid, _ = p.subscribe(1, "ethusd.trades")
    assert p.receive_frame(dumps({"error": "No streams provided"}), 2) == [
        RequestDone(str(rid), "No streams provided")
    ]
    (unsolicited,) = p.receive_frame(dumps({"error": f"Could not parse Type: Invalid event {JWT}"}), 3)
    assert isinstance(unsolicited, Deliver)
    assert isinstance(unsolicited.item.data, TextError)
    assert JWT not in unsolicited.item.data.message


def test_rango_cannot_subscribe_refuses_the_request() -> None:
    # rango sends the refusal of one stream, then its reply to the same request.
    p = connected(auth="header", token=JWT)
    rid, _ = p.subscribe(1, "admin.btcusd.trades", "btcusd.trades")
    assert p.receive_frame(success("cannot subscribe to admin.btcusd.trades"), 2) == []
    assert p.receive_frame(success("subscribed", ["btcusd.trades"]), 2) == [
        RequestDone(str(rid), "cannot subscribe to admin.btcusd.trades")
    ]
    assert p.streams == ("btcusd.trades",)  # refused for good: not asked for again


def test_rango_refusal_during_the_handshake_does_not_hide_the_ack() -> None:
    # A refused stream in the URL: rango says so before its acknowledgement.
    p = peatio(auth="header", token=JWT, streams=["admin.btcusd.trades", "btcusd.trades"])
    p.connect_target()
    p.connection_made(0)
    assert p.receive_frame(success("cannot subscribe to admin.btcusd.trades"), 1) == []
    assert p.receive_frame(success("subscribed", ["btcusd.trades"]), 1) == [AuthAccepted()]
    assert p.streams == ("btcusd.trades",)
    assert "admin" not in p.connect_target().url


def test_long_stream_lists_are_split_under_the_512_byte_limit() -> None:
    p = connected(auth="header")
    streams = [f"market{i:03d}.trades" for i in range(60)]
    rid, actions = p.subscribe(1, *streams)
    sent = [a for a in actions if isinstance(a, Send)]
    assert len(sent) > 1
    assert all(len(s.text) <= MAX_CLIENT_MESSAGE for s in sent)
    assert [x for f in frames(actions) for x in f["streams"]] == streams
    # The caller waits on the last frame: earlier replies complete nothing it sees.
    assert [s.request_id for s in sent[:-1]] == [None] * (len(sent) - 1)
    assert sent[-1].request_id == rid
    for i in range(len(sent) - 1):
        assert p.receive_frame(success("subscribed", streams), 2 + i) == []
    assert p.receive_frame(success("subscribed", streams), 9) == [RequestDone(str(rid))]


def test_a_refused_part_of_a_split_request_fails_the_caller() -> None:
    p = connected(auth="header")
    streams = [f"market{i:03d}.trades" for i in range(60)]
    rid, actions = p.subscribe(1, *streams)
    n = len(texts(actions))
    assert p.receive_frame(dumps({"error": "No streams provided"}), 2) == [
        RequestDone(str(rid), "No streams provided")
    ]
    for _ in range(n - 1):  # the other replies are consumed, completing nothing
        assert p.receive_frame(success("subscribed", streams), 3) == []
    other, _ = p.subscribe(4, "x.trades")
    assert p.receive_frame(success("subscribed", [*streams, "x.trades"]), 5) == [RequestDone(str(other))]


def test_nothing_new_changes_nothing() -> None:
    p = connected(auth="header", streams=["a.trades"])
    assert p.subscribe(1, "a.trades") == (None, ())
    assert p.unsubscribe(1, "b.trades") == (None, [])


def test_query_mode_reconnects_to_change_streams() -> None:
    p = connected(streams=["btcusd.trades"])
    assert p.subscribe_mode == "query"
    rid, actions = p.subscribe(1, "ethusd.trades")
    assert rid is None
    assert actions == [ProtocolClose(1000, "reconnecting to change streams", CloseVerdict.RETRY)]
    p.connection_lost()
    assert "stream=ethusd.trades" in p.connect_target().url
    _, actions = p.unsubscribe(2, "btcusd.trades")
    assert actions == []  # not connected: the next connection simply lacks it


def test_streams_changed_while_connecting_replace_the_connection_in_query_mode() -> None:
    p = peatio(streams=["btcusd.trades"])
    p.connect_target()
    p.subscribe(0, "ethusd.trades")  # not connected yet: recorded only
    (close,) = p.connection_made(1)
    assert close == ProtocolClose(1000, "reconnecting to change streams", CloseVerdict.RETRY, deliberate=True)


def test_requests_in_flight_are_carried_by_the_next_query_string() -> None:
    # Header auth (later servers): the next connection's handshake acknowledgement is the
    # server's word that it subscribed them.
    p = connected(auth="header")
    rid, _ = p.subscribe(1, "btcusd.trades")
    p.connection_lost()
    assert "stream=btcusd.trades" in p.connect_target().url
    assert p.connection_made(2) == []
    assert p.receive_frame(success("subscribed", ["btcusd.trades"]), 3) == [RequestDone(str(rid))]
    # Document form: no acknowledgement exists; the new connection itself is the answer.
    q = connected(subscribe_mode="event")
    rid, _ = q.subscribe(1, "btcusd.trades")
    q.connection_lost()
    q.connect_target()
    assert q.connection_made(2) == [RequestDone(str(rid))]


def test_forgotten_request_reply_is_consumed_in_order() -> None:
    p = connected(auth="header")
    rid, _ = p.subscribe(10, "btcusd.trades")
    assert rid is not None
    p.forget_request(rid)
    other, _ = p.subscribe(11, "ethusd.trades")
    # The late reply is consumed in order and completes nothing; the next is the other's.
    assert p.receive_frame(success("subscribed", ["btcusd.trades"]), 17) == []
    assert p.receive_frame(success("subscribed", ["btcusd.trades", "ethusd.trades"]), 17) == [
        RequestDone(str(other))
    ]


# -- messages --------------------------------------------------------------------------------------


def test_delivers_stream_messages_array_frames_and_unknown_streams() -> None:
    p = connected(streams=["btcusd.trades"])
    (msg,) = delivered(p.receive_frame(fixture("09-public-trades.json"), 1))
    assert isinstance(msg, StreamMessage)
    assert msg.stream == "btcusd.trades"
    assert isinstance(msg.data, PublicTrades)
    (arr,) = delivered(
        p.receive_frame(
            dumps(["btcusd.trades", json.loads(fixture("09-public-trades.json"))["btcusd.trades"]]), 1
        )
    )
    assert arr.form == "array"
    assert arr.data == msg.data
    (unknown,) = delivered(p.receive_frame(dumps({"btcusd.order": {"key": "btcusd_order_1"}}), 1))
    assert isinstance(unknown, UnknownMessage)


@pytest.mark.parametrize(
    "frame", ["pong!", "{", b"\xff", '{"btcusd.trades": {"trades": 5}}', "[]", '["a.trades"]', "[1, {}]"]
)
def test_bad_frames(frame: str | bytes) -> None:
    p = connected()
    (action,) = p.receive_frame(frame, 1)
    assert isinstance(action, BadFrame)
    assert action.error.protocol == "peatio"


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        (1008, CloseVerdict.FATAL),
        (1000, CloseVerdict.RETRY),
        (None, CloseVerdict.RETRY),
        (4029, CloseVerdict.RETRY_SLOW),
    ],
)
def test_classify_close(code: int | None, verdict: CloseVerdict) -> None:
    assert peatio().classify_close(code, "") is verdict


def test_jwt_absent_from_reprs_and_errors() -> None:
    for auth in ("message", "header"):
        p = peatio(token=JWT, auth=auth, streams=["order"])
        target = p.connect_target()
        actions = list(p.connection_made(0))
        actions += p.receive_frame(error(f"Authentication failed for {JWT}"), 1)
        for text in (repr(p), str(p), repr(target), repr(actions), str(AuthenticationError(repr(actions)))):
            assert JWT not in text, text
    failed = peatio(token=JWT)
    failed.connection_made(0)
    (auth_failed,) = failed.receive_frame(error(f"Authentication failed for {JWT}"), 1)
    assert isinstance(auth_failed, ProtocolClose)  # not one of the known auth texts
    assert JWT not in auth_failed.reason


# -- order books -----------------------------------------------------------------------------------

# The engine spec's own frames (openware/peatio spec/trading/matching/engine_spec.rb):
SNAP = snap("btcusd", [["12.0", "1.0"], ["14.0", "1.0"]], [["11.0", "2.0"], ["10.0", "2.0"]], 1)


def booked(mode: str = "event", **kwargs: Any) -> PeatioProtocol:
    """Connected with btcusd.ob-inc, the snapshot (sequence 1) applied."""
    p = connected(streams=["btcusd.ob-inc", "btcusd.trades"], subscribe_mode=mode, **kwargs)
    assert notes(p.receive_frame(SNAP, 1)) == [BookSynced("btcusd")]
    return p


def test_snapshot_then_flat_increments_and_empty_amount_removes() -> None:
    p = booked()
    book = p.books["btcusd"]
    assert book.synced
    assert book.sequence == 1
    assert p.receive_frame(inc("btcusd", "asks", "13.0", "5.0", 2), 2)[1:] == []
    assert p.receive_frame(inc("btcusd", "bids", "10.0", "", 3), 3)[1:] == []  # "" removes
    assert p.receive_frame(inc("btcusd", "asks", "12.0", "0", 4), 3)[1:] == []  # so does zero
    assert levels(book) == ([("11.0", "2.0")], [("13.0", "5.0"), ("14.0", "1.0")])
    assert book.sequence == 4
    assert book.synced


def test_document_form_nested_levels_without_sequence() -> None:
    p = connected(streams=["eurusd.ob-inc"])
    p.receive_frame(fixture("11-order-book-snapshot.json"), 1)
    p.receive_frame(fixture("13-order-book-increment.json"), 2)
    book = p.books["eurusd"]
    assert book.synced
    assert book.best_ask == (D("15.0"), D("22.1257"))
    assert book.sequence is None


def test_increments_before_the_snapshot_are_dropped() -> None:
    p = connected(streams=["btcusd.ob-inc"])
    (deliver,) = p.receive_frame(inc("btcusd", "asks", "13.0", "5.0", 7), 1)
    assert isinstance(deliver, Deliver)  # the message is delivered; the book has nothing to apply it to
    assert not p.books["btcusd"].synced
    assert len(p.books["btcusd"].asks) == 0


def test_sequence_jump_resyncs_by_unsubscribe_and_subscribe_on_the_same_connection() -> None:
    p = booked()
    p.receive_frame(inc("btcusd", "asks", "13.0", "5.0", 2), 2)
    actions = p.receive_frame(inc("btcusd", "asks", "15.0", "1.0", 5), 3)
    assert isinstance(actions[0], Deliver)
    assert notes(actions) == [BookOutOfSync("btcusd", "sequence jump: 2 -> 5")]
    assert frames(actions) == [
        {"event": "unsubscribe", "streams": ["btcusd.ob-inc"]},
        {"event": "subscribe", "streams": ["btcusd.ob-inc"]},
    ]
    assert [s.request_id for s in actions if isinstance(s, Send)] == [None, None]  # nobody waits
    assert not any(isinstance(a, ProtocolClose) for a in actions)
    # Increments in flight are dropped, the replies consumed, the stored snapshot heals it.
    assert notes(p.receive_frame(inc("btcusd", "asks", "15.0", "2.0", 6), 3)) == []
    assert p.receive_frame(success("unsubscribed", ["btcusd.trades"]), 3) == []
    fresh = snap("btcusd", [["13.0", "5.0"], ["15.0", "2.0"]], [["11.0", "2.0"]], 6)
    assert notes(p.receive_frame(fresh, 4)) == [BookSynced("btcusd")]
    assert p.receive_frame(inc("btcusd", "bids", "11.5", "1.0", 7), 4)[1:] == []
    assert p.receive_frame(success("subscribed", ["btcusd.trades", "btcusd.ob-inc"]), 4) == []
    assert levels(p.books["btcusd"]) == (
        [("11.5", "1.0"), ("11.0", "2.0")],
        [("13.0", "5.0"), ("15.0", "2.0")],
    )
    # The user's requests still get their own replies.
    rid, _ = p.subscribe(5, "ethusd.trades")
    assert p.receive_frame(success("subscribed", ["btcusd.trades", "btcusd.ob-inc", "ethusd.trades"]), 5) == [
        RequestDone(str(rid))
    ]


def test_repeats_are_ignored_and_a_sequence_that_goes_back_resyncs() -> None:
    p = booked()
    p.receive_frame(inc("btcusd", "asks", "13.0", "5.0", 2), 2)
    assert p.receive_frame(inc("btcusd", "asks", "13.0", "9.0", 2), 2)[1:] == []  # a repeat
    assert p.books["btcusd"].best_ask == (D("12.0"), D("1.0"))
    # The matching engine restarted: its new sequence starts again at 1 (live subscribers get
    # no new snapshot; the increments just go on with 2, 3, ...).
    actions = p.receive_frame(inc("btcusd", "asks", "13.0", "1.0", 2), 3)
    # 2 is a repeat of 2; 2 after 3 is not:
    p.receive_frame(inc("btcusd", "asks", "16.0", "1.0", 3), 3)
    actions = p.receive_frame(inc("btcusd", "asks", "17.0", "1.0", 2), 3)
    (out,) = notes(actions)
    assert isinstance(out, BookOutOfSync)
    assert "went back: 3 -> 2" in out.reason
    assert [f["event"] for f in frames(actions)] == ["unsubscribe", "subscribe"]


def test_crossed_book_resyncs() -> None:
    p = booked()
    actions = p.receive_frame(inc("btcusd", "bids", "12.5", "1.0", 2), 2)
    (out,) = notes(actions)
    assert isinstance(out, BookOutOfSync)
    assert out.reason.startswith("crossed book")
    assert [f["event"] for f in frames(actions)] == ["unsubscribe", "subscribe"]


def test_query_mode_resync_is_a_deliberate_reconnect() -> None:
    p = booked(mode="query")
    actions = p.receive_frame(inc("btcusd", "asks", "13.0", "5.0", 9), 100)
    assert notes(actions) == [BookOutOfSync("btcusd", "sequence jump: 1 -> 9")]
    close = only(actions, ProtocolClose)
    assert close.verdict is CloseVerdict.RETRY
    assert close.deliberate
    assert "btcusd" in close.reason
    assert "sequence jump" in close.reason
    assert texts(actions) == []
    # After a disconnect the books wait for the next connection's snapshot.
    assert notes(p.connection_lost()) == []  # already out of sync: said once
    p.connect_target()
    p.connection_made(101)
    assert notes(p.receive_frame(SNAP, 101)) == [BookSynced("btcusd")]
    # Another resync soon after is not deliberate: a server that keeps breaking books backs off.
    again = only(p.receive_frame(inc("btcusd", "asks", "13.0", "5.0", 9), 102), ProtocolClose)
    assert not again.deliberate


def test_disconnect_unsyncs_the_books_until_the_next_snapshot() -> None:
    p = booked()
    assert notes(p.connection_lost()) == [BookOutOfSync("btcusd", "disconnected")]
    assert not p.books["btcusd"].synced
    p.connect_target()
    p.connection_made(5)
    assert notes(p.receive_frame(inc("btcusd", "asks", "13.0", "5.0", 2), 5)) == []  # no snapshot yet
    assert notes(p.receive_frame(SNAP, 5)) == [BookSynced("btcusd")]


def test_no_snapshot_within_the_timeout_while_increments_flow_resubscribes() -> None:
    # rango stores the first snapshot without sending it to live subscribers: one who
    # subscribed before it existed sees only increments until it subscribes again.
    p = connected(streams=["btcusd.ob-inc"], auth="header", snapshot_timeout=5.0)
    assert texts(p.receive_frame(inc("btcusd", "asks", "13.0", "5.0", 2), 1)) == []
    assert texts(p.receive_frame(inc("btcusd", "asks", "13.0", "6.0", 3), 4.9)) == []
    actions = p.receive_frame(inc("btcusd", "asks", "13.0", "7.0", 4), 5.0)
    assert [f["event"] for f in frames(actions)] == ["unsubscribe", "subscribe"]
    assert notes(actions) == []  # never synced: nothing new to say
    assert "no snapshot within 5 s" in str(p.books["btcusd"].unsynced_reason)
    # The wait starts again with the resync.
    assert texts(p.receive_frame(inc("btcusd", "asks", "13.0", "7.0", 5), 9.9)) == []
    assert len(texts(p.receive_frame(inc("btcusd", "asks", "13.0", "7.0", 6), 10.0))) == 2


def test_unsubscribe_unsyncs_the_book_and_late_frames_are_not_applied() -> None:
    p = booked()
    _, actions = p.unsubscribe(2, "btcusd.ob-inc")
    assert notes(actions) == [BookOutOfSync("btcusd", "unsubscribed")]
    assert frames(actions) == [{"event": "unsubscribe", "streams": ["btcusd.ob-inc"]}]
    p.receive_frame(SNAP, 3)  # in flight before the server took the unsubscribe
    assert not p.books["btcusd"].synced
    # No resync of a book no longer wished.
    assert texts(p.receive_frame(inc("btcusd", "asks", "13.0", "5.0", 9), 4)) == []


def test_resync_not_sent_for_a_book_whose_stream_the_user_dropped() -> None:
    p = booked()
    p.unsubscribe(2, "btcusd.ob-inc")
    p.subscribe(2, "btcusd.ob-inc")
    actions = p.receive_frame(SNAP, 3)
    assert notes(actions) == [BookSynced("btcusd")]


def test_increment_with_several_levels_and_a_sequence_applies_all_or_none() -> None:
    p = booked()
    both = dumps({"btcusd.ob-inc": {"asks": [["13.0", "1.0"], ["12.0", ""]], "sequence": 2}})
    p.receive_frame(both, 2)
    assert levels(p.books["btcusd"])[1] == [("13.0", "1.0"), ("14.0", "1.0")]
    p.receive_frame(dumps({"btcusd.ob-inc": {"asks": [["13.0", "9.0"], ["14.0", ""]], "sequence": 2}}), 2)
    assert levels(p.books["btcusd"])[1] == [("13.0", "1.0"), ("14.0", "1.0")]  # a repeat: neither


def test_snapshot_of_a_market_not_subscribed_is_only_delivered() -> None:
    p = connected(streams=["btcusd.trades"])
    actions = p.receive_frame(SNAP, 1)
    assert len(delivered(actions)) == 1
    assert notes(actions) == []
    assert "btcusd" not in p.books
