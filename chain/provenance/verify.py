"""Verify a provenance bundle with no network at all (pure).

What is checked, in order, stopping the story at the first broken link (every check is still
listed):

1. Headers: each header's keccak(RLP) equals its stated hash; consecutive headers link by
   ``parentHash``; for a chain whose validator set is given, each block's Clique seal recovers to
   one of those validators. (anvil seals nothing: for anvil chains hash and links are checked,
   not who produced the blocks.)
2. Events: each event's block is one of those headers; its receipt, re-encoded, is what the
   Merkle-Patricia proof proves under the header's receipts root; the log at the stated position
   in that receipt has the stated address, and its topics and data decode (with the ABI fragment
   carried in the bundle) to the stated arguments.
3. The story: events are in chain order; every transfer of the token starts where the previous
   one ended (from the zero address at mint); a bridge hop's lock on the source chain and its
   delivery on the destination match by transfer id and metadata, and the token continues on
   the other chain from the recipient the message names.
4. Content: when the file is given, its sha-256 equals the registered content hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import rlp
from eth_abi.abi import decode as abi_decode
from eth_utils.abi import event_abi_to_log_topic

from chain.artifacts import abi_type
from chain.index.decoder import _jsonable
from chain.proofs.headers import clique_signer, header_hash
from chain.proofs.mpt import ProofError, verify_proof
from chain.proofs.receipts import encode_receipt

ZERO = "0x" + "00" * 20


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    detail: str = ""


@dataclass
class Verdict:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and bool(self.checks)

    @property
    def first_break(self) -> Check | None:
        return next((c for c in self.checks if not c.ok), None)

    def add(self, ok: bool, what: str, detail: str = "") -> bool:
        self.checks.append(Check(ok, what, detail))
        return ok


def _b(hex_text: str) -> bytes:
    return bytes.fromhex(str(hex_text)[2:])


def _norm(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def decode_log(fragment: Mapping[str, Any], topics: list[str], data: str) -> dict[str, Any]:
    """Decode one log with its event ABI fragment (raises ValueError when it does not fit)."""
    topic_bytes = [_b(t) for t in topics]
    if not topic_bytes or topic_bytes[0] != bytes(event_abi_to_log_topic(dict(fragment))):  # type: ignore[arg-type]
        raise ValueError("the log's first topic is not this event's signature")
    indexed = [i for i in fragment["inputs"] if i.get("indexed")]
    plain = [i for i in fragment["inputs"] if not i.get("indexed")]
    if len(indexed) != len(topic_bytes) - 1:
        raise ValueError("the number of topics does not match the event")
    args: dict[str, Any] = {}
    for inp, topic in zip(indexed, topic_bytes[1:], strict=True):
        typ = abi_type(inp)
        if typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("("):
            args[inp["name"]] = "0x" + topic.hex()
        else:
            args[inp["name"]] = _jsonable(abi_decode([typ], topic)[0])
    if plain:
        values = abi_decode([abi_type(i) for i in plain], _b(data))
        for inp, value in zip(plain, values, strict=True):
            args[inp["name"]] = _jsonable(value)
    return args


def _verify_headers(bundle: Mapping[str, Any], verdict: Verdict,
                    validators: Mapping[int, set[str]]) -> None:
    for chain_id, headers in sorted(bundle.get("headers", {}).items(), key=lambda kv: int(kv[0])):
        numbers = sorted(int(n) for n in headers)
        previous = None
        for number in numbers:
            header = headers[str(number)]
            where = f"chain {chain_id} block {number}"
            if not verdict.add(int(str(header["number"]), 16) == number, f"{where}: header number",
                               "the header's number is not the block it is filed under"):
                continue
            computed = "0x" + header_hash(header).hex()
            verdict.add(computed == str(header["hash"]).lower(), f"{where}: header hash",
                        f"keccak(RLP(header)) is {computed}, the bundle says {header['hash']}")
            if previous is not None:
                verdict.add(str(header["parentHash"]).lower() == str(previous["hash"]).lower(),
                            f"{where}: parent link",
                            f"parentHash {header['parentHash']} is not block {number - 1}'s hash")
            allowed = validators.get(int(chain_id))
            if allowed and number > 0:
                try:
                    signer = clique_signer(header)
                except ValueError as exc:
                    verdict.add(False, f"{where}: seal", str(exc))
                else:
                    verdict.add(signer.lower() in {a.lower() for a in allowed}, f"{where}: seal",
                                f"sealed by {signer}, not a member of the validator set")
            previous = header


def _verify_event(entry: Mapping[str, Any], headers: Mapping[str, Any], verdict: Verdict) -> bool:
    where = f"chain {entry['chain_id']} block {entry['block_number']} log {entry['log_index']} " \
            f"({entry['event']})"
    header = headers.get(str(entry["chain_id"]), {}).get(str(entry["block_number"]))
    if not verdict.add(header is not None, f"{where}: header present",
                       "the bundle has no header for this event's block"):
        return False
    assert header is not None
    if not verdict.add(str(header["hash"]).lower() == str(entry["block_hash"]).lower(),
                       f"{where}: block hash", "the event names another block than the header"):
        return False
    try:
        proven = verify_proof(_b(header["receiptsRoot"]), rlp.encode(int(entry["tx_index"])),
                              [_b(n) for n in entry["proof"]])
    except ProofError as exc:
        return verdict.add(False, f"{where}: receipt proof", str(exc))
    if not verdict.add(proven == encode_receipt(entry["receipt"]), f"{where}: receipt proof",
                       "the receipt in the bundle is not the one the block's receipts root commits to"):
        return False
    logs = entry["receipt"]["logs"]
    position = int(entry["log_position"])
    if not verdict.add(0 <= position < len(logs), f"{where}: log position", "no such log in the receipt"):
        return False
    log = logs[position]
    if not verdict.add(str(log["address"]).lower() == str(entry["address"]).lower(), f"{where}: emitter",
                       f"the log was emitted by {log['address']}, not {entry['address']}"):
        return False
    try:
        decoded = decode_log(entry["abi"], log["topics"], log["data"])
    except Exception as exc:  # a malformed fragment or log cannot be decoded
        return verdict.add(False, f"{where}: decode", f"the log does not decode as {entry['event']}: {exc}")
    stated = {k: _norm(v) for k, v in entry["args"].items()}
    actual = {k: _norm(v) for k, v in decoded.items()}
    return verdict.add(stated == actual, f"{where}: arguments",
                       f"the bundle states {stated}, the log says {actual}")


def _token_moves(entry: Mapping[str, Any], collection: str, token_id: int) -> tuple[str, str] | None:
    """(from, to) when the event moves the subject token, else None."""
    if str(entry["address"]).lower() != collection.lower():
        return None
    args = entry["args"]
    if entry["event"] == "Transfer" and int(args.get("tokenId", -1)) == token_id:
        return str(args["from"]), str(args["to"])
    if entry["event"] == "ConsecutiveTransfer" and \
            int(args["fromTokenId"]) <= token_id <= int(args["toTokenId"]):
        return str(args["fromAddress"]), str(args["toAddress"])
    return None


@dataclass
class _Leg:
    chain_id: int
    collection: str
    token_id: int
    owner: str = ZERO


def _verify_story(bundle: Mapping[str, Any], verdict: Verdict, hops: Iterable[Mapping[str, Any]]) -> None:
    subject = bundle["subject"]
    leg = _Leg(int(subject["chain_id"]), str(subject["collection"]), int(subject["token_id"]))
    last_position: dict[int, tuple[int, int]] = {}
    hop_by_lock = {str(h["transfer_id"]): h for h in hops}
    pending: dict[str, Mapping[str, Any]] = {}
    for entry in bundle["events"]:
        chain_id = int(entry["chain_id"])
        position = (int(entry["block_number"]), int(entry["log_index"]))
        where = f"chain {chain_id} block {position[0]} log {position[1]} ({entry['event']})"
        if chain_id in last_position and not verdict.add(position > last_position[chain_id],
                                                         f"{where}: order", "events out of chain order"):
            return
        last_position[chain_id] = position
        if chain_id == leg.chain_id:
            moved = _token_moves(entry, leg.collection, leg.token_id)
            if moved is not None:
                sender, receiver = moved
                if not verdict.add(sender.lower() == leg.owner.lower(), f"{where}: transfer chain",
                                   f"the token moves from {sender}, but its owner was {leg.owner}"):
                    return
                leg.owner = receiver
        rule = hop_by_lock.get(str(entry["args"].get("transferId", "")))
        if rule is not None and entry["event"] == rule["lock_event"]:
            pending[str(entry["args"]["transferId"])] = entry
        elif rule is not None and entry["event"] == rule["deliver_event"]:
            lock = pending.pop(str(entry["args"]["transferId"]), None)
            if not verdict.add(lock is not None, f"{where}: bridge hop",
                               "a delivery with no matching lock earlier in the story"):
                return
            assert lock is not None
            mismatched = [k for k in rule["matched_args"]
                          if _norm(lock["args"].get(k)) != _norm(entry["args"].get(k))]
            if not verdict.add(not mismatched, f"{where}: bridge hop metadata",
                               f"lock and delivery disagree on {', '.join(mismatched)}"):
                return
            leg = _Leg(chain_id, str(rule["next_collection"](entry)), int(rule["next_token_id"](entry)),
                       owner=ZERO)
    verdict.add(True, "story", f"the token ends with {leg.owner} on chain {leg.chain_id}")


def verify_bundle(bundle: Mapping[str, Any], *, content: bytes | None = None,
                  validators: Mapping[int, set[str]] | None = None,
                  hops: Iterable[Mapping[str, Any]] = ()) -> Verdict:
    """Check everything in the module docstring; the verdict lists every check."""
    verdict = Verdict()
    if not verdict.add(bundle.get("format") == "chainright-provenance-bundle/1", "format",
                       f"unknown bundle format {bundle.get('format')!r}"):
        return verdict
    _verify_headers(bundle, verdict, validators or {})
    headers = bundle.get("headers", {})
    events_ok = all([_verify_event(e, headers, verdict) for e in bundle["events"]])
    if events_ok:
        _verify_story(bundle, verdict, hops)
    if content is not None:
        registered = [e["args"].get("contentHash") for e in bundle["events"]
                      if e["event"] in ("RightsRegistered", "WorkMinted") and e["args"].get("contentHash")]
        digest = "0x" + hashlib.sha256(content).hexdigest()
        verdict.add(bool(registered) and all(_norm(r) == digest for r in registered), "content hash",
                    f"the file hashes to {digest}; the story registers {sorted(set(map(str, registered)))}")
    return verdict
