"""Drive the API as its users do: a wallet logs in with SIWE, an officer approves KYC, a wallet
signs and sends the unsigned transactions the API returns."""

from __future__ import annotations

import json
from typing import Any

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from chain.devaccounts import dev_account

OFFICER = dev_account(6)
APPLICATION = {"legal_name": "Alice Example", "date_of_birth": "1990-04-01", "country": "FR",
               "document_type": "passport", "document_number": "AB123456"}


def ok(response: Any, status: int = 200) -> Any:
    """The JSON body of a response that has ``status`` (its text in the failure otherwise)."""
    assert response.status_code == status, response.text
    return response.json()


def refused(response: Any, status: int, *words: str) -> Any:
    """The problem document (RFC 9457) of a refusal with ``status`` whose detail, or its per-field
    errors, say every one of ``words``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    text = str(body.get("detail", "")) + json.dumps(body.get("errors", ""))
    for word in words:
        assert word in text, body
    return body


def officer_grants() -> dict[str, list[str]]:
    return {f"did:pkh:eip155:31337:{OFFICER.address}": ["kyc_officer"]}


def siwe(client: TestClient, account: LocalAccount, chain_id: int = 31337) -> dict[str, str]:
    r = client.post("/auth/siwe/nonce", json={"address": account.address, "chain_id": chain_id})
    assert r.status_code == 200, r.text
    message = r.json()["message"]
    signature = bytes(account.sign_message(encode_defunct(text=message)).signature).hex()
    return {"message": message, "signature": "0x" + signature}


def login(client: TestClient, account: LocalAccount) -> dict[str, str]:
    r = client.post("/auth/siwe/login", json=siwe(client, account))
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def verified_login(client: TestClient, account: LocalAccount, level: int = 2) -> dict[str, str]:
    """Log in and pass KYC (submitted, then approved by the officer on every chain)."""
    headers = login(client, account)
    r = client.post("/kyc/applications", json=APPLICATION, headers=headers)
    assert r.status_code == 201, r.text
    r = client.post(f"/kyc/applications/{r.json()['id']}/approve", json={"level": level},
                    headers=login(client, OFFICER))
    assert r.status_code == 200, r.text
    return headers


def send(web3: Any, account: LocalAccount, unsigned: dict[str, Any]) -> Any:
    from chain.wallet import Wallet

    return Wallet(account).send(web3, unsigned)
