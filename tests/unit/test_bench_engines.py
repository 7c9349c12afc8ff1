"""``chainright bench consortium --engine bft``'s report: both engines side by side, an engine that
could not run named with its reason instead of figures, and what the machine limited in each measured
window (CPU per process group, shares of the cores, CPU ms per operation, the verdict)."""

from __future__ import annotations

import pytest

from bench.consortium import JSON_KEYS, cpu_groups, summary_engines
from bench.cpu import IDLE, LOAD_GENERATOR, OTHER, VALIDATORS, CpuSample, MachineTicks, window_report

pytestmark = pytest.mark.unit

FIGURES = {"network": "bftd", "engine": "bft", "validators": 4, "block_period_s": 1.0, "transactions": 100,
           "senders": 10, "nodes": 4, "tx_per_s": 120.0, "chain_tx_per_s": 100.0, "max_tx_per_block": 60,
           "confirmations": 0, "block_time_s": 1.1, "send_to_final_s": 0.9,
           "send_to_final_samples_s": [0.8, 0.9, 1.0]}


def cpu_window(operations: int, validators_s: float, generator_s: float, idle_ticks: int) -> dict:
    """A window from two /proc samples: 10 s on 2 cores, 100 ticks per second."""
    others = {7: ("pytest", 1.0)} if idle_ticks < 100 else {}
    start = CpuSample(0.0, MachineTicks(busy=0, idle=0, cores=2),
                      {VALIDATORS: {"node0": 0.0, "node1": 0.0}, LOAD_GENERATOR: {"bench": 0.0}}, others=others,
                      waits={LOAD_GENERATOR: {"bench": 0.0}})
    end = CpuSample(10.0, MachineTicks(busy=2000 - idle_ticks, idle=idle_ticks, cores=2),
                    {VALIDATORS: {"node0": validators_s / 2, "node1": validators_s / 2},
                     LOAD_GENERATOR: {"bench": generator_s}}, others={7: ("pytest", 1.3)},
                    waits={LOAD_GENERATOR: {"bench": 0.5}})
    return window_report(start, end, operations=operations, clk_tck=100)


def with_cpu(figures: dict) -> dict:
    transfers, sales = cpu_window(100, 14.2, 4.8, 60), cpu_window(40, 6.0, 2.0, 1000)
    return {**figures, "cpu": {"transfers": transfers, "sales": sales,
                               "verdict": f"transfers: {transfers['verdict']}; sales: {sales['verdict']}"}}


def assert_cpu_consistent(figures: dict) -> None:
    """Every window of an engine's ``cpu``: the groups are there, nothing negative, the shares sum to
    about 100 %, CPU ms per operation is the group's CPU over the operations; the verdict names both."""
    cpu = figures["cpu"]
    assert set(cpu) == {"transfers", "sales", "verdict"}
    for name, ops_key in (("transfers", "transactions"), ("sales", "sales")):
        w = cpu[name]
        assert w["operations"] == figures[ops_key]
        assert w["cpu_ceiling_per_s"] == pytest.approx(
            w["cores"] * 1000 / sum(w["cpu_ms_per_op"].values()), abs=0.1)
        assert {VALIDATORS, LOAD_GENERATOR} <= set(w["cpu_s"])
        assert {VALIDATORS, LOAD_GENERATOR, OTHER, IDLE} <= set(w["share_pct"])
        assert all(v >= 0 for v in [*w["cpu_s"].values(), *w["share_pct"].values(), *w["cores_used"].values()])
        assert sum(w["share_pct"].values()) == pytest.approx(100, abs=1.5)
        for group, seconds in w["cpu_s"].items():
            assert w["cpu_ms_per_op"][group] == pytest.approx(seconds * 1000 / w["operations"], abs=0.01)
        assert f"{name}: {w['verdict']}" in cpu["verdict"]


def test_both_engines_are_reported_with_their_finality_figures() -> None:
    text = summary_engines({"engines": {"clique": {**FIGURES, "engine": "clique", "confirmations": 3,
                                                   "send_to_final_s": 4.2},
                                        "bft": FIGURES}})
    assert text.index("== clique ==") < text.index("== bft ==")
    assert "send to final 4.2s median of 3 [send_to_final_s] at 3 confirmations" in text
    assert "send to final 0.9s median of 3 [send_to_final_s] at 0 confirmations" in text
    assert "120.0 tx/s wall [tx_per_s]" in text


def test_an_engine_that_could_not_run_is_named_with_its_reason() -> None:
    text = summary_engines({"engines": {"clique": {"engine": "clique", "error": "geth is not built"},
                                        "bft": FIGURES}})
    assert "not measured    geth is not built" in text and "== bft ==" in text


def test_each_engine_reports_what_the_machine_limited_in_each_window() -> None:
    bft = with_cpu({**FIGURES, "sales": 40, "sale_buyers": 8, "sales_per_s": 20.0, "chain_sales_per_s": 18.0,
                    "gas_per_sale": 155_000, "max_sales_per_block": 30, "royalty_wei": 2 * 10**15})
    clique = with_cpu({**bft, "engine": "clique", "confirmations": 3})
    for figures in (clique, bft):
        assert_cpu_consistent(figures)
    assert "cpu" in JSON_KEYS
    text = summary_engines({"engines": {"clique": clique, "bft": bft}})
    for engine in ("== clique ==", "== bft =="):
        block = text.split(engine)[1]
        assert "cpu transfers   2 cores 97% busy over 10.0s [cpu.transfers]: validators 14.2 s (71%, 1.42 cores)" in block
        assert ("load generator 4.8 s (24%, 0.48 cores, threads waited 0.5 s for a core), other processes 2% "
                "(largest: pytest 0.3 s), idle 3%") in block
        assert "other processes 10%, idle 50%" in block  # none lived through the sales window: none named
        assert ("CPU ms per transfer: validators 142.0, load generator 48.0; at that cost all 2 cores would "
                "carry 10.5 transfers/s [cpu.transfers.cpu_ceiling_per_s]") in block
        assert "cpu sales       2 cores 50% busy over 10.0s [cpu.sales]" in block
        assert "CPU ms per sale: validators 150.0, load generator 50.0" in block
        assert ("limit           transfers: CPU-bound: validators 71%, load generator 24%, other processes 2%, "
                "idle 3%; sales: not CPU-bound: 50% idle") in block


def test_the_groups_are_the_validators_this_process_and_the_clique_watchdog() -> None:
    import os

    groups = cpu_groups({"node0": 11, "node1": None, "node2": 13}, watchdog=14)
    assert groups == {VALIDATORS: {"node0": 11, "node2": 13}, LOAD_GENERATOR: {"bench": os.getpid()},
                      "watchdog": {"watchdog": 14}}
    assert "watchdog" not in cpu_groups({"validator0": 21})
