"""The KYC flow: submit, screen, review, approve (credential + every chain), reject, revoke, expire.

An approval is never half-done. The credential is issued first (local and cheap, so nothing is on
chain if it fails); then the identity is written to every configured chain (with retries for
transient failures). If a chain write still fails, the writes that did land are undone (revoked)
and the application stays ``submitted`` with ``sync_status = rolled_back``; if the undo itself
fails, ``rollback_failed`` names the chains that may still verify the user, and ``retry_pending``
finishes the undo. Only when every chain has it is the state ``approved`` (committed at once).

A revocation takes effect in the database at once (the API stops admitting the user, the
credential's status says revoked); a chain that could not be written is kept as ``pending_retry``
(named in the detail) and ``retry_pending`` finishes it: officers call it through ``POST /kyc/sync``,
and it runs before every approval and revocation and at API startup.

Expiry is lazy: an approved application read past its expiry becomes ``expired`` (the on-chain
registry stops verifying by itself at the same timestamp); ``expire_due`` sweeps them all.

Sanctions are screened at submission and again at approval (the list may have grown); a blocking
match is recorded and committed even though the approval is refused.

KYC is per wallet, because the on-chain registry is keyed by the wallet address while logins are
DIDs (the same wallet is ``did:pkh:eip155:31337:0x..`` and ``did:pkh:eip155:31338:0x..``, and a
did:key/did:jwk user may be bound to it): a wallet has at most one application in force (submitted
or approved) whatever DID applied; every DID of the wallet reads the wallet's status (``latest_for``,
``verified_application``), which is what every chain says; and a revocation revokes every approved
application of the wallet, so nothing stays approved here that the chains no longer verify.

Nobody decides (approves, rejects, revokes) an application that is their own: its subject or its
wallet is any of the officer's identities (``identities_of``: their DID, their wallet, every DID
bound to that wallet, did:pkh on any chain id).

Personal data is decrypted only for the applicant, KYC officers and the provider, and never logged:
log lines carry application ids and DIDs only.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from api.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ServiceUnavailableError,
    UnprocessableError,
)
from api.kyc.pii import PiiCipher
from api.kyc.providers import ApplicationView, KycProvider, ProviderDecision
from api.kyc.registry import ChainWrite, IdentityWriter, RegistrySyncError
from api.kyc.sanctions import SanctionsHit, SanctionsList
from api.kyc.states import KycAction, KycState, KycTransitionError, next_state
from api.models import KycApplication, KycEvent, User
from chain.errors import ChainError
from did.errors import DidError
from did.methods import parse_did, pkh_account

log = logging.getLogger(__name__)

CHAIN_ATTEMPTS = 3
CREDENTIAL_ID_PREFIX = "urn:chainright:kyc:"
"""A KYCCredential's id is this prefix and its application id: the register is keyed by it."""
RETRY_STATUSES = ("pending_retry", "rollback_failed")
"""sync_status values that ``retry_pending`` finishes (both are revocations owed to some chains)."""
APPROVING = "approving"
"""sync_status while an approval's chain writes run (committed before the first write)."""
INTERRUPTED_AFTER_S = 300.0
"""An approval still ``approving`` this long after it started belongs to a request that died (the
API's ``idempotency_stale_s``: the same bound for any request in progress)."""


class IssueCredential(Protocol):
    """Issues the KYCCredential of an approval (the platform issuer signs)."""

    def __call__(self, app_id: str, subject: str, level: int, country: str, expires_at: datetime,
                 now: datetime) -> Any: ...


def credential_id_for(app_id: str) -> str:
    return CREDENTIAL_ID_PREFIX + app_id


@dataclass(frozen=True)
class Submission:
    legal_name: str
    date_of_birth: date
    country: str
    document_type: str
    document_number: str


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record(db: Session, app_id: str, actor: str, action: str, detail: str | None = None,
            now: datetime | None = None) -> None:
    db.add(KycEvent(application_id=app_id, at=_now(now), actor=actor, action=action, detail=detail))


def get_application(db: Session, app_id: str) -> KycApplication:
    app = db.get(KycApplication, app_id)
    if app is None:
        raise NotFoundError(f"no KYC application {app_id}")
    return app


