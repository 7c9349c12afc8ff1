"""Identity through the HTTP API against real anvils: SIWE and DID logins with their replay
refusals, then KYC: submit, approve (credential + identity registry on both chains), the gated
route admits; revoke, and both flip back. An approval whose chain write fails is rolled back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient

from api import create_app
from api.settings import ApiSettings
from chain.deploy import deploy_to_chains
from chain.devaccounts import dev_account
from chain.nodes import NodeManager
from chain.settings import ChainSettings
from did.credentials import build_presentation, issue_presentation_sync
from did.holder import sign_presentation
from did.keys import generate_ed25519_jwk
from did.kyc import issue_kyc_credential_sync
from did.methods import did_key_from_jwk
from did.settings import DidSettings
from tests.conftest import chain_settings_for
from tests.support.api_flow import login, siwe

pytestmark = pytest.mark.integration

USER, OFFICER, OTHER, SANCTIONED = dev_account(5), dev_account(6), dev_account(7), dev_account(19)
APPLICATION = {"legal_name": "Alice Example", "date_of_birth": "1990-04-01", "country": "FR",
               "document_type": "passport", "document_number": "AB123456"}


@pytest.fixture(scope="module")
def deployed(two_chains: ChainSettings, artifacts) -> ChainSettings:
    deploy_to_chains(two_chains, two_chains.specs("all"))
    return two_chains


def _api_settings(tmp_path, **extra) -> ApiSettings:
    officer_did = f"did:pkh:eip155:31337:{OFFICER.address}"
    return ApiSettings(environment="test", data_dir=tmp_path, siwe_domain="testserver",
                       siwe_uri="http://testserver", role_grants={officer_did: ["kyc_officer"]}, **extra)


@pytest.fixture
def client(deployed, database, tmp_path):
    app = create_app(_api_settings(tmp_path), db=database, chain_settings=deployed,
                     did_settings=DidSettings(environment="test"))
    return TestClient(app, raise_server_exceptions=False)


def registry_verified(chain_settings: ChainSettings, address: str) -> dict[int, bool]:
    from api.kyc.registry import OnChainIdentityWriter

    return OnChainIdentityWriter.from_settings(chain_settings).is_verified(address)


# -- login ---------------------------------------------------------------------------------------


def test_siwe_login_opens_a_session_for_the_pkh_did(client):
    headers = login(client, USER)
    me = client.get("/auth/me", headers=headers).json()
    assert me["did"] == f"did:pkh:eip155:31337:{USER.address}" and me["address"] == USER.address
    assert client.post("/auth/logout", headers=headers).status_code == 204
    r = client.get("/auth/me", headers=headers)
    assert r.status_code == 401 and "logged out" in r.json()["detail"]


def test_reused_nonce_is_refused(client):
    signed = siwe(client, USER)
    assert client.post("/auth/siwe/login", json=signed).status_code == 200
    r = client.post("/auth/siwe/login", json=signed)
    assert r.status_code == 401 and "already used" in r.json()["detail"]


def test_expired_message_is_refused(deployed, database, tmp_path):
    app = create_app(_api_settings(tmp_path, login_nonce_ttl_s=1), db=database, chain_settings=deployed)
    c = TestClient(app, raise_server_exceptions=False)
    signed = siwe(c, USER)
    import time

    time.sleep(1.2)
    r = c.post("/auth/siwe/login", json=signed)
    assert r.status_code == 401 and "expired" in r.json()["detail"]


@pytest.mark.parametrize(("old", "new", "reason"), [
    ("testserver wants you", "evil.example wants you", "domain"),
    ("Chain ID: 31337", "Chain ID: 31338", "chain id"),
    ("Sign in to Chainright.", "Sign in to Chainright!", "signature recovers"),
])
def test_altered_messages_are_refused(client, old, new, reason):
    signed = siwe(client, USER)
    signed["message"] = signed["message"].replace(old, new)
    r = client.post("/auth/siwe/login", json=signed)
    assert r.status_code == 401 and reason in r.json()["detail"]


def test_another_address_signature_is_refused(client):
    signed = siwe(client, USER)
    signed["signature"] = "0x" + OTHER.sign_message(encode_defunct(text=signed["message"])).signature.hex().removeprefix("0x")
    r = client.post("/auth/siwe/login", json=signed)
    assert r.status_code == 401 and "recovers to" in r.json()["detail"]


def test_unknown_chain_is_refused_at_nonce_time(client):
    r = client.post("/auth/siwe/nonce", json={"address": USER.address, "chain_id": 1})
    assert r.status_code == 404 and "31337" in r.json()["detail"]


def test_did_key_presentation_login(client):
    jwk = generate_ed25519_jwk()
    holder = did_key_from_jwk(jwk)
    ch = client.post("/auth/did/challenge").json()
    vp = issue_presentation_sync(build_presentation(holder), holder_key=jwk, challenge=ch["challenge"],
                                 domain=ch["domain"])
    r = client.post("/auth/did/login", json={"presentation": vp})
    assert r.status_code == 200, r.text
    assert r.json()["did"] == holder
    again = client.post("/auth/did/login", json={"presentation": vp})
    assert again.status_code == 401 and "already used" in again.json()["detail"]


def test_did_pkh_eip712_presentation_with_kyc_credential(client):
    holder = f"did:pkh:eip155:31337:{USER.address}"
    vc = issue_kyc_credential_sync(DidSettings(environment="test"), holder, 2, "FR",
                                   datetime.now(UTC) + timedelta(days=30), proof_format="jwt")
    ch = client.post("/auth/did/challenge").json()
    vp = sign_presentation(build_presentation(holder, [vc]), USER, "EthereumEip712Signature2021",
                           ch["challenge"], ch["domain"], datetime.now(UTC))
    r = client.post("/auth/did/login", json={"presentation": vp})
    assert r.status_code == 200, r.text
    assert r.json()["address"] == USER.address


def test_presentation_with_forged_inner_credential_is_refused(client):
    holder = f"did:pkh:eip155:31337:{USER.address}"
    rogue = DidSettings(environment="test", issuer_key=generate_ed25519_jwk())
    vc = issue_kyc_credential_sync(rogue, holder, 3, "FR", datetime.now(UTC) + timedelta(days=30),
                                   proof_format="jwt")
    ch = client.post("/auth/did/challenge").json()
    vp = sign_presentation(build_presentation(holder, [vc]), USER, "EthereumEip712Signature2021",
                           ch["challenge"], ch["domain"], datetime.now(UTC))
    r = client.post("/auth/did/login", json={"presentation": vp})
    assert r.status_code == 401 and "presentation refused" in r.json()["detail"]


def test_presentation_with_expired_credential_is_refused(client):
    holder = f"did:pkh:eip155:31337:{USER.address}"
    issued = datetime.now(UTC) - timedelta(days=10)
    vc = issue_kyc_credential_sync(DidSettings(environment="test"), holder, 1, "FR",
                                   issued + timedelta(days=1), now=issued, proof_format="jwt")
    ch = client.post("/auth/did/challenge").json()
    vp = sign_presentation(build_presentation(holder, [vc]), USER, "EthereumEip712Signature2021",
                           ch["challenge"], ch["domain"], datetime.now(UTC))
    r = client.post("/auth/did/login", json={"presentation": vp})
    assert r.status_code == 401 and "expired" in r.json()["detail"].lower()


# -- KYC -----------------------------------------------------------------------------------------


def test_kyc_flow_approve_then_revoke_keeps_api_and_chains_in_step(client, deployed):
    user, officer = login(client, USER), login(client, OFFICER)
    assert client.get("/kyc/verified", headers=user).status_code == 403
    r = client.post("/kyc/applications", json=APPLICATION, headers=user)
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    assert r.json()["personal_data"]["legal_name"] == "Alice Example"
    assert client.post(f"/kyc/applications/{app_id}/approve", json={"level": 2}, headers=user).status_code == 403
    listing = client.get("/kyc/applications?state=submitted", headers=officer).json()
    assert any(a["id"] == app_id and a["personal_data"] is None for a in listing)

    r = client.post(f"/kyc/applications/{app_id}/approve", json={"level": 2}, headers=officer)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved" and r.json()["sync_status"] == "synced"
    assert {w["chain_id"] for w in r.json()["chain_writes"]} == {31337, 31338}
    assert registry_verified(deployed, USER.address) == {31337: True, 31338: True}

    credential = client.get("/kyc/credential", headers=user).json()
    from did.kyc import verify_kyc_credential_sync

    claims = verify_kyc_credential_sync(json.dumps(credential), settings=DidSettings(environment="test"))
    assert claims.subject == f"did:pkh:eip155:31337:{USER.address}" and claims.level == 2
    gated = client.get("/kyc/verified", headers=user)
    assert gated.status_code == 200 and gated.json()["kyc_level"] == 2

    r = client.post(f"/kyc/applications/{app_id}/revoke", json={"reason": "document withdrawn"}, headers=officer)
    assert r.status_code == 200 and r.json()["state"] == "revoked" and r.json()["sync_status"] == "synced"
    assert registry_verified(deployed, USER.address) == {31337: False, 31338: False}
    assert client.get("/kyc/verified", headers=user).status_code == 403


def test_personal_data_is_not_shown_to_other_users(client):
    user, other = login(client, USER), login(client, OTHER)
    app_id = client.post("/kyc/applications", json=APPLICATION, headers=user).json()["id"]
    assert client.get(f"/kyc/applications/{app_id}", headers=other).status_code == 404
    assert client.get("/kyc/applications", headers=other).status_code == 403


def test_sanctioned_applicant_cannot_be_approved(client, deployed):
    sanctioned, officer = login(client, SANCTIONED), login(client, OFFICER)
    app_id = client.post("/kyc/applications", json=APPLICATION, headers=sanctioned).json()["id"]
    r = client.post(f"/kyc/applications/{app_id}/approve", json={"level": 1}, headers=officer)
    assert r.status_code == 422 and "sanctions" in r.json()["detail"]
    assert registry_verified(deployed, SANCTIONED.address) == {31337: False, 31338: False}


def test_approval_is_rolled_back_when_a_chain_write_fails(artifacts, database, tmp_path):
    chains = chain_settings_for(tmp_path / "chains")
    manager = NodeManager(chains)
    manager.start(chains.specs("all"))
    try:
        deploy_to_chains(chains, chains.specs("all"))
        app = create_app(_api_settings(tmp_path), db=database, chain_settings=chains,
                         did_settings=DidSettings(environment="test"))
        c = TestClient(app, raise_server_exceptions=False)
        user, officer = login(c, USER), login(c, OFFICER)
        app_id = c.post("/kyc/applications", json=APPLICATION, headers=user).json()["id"]
        app.state.kyc.writer()  # connected to both chains...
        manager.stop(["remote"])  # ...then the remote chain goes away
        r = c.post(f"/kyc/applications/{app_id}/approve", json={"level": 1}, headers=officer)
        assert r.status_code == 503 and "rolled back" in r.json()["detail"]
        mine = c.get("/kyc/applications/mine", headers=user).json()
        assert mine["state"] == "submitted" and mine["sync_status"] == "rolled_back"
        home_only = chains.model_copy(update={"remote_rpc_url": None})
        from api.kyc.registry import OnChainIdentityWriter

        assert OnChainIdentityWriter.from_settings(home_only, "home").is_verified(USER.address) == {31337: False}
        assert c.get("/kyc/verified", headers=user).status_code == 403
    finally:
        manager.stop(["home", "remote"])


def test_kyc_input_is_validated_at_the_edge(client):
    user = login(client, USER)
    bad = dict(APPLICATION, country="XX")
    r = client.post("/kyc/applications", json=bad, headers=user)
    assert r.status_code == 422 and "country" in r.json()["detail"]
    assert client.post("/kyc/applications", json=APPLICATION).status_code == 401



def test_smart_contract_wallet_signs_in_through_eip1271(client, deployed, artifacts):
    from eth_account.messages import encode_defunct

    from chain.connection import connect
    from chain.tx import TxSender

    web3 = connect(deployed.spec("home"))
    art = artifacts.get("TestSmartWallet")
    wallet, _ = TxSender(web3, OTHER).deploy(art.abi, art.bytecode, USER.address)  # USER owns it
    start = client.post("/auth/siwe/nonce", json={"address": wallet, "chain_id": 31337}).json()
    signed_by_owner = "0x" + bytes(USER.sign_message(encode_defunct(text=start["message"])).signature).hex()
    r = client.post("/auth/siwe/login", json={"message": start["message"], "signature": signed_by_owner})
    assert r.status_code == 200, r.text
    assert r.json()["did"] == f"did:pkh:eip155:31337:{wallet}"

    start = client.post("/auth/siwe/nonce", json={"address": wallet, "chain_id": 31337}).json()
    signed_by_other = "0x" + bytes(OTHER.sign_message(encode_defunct(text=start["message"])).signature).hex()
    r = client.post("/auth/siwe/login", json={"message": start["message"], "signature": signed_by_other})
    assert r.status_code == 401 and "EIP-1271" in r.json()["detail"]
