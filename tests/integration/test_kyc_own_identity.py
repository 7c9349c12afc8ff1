"""KYC decisions and a wallet's several DIDs, through the HTTP API against real anvils.

A KYC officer never decides (approves, rejects, revokes) an application whose subject is one of
their own identities: the same wallet under any chain id's did:pkh, or any DID the platform has
bound to that wallet. And the registry's key is the wallet address, so KYC is per wallet: one
application in force per wallet whatever DID it signs in with, every DID of the wallet shares its
status, and revoking one revokes the wallet (API and every chain agree)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api import create_app
from api.kyc.registry import OnChainIdentityWriter
from api.models import KycApplication, User
from api.settings import ApiSettings
from chain.deploy import deploy_to_chains
from chain.devaccounts import dev_account
from chain.settings import ChainSettings
from did.settings import DidSettings
from tests.support.api_flow import APPLICATION, siwe

pytestmark = pytest.mark.integration

OFFICER, SECOND_OFFICER, USER = dev_account(10), dev_account(11), dev_account(12)


@pytest.fixture(scope="module")
def deployed(two_chains: ChainSettings, artifacts) -> ChainSettings:
    deploy_to_chains(two_chains, two_chains.specs("all"))
    return two_chains


@pytest.fixture
def client(deployed, database, tmp_path):
    settings = ApiSettings(
        environment="test", data_dir=tmp_path, siwe_domain="testserver", siwe_uri="http://testserver",
        role_grants={f"did:pkh:eip155:31337:{OFFICER.address}": ["kyc_officer"],
                     f"did:pkh:eip155:31337:{SECOND_OFFICER.address}": ["kyc_officer"]})
    app = create_app(settings, db=database, chain_settings=deployed,
                     did_settings=DidSettings(environment="test"))
    return TestClient(app, raise_server_exceptions=False)


def _login(c: TestClient, account, chain_id: int = 31337) -> dict[str, str]:
    r = c.post("/auth/siwe/login", json=siwe(c, account, chain_id))
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _verified(chains: ChainSettings, address: str) -> dict[int, bool]:
    return OnChainIdentityWriter.from_settings(chains).is_verified(address)


def _revoke_on_chain(chains: ChainSettings, address: str) -> None:
    OnChainIdentityWriter.from_settings(chains).revoke(address)


@pytest.mark.parametrize("decision", ["approve", "reject", "revoke"])
def test_an_officer_cannot_decide_the_application_of_their_own_wallet_under_another_did(
        client, deployed, decision):
    officer = _login(client, OFFICER)  # the officer role, on did:pkh:31337
    own = _login(client, OFFICER, 31338)  # the same wallet under the other chain id's DID
    app = client.post("/kyc/applications", json=APPLICATION, headers=own)
    assert app.status_code == 201, app.text
    app_id = app.json()["id"]
    body = {"approve": {"level": 3}, "reject": {"reason": "looks fine to me"},
            "revoke": {"reason": "covering my tracks"}}[decision]
    if decision == "revoke":  # another officer approved it first
        ok = client.post(f"/kyc/applications/{app_id}/approve", json={"level": 1},
                         headers=_login(client, SECOND_OFFICER))
        assert ok.status_code == 200, ok.text
    before = client.get(f"/kyc/applications/{app_id}", headers=officer).json()
    r = client.post(f"/kyc/applications/{app_id}/{decision}", json=body, headers=officer)
    assert r.status_code == 403, r.text
    assert "your own" in r.json()["detail"]
    after = client.get(f"/kyc/applications/{app_id}", headers=officer).json()
    assert (after["state"], after["level"]) == (before["state"], before["level"])
    if decision != "revoke":
        assert _verified(deployed, OFFICER.address) == {31337: False, 31338: False}
    else:
        _revoke_on_chain(deployed, OFFICER.address)  # leave the shared chains clean


def test_an_officer_cannot_decide_for_a_did_bound_to_their_wallet(client, deployed, database):
    """A DID of any method that the platform has bound to the officer's wallet (its user row) is
    the officer too."""
    officer = _login(client, OFFICER)
    bound = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    with database.session() as s:
        s.add(User(did=bound, address=OFFICER.address, roles="", created_at=datetime.now(UTC)))
    from api import sessions

    with database.session() as s:
        token, _ = sessions.issue(s, client.app.state.settings, bound, "did")
    app = client.post("/kyc/applications", json=APPLICATION, headers={"Authorization": f"Bearer {token}"})
    assert app.status_code == 201, app.text
    r = client.post(f"/kyc/applications/{app.json()['id']}/approve", json={"level": 3}, headers=officer)
    assert r.status_code == 403 and "your own" in r.json()["detail"]
    assert _verified(deployed, OFFICER.address) == {31337: False, 31338: False}


def test_one_wallet_has_one_kyc_status_across_its_dids_and_the_chains(client, deployed):
    officer = _login(client, OFFICER)
    first, second = _login(client, USER), _login(client, USER, 31338)
    app_id = client.post("/kyc/applications", json=APPLICATION, headers=first).json()["id"]
    again = client.post("/kyc/applications", json=APPLICATION, headers=second)
    assert again.status_code == 409 and again.json()["application_id"] == app_id  # one per wallet
    r = client.post(f"/kyc/applications/{app_id}/approve", json={"level": 2}, headers=officer)
    assert r.status_code == 200, r.text
    assert _verified(deployed, USER.address) == {31337: True, 31338: True}
    for who in (first, second):  # the chain verifies the wallet: so does the API, under each DID
        assert client.get("/kyc/verified", headers=who).status_code == 200
        assert client.get("/kyc/status", headers=who).json()["verified"] is True
    assert client.post("/kyc/applications", json=APPLICATION, headers=second).status_code == 409
    r = client.post(f"/kyc/applications/{app_id}/revoke", json={"reason": "document forged"},
                    headers=officer)
    assert r.status_code == 200, r.text
    assert _verified(deployed, USER.address) == {31337: False, 31338: False}
    for who in (first, second):
        assert client.get("/kyc/verified", headers=who).status_code == 403


def test_revoking_one_did_of_a_wallet_revokes_the_wallet(client, deployed, database):
    """Two approved applications of one wallet under two DIDs (as the API let happen before one
    application per wallet was enforced): revoking either leaves nothing approved for the wallet,
    here or on chain."""
    officer = _login(client, OFFICER)
    first, second = _login(client, USER), _login(client, USER, 31338)
    a = client.post("/kyc/applications", json=APPLICATION, headers=first).json()["id"]
    assert client.post(f"/kyc/applications/{a}/approve", json={"level": 2}, headers=officer).status_code == 200
    with database.session() as s:  # the second DID's approval, as older data may hold it
        row = s.get(KycApplication, a)
        assert row is not None
        s.add(KycApplication(
            id="0000000000000b2b", subject=f"did:pkh:eip155:31338:{USER.address}", address=USER.address,
            state="approved", country="FR", level=2, pii=row.pii, submitted_at=datetime.now(UTC),
            reviewed_at=datetime.now(UTC), reviewer="someone", expires_at=row.expires_at,
            credential=row.credential, sync_status="synced"))
    r = client.post("/kyc/applications/0000000000000b2b/revoke", json={"reason": "document forged"},
                    headers=officer)
    assert r.status_code == 200, r.text
    assert _verified(deployed, USER.address) == {31337: False, 31338: False}
    assert client.get(f"/kyc/applications/{a}", headers=officer).json()["state"] == "revoked"
    for who in (first, second):
        assert client.get("/kyc/verified", headers=who).status_code == 403
