"""devnet.consortium.forks.diagnose: what a set of consortium heads means, table-tested without a node."""

from __future__ import annotations

import pytest

from devnet.consortium.forks import HeadView, diagnose

pytestmark = pytest.mark.unit

NOW = 1_000_000.0
STALL = 4.0
IDS = {f"node{i}": f"id{i}" for i in range(4)}


def head(node: str, number: int, block_hash: str, *, age: float = 1.0, td: int | None = None,
         peers: tuple[str, ...] | None = None) -> HeadView:
    peer_names = peers if peers is not None else tuple(n for n in IDS if n != node)
    return HeadView(node=node, node_id=IDS[node], number=number, hash=block_hash,
                    timestamp=int(NOW - age), total_difficulty=td if td is not None else 2 * number,
                    peers=frozenset(IDS[p] for p in peer_names))


def test_one_young_head_everywhere_is_ok():
    views = [head(n, 10, "0xaa") for n in IDS]
    assert diagnose(views, NOW, STALL).kind == "ok"


def test_one_old_head_everywhere_is_a_stall_nobody_can_rewind():
    verdict = diagnose([head(n, 10, "0xaa", age=30) for n in IDS], NOW, STALL)
    assert verdict.kind == "stalled" and "too few validators" in verdict.detail


def test_differing_heads_while_blocks_arrive_are_a_race_not_a_deadlock():
    views = [head("node0", 10, "0xaa"), head("node1", 10, "0xbb", age=0.5),
             head("node2", 10, "0xaa"), head("node3", 9, "0x99")]
    assert diagnose(views, NOW, STALL).kind == "forked"


def test_old_differing_heads_with_links_are_a_deadlock_and_the_majority_wins():
    views = [head("node0", 12, "0xaa", age=9), head("node1", 12, "0xaa", age=9),
             head("node2", 12, "0xaa", age=9), head("node3", 12, "0xbb", age=9)]
    verdict = diagnose(views, NOW, STALL)
    assert verdict.kind == "deadlock"
    assert verdict.winners == ("node0", "node1", "node2") and verdict.losers == ("node3",)


@pytest.mark.parametrize(("td_a", "td_b", "number_a", "number_b", "hash_a", "hash_b", "winner"), [
    (7, 6, 12, 12, "0xaa", "0xbb", "a"),   # two against two: the heavier fork (geth's own choice)
    (6, 7, 12, 12, "0xaa", "0xbb", "b"),
    (6, 6, 13, 12, "0xaa", "0xbb", "a"),   # equal weight: the longer fork (its blocks are kept)
    (6, 6, 12, 12, "0xbb", "0xaa", "b"),   # a full tie: the lower head hash, the same for everyone
    (6, 6, 12, 12, "0xaa", "0xbb", "a"),
])
def test_a_tie_in_nodes_is_broken_by_weight_then_length_then_hash(td_a, td_b, number_a, number_b,
                                                                   hash_a, hash_b, winner):
    views = [head("node0", number_a, hash_a, age=9, td=td_a), head("node1", number_a, hash_a, age=9, td=td_a),
             head("node2", number_b, hash_b, age=9, td=td_b), head("node3", number_b, hash_b, age=9, td=td_b)]
    verdict = diagnose(views, NOW, STALL)
    expected = ("node0", "node1") if winner == "a" else ("node2", "node3")
    assert verdict.kind == "deadlock" and verdict.winners == expected
    assert set(verdict.losers) == {"node0", "node1", "node2", "node3"} - set(expected)
    # Every observer picks the same fork, whatever order it read the nodes in.
    assert diagnose(list(reversed(views)), NOW, STALL).winners == expected


def test_a_loser_with_no_peer_on_the_winning_fork_is_a_partition_to_wait_out():
    views = [head("node0", 12, "0xaa", age=9, peers=("node1",)), head("node1", 12, "0xaa", age=9, peers=("node0",)),
             head("node2", 11, "0xbb", age=9, td=1, peers=("node3",)),
             head("node3", 11, "0xbb", age=9, td=1, peers=("node2",))]
    verdict = diagnose(views, NOW, STALL)
    assert verdict.kind == "partitioned" and "waiting for the link" in verdict.detail
    assert verdict.winners == ("node0", "node1")


def test_no_answer_at_all_is_a_stall():
    assert diagnose([], NOW, STALL).kind == "stalled"
