"""Which consensus engine a node runs, from its ``web3_clientVersion``, and what finality it gives."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger(__name__)

EngineName = Literal["bft", "clique", "anvil", "other"]

BFT_CLIENT_PREFIX = "Version bftd/"
"""What our BFT validator (tools/bft, CometBFT + cosmos/evm) answers to ``web3_clientVersion``."""


@dataclass(frozen=True)
class Engine:
    """A consensus engine and the facts the platform's readers depend on."""

    name: EngineName
    instant_finality: bool
    """A block the node reports is final (BFT commit: more than two thirds of the validators
    signed it, no fork can replace it), so no confirmations are needed."""
    ethereum_headers: bool
    """Block hashes are keccak(RLP(header)) and parentHash links them (offline header checks)."""
    ethereum_state_proofs: bool
    """``eth_getProof`` answers with Merkle-Patricia proofs against the header's stateRoot."""

    def confirmations(self, configured: int) -> int:
        """Blocks a reader waits before an event counts as final: 0 on an engine with instant
        finality, else ``configured`` (the chain's setting)."""
        return 0 if self.instant_finality else configured


BFT = Engine("bft", instant_finality=True, ethereum_headers=False, ethereum_state_proofs=False)
"""cosmos/evm on CometBFT: the block hash is CometBFT's, stateRoot is the app hash and eth_getProof
answers with IAVL (ICS-23) proofs; receipts and transactions roots are Ethereum tries."""
CLIQUE = Engine("clique", instant_finality=False, ethereum_headers=True, ethereum_state_proofs=True)
ANVIL = Engine("anvil", instant_finality=False, ethereum_headers=True, ethereum_state_proofs=True)
OTHER = Engine("other", instant_finality=False, ethereum_headers=True, ethereum_state_proofs=True)
"""Anything else is treated as Ethereum: confirmations as configured, every proof attempted."""


def engine_of(client_version: str) -> Engine:
    """The engine behind a ``web3_clientVersion`` answer (pure). Only our bftd is taken for BFT:
    an unknown client keeps the configured confirmations, which is the safe side."""
    text = client_version.strip()
    if text.startswith(BFT_CLIENT_PREFIX):
        return BFT
    lowered = text.lower()
    if lowered.startswith("geth/"):
        return CLIQUE
    if lowered.startswith("anvil/"):
        return ANVIL
    return OTHER


def engine_via(call: Callable[[str, list[Any]], Any]) -> Engine:
    """The engine of the node behind ``call(method, params)`` (one ``web3_clientVersion``). A node
    that does not answer it counts as ``OTHER``: configured confirmations, every proof attempted."""
    try:
        return engine_of(str(call("web3_clientVersion", [])))
    except Exception:  # no web3 namespace, or no answer: the next real call reports the node
        return OTHER


def engine_at(rpc_url: str, timeout: float = 5.0) -> Engine:
    """The engine of the node at ``rpc_url``."""
    from chain.rpc import rpc_call

    return engine_via(lambda method, params: rpc_call(rpc_url, method, params, timeout=timeout))


def engine_of_web3(web3: Any) -> Engine:
    """The engine of a web3 connection's node."""
    return engine_via(lambda method, params: web3.provider.make_request(method, params)["result"])


def final_depth(web3: Any, configured: int, *, who: str = "") -> int:
    """Confirmations a reader (indexer, relayer) uses on ``web3``'s chain: 0 on a BFT engine,
    else ``configured``. The one place the platform decides finality by engine."""
    engine = engine_of_web3(web3)
    depth = engine.confirmations(configured)
    if depth != configured:
        log.info("%s: the node runs %s (instant finality): confirmations %d instead of %d",
                 who or "reader", engine.name, depth, configured)
    return depth
