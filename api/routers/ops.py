"""Operations: which contract families are paused, and pausing or unpausing one (``operator`` role).

The platform key sends ``pause()``/``unpause()`` (api/pausing.py); every change is logged as an
audit line naming the operator's DID, the family, the chain and the transaction. While the
marketplace is paused on a chain the API refuses new orders there (409 ``/problems/paused``) and
``/health`` lists the paused contracts (degraded)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from api.deps import Caller, require_role
from api.errors import NotFoundError
from api.pausing import Family, Member, is_paused, members, send_pause
from api.types import MAX_CHAIN_ID

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
def paused_state(request: Request) -> list[FamilyState]:
    gateway = request.app.state.gateway
    return [_state(m, is_paused(gateway, m, fresh=True)) for m in members(gateway)]


def _change(family: Family, body: PauseIn, caller: Caller, request: Request, pause: bool) -> PauseOut:
    gateway = request.app.state.gateway
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
def pause(family: Family, body: PauseIn, caller: Operator, request: Request) -> PauseOut:
    return _change(family, body, caller, request, True)


@router.post("/{family}/unpause", response_model=PauseOut,
             summary="Unpause a contract family (operator role; sent by the platform key, audited)")
def unpause(family: Family, body: PauseIn, caller: Operator, request: Request) -> PauseOut:
    return _change(family, body, caller, request, False)
