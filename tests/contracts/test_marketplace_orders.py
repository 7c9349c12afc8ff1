"""Marketplace orders: signed listings and offers, fills, payouts, cancellation, counters."""

from __future__ import annotations

import ape
import pytest

from chain.orders import OrderSide, TokenStandard, order_hash
from tests.support.marketplace import (
    DAY,
    ETHER,
    FEE_BPS,
    ZERO,
    balance,
    events,
    now,
    one_event,
    reverts,
    split,
)

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("market_isolated")]


# ------------------------------------------------------------------ listings


def test_fill_listing_moves_token_and_splits_eth_between_royalty_fee_and_seller(world):
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1, unit_price=2 * ETHER)
    royalty, fee, proceeds = split(2 * ETHER)
    seller_before, splitter_before = balance(world.seller), balance(world.splitter)

    tx = world.fill_listing(signed)

    assert world.nft.ownerOf(1) == world.buyer.address
    assert balance(world.seller) - seller_before == proceeds
    assert balance(world.splitter) - splitter_before == royalty
    # The receiver is the platform's RoyaltySplitter clone (its receive needs more than 2,300 gas):
    # the royalty waits there for its recipients to pull.
    assert len(ape.chain.provider.get_code(world.splitter.address)) < 200
    assert world.splitter.undistributed(ZERO) == royalty
    assert world.credit(world.treasury) == fee
    assert balance(world.market) == fee  # only the treasury's credit stays in the marketplace
    log = one_event(tx, "OrderFilled")
    assert log.orderHash == order_hash(signed.order, world.domain)
    assert (log.seller, log.buyer) == (world.seller.address, world.buyer.address)
    assert log.side == int(OrderSide.LISTING)
    assert (log.token, log.tokenId, log.amount, log.unitPrice) == (world.nft.address, 1, 1, 2 * ETHER)
    assert log.currency == ZERO
    assert (log.royaltyReceiver, log.royalty, log.fee) == (world.splitter.address, royalty, fee)
    assert world.market.orderStatus(log.orderHash) == (False, 1)


def test_fill_listing_returns_the_order_hash_the_python_side_computes(world):
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1)
    assert world.market.hashOrder(signed.order.as_tuple()) == order_hash(signed.order, world.domain)


def test_fill_listing_in_erc20_pays_each_payee_from_the_buyer(world):
    world.mint(world.seller, 1)
    price = 100 * ETHER
    signed = world.listing(token_id=1, unit_price=price, currency=world.coin)
    royalty, fee, proceeds = split(price)
    before = {a: world.coin.balanceOf(a) for a in (world.buyer, world.seller, world.splitter, world.treasury)}

    world.fill_listing(signed)

    assert before[world.buyer] - world.coin.balanceOf(world.buyer) == price
    assert world.coin.balanceOf(world.seller) - before[world.seller] == proceeds
    assert world.coin.balanceOf(world.splitter) - before[world.splitter] == royalty
    assert world.coin.balanceOf(world.treasury) - before[world.treasury] == fee
    assert world.coin.balanceOf(world.market) == 0
    assert world.nft.ownerOf(1) == world.buyer.address


def test_erc20_listing_rejects_attached_eth(world):
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1, currency=world.coin)
    with reverts("PaymentValueMismatch", expected=0, sent=1):
        world.fill_listing(signed, value=1)


def test_eth_listing_requires_the_exact_price(world):
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1, unit_price=ETHER)
    with reverts("PaymentValueMismatch", expected=ETHER, sent=ETHER - 1):
        world.fill_listing(signed, value=ETHER - 1)
    with reverts("PaymentValueMismatch", expected=ETHER, sent=ETHER + 1):
        world.fill_listing(signed, value=ETHER + 1)


