"""The read routes the collector and operator pages use, without a chain: a wallet's holdings follow
the last Transfer of each token and are confirmed by ownerOf; the console's routes are the risk
role's and refuse everyone else (the page only shows what these answer)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from api import create_app
from api.settings import ApiSettings
from chain.devaccounts import dev_account
from record.index.store import chain_events
from tests.support.api_flow import login

pytestmark = pytest.mark.unit
ALICE, BOB, CAROL, RISK = dev_account(1), dev_account(2), dev_account(3), dev_account(6)
COLLECTION = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


@pytest.fixture
def app(tmp_path: Path) -> Any:
    app = create_app(ApiSettings(environment="test", data_dir=tmp_path, siwe_domain="testserver",
                                 siwe_uri="http://testserver",
                                 role_grants={f"did:pkh:eip155:31337:{RISK.address}": ["risk"]}))
    app.state.gateway.contract_wallet_check = lambda chain_id: lambda *args: False
    return app


def _transfers(app: Any, moves: list[tuple[int, str, str, int]]) -> None:
    with app.state.db.engine.begin() as conn:
        for n, (token_id, frm, to, chain_id) in enumerate(moves):
            conn.execute(insert(chain_events).values(
                chain_id=chain_id, block_number=n + 1, block_hash="0x" + f"{n:064x}", block_time=1_700_000_000 + n,
                tx_hash="0x" + f"{n + 1:064x}", log_index=0, address=COLLECTION, contract="CreatorCollection",
                event="Transfer", ref_address=COLLECTION, token_id=str(token_id),
                args=json.dumps({"from": frm, "to": to, "tokenId": token_id})))


def test_holdings_follow_the_last_transfer_and_the_chain_has_the_last_word(app):
    zero = "0x" + "00" * 20
    _transfers(app, [(1, zero, ALICE.address, 31337), (1, ALICE.address, BOB.address, 31337),
                     (2, zero, BOB.address, 31337), (3, zero, BOB.address, 31338), (4, zero, BOB.address, 31337),
                     (5, zero, CAROL.address, 31337)])
    owners = {1: BOB.address, 2: BOB.address, 3: BOB.address, 4: CAROL.address}  # 4 moved after the index looked

    def view(chain_id: int, address: str, artifact: str, fn: str, args: list[Any]) -> str:
        assert (artifact, fn) == ("CreatorCollection", "ownerOf")
        if chain_id == 31338:
            raise OSError("chain 31338 did not answer")
        return owners[args[0]]

    app.state.gateway.view = view
    client = TestClient(app)
    held = client.get(f"/wallets/{BOB.address.lower()}/holdings").json()
    assert [(h["chain_id"], h["token_id"], h["confirmed"]) for h in held] == [
        (31337, "1", True), (31337, "2", True), (31338, "3", False)]
    assert client.get(f"/wallets/{ALICE.address}/holdings").json() == []  # token 1 left Alice
    assert client.get("/wallets/not-an-address/holdings").status_code == 422


def test_the_console_routes_are_for_the_risk_role_only(app):
    client = TestClient(app, raise_server_exceptions=False)
    for path in ("/console/breakers", "/console/bridge"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=login(client, ALICE)).status_code == 403
    risk = login(client, RISK)
    assert client.get("/console/breakers", headers=risk).json() == []
    app.state.health_probe.bridge_url = lambda: None  # no relayer has run
    assert client.get("/console/bridge", headers=risk).json() == {"readable": False, "transfers": [], "held": []}


def test_the_console_lists_halted_collections_first_with_their_reason(app):
    from api.models import BreakerDecisionRow, CollectionPolicyRow

    later = datetime(2999, 1, 1, tzinfo=UTC)
    with app.state.db.session() as db:
        db.add(CollectionPolicyRow(chain_id=31337, collection="0x" + "aa" * 20, breaker="{}"))
        db.add(CollectionPolicyRow(chain_id=31337, collection=COLLECTION, breaker='{"band_bps": 1000}',
                                   halted_until=later))
        db.add(BreakerDecisionRow(chain_id=31337, collection=COLLECTION, at=datetime.now(UTC), price="1",
                                  action="halt", reason="price moved 40% in 10 minutes", account=None, counted=False))
        db.commit()
    client = TestClient(app)
    rows = client.get("/console/breakers", headers=login(client, RISK)).json()
    assert [(r["collection"], r["halted"]) for r in rows] == [(COLLECTION, True), ("0x" + "aa" * 20, False)]
    assert rows[0]["last_reason"] == "price moved 40% in 10 minutes" and rows[0]["policy"]["band_bps"] == 1000
