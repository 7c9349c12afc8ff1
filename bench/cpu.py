"""Who used the cores during a measured window: CPU seconds per process group, machine busy and idle (/proc).

A window is two samples, one when a benchmark's clock starts and one when it stops. Each sample reads
every watched process's user + system CPU seconds (``/proc/<pid>/stat``) and the machine's busy and
idle ticks (the ``cpu`` line of ``/proc/stat``, all cores). ``window_report`` turns two samples into
figures (pure): CPU seconds per group, each group's share of the machine's capacity over the window,
the share the processes we do not watch took (on a shared machine: other people's work; the largest
of them that lived through the window are named), the idle share, the cores each group kept busy,
CPU milliseconds per operation, the rate the cores would carry at that CPU cost if the bench had
them all (``cpu_ceiling_per_s``: what the machine itself limits, whoever else uses it), and
``verdict``: one line saying whether the cores were the limit and who used them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CPU_BOUND_IDLE_PCT = 10.0
"""Below this idle share over the window the machine counts as CPU-bound."""
ONE_CORE = 0.9
"""A single-threaded load generator that kept this much of one core busy is the limit itself."""
SHARED_PCT = 20.0
"""A share of processes we do not watch at or above this is named in the verdict (a shared machine)."""
VALIDATORS = "validators"
LOAD_GENERATOR = "load generator"
"""The benchmark's own Python process (it signs before the clock starts, then sends and polls)."""
OTHER = "other processes"
TOP_OTHERS = 5
IDLE = "idle"


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds ``pid`` has used so far (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(processes: dict[str, int]) -> dict[str, float | None]:
    """``{name: CPU seconds so far}`` of ``{name: pid}`` (None for a process that is gone)."""
    return {name: cpu_seconds(pid) for name, pid in processes.items()}


def runqueue_wait_seconds(pid: int) -> float | None:
    """Seconds the threads of ``pid`` alive now have spent ready to run but waiting for a core
    (``/proc/<pid>/task/*/schedstat``, second field, ns; None when the process is gone)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    waited = 0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as fh:
                waited += int(fh.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return waited / 1e9


def every_process(excluded: set[int]) -> dict[int, tuple[str, float]]:
    """``{pid: (command name, CPU seconds so far)}`` of every process /proc shows, but ``excluded``."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in excluded:
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                text = fh.read()
            comm = text[text.index("(") + 1:text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            out[int(entry)] = (comm, (int(fields[11]) + int(fields[12])) / tick)
        except (OSError, ValueError, IndexError):
            continue
    return out


@dataclass(frozen=True)
class MachineTicks:
    """The machine's CPU time so far, all cores together, in clock ticks (``/proc/stat``)."""

    busy: int
    """user + nice + system + irq + softirq + steal (steal: taken by the hypervisor for others)."""
    idle: int
    """idle + iowait."""
    cores: int


def parse_proc_stat(text: str) -> MachineTicks:
    """The busy and idle ticks of the aggregate ``cpu`` line of a ``/proc/stat`` text, and the
    number of ``cpuN`` lines (guest time is already inside user time, so it is not added again)."""
    busy = idle = cores = 0
    found = False
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if name == "cpu":
            values = [int(v) for v in rest.split()] + [0] * 8
            user, nice, system, idle_t, iowait, irq, softirq, steal = values[:8]
            busy, idle, found = user + nice + system + irq + softirq + steal, idle_t + iowait, True
        elif name.startswith("cpu") and name[3:].isdigit():
            cores += 1
    if not found:
        raise ValueError("no aggregate 'cpu' line in the /proc/stat text")
    return MachineTicks(busy=busy, idle=idle, cores=max(cores, 1))


def machine_ticks() -> MachineTicks:
    """This machine's ticks now."""
    with open("/proc/stat", encoding="ascii") as fh:
        return parse_proc_stat(fh.read())


@dataclass(frozen=True)
class CpuSample:
    """One moment: wall clock (monotonic s), the machine's ticks, each watched process's CPU s by group,
    and every other process's ``(command name, CPU s)`` by pid."""

    wall_s: float
    machine: MachineTicks
    groups: dict[str, dict[str, float | None]]
    others: dict[int, tuple[str, float]] = field(default_factory=dict)
    waits: dict[str, dict[str, float | None]] = field(default_factory=dict)
    """Each watched process's run-queue wait so far (s), by group (``runqueue_wait_seconds``)."""


def take_sample(groups: Mapping[str, Mapping[str, int]]) -> CpuSample:
    """Sample ``{group: {process name: pid}}`` and the machine now."""
    watched = {pid for procs in groups.values() for pid in procs.values()}
    return CpuSample(wall_s=time.monotonic(), machine=machine_ticks(),
                     groups={g: cpu_of(dict(procs)) for g, procs in groups.items()},
                     others=every_process(watched | {os.getpid()}),
                     waits={g: {n: runqueue_wait_seconds(pid) for n, pid in procs.items()}
                            for g, procs in groups.items()})


def _pct(part: float, whole: float) -> float:
    return round(100 * part / whole, 1) if whole > 0 else 0.0


def window_report(start: CpuSample, end: CpuSample, *, operations: int, clk_tck: int) -> dict[str, Any]:
    """The figures of the window between two samples (pure).

    ``share_pct`` divides every group's CPU seconds, the busy time no watched process accounts for
    (``other processes``) and the idle time by the machine's capacity over the window (all cores'
    ticks), so the shares sum to about 100 (the per-process and machine counters tick separately).
    A process missing from either sample (not started yet, or gone) counts nothing.
    ``runqueue_wait_s`` sums the wait of all a group's threads (thread-seconds: it can exceed the
    window); ``waited_pct``: of the time a group's threads were ready to run, the part they waited
    for a core (wait / (wait + CPU)); a starved group waits much, a group with cores to spare little.
    """
    busy_s = max(0, end.machine.busy - start.machine.busy) / clk_tck
    idle_s = max(0, end.machine.idle - start.machine.idle) / clk_tck
    capacity_s = busy_s + idle_s
    window_s = max(end.wall_s - start.wall_s, 0.0)
    cpu_s: dict[str, float] = {}
    per_process: dict[str, float | None] = {}
    for group, procs in end.groups.items():
        total = 0.0
        for name, after in procs.items():
            before = start.groups.get(group, {}).get(name)
            used = max(0.0, after - before) if after is not None and before is not None else None
            per_process[name] = None if used is None else round(used, 3)
            total += used or 0.0
        cpu_s[group] = total
    waited_s: dict[str, float] = {}
    for group, procs in end.waits.items():
        waited_s[group] = 0.0
        for name, after in procs.items():
            before = start.waits.get(group, {}).get(name)
            if after is not None and before is not None:
                waited_s[group] += max(0.0, after - before)  # a thread that ended takes its wait along
    watched = sum(cpu_s.values())
    share = {g: _pct(s, capacity_s) for g, s in cpu_s.items()}
    share[OTHER] = _pct(max(0.0, busy_s - watched), capacity_s)
    share[IDLE] = _pct(idle_s, capacity_s)
    cores_used = {g: round(s / window_s, 2) if window_s > 0 else 0.0 for g, s in cpu_s.items()}
    others: list[tuple[str, float]] = []
    for pid, (name, after) in end.others.items():
        before_name, before = start.others.get(pid, (None, after))
        if before_name == name and after > before:  # the same process, alive through the window
            others.append((name, after - before))
    others.sort(key=lambda kv: -kv[1])
    report: dict[str, Any] = {
        "window_s": round(window_s, 3), "cores": end.machine.cores, "operations": operations,
        "machine_busy_pct": _pct(busy_s, capacity_s),
        "cpu_s": {g: round(s, 3) for g, s in cpu_s.items()}, "cpu_s_per_process": per_process,
        "share_pct": share, "cores_used": cores_used,
        "runqueue_wait_s": {g: round(w, 3) for g, w in waited_s.items()},
        "waited_pct": {g: _pct(w, w + cpu_s.get(g, 0.0)) for g, w in waited_s.items()},
        "top_other_processes": [{"process": name, "cpu_s": round(used, 3),
                                 "share_pct": _pct(used, capacity_s)} for name, used in others[:TOP_OTHERS]],
        "cpu_ms_per_op": {g: round(s * 1000 / operations, 2) if operations > 0 else None
                          for g, s in cpu_s.items()},
    }
    ours_ms = sum(ms for ms in report["cpu_ms_per_op"].values() if ms is not None)
    report["cpu_ceiling_per_s"] = round(end.machine.cores * 1000 / ours_ms, 1) if ours_ms > 0 else None
    report["verdict"] = verdict(report)
    return report


def verdict(report: Mapping[str, Any]) -> str:
    """One line from a window's figures: CPU-bound (idle under ``CPU_BOUND_IDLE_PCT``), bound by a
    single-threaded load generator (``load generator`` kept ``ONE_CORE`` of a core busy), or not
    CPU-bound (the rate is set by the chain's pace: block time, commit latency); with every share."""
    share: Mapping[str, float] = report["share_pct"]
    parts = ", ".join(f"{g} {p:.0f}%" for g, p in sorted(share.items(), key=lambda kv: -kv[1]) if g != IDLE)
    idle = share.get(IDLE, 0.0)
    shared = share.get(OTHER, 0.0) >= SHARED_PCT
    tail = (f"; {OTHER} took {share[OTHER]:.0f}%: the machine was shared, the cores left to the "
            "bench set the rate" if shared else "")
    waited = report.get("waited_pct", {}).get(VALIDATORS)
    starved = (f"; the validators' threads waited for a core {waited:.0f}% of the time they were ready "
               "to run" if waited is not None else "")
    if idle < CPU_BOUND_IDLE_PCT:
        return f"CPU-bound: {parts}, idle {idle:.0f}%{starved}{tail}"
    generator = report["cores_used"].get(LOAD_GENERATOR, 0.0)
    if generator >= ONE_CORE:
        return (f"bound by the load generator: one Python process kept {generator:.2f} of a core busy; "
                f"{parts}, idle {idle:.0f}%")
    return (f"not CPU-bound: {idle:.0f}% idle ({parts}); the limit is block time/commit latency, "
            "not the cores")


@dataclass
class CpuMeter:
    """Samples ``{group: {process name: pid}}`` at ``start()`` and ``stop()`` (a benchmark calls them
    when its clock starts and stops); ``report(operations)`` gives that window's figures."""

    groups: dict[str, dict[str, int]]
    samples: list[CpuSample] = field(default_factory=list)

    def start(self) -> None:
        self.samples = [take_sample(self.groups)]

    def stop(self) -> None:
        if self.samples:
            self.samples = [self.samples[0], take_sample(self.groups)]

    def report(self, operations: int) -> dict[str, Any] | None:
        """The window's figures, or None when it was not both started and stopped."""
        if len(self.samples) != 2:
            return None
        return window_report(self.samples[0], self.samples[1], operations=operations,
                             clk_tck=os.sysconf("SC_CLK_TCK"))
