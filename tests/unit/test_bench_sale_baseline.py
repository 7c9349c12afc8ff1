"""``chainright bench``'s sale figures without a chain: the end-to-end rates divided by the same sales
pre-signed on the same chain (carts by carts, singles by singles), the CPU each process spent per sale,
the verdict on what bounded a run, the carts a pre-signed run sends, and the refusals before anything
starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cpu import CpuSample, MachineTicks, window_report
from bench.platform import API, CHAIN, CLIENT, bound_verdict, cpu_per_sale, presigned_sales, sale_ratios
from bench.sales import CART_MAX, carts, run_sale_bench

pytestmark = pytest.mark.unit

E2E = {"e2e_sales_per_s": 120.0, "e2e_single_sales_per_s": 30.0}
PRESIGNED = {"presigned_sales_per_s": 300.0, "presigned_cart_sales_per_s": 1500.0}
RAW_TX_PER_S = 600.0
TICK = 100


def window(seconds: float, cpu_s: dict[str, float], idle_s: float, sales: int, *, other_s: float = 0.0,
           cores: int = 2) -> dict:
    """A window of ``seconds`` on ``cores`` where each group used ``cpu_s`` and the machine idled
    ``idle_s`` (all cores together), as ``bench.cpu.window_report`` computes it from two samples."""
    busy = sum(cpu_s.values()) + other_s
    start = CpuSample(wall_s=0.0, machine=MachineTicks(busy=0, idle=0, cores=cores),
                      groups={g: {g: 0.0} for g in cpu_s})
    end = CpuSample(wall_s=seconds, machine=MachineTicks(busy=round(busy * TICK), idle=round(idle_s * TICK),
                                                         cores=cores),
                    groups={g: {g: s} for g, s in cpu_s.items()})
    return window_report(start, end, operations=sales, clk_tck=TICK)


def test_each_e2e_rate_is_divided_by_the_presigned_rate_of_the_same_shape() -> None:
    ratios = sale_ratios(E2E, PRESIGNED, RAW_TX_PER_S)
    assert ratios["e2e_ratio"] == 0.08  # carts over pre-signed carts
    assert ratios["e2e_single_ratio"] == 0.1  # one by one over pre-signed fillListings
    # The transfer baseline is kept under its own name, so the change of baseline shows once.
    assert ratios["e2e_ratio_vs_transfers"] == 0.2
    assert ratios["e2e_single_ratio_vs_transfers"] == 0.05


@pytest.mark.parametrize("missing", ["presigned_sales_per_s", "presigned_cart_sales_per_s", "raw_tx_per_s"])
@pytest.mark.parametrize("rate", [0.0, -1.0])
def test_no_ratio_is_computed_against_a_rate_that_is_not_positive(missing: str, rate: float) -> None:
    presigned = dict(PRESIGNED)
    raw = RAW_TX_PER_S
    if missing == "raw_tx_per_s":
        raw = rate
    else:
        presigned[missing] = rate
    with pytest.raises(ValueError, match=missing):
        sale_ratios(E2E, presigned, raw)


def test_cpu_per_sale_names_each_process_with_the_run_it_belongs_to() -> None:
    w = window(2.0, {API: 1.0, CHAIN: 0.4, CLIENT: 0.2}, 2.4, sales=200)
    assert cpu_per_sale(w, suffix="_cart") == {"api_cpu_ms_per_sale_cart": 5.0, "chain_cpu_ms_per_sale_cart": 2.0,
                                               "client_cpu_ms_per_sale_cart": 1.0}
    presigned = window(1.0, {CHAIN: 0.5, CLIENT: 0.1}, 1.4, sales=500)
    assert cpu_per_sale(presigned, prefix="presigned_") == {"presigned_chain_cpu_ms_per_sale": 1.0,
                                                            "presigned_client_cpu_ms_per_sale": 0.2}
    assert cpu_per_sale(None) == {}


def test_a_process_that_kept_a_core_busy_bounds_the_run_and_is_named() -> None:
    # 4 s: the API used 3.9 s of one core (single-threaded Python), the machine had 2.3 s idle of 8.
    w = window(4.0, {API: 3.9, CHAIN: 1.2, CLIENT: 0.6}, 2.3, sales=200)
    text = bound_verdict(w, 50.0)
    assert text.startswith("api-bound: the api process kept 0.97 of a core busy")
    assert "one core carries 51 sales/s at its 19.50 ms per sale" in text
    assert "CPU ms per sale: api 19.50, chain 6.00, client 3.00 (total 28.50" in text
    assert "2 cores carry at most 70 sales/s at that cost; measured 50.0" in text
    assert "CPU-bound" not in text and "shared" not in text


def test_a_chain_process_that_kept_a_core_busy_bounds_the_presigned_run() -> None:
    w = window(1.0, {CHAIN: 0.95, CLIENT: 0.2}, 0.85, sales=400)
    assert bound_verdict(w, 400.0).startswith("chain-bound: the chain process kept 0.95 of a core busy")


def test_a_machine_without_idle_time_is_cpu_bound_and_a_shared_one_says_so() -> None:
    w = window(2.0, {API: 1.5, CHAIN: 1.2, CLIENT: 0.6}, 0.1, sales=100, other_s=0.6)
    text = bound_verdict(w, 50.0)
    assert "CPU-bound: 2 cores, idle 2%" in text and "api-bound" not in text
    assert "other processes took 15% of the machine" not in text  # under the shared threshold
    shared = window(2.0, {API: 1.0, CHAIN: 0.8, CLIENT: 0.4}, 0.1, sales=100, other_s=1.7)
    assert "other processes took 42% of the machine (shared)" in bound_verdict(shared, 50.0)


def test_a_run_with_idle_cores_and_no_busy_process_is_latency_bound() -> None:
    w = window(4.0, {API: 1.0, CHAIN: 0.8, CLIENT: 0.4}, 5.8, sales=100)
    text = bound_verdict(w, 25.0)
    assert text.startswith("not CPU-bound (idle 72%, no process near a full core): latency")
    assert "api-bound" not in text and "CPU-bound:" not in text


def test_a_window_with_no_cpu_gives_no_split() -> None:
    assert bound_verdict(window(1.0, {API: 0.0}, 2.0, sales=10), 10.0) == "no CPU measured"


@pytest.mark.parametrize(("count", "cart", "sizes"), [
    (1, 1, [1]), (5, 1, [1] * 5), (20, 10, [10, 10]), (25, 10, [10, 10, 5]), (8, 10, [8]), (50, 50, [50])])
def test_carts_cover_every_listing_once_in_order(count: int, cart: int, sizes: list[int]) -> None:
    parts = carts(count, cart)
    assert [len(p) for p in parts] == sizes
    assert [i for p in parts for i in p] == list(range(count))


@pytest.mark.parametrize(("count", "cart"), [(0, 10), (-1, 1), (10, 0), (10, CART_MAX + 1)])
def test_a_presigned_run_refuses_an_empty_run_or_a_cart_the_marketplace_refuses(count: int, cart: int) -> None:
    with pytest.raises(ValueError, match="count must be positive"):
        carts(count, cart)
    with pytest.raises(ValueError, match="count must be positive"):  # before any chain call
        run_sale_bench(None, [], None, {}, count=count, cart=cart)  # type: ignore[arg-type]


@pytest.mark.parametrize(("sales", "cart"), [(0, 10), (10, 1), (10, 51)])
def test_the_report_refuses_bad_presigned_counts_before_any_chain_call(sales: int, cart: int) -> None:
    with pytest.raises(ValueError, match="the cart between 2 and 50"):
        presigned_sales(None, None, sales, cart, print, {})  # type: ignore[arg-type]


def test_every_sale_key_of_the_report_is_documented_in_the_bench_readme() -> None:
    readme = (Path(__file__).parents[2] / "bench" / "README.md").read_text()
    keys = [*sale_ratios(E2E, PRESIGNED, RAW_TX_PER_S),
            *cpu_per_sale(window(1.0, {API: 0.5, CHAIN: 0.5, CLIENT: 0.5}, 0.5, sales=1)),
            "presigned_sales_per_s", "presigned_cart_sales_per_s", "presigned_gas_per_sale",
            "presigned_cart_gas_per_sale", "presigned_chain_cpu_ms_per_sale", "presigned_client_cpu_ms_per_sale",
            "e2e_bound", "e2e_single_bound", "e2e_cpu", "presigned_cpu", "raw_tx_per_s"]
    for key in keys:
        assert f"`{key}`" in readme, key
