"""Every route of the real app needs a session unless it is listed here as public: a route that
dropped its session dependency fails this test (no chain needed: the session check runs before any
path, query or body is read)."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api import create_app

pytestmark = pytest.mark.unit

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/health/live"),
    ("GET", "/metrics"),  # operators scrape it from loopback; it holds counts, no personal data
    ("POST", "/auth/siwe/nonce"),
    ("POST", "/auth/siwe/login"),
    ("POST", "/auth/did/challenge"),
    ("POST", "/auth/did/login"),
    ("GET", "/market/orders"),
    ("GET", "/market/fills"),
    ("GET", "/market/breaker/{chain_id}/{collection}"),
    ("GET", "/assets/{cid}"),
    ("GET", "/assets/{cid}/content"),
    ("GET", "/provenance/{chain_id}/{collection}/{token_id}"),
    ("GET", "/provenance/{chain_id}/{collection}/{token_id}/bundle"),
    # A verifier holding a KYCCredential asks whether it still stands (like a status list: no reason shown).
    ("GET", "/kyc/credentials/status"),
    # The web app (api/web/): page shells and their script hold no data; they call the routes above
    # with the visitor's session. The catalog reads public chain state only.
    ("GET", "/"), ("GET", "/work/{chain_id}/{collection}/{token_id}"), ("GET", "/studio"), ("GET", "/audit"),
    ("GET", "/account"), ("GET", "/operator/kyc"), ("GET", "/static/{name}"),
    ("GET", "/catalog/platform"), ("GET", "/catalog/works/{chain_id}/{collection}/{token_id}"),
    ("GET", "/operator/risk"), ("GET", "/operator/bridge"), ("GET", "/collector"), ("GET", "/commissions"),
    # ERC-7730 descriptors, for wallets; a wallet's tokens and orders (public on chain and in the book).
    ("GET", "/clear-signing/{name}"), ("GET", "/wallets/{address}/holdings"), ("GET", "/wallets/{address}/orders"),
    # Trading reads (issue #18): public chain state, as the order book is.
    ("GET", "/auctions"), ("GET", "/auctions/{chain_id}/{auction_id}"), ("GET", "/auctions/{chain_id}/credit/{account}"),
    ("GET", "/offers"), ("GET", "/offers/weth/{chain_id}/{account}"), ("GET", "/licenses"),
    ("GET", "/licenses/offered/{chain_id}/{collection}/{token_id}"), ("GET", "/rentals/{chain_id}/{collection}/{token_id}"),
    ("GET", "/escrows"), ("GET", "/escrows/{chain_id}/{escrow_id}"),
    # Operator, income and bridge reads (issue #18): a splitter's balances, bridge transfers, paused families.
    ("GET", "/royalties/{chain_id}/{splitter}"),
    ("GET", "/bridge/transfers/{transfer_id}"), ("GET", "/bridge/transfers"), ("GET", "/ops/paused"),
    # Browse and search (issue #18): the catalogue of minted works, from the index and the order book.
    ("GET", "/works"), ("GET", "/works/collections"), ("GET", "/works/{chain_id}/{collection}/{token_id}/related"),
    # A license grant and the credits contracts hold for an account (public chain state, as the
    # auction credit above); withdrawing them needs the payee's session.
    ("GET", "/licenses/grants/{chain_id}/{grant_id}"), ("GET", "/licenses/credit/{chain_id}/{account}"),
    ("GET", "/market/credits/{chain_id}/{account}"), ("GET", "/escrows/credit/{chain_id}/{account}"),
}
"""What anyone may call without logging in. Adding a route here is a product decision."""

_DUMMY = {"chain_id": "31337", "collection": "0x" + "11" * 20, "token_id": "1", "cid": "bafkqaaa",
          "order_hash": "0x" + "ab" * 32, "app_id": "0123456789abcdef",
          "address": "0x" + "22" * 20}


def _operations(app) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, routers included (the docs pages aside)."""
    out = []
    for route in iter_route_contexts(app.routes):
        if route.path in {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}:
            continue
        out.extend((method, route.path) for method in sorted(route.methods or ()) if method != "HEAD")
    return out


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: _DUMMY.get(m.group(1), "x"), path)


@pytest.fixture
def client(api_settings, database) -> TestClient:
    return TestClient(create_app(api_settings, db=database), raise_server_exceptions=False)


def test_the_public_set_names_real_routes(client):
    assert PUBLIC <= set(_operations(client.app)), "a PUBLIC entry names no route: update the list"


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Bearer " + "A" * 200, "Basic Zm9vOmJhcg=="])
def test_every_non_public_route_refuses_a_request_without_a_valid_session(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    protected = [op for op in _operations(client.app) if op not in PUBLIC]
    assert len(protected) >= 20  # the app's real routes, not an empty list
    wrong = {}
    for method, path in protected:
        r = client.request(method, _concrete(path), headers=headers, json={})
        if r.status_code != 401:
            wrong[f"{method} {path}"] = r.status_code
    assert wrong == {}, f"routes answering without a session: {wrong}"
