"""Soak: the library alone for a long run, faults on a random schedule, checked for creep.

Run with ``python benchmarks/soak.py [--duration 30m] [--output soak.json]`` (``nox -s soak``;
CI runs a 60 s slice: ``--duration 60s``). Every exchange of the registry
(``trio_feeds.exchanges.all_exchanges()``) gets its local server (``trio_feeds.testing``) streaming
at a steady rate and one feed, subscribed to every channel, whose consumer only checks what it
gets. Faults from the whole list of ``trio_feeds.testing.faults`` (close, abort, blackhole,
stop-heartbeats, raw, rate-limit, refuse, reject-auth, skip-sequence; each where it applies)
hit a random server at a random moment of each slot of ``--fault-every`` seconds.

Measured, in bounded memory (fixed arrays preallocated for the whole run: the harness itself
does not grow):

* RSS of the process (``/proc/self/statm``), every ``--sample-every`` seconds;
* delivery latency of every sequence-stamped message: the server's send time (taken when its
  frame was written to the socket, same process, same clock) to the consumer receiving it,
  into log-bucket histograms (5% resolution) per sample, per window and per protocol;
* per connection, the servers' sequence numbers of what the consumer got: a number skipped is
  a message lost, a number seen again a duplicate (the overflow policy's drops, reported by
  ``Overflow``, are counted apart);
* gaps: every time data resumes on a new connection after a connection that delivered data,
  a ``Gap`` event must come before that connection ends (or the run does).

Checks (exit status 1 when one fails), with windows scaled to the run (``--warmup``,
``--window``: by default 120 s and 300 s for 30 min, a sixth of the run and a third of the rest
for shorter runs):

* RSS growth from the end of the warm-up to the end of the run (each the median of 3 samples)
  below ``--rss-limit-mib`` (1 MiB);
* latency p99 of the last window <= ``--latency-ratio`` (1.2) x the p99 of the first window
  after the warm-up; *inconclusive* (reported, not failed) when the host itself was slower in
  the last window (``host_slower``): a probe process beside the run (``HostProbe``: it only
  sleeps 1 ms at a time) saw its lateness at least double, past 0.5 ms, or the share of the
  CPUs the host took away (``/proc/stat`` steal) at least doubled, past 5%. A shared
  machine's neighbours can slow every process for many seconds (last-window p99 6.7x the
  first's in a 60 s CI slice, all four protocols alike), which no measurement inside our
  process tells from creep; one outside it can;
* no message lost or duplicated within a connection; every gap reported; every feed still
  delivering in the last window; no feed ended but by an expected ``reject-auth``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from trio_feeds import FeedConfig, FeedError
from trio_feeds import events as ev
from trio_feeds.errors import AuthenticationError
from trio_feeds.testing import ConnectionRecord, FeedServer
from trio_feeds.testing.faults import Fault, parse_duration, parse_fault

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.append(str(HERE))  # benchmarks/_host.py, run as a script or loaded by the tests

from _host import cpu_ticks, stolen_share  # noqa: E402 - found through the path set just above

# -- histograms ----------------------------------------------------------------------------------

_BASE = 1e-6  # the first bucket's lower bound: 1 us
_RATIO = 1.05  # each bucket 5% wider than the last
_BUCKETS = 380  # 1 us * 1.05**380: about 113 s
_LOG_RATIO = math.log(_RATIO)


class Histogram:
    """Latency counts in fixed log buckets (5% wide): constant memory whatever the count."""

    __slots__ = ("count", "counts", "max")

    def __init__(self) -> None:
        self.counts = array("q", bytes(8 * _BUCKETS))
        self.count = 0
        self.max = 0.0

    def add(self, seconds: float) -> None:
        index = 0 if seconds <= _BASE else min(_BUCKETS - 1, int(math.log(seconds / _BASE) / _LOG_RATIO))
        self.counts[index] += 1
        self.count += 1
        self.max = max(self.max, seconds)

    def merge(self, other: Histogram) -> None:
        counts = self.counts
        for i, n in enumerate(other.counts):
            if n:
                counts[i] += n
        self.count += other.count
        self.max = max(self.max, other.max)

    def clear(self) -> None:
        for i in range(_BUCKETS):
            self.counts[i] = 0
        self.count = 0
        self.max = 0.0

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile: the upper bound of its bucket (the max for the top one); None if empty."""
        if not self.count:
            return None
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for i, n in enumerate(self.counts):
            seen += n
            if seen >= rank:
                return min(self.max, _BASE * _RATIO ** (i + 1))
        return self.max  # pragma: no cover - rank <= count


# -- what the consumer checks ---------------------------------------------------------------------


