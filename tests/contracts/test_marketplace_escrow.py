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
def e(ape_project, accounts) -> EscrowWorld:
    admin, seller, buyer, treasury, arbitrator, stranger = (accounts[i] for i in (0, 1, 2, 4, 6, 9))
    escrow = ape_project.MilestoneEscrow.deploy(admin, treasury, FEE_BPS, sender=admin)
    coin = ape_project.MktTestERC20.deploy(sender=admin)
    for who in (buyer, stranger):
        coin.mint(who, 1_000 * ETHER, sender=admin)
        coin.approve(escrow, 2**256 - 1, sender=who)
    return EscrowWorld(escrow, coin, admin, seller, buyer, treasury, arbitrator, stranger)


@pytest.fixture(autouse=True)
def _isolate(e):
    with chain_snapshot():
        yield


def fee_of(amount):
    return amount * FEE_BPS // 10_000


# ------------------------------------------------------------------ creation


def test_create_funds_every_milestone_in_eth(e):
    escrow_id, tx = e.create((ETHER, 2 * ETHER))
    log = one_event(tx, "EscrowCreated")
    assert (log.buyer, log.seller, log.arbitrator, log.currency) == (
        e.buyer.address, e.seller.address, e.arbitrator.address, ZERO)
    assert (log.total, log.milestoneCount, log.reviewPeriod, log.feeBps) == (3 * ETHER, 2, REVIEW, FEE_BPS)
    assert balance(e.escrow) == 3 * ETHER
    assert e.escrow.escrowBalance(ZERO) == 3 * ETHER
    assert e.escrow.openAmount(escrow_id) == 3 * ETHER
    terms = e.escrow.getEscrow(escrow_id)
    assert (terms.buyer, terms.seller, terms.feeBps, terms.milestoneCount) == (
        e.buyer.address, e.seller.address, FEE_BPS, 2)
    assert [e.milestone(escrow_id, i).state for i in range(2)] == [FUNDED, FUNDED]
    assert e.milestone(escrow_id, 1).amount == 2 * ETHER


def test_create_funds_in_erc20(e):
    before = e.coin.balanceOf(e.buyer)
    escrow_id, _ = e.create((10 * ETHER,), currency=e.coin)
    assert before - e.coin.balanceOf(e.buyer) == 10 * ETHER
    assert e.coin.balanceOf(e.escrow) == 10 * ETHER
    assert e.escrow.escrowBalance(e.coin) == 10 * ETHER
    assert e.escrow.openAmount(escrow_id) == 10 * ETHER


def test_create_refuses_wrong_funding(e):
    with reverts("EscrowFundingMismatch", expected=3 * ETHER, received=ETHER):
        e.create((ETHER, 2 * ETHER), value=ETHER)
    with reverts("EscrowFundingMismatch", expected=0, received=1):
        e.create((ETHER,), currency=e.coin, value=1)


@pytest.mark.parametrize("token", ["MktTestFeeERC20", "MktTestLyingERC20"])
def test_create_refuses_tokens_that_do_not_arrive_in_full(e, ape_project, token):
    bad = getattr(ape_project, token).deploy(sender=e.admin)
    bad.mint(e.buyer, 100 * ETHER, sender=e.admin)
    bad.approve(e.escrow, 2**256 - 1, sender=e.buyer)
    received = 99 * ETHER // 10 if token == "MktTestFeeERC20" else 0
    with reverts("EscrowFundingMismatch", expected=10 * ETHER, received=received):
        e.create((10 * ETHER,), currency=bad)


def test_create_refuses_invalid_parties_and_terms(e):
    t = now()
    with reverts("EscrowPartyInvalid", party=ZERO):
        e.create(seller=ZERO)
    with reverts("EscrowPartyInvalid", party=e.buyer.address):
        e.create(seller=e.buyer)
    for arbitrator in (ZERO, e.buyer.address, e.seller.address):
        with reverts("EscrowPartyInvalid", party=arbitrator):
            e.escrow.createEscrow(e.seller, arbitrator, ZERO, REVIEW, TERMS, [(ETHER, t + DAY)], sender=e.buyer,
                                  value=ETHER)
    with reverts("EscrowReviewPeriodInvalid", reviewPeriod=0):
        e.create(review=0)
    with reverts("EscrowMilestoneCountInvalid", count=0, maxCount=32):
        e.create(amounts=(), deadlines=[], value=0)
    with reverts("EscrowMilestoneCountInvalid", count=33, maxCount=32):
        e.create(amounts=(1,) * 33, deadlines=[t + DAY] * 33)
    with reverts("MilestoneAmountZero", index=1):
        e.create(amounts=(ETHER, 0))
    with reverts("MilestoneDeadlinePassed", index=0, deadline=t):
        e.create(amounts=(ETHER,), deadlines=[t])


