r"""Cryptology's binary framing (XDR, RFC 4506): frames to their parts and back, pure.

The real market-data WebSocket sends only binary frames. The first one is the server's protocol
version, an XDR unsigned int (4 bytes, big-endian). Every later frame is one message: an XDR
enum (a signed 32-bit big-endian integer) saying its type, then the type's fields:

==  =============  ==========================================================================
1   outbox         hyper outbox id, double timestamp, string JSON (the account socket)
2   RPC response   hyper request id, string JSON (the account socket)
3   error          int error type (:class:`ErrorType`), string message (text, not JSON)
4   broadcast      string JSON: the market data
5   throttling     int level, hyper sequence id, hyper order id (the account socket)
==  =============  ==========================================================================

An XDR string is an unsigned 32-bit length, that many bytes and zero bytes up to a multiple
of four. A hyper is a signed 64-bit integer, a double an IEEE 754 binary64, all big-endian.

This layout is the official client's (CryptologyExchange/cryptology-client-python at
``ba206b1``: ``cryptology/common.py`` for the enums, ``market_data_client.py`` for the
version frame and broadcasts, ``client.py`` for the fields of types 1, 2, 3 and 5, which its
account socket reads after decryption). That client takes only type 4 on the market-data
socket. From February to April 2018 the server also sent a one-byte frame ``b"\x00"`` as a
heartbeat (:data:`LEGACY_HEARTBEAT`).

:func:`unpack` is stricter than the official client, which ignores bytes after a message and
the value of padding bytes: here a frame must be exactly one message, padded with zeros, or
it is garbled (:class:`XdrError`). Frames are small; nothing here is worth a C extension.
"""

from __future__ import annotations

import enum
import struct
from typing import TypeAlias

import attrs

__all__ = [
    "LEGACY_HEARTBEAT",
    "VERSION",
    "Broadcast",
    "ErrorType",
    "MessageType",
    "Outbox",
    "RpcResponse",
    "ServerError",
    "Throttling",
    "XdrError",
    "XdrMessage",
    "broadcast_payload",
    "message_type_name",
    "pack_broadcast",
    "pack_error",
    "pack_outbox",
    "pack_rpc_response",
    "pack_throttling",
    "pack_version",
    "unpack",
    "unpack_version",
]

VERSION = 1
"""The market-data protocol version this client knows (the only one any source names)."""

LEGACY_HEARTBEAT = b"\x00"
"""The one-byte heartbeat frame the server sent every 2 s from February to April 2018."""


class MessageType(enum.IntEnum):
    """The XDR enum that starts every frame after the version frame."""

    OUTBOX = 1
    RPC_RESPONSE = 2
    ERROR = 3
    BROADCAST = 4
    THROTTLING = 5


class ErrorType(enum.IntEnum):
    """The error type of an error message (``ServerErrorType`` of the official client)."""

    UNKNOWN_ERROR = -1
    DUPLICATE_CLIENT_ORDER_ID = 1
    INVALID_PAYLOAD = 2
    TRADES_DISABLED = 3


class XdrError(ValueError):
    """A frame that is not one well-formed XDR message; the text says what is wrong."""


@attrs.frozen
class Broadcast:
    """Type 4: market data. ``payload`` is the JSON text, as UTF-8 bytes."""

    payload: bytes = attrs.field(repr=False)


@attrs.frozen
class Outbox:
    """Type 1: an account event with its outbox id and server timestamp (seconds since the epoch)."""

    outbox_id: int
    timestamp: float
    payload: bytes = attrs.field(repr=False)


@attrs.frozen
class RpcResponse:
    """Type 2: the answer to the account's RPC request ``request_id``."""

    request_id: int
    payload: bytes = attrs.field(repr=False)


@attrs.frozen
class ServerError:
    """Type 3: the server reports an error in words; a close with an error code follows.

    ``error_type`` is an :class:`ErrorType` value, or another integer a newer server uses.
    """

    error_type: int
    message: str

    @property
    def kind(self) -> str:
        """The error type's name (``INVALID_PAYLOAD``), or its number when unknown."""
        try:
            return ErrorType(self.error_type).name
        except ValueError:
            return str(self.error_type)


@attrs.frozen
class Throttling:
    """Type 5: the account's order rate is too high (``level``: orders to hold back)."""

    level: int
    sequence_id: int
    order_id: int


XdrMessage: TypeAlias = Broadcast | Outbox | RpcResponse | ServerError | Throttling

_INT = struct.Struct(">i")
_UINT = struct.Struct(">I")
_HYPER = struct.Struct(">q")
_DOUBLE = struct.Struct(">d")
_TYPE_NAMES = {t.value: t.name.lower().replace("_", " ") for t in MessageType}


# -- packing (the test server, tests) --------------------------------------------------------


def _string(data: bytes) -> bytes:
    pad = -len(data) % 4
    return _UINT.pack(len(data)) + data + b"\x00" * pad


def _text(data: str | bytes) -> bytes:
    return data.encode() if isinstance(data, str) else data


def pack_version(version: int = VERSION) -> bytes:
    """The version frame: an XDR unsigned int."""
    return _UINT.pack(version)


def pack_broadcast(payload: str | bytes) -> bytes:
    """A broadcast frame carrying this JSON text."""
    return _INT.pack(MessageType.BROADCAST) + _string(_text(payload))


