"""Provenance on real anvils: a story (registration, mint, two transfers, a license) is indexed,
bundled with headers, receipts and receipt proofs, and verified offline; then each part of the
bundle is tampered with in turn and the verifier rejects every one, naming the break."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest

from chain.cid import cid_to_bytes, raw_cid
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.rpc import rpc_call
from chain.settings import ChainSettings
from chain.tx import TxSender
from record.index import EventDecoder, Indexer, IndexStore
from record.index.service import CHILD_RULES
from record.provenance import build_bundle, story_rows, verify_bundle

pytestmark = pytest.mark.integration

CREATOR, BUYER, SECOND, LICENSEE = dev_account(1), dev_account(2), dev_account(3), dev_account(4)
WORK = b"provenance test work"


@pytest.fixture(scope="module")
def story(two_chains: ChainSettings, artifacts, tmp_path_factory):
    from api.db import Database

    deploy_to_chains(two_chains, two_chains.specs("home"))
    spec = two_chains.spec("home")
    web3 = connect(spec)
    registry = DeploymentRegistry(two_chains.deployments_file)

    def contract(name: str, address: str | None = None):
        return web3.eth.contract(address=address or registry.address(31337, name),
                                 abi=artifacts.get(name).abi)

    creator = TxSender(web3, CREATOR)
    factory = contract("CollectionFactory")
    salt = hashlib.sha256(b"provenance-salt").digest()
    zero = "0x" + "00" * 20
    creator.transact(creator.call_tx(factory.functions.createCollection(
        ("Prov", "PRV", CREATOR.address, CREATOR.address, 500, zero, False), salt)))
    collection = contract("CreatorCollection", factory.functions.predictCollectionAddress(CREATOR.address, salt).call())
    content_hash = hashlib.sha256(WORK).digest()
    creator.transact(creator.call_tx(collection.functions.mintWork(
        CREATOR.address, content_hash, cid_to_bytes(raw_cid(WORK)))))
    token_id = collection.functions.totalSupply().call()
    creator.transact(creator.call_tx(collection.functions.transferFrom(CREATOR.address, BUYER.address, token_id)))
    buyer = TxSender(web3, BUYER)
    buyer.transact(buyer.call_tx(collection.functions.transferFrom(BUYER.address, SECOND.address, token_id)))
    licensing = contract("Licensing")
    terms = (True, False, True, False, False, 0, 3600, 10**15, [], "bafkreilegal")
    owner = TxSender(web3, SECOND)
    owner.transact(owner.call_tx(licensing.functions.publishTerms(terms)))
    terms_hash = licensing.functions.hashTerms(terms).call()
    owner.transact(owner.call_tx(licensing.functions.attachTerms(collection.address, token_id, terms_hash)))
    licensee = TxSender(web3, LICENSEE)
    licensee.transact(licensee.call_tx(licensing.functions.buyLicense(collection.address, token_id, terms_hash),
                                       ) | {"value": 10**15})

    db = Database(f"sqlite:///{tmp_path_factory.mktemp('prov') / 'index.db'}")
    db.migrate()
    store = IndexStore(db.engine)
    decoder = EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()})
    indexer = Indexer(web3, 31337, store, decoder, rules=CHILD_RULES)
    indexer.watch((d.address, d.artifact or d.contract, d.block) for d in registry.for_chain(31337).values())
    indexer.run_until_caught_up()
    with db.engine.connect() as conn:
        rows = story_rows(conn, 31337, collection.address, token_id, work_id=token_id)
    bundle = build_bundle({"chain_id": 31337, "collection": collection.address, "token_id": token_id},
                          rows, {31337: lambda m, p: rpc_call(spec.rpc_url, m, p)},
                          {n: artifacts.get(n).abi for n in artifacts.names()})
    return bundle, rows, db, collection.address, token_id


def test_the_story_has_every_kind_of_event_oldest_first(story):
    rows = story[1]
    events = [r["event"] for r in rows]
    assert events.count("Transfer") == 3  # mint + two sales
    assert "RightsRegistered" in events and "WorkMinted" in events
    assert "LicenseTermsAttached" in events and "LicenseGranted" in events
    assert [(r["block_number"], r["log_index"]) for r in rows] == sorted((r["block_number"], r["log_index"]) for r in rows)


def test_bundle_verifies_offline_with_the_content(story):
    bundle = story[0]
    text = json.dumps(bundle)  # the bundle is plain JSON
    verdict = verify_bundle(json.loads(text), content=WORK)
    assert verdict.ok, verdict.first_break
    assert any(c.what == "story" and SECOND.address in c.detail for c in verdict.checks)
    owner = next(c for c in verdict.checks if "state proof of the owner" in c.what)
    assert owner.ok and owner.detail.lower().count(SECOND.address.lower()) == 2


def _tampered(bundle, mutate):
    copied = copy.deepcopy(bundle)
    mutate(copied)
    return verify_bundle(copied, content=WORK)


def _transfer_index(bundle, n):
    return [i for i, e in enumerate(bundle["events"]) if e["event"] == "Transfer"][n]


def _flip_receipt_byte(b):
    e = b["events"][0]["receipt"]
    e["cumulativeGasUsed"] = hex(int(e["cumulativeGasUsed"], 16) + 1)


def _flip_log_field(b):
    i = _transfer_index(b, 1)
    b["events"][i]["args"]["to"] = LICENSEE.address


def _forge_log_data_and_receipt(b):
    i = _transfer_index(b, 1)
    log = b["events"][i]["receipt"]["logs"][b["events"][i]["log_position"]]
    log["topics"][2] = "0x" + "00" * 12 + LICENSEE.address[2:].lower()


def _flip_header(b):
    chain = b["headers"]["31337"]
    first = sorted(chain, key=int)[0]
    chain[first]["gasUsed"] = hex(int(chain[first]["gasUsed"], 16) + 1)


def _drop_transfer(b):
    del b["events"][_transfer_index(b, 1)]


def _break_link(b):
    chain = b["headers"]["31337"]
    numbers = sorted(chain, key=int)
    del chain[numbers[len(numbers) // 2]]


@pytest.mark.parametrize(("mutate", "expected"), [
    (_flip_receipt_byte, "receipt proof"),
    (_flip_log_field, "arguments"),
    (_forge_log_data_and_receipt, "receipt proof"),
    (_flip_header, "header hash"),
    (_drop_transfer, "transfer chain"),
    (_break_link, "parent link"),
])
def test_every_tampering_is_rejected_naming_the_break(story, mutate, expected):
    bundle = story[0]
    verdict = _tampered(bundle, mutate)
    assert not verdict.ok
    assert expected in verdict.first_break.what, verdict.first_break


def test_a_different_file_does_not_match_the_registered_hash(story):
    bundle = story[0]
    verdict = verify_bundle(bundle, content=b"not the work")
    assert not verdict.ok and verdict.first_break.what == "content hash"


def test_api_serves_the_story_and_a_bundle_that_verifies(story, two_chains, tmp_path):
    from fastapi.testclient import TestClient

    from api import create_app
    from api.settings import ApiSettings

    _, _, db, collection, token_id = story
    app = create_app(ApiSettings(environment="test", data_dir=tmp_path), db=db, chain_settings=two_chains)
    client = TestClient(app, raise_server_exceptions=False)
    r = client.get(f"/provenance/31337/{collection}/{token_id}")
    assert r.status_code == 200, r.text
    body = r.json()
    events = [e["event"] for e in body["entries"]]
    # The creator's KYC evidence (identity events on this shared chain, if any) comes before the mint.
    moves = [e for e in events if not e.startswith("Identity")]
    assert moves[0] == "Transfer" and {"RightsRegistered", "WorkMinted", "LicenseGranted"} <= set(events)
    assert body["content_hash"] == "0x" + hashlib.sha256(WORK).hexdigest()
    assert "not available" in body["content_check"]  # the work was never uploaded to this API
    r = client.get(f"/provenance/31337/{collection}/{token_id}/bundle")
    assert r.status_code == 200
    assert verify_bundle(r.json(), content=WORK).ok
    missing = client.get(f"/provenance/31337/{collection}/999999")
    assert missing.status_code == 404 and "indexer" in missing.json()["detail"]


def test_chainright_verify_prints_a_verdict_and_fails_on_a_break(story, tmp_path):
    import subprocess

    bundle = story[0]
    good, bad, work = tmp_path / "good.json", tmp_path / "bad.json", tmp_path / "work.bin"
    good.write_text(json.dumps(bundle))
    work.write_bytes(WORK)
    broken = copy.deepcopy(bundle)
    _drop_transfer(broken)
    bad.write_text(json.dumps(broken))
    ok = subprocess.run(["chainright", "verify", str(good), "--content", str(work)], capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0 and "VERIFIED" in ok.stdout, ok.stdout + ok.stderr
    ko = subprocess.run(["chainright", "verify", str(bad)], capture_output=True, text=True, timeout=120)
    assert ko.returncode == 1 and "BROKEN at" in ko.stdout and "transfer chain" in ko.stdout



def _bundle_now(story, two_chains, artifacts, **kwargs):
    _, rows, _, collection, token_id = story
    url = two_chains.spec("home").rpc_url
    return build_bundle({"chain_id": 31337, "collection": collection, "token_id": token_id}, rows,
                        {31337: lambda m, p: rpc_call(url, m, p)},
                        {n: artifacts.get(n).abi for n in artifacts.names()}, **kwargs)


def test_a_sale_the_index_has_not_finished_leaves_a_fresh_bundle_verifiable(story, two_chains, artifacts):
    """The state is proven where the index has finished, not at the head: a sale in blocks the
    index does not yet count (unconfirmed, or the indexer behind) does not break an honest bundle."""
    from record.provenance import final_blocks

    _, _, db, collection, token_id = story
    web3 = connect(two_chains.spec("home"))
    token = web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    second = TxSender(web3, SECOND)
    second.transact(second.call_tx(token.functions.transferFrom(SECOND.address, BUYER.address, token_id)))
    at_head = verify_bundle(_bundle_now(story, two_chains, artifacts))
    assert not at_head.ok and "state proof of the owner" in at_head.first_break.what  # the old behaviour
    with db.engine.connect() as conn:
        proven_at = final_blocks(conn, [31337])
    assert proven_at[31337] < web3.eth.block_number
    bundle = _bundle_now(story, two_chains, artifacts, state_blocks=proven_at)
    assert bundle["state"]["31337"]["block_number"] == proven_at[31337]
    verdict = verify_bundle(bundle, content=WORK)
    assert verdict.ok and verdict.owner_proven, verdict.first_break


def test_a_story_longer_than_a_bundle_links_is_a_clear_error(story, two_chains, artifacts):
    from chain.errors import ProvenanceRangeError
    from record.provenance.bundle import MAX_LINK_HEADERS

    first = min(int(r["block_number"]) for r in story[1])
    with pytest.raises(ProvenanceRangeError, match=f"at most {MAX_LINK_HEADERS} headers"):
        _bundle_now(story, two_chains, artifacts, state_blocks={31337: first + MAX_LINK_HEADERS + 1})
