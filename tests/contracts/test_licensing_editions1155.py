"""Licensing an ERC-1155 work (an `Editions1155` edition): many holders share one id, so the licensor is
the collection's owner (the creator who issued the work), and the fee goes to the edition's ERC-2981
receiver, here a three-way splitter."""

from __future__ import annotations

import pytest

from tests.contracts import issuance_support
from tests.contracts.issuance_support import work
from tests.contracts.revert_checks import one_event, reverts_with
from tests.contracts.royalty_support import (
    USAGE_ANY,
    USAGE_COMMERCIAL,
    balance,
    offer,
    terms,
    three_way_splitter,
)

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

# Shared fixtures (defined in issuance_support).
stack = issuance_support.stack

FEE = 10**15
WORK = 1


@pytest.fixture(scope="module")
def licensing(ape_project, deployer):
    return ape_project.Licensing.deploy(sender=deployer)


@pytest.fixture(scope="module")
def splitter(ape_project, deployer, creator, operator):
    return three_way_splitter(ape_project, deployer, creator, operator, b"\x31" * 32)


@pytest.fixture
def editions(stack, creator, collector, splitter):
    """Editions owned by creator, paying royalties to the splitter; 10 copies of work 1 held by collector."""
    editions = stack.editions(creator, "licensed")
    editions.setDefaultRoyalty(splitter, 1_000, sender=creator)
    w = work("licensed-edition")
    editions.mintWork(collector, 10, w.content_hash, w.cid_bytes, sender=creator)
    return editions


def test_the_collection_owner_licenses_an_edition_and_a_buyer_pays_its_splitter(licensing, editions, splitter,
                                                                               creator, stranger):
    h = offer(licensing, editions, WORK, terms(fee=FEE), creator)
    assert licensing.isAttached(editions, WORK, h)
    before = balance(splitter)
    tx = licensing.buyLicense(editions, WORK, h, value=FEE, sender=stranger)
    granted = one_event(tx, "LicenseGranted")
    assert (granted.licensee, granted.collection, granted.tokenId) == (stranger.address, editions.address, WORK)
    paid = one_event(tx, "LicenseFeePaid")
    assert (paid.receiver, paid.amount) == (splitter.address, FEE)
    assert balance(splitter) - before == FEE
    assert licensing.isLicensed(stranger, editions, WORK, USAGE_COMMERCIAL)


def test_a_holder_of_copies_is_not_the_licensor(licensing, editions, creator, collector):
    licensing.publishTerms(terms(), sender=collector)
    h = licensing.hashTerms(terms())
    with reverts_with(licensing.LicenseNotWorkOwner, collection=editions, tokenId=WORK, caller=collector):
        licensing.attachTerms(editions, WORK, h, sender=collector)
    tx = licensing.attachTerms(editions, WORK, h, sender=creator)
    assert one_event(tx, "LicenseTermsAttached").licensor == creator.address


def test_an_id_the_editions_never_minted_is_unknown(licensing, editions, creator):
    licensing.publishTerms(terms(), sender=creator)
    with reverts_with(licensing.LicenseWorkUnknown, collection=editions, tokenId=2):
        licensing.attachTerms(editions, 2, licensing.hashTerms(terms()), sender=creator)


def test_the_licensor_follows_the_collection_owner(licensing, editions, creator, collector, operator):
    h = offer(licensing, editions, WORK, terms(revocable=True), creator)
    grant_id = licensing.buyLicense(editions, WORK, h, value=FEE, sender=collector).return_value
    editions.transferOwnership(operator, sender=creator)
    with reverts_with(licensing.LicenseNotWorkOwner, collection=editions, tokenId=WORK, caller=creator):
        licensing.revokeLicense(grant_id, sender=creator)
    tx = licensing.revokeLicense(grant_id, sender=operator)
    assert one_event(tx, "LicenseRevoked").licensor == operator.address
    assert not licensing.isLicensed(collector, editions, WORK, USAGE_ANY)
