"""A creator's collection admin: royalty, URI prefix, metadata freeze, identity policy, minters, owner.

``POST /collections/{chain_id}/{collection}/admin-tx`` returns one unsigned transaction per setting
given, for the collection owner's wallet to sign, each simulated first (a revert is a 422 in words).
Only the owner (``owner()`` read on chain) gets them: anyone else is a 403 that names the owner; the
contract enforces the same (``onlyOwner``). Values the contract would refuse (a royalty above 100%,
a zero receiver, minter or new owner, a prefix on frozen metadata) are refused in words first.
The transfer policy is not here: only the platform's registry sets it (``setTransferPolicy``)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator, model_validator
from web3 import Web3
from web3.exceptions import ContractLogicError

from api.deps import CurrentUser, GatewayDep
from api.errors import ForbiddenError, NotFoundError, UnprocessableError
from api.gateway import ChainGateway
from api.schemas import UnsignedTx
from api.simulate import estimate_gas
from api.types import Address, checksum_address

log = logging.getLogger(__name__)
router = APIRouter(tags=["collections"])

MAX_ROYALTY_BPS = 10_000
"""ERC-2981's fee denominator in the contracts: a royalty above it would exceed the sale price."""
ZERO_ADDRESS = "0x" + "00" * 20
ERC1155_INTERFACE = bytes.fromhex("d9b67a26")


class CollectionAdminIn(BaseModel):
    royalty_receiver: str | None = Field(default=None, description="With royalty_bps: the default royalty")
    royalty_bps: int | None = Field(default=None, ge=0, le=MAX_ROYALTY_BPS)
    uri_prefix: str | None = Field(default=None, max_length=2000, description="ERC-721 only")
    freeze_metadata: bool = Field(default=False, description="ERC-721 only; final: the prefix can never "
                                                             "change again")
    identity_registry: str | None = Field(default=None, description="ERC-721 only, with "
                                                                    "require_verified_holders; default: "
                                                                    "the platform's IdentityRegistry")
    require_verified_holders: bool | None = None
    minter: str | None = Field(default=None, description="With minter_allowed: name or remove a minter")
    minter_allowed: bool | None = None
    new_owner: str | None = Field(default=None, description="Takes effect at once: the contract is "
                                                            "one-step, the new owner accepts nothing")

    @field_validator("royalty_receiver", "identity_registry", "minter", "new_owner")
    @classmethod
    def _addresses(cls, value: str | None) -> str | None:
        return checksum_address(value) if value is not None else None

    @model_validator(mode="after")
    def _pairs(self) -> CollectionAdminIn:
        if (self.royalty_receiver is None) != (self.royalty_bps is None):
            raise ValueError("give royalty_receiver and royalty_bps together")
        if (self.minter is None) != (self.minter_allowed is None):
            raise ValueError("give minter and minter_allowed together")
        if self.identity_registry is not None and self.require_verified_holders is None:
            raise ValueError("give require_verified_holders with identity_registry")
        for name in ("royalty_receiver", "minter", "new_owner"):
            if getattr(self, name) == ZERO_ADDRESS:
                raise ValueError(f"{name} is the zero address; name a real account")
        if self.require_verified_holders and self.identity_registry == ZERO_ADDRESS:
            raise ValueError("require_verified_holders needs an identity_registry, not the zero address "
                             "(omit it for the platform's)")
        return self


class AdminTx(BaseModel):
    setting: str
    """Which setting this transaction changes (``royalty``, ``uri_prefix``, ...)."""
    summary: str
    transaction: UnsignedTx


class CollectionAdminOut(BaseModel):
    chain_id: int
    collection: str
    owner: str
    transactions: list[AdminTx]
    """In the order to send them (a new owner last: after it the caller is no longer the owner)."""


