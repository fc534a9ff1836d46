"""Typed decoding straight from the frame with msgspec, for the frames that allow it.

The strict path of :class:`~trio_feeds._codecs.Codec` (an untyped parse, the protocol's
``classify``, the converters of ``_converter.py``) defines what a frame means. This module is a
faster way to the same result for common, well-formed frames, with two rules:

1. A frame the fast path accepts, the strict path accepts too, and decodes to an equal message:
   same class, same field values of the same types, same explicit nulls, same remembered wire
   forms of times.
2. A frame the fast path cannot take, for any reason (a msgspec error, an error from a hook, a
   tag it does not route), is decoded by the strict path, which decodes it or explains it with a
   JSON path. The fast path raises nothing and decides nothing about bad frames.

So the fast path may refuse more than the strict path (at a cost in time, never in meaning)
but never accept more. It refuses, for one, every frame with a field its model does not
declare: msgspec would skip that value unchecked, where the strict path's parse checks the
whole frame (UTF-8, number ranges). ``tests/test_fastpath.py`` checks rule 1 against the strict path on
every fixture, on fuzzed frames and on generated near misses.

How. Each :class:`Route` (a tag key and the classes its values pick) becomes one msgspec
decoder of a tagged union of *wire structs*, one per class. A wire struct's fields are JSON
shapes that msgspec checks in C, as the strict hooks would:

- ``str``, ``bool`` and ``Literal`` s of strings or of integers: exactly what the strict hooks
  accept; the value is used as it is. ``int``: msgspec takes any size, so the signed 64-bit
  range is tested after it.
- a decimal string: a ``str``, then the strict path's test and ``Decimal(text)`` (msgspec's
  ``pattern`` would run a regex per value, three times the cost).
- nested models, ``list``, ``dict`` with string keys, ``tuple`` and ``X | None``: recursively.
- anything else (times, JSON-number decimals, other unions, fields with bounds or patterns,
  ``Any``): msgspec parses the value untyped, exactly as the strict path's parser does (the
  same ``float_hook``), and the strict path's own hook converts it.

The message is then built by one function emitted per class (as ``_converter._emit_structure``
does for the strict path), from the struct's attributes.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal

import attrs
import cattrs
import msgspec

from .._types import ExplicitNulls
from ._converter import (
    _DECIMAL_TEST,
    Check,
    _constrained,
    _default_expr,
    _field_wire_names,
    _hook_line,
    _is_nullable_optional,
    _is_required,
    _is_union,
    constructor,
)
from ._scalars import (
    INT_MAX,
    INT_MIN,
    _bool,
    _decimal_from_string,
    _int,
    _str,
    decimal_pairs_from_strings,
    decimals_from_strings,
)

__all__ = ["FastDecoder", "Route", "strict_decides"]


@attrs.frozen
class Route:
    """Frames whose tag sits under ``key``: the strict ``classify`` picks ``classes[value]``.

    Attributes:
        key: the tag's wire key (``"@type"``, ``"channel"``...).
        classes: tag value -> generated class.
        before: keys that ``classify`` looks at first: the route applies only when each is
            absent or ``null`` (the wire struct declares them as ``null``-only fields).
        require: keys that must be present for ``classify`` to take this route (Onyx events
            carry ``message_type``); a class that does not require them on the wire gets them
            as required fields of its wire struct.
    """

    key: str
    classes: Mapping[str, type]
    before: tuple[str, ...] = ()
    require: tuple[str, ...] = ()


_ABSENT_OR_NULL = None | msgspec.UnsetType


def _decimal(v: str) -> Decimal:
    """A decimal string's value: the strict hook (msgspec's own ``pattern`` costs a regex per value)."""
    return _decimal_from_string(v, None)


def _int64(v: int) -> int:
    """Msgspec takes integers of any size: the strict hook's signed 64-bit range."""
    return _int(v, None)


# The conversion of a wire value: None when the value is the model's value as it is.
Convert = Callable[[Any], Any] | None


class _Unmirrored(Exception):
    """A type this module leaves to the strict hook (parsed untyped, converted by the hook)."""


