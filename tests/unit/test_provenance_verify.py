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
from record.provenance import verify_bundle
from record.provenance.verify import CANONICAL_DELIVER, CANONICAL_EVENTS, CANONICAL_SOURCES, fragment_text

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
    from record.provenance.verify import Verdict, _verify_creator

    bundle = copy.deepcopy(creator)
    _second_emitter(event)(bundle)
    if event == "IdentityUpdated":  # a second identity contract alongside the genuine one
        bundle["events"].insert(0, copy.deepcopy(_first(creator, "IdentityUpdated")))
    verdict = Verdict()
    _verify_creator(bundle, verdict)  # the receipt proofs would stop the rewritten log earlier
    assert not verdict.ok and verdict.first_break.what == what, verdict.first_break
    assert FOREIGN in verdict.first_break.detail


# -- the 'chainright verify' command -------------------------------------------------------------


def _verify_cli(path: Path, *options: str) -> Any:
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "chainright", "verify", str(path), *options],
                          capture_output=True, text=True, timeout=120)


def test_chainright_verify_says_when_the_owner_is_not_state_proven(creator, tmp_path):
    proven, unproven = tmp_path / "proven.json", tmp_path / "unproven.json"
    proven.write_text(json.dumps(creator))
    unproven.write_text(json.dumps({**creator, "state": {}}))
    identity = _first(creator, "IdentityUpdated")["address"]
    ok = _verify_cli(proven, "--identity-registry", identity)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "VERIFIED: " in ok.stdout and "was the owner at chain 31337 block" in ok.stdout
    assert "Not proven: that it still is" in ok.stdout  # no trusted head: never "the current owner"
    assert f"identity registry: emitted by {identity.lower()} (pinned)" in ok.stdout
    bare = _verify_cli(unproven)
    assert bare.returncode == 0, bare.stdout + bare.stderr
    assert "VERIFIED, but no owner is state-proven: the bundle carries no storage proofs" in bare.stdout
    wrong = _verify_cli(proven, "--rights-registry", FOREIGN)
    assert wrong.returncode == 1 and FOREIGN in wrong.stdout and "BROKEN at rights registry" in wrong.stdout


# -- 5. malformed bundles ---------------------------------------------------------------------


def _without(*path: str | int) -> Callable[[dict[str, Any]], None]:
    def mutate(b: dict[str, Any]) -> None:
        node: Any = b
        for key in path[:-1]:
            node = node[key] if not isinstance(node, dict) or key in node else node[str(key)]
        del node[path[-1]]
    return mutate


def _first_header(b: dict[str, Any]) -> dict[str, Any]:
    chain = b["headers"]["31337"]
    return dict(chain[min(chain, key=int)])


@pytest.mark.parametrize(("mutate", "named"), [
    (_without("events"), "'events'"),
    (_without("subject"), "'subject'"),
    (_without("subject", "token_id"), "'token_id'"),
    (_without("events", 0, "receipt"), "'receipt'"),
    (lambda b: b["headers"]["31337"][min(b["headers"]["31337"], key=int)].pop("receiptsRoot"),
     "'receiptsRoot'"),
    (lambda b: b["events"][0].update(args=None), "args"),
])
def test_a_malformed_bundle_is_named_not_a_traceback(creator, mutate, named):
    verdict = _tampered(creator, mutate)
    assert not verdict.ok and verdict.first_break.what == "bundle shape"
    assert named in verdict.first_break.detail


@pytest.mark.parametrize("text", ['{"format": "chainright-provenance-bundle/2", "subject": {}}', "not json",
                                  "[1, 2]"])
def test_chainright_verify_on_a_malformed_bundle_prints_one_line(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    result = _verify_cli(path)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and "re-export with 'chainright provenance export'" in lines[0], result.stdout
    assert "Traceback" not in result.stdout + result.stderr
