"""Table tests of the indexer's pure decisions."""

from __future__ import annotations

import pytest

from chain.blocks import BlockRange, plan_range
from record.index.core import RangePolicy, next_range_size, rewind_point

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


POLICY = RangePolicy(min_blocks=1, max_blocks=10_000, target_logs=5_000)


@pytest.mark.parametrize(("current", "scanned", "logs", "expected"), [
    (500, 500, 0, 1_000),          # empty: grow, doubling
    (8_000, 8_000, 0, 10_000),     # ... up to the policy's maximum
    (500, 500, 100, 1_000),        # sparse: grow, at most doubling at a time
    (2_000, 2_000, 2_000, 4_000),  # one log a block: toward the target, still at most doubling
    (2_000, 2_000, 400_000, 25),   # dense (200 a block): straight to the size that brings the target
    (100, 10, 50_000, 1),          # never below the minimum
    (500, 500, None, 250),         # refused (too many results, timed out): half
    (500, 40, None, 20),           # a short range near the head refused: half of what was asked
    (1, 1, None, 1),               # the minimum stays (the indexer then gives up loudly)
    (3_000, 12, 5, 6_000),         # a short range near the head: grow from the planned size
])
def test_next_range_size(current, scanned, logs, expected):
    assert next_range_size(current, scanned, logs, POLICY) == expected


@pytest.mark.parametrize(("current", "logs", "refused", "expected"), [
    (500, 0, 800, 799),      # sparse, but the node refused 800 blocks before: stay below
    (500, 0, 2_000, 1_000),  # the refusal is far above: grow as usual
    (500, None, 800, 250),   # refused again: half
])
def test_next_range_size_never_grows_back_into_a_refusal(current, logs, refused, expected):
    assert next_range_size(current, current, logs, POLICY, refused) == expected


@pytest.mark.parametrize("bad", [dict(min_blocks=0), dict(min_blocks=5, max_blocks=4), dict(target_logs=0)])
def test_range_policy_refuses_impossible_bounds(bad):
    with pytest.raises(ValueError):
        RangePolicy(**bad)
