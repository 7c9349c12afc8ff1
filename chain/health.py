"""Is a chain still making blocks? A typed answer the relayer, indexer and API can act on.

``check_progress`` reads the head block and compares its timestamp with the wall clock: a head
older than ``max_block_age_s`` means the chain stalled (a Clique network that lost more than half
of its signers, a node cut off from its peers, an anvil that was stopped...).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from web3 import Web3

from chain.errors import ChainUnavailableError
from chain.tx import retry_read


class ChainStalledError(ChainUnavailableError):
    """Raised when the head block of a chain is older than allowed: no new blocks are coming."""

    def __init__(self, message: str, *, chain_id: int, block_number: int, block_hash: str,
                 age_s: float) -> None:
        super().__init__(message)
        self.chain_id = chain_id
        self.block_number = block_number
        self.block_hash = block_hash
        self.age_s = age_s


@dataclass(frozen=True)
class ChainProgress:
    """The head of a chain that is making progress."""

    chain_id: int
    block_number: int
    block_hash: str
    age_s: float
    """Seconds since the head block's timestamp (never negative)."""


def check_progress(web3: Web3, max_block_age_s: float, *, now: float | None = None) -> ChainProgress:
    """The chain's head, or ``ChainStalledError`` when it is older than ``max_block_age_s``.

    Raises ChainUnavailableError when the node does not answer at all (which is a different
    failure: the endpoint is gone, not the chain).
    """
    if max_block_age_s <= 0:
        raise ValueError("max_block_age_s must be positive")
    chain_id = retry_read(lambda: web3.eth.chain_id, what="eth_chainId")
    block = retry_read(lambda: web3.eth.get_block("latest"), what="eth_getBlockByNumber")
    number = int(block["number"])
    block_hash = "0x" + bytes(block["hash"]).hex()
    age = max(0.0, (time.time() if now is None else now) - int(block["timestamp"]))
    if age > max_block_age_s:
        raise ChainStalledError(
            f"chain {chain_id} stalled: its last block {number} ({block_hash}) is {age:.1f}s old, "
            f"more than the {max_block_age_s:g}s allowed; check that enough of its validators run "
            "and are peered (a Clique network needs more than half of its signers)",
            chain_id=chain_id, block_number=number, block_hash=block_hash, age_s=age,
        )
    return ChainProgress(chain_id=chain_id, block_number=number, block_hash=block_hash, age_s=age)
