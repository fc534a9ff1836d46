"""Fuzzing the codecs with mutated frames: no frame can end a feed.

Seeds are the conformance fixtures (``tests/fixtures/<protocol>/``). Each frame is one to three
mutations of a seed: truncation, type swaps, deep nesting, huge numbers, random bytes,
NaN/Infinity, duplicate keys, lone surrogates, 1 MB strings, other scripts' digits and blanks
in decimals, unknown tags. For every frame:

* ``decode`` returns a message or an ``UnknownMessage``, or raises ``DecodeError``: nothing else;
* a frame whose only mutation is an unknown tag gives an ``UnknownMessage``;
* what decodes can be printed and encoded, and decodes again to an equal message.

And a live feed (against the protocol's local server) gets a slice of the frames that fail to
decode, each between two good messages: no reconnect, every good message delivered, one
``DecodeFailed`` per bad frame.

Usage::

    python -m tests.fuzz --per-protocol 100000 --live 1000     # what `nox -s fuzz` runs
    python -m tests.fuzz --protocol onyx --seed 0 --start 4711 --count 1 --show   # one frame again

Frame ``i`` of protocol ``p`` under seed ``s`` is made by ``random.Random(f"{s}:{p}:{i}")``
alone, so a failure report (seed, protocol, index) is enough to make that frame again.
tests/test_fuzz.py runs a slice of this in the default suite.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import attrs
import msgspec

from tests._fixtures import fixture_cases, fixture_text, fixture_value, module
from trio_feeds import DecodeError, UnknownMessage

PROTOCOLS = ("cryptology", "gateway", "onyx", "peatio")
DEFAULT_SEED = 0

Frame = str | bytes


@attrs.frozen
class Case:
    """One fuzzed frame and what is expected of it."""

    protocol: str
    seed: int
    index: int
    labels: tuple[str, ...]
    frame: Frame
    expect_unknown: bool

    def replay(self) -> str:
        """The command that makes and checks this frame again."""
        return (
            f"python -m tests.fuzz --protocol {self.protocol} --seed {self.seed} "
            f"--start {self.index} --count 1 --show"
        )


class FuzzFailure(AssertionError):
    """A frame broke the decode contract; the message says how to make it again."""

    def __init__(self, case: Case, problem: str) -> None:
        frame = case.frame if len(case.frame) <= 400 else case.frame[:400]
        super().__init__(
            f"{case.protocol} frame {case.index} (seed {case.seed}, mutations {'+'.join(case.labels)}): "
            f"{problem}\n  frame ({len(case.frame)} {'bytes' if isinstance(case.frame, bytes) else 'chars'}): "
            f"{frame!r}\n  replay: {case.replay()}"
        )
        self.case = case


# -- seeds -----------------------------------------------------------------------------------------


@cache
def seeds(protocol: str) -> tuple[tuple[str, Any], ...]:
    """(text, JSON value) of every conformance fixture of ``protocol``."""
    out = []
    for p, entry in fixture_cases():
        if p != protocol:
            continue
        value = fixture_value(protocol, entry)
        text = json.dumps(entry["instance"]) if entry.get("template") else fixture_text(protocol, entry)
        out.append((text, value))
    return tuple(out)


# -- building blocks -------------------------------------------------------------------------------

_PLACEHOLDER = "\x00fuzz-placeholder\x00"


_encode = msgspec.json.Encoder(decimal_format="number").encode


def _dumps(value: Any) -> str:
    return _encode(value).decode()


def _copy(value: Any) -> Any:
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy(v) for v in value]
    return value


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths (key tuples) of every value below the root."""
    if type(value) is dict:
        for k, v in value.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif type(value) is list:
        for i, v in enumerate(value):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        value = value[k]
    return value


def _set(value: Any, path: tuple[Any, ...], new: Any) -> None:
    _get(value, path[:-1])[path[-1]] = new


def _nested(rng: random.Random, depth: int) -> str:
    """JSON text nesting ``depth`` arrays/objects (as text: beyond what a JSON writer takes)."""
    opening, closing = [], []
    for _ in range(depth):
        if rng.random() < 0.5:
            opening.append("[")
            closing.append("]")
        else:
            opening.append('{"a":')
            closing.append("}")
    return "".join(opening) + rng.choice(["1", '"x"', "null", "[]", "{}"]) + "".join(reversed(closing))


