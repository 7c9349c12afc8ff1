"""The API's frame: problem responses, request ids, idempotency keys, sessions, migrations."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from api import create_app, sessions
from api.db import Base, Database
from api.deps import CurrentUser, DbSession
from api.errors import ConflictError
from api.settings import ApiSettings
from tests.conftest import chain_settings_for

pytestmark = pytest.mark.unit


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    amount: int = Field(gt=0)


def _client(settings: ApiSettings, database: Database) -> tuple[TestClient, dict[str, int]]:
    app = create_app(settings, db=database, chain_settings=chain_settings_for(settings.data_dir))
    calls = {"n": 0}
    router = APIRouter()

    @router.post("/_test/items", status_code=201)
    def create_item(item: Item) -> dict[str, object]:
        calls["n"] += 1
        return {"n": calls["n"], "name": item.name}

    @router.post("/_test/fail")
    def fail() -> None:
        calls["n"] += 1
        raise RuntimeError("boom: secret internals")

    @router.post("/_test/conflict")
    def conflict() -> None:
        raise ConflictError("the thing already exists", existing="x1")

    @router.get("/_test/me")
    def me(caller: CurrentUser) -> dict[str, str]:
        return {"did": caller.did}

    @router.post("/_test/login")
    def login(db: DbSession) -> dict[str, str]:
        token, _ = sessions.issue(db, settings, "did:pkh:eip155:31337:0xabc", "siwe")
        return {"token": token}

    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False), calls


def test_health_reports_the_database_and_is_down_without_chains(api_settings, database):
    client, _ = _client(api_settings, database)  # the chains' ports (free ports) have no node
    r = client.get("/health")
    body = r.json()
    assert r.status_code == 503 and body["status"] == "down" and body["database"] == "ok"
    assert [c["reachable"] for c in body["chains"]] == [False, False]
    assert any("does not answer" in p for p in body["problems"])
    live = client.get("/health/live")
    assert live.status_code == 200 and live.json() == {"status": "ok"}


def test_unknown_route_is_a_problem_document(api_settings, database):
    client, _ = _client(api_settings, database)
    r = client.get("/nowhere")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 404 and body["instance"] == "/nowhere" and body["request_id"]


def test_validation_error_names_the_field(api_settings, database):
    client, _ = _client(api_settings, database)
    r = client.post("/_test/items", json={"name": "ok", "amount": 0})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"].startswith("body.amount:")


def test_api_error_carries_its_status_and_extras(api_settings, database):
    client, _ = _client(api_settings, database)
    r = client.post("/_test/conflict")
    assert r.status_code == 409 and r.json()["existing"] == "x1"
    assert r.json()["detail"] == "the thing already exists"


def test_unexpected_error_is_500_without_internals(api_settings, database):
    client, _ = _client(api_settings, database)
    r = client.post("/_test/fail")
    assert r.status_code == 500
    assert "boom" not in r.text and "Traceback" not in r.text and r.json()["request_id"]


def test_request_id_is_echoed_or_made(api_settings, database):
    client, _ = _client(api_settings, database)
    assert client.get("/health", headers={"X-Request-ID": "req-12345678"}).headers["x-request-id"] == "req-12345678"
    made = client.get("/health", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert made != "bad id with spaces" and len(made) == 32


def _as_user(client: TestClient, key: str) -> dict[str, str]:
    """Idempotency keys are honoured for a logged-in caller only."""
    return {"Authorization": f"Bearer {client.post('/_test/login').json()['token']}", "Idempotency-Key": key}


def test_idempotency_key_replays_the_first_answer(api_settings, database):
    client, calls = _client(api_settings, database)
    headers = _as_user(client, "k1")
    first = client.post("/_test/items", json={"name": "a", "amount": 1}, headers=headers)
    again = client.post("/_test/items", json={"name": "a", "amount": 1}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() == {"n": 1, "name": "a"}
    assert again.headers.get("idempotent-replayed") == "true"
    assert calls["n"] == 1
    other = client.post("/_test/items", json={"name": "a", "amount": 1}, headers={**headers, "Idempotency-Key": "k2"})
    assert other.json()["n"] == 2


def test_idempotency_key_reused_for_another_request_is_refused(api_settings, database):
    client, calls = _client(api_settings, database)
    headers = _as_user(client, "k1")
    client.post("/_test/items", json={"name": "a", "amount": 1}, headers=headers)
    r = client.post("/_test/items", json={"name": "b", "amount": 1}, headers=headers)
    assert r.status_code == 422 and "different request" in r.json()["detail"]
    assert calls["n"] == 1


def test_idempotency_does_not_store_server_errors(api_settings, database):
    client, calls = _client(api_settings, database)
    assert client.post("/_test/fail", headers={"Idempotency-Key": "f1"}).status_code == 500
    assert client.post("/_test/fail", headers={"Idempotency-Key": "f1"}).status_code == 500
    assert calls["n"] == 2, "a 5xx answer must not be replayed: the retry runs again"


def test_idempotency_keys_are_per_caller(api_settings, database):
    client, _ = _client(api_settings, database)
    client.post("/_test/items", json={"name": "a", "amount": 1}, headers=_as_user(client, "k"))
    for stranger in ({"Idempotency-Key": "k"}, {"Idempotency-Key": "k", "Authorization": "Bearer someone-else"}):
        r = client.post("/_test/items", json={"name": "a", "amount": 1}, headers=stranger)
        assert "idempotent-replayed" not in r.headers
    assert r.json()["n"] == 3


def test_idempotency_keys_of_anonymous_callers_store_and_replay_nothing(api_settings, database):
    client, calls = _client(api_settings, database)
    for _ in range(2):
        r = client.post("/_test/items", json={"name": "a", "amount": 1}, headers={"Idempotency-Key": "anon"})
        assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert calls["n"] == 2


def test_concurrent_repeats_run_once(api_settings, database):
    client, calls = _client(api_settings, database)
    results: list[int] = []
    headers = _as_user(client, "race")

    def post() -> None:
        r = client.post("/_test/items", json={"name": "c", "amount": 1}, headers=headers)
        results.append(r.status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls["n"] == 1
    assert set(results) <= {201, 409} and 201 in results


def test_session_token_opens_protected_routes(api_settings, database):
    client, _ = _client(api_settings, database)
    assert client.get("/_test/me").status_code == 401
    token = client.post("/_test/login").json()["token"]
    r = client.get("/_test/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["did"] == "did:pkh:eip155:31337:0xabc"


def test_tampered_expired_and_revoked_tokens_are_refused(api_settings, database):
    with database.session() as db:
        token, info = sessions.issue(db, api_settings, "did:key:z6Mk", "did")
    with database.session() as db:
        assert sessions.resolve(db, api_settings, token).subject == "did:key:z6Mk"
        head, body, sig = token.split(".")
        forged = ".".join([head, body[:-2] + ("AA" if body[-2:] != "AA" else "BB"), sig])
        with pytest.raises(Exception, match=r"signature is invalid|malformed"):
            sessions.resolve(db, api_settings, forged)
        with pytest.raises(Exception, match="expired"):
            sessions.resolve(db, api_settings, token, now=datetime.now(UTC) + timedelta(hours=2))
        sessions.revoke(db, info.session_id)
    with database.session() as db, pytest.raises(Exception, match="logged out"):
        sessions.resolve(db, api_settings, token)


def test_migrations_match_the_models(migrated):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with migrated.engine.connect() as conn:
        from record.index.store import INDEX_METADATA

        diff = compare_metadata(MigrationContext.configure(conn), [Base.metadata, INDEX_METADATA])
    assert diff == [], f"models and migrations differ: {diff}"


def test_production_refuses_development_secrets(tmp_path):
    with pytest.raises(ValueError, match="SESSION_SECRET"):
        ApiSettings(environment="production", data_dir=tmp_path)
