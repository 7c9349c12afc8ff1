"""No party can lock another party's funds: every amount the marketplace escrows has a way out.

What the marketplace holds: auction bids (until settlement, or until the bidder is outbid, when
they become a credit), credits (failed payouts, outbid bids, the treasury's fees), and, for an
instant inside a fill, an ERC-20 price. Each path out is exercised here against an adversary who
controls something the path depends on: the collection owner (royalty, halting the collection
through the breaker is the operator's), the royalty receiver, the pauser.
"""

from __future__ import annotations

import pytest

from tests.support.marketplace import (
    ACCEPT,
    BURN_GAS,
    DAY,
    ETHER,
    FEE_BPS,
    REVERT,
    balance,
    now,
    one_event,
    reverts,
    split,
    travel,
)

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("market_isolated")]

OPEN, SETTLED, CANCELLED = 1, 2, 3


def open_auction(w, bid=ETHER):
    """nft #1 auctioned by the seller for a day, with ``bid`` from the buyer."""
    w.mint(w.seller, 1)
    params = (w.nft.address, 0, 1, 1, ETHER, 0, 500, 0, now() + DAY, 300)
    auction_id = one_event(w.market.createAuction(params, sender=w.seller), "AuctionCreated").auctionId
    w.market.bid(auction_id, sender=w.buyer, value=bid)
    return auction_id


# ------------------------------------------------------------------ royalty raised mid-way


@pytest.mark.parametrize("bps", [10_000, 9_800], ids=["to_100_percent", "above_price_minus_fee"])
def test_royalty_raised_during_an_auction_cannot_block_settlement(w, bps):
    """The royalty the seller accepted is the collection's royalty when the auction was created:
    a later raise is capped at it, so settlement pays the terms of creation."""
    auction_id = open_auction(w)
    w.nft.setDefaultRoyalty(w.splitter, bps, sender=w.admin)
    travel(DAY + 1)
    royalty, fee, proceeds = split(ETHER)  # the 5% of creation
    seller_before, splitter_before = balance(w.seller), balance(w.splitter)

    tx = w.market.settleAuction(auction_id, sender=w.stranger)

    log = one_event(tx, "AuctionSettled")
    assert (log.royalty, log.fee) == (royalty, fee)
    assert balance(w.seller) - seller_before == proceeds
    assert balance(w.splitter) - splitter_before == royalty
    assert w.nft.ownerOf(1) == w.buyer.address


def test_royalty_lowered_during_an_auction_pays_the_lower_royalty(w):
    auction_id = open_auction(w)
    w.nft.setDefaultRoyalty(w.splitter, 100, sender=w.admin)
    travel(DAY + 1)
    tx = w.market.settleAuction(auction_id, sender=w.stranger)
    assert one_event(tx, "AuctionSettled").royalty == ETHER * 100 // 10_000


def test_listing_fill_caps_a_royalty_above_the_proceeds(w):
    """A listing cannot be filled into a stuck state: the royalty is capped at what the fee leaves."""
    w.mint(w.seller, 1)
    signed = w.listing(token_id=1, unit_price=ETHER)
    w.nft.setTokenRoyalty(1, w.splitter, 10_000, sender=w.admin)
    fee = ETHER * FEE_BPS // 10_000
    seller_before = balance(w.seller)
    tx = w.fill_listing(signed)
    log = one_event(tx, "OrderFilled")
    assert (log.royalty, log.fee) == (ETHER - fee, fee)
    assert balance(w.seller) == seller_before
    assert w.nft.ownerOf(1) == w.buyer.address


def test_offer_fill_caps_a_royalty_above_the_proceeds(w):
    w.mint(w.seller, 1)
    signed = w.offer(token_id=1, unit_price=ETHER)
    w.nft.setTokenRoyalty(1, w.splitter, 10_000, sender=w.admin)
    fee = ETHER * FEE_BPS // 10_000
    tx = w.fill_offer(signed)
    log = one_event(tx, "OrderFilled")
    assert (log.royalty, log.fee) == (ETHER - fee, fee)
    assert w.coin.balanceOf(w.splitter) == ETHER - fee
    assert w.nft.ownerOf(1) == w.buyer.address


