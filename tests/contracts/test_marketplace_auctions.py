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


def params(w, *, token=None, standard=TokenStandard.ERC721, token_id=1, quantity=1, reserve=ETHER,
           increment_wei=0, increment_bps=500, start=0, end=None, extension=EXTENSION):
    return ((token or w.nft).address, int(standard), token_id, quantity, reserve, increment_wei, increment_bps,
            start, now() + DAY if end is None else end, extension)


def create(w, **kwargs):
    if kwargs.get("standard") == TokenStandard.ERC1155:
        w.mint1155(w.seller, kwargs.get("token_id", 1), kwargs.get("quantity", 1))
        kwargs.setdefault("token", w.nft1155)
    else:
        w.mint(w.seller, kwargs.get("token_id", 1))
    tx = w.market.createAuction(params(w, **kwargs), sender=w.seller)
    return one_event(tx, "AuctionCreated").auctionId, tx


def end_of(w, auction_id):
    return w.market.getAuction(auction_id).end


# ------------------------------------------------------------------ creation


def test_create_escrows_the_lot_and_records_the_terms(w):
    end = now() + DAY
    auction_id, tx = create(w, end=end)
    log = one_event(tx, "AuctionCreated")
    assert (log.seller, log.token, log.tokenId, log.quantity) == (w.seller.address, w.nft.address, 1, 1)
    assert (log.reservePrice, log.end) == (ETHER, end)
    assert w.nft.ownerOf(1) == w.market.address
    a = w.market.getAuction(auction_id)
    assert (a.seller, a.status, a.highBidder, a.highBid) == (w.seller.address, OPEN, ZERO, 0)
    assert (a.feeBps, a.extension, a.minIncrementBps, a.reservePrice) == (FEE_BPS, EXTENSION, 500, ETHER)
    assert a.start == log.start and a.start <= now()
    assert w.market.minimumBid(auction_id) == ETHER


def test_auction_ids_count_up_from_one(w):
    first, _ = create(w, token_id=1)
    second, _ = create(w, token_id=2)
    assert (first, second) == (1, 2)


@pytest.mark.parametrize("case", ["end_before_start", "end_in_past"])
def test_create_refuses_an_empty_window(w, case):
    w.mint(w.seller, 1)
    t = now()
    start, end = (t + 2 * DAY, t + DAY) if case == "end_before_start" else (0, t - 1)
    with reverts("AuctionWindowInvalid", end=end):
        w.market.createAuction(params(w, start=start, end=end), sender=w.seller)


@pytest.mark.parametrize(("standard", "quantity"), [(TokenStandard.ERC721, 2), (TokenStandard.ERC721, 0),
                                                    (TokenStandard.ERC1155, 0)])
def test_create_refuses_an_invalid_quantity(w, standard, quantity):
    with reverts("AuctionQuantityInvalid", standard=int(standard), quantity=quantity):
        w.market.createAuction(params(w, standard=standard, quantity=quantity), sender=w.seller)


def test_create_requires_the_sellers_identity_when_the_collection_does(w):
    w.market.setIdentityRegistry(w.identity, sender=w.admin)
    w.market.setIdentityRequired(w.nft, True, sender=w.admin)
    w.mint(w.seller, 1)
    with reverts("IdentityNotVerified", account=w.seller.address):
        w.market.createAuction(params(w), sender=w.seller)


# ------------------------------------------------------------------ bidding


def test_first_bid_must_meet_the_reserve(w):
    auction_id, _ = create(w, reserve=ETHER)
    with reverts("AuctionBidTooLow", auctionId=auction_id, bid=ETHER - 1, minimum=ETHER):
        w.market.bid(auction_id, sender=w.buyer, value=ETHER - 1)
    tx = w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    log = one_event(tx, "BidPlaced")
    assert (log.auctionId, log.bidder, log.amount) == (auction_id, w.buyer.address, ETHER)
    assert balance(w.market) == ETHER