def _expire_if_due(db: Session, app: KycApplication, moment: datetime) -> bool:
    if app.state != KycState.APPROVED.value:
        return False
    expiry = aware(app.expires_at)
    if expiry is None or expiry > moment:
        return False
    app.state = next_state(KycState.APPROVED, KycAction.EXPIRE).value
    if app.sync_status == "synced":
        app.sync_status = "chain_expiry"
        app.sync_detail = "the identity registry stops verifying at the same expiry, by itself"
    record(db, app.id, "system", "expired", now=moment)
    log.info("kyc application %s expired", app.id)
    return True


def _pkh_address(did: str) -> str | None:
    try:
        return pkh_account(did)[1] if parse_did(did).method == "pkh" else None
    except DidError:
        return None


@dataclass(frozen=True)
class Identities:
    """Every identity of one person as the platform knows it: DIDs, and wallets (lower case)."""

    dids: frozenset[str]
    wallets: frozenset[str]

    def owns(self, app: KycApplication, db: Session) -> bool:
        """Is ``app`` one of these identities' own (its subject, or its wallet)?"""
        return app.subject in self.dids or bool(identities_of(db, app.subject, app.address).wallets
                                                & self.wallets)


def identities_of(db: Session, did: str, address: str | None = None) -> Identities:
    """``did`` and ``address``, the wallet of a did:pkh (on any chain id), the wallet its user row
    is bound to, and every DID whose user row is bound to one of these wallets."""
    wallets = {a.lower() for a in (address, _pkh_address(did)) if a}
    user = db.get(User, did)
    if user is not None and user.address:
        wallets.add(user.address.lower())
    dids = {did}
    if wallets:
        dids.update(db.execute(select(User.did).where(func.lower(User.address).in_(wallets))).scalars())
    return Identities(frozenset(dids), frozenset(wallets))


def _of_identity(subject: str, address: str | None) -> Any:
    """The applications of ``subject`` or of its wallet (any DID that applied with it)."""
    wallet = (address or _pkh_address(subject) or "").lower()
    if not wallet:
        return KycApplication.subject == subject
    return or_(KycApplication.subject == subject, func.lower(KycApplication.address) == wallet)


def latest_for(db: Session, subject: str, now: datetime | None = None, *,
               address: str | None = None) -> KycApplication | None:
    """The latest application of the subject's wallet (whatever DID applied with it), or of the
    subject itself when it has no wallet; an approval past its expiry is moved to ``expired`` here."""
    app = db.execute(select(KycApplication).where(_of_identity(subject, address))
                     .order_by(KycApplication.submitted_at.desc()).limit(1)).scalar_one_or_none()
    if app is not None:
        _expire_if_due(db, app, _now(now))
    return app


def _refuse_own(db: Session, app: KycApplication, officer: str, officer_address: str | None,
                action: str) -> None:
    if identities_of(db, officer, officer_address).owns(app, db):
        raise ForbiddenError(f"a KYC officer cannot {action} their own application: {app.id} is one of "
                             "your own identities (same DID, same wallet on any chain, or a DID bound "
                             "to your wallet)", application_id=app.id)


def _wallet_siblings(db: Session, app: KycApplication, states: tuple[str, ...]) -> list[KycApplication]:
    """The other applications of ``app``'s wallet in one of ``states``."""
    if not app.address:
        return []
    return list(db.execute(select(KycApplication).where(
        func.lower(KycApplication.address) == app.address.lower(), KycApplication.id != app.id,
        KycApplication.state.in_(states))).scalars())


