"""Milestone escrow for commissioned work: funding, delivery, acceptance, disputes, deadlines, payouts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from eth_utils.crypto import keccak

from tests.support.marketplace import (
    DAY,
    ETHER,
    ZERO,
    balance,
    chain_snapshot,
    now,
    one_event,
    reverts,
    travel_to,
)

pytestmark = pytest.mark.contracts

FEE_BPS = 250
REVIEW = 3 * DAY
ARBITRATION = 14 * DAY
DEFAULT_SELLER_BPS = 5_000
TERMS = (ARBITRATION, DEFAULT_SELLER_BPS, ZERO, 0)
"""(arbitrationPeriod, defaultSellerBps, royaltyReceiver, royaltyBps): a 50/50 default, no royalty."""
FUNDED, DELIVERED, DISPUTED, RELEASED, REFUNDED, RESOLVED = 1, 2, 3, 4, 5, 6
CONTENT = keccak(text="the commissioned artwork, final")
CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
PAUSER_ROLE = keccak(text="PAUSER_ROLE")


@dataclass
class EscrowWorld:
    escrow: Any
    coin: Any
    admin: Any
    seller: Any
    buyer: Any
    treasury: Any
    arbitrator: Any
    stranger: Any

    def create(self, amounts=(ETHER, 2 * ETHER), *, currency=ZERO, deadlines=None, review=REVIEW, buyer=None,
               seller=None, value=None, terms=None, accept=True):
        """Create and fund an escrow; by default the seller then accepts its terms (``accept``)."""
        terms = terms or TERMS
        t = now()
        deadlines = deadlines or [t + (i + 1) * 7 * DAY for i in range(len(amounts))]
        milestones = list(zip(amounts, deadlines, strict=True))
        total = sum(amounts)
        if value is None:
            value = total if currency == ZERO else 0
        tx = self.escrow.createEscrow(seller or self.seller, self.arbitrator, currency, review, terms, milestones,
                                      sender=buyer or self.buyer, value=value)
        escrow_id = one_event(tx, "EscrowCreated").escrowId
        if accept:
            self.escrow.acceptEscrow(escrow_id, sender=seller or self.seller)
        return escrow_id, tx

    def deliver(self, escrow_id, index=0, by=None):
        return self.escrow.deliverMilestone(escrow_id, index, CONTENT, CID, sender=by or self.seller)

    def milestone(self, escrow_id, index=0):
        return self.escrow.getMilestone(escrow_id, index)


@pytest.fixture(scope="module")
def escrow_world(ape_project, accounts) -> EscrowWorld:
    admin, seller, buyer, treasury, arbitrator, stranger = (accounts[i] for i in (0, 1, 2, 4, 6, 9))
    escrow = ape_project.MilestoneEscrow.deploy(admin, treasury, FEE_BPS, sender=admin)
    coin = ape_project.MktTestERC20.deploy(sender=admin)
    for who in (buyer, stranger):
        coin.mint(who, 1_000 * ETHER, sender=admin)
        coin.approve(escrow, 2**256 - 1, sender=who)
    return EscrowWorld(escrow, coin, admin, seller, buyer, treasury, arbitrator, stranger)


@pytest.fixture(autouse=True)
def _isolate(escrow_world):
    with chain_snapshot():
        yield


def fee_of(amount):
    return amount * FEE_BPS // 10_000


# ------------------------------------------------------------------ creation


def test_create_funds_every_milestone_in_eth(escrow_world):
    escrow_id, tx = escrow_world.create((ETHER, 2 * ETHER))
    log = one_event(tx, "EscrowCreated")
    assert (log.buyer, log.seller, log.arbitrator, log.currency) == (
        escrow_world.buyer.address, escrow_world.seller.address, escrow_world.arbitrator.address, ZERO)
    assert (log.total, log.milestoneCount, log.reviewPeriod, log.feeBps) == (3 * ETHER, 2, REVIEW, FEE_BPS)
    assert balance(escrow_world.escrow) == 3 * ETHER
    assert escrow_world.escrow.escrowBalance(ZERO) == 3 * ETHER
    assert escrow_world.escrow.openAmount(escrow_id) == 3 * ETHER
    terms = escrow_world.escrow.getEscrow(escrow_id)
    assert (terms.buyer, terms.seller, terms.feeBps, terms.milestoneCount) == (
        escrow_world.buyer.address, escrow_world.seller.address, FEE_BPS, 2)
    assert [escrow_world.milestone(escrow_id, i).state for i in range(2)] == [FUNDED, FUNDED]
    assert escrow_world.milestone(escrow_id, 1).amount == 2 * ETHER


def test_create_funds_in_erc20(escrow_world):
    before = escrow_world.coin.balanceOf(escrow_world.buyer)
    escrow_id, _ = escrow_world.create((10 * ETHER,), currency=escrow_world.coin)
    assert before - escrow_world.coin.balanceOf(escrow_world.buyer) == 10 * ETHER
    assert escrow_world.coin.balanceOf(escrow_world.escrow) == 10 * ETHER
    assert escrow_world.escrow.escrowBalance(escrow_world.coin) == 10 * ETHER
    assert escrow_world.escrow.openAmount(escrow_id) == 10 * ETHER


def test_create_refuses_wrong_funding(escrow_world):
    with reverts("EscrowFundingMismatch", expected=3 * ETHER, received=ETHER):
        escrow_world.create((ETHER, 2 * ETHER), value=ETHER)
    with reverts("EscrowFundingMismatch", expected=0, received=1):
        escrow_world.create((ETHER,), currency=escrow_world.coin, value=1)


@pytest.mark.parametrize("token", ["MktTestFeeERC20", "MktTestLyingERC20"])
def test_create_refuses_tokens_that_do_not_arrive_in_full(escrow_world, ape_project, token):
    bad = getattr(ape_project, token).deploy(sender=escrow_world.admin)
    bad.mint(escrow_world.buyer, 100 * ETHER, sender=escrow_world.admin)
    bad.approve(escrow_world.escrow, 2**256 - 1, sender=escrow_world.buyer)
    received = 99 * ETHER // 10 if token == "MktTestFeeERC20" else 0
    with reverts("EscrowFundingMismatch", expected=10 * ETHER, received=received):
        escrow_world.create((10 * ETHER,), currency=bad)


def test_create_refuses_invalid_parties_and_terms(escrow_world):
    t = now()
    with reverts("EscrowPartyInvalid", party=ZERO):
        escrow_world.create(seller=ZERO)
    with reverts("EscrowPartyInvalid", party=escrow_world.buyer.address):
        escrow_world.create(seller=escrow_world.buyer)
    for arbitrator in (ZERO, escrow_world.buyer.address, escrow_world.seller.address):
        with reverts("EscrowPartyInvalid", party=arbitrator):
            escrow_world.escrow.createEscrow(escrow_world.seller, arbitrator, ZERO, REVIEW, TERMS, [(ETHER, t + DAY)], sender=escrow_world.buyer,
                                  value=ETHER)
    with reverts("EscrowReviewPeriodInvalid", reviewPeriod=0):
        escrow_world.create(review=0)
    with reverts("EscrowMilestoneCountInvalid", count=0, maxCount=32):
        escrow_world.create(amounts=(), deadlines=[], value=0)
    with reverts("EscrowMilestoneCountInvalid", count=33, maxCount=32):
        escrow_world.create(amounts=(1,) * 33, deadlines=[t + DAY] * 33)
    with reverts("MilestoneAmountZero", index=1):
        escrow_world.create(amounts=(ETHER, 0))
    with reverts("MilestoneDeadlinePassed", index=0, deadline=t):
        escrow_world.create(amounts=(ETHER,), deadlines=[t])


def test_escrow_ids_count_up_from_one(escrow_world):
    assert escrow_world.create()[0] == 1
    assert escrow_world.create()[0] == 2


# ------------------------------------------------------------------ delivery


def test_seller_delivers_with_content_hash_and_cid(escrow_world):
    escrow_id, _ = escrow_world.create()
    tx = escrow_world.deliver(escrow_id, 0)
    log = one_event(tx, "MilestoneDelivered")
    assert (log.escrowId, log.index, log.contentHash, log.cid) == (escrow_id, 0, CONTENT, CID)
    m = escrow_world.milestone(escrow_id, 0)
    assert m.state == DELIVERED and m.deliveredAt == tx.timestamp


def test_delivery_errors(escrow_world):
    escrow_id, _ = escrow_world.create()
    with reverts("EscrowUnauthorized", escrowId=escrow_id, caller=escrow_world.buyer.address):
        escrow_world.deliver(escrow_id, 0, by=escrow_world.buyer)
    with reverts("MilestoneDeliveryEmpty", escrowId=escrow_id, index=0):
        escrow_world.escrow.deliverMilestone(escrow_id, 0, b"\x00" * 32, CID, sender=escrow_world.seller)
    with reverts("MilestoneDeliveryEmpty", escrowId=escrow_id, index=0):
        escrow_world.escrow.deliverMilestone(escrow_id, 0, CONTENT, "", sender=escrow_world.seller)
    with reverts("EscrowNotFound", escrowId=99):
        escrow_world.deliver(99, 0)
    with reverts("MilestoneNotFound", escrowId=escrow_id, index=2):
        escrow_world.deliver(escrow_id, 2)
    escrow_world.deliver(escrow_id, 0)
    with reverts("MilestoneStateInvalid", escrowId=escrow_id, index=0, state=DELIVERED):
        escrow_world.deliver(escrow_id, 0)


def test_late_delivery_is_refused(escrow_world):
    deadline = now() + DAY
    escrow_id, _ = escrow_world.create(amounts=(ETHER,), deadlines=[deadline])
    travel_to(deadline + 1)
    with reverts("MilestoneDeliveryLate", escrowId=escrow_id, index=0, deadline=deadline):
        escrow_world.deliver(escrow_id, 0)


def test_delivery_in_the_deadline_second_is_on_time(escrow_world):
    deadline = now() + DAY
    escrow_id, _ = escrow_world.create(amounts=(ETHER,), deadlines=[deadline])
    travel_to(deadline)
    escrow_world.deliver(escrow_id, 0)
    assert escrow_world.milestone(escrow_id).state == DELIVERED


# ------------------------------------------------------------------ acceptance and claims


def test_buyer_accepts_and_the_seller_is_paid_less_the_fee(escrow_world):
    escrow_id, _ = escrow_world.create((ETHER, 2 * ETHER))
    escrow_world.deliver(escrow_id, 0)
    seller_before, treasury_before = balance(escrow_world.seller), balance(escrow_world.treasury)
    tx = escrow_world.escrow.acceptMilestone(escrow_id, 0, sender=escrow_world.buyer)
    log = one_event(tx, "MilestoneReleased")
    assert (log.escrowId, log.index, log.by) == (escrow_id, 0, escrow_world.buyer.address)
    assert (log.toSeller, log.fee) == (ETHER - fee_of(ETHER), fee_of(ETHER))
    assert balance(escrow_world.seller) - seller_before == ETHER - fee_of(ETHER)
    assert balance(escrow_world.treasury) - treasury_before == fee_of(ETHER)
    assert escrow_world.milestone(escrow_id, 0).state == RELEASED
    assert escrow_world.escrow.openAmount(escrow_id) == 2 * ETHER
    assert escrow_world.escrow.escrowBalance(ZERO) == 2 * ETHER == balance(escrow_world.escrow)


def test_accept_errors(escrow_world):
    escrow_id, _ = escrow_world.create()
    with reverts("MilestoneStateInvalid", state=FUNDED):
        escrow_world.escrow.acceptMilestone(escrow_id, 0, sender=escrow_world.buyer)
    escrow_world.deliver(escrow_id, 0)
    with reverts("EscrowUnauthorized", caller=escrow_world.seller.address):
        escrow_world.escrow.acceptMilestone(escrow_id, 0, sender=escrow_world.seller)


def test_erc20_release_pays_seller_and_treasury_in_the_token(escrow_world):
    escrow_id, _ = escrow_world.create((10 * ETHER,), currency=escrow_world.coin)
    escrow_world.deliver(escrow_id, 0)
    escrow_world.escrow.acceptMilestone(escrow_id, 0, sender=escrow_world.buyer)
    assert escrow_world.coin.balanceOf(escrow_world.seller) == 10 * ETHER - fee_of(10 * ETHER)
    assert escrow_world.coin.balanceOf(escrow_world.treasury) == fee_of(10 * ETHER)
    assert escrow_world.coin.balanceOf(escrow_world.escrow) == 0


def test_seller_claims_after_a_silent_review_period(escrow_world):
    escrow_id, _ = escrow_world.create((ETHER,))
    delivered_at = escrow_world.deliver(escrow_id, 0).timestamp
    review_ends = delivered_at + REVIEW
    travel_to(review_ends)
    with reverts("MilestoneReviewOpen", escrowId=escrow_id, index=0, reviewEnds=review_ends):
        escrow_world.escrow.claimMilestone(escrow_id, 0, sender=escrow_world.seller)
    travel_to(review_ends + 1)
    tx = escrow_world.escrow.claimMilestone(escrow_id, 0, sender=escrow_world.seller)
    assert one_event(tx, "MilestoneReleased").by == escrow_world.seller.address
    assert escrow_world.milestone(escrow_id).state == RELEASED
    with reverts("MilestoneStateInvalid", state=RELEASED):
        escrow_world.escrow.claimMilestone(escrow_id, 0, sender=escrow_world.seller)


def test_only_the_seller_claims(escrow_world):
    escrow_id, _ = escrow_world.create((ETHER,))
    escrow_world.deliver(escrow_id, 0)
    with reverts("EscrowUnauthorized", caller=escrow_world.stranger.address):
        escrow_world.escrow.claimMilestone(escrow_id, 0, sender=escrow_world.stranger)


# ------------------------------------------------------------------ disputes


def test_dispute_and_arbitrated_split(escrow_world):
    escrow_id, _ = escrow_world.create((10 * ETHER,))
    escrow_world.deliver(escrow_id, 0)
    tx = escrow_world.escrow.disputeMilestone(escrow_id, 0, sender=escrow_world.buyer)
    assert (one_event(tx, "MilestoneDisputed").escrowId, escrow_world.milestone(escrow_id).state) == (escrow_id, DISPUTED)
    with reverts("EscrowUnauthorized", caller=escrow_world.buyer.address):
        escrow_world.escrow.resolveDispute(escrow_id, 0, 5_000, sender=escrow_world.buyer)
    with reverts("DisputeSplitInvalid", sellerBps=10_001):
        escrow_world.escrow.resolveDispute(escrow_id, 0, 10_001, sender=escrow_world.arbitrator)
    seller_before, buyer_before, treasury_before = balance(escrow_world.seller), balance(escrow_world.buyer), balance(escrow_world.treasury)

    tx = escrow_world.escrow.resolveDispute(escrow_id, 0, 6_000, sender=escrow_world.arbitrator)

    share = 6 * ETHER
    log = one_event(tx, "DisputeResolved")
    assert (log.sellerBps, log.toSeller, log.fee, log.toBuyer) == (6_000, share - fee_of(share), fee_of(share),
                                                                   4 * ETHER)
    assert balance(escrow_world.seller) - seller_before == share - fee_of(share)
    assert balance(escrow_world.buyer) - buyer_before == 4 * ETHER
    assert balance(escrow_world.treasury) - treasury_before == fee_of(share)
    assert escrow_world.milestone(escrow_id).state == RESOLVED
    assert balance(escrow_world.escrow) == 0 == escrow_world.escrow.escrowBalance(ZERO)


@pytest.mark.parametrize("bps", [0, 10_000])
def test_dispute_can_go_wholly_either_way(escrow_world, bps):
    escrow_id, _ = escrow_world.create((ETHER,))
    escrow_world.deliver(escrow_id, 0)
    escrow_world.escrow.disputeMilestone(escrow_id, 0, sender=escrow_world.buyer)
    tx = escrow_world.escrow.resolveDispute(escrow_id, 0, bps, sender=escrow_world.arbitrator)
    log = one_event(tx, "DisputeResolved")
    if bps == 0:
        assert (log.toSeller, log.fee, log.toBuyer) == (0, 0, ETHER)
    else:
        assert (log.toSeller, log.fee, log.toBuyer) == (ETHER - fee_of(ETHER), fee_of(ETHER), 0)


def test_dispute_after_the_review_period_is_refused(escrow_world):
    escrow_id, _ = escrow_world.create((ETHER,))
    delivered_at = escrow_world.deliver(escrow_id, 0).timestamp
    travel_to(delivered_at + REVIEW + 1)
    with reverts("MilestoneReviewClosed", reviewEnds=delivered_at + REVIEW):
        escrow_world.escrow.disputeMilestone(escrow_id, 0, sender=escrow_world.buyer)


def test_dispute_errors(escrow_world):
    escrow_id, _ = escrow_world.create((ETHER,))
    with reverts("MilestoneStateInvalid", state=FUNDED):
        escrow_world.escrow.disputeMilestone(escrow_id, 0, sender=escrow_world.buyer)
    escrow_world.deliver(escrow_id, 0)
    with reverts("EscrowUnauthorized", caller=escrow_world.seller.address):
        escrow_world.escrow.disputeMilestone(escrow_id, 0, sender=escrow_world.seller)
    with reverts("MilestoneStateInvalid", state=DELIVERED):
        escrow_world.escrow.resolveDispute(escrow_id, 0, 5_000, sender=escrow_world.arbitrator)


# ------------------------------------------------------------------ unanswered disputes


def test_a_dispute_the_arbitrator_never_answers_settles_by_the_default_split(escrow_world):
    escrow_id, _ = escrow_world.create((10 * ETHER,))
    escrow_world.deliver(escrow_id, 0)
    disputed_at = escrow_world.escrow.disputeMilestone(escrow_id, 0, sender=escrow_world.buyer).timestamp
    assert escrow_world.milestone(escrow_id).disputedAt == disputed_at
    travel_to(disputed_at + ARBITRATION)
    with reverts("DisputeArbitrationOpen", escrowId=escrow_id, index=0, arbitrationEnds=disputed_at + ARBITRATION):
        escrow_world.escrow.settleLapsedDispute(escrow_id, 0, sender=escrow_world.stranger)
    travel_to(disputed_at + ARBITRATION + 1)
    seller_before, buyer_before, treasury_before = balance(escrow_world.seller), balance(escrow_world.buyer), balance(escrow_world.treasury)

    tx = escrow_world.escrow.settleLapsedDispute(escrow_id, 0, sender=escrow_world.stranger)  # anyone may settle

    share = 10 * ETHER * DEFAULT_SELLER_BPS // 10_000
    assert one_event(tx, "DisputeLapsed").settledBy == escrow_world.stranger.address
    log = one_event(tx, "DisputeResolved")
    assert (log.sellerBps, log.toSeller, log.fee, log.toBuyer) == (
        DEFAULT_SELLER_BPS, share - fee_of(share), fee_of(share), 10 * ETHER - share)
    assert balance(escrow_world.seller) - seller_before == share - fee_of(share)
    assert balance(escrow_world.buyer) - buyer_before == 10 * ETHER - share
    assert balance(escrow_world.treasury) - treasury_before == fee_of(share)
    assert escrow_world.milestone(escrow_id).state == RESOLVED
    assert balance(escrow_world.escrow) == 0 == escrow_world.escrow.escrowBalance(ZERO)
    with reverts("MilestoneStateInvalid", state=RESOLVED):
        escrow_world.escrow.settleLapsedDispute(escrow_id, 0, sender=escrow_world.stranger)
    with reverts("MilestoneStateInvalid", state=RESOLVED):
        escrow_world.escrow.resolveDispute(escrow_id, 0, 10_000, sender=escrow_world.arbitrator)


def test_the_arbitrator_may_still_answer_late_until_someone_settles(escrow_world):
    escrow_id, _ = escrow_world.create((ETHER,), terms=(DAY, 10_000, ZERO, 0))
    escrow_world.deliver(escrow_id, 0)
    disputed_at = escrow_world.escrow.disputeMilestone(escrow_id, 0, sender=escrow_world.buyer).timestamp
    travel_to(disputed_at + 2 * DAY)
    tx = escrow_world.escrow.resolveDispute(escrow_id, 0, 0, sender=escrow_world.arbitrator)
    assert one_event(tx, "DisputeResolved").toBuyer == ETHER
    with reverts("MilestoneStateInvalid", state=RESOLVED):
        escrow_world.escrow.settleLapsedDispute(escrow_id, 0, sender=escrow_world.seller)


def test_settling_needs_a_dispute(escrow_world):
    escrow_id, _ = escrow_world.create((ETHER,))
    with reverts("MilestoneStateInvalid", state=FUNDED):
        escrow_world.escrow.settleLapsedDispute(escrow_id, 0, sender=escrow_world.seller)
    escrow_world.deliver(escrow_id, 0)
    with reverts("MilestoneStateInvalid", state=DELIVERED):
        escrow_world.escrow.settleLapsedDispute(escrow_id, 0, sender=escrow_world.seller)


@pytest.mark.parametrize("terms", [
    (0, 5_000, ZERO, 0),  # no arbitration period: a dispute would lapse at once
    (DAY, 10_001, ZERO, 0),  # default split above the whole
    (DAY, 5_000, "stranger", 0),  # a receiver without bps
    (DAY, 5_000, ZERO, 500),  # bps without a receiver
    (DAY, 5_000, "stranger", 10_000 - FEE_BPS + 1),  # royalty + fee above the whole
])
def test_create_refuses_invalid_dispute_and_royalty_terms(escrow_world, terms):
    period, default_bps, receiver, royalty_bps = terms
    receiver = escrow_world.stranger.address if receiver == "stranger" else receiver
    with reverts("EscrowTermsInvalid", arbitrationPeriod=period, defaultSellerBps=default_bps,
                 royaltyReceiver=receiver, royaltyBps=royalty_bps):
        escrow_world.create((ETHER,), terms=(period, default_bps, receiver, royalty_bps))


# ------------------------------------------------------------------ royalties of a derivative commission


def test_release_pays_the_terms_royalty_out_of_the_sellers_part(escrow_world):
    escrow_id, _ = escrow_world.create((10 * ETHER,), terms=(ARBITRATION, DEFAULT_SELLER_BPS, escrow_world.stranger.address, 1_000))
    assert (escrow_world.escrow.getEscrow(escrow_id).royaltyReceiver, escrow_world.escrow.getEscrow(escrow_id).royaltyBps) == (
        escrow_world.stranger.address, 1_000)
    escrow_world.deliver(escrow_id, 0)
    seller_before, holder_before, treasury_before = balance(escrow_world.seller), balance(escrow_world.stranger), balance(escrow_world.treasury)

    tx = escrow_world.escrow.acceptMilestone(escrow_id, 0, sender=escrow_world.buyer)

    fee, royalty = fee_of(10 * ETHER), ETHER
    paid = one_event(tx, "EscrowRoyaltyPaid")
    assert (paid.receiver, paid.amount) == (escrow_world.stranger.address, royalty)
    assert one_event(tx, "MilestoneReleased").toSeller == 10 * ETHER - fee - royalty
    assert balance(escrow_world.stranger) - holder_before == royalty
    assert balance(escrow_world.treasury) - treasury_before == fee
    assert balance(escrow_world.seller) - seller_before == 10 * ETHER - fee - royalty
    assert balance(escrow_world.escrow) == 0


def test_a_split_pays_the_royalty_only_on_the_sellers_share(escrow_world):
    escrow_id, _ = escrow_world.create((10 * ETHER,), terms=(ARBITRATION, DEFAULT_SELLER_BPS, escrow_world.stranger.address, 1_000))
    escrow_world.deliver(escrow_id, 0)
    escrow_world.escrow.disputeMilestone(escrow_id, 0, sender=escrow_world.buyer)
    holder_before, buyer_before = balance(escrow_world.stranger), balance(escrow_world.buyer)
    tx = escrow_world.escrow.resolveDispute(escrow_id, 0, 4_000, sender=escrow_world.arbitrator)
    share = 4 * ETHER
    log = one_event(tx, "DisputeResolved")
    assert (log.toSeller, log.fee, log.toBuyer) == (share - fee_of(share) - share // 10, fee_of(share), 6 * ETHER)
    assert balance(escrow_world.stranger) - holder_before == share // 10
    assert balance(escrow_world.buyer) - buyer_before == 6 * ETHER


# ------------------------------------------------------------------ missed deadlines


def test_buyer_reclaims_an_undelivered_milestone_after_its_deadline(escrow_world):
    deadline = now() + DAY
    escrow_id, _ = escrow_world.create((ETHER,), deadlines=[deadline])
    travel_to(deadline)
    with reverts("MilestoneDeadlineNotReached", escrowId=escrow_id, index=0, deadline=deadline):
        escrow_world.escrow.reclaimMilestone(escrow_id, 0, sender=escrow_world.buyer)
    travel_to(deadline + 1)
    buyer_before = balance(escrow_world.buyer)
    tx = escrow_world.escrow.reclaimMilestone(escrow_id, 0, sender=escrow_world.buyer)
    assert (one_event(tx, "MilestoneRefunded").amount, escrow_world.milestone(escrow_id).state) == (ETHER, REFUNDED)
    assert balance(escrow_world.buyer) - buyer_before == ETHER - tx.total_fees_paid  # refunds carry no fee
    assert balance(escrow_world.escrow) == 0


def test_reclaim_errors(escrow_world):
    escrow_id, _ = escrow_world.create((ETHER,))
    with reverts("EscrowUnauthorized", caller=escrow_world.seller.address):
        escrow_world.escrow.reclaimMilestone(escrow_id, 0, sender=escrow_world.seller)
    escrow_world.deliver(escrow_id, 0)
    with reverts("MilestoneStateInvalid", state=DELIVERED):
        escrow_world.escrow.reclaimMilestone(escrow_id, 0, sender=escrow_world.buyer)


# ------------------------------------------------------------------ failed payouts


def test_seller_contract_that_rejects_eth_is_credited_and_withdraws_elsewhere(escrow_world, ape_project):
    wallet = ape_project.MktTestActor.deploy(escrow_world.seller, sender=escrow_world.seller)
    wallet.configure(1, 0, ZERO, b"", 0, sender=escrow_world.seller)  # rejects ETH
    escrow_id, _ = escrow_world.create((ETHER,), seller=wallet, accept=False)
    wallet.execute(escrow_world.escrow, 0, escrow_world.escrow.acceptEscrow.encode_input(escrow_id), sender=escrow_world.seller)
    wallet.execute(escrow_world.escrow, 0, escrow_world.escrow.deliverMilestone.encode_input(escrow_id, 0, CONTENT, CID), sender=escrow_world.seller)
    tx = escrow_world.escrow.acceptMilestone(escrow_id, 0, sender=escrow_world.buyer)
    credited = one_event(tx, "PaymentCredited")
    owed = ETHER - fee_of(ETHER)
    assert (credited.currency, credited.payee, credited.amount) == (ZERO, wallet.address, owed)
    assert escrow_world.escrow.pendingWithdrawals(ZERO, wallet) == owed == escrow_world.escrow.owedBalance(ZERO)
    assert balance(escrow_world.escrow) == owed
    before = balance(escrow_world.seller)
    tx = wallet.execute(escrow_world.escrow, 0, escrow_world.escrow.withdrawTo.encode_input(ZERO, escrow_world.seller), sender=escrow_world.seller)
    assert balance(escrow_world.seller) - before == owed - tx.total_fees_paid
    assert escrow_world.escrow.owedBalance(ZERO) == 0 == balance(escrow_world.escrow)


def test_blocked_erc20_seller_is_credited(escrow_world):
    escrow_world.coin.setBlocked(escrow_world.seller, True, sender=escrow_world.admin)
    escrow_id, _ = escrow_world.create((10 * ETHER,), currency=escrow_world.coin)
    escrow_world.deliver(escrow_id, 0)
    escrow_world.escrow.acceptMilestone(escrow_id, 0, sender=escrow_world.buyer)
    owed = 10 * ETHER - fee_of(10 * ETHER)
    assert escrow_world.escrow.pendingWithdrawals(escrow_world.coin, escrow_world.seller) == owed
    assert escrow_world.coin.balanceOf(escrow_world.escrow) == owed == escrow_world.escrow.owedBalance(escrow_world.coin)
    with reverts("WithdrawalFailed", currency=escrow_world.coin.address, payee=escrow_world.seller.address, to=escrow_world.seller.address,
                 amount=owed):
        escrow_world.escrow.withdraw(escrow_world.coin, sender=escrow_world.seller)
    tx = escrow_world.escrow.withdrawTo(escrow_world.coin, escrow_world.stranger, sender=escrow_world.seller)
    log = one_event(tx, "Withdrawn")
    assert (log.currency, log.payee, log.to, log.amount) == (escrow_world.coin.address, escrow_world.seller.address, escrow_world.stranger.address,
                                                             owed)
    with reverts("WithdrawalNothingOwed", currency=escrow_world.coin.address, payee=escrow_world.seller.address):
        escrow_world.escrow.withdraw(escrow_world.coin, sender=escrow_world.seller)


# ------------------------------------------------------------------ administration


@pytest.mark.parametrize(("call", "role"), [
    (lambda escrow_world, s: escrow_world.escrow.setPlatformFee(100, sender=s), b"\x00" * 32),
    (lambda escrow_world, s: escrow_world.escrow.setTreasury(s, sender=s), b"\x00" * 32),
    (lambda escrow_world, s: escrow_world.escrow.pause(sender=s), PAUSER_ROLE),
    (lambda escrow_world, s: escrow_world.escrow.unpause(sender=s), PAUSER_ROLE),
], ids=["setPlatformFee", "setTreasury", "pause", "unpause"])
def test_escrow_admin_functions_refuse_an_account_without_the_role(escrow_world, call, role):
    with reverts("AccessControlUnauthorizedAccount", account=escrow_world.stranger.address, neededRole=role):
        call(escrow_world, escrow_world.stranger)


def test_escrow_fee_is_capped_and_fixed_at_creation(escrow_world):
    with reverts("PlatformFeeTooHigh", feeBps=1_001, maxFeeBps=1_000):
        escrow_world.escrow.setPlatformFee(1_001, sender=escrow_world.admin)
    escrow_id, _ = escrow_world.create((ETHER,))
    assert one_event(escrow_world.escrow.setPlatformFee(1_000, sender=escrow_world.admin), "PlatformFeeSet").feeBps == 1_000
    escrow_world.deliver(escrow_id, 0)
    tx = escrow_world.escrow.acceptMilestone(escrow_id, 0, sender=escrow_world.buyer)
    assert one_event(tx, "MilestoneReleased").fee == fee_of(ETHER)  # 2.5%, the terms at creation
    later, _ = escrow_world.create((ETHER,))
    assert escrow_world.escrow.getEscrow(later).feeBps == 1_000


def test_escrow_treasury_cannot_be_zero(escrow_world, ape_project):
    with reverts("TreasuryZeroAddress"):
        escrow_world.escrow.setTreasury(ZERO, sender=escrow_world.admin)
    assert one_event(escrow_world.escrow.setTreasury(escrow_world.stranger, sender=escrow_world.admin), "TreasurySet").treasury == escrow_world.stranger.address
    with reverts("TreasuryZeroAddress"):
        ape_project.MilestoneEscrow.deploy(escrow_world.admin, ZERO, 250, sender=escrow_world.admin)


def test_pause_stops_new_escrows_but_funded_ones_run_to_completion(escrow_world):
    escrow_id, _ = escrow_world.create((ETHER,))
    escrow_world.escrow.pause(sender=escrow_world.admin)
    with reverts("EnforcedPause"):
        escrow_world.create((ETHER,))
    escrow_world.deliver(escrow_id, 0)
    escrow_world.escrow.acceptMilestone(escrow_id, 0, sender=escrow_world.buyer)
    assert escrow_world.milestone(escrow_id).state == RELEASED
    escrow_world.escrow.unpause(sender=escrow_world.admin)
    escrow_world.create((ETHER,))


# ------------------------------------------------------------------ the seller sees and accepts the terms


def test_creation_publishes_every_term_the_seller_accepts(escrow_world):
    royalty_terms = (ARBITRATION, 7_000, escrow_world.stranger.address, 500)
    escrow_id, tx = escrow_world.create((ETHER,), terms=royalty_terms, accept=False)
    log = one_event(tx, "EscrowTermsSet")
    assert (log.escrowId, log.arbitrator, log.arbitrationPeriod, log.defaultSellerBps, log.royaltyReceiver,
            log.royaltyBps) == (escrow_id, escrow_world.arbitrator.address, ARBITRATION, 7_000, escrow_world.stranger.address, 500)
    assert escrow_world.escrow.getEscrow(escrow_id).sellerAccepted is False


def test_a_milestone_counts_only_after_the_seller_accepted_the_terms(escrow_world):
    escrow_id, _ = escrow_world.create((ETHER,), accept=False)
    with reverts("EscrowNotAccepted", escrowId=escrow_id):
        escrow_world.deliver(escrow_id, 0)
    with reverts("EscrowUnauthorized", escrowId=escrow_id, caller=escrow_world.buyer.address):
        escrow_world.escrow.acceptEscrow(escrow_id, sender=escrow_world.buyer)
    tx = escrow_world.escrow.acceptEscrow(escrow_id, sender=escrow_world.seller)
    assert one_event(tx, "EscrowAccepted").escrowId == escrow_id
    with reverts("EscrowAlreadyAccepted", escrowId=escrow_id):
        escrow_world.escrow.acceptEscrow(escrow_id, sender=escrow_world.seller)
    escrow_world.deliver(escrow_id, 0)
    assert escrow_world.milestone(escrow_id).state == DELIVERED


def test_buyer_takes_back_an_escrow_the_seller_never_accepted_without_waiting(escrow_world):
    """Until the seller accepts, nothing binds the buyer's funds: every milestone can be reclaimed
    at once. After acceptance, only a missed deadline refunds."""
    escrow_id, _ = escrow_world.create((ETHER, ETHER), accept=False)
    escrow_world.escrow.reclaimMilestone(escrow_id, 0, sender=escrow_world.buyer)
    escrow_world.escrow.acceptEscrow(escrow_id, sender=escrow_world.seller)
    deadline = escrow_world.milestone(escrow_id, 1).deadline
    with reverts("MilestoneDeadlineNotReached", escrowId=escrow_id, index=1, deadline=deadline):
        escrow_world.escrow.reclaimMilestone(escrow_id, 1, sender=escrow_world.buyer)


@pytest.mark.parametrize("which", ["review", "arbitration"])
def test_periods_are_bounded(escrow_world, which):
    too_long = int(escrow_world.escrow.MAX_PERIOD()) + 1
    t = now()
    review, terms = (too_long, TERMS) if which == "review" else (REVIEW, (too_long, DEFAULT_SELLER_BPS, ZERO, 0))
    name = "EscrowReviewPeriodInvalid" if which == "review" else "EscrowTermsInvalid"
    with reverts(name):
        escrow_world.escrow.createEscrow(escrow_world.seller, escrow_world.arbitrator, ZERO, review, terms, [(ETHER, t + DAY)], sender=escrow_world.buyer,
                              value=ETHER)
