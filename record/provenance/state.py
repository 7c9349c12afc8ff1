"""Storage proofs of where a token stands now: its owner slot in its collection and its work's
rights record in the RightsRegistry, proven against a recent header's state root.

Which slots are proven (from solc's storage layout of our contracts; ``tests/contracts/
test_storage_layout.py`` checks these numbers against the compiler's output):

- ``CreatorCollection._packedOwnerships`` (slot 7), ``mapping(tokenId => packed)``: owner in bits
  0..159. An edition writes only some slots; an empty slot belongs to the nearest written slot
  below it, so the bundle proves the token's slot and, while it is empty, the slots below it (at
  most ``CHECKPOINT_INTERVAL`` = 16) down to the first written one.
- ``WrappedCollection._tokens`` (slot 4), ``mapping(wrappedId => packed)``: owner in bits 0..159.
- ``RightsRegistry._records`` (slot 1), ``mapping(contentHash => packed)``: creator in bits 0..159,
  collection index in bits 200..223 (from 1), token (work) id in bits 224..255; and
  ``RightsRegistry._collections`` (slot 4), ``address[]``: element ``index - 1`` is the collection.

A mapping's slot is keccak256(pad32(key) . pad32(declared slot)); an array's element ``i`` is at
keccak256(pad32(declared slot)) + i. ``collect_state`` asks the node (``eth_getProof``) at the
chain's head; ``check_state`` verifies offline. A node without ``eth_getProof`` yields
``{"available": false, "reason": ...}``, which the verifier reports as not available.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from record.proofs.mpt import ProofError
from record.proofs.state import array_slot, mapping_slot, verify_account, verify_storage

RpcCall = Callable[[str, list[Any]], Any]

OWNER_LAYOUT: dict[str, tuple[int, int]] = {
    "CreatorCollection": (7, 16),  # (_packedOwnerships slot, slots to walk down at most)
    "WrappedCollection": (4, 0),   # (_tokens slot, no walk: every wrapped token has its own slot)
}
REGISTRY_RECORDS_SLOT = 1
REGISTRY_COLLECTIONS_SLOT = 4
OWNER_MASK = (1 << 160) - 1


@dataclass(frozen=True)
class Holding:
    """Where the story leaves the token: (chain, collection contract, its artifact name, token id)."""

    chain_id: int
    collection: str
    contract: str
    token_id: int


def holding_of(events: Sequence[Mapping[str, Any]], token_id: int) -> Holding | None:
    """Where the events leave the token: the last contract that moved it, unless a bridge
    departure followed (then it is in flight, or the bundle stops early: None)."""
    holding: Holding | None = None
    for entry in events:
        args = entry["args"]
        if entry["event"] == "Transfer" and "tokenId" in args:
            holding = Holding(int(entry["chain_id"]), str(entry["address"]), str(entry["contract"]),
                              int(args["tokenId"]))
        elif entry["event"] == "ConsecutiveTransfer" and holding is None:
            holding = Holding(int(entry["chain_id"]), str(entry["address"]), str(entry["contract"]), token_id)
        elif entry["event"] in ("TokenLocked", "TokenBurned"):
            holding = None
    return holding


def owner_slots(contract: str, token_id: int) -> list[int]:
    """The slots to prove for ``token_id``'s owner, nearest first (the walk may stop early)."""
    slot, walk = OWNER_LAYOUT[contract]
    if not walk:
        return [mapping_slot(token_id, slot)]
    return [mapping_slot(t, slot) for t in range(token_id, max(token_id - walk, 1) - 1, -1)]


def record_slot(content_hash: str) -> int:
    return mapping_slot(bytes.fromhex(content_hash[2:]), REGISTRY_RECORDS_SLOT)


def _get_proof(rpc: RpcCall, address: str, slots: Sequence[int], block: str) -> dict[str, Any]:
    return dict(rpc("eth_getProof", [address, [f"0x{s:064x}" for s in slots], block]))


