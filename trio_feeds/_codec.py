"""Strict cattrs codecs shared by every protocol module.

Each protocol owns one :class:`Codec`. It parses a frame, asks the protocol's ``classify``
function which generated class the object is, and structures it with a cattrs converter whose
hooks are *strict*: a JSON value of the wrong type is an error, never a coercion (cattrs would
turn ``"false"`` into ``True`` and ``"12"`` into ``12`` on its own).

Decoding runs two converters. The fast one (``detailed_validation=False``) does all the work on
good frames. When it fails, the frame is structured again by a detailed converter, only to find
the JSON path of the first bad value for :class:`~trio_feeds.errors.DecodeError`. Bad frames
are rare; good frames should not pay for error bookkeeping.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeAlias

import attrs
import cattrs
import msgspec
import orjson
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.gen import (
    make_dict_structure_fn,
    make_dict_structure_fn_from_attrs,
    make_dict_unstructure_fn,
    override,
)

from ._types import MicrosTime, MillisTime
from .errors import DecodeError

__all__ = ["Codec", "UnknownMessage", "json_type_name"]

JSONObject: TypeAlias = dict[str, Any]
Numbers: TypeAlias = Literal["string", "json"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@attrs.define(kw_only=True)
class UnknownMessage:
    """A well-formed frame whose tag no model knows.

    Real servers add message types; they must not kill a feed. The frame is kept whole so the
    application can still look at it.

    Attributes:
        protocol: which protocol's codec saw it.
        tag: the tag value (``"_cls"``/``"@type"``/``"channel"``/... value, or the Ranger stream
            name), or ``None`` when the object carries no tag at all.
        raw: the decoded JSON object.
    """

    protocol: str
    tag: str | None
    raw: JSONObject = attrs.field(repr=False)


def json_type_name(value: object) -> str:
    """The JSON type name of a decoded value, for error texts."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class _WrongType(TypeError):
    def __init__(self, expected: str, value: object) -> None:
        super().__init__(f"expected {expected}, got {json_type_name(value)}")


# -- strict scalar hooks ----------------------------------------------------------------------
# ``type(v) is X`` rather than isinstance: bool is a subclass of int and must not pass as one.


def _str(v: object, _: object) -> str:
    if type(v) is str:
        return v
    raise _WrongType("string", v)


_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1


def _int(v: object, _: object) -> int:
    if type(v) is int:
        # Exchange integers are 64-bit; a larger one is corrupt input, and could not be
        # encoded again.
        if _INT_MIN <= v <= _INT_MAX:
            return v
        raise ValueError("integer out of 64-bit range")
    raise _WrongType("integer", v)


def _float(v: object, _: object) -> float:
    t = type(v)
    if t is float or t is int:
        return float(v)  # type: ignore[arg-type]
    if t is Decimal:
        return float(v)  # type: ignore[arg-type]
    raise _WrongType("number", v)


def _bool(v: object, _: object) -> bool:
    if type(v) is bool:
        return v
    raise _WrongType("boolean", v)


def _decimal_from_string(v: object, _: object) -> Decimal:
    if type(v) is str:
        try:
            d = Decimal(v)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {v[:40]!r}") from None
        if d.is_finite():
            return d
        raise ValueError("expected a finite decimal")
    raise _WrongType("decimal string", v)


def _decimal_from_number(v: object, _: object) -> Decimal:
    # The JSON parser for numeric protocols yields Decimal for every non-integer literal
    # (parse_float=Decimal), so no value ever passed through a binary float.
    t = type(v)
    if t is Decimal:
        if v.is_finite():  # type: ignore[attr-defined]
            return v  # type: ignore[return-value]
        raise ValueError("expected a finite decimal")
    if t is int:
        return Decimal(v)  # type: ignore[arg-type]
    raise _WrongType("number", v)


def _decimal_text(d: Decimal) -> str:
    # format "f" never uses exponent notation: 0.00000001 stays as written, not "1E-8".
    return format(d, "f")


