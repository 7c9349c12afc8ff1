"""The breaker's read of past fills is bounded: an order's check reads the last N fills of its
collection and currency (what ``decide`` uses), newest-first in SQL, oldest-first in the answer,
on every database backend."""

from __future__ import annotations

import json

import pytest

from chain.orders import ETH
from record.index.store import chain_events

COLLECTION = "0x" + "11" * 20
OTHER = "0x" + "22" * 20
COIN = "0x" + "33" * 20

pytestmark = pytest.mark.unit


def _fill(n: int, *, currency: str = ETH, collection: str = COLLECTION) -> dict[str, object]:
    return {"chain_id": 31337, "block_number": n, "block_hash": "0x" + f"{n:064x}", "block_time": 1_700_000_000 + n,
            "tx_hash": "0x" + f"{n:064x}", "log_index": 0, "address": "0x" + "44" * 20,
            "contract": "Marketplace", "event": "OrderFilled", "ref_address": collection,
            "token_id": str(n), "args": json.dumps({"currency": currency, "unitPrice": str(1000 + n)})}


def test_trades_are_the_last_n_fills_of_the_collection_in_the_currency_oldest_first(database):
    from api.risk import trades as _trades

    rows = []
    for n in range(1, 61):  # 60 fills: ETH and the coin interleaved, plus another collection's
        rows.append(_fill(n, currency=ETH if n % 3 else COIN))
        rows.append(_fill(1000 + n, collection=OTHER))
    with database.engine.begin() as conn:
        conn.execute(chain_events.insert(), rows)
    eth_blocks = [n for n in range(1, 61) if n % 3]
    with database.sessions() as db:
        trades = _trades(db, 31337, COLLECTION, ETH, 5)
        assert [t.price for t in trades] == [1000 + n for n in eth_blocks[-5:]]
        coin = _trades(db, 31337, COLLECTION, COIN, 100)
        assert [t.price for t in coin] == [1000 + n for n in range(3, 61, 3)]  # fewer than the limit: all
        assert _trades(db, 31337, COLLECTION, "0x" + "55" * 20, 5) == []
