"""Buying a license: the terms a work offers (in words, fee in ETH and wei), the transaction that buys
one under chosen terms (exact fee, simulated first), and the licenses a wallet holds now; after the
sale, a grant's life: revoked by the work's licensor (revocable terms), transferred by its holder
(transferable terms), and the fees credited to a receiver whose payout failed, withdrawn; and terms of
one's own (any fee, duration, uses, territories, legal text) published and attached to one's works."""

from __future__ import annotations

import time
from typing import Annotated, Any

from eth_abi.exceptions import DecodingError
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractCustomError, ContractLogicError

from api.deps import ContentStoreDep, CurrentUser, GatewayDep, KycVerifiedUser
from api.errors import ForbiddenError, NotFoundError, UnprocessableError
from api.trading import MAX_UINT256, Amount, UnsignedTx, amount, deployed, iso, simulate, unsigned, wallet_of
from api.types import MAX_CHAIN_ID, Address, Cid

router = APIRouter(prefix="/licenses", tags=["licenses"])
ChainId = Annotated[int, Path(gt=0, le=MAX_CHAIN_ID)]
TokenId = Annotated[int, Path(ge=0, le=MAX_UINT256)]


class TermsOut(BaseModel):
    terms_hash: str
    fee: Amount
    duration_s: int = Field(description="0: perpetual")
    commercial_use: bool
    derivatives_allowed: bool
    attribution_required: bool
    transferable: bool
    revocable: bool
    derivative_revenue_share_bps: int
    territories: list[str] = Field(description="ISO 3166 alpha-2 codes; empty: worldwide")
    legal_text_cid: str
    summary: str = Field(description="The terms in words")


class BuyIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    collection: Address
    token_id: int = Field(ge=0, le=MAX_UINT256)
    terms_hash: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")


class BuyOut(BaseModel):
    transaction: UnsignedTx = Field(description="buyLicense; its value is the exact fee")
    terms: TermsOut


class GrantOut(BaseModel):
    grant_id: int
    licensee: str
    collection: str
    token_id: str
    terms_hash: str
    start: str | None
    expiry: str | None = Field(description="ISO 8601; null: perpetual")
    revoked: bool
    active: bool = Field(description="Not revoked and not expired")


def _summary(t: Any) -> str:
    (
        commercial,
        derivatives,
        attribution,
        transferable,
        revocable,
        share,
        duration,
        fee,
        territories,
        _cid,
    ) = t
    parts = [
        "commercial use" if commercial else "non-commercial use",
        f"derivatives allowed ({share / 100:g}% of their revenue to the licensor)"
        if derivatives
        else "no derivatives",
        "credit the creator" if attribution else "no credit required",
        "transferable" if transferable else "not transferable",
        "revocable by the licensor" if revocable else "irrevocable",
        f"for {duration // 86_400} days" if duration else "perpetual",
        ("in " + ", ".join(bytes(c).decode() for c in territories)) if territories else "worldwide",
    ]
    return "; ".join(parts) + f"; fee {amount(fee).text}"


def _terms(gateway: Any, chain_id: int, licensing: str, terms_hash: bytes) -> TermsOut:
    try:
        t = gateway.view(chain_id, licensing, "Licensing", "termsOf", [terms_hash])
    except (ContractLogicError, ContractCustomError):  # LicenseTermsUnknown
        t = None
    if t is None or not t[9]:
        raise NotFoundError(f"no license terms 0x{terms_hash.hex()} are published on chain {chain_id}")
    return TermsOut(
        terms_hash="0x" + terms_hash.hex(),
        fee=amount(t[7]),
        duration_s=int(t[6]),
        commercial_use=t[0],
        derivatives_allowed=t[1],
        attribution_required=t[2],
        transferable=t[3],
        revocable=t[4],
        derivative_revenue_share_bps=int(t[5]),
        territories=[bytes(c).decode() for c in t[8]],
        legal_text_cid=t[9],
        summary=_summary(t),
    )


@router.get(
    "/offered/{chain_id}/{collection}/{token_id}",
    response_model=list[TermsOut],
    summary="The license terms a work offers (attached by its licensor), in words, with the fee",
)
def offered(chain_id: ChainId, collection: Address, token_id: TokenId, gateway: GatewayDep) -> list[TermsOut]:
    licensing = deployed(gateway, chain_id, "Licensing")
    hashes = gateway.view(chain_id, licensing, "Licensing", "attachedTerms", [collection, token_id])
    return [_terms(gateway, chain_id, licensing, bytes(h)) for h in hashes]


