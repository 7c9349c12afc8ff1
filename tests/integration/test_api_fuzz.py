"""Property-based fuzzing of the API from its own OpenAPI schema (schemathesis), against real
anvils with every family deployed: no request makes the server fail (5xx), and no route that
declares the session requirement answers without a session."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import ignored_auth, not_a_server_error

from api import create_app
from api.db import Database
from api.settings import ApiSettings
from chain.deploy import deploy_to_chains
from chain.devaccounts import dev_account
from did.settings import DidSettings
from tests.support.api_flow import officer_grants, verified_login

pytestmark = pytest.mark.integration

FUZZ = settings(max_examples=12, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fuzz_app(two_chains, artifacts, tmp_path_factory):
    deploy_to_chains(two_chains, two_chains.specs("all"))
    data = tmp_path_factory.mktemp("fuzz")
    db = Database(f"sqlite:///{data / 'fuzz.db'}")
    db.migrate()
    app = create_app(ApiSettings(environment="test", data_dir=data, siwe_domain="testserver",
                                 siwe_uri="http://testserver", role_grants=officer_grants()),
                     db=db, chain_settings=two_chains, did_settings=DidSettings(environment="test"))
    token = verified_login(TestClient(app), dev_account(5))["Authorization"]
    app.state.fuzz_token = token
    return app


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@FUZZ
def test_no_request_makes_the_server_fail(case, fuzz_app):
    case.call_and_validate(headers={"Authorization": fuzz_app.state.fuzz_token},
                           checks=[not_a_server_error])


@schema.parametrize()
@FUZZ
def test_routes_that_need_a_session_refuse_requests_without_one(case, fuzz_app):
    case.call_and_validate(headers={"Authorization": fuzz_app.state.fuzz_token},
                           checks=[not_a_server_error, ignored_auth])
