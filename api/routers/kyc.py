"""KYC: applicants submit, officers review; approval issues a KYCCredential and writes the identity
registry on every chain. Personal data goes only to the applicant and KYC officers."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import (
    Caller,
    CurrentUser,
    DatabaseDep,
    DbSession,
    GatewayDep,
    KycDep,
    KycVerifiedUser,
    Settings,
    require_role,
)
from api.errors import ApiError, NotFoundError, UnprocessableError
from api.gateway import ChainGateway
from api.kyc import service
from api.kyc.providers import ProviderDecision
from api.kyc.service import Submission
from api.kyc.sync import sync_before_write, sync_now
from api.models import KycApplication
from did.countries import is_country_code

router = APIRouter(prefix="/kyc", tags=["kyc"])

Officer = Annotated[Caller, Depends(require_role("kyc_officer"))]


class DocumentType(StrEnum):
    PASSPORT = "passport"
    ID_CARD = "id_card"
    DRIVING_LICENCE = "driving_licence"


class ApplicationIn(BaseModel):
    legal_name: str = Field(min_length=2, max_length=200)
    date_of_birth: date
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2, e.g. FR")
    document_type: DocumentType
    document_number: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9 -]+$")

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        code = value.upper()
        if not is_country_code(code):
            raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code")
        return code

    @field_validator("date_of_birth")
    @classmethod
    def _adult(cls, value: date) -> date:
        today = datetime.now(UTC).date()
        if value >= today or (today.year - value.year) > 130:
            raise ValueError("date of birth is not plausible")
        return value


class PersonalData(BaseModel):
    legal_name: str
    date_of_birth: str
    document_type: str
    document_number: str


class ApplicationOut(BaseModel):
    id: str
    subject: str
    address: str | None
    state: str
    country: str
    level: int | None
    submitted_at: datetime
    reviewed_at: datetime | None
    reason: str | None
    expires_at: datetime | None
    sanctions_match: bool
    sync_status: str
    sync_detail: str | None
    chain_writes: list[dict[str, Any]]
    has_document: bool
    personal_data: PersonalData | None = None


class ApproveIn(BaseModel):
    level: int = Field(ge=1, le=3, description="KYC level 1-3 (as in the KYCCredential)")
    expires_at: datetime | None = Field(default=None, description="Default: one year from now.")


class ReasonIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500)


class KycStatus(BaseModel):
    state: str | None
    level: int | None
    expires_at: datetime | None
    sync_status: str | None
    sync_detail: str | None
    verified: bool
    on_chain: dict[int, bool]


def _out(app: KycApplication, kyc: Any, reveal: bool) -> ApplicationOut:
    personal = PersonalData(**service.reveal(app, kyc.cipher)) if reveal else None
    return ApplicationOut(
        id=app.id, subject=app.subject, address=app.address, state=app.state, country=app.country,
        level=app.level, submitted_at=app.submitted_at, reviewed_at=app.reviewed_at, reason=app.reason,
        expires_at=app.expires_at, sanctions_match=bool(app.sanctions_hits),
        sync_status=app.sync_status, sync_detail=app.sync_detail,
        chain_writes=json.loads(app.chain_writes) if app.chain_writes else [],
        has_document=app.document is not None, personal_data=personal)


def _visible(app: KycApplication, caller: Caller) -> None:
    same_wallet = bool(app.address and caller.address and app.address.lower() == caller.address.lower())
    if app.subject != caller.did and not same_wallet and "kyc_officer" not in caller.roles:
        raise NotFoundError(f"no KYC application {app.id}")


@router.post("/applications", status_code=201, response_model=ApplicationOut,
             summary="Apply for KYC (personal data is encrypted at rest)")
def submit(body: ApplicationIn, caller: CurrentUser, db: DbSession, kyc: KycDep,
           gateway: GatewayDep) -> ApplicationOut:
    app, decision = service.submit(db, kyc.cipher, kyc.current_sanctions(), kyc.provider, subject=caller.did,
                                   address=caller.address,
                                   data=Submission(body.legal_name, body.date_of_birth, body.country,
                                                   body.document_type.value, body.document_number))
    db.flush()
    if decision.outcome == "approve":
        app = _provider_approves(db, kyc, gateway, app, decision)
    return _out(app, kyc, reveal=True)


def _provider_approves(db: Session, kyc: Any, gateway: ChainGateway, app: KycApplication,
                       decision: ProviderDecision) -> KycApplication:
    """Carry out a provider's approval through the officers' path; if it cannot complete, the
    application stays submitted for an officer and the reason is recorded."""
    actor = f"provider:{kyc.provider.name}"
    if decision.level is None or not 1 <= decision.level <= 3:
        service.record(db, app.id, actor, "provider_approval_refused",
                       f"an approval needs a KYC level 1-3, got {decision.level}: left for an officer")
        return app
    db.commit()
    try:
        _require_every_chain_progressing(gateway)
        return service.approve(db, kyc.writer(), kyc.issue_credential, app_id=app.id, officer=actor,
                               level=decision.level, expires_at=None,
                               validity=timedelta(days=kyc.validity_days),
                               sanctions=kyc.current_sanctions(), cipher=kyc.cipher)
    except ApiError as exc:
        db.rollback()
        app = service.get_application(db, app.id)
        service.record(db, app.id, actor, "provider_approval_not_applied",
                       f"{exc.detail}: left for an officer")
        return app


@router.post("/applications/{app_id}/document", response_model=ApplicationOut,
             summary="Attach an identity document file to your submitted application")
async def upload_document(app_id: str, caller: CurrentUser, settings: Settings, kyc: KycDep,
                          database: DatabaseDep,
                          file: Annotated[UploadFile, File(description="Scan or photo, max 10 MiB")]
                          ) -> ApplicationOut:
    data = await file.read(10 * 1024 * 1024 + 1)
    if len(data) > 10 * 1024 * 1024:
        raise UnprocessableError("the document file is larger than 10 MiB")
    if not data:
        raise UnprocessableError("the document file is empty")
    with database.session() as db:
        app = service.get_application(db, app_id)
        if app.subject != caller.did:
            raise NotFoundError(f"no KYC application {app_id}")
        if app.state != "submitted":
            raise UnprocessableError(f"the application is {app.state}; documents attach while submitted")
        app.document = kyc.cipher.encrypt_bytes(data, bound_to=app.id)
        return _out(app, kyc, reveal=True)


@router.get("/applications/mine", response_model=ApplicationOut,
            summary="Your latest application, with your personal data")
def mine(caller: CurrentUser, db: DbSession, kyc: KycDep) -> ApplicationOut:
    app = service.latest_for(db, caller.did, address=caller.address)
    if app is None:
        raise NotFoundError("you have no KYC application; submit one at POST /kyc/applications")
    return _out(app, kyc, reveal=True)


StateFilter = Annotated[str | None, Query(pattern="^(submitted|approved|rejected|expired|revoked)$")]


@router.get("/applications", response_model=list[ApplicationOut],
            summary="Applications to review (KYC officers); no personal data in the list")
def list_applications(officer: Officer, db: DbSession, kyc: KycDep, state: StateFilter = None,
                      limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[ApplicationOut]:
    query = select(KycApplication).order_by(KycApplication.submitted_at).limit(limit)
    if state:
        query = query.where(KycApplication.state == state)
    return [_out(a, kyc, reveal=False) for a in db.execute(query).scalars()]


@router.get("/applications/{app_id}", response_model=ApplicationOut,
            summary="One application with personal data (its applicant or a KYC officer)")
def get_application(app_id: str, caller: CurrentUser, db: DbSession, kyc: KycDep) -> ApplicationOut:
    app = service.get_application(db, app_id)
    _visible(app, caller)
    return _out(app, kyc, reveal=True)


def _require_every_chain_progressing(gateway: ChainGateway) -> None:
    """Approvals and revocations write the identity registry on every chain: refuse them (503)
    while one of the chains is stalled, rather than half-write."""
    for spec in gateway.specs():
        gateway.require_progress(spec.chain_id)


@router.post("/applications/{app_id}/approve", response_model=ApplicationOut,
             summary="Approve (KYC officers): credential issued, identity registry written on every chain")
def approve(app_id: str, body: ApproveIn, officer: Officer, db: DbSession, kyc: KycDep,
            gateway: GatewayDep) -> ApplicationOut:
    _require_every_chain_progressing(gateway)
    sync_before_write(db, kyc)
    app = service.approve(db, kyc.writer(), kyc.issue_credential, app_id=app_id, officer=officer.did,
                          officer_address=officer.address, level=body.level, expires_at=body.expires_at,
                          validity=timedelta(days=kyc.validity_days),
                          sanctions=kyc.current_sanctions(), cipher=kyc.cipher)
    return _out(app, kyc, reveal=False)


@router.post("/applications/{app_id}/reject", response_model=ApplicationOut,
             summary="Reject with a reason (KYC officers)")
def reject(app_id: str, body: ReasonIn, officer: Officer, db: DbSession, kyc: KycDep) -> ApplicationOut:
    return _out(service.reject(db, app_id=app_id, officer=officer.did, officer_address=officer.address,
                               reason=body.reason), kyc, False)


@router.post("/applications/{app_id}/revoke", response_model=ApplicationOut,
             summary="Revoke an approval (KYC officers): the API and every chain stop verifying")
def revoke(app_id: str, body: ReasonIn, officer: Officer, db: DbSession, kyc: KycDep,
           gateway: GatewayDep) -> ApplicationOut:
    _require_every_chain_progressing(gateway)
    sync_before_write(db, kyc)
    app = service.revoke(db, kyc.writer(), app_id=app_id, officer=officer.did,
                         officer_address=officer.address, reason=body.reason)
    return _out(app, kyc, reveal=False)


class SyncOut(BaseModel):
    synced: int = Field(description="Chain revocations finished now")
    still_pending: int = Field(description="Still owed to a chain that is down (see each sync_detail)")
    expired: int = Field(description="Approvals moved to expired")


@router.post("/sync", response_model=SyncOut,
             summary="Retry chain revocations still pending and expire what is due (KYC officers)")
def sync(officer: Officer, db: DbSession, kyc: KycDep) -> SyncOut:
    report = sync_now(db, kyc)
    return SyncOut(synced=report.synced, still_pending=report.still_pending, expired=report.expired)


class CredentialFormat(StrEnum):
    LDP = "ldp"
    JWT = "jwt"


@router.get("/credential", summary="Your KYCCredential (W3C VC: JSON-LD, or a JWT for EIP-712 wallets)")
def credential(caller: CurrentUser, db: DbSession, kyc: KycDep,
               format: CredentialFormat = CredentialFormat.LDP) -> Any:
    app = service.verified_application(db, caller.did, address=caller.address)
    if app is None or app.credential is None or app.level is None or app.expires_at is None:
        raise NotFoundError("you hold no valid KYC credential")
    if format is CredentialFormat.JWT:
        issued = service.aware(app.reviewed_at) or datetime.now(UTC)
        expires = service.aware(app.expires_at)
        assert expires is not None
        return kyc.issue_credential(app.id, app.subject, app.level, app.country, expires, issued,
                                    proof_format="jwt")
    return json.loads(app.credential)


class CredentialStatusOut(BaseModel):
    id: str
    active: bool
    reason: str | None


@router.get("/credentials/status", response_model=CredentialStatusOut,
            summary="Is this KYCCredential still in force? (its credentialStatus; public, no personal data)")
def credential_status(id: Annotated[str, Query(max_length=200)], db: DbSession) -> CredentialStatusOut:
    reason = service.credential_status(db, id, with_reason=False)  # the officer's words stay inside
    return CredentialStatusOut(id=id, active=reason is None, reason=reason)


@router.get("/status", response_model=KycStatus, summary="Your KYC status, here and on chain")
def status(caller: CurrentUser, db: DbSession, kyc: KycDep) -> KycStatus:
    app = service.latest_for(db, caller.did, address=caller.address)
    on_chain: dict[int, bool] = {}
    if caller.address:
        try:
            on_chain = kyc.writer().is_verified(caller.address)
        except Exception:
            on_chain = {}
    return KycStatus(
        state=app.state if app else None, level=app.level if app else None,
        expires_at=app.expires_at if app else None, sync_status=app.sync_status if app else None,
        sync_detail=app.sync_detail if app else None,
        verified=service.verified_application(db, caller.did, address=caller.address) is not None,
        on_chain=on_chain)


@router.get("/verified", summary="KYC-gated: answers only for a verified user")
def verified(user: KycVerifiedUser) -> dict[str, Any]:
    return {"did": user.did, "address": user.address, "kyc_level": user.kyc_level,
            "country": user.country}

