"""Stateful property test of RoyaltySplitter on anvil: random ETH payments, distributions, withdrawals."""

from __future__ import annotations

import ape
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from tests.contracts.revert_checks import one_event, reverts_with
from tests.contracts.royalty_support import ETH, ascending, balance

pytestmark = pytest.mark.contracts

SPLITS = [
    [3333, 3334, 3333],
    [1, 4999, 4999, 1],
    [7000, 3000],
    [10_000],
]
AMOUNTS = st.one_of(st.integers(1, 20), st.integers(1, 10**6), st.integers(10**15, 10**18))


class SplitterMachine(RuleBasedStateMachine):
    """Invariants, checked after every step:

    1. Per recipient, exact to the wei: the splitter's ``withdrawable`` equals the model's credit plus
       the model's part of what is undistributed, where the model applies the documented rule
       (each distribution of U credits floor(U * bps / 10000) to every recipient but the first, and
       the rest to the first) independently of the contract.
    2. The recipients' withdrawable amounts sum to the splitter's ETH balance (no wei unaccounted).
    3. received == sum(withdrawn) + sum(withdrawable), to the wei.
    4. No recipient but the first ever gets more than its exact share of what was received, and
       each loses less than one wei per distribution to rounding (the first gets those wei).
    """

    project = None
    factory = None
    accounts = None

    def __init__(self) -> None:
        super().__init__()
        self.snapshot = ape.chain.snapshot()
        self.splitter = None
        self.recipients: list[str] = []
        self.bps: list[int] = []
        self.credited: list[int] = []
        self.withdrawn: list[int] = []
        self.received = 0
        self.distributions = 0

    def teardown(self) -> None:
        ape.chain.restore(self.snapshot)

    # -- model ------------------------------------------------------------------------------------

    def parts(self, amount: int) -> list[int]:
        out = [amount * b // 10_000 for b in self.bps]
        out[0] = amount - sum(out[1:])
        return out

    def undistributed(self) -> int:
        return self.received - sum(self.withdrawn) - sum(self.credited)

    def model_distribute(self) -> int:
        amount = self.undistributed()
        if amount > 0:
            for i, part in enumerate(self.parts(amount)):
                self.credited[i] += part
            self.distributions += 1
        return amount

    # -- rules ------------------------------------------------------------------------------------

    @initialize(split=st.sampled_from(SPLITS), salt=st.binary(min_size=32, max_size=32))
    def create(self, split: list[int], salt: bytes) -> None:
        self.recipients = ascending(*self.accounts[4:4 + len(split)])
        self.bps = list(split)
        tx = self.factory.createSplitter(self.recipients, self.bps, salt, sender=self.accounts[0])
        self.splitter = self.project.RoyaltySplitter.at(tx.return_value)
        self.credited = [0] * len(split)
        self.withdrawn = [0] * len(split)

    @rule(payer=st.sampled_from([0, 8, 9]), amount=AMOUNTS)
    def pay(self, payer: int, amount: int) -> None:
        tx = self.accounts[payer].transfer(self.splitter, amount)
        assert one_event(tx, "PaymentReceived").amount == amount
        self.received += amount

    @rule()
    def distribute(self) -> None:
        if self.undistributed() == 0:
            with reverts_with(self.splitter.SplitterNothingToDistribute, token=ETH):
                self.splitter.distribute(ETH, sender=self.accounts[9])
            return
        expected = self.model_distribute()
        tx = self.splitter.distribute(ETH, sender=self.accounts[9])
        assert one_event(tx, "Distributed").amount == expected

    @rule(index=st.integers(0, 3), by_recipient=st.booleans())
    def withdraw(self, index: int, by_recipient: bool) -> None:
        index %= len(self.recipients)
        recipient = self.recipients[index]
        self.model_distribute()
        amount = self.credited[index]
        if amount == 0:
            with reverts_with(self.splitter.SplitterNothingToWithdraw, account=recipient, token=ETH):
                self.splitter.withdrawFor(ETH, recipient, sender=self.accounts[9])
            return
        before = balance(recipient)
        if by_recipient:
            tx = self.splitter.withdraw(ETH, sender=ape.accounts.test_accounts[self.accounts_index(recipient)])
            assert balance(recipient) == before + amount - tx.total_fees_paid
        else:
            tx = self.splitter.withdrawFor(ETH, recipient, sender=self.accounts[9])
            assert balance(recipient) == before + amount
        assert one_event(tx, "Withdrawn").amount == amount
        self.credited[index] = 0
        self.withdrawn[index] += amount

    def accounts_index(self, address: str) -> int:
        return next(i for i, a in enumerate(self.accounts) if a.address == address)

    # -- invariants -------------------------------------------------------------------------------

    @invariant()
    def accounting_is_exact(self) -> None:
        if self.splitter is None:
            return
        pending = self.parts(self.undistributed()) if self.undistributed() else [0] * len(self.bps)
        withdrawable = [self.splitter.withdrawable(ETH, r) for r in self.recipients]
        assert withdrawable == [c + p for c, p in zip(self.credited, pending, strict=True)]
        assert sum(withdrawable) == balance(self.splitter)
        assert self.received == sum(self.withdrawn) + sum(withdrawable)
        for i in range(1, len(self.bps)):
            entitled = self.withdrawn[i] + withdrawable[i]
            exact_times_10k = self.received * self.bps[i]
            assert entitled * 10_000 <= exact_times_10k
            assert exact_times_10k - entitled * 10_000 < 10_000 * (self.distributions + 1)


def test_splitter_accounting_holds_under_random_payments_and_withdrawals(ape_project, accounts, deployer):
    implementation = ape_project.RoyaltySplitter.deploy(sender=deployer)
    SplitterMachine.project = ape_project
    SplitterMachine.factory = ape_project.SplitterFactory.deploy(implementation, sender=deployer)
    SplitterMachine.accounts = list(accounts)[:10]
    run_state_machine_as_test(
        SplitterMachine, settings=settings(max_examples=15, stateful_step_count=12, deadline=None))