def submit(db: Session, cipher: PiiCipher, sanctions: SanctionsList, provider: KycProvider, *,
           subject: str, address: str | None, data: Submission, document: bytes | None = None,
           now: datetime | None = None) -> tuple[KycApplication, ProviderDecision]:
    """File an application (personal data encrypted); screening and the provider's assessment run
    at once and are recorded. A ``reject`` decision is applied here; an ``approve`` decision is
    returned for the caller to carry out through ``approve`` (it needs the chains)."""
    current = latest_for(db, subject, now, address=address)
    if current is not None and KycState(current.state) in (KycState.SUBMITTED, KycState.APPROVED):
        whose = "you already have" if current.subject == subject else "your wallet already has"
        raise ConflictError(f"{whose} a {current.state} KYC application ({current.id})",
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
        sanctions_hits=_hits_json(hits),
    )
    db.add(app)
    record(db, app_id, subject, "submitted", now=now)
    if hits:
        record(db, app_id, "screening", "sanctions_match", _hits_detail(hits), now=now)
        log.warning("kyc application %s matches the sanctions list (%d hit(s))", app_id, len(hits))
    decision = provider.assess(ApplicationView(
        application_id=app_id, subject=subject, country=data.country, legal_name=data.legal_name,
        date_of_birth=data.date_of_birth.isoformat(), document_type=data.document_type,
        document_number=data.document_number, has_document_file=document is not None))
    record(db, app_id, f"provider:{provider.name}", f"assessed:{decision.outcome}", decision.reason,
            now=now)
    if decision.outcome == "reject":
        app.state = KycState.REJECTED.value
        app.reason = decision.reason or f"rejected by the {provider.name} provider"
    return app, decision


def _hits_json(hits: list[SanctionsHit]) -> str | None:
    return json.dumps([asdict(h) for h in hits]) if hits else None


def _hits_detail(hits: list[SanctionsHit]) -> str:
    return json.dumps([{"kind": h.kind, "line": h.line} for h in hits])


def reveal(app: KycApplication, cipher: PiiCipher) -> dict[str, Any]:
    """The decrypted personal data (only for the applicant and KYC officers)."""
    return cipher.decrypt(app.pii, bound_to=app.id)


def _write_all(fn: Any, *args: Any) -> list[ChainWrite]:
    """``fn(*args)`` with retries; a final RegistrySyncError carries every write that landed in
    any attempt (so an undo covers them all)."""
    last: ChainError | None = None
    landed: dict[int, ChainWrite] = {}
    for attempt in range(1, CHAIN_ATTEMPTS + 1):
        try:
            writes: list[ChainWrite] = fn(*args)
            return writes
        except RegistrySyncError as exc:
            last = exc
            landed.update({w.chain_id: w for w in exc.writes})
        except ChainError as exc:
            last = exc
        log.warning("identity registry write failed (attempt %d/%d): %s", attempt, CHAIN_ATTEMPTS,
                    type(last).__name__)
        if attempt < CHAIN_ATTEMPTS:
            time.sleep(0.2 * attempt)
    assert last is not None
    if isinstance(last, RegistrySyncError):
        raise RegistrySyncError(last.failed, [landed[c] for c in sorted(landed)])
    raise last


def _screen_again(db: Session, app: KycApplication, sanctions: SanctionsList | None,
                  cipher: PiiCipher | None, officer: str, moment: datetime) -> None:
    """Screen at approval time too (the list may have grown since submission); a match is
    recorded and committed before the approval is refused."""
    hits: list[SanctionsHit] = []
    if sanctions is not None and cipher is not None:
        hits = sanctions.screen(address=app.address, legal_name=str(reveal(app, cipher)["legal_name"]))
        if hits:
            app.sanctions_hits = _hits_json(hits)
            record(db, app.id, "screening", "sanctions_match", _hits_detail(hits), now=moment)
    if app.sanctions_hits:
        kinds = sorted({str(h["kind"]) for h in json.loads(app.sanctions_hits)})
        record(db, app.id, officer, "approval_blocked", f"sanctions match ({', '.join(kinds)})", now=moment)
        db.commit()
        log.warning("kyc approval of %s blocked by the sanctions list", app.id)
        raise UnprocessableError(
            f"this application matches the sanctions list ({', '.join(kinds)}): approval is blocked "
            "and the match is recorded", application_id=app.id)


