r"""Sans-IO protocol for the Cryptology market-data WebSocket.

The market-data feed is unauthenticated and read-only: the server sends every message to every
client and has no subscribe request. ``subscribe`` / ``unsubscribe`` therefore never put
anything on the wire; they set a *client-side* trade-pair filter (see
:meth:`CryptologyProtocol.subscribe`), so an application can still say what it wants in the same
words it uses with the other feeds.

Two wire forms, told apart by the first frame of each connection (``wire_form="auto"``):

* **XDR** (binary frames), what the real server sends (the official client,
  CryptologyExchange/cryptology-client-python ``market_data_client.py`` at ``ba206b1``): a
  version frame (an XDR unsigned int) at once, then one XDR message per frame, market data as
  type 4 (broadcast) carrying the JSON text. See :mod:`trio_feeds._codecs.cryptology_xdr`.
* **JSON** (text frames), the form the documents' examples suggest: each frame is the JSON
  text itself.

On the XDR form:

* The session is ready when the version frame arrived. None within ``version_timeout``
  (3 s, the official client's wait) drops the connection and reconnects, saying why. A
  server of the JSON form sends nothing until it has data, so a quiet one is dropped too:
  open it with ``wire_form="json"``.
* Any version is accepted, as the official client has done since May 2018 (before, it
  required 1); the version is kept (:attr:`CryptologyProtocol.server_version`), and when it
  is not 1 every bad frame's error says so. A first frame that is a well-formed broadcast
  instead (no version frame at all) is delivered, the version left unknown; any other
  first frame is the version frame, a bad frame if it is not 4 bytes.
* A text frame is a bad frame ("text frame on the binary XDR form"); a frame that is not one
  well-formed XDR message (short, an unknown type, a length beyond the frame, missing or
  non-zero padding, bytes after the message) is a bad frame saying what is wrong. Neither
  ends the feed.
* An error message (type 3) is a bad frame naming the error type and the server's words:
  the official client ends its session on it, and the server closes with an error code
  next (whose verdict then decides). Throttling (5), outbox (1) and RPC responses (2)
  belong to the account socket: bad frames that say so.
* The one-byte frame ``b"\x00"`` (the 2018 server's heartbeat) is skipped; it still counts
  as a sign of life.
* Liveness: a WebSocket ping every 3 s, a pong within 3 s (:attr:`HeartbeatPolicy.ping_interval`
  and ``ping_timeout``, used unless ``FeedConfig`` sets its own). The official client pings
  every 3 s and gives up after 6 s without a frame (pongs count); 3 s + 3 s keeps that bound.
  The server sends nothing on a quiet market, so there is no silence bound by default
  (``server_heartbeat=None``).

On the JSON form a binary frame is a bad frame ("binary frame on the JSON text form").

Close codes (the official client's ``exceptions.handle_close_message``): see ``_CLOSE_CODES``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Literal, TypeAlias

from .._codecs import cryptology as _codec_module
from .._codecs import cryptology_xdr as xdr
from .._normalize import cryptology as _normalize
from ..books import Books, Level
from ..errors import DecodeError
from ..models.cryptology import (
    BuyOrderAmountChanged,
    BuyOrderCancelled,
    BuyOrderClosed,
    BuyOrderPlaced,
    InsufficientFunds,
    OrderBookAgg,
    OwnTrade,
    SellOrderAmountChanged,
    SellOrderCancelled,
    SellOrderClosed,
    SellOrderPlaced,
    SetBalance,
)
from ..normalized import Normalized
from ._protocol import (
    Action,
    BadFrame,
    CloseVerdict,
    ConnectTarget,
    Deliver,
    FeedProtocol,
    HeartbeatPolicy,
    Notify,
)
from ._shared import classify_close

__all__ = ["VERSION_TIMEOUT", "CryptologyProtocol", "WireForm"]

WireForm: TypeAlias = Literal["auto", "xdr", "json"]
"""``"xdr"``: binary frames; ``"json"``: text frames; ``"auto"``: the first frame decides."""

VERSION_TIMEOUT = 3.0
"""Seconds the official client waits for the version frame."""

PING_INTERVAL = 3.0
"""The official client's WebSocket heartbeat (aiohttp ``heartbeat=3``)."""

