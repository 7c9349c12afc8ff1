"""Offline-checkable evidence about blocks and receipts (pure; RPC only in ``collect``).

- ``mpt``       Merkle-Patricia trie proofs: build (via py-trie) and verify (our own walk)
- ``headers``   canonical header RLP and hash; Clique seal recovery
- ``receipts``  typed receipt encoding, the receipts trie of a block, receipt proofs
- ``transactions``  the transactions trie of a block, transaction proofs, a transaction's call
- ``state``     account and storage proofs (eth_getProof) against a state root; Solidity slots
- ``bloom``     a header's logs bloom: which addresses and topics no log in the block holds
"""

from record.proofs.bloom import bloom_may_contain
from record.proofs.headers import clique_signer, header_hash, header_rlp
from record.proofs.mpt import ProofError, lookup, verify_proof
from record.proofs.receipts import encode_receipt, receipt_proof, receipts_root
from record.proofs.state import Account, array_slot, mapping_slot, verify_account, verify_storage
from record.proofs.transactions import call_of, transaction_proof, transactions_root

__all__ = [
    "Account",
    "ProofError",
    "array_slot",
    "bloom_may_contain",
    "call_of",
    "clique_signer",
    "encode_receipt",
    "header_hash",
    "header_rlp",
    "lookup",
    "mapping_slot",
    "receipt_proof",
    "receipts_root",
    "transaction_proof",
    "transactions_root",
    "verify_account",
    "verify_proof",
    "verify_storage",
]
