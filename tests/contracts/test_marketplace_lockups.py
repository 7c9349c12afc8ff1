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


def open_auction(world, bid=ETHER):
    """nft #1 auctioned by the seller for a day, with ``bid`` from the buyer."""
    world.mint(world.seller, 1)
    params = (world.nft.address, 0, 1, 1, ETHER, 0, 500, 0, now() + DAY, 300)
    auction_id = one_event(world.market.createAuction(params, sender=world.seller), "AuctionCreated").auctionId
    world.market.bid(auction_id, sender=world.buyer, value=bid)
    return auction_id


# ------------------------------------------------------------------ royalty raised mid-way


@pytest.mark.parametrize("bps", [10_000, 9_800], ids=["to_100_percent", "above_price_minus_fee"])
def test_royalty_raised_during_an_auction_cannot_block_settlement(world, bps):
    """The royalty the seller accepted is the collection's royalty when the auction was created:
    a later raise is capped at it, so settlement pays the terms of creation."""
    auction_id = open_auction(world)
    world.nft.setDefaultRoyalty(world.splitter, bps, sender=world.admin)
    travel(DAY + 1)
    royalty, fee, proceeds = split(ETHER)  # the 5% of creation
    seller_before, splitter_before = balance(world.seller), balance(world.splitter)

    tx = world.market.settleAuction(auction_id, sender=world.stranger)

    log = one_event(tx, "AuctionSettled")
    assert (log.royalty, log.fee) == (royalty, fee)
    assert balance(world.seller) - seller_before == proceeds
    assert balance(world.splitter) - splitter_before == royalty
    assert world.nft.ownerOf(1) == world.buyer.address


def test_royalty_lowered_during_an_auction_pays_the_lower_royalty(world):
    auction_id = open_auction(world)
    world.nft.setDefaultRoyalty(world.splitter, 100, sender=world.admin)
    travel(DAY + 1)
    tx = world.market.settleAuction(auction_id, sender=world.stranger)
    assert one_event(tx, "AuctionSettled").royalty == ETHER * 100 // 10_000


def test_listing_fill_caps_a_royalty_above_the_proceeds(world):
    """A listing cannot be filled into a stuck state: the royalty is capped at what the fee leaves."""
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1, unit_price=ETHER)
    world.nft.setTokenRoyalty(1, world.splitter, 10_000, sender=world.admin)
    fee = ETHER * FEE_BPS // 10_000
    seller_before = balance(world.seller)
    tx = world.fill_listing(signed)
    log = one_event(tx, "OrderFilled")
    assert (log.royalty, log.fee) == (ETHER - fee, fee)
    assert balance(world.seller) == seller_before
    assert world.nft.ownerOf(1) == world.buyer.address


def test_offer_fill_caps_a_royalty_above_the_proceeds(world):
    world.mint(world.seller, 1)
    signed = world.offer(token_id=1, unit_price=ETHER)
    world.nft.setTokenRoyalty(1, world.splitter, 10_000, sender=world.admin)
    fee = ETHER * FEE_BPS // 10_000
    tx = world.fill_offer(signed)
    log = one_event(tx, "OrderFilled")
    assert (log.royalty, log.fee) == (ETHER - fee, fee)
    assert world.coin.balanceOf(world.splitter) == ETHER - fee
    assert world.nft.ownerOf(1) == world.buyer.address


# ------------------------------------------------------------------ settlement blocked for good


def test_bid_comes_back_when_the_collection_stays_halted(world):
    auction_id = open_auction(world)
    world.market.setHalted(world.nft, True, sender=world.admin)
    travel(DAY + 1)
    with reverts("CollectionHalted"):
        world.market.settleAuction(auction_id, sender=world.buyer)
    grace = int(world.market.SETTLEMENT_GRACE())
    travel(grace)

    tx = world.market.unwindAuction(auction_id, sender=world.buyer)

    assert one_event(tx, "AuctionUnwound").auctionId == auction_id
    assert world.market.getAuction(auction_id).status == CANCELLED
    assert world.nft.ownerOf(1) == world.seller.address
    assert world.credit(world.buyer) == ETHER
    before = balance(world.buyer)
    receipt = world.market.withdraw(sender=world.buyer)
    assert balance(world.buyer) - before == ETHER - receipt.total_fees_paid
    assert balance(world.market) == 0


def test_bid_comes_back_while_the_marketplace_stays_paused(world):
    auction_id = open_auction(world)
    world.market.pause(sender=world.admin)
    travel(DAY + 1 + int(world.market.SETTLEMENT_GRACE()))
    with reverts("EnforcedPause"):
        world.market.settleAuction(auction_id, sender=world.buyer)
    world.market.unwindAuction(auction_id, sender=world.seller)  # either party (or anyone) may unwind
    assert world.nft.ownerOf(1) == world.seller.address
    world.market.withdraw(sender=world.buyer)
    assert balance(world.market) == 0


def test_unwind_is_refused_before_the_grace_period_ends(world):
    """Within the grace period only settlement ends an auction: the seller cannot walk away from
    a winning bid by unwinding instead of settling."""
    auction_id = open_auction(world)
    end = world.market.getAuction(auction_id).end
    grace = int(world.market.SETTLEMENT_GRACE())
    with reverts("AuctionUnwindTooEarly", auctionId=auction_id, unwindableAt=end + grace):
        world.market.unwindAuction(auction_id, sender=world.seller)
    travel(DAY + 1)
    with reverts("AuctionUnwindTooEarly", auctionId=auction_id, unwindableAt=end + grace):
        world.market.unwindAuction(auction_id, sender=world.seller)


def test_unwind_of_a_settled_auction_is_refused(world):
    auction_id = open_auction(world)
    travel(DAY + 1)
    world.market.settleAuction(auction_id, sender=world.buyer)
    travel(int(world.market.SETTLEMENT_GRACE()))
    with reverts("AuctionNotOpen", auctionId=auction_id, status=SETTLED):
        world.market.unwindAuction(auction_id, sender=world.seller)


@pytest.mark.parametrize("mode", [REVERT, BURN_GAS], ids=["reverts", "burns_gas"])
def test_royalty_receiver_that_fails_cannot_block_settlement(world, ape_project, mode):
    receiver = ape_project.MktTestActor.deploy(world.admin, sender=world.admin)
    receiver.configure(mode, ACCEPT, world.market, b"", 0, sender=world.admin)
    world.nft.setDefaultRoyalty(receiver, 500, sender=world.admin)
    auction_id = open_auction(world)
    travel(DAY + 1)
    royalty, _, _ = split(ETHER)
    world.market.settleAuction(auction_id, sender=world.stranger)
    assert world.nft.ownerOf(1) == world.buyer.address
    assert world.credit(receiver) == royalty


def test_outbid_credit_withdraws_while_paused_and_halted(world):
    auction_id = open_auction(world)
    world.market.bid(auction_id, sender=world.buyer2, value=2 * ETHER)
    world.market.pause(sender=world.admin)
    world.market.setHalted(world.nft, True, sender=world.admin)
    world.market.withdraw(sender=world.buyer)
    assert world.credit(world.buyer) == 0
    assert balance(world.market) == 2 * ETHER  # only the open high bid
