"""The operator console's read routes: every collection's circuit-breaker policy and current halt,
and the bridge's transfers that are not delivered (pending, failed, stuck) with their reasons. Both
for the ``risk`` role, the role that changes policies and lifts halts (``/market/breaker/...``);
the bridge's backlog is read through its store's read functions (the relayer writes it)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import Caller, DbSession, require_role
from api.health import probe_of
from api.market_sync import PolicyIn, aware, policy_of
from api.models import BreakerDecisionRow, CollectionPolicyRow

router = APIRouter(prefix="/console", tags=["console"])
Risk = Annotated[Caller, Depends(require_role("risk"))]
STUCK_AFTER_S = 600.0
"""A transfer not delivered this long after the relayer saw it is shown as stuck."""


class BreakerRow(BaseModel):
    chain_id: int
    collection: str
    policy: PolicyIn
    halted_until: datetime | None
    halted: bool
    last_reason: str | None
    """The reason of the collection's latest breaker decision (why it halted, for a halt)."""


class BridgeTransfer(BaseModel):
    source_chain_id: int
    dest_chain_id: int
    transfer_id: str
    collection: str
    token_id: str
    sender: str
    recipient: str
    tx_hash: str
    status: str
    """pending, failed or stuck (pending or failed for longer than ``STUCK_AFTER_S``)."""
    reason: str | None
    attempts: int
    age_s: float


class HeldDeparture(BaseModel):
    worker: str
    chain_id: int
    tx_hash: str
    transfer_id: str | None
    reason: str
    attempts: int
    stuck: bool


class BridgeBacklog(BaseModel):
    readable: bool
    """False when the relayer's store does not exist yet (no relayer has run)."""
    transfers: list[BridgeTransfer]
    held: list[HeldDeparture]


@router.get("/breakers", response_model=list[BreakerRow],
            summary="Every collection with a breaker policy or a halt, halted ones first (risk role)")
def breakers(risk: Risk, db: DbSession) -> list[BreakerRow]:
    now = datetime.now(UTC)
    out = []
    for row in db.execute(select(CollectionPolicyRow)).scalars():
        policy, _ = policy_of(row)
        until = aware(row.halted_until)
        last = db.execute(select(BreakerDecisionRow.reason)
                          .where(BreakerDecisionRow.chain_id == row.chain_id,
                                 BreakerDecisionRow.collection == row.collection)
                          .order_by(BreakerDecisionRow.id.desc()).limit(1)).scalar()
        out.append(BreakerRow(chain_id=row.chain_id, collection=row.collection, policy=policy,
                              halted_until=until, halted=until is not None and until > now, last_reason=last))
    return sorted(out, key=lambda r: (not r.halted, r.chain_id, r.collection))


def bridge_store(request: Request) -> Any:
    """The relayer's store the console reads (a dependency provider; cached on the app), or None."""
    url = probe_of(request).bridge_url()
    if url is None or (url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists()):
        return None
    cached = getattr(request.app.state, "console_bridge_store", None)
    if cached is None or cached[0] != url:
        from bridge.store import BridgeStore, make_engine

        cached = (url, BridgeStore(make_engine(url)))
        request.app.state.console_bridge_store = cached
    return cached[1]


@router.get("/bridge", response_model=BridgeBacklog,
            summary="The bridge's transfers not delivered (pending, failed, stuck) with reasons, and the "
                    "departures validators hold (risk role)")
def bridge(risk: Risk, store: Annotated[Any, Depends(bridge_store)]) -> BridgeBacklog:
    if store is None:
        return BridgeBacklog(readable=False, transfers=[], held=[])
    now = time.time()
    try:
        rows = store.transfers(["pending", "failed"], limit=500)
        held = store.held(limit=500)
    except Exception:  # the relayer has not created its tables yet
        return BridgeBacklog(readable=False, transfers=[], held=[])
    transfers = [BridgeTransfer(
        source_chain_id=t.source_chain_id, dest_chain_id=t.dest_chain_id, transfer_id=hex(t.transfer_id),
        collection=t.collection, token_id=str(t.token_id), sender=t.sender, recipient=t.recipient,
        tx_hash=t.tx_hash, reason=t.reason, attempts=t.attempts, age_s=round(now - t.observed_at, 1),
        status="stuck" if now - t.observed_at > STUCK_AFTER_S else t.status) for t in rows]
    return BridgeBacklog(readable=True, transfers=transfers, held=[HeldDeparture(
        worker=h.worker, chain_id=h.chain_id, tx_hash=h.key.tx_hash,
        transfer_id=None if h.transfer_id is None else hex(h.transfer_id), reason=h.reason,
        attempts=h.attempts, stuck=h.stuck) for h in held])
