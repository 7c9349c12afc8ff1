"""Read routes the web app needs and no other route provides: the platform's public parameters
(the marketplace of each chain, its EIP-712 domain and fee) and one token's public record (owner,
work, rights record, royalty, license terms), read from the chain, with what the market and the
index know of it (``market``: its catalogue card, open listings and offers, latest auction, price
history, provenance summary; api/works_index.py). Nothing here writes."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from eth_abi.exceptions import InsufficientDataBytes
from fastapi import APIRouter, Path
from pydantic import BaseModel
from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractCustomError, ContractLogicError

from api.deps import DatabaseDep, GatewayDep, Settings
from api.errors import NotFoundError, ServiceUnavailableError
from api.models import Asset
from api.schemas.works import WorkMarket, work_market
from api.types import MAX_CHAIN_ID, Address
from api.works_index import refresh, work_page
from chain.cid import cid_from_bytes
from chain.orders import DOMAIN_NAME, DOMAIN_VERSION

router = APIRouter(prefix="/catalog", tags=["catalog"])
ChainPath = Annotated[int, Path(gt=0, le=MAX_CHAIN_ID)]
TokenPath = Annotated[int, Path(ge=0, lt=2**256)]
ERC1155_INTERFACE = bytes.fromhex("d9b67a26")
NOT_THERE = (ContractLogicError, ContractCustomError, BadFunctionCallOutput, InsufficientDataBytes)
"""What a call to an address that is not such a contract, or to a token that does not exist, raises."""


class ChainInfo(BaseModel):
    chain_id: int
    name: str
    marketplace: str | None
    eip712_domain: dict[str, Any] | None
    """The domain a wallet signs listings and offers under (``eth_signTypedData_v4``)."""
    platform_fee_bps: int | None
    rights_registry: str | None
    identity_registry: str | None
    """The registries whose events an auditor trusts (``chainright verify --rights-registry``, ...)."""
    wrapped_ether: str | None = None
    """The WETH deployed with the platform (a currency Explore filters by; offers are made in it)."""


class Platform(BaseModel):
    chains: list[ChainInfo]
    sign_in_origin: str
    """The origin Sign-In with Ethereum messages name (``CHAINRIGHT_API_SIWE_URI``): pages elsewhere
    cannot sign in, and say so."""
    sign_in_origins: list[str]
    """Every origin sign-in works at: the configured one and, on a loopback host, its twin
    (``localhost`` / ``127.0.0.1``, same port)."""


class Royalty(BaseModel):
    receiver: str
    bps: int
    split: list[dict[str, Any]]
    """When the receiver is a royalty splitter: each recipient and its share (basis points)."""


class RightsRecord(BaseModel):
    content_hash: str
    creator: str
    collection: str
    token_id: str
    registered_at: int
    bound: bool
    """True when the registry's record carries the CID this token's work has."""


class LicenseOut(BaseModel):
    terms_hash: str
    commercial_use: bool
    derivatives_allowed: bool
    attribution_required: bool
    transferable: bool
    revocable: bool
    derivative_revenue_share_bps: int
    duration_s: int
    fee_wei: str
    territories: list[str]
    legal_text_cid: str


class WorkOut(BaseModel):
    chain_id: int
    collection: str
    collection_name: str | None
    token_id: str
    owner: str | None
    """ERC-721: the token's holder. An edition (ERC-1155) has many holders: null."""
    standard: Literal["erc721", "erc1155"] = "erc721"
    work_id: int
    cid: str
    title: str | None
    """The creator's title (else the uploaded file's name), when this API stored the work."""
    media_type: str | None
    size: int | None
    rights: RightsRecord | None
    royalty: Royalty | None
    licenses: list[LicenseOut]
    market: WorkMarket | None = None
    """Tags, description, listings, offers, auction, price history and provenance summary (index)."""


def _try(fn: Any, default: Any = None) -> Any:
    try:
        return fn()
    except Exception:  # a contract without this view, or a token without it: not shown
        return default


@router.get("/platform", response_model=Platform, summary="Chains served, their marketplace, EIP-712 "
            "domain and platform fee (what a wallet page needs to sign orders)")
def platform(gateway: GatewayDep, settings: Settings) -> Platform:
    chains = []
    for spec in gateway.specs():
        market = _try(lambda spec=spec: gateway.address(spec.chain_id, "Marketplace"))
        fee = None
        if market is not None:
            fee = _try(lambda spec=spec, market=market: int(gateway.view(
                spec.chain_id, market, "Marketplace", "platformFeeBps", [])))
        domain = None if market is None else {"name": DOMAIN_NAME, "version": DOMAIN_VERSION,
                                               "chainId": spec.chain_id, "verifyingContract": market}
        chains.append(ChainInfo(
            chain_id=spec.chain_id, name=str(getattr(spec, "name", spec.chain_id)), marketplace=market,
            eip712_domain=domain, platform_fee_bps=fee,
            rights_registry=_try(lambda spec=spec: gateway.address(spec.chain_id, "RightsRegistry")),
            identity_registry=_try(lambda spec=spec: gateway.address(spec.chain_id, "IdentityRegistry")),
            wrapped_ether=_try(lambda spec=spec: gateway.address(spec.chain_id, "WrappedEther"))))
    origins = [uri for _, uri in settings.sign_in_origins()]
    return Platform(chains=chains, sign_in_origin=origins[0], sign_in_origins=origins)


