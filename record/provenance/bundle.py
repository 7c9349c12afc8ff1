"""Provenance bundles: self-contained evidence for every event in a token's story.

For each event the bundle holds the block header (every consensus field), the transaction's
receipt in consensus form, and the Merkle-Patricia proof of that receipt against the header's
receipts root (built from all of the block's receipts); plus, per chain, every header between
the first and the last event so the parent-hash links can be checked; plus the ABI fragment of
each event so it decodes with no other input. ``record.provenance.verify`` checks it offline.

A bridge delivery (``TokenMinted``, ``TokenUnlocked``) also carries its transaction (the signed
bytes, proven against the header's transactions root) and the ``deliver`` ABI fragment: the
delivery event names only the transfer id and recipient, the message in the call data binds the
rest (token, rights), so the verifier can match it with the departure on the other chain. A node
without ``eth_getRawTransactionByHash`` (our BFT engine) has the block's transactions rebuilt from
their JSON fields, each checked against its hash and all of them against the transactions root;
when even that fails the bundle marks the delivery's ``tx`` as not available and the verifier
reports the hop's message as not checked (PARTLY CHECKED at best, on such an engine only).

``state`` holds storage proofs (``record.provenance.state``) at the block the index has finished on
each chain (``state_blocks``: its last final block; the head when not given): the token's owner
slot where the story leaves it and its work's rights record (the registration in the story that
names the subject's collection: ``RightsRegistered``, or ``RightsBound`` for a work registered
before its mint). Proving at the head instead would make an honest bundle fail whenever a sale
sits in the blocks the index does not yet count as final.

On an engine whose headers and state are not Ethereum's (``chain.engines``: our BFT chain, where
the block hash is CometBFT's and ``eth_getProof`` answers with IAVL proofs), the bundle still
carries the headers, receipts and their proofs (receipts and transactions roots are Ethereum tries
there), but marks that chain's header proofs in ``header_proofs`` and its state proofs as
``{"available": false, "reason": "not available on this engine ..."}``: the verifier then reports
what it could not check instead of a verdict it cannot give.

Each chain's headers run from its first event to its head at export time (when that is within
``MAX_LINK_HEADERS``), past the state proof's block: an auditor who has a recent block hash from
another source (``chainright verify --trusted-head``) can then check that the bundle's headers link
to it and, through the headers' logs blooms, that the token did not move after the proof.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from hexbytes import HexBytes

from chain.engines import engine_via
from chain.errors import ChainUnavailableError, ProvenanceRangeError
from record.proofs.receipts import receipt_proof
from record.proofs.transactions import raw_transaction_of, transaction_proof, transactions_root
from record.provenance.state import collect_state, holding_of
from record.provenance.story import ARRIVALS

FORMAT = "chainright-provenance-bundle/2"
FORMATS = ("chainright-provenance-bundle/1", FORMAT)
"""Formats the verifier reads (/1: no delivery transactions, no state proofs)."""
MAX_LINK_HEADERS = 20_000
HEADERS_UNAVAILABLE = ("block hashes are CometBFT's, not keccak(RLP(header)): the headers cannot be checked "
                       "against their hashes or linked offline")
TX_UNAVAILABLE = "the node does not serve the delivery's signed transaction"
STATE_UNAVAILABLE = ("on this engine (bft), eth_getProof answers with IAVL (ICS-23) proofs against the app "
                     "hash, not Ethereum trie proofs")

HEADER_FIELDS = (
    "parentHash", "sha3Uncles", "miner", "stateRoot", "transactionsRoot", "receiptsRoot",
    "logsBloom", "difficulty", "number", "gasLimit", "gasUsed", "timestamp", "extraData",
    "mixHash", "nonce", "baseFeePerGas", "withdrawalsRoot", "blobGasUsed", "excessBlobGas",
    "parentBeaconBlockRoot", "requestsHash", "hash",
)


def _hex(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, HexBytes)):
        return "0x" + bytes(value).hex()
    if isinstance(value, int):
        return hex(value)
    return value


def header_of(block: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _hex(block[k]) for k in HEADER_FIELDS if block.get(k) is not None}


def receipt_of(receipt: Mapping[str, Any]) -> dict[str, Any]:
    """The consensus fields of a receipt (what the receipts trie commits to), as hex."""
    return {
        "type": _hex(receipt.get("type") or 0),
        "status": _hex(receipt["status"]),
        "cumulativeGasUsed": _hex(receipt["cumulativeGasUsed"]),
        "logsBloom": _hex(receipt["logsBloom"]),
        "logs": [{"address": log["address"], "topics": [_hex(t) for t in log["topics"]],
                  "data": _hex(log["data"])} for log in receipt["logs"]],
    }


RpcCall = Callable[[str, list[Any]], Any]


def rpcs_for(urls: Mapping[int, str], timeout: float = 10.0) -> dict[int, RpcCall]:
    """Raw JSON-RPC callables per chain id (the bundle needs eth_getBlockReceipts)."""
    from chain.rpc import rpc_call

    def make(url: str) -> RpcCall:
        return lambda method, params: rpc_call(url, method, params, timeout=timeout)

    return {int(chain_id): make(url) for chain_id, url in urls.items()}


def _raw_transactions(rpc: RpcCall, block: Mapping[str, Any]) -> tuple[list[bytes], str | None]:
    """The block's signed transactions in order, and how they were had: None when the node served
    them (``eth_getRawTransactionByHash``), else a note that they were rebuilt from their fields.

    A node without ``eth_getRawTransactionByHash`` (our BFT engine) gives the block with its full
    transactions instead; each is rebuilt (``raw_transaction_of``, which checks keccak of the bytes
    against the transaction hash) and the whole list must give the header's transactions root.
    Raises ValueError naming what failed there; a node that is unreachable raises as it does."""
    hashes = [h if isinstance(h, str) else h["hash"] for h in block["transactions"]]
    try:
        return [bytes(HexBytes(rpc("eth_getRawTransactionByHash", [h]))) for h in hashes], None
    except ChainUnavailableError:  # refused (or no answer: then the next call raises too)
        pass
    full = rpc("eth_getBlockByNumber", [_hex(block["number"]), True])
    txs = full["transactions"]
    if [str(t["hash"]).lower() for t in txs] != [str(h).lower() for h in hashes]:
        raise ValueError("the node's full block lists other transactions than its header block")
    raws = [raw_transaction_of(t) for t in txs]
    if transactions_root(raws) != bytes(HexBytes(block["transactionsRoot"])):
        raise ValueError("the rebuilt transactions do not give the header's transactions root")
    return raws, ("rebuilt from the node's transaction fields (no eth_getRawTransactionByHash); "
                  "keccak of each equals its transaction hash")


def delivery_transaction(rpc: RpcCall, block: Mapping[str, Any], tx_index: int) -> dict[str, Any]:
    """The delivery's signed bytes and their proof against the transactions root, or, when the
    node neither serves them nor lets them be rebuilt soundly, ``{"available": false, "reason"}``
    (the verifier then says what it could not check)."""
    try:
        raws, rebuilt = _raw_transactions(rpc, block)
    except (ValueError, KeyError, TypeError) as exc:
        return {"available": False, "reason": f"{TX_UNAVAILABLE}: {exc}"}
    out = {"raw": "0x" + raws[tx_index].hex(),
           "proof": ["0x" + node.hex() for node in transaction_proof(raws, tx_index)]}
    if rebuilt is not None:
        out["source"] = rebuilt
    return out


def build_bundle(subject: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
                 rpc_by_chain: Mapping[int, RpcCall], abis: Mapping[str, list[dict[str, Any]]],
                 progress: Callable[[str], None] | None = None, *, state: bool = True,
                 state_blocks: Mapping[int, int] | None = None) -> dict[str, Any]:
    """Assemble the bundle for ``events`` (rows of the index: chain_id, block_number, tx_hash,
    log_index, address, contract, event, args) using raw JSON-RPC per chain; with ``state``, add
    storage proofs at ``state_blocks[chain_id]`` (the index's last final block; never before the
    story's last event there), or at the chain's head for a chain not in it. Raises
    ProvenanceRangeError when a chain's headers would span more than MAX_LINK_HEADERS blocks."""
    blocks: dict[tuple[int, int], dict[str, Any]] = {}
    receipts: dict[tuple[int, int], list[dict[str, Any]]] = {}
    entries = []
    for n, ev in enumerate(events, start=1):
        chain_id, number = int(ev["chain_id"]), int(ev["block_number"])
        rpc = rpc_by_chain[chain_id]
        key = (chain_id, number)
        if key not in blocks:
            blocks[key] = rpc("eth_getBlockByNumber", [hex(number), False])
            receipts[key] = rpc("eth_getBlockReceipts", [hex(number)])
        block_receipts = receipts[key]
        tx_index = next(i for i, r in enumerate(block_receipts)
                        if r["transactionHash"].lower() == str(ev["tx_hash"]).lower())
        receipt = block_receipts[tx_index]
        position = next(i for i, log in enumerate(receipt["logs"])
                        if int(log["logIndex"], 16) == int(ev["log_index"]))
        fragment = next(item for item in abis[str(ev["contract"])]
                        if item.get("type") == "event" and item.get("name") == ev["event"])
        entry: dict[str, Any] = {
            "chain_id": chain_id, "block_number": number, "block_hash": blocks[key]["hash"],
            "tx_hash": ev["tx_hash"], "tx_index": tx_index, "log_index": int(ev["log_index"]),
            "log_position": position, "contract": ev["contract"], "event": ev["event"],
            "address": ev["address"], "args": json.loads(ev["args"]) if isinstance(ev["args"], str)
            else ev["args"],
            "abi": fragment, "receipt": receipt_of(receipt),
            "proof": ["0x" + node.hex() for node in receipt_proof(block_receipts, tx_index)],
        }
        if ev["event"] in ARRIVALS:
            entry["tx"] = delivery_transaction(rpc, blocks[key], tx_index)
            entry["call_abi"] = next(item for item in abis[str(ev["contract"])]
                                     if item.get("type") == "function" and item.get("name") == "deliver")
        entries.append(entry)
        if progress is not None:
            progress(f"bundle: event {n}/{len(events)} ({ev['event']} in block {number})")
    chain_ids = sorted({e["chain_id"] for e in entries})
    engines = {chain_id: engine_via(rpc_by_chain[chain_id]) for chain_id in chain_ids}
    header_proofs = {str(c): {"available": False, "engine": e.name, "reason": HEADERS_UNAVAILABLE}
                     for c, e in engines.items() if not e.ethereum_headers}
    no_state = {c for c, e in engines.items() if not e.ethereum_state_proofs}
    states = _states(subject, entries, rpc_by_chain, state_blocks or {}, no_state) if state else {}
    headers: dict[str, dict[str, dict[str, Any]]] = {}
    for chain_id in sorted({e["chain_id"] for e in entries}):
        numbers = [e["block_number"] for e in entries if e["chain_id"] == chain_id]
        if states.get(str(chain_id), {}).get("available"):
            numbers.append(int(states[str(chain_id)]["block_number"]))
        low, high = min(numbers), max(numbers)
        _check_range(subject, chain_id, low, high)
        rpc = rpc_by_chain[chain_id]
        head = int(rpc("eth_blockNumber", []), 16)
        if high < head <= low + MAX_LINK_HEADERS:
            high = head  # up to the head, so a trusted head there can be checked
        chain_headers = {}
        for number in range(low, high + 1):
            block = blocks.get((chain_id, number)) or rpc("eth_getBlockByNumber", [hex(number), False])
            chain_headers[str(number)] = header_of(block)
        headers[str(chain_id)] = chain_headers
    bundle = {"format": FORMAT, "subject": dict(subject), "events": entries, "headers": headers,
              "state": states}
    if header_proofs:
        bundle["header_proofs"] = header_proofs
    return bundle


def _check_range(subject: Mapping[str, Any], chain_id: int, low: int, high: int) -> None:
    if high - low > MAX_LINK_HEADERS:
        raise ProvenanceRangeError(
            f"the story of token {subject.get('token_id')} spans {high - low} blocks on chain {chain_id} "
            f"(blocks {low} to {high}, including the state proof's block); a bundle links at most "
            f"{MAX_LINK_HEADERS} headers: verify the token's story through the API or an archive node "
            "instead, or export a bundle without state proofs when the proof block is what is far off")


def _states(subject: Mapping[str, Any], entries: Sequence[Mapping[str, Any]],
            rpc_by_chain: Mapping[int, RpcCall], state_blocks: Mapping[int, int],
            no_state: AbstractSet[int] = frozenset()) -> dict[str, dict[str, Any]]:
    """Storage proofs per chain at its state block: the owner slot where the story leaves the token,
    and the rights record of the registration in the story (on the subject's chain)."""
    holding = holding_of(entries, int(subject["token_id"]))
    registered = next((e for e in entries if e["event"] in ("RightsRegistered", "RightsBound")
                       and int(e["chain_id"]) == int(subject["chain_id"])
                       and str(e["args"].get("collection", "")).lower()
                       == str(subject["collection"]).lower()), None)
    out: dict[str, dict[str, Any]] = {}
    for chain_id in sorted({int(e["chain_id"]) for e in entries}):
        here = holding if holding is not None and holding.chain_id == chain_id else None
        registry = (str(registered["address"]), str(registered["args"]["contentHash"])) \
            if registered is not None and int(registered["chain_id"]) == chain_id else None
        if here is None and registry is None:
            continue
        if chain_id in no_state:
            out[str(chain_id)] = {"available": False, "reason": STATE_UNAVAILABLE}
            continue
        rpc = rpc_by_chain[chain_id]
        numbers = [int(e["block_number"]) for e in entries if int(e["chain_id"]) == chain_id]
        at = state_blocks.get(chain_id)
        block = int(rpc("eth_blockNumber", []), 16) if at is None else max(int(at), max(numbers))
        _check_range(subject, chain_id, min(numbers), block)  # before asking for proofs there
        out[str(chain_id)] = collect_state(rpc, block, here, registry)
    return out

