"""Assets: upload a work (content hash + CID, stored locally or on IPFS), then get the
transactions a creator's wallet signs: create a collection, mint the work. The platform never
holds user keys: it returns unsigned transactions and checks them by simulation first."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from anyio import to_thread
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import select
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from api.browse import BrowseError, normalize_tags
from api.deps import (
    ContentStoreDep,
    DatabaseDep,
    DbSession,
    GatewayDep,
    KycVerifiedUser,
    OptionalUser,
    UploadDep,
)
from api.errors import ForbiddenError, NotFoundError, UnprocessableError
from api.gateway import ChainGateway
from api.models import Asset, AssetTag
from api.schemas.common import UnsignedTx
from api.simulate import estimate_gas
from api.types import MAX_CHAIN_ID, Cid, checksum_address
from chain.cid import cid_to_bytes
from record.index.rpc import RpcError

log = logging.getLogger(__name__)
router = APIRouter(tags=["assets"])


class AssetOut(BaseModel):
    cid: str
    content_hash: str
    size: int
    media_type: str
    filename: str | None
    uploader: str
    store: str
    created_at: datetime
    title: str | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list, description="Normalized: case-folded, spaces as '-'")

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        """SQLite hands a stored time back without its zone; every time we store is UTC."""
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _asset_out(row: Asset, db: Any) -> AssetOut:
    tags = list(db.execute(select(AssetTag.tag).where(AssetTag.cid == row.cid)
                           .order_by(AssetTag.tag)).scalars())
    return AssetOut.model_validate(row, from_attributes=True).model_copy(update={"tags": tags})


class CollectionTxIn(BaseModel):
    chain_id: int = Field(gt=0)
    name: str = Field(min_length=1, max_length=64)
    symbol: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9]+$")
    royalty_receiver: str | None = Field(default=None, description="Default: the creator; normally "
                                         "the work's royalty splitter")
    royalty_bps: int = Field(default=500, ge=0, le=10_000)
    require_verified_holders: bool = False
    salt: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{64}$")
    standard: Literal["erc721", "erc1155"] = Field(
        default="erc721", description="erc1155: an editions collection (each token id one work, many "
                                      "copies; CollectionFactory.createEditions1155)")

    @field_validator("royalty_receiver")
    @classmethod
    def _receiver(cls, value: str | None) -> str | None:
        return checksum_address(value) if value is not None else None


class CollectionTxOut(BaseModel):
    transaction: UnsignedTx
    predicted_address: str
    salt: str


MAX_MINT_QUANTITY = 10_000
"""Copies one mint transaction may make. The contracts cap an ERC-721 edition at the id space only and
an ERC-1155 mint not at all; this is the platform's bound (one mint, one wallet signature)."""
ERC1155_INTERFACE = bytes.fromhex("d9b67a26")


class MintTxIn(BaseModel):
    chain_id: int = Field(gt=0)
    collection: str
    to: str | None = Field(default=None, description="Recipient; default: the creator")
    quantity: int = Field(default=1, ge=1, le=MAX_MINT_QUANTITY,
                          description="ERC-721: > 1 mints an edition of sequential tokens; ERC-1155 "
                                      "editions collection: the number of copies of the work's one id")
    token_id: int | None = Field(default=None, ge=1, le=2**256 - 1,
                                 description="ERC-1155 only: add copies of this existing work id")
    standard: Literal["erc721", "erc1155"] | None = Field(
        default=None, description="When given, the collection must be of this kind (else 422)")

    @field_validator("collection", "to")
    @classmethod
    def _addresses(cls, value: str | None) -> str | None:
        return checksum_address(value) if value is not None else None


UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "The work's bytes"},
        "title": {"type": "string", "maxLength": 200,
                  "description": "The work's title (default: the file's name)"},
        "description": {"type": "string", "maxLength": 5000},
        "tags": {"type": "array", "items": {"type": "string"},
                 "description": "Tags, repeated or comma-separated (at most 10; normalized)"}}}}}}}