def test_zero_reserve_still_needs_a_non_zero_bid(w):
    auction_id, _ = create(w, reserve=0)
    with reverts("AuctionBidTooLow", bid=0, minimum=1):
        w.market.bid(auction_id, sender=w.buyer, value=0)
    w.market.bid(auction_id, sender=w.buyer, value=1)


def test_outbid_bidder_is_credited_not_pushed(w):
    auction_id, _ = create(w)
    w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    buyer_before = balance(w.buyer)
    tx = w.market.bid(auction_id, sender=w.buyer2, value=2 * ETHER)
    credited = one_event(tx, "PaymentCredited")
    assert (credited.payee, credited.amount) == (w.buyer.address, ETHER)
    assert balance(w.buyer) == buyer_before  # nothing pushed
    assert w.credit(w.buyer) == ETHER
    assert w.market.getAuction(auction_id).highBidder == w.buyer2.address
    w.market.withdraw(sender=w.buyer)
    assert w.credit(w.buyer) == 0


def test_bid_must_beat_the_last_by_the_bps_increment(w):
    auction_id, _ = create(w, increment_bps=1_000, increment_wei=0)
    w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    minimum = ETHER + ETHER // 10
    assert w.market.minimumBid(auction_id) == minimum
    with reverts("AuctionBidTooLow", bid=minimum - 1, minimum=minimum):
        w.market.bid(auction_id, sender=w.buyer2, value=minimum - 1)
    w.market.bid(auction_id, sender=w.buyer2, value=minimum)


