"""Operations: which contract families are paused, and pausing or unpausing one (``operator`` role).

A creator's own collection is paused by its owner, not by the platform: its pause and unpause are
unsigned transactions for the owner's wallet (``/ops/collections/...``), simulated first.

The platform key sends ``pause()``/``unpause()`` (api/pausing.py); every change is logged as an
audit line naming the operator's DID, the family, the chain and the transaction. While the
marketplace is paused on a chain the API refuses new orders there (409 ``/problems/paused``) and
``/health`` lists the paused contracts (degraded).

Deploy-time settings (``admin`` role): the platform fee and treasury of the marketplace and of the
milestone escrow, and the bridge's rate limits, sent by the platform key the same way, one audit
line each; values the contract would refuse (a fee above its maximum, a zero treasury, a limit
beyond uint32) are refused in words first. An escrow keeps the fee it was created with."""

from __future__ import annotations

import logging
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from web3 import Web3

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


# ------------------------------------------------------------------ deploy-time settings (admin role)

Admin = Annotated[Caller, Depends(require_role("admin"))]
UINT32 = 2**32 - 1
LIMITS = ("outbound", "inbound", "sender", "collection")
ZERO_ADDRESS = "0x" + "00" * 20


class MarketSettings(BaseModel):
    chain_id: int
    chain: str
    address: str
    platform_fee_bps: int
    max_fee_bps: int = Field(description="The most the contract accepts (MAX_FEE_BPS)")
    treasury: str


class RateLimits(BaseModel):
    chain_id: int
    chain: str
    contract: str
    address: str
    outbound: int = Field(description="Departures per hour, all senders (0: closed)")
    inbound: int = Field(description="Deliveries per hour (0: closed)")
    sender: int = Field(description="Departures per hour of one sender (0: closed)")
    collection: int = Field(description="Departures per hour of one home collection (0: closed)")


class AdminSettings(BaseModel):
    marketplace: list[MarketSettings]
    escrow: list[MarketSettings] = Field(description="The milestone escrow's platform fee and treasury")
    bridge: list[RateLimits]


class AdminChange(BaseModel):
    chain_id: int
    contract: str
    address: str
    changed: bool = Field(description="False when it already had that value (nothing sent)")
    tx_hash: str | None = None


class FeeIn(PauseIn):
    fee_bps: int = Field(ge=0, description="The platform fee in basis points (100 = 1%)")


class TreasuryIn(PauseIn):
    treasury: Address


class RateLimitsIn(PauseIn):
    """Only the limits given change; each is whole transfers per hour, 0 closes that bucket."""

    outbound: int | None = Field(default=None, ge=0, le=UINT32)
    inbound: int | None = Field(default=None, ge=0, le=UINT32)
    sender: int | None = Field(default=None, ge=0, le=UINT32)
    collection: int | None = Field(default=None, ge=0, le=UINT32)


def _market(gateway: ChainGateway, member: Member) -> MarketSettings:
    """The fee settings of a Marketplace or a MilestoneEscrow (the same three views)."""
    view = partial(gateway.view, member.chain_id, member.address, member.contract)
    return MarketSettings(chain_id=member.chain_id, chain=member.chain, address=member.address,
                          platform_fee_bps=int(view("platformFeeBps", [])),
                          max_fee_bps=int(view("MAX_FEE_BPS", [])),
                          treasury=Web3.to_checksum_address(view("treasury", [])))


def _limits(gateway: ChainGateway, member: Member) -> RateLimits:
    outbound, inbound, sender, collection = gateway.view(member.chain_id, member.address, member.contract,
                                                         "rateLimits", [])
    return RateLimits(chain_id=member.chain_id, chain=member.chain, contract=member.contract,
                      address=member.address, outbound=int(outbound), inbound=int(inbound),
                      sender=int(sender), collection=int(collection))


def _targets(gateway: ChainGateway, family: str, chain_id: int | None) -> list[Member]:
    targets = [m for m in members(gateway, family) if chain_id in (None, m.chain_id)]
    if not targets:
        where = f"chain {chain_id}" if chain_id else "any chain served"
        raise NotFoundError(f"the {family} is not deployed on {where}")
    return targets


def _send_admin(gateway: ChainGateway, member: Member, function: str, args: list[Any], caller: Caller,
                what: str) -> AdminChange:
    """``function(args)`` of ``member`` from the platform key (simulated first: a revert is a 422 with
    its sentence), one audit line naming the admin's DID."""
    from eth_account import Account

    from chain.tx import TxSender

    gateway.require_progress(member.chain_id)
    key = Account.from_key(gateway.settings.deployer_key.get_secret_value())
    data = gateway.calldata(member.contract, function, args)
    estimate_gas(gateway, member.chain_id, key.address, member.address, data, what=what)
    sender = TxSender(gateway.web3(member.chain_id), key)
    fn = getattr(gateway.contract(member.chain_id, member.contract).functions, function)(*args)
    receipt = sender.transact(sender.call_tx(fn))
    tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
    log.info("audit: %s set %s on %s %s on chain %d (tx %s)", caller.did, what, member.contract,
             member.address, member.chain_id, tx_hash)
    return AdminChange(chain_id=member.chain_id, contract=member.contract, address=member.address,
                       changed=True, tx_hash=tx_hash)


