"""``chainright bench consortium``'s through-the-API figures: the e2e run's figures under ``api_*``
keys, each rate as a share of the sales the network settled alone in the same run, the summary line
that names every key, and the refusals before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.consortium import API_SALES_MAX, JSON_KEYS, _through_api, summary, through_api_ratios

pytestmark = pytest.mark.unit

E2E = {"e2e_sales": 200, "e2e_buyers": 4, "e2e_batch_size": 10, "e2e_single_sales_per_s": 42.0,
       "e2e_sales_per_s": 168.0, "e2e_single_gas_per_sale": 151_000, "e2e_gas_per_sale": 98_000,
       "api_cpu_ms_per_sale": 21.5, "api_cpu_ms_per_sale_cart": 3.1, "e2e_single_seconds": 4.8,
       "e2e_seconds": 1.2, "e2e_single_time_split": {"post_order": 0.6}, "e2e_time_split": {"post_order": 0.5}}
NETWORK = {"network": "geth", "validators": 4, "block_period_s": 1, "transactions": 100, "senders": 10,
           "nodes": 4, "tx_per_s": 300.0, "chain_tx_per_s": 280.0, "max_tx_per_block": 200, "sales": 600,
           "sale_buyers": 8, "sales_per_s": 140.0, "chain_sales_per_s": 150.0, "gas_per_sale": 151_000,
           "max_sales_per_block": 180, "royalty_wei": 30_000_000_000_000_000}


def test_each_rate_through_the_api_is_a_share_of_the_network_alone() -> None:
    figures = through_api_ratios(E2E, 140.0)
    assert figures["api_single_ratio"] == pytest.approx(42 / 140, abs=0.001)
    assert figures["api_ratio"] == pytest.approx(168 / 140, abs=0.001)  # carts: fewer, cheaper transactions
    assert (figures["api_sales"], figures["api_cart"], figures["api_buyers"]) == (200, 10, 4)
    assert (figures["api_cpu_ms_per_sale"], figures["api_cpu_ms_per_sale_cart"]) == (21.5, 3.1)
    assert (figures["api_single_gas_per_sale"], figures["api_gas_per_sale"]) == (151_000, 98_000)


def test_no_ratio_without_a_rate_of_the_network_alone() -> None:
    figures = through_api_ratios(E2E, 0.0)
    assert "api_ratio" not in figures and "api_single_ratio" not in figures
    assert figures["api_sales_per_s"] == 168.0


def test_the_summary_names_every_through_the_api_key_and_the_json_explains_them() -> None:
    text = summary({**NETWORK, **through_api_ratios(E2E, 140.0)})
    line = next(line for line in text.splitlines() if line.startswith("through the API"))
    for key in ("api_single_sales_per_s", "api_single_ratio", "api_sales_per_s", "api_ratio"):
        assert f"[{key}]" in line
        assert key in JSON_KEYS
    assert "0.3 of the sales the network settled alone" in line and "1.2 [api_ratio]" in line
    assert "through the API" not in summary(NETWORK)  # --api-sales 0: no such line


def test_more_sales_than_one_mint_can_hold_are_refused_before_any_chain_starts() -> None:
    with pytest.raises(ValueError, match=f"at most {API_SALES_MAX} sales"):
        _through_api(None, None, API_SALES_MAX + 1, print)  # type: ignore[arg-type]


def _chainright(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chainright", *args], capture_output=True, text=True,
                          timeout=120, check=False, env=dict(os.environ, CHAINRIGHT_DEBUG="0"))


def test_the_command_refuses_an_api_run_without_the_network_s_own_sales() -> None:
    refused = _chainright("bench", "consortium", "--sales", "0", "--api-sales", "5")
    assert refused.returncode == 1, refused.stderr
    assert "--api-sales compares with the network's own sale rate" in refused.stderr
    assert "Traceback" not in refused.stderr
    too_many = _chainright("bench", "consortium", "--api-sales", str(API_SALES_MAX + 1))
    assert too_many.returncode == 2 and "--api-sales" in too_many.stderr
