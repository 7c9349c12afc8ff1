"""Attacks on the marketplace an auditor would try; each must revert or be harmless.

Also covered elsewhere: settlement twice, bid below increment, bid after end
(test_marketplace_auctions.py); zero amount, wrong side, tampered fields (test_marketplace_orders.py).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from chain.devaccounts import dev_account
from chain.errors import OrderDomainError
from chain.orders import SECP256K1_N, MarketDomain, TokenStandard, order_hash, sign_order, verify_order
from tests.support.marketplace import (
    ACCEPT,
    BURN_GAS,
    DAY,
    ETHER,
    REENTER,
    REENTER_BUBBLE,
    REENTRANT_CALL,
    REVERT,
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


def actor(world, ape_project, owner=None):
    return ape_project.MktTestActor.deploy(owner or world.buyer, sender=owner or world.buyer)


def assert_market_holds_only_credits(world, *accounts, open_bids=0):
    """The marketplace's ETH is exactly what it owes: credits (+ open auction bids)."""
    owed = sum(world.credit(a) for a in accounts)
    assert balance(world.market) == owed + open_bids


# ------------------------------------------------------------------ stale listings


def test_listing_cannot_fill_while_the_token_is_away(world):
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1)
    world.nft.transferFrom(world.seller, world.stranger, 1, sender=world.seller)
    with reverts("ListingHoldingEpochStale", orderHash=signed.order_hash):
        world.fill_listing(signed)


def test_listing_never_fills_again_once_its_token_left_the_seller_even_after_it_returns(world):
    """A listing is bound to the token's holding epoch (its transfer count): the token leaving
    the seller ends the listing for good, on chain, whatever the API serves."""
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1, unit_price=ETHER)
    signed_epoch = signed.order.holding_epoch
    world.nft.transferFrom(world.seller, world.stranger, 1, sender=world.seller)
    world.nft.transferFrom(world.stranger, world.seller, 1, sender=world.stranger)
    current = int(world.nft.holdingEpoch(world.seller, 1))
    assert current == signed_epoch + 2
    with reverts("ListingHoldingEpochStale", orderHash=signed.order_hash, signedEpoch=signed_epoch,
                 currentEpoch=current):
        world.fill_listing(signed)
    assert world.nft.ownerOf(1) == world.seller.address
    world.fill_listing(world.listing(token_id=1, unit_price=2 * ETHER), value=2 * ETHER)  # a new listing sells


def test_listing_of_a_token_that_was_sold_on_the_market_and_bought_back_is_dead(world):
    """The same through the marketplace itself: sold by one listing, bought back by another."""
    world.mint(world.seller, 1)
    cheap = world.listing(token_id=1, unit_price=ETHER)
    world.fill_listing(cheap)  # the buyer has it
    resale = world.sign(world.order(signer=world.buyer, token_id=1, unit_price=2 * ETHER))
    world.fill_listing(resale, by=world.seller, value=2 * ETHER)  # the seller buys it back
    stale = world.listing(token_id=1, unit_price=ETHER, holding_epoch=cheap.order.holding_epoch)
    with reverts("ListingHoldingEpochStale"):
        world.fill_listing(stale)


def test_erc1155_listing_dies_when_units_come_back_but_fills_in_parts_meanwhile(world):
    """ERC-1155: the epoch is how many times the seller received units of the id. Selling part of
    a listing (units leaving) keeps it alive; any receipt of the id (units coming back, or more
    bought or minted) ends every listing of it the seller signed before."""
    world.mint1155(world.seller, 7, 10)
    signed = world.listing(token=world.nft1155, token_id=7, standard=TokenStandard.ERC1155, quantity=10,
                       unit_price=ETHER)
    world.fill_listing(signed, amount=3, value=3 * ETHER)
    world.fill_listing(signed, amount=2, value=2 * ETHER)  # partial fills: units leave, the epoch holds
    world.nft1155.safeTransferFrom(world.seller, world.stranger, 7, 5, b"", sender=world.seller)
    world.nft1155.safeTransferFrom(world.stranger, world.seller, 7, 5, b"", sender=world.stranger)
    with reverts("ListingHoldingEpochStale", orderHash=signed.order_hash):
        world.fill_listing(signed, amount=1, value=ETHER)


