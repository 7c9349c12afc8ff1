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


def _auction_params(world, token_id=1, end_in=DAY):
    return (world.nft.address, int(TokenStandard.ERC721), token_id, 1, ETHER, 0, 500, 0, now() + end_in, 300)


# ------------------------------------------------------------------ roles


def test_role_constants_match_their_names(world):
    assert world.market.POLICY_ADMIN_ROLE() == POLICY_ADMIN_ROLE
    assert world.market.RISK_ROLE() == RISK_ROLE
    assert world.market.PAUSER_ROLE() == PAUSER_ROLE
    for role in (ADMIN_ROLE, POLICY_ADMIN_ROLE, RISK_ROLE, PAUSER_ROLE):
        assert world.market.hasRole(role, world.admin)


@pytest.mark.parametrize(("call", "role"), [
    (lambda world, s: world.market.setPlatformFee(100, sender=s), ADMIN_ROLE),
    (lambda world, s: world.market.setTreasury(s, sender=s), ADMIN_ROLE),
    (lambda world, s: world.market.setIdentityRegistry(world.identity, sender=s), ADMIN_ROLE),
    (lambda world, s: world.market.setIdentityRequired(world.nft, True, sender=s), POLICY_ADMIN_ROLE),
    (lambda world, s: world.market.setPriceBand(world.nft, ZERO, ETHER, 100, sender=s), RISK_ROLE),
    (lambda world, s: world.market.setHalted(world.nft, True, sender=s), RISK_ROLE),
    (lambda world, s: world.market.pause(sender=s), PAUSER_ROLE),
    (lambda world, s: world.market.unpause(sender=s), PAUSER_ROLE),
    (lambda world, s: world.market.grantRole(RISK_ROLE, s, sender=s), ADMIN_ROLE),
], ids=["setPlatformFee", "setTreasury", "setIdentityRegistry", "setIdentityRequired", "setPriceBand",
        "setHalted", "pause", "unpause", "grantRole"])
def test_every_admin_function_refuses_an_account_without_its_role(world, call, role):
    with reverts("AccessControlUnauthorizedAccount", account=world.stranger.address, neededRole=role):
        call(world, world.stranger)


def test_risk_role_drives_bands_and_halts_but_nothing_else(world):
    world.market.grantRole(RISK_ROLE, world.risk, sender=world.admin)
    world.market.setPriceBand(world.nft, ZERO, ETHER, 1_000, sender=world.risk)
    world.market.setHalted(world.nft, True, sender=world.risk)
    assert world.market.collectionPolicy(world.nft) == (True, False)
    with reverts("AccessControlUnauthorizedAccount", account=world.risk.address, neededRole=PAUSER_ROLE):
        world.market.pause(sender=world.risk)
    with reverts("AccessControlUnauthorizedAccount", account=world.risk.address, neededRole=ADMIN_ROLE):
        world.market.setPlatformFee(0, sender=world.risk)
    with reverts("AccessControlUnauthorizedAccount", account=world.risk.address, neededRole=POLICY_ADMIN_ROLE):
        world.market.setIdentityRequired(world.nft, True, sender=world.risk)


def test_a_revoked_role_no_longer_works(world):
    world.market.grantRole(PAUSER_ROLE, world.risk, sender=world.admin)
    world.market.pause(sender=world.risk)
    world.market.revokeRole(PAUSER_ROLE, world.risk, sender=world.admin)
    with reverts("AccessControlUnauthorizedAccount", account=world.risk.address, neededRole=PAUSER_ROLE):
        world.market.unpause(sender=world.risk)


# ------------------------------------------------------------------ fee and treasury


def test_platform_fee_is_capped_at_ten_percent(world):
    assert world.market.MAX_FEE_BPS() == 1_000
    with reverts("PlatformFeeTooHigh", feeBps=1_001, maxFeeBps=1_000):
        world.market.setPlatformFee(1_001, sender=world.admin)
    tx = world.market.setPlatformFee(1_000, sender=world.admin)
    assert one_event(tx, "PlatformFeeSet").feeBps == 1_000
    assert world.market.platformFeeBps() == 1_000


def test_new_fee_applies_to_the_next_sale(world):
    world.market.setPlatformFee(1_000, sender=world.admin)
    world.mint(world.seller, 1)
    tx = world.fill_listing(world.listing(token_id=1, unit_price=ETHER))
    assert one_event(tx, "OrderFilled").fee == ETHER // 10
    assert world.credit(world.treasury) == ETHER // 10


