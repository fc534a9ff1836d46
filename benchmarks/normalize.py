"""Normalization cost per message, as a share of the decode cost of the same message.

Run with ``python benchmarks/normalize.py``. Not part of CI: it prints figures and asserts
nothing. For each protocol's trade, book and order messages it times ``decode(frame)`` and
``normalize(message, received_at)`` on the decoded message, interleaved (decode, normalize,
decode, ...) and keeping each one's best round, in this process: the ratio is what
normalization adds to decoding. Target (issue 10): <= 30 % added.

Cryptology's book is a JSON object keyed by price text, which the codec leaves as text: the
mapping converts and sorts the 50 keys, work that decoding other protocols' books includes.
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from trio_feeds import cryptology, gateway, onyx, peatio
from trio_feeds._normalize import cryptology as n_cryptology
from trio_feeds._normalize import gateway as n_gateway
from trio_feeds._normalize import onyx as n_onyx
from trio_feeds._normalize import peatio as n_peatio

TARGET = 0.30


def _levels(n: int, start: float, step: float) -> list[tuple[str, str]]:
    return [(f"{start + i * step:.2f}", f"{0.5 + i / 100:.4f}") for i in range(n)]


BIDS, ASKS = _levels(25, 42000.0, -0.5), _levels(25, 42000.5, 0.5)


def _gateway_number_levels(levels: list[tuple[str, str]]) -> list[list[Decimal]]:
    return [[Decimal(p), Decimal(a)] for p, a in levels]


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, default=float).encode()  # gateway money: JSON numbers


GATEWAY_ORDER = {
    "channel": "orders",
    "exchange": "binance",
    "symbol": "BTCUSDT",
    "event": "update",
    "data": {
        "id": "123456789",
        "symbol": "BTCUSDT",
        "exchange": "binance",
        "timestamp": 1647356789123,
        "type": "limit",
        "side": "buy",
        "amount": Decimal("0.1"),
        "price": Decimal("42500.0"),
        "cost": Decimal("4250.0"),
        "filled": Decimal("0.05"),
        "remaining": Decimal("0.05"),
        "status": "partially_filled",
        "fee": {"cost": Decimal("2.125"), "currency": "USDT", "rate": Decimal("0.001")},
    },
    "timestamp": 1647356789123,
}


# (protocol, message, frame, decode, normalize)
CASES: list[tuple[str, str, bytes, Callable[[bytes], Any], Callable[[Any, datetime], Any]]] = [
    (
        "cryptology",
        "AnonymousTrade",
        b'{"@type":"AnonymousTrade","time":[1530093825,250],"trade_pair":"BTC_USD",'
        b'"current_order_id":123456,"amount":"42.42","price":"555.1","maker_buy":false}',
        cryptology.decode,
        n_cryptology.normalize,
    ),
    (
        "cryptology",
        "OrderBookAgg 25+25",
        json.dumps(
            {
                "@type": "OrderBookAgg",
                "buy_levels": dict(BIDS),
                "sell_levels": dict(ASKS),
                "trade_pair": "BTC_USD",
                "current_order_id": 123456,
            }
        ).encode(),
        cryptology.decode,
        n_cryptology.normalize,
    ),
    (
        "cryptology",
        "BuyOrderPlaced",
        b'{"@type":"BuyOrderPlaced","amount":"1.5","closed_inline":false,"order_id":1,'
        b'"price":"42650.10","time":[946684800,250],"trade_pair":"BTC_USD","client_order_id":123}',
        cryptology.decode,
        n_cryptology.normalize,
    ),
    (
        "cryptology",
        "SetBalance",
        b'{"@type":"SetBalance","balance":"1","change":"-0.25","currency":"USD","reason":"trade",'
        b'"time":[946684800,250]}',
        cryptology.decode,
        n_cryptology.normalize,
    ),
    (
        "gateway",
        "trades",
        b'{"channel":"trades","exchange":"binance","symbol":"BTCUSDT","data":{"id":"123456789",'
        b'"price":42650.5,"amount":0.1,"side":"buy","timestamp":1647356789123},"timestamp":1647356789123}',
        gateway.decode,
        n_gateway.normalize,
    ),
    (
        "gateway",
        "orderbook 25+25",
        _dumps(
            {
                "channel": "orderbook",
                "exchange": "binance",
                "symbol": "BTCUSDT",
                "data": {
                    "bids": _gateway_number_levels(BIDS),
                    "asks": _gateway_number_levels(ASKS),
                    "timestamp": 1647356789123,
                },
                "timestamp": 1647356789123,
            }
        ),
        gateway.decode,
        n_gateway.normalize,
    ),
    ("gateway", "orders", _dumps(GATEWAY_ORDER), gateway.decode, n_gateway.normalize),
    (
        "gateway",
        "market_data ticker",
        b'{"channel":"market_data","type":"ticker","exchange":"binance","symbol":"BTCUSDT","data":'
        b'{"price":42650.5,"volume":2541.34,"timestamp":1647356789123,"bid":42650.0,"ask":42651.0,'
        b'"high":43100.0,"low":42500.0},"timestamp":1647356789123}',
        gateway.decode,
        n_gateway.normalize,
    ),
    (
        "peatio",
        "<market>.trades (1)",
        b'{"btcusd.trades":{"trades":[{"tid":1001,"taker_type":"buy","price":"9421.5","amount":"0.01",'
        b'"date":1559903600}]}}',
        peatio.decode,
        n_peatio.normalize,
    ),
    (
        "peatio",
        "ob-snap 25+25",
        json.dumps({"btcusd.ob-snap": {"asks": ASKS, "bids": BIDS, "sequence": 1}}).encode(),
        peatio.decode,
        n_peatio.normalize,
    ),
    (
        "peatio",
        "ob-inc (one level)",
        b'{"btcusd.ob-inc":{"asks":["10.0","5.0"],"sequence":2}}',
        peatio.decode,
        n_peatio.normalize,
    ),
    (
        "peatio",
        "order",
        b'{"order":{"id":23,"market":"btcusd","kind":"ask","side":"sell","ord_type":"limit",'
        b'"price":"1030.0","avg_price":"0.0","state":"wait","origin_volume":"0.5",'
        b'"remaining_volume":"0.5","executed_volume":"0.0","at":1559903520,"created_at":1559903520,'
        b'"updated_at":1559903520,"trades_count":0}}',
        peatio.decode,
        n_peatio.normalize,
    ),
    (
        "onyx",
        "tickers (1)",
        b'{"channel":"tickers","message":[{"symbol":"brtsep24","timestamp_millis":1718097330123,'
        b'"bid":{"price":"81.25","amount":"10"},"ask":{"price":"81.30","amount":"5"}}],"message_type":1}',
        onyx.decode,
        n_onyx.normalize,
    ),
]


def best_times(calls: dict[str, Callable[[], Any]], seconds: float, rounds: int) -> dict[str, float]:
    """Seconds per call of each callable: interleaved rounds, best round kept."""
    numbers = {}
    for name, fn in calls.items():
        n, t = timeit.Timer(fn).autorange()
        numbers[name] = max(1, int(n * (seconds / rounds) / max(t, 1e-9)))
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(rounds):
        for name, fn in calls.items():
            best[name] = min(best[name], timeit.Timer(fn).timeit(numbers[name]) / numbers[name])
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement (default 1)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (best kept)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    at = datetime.now(UTC)

    rows = []
    for protocol, name, frame, decode, normalize in CASES:
        message = decode(frame)
        items = normalize(message, at)
        assert items, f"{protocol} {name} gave no items"  # the frame is one the mapping handles
        calls = {"decode": lambda: decode(frame), "normalize": lambda: normalize(message, at)}  # noqa: B023
        t = best_times(calls, args.seconds, args.rounds)
        rows.append(
            {
                "protocol": protocol,
                "message": name,
                "items": len(items),
                "decode_us": round(t["decode"] * 1e6, 3),
                "normalize_us": round(t["normalize"] * 1e6, 3),
                "added": round(t["normalize"] / t["decode"], 3),
            }
        )
    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "target_added": TARGET, "rows": rows}, indent=2))
        return 0
    header = f"{'protocol':<12}{'message':<22}{'decode us':>11}{'normalize us':>14}{'added':>8}"
    print(header)
    print("-" * len(header))
    for r in rows:
        mark = "" if r["added"] <= TARGET else "  over target"
        print(
            f"{r['protocol']:<12}{r['message']:<22}{r['decode_us']:>11.2f}{r['normalize_us']:>14.2f}"
            f"{r['added']:>8.0%}{mark}"
        )
    worst = max(rows, key=lambda r: r["added"])
    worst_text = f"{worst['protocol']} {worst['message']} {worst['added']:.0%}"
    print(f"\ntarget: normalization adds <= {TARGET:.0%} to decode; worst: {worst_text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
