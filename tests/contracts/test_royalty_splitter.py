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
def three_way_split(ape_project, factory, rights_holder, issuer, channel, deployer):
    """The preset three-way split: rights holder 30%, issuer 40%, channel 30%, three distinct accounts."""
    tx = factory.createThreeWaySplit(rights_holder, issuer, channel, b"\x03" * 32, sender=deployer)
    return ape_project.RoyaltySplitter.at(tx.return_value)


@pytest.fixture(scope="module")
def token(ape_project, deployer):
    return ape_project.TestLyingERC20.deploy(sender=deployer)


def shares(splitter):
    accounts, bps = splitter.recipients()
    return list(accounts), list(bps)


def test_receiving_eth_emits_payment_received(three_way_split, stranger):
    tx = stranger.transfer(three_way_split, 12_345)
    received = one_event(tx, "PaymentReceived")
    assert received.amount == 12_345 and received.__getattr__("from") == stranger.address
    assert balance(three_way_split) == 12_345
    assert three_way_split.undistributed(ETH) == 12_345


def test_distribute_credits_floor_shares_and_gives_the_remainder_to_the_first_recipient(three_way_split, stranger):
    stranger.transfer(three_way_split, 10_007)
    accounts, bps = shares(three_way_split)
    tx = three_way_split.distribute(ETH, sender=stranger)
    distributed = one_event(tx, "Distributed")
    assert (distributed.token, distributed.amount, distributed.by) == (ETH, 10_007, stranger.address)
    expected = [10_007 * b // 10_000 for b in bps]
    expected[0] += 10_007 - sum(expected)
    assert [three_way_split.withdrawable(ETH, a) for a in accounts] == expected
    assert sum(expected) == 10_007
    assert three_way_split.undistributed(ETH) == 0


def test_withdrawable_before_distribution_equals_what_distribution_would_credit(three_way_split, stranger):
    stranger.transfer(three_way_split, 999)
    accounts, _ = shares(three_way_split)
    before = [three_way_split.withdrawable(ETH, a) for a in accounts]
    three_way_split.distribute(ETH, sender=stranger)
    assert [three_way_split.withdrawable(ETH, a) for a in accounts] == before
    assert sum(before) == 999


def test_a_recipient_withdraws_its_share_and_the_event_names_it(three_way_split, rights_holder, stranger):
    stranger.transfer(three_way_split, 10**18)
    before = balance(rights_holder)
    tx = three_way_split.withdraw(ETH, sender=rights_holder)
    withdrawn = one_event(tx, "Withdrawn")
    share = 3 * 10**17
    assert (withdrawn.recipient, withdrawn.token, withdrawn.amount, withdrawn.to) == (
        rights_holder.address, ETH, share, rights_holder.address)
    assert tx.return_value == share
    assert balance(rights_holder) == before + share - tx.total_fees_paid
    assert three_way_split.withdrawable(ETH, rights_holder) == 0


def test_withdraw_distributes_what_is_undistributed_first(three_way_split, issuer, stranger):
    stranger.transfer(three_way_split, 1000)
    tx = three_way_split.withdraw(ETH, sender=issuer)
    assert one_event(tx, "Distributed").amount == 1000
    assert one_event(tx, "Withdrawn").amount == 400


def test_withdraw_for_is_permissionless_and_pays_the_recipient_only(three_way_split, channel, stranger):
    stranger.transfer(three_way_split, 10_000)
    before = balance(channel)
    tx = three_way_split.withdrawFor(ETH, channel, sender=stranger)
    assert balance(channel) == before + 3000
    assert one_event(tx, "Withdrawn").to == channel.address


def test_withdraw_to_pays_another_address(three_way_split, rights_holder, stranger):
    stranger.transfer(three_way_split, 10_000)
    before = balance(stranger)
    tx = three_way_split.withdrawTo(ETH, stranger, sender=rights_holder)
    assert balance(stranger) == before + 3000
    withdrawn = one_event(tx, "Withdrawn")
    assert (withdrawn.recipient, withdrawn.to) == (rights_holder.address, stranger.address)


def test_withdraw_to_the_zero_address_reverts(three_way_split, rights_holder, stranger):
    stranger.transfer(three_way_split, 10_000)
    with reverts_with(three_way_split.SplitterPayeeZero):
        three_way_split.withdrawTo(ETH, ETH, sender=rights_holder)


def test_a_stranger_cannot_withdraw(three_way_split, stranger):
    stranger.transfer(three_way_split, 10_000)
    with reverts_with(three_way_split.SplitterNotRecipient, account=stranger):
        three_way_split.withdraw(ETH, sender=stranger)
    with reverts_with(three_way_split.SplitterNotRecipient, account=stranger):
        three_way_split.withdrawFor(ETH, stranger, sender=stranger)


def test_withdrawing_nothing_reverts(three_way_split, rights_holder):
    with reverts_with(three_way_split.SplitterNothingToWithdraw, account=rights_holder, token=ETH):
        three_way_split.withdraw(ETH, sender=rights_holder)


def test_distributing_nothing_reverts(three_way_split, stranger):
    with reverts_with(three_way_split.SplitterNothingToDistribute, token=ETH):
        three_way_split.distribute(ETH, sender=stranger)


def test_the_implementation_itself_refuses_every_call(implementation, stranger):
    with reverts_with(implementation.SplitterNotAClone):
        implementation.distribute(ETH, sender=stranger)
    with reverts_with(implementation.SplitterNotAClone):
        implementation.withdraw(ETH, sender=stranger)
    with reverts_with(implementation.SplitterNotAClone):
        stranger.transfer(implementation, 1)


def test_share_of_and_recipients_describe_the_split(three_way_split, rights_holder, issuer, channel, stranger):
    accounts, bps = shares(three_way_split)
    assert accounts == ascending(rights_holder, issuer, channel)
    assert sum(bps) == 10_000
    assert three_way_split.shareOf(issuer) == 4000 and three_way_split.shareOf(stranger) == 0
    assert three_way_split.withdrawable(ETH, stranger) == 0


def test_every_wei_received_is_withdrawn_or_withdrawable(three_way_split, rights_holder, issuer, channel, stranger):
    """received == sum(withdrawn) + sum(withdrawable), to the wei, through several rounds."""
    received = 0
    withdrawn = 0
    for amount in (1, 7, 10_001, 33_333, 2, 10**18 + 3):
        stranger.transfer(three_way_split, amount)
        received += amount
        for recipient in (rights_holder, channel):
            if three_way_split.withdrawable(ETH, recipient) > 0:
                withdrawn += three_way_split.withdrawFor(ETH, recipient, sender=stranger).return_value
        withdrawable = sum(three_way_split.withdrawable(ETH, a) for a in (rights_holder, issuer, channel))
        assert withdrawn + withdrawable == received
        assert withdrawable == balance(three_way_split)
    for recipient in (rights_holder, issuer, channel):
        if three_way_split.withdrawable(ETH, recipient) > 0:
            withdrawn += three_way_split.withdrawFor(ETH, recipient, sender=stranger).return_value
    assert withdrawn == received and balance(three_way_split) == 0


def test_erc20_payments_are_split_and_pulled_with_the_token_in_the_event(three_way_split, token, rights_holder, issuer, stranger):
    token.mint(three_way_split, 10_001, sender=stranger)
    assert three_way_split.undistributed(token) == 10_001
    assert ascending(rights_holder, issuer)[0] == issuer.address  # the first recipient takes the remainder
    tx = three_way_split.withdraw(token, sender=issuer)
    withdrawn = one_event(tx, "Withdrawn")
    assert (withdrawn.token, withdrawn.amount) == (token.address, 4001)
    assert token.balanceOf(issuer) == 4001
    assert three_way_split.withdrawable(token, rights_holder) == 3000 and three_way_split.withdrawable(token, issuer) == 0
    assert events(tx, "Distributed")[0].token == token.address


def test_eth_and_tokens_are_accounted_separately(three_way_split, token, rights_holder, stranger):
    stranger.transfer(three_way_split, 10_000)
    token.mint(three_way_split, 20_000, sender=stranger)
    three_way_split.withdraw(ETH, sender=rights_holder)
    assert three_way_split.withdrawable(token, rights_holder) == 6000
    assert three_way_split.withdrawable(ETH, rights_holder) == 0


def test_uneven_split_with_tiny_shares_still_accounts_every_wei(ape_project, factory, rights_holder, issuer, channel,
                                                                 stranger):
    recipients = ascending(rights_holder, issuer, channel)
    splitter = make_splitter(ape_project, factory, recipients, [1, 9998, 1], b"\x44" * 32, stranger)
    stranger.transfer(splitter, 9_999)
    got = [splitter.withdrawable(ETH, r) for r in recipients]
    assert got == [9_999 - 9_997, 9_997, 0]  # floor(9999*9998/1e4)=9997, floor(9999/1e4)=0
    assert sum(got) == 9_999