def collect_state(rpc: RpcCall, block_number: int, holding: Holding | None,
                  registry: tuple[str, str] | None) -> dict[str, Any]:
    """eth_getProof at ``block_number`` for the holding's owner slots and the registry record
    (``registry``: its address and the content hash), as plain JSON."""
    tag = hex(block_number)
    accounts: list[dict[str, Any]] = []
    try:
        if holding is not None and holding.contract in OWNER_LAYOUT:
            slots = owner_slots(holding.contract, holding.token_id)
            proof = _get_proof(rpc, holding.collection, slots, tag)
            values = [int(p["value"], 16) for p in proof["storageProof"]]
            keep = next((i + 1 for i, v in enumerate(values) if v != 0), len(values))
            accounts.append(_account("owner", holding.collection, proof, keep))
        if registry is not None:
            address, content_hash = registry
            proof = _get_proof(rpc, address, [record_slot(content_hash)], tag)
            packed = int(proof["storageProof"][0]["value"], 16)
            index = (packed >> 200) & 0xFFFFFF
            if index:
                more = _get_proof(rpc, address, [record_slot(content_hash),
                                                 array_slot(REGISTRY_COLLECTIONS_SLOT, index - 1)], tag)
                proof = more
            accounts.append(_account("rights record", address, proof, len(proof["storageProof"])))
    except Exception as exc:  # a node without eth_getProof answers "method not found"
        return {"available": False, "reason": f"eth_getProof failed: {exc}"[:300]}
    return {"available": True, "block_number": block_number, "accounts": accounts}


def _account(role: str, address: str, proof: Mapping[str, Any], keep: int) -> dict[str, Any]:
    return {
        "role": role, "address": address, "account_proof": list(proof["accountProof"]),
        "storage_hash": proof["storageHash"],
        "storage": [{"slot": hex(int(p["key"], 16)), "value": hex(int(p["value"], 16)),
                     "proof": list(p["proof"])} for p in proof["storageProof"][:keep]],
    }


def _b(text: str) -> bytes:
    return bytes.fromhex(str(text)[2:])


def proven_slots(state_root: bytes, account: Mapping[str, Any]) -> dict[int, int]:
    """slot -> value, every one proven under ``state_root`` through the account's storage root.
    Raises ProofError naming what breaks."""
    proven = verify_account(state_root, str(account["address"]), [_b(n) for n in account["account_proof"]])
    if proven is None:
        raise ProofError(f"the state proves no account at {account['address']}")
    if proven.storage_root != _b(account["storage_hash"]):
        raise ProofError("the account's storage root is not the one the storage proofs use")
    out: dict[int, int] = {}
    for item in account["storage"]:
        slot = int(item["slot"], 16)
        value = verify_storage(proven.storage_root, slot, [_b(n) for n in item["proof"]])
        if value != int(item["value"], 16):
            raise ProofError(f"slot {hex(slot)} holds {hex(value)}, the bundle says {item['value']}")
        out[slot] = value
    return out


def proven_owner(slots: Mapping[int, int], holding: Holding) -> str | None:
    """The owner the proven slots give for the holding (None: the proofs do not reach a written slot)."""
    for slot in owner_slots(holding.contract, holding.token_id):
        if slot not in slots:
            return None
        if slots[slot] != 0:
            return "0x" + f"{slots[slot] & OWNER_MASK:040x}"
    return None


def proven_record(slots: Mapping[int, int], content_hash: str) -> dict[str, Any] | None:
    """The registry record the proven slots give: creator, collection, token (work) id."""
    packed = slots.get(record_slot(content_hash))
    if not packed:
        return None
    index = (packed >> 200) & 0xFFFFFF
    collection = None
    if index:
        element = slots.get(array_slot(REGISTRY_COLLECTIONS_SLOT, index - 1))
        collection = None if element is None else "0x" + f"{element & OWNER_MASK:040x}"
    return {"creator": "0x" + f"{packed & OWNER_MASK:040x}", "collection": collection,
            "token_id": packed >> 224 if index else None}
