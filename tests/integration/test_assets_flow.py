"""A creator uploads a work and mints it through the transactions the API returns; the wallet
(eth-account standing in) signs. Real anvils, real contracts, the local content store."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api import create_app
from api.content import cid_for, content_hash
from api.settings import ApiSettings
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.devaccounts import dev_account
from chain.settings import ChainSettings
from did.settings import DidSettings
from tests.support.api_flow import login, officer_grants, send, verified_login

pytestmark = pytest.mark.integration

CREATOR, STRANGER = dev_account(1), dev_account(9)


@pytest.fixture(scope="module")
def deployed(two_chains: ChainSettings, artifacts) -> ChainSettings:
    deploy_to_chains(two_chains, two_chains.specs("all"))
    return two_chains


@pytest.fixture
def client(deployed, database, tmp_path):
    settings = ApiSettings(environment="test", data_dir=tmp_path, siwe_domain="testserver",
                           siwe_uri="http://testserver", role_grants=officer_grants())
    app = create_app(settings, db=database, chain_settings=deployed,
                     did_settings=DidSettings(environment="test"))
    return TestClient(app, raise_server_exceptions=False)


def test_creator_uploads_creates_a_collection_and_mints(client, deployed, artifacts, tmp_path):
    creator = verified_login(client, CREATOR)
    work = b"an original drawing " + tmp_path.name.encode()
    r = client.post("/assets", files={"file": ("drawing.png", work, "image/png")}, headers=creator)
    assert r.status_code == 201, r.text
    asset = r.json()
    assert asset["cid"] == cid_for(work) and asset["content_hash"] == content_hash(work)
    assert client.get(f"/assets/{asset['cid']}/content", headers=creator).content == work

    web3 = connect(deployed.spec("home"))
    r = client.post("/collections/tx", json={"chain_id": 31337, "name": "Alice Works", "symbol": "ALW",
                                             "royalty_bps": 750}, headers=creator)
    assert r.status_code == 200, r.text
    send(web3, CREATOR, r.json()["transaction"])
    collection = r.json()["predicted_address"]
    assert len(web3.eth.get_code(collection)) > 0

    r = client.post(f"/assets/{asset['cid']}/mint-tx", json={"chain_id": 31337, "collection": collection},
                    headers=creator)
    assert r.status_code == 200, r.text
    receipt = send(web3, CREATOR, r.json())
    assert receipt["status"] == 1
    nft = web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    assert nft.functions.tokenURI(1).call() == f"ipfs://{asset['cid']}"
    assert nft.functions.ownerOf(1).call() == CREATOR.address
    registry = web3.eth.contract(address=deployed_address(deployed, "RightsRegistry"),
                                 abi=artifacts.get("RightsRegistry").abi)
    record = registry.functions.recordOf(bytes.fromhex(asset["content_hash"][2:])).call()
    assert CREATOR.address in record and collection in record

    again = client.post(f"/assets/{asset['cid']}/mint-tx", json={"chain_id": 31337, "collection": collection},
                        headers=creator)
    assert again.status_code == 422 and again.json()["error"] == "RightsAlreadyRegistered"
    assert f"already registered by {CREATOR.address} at 20" in again.json()["detail"]


def test_upload_needs_kyc(client):
    r = client.post("/assets", files={"file": ("x.txt", b"x", "text/plain")}, headers=login(client, STRANGER))
    assert r.status_code == 403 and "KYC" in r.json()["detail"]


def test_only_the_uploader_may_mint(client, deployed):
    creator = verified_login(client, CREATOR)
    cid = client.post("/assets", files={"file": ("a.txt", b"mine alone", "text/plain")}, headers=creator).json()["cid"]
    other = verified_login(client, dev_account(4))
    r = client.post(f"/assets/{cid}/mint-tx", json={"chain_id": 31337, "collection": CREATOR.address}, headers=other)
    assert r.status_code == 403


def test_empty_and_oversized_uploads_are_refused(client):
    creator = verified_login(client, CREATOR)
    assert client.post("/assets", files={"file": ("e.txt", b"", "text/plain")}, headers=creator).status_code == 422


def deployed_address(chains: ChainSettings, name: str) -> str:
    from chain.deployments import DeploymentRegistry

    return DeploymentRegistry(chains.deployments_file).address(31337, name)


def test_an_unminted_upload_is_private_to_its_uploader_until_its_work_is_minted(client, deployed, tmp_path):
    """Its content hash is what a front-runner needs to claim the work first: nobody but the uploader
    (with a session) reads the record or the bytes of an upload before the chain has a record of it."""
    creator = verified_login(client, CREATOR)
    work = b"an unpublished sketch " + tmp_path.name.encode()
    cid = client.post("/assets", files={"file": ("s.png", work, "image/png")}, headers=creator).json()["cid"]
    stranger = login(client, STRANGER)
    for path in (f"/assets/{cid}", f"/assets/{cid}/content"):
        assert client.get(path).status_code == 404, path
        assert client.get(path, headers=stranger).status_code == 404, path
        assert client.get(path, headers=creator).status_code == 200, path

    web3 = connect(deployed.spec("home"))
    out = client.post("/collections/tx", json={"chain_id": 31337, "name": "Sketches", "symbol": "SKT"},
                      headers=creator).json()
    send(web3, CREATOR, out["transaction"])
    minted = client.post(f"/assets/{cid}/mint-tx", json={"chain_id": 31337, "collection": out["predicted_address"]},
                         headers=creator)
    assert send(web3, CREATOR, minted.json())["status"] == 1
    assert client.get(f"/assets/{cid}").json()["content_hash"] == content_hash(work)  # public once minted
    assert client.get(f"/assets/{cid}/content").content == work


def test_the_commit_tx_dates_the_creators_claim_before_the_mint(client, deployed, artifacts, tmp_path):
    creator = verified_login(client, CREATOR)
    work = b"a committed painting " + tmp_path.name.encode()
    asset = client.post("/assets", files={"file": ("p.png", work, "image/png")}, headers=creator).json()
    assert client.post(f"/assets/{asset['cid']}/commit-tx", json={"chain_id": 31337},
                       headers=login(client, STRANGER)).status_code in (403, 404)
    r = client.post(f"/assets/{asset['cid']}/commit-tx", json={"chain_id": 31337}, headers=creator)
    assert r.status_code == 200, r.text
    web3 = connect(deployed.spec("home"))
    assert send(web3, CREATOR, r.json())["status"] == 1
    from chain.deployments import DeploymentRegistry

    address = DeploymentRegistry(deployed.deployments_file).address(31337, "RightsRegistry")
    registry = web3.eth.contract(address=address, abi=artifacts.get("RightsRegistry").abi)
    assert registry.functions.committedAt(bytes.fromhex(asset["content_hash"][2:]), CREATOR.address).call() > 0
