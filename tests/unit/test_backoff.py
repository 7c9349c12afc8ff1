"""One exponential backoff (chain.backoff) for the supervisor's restarts and the relayer's held
departures: the same table, no overflow however many attempts, the cap always reached."""

from __future__ import annotations

import pytest

from bridge.core import hold_schedule
from chain.backoff import exponential_backoff
from chainright.supervise import Child, RestartAfter, RestartPolicy, decide

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("attempt", "base", "cap", "wait"), [
    (1, 1.0, 30.0, 1.0),
    (2, 1.0, 30.0, 2.0),
    (5, 1.0, 30.0, 16.0),
    (6, 1.0, 30.0, 30.0),  # 32 capped
    (0, 5.0, 60.0, 5.0),  # below 1 counts as the first attempt
    (-3, 5.0, 60.0, 5.0),
    (60, 1e-12, 60.0, 60.0),  # a tiny base still reaches the cap
    (2_000, 1.0, 30.0, 30.0),  # 2**1999 would overflow a float
    (10**9, 0.5, 7.0, 7.0),
])
def test_exponential_backoff_table(attempt: int, base: float, cap: float, wait: float) -> None:
    assert exponential_backoff(attempt, base_s=base, max_s=cap) == wait


@pytest.mark.parametrize("attempts", [1, 2, 3, 7, 12, 31, 40, 100, 5_000])
def test_supervisor_and_relayer_wait_the_same(attempts: int) -> None:
    base, cap = 0.25, 300.0
    policy = RestartPolicy(base_backoff_s=base, max_backoff_s=cap, max_restarts=10**6, window_s=1e12)
    decision = decide(Child("api", "api", running=False, exit_code=1), [1_000.0] * attempts, 1_000.0, policy)
    assert isinstance(decision, RestartAfter)
    wait, _stuck = hold_schedule(attempts, base_s=base, max_wait_s=cap, stuck_after=10)
    assert decision.delay_s == wait == exponential_backoff(attempts, base_s=base, max_s=cap)


def test_a_crash_loop_allowed_thousands_of_restarts_does_not_overflow() -> None:
    policy = RestartPolicy(base_backoff_s=1.0, max_backoff_s=30.0, max_restarts=10**6, window_s=1e12)
    decision = decide(Child("indexer", "indexer", running=False), [0.0] * 1_100, 0.0, policy)
    assert decision == RestartAfter(delay_s=30.0, attempt=1_100)


def test_a_held_departure_with_a_tiny_base_still_reaches_the_slowest_pace() -> None:
    wait, stuck = hold_schedule(100, base_s=1e-12, max_wait_s=3600.0, stuck_after=5)
    assert wait == 3600.0 and stuck
