"""What Cryptology's binary XDR form costs per frame, against the same message as a text frame.

Run with ``python benchmarks/cryptology_xdr.py``. Not part of CI: it prints figures, it asserts
nothing. Both paths run through the sans-IO protocol's ``receive_frame`` (decode, filter,
deliver), on the same message, interleaved round by round in one process; the best round of
each is kept, so a noisy machine moves both together and the ratio is what counts.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import timeit

from trio_feeds.cryptology import CryptologyProtocol, xdr

TRADE = (
    '{"@type":"AnonymousTrade","time":[1530093825,250],"trade_pair":"BTC_USD",'
    '"current_order_id":123456,"amount":"42.42","price":"555.1","maker_buy":false}'
)
BOOK = json.dumps(
    {
        "@type": "OrderBookAgg",
        "buy_levels": {f"{42000 - i / 2:.2f}": f"{0.5 + i / 100:.4f}" for i in range(25)},
        "sell_levels": {f"{42000.5 + i / 2:.2f}": f"{0.5 + i / 100:.4f}" for i in range(25)},
        "trade_pair": "BTC_USD",
        "current_order_id": 123456,
    },
    separators=(",", ":"),
)


def _protocol(first_frame: str | bytes) -> CryptologyProtocol:
    protocol = CryptologyProtocol("ws://127.0.0.1/")
    protocol.connection_made(0.0)
    protocol.receive_frame(first_frame, 0.0)  # the text message, or the version frame
    return protocol


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds (default 30)")
    parser.add_argument("--number", type=int, default=5000, help="frames per round (default 5000)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    rows = []
    for name, text in (("AnonymousTrade", TRADE), ("OrderBookAgg 25+25", BOOK)):
        as_text = _protocol(text)
        as_xdr = _protocol(xdr.pack_version())
        frame = xdr.pack_broadcast(text)
        # Bound now, not at call time: each closure keeps this message's frames.
        run_text = functools.partial(as_text.receive_frame, text, 0.0)
        run_xdr = functools.partial(as_xdr.receive_frame, frame, 0.0)
        assert run_text()  # both paths deliver the message
        assert run_xdr()
        best_text = best_xdr = float("inf")
        for _ in range(args.rounds):
            best_text = min(best_text, timeit.timeit(run_text, number=args.number))
            best_xdr = min(best_xdr, timeit.timeit(run_xdr, number=args.number))
        rows.append(
            {
                "message": name,
                "json_bytes": len(text),
                "text_frames_per_s": round(args.number / best_text),
                "xdr_frames_per_s": round(args.number / best_xdr),
                "xdr_over_text": round(best_text / best_xdr, 3),
            }
        )
    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "rows": rows}, indent=2))
        return 0
    header = f"{'message':<22}{'bytes':>7}{'text/s':>11}{'XDR/s':>11}{'XDR/text':>10}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['message']:<22}{r['json_bytes']:>7}{r['text_frames_per_s']:>11,}"
            f"{r['xdr_frames_per_s']:>11,}{r['xdr_over_text']:>10.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
