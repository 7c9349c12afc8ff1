"""Pinned EIP-712 order vectors, shared by the unit tier (Python) and the contracts tier.

The marketplace of the vectors is the first contract deployed (nonce 0) by VECTOR_DEPLOYER_KEY
on chain 31337, so its address, and with it every digest, is fixed. The digests below were
produced by ``chain.orders`` and are confirmed by the contract's ``hashOrder`` in
tests/contracts/test_marketplace_python_agreement.py: both sides must keep producing them.
"""

from __future__ import annotations

from eth_utils.crypto import keccak

from chain.orders import ETH, MarketDomain, Order, OrderSide, TokenStandard

VECTOR_DEPLOYER_KEY = keccak(text="chainright marketplace test-vector deployer")
VECTOR_MARKET = "0x0Ab4d5F96fA59ee8b787a62b77908C180A7352E4"
VECTOR_DOMAIN = MarketDomain(chain_id=31337, verifying_contract=VECTOR_MARKET)
VECTOR_DOMAIN_SEPARATOR = "891f27cd884dff55ed450ac333e18552a8ebd59ed15cf0f9a712514f5de120e0"

VECTORS: list[tuple[Order, str]] = [
    (Order(OrderSide.LISTING, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
           "0x00000000000000000000000000000000000C0FFE", 42, TokenStandard.ERC721, 1, 1_500_000_000_000_000_000,
           ETH, 1_700_000_000, 1_800_000_000, 7, 0, 3),  # holding epoch 3
     "8045dda7be44f22e4e3ddc66319bbd73a09d661897a6241706e8586da9a8256a"),
    (Order(OrderSide.OFFER, "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
           "0x00000000000000000000000000000000000C0FFE", 7, TokenStandard.ERC1155, 25, 10**6,
           "0x000000000000000000000000000000000000dEaD", 1_700_000_000, 1_800_000_000, 2**255 + 1, 3),
     "974025e3da591b8a7267d1d08324cb93f8018b0d9f38038e83f083ad4c69a7a8"),
]
