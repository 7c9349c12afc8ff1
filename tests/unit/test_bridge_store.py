"""The relayer's tables on SQLite and PostgreSQL: a scan is stored once however often it is recorded,
checkpoints never move back, deliveries move pending -> delivered / failed, and several processes
write one SQLite file at the same time without losing a row."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bridge.core import Attest, EventKey, Reject, RetryPolicy, SourceEvent, TransferOutcome
from bridge.message import BridgeMessage, Rights, sign_digest, transfer_id
from bridge.settings import BridgeSettings
from bridge.store import (
    BRIDGE_METADATA,
    BridgeStore,
    bridge_attestations,
    bridge_observations,
    bridge_transfers,
    make_engine,
)
from chain.devaccounts import dev_account
from chain.settings import ChainSettings

pytestmark = pytest.mark.unit

DEFERRED, REFUSED = TransferOutcome.DEFERRED, TransferOutcome.REFUSED

LOCKBOX = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
BRIDGE = "0x0165878A594ca255338adfa4d48449f69242Eb8F"
ALICE = dev_account(2).address
RIGHTS = Rights("ipfs://b" + "a" * 58, bytes(36), b"\x01" * 32, ALICE, 500, b"\x00" * 32, b"\x02" * 32)
V0 = dev_account(10)


def message(nonce: int) -> BridgeMessage:
    return BridgeMessage(31337, 31338, LOCKBOX, BRIDGE, transfer_id(31337, LOCKBOX, nonce), ALICE, nonce, ALICE,
                         ALICE, RIGHTS)


def attest(nonce: int, block: int = 10) -> tuple[Attest, dict[EventKey, tuple[str, bytes]]]:
    m = message(nonce)
    ev = SourceEvent(EventKey(31337, f"0x{nonce:064x}", 1), block, f"0x{block:064x}", LOCKBOX, m, True)
    return Attest(ev, m), {ev.key: (V0.address, sign_digest(m.digest(), V0.key))}


def count(store: BridgeStore, table) -> int:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def store(database_url: str) -> Iterator[BridgeStore]:
    """The relayer's tables in a fresh state on each backend (dropped afterwards: the API's migrations
    may create them in the same database later)."""
    engine = make_engine(database_url)
    with engine.begin() as conn:
        BRIDGE_METADATA.drop_all(conn, checkfirst=True)
    s = BridgeStore(engine)
    s.create_tables()
    s.create_tables()  # idempotent
    yield s
    with engine.begin() as conn:
        BRIDGE_METADATA.drop_all(conn, checkfirst=True)
    engine.dispose()


def test_a_scan_recorded_twice_is_stored_once(store):
    action, sigs = attest(1)
    store.record_scan("validator-0", 31337, [action], sigs, 11)
    store.record_scan("validator-0", 31337, [action], sigs, 11)  # a re-scan after a restart
    assert count(store, bridge_observations) == count(store, bridge_transfers) == count(store,
                                                                                      bridge_attestations) == 1
    assert store.handled_keys("validator-0", 31337, 10) == {action.event.key}
    assert store.handled_keys("validator-0", 31337, 11) == frozenset()
    assert store.handled_keys("validator-1", 31337, 0) == frozenset()
    atts = store.attestations(31337, [action.message.transfer_id])[action.message.transfer_id]
    assert [(a.validator, a.message) for a in atts] == [(V0.address, action.message)]


def test_rejections_are_remembered_with_their_reason_and_never_become_transfers(store):
    action, _ = attest(1)
    store.record_scan("validator-0", 31337, [Reject(action.event, "custody not verified")], {}, 11)
    assert count(store, bridge_transfers) == 0
    (row,) = store.rejections()
    assert row["reason"] == "custody not verified" and row["worker"] == "validator-0"


def test_checkpoints_never_move_back(store):
    store.record_scan("validator-0", 31337, [], {}, 20)
    store.record_scan("validator-0", 31337, [], {}, 15)
    assert store.checkpoint("validator-0", 31337) == 20
    store.record_scan("validator-0", 31337, [], {}, 25)
    assert store.checkpoint("validator-0", 31337) == 25 and store.checkpoint("validator-0", 31338) is None


def test_a_delivery_is_signed_then_sent_then_the_transfer_delivered(store):
    action, sigs = attest(1)
    store.record_scan("validator-0", 31337, [action], sigs, 11)
    tid = action.message.transfer_id
    assert [t.transfer_id for t in store.pending_transfers(31337)] == [tid]
    op = store.record_signed(31337, tid, 31338, ALICE, 0, "0x" + "ab" * 32, b"\x02raw")
    (live,) = store.live_deliveries(ALICE)
    assert (live.id, live.raw_tx, live.status) == (op, b"\x02raw", "signed")
    store.mark_delivery(op, "mined")
    store.mark_delivered(31337, tid, tx_hash="0x" + "ab" * 32, block=12)
    assert store.live_deliveries(ALICE) == [] and store.pending_transfers(31337) == []
    assert store.delivered_ids(31337, [tid, tid + 1]) == {tid}
    (row,) = store.transfers(["delivered"])
    assert row.delivery_tx == "0x" + "ab" * 32 and row.delivered_at is not None


def test_reverted_deliveries_back_off_and_fail_but_are_never_given_up(store):
    action, sigs = attest(1)
    store.record_scan("validator-0", 31337, [action], sigs, 11)
    tid, now = action.message.transfer_id, time.time()
    # A pause or rate limit: retried after the plain delay, no attempt counted.
    assert store.mark_retry(31337, tid, "BridgePaused()", outcome=DEFERRED, policy=RetryPolicy(60, 2),
                            now=now) == "pending"
    assert store.pending_transfers(31337, now=now + 59) == []
    assert [t.transfer_id for t in store.pending_transfers(31337, now=now + 61)] == [tid]
    # Counted attempts double the wait ...
    assert store.mark_retry(31337, tid, "X()", outcome=REFUSED, policy=RetryPolicy(10, 2), now=now) == "pending"
    assert store.pending_transfers(31337, now=now + 19) == []
    assert store.mark_retry(31337, tid, "X()", outcome=REFUSED, policy=RetryPolicy(10, 2), now=now) == "failed"
    (row,) = store.transfers(["failed"])
    assert (row.reason, row.attempts) == ("X()", 2)
    assert store.counts() == {(31337, 31338, "failed"): 1}
    # ... and a failed transfer is still tried again (at most hourly), so it can still land.
    assert store.pending_transfers(31337, now=now + 39) == []
    assert [t.transfer_id for t in store.pending_transfers(31337, now=now + 41)] == [tid]
    for _ in range(30):
        store.mark_retry(31337, tid, "X()", outcome=REFUSED, policy=RetryPolicy(10, 2), now=now)
    assert store.pending_transfers(31337, now=now + 3599) == []
    assert store.pending_transfers(31337, now=now + 3601) != []
    store.mark_delivered(31337, tid, tx_hash="0x" + "cd" * 32, block=20)
    assert store.counts() == {(31337, 31338, "delivered"): 1}


def _writer(url: str, worker: int, scans: int) -> None:
    store = BridgeStore.open(url)
    for i in range(scans):
        nonce = worker * 1000 + i + 1
        action, sigs = attest(nonce, block=i)
        store.record_scan(f"validator-{worker}", 31337, [action], sigs, i + 1)


def test_several_processes_write_one_sqlite_file_without_losing_rows(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'bridge.db'}"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(url, w, 40)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = BridgeStore.open(url)
    assert count(store, bridge_transfers) == 160 and count(store, bridge_observations) == 160
    with store.transaction() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"


def test_the_default_database_is_its_own_file_in_the_chain_data_dir(tmp_path: Path):
    chain = ChainSettings(environment="test", data_dir=tmp_path)
    assert BridgeSettings(environment="test").effective_database_url(chain) == f"sqlite:///{tmp_path}/bridge.db"


def test_a_held_departure_is_looked_at_on_schedule_turns_stuck_and_leaves_when_decided(store):
    from bridge.core import Hold

    action, signatures = attest(7)
    ev = action.event
    held = Hold(SourceEvent(ev.key, ev.block_number, ev.block_hash, ev.emitter, ev.message, None), "state gone")
    schedule = lambda n: (10.0 * n, n >= 2)  # noqa: E731
    store.record_scan("validator-0", 31337, [held], {}, 11, hold_schedule=schedule)
    assert store.due_held("validator-0", 31337) == []  # not due for 10 s
    (row,) = store.due_held("validator-0", 31337, now=time.time() + 11)
    assert (row.attempts, row.stuck, row.reason, row.transfer_id) == (1, False, "state gone", message(7).transfer_id)
    assert store.handled_keys("validator-0", 31337, 0) == frozenset()  # held is not handled
    store.record_scan("validator-0", 31337, [held], {}, 11, hold_schedule=schedule)
    (row,) = store.held()
    assert (row.attempts, row.stuck) == (2, True)
    store.record_scan("validator-0", 31337, [action], signatures, 11, hold_schedule=schedule)
    assert store.held() == [] and count(store, bridge_transfers) == 1


def test_a_failing_process_shows_with_its_error_until_a_step_succeeds(store):
    store.note_worker("validator-0", "ownerOf failed", now=100.0)
    store.note_worker("validator-0", "ownerOf failed", now=105.0)
    (w,) = store.workers()
    assert (w["state"], w["failures"], w["since"], w["error"]) == ("error", 2, 100.0, "ownerOf failed")
    store.note_worker("validator-0", None, now=110.0)
    (w,) = store.workers()
    assert (w["state"], w["failures"], w["error"]) == ("ok", 0, None)