@dataclass
class SequenceCheck:
    """Sequence numbers within each connection: none skipped (lost), none repeated (duplicated)."""

    last: int | None = None
    lost: int = 0
    duplicated: int = 0
    dropped: int = 0  # dropped by the overflow policy (reported by Overflow), explains skips
    excused: int = 0  # part of ``dropped`` not yet matched with a skip

    def connected(self) -> None:
        self.last = None

    def overflow(self, dropped: int) -> None:
        self.dropped += dropped
        self.excused += dropped

    def message(self, seq: int) -> None:
        last = self.last
        # A server numbers each connection's messages from 1: a first number above 1 is a loss too.
        expected = 1 if last is None else last + 1
        if seq < expected:
            self.duplicated += 1
            return
        skipped = seq - expected
        if skipped:
            explained = min(skipped, self.excused)
            self.excused -= explained
            self.lost += skipped - explained
        self.last = seq


@dataclass
class GapCheck:
    """Every loss of a connection that delivered data is covered by a later ``Gap``.

    A reconnect whose resubscription did not finish before the next loss reports no Gap of its
    own: the engine reports one Gap later, from the first loss on. So a Gap pays what is owed
    when its ``since`` is no later than the first unpaid loss; a Gap that starts later leaves
    that loss unreported, and so does data resuming after a loss with no Gap by the run's end.
    """

    owed_at: float | None = None  # when the first unpaid loss was seen
    data: int = 0  # messages on the current connection
    reported: int = 0  # Gaps that covered what was owed
    extra: int = 0  # Gaps when none was owed (a connection ready but quiet before): harmless
    unreported: int = 0

    def connected(self) -> None:
        self.data = 0

    def message(self) -> None:
        self.data += 1

    def gap(self, since: float) -> None:
        if self.owed_at is None:
            self.extra += 1
        elif since <= self.owed_at:
            self.reported += 1
        else:
            self.unreported += 1
        self.owed_at = None

    def disconnected(self, now: float) -> None:
        if self.data and self.owed_at is None:
            self.owed_at = now
        self.data = 0

    def feed_ended(self) -> None:
        """The feed ended with an error (said so by raising it): a new feed starts afresh."""
        self.owed_at = None
        self.data = 0

    def finish(self) -> None:
        if self.owed_at is not None and self.data:
            self.unreported += 1
            self.owed_at = None


# -- windows, schedule, checks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The run's shape: how long, when the warm-up ends, the latency windows, the fault slots."""

    duration: float
    warmup: float
    window: float
    sample_every: float
    fault_every: float

    @property
    def first_window(self) -> tuple[float, float]:
        return (self.warmup, self.warmup + self.window)

    @property
    def last_window(self) -> tuple[float, float]:
        return (self.duration - self.window, self.duration)


def plan(
    duration: float,
    *,
    warmup: float | None = None,
    window: float | None = None,
    sample_every: float | None = None,
    fault_every: float | None = None,
) -> Plan:
    """The defaults for 30 min (warm-up 120 s, windows 300 s, samples 5 s, a fault each 20 s),
    scaled down for shorter runs (60 s: 10 s, 16.7 s, 1 s, 2.5 s).

    Raises:
        ValueError: a duration is not positive, or the windows do not fit in the run.
    """
    warmup = min(120.0, duration / 6) if warmup is None else warmup
    window = min(300.0, (duration - warmup) / 3) if window is None else window
    sample_every = min(5.0, duration / 60) if sample_every is None else sample_every
    fault_every = min(20.0, duration / 24) if fault_every is None else fault_every
    if min(duration, window, sample_every, fault_every) <= 0 or warmup < 0:
        raise ValueError("durations must be > 0 (the warm-up >= 0)")
    if warmup + 2 * window > duration + 1e-9:
        raise ValueError(f"warm-up {warmup:g} s + two windows of {window:g} s do not fit in {duration:g} s")
    return Plan(duration, warmup, window, sample_every, fault_every)


FAULT_KINDS = (
    "close:1011",
    "close:1012",
    "abort",
    "blackhole:2",
    "stop-heartbeats:3",
    "raw:soak: not a message",
    "rate-limit",
    "refuse:503",
    "reject-auth",
    "skip-sequence:2",
)


@dataclass(frozen=True)
class Target:
    """What the schedule needs to know of an exchange."""

    name: str
    has_auth: bool
    has_sequences: bool


def fault_schedule(
    rng: random.Random, run: Plan, targets: Sequence[Target]
) -> list[tuple[float, str, Fault]]:
    """One fault per slot of ``fault_every`` seconds, at a random moment of the slot.

    Kinds are dealt from a shuffled deck of the whole list (dealt again once used up), so a run
    of enough slots sees every kind; each goes to a random exchange it applies to. No fault in
    the first slot (connecting) or the last seconds (so the last connection can show it healed).
    """
    faults: list[tuple[float, str, Fault]] = []
    settle = min(5.0, run.duration / 12)
    deck: list[str] = []
    start = run.fault_every
    while start + run.fault_every <= run.duration - settle + 1e-9:
        if not deck:
            deck = list(FAULT_KINDS)
            rng.shuffle(deck)
        kind = deck.pop()
        eligible = [t for t in targets if _applies(kind, t)]
        if eligible:
            target = rng.choice(eligible)
            at = start + rng.random() * run.fault_every
            spec = f"{kind}@{at:.3f}s"
            fault = parse_fault(spec, has_auth=target.has_auth, has_sequences=target.has_sequences)
            faults.append((at, target.name, fault))
            start += run.fault_every
    return faults


