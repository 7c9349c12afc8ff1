"""Merkle-Patricia trie proof verification, written out so an auditor can read every step.

A proof is the list of RLP-encoded trie nodes on the path from the root to the key. Each node is
referenced from its parent by keccak256 of its encoding (or embedded when shorter than 32
bytes). The walk consumes the key's nibbles through branch (17 items), extension and leaf
(2 items, hex-prefix encoded path) nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rlp
from eth_hash.auto import keccak


class ProofError(ValueError):
    """Raised when a proof is malformed or does not lead from the root to the key."""


def _nibbles(data: bytes) -> list[int]:
    out = []
    for byte in data:
        out += [byte >> 4, byte & 0x0F]
    return out


def _decode_hex_prefix(path: bytes) -> tuple[list[int], bool]:
    nibbles = _nibbles(path)
    flag = nibbles[0]
    is_leaf = flag >= 2
    return (nibbles[1:] if flag % 2 == 1 else nibbles[2:]), is_leaf


def verify_proof(root: bytes, key: bytes, proof: Sequence[bytes]) -> bytes:
    """The value stored under ``key`` in the trie with root ``root``, proven by ``proof``.

    Raises ProofError naming the step where the proof breaks (an absent key is an error here).
    """
    value = _walk(root, key, proof, absent_ok=False)
    assert value is not None
    return value


def lookup(root: bytes, key: bytes, proof: Sequence[bytes]) -> bytes | None:
    """Like ``verify_proof``, but a valid proof that the key is absent (the path ends in an empty
    branch slot, a branch with no value, or a node whose path leads elsewhere) returns None.
    Storage proofs need this: a zero storage slot is not in the trie at all.
    Raises ProofError when the proof itself is broken (a missing or malformed node)."""
    return _walk(root, key, proof, absent_ok=True)


def _walk(root: bytes, key: bytes, proof: Sequence[bytes], *, absent_ok: bool) -> bytes | None:
    by_hash = {keccak(node): node for node in proof}
    path = _nibbles(key)
    expected: Any = root
    for depth in range(len(proof) + 64):
        if isinstance(expected, list):
            node = expected  # embedded node (shorter than 32 bytes)
        else:
            encoded = by_hash.get(bytes(expected))
            if encoded is None:
                raise ProofError(f"step {depth}: no proof node hashes to 0x{bytes(expected).hex()}")
            node = rlp.decode(encoded)
        if len(node) == 17:
            if not path:
                value = node[16]
                if not value:
                    if absent_ok:
                        return None
                    raise ProofError(f"step {depth}: the key has no value in this trie")
                return bytes(value)
            child: Any = node[path[0]]
            path = path[1:]
            if child == b"" or child == []:
                if absent_ok:
                    return None
                raise ProofError(f"step {depth}: the key is absent (empty branch slot)")
            expected = child
        elif len(node) == 2:
            segment, is_leaf = _decode_hex_prefix(bytes(node[0]))
            if path[:len(segment)] != segment or (is_leaf and len(path) != len(segment)):
                if absent_ok:
                    return None
                raise ProofError(f"step {depth}: the path diverges from the key")
            path = path[len(segment):]
            if is_leaf:
                return bytes(node[1])
            expected = node[1]
        else:
            raise ProofError(f"step {depth}: a node with {len(node)} items is not a trie node")
    raise ProofError("the proof does not terminate")