def test_escrow_ids_count_up_from_one(e):
    assert e.create()[0] == 1
    assert e.create()[0] == 2


# ------------------------------------------------------------------ delivery


def test_seller_delivers_with_content_hash_and_cid(e):
    escrow_id, _ = e.create()
    tx = e.deliver(escrow_id, 0)
    log = one_event(tx, "MilestoneDelivered")
    assert (log.escrowId, log.index, log.contentHash, log.cid) == (escrow_id, 0, CONTENT, CID)
    m = e.milestone(escrow_id, 0)
    assert m.state == DELIVERED and m.deliveredAt == tx.timestamp


def test_delivery_errors(e):
    escrow_id, _ = e.create()
    with reverts("EscrowUnauthorized", escrowId=escrow_id, caller=e.buyer.address):
        e.deliver(escrow_id, 0, by=e.buyer)
    with reverts("MilestoneDeliveryEmpty", escrowId=escrow_id, index=0):
        e.escrow.deliverMilestone(escrow_id, 0, b"\x00" * 32, CID, sender=e.seller)
    with reverts("MilestoneDeliveryEmpty", escrowId=escrow_id, index=0):
        e.escrow.deliverMilestone(escrow_id, 0, CONTENT, "", sender=e.seller)
    with reverts("EscrowNotFound", escrowId=99):
        e.deliver(99, 0)
    with reverts("MilestoneNotFound", escrowId=escrow_id, index=2):
        e.deliver(escrow_id, 2)
    e.deliver(escrow_id, 0)
    with reverts("MilestoneStateInvalid", escrowId=escrow_id, index=0, state=DELIVERED):
        e.deliver(escrow_id, 0)


def test_late_delivery_is_refused(e):
    deadline = now() + DAY
    escrow_id, _ = e.create(amounts=(ETHER,), deadlines=[deadline])
    travel_to(deadline + 1)
    with reverts("MilestoneDeliveryLate", escrowId=escrow_id, index=0, deadline=deadline):
        e.deliver(escrow_id, 0)


def test_delivery_in_the_deadline_second_is_on_time(e):
    deadline = now() + DAY
    escrow_id, _ = e.create(amounts=(ETHER,), deadlines=[deadline])
    travel_to(deadline)
    e.deliver(escrow_id, 0)
    assert e.milestone(escrow_id).state == DELIVERED


# ------------------------------------------------------------------ acceptance and claims


def test_buyer_accepts_and_the_seller_is_paid_less_the_fee(e):
    escrow_id, _ = e.create((ETHER, 2 * ETHER))
    e.deliver(escrow_id, 0)
    seller_before, treasury_before = balance(e.seller), balance(e.treasury)
    tx = e.escrow.acceptMilestone(escrow_id, 0, sender=e.buyer)
    log = one_event(tx, "MilestoneReleased")
    assert (log.escrowId, log.index, log.by) == (escrow_id, 0, e.buyer.address)
    assert (log.toSeller, log.fee) == (ETHER - fee_of(ETHER), fee_of(ETHER))
    assert balance(e.seller) - seller_before == ETHER - fee_of(ETHER)
    assert balance(e.treasury) - treasury_before == fee_of(ETHER)
    assert e.milestone(escrow_id, 0).state == RELEASED
    assert e.escrow.openAmount(escrow_id) == 2 * ETHER
    assert e.escrow.escrowBalance(ZERO) == 2 * ETHER == balance(e.escrow)


def test_accept_errors(e):
    escrow_id, _ = e.create()
    with reverts("MilestoneStateInvalid", state=FUNDED):
        e.escrow.acceptMilestone(escrow_id, 0, sender=e.buyer)
    e.deliver(escrow_id, 0)
    with reverts("EscrowUnauthorized", caller=e.seller.address):
        e.escrow.acceptMilestone(escrow_id, 0, sender=e.seller)