def _applies(kind: str, target: Target) -> bool:
    if kind == "reject-auth":
        return target.has_auth
    if kind.startswith("skip-sequence"):
        return target.has_sequences
    return True


def rss_growth(times: Sequence[float], rss: Sequence[float], warmup: float) -> tuple[float, float]:
    """RSS at the end of the warm-up and at the end: each the median of 3 samples (bytes)."""
    after = [i for i, t in enumerate(times) if t >= warmup]
    if len(after) < 2:
        raise ValueError("not enough RSS samples after the warm-up")
    first = after[:3]
    last = after[-3:]
    return statistics.median(rss[i] for i in first), statistics.median(rss[i] for i in last)


def rss_trend(times: Sequence[float], rss: Sequence[float], warmup: float) -> float:
    """The least-squares slope of RSS after the warm-up, in bytes per second (0 with < 2 samples)."""
    points = [(t, r) for t, r in zip(times, rss, strict=True) if t >= warmup]
    if len(points) < 2:
        return 0.0
    mean_t = statistics.fmean(t for t, _ in points)
    mean_r = statistics.fmean(r for _, r in points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return 0.0 if not spread else sum((t - mean_t) * (r - mean_r) for t, r in points) / spread


# A probe lateness (ms) below which the host is not called slow, however much it grew.
HOST_SLOWER_MS = 0.5
# A share of the CPUs stolen below which the host is not called slow, however much it grew.
HOST_STEAL = 0.05


def host_slower(summary: dict[str, Any]) -> str | None:
    """Why the host itself was slower in the last window than in the first, or None.

    Either sign counts: the probe process woke at least twice as late (and over
    ``HOST_SLOWER_MS``), or the host took at least twice the share of the CPUs (and over
    ``HOST_STEAL``). Each alone can miss a slow host: a stolen CPU the probe was not on, a
    slower host with little steal.
    """
    probe = summary.get("host_probe_p99_ms") or {}
    first, last = probe.get("first_window"), probe.get("last_window")
    if first is not None and last is not None and last >= max(2 * first, HOST_SLOWER_MS):
        return f"a probe process woke {last} ms late at p99 (median of its seconds) against {first} ms"
    steal = summary.get("host_steal_share") or {}
    first, last = steal.get("first_window"), steal.get("last_window")
    if first is not None and last is not None and last >= max(2 * first, HOST_STEAL):
        return f"the host took {last:.0%} of the CPUs away against {first:.0%}"
    return None


def evaluate(
    summary: dict[str, Any], *, rss_limit_mib: float, latency_ratio: float
) -> dict[str, dict[str, Any]]:
    """Each check's verdict from a run's summary: ``{name: {"ok": bool, "value": ..., "limit": ...}}``."""
    checks: dict[str, dict[str, Any]] = {}
    growth = summary["rss"]["growth_mib"]
    checks["rss_growth"] = {"ok": growth < rss_limit_mib, "value": growth, "limit": f"< {rss_limit_mib} MiB"}
    first, last = summary["latency"]["first_window"]["p99_ms"], summary["latency"]["last_window"]["p99_ms"]
    ratio = None if not first or last is None else last / first
    checks["latency_p99"] = {
        "ok": ratio is not None and ratio <= latency_ratio,
        "value": None if ratio is None else round(ratio, 3),
        "limit": f"last/first <= {latency_ratio}",
    }
    if ratio is not None and not checks["latency_p99"]["ok"]:
        why = host_slower(summary)
        if why:
            # The host was slower too: not a verdict on the library either way (see HostProbe).
            checks["latency_p99"].update(
                ok=True, inconclusive=f"the host itself was slower in the last window: {why}"
            )
    protocols = summary["protocols"]
    for key, name in (
        ("lost", "no_loss"),
        ("duplicated", "no_duplicate"),
        ("gaps_unreported", "every_gap_reported"),
    ):
        bad = {p: s[key] for p, s in protocols.items() if s[key]}
        checks[name] = {"ok": not bad, "value": bad, "limit": "0 per protocol"}
    quiet = [p for p, s in protocols.items() if not s["messages_last_window"]]
    checks["delivering"] = {"ok": not quiet, "value": quiet, "limit": "messages in the last window"}
    ended = {p: s["unexpected_ends"] for p, s in protocols.items() if s["unexpected_ends"]}
    checks["no_unexpected_end"] = {"ok": not ended, "value": ended, "limit": "0"}
    return checks


# -- the run ---------------------------------------------------------------------------------------


def soak_config(seed: int) -> FeedConfig:
    """A dead connection is noticed within about a second; reconnects are quick."""
    return FeedConfig(
        ping_interval=0.5,
        ping_timeout=1.0,
        connect_timeout=2.0,
        close_timeout=0.5,
        backoff_initial=0.05,
        backoff_max=1.0,
        rate_limit_backoff=1.0,
        healthy_after=2.0,
        request_timeout=2.0,
        poll_interval=0.1,
        rng=random.Random(seed),
    )


class _SendTimes(list[Any]):
    """Stands in for ``ConnectionRecord.sent``: keeps no frame, notes the send time of sequenced ones."""

    def __init__(self, server: FeedServer, times: dict[int, float]) -> None:
        super().__init__()
        self._sequence_of = server.sequence_of
        self._times = times

    def append(self, frame: Any) -> None:
        self.extend((frame,))

    def extend(self, frames: Any) -> None:
        now = trio.current_time()
        for frame in frames:
            seq = self._sequence_of(frame)
            if seq is not None:
                self._times[seq] = now


class _Discard(list[Any]):
    """Stands in for ``ConnectionRecord.received``: the harness needs none of it."""

    def append(self, frame: Any) -> None:
        pass

    def extend(self, frames: Any) -> None:
        pass


class ServerTap:
    """Send times per connection, and the server's records kept bounded (its lists would grow)."""

    def __init__(self, server: FeedServer) -> None:
        self.server = server
        self.times: dict[int, dict[int, float]] = {}

    async def run(self) -> None:
        server = self.server
        tapped: set[int] = set()
        while True:
            for record in server.connections:
                if record.id not in tapped and record.open:
                    tapped.add(record.id)
                    times = self.times[record.id] = {}
                    record.sent = _SendTimes(server, times)
                    record.received = _Discard()
            self._prune(tapped)
            await server.wait_for(self._changed(len(server.connections)), timeout=math.inf)

    def _changed(self, count: int) -> Any:
        return lambda: len(self.server.connections) != count

    def _prune(self, tapped: set[int]) -> None:
        server = self.server
        keep: list[ConnectionRecord] = [r for r in server.connections if r.open] or server.connections[-1:]
        server.connections[:] = keep
        del server.refused[:]
        live = {r.id for r in keep}
        for cid in list(self.times):
            if cid not in live:
                del self.times[cid]
        tapped &= live

    def sent_at(self, connection_id: int, seq: int) -> float | None:
        times = self.times.get(connection_id)
        return None if times is None else times.pop(seq, None)


@dataclass
class FeedTrack:
    """What one protocol's consumer saw."""

    name: str
    seq: SequenceCheck = field(default_factory=SequenceCheck)
    gaps: GapCheck = field(default_factory=GapCheck)
    latency: Histogram = field(default_factory=Histogram)
    messages: int = 0
    messages_last_window: int = 0
    sequenced: int = 0
    reconnects: int = 0
    decode_failures: int = 0
    book_resyncs: int = 0
    subscribe_errors: int = 0
    restarts: int = 0  # feeds reopened after an expected reject-auth
    unexpected_ends: int = 0
    auth_rejections_due: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    connection_id: int | None = None
    first_error: str | None = None


# The probe's program: sleep 1 ms at a time, and each second write that second's p99 and
# maximum lateness (ms past the 1 ms asked for) with the second's start on the shared
# monotonic clock. Ends after ``until`` or when its parent is gone.
_PROBE = """
import os, sys, time
until, path = float(sys.argv[1]), sys.argv[2]
parent = os.getppid()
with open(path, "w") as out:
    start, late = time.monotonic(), []
    while True:
        before = time.monotonic()
        time.sleep(0.001)
        now = time.monotonic()
        late.append(now - before - 0.001)
        if now - start >= 1.0:
            late.sort()
            p99 = late[min(len(late) - 1, int(0.99 * len(late)))]
            out.write(f"{start:.6f} {p99 * 1000:.4f} {late[-1] * 1000:.4f}\\n")
            out.flush()
            start, late = now, []
            if now > until or os.getppid() != parent:
                break
"""


class HostProbe:
    """A process beside the run that only sleeps 1 ms at a time and records how late it wakes.

    What it sees is the host's doing (neighbours, stolen CPU), never our library's: the soak's
    latency check asks it whether a slower last window was the host's. Costs about 1% of a CPU.
    """

    def __init__(self, duration: float) -> None:
        # duration: the longest it runs if never stopped (its parent gone unnoticed).
        fd, self._path = tempfile.mkstemp(prefix="soak-probe-", suffix=".txt")
        os.close(fd)
        until = time.monotonic() + duration
        self._process = subprocess.Popen([sys.executable, "-c", _PROBE, f"{until:.3f}", self._path])

    def stop(self) -> list[tuple[float, float, float]]:
        """End the probe: ``(second's start on time.monotonic, p99 ms, max ms)`` per second."""
        self._process.terminate()
        self._process.wait(timeout=10)
        rows = []
        try:
            with open(self._path) as f:
                for line in f:
                    fields = line.split()
                    if len(fields) == 3:  # a line cut short by terminate() is left out
                        rows.append((float(fields[0]), float(fields[1]), float(fields[2])))
        finally:
            os.unlink(self._path)
        return rows


def probe_window(rows: Sequence[tuple[float, float, float]], start: float, end: float) -> float | None:
    """The median of the probe's per-second p99 lateness (ms) over seconds that start in [start, end)."""
    values = [p99 for t, p99, _ in rows if start <= t < end]
    return round(statistics.median(values), 3) if values else None


RECONCILE_EVERY = 2.0  # seconds between two loads of the open orders (see Soak.reconcile)

_EVENTS = ev.FEED_EVENT_TYPES


class Soak:
    def __init__(self, run: Plan, rate: float, seed: int, *, trace: bool = False) -> None:
        from trio_feeds import exchanges

        self.run_plan = run
        self.rate = rate
        self.seed = seed
        self.entries = exchanges.all_exchanges()
        self.tracks = {e.name: FeedTrack(e.name) for e in self.entries}
        n = int(run.duration / run.sample_every) + 3
        # Preallocated: the time series does not grow the process while it is measured.
        self.series = {
            k: array("d", bytes(8 * n))
            for k in ("t", "rss", "p50", "p99", "max", "count", "messages", "steal", "ticks")
        }
        self.samples = 0
        self.interval = Histogram()
        self.first = Histogram()
        self.last = Histogram()
        self.t0 = 0.0
        self.t0_mono = 0.0  # the same moment on time.monotonic, the probe's clock
        self.probe_rows: list[tuple[float, float, float]] = []
        self.fault_log: list[tuple[float, str, str]] = []
        self.trace = trace  # tracemalloc from the warm-up's end: what grew (slows the run)
        self.trace_start: Any = None
        self.trace_top: list[str] = []

    def elapsed(self) -> float:
        return trio.current_time() - self.t0

    async def main(self) -> None:
        run = self.run_plan
        targets = [Target(e.name, e.has_auth, e.has_sequences) for e in self.entries]
        schedule = fault_schedule(random.Random(self.seed), run, targets)
        async with AsyncExitStack() as stack:
            servers = {
                e.name: await stack.enter_async_context(e.open_server(rate=self.rate)) for e in self.entries
            }
            for server in servers.values():
                # The servers' memory of past book frames (for exact book checks in tests) is
                # bounded but would read as growth of the library over a short run: none kept.
                server.book_history = 0
            taps = {name: ServerTap(server) for name, server in servers.items()}
            async with trio.open_nursery() as nursery:
                self.t0 = trio.current_time()
                self.t0_mono = time.monotonic()
                for i, entry in enumerate(self.entries):
                    nursery.start_soon(taps[entry.name].run)
                    nursery.start_soon(self.feed_loop, entry, servers[entry.name], taps[entry.name], i)
                for at, name, fault in schedule:
                    nursery.start_soon(self.fault_at, at, name, fault, servers[name], nursery)
                await self.sampler()
                nursery.cancel_scope.cancel()
        for track in self.tracks.values():
            track.gaps.finish()

    async def fault_at(
        self, at: float, name: str, fault: Fault, server: FeedServer, nursery: trio.Nursery
    ) -> None:
        await trio.sleep_until(self.t0 + at)
        track = self.tracks[name]
        track.faults[fault.kind] += 1
        self.fault_log.append((round(self.elapsed(), 3), name, fault.spec))
        if fault.kind == "reject-auth":
            # Rejected at the next authentication: make one happen now. The feed ends with
            # AuthenticationError (never retried, by design) and is opened again.
            track.auth_rejections_due += 1
            await fault.apply(server, nursery)
            await server.close(1012, "soak: reconnect to authenticate")
            return
        await fault.apply(server, nursery)

    async def feed_loop(self, entry: Any, server: FeedServer, tap: ServerTap, index: int) -> None:
        track = self.tracks[entry.name]
        config = soak_config(self.seed + index)
        while True:
            try:
                async with (
                    entry.open_feed(
                        server.url, entry.test_credentials, config=config, **entry.demo_feed_options()
                    ) as feed,
                    trio.open_nursery() as nursery,
                ):
                    nursery.start_soon(self.subscribe, entry, feed, track)
                    if feed.account is not None:
                        nursery.start_soon(self.reconcile, feed.account)
                    await self.consume(feed, server, tap, track)
                    nursery.cancel_scope.cancel()
                self.unexpected(track, RuntimeError("the feed's iteration ended"))
            except* AuthenticationError as group:
                for exc in group.exceptions:
                    if track.auth_rejections_due:
                        track.auth_rejections_due -= 1
                        track.restarts += 1
                    else:
                        self.unexpected(track, exc)
            except* FeedError as group:
                self.unexpected(track, group.exceptions[0])
            track.gaps.feed_ended()
            await trio.sleep(0.1)

    @staticmethod
    def unexpected(track: FeedTrack, exc: BaseException) -> None:
        track.unexpected_ends += 1
        if track.first_error is None:
            track.first_error = repr(exc)

    @staticmethod
    async def subscribe(entry: Any, feed: Any, track: FeedTrack) -> None:
        try:
            await entry.demo_subscribe(feed)
        except FeedError:
            # A fault hit the subscription (refused, unanswered); the feed keeps the wish and
            # sends it again on the next connection. Counted, and the run goes on.
            track.subscribe_errors += 1

    @staticmethod
    async def reconcile(account: Any) -> None:
        """Load the open orders as an application would from REST now and then: none.

        The local servers open a new order with every order message and never close one,
        and the library keeps every open order by design, so without this the account would
        grow by the servers' doing. A real account's open orders are bounded.
        """
        while True:
            await trio.sleep(RECONCILE_EVERY)
            account.orders.replace([])

    async def consume(self, feed: Any, server: FeedServer, tap: ServerTap, track: FeedTrack) -> None:
        sequence_of = server.sequence_of
        last_start = self.t0 + self.run_plan.last_window[0]
        first_start, first_end = (self.t0 + t for t in self.run_plan.first_window)
        interval, first, last = self.interval, self.first, self.last
        current_time = trio.current_time
        async for item in feed:
            kind = type(item)
            if kind in _EVENTS:
                self.event(item, track)
                continue
            now = current_time()
            track.messages += 1
            if now >= last_start:
                track.messages_last_window += 1
            track.gaps.message()
            seq = sequence_of(item)
            if seq is None:
                continue
            track.sequenced += 1
            if track.connection_id is None:
                # The newest connection: the one these messages came on (one client per server).
                track.connection_id = server.connections[-1].id
            track.seq.message(seq)
            sent = tap.sent_at(track.connection_id, seq)
            if sent is None:
                continue
            latency = now - sent
            track.latency.add(latency)
            interval.add(latency)
            if first_start <= now < first_end:
                first.add(latency)
            elif now >= last_start:
                last.add(latency)

    @staticmethod
    def event(item: object, track: FeedTrack) -> None:
        if isinstance(item, ev.Connected):
            track.connection_id = None
            track.seq.connected()
            track.gaps.connected()
        elif isinstance(item, ev.Disconnected):
            track.gaps.disconnected(trio.current_time())
        elif isinstance(item, ev.Gap):
            track.gaps.gap(item.since)
        elif isinstance(item, ev.Overflow):
            track.seq.overflow(item.dropped)
        elif isinstance(item, ev.Reconnecting):
            track.reconnects += 1
        elif isinstance(item, ev.DecodeFailed):
            track.decode_failures += 1
        elif isinstance(item, ev.BookOutOfSync):
            track.book_resyncs += 1

    async def sampler(self) -> None:
        run = self.run_plan
        page = os.sysconf("SC_PAGE_SIZE")
        next_at = self.t0
        end = self.t0 + run.duration
        while True:
            next_at += run.sample_every
            await trio.sleep_until(min(next_at, end))
            self.sample(page)
            if self.trace and self.trace_start is None and self.elapsed() >= run.warmup:
                import tracemalloc

                tracemalloc.start(12)
                self.trace_start = tracemalloc.take_snapshot()
            if trio.current_time() >= end:
                if self.trace_start is not None:
                    self.trace_report()
                return

    def trace_report(self) -> None:
        import tracemalloc

        stats = tracemalloc.take_snapshot().compare_to(self.trace_start, "traceback")
        tracemalloc.stop()
        for stat in stats[:12]:
            if stat.size_diff <= 0:
                continue
            frames = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in stat.traceback[-8:]]
            where = " < ".join(reversed(frames))
            self.trace_top.append(f"{stat.size_diff / 1024:+.1f} KiB {stat.count_diff:+d} blocks: {where}")

    def sample(self, page: int) -> None:
        i = self.samples
        if i >= len(self.series["t"]):
            return
        s, h = self.series, self.interval
        s["t"][i] = self.elapsed()
        s["rss"][i] = _rss(page)
        s["p50"][i] = h.quantile(0.5) or 0.0
        s["p99"][i] = h.quantile(0.99) or 0.0
        s["max"][i] = h.max
        s["count"][i] = h.count
        s["messages"][i] = sum(t.messages for t in self.tracks.values())
        s["steal"][i], s["ticks"][i] = cpu_ticks() or (0, 0)  # none: no steal share reported
        self.samples = i + 1
        h.clear()

    def summary(self) -> dict[str, Any]:
        run = self.run_plan
        n = self.samples
        times = list(self.series["t"][:n])
        rss = list(self.series["rss"][:n])
        steal, ticks = list(self.series["steal"][:n]), list(self.series["ticks"][:n])
        start_rss, end_rss = rss_growth(times, rss, run.warmup)
        mib = 1024 * 1024

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 3)

        def window(h: Histogram, bounds: tuple[float, float]) -> dict[str, Any]:
            return {
                "from_s": round(bounds[0], 1),
                "to_s": round(bounds[1], 1),
                "p50_ms": ms(h.quantile(0.5)),
                "p99_ms": ms(h.quantile(0.99)),
                "max_ms": ms(h.max if h.count else None),
                "samples": h.count,
            }

        return {
            "plan": {
                "duration_s": run.duration,
                "warmup_s": run.warmup,
                "window_s": round(run.window, 3),
                "sample_every_s": run.sample_every,
                "fault_every_s": round(run.fault_every, 3),
                "rate_per_server": self.rate,
                "seed": self.seed,
                "protocols": [e.name for e in self.entries],
            },
            "rss": {
                "first_mib": round(rss[0] / mib, 3),
                "after_warmup_mib": round(start_rss / mib, 3),
                "end_mib": round(end_rss / mib, 3),
                "growth_mib": round((end_rss - start_rss) / mib, 3),
                "max_mib": round(max(rss) / mib, 3),
                # The trend after the warm-up (least squares), for telling a step from a slope.
                "trend_mib_per_hour": round(rss_trend(times, rss, run.warmup) * 3600 / mib, 3),
            },
            "latency": {
                "first_window": window(self.first, run.first_window),
                "last_window": window(self.last, run.last_window),
            },
            # The host's own lateness (HostProbe) in the same windows: None without a probe.
            "host_probe_p99_ms": {
                "first_window": probe_window(self.probe_rows, *(self.t0_mono + t for t in run.first_window)),
                "last_window": probe_window(self.probe_rows, *(self.t0_mono + t for t in run.last_window)),
            },
            # The share of the CPUs the host took away ("steal") in the same windows.
            "host_steal_share": {
                "first_window": steal_share(times, steal, ticks, *run.first_window),
                "last_window": steal_share(times, steal, ticks, *run.last_window),
            },
            "protocols": {
                name: {
                    "messages": t.messages,
                    "messages_last_window": t.messages_last_window,
                    "sequenced": t.sequenced,
                    "lost": t.seq.lost,
                    "duplicated": t.seq.duplicated,
                    "overflow_dropped": t.seq.dropped,
                    "reconnects": t.reconnects,
                    "gaps_reported": t.gaps.reported,
                    "gaps_extra": t.gaps.extra,
                    "gaps_unreported": t.gaps.unreported,
                    "decode_failures": t.decode_failures,
                    "book_resyncs": t.book_resyncs,
                    "subscribe_errors": t.subscribe_errors,
                    "restarts_after_reject_auth": t.restarts,
                    "unexpected_ends": t.unexpected_ends,
                    "first_error": t.first_error,
                    "faults": dict(sorted(t.faults.items())),
                    "p50_ms": ms(t.latency.quantile(0.5)),
                    "p99_ms": ms(t.latency.quantile(0.99)),
                }
                for name, t in self.tracks.items()
            },
            "faults": [list(f) for f in self.fault_log],
            "series": [
                {
                    "t": round(self.series["t"][i], 2),
                    "rss_mib": round(self.series["rss"][i] / mib, 3),
                    "p50_ms": round(self.series["p50"][i] * 1000, 3),
                    "p99_ms": round(self.series["p99"][i] * 1000, 3),
                    "max_ms": round(self.series["max"][i] * 1000, 3),
                    "latency_samples": int(self.series["count"][i]),
                    "messages": int(self.series["messages"][i]),
                }
                for i in range(n)
            ],
        }


