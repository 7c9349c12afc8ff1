"""Roles an admin grants and revokes at run time, read by the role check at every request.

An admin grants and revokes them through ``/admin/roles`` and the role check
(``api.deps.current_user``) reads them at every request, so no restart is needed.

A caller's roles are those ``CHAINRIGHT_API_ROLE_GRANTS`` gave at login (``users.roles``) plus the
grants in force here for its DID or its wallet address. A revocation here ends a grant made here; a
role given by the settings is removed in the settings (the route says so instead of pretending).
Every grant and revocation stays in ``role_grants`` (who, what, to whom, when) and is logged without
personal data beyond the DIDs and addresses that are already public on chain."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.models import RoleGrant

log = logging.getLogger(__name__)

ROLES = ("admin", "operator", "treasury", "risk", "kyc_officer")
"""Every role a route checks: admin grants roles; operator pauses and unpauses contract families;
treasury withdraws the platform fee; risk sets breaker policies and lifts halts; kyc_officer reviews
KYC applications."""


def subjects_of(did: str, address: str | None) -> list[str]:
    """What a grant may name to reach this caller: its DID, and its wallet address."""
    return [did] + ([address] if address else [])


def granted_roles(db: Session, did: str, address: str | None) -> frozenset[str]:
    """The roles granted here and not revoked, for ``did`` or its wallet ``address``."""
    rows = db.execute(select(RoleGrant.role).where(
        RoleGrant.subject.in_(subjects_of(did, address)), RoleGrant.revoked_at.is_(None))).scalars()
    return frozenset(rows)


def active_grant(db: Session, subject: str, role: str) -> RoleGrant | None:
    return db.execute(select(RoleGrant).where(
        RoleGrant.subject == subject, RoleGrant.role == role, RoleGrant.revoked_at.is_(None))
        .limit(1)).scalar_one_or_none()


def grant(db: Session, subject: str, role: str, by: str,
          now: datetime | None = None) -> tuple[RoleGrant, bool]:
    """Grant ``role`` to ``subject``; (the grant, True when it is new). Granting twice is a no-op."""
    existing = active_grant(db, subject, role)
    if existing is not None:
        return existing, False
    row = RoleGrant(subject=subject, role=role, granted_by=by, granted_at=now or datetime.now(UTC))
    db.add(row)
    db.flush()
    log.info("audit: %s granted role %s to %s (grant %d)", by, role, subject, row.id)
    return row, True


def revoke(db: Session, subject: str, role: str, by: str, now: datetime | None = None) -> RoleGrant | None:
    """End the grant of ``role`` to ``subject`` made here; None when there is none."""
    row = active_grant(db, subject, role)
    if row is None:
        return None
    row.revoked_by, row.revoked_at = by, now or datetime.now(UTC)
    db.flush()
    log.info("audit: %s revoked role %s from %s (grant %d)", by, role, subject, row.id)
    return row


def grants(db: Session, *, include_revoked: bool = False, subject: str | None = None) -> list[RoleGrant]:
    query = select(RoleGrant).order_by(RoleGrant.id)
    if not include_revoked:
        query = query.where(RoleGrant.revoked_at.is_(None))
    if subject is not None:
        query = query.where(or_(RoleGrant.subject == subject))
    return list(db.execute(query).scalars())
