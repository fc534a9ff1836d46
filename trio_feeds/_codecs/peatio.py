"""The Peatio Ranger codec: frames to generated models and back.

Every server frame is a one-key object, ``{"<stream>": payload}``: ``{"btcusd.trades": {...}}``,
``{"order": {...}}``, and the replies ``{"success": {...}}`` / ``{"error": {...}}``. peatio-core
0.4.0 to 0.4.4 (2018-08 to 2019-01, the server of the protocol document) sent the same as a
two-item array, ``["btcusd.trades", {...}]``. ``decode`` returns a :class:`StreamMessage` holding
the stream name, the typed payload and the form it came in, so ``encode`` writes the same frame
back. Client requests (``{"jwt": ...}``, ``{"event": "subscribe", ...}``) decode to their own
classes. The text frames ``ping``/``pong`` are not JSON and never reach this codec.

Payloads that are not objects: ``global.tickers`` is a map keyed by market (:data:`GlobalTickers`),
a k-line an array of JSON numbers (:data:`KLine`, decoded exactly as ``Decimal``: this codec
parses every non-integer JSON number from its text), and rango's error replies carry the text
itself (decoded as :class:`TextError`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Generic, Literal, TypeAlias, TypeVar

import attrs
import msgspec

from ..errors import DecodeError
from ..models import peatio as _models
from ..models.peatio import (
    AuthRequest,
    ClientMessage,
    DepositAddress,
    Error,
    GlobalTickers,
    KLine,
    MarketUpdate,
    Order,
    OrderBookIncrement,
    OrderBookSnapshot,
    PublicTrades,
    SubscribeRequest,
    Success,
    Trade,
    UnsubscribeRequest,
)
from ._base import Codec, JSONObject, UnknownMessage, _loads_numbers, model_classes
from ._converter import constructor
from ._fastpath import FastDecoder, strict_decides

# An envelope with its values as text: msgspec checks them as JSON (the payload's own decode,
# with unknown fields refused, then checks every value of it, see _fastpath.py).
_envelope: Callable[[Any], dict[str, msgspec.Raw]] = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode

# The generated `<Type>Frame` models (and the object halves `<Type>Frame1` of frames that also
# have an array form) describe envelopes; decode never returns them.
PUBLIC_CLASSES = [c for c in model_classes(_models) if not re.search(r"Frame\d*$", c.__name__)]

__all__ = [
    "PUBLIC_CLASSES",
    "FrameForm",
    "Payload",
    "StreamMessage",
    "TextError",
    "UnknownArrayFrame",
    "codec",
    "decode",
    "encode",
    "market_of",
]

FrameForm: TypeAlias = Literal["object", "array"]
"""How a server frame was laid out: ``{"<stream>": payload}`` or ``["<stream>", payload]``."""


@attrs.define(kw_only=True)
class TextError(Error):
    """An ``error`` reply whose payload is the text itself: rango's ``{"error": "No streams provided"}``.

    An :class:`Error` like any other (``message`` is the text); ``encode`` writes the string back.
    """


Payload = (
    MarketUpdate
    | PublicTrades
    | OrderBookSnapshot
    | OrderBookIncrement
    | GlobalTickers
    | KLine
    | Order
    | Trade
    | DepositAddress
    | Success
    | Error
)
"""Any payload a Ranger server frame can carry."""

P = TypeVar("P", bound=Payload)


@attrs.define(kw_only=True)
class StreamMessage(Generic[P]):
    """A server frame: the stream it came on, its typed payload, and its layout.

    Attributes:
        stream: the frame's key: ``"btcusd.trades"``, ``"order"``, ``"success"``, ...
        data: the payload (``PublicTrades``, ``Order``, ``Success``, ...).
        form: ``"object"`` (``{"<stream>": payload}``, every Ranger since 2019) or ``"array"``
            (``["<stream>", payload]``, peatio-core 0.4.0 to 0.4.4); ``encode`` writes this form.
    """

    stream: str
    data: P
    form: FrameForm = "object"

    @property
    def market(self) -> str | None:
        """The market of a public stream (``"btcusd"`` for ``"btcusd.trades"``), else None."""
        return market_of(self.stream)


@attrs.define(kw_only=True)
class UnknownArrayFrame(UnknownMessage):
    """An :class:`~trio_feeds.UnknownMessage` that came as an array frame, ``["<stream>", payload]``.

    ``raw`` is ``{"<stream>": payload}``, as for an object frame; ``encode`` writes the array.
    """


_new_stream_message = constructor(StreamMessage, ["stream", "data"]) or StreamMessage
"""Builds a StreamMessage without ``type.__call__``'s keyword packing (see ``_constructor``)."""

