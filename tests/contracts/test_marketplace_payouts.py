"""Who gets paid and when: the treasury's accrued ETH fees, ERC-20 payees the token refuses, and
price arithmetic that overflows."""

from __future__ import annotations

import pytest

from chain.orders import TokenStandard
from tests.support.marketplace import ETHER, balance, one_event, reverts, split

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("market_isolated")]


# ------------------------------------------------------------------ the treasury's ETH fees


def test_eth_fees_accrue_to_the_treasury_without_touching_the_configuration(w):
    for token_id in (1, 2):
        w.mint(w.seller, token_id)
        w.fill_listing(w.listing(token_id=token_id, unit_price=ETHER))
    _, fee, _ = split(ETHER)
    # The accrual shares a slot with the treasury, the fee and the pause flag: none of them moved.
    assert w.market.treasury() == w.treasury.address
    assert w.market.platformFeeBps() == 250
    assert w.market.paused() is False
    assert w.credit(w.treasury) == 2 * fee
    assert balance(w.market) == 2 * fee

    before = balance(w.treasury)
    tx = w.market.withdraw(sender=w.treasury)
    assert one_event(tx, "Withdrawn").amount == 2 * fee
    assert balance(w.treasury) - before == 2 * fee - tx.total_fees_paid
    assert w.credit(w.treasury) == 0 and balance(w.market) == 0


def test_fees_accrued_before_a_treasury_change_stay_with_the_old_treasury(w):
    w.mint(w.seller, 1)
    w.fill_listing(w.listing(token_id=1, unit_price=ETHER))
    _, fee, _ = split(ETHER)
    w.market.setTreasury(w.stranger, sender=w.admin)
    assert w.credit(w.treasury) == fee
    assert w.credit(w.stranger) == 0

    w.mint(w.seller, 2)
    w.fill_listing(w.listing(token_id=2, unit_price=2 * ETHER))
    assert w.credit(w.stranger) == 2 * fee
    assert w.credit(w.treasury) == fee
    w.market.withdraw(sender=w.treasury)
    w.market.withdraw(sender=w.stranger)
    assert balance(w.market) == 0


def test_paused_market_still_refuses_fills_after_fees_accrued(w):
    w.mint(w.seller, 1)
    w.fill_listing(w.listing(token_id=1, unit_price=ETHER))
    w.market.pause(sender=w.admin)
    w.mint(w.seller, 2)
    with reverts("EnforcedPause"):
        w.fill_listing(w.listing(token_id=2, unit_price=ETHER))
    w.market.unpause(sender=w.admin)
    w.fill_listing(w.listing(token_id=2, unit_price=ETHER))
    assert w.nft.ownerOf(2) == w.buyer.address


# ------------------------------------------------------------------ ERC-20 payees the token refuses


@pytest.mark.parametrize("payee", ["splitter", "treasury", "seller"])
def test_erc20_listing_completes_when_the_token_refuses_a_payee_who_is_credited(w, payee):
    blocked = getattr(w, payee)
    w.coin.setBlocked(blocked, True, sender=w.admin)
    w.mint(w.seller, 1)
    price = 100 * ETHER
    parts = dict(zip(("splitter", "treasury", "seller"), split(price), strict=True))
    before = {name: int(w.coin.balanceOf(getattr(w, name))) for name in parts}
    buyer_before = int(w.coin.balanceOf(w.buyer))

    tx = w.fill_listing(w.listing(token_id=1, unit_price=price, currency=w.coin))

    assert w.nft.ownerOf(1) == w.buyer.address
    assert buyer_before - int(w.coin.balanceOf(w.buyer)) == price
    for name, part in parts.items():
        received = int(w.coin.balanceOf(getattr(w, name))) - before[name]
        assert received == (0 if name == payee else part), name
    credited = one_event(tx, "Erc20PaymentCredited")
    assert (credited.currency, credited.payee, credited.amount) == (w.coin.address, blocked.address, parts[payee])
    assert int(w.market.pendingErc20(w.coin, blocked)) == parts[payee]
    assert int(w.coin.balanceOf(w.market)) == parts[payee]  # the market holds exactly the credit


def test_erc20_offer_completes_when_the_token_refuses_the_splitter_and_the_treasury(w):
    w.coin.setBlocked(w.splitter, True, sender=w.admin)
    w.coin.setBlocked(w.treasury, True, sender=w.admin)
    w.mint(w.seller, 1)
    price = 100 * ETHER
    royalty, fee, proceeds = split(price)
    seller_before = int(w.coin.balanceOf(w.seller))

    w.fill_offer(w.offer(token_id=1, unit_price=price))

    assert w.nft.ownerOf(1) == w.buyer.address
    assert int(w.coin.balanceOf(w.seller)) - seller_before == proceeds
    assert int(w.market.pendingErc20(w.coin, w.splitter)) == royalty
    assert int(w.market.pendingErc20(w.coin, w.treasury)) == fee
    assert int(w.coin.balanceOf(w.market)) == royalty + fee


def test_a_credited_erc20_payee_withdraws_later_to_any_address(w):
    w.coin.setBlocked(w.treasury, True, sender=w.admin)
    w.mint(w.seller, 1)
    _, fee, _ = split(100 * ETHER)
    w.fill_offer(w.offer(token_id=1, unit_price=100 * ETHER))

    # Still blocked: the withdrawal to the treasury itself fails and keeps the credit.
    with reverts("WithdrawalFailed", payee=w.treasury.address, to=w.treasury.address, amount=fee):
        w.market.withdrawErc20(w.coin, w.treasury, sender=w.treasury)
    before = int(w.coin.balanceOf(w.stranger))
    tx = w.market.withdrawErc20(w.coin, w.stranger, sender=w.treasury)
    event = one_event(tx, "Erc20Withdrawn")
    assert (event.currency, event.payee, event.to, event.amount) == (
        w.coin.address, w.treasury.address, w.stranger.address, fee)
    assert int(w.coin.balanceOf(w.stranger)) - before == fee
    assert int(w.market.pendingErc20(w.coin, w.treasury)) == 0
    with reverts("WithdrawalNothingOwed", payee=w.treasury.address):
        w.market.withdrawErc20(w.coin, w.treasury, sender=w.treasury)


# ------------------------------------------------------------------ arithmetic


def test_a_listing_whose_total_overflows_reverts_with_a_named_error(w):
    w.mint1155(w.seller, 1, 10)
    unit_price = 2**255
    signed = w.listing(token=w.nft1155, token_id=1, standard=TokenStandard.ERC1155, quantity=10, unit_price=unit_price,
                       currency=w.coin)
    with reverts("OrderValueOverflow", unitPrice=unit_price, amount=2):
        w.fill_listing(signed, amount=2)


def test_an_offer_whose_total_overflows_reverts_with_a_named_error(w):
    w.mint1155(w.seller, 1, 10)
    unit_price = 2**255
    signed = w.offer(token=w.nft1155, token_id=1, standard=TokenStandard.ERC1155, quantity=10, unit_price=unit_price)
    with reverts("OrderValueOverflow", unitPrice=unit_price, amount=2):
        w.fill_offer(signed, amount=2)
