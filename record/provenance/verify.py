"""Verify a provenance bundle with no network at all (pure).

What is checked, in order, stopping the story at the first broken link (every check is still
listed):

1. Headers: each header's keccak(RLP) equals its stated hash; consecutive headers link by
   ``parentHash``; for a chain whose validator set is given, each block's Clique seal recovers to
   one of those validators. (anvil seals nothing: for anvil chains hash and links are checked,
   not who produced the blocks.)
   A chain the bundle marks in ``header_proofs`` as not available (an engine whose block hash is
   not keccak(RLP(header)), e.g. our BFT chain's CometBFT hashes) has none of this checked: the
   verdict lists it in ``Verdict.unavailable``, a validator set or a trusted head given for it
   fails (neither can be checked), and ``chainright verify`` does not say VERIFIED. The receipt
   and transaction proofs below still run against those headers' roots, which then prove the
   receipts consistent with the bundle's own headers, not with the chain.
2. Events: each event's block is one of those headers; its receipt, re-encoded, is what the
   Merkle-Patricia proof proves under the header's receipts root; the log at the stated position
   in that receipt has the stated address, and its topics and data decode (with the ABI fragment
   carried in the bundle) to the stated arguments. The event's label is its fragment's name, and
   an event the verifier interprets (``CANONICAL_EVENTS``) must carry exactly the platform's
   fragment, as must a delivery's ``deliver`` call (input names are not part of topic0).
3. The story, read oldest first across chains, with the token live on one chain at a time:
   events are in chain order; every move of the live token starts where the previous one ended
   (from the zero address at mint); any other token moving is a break (the wrapped token moving
   while the token is in flight means a delivery is missing). Bridge hops:
   - a departure (``TokenLocked`` on home, ``TokenBurned`` on remote) is on the chain the token
     is live on, names it, is sent by its holder, leaves it with the lockbox (lock) or burned
     (burn), carries a transfer id that encodes this chain and bridge, and the content hash the
     story registered;
   - the next bridge event must be the delivery of the same transfer id on the destination; its
     transaction (proven against the header's transactions root) calls ``deliver`` on the
     emitting bridge, and the message in the call data must match the departure on every field
     (source and destination chain and bridge, transfer id, collection, token id, sender,
     recipient, and every rights field: token URI, CID, content hash, royalty receiver and bps,
     license terms hash, provenance hash), as must the delivery event's own fields;
     on a chain the bundle marks in ``header_proofs`` (only there) the bundle may mark the
     delivery's transaction not available (a node that neither serves nor lets it be rebuilt):
     the hop is then matched by the delivery event's fields only and listed in
     ``Verdict.unavailable`` (PARTLY CHECKED);
   - the token continues on the destination from the recipient the message names: the wrapped
     token the delivery's receipt mints to that recipient (remote), or the home token the lockbox
     held, released to that recipient (home).
4. Which work: the subject token (collection, id, chain) is minted in the story, and the mint's
   transaction also holds the collection's ``WorkMinted`` covering the token and a rights
   registration (``RightsRegistered``, or ``RightsBound`` for a work registered before its mint)
   naming this collection and work id; every work record in the bundle is that work's (content
   hash, creator, registry). ``Verdict.work`` states it.
5. Completeness: every log in every proven receipt that is about the token (decoded with the
   platform's token events, ``record.provenance.token_events``; "about" as the index decides it) is
   in the story, and no log is listed twice. Beyond the proven transactions, ``Verdict.completeness``
   states what the headers' logs blooms rule out (stated, not failed on: a bloom can be a false
   positive).
6. The contracts and the creator: the rights registrations, the identity events and the escrow
   events each come from one contract (named in the verdict; ``identity_registry`` and
   ``rights_registry`` pin the first two). When the story carries identity or commission
   evidence: every IdentityRegistry event in the bundle is about the registration's creator, on
   its chain, at or before it; the KYC status at the registration is recomputed from them
   (``record.provenance.kyc``) with the registration's proven block time, and listed. Every escrow
   event belongs to an escrow whose seller is the creator, and every delivery in it carries the
   work's content hash.
   Not checked: that no other identity event (a later update or revocation) came before the
   registration: the bundle proves the events it holds, not the absence of others.
7. State (bundle format /2): storage proofs at a header of a chain at or after the story's last
   event there (account proof against its state root, storage proofs against the account's
   storage root) prove the owner slot of the token where the story leaves it, which must equal
   the story's last holder (the slot layout chosen from the story, not the bundle's contract
   label), and the work's rights record (required on the subject's chain when it has state). A
   chain without eth_getProof, or a bundle without state, passes, but ``Verdict.owner_proven`` is
   then false and ``Verdict.owner_state`` says why; a proof marked available that proves no account
   fails. ``Verdict.owner_at`` says at which block (hash, header time) the owner is proven.
8. Time: a trusted head (``TrustedHead``, from the auditor's own source) must be one of the
   bundle's headers with that hash, at or after the owner proof, and no header in between may have
   a logs bloom allowing a log of the collection with the token id as a topic; then
   ``Verdict.owner_current``. ``max_age`` bounds the owner proof's (or the head's) header time.
   ``Verdict.pinned`` and ``Verdict.unpinned`` list the trust anchors given and missing.
9. Content: when the file is given, its sha-256 equals the work's content hash.

Not checked: who produced an anvil chain's blocks (no seals), whether the headers are the chains'
canonical ones without a trusted head (the auditor compares a header hash with a trusted source),
the validators' signatures in a delivery (the destination bridge accepted them on chain), and the
code at the contract addresses (the auditor compares them with the deployment registry).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import rlp
from eth_abi.abi import decode as abi_decode
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.crypto import keccak

from chain.artifacts import abi_type
from did.methods import did_pkh
from record.index.decoder import jsonable
from record.proofs.bloom import bloom_may_contain
from record.proofs.headers import clique_signer, header_hash
from record.proofs.mpt import ProofError, verify_proof
from record.proofs.receipts import encode_receipt
from record.proofs.transactions import call_of
from record.provenance.kyc import IDENTITY_EVENTS, kyc_status
from record.provenance.state import OWNER_LAYOUT, Holding, proven_owner, proven_record, proven_slots
from record.provenance.story import ARRIVALS, DEPARTURES
from record.provenance.token_events import TOKEN_EVENT_ABIS

FORMATS = ("chainright-provenance-bundle/1", "chainright-provenance-bundle/2")

ZERO = "0x" + "00" * 20

_RIGHTS = ("(string tokenURI,bytes cid,bytes32 contentHash,address royaltyReceiver,uint96 royaltyBps,"
           "address[] splitRecipients,uint16[] splitBps,bytes32 licenseTermsHash,bytes32 provenanceHash)")
_MOVE = "uint256 indexed transferId,address indexed collection,uint256 indexed tokenId"
_CANONICAL = (
    "Transfer(address indexed from,address indexed to,uint256 indexed tokenId)",
    "ConsecutiveTransfer(uint256 indexed fromTokenId,uint256 toTokenId,address indexed fromAddress,"
    "address indexed toAddress)",
    "WorkMinted(uint256 indexed workId,bytes32 indexed contentHash,uint256 quantity)",
    f"TokenLocked({_MOVE},address sender,address recipient,uint256 destChainId,{_RIGHTS} rights)",
    f"TokenUnlocked({_MOVE},address recipient,bytes32 provenanceHash)",
    f"TokenBurned({_MOVE},address sender,address recipient,uint256 destChainId,uint256 wrappedTokenId,"
    f"{_RIGHTS} rights)",
    f"TokenMinted({_MOVE},uint256 wrappedTokenId,address recipient)",
    "RightsRegistered(bytes32 indexed contentHash,address indexed creator,address indexed collection,"
    "uint256 tokenId,bytes cid)",
    "RightsBound(bytes32 indexed contentHash,address indexed creator,address indexed collection,"
    "uint256 tokenId)",
    "IdentityRegistered(address indexed account,uint8 level,bytes2 country,uint64 expiresAt,"
    "address indexed by)",
    "IdentityUpdated(address indexed account,uint8 level,bytes2 country,uint64 expiresAt,address indexed by)",
    "IdentityRevoked(address indexed account,address indexed by)",
    "EscrowCreated(uint256 indexed escrowId,address indexed buyer,address indexed seller,address arbitrator,"
    "address currency,uint256 total,uint8 milestoneCount,uint40 reviewPeriod,uint16 feeBps)",
    "MilestoneDelivered(uint256 indexed escrowId,uint256 indexed index,bytes32 contentHash,string cid)",
    "MilestoneDisputed(uint256 indexed escrowId,uint256 indexed index)",
    "MilestoneReleased(uint256 indexed escrowId,uint256 indexed index,address indexed by,uint256 toSeller,"
    "uint256 fee)",
    "DisputeResolved(uint256 indexed escrowId,uint256 indexed index,uint16 sellerBps,uint256 toSeller,"
    "uint256 fee,uint256 toBuyer)",
)
CANONICAL_EVENTS: dict[str, str] = {text.partition("(")[0]: text for text in _CANONICAL}
"""The events the verifier interprets, as the platform's contracts declare them (name, input names,
types, indexed flags): a bundle's fragment for such an event must be exactly this, since input
names are not part of topic0 and a relabelled fragment could make a log say something else
(``tests/unit/test_provenance_verify.py`` checks the table against the compiled ABIs)."""
CANONICAL_DELIVER = ("deliver((uint256 sourceChainId,uint256 destChainId,address sourceBridge,"
                     "address destBridge,uint256 transferId,address collection,uint256 tokenId,"
                     f"address sender,address recipient,{_RIGHTS} rights) message,bytes[] signatures)")
CANONICAL_SOURCES: dict[str, tuple[str, ...]] = {
    "Transfer": ("CreatorCollection", "WrappedCollection"), "ConsecutiveTransfer": ("CreatorCollection",),
    "WorkMinted": ("CreatorCollection",), "TokenLocked": ("HomeLockbox",), "TokenUnlocked": ("HomeLockbox",),
    "TokenBurned": ("RemoteBridge",), "TokenMinted": ("RemoteBridge",),
    "RightsRegistered": ("RightsRegistry",), "RightsBound": ("RightsRegistry",),
    "IdentityRegistered": ("IdentityRegistry",), "IdentityUpdated": ("IdentityRegistry",),
    "IdentityRevoked": ("IdentityRegistry",), "EscrowCreated": ("MilestoneEscrow",),
    "MilestoneDelivered": ("MilestoneEscrow",), "MilestoneDisputed": ("MilestoneEscrow",),
    "MilestoneReleased": ("MilestoneEscrow",), "DisputeResolved": ("MilestoneEscrow",),
}
"""Which compiled contracts declare each canonical event (for the test that keeps the table current)."""


def _input_text(item: Mapping[str, Any]) -> str:
    typ = str(item["type"])
    if typ.startswith("tuple"):
        typ = "(" + ",".join(_input_text(c) for c in item["components"]) + ")" + typ[len("tuple"):]
    return f"{typ}{' indexed' if item.get('indexed') else ''} {item['name']}"


def fragment_text(fragment: Mapping[str, Any]) -> str:
    """An ABI fragment as one line with what a log's meaning depends on: name, input types and
    names, indexed flags (``anonymous`` appended for an anonymous event)."""
    text = f"{fragment['name']}({','.join(_input_text(i) for i in fragment['inputs'])})"
    return text + (" anonymous" if fragment.get("anonymous") else "")


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    detail: str = ""


@dataclass(frozen=True)
class TrustedHead:
    """A block hash the auditor has from a source independent of the bundle (their own node, an
    explorer, the consortium's operators): ``chain_id`` None means the chain the story leaves the
    token on."""

    block: int
    hash: str
    chain_id: int | None = None


@dataclass
class Verdict:
    checks: list[Check] = field(default_factory=list)
    owner_state: str = "the bundle carries no storage proofs"
    """Why the owner is not state-proven (empty once a storage proof proves it)."""
    owner_at: dict[str, Any] | None = None
    """Where a storage proof proves the owner: chain_id, block, hash, time (the header's timestamp),
    owner; ``head`` True when that is at (or unchanged up to) a trusted head."""
    work: dict[str, Any] | None = None
    """The work the token is proven to be: chain_id, collection, token_id, work_id, content_hash,
    creator, registry."""
    completeness: list[str] = field(default_factory=list)
    """What the bundle proves about events it does not list, in words."""
    pinned: list[str] = field(default_factory=list)
    """Trust anchors the auditor gave and the bundle matched."""
    unpinned: list[str] = field(default_factory=list)
    """Trust anchors the auditor did not give, with what that leaves open."""
    unavailable: list[str] = field(default_factory=list)
    """Checks the bundle says its chain's engine cannot support (its headers' hashes and links),
    so they were not made: a verdict with any is not a verification of those claims."""

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and bool(self.checks)

    @property
    def owner_proven(self) -> bool:
        """Whether a storage proof proves the story's last holder is the owner at the proof's block
        (``owner_at``; a verdict can be ok without: a chain without eth_getProof, or a token in
        flight). Not that it is the owner now: see ``owner_current``."""
        return self.ok and not self.owner_state

    @property
    def owner_current(self) -> bool:
        """Whether the owner is proven at a trusted head (the auditor's own idea of "now")."""
        return self.owner_proven and self.owner_at is not None and bool(self.owner_at.get("head"))

    @property
    def fully_checked(self) -> bool:
        """Whether the verdict is ok and every check the module docstring lists was made."""
        return self.ok and not self.unavailable

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
            args[inp["name"]] = jsonable(abi_decode([typ], topic)[0])
    if plain:
        values = abi_decode([abi_type(i) for i in plain], _b(data))
        for inp, value in zip(plain, values, strict=True):
            args[inp["name"]] = jsonable(value)
    return args


def headers_unavailable(bundle: Mapping[str, Any], chain_id: Any) -> Mapping[str, Any] | None:
    """The bundle's mark that chain ``chain_id``'s headers cannot be checked (its engine's block
    hashes are not keccak(RLP(header))), or None when they are to be checked."""
    mark = (bundle.get("header_proofs") or {}).get(str(chain_id))
    return mark if isinstance(mark, Mapping) and mark.get("available") is False else None


def _verify_headers(bundle: Mapping[str, Any], verdict: Verdict,
                    validators: Mapping[int, set[str]]) -> None:
    for chain_id, headers in sorted(bundle.get("headers", {}).items(), key=lambda kv: int(kv[0])):
        numbers = sorted(int(n) for n in headers)
        previous = None
        mark = headers_unavailable(bundle, chain_id)
        if mark is not None:
            reason = str(mark.get("reason", ""))[:300]
            engine = str(mark.get("engine", "?"))[:40]
            verdict.add(True, f"chain {chain_id}: header proofs", f"not available on this engine ({engine}): "
                                                                  f"{reason}")
            verdict.unavailable.append(f"chain {chain_id} ({engine}): the headers' hashes and links "
                                       f"({reason}); the receipts are proven against the bundle's own "
                                       "headers only")
            if validators.get(int(chain_id)):
                verdict.add(False, f"chain {chain_id}: seal", "a validator set was given, but this chain's "
                            "headers are marked not checkable: no seal can be checked")
        for number in numbers:
            header = headers[str(number)]
            where = f"chain {chain_id} block {number}"
            if not verdict.add(int(str(header["number"]), 16) == number, f"{where}: header number",
                               "the header's number is not the block it is filed under"):
                continue
            if mark is not None:
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
    fragment = entry["abi"]
    named = fragment.get("name") if isinstance(fragment, Mapping) else None
    if not verdict.add(named == entry["event"], f"{where}: event name",
                       f"the bundle calls the log {entry['event']}, its ABI fragment is {named}"):
        return False
    canonical = CANONICAL_EVENTS.get(str(entry["event"]))
    if canonical is not None:
        try:
            text = fragment_text(fragment)
        except (KeyError, TypeError) as exc:
            text = f"malformed ({exc})"
        if not verdict.add(text == canonical, f"{where}: event ABI",
                           f"the bundle's fragment is {text}, the platform's event is {canonical}"):
            return False
    try:
        decoded = decode_log(fragment, log["topics"], log["data"])
    except Exception as exc:  # a malformed fragment or log cannot be decoded
        return verdict.add(False, f"{where}: decode", f"the log does not decode as {entry['event']}: {exc}")
    stated = {k: _norm(v) for k, v in entry["args"].items()}
    actual = {k: _norm(v) for k, v in decoded.items()}
    return verdict.add(stated == actual, f"{where}: arguments",
                       f"the bundle states {stated}, the log says {actual}")


Key = tuple[int, str, int]
"""A token on one chain: (chain id, contract address in lower case, token id)."""
RIGHTS_FIELDS = ("tokenURI", "cid", "contentHash", "royaltyReceiver", "royaltyBps", "splitRecipients",
                 "splitBps", "licenseTermsHash", "provenanceHash")
MASK160 = (1 << 160) - 1


def _key(chain_id: Any, address: Any, token_id: Any) -> Key:
    return int(chain_id), str(address).lower(), int(token_id)


def _moved(entry: Mapping[str, Any], live: Key | None) -> tuple[Key, str, str] | None:
    """(token, from, to) when the event moves a token (ERC-721 Transfer, or an ERC-2309 range
    covering the live token), else None."""
    args = entry["args"]
    if entry["event"] == "Transfer" and "tokenId" in args:
        return _key(entry["chain_id"], entry["address"], args["tokenId"]), str(args["from"]), str(args["to"])
    if entry["event"] == "ConsecutiveTransfer":
        first, last = int(args["fromTokenId"]), int(args["toTokenId"])
        key = _key(entry["chain_id"], entry["address"], first)
        if live is not None and live[:2] == key[:2] and first <= live[2] <= last:
            key = live
        return key, str(args["fromAddress"]), str(args["toAddress"])
    return None


def _same(a: Any, b: Any) -> bool:
    return bool(_norm(a) == _norm(b))


def _message_of(entry: Mapping[str, Any], header: Mapping[str, Any]) -> dict[str, Any]:
    """The BridgeMessage the delivery's transaction carried (raises ValueError naming the problem)."""
    carried = entry.get("tx")
    if not carried or not entry.get("call_abi"):
        raise ValueError("the bundle does not carry the delivery's transaction")
    raw = _b(carried["raw"])
    try:
        proven = verify_proof(_b(header["transactionsRoot"]), rlp.encode(int(entry["tx_index"])),
                              [_b(n) for n in carried["proof"]])
    except ProofError as exc:
        raise ValueError(f"the transaction proof is broken: {exc}") from None
    if proven != raw:
        raise ValueError("the transaction is not the one the block's transactions root commits to")
    to, data = call_of(raw)
    if to is None or to.lower() != str(entry["address"]).lower():
        raise ValueError(f"the transaction calls {to}, not the bridge {entry['address']}")
    fragment = entry["call_abi"]
    if fragment_text(fragment) != CANONICAL_DELIVER:
        raise ValueError(f"the bundle's deliver fragment is {fragment_text(fragment)}, not the platform's "
                         f"{CANONICAL_DELIVER}")
    types = [abi_type(i) for i in fragment["inputs"]]
    selector = keccak(text=f"{fragment['name']}({','.join(types)})")[:4]
    if fragment["name"] != "deliver" or data[:4] != selector:
        raise ValueError("the transaction does not call deliver(message, signatures)")
    message = abi_decode(types, data[4:])[0]
    names = [c["name"] for c in fragment["inputs"][0]["components"]]
    out = dict(zip(names, (jsonable(v) for v in message), strict=True))
    out["rights"] = dict(zip(RIGHTS_FIELDS, out["rights"], strict=True))
    return out


def _rights(args: Mapping[str, Any]) -> dict[str, Any]:
    value = args.get("rights") or []
    return dict(zip(RIGHTS_FIELDS, value, strict=False))


def _hop_mismatches(source: Mapping[str, Any], delivery: Mapping[str, Any],
                    message: Mapping[str, Any]) -> list[str]:
    """The fields on which a departure, the message that delivered it and the delivery event
    disagree (the message binds every one of them: validators signed it)."""
    src = source["args"]
    expected = {
        "sourceChainId": int(source["chain_id"]), "destChainId": int(delivery["chain_id"]),
        "sourceBridge": source["address"], "destBridge": delivery["address"],
        "transferId": src["transferId"], "collection": src["collection"], "tokenId": src["tokenId"],
        "sender": src["sender"], "recipient": src["recipient"],
    }
    wrong = [k for k, v in expected.items() if not _same(message.get(k), v)]
    if not _same(src.get("destChainId"), delivery["chain_id"]):
        wrong.append("destChainId (departure)")
    rights = _rights(src)
    wrong += [f"rights.{k}" for k in RIGHTS_FIELDS if not _same(message["rights"].get(k), rights.get(k))]
    got = delivery["args"]
    wrong += [f"{k} (delivery event)" for k in ("transferId", "collection", "tokenId", "recipient")
              if not _same(got.get(k), message.get(k))]
    if delivery["event"] == "TokenUnlocked" and \
            not _same(got.get("provenanceHash"), message["rights"].get("provenanceHash")):
        wrong.append("provenanceHash (delivery event)")
    wrapped = (int(str(message["collection"]), 16) << 96) | int(message["tokenId"])
    if delivery["event"] == "TokenMinted" and int(got.get("wrappedTokenId", -1)) != wrapped:
        wrong.append("wrappedTokenId (delivery event)")
    return wrong


def _event_mismatches(source: Mapping[str, Any], delivery: Mapping[str, Any]) -> list[str]:
    """Without the delivery's message: the fields on which the departure and the delivery event
    (its proven receipt's log) disagree."""
    src, got = source["args"], delivery["args"]
    wrong = [f"{k} (delivery event)" for k in ("collection", "tokenId", "recipient")
             if not _same(got.get(k), src.get(k))]
    if not _same(src.get("destChainId"), delivery["chain_id"]):
        wrong.append("destChainId (departure)")
    if delivery["event"] == "TokenMinted":
        wrapped = (int(str(src.get("collection")), 16) << 96) | int(src.get("tokenId") or 0)
        if int(got.get("wrappedTokenId", -1)) != wrapped:
            wrong.append("wrappedTokenId (delivery event)")
    return wrong


def _minted_collection(delivery: Mapping[str, Any], wrapped_id: int, recipient: str) -> str | None:
    """The contract that minted ``wrapped_id`` to ``recipient`` in the delivery's (proven) receipt."""
    transfer = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
    for log in delivery["receipt"]["logs"]:
        topics = [str(t).lower() for t in log["topics"]]
        if len(topics) == 4 and topics[0] == transfer and int(topics[1], 16) == 0 \
                and int(topics[2], 16) == int(recipient, 16) and int(topics[3], 16) == wrapped_id:
            return str(log["address"])
    return None


@dataclass
class _Walk:
    """Where the token is while the story is read: ``live`` on one chain, or in flight."""

    live: Key | None
    owners: dict[Key, str] = field(default_factory=dict)
    previous: dict[Key, str] = field(default_factory=dict)
    in_flight: Mapping[str, Any] | None = None
    arrival_to: str | None = None
    content_hash: str | None = None

    def owner(self, key: Key) -> str:
        return self.owners.get(key, ZERO)


def _processing_order(events: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events with each delivery moved to the front of its transaction: a delivery's mint or
    release is logged before the delivery event, but it is the delivery that brings the token."""
    first: dict[tuple[int, str], int] = {}
    for i, e in enumerate(events):
        first.setdefault((int(e["chain_id"]), str(e["tx_hash"]).lower()), i)
    return [e for _, _, _, e in sorted(
        (first[(int(e["chain_id"]), str(e["tx_hash"]).lower())], 0 if e["event"] in ARRIVALS else 1, i, e)
        for i, e in enumerate(events))]


def _verify_story(bundle: Mapping[str, Any], verdict: Verdict, visited: set[Key] | None = None) -> Key | None:
    """Walk the story (rules in the module docstring); returns where it leaves the token (None when
    broken or in flight). ``visited`` receives every token the story has it live as (home, wrapped)."""
    subject = bundle["subject"]
    home = _key(subject["chain_id"], subject["collection"], subject["token_id"])
    walk = _Walk(live=home)
    seen = visited if visited is not None else set()
    seen.add(home)
    headers = bundle.get("headers", {})
    last_position: dict[int, tuple[int, int]] = {}
    for entry in bundle["events"]:
        chain_id = int(entry["chain_id"])
        position = (int(entry["block_number"]), int(entry["log_index"]))
        where = f"chain {chain_id} block {position[0]} log {position[1]} ({entry['event']})"
        if chain_id in last_position and not verdict.add(position > last_position[chain_id],
                                                         f"{where}: order", "events out of chain order"):
            return None
        last_position[chain_id] = position
        if entry["event"] in ("RightsRegistered", "WorkMinted") and entry["args"].get("contentHash"):
            walk.content_hash = walk.content_hash or str(entry["args"]["contentHash"]).lower()
    for entry in _processing_order(list(bundle["events"])):
        where = f"chain {entry['chain_id']} block {entry['block_number']} log {entry['log_index']} " \
                f"({entry['event']})"
        moved = _moved(entry, walk.live)
        if moved is not None:
            if not _step_move(walk, moved, where, verdict):
                return None
        elif entry["event"] in DEPARTURES:
            if not _step_departure(walk, entry, where, verdict):
                return None
        elif entry["event"] in ARRIVALS:
            header = headers.get(str(entry["chain_id"]), {}).get(str(entry["block_number"]), {})
            marked = headers_unavailable(bundle, entry["chain_id"]) is not None
            if not _step_arrival(walk, entry, header, home, where, verdict, marked):
                return None
            if walk.live is not None:
                seen.add(walk.live)
    if walk.arrival_to is not None:
        verdict.add(False, "bridge hop", f"a delivery names {walk.arrival_to}, but the story never "
                    "moves the token to them")
        return None
    if walk.live is None:
        assert walk.in_flight is not None
        verdict.add(True, "story", f"the token is in flight: transfer {walk.in_flight['args']['transferId']} "
                    f"left chain {walk.in_flight['chain_id']} and is not delivered in this bundle")
        return None
    verdict.add(True, "story", f"the token ends with {walk.owner(walk.live)} on chain {walk.live[0]} "
                f"(token {walk.live[2]} of {walk.live[1]})")
    return walk.live


def _step_move(walk: _Walk, moved: tuple[Key, str, str], where: str, verdict: Verdict) -> bool:
    key, sender, receiver = moved
    if key != walk.live:
        if walk.live is None:
            assert walk.in_flight is not None
            return verdict.add(False, f"{where}: bridge hop",
                               f"the token moves on chain {key[0]} while it is in flight with transfer "
                               f"{walk.in_flight['args']['transferId']}, and the story has no delivery of it")
        return verdict.add(False, f"{where}: transfer chain",
                           f"token {key[2]} of {key[1]} on chain {key[0]} moves, but the token is on chain "
                           f"{walk.live[0]} as token {walk.live[2]} of {walk.live[1]}")
    if not verdict.add(sender.lower() == walk.owner(key).lower(), f"{where}: transfer chain",
                       f"the token moves from {sender}, but its owner was {walk.owner(key)}"):
        return False
    if walk.arrival_to is not None:
        if not verdict.add(receiver.lower() == walk.arrival_to.lower(), f"{where}: bridge hop recipient",
                           f"the token arrives with {receiver}, the message names {walk.arrival_to}"):
            return False
        walk.arrival_to = None
    walk.previous[key] = walk.owner(key)
    walk.owners[key] = receiver
    return True


def _step_departure(walk: _Walk, entry: Mapping[str, Any], where: str, verdict: Verdict) -> bool:
    args = entry["args"]
    live = walk.live
    if not verdict.add(live is not None and live[0] == int(entry["chain_id"]), f"{where}: bridge hop",
                       "the token leaves a chain it is not on"):
        return False
    assert live is not None
    transfer_id = int(args["transferId"])
    checks = [
        (transfer_id >> 192 == live[0] and (transfer_id >> 32) & MASK160 == int(str(entry["address"]), 16),
         "the transfer id does not encode this chain and bridge"),
        (walk.previous.get(live, ZERO).lower() == str(args["sender"]).lower(),
         f"the sender {args['sender']} is not the holder {walk.previous.get(live, ZERO)}"),
    ]
    if entry["event"] == "TokenLocked":
        checks.append((live == _key(entry["chain_id"], args["collection"], args["tokenId"]),
                       "the lock names another token"))
        checks.append((walk.owner(live).lower() == str(entry["address"]).lower(),
                       f"the lockbox {entry['address']} does not hold the token ({walk.owner(live)} does)"))
    else:
        wrapped = (int(str(args["collection"]), 16) << 96) | int(args["tokenId"])
        checks.append((live[2] == wrapped == int(args["wrappedTokenId"]), "the burn names another token"))
        checks.append((walk.owner(live) == ZERO, f"the token was not burned ({walk.owner(live)} holds it)"))
    broken = [why for ok, why in checks if not ok]
    if not verdict.add(not broken, f"{where}: bridge hop", "; ".join(broken)):
        return False
    content = _rights(args).get("contentHash")
    if walk.content_hash is not None and not verdict.add(
            _same(content, walk.content_hash), f"{where}: bridge hop metadata",
            f"the token leaves with content hash {content}, the story registers {walk.content_hash}"):
        return False
    walk.live, walk.in_flight = None, entry
    return True


def _step_arrival(walk: _Walk, entry: Mapping[str, Any], header: Mapping[str, Any], home: Key, where: str,
                  verdict: Verdict, tx_may_be_unavailable: bool = False) -> bool:
    source = walk.in_flight
    if not verdict.add(source is not None, f"{where}: bridge hop",
                       "a delivery with no departure of the token before it in the story"):
        return False
    assert source is not None
    if not verdict.add(_same(source["args"]["transferId"], entry["args"].get("transferId")),
                       f"{where}: bridge hop",
                       f"delivers transfer {entry['args'].get('transferId')}, but the token left with "
                       f"transfer {source['args']['transferId']}"):
        return False
    carried = entry.get("tx")
    if isinstance(carried, Mapping) and carried.get("available") is False:
        reason = str(carried.get("reason", ""))[:300]
        if not verdict.add(tx_may_be_unavailable, f"{where}: bridge hop message",
                           f"the bundle does not carry the delivery's transaction ({reason}); only a chain "
                           "whose engine the bundle marks in header_proofs may leave it out"):
            return False
        verdict.add(True, f"{where}: bridge hop message", f"not available: {reason}")
        verdict.unavailable.append(f"{where}: the delivery's signed message ({reason}); the hop is matched "
                                   "by the delivery event's fields only, not by the message's rights fields")
        message = {k: entry["args"].get(k) for k in ("collection", "tokenId", "recipient")}
        mismatched = _event_mismatches(source, entry)
    else:
        try:
            message = _message_of(entry, header)
        except (ValueError, KeyError, TypeError) as exc:
            return verdict.add(False, f"{where}: bridge hop message", str(exc))
        mismatched = _hop_mismatches(source, entry, message)
    if not verdict.add(not mismatched, f"{where}: bridge hop metadata",
                       f"the departure and its delivery disagree on {', '.join(mismatched)}"):
        return False
    chain_id = int(entry["chain_id"])
    recipient = str(message["recipient"])
    if entry["event"] == "TokenMinted":
        wrapped_id = int(entry["args"]["wrappedTokenId"])
        minter = _minted_collection(entry, wrapped_id, recipient)
        if not verdict.add(minter is not None, f"{where}: bridge hop",
                           "the delivery's receipt mints no such wrapped token to the recipient"):
            return False
        arrived = _key(chain_id, minter, wrapped_id)
        expected_owner = ZERO
    else:
        arrived = _key(chain_id, message["collection"], message["tokenId"])
        expected_owner = str(entry["address"])
        if not verdict.add(arrived == home, f"{where}: bridge hop", "the token comes home as another token"):
            return False
    if not verdict.add(walk.owner(arrived).lower() == expected_owner.lower(), f"{where}: bridge hop",
                       f"on arrival the token is held by {walk.owner(arrived)}, not {expected_owner}"):
        return False
    verdict.add(True, f"{where}: bridge hop",
                f"transfer {source['args']['transferId']}: chain {source['chain_id']} -> {chain_id}, "
                f"to {recipient}")
    walk.live, walk.in_flight, walk.arrival_to = arrived, None, recipient
    return True


REGISTRATIONS = ("RightsRegistered", "RightsBound")
WORK_RECORDS = ("WorkMinted", *REGISTRATIONS)


def _tx_of(entry: Mapping[str, Any]) -> tuple[int, int, int]:
    """The proven transaction of an entry: (chain, block, index in the block: the receipt proof's key)."""
    return int(entry["chain_id"]), int(entry["block_number"]), int(entry["tx_index"])


def _where(entry: Mapping[str, Any]) -> str:
    return (f"chain {entry['chain_id']} block {entry['block_number']} log {entry['log_index']} "
            f"({entry['event']})")


def _verify_work(bundle: Mapping[str, Any],
                 verdict: Verdict) -> tuple[dict[str, Any], Mapping[str, Any]] | None:
    """Which registered work the subject token is (rule 4 of the module docstring); returns the
    work and its registration entry, or None (with a failed check) when the bundle does not prove it."""
    subject = bundle["subject"]
    home = _key(subject["chain_id"], subject["collection"], subject["token_id"])
    chain_id, collection, token_id = home
    events = bundle["events"]
    label = f"token {token_id} of {collection} on chain {chain_id}"

    def at_home(e: Mapping[str, Any]) -> bool:
        return int(e["chain_id"]) == chain_id and str(e["address"]).lower() == collection

    mint = None
    for e in events:
        moved = _moved(e, home) if at_home(e) else None
        if moved is not None and moved[0] == home and int(moved[1], 16) == 0:
            mint = e
            break
    if not verdict.add(mint is not None, "work: mint", f"the bundle proves no mint of {label}"):
        return None
    assert mint is not None
    minted = [e for e in events if e["event"] == "WorkMinted"]
    binding = next((e for e in minted if at_home(e) and _tx_of(e) == _tx_of(mint)
                    and 0 <= token_id - int(e["args"]["workId"]) < int(e["args"]["quantity"])), None)
    if not verdict.add(binding is not None, "work: WorkMinted",
                       f"no WorkMinted of {collection} covering token {token_id} in the mint's transaction "
                       f"(chain {chain_id} block {mint['block_number']}): the bundle does not show which "
                       "work the token is"):
        return None
    assert binding is not None
    work_id, content = int(binding["args"]["workId"]), str(binding["args"]["contentHash"]).lower()
    for e in minted:
        if not verdict.add(at_home(e) and int(e["args"]["workId"]) == work_id
                           and _same(e["args"]["contentHash"], content), f"{_where(e)}: work",
                           f"mints work {e['args']['workId']} with content hash {e['args']['contentHash']} "
                           f"at {e['address']}; the token is work {work_id} of {collection} (content hash "
                           f"{content})"):
            return None

    def names_work(e: Mapping[str, Any]) -> bool:
        return int(e["chain_id"]) == chain_id and _same(e["args"].get("collection"), collection) \
            and int(e["args"].get("tokenId", -1)) == work_id

    registrations = [e for e in events if e["event"] in REGISTRATIONS]
    registration = next((e for e in registrations if names_work(e) and _tx_of(e) == _tx_of(mint)), None)
    if not verdict.add(registration is not None, "work: registration",
                       "no rights registration (RightsRegistered or RightsBound) in the mint's transaction "
                       f"names {collection} work {work_id}: the bundle does not show the token registered as "
                       "that work"):
        return None
    assert registration is not None
    creator = str(registration["args"]["creator"])
    for e in registrations:
        args = e["args"]
        earlier = (e["event"] == "RightsRegistered" and registration["event"] == "RightsBound"
                   and int(e["chain_id"]) == chain_id and _same(args.get("collection"), ZERO)
                   and int(args.get("tokenId", -1)) == 0)  # registered before the mint, bound by it
        if not verdict.add((names_work(e) or earlier) and _same(args.get("contentHash"), content)
                           and _same(args.get("creator"), creator)
                           and _same(e["address"], registration["address"]),
                           f"{_where(e)}: work",
                           f"registers content hash {args.get('contentHash')} by {args.get('creator')} for "
                           f"{args.get('collection')} work {args.get('tokenId')} in {e['address']}; the "
                           f"token is work {work_id} of {collection} (content hash {content}, creator "
                           f"{creator}, registered in {registration['address']})"):
            return None
    work = {"chain_id": chain_id, "collection": collection, "token_id": token_id, "work_id": work_id,
            "content_hash": content, "creator": creator, "registry": str(registration["address"]).lower()}
    verdict.work = work
    verdict.add(True, "work", f"{label} was minted as work {work_id} with content hash {content}, registered "
                              f"to {creator} by {registration['address']} in the same transaction (chain "
                              f"{chain_id} block {mint['block_number']})")
    return work, registration


def _fragments_by_topic() -> dict[bytes, list[Mapping[str, Any]]]:
    table: dict[bytes, list[Mapping[str, Any]]] = {}
    for fragment in TOKEN_EVENT_ABIS:
        table.setdefault(bytes(event_abi_to_log_topic(dict(fragment))), []).append(fragment)  # type: ignore[arg-type]
    return table


TOKEN_EVENTS_BY_TOPIC = _fragments_by_topic()


def _decode_token_event(log: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The log as one of the platform's token events (``TOKEN_EVENT_ABIS``), or None."""
    topics = list(log["topics"])
    if not topics:
        return None
    for fragment in TOKEN_EVENTS_BY_TOPIC.get(_b(topics[0]), []):
        try:
            return str(fragment["name"]), decode_log(fragment, topics, str(log["data"]))
        except Exception:  # noqa: S112  another event with this signature and layout (ERC-20 Transfer)
            continue
    return None


def _concerns(chain_id: int, log: Mapping[str, Any], name: str, args: Mapping[str, Any], home: Key,
              visited: set[Key], work_id: int | None) -> bool:
    """Whether a log is about the token the way the index decides it (``record.index.decoder``): its
    token contract (a ``collection``/``token``/``nft`` argument, else the emitter) and token id
    (``tokenId``, ``id``, ``workId``, ``wrappedTokenId``) are a token the story has it live as, or
    the home token in a bridge event on another chain, or its work in a work record."""
    if name == "ConsecutiveTransfer":
        return (chain_id, str(log["address"]).lower()) == home[:2] \
            and int(args["fromTokenId"]) <= home[2] <= int(args["toTokenId"])
    ref = next((str(args[n]) for n in ("collection", "token", "nft")
                if isinstance(args.get(n), str) and len(str(args[n])) == 42), str(log["address"])).lower()
    token = next((args[n] for n in ("tokenId", "id", "workId", "wrappedTokenId") if n in args), None)
    if token is None:
        return False
    key = (chain_id, ref, int(token))
    if key in visited:
        return True
    if (ref, int(token)) == home[1:] and name in DEPARTURES + ARRIVALS:
        return True
    return work_id is not None and key == (home[0], home[1], work_id) and name in WORK_RECORDS


def _verify_complete(bundle: Mapping[str, Any], verdict: Verdict, visited: set[Key],
                     work_id: int | None) -> None:
    """Within every transaction the bundle proves, every log about the token is in the story
    (rule 5 of the module docstring): the receipts are proven whole, so the story is re-derived
    from them and compared."""
    subject = bundle["subject"]
    home = _key(subject["chain_id"], subject["collection"], subject["token_id"])
    listed: dict[tuple[int, int, int, int], Mapping[str, Any]] = {}
    receipts: dict[tuple[int, int, int], Mapping[str, Any]] = {}
    for e in bundle["events"]:
        tx = _tx_of(e)
        spot = (*tx, int(e["log_position"]))
        if spot in listed:
            verdict.add(False, f"{_where(e)}: completeness",
                        f"the same log is listed twice (also as {_where(listed[spot])})")
            return
        listed[spot] = e
        receipts.setdefault(tx, e["receipt"])
    for tx, receipt in receipts.items():
        for position, log in enumerate(receipt["logs"]):
            decoded = _decode_token_event(log)
            if decoded is None or (*tx, position) in listed:
                continue
            name, args = decoded
            if _concerns(tx[0], log, name, args, home, visited, work_id):
                verdict.add(False, f"chain {tx[0]} block {tx[1]} transaction {tx[2]}: completeness",
                            f"the transaction's proven receipt holds {name} (its log {position}, emitted by "
                            f"{log['address']}) about the token, and the story leaves it out: {args}")
                return
    verdict.add(True, "completeness of the proven transactions",
                f"every log about the token in the {len(receipts)} transactions the bundle proves is in the "
                "story")


TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")


def _bloom_may_name(header: Mapping[str, Any], key: Key, transfer: bool = False) -> bool:
    """Whether the block's logs bloom allows a log emitted by (or naming as a topic) ``key``'s
    contract with its token id as a topic (a Transfer, Approval, UpdateUser, ... of the token);
    with ``transfer``, only a Transfer (its emitter the contract)."""
    bloom = _b(header["logsBloom"])
    address = bytes.fromhex(key[1][2:])
    token = bloom_may_contain(bloom, key[2].to_bytes(32, "big"))
    if transfer:
        return token and bloom_may_contain(bloom, address) and bloom_may_contain(bloom, TRANSFER_TOPIC)
    return token and (bloom_may_contain(bloom, address) or bloom_may_contain(bloom, address.rjust(32, b"\0")))


def _bloom_statement(bundle: Mapping[str, Any], verdict: Verdict, visited: set[Key]) -> None:
    """What the headers' logs blooms prove absent between the story's events (stated, not failed:
    a bloom's false positive is no evidence of an omission)."""
    headers = bundle.get("headers", {})
    for chain_id in sorted(int(c) for c in headers):
        keys = sorted(k for k in visited if k[0] == chain_id)
        story_blocks = {int(e["block_number"]) for e in bundle["events"] if int(e["chain_id"]) == chain_id}
        if not keys or not story_blocks:
            continue
        chain = headers[str(chain_id)]
        span = [n for n in sorted(int(n) for n in chain) if n >= min(story_blocks)]
        unsure = [n for n in span if n not in story_blocks
                  and any(_bloom_may_name(chain[str(n)], k) for k in keys)]
        tokens = ", ".join(f"token {k[2]} of {k[1]}" for k in keys)
        text = (f"chain {chain_id}, blocks {span[0]} to {span[-1]}: the headers' logsBloom rules out any log "
                f"emitted by or naming {tokens} with the token id as a topic (its transfers, approvals, "
                f"rentals) in the {len(span) - len(story_blocks) - len(unsure)} blocks without a story event")
        if unsure:
            text += f"; it cannot rule one out in blocks {', '.join(map(str, unsure[:10]))}" + \
                (" and more" if len(unsure) > 10 else "")
        verdict.completeness.append(text + "; in the blocks with a story event, other transactions are not "
                                           "proven to hold none")
    verdict.completeness.append("logs that carry the token id only in their data (e.g. OrderFilled, "
                                "LicenseGranted) are proven absent only within the proven transactions")


def _verify_heads(bundle: Mapping[str, Any], verdict: Verdict, final: Key | None,
                  heads: Sequence[TrustedHead], now: int | None, max_age: int | None) -> None:
    """Trusted heads and freshness (rule 8 of the module docstring)."""
    headers = bundle.get("headers", {})
    for head in heads:
        chain_id = head.chain_id if head.chain_id is not None else \
            (final[0] if final is not None else int(bundle["subject"]["chain_id"]))
        chain = headers.get(str(chain_id), {})
        what = f"chain {chain_id}: trusted head"
        if headers_unavailable(bundle, chain_id) is not None:
            verdict.add(False, what, f"the bundle marks chain {chain_id}'s headers not checkable on its "
                                     "engine: a block hash from a trusted source cannot anchor them offline")
            continue
        header = chain.get(str(head.block))
        if header is None:
            top = max((int(n) for n in chain), default=None)
            verdict.add(False, what, f"the bundle's headers on chain {chain_id} end at block {top}; the "
                                     f"trusted head is block {head.block}: the story is not shown to reach "
                                     "it (re-export the bundle, or give the hash of a block the bundle "
                                     "holds)")
            continue
        if not verdict.add(_same(header["hash"], head.hash), what,
                           f"the bundle's block {head.block} is {header['hash']}, the trusted head is "
                           f"{head.hash}: the bundle's headers are not those of the chain the auditor "
                           "trusts"):
            continue
        verdict.pinned.append(f"chain {chain_id}: head block {head.block} {str(head.hash).lower()} (the "
                              "bundle's headers up to it link to it by parent hash)")
        at = verdict.owner_at
        if at is None or at["chain_id"] != chain_id or final is None or final[0] != chain_id:
            verdict.add(True, what, f"block {head.block} is the bundle's; the headers before it link to it")
            continue
        if not verdict.add(at["block"] <= head.block, what,
                           f"the owner is proven at block {at['block']}, after the trusted head "
                           f"{head.block}: the headers after a trusted head are not anchored; give a later "
                           "head"):
            continue
        unsure = [n for n in range(at["block"] + 1, head.block + 1)
                  if _bloom_may_name(chain[str(n)], final, transfer=True)]
        if not verdict.add(not unsure, what,
                           f"the logsBloom of block {unsure[0] if unsure else ''} between the owner proof "
                           f"(block {at['block']}) and the trusted head (block {head.block}) may hold a "
                           "transfer of the token: the owner at the head is not proven (export a bundle "
                           "whose state proof is at the head)"):
            continue
        at["head"] = {"block": head.block, "hash": str(header["hash"]).lower(),
                      "time": int(str(header["timestamp"]), 16)}
        verdict.add(True, what, f"block {head.block} is the bundle's and links back to the owner proof's "
                                f"block {at['block']}; the headers' logsBloom rules out a transfer of the "
                                f"token in the {head.block - at['block']} blocks between")
    if max_age is not None:
        at = verdict.owner_at
        if at is None or now is None:
            verdict.add(False, "freshness", "no storage proof dates the owner, so its age cannot be checked")
        else:
            newest = at["head"]["time"] if at.get("head") else at["time"]
            verdict.add(now - newest <= max_age, "freshness",
                        f"the owner is proven as of {when_text(newest)}, {now - newest} s before now (at "
                        f"most {max_age} s allowed; a block's time is what its producer stated)")


def when_text(timestamp: int) -> str:
    """A unix time as UTC text."""
    import datetime

    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _pins(bundle: Mapping[str, Any], verdict: Verdict, validators: Mapping[int, set[str]],
          identity_registry: str | None, rights_registry: str | None, heads: Sequence[TrustedHead],
          final: Key | None) -> None:
    """What the auditor pinned and what was left open (listed in the verdict, pass or fail)."""
    head_chains = {h.chain_id if h.chain_id is not None else
                   (final[0] if final is not None else int(bundle["subject"]["chain_id"])) for h in heads}
    for chain_id in sorted(int(c) for c in bundle.get("headers", {})):
        allowed = validators.get(chain_id)
        if allowed:
            verdict.pinned.append(f"chain {chain_id}: validators {', '.join(sorted(allowed))} (every "
                                  "header's seal)")
        else:
            verdict.unpinned.append(f"chain {chain_id}: no validator set (--validators): who produced the "
                                    "blocks is not checked")
        if chain_id not in head_chains:
            verdict.unpinned.append(f"chain {chain_id}: no trusted head (--trusted-head): the headers are "
                                    "not shown to be that chain's (a look-alike chain with the same id and "
                                    "deterministic addresses gives bundles that verify), and the owner is "
                                    "proven only as of the proof's block")
    for pinned, option, kind, events in (
            (rights_registry, "--rights-registry", "rights registry", REGISTRATIONS),
            (identity_registry, "--identity-registry", "identity registry", IDENTITY_EVENTS)):
        if pinned is not None:
            verdict.pinned.append(f"{kind} {pinned.lower()}")
        elif any(e["event"] in events for e in bundle.get("events", [])):
            verdict.unpinned.append(f"{kind} ({option}): its events are trusted from whichever contract "
                                    "emitted them")
    verdict.unpinned.append("the code at the collection, bridge and marketplace addresses: compare them with "
                            "the deployment registry")


def _verify_state(bundle: Mapping[str, Any], verdict: Verdict, final: Key | None,
                  work: Mapping[str, Any] | None = None) -> None:
    """Storage proofs: the owner where the story leaves the token, and the work's rights record."""
    states = bundle.get("state") or {}
    if final is None:
        verdict.owner_state = "the story leaves the token in flight"
    if not states:
        verdict.add(True, "state proof", "not available: the bundle carries no storage proofs")
        return
    if final is not None:
        verdict.owner_state = f"the bundle proves no owner slot on chain {final[0]}"
    for chain_id, state in sorted(states.items(), key=lambda kv: int(kv[0])):
        if not state.get("available"):
            reason = f"not available: {state.get('reason', '')}"
            verdict.add(True, f"chain {chain_id}: state proof", reason)
            if final is not None and final[0] == int(chain_id):
                verdict.owner_state = f"chain {chain_id}'s state proof is {reason}"
            continue
        accounts = state.get("accounts")
        if not isinstance(accounts, list) or not accounts:
            verdict.add(False, f"chain {chain_id}: state proof",
                        "the state proof is marked available but proves no account")
            continue
        number = int(state["block_number"])
        header = bundle.get("headers", {}).get(str(chain_id), {}).get(str(number))
        if not verdict.add(header is not None, f"chain {chain_id}: state proof header",
                           f"the bundle has no header for block {number}, where the proofs are taken"):
            continue
        assert header is not None
        latest = max((int(e["block_number"]) for e in bundle["events"]
                      if int(e["chain_id"]) == int(chain_id)), default=0)
        if not verdict.add(number >= latest, f"chain {chain_id}: state proof block",
                           f"the proofs are taken at block {number}, before the story's last event there "
                           f"(block {latest})"):
            continue
        recorded = False
        for account in accounts:
            what = f"chain {chain_id} block {number}: state proof of the {account.get('role')}"
            if account.get("role") not in ("owner", "rights record"):
                verdict.add(False, what, "unknown role: a state proof is of the 'owner' or the "
                                         "'rights record'")
                continue
            try:
                slots = proven_slots(_b(header["stateRoot"]), account)
            except (ProofError, ValueError, KeyError) as exc:
                verdict.add(False, what, str(exc))
                continue
            if account["role"] == "owner":
                _check_owner(bundle, verdict, what, int(chain_id), account, slots, final)
                if not verdict.owner_state and verdict.owner_at is None and verdict.first_break is None:
                    verdict.owner_at = {"chain_id": int(chain_id), "block": number,
                                        "hash": str(header["hash"]).lower(),
                                        "time": int(str(header["timestamp"]), 16),
                                        "owner": _last_holder(bundle, final) if final else None, "head": None}
            else:
                recorded = _check_record(verdict, what, account, slots, work) or recorded
        if work is not None and int(chain_id) == work["chain_id"] and not recorded:
            verdict.add(False, f"chain {chain_id} block {number}: state proof of the rights record",
                        f"the state proof proves no rights record of content hash {work['content_hash']} in "
                        f"{work['registry']}")


def _layout_of(bundle: Mapping[str, Any], final: Key) -> str | None:
    """Which of our collections holds the token, from what the (proven) story shows about its
    address, never the bundle's own ``contract`` label: the subject's collection is a
    CreatorCollection when it emitted WorkMinted or a rights registration names it, a
    WrappedCollection when a bridge delivery's (proven) receipt shows it minting; any other token
    the story can end on was minted by a bridge delivery: a WrappedCollection."""
    subject = bundle["subject"]
    if final[:2] != _key(subject["chain_id"], subject["collection"], 0)[:2]:
        return "WrappedCollection"
    transfer = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
    for e in bundle["events"]:
        here = int(e["chain_id"]) == final[0]
        if here and e["event"] == "TokenMinted" and any(  # a wrapped token exported as the subject
                str(log["address"]).lower() == final[1] and len(log["topics"]) == 4
                and str(log["topics"][0]).lower() == transfer and int(str(log["topics"][1]), 16) == 0
                for log in e["receipt"]["logs"]):
            return "WrappedCollection"
        if here and e["event"] == "WorkMinted" and str(e["address"]).lower() == final[1]:
            return "CreatorCollection"
        if here and e["event"] in ("RightsRegistered", "RightsBound") \
                and str(e["args"].get("collection", "")).lower() == final[1]:
            return "CreatorCollection"
    return None


def _check_owner(bundle: Mapping[str, Any], verdict: Verdict, what: str, chain_id: int,
                 account: Mapping[str, Any], slots: Mapping[int, int], final: Key | None) -> None:
    where = f"token {final[2]} of {final[1]} on chain {final[0]}" if final is not None else "in flight"
    if final is None or final[:2] != (chain_id, str(account["address"]).lower()):
        verdict.add(False, what, f"the proof is about {account['address']} on chain {chain_id}; the story "
                    f"leaves the token {where}")
        return
    contract = _layout_of(bundle, final)
    if contract is None or contract not in OWNER_LAYOUT:
        verdict.add(False, what, f"the story does not show which kind of collection {final[1]} is, so "
                    "no storage layout can be chosen for its owner slot")
        return
    owner = proven_owner(slots, Holding(chain_id, final[1], contract, final[2]))
    holder = _last_holder(bundle, final)
    if verdict.add(owner is not None and owner.lower() == holder.lower(), what,
                   f"the state proves owner {owner}, the story's last holder is {holder}"):
        verdict.owner_state = ""


def _last_holder(bundle: Mapping[str, Any], final: Key) -> str:
    holder = ZERO
    for entry in bundle["events"]:
        moved = _moved(entry, final)
        if moved is not None and moved[0] == final:
            holder = moved[2]
    return holder


def _check_record(verdict: Verdict, what: str, account: Mapping[str, Any], slots: Mapping[int, int],
                  work: Mapping[str, Any] | None) -> bool:
    """The registry's record of the work's content hash: the work's creator, collection and work id."""
    if work is None or not _same(account["address"], work["registry"]):
        return verdict.add(False, what, f"the story registers its work at {work and work['registry']}, not "
                                        f"at {account['address']}")
    record = proven_record(slots, str(work["content_hash"]))
    expected = {"creator": str(work["creator"]).lower(), "collection": str(work["collection"]).lower(),
                "token_id": int(work["work_id"])}
    got = None if record is None else {k: (v.lower() if isinstance(v, str) else v) for k, v in record.items()}
    return verdict.add(got == expected, what, f"the state proves record {got}, the story registers "
                                              f"{expected}")


ESCROW_EVENTS = ("EscrowCreated", "MilestoneDelivered", "MilestoneDisputed", "MilestoneReleased",
                 "DisputeResolved")


def _one_emitter(entries: list[Mapping[str, Any]], kind: str, pinned: str | None, option: str,
                 verdict: Verdict) -> str | None:
    """The one contract that emitted ``entries`` (all of one kind of evidence); a failed check when
    several did, or when it is not the ``pinned`` one. None when there are no entries or it failed."""
    emitters = sorted({str(e["address"]).lower() for e in entries})
    if not emitters:
        return None
    if len(emitters) > 1:
        verdict.add(False, kind, f"the {kind} events come from more than one contract: {', '.join(emitters)}")
        return None
    if pinned is not None and emitters[0] != pinned.lower():
        verdict.add(False, kind, f"the {kind} events come from {emitters[0]}, not the {option} {pinned}")
        return None
    hint = " (pinned)" if pinned else f" (pin it with {option})" if option else ""
    verdict.add(True, kind, f"emitted by {emitters[0]}{hint}")
    return emitters[0]


def _verify_creator(bundle: Mapping[str, Any], verdict: Verdict, identity_registry: str | None = None,
                    rights_registry: str | None = None, registration: Mapping[str, Any] | None = None,
                    content_hash: str | None = None) -> None:
    """Identity and commission evidence (rule 6 of the module docstring), about the creator of
    ``registration`` (the work's; by default the story's first) and its ``content_hash``."""
    events = bundle["events"]
    registrations = [e for e in events if e["event"] in ("RightsRegistered", "RightsBound")]
    if registrations:
        if _one_emitter(registrations, "rights registry", rights_registry, "--rights-registry",
                        verdict) is None:
            return
    elif rights_registry is not None:
        verdict.add(False, "rights registry",
                    f"the bundle has no rights registration to check against {rights_registry}")
        return
    identity = [e for e in events if e["event"] in IDENTITY_EVENTS]
    escrow = [e for e in events if e["event"] in ESCROW_EVENTS]
    if not identity and not escrow:
        return
    registry = _one_emitter(identity, "identity registry", identity_registry, "--identity-registry", verdict)
    if identity and registry is None:
        return
    if escrow and _one_emitter(escrow, "escrow contract", None, "", verdict) is None:
        return
    registration = registration or next((e for name in ("RightsRegistered", "RightsBound") for e in events
                                         if e["event"] == name and e["args"].get("creator")), None)
    if not verdict.add(registration is not None, "creator",
                       "the bundle carries identity or commission evidence but no rights registration"):
        return
    assert registration is not None
    creator, chain_id = str(registration["args"]["creator"]), int(registration["chain_id"])
    at = (int(registration["block_number"]), int(registration["log_index"]))
    for e in identity:
        where = f"chain {e['chain_id']} block {e['block_number']} log {e['log_index']} ({e['event']})"
        if not verdict.add(int(e["chain_id"]) == chain_id and _same(e["args"].get("account"), creator)
                           and (int(e["block_number"]), int(e["log_index"])) <= at, f"{where}: creator KYC",
                           f"identity evidence must be about the creator {creator} on chain {chain_id} at or "
                           f"before the registration (block {at[0]} log {at[1]})"):
            return
    header = bundle.get("headers", {}).get(str(chain_id), {}).get(str(at[0]), {})
    when = int(str(header["timestamp"]), 16) if header.get("timestamp") else None
    kyc = kyc_status(identity, creator, at, when, registry)
    detail = f"{did_pkh(creator, chain_id)}: {kyc['status']}"
    if kyc["status"] != "none":
        revoked = f", revoked in block {kyc['revoked_at']}" if kyc["revoked_at"] else ""
        detail += (f" (level {kyc['level']}, {kyc['country']}, expires {kyc['expires_at']}; record in block "
                   f"{kyc['block']}{revoked})")
    source = f"identity registry {registry}" if registry else "no identity evidence"
    verdict.add(True, "creator KYC at registration", f"{detail}; {source}; later identity events before "
                "the registration cannot be excluded offline")
    content = content_hash or next((str(e["args"]["contentHash"]).lower() for e in events
                                    if e["event"] in WORK_RECORDS and e["args"].get("contentHash")), None)
    sellers = {(str(e["address"]).lower(), str(e["args"]["escrowId"])): str(e["args"]["seller"])
               for e in escrow if e["event"] == "EscrowCreated"}
    for e in escrow:
        where = f"chain {e['chain_id']} block {e['block_number']} log {e['log_index']} ({e['event']})"
        seller = sellers.get((str(e["address"]).lower(), str(e["args"]["escrowId"])))
        if not verdict.add(seller is not None and _same(seller, creator), f"{where}: commission",
                           f"escrow {e['args']['escrowId']} is not shown created with the creator {creator} "
                           f"as its seller (seller {seller})"):
            return
        if e["event"] == "MilestoneDelivered" and not verdict.add(
                content is not None and _same(e["args"].get("contentHash"), content), f"{where}: commission",
                f"the delivery carries content hash {e['args'].get('contentHash')}, the story registers "
                f"{content}"):
            return


EVENT_KEYS = ("chain_id", "block_number", "block_hash", "tx_hash", "tx_index", "log_index", "log_position",
              "event", "address", "args", "abi", "receipt", "proof")
HEADER_KEYS = ("number", "hash", "parentHash", "stateRoot", "transactionsRoot", "receiptsRoot", "timestamp")


def bundle_problem(bundle: Any) -> str | None:
    """What makes ``bundle`` unreadable as a bundle (a missing or mistyped key, named), or None."""
    if not isinstance(bundle, Mapping):
        return f"the bundle is a JSON {type(bundle).__name__}, not an object"
    if bundle.get("format") not in FORMATS:
        return f"unknown bundle format {bundle.get('format')!r} (expected one of {', '.join(FORMATS)})"
    subject = bundle.get("subject")
    if not isinstance(subject, Mapping):
        return "the bundle has no 'subject'"
    missing = [k for k in ("chain_id", "collection", "token_id") if k not in subject]
    if missing:
        return f"the subject has no '{missing[0]}'"
    events = bundle.get("events")
    if not isinstance(events, list):
        return "the bundle has no 'events' list"
    for i, entry in enumerate(events):
        if not isinstance(entry, Mapping):
            return f"events[{i}] is not an object"
        missing = [k for k in EVENT_KEYS if k not in entry]
        if missing:
            return f"events[{i}] has no '{missing[0]}'"
        if not isinstance(entry["receipt"], Mapping) or not isinstance(entry["receipt"].get("logs"), list):
            return f"events[{i}].receipt has no 'logs' list"
        wrong = [k for k, typ in (("args", Mapping), ("abi", Mapping), ("proof", list))
                 if not isinstance(entry[k], typ)]
        if wrong:
            return f"events[{i}].{wrong[0]} is not a JSON {'list' if wrong[0] == 'proof' else 'object'}"
    headers = bundle.get("headers")
    if not isinstance(headers, Mapping):
        return "the bundle has no 'headers'"
    for chain_id, chain_headers in headers.items():
        if not isinstance(chain_headers, Mapping):
            return f"headers[{chain_id}] is not an object"
        for number, header in chain_headers.items():
            if not isinstance(header, Mapping):
                return f"headers[{chain_id}][{number}] is not an object"
            missing = [k for k in HEADER_KEYS if k not in header]
            if missing:
                return f"the header of block {number} on chain {chain_id} has no '{missing[0]}'"
    state = bundle.get("state", {})
    if state is not None and not isinstance(state, Mapping):
        return "the bundle's 'state' is not an object"
    marks = bundle.get("header_proofs", {})
    if marks is not None and (not isinstance(marks, Mapping)
                              or not all(isinstance(m, Mapping) for m in marks.values())):
        return "the bundle's 'header_proofs' is not an object of objects"
    return None


def _verify_all(bundle: Mapping[str, Any], verdict: Verdict, validators: Mapping[int, set[str]],
                identity_registry: str | None, rights_registry: str | None, heads: Sequence[TrustedHead],
                now: int | None, max_age: int | None) -> None:
    _verify_headers(bundle, verdict, validators)
    headers = bundle.get("headers", {})
    events_ok = all([_verify_event(e, headers, verdict) for e in bundle["events"]])
    final: Key | None = None
    if events_ok:
        visited: set[Key] = set()
        final = _verify_story(bundle, verdict, visited)
        bound = _verify_work(bundle, verdict) if verdict.ok else None
        work, registration = bound if bound is not None else (None, None)
        if verdict.ok:
            _verify_complete(bundle, verdict, visited, work["work_id"] if work else None)
        if verdict.ok:
            _verify_creator(bundle, verdict, identity_registry, rights_registry, registration,
                            work["content_hash"] if work else None)
        if verdict.ok:
            _verify_state(bundle, verdict, final, work)
        if verdict.ok:
            _bloom_statement(bundle, verdict, visited)
            _verify_heads(bundle, verdict, final, heads, now, max_age)
    _pins(bundle, verdict, validators, identity_registry, rights_registry, heads, final)


def verify_bundle(bundle: Mapping[str, Any], *, content: bytes | None = None,
                  validators: Mapping[int, set[str]] | None = None, identity_registry: str | None = None,
                  rights_registry: str | None = None, trusted_heads: Sequence[TrustedHead] = (),
                  now: int | None = None, max_age: int | None = None) -> Verdict:
    """Check everything in the module docstring; the verdict lists every check. ``identity_registry``
    and ``rights_registry`` pin the contracts whose events count as KYC and registration evidence
    (without them, each kind must come from one contract, which the verdict names);
    ``trusted_heads`` pin chains' heads (the owner is then proven at the head, or the verdict
    fails); ``max_age`` (seconds before ``now``, a unix time) bounds how old the owner proof may be."""
    verdict = Verdict()
    problem = bundle_problem(bundle)
    if not verdict.add(problem is None, "bundle shape", problem or ""):
        return verdict
    verdict.add(True, "format", str(bundle["format"]))
    try:
        _verify_all(bundle, verdict, validators or {}, identity_registry, rights_registry, trusted_heads,
                    now, max_age)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        what = f"key {exc}" if isinstance(exc, KeyError) else str(exc)
        verdict.add(False, "bundle shape", f"the bundle cannot be read: {type(exc).__name__} ({what})")
        return verdict
    if content is not None:
        registered = verdict.work["content_hash"] if verdict.work else None
        digest = "0x" + hashlib.sha256(content).hexdigest()
        verdict.add(registered == digest, "content hash",
                    f"the file hashes to {digest}; the token is registered as the work with content hash "
                    f"{registered}" if registered else "the bundle does not prove which work the token is")
    return verdict