# The same patterns as the `*Frame` defs of schemas/peatio.json.
_MARKET_STREAMS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^[a-z0-9_]+\.update$"), MarketUpdate),
    (re.compile(r"^[a-z0-9_]+\.trades$"), PublicTrades),
    (re.compile(r"^[a-z0-9_]+\.kline-[0-9]+[mhdw]$"), KLine),
    (re.compile(r"^[a-z0-9_]+\.ob-snap$"), OrderBookSnapshot),
    (re.compile(r"^[a-z0-9_]+\.ob-inc$"), OrderBookIncrement),
]
_NAMED_STREAMS: dict[str, Any] = {
    "global.tickers": GlobalTickers,
    "order": Order,
    "trade": Trade,
    "deposit_address": DepositAddress,
    "success": Success,
    "error": Error,
}
_ALIASES = (GlobalTickers, KLine)  # payload types that are not classes: a map, an array
_EVENTS: dict[str, type] = {"subscribe": SubscribeRequest, "unsubscribe": UnsubscribeRequest}


def market_of(stream: str) -> str | None:
    """The market part of a public stream name, or None for private streams, replies and ``global.*``."""
    market, dot, _ = stream.partition(".")
    return market if dot and market != "global" else None


def _match_payload_type(stream: str) -> Any:
    cls = _NAMED_STREAMS.get(stream)
    if cls is not None:
        return cls
    for pattern, candidate in _MARKET_STREAMS:
        if pattern.match(stream):
            return candidate
    return None


_PAYLOAD_TYPES: dict[str, Any] = {}

# How many streams get a one-pass decoder of their own (see _RangerCodec._stream_decoder).
_MAX_ONE_PASS_STREAMS = 256
# The start of an object frame and its first key's closing quote, by the frame's type.
_OPENING: dict[type, tuple[Any, Any]] = {bytes: (b'{"', b'"'), str: ('{"', '"')}
# A stream's one-pass decoder: (decode, convert, stream), convert(decode(frame).value) its payload.
_OnePass: TypeAlias = tuple[Callable[[Any], Any], Callable[[Any], Any], str]


def payload_type(stream: str) -> Any:
    """The payload type of a stream (a model class, :data:`GlobalTickers` or :data:`KLine`), or None."""
    # A feed uses a handful of streams: remember the answer instead of running the patterns
    # on every frame (bounded, in case a server invents stream names).
    try:
        return _PAYLOAD_TYPES[stream]
    except KeyError:
        cls = _match_payload_type(stream)
        # Only short names: a server could send a thousand megabyte-long keys.
        if len(_PAYLOAD_TYPES) < 1024 and len(stream) <= 128:
            _PAYLOAD_TYPES[stream] = cls
        return cls


def _classify_client(obj: JSONObject) -> tuple[str | None, type | None]:
    event = obj.get("event")
    if event is not None:
        # A non-string event is unknown, its tag None (never repr'd: it may be of any size).
        return (event, _EVENTS.get(event)) if type(event) is str else (None, None)
    if "jwt" in obj:
        return "jwt", AuthRequest
    return None, None


