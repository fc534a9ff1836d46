"""``trio-feeds conform`` throughput: ``check_frames`` on a capture of gateway trades, end to end.

Run with ``nox -s bench`` (or ``python benchmarks/conform.py``). Not part of CI: it prints
figures, it asserts nothing but that every frame passes. It writes a capture of 100,000 gateway
trade frames (one per line, as a capture tool writes them) to a temporary directory, then, in
turns, times

* the plain decode loop: ``gateway.decode`` on each of the same frames, already in memory;
* ``check_frames`` reading the capture file line by line, as ``trio-feeds conform`` does
  (schema, decoder, drift, counting);
* on a sample, the reference validator alone (Python ``jsonschema`` on each frame parsed with
  exact decimals): what ``conform`` spent on every frame before it had a compiled validator.

Each figure is the median of the turns; the ratio to the decode loop is the figure to compare
between machines.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from trio_feeds import exchanges
from trio_feeds.cli import conform
from trio_feeds.cli._conform_schema import schema_checks


def write_capture(path: Path, frames: int, seed: int = 1) -> None:
    """``frames`` gateway trade frames, one per line, with varied ids, prices, amounts and sides."""
    rng = random.Random(seed)
    with path.open("w") as out:
        for i in range(frames):
            ts = 1_700_000_000_000 + i
            out.write(
                '{"channel":"trades","exchange":"binance","symbol":"BTCUSDT","data":'
                f'{{"id":"{1_000_000 + i}","price":{rng.uniform(20_000, 70_000):.2f},'
                f'"amount":{rng.uniform(0.0001, 5):.5f},"side":"{rng.choice(("buy", "sell"))}",'
                f'"timestamp":{ts}}},"timestamp":{ts}}}\n'
            )


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--frames", type=int, default=100_000, help="frames in the capture (default 100,000)")
    parser.add_argument("--turns", type=int, default=3, help="timed turns of each loop (default 3)")
    parser.add_argument(
        "--reference-sample", type=int, default=2_000, help="frames the reference validator times (2,000)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)

    gateway = exchanges.get("gateway")
    with tempfile.TemporaryDirectory(prefix="trio-feeds-conform-") as tmp:
        capture = Path(tmp) / "gateway-trades.jsonl"
        write_capture(capture, args.frames)
        lines = capture.read_text().splitlines()
        size = capture.stat().st_size

        def decode_loop() -> None:
            decode = gateway.decode
            for line in lines:
                decode(line)

        def conform_file() -> None:
            with capture.open("rb") as stream:
                report = conform.check_frames(gateway, stream)
            # Same frames, all good: a benchmark of the failure path would measure something else.
            assert (report.total, report.total_failed) == (args.frames, 0), report.failures
            assert report.validator == "compiled", report.validator
            assert not report.has_drift

        conform_file()  # warm up: builds the validators once, as the command does
        decode_times, conform_times = [], []
        for _ in range(args.turns):
            decode_times.append(timed(decode_loop))
            conform_times.append(timed(conform_file))

        sample = lines[: args.reference_sample]
        reference = schema_checks(gateway).reference

        def reference_loop() -> None:
            for line in sample:
                assert reference.is_valid(json.loads(line, parse_float=Decimal))

        reference_time = timed(reference_loop)

    decode_rate = args.frames / statistics.median(decode_times)
    conform_rate = args.frames / statistics.median(conform_times)
    reference_rate = len(sample) / reference_time
    result = {
        "python": sys.version.split()[0],
        "frames": args.frames,
        "capture_bytes": size,
        "decode_loop_per_s": round(decode_rate),
        "conform_per_s": round(conform_rate),
        "conform_over_decode": round(conform_rate / decode_rate, 3),
        "conform_mb_per_s": round(size / statistics.median(conform_times) / 1e6, 1),
        "reference_validator_per_s": round(reference_rate),
        "conform_over_reference": round(conform_rate / reference_rate, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    megabytes = size / 1e6
    print(f"conform: {args.frames:,} gateway trade frames ({megabytes:.1f} MB), median of {args.turns} turns")
    print(f"  plain decode loop          {decode_rate:>10,.0f} frames/s")
    print(
        f"  check_frames, from a file  {conform_rate:>10,.0f} frames/s"
        f"   {result['conform_over_decode']:.2f}x the decode loop, {result['conform_mb_per_s']} MB/s"
    )
    print(
        f"  reference validator alone  {reference_rate:>10,.0f} frames/s"
        f"   (conform is {result['conform_over_reference']}x that; {len(sample):,} frames)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
