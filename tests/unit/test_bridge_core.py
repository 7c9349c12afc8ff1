"""Table tests of the relayer's pure decisions: what a validator attests, where its checkpoint goes,
where a restart re-scans from, and what the submitter delivers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bridge.core import (
    Attest,
    Attestation,
    Checkpoint,
    Deliver,
    Done,
    EventKey,
    Reject,
    Route,
    ScanBatch,
    Skip,
    SourceEvent,
    Wait,
    next_range,
    plan,
    plan_deliveries,
    scan_start,
)
from bridge.message import BridgeMessage, Rights, recover_signer, sign_digest, transfer_id
from chain.blocks import BlockRange
from chain.devaccounts import dev_account

pytestmark = pytest.mark.unit

HOME, REMOTE = 31337, 31338
LOCKBOX = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
BRIDGE = "0x0165878A594ca255338adfa4d48449f69242Eb8F"
LOOKALIKE = "0x000000000000000000000000000000000000dEaD"
ROUTE = Route(HOME, LOCKBOX, REMOTE, BRIDGE)
COLLECTION = "0x9762f229Fd51C6bc1F82bCcB99897135FE890E73"
ALICE = dev_account(2).address
RIGHTS = Rights("ipfs://b" + "a" * 58, bytes(36), b"\x01" * 32, ALICE, 500, b"\x00" * 32, b"\x02" * 32)


def message(nonce: int, **changes: object) -> BridgeMessage:
    m = BridgeMessage(HOME, REMOTE, LOCKBOX, BRIDGE, transfer_id(HOME, LOCKBOX, nonce), COLLECTION, nonce, ALICE,
                      ALICE, RIGHTS)
    return replace(m, **changes)  # type: ignore[arg-type]


def event(nonce: int, *, block: int = 10, log_index: int = 0, tx: str | None = None, emitter: str = LOCKBOX,
          custody: bool = True, chain_id: int = HOME, msg: BridgeMessage | str | None = "default") -> SourceEvent:
    tx_hash = tx or f"0x{nonce:064x}"
    return SourceEvent(EventKey(chain_id, tx_hash, log_index), block, f"0x{block:064x}", emitter,
                       message(nonce) if msg == "default" else msg, custody,  # type: ignore[arg-type]
                       "" if custody else "no transfer into the lockbox")


def kinds(actions: list[object]) -> list[str]:
    return [type(a).__name__ for a in actions]


# ---------------------------------------------------------------- plan


def test_verified_departures_are_attested_in_chain_order_and_the_checkpoint_moves_past_the_range():
    batch = ScanBatch(10, 20, (event(2, block=15), event(1, block=12)))
    actions, nxt = plan(batch, Checkpoint(10), frozenset(), route=ROUTE)
    assert kinds(actions) == ["Attest", "Attest"]
    assert [a.message.nonce for a in actions if isinstance(a, Attest)] == [1, 2]
    assert nxt.next_block == 21 and nxt.handled == {event(1).key, event(2).key}


@pytest.mark.parametrize(("ev", "reason"), [
    (event(1, emitter=LOOKALIKE), "not the source endpoint"),                 # look-alike contract
    (event(1, custody=False), "custody not verified"),                         # no token moved
    (event(1, msg=None), "does not decode"),
    (event(1, chain_id=REMOTE), "not 31337"),
    (event(1, msg=message(1, dest_chain_id=99)), "not 31337->31338"),          # another destination chain
    (event(1, msg=message(1, dest_bridge=LOOKALIKE)), "not 31337->31338"),     # another bridge deployment
    (event(1, msg=message(1, source_bridge=LOOKALIKE)), "not 31337->31338"),
    (event(1, msg=message(1, transfer_id=transfer_id(HOME, BRIDGE, 1))), "does not encode"),
    (event(1, msg=message(1, transfer_id=transfer_id(HOME, LOCKBOX, 1) - 1)), "does not encode"),  # nonce 0
])
def test_departures_that_are_not_what_they_claim_are_rejected(ev, reason):
    actions, nxt = plan(ScanBatch(10, 10, (ev,)), Checkpoint(10), frozenset(), route=ROUTE)
    assert kinds(actions) == ["Reject"]
    assert isinstance(actions[0], Reject) and reason in actions[0].reason
    assert nxt.next_block == 11  # a rejected event is still handled: the scan moves on


def test_an_event_already_handled_before_a_restart_produces_nothing():
    seen = event(1, block=10)
    actions, nxt = plan(ScanBatch(5, 12, (seen, event(2, block=11))), Checkpoint(13, frozenset({seen.key})),
                        frozenset(), route=ROUTE)
    assert kinds(actions) == ["Attest"] and actions[0].event.key == event(2, block=11).key
    assert nxt.next_block == 13  # the re-scan window never moves the checkpoint back


def test_duplicate_logs_in_one_batch_are_handled_once():
    actions, _ = plan(ScanBatch(10, 10, (event(1), event(1))), Checkpoint(10), frozenset(), route=ROUTE)
    assert kinds(actions) == ["Attest"]


def test_a_delivered_transfer_is_skipped():
    actions, _ = plan(ScanBatch(10, 10, (event(1),)), Checkpoint(10), frozenset({message(1).transfer_id}),
                      route=ROUTE)
    assert kinds(actions) == ["Skip"] and isinstance(actions[0], Skip)
    assert actions[0].reason == "already delivered"


def test_an_empty_range_only_moves_the_checkpoint():
    assert plan(ScanBatch(10, 30), Checkpoint(10), frozenset(), route=ROUTE) == ([], Checkpoint(31))


# ---------------------------------------------------------------- scanning


@pytest.mark.parametrize(("checkpoint", "deploy_block", "rescan", "expected"), [
    (None, 7, 64, 7),       # first start: from the endpoint's deployment
    (100, 7, 64, 36),       # restart: a bounded window before the checkpoint
    (20, 7, 64, 7),         # never before the deployment
    (100, 7, 0, 100),       # no re-scan
])
def test_scan_start(checkpoint, deploy_block, rescan, expected):
    assert scan_start(checkpoint, deploy_block, rescan) == expected


@pytest.mark.parametrize(("cursor", "head", "confirmations", "batch", "expected"), [
    (10, 20, 0, 100, BlockRange(10, 20)),
    (10, 20, 3, 100, BlockRange(10, 17)),    # only blocks `confirmations` deep
    (18, 20, 3, 100, None),                  # a lock in block 18 is not final yet: not even read
    (10, 20, 0, 5, BlockRange(10, 14)),
])
def test_next_range(cursor, head, confirmations, batch, expected):
    assert next_range(cursor, head, confirmations, batch) == expected


# ---------------------------------------------------------------- deliveries

V = sorted((dev_account(i) for i in (10, 11, 12)), key=lambda a: int(a.address, 16))
VALIDATORS = [v.address for v in V]


def att(account, m: BridgeMessage, *, claim: str | None = None) -> Attestation:  # type: ignore[no-untyped-def]
    return Attestation(claim or account.address, m, sign_digest(m.digest(), account.key))


def test_a_transfer_with_m_matching_attestations_is_delivered_with_sorted_signatures():
    m = message(1)
    out = plan_deliveries([m.transfer_id], {m.transfer_id: [att(V[2], m), att(V[0], m), att(V[1], m)]},
                          VALIDATORS, 2, frozenset())
    assert len(out) == 1 and isinstance(out[0], Deliver)
    signers = [recover_signer(m.digest(), s) for s in out[0].signatures]
    assert signers == VALIDATORS[:2] and out[0].message == m


@pytest.mark.parametrize(("atts", "reason"), [
    (lambda m: [att(V[0], m)], "1 of 2"),                                              # M-1
    (lambda m: [att(V[0], m), att(V[0], m)], "1 of 2"),                                # one signer twice
    (lambda m: [att(V[0], m), att(dev_account(9), m)], "1 of 2"),                      # not a validator
    (lambda m: [att(V[0], m), att(dev_account(9), m, claim=V[1].address)], "1 of 2"),  # forged claim
    (lambda m: [att(V[0], m), att(V[1], replace(m, recipient=V[2].address))], "1 of 2"),  # other digest
    (lambda m: [], "0 of 2"),
])
def test_a_transfer_waits_until_m_current_validators_signed_the_same_digest(atts, reason):
    m = message(1)
    out = plan_deliveries([m.transfer_id], {m.transfer_id: atts(m)}, VALIDATORS, 2, frozenset())
    assert out == [Wait(m.transfer_id, f"{reason} attestations")]


def test_a_removed_validator_no_longer_counts():
    m = message(1)
    out = plan_deliveries([m.transfer_id], {m.transfer_id: [att(V[0], m), att(V[1], m)]}, VALIDATORS[:1] +
                          VALIDATORS[2:], 2, frozenset())
    assert out == [Wait(m.transfer_id, "1 of 2 attestations")]


def test_processed_and_in_flight_transfers_are_not_delivered_again():
    a, b = message(1), message(2)
    atts = {a.transfer_id: [att(V[0], a), att(V[1], a)], b.transfer_id: [att(V[0], b), att(V[1], b)]}
    out = plan_deliveries([b.transfer_id, a.transfer_id], atts, VALIDATORS, 2, frozenset({a.transfer_id}),
                          frozenset({b.transfer_id}))
    assert out == [Done(a.transfer_id, "processed at the destination"),
                   Wait(b.transfer_id, "a delivery is in flight")]
