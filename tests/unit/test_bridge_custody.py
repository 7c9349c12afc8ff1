"""Table tests of the pure pieces that keep the relayer going when a node has no historical state
(anvil restarted from its state file, a pruned node): which node errors mean "state not kept", how
custody is decided from the current state then, that an undecidable departure is held (neither signed
nor rejected), and the pace and the stuck mark of the looks at a held departure."""

from __future__ import annotations

import pytest

from bridge.core import (
    Checkpoint,
    Hold,
    ScanBatch,
    Skip,
    Unknown,
    hold_schedule,
    judge_custody,
    plan,
    state_unavailable,
)
from tests.unit.test_bridge_core import LOCKBOX, ROUTE, event, kinds, message

pytestmark = pytest.mark.unit

GONE = Unknown("ownerOf at block 31: state not kept: BlockOutOfRangeError")
ALICE = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


@pytest.mark.parametrize("text", [
    "{'code': -32602, 'message': 'BlockOutOfRangeError: block height is 96 but requested was 31'}",  # anvil
    "missing trie node 5a1f... (path ) state 0x.. is not available",                           # geth
    "header not found",                                                                          # geth
    "historical state 0xabc is not available",                                                   # geth
    "required historical state unavailable (reexec=128)",                                        # geth
    "state at block #31 is pruned",                                                              # reth/erigon
    "World state unavailable for block 0x1f",                                                    # besu
    "No state available for block 0x1f",                                                         # nethermind
    "this request requires an archive node",                                                     # providers
])
def test_every_shape_of_state_not_kept_is_recognised(text):
    assert state_unavailable(text)


@pytest.mark.parametrize("text", [
    "execution reverted: ERC721NonexistentToken(31)",
    "insufficient funds for gas * price + value",
    "nonce too low",
])
def test_other_errors_are_not_taken_for_missing_state(text):
    assert not state_unavailable(text)


LOCK = dict(lock=True, holder=LOCKBOX, block=31)
BURN = dict(lock=False, holder=LOCKBOX, block=31)


@pytest.mark.parametrize(("kw", "custody", "note"), [
    # the state at the block answers: it decides, as before
    ({**LOCK, "owner_at_block": LOCKBOX, "owner_now": None, "moved_since": None}, True, ""),
    ({**LOCK, "owner_at_block": ALICE, "owner_now": None, "moved_since": None}, False, "not the lockbox"),
    ({**BURN, "owner_at_block": None, "owner_now": None, "moved_since": None}, True, ""),
    ({**BURN, "owner_at_block": ALICE, "owner_now": None, "moved_since": None}, False, "still exists"),
    # no state at the block: the current state, and no Transfer since, prove the same
    ({**LOCK, "owner_at_block": GONE, "owner_now": LOCKBOX, "moved_since": None}, True, "not moved since"),
    ({**BURN, "owner_at_block": GONE, "owner_now": None, "moved_since": None}, True, "not moved since"),
    # ... or nothing can be said from this node: undecided (held), never rejected nor signed
    ({**LOCK, "owner_at_block": GONE, "owner_now": ALICE, "moved_since": None}, None, "no longer holds"),
    ({**LOCK, "owner_at_block": GONE, "owner_now": LOCKBOX, "moved_since": 40}, None, "moved again in block 40"),
    ({**BURN, "owner_at_block": GONE, "owner_now": ALICE, "moved_since": None}, None, "exists again"),
    ({**BURN, "owner_at_block": GONE, "owner_now": None, "moved_since": 40}, None, "moved again"),
    ({**LOCK, "owner_at_block": GONE, "owner_now": Unknown("node error"), "moved_since": None}, None,
     "cannot be read either"),
    ({**LOCK, "owner_at_block": GONE, "owner_now": LOCKBOX, "moved_since": Unknown("logs")}, None,
     "cannot be read either"),
])
def test_custody_from_the_state_at_the_block_or_else_from_the_current_state(kw, custody, note):
    got, why = judge_custody(**kw)
    assert got is custody
    assert note in why
    if isinstance(kw["owner_at_block"], Unknown):
        assert "is not available on this node" in why


def test_an_undecidable_departure_is_held_not_handled_and_the_scan_moves_on():
    ev = event(1, custody=True)
    held = type(ev)(ev.key, ev.block_number, ev.block_hash, ev.emitter, ev.message, None, "state gone")
    actions, nxt = plan(ScanBatch(10, 12, (held, event(2, block=11))), Checkpoint(10), frozenset(), route=ROUTE)
    assert kinds(actions) == ["Hold", "Attest"]
    assert isinstance(actions[0], Hold) and actions[0].reason == "state gone"
    assert held.key not in nxt.handled and nxt.next_block == 13
    # a look-alike is rejected at once, custody or not; a delivered transfer needs no custody
    look = type(ev)(ev.key, 10, ev.block_hash, "0x000000000000000000000000000000000000dEaD", ev.message, None)
    assert kinds(plan(ScanBatch(10, 10, (look,)), Checkpoint(10), frozenset(), route=ROUTE)[0]) == ["Reject"]
    done, _ = plan(ScanBatch(10, 10, (held,)), Checkpoint(10), frozenset({message(1).transfer_id}), route=ROUTE)
    assert kinds(done) == ["Skip"] and isinstance(done[0], Skip)


@pytest.mark.parametrize(("attempts", "wait", "stuck"), [
    (0, 5.0, False),
    (1, 5.0, False),
    (2, 10.0, False),
    (4, 40.0, False),
    (5, 80.0, True),     # stuck from the fifth look on ...
    (10, 2560.0, True),
    (11, 3600.0, True),  # ... and looked at hourly, never in a loop
    (500, 3600.0, True),
])
def test_held_departures_are_looked_at_with_a_doubling_pause_and_turn_stuck(attempts, wait, stuck):
    assert hold_schedule(attempts, base_s=5.0, max_wait_s=3600.0, stuck_after=5) == (wait, stuck)
