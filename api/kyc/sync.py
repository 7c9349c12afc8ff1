"""Keeping the chains in step after the fact: the revocations still owed to some chain
(``pending_retry``, ``rollback_failed``, and the undo of an approval interrupted during its chain
writes: ``approving`` for longer than ``idempotency_stale_s``) are retried, and approvals past their
expiry are expired.

Runs at API startup, before every approval and revocation, and on demand (``POST /kyc/sync``).
The chains are only contacted when something is owed, so the API still starts without them; a
chain that is still down leaves the application pending, with the chain named in its detail.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from api.db import Database
from api.kyc import service
from chain.errors import ChainError

log = logging.getLogger(__name__)


def sync_now(db: Session, kyc: Any) -> service.SyncReport:
    """Expire what is due and retry what is owed (an approval interrupted during its chain writes
    included); committed. Never raises for a chain that is down (the applications stay pending);
    raises ChainError only if the writer cannot be built."""
    after = float(getattr(kyc, "request_stale_s", service.INTERRUPTED_AFTER_S))
    writer = kyc.writer() if service.pending_sync(db, interrupted_after_s=after) else None
    report = service.sync(db, writer, interrupted_after_s=after)
    db.commit()
    if report.synced or report.still_pending or report.expired:
        log.info("kyc sync: %d synced, %d still pending, %d expired", report.synced, report.still_pending,
                 report.expired)
    return report


def sync_before_write(db: Session, kyc: Any) -> None:
    """Best effort before an approval or revocation: a failure here must not block the officer."""
    try:
        sync_now(db, kyc)
    except ChainError as exc:
        db.rollback()
        log.warning("kyc sync before a write could not reach the chains: %s", type(exc).__name__)


def sync_at_startup(database: Database, kyc: Any) -> None:
    """Best effort at startup: logs what it did; never stops the API from starting."""
    try:
        with database.session() as db:
            sync_now(db, kyc)
    except Exception as exc:
        log.warning("kyc sync at startup failed: %s: %s", type(exc).__name__, exc)
