"""Gas targets of the issuance family, measured on whole transactions through ape.

The committed snapshot (test_gas_snapshot.py) guards against regressions; these tests state the
targets themselves and what the figures include.
"""

from __future__ import annotations

import pytest

from tests.contracts import issuance_support
from tests.contracts.issuance_support import work

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

# Shared fixtures (defined in issuance_support).
stack = issuance_support.stack

MINT_WORK_TARGET = 130_000
EDITION_MARGINAL_TARGET = 5_000
NEW_SLOT_MINUS_UPDATE = 22_100 - 5_000  # a new balance slot instead of updating an existing one


def test_minting_a_work_with_its_record_meets_the_target_in_steady_state(stack, creator):
    collection = stack.collection(creator)
    a, b = work("gas-first"), work("gas-steady")
    first = collection.mintWork(creator, a.content_hash, a.cid_bytes, sender=creator).gas_used
    steady = collection.mintWork(creator, b.content_hash, b.cid_bytes, sender=creator).gas_used
    print(f"mint_work: first mint to a new holder {first}, steady state {steady}")
    assert steady <= MINT_WORK_TARGET
    # The first mint to an address costs exactly one new storage slot more: its balance.
    assert abs((first - steady) - NEW_SLOT_MINUS_UPDATE) < 300


def test_an_extra_edition_token_costs_less_than_the_target(stack, creator):
    collection = stack.collection(creator)
    warm = work("gas-warm")
    collection.mintWork(creator, warm.content_hash, warm.cid_bytes, sender=creator)
    one, hundred = work("gas-ed-1"), work("gas-ed-100")
    gas_1 = collection.mintEdition(creator, 1, one.content_hash, one.cid_bytes, sender=creator).gas_used
    gas_100 = collection.mintEdition(creator, 100, hundred.content_hash, hundred.cid_bytes, sender=creator).gas_used
    marginal = (gas_100 - gas_1) / 99
    print(f"edition: 1 token {gas_1}, 100 tokens {gas_100}, marginal {marginal:.0f}")
    assert marginal <= EDITION_MARGINAL_TARGET


def test_owner_lookups_inside_an_edition_stay_bounded(stack, creator, collector):
    collection = stack.collection(creator)
    w = work("gas-lookup")
    collection.mintEdition(creator, 1_000, w.content_hash, w.cid_bytes, sender=creator)
    interval = collection.CHECKPOINT_INTERVAL()
    checkpoint = 1 + 3 * interval  # a written slot
    # Both transfers also write the (empty) slot of the next token; the second first reads
    # interval - 2 empty slots below it to find its owner.
    base = collection.transferFrom(creator, collector, checkpoint, sender=creator).gas_used
    deep = collection.transferFrom(creator, collector, checkpoint + interval - 2, sender=creator).gas_used
    worst = collection.transferFrom(creator, collector, 1_000, sender=creator).gas_used  # reads 15 empty slots
    print(f"transfer in an edition of 1000: at a checkpoint {base}, {interval - 2} slots above {deep}, "
          f"last token {worst}")
    # Each extra slot read is a cold SLOAD (2,100): the lookup costs grow with the distance to the
    # nearest written slot, which the checkpoints bound.
    assert (interval - 2) * 2_000 <= deep - base <= (interval - 1) * 2_200
    assert worst < 110_000