def _owner_and_kind(gateway: ChainGateway, chain_id: int, collection: str) -> tuple[str, bool]:
    try:
        owner = Web3.to_checksum_address(gateway.view(chain_id, collection, "CreatorCollection", "owner", []))
    except Exception:
        raise NotFoundError(f"{collection} on chain {chain_id} is not a creator's collection") from None
    try:
        editions = bool(gateway.view(chain_id, collection, "Editions1155", "supportsInterface",
                                     [ERC1155_INTERFACE]))
    except Exception:
        editions = False
    return owner, editions


@router.post("/collections/{chain_id}/{collection}/admin-tx", response_model=CollectionAdminOut,
             summary="The transactions that change your own collection's settings (its owner's wallet signs)")
def collection_admin_tx(chain_id: int, collection: Address, body: CollectionAdminIn, caller: CurrentUser,
                        gateway: GatewayDep) -> CollectionAdminOut:
    if caller.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    owner, editions = _owner_and_kind(gateway, chain_id, collection)
    if owner.lower() != caller.address.lower():
        raise ForbiddenError(f"only the collection's owner ({owner}) changes its settings")
    artifact = "Editions1155" if editions else "CreatorCollection"
    if editions and (body.uri_prefix is not None or body.freeze_metadata or body.identity_registry is not None
                     or body.require_verified_holders is not None):
        raise UnprocessableError("an editions (ERC-1155) collection has no URI prefix, metadata freeze or "
                                 "identity policy; give only royalty, minter or new_owner")
    if body.uri_prefix is not None and bool(
            gateway.view(chain_id, collection, "CreatorCollection", "metadataFrozen", [])):
        raise UnprocessableError("the collection's metadata is frozen: its URI prefix can no longer change")
    plan: list[tuple[str, str, str, list[object]]] = []
    if body.royalty_receiver is not None and body.royalty_bps is not None:
        plan.append(("royalty", f"royalty {body.royalty_bps / 100:g}% to {body.royalty_receiver}",
                     "setDefaultRoyalty", [body.royalty_receiver, body.royalty_bps]))
    if body.uri_prefix is not None:
        plan.append(("uri_prefix", f"URI prefix {body.uri_prefix!r}", "setUriPrefix", [body.uri_prefix]))
    if body.require_verified_holders is not None:
        registry = body.identity_registry or ZERO_ADDRESS
        if body.require_verified_holders and body.identity_registry is None:
            registry = gateway.address(chain_id, "IdentityRegistry")
        plan.append(("identity_policy", f"holders {'must' if body.require_verified_holders else 'need not'} "
                     f"be verified (registry {registry})", "setIdentityPolicy",
                     [registry, body.require_verified_holders]))
    if body.minter is not None and body.minter_allowed is not None:
        plan.append(("minter", f"{body.minter} {'may' if body.minter_allowed else 'may no longer'} mint",
                     "setMinter", [body.minter, body.minter_allowed]))
    if body.freeze_metadata:
        plan.append(("freeze_metadata", "metadata frozen for good", "freezeMetadata", []))
    if body.new_owner is not None:
        plan.append(("owner", f"ownership to {body.new_owner}, at once (no acceptance step)",
                     "transferOwnership", [body.new_owner]))
    if not plan:
        raise UnprocessableError("no setting given: name at least one to change")
    gateway.require_progress(chain_id)
    out = []
    for setting, summary, function, args in plan:
        data = gateway.calldata(artifact, function, args)
        try:
            gas = estimate_gas(gateway, chain_id, caller.address, collection, data,
                               what=f"the {setting} change")
        except ContractLogicError as exc:  # a revert without data: say which setting
            raise UnprocessableError(f"the {setting} change would revert") from exc
        out.append(AdminTx(setting=setting, summary=summary, transaction=UnsignedTx(
            chain_id=chain_id, **{"from": caller.address}, to=collection, data=data, gas=gas)))
    return CollectionAdminOut(chain_id=chain_id, collection=collection, owner=owner, transactions=out)