class _Builder:
    """Wire structs and conversion functions for the classes of one codec."""

    def __init__(self, converter: cattrs.Converter, checks: Mapping[type, Check]) -> None:
        self.converter = converter
        self.checks = checks
        # Per model class: (wire struct, conversion) or None when the class has no fast form.
        self.models: dict[type, tuple[type, Callable[[Any], Any]] | None] = {}
        self.building: set[type] = set()

    def hook(self, t: Any) -> Callable[[Any, Any], Any]:
        hook: Callable[[Any, Any], Any] = self.converter.get_structure_hook(t)
        return hook

    # -- types -------------------------------------------------------------------------------

    def mirror(self, t: Any) -> tuple[Any, Convert]:
        """``(wire type, conversion)`` of ``t``; raises :class:`_Unmirrored` to leave it to its hook."""
        if t is str and self.hook(t) is _str:
            return str, None
        if t is bool and self.hook(t) is _bool:
            return bool, None
        if t is int and self.hook(t) is _int:
            return int, _int64
        if t is Decimal and self.hook(t) is _decimal_from_string:
            return str, _decimal
        origin = typing.get_origin(t)
        if origin is Literal:
            values = typing.get_args(t)
            kinds = {type(v) for v in values}
            if kinds in ({str}, {int}):  # bool is not int here: type() is exact
                return t, None
            raise _Unmirrored
        if isinstance(t, type) and attrs.has(t):
            built = self.model(t)
            if built is None:
                raise _Unmirrored
            return built
        if origin is list:
            (item,) = typing.get_args(t)
            wire, convert = self.mirror(item)
            return list[wire], _each(convert)  # type: ignore[valid-type]
        if origin is dict:
            key, value = typing.get_args(t)
            if key is not str:
                raise _Unmirrored
            wire, convert = self.mirror(value)
            return dict[str, wire], _each_value(convert)  # type: ignore[valid-type]
        if origin is tuple:
            items = typing.get_args(t)
            if not items or items[-1] is Ellipsis:
                raise _Unmirrored
            mirrored = [self.mirror(a) for a in items]
            return tuple[tuple(w for w, _ in mirrored)], _items([c for _, c in mirrored])  # type: ignore[misc]
        if _is_union(t):
            members = typing.get_args(t)
            if len(members) == 2 and type(None) in members:
                (inner,) = (m for m in members if m is not type(None))
                wire, convert = self.mirror(inner)
                return wire | None, _or_none(convert)
        raise _Unmirrored

    # -- models ------------------------------------------------------------------------------

    def model(
        self, cls: type, *, tag: tuple[str, str] | None = None, route: Route | None = None
    ) -> tuple[type, Callable[[Any], Any]] | None:
        """The wire struct of ``cls`` and the function that builds ``cls`` from it, or None.

        ``tag`` is ``(key, value)`` for a route's class: the struct is tagged (msgspec checks the
        value) and the model's tag field is set to it.
        """
        if tag is None and cls in self.models:
            return self.models[cls]
        if cls in self.building:  # a cycle: leave the inner one to its hook
            return None
        self.building.add(cls)
        try:
            built = self._model(cls, tag, route)
        finally:
            self.building.discard(cls)
        if tag is None:
            self.models[cls] = built
        return built

    def _model(
        self, cls: type, tag: tuple[str, str] | None, route: Route | None
    ) -> tuple[type, Callable[[Any], Any]] | None:
        fields = attrs.fields(attrs.resolve_types(cls))
        required = [a.alias for a in fields if _is_required(a)]
        if constructor(cls, required) is None or not all(a.init and a.kw_only for a in fields):
            return None  # not a plain attrs class: _emit_structure's conditions
        if any(_is_nullable_optional(a) for a in fields) and not issubclass(cls, ExplicitNulls):
            return None
        wires = _field_wire_names(cls)
        wire_of = {a.name: wires.get(a.name, a.name) for a in fields}
        taken = set(wire_of.values())
        struct_fields: list[tuple[str, Any, Any]] = []
        if route is not None:
            for i, key in enumerate(route.before):
                if key in taken:
                    return None  # the route's own key order cannot be expressed for this class
                absent = msgspec.field(default=msgspec.UNSET, name=key)
                struct_fields.append((f"b{i}", _ABSENT_OR_NULL, absent))
            for i, key in enumerate(route.require):
                if key not in taken:
                    struct_fields.append((f"r{i}", Any, msgspec.field(name=key)))
                elif not any(_is_required(a) for a in fields if wire_of[a.name] == key):
                    return None  # present-but-optional: classify would not see it required
        emit = _Emitter(cls, self.checks.get(cls))
        for k, a in enumerate(fields):
            wire = wire_of[a.name]
            if tag is not None and wire == tag[0]:
                emit.constant(a.name, tag[1])
                continue
            optional = not _is_required(a)
            plain = self.hook(a.type)
            hook = _constrained(plain, a)
            wire_type: Any = Any
            convert: Convert = None
            use_hook = True
            if hook is plain:  # no bounds or pattern on the field
                try:
                    wire_type, convert = self.mirror(a.type)
                    use_hook = False
                except _Unmirrored:
                    pass
            if optional:
                wire_type = Any if wire_type is Any else wire_type | msgspec.UnsetType
                spec = msgspec.field(default=msgspec.UNSET, name=wire)
            else:
                spec = msgspec.field(name=wire)
            struct_fields.append((f"f{k}", wire_type, spec))
            if use_hook:
                emit.hooked(a, k, hook, optional)
            else:
                emit.mirrored(a, k, convert, optional)
        # forbid_unknown_fields: msgspec skips an unknown field's value without the checks of a
        # parse (UTF-8, a float's range, an integer's digits), which the strict path makes on
        # the whole frame. A frame with a field its model does not declare takes the strict path.
        # gc=False: a wire struct lives only until its model is built and holds no cycle.
        options: dict[str, Any] = {"kw_only": True, "gc": False, "forbid_unknown_fields": True}
        if tag is not None:
            options.update(tag_field=tag[0], tag=tag[1])
        struct = msgspec.defstruct(f"{cls.__name__}Wire", struct_fields, **options)
        return struct, emit.function()


