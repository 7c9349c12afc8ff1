"""Licensing: immutable terms, append-only attachments, grants bought through the royalty splitter."""

from __future__ import annotations

import ape
import pytest

from tests.contracts.revert_checks import call_reverts_with, events, one_event, reverts_with
from tests.contracts.royalty_support import (
    ETH,
    LEGAL_TEXT_CID,
    USAGE_ANY,
    USAGE_COMMERCIAL,
    USAGE_DERIVATIVE,
    USAGE_WITHOUT_ATTRIBUTION,
    balance,
    offer,
    terms,
    terms_hash,
    three_way_splitter,
)

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

FEE = 10**15
WORK = 1


@pytest.fixture(scope="module")
def licensing(ape_project, deployer):
    return ape_project.Licensing.deploy(sender=deployer)


@pytest.fixture(scope="module")
def splitter(ape_project, deployer, creator, operator):
    return three_way_splitter(ape_project, deployer, creator, operator, b"\x21" * 32)


@pytest.fixture(scope="module")
def work(ape_project, deployer, creator, splitter):
    """Token 1 (owned by creator) pays its royalties to a three-way splitter."""
    collection = ape_project.TestWork721.deploy(sender=deployer)
    collection.mint(creator, WORK, sender=deployer)
    collection.setTokenRoyalty(WORK, splitter, 1_000, sender=deployer)
    return collection


def now() -> int:
    return int(ape.chain.blocks.head.timestamp)


# ---------------------------------------------------------------- publishing


def test_publish_returns_the_abi_hash_and_stores_the_terms(licensing, stranger):
    t = terms(territories=(b"DE", b"FR"))
    tx = licensing.publishTerms(t, sender=stranger)
    assert bytes(tx.return_value) == terms_hash(t) == bytes(licensing.hashTerms(t))
    published = one_event(tx, "LicenseTermsPublished")
    assert bytes(published.termsHash) == terms_hash(t)
    assert published.publisher == stranger.address
    emitted = list(published.terms)  # the event's struct comes back as a list, in field order
    assert emitted[:8] == list(t[:8])
    assert [bytes(c) for c in emitted[8]] == [b"DE", b"FR"] and emitted[9] == LEGAL_TEXT_CID
    stored = licensing.termsOf(terms_hash(t))
    assert [bytes(c) for c in stored.territories] == [b"DE", b"FR"]
    assert (stored.commercialUse, stored.revocable, stored.duration, stored.derivativeRevenueShareBps) == (
        True, True, 3_600, 1_000)
    assert licensing.isPublished(terms_hash(t))


def test_terms_are_published_once(licensing, stranger, creator):
    t = terms()
    licensing.publishTerms(t, sender=stranger)
    with reverts_with(licensing.LicenseTermsAlreadyPublished, termsHash=terms_hash(t)):
        licensing.publishTerms(t, sender=creator)


@pytest.mark.parametrize(
    ("t", "error", "inputs"),
    [
        (terms(share=10_001), "LicenseTermsShareTooHigh", {"bps": 10_001}),
        (terms(territories=(b"fr",)), "LicenseTermsTerritoryInvalid", {"index": 0, "code": b"fr"}),
        (terms(territories=(b"DE", b"F1")), "LicenseTermsTerritoryInvalid", {"index": 1, "code": b"F1"}),
        (terms(territories=(b"FR", b"DE")), "LicenseTermsTerritoriesNotAscending", {"index": 1}),
        (terms(territories=(b"FR", b"FR")), "LicenseTermsTerritoriesNotAscending", {"index": 1}),
        (terms(cid=""), "LicenseTermsLegalTextMissing", {}),
    ],
)
def test_invalid_terms_are_refused(licensing, stranger, t, error, inputs):
    with reverts_with(getattr(licensing, error), **inputs):
        licensing.publishTerms(t, sender=stranger)


def test_unknown_terms_cannot_be_read(licensing):
    call_reverts_with(licensing, "termsOf", b"\x99" * 32, error="LicenseTermsUnknown", termsHash=b"\x99" * 32)


# ---------------------------------------------------------------- attaching


