"""Gas cases of the marketplace family: fills, auctions and the milestone escrow.

Every figure is the whole transaction (21,000 base + calldata + execution, after refunds) from
the receipt, on a fresh anvil (cancun). Accounts: 0 admin, 1 seller, 2 buyer, 3 second buyer,
4 treasury (an EOA that already holds ETH), 5 escrow arbitrator, 6 offerer, 7-9 the split's
recipients. The royalty receiver is the platform's own: a three-way ``RoyaltySplitter`` clone made
by ``SplitterFactory`` (its ``receive()`` delegatecalls the implementation and emits an event);
royalty 5%, platform fee 2.5%. Storage is cold in every
measured transaction (each is its own transaction); "non-zero" below means a slot written before,
so its write costs 2,900 rather than 20,000. Orders carry a random 256-bit salt.
"""

from __future__ import annotations

from typing import Any

from eth_utils.crypto import keccak

from bench.gas import GasBench, gas_case
from chain.orders import ETH, MarketDomain, TokenStandard, listing, offer, sign_order

SELLER, BUYER, BIDDER2, TREASURY, ARBITRATOR, OFFERER = 1, 2, 3, 4, 5, 6
FEE_BPS = 250
ROYALTY_BPS = 500
PRICE = 10**18
START, EXPIRY = 1_700_000_000, 1_700_000_000 + 2**32
"""Fixed order windows (2023 to 2159): calldata, hence gas, is the same on every run."""


def _salt(label: str) -> int:
    """A fixed 256-bit salt (as random-looking as a wallet's, so calldata costs the same)."""
    return int.from_bytes(keccak(text=f"chainright bench {label}"), "big")


def _deploy_market(bench: GasBench) -> tuple[Any, MarketDomain]:
    admin = bench.account(0).address
    market, _ = bench.deploy("Marketplace", admin, bench.account(TREASURY).address, FEE_BPS)
    return market, MarketDomain(chain_id=bench.web3.eth.chain_id, verifying_contract=market.address)


def _three_way_splitter(bench: GasBench, label: str) -> Any:
    """The platform's own royalty receiver: a three-way ``RoyaltySplitter`` clone (rights holder,
    issuer, channel) made by ``SplitterFactory``, as ``cases_licensing`` uses."""
    implementation, _ = bench.deploy("RoyaltySplitter")
    factory, _ = bench.deploy("SplitterFactory", implementation.address)
    holder, issuer, channel = (bench.account(i).address for i in (7, 8, 9))
    salt = keccak(text=f"chainright bench splitter {label}")
    bench.send(factory.functions.createThreeWaySplit(holder, issuer, channel, salt))
    address = factory.functions.predictThreeWaySplitAddress(holder, issuer, channel, salt).call()
    return bench.at("RoyaltySplitter", address)


def _collection(bench: GasBench, market: Any, name: str = "MktTestERC721") -> tuple[Any, Any]:
    nft, _ = bench.deploy(name)
    splitter = _three_way_splitter(bench, name)
    bench.send(nft.functions.setDefaultRoyalty(splitter.address, ROYALTY_BPS))
    for who in (SELLER, BUYER, BIDDER2):
        bench.send(nft.functions.setApprovalForAll(market.address, True), by=who)
    return nft, splitter


def _epoch(nft: Any, seller: Any, token_id: int) -> int:
    """The token's holding epoch a listing binds (the test collections count their mints too)."""
    return int(nft.functions.holdingEpoch(seller.address, token_id).call())


def _now(bench: GasBench) -> int:
    return int(bench.web3.eth.get_block("latest")["timestamp"])


