"""Sentences and formats the trading routes answer with: escrow states named as the contract
numbers them, wrapped-ETH refusals that say what to do, amounts in ETH and wei."""

from __future__ import annotations

import pytest

from api.trading import amount, iso
from chain.reverts import explain

pytestmark = pytest.mark.unit

STATE_INPUTS = [{"name": "escrowId", "type": "uint256"}, {"name": "index", "type": "uint256"},
                {"name": "state", "type": "uint8"}]


@pytest.mark.parametrize(("state", "word"), [(1, "funded"), (2, "delivered"), (3, "disputed"),
                                             (4, "released"), (5, "refunded"), (6, "resolved")])
def test_milestone_states_read_as_the_contract_numbers_them(state, word):
    """IMilestoneEscrow.MilestoneState: None, Funded, Delivered, Disputed, Released, Refunded, Resolved."""
    sentence = explain("MilestoneStateInvalid", (7, 0, state), STATE_INPUTS)
    assert f"is {word}," in sentence


def test_wrapped_ether_refusals_say_what_is_short_and_what_to_do():
    inputs = [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"},
              {"name": "allowance", "type": "uint256"}, {"name": "needed", "type": "uint256"}]
    sentence = explain("WrappedEtherAllowanceTooLow", ("0x" + "11" * 20, "0x" + "22" * 20, 0, 10**18), inputs)
    assert "1 ETH (1000000000000000000 wei)" in sentence and "approve the marketplace" in sentence


def test_amounts_carry_eth_and_exact_wei_and_times_are_iso():
    a = amount(1_500_000_000_000_000_000)
    assert (a.eth, a.wei) == ("1.5", "1500000000000000000")
    assert a.text == "1.5 ETH (1500000000000000000 wei)"
    assert amount(0).eth == "0" and amount(2**200).wei == str(2**200)
    assert iso(0) is None and iso(1_800_000_000) == "2027-01-15T08:00:00Z"
