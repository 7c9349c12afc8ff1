"""Forged provenance bundles, made the way an attacker would: by editing honest bundles (the
committed ones in tests/unit/data) so that every header, receipt proof and state proof stays
genuine. VERIFIED must then fail, or say no more than the bundle proves.

- which work: a token verifies only as the registered work its own mint names (item 10)
- completeness: a log about the token in a proven transaction cannot be left out (item 12)
- time: the owner is proven at a block, "current" only at a trusted head (item 11)

Chain-level versions (another creator's registration, a sale cut off, an OrderFilled dropped)
are in tests/integration/test_provenance_forgeries.py."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from chain.artifacts import Artifacts
from record.provenance import verify_bundle
from record.provenance.token_events import TOKEN_EVENT_ABIS
from record.provenance.verify import (
    TrustedHead,
    Verdict,
    _verify_complete,
    _verify_story,
    _verify_work,
    fragment_text,
)

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
FOREIGN = "0x" + "ab" * 20
OTHER_HASH = "0x" + "cd" * 32


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((DATA / f"provenance_{name}_bundle.json").read_text()))


@pytest.fixture(scope="module")
def creator() -> dict[str, Any]:
    return _load("creator")


@pytest.fixture(scope="module")
def bridge() -> dict[str, Any]:
    return _load("bridge")


def _edited(bundle: dict[str, Any], mutate: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    copied = copy.deepcopy(bundle)
    mutate(copied)
    return copied


def _first(bundle: dict[str, Any], event: str) -> dict[str, Any]:
    return next(e for e in bundle["events"] if e["event"] == event)


def _drop(*events: str, state: bool = True) -> Callable[[dict[str, Any]], None]:
    def mutate(b: dict[str, Any]) -> None:
        b["events"] = [e for e in b["events"] if e["event"] not in events]
        if not state:
            b["state"] = {}
    return mutate


def _registry(bundle: dict[str, Any]) -> str:
    return str(_first(bundle, "RightsRegistered")["address"])


# -- 10. the bundle proves which registered work THIS token is --------------------------------------


@pytest.mark.parametrize("name", ["creator", "bridge"])
@pytest.mark.parametrize("mutate", [
    _drop("WorkMinted"),
    _drop("WorkMinted", state=False),
    _drop("RightsRegistered", state=False),
    _drop("WorkMinted", "RightsRegistered", state=False),
], ids=["no WorkMinted", "no WorkMinted, no state", "no registration, no state", "neither, no state"])
def test_a_bundle_without_the_mint_as_a_registered_work_does_not_verify(name, mutate):
    bundle = _load(name)
    verdict = verify_bundle(_edited(bundle, mutate), rights_registry=_registry(bundle))
    assert not verdict.ok, "a bundle that does not show which work the token is verified"


def _set(event: str, **args: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(b: dict[str, Any]) -> None:
        _first(b, event)["args"].update(args)
    return mutate


def _moved_to_another_tx(event: str) -> Callable[[dict[str, Any]], None]:
    def mutate(b: dict[str, Any]) -> None:
        _first(b, event)["tx_index"] += 1
    return mutate


def _extra(event: str, **args: Any) -> Callable[[dict[str, Any]], None]:
    """A second, genuine-looking record (another work's, another creator's) carried along."""
    def mutate(b: dict[str, Any]) -> None:
        entry = copy.deepcopy(_first(b, "RightsRegistered"))
        entry["event"] = event
        entry["args"].update(args)
        entry["log_index"] += 100
        b["events"].append(entry)
    return mutate


def _subject(**fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda b: b["subject"].update(fields)


@pytest.mark.parametrize(("mutate", "named"), [
    (_set("RightsRegistered", collection=FOREIGN), "work: registration"),
    (_set("RightsRegistered", tokenId=7), "work: registration"),
    (_set("RightsRegistered", contentHash=OTHER_HASH), "work"),
    (_set("WorkMinted", contentHash=OTHER_HASH), "work"),
    (_set("WorkMinted", workId=7), "work: WorkMinted"),
    (_set("WorkMinted", quantity=0), "work: WorkMinted"),
    (_moved_to_another_tx("WorkMinted"), "work: WorkMinted"),
    (_moved_to_another_tx("RightsRegistered"), "work: registration"),
    (_drop("WorkMinted"), "work: WorkMinted"),
    (_drop("RightsRegistered"), "work: registration"),
    (_extra("RightsBound", contentHash=OTHER_HASH), "work"),
    (_extra("RightsRegistered", contentHash=OTHER_HASH, collection="0x" + "00" * 20, tokenId=0), "work"),
    (_extra("RightsRegistered", creator=FOREIGN), "work"),
    (_extra("RightsBound", collection=FOREIGN), "work"),
    (_subject(token_id=99), "work: mint"),
    (_subject(collection=FOREIGN), "work: mint"),
    (_subject(chain_id=1), "work: mint"),
])
def test_the_registration_must_name_this_tokens_collection_work_and_content(creator, mutate, named):
    """The work check alone (the proofs would stop a rewritten log earlier): the class of a
    registration, a mint record or a subject that is not this token's work."""
    verdict = Verdict()
    assert _verify_work(_edited(creator, mutate), verdict) is None
    assert not verdict.ok and verdict.first_break.what.endswith(named), verdict.first_break