@router.post(
    "/buy-tx",
    response_model=BuyOut,
    summary="The transaction that buys a license to a work under terms it offers (exact fee), for "
    "your wallet",
)
def buy_tx(body: BuyIn, user: KycVerifiedUser, gateway: GatewayDep) -> BuyOut:
    buyer = wallet_of(user)
    gateway.require_progress(body.chain_id)
    licensing = deployed(gateway, body.chain_id, "Licensing")
    terms_hash = bytes.fromhex(body.terms_hash[2:])
    terms = _terms(gateway, body.chain_id, licensing, terms_hash)
    if not gateway.view(
        body.chain_id, licensing, "Licensing", "isAttached", [body.collection, body.token_id, terms_hash]
    ):
        raise UnprocessableError(
            f"token {body.token_id} of {body.collection} does not offer terms {body.terms_hash}; "
            "pick terms it offers (GET /licenses/offered/...)"
        )
    fee = int(terms.fee.wei)
    data = gateway.calldata("Licensing", "buyLicense", [body.collection, body.token_id, terms_hash])
    gas = simulate(gateway, body.chain_id, buyer, licensing, data, fee, "buying the license")
    return BuyOut(transaction=unsigned(body.chain_id, buyer, licensing, data, fee, gas), terms=terms)


@router.get(
    "",
    response_model=list[GrantOut],
    summary="The licenses a wallet holds (bought or transferred to it), newest first; active ones by default",
)
def holdings(
    gateway: GatewayDep,
    chain_id: Annotated[int, Query(gt=0, le=MAX_CHAIN_ID)],
    licensee: Address,
    include_inactive: bool = False,
) -> list[GrantOut]:
    """Read from the chain: the grants the Licensing contract announced to the wallet (bought or
    received), each checked against its current record (a grant transferred away is not listed)."""
    licensing = deployed(gateway, chain_id, "Licensing")
    deployment = gateway.registry.get(chain_id, "Licensing")
    start_block = deployment.block if deployment is not None else 0
    web3 = gateway.web3(chain_id)
    events = {
        item["name"]: item for item in gateway.artifacts.get("Licensing").abi if item.get("type") == "event"
    }
    topic = "0x" + "00" * 12 + licensee[2:].lower()
    ids: set[int] = set()
    for event, position in (("LicenseGranted", 2), ("LicenseTransferred", 3)):
        inputs = ",".join(i["type"] for i in events[event]["inputs"])
        topic0 = "0x" + Web3.keccak(text=f"{event}({inputs})").hex().removeprefix("0x")
        topics: list[Any] = [topic0, None, None, None][: position + 1]
        topics[position] = topic
        logs = web3.eth.get_logs(
            {"address": Web3.to_checksum_address(licensing), "fromBlock": start_block, "toBlock": "latest",
             "topics": topics}
        )
        ids.update(int.from_bytes(bytes(log["topics"][1]), "big") for log in logs)
    now = int(time.time())
    out: list[GrantOut] = []
    for grant_id in sorted(ids, reverse=True):
        holder, start, revoked, collection, expiry, token_id, terms_hash = gateway.view(
            chain_id, licensing, "Licensing", "grantOf", [grant_id]
        )
        if Web3.to_checksum_address(holder) != licensee:
            continue
        active = not revoked and (int(expiry) == 0 or now < int(expiry))
        if active or include_inactive:
            out.append(
                GrantOut(
                    grant_id=grant_id,
                    licensee=licensee,
                    collection=Web3.to_checksum_address(collection),
                    token_id=str(token_id),
                    terms_hash="0x" + bytes(terms_hash).hex(),
                    start=iso(start),
                    expiry=iso(expiry),
                    revoked=bool(revoked),
                    active=active,
                )
            )
    return out


# ------------------------------------------------------------------------ after the sale: the grant's life

GrantId = Annotated[int, Path(ge=1, le=MAX_UINT256)]
ZERO = "0x" + "00" * 20


class GrantTxOut(BaseModel):
    grant: GrantOut = Field(description="The grant as it is now (before the transaction is sent)")
    transaction: UnsignedTx


class TransferIn(BaseModel):
    to: Address = Field(description="Who receives the grant")


class CreditOut(BaseModel):
    chain_id: int
    account: str
    credit: Amount = Field(description="License fees credited to the account (pushes that failed)")


class WithdrawCreditIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    to: Address | None = Field(default=None, description="Where the credit goes; default: your wallet")


