"""RoyaltySplitter: receiving, distributing with an exact remainder rule, pulling ETH and ERC-20."""

from __future__ import annotations

import pytest

from tests.contracts.revert_checks import events, one_event, reverts_with
from tests.contracts.royalty_support import ETH, ascending, balance, make_splitter

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]


@pytest.fixture(scope="module")
def implementation(ape_project, deployer):
    return ape_project.RoyaltySplitter.deploy(sender=deployer)


@pytest.fixture(scope="module")
def factory(ape_project, deployer, implementation):
    return ape_project.SplitterFactory.deploy(implementation, sender=deployer)


@pytest.fixture(scope="module")
def three(ape_project, factory, creator, collector, operator, deployer):
    """creator 30% (rights holder), collector 40% (issuer), operator 30% (channel)."""
    tx = factory.createThreeWaySplit(creator, collector, operator, b"\x03" * 32, sender=deployer)
    return ape_project.RoyaltySplitter.at(tx.return_value)


@pytest.fixture(scope="module")
def token(ape_project, deployer):
    return ape_project.TestLyingERC20.deploy(sender=deployer)


def shares(splitter):
    accounts, bps = splitter.recipients()
    return list(accounts), list(bps)


def test_receiving_eth_emits_payment_received(three, stranger):
    tx = stranger.transfer(three, 12_345)
    received = one_event(tx, "PaymentReceived")
    assert received.amount == 12_345 and received.__getattr__("from") == stranger.address
    assert balance(three) == 12_345
    assert three.undistributed(ETH) == 12_345


