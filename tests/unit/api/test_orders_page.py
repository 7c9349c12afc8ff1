"""GET /market/orders: one select serialized once, the same answer as the served model gives
(an order's signature only while it is open), an ETag that answers If-None-Match with 304, and
cursor pages that cover the book exactly once, ties in time included; the old parameters still work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api import create_app
from api.models import MarketOrder
from api.schemas.market import OrderOut

pytestmark = pytest.mark.unit

TOKEN = "0x" + "11" * 20
OTHER = "0x" + "33" * 20
SELLER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _row(n: int, *, status: str = "open", token: str = TOKEN, at: datetime | None = None) -> MarketOrder:
    return MarketOrder(order_hash="0x" + f"{n:064x}", chain_id=31337, side="listing", signer=SELLER, token=token,
                       token_id=str(n), standard=0, quantity="1", unit_price=str(10**18 + n),
                       currency="0x" + "00" * 20, start=0, expiry=2_000_000_000, salt=str(n), counter="0",
                       holding_epoch="0", signature="0x" + "ab" * 65, status=status,
                       created_at=at or T0 + timedelta(seconds=n // 3))  # three orders per second: ties


@pytest.fixture
def book(api_settings, database):
    with database.session() as db:
        db.add_all([_row(n) for n in range(1, 31)])
        db.add_all([_row(100, status="filled"), _row(101, status="stale"), _row(102, token=OTHER)])
    with database.sessions() as db:
        expected = {o.order_hash: OrderOut.of(o).model_dump(mode="json") for o in db.query(MarketOrder)}
    return TestClient(create_app(api_settings, db=database), raise_server_exceptions=False), expected


def test_the_page_is_what_the_served_model_gives_and_never_a_closed_orders_signature(book):
    client, expected = book
    for status in ("open", "filled", "stale"):
        page = client.get("/market/orders", params={"status": status})
        assert page.status_code == 200, page.text
        assert page.json() and all(o == expected[o["order_hash"]] for o in page.json())
    closed = client.get("/market/orders", params={"status": "filled"}).json()
    assert [o["signature"] for o in closed] == [None]
    assert {o["token"] for o in client.get("/market/orders", params={"token": OTHER}).json()} == {OTHER}
    assert len(client.get("/market/orders", params={"limit": 5}).json()) == 5
    assert [o["token_id"] for o in client.get("/market/orders", params={"token_id": 7}).json()] == ["7"]


def test_an_unchanged_page_answers_304_and_a_changed_one_a_new_etag(book, database):
    client, _ = book
    first = client.get("/market/orders", params={"limit": 10})
    etag = first.headers["etag"]
    same = client.get("/market/orders", params={"limit": 10}, headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b""
    with database.session() as db:
        db.get(MarketOrder, first.json()[0]["order_hash"]).status = "cancelled"
    changed = client.get("/market/orders", params={"limit": 10}, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_cursor_pages_cover_the_book_once_newest_first(book):
    client, _ = book
    everything = client.get("/market/orders", params={"limit": 500}).json()
    assert "x-next-cursor" not in client.get("/market/orders", params={"limit": 500}).headers
    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get("/market/orders", params=params)
        assert page.status_code == 200, page.text
        seen += page.json()
        cursor = page.headers.get("x-next-cursor")
        if cursor is None:
            break
    assert seen == everything and len(seen) == 31  # 30 + the other token's, open
    assert [o["created_at"] for o in seen] == sorted((o["created_at"] for o in seen), reverse=True)


def test_a_cursor_the_api_did_not_give_is_a_400(book):
    client, _ = book
    assert client.get("/market/orders", params={"cursor": "not-a-cursor!"}).status_code == 400
