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


def fill_cart(w, cart, *, amounts=None, by=None, value=None):
    orders, signatures, amounts = cart_args(cart, amounts)
    if value is None:
        value = sum(s.order.unit_price * a for s, a in zip(cart, amounts, strict=True)
                    if s.order.currency == str(w.order().currency))
    return w.market.fillListings(orders, signatures, amounts, sender=by or w.buyer, value=value)


def status(w, signed):
    return tuple(w.market.orderStatus(order_hash(signed.order, w.domain)))


def listings(w, prices):
    out = []
    for token_id, price in enumerate(prices, start=1):
        w.mint(w.seller, token_id)
        out.append(w.listing(token_id=token_id, unit_price=price))
    return out


# ------------------------------------------------------------------ happy path


def test_cart_settles_every_item_like_a_single_fill(w):
    prices = [ETHER, 2 * ETHER, 3 * ETHER]
    cart = listings(w, prices)
    w.mint1155(w.seller, 7, 5)
    coin_item = w.listing(token=w.nft1155, token_id=7, standard=TokenStandard.ERC1155, quantity=5,
                          unit_price=10 * ETHER, currency=w.coin)
    cart.append(coin_item)
    seller_eth, splitter_eth = balance(w.seller), balance(w.splitter)
    seller_coin, splitter_coin, treasury_coin = (int(w.coin.balanceOf(a)) for a in (w.seller, w.splitter,
                                                                                    w.treasury))

    tx = fill_cart(w, cart, amounts=[1, 1, 1, 2])

    for token_id in (1, 2, 3):
        assert w.nft.ownerOf(token_id) == w.buyer.address
    assert int(w.nft1155.balanceOf(w.buyer, 7)) == 2
    assert [status(w, s) for s in cart] == [(False, 1), (False, 1), (False, 1), (False, 2)]
    filled = events(tx, "OrderFilled")
    assert [e.orderHash for e in filled] == [order_hash(s.order, w.domain) for s in cart]
    eth_splits = [split(p) for p in prices]
    assert [e.royalty for e in filled] == [r for r, _, _ in eth_splits] + [split(20 * ETHER)[0]]
    assert all(e.royaltyReceiver == w.splitter.address for e in filled)
    assert balance(w.splitter) - splitter_eth == sum(r for r, _, _ in eth_splits)
    assert balance(w.seller) - seller_eth == sum(s for _, _, s in eth_splits)
    assert w.credit(w.treasury) == sum(f for _, f, _ in eth_splits)
    coin_royalty, coin_fee, coin_proceeds = split(20 * ETHER)
    assert int(w.coin.balanceOf(w.splitter)) - splitter_coin == coin_royalty
    assert int(w.coin.balanceOf(w.treasury)) - treasury_coin == coin_fee
    assert int(w.coin.balanceOf(w.seller)) - seller_coin == coin_proceeds
    assert balance(w.market) == w.credit(w.treasury)  # no ETH left behind


def test_cart_returns_the_order_hashes_in_order(w):
    cart = listings(w, [ETHER, ETHER])
    orders, signatures, amounts = cart_args(cart)
    hashes = w.market.fillListings.call(orders, signatures, amounts, sender=w.buyer, value=2 * ETHER)
    assert [bytes(h) for h in hashes] == [order_hash(s.order, w.domain) for s in cart]


def test_partial_fills_of_one_1155_listing_in_one_cart_add_up(w):
    w.mint1155(w.seller, 3, 4)
    signed = w.listing(token=w.nft1155, token_id=3, standard=TokenStandard.ERC1155, quantity=4)
    fill_cart(w, [signed, signed], amounts=[1, 3])
    assert status(w, signed) == (False, 4)
    assert int(w.nft1155.balanceOf(w.buyer, 3)) == 4


# ------------------------------------------------------------------ attacks


def test_the_same_listing_twice_in_one_cart_reverts_the_cart(w):
    [signed] = listings(w, [ETHER])
    with reverts("OrderFillExceedsRemaining", orderHash=order_hash(signed.order, w.domain), requested=1,
                 remaining=0):
        fill_cart(w, [signed, signed])
    assert status(w, signed) == (False, 0)
    assert w.nft.ownerOf(1) == w.seller.address


def test_one_cancelled_listing_reverts_the_whole_cart(w):
    cart = listings(w, [ETHER, ETHER, ETHER])
    w.market.cancel([cart[2].order.as_tuple()], sender=w.seller)
    seller_before = balance(w.seller)
    with reverts("OrderIsCancelled", orderHash=order_hash(cart[2].order, w.domain)):
        fill_cart(w, cart)
    assert [status(w, s) for s in cart] == [(False, 0), (False, 0), (True, 0)]
    assert [w.nft.ownerOf(i) for i in (1, 2, 3)] == [w.seller.address] * 3
    assert balance(w.seller) == seller_before