def test_erc20_release_pays_seller_and_treasury_in_the_token(e):
    escrow_id, _ = e.create((10 * ETHER,), currency=e.coin)
    e.deliver(escrow_id, 0)
    e.escrow.acceptMilestone(escrow_id, 0, sender=e.buyer)
    assert e.coin.balanceOf(e.seller) == 10 * ETHER - fee_of(10 * ETHER)
    assert e.coin.balanceOf(e.treasury) == fee_of(10 * ETHER)
    assert e.coin.balanceOf(e.escrow) == 0


def test_seller_claims_after_a_silent_review_period(e):
    escrow_id, _ = e.create((ETHER,))
    delivered_at = e.deliver(escrow_id, 0).timestamp
    review_ends = delivered_at + REVIEW
    travel_to(review_ends)
    with reverts("MilestoneReviewOpen", escrowId=escrow_id, index=0, reviewEnds=review_ends):
        e.escrow.claimMilestone(escrow_id, 0, sender=e.seller)
    travel_to(review_ends + 1)
    tx = e.escrow.claimMilestone(escrow_id, 0, sender=e.seller)
    assert one_event(tx, "MilestoneReleased").by == e.seller.address
    assert e.milestone(escrow_id).state == RELEASED
    with reverts("MilestoneStateInvalid", state=RELEASED):
        e.escrow.claimMilestone(escrow_id, 0, sender=e.seller)


def test_only_the_seller_claims(e):
    escrow_id, _ = e.create((ETHER,))
    e.deliver(escrow_id, 0)
    with reverts("EscrowUnauthorized", caller=e.stranger.address):
        e.escrow.claimMilestone(escrow_id, 0, sender=e.stranger)


# ------------------------------------------------------------------ disputes


def test_dispute_and_arbitrated_split(e):
    escrow_id, _ = e.create((10 * ETHER,))
    e.deliver(escrow_id, 0)
    tx = e.escrow.disputeMilestone(escrow_id, 0, sender=e.buyer)
    assert (one_event(tx, "MilestoneDisputed").escrowId, e.milestone(escrow_id).state) == (escrow_id, DISPUTED)
    with reverts("EscrowUnauthorized", caller=e.buyer.address):
        e.escrow.resolveDispute(escrow_id, 0, 5_000, sender=e.buyer)
    with reverts("DisputeSplitInvalid", sellerBps=10_001):
        e.escrow.resolveDispute(escrow_id, 0, 10_001, sender=e.arbitrator)
    seller_before, buyer_before, treasury_before = balance(e.seller), balance(e.buyer), balance(e.treasury)

    tx = e.escrow.resolveDispute(escrow_id, 0, 6_000, sender=e.arbitrator)

    share = 6 * ETHER
    log = one_event(tx, "DisputeResolved")
    assert (log.sellerBps, log.toSeller, log.fee, log.toBuyer) == (6_000, share - fee_of(share), fee_of(share),
                                                                   4 * ETHER)
    assert balance(e.seller) - seller_before == share - fee_of(share)
    assert balance(e.buyer) - buyer_before == 4 * ETHER
    assert balance(e.treasury) - treasury_before == fee_of(share)
    assert e.milestone(escrow_id).state == RESOLVED
    assert balance(e.escrow) == 0 == e.escrow.escrowBalance(ZERO)


@pytest.mark.parametrize("bps", [0, 10_000])
def test_dispute_can_go_wholly_either_way(e, bps):
    escrow_id, _ = e.create((ETHER,))
    e.deliver(escrow_id, 0)
    e.escrow.disputeMilestone(escrow_id, 0, sender=e.buyer)
    tx = e.escrow.resolveDispute(escrow_id, 0, bps, sender=e.arbitrator)
    log = one_event(tx, "DisputeResolved")
    if bps == 0:
        assert (log.toSeller, log.fee, log.toBuyer) == (0, 0, ETHER)
    else:
        assert (log.toSeller, log.fee, log.toBuyer) == (ETHER - fee_of(ETHER), fee_of(ETHER), 0)