def test_zero_fee_credits_nothing(world):
    world.market.setPlatformFee(0, sender=world.admin)
    world.mint(world.seller, 1)
    tx = world.fill_listing(world.listing(token_id=1, unit_price=ETHER))
    assert one_event(tx, "OrderFilled").fee == 0
    assert world.credit(world.treasury) == 0


def test_deploying_with_a_fee_above_the_cap_or_no_treasury_fails(ape_project, accounts):
    with reverts("PlatformFeeTooHigh", feeBps=1_001, maxFeeBps=1_000):
        ape_project.Marketplace.deploy(accounts[0], accounts[4], 1_001, sender=accounts[0])
    with reverts("TreasuryZeroAddress"):
        ape_project.Marketplace.deploy(accounts[0], ZERO, 250, sender=accounts[0])


def test_treasury_cannot_be_zero_and_its_change_redirects_fees(world):
    with reverts("TreasuryZeroAddress"):
        world.market.setTreasury(ZERO, sender=world.admin)
    tx = world.market.setTreasury(world.stranger, sender=world.admin)
    assert one_event(tx, "TreasurySet").treasury == world.stranger.address
    world.mint(world.seller, 1)
    world.fill_listing(world.listing(token_id=1, unit_price=ETHER))
    assert world.credit(world.stranger) == ETHER * 250 // 10_000
    assert world.credit(world.treasury) == 0


# ------------------------------------------------------------------ identity


def test_identity_requirement_without_a_registry_refuses_trades(world):
    tx = world.market.setIdentityRequired(world.nft, True, sender=world.admin)
    log = one_event(tx, "IdentityRequirementSet")
    assert (log.collection, log.required) == (world.nft.address, True)
    world.mint(world.seller, 1)
    with reverts("IdentityRegistryUnset"):
        world.fill_listing(world.listing(token_id=1))


def test_identity_requirement_checks_seller_and_buyer(world):
    assert world.market.identityRegistry() == ZERO
    tx = world.market.setIdentityRegistry(world.identity, sender=world.admin)
    assert one_event(tx, "IdentityRegistrySet").registry == world.identity.address
    assert world.market.identityRegistry() == world.identity.address
    world.market.setIdentityRequired(world.nft, True, sender=world.admin)
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1)
    with reverts("IdentityNotVerified", account=world.seller.address):
        world.fill_listing(signed)
    world.identity.setVerified(world.seller, True, sender=world.admin)
    with reverts("IdentityNotVerified", account=world.buyer.address):
        world.fill_listing(signed)
    world.identity.setVerified(world.buyer, True, sender=world.admin)
    world.fill_listing(signed)
    assert world.nft.ownerOf(1) == world.buyer.address


def test_identity_requirement_applies_to_offers_with_the_caller_as_seller(world):
    world.market.setIdentityRegistry(world.identity, sender=world.admin)
    world.market.setIdentityRequired(world.nft, True, sender=world.admin)
    world.identity.setVerified(world.buyer, True, sender=world.admin)
    world.mint(world.seller, 1)
    signed = world.offer(token_id=1)
    with reverts("IdentityNotVerified", account=world.seller.address):
        world.fill_offer(signed)
    world.identity.setVerified(world.seller, True, sender=world.admin)
    world.fill_offer(signed)
    assert world.nft.ownerOf(1) == world.buyer.address


def test_identity_requirement_is_per_collection(world, ape_project):
    world.market.setIdentityRegistry(world.identity, sender=world.admin)
    world.market.setIdentityRequired(world.nft, True, sender=world.admin)
    world.mint1155(world.seller, 1, 2)
    signed = world.listing(token=world.nft1155, token_id=1, standard=TokenStandard.ERC1155, quantity=2)
    world.fill_listing(signed, amount=1)  # the 1155 collection has no requirement
    assert world.nft1155.balanceOf(world.buyer, 1) == 1


# ------------------------------------------------------------------ price band


