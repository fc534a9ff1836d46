"""The :class:`Codec` each protocol owns, and :class:`UnknownMessage`.

A codec parses a frame, asks the protocol's ``classify`` function which generated class the
object is, and structures it with strict cattrs converters (see ``_converter.py``): a JSON value
of the wrong type is an error, never a coercion (cattrs would turn ``"false"`` into ``True`` and
``"12"`` into ``12`` on its own).

Decoding runs two converters. The fast one does all the work on good frames. When it fails, the
frame is structured again by a detailed converter, only to find the JSON path of the first bad
value for :class:`~trio_feeds.errors.DecodeError`. Bad frames are rare; good frames should not
pay for error bookkeeping.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal, TypeAlias, TypeVar

import attrs
import msgspec

from ..errors import DecodeError
from ._converter import Check, JSONObject, Numbers, _first_error, _make_converter
from ._fastpath import FastDecoder, Route
from ._scalars import MAX_DEPTH, json_type_name, nested_deeper_than

__all__ = ["Codec", "JSONObject", "Route", "UnknownMessage", "model_classes", "tag_table"]


@attrs.define(kw_only=True)
class UnknownMessage:
    """A well-formed frame whose tag no model knows.

    Real servers add message types; they must not kill a feed. The frame is kept whole so the
    application can still look at it.

    Attributes:
        protocol: which protocol's codec saw it.
        tag: the tag value (``"_cls"``/``"@type"``/``"channel"``/... value, or the Ranger stream
            name), or ``None`` when the object carries no tag, or a tag that is not a string
            (``raw`` has it).
        raw: the decoded JSON object. It nests at most ``MAX_DEPTH`` (64) levels: a deeper
            frame is a :class:`~trio_feeds.DecodeError`, so ``raw`` can always be printed,
            compared and encoded again.
    """

    protocol: str
    tag: str | None
    raw: JSONObject = attrs.field(repr=False)


# One JSON library, msgspec, does the three jobs (benchmarks/json_libs.py measured the choice
# against orjson and the standard library):
#
# - parsing frames whose decimals are JSON strings: the untyped decoder. Integers come out exact
#   at any size up to ``sys.get_int_max_str_digits()`` digits (more is an error, never a float).
# - parsing the gateway's JSON-number money: with ``float_hook=Decimal`` the decoder hands the
#   *text* of every non-integer number literal to ``Decimal``, so the value is exact, as with the
#   standard library's ``parse_float=Decimal``, at a third of its cost per small frame.
#   tests/test_codecs.py checks the two agree on random number literals.
# - writing frames: Decimals become exact JSON numbers in plain notation (``0.00000001``, not
#   ``1E-8``), and a NaN or infinite Decimal is refused (it has no JSON spelling).
#
# Both decoders refuse ``NaN``/``Infinity`` literals, invalid UTF-8 and an escaped lone
# surrogate (``"\ud800"``, which no UTF-8 text can carry); all three raise a ValueError
# subclass (``msgspec.DecodeError``), nesting past the interpreter's limit a RecursionError.
_loads_strings: Callable[[str | bytes], Any] = msgspec.json.Decoder().decode
_loads_numbers: Callable[[str | bytes], Any] = msgspec.json.Decoder(float_hook=Decimal).decode


def _decimal_text(value: Decimal) -> msgspec.Raw:
    if not value.is_finite():
        raise ValueError(f"{value} is not a JSON number")
    # Plain digits ("0.00000001", not "1E-8"), unless that would be megabytes of zeros
    # ("1e999999999", which the gateway's parser takes): then Decimal's own text, which is an
    # exact JSON number too.
    if -_PLAIN_EXPONENT <= value.adjusted() <= _PLAIN_EXPONENT:
        return msgspec.Raw(format(value, "f").encode())
    return msgspec.Raw(str(value).encode())


_dumps = msgspec.json.Encoder(decimal_format=_decimal_text).encode


_PLAIN_EXPONENT = 64


# What the JSON parsers raise for a frame that is not JSON. ArithmeticError: Decimal refuses a
# number whose exponent is beyond its range (1e99999999999999999999), from the parser's hook.
_PARSE_ERRORS = (ValueError, RecursionError, ArithmeticError)


Classifier: TypeAlias = Callable[[JSONObject], "tuple[str | None, type | None]"]


_H = TypeVar("_H")


class _HooksByClass(dict[type, _H]):
    """A codec's hook per class, each made on its first use.

    A codec knows every class of its protocol (a hundred for Cryptology) and a feed meets a
    few: made up front, they cost every process that imports the codec a tenth of a second.
    A class the codec does not know is a ``KeyError``, as in a plain dict.
    """

    def __init__(self, classes: frozenset[type], make: Callable[[type], _H]) -> None:
        super().__init__()
        self._known = classes
        self._make = make

    def __missing__(self, cls: type) -> _H:
        if cls not in self._known:
            raise KeyError(cls)
        hook = self[cls] = self._make(cls)
        return hook


class Codec:
    """Decode frames into a protocol's generated models and encode models back to frames.

    Args:
        protocol: protocol name, used in errors and :class:`UnknownMessage`.
        classes: every generated message class this codec decodes or encodes.
        classify: pure function from a decoded JSON object to ``(tag, class)``; ``class`` is
            ``None`` for a tag no model knows.
        numbers: ``"string"`` when decimals arrive as JSON strings, ``"json"`` when they arrive
            as JSON numbers (parsed exactly, float-free).
        checks: per-class checks run after structuring, for schema rules the generated types
            cannot express (raise ``ValueError`` to reject).
        routes: how ``classify`` picks the common classes, for the fast path (see
            ``_fastpath.py``), in the order ``classify`` looks at their keys. Without routes,
            every frame takes the strict path.
    """

    def __init__(
        self,
        protocol: str,
        classes: Iterable[type],
        classify: Classifier,
        *,
        numbers: Numbers = "string",
        checks: Mapping[type, Check] | None = None,
        routes: Iterable[Route] = (),
    ) -> None:
        self.protocol = protocol
        self.classify = classify
        self.converter = _make_converter(numbers, detailed=False, checks=checks or {})
        self._detailed = _make_converter(numbers, detailed=True, checks=checks or {})
        self._loads = _loads_strings if numbers == "string" else _loads_numbers
        self._classes = frozenset(classes)
        self._structure: dict[type, Callable[[Any, Any], Any]] = _HooksByClass(
            self._classes, self.converter.get_structure_hook
        )
        self._unstructure: dict[type, Callable[[Any], Any]] = _HooksByClass(
            self._classes, self.converter.get_unstructure_hook
        )
        # A subclass with its own decode_object (Peatio's envelopes) gets it called by decode().
        self._own_decode_object = type(self).decode_object is not Codec.decode_object
        fast = FastDecoder(
            self.converter,
            routes,
            checks=checks or {},
            float_hook=Decimal if numbers == "json" else None,
        )
        self.fast = fast
        self._fast: Callable[[object], Any] | None = fast.decode if fast.routes else None
        self.decode: Callable[[str | bytes], Any] = fast.decoder(self.decode_strict)
        """Decode one frame to a model instance or :class:`UnknownMessage`.

        The fast path (see ``_fastpath.py``) when it takes the frame, else :meth:`decode_strict`,
        which gives the same message or explains the frame. An attribute rather than a method:
        one Python call per frame before msgspec.

        Raises:
            DecodeError: for every frame that is not a message or an unknown message; no
                other exception, whatever the frame.
        """

    def loads(self, frame: str | bytes) -> Any:
        """Parse JSON text; raise :class:`DecodeError` for anything that is not JSON."""
        try:
            return self._loads(frame)
        except _PARSE_ERRORS as exc:
            raise self._not_json(exc, frame) from None

    def _not_json(self, exc: Exception, frame: str | bytes) -> DecodeError:
        """The :class:`DecodeError` for what the JSON parser raised on ``frame``.

        The frame itself is never quoted (it may carry credentials): only its size and kind.
        """
        if isinstance(exc, RecursionError):
            detail = "JSON nested too deeply"
        elif isinstance(exc, ArithmeticError):  # Decimal refused a number's exponent
            detail = "a number is out of range"
        else:
            # msgspec.DecodeError (malformed JSON, invalid UTF-8, a number out of range) is a
            # ValueError, and so is the UnicodeEncodeError of a str with a lone surrogate.
            detail = f"malformed JSON: {exc}"
            if isinstance(frame, str):
                try:
                    frame.encode()
                except UnicodeEncodeError as bad:
                    detail = f"text holds a lone surrogate at character {bad.start}"
        if isinstance(frame, bytes | bytearray | memoryview):
            # A binary WebSocket message where the protocol sends text frames.
            size = len(frame)
            try:
                bytes(frame).decode()
            except UnicodeDecodeError:
                detail = "not UTF-8 text"
            return DecodeError(
                self.protocol, f"binary frame ({size} bytes) where this protocol sends text: {detail}"
            )
        return DecodeError(self.protocol, detail)

    def decode_strict(self, frame: str | bytes) -> Any:
        """:attr:`decode` without the fast path: the reference the fast path is tested against."""
        try:
            obj = self._loads(frame)
        except _PARSE_ERRORS as exc:
            raise self._not_json(exc, frame) from None
        if type(obj) is not dict:
            return self.decode_value(obj)
        if self._own_decode_object:
            return self.decode_object(obj)
        # decode_object() and structure() inlined: this is the per-frame hot path.
        tag, cls = self.classify(obj)
        if cls is None:
            return self.unknown(tag, obj)
        try:
            return self._structure[cls](obj, cls)
        except Exception:  # noqa: BLE001 - re-raised below as DecodeError with its path
            path, reason = self._explain(obj, cls)
            raise DecodeError(self.protocol, reason, tag=tag, path=path) from None

    def decode_value(self, value: Any) -> Any:
        """Decode a frame whose JSON value is not an object: an error, unless a protocol has such frames.

        Ranger's older array frames (``["<stream>", payload]``) are the one case so far.
        """
        raise DecodeError(self.protocol, f"expected a JSON object, got {json_type_name(value)}")

    def decode_object(self, obj: JSONObject) -> Any:
        """Structure an already-parsed JSON object (see :attr:`decode`)."""
        tag, cls = self.classify(obj)
        if cls is None:
            return self.unknown(tag, obj)
        return self.structure(obj, cls, tag)

    def unknown(self, tag: str | None, raw: Any) -> UnknownMessage:
        """An :class:`UnknownMessage` keeping ``raw``, unless it nests too deeply to keep."""
        if nested_deeper_than(raw, MAX_DEPTH):
            raise DecodeError(self.protocol, f"JSON nested more than {MAX_DEPTH} levels deep", tag=tag)
        return UnknownMessage(protocol=self.protocol, tag=tag, raw=raw)

    def structure(self, obj: Any, cls: type, tag: str | None = None) -> Any:
        """Structure ``obj`` as ``cls`` strictly, raising :class:`DecodeError` with a JSON path."""
        try:
            return self._structure[cls](obj, cls)
        except Exception:  # noqa: BLE001 - re-raised below as DecodeError with its path
            path, reason = self._explain(obj, cls)
            raise DecodeError(self.protocol, reason, tag=tag, path=path) from None

    def _explain(self, obj: Any, cls: type) -> tuple[str, str]:
        try:
            self._detailed.structure(obj, cls)
        except RecursionError:
            return "$", "JSON nested too deeply"
        except Exception as exc:  # noqa: BLE001 - we only want its description
            try:
                return _first_error(exc, cls, "$")
            except RecursionError:  # an error tree as deep as the frame
                return "$", "JSON nested too deeply"
        # The fast converter failed where the detailed one did not: a bug in our hooks.
        return "$", "could not be structured"

    def unstructure(self, message: Any) -> JSONObject:
        """The JSON object (wire names, wire value forms) for a model instance."""
        if isinstance(message, UnknownMessage):
            return message.raw
        try:
            fn = self._unstructure[type(message)]
        except KeyError:
            raise self._not_encodable(message) from None
        result: JSONObject = fn(message)
        return result

    def _not_encodable(self, message: Any) -> TypeError:
        name = type(message).__name__
        forms = sorted(c.__name__ for c in self._classes if issubclass(c, type(message)))
        if forms:
            # A concept class (Cryptology's BuyOrderPlaced): which wire form is not said.
            return TypeError(f"{name} has no wire form of its own: build one of {', '.join(forms)}")
        return TypeError(f"{name} is not a {self.protocol} message")

    def encode(self, message: Any) -> str:
        """Encode a model instance (or :class:`UnknownMessage`) as JSON text."""
        return self.dumps(self.unstructure(message))

    def dumps(self, obj: Any) -> str:
        """JSON text for an unstructured object (Decimals as exact JSON numbers).

        Raises:
            TypeError: a value with no JSON form (an arbitrary object).
            ValueError: a NaN or infinite Decimal, or a string with a lone surrogate.
        """
        return _dumps(obj).decode()


def model_classes(module: types.ModuleType) -> list[type]:
    """Every attrs class defined in a generated models module, in definition order."""
    return [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and attrs.has(obj) and obj.__module__ == module.__name__
    ]


def tag_table(classes: Iterable[type], keys: Iterable[str]) -> dict[tuple[str, str], type]:
    """Map ``(wire tag key, tag value)`` to class for classes whose tag field is a one-value Literal."""
    wanted = set(keys)
    table: dict[tuple[str, str], type] = {}
    for cls in classes:
        hints = typing.get_type_hints(cls, include_extras=False)
        for a in attrs.fields(cls):
            wire = a.metadata.get("wire", a.name)
            if wire not in wanted:
                continue
            hint = hints[a.name]
            if typing.get_origin(hint) is Literal and len(typing.get_args(hint)) == 1:
                table[(wire, typing.get_args(hint)[0])] = cls
    return table