def test_dispute_after_the_review_period_is_refused(e):
    escrow_id, _ = e.create((ETHER,))
    delivered_at = e.deliver(escrow_id, 0).timestamp
    travel_to(delivered_at + REVIEW + 1)
    with reverts("MilestoneReviewClosed", reviewEnds=delivered_at + REVIEW):
        e.escrow.disputeMilestone(escrow_id, 0, sender=e.buyer)


def test_dispute_errors(e):
    escrow_id, _ = e.create((ETHER,))
    with reverts("MilestoneStateInvalid", state=FUNDED):
        e.escrow.disputeMilestone(escrow_id, 0, sender=e.buyer)
    e.deliver(escrow_id, 0)
    with reverts("EscrowUnauthorized", caller=e.seller.address):
        e.escrow.disputeMilestone(escrow_id, 0, sender=e.seller)
    with reverts("MilestoneStateInvalid", state=DELIVERED):
        e.escrow.resolveDispute(escrow_id, 0, 5_000, sender=e.arbitrator)


# ------------------------------------------------------------------ unanswered disputes


def test_a_dispute_the_arbitrator_never_answers_settles_by_the_default_split(e):
    escrow_id, _ = e.create((10 * ETHER,))
    e.deliver(escrow_id, 0)
    disputed_at = e.escrow.disputeMilestone(escrow_id, 0, sender=e.buyer).timestamp
    assert e.milestone(escrow_id).disputedAt == disputed_at
    travel_to(disputed_at + ARBITRATION)
    with reverts("DisputeArbitrationOpen", escrowId=escrow_id, index=0, arbitrationEnds=disputed_at + ARBITRATION):
        e.escrow.settleLapsedDispute(escrow_id, 0, sender=e.stranger)
    travel_to(disputed_at + ARBITRATION + 1)
    seller_before, buyer_before, treasury_before = balance(e.seller), balance(e.buyer), balance(e.treasury)

    tx = e.escrow.settleLapsedDispute(escrow_id, 0, sender=e.stranger)  # anyone may settle

    share = 10 * ETHER * DEFAULT_SELLER_BPS // 10_000
    assert one_event(tx, "DisputeLapsed").settledBy == e.stranger.address
    log = one_event(tx, "DisputeResolved")
    assert (log.sellerBps, log.toSeller, log.fee, log.toBuyer) == (
        DEFAULT_SELLER_BPS, share - fee_of(share), fee_of(share), 10 * ETHER - share)
    assert balance(e.seller) - seller_before == share - fee_of(share)
    assert balance(e.buyer) - buyer_before == 10 * ETHER - share
    assert balance(e.treasury) - treasury_before == fee_of(share)
    assert e.milestone(escrow_id).state == RESOLVED
    assert balance(e.escrow) == 0 == e.escrow.escrowBalance(ZERO)
    with reverts("MilestoneStateInvalid", state=RESOLVED):
        e.escrow.settleLapsedDispute(escrow_id, 0, sender=e.stranger)
    with reverts("MilestoneStateInvalid", state=RESOLVED):
        e.escrow.resolveDispute(escrow_id, 0, 10_000, sender=e.arbitrator)


def test_the_arbitrator_may_still_answer_late_until_someone_settles(e):
    escrow_id, _ = e.create((ETHER,), terms=(DAY, 10_000, ZERO, 0))
    e.deliver(escrow_id, 0)
    disputed_at = e.escrow.disputeMilestone(escrow_id, 0, sender=e.buyer).timestamp
    travel_to(disputed_at + 2 * DAY)
    tx = e.escrow.resolveDispute(escrow_id, 0, 0, sender=e.arbitrator)
    assert one_event(tx, "DisputeResolved").toBuyer == ETHER
    with reverts("MilestoneStateInvalid", state=RESOLVED):
        e.escrow.settleLapsedDispute(escrow_id, 0, sender=e.seller)


def test_settling_needs_a_dispute(e):
    escrow_id, _ = e.create((ETHER,))
    with reverts("MilestoneStateInvalid", state=FUNDED):
        e.escrow.settleLapsedDispute(escrow_id, 0, sender=e.seller)
    e.deliver(escrow_id, 0)
    with reverts("MilestoneStateInvalid", state=DELIVERED):
        e.escrow.settleLapsedDispute(escrow_id, 0, sender=e.seller)


