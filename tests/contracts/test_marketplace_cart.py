"""fillListings, the cart: many listings bought in one all-or-nothing transaction.

Every item settles exactly as fillListing (royalty, fee, seller, event); any failing item reverts
the whole cart; msg.value must match the cart's ETH total exactly; re-entry is refused.
"""

from __future__ import annotations

import pytest

from chain.orders import TokenStandard, order_hash
from tests.support.marketplace import (
    ACCEPT,
    ETHER,
    REENTER,
    REENTER_BUBBLE,
    REENTRANT_CALL,
    balance,
    events,
    reverts,
    split,
)

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("market_isolated")]


def cart_args(cart, amounts=None):
    return ([s.order.as_tuple() for s in cart], [s.signature for s in cart],
            amounts if amounts is not None else [1] * len(cart))


def fill_cart(world, cart, *, amounts=None, by=None, value=None):
    orders, signatures, amounts = cart_args(cart, amounts)
    if value is None:
        value = sum(s.order.unit_price * a for s, a in zip(cart, amounts, strict=True)
                    if s.order.currency == str(world.order().currency))
    return world.market.fillListings(orders, signatures, amounts, sender=by or world.buyer, value=value)


def status(world, signed):
    return tuple(world.market.orderStatus(order_hash(signed.order, world.domain)))


def listings(world, prices):
    out = []
    for token_id, price in enumerate(prices, start=1):
        world.mint(world.seller, token_id)
        out.append(world.listing(token_id=token_id, unit_price=price))
    return out


# ------------------------------------------------------------------ happy path


def test_cart_settles_every_item_like_a_single_fill(world):
    prices = [ETHER, 2 * ETHER, 3 * ETHER]
    cart = listings(world, prices)
    world.mint1155(world.seller, 7, 5)
    coin_item = world.listing(token=world.nft1155, token_id=7, standard=TokenStandard.ERC1155, quantity=5,
                          unit_price=10 * ETHER, currency=world.coin)
    cart.append(coin_item)
    seller_eth, splitter_eth = balance(world.seller), balance(world.splitter)
    seller_coin, splitter_coin, treasury_coin = (int(world.coin.balanceOf(a)) for a in (world.seller, world.splitter,
                                                                                    world.treasury))

    tx = fill_cart(world, cart, amounts=[1, 1, 1, 2])

    for token_id in (1, 2, 3):
        assert world.nft.ownerOf(token_id) == world.buyer.address
    assert int(world.nft1155.balanceOf(world.buyer, 7)) == 2
    assert [status(world, s) for s in cart] == [(False, 1), (False, 1), (False, 1), (False, 2)]
    filled = events(tx, "OrderFilled")
    assert [e.orderHash for e in filled] == [order_hash(s.order, world.domain) for s in cart]
    eth_splits = [split(p) for p in prices]
    assert [e.royalty for e in filled] == [r for r, _, _ in eth_splits] + [split(20 * ETHER)[0]]
    assert all(e.royaltyReceiver == world.splitter.address for e in filled)
    assert balance(world.splitter) - splitter_eth == sum(r for r, _, _ in eth_splits)
    assert balance(world.seller) - seller_eth == sum(s for _, _, s in eth_splits)
    assert world.credit(world.treasury) == sum(f for _, f, _ in eth_splits)
    coin_royalty, coin_fee, coin_proceeds = split(20 * ETHER)
    assert int(world.coin.balanceOf(world.splitter)) - splitter_coin == coin_royalty
    assert int(world.coin.balanceOf(world.treasury)) - treasury_coin == coin_fee
    assert int(world.coin.balanceOf(world.seller)) - seller_coin == coin_proceeds
    assert balance(world.market) == world.credit(world.treasury)  # no ETH left behind


def test_cart_returns_the_order_hashes_in_order(world):
    cart = listings(world, [ETHER, ETHER])
    orders, signatures, amounts = cart_args(cart)
    hashes = world.market.fillListings.call(orders, signatures, amounts, sender=world.buyer, value=2 * ETHER)
    assert [bytes(h) for h in hashes] == [order_hash(s.order, world.domain) for s in cart]


def test_partial_fills_of_one_1155_listing_in_one_cart_add_up(world):
    world.mint1155(world.seller, 3, 4)
    signed = world.listing(token=world.nft1155, token_id=3, standard=TokenStandard.ERC1155, quantity=4)
    fill_cart(world, [signed, signed], amounts=[1, 3])
    assert status(world, signed) == (False, 4)
    assert int(world.nft1155.balanceOf(world.buyer, 3)) == 4


# ------------------------------------------------------------------ attacks


def test_the_same_listing_twice_in_one_cart_reverts_the_cart(world):
    [signed] = listings(world, [ETHER])
    with reverts("OrderFillExceedsRemaining", orderHash=order_hash(signed.order, world.domain), requested=1,
                 remaining=0):
        fill_cart(world, [signed, signed])
    assert status(world, signed) == (False, 0)
    assert world.nft.ownerOf(1) == world.seller.address