def test_collection_without_holding_epochs_cannot_be_sold_by_listing(world, ape_project):
    """Fails closed: a collection that cannot say whether the token moved has no listing fills."""
    work = ape_project.TestWork721.deploy(sender=world.admin)
    work.mint(world.seller, 1, sender=world.admin)
    work.setApprovalForAll(world.market, True, sender=world.seller)
    signed = world.listing(token=work, token_id=1, holding_epoch=0)
    with reverts("ListingHoldingEpochUnavailable", collection=work.address):
        world.fill_listing(signed)


# ------------------------------------------------------------------ replay across chains and deployments


def test_order_signed_for_another_chain_cannot_fill_here(world):
    world.mint(world.seller, 1)
    order = world.order(token_id=1)
    other_chain = MarketDomain(chain_id=31338, verifying_contract=world.market.address)
    signed = sign_order(order, other_chain, dev_account(1))
    with reverts("OrderSignatureInvalid", orderHash=order_hash(order, world.domain), signer=world.seller.address):
        world.fill_listing(signed)
    with pytest.raises(OrderDomainError, match="chain 31338"):
        verify_order(signed, expected_domain=world.domain, now=now(), current_counter=0)


def test_order_signed_for_another_deployment_cannot_fill_here(world, ape_project):
    other = ape_project.Marketplace.deploy(world.admin, world.treasury, 250, sender=world.admin)
    world.nft.setApprovalForAll(other, True, sender=world.seller)
    world.mint(world.seller, 1)
    order = world.order(token_id=1)
    signed = sign_order(order, MarketDomain(chain_id=world.domain.chain_id, verifying_contract=other.address),
                        dev_account(1))
    with reverts("OrderSignatureInvalid"):
        world.fill_listing(signed)
    other.fillListing(order.as_tuple(), signed.signature, 1, sender=world.buyer, value=order.unit_price)
    assert world.nft.ownerOf(1) == world.buyer.address  # it was valid where it was meant to be


def test_order_signed_on_the_remote_chain_fills_there_but_not_on_home(world, two_chains, artifacts):
    """Sign for 31338 and fill on 31338's own marketplace; the same bytes fail on 31337."""
    from chain.connection import connect
    from chain.reverts import ErrorDecoder
    from chain.tx import TxSender

    web3 = connect(two_chains.spec("remote"))
    assert web3.eth.chain_id == 31338
    decoder = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
    admin, seller, buyer = (TxSender(web3, dev_account(i), decoder=decoder) for i in (0, 1, 2))

    def deploy(name, *args):
        art = artifacts.get(name)
        address, _ = admin.deploy(art.abi, art.bytecode, *args)
        return web3.eth.contract(address=address, abi=art.abi)

    remote_market = deploy("Marketplace", admin.address, dev_account(4).address, 250)
    remote_nft = deploy("MktTestERC721")
    admin.transact(admin.call_tx(remote_nft.functions.mint(seller.address, 1)))
    seller.transact(seller.call_tx(remote_nft.functions.setApprovalForAll(remote_market.address, True)))
    remote_domain = MarketDomain(chain_id=31338, verifying_contract=remote_market.address)
    order = replace(world.order(token_id=1, token=remote_nft.address, start=0, expiry=2**40), counter=0,
                    holding_epoch=remote_nft.functions.holdingEpoch(seller.address, 1).call())
    signed = sign_order(order, remote_domain, dev_account(1))

    buyer.transact(buyer.call_tx(remote_market.functions.fillListing(order.as_tuple(), signed.signature, 1),
                                 value=order.unit_price))
    assert remote_nft.functions.ownerOf(1).call() == buyer.address

    # The same order and signature on the home chain (same token id, seller and price): refused.
    world.mint(world.seller, 1)
    home_order = replace(order, token=world.nft.address)
    with reverts("OrderSignatureInvalid"):
        world.fill_listing(replace(signed, order=home_order))


# ------------------------------------------------------------------ signatures


def test_offer_signed_by_the_seller_instead_of_the_buyer_is_refused(world):
    world.mint(world.seller, 1)
    order = world.order(side=1, signer=world.buyer, token_id=1, currency=world.coin)
    with reverts("OrderSignatureInvalid", signer=world.buyer.address):
        world.fill_offer(world.sign(order, by=world.seller))


