"""/metrics: request counts and latencies per route template, and the platform gauges (KYC queue,
breaker halts, relayer backlog) exist and move. Chain gauges are covered in
tests/integration/test_observability.py (they need running chains)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from api import create_app
from api.models import CollectionPolicyRow, KycApplication
from bridge.store import BridgeStore, bridge_transfers
from tests.conftest import chain_settings_for

pytestmark = pytest.mark.unit


def sample(body: str, name: str, **labels: str) -> float | None:
    """The value of one sample in the exposition text (None when it is absent)."""
    for line in body.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        if m is None or m.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return None


@pytest.fixture
def platform(api_settings, database):
    chains = chain_settings_for(api_settings.data_dir)
    app = create_app(api_settings, db=database, chain_settings=chains)
    return app, TestClient(app, raise_server_exceptions=False)


def scrape(app, client: TestClient) -> str:
    app.state.health_probe._cached = None  # the report is cached a second; tests want it now
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return r.text


def test_requests_are_counted_per_route_template_not_raw_path(platform):
    app, client = platform
    for _ in range(3):
        client.get("/health/live")
    client.get("/provenance/31337/0x0000000000000000000000000000000000000001/7")
    client.get("/nowhere/0xdeadbeef")
    body = scrape(app, client)
    assert sample(body, "chainright_http_requests_total", method="GET", route="/health/live",
                  status="200") == 3.0
    template = "/provenance/{chain_id}/{collection}/{token_id}"
    assert sample(body, "chainright_http_requests_total", method="GET", route=template) is not None
    assert sample(body, "chainright_http_requests_total", route="<unmatched>", status="404") == 1.0
    assert "0xdeadbeef" not in body and "/7" not in body  # raw paths never become labels
    assert sample(body, "chainright_http_request_duration_seconds_count", method="GET",
                  route="/health/live") == 3.0
    client.get("/health/live")
    assert sample(scrape(app, client), "chainright_http_requests_total", route="/health/live",
                  status="200") == 4.0


def test_kyc_queue_and_breaker_halts_move(platform, database):
    app, client = platform
    body = scrape(app, client)
    queue0 = sample(body, "chainright_kyc_queue_length")
    halted0 = sample(body, "chainright_breaker_halted_collections")
    assert queue0 is not None and halted0 is not None
    now = datetime.now(UTC)
    with database.session() as s:
        s.add(KycApplication(id="metrics-app-1", subject="did:example:metrics", state="submitted",
                             country="DE", pii=b"x", submitted_at=now))
        s.add(CollectionPolicyRow(chain_id=31337, collection="0x" + "ab" * 20, breaker="{}",
                                  halted_until=now + timedelta(hours=1)))
        s.add(CollectionPolicyRow(chain_id=31337, collection="0x" + "cd" * 20, breaker="{}",
                                  halted_until=now - timedelta(hours=1)))  # a halt that is over
        s.commit()
    body = scrape(app, client)
    assert sample(body, "chainright_kyc_queue_length") == queue0 + 1
    assert sample(body, "chainright_breaker_halted_collections") == halted0 + 1


def test_relayer_backlog_and_oldest_pending_move(platform):
    app, client = platform
    body = scrape(app, client)
    assert sample(body, "chainright_relayer_backlog") is None  # no bridge database yet: no gauge
    chains = app.state.gateway.settings
    store = BridgeStore.open(f"sqlite:///{chains.data_dir / 'bridge.db'}")
    now = time.time()
    with store.transaction() as conn:
        for i, (status, age) in enumerate([("pending", 120.0), ("failed", 30.0), ("delivered", 900.0)]):
            conn.execute(insert(bridge_transfers).values(
                source_chain_id=31337, transfer_id=f"0x{i:064x}", dest_chain_id=31338,
                source_bridge="0x" + "11" * 20, dest_bridge="0x" + "22" * 20, collection="0x" + "33" * 20,
                token_id=str(i), sender="0x" + "44" * 20, recipient="0x" + "55" * 20, tx_hash="0x" + "66" * 32,
                log_index=i, block_number=1, block_hash="0x" + "77" * 32, status=status, attempts=0,
                observed_at=now - age, updated_at=now))
    body = scrape(app, client)
    assert sample(body, "chainright_relayer_backlog") == 2.0
    oldest = sample(body, "chainright_relayer_oldest_pending_seconds")
    assert oldest is not None and 119 <= oldest < 130
    health = client.get("/health").json()
    assert health["relayer"]["pending"] == 2


def test_chain_gauges_say_down_when_no_chain_answers(platform):
    app, client = platform
    body = scrape(app, client)
    assert sample(body, "chainright_chain_up", chain="home") == 0.0
    assert sample(body, "chainright_ready") == 0.0
