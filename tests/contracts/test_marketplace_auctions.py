"""English auctions: escrowed lots, ETH bids with pull refunds, anti-sniping, settlement, cancellation."""

from __future__ import annotations

import pytest

from chain.orders import TokenStandard
from tests.support.marketplace import (
    DAY,
    ETHER,
    FEE_BPS,
    ZERO,
    balance,
    now,
    one_event,
    reverts,
    split,
    travel,
    travel_to,
)

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("market_isolated")]

OPEN, SETTLED, CANCELLED = 1, 2, 3
EXTENSION = 300


def params(world, *, token=None, standard=TokenStandard.ERC721, token_id=1, quantity=1, reserve=ETHER,
           increment_wei=0, increment_bps=500, start=0, end=None, extension=EXTENSION):
    return ((token or world.nft).address, int(standard), token_id, quantity, reserve, increment_wei, increment_bps,
            start, now() + DAY if end is None else end, extension)


def create(world, **kwargs):
    if kwargs.get("standard") == TokenStandard.ERC1155:
        world.mint1155(world.seller, kwargs.get("token_id", 1), kwargs.get("quantity", 1))
        kwargs.setdefault("token", world.nft1155)
    else:
        world.mint(world.seller, kwargs.get("token_id", 1))
    tx = world.market.createAuction(params(world, **kwargs), sender=world.seller)
    return one_event(tx, "AuctionCreated").auctionId, tx


def end_of(world, auction_id):
    return world.market.getAuction(auction_id).end


# ------------------------------------------------------------------ creation


def test_create_escrows_the_lot_and_records_the_terms(world):
    end = now() + DAY
    auction_id, tx = create(world, end=end)
    log = one_event(tx, "AuctionCreated")
    assert (log.seller, log.token, log.tokenId, log.quantity) == (world.seller.address, world.nft.address, 1, 1)
    assert (log.reservePrice, log.end) == (ETHER, end)
    assert world.nft.ownerOf(1) == world.market.address
    a = world.market.getAuction(auction_id)
    assert (a.seller, a.status, a.highBidder, a.highBid) == (world.seller.address, OPEN, ZERO, 0)
    assert (a.feeBps, a.extension, a.minIncrementBps, a.reservePrice) == (FEE_BPS, EXTENSION, 500, ETHER)
    assert a.start == log.start and a.start <= now()
    assert world.market.minimumBid(auction_id) == ETHER


def test_auction_ids_count_up_from_one(world):
    first, _ = create(world, token_id=1)
    second, _ = create(world, token_id=2)
    assert (first, second) == (1, 2)


@pytest.mark.parametrize("case", ["end_before_start", "end_in_past"])
def test_create_refuses_an_empty_window(world, case):
    world.mint(world.seller, 1)
    t = now()
    start, end = (t + 2 * DAY, t + DAY) if case == "end_before_start" else (0, t - 1)
    with reverts("AuctionWindowInvalid", end=end):
        world.market.createAuction(params(world, start=start, end=end), sender=world.seller)


@pytest.mark.parametrize(("standard", "quantity"), [(TokenStandard.ERC721, 2), (TokenStandard.ERC721, 0),
                                                    (TokenStandard.ERC1155, 0)])
def test_create_refuses_an_invalid_quantity(world, standard, quantity):
    with reverts("AuctionQuantityInvalid", standard=int(standard), quantity=quantity):
        world.market.createAuction(params(world, standard=standard, quantity=quantity), sender=world.seller)


def test_create_requires_the_sellers_identity_when_the_collection_does(world):
    world.market.setIdentityRegistry(world.identity, sender=world.admin)
    world.market.setIdentityRequired(world.nft, True, sender=world.admin)
    world.mint(world.seller, 1)
    with reverts("IdentityNotVerified", account=world.seller.address):
        world.market.createAuction(params(world), sender=world.seller)


# ------------------------------------------------------------------ bidding


def test_first_bid_must_meet_the_reserve(world):
    auction_id, _ = create(world, reserve=ETHER)
    with reverts("AuctionBidTooLow", auctionId=auction_id, bid=ETHER - 1, minimum=ETHER):
        world.market.bid(auction_id, sender=world.buyer, value=ETHER - 1)
    tx = world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    log = one_event(tx, "BidPlaced")
    assert (log.auctionId, log.bidder, log.amount) == (auction_id, world.buyer.address, ETHER)
    assert balance(world.market) == ETHER