PING_TIMEOUT = 3.0
"""Pong deadline: with the interval, the official client's 6 s receive timeout."""

# Cryptology's own close codes (the official client raises a named error for each). The rest
# follow the shared table. Our verdicts differ from the official example's waits on purpose:
# it reconnects at once after 4009 (we back off, rate_limit_backoff + jitter: reconnecting
# straight into a rate limit prolongs it), and sleeps 80 s after 1012 (we retry with the
# jittered exponential backoff: a quick restart costs seconds of data, not 80, and while the
# server is still down the refused attempts grow the delay up to backoff_max).
_CLOSE_CODES = {
    # Concurrent connection: the same client twice (an account-socket rule). After a network
    # drop the server may still hold our *previous* connection for a while, so this heals;
    # retrying at normal speed would only make the two fight, hence slowly.
    4000: CloseVerdict.RETRY_SLOW,
    # Invalid sequence (of the account socket's client messages): a fresh connection starts over.
    4001: CloseVerdict.RETRY,
    4009: CloseVerdict.RETRY_SLOW,  # rate limit
    1012: CloseVerdict.RETRY,  # server restart
}
# Not listed, so retried normally: 4002 (duplicate client order id) and 4003-4008 (invalid
# payload), which the 2018 server used for the account socket's client messages before they
# became error messages. The market-data client sends nothing, so they cannot be its fault.