_SCALARS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    7,
    1.5,
    -0.0,
    "",
    "x",
    "12",
    "false",
    "null",
    [],
    {},
    [1, "a"],
    {"a": 1},
]
_HUGE_INTS = [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30, -(10**30), 10**4000]
_NUMBER_TOKENS = [
    "NaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-1e999",
    "1e-999",
    "1e99999999999999999999",
    "1E+400",
    "-0",
    "0.1e-99999999999999999999",
    "1" + "0" * 4400,
    "01",
    "1.",
    ".5",
    "+1",
    "0x10",
]
_STRING_TOKENS = ['"\\ud800"', '"\\udfff x"', '"a\\ud800b"', '"\\u0000"', '"\\uZZZZ"', '"\\', '"\t"']
_BAD_DECIMALS = [
    " 1",
    "1 ",
    "1\n",
    "\t1",
    "1_000",
    "\u0661\u0662\u0663.\u0664",
    "\uff11\uff12",
    "\u0967",
    "1\u00a0",
    "\u20031",
    "1e5",
    "1E-5",
    ".5",
    "5.",
    "-.5",
    "+1",
    "--1",
    "NaN",
    "sNaN",
    "Infinity",
    "-inf",
    "",
    "-",
    "1.2.3",
    "0x10",
    "1,5",
    "9" * 5000,
    "0." + "0" * 3000 + "1",
]


# -- mutations ---------------------------------------------------------------------------------------
# A value mutation changes the JSON value (in place, on a copy). What only the text can carry
# (NaN, 1e999, a lone-surrogate escape, a key twice) is left as the placeholder string
# _PLACEHOLDER (a value, or a key with the value 0), and the mutation returns the raw text that
# replaces it. Returns "" when no placeholder was left, None when the mutation does not apply.

ValueMutation = Callable[[random.Random, Any, str], "str | None"]


def _pick_path(
    rng: random.Random, value: Any, want: Callable[[Any], bool] | None = None
) -> tuple[Any, ...] | None:
    paths = [p for p in _paths(value) if want is None or want(_get(value, p))]
    return rng.choice(paths) if paths else None


def _type_swap(rng: random.Random, value: Any, protocol: str) -> str | None:
    path = _pick_path(rng, value)
    if path is None:
        return None
    _set(value, path, _copy(rng.choice(_SCALARS)))
    return ""


def _drop_key(rng: random.Random, value: Any, protocol: str) -> str | None:
    path = _pick_path(rng, {"": value}, lambda v: type(v) is dict and bool(v))
    if path is None:
        return None
    target = _get({"": value}, path)
    del target[rng.choice(list(target))]
    return ""


def _add_key(rng: random.Random, value: Any, protocol: str) -> str | None:
    path = _pick_path(rng, {"": value}, lambda v: type(v) is dict)
    if path is None:
        return None
    target = _get({"": value}, path)
    target[rng.choice(["x", "extra", "", "\u00e9", "@type", "price", "a" * 100])] = _copy(
        rng.choice(_SCALARS)
    )
    return ""


def _deep(rng: random.Random, value: Any, protocol: str) -> str | None:
    path = _pick_path(rng, value)
    if path is None:
        return None
    _set(value, path, _PLACEHOLDER)
    return _nested(rng, rng.choice([2, 10, 62, 63, 64, 65, 100, 300, 1000, 1022, 1023, 1024, 1025, 3000]))


def _huge_number(rng: random.Random, value: Any, protocol: str) -> str | None:
    path = _pick_path(rng, value)
    if path is None:
        return None
    _set(value, path, _PLACEHOLDER)
    return str(rng.choice(_HUGE_INTS)) if rng.random() < 0.5 else rng.choice(_NUMBER_TOKENS)


def _bad_decimal(rng: random.Random, value: Any, protocol: str) -> str | None:
    path = _pick_path(rng, value, lambda v: type(v) is str) or _pick_path(rng, value)
    if path is None:
        return None
    _set(value, path, rng.choice(_BAD_DECIMALS))
    return ""


def _lone_surrogate(rng: random.Random, value: Any, protocol: str) -> str | None:
    path = _pick_path(rng, value, lambda v: type(v) is str) or _pick_path(rng, value)
    if path is None:
        return None
    _set(value, path, _PLACEHOLDER)
    return rng.choice(_STRING_TOKENS)


def _huge_string(rng: random.Random, value: Any, protocol: str) -> str | None:
    if rng.random() > 0.02:  # 1 MB frames are slow to make: rarely
        return None
    path = _pick_path(rng, value, lambda v: type(v) is str) or _pick_path(rng, value)
    if path is None:
        return None
    _set(value, path, rng.choice(["x", "9", "\u00e9", " "]) * (2**20))
    return ""