def test_the_owner_attaches_terms_and_the_event_names_the_licensor(licensing, work, creator):
    h = terms_hash(terms())
    licensing.publishTerms(terms(), sender=creator)
    tx = licensing.attachTerms(work, WORK, h, sender=creator)
    attached = one_event(tx, "LicenseTermsAttached")
    assert (attached.collection, attached.tokenId, bytes(attached.termsHash), attached.licensor) == (
        work.address, WORK, h, creator.address)
    assert [bytes(x) for x in licensing.attachedTerms(work, WORK)] == [h]
    assert licensing.isAttached(work, WORK, h)


def test_only_the_current_owner_attaches(licensing, work, creator, stranger):
    licensing.publishTerms(terms(), sender=stranger)
    with reverts_with(licensing.LicenseNotWorkOwner, collection=work, tokenId=WORK, caller=stranger):
        licensing.attachTerms(work, WORK, terms_hash(terms()), sender=stranger)


def test_attaching_unknown_terms_or_to_a_missing_work_reverts(licensing, work, creator, stranger):
    with reverts_with(licensing.LicenseTermsUnknown, termsHash=terms_hash(terms())):
        licensing.attachTerms(work, WORK, terms_hash(terms()), sender=creator)
    licensing.publishTerms(terms(), sender=creator)
    with reverts_with(licensing.LicenseWorkUnknown, collection=work, tokenId=99):
        licensing.attachTerms(work, 99, terms_hash(terms()), sender=creator)
    with reverts_with(licensing.LicenseWorkUnknown, collection=stranger, tokenId=WORK):
        licensing.attachTerms(stranger, WORK, terms_hash(terms()), sender=creator)


def test_the_same_terms_attach_once_per_work(licensing, work, creator):
    h = offer(licensing, work, WORK, terms(), creator)
    with reverts_with(licensing.LicenseTermsAlreadyAttached, collection=work, tokenId=WORK, termsHash=h):
        licensing.attachTerms(work, WORK, h, sender=creator)


def test_attachments_are_append_only_and_grants_keep_their_terms(licensing, work, creator, collector):
    first = offer(licensing, work, WORK, terms(), creator)
    grant_id = licensing.buyLicense(work, WORK, first, sender=collector, value=FEE).return_value
    second = offer(licensing, work, WORK, terms(fee=2 * FEE, commercial=False), creator)
    assert [bytes(x) for x in licensing.attachedTerms(work, WORK)] == [first, second]
    assert bytes(licensing.grantOf(grant_id).termsHash) == first
    assert licensing.termsOf(first).commercialUse is True
    mutators = {item.name for item in licensing.contract_type.abi if item.type == "function"
                and getattr(item, "stateMutability", "") not in ("view", "pure")}
    assert mutators == {"publishTerms", "attachTerms", "buyLicense", "revokeLicense", "transferLicense",
                        "withdrawCredit"}


# ---------------------------------------------------------------- buying


def test_buying_records_the_grant_and_pays_the_fee_into_the_splitter(licensing, work, splitter, creator, collector):
    h = offer(licensing, work, WORK, terms(duration=3_600), creator)
    before = balance(splitter)
    tx = licensing.buyLicense(work, WORK, h, sender=collector, value=FEE)
    grant_id = tx.return_value
    granted = one_event(tx, "LicenseGranted")
    start = int(ape.chain.provider.get_block(tx.block_number).timestamp)
    assert (granted.grantId, granted.licensee, granted.collection, granted.tokenId, bytes(granted.termsHash)) == (
        grant_id, collector.address, work.address, WORK, h)
    assert (granted.start, granted.expiry, granted.fee) == (start, start + 3_600, FEE)
    paid = one_event(tx, "LicenseFeePaid")
    assert (paid.grantId, paid.receiver, paid.amount) == (grant_id, splitter.address, FEE)
    assert balance(splitter) == before + FEE and balance(licensing) == 0
    grant = licensing.grantOf(grant_id)
    assert (grant.licensee, grant.collection, grant.tokenId, grant.start, grant.expiry, grant.revoked) == (
        collector.address, work.address, WORK, start, start + 3_600, False)
    assert list(licensing.grantsOf(collector, work, WORK)) == [grant_id]
    assert licensing.isLicensed(collector, work, WORK, USAGE_ANY)
    assert splitter.withdrawable(ETH, creator) == FEE * 3 // 10