def _grant(gateway: Any, chain_id: int, licensing: str, grant_id: int) -> tuple[GrantOut, Any]:
    """The grant (404 when the contract knows no such grant) and the terms it was bought under."""
    try:
        holder, start, revoked, collection, expiry, token_id, terms_hash = gateway.view(
            chain_id, licensing, "Licensing", "grantOf", [grant_id]
        )
    except (ContractLogicError, ContractCustomError):  # LicenseGrantUnknown
        raise NotFoundError(f"no license grant {grant_id} on chain {chain_id}") from None
    terms = gateway.view(chain_id, licensing, "Licensing", "termsOf", [bytes(terms_hash)])
    active = not revoked and (int(expiry) == 0 or int(time.time()) < int(expiry))
    grant = GrantOut(
        grant_id=grant_id,
        licensee=Web3.to_checksum_address(holder),
        collection=Web3.to_checksum_address(collection),
        token_id=str(token_id),
        terms_hash="0x" + bytes(terms_hash).hex(),
        start=iso(start),
        expiry=iso(expiry),
        revoked=bool(revoked),
        active=active,
    )
    return grant, terms


ERC1155_INTERFACE = bytes.fromhex("d9b67a26")
NO_ANSWER = (ContractLogicError, ContractCustomError, BadFunctionCallOutput, DecodingError, ValueError)
"""A view that reverted or returned nothing decodable: not that kind of token (a chain that went away
raises ServiceUnavailableError, which is not caught)."""


def work_licensor(gateway: Any, chain_id: int, collection: str, token_id: int) -> str:
    """The work's licensor as Licensing decides it (``_ownerOf``): the ERC-721 token's owner, or for
    an ERC-1155 collection that knows the work, the collection's owner. Refused in words when neither
    answers (the contract's ``LicenseWorkUnknown``)."""
    try:
        return str(Web3.to_checksum_address(
            gateway.view(chain_id, collection, "CreatorCollection", "ownerOf", [token_id])))
    except NO_ANSWER:
        pass
    try:
        if gateway.view(chain_id, collection, "Editions1155", "supportsInterface", [ERC1155_INTERFACE]):
            gateway.view(chain_id, collection, "Editions1155", "workCid", [token_id])
            owner = gateway.view(chain_id, collection, "Editions1155", "owner", [])
            return str(Web3.to_checksum_address(owner))
    except NO_ANSWER:
        pass
    raise UnprocessableError(f"token {token_id} of {collection} is not a work: mint it first (an ERC-721 "
                             "token, or a work of an editions collection)", error="LicenseWorkUnknown")


def _licensor(gateway: Any, chain_id: int, grant: GrantOut) -> str:
    """Who may revoke the grant: the work's licensor now, as the contract decides."""
    return work_licensor(gateway, chain_id, grant.collection, int(grant.token_id))


@router.get(
    "/grants/{chain_id}/{grant_id}",
    response_model=GrantOut,
    summary="One license grant: its holder, work, terms, dates and whether it is active",
)
def grant(chain_id: ChainId, grant_id: GrantId, gateway: GatewayDep) -> GrantOut:
    return _grant(gateway, chain_id, deployed(gateway, chain_id, "Licensing"), grant_id)[0]


@router.post(
    "/grants/{chain_id}/{grant_id}/revoke-tx",
    response_model=GrantTxOut,
    summary="The transaction that revokes a license grant (the work's licensor only, and only under "
    "revocable terms)",
)
def revoke_tx(chain_id: ChainId, grant_id: GrantId, user: CurrentUser, gateway: GatewayDep) -> GrantTxOut:
    sender = wallet_of(user)
    licensing = deployed(gateway, chain_id, "Licensing")
    grant, terms = _grant(gateway, chain_id, licensing, grant_id)
    licensor = _licensor(gateway, chain_id, grant)
    if sender != licensor:
        raise ForbiddenError(
            f"only the work's licensor ({licensor}, who owns token {grant.token_id} now) can revoke "
            f"grant {grant_id}; you are {sender}"
        )
    if not terms[4]:
        raise UnprocessableError(
            f"grant {grant_id} was bought under irrevocable terms: nobody can revoke it",
            error="LicenseNotRevocable",
        )
    if grant.revoked:
        raise UnprocessableError(f"grant {grant_id} is already revoked", error="LicenseGrantRevoked")
    gateway.require_progress(chain_id)
    data = gateway.calldata("Licensing", "revokeLicense", [grant_id])
    gas = simulate(gateway, chain_id, sender, licensing, data, 0, f"revoking grant {grant_id}")
    return GrantTxOut(grant=grant, transaction=unsigned(chain_id, sender, licensing, data, 0, gas))


