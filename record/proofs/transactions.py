"""Transactions: the transactions trie of a block, inclusion proofs, and reading ``to`` and the
call data out of a signed transaction's consensus encoding (legacy and EIP-2718 typed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rlp

# EIP-2718 type -> (index of ``to``, index of ``data``) in the RLP list after the type byte.
_TYPED_FIELDS = {1: (4, 6), 2: (5, 7), 3: (5, 7), 4: (5, 7)}
_LEGACY_FIELDS = (3, 5)


def _trie(raw_transactions: Sequence[bytes]) -> Any:
    from trie import HexaryTrie

    trie = HexaryTrie(db={})
    for index, raw in enumerate(raw_transactions):
        trie[rlp.encode(index)] = bytes(raw)
    return trie


def transactions_root(raw_transactions: Sequence[bytes]) -> bytes:
    """The transactions root of a block whose signed transactions, in order, are ``raw_transactions``."""
    return bytes(_trie(raw_transactions).root_hash)


def transaction_proof(raw_transactions: Sequence[bytes], index: int) -> list[bytes]:
    """The trie nodes proving transaction ``index`` against the block's transactions root."""
    nodes = _trie(raw_transactions).get_proof(rlp.encode(index))
    return [bytes(rlp.encode(node)) for node in nodes]


def call_of(raw: bytes) -> tuple[str | None, bytes]:
    """(``to`` as 0x-hex, or None for a contract creation; the call data) of a signed transaction.

    Raises ValueError for an encoding this module does not know."""
    if not raw:
        raise ValueError("an empty transaction")
    if raw[0] >= 0xC0:
        fields, (to_at, data_at) = rlp.decode(raw), _LEGACY_FIELDS
    elif raw[0] in _TYPED_FIELDS:
        fields, (to_at, data_at) = rlp.decode(raw[1:]), _TYPED_FIELDS[raw[0]]
    else:
        raise ValueError(f"unknown transaction type 0x{raw[0]:02x}")
    to = bytes(fields[to_at])
    return ("0x" + to.hex() if to else None), bytes(fields[data_at])
