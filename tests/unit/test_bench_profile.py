"""``chainright bench profile``'s pure parts: routes grouped with their hashes folded, sums turned into
means per request, py-spy's collapsed stacks read into our packages' share and the leaf functions,
and the middleware counting a request's SQL statements and commits (no chain, no server)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from bench.profile import PROFILE_PATH, RequestProfile, hot_functions, install_counters, per_request, route_of

pytestmark = pytest.mark.unit


def test_routes_fold_hashes_and_addresses():
    assert route_of("POST", "/market/orders/0x" + "ab" * 32 + "/fill-tx") == "POST /market/orders/{hex}/fill-tx"
    assert route_of("GET", "/market/orders") == "GET /market/orders"


def test_sums_become_means_per_request():
    means = per_request({"POST /x": {"requests": 4, "wall_ms": 40.0, "cpu_ms": 8.0, "sql": 10, "commits": 4,
                                     "rpc": 2}})
    assert means == {"POST /x": {"requests": 4, "wall_ms": 10.0, "cpu_ms": 2.0, "sql": 2.5, "commits": 1.0,
                                 "rpc": 0.5}}


def test_collapsed_stacks_give_our_share_and_the_leaves():
    raw = ("run (uvicorn/main.py:1);create_order (api/routers/market.py:80);admit (api/admission.py:300);"
           "execute (sqlalchemy/engine/base.py:9) 30\n"
           "run (uvicorn/main.py:1);select (selectors.py:4) 70\n")
    shares = dict(hot_functions(raw))
    assert shares["create_order (api/routers/market.py)"] == 30.0
    assert shares["admit (api/admission.py)"] == 30.0
    assert shares["self: select (selectors.py)"] == 70.0 and "run (uvicorn/main.py)" not in shares


def test_the_middleware_counts_a_requests_sql_and_commits_and_starts_again_when_read():
    install_counters()
    engine = create_engine("sqlite://")
    app = FastAPI()

    @app.get("/work")
    def work() -> dict[str, int]:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
            conn.execute(text("SELECT 2"))
        return {"ok": 1}

    client = TestClient(RequestProfile(app))
    for _ in range(2):
        assert client.get("/work").status_code == 200
    counted = client.get(PROFILE_PATH).json()["GET /work"]
    assert (counted["requests"], counted["sql"], counted["commits"]) == (2, 4, 2)
    assert client.get(PROFILE_PATH).json() == {}