class CryptologyProtocol(FeedProtocol):
    """The Cryptology market-data feed (no auth, no subscribe messages).

    Args:
        url: the WebSocket URL.
        trade_pairs: initial client-side filter (``None``: deliver every message).
        server_heartbeat: silence longer than this (seconds) means the connection is dead.
            ``None`` (default): the real server sends nothing on a quiet market, so only the
            WebSocket pings decide.
        wire_form: ``"auto"`` (default: the first frame of each connection decides),
            ``"xdr"`` or ``"json"``; see the module docstring.
        version_timeout: on the XDR form (and ``"auto"``), the version frame must arrive
            within this many seconds of connecting (at most ``FeedConfig.request_timeout``).
    """

    name = "cryptology"

    def __init__(
        self,
        url: str,
        *,
        trade_pairs: Iterable[str] | None = None,
        server_heartbeat: float | None = None,
        wire_form: WireForm = "auto",
        version_timeout: float = VERSION_TIMEOUT,
    ) -> None:
        if wire_form not in ("auto", "xdr", "json"):
            raise ValueError(f"wire_form must be 'auto', 'xdr' or 'json', got {wire_form!r}")
        if not version_timeout > 0:
            raise ValueError(f"version_timeout must be > 0, got {version_timeout!r}")
        self.url = url
        self.wire_form: WireForm = wire_form
        self.version_timeout = version_timeout
        if wire_form == "json":
            self.heartbeat = HeartbeatPolicy(server_heartbeat=server_heartbeat)
        else:
            self.heartbeat = HeartbeatPolicy(
                server_heartbeat=server_heartbeat,
                auth_deadline=version_timeout,
                ping_interval=PING_INTERVAL,
                ping_timeout=PING_TIMEOUT,
            )
        self._pairs: set[str] | None = None if trade_pairs is None else set(trade_pairs)
        self._connected = False
        self._form: Literal["xdr", "json"] | None = None  # this connection's, once known
        self._handshake_done = False  # XDR: the version frame arrived
        self._version: int | None = None
        self._books: Books[str] = Books()

    def __repr__(self) -> str:
        pairs = "all" if self._pairs is None else sorted(self._pairs)
        return f"CryptologyProtocol(url={self.url!r}, trade_pairs={pairs!r}, wire_form={self.wire_form!r})"

    @property
    def ready(self) -> bool:
        """True while connected and, on the XDR form, once the version frame arrived."""
        return self._connected and (self._form == "json" or self._handshake_done)

    @property
    def form(self) -> Literal["xdr", "json"] | None:
        """The current connection's wire form; ``None`` until its first frame (``"auto"``)."""
        return self._form

    @property
    def server_version(self) -> int | None:
        """The protocol version of the current connection's version frame (XDR form only)."""
        return self._version

    @property
    def trade_pairs(self) -> frozenset[str] | None:
        """The client-side filter, or ``None`` when every message is delivered."""
        return None if self._pairs is None else frozenset(self._pairs)

    keeps_account = True

    def account_message(self, item: object) -> bool:
        """Order lifecycle messages, ``SetBalance``, ``OwnTrade``, ``InsufficientFunds``."""
        return isinstance(item, _ACCOUNT_TYPES)

    def normalize(self, item: object, received_at: datetime) -> tuple[Normalized, ...]:
        """See :func:`trio_feeds._normalize.cryptology.normalize`."""
        return _normalize.normalize(item, received_at)  # type: ignore[arg-type]

    def connect_target(self) -> ConnectTarget:
        """Return the URL as given."""
        return ConnectTarget(self.url)

    def connection_made(self, now: float) -> Sequence[Action]:
        """Nothing to send: the server starts streaming by itself."""
        self._connected = True
        self._form = "json" if self.wire_form == "json" else None
        self._handshake_done = False
        self._version = None
        return ()

    def connection_lost(self) -> Sequence[Action]:
        """Not ready until the next connection; the books may be stale from here on."""
        self._connected = False
        self._form = None
        self._handshake_done = False
        self._version = None
        return [Notify(e) for e in self._books.unsync_all("disconnected")]

    def not_ready_reason(self, waited: float) -> str:
        """No version frame in time: say so, and what to do about a quiet JSON-form server."""
        reason = f"no version frame within {waited:g} s of connecting (the binary XDR form sends it at once)"
        if self.wire_form == "auto":
            reason += (
                "; for a server of the plain JSON text form, which may stay silent, use wire_form='json'"
            )
        return reason

    @property
    def books(self) -> Books[str]:
        """The aggregated order book of each trade pair, keyed by its name (``"BTC_USD"``)."""
        return self._books

    # -- frames ------------------------------------------------------------------------------

    def receive_frame(self, frame: str | bytes, now: float) -> Sequence[Action]:
        """Unwrap (XDR), decode and deliver, unless the client-side trade-pair filter excludes it."""
        form = self._form
        if form is None:
            # The first frame of the connection tells the form ("auto"), or must fit "xdr".
            if type(frame) is str and self.wire_form == "auto":
                form = self._form = "json"
            else:
                form = self._form = "xdr"
        if form == "xdr":
            if type(frame) is not bytes:
                return [
                    self._bad("text frame on the binary XDR form (every frame of this connection is binary)")
                ]
            if not self._handshake_done:
                return self._version_frame(frame)
            return self._xdr_message(frame)
        if type(frame) is not str:
            return [self._bad("binary frame on the JSON text form (every frame of this connection is text)")]
        return self._json(frame)

    def _version_frame(self, frame: bytes) -> Sequence[Action]:
        if frame == xdr.LEGACY_HEARTBEAT:
            return ()
        self._handshake_done = True  # whatever it holds, the server's first frame is its version
        if len(frame) != 4 and xdr.broadcast_payload(frame) is not None:
            # No version frame at all: the server began with data. Keep it (version unknown).
            return self._xdr_message(frame)
        try:
            self._version = xdr.unpack_version(frame)
        except xdr.XdrError as exc:
            # Garbled: the version stays unknown; the messages that follow still decode.
            return [self._bad(str(exc))]
        return ()

    def _xdr_message(self, frame: bytes) -> Sequence[Action]:
        payload = xdr.broadcast_payload(frame)  # market data: the per-frame path
        if payload is None:
            if frame == xdr.LEGACY_HEARTBEAT:
                return ()
            try:
                message = xdr.unpack(frame)
            except xdr.XdrError as exc:
                return [self._bad(str(exc))]
            if not isinstance(message, xdr.Broadcast):
                return [self._foreign(message)]
            payload = message.payload  # pragma: no cover - broadcast_payload takes every good one
        try:
            # Decoded here, so that bad UTF-8 is named as the broadcast's, not as a frame's.
            text = payload.decode()
        except UnicodeDecodeError:
            return [self._bad("the broadcast's JSON string is not valid UTF-8")]
        return self._json(text)

    def _foreign(self, message: xdr.XdrMessage) -> BadFrame:
        """What a frame of another type than broadcast is, on the market-data socket."""
        if isinstance(message, xdr.ServerError):
            # The server's own words, bounded: a reason, not a payload.
            words = message.message[:200]
            return self._bad(f"server error message ({message.kind}): {words!r}; a close follows")
        if isinstance(message, xdr.Throttling):
            return self._bad(
                f"throttling message (level {message.level}, sequence {message.sequence_id}, "
                f"order {message.order_id}) belongs to the account socket; this feed sends no orders"
            )
        kind = "outbox" if isinstance(message, xdr.Outbox) else "RPC response"
        return self._bad(f"{kind} message belongs to the account socket, not market data")

    def _bad(self, reason: str, *, tag: str | None = None, path: str = "$") -> BadFrame:
        if self._version is not None and self._version != xdr.VERSION:
            # A version this client does not know may frame or spell things differently.
            reason += f" (server protocol version {self._version}; this client knows {xdr.VERSION})"
        return BadFrame(DecodeError(self.name, reason, tag=tag, path=path))

    def _json(self, text: str) -> Sequence[Action]:
        try:
            msg = _codec_module.decode_frame(text)
        except DecodeError as exc:
            if self._version is not None and self._version != xdr.VERSION:
                return [self._bad(exc.reason, tag=exc.tag, path=exc.path)]
            return [BadFrame(exc)]
        if self._pairs is not None:
            # Messages without a pair (balances, errors, unknown tags) are never filtered out:
            # the filter is about markets, and dropping an account message would lose money.
            pair = getattr(msg, "trade_pair", None)
            if isinstance(pair, str) and pair not in self._pairs:
                return ()
        if isinstance(msg, OrderBookAgg):
            # Each OrderBookAgg is the whole aggregated book of its pair: a snapshot.
            events = self._books.snapshot(msg.trade_pair, _levels(msg.buy_levels), _levels(msg.sell_levels))
            return [Deliver(msg), *(Notify(e) for e in events)]
        return [Deliver(msg)]

    # -- the client-side filter --------------------------------------------------------------

    def subscribe(self, now: float, /, *trade_pairs: str) -> tuple[str | None, Sequence[Action]]:
        """Deliver messages of these trade pairs (client-side; nothing is sent).

        The first call narrows the feed from "everything" to the pairs given; later calls add
        pairs. With no pairs, the filter is dropped and everything is delivered again. Returns
        ``(None, ())``: there is no request to wait for.
        """
        if not trade_pairs:
            self._pairs = None
        elif self._pairs is None:
            self._pairs = set(trade_pairs)
        else:
            self._pairs.update(trade_pairs)
        return None, ()

    def unsubscribe(self, now: float, /, *trade_pairs: str) -> tuple[str | None, Sequence[Action]]:
        """Stop delivering messages of these trade pairs (client-side; nothing is sent).

        Raises:
            ValueError: no pairs given, or no filter is set (the feed delivers everything and
                there is no "all but" filter): subscribe to the pairs you want instead.
        """
        if not trade_pairs:
            raise ValueError("unsubscribe() needs at least one trade pair")
        if self._pairs is None:
            raise ValueError(
                "the feed delivers every trade pair; subscribe to the pairs you want instead of "
                "unsubscribing from the others"
            )
        self._pairs.difference_update(trade_pairs)
        return None, ()

    def classify_close(self, code: int | None, reason: str) -> CloseVerdict:
        """4000 and 4009 retry slowly, 4001 and 1012 retry, then the shared table (1008 fatal)."""
        verdict = _CLOSE_CODES.get(code) if code is not None else None
        return verdict if verdict is not None else classify_close(code, reason)


_ACCOUNT_TYPES = (
    BuyOrderPlaced,
    BuyOrderAmountChanged,
    BuyOrderCancelled,
    BuyOrderClosed,
    SellOrderPlaced,
    SellOrderAmountChanged,
    SellOrderCancelled,
    SellOrderClosed,
    SetBalance,
    OwnTrade,
    InsufficientFunds,
)


def _levels(levels: dict[str, Decimal] | None) -> list[Level]:
    # Prices are the keys, as decimal strings the codec checked; an absent side is empty.
    return [] if not levels else [(Decimal(price), amount) for price, amount in levels.items()]