def test_a_work_registered_before_its_mint_is_bound_by_the_mint(creator):
    """RightsBound in the mint's transaction, after a RightsRegistered with no collection yet."""
    def bound(b: dict[str, Any]) -> None:
        registered = _first(b, "RightsRegistered")
        early = copy.deepcopy(registered)
        early.update(block_number=registered["block_number"] - 1, tx_index=0, log_index=0)
        early["args"].update(collection="0x" + "00" * 20, tokenId=0)
        registered["event"] = "RightsBound"
        b["events"].insert(0, early)

    verdict = Verdict()
    assert _verify_work(_edited(creator, bound), verdict) is not None, verdict.first_break


def test_the_content_file_is_checked_against_the_tokens_work_only(creator):
    verdict = verify_bundle(creator, content=b"some other file")
    assert not verdict.ok and verdict.first_break.what == "content hash"
    assert verdict.work is not None and verdict.work["content_hash"] in verdict.first_break.detail


# -- 12. every log about the token in a proven transaction is in the story ---------------------------


def _droppable(bundle: dict[str, Any]) -> list[int]:
    """Entries whose transaction carries another entry: dropping one leaves a proven receipt."""
    txs = [(e["chain_id"], e["block_number"], e["tx_index"]) for e in bundle["events"]]
    return [i for i, tx in enumerate(txs) if txs.count(tx) > 1]


@pytest.mark.parametrize("name", ["creator", "bridge"])
def test_dropping_any_log_of_a_proven_transaction_fails(name):
    bundle = _load(name)
    droppable = _droppable(bundle)
    assert len(droppable) >= 3
    for i in droppable:
        edited = copy.deepcopy(bundle)
        dropped = edited["events"].pop(i)
        verdict = verify_bundle(edited)
        assert not verdict.ok, f"dropping {dropped['event']} (entry {i}) still verifies"
        alone = Verdict()
        visited: set[Any] = set()
        _verify_story(bundle, Verdict(), visited)  # the honest story's tokens
        _verify_complete(edited, alone, visited, int(bundle["subject"]["token_id"]))
        assert not alone.ok and "completeness" in alone.first_break.what, (dropped["event"], alone.first_break)
        assert dropped["event"] in alone.first_break.detail