def approve(db: Session, writer: IdentityWriter, issue_credential: IssueCredential, *, app_id: str,
            officer: str, level: int, expires_at: datetime | None, validity: timedelta,
            sanctions: SanctionsList | None = None, cipher: PiiCipher | None = None,
            now: datetime | None = None, officer_address: str | None = None) -> KycApplication:
    """Approve: screening clean (again); credential issued; every chain written; committed."""
    moment = _now(now)
    app = get_application(db, app_id)
    try:
        next_state(KycState(app.state), KycAction.APPROVE)
    except KycTransitionError as exc:
        raise ConflictError(str(exc)) from None
    _refuse_own(db, app, officer, officer_address, "approve")
    approved = _wallet_siblings(db, app, (KycState.APPROVED.value,))
    if approved:
        raise ConflictError(f"the applicant's wallet is already approved by application {approved[0].id} "
                            "(KYC is per wallet): revoke that one first", application_id=approved[0].id)
    _screen_again(db, app, sanctions, cipher, officer, moment)
    if not 1 <= level <= 3:
        raise UnprocessableError("KYC level must be 1, 2 or 3")
    expiry = aware(expires_at) or moment + validity
    if expiry <= moment:
        raise UnprocessableError("KYC expiry must be in the future")
    if app.address is None:
        raise UnprocessableError("the applicant has no wallet address to register on chain")
    if app.sync_status == APPROVING:
        raise ConflictError("an approval of this application is already writing to the chains; wait for "
                            "it (an interrupted one is undone by POST /kyc/sync)", application_id=app_id)
    try:  # first, before any chain write: if it fails, nothing is on chain
        credential = issue_credential(app.id, app.subject, level, app.country, expiry, moment)
    except DidError as exc:
        raise UnprocessableError(f"the KYC credential could not be issued: {exc}; nothing was written "
                                 "on chain", application_id=app_id) from None
    # The intent, committed before the first chain write: a process that dies between the writes
    # (or before recording them) leaves this mark, and the sync undoes what landed
    # (``interrupted_approvals``) instead of leaving chains that verify a wallet nobody approved here.
    app.sync_status = APPROVING
    app.sync_detail = "identity registry writes in progress"
    record(db, app_id, officer, "approval_started", now=moment)
    db.commit()
    try:
        writes = _write_all(writer.set_identity, app.address, level, app.country, int(expiry.timestamp()))
    except ChainError as exc:
        landed = exc.writes if isinstance(exc, RegistrySyncError) else None
        status, detail = _undo(writer, app.address, landed, f"identity registry write failed: {exc}")
        app.sync_status = status
        app.sync_detail = detail
        record(db, app_id, officer, f"approval_{status}", detail, now=moment)
        db.commit()
        raise ServiceUnavailableError(
            f"the identity registry could not be written ({exc}); {detail}; the application is still "
            "submitted: approve again when the chains are back",
            application_id=app_id, sync_status=status) from None
    app.state = KycState.APPROVED.value
    app.level = level
    app.expires_at = expiry
    app.reviewed_at = moment
    app.reviewer = officer
    app.credential = json.dumps(credential) if not isinstance(credential, str) else credential
    app.sync_status = "synced"
    app.sync_detail = None
    app.chain_writes = json.dumps([asdict(w) for w in writes])
    _supersede_older(db, app, moment)
    chains = [asdict(w) for w in writes]
    record(db, app_id, officer, "approved", json.dumps({"level": level, "chains": chains}), now=moment)
    try:
        db.commit()
    except Exception as exc:
        db.rollback()
        status, detail = _undo(writer, app.address, writes, f"the database could not record it ({exc})")
        log.error("kyc approval of %s not recorded; chain writes undone: %s", app_id, status)
        raise ServiceUnavailableError(f"the approval could not be recorded; {detail}",
                                      application_id=app_id, sync_status=status) from None
    return app


def _undo(writer: IdentityWriter, address: str, landed: list[ChainWrite] | None,
          why: str) -> tuple[str, str]:
    """Revoke a partial identity write; returns (sync_status, detail naming chains)."""
    chains = None if landed is None else sorted({w.chain_id for w in landed})
    if chains == []:
        return "rolled_back", f"approval rolled back: {why}; no chain had been written"
    try:
        _write_all(writer.revoke, address, chains)
    except ChainError as exc:
        stuck = exc.chain_ids if isinstance(exc, RegistrySyncError) else (chains or [])
        log.warning("could not undo a partial identity write on chains %s: %s", stuck, type(exc).__name__)
        return "rollback_failed", (
            f"approval NOT fully rolled back: {why}; the identity may still verify on chain(s) "
            f"{', '.join(map(str, stuck)) or 'unknown'} until POST /kyc/sync finishes the undo ({exc})")
    where = ", ".join(map(str, chains)) if chains else "every chain"
    return "rolled_back", f"approval rolled back: {why}; undone on {where}"


