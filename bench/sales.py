"""Sustained sale rate of a network: signed marketplace listings filled by buyers, sent raw, timed.

The platform's sale is a ``Marketplace.fillListing`` of an EIP-712 listing signed by the seller: the
buyer pays in ETH, the ERC-2981 royalty is pushed to the royalty receiver, the platform fee is
credited to the treasury, the token moves. With ``cart`` > 1 the buyers fill ``cart`` listings per
``fillListings`` transaction (the platform's cart: all or nothing), the last cart taking what is left.
Setup (a creator's collection, one edition of ``count`` tokens, approval of the marketplace) and all
signing (the seller's listings, the buyers' transactions) happen before the clock starts: the figure
is the network's, not the signer's.
Each buyer's fills go to one node in JSON-RPC batches (members submit through their own node); the
clock stops when the last fill of every buyer has a receipt. Every fill is then checked to have
succeeded, and the royalty receiver to have received exactly ``count`` royalties.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.types import Wei

from bench.cpu import CpuMeter
from bench.transfers import TIP_WEI, _batch, wait_mined
from chain.artifacts import Artifacts
from chain.cid import cid_to_bytes, raw_cid
from chain.devaccounts import dev_account
from chain.errors import TransactionError
from chain.orders import MarketDomain, listing, sign_order
from chain.progress import Progress, quiet
from chain.reverts import ErrorDecoder
from chain.tx import TxSender

SELLER, ROYALTY_RECEIVER = 1, 3
BUYERS = (0, 2, 4, 5, 6, 7, 8, 9)
"""Funded development accounts that buy (the seller and the royalty receiver are left out, so the
receiver's balance counts royalties only)."""
PRICE_WEI = 10**15
ROYALTY_BPS = 500
EDITION_MAX = 500
"""Tokens per mintEdition transaction (bounded so one mint stays far below the block gas limit)."""
CART_MAX = 50
"""Listings per ``fillListings`` transaction at most (the marketplace's ``MAX_BATCH_FILLS``)."""


def carts(count: int, cart: int) -> list[range]:
    """The listing indexes ``0..count-1`` cut into fills of ``cart`` (the last one takes the rest)."""
    if count < 1 or not 1 <= cart <= CART_MAX:
        raise ValueError(f"count must be positive and the cart between 1 and {CART_MAX}")
    return [range(start, min(start + cart, count)) for start in range(0, count, cart)]


@dataclass(frozen=True)
class SaleBench:
    sales: int
    cart: int
    """Listings per fill transaction (1: ``fillListing``; more: ``fillListings``)."""
    transactions: int
    buyers: int
    nodes: int
    elapsed_s: float
    """From the first send to the receipt of the last fill."""
    sales_per_s: float
    first_block: int
    last_block: int
    blocks: int
    max_sales_per_block: int
    """Sales (not transactions) in the fullest block."""
    chain_sales_per_s: float
    """Fills over the block-timestamp span of the blocks that carried them (+1 period)."""
    gas_per_sale: int
    """Gas of the fills (whole transactions) per sale: a cart's gas is shared by its sales."""
    royalty_wei: int
    """What the royalty receiver got: sales x price x 5 %."""
    sign_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_sale_bench(web3: Web3, urls: Sequence[str], artifacts: Artifacts, addresses: dict[str, str], *,
                   count: int = 500, batch: int = 100, period_s: float = 1.0, timeout_s: float = 300.0,
                   progress: Progress = quiet, meter: CpuMeter | None = None, cart: int = 1,
                   poll_s: float = 0.05) -> SaleBench:
    """Fill ``count`` signed listings from the funded buyers, ``cart`` per transaction; measure sales
    (filled listings) per second.

    ``addresses`` holds the deployed ``CollectionFactory`` and ``Marketplace`` of ``web3``'s chain.
    ``meter``, when given, samples CPU when the clock starts and when it stops. ``poll_s``: how often
    the mined nonces and receipts are asked for (the clock stops up to one poll late: shorten it when
    the run lasts a fraction of a second, as on anvil).
    """
    fills = carts(count, cart)
    decoder = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
    seller: LocalAccount = dev_account(SELLER)
    creator = TxSender(web3, seller, decoder=decoder, timeout_s=60)
    factory = web3.eth.contract(address=Web3.to_checksum_address(addresses["CollectionFactory"]),
                                abi=artifacts.get("CollectionFactory").abi)
    market = web3.eth.contract(address=Web3.to_checksum_address(addresses["Marketplace"]),
                               abi=artifacts.get("Marketplace").abi)
    receiver = dev_account(ROYALTY_RECEIVER).address
    salt = hashlib.sha256(f"sale bench {time.time_ns()}".encode()).digest()
    zero = "0x" + "00" * 20
    creator.transact(creator.call_tx(factory.functions.createCollection(
        ("Sale bench", "SALE", seller.address, receiver, ROYALTY_BPS, zero, False), salt)))
    nft = web3.eth.contract(address=factory.functions.predictCollectionAddress(seller.address, salt).call(),
                            abi=artifacts.get("CreatorCollection").abi)
    first_id = nft.functions.totalSupply().call() + 1
    mints = []
    for offset in range(0, count, EDITION_MAX):
        work = f"sale bench work {salt.hex()} {offset}".encode()
        mints.append(creator.call_tx(nft.functions.mintEdition(
            seller.address, min(EDITION_MAX, count - offset), hashlib.sha256(work).digest(),
            cid_to_bytes(raw_cid(work)))))
    mints.append(creator.call_tx(nft.functions.setApprovalForAll(market.address, True)))
    creator.transact_many(mints)
    progress(f"sale bench: collection {nft.address} with {count} tokens listed by {seller.address}")

    chain_id = int(web3.eth.chain_id)
    domain = MarketDomain(chain_id, market.address)
    now = int(web3.eth.get_block("latest")["timestamp"])
    t_sign = time.perf_counter()
    orders = [sign_order(listing(seller=seller.address, token=nft.address, token_id=first_id + i,
                                 unit_price=PRICE_WEI, start=now - 60, expiry=now + 7 * 24 * 3600, counter=0,
                                 holding_epoch=0),  # freshly minted: never moved
                         domain, seller) for i in range(count)]
    buyers = [dev_account(i) for i in BUYERS]

    def call_data(part: range) -> tuple[HexStr, int]:
        """The fill transaction's data and value for the listings ``part``."""
        if cart == 1:
            only = orders[part[0]]
            data = market.encode_abi("fillListing", args=[only.order.as_tuple(), only.signature, 1])
            return data, PRICE_WEI
        return market.encode_abi("fillListings", args=[[orders[i].order.as_tuple() for i in part],
                                                       [orders[i].signature for i in part],
                                                       [1] * len(part)]), PRICE_WEI * len(part)

    data0, value0 = call_data(fills[0])
    gas = int(web3.eth.estimate_gas({"from": buyers[0].address, "to": market.address, "data": data0,
                                     "value": Wei(value0)}) * 1.25)
    base_fee = int(web3.eth.get_block("latest").get("baseFeePerGas", 0))
    fee_cap = 4 * base_fee + TIP_WEI
    nonces = [int(web3.eth.get_transaction_count(b.address, "pending")) for b in buyers]
    per_buyer: list[list[str]] = [[] for _ in buyers]
    hashes: list[str] = []
    sizes: list[int] = []
    last_hash = ["" for _ in buyers]
    for i, part in enumerate(fills):
        k = i % len(buyers)
        data, value = call_data(part)
        tx = buyers[k].sign_transaction({
            "chainId": chain_id, "nonce": nonces[k], "to": market.address, "value": value, "data": data,
            "gas": gas, "maxFeePerGas": fee_cap, "maxPriorityFeePerGas": TIP_WEI, "type": 2,
        })
        nonces[k] += 1
        per_buyer[k].append("0x" + bytes(tx.raw_transaction).hex())
        hashes.append("0x" + bytes(tx.hash).hex())
        sizes.append(len(part))
        last_hash[k] = hashes[-1]
    sign_s = time.perf_counter() - t_sign
    royalty_before = int(web3.eth.get_balance(receiver))
    progress(f"sale bench: signed {count} listings and {len(fills)} fills of up to {cart} "
             f"({len(buyers)} buyers) in "
             f"{sign_s:.1f}s; sending to {len(urls)} node(s)")

    if meter is not None:
        meter.start()
    t0 = time.perf_counter()
    for k, raws in enumerate(per_buyer):
        url = urls[k % len(urls)]
        for offset in range(0, len(raws), batch):
            _batch(url, [("eth_sendRawTransaction", [raw]) for raw in raws[offset:offset + batch]])
    pending = {h for h in last_hash if h}
    deadline = time.monotonic() + timeout_s
    wait_mined(urls[0], {b.address: n for b, n in zip(buyers, nonces, strict=True)}, deadline, poll_s)
    while pending and time.monotonic() < deadline:
        ordered = sorted(pending)
        for h, r in zip(ordered, _batch(urls[0], [("eth_getTransactionReceipt", [h]) for h in ordered]),
                        strict=True):
            if r is not None:
                pending.discard(h)
        if pending:
            time.sleep(poll_s)
    elapsed = time.perf_counter() - t0
    if meter is not None:
        meter.stop()
    if pending:
        raise TransactionError(f"{len(pending)} buyers' last fills were not mined within {timeout_s:.0f}s")

    receipts: list[dict[str, Any]] = []
    for offset in range(0, len(hashes), batch):
        chunk = hashes[offset:offset + batch]
        receipts += _batch(urls[0], [("eth_getTransactionReceipt", [h]) for h in chunk])
    failed = [h for h, r in zip(hashes, receipts, strict=True) if r is None or int(r["status"], 16) != 1]
    if failed:
        raise TransactionError(f"{len(failed)} of {len(fills)} fills failed or are missing, "
                               f"first: {failed[0]}")
    royalty = int(web3.eth.get_balance(receiver)) - royalty_before
    if royalty != count * PRICE_WEI * ROYALTY_BPS // 10_000:
        raise TransactionError(f"the royalty receiver got {royalty} wei for {count} sales, expected "
                               f"{count * PRICE_WEI * ROYALTY_BPS // 10_000}")
    per_block: dict[int, int] = {}
    for r, size in zip(receipts, sizes, strict=True):
        number = int(r["blockNumber"], 16)
        per_block[number] = per_block.get(number, 0) + size
    first_block, last_block = min(per_block), max(per_block)
    stamps = [int(web3.eth.get_block(n)["timestamp"]) for n in (first_block, last_block)]
    span = (stamps[1] - stamps[0]) + period_s
    return SaleBench(
        sales=count, cart=cart, transactions=len(fills), buyers=len(buyers), nodes=len(urls),
        elapsed_s=round(elapsed, 3),
        sales_per_s=round(count / elapsed, 1), first_block=first_block, last_block=last_block,
        blocks=last_block - first_block + 1, max_sales_per_block=max(per_block.values()),
        chain_sales_per_s=round(count / span, 1),
        gas_per_sale=sum(int(r["gasUsed"], 16) for r in receipts) // count, royalty_wei=royalty,
        sign_s=round(sign_s, 3),
    )