def _swap_container(rng: random.Random, value: Any, protocol: str) -> str | None:
    path = _pick_path(rng, value, lambda v: type(v) in (list, dict))
    if path is None:
        return None
    old = _get(value, path)
    _set(value, path, dict(enumerate(old)) if type(old) is list else list(old.values()))
    if type(_get(value, path)) is dict:
        _set(value, path, {str(k): v for k, v in _get(value, path).items()})
    return ""


def _duplicate_key(rng: random.Random, value: Any, protocol: str) -> str | None:
    path = _pick_path(rng, {"": value}, lambda v: type(v) is dict and bool(v))
    if path is None:
        return None
    target = _get({"": value}, path)
    key = rng.choice(list(target))
    copy = dict(target)
    target.clear()
    # The same key twice, the other first: only the text can say that.
    target[_PLACEHOLDER] = 0
    target.update(copy)
    return _dumps(key) + ": " + _dumps(rng.choice(_SCALARS))


def unknown_tag(protocol: str, value: Any, rng: random.Random) -> bool:
    """Give ``value`` a tag no model knows (in place); False when it has no tag to change."""
    if type(value) is not dict:
        return False
    tag = f"Zz{rng.getrandbits(32):08x}"
    if protocol == "cryptology":
        keys = [k for k in ("_cls", "@type") if k in value]
    elif protocol == "gateway":
        keys = [k for k in ("channel", "event", "action") if k in value][:1]
    elif protocol == "onyx":
        event = "message_type" in value or ("message" in value and "method" not in value)
        keys = ["channel"] if event and "channel" in value else ["method"] if "method" in value else []
    elif "event" in value:  # peatio: the event of a client request ...
        keys = ["event"]
    elif len(value) == 1 and "jwt" not in value:  # ... the stream name of a server frame
        (stream,) = value
        value[f"zz.{tag}"] = value.pop(stream)
        return True
    else:
        keys = []
    if not keys:
        return False
    for key in keys:
        value[key] = tag
    return True


_VALUE_MUTATIONS: dict[str, ValueMutation] = {
    "type_swap": _type_swap,
    "drop_key": _drop_key,
    "add_key": _add_key,
    "deep": _deep,
    "huge_number": _huge_number,
    "bad_decimal": _bad_decimal,
    "lone_surrogate": _lone_surrogate,
    "huge_string": _huge_string,
    "swap_container": _swap_container,
    "duplicate_key": _duplicate_key,
}


def _truncate(rng: random.Random, text: str) -> Frame:
    return text[: rng.randrange(len(text))] if text else text


def _flip_bytes(rng: random.Random, text: str) -> Frame:
    data = bytearray(text.encode("utf-8", "surrogatepass"))
    for _ in range(rng.randint(1, 4)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _random_bytes(rng: random.Random, text: str) -> Frame:
    return rng.randbytes(rng.randint(0, 300))


def _random_text(rng: random.Random, text: str) -> Frame:
    alphabet = '{}[]:," \\0123456789.-+eEtrufalsn\u00e9\u0661\uff11\ud800\n\t'
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))


def _as_bytes(rng: random.Random, text: str) -> Frame:
    # Valid JSON, sent as a binary frame.
    return text.encode("utf-8", "surrogatepass")


def _whitespace(rng: random.Random, text: str) -> Frame:
    pos = rng.randrange(len(text) + 1)
    return text[:pos] + rng.choice([" ", "\n", "\t", "\r", "\u00a0", "\u2028", "\x00", "\ufeff"]) + text[pos:]


def _raw_surrogate(rng: random.Random, text: str) -> Frame:
    # A Python str with a lone surrogate character (no UTF-8 frame carries one; decode() may).
    pos = rng.randrange(len(text) + 1)
    return text[:pos] + "\udc80" + text[pos:]


_TEXT_MUTATIONS: dict[str, Callable[[random.Random, str], Frame]] = {
    "truncate": _truncate,
    "flip_bytes": _flip_bytes,
    "random_bytes": _random_bytes,
    "random_text": _random_text,
    "as_bytes": _as_bytes,
    "whitespace": _whitespace,
    "raw_surrogate": _raw_surrogate,
}