def _each(convert: Convert) -> Convert:
    if convert is None:
        return None
    if convert is _decimal:
        return _decimals
    if convert is _decimal_pair:
        return _decimal_pairs
    return _Each(convert)


def _decimals(v: list[str]) -> list[Decimal]:
    # All at once, as the strict path's list and dict hooks do (see decimals_from_strings).
    values = decimals_from_strings(v)
    return list(map(_decimal, v)) if values is None else values


def _decimal_pairs(v: list[tuple[str, str]]) -> list[tuple[Decimal, Decimal]]:
    # Book levels, as the strict path's _decimal_pairs: every value checked and parsed at once.
    pairs = decimal_pairs_from_strings(v)
    return list(map(_decimal_pair, v)) if pairs is None else pairs


def _decimal_pair(v: tuple[str, str]) -> tuple[Decimal, Decimal]:
    return (_decimal(v[0]), _decimal(v[1]))


def _each_value(convert: Convert) -> Convert:
    if convert is None:
        return None
    if convert is _decimal:
        return lambda v: dict(zip(v, _decimals(list(v.values())), strict=True))
    c = convert
    return lambda v: {k: c(x) for k, x in v.items()}


def _items(converts: list[Convert]) -> Convert:
    if all(c is None for c in converts):
        return None
    if converts == [_decimal, _decimal]:
        return _decimal_pair
    cs: list[Callable[[Any], Any]] = [_same if c is None else c for c in converts]
    return lambda v: tuple(c(x) for c, x in zip(cs, v, strict=True))


def strict_decides(frame: Any) -> None:
    """The fallback of ``FastDecoder.decode``: no message, the strict path decides."""
    return None


def _same(v: Any) -> Any:
    return v


class _Each:
    """The conversion of a list: ``inner`` on each item.

    A class rather than a closure so that the emitter can see ``inner`` and inline the loop.
    """

    __slots__ = ("inner",)

    def __init__(self, inner: Callable[[Any], Any]) -> None:
        self.inner = inner

    def __call__(self, v: list[Any]) -> list[Any]:
        return list(map(self.inner, v))


class _OrNone:
    """The conversion of ``X | None``: ``inner`` unless the value is ``None``.

    A class rather than a closure so that the emitter can see ``inner`` and inline it.
    """

    __slots__ = ("inner",)

    def __init__(self, inner: Callable[[Any], Any]) -> None:
        self.inner = inner

    def __call__(self, v: Any) -> Any:
        return None if v is None else self.inner(v)


def _or_none(convert: Convert) -> Convert:
    return None if convert is None else _OrNone(convert)


