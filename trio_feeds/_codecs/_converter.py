"""The strict cattrs converters behind :class:`~trio_feeds._codecs.Codec`.

Two converters per codec: a fast one (``detailed_validation=False``) for good frames, and a
detailed one that only explains a failure with the JSON path of the first bad value.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeAlias

import attrs
import cattrs
from cattrs.errors import ClassValidationError, IterableValidationError, IterableValidationNote
from cattrs.gen import (
    make_dict_structure_fn,
    make_dict_structure_fn_from_attrs,
    make_dict_unstructure_fn_from_attrs,
    override,
)

from .._types import (
    DecimalNumber,
    EpochMillis,
    EpochSeconds,
    EpochSecondsOrDigits,
    ExplicitNulls,
    IsoOrEpochSeconds,
    MicrosTime,
    MillisTime,
    explicit_nulls,
)
from ._scalars import (
    INT_MAX,
    INT_MIN,
    _any,
    _bool,
    _decimal_from_number,
    _decimal_from_string,
    _decimal_text,
    _epoch_millis,
    _epoch_out,
    _epoch_seconds,
    _epoch_seconds_or_digits,
    _epoch_seconds_or_digits_out,
    _float,
    _int,
    _iso_datetime,
    _iso_or_epoch_seconds,
    _iso_or_epoch_seconds_out,
    _iso_text,
    _literal_factory,
    _nullable,
    _str,
    _time_pair,
    _time_pair_out,
    _WrongType,
    decimal_pairs_from_strings,
    decimals_from_strings,
    json_type_name,
)

JSONObject: TypeAlias = dict[str, Any]
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
Numbers: TypeAlias = Literal["string", "json"]


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
    if t in (EpochMillis, EpochSeconds):
        return frozenset({"integer"})
    if t in (IsoOrEpochSeconds, EpochSecondsOrDigits):
        return frozenset({"string", "integer"})
    if t is DecimalNumber:
        return frozenset({"integer", "number"})
    if origin is dict or _is_model(t):
        return frozenset({"object"})
    return _JSON_KINDS_ALL


def _field_wire_names(cls: type) -> dict[str, str]:
    return {a.name: a.metadata["wire"] for a in attrs.fields(cls) if "wire" in a.metadata}


def _is_required(a: attrs.Attribute[Any]) -> bool:
    """Required on the wire: no default, or a message tag (whose default is only for building)."""
    return a.default is attrs.NOTHING or bool(a.metadata.get("tag"))


def _tag_wires(cls: type) -> tuple[str, ...]:
    """Wire names of the tag fields of ``cls`` (required on the wire despite their default)."""
    return tuple(a.metadata.get("wire", a.name) for a in attrs.fields(cls) if a.metadata.get("tag"))


def _is_nullable_optional(a: attrs.Attribute[Any]) -> bool:
    """An optional field the schema lets be ``null`` (its presence as null is remembered)."""
    return bool(a.metadata.get("nullable")) and not _is_required(a)


def ecma_search(pattern: str) -> Callable[[str], object]:
    r"""``re.search`` with JSON Schema's (ECMA-262) meaning of a final ``$``: the end of the text.

    Python's ``$`` also matches before a final newline, so ``"x\n"`` would pass ``^x$``.
    """
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern).search


def _constrained(hook: Callable[[Any, Any], Any], a: attrs.Attribute[Any]) -> Callable[[Any, Any], Any]:
    """``hook`` after the field's schema bounds and pattern (from the template's metadata).

    As in JSON Schema, they apply to the JSON value: a number's bounds to the number on the wire
    (Onyx's ticker time: milliseconds >= 0, whatever datetime they become), a pattern to the
    string. Returns ``hook`` itself when the field has none. The value is never quoted in a
    pattern error: the field may hold a credential (Peatio's ``jwt``).
    """
    meta = a.metadata
    low, high = meta.get("minimum"), meta.get("maximum")
    above, below = meta.get("exclusiveMinimum"), meta.get("exclusiveMaximum")
    pattern = meta.get("pattern")
    if low is None and high is None and above is None and below is None and pattern is None:
        return hook
    search = ecma_search(pattern) if pattern is not None else None

    def structure(v: Any, t: Any) -> Any:
        tv = type(v)
        if tv is int or tv is float or tv is Decimal:
            if low is not None and v < low:
                raise ValueError(f"must be at least {low}, got {v}")
            if high is not None and v > high:
                raise ValueError(f"must be at most {high}, got {v}")
            if above is not None and v <= above:
                raise ValueError(f"must be more than {above}, got {v}")
            if below is not None and v >= below:
                raise ValueError(f"must be less than {below}, got {v}")
        elif tv is str and search is not None and search(v) is None:
            raise ValueError(f"does not match the pattern {pattern}")
        return hook(v, t)

    if pattern is None and all(type(b) is int for b in (low, high, above, below) if b is not None):
        # Integer bounds (a count >= 1, a time >= 0): one range test on the good path.
        lows = [INT_MIN, *([] if low is None else [low]), *([] if above is None else [above + 1])]
        highs = [INT_MAX, *([] if high is None else [high]), *([] if below is None else [below - 1])]
        lo, hi = max(lows), min(highs)
        if hook is _int:

            def int_in_range(v: Any, t: Any) -> Any:
                if type(v) is int and lo <= v <= hi:
                    return v
                return structure(v, t)  # raises, with the reason

            return int_in_range

        def wire_int_in_range(v: Any, t: Any) -> Any:
            if type(v) is int and lo <= v <= hi:
                return hook(v, t)
            return structure(v, t)

        return wire_int_in_range
    return structure


class _MissingField(KeyError):
    """A required field (a tag with a default) is absent: explained as ``$.<wire>`` missing."""

    def __init__(self, wire: str) -> None:
        super().__init__(wire)
        self.wire = wire


Check: TypeAlias = Callable[[Any], None]


_ONLY_STR = frozenset({str})


def constructor(cls: type, params: list[str]) -> Callable[..., Any] | None:
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


class _Hooks:
    """The hook factories of one converter (fast or detailed), bound to its settings."""

    def __init__(
        self, conv: cattrs.Converter, numbers: Numbers, *, detailed: bool, checks: Mapping[type, Check]
    ) -> None:
        self.conv = conv
        self.numbers = numbers
        self.detailed = detailed
        self.checks = checks

    def hook_for(self, t: Any) -> Callable[[Any, Any], Any]:
        try:
            return self.conv.get_structure_hook(t)
        except RecursionError:  # a reference cycle: bind late, as cattrs does
            return self.conv.structure

    def list_factory(self, t: Any) -> Callable[[object, object], list[Any]]:
        args = typing.get_args(t)
        if not self.detailed and args and args[0] is not Any:
            # One function instead of our check wrapped around cattrs' list hook.
            elem = args[0]
            elem_hook = self.hook_for(elem)

            def structure_fast(v: object, _: object) -> list[Any]:
                if type(v) is list:
                    return [elem_hook(x, elem) for x in v]
                raise _WrongType("array", v)

            if self.numbers == "string" and elem == tuple[Decimal, Decimal]:
                return _decimal_pairs(structure_fast)
            return structure_fast
        inner = cattrs.cols.list_structure_factory(t, self.conv)

        def structure(v: object, tt: object) -> list[Any]:
            if type(v) is not list:
                raise _WrongType("array", v)
            result: list[Any] = inner(v, tt)
            return result

        return structure

    def dict_factory(self, t: Any) -> Callable[[object, object], dict[Any, Any]]:
        args = typing.get_args(t)
        if not self.detailed and len(args) == 2 and args[0] is str and args[1] is not Any:
            # `dict[str, X]` (price levels): the keys need only a type test, done in C by
            # set(map(type, ...)), instead of one strict `str` hook call per key.
            value_type = args[1]
            value_hook = self.hook_for(value_type)

            batch = self.numbers == "string" and value_type is Decimal

            def structure_fast(v: object, _: object) -> dict[str, Any]:
                if type(v) is not dict:
                    raise _WrongType("object", v)
                if v and not set(map(type, v)) <= _ONLY_STR:
                    raise TypeError("object keys must be strings")
                if batch:
                    # Price levels: all values checked and parsed at once (see decimals_from_strings).
                    values = decimals_from_strings(list(v.values()))
                    if values is not None:
                        return dict(zip(v, values, strict=True))
                return {k: value_hook(x, value_type) for k, x in v.items()}

            return structure_fast
        inner = cattrs.cols.mapping_structure_factory(t, self.conv)

        def structure(v: object, tt: object) -> dict[Any, Any]:
            if type(v) is not dict:
                raise _WrongType("object", v)
            result: dict[Any, Any] = inner(v, tt)
            return result

        return structure

    def tuple_factory(self, t: Any) -> Callable[[object, object], tuple[Any, ...]]:
        args = typing.get_args(t)
        hooks = [self.conv.get_structure_hook(a) for a in args]
        n = len(args)

        def structure(v: object, _: object) -> tuple[Any, ...]:
            if type(v) is not list:
                raise _WrongType(f"array of {n}", v)
            if len(v) != n:
                raise ValueError(f"expected an array of {n} items, got {len(v)}")
            if self.detailed:
                return _tuple_with_paths(hooks, v, args)
            return tuple(h(x, a) for h, x, a in zip(hooks, v, args, strict=True))

        if n == 2 and not self.detailed:
            # Pairs ([price, amount] levels) are the common case: no generator, no zip.
            (h0, h1), (a0, a1) = hooks, args

            def structure_pair(v: object, _: object) -> tuple[Any, ...]:
                if type(v) is list and len(v) == 2:
                    return (h0(v[0], a0), h1(v[1], a1))
                return structure(v, _)  # raises the error

            return structure_pair
        return structure

    def union_factory(self, t: Any) -> Callable[[object, object], Any]:
        # Members are told apart by the JSON type of the value (string vs object, ...); where
        # several members take the same JSON type, the first that structures wins.
        members = typing.get_args(t)
        if len(members) == 2 and type(None) in members:
            # `X | None`, by far the most common union: one comparison, no JSON-kind lookup.
            inner_type = members[0] if members[1] is type(None) else members[1]
            inner = self.conv.get_structure_hook(inner_type)
            fused = _nullable(inner)
            if fused is not None:
                return fused

            def structure_optional(v: object, _: object) -> Any:
                return None if v is None else inner(v, inner_type)

            return structure_optional
        by_kind: dict[str, list[tuple[Any, Callable[[Any, Any], Any]]]] = {}
        for member in typing.get_args(t):
            hook = (lambda v, _: None) if member is type(None) else self.conv.get_structure_hook(member)
            for kind in _json_kinds(member, self.numbers):
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

    def field_overrides(self, fields: Iterable[attrs.Attribute[Any]]) -> dict[str, Any]:
        """The cattrs overrides of ``fields``: wire names, and hooks that check bounds and patterns."""
        out = {}
        for a in fields:
            wire = a.metadata.get("wire")
            hook = self.hook_for(a.type)
            checked = _constrained(hook, a)
            if wire is not None or checked is not hook:
                out[a.name] = override(rename=wire, struct_hook=checked if checked is not hook else None)
        return out

    def model_structure_factory(self, cls: type) -> Callable[[object, object], Any]:
        overrides = self.field_overrides(attrs.fields(attrs.resolve_types(cls)))
        fn: Callable[[Any, Any], Any] = make_dict_structure_fn(cls, self.conv, **overrides)
        check = self.checks.get(cls)
        tags = _tag_wires(cls)

        def structure(v: object, tt: object) -> Any:
            if type(v) is not dict:
                raise _WrongType("object", v)
            for wire in tags:
                if wire not in v:
                    raise _MissingField(wire)
            return fn(v, tt)

        def structure_checked(v: object, tt: object) -> Any:
            obj = structure(v, tt)
            check(obj)  # type: ignore[misc]
            return obj

        return structure if check is None else structure_checked

    def fast_model_structure_factory(self, cls: type) -> Callable[[object, object], Any]:
        """The fast converter's hook for a model: cattrs' generated function, called lean.

        Two costs of the plain ``make_dict_structure_fn`` hook are avoided:

        * ``cls(**kwargs)`` goes through ``type.__call__``, which packs the keywords into a dict
          for ``__init__`` (~0.35 us per object). The generated function calls a constructor
          with ``__init__``'s own keyword-only signature instead (see :func:`constructor`).
        * Fields with defaults make cattrs collect them in a dict passed as ``**res``, which
          costs as much again. Here cattrs generates only the required fields, and the
          optional ones present in the object are set on the new instance afterwards with
          the same hooks (the class is checked to be a plain, non-frozen attrs class whose
          ``__init__`` does nothing but set its fields).

        The ``dict`` type test is kept only where it is not implied: the first required field
        is read as ``o[key]``, which raises for any non-object JSON value (str, list, number,
        bool, null), and the caller then explains the failure with the detailed converter.
        """
        check = self.checks.get(cls)
        fields = attrs.fields(attrs.resolve_types(cls))
        required = [a for a in fields if _is_required(a)]
        optional = [a for a in fields if not _is_required(a)]
        ctor = constructor(cls, [a.alias for a in required])
        if ctor is None or not all(a.init and a.kw_only for a in fields):
            return self.model_structure_factory(cls)
        if not any(_is_nullable_optional(a) for a in fields):
            return _emit_structure(
                cls, fields, [_constrained(self.hook_for(a.type), a) for a in fields], check
            )
        wires = _field_wire_names(cls)
        fn: Callable[[Any, Any], Any] = make_dict_structure_fn_from_attrs(
            required,
            ctor,  # type: ignore[arg-type]
            self.conv,
            **self.field_overrides(required),
        )
        present = tuple(
            (wires.get(a.name, a.name), a.name, _constrained(self.hook_for(a.type), a), a.type)
            for a in optional
        )
        nullable = frozenset(a.name for a in optional if _is_nullable_optional(a))
        if nullable:
            if not issubclass(cls, ExplicitNulls):
                # The template gives such classes the base; a subclass of a concept that has
                # none cannot also take it (two slotted bases).
                raise TypeError(f"{cls.__name__} has nullable optional fields but no ExplicitNulls base")
            return _structure_with_nulls(fn, present, nullable, bool(required), check)
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

    def model_unstructure_factory(self, cls: type) -> Callable[[Any], JSONObject]:
        # Optional fields (default None) are left out when None, as the wire leaves them out,
        # except those the frame sent as null (ExplicitNulls); required nullable fields are
        # written as null, and tags always.
        # The field types as types, not the strings of the models' `from __future__ import
        # annotations`: with strings, cattrs unstructures a nested model (a union member) by
        # attrs' defaults, without its wire names. The structure factory resolves them too, so
        # this held only while every structure hook happened to be made first.
        attrs.resolve_types(cls)
        wires = _field_wire_names(cls)
        fields = attrs.fields(cls)
        overrides = {
            a.name: override(rename=wires.get(a.name), omit_if_default=not a.metadata.get("tag"))
            for a in fields
        }
        fn: Callable[[Any], JSONObject] = make_dict_unstructure_fn_from_attrs(
            _wire_order(cls),
            cls,
            self.conv,
            _cattrs_omit_if_default=True,
            **overrides,  # type: ignore[arg-type]
        )
        if not any(_is_nullable_optional(a) for a in fields):
            return fn
        return _unstructure_with_nulls(
            fn, tuple((a.name, wires.get(a.name, a.name)) for a in _wire_order(cls))
        )

    def optional_unstructure_factory(self, t: Any) -> Callable[[Any], Any]:
        """``X | None`` where ``X`` is a time ``NewType``: unstructured with ``X``'s hook.

        cattrs unstructures a union by the runtime class of the value, which for a ``NewType``
        of ``datetime`` is ``datetime`` (ISO text): the field's declared form would be lost.
        """
        (inner_type,) = (a for a in typing.get_args(t) if a is not type(None))
        inner = self.conv.get_unstructure_hook(inner_type)

        def unstructure(v: Any) -> Any:
            return None if v is None else inner(v)

        return unstructure


# _decimal_from_string's tests, inlined: when they hold, the emitted code returns Decimal(v)
# (which may still refuse "1-2": the codec then explains the failure as for the hook's error).
_DECIMAL_TEST = (
    "type(v) is str and v and v[-1] in _DIGITS and v.isascii() and '_' not in v and 'e' not in v"
    " and 'E' not in v and (v[0] in _DIGITS or (v[0] == '-' and v[1:2] in _DIGITS))"
)


def _inline(
    hook: Callable[[Any, Any], Any], t: Any, consts: dict[str, Any], k: int
) -> tuple[str, str] | None:
    """``(test, value)``: Python expressions on ``v``; when ``test`` holds, ``hook(v, t)`` is ``value``.

    ``None`` when the hook has no such test (it builds another value, or is not ours). The
    emitted code calls the hook whenever the test fails, so a bad value raises the hook's own
    error and a value the hook converts (a JSON integer for a Decimal) is converted: only the
    common case skips the call.
    """
    if hook is _str:
        return "type(v) is str", "v"
    if hook is _int:
        return f"type(v) is int and {INT_MIN} <= v <= {INT_MAX}", "v"
    if hook is _bool:
        return "type(v) is bool", "v"
    if hook is _decimal_from_number:
        return "type(v) is _Decimal", "v"
    if hook is _decimal_from_string:
        return _DECIMAL_TEST, "_Decimal(v)"
    name = getattr(hook, "__qualname__", "")
    if name == "_nullable.<locals>.decimal_or_none":
        return f"v is None or ({_DECIMAL_TEST})", "(None if v is None else _Decimal(v))"
    if name == "_nullable.<locals>.str_or_none":
        return "type(v) is str or v is None", "v"
    if name.startswith("_literal_factory.<locals>.structure") and _is_literal(t):
        values = typing.get_args(t)
        kinds = {type(x) for x in values}
        if len(kinds) == 1 and kinds <= {str, int}:
            (kind,) = kinds
            consts[f"_lits{k}"] = frozenset(values)
            return f"type(v) is {kind.__name__} and v in _lits{k}", "v"
    return None


def _hook_line(
    hook: Callable[[Any, Any], Any], a: attrs.Attribute[Any], k: int, consts: dict[str, Any]
) -> str:
    """The emitted line that converts ``v`` for field ``k`` (``a``) with ``hook``.

    The hook's inline test (see :func:`_inline`) where it has one, so the common case makes no
    call; ``hook`` and the field's type go into ``consts`` as ``_h{k}`` and ``_t{k}``.
    """
    consts[f"_h{k}"] = hook
    consts[f"_t{k}"] = a.type
    inline = _inline(hook, a.type, consts, k)
    if inline is None:
        return f"v = _h{k}(v, _t{k})"
    if inline[1] == "v":
        return f"if not ({inline[0]}): v = _h{k}(v, _t{k})"
    return f"v = {inline[1]} if ({inline[0]}) else _h{k}(v, _t{k})"


def _default_expr(cls: type, a: attrs.Attribute[Any], k: int, consts: dict[str, Any]) -> str:
    """The emitted expression of field ``k``'s default (``a`` absent from the frame), as ``_d{k}``."""
    default: Any = a.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        if default.takes_self:  # pragma: no cover - the generated models have none
            raise TypeError(f"{cls.__name__}.{a.name}: a default that takes self")
        consts[f"_d{k}"] = default.factory
        return f"_d{k}()"
    consts[f"_d{k}"] = default
    return f"_d{k}"


def _emit_structure(
    cls: type,
    fields: tuple[attrs.Attribute[Any], ...],
    hooks: list[Callable[[Any, Any], Any]],
    check: Check | None,
) -> Callable[[object, object], Any]:
    """The fast hook of a plain attrs model, as one function emitted for the class.

    What cattrs' generated function and the class's ``__init__`` do, in one frame: each field
    is read, tested inline where its hook is a type test (see :func:`_inline`) and set
    on an instance made with ``object.__new__``; optional fields take their default when
    absent (a tag is required, see :func:`_is_required`). :func:`constructor` checked that ``__init__``
    does nothing else. Any failure raises, and the codec explains it with the detailed
    converter, as for the cattrs hook.
    """
    consts: dict[str, Any] = {
        "_new": object.__new__,
        "_cls": cls,
        "_Decimal": Decimal,
        "_WrongType": _WrongType,
        "_DIGITS": "0123456789",
        "_check": check,
    }
    wires = _field_wire_names(cls)
    lines = [f"def structure_{cls.__name__}(o, _):"]
    if not any(_is_required(a) for a in fields):
        lines.append("    if type(o) is not dict: raise _WrongType('object', o)")
    sets = []
    for k, (a, hook) in enumerate(zip(fields, hooks, strict=True)):
        wire = wires.get(a.name, a.name)
        convert = _hook_line(hook, a, k, consts)
        if _is_required(a):  # tags too: required on the wire, whatever their default
            lines += [f"    v = o[{wire!r}]", f"    {convert}", f"    f{k} = v"]
        else:
            absent = _default_expr(cls, a, k, consts)
            lines += [
                f"    if {wire!r} in o:",
                f"        v = o[{wire!r}]",
                f"        {convert}",
                f"        f{k} = v",
                "    else:",
                f"        f{k} = {absent}",
            ]
        sets.append(f"    self.{a.name} = f{k}")
    lines += ["    self = _new(_cls)", *sets]
    if check is not None:
        lines.append("    _check(self)")
    lines.append("    return self")
    source = "\n".join(lines) + "\n"
    filename = f"<trio_feeds structure {cls.__module__}.{cls.__qualname__}>"
    exec(compile(source, filename, "exec"), consts)
    fn: Callable[[object, object], Any] = consts[f"structure_{cls.__name__}"]
    return fn


def _structure_with_nulls(
    fn: Callable[[Any, Any], Any],
    present: tuple[tuple[str, str, Callable[[Any, Any], Any], Any], ...],
    nullable: frozenset[str],
    has_required: bool,
    check: Check | None,
) -> Callable[[object, object], Any]:
    """The fast hook of a class with nullable optional fields.

    As the general one, and the names of those sent as ``null`` are kept on the instance
    (see ``ExplicitNulls``).
    """

    def structure(v: Any, tt: object) -> Any:
        if not has_required and type(v) is not dict:
            raise _WrongType("object", v)
        obj = fn(v, tt)
        nulls: list[str] | None = None
        for key, name, hook, field_type in present:
            if key in v:
                value = v[key]
                if value is None and name in nullable:
                    if nulls is None:
                        nulls = [name]
                    else:
                        nulls.append(name)
                else:
                    setattr(obj, name, hook(value, field_type))
        if nulls is not None:
            obj._explicit_nulls = frozenset(nulls)
        if check is not None:
            check(obj)
        return obj

    return structure


def _unstructure_with_nulls(
    fn: Callable[[Any], JSONObject], order: tuple[tuple[str, str], ...]
) -> Callable[[Any], JSONObject]:
    """``fn`` (which leaves ``None`` optionals out), then the fields the frame sent as ``null``.

    ``order`` is ``(name, wire name)`` of every field in wire order.
    """

    def unstructure(obj: Any) -> JSONObject:
        out = fn(obj)
        nulls = explicit_nulls(obj)
        if not nulls:
            return out
        # Back in wire order, with the nulls where they belong.
        return {
            wire: out.get(wire)
            for name, wire in order
            if wire in out or (name in nulls and getattr(obj, name) is None)
        }

    return unstructure


def _tuple_with_paths(
    hooks: list[Callable[[Any, Any], Any]], v: list[Any], args: tuple[Any, ...]
) -> tuple[Any, ...]:
    """The detailed converter's tuple: a bad item is reported at its index (``[1][1]``)."""
    out = []
    for i, (h, x, a) in enumerate(zip(hooks, v, args, strict=True)):
        try:
            out.append(h(x, a))
        except Exception as exc:  # noqa: BLE001 - re-raised with the item's index
            note = IterableValidationNote(f"Structuring tuple @ index {i}", i, a)
            exc.__notes__ = [*getattr(exc, "__notes__", []), note]
            raise IterableValidationError(f"While structuring item {i}", [exc], tuple) from None
    return tuple(out)


def _is_optional_newtype(t: Any) -> bool:
    if not _is_union(t):
        return False
    args = typing.get_args(t)
    return len(args) == 2 and type(None) in args and any(isinstance(a, typing.NewType) for a in args)


def _wire_order(cls: type) -> list[attrs.Attribute[Any]]:
    """The fields of ``cls`` in the order ``encode`` writes them: the order of the schema.

    For a subclass (a Cryptology wire form of its concept), attrs puts the subclass's own
    fields last. On the wire the tag leads, as in the documents, so a tag the subclass adds goes
    first; a field it redeclares (``time`` with the form's unit) keeps the concept's place.
    """
    fields = {a.name: a for a in attrs.fields(cls)}
    names: dict[str, None] = {}
    for base in reversed(cls.__mro__):
        if attrs.has(base):
            names.update(dict.fromkeys(a.name for a in attrs.fields(base)))
    ordered = [fields[n] for n in names]
    bases = [b for b in cls.__mro__[1:] if attrs.has(b)]
    if not bases:
        return ordered
    inherited = {a.name for a in attrs.fields(bases[0])}
    added_tags = [a for a in ordered if a.metadata.get("tag") and a.name not in inherited]
    return added_tags + [a for a in ordered if not (a.metadata.get("tag") and a.name not in inherited)]


def _decimal_pairs(
    one_by_one: Callable[[object, object], list[Any]],
) -> Callable[[object, object], list[Any]]:
    """The fast hook of ``list[tuple[Decimal, Decimal]]`` (book levels) for decimal strings.

    Every pair is checked and parsed at once (see ``decimal_pairs_from_strings``); anything else
    goes through ``one_by_one``, which structures (or explains) it item by item.
    """
    only_lists = frozenset({list})

    def structure(v: object, t: object) -> list[Any]:
        if type(v) is list and v and set(map(type, v)) <= only_lists and set(map(len, v)) == {2}:
            pairs = decimal_pairs_from_strings(v)
            if pairs is not None:
                return pairs
        return one_by_one(v, t)

    return structure


def _make_converter(numbers: Numbers, *, detailed: bool, checks: Mapping[type, Check]) -> cattrs.Converter:
    """A strict converter: the strict scalar hooks, and the factories of :class:`_Hooks`."""
    conv = cattrs.Converter(detailed_validation=detailed, forbid_extra_keys=False)
    conv.register_structure_hook(str, _str)
    conv.register_structure_hook(int, _int)
    conv.register_structure_hook(float, _float)
    conv.register_structure_hook(bool, _bool)
    conv.register_structure_hook_func(lambda t: t is Any, _any)
    conv.register_structure_hook(datetime, _iso_datetime)
    conv.register_unstructure_hook(datetime, _iso_text)
    conv.register_structure_hook(MicrosTime, _time_pair(1_000_000, "microseconds"))
    conv.register_structure_hook(MillisTime, _time_pair(1_000, "milliseconds"))
    conv.register_unstructure_hook(MicrosTime, _time_pair_out(1_000_000))
    conv.register_unstructure_hook(MillisTime, _time_pair_out(1_000))
    conv.register_structure_hook(EpochMillis, _epoch_millis())
    conv.register_unstructure_hook(EpochMillis, _epoch_out(1_000))
    conv.register_structure_hook(EpochSeconds, _epoch_seconds())
    conv.register_unstructure_hook(EpochSeconds, _epoch_out(1))
    conv.register_structure_hook(IsoOrEpochSeconds, _iso_or_epoch_seconds())
    conv.register_unstructure_hook(IsoOrEpochSeconds, _iso_or_epoch_seconds_out)
    conv.register_structure_hook(EpochSecondsOrDigits, _epoch_seconds_or_digits())
    conv.register_unstructure_hook(EpochSecondsOrDigits, _epoch_seconds_or_digits_out)
    # A JSON-number decimal in any codec (Peatio k-lines); left as Decimal for the encoder.
    conv.register_structure_hook(DecimalNumber, _decimal_from_number)
    conv.register_unstructure_hook(DecimalNumber, lambda d: d)
    if numbers == "string":
        conv.register_structure_hook(Decimal, _decimal_from_string)
        conv.register_unstructure_hook(Decimal, _decimal_text)
    else:
        conv.register_structure_hook(Decimal, _decimal_from_number)
        # Left as Decimal: the encoder writes it as a raw JSON number.
        conv.register_unstructure_hook(Decimal, lambda d: d)

    hooks = _Hooks(conv, numbers, detailed=detailed, checks=checks)
    conv.register_structure_hook_factory(_is_list, hooks.list_factory)
    conv.register_structure_hook_factory(_is_dict, hooks.dict_factory)
    conv.register_structure_hook_factory(_is_tuple, hooks.tuple_factory)
    conv.register_structure_hook_factory(_is_literal, _literal_factory)
    conv.register_structure_hook_factory(_is_union, hooks.union_factory)
    conv.register_structure_hook_factory(
        _is_model, hooks.model_structure_factory if detailed else hooks.fast_model_structure_factory
    )
    conv.register_unstructure_hook_factory(_is_model, hooks.model_unstructure_factory)
    conv.register_unstructure_hook_factory(_is_optional_newtype, hooks.optional_unstructure_factory)
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
            if isinstance(sub, KeyError) and not isinstance(sub, _MissingField):
                return f"{path}.{wire}", "required field missing"
            return _first_error(sub, sub_cls, f"{path}.{wire}")
        if without:
            return _first_error(without[0], cls, path)
    if isinstance(exc, IterableValidationError):
        items, rest = exc.group_exceptions()
        if items:
            sub, item = items[0]
            index = item.index
            if isinstance(index, int):
                step = f"[{index}]"
            elif isinstance(index, str) and _IDENTIFIER.fullmatch(index):
                step = f".{index}"  # a map key written like a field (a Peatio ticker's market)
            else:
                step = f"[{json.dumps(index)}]"
            return _first_error(sub, item.type if isinstance(item.type, type) else None, path + step)
        if rest:
            return _first_error(rest[0], cls, path)
    if isinstance(exc, ExceptionGroup):
        return _first_error(exc.exceptions[0], cls, path)
    if isinstance(exc, _MissingField):
        return f"{path}.{exc.wire}", "required field missing"
    if isinstance(exc, KeyError):
        return path, f"required field {exc.args[0]!r} missing"
    return path, str(exc) or type(exc).__name__