TITLE_MAX = 200
DESCRIPTION_MAX = 5000
"""The form POST /assets reads (by hand, as it streams: ``api.uploads``), for the OpenAPI schema."""


@router.post("/assets", status_code=201, response_model=AssetOut, openapi_extra=UPLOAD_BODY,
             responses={413: {"description": "The file is larger than CHAINRIGHT_API_MAX_UPLOAD_BYTES"}},
             summary="Upload a work: content hash and IPFS CID (CIDv1, raw leaves, 256 KiB chunks)")
async def upload(user: KycVerifiedUser, store: ContentStoreDep, database: DatabaseDep,
                 received: UploadDep) -> AssetOut:
    """The body streams to a staging file while its CID and content hash are computed (memory stays
    flat; a file over the cap is a 413 with nothing kept); the store then takes the staged file.
    Safe to repeat: the same bytes are the same CID and the same record (no ``Idempotency-Key`` record
    is kept for this route, which would mean buffering the body). The fields beside the file
    (``title``, ``description``, ``tags`` repeated or comma-separated) describe the work for the
    catalogue, and only its first uploader may set them."""
    title, description = received.last("title"), received.last("description")
    try:
        wanted = normalize_tags(received.fields.get("tags", []))
        if title is not None and len(title) > TITLE_MAX:
            raise BrowseError(f"the title is {len(title)} characters long; at most {TITLE_MAX}")
        if description is not None and len(description) > DESCRIPTION_MAX:
            raise BrowseError(f"the description is {len(description)} characters long; "
                              f"at most {DESCRIPTION_MAX}")
    except BrowseError as exc:
        received.discard()
        raise UnprocessableError(str(exc)) from None
    stored = await to_thread.run_sync(store.add_staged, received.staged, received.digest)
    with database.session() as db:
        row = db.get(Asset, stored.cid)
        if row is None:
            row = Asset(cid=stored.cid, content_hash=stored.content_hash, size=stored.size,
                        media_type=(received.content_type or "application/octet-stream")[:127],
                        filename=(received.filename or None) and received.filename[:255], uploader=user.did,
                        store=store.name, created_at=datetime.now(UTC))
            db.add(row)
        if row.uploader == user.did:  # only the uploader describes the work (again: adds tags, retitles)
            row.title = (title.strip() or None) if title is not None else row.title
            row.description = (description.strip() or None) if description is not None else row.description
            have = set(db.execute(select(AssetTag.tag).where(AssetTag.cid == row.cid)).scalars())
            for tag in wanted:
                if tag not in have:
                    db.add(AssetTag(cid=row.cid, tag=tag))
            db.flush()
        return _asset_out(row, db)


def _on_chain(gateway: ChainGateway, content_hash: str) -> bool:
    """True when some served chain's RightsRegistry has a record of ``content_hash`` (the hash is
    public there anyway). A chain that cannot answer counts as no."""
    for spec in gateway.specs():
        try:
            registry = gateway.address(spec.chain_id, "RightsRegistry")
            if gateway.view(spec.chain_id, registry, "RightsRegistry", "isRegistered",
                            [bytes.fromhex(content_hash.removeprefix("0x"))]):
                return True
        except Exception as exc:  # an unreachable or undeployed chain publishes nothing
            log.debug("chain %d cannot tell whether %s is registered: %s", spec.chain_id, content_hash, exc)
            continue
    return False


def _visible_asset(cid: str, db: DbSession, gateway: ChainGateway, viewer: Any) -> Asset:
    """An upload is private to its uploader until its work is minted or registered on chain: its
    content hash is what a front-runner needs to claim the work first."""
    row = db.get(Asset, cid)
    if row is None or (
        (viewer is None or viewer.did != row.uploader) and not _on_chain(gateway, row.content_hash)
    ):
        raise NotFoundError(f"no asset with CID {cid}")
    return row


@router.get("/assets/{cid}", response_model=AssetOut,
            summary="An uploaded work's record (before it is minted: only its uploader, with a session)")
def get_asset(cid: Cid, db: DbSession, gateway: GatewayDep, viewer: OptionalUser) -> AssetOut:
    return _asset_out(_visible_asset(cid, db, gateway, viewer), db)


