"""The relayer's retry policy and transfer statuses are one pure function (``core.transfer_step``).

A table of (state, outcome) -> (status, attempts, next attempt), no database, no chain. The store
only writes what it says (test_bridge_store.py), so these rules hold whatever database runs them."""

from __future__ import annotations

import pytest

from bridge.core import (
    RETRIED_STATUSES,
    DeliveryStatus,
    ObservationOutcome,
    RetryPolicy,
    TransferOutcome,
    TransferState,
    TransferStatus,
    WorkerState,
    transfer_step,
)

pytestmark = pytest.mark.unit

NOW = 1_000.0
POLICY = RetryPolicy(retry_after_s=10.0, max_attempts=3, max_wait_s=3600.0)
P, F, D = TransferStatus.PENDING, TransferStatus.FAILED, TransferStatus.DELIVERED
OK, NO, LATER = TransferOutcome.DELIVERED, TransferOutcome.REFUSED, TransferOutcome.DEFERRED

# (status, attempts, outcome) -> (status, attempts, seconds until the next attempt | None) | None (unchanged)
CASES = [
    # delivered: final, whatever it was before, and never changed again
    ((P, 0, OK), (D, 0, None)),
    ((P, 2, OK), (D, 2, None)),
    ((F, 7, OK), (D, 7, None)),
    ((D, 1, OK), None),
    ((D, 1, NO), None),
    ((D, 1, LATER), None),
    # a refused delivery counts: the wait doubles from retry_after_s per counted attempt ...
    ((P, 0, NO), (P, 1, 20.0)),
    ((P, 1, NO), (P, 2, 40.0)),
    # ... and from max_attempts on the transfer shows as failed, still tried again
    ((P, 2, NO), (F, 3, 80.0)),
    ((F, 3, NO), (F, 4, 160.0)),
    # the wait never exceeds max_wait_s, however many attempts (no overflow either)
    ((F, 9, NO), (F, 10, 3600.0)),
    ((F, 10_000, NO), (F, 10_001, 3600.0)),
    # paused or rate-limited: retried after the plain delay, no attempt counted
    ((P, 0, LATER), (P, 0, 10.0)),
    ((P, 2, LATER), (P, 2, 10.0)),
    ((F, 5, LATER), (F, 5, 10.0)),
]


@pytest.mark.parametrize(("before", "after"), CASES, ids=[f"{s}-{a}-{o}" for (s, a, o), _ in CASES])
def test_transfer_step_table(before, after):
    status, attempts, outcome = before
    got = transfer_step(TransferState(status, attempts, NOW - 5), outcome, POLICY, NOW)
    if after is None:
        assert got is None
        return
    want_status, want_attempts, wait = after
    assert got == TransferState(want_status, want_attempts, None if wait is None else NOW + wait)


def test_a_failed_transfer_is_never_given_up():
    """Whatever happens, a transfer that is not delivered always has a next attempt."""
    state = TransferState(P)
    for i in range(200):
        nxt = transfer_step(state, NO if i % 3 else LATER, POLICY, NOW)
        assert nxt is not None and nxt.status in RETRIED_STATUSES and nxt.retry_at is not None
        assert NOW < nxt.retry_at <= NOW + POLICY.max_wait_s
        state = nxt
    assert state.status is F


def test_one_attempt_policy_fails_at_the_first_refusal_but_not_at_a_deferral():
    one = RetryPolicy(retry_after_s=2.0, max_attempts=1)
    assert transfer_step(TransferState(P), NO, one, NOW) == TransferState(F, 1, NOW + 4.0)
    assert transfer_step(TransferState(P), LATER, one, NOW) == TransferState(P, 0, NOW + 2.0)


def test_the_stored_values_are_the_ones_the_tables_always_held():
    assert [s.value for s in TransferStatus] == ["pending", "failed", "delivered"]
    assert [s.value for s in DeliveryStatus] == ["signed", "sent", "mined", "reverted", "dropped"]
    assert [s.value for s in ObservationOutcome] == ["attested", "rejected", "skipped"]
    assert [s.value for s in WorkerState] == ["ok", "error"]
