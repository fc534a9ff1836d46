"""Which JSON library the codecs need: msgspec alone, orjson alone, or both.

Run with ``python benchmarks/json_libs.py`` (needs the dev dependency group: orjson is only a
yardstick here). Not part of CI: it prints figures, it asserts nothing. Every figure is a rate
measured in this process on the same frames, and every comparison is a ratio against a
baseline measured next to it, so a noisy machine moves all columns together.

The codecs have three JSON jobs:

1. parse the gateway's JSON-number money *exactly* (``42650.5`` must become
   ``Decimal("42650.5")``, never pass through a binary float). msgspec does it with
   ``float_hook=Decimal``; the standard library with ``parse_float=Decimal``; orjson cannot
   (it has no hook: its floats are binary doubles, so ``0.10`` and long literals lose digits).
   The "orjson + Decimal(repr(float))" row shows the price of the closest inexact imitation;
2. parse the other protocols' frames, where decimals are JSON strings: any untyped parser;
3. write frames, with the gateway's Decimals as exact JSON numbers: orjson with a
   ``Fragment`` default; msgspec (0.22+) with a ``decimal_format`` callable returning
   ``msgspec.Raw`` (the same text, ``0.00000001``) or ``decimal_format="number"`` (``1E-8``);
   or the standard library, which can only go through float (inexact, shown for scale).

The last two tables put the differences in proportion: the whole ``decode`` (parse + strict
structuring into attrs models) and ``encode`` (unstructuring + writing) of the same messages.
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec
import orjson

from trio_feeds import cryptology, gateway

# -- frames ------------------------------------------------------------------------------------

GATEWAY_TRADE = (
    b'{"channel":"trades","exchange":"binance","symbol":"BTCUSDT","data":{"id":"123456789",'
    b'"price":42650.5,"amount":0.10,"side":"buy","timestamp":1647356789123},"timestamp":1647356789123}'
)


def _levels(n: int, start: float, step: float) -> list[tuple[str, str]]:
    return [(f"{start + i * step:.2f}", f"{0.5 + i / 100:.4f}") for i in range(n)]


GATEWAY_BOOK = (
    '{"channel":"orderbook","exchange":"binance","symbol":"BTCUSDT","data":{"bids":['
    + ",".join(f"[{p},{v}]" for p, v in _levels(25, 42000.0, -0.5))
    + '],"asks":['
    + ",".join(f"[{p},{v}]" for p, v in _levels(25, 42000.5, 0.5))
    + '],"timestamp":1647356789123},"timestamp":1647356789123}'
).encode()

CRYPTOLOGY_TRADE = (
    b'{"@type":"AnonymousTrade","time":[1530093825,250],"trade_pair":"BTC_USD",'
    b'"current_order_id":123456,"amount":"42.42","price":"555.1","maker_buy":false}'
)
CRYPTOLOGY_BOOK = json.dumps(
    {
        "@type": "OrderBookAgg",
        "buy_levels": dict(_levels(25, 42000.0, -0.5)),
        "sell_levels": dict(_levels(25, 42000.5, 0.5)),
        "trade_pair": "BTC_USD",
        "current_order_id": 123456,
    },
    separators=(",", ":"),
).encode()

# -- the contenders ------------------------------------------------------------------------------

_msgspec_exact = msgspec.json.Decoder(float_hook=Decimal).decode
_msgspec_plain = msgspec.json.Decoder().decode
_stdlib_exact = json.JSONDecoder(parse_float=Decimal).decode
_msgspec_encoder = msgspec.json.Encoder(decimal_format="number")


def _plain_decimal(value: Decimal) -> msgspec.Raw:
    return msgspec.Raw(format(value, "f").encode())


# What the codecs use: the same text as orjson's Fragment (``0.00000001``, never ``1E-8``).
_msgspec_plain_encoder = msgspec.json.Encoder(decimal_format=_plain_decimal)


def _stdlib_exact_bytes(frame: bytes) -> Any:
    return _stdlib_exact(frame.decode())


def _orjson_then_decimal(frame: bytes) -> Any:
    """The closest orjson gets: parse to floats, then rebuild Decimals from their repr (inexact)."""

    def fix(v: Any) -> Any:
        t = type(v)
        if t is float:
            return Decimal(repr(v))
        if t is dict:
            return {k: fix(x) for k, x in v.items()}
        if t is list:
            return [fix(x) for x in v]
        return v

    return fix(orjson.loads(frame))


def _orjson_default(value: object) -> object:
    if type(value) is Decimal:
        return orjson.Fragment(format(value, "f"))
    raise TypeError(type(value).__name__)


class _StdlibDecimalEncoder(json.JSONEncoder):
    """The standard library cannot write a raw number from ``default``: Decimals via float."""

    def default(self, o: object) -> object:
        if isinstance(o, Decimal):
            return float(o)
        return super().default(o)


def orjson_dumps(obj: Any) -> str:
    return orjson.dumps(obj, default=_orjson_default).decode()


def msgspec_dumps(obj: Any) -> str:
    return _msgspec_encoder.encode(obj).decode()


def msgspec_plain_dumps(obj: Any) -> str:
    return _msgspec_plain_encoder.encode(obj).decode()


_stdlib_encoder = _StdlibDecimalEncoder(separators=(",", ":"))


def stdlib_dumps(obj: Any) -> str:
    return _stdlib_encoder.encode(obj)


# -- measuring -----------------------------------------------------------------------------------

Contenders = dict[str, tuple[Callable[[Any], Any], Any]]


def rates(contenders: Contenders, seconds: float, rounds: int = 9) -> dict[str, float]:
    """Calls per second of each contender, measured interleaved and taking the best round.

    The contenders of one row take turns (A, B, C, A, B, C, ...), each run sized to about
    ``seconds / rounds``, and each keeps its fastest run: a burst of load from elsewhere on
    the machine slows one run of every contender, not all runs of one.
    """
    numbers = {}
    for name, (fn, arg) in contenders.items():
        n, t = timeit.Timer(lambda fn=fn, arg=arg: fn(arg)).autorange()
        numbers[name] = max(1, int(n * (seconds / rounds) / max(t, 1e-9)))
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(rounds):
        for name, (fn, arg) in contenders.items():
            t = timeit.timeit(lambda fn=fn, arg=arg: fn(arg), number=numbers[name])
            best[name] = min(best[name], t)
    return {name: numbers[name] / best[name] for name in contenders}


def _table(title: str, baseline: str, rows: list[tuple[str, dict[str, float]]]) -> list[str]:
    names = list(rows[0][1])
    lines = [f"\n{title} (calls/s; ratio = contender / {baseline})"]
    header = f"{'case':<22}" + "".join(f"{n:>25}" for n in names)
    lines += [header, "-" * len(header)]
    for case, row in rows:
        base = row[baseline]
        cells = "".join(f"{f'{r:,.0f} ({r / base:.2f}x)':>25}" for r in row.values())
        lines.append(f"{case:<22}{cells}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=0.5, help="time per contender and row (default 0.5)")
    args = parser.parse_args(argv)
    s = args.seconds

    # Exactness first: the figures below mean nothing for a parser that gets the value wrong.
    exact = _msgspec_exact(GATEWAY_TRADE)
    assert exact == _stdlib_exact_bytes(GATEWAY_TRADE)
    assert str(exact["data"]["amount"]) == "0.10"
    inexact = _orjson_then_decimal(GATEWAY_TRADE)["data"]["amount"]
    out: list[str] = [
        f"python {sys.version.split()[0]}, msgspec {msgspec.__version__}, orjson {orjson.__version__}",
        f'exactness of "amount":0.10 -> msgspec float_hook {exact["data"]["amount"]!r}, '
        f"stdlib parse_float {_stdlib_exact_bytes(GATEWAY_TRADE)['data']['amount']!r}, "
        f"orjson+repr {inexact!r} (scale lost)",
    ]

    rows = []
    for case, frame in (("gateway trade", GATEWAY_TRADE), ("gateway book 2x25", GATEWAY_BOOK)):
        contenders: Contenders = {
            "stdlib parse_float": (_stdlib_exact_bytes, frame),
            "msgspec float_hook": (_msgspec_exact, frame),
            "orjson+repr (inexact)": (_orjson_then_decimal, frame),
        }
        rows.append((case, rates(contenders, s)))
    out += _table("1. exact JSON-number money (gateway)", "stdlib parse_float", rows)

    rows = []
    for case, frame in (("cryptology trade", CRYPTOLOGY_TRADE), ("cryptology book 2x25", CRYPTOLOGY_BOOK)):
        contenders = {
            "orjson loads": (orjson.loads, frame),
            "msgspec untyped": (_msgspec_plain, frame),
            "stdlib loads": (json.loads, frame),
        }
        rows.append((case, rates(contenders, s)))
    out += _table("2. decimal-string frames (cryptology, onyx, peatio)", "orjson loads", rows)

    rows = []
    for case, frame in (
        ("gateway trade", GATEWAY_TRADE),
        ("gateway book 2x25", GATEWAY_BOOK),
        ("cryptology book", CRYPTOLOGY_BOOK),
    ):
        obj = _msgspec_exact(frame) if frame.startswith(b'{"channel"') else _msgspec_plain(frame)
        assert json.loads(orjson_dumps(obj), parse_float=Decimal) == json.loads(
            msgspec_dumps(obj), parse_float=Decimal
        )
        assert orjson_dumps(obj) == msgspec_plain_dumps(obj)
        contenders = {
            "orjson Fragment": (orjson_dumps, obj),
            "msgspec Raw (same text)": (msgspec_plain_dumps, obj),
            "msgspec number": (msgspec_dumps, obj),
            "stdlib (via float!)": (stdlib_dumps, obj),
        }
        rows.append((case, rates(contenders, s)))
    out += _table("3. writing frames, Decimals as exact JSON numbers (to str)", "orjson Fragment", rows)

    rows = []
    for case, decode, frame, loads in (
        ("gateway trade", gateway.decode, GATEWAY_TRADE, _msgspec_exact),
        ("gateway book 2x25", gateway.decode, GATEWAY_BOOK, _msgspec_exact),
        ("cryptology trade", cryptology.decode, CRYPTOLOGY_TRADE, _msgspec_plain),
        ("cryptology book 2x25", cryptology.decode, CRYPTOLOGY_BOOK, _msgspec_plain),
    ):
        decode(frame)
        contenders = {"whole decode": (decode, frame), "its parse alone": (loads, frame)}
        rows.append((case, rates(contenders, s)))
    out += _table("4. in proportion: the codec's whole decode vs the parse in it", "whole decode", rows)

    rows = []
    for case, codec, frame in (
        ("gateway trade", gateway.codec, GATEWAY_TRADE),
        ("gateway book 2x25", gateway.codec, GATEWAY_BOOK),
        ("cryptology book 2x25", cryptology.codec, CRYPTOLOGY_BOOK),
    ):
        message = codec.decode(frame)
        obj = codec.unstructure(message)
        contenders = {
            "whole encode": (codec.encode, message),
            "msgspec Raw dumps alone": (msgspec_plain_dumps, obj),
            "orjson dumps alone": (orjson_dumps, obj),
        }
        rows.append((case, rates(contenders, s)))
    out += _table("5. in proportion: the codec's whole encode vs the dumps in it", "whole encode", rows)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
