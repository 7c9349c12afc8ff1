"""The book follows ERC-1155 receipts: units of an id reaching a listing's signer end the listing
(the marketplace refuses it on chain, its holding epoch moved), so its signature stops being served."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from api.models import MarketOrder
from api.schemas.market import OrderOut

EDITIONS = "0x" + "11" * 20
SELLER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"

pytestmark = pytest.mark.unit


def _listing(order_hash: str, token_id: int, signer: str = SELLER) -> MarketOrder:
    return MarketOrder(order_hash=order_hash, chain_id=31337, side="listing", signer=signer, token=EDITIONS,
                       token_id=str(token_id), standard=1, quantity="5", unit_price="1", currency="0x" + "00" * 20,
                       start=0, expiry=2_000_000_000, salt="1", counter="0", holding_epoch="1", signature="0x" + "ab" * 65,
                       status="open", created_at=datetime.now(UTC))


def test_a_receipt_of_the_listed_id_makes_the_sellers_listings_stale_and_unserved(database):
    from api.market_sync import SyncReport, _apply

    with database.sessions() as db:
        db.add_all([_listing("0x" + "01" * 32, 7), _listing("0x" + "02" * 32, 8),
                    _listing("0x" + "03" * 32, 7, signer=OTHER)])
        db.flush()
        row = SimpleNamespace(contract="Editions1155", event="TransferSingle", address=EDITIONS,
                              args=json.dumps({"operator": OTHER, "from": OTHER, "to": SELLER.lower(),
                                               "id": "7", "value": "1"}))
        report = SyncReport()
        gateway = SimpleNamespace(view=lambda *a: 10**6)  # OTHER still holds plenty: its listing stays open
        _apply(db, gateway, 31337, row, report, None)
        statuses = {o.order_hash[2:4]: o.status for o in db.query(MarketOrder)}
        assert statuses == {"01": "stale", "02": "open", "03": "open"}
        assert report.stale == ["0x" + "01" * 32]
        served = OrderOut.of(db.get(MarketOrder, "0x" + "01" * 32))
        assert served.signature is None and served.status == "stale"
        assert OrderOut.of(db.get(MarketOrder, "0x" + "02" * 32)).signature == "0x" + "ab" * 65
