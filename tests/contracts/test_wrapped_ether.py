"""WrappedEther, the offers' currency: wrapping and unwrapping keep supply == ETH held; allowances
are spent exactly (unlimited ones never); every refusal names what is short."""

from __future__ import annotations

import ape
import pytest

from tests.contracts.revert_checks import one_event, reverts_with

pytestmark = pytest.mark.contracts

ONE = 10**18
MAX = 2**256 - 1


@pytest.fixture(autouse=True)
def isolated(home_ape):
    snap = ape.chain.snapshot()
    yield
    ape.chain.restore(snap)


@pytest.fixture(scope="module")
def weth(ape_project, deployer):
    return ape_project.WrappedEther.deploy(sender=deployer)


def test_wrap_and_unwrap_keep_supply_equal_to_the_eth_held(weth, collector, stranger):
    tx = weth.deposit(sender=collector, value=3 * ONE)
    assert one_event(tx, "Deposited").amount == 3 * ONE
    collector.transfer(weth.address, ONE)  # plain ETH wraps too
    assert weth.balanceOf(collector) == 4 * ONE
    assert weth.totalSupply() == ape.chain.provider.get_balance(weth.address) == 4 * ONE
    before = stranger.balance
    tx = weth.withdrawTo(stranger, ONE, sender=collector)
    assert one_event(tx, "Withdrawn").to == stranger.address
    assert stranger.balance - before == ONE
    weth.withdraw(3 * ONE, sender=collector)
    assert weth.balanceOf(collector) == 0 and weth.totalSupply() == 0
    assert (weth.name(), weth.symbol(), weth.decimals()) == ("Wrapped Ether", "WETH", 18)


def test_unwrapping_more_than_held_is_refused(weth, collector):
    weth.deposit(sender=collector, value=ONE)
    with reverts_with("WrappedEtherBalanceTooLow", account=collector.address, balance=ONE, needed=ONE + 1):
        weth.withdraw(ONE + 1, sender=collector)


def test_transfer_from_spends_the_allowance_exactly_and_refuses_beyond_it(weth, collector, creator, operator):
    weth.deposit(sender=collector, value=2 * ONE)
    with reverts_with("WrappedEtherAllowanceTooLow", owner=collector.address, spender=operator.address,
                      allowance=0, needed=ONE):
        weth.transferFrom(collector, creator, ONE, sender=operator)
    weth.approve(operator, ONE, sender=collector)
    weth.transferFrom(collector, creator, ONE // 2, sender=operator)
    assert weth.allowance(collector, operator) == ONE // 2
    with reverts_with("WrappedEtherAllowanceTooLow", owner=collector.address, spender=operator.address,
                      allowance=ONE // 2, needed=ONE):
        weth.transferFrom(collector, creator, ONE, sender=operator)
    weth.approve(operator, MAX, sender=collector)
    weth.transferFrom(collector, creator, ONE, sender=operator)
    assert weth.allowance(collector, operator) == MAX  # an unlimited allowance is never spent down
    with reverts_with("WrappedEtherBalanceTooLow", account=collector.address, balance=ONE // 2, needed=ONE):
        weth.transferFrom(collector, creator, ONE, sender=operator)


def test_tokens_cannot_be_sent_where_they_would_be_locked(weth, collector):
    weth.deposit(sender=collector, value=ONE)
    for to in ("0x" + "00" * 20, weth.address):
        with reverts_with("WrappedEtherRecipientInvalid", to=to):
            weth.transfer(to, 1, sender=collector)
    with reverts_with("WrappedEtherRecipientInvalid", to="0x" + "00" * 20):
        weth.withdrawTo("0x" + "00" * 20, 1, sender=collector)
