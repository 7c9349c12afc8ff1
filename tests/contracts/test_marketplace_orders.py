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


def test_fill_listing_moves_token_and_splits_eth_between_royalty_fee_and_seller(w):
    w.mint(w.seller, 1)
    signed = w.listing(token_id=1, unit_price=2 * ETHER)
    royalty, fee, proceeds = split(2 * ETHER)
    seller_before, splitter_before = balance(w.seller), balance(w.splitter)

    tx = w.fill_listing(signed)

    assert w.nft.ownerOf(1) == w.buyer.address
    assert balance(w.seller) - seller_before == proceeds
    assert balance(w.splitter) - splitter_before == royalty
    # The receiver is the platform's RoyaltySplitter clone (its receive needs more than 2,300 gas):
    # the royalty waits there for its recipients to pull.
    assert len(ape.chain.provider.get_code(w.splitter.address)) < 200
    assert w.splitter.undistributed(ZERO) == royalty
    assert w.credit(w.treasury) == fee
    assert balance(w.market) == fee  # only the treasury's credit stays in the marketplace
    log = one_event(tx, "OrderFilled")
    assert log.orderHash == order_hash(signed.order, w.domain)
    assert (log.seller, log.buyer) == (w.seller.address, w.buyer.address)
    assert log.side == int(OrderSide.LISTING)
    assert (log.token, log.tokenId, log.amount, log.unitPrice) == (w.nft.address, 1, 1, 2 * ETHER)
    assert log.currency == ZERO
    assert (log.royaltyReceiver, log.royalty, log.fee) == (w.splitter.address, royalty, fee)
    assert w.market.orderStatus(log.orderHash) == (False, 1)


def test_fill_listing_returns_the_order_hash_the_python_side_computes(w):
    w.mint(w.seller, 1)
    signed = w.listing(token_id=1)
    assert w.market.hashOrder(signed.order.as_tuple()) == order_hash(signed.order, w.domain)


def test_fill_listing_in_erc20_pays_each_payee_from_the_buyer(w):
    w.mint(w.seller, 1)
    price = 100 * ETHER
    signed = w.listing(token_id=1, unit_price=price, currency=w.coin)
    royalty, fee, proceeds = split(price)
    before = {a: w.coin.balanceOf(a) for a in (w.buyer, w.seller, w.splitter, w.treasury)}

    w.fill_listing(signed)

    assert before[w.buyer] - w.coin.balanceOf(w.buyer) == price
    assert w.coin.balanceOf(w.seller) - before[w.seller] == proceeds
    assert w.coin.balanceOf(w.splitter) - before[w.splitter] == royalty
    assert w.coin.balanceOf(w.treasury) - before[w.treasury] == fee
    assert w.coin.balanceOf(w.market) == 0
    assert w.nft.ownerOf(1) == w.buyer.address


def test_erc20_listing_rejects_attached_eth(w):
    w.mint(w.seller, 1)
    signed = w.listing(token_id=1, currency=w.coin)
    with reverts("PaymentValueMismatch", expected=0, sent=1):
        w.fill_listing(signed, value=1)


def test_eth_listing_requires_the_exact_price(w):
    w.mint(w.seller, 1)
    signed = w.listing(token_id=1, unit_price=ETHER)
    with reverts("PaymentValueMismatch", expected=ETHER, sent=ETHER - 1):
        w.fill_listing(signed, value=ETHER - 1)
    with reverts("PaymentValueMismatch", expected=ETHER, sent=ETHER + 1):
        w.fill_listing(signed, value=ETHER + 1)