@gas_case
def marketplace_orders(bench: GasBench) -> dict[str, int]:
    """``fill_listing_eth_split_fee``: buy one ERC-721 listed for 1 ETH (a 65-byte ECDSA signature
    by an EOA seller): the 5% royalty is pushed to the splitter contract and the rest to the
    seller EOA, the 2.5% fee accrues to the treasury in the marketplace's configuration slot
    (already read for the pause check; the treasury withdraws it with ``withdraw()``). The buyer
    holds no token of the collection yet (its balance slot goes 0 -> 1); the seller's only token
    leaves (its balance slot is cleared, a refund); the order's status slot is new (0 -> filled).
    No identity requirement, no band (the collection's policy slot is read, empty).

    ``fill_offer``: the owner of one ERC-721 accepts a signed offer of 100 units of an ERC-20 from
    an offerer who holds no token of the collection yet (0 -> 1) and gave the marketplace an
    unlimited allowance; the price moves from the offerer into the marketplace (one transferFrom
    bracketed by balance checks; the marketplace holds none of it before or after), then out to
    the splitter, the treasury and the seller (three transfers, each caught and credited if the
    token refuses it); every payee already holds some of the ERC-20 (non-zero balance slots).
    """
    if "Marketplace" not in bench.artifacts:
        return {}
    market, domain = _deploy_market(bench)
    nft, splitter = _collection(bench, market)
    seller = bench.account(SELLER)

    # Warm-up sale: the splitter and the treasury have been paid before.
    bench.send(nft.functions.mint(seller.address, 1))
    first = sign_order(listing(seller=seller.address, token=nft.address, token_id=1, unit_price=PRICE,
                               start=START, expiry=EXPIRY, counter=0, holding_epoch=_epoch(nft, seller, 1),
                               salt=_salt("warm-up")),
                       domain, seller)
    bench.send(market.functions.fillListing(first.order.as_tuple(), first.signature, 1), by=BIDDER2,
               value=PRICE)

    bench.send(nft.functions.mint(seller.address, 2))
    order = sign_order(listing(seller=seller.address, token=nft.address, token_id=2, unit_price=PRICE,
                               start=START, expiry=EXPIRY, counter=0, holding_epoch=_epoch(nft, seller, 2),
                               salt=_salt("listing")),
                       domain, seller)
    fill_listing = bench.gas(market.functions.fillListing(order.order.as_tuple(), order.signature, 1),
                             by=BUYER, value=PRICE)

    offerer = bench.account(OFFERER)
    coin, _ = bench.deploy("MktTestERC20")
    for who in (OFFERER, SELLER, TREASURY):
        bench.send(coin.functions.mint(bench.account(who).address, 1000 * PRICE))
    bench.send(coin.functions.mint(splitter.address, PRICE))
    bench.send(coin.functions.approve(market.address, 2**256 - 1), by=OFFERER)
    bench.send(nft.functions.mint(seller.address, 3))
    bid = sign_order(offer(buyer=offerer.address, token=nft.address, token_id=3, unit_price=100 * PRICE,
                           currency=coin.address, start=START, expiry=EXPIRY, counter=0,
                           salt=_salt("offer")), domain, offerer)
    fill_offer = bench.gas(market.functions.fillOffer(bid.order.as_tuple(), bid.signature, 1), by=SELLER)
    return {"fill_listing_eth_split_fee": fill_listing, "fill_offer": fill_offer}


