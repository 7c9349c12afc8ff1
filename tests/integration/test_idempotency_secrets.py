"""An ``Idempotency-Key`` never hands a credential to anyone: a captured login request (body and
key) repeated byte for byte by another client gets no session, and for every state-changing route
of the app an answer carrying a secret is never replayed, and nothing is replayed across callers.
Real anvils: a SIWE login asks the chain whether the wallet is a contract."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api import create_app
from api.sessions import PREFIX
from api.settings import ApiSettings
from chain.devaccounts import dev_account
from did.credentials import build_presentation, issue_presentation_sync
from did.keys import generate_ed25519_jwk
from did.methods import did_key_from_jwk
from tests.support.api_flow import APPLICATION, login, siwe

pytestmark = pytest.mark.integration

VICTIM, ATTACKER = dev_account(8), dev_account(9)
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
_DUMMY = {"chain_id": "31337", "collection": "0x" + "11" * 20, "token_id": "1", "cid": "bafkqaaa",
          "order_hash": "0x" + "ab" * 32, "app_id": "0123456789abcdef"}


@pytest.fixture
def api_settings(tmp_path) -> ApiSettings:
    return ApiSettings(environment="test", data_dir=tmp_path, siwe_domain="testserver",
                       siwe_uri="http://testserver")


@pytest.fixture
def client(api_settings, database, two_chains):
    return TestClient(create_app(api_settings, db=database, chain_settings=two_chains),
                      raise_server_exceptions=False)


def _did_key_login_body(c: TestClient) -> dict[str, object]:
    jwk = generate_ed25519_jwk()
    holder = did_key_from_jwk(jwk)
    ch = c.post("/auth/did/challenge").json()
    vp = issue_presentation_sync(build_presentation(holder), holder_key=jwk, challenge=ch["challenge"],
                                 domain=ch["domain"])
    return {"presentation": vp}


def _secrets_in(response) -> set[str]:
    """The credentials an answer carries: session tokens, wherever they are in the body."""
    return set(re.findall(re.escape(PREFIX) + r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+", response.text))


def test_a_captured_login_replayed_by_another_client_gets_no_session(client, api_settings, database,
                                                                     two_chains):
    captured = json.dumps(siwe(client, VICTIM)).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": "victim-login-1"}
    first = client.post("/auth/siwe/login", content=captured, headers=headers)
    assert first.status_code == 200
    victim_token = first.json()["token"]

    thief = TestClient(create_app(api_settings, db=database, chain_settings=two_chains),
                       raise_server_exceptions=False)
    attacker_session = login(thief, ATTACKER)
    for extra in ({}, attacker_session):  # anonymous, then with a session of their own
        replay = thief.post("/auth/siwe/login", content=captured, headers={**headers, **extra})
        assert replay.status_code == 401, replay.text
        assert "idempotent-replayed" not in replay.headers
        assert victim_token not in replay.text and not _secrets_in(replay)
    # the victim retrying their own key does not get the token a second time either
    again = client.post("/auth/siwe/login", content=captured, headers=headers)
    assert again.status_code == 401 and victim_token not in again.text
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {victim_token}"})
    assert me.json()["did"].endswith(VICTIM.address)  # the victim's own session is untouched
    assert first.headers.get("cache-control") == "no-store"  # and no cache keeps the token


def _operations(app) -> list[tuple[str, str]]:
    return sorted((m, r.path) for r in iter_route_contexts(app.routes) for m in (r.methods or ())
                  if m in STATE_CHANGING)


def _body_for(c: TestClient, path: str, account) -> dict[str, object]:
    """A valid body where a valid body produces a secret (the logins), a plausible one elsewhere."""
    if path == "/auth/siwe/login":
        return siwe(c, account)
    if path == "/auth/did/login":
        return _did_key_login_body(c)
    if path == "/auth/siwe/nonce":
        return {"address": account.address, "chain_id": 31337}
    if path == "/kyc/applications":
        return dict(APPLICATION)
    return {}


def test_no_route_replays_a_secret_or_replays_across_callers(client, api_settings, database, two_chains):
    """For every state-changing route: the owner's first answer, the owner's repeat, then the same
    request and key from an anonymous client and from another user. A token in an answer is never
    replayed (not even to its owner), and no one but the owner is ever replayed to."""
    owner = login(client, VICTIM)
    other = login(client, ATTACKER)
    operations = _operations(client.app)
    assert ("POST", "/auth/siwe/login") in operations and ("POST", "/auth/did/login") in operations
    carried_secret = []
    for n, (method, path) in enumerate(operations):
        if path == "/auth/logout":
            continue  # ends the owner's session (covered: its answer is an empty 204)
        url = re.sub(r"\{(\w+)\}", lambda m: _DUMMY.get(m.group(1), "x"), path)
        body = _body_for(client, path, VICTIM)
        key = {"Idempotency-Key": f"walk-{n}"}
        raw = json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **key}
        first = client.request(method, url, content=raw, headers={**owner, **sent})
        secrets_ = _secrets_in(first)
        if secrets_:
            carried_secret.append(path)
        repeat = client.request(method, url, content=raw, headers={**owner, **sent})
        if secrets_:
            assert "idempotent-replayed" not in repeat.headers, f"{method} {path} replayed a token"
            assert not secrets_ & _secrets_in(repeat)
        for who in ({}, other):
            stranger = client.request(method, url, content=raw, headers={**who, **sent})
            assert "idempotent-replayed" not in stranger.headers, f"{method} {path} replayed to {who}"
            assert not secrets_ & _secrets_in(stranger), f"{method} {path} leaked a token"
        if secrets_:
            assert first.headers.get("cache-control") == "no-store", f"{method} {path}"
    assert {"/auth/siwe/login", "/auth/did/login"} <= set(carried_secret)