def test_the_fee_must_be_exact(licensing, work, creator, collector):
    h = offer(licensing, work, WORK, terms(), creator)
    with reverts_with(licensing.LicenseFeeMismatch, expected=FEE, sent=FEE - 1):
        licensing.buyLicense(work, WORK, h, sender=collector, value=FEE - 1)
    with reverts_with(licensing.LicenseFeeMismatch, expected=FEE, sent=FEE + 1):
        licensing.buyLicense(work, WORK, h, sender=collector, value=FEE + 1)


def test_buying_unknown_or_unattached_terms_reverts(licensing, work, creator, collector, deployer):
    h = terms_hash(terms())
    with reverts_with(licensing.LicenseTermsUnknown, termsHash=h):
        licensing.buyLicense(work, WORK, h, sender=collector, value=FEE)
    work.mint(creator, 2, sender=deployer)
    offer(licensing, work, 2, terms(), creator)  # published and attached, but to work 2
    with reverts_with(licensing.LicenseTermsNotAttached, collection=work, tokenId=WORK, termsHash=h):
        licensing.buyLicense(work, WORK, h, sender=collector, value=FEE)


def test_a_burned_work_sells_no_license(licensing, work, creator, collector, deployer):
    work.mint(creator, 3, sender=deployer)
    h = offer(licensing, work, 3, terms(), creator)
    work.burn(3, sender=deployer)
    with reverts_with(licensing.LicenseWorkUnknown, collection=work, tokenId=3):
        licensing.buyLicense(work, 3, h, sender=collector, value=FEE)


@pytest.mark.parametrize("how", ["no_royalty_set", "royalty_info_reverts"])
def test_without_a_royalty_receiver_the_owner_is_paid(licensing, work, creator, collector, deployer, how):
    work.mint(creator, 4, sender=deployer)
    h = offer(licensing, work, 4, terms(), creator)
    if how == "royalty_info_reverts":
        work.setTokenRoyalty(4, deployer, 500, sender=deployer)
        work.setRoyaltyBroken(True, sender=deployer)
    before = balance(creator)
    tx = licensing.buyLicense(work, 4, h, sender=collector, value=FEE)
    assert one_event(tx, "LicenseFeePaid").receiver == creator.address
    assert balance(creator) == before + FEE


def test_a_zero_fee_license_moves_no_money(licensing, work, creator, collector):
    h = offer(licensing, work, WORK, terms(fee=0), creator)
    tx = licensing.buyLicense(work, WORK, h, sender=collector)
    assert events(tx, "LicenseFeePaid") == [] and events(tx, "LicenseFeeCredited") == []
    assert licensing.isLicensed(collector, work, WORK, USAGE_ANY)


# ---------------------------------------------------------------- what a grant allows


def test_usage_is_answered_from_the_terms(licensing, work, creator, collector):
    h = offer(licensing, work, WORK, terms(commercial=False, derivatives=True, attribution=True), creator)
    licensing.buyLicense(work, WORK, h, sender=collector, value=FEE)
    assert licensing.isLicensed(collector, work, WORK, USAGE_ANY)
    assert licensing.isLicensed(collector, work, WORK, USAGE_DERIVATIVE)
    assert not licensing.isLicensed(collector, work, WORK, USAGE_COMMERCIAL)
    assert not licensing.isLicensed(collector, work, WORK, USAGE_WITHOUT_ATTRIBUTION)
    assert not licensing.isLicensed(collector, work, WORK, USAGE_DERIVATIVE | USAGE_COMMERCIAL)


def test_a_second_grant_with_wider_terms_answers_for_the_wider_usage(licensing, work, creator, collector):
    narrow = offer(licensing, work, WORK, terms(commercial=False, attribution=True), creator)
    wide = offer(licensing, work, WORK, terms(commercial=True, attribution=False, fee=3 * FEE), creator)
    licensing.buyLicense(work, WORK, narrow, sender=collector, value=FEE)
    assert not licensing.isLicensed(collector, work, WORK, USAGE_COMMERCIAL | USAGE_WITHOUT_ATTRIBUTION)
    licensing.buyLicense(work, WORK, wide, sender=collector, value=3 * FEE)
    assert licensing.isLicensed(collector, work, WORK, USAGE_COMMERCIAL | USAGE_WITHOUT_ATTRIBUTION)