def test_zero_reserve_still_needs_a_non_zero_bid(world):
    auction_id, _ = create(world, reserve=0)
    with reverts("AuctionBidTooLow", bid=0, minimum=1):
        world.market.bid(auction_id, sender=world.buyer, value=0)
    world.market.bid(auction_id, sender=world.buyer, value=1)


def test_outbid_bidder_is_credited_not_pushed(world):
    auction_id, _ = create(world)
    world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    buyer_before = balance(world.buyer)
    tx = world.market.bid(auction_id, sender=world.buyer2, value=2 * ETHER)
    credited = one_event(tx, "PaymentCredited")
    assert (credited.payee, credited.amount) == (world.buyer.address, ETHER)
    assert balance(world.buyer) == buyer_before  # nothing pushed
    assert world.credit(world.buyer) == ETHER
    assert world.market.getAuction(auction_id).highBidder == world.buyer2.address
    world.market.withdraw(sender=world.buyer)
    assert world.credit(world.buyer) == 0


def test_bid_must_beat_the_last_by_the_bps_increment(world):
    auction_id, _ = create(world, increment_bps=1_000, increment_wei=0)
    world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    minimum = ETHER + ETHER // 10
    assert world.market.minimumBid(auction_id) == minimum
    with reverts("AuctionBidTooLow", bid=minimum - 1, minimum=minimum):
        world.market.bid(auction_id, sender=world.buyer2, value=minimum - 1)
    world.market.bid(auction_id, sender=world.buyer2, value=minimum)