def pack_outbox(outbox_id: int, timestamp: float, payload: str | bytes) -> bytes:
    """An outbox frame (an account event)."""
    return (
        _INT.pack(MessageType.OUTBOX)
        + _HYPER.pack(outbox_id)
        + _DOUBLE.pack(timestamp)
        + _string(_text(payload))
    )


def pack_rpc_response(request_id: int, payload: str | bytes) -> bytes:
    """An RPC response frame."""
    return _INT.pack(MessageType.RPC_RESPONSE) + _HYPER.pack(request_id) + _string(_text(payload))


def pack_error(error_type: int, message: str) -> bytes:
    """An error frame: the error type and its description."""
    return _INT.pack(MessageType.ERROR) + _INT.pack(error_type) + _string(message.encode())


def pack_throttling(level: int, sequence_id: int, order_id: int) -> bytes:
    """A throttling frame."""
    return (
        _INT.pack(MessageType.THROTTLING)
        + _INT.pack(level)
        + _HYPER.pack(sequence_id)
        + _HYPER.pack(order_id)
    )


# -- unpacking ---------------------------------------------------------------------------------


def unpack_version(frame: bytes) -> int:
    """The version a version frame carries.

    Raises:
        XdrError: the frame is not exactly 4 bytes.
    """
    if len(frame) != 4:
        raise XdrError(f"a version frame is an XDR unsigned int of 4 bytes, got {len(frame)} bytes")
    version: int = _UINT.unpack(frame)[0]
    return version


class _Reader:
    """Reads XDR items from one frame, front to back, naming what is missing."""

    __slots__ = ("frame", "pos")

    def __init__(self, frame: bytes) -> None:
        self.frame = frame
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        end = self.pos + n
        if end > len(self.frame):
            left = len(self.frame) - self.pos
            raise XdrError(f"frame ends inside the {what}: {n} bytes needed, {left} left")
        chunk = self.frame[self.pos : end]
        self.pos = end
        return chunk

    def int32(self, what: str) -> int:
        value: int = _INT.unpack(self.take(4, what))[0]
        return value

    def hyper(self, what: str) -> int:
        value: int = _HYPER.unpack(self.take(8, what))[0]
        return value

    def double(self, what: str) -> float:
        value: float = _DOUBLE.unpack(self.take(8, what))[0]
        return value

    def string(self, what: str) -> bytes:
        length: int = _UINT.unpack(self.take(4, f"length of the {what}"))[0]
        left = len(self.frame) - self.pos
        if length > left:
            raise XdrError(f"the {what} says {length} bytes, the frame has {left} after its length")
        data = self.take(length, what)
        pad = -length % 4
        padding = self.take(pad, f"padding of the {what}")
        if padding.count(0) != pad:
            raise XdrError(f"the padding after the {what} is not zero bytes")
        return data

    def done(self) -> None:
        extra = len(self.frame) - self.pos
        if extra:
            raise XdrError(f"{extra} bytes after the end of the message")


_HEAD = struct.Struct(">iI")  # a message type and, for a broadcast, its string's length


def broadcast_payload(frame: bytes) -> bytes | None:
    """The JSON bytes of a well-formed broadcast frame, else ``None`` (then see :func:`unpack`).

    The per-frame fast path of market data: :func:`unpack` gives the same bytes and says what
    is wrong with any other frame.
    """
    size = len(frame)
    if size < 8:
        return None
    kind, length = _HEAD.unpack_from(frame)
    end = 8 + length
    if kind != 4 or size != end + (-length % 4):  # 4: broadcast (a plain int compares faster)
        return None
    if end != size and frame[end:].strip(b"\x00"):
        return None  # non-zero padding
    return frame[8:end]


def message_type_name(value: int) -> str:
    """``"broadcast"`` for 4 and so on; the number itself for a type no source names."""
    return _TYPE_NAMES.get(value, str(value))


def unpack(frame: bytes) -> XdrMessage:
    """Split one message frame (any frame after the version frame) into its parts.

    Raises:
        XdrError: a short frame, an unknown message type, a string length beyond the frame,
            missing or non-zero padding, or bytes after the message.
    """
    if len(frame) < 4:
        raise XdrError(f"a message frame starts with a 4-byte type, got {len(frame)} bytes")
    reader = _Reader(frame)
    kind = reader.int32("message type")
    message: XdrMessage
    if kind == MessageType.BROADCAST:  # the hot path first
        message = Broadcast(reader.string("JSON string"))
    elif kind == MessageType.ERROR:
        error_type = reader.int32("error type")
        text = reader.string("error message").decode("utf-8", "replace")
        message = ServerError(error_type, text)
    elif kind == MessageType.THROTTLING:
        message = Throttling(reader.int32("level"), reader.hyper("sequence id"), reader.hyper("order id"))
    elif kind == MessageType.OUTBOX:
        outbox_id = reader.hyper("outbox id")
        message = Outbox(outbox_id, reader.double("timestamp"), reader.string("JSON string"))
    elif kind == MessageType.RPC_RESPONSE:
        message = RpcResponse(reader.hyper("request id"), reader.string("JSON string"))
    else:
        raise XdrError(f"unknown message type {kind} (known: 1 to 5)")
    reader.done()
    return message