def steal_share(
    times: Sequence[float], steal: Sequence[float], ticks: Sequence[float], start: float, end: float
) -> float | None:
    """The share of the CPUs the host took away between the samples that bound [start, end]."""
    inside = [i for i, t in enumerate(times) if start - 1e-6 <= t <= end + 1e-6]
    if len(inside) < 2:
        return None
    first, last = inside[0], inside[-1]
    return stolen_share((steal[first], ticks[first]), (steal[last], ticks[last]))


def _rss(page: int) -> float:
    with open("/proc/self/statm", "rb") as f:
        return float(int(f.read().split()[1]) * page)


def report(summary: dict[str, Any], checks: dict[str, dict[str, Any]]) -> str:
    """The summary in a few lines of text."""
    plan_, rss, lat = summary["plan"], summary["rss"], summary["latency"]
    host = summary.get("host_probe_p99_ms") or {}
    steal = summary.get("host_steal_share") or {}
    lines = [
        f"soak: {plan_['duration_s']:g} s, {len(plan_['protocols'])} protocols at "
        f"{plan_['rate_per_server']:g} msg/s each, a fault every {plan_['fault_every_s']:g} s "
        f"({len(summary['faults'])} in all), "
        f"warm-up {plan_['warmup_s']:g} s, windows {plan_['window_s']:g} s",
        f"RSS: {rss['first_mib']:.2f} MiB at start, {rss['after_warmup_mib']:.2f} after warm-up, "
        f"{rss['end_mib']:.2f} at the end: growth {rss['growth_mib']:+.3f} MiB (max {rss['max_mib']:.2f}, "
        f"trend {rss.get('trend_mib_per_hour', 0):+.3f} MiB/h)",
        f"latency p50/p99: first window {lat['first_window']['p50_ms']}/{lat['first_window']['p99_ms']} ms "
        f"({lat['first_window']['samples']} samples), last window {lat['last_window']['p50_ms']}/"
        f"{lat['last_window']['p99_ms']} ms ({lat['last_window']['samples']} samples)",
        "host (a probe process's lateness, p99): first window "
        f"{host.get('first_window')} ms, last window {host.get('last_window')} ms; CPU stolen: "
        f"{steal.get('first_window')}, {steal.get('last_window')}",
        f"{'protocol':<12}{'msgs':>9}{'lost':>6}{'dup':>5}{'reconn':>8}{'gaps':>6}{'unrep':>7}{'bad':>5}"
        f"{'p99 ms':>9}  faults",
    ]
    for name, p in summary["protocols"].items():
        faults = " ".join(f"{k}:{v}" for k, v in p["faults"].items())
        lines.append(
            f"{name:<12}{p['messages']:>9}{p['lost']:>6}{p['duplicated']:>5}{p['reconnects']:>8}"
            f"{p['gaps_reported']:>6}{p['gaps_unreported']:>7}{p['decode_failures']:>5}"
            f"{p['p99_ms'] if p['p99_ms'] is not None else '-':>9}  {faults}"
        )
    for name, c in checks.items():
        verdict = "INCONCLUSIVE" if c.get("inconclusive") else "PASS" if c["ok"] else "FAIL"
        why = f": {c['inconclusive']}" if c.get("inconclusive") else ""
        lines.append(f"{verdict} {name}: {c['value']} ({c['limit']}){why}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=parse_duration, default=1800.0, help="run time (default 30m)")
    parser.add_argument(
        "--rate", type=float, default=100.0, help="messages per second per server (default 100)"
    )
    parser.add_argument(
        "--warmup", type=parse_duration, default=None, help="RSS baseline after this (scaled)"
    )
    parser.add_argument("--window", type=parse_duration, default=None, help="latency windows (scaled)")
    parser.add_argument("--sample-every", type=parse_duration, default=None, help="sampling period (scaled)")
    parser.add_argument(
        "--fault-every", type=parse_duration, default=None, help="one fault per slot (scaled)"
    )
    parser.add_argument("--seed", type=int, default=1, help="faults and jitter (default 1)")
    parser.add_argument("--rss-limit-mib", type=float, default=1.0, help="RSS growth limit (default 1 MiB)")
    parser.add_argument("--latency-ratio", type=float, default=1.2, help="last/first p99 limit (default 1.2)")
    parser.add_argument("--tracemalloc", action="store_true", help="print what grew after the warm-up (slow)")
    parser.add_argument(
        "--output", type=Path, default=Path("soak.json"), help="JSON results (default soak.json)"
    )
    args = parser.parse_args(argv)
    try:
        run = plan(
            args.duration,
            warmup=args.warmup,
            window=args.window,
            sample_every=args.sample_every,
            fault_every=args.fault_every,
        )
    except ValueError as exc:
        parser.error(str(exc))
    soak = Soak(run, args.rate, args.seed, trace=args.tracemalloc)
    started = time.monotonic()
    probe = HostProbe(run.duration + 60)
    try:
        trio.run(soak.main)
    finally:
        soak.probe_rows = probe.stop()
    summary = soak.summary()
    checks = evaluate(summary, rss_limit_mib=args.rss_limit_mib, latency_ratio=args.latency_ratio)
    summary["checks"] = checks
    summary["passed"] = all(c["ok"] for c in checks.values())
    summary["wall_s"] = round(time.monotonic() - started, 1)
    args.output.write_text(json.dumps(summary, indent=1) + "\n")
    print(report(summary, checks))
    for line in soak.trace_top:
        print(line)
    print(f"written to {args.output}")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