@router.get("/works/{chain_id}/{collection}/{token_id}", response_model=WorkOut,
            summary="One token's public record, read from the chain: owner, work CID, rights record, "
                    "royalty (and its split), license terms attached; and from the index and the book: "
                    "tags, listings, offers, auction, price history, provenance summary")
def work(chain_id: ChainPath, collection: Address, token_id: TokenPath, gateway: GatewayDep,
         database: DatabaseDep) -> WorkOut:
    gateway.spec_for(chain_id)
    address = Web3.to_checksum_address(collection)
    nft = gateway.contract(chain_id, "CreatorCollection", address)
    standard: Literal["erc721", "erc1155"] = "erc721"
    owner: str | None
    try:
        try:
            owner = Web3.to_checksum_address(nft.functions.ownerOf(token_id).call())
            work_id, cid_bytes = nft.functions.workOf(token_id).call()
        except NOT_THERE:
            cid_bytes = _edition_cid(gateway, chain_id, address, token_id)
            if cid_bytes is None:
                raise NotFoundError(f"no token {token_id} in a Chainright collection at {address} on chain "
                                    f"{chain_id}") from None
            owner, work_id, standard = None, token_id, "erc1155"
    except OSError as exc:  # the node stopped answering (requests' errors are OSErrors)
        raise ServiceUnavailableError(f"chain {chain_id} did not answer ({type(exc).__name__})") from None
    cid = cid_from_bytes(bytes(cid_bytes))
    with database.session() as db:
        asset = db.get(Asset, cid)
        title = (asset.title or asset.filename) if asset else None
        media_type = asset.media_type if asset else None
        size = asset.size if asset else None
        content_hash = asset.content_hash if asset else None
    rights = None
    registry_address = _try(lambda: nft.functions.rightsRegistry().call())
    if content_hash and registry_address:
        registry = gateway.contract(chain_id, "RightsRegistry", registry_address)
        record = _try(lambda: registry.functions.recordOf(bytes.fromhex(content_hash[2:])).call())
        if record is not None and int(record[3]) > 0:
            rights = RightsRecord(content_hash=content_hash, creator=record[2], collection=record[0],
                                  token_id=str(record[1]), registered_at=int(record[3]),
                                  bound=bytes(record[4]) == bytes(cid_bytes))
    royalty = None
    info = _try(lambda: nft.functions.royaltyInfo(token_id, 10_000).call())
    if info is not None and int(info[1]) > 0:
        receiver = Web3.to_checksum_address(info[0])
        split: list[dict[str, Any]] = []
        splitter = gateway.contract(chain_id, "RoyaltySplitter", receiver)
        recipients = _try(lambda: splitter.functions.recipients().call())
        if recipients:
            split = [{"account": a, "bps": int(b)}
                     for a, b in zip(recipients[0], recipients[1], strict=False)]
        royalty = Royalty(receiver=receiver, bps=int(info[1]), split=split)
    licenses = []
    licensing = _try(lambda: gateway.contract(chain_id, "Licensing"))
    if licensing is not None:
        for terms_hash in _try(lambda: licensing.functions.attachedTerms(address, token_id).call(), []):
            t = _try(lambda h=terms_hash: licensing.functions.termsOf(h).call())
            if t is None:
                continue
            licenses.append(LicenseOut(
                terms_hash="0x" + bytes(terms_hash).hex(), commercial_use=t[0], derivatives_allowed=t[1],
                attribution_required=t[2], transferable=t[3], revocable=t[4],
                derivative_revenue_share_bps=int(t[5]), duration_s=int(t[6]), fee_wei=str(t[7]),
                territories=[bytes(x).decode(errors="replace") for x in t[8]], legal_text_cid=t[9]))
    name = _try(lambda: nft.functions.name().call())
    refresh(database, gateway)
    with database.session() as db:
        market = work_market(work_page(db, (chain_id, address, str(token_id)), int(time.time())))
    return WorkOut(chain_id=chain_id, collection=address, collection_name=name, token_id=str(token_id),
                   owner=owner, standard=standard, work_id=int(work_id), cid=cid, title=title,
                   media_type=media_type, size=size, rights=rights, royalty=royalty, licenses=licenses,
                   market=market)


def _edition_cid(gateway: Any, chain_id: int, address: str, token_id: int) -> bytes | None:
    """The CID an editions (ERC-1155) collection binds to ``token_id``; None when the address is no
    editions collection or the id holds no work."""
    editions = gateway.contract(chain_id, "Editions1155", address)
    try:
        if not editions.functions.supportsInterface(ERC1155_INTERFACE).call():
            return None
        return bytes(editions.functions.workCid(token_id).call())
    except NOT_THERE:
        return None
