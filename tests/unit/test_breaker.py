"""Table tests of the circuit breaker's decision function."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.breaker import BreakerPolicy, BreakerState, Refusal, Trade, after_fill, decide, reference_price

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
POLICY = BreakerPolicy(reference_fills=3, band_bps=1_000, move_bps=2_000, max_rejections=3,
                       rejection_window=timedelta(minutes=5), cooldown=timedelta(minutes=15),
                       move_window=timedelta(minutes=10))
A, B, C, D = ("0x" + c * 40 for c in "abcd")
MALLORY, MALLORY2 = "0x" + "e" * 40, "0x" + "f" * 40


def trades(*prices: int) -> tuple[Trade, ...]:
    """Fills between distinct wallets, a minute apart, the last a minute before T0."""
    return tuple(Trade(T0 - timedelta(minutes=len(prices) - i), p, buyer=f"0xb{i}", seller=f"0x5{i}")
                 for i, p in enumerate(prices))


def refused(*accounts: str, ago: int = 1) -> tuple[Refusal, ...]:
    return tuple(Refusal(T0 - timedelta(minutes=ago), a) for a in accounts)


def ask(state: BreakerState, price: int, policy: BreakerPolicy = POLICY, *, account: str = A,
        executable: bool = True, now: datetime = T0):
    return decide(state, price, policy, now, account=account, executable=executable)


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
    d = ask(state, price)
    assert (d.action, d.low, d.high) == (action, low, high)


def test_operator_reference_applies_until_the_first_fill():
    policy = BreakerPolicy(operator_reference=1_000, band_bps=500)
    assert ask(BreakerState(), 1_060, policy).action == "reject"
    assert ask(BreakerState(), 1_040, policy).action == "accept"
    assert reference_price(trades(2_000), policy) == 2_000


def test_self_fills_do_not_move_the_reference():
    wash = tuple(Trade(T0 - timedelta(seconds=i), 1, buyer=MALLORY, seller=MALLORY) for i in (3, 2, 1))
    assert reference_price(trades(100, 100, 100) + wash, POLICY) == 100
    assert reference_price(wash, BreakerPolicy(operator_reference=7)) == 7


HALTING = BreakerState(trades(100, 100, 100))
"""A reference of 100, band [90, 110]; K = 3 counting refusals from D = 3 accounts halt."""


@pytest.mark.parametrize(("earlier", "account", "executable", "action", "counts"), [
    # Several distinct accounts with executable outliers: the K-th halts.
    (refused(B, C), A, True, "halt", True),
    # One stranger, however many refusals: only its first counts, never a halt.
    (refused(MALLORY, MALLORY, MALLORY, MALLORY), MALLORY, True, "reject", False),
    (refused(MALLORY), MALLORY, True, "reject", False),
    (refused(), MALLORY, True, "reject", True),                  # its first refusal counts
    # Unfunded (or otherwise unexecutable) orders never count, whoever posts them.
    (refused(B, C), A, False, "reject", False),
    (refused(), MALLORY, False, "reject", False),
    # Two wallets of one attacker: K counting refusals are not enough without D accounts.
    (refused(MALLORY2, MALLORY2), MALLORY, True, "reject", True),
    # Refusals outside the window do not count.
    (refused(B, C, ago=6), A, True, "reject", True),
    # Addresses are compared case-insensitively.
    (refused(MALLORY.upper().replace("0X", "0x")), MALLORY, True, "reject", False),
])
def test_refusals_halt_only_when_executable_and_from_enough_distinct_accounts(
        earlier, account, executable, action, counts):
    d = ask(BreakerState(HALTING.trades, rejections=earlier), 500, account=account, executable=executable)
    assert (d.action, d.counts) == (action, counts), d.reason
    if action == "halt":
        assert d.halt_until == T0 + timedelta(minutes=15) and "3 orders outside the band from 3 accounts" in d.reason


def test_a_single_stranger_never_halts_whatever_the_order_stream():
    """The class of attack: one account posting outliers, funded or not, as fast as it likes."""
    history: list[Refusal] = []
    for i in range(200):
        now = T0 + timedelta(seconds=10 * i)
        d = ask(BreakerState(HALTING.trades, rejections=tuple(history)), 1 if i % 2 else 10**9,
                account=MALLORY, executable=bool(i % 3), now=now)
        assert d.action == "reject", (i, d.reason)
        if d.counts:
            history.append(Refusal(now, MALLORY))


def test_the_per_account_cap_and_the_distinct_accounts_are_policy():
    lax = BreakerPolicy(reference_fills=3, band_bps=1_000, max_rejections=3, min_distinct_accounts=1,
                        max_refusals_per_account=3)
    assert ask(BreakerState(HALTING.trades, rejections=refused(A, A)), 500, lax).action == "halt"
    two = BreakerPolicy(reference_fills=3, band_bps=1_000, max_rejections=3, min_distinct_accounts=2,
                        max_refusals_per_account=2)
    assert ask(BreakerState(HALTING.trades, rejections=refused(A, A)), 500, two).action == "reject"
    assert ask(BreakerState(HALTING.trades, rejections=refused(A, A)), 500, two, account=B).action == "halt"


def test_refusals_before_the_last_halt_or_lift_count_toward_no_new_halt():
    state = BreakerState(HALTING.trades, rejections=refused(B, C, ago=2), counted_since=T0 - timedelta(minutes=1))
    d = ask(state, 500)
    assert (d.action, d.counts) == ("reject", True)
    state = BreakerState(HALTING.trades, rejections=refused(B, C, ago=2), counted_since=T0 - timedelta(minutes=3))
    assert ask(state, 500).action == "halt"


def test_halt_refuses_even_in_band_orders_until_the_cooldown_ends_and_those_refusals_do_not_count():
    state = BreakerState(trades(100, 100, 100), halted_until=T0 + timedelta(minutes=1))
    d = ask(state, 100)
    assert (d.action, d.counts) == ("reject", False)
    assert ask(state, 100, now=T0 + timedelta(minutes=1)).action == "accept"


def fills(*spec: tuple[int, str, str], start: int = 4) -> tuple[Trade, ...]:
    """(price, buyer, seller), a minute apart, after three fills at 100 between strangers."""
    base = tuple(Trade(T0 - timedelta(minutes=start + 3 - i), 100, buyer=f"0xb{i}", seller=f"0x5{i}") for i in range(3))
    return base + tuple(Trade(T0 - timedelta(minutes=len(spec) - i), p, buyer=b, seller=s)
                        for i, (p, b, s) in enumerate(spec))


@pytest.mark.parametrize(("history", "fill", "action"), [
    (fills(), Trade(T0, 119, A, B), "accept"),
    (fills(), Trade(T0, 121, A, B), "accept"),                           # > 20% up, but only 2 accounts
    (fills((150, C, D)), Trade(T0, 121, A, B), "halt"),                  # corroborated: 4 accounts
    (fills((50, C, D)), Trade(T0, 79, A, B), "halt"),                    # > 20% down, 4 accounts
    (fills((150, C, D)), Trade(T0, 79, A, B), "accept"),                 # the other way: 2 accounts
    (fills((1, MALLORY, MALLORY2)), Trade(T0, 1, MALLORY2, MALLORY), "accept"),   # two wallets ping-pong
    (fills((1, MALLORY, MALLORY)), Trade(T0, 1, MALLORY, MALLORY), "accept"),     # self-fills ignored
    ((*fills()[:3], Trade(T0 - timedelta(minutes=11), 150, C, D),
      *(Trade(T0 - timedelta(seconds=s), 100, f"0xb{s}", f"0x5{s}") for s in (3, 2, 1))),
     Trade(T0, 121, A, B), "accept"),                                    # the corroboration is too old
    ((), Trade(T0, 1_000_000, A, B), "accept"),                          # nothing to compare with
])
def test_fill_that_moves_the_price_halts_only_when_distinct_accounts_moved_it(history, fill, action):
    d = after_fill(BreakerState(history), fill, POLICY)
    assert d.action == action, d.reason
    if action == "halt":
        assert d.halt_until == T0 + timedelta(minutes=15)


def test_a_self_fill_never_halts_and_a_lone_pair_needs_the_policy_to_allow_it():
    assert after_fill(BreakerState(fills()), Trade(T0, 1, MALLORY, MALLORY), POLICY).action == "accept"
    pair = BreakerPolicy(reference_fills=3, move_bps=2_000, min_distinct_accounts=2)
    assert after_fill(BreakerState(fills()), Trade(T0, 1, A, B), pair).action == "halt"
    assert after_fill(BreakerState(fills()), Trade(T0, 1, A, A), pair).action == "accept"


def test_policy_validation():
    with pytest.raises(ValueError):
        BreakerPolicy(band_bps=0)
    with pytest.raises(ValueError):
        BreakerPolicy(reference_fills=0)
    with pytest.raises(ValueError):
        BreakerPolicy(min_distinct_accounts=0)
    with pytest.raises(ValueError):
        BreakerPolicy(max_refusals_per_account=0)


def test_two_wallets_trading_back_and_forth_weigh_as_one_fill():
    ping_pong = tuple(Trade(T0 - timedelta(seconds=10 - i), 1, *((MALLORY, MALLORY2) if i % 2 else (MALLORY2, MALLORY)))
                      for i in range(6))
    assert reference_price(trades(100, 100, 100) + ping_pong, POLICY) == 100  # not (1, 1, 1)
    assert reference_price(trades(100, 100) + ping_pong, POLICY) == 100       # (100, 100, 1): one vote
    assert reference_price(trades(100, 100, 100, 100) + ping_pong, BreakerPolicy(reference_fills=5)) == 100