@pytest.mark.parametrize("terms", [
    (0, 5_000, ZERO, 0),  # no arbitration period: a dispute would lapse at once
    (DAY, 10_001, ZERO, 0),  # default split above the whole
    (DAY, 5_000, "stranger", 0),  # a receiver without bps
    (DAY, 5_000, ZERO, 500),  # bps without a receiver
    (DAY, 5_000, "stranger", 10_000 - FEE_BPS + 1),  # royalty + fee above the whole
])
def test_create_refuses_invalid_dispute_and_royalty_terms(e, terms):
    period, default_bps, receiver, royalty_bps = terms
    receiver = e.stranger.address if receiver == "stranger" else receiver
    with reverts("EscrowTermsInvalid", arbitrationPeriod=period, defaultSellerBps=default_bps,
                 royaltyReceiver=receiver, royaltyBps=royalty_bps):
        e.create((ETHER,), terms=(period, default_bps, receiver, royalty_bps))


# ------------------------------------------------------------------ royalties of a derivative commission


def test_release_pays_the_terms_royalty_out_of_the_sellers_part(e):
    escrow_id, _ = e.create((10 * ETHER,), terms=(ARBITRATION, DEFAULT_SELLER_BPS, e.stranger.address, 1_000))
    assert (e.escrow.getEscrow(escrow_id).royaltyReceiver, e.escrow.getEscrow(escrow_id).royaltyBps) == (
        e.stranger.address, 1_000)
    e.deliver(escrow_id, 0)
    seller_before, holder_before, treasury_before = balance(e.seller), balance(e.stranger), balance(e.treasury)

    tx = e.escrow.acceptMilestone(escrow_id, 0, sender=e.buyer)

    fee, royalty = fee_of(10 * ETHER), ETHER
    paid = one_event(tx, "EscrowRoyaltyPaid")
    assert (paid.receiver, paid.amount) == (e.stranger.address, royalty)
    assert one_event(tx, "MilestoneReleased").toSeller == 10 * ETHER - fee - royalty
    assert balance(e.stranger) - holder_before == royalty
    assert balance(e.treasury) - treasury_before == fee
    assert balance(e.seller) - seller_before == 10 * ETHER - fee - royalty
    assert balance(e.escrow) == 0