@router.get("/assets/{cid}/content",
            summary="The work's bytes, re-hashed against the CID (before it is minted: only its uploader)")
def get_content(cid: Cid, db: DbSession, gateway: GatewayDep, store: ContentStoreDep,
                viewer: OptionalUser) -> Response:
    row = _visible_asset(cid, db, gateway, viewer)
    return Response(store.get(cid), media_type=row.media_type)


@router.post("/collections/tx", response_model=CollectionTxOut,
             summary="The transaction that creates the creator's collection (factory clone)")
def collection_tx(body: CollectionTxIn, user: KycVerifiedUser, gateway: GatewayDep) -> CollectionTxOut:
    if user.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    gateway.require_progress(body.chain_id)
    factory = gateway.contract(body.chain_id, "CollectionFactory")
    identity = gateway.address(body.chain_id, "IdentityRegistry") if body.require_verified_holders \
        else "0x" + "00" * 20
    salt = bytes.fromhex(body.salt[2:]) if body.salt else secrets.token_bytes(32)
    receiver = body.royalty_receiver or user.address
    if body.standard == "erc1155":
        if body.require_verified_holders:
            raise UnprocessableError("an editions (ERC-1155) collection has no verified-holders setting; "
                                     "leave require_verified_holders false")
        data = factory.encode_abi("createEditions1155", args=[
            (body.name, body.symbol, user.address, receiver, body.royalty_bps), salt])
        predict = factory.functions.predictEditionsAddress
    else:
        settings = (body.name, body.symbol, user.address, receiver, body.royalty_bps, identity,
                    body.require_verified_holders)
        data = factory.encode_abi("createCollection", args=[settings, salt])
        predict = factory.functions.predictCollectionAddress
    gas = estimate_gas(gateway, body.chain_id, user.address, factory.address, data)
    predicted = predict(user.address, salt).call()
    return CollectionTxOut(
        transaction=UnsignedTx(chain_id=body.chain_id, **{"from": user.address}, to=factory.address,
                               data=data, gas=gas),
        predicted_address=Web3.to_checksum_address(predicted), salt="0x" + salt.hex())


class SplitTxIn(BaseModel):
    chain_id: int = Field(gt=0)
    rights_holder: str
    issuer: str
    channel: str
    salt: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{64}$")

    @field_validator("rights_holder", "issuer", "channel")
    @classmethod
    def _addresses(cls, value: str) -> str:
        return checksum_address(value)


class SplitTxOut(BaseModel):
    transaction: UnsignedTx
    splitter: str
    """The splitter's address (deterministic): use it as the collection's royalty receiver."""
    already_exists: bool


@router.post("/splits/tx", response_model=SplitTxOut,
             summary="The transaction that creates a three-way royalty split (30/40/30)")
def split_tx(body: SplitTxIn, user: KycVerifiedUser, gateway: GatewayDep) -> SplitTxOut:
    if user.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    gateway.require_progress(body.chain_id)
    factory = gateway.contract(body.chain_id, "SplitterFactory")
    salt = bytes.fromhex(body.salt[2:]) if body.salt else bytes(32)
    args = [body.rights_holder, body.issuer, body.channel, salt]
    predicted = Web3.to_checksum_address(factory.functions.predictThreeWaySplitAddress(*args).call())
    exists = len(gateway.web3(body.chain_id).eth.get_code(predicted)) > 0
    data = factory.encode_abi("createThreeWaySplit", args=args)
    gas = estimate_gas(gateway, body.chain_id, user.address, factory.address, data)
    return SplitTxOut(transaction=UnsignedTx(chain_id=body.chain_id, **{"from": user.address},
                                             to=factory.address, data=data, gas=gas),
                      splitter=predicted, already_exists=exists)


MAX_SPLIT_RECIPIENTS = 100
"""SplitterFactory.MAX_RECIPIENTS."""


