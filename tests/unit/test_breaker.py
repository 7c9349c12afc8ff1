"""Table tests of the circuit breaker's decision function."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.breaker import BreakerPolicy, BreakerState, Trade, after_fill, decide, reference_price

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
POLICY = BreakerPolicy(reference_fills=3, band_bps=1_000, move_bps=2_000, max_rejections=3,
                       rejection_window=timedelta(minutes=5), cooldown=timedelta(minutes=15),
                       move_window=timedelta(minutes=10))


def trades(*prices: int) -> tuple[Trade, ...]:
    return tuple(Trade(T0 - timedelta(minutes=len(prices) - i), p) for i, p in enumerate(prices))


@pytest.mark.parametrize(("state", "price", "action", "low", "high"), [
    (BreakerState(), 123, "accept", None, None),                                # no reference at all
    (BreakerState(trades(100, 100, 100)), 110, "accept", 90, 110),             # band edge inclusive
    (BreakerState(trades(100, 100, 100)), 90, "accept", 90, 110),
    (BreakerState(trades(100, 100, 100)), 111, "reject", 90, 110),
    (BreakerState(trades(100, 100, 100)), 89, "reject", 90, 110),
    (BreakerState(trades(1, 1000, 100, 100, 100)), 105, "accept", 90, 110),     # only the last N count
    (BreakerState(trades(100, 200, 300)), 200, "accept", 180, 220),             # median of last N
    (BreakerState(), 0, "reject", None, None),                                  # non-positive
])
def test_band(state, price, action, low, high):
    d = decide(state, price, POLICY, T0)
    assert (d.action, d.low, d.high) == (action, low, high)


def test_operator_reference_applies_until_the_first_fill():
    policy = BreakerPolicy(operator_reference=1_000, band_bps=500)
    assert decide(BreakerState(), 1_060, policy, T0).action == "reject"
    assert decide(BreakerState(), 1_040, policy, T0).action == "accept"
    assert reference_price(trades(2_000), policy) == 2_000


def test_kth_rejection_within_the_window_halts():
    state = BreakerState(trades(100, 100, 100), rejections=(T0 - timedelta(minutes=1), T0 - timedelta(minutes=2)))
    d = decide(state, 500, POLICY, T0)
    assert d.action == "halt" and d.halt_until == T0 + timedelta(minutes=15)
    assert "3 orders outside the band" in d.reason


def test_old_rejections_do_not_count():
    state = BreakerState(trades(100, 100, 100), rejections=(T0 - timedelta(minutes=6), T0 - timedelta(minutes=7)))
    assert decide(state, 500, POLICY, T0).action == "reject"


def test_halt_refuses_even_in_band_orders_until_the_cooldown_ends():
    state = BreakerState(trades(100, 100, 100), halted_until=T0 + timedelta(minutes=1))
    assert decide(state, 100, POLICY, T0).action == "reject"
    assert decide(state, 100, POLICY, T0 + timedelta(minutes=1)).action == "accept"


@pytest.mark.parametrize(("history", "fill", "action"), [
    ((100, 100, 100), 119, "accept"),
    ((100, 100, 100), 121, "halt"),     # > 20% up
    ((100, 100, 100), 79, "halt"),      # > 20% down
    ((), 1_000_000, "accept"),          # nothing to compare with
])
def test_fill_that_moves_the_price_halts(history, fill, action):
    d = after_fill(BreakerState(trades(*history)), Trade(T0, fill), POLICY)
    assert d.action == action
    if action == "halt":
        assert d.halt_until == T0 + timedelta(minutes=15)


def test_policy_validation():
    with pytest.raises(ValueError):
        BreakerPolicy(band_bps=0)
    with pytest.raises(ValueError):
        BreakerPolicy(reference_fills=0)
