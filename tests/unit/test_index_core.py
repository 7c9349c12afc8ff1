"""Table tests of the indexer's pure decisions."""

from __future__ import annotations

import pytest

from chain.index.core import BlockRange, plan_range, rewind_point

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("head", "confirmations", "next_block", "batch", "expected"), [
    (10, 0, 0, 100, BlockRange(0, 10)),          # catch up in one batch
    (10, 0, 0, 4, BlockRange(0, 3)),             # bounded by batch
    (10, 3, 5, 100, BlockRange(5, 7)),           # only final blocks (head - confirmations)
    (10, 3, 8, 100, None),                       # nothing final yet
    (10, 0, 11, 100, None),                      # caught up
    (2, 5, 0, 100, None),                        # chain shorter than the confirmation depth
    (10, 0, 10, 1, BlockRange(10, 10)),          # the head itself with no confirmations
])
def test_plan_range(head, confirmations, next_block, batch, expected):
    assert plan_range(head, confirmations, next_block, batch) == expected


def test_plan_range_refuses_empty_batches():
    with pytest.raises(ValueError):
        plan_range(10, 0, 0, 0)


@pytest.mark.parametrize(("stored", "on_chain", "floor", "expected"), [
    ({5: "a", 9: "b"}, {5: "a", 9: "b"}, 0, None),             # nothing changed
    ({5: "a", 9: "b"}, {5: "a", 9: "X"}, 0, 6),                # fork after 5: redo from 6
    ({5: "a", 9: "b"}, {5: "a", 9: None}, 0, 6),               # block 9 vanished (chain shorter)
    ({5: "a", 9: "b"}, {5: "X", 9: "Y"}, 3, 3),                # all diverged: back to the floor
    ({3: "a", 5: "b", 9: "c"}, {3: "a", 5: "X", 9: "c"}, 0, 4),  # first divergence wins
])
def test_rewind_point(stored, on_chain, floor, expected):
    assert rewind_point(stored, on_chain, floor) == expected