def test_erc1155_listing_fills_partially_at_the_unit_price(w):
    w.mint1155(w.seller, 7, 10)
    signed = w.listing(token=w.nft1155, token_id=7, standard=TokenStandard.ERC1155, quantity=5,
                       unit_price=ETHER // 10)
    digest = order_hash(signed.order, w.domain)

    tx = w.fill_listing(signed, amount=2)
    assert one_event(tx, "OrderFilled").amount == 2
    assert w.market.orderStatus(digest) == (False, 2)
    w.fill_listing(signed, amount=3, by=w.buyer2)

    assert w.nft1155.balanceOf(w.buyer, 7) == 2
    assert w.nft1155.balanceOf(w.buyer2, 7) == 3
    assert w.nft1155.balanceOf(w.seller, 7) == 5
    assert w.market.orderStatus(digest) == (False, 5)
    with reverts("OrderFillExceedsRemaining", requested=1, remaining=0):
        w.fill_listing(signed, amount=1)


def test_erc1155_fill_cannot_exceed_what_remains(w):
    w.mint1155(w.seller, 7, 10)
    signed = w.listing(token=w.nft1155, token_id=7, standard=TokenStandard.ERC1155, quantity=3)
    with reverts("OrderFillExceedsRemaining", orderHash=order_hash(signed.order, w.domain), requested=4,
                 remaining=3):
        w.fill_listing(signed, amount=4)


def test_collection_without_erc2981_pays_no_royalty_and_still_fills(w, ape_project):
    plain = ape_project.MktTestPlainERC721.deploy(sender=w.admin)
    plain.mint(w.seller, 1, sender=w.admin)
    plain.setApprovalForAll(w.market, True, sender=w.seller)
    signed = w.listing(token=plain, token_id=1, unit_price=ETHER)
    seller_before = balance(w.seller)

    tx = w.fill_listing(signed)

    log = one_event(tx, "OrderFilled")
    assert (log.royaltyReceiver, log.royalty) == (ZERO, 0)
    fee = ETHER * FEE_BPS // 10_000
    assert balance(w.seller) - seller_before == ETHER - fee
    assert plain.ownerOf(1) == w.buyer.address


def test_royalty_above_price_minus_fee_is_capped_at_what_the_fee_leaves(w):
    """Capped, not reverted: a royalty raised above the price cannot turn a fill into a revert
    (see test_marketplace_lockups.py for auctions and offers)."""
    w.mint(w.seller, 1)
    w.nft.setTokenRoyalty(1, w.splitter, 9_800, sender=w.admin)  # 98% + 2.5% fee > 100%
    signed = w.listing(token_id=1, unit_price=ETHER)
    fee = ETHER * FEE_BPS // 10_000
    seller_before = balance(w.seller)
    log = one_event(w.fill_listing(signed), "OrderFilled")
    assert (log.royalty, log.fee) == (ETHER - fee, fee)
    assert balance(w.seller) == seller_before


def test_royalty_of_exactly_price_minus_fee_leaves_the_seller_nothing(w):
    w.mint(w.seller, 1)
    w.nft.setTokenRoyalty(1, w.splitter, 9_750, sender=w.admin)
    signed = w.listing(token_id=1, unit_price=ETHER)
    seller_before = balance(w.seller)
    w.fill_listing(signed)
    assert balance(w.seller) == seller_before


def test_fill_fails_when_the_seller_no_longer_owns_the_token(w):
    w.mint(w.seller, 1)
    signed = w.listing(token_id=1)
    w.nft.transferFrom(w.seller, w.stranger, 1, sender=w.seller)
    from ape.exceptions import ContractLogicError

    with pytest.raises(ContractLogicError):
        w.fill_listing(signed)
    assert w.nft.ownerOf(1) == w.stranger.address
    assert w.market.orderStatus(order_hash(signed.order, w.domain)) == (False, 0)


# ------------------------------------------------------------------ offers


def test_fill_offer_moves_token_to_the_offerer_and_pays_in_erc20(w):
    w.mint(w.seller, 3)
    price = 50 * ETHER
    signed = w.offer(token_id=3, unit_price=price)
    royalty, fee, proceeds = split(price)
    before = {a: w.coin.balanceOf(a) for a in (w.buyer, w.seller, w.splitter, w.treasury)}

    tx = w.fill_offer(signed)

    assert w.nft.ownerOf(3) == w.buyer.address
    assert before[w.buyer] - w.coin.balanceOf(w.buyer) == price
    assert w.coin.balanceOf(w.seller) - before[w.seller] == proceeds
    assert w.coin.balanceOf(w.splitter) - before[w.splitter] == royalty
    assert w.coin.balanceOf(w.treasury) - before[w.treasury] == fee
    log = one_event(tx, "OrderFilled")
    assert (log.seller, log.buyer, log.side) == (w.seller.address, w.buyer.address, int(OrderSide.OFFER))
    assert (log.currency, log.royalty, log.fee) == (w.coin.address, royalty, fee)


def test_offer_in_eth_is_refused(w):
    w.mint(w.seller, 3)
    signed = w.offer(token_id=3, currency=ZERO)
    with reverts("OfferCurrencyNotErc20", orderHash=order_hash(signed.order, w.domain)):
        w.fill_offer(signed)


def test_erc1155_offer_fills_partially(w):
    w.mint1155(w.seller, 4, 10)
    signed = w.offer(token=w.nft1155, token_id=4, standard=TokenStandard.ERC1155, quantity=6, unit_price=ETHER)
    w.fill_offer(signed, amount=4)
    assert w.nft1155.balanceOf(w.buyer, 4) == 4
    assert w.market.orderStatus(order_hash(signed.order, w.domain)) == (False, 4)


def test_listing_cannot_be_filled_as_an_offer_and_back(w):
    w.mint(w.seller, 1)
    listing = w.listing(token_id=1)
    with reverts("OrderSideMismatch", expected=int(OrderSide.OFFER), actual=int(OrderSide.LISTING)):
        w.fill_offer(listing, by=w.seller)
    offer = w.offer(token_id=1)
    with reverts("OrderSideMismatch", expected=int(OrderSide.LISTING), actual=int(OrderSide.OFFER)):
        w.fill_listing(offer, value=0)


def test_offer_requires_the_buyers_allowance(w):
    w.mint(w.seller, 3)
    w.coin.approve(w.market, 0, sender=w.buyer)
    signed = w.offer(token_id=3)
    from ape.exceptions import ContractLogicError

    with pytest.raises(ContractLogicError):
        w.fill_offer(signed)
    assert w.nft.ownerOf(3) == w.seller.address


# ------------------------------------------------------------------ order checks


def test_every_order_check_has_its_error(w):
    w.mint(w.seller, 1)
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
        signed = w.listing(token_id=1, **fields)
        with reverts(error, **inputs):
            w.fill_listing(signed, value=signed.order.unit_price)


def test_zero_amount_fill_is_refused(w):
    w.mint1155(w.seller, 2, 5)
    signed = w.listing(token=w.nft1155, token_id=2, standard=TokenStandard.ERC1155, quantity=5)
    with reverts("OrderFillAmountZero", orderHash=order_hash(signed.order, w.domain)):
        w.fill_listing(signed, amount=0)


def test_erc1155_quantity_beyond_uint248_is_refused(w):
    signed = w.listing(token=w.nft1155, token_id=2, standard=TokenStandard.ERC1155, quantity=2**248, unit_price=1)
    with reverts("OrderQuantityInvalid", standard=1, quantity=2**248):
        w.fill_listing(signed, amount=1)


def test_signature_by_another_account_is_refused(w):
    w.mint(w.seller, 1)
    order = w.order(token_id=1)
    forged = w.sign(order, by=w.stranger)
    with reverts("OrderSignatureInvalid", signer=w.seller.address):
        w.fill_listing(forged)


def test_tampered_order_fields_invalidate_the_signature(w):
    w.mint(w.seller, 1)
    signed = w.listing(token_id=1, unit_price=ETHER)
    from dataclasses import replace

    cheaper = replace(signed, order=replace(signed.order, unit_price=ETHER // 2))
    with reverts("OrderSignatureInvalid"):
        w.fill_listing(cheaper)


def test_signature_of_the_wrong_length_is_refused(w):
    w.mint(w.seller, 1)
    signed = w.listing(token_id=1)
    from dataclasses import replace

    with reverts("OrderSignatureInvalid"):
        w.fill_listing(replace(signed, signature=signed.signature[:64]))


# ------------------------------------------------------------------ cancel and counter


def test_cancel_marks_orders_cancelled_and_they_cannot_fill(w):
    w.mint(w.seller, 1)
    w.mint(w.seller, 2)
    a, b = w.listing(token_id=1), w.listing(token_id=2)
    tx = w.market.cancel([a.order.as_tuple(), b.order.as_tuple()], sender=w.seller)
    logs = events(tx, "OrderCancelled")
    assert [(log.orderHash, log.signer) for log in logs] == [
        (order_hash(a.order, w.domain), w.seller.address), (order_hash(b.order, w.domain), w.seller.address)]
    assert w.market.orderStatus(order_hash(a.order, w.domain)) == (True, 0)
    with reverts("OrderIsCancelled", orderHash=order_hash(a.order, w.domain)):
        w.fill_listing(a)


def test_only_the_signer_can_cancel(w):
    signed = w.listing(token_id=1)
    with reverts("OrderCancelUnauthorized", orderHash=order_hash(signed.order, w.domain),
                 caller=w.stranger.address):
        w.market.cancel([signed.order.as_tuple()], sender=w.stranger)


def test_increment_counter_invalidates_every_older_order(w):
    w.mint(w.seller, 1)
    old = w.listing(token_id=1)
    tx = w.market.incrementCounter(sender=w.seller)
    log = one_event(tx, "CounterIncremented")
    assert (log.signer, log.newCounter) == (w.seller.address, 1)
    assert w.market.counterOf(w.seller) == 1
    with reverts("OrderCounterStale", orderCounter=0, currentCounter=1):
        w.fill_listing(old)
    fresh = w.listing(token_id=1)  # signed with counter 1
    w.fill_listing(fresh)
    assert w.nft.ownerOf(1) == w.buyer.address


# ------------------------------------------------------------------ contract signers (EIP-1271)


def test_contract_wallet_signs_a_listing_by_eip1271(w, ape_project):
    wallet = ape_project.MktTestActor.deploy(w.seller, sender=w.seller)
    w.nft.mint(wallet, 5, sender=w.admin)
    wallet.execute(w.nft, 0, w.nft.setApprovalForAll.encode_input(w.market, True), sender=w.seller)
    order = w.order(signer=wallet, token_id=5, unit_price=ETHER)
    signed = w.sign(order, by=w.seller)  # the wallet's owner signs; the wallet vouches by EIP-1271
    royalty, fee, proceeds = split(ETHER)
    splitter_before = balance(w.splitter)

    w.fill_listing(signed)

    assert w.nft.ownerOf(5) == w.buyer.address
    assert balance(wallet) == proceeds
    assert balance(w.splitter) - splitter_before == royalty
    assert w.credit(w.treasury) == fee


def test_contract_wallet_rejects_a_signature_by_someone_else(w, ape_project):
    wallet = ape_project.MktTestActor.deploy(w.seller, sender=w.seller)
    w.nft.mint(wallet, 5, sender=w.admin)
    order = w.order(signer=wallet, token_id=5)
    with reverts("OrderSignatureInvalid", signer=wallet.address):
        w.fill_listing(w.sign(order, by=w.stranger))


# ------------------------------------------------------------------ withdrawals


def test_treasury_withdraws_its_fee_credit(w):
    w.mint(w.seller, 1)
    w.fill_listing(w.listing(token_id=1, unit_price=ETHER))
    fee = ETHER * FEE_BPS // 10_000
    before = balance(w.treasury)
    tx = w.market.withdraw(sender=w.treasury)
    log = one_event(tx, "Withdrawn")
    assert (log.payee, log.to, log.amount) == (w.treasury.address, w.treasury.address, fee)
    assert balance(w.treasury) - before == fee - tx.total_fees_paid
    assert w.credit(w.treasury) == 0
    with reverts("WithdrawalNothingOwed", payee=w.treasury.address):
        w.market.withdraw(sender=w.treasury)


def test_withdraw_to_sends_the_credit_elsewhere(w):
    w.mint(w.seller, 1)
    w.fill_listing(w.listing(token_id=1, unit_price=ETHER))
    fee = ETHER * FEE_BPS // 10_000
    before = balance(w.stranger)
    w.market.withdrawTo(w.stranger, sender=w.treasury)
    assert balance(w.stranger) - before == fee


def test_withdraw_to_a_contract_that_rejects_eth_reverts_and_keeps_the_credit(w, ape_project):
    w.mint(w.seller, 1)
    w.fill_listing(w.listing(token_id=1, unit_price=ETHER))
    fee = ETHER * FEE_BPS // 10_000
    rejecting = ape_project.MktTestActor.deploy(w.admin, sender=w.admin)
    rejecting.configure(1, 0, ZERO, b"", 0, sender=w.admin)  # ETH: revert
    with reverts("WithdrawalFailed", payee=w.treasury.address, to=rejecting.address, amount=fee):
        w.market.withdrawTo(rejecting, sender=w.treasury)
    assert w.credit(w.treasury) == fee


def test_marketplace_refuses_stray_eth_and_unsolicited_tokens(w):
    from ape.exceptions import ContractLogicError

    with pytest.raises(ContractLogicError):
        w.buyer.transfer(w.market, 1)
    w.mint(w.seller, 9)
    with reverts("TokenReceiptUnexpected", operator=w.seller.address):
        w.nft.safeTransferFrom(w.seller, w.market, 9, sender=w.seller)
    w.mint1155(w.seller, 9, 1)
    with reverts("TokenReceiptUnexpected", operator=w.seller.address):
        w.nft1155.safeTransferFrom(w.seller, w.market, 9, 1, b"", sender=w.seller)