class _Emitter:
    """The source of one class's conversion function (wire struct -> model), line by line."""

    def __init__(self, cls: type, check: Check | None) -> None:
        self.cls = cls
        self.check = check
        self.consts: dict[str, Any] = {
            "_new": object.__new__,
            "_cls": cls,
            "_Decimal": Decimal,
            "_decimal": _decimal,
            "_int64": _int64,
            "_UNSET": msgspec.UNSET,
            "_DIGITS": "0123456789",
            "_check": check,
        }
        self.lines: list[str] = []
        self.nulls = False

    def constant(self, name: str, value: Any) -> None:
        self.consts[f"_tag_{name}"] = value
        self.lines.append(f"    self.{name} = _tag_{name}")

    def _field(self, a: attrs.Attribute[Any], k: int, convert_lines: list[str], optional: bool) -> None:
        name = a.name
        if not optional:
            if convert_lines == ["pass"]:
                self.lines.append(f"    self.{name} = s.f{k}")
                return
            self.lines += [f"    v = s.f{k}", *(f"    {line}" for line in convert_lines)]
        else:
            self.lines += [
                f"    v = s.f{k}",
                "    if v is _UNSET:",
                f"        v = {_default_expr(self.cls, a, k, self.consts)}",
            ]
            if _is_nullable_optional(a):
                # Sent as null: None, and remembered (ExplicitNulls), as the strict path does.
                self.nulls = True
                self.lines += ["    elif v is None:", f"        nulls.append({name!r})"]
            self.lines += ["    else:", *(f"        {line}" for line in convert_lines)]
        self.lines.append(f"    self.{name} = v")

    def mirrored(self, a: attrs.Attribute[Any], k: int, convert: Convert, optional: bool) -> None:
        # The two leaf conversions inline, as the strict path's _inline tests: the common case
        # without a call, anything else through the function (which raises for a bad value).
        if isinstance(convert, _OrNone):
            lines = ["if v is not None:", *(f"    {line}" for line in self._convert(k, convert.inner))]
        else:
            lines = self._convert(k, convert)
        self._field(a, k, lines, optional)

    def _convert(self, k: int, convert: Convert) -> list[str]:
        if convert is None:
            return ["pass"]
        if convert is _decimal:
            # msgspec made it a str: the test's first clause is known to hold.
            test = _DECIMAL_TEST.removeprefix("type(v) is str and ")
            return [f"v = _Decimal(v) if ({test}) else _decimal(v)"]
        if convert is _int64:
            return [f"if not ({INT_MIN} <= v <= {INT_MAX}): v = _int64(v)"]
        if isinstance(convert, _Each):
            # A list of models (a book's levels, a frame's trades): map() calls each item's
            # function from C, with no frame of its own for the loop.
            self.consts[f"_c{k}"] = convert.inner
            return [f"v = list(map(_c{k}, v))"]
        self.consts[f"_c{k}"] = convert
        return [f"v = _c{k}(v)"]

    def hooked(
        self, a: attrs.Attribute[Any], k: int, hook: Callable[[Any, Any], Any], optional: bool
    ) -> None:
        # The strict path's code for this field (see _converter._emit_structure).
        self._field(a, k, [_hook_line(hook, a, k, self.consts)], optional)

    def function(self) -> Callable[[Any], Any]:
        name = self.cls.__name__
        # The instance first, then each field set as it is converted (constructor() checked that
        # __init__ does nothing else); a failure drops the half-built instance.
        head = [f"def convert_{name}(s):", "    self = _new(_cls)"]
        if self.nulls:
            head.append("    nulls = []")
        tail = []
        if self.nulls:
            tail += ["    if nulls:", "        self._explicit_nulls = frozenset(nulls)"]
        if self.check is not None:
            tail.append("    _check(self)")
        tail.append("    return self")
        source = "\n".join([*head, *self.lines, *tail]) + "\n"
        filename = f"<trio_feeds fast decode {self.cls.__module__}.{self.cls.__qualname__}>"
        exec(compile(source, filename, "exec"), self.consts)
        fn: Callable[[Any], Any] = self.consts[f"convert_{name}"]
        return fn


