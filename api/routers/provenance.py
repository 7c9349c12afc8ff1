"""Provenance for auditors: a token's story, and a bundle that verifies offline."""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel
from sqlalchemy import select
from web3 import Web3

from api.db import Database
from api.deps import ContentStoreDep, DatabaseDep, GatewayDep
from api.errors import NotFoundError, UnprocessableError
from api.gateway import ChainGateway
from api.ipfs import ContentStore, LocalContentStore
from api.types import MAX_CHAIN_ID, Address
from record.index.store import IndexStore, chain_checkpoints
from record.provenance import build_bundle, final_blocks, rpcs_for, story_views, token_story

router = APIRouter(prefix="/provenance", tags=["provenance"])
ChainPath = Annotated[int, Path(gt=0, le=MAX_CHAIN_ID)]
TokenPath = Annotated[int, Path(ge=0, lt=2**256)]


class BridgeHop(BaseModel):
    transfer_id: str
    """The bridge message id: the same on the departure and on the delivery."""
    side: str
    """'departure' (lock on home, burn on remote) or 'delivery' (mint on remote, unlock on home)."""
    source_chain_id: int
    dest_chain_id: int


class KycStatus(BaseModel):
    status: str
    """'verified', 'expired' (the record had expired at the registration's block time), 'revoked', or
    'none' (no identity record for the creator at or before the registration)."""
    level: int | None
    country: str | None
    """ISO 3166-1 alpha-2."""
    expires_at: int | None
    registry: str | None
    """The IdentityRegistry whose record this is."""
    block: int | None
    log_index: int | None
    tx_hash: str | None
    """Where the record event (IdentityRegistered/IdentityUpdated) is: an entry of the story."""
    revoked_at: int | None
    """The block of the revocation (an entry of the story) when the status is 'revoked'."""


class Creator(BaseModel):
    address: str
    did: str
    """did:pkh:eip155:<chain id>:<address>"""
    kyc: KycStatus
    """At the time of the registration, from the chain's IdentityRegistry events."""


class StoryEntry(BaseModel):
    chain_id: int
    block_number: int
    block_time: int | None
    tx_hash: str
    log_index: int
    contract: str
    address: str
    event: str
    args: dict[str, Any]
    bridge: BridgeHop | None = None
    creator: Creator | None = None
    """On the rights registration entries (RightsRegistered, RightsBound, WorkMinted)."""


class Story(BaseModel):
    chain_id: int
    collection: str
    token_id: int
    work_id: int | None
    content_hash: str | None
    content_check: str
    """'match', 'mismatch', or why the content could not be checked."""
    entries: list[StoryEntry]
    """Oldest first across chains: the token's events, its bridge hops and its wrapped token's events,
    the commission that produced the work (MilestoneEscrow events of the creator's escrow whose
    delivery carried the work's content hash), and the IdentityRegistry events that determine the
    creator's KYC status at the registration."""


def _subject(gateway: ChainGateway, chain_id: int, collection: str, token_id: int) -> tuple[str, int | None]:
    if not Web3.is_address(collection):
        raise UnprocessableError(f"{collection!r} is not an address")
    address = Web3.to_checksum_address(collection)
    gateway.spec_for(chain_id)
    work_id = None
    try:
        def work_of() -> Any:  # the contract object only when the answer is not kept yet
            nft = gateway.contract(chain_id, "CreatorCollection", address)
            return nft.functions.workOf(token_id).call()[0]

        work_id = int(gateway.immutable_call(("workOf", chain_id, address, token_id), work_of))
    except Exception:  # not one of our collections, or no such token: the index may still know it
        work_id = None
    return address, work_id


Rows = list[dict[str, Any]]


def _rows(gateway: ChainGateway, database: Database, chain_id: int, collection: str,
          token_id: int) -> tuple[Rows, int | None]:
    address, work_id = _subject(gateway, chain_id, collection, token_id)
    store = IndexStore(database.engine)
    with store.engine.connect() as conn:
        rows = token_story(conn, chain_id, address, token_id, [s.chain_id for s in gateway.specs()],
                           work_id=work_id)
    if not rows:
        raise NotFoundError(f"no indexed event about token {token_id} of {address} on chain {chain_id}; "
                            "is the indexer running ('chainright indexer run')?")
    return rows, work_id


_CACHE: dict[tuple[int, str, int], tuple[tuple[Any, ...], bytes]] = {}
_CACHE_LOCK = threading.Lock()


_CHECKPOINTS = (select(chain_checkpoints.c.chain_id, chain_checkpoints.c.next_block)
                .order_by(chain_checkpoints.c.chain_id))
"""Every chain's checkpoint (built once: building the select cost more than running it)."""


def _index_version(database: Database) -> tuple[Any, ...]:
    """Changes whenever the indexer moves on: a story can only change then."""
    with database.engine.connect() as conn:
        return tuple(conn.execute(_CHECKPOINTS).all())


