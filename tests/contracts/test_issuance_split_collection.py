"""A collection whose ERC-2981 receiver is its splitter, made in one call
(`CollectionFactory.createCollectionWithSplit` through the SplitterFactory): the royalty and license fees
paid to the receiver end up, to the wei, with the split's recipients."""

from __future__ import annotations

import pytest

from tests.contracts import issuance_support
from tests.contracts.issuance_support import ZERO, one_event, reverts, salt, work
from tests.contracts.royalty_support import ETH, balance, offer, terms

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

# Shared fixtures (defined in issuance_support).
stack = issuance_support.stack

ROYALTY_BPS = 1_000


@pytest.fixture(scope="module")
def splitters(ape_project, deployer):
    implementation = ape_project.RoyaltySplitter.deploy(sender=deployer)
    return ape_project.SplitterFactory.deploy(implementation, sender=deployer)


@pytest.fixture(scope="module")
def licensing(ape_project, deployer):
    return ape_project.Licensing.deploy(sender=deployer)


@pytest.fixture(scope="module")
def roles(accounts, creator):
    """(rights holder, issuer, channel) of the three-level split."""
    return creator, accounts[3], accounts[4]


def _settings(owner, receiver=ZERO):
    return ("Split Works", "SPW", owner.address, receiver, ROYALTY_BPS, ZERO, False)


def _create(stack, splitters, roles, owner, label="split"):
    recipients, bps = splitters.threeWaySplit(*(r.address for r in roles))
    tx = stack.factory.createCollectionWithSplit(_settings(owner), splitters, recipients, bps, salt(label),
                                                 sender=owner)
    collection = stack.project.CreatorCollection.at(tx.return_value[0])
    splitter = stack.project.RoyaltySplitter.at(tx.return_value[1])
    return tx, collection, splitter, list(recipients), list(bps)


def test_one_call_makes_a_collection_paying_royalties_to_a_fresh_30_40_30_splitter(stack, splitters, roles,
                                                                                   creator):
    recipients, bps = splitters.threeWaySplit(*(r.address for r in roles))
    predicted_splitter = splitters.predictSplitterAddress(recipients, bps, salt("split"))
    predicted_collection = stack.factory.predictCollectionAddress(creator, salt("split"))
    tx, collection, splitter, _, _ = _create(stack, splitters, roles, creator)

    assert (collection.address, splitter.address) == (predicted_collection, predicted_splitter)
    created = one_event(tx, "CollectionCreated")
    assert dict(created.event_arguments) == {"collection": predicted_collection, "owner": creator.address,
                                             "deployer": creator.address, "salt": salt("split")}
    made = one_event(tx, "SplitterCreated")
    assert (made.splitter, list(made.recipients), list(made.bps)) == (predicted_splitter, list(recipients),
                                                                      list(bps))
    royalty = one_event(tx, "DefaultRoyaltyUpdated")
    assert (royalty.receiver, royalty.bps) == (predicted_splitter, ROYALTY_BPS)
    assert collection.royaltyInfo(1, 10**18) == (predicted_splitter, 10**17)
    shares = {r.address: splitter.shareOf(r) for r in roles}
    assert shares == {roles[0].address: 3_000, roles[1].address: 4_000, roles[2].address: 3_000}
    assert stack.registry.isCollection(collection) and collection.owner() == creator.address


def test_royalties_and_license_fees_paid_to_the_receiver_are_withdrawn_exactly(stack, splitters, licensing,
                                                                               roles, creator, collector,
                                                                               stranger):
    _, collection, splitter, recipients, bps = _create(stack, splitters, roles, creator)
    w = work("split-royalty")
    collection.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)
    collection.transferFrom(creator, collector, 1, sender=creator)

    sale_price = 10**18 + 7  # odd, so the split leaves a remainder
    receiver, royalty = collection.royaltyInfo(1, sale_price)
    assert receiver == splitter.address
    collector.transfer(receiver, royalty)
    fee = 10**15 + 1
    h = offer(licensing, collection, 1, terms(fee=fee), collector)  # the token's owner is the licensor
    tx = licensing.buyLicense(collection, 1, h, value=fee, sender=stranger)
    paid = one_event(tx, "LicenseFeePaid")
    assert (paid.receiver, paid.amount) == (splitter.address, fee)

    total = royalty + fee
    assert balance(splitter) == total
    splitter.distribute(ETH, sender=stranger)
    expected = [total * b // 10_000 for b in bps]
    expected[0] += total - sum(expected)  # the first recipient takes the rounding remainder
    for recipient, amount in zip(recipients, expected, strict=True):
        assert splitter.withdrawable(ETH, recipient) == amount
        before = balance(recipient)
        splitter.withdrawFor(ETH, recipient, sender=stranger)  # a third party pays the gas
        assert balance(recipient) - before == amount
    assert balance(splitter) == 0 and sum(expected) == total


def test_the_splitter_is_shared_when_it_exists_and_a_bad_split_creates_nothing(stack, splitters, roles,
                                                                               creator, accounts):
    _, _, first, recipients, bps = _create(stack, splitters, roles, creator, "one")
    # The splitter's address commits to the split and salt: another creator using both gets the same
    # splitter (no second SplitterCreated) for its own collection.
    other = accounts[5]
    tx = stack.factory.createCollectionWithSplit(_settings(other), splitters, recipients, bps, salt("one"),
                                                 sender=other)
    assert tx.return_value[1] == first.address and not tx.decode_logs(splitters.SplitterCreated)
    assert stack.project.CreatorCollection.at(tx.return_value[0]).royaltyInfo(1, 100) == (first.address, 10)
    with reverts("SplitSharesTotalWrong", 9_999):
        stack.factory.createCollectionWithSplit(_settings(creator), splitters, recipients,
                                                [bps[0] - 1, *bps[1:]], salt("bad"), sender=creator)
    assert not stack.project.provider.get_code(stack.factory.predictCollectionAddress(creator, salt("bad")))
