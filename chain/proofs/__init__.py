"""Offline-checkable evidence about blocks and receipts (pure; RPC only in ``collect``).

- ``mpt``       Merkle-Patricia trie proofs: build (via py-trie) and verify (our own walk)
- ``headers``   canonical header RLP and hash; Clique seal recovery
- ``receipts``  typed receipt encoding, the receipts trie of a block, receipt proofs
"""

from chain.proofs.headers import clique_signer, header_hash, header_rlp
from chain.proofs.mpt import ProofError, verify_proof
from chain.proofs.receipts import encode_receipt, receipt_proof, receipts_root

__all__ = [
    "ProofError",
    "clique_signer",
    "encode_receipt",
    "header_hash",
    "header_rlp",
    "receipt_proof",
    "receipts_root",
    "verify_proof",
]
