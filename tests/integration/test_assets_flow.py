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
    assert client.get(f"/assets/{asset['cid']}/content").content == work

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
