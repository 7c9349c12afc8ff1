"""The offline verifier against real bundles (exported once from the integration tests' chains and
committed in tests/unit/data), tampered with the way a dishonest exporter could."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chain.artifacts import Artifacts
from chain.provenance import verify_bundle
from chain.provenance.verify import CANONICAL_DELIVER, CANONICAL_EVENTS, CANONICAL_SOURCES, fragment_text

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((DATA / f"provenance_{name}_bundle.json").read_text()))


@pytest.fixture(scope="module")
def creator() -> dict[str, Any]:
    return _load("creator")


@pytest.fixture(scope="module")
def bridge() -> dict[str, Any]:
    return _load("bridge")


def _tampered(bundle: dict[str, Any], mutate: Callable[[dict[str, Any]], Any], **kwargs: Any) -> Any:
    copied = copy.deepcopy(bundle)
    mutate(copied)
    return verify_bundle(copied, **kwargs)


def _first(bundle: dict[str, Any], event: str) -> dict[str, Any]:
    return next(e for e in bundle["events"] if e["event"] == event)


def test_the_committed_bundles_verify(creator, bridge):
    for bundle in (creator, bridge):
        verdict = verify_bundle(bundle)
        assert verdict.ok, verdict.first_break


# -- 1. event labels and fragments ------------------------------------------------------------


def test_the_canonical_table_is_what_the_contracts_declare():
    artifacts = Artifacts.load()
    assert set(CANONICAL_SOURCES) == set(CANONICAL_EVENTS)
    for name, contracts in CANONICAL_SOURCES.items():
        declared = {fragment_text(item) for c in contracts for item in artifacts.get(c).abi
                    if item.get("type") == "event" and item.get("name") == name}
        assert declared == {CANONICAL_EVENTS[name]}, name
    for contract in ("HomeLockbox", "RemoteBridge"):
        deliver = [fragment_text(i) for i in artifacts.get(contract).abi if i.get("name") == "deliver"]
        assert deliver == [CANONICAL_DELIVER]


def _approval_as_transfer(b: dict[str, Any]) -> None:
    """A genuine Approval(owner, approved, tokenId) log labelled Transfer, its fragment keeping the
    name (topic0 still matches) with the inputs renamed: the story would move the token."""
    entry = _first(b, "Approval")
    entry["event"] = "Transfer"
    renamed = {"owner": "from", "approved": "to"}
    for item in entry["abi"]["inputs"]:
        item["name"] = renamed.get(item["name"], item["name"])
    entry["args"] = {renamed.get(k, k): v for k, v in entry["args"].items()}


def _label_only(b: dict[str, Any]) -> None:
    _first(b, "Approval")["event"] = "Transfer"


def _renamed_rights_field(b: dict[str, Any]) -> None:
    entry = _first(b, "TokenLocked")
    for item in entry["abi"]["inputs"]:
        if item["name"] == "sender":
            item["name"] = "recipient"
        elif item["name"] == "recipient":
            item["name"] = "sender"
    args = entry["args"]
    args["sender"], args["recipient"] = args["recipient"], args["sender"]


def _renamed_deliver_field(b: dict[str, Any]) -> None:
    entry = _first(b, "TokenMinted")
    components = entry["call_abi"]["inputs"][0]["components"]
    components[7]["name"], components[8]["name"] = components[8]["name"], components[7]["name"]


@pytest.mark.parametrize(("mutate", "expected"), [
    (_approval_as_transfer, "event name"),
    (_label_only, "event name"),
    (_renamed_rights_field, "event ABI"),
    (_renamed_deliver_field, "bridge hop message"),
])
def test_a_relabelled_event_or_fragment_is_refused(bridge, mutate, expected):
    verdict = _tampered(bridge, mutate)
    assert not verdict.ok
    assert expected in verdict.first_break.what, verdict.first_break


# -- 2. the state proof cannot be switched off silently ------------------------------------------


def test_both_bundles_prove_the_owner(creator, bridge):
    for bundle in (creator, bridge):
        verdict = verify_bundle(bundle)
        assert verdict.owner_proven and verdict.owner_state == ""


@pytest.mark.parametrize("switch_off", [
    lambda b: b.update(state={}),
    lambda b: b.pop("state"),
    lambda b: b["state"]["31337"].update(available=False, reason="eth_getProof failed: method not found"),
])
def test_a_bundle_without_the_owner_proof_passes_but_is_not_owner_proven(creator, switch_off):
    verdict = _tampered(creator, switch_off)
    assert verdict.ok, verdict.first_break
    assert not verdict.owner_proven
    assert "proof" in verdict.owner_state


def test_an_available_proof_of_no_account_fails(creator):
    verdict = _tampered(creator, lambda b: b["state"]["31337"].update(accounts=[]))
    assert not verdict.ok and "proves no account" in verdict.first_break.detail


def test_the_layout_comes_from_the_story_not_the_contract_label(creator):
    def relabel(b: dict[str, Any]) -> None:
        for e in b["events"]:
            e["contract"] = "SomethingElse"

    verdict = _tampered(creator, relabel)
    assert verdict.ok and verdict.owner_proven, verdict.first_break


def test_a_proof_taken_before_the_last_event_fails(bridge):
    def earlier(b: dict[str, Any]) -> None:
        state = b["state"]["31337"]
        state["block_number"] = min(int(n) for n in b["headers"]["31337"])

    verdict = _tampered(bridge, earlier)
    assert not verdict.ok and "state proof block" in verdict.first_break.what, verdict.first_break


# -- 3. identity, escrow and registration evidence is pinned to one contract -------------------

FOREIGN = "0x" + "ab" * 20


def test_the_verdict_names_the_registries(creator):
    verdict = verify_bundle(creator)
    identity = _first(creator, "IdentityUpdated")["address"].lower()
    rights = _first(creator, "RightsRegistered")["address"].lower()
    kyc = next(c for c in verdict.checks if c.what == "creator KYC at registration")
    assert f"identity registry {identity}" in kyc.detail
    assert any(c.what == "rights registry" and rights in c.detail for c in verdict.checks)
    pinned = verify_bundle(creator, identity_registry=identity, rights_registry=rights)
    assert pinned.ok, pinned.first_break


@pytest.mark.parametrize(("pin", "what"), [
    ({"identity_registry": FOREIGN}, "identity registry"),
    ({"rights_registry": FOREIGN}, "rights registry"),
])
def test_a_pinned_registry_that_does_not_match_fails_naming_both(creator, pin, what):
    verdict = verify_bundle(creator, **pin)
    assert not verdict.ok and verdict.first_break.what == what
    assert FOREIGN in verdict.first_break.detail and "come from 0x" in verdict.first_break.detail


def _second_emitter(event: str) -> Callable[[dict[str, Any]], None]:
    """Another contract's event in the bundle: simulated by claiming another emitter for a copy of
    a genuine log (the receipt is rewritten too, so the emitter check is not what stops it)."""
    def mutate(b: dict[str, Any]) -> None:
        entry = _first(b, event)
        entry["address"] = FOREIGN
        entry["receipt"]["logs"][entry["log_position"]]["address"] = FOREIGN
    return mutate


@pytest.mark.parametrize(("event", "what"), [
    ("IdentityUpdated", "identity registry"), ("MilestoneReleased", "escrow contract"),
])
def test_evidence_from_a_second_contract_fails(creator, event, what):
    from chain.provenance.verify import Verdict, _verify_creator

    bundle = copy.deepcopy(creator)
    _second_emitter(event)(bundle)
    if event == "IdentityUpdated":  # a second identity contract alongside the genuine one
        bundle["events"].insert(0, copy.deepcopy(_first(creator, "IdentityUpdated")))
    verdict = Verdict()
    _verify_creator(bundle, verdict)  # the receipt proofs would stop the rewritten log earlier
    assert not verdict.ok and verdict.first_break.what == what, verdict.first_break
    assert FOREIGN in verdict.first_break.detail
