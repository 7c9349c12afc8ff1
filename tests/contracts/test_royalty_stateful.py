"""Stateful property test of RoyaltySplitter on anvil: random ETH and ERC-20 payments, distributions,
withdrawals."""

from __future__ import annotations

from typing import Any, ClassVar

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
CURRENCIES = st.sampled_from(["eth", "erc20"])
PAYERS = (0, 8, 9)


class Ledger:
    """The model of one currency's accounting in the splitter, kept independently of the contract."""

    def __init__(self, bps: list[int]) -> None:
        self.bps = bps
        self.credited = [0] * len(bps)
        self.withdrawn = [0] * len(bps)
        self.received = 0
        self.distributions = 0

    def parts(self, amount: int) -> list[int]:
        out = [amount * b // 10_000 for b in self.bps]
        out[0] = amount - sum(out[1:])
        return out

    def undistributed(self) -> int:
        return self.received - sum(self.withdrawn) - sum(self.credited)

    def distribute(self) -> int:
        amount = self.undistributed()
        if amount > 0:
            for i, part in enumerate(self.parts(amount)):
                self.credited[i] += part
            self.distributions += 1
        return amount


class SplitterMachine(RuleBasedStateMachine):
    """Invariants, checked after every step, for ETH and for an ERC-20 alike:

    1. Per recipient, exact to the wei: the splitter's ``withdrawable`` equals the model's credit plus
       the model's part of what is undistributed, where the model applies the documented rule
       (each distribution of U credits floor(U * bps / 10000) to every recipient but the first, and
       the rest to the first) independently of the contract.
    2. The recipients' withdrawable amounts sum to the splitter's balance in that currency (no wei
       unaccounted).
    3. received == sum(withdrawn) + sum(withdrawable), to the wei.
    4. No recipient but the first ever gets more than its exact share of what was received, and
       each loses less than one wei per distribution to rounding (the first gets those wei).
    """

    project = None
    factory = None
    token = None
    accounts: ClassVar[list[Any]] = []

    def __init__(self) -> None:
        super().__init__()
        self.snapshot = ape.chain.snapshot()
        self.splitter: Any = None
        self.recipients: list[str] = []
        self.ledgers: dict[str, Ledger] = {}

    def teardown(self) -> None:
        ape.chain.restore(self.snapshot)

    def currency(self, kind: str) -> str:
        return ETH if kind == "eth" else str(self.token.address)

    def balance_of(self, currency: str, who: Any) -> int:
        if currency == ETH:
            return balance(who)
        return int(self.token.balanceOf(str(getattr(who, "address", who))))

    # -- rules ------------------------------------------------------------------------------------

    @initialize(split=st.sampled_from(SPLITS), salt=st.binary(min_size=32, max_size=32))
    def create(self, split: list[int], salt: bytes) -> None:
        self.recipients = ascending(*self.accounts[4:4 + len(split)])
        tx = self.factory.createSplitter(self.recipients, list(split), salt, sender=self.accounts[0])
        self.splitter = self.project.RoyaltySplitter.at(tx.return_value)
        self.ledgers = {ETH: Ledger(list(split)), str(self.token.address): Ledger(list(split))}

    @rule(kind=CURRENCIES, payer=st.sampled_from(PAYERS), amount=AMOUNTS)
    def pay(self, kind: str, payer: int, amount: int) -> None:
        currency = self.currency(kind)
        if currency == ETH:
            tx = self.accounts[payer].transfer(self.splitter, amount)
            assert one_event(tx, "PaymentReceived").amount == amount
        else:  # an ERC-20 payment is a plain transfer: the splitter sees it as undistributed balance
            self.token.transfer(self.splitter, amount, sender=self.accounts[payer])
        self.ledgers[currency].received += amount

    @rule(kind=CURRENCIES)
    def distribute(self, kind: str) -> None:
        currency = self.currency(kind)
        ledger = self.ledgers[currency]
        if ledger.undistributed() == 0:
            with reverts_with(self.splitter.SplitterNothingToDistribute, token=currency):
                self.splitter.distribute(currency, sender=self.accounts[9])
            return
        expected = ledger.distribute()
        tx = self.splitter.distribute(currency, sender=self.accounts[9])
        distributed = one_event(tx, "Distributed")
        assert (distributed.token, distributed.amount) == (currency, expected)

    @rule(kind=CURRENCIES, index=st.integers(0, 3), by_recipient=st.booleans())
    def withdraw(self, kind: str, index: int, by_recipient: bool) -> None:
        currency = self.currency(kind)
        ledger = self.ledgers[currency]
        index %= len(self.recipients)
        recipient = self.recipients[index]
        undistributed = ledger.undistributed()
        amount = ledger.credited[index] + (ledger.parts(undistributed)[index] if undistributed else 0)
        if amount == 0:  # the refused withdrawal distributes nothing either: the model stays as it is
            with reverts_with(self.splitter.SplitterNothingToWithdraw, account=recipient, token=currency):
                self.splitter.withdrawFor(currency, recipient, sender=self.accounts[9])
            return
        ledger.distribute()  # a withdrawal first distributes what is pending
        assert ledger.credited[index] == amount
        before = self.balance_of(currency, recipient)
        if by_recipient:
            tx = self.splitter.withdraw(currency, sender=self.accounts[self.accounts_index(recipient)])
            fees = tx.total_fees_paid if currency == ETH else 0
            assert self.balance_of(currency, recipient) == before + amount - fees
        else:
            tx = self.splitter.withdrawFor(currency, recipient, sender=self.accounts[9])
            assert self.balance_of(currency, recipient) == before + amount
        withdrawn = one_event(tx, "Withdrawn")
        assert (withdrawn.token, withdrawn.amount) == (currency, amount)
        ledger.credited[index] = 0
        ledger.withdrawn[index] += amount

    def accounts_index(self, address: str) -> int:
        return next(i for i, a in enumerate(self.accounts) if a.address == address)

    # -- invariants -------------------------------------------------------------------------------

    @invariant()
    def accounting_is_exact(self) -> None:
        if self.splitter is None:
            return
        for currency, ledger in self.ledgers.items():
            undistributed = ledger.undistributed()
            pending = ledger.parts(undistributed) if undistributed else [0] * len(ledger.bps)
            withdrawable = [self.splitter.withdrawable(currency, r) for r in self.recipients]
            assert withdrawable == [c + p for c, p in zip(ledger.credited, pending, strict=True)], currency
            assert sum(withdrawable) == self.balance_of(currency, self.splitter)
            assert ledger.received == sum(ledger.withdrawn) + sum(withdrawable)
            for i in range(1, len(ledger.bps)):
                entitled = ledger.withdrawn[i] + withdrawable[i]
                exact_times_10k = ledger.received * ledger.bps[i]
                assert entitled * 10_000 <= exact_times_10k
                assert exact_times_10k - entitled * 10_000 < 10_000 * (ledger.distributions + 1)


def test_splitter_accounting_holds_under_random_payments_and_withdrawals(ape_project, accounts, deployer):
    implementation = ape_project.RoyaltySplitter.deploy(sender=deployer)
    SplitterMachine.project = ape_project
    SplitterMachine.factory = ape_project.SplitterFactory.deploy(implementation, sender=deployer)
    SplitterMachine.accounts = list(accounts)[:10]
    # An honest ERC-20 (TestLyingERC20 with no lie configured), every payer funded.
    SplitterMachine.token = ape_project.TestLyingERC20.deploy(sender=deployer)
    for payer in PAYERS:
        SplitterMachine.token.mint(SplitterMachine.accounts[payer], 10**24, sender=deployer)
    run_state_machine_as_test(
        SplitterMachine, settings=settings(max_examples=15, stateful_step_count=12, deadline=None))
