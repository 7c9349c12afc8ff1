"""Forged provenance bundles on a real anvil, built from honest exports the way an attacker would
(every header and proof genuine): another creator's registration carried into the attacker's
token's bundle, a sale dropped from its transaction, a story cut before the last sale. Each must
fail, or VERIFIED must say no more than the bundle proves."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from chain.cid import cid_to_bytes, raw_cid
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.orders import ETH, MarketDomain, listing, sign_order
from chain.rpc import rpc_call
from chain.settings import ChainSettings
from chain.tx import TxSender
from record.index import EventDecoder, Indexer, IndexStore
from record.index.service import CHILD_RULES
from record.provenance import build_bundle, story_rows, verify_bundle
from record.provenance.verify import TrustedHead

pytestmark = pytest.mark.integration

CREATOR, COLLECTOR, BUYER, ATTACKER = dev_account(1), dev_account(2), dev_account(3), dev_account(6)
ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def world(two_chains: ChainSettings, artifacts, tmp_path_factory) -> SimpleNamespace:
    from api.db import Database

    deploy_to_chains(two_chains, two_chains.specs("home"))
    spec = two_chains.spec("home")
    web3 = connect(spec)
    registry = DeploymentRegistry(two_chains.deployments_file)
    label = tmp_path_factory.mktemp("forgery").name
    work, attacker_work = f"forgery work {label}".encode(), f"the attacker's own work {label}".encode()

    def contract(name: str, address: str | None = None) -> Any:
        return web3.eth.contract(address=address or registry.address(31337, name), abi=artifacts.get(name).abi)

    def send(account: Any, fn: Any, value: int = 0) -> Any:
        sender = TxSender(web3, account)
        receipt = sender.transact(sender.call_tx(fn, value=value))
        assert receipt["status"] == 1
        return receipt

    factory = contract("CollectionFactory")

    def collection_of(owner: Any) -> Any:
        salt = hashlib.sha256(f"forgery-{label}-{owner.address}".encode()).digest()
        send(owner, factory.functions.createCollection(("Forge", "FRG", owner.address, owner.address, 500, ZERO,
                                                        False), salt))
        return contract("CreatorCollection", factory.functions.predictCollectionAddress(owner.address, salt).call())

    nft = collection_of(CREATOR)
    send(CREATOR, nft.functions.mintWork(CREATOR.address, hashlib.sha256(work).digest(),
                                         cid_to_bytes(raw_cid(work))))
    token_id = nft.functions.totalSupply().call()
    # the attacker registers their own file first, then mints it in their own collection: RightsBound
    rights = contract("RightsRegistry")
    send(ATTACKER, rights.functions.register(hashlib.sha256(attacker_work).digest(),
                                             cid_to_bytes(raw_cid(attacker_work))))
    fake = collection_of(ATTACKER)
    send(ATTACKER, fake.functions.mintWork(ATTACKER.address, hashlib.sha256(attacker_work).digest(),
                                           cid_to_bytes(raw_cid(attacker_work))))
    fake_id = fake.functions.totalSupply().call()

    market = contract("Marketplace")
    domain = MarketDomain(31337, market.address)

    def sell(seller: Any, buyer: Any, price: int) -> Any:
        send(seller, nft.functions.setApprovalForAll(market.address, True))
        now = int(web3.eth.get_block("latest")["timestamp"])
        order = listing(seller=seller.address, token=nft.address, token_id=token_id, unit_price=price,
                        start=now - 60, expiry=now + 3600, counter=market.functions.counterOf(seller.address).call(),
                        holding_epoch=nft.functions.holdingEpoch(seller.address, token_id).call(), currency=ETH)
        signed = sign_order(order, domain, seller)
        return send(buyer, market.functions.fillListing(order.as_tuple(), signed.signature, 1), value=price)

    sell(CREATOR, COLLECTOR, 10**17)
    last_sale = sell(COLLECTOR, BUYER, 2 * 10**17)
    assert nft.functions.ownerOf(token_id).call() == BUYER.address

    db = Database(f"sqlite:///{tmp_path_factory.mktemp('forgery-index') / 'index.db'}")
    db.migrate()
    store = IndexStore(db.engine)
    abis = {n: artifacts.get(n).abi for n in artifacts.names()}
    indexer = Indexer(web3, 31337, store, EventDecoder(abis), rules=CHILD_RULES)
    indexer.watch((d.address, d.artifact or d.contract, d.block) for d in registry.for_chain(31337).values())
    indexer.run_until_caught_up()
    with db.engine.connect() as conn:
        rows = story_rows(conn, 31337, nft.address, token_id, work_id=token_id)
        fake_rows = story_rows(conn, 31337, fake.address, fake_id, work_id=fake_id)
    rpcs = {31337: lambda m, p: rpc_call(spec.rpc_url, m, p)}

    def export(collection: str, tid: int, events: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        return build_bundle({"chain_id": 31337, "collection": collection, "token_id": tid}, events, rpcs, abis,
                            **kwargs)

    head = web3.eth.get_block("latest")
    return SimpleNamespace(web3=web3, work=work, attacker_work=attacker_work, nft=nft.address, token_id=token_id,
                           fake=fake.address, fake_id=fake_id, rows=rows, fake_rows=fake_rows, export=export,
                           registry=rights.address, last_sale=last_sale["blockNumber"],
                           head=TrustedHead(int(head["number"]), "0x" + bytes(head["hash"]).hex()))


def _events(bundle: dict[str, Any]) -> list[str]:
    return [e["event"] for e in bundle["events"]]


def test_the_honest_bundle_verifies_and_is_current_at_a_trusted_head(world):
    bundle = world.export(world.nft, world.token_id, world.rows)
    assert _events(bundle).count("OrderFilled") == 2
    verdict = verify_bundle(bundle, content=world.work, rights_registry=world.registry, trusted_heads=[world.head])
    assert verdict.ok, verdict.first_break
    assert verdict.owner_current and verdict.owner_at["owner"] == BUYER.address


# -- 10. another work's registration does not make the attacker's token that work -------------------


def _forged(world, *, keep_work_minted: bool) -> dict[str, Any]:
    """The attacker's token, with the creator's genuine RightsRegistered and the attacker's own
    RightsBound, with or without the attacker's WorkMinted."""
    creators = next(r for r in world.rows if r["event"] == "RightsRegistered")
    rows = [r for r in world.fake_rows if keep_work_minted or r["event"] != "WorkMinted"]
    rows = sorted([*rows, creators], key=lambda r: (r["block_number"], r["log_index"]))
    forged = world.export(world.fake, world.fake_id, rows)
    # the attacker proves the creator's rights record (genuine, at the same block), not their own
    honest = world.export(world.nft, world.token_id, world.rows)
    state, theirs = forged["state"]["31337"], honest["state"]["31337"]
    assert state["block_number"] == theirs["block_number"]
    state["accounts"] = [a for a in state["accounts"] if a["role"] == "owner"] + \
        [a for a in theirs["accounts"] if a["role"] == "rights record"]
    return forged


