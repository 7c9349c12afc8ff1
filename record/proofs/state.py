"""Account and storage proofs (``eth_getProof``, EIP-1186), checked against a header's state root.

An account proof proves ``rlp([nonce, balance, storageRoot, codeHash])`` under
``keccak(address)`` in the state trie; a storage proof proves ``rlp(value)`` under
``keccak(slot)`` in the account's storage trie. A slot holding zero is absent from the trie:
its proof is a proof of absence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import rlp
from eth_hash.auto import keccak

from record.proofs.mpt import ProofError, lookup

EMPTY_TRIE_ROOT = bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")


@dataclass(frozen=True)
class Account:
    nonce: int
    balance: int
    storage_root: bytes
    code_hash: bytes


def mapping_slot(key: int | bytes, slot: int) -> int:
    """Solidity's slot of ``mapping[key]`` for a mapping declared at ``slot``:
    keccak256(pad32(key) . pad32(slot)) (value-type keys: addresses and integers left-padded)."""
    key_bytes = key.to_bytes(32, "big") if isinstance(key, int) else bytes(key).rjust(32, b"\x00")
    return int.from_bytes(keccak(key_bytes + slot.to_bytes(32, "big")), "big")


def array_slot(slot: int, index: int) -> int:
    """Solidity's slot of element ``index`` of a dynamic array (of one-slot items) declared at ``slot``."""
    return int.from_bytes(keccak(slot.to_bytes(32, "big")), "big") + index


def verify_account(state_root: bytes, address: str, proof: Sequence[bytes]) -> Account | None:
    """The account at ``address`` proven under ``state_root`` (None: proven absent).
    Raises ProofError when the proof is broken."""
    value = lookup(state_root, keccak(bytes.fromhex(address[2:])), proof)
    if value is None:
        return None
    fields = rlp.decode(value)
    if len(fields) != 4:
        raise ProofError("the proven account is not [nonce, balance, storageRoot, codeHash]")
    nonce, balance, storage_root, code_hash = (bytes(f) for f in fields)
    return Account(int.from_bytes(nonce, "big"), int.from_bytes(balance, "big"), storage_root, code_hash)


def verify_storage(storage_root: bytes, slot: int, proof: Sequence[bytes]) -> int:
    """The value of storage ``slot`` proven under ``storage_root`` (zero when proven absent).
    Raises ProofError when the proof is broken."""
    if storage_root == EMPTY_TRIE_ROOT and not proof:
        return 0
    value = lookup(storage_root, keccak(slot.to_bytes(32, "big")), proof)
    if value is None:
        return 0
    decoded = rlp.decode(value)
    if not isinstance(decoded, bytes):
        raise ProofError("a storage value is not an RLP string")
    return int.from_bytes(decoded, "big")
