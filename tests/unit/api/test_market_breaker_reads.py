"""The circuit breaker judges an order against the last N fills of its collection in its currency:
its band is centred on their median, whatever else is indexed (older fills, fills in another
currency, another collection's fills), on every database backend. Read through the breaker's
public steps (``api.risk.breaker_state`` and ``breaker_check``), no chain: a listing needs no
chain read, and the collection is not halted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from statistics import median_low

import pytest

from api.breaker import decide
from api.errors import UnprocessableError
from api.market_sync import PolicyIn, policy_of
from api.models import CollectionPolicyRow
from api.risk import breaker_check, breaker_state
from chain.orders import ETH, Order, OrderSide, TokenStandard
from record.index.store import chain_events

pytestmark = pytest.mark.unit

COLLECTION = "0x" + "11" * 20
OTHER = "0x" + "22" * 20
COIN = "0x" + "33" * 20
SELLER = "0x" + "66" * 20
N = 5

pytestmark = pytest.mark.unit


class NoChain:
    """A gateway that fails the test if the breaker reaches for a chain."""

    def __getattr__(self, name: str) -> None:
        raise AssertionError(f"the breaker read the chain ({name}) for a listing of an unhalted collection")


def _fill(n: int, *, currency: str = ETH, collection: str = COLLECTION, price: int | None = None) -> dict[str, object]:
    return {"chain_id": 31337, "block_number": n, "block_hash": "0x" + f"{n:064x}", "block_time": 1_700_000_000 + n,
            "tx_hash": "0x" + f"{n:064x}", "log_index": 0, "address": "0x" + "44" * 20,
            "contract": "Marketplace", "event": "OrderFilled", "ref_address": collection,
            "token_id": str(n), "args": json.dumps({"currency": currency, "unitPrice": str(price or 1000 + n),
                                                    "buyer": "0x" + f"{n:040x}", "seller": SELLER})}


def _listing(price: int, currency: str = ETH) -> Order:
    return Order(OrderSide.LISTING, SELLER, COLLECTION, 1, TokenStandard.ERC721, 1, price, currency, 0, 2**40, 0, 0)


@pytest.fixture
def indexed(database):
    """60 fills of the collection, ETH and a coin interleaved, the oldest ETH ones far dearer, plus
    another collection's fills at a price of their own; the policy reads the last N fills."""
    rows = []
    for n in range(1, 61):
        rows.append(_fill(n, currency=ETH if n % 3 else COIN, price=10**6 if n < 10 else None))
        rows.append(_fill(1000 + n, collection=OTHER, price=5))
    with database.engine.begin() as conn:
        conn.execute(chain_events.insert(), rows)
    with database.sessions() as db:
        db.add(CollectionPolicyRow(chain_id=31337, collection=COLLECTION, secondary_sales=True, gift_holding_s=0,
                                   breaker=PolicyIn(reference_fills=N).model_dump_json()))
        db.commit()
    return database


def test_the_reference_is_the_median_of_the_last_n_fills_in_the_orders_currency(indexed):
    eth = [1000 + n for n in range(10, 61) if n % 3]
    now = datetime.now(UTC)
    with indexed.sessions() as db:
        row = db.get(CollectionPolicyRow, (31337, COLLECTION))
        _, policy = policy_of(row)
        state = breaker_state(db, _listing(1), 31337, row, policy, now)
        assert [t.price for t in state.trades] == eth[-N:]  # oldest first
        assert decide(state, 1, policy, now, account=SELLER, executable=True).reference == median_low(eth[-N:])
        coin = breaker_state(db, _listing(1, COIN), 31337, row, policy, now)
        assert [t.price for t in coin.trades] == [1000 + n for n in range(3, 61, 3)][-N:]
        none = breaker_state(db, _listing(1, "0x" + "55" * 20), 31337, row, policy, now)
        assert list(none.trades) == []


def test_an_order_is_accepted_or_refused_against_that_band(indexed):
    reference = median_low([1000 + n for n in range(10, 61) if n % 3][-N:])
    with indexed.sessions() as db:
        row = db.get(CollectionPolicyRow, (31337, COLLECTION))
        breaker_check(NoChain(), db, _listing(reference), 31337, row)  # at the reference: accepted
        with pytest.raises(UnprocessableError, match="outside the band") as refused:
            breaker_check(NoChain(), db, _listing(10**6), 31337, row)  # the old fills' price: refused
        assert refused.value.extra["band"]["reference"] == str(reference)
        with pytest.raises(UnprocessableError, match="outside the band"):
            breaker_check(NoChain(), db, _listing(5), 31337, row)  # the other collection's price


def _state_reads(database, run) -> int:
    """How many times ``run()`` read a collection's fills (the breaker state's first query)."""
    from sqlalchemy import event

    reads: list[str] = []

    def count(conn, cursor, statement, *args):
        if "chain_events" in statement:
            reads.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    return len(reads)


def test_a_batch_reads_the_breaker_state_once_per_collection_while_it_accepts(indexed):
    reference = median_low([1000 + n for n in range(10, 61) if n % 3][-N:])
    with indexed.sessions() as db:
        row = db.get(CollectionPolicyRow, (31337, COLLECTION))
        one_by_one = _state_reads(indexed, lambda: [breaker_check(NoChain(), db, _listing(reference), 31337, row)
                                                    for _ in range(5)])
        memo: dict = {}
        batched = _state_reads(indexed, lambda: [breaker_check(NoChain(), db, _listing(reference), 31337, row, memo)
                                                 for _ in range(5)])
        assert (one_by_one, batched) == (5, 1)
        coin = _state_reads(indexed, lambda: breaker_check(NoChain(), db, _listing(reference, COIN), 31337, row, memo))
        assert coin == 1  # another currency: its own fills, its own state


def test_a_refusal_in_a_batch_makes_the_next_order_read_afresh(indexed):
    """A refusal is a row the next decision counts: after one, the batch's states of that collection are
    dropped, so every order is judged exactly as if it had been posted alone."""
    reference = median_low([1000 + n for n in range(10, 61) if n % 3][-N:])
    with indexed.sessions() as db:
        row = db.get(CollectionPolicyRow, (31337, COLLECTION))
        memo: dict = {}
        breaker_check(NoChain(), db, _listing(reference), 31337, row, memo)
        assert len(memo) == 1
        with pytest.raises(UnprocessableError, match="outside the band"):
            breaker_check(NoChain(), db, _listing(10**6), 31337, row, memo)
        assert memo == {}
        _, policy = policy_of(row)
        now = datetime.now(UTC)
        alone = decide(breaker_state(db, _listing(reference), 31337, row, policy, now), reference, policy, now,
                       account=SELLER, executable=True)
        reads = _state_reads(indexed, lambda: breaker_check(NoChain(), db, _listing(reference), 31337, row, memo))
        assert reads == 1 and alone.action == "accept"
