"""SplitterFactory: validated splits, deterministic clone addresses, the three-level preset."""

from __future__ import annotations

import ape
import pytest

from tests.contracts.revert_checks import call_reverts_with, events, one_event, reverts_with

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

SALT = b"\x11" * 32


def ascending(*accounts):
    return sorted((a.address for a in accounts), key=lambda a: int(a, 16))


@pytest.fixture(scope="module")
def implementation(ape_project, deployer):
    return ape_project.RoyaltySplitter.deploy(sender=deployer)


@pytest.fixture(scope="module")
def factory(ape_project, deployer, implementation):
    return ape_project.SplitterFactory.deploy(implementation, sender=deployer)


def test_created_splitter_sits_at_the_predicted_address(factory, ape_project, creator, collector, stranger):
    recipients = ascending(creator, collector)
    predicted = factory.predictSplitterAddress(recipients, [2500, 7500], SALT)
    assert len(ape.chain.provider.get_code(predicted)) == 0
    tx = factory.createSplitter(recipients, [2500, 7500], SALT, sender=stranger)
    assert tx.return_value == predicted
    created = one_event(tx, "SplitterCreated")
    assert created.splitter == predicted
    assert created.creator == stranger.address
    assert bytes(created.salt) == SALT
    assert list(created.recipients) == recipients
    assert list(created.bps) == [2500, 7500]
    splitter = ape_project.RoyaltySplitter.at(predicted)
    accounts, bps = splitter.recipients()
    assert list(accounts) == recipients and list(bps) == [2500, 7500]


def test_creating_an_existing_split_returns_it_without_deploying_again(factory, creator, collector, stranger):
    recipients = ascending(creator, collector)
    first = factory.createSplitter(recipients, [5000, 5000], SALT, sender=creator)
    again = factory.createSplitter(recipients, [5000, 5000], SALT, sender=stranger)
    assert again.return_value == first.return_value
    assert events(again, "SplitterCreated") == []


def test_address_depends_on_split_and_salt_not_on_the_caller(factory, creator, collector, operator):
    recipients = ascending(creator, collector)
    base = factory.predictSplitterAddress(recipients, [5000, 5000], SALT)
    assert factory.predictSplitterAddress(recipients, [5000, 5000], SALT, sender=operator) == base
    assert factory.predictSplitterAddress(recipients, [4000, 6000], SALT) != base
    assert factory.predictSplitterAddress(recipients, [5000, 5000], b"\x12" * 32) != base
    assert factory.predictSplitterAddress(ascending(creator, operator), [5000, 5000], SALT) != base


def test_three_way_split_is_30_40_30_sorted_by_address(factory, ape_project, creator, collector, operator):
    holder, issuer, channel = operator, creator, collector
    recipients, bps = factory.threeWaySplit(holder, issuer, channel)
    expected = {holder.address: 3000, issuer.address: 4000, channel.address: 3000}
    assert list(recipients) == ascending(holder, issuer, channel)
    assert dict(zip(recipients, bps, strict=True)) == expected
    tx = factory.createThreeWaySplit(holder, issuer, channel, SALT, sender=creator)
    assert tx.return_value == factory.predictThreeWaySplitAddress(holder, issuer, channel, SALT)
    assert tx.return_value == factory.predictSplitterAddress(recipients, bps, SALT)
    splitter = ape_project.RoyaltySplitter.at(tx.return_value)
    assert splitter.shareOf(issuer) == 4000 and splitter.shareOf(holder) == 3000


def test_three_way_split_merges_roles_held_by_one_address(factory, creator, collector):
    recipients, bps = factory.threeWaySplit(creator, creator, collector)
    assert dict(zip(recipients, bps, strict=True)) == {creator.address: 7000, collector.address: 3000}
    recipients, bps = factory.threeWaySplit(creator, creator, creator)
    assert list(recipients) == [creator.address] and list(bps) == [10_000]


def test_a_single_recipient_split_is_valid(factory, ape_project, creator, stranger):
    tx = factory.createSplitter([creator.address], [10_000], SALT, sender=stranger)
    splitter = ape_project.RoyaltySplitter.at(tx.return_value)
    stranger.transfer(splitter, 12345)
    splitter.withdrawFor("0x" + "00" * 20, creator, sender=stranger)
    assert ape.chain.provider.get_balance(splitter.address) == 0


def test_three_way_split_with_a_zero_role_reverts(factory, creator, collector):
    zero = "0x" + "00" * 20
    with reverts_with(factory.SplitRecipientZero, index=0):
        factory.createThreeWaySplit(creator, zero, collector, SALT, sender=creator)


@pytest.mark.parametrize(
    ("recipients", "bps", "error", "inputs"),
    [
        ("none", [], "SplitNoRecipients", {}),
        ("two", [10_000], "SplitLengthMismatch", {"recipients": 2, "shares": 1}),
        ("zero_first", [5000, 5000], "SplitRecipientZero", {"index": 0}),
        ("descending", [5000, 5000], "SplitRecipientsNotAscending", {"index": 1}),
        ("duplicate", [5000, 5000], "SplitRecipientsNotAscending", {"index": 1}),
        ("two", [10_000, 0], "SplitShareZero", {"index": 1}),
        ("two", [5000, 4999], "SplitSharesTotalWrong", {"total": 9999}),
        ("two", [5000, 5001], "SplitSharesTotalWrong", {"total": 10_001}),
    ],
)
def test_invalid_splits_revert_on_create_and_predict(factory, creator, collector, recipients, bps, error, inputs):
    a, b = ascending(creator, collector)
    lists = {"none": [], "two": [a, b], "zero_first": ["0x" + "00" * 20, a], "descending": [b, a],
             "duplicate": [a, a]}
    with reverts_with(getattr(factory, error), **inputs):
        factory.createSplitter(lists[recipients], bps, SALT, sender=creator)
    call_reverts_with(factory, "predictSplitterAddress", lists[recipients], bps, SALT, error=error, **inputs)


def test_more_than_the_maximum_recipients_reverts(factory, creator):
    n = factory.MAX_RECIPIENTS() + 1
    recipients = [f"0x{i:040x}" for i in range(1, n + 1)]
    bps = [1] * n
    with reverts_with(factory.SplitTooManyRecipients, count=n, max=n - 1):
        factory.createSplitter(recipients, bps, SALT, sender=creator)


def test_factory_refuses_an_implementation_without_code(ape_project, deployer, stranger):
    with reverts_with("SplitterFactoryImplementationHasNoCode", implementation=stranger.address):
        ape_project.SplitterFactory.deploy(stranger.address, sender=deployer)


def test_strict_revert_check_rejects_wrong_inputs_and_wrong_errors(factory, creator, collector):
    a, b = ascending(creator, collector)
    with pytest.raises(AssertionError, match="inputs"), \
            reverts_with(factory.SplitSharesTotalWrong, total=1):
        factory.createSplitter([a, b], [1, 2], SALT, sender=creator)
    with pytest.raises(AssertionError, match="expected SplitShareZero"), \
            reverts_with(factory.SplitShareZero, index=0):
        factory.createSplitter([a, b], [1, 2], SALT, sender=creator)
    with pytest.raises(pytest.fail.Exception), reverts_with(factory.SplitShareZero, index=0):
        factory.createSplitter([a, b], [5000, 5000], SALT, sender=creator)
