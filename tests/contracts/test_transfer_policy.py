"""Jurisdiction profiles enforced by the collections themselves (TransferPolicy): no resale, gifts only
after a holding period, verified identities only — on every path a token moves (transferFrom,
safeTransferFrom, approved operators, marketplace fills, ERC-1155 single and batch transfers, bridges),
not only through the API. Collections without a policy are not affected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ape
import pytest

from chain.orders import ETH, MarketDomain, Order, OrderSide, TokenStandard, new_salt, sign_order
from tests.contracts import issuance_support
from tests.contracts.issuance_support import ZERO, Stack, reverts, work
from tests.support.marketplace import key_of, travel

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

stack = issuance_support.stack

HOLD = 3_600
SALE, BRIDGE = 1, 2
ETHER = 10**18


@dataclass
class World:
    stack: Stack
    policy: Any
    market: Any
    identity: Any
    domain: MarketDomain


@pytest.fixture(scope="module")
def world(stack, ape_project, deployer) -> World:
    identity = ape_project.IdentityRegistry.deploy(deployer, sender=deployer)
    identity.grantRole(identity.OPERATOR_ROLE(), deployer, sender=deployer)
    policy = ape_project.TransferPolicy.deploy(deployer, identity, sender=deployer)
    market = ape_project.Marketplace.deploy(deployer, deployer, 250, sender=deployer)
    policy.setVenue(market, SALE, sender=deployer)
    stack.registry.setTransferPolicy(policy, sender=deployer)
    return World(stack, policy, market, identity, MarketDomain(ape.chain.chain_id, str(market.address)))


def rules(*, no_resale: bool = False, verified: bool = False, hold: int = 0, active: bool = True):
    return (active, no_resale, verified, hold)


def minted(w: World, creator, holder, label: str = "w", **policy) -> tuple[Any, int]:
    """A collection with the given rules whose token 1 the creator sold (primary) to ``holder``."""
    collection = w.stack.collection(creator, label)
    if policy:
        w.policy.setRules(collection, rules(**policy), sender=ape.accounts.test_accounts[0])
    collection.mintWork(creator, work(label).content_hash, work(label).cid_bytes, sender=creator)
    collection.transferFrom(creator, holder, 1, sender=creator)  # a primary sale (from the creator)
    return collection, 1


def listing(w: World, seller, token, token_id: int = 1, standard=TokenStandard.ERC721, quantity: int = 1):
    t = int(ape.chain.blocks.head.timestamp)
    order = Order(OrderSide.LISTING, seller.address, str(token.address), token_id, standard, quantity, ETHER, ETH,
                  t - 60, t + 86_400, new_salt(), int(w.market.counterOf(seller)),
                  holding_epoch=int(token.holdingEpoch(seller, token_id)))
    return sign_order(order, w.domain, key_of(seller))


def fill(w: World, signed, buyer, amount: int = 1):
    return w.market.fillListing(signed.order.as_tuple(), signed.signature, amount, sender=buyer,
                                value=signed.order.unit_price * amount)


# ------------------------------------------------------------------ no resale (ERC-721)

def test_marketplace_fill_of_a_holders_listing_reverts_when_resale_is_forbidden(world, creator, collector,
                                                                                  stranger):
    collection, token = minted(world, creator, collector, no_resale=True)
    collection.setApprovalForAll(world.market, True, sender=collector)
    signed = listing(world, collector, collection)
    with reverts("TransferPolicyResaleForbidden", collection.address, token, collector.address,
                 world.market.address):
        fill(world, signed, stranger)
    assert collection.ownerOf(token) == collector.address


def test_creator_listing_fills_as_a_primary_sale(world, creator, collector):
    collection = world.stack.collection(creator, "primary")
    world.policy.setRules(collection, rules(no_resale=True, hold=HOLD), sender=ape.accounts.test_accounts[0])
    collection.mintEdition(creator, 2, work("primary").content_hash, work("primary").cid_bytes, sender=creator)
    collection.setApprovalForAll(world.market, True, sender=creator)
    fill(world, listing(world, creator, collection, 2), collector)
    assert collection.ownerOf(2) == collector.address


@pytest.mark.parametrize("how", ["approve", "approve_for_all_safe"])
def test_operator_moves_of_a_holders_token_revert_when_resale_is_forbidden(world, creator, collector,
                                                                              operator, stranger, how):
    collection, token = minted(world, creator, collector, no_resale=True)
    if how == "approve":
        collection.approve(operator, token, sender=collector)
        move = lambda: collection.transferFrom(collector, stranger, token, sender=operator)  # noqa: E731
    else:
        collection.setApprovalForAll(operator, True, sender=collector)
        move = lambda: collection.safeTransferFrom(collector, stranger, token, sender=operator)  # noqa: E731
    with reverts("TransferPolicyResaleForbidden", collection.address, token, collector.address,
                 operator.address):
        move()


def test_a_holder_cannot_deposit_into_a_sale_venue_when_resale_is_forbidden(world, creator, collector):
    collection, token = minted(world, creator, collector, no_resale=True)
    with reverts("TransferPolicyResaleForbidden"):
        collection.transferFrom(collector, world.market, token, sender=collector)


# ------------------------------------------------------------------ holding period

@pytest.mark.parametrize("entry", ["transferFrom", "safeTransferFrom"])
def test_a_holders_gift_waits_for_the_holding_period(world, creator, collector, stranger, entry):
    collection, token = minted(world, creator, collector, no_resale=True, hold=HOLD)
    acquired = world.policy.acquiredAt(collection, token, collector)
    assert acquired == int(ape.chain.blocks.head.timestamp)
    with reverts("TransferPolicyHoldingPeriod", collection.address, token, collector.address, acquired + HOLD):
        getattr(collection, entry)(collector, stranger, token, sender=collector)
    travel(HOLD)
    getattr(collection, entry)(collector, stranger, token, sender=collector)
    assert collection.ownerOf(token) == stranger.address
    # The recipient's clock starts now: it cannot pass the token on at once either.
    with reverts("TransferPolicyHoldingPeriod"):
        collection.transferFrom(stranger, collector, token, sender=stranger)


def test_minting_straight_to_a_holder_starts_its_holding_period(world, creator, collector, stranger):
    collection = world.stack.collection(creator, "airdrop")
    world.policy.setRules(collection, rules(hold=HOLD), sender=ape.accounts.test_accounts[0])
    collection.mintEdition(collector, 3, work("airdrop").content_hash, work("airdrop").cid_bytes, sender=creator)
    for token in (1, 3):
        with reverts("TransferPolicyHoldingPeriod"):
            collection.transferFrom(collector, stranger, token, sender=collector)


def test_with_resale_allowed_a_marketplace_sale_is_not_held_back_but_a_gift_is(world, creator, collector,
                                                                                 operator, stranger):
    collection, token = minted(world, creator, collector, hold=HOLD)
    with reverts("TransferPolicyHoldingPeriod"):
        collection.transferFrom(collector, stranger, token, sender=collector)
    collection.setApprovalForAll(operator, True, sender=collector)
    with reverts("TransferPolicyHoldingPeriod"):  # an approved friend is no way around the period
        collection.transferFrom(collector, stranger, token, sender=operator)
    collection.setApprovalForAll(world.market, True, sender=collector)
    fill(world, listing(world, collector, collection), stranger)
    assert collection.ownerOf(token) == stranger.address


# ------------------------------------------------------------------ verified identities

def test_verified_only_refuses_unverified_recipients_and_senders(world, deployer, creator, collector, stranger):
    far = int(ape.chain.blocks.head.timestamp) + 365 * 86_400
    world.identity.registerIdentity(creator, 1, b"FR", far, sender=deployer)
    collection = world.stack.collection(creator, "kyc")
    world.policy.setRules(collection, rules(verified=True), sender=deployer)
    w = work("kyc")
    with reverts("TransferPolicyNotVerified", collection.address, collector.address):
        collection.mintWork(collector, w.content_hash, w.cid_bytes, sender=creator)
    collection.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)
    with reverts("TransferPolicyNotVerified", collection.address, collector.address):
        collection.transferFrom(creator, collector, 1, sender=creator)
    world.identity.registerIdentity(collector, 1, b"FR", far, sender=deployer)
    collection.transferFrom(creator, collector, 1, sender=creator)
    world.identity.revokeIdentity(collector, sender=deployer)  # a sender that lost its verification
    world.identity.registerIdentity(stranger, 1, b"DE", far, sender=deployer)
    with reverts("TransferPolicyNotVerified", collection.address, collector.address):
        collection.transferFrom(collector, stranger, 1, sender=collector)


# ------------------------------------------------------------------ ERC-1155

def test_editions_enforce_the_profile_on_single_batch_and_marketplace_transfers(world, deployer, creator,
                                                                                 collector, stranger):
    editions = world.stack.editions(creator, "ed")
    world.policy.setRules(editions, rules(no_resale=True, hold=HOLD), sender=deployer)
    for label in ("a", "b"):
        editions.mintWork(creator, 5, work(label).content_hash, work(label).cid_bytes, sender=creator)
    editions.safeBatchTransferFrom(creator, collector, [1, 2], [2, 2], b"", sender=creator)  # primary
    with reverts("TransferPolicyHoldingPeriod"):
        editions.safeTransferFrom(collector, stranger, 1, 1, b"", sender=collector)
    with reverts("TransferPolicyHoldingPeriod"):
        editions.safeBatchTransferFrom(collector, stranger, [1, 2], [1, 1], b"", sender=collector)
    editions.setApprovalForAll(world.market, True, sender=collector)
    signed = listing(world, collector, editions, 1, TokenStandard.ERC1155, 1)
    with reverts("TransferPolicyResaleForbidden", editions.address, 1, collector.address, world.market.address):
        fill(world, signed, stranger)
    travel(HOLD)
    editions.safeBatchTransferFrom(collector, stranger, [1, 2], [1, 1], b"", sender=collector)  # a gift
    assert editions.balanceOf(stranger, 2) == 1


# ------------------------------------------------------------------ bridges, attachment, no policy

def test_tokens_under_a_profile_cannot_be_bridged_away(world, deployer, creator, collector):
    collection, _ = minted(world, creator, collector, active=True)
    world.policy.setVenue(deployer, BRIDGE, sender=deployer)  # stands for the home lockbox
    collection.setApprovalForAll(deployer, True, sender=creator)
    collection.mintWork(creator, work("b2").content_hash, work("b2").cid_bytes, sender=creator)
    with reverts("TransferPolicyBridgeForbidden", collection.address, 2):
        collection.transferFrom(creator, deployer, 2, sender=deployer)


def test_only_the_platform_policy_attaches_and_clearing_the_rules_detaches_it(world, deployer, creator,
                                                                              collector, stranger):
    collection, token = minted(world, creator, collector)
    for caller in (creator, stranger):
        with reverts("TransferPolicyNotPlatform", caller.address):
            collection.setTransferPolicy(ZERO, sender=caller)
    with reverts("AccessControlUnauthorizedAccount"):
        world.policy.setRules(collection, rules(no_resale=True), sender=creator)
    world.policy.setRules(collection, rules(no_resale=True), sender=deployer)
    assert collection.transferPolicy() == world.policy.address
    collection.approve(stranger, token, sender=collector)
    with reverts("TransferPolicyResaleForbidden"):
        collection.transferFrom(collector, stranger, token, sender=stranger)
    world.policy.setRules(collection, rules(active=False), sender=deployer)
    assert collection.transferPolicy() == ZERO
    collection.transferFrom(collector, stranger, token, sender=stranger)


def test_collections_without_a_profile_move_freely(world, creator, collector, operator, stranger):
    collection, token = minted(world, creator, collector)
    assert collection.transferPolicy() == ZERO
    collection.approve(operator, token, sender=collector)
    collection.transferFrom(collector, stranger, token, sender=operator)
    assert collection.ownerOf(token) == stranger.address
