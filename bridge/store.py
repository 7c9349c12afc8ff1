"""The relayer's tables (SQLAlchemy Core, own metadata ``BRIDGE_METADATA``) and their reads/writes.

Several processes share one database: validators write observations, attestations, transfers and
their checkpoints; the submitter writes delivery operations and transfer outcomes. Every write is one
short transaction. On SQLite the file runs in WAL mode and write transactions start with
``BEGIN IMMEDIATE`` (a waiting writer queues on the busy timeout instead of failing on upgrade).
The relayer keeps its own database by design (``CHAINRIGHT_BRIDGE_DATABASE_URL``, default a SQLite file
next to the chain data): ``BridgeStore.open`` creates the tables, and the API only reads them. They are
not part of the API's Alembic history; pointing the URL at the API's database works (``create_all``
adds the tables) but a later schema change there would need its own migration.

Times are epoch seconds (floats). Transfer ids are 256-bit: stored as 0x-prefixed 64-digit hex.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from bridge.core import (
    LIVE_DELIVERIES,
    RETRIED_STATUSES,
    Action,
    Attest,
    Attestation,
    DeliveryStatus,
    EventKey,
    Hold,
    ObservationOutcome,
    Reject,
    RetryPolicy,
    Skip,
    TransferOutcome,
    TransferState,
    TransferStatus,
    WorkerState,
    hold_schedule,
    transfer_step,
)
from bridge.message import BridgeMessage

BRIDGE_METADATA = MetaData()

bridge_checkpoints = Table(
    "bridge_checkpoints",
    BRIDGE_METADATA,
    Column("worker", String(64), primary_key=True),
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("next_block", BigInteger, nullable=False),
    Column("updated_at", Float, nullable=False),
)

bridge_observations = Table(
    "bridge_observations",
    BRIDGE_METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("worker", String(64), nullable=False),
    Column("chain_id", BigInteger, nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", String(66), nullable=False),
    Column("transfer_id", String(66), nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("worker", "chain_id", "tx_hash", "log_index", name="uq_bridge_observations_log"),
    Index("ix_bridge_observations_block", "worker", "chain_id", "block_number"),
)

bridge_transfers = Table(
    "bridge_transfers",
    BRIDGE_METADATA,
    Column("source_chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("transfer_id", String(66), primary_key=True),
    Column("dest_chain_id", BigInteger, nullable=False),
    Column("source_bridge", String(42), nullable=False),
    Column("dest_bridge", String(42), nullable=False),
    Column("collection", String(42), nullable=False),
    Column("token_id", String(80), nullable=False),
    Column("sender", String(42), nullable=False),
    Column("recipient", String(42), nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", String(66), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("retry_at", Float, nullable=True),
    Column("observed_at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True),
    Column("delivery_tx", String(66), nullable=True),
    Column("delivery_block", BigInteger, nullable=True),
    Column("updated_at", Float, nullable=False),
    Index("ix_bridge_transfers_status", "status", "source_chain_id"),
)

bridge_attestations = Table(
    "bridge_attestations",
    BRIDGE_METADATA,
    Column("source_chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("transfer_id", String(66), primary_key=True),
    Column("validator", String(42), primary_key=True),
    Column("digest", String(66), nullable=False),
    Column("signature", String(132), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

bridge_deliveries = Table(
    "bridge_deliveries",
    BRIDGE_METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_chain_id", BigInteger, nullable=False),
    Column("transfer_id", String(66), nullable=False),
    Column("dest_chain_id", BigInteger, nullable=False),
    Column("submitter", String(42), nullable=False),
    Column("nonce", BigInteger, nullable=False),
    Column("tx_hash", String(66), nullable=False, unique=True),
    Column("raw_tx", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_bridge_deliveries_status", "status", "submitter"),
)

bridge_held = Table(
    "bridge_held",
    BRIDGE_METADATA,
    Column("worker", String(64), primary_key=True),
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("tx_hash", String(66), primary_key=True),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("block_number", BigInteger, nullable=False),
    Column("transfer_id", String(66), nullable=True),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("stuck", Integer, nullable=False),
    Column("retry_at", Float, nullable=False),
    Column("first_seen", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
"""Departures a validator could neither sign nor reject yet (custody undecidable on this node), with
when it looks again (``core.hold_schedule``) and whether they count as stuck. Not observations: a
held event is decided when looked at again. Created by ``create_all`` also in older databases."""

bridge_workers = Table(
    "bridge_workers",
    BRIDGE_METADATA,
    Column("worker", String(64), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("failures", Integer, nullable=False),
    Column("since", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
"""Each relayer process's last word: ``ok`` or ``error`` (with the error, since when, how many
failed steps in a row), so a step that keeps failing shows in ``relayer status``, not only in logs."""

bridge_leases = Table(
    "bridge_leases",
    BRIDGE_METADATA,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("acquired_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)
"""One worker per job: the submitter of a destination chain holds ``submitter:<chain_id>`` while it
runs, renewed at every step. Created by ``create_all`` also in older databases."""


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    """``host:pid:tag`` of the process that holds it."""
    acquired_at: float
    expires_at: float


HoldSchedule = Callable[[int], tuple[float, bool]]
"""attempts -> (seconds until the next look, stuck?) (``core.hold_schedule`` with the settings)."""

MAX_RETRY_WAIT_S = 3600.0
_LIVE = sorted(s.value for s in LIVE_DELIVERIES)
_RETRIED = sorted(s.value for s in RETRIED_STATUSES)
_DELIVERY_ONLY = RetryPolicy(retry_after_s=0.0, max_attempts=1, max_wait_s=0.0)
"""``transfer_step`` of a delivery reads no retry policy."""


def tid(value: int) -> str:
    return f"0x{value:064x}"


def tid_int(value: str) -> int:
    return int(value, 16)


def _is_transfer(source_chain_id: int, transfer_id: int) -> ColumnElement[bool]:
    """The row of one transfer: its source chain and transfer id."""
    return and_(bridge_transfers.c.source_chain_id == source_chain_id,
                bridge_transfers.c.transfer_id == tid(transfer_id))


def _step(conn: Connection, source_chain_id: int, transfer_id: int, outcome: TransferOutcome,
          policy: RetryPolicy, now: float, **values: Any) -> TransferStatus | None:
    """Apply ``core.transfer_step`` to the stored transfer and write what it says (with ``values``),
    guarded by the status it was decided from; returns the new status (None: no such transfer)."""
    row = conn.execute(
        select(bridge_transfers.c.status, bridge_transfers.c.attempts, bridge_transfers.c.retry_at)
        .where(_is_transfer(source_chain_id, transfer_id))
    ).first()
    if row is None:
        return None
    current = TransferState(TransferStatus(row.status), int(row.attempts),
                            float(row.retry_at) if row.retry_at is not None else None)
    step = transfer_step(current, outcome, policy, now)
    if step is None:
        return current.status
    conn.execute(
        update(bridge_transfers)
        .where(and_(_is_transfer(source_chain_id, transfer_id),
                    bridge_transfers.c.status == current.status.value))
        .values(status=step.status.value, attempts=step.attempts, retry_at=step.retry_at, updated_at=now,
                **values)
    )
    return step.status


def _set_delivered(conn: Connection, source_chain_id: int, transfer_id: int, *, tx_hash: str | None,
                   block: int | None, reason: str | None, now: float) -> None:
    """Mark a transfer delivered (once: a delivered row is left as it is)."""
    _step(conn, source_chain_id, transfer_id, TransferOutcome.DELIVERED, _DELIVERY_ONLY, now, reason=reason,
          delivered_at=now, delivery_tx=tx_hash, delivery_block=block)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE`` writes."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@dataclass(frozen=True)
class TransferRow:
    source_chain_id: int
    transfer_id: int
    dest_chain_id: int
    collection: str
    token_id: int
    sender: str
    recipient: str
    tx_hash: str
    block_number: int
    block_hash: str
    status: TransferStatus
    reason: str | None
    attempts: int
    observed_at: float
    delivered_at: float | None
    delivery_tx: str | None

    @property
    def route(self) -> str:
        return f"{self.source_chain_id}->{self.dest_chain_id}"


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    source_chain_id: int
    transfer_id: int
    dest_chain_id: int
    submitter: str
    nonce: int
    tx_hash: str
    raw_tx: bytes
    status: DeliveryStatus


@dataclass(frozen=True)
class HeldRow:
    worker: str
    chain_id: int
    key: EventKey
    block_number: int
    transfer_id: int | None
    reason: str
    attempts: int
    stuck: bool
    retry_at: float
    first_seen: float


def _held(row: Any) -> HeldRow:
    key = EventKey(int(row.chain_id), row.tx_hash, int(row.log_index))
    return HeldRow(row.worker, int(row.chain_id), key,
                   int(row.block_number), tid_int(row.transfer_id) if row.transfer_id else None, row.reason,
                   int(row.attempts), bool(row.stuck), float(row.retry_at), float(row.first_seen))


def _is_held(worker: str, chain_id: int, key: EventKey) -> ColumnElement[bool]:
    return and_(bridge_held.c.worker == worker, bridge_held.c.chain_id == chain_id,
                bridge_held.c.tx_hash == key.tx_hash, bridge_held.c.log_index == key.log_index)


def _default_schedule(attempts: int) -> tuple[float, bool]:
    return hold_schedule(attempts, base_s=5.0, max_wait_s=MAX_RETRY_WAIT_S, stuck_after=5)


def _transfer(row: Any) -> TransferRow:
    return TransferRow(
        source_chain_id=int(row.source_chain_id),
        transfer_id=tid_int(row.transfer_id),
        dest_chain_id=int(row.dest_chain_id),
        collection=row.collection,
        token_id=int(row.token_id),
        sender=row.sender,
        recipient=row.recipient,
        tx_hash=row.tx_hash,
        block_number=int(row.block_number),
        block_hash=row.block_hash,
        status=TransferStatus(row.status),
        reason=row.reason,
        attempts=int(row.attempts),
        observed_at=float(row.observed_at),
        delivered_at=float(row.delivered_at) if row.delivered_at is not None else None,
        delivery_tx=row.delivery_tx,
    )


class BridgeStore:
    """Reads and writes of the relayer's tables for one database engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> BridgeStore:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        store = cls(make_engine(url))
        store.create_tables()
        return store

    def create_tables(self) -> None:
        """Create the tables when missing (the relayer's own database; see the module docstring)."""
        with self.engine.begin() as conn:
            BRIDGE_METADATA.create_all(conn, checkfirst=True)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # -- validators -------------------------------------------------------------------------

    def checkpoint(self, worker: str, chain_id: int) -> int | None:
        with self.transaction() as conn:
            row = conn.execute(
                select(bridge_checkpoints.c.next_block).where(
                    and_(bridge_checkpoints.c.worker == worker, bridge_checkpoints.c.chain_id == chain_id)
                )
            ).first()
        return int(row[0]) if row else None

    def handled_keys(self, worker: str, chain_id: int, since_block: int) -> frozenset[EventKey]:
        with self.transaction() as conn:
            rows = conn.execute(
                select(bridge_observations.c.tx_hash, bridge_observations.c.log_index).where(
                    and_(
                        bridge_observations.c.worker == worker,
                        bridge_observations.c.chain_id == chain_id,
                        bridge_observations.c.block_number >= since_block,
                    )
                )
            )
            return frozenset(EventKey(chain_id, r[0], int(r[1])) for r in rows)

    def delivered_ids(self, source_chain_id: int, transfer_ids: Iterable[int]) -> frozenset[int]:
        ids = [tid(t) for t in transfer_ids]
        if not ids:
            return frozenset()
        with self.transaction() as conn:
            rows = conn.execute(
                select(bridge_transfers.c.transfer_id).where(
                    and_(
                        bridge_transfers.c.source_chain_id == source_chain_id,
                        bridge_transfers.c.transfer_id.in_(ids),
                        bridge_transfers.c.status == TransferStatus.DELIVERED.value,
                    )
                )
            )
            return frozenset(tid_int(r[0]) for r in rows)

    def record_scan(
        self,
        worker: str,
        chain_id: int,
        actions: Sequence[Action],
        signatures: dict[EventKey, tuple[str, bytes]],
        next_block: int,
        hold_schedule: HoldSchedule | None = None,
    ) -> None:
        """Store one scanned range in one transaction: observations (de-duplicated), the transfers
        and attestations of attested events, held events (``Hold``: their next look per
        ``hold_schedule``; a decided event leaves the held list) and the worker's checkpoint."""
        now = time.time()
        with self.transaction() as conn:
            for action in actions:
                ev = action.event
                m = ev.message
                if isinstance(action, Hold):
                    self._hold(conn, worker, chain_id, action, hold_schedule or _default_schedule, now)
                    continue
                conn.execute(delete(bridge_held).where(_is_held(worker, chain_id, ev.key)))
                exists = conn.execute(
                    select(bridge_observations.c.id).where(
                        and_(
                            bridge_observations.c.worker == worker,
                            bridge_observations.c.chain_id == chain_id,
                            bridge_observations.c.tx_hash == ev.key.tx_hash,
                            bridge_observations.c.log_index == ev.key.log_index,
                        )
                    )
                ).first()
                if exists is not None:
                    continue
                outcome = (
                    ObservationOutcome.ATTESTED if isinstance(action, Attest)
                    else ObservationOutcome.REJECTED if isinstance(action, Reject)
                    else ObservationOutcome.SKIPPED
                )
                reason = action.reason if isinstance(action, (Reject, Skip)) else None
                conn.execute(
                    insert(bridge_observations).values(
                        worker=worker,
                        chain_id=chain_id,
                        tx_hash=ev.key.tx_hash,
                        log_index=ev.key.log_index,
                        block_number=ev.block_number,
                        block_hash=ev.block_hash,
                        transfer_id=tid(m.transfer_id) if m is not None else None,
                        outcome=outcome.value,
                        reason=reason,
                        created_at=now,
                    )
                )
                if isinstance(action, Attest):
                    validator, signature = signatures[ev.key]
                    self._add_transfer(conn, action.message, ev.key, ev.block_number, ev.block_hash, now)
                    self._add_attestation(conn, action.message, validator, signature, now)
            self._set_checkpoint(conn, worker, chain_id, next_block, now)

    def _hold(self, conn: Connection, worker: str, chain_id: int, action: Hold, schedule: HoldSchedule,
              now: float) -> None:
        ev = action.event
        row = conn.execute(select(bridge_held.c.attempts).where(_is_held(worker, chain_id, ev.key))).first()
        attempts = (int(row[0]) if row else 0) + 1
        wait, stuck = schedule(attempts)
        values = dict(reason=action.reason, attempts=attempts, stuck=int(stuck), retry_at=now + wait,
                      updated_at=now)
        if row is not None:
            conn.execute(update(bridge_held).where(_is_held(worker, chain_id, ev.key)).values(**values))
            return
        m = ev.message
        conn.execute(insert(bridge_held).values(
            worker=worker, chain_id=chain_id, tx_hash=ev.key.tx_hash, log_index=ev.key.log_index,
            block_number=ev.block_number, transfer_id=tid(m.transfer_id) if m is not None else None,
            first_seen=now, **values))

    def due_held(self, worker: str, chain_id: int, *, now: float | None = None) -> list[HeldRow]:
        """This worker's held departures on ``chain_id`` whose next look is due."""
        now = time.time() if now is None else now
        with self.transaction() as conn:
            rows = conn.execute(
                select(bridge_held)
                .where(and_(bridge_held.c.worker == worker, bridge_held.c.chain_id == chain_id,
                            bridge_held.c.retry_at <= now))
                .order_by(bridge_held.c.block_number, bridge_held.c.log_index)
            )
            return [_held(r) for r in rows]

    def held(self, limit: int = 1000) -> list[HeldRow]:
        with self.transaction() as conn:
            rows = conn.execute(select(bridge_held).order_by(bridge_held.c.first_seen).limit(limit))
            return [_held(r) for r in rows]

    def drop_held(self, worker: str, chain_id: int, key: EventKey) -> None:
        with self.transaction() as conn:
            conn.execute(delete(bridge_held).where(_is_held(worker, chain_id, key)))

    # -- processes ------------------------------------------------------------------------------

    def note_worker(self, worker: str, error: str | None, *, now: float | None = None) -> None:
        """Record a process's step outcome: ``error`` None for a good step (written only on change)."""
        now = time.time() if now is None else now
        state = WorkerState.OK if error is None else WorkerState.ERROR
        with self.transaction() as conn:
            row = conn.execute(select(bridge_workers.c.state, bridge_workers.c.failures)
                               .where(bridge_workers.c.worker == worker)).first()
            if row is None:
                conn.execute(insert(bridge_workers).values(worker=worker, state=state.value, error=error,
                                                           failures=0 if error is None else 1, since=now,
                                                           updated_at=now))
                return
            if error is None and row.state == WorkerState.OK:
                return
            failing = row.state == WorkerState.ERROR
            failures = 0 if error is None else (int(row.failures) + 1 if failing else 1)
            values: dict[str, Any] = dict(state=state.value, error=error, failures=failures, updated_at=now)
            if row.state != state:
                values["since"] = now
            conn.execute(update(bridge_workers).where(bridge_workers.c.worker == worker).values(**values))

    # -- leases: one submitter per destination chain ------------------------------------------

    def take_lease(self, name: str, holder: str, now: float, ttl_s: float,
                   gone: Callable[[str], bool] = lambda _holder: False) -> Lease:
        """Take or renew the lease ``name`` for ``holder`` until ``now + ttl_s``, in one transaction;
        the lease as it now stands (someone else's when theirs has neither expired nor its process
        ended, ``gone(holder)``: the caller must not do the lease's work)."""
        with self.transaction() as conn:
            took = conn.execute(update(bridge_leases).where(and_(
                bridge_leases.c.name == name,
                (bridge_leases.c.holder == holder) | (bridge_leases.c.expires_at < now)))
                .values(holder=holder, expires_at=now + ttl_s,
                        acquired_at=case((bridge_leases.c.holder == holder, bridge_leases.c.acquired_at),
                                         else_=now))).rowcount
            row = conn.execute(select(bridge_leases).where(bridge_leases.c.name == name)).first()
            if row is None:
                conn.execute(insert(bridge_leases).values(name=name, holder=holder, acquired_at=now,
                                                          expires_at=now + ttl_s))
                return Lease(name, holder, now, now + ttl_s)
            if not took and gone(row.holder):  # its process died without giving it back
                conn.execute(update(bridge_leases).where(and_(
                    bridge_leases.c.name == name, bridge_leases.c.holder == row.holder))
                    .values(holder=holder, acquired_at=now, expires_at=now + ttl_s))
                return Lease(name, holder, now, now + ttl_s)
            return Lease(row.name, row.holder, float(row.acquired_at), float(row.expires_at))

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease back (a clean stop: the next holder need not wait for it to expire)."""
        with self.transaction() as conn:
            conn.execute(delete(bridge_leases).where(and_(bridge_leases.c.name == name,
                                                          bridge_leases.c.holder == holder)))

    def workers(self) -> list[dict[str, Any]]:
        with self.transaction() as conn:
            rows = conn.execute(select(bridge_workers).order_by(bridge_workers.c.worker))
            return [dict(r._mapping) for r in rows]

    def _add_transfer(
        self, conn: Connection, m: BridgeMessage, key: EventKey, block: int, block_hash: str, now: float
    ) -> None:
        exists = conn.execute(
            select(bridge_transfers.c.status).where(
                _is_transfer(m.source_chain_id, m.transfer_id)
            )
        ).first()
        if exists is not None:
            return
        conn.execute(
            insert(bridge_transfers).values(
                source_chain_id=m.source_chain_id,
                transfer_id=tid(m.transfer_id),
                dest_chain_id=m.dest_chain_id,
                source_bridge=m.source_bridge,
                dest_bridge=m.dest_bridge,
                collection=m.collection,
                token_id=str(m.token_id),
                sender=m.sender,
                recipient=m.recipient,
                tx_hash=key.tx_hash,
                log_index=key.log_index,
                block_number=block,
                block_hash=block_hash,
                status=TransferStatus.PENDING.value,
                reason=None,
                attempts=0,
                retry_at=None,
                observed_at=now,
                updated_at=now,
            )
        )

    def _add_attestation(
        self, conn: Connection, m: BridgeMessage, validator: str, signature: bytes, now: float
    ) -> None:
        exists = conn.execute(
            select(bridge_attestations.c.digest).where(
                and_(
                    bridge_attestations.c.source_chain_id == m.source_chain_id,
                    bridge_attestations.c.transfer_id == tid(m.transfer_id),
                    bridge_attestations.c.validator == validator,
                )
            )
        ).first()
        if exists is not None:
            return
        conn.execute(
            insert(bridge_attestations).values(
                source_chain_id=m.source_chain_id,
                transfer_id=tid(m.transfer_id),
                validator=validator,
                digest="0x" + m.digest().hex(),
                signature="0x" + signature.hex(),
                message=m.to_json(),
                created_at=now,
            )
        )

    def _set_checkpoint(
        self, conn: Connection, worker: str, chain_id: int, next_block: int, now: float
    ) -> None:
        done = conn.execute(
            update(bridge_checkpoints)
            .where(
                and_(
                    bridge_checkpoints.c.worker == worker,
                    bridge_checkpoints.c.chain_id == chain_id,
                    bridge_checkpoints.c.next_block <= next_block,
                )
            )
            .values(next_block=next_block, updated_at=now)
        )
        if done.rowcount == 0:
            exists = conn.execute(
                select(bridge_checkpoints.c.next_block).where(
                    and_(bridge_checkpoints.c.worker == worker, bridge_checkpoints.c.chain_id == chain_id)
                )
            ).first()
            if exists is None:
                conn.execute(
                    insert(bridge_checkpoints).values(
                        worker=worker, chain_id=chain_id, next_block=next_block, updated_at=now
                    )
                )

    # -- submitter ----------------------------------------------------------------------------

    def pending_transfers(
        self, source_chain_id: int, *, now: float | None = None, limit: int = 500
    ) -> list[TransferRow]:
        """Pending (and failed) transfers of a route that are due (no retry wait), oldest first."""
        now = time.time() if now is None else now
        with self.transaction() as conn:
            rows = conn.execute(
                select(bridge_transfers)
                .where(
                    and_(
                        bridge_transfers.c.source_chain_id == source_chain_id,
                        bridge_transfers.c.status.in_(_RETRIED),
                        (bridge_transfers.c.retry_at.is_(None)) | (bridge_transfers.c.retry_at <= now),
                    )
                )
                .order_by(bridge_transfers.c.observed_at)
                .limit(limit)
            )
            return [_transfer(r) for r in rows]

    def attestations(self, source_chain_id: int, transfer_ids: Iterable[int]) -> dict[int, list[Attestation]]:
        ids = [tid(t) for t in transfer_ids]
        out: dict[int, list[Attestation]] = {}
        if not ids:
            return out
        with self.transaction() as conn:
            rows = conn.execute(
                select(bridge_attestations).where(
                    and_(
                        bridge_attestations.c.source_chain_id == source_chain_id,
                        bridge_attestations.c.transfer_id.in_(ids),
                    )
                )
            )
            for r in rows:
                out.setdefault(tid_int(r.transfer_id), []).append(
                    Attestation(
                        validator=r.validator,
                        message=BridgeMessage.from_json(r.message),
                        signature=bytes.fromhex(r.signature[2:]),
                    )
                )
        return out

    def live_deliveries(self, submitter: str) -> list[DeliveryRow]:
        with self.transaction() as conn:
            rows = conn.execute(
                select(bridge_deliveries)
                .where(and_(bridge_deliveries.c.submitter == submitter,
                            bridge_deliveries.c.status.in_(_LIVE)))
                .order_by(bridge_deliveries.c.nonce)
            )
            return [
                DeliveryRow(
                    int(r.id),
                    int(r.source_chain_id),
                    tid_int(r.transfer_id),
                    int(r.dest_chain_id),
                    r.submitter,
                    int(r.nonce),
                    r.tx_hash,
                    bytes.fromhex(r.raw_tx[2:]),
                    DeliveryStatus(r.status),
                )
                for r in rows
            ]

    def record_signed(
        self,
        source_chain_id: int,
        transfer_id: int,
        dest_chain_id: int,
        submitter: str,
        nonce: int,
        tx_hash: str,
        raw_tx: bytes,
    ) -> int:
        """Persist a signed delivery before it is sent (so a restart can re-send the same bytes)."""
        now = time.time()
        with self.transaction() as conn:
            result = conn.execute(
                insert(bridge_deliveries).values(
                    source_chain_id=source_chain_id,
                    transfer_id=tid(transfer_id),
                    dest_chain_id=dest_chain_id,
                    submitter=submitter,
                    nonce=nonce,
                    tx_hash=tx_hash,
                    raw_tx="0x" + raw_tx.hex(),
                    status=DeliveryStatus.SIGNED.value,
                    reason=None,
                    created_at=now,
                    updated_at=now,
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def mark_delivery(self, delivery_id: int, status: DeliveryStatus | str,
                      reason: str | None = None) -> None:
        """Record a delivery operation's new status (a value of ``DeliveryStatus``, refused otherwise)."""
        with self.transaction() as conn:
            conn.execute(
                update(bridge_deliveries)
                .where(bridge_deliveries.c.id == delivery_id)
                .values(status=DeliveryStatus(status).value, reason=reason, updated_at=time.time())
            )

    def finish_delivery(
        self, delivery_id: int, source_chain_id: int, transfer_id: int, *, tx_hash: str, block: int
    ) -> None:
        """The delivery transaction was mined: the operation and its transfer, in one transaction."""
        now = time.time()
        with self.transaction() as conn:
            conn.execute(
                update(bridge_deliveries)
                .where(bridge_deliveries.c.id == delivery_id)
                .values(status=DeliveryStatus.MINED.value, reason=None, updated_at=now)
            )
            _set_delivered(conn, source_chain_id, transfer_id, tx_hash=tx_hash, block=block, reason=None,
                           now=now)

    def mark_delivered(
        self,
        source_chain_id: int,
        transfer_id: int,
        *,
        tx_hash: str | None,
        block: int | None,
        reason: str | None = None,
    ) -> None:
        now = time.time()
        with self.transaction() as conn:
            _set_delivered(conn, source_chain_id, transfer_id, tx_hash=tx_hash, block=block, reason=reason,
                           now=now)

    def mark_retry(
        self,
        source_chain_id: int,
        transfer_id: int,
        reason: str,
        *,
        outcome: TransferOutcome,
        policy: RetryPolicy,
        now: float | None = None,
    ) -> TransferStatus:
        """Record why a delivery did not land (``outcome``: refused, or deferred) and when to try
        again, as ``core.transfer_step`` decides; returns the transfer's status."""
        now = time.time() if now is None else now
        with self.transaction() as conn:
            status = _step(conn, source_chain_id, transfer_id, outcome, policy, now, reason=reason)
        return TransferStatus.PENDING if status is None else status

    def note_waiting(self, source_chain_id: int, transfer_id: int, reason: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                update(bridge_transfers)
                .where(
                    and_(
                        _is_transfer(source_chain_id, transfer_id),
                        bridge_transfers.c.status == TransferStatus.PENDING.value,
                        (bridge_transfers.c.reason.is_(None)) | (bridge_transfers.c.reason != reason),
                    )
                )
                .values(reason=reason, updated_at=time.time())
            )

    # -- status ---------------------------------------------------------------------------------

    def transfers(self, statuses: Sequence[TransferStatus | str] | None = None,
                  limit: int = 1000) -> list[TransferRow]:
        query = select(bridge_transfers).order_by(bridge_transfers.c.observed_at).limit(limit)
        if statuses:
            query = query.where(bridge_transfers.c.status.in_([TransferStatus(s).value for s in statuses]))
        with self.transaction() as conn:
            return [_transfer(r) for r in conn.execute(query)]

    def transfer(self, transfer_id: int) -> TransferRow | None:
        """One transfer by id (an id names its source chain and bridge, so it is unique)."""
        with self.transaction() as conn:
            row = conn.execute(select(bridge_transfers)
                               .where(bridge_transfers.c.transfer_id == tid(transfer_id)).limit(1)).first()
            return _transfer(row) if row is not None else None

    def transfers_of(self, address: str, limit: int = 100) -> list[TransferRow]:
        """The transfers ``address`` sent or receives, newest first."""
        query = (select(bridge_transfers)
                 .where((func.lower(bridge_transfers.c.sender) == address.lower())
                        | (func.lower(bridge_transfers.c.recipient) == address.lower()))
                 .order_by(bridge_transfers.c.observed_at.desc()).limit(limit))
        with self.transaction() as conn:
            return [_transfer(r) for r in conn.execute(query)]

    def counts(self) -> dict[tuple[int, int, TransferStatus], int]:
        """Transfers per (source chain, dest chain, status)."""
        with self.transaction() as conn:
            rows = conn.execute(
                select(
                    bridge_transfers.c.source_chain_id,
                    bridge_transfers.c.dest_chain_id,
                    bridge_transfers.c.status,
                    func.count(),
                ).group_by(
                    bridge_transfers.c.source_chain_id,
                    bridge_transfers.c.dest_chain_id,
                    bridge_transfers.c.status,
                )
            )
            return {(int(a), int(b), TransferStatus(c)): int(n) for a, b, c, n in rows}

    def rejections(self, limit: int = 50) -> list[dict[str, Any]]:
        with self.transaction() as conn:
            rows = conn.execute(
                select(bridge_observations)
                .where(bridge_observations.c.outcome == ObservationOutcome.REJECTED.value)
                .order_by(bridge_observations.c.created_at.desc())
                .limit(limit)
            )
            return [dict(r._mapping) for r in rows]

    def checkpoints(self) -> list[dict[str, Any]]:
        with self.transaction() as conn:
            return [
                dict(r._mapping)
                for r in conn.execute(select(bridge_checkpoints).order_by(bridge_checkpoints.c.worker))
            ]

    def delivery_counts(self) -> dict[DeliveryStatus, int]:
        with self.transaction() as conn:
            rows = conn.execute(
                select(bridge_deliveries.c.status, func.count()).group_by(bridge_deliveries.c.status)
            )
            return {DeliveryStatus(s): int(n) for s, n in rows}
