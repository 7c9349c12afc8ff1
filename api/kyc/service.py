"""The KYC flow: submit, screen, review, approve (credential + every chain), reject, revoke, expire.

An approval is never half-done: the identity is written to every configured chain first (with
retries for transient failures); if any chain write still fails, the writes that did land are
undone (revoked) and the application stays ``submitted`` with ``sync_status = rolled_back`` and
the reason. Only after every chain has it is the credential issued and the state ``approved``.
A revocation takes effect in the database at once (the API stops admitting the user); if a
chain write fails it is kept as ``pending_retry`` and ``retry_pending`` finishes it.

Personal data is decrypted only for the applicant and KYC officers, and never logged: log lines
carry application ids and DIDs only.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ServiceUnavailableError,
    UnprocessableError,
)
from api.kyc.pii import PiiCipher
from api.kyc.providers import ApplicationView, KycProvider
from api.kyc.registry import ChainWrite, IdentityWriter
from api.kyc.sanctions import SanctionsList
from api.kyc.states import KycAction, KycState, KycTransitionError, next_state
from api.models import KycApplication, KycEvent
from chain.errors import ChainError

log = logging.getLogger(__name__)

CHAIN_ATTEMPTS = 3


@dataclass(frozen=True)
class Submission:
    legal_name: str
    date_of_birth: date
    country: str
    document_type: str
    document_number: str


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _record(db: Session, app_id: str, actor: str, action: str, detail: str | None = None,
            now: datetime | None = None) -> None:
    db.add(KycEvent(application_id=app_id, at=_now(now), actor=actor, action=action, detail=detail))


def get_application(db: Session, app_id: str) -> KycApplication:
    app = db.get(KycApplication, app_id)
    if app is None:
        raise NotFoundError(f"no KYC application {app_id}")
    return app


def latest_for(db: Session, subject: str) -> KycApplication | None:
    return db.execute(select(KycApplication).where(KycApplication.subject == subject)
                      .order_by(KycApplication.submitted_at.desc()).limit(1)).scalar_one_or_none()


def submit(db: Session, cipher: PiiCipher, sanctions: SanctionsList, provider: KycProvider, *,
           subject: str, address: str | None, data: Submission, document: bytes | None = None,
           now: datetime | None = None) -> KycApplication:
    """File an application (personal data encrypted); screening runs at once and is recorded."""
    current = latest_for(db, subject)
    if current is not None and KycState(current.state) in (KycState.SUBMITTED, KycState.APPROVED):
        raise ConflictError(f"you already have a {current.state} KYC application ({current.id})",
                            application_id=current.id)
    app_id = secrets.token_hex(8)
    pii = {"legal_name": data.legal_name, "date_of_birth": data.date_of_birth.isoformat(),
           "document_type": data.document_type, "document_number": data.document_number}
    hits = sanctions.screen(address=address, legal_name=data.legal_name)
    app = KycApplication(
        id=app_id, subject=subject, address=address, state=KycState.SUBMITTED.value,
        country=data.country, pii=cipher.encrypt(pii, bound_to=app_id),
        document=cipher.encrypt_bytes(document, bound_to=app_id) if document else None,
        document_type=data.document_type, submitted_at=_now(now), sync_status="none",
        sanctions_hits=json.dumps([asdict(h) for h in hits]) if hits else None,
    )
    db.add(app)
    _record(db, app_id, subject, "submitted", now=now)
    if hits:
        _record(db, app_id, "screening", "sanctions_match",
                json.dumps([{"kind": h.kind, "line": h.line} for h in hits]), now=now)
        log.warning("kyc application %s matches the sanctions list (%d hit(s))", app_id, len(hits))
    decision = provider.assess(ApplicationView(
        application_id=app_id, subject=subject, country=data.country, legal_name=data.legal_name,
        date_of_birth=data.date_of_birth.isoformat(), document_type=data.document_type,
        document_number=data.document_number, has_document_file=document is not None))
    _record(db, app_id, f"provider:{provider.name}", f"assessed:{decision.outcome}", decision.reason,
            now=now)
    if decision.outcome == "reject":
        app.state = KycState.REJECTED.value
        app.reason = decision.reason
    return app


def reveal(app: KycApplication, cipher: PiiCipher) -> dict[str, Any]:
    """The decrypted personal data (only for the applicant and KYC officers)."""
    return cipher.decrypt(app.pii, bound_to=app.id)


def _write_all(fn: Any, *args: Any) -> list[ChainWrite]:
    last: ChainError | None = None
    for attempt in range(1, CHAIN_ATTEMPTS + 1):
        try:
            writes: list[ChainWrite] = fn(*args)
            return writes
        except ChainError as exc:
            last = exc
            log.warning("identity registry write failed (attempt %d/%d): %s", attempt, CHAIN_ATTEMPTS,
                        type(exc).__name__)
            time.sleep(0.2 * attempt)
    assert last is not None
    raise last


def approve(db: Session, writer: IdentityWriter, issue_credential: Any, *, app_id: str, officer: str,
            level: int, expires_at: datetime | None, validity: timedelta,
            now: datetime | None = None) -> KycApplication:
    """Approve: screening must be clean; every chain written; then the credential is issued."""
    moment = _now(now)
    app = get_application(db, app_id)
    try:
        next_state(KycState(app.state), KycAction.APPROVE)
    except KycTransitionError as exc:
        raise ConflictError(str(exc)) from None
    if app.subject == officer:
        raise ForbiddenError("a KYC officer cannot approve their own application")
    if app.sanctions_hits:
        _record(db, app_id, officer, "approval_blocked", "sanctions match", now=moment)
        raise UnprocessableError("this application matches the sanctions list: approval is blocked",
                                 application_id=app_id)
    if not 1 <= level <= 3:
        raise UnprocessableError("KYC level must be 1, 2 or 3")
    expiry = _aware(expires_at) or moment + validity
    if expiry <= moment:
        raise UnprocessableError("KYC expiry must be in the future")
    if app.address is None:
        raise UnprocessableError("the applicant has no wallet address to register on chain")
    try:
        writes = _write_all(writer.set_identity, app.address, level, app.country, int(expiry.timestamp()))
    except ChainError as exc:
        _rollback_partial(writer, app.address)
        app.sync_status = "rolled_back"
        app.sync_detail = f"approval rolled back: identity registry write failed: {exc}"
        _record(db, app_id, officer, "approval_rolled_back", str(exc), now=moment)
        db.commit()
        raise ServiceUnavailableError(
            f"the identity registry could not be written ({exc}); the approval was rolled back and "
            "the application is still submitted: retry when the chains are back",
            application_id=app_id, sync_status="rolled_back") from None
    credential = issue_credential(app.subject, level, app.country, expiry, moment)
    app.state = KycState.APPROVED.value
    app.level = level
    app.expires_at = expiry
    app.reviewed_at = moment
    app.reviewer = officer
    app.credential = json.dumps(credential) if not isinstance(credential, str) else credential
    app.sync_status = "synced"
    app.sync_detail = None
    app.chain_writes = json.dumps([asdict(w) for w in writes])
    chains = [asdict(w) for w in writes]
    _record(db, app_id, officer, "approved", json.dumps({"level": level, "chains": chains}), now=moment)
    return app


def _rollback_partial(writer: IdentityWriter, address: str) -> None:
    try:
        writer.revoke(address)
    except ChainError as exc:  # the chain that failed may still be down; nothing verified there
        log.warning("could not undo a partial identity write: %s", type(exc).__name__)


def reject(db: Session, *, app_id: str, officer: str, reason: str,
           now: datetime | None = None) -> KycApplication:
    app = get_application(db, app_id)
    try:
        app.state = next_state(KycState(app.state), KycAction.REJECT).value
    except KycTransitionError as exc:
        raise ConflictError(str(exc)) from None
    app.reason = reason
    app.reviewed_at = _now(now)
    app.reviewer = officer
    _record(db, app_id, officer, "rejected", reason, now=now)
    return app


def revoke(db: Session, writer: IdentityWriter, *, app_id: str, officer: str, reason: str,
           now: datetime | None = None) -> KycApplication:
    app = get_application(db, app_id)
    try:
        app.state = next_state(KycState(app.state), KycAction.REVOKE).value
    except KycTransitionError as exc:
        raise ConflictError(str(exc)) from None
    app.reason = reason
    _record(db, app_id, officer, "revoked", reason, now=now)
    _sync_revocation(db, writer, app, now)
    return app


def _sync_revocation(db: Session, writer: IdentityWriter, app: KycApplication,
                     now: datetime | None) -> None:
    if app.address is None:
        return
    try:
        writes = _write_all(writer.revoke, app.address)
    except ChainError as exc:
        app.sync_status = "pending_retry"
        app.sync_detail = f"revoked here; chain revocation pending: {exc}"
        _record(db, app.id, "system", "chain_revoke_failed", str(exc), now=now)
        return
    app.sync_status = "synced"
    app.sync_detail = None
    app.chain_writes = json.dumps([asdict(w) for w in writes])
    _record(db, app.id, "system", "chain_revoked", json.dumps([asdict(w) for w in writes]), now=now)


def retry_pending(db: Session, writer: IdentityWriter, now: datetime | None = None) -> int:
    """Finish chain revocations that failed earlier; returns how many are now synced."""
    pending = db.execute(
        select(KycApplication).where(KycApplication.sync_status == "pending_retry")).scalars()
    done = 0
    for app in pending:
        _sync_revocation(db, writer, app, now)
        done += app.sync_status == "synced"
    return done


def expire_due(db: Session, now: datetime | None = None) -> int:
    """Mark approved applications past their expiry as expired (the chain expires them itself)."""
    moment = _now(now)
    due = db.execute(select(KycApplication).where(KycApplication.state == KycState.APPROVED.value)).scalars()
    count = 0
    for app in due:
        expiry = _aware(app.expires_at)
        if expiry is not None and expiry <= moment:
            app.state = next_state(KycState.APPROVED, KycAction.EXPIRE).value
            app.sync_status = "chain_expiry"
            app.sync_detail = "the identity registry stops verifying at the same expiry"
            _record(db, app.id, "system", "expired", now=moment)
            count += 1
    return count


def verified_application(db: Session, subject: str, now: datetime | None = None) -> KycApplication | None:
    """The subject's approved, unexpired, chain-synced application, if any."""
    app = latest_for(db, subject)
    if app is None or app.state != KycState.APPROVED.value or app.sync_status != "synced":
        return None
    expiry = _aware(app.expires_at)
    if expiry is None or expiry <= _now(now):
        return None
    return app
