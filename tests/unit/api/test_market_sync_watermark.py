"""The market routes follow the index without re-reading it on every request: ``follow_chain``
applies what was indexed since its last sync and does nothing when nothing was, including after a
reset of the tables, and when another chain's higher ids were committed first."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from api.models import MarketOrder
from record.index.store import chain_checkpoints, chain_events

pytestmark = pytest.mark.unit

TOKEN = "0x" + "11" * 20
MARKET = "0x" + "22" * 20
SELLER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _order(order_hash: str) -> MarketOrder:
    return MarketOrder(order_hash=order_hash, chain_id=31337, side="listing", signer=SELLER, token=TOKEN,
                       token_id="1", standard=0, quantity="1", unit_price="1", currency="0x" + "00" * 20,
                       start=0, expiry=2_000_000_000, salt="1", counter="0", holding_epoch="0",
                       signature="0x" + "ab" * 65, status="open", created_at=datetime.now(UTC))


def _cancelled(database, order_hash: str, n: int, *, chain_id: int = 31337, event_id: int | None = None,
               checkpoint: int | None = None) -> None:
    row = {"chain_id": chain_id, "block_number": n, "block_hash": "0x" + "00" * 32, "block_time": 0,
           "tx_hash": "0x" + f"{n:064x}", "log_index": 0, "address": MARKET, "contract": "Marketplace",
           "event": "OrderCancelled", "ref_address": TOKEN, "token_id": None,
           "args": json.dumps({"orderHash": order_hash})}
    if event_id is not None:
        row["id"] = event_id
    with database.engine.begin() as conn:
        conn.execute(chain_events.insert().values(**row))
        if checkpoint is not None:
            conn.execute(chain_checkpoints.delete().where(chain_checkpoints.c.chain_id == chain_id))
            conn.execute(chain_checkpoints.insert().values(chain_id=chain_id, next_block=checkpoint,
                                                           updated_at=datetime.now(UTC)))


def _status(database, order_hash: str) -> str:
    with database.sessions() as db:
        return db.get(MarketOrder, order_hash).status


@pytest.fixture
def counted(monkeypatch):
    import api.market_sync as market_sync

    calls: list[int] = []
    real = market_sync.sync_market

    def counting(db, gateway, chain_id, **kw):
        calls.append(chain_id)
        return real(db, gateway, chain_id, **kw)

    monkeypatch.setattr(market_sync, "sync_market", counting)
    return calls


def test_a_request_after_nothing_was_indexed_does_not_sync_and_a_new_event_is_applied(database, counted):
    from api.market_sync import follow_chain

    gateway = SimpleNamespace()
    first, second = "0x" + "01" * 32, "0x" + "02" * 32
    with database.session() as db:
        db.add_all([_order(first), _order(second)])
    assert follow_chain(database, gateway, 31337).events == 0 and counted == []  # nothing indexed at all
    _cancelled(database, first, 1, checkpoint=2)
    assert follow_chain(database, gateway, 31337).cancelled == [first]
    assert _status(database, first) == "cancelled" and len(counted) == 1
    for _ in range(3):
        assert follow_chain(database, gateway, 31337).events == 0
    assert len(counted) == 1  # the probe saw nothing new: no sync transaction
    _cancelled(database, second, 2)  # even without a checkpoint move, a new id is seen
    assert follow_chain(database, gateway, 31337).cancelled == [second]
    assert len(counted) == 2


def test_a_reset_of_the_tables_is_not_mistaken_for_nothing_new(database, counted):
    from api.market_sync import follow_chain
    from api.models import Base
    from record.index.store import INDEX_METADATA

    gateway = SimpleNamespace()
    order = "0x" + "03" * 32
    with database.session() as db:
        db.add(_order(order))
    _cancelled(database, order, 1, event_id=1, checkpoint=2)
    follow_chain(database, gateway, 31337)
    with database.engine.begin() as conn:  # as between two tests: the same ids and checkpoint come back
        for table in [*reversed(Base.metadata.sorted_tables), *reversed(INDEX_METADATA.sorted_tables)]:
            conn.execute(table.delete())
    with database.session() as db:
        db.add(_order(order))
    _cancelled(database, order, 1, event_id=1, checkpoint=2)
    assert follow_chain(database, gateway, 31337).cancelled == [order]
    assert _status(database, order) == "cancelled"


def test_a_checkpoint_move_alone_makes_the_book_look_again(database, counted):
    """An event can be committed with an id below the newest one (another chain's indexer committed
    first); its indexer step moves the chain's checkpoint, and the book looks again."""
    from api.market_sync import follow_chain

    gateway = SimpleNamespace()
    order = "0x" + "04" * 32
    with database.session() as db:
        db.add(_order(order))
    _cancelled(database, "0x" + "ff" * 32, 1, chain_id=31338, event_id=10, checkpoint=2)
    follow_chain(database, gateway, 31337)
    assert len(counted) == 1
    follow_chain(database, gateway, 31337)
    assert len(counted) == 1
    with database.engine.begin() as conn:
        conn.execute(chain_checkpoints.insert().values(chain_id=31337, next_block=5, updated_at=datetime.now(UTC)))
    follow_chain(database, gateway, 31337)
    assert len(counted) == 2
    _cancelled(database, order, 3, event_id=11, checkpoint=6)
    follow_chain(database, gateway, 31337)
    assert _status(database, order) == "cancelled"