def test_erc1155_listing_fills_partially_at_the_unit_price(world):
    world.mint1155(world.seller, 7, 10)
    signed = world.listing(token=world.nft1155, token_id=7, standard=TokenStandard.ERC1155, quantity=5,
                       unit_price=ETHER // 10)
    digest = order_hash(signed.order, world.domain)

    tx = world.fill_listing(signed, amount=2)
    assert one_event(tx, "OrderFilled").amount == 2
    assert world.market.orderStatus(digest) == (False, 2)
    world.fill_listing(signed, amount=3, by=world.buyer2)

    assert world.nft1155.balanceOf(world.buyer, 7) == 2
    assert world.nft1155.balanceOf(world.buyer2, 7) == 3
    assert world.nft1155.balanceOf(world.seller, 7) == 5
    assert world.market.orderStatus(digest) == (False, 5)
    with reverts("OrderFillExceedsRemaining", requested=1, remaining=0):
        world.fill_listing(signed, amount=1)


def test_erc1155_fill_cannot_exceed_what_remains(world):
    world.mint1155(world.seller, 7, 10)
    signed = world.listing(token=world.nft1155, token_id=7, standard=TokenStandard.ERC1155, quantity=3)
    with reverts("OrderFillExceedsRemaining", orderHash=order_hash(signed.order, world.domain), requested=4,
                 remaining=3):
        world.fill_listing(signed, amount=4)


def test_collection_without_erc2981_pays_no_royalty_and_still_fills(world, ape_project):
    plain = ape_project.MktTestPlainERC721.deploy(sender=world.admin)
    plain.mint(world.seller, 1, sender=world.admin)
    plain.setApprovalForAll(world.market, True, sender=world.seller)
    signed = world.listing(token=plain, token_id=1, unit_price=ETHER)
    seller_before = balance(world.seller)

    tx = world.fill_listing(signed)

    log = one_event(tx, "OrderFilled")
    assert (log.royaltyReceiver, log.royalty) == (ZERO, 0)
    fee = ETHER * FEE_BPS // 10_000
    assert balance(world.seller) - seller_before == ETHER - fee
    assert plain.ownerOf(1) == world.buyer.address


def test_royalty_above_price_minus_fee_is_capped_at_what_the_fee_leaves(world):
    """Capped, not reverted: a royalty raised above the price cannot turn a fill into a revert
    (see test_marketplace_lockups.py for auctions and offers)."""
    world.mint(world.seller, 1)
    world.nft.setTokenRoyalty(1, world.splitter, 9_800, sender=world.admin)  # 98% + 2.5% fee > 100%
    signed = world.listing(token_id=1, unit_price=ETHER)
    fee = ETHER * FEE_BPS // 10_000
    seller_before = balance(world.seller)
    log = one_event(world.fill_listing(signed), "OrderFilled")
    assert (log.royalty, log.fee) == (ETHER - fee, fee)
    assert balance(world.seller) == seller_before


def test_royalty_of_exactly_price_minus_fee_leaves_the_seller_nothing(world):
    world.mint(world.seller, 1)
    world.nft.setTokenRoyalty(1, world.splitter, 9_750, sender=world.admin)
    signed = world.listing(token_id=1, unit_price=ETHER)
    seller_before = balance(world.seller)
    world.fill_listing(signed)
    assert balance(world.seller) == seller_before


def test_fill_fails_when_the_seller_no_longer_owns_the_token(world):
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1)
    world.nft.transferFrom(world.seller, world.stranger, 1, sender=world.seller)
    from ape.exceptions import ContractLogicError

    with pytest.raises(ContractLogicError):
        world.fill_listing(signed)
    assert world.nft.ownerOf(1) == world.stranger.address
    assert world.market.orderStatus(order_hash(signed.order, world.domain)) == (False, 0)


# ------------------------------------------------------------------ offers


def test_fill_offer_moves_token_to_the_offerer_and_pays_in_erc20(world):
    world.mint(world.seller, 3)
    price = 50 * ETHER
    signed = world.offer(token_id=3, unit_price=price)
    royalty, fee, proceeds = split(price)
    before = {a: world.coin.balanceOf(a) for a in (world.buyer, world.seller, world.splitter, world.treasury)}

    tx = world.fill_offer(signed)

    assert world.nft.ownerOf(3) == world.buyer.address
    assert before[world.buyer] - world.coin.balanceOf(world.buyer) == price
    assert world.coin.balanceOf(world.seller) - before[world.seller] == proceeds
    assert world.coin.balanceOf(world.splitter) - before[world.splitter] == royalty
    assert world.coin.balanceOf(world.treasury) - before[world.treasury] == fee
    log = one_event(tx, "OrderFilled")
    assert (log.seller, log.buyer, log.side) == (world.seller.address, world.buyer.address, int(OrderSide.OFFER))
    assert (log.currency, log.royalty, log.fee) == (world.coin.address, royalty, fee)


def test_offer_in_eth_is_refused(world):
    world.mint(world.seller, 3)
    signed = world.offer(token_id=3, currency=ZERO)
    with reverts("OfferCurrencyNotErc20", orderHash=order_hash(signed.order, world.domain)):
        world.fill_offer(signed)


def test_erc1155_offer_fills_partially(world):
    world.mint1155(world.seller, 4, 10)
    signed = world.offer(token=world.nft1155, token_id=4, standard=TokenStandard.ERC1155, quantity=6, unit_price=ETHER)
    world.fill_offer(signed, amount=4)
    assert world.nft1155.balanceOf(world.buyer, 4) == 4
    assert world.market.orderStatus(order_hash(signed.order, world.domain)) == (False, 4)


