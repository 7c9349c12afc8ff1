"""Milestone escrow for commissioned work: the transactions each party signs (create and fund, in ETH
or an ERC-20 such as the chain's wrapped ETH, accept the terms, deliver, accept, dispute, arbitrate,
and the time-outs: reclaim, claim, settle a lapsed dispute), each for the one party the contract
allows, simulated first; the escrow to read with what each party can do next; and the pull payments
(payouts that failed, credited) read and withdrawn by their payee."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AfterValidator, BaseModel, Field, model_validator
from web3 import Web3

from api.deps import CurrentUser, DbSession, GatewayDep, KycVerifiedUser
from api.errors import ForbiddenError, NotFoundError, UnprocessableError
from api.gateway import ChainGateway
from api.models import Asset
from api.trading import (
    MAX_UINT256,
    Amount,
    Moment,
    UnsignedTx,
    amount,
    deployed,
    iso,
    simulate,
    unix,
    unsigned,
    wallet_of,
)
from api.types import MAX_CHAIN_ID, Address, checksum_address
from chain.formatting import format_wei

router = APIRouter(prefix="/escrows", tags=["escrow"])

STATES = ("none", "funded", "delivered", "disputed", "released", "refunded", "resolved")
ZERO = "0x" + "00" * 20
MAX_PERIOD_S = 90 * 86_400
MAX_SCAN = 500
ChainId = Annotated[int, Path(gt=0, le=MAX_CHAIN_ID)]
EscrowId = Annotated[int, Path(ge=1, le=MAX_UINT256)]
Index = Annotated[int, Path(ge=0, lt=32)]
Party = Literal["buyer", "seller", "arbitrator"]


def _currency(value: str) -> str:
    if value.upper() in ("ETH", "WETH"):
        return value.upper()
    return checksum_address(value)


Currency = Annotated[str, AfterValidator(_currency)]
"""'ETH', 'WETH' (the chain's wrapped ETH) or an ERC-20 address (checksummed)."""


class CurrencyIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    currency: Currency = Field(default="ETH", description="'ETH', 'WETH' or an ERC-20 address")


class WithdrawIn(CurrencyIn):
    to: Address | None = Field(default=None, description="Where the credit goes; default: your wallet")


class CreditOut(BaseModel):
    chain_id: int
    account: str
    currency: str = Field(description="'ETH' or the ERC-20's address")
    credit: Amount = Field(description="Payouts to the account that failed, held for it to withdraw")


class MilestoneIn(BaseModel):
    amount_wei: int = Field(gt=0, le=2**128 - 1)
    deadline: Moment = Field(description="ISO 8601: the last second the seller may deliver")


class EscrowCreateIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    seller: Address
    arbitrator: Address
    milestones: list[MilestoneIn] = Field(min_length=1, max_length=32)
    review_period_s: int = Field(
        default=3 * 86_400,
        gt=0,
        le=MAX_PERIOD_S,
        description="Seconds the buyer has after each delivery to accept or dispute",
    )
    arbitration_period_s: int = Field(
        default=7 * 86_400, gt=0, le=MAX_PERIOD_S, description="Seconds the arbitrator has after a dispute"
    )
    default_seller_bps: int = Field(
        default=5_000,
        ge=0,
        le=10_000,
        description="The seller's share of a dispute the arbitrator left unanswered",
    )
    royalty_receiver: Address | None = None
    royalty_bps: int = Field(default=0, ge=0, le=10_000)
    currency: Currency = Field(
        default="ETH",
        description="What the milestones are paid in: 'ETH', 'WETH' (the chain's wrapped ETH, an ERC-20) "
        "or an ERC-20's address; amounts are in its smallest unit",
    )

    @model_validator(mode="after")
    def _royalty(self) -> EscrowCreateIn:
        if (self.royalty_receiver is None) != (self.royalty_bps == 0):
            raise ValueError("give both royalty_receiver and royalty_bps, or neither")
        return self


class EscrowTxOut(BaseModel):
    transaction: UnsignedTx = Field(
        description="createEscrow; in ETH its value funds every milestone, in an ERC-20 the escrow "
        "pulls the total (gas null: send `approval` first, then ask again)"
    )
    approval: UnsignedTx | None = Field(
        default=None, description="ERC-20 escrows: approve(escrow, total), when the allowance is short"
    )
    currency: str = Field(default="ETH", description="'ETH' or the ERC-20's address")
    total: Amount
    escrow_id: int = Field(description="The id the escrow gets if no other escrow is created first")


class MilestoneOut(BaseModel):
    index: int
    amount: Amount
    state: str
    deadline: str | None = Field(description="ISO 8601: the last second the seller may deliver")
    delivered_at: str | None
    review_ends: str | None = Field(description="Delivered: until when the buyer may accept or dispute")
    disputed_at: str | None
    arbitration_ends: str | None = Field(
        description="Disputed: from then anyone may settle it with the default split"
    )


class EscrowOut(BaseModel):
    chain_id: int
    escrow_id: int
    buyer: str
    seller: str
    arbitrator: str
    currency: str = Field(description="'ETH' or an ERC-20 address")
    seller_accepted: bool = Field(description="The seller accepted the terms; deliveries count from then")
    review_period_s: int
    arbitration_period_s: int
    default_seller_bps: int
    fee_bps: int
    royalty_receiver: str | None
    royalty_bps: int
    open_amount: Amount = Field(description="What the escrow still holds (its open milestones)")
    milestones: list[MilestoneOut]
    next_steps: list[str] = Field(description="What each party can do now, in words")


class DeliverIn(BaseModel):
    cid: str = Field(min_length=1, max_length=200, description="The delivered work's CID")
    content_hash: str | None = Field(
        default=None,
        pattern=r"^0x[0-9a-fA-F]{64}$",
        description="Default: the hash of your upload with this CID (POST /assets)",
    )


class ArbitrateIn(BaseModel):
    seller_bps: int = Field(
        ge=0, le=10_000, description="The seller's share; the rest goes back to the buyer"
    )


def _escrow(gateway: ChainGateway, chain_id: int, escrow_id: int) -> tuple[Any, list[Any], int]:
    address = deployed(gateway, chain_id, "MilestoneEscrow")
    try:
        terms = gateway.view(chain_id, address, "MilestoneEscrow", "getEscrow", [escrow_id])
    except Exception:
        terms = None
    if terms is None or terms[0].lower() == ZERO:
        raise NotFoundError(f"no escrow {escrow_id} on chain {chain_id}")
    milestones = [
        gateway.view(chain_id, address, "MilestoneEscrow", "getMilestone", [escrow_id, i])
        for i in range(int(terms[3]))
    ]
    held = int(gateway.view(chain_id, address, "MilestoneEscrow", "openAmount", [escrow_id]))
    return terms, milestones, held


def _read(gateway: ChainGateway, chain_id: int, escrow_id: int) -> EscrowOut:
    terms, milestones, held = _escrow(gateway, chain_id, escrow_id)
    (
        buyer,
        review,
        fee_bps,
        _count,
        accepted,
        seller,
        royalty_bps,
        arbitrator,
        arbitration,
        default_bps,
        currency,
        royalty_receiver,
    ) = terms
    now = int(time.time())
    out: list[MilestoneOut] = []
    steps: list[str] = []
    if not accepted:
        steps.append(
            "seller: accept the terms (accept-terms-tx) before delivering; until then the buyer may "
            "reclaim any milestone"
        )
    for index, (value, deadline, delivered_at, state, disputed_at) in enumerate(milestones):
        state_name = STATES[int(state)]
        review_ends = (
            int(delivered_at) + int(review) if int(delivered_at) and state_name == "delivered" else None
        )
        arbitration_ends = int(disputed_at) + int(arbitration) if state_name == "disputed" else None
        out.append(
            MilestoneOut(
                index=index,
                amount=amount(value),
                state=state_name,
                deadline=iso(deadline),
                delivered_at=iso(delivered_at),
                review_ends=iso(review_ends),
                disputed_at=iso(disputed_at),
                arbitration_ends=iso(arbitration_ends),
            )
        )
        if state_name == "funded":
            if accepted and now <= int(deadline):
                steps.append(f"seller: deliver milestone {index} by {iso(deadline)}")
            if not accepted or now > int(deadline):
                steps.append(f"buyer: reclaim milestone {index} (reclaim-tx)")
        elif state_name == "delivered" and review_ends is not None:
            if now <= review_ends:
                steps.append(f"buyer: accept or dispute milestone {index} by {iso(review_ends)}")
            else:
                steps.append(f"seller: claim milestone {index} (the review period lapsed)")
        elif state_name == "disputed" and arbitration_ends is not None:
            steps.append(
                f"arbitrator: decide milestone {index}"
                + (
                    f" by {iso(arbitration_ends)}"
                    if now <= arbitration_ends
                    else "; anyone may now settle it with the default split (settle-lapsed-tx)"
                )
            )
    return EscrowOut(
        chain_id=chain_id,
        escrow_id=escrow_id,
        buyer=Web3.to_checksum_address(buyer),
        seller=Web3.to_checksum_address(seller),
        arbitrator=Web3.to_checksum_address(arbitrator),
        currency="ETH" if currency.lower() == ZERO else Web3.to_checksum_address(currency),
        seller_accepted=bool(accepted),
        review_period_s=int(review),
        arbitration_period_s=int(arbitration),
        default_seller_bps=int(default_bps),
        fee_bps=int(fee_bps),
        royalty_receiver=None
        if royalty_receiver.lower() == ZERO
        else Web3.to_checksum_address(royalty_receiver),
        royalty_bps=int(royalty_bps),
        open_amount=amount(held),
        milestones=out,
        next_steps=steps,
    )


@router.post(
    "/tx",
    response_model=EscrowTxOut,
    summary="The transaction that creates an escrow and funds all its milestones (for the buyer's wallet)",
)
def create_tx(body: EscrowCreateIn, user: KycVerifiedUser, gateway: GatewayDep) -> EscrowTxOut:
    buyer = wallet_of(user)
    gateway.require_progress(body.chain_id)
    if buyer in (body.seller, body.arbitrator) or body.seller == body.arbitrator:
        raise UnprocessableError("buyer, seller and arbitrator must be three different accounts")
    address = deployed(gateway, body.chain_id, "MilestoneEscrow")
    token = _token(gateway, body.chain_id, body.currency)
    royalty = body.royalty_receiver or ZERO
    terms = (body.arbitration_period_s, body.default_seller_bps, royalty, body.royalty_bps)
    milestones = [(m.amount_wei, unix(m.deadline)) for m in body.milestones]
    total = sum(m.amount_wei for m in body.milestones)
    data = gateway.calldata(
        "MilestoneEscrow",
        "createEscrow",
        [body.seller, body.arbitrator, token, body.review_period_s, terms, milestones],
    )
    value = total if token == ZERO else 0
    approval = None
    if token != ZERO:
        approval = _erc20_approval(gateway, body.chain_id, buyer, token, address, total)
    gas = None if approval else simulate(gateway, body.chain_id, buyer, address, data, value,
                                         "creating the escrow")
    next_id = int(gateway.view(body.chain_id, address, "MilestoneEscrow", "nextEscrowId", []))
    return EscrowTxOut(
        transaction=unsigned(body.chain_id, buyer, address, data, value, gas),
        approval=approval,
        currency="ETH" if token == ZERO else token,
        total=amount(total),
        escrow_id=next_id,
    )


def _token(gateway: ChainGateway, chain_id: int, currency: str) -> str:
    """The address createEscrow and withdraw take for ``currency`` (ETH: the zero address); an
    address without a contract is refused (422), as the escrow could never pull or pay it."""
    if currency == "ETH":
        return ZERO
    if currency == "WETH":
        return deployed(gateway, chain_id, "WrappedEther")
    if not gateway.web3(chain_id).eth.get_code(Web3.to_checksum_address(currency)):
        raise UnprocessableError(f"{currency} is not a contract on chain {chain_id}: give 'ETH', 'WETH' "
                                 "or an ERC-20's address")
    return currency


def _erc20_approval(gateway: ChainGateway, chain_id: int, buyer: str, token: str, escrow: str,
                    total: int) -> UnsignedTx | None:
    """The buyer's balance must cover the total (else a 422 saying how much is missing); the approve
    transaction when the escrow may not pull it yet, else None."""
    try:
        balance = int(gateway.view(chain_id, token, "WrappedEther", "balanceOf", [buyer]))
        allowed = int(gateway.view(chain_id, token, "WrappedEther", "allowance", [buyer, escrow]))
    except Exception:
        raise UnprocessableError(f"{token} cannot be read as an ERC-20 on chain {chain_id}") from None
    if balance < total:
        hint = " (wrap ETH first: POST /offers/weth/deposit-tx)" if token == deployed(
            gateway, chain_id, "WrappedEther") else ""
        raise UnprocessableError(
            f"the escrow's total is {format_wei(total)} of {token} but your wallet {buyer} holds "
            f"{format_wei(balance)}{hint}", error="EscrowUnderfunded")
    if allowed >= total:
        return None
    data = gateway.calldata("WrappedEther", "approve", [escrow, total])
    return unsigned(chain_id, buyer, token, data, 0, simulate(gateway, chain_id, buyer, token, data, 0,
                                                              "approving the escrow"))


@router.get("", response_model=list[EscrowOut], summary="Escrows an account is a party of, newest first")
def list_escrows(
    gateway: GatewayDep,
    chain_id: Annotated[int, Query(gt=0, le=MAX_CHAIN_ID)],
    party: Address,
    limit: Annotated[int, Query(ge=1, le=MAX_SCAN)] = 50,
) -> list[EscrowOut]:
    address = deployed(gateway, chain_id, "MilestoneEscrow")
    newest = int(gateway.view(chain_id, address, "MilestoneEscrow", "nextEscrowId", [])) - 1
    out: list[EscrowOut] = []
    for escrow_id in range(newest, max(0, newest - MAX_SCAN), -1):
        terms = gateway.view(chain_id, address, "MilestoneEscrow", "getEscrow", [escrow_id])
        if party.lower() in (terms[0].lower(), terms[5].lower(), terms[7].lower()):
            out.append(_read(gateway, chain_id, escrow_id))
            if len(out) >= limit:
                break
    return out


@router.get(
    "/{chain_id}/{escrow_id}",
    response_model=EscrowOut,
    summary="An escrow: parties, terms, milestones (ETH and wei, ISO 8601 dates) and each party's next step",
)
def get_escrow(chain_id: ChainId, escrow_id: EscrowId, gateway: GatewayDep) -> EscrowOut:
    return _read(gateway, chain_id, escrow_id)


def _party_tx(
    gateway: ChainGateway,
    user: Any,
    chain_id: int,
    escrow_id: int,
    party: Party | None,
    function: str,
    args: list[Any],
    what: str,
) -> UnsignedTx:
    """The escrow call ``function`` for the caller, who must be the escrow's ``party`` (None: anyone)."""
    sender = wallet_of(user)
    view = _read(gateway, chain_id, escrow_id)
    if party is not None:
        expected = getattr(view, party)
        if sender != expected:
            raise ForbiddenError(
                f"only the {party} of escrow {escrow_id} ({expected}) can {what}; you are {sender}",
                party=party,
            )
    gateway.require_progress(chain_id)
    address = deployed(gateway, chain_id, "MilestoneEscrow")
    data = gateway.calldata("MilestoneEscrow", function, args)
    return unsigned(
        chain_id, sender, address, data, 0, simulate(gateway, chain_id, sender, address, data, 0, what)
    )


@router.post(
    "/{chain_id}/{escrow_id}/accept-terms-tx",
    response_model=UnsignedTx,
    summary="The transaction that accepts the escrow's terms (the seller); deliveries count from then",
)
def accept_terms_tx(
    chain_id: ChainId, escrow_id: EscrowId, user: CurrentUser, gateway: GatewayDep
) -> UnsignedTx:
    return _party_tx(
        gateway, user, chain_id, escrow_id, "seller", "acceptEscrow", [escrow_id], "accept its terms"
    )


@router.post(
    "/{chain_id}/{escrow_id}/milestones/{index}/deliver-tx",
    response_model=UnsignedTx,
    summary="The transaction that delivers a milestone: the work's content hash and CID (the seller)",
)
def deliver_tx(
    chain_id: ChainId,
    escrow_id: EscrowId,
    index: Index,
    body: DeliverIn,
    user: CurrentUser,
    db: DbSession,
    gateway: GatewayDep,
) -> UnsignedTx:
    content_hash = body.content_hash
    if content_hash is None:
        row = db.get(Asset, body.cid)
        if row is None or row.uploader != user.did:
            raise UnprocessableError(
                f"no upload of yours has CID {body.cid}: upload the work first (POST "
                "/assets) or give its content_hash"
            )
        content_hash = row.content_hash
    return _party_tx(
        gateway,
        user,
        chain_id,
        escrow_id,
        "seller",
        "deliverMilestone",
        [escrow_id, index, bytes.fromhex(content_hash[2:]), body.cid],
        f"deliver milestone {index}",
    )


@router.post(
    "/{chain_id}/{escrow_id}/milestones/{index}/accept-tx",
    response_model=UnsignedTx,
    summary="The transaction that accepts a delivered milestone and releases it to the seller (the buyer)",
)
def accept_tx(
    chain_id: ChainId, escrow_id: EscrowId, index: Index, user: CurrentUser, gateway: GatewayDep
) -> UnsignedTx:
    return _party_tx(
        gateway,
        user,
        chain_id,
        escrow_id,
        "buyer",
        "acceptMilestone",
        [escrow_id, index],
        f"accept milestone {index}",
    )


@router.post(
    "/{chain_id}/{escrow_id}/milestones/{index}/dispute-tx",
    response_model=UnsignedTx,
    summary="The transaction that disputes a delivered milestone within its review period (the buyer)",
)
def dispute_tx(
    chain_id: ChainId, escrow_id: EscrowId, index: Index, user: CurrentUser, gateway: GatewayDep
) -> UnsignedTx:
    return _party_tx(
        gateway,
        user,
        chain_id,
        escrow_id,
        "buyer",
        "disputeMilestone",
        [escrow_id, index],
        f"dispute milestone {index}",
    )


@router.post(
    "/{chain_id}/{escrow_id}/milestones/{index}/arbitrate-tx",
    response_model=UnsignedTx,
    summary="The transaction that splits a disputed milestone between seller and buyer (the arbitrator)",
)
def arbitrate_tx(
    chain_id: ChainId,
    escrow_id: EscrowId,
    index: Index,
    body: ArbitrateIn,
    user: CurrentUser,
    gateway: GatewayDep,
) -> UnsignedTx:
    return _party_tx(
        gateway,
        user,
        chain_id,
        escrow_id,
        "arbitrator",
        "resolveDispute",
        [escrow_id, index, body.seller_bps],
        f"decide the dispute over milestone {index}",
    )


@router.post(
    "/{chain_id}/{escrow_id}/milestones/{index}/settle-lapsed-tx",
    response_model=UnsignedTx,
    summary="Time-out: the transaction that settles a dispute the arbitrator left unanswered, with the "
    "default split (anyone)",
)
def settle_lapsed_tx(
    chain_id: ChainId, escrow_id: EscrowId, index: Index, user: CurrentUser, gateway: GatewayDep
) -> UnsignedTx:
    return _party_tx(
        gateway,
        user,
        chain_id,
        escrow_id,
        None,
        "settleLapsedDispute",
        [escrow_id, index],
        f"settle the lapsed dispute over milestone {index}",
    )


@router.post(
    "/{chain_id}/{escrow_id}/milestones/{index}/reclaim-tx",
    response_model=UnsignedTx,
    summary="Time-out: the transaction that takes back a milestone the seller did not deliver by its "
    "deadline (the buyer)",
)
def reclaim_tx(
    chain_id: ChainId, escrow_id: EscrowId, index: Index, user: CurrentUser, gateway: GatewayDep
) -> UnsignedTx:
    return _party_tx(
        gateway,
        user,
        chain_id,
        escrow_id,
        "buyer",
        "reclaimMilestone",
        [escrow_id, index],
        f"reclaim milestone {index}",
    )


@router.post(
    "/{chain_id}/{escrow_id}/milestones/{index}/claim-tx",
    response_model=UnsignedTx,
    summary="Time-out: the transaction that claims a delivered milestone the buyer neither accepted nor "
    "disputed in time (the seller)",
)
def claim_tx(
    chain_id: ChainId, escrow_id: EscrowId, index: Index, user: CurrentUser, gateway: GatewayDep
) -> UnsignedTx:
    return _party_tx(
        gateway,
        user,
        chain_id,
        escrow_id,
        "seller",
        "claimMilestone",
        [escrow_id, index],
        f"claim milestone {index}",
    )


@router.post(
    "/withdraw-tx",
    response_model=UnsignedTx,
    summary="The transaction that withdraws what the escrow credited to you (payouts that failed), in "
    "ETH or an ERC-20, to your wallet or an address you name",
)
def withdraw_tx(body: WithdrawIn, user: CurrentUser, gateway: GatewayDep) -> UnsignedTx:
    chain_id = body.chain_id
    sender = wallet_of(user)
    if body.to == ZERO:
        raise UnprocessableError("the credit cannot go to the zero address: it would be lost")
    gateway.require_progress(chain_id)
    address = deployed(gateway, chain_id, "MilestoneEscrow")
    token = _token(gateway, chain_id, body.currency)
    if body.to is None or body.to == sender:
        data = gateway.calldata("MilestoneEscrow", "withdraw", [token])
    else:  # the contract pays the caller's own credit only, to the address it names
        data = gateway.calldata("MilestoneEscrow", "withdrawTo", [token, body.to])
    return unsigned(
        chain_id,
        sender,
        address,
        data,
        0,
        simulate(gateway, chain_id, sender, address, data, 0, "withdrawing"),
    )


@router.get(
    "/credit/{chain_id}/{account}",
    response_model=CreditOut,
    summary="What the escrow holds for an account because paying it out failed (ETH or an ERC-20)",
)
def credit(
    chain_id: ChainId, account: Address, gateway: GatewayDep, currency: Annotated[Currency, Query()] = "ETH"
) -> CreditOut:
    address = deployed(gateway, chain_id, "MilestoneEscrow")
    token = _token(gateway, chain_id, currency)
    owed = int(gateway.view(chain_id, address, "MilestoneEscrow", "pendingWithdrawals", [token, account]))
    return CreditOut(chain_id=chain_id, account=account, currency="ETH" if token == ZERO else token,
                     credit=amount(owed))