def _supersede_older(db: Session, app: KycApplication, moment: datetime) -> None:
    """A new approval replaces any chain revocation still owed for the same address."""
    older = db.execute(select(KycApplication).where(
        KycApplication.address == app.address, KycApplication.id != app.id,
        KycApplication.sync_status.in_(RETRY_STATUSES))).scalars()
    for old in older:
        old.sync_status = "superseded"
        old.sync_detail = f"the identity was written again by approval {app.id}"
        record(db, old.id, "system", "chain_sync_superseded", app.id, now=moment)


def reject(db: Session, *, app_id: str, officer: str, reason: str,
           now: datetime | None = None, officer_address: str | None = None) -> KycApplication:
    app = get_application(db, app_id)
    _refuse_own(db, app, officer, officer_address, "reject")
    try:
        app.state = next_state(KycState(app.state), KycAction.REJECT).value
    except KycTransitionError as exc:
        raise ConflictError(str(exc)) from None
    app.reason = reason
    app.reviewed_at = _now(now)
    app.reviewer = officer
    record(db, app_id, officer, "rejected", reason, now=now)
    return app


def revoke(db: Session, writer: IdentityWriter, *, app_id: str, officer: str, reason: str,
           now: datetime | None = None, officer_address: str | None = None) -> KycApplication:
    """Revoke ``app_id`` and with it every other approval of the same wallet (the chains know the
    wallet, not the DID: nothing may stay approved here that they stop verifying)."""
    app = get_application(db, app_id)
    _refuse_own(db, app, officer, officer_address, "revoke")
    _expire_if_due(db, app, _now(now))
    try:
        app.state = next_state(KycState(app.state), KycAction.REVOKE).value
    except KycTransitionError as exc:
        raise ConflictError(str(exc)) from None
    app.reason = reason
    record(db, app_id, officer, "revoked", reason, now=now)
    for sibling in _wallet_siblings(db, app, (KycState.APPROVED.value,)):
        if _expire_if_due(db, sibling, _now(now)):
            continue
        sibling.state = KycState.REVOKED.value
        sibling.reason = f"revoked with {app.id} (the same wallet): {reason}"
        sibling.sync_detail = f"the wallet's chain revocation is tracked by application {app.id}"
        record(db, sibling.id, officer, "revoked", f"with {app.id} (the same wallet): {reason}", now=now)
    db.commit()  # in force here at once, whatever the chains do
    _sync_revocation(db, writer, app, now)
    return app


def _sync_revocation(db: Session, writer: IdentityWriter, app: KycApplication,
                     now: datetime | None) -> None:
    if app.address is None:
        return
    try:
        writes = _write_all(writer.revoke, app.address)
    except ChainError as exc:
        stuck = exc.chain_ids if isinstance(exc, RegistrySyncError) else []
        if app.state == KycState.SUBMITTED.value:
            app.sync_status = "rollback_failed"
        else:
            app.sync_status = "pending_retry"
        where = f"chain(s) {', '.join(map(str, stuck))}" if stuck else "the chains"
        app.sync_detail = (f"{app.state} here; {where} still to be revoked (retried by POST /kyc/sync, "
                           f"before each approval and revocation, and at startup): {exc}")
        record(db, app.id, "system", "chain_revoke_failed", str(exc), now=now)
        return
    app.sync_status = "rolled_back" if app.state == KycState.SUBMITTED.value else "synced"
    app.sync_detail = None
    if app.state != KycState.SUBMITTED.value:
        app.chain_writes = json.dumps([asdict(w) for w in writes])
    record(db, app.id, "system", "chain_revoked", json.dumps([asdict(w) for w in writes]), now=now)