def test_listing_cannot_be_filled_as_an_offer_and_back(world):
    world.mint(world.seller, 1)
    listing = world.listing(token_id=1)
    with reverts("OrderSideMismatch", expected=int(OrderSide.OFFER), actual=int(OrderSide.LISTING)):
        world.fill_offer(listing, by=world.seller)
    offer = world.offer(token_id=1)
    with reverts("OrderSideMismatch", expected=int(OrderSide.LISTING), actual=int(OrderSide.OFFER)):
        world.fill_listing(offer, value=0)


def test_offer_requires_the_buyers_allowance(world):
    world.mint(world.seller, 3)
    world.coin.approve(world.market, 0, sender=world.buyer)
    signed = world.offer(token_id=3)
    from ape.exceptions import ContractLogicError

    with pytest.raises(ContractLogicError):
        world.fill_offer(signed)
    assert world.nft.ownerOf(3) == world.seller.address


# ------------------------------------------------------------------ order checks


def test_every_order_check_has_its_error(world):
    world.mint(world.seller, 1)
    t = now()
    cases = [
        (dict(unit_price=0), "OrderPriceZero", {}),
        (dict(quantity=0), "OrderQuantityInvalid", {"standard": 0, "quantity": 0}),
        (dict(quantity=2), "OrderQuantityInvalid", {"standard": 0, "quantity": 2}),
        (dict(start=t + DAY), "OrderNotStarted", {"start": t + DAY}),
        (dict(expiry=t - 1), "OrderExpired", {"expiry": t - 1}),
        (dict(counter=7), "OrderCounterStale", {"orderCounter": 7, "currentCounter": 0}),
    ]
    for fields, error, inputs in cases:
        signed = world.listing(token_id=1, **fields)
        with reverts(error, **inputs):
            world.fill_listing(signed, value=signed.order.unit_price)


def test_zero_amount_fill_is_refused(world):
    world.mint1155(world.seller, 2, 5)
    signed = world.listing(token=world.nft1155, token_id=2, standard=TokenStandard.ERC1155, quantity=5)
    with reverts("OrderFillAmountZero", orderHash=order_hash(signed.order, world.domain)):
        world.fill_listing(signed, amount=0)


def test_erc1155_quantity_beyond_uint248_is_refused(world):
    signed = world.listing(token=world.nft1155, token_id=2, standard=TokenStandard.ERC1155, quantity=2**248, unit_price=1)
    with reverts("OrderQuantityInvalid", standard=1, quantity=2**248):
        world.fill_listing(signed, amount=1)


def test_signature_by_another_account_is_refused(world):
    world.mint(world.seller, 1)
    order = world.order(token_id=1)
    forged = world.sign(order, by=world.stranger)
    with reverts("OrderSignatureInvalid", signer=world.seller.address):
        world.fill_listing(forged)


