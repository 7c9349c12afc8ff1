"""Transactions: the transactions trie of a block, inclusion proofs, reading ``to`` and the call
data out of a signed transaction's consensus encoding (legacy and EIP-2718 typed), and rebuilding
that encoding from a node's JSON fields (``raw_transaction_of``) for a node without
``eth_getRawTransactionByHash``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import rlp
from eth_utils.crypto import keccak

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


def _int(value: Any) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text, 16) if text.startswith(("0x", "0X")) else int(text)


def _bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return bytes.fromhex(str(value).removeprefix("0x"))


def _access_list(tx: Mapping[str, Any]) -> list[list[Any]]:
    return [[_bytes(item["address"]), [_bytes(k) for k in item.get("storageKeys", [])]]
            for item in tx.get("accessList") or []]


def _y_parity(tx: Mapping[str, Any]) -> int:
    """The signature's y parity of a typed transaction (``yParity``; older nodes put it in ``v``)."""
    value = tx.get("yParity")
    return _int(value if value is not None else tx["v"])


def _authorizations(tx: Mapping[str, Any]) -> list[list[Any]]:
    return [[_int(a["chainId"]), _bytes(a["address"]), _int(a["nonce"]), _y_parity(a), _int(a["r"]),
             _int(a["s"])] for a in tx.get("authorizationList") or []]


def raw_transaction_of(tx: Mapping[str, Any]) -> bytes:
    """The signed transaction's consensus encoding rebuilt from a node's JSON fields (as
    ``eth_getTransactionByHash`` or a full ``eth_getBlockByNumber`` answers): legacy, EIP-2930,
    EIP-1559, EIP-4844 (without the blob sidecar) and EIP-7702.

    Sound because the transaction hash commits to exactly these bytes: raises ValueError unless
    keccak of the result is the transaction's ``hash`` (a field the node left out, changed or
    formats differently), and for a type this module does not know."""
    kind = _int(tx.get("type") or 0)
    to = _bytes(tx.get("to"))
    common = [_int(tx["nonce"])]
    signature = [_int(tx["r"]), _int(tx["s"])]
    if kind == 0:
        fields = [*common, _int(tx["gasPrice"]), _int(tx["gas"]), to, _int(tx["value"]), _bytes(tx["input"]),
                  _int(tx["v"]), *signature]
        raw = bytes(rlp.encode(fields))
    else:
        head = [_int(tx["chainId"]), *common]
        body = [_int(tx["gas"]), to, _int(tx["value"]), _bytes(tx["input"]), _access_list(tx)]
        fees = [_int(tx["gasPrice"])] if kind == 1 else \
            [_int(tx["maxPriorityFeePerGas"]), _int(tx["maxFeePerGas"])]
        if kind == 1 or kind == 2:
            extra: list[Any] = []
        elif kind == 3:
            extra = [_int(tx["maxFeePerBlobGas"]), [_bytes(h) for h in tx.get("blobVersionedHashes") or []]]
        elif kind == 4:
            extra = [_authorizations(tx)]
        else:
            raise ValueError(f"unknown transaction type 0x{kind:02x}")
        raw = bytes([kind]) + bytes(rlp.encode([*head, *fees, *body, *extra, _y_parity(tx), *signature]))
    stated, got = _bytes(tx.get("hash")), keccak(raw)
    if got != stated:
        raise ValueError(f"the transaction rebuilt from its fields hashes to 0x{got.hex()}, "
                         f"not its hash 0x{stated.hex()}")
    return raw
