"""Bundles from an engine whose headers cannot be checked offline (our BFT chain: CometBFT block
hashes, IAVL state proofs). The bundle marks them in ``header_proofs``; the verifier must then
report what it could not check and never say VERIFIED, whoever wrote the mark: a forger who marks
an anvil chain's headers "not available" to skip their checks gains nothing."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from record.provenance import verify_bundle
from record.provenance.bundle import HEADERS_UNAVAILABLE, STATE_UNAVAILABLE

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
MARK = {"available": False, "engine": "bft", "reason": HEADERS_UNAVAILABLE}


@pytest.fixture(scope="module")
def creator() -> dict[str, Any]:
    return dict(json.loads((DATA / "provenance_creator_bundle.json").read_text()))


def _marked(bundle: dict[str, Any], *, state: bool = True) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    chain = str(out["subject"]["chain_id"])
    out["header_proofs"] = {chain: dict(MARK)}
    if not state:
        out["state"] = {chain: {"available": False, "reason": STATE_UNAVAILABLE}}
    return out


def _cli(tmp_path: Path, bundle: dict[str, Any], *options: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    return subprocess.run([sys.executable, "-m", "chainright", "verify", str(path), *options],
                          capture_output=True, text=True, timeout=120)


def _forge_headers(bundle: dict[str, Any]) -> None:
    """Rewrite every header's hash (and the events' block hashes with it): what an unchecked header
    lets a forger do; the receipts still prove against the roots."""
    chain = str(bundle["subject"]["chain_id"])
    for number, header in bundle["headers"][chain].items():
        header["hash"] = "0x" + f"{int(number) + 0xBAD:064x}"
        header["parentHash"] = "0x" + f"{int(number) - 1 + 0xBAD:064x}"
    for event in bundle["events"]:
        event["block_hash"] = bundle["headers"][chain][str(event["block_number"])]["hash"]


def test_a_marked_chain_is_listed_as_not_checked_and_not_fully_verified(creator):
    verdict = verify_bundle(_marked(creator, state=False))
    assert verdict.ok, verdict.first_break
    assert not verdict.fully_checked
    assert verdict.unavailable and "31337" in verdict.unavailable[0]
    assert not verdict.owner_proven  # the state proof is marked not available too
    assert any(c.what == "chain 31337: header proofs" and "not available on this engine (bft)" in c.detail
               for c in verdict.checks)


def test_unmarked_bundles_are_fully_checked_as_before(creator):
    verdict = verify_bundle(creator)
    assert verdict.fully_checked and not verdict.unavailable


@pytest.mark.parametrize("state", [True, False], ids=["with state proofs", "state not available"])
def test_chainright_verify_never_says_verified_for_a_marked_chain(creator, tmp_path, state):
    out = _cli(tmp_path, _marked(creator, state=state))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "VERIFIED" not in out.stdout
    assert "PARTLY CHECKED" in out.stdout
    assert "not checked (not available on this engine): chain 31337 (bft)" in out.stdout


def test_marking_headers_unavailable_does_not_launder_forged_headers(creator, tmp_path):
    forged = copy.deepcopy(creator)
    _forge_headers(forged)
    assert not verify_bundle(forged).ok  # unmarked: the header hashes break
    laundered = _marked(forged)
    verdict = verify_bundle(laundered)
    assert not verdict.fully_checked
    out = _cli(tmp_path, laundered)
    assert out.returncode != 0 and "VERIFIED" not in out.stdout, out.stdout


def test_a_trusted_head_cannot_anchor_a_marked_chain(creator, tmp_path):
    marked = _marked(creator)
    chain = marked["headers"]["31337"]
    last = max(chain, key=int)
    out = _cli(tmp_path, marked, "--trusted-head", f"{last}:{chain[last]['hash']}")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "BROKEN at chain 31337: trusted head" in out.stdout and "VERIFIED" not in out.stdout


def test_a_validator_set_cannot_be_checked_on_a_marked_chain(creator):
    verdict = verify_bundle(_marked(creator), validators={31337: {"0x" + "11" * 20}})
    assert not verdict.ok and verdict.first_break.what == "chain 31337: seal"


@pytest.mark.parametrize("marks", [
    {"31337": {"available": True}},  # not a "not available" mark: the headers are checked
    {"31337": {"reason": "no available key"}},
    {"1": dict(MARK)},  # a mark for a chain the bundle has no headers of
])
def test_anything_but_a_not_available_mark_for_the_chain_checks_its_headers(creator, marks):
    forged = copy.deepcopy(creator)
    _forge_headers(forged)
    forged["header_proofs"] = marks
    verdict = verify_bundle(forged)
    assert not verdict.ok and "header hash" in verdict.first_break.what


@pytest.mark.parametrize("marks", [[], "bft", {"31337": "not available"}])
def test_a_malformed_mark_is_a_malformed_bundle(creator, marks):
    verdict = verify_bundle({**creator, "header_proofs": marks})
    assert not verdict.ok and verdict.first_break.what == "bundle shape"