class FastDecoder:
    """The fast path of one codec: ``decode(frame)`` gives the message, or None for the strict path.

    Args:
        converter: the codec's fast strict converter (its hooks convert what is left to them).
        routes: in the order the protocol's ``classify`` looks at their keys.
        checks: the codec's per-class checks, run as the strict path runs them.
        float_hook: the strict path's parser's (``Decimal`` where it reads non-integer numbers
            as exact decimals), so that values left to a hook are parsed the same way.
    """

    def __init__(
        self,
        converter: cattrs.Converter,
        routes: Iterable[Route],
        *,
        checks: Mapping[type, Check],
        float_hook: Callable[[str], Any] | None,
    ) -> None:
        self._builder = builder = _Builder(converter, checks)
        self._float_hook = float_hook
        self.routes: tuple[tuple[Callable[[Any], Any], dict[type, Callable[[Any], Any]]], ...] = ()
        # The message of a frame, or None when the strict path must decide (see decoder()).
        self.decode: Callable[[Any], Any]
        self.classes: set[type] = set()
        for route in routes:
            converts: dict[type, Callable[[Any], Any]] = {}
            for value, cls in route.classes.items():
                built = builder.model(cls, tag=(route.key, value), route=route)
                if built is not None:
                    struct, convert = built
                    converts[struct] = convert
                    self.classes.add(cls)
            if converts:
                union: Any = typing.Union[tuple(converts)]  # noqa: UP007 - built at run time
                decoder = msgspec.json.Decoder(union, float_hook=float_hook)
                self.routes += ((decoder.decode, converts),)
        self.decode = self.decoder(strict_decides)

    def keyed_parts(self, cls: type, key: str) -> tuple[Callable[[Any], Any], Callable[[Any], Any]] | None:
        """``(decode, convert)`` for the one-key object ``{key: <cls>}``, or None if ``cls`` has no fast form.

        ``convert(decode(text).value)`` is the ``cls`` under ``key``: as :meth:`model_parts`,
        with the envelope checked in the same msgspec pass (a frame with another key, or more
        keys, fails). Building it costs a struct class and a decoder: once per key.
        """
        built = self._builder.model(cls)
        if built is None:
            return None
        struct, convert = built
        envelope = msgspec.defstruct(
            f"{cls.__name__}Envelope",
            [("value", struct, msgspec.field(name=key))],
            forbid_unknown_fields=True,
            gc=False,
        )
        decode: Callable[[Any], Any] = msgspec.json.Decoder(envelope, float_hook=self._float_hook).decode
        return decode, convert

    def model_parts(self, cls: type) -> tuple[Callable[[Any], Any], Callable[[Any], Any]] | None:
        """``(decode, convert)``: ``convert(decode(text))`` is ``cls`` from a JSON object's text.

        For protocols whose frames are not tagged objects (Ranger's ``{"<stream>": payload}``):
        the caller picks the class. The two raise for anything they cannot take (the strict
        path then decides); None when ``cls`` has no fast form.
        """
        built = self._builder.model(cls)
        if built is None:
            return None
        struct, convert = built
        decode: Callable[[Any], Any] = msgspec.json.Decoder(struct, float_hook=self._float_hook).decode
        self.classes.add(cls)
        return decode, convert

    def decoder(self, fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """A function from a frame to its message: the fast path, else ``fallback(frame)``.

        :attr:`decode` is ``decoder(strict_decides)``; a codec passes its strict decode, so
        that a frame costs one Python call before msgspec (this runs once per frame).
        """
        routes = self.routes
        if not routes:
            return fallback
        # At most one route can take a frame: route k requires its key to hold a string tag,
        # and every later route requires that key absent or null. So the order of the tries
        # does not change the result, and the route that took the last frame goes first: a
        # connection speaks one form (a feed's data all under `channel`, say), so the first
        # try is nearly always the one. Another thread may see the pair half replaced: then
        # the first try fails (a KeyError, caught) and the loop tries every route.
        first_decode, first_converts = routes[0]

        def decode(frame: Any) -> Any:
            nonlocal first_decode, first_converts
            try:
                struct = first_decode(frame)
                return first_converts[type(struct)](struct)
            except Exception:  # noqa: BLE001 - rule 2: the strict path decides and explains
                pass
            for route_decode, converts in routes:
                if route_decode is first_decode:
                    continue
                try:
                    struct = route_decode(frame)
                    message = converts[type(struct)](struct)
                except Exception:  # noqa: BLE001 - as above
                    continue
                first_decode, first_converts = route_decode, converts
                return message
            return fallback(frame)

        return decode