def test_malleable_twin_of_a_valid_signature_is_refused(world):
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1)
    r, s, v = signed.signature[:32], int.from_bytes(signed.signature[32:64], "big"), signed.signature[64]
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # same key, high s
    with reverts("OrderSignatureInvalid"):
        world.fill_listing(replace(signed, signature=twin))
    world.fill_listing(signed)  # the canonical one works
    assert world.nft.ownerOf(1) == world.buyer.address


@pytest.mark.parametrize(("fields", "error"), [
    (dict(unit_price=0), "OrderPriceZero"),
    (dict(quantity=0), "OrderQuantityInvalid"),
    (dict(quantity=0, standard=TokenStandard.ERC1155), "OrderQuantityInvalid"),
], ids=["zero_price", "zero_quantity_721", "zero_quantity_1155"])
def test_zero_price_or_quantity_orders_are_refused(world, fields, error):
    world.mint(world.seller, 1)
    world.mint1155(world.seller, 1, 5)
    if fields.get("standard") == TokenStandard.ERC1155:
        fields["token"] = world.nft1155
    signed = world.listing(token_id=1, **fields)
    with reverts(error):
        world.fill_listing(signed, value=signed.order.unit_price)


# ------------------------------------------------------------------ re-entrancy


def _reentrant_buy(world, ape_project, mode, *, standard=TokenStandard.ERC721):
    """A buyer contract buys listing A; when the token arrives it tries to buy listing B."""
    buyer = actor(world, ape_project)
    if standard == TokenStandard.ERC721:
        world.mint(world.seller, 1)
        world.mint(world.seller, 2)
        a, b = world.listing(token_id=1), world.listing(token_id=2)
    else:
        world.mint1155(world.seller, 1, 2)
        a = world.listing(token=world.nft1155, token_id=1, standard=standard, quantity=1)
        b = world.listing(token=world.nft1155, token_id=1, standard=standard, quantity=1)
    reenter = world.market.fillListing.encode_input(b.order.as_tuple(), b.signature, 1)
    buyer.configure(ACCEPT, mode, world.market, reenter, ETHER, sender=world.buyer)
    world.buyer.transfer(buyer, 3 * ETHER)
    call = world.market.fillListing.encode_input(a.order.as_tuple(), a.signature, 1)
    return buyer, a, b, lambda: buyer.execute(world.market, ETHER, call, sender=world.buyer)


@pytest.mark.parametrize("standard", [TokenStandard.ERC721, TokenStandard.ERC1155], ids=["721", "1155"])
def test_reentry_through_the_token_receiver_hook_reverts_the_fill(world, ape_project, standard):
    _, a, b, buy = _reentrant_buy(world, ape_project, REENTER_BUBBLE, standard=standard)
    with reverts("ReentrancyGuardReentrantCall"):
        buy()
    assert world.market.orderStatus(order_hash(a.order, world.domain)) == (False, 0)
    assert world.market.orderStatus(order_hash(b.order, world.domain)) == (False, 0)


@pytest.mark.parametrize("standard", [TokenStandard.ERC721, TokenStandard.ERC1155], ids=["721", "1155"])
def test_swallowed_reentry_through_the_token_hook_buys_only_once(world, ape_project, standard):
    buyer, a, b, buy = _reentrant_buy(world, ape_project, REENTER, standard=standard)
    buy()
    assert (buyer.reentryAttempts(), buyer.reentrySuccesses()) == (1, 0)
    assert buyer.lastReentryError() == REENTRANT_CALL
    assert world.market.orderStatus(order_hash(a.order, world.domain)) == (False, 1)
    assert world.market.orderStatus(order_hash(b.order, world.domain)) == (False, 0)


def _contract_seller(world, ape_project, eth_mode):
    """A contract wallet (EIP-1271) that sells token 5 and re-enters the market when paid."""
    wallet = actor(world, ape_project, owner=world.seller)
    world.nft.mint(wallet, 5, sender=world.admin)
    wallet.execute(world.nft, 0, world.nft.setApprovalForAll.encode_input(world.market, True), sender=world.seller)
    wallet.configure(eth_mode, ACCEPT, world.market, world.market.incrementCounter.encode_input(), 0, sender=world.seller)
    signed = world.sign(world.order(signer=wallet, token_id=5, unit_price=ETHER), by=world.seller)
    return wallet, signed