# ------------------------------------------------------------------ settlement blocked for good


def test_bid_comes_back_when_the_collection_stays_halted(w):
    auction_id = open_auction(w)
    w.market.setHalted(w.nft, True, sender=w.admin)
    travel(DAY + 1)
    with reverts("CollectionHalted"):
        w.market.settleAuction(auction_id, sender=w.buyer)
    grace = int(w.market.SETTLEMENT_GRACE())
    travel(grace)

    tx = w.market.unwindAuction(auction_id, sender=w.buyer)

    assert one_event(tx, "AuctionUnwound").auctionId == auction_id
    assert w.market.getAuction(auction_id).status == CANCELLED
    assert w.nft.ownerOf(1) == w.seller.address
    assert w.credit(w.buyer) == ETHER
    before = balance(w.buyer)
    receipt = w.market.withdraw(sender=w.buyer)
    assert balance(w.buyer) - before == ETHER - receipt.total_fees_paid
    assert balance(w.market) == 0


def test_bid_comes_back_while_the_marketplace_stays_paused(w):
    auction_id = open_auction(w)
    w.market.pause(sender=w.admin)
    travel(DAY + 1 + int(w.market.SETTLEMENT_GRACE()))
    with reverts("EnforcedPause"):
        w.market.settleAuction(auction_id, sender=w.buyer)
    w.market.unwindAuction(auction_id, sender=w.seller)  # either party (or anyone) may unwind
    assert w.nft.ownerOf(1) == w.seller.address
    w.market.withdraw(sender=w.buyer)
    assert balance(w.market) == 0


def test_unwind_is_refused_before_the_grace_period_ends(w):
    """Within the grace period only settlement ends an auction: the seller cannot walk away from
    a winning bid by unwinding instead of settling."""
    auction_id = open_auction(w)
    end = w.market.getAuction(auction_id).end
    grace = int(w.market.SETTLEMENT_GRACE())
    with reverts("AuctionUnwindTooEarly", auctionId=auction_id, unwindableAt=end + grace):
        w.market.unwindAuction(auction_id, sender=w.seller)
    travel(DAY + 1)
    with reverts("AuctionUnwindTooEarly", auctionId=auction_id, unwindableAt=end + grace):
        w.market.unwindAuction(auction_id, sender=w.seller)


def test_unwind_of_a_settled_auction_is_refused(w):
    auction_id = open_auction(w)
    travel(DAY + 1)
    w.market.settleAuction(auction_id, sender=w.buyer)
    travel(int(w.market.SETTLEMENT_GRACE()))
    with reverts("AuctionNotOpen", auctionId=auction_id, status=SETTLED):
        w.market.unwindAuction(auction_id, sender=w.seller)


@pytest.mark.parametrize("mode", [REVERT, BURN_GAS], ids=["reverts", "burns_gas"])
def test_royalty_receiver_that_fails_cannot_block_settlement(w, ape_project, mode):
    receiver = ape_project.MktTestActor.deploy(w.admin, sender=w.admin)
    receiver.configure(mode, ACCEPT, w.market, b"", 0, sender=w.admin)
    w.nft.setDefaultRoyalty(receiver, 500, sender=w.admin)
    auction_id = open_auction(w)
    travel(DAY + 1)
    royalty, _, _ = split(ETHER)
    w.market.settleAuction(auction_id, sender=w.stranger)
    assert w.nft.ownerOf(1) == w.buyer.address
    assert w.credit(receiver) == royalty


def test_outbid_credit_withdraws_while_paused_and_halted(w):
    auction_id = open_auction(w)
    w.market.bid(auction_id, sender=w.buyer2, value=2 * ETHER)
    w.market.pause(sender=w.admin)
    w.market.setHalted(w.nft, True, sender=w.admin)
    w.market.withdraw(sender=w.buyer)
    assert w.credit(w.buyer) == 0
    assert balance(w.market) == 2 * ETHER  # only the open high bid
