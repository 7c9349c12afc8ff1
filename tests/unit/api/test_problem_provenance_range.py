"""A story too long for a bundle is the client's problem to solve (422 naming the limit), not a
chain outage (503) or a server error (500)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.problems import install_problem_handlers
from chain.errors import ProvenanceRangeError

pytestmark = pytest.mark.unit


def test_a_provenance_range_error_is_a_422_naming_the_limit():
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/bundle")
    def bundle() -> None:
        raise ProvenanceRangeError("the story spans 20001 blocks; a bundle links at most 20000 headers")

    r = TestClient(app, raise_server_exceptions=False).get("/bundle")
    assert r.status_code == 422
    assert "at most 20000 headers" in r.json()["detail"]