class ShareIn(BaseModel):
    account: str
    bps: int = Field(gt=0, le=10_000, description="Its share in basis points (100 = 1%)")

    @field_validator("account")
    @classmethod
    def _address(cls, value: str) -> str:
        return checksum_address(value)


class CustomSplitTxIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    recipients: list[ShareIn] = Field(min_length=1, max_length=MAX_SPLIT_RECIPIENTS,
                                      description="Each recipient once, none the zero address; the "
                                      "shares add up to 10,000 bps (100%); any order")
    salt: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{64}$")

    @model_validator(mode="after")
    def _split(self) -> CustomSplitTxIn:
        accounts = [r.account for r in self.recipients]
        if "0x" + "00" * 20 in accounts:
            raise ValueError("a recipient is the zero address: nobody could ever withdraw its share")
        twice = sorted({a for a in accounts if accounts.count(a) > 1})
        if twice:
            raise ValueError(f"each recipient once: {', '.join(twice)} appears more than once "
                             "(give it the sum of its shares)")
        total = sum(r.bps for r in self.recipients)
        if total != 10_000:
            raise ValueError(f"the shares add up to {total} bps ({total / 100:g}%), not 10000 (100%)")
        return self


@router.post("/splits/custom-tx", response_model=SplitTxOut,
             summary="The transaction that creates a royalty split with any recipients and shares "
             "(validated: 100% in all, no zero address, no duplicate)")
def custom_split_tx(body: CustomSplitTxIn, user: KycVerifiedUser, gateway: GatewayDep) -> SplitTxOut:
    """The factory wants the recipients in ascending address order: the API sorts them (their
    shares follow). The splitter's address is deterministic: the same split and salt give the same
    splitter, and creating it again creates nothing (``already_exists``)."""
    if user.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    gateway.require_progress(body.chain_id)
    factory = gateway.contract(body.chain_id, "SplitterFactory")
    ordered = sorted(body.recipients, key=lambda r: int(r.account, 16))
    salt = bytes.fromhex(body.salt[2:]) if body.salt else bytes(32)
    args = [[r.account for r in ordered], [r.bps for r in ordered], salt]
    predicted = Web3.to_checksum_address(factory.functions.predictSplitterAddress(*args).call())
    exists = len(gateway.web3(body.chain_id).eth.get_code(predicted)) > 0
    data = factory.encode_abi("createSplitter", args=args)
    gas = estimate_gas(gateway, body.chain_id, user.address, factory.address, data, what="creating the split")
    return SplitTxOut(transaction=UnsignedTx(chain_id=body.chain_id, **{"from": user.address},
                                             to=factory.address, data=data, gas=gas),
                      splitter=predicted, already_exists=exists)


class CommitTxIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)


@router.post("/assets/{cid}/commit-tx", response_model=UnsignedTx,
             summary="The transaction that dates the creator's claim before the mint (front-running guard)")
def commit_tx(cid: Cid, body: CommitTxIn, user: KycVerifiedUser, db: DbSession,
              gateway: GatewayDep) -> UnsignedTx:
    """``RightsRegistry.commit(keccak256(abi.encode(contentHash, creator)))``: the hash shows the pool
    nothing of the work. Mined at least one block before the mint, it lets the creator's mint take
    back any record someone raced in by copying the pending mint (see RightsRegistry)."""
    row = db.get(Asset, cid)
    if row is None:
        raise NotFoundError(f"no asset with CID {cid}; upload it first (POST /assets)")
    if row.uploader != user.did:
        raise ForbiddenError("only the uploader of a work may claim it")
    if user.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    gateway.require_progress(body.chain_id)
    registry = gateway.contract(body.chain_id, "RightsRegistry")
    commitment = Web3.keccak(abi_encode(["bytes32", "address"],
                                        [bytes.fromhex(row.content_hash[2:]), user.address]))
    data = registry.encode_abi("commit", args=[commitment])
    gas = estimate_gas(gateway, body.chain_id, user.address, registry.address, data)
    return UnsignedTx(chain_id=body.chain_id, **{"from": user.address}, to=registry.address, data=data,
                      gas=gas)