def make_case(protocol: str, seed: int, index: int) -> Case:
    """Frame ``index`` of ``protocol`` under ``seed`` (the same arguments, the same frame)."""
    rng = random.Random(f"{seed}:{protocol}:{index}")
    text, value = rng.choice(seeds(protocol))
    value = _copy(value)
    labels: list[str] = []
    if rng.random() < 0.1 and unknown_tag(protocol, value, rng):
        # Only a new tag: the frame must be an UnknownMessage.
        return Case(protocol, seed, index, ("unknown_tag",), _dumps(value), True)
    frame_tokens: list[str] = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        if rng.random() < 0.25 and not labels:
            # Text-level only (on the seed's own text).
            name = rng.choice(list(_TEXT_MUTATIONS))
            return Case(protocol, seed, index, (name,), _TEXT_MUTATIONS[name](rng, text), False)
        name = rng.choice(list(_VALUE_MUTATIONS))
        if frame_tokens and name in ("deep", "huge_number", "lone_surrogate", "duplicate_key"):
            continue  # one placeholder per frame
        token = _VALUE_MUTATIONS[name](rng, value, protocol)
        if token is None:
            continue
        labels.append(name)
        if token:
            frame_tokens.append(token)
    if rng.random() < 0.1:
        labels.append("unknown_tag")
        unknown_tag(protocol, value, rng)
    frame = _dumps(value)
    for token in frame_tokens:
        # A later mutation may have replaced the placeholder (or its container): then no-op.
        placeholder = _dumps(_PLACEHOLDER)
        frame = frame.replace(placeholder + ":0", token, 1).replace(placeholder, token, 1)
    if rng.random() < 0.05:
        name = rng.choice(["truncate", "whitespace", "as_bytes"])
        labels.append(name)
        return Case(protocol, seed, index, tuple(labels), _TEXT_MUTATIONS[name](rng, frame), False)
    return Case(protocol, seed, index, tuple(labels) or ("none",), frame, False)


# -- the contract ------------------------------------------------------------------------------------


def check(case: Case) -> str:
    """Decode ``case.frame`` and check the contract; return ``"message"``, ``"unknown"`` or ``"error"``.

    Raises:
        FuzzFailure: the contract is broken (anything but DecodeError escaped, an unknown tag
            was not an UnknownMessage, or what decoded cannot be printed, encoded, decoded again).
    """
    mod = module(case.protocol)
    try:
        msg = mod.decode(case.frame)
    except DecodeError as exc:
        if exc.protocol != case.protocol or not exc.path.startswith("$") or not str(exc):
            raise FuzzFailure(case, f"malformed DecodeError {exc!r}") from exc
        if case.expect_unknown:
            raise FuzzFailure(case, f"an unknown tag gave DecodeError {exc}") from exc
        return "error"
    except BaseException as exc:  # the point of the test: anything but DecodeError
        raise FuzzFailure(case, f"decode raised {type(exc).__name__}: {str(exc)[:200]}") from exc
    if case.expect_unknown and not isinstance(msg, UnknownMessage):
        raise FuzzFailure(case, f"an unknown tag gave {type(msg).__name__}, not UnknownMessage")
    try:
        repr(msg)
        text = mod.encode(msg)
        again = mod.decode(text)
    except BaseException as exc:  # the point of the test: anything but DecodeError
        raise FuzzFailure(
            case, f"decoded, then repr/encode/decode raised {type(exc).__name__}: {exc}"
        ) from exc
    if again != msg:
        raise FuzzFailure(case, f"encode then decode changed the message: {text[:300]!r}")
    return "unknown" if isinstance(msg, UnknownMessage) else "message"


@attrs.define
class Report:
    """Counts of one protocol's run."""

    protocol: str
    frames: int = 0
    outcomes: Counter[str] = attrs.field(factory=Counter)
    mutations: Counter[str] = attrs.field(factory=Counter)
    seconds: float = 0.0

    def line(self) -> str:
        o = self.outcomes
        return (
            f"{self.protocol:<11}{self.frames:>9}{o['message']:>10}{o['unknown']:>10}{o['error']:>10}"
            f"{self.seconds:>9.1f}s"
        )


def run(protocol: str, count: int, *, seed: int = DEFAULT_SEED, start: int = 0) -> Report:
    """Check frames ``start .. start + count - 1``; raise FuzzFailure at the first broken one."""
    report = Report(protocol)
    began = time.perf_counter()
    for index in range(start, start + count):
        case = make_case(protocol, seed, index)
        report.outcomes[check(case)] += 1
        report.mutations.update(case.labels)
        report.frames += 1
    report.seconds = time.perf_counter() - began
    return report