@router.post(
    "/grants/{chain_id}/{grant_id}/transfer-tx",
    response_model=GrantTxOut,
    summary="The transaction that transfers your license grant to another wallet (only under "
    "transferable terms, while it is active)",
)
def transfer_tx(
    chain_id: ChainId, grant_id: GrantId, body: TransferIn, user: KycVerifiedUser, gateway: GatewayDep
) -> GrantTxOut:
    sender = wallet_of(user)
    licensing = deployed(gateway, chain_id, "Licensing")
    grant, terms = _grant(gateway, chain_id, licensing, grant_id)
    if sender != grant.licensee:
        raise ForbiddenError(
            f"only the holder of grant {grant_id} ({grant.licensee}) can transfer it; you are {sender}"
        )
    if not terms[3]:
        raise UnprocessableError(
            f"grant {grant_id} was bought under personal terms: it cannot be transferred",
            error="LicenseNotTransferable",
        )
    if grant.revoked:
        raise UnprocessableError(
            f"grant {grant_id} is revoked: it cannot be transferred", error="LicenseGrantRevoked"
        )
    if not grant.active:
        raise UnprocessableError(f"grant {grant_id} expired at {grant.expiry}: it cannot be transferred",
                                 error="LicenseExpired")
    if body.to in (ZERO, sender):
        raise UnprocessableError(
            "a grant goes to another wallet: not the zero address nor its holder",
            error="LicenseRecipientInvalid",
        )
    gateway.require_progress(chain_id)
    data = gateway.calldata("Licensing", "transferLicense", [grant_id, body.to])
    gas = simulate(gateway, chain_id, sender, licensing, data, 0, f"transferring grant {grant_id}")
    return GrantTxOut(grant=grant, transaction=unsigned(chain_id, sender, licensing, data, 0, gas))


@router.get(
    "/credit/{chain_id}/{account}",
    response_model=CreditOut,
    summary="License fees credited to an account because paying them out failed (withdrawable)",
)
def credit(chain_id: ChainId, account: Address, gateway: GatewayDep) -> CreditOut:
    licensing = deployed(gateway, chain_id, "Licensing")
    owed = int(gateway.view(chain_id, licensing, "Licensing", "creditOf", [account]))
    return CreditOut(chain_id=chain_id, account=account, credit=amount(owed))


@router.post(
    "/withdraw-credit-tx",
    response_model=UnsignedTx,
    summary="The transaction that withdraws the license fees credited to your wallet",
)
def withdraw_credit_tx(body: WithdrawCreditIn, user: CurrentUser, gateway: GatewayDep) -> UnsignedTx:
    sender = wallet_of(user)
    licensing = deployed(gateway, body.chain_id, "Licensing")
    to = body.to or sender
    if to == ZERO:
        raise UnprocessableError("the credit cannot go to the zero address", error="LicenseRecipientInvalid")
    owed = int(gateway.view(body.chain_id, licensing, "Licensing", "creditOf", [sender]))
    if owed == 0:
        raise UnprocessableError(
            f"your wallet {sender} has no license fees credited on chain {body.chain_id}: "
            "nothing to withdraw",
            error="LicenseNoCredit",
        )
    gateway.require_progress(body.chain_id)
    data = gateway.calldata("Licensing", "withdrawCredit", [to])
    gas = simulate(gateway, body.chain_id, sender, licensing, data, 0, "withdrawing the license credit")
    return unsigned(body.chain_id, sender, licensing, data, 0, gas)


# ------------------------------------------------------------------------ custom terms, published by anyone

MAX_UINT64 = 2**64 - 1
MAX_TERRITORIES = 250


class PublishTermsIn(BaseModel):
    """Every field of the contract's ``LicenseTerms``, named in words; the legal text is given as text
    (stored here, by CID) or as the CID of a text already stored."""

    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    fee_wei: int = Field(ge=0, le=MAX_UINT256, description="What a licensee pays, exactly, in wei")
    duration_s: int = Field(default=0, ge=0, le=MAX_UINT64,
                            description="How long a grant lasts; 0: perpetual")
    commercial_use: bool = False
    derivatives_allowed: bool = False
    attribution_required: bool = True
    transferable: bool = False
    revocable: bool = False
    derivative_revenue_share_bps: int = Field(
        default=0, ge=0, le=10_000, description="Share of derivative revenue owed to the licensor (100 = 1%)")
    territories: list[str] = Field(default_factory=list, max_length=MAX_TERRITORIES,
                                   description="ISO 3166 alpha-2 codes (any order); empty: worldwide")
    legal_text: str | None = Field(default=None, min_length=1, max_length=100_000)
    legal_text_cid: Cid | None = None
    collection: Address | None = Field(default=None, description="Attach the terms to these works of yours")
    token_ids: list[Annotated[int, Field(ge=0, le=MAX_UINT256)]] = Field(default_factory=list, max_length=50)


