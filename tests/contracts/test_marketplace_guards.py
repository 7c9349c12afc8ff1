"""Marketplace guards and administration: roles, fee, treasury, identity, price bands, halts, pause."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak

from chain.orders import TokenStandard
from tests.support.marketplace import (
    DAY,
    ETHER,
    ZERO,
    now,
    one_event,
    reverts,
)

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("market_isolated")]

ADMIN_ROLE = b"\x00" * 32
POLICY_ADMIN_ROLE = keccak(text="POLICY_ADMIN_ROLE")
RISK_ROLE = keccak(text="RISK_ROLE")
PAUSER_ROLE = keccak(text="PAUSER_ROLE")
MAX_UINT = 2**256 - 1


def _auction_params(w, token_id=1, end_in=DAY):
    return (w.nft.address, int(TokenStandard.ERC721), token_id, 1, ETHER, 0, 500, 0, now() + end_in, 300)


# ------------------------------------------------------------------ roles


def test_role_constants_match_their_names(w):
    assert w.market.POLICY_ADMIN_ROLE() == POLICY_ADMIN_ROLE
    assert w.market.RISK_ROLE() == RISK_ROLE
    assert w.market.PAUSER_ROLE() == PAUSER_ROLE
    for role in (ADMIN_ROLE, POLICY_ADMIN_ROLE, RISK_ROLE, PAUSER_ROLE):
        assert w.market.hasRole(role, w.admin)


@pytest.mark.parametrize(("call", "role"), [
    (lambda w, s: w.market.setPlatformFee(100, sender=s), ADMIN_ROLE),
    (lambda w, s: w.market.setTreasury(s, sender=s), ADMIN_ROLE),
    (lambda w, s: w.market.setIdentityRegistry(w.identity, sender=s), ADMIN_ROLE),
    (lambda w, s: w.market.setIdentityRequired(w.nft, True, sender=s), POLICY_ADMIN_ROLE),
    (lambda w, s: w.market.setPriceBand(w.nft, ZERO, ETHER, 100, sender=s), RISK_ROLE),
    (lambda w, s: w.market.setHalted(w.nft, True, sender=s), RISK_ROLE),
    (lambda w, s: w.market.pause(sender=s), PAUSER_ROLE),
    (lambda w, s: w.market.unpause(sender=s), PAUSER_ROLE),
    (lambda w, s: w.market.grantRole(RISK_ROLE, s, sender=s), ADMIN_ROLE),
], ids=["setPlatformFee", "setTreasury", "setIdentityRegistry", "setIdentityRequired", "setPriceBand",
        "setHalted", "pause", "unpause", "grantRole"])
def test_every_admin_function_refuses_an_account_without_its_role(w, call, role):
    with reverts("AccessControlUnauthorizedAccount", account=w.stranger.address, neededRole=role):
        call(w, w.stranger)


def test_risk_role_drives_bands_and_halts_but_nothing_else(w):
    w.market.grantRole(RISK_ROLE, w.risk, sender=w.admin)
    w.market.setPriceBand(w.nft, ZERO, ETHER, 1_000, sender=w.risk)
    w.market.setHalted(w.nft, True, sender=w.risk)
    assert w.market.collectionPolicy(w.nft) == (True, False)
    with reverts("AccessControlUnauthorizedAccount", account=w.risk.address, neededRole=PAUSER_ROLE):
        w.market.pause(sender=w.risk)
    with reverts("AccessControlUnauthorizedAccount", account=w.risk.address, neededRole=ADMIN_ROLE):
        w.market.setPlatformFee(0, sender=w.risk)
    with reverts("AccessControlUnauthorizedAccount", account=w.risk.address, neededRole=POLICY_ADMIN_ROLE):
        w.market.setIdentityRequired(w.nft, True, sender=w.risk)


def test_a_revoked_role_no_longer_works(w):
    w.market.grantRole(PAUSER_ROLE, w.risk, sender=w.admin)
    w.market.pause(sender=w.risk)
    w.market.revokeRole(PAUSER_ROLE, w.risk, sender=w.admin)
    with reverts("AccessControlUnauthorizedAccount", account=w.risk.address, neededRole=PAUSER_ROLE):
        w.market.unpause(sender=w.risk)


# ------------------------------------------------------------------ fee and treasury


def test_platform_fee_is_capped_at_ten_percent(w):
    assert w.market.MAX_FEE_BPS() == 1_000
    with reverts("PlatformFeeTooHigh", feeBps=1_001, maxFeeBps=1_000):
        w.market.setPlatformFee(1_001, sender=w.admin)
    tx = w.market.setPlatformFee(1_000, sender=w.admin)
    assert one_event(tx, "PlatformFeeSet").feeBps == 1_000
    assert w.market.platformFeeBps() == 1_000


def test_new_fee_applies_to_the_next_sale(w):
    w.market.setPlatformFee(1_000, sender=w.admin)
    w.mint(w.seller, 1)
    tx = w.fill_listing(w.listing(token_id=1, unit_price=ETHER))
    assert one_event(tx, "OrderFilled").fee == ETHER // 10
    assert w.credit(w.treasury) == ETHER // 10


def test_zero_fee_credits_nothing(w):
    w.market.setPlatformFee(0, sender=w.admin)
    w.mint(w.seller, 1)
    tx = w.fill_listing(w.listing(token_id=1, unit_price=ETHER))
    assert one_event(tx, "OrderFilled").fee == 0
    assert w.credit(w.treasury) == 0


def test_deploying_with_a_fee_above_the_cap_or_no_treasury_fails(ape_project, accounts):
    with reverts("PlatformFeeTooHigh", feeBps=1_001, maxFeeBps=1_000):
        ape_project.Marketplace.deploy(accounts[0], accounts[4], 1_001, sender=accounts[0])
    with reverts("TreasuryZeroAddress"):
        ape_project.Marketplace.deploy(accounts[0], ZERO, 250, sender=accounts[0])


def test_treasury_cannot_be_zero_and_its_change_redirects_fees(w):
    with reverts("TreasuryZeroAddress"):
        w.market.setTreasury(ZERO, sender=w.admin)
    tx = w.market.setTreasury(w.stranger, sender=w.admin)
    assert one_event(tx, "TreasurySet").treasury == w.stranger.address
    w.mint(w.seller, 1)
    w.fill_listing(w.listing(token_id=1, unit_price=ETHER))
    assert w.credit(w.stranger) == ETHER * 250 // 10_000
    assert w.credit(w.treasury) == 0


# ------------------------------------------------------------------ identity


def test_identity_requirement_without_a_registry_refuses_trades(w):
    tx = w.market.setIdentityRequired(w.nft, True, sender=w.admin)
    log = one_event(tx, "IdentityRequirementSet")
    assert (log.collection, log.required) == (w.nft.address, True)
    w.mint(w.seller, 1)
    with reverts("IdentityRegistryUnset"):
        w.fill_listing(w.listing(token_id=1))


def test_identity_requirement_checks_seller_and_buyer(w):
    assert w.market.identityRegistry() == ZERO
    tx = w.market.setIdentityRegistry(w.identity, sender=w.admin)
    assert one_event(tx, "IdentityRegistrySet").registry == w.identity.address
    assert w.market.identityRegistry() == w.identity.address
    w.market.setIdentityRequired(w.nft, True, sender=w.admin)
    w.mint(w.seller, 1)
    signed = w.listing(token_id=1)
    with reverts("IdentityNotVerified", account=w.seller.address):
        w.fill_listing(signed)
    w.identity.setVerified(w.seller, True, sender=w.admin)
    with reverts("IdentityNotVerified", account=w.buyer.address):
        w.fill_listing(signed)
    w.identity.setVerified(w.buyer, True, sender=w.admin)
    w.fill_listing(signed)
    assert w.nft.ownerOf(1) == w.buyer.address


def test_identity_requirement_applies_to_offers_with_the_caller_as_seller(w):
    w.market.setIdentityRegistry(w.identity, sender=w.admin)
    w.market.setIdentityRequired(w.nft, True, sender=w.admin)
    w.identity.setVerified(w.buyer, True, sender=w.admin)
    w.mint(w.seller, 1)
    signed = w.offer(token_id=1)
    with reverts("IdentityNotVerified", account=w.seller.address):
        w.fill_offer(signed)
    w.identity.setVerified(w.seller, True, sender=w.admin)
    w.fill_offer(signed)
    assert w.nft.ownerOf(1) == w.buyer.address


def test_identity_requirement_is_per_collection(w, ape_project):
    w.market.setIdentityRegistry(w.identity, sender=w.admin)
    w.market.setIdentityRequired(w.nft, True, sender=w.admin)
    w.mint1155(w.seller, 1, 2)
    signed = w.listing(token=w.nft1155, token_id=1, standard=TokenStandard.ERC1155, quantity=2)
    w.fill_listing(signed, amount=1)  # the 1155 collection has no requirement
    assert w.nft1155.balanceOf(w.buyer, 1) == 1


# ------------------------------------------------------------------ price band


def test_price_band_rejects_fills_outside_it_with_the_band_in_the_error(w):
    tx = w.market.setPriceBand(w.nft, ZERO, ETHER, 1_000, sender=w.admin)
    log = one_event(tx, "PriceBandSet")
    assert (log.collection, log.currency, log.referencePrice, log.widthBps) == (w.nft.address, ZERO, ETHER, 1_000)
    low, high = ETHER * 9 // 10, ETHER * 11 // 10
    assert w.market.priceBand(w.nft, ZERO) == (low, high)
    for token_id, price in ((1, high + 1), (2, low - 1)):
        w.mint(w.seller, token_id)
        with reverts("PriceOutsideBand", collection=w.nft.address, price=price, low=low, high=high):
            w.fill_listing(w.listing(token_id=token_id, unit_price=price))
    for token_id, price in ((3, high), (4, low), (5, ETHER)):  # the bounds are inside the band
        w.mint(w.seller, token_id)
        w.fill_listing(w.listing(token_id=token_id, unit_price=price))
        assert w.nft.ownerOf(token_id) == w.buyer.address


def test_price_band_applies_only_in_its_currency(w):
    w.market.setPriceBand(w.nft, ZERO, ETHER, 1_000, sender=w.admin)
    w.mint(w.seller, 1)
    w.fill_listing(w.listing(token_id=1, unit_price=5 * ETHER, currency=w.coin))  # no band in the coin
    assert w.nft.ownerOf(1) == w.buyer.address
    w.market.setPriceBand(w.nft, w.coin, 100 * ETHER, 0, sender=w.admin)
    w.mint(w.seller, 2)
    with reverts("PriceOutsideBand", price=5 * ETHER, low=100 * ETHER, high=100 * ETHER):
        w.fill_listing(w.listing(token_id=2, unit_price=5 * ETHER, currency=w.coin))


def test_price_band_compares_the_unit_price_of_erc1155_fills(w):
    w.market.setPriceBand(w.nft1155, ZERO, ETHER, 500, sender=w.admin)
    w.mint1155(w.seller, 1, 10)
    signed = w.listing(token=w.nft1155, token_id=1, standard=TokenStandard.ERC1155, quantity=10, unit_price=ETHER)
    w.fill_listing(signed, amount=10)  # total 10 ETH, unit 1 ETH: inside
    assert w.nft1155.balanceOf(w.buyer, 1) == 10


def test_price_band_applies_to_offers(w):
    w.market.setPriceBand(w.nft, w.coin, 10 * ETHER, 1_000, sender=w.admin)
    w.mint(w.seller, 1)
    with reverts("PriceOutsideBand", price=20 * ETHER, low=9 * ETHER, high=11 * ETHER):
        w.fill_offer(w.offer(token_id=1, unit_price=20 * ETHER))


def test_removing_one_band_keeps_the_others(w):
    w.market.setPriceBand(w.nft, ZERO, ETHER, 0, sender=w.admin)
    w.market.setPriceBand(w.nft, w.coin, ETHER, 0, sender=w.admin)
    w.market.setPriceBand(w.nft, ZERO, 0, 0, sender=w.admin)
    assert w.market.priceBand(w.nft, ZERO) == (0, MAX_UINT)
    w.mint(w.seller, 1)
    w.fill_listing(w.listing(token_id=1, unit_price=3 * ETHER))  # ETH band gone
    w.mint(w.seller, 2)
    with reverts("PriceOutsideBand", price=3 * ETHER, low=ETHER, high=ETHER):
        w.fill_listing(w.listing(token_id=2, unit_price=3 * ETHER, currency=w.coin))
    w.market.setPriceBand(w.nft, w.coin, 0, 0, sender=w.admin)
    w.fill_listing(w.listing(token_id=2, unit_price=3 * ETHER, currency=w.coin))
    assert w.nft.ownerOf(2) == w.buyer.address


def test_setting_a_band_again_replaces_it(w):
    w.market.setPriceBand(w.nft, ZERO, ETHER, 0, sender=w.admin)
    w.market.setPriceBand(w.nft, ZERO, 2 * ETHER, 0, sender=w.admin)
    assert w.market.priceBand(w.nft, ZERO) == (2 * ETHER, 2 * ETHER)
    w.market.setPriceBand(w.nft, ZERO, 0, 0, sender=w.admin)
    w.mint(w.seller, 1)
    w.fill_listing(w.listing(token_id=1, unit_price=5 * ETHER))  # the count went 1 -> 1 -> 0
    assert w.nft.ownerOf(1) == w.buyer.address


@pytest.mark.parametrize(("reference", "width"), [(ETHER, 10_001), (0, 5), (2**240, 0)])
def test_invalid_price_band_is_refused(w, reference, width):
    with reverts("PriceBandInvalid", referencePrice=reference, widthBps=width):
        w.market.setPriceBand(w.nft, ZERO, reference, width, sender=w.admin)


# ------------------------------------------------------------------ halt


def test_halted_collection_refuses_listings_offers_and_auctions(w):
    w.mint(w.seller, 1)
    w.mint(w.seller, 2)
    listing, offer = w.listing(token_id=1), w.offer(token_id=2)
    tx = w.market.setHalted(w.nft, True, sender=w.admin)
    log = one_event(tx, "CollectionHaltSet")
    assert (log.collection, log.halted) == (w.nft.address, True)
    with reverts("CollectionHalted", collection=w.nft.address):
        w.fill_listing(listing)
    with reverts("CollectionHalted", collection=w.nft.address):
        w.fill_offer(offer)
    with reverts("CollectionHalted", collection=w.nft.address):
        w.market.createAuction(_auction_params(w, token_id=2), sender=w.seller)
    w.market.setHalted(w.nft, False, sender=w.admin)
    w.fill_listing(listing)
    assert w.nft.ownerOf(1) == w.buyer.address


def test_halting_one_collection_leaves_others_trading(w):
    w.market.setHalted(w.nft, True, sender=w.admin)
    w.mint1155(w.seller, 1, 1)
    w.fill_listing(w.listing(token=w.nft1155, token_id=1, standard=TokenStandard.ERC1155))
    assert w.nft1155.balanceOf(w.buyer, 1) == 1


# ------------------------------------------------------------------ pause


def test_pause_stops_every_trading_entry_point(w):
    w.mint(w.seller, 1)
    w.mint(w.seller, 2)
    w.mint(w.seller, 3)
    listing, offer = w.listing(token_id=1), w.offer(token_id=2)
    w.market.createAuction(_auction_params(w, token_id=3), sender=w.seller)
    auction_id = w.market.nextAuctionId() - 1
    tx = w.market.pause(sender=w.admin)
    assert one_event(tx, "Paused").account == w.admin.address
    assert w.market.paused()
    with reverts("EnforcedPause"):
        w.fill_listing(listing)
    with reverts("EnforcedPause"):
        w.fill_offer(offer)
    with reverts("EnforcedPause"):
        w.market.createAuction(_auction_params(w, token_id=2), sender=w.seller)
    with reverts("EnforcedPause"):
        w.market.bid(auction_id, sender=w.buyer, value=ETHER)
    with reverts("EnforcedPause"):
        w.market.settleAuction(auction_id, sender=w.buyer)
    tx = w.market.unpause(sender=w.admin)
    assert one_event(tx, "Unpaused").account == w.admin.address
    w.fill_listing(listing)
    assert w.nft.ownerOf(1) == w.buyer.address


def test_pause_leaves_cancellation_counters_and_withdrawals_open(w):
    w.mint(w.seller, 1)
    w.fill_listing(w.listing(token_id=1, unit_price=ETHER))  # gives the treasury a credit
    w.mint(w.seller, 2)
    w.market.createAuction(_auction_params(w, token_id=2), sender=w.seller)
    auction_id = w.market.nextAuctionId() - 1
    signed = w.listing(token_id=3)
    w.market.pause(sender=w.admin)

    w.market.cancel([signed.order.as_tuple()], sender=w.seller)
    w.market.incrementCounter(sender=w.seller)
    w.market.withdraw(sender=w.treasury)
    w.market.cancelAuction(auction_id, sender=w.seller)
    assert w.nft.ownerOf(2) == w.seller.address


def test_pause_and_unpause_refuse_to_repeat(w):
    with reverts("ExpectedPause"):
        w.market.unpause(sender=w.admin)
    w.market.pause(sender=w.admin)
    with reverts("EnforcedPause"):
        w.market.pause(sender=w.admin)


def test_marketplace_announces_its_receiver_and_access_control_interfaces(w):
    assert w.market.supportsInterface(bytes.fromhex("150b7a02"))  # IERC721Receiver
    assert w.market.supportsInterface(bytes.fromhex("4e2312e0"))  # IERC1155Receiver
    assert w.market.supportsInterface(bytes.fromhex("7965db0b"))  # IAccessControl
    assert not w.market.supportsInterface(bytes.fromhex("ffffffff"))