def test_a_split_pays_the_royalty_only_on_the_sellers_share(e):
    escrow_id, _ = e.create((10 * ETHER,), terms=(ARBITRATION, DEFAULT_SELLER_BPS, e.stranger.address, 1_000))
    e.deliver(escrow_id, 0)
    e.escrow.disputeMilestone(escrow_id, 0, sender=e.buyer)
    holder_before, buyer_before = balance(e.stranger), balance(e.buyer)
    tx = e.escrow.resolveDispute(escrow_id, 0, 4_000, sender=e.arbitrator)
    share = 4 * ETHER
    log = one_event(tx, "DisputeResolved")
    assert (log.toSeller, log.fee, log.toBuyer) == (share - fee_of(share) - share // 10, fee_of(share), 6 * ETHER)
    assert balance(e.stranger) - holder_before == share // 10
    assert balance(e.buyer) - buyer_before == 6 * ETHER


# ------------------------------------------------------------------ missed deadlines


def test_buyer_reclaims_an_undelivered_milestone_after_its_deadline(e):
    deadline = now() + DAY
    escrow_id, _ = e.create((ETHER,), deadlines=[deadline])
    travel_to(deadline)
    with reverts("MilestoneDeadlineNotReached", escrowId=escrow_id, index=0, deadline=deadline):
        e.escrow.reclaimMilestone(escrow_id, 0, sender=e.buyer)
    travel_to(deadline + 1)
    buyer_before = balance(e.buyer)
    tx = e.escrow.reclaimMilestone(escrow_id, 0, sender=e.buyer)
    assert (one_event(tx, "MilestoneRefunded").amount, e.milestone(escrow_id).state) == (ETHER, REFUNDED)
    assert balance(e.buyer) - buyer_before == ETHER - tx.total_fees_paid  # refunds carry no fee
    assert balance(e.escrow) == 0


def test_reclaim_errors(e):
    escrow_id, _ = e.create((ETHER,))
    with reverts("EscrowUnauthorized", caller=e.seller.address):
        e.escrow.reclaimMilestone(escrow_id, 0, sender=e.seller)
    e.deliver(escrow_id, 0)
    with reverts("MilestoneStateInvalid", state=DELIVERED):
        e.escrow.reclaimMilestone(escrow_id, 0, sender=e.buyer)


# ------------------------------------------------------------------ failed payouts


def test_seller_contract_that_rejects_eth_is_credited_and_withdraws_elsewhere(e, ape_project):
    wallet = ape_project.MktTestActor.deploy(e.seller, sender=e.seller)
    wallet.configure(1, 0, ZERO, b"", 0, sender=e.seller)  # rejects ETH
    escrow_id, _ = e.create((ETHER,), seller=wallet, accept=False)
    wallet.execute(e.escrow, 0, e.escrow.acceptEscrow.encode_input(escrow_id), sender=e.seller)
    wallet.execute(e.escrow, 0, e.escrow.deliverMilestone.encode_input(escrow_id, 0, CONTENT, CID), sender=e.seller)
    tx = e.escrow.acceptMilestone(escrow_id, 0, sender=e.buyer)
    credited = one_event(tx, "PaymentCredited")
    owed = ETHER - fee_of(ETHER)
    assert (credited.currency, credited.payee, credited.amount) == (ZERO, wallet.address, owed)
    assert e.escrow.pendingWithdrawals(ZERO, wallet) == owed == e.escrow.owedBalance(ZERO)
    assert balance(e.escrow) == owed
    before = balance(e.seller)
    tx = wallet.execute(e.escrow, 0, e.escrow.withdrawTo.encode_input(ZERO, e.seller), sender=e.seller)
    assert balance(e.seller) - before == owed - tx.total_fees_paid
    assert e.escrow.owedBalance(ZERO) == 0 == balance(e.escrow)


def test_blocked_erc20_seller_is_credited(e):
    e.coin.setBlocked(e.seller, True, sender=e.admin)
    escrow_id, _ = e.create((10 * ETHER,), currency=e.coin)
    e.deliver(escrow_id, 0)
    e.escrow.acceptMilestone(escrow_id, 0, sender=e.buyer)
    owed = 10 * ETHER - fee_of(10 * ETHER)
    assert e.escrow.pendingWithdrawals(e.coin, e.seller) == owed
    assert e.coin.balanceOf(e.escrow) == owed == e.escrow.owedBalance(e.coin)
    with reverts("WithdrawalFailed", currency=e.coin.address, payee=e.seller.address, to=e.seller.address,
                 amount=owed):
        e.escrow.withdraw(e.coin, sender=e.seller)
    tx = e.escrow.withdrawTo(e.coin, e.stranger, sender=e.seller)
    log = one_event(tx, "Withdrawn")
    assert (log.currency, log.payee, log.to, log.amount) == (e.coin.address, e.seller.address, e.stranger.address,
                                                             owed)
    with reverts("WithdrawalNothingOwed", currency=e.coin.address, payee=e.seller.address):
        e.escrow.withdraw(e.coin, sender=e.seller)


# ------------------------------------------------------------------ administration


@pytest.mark.parametrize(("call", "role"), [
    (lambda e, s: e.escrow.setPlatformFee(100, sender=s), b"\x00" * 32),
    (lambda e, s: e.escrow.setTreasury(s, sender=s), b"\x00" * 32),
    (lambda e, s: e.escrow.pause(sender=s), PAUSER_ROLE),
    (lambda e, s: e.escrow.unpause(sender=s), PAUSER_ROLE),
], ids=["setPlatformFee", "setTreasury", "pause", "unpause"])
def test_escrow_admin_functions_refuse_an_account_without_the_role(e, call, role):
    with reverts("AccessControlUnauthorizedAccount", account=e.stranger.address, neededRole=role):
        call(e, e.stranger)


def test_escrow_fee_is_capped_and_fixed_at_creation(e):
    with reverts("PlatformFeeTooHigh", feeBps=1_001, maxFeeBps=1_000):
        e.escrow.setPlatformFee(1_001, sender=e.admin)
    escrow_id, _ = e.create((ETHER,))
    assert one_event(e.escrow.setPlatformFee(1_000, sender=e.admin), "PlatformFeeSet").feeBps == 1_000
    e.deliver(escrow_id, 0)
    tx = e.escrow.acceptMilestone(escrow_id, 0, sender=e.buyer)
    assert one_event(tx, "MilestoneReleased").fee == fee_of(ETHER)  # 2.5%, the terms at creation
    later, _ = e.create((ETHER,))
    assert e.escrow.getEscrow(later).feeBps == 1_000


def test_escrow_treasury_cannot_be_zero(e, ape_project):
    with reverts("TreasuryZeroAddress"):
        e.escrow.setTreasury(ZERO, sender=e.admin)
    assert one_event(e.escrow.setTreasury(e.stranger, sender=e.admin), "TreasurySet").treasury == e.stranger.address
    with reverts("TreasuryZeroAddress"):
        ape_project.MilestoneEscrow.deploy(e.admin, ZERO, 250, sender=e.admin)


def test_pause_stops_new_escrows_but_funded_ones_run_to_completion(e):
    escrow_id, _ = e.create((ETHER,))
    e.escrow.pause(sender=e.admin)
    with reverts("EnforcedPause"):
        e.create((ETHER,))
    e.deliver(escrow_id, 0)
    e.escrow.acceptMilestone(escrow_id, 0, sender=e.buyer)
    assert e.milestone(escrow_id).state == RELEASED
    e.escrow.unpause(sender=e.admin)
    e.create((ETHER,))


# ------------------------------------------------------------------ the seller sees and accepts the terms


def test_creation_publishes_every_term_the_seller_accepts(e):
    royalty_terms = (ARBITRATION, 7_000, e.stranger.address, 500)
    escrow_id, tx = e.create((ETHER,), terms=royalty_terms, accept=False)
    log = one_event(tx, "EscrowTermsSet")
    assert (log.escrowId, log.arbitrator, log.arbitrationPeriod, log.defaultSellerBps, log.royaltyReceiver,
            log.royaltyBps) == (escrow_id, e.arbitrator.address, ARBITRATION, 7_000, e.stranger.address, 500)
    assert e.escrow.getEscrow(escrow_id).sellerAccepted is False


def test_a_milestone_counts_only_after_the_seller_accepted_the_terms(e):
    escrow_id, _ = e.create((ETHER,), accept=False)
    with reverts("EscrowNotAccepted", escrowId=escrow_id):
        e.deliver(escrow_id, 0)
    with reverts("EscrowUnauthorized", escrowId=escrow_id, caller=e.buyer.address):
        e.escrow.acceptEscrow(escrow_id, sender=e.buyer)
    tx = e.escrow.acceptEscrow(escrow_id, sender=e.seller)
    assert one_event(tx, "EscrowAccepted").escrowId == escrow_id
    with reverts("EscrowAlreadyAccepted", escrowId=escrow_id):
        e.escrow.acceptEscrow(escrow_id, sender=e.seller)
    e.deliver(escrow_id, 0)
    assert e.milestone(escrow_id).state == DELIVERED


def test_buyer_takes_back_an_escrow_the_seller_never_accepted_without_waiting(e):
    """Until the seller accepts, nothing binds the buyer's funds: every milestone can be reclaimed
    at once. After acceptance, only a missed deadline refunds."""
    escrow_id, _ = e.create((ETHER, ETHER), accept=False)
    e.escrow.reclaimMilestone(escrow_id, 0, sender=e.buyer)
    e.escrow.acceptEscrow(escrow_id, sender=e.seller)
    deadline = e.milestone(escrow_id, 1).deadline
    with reverts("MilestoneDeadlineNotReached", escrowId=escrow_id, index=1, deadline=deadline):
        e.escrow.reclaimMilestone(escrow_id, 1, sender=e.buyer)


@pytest.mark.parametrize("which", ["review", "arbitration"])
def test_periods_are_bounded(e, which):
    too_long = int(e.escrow.MAX_PERIOD()) + 1
    t = now()
    review, terms = (too_long, TERMS) if which == "review" else (REVIEW, (too_long, DEFAULT_SELLER_BPS, ZERO, 0))
    name = "EscrowReviewPeriodInvalid" if which == "review" else "EscrowTermsInvalid"
    with reverts(name):
        e.escrow.createEscrow(e.seller, e.arbitrator, ZERO, review, terms, [(ETHER, t + DAY)], sender=e.buyer,
                              value=ETHER)