def test_price_band_rejects_fills_outside_it_with_the_band_in_the_error(world):
    tx = world.market.setPriceBand(world.nft, ZERO, ETHER, 1_000, sender=world.admin)
    log = one_event(tx, "PriceBandSet")
    assert (log.collection, log.currency, log.referencePrice, log.widthBps) == (world.nft.address, ZERO, ETHER, 1_000)
    low, high = ETHER * 9 // 10, ETHER * 11 // 10
    assert world.market.priceBand(world.nft, ZERO) == (low, high)
    for token_id, price in ((1, high + 1), (2, low - 1)):
        world.mint(world.seller, token_id)
        with reverts("PriceOutsideBand", collection=world.nft.address, price=price, low=low, high=high):
            world.fill_listing(world.listing(token_id=token_id, unit_price=price))
    for token_id, price in ((3, high), (4, low), (5, ETHER)):  # the bounds are inside the band
        world.mint(world.seller, token_id)
        world.fill_listing(world.listing(token_id=token_id, unit_price=price))
        assert world.nft.ownerOf(token_id) == world.buyer.address


def test_price_band_applies_only_in_its_currency(world):
    world.market.setPriceBand(world.nft, ZERO, ETHER, 1_000, sender=world.admin)
    world.mint(world.seller, 1)
    world.fill_listing(world.listing(token_id=1, unit_price=5 * ETHER, currency=world.coin))  # no band in the coin
    assert world.nft.ownerOf(1) == world.buyer.address
    world.market.setPriceBand(world.nft, world.coin, 100 * ETHER, 0, sender=world.admin)
    world.mint(world.seller, 2)
    with reverts("PriceOutsideBand", price=5 * ETHER, low=100 * ETHER, high=100 * ETHER):
        world.fill_listing(world.listing(token_id=2, unit_price=5 * ETHER, currency=world.coin))


def test_price_band_compares_the_unit_price_of_erc1155_fills(world):
    world.market.setPriceBand(world.nft1155, ZERO, ETHER, 500, sender=world.admin)
    world.mint1155(world.seller, 1, 10)
    signed = world.listing(token=world.nft1155, token_id=1, standard=TokenStandard.ERC1155, quantity=10, unit_price=ETHER)
    world.fill_listing(signed, amount=10)  # total 10 ETH, unit 1 ETH: inside
    assert world.nft1155.balanceOf(world.buyer, 1) == 10


def test_price_band_applies_to_offers(world):
    world.market.setPriceBand(world.nft, world.coin, 10 * ETHER, 1_000, sender=world.admin)
    world.mint(world.seller, 1)
    with reverts("PriceOutsideBand", price=20 * ETHER, low=9 * ETHER, high=11 * ETHER):
        world.fill_offer(world.offer(token_id=1, unit_price=20 * ETHER))


def test_removing_one_band_keeps_the_others(world):
    world.market.setPriceBand(world.nft, ZERO, ETHER, 0, sender=world.admin)
    world.market.setPriceBand(world.nft, world.coin, ETHER, 0, sender=world.admin)
    world.market.setPriceBand(world.nft, ZERO, 0, 0, sender=world.admin)
    assert world.market.priceBand(world.nft, ZERO) == (0, MAX_UINT)
    world.mint(world.seller, 1)
    world.fill_listing(world.listing(token_id=1, unit_price=3 * ETHER))  # ETH band gone
    world.mint(world.seller, 2)
    with reverts("PriceOutsideBand", price=3 * ETHER, low=ETHER, high=ETHER):
        world.fill_listing(world.listing(token_id=2, unit_price=3 * ETHER, currency=world.coin))
    world.market.setPriceBand(world.nft, world.coin, 0, 0, sender=world.admin)
    world.fill_listing(world.listing(token_id=2, unit_price=3 * ETHER, currency=world.coin))
    assert world.nft.ownerOf(2) == world.buyer.address


def test_setting_a_band_again_replaces_it(world):
    world.market.setPriceBand(world.nft, ZERO, ETHER, 0, sender=world.admin)
    world.market.setPriceBand(world.nft, ZERO, 2 * ETHER, 0, sender=world.admin)
    assert world.market.priceBand(world.nft, ZERO) == (2 * ETHER, 2 * ETHER)
    world.market.setPriceBand(world.nft, ZERO, 0, 0, sender=world.admin)
    world.mint(world.seller, 1)
    world.fill_listing(world.listing(token_id=1, unit_price=5 * ETHER))  # the count went 1 -> 1 -> 0
    assert world.nft.ownerOf(1) == world.buyer.address