def _order_filled_log(collection: str, token_id: int) -> dict[str, Any]:
    fragment = next(f for f in TOKEN_EVENT_ABIS if f["name"] == "OrderFilled")
    topic0 = "0x" + keccak(text="OrderFilled(bytes32,address,address,uint8,address,uint256,uint256,uint256,"
                                "address,address,uint256,uint256)").hex()
    plain = [i for i in fragment["inputs"] if not i["indexed"]]
    values = {"side": 0, "token": collection, "tokenId": token_id, "amount": 1, "unitPrice": 10**18,
              "currency": "0x" + "00" * 20, "royaltyReceiver": FOREIGN, "royalty": 5 * 10**16, "fee": 10**16}
    data = abi_encode([i["type"] for i in plain], [values[i["name"]] for i in plain])
    return {"address": FOREIGN, "topics": [topic0, "0x" + "11" * 32, "0x" + "00" * 12 + "22" * 20,
                                           "0x" + "00" * 12 + "33" * 20], "data": "0x" + data.hex()}


@pytest.mark.parametrize("token_id_of", [lambda t: t, lambda t: t + 1])
def test_a_sale_in_a_proven_receipt_must_be_in_the_story(bridge, token_id_of):
    """An OrderFilled (token id in its data, not a topic) in the receipt of a listed transfer; one
    about another token of the collection is not the story's."""
    bundle = copy.deepcopy(bridge)
    transfer = [e for e in bundle["events"] if e["event"] == "Transfer"][1]
    token_id = int(bundle["subject"]["token_id"])
    transfer["receipt"]["logs"].append(_order_filled_log(bundle["subject"]["collection"], token_id_of(token_id)))
    verdict, visited = Verdict(), set()
    _verify_story(bridge, Verdict(), visited)
    _verify_complete(bundle, verdict, visited, token_id)
    if token_id_of(token_id) == token_id:
        assert not verdict.ok and "OrderFilled" in verdict.first_break.detail, verdict.first_break
    else:
        assert verdict.ok, verdict.first_break


def test_the_same_log_listed_twice_fails(creator):
    bundle = copy.deepcopy(creator)
    bundle["events"].append(copy.deepcopy(_first(bundle, "UpdateUser")))
    verdict = Verdict()
    _verify_complete(bundle, verdict, set(), 1)
    assert not verdict.ok and "listed twice" in verdict.first_break.detail


def test_the_verdict_states_what_completeness_the_blooms_prove(creator, bridge):
    for bundle in (creator, bridge):
        verdict = verify_bundle(bundle)
        assert verdict.ok, verdict.first_break
        assert any(c.what == "completeness of the proven transactions" for c in verdict.checks)
        assert any("logsBloom rules out" in line for line in verdict.completeness)
        assert any("proven absent only within the proven transactions" in line for line in verdict.completeness)


def test_the_token_events_table_is_what_the_contracts_declare():
    artifacts = Artifacts.load()
    declared = {fragment_text(item) for name in artifacts.names()
                if not name.startswith(("Test", "MktTest", "I"))
                for item in artifacts.get(name).abi
                if item.get("type") == "event"
                and {i["name"] for i in item["inputs"]} & {"tokenId", "id", "workId", "wrappedTokenId", "fromTokenId"}}
    assert {fragment_text(f) for f in TOKEN_EVENT_ABIS} == declared


# -- 11. the owner is proven at a block; "current" only at a trusted head ------------------------


def _last_header(bundle: dict[str, Any], chain_id: str = "31337") -> tuple[int, str]:
    chain = bundle["headers"][chain_id]
    number = max(chain, key=int)
    return int(number), str(chain[number]["hash"])


def test_the_owner_is_proven_at_a_block_and_not_current_without_a_head(creator):
    verdict = verify_bundle(creator)
    assert verdict.ok and verdict.owner_proven
    assert not verdict.owner_current
    assert verdict.owner_at is not None and verdict.owner_at["block"] == creator["state"]["31337"]["block_number"]
    assert any("no trusted head" in line for line in verdict.unpinned)


