"""The caller kept per token (``api.callers``): a logout, a KYC revocation or a role change made in
this process takes effect at the next request; one made elsewhere (another API process, a console
command: here raw SQL, which no ORM session of this process sees) within the TTL and never later; a
refusal is never kept; an entry never outlives the session or the approval; a request whose caller
is kept costs the route's one transaction and nothing more."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from api import create_app, sessions
from api.callers import CallerCache
from api.models import KycApplication, RoleGrant, User
from chain.devaccounts import dev_account

pytestmark = pytest.mark.unit

TRADER = dev_account(1)
DID = f"did:pkh:eip155:31337:{TRADER.address}"
CANCEL = "/market/orders/0x" + "ab" * 32 + "/cancel"
TTL = 5.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def trading(api_settings, database):
    """A client whose app keeps callers ``TTL`` seconds on a clock the test moves, and a session of
    a user whose KYC is approved."""
    app = create_app(api_settings.model_copy(update={"caller_cache_ttl_s": TTL}), db=database)
    clock = FakeClock()
    app.state.callers.clock = clock
    now = datetime.now(UTC)
    with database.session() as s:
        s.add(User(did=DID, address=TRADER.address, roles="", created_at=now))
        s.add(KycApplication(id="a" * 32, subject=DID, address=TRADER.address, state="approved", country="FR",
                             level=2, pii=b"x", submitted_at=now, expires_at=now + timedelta(days=30),
                             sync_status="synced"))
        token, _ = sessions.issue(s, api_settings, DID, "siwe")
    return TestClient(app, raise_server_exceptions=False), {"Authorization": f"Bearer {token}"}, clock


def _verified(client: TestClient, headers: dict[str, str]) -> int:
    """403: not verified; 422: verified (the empty body is what is refused)."""
    return client.post("/market/orders", json={}, headers=headers).status_code


def test_a_logout_here_ends_the_kept_caller_at_once(trading):
    client, headers, _ = trading
    assert client.get("/auth/me", headers=headers).status_code == 200
    assert _verified(client, headers) == 422
    assert client.post("/auth/logout", headers=headers).status_code == 204
    assert client.get("/auth/me", headers=headers).status_code == 401
    assert _verified(client, headers) == 401


@pytest.mark.parametrize("change", ["revoked", "expired", "rejected"])
def test_a_kyc_change_here_refuses_trading_at_once(trading, database, change):
    client, headers, _ = trading
    assert _verified(client, headers) == 422
    with database.session() as s:
        s.get(KycApplication, "a" * 32).state = change
    assert _verified(client, headers) == 403


def test_a_role_revoked_here_is_gone_at_once(trading, database):
    client, headers, _ = trading
    with database.session() as s:
        s.add(RoleGrant(subject=DID, role="risk", granted_by="admin", granted_at=datetime.now(UTC)))
    assert "risk" in client.get("/auth/me", headers=headers).json()["roles"]
    with database.session() as s:
        grant = s.query(RoleGrant).filter_by(subject=DID).one()
        grant.revoked_by, grant.revoked_at = "admin", datetime.now(UTC)
    assert "risk" not in client.get("/auth/me", headers=headers).json()["roles"]


@pytest.mark.parametrize(("sql", "refused"), [
    ("UPDATE kyc_applications SET state = 'revoked'", 403),
    ("UPDATE sessions SET revoked_at = CURRENT_TIMESTAMP", 401),
])
def test_a_change_made_elsewhere_takes_effect_within_the_ttl(trading, database, sql, refused):
    client, headers, clock = trading
    assert _verified(client, headers) == 422
    with database.engine.begin() as conn:  # no ORM session of this process: as another process
        conn.execute(text(sql))
    clock.now += TTL - 0.1
    assert _verified(client, headers) == 422  # still kept: the documented window
    clock.now += 0.2
    assert _verified(client, headers) == refused


def test_a_refusal_is_never_kept(trading, database):
    client, headers, _ = trading
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE kyc_applications SET state = 'submitted'"))
    assert _verified(client, headers) == 403
    with database.engine.begin() as conn:  # approved elsewhere: the next request passes
        conn.execute(text("UPDATE kyc_applications SET state = 'approved'"))
    assert _verified(client, headers) == 422


def test_an_entry_never_outlives_the_expiry_it_was_read_with():
    clock = FakeClock()
    cache = CallerCache(ttl_s=30, clock=clock)
    loads: list[int] = []

    def load() -> tuple[str, float | None]:
        loads.append(1)
        return "caller", time.time() + 2  # the session (or approval) ends in 2 s

    cache.get("caller", "t", load)
    clock.now += 1.5
    cache.get("caller", "t", load)
    assert len(loads) == 1
    clock.now += 1.0  # past the expiry, long before the TTL
    cache.get("caller", "t", load)
    assert len(loads) == 2


def test_a_ttl_of_zero_reads_every_time():
    cache = CallerCache(ttl_s=0)
    loads: list[int] = []
    for _ in range(3):
        cache.get("caller", "t", lambda: (loads.append(1), None))
    assert len(loads) == 3 and cache.peek("caller", "t") is None


def test_a_kept_caller_costs_no_transaction_of_its_own(trading, database):
    """Before: the body-limit middleware's session check and the route's caller reads each ran in
    their own transaction; now a request whose caller is kept runs the route's one."""
    client, headers, _ = trading
    assert client.post(CANCEL, headers=headers).status_code == 404  # warms the cache
    begun: list[int] = []

    def count(conn):
        begun.append(1)

    event.listen(database.engine, "begin", count)
    try:
        assert client.post(CANCEL, headers=headers).status_code == 404
    finally:
        event.remove(database.engine, "begin", count)
    assert len(begun) == 1
