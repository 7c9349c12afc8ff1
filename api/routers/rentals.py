"""Rentals (ERC-4907): the transaction by which a token's holder lets another account use it until a
date (or ends the rental), and who uses a token now."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from web3 import Web3

from api.deps import GatewayDep, KycVerifiedUser
from api.errors import ForbiddenError, UnprocessableError
from api.trading import MAX_UINT256, Moment, UnsignedTx, holds, iso, simulate, unix, unsigned, wallet_of
from api.types import MAX_CHAIN_ID, Address

router = APIRouter(prefix="/rentals", tags=["rentals"])
ZERO = "0x" + "00" * 20


class RentIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    collection: Address
    token_id: int = Field(ge=0, le=MAX_UINT256)
    user: Address | None = Field(description="Who may use the token; null ends the current rental")
    until: Moment | None = Field(
        default=None, description="ISO 8601: when the use right ends (needed with a user)"
    )


class RentalOut(BaseModel):
    chain_id: int
    collection: str
    token_id: str
    owner: str
    user: str | None = Field(description="Who may use the token now (null: nobody but its owner)")
    expires: str | None = Field(description="ISO 8601: when the current or last rental ends")
    active: bool


@router.post(
    "/tx",
    response_model=UnsignedTx,
    summary="The transaction that rents your token to a user until a date (ERC-4907 setUser), or ends it",
)
def rent_tx(body: RentIn, user: KycVerifiedUser, gateway: GatewayDep) -> UnsignedTx:
    holder = wallet_of(user)
    gateway.require_progress(body.chain_id)
    if not holds(gateway, body.chain_id, body.collection, "erc721", body.token_id, holder):
        raise ForbiddenError(
            f"your wallet {holder} does not hold token {body.token_id} of {body.collection}: "
            "only its holder can rent it out"
        )
    if body.user is not None:
        if body.until is None:
            raise UnprocessableError("a rental needs an end ('until', ISO 8601)")
        expires = unix(body.until)
        if expires <= int(time.time()) or expires >= 2**64:
            raise UnprocessableError(f"the rental must end in the future (until {body.until.isoformat()})")
        if body.user == holder:
            raise UnprocessableError("you hold the token already: rent it to someone else")
    else:
        expires = 0
    data = gateway.calldata("CreatorCollection", "setUser", [body.token_id, body.user or ZERO, expires])
    gas = simulate(gateway, body.chain_id, holder, body.collection, data, 0, "the rental")
    return unsigned(body.chain_id, holder, body.collection, data, 0, gas)


@router.get(
    "/{chain_id}/{collection}/{token_id}",
    response_model=RentalOut,
    summary="Who may use a token now (ERC-4907) and until when",
)
def rental(
    chain_id: Annotated[int, Path(gt=0, le=MAX_CHAIN_ID)],
    collection: Address,
    token_id: Annotated[int, Path(ge=0, le=MAX_UINT256)],
    gateway: GatewayDep,
) -> RentalOut:
    try:
        owner = gateway.view(chain_id, collection, "CreatorCollection", "ownerOf", [token_id])
        current = gateway.view(chain_id, collection, "CreatorCollection", "userOf", [token_id])
        expires = int(gateway.view(chain_id, collection, "CreatorCollection", "userExpires", [token_id]))
    except Exception:
        raise UnprocessableError(
            f"token {token_id} of {collection} cannot be read as an ERC-4907 token on chain {chain_id}"
        ) from None
    active = current.lower() != ZERO
    return RentalOut(
        chain_id=chain_id,
        collection=collection,
        token_id=str(token_id),
        owner=Web3.to_checksum_address(owner),
        user=Web3.to_checksum_address(current) if active else None,
        expires=iso(expires),
        active=active,
    )