def test_tampered_order_fields_invalidate_the_signature(world):
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1, unit_price=ETHER)
    from dataclasses import replace

    cheaper = replace(signed, order=replace(signed.order, unit_price=ETHER // 2))
    with reverts("OrderSignatureInvalid"):
        world.fill_listing(cheaper)


def test_signature_of_the_wrong_length_is_refused(world):
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1)
    from dataclasses import replace

    with reverts("OrderSignatureInvalid"):
        world.fill_listing(replace(signed, signature=signed.signature[:64]))


# ------------------------------------------------------------------ cancel and counter


def test_cancel_marks_orders_cancelled_and_they_cannot_fill(world):
    world.mint(world.seller, 1)
    world.mint(world.seller, 2)
    a, b = world.listing(token_id=1), world.listing(token_id=2)
    tx = world.market.cancel([a.order.as_tuple(), b.order.as_tuple()], sender=world.seller)
    logs = events(tx, "OrderCancelled")
    assert [(log.orderHash, log.signer) for log in logs] == [
        (order_hash(a.order, world.domain), world.seller.address), (order_hash(b.order, world.domain), world.seller.address)]
    assert world.market.orderStatus(order_hash(a.order, world.domain)) == (True, 0)
    with reverts("OrderIsCancelled", orderHash=order_hash(a.order, world.domain)):
        world.fill_listing(a)


def test_only_the_signer_can_cancel(world):
    signed = world.listing(token_id=1)
    with reverts("OrderCancelUnauthorized", orderHash=order_hash(signed.order, world.domain),
                 caller=world.stranger.address):
        world.market.cancel([signed.order.as_tuple()], sender=world.stranger)


def test_increment_counter_invalidates_every_older_order(world):
    world.mint(world.seller, 1)
    old = world.listing(token_id=1)
    tx = world.market.incrementCounter(sender=world.seller)
    log = one_event(tx, "CounterIncremented")
    assert (log.signer, log.newCounter) == (world.seller.address, 1)
    assert world.market.counterOf(world.seller) == 1
    with reverts("OrderCounterStale", orderCounter=0, currentCounter=1):
        world.fill_listing(old)
    fresh = world.listing(token_id=1)  # signed with counter 1
    world.fill_listing(fresh)
    assert world.nft.ownerOf(1) == world.buyer.address


# ------------------------------------------------------------------ contract signers (EIP-1271)


def test_contract_wallet_signs_a_listing_by_eip1271(world, ape_project):
    wallet = ape_project.MktTestActor.deploy(world.seller, sender=world.seller)
    world.nft.mint(wallet, 5, sender=world.admin)
    wallet.execute(world.nft, 0, world.nft.setApprovalForAll.encode_input(world.market, True), sender=world.seller)
    order = world.order(signer=wallet, token_id=5, unit_price=ETHER)
    signed = world.sign(order, by=world.seller)  # the wallet's owner signs; the wallet vouches by EIP-1271
    royalty, fee, proceeds = split(ETHER)
    splitter_before = balance(world.splitter)

    world.fill_listing(signed)

    assert world.nft.ownerOf(5) == world.buyer.address
    assert balance(wallet) == proceeds
    assert balance(world.splitter) - splitter_before == royalty
    assert world.credit(world.treasury) == fee


def test_contract_wallet_rejects_a_signature_by_someone_else(world, ape_project):
    wallet = ape_project.MktTestActor.deploy(world.seller, sender=world.seller)
    world.nft.mint(wallet, 5, sender=world.admin)
    order = world.order(signer=wallet, token_id=5)
    with reverts("OrderSignatureInvalid", signer=wallet.address):
        world.fill_listing(world.sign(order, by=world.stranger))


# ------------------------------------------------------------------ withdrawals


def test_treasury_withdraws_its_fee_credit(world):
    world.mint(world.seller, 1)
    world.fill_listing(world.listing(token_id=1, unit_price=ETHER))
    fee = ETHER * FEE_BPS // 10_000
    before = balance(world.treasury)
    tx = world.market.withdraw(sender=world.treasury)
    log = one_event(tx, "Withdrawn")
    assert (log.payee, log.to, log.amount) == (world.treasury.address, world.treasury.address, fee)
    assert balance(world.treasury) - before == fee - tx.total_fees_paid
    assert world.credit(world.treasury) == 0
    with reverts("WithdrawalNothingOwed", payee=world.treasury.address):
        world.market.withdraw(sender=world.treasury)


def test_withdraw_to_sends_the_credit_elsewhere(world):
    world.mint(world.seller, 1)
    world.fill_listing(world.listing(token_id=1, unit_price=ETHER))
    fee = ETHER * FEE_BPS // 10_000
    before = balance(world.stranger)
    world.market.withdrawTo(world.stranger, sender=world.treasury)
    assert balance(world.stranger) - before == fee


def test_withdraw_to_a_contract_that_rejects_eth_reverts_and_keeps_the_credit(world, ape_project):
    world.mint(world.seller, 1)
    world.fill_listing(world.listing(token_id=1, unit_price=ETHER))
    fee = ETHER * FEE_BPS // 10_000
    rejecting = ape_project.MktTestActor.deploy(world.admin, sender=world.admin)
    rejecting.configure(1, 0, ZERO, b"", 0, sender=world.admin)  # ETH: revert
    with reverts("WithdrawalFailed", payee=world.treasury.address, to=rejecting.address, amount=fee):
        world.market.withdrawTo(rejecting, sender=world.treasury)
    assert world.credit(world.treasury) == fee


def test_marketplace_refuses_stray_eth_and_unsolicited_tokens(world):
    from ape.exceptions import ContractLogicError

    with pytest.raises(ContractLogicError):
        world.buyer.transfer(world.market, 1)
    world.mint(world.seller, 9)
    with reverts("TokenReceiptUnexpected", operator=world.seller.address):
        world.nft.safeTransferFrom(world.seller, world.market, 9, sender=world.seller)
    world.mint1155(world.seller, 9, 1)
    with reverts("TokenReceiptUnexpected", operator=world.seller.address):
        world.nft1155.safeTransferFrom(world.seller, world.market, 9, 1, b"", sender=world.seller)