def test_seller_reentering_from_its_eth_payout_is_refused_and_still_paid(world, ape_project):
    wallet, signed = _contract_seller(world, ape_project, REENTER)
    world.fill_listing(signed)
    assert (wallet.reentryAttempts(), wallet.reentrySuccesses()) == (1, 0)
    assert wallet.lastReentryError() == REENTRANT_CALL
    assert world.market.counterOf(wallet) == 0  # incrementCounter did not run
    assert balance(wallet) == split(ETHER)[2]


def test_seller_whose_reentry_fails_its_payout_is_credited_and_withdraws(world, ape_project):
    wallet, signed = _contract_seller(world, ape_project, REENTER_BUBBLE)
    proceeds = split(ETHER)[2]
    tx = world.fill_listing(signed)
    credited = one_event(tx, "PaymentCredited")
    assert (credited.payee, credited.amount) == (wallet.address, proceeds)
    assert world.nft.ownerOf(5) == world.buyer.address  # the sale went through
    assert_market_holds_only_credits(world, wallet, world.treasury)
    wallet.configure(ACCEPT, ACCEPT, ZERO, b"", 0, sender=world.seller)
    wallet.execute(world.market, 0, world.market.withdraw.encode_input(), sender=world.seller)
    assert balance(wallet) == proceeds and world.credit(wallet) == 0


@pytest.mark.parametrize("mode", [REVERT, BURN_GAS, REENTER_BUBBLE], ids=["reverts", "burns_gas", "reenters"])
def test_royalty_receiver_that_fails_cannot_block_the_sale_and_is_credited(world, ape_project, mode):
    receiver = actor(world, ape_project, owner=world.admin)
    receiver.configure(mode, ACCEPT, world.market, world.market.incrementCounter.encode_input(), 0, sender=world.admin)
    world.nft.setDefaultRoyalty(receiver, 500, sender=world.admin)
    world.mint(world.seller, 1)
    royalty, fee, proceeds = split(ETHER)
    seller_before = balance(world.seller)

    tx = world.fill_listing(world.listing(token_id=1, unit_price=ETHER))

    assert world.nft.ownerOf(1) == world.buyer.address
    assert balance(world.seller) - seller_before == proceeds
    credited = one_event(tx, "PaymentCredited")
    assert (credited.payee, credited.amount) == (receiver.address, royalty)
    assert world.credit(receiver) == royalty and balance(receiver) == 0
    assert world.credit(world.treasury) == fee
    assert_market_holds_only_credits(world, receiver, world.treasury)
    assert tx.gas_used < 250_000  # a gas-burning receiver only burns the bounded stipend


def test_outbid_contract_that_rejects_eth_cannot_block_new_bids(world, ape_project):
    bidder = actor(world, ape_project)
    bidder.configure(REVERT, ACCEPT, ZERO, b"", 0, sender=world.buyer)
    world.mint(world.seller, 1)
    params = (world.nft.address, 0, 1, 1, ETHER, 0, 500, 0, now() + DAY, 300)
    auction_id = one_event(world.market.createAuction(params, sender=world.seller), "AuctionCreated").auctionId
    bidder.execute(world.market, ETHER, world.market.bid.encode_input(auction_id), sender=world.buyer, value=ETHER)
    world.market.bid(auction_id, sender=world.buyer2, value=2 * ETHER)  # no push to the rejecting bidder
    assert world.credit(bidder) == ETHER
    assert_market_holds_only_credits(world, bidder, open_bids=2 * ETHER)


def test_winner_reentering_settlement_from_its_token_hook_is_harmless(world, ape_project):
    bidder = actor(world, ape_project)
    world.mint(world.seller, 1)
    params = (world.nft.address, 0, 1, 1, ETHER, 0, 500, 0, now() + DAY, 300)
    auction_id = one_event(world.market.createAuction(params, sender=world.seller), "AuctionCreated").auctionId
    bidder.configure(ACCEPT, REENTER, world.market, world.market.settleAuction.encode_input(auction_id), 0,
                     sender=world.buyer)
    bidder.execute(world.market, ETHER, world.market.bid.encode_input(auction_id), sender=world.buyer, value=ETHER)
    travel(DAY + 1)
    seller_before = balance(world.seller)
    world.market.settleAuction(auction_id, sender=world.stranger)
    assert (bidder.reentryAttempts(), bidder.reentrySuccesses()) == (1, 0)
    assert world.nft.ownerOf(1) == bidder.address
    assert balance(world.seller) - seller_before == split(ETHER)[2]  # paid once
    with reverts("AuctionNotOpen", status=2):
        world.market.settleAuction(auction_id, sender=world.stranger)


