"""The platform's collections keep the holding epoch marketplace listings are bound to
(IHoldingEpoch): it changes whenever the holder receives the token, and only then."""

from __future__ import annotations

import pytest

from tests.contracts import issuance_support
from tests.contracts.issuance_support import work

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

stack = issuance_support.stack


def test_creator_collection_counts_each_transfer_of_the_moved_token_only(stack, creator, collector, stranger):
    """The count lives in the token's packed ownership slot: moving one token of an edition leaves
    its neighbours (which read their owner through the same checkpoint slot) at their epoch."""
    collection = stack.collection(creator)
    world = work("epochs")
    collection.mintEdition(creator, 20, world.content_hash, world.cid_bytes, sender=creator)
    first = 1
    assert [collection.holdingEpoch(creator, first + i) for i in range(3)] == [0, 0, 0]

    collection.transferFrom(creator, collector, first + 1, sender=creator)
    assert collection.holdingEpoch(collector, first + 1) == 1
    collection.transferFrom(collector, creator, first + 1, sender=collector)  # it comes back
    assert collection.holdingEpoch(creator, first + 1) == 2
    assert collection.holdingEpoch(creator, first) == 0
    assert collection.holdingEpoch(creator, first + 2) == 0
    assert collection.holdingEpoch(creator, first + 17) == 0
    assert collection.ownerOf(first + 2) == creator.address
    # The rest of the packed slot is intact: owner and CID still read right.
    assert collection.workCid(first + 1) == collection.workCid(first)


def test_editions_count_each_receipt_of_the_holder_and_not_departures(stack, creator, collector):
    editions = stack.editions(creator)
    world = work("edition-epochs")
    editions.mintWork(creator, 10, world.content_hash, world.cid_bytes, sender=creator)
    work_id = 1
    assert editions.holdingEpoch(creator, work_id) == 1  # the mint was a receipt
    editions.safeTransferFrom(creator, collector, work_id, 4, b"", sender=creator)
    assert editions.holdingEpoch(creator, work_id) == 1  # units leaving: unchanged
    assert editions.holdingEpoch(collector, work_id) == 1
    editions.safeTransferFrom(collector, creator, work_id, 1, b"", sender=collector)
    assert editions.holdingEpoch(creator, work_id) == 2  # units coming back: a new epoch
