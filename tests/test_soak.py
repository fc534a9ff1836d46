"""The soak harness's own logic (benchmarks/soak.py): histograms, checks, schedule, verdicts.

The harness itself runs outside pytest (``nox -s soak``; a 60 s slice in ``.ci/run``).
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from trio_feeds.testing.faults import parse_fault


def _load() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "soak.py"
    spec = importlib.util.spec_from_file_location("_soak_harness", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


soak = _load()


# -- histogram -------------------------------------------------------------------------------------


def test_histogram_quantiles_are_within_its_five_percent_buckets() -> None:
    h = soak.Histogram()
    assert h.quantile(0.99) is None
    values = [random.Random(1).uniform(0.0001, 0.01) for _ in range(5000)]
    for v in values:
        h.add(v)
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.99):
        exact = ordered[int(q * len(ordered)) - 1]
        assert exact <= h.quantile(q) <= exact * 1.06
    assert h.count == 5000
    assert h.max == max(values)
    assert h.quantile(1.0) == h.max  # the top bucket is capped at the largest value seen


def test_histogram_merge_and_clear() -> None:
    a, b = soak.Histogram(), soak.Histogram()
    for _ in range(99):
        a.add(0.001)
    b.add(0.5)
    b.add(0.0)  # below the first bucket: counted there
    a.merge(b)
    assert a.count == 101
    assert a.max == 0.5
    assert a.quantile(0.5) == pytest.approx(0.001, rel=0.06)
    assert a.quantile(1.0) == 0.5
    a.clear()
    assert (a.count, a.max, a.quantile(0.5)) == (0, 0.0, None)
    assert not any(a.counts)


# -- sequence and gap checks ------------------------------------------------------------------------


def test_sequences_count_losses_and_duplicates_per_connection() -> None:
    check = soak.SequenceCheck()
    for seq in (1, 2, 3, 5, 5, 4, 6):  # 4 skipped (then late: a duplicate of the past), 5 twice
        check.message(seq)
    assert (check.lost, check.duplicated) == (1, 2)
    check.connected()  # a new connection numbers from 1 again
    for seq in (1, 2):
        check.message(seq)
    assert (check.lost, check.duplicated) == (1, 2)
    check.connected()
    check.message(3)  # its first two never arrived
    assert check.lost == 3


def test_messages_dropped_by_overflow_are_reported_not_lost() -> None:
    check = soak.SequenceCheck()
    check.message(1)
    check.overflow(2)
    check.message(4)
    assert (check.lost, check.dropped) == (0, 2)
    check.message(7)  # two more skipped, nothing left to explain them
    assert check.lost == 2


def test_a_gap_covering_the_first_loss_is_reported() -> None:
    check = soak.GapCheck()
    check.connected()
    check.message()
    check.disconnected(10.0)
    check.connected()  # a reconnect that delivers, then drops before resubscribing: no Gap yet
    check.message()
    check.disconnected(12.0)
    check.connected()
    check.message()
    check.gap(9.5)  # from before the first loss: covers both
    check.finish()
    assert (check.reported, check.unreported, check.extra) == (1, 0, 0)


def test_a_gap_starting_after_the_loss_or_none_at_all_is_unreported() -> None:
    late = soak.GapCheck()
    late.message()
    late.disconnected(10.0)
    late.message()
    late.gap(11.0)
    assert (late.reported, late.unreported) == (0, 1)

    missing = soak.GapCheck()
    missing.message()
    missing.disconnected(10.0)
    missing.connected()
    missing.message()
    missing.finish()  # data resumed, and no Gap came by the end
    assert missing.unreported == 1


def test_a_quiet_connection_owes_no_gap_and_a_failed_feed_starts_afresh() -> None:
    check = soak.GapCheck()
    check.connected()
    check.disconnected(1.0)  # no data on it: nothing owed
    check.gap(0.5)
    assert check.extra == 1
    check.message()
    check.disconnected(2.0)
    check.feed_ended()  # the feed raised: the new feed's first connection reports no Gap
    check.message()
    check.finish()
    assert check.unreported == 0


# -- plan, schedule, verdicts -------------------------------------------------------------------------


def test_the_plan_scales_from_thirty_minutes_down() -> None:
    full = soak.plan(1800)
    assert (full.warmup, full.window, full.sample_every, full.fault_every) == (120, 300, 5, 20)
    assert full.first_window == (120, 420)
    assert full.last_window == (1500, 1800)
    short = soak.plan(60)
    assert (short.warmup, short.sample_every, short.fault_every) == (10, 1, 2.5)
    assert short.window == pytest.approx(50 / 3)
    with pytest.raises(ValueError, match="do not fit"):
        soak.plan(60, warmup=30, window=20)
    with pytest.raises(ValueError, match="> 0"):
        soak.plan(60, sample_every=0)


def test_the_schedule_deals_every_kind_where_it_applies() -> None:
    targets = [
        soak.Target("open", has_auth=False, has_sequences=False),
        soak.Target("auth", has_auth=True, has_sequences=False),
        soak.Target("books", has_auth=True, has_sequences=True),
    ]
    run = soak.plan(600, fault_every=5)
    schedule = soak.fault_schedule(random.Random(4), run, targets)
    assert schedule == soak.fault_schedule(random.Random(4), run, targets)  # the seed decides
    assert len(schedule) == len(range(5, 600 - 5 - 5 + 1, 5))  # one per slot, none at the ends
    times = [at for at, _, _ in schedule]
    assert times == sorted(times)
    assert all(5 <= at <= 595 for at in times)
    kinds = {fault.kind for _, _, fault in schedule}
    assert kinds == {parse_fault(f"{k}@1s").kind for k in soak.FAULT_KINDS}
    by_target = {name: {f.kind for _, n, f in schedule if n == name} for name in ("open", "auth", "books")}
    assert "reject-auth" not in by_target["open"]
    assert "skip-sequence" not in by_target["open"] | by_target["auth"]


def test_rss_growth_compares_medians_after_the_warm_up() -> None:
    times = [1, 2, 3, 4, 5, 6, 7, 8]
    rss = [10, 50, 20, 21, 90, 22, 23, 24]  # a spike at 5 s moves no median
    assert soak.rss_growth(times, rss, warmup=3) == (21, 23)
    with pytest.raises(ValueError, match="not enough"):
        soak.rss_growth(times, rss, warmup=8)


def test_rss_trend_is_the_slope_after_the_warm_up() -> None:
    times = [0, 1, 2, 3, 4]
    assert soak.rss_trend(times, [0, 100, 10, 12, 14], warmup=2) == pytest.approx(2.0)
    assert soak.rss_trend(times, [5, 5, 5, 5, 5], warmup=0) == 0.0
    assert soak.rss_trend(times, [1, 2, 3, 4, 5], warmup=4) == 0.0  # one sample: no slope


def _summary(**changes: Any) -> dict[str, Any]:
    protocol = {
        "lost": 0,
        "duplicated": 0,
        "gaps_unreported": 0,
        "messages_last_window": 10,
        "unexpected_ends": 0,
    }
    summary: dict[str, Any] = {
        "rss": {"growth_mib": 0.2},
        "latency": {"first_window": {"p99_ms": 1.0}, "last_window": {"p99_ms": 1.1}},
        "protocols": {"a": dict(protocol), "b": dict(protocol)},
    }
    for path, value in changes.items():
        *keys, last = path.split("__")
        target = summary
        for key in keys:
            target = target[key]
        target[last] = value
    return summary


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({}, set()),
        ({"rss__growth_mib": 1.0}, {"rss_growth"}),
        ({"latency__last_window__p99_ms": 1.3}, {"latency_p99"}),
        ({"latency__last_window__p99_ms": None}, {"latency_p99"}),
        ({"latency__first_window__p99_ms": None}, {"latency_p99"}),
        ({"protocols__a__lost": 1}, {"no_loss"}),
        ({"protocols__b__duplicated": 2}, {"no_duplicate"}),
        ({"protocols__a__gaps_unreported": 1}, {"every_gap_reported"}),
        ({"protocols__b__messages_last_window": 0}, {"delivering"}),
        ({"protocols__a__unexpected_ends": 1}, {"no_unexpected_end"}),
    ],
)
def test_each_check_fails_on_its_own(changes: dict[str, Any], failed: set[str]) -> None:
    checks = soak.evaluate(_summary(**changes), rss_limit_mib=1.0, latency_ratio=1.2)
    assert {name for name, c in checks.items() if not c["ok"]} == failed
    text = soak.report(
        {
            "plan": {"duration_s": 60, "protocols": ["a"], "rate_per_server": 100, "fault_every_s": 2.5,
                     "warmup_s": 10, "window_s": 16.7},
            "faults": [],
            "rss": {"first_mib": 40, "after_warmup_mib": 41, "end_mib": 41.2, "growth_mib": 0.2, "max_mib": 41.3},
            "latency": {"first_window": {"p50_ms": 0.1, "p99_ms": 1.0, "samples": 10},
                        "last_window": {"p50_ms": 0.1, "p99_ms": 1.1, "samples": 10}},
            "protocols": {},
        },
        checks,
    )  # fmt: skip
    for name in failed:
        assert f"FAIL {name}:" in text
    assert text.count("PASS ") == len(checks) - len(failed)


@pytest.mark.parametrize(
    ("host", "verdict"),
    [
        ({"first_window": 0.2, "last_window": 0.9}, "inconclusive"),  # the host 4.5x slower
        ({"first_window": 0.2, "last_window": 0.3}, "fail"),  # the host about the same
        ({"first_window": 0.1, "last_window": 0.4}, "fail"),  # 4x, but under HOST_SLOWER_MS
        ({"first_window": None, "last_window": 2.0}, "fail"),  # no probe seconds in a window
        (None, "fail"),  # no probe at all
        ({"steal": {"first_window": 0.01, "last_window": 0.12}}, "inconclusive"),  # 12% stolen
        ({"steal": {"first_window": 0.08, "last_window": 0.12}}, "fail"),  # stolen alike
        ({"steal": {"first_window": 0.0, "last_window": 0.04}}, "fail"),  # under HOST_STEAL
    ],
)
def test_a_slower_last_window_is_inconclusive_only_when_the_host_was_slower(
    host: dict[str, Any] | None, verdict: str
) -> None:
    summary = _summary(latency__last_window__p99_ms=5.0)
    if host is not None and "steal" in host:
        summary["host_steal_share"] = host["steal"]
    elif host is not None:
        summary["host_probe_p99_ms"] = host
    check = soak.evaluate(summary, rss_limit_mib=1.0, latency_ratio=3.0)["latency_p99"]
    assert check["value"] == 5.0
    if verdict == "inconclusive":
        assert check["ok"]
        assert "the host itself was slower" in check["inconclusive"]
        line = soak.report(
            {
                "plan": {"duration_s": 60, "protocols": [], "rate_per_server": 100, "fault_every_s": 2.5,
                         "warmup_s": 10, "window_s": 16.7},
                "faults": [],
                "rss": {"first_mib": 40, "after_warmup_mib": 41, "end_mib": 41.2, "growth_mib": 0.2,
                        "max_mib": 41.3},
                "latency": {"first_window": {"p50_ms": 0.1, "p99_ms": 1.0, "samples": 10},
                            "last_window": {"p50_ms": 0.1, "p99_ms": 5.0, "samples": 10}},
                "host_probe_p99_ms": None if "steal" in host else host,
                "host_steal_share": host.get("steal"),
                "protocols": {},
            },
            {"latency_p99": check},
        )  # fmt: skip
        assert "INCONCLUSIVE latency_p99: 5.0" in line
        assert ("0.9 ms late" if "steal" not in host else "took 12% of the CPUs away against 1%") in line
    else:
        assert not check["ok"]
        assert "inconclusive" not in check
    # A last window within the ratio passes whatever the host did.
    summary["latency"]["last_window"]["p99_ms"] = 2.0
    assert soak.evaluate(summary, rss_limit_mib=1.0, latency_ratio=3.0)["latency_p99"] == {
        "ok": True, "value": 2.0, "limit": "last/first <= 3.0"
    }  # fmt: skip


def test_probe_windows_take_the_median_of_the_seconds_in_them() -> None:
    rows = [(100.0, 0.1, 1.0), (101.0, 0.3, 2.0), (102.0, 9.0, 9.0), (103.0, 0.2, 0.5)]
    assert soak.probe_window(rows, 100.0, 103.0) == 0.3  # one bad second does not decide it
    assert soak.probe_window(rows, 103.0, 104.0) == 0.2
    assert soak.probe_window(rows, 200.0, 300.0) is None


def test_the_host_probe_reports_each_second_and_stops() -> None:
    start = time.monotonic()
    probe = soak.HostProbe(30.0)
    time.sleep(2.3)
    rows = probe.stop()
    assert 1 <= len(rows) <= 3
    for second, p99, worst in rows:
        assert start - 1 <= second <= time.monotonic()
        assert 0 <= p99 <= worst
    assert probe._process.returncode is not None  # ended, not left running
    assert not os.path.exists(probe._path)


def test_steal_share_is_taken_between_the_samples_that_bound_the_window() -> None:
    times = [1.0, 2.0, 3.0, 4.0, 5.0]
    steal = [0.0, 10.0, 20.0, 20.0, 20.0]
    ticks = [0.0, 100.0, 200.0, 300.0, 400.0]
    assert soak.steal_share(times, steal, ticks, 1.0, 3.0) == 0.1
    assert soak.steal_share(times, steal, ticks, 3.0, 5.0) == 0.0
    assert soak.steal_share(times, steal, ticks, 4.5, 4.9) is None  # no two samples inside
    ticks_now = soak.cpu_ticks()  # benchmarks/_host.py, as the harness reads it
    assert ticks_now is not None
    stolen, total = ticks_now
    assert 0 <= stolen <= total
