"""What the host did while a benchmark ran: the CPU a virtual machine's host took away ("steal").

Shared by ``throughput.py`` (per part) and ``soak.py`` (per latency window).
"""

from __future__ import annotations


def cpu_ticks() -> tuple[int, int] | None:
    """``(steal, total)`` CPU ticks of the whole machine so far, from ``/proc/stat``; None elsewhere."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if fields[:1] != ["cpu"] or len(fields) < 9:
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[7], sum(ticks)


def stolen_share(before: tuple[float, float], after: tuple[float, float]) -> float | None:
    """The share of the CPUs the host took away between two ``cpu_ticks()``; None if no time passed."""
    spent = after[1] - before[1]
    return round((after[0] - before[0]) / spent, 3) if spent > 0 else None
