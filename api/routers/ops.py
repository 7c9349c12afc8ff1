"""Operations: which contract families are paused, and pausing or unpausing one (``operator`` role).

A creator's own collection is paused by its owner, not by the platform: its pause and unpause are
unsigned transactions for the owner's wallet (``/ops/collections/...``), simulated first.

The platform key sends ``pause()``/``unpause()`` (api/pausing.py); every change is logged as an
audit line naming the operator's DID, the family, the chain and the transaction. While the
marketplace is paused on a chain the API refuses new orders there (409 ``/problems/paused``) and
``/health`` lists the paused contracts (degraded)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import Caller, CurrentUser, GatewayDep, require_role
from api.errors import ForbiddenError, NotFoundError, UnprocessableError
from api.gateway import ChainGateway
from api.pausing import Family, Member, is_paused, members, send_pause
from api.schemas import UnsignedTx
from api.simulate import estimate_gas
from api.types import MAX_CHAIN_ID, Address

log = logging.getLogger(__name__)
router = APIRouter(prefix="/ops", tags=["operations"])
Operator = Annotated[Caller, Depends(require_role("operator"))]


class FamilyState(BaseModel):
    family: str
    chain_id: int
    chain: str
    contract: str
    address: str
    paused: bool


class PauseIn(BaseModel):
    chain_id: int | None = Field(default=None, gt=0, le=MAX_CHAIN_ID,
                                 description="Only this chain; default: every chain the family is on.")


class PauseChange(FamilyState):
    changed: bool
    """False when it already was in that state (nothing sent)."""
    tx_hash: str | None = None


class PauseOut(BaseModel):
    family: str
    paused: bool
    contracts: list[PauseChange]


def _state(member: Member, paused: bool) -> FamilyState:
    return FamilyState(family=member.family, chain_id=member.chain_id, chain=member.chain,
                       contract=member.contract, address=member.address, paused=paused)


@router.get("/paused", response_model=list[FamilyState],
            summary="Every pausable contract family on every chain, and whether it is paused")
def paused_state(gateway: GatewayDep) -> list[FamilyState]:
    return [_state(m, is_paused(gateway, m, fresh=True)) for m in members(gateway)]


def _change(family: Family, body: PauseIn, caller: Caller, gateway: ChainGateway, pause: bool) -> PauseOut:
    targets = [m for m in members(gateway, family) if body.chain_id in (None, m.chain_id)]
    if not targets:
        where = f"chain {body.chain_id}" if body.chain_id else "any chain served"
        raise NotFoundError(f"the {family} is not deployed on {where}")
    out = []
    for member in targets:
        if is_paused(gateway, member, fresh=True) == pause:
            out.append(PauseChange(**_state(member, pause).model_dump(), changed=False))
            continue
        tx_hash = send_pause(gateway, member, pause)
        log.info("audit: %s %s %s %s on chain %d (tx %s)", caller.did, "paused" if pause else "unpaused",
                 family, member.contract, member.chain_id, tx_hash)
        out.append(PauseChange(**_state(member, pause).model_dump(), changed=True, tx_hash=tx_hash))
    return PauseOut(family=family, paused=pause, contracts=out)


@router.post("/{family}/pause", response_model=PauseOut,
             summary="Pause a contract family (operator role; sent by the platform key, audited)")
def pause(family: Family, body: PauseIn, caller: Operator, gateway: GatewayDep) -> PauseOut:
    return _change(family, body, caller, gateway, True)


@router.post("/{family}/unpause", response_model=PauseOut,
             summary="Unpause a contract family (operator role; sent by the platform key, audited)")
def unpause(family: Family, body: PauseIn, caller: Operator, gateway: GatewayDep) -> PauseOut:
    return _change(family, body, caller, gateway, False)


class CollectionPauseOut(BaseModel):
    chain_id: int
    collection: str
    paused: bool
    """Its state now (before the transaction is sent)."""
    transaction: UnsignedTx


def _collection_tx(chain_id: int, collection: str, caller: Caller, gateway: ChainGateway,
                   pause: bool) -> CollectionPauseOut:
    if caller.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    try:
        owner = gateway.view(chain_id, collection, "CreatorCollection", "owner", [])
        paused = bool(gateway.view(chain_id, collection, "CreatorCollection", "paused", []))
    except (NotFoundError, UnprocessableError):
        raise
    except Exception:
        raise NotFoundError(f"{collection} on chain {chain_id} is not a creator's collection") from None
    if str(owner).lower() != caller.address.lower():
        raise ForbiddenError(f"only the collection's owner ({owner}) pauses or unpauses it")
    gateway.require_progress(chain_id)
    data = gateway.calldata("CreatorCollection", "pause" if pause else "unpause", [])
    gas = estimate_gas(gateway, chain_id, caller.address, collection, data,
                       what="the pause" if pause else "the unpause")
    return CollectionPauseOut(chain_id=chain_id, collection=collection, paused=paused, transaction=UnsignedTx(
        chain_id=chain_id, **{"from": caller.address}, to=collection, data=data, gas=gas))


@router.post("/collections/{chain_id}/{collection}/pause-tx", response_model=CollectionPauseOut,
             summary="The transaction that pauses your own collection (its owner's wallet signs)")
def collection_pause_tx(chain_id: int, collection: Address, caller: CurrentUser,
                        gateway: GatewayDep) -> CollectionPauseOut:
    return _collection_tx(chain_id, collection, caller, gateway, True)


@router.post("/collections/{chain_id}/{collection}/unpause-tx", response_model=CollectionPauseOut,
             summary="The transaction that unpauses your own collection (its owner's wallet signs)")
def collection_unpause_tx(chain_id: int, collection: Address, caller: CurrentUser,
                          gateway: GatewayDep) -> CollectionPauseOut:
    return _collection_tx(chain_id, collection, caller, gateway, False)
