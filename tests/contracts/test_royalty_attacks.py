"""Attacks on RoyaltySplitter: recipients that refuse ETH or re-enter, and tokens that lie."""

from __future__ import annotations

import ape
import pytest
from eth_utils import keccak

from tests.contracts.revert_checks import one_event, reverts_with
from tests.contracts.royalty_support import ETH, ascending, balance, make_splitter

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

REENTRANCY_SELECTOR = keccak(text="ReentrancyGuardReentrantCall()")[:4]


@pytest.fixture(scope="module")
def factory(ape_project, deployer):
    implementation = ape_project.RoyaltySplitter.deploy(sender=deployer)
    return ape_project.SplitterFactory.deploy(implementation, sender=deployer)


@pytest.fixture
def token(ape_project, deployer):
    return ape_project.TestLyingERC20.deploy(sender=deployer)


def split_with(ape_project, factory, special, creator, collector, sender):
    """A split of `special` 50%, creator 25%, collector 25% (in ascending order)."""
    recipients = ascending(special, creator, collector)
    bps = [5000 if r == special.address else 2500 for r in recipients]
    return make_splitter(ape_project, factory, recipients, bps, b"\x5a" * 32, sender)


# ---------------------------------------------------------------- recipients that refuse ETH


def test_a_recipient_that_reverts_on_receive_blocks_nobody_else(ape_project, factory, deployer, creator, collector,
                                                                  stranger):
    rejecting = ape_project.TestRejectingReceiver.deploy(sender=deployer)
    splitter = split_with(ape_project, factory, rejecting, creator, collector, deployer)
    stranger.transfer(splitter, 10_000)
    with reverts_with(splitter.SplitterEthTransferFailed, to=rejecting, amount=5000):
        splitter.withdrawFor(ETH, rejecting, sender=stranger)
    before = balance(creator), balance(collector)
    splitter.withdrawFor(ETH, creator, sender=stranger)
    splitter.withdrawFor(ETH, collector, sender=stranger)
    assert (balance(creator), balance(collector)) == (before[0] + 2500, before[1] + 2500)
    assert splitter.withdrawable(ETH, rejecting) == 5000  # still credited, nothing lost


def test_a_recipient_that_cannot_take_eth_withdraws_to_another_address(ape_project, factory, deployer, creator,
                                                                       collector, stranger):
    rejecting = ape_project.TestRejectingReceiver.deploy(sender=deployer)
    splitter = split_with(ape_project, factory, rejecting, creator, collector, deployer)
    stranger.transfer(splitter, 10_000)
    before = balance(stranger)
    tx = rejecting.forward(splitter, splitter.withdrawTo.encode_input(ETH, stranger.address), sender=deployer)
    assert balance(stranger) == before + 5000
    withdrawn = [log for log in tx.events if log.event_name == "Withdrawn"]
    assert len(withdrawn) == 1 and withdrawn[0].recipient == rejecting.address


def test_a_gas_burning_recipient_blocks_nobody_else(ape_project, factory, deployer, creator, collector, stranger):
    burner = ape_project.TestRejectingReceiver.deploy(sender=deployer)
    burner.setBurnGas(True, sender=deployer)
    splitter = split_with(ape_project, factory, burner, creator, collector, deployer)
    stranger.transfer(splitter, 10_000)
    with ape.reverts():
        splitter.withdrawFor(ETH, burner, sender=stranger, gas=1_000_000)
    splitter.withdrawFor(ETH, creator, sender=stranger)
    splitter.withdrawFor(ETH, collector, sender=stranger)
    assert splitter.withdrawable(ETH, burner) == 5000 == balance(splitter)


# ---------------------------------------------------------------- re-entrancy


@pytest.mark.parametrize("reentry", ["withdraw", "distribute", "withdrawFor"])
def test_a_reentering_recipient_gets_exactly_its_share(ape_project, factory, deployer, creator, collector, stranger,
                                                       reentry):
    attacker = ape_project.TestReentrantReceiver.deploy(sender=deployer)
    splitter = split_with(ape_project, factory, attacker, creator, collector, deployer)
    payloads = {
        "withdraw": splitter.withdraw.encode_input(ETH),
        "distribute": splitter.distribute.encode_input(ETH),
        "withdrawFor": splitter.withdrawFor.encode_input(ETH, creator.address),
    }
    attacker.arm(splitter, payloads[reentry], False, True, sender=deployer)
    stranger.transfer(splitter, 10_000)
    attacker.forward(splitter, splitter.withdraw.encode_input(ETH), sender=deployer)
    assert attacker.reentryOutcome() == 2  # the re-entry was refused
    assert bytes(attacker.lastRevertData())[:4] == REENTRANCY_SELECTOR
    assert balance(attacker) == 5000
    assert splitter.withdrawable(ETH, creator) == 2500 and splitter.withdrawable(ETH, collector) == 2500
    assert balance(splitter) == 5000