@pytest.mark.parametrize(("reference", "width"), [(ETHER, 10_001), (0, 5), (2**240, 0)])
def test_invalid_price_band_is_refused(world, reference, width):
    with reverts("PriceBandInvalid", referencePrice=reference, widthBps=width):
        world.market.setPriceBand(world.nft, ZERO, reference, width, sender=world.admin)


# ------------------------------------------------------------------ halt


def test_halted_collection_refuses_listings_offers_and_auctions(world):
    world.mint(world.seller, 1)
    world.mint(world.seller, 2)
    listing, offer = world.listing(token_id=1), world.offer(token_id=2)
    tx = world.market.setHalted(world.nft, True, sender=world.admin)
    log = one_event(tx, "CollectionHaltSet")
    assert (log.collection, log.halted) == (world.nft.address, True)
    with reverts("CollectionHalted", collection=world.nft.address):
        world.fill_listing(listing)
    with reverts("CollectionHalted", collection=world.nft.address):
        world.fill_offer(offer)
    with reverts("CollectionHalted", collection=world.nft.address):
        world.market.createAuction(_auction_params(world, token_id=2), sender=world.seller)
    world.market.setHalted(world.nft, False, sender=world.admin)
    world.fill_listing(listing)
    assert world.nft.ownerOf(1) == world.buyer.address


def test_halting_one_collection_leaves_others_trading(world):
    world.market.setHalted(world.nft, True, sender=world.admin)
    world.mint1155(world.seller, 1, 1)
    world.fill_listing(world.listing(token=world.nft1155, token_id=1, standard=TokenStandard.ERC1155))
    assert world.nft1155.balanceOf(world.buyer, 1) == 1


# ------------------------------------------------------------------ pause


def test_pause_stops_every_trading_entry_point(world):
    world.mint(world.seller, 1)
    world.mint(world.seller, 2)
    world.mint(world.seller, 3)
    listing, offer = world.listing(token_id=1), world.offer(token_id=2)
    world.market.createAuction(_auction_params(world, token_id=3), sender=world.seller)
    auction_id = world.market.nextAuctionId() - 1
    tx = world.market.pause(sender=world.admin)
    assert one_event(tx, "Paused").account == world.admin.address
    assert world.market.paused()
    with reverts("EnforcedPause"):
        world.fill_listing(listing)
    with reverts("EnforcedPause"):
        world.fill_offer(offer)
    with reverts("EnforcedPause"):
        world.market.createAuction(_auction_params(world, token_id=2), sender=world.seller)
    with reverts("EnforcedPause"):
        world.market.bid(auction_id, sender=world.buyer, value=ETHER)
    with reverts("EnforcedPause"):
        world.market.settleAuction(auction_id, sender=world.buyer)
    tx = world.market.unpause(sender=world.admin)
    assert one_event(tx, "Unpaused").account == world.admin.address
    world.fill_listing(listing)
    assert world.nft.ownerOf(1) == world.buyer.address


def test_pause_leaves_cancellation_counters_and_withdrawals_open(world):
    world.mint(world.seller, 1)
    world.fill_listing(world.listing(token_id=1, unit_price=ETHER))  # gives the treasury a credit
    world.mint(world.seller, 2)
    world.market.createAuction(_auction_params(world, token_id=2), sender=world.seller)
    auction_id = world.market.nextAuctionId() - 1
    signed = world.listing(token_id=3)
    world.market.pause(sender=world.admin)

    world.market.cancel([signed.order.as_tuple()], sender=world.seller)
    world.market.incrementCounter(sender=world.seller)
    world.market.withdraw(sender=world.treasury)
    world.market.cancelAuction(auction_id, sender=world.seller)
    assert world.nft.ownerOf(2) == world.seller.address


def test_pause_and_unpause_refuse_to_repeat(world):
    with reverts("ExpectedPause"):
        world.market.unpause(sender=world.admin)
    world.market.pause(sender=world.admin)
    with reverts("EnforcedPause"):
        world.market.pause(sender=world.admin)


def test_marketplace_announces_its_receiver_and_access_control_interfaces(world):
    assert world.market.supportsInterface(bytes.fromhex("150b7a02"))  # IERC721Receiver
    assert world.market.supportsInterface(bytes.fromhex("4e2312e0"))  # IERC1155Receiver
    assert world.market.supportsInterface(bytes.fromhex("7965db0b"))  # IAccessControl
    assert not world.market.supportsInterface(bytes.fromhex("ffffffff"))