def test_bid_must_beat_the_last_by_the_larger_of_absolute_and_bps(world):
    auction_id, _ = create(world, increment_bps=100, increment_wei=ETHER // 2)
    world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    assert world.market.minimumBid(auction_id) == ETHER + ETHER // 2
    with reverts("AuctionBidTooLow", minimum=ETHER + ETHER // 2):
        world.market.bid(auction_id, sender=world.buyer2, value=ETHER + ETHER // 100)


def test_without_increments_a_bid_must_still_be_higher(world):
    auction_id, _ = create(world, increment_bps=0, increment_wei=0)
    world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    with reverts("AuctionBidTooLow", bid=ETHER, minimum=ETHER + 1):
        world.market.bid(auction_id, sender=world.buyer2, value=ETHER)


def test_bid_before_start_is_refused(world):
    start = now() + DAY
    auction_id, _ = create(world, start=start, end=start + DAY)
    with reverts("AuctionNotStarted", auctionId=auction_id, start=start):
        world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    travel_to(start)
    world.market.bid(auction_id, sender=world.buyer, value=ETHER)


def test_bid_at_or_after_the_end_is_refused(world):
    auction_id, _ = create(world)
    end = end_of(world, auction_id)
    travel_to(end)
    with reverts("AuctionAlreadyEnded", auctionId=auction_id, end=end):
        world.market.bid(auction_id, sender=world.buyer, value=ETHER)


def test_bid_on_an_unknown_auction_is_refused(world):
    with reverts("AuctionNotOpen", auctionId=99, status=0):
        world.market.bid(99, sender=world.buyer, value=ETHER)


def test_bid_in_the_last_seconds_moves_the_end(world):
    auction_id, _ = create(world)
    end = end_of(world, auction_id)
    world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    assert end_of(world, auction_id) == end  # early bid: no extension
    travel_to(end - 60)
    tx = world.market.bid(auction_id, sender=world.buyer2, value=2 * ETHER)
    new_end = end - 60 + EXTENSION
    assert one_event(tx, "BidPlaced").end == new_end
    assert end_of(world, auction_id) == new_end
    travel_to(end + 10)
    world.market.bid(auction_id, sender=world.buyer, value=3 * ETHER)  # still open thanks to the extension
    with reverts("AuctionNotEnded"):
        world.market.settleAuction(auction_id, sender=world.stranger)


def test_bids_respect_the_band_halt_and_identity_of_the_collection(world):
    auction_id, _ = create(world, reserve=ETHER)
    world.market.setPriceBand(world.nft, ZERO, ETHER, 1_000, sender=world.admin)
    with reverts("PriceOutsideBand", price=2 * ETHER, low=ETHER * 9 // 10, high=ETHER * 11 // 10):
        world.market.bid(auction_id, sender=world.buyer, value=2 * ETHER)
    world.market.setHalted(world.nft, True, sender=world.admin)
    with reverts("CollectionHalted", collection=world.nft.address):
        world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    world.market.setHalted(world.nft, False, sender=world.admin)
    world.market.setIdentityRegistry(world.identity, sender=world.admin)
    world.market.setIdentityRequired(world.nft, True, sender=world.admin)
    with reverts("IdentityNotVerified", account=world.buyer.address):
        world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    world.identity.setVerified(world.buyer, True, sender=world.admin)
    world.market.bid(auction_id, sender=world.buyer, value=ETHER)


def test_erc1155_lot_band_compares_the_unit_bid(world):
    auction_id, _ = create(world, standard=TokenStandard.ERC1155, token_id=3, quantity=4, reserve=ETHER)
    world.market.setPriceBand(world.nft1155, ZERO, ETHER, 0, sender=world.admin)
    world.market.bid(auction_id, sender=world.buyer, value=4 * ETHER)  # 1 ETH per unit
    with reverts("PriceOutsideBand", price=ETHER + ETHER // 4):
        world.market.bid(auction_id, sender=world.buyer2, value=5 * ETHER)


# ------------------------------------------------------------------ settlement


def test_settle_delivers_the_lot_and_splits_the_price(world):
    auction_id, _ = create(world)
    world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    world.market.bid(auction_id, sender=world.buyer2, value=2 * ETHER)
    travel(DAY + 1)
    seller_before, splitter_before = balance(world.seller), balance(world.splitter)
    royalty, fee, proceeds = split(2 * ETHER)

    tx = world.market.settleAuction(auction_id, sender=world.stranger)  # anyone may settle

    assert world.nft.ownerOf(1) == world.buyer2.address
    assert balance(world.seller) - seller_before == proceeds
    assert balance(world.splitter) - splitter_before == royalty
    assert world.credit(world.treasury) == fee
    assert balance(world.market) == fee + ETHER  # the treasury's fee and the outbid bidder's credit
    log = one_event(tx, "AuctionSettled")
    assert (log.auctionId, log.winner, log.amount) == (auction_id, world.buyer2.address, 2 * ETHER)
    assert (log.royaltyReceiver, log.royalty, log.fee) == (world.splitter.address, royalty, fee)
    assert world.market.getAuction(auction_id).status == SETTLED


def test_settle_twice_reverts(world):
    auction_id, _ = create(world)
    world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    travel(DAY + 1)
    world.market.settleAuction(auction_id, sender=world.buyer)
    with reverts("AuctionNotOpen", auctionId=auction_id, status=SETTLED):
        world.market.settleAuction(auction_id, sender=world.buyer)


def test_settle_before_the_end_reverts(world):
    auction_id, _ = create(world)
    with reverts("AuctionNotEnded", auctionId=auction_id, end=end_of(world, auction_id)):
        world.market.settleAuction(auction_id, sender=world.buyer)


def test_settle_without_bids_returns_the_lot_to_the_seller(world):
    auction_id, _ = create(world)
    travel(DAY + 1)
    tx = world.market.settleAuction(auction_id, sender=world.stranger)
    log = one_event(tx, "AuctionSettled")
    assert (log.winner, log.amount, log.royalty, log.fee) == (ZERO, 0, 0, 0)
    assert world.nft.ownerOf(1) == world.seller.address


def test_settlement_uses_the_fee_at_creation(world):
    auction_id, _ = create(world)
    world.market.setPlatformFee(1_000, sender=world.admin)
    world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    travel(DAY + 1)
    tx = world.market.settleAuction(auction_id, sender=world.buyer)
    assert one_event(tx, "AuctionSettled").fee == ETHER * FEE_BPS // 10_000


def test_halted_collection_cannot_settle_until_resumed(world):
    auction_id, _ = create(world)
    world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    travel(DAY + 1)
    world.market.setHalted(world.nft, True, sender=world.admin)
    with reverts("CollectionHalted"):
        world.market.settleAuction(auction_id, sender=world.buyer)
    world.market.setHalted(world.nft, False, sender=world.admin)
    world.market.settleAuction(auction_id, sender=world.buyer)
    assert world.nft.ownerOf(1) == world.buyer.address


def test_erc1155_lot_settles_its_whole_quantity(world):
    auction_id, _ = create(world, standard=TokenStandard.ERC1155, token_id=5, quantity=3, reserve=ETHER)
    assert world.nft1155.balanceOf(world.market, 5) == 3
    world.market.bid(auction_id, sender=world.buyer, value=3 * ETHER)
    travel(DAY + 1)
    world.market.settleAuction(auction_id, sender=world.buyer)
    assert world.nft1155.balanceOf(world.buyer, 5) == 3
    assert world.nft1155.balanceOf(world.market, 5) == 0


# ------------------------------------------------------------------ cancellation


def test_seller_cancels_before_the_first_bid(world):
    auction_id, _ = create(world)
    tx = world.market.cancelAuction(auction_id, sender=world.seller)
    assert one_event(tx, "AuctionCancelled").auctionId == auction_id
    assert world.nft.ownerOf(1) == world.seller.address
    assert world.market.getAuction(auction_id).status == CANCELLED
    with reverts("AuctionNotOpen", status=CANCELLED):
        world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    with reverts("AuctionNotOpen", status=CANCELLED):
        world.market.settleAuction(auction_id, sender=world.buyer)
    with reverts("AuctionNotOpen", status=CANCELLED):
        world.market.cancelAuction(auction_id, sender=world.seller)


def test_only_the_seller_cancels(world):
    auction_id, _ = create(world)
    with reverts("AuctionNotSeller", auctionId=auction_id, caller=world.stranger.address):
        world.market.cancelAuction(auction_id, sender=world.stranger)


def test_cancel_after_a_bid_is_refused(world):
    auction_id, _ = create(world)
    world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    with reverts("AuctionHasBids", auctionId=auction_id):
        world.market.cancelAuction(auction_id, sender=world.seller)


# ------------------------------------------------------------------ lots a recipient rejects


def test_winner_that_rejects_the_lot_cannot_block_settlement_and_claims_it_later(world, ape_project):
    bidder = ape_project.MktTestActor.deploy(world.buyer, sender=world.buyer)
    bidder.configure(0, 1, ZERO, b"", 0, sender=world.buyer)  # accepts ETH, rejects tokens
    auction_id, _ = create(world)
    bidder.execute(world.market, ETHER, world.market.bid.encode_input(auction_id), sender=world.buyer, value=ETHER)
    travel(DAY + 1)
    seller_before = balance(world.seller)

    tx = world.market.settleAuction(auction_id, sender=world.stranger)

    held = one_event(tx, "LotHeld")
    assert (held.auctionId, held.recipient) == (auction_id, bidder.address)
    assert world.nft.ownerOf(1) == world.market.address
    assert balance(world.seller) - seller_before == split(ETHER)[2]  # the seller is paid anyway
    with reverts("LotClaimUnauthorized", auctionId=auction_id, caller=world.seller.address):
        world.market.claimLot(auction_id, world.seller, sender=world.seller)
    tx = bidder.execute(world.market, 0, world.market.claimLot.encode_input(auction_id, world.buyer), sender=world.buyer)
    claimed = one_event(tx, "LotClaimed")
    assert (claimed.auctionId, claimed.recipient, claimed.to) == (auction_id, bidder.address, world.buyer.address)
    assert world.nft.ownerOf(1) == world.buyer.address
    with reverts("LotNotHeld", auctionId=auction_id):
        world.market.claimLot(auction_id, world.buyer, sender=world.buyer)


def test_claim_lot_of_a_delivered_auction_is_refused(world):
    auction_id, _ = create(world)
    travel(DAY + 1)
    world.market.settleAuction(auction_id, sender=world.stranger)
    with reverts("LotNotHeld", auctionId=auction_id):
        world.market.claimLot(auction_id, world.seller, sender=world.seller)
