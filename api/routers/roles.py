"""Admin: grant and revoke API roles at run time, without a restart (``admin`` role).

Grants live in ``role_grants`` (api/roles.py) and the role check reads them at every request.
Each grant and revocation is recorded with who made it and when, and logged as an audit line."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from api import roles
from api.deps import Caller, DbSession, Settings, require_role
from api.errors import ConflictError, NotFoundError
from api.models import User
from api.types import checksum_address

router = APIRouter(prefix="/admin/roles", tags=["admin"])
Admin = Annotated[Caller, Depends(require_role("admin"))]
Role = Literal["admin", "operator", "treasury", "risk", "kyc_officer"]


class RoleIn(BaseModel):
    subject: str = Field(min_length=1, max_length=255,
                         description="A DID (did:pkh:eip155:31337:0x...) or a wallet address (0x...: "
                                     "every DID of that wallet gets the role).")
    role: Role

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("did:"):
            return value
        return checksum_address(value)


class GrantOut(BaseModel):
    id: int
    subject: str
    role: str
    granted_by: str
    granted_at: datetime
    revoked_by: str | None = None
    revoked_at: datetime | None = None


class RoleHolder(BaseModel):
    subject: str
    role: str
    source: Literal["grant", "settings"]
    """grant: made here (revocable here); settings: CHAINRIGHT_API_ROLE_GRANTS (changed there)."""


@router.get("", response_model=list[GrantOut],
            summary="Role grants made here (in force; ?history=true: with the revoked ones) (admin role)")
def list_grants(admin: Admin, db: DbSession,
                history: Annotated[bool, Query(description="Include revoked grants.")] = False,
                ) -> list[GrantOut]:
    return [GrantOut.model_validate(r, from_attributes=True)
            for r in roles.grants(db, include_revoked=history)]


@router.get("/holders", response_model=list[RoleHolder],
            summary="Who holds which role now, from the grants here and the settings (admin role)")
def holders(admin: Admin, db: DbSession, settings: Settings) -> list[RoleHolder]:
    out = [RoleHolder(subject=r.subject, role=r.role, source="grant") for r in roles.grants(db)]
    out += [RoleHolder(subject=subject, role=role, source="settings")
            for subject, names in sorted(settings.role_grants.items()) for role in names]
    return out


@router.post("", status_code=201, response_model=GrantOut,
             summary="Grant a role to a DID or wallet; in force at its next request (admin role, audited)")
def grant(body: RoleIn, admin: Admin, db: DbSession) -> GrantOut:
    row, _ = roles.grant(db, body.subject, body.role, by=admin.did)
    return GrantOut.model_validate(row, from_attributes=True)


@router.post("/revoke", response_model=GrantOut,
             summary="Revoke a role granted here; gone at the holder's next request (admin role, audited)")
def revoke(body: RoleIn, admin: Admin, db: DbSession, settings: Settings) -> GrantOut:
    row = roles.revoke(db, body.subject, body.role, by=admin.did)
    if row is not None:
        return GrantOut.model_validate(row, from_attributes=True)
    if body.role in settings.role_grants.get(body.subject, []):
        raise ConflictError(f"{body.subject} holds '{body.role}' from CHAINRIGHT_API_ROLE_GRANTS, not from "
                            "a grant made here: remove it from that setting (it ends at the holder's next "
                            "login)")
    user = db.execute(select(User).where(User.did == body.subject)).scalar_one_or_none()
    if user is not None and body.role in user.roles.split(","):
        raise ConflictError(f"{body.subject} holds '{body.role}' from the settings it logged in with: "
                            "remove it from CHAINRIGHT_API_ROLE_GRANTS")
    raise NotFoundError(f"no grant of '{body.role}' to {body.subject} is in force here")