def interrupted_approvals(db: Session, now: datetime | None = None,
                          after_s: float = INTERRUPTED_AFTER_S) -> list[KycApplication]:
    """Approvals whose request died during their chain writes: ``approving`` for longer than ``after_s``."""
    moment = _now(now)
    out = []
    for app in db.execute(select(KycApplication).where(KycApplication.sync_status == APPROVING)).scalars():
        started = aware(db.execute(select(func.max(KycEvent.at)).where(
            KycEvent.application_id == app.id, KycEvent.action == "approval_started")).scalar())
        if started is None or (moment - started).total_seconds() > after_s:
            out.append(app)
    return out


def pending_sync(db: Session, now: datetime | None = None,
                 interrupted_after_s: float = INTERRUPTED_AFTER_S) -> list[KycApplication]:
    """Applications that still owe a revocation to some chain (an interrupted approval owes the undo
    of whatever it wrote)."""
    owed = list(db.execute(select(KycApplication).where(
        KycApplication.sync_status.in_(RETRY_STATUSES))).scalars())
    return owed + interrupted_approvals(db, now, interrupted_after_s)


@dataclass(frozen=True)
class SyncReport:
    synced: int
    still_pending: int
    expired: int


def retry_pending(db: Session, writer: IdentityWriter, now: datetime | None = None,
                  interrupted_after_s: float = INTERRUPTED_AFTER_S) -> int:
    """Finish chain revocations that failed earlier (a revoke, or the undo of a failed or interrupted
    approval); returns how many are now synced."""
    done = 0
    for app in pending_sync(db, now, interrupted_after_s):
        interrupted = app.sync_status == APPROVING
        if interrupted:
            record(db, app.id, "system", "approval_interrupted",
                   "the API stopped during the approval's chain writes; undoing them", now=now)
        _sync_revocation(db, writer, app, now)
        if interrupted and app.sync_status == "rolled_back":
            app.sync_detail = ("an approval interrupted during its chain writes (the API stopped) was undone "
                               "on every chain; the application is still submitted: approve it again")
        done += app.sync_status in ("synced", "rolled_back")
    return done


def sync(db: Session, writer: IdentityWriter | None, now: datetime | None = None,
         interrupted_after_s: float = INTERRUPTED_AFTER_S) -> SyncReport:
    """Expire what is due, then retry what is pending (the writer is only needed for that)."""
    expired = expire_due(db, now)
    pending = pending_sync(db, now, interrupted_after_s)
    synced = retry_pending(db, writer, now, interrupted_after_s) if pending and writer is not None else 0
    return SyncReport(synced=synced, still_pending=len(pending) - synced, expired=expired)


def expire_due(db: Session, now: datetime | None = None) -> int:
    """Mark approved applications past their expiry as expired (the chain expires them itself)."""
    moment = _now(now)
    due = db.execute(select(KycApplication).where(KycApplication.state == KycState.APPROVED.value)).scalars()
    return sum(_expire_if_due(db, app, moment) for app in list(due))


def credential_status(db: Session, credential_id: str, now: datetime | None = None, *,
                      with_reason: bool = True) -> str | None:
    """The platform's status register for KYCCredentials: None while the credential is in force,
    else the reason it is not (the application behind it was revoked, expired, or is unknown).
    ``with_reason=False`` leaves out the officer's words (for answers to third parties)."""
    if not credential_id.startswith(CREDENTIAL_ID_PREFIX):
        return "it is not in the platform's KYC register"
    app = db.get(KycApplication, credential_id.removeprefix(CREDENTIAL_ID_PREFIX))
    if app is None or app.credential is None:
        return "it is not in the platform's KYC register"
    _expire_if_due(db, app, _now(now))
    if app.state == KycState.REVOKED.value:
        return f"revoked: {app.reason}" if app.reason and with_reason else "revoked"
    if app.state != KycState.APPROVED.value:
        return app.state
    return None


def verified_application(db: Session, subject: str, now: datetime | None = None, *,
                         address: str | None = None) -> KycApplication | None:
    """The approved, unexpired, chain-synced application of the subject's wallet (under whichever
    of its DIDs it was filed), or of the subject itself when it has no wallet; None if there is none."""
    app = latest_for(db, subject, now, address=address)
    if app is None or app.state != KycState.APPROVED.value or app.sync_status != "synced":
        return None
    return app