def _unchanged(member: Member) -> AdminChange:
    return AdminChange(chain_id=member.chain_id, contract=member.contract, address=member.address,
                       changed=False)


@router.get("/admin/settings", response_model=AdminSettings,
            summary="The deploy-time settings an admin may change: the marketplace's platform fee and "
            "treasury, the bridge's rate limits, per chain")
def admin_settings(caller: Admin, gateway: GatewayDep) -> AdminSettings:
    return AdminSettings(marketplace=[_market(gateway, m) for m in members(gateway, "marketplace")],
                         escrow=[_market(gateway, m) for m in members(gateway, "escrow")],
                         bridge=[_limits(gateway, m) for m in members(gateway, "bridge")])


def _set_fee(family: str, body: FeeIn, caller: Caller, gateway: ChainGateway) -> list[AdminChange]:
    out = []
    for member in _targets(gateway, family, body.chain_id):
        now = _market(gateway, member)
        if body.fee_bps > now.max_fee_bps:
            raise UnprocessableError(
                f"a platform fee of {body.fee_bps} bps ({body.fee_bps / 100:g}%) is above the most the "
                f"{family} accepts, {now.max_fee_bps} bps ({now.max_fee_bps / 100:g}%)",
                error="PlatformFeeTooHigh")
        if now.platform_fee_bps == body.fee_bps:
            out.append(_unchanged(member))
            continue
        out.append(_send_admin(gateway, member, "setPlatformFee", [body.fee_bps], caller,
                               f"the platform fee to {body.fee_bps} bps"))
    return out


def _set_treasury(family: str, body: TreasuryIn, caller: Caller, gateway: ChainGateway) -> list[AdminChange]:
    if body.treasury == ZERO_ADDRESS:
        raise UnprocessableError("the treasury cannot be the zero address: the fees would be lost",
                                 error="TreasuryZeroAddress")
    out = []
    for member in _targets(gateway, family, body.chain_id):
        if _market(gateway, member).treasury == body.treasury:
            out.append(_unchanged(member))
            continue
        out.append(_send_admin(gateway, member, "setTreasury", [body.treasury], caller,
                               f"the treasury to {body.treasury}"))
    return out


@router.post("/marketplace/fee", response_model=list[AdminChange],
             summary="Set the marketplace's platform fee (admin role; sent by the platform key, audited)")
def set_fee(body: FeeIn, caller: Admin, gateway: GatewayDep) -> list[AdminChange]:
    return _set_fee("marketplace", body, caller, gateway)


@router.post("/marketplace/treasury", response_model=list[AdminChange],
             summary="Set the treasury that receives the marketplace's platform fee (admin role; sent by "
             "the platform key, audited)")
def set_treasury(body: TreasuryIn, caller: Admin, gateway: GatewayDep) -> list[AdminChange]:
    return _set_treasury("marketplace", body, caller, gateway)


@router.post("/escrow/fee", response_model=list[AdminChange],
             summary="Set the milestone escrow's platform fee, taken from each released milestone (admin "
             "role; sent by the platform key, audited)")
def set_escrow_fee(body: FeeIn, caller: Admin, gateway: GatewayDep) -> list[AdminChange]:
    """An escrow keeps the fee it was created with; the new fee applies to escrows created after."""
    return _set_fee("escrow", body, caller, gateway)


@router.post("/escrow/treasury", response_model=list[AdminChange],
             summary="Set the treasury that receives the milestone escrow's platform fee (admin role; sent "
             "by the platform key, audited)")
def set_escrow_treasury(body: TreasuryIn, caller: Admin, gateway: GatewayDep) -> list[AdminChange]:
    return _set_treasury("escrow", body, caller, gateway)


@router.patch("/bridge/rate-limits", response_model=list[AdminChange],
              summary="Change the bridge's rate limits, only those given (admin role; sent by the platform "
              "key, audited)")
def set_rate_limits(body: RateLimitsIn, caller: Admin, gateway: GatewayDep) -> list[AdminChange]:
    given = body.model_dump(include={"outbound", "inbound", "sender", "collection"}, exclude_none=True)
    if not given:
        raise UnprocessableError("give at least one limit to change: outbound, inbound, sender or collection")
    out = []
    for member in _targets(gateway, "bridge", body.chain_id):
        now = _limits(gateway, member).model_dump()
        wanted = {name: given.get(name, now[name]) for name in LIMITS}
        if all(wanted[name] == now[name] for name in wanted):
            out.append(_unchanged(member))
            continue
        args = [wanted["outbound"], wanted["inbound"], wanted["sender"], wanted["collection"]]
        words = ", ".join(f"{name} {value}/h" for name, value in wanted.items())
        out.append(_send_admin(gateway, member, "setRateLimits", args, caller, f"the rate limits to {words}"))
    return out