def test_distribute_credits_floor_shares_and_gives_the_remainder_to_the_first_recipient(three, stranger):
    stranger.transfer(three, 10_007)
    accounts, bps = shares(three)
    tx = three.distribute(ETH, sender=stranger)
    distributed = one_event(tx, "Distributed")
    assert (distributed.token, distributed.amount, distributed.by) == (ETH, 10_007, stranger.address)
    expected = [10_007 * b // 10_000 for b in bps]
    expected[0] += 10_007 - sum(expected)
    assert [three.withdrawable(ETH, a) for a in accounts] == expected
    assert sum(expected) == 10_007
    assert three.undistributed(ETH) == 0


def test_withdrawable_before_distribution_equals_what_distribution_would_credit(three, stranger):
    stranger.transfer(three, 999)
    accounts, _ = shares(three)
    before = [three.withdrawable(ETH, a) for a in accounts]
    three.distribute(ETH, sender=stranger)
    assert [three.withdrawable(ETH, a) for a in accounts] == before
    assert sum(before) == 999


def test_a_recipient_withdraws_its_share_and_the_event_names_it(three, creator, stranger):
    stranger.transfer(three, 10**18)
    before = balance(creator)
    tx = three.withdraw(ETH, sender=creator)
    withdrawn = one_event(tx, "Withdrawn")
    share = 3 * 10**17
    assert (withdrawn.recipient, withdrawn.token, withdrawn.amount, withdrawn.to) == (
        creator.address, ETH, share, creator.address)
    assert tx.return_value == share
    assert balance(creator) == before + share - tx.total_fees_paid
    assert three.withdrawable(ETH, creator) == 0


def test_withdraw_distributes_what_is_undistributed_first(three, collector, stranger):
    stranger.transfer(three, 1000)
    tx = three.withdraw(ETH, sender=collector)
    assert one_event(tx, "Distributed").amount == 1000
    assert one_event(tx, "Withdrawn").amount == 400


def test_withdraw_for_is_permissionless_and_pays_the_recipient_only(three, operator, stranger):
    stranger.transfer(three, 10_000)
    before = balance(operator)
    tx = three.withdrawFor(ETH, operator, sender=stranger)
    assert balance(operator) == before + 3000
    assert one_event(tx, "Withdrawn").to == operator.address


def test_withdraw_to_pays_another_address(three, creator, stranger):
    stranger.transfer(three, 10_000)
    before = balance(stranger)
    tx = three.withdrawTo(ETH, stranger, sender=creator)
    assert balance(stranger) == before + 3000
    withdrawn = one_event(tx, "Withdrawn")
    assert (withdrawn.recipient, withdrawn.to) == (creator.address, stranger.address)


def test_withdraw_to_the_zero_address_reverts(three, creator, stranger):
    stranger.transfer(three, 10_000)
    with reverts_with(three.SplitterPayeeZero):
        three.withdrawTo(ETH, ETH, sender=creator)


def test_a_stranger_cannot_withdraw(three, stranger):
    stranger.transfer(three, 10_000)
    with reverts_with(three.SplitterNotRecipient, account=stranger):
        three.withdraw(ETH, sender=stranger)
    with reverts_with(three.SplitterNotRecipient, account=stranger):
        three.withdrawFor(ETH, stranger, sender=stranger)


def test_withdrawing_nothing_reverts(three, creator):
    with reverts_with(three.SplitterNothingToWithdraw, account=creator, token=ETH):
        three.withdraw(ETH, sender=creator)


def test_distributing_nothing_reverts(three, stranger):
    with reverts_with(three.SplitterNothingToDistribute, token=ETH):
        three.distribute(ETH, sender=stranger)


def test_the_implementation_itself_refuses_every_call(implementation, stranger):
    with reverts_with(implementation.SplitterNotAClone):
        implementation.distribute(ETH, sender=stranger)
    with reverts_with(implementation.SplitterNotAClone):
        implementation.withdraw(ETH, sender=stranger)
    with reverts_with(implementation.SplitterNotAClone):
        stranger.transfer(implementation, 1)


def test_share_of_and_recipients_describe_the_split(three, creator, collector, operator, stranger):
    accounts, bps = shares(three)
    assert accounts == ascending(creator, collector, operator)
    assert sum(bps) == 10_000
    assert three.shareOf(collector) == 4000 and three.shareOf(stranger) == 0
    assert three.withdrawable(ETH, stranger) == 0


def test_every_wei_received_is_withdrawn_or_withdrawable(three, creator, collector, operator, stranger):
    """received == sum(withdrawn) + sum(withdrawable), to the wei, through several rounds."""
    received = 0
    withdrawn = 0
    for amount in (1, 7, 10_001, 33_333, 2, 10**18 + 3):
        stranger.transfer(three, amount)
        received += amount
        for recipient in (creator, operator):
            if three.withdrawable(ETH, recipient) > 0:
                withdrawn += three.withdrawFor(ETH, recipient, sender=stranger).return_value
        withdrawable = sum(three.withdrawable(ETH, a) for a in (creator, collector, operator))
        assert withdrawn + withdrawable == received
        assert withdrawable == balance(three)
    for recipient in (creator, collector, operator):
        if three.withdrawable(ETH, recipient) > 0:
            withdrawn += three.withdrawFor(ETH, recipient, sender=stranger).return_value
    assert withdrawn == received and balance(three) == 0


def test_erc20_payments_are_split_and_pulled_with_the_token_in_the_event(three, token, creator, collector, stranger):
    token.mint(three, 10_001, sender=stranger)
    assert three.undistributed(token) == 10_001
    assert ascending(creator, collector)[0] == collector.address  # the first recipient takes the remainder
    tx = three.withdraw(token, sender=collector)
    withdrawn = one_event(tx, "Withdrawn")
    assert (withdrawn.token, withdrawn.amount) == (token.address, 4001)
    assert token.balanceOf(collector) == 4001
    assert three.withdrawable(token, creator) == 3000 and three.withdrawable(token, collector) == 0
    assert events(tx, "Distributed")[0].token == token.address


def test_eth_and_tokens_are_accounted_separately(three, token, creator, stranger):
    stranger.transfer(three, 10_000)
    token.mint(three, 20_000, sender=stranger)
    three.withdraw(ETH, sender=creator)
    assert three.withdrawable(token, creator) == 6000
    assert three.withdrawable(ETH, creator) == 0


def test_uneven_split_with_tiny_shares_still_accounts_every_wei(ape_project, factory, creator, collector, operator,
                                                                 stranger):
    recipients = ascending(creator, collector, operator)
    splitter = make_splitter(ape_project, factory, recipients, [1, 9998, 1], b"\x44" * 32, stranger)
    stranger.transfer(splitter, 9_999)
    got = [splitter.withdrawable(ETH, r) for r in recipients]
    assert got == [9_999 - 9_997, 9_997, 0]  # floor(9999*9998/1e4)=9997, floor(9999/1e4)=0
    assert sum(got) == 9_999