def test_one_cancelled_listing_reverts_the_whole_cart(world):
    cart = listings(world, [ETHER, ETHER, ETHER])
    world.market.cancel([cart[2].order.as_tuple()], sender=world.seller)
    seller_before = balance(world.seller)
    with reverts("OrderIsCancelled", orderHash=order_hash(cart[2].order, world.domain)):
        fill_cart(world, cart)
    assert [status(world, s) for s in cart] == [(False, 0), (False, 0), (True, 0)]
    assert [world.nft.ownerOf(i) for i in (1, 2, 3)] == [world.seller.address] * 3
    assert balance(world.seller) == seller_before


def test_a_stale_counter_in_the_cart_reverts_it(world):
    cart = listings(world, [ETHER, ETHER])
    world.market.incrementCounter(sender=world.seller)
    with reverts("OrderCounterStale", orderHash=order_hash(cart[0].order, world.domain), orderCounter=0,
                 currentCounter=1):
        fill_cart(world, cart)


@pytest.mark.parametrize("delta", [-1, 1, -ETHER], ids=["one_wei_short", "one_wei_over", "one_item_short"])
def test_cart_value_must_be_the_exact_eth_total(world, delta):
    cart = listings(world, [ETHER, 2 * ETHER])
    with reverts("PaymentValueMismatch", expected=3 * ETHER, sent=3 * ETHER + delta):
        fill_cart(world, cart, value=3 * ETHER + delta)


def test_erc20_only_cart_takes_no_eth(world):
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1, currency=world.coin)
    with reverts("PaymentValueMismatch", expected=0, sent=1):
        fill_cart(world, [signed], value=1)


def test_offer_in_a_cart_is_refused(world):
    world.mint(world.buyer2, 4)
    bid = world.offer(token_id=4)
    with reverts("OrderSideMismatch"):
        fill_cart(world, [bid], value=0)


def test_empty_mismatched_and_oversized_carts_are_refused(world):
    [signed] = listings(world, [ETHER])
    order, sig = signed.order.as_tuple(), signed.signature
    with reverts("BatchEmpty"):
        world.market.fillListings([], [], [], sender=world.buyer)
    with reverts("BatchLengthMismatch", orders=1, signatures=2, amounts=1):
        world.market.fillListings([order], [sig, sig], [1], sender=world.buyer, value=ETHER)
    with reverts("BatchLengthMismatch", orders=1, signatures=1, amounts=0):
        world.market.fillListings([order], [sig], [], sender=world.buyer, value=ETHER)
    cap = int(world.market.MAX_BATCH_FILLS())
    with reverts("BatchTooLarge", count=cap + 1, maxCount=cap):
        world.market.fillListings([order] * (cap + 1), [sig] * (cap + 1), [1] * (cap + 1), sender=world.buyer,
                              value=(cap + 1) * ETHER)


def test_paused_market_refuses_carts(world):
    cart = listings(world, [ETHER])
    world.market.pause(sender=world.admin)
    with reverts("EnforcedPause"):
        fill_cart(world, cart)


def test_buyer_contract_reentering_from_the_token_hook_reverts_the_whole_cart(world, ape_project):
    buyer = ape_project.MktTestActor.deploy(world.buyer, sender=world.buyer)
    cart = listings(world, [ETHER, ETHER, ETHER])
    reenter = world.market.fillListings.encode_input(*cart_args(cart[2:]))
    buyer.configure(ACCEPT, REENTER_BUBBLE, world.market, reenter, ETHER, sender=world.buyer)
    world.buyer.transfer(buyer, 4 * ETHER)
    call = world.market.fillListings.encode_input(*cart_args(cart[:2]))
    with reverts("ReentrancyGuardReentrantCall"):
        buyer.execute(world.market, 2 * ETHER, call, sender=world.buyer)
    assert [status(world, s) for s in cart] == [(False, 0)] * 3


def test_seller_contract_reentering_from_its_payout_is_refused_and_every_item_settles(world, ape_project):
    wallet = ape_project.MktTestActor.deploy(world.seller, sender=world.seller)
    for token_id in (5, 6):
        world.nft.mint(wallet, token_id, sender=world.admin)
    wallet.execute(world.nft, 0, world.nft.setApprovalForAll.encode_input(world.market, True), sender=world.seller)
    # A short payload (an empty cart) keeps the attempt inside the payout's gas stipend: the
    # guard, not the gas, must be what stops it.
    wallet.configure(REENTER, ACCEPT, world.market, world.market.fillListings.encode_input([], [], []), 0,
                     sender=world.seller)
    cart = [world.sign(world.order(signer=wallet, token_id=t), by=world.seller) for t in (5, 6)]
    fill_cart(world, cart)
    assert (wallet.reentryAttempts(), wallet.reentrySuccesses()) == (2, 0)
    assert wallet.lastReentryError() == REENTRANT_CALL
    assert [world.nft.ownerOf(t) for t in (5, 6)] == [world.buyer.address] * 2
    assert balance(wallet) == 2 * split(ETHER)[2]