def test_bid_must_beat_the_last_by_the_larger_of_absolute_and_bps(w):
    auction_id, _ = create(w, increment_bps=100, increment_wei=ETHER // 2)
    w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    assert w.market.minimumBid(auction_id) == ETHER + ETHER // 2
    with reverts("AuctionBidTooLow", minimum=ETHER + ETHER // 2):
        w.market.bid(auction_id, sender=w.buyer2, value=ETHER + ETHER // 100)


def test_without_increments_a_bid_must_still_be_higher(w):
    auction_id, _ = create(w, increment_bps=0, increment_wei=0)
    w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    with reverts("AuctionBidTooLow", bid=ETHER, minimum=ETHER + 1):
        w.market.bid(auction_id, sender=w.buyer2, value=ETHER)


def test_bid_before_start_is_refused(w):
    start = now() + DAY
    auction_id, _ = create(w, start=start, end=start + DAY)
    with reverts("AuctionNotStarted", auctionId=auction_id, start=start):
        w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    travel_to(start)
    w.market.bid(auction_id, sender=w.buyer, value=ETHER)


def test_bid_at_or_after_the_end_is_refused(w):
    auction_id, _ = create(w)
    end = end_of(w, auction_id)
    travel_to(end)
    with reverts("AuctionAlreadyEnded", auctionId=auction_id, end=end):
        w.market.bid(auction_id, sender=w.buyer, value=ETHER)


def test_bid_on_an_unknown_auction_is_refused(w):
    with reverts("AuctionNotOpen", auctionId=99, status=0):
        w.market.bid(99, sender=w.buyer, value=ETHER)


def test_bid_in_the_last_seconds_moves_the_end(w):
    auction_id, _ = create(w)
    end = end_of(w, auction_id)
    w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    assert end_of(w, auction_id) == end  # early bid: no extension
    travel_to(end - 60)
    tx = w.market.bid(auction_id, sender=w.buyer2, value=2 * ETHER)
    new_end = end - 60 + EXTENSION
    assert one_event(tx, "BidPlaced").end == new_end
    assert end_of(w, auction_id) == new_end
    travel_to(end + 10)
    w.market.bid(auction_id, sender=w.buyer, value=3 * ETHER)  # still open thanks to the extension
    with reverts("AuctionNotEnded"):
        w.market.settleAuction(auction_id, sender=w.stranger)


def test_bids_respect_the_band_halt_and_identity_of_the_collection(w):
    auction_id, _ = create(w, reserve=ETHER)
    w.market.setPriceBand(w.nft, ZERO, ETHER, 1_000, sender=w.admin)
    with reverts("PriceOutsideBand", price=2 * ETHER, low=ETHER * 9 // 10, high=ETHER * 11 // 10):
        w.market.bid(auction_id, sender=w.buyer, value=2 * ETHER)
    w.market.setHalted(w.nft, True, sender=w.admin)
    with reverts("CollectionHalted", collection=w.nft.address):
        w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    w.market.setHalted(w.nft, False, sender=w.admin)
    w.market.setIdentityRegistry(w.identity, sender=w.admin)
    w.market.setIdentityRequired(w.nft, True, sender=w.admin)
    with reverts("IdentityNotVerified", account=w.buyer.address):
        w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    w.identity.setVerified(w.buyer, True, sender=w.admin)
    w.market.bid(auction_id, sender=w.buyer, value=ETHER)


def test_erc1155_lot_band_compares_the_unit_bid(w):
    auction_id, _ = create(w, standard=TokenStandard.ERC1155, token_id=3, quantity=4, reserve=ETHER)
    w.market.setPriceBand(w.nft1155, ZERO, ETHER, 0, sender=w.admin)
    w.market.bid(auction_id, sender=w.buyer, value=4 * ETHER)  # 1 ETH per unit
    with reverts("PriceOutsideBand", price=ETHER + ETHER // 4):
        w.market.bid(auction_id, sender=w.buyer2, value=5 * ETHER)


# ------------------------------------------------------------------ settlement


def test_settle_delivers_the_lot_and_splits_the_price(w):
    auction_id, _ = create(w)
    w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    w.market.bid(auction_id, sender=w.buyer2, value=2 * ETHER)
    travel(DAY + 1)
    seller_before, splitter_before = balance(w.seller), balance(w.splitter)
    royalty, fee, proceeds = split(2 * ETHER)

    tx = w.market.settleAuction(auction_id, sender=w.stranger)  # anyone may settle

    assert w.nft.ownerOf(1) == w.buyer2.address
    assert balance(w.seller) - seller_before == proceeds
    assert balance(w.splitter) - splitter_before == royalty
    assert w.credit(w.treasury) == fee
    assert balance(w.market) == fee + ETHER  # the treasury's fee and the outbid bidder's credit
    log = one_event(tx, "AuctionSettled")
    assert (log.auctionId, log.winner, log.amount) == (auction_id, w.buyer2.address, 2 * ETHER)
    assert (log.royaltyReceiver, log.royalty, log.fee) == (w.splitter.address, royalty, fee)
    assert w.market.getAuction(auction_id).status == SETTLED


def test_settle_twice_reverts(w):
    auction_id, _ = create(w)
    w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    travel(DAY + 1)
    w.market.settleAuction(auction_id, sender=w.buyer)
    with reverts("AuctionNotOpen", auctionId=auction_id, status=SETTLED):
        w.market.settleAuction(auction_id, sender=w.buyer)


def test_settle_before_the_end_reverts(w):
    auction_id, _ = create(w)
    with reverts("AuctionNotEnded", auctionId=auction_id, end=end_of(w, auction_id)):
        w.market.settleAuction(auction_id, sender=w.buyer)


def test_settle_without_bids_returns_the_lot_to_the_seller(w):
    auction_id, _ = create(w)
    travel(DAY + 1)
    tx = w.market.settleAuction(auction_id, sender=w.stranger)
    log = one_event(tx, "AuctionSettled")
    assert (log.winner, log.amount, log.royalty, log.fee) == (ZERO, 0, 0, 0)
    assert w.nft.ownerOf(1) == w.seller.address


def test_settlement_uses_the_fee_at_creation(w):
    auction_id, _ = create(w)
    w.market.setPlatformFee(1_000, sender=w.admin)
    w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    travel(DAY + 1)
    tx = w.market.settleAuction(auction_id, sender=w.buyer)
    assert one_event(tx, "AuctionSettled").fee == ETHER * FEE_BPS // 10_000


def test_halted_collection_cannot_settle_until_resumed(w):
    auction_id, _ = create(w)
    w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    travel(DAY + 1)
    w.market.setHalted(w.nft, True, sender=w.admin)
    with reverts("CollectionHalted"):
        w.market.settleAuction(auction_id, sender=w.buyer)
    w.market.setHalted(w.nft, False, sender=w.admin)
    w.market.settleAuction(auction_id, sender=w.buyer)
    assert w.nft.ownerOf(1) == w.buyer.address


def test_erc1155_lot_settles_its_whole_quantity(w):
    auction_id, _ = create(w, standard=TokenStandard.ERC1155, token_id=5, quantity=3, reserve=ETHER)
    assert w.nft1155.balanceOf(w.market, 5) == 3
    w.market.bid(auction_id, sender=w.buyer, value=3 * ETHER)
    travel(DAY + 1)
    w.market.settleAuction(auction_id, sender=w.buyer)
    assert w.nft1155.balanceOf(w.buyer, 5) == 3
    assert w.nft1155.balanceOf(w.market, 5) == 0


# ------------------------------------------------------------------ cancellation


def test_seller_cancels_before_the_first_bid(w):
    auction_id, _ = create(w)
    tx = w.market.cancelAuction(auction_id, sender=w.seller)
    assert one_event(tx, "AuctionCancelled").auctionId == auction_id
    assert w.nft.ownerOf(1) == w.seller.address
    assert w.market.getAuction(auction_id).status == CANCELLED
    with reverts("AuctionNotOpen", status=CANCELLED):
        w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    with reverts("AuctionNotOpen", status=CANCELLED):
        w.market.settleAuction(auction_id, sender=w.buyer)
    with reverts("AuctionNotOpen", status=CANCELLED):
        w.market.cancelAuction(auction_id, sender=w.seller)


def test_only_the_seller_cancels(w):
    auction_id, _ = create(w)
    with reverts("AuctionNotSeller", auctionId=auction_id, caller=w.stranger.address):
        w.market.cancelAuction(auction_id, sender=w.stranger)


def test_cancel_after_a_bid_is_refused(w):
    auction_id, _ = create(w)
    w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    with reverts("AuctionHasBids", auctionId=auction_id):
        w.market.cancelAuction(auction_id, sender=w.seller)


# ------------------------------------------------------------------ lots a recipient rejects


def test_winner_that_rejects_the_lot_cannot_block_settlement_and_claims_it_later(w, ape_project):
    bidder = ape_project.MktTestActor.deploy(w.buyer, sender=w.buyer)
    bidder.configure(0, 1, ZERO, b"", 0, sender=w.buyer)  # accepts ETH, rejects tokens
    auction_id, _ = create(w)
    bidder.execute(w.market, ETHER, w.market.bid.encode_input(auction_id), sender=w.buyer, value=ETHER)
    travel(DAY + 1)
    seller_before = balance(w.seller)

    tx = w.market.settleAuction(auction_id, sender=w.stranger)

    held = one_event(tx, "LotHeld")
    assert (held.auctionId, held.recipient) == (auction_id, bidder.address)
    assert w.nft.ownerOf(1) == w.market.address
    assert balance(w.seller) - seller_before == split(ETHER)[2]  # the seller is paid anyway
    with reverts("LotClaimUnauthorized", auctionId=auction_id, caller=w.seller.address):
        w.market.claimLot(auction_id, w.seller, sender=w.seller)
    tx = bidder.execute(w.market, 0, w.market.claimLot.encode_input(auction_id, w.buyer), sender=w.buyer)
    claimed = one_event(tx, "LotClaimed")
    assert (claimed.auctionId, claimed.recipient, claimed.to) == (auction_id, bidder.address, w.buyer.address)
    assert w.nft.ownerOf(1) == w.buyer.address
    with reverts("LotNotHeld", auctionId=auction_id):
        w.market.claimLot(auction_id, w.buyer, sender=w.buyer)


def test_claim_lot_of_a_delivered_auction_is_refused(w):
    auction_id, _ = create(w)
    travel(DAY + 1)
    w.market.settleAuction(auction_id, sender=w.stranger)
    with reverts("LotNotHeld", auctionId=auction_id):
        w.market.claimLot(auction_id, w.seller, sender=w.seller)