def test_a_stale_counter_in_the_cart_reverts_it(w):
    cart = listings(w, [ETHER, ETHER])
    w.market.incrementCounter(sender=w.seller)
    with reverts("OrderCounterStale", orderHash=order_hash(cart[0].order, w.domain), orderCounter=0,
                 currentCounter=1):
        fill_cart(w, cart)


@pytest.mark.parametrize("delta", [-1, 1, -ETHER], ids=["one_wei_short", "one_wei_over", "one_item_short"])
def test_cart_value_must_be_the_exact_eth_total(w, delta):
    cart = listings(w, [ETHER, 2 * ETHER])
    with reverts("PaymentValueMismatch", expected=3 * ETHER, sent=3 * ETHER + delta):
        fill_cart(w, cart, value=3 * ETHER + delta)


def test_erc20_only_cart_takes_no_eth(w):
    w.mint(w.seller, 1)
    signed = w.listing(token_id=1, currency=w.coin)
    with reverts("PaymentValueMismatch", expected=0, sent=1):
        fill_cart(w, [signed], value=1)


def test_offer_in_a_cart_is_refused(w):
    w.mint(w.buyer2, 4)
    bid = w.offer(token_id=4)
    with reverts("OrderSideMismatch"):
        fill_cart(w, [bid], value=0)


def test_empty_mismatched_and_oversized_carts_are_refused(w):
    [signed] = listings(w, [ETHER])
    order, sig = signed.order.as_tuple(), signed.signature
    with reverts("BatchEmpty"):
        w.market.fillListings([], [], [], sender=w.buyer)
    with reverts("BatchLengthMismatch", orders=1, signatures=2, amounts=1):
        w.market.fillListings([order], [sig, sig], [1], sender=w.buyer, value=ETHER)
    with reverts("BatchLengthMismatch", orders=1, signatures=1, amounts=0):
        w.market.fillListings([order], [sig], [], sender=w.buyer, value=ETHER)
    cap = int(w.market.MAX_BATCH_FILLS())
    with reverts("BatchTooLarge", count=cap + 1, maxCount=cap):
        w.market.fillListings([order] * (cap + 1), [sig] * (cap + 1), [1] * (cap + 1), sender=w.buyer,
                              value=(cap + 1) * ETHER)


def test_paused_market_refuses_carts(w):
    cart = listings(w, [ETHER])
    w.market.pause(sender=w.admin)
    with reverts("EnforcedPause"):
        fill_cart(w, cart)


def test_buyer_contract_reentering_from_the_token_hook_reverts_the_whole_cart(w, ape_project):
    buyer = ape_project.MktTestActor.deploy(w.buyer, sender=w.buyer)
    cart = listings(w, [ETHER, ETHER, ETHER])
    reenter = w.market.fillListings.encode_input(*cart_args(cart[2:]))
    buyer.configure(ACCEPT, REENTER_BUBBLE, w.market, reenter, ETHER, sender=w.buyer)
    w.buyer.transfer(buyer, 4 * ETHER)
    call = w.market.fillListings.encode_input(*cart_args(cart[:2]))
    with reverts("ReentrancyGuardReentrantCall"):
        buyer.execute(w.market, 2 * ETHER, call, sender=w.buyer)
    assert [status(w, s) for s in cart] == [(False, 0)] * 3


def test_seller_contract_reentering_from_its_payout_is_refused_and_every_item_settles(w, ape_project):
    wallet = ape_project.MktTestActor.deploy(w.seller, sender=w.seller)
    for token_id in (5, 6):
        w.nft.mint(wallet, token_id, sender=w.admin)
    wallet.execute(w.nft, 0, w.nft.setApprovalForAll.encode_input(w.market, True), sender=w.seller)
    # A short payload (an empty cart) keeps the attempt inside the payout's gas stipend: the
    # guard, not the gas, must be what stops it.
    wallet.configure(REENTER, ACCEPT, w.market, w.market.fillListings.encode_input([], [], []), 0,
                     sender=w.seller)
    cart = [w.sign(w.order(signer=wallet, token_id=t), by=w.seller) for t in (5, 6)]
    fill_cart(w, cart)
    assert (wallet.reentryAttempts(), wallet.reentrySuccesses()) == (2, 0)
    assert wallet.lastReentryError() == REENTRANT_CALL
    assert [w.nft.ownerOf(t) for t in (5, 6)] == [w.buyer.address] * 2
    assert balance(wallet) == 2 * split(ETHER)[2]
