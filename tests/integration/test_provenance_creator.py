"""A work's story on a real anvil states who made it and how: the creator passes KYC through the
IdentityRegistry, a buyer commissions the work through the MilestoneEscrow, the creator delivers
it (its content hash) and the buyer releases the milestone, then the work is minted to the buyer
and rented out (ERC-4907). Indexed, served by the API and bundled: the registration entry states
the creator's did:pkh and KYC status then, the escrow's funding, delivery and release and the
rental are entries, and the bundle (identity and escrow events included) verifies offline.

Two other creators: one registers a work before any KYC (status 'none'), one after a revocation
('revoked'); the first also delivers, as seller of its own escrow, the same content hash as the
commissioned work, which must not enter that work's story."""

from __future__ import annotations

import copy
import hashlib
import time

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from chain.cid import cid_to_bytes, raw_cid
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.settings import ChainSettings
from chain.tx import TxSender
from record.index import EventDecoder, Indexer, IndexStore
from record.index.service import CHILD_RULES
from record.provenance import verify_bundle

pytestmark = pytest.mark.integration

OPERATOR, BUYER, ARBITER, RENTER = dev_account(0), dev_account(2), dev_account(3), dev_account(4)


def _fresh(name: str) -> LocalAccount:
    """An account of this module's own: the chains are shared by the session, and other tests
    register dev accounts' identities (a creator's KYC history must start here)."""
    return Account.from_key(keccak(text=f"chainright tests: provenance creator {name}"))


CREATOR, LATE_KYC, REVOKED = _fresh("creator"), _fresh("late-kyc"), _fresh("revoked")
WORK, EARLY_WORK, REVOKED_WORK = b"commissioned work", b"work before any KYC", b"work after a revocation"
ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def platform(two_chains: ChainSettings, artifacts, tmp_path_factory):
    from fastapi.testclient import TestClient

    from api import create_app
    from api.db import Database
    from api.settings import ApiSettings

    deploy_to_chains(two_chains, two_chains.specs("home"))
    web3 = connect(two_chains.spec("home"))
    registry = DeploymentRegistry(two_chains.deployments_file)

    def contract(name: str, address: str | None = None):
        return web3.eth.contract(address=address or registry.address(31337, name), abi=artifacts.get(name).abi)

    def send(account, call, value: int = 0):
        sender = TxSender(web3, account)
        return sender.transact(sender.call_tx(call) | ({"value": value} if value else {}))

    identity, escrow, factory = contract("IdentityRegistry"), contract("MilestoneEscrow"), contract("CollectionFactory")
    funder = TxSender(web3, OPERATOR)
    for account in (CREATOR, LATE_KYC, REVOKED):
        funder.transact({"to": account.address, "value": 10**19})
    expires = int(time.time()) + 10**7

    def mint(account, work: bytes, to: str) -> tuple[str, int]:
        salt = hashlib.sha256(b"creator-story" + work).digest()
        send(account, factory.functions.createCollection(
            ("Made", "MADE", account.address, account.address, 500, ZERO, False), salt))
        collection = contract("CreatorCollection", factory.functions.predictCollectionAddress(account.address, salt).call())
        send(account, collection.functions.mintWork(to, hashlib.sha256(work).digest(), cid_to_bytes(raw_cid(work))))
        return collection.address, int(collection.functions.totalSupply().call())

    def commission(seller, work: bytes, accept: bool) -> int:
        escrow_id = int(escrow.functions.nextEscrowId().call())
        deadline = int(web3.eth.get_block("latest")["timestamp"]) + 86_400
        terms = (14 * 86_400, 5_000, ZERO, 0)  # arbitration period, default seller bps, no royalty
        send(BUYER, escrow.functions.createEscrow(seller.address, ARBITER.address, ZERO, 3 * 86_400, terms,
                                                  [(10**15, deadline)]), value=10**15)
        send(seller, escrow.functions.acceptEscrow(escrow_id))  # the seller takes the published terms
        send(seller, escrow.functions.deliverMilestone(escrow_id, 0, hashlib.sha256(work).digest(), raw_cid(work)))
        if accept:
            send(BUYER, escrow.functions.acceptMilestone(escrow_id, 0))
        return escrow_id

    # The decoy: another seller delivers the commissioned work's content hash in its own escrow.
    decoy = commission(LATE_KYC, WORK, accept=False)
    # A work registered before its creator's KYC.
    early = mint(LATE_KYC, EARLY_WORK, LATE_KYC.address)
    send(OPERATOR, identity.functions.registerIdentity(LATE_KYC.address, 1, b"FR", expires))
    # A work registered after its creator's KYC was revoked.
    send(OPERATOR, identity.functions.registerIdentity(REVOKED.address, 2, b"IT", expires))
    send(OPERATOR, identity.functions.revokeIdentity(REVOKED.address))
    revoked = mint(REVOKED, REVOKED_WORK, REVOKED.address)
    # The commissioned work: KYC (then an update), escrow funded, delivered, released; minted, rented.
    send(OPERATOR, identity.functions.registerIdentity(CREATOR.address, 1, b"FR", expires))
    send(OPERATOR, identity.functions.updateIdentity(CREATOR.address, 2, b"DE", expires))
    escrow_id = commission(CREATOR, WORK, accept=True)
    collection, token = mint(CREATOR, WORK, BUYER.address)
    rent_until = expires - 1
    send(BUYER, contract("CreatorCollection", collection).functions.setUser(token, RENTER.address, rent_until))
    # Identity changes after the registration do not change the status at the registration.
    send(OPERATOR, identity.functions.revokeIdentity(CREATOR.address))

    db = Database(f"sqlite:///{tmp_path_factory.mktemp('prov-creator') / 'index.db'}")
    db.migrate()
    indexer = Indexer(web3, 31337, IndexStore(db.engine),
                      EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()}), rules=CHILD_RULES)
    indexer.watch((d.address, d.artifact or d.contract, d.block) for d in registry.for_chain(31337).values())
    indexer.run_until_caught_up()
    app = create_app(ApiSettings(environment="test", data_dir=tmp_path_factory.mktemp("prov-creator-api")), db=db,
                     chain_settings=two_chains)
    client = TestClient(app, raise_server_exceptions=False)
    return {"client": client, "collection": collection, "token": token, "escrow_id": escrow_id, "decoy": decoy,
            "early": early, "revoked": revoked, "escrow": escrow.address, "rent_until": rent_until}


