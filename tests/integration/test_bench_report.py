"""`chainright bench --json` (small counts): exactly one JSON object on stdout, every figure present
with its type, the ratios computed from the figures beside them, the conditions stated. No figure
is compared with a threshold: timings belong to the report, not to the suite."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

FLOAT_FIGURES = ("raw_tx_per_s", "e2e_sales_per_s", "e2e_ratio", "e2e_single_sales_per_s", "e2e_single_ratio",
                 "relay_latency_p50_s", "relay_latency_p95_s", "bridge_transfers_per_s", "indexer_events_per_s",
                 "api_reads_per_s", "bare_fastapi_per_s", "api_ratio", "api_orders_per_s", "api_orders_ratio",
                 "api_provenance_cached_per_s", "api_provenance_cached_ratio", "api_provenance_uncached_per_s",
                 "api_provenance_uncached_ratio", "api_cpu_ms_per_sale", "api_cpu_ms_per_sale_cart",
                 "presigned_sales_per_s", "presigned_cart_sales_per_s", "e2e_ratio_vs_transfers",
                 "e2e_single_ratio_vs_transfers")
CPU_PER_SALE = ("api_cpu_ms_per_sale", "chain_cpu_ms_per_sale", "client_cpu_ms_per_sale",
                "presigned_chain_cpu_ms_per_sale", "presigned_client_cpu_ms_per_sale")


def test_bench_json_is_one_object_with_every_figure_and_its_conditions():
    result = subprocess.run([sys.executable, "-m", "chainright", "bench", "--quick", "--json", "--sales", "6",
                             "--buyers", "2", "--cart", "3"], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)  # the whole of stdout: one object, progress went to stderr
    assert result.stdout.strip().count("\n") == 0
    assert isinstance(report, dict)
    for key in FLOAT_FIGURES:
        assert isinstance(report[key], (int, float)) and not isinstance(report[key], bool), key
        assert report[key] > 0, key
    # The e2e rates over the same sales pre-signed on the same anvil, carts by carts, singles by singles;
    # the ratios to raw transfers kept under their own names.
    assert report["e2e_ratio"] == round(report["e2e_sales_per_s"] / report["presigned_cart_sales_per_s"], 4)
    assert report["e2e_single_ratio"] == round(report["e2e_single_sales_per_s"] / report["presigned_sales_per_s"],
                                               4)
    assert report["e2e_ratio_vs_transfers"] == round(report["e2e_sales_per_s"] / report["raw_tx_per_s"], 4)
    assert report["presigned_sales"] == 1000 and report["presigned_batch_size"] == 3
    assert 0 < report["presigned_cart_gas_per_sale"] < report["presigned_gas_per_sale"]
    for key in CPU_PER_SALE:  # each process's CPU per sale, one by one and in carts
        for name in (key, f"{key}_cart"):
            assert isinstance(report[name], (int, float)) and report[name] >= 0, name
    for bound in ("e2e_bound", "e2e_single_bound"):
        assert "CPU ms per sale: " in report[bound], bound
    assert set(report["e2e_cpu"]) == {"single", "cart"}
    assert set(report["presigned_cpu"]) == {"presigned", "presigned_cart"}
    assert report["api_ratio"] == round(report["api_reads_per_s"] / report["bare_fastapi_per_s"], 3)
    for read in ("api_orders", "api_provenance_cached", "api_provenance_uncached"):  # one ratio per endpoint
        assert report[f"{read}_ratio"] == round(report[f"{read}_per_s"] / report["bare_fastapi_per_s"], 3)
    assert report["api_order_book_open"] == 200  # the order book read is a populated one
    assert report["relay_latency_p50_s"] <= report["relay_latency_p95_s"]
    assert report["e2e_sales"] == 6 and report["e2e_buyers"] == 2 and report["e2e_batch_size"] == 3
    for split in ("e2e_time_split", "e2e_single_time_split"):
        assert abs(sum(report[split].values()) - 1) < 0.01, split
    # Gas per sale read from the fill receipts: a cart shares the base cost, so it is cheaper per sale.
    assert isinstance(report["e2e_gas_per_sale"], int) and isinstance(report["e2e_single_gas_per_sale"], int)
    assert 0 < report["e2e_gas_per_sale"] < report["e2e_single_gas_per_sale"]
    assert isinstance(report["gas"], dict) and report["gas"]
    assert all(isinstance(v, int) for v in _leaves(report["gas"]))
    conditions = report["conditions"]
    assert conditions["confirmations"] == 0 and conditions["block_time_s"] is None
    assert conditions["raw_transfers"] == 50 and conditions["e2e_sales"] == 6
    assert conditions["bridge_latency_transfers"] == 3 and conditions["bridge_batch"] == 5
    assert conditions["bridge_validators"] == 3 and conditions["bridge_threshold"] == 2
    assert "fill-tx/batch" in conditions["e2e_path"] and conditions["e2e_batch_size"] == 3
    assert conditions["presigned_sales"] == 1000 and "fillListings" in conditions["presigned_path"]
    assert "chain: the home anvil" in conditions["cpu_processes"]
    assert "e2e bench: 6 sales through the API by 2 concurrent buyers (one sale per" in result.stderr
    assert "e2e bench: 6 sales through the API by 2 concurrent buyers (carts of up to 3)" in result.stderr


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    else:
        yield value
