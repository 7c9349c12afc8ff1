"""Request ids reach the logs: every line logged while a request runs (by any logger, including the
last-resort exception line) carries the request's id, and the API's log format prints it."""

from __future__ import annotations

import logging

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from api import create_app
from api.requestid import LOG_FORMAT

pytestmark = pytest.mark.unit


@pytest.fixture
def client(api_settings, database) -> TestClient:
    app = create_app(api_settings, db=database)
    router = APIRouter()

    @router.get("/_test/log")
    def write_logs() -> dict[str, str]:
        logging.getLogger("chain.some.module").warning("reading the chain")
        logging.getLogger("api.routers.market").info("an order arrived")
        return {"ok": "yes"}

    @router.get("/_test/crash")
    def crash() -> None:
        raise RuntimeError("boom")

    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


def test_every_line_of_a_request_carries_its_id(client, caplog):
    caplog.set_level(logging.INFO)
    rid = "req-logs-0001"
    assert client.get("/_test/log", headers={"X-Request-ID": rid}).status_code == 200
    mine = [r for r in caplog.records if r.getMessage() in {"reading the chain", "an order arrived"}]
    assert len(mine) == 2
    assert [getattr(r, "request_id", None) for r in mine] == [rid, rid]
    assert all(f"[{rid}]" in logging.Formatter(LOG_FORMAT).format(r) for r in mine)

    caplog.clear()
    logging.getLogger("outside").warning("not in a request")
    assert caplog.records[-1].request_id == "-"  # type: ignore[attr-defined]


def test_the_last_resort_exception_line_names_the_request(client, caplog):
    rid = "req-crash-0002"
    r = client.get("/_test/crash", headers={"X-Request-ID": rid})
    assert r.status_code == 500 and r.json()["request_id"] == rid
    lines = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert lines, "the unhandled error was not logged"
    assert all(getattr(rec, "request_id", None) == rid for rec in lines)
    assert any(rid in rec.getMessage() for rec in lines)  # in the message itself, whatever the format