def _story(platform, subject: tuple[str, int]) -> dict:
    r = platform["client"].get(f"/provenance/31337/{subject[0]}/{subject[1]}")
    assert r.status_code == 200, r.text
    return r.json()


def _registration(story: dict) -> dict:
    return next(e for e in story["entries"] if e["event"] == "RightsRegistered")


def test_the_registration_states_the_creators_did_and_kyc_then(platform):
    story = _story(platform, (platform["collection"], platform["token"]))
    registration = _registration(story)
    creator = registration["creator"]
    assert creator["address"] == CREATOR.address
    assert creator["did"] == f"did:pkh:eip155:31337:{CREATOR.address}"
    kyc = creator["kyc"]
    assert (kyc["status"], kyc["level"], kyc["country"]) == ("verified", 2, "DE")  # the update, not the first record
    update = next(e for e in story["entries"] if e["event"] == "IdentityUpdated")
    assert (kyc["block"], kyc["log_index"], kyc["tx_hash"]) == (update["block_number"], update["log_index"],
                                                                update["tx_hash"])
    minted = next(e for e in story["entries"] if e["event"] == "WorkMinted")
    assert minted["creator"] == creator
    assert not any(e["event"] == "IdentityRevoked" for e in story["entries"])  # revoked after registering


def test_the_story_holds_the_commission_and_the_rental_oldest_first(platform):
    story = _story(platform, (platform["collection"], platform["token"]))
    events = [e["event"] for e in story["entries"]]
    order = ["IdentityUpdated", "EscrowCreated", "MilestoneDelivered", "MilestoneReleased", "RightsRegistered",
             "UpdateUser"]
    assert [e for e in events if e in order] == order
    escrow_entries = [e for e in story["entries"] if e["address"] == platform["escrow"]]
    assert {int(e["args"]["escrowId"]) for e in escrow_entries} == {platform["escrow_id"]}  # not the decoy's
    delivered = next(e for e in escrow_entries if e["event"] == "MilestoneDelivered")
    assert delivered["args"]["contentHash"] == story["content_hash"]
    rental = next(e for e in story["entries"] if e["event"] == "UpdateUser")
    assert rental["args"]["user"] == RENTER.address and int(rental["args"]["expires"]) == platform["rent_until"]
    positions = [(e["block_number"], e["log_index"]) for e in story["entries"]]
    assert positions == sorted(positions)