# ------------------------------------------------------------------ order life cycle


def test_double_fill_of_a_filled_order_reverts(world):
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1)
    world.fill_listing(signed)
    with reverts("OrderFillExceedsRemaining", orderHash=order_hash(signed.order, world.domain), requested=1,
                 remaining=0):
        world.fill_listing(signed, by=world.buyer2)


def test_fill_at_or_after_expiry_reverts(world):
    world.mint(world.seller, 1)
    expiry = now() + 3_600
    signed = world.listing(token_id=1, expiry=expiry)
    travel_to(expiry)
    with reverts("OrderExpired", expiry=expiry):
        world.fill_listing(signed)


def test_fill_in_the_last_second_before_expiry_works(world):
    world.mint(world.seller, 1)
    expiry = now() + 3_600
    signed = world.listing(token_id=1, expiry=expiry)
    travel_to(expiry - 1)
    world.fill_listing(signed)
    assert world.nft.ownerOf(1) == world.buyer.address


def test_fill_before_start_reverts_and_works_from_start(world):
    world.mint(world.seller, 1)
    start = now() + 3_600
    signed = world.listing(token_id=1, start=start)
    travel_to(start - 1)
    with reverts("OrderNotStarted", start=start):
        world.fill_listing(signed)
    travel_to(start)
    world.fill_listing(signed)
    assert world.nft.ownerOf(1) == world.buyer.address


def test_a_cancel_is_final_for_every_later_fill(world):
    """Once a cancel lands, no fill of the order can (what the fills before it bought stays bought)."""
    world.mint1155(world.seller, 1, 4)
    signed = world.listing(token=world.nft1155, token_id=1, standard=TokenStandard.ERC1155, quantity=4)
    world.fill_listing(signed, amount=1)
    world.market.cancel([signed.order.as_tuple()], sender=world.seller)
    with reverts("OrderIsCancelled", orderHash=order_hash(signed.order, world.domain)):
        world.fill_listing(signed, amount=1, by=world.buyer2)
    assert world.market.orderStatus(order_hash(signed.order, world.domain)) == (True, 1)


def test_a_cancel_and_a_fill_racing_in_one_block_the_cancel_first_refuses_the_fill(world):
    """The race for real: with automine off, the seller's cancel and a buyer's fill wait in the
    same mempool and land in one block, the cancel first (it pays the higher tip). The fill is
    mined and reverts with OrderIsCancelled; the token and the buyer's ETH stay put."""
    import ape

    from chain.tx import TxSender

    world.mint(world.seller, 1)
    signed = world.listing(token_id=1, unit_price=ETHER)
    web3 = ape.chain.provider.web3
    base = int(web3.eth.get_block("latest")["baseFeePerGas"])

    def raw(account, data, value, tip):
        sender = TxSender(web3, dev_account(_index_of(account)))
        # sign() counts from the process's nonce book, and ape sent from this account since an earlier
        # test of this worker may have filled it: read the pending nonce afresh ("nonce too low" once)
        sender.resync()
        return sender.sign({"to": world.market.address, "data": data, "value": value, "gas": 400_000,
                            "maxFeePerGas": 4 * base + tip, "maxPriorityFeePerGas": tip})

    cancel = raw(world.seller, world.market.cancel.encode_input([signed.order.as_tuple()]), 0, 5 * 10**9)
    fill = raw(world.buyer2, world.market.fillListing.encode_input(signed.order.as_tuple(), signed.signature, 1),
               ETHER, 10**9)
    buyer_before = balance(world.buyer2)
    ape.chain.provider.make_request("evm_setAutomine", [False])
    try:
        for signed_raw, _ in (cancel, fill):
            web3.eth.send_raw_transaction(signed_raw)
        ape.chain.provider.make_request("evm_mine", [])
    finally:
        ape.chain.provider.make_request("evm_setAutomine", [True])

    cancelled, filled = (web3.eth.get_transaction_receipt(h) for _, h in (cancel, fill))
    assert cancelled["blockNumber"] == filled["blockNumber"]
    assert cancelled["transactionIndex"] < filled["transactionIndex"]
    assert (cancelled["status"], filled["status"]) == (1, 0)
    paid = int(filled["gasUsed"]) * int(filled["effectiveGasPrice"])
    assert buyer_before - balance(world.buyer2) == paid  # only gas: the ETH came back with the revert
    assert world.nft.ownerOf(1) == world.seller.address
    # The fill reverted on the cancel: sending it again names the error.
    with reverts("OrderIsCancelled", orderHash=order_hash(signed.order, world.domain)):
        world.fill_listing(signed, by=world.buyer2)