def _iso_datetime(v: object, _: object) -> datetime:
    if type(v) is not str:
        raise _WrongType("ISO-8601 date-time string", v)
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        raise ValueError(f"not an ISO-8601 date-time: {v[:40]!r}") from None
    # A timestamp without offset is taken as UTC: every protocol here documents UTC.
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _iso_text(dt: datetime) -> str:
    """ISO-8601 text: ``Z`` for UTC, milliseconds when the microseconds allow it."""
    if dt.microsecond % 1000 == 0:
        text = dt.isoformat(timespec="milliseconds" if dt.microsecond else "seconds")
    else:
        text = dt.isoformat()
    if dt.utcoffset() == timedelta(0):
        text = text.rsplit("+", 1)[0] + "Z" if text.endswith("+00:00") else text
    return text


_MILLIS = tuple(timedelta(0, 0, ms * 1000) for ms in range(1000))
_MICROS = tuple(timedelta(0, 0, us) for us in range(1000))


def _time_pair(unit: int, name: str) -> Callable[[object, object], datetime]:
    """Hook for Cryptology's ``[seconds, fraction]``; ``unit`` is fractions per second.

    Integer arithmetic only (a float timestamp would round the microseconds), and no
    ``fromtimestamp``: the C library's ``gmtime`` applies leap seconds under a ``right/`` TZ.
    Building a ``timedelta`` is the costly step (~0.5 us), so the datetime of the last whole
    second is kept (feeds send many messages per second) and the fraction is added from a
    table of ready ``timedelta``s. ``base + fraction`` cannot overflow: the largest datetime
    ends at .999999 of its second.
    """
    scale = 1_000_000 // unit
    last: tuple[int, datetime] = (0, _EPOCH)

    def base_of(seconds: int) -> datetime:
        nonlocal last
        try:
            base = _EPOCH + timedelta(0, seconds)
        except OverflowError:
            raise ValueError(f"timestamp out of range: {seconds}") from None
        last = (seconds, base)  # one tuple, read in one step: safe if threads share the codec
        return base

    def structure(v: object, _: object) -> datetime:
        if type(v) is list and len(v) == 2:
            seconds, fraction = v
            if type(seconds) is int and type(fraction) is int and 0 <= fraction < unit:
                cached, base = last
                if seconds != cached:
                    base = base_of(seconds)
                if scale == 1000:
                    return base + _MILLIS[fraction]
                return base + _MILLIS[fraction // 1000] + _MICROS[fraction % 1000]
        # One-element pairs and every error.
        if type(v) is not list or not 1 <= len(v) <= 2:
            raise TypeError(f"expected [seconds, {name}], got {json_type_name(v)}")
        seconds = v[0]
        fraction = v[1] if len(v) == 2 else 0
        if type(seconds) is not int or type(fraction) is not int:
            raise TypeError(f"expected integers in [seconds, {name}]")
        if not 0 <= fraction < unit:
            raise ValueError(f"{name} out of range: {fraction}")
        micros = fraction * scale
        return base_of(seconds) + _MILLIS[micros // 1000] + _MICROS[micros % 1000]

    return structure


def _time_pair_out(unit: int) -> Callable[[datetime], list[int]]:
    def unstructure(dt: datetime) -> list[int]:
        delta = dt - _EPOCH
        return [delta.days * 86400 + delta.seconds, delta.microseconds // (1_000_000 // unit)]

    return unstructure


# -- strict containers ------------------------------------------------------------------------


def _is_list(t: Any) -> bool:
    return typing.get_origin(t) is list


def _is_dict(t: Any) -> bool:
    return typing.get_origin(t) is dict


def _is_tuple(t: Any) -> bool:
    return typing.get_origin(t) is tuple


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and attrs.has(t)


def _is_literal(t: Any) -> bool:
    return typing.get_origin(t) is Literal


def _literal_factory(t: Any) -> Callable[[object, object], Any]:
    # By value *and* JSON type: cattrs' own check lets True pass for 1 and 1.0 for 1.
    args = typing.get_args(t)
    allowed = {(type(v), v) for v in args}
    expected = " or ".join(json.dumps(v) for v in args)

    def fail(v: object) -> Any:
        raise ValueError(f"expected {expected}, got {json.dumps(v, default=str)[:40]}")

    if len(args) == 1:
        # Tags are one-value Literals: one identity test and one comparison, no tuple.
        (value,) = args
        value_type = type(value)

        def structure_one(v: object, _: object) -> Any:
            if type(v) is value_type and v == value:
                return v
            return fail(v)

        return structure_one

    value_types = {type(v) for v in args}
    if len(value_types) == 1 and value_types <= {str, int}:
        # `Literal["buy", "sell"]`: one type test, then a set lookup of the value.
        (value_type,) = value_types
        values = frozenset(args)

        def structure_same_type(v: object, _: object) -> Any:
            if type(v) is value_type and v in values:
                return v
            return fail(v)

        return structure_same_type

    def structure(v: object, _: object) -> Any:
        if (type(v), v) in allowed:
            return v
        return fail(v)

    return structure


def _nullable(inner: Callable[[object, object], Any]) -> Callable[[object, object], Any] | None:
    """A one-call hook for ``X | None`` when ``X``'s hook is one of the strict scalar hooks.

    Each returns exactly what ``None if v is None else inner(v, X)`` returns, and on a bad
    value calls ``inner`` itself so that the error is the same.
    """
    if inner is _str:

        def str_or_none(v: object, _: object) -> str | None:
            if type(v) is str or v is None:
                return v
            return _str(v, _)

        return str_or_none
    if inner is _int:

        def int_or_none(v: object, _: object) -> int | None:
            if (type(v) is int and _INT_MIN <= v <= _INT_MAX) or v is None:
                return v
            return _int(v, _)

        return int_or_none
    if inner is _bool:

        def bool_or_none(v: object, _: object) -> bool | None:
            if type(v) is bool or v is None:
                return v
            return _bool(v, _)

        return bool_or_none
    if inner is _decimal_from_string:

        def decimal_or_none(v: object, _: object) -> Decimal | None:
            if type(v) is str:
                try:
                    d = Decimal(v)
                except InvalidOperation:
                    return _decimal_from_string(v, _)
                if d.is_finite():
                    return d
            elif v is None:
                return None
            return _decimal_from_string(v, _)

        return decimal_or_none
    return None


def _is_union(t: Any) -> bool:
    return typing.get_origin(t) in (typing.Union, types.UnionType)


_JSON_KINDS_ALL = frozenset({"null", "boolean", "integer", "number", "string", "array", "object"})


def _json_kinds(t: Any, numbers: Numbers) -> frozenset[str]:
    """The JSON value types that can structure as ``t`` (used to pick a union member)."""
    if t is type(None):
        return frozenset({"null"})
    if t is Any:
        return _JSON_KINDS_ALL
    origin = typing.get_origin(t)
    if origin is Literal:
        return frozenset().union(*(_json_kinds(type(v), numbers) for v in typing.get_args(t)))
    if _is_union(t):
        return frozenset().union(*(_json_kinds(a, numbers) for a in typing.get_args(t)))
    if t is bool:
        return frozenset({"boolean"})
    if t is int:
        return frozenset({"integer"})
    if t is float or (t is Decimal and numbers == "json"):
        return frozenset({"integer", "number"})
    if t in (str, datetime) or t is Decimal:
        return frozenset({"string"})
    if t in (MicrosTime, MillisTime) or origin in (list, tuple):
        return frozenset({"array"})
    if origin is dict or _is_model(t):
        return frozenset({"object"})
    return _JSON_KINDS_ALL


def _field_wire_names(cls: type) -> dict[str, str]:
    return {a.name: a.metadata["wire"] for a in attrs.fields(cls) if "wire" in a.metadata}


Check: TypeAlias = Callable[[Any], None]


_ONLY_STR = frozenset({str})


def _constructor(cls: type, params: list[str]) -> Callable[..., Any] | None:
    """A function that builds ``cls`` from the keywords ``params`` (the required fields).

    ``cls(a=.., b=..)`` makes ``type.__call__`` pack the keywords into a dict and unpack them
    again for ``__init__``; calling ``cls.__init__`` on ``object.__new__(cls)`` with the same
    keywords does exactly what ``type.__call__`` does for a class without its own ``__new__``
    or metaclass, in half the time. Fields left out get their ``__init__`` defaults.

    Returns None when ``cls`` is not a plain attrs class of that kind, or when optional fields
    could not be set after ``__init__`` (frozen, ``on_setattr`` hooks, ``__attrs_post_init__``):
    the caller then uses cattrs' hook as it is.
    """
    make: Any = type(cls).__call__
    new: Any = cls.__new__
    set_attribute: Any = cls.__setattr__
    if (
        make is not type.__call__
        or new is not object.__new__
        or set_attribute is not object.__setattr__
        or hasattr(cls, "__attrs_post_init__")
        or any(not p.isidentifier() or p.startswith("_tf_") for p in params)
    ):
        return None
    signature = f"*, {', '.join(params)}" if params else ""
    source = (
        f"def {cls.__name__}({signature}):\n"
        "    _tf_self = _tf_new(_tf_cls)\n"
        f"    _tf_init(_tf_self, {', '.join(f'{p}={p}' for p in params)})\n"
        "    return _tf_self\n"
    )
    init: Any = cls.__init__  # type: ignore[misc]  # the class's own, as type.__call__ uses
    namespace: dict[str, Any] = {"_tf_new": object.__new__, "_tf_cls": cls, "_tf_init": init}
    exec(compile(source, f"<trio_feeds constructor {cls.__module__}.{cls.__qualname__}>", "exec"), namespace)
    ctor: Callable[..., Any] = namespace[cls.__name__]
    ctor.__qualname__ = cls.__qualname__
    ctor.__module__ = cls.__module__
    return ctor


def _make_converter(numbers: Numbers, *, detailed: bool, checks: Mapping[type, Check]) -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=detailed, forbid_extra_keys=False)
    conv.register_structure_hook(str, _str)
    conv.register_structure_hook(int, _int)
    conv.register_structure_hook(float, _float)
    conv.register_structure_hook(bool, _bool)
    conv.register_structure_hook(datetime, _iso_datetime)
    conv.register_unstructure_hook(datetime, _iso_text)
    conv.register_structure_hook(MicrosTime, _time_pair(1_000_000, "microseconds"))
    conv.register_structure_hook(MillisTime, _time_pair(1_000, "milliseconds"))
    conv.register_unstructure_hook(MicrosTime, _time_pair_out(1_000_000))
    conv.register_unstructure_hook(MillisTime, _time_pair_out(1_000))
    if numbers == "string":
        conv.register_structure_hook(Decimal, _decimal_from_string)
        conv.register_unstructure_hook(Decimal, _decimal_text)
    else:
        conv.register_structure_hook(Decimal, _decimal_from_number)
        # Left as Decimal: the encoder writes it as a raw JSON number.
        conv.register_unstructure_hook(Decimal, lambda d: d)

    def hook_for(t: Any) -> Callable[[Any, Any], Any]:
        try:
            return conv.get_structure_hook(t)
        except RecursionError:  # a reference cycle: bind late, as cattrs does
            return conv.structure

    def list_factory(t: Any) -> Callable[[object, object], list[Any]]:
        args = typing.get_args(t)
        if not detailed and args and args[0] is not Any:
            # One function instead of our check wrapped around cattrs' list hook.
            elem = args[0]
            elem_hook = hook_for(elem)

            def structure_fast(v: object, _: object) -> list[Any]:
                if type(v) is list:
                    return [elem_hook(x, elem) for x in v]
                raise _WrongType("array", v)

            return structure_fast
        inner = cattrs.cols.list_structure_factory(t, conv)

        def structure(v: object, tt: object) -> list[Any]:
            if type(v) is not list:
                raise _WrongType("array", v)
            result: list[Any] = inner(v, tt)
            return result

        return structure

    def dict_factory(t: Any) -> Callable[[object, object], dict[Any, Any]]:
        args = typing.get_args(t)
        if not detailed and len(args) == 2 and args[0] is str and args[1] is not Any:
            # `dict[str, X]` (price levels): the keys need only a type test, done in C by
            # set(map(type, ...)), instead of one strict `str` hook call per key.
            value_type = args[1]
            value_hook = hook_for(value_type)

            def structure_fast(v: object, _: object) -> dict[str, Any]:
                if type(v) is not dict:
                    raise _WrongType("object", v)
                if v and not set(map(type, v)) <= _ONLY_STR:
                    raise TypeError("object keys must be strings")
                return {k: value_hook(x, value_type) for k, x in v.items()}

            return structure_fast
        inner = cattrs.cols.mapping_structure_factory(t, conv)

        def structure(v: object, tt: object) -> dict[Any, Any]:
            if type(v) is not dict:
                raise _WrongType("object", v)
            result: dict[Any, Any] = inner(v, tt)
            return result

        return structure

    def tuple_factory(t: Any) -> Callable[[object, object], tuple[Any, ...]]:
        args = typing.get_args(t)
        hooks = [conv.get_structure_hook(a) for a in args]
        n = len(args)

        def structure(v: object, _: object) -> tuple[Any, ...]:
            if type(v) is not list:
                raise _WrongType(f"array of {n}", v)
            if len(v) != n:
                raise ValueError(f"expected an array of {n} items, got {len(v)}")
            return tuple(h(x, a) for h, x, a in zip(hooks, v, args, strict=True))

        if n == 2 and not detailed:
            # Pairs ([price, amount] levels) are the common case: no generator, no zip.
            (h0, h1), (a0, a1) = hooks, args

            def structure_pair(v: object, _: object) -> tuple[Any, ...]:
                if type(v) is list and len(v) == 2:
                    return (h0(v[0], a0), h1(v[1], a1))
                return structure(v, _)  # raises the error

            return structure_pair
        return structure

    def union_factory(t: Any) -> Callable[[object, object], Any]:
        # Members are told apart by the JSON type of the value (string vs object, ...); where
        # several members take the same JSON type, the first that structures wins.
        members = typing.get_args(t)
        if len(members) == 2 and type(None) in members:
            # `X | None`, by far the most common union: one comparison, no JSON-kind lookup.
            inner_type = members[0] if members[1] is type(None) else members[1]
            inner = conv.get_structure_hook(inner_type)
            fused = _nullable(inner)
            if fused is not None:
                return fused

            def structure_optional(v: object, _: object) -> Any:
                return None if v is None else inner(v, inner_type)

            return structure_optional
        by_kind: dict[str, list[tuple[Any, Callable[[Any, Any], Any]]]] = {}
        for member in typing.get_args(t):
            hook = (lambda v, _: None) if member is type(None) else conv.get_structure_hook(member)
            for kind in _json_kinds(member, numbers):
                by_kind.setdefault(kind, []).append((member, hook))
        expected = " or ".join(sorted(by_kind))

        def structure(v: object, _: object) -> Any:
            candidates = by_kind.get(json_type_name(v))
            if not candidates:
                raise _WrongType(expected, v)
            if len(candidates) == 1:
                member, hook = candidates[0]
                return hook(v, member)
            error: Exception | None = None
            for member, hook in candidates:
                try:
                    return hook(v, member)
                except Exception as exc:  # noqa: BLE001 - try the next member
                    error = exc
            assert error is not None
            raise error

        return structure

    def model_structure_factory(cls: type) -> Callable[[object, object], Any]:
        renames = {name: override(rename=wire) for name, wire in _field_wire_names(cls).items()}
        fn: Callable[[Any, Any], Any] = make_dict_structure_fn(cls, conv, **renames)  # type: ignore[arg-type]
        check = checks.get(cls)

        def structure(v: object, tt: object) -> Any:
            if type(v) is not dict:
                raise _WrongType("object", v)
            return fn(v, tt)

        def structure_checked(v: object, tt: object) -> Any:
            obj = structure(v, tt)
            check(obj)  # type: ignore[misc]
            return obj

        return structure if check is None else structure_checked

    def fast_model_structure_factory(cls: type) -> Callable[[object, object], Any]:
        """The fast converter's hook for a model: cattrs' generated function, called lean.

        Two costs of the plain ``make_dict_structure_fn`` hook are avoided:

        * ``cls(**kwargs)`` goes through ``type.__call__``, which packs the keywords into a dict
          for ``__init__`` (~0.35 us per object). The generated function calls a constructor
          with ``__init__``'s own keyword-only signature instead (see :func:`_constructor`).
        * Fields with defaults make cattrs collect them in a dict passed as ``**res``, which
          costs as much again. Here cattrs generates only the required fields, and the
          optional ones present in the object are set on the new instance afterwards with
          the same hooks (the class is checked to be a plain, non-frozen attrs class whose
          ``__init__`` does nothing but set its fields).

        The ``dict`` type test is kept only where it is not implied: the first required field
        is read as ``o[key]``, which raises for any non-object JSON value (str, list, number,
        bool, null), and the caller then explains the failure with the detailed converter.
        """
        check = checks.get(cls)
        fields = attrs.fields(attrs.resolve_types(cls))
        required = [a for a in fields if a.default is attrs.NOTHING]
        optional = [a for a in fields if a.default is not attrs.NOTHING]
        ctor = _constructor(cls, [a.alias for a in required])
        if ctor is None or not all(a.init and a.kw_only for a in fields):
            return model_structure_factory(cls)
        wires = _field_wire_names(cls)
        renames = {a.name: override(rename=wires[a.name]) for a in required if a.name in wires}
        fn: Callable[[Any, Any], Any] = make_dict_structure_fn_from_attrs(
            required,
            ctor,  # type: ignore[arg-type]
            conv,
            **renames,  # type: ignore[arg-type]
        )
        present = tuple((wires.get(a.name, a.name), a.name, hook_for(a.type), a.type) for a in optional)
        if not present and required and check is None:
            return fn
        if len(present) == 1 and required and check is None:
            # One optional field (a common shape): no loop.
            ((key1, name1, hook1, type1),) = present

            def structure_one_optional(v: Any, tt: object) -> Any:
                obj = fn(v, tt)
                if key1 in v:
                    setattr(obj, name1, hook1(v[key1], type1))
                return obj

            return structure_one_optional

        def structure(v: object, tt: object) -> Any:
            if not required and type(v) is not dict:
                raise _WrongType("object", v)
            obj = fn(v, tt)
            for key, name, hook, field_type in present:
                if key in v:  # type: ignore[operator]
                    setattr(obj, name, hook(v[key], field_type))  # type: ignore[index]
            if check is not None:
                check(obj)
            return obj

        return structure

    def model_unstructure_factory(cls: type) -> Callable[[Any], JSONObject]:
        # Optional fields (default None) are left out when None, as the wire leaves them out;
        # required nullable fields are written as null.
        renames = {name: override(rename=wire) for name, wire in _field_wire_names(cls).items()}
        return make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **renames)  # type: ignore[arg-type]

    conv.register_structure_hook_factory(_is_list, list_factory)
    conv.register_structure_hook_factory(_is_dict, dict_factory)
    conv.register_structure_hook_factory(_is_tuple, tuple_factory)
    conv.register_structure_hook_factory(_is_literal, _literal_factory)
    conv.register_structure_hook_factory(_is_union, union_factory)
    conv.register_structure_hook_factory(
        _is_model, model_structure_factory if detailed else fast_model_structure_factory
    )
    conv.register_unstructure_hook_factory(_is_model, model_unstructure_factory)
    return conv


def _first_error(exc: BaseException, cls: type | None, path: str) -> tuple[str, str]:
    """Walk a cattrs detailed-validation error down to its first leaf: (JSON path, reason)."""
    if isinstance(exc, ClassValidationError):
        cls = getattr(exc, "cl", cls)  # the class that failed, also when reached via a union
        with_notes, without = exc.group_exceptions()
        if with_notes:
            sub, note = with_notes[0]
            wire = _field_wire_names(cls).get(note.name, note.name) if cls and attrs.has(cls) else note.name
            sub_cls = note.type if isinstance(note.type, type) else None
            if isinstance(sub, KeyError):
                return f"{path}.{wire}", "required field missing"
            return _first_error(sub, sub_cls, f"{path}.{wire}")
        if without:
            return _first_error(without[0], cls, path)
    if isinstance(exc, IterableValidationError):
        items, rest = exc.group_exceptions()
        if items:
            sub, item = items[0]
            index = item.index
            step = f"[{index}]" if isinstance(index, int) else f"[{json.dumps(index)}]"
            return _first_error(sub, item.type if isinstance(item.type, type) else None, path + step)
        if rest:
            return _first_error(rest[0], cls, path)
    if isinstance(exc, ExceptionGroup):
        return _first_error(exc.exceptions[0], cls, path)
    if isinstance(exc, KeyError):
        return path, f"required field {exc.args[0]!r} missing"
    return path, str(exc) or type(exc).__name__


def _loads_numbers() -> Callable[[str | bytes], Any]:
    r"""JSON parser for protocols whose money is JSON numbers: floats never exist.

    msgspec's untyped decoder hands the *text* of every non-integer number literal to
    ``float_hook`` (here ``Decimal``), so the value is exact, as with the standard library's
    ``parse_float=Decimal``, at about a quarter of its cost per small frame. Integers come out
    as exact ``int`` from both (and both refuse more than ``sys.get_int_max_str_digits()``
    digits); ``NaN``/``Infinity`` are not JSON to either. tests/test_codecs.py checks the two
    parsers agree on random number literals. One edge differs: an escaped lone surrogate
    (``"\ud800"``) is an error for msgspec, as for orjson on the other protocols.
    """
    decode: Callable[[str | bytes], Any] = msgspec.json.Decoder(float_hook=Decimal).decode
    return decode


def _encode_default(value: object) -> object:
    if type(value) is Decimal:
        return orjson.Fragment(format(value, "f"))
    raise TypeError(f"cannot encode {type(value).__name__}")


Classifier: TypeAlias = Callable[[JSONObject], "tuple[str | None, type | None]"]


class Codec:
    """Decode frames into a protocol's generated models and encode models back to frames.

    Args:
        protocol: protocol name, used in errors and :class:`UnknownMessage`.
        classes: every generated message class this codec decodes or encodes.
        classify: pure function from a decoded JSON object to ``(tag, class)``; ``class`` is
            ``None`` for a tag no model knows.
        numbers: ``"string"`` when decimals arrive as JSON strings (parsed with orjson),
            ``"json"`` when they arrive as JSON numbers (parsed exactly, float-free).
        checks: per-class checks run after structuring, for schema rules the generated types
            cannot express (raise ``ValueError`` to reject).
    """

    def __init__(
        self,
        protocol: str,
        classes: Iterable[type],
        classify: Classifier,
        *,
        numbers: Numbers = "string",
        checks: Mapping[type, Check] | None = None,
    ) -> None:
        self.protocol = protocol
        self.classify = classify
        self.converter = _make_converter(numbers, detailed=False, checks=checks or {})
        self._detailed = _make_converter(numbers, detailed=True, checks=checks or {})
        self._loads: Callable[[str | bytes], Any] = orjson.loads if numbers == "string" else _loads_numbers()
        self._structure: dict[type, Callable[[Any, Any], Any]] = {}
        self._unstructure: dict[type, Callable[[Any], Any]] = {}
        # A subclass with its own decode_object (Peatio's envelopes) gets it called by decode().
        self._own_decode_object = type(self).decode_object is not Codec.decode_object
        for cls in classes:
            self._structure[cls] = self.converter.get_structure_hook(cls)
            self._unstructure[cls] = self.converter.get_unstructure_hook(cls)

    def loads(self, frame: str | bytes) -> Any:
        """Parse JSON text; raise :class:`DecodeError` for anything that is not JSON."""
        try:
            return self._loads(frame)
        except (ValueError, RecursionError) as exc:
            raise self._not_json(exc) from None

    def _not_json(self, exc: ValueError | RecursionError) -> DecodeError:
        """The :class:`DecodeError` for what the JSON parser raised."""
        if isinstance(exc, UnicodeDecodeError):
            return DecodeError(self.protocol, "frame is not valid UTF-8")
        if isinstance(exc, RecursionError):
            return DecodeError(self.protocol, "JSON nested too deeply")
        # orjson.JSONDecodeError, json.JSONDecodeError and msgspec's DecodeError are ValueErrors.
        return DecodeError(self.protocol, f"malformed JSON: {exc}")

    def decode(self, frame: str | bytes) -> Any:
        """Decode one frame to a model instance or :class:`UnknownMessage`."""
        try:
            obj = self._loads(frame)
        except (ValueError, RecursionError) as exc:
            raise self._not_json(exc) from None
        if type(obj) is not dict:
            raise DecodeError(self.protocol, f"expected a JSON object, got {json_type_name(obj)}")
        if self._own_decode_object:
            return self.decode_object(obj)
        # decode_object() and structure() inlined: this is the per-frame hot path.
        tag, cls = self.classify(obj)
        if cls is None:
            return UnknownMessage(protocol=self.protocol, tag=tag, raw=obj)
        try:
            return self._structure[cls](obj, cls)
        except Exception:  # noqa: BLE001 - re-raised below as DecodeError with its path
            path, reason = self._explain(obj, cls)
            raise DecodeError(self.protocol, reason, tag=tag, path=path) from None

    def decode_object(self, obj: JSONObject) -> Any:
        """Structure an already-parsed JSON object (see :meth:`decode`)."""
        tag, cls = self.classify(obj)
        if cls is None:
            return UnknownMessage(protocol=self.protocol, tag=tag, raw=obj)
        return self.structure(obj, cls, tag)

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
            return _first_error(exc, cls, "$")
        # The fast converter failed where the detailed one did not: a bug in our hooks.
        return "$", "could not be structured"

    def unstructure(self, message: Any) -> JSONObject:
        """The JSON object (wire names, wire value forms) for a model instance."""
        if isinstance(message, UnknownMessage):
            return message.raw
        try:
            fn = self._unstructure[type(message)]
        except KeyError:
            raise TypeError(f"{type(message).__name__} is not a {self.protocol} message") from None
        result: JSONObject = fn(message)
        return result

    def encode(self, message: Any) -> str:
        """Encode a model instance (or :class:`UnknownMessage`) as JSON text."""
        return self.dumps(self.unstructure(message))

    def dumps(self, obj: Any) -> str:
        """JSON text for an unstructured object (Decimals as exact JSON numbers)."""
        return orjson.dumps(obj, default=_encode_default).decode()


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