class PublishTermsOut(BaseModel):
    terms_hash: str
    terms: TermsOut
    publish: UnsignedTx | None = Field(description="Send first; null when these terms are already published")
    attach: list[UnsignedTx] = Field(description="Then one per work (simulated once the terms are published)")


def _territories(codes: list[str]) -> list[bytes]:
    """The codes as the contract takes them: two capital letters each, strictly ascending."""
    bad = [c for c in codes if len(c) != 2 or not all("A" <= ch <= "Z" for ch in c)]
    if bad:
        raise UnprocessableError(
            "territories are ISO 3166 alpha-2 codes, two capital letters (FR, DE, US): not "
            + ", ".join(map(repr, bad)),
            error="LicenseTermsTerritoryInvalid")
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise UnprocessableError(f"territory {', '.join(twice)} is named more than once",
                                 error="LicenseTermsTerritoriesNotAscending")
    return [c.encode() for c in sorted(codes)]


@router.post(
    "/terms-tx",
    response_model=PublishTermsOut,
    summary="The transactions that publish license terms of your own (fee, duration, uses, territories, "
    "legal text) and attach them to your works",
)
def publish_terms_tx(body: PublishTermsIn, user: KycVerifiedUser, gateway: GatewayDep,
                     store: ContentStoreDep) -> PublishTermsOut:
    sender = wallet_of(user)
    if (body.legal_text is None) == (body.legal_text_cid is None):
        raise UnprocessableError("give the legal text of the terms, either as text (legal_text) or as "
                                 "the CID of a text already stored (legal_text_cid), not both",
                                 error="LicenseTermsLegalTextMissing")
    if body.derivative_revenue_share_bps and not body.derivatives_allowed:
        raise UnprocessableError(
            f"a {body.derivative_revenue_share_bps / 100:g}% share of derivative revenue means nothing when "
            "derivatives are not allowed: allow derivatives or set the share to 0")
    if body.token_ids and body.collection is None:
        raise UnprocessableError("token_ids name works of a collection: give the collection too")
    territories = _territories(body.territories)
    cid = body.legal_text_cid or store.add(str(body.legal_text).encode()).cid
    terms: tuple[Any, ...] = (
        body.commercial_use, body.derivatives_allowed, body.attribution_required, body.transferable,
        body.revocable, body.derivative_revenue_share_bps, body.duration_s, body.fee_wei, territories, cid)
    gateway.require_progress(body.chain_id)
    licensing = deployed(gateway, body.chain_id, "Licensing")
    terms_hash = bytes(gateway.view(body.chain_id, licensing, "Licensing", "hashTerms", [terms]))
    published = bool(gateway.view(body.chain_id, licensing, "Licensing", "isPublished", [terms_hash]))
    publish = None
    if not published:
        data = gateway.calldata("Licensing", "publishTerms", [terms])
        gas = simulate(gateway, body.chain_id, sender, licensing, data, 0, "publishing the terms")
        publish = unsigned(body.chain_id, sender, licensing, data, 0, gas)
    attach = []
    for token_id in dict.fromkeys(body.token_ids):
        assert body.collection is not None
        owner = work_licensor(gateway, body.chain_id, body.collection, token_id)
        if owner != sender:
            raise ForbiddenError(f"only the work's licensor attaches license terms to it (the token's owner; "
                                 f"for editions, the collection's owner): for token {token_id} that is "
                                 f"{owner}, you are {sender}")
        where = [body.collection, token_id, terms_hash]
        if gateway.view(body.chain_id, licensing, "Licensing", "isAttached", where):
            continue
        data = gateway.calldata("Licensing", "attachTerms", where)
        attach_gas: int | None = None  # attaching unpublished terms would revert: simulated once they are
        if published:
            attach_gas = simulate(gateway, body.chain_id, sender, licensing, data, 0, "attaching the terms")
        attach.append(unsigned(body.chain_id, sender, licensing, data, 0, attach_gas))
    shown = TermsOut(
        terms_hash="0x" + terms_hash.hex(), fee=amount(body.fee_wei), duration_s=body.duration_s,
        commercial_use=body.commercial_use, derivatives_allowed=body.derivatives_allowed,
        attribution_required=body.attribution_required, transferable=body.transferable,
        revocable=body.revocable,
        derivative_revenue_share_bps=body.derivative_revenue_share_bps,
        territories=[t.decode() for t in territories], legal_text_cid=cid, summary=_summary(terms))
    return PublishTermsOut(terms_hash=shown.terms_hash, terms=shown, publish=publish, attach=attach)