class _RangerCodec(Codec):
    """Codec whose server frames are ``{stream: payload}`` (or ``[stream, payload]``) envelopes."""

    def __init__(self) -> None:
        super().__init__("peatio", PUBLIC_CLASSES, _classify_client, numbers="string")
        # Every non-integer JSON number is parsed from its text as a Decimal (k-lines are JSON
        # numbers). Decimal strings are unaffected, and a number where a string belongs is
        # still refused by the strict hooks.
        self._loads = _loads_numbers
        for alias in _ALIASES:
            self._structure[alias] = self.converter.get_structure_hook(alias)  # type: ignore[index]
        self._alias_out = {alias: self.converter.get_unstructure_hook(alias) for alias in _ALIASES}
        # The fast path (see _fastpath.py and _stream_decoder), for the streams whose payload
        # is a model.
        self.fast = FastDecoder(
            self.converter,
            (),
            checks={},
            float_hook=Decimal,  # as _loads_numbers parses
        )
        payloads = {*_NAMED_STREAMS.values(), *(cls for _, cls in _MARKET_STREAMS)}
        self._payload_parts = {
            cls: parts
            for cls in payloads
            if attrs.has(cls) and (parts := self.fast.model_parts(cls)) is not None
        }
        # Per stream seen: the decoder of its whole frame, under the stream's name as str and as
        # bytes (see _stream_decoder). A feed uses a handful of streams; the bound keeps a server
        # that invents names from making a decoder for each.
        self._streams: dict[str | bytes, _OnePass] = {}
        self._fast = self._stream_decoder(strict_decides)
        self.decode = self._stream_decoder(self.decode_strict)

    def _first_sight(self, frame: Any) -> tuple[Any, str]:
        """``(payload, stream)`` of a frame of a stream without a one-pass decoder; makes one.

        Reads the envelope's one key with the payload left as text, then decodes the payload
        typed. Raises (``LookupError`` for a frame without a fast form) for the strict path.
        """
        envelope = _envelope(frame)
        if len(envelope) != 1:
            raise LookupError("not a one-key envelope")
        ((stream, raw),) = envelope.items()
        cls = payload_type(stream)
        decode, convert = self._payload_parts[cls]
        data = convert(decode(raw))
        streams = self._streams
        if stream not in streams and len(streams) < 2 * _MAX_ONE_PASS_STREAMS and len(stream) <= 128:
            parts = self.fast.keyed_parts(cls, stream)
            if parts is not None:
                streams[stream] = streams[stream.encode()] = (*parts, stream)
        return data, stream

    def _stream_decoder(self, fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """A frame's message by the fast path when its payload has a fast form, else ``fallback(frame)``.

        One function per frame, as ``FastDecoder.decoder``. A frame of a stream seen before is
        decoded in one msgspec pass (``FastDecoder.keyed_parts``), found by the text between the
        frame's first two quotes. That text is only a guess at the key (a key with an escape in
        it is not found, and takes the first-sight way): msgspec checks the key itself, and a
        frame it refuses goes to ``fallback``. 0.34 -> 0.38x msgspec's typed decode on a small
        trades frame (``benchmarks/decode.py``), the envelope's own decode and lookups saved.
        """
        streams = self._streams
        first_sight = self._first_sight
        new = object.__new__

        # The frame start of the stream decoded last, and its decoder: a connection's frames
        # mostly come from a few streams in runs, and one startswith is the cheapest test.
        # One tuple, replaced in one step: threads sharing the codec never pair a start with
        # another stream's decoder (which msgspec would refuse anyway).
        last: tuple[Any, _OnePass | None] = (None, None)

        def decode_frame(frame: Any) -> Any:
            nonlocal last
            try:
                prefix, known = last
                if type(frame) is not type(prefix) or not frame.startswith(prefix):
                    known = None
                    opening = _OPENING.get(type(frame))
                    if opening is not None and frame.startswith(opening[0]):
                        key = frame[2 : frame.find(opening[1], 2)]
                        known = streams.get(key)
                        if known is not None:
                            last = (opening[0] + key + opening[1], known)
                if known is not None:
                    decode, convert, stream = known
                    data = convert(decode(frame).value)
                else:
                    data, stream = first_sight(frame)
                # StreamMessage's __init__ only sets its fields (_new_stream_message relies on
                # that too): set them here, one call less per frame.
                message = new(StreamMessage)
                message.data = data
                message.stream = stream
                message.form = "object"
                return message
            except Exception:  # noqa: BLE001 - the strict path decides and explains
                pass
            return fallback(frame)

        return decode_frame

    # -- decoding ---------------------------------------------------------------------------------

    def decode_object(self, obj: JSONObject) -> Any:
        if len(obj) == 1:
            ((stream, payload),) = obj.items()
            cls = payload_type(stream)
            if cls is not None:
                return self._stream_message(stream, payload, cls, "object")
            if "jwt" not in obj:
                return self.unknown(stream, obj)
        return super().decode_object(obj)

    def decode_value(self, value: Any) -> Any:
        """``["<stream>", payload]``: the array frames of peatio-core 0.4.0 to 0.4.4."""
        if type(value) is list and len(value) == 2 and type(value[0]) is str:
            stream, payload = value
            cls = payload_type(stream)
            if cls is None:
                kept = self.unknown(stream, {stream: payload})  # refuses what nests too deeply
                return UnknownArrayFrame(protocol=self.protocol, tag=stream, raw=kept.raw)
            return self._stream_message(stream, payload, cls, "array")
        return super().decode_value(value)

    def _stream_message(self, stream: str, payload: Any, cls: Any, form: FrameForm) -> Any:
        if cls is Error and type(payload) is str:
            data: Any = TextError(message=payload)
        else:
            try:
                data = self._structure[cls](payload, cls)
            except Exception:  # noqa: BLE001 - re-raised below as DecodeError with its path
                raise self._error_at(payload, cls, stream, form) from None
        msg = _new_stream_message(stream=stream, data=data)
        if form != "object":
            msg.form = form
        return msg

    def _error_at(self, payload: Any, cls: Any, stream: str, form: FrameForm) -> DecodeError:
        """Why ``payload`` is not a ``cls``, with its path relative to the frame (``$.<stream>...``)."""
        path, reason = self._explain(payload, cls)
        if form == "array":
            key = "[1]"
        else:
            key = f".{stream}" if re.fullmatch(r"[A-Za-z_]\w*", stream) else f"[{json.dumps(stream)}]"
        return DecodeError(self.protocol, reason, tag=stream, path="$" + key + path[1:])

    # -- encoding ---------------------------------------------------------------------------------

    def unstructure(self, message: Any) -> JSONObject:
        """The frame as a JSON object; an array-form frame gives its object form (see :meth:`encode`)."""
        if isinstance(message, StreamMessage):
            return {message.stream: self._payload_value(message)}
        return super().unstructure(message)

    def encode(self, message: Any) -> str:
        """The frame's JSON text, in the form it came in (an array frame stays an array)."""
        if isinstance(message, StreamMessage) and message.form == "array":
            return self.dumps([message.stream, self._payload_value(message)])
        if isinstance(message, UnknownArrayFrame):
            ((stream, payload),) = message.raw.items()
            return self.dumps([stream, payload])
        return super().encode(message)

    def _payload_value(self, message: StreamMessage[Any]) -> Any:
        data = message.data
        if type(data) is TextError:
            return data.message
        if attrs.has(type(data)):
            return super().unstructure(data)
        alias = payload_type(message.stream)
        if alias in self._alias_out:
            return self._alias_out[alias](data)
        raise TypeError(f"{type(data).__name__} is not a payload of the stream {message.stream!r}")


codec = _RangerCodec()
"""The Peatio Ranger :class:`~trio_feeds._codec.Codec`."""


# The codec's decode itself, typed: the sans-IO protocol calls it once per frame, without the
# call decode() adds.
decode_frame: Callable[[str | bytes], StreamMessage[Payload] | ClientMessage | UnknownMessage] = codec.decode


def decode(frame: str | bytes) -> StreamMessage[Payload] | ClientMessage | UnknownMessage:
    """Decode one frame (either direction). Unknown streams give :class:`~trio_feeds.UnknownMessage`.

    Raises:
        trio_feeds.DecodeError: malformed JSON or a field of the wrong type or value.
    """
    result: StreamMessage[Payload] | ClientMessage | UnknownMessage = codec.decode(frame)
    return result


def encode(message: StreamMessage[Any] | ClientMessage | UnknownMessage) -> str:
    """Encode a message to its wire JSON, in the form it was decoded from."""
    return codec.encode(message)