@gas_case
def marketplace_platform_collection(bench: GasBench) -> dict[str, int]:
    """``fill_listing_creator_collection``: the sale of ``fill_listing_eth_split_fee`` (one ERC-721
    for 1 ETH, 5% royalty to a three-way splitter clone, 2.5% fee, same warm-up and slot states)
    on the platform's own collection, a ``CreatorCollection`` clone from the factory, instead of
    the OpenZeppelin test token. The listing is bound to the token's holding epoch, which this
    collection keeps in the ownership slot a transfer writes anyway (the test token keeps it in a
    mapping of its own: one more storage write per transfer)."""
    if "CollectionFactory" not in bench.artifacts or "Marketplace" not in bench.artifacts:
        return {}
    import hashlib

    from bench.cases_issuance import _work

    market, domain = _deploy_market(bench)
    seller = bench.account(SELLER)
    registry, _ = bench.deploy("RightsRegistry", bench.account(0).address)
    collection_impl, _ = bench.deploy("CreatorCollection")
    editions_impl, _ = bench.deploy("Editions1155")
    factory, _ = bench.deploy("CollectionFactory", registry.address, collection_impl.address,
                              editions_impl.address)
    bench.send(registry.functions.setFactory(factory.address, True))
    splitter = _three_way_splitter(bench, "platform collection")
    settings = ("Bench Sales", "BS", seller.address, splitter.address, ROYALTY_BPS, ETH, False)
    salt = hashlib.sha256(b"bench-sale-collection").digest()
    bench.send(factory.functions.createCollection(settings, salt), by=SELLER)
    address = factory.functions.predictCollectionAddress(seller.address, salt).call()
    nft = bench.at("CreatorCollection", address)
    bench.send(nft.functions.setApprovalForAll(market.address, True), by=SELLER)

    def signed(label: str) -> Any:
        bench.send(nft.functions.mintWork(seller.address, *_work(f"sale {label}")), by=SELLER)
        token_id = int(nft.functions.totalSupply().call())
        order = listing(seller=seller.address, token=nft.address, token_id=token_id, unit_price=PRICE,
                        start=START, expiry=EXPIRY, counter=0, holding_epoch=_epoch(nft, seller, token_id),
                        salt=_salt(f"platform {label}"))
        return sign_order(order, domain, seller)

    first = signed("warm-up")
    bench.send(market.functions.fillListing(first.order.as_tuple(), first.signature, 1), by=BIDDER2,
               value=PRICE)
    order = signed("measured")
    return {"fill_listing_creator_collection": bench.gas(
        market.functions.fillListing(order.order.as_tuple(), order.signature, 1), by=BUYER, value=PRICE)}


