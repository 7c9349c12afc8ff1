"""What the machine limits during a bench window (``bench/cpu.py``): shares of the cores per process
group from two /proc samples, and the one-line verdict computed from them."""

from __future__ import annotations

import os

import pytest

from bench.cpu import (
    IDLE,
    LOAD_GENERATOR,
    OTHER,
    VALIDATORS,
    CpuMeter,
    CpuSample,
    MachineTicks,
    cpu_seconds,
    parse_proc_stat,
    verdict,
    window_report,
)

pytestmark = pytest.mark.unit

PROC_STAT = """cpu  5429201 75575 739139 594134 12810 0 32697 20543 0 0
cpu0 2700030 34832 355236 337874 2159 0 11407 9735 0 0
cpu1 2729171 40742 383902 256259 10651 0 21289 10808 0 0
intr 51160217 0 0
ctxt 183884734
"""


def sample(wall_s: float, busy: int, idle: int, validators: dict[str, float | None], generator: float | None,
           cores: int = 2) -> CpuSample:
    return CpuSample(wall_s=wall_s, machine=MachineTicks(busy=busy, idle=idle, cores=cores),
                     groups={VALIDATORS: validators, LOAD_GENERATOR: {"bench": generator}})


def assert_consistent(report: dict) -> None:
    """The invariants of every window: nothing negative, shares sum to about 100, per-operation
    figures are the group's CPU divided by the operations."""
    assert all(v >= 0 for v in report["share_pct"].values())
    assert all(v >= 0 for v in report["cpu_s"].values())
    assert all(v >= 0 for v in report["cores_used"].values())
    assert sum(report["share_pct"].values()) == pytest.approx(100, abs=1.5)
    for group, seconds in report["cpu_s"].items():
        assert report["cpu_ms_per_op"][group] == pytest.approx(seconds * 1000 / report["operations"], abs=0.01)
    assert {VALIDATORS, LOAD_GENERATOR, OTHER, IDLE} <= set(report["share_pct"])


def test_proc_stat_busy_counts_steal_and_idle_counts_iowait() -> None:
    ticks = parse_proc_stat(PROC_STAT)
    assert ticks == MachineTicks(busy=5429201 + 75575 + 739139 + 0 + 32697 + 20543, idle=594134 + 12810, cores=2)
    with pytest.raises(ValueError, match="aggregate"):
        parse_proc_stat("intr 1 2 3\n")


def test_shares_divide_each_group_by_the_cores_capacity_over_the_window() -> None:
    # 10 s on 2 cores at 100 ticks/s: 2000 ticks, 1940 busy, 60 idle
    start = sample(0.0, 1_000, 5_000, {"node0": 1.0, "node1": 2.0}, 3.0)
    end = sample(10.0, 2_940, 5_060, {"node0": 7.0, "node1": 8.0}, 8.0)
    report = window_report(start, end, operations=1000, clk_tck=100)
    assert report["cpu_s"] == {VALIDATORS: 12.0, LOAD_GENERATOR: 5.0}
    assert report["share_pct"] == {VALIDATORS: 60.0, LOAD_GENERATOR: 25.0, OTHER: 12.0, IDLE: 3.0}
    assert report["machine_busy_pct"] == 97.0
    assert report["cores_used"] == {VALIDATORS: 1.2, LOAD_GENERATOR: 0.5}
    assert report["cpu_ms_per_op"] == {VALIDATORS: 12.0, LOAD_GENERATOR: 5.0}
    assert report["cpu_s_per_process"] == {"node0": 6.0, "node1": 6.0, "bench": 5.0}
    assert report["cpu_ceiling_per_s"] == 117.6  # 2 cores x 1000 ms / (12 + 5) ms per operation
    assert report["verdict"] == ("CPU-bound: validators 60%, load generator 25%, other processes 12%, idle 3%")
    assert_consistent(report)