# ---------------------------------------------------------------- tokens that lie


def test_an_inflated_token_balance_never_makes_the_splitter_pay_more_than_it_holds(
        ape_project, factory, token, deployer, creator, collector, operator, stranger):
    splitter = split_with(ape_project, factory, operator, creator, collector, deployer)
    token.mint(splitter, 10_000, sender=stranger)
    token.setLie(splitter, 6_000, sender=stranger)  # reports 16,000, holds 10,000
    assert splitter.undistributed(token) == 16_000
    paid = 0
    for recipient in ascending(operator, creator, collector):
        try:
            paid += splitter.withdrawFor(token, recipient, sender=stranger).return_value
        except ape.exceptions.ContractLogicError:
            pass  # the token cannot pay what it does not hold
    really_paid = sum(token.realBalanceOf(a) for a in (operator, creator, collector))
    assert really_paid == paid
    assert really_paid <= 10_000
    assert token.realBalanceOf(splitter) == 10_000 - really_paid


def test_a_shrinking_token_balance_stops_payouts_instead_of_overpaying(ape_project, factory, token, deployer, creator,
                                                                        collector, operator, stranger):
    splitter = split_with(ape_project, factory, operator, creator, collector, deployer)
    token.mint(splitter, 10_000, sender=stranger)
    token.setLie(splitter, 10_000, sender=stranger)
    splitter.distribute(token, sender=stranger)  # credits 20,000: 10,000 operator, 5,000 + 5,000
    token.setLie(splitter, 0, sender=stranger)  # the balance now reads 10,000
    splitter.withdrawFor(token, operator, sender=stranger)  # 10,000 <= 10,000: takes every real token
    with reverts_with(splitter.SplitterTokenBalanceTooLow, token=token, amount=5_000, held=0):
        splitter.withdrawFor(token, creator, sender=stranger)  # refused, not paid from nowhere
    assert token.realBalanceOf(operator) == 10_000 and token.realBalanceOf(creator) == 0


def test_a_balance_below_the_credits_means_nothing_to_distribute_not_an_underflow(
        ape_project, factory, token, deployer, creator, collector, operator, stranger):
    splitter = split_with(ape_project, factory, operator, creator, collector, deployer)
    token.mint(splitter, 10_000, sender=stranger)
    token.setLie(splitter, 10_000, sender=stranger)
    splitter.distribute(token, sender=stranger)
    token.setLie(splitter, 0, sender=stranger)
    assert splitter.undistributed(token) == 0
    with reverts_with(splitter.SplitterNothingToDistribute, token=token):
        splitter.distribute(token, sender=stranger)


def test_a_token_that_takes_more_than_the_payout_is_refused(ape_project, factory, token, deployer, creator, collector,
                                                            operator, stranger):
    splitter = split_with(ape_project, factory, operator, creator, collector, deployer)
    token.mint(splitter, 10_000, sender=stranger)
    token.setSkim(7, sender=stranger)
    with reverts_with(splitter.SplitterTokenMisbehaved, token=token, amount=5000, taken=5007):
        splitter.withdrawFor(token, operator, sender=stranger)


def test_a_token_whose_transfer_returns_false_is_refused(ape_project, factory, token, deployer, creator, collector,
                                                         operator, stranger):
    splitter = split_with(ape_project, factory, operator, creator, collector, deployer)
    token.mint(splitter, 10_000, sender=stranger)
    token.setReturnFalse(True, sender=stranger)
    with reverts_with("SafeERC20FailedOperation", token=token):
        splitter.withdrawFor(token, operator, sender=stranger)
    assert splitter.withdrawable(token, operator) == 5000


def test_fee_on_transfer_tokens_split_what_arrived_and_recipients_bear_outgoing_fees(
        ape_project, factory, token, deployer, creator, collector, operator, stranger):
    splitter = split_with(ape_project, factory, operator, creator, collector, deployer)
    token.mint(stranger, 10_000, sender=stranger)
    token.setFeeBps(100, sender=stranger)  # 1%
    token.transfer(splitter, 10_000, sender=stranger)
    assert token.balanceOf(splitter) == 9_900
    assert splitter.undistributed(token) == 9_900
    tx = splitter.withdrawFor(token, operator, sender=stranger)
    assert one_event(tx, "Withdrawn").amount == 4_950
    assert token.balanceOf(operator) == 4_950 - 49  # the token's fee on the way out
    remaining = splitter.withdrawable(token, creator) + splitter.withdrawable(token, collector)
    assert remaining == token.balanceOf(splitter) == 4_950
