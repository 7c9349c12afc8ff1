"""Receipts: their consensus encoding, the receipts trie of a block, and inclusion proofs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import rlp

from record.proofs.headers import _bytes, _int


def encode_receipt(receipt: Mapping[str, Any]) -> bytes:
    """EIP-2718 encoding: ``type || rlp([status, cumulativeGasUsed, logsBloom, logs])``
    (no type byte for legacy receipts)."""
    logs = [[_bytes(log["address"]), [_bytes(t) for t in log["topics"]], _bytes(log["data"])]
            for log in receipt["logs"]]
    status = _int(receipt["status"])
    body = rlp.encode([b"\x01" if status == 1 else b"", _int(receipt["cumulativeGasUsed"]),
                       _bytes(receipt["logsBloom"]), logs])
    tx_type = _int(receipt.get("type", 0) or 0)
    return bytes(body) if tx_type == 0 else bytes([tx_type]) + bytes(body)


def _trie(receipts: Sequence[Mapping[str, Any]]) -> Any:
    from trie import HexaryTrie

    trie = HexaryTrie(db={})
    for index, receipt in enumerate(receipts):
        trie[rlp.encode(index)] = encode_receipt(receipt)
    return trie


def receipts_root(receipts: Sequence[Mapping[str, Any]]) -> bytes:
    """The receipts root of a block whose receipts, in order, are ``receipts``."""
    return bytes(_trie(receipts).root_hash)


def receipt_proof(receipts: Sequence[Mapping[str, Any]], index: int) -> list[bytes]:
    """The trie nodes proving receipt ``index`` against the block's receipts root."""
    trie = _trie(receipts)
    nodes = trie.get_proof(rlp.encode(index))
    return [bytes(rlp.encode(node)) for node in nodes]
