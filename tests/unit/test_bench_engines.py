"""``chainright bench consortium --engine bft``'s report: both engines side by side, an engine that
could not run named with its reason instead of figures."""

from __future__ import annotations

import pytest

from bench.consortium import summary_engines

pytestmark = pytest.mark.unit

FIGURES = {"network": "bftd", "engine": "bft", "validators": 4, "block_period_s": 1.0, "transactions": 100,
           "senders": 10, "nodes": 4, "tx_per_s": 120.0, "chain_tx_per_s": 100.0, "max_tx_per_block": 60,
           "confirmations": 0, "block_time_s": 1.1, "send_to_final_s": 0.9,
           "send_to_final_samples_s": [0.8, 0.9, 1.0]}


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
