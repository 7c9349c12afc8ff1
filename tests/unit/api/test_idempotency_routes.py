"""``Idempotency-Key`` on the real routes: every state-changing operation of a logged-in caller
replays, the ``/auth`` operations (session tokens) never store or replay, personal data is never
stored in clear, uploads replay across multipart boundaries,
records expire, a crashed request's key is freed, and the header is in the OpenAPI schema."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select

from api import create_app, sessions
from api.idempotency import IDEMPOTENT_BY_CONTENT, NATURALLY_IDEMPOTENT, body_digest
from api.models import IdempotencyRecord, User
from chain.devaccounts import dev_account
from tests.support.api_flow import APPLICATION, siwe

pytestmark = pytest.mark.unit

USER = dev_account(1)
_DUMMY = {"chain_id": "31337", "collection": "0x" + "11" * 20, "token_id": "1", "cid": "bafkqaaa",
          "order_hash": "0x" + "ab" * 32, "app_id": "0123456789abcdef"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _app(api_settings, database, **overrides):
    settings = api_settings.model_copy(update=overrides)
    return create_app(settings, db=database)


def _session(api_settings, database) -> dict[str, str]:
    """A logged-in user without a chain (SIWE login asks the chain whether the wallet is a contract)."""
    did = f"did:pkh:eip155:31337:{USER.address}"
    with database.session() as s:
        if s.get(User, did) is None:
            s.add(User(did=did, address=USER.address, roles="", created_at=datetime.now(UTC)))
        token, _ = sessions.issue(s, api_settings, did, "siwe")
    return {"Authorization": f"Bearer {token}"}


def _records(database) -> list[IdempotencyRecord]:
    with database.session() as s:
        rows = list(s.execute(select(IdempotencyRecord)).scalars())
        s.expunge_all()
        return rows


def _state_changing_operations() -> list[tuple[str, str]]:
    from api.settings import ApiSettings

    app = create_app(ApiSettings(environment="test"), db=_NullDb())
    return sorted((m, r.path) for r in iter_route_contexts(app.routes) for m in (r.methods or ())
                  if m in STATE_CHANGING)


class _NullDb:
    """Enough of a Database for create_app to list routes (no query is made)."""

    def migrate(self) -> None:
        pass


OPERATIONS = _state_changing_operations()
KEYED = [op for op in OPERATIONS if not op[1].startswith("/auth/")]
AUTH = [op for op in OPERATIONS if op[1].startswith("/auth/")]


def test_the_parametrisation_covers_the_real_routes():
    assert ("POST", "/market/orders") in OPERATIONS and ("POST", "/assets") in OPERATIONS
    assert len(OPERATIONS) >= 20


@pytest.mark.parametrize(("method", "path"), KEYED, ids=[f"{m} {p}" for m, p in KEYED])
def test_every_state_changing_route_replays_its_first_answer(api_settings, database, method, path):
    client = TestClient(_app(api_settings, database), raise_server_exceptions=False)
    headers = {**_session(api_settings, database), "Idempotency-Key": f"k-{method}-{path}"}
    url = re.sub(r"\{(\w+)\}", lambda m: _DUMMY.get(m.group(1), "x"), path)
    body = {"address": USER.address, "chain_id": 31337} if path == "/auth/siwe/nonce" else {}
    first = client.request(method, url, json=body, headers=headers)
    again = client.request(method, url, json=body, headers=headers)
    assert first.status_code < 500, first.text
    assert "idempotent-replayed" not in first.headers
    if NATURALLY_IDEMPOTENT.match(url) or IDEMPOTENT_BY_CONTENT.match(url):
        # it changes nothing, or its body names what it creates: run again, same answer, nothing stored
        assert "idempotent-replayed" not in again.headers
        assert (again.status_code, again.json().get("detail")) == (first.status_code, first.json().get("detail"))
        assert [r for r in _records(database) if r.path == url] == []
        return
    assert again.headers.get("idempotent-replayed") == "true", f"{method} {path} ran twice"
    assert (again.status_code, again.content) == (first.status_code, first.content)
    stored = [r for r in _records(database) if r.path == url and r.method == method]
    if first.status_code != 204:
        assert len(stored) == 1 and stored[0].status_code == first.status_code


def test_the_naturally_idempotent_routes_are_exactly_the_fill_transactions_and_the_upload():
    """The upload is content-addressed (a repeat is the same CID and record) and streams to disk:
    a stored request would mean buffering its body."""
    assert sorted(p for _, p in KEYED if NATURALLY_IDEMPOTENT.match(p)) == [
        "/assets", "/market/fill-tx/batch", "/market/orders/{order_hash}/fill-tx"]
    assert sorted(p for _, p in KEYED if IDEMPOTENT_BY_CONTENT.match(p)) == [
        "/market/orders", "/market/orders/batch"]


def _transactions(database, client, method, url, headers) -> int:
    from sqlalchemy import event

    begun: list[int] = []

    def count(conn):
        begun.append(1)

    event.listen(database.engine, "begin", count)
    try:
        r = client.request(method, url, json={}, headers=headers)
        assert r.status_code < 500, r.text
    finally:
        event.remove(database.engine, "begin", count)
    return len(begun)


@pytest.mark.parametrize(("url", "most"), [("/market/orders/0x" + "ab" * 32 + "/cancel", 2),
                                          ("/market/orders", 0), ("/market/orders/batch", 0),
                                          ("/market/orders/0x" + "ab" * 32 + "/fill-tx", 0),
                                          ("/market/fill-tx/batch", 0)])
def test_a_key_costs_at_most_two_transactions_and_none_on_a_fill_tx(api_settings, database, url, most):
    """The claim is one transaction, the stored answer a second (the session is the kept caller's);
    a fill-tx stores nothing, and neither does posting orders (a signed order is its own key)."""
    client = TestClient(_app(api_settings, database), raise_server_exceptions=False)
    session = _session(api_settings, database)
    _transactions(database, client, "POST", url, {**session, "Idempotency-Key": "warm"})  # and the purge ran
    plain = _transactions(database, client, "POST", url, session)
    keyed = _transactions(database, client, "POST", url, {**session, "Idempotency-Key": f"tx-{url}"})
    assert keyed - plain <= most, (plain, keyed)


@pytest.mark.parametrize(("method", "path"), AUTH, ids=[f"{m} {p}" for m, p in AUTH])
def test_auth_routes_store_and_replay_nothing(api_settings, database, method, path):
    client = TestClient(_app(api_settings, database), raise_server_exceptions=False)
    headers = {**_session(api_settings, database), "Idempotency-Key": f"k-{method}-{path}"}
    body = {"address": USER.address, "chain_id": 31337} if path == "/auth/siwe/nonce" else {}
    for _ in range(2):
        r = client.request(method, path, json=body, headers=headers)
        assert r.status_code < 500 and "idempotent-replayed" not in r.headers
    assert [r for r in _records(database) if r.path == path] == []


def test_tokens_and_personal_data_are_never_stored_in_clear(api_settings, database, two_chains):
    client = TestClient(create_app(api_settings, db=database, chain_settings=two_chains))
    body = siwe(client, USER)
    key = {"Idempotency-Key": "login-1"}
    first = client.post("/auth/siwe/login", json=body, headers=key)
    again = client.post("/auth/siwe/login", json=body, headers=key)  # the nonce is spent: not replayed
    assert first.status_code == 200 and again.status_code == 401
    token = first.json()["token"]
    assert token not in again.text
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "apply-1"}
    applied = client.post("/kyc/applications", json=APPLICATION, headers=headers)
    replayed = client.post("/kyc/applications", json=APPLICATION, headers=headers)
    assert applied.status_code == replayed.status_code == 201
    assert replayed.json()["id"] == applied.json()["id"]  # ran once
    assert replayed.json()["personal_data"]["legal_name"] == APPLICATION["legal_name"]
    rows = {r.path: r for r in _records(database)}
    assert "/auth/siwe/login" not in rows  # a session token is never stored, not even encrypted
    raw = rows["/kyc/applications"].response_body or b""
    for secret in (APPLICATION["legal_name"], APPLICATION["document_number"], APPLICATION["date_of_birth"]):
        assert secret.encode() not in raw


def test_a_multipart_upload_replays_with_a_new_boundary(api_settings, database):
    client = TestClient(_app(api_settings, database))
    headers = _session(api_settings, database)
    app_id = client.post("/kyc/applications", json=APPLICATION, headers=headers).json()["id"]
    keyed = {**headers, "Idempotency-Key": "doc-1"}
    files = {"file": ("passport.png", b"\x89PNG a scan", "image/png")}
    first = client.post(f"/kyc/applications/{app_id}/document", files=files, headers=keyed)
    again = client.post(f"/kyc/applications/{app_id}/document", files=files, headers=keyed)
    assert first.status_code == again.status_code == 200, again.text
    assert again.headers.get("idempotent-replayed") == "true"
    other = client.post(f"/kyc/applications/{app_id}/document", headers=keyed,
                        files={"file": ("passport.png", b"\x89PNG another scan", "image/png")})
    assert other.status_code == 422 and "different request" in other.json()["detail"]


def test_the_body_digest_ignores_the_boundary_only():
    def form(boundary: bytes, content: bytes) -> tuple[bytes, bytes]:
        body = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
                b"Content-Type: image/png\r\n\r\n" + content + b"\r\n--" + boundary + b"--\r\n")
        return b"multipart/form-data; boundary=" + boundary, body

    assert body_digest(*form(b"aaa111", b"x")) == body_digest(*form(b"bbb222", b"x"))
    assert body_digest(*form(b"aaa111", b"x")) != body_digest(*form(b"aaa111", b"y"))
    assert body_digest(b"application/json", b"{}") != body_digest(b"application/json", b"[]")


def test_records_expire_and_a_crashed_request_frees_its_key(api_settings, database):
    client = TestClient(_app(api_settings, database, idempotency_ttl_s=60, idempotency_stale_s=120))
    headers = {**_session(api_settings, database), "Idempotency-Key": "apply-1"}
    first = client.post("/kyc/applications", json=APPLICATION, headers=headers)
    assert first.status_code == 201
    again = client.post("/kyc/applications", json=APPLICATION, headers=headers)
    assert again.headers.get("idempotent-replayed") == "true" and again.json()["id"] == first.json()["id"]
    with database.session() as s:  # a day later
        for row in s.execute(select(IdempotencyRecord)).scalars():
            row.created_at = datetime.now(UTC) - timedelta(seconds=61)
    later = client.post("/kyc/applications", json=APPLICATION, headers=headers)
    assert later.status_code == 409 and "idempotent-replayed" not in later.headers  # expired: ran again

    with database.session() as s:  # a request that crashed between claim and finish
        row = s.get(IdempotencyRecord, ("apply-1", _principal_of_user()))
        assert row is not None
        row.status_code, row.response_body = None, None
        row.created_at = datetime.now(UTC) - timedelta(seconds=30)
    busy = client.post("/kyc/applications", json=APPLICATION, headers=headers)
    assert busy.status_code == 409 and "still running" in busy.json()["detail"]
    with database.session() as s:
        row = s.get(IdempotencyRecord, ("apply-1", _principal_of_user()))
        assert row is not None
        row.created_at = datetime.now(UTC) - timedelta(seconds=121)
    freed = client.post("/kyc/applications", json=APPLICATION, headers=headers)
    assert freed.status_code == 409 and "already have" in freed.json()["detail"]
    assert "idempotent-replayed" not in freed.headers


def _principal_of_user() -> str:
    import hashlib

    return hashlib.sha256(f"user:did:pkh:eip155:31337:{USER.address}".encode()).hexdigest()


def test_a_keyed_body_over_the_limit_is_413(api_settings, database):
    client = TestClient(_app(api_settings, database, max_upload_bytes=1000), raise_server_exceptions=False)
    r = client.post("/assets", files={"file": ("big.bin", b"x" * (1024 * 1024 + 2000))},
                    headers={**_session(api_settings, database), "Idempotency-Key": "big"})
    assert r.status_code == 413 and "larger than" in r.json()["detail"]


def test_the_header_is_documented_on_every_state_changing_operation(api_settings, database):
    schema = TestClient(_app(api_settings, database)).get("/openapi.json").json()
    missing, extra = [], []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            takes_key = method.upper() in STATE_CHANGING and not path.startswith("/auth/")
            if takes_key and "Idempotency-Key" not in names:
                missing.append(f"{method} {path}")
            if not takes_key and "Idempotency-Key" in names:
                extra.append(f"{method} {path}")
    assert missing == [] and extra == []
    assert sum(1 for ops in schema["paths"].values() for m in ops if m.upper() in STATE_CHANGING) >= 20
