"""Sign-In with Ethereum names the site the visitor is on: `chainright up` prints
http://127.0.0.1:8000 and the default sign-in origin is http://localhost:8000, the same server; both
sign in. A message is never made for, nor accepted from, any other domain."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient

from api import create_app
from api.settings import ApiSettings
from chain.devaccounts import dev_account
from did.siwe import parse_siwe_message

pytestmark = pytest.mark.unit
VISITOR = dev_account(3)


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    """The API with the default sign-in settings (nothing but the port set, as `make up` runs it)."""
    app = create_app(ApiSettings(environment="test", data_dir=tmp_path, port=8000))
    app.state.gateway.contract_wallet_check = lambda chain_id: lambda *args: False  # no chain: EOAs only
    return TestClient(app, raise_server_exceptions=False)


def _nonce(client: TestClient, headers: dict[str, str]) -> str:
    r = client.post("/auth/siwe/nonce", json={"address": VISITOR.address, "chain_id": 31337}, headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["message"])


def _login(client: TestClient, message: str) -> int:
    signature = "0x" + bytes(VISITOR.sign_message(encode_defunct(text=message)).signature).hex()
    return client.post("/auth/siwe/login", json={"message": message, "signature": signature}).status_code


def test_the_default_sign_in_origins_are_both_names_of_this_machine_at_the_port():
    assert ApiSettings(port=8000).sign_in_origins() == [("localhost:8000", "http://localhost:8000"),
                                                        ("127.0.0.1:8000", "http://127.0.0.1:8000")]
    assert ApiSettings(port=9123).sign_in_origins()[1] == ("127.0.0.1:9123", "http://127.0.0.1:9123")
    configured = ApiSettings(siwe_domain="market.example", siwe_uri="https://market.example")
    assert configured.sign_in_origins() == [("market.example", "https://market.example")]  # no twin


@pytest.mark.parametrize("headers", [{"Origin": "http://127.0.0.1:8000"}, {"Host": "127.0.0.1:8000"},
                                     {"Origin": "http://localhost:8000"}, {"Host": "localhost:8000"}])
def test_a_visitor_at_either_printed_address_gets_a_message_for_that_address_and_signs_in(client, headers):
    message = _nonce(client, headers)
    expected = (headers.get("Origin") or f"http://{headers['Host']}").removeprefix("http://")
    assert parse_siwe_message(message).domain == expected
    assert _login(client, message) == 200


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Host": "evil.example"},
                                     {"Origin": "http://127.0.0.1:8001"}, {"Origin": "https://localhost:8000"},
                                     {"Origin": "null"}])
def test_a_foreign_origin_gets_a_message_naming_ours_never_its_own(client, headers):
    message = _nonce(client, headers)
    assert parse_siwe_message(message).domain == "localhost:8000"  # a wallet on that page warns


@pytest.mark.parametrize(("issued_at", "rewritten_to"), [
    ("http://localhost:8000", "evil.example"),       # a phishing page rewrites the domain
    ("http://localhost:8000", "127.0.0.1:8000"),     # even to the twin: the challenge binds its domain
    ("http://127.0.0.1:8000", "localhost:8000"),
])
def test_a_signed_message_naming_another_domain_than_its_challenge_is_refused(client, issued_at, rewritten_to):
    message = _nonce(client, {"Origin": issued_at})
    domain = parse_siwe_message(message).domain
    forged = message.replace(f"{domain} wants you", f"{rewritten_to} wants you", 1)
    forged = forged.replace(f"URI: http://{domain}", f"URI: http://{rewritten_to}", 1)
    assert forged != message
    assert _login(client, forged) == 401


def test_the_did_challenge_names_the_visitors_origin_too(client):
    r = client.post("/auth/did/challenge", headers={"Origin": "http://127.0.0.1:8000"})
    assert r.json()["domain"] == "127.0.0.1:8000"
    r = client.post("/auth/did/challenge", headers={"Origin": "http://evil.example"})
    assert r.json()["domain"] == "localhost:8000"


def test_the_platform_lists_where_sign_in_works(client):
    platform = client.get("/catalog/platform").json()
    assert platform["sign_in_origin"] == "http://localhost:8000"
    assert platform["sign_in_origins"] == ["http://localhost:8000", "http://127.0.0.1:8000"]
