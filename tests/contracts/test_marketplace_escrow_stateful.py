"""Stateful property test of the milestone escrow, driving the real contract on anvil."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.support.marketplace import ZERO, balance, chain_snapshot, now, reverts, travel_to

pytestmark = pytest.mark.contracts

FEE_BPS = 250
FUNDED, DELIVERED, DISPUTED, RELEASED, REFUNDED, RESOLVED = 1, 2, 3, 4, 5, 6
OPEN = {FUNDED, DELIVERED, DISPUTED}
CONTENT = b"\x42" * 32
UNIT = 10**17
HOUR = 3_600
ACTIONS = ("deliver", "accept", "dispute", "resolve", "settle", "reclaim", "claim")
NATURAL = {FUNDED: ("deliver", "deliver", "reclaim"), DELIVERED: ("accept", "dispute", "claim"),
           DISPUTED: ("resolve", "settle")}
WILD = (*ACTIONS, "withdraw", "withdraw", "create")
WAIT = st.sampled_from([0, 0, 0, 2, 6])
"""Hours an action waits before it is sent (mostly none)."""
OUTCOMES: Counter[str] = Counter()
"""What the runs exercised (printed with -s): each action and its predicted outcome."""


@dataclass
class Milestone:
    amount: int
    deadline: int
    state: int = FUNDED
    delivered_at: int = 0
    disputed_at: int = 0


@dataclass
class Escrow:
    id: int
    buyer: Any
    contract_seller: bool
    currency: str
    review: int
    arbitration: int
    default_bps: int
    milestones: list[Milestone] = field(default_factory=list)

    def open_amount(self) -> int:
        return sum(m.amount for m in self.milestones if m.state in OPEN)


@dataclass
class World:
    escrow: Any
    coin: Any
    buyers: list[Any]
    seller: Any  # an EOA seller
    wallet: Any  # a contract seller owned by `seller`: rejects ETH and is blocked in the coin
    arbitrator: Any
    admin: Any


@pytest.fixture(scope="module")
def world(ape_project, accounts) -> World:
    admin, seller, arbitrator, treasury = accounts[0], accounts[1], accounts[6], accounts[4]
    buyers = [accounts[2], accounts[3]]
    escrow = ape_project.MilestoneEscrow.deploy(admin, treasury, FEE_BPS, sender=admin)
    coin = ape_project.MktTestERC20.deploy(sender=admin)
    wallet = ape_project.MktTestActor.deploy(seller, sender=seller)
    wallet.configure(1, 0, ZERO, b"", 0, sender=seller)  # its receive() reverts
    coin.setBlocked(wallet, True, sender=admin)  # and coin transfers to it revert
    for buyer in buyers:
        coin.mint(buyer, 10_000 * 10**18, sender=admin)
        coin.approve(escrow, 2**256 - 1, sender=buyer)
    return World(escrow, coin, buyers, seller, wallet, arbitrator, admin)


def test_escrowed_funds_always_equal_the_open_milestones(world):
    """Invariants, checked after every step of random runs of creations, deliveries, acceptances,
    disputes, arbitrations, reclaims, claims, withdrawals and waits, in ETH and an ERC-20:

    1. escrowBalance(currency) equals the sum of the amounts of the open (Funded, Delivered,
       Disputed) milestones in that currency, and each escrow's openAmount equals its own sum;
    2. the contract holds exactly escrowBalance(currency) + owedBalance(currency) of each
       currency: releases, refunds and splits neither leak nor strand funds;
    3. owedBalance and each payee's credit equal the payouts that failed (a contract seller that
       rejects ETH and is blocked in the coin) and were not yet withdrawn.

    Every action's outcome (success, or the exact custom error) is predicted by a model first.
    """
    with chain_snapshot():
        run_state_machine_as_test(
            lambda: EscrowMachine(world),
            settings=settings(max_examples=15, stateful_step_count=12, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow]),
        )
    print("escrow machine outcomes:", dict(sorted(OUTCOMES.items())))


class EscrowMachine(RuleBasedStateMachine):
    def __init__(self, world: World) -> None:
        super().__init__()
        import ape

        self.w = world
        self.snapshot = ape.chain.snapshot()
        self.t = now() + 1
        self.escrows: list[Escrow] = []
        self.owed: dict[str, int] = {ZERO: 0, str(world.coin.address): 0}

    def teardown(self) -> None:
        import ape

        ape.chain.restore(self.snapshot)

    # -- helpers --------------------------------------------------------------------------

    def _tick(self, wait_hours: int = 0) -> None:
        # A transaction sent without a tick (the setup's) is mined at anvil's own clock, which runs
        # with the wall clock: on a loaded machine it can pass the model's time, and a next block
        # "at" an earlier time is refused. The model's time is whatever the next block will carry.
        self.t = max(self.t, now()) + 1 + wait_hours * HOUR
        travel_to(self.t)

    def _as_seller(self, e: Escrow, fn: Any, *args: Any) -> Any:
        if e.contract_seller:
            return self.w.wallet.execute(self.w.escrow, 0, fn.encode_input(*args), sender=self.w.seller)
        return fn(*args, sender=self.w.seller)

    def _pay_seller(self, e: Escrow, amount: int) -> None:
        if e.contract_seller and amount > 0:
            self.owed[e.currency] += amount

    def _expect(self, action: str, error: str | None, send: Any, **inputs: Any) -> None:
        event(f"{action}: {error or 'ok'}")
        OUTCOMES[f"{action}: {error or 'ok'}"] += 1
        if error is None:
            send()
        else:
            with reverts(error, **inputs):
                send()

    def _check_state(self, e: Escrow, i: int) -> None:
        assert self.w.escrow.getMilestone(e.id, i).state == e.milestones[i].state

    # -- rules ----------------------------------------------------------------------------

    @initialize(sellers=st.tuples(st.booleans(), st.booleans()), coins=st.tuples(st.booleans(), st.booleans()),
                amounts=st.lists(st.integers(1, 50), min_size=2, max_size=3),
                hours=st.lists(st.integers(1, 12), min_size=3, max_size=3), review_hours=st.integers(1, 6))
    def two_escrows(self, sellers: tuple[bool, bool], coins: tuple[bool, bool], amounts: list[int],
                    hours: list[int], review_hours: int) -> None:
        for k in (0, 1):
            self._create(k, sellers[k], coins[k], amounts, hours, review_hours)

    @rule(pick=st.integers(0, 99), choice=st.integers(0, 99), wild=st.integers(0, 3), wait=WAIT,
          bps=st.integers(0, 10_000))
    def act(self, pick: int, choice: int, wild: int, wait: int, bps: int) -> None:
        """Act on an open milestone: mostly a next step its state allows (which may still fail on
        time); one time in four anything at all: any action on it (mostly failing with a state
        error), a withdrawal by the contract seller, or a new escrow."""
        every = [(e, i, m) for e in self.escrows for i, m in enumerate(e.milestones)]
        open_ = [c for c in every if c[2].state in OPEN] or every
        e, i, m = open_[pick % len(open_)]
        natural = NATURAL.get(m.state)
        action = WILD[choice % len(WILD)] if wild == 0 or natural is None else natural[choice % len(natural)]
        self._tick(wait)
        if action == "withdraw":
            owing = [c for c, amount in self.owed.items() if amount]
            self._withdraw(owing[0] if owing and bps % 4 else (ZERO, str(self.w.coin.address))[bps % 2])
        elif action == "create":
            self._create(bps % 2, bool(pick % 2), bool(choice % 2), [1 + bps % 50], [1 + wait, 1, 1], 1 + wait)
        else:
            getattr(self, f"_{action}")(e, i, m, bps)
            self._check_state(e, i)

    def _create(self, buyer: int, contract_seller: bool, in_coin: bool, amounts: list[int], hours: list[int],
                review_hours: int) -> None:
        currency = str(self.w.coin.address) if in_coin else ZERO
        milestones = [Milestone(a * UNIT, self.t + h * HOUR) for a, h in zip(amounts, hours, strict=False)]
        total = sum(m.amount for m in milestones)
        seller = self.w.wallet if contract_seller else self.w.seller
        event("create")
        OUTCOMES["create: ok"] += 1
        # The arbitrator's period and the default split vary with the drawn values.
        arbitration, default_bps = (1 + hours[-1] % 4) * HOUR, amounts[0] * 199 % 10_001
        tx = self.w.escrow.createEscrow(seller, self.w.arbitrator, currency, review_hours * HOUR,
                                        (arbitration, default_bps, ZERO, 0),
                                        [(m.amount, m.deadline) for m in milestones],
                                        sender=self.w.buyers[buyer], value=0 if in_coin else total)
        escrow_id = next(log for log in tx.events if log.event_name == "EscrowCreated").escrowId
        self.escrows.append(Escrow(escrow_id, self.w.buyers[buyer], contract_seller, currency,
                                   review_hours * HOUR, arbitration, default_bps, milestones))
        self._as_seller(self.escrows[-1], self.w.escrow.acceptEscrow, escrow_id)  # the seller takes the terms

    def _withdraw(self, currency: str) -> None:
        error = "WithdrawalNothingOwed" if self.owed[currency] == 0 else None
        data = self.w.escrow.withdrawTo.encode_input(currency, self.w.seller)
        self._expect("withdraw", error, lambda: self.w.wallet.execute(self.w.escrow, 0, data, sender=self.w.seller))
        self.owed[currency] = 0

    def _deliver(self, e: Escrow, i: int, m: Milestone, bps: int) -> None:
        error = ("MilestoneStateInvalid" if m.state != FUNDED
                 else "MilestoneDeliveryLate" if self.t > m.deadline else None)
        self._expect("deliver", error,
                     lambda: self._as_seller(e, self.w.escrow.deliverMilestone, e.id, i, CONTENT, "bafy"))
        if error is None:
            m.state, m.delivered_at = DELIVERED, self.t

    def _accept(self, e: Escrow, i: int, m: Milestone, bps: int) -> None:
        error = "MilestoneStateInvalid" if m.state != DELIVERED else None
        self._expect("accept", error, lambda: self.w.escrow.acceptMilestone(e.id, i, sender=e.buyer),
                     state=m.state)
        if error is None:
            m.state = RELEASED
            self._pay_seller(e, m.amount - m.amount * FEE_BPS // 10_000)

    def _dispute(self, e: Escrow, i: int, m: Milestone, bps: int) -> None:
        error = ("MilestoneStateInvalid" if m.state != DELIVERED
                 else "MilestoneReviewClosed" if self.t > m.delivered_at + e.review else None)
        self._expect("dispute", error, lambda: self.w.escrow.disputeMilestone(e.id, i, sender=e.buyer))
        if error is None:
            m.state, m.disputed_at = DISPUTED, self.t

    def _resolve(self, e: Escrow, i: int, m: Milestone, bps: int) -> None:
        error = "MilestoneStateInvalid" if m.state != DISPUTED else None
        self._expect("resolve", error,
                     lambda: self.w.escrow.resolveDispute(e.id, i, bps, sender=self.w.arbitrator))
        if error is None:
            m.state = RESOLVED
            share = m.amount * bps // 10_000
            self._pay_seller(e, share - share * FEE_BPS // 10_000)

    def _settle(self, e: Escrow, i: int, m: Milestone, bps: int) -> None:
        """Anyone (here a buyer of another escrow or this one) settles an unanswered dispute."""
        error = ("MilestoneStateInvalid" if m.state != DISPUTED
                 else "DisputeArbitrationOpen" if self.t <= m.disputed_at + e.arbitration else None)
        caller = self.w.buyers[bps % 2]
        self._expect("settle", error, lambda: self.w.escrow.settleLapsedDispute(e.id, i, sender=caller))
        if error is None:
            m.state = RESOLVED
            share = m.amount * e.default_bps // 10_000
            self._pay_seller(e, share - share * FEE_BPS // 10_000)

    def _reclaim(self, e: Escrow, i: int, m: Milestone, bps: int) -> None:
        error = ("MilestoneStateInvalid" if m.state != FUNDED
                 else "MilestoneDeadlineNotReached" if self.t <= m.deadline else None)
        self._expect("reclaim", error, lambda: self.w.escrow.reclaimMilestone(e.id, i, sender=e.buyer))
        if error is None:
            m.state = REFUNDED

    def _claim(self, e: Escrow, i: int, m: Milestone, bps: int) -> None:
        error = ("MilestoneStateInvalid" if m.state != DELIVERED
                 else "MilestoneReviewOpen" if self.t <= m.delivered_at + e.review else None)
        self._expect("claim", error, lambda: self._as_seller(e, self.w.escrow.claimMilestone, e.id, i))
        if error is None:
            m.state = RELEASED
            self._pay_seller(e, m.amount - m.amount * FEE_BPS // 10_000)

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def escrowed_equals_open_milestones_and_holdings(self) -> None:
        escrow, coin = self.w.escrow, self.w.coin
        for currency in (ZERO, str(coin.address)):
            open_sum = sum(e.open_amount() for e in self.escrows if e.currency == currency)
            held = balance(escrow) if currency == ZERO else int(coin.balanceOf(escrow))
            assert escrow.escrowBalance(currency) == open_sum
            assert escrow.owedBalance(currency) == self.owed[currency]
            assert escrow.pendingWithdrawals(currency, self.w.wallet) == self.owed[currency]
            assert held == open_sum + self.owed[currency]
        for e in self.escrows:
            assert escrow.openAmount(e.id) == e.open_amount()