def _index_of(account):
    for index in range(20):
        if dev_account(index).address == account.address:
            return index
    raise AssertionError(f"{account.address} is not an anvil dev account")


# ------------------------------------------------------------------ hostile ERC-20s


@pytest.fixture
def lying(world, ape_project):
    token = ape_project.MktTestLyingERC20.deploy(sender=world.admin)
    for who in (world.buyer, world.seller):
        token.mint(who, 1_000 * ETHER, sender=world.admin)
        token.approve(world.market, 2**256 - 1, sender=who)
    return token


@pytest.fixture
def taxed(world, ape_project):
    token = ape_project.MktTestFeeERC20.deploy(sender=world.admin)
    for who in (world.buyer, world.seller):
        token.mint(who, 1_000 * ETHER, sender=world.admin)
        token.approve(world.market, 2**256 - 1, sender=who)
    return token


def test_lying_erc20_cannot_leave_the_payees_unpaid_silently(world, lying):
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1, unit_price=100 * ETHER, currency=lying)
    # The whole price is pulled into the marketplace first and checked there.
    with reverts("PaymentShortfall", currency=lying.address, payee=world.market.address, expected=100 * ETHER,
                 received=0):
        world.fill_listing(signed)
    assert world.nft.ownerOf(1) == world.seller.address


def test_lying_erc20_offer_is_refused_too(world, lying):
    world.mint(world.seller, 1)
    signed = world.offer(token_id=1, unit_price=100 * ETHER, currency=lying)
    with reverts("PaymentShortfall", currency=lying.address, received=0):
        world.fill_offer(signed)
    assert world.nft.ownerOf(1) == world.seller.address


def test_fee_on_transfer_erc20_is_refused(world, taxed):
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1, unit_price=100 * ETHER, currency=taxed)
    with reverts("PaymentShortfall", currency=taxed.address, payee=world.market.address, expected=100 * ETHER,
                 received=100 * ETHER - 100 * ETHER // 100):
        world.fill_listing(signed)
    assert world.nft.ownerOf(1) == world.seller.address


# ------------------------------------------------------------------ wash trades with oneself


def test_seller_cannot_buy_their_own_listing(world):
    """A self-fill only moves the royalty and fee around (a wash trade that paints the price)."""
    world.mint(world.seller, 1)
    signed = world.listing(token_id=1, unit_price=ETHER)
    with reverts("OrderSelfFill", orderHash=signed.order_hash, account=world.seller.address):
        world.fill_listing(signed, by=world.seller)


def test_seller_cannot_buy_their_own_listing_in_a_cart(world):
    world.mint(world.seller, 1)
    world.mint(world.seller, 2)
    first, second = world.listing(token_id=1), world.listing(token_id=2)
    with reverts("OrderSelfFill", orderHash=first.order_hash, account=world.seller.address):
        world.market.fillListings([first.order.as_tuple(), second.order.as_tuple()],
                              [first.signature, second.signature], [1, 1], sender=world.seller,
                              value=2 * ETHER)


def test_bidder_cannot_accept_their_own_offer(world):
    world.mint(world.buyer, 1)  # the bidder holds the token it bids on
    signed = world.offer(token_id=1, unit_price=ETHER)
    with reverts("OrderSelfFill", orderHash=signed.order_hash, account=world.buyer.address):
        world.fill_offer(signed, by=world.buyer)