@gas_case
def marketplace_cart(bench: GasBench) -> dict[str, int]:
    """``fill_listings_10``: one ``fillListings`` buying ten ERC-721 listings of 1 ETH each, all
    signed by one EOA seller (65-byte ECDSA signatures), in the same state as
    ``fill_listing_eth_split_fee``: the splitter and the treasury were paid before (a warm-up sale
    to another account), the buyer holds no token of the collection yet (its balance slot goes
    0 -> 10), the seller's balance slot goes from 10 to 0, every order's status slot is new.
    ``fill_listings_marginal``: what each further item costs, (``fill_listings_10`` minus one
    single ``fillListing`` measured here the same way) / 9. Per sale, a cart of ten costs
    ``fill_listings_10`` / 10.
    """
    if "Marketplace" not in bench.artifacts:
        return {}
    market, domain = _deploy_market(bench)
    nft, _ = _collection(bench, market)
    seller = bench.account(SELLER)

    def signed(token_id: int, label: str) -> Any:
        bench.send(nft.functions.mint(seller.address, token_id))
        order = listing(seller=seller.address, token=nft.address, token_id=token_id, unit_price=PRICE,
                        start=START, expiry=EXPIRY, counter=0, holding_epoch=_epoch(nft, seller, token_id),
                        salt=_salt(label))
        return sign_order(order, domain, seller)

    first = signed(1, "cart warm-up")
    bench.send(market.functions.fillListing(first.order.as_tuple(), first.signature, 1), by=ARBITRATOR,
               value=PRICE)
    single = signed(2, "cart single")
    one = bench.gas(market.functions.fillListing(single.order.as_tuple(), single.signature, 1), by=BUYER,
                    value=PRICE)
    cart = [signed(10 + i, f"cart {i}") for i in range(10)]
    ten = bench.gas(market.functions.fillListings([c.order.as_tuple() for c in cart],
                                                  [c.signature for c in cart], [1] * 10),
                    by=BIDDER2, value=10 * PRICE)
    return {"fill_listings_10": ten, "fill_listings_marginal": (ten - one) // 9}


@gas_case
def marketplace_auctions(bench: GasBench) -> dict[str, int]:
    """A warm-up auction runs first (so the treasury's credit slot is non-zero), then:

    ``auction_create``: escrow one ERC-721 (a safeTransferFrom into the marketplace) and open a
    one-day auction (six new auction slots, the auction counter non-zero).

    ``auction_first_bid``: the first bid (1 ETH, at the reserve): high bidder and bid written.

    ``auction_bid``: an outbid, the steady state of an auction: the second bidder beats the first
    by more than the 5% increment; the first bid is credited to its bidder's pendingWithdrawals
    (a bidder without credit: 0 -> non-zero); the bid lands outside the extension window.

    ``auction_settle``: after the end, a third party settles: the lot goes to the winner (no
    token of the collection yet: 0 -> 1), the 5% royalty is pushed to the splitter and the rest
    to the seller EOA, the 2.5% fee (fixed at creation) accrues to the treasury (non-zero).
    """
    if "Marketplace" not in bench.artifacts:
        return {}
    market, _ = _deploy_market(bench)
    nft, _ = _collection(bench, market)
    seller = bench.account(SELLER)

    def params(token_id: int) -> tuple[Any, ...]:
        return (nft.address, int(TokenStandard.ERC721), token_id, 1, PRICE, 0, 500, 0,
                _now(bench) + 86_400, 600)

    def after_the_end() -> None:
        bench.web3.provider.make_request("evm_increaseTime", [86_400 + 1])  # type: ignore[arg-type]
        bench.web3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    bench.send(nft.functions.mint(seller.address, 1))
    bench.send(market.functions.createAuction(params(1)), by=SELLER)
    bench.send(market.functions.bid(1), by=ARBITRATOR, value=PRICE)
    after_the_end()
    bench.send(market.functions.settleAuction(1), by=ARBITRATOR)

    bench.send(nft.functions.mint(seller.address, 2))
    create = bench.gas(market.functions.createAuction(params(2)), by=SELLER)
    first_bid = bench.gas(market.functions.bid(2), by=BUYER, value=PRICE)
    outbid = bench.gas(market.functions.bid(2), by=BIDDER2, value=2 * PRICE)
    after_the_end()
    settle = bench.gas(market.functions.settleAuction(2), by=BUYER)
    return {"auction_create": create, "auction_first_bid": first_bid, "auction_bid": outbid,
            "auction_settle": settle}


@gas_case
def marketplace_escrow(bench: GasBench) -> dict[str, int]:
    """``escrow_fund``: the buyer creates an ETH escrow of three milestones and funds all of it
    with msg.value (four new escrow slots, three new milestone slots; the escrow counter and the
    ETH escrow balance are non-zero: an earlier escrow exists).

    ``escrow_release``: the buyer accepts a delivered milestone (1 ETH): 2.5% is pushed to the
    treasury EOA and the rest to the seller EOA; the milestone slot and the ETH escrow balance
    are updated (non-zero to non-zero).
    """
    if "MilestoneEscrow" not in bench.artifacts:
        return {}
    admin = bench.account(0).address
    escrow, _ = bench.deploy("MilestoneEscrow", admin, bench.account(TREASURY).address, FEE_BPS)
    seller, arbitrator = bench.account(SELLER).address, bench.account(ARBITRATOR).address
    now = _now(bench)
    milestones = [(PRICE, now + 7 * 86_400), (PRICE, now + 14 * 86_400), (PRICE, now + 21 * 86_400)]
    terms = (14 * 86_400, 5_000, ETH, 0)  # arbitration period, default seller bps, no royalty
    bench.send(escrow.functions.createEscrow(seller, arbitrator, ETH, 3 * 86_400, terms, milestones),
               by=BUYER, value=3 * PRICE)
    fund = bench.gas(escrow.functions.createEscrow(seller, arbitrator, ETH, 3 * 86_400, terms, milestones),
                     by=BUYER, value=3 * PRICE)
    escrow_id = escrow.functions.nextEscrowId().call() - 1
    bench.send(escrow.functions.acceptEscrow(escrow_id), by=SELLER)
    bench.send(escrow.functions.deliverMilestone(escrow_id, 0, b"\x11" * 32, "bafkreiexample"), by=SELLER)
    release = bench.gas(escrow.functions.acceptMilestone(escrow_id, 0), by=BUYER)
    return {"escrow_fund": fund, "escrow_release": release}