def test_nobody_else_is_licensed(licensing, work, creator, collector, stranger):
    h = offer(licensing, work, WORK, terms(), creator)
    licensing.buyLicense(work, WORK, h, sender=collector, value=FEE)
    assert not licensing.isLicensed(stranger, work, WORK, USAGE_ANY)
    assert not licensing.isLicensed(collector, work, 2, USAGE_ANY)


def test_unknown_usage_bits_revert(licensing, work, collector):
    call_reverts_with(licensing, "isLicensed", collector, work, WORK, 8, error="LicenseUsageUnknown", usage=8)


def test_territories_limit_where_the_grant_applies(licensing, work, creator, collector, stranger):
    h = offer(licensing, work, WORK, terms(territories=(b"DE", b"FR")), creator)
    licensing.buyLicense(work, WORK, h, sender=collector, value=FEE)
    assert licensing.isLicensedIn(collector, work, WORK, USAGE_ANY, b"FR")
    assert not licensing.isLicensedIn(collector, work, WORK, USAGE_ANY, b"US")
    worldwide = offer(licensing, work, WORK, terms(fee=2 * FEE), creator)
    licensing.buyLicense(work, WORK, worldwide, sender=stranger, value=2 * FEE)
    assert licensing.isLicensedIn(stranger, work, WORK, USAGE_COMMERCIAL, b"US")


# ---------------------------------------------------------------- time


def test_an_expired_grant_answers_no(licensing, work, creator, collector):
    h = offer(licensing, work, WORK, terms(duration=100), creator)
    grant_id = licensing.buyLicense(work, WORK, h, sender=collector, value=FEE).return_value
    expiry = licensing.grantOf(grant_id).expiry
    ape.chain.mine(timestamp=expiry - 1)
    assert licensing.isLicensed(collector, work, WORK, USAGE_ANY)
    ape.chain.mine(timestamp=expiry)
    assert not licensing.isLicensed(collector, work, WORK, USAGE_ANY)


def test_a_perpetual_grant_never_expires(licensing, work, creator, collector):
    h = offer(licensing, work, WORK, terms(duration=0), creator)
    grant_id = licensing.buyLicense(work, WORK, h, sender=collector, value=FEE).return_value
    assert licensing.grantOf(grant_id).expiry == 0
    ape.chain.mine(timestamp=now() + 50 * 365 * 86_400)
    assert licensing.isLicensed(collector, work, WORK, USAGE_ANY)


def test_an_overlong_duration_is_capped_at_the_end_of_time(licensing, work, creator, collector):
    h = offer(licensing, work, WORK, terms(duration=2**64 - 1), creator)
    grant_id = licensing.buyLicense(work, WORK, h, sender=collector, value=FEE).return_value
    assert licensing.grantOf(grant_id).expiry == 2**64 - 1


# ---------------------------------------------------------------- revoking


def test_the_licensor_revokes_a_revocable_grant(licensing, work, creator, collector):
    h = offer(licensing, work, WORK, terms(revocable=True), creator)
    grant_id = licensing.buyLicense(work, WORK, h, sender=collector, value=FEE).return_value
    tx = licensing.revokeLicense(grant_id, sender=creator)
    revoked = one_event(tx, "LicenseRevoked")
    assert (revoked.grantId, revoked.licensor) == (grant_id, creator.address)
    assert licensing.grantOf(grant_id).revoked
    assert not licensing.isLicensed(collector, work, WORK, USAGE_ANY)
    with reverts_with(licensing.LicenseGrantRevoked, grantId=grant_id):
        licensing.revokeLicense(grant_id, sender=creator)


def test_a_non_revocable_grant_cannot_be_revoked(licensing, work, creator, collector):
    h = offer(licensing, work, WORK, terms(revocable=False), creator)
    grant_id = licensing.buyLicense(work, WORK, h, sender=collector, value=FEE).return_value
    with reverts_with(licensing.LicenseNotRevocable, grantId=grant_id):
        licensing.revokeLicense(grant_id, sender=creator)
    assert licensing.isLicensed(collector, work, WORK, USAGE_ANY)