@router.get("/{chain_id}/{collection}/{token_id}", response_model=Story,
            summary="The full story of one token, oldest first")
def story(chain_id: ChainPath, collection: Address, token_id: TokenPath, gateway: GatewayDep,
          database: DatabaseDep, content: ContentStoreDep) -> Response:
    """Served from a cache keyed on the index's checkpoints: between two indexer steps a story
    cannot change, so repeated reads cost one small query."""
    key = (chain_id, collection.lower(), token_id)
    version = _index_version(database)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] == version:
        return Response(cached[1], media_type="application/json")
    body = _story(chain_id, collection, token_id, gateway, database, content).model_dump_json().encode()
    with _CACHE_LOCK:
        if len(_CACHE) > 10_000:
            _CACHE.clear()
        _CACHE[key] = (version, body)
    return Response(body, media_type="application/json")


def _story(chain_id: int, collection: str, token_id: int, gateway: ChainGateway, database: Database,
           content: ContentStore) -> Story:
    rows, work_id = _rows(gateway, database, chain_id, collection, token_id)
    entries = story_views(rows)
    registered = next((e["args"]["contentHash"] for e in entries
                       if e["event"] in ("WorkMinted", "RightsRegistered") and e["args"].get("contentHash")),
                      None)
    check = "no registered content hash in the story"
    if registered is not None:
        check = _content_check(content, entries, str(registered))
    return Story(chain_id=chain_id, collection=Web3.to_checksum_address(collection), token_id=token_id,
                 work_id=work_id, content_hash=registered, content_check=check,
                 entries=[StoryEntry(**e) for e in entries])


def _content_check(content: ContentStore, entries: list[dict[str, Any]], registered: str) -> str:
    cid_hex = next((e["args"].get("cid") for e in entries if e["event"] == "RightsRegistered"), None)
    if not cid_hex:
        return "no CID in the story"
    cid = _cid_text(str(cid_hex))
    try:
        digest = content_digest(content, cid)
    except Exception as exc:  # not stored here: say so rather than guess
        return f"content {cid} not available here ({type(exc).__name__})"
    return "match" if digest == registered.lower() else f"mismatch: the content hashes to {digest}"


@lru_cache(maxsize=4096)
def _cid_text(cid_hex: str) -> str:
    """The CID (text) of the binary CID the registration records: a pure function, kept."""
    from chain.cid import cid_from_bytes

    return str(cid_from_bytes(bytes.fromhex(cid_hex[2:])))


_DIGESTS: dict[tuple[str, Any], str] = {}
_DIGESTS_LOCK = threading.Lock()


def _stored_version(content: ContentStore, cid: str) -> Any:
    """What identifies the bytes stored under ``cid`` without reading them (``LocalContentStore.version``),
    or None when the store cannot tell (then nothing is kept)."""
    return content.version(cid) if isinstance(content, LocalContentStore) else None


def content_digest(content: ContentStore, cid: str) -> str:
    """``0x`` + sha256 of the content stored under ``cid``, as ``content.get`` serves it (it checks
    the bytes against the CID, and raises when they are missing or do not match). Kept per stored
    version (``_stored_version``): a story read re-reads and re-hashes the content only when the
    stored file changed, or when the store cannot say (an IPFS node: read every time)."""
    version = _stored_version(content, cid)
    key = (cid, version)
    if version is not None and key in _DIGESTS:
        return _DIGESTS[key]
    digest = "0x" + hashlib.sha256(content.get(cid)).hexdigest()
    if version is not None and _stored_version(content, cid) == version:  # unchanged while read
        with _DIGESTS_LOCK:
            if len(_DIGESTS) > 10_000:
                _DIGESTS.clear()
            _DIGESTS[key] = digest
    return digest


@router.get("/{chain_id}/{collection}/{token_id}/bundle",
            summary="A self-contained bundle (headers, receipts, receipt proofs) to verify offline "
                    "with 'chainright verify'")
def bundle(chain_id: ChainPath, collection: Address, token_id: TokenPath, gateway: GatewayDep,
           database: DatabaseDep) -> dict[str, Any]:
    rows, _ = _rows(gateway, database, chain_id, collection, token_id)
    rpcs = rpcs_for({spec.chain_id: spec.rpc_url for spec in gateway.specs()})
    abis = {n: gateway.artifacts.get(n).abi for n in gateway.artifacts.names()}
    with database.engine.connect() as conn:  # prove state where the index has finished
        proven_at = final_blocks(conn, [spec.chain_id for spec in gateway.specs()])
    return build_bundle({"chain_id": chain_id, "collection": Web3.to_checksum_address(collection),
                         "token_id": token_id}, rows, rpcs, abis, state_blocks=proven_at)