def test_a_trusted_head_at_the_proof_makes_the_owner_current(creator):
    block, hash_ = _last_header(creator)
    verdict = verify_bundle(creator, trusted_heads=[TrustedHead(block, hash_.upper().replace("0X", "0x"))])
    assert verdict.ok, verdict.first_break
    assert verdict.owner_current and verdict.owner_at["head"]["block"] == block
    assert any(hash_.lower() in line for line in verdict.pinned)


@pytest.mark.parametrize(("head", "says"), [
    (lambda b, h: TrustedHead(h[0], "0x" + "99" * 32), "not those of the chain"),  # a look-alike chain
    (lambda b, h: TrustedHead(h[0] + 5, h[1]), "not shown to reach it"),  # the story stops short
    (lambda b, h: TrustedHead(h[0] - 1, str(b["headers"]["31337"][str(h[0] - 1)]["hash"])), "after the trusted head"),
    (lambda b, h: TrustedHead(h[0], h[1], chain_id=31338), "not shown to reach it"),
])
def test_a_head_the_bundle_does_not_link_to_fails(creator, head, says):
    verdict = verify_bundle(creator, trusted_heads=[head(creator, _last_header(creator))])
    assert not verdict.ok and "trusted head" in verdict.first_break.what, verdict.first_break
    assert says in verdict.first_break.detail
    assert not verdict.owner_current


def test_a_head_on_the_other_chain_anchors_its_headers(bridge):
    block, hash_ = _last_header(bridge, "31338")
    verdict = verify_bundle(bridge, trusted_heads=[TrustedHead(block, hash_, chain_id=31338)])
    assert verdict.ok, verdict.first_break
    assert not verdict.owner_current  # the owner is on chain 31337, which has no head


@pytest.mark.parametrize(("late", "ok"), [(10, True), (10**6, False)])
def test_max_age_bounds_how_old_the_owner_proof_is(creator, late, ok):
    proven_at = int(creator["headers"]["31337"][str(creator["state"]["31337"]["block_number"])]["timestamp"], 16)
    verdict = verify_bundle(creator, now=proven_at + late, max_age=3600)
    assert verdict.ok is ok, verdict.first_break
    assert any(c.what == "freshness" for c in verdict.checks)


def test_max_age_fails_when_no_proof_dates_the_owner(creator):
    verdict = verify_bundle({**creator, "state": {}}, now=2**40, max_age=3600)
    assert not verdict.ok and verdict.first_break.what == "freshness"


# -- the command ---------------------------------------------------------------------------------


def _verify_cli(path: Path, *options: str) -> Any:
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "chainright", "verify", str(path), *options],
                          capture_output=True, text=True, timeout=120)


def test_chainright_verify_dates_the_owner_and_checks_a_trusted_head(creator, tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(creator))
    block, hash_ = _last_header(creator)
    plain = _verify_cli(path)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "current" not in plain.stdout.split("VERIFIED")[-1]
    assert f"was the owner at chain 31337 block {block} ({hash_}" in plain.stdout
    assert f"the bundle's last header on chain 31337: block {block} {hash_}" in plain.stdout
    assert "not pinned: chain 31337: no trusted head" in plain.stdout
    headed = _verify_cli(path, "--trusted-head", f"{block}:{hash_}", "--rights-registry", _registry(creator))
    assert headed.returncode == 0, headed.stdout + headed.stderr
    assert f"is the owner at the trusted head, chain 31337 block {block}" in headed.stdout
    assert f"pinned: chain 31337: head block {block} {hash_}" in headed.stdout
    assert f"pinned: rights registry {_registry(creator).lower()}" in headed.stdout
    wrong = _verify_cli(path, "--trusted-head", f"31337:{block}:0x{'99' * 32}")
    assert wrong.returncode == 1 and "BROKEN at chain 31337: trusted head" in wrong.stdout
    bad = _verify_cli(path, "--trusted-head", "latest")
    assert bad.returncode != 0 and "[CHAIN_ID:]BLOCK:HASH" in bad.stdout + bad.stderr
