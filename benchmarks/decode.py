"""Decode throughput: our ``decode`` against ``orjson.loads`` alone and a msgspec typed decode.

Run with ``nox -s bench`` (or ``python benchmarks/decode.py``). Not part of CI: it prints
figures, it asserts nothing. Every figure is a ratio against baselines measured in the same
process, on the same frames, so a noisy machine moves all columns together.

msgspec's decode is the "fast typed decoder" yardstick: it builds typed Structs straight from
the bytes (decimals included), while our path is an untyped msgspec parse + strict cattrs
hooks + attrs classes, with every time built as an aware UTC datetime (Cryptology's
``[seconds, fraction]`` pairs, the gateway's and Onyx's integer milliseconds, Peatio's integer
seconds): msgspec keeps those as lists and integers here, so it does slightly less work.
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

import msgspec
import orjson

from trio_feeds import cryptology, gateway, onyx, peatio
from trio_feeds._codecs import cryptology as cryptology_codec
from trio_feeds._codecs import gateway as gateway_codec
from trio_feeds._codecs import onyx as onyx_codec
from trio_feeds._codecs import peatio as peatio_codec

# -- frames ------------------------------------------------------------------------------------

CRYPTOLOGY_TRADE = (
    b'{"@type":"AnonymousTrade","time":[1530093825,250],"trade_pair":"BTC_USD",'
    b'"current_order_id":123456,"amount":"42.42","price":"555.1","maker_buy":false}'
)
ONYX_TICKERS = (
    b'{"channel":"tickers","message":[{"symbol":"brtsep24","timestamp_millis":1718097330123,'
    b'"bid":{"price":"81.25","amount":"10"},"ask":{"price":"81.30","amount":"5"}}],"message_type":1}'
)
PEATIO_TRADES = (
    b'{"btcusd.trades":{"trades":[{"tid":1001,"taker_type":"buy","price":"9421.5","amount":"0.01",'
    b'"date":1559903600}]}}'
)
GATEWAY_TRADE = (
    b'{"channel":"trades","exchange":"binance","symbol":"BTCUSDT","data":{"id":"123456789",'
    b'"price":42650.5,"amount":0.1,"side":"buy","timestamp":1647356789123},"timestamp":1647356789123}'
)


def _book_levels(n: int, start: float, step: float) -> list[tuple[str, str]]:
    return [(f"{start + i * step:.2f}", f"{0.5 + i / 100:.4f}") for i in range(n)]


CRYPTOLOGY_BOOK = orjson.dumps(
    {
        "@type": "OrderBookAgg",
        "buy_levels": dict(_book_levels(25, 42000.0, -0.5)),
        "sell_levels": dict(_book_levels(25, 42000.5, 0.5)),
        "trade_pair": "BTC_USD",
        "current_order_id": 123456,
    }
)
PEATIO_BOOK = orjson.dumps(
    {
        "btcusd.ob-snap": {
            "asks": [list(level) for level in _book_levels(25, 42000.5, 0.5)],
            "bids": [list(level) for level in _book_levels(25, 42000.0, -0.5)],
            "sequence": 1,
        }
    }
)
GATEWAY_BOOK = json.dumps(
    {
        "channel": "orderbook",
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "data": {
            "bids": [[Decimal(p), Decimal(v)] for p, v in _book_levels(25, 42000.0, -0.5)],
            "asks": [[Decimal(p), Decimal(v)] for p, v in _book_levels(25, 42000.5, 0.5)],
            "timestamp": 1647356789123,
        },
        "timestamp": 1647356789123,
    },
    default=float,
).encode()

# -- msgspec mirrors of the same messages -------------------------------------------------------


class MsAnonymousTrade(msgspec.Struct, tag_field="@type", tag="AnonymousTrade"):
    time: list[int]
    trade_pair: str
    amount: Decimal
    price: Decimal
    maker_buy: bool
    current_order_id: int | None = None


class MsPriceAmount(msgspec.Struct):
    price: Decimal
    amount: Decimal


class MsTicker(msgspec.Struct):
    symbol: str
    timestamp_millis: int
    bid: MsPriceAmount
    ask: MsPriceAmount


class MsTickersEvent(msgspec.Struct):
    channel: Literal["tickers"]
    message: list[MsTicker]
    message_type: int


class MsPublicTrade(msgspec.Struct):
    tid: int
    taker_type: str
    price: Decimal
    amount: Decimal
    date: int | None = None


class MsPublicTrades(msgspec.Struct):
    trades: list[MsPublicTrade]


class MsGatewayTradeData(msgspec.Struct):
    id: str
    price: Decimal
    amount: Decimal
    side: Literal["buy", "sell"]
    timestamp: int


class MsGatewayTrade(msgspec.Struct, tag_field="channel", tag="trades"):
    exchange: str
    symbol: str
    data: MsGatewayTradeData
    timestamp: int


class MsOrderBookAgg(msgspec.Struct, tag_field="@type", tag="OrderBookAgg"):
    buy_levels: dict[str, Decimal]
    sell_levels: dict[str, Decimal]
    trade_pair: str
    current_order_id: int | None = None


class MsPeatioBook(msgspec.Struct):
    asks: list[tuple[Decimal, Decimal]]
    bids: list[tuple[Decimal, Decimal]]
    sequence: int | None = None


class MsBook(msgspec.Struct):
    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]
    timestamp: int


class MsGatewayBook(msgspec.Struct, tag_field="channel", tag="orderbook"):
    exchange: str
    symbol: str
    data: MsBook
    timestamp: int


_peatio_trades = msgspec.json.Decoder(dict[str, MsPublicTrades])

CASES: list[tuple[str, bytes, Callable[[bytes], Any], Callable[[bytes], Any]]] = [
    (
        "cryptology AnonymousTrade",
        CRYPTOLOGY_TRADE,
        cryptology.decode,
        msgspec.json.Decoder(MsAnonymousTrade).decode,
    ),
    ("onyx tickers (1)", ONYX_TICKERS, onyx.decode, msgspec.json.Decoder(MsTickersEvent).decode),
    ("peatio <market>.trades", PEATIO_TRADES, peatio.decode, _peatio_trades.decode),
    (
        "gateway trades",
        GATEWAY_TRADE,
        gateway.decode,
        msgspec.json.Decoder(MsGatewayTrade, float_hook=Decimal).decode,
    ),
    (
        "cryptology book 25+25",
        CRYPTOLOGY_BOOK,
        cryptology.decode,
        msgspec.json.Decoder(MsOrderBookAgg).decode,
    ),
    (
        "peatio ob-snap 25+25",
        PEATIO_BOOK,
        peatio.decode,
        msgspec.json.Decoder(dict[str, MsPeatioBook]).decode,
    ),
    (
        "gateway book 25+25",
        GATEWAY_BOOK,
        gateway.decode,
        msgspec.json.Decoder(MsGatewayBook, float_hook=Decimal).decode,
    ),
]


STRICT: dict[str, Callable[[bytes], Any]] = {
    "cryptology": cryptology_codec.codec.decode_strict,
    "onyx": onyx_codec.codec.decode_strict,
    "peatio": peatio_codec.codec.decode_strict,
    "gateway": gateway_codec.codec.decode_strict,
}


def rate(fn: Callable[[bytes], Any], frame: bytes, seconds: float) -> float:
    """Messages per second of one decoder (see :func:`rates`)."""
    return rates({"fn": fn}, frame, seconds)["fn"]


def rates(fns: dict[str, Callable[[bytes], Any]], frame: bytes, seconds: float) -> dict[str, float]:
    """Messages per second of each decoder on ``frame``, measured interleaved.

    Rounds of a fixed number of calls, each decoder in turn, for about ``seconds`` per decoder;
    the fastest round of each counts. Interleaved, a load that comes and goes on the machine
    slows every decoder's rounds alike, and the best round is the least disturbed: the ratios
    hold where medians of back-to-back runs drifted by 30% between runs.
    """
    first = next(iter(fns.values()))
    number = max(1, int(timeit.Timer(lambda: first(frame)).autorange()[0]) // 5)
    once = timeit.timeit(lambda: first(frame), number=number)
    rounds = max(5, int(seconds / max(once, 1e-9)))
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            best[name] = min(best[name], timeit.timeit(lambda fn=fn: fn(frame), number=number))
    return {name: number / t for name, t in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement (default 1)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    rows = []
    for name, frame, ours, typed in CASES:
        # The same decode without its fast path (trio_feeds/_codecs/_fastpath.py): what the
        # fast path gains, in the same run.
        strict = STRICT[name.split()[0]]
        # Same frames, same process: check each decoder accepts them before timing.
        assert ours(frame) == strict(frame)
        typed(frame)
        r = rates(
            {"ours": ours, "strict": strict, "orjson": orjson.loads, "msgspec": typed}, frame, args.seconds
        )
        r_ours, r_strict, r_orjson, r_msgspec = r["ours"], r["strict"], r["orjson"], r["msgspec"]
        rows.append(
            {
                "message": name,
                "bytes": len(frame),
                "trio_feeds_per_s": round(r_ours),
                "strict_path_per_s": round(r_strict),
                "orjson_loads_per_s": round(r_orjson),
                "msgspec_typed_per_s": round(r_msgspec),
                "ours_over_msgspec": round(r_ours / r_msgspec, 3),
                "ours_over_orjson": round(r_ours / r_orjson, 3),
            }
        )
    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "rows": rows}, indent=2))
        return 0
    header = (
        f"{'message':<28}{'bytes':>7}{'ours/s':>11}{'strict/s':>11}{'orjson/s':>11}{'msgspec/s':>11}"
        f"{'ours/msgspec':>14}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['message']:<28}{r['bytes']:>7}{r['trio_feeds_per_s']:>11,}{r['strict_path_per_s']:>11,}"
            f"{r['orjson_loads_per_s']:>11,}"
            f"{r['msgspec_typed_per_s']:>11,}{r['ours_over_msgspec']:>14.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