def test_a_process_absent_from_either_sample_counts_nothing() -> None:
    start = sample(0.0, 0, 0, {"node0": None, "node1": 1.0, "node2": 1.0}, 0.0)
    end = sample(4.0, 400, 400, {"node0": 5.0, "node1": 2.0, "node2": None}, 1.0)
    report = window_report(start, end, operations=10, clk_tck=100)
    assert report["cpu_s_per_process"] == {"node0": None, "node1": 1.0, "node2": None, "bench": 1.0}
    assert report["cpu_s"][VALIDATORS] == 1.0
    assert_consistent(report)


def test_process_counters_ahead_of_the_machine_counter_never_give_a_negative_share() -> None:
    # the per-process and machine counters tick separately: watched CPU can exceed the busy ticks
    start = sample(0.0, 0, 0, {"node0": 0.0}, 0.0)
    end = sample(1.0, 100, 100, {"node0": 0.7, "node1": None}, 0.31)
    report = window_report(start, end, operations=5, clk_tck=100)
    assert report["share_pct"][OTHER] == 0.0
    assert all(v >= 0 for v in report["share_pct"].values())
    assert sum(report["share_pct"].values()) == pytest.approx(100, abs=1.5)


def test_an_empty_window_and_no_operations_divide_by_nothing() -> None:
    same = sample(5.0, 10, 10, {"node0": 1.0}, 1.0)
    report = window_report(same, same, operations=0, clk_tck=100)
    assert report["cpu_ms_per_op"] == {VALIDATORS: None, LOAD_GENERATOR: None}
    assert report["cpu_ceiling_per_s"] is None
    assert set(report["share_pct"].values()) == {0.0}
    assert report["cores_used"] == {VALIDATORS: 0.0, LOAD_GENERATOR: 0.0}


def window(share: dict[str, float], generator_cores: float = 0.2) -> dict:
    return {"share_pct": share, "cores_used": {VALIDATORS: 0.5, LOAD_GENERATOR: generator_cores}}


@pytest.mark.parametrize(("share", "generator_cores", "expected"), [
    ({VALIDATORS: 71, LOAD_GENERATOR: 24, OTHER: 2, IDLE: 3}, 0.48,
     "CPU-bound: validators 71%, load generator 24%, other processes 2%, idle 3%"),
    ({VALIDATORS: 30, LOAD_GENERATOR: 10, OTHER: 55, IDLE: 5}, 0.2,
     "CPU-bound: other processes 55%, validators 30%, load generator 10%, idle 5%; other processes took "
     "55%: the machine was shared, the cores left to the bench set the rate"),
    ({VALIDATORS: 20, LOAD_GENERATOR: 48, OTHER: 2, IDLE: 30}, 0.96,
     "bound by the load generator: one Python process kept 0.96 of a core busy; load generator 48%, "
     "validators 20%, other processes 2%, idle 30%"),
    ({VALIDATORS: 35, LOAD_GENERATOR: 20, OTHER: 5, IDLE: 40}, 0.4,
     "not CPU-bound: 40% idle (validators 35%, load generator 20%, other processes 5%); the limit is "
     "block time/commit latency, not the cores"),
])
def test_the_verdict_is_computed_from_the_shares(share: dict[str, float], generator_cores: float,
                                                 expected: str) -> None:
    assert verdict(window(share, generator_cores)) == expected


def test_the_idle_threshold_decides_cpu_bound_before_the_load_generator() -> None:
    busy = window({VALIDATORS: 45, LOAD_GENERATOR: 48, OTHER: 0, IDLE: 7}, generator_cores=0.96)
    assert verdict(busy).startswith("CPU-bound:")
    spare = window({VALIDATORS: 45, LOAD_GENERATOR: 10, OTHER: 0, IDLE: 45}, generator_cores=0.2)
    assert verdict(spare).startswith("not CPU-bound: 45% idle")


