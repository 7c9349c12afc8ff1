"""English auctions in ETH: the transactions that create, bid on, settle, cancel, unwind an auction
and claim a held lot (for the user's wallet, simulated first), and the live auctions to read."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from web3 import Web3

from api.deps import CurrentUser, DbSession, GatewayDep, KycVerifiedUser
from api.errors import ForbiddenError, NotFoundError, UnprocessableError
from api.gateway import ChainGateway
from api.trading import (
    MAX_UINT256,
    Amount,
    ChainIn,
    Moment,
    UnsignedTx,
    amount,
    approval_tx,
    deployed,
    holds,
    iso,
    require_secondary_sales,
    simulate,
    unix,
    unsigned,
    wallet_of,
)
from api.types import MAX_CHAIN_ID, Address

router = APIRouter(prefix="/auctions", tags=["auctions"])

STATUS = ("none", "open", "settled", "cancelled")
ChainId = Annotated[int, Path(gt=0, le=MAX_CHAIN_ID)]
AuctionId = Annotated[int, Path(ge=1, le=MAX_UINT256)]
MAX_SCAN = 500
"""Auctions read per listing, newest first (the contract numbers them 1, 2, ...)."""
ZERO_ADDRESS = "0x" + "00" * 20


class AuctionCreateIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    token: Address
    token_id: int = Field(ge=0, le=MAX_UINT256)
    standard: Literal["erc721", "erc1155"] = "erc721"
    quantity: int = Field(default=1, ge=1, le=2**96 - 1)
    reserve_wei: int = Field(gt=0, le=2**128 - 1, description="The first bid must be at least this")
    min_increment_wei: int = Field(
        default=0, ge=0, le=2**128 - 1, description="Each later bid beats the last by at least this ..."
    )
    min_increment_bps: int = Field(default=500, ge=0, le=10_000, description="... and by this share")
    start: Moment | None = Field(default=None, description="ISO 8601; default: now")
    end: Moment = Field(description="ISO 8601")
    extension_s: int = Field(
        default=300,
        ge=0,
        le=2**32 - 1,
        description="A bid in the last extension_s seconds moves the end to bid time + this",
    )


class AuctionOut(BaseModel):
    chain_id: int
    auction_id: int
    seller: str
    token: str
    token_id: str
    standard: Literal["erc721", "erc1155"]
    quantity: int
    status: Literal["none", "open", "settled", "cancelled"]
    live: bool = Field(description="Open, started and not ended: it takes bids now")
    start: str | None = Field(description="ISO 8601")
    end: str | None = Field(description="ISO 8601 (moves when a late bid extends it)")
    reserve: Amount
    high_bid: Amount
    high_bidder: str | None
    minimum_bid: Amount | None = Field(description="The smallest bid accepted now (while open)")
    min_increment_bps: int
    extension_s: int
    lot_held: bool = Field(description="The lot could not be delivered; its recipient claims it")


class AuctionTxOut(BaseModel):
    approval: UnsignedTx | None = Field(
        description="Send first when present: lets the marketplace take the lot (setApprovalForAll)"
    )
    transaction: UnsignedTx = Field(
        description="createAuction; simulated (gas set) once no approval is missing"
    )
    auction_id: int = Field(description="The id the auction gets if no other auction is created first")


class BidIn(BaseModel):
    amount_wei: int = Field(gt=0, le=MAX_UINT256)


class ClaimLotIn(BaseModel):
    to: Address | None = Field(default=None, description="Default: your wallet")


def _read(gateway: ChainGateway, chain_id: int, auction_id: int) -> AuctionOut:
    market = deployed(gateway, chain_id, "Marketplace")
    a = gateway.view(chain_id, market, "Marketplace", "getAuction", [auction_id])
    (
        seller,
        start,
        end,
        status,
        token,
        standard,
        extension,
        inc_bps,
        _fee,
        lot_held,
        _royalty,
        token_id,
        high_bidder,
        quantity,
        high_bid,
        reserve,
        _inc_wei,
    ) = a
    if int(status) == 0:
        raise NotFoundError(f"no auction {auction_id} on chain {chain_id}")
    now = int(time.time())
    is_open = int(status) == 1
    minimum = gateway.view(chain_id, market, "Marketplace", "minimumBid", [auction_id]) if is_open else None
    zero = "0x" + "00" * 20
    return AuctionOut(
        chain_id=chain_id,
        auction_id=auction_id,
        seller=Web3.to_checksum_address(seller),
        token=Web3.to_checksum_address(token),
        token_id=str(token_id),
        standard="erc721" if int(standard) == 0 else "erc1155",
        quantity=int(quantity),
        status=STATUS[int(status)],  # type: ignore[arg-type]
        live=is_open and int(start) <= now < int(end),
        start=iso(start),
        end=iso(end),
        reserve=amount(reserve),
        high_bid=amount(high_bid),
        high_bidder=None if high_bidder.lower() == zero else Web3.to_checksum_address(high_bidder),
        minimum_bid=amount(minimum) if minimum is not None else None,
        min_increment_bps=int(inc_bps),
        extension_s=int(extension),
        lot_held=bool(lot_held),
    )


@router.get(
    "",
    response_model=list[AuctionOut],
    summary="Auctions on a chain, newest first: by default the live ones (open, started, not ended)",
)
def list_auctions(
    gateway: GatewayDep,
    chain_id: Annotated[int, Query(gt=0, le=MAX_CHAIN_ID)],
    status: Literal["live", "open", "settled", "cancelled", "all"] = "live",
    token: Address | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SCAN)] = 100,
) -> list[AuctionOut]:
    market = deployed(gateway, chain_id, "Marketplace")
    newest = int(gateway.view(chain_id, market, "Marketplace", "nextAuctionId", [])) - 1
    out: list[AuctionOut] = []
    for auction_id in range(newest, max(0, newest - MAX_SCAN), -1):
        a = _read(gateway, chain_id, auction_id)
        if token is not None and a.token != token:
            continue
        if (status == "live" and not a.live) or (status not in ("live", "all") and a.status != status):
            continue
        out.append(a)
        if len(out) >= limit:
            break
    return out


@router.get(
    "/{chain_id}/{auction_id}",
    response_model=AuctionOut,
    summary="One auction: its lot, window (ISO 8601), reserve, high bid and the minimum bid now",
)
def get_auction(chain_id: ChainId, auction_id: AuctionId, gateway: GatewayDep) -> AuctionOut:
    return _read(gateway, chain_id, auction_id)


@router.post(
    "/tx",
    response_model=AuctionTxOut,
    summary="The transaction that escrows your token and opens an English auction (for your wallet)",
)
def create_tx(
    body: AuctionCreateIn, user: KycVerifiedUser, db: DbSession, gateway: GatewayDep
) -> AuctionTxOut:
    seller = wallet_of(user)
    gateway.require_progress(body.chain_id)
    if body.standard == "erc721" and body.quantity != 1:
        raise UnprocessableError("an ERC-721 auction sells exactly one token: quantity must be 1")
    start, end = (unix(body.start) if body.start else 0), unix(body.end)
    if end <= max(start, int(time.time())):
        raise UnprocessableError(f"the auction must end in the future and after its start (end {iso(end)})")
    if not holds(gateway, body.chain_id, body.token, body.standard, body.token_id, seller, body.quantity):
        raise UnprocessableError(
            f"your wallet {seller} does not hold token {body.token_id} of {body.token} "
            f"(quantity {body.quantity}): you can only auction what you hold"
        )
    require_secondary_sales(gateway, db, body.chain_id, body.token, seller)
    market = deployed(gateway, body.chain_id, "Marketplace")
    approval = approval_tx(gateway, body.chain_id, seller, body.token, body.standard, market)
    params = (
        body.token,
        0 if body.standard == "erc721" else 1,
        body.token_id,
        body.quantity,
        body.reserve_wei,
        body.min_increment_wei,
        body.min_increment_bps,
        start,
        end,
        body.extension_s,
    )
    data = gateway.calldata("Marketplace", "createAuction", [params])
    gas = None if approval else simulate(gateway, body.chain_id, seller, market, data, 0, "the auction")
    next_id = int(gateway.view(body.chain_id, market, "Marketplace", "nextAuctionId", []))
    return AuctionTxOut(
        approval=approval,
        transaction=unsigned(body.chain_id, seller, market, data, 0, gas),
        auction_id=next_id,
    )


@router.post(
    "/{chain_id}/{auction_id}/bid-tx",
    response_model=UnsignedTx,
    summary="The transaction that bids on an auction (msg.value is the bid); refused below the minimum",
)
def bid_tx(
    chain_id: ChainId, auction_id: AuctionId, body: BidIn, user: KycVerifiedUser, gateway: GatewayDep
) -> UnsignedTx:
    bidder = wallet_of(user)
    gateway.require_progress(chain_id)
    a = _read(gateway, chain_id, auction_id)
    if a.seller == bidder:
        raise UnprocessableError(
            "this is your own auction: bidding on it is refused (it would only raise "
            "the price others pay); cancel it while it has no bid instead"
        )
    if a.status == "open" and a.minimum_bid is not None and body.amount_wei < int(a.minimum_bid.wei):
        raise UnprocessableError(
            f"a bid of {amount(body.amount_wei).text} on auction {auction_id} is below the minimum of "
            f"{a.minimum_bid.text}; bid at least that",
            error="AuctionBidTooLow",
            minimum=a.minimum_bid.wei,
        )
    market = deployed(gateway, chain_id, "Marketplace")
    data = gateway.calldata("Marketplace", "bid", [auction_id])
    gas = simulate(gateway, chain_id, bidder, market, data, body.amount_wei, "the bid")
    return unsigned(chain_id, bidder, market, data, body.amount_wei, gas)


def _simple(
    gateway: ChainGateway, chain_id: int, sender: str, function: str, args: list[Any], what: str
) -> UnsignedTx:
    gateway.require_progress(chain_id)
    market = deployed(gateway, chain_id, "Marketplace")
    data = gateway.calldata("Marketplace", function, args)
    return unsigned(
        chain_id, sender, market, data, 0, simulate(gateway, chain_id, sender, market, data, 0, what)
    )


@router.post(
    "/{chain_id}/{auction_id}/settle-tx",
    response_model=UnsignedTx,
    summary="The transaction that settles an ended auction (anyone): the lot to the winner, the price "
    "to the seller, royalty and fee",
)
def settle_tx(chain_id: ChainId, auction_id: AuctionId, user: CurrentUser, gateway: GatewayDep) -> UnsignedTx:
    _read(gateway, chain_id, auction_id)
    return _simple(gateway, chain_id, wallet_of(user), "settleAuction", [auction_id], "settling")


@router.post(
    "/{chain_id}/{auction_id}/cancel-tx",
    response_model=UnsignedTx,
    summary="The transaction that cancels your auction while it has no bid (the lot comes back)",
)
def cancel_tx(chain_id: ChainId, auction_id: AuctionId, user: CurrentUser, gateway: GatewayDep) -> UnsignedTx:
    sender = wallet_of(user)
    a = _read(gateway, chain_id, auction_id)
    if a.seller != sender:
        raise ForbiddenError(f"only the seller {a.seller} can cancel auction {auction_id}")
    return _simple(gateway, chain_id, sender, "cancelAuction", [auction_id], "cancelling")


@router.post(
    "/{chain_id}/{auction_id}/unwind-tx",
    response_model=UnsignedTx,
    summary="The transaction that unwinds an auction nobody settled within the grace period (anyone): "
    "the bid back to its bidder, the lot to the seller",
)
def unwind_tx(chain_id: ChainId, auction_id: AuctionId, user: CurrentUser, gateway: GatewayDep) -> UnsignedTx:
    _read(gateway, chain_id, auction_id)
    return _simple(gateway, chain_id, wallet_of(user), "unwindAuction", [auction_id], "unwinding")


@router.post(
    "/{chain_id}/{auction_id}/claim-lot-tx",
    response_model=UnsignedTx,
    summary="The transaction that claims a lot the marketplace could not deliver (its recipient only)",
)
def claim_lot_tx(
    chain_id: ChainId, auction_id: AuctionId, body: ClaimLotIn, user: CurrentUser, gateway: GatewayDep
) -> UnsignedTx:
    sender = wallet_of(user)
    _read(gateway, chain_id, auction_id)
    return _simple(gateway, chain_id, sender, "claimLot", [auction_id, body.to or sender], "claiming the lot")


@router.get(
    "/{chain_id}/credit/{account}",
    response_model=Amount,
    summary="Every ETH credit the marketplace holds for an account (outbid refunds, sale payouts and "
    "royalties whose push failed, the treasury's fees): withdraw it",
)
def credit(chain_id: ChainId, account: Address, gateway: GatewayDep) -> Amount:
    market = deployed(gateway, chain_id, "Marketplace")
    return amount(gateway.view(chain_id, market, "Marketplace", "pendingWithdrawals", [account]))


class WithdrawIn(ChainIn):
    to: Address | None = Field(default=None, description="Where the ETH goes; default: your wallet")


@router.post(
    "/withdraw-tx",
    response_model=UnsignedTx,
    summary="The transaction that withdraws every ETH credit the marketplace holds for you (outbid "
    "refunds, sale payouts and royalties whose push failed, the treasury's fees), to your wallet or an "
    "address you name",
)
def withdraw_tx(body: WithdrawIn, user: CurrentUser, gateway: GatewayDep) -> UnsignedTx:
    """One credit per account on the contract, whatever earned it: ``withdraw``/``withdrawTo`` pay it
    all (ERC-20 credits are apart: POST /market/withdraw-erc20-tx)."""
    chain_id, sender = body.chain_id, wallet_of(user)
    market = deployed(gateway, chain_id, "Marketplace")
    if body.to == ZERO_ADDRESS:
        raise UnprocessableError("the credit cannot go to the zero address: it would be lost")
    if int(gateway.view(chain_id, market, "Marketplace", "pendingWithdrawals", [sender])) == 0:
        raise UnprocessableError(f"the marketplace holds no ETH for {sender} on chain {chain_id}: nothing to "
                                 "withdraw", error="WithdrawalNothingOwed")
    if body.to is None or body.to == sender:
        return _simple(gateway, chain_id, sender, "withdraw", [], "withdrawing")
    return _simple(gateway, chain_id, sender, "withdrawTo", [body.to], "withdrawing")