def bad_frames(protocol: str, count: int, *, seed: int = DEFAULT_SEED, max_size: int = 2**21) -> list[Frame]:
    """``count`` fuzzed frames that fail to decode and that a WebSocket can carry (for a live feed)."""
    out: list[Frame] = []
    index = 0
    while len(out) < count:
        case = make_case(protocol, seed, index)
        index += 1
        frame = case.frame
        if isinstance(frame, str):
            try:
                size = len(frame.encode())
            except UnicodeEncodeError:  # a lone surrogate: no text frame can carry it
                continue
        else:
            size = len(frame)
        if size > max_size:
            continue
        try:
            module(protocol).decode(frame)
        except DecodeError:
            out.append(frame)
    return out


# -- a live feed -------------------------------------------------------------------------------------


async def live_slice(protocol: str, frames: list[Frame]) -> dict[str, int]:
    """Send ``frames`` to a live feed of ``protocol``, each between two good messages.

    Raises AssertionError unless: no reconnect, every good message delivered in order, and one
    ``DecodeFailed`` per bad frame (and nothing else).
    """
    import trio

    from tests.test_feeds import (
        ADAPTERS,
        delivered_sequences,
        letters,
        make_config,
        open_session,
        running_feed,
    )
    from trio_feeds import events as ev

    adapter = ADAPTERS[protocol]
    # Relaxed heartbeats: a megabyte frame takes a while to decode on a busy machine.
    cfg = make_config(ping_interval=2.0, ping_timeout=20.0, request_timeout=10.0, max_frame_size=2**22)
    async with adapter.server() as server:
        async with running_feed(adapter, server, cfg, None) as (feed, col):
            record = await open_session(adapter, server, feed, col)
            start = len(col.items)
            await server.push(count=1, connection=record)
            for frame in frames:
                await server.send_raw(frame, connection=record)
                await server.push(count=1, connection=record)
            with trio.fail_after(60 + len(frames) / 50):
                await col.wait_for(
                    lambda: len(delivered_sequences(server, col.segments()[-1])) >= len(frames) + 1,
                    timeout=60 + len(frames) / 50,
                )
            await trio.sleep(0.05)
        items = [it for _, it in col.items[start:]]
        assert letters(col.items[start:]) == "", "the feed reconnected"
        assert len(server.connections) == 1
        failed = [it for it in items if isinstance(it, ev.DecodeFailed)]
        good = [s for it in items if (s := server.sequence_of(it)) is not None]
        others = [
            it
            for it in items
            if not isinstance(it, ev.DecodeFailed | ev.SessionEvent) and server.sequence_of(it) is None
        ]
        assert others == [], others[:3]
        assert len(failed) == len(frames), (len(failed), len(frames))
        assert good == sorted(good), good[:10]
        assert len(good) == len(frames) + 1, len(good)
        assert feed.stats.decode_errors == len(frames)
    return {"bad_frames": len(failed), "good_messages": len(good)}


# -- command line ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--per-protocol", "--count", dest="count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--start", type=int, default=0, help="index of the first frame")
    parser.add_argument("--protocol", action="append", choices=PROTOCOLS, help="repeatable; default all")
    parser.add_argument("--live", type=int, default=0, help="bad frames per protocol sent to a live feed")
    parser.add_argument("--show", action="store_true", help="print each frame (with --count 1)")
    args = parser.parse_args(argv)
    protocols = args.protocol or list(PROTOCOLS)
    print(f"seed {args.seed}, frames {args.start}..{args.start + args.count - 1} per protocol")
    print(f"{'protocol':<11}{'frames':>9}{'messages':>10}{'unknown':>10}{'errors':>10}{'time':>10}")
    failed = False
    for protocol in protocols:
        if args.show:
            for index in range(args.start, args.start + args.count):
                case = make_case(protocol, args.seed, index)
                print(f"{protocol} {index} {'+'.join(case.labels)}: {case.frame[:2000]!r}")
        try:
            report = run(protocol, args.count, seed=args.seed, start=args.start)
        except FuzzFailure as exc:
            print(f"FAILED {exc}", file=sys.stderr)
            failed = True
            continue
        print(report.line())
    if args.live and not failed:
        import trio

        for protocol in protocols:
            frames = bad_frames(protocol, args.live, seed=args.seed)
            began = time.perf_counter()
            result = trio.run(live_slice, protocol, frames)
            print(
                f"live {protocol}: {result['bad_frames']} bad frames between {result['good_messages']} good "
                f"messages, no reconnect ({time.perf_counter() - began:.1f}s)"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