def test_a_meter_on_this_process_reports_a_consistent_window_from_proc() -> None:
    meter = CpuMeter({LOAD_GENERATOR: {"bench": os.getpid()}, VALIDATORS: {"gone": 2**22 + 12345}})
    assert meter.report(1) is None  # never started
    meter.start()
    before = cpu_seconds(os.getpid()) or 0.0
    while (cpu_seconds(os.getpid()) or 0.0) - before < 0.1:  # some ticks of our own in the window
        sum(i * i for i in range(50_000))
    meter.stop()
    report = meter.report(3)
    assert report is not None
    assert report["cores"] >= 1 and report["cpu_s"][VALIDATORS] == 0.0
    assert report["cpu_s_per_process"]["gone"] is None
    assert all(v >= 0 for v in report["share_pct"].values())
    # separate counters on a busy machine: about 100, not exactly
    assert report["cpu_s"][LOAD_GENERATOR] > 0
    assert all(o["process"] and o["cpu_s"] > 0 for o in report["top_other_processes"])
    assert report["runqueue_wait_s"][LOAD_GENERATOR] >= 0 and report["runqueue_wait_s"][VALIDATORS] == 0.0
    assert sum(report["share_pct"].values()) == pytest.approx(100, abs=10)


def test_the_largest_other_processes_that_lived_through_the_window_are_named() -> None:
    start = CpuSample(0.0, MachineTicks(busy=0, idle=0, cores=2), {LOAD_GENERATOR: {"bench": 0.0}},
                      others={10: ("pytest", 1.0), 11: ("pip", 0.0), 12: ("bash", 5.0), 13: ("geth", 2.0),
                              **{100 + i: ("worker", 0.0) for i in range(6)}})
    end = CpuSample(2.0, MachineTicks(busy=350, idle=50, cores=2), {LOAD_GENERATOR: {"bench": 0.1}},
                    others={10: ("pytest", 2.5), 11: ("pip", 0.4), 12: ("bash", 5.0),
                            13: ("node", 9.0),  # the pid was reused by another program: not counted
                            14: ("python", 3.0),  # started inside the window: its start is unknown
                            **{100 + i: ("worker", 0.01 * (i + 1)) for i in range(6)}})
    report = window_report(start, end, operations=1, clk_tck=100)
    top = report["top_other_processes"]
    assert [o["process"] for o in top] == ["pytest", "pip", "worker", "worker", "worker"]
    assert top[0] == {"process": "pytest", "cpu_s": 1.5, "share_pct": 37.5}
    assert top[2]["cpu_s"] == 0.06
    assert report["share_pct"][OTHER] == 85.0


def test_the_run_queue_wait_tells_a_starved_group_from_one_with_cores_to_spare() -> None:
    def at(wall: float, busy: int, cpu: float, wait: float | None, gen_wait: float) -> CpuSample:
        return CpuSample(wall, MachineTicks(busy=busy, idle=0, cores=2),
                         {VALIDATORS: {"node0": cpu}, LOAD_GENERATOR: {"bench": 0.0}},
                         waits={VALIDATORS: {"node0": wait, "node1": None}, LOAD_GENERATOR: {"bench": gen_wait}})

    report = window_report(at(0.0, 0, 0.0, 1.0, 0.0), at(4.0, 800, 3.0, 4.0, 0.2), operations=3, clk_tck=100)
    assert report["runqueue_wait_s"] == {VALIDATORS: 3.0, LOAD_GENERATOR: 0.2}
    assert report["waited_pct"] == {VALIDATORS: 50.0, LOAD_GENERATOR: 100.0}
    assert report["verdict"] == ("CPU-bound: other processes 62%, validators 38%, load generator 0%, idle 0%; "
                                 "the validators' threads waited for a core 50% of the time they were ready to run; "
                                 "other processes took 62%: the machine was shared, the cores left to the bench "
                                 "set the rate")
    # a thread that ended inside the window takes its wait along: never a negative wait
    shrunk = window_report(at(0.0, 0, 0.0, 5.0, 0.0), at(1.0, 200, 1.0, 2.0, 0.0), operations=1, clk_tck=100)
    assert shrunk["runqueue_wait_s"][VALIDATORS] == 0.0
