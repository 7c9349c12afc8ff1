"""Login: Sign-In with Ethereum (EIP-4361) and DID presentations; sessions; logout.

Every challenge is single-use and short-lived: it is consumed by the first login attempt that
names it (successful or not), inside the same transaction that opens the session, so a replayed
message or presentation finds it spent.

Roles come from the settings (``CHAINRIGHT_API_ROLE_GRANTS``) and are set afresh at every login: a
grant removed from the settings is gone from the user at their next login (roles are read from
the user at every request, so until that login their open sessions keep the old roles).

Answers carrying a session token say ``Cache-Control: no-store`` and are never stored for an
``Idempotency-Key`` replay (``api.idempotency`` ignores the key under ``/auth/``): a captured login
request repeated by anyone is a fresh attempt, refused because its challenge is spent.

A DID presentation's credentials must still be in force in the platform's KYC register (a revoked
or expired KYCCredential is refused with the reason).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import update
from sqlalchemy.orm import Session

from api import sessions
from api.deps import CurrentUser, DatabaseDep, DbSession, DidSettingsDep, GatewayDep, Settings
from api.errors import UnauthorizedError
from api.kyc.service import credential_status
from api.models import LoginNonce, User
from api.settings import ApiSettings
from api.types import checksum_address
from did.credentials import verify_presentation
from did.errors import DidError
from did.methods import did_pkh, parse_did, pkh_account
from did.siwe import build_siwe_message, new_nonce, parse_siwe_message, verify_siwe

router = APIRouter(prefix="/auth", tags=["auth"])
NO_STORE = "no-store"
"""On every answer carrying a session token: no cache and no idempotency record keeps it."""
log = logging.getLogger(__name__)


# -- wire models -------------------------------------------------------------------------------


class SiweNonceRequest(BaseModel):
    address: str = Field(description="The wallet address that will sign (0x, 20 bytes).")
    chain_id: int = Field(gt=0, description="The chain the wallet signs for (31337 or 31338 locally).")

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return checksum_address(value)


class SiweNonceResponse(BaseModel):
    nonce: str
    message: str = Field(description="The EIP-4361 message for the wallet to sign with personal_sign.")
    expires_at: datetime


class SiweLoginRequest(BaseModel):
    message: str = Field(max_length=4096)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]+$", max_length=4096)


class DidChallengeResponse(BaseModel):
    challenge: str
    domain: str
    expires_at: datetime


class DidLoginRequest(BaseModel):
    presentation: dict[str, Any] = Field(description="A signed W3C Verifiable Presentation.")


class SessionResponse(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    did: str
    address: str | None
    expires_at: datetime


class Me(BaseModel):
    did: str
    address: str | None
    roles: list[str]


# -- helpers -----------------------------------------------------------------------------------


def sign_in_origin(request: Request, settings: ApiSettings) -> tuple[str, str]:
    """The (domain, origin) a login challenge names: the page's own when sign-in works there (the
    browser's ``Origin`` header, else the host the client reached), otherwise the configured one. A
    challenge never names a domain outside ``settings.sign_in_origins()``, and the login checks the
    signed message against the domain stored with its challenge."""
    pairs = settings.sign_in_origins()
    seen = request.headers.get("origin") or f"{request.url.scheme}://{request.headers.get('host', '')}"
    return next((pair for pair in pairs if pair[1] == seen.rstrip("/")), pairs[0])


def _issue_nonce(db: Session, settings: ApiSettings, purpose: str, chain_id: int | None,
                 now: datetime, origin: tuple[str, str]) -> LoginNonce:
    row = LoginNonce(nonce=new_nonce(), purpose=purpose, domain=origin[0],
                     uri=origin[1], chain_id=chain_id, created_at=now,
                     expires_at=now + timedelta(seconds=settings.login_nonce_ttl_s))
    db.add(row)
    return row


def _consume(db: Session, nonce: str, purpose: str, now: datetime) -> LoginNonce:
    row = db.get(LoginNonce, nonce)
    if row is None or row.purpose != purpose:
        raise UnauthorizedError("unknown login challenge; ask for a new one")
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires <= now:
        raise UnauthorizedError("the login challenge expired; ask for a new one")
    done = db.execute(update(LoginNonce).where(LoginNonce.nonce == nonce, LoginNonce.used_at.is_(None))
                      .values(used_at=now))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise UnauthorizedError("this login challenge was already used; ask for a new one")
    db.commit()  # spent even if what follows fails
    return row


def _open_session(db: Session, settings: ApiSettings, did: str, address: str | None,
                  method: str, now: datetime) -> SessionResponse:
    user = db.get(User, did)
    grants = settings.role_grants.get(did, []) + (
        settings.role_grants.get(address, []) if address else [])
    if user is None:
        user = User(did=did, address=address, roles="", created_at=now)
        db.add(user)
    before = {r for r in user.roles.split(",") if r}
    roles = sorted(set(grants))  # the settings are the source of truth
    if before - set(roles):
        log.info("roles %s no longer granted to %s: removed", sorted(before - set(roles)), did)
    user.roles = ",".join(roles)
    if address and not user.address:
        user.address = address
    token, info = sessions.issue(db, settings, did, method, now=now)
    return SessionResponse(token=token, did=did, address=user.address, expires_at=info.expires_at)


# -- routes ------------------------------------------------------------------------------------


@router.post("/siwe/nonce", response_model=SiweNonceResponse,
             summary="Start Sign-In with Ethereum: a single-use nonce and the message to sign")
def siwe_nonce(body: SiweNonceRequest, db: DbSession, settings: Settings, request: Request,
               gateway: GatewayDep) -> SiweNonceResponse:
    gateway.spec_for(body.chain_id)  # 404 for a chain we do not serve
    now = datetime.now(UTC)
    row = _issue_nonce(db, settings, "siwe", body.chain_id, now, sign_in_origin(request, settings))
    message = build_siwe_message(
        domain=row.domain, uri=row.uri, chain_id=body.chain_id,
        address=body.address, nonce=row.nonce, issued_at=now, expiration_time=row.expires_at,
        statement="Sign in to Chainright.")
    return SiweNonceResponse(nonce=row.nonce, message=message, expires_at=row.expires_at)


@router.post("/siwe/login", response_model=SessionResponse,
             summary="Finish Sign-In with Ethereum: verify the signed message, open a session")
def siwe_login(body: SiweLoginRequest, db: DbSession, settings: Settings, response: Response,
               gateway: GatewayDep) -> SessionResponse:
    response.headers["Cache-Control"] = NO_STORE
    now = datetime.now(UTC)
    try:
        parsed = parse_siwe_message(body.message)
    except DidError as exc:
        raise UnauthorizedError(
            f"sign-in refused: not a valid Sign-In with Ethereum message: {exc}") from None
    nonce_row = _consume(db, str(parsed.nonce), "siwe", now)
    try:
        address = verify_siwe(
            body.message, body.signature, expected_domain=nonce_row.domain,
            expected_uri=nonce_row.uri, expected_chain_id=int(nonce_row.chain_id or 0),
            expected_nonce=nonce_row.nonce, now=now,
            contract_wallet_check=gateway.contract_wallet_check(int(nonce_row.chain_id or 0)))
    except DidError as exc:
        raise UnauthorizedError(f"sign-in refused: {exc}") from None
    did = did_pkh(address, int(nonce_row.chain_id or 0))
    return _open_session(db, settings, did, address, "siwe", now)


@router.post("/did/challenge", response_model=DidChallengeResponse,
             summary="Start a DID login: a single-use challenge for a signed presentation")
def did_challenge(db: DbSession, settings: Settings, request: Request) -> DidChallengeResponse:
    now = datetime.now(UTC)
    row = _issue_nonce(db, settings, "did", None, now, sign_in_origin(request, settings))
    return DidChallengeResponse(challenge=row.nonce, domain=row.domain, expires_at=row.expires_at)


@router.post("/did/login", response_model=SessionResponse,
             summary="Finish a DID login: verify the presentation (and every credential in it)")
async def did_login(body: DidLoginRequest, response: Response, settings: Settings,
                    did_settings: DidSettingsDep, database: DatabaseDep) -> SessionResponse:
    """Async because didkit is; database work runs in short sessions around the verification."""
    response.headers["Cache-Control"] = NO_STORE
    now = datetime.now(UTC)
    proof = body.presentation.get("proof")
    proofs = proof if isinstance(proof, list) else [proof]
    challenge = next((p.get("challenge") for p in proofs if isinstance(p, dict)), None)
    if not isinstance(challenge, str):
        raise UnauthorizedError("the presentation's proof carries no challenge; ask for one at "
                                "/auth/did/challenge and sign it into the proof")
    with database.session() as db:
        nonce_row = _consume(db, challenge, "did", now)

    def in_force(credential_id: str) -> str | None:
        with database.session() as db:
            return credential_status(db, credential_id, now)

    try:
        verified = await verify_presentation(
            json.dumps(body.presentation), challenge=nonce_row.nonce, domain=nonce_row.domain,
            trusted_issuers=[did_settings.issuer_did], now=now, clock_skew=did_settings.clock_skew,
            status_check=in_force)
    except DidError as exc:
        raise UnauthorizedError(f"presentation refused: {exc}") from None
    holder = str(verified.holder)
    address = pkh_account(holder)[1] if parse_did(holder).method == "pkh" else None
    with database.session() as db:
        return _open_session(db, settings, holder, address, "did", now)


@router.post("/logout", status_code=204, summary="End this session (its token stops working)")
def logout(caller: CurrentUser, db: DbSession) -> None:
    sessions.revoke(db, caller.session_id)


@router.get("/me", response_model=Me, summary="Who am I (DID, address, roles)")
def me(caller: CurrentUser) -> Me:
    return Me(did=caller.did, address=caller.address, roles=sorted(caller.roles))

