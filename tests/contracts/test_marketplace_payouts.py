"""Who gets paid and when: the treasury's accrued ETH fees, ERC-20 payees the token refuses, and
price arithmetic that overflows."""

from __future__ import annotations

import pytest

from chain.orders import TokenStandard
from tests.support.marketplace import ETHER, balance, one_event, reverts, split

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("market_isolated")]


# ------------------------------------------------------------------ the treasury's ETH fees


def test_eth_fees_accrue_to_the_treasury_without_touching_the_configuration(world):
    for token_id in (1, 2):
        world.mint(world.seller, token_id)
        world.fill_listing(world.listing(token_id=token_id, unit_price=ETHER))
    _, fee, _ = split(ETHER)
    # The accrual shares a slot with the treasury, the fee and the pause flag: none of them moved.
    assert world.market.treasury() == world.treasury.address
    assert world.market.platformFeeBps() == 250
    assert world.market.paused() is False
    assert world.credit(world.treasury) == 2 * fee
    assert balance(world.market) == 2 * fee

    before = balance(world.treasury)
    tx = world.market.withdraw(sender=world.treasury)
    assert one_event(tx, "Withdrawn").amount == 2 * fee
    assert balance(world.treasury) - before == 2 * fee - tx.total_fees_paid
    assert world.credit(world.treasury) == 0 and balance(world.market) == 0


def test_fees_accrued_before_a_treasury_change_stay_with_the_old_treasury(world):
    world.mint(world.seller, 1)
    world.fill_listing(world.listing(token_id=1, unit_price=ETHER))
    _, fee, _ = split(ETHER)
    world.market.setTreasury(world.stranger, sender=world.admin)
    assert world.credit(world.treasury) == fee
    assert world.credit(world.stranger) == 0

    world.mint(world.seller, 2)
    world.fill_listing(world.listing(token_id=2, unit_price=2 * ETHER))
    assert world.credit(world.stranger) == 2 * fee
    assert world.credit(world.treasury) == fee
    world.market.withdraw(sender=world.treasury)
    world.market.withdraw(sender=world.stranger)
    assert balance(world.market) == 0


def test_paused_market_still_refuses_fills_after_fees_accrued(world):
    world.mint(world.seller, 1)
    world.fill_listing(world.listing(token_id=1, unit_price=ETHER))
    world.market.pause(sender=world.admin)
    world.mint(world.seller, 2)
    with reverts("EnforcedPause"):
        world.fill_listing(world.listing(token_id=2, unit_price=ETHER))
    world.market.unpause(sender=world.admin)
    world.fill_listing(world.listing(token_id=2, unit_price=ETHER))
    assert world.nft.ownerOf(2) == world.buyer.address


# ------------------------------------------------------------------ ERC-20 payees the token refuses


@pytest.mark.parametrize("payee", ["splitter", "treasury", "seller"])
def test_erc20_listing_completes_when_the_token_refuses_a_payee_who_is_credited(world, payee):
    blocked = getattr(world, payee)
    world.coin.setBlocked(blocked, True, sender=world.admin)
    world.mint(world.seller, 1)
    price = 100 * ETHER
    parts = dict(zip(("splitter", "treasury", "seller"), split(price), strict=True))
    before = {name: int(world.coin.balanceOf(getattr(world, name))) for name in parts}
    buyer_before = int(world.coin.balanceOf(world.buyer))

    tx = world.fill_listing(world.listing(token_id=1, unit_price=price, currency=world.coin))

    assert world.nft.ownerOf(1) == world.buyer.address
    assert buyer_before - int(world.coin.balanceOf(world.buyer)) == price
    for name, part in parts.items():
        received = int(world.coin.balanceOf(getattr(world, name))) - before[name]
        assert received == (0 if name == payee else part), name
    credited = one_event(tx, "Erc20PaymentCredited")
    assert (credited.currency, credited.payee, credited.amount) == (world.coin.address, blocked.address, parts[payee])
    assert int(world.market.pendingErc20(world.coin, blocked)) == parts[payee]
    assert int(world.coin.balanceOf(world.market)) == parts[payee]  # the market holds exactly the credit


def test_erc20_offer_completes_when_the_token_refuses_the_splitter_and_the_treasury(world):
    world.coin.setBlocked(world.splitter, True, sender=world.admin)
    world.coin.setBlocked(world.treasury, True, sender=world.admin)
    world.mint(world.seller, 1)
    price = 100 * ETHER
    royalty, fee, proceeds = split(price)
    seller_before = int(world.coin.balanceOf(world.seller))

    world.fill_offer(world.offer(token_id=1, unit_price=price))

    assert world.nft.ownerOf(1) == world.buyer.address
    assert int(world.coin.balanceOf(world.seller)) - seller_before == proceeds
    assert int(world.market.pendingErc20(world.coin, world.splitter)) == royalty
    assert int(world.market.pendingErc20(world.coin, world.treasury)) == fee
    assert int(world.coin.balanceOf(world.market)) == royalty + fee


def test_a_credited_erc20_payee_withdraws_later_to_any_address(world):
    world.coin.setBlocked(world.treasury, True, sender=world.admin)
    world.mint(world.seller, 1)
    _, fee, _ = split(100 * ETHER)
    world.fill_offer(world.offer(token_id=1, unit_price=100 * ETHER))

    # Still blocked: the withdrawal to the treasury itself fails and keeps the credit.
    with reverts("WithdrawalFailed", payee=world.treasury.address, to=world.treasury.address, amount=fee):
        world.market.withdrawErc20(world.coin, world.treasury, sender=world.treasury)
    before = int(world.coin.balanceOf(world.stranger))
    tx = world.market.withdrawErc20(world.coin, world.stranger, sender=world.treasury)
    event = one_event(tx, "Erc20Withdrawn")
    assert (event.currency, event.payee, event.to, event.amount) == (
        world.coin.address, world.treasury.address, world.stranger.address, fee)
    assert int(world.coin.balanceOf(world.stranger)) - before == fee
    assert int(world.market.pendingErc20(world.coin, world.treasury)) == 0
    with reverts("WithdrawalNothingOwed", payee=world.treasury.address):
        world.market.withdrawErc20(world.coin, world.treasury, sender=world.treasury)


# ------------------------------------------------------------------ arithmetic


def test_a_listing_whose_total_overflows_reverts_with_a_named_error(world):
    world.mint1155(world.seller, 1, 10)
    unit_price = 2**255
    signed = world.listing(token=world.nft1155, token_id=1, standard=TokenStandard.ERC1155, quantity=10, unit_price=unit_price,
                       currency=world.coin)
    with reverts("OrderValueOverflow", unitPrice=unit_price, amount=2):
        world.fill_listing(signed, amount=2)


def test_an_offer_whose_total_overflows_reverts_with_a_named_error(world):
    world.mint1155(world.seller, 1, 10)
    unit_price = 2**255
    signed = world.offer(token=world.nft1155, token_id=1, standard=TokenStandard.ERC1155, quantity=10, unit_price=unit_price)
    with reverts("OrderValueOverflow", unitPrice=unit_price, amount=2):
        world.fill_offer(signed, amount=2)
