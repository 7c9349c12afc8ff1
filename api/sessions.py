"""Bearer session tokens: HMAC-signed, expiring, backed by a row that logout revokes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from api.errors import UnauthorizedError
from api.models import UserSession
from api.settings import ApiSettings

PREFIX = "crs1."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    subject: str
    """The user's DID."""
    method: str
    expires_at: datetime


def _sign(settings: ApiSettings, payload: bytes) -> bytes:
    key = settings.session_secret.get_secret_value().encode()
    return hmac.new(key, payload, hashlib.sha256).digest()


def issue(db: Session, settings: ApiSettings, subject: str, method: str,
          now: datetime | None = None) -> tuple[str, SessionInfo]:
    """Open a session for ``subject``; returns (bearer token, info)."""
    now = now or datetime.now(UTC)
    sid = secrets.token_hex(16)
    expires = now + timedelta(seconds=settings.session_ttl_s)
    db.add(UserSession(id=sid, subject=subject, method=method, created_at=now, expires_at=expires))
    payload = json.dumps({"sid": sid, "sub": subject, "exp": int(expires.timestamp())},
                         separators=(",", ":")).encode()
    token = PREFIX + _b64(payload) + "." + _b64(_sign(settings, payload))
    return token, SessionInfo(sid, subject, method, expires)


def resolve(db: Session, settings: ApiSettings, token: str,
            now: datetime | None = None) -> SessionInfo:
    """The session a bearer token names; raises UnauthorizedError with the reason."""
    now = now or datetime.now(UTC)
    if not token.startswith(PREFIX) or token.count(".") != 2:
        raise UnauthorizedError("malformed session token; log in again")
    body, sig = token[len(PREFIX):].split(".")
    try:
        payload, signature = _unb64(body), _unb64(sig)
        claims = json.loads(payload)
    except ValueError:
        raise UnauthorizedError("malformed session token; log in again") from None
    if not hmac.compare_digest(signature, _sign(settings, payload)):
        raise UnauthorizedError("session token signature is invalid; log in again")
    if int(claims.get("exp", 0)) <= now.timestamp():
        raise UnauthorizedError("session expired; log in again")
    row = db.get(UserSession, str(claims.get("sid")))
    if row is None or row.subject != claims.get("sub"):
        raise UnauthorizedError("unknown session; log in again")
    if row.revoked_at is not None:
        raise UnauthorizedError("session was logged out; log in again")
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    return SessionInfo(row.id, row.subject, row.method, expires)


def revoke(db: Session, session_id: str, now: datetime | None = None) -> None:
    row = db.get(UserSession, session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or datetime.now(UTC)


def from_authorization(db: Session, settings: ApiSettings, header: str | None,
                       now: datetime | None = None) -> SessionInfo:
    """The session an ``Authorization: Bearer <token>`` header names (for ASGI middlewares, which
    see raw headers); raises UnauthorizedError when there is none or it is not valid."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("this route needs a session: send 'Authorization: Bearer <token>' "
                                "from a login")
    return resolve(db, settings, token.strip(), now)