@router.post("/assets/{cid}/mint-tx", response_model=UnsignedTx,
             summary="The transaction that mints this work (one token, or an edition) with its rights record")
def mint_tx(cid: Cid, body: MintTxIn, user: KycVerifiedUser, db: DbSession,
            gateway: GatewayDep) -> UnsignedTx:
    row = db.get(Asset, cid)
    if row is None:
        raise NotFoundError(f"no asset with CID {cid}; upload it first (POST /assets)")
    if row.uploader != user.did:
        raise ForbiddenError("only the uploader of a work may mint it")
    if user.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    gateway.require_progress(body.chain_id)
    content_hash = bytes.fromhex(row.content_hash[2:])
    binary_cid = cid_to_bytes(cid)
    to = body.to or user.address
    is_editions = _is_editions(gateway, body.chain_id, body.collection)
    if body.standard is not None and is_editions != (body.standard == "erc1155"):
        raise UnprocessableError(f"{body.collection} is not an "
                                 + ("editions (ERC-1155) collection" if body.standard == "erc1155"
                                    else "ERC-721 collection; it holds ERC-1155 editions"))
    if is_editions:
        editions = gateway.contract(body.chain_id, "Editions1155", body.collection)
        if body.token_id is None:
            data = editions.encode_abi("mintWork", args=[to, body.quantity, content_hash, binary_cid])
        else:
            _require_same_work(gateway, body.chain_id, body.collection, body.token_id, cid)
            data = editions.encode_abi("mint", args=[to, body.token_id, body.quantity])
        gas = estimate_gas(gateway, body.chain_id, user.address, editions.address, data)
        return UnsignedTx(chain_id=body.chain_id, **{"from": user.address}, to=editions.address,
                          data=data, gas=gas)
    if body.token_id is not None:
        raise UnprocessableError("token_id adds copies in an editions (ERC-1155) collection; "
                                 f"{body.collection} is not one")
    collection = gateway.contract(body.chain_id, "CreatorCollection", body.collection)
    if body.quantity == 1:
        data = collection.encode_abi("mintWork", args=[to, content_hash, binary_cid])
    else:
        data = collection.encode_abi("mintEdition", args=[to, body.quantity, content_hash, binary_cid])
    gas = estimate_gas(gateway, body.chain_id, user.address, collection.address, data)
    return UnsignedTx(chain_id=body.chain_id, **{"from": user.address}, to=collection.address,
                      data=data, gas=gas)


def _is_editions(gateway: ChainGateway, chain_id: int, collection: str) -> bool:
    """Whether ``collection`` says it is ERC-1155 (ERC-165); an address that cannot answer is not."""
    try:
        return bool(gateway.view(chain_id, collection, "Editions1155", "supportsInterface",
                                 [ERC1155_INTERFACE]))
    except (ContractLogicError, DecodingError, RpcError):  # no code, no ERC-165: the ERC-721 path's
        return False                                           # simulation then says why


def _require_same_work(gateway: ChainGateway, chain_id: int, collection: str, token_id: int,
                       cid: str) -> None:
    """More copies go only to the id that already holds this work (the contract's ``mint`` takes any id)."""
    try:
        bound = bytes(gateway.view(chain_id, collection, "Editions1155", "workCid", [token_id]))
    except ContractLogicError:
        raise UnprocessableError(f"no work has token id {token_id} in {collection}; mint the work first "
                                 "(no token_id)") from None
    if bound != cid_to_bytes(cid):
        raise UnprocessableError(f"token id {token_id} in {collection} is another work, not {cid}")



# ---------------------------------------------------------------- license terms