@pytest.mark.parametrize(("subject", "status", "identity_events"), [
    ("early", "none", []),
    ("revoked", "revoked", ["IdentityRegistered", "IdentityRevoked"]),
])
def test_a_creator_without_kyc_then_or_revoked(platform, subject, status, identity_events):
    story = _story(platform, platform[subject])
    kyc = _registration(story)["creator"]["kyc"]
    assert kyc["status"] == status
    assert [e["event"] for e in story["entries"] if e["event"].startswith("Identity")] == identity_events
    assert not any(e["event"].startswith(("Escrow", "Milestone")) for e in story["entries"])


def test_the_bundle_verifies_with_its_identity_and_commission_evidence(platform):
    r = platform["client"].get(f"/provenance/31337/{platform['collection']}/{platform['token']}/bundle")
    assert r.status_code == 200, r.text
    bundle = r.json()
    assert {"IdentityUpdated", "EscrowCreated", "MilestoneDelivered", "MilestoneReleased", "UpdateUser"} <= \
        {e["event"] for e in bundle["events"]}
    verdict = verify_bundle(bundle, content=WORK)
    assert verdict.ok, verdict.first_break
    kyc = next(c for c in verdict.checks if c.what == "creator KYC at registration")
    assert f"did:pkh:eip155:31337:{CREATOR.address}: verified (level 2, DE" in kyc.detail
    assert any(c.what == "story" and BUYER.address in c.detail for c in verdict.checks)


def _identity_index(bundle: dict) -> int:
    return next(i for i, e in enumerate(bundle["events"]) if e["event"] == "IdentityUpdated")


def _raise_level(b: dict) -> None:
    b["events"][_identity_index(b)]["args"]["level"] = 3


def _forge_country_in_receipt(b: dict) -> None:
    entry = b["events"][_identity_index(b)]
    log = entry["receipt"]["logs"][entry["log_position"]]
    data = log["data"]
    log["data"] = data[:66] + "4652" + data[70:]  # country "DE" -> "FR" in the second word


def _someone_elses_identity(b: dict) -> None:
    b["events"][_identity_index(b)]["args"]["account"] = RENTER.address


def _decoy_delivery(b: dict) -> None:
    entry = next(e for e in b["events"] if e["event"] == "MilestoneDelivered")
    entry["args"]["contentHash"] = "0x" + "00" * 32


@pytest.mark.parametrize(("mutate", "expected"), [
    (_raise_level, "arguments"),
    (_forge_country_in_receipt, "receipt proof"),
    (_someone_elses_identity, "arguments"),
    (_decoy_delivery, "arguments"),
])
def test_a_tampered_identity_or_commission_event_fails(platform, mutate, expected):
    r = platform["client"].get(f"/provenance/31337/{platform['collection']}/{platform['token']}/bundle")
    bundle = copy.deepcopy(r.json())
    mutate(bundle)
    verdict = verify_bundle(bundle)
    assert not verdict.ok
    assert expected in verdict.first_break.what, verdict.first_break


def test_evidence_about_another_account_is_refused_even_when_proven(platform):
    """An identity event about someone else, correctly proven, cannot stand for the creator's KYC."""
    client = platform["client"]
    bundle = client.get(f"/provenance/31337/{platform['collection']}/{platform['token']}/bundle").json()
    other = client.get(f"/provenance/31337/{platform['revoked'][0]}/{platform['revoked'][1]}/bundle").json()
    foreign = next(e for e in other["events"] if e["event"] == "IdentityRegistered")
    at = _identity_index(bundle)
    assert foreign["block_number"] < bundle["events"][at]["block_number"]
    bundle["events"].insert(at, foreign)
    headers = bundle["headers"]["31337"]
    for number, header in other["headers"]["31337"].items():
        headers.setdefault(number, header)
    verdict = verify_bundle(bundle)
    assert not verdict.ok and "creator KYC" in verdict.first_break.what, verdict.first_break
