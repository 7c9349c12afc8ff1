"""`wallet fund` gives development ETH on local development chains only: the policy as a table."""

from __future__ import annotations

import pytest

from chain.faucet import funding_refusal

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("environment", "chain_id", "consortium", "allowed"), [
    ("development", 31337, 1337, True),
    ("development", 31338, 1337, True),
    ("test", 31337, 1337, True),
    ("development", 1337, 1337, True),   # the local consortium network, in development
    ("test", 1337, 1337, False),         # the consortium only with environment=development
    ("production", 31337, 1337, False),  # never in production, whatever the chain
    ("production", 1337, 1337, False),
    ("development", 1, 1337, False),     # mainnet
    ("development", 11155111, 1337, False),  # a public testnet
    ("development", 4242, None, False),  # no consortium configured
    ("development", 4242, 1337, False),
])
def test_funding_only_on_local_development_chains(environment: str, chain_id: int, consortium: int | None,
                                                  allowed: bool) -> None:
    refusal = funding_refusal(environment, chain_id, consortium)
    assert (refusal is None) == allowed, refusal
    if refusal:
        assert str(chain_id) in refusal or environment in refusal
