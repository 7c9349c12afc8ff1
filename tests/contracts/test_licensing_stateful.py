"""Stateful property test of Licensing on anvil: random buys, revocations, transfers and time jumps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import ape
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.contracts.revert_checks import one_event, reverts_with
from tests.contracts.royalty_support import (
    USAGE_ANY,
    USAGE_COMMERCIAL,
    USAGE_DERIVATIVE,
    USAGE_WITHOUT_ATTRIBUTION,
    offer,
    terms,
)

pytestmark = pytest.mark.contracts

WORK = 1
FEE = 1_000
# (terms, commercial, derivatives, attribution required, transferable, revocable, duration)
OFFERS = [
    terms(commercial=True, derivatives=False, attribution=True, transferable=True, revocable=True,
          duration=100, fee=FEE, territories=(b"DE", b"FR")),
    terms(commercial=False, derivatives=True, attribution=False, transferable=False, revocable=False,
          duration=0, fee=FEE),  # worldwide
    terms(commercial=True, derivatives=True, attribution=False, transferable=False, revocable=True,
          duration=1_000, fee=FEE, territories=(b"JP",)),
]
TERRITORIES = [b"DE", b"FR", b"JP", b"US"]
# Territories are checked for commercial use only (bounds the calls per step): a holder of a worldwide
# non-commercial grant and a territorial commercial one must be licensed commercially only there.
TERRITORY_USAGES = [USAGE_COMMERCIAL]
USAGES = [USAGE_ANY, USAGE_COMMERCIAL, USAGE_DERIVATIVE, USAGE_WITHOUT_ATTRIBUTION,
          USAGE_COMMERCIAL | USAGE_DERIVATIVE]


@dataclass
class ModelGrant:
    grant_id: int
    holder: int
    offer: int
    expiry: int
    revoked: bool = False

    def live(self, now: int) -> bool:
        return not self.revoked and (self.expiry == 0 or now < self.expiry)

    def covers(self, territory: bytes) -> bool:
        listed = OFFERS[self.offer][8]
        return not listed or territory in listed

    def allows(self, usage: int) -> bool:
        t = OFFERS[self.offer]
        commercial, derivatives, attribution = t[0], t[1], t[2]
        return ((not usage & USAGE_COMMERCIAL or commercial)
                and (not usage & USAGE_DERIVATIVE or derivatives)
                and (not usage & USAGE_WITHOUT_ATTRIBUTION or not attribution))


class LicensingMachine(RuleBasedStateMachine):
    """Invariants, checked after every step:

    1. An expired or revoked grant never answers yes: for every licensee and usage, ``isLicensed`` is
       true exactly when the licensee holds at least one grant that is neither revoked nor expired
       (expiry 0 = perpetual, else chain time < expiry) and whose terms allow that usage; and for
       every territory, ``isLicensedIn`` is true exactly when such a grant's terms also cover it
       (no territories listed = worldwide).
    2. A licensee whose grants are all expired or revoked is licensed for nothing at all.
    3. The grants the contract lists per holder are exactly the model's (transfers move them).
    """

    licensing = None
    work = None
    hashes: ClassVar[list[bytes]] = []
    accounts: ClassVar[list[Any]] = []
    licensor = None

    def __init__(self) -> None:
        super().__init__()
        self.snapshot = ape.chain.snapshot()
        self.grants: list[ModelGrant] = []

    def teardown(self) -> None:
        ape.chain.restore(self.snapshot)

    @staticmethod
    def now() -> int:
        return int(ape.chain.blocks.head.timestamp)

    @rule(holder=st.integers(0, 3), offer_index=st.integers(0, len(OFFERS) - 1))
    def buy(self, holder: int, offer_index: int) -> None:
        tx = self.licensing.buyLicense(self.work, WORK, self.hashes[offer_index], sender=self.accounts[holder],
                                       value=FEE)
        granted = one_event(tx, "LicenseGranted")
        duration = OFFERS[offer_index][6]
        assert granted.expiry == (0 if duration == 0 else granted.start + duration)
        self.grants.append(ModelGrant(tx.return_value, holder, offer_index, granted.expiry))

    @precondition(lambda self: self.grants)
    @rule(pick=st.integers(0, 10**6))
    def revoke(self, pick: int) -> None:
        grant = self.grants[pick % len(self.grants)]
        revocable = OFFERS[grant.offer][4]
        if not revocable:
            with reverts_with(self.licensing.LicenseNotRevocable, grantId=grant.grant_id):
                self.licensing.revokeLicense(grant.grant_id, sender=self.licensor)
        elif grant.revoked:
            with reverts_with(self.licensing.LicenseGrantRevoked, grantId=grant.grant_id):
                self.licensing.revokeLicense(grant.grant_id, sender=self.licensor)
        else:
            self.licensing.revokeLicense(grant.grant_id, sender=self.licensor)
            grant.revoked = True

    @precondition(lambda self: self.grants)
    @rule(pick=st.integers(0, 10**6), to=st.integers(0, 3))
    def transfer(self, pick: int, to: int) -> None:
        grant = self.grants[pick % len(self.grants)]
        sender = self.accounts[grant.holder]
        recipient = self.accounts[to]
        at = self.now() + 1
        ape.chain.pending_timestamp = at  # the transaction's block time, pinned
        if not OFFERS[grant.offer][3]:
            with reverts_with(self.licensing.LicenseNotTransferable, grantId=grant.grant_id):
                self.licensing.transferLicense(grant.grant_id, recipient, sender=sender)
        elif grant.revoked:
            with reverts_with(self.licensing.LicenseGrantRevoked, grantId=grant.grant_id):
                self.licensing.transferLicense(grant.grant_id, recipient, sender=sender)
        elif not grant.live(at):
            with reverts_with(self.licensing.LicenseExpired, grantId=grant.grant_id, expiredAt=grant.expiry):
                self.licensing.transferLicense(grant.grant_id, recipient, sender=sender)
        elif to == grant.holder:
            with reverts_with(self.licensing.LicenseRecipientInvalid, to=recipient):
                self.licensing.transferLicense(grant.grant_id, recipient, sender=sender)
        else:
            self.licensing.transferLicense(grant.grant_id, recipient, sender=sender)
            grant.holder = to

    @rule(seconds=st.one_of(st.integers(1, 120), st.integers(500, 5_000)))
    def time_passes(self, seconds: int) -> None:
        ape.chain.mine(timestamp=self.now() + seconds)

    @invariant()
    def dead_grants_never_answer_yes(self) -> None:
        now = self.now()
        for holder in range(4):
            mine = [g for g in self.grants if g.holder == holder]
            for usage in USAGES:
                expected = any(g.live(now) and g.allows(usage) for g in mine)
                answer = self.licensing.isLicensed(self.accounts[holder], self.work, WORK, usage)
                assert answer == expected, (holder, usage, mine, now)
                for territory in TERRITORIES if usage in TERRITORY_USAGES else ():
                    expected_in = any(g.live(now) and g.allows(usage) and g.covers(territory) for g in mine)
                    answer_in = self.licensing.isLicensedIn(self.accounts[holder], self.work, WORK, usage,
                                                            territory)
                    assert answer_in == expected_in, (holder, usage, territory, mine, now)
            if not any(g.live(now) for g in mine):
                assert not self.licensing.isLicensed(self.accounts[holder], self.work, WORK, USAGE_ANY)
            listed = sorted(self.licensing.grantsOf(self.accounts[holder], self.work, WORK))
            assert listed == sorted(g.grant_id for g in mine)


def test_expired_or_revoked_grants_never_answer_yes(ape_project, accounts, deployer, creator):
    licensing = ape_project.Licensing.deploy(sender=deployer)
    work = ape_project.TestWork721.deploy(sender=deployer)
    work.mint(creator, WORK, sender=deployer)
    LicensingMachine.licensing = licensing
    LicensingMachine.work = work
    LicensingMachine.licensor = creator
    LicensingMachine.hashes = [offer(licensing, work, WORK, t, creator) for t in OFFERS]
    LicensingMachine.accounts = [accounts[i] for i in (4, 5, 6, 7)]
    run_state_machine_as_test(
        LicensingMachine, settings=settings(max_examples=15, stateful_step_count=12, deadline=None))