@pytest.mark.parametrize("keep_work_minted", [False, True])
def test_a_forged_provenance_with_another_creators_registration_fails(world, keep_work_minted):
    forged = _forged(world, keep_work_minted=keep_work_minted)
    assert "RightsBound" in _events(forged) and "RightsRegistered" in _events(forged)
    verdict = verify_bundle(forged, content=world.work, rights_registry=world.registry)
    assert not verdict.ok, "the attacker's token verified as the creator's work"
    assert "work" in verdict.first_break.what, verdict.first_break


def test_the_attackers_honest_bundle_is_their_own_work_not_the_creators(world):
    honest = world.export(world.fake, world.fake_id, world.fake_rows)
    assert "RightsBound" in _events(honest)
    own = verify_bundle(honest, content=world.attacker_work, rights_registry=world.registry)
    assert own.ok and own.owner_proven, own.first_break  # the rights record is proven through RightsBound
    assert any(c.what.endswith("state proof of the rights record") and c.ok for c in own.checks)
    theirs = verify_bundle(honest, content=world.work, rights_registry=world.registry)
    assert not theirs.ok and theirs.first_break.what == "content hash"


# -- 12. a sale cannot be removed from its transaction -------------------------------------------


@pytest.mark.parametrize("which", [0, 1, "all"])
def test_a_sale_removed_from_its_transaction_fails(world, which):
    bundle = world.export(world.nft, world.token_id, world.rows)
    sales = [i for i, e in enumerate(bundle["events"]) if e["event"] == "OrderFilled"]
    drop = set(sales) if which == "all" else {sales[int(which)]}
    bundle["events"] = [e for i, e in enumerate(bundle["events"]) if i not in drop]
    verdict = verify_bundle(bundle, content=world.work, rights_registry=world.registry)
    assert not verdict.ok, "a sale was turned into a gift"
    assert "completeness" in verdict.first_break.what and "OrderFilled" in verdict.first_break.detail


# -- 11. a story cut before the last sale is dated, and a trusted head exposes it -------------------


@pytest.fixture(scope="module")
def cut(world) -> dict[str, Any]:
    rows = [r for r in world.rows if r["block_number"] < world.last_sale]
    return world.export(world.nft, world.token_id, rows, state_blocks={31337: world.last_sale - 1})


def test_a_story_cut_short_is_dated_not_called_current(world, cut, tmp_path):
    verdict = verify_bundle(cut, content=world.work, rights_registry=world.registry)
    assert verdict.ok, verdict.first_break
    assert not verdict.owner_current
    assert verdict.owner_at["block"] == world.last_sale - 1 and verdict.owner_at["owner"] == COLLECTOR.address
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(cut))
    out = subprocess.run([sys.executable, "-m", "chainright", "verify", str(path)], capture_output=True, text=True,
                         timeout=120).stdout
    verified = next(line for line in out.splitlines() if line.startswith("VERIFIED"))
    assert "current" not in verified and f"was the owner at chain 31337 block {world.last_sale - 1}" in verified
    assert "Not proven: that it still is" in verified


def test_a_trusted_head_exposes_a_story_cut_short(world, cut):
    assert str(world.head.block) in cut["headers"]["31337"]  # the export carries headers up to the head
    verdict = verify_bundle(cut, trusted_heads=[world.head])
    assert not verdict.ok and "trusted head" in verdict.first_break.what
    assert "may hold a transfer" in verdict.first_break.detail, verdict.first_break
    trimmed = copy.deepcopy(cut)  # the attacker keeps the headers only up to the proof
    trimmed["headers"]["31337"] = {n: h for n, h in trimmed["headers"]["31337"].items()
                                   if int(n) < world.last_sale}
    verdict = verify_bundle(trimmed, trusted_heads=[world.head])
    assert not verdict.ok and "not shown to reach it" in verdict.first_break.detail