LICENSE_TEMPLATES: dict[str, dict[str, Any]] = {
    "personal": {"commercialUse": False, "derivativesAllowed": False, "attributionRequired": True,
                 "transferable": False, "revocable": True, "derivativeRevenueShareBps": 0, "duration": 0,
                 "text": "Chainright personal license: private, non-commercial use of the work; no "
                         "derivatives; credit the creator; not transferable; perpetual unless revoked."},
    "commercial": {"commercialUse": True, "derivativesAllowed": False, "attributionRequired": True,
                   "transferable": True, "revocable": False, "derivativeRevenueShareBps": 0,
                   "duration": 365 * 86_400,
                   "text": "Chainright commercial license: commercial use of the work for one year; no "
                           "derivatives; credit the creator; transferable."},
    "remix": {"commercialUse": True, "derivativesAllowed": True, "attributionRequired": True,
              "transferable": True, "revocable": False, "derivativeRevenueShareBps": 1_000, "duration": 0,
              "text": "Chainright remix license: commercial use and derivative works; credit the creator; "
                      "10% of derivative revenue goes to the creator; perpetual."},
}
"""What ``chainright mint --license TEMPLATE`` offers; the legal text is stored by CID."""


class LicenseTxIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    collection: str
    token_ids: list[Annotated[int, Field(ge=0, le=2**256 - 1)]] = Field(min_length=1, max_length=50)
    template: Literal["personal", "commercial", "remix"]
    fee_wei: int = Field(default=0, ge=0, le=2**256 - 1, description="What a licensee pays, in wei")

    @field_validator("collection")
    @classmethod
    def _address(cls, value: str) -> str:
        return checksum_address(value)


class LicenseTxOut(BaseModel):
    terms_hash: str
    terms: dict[str, Any]
    legal_text_cid: str
    publish: UnsignedTx | None = Field(description="Send first; null when these terms are already published")
    attach: list[UnsignedTx] = Field(
        description="Then one per token (simulated once the terms are published)")


@router.post("/licenses/tx", response_model=LicenseTxOut,
             summary="The transactions that publish a license template's terms and attach them to your works")
def license_tx(body: LicenseTxIn, user: KycVerifiedUser, gateway: GatewayDep,
               store: ContentStoreDep) -> LicenseTxOut:
    if user.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    sender = Web3.to_checksum_address(user.address)
    gateway.require_progress(body.chain_id)
    template = LICENSE_TEMPLATES[body.template]
    legal = store.add(str(template["text"]).encode())
    flags = ("commercialUse", "derivativesAllowed", "attributionRequired", "transferable", "revocable",
             "derivativeRevenueShareBps", "duration")
    terms: tuple[Any, ...] = (*(template[name] for name in flags), body.fee_wei, [], legal.cid)
    licensing = gateway.contract(body.chain_id, "Licensing")
    terms_hash = bytes(licensing.functions.hashTerms(terms).call())
    published = bool(licensing.functions.isPublished(terms_hash).call())
    publish = None
    if not published:
        data = licensing.encode_abi("publishTerms", args=[terms])
        publish = UnsignedTx(chain_id=body.chain_id, **{"from": sender}, to=licensing.address, data=data,
                             gas=estimate_gas(gateway, body.chain_id, sender, licensing.address, data))
    nft = gateway.contract(body.chain_id, "CreatorCollection", body.collection)
    attach = []
    for token_id in body.token_ids:
        try:
            owner = Web3.to_checksum_address(nft.functions.ownerOf(token_id).call())
        except (ContractLogicError, ContractCustomError):
            raise UnprocessableError(
                f"token {token_id} of {body.collection} does not exist: mint it first") from None
        if owner != sender:
            raise ForbiddenError(f"only the work's owner attaches its license terms; token {token_id} is "
                                 f"held by {owner}")
        attached = licensing.functions.attachedTerms(body.collection, token_id).call()
        if terms_hash in [bytes(h) for h in attached]:
            continue
        data = licensing.encode_abi("attachTerms", args=[body.collection, token_id, terms_hash])
        gas = estimate_gas(gateway, body.chain_id, sender, licensing.address, data) if published else None
        attach.append(UnsignedTx(chain_id=body.chain_id, **{"from": sender}, to=licensing.address, data=data,
                                 gas=gas))
    shown = {k: v for k, v in template.items() if k != "text"} | {"fee": str(body.fee_wei)}
    return LicenseTxOut(terms_hash="0x" + terms_hash.hex(), terms=shown, legal_text_cid=legal.cid,
                        publish=publish, attach=attach)
