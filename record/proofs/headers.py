"""Block headers: the canonical RLP (through the fork fields the block carries) and its hash."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rlp
from eth_hash.auto import keccak
from eth_keys.datatypes import Signature

# (JSON-RPC field, kind) in consensus order; optional fork fields are included when present.
_FIELDS: tuple[tuple[str, str], ...] = (
    ("parentHash", "bytes"), ("sha3Uncles", "bytes"), ("miner", "bytes"), ("stateRoot", "bytes"),
    ("transactionsRoot", "bytes"), ("receiptsRoot", "bytes"), ("logsBloom", "bytes"),
    ("difficulty", "int"), ("number", "int"), ("gasLimit", "int"), ("gasUsed", "int"),
    ("timestamp", "int"), ("extraData", "bytes"), ("mixHash", "bytes"), ("nonce", "bytes"),
)
_OPTIONAL: tuple[tuple[str, str], ...] = (
    ("baseFeePerGas", "int"), ("withdrawalsRoot", "bytes"), ("blobGasUsed", "int"),
    ("excessBlobGas", "int"), ("parentBeaconBlockRoot", "bytes"), ("requestsHash", "bytes"),
)
CLIQUE_SEAL = 65


def _bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    text = str(value)
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def _int(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(str(value), 16) if str(value).startswith("0x") else int(value)


def header_fields(block: Mapping[str, Any]) -> list[Any]:
    fields: list[Any] = []
    for name, kind in _FIELDS:
        fields.append(_int(block[name]) if kind == "int" else _bytes(block[name]))
    for name, kind in _OPTIONAL:
        if block.get(name) is None:
            break  # fork fields are cumulative: a missing one ends the list
        fields.append(_int(block[name]) if kind == "int" else _bytes(block[name]))
    return fields


def header_rlp(block: Mapping[str, Any]) -> bytes:
    return bytes(rlp.encode(header_fields(block)))


def header_hash(block: Mapping[str, Any]) -> bytes:
    """keccak256 of the header's RLP: equals the block hash when every field is genuine."""
    return bytes(keccak(header_rlp(block)))


def clique_signer(block: Mapping[str, Any]) -> str:
    """The address that sealed a Clique (proof-of-authority) block: recovered from the 65-byte
    seal at the end of extraData over the header hashed without that seal."""
    fields = header_fields(block)
    extra = fields[12]
    if len(extra) < 32 + CLIQUE_SEAL:
        raise ValueError("extraData is too short to carry a Clique seal")
    seal = extra[-CLIQUE_SEAL:]
    fields[12] = extra[:-CLIQUE_SEAL]
    digest = keccak(rlp.encode(fields))
    signature = Signature(seal[:64] + bytes([seal[64] % 27 if seal[64] >= 27 else seal[64]]))
    return str(signature.recover_public_key_from_msg_hash(digest).to_checksum_address())