def test_only_the_current_owner_of_the_work_revokes(licensing, work, creator, collector, operator):
    h = offer(licensing, work, WORK, terms(revocable=True), creator)
    grant_id = licensing.buyLicense(work, WORK, h, sender=collector, value=FEE).return_value
    with reverts_with(licensing.LicenseNotWorkOwner, collection=work, tokenId=WORK, caller=collector):
        licensing.revokeLicense(grant_id, sender=collector)
    work.transferFrom(creator, operator, WORK, sender=creator)
    with reverts_with(licensing.LicenseNotWorkOwner, collection=work, tokenId=WORK, caller=creator):
        licensing.revokeLicense(grant_id, sender=creator)
    licensing.revokeLicense(grant_id, sender=operator)
    assert not licensing.isLicensed(collector, work, WORK, USAGE_ANY)


def test_unknown_grants_revert(licensing, creator):
    with reverts_with(licensing.LicenseGrantUnknown, grantId=999):
        licensing.revokeLicense(999, sender=creator)
    with reverts_with(licensing.LicenseGrantUnknown, grantId=999):
        licensing.transferLicense(999, creator, sender=creator)
    call_reverts_with(licensing, "grantOf", 999, error="LicenseGrantUnknown", grantId=999)


# ---------------------------------------------------------------- transferring


def test_a_transferable_grant_moves_to_its_new_holder(licensing, work, creator, collector, stranger):
    h = offer(licensing, work, WORK, terms(transferable=True), creator)
    grant_id = licensing.buyLicense(work, WORK, h, sender=collector, value=FEE).return_value
    tx = licensing.transferLicense(grant_id, stranger, sender=collector)
    moved = one_event(tx, "LicenseTransferred")
    assert (moved.grantId, moved.__getattr__("from"), moved.to) == (grant_id, collector.address, stranger.address)
    assert licensing.grantOf(grant_id).licensee == stranger.address
    assert list(licensing.grantsOf(collector, work, WORK)) == []
    assert list(licensing.grantsOf(stranger, work, WORK)) == [grant_id]
    assert licensing.isLicensed(stranger, work, WORK, USAGE_ANY)
    assert not licensing.isLicensed(collector, work, WORK, USAGE_ANY)


def test_a_personal_grant_cannot_be_transferred(licensing, work, creator, collector, stranger):
    h = offer(licensing, work, WORK, terms(transferable=False), creator)
    grant_id = licensing.buyLicense(work, WORK, h, sender=collector, value=FEE).return_value
    with reverts_with(licensing.LicenseNotTransferable, grantId=grant_id):
        licensing.transferLicense(grant_id, stranger, sender=collector)


def test_only_the_licensee_transfers_and_only_to_someone_else(licensing, work, creator, collector, stranger):
    h = offer(licensing, work, WORK, terms(), creator)
    grant_id = licensing.buyLicense(work, WORK, h, sender=collector, value=FEE).return_value
    with reverts_with(licensing.LicenseNotLicensee, grantId=grant_id, caller=creator):
        licensing.transferLicense(grant_id, stranger, sender=creator)
    with reverts_with(licensing.LicenseRecipientInvalid, to=ETH):
        licensing.transferLicense(grant_id, ETH, sender=collector)
    with reverts_with(licensing.LicenseRecipientInvalid, to=collector):
        licensing.transferLicense(grant_id, collector, sender=collector)


def test_revoked_or_expired_grants_cannot_be_transferred(licensing, work, creator, collector, stranger):
    h = offer(licensing, work, WORK, terms(duration=100), creator)
    revoked = licensing.buyLicense(work, WORK, h, sender=collector, value=FEE).return_value
    expiring = licensing.buyLicense(work, WORK, h, sender=collector, value=FEE).return_value
    licensing.revokeLicense(revoked, sender=creator)
    with reverts_with(licensing.LicenseGrantRevoked, grantId=revoked):
        licensing.transferLicense(revoked, stranger, sender=collector)
    expiry = licensing.grantOf(expiring).expiry
    ape.chain.mine(timestamp=expiry)
    with reverts_with(licensing.LicenseExpired, grantId=expiring, expiredAt=expiry):
        licensing.transferLicense(expiring, stranger, sender=collector)
