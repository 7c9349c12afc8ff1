"""The indexer's tables (SQLAlchemy Core, own metadata: ``chain`` knows nothing of the API).

The API's Alembic history creates them; readers (provenance, market) query them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from chain.index.decoder import DecodedEvent

INDEX_METADATA = MetaData()

chain_events = Table(
    "chain_events", INDEX_METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chain_id", BigInteger, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", String(66), nullable=False),
    Column("block_time", BigInteger, nullable=True),
    Column("tx_hash", String(66), nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("address", String(42), nullable=False),
    Column("contract", String(64), nullable=False),
    Column("event", String(64), nullable=False),
    Column("ref_address", String(42), nullable=False),
    Column("token_id", String(80), nullable=True),
    Column("args", Text, nullable=False),
    UniqueConstraint("chain_id", "tx_hash", "log_index", name="uq_chain_events_log"),
    Index("ix_chain_events_token", "chain_id", "ref_address", "token_id"),
    Index("ix_chain_events_block", "chain_id", "block_number"),
    Index("ix_chain_events_event", "chain_id", "contract", "event"),
)

chain_checkpoints = Table(
    "chain_checkpoints", INDEX_METADATA,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("next_block", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

chain_blocks = Table(
    "chain_blocks", INDEX_METADATA,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(66), nullable=False),
)

chain_watch = Table(
    "chain_watch", INDEX_METADATA,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("address", String(42), primary_key=True),
    Column("contract", String(64), nullable=False),
    Column("from_block", BigInteger, nullable=False),
    Column("source", String(128), nullable=False),
)


@dataclass(frozen=True)
class Watched:
    address: str
    contract: str
    from_block: int
    source: str


class IndexStore:
    """Reads and writes of the index tables for one database engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_tables(self) -> None:
        """Create the tables directly (tests and tools; the API uses its migrations)."""
        INDEX_METADATA.create_all(self.engine)

    # -- checkpoint ---------------------------------------------------------------------------

    def next_block(self, conn: Connection, chain_id: int, default: int = 0) -> int:
        row = conn.execute(select(chain_checkpoints.c.next_block)
                           .where(chain_checkpoints.c.chain_id == chain_id)).first()
        return int(row[0]) if row else default

    def set_next_block(self, conn: Connection, chain_id: int, next_block: int) -> None:
        now = datetime.now(UTC)
        done = conn.execute(update(chain_checkpoints).where(chain_checkpoints.c.chain_id == chain_id)
                            .values(next_block=next_block, updated_at=now))
        if done.rowcount == 0:
            conn.execute(insert(chain_checkpoints).values(chain_id=chain_id, next_block=next_block,
                                                          updated_at=now))

    # -- watched contracts -------------------------------------------------------------------

    def watched(self, conn: Connection, chain_id: int) -> dict[str, Watched]:
        rows = conn.execute(select(chain_watch).where(chain_watch.c.chain_id == chain_id))
        return {r.address: Watched(r.address, r.contract, int(r.from_block), r.source) for r in rows}

    def watch(self, conn: Connection, chain_id: int, address: str, contract: str,
              from_block: int, source: str) -> bool:
        exists = conn.execute(select(chain_watch.c.address).where(and_(
            chain_watch.c.chain_id == chain_id, chain_watch.c.address == address))).first()
        if exists:
            return False
        conn.execute(insert(chain_watch).values(chain_id=chain_id, address=address,
                                                contract=contract, from_block=from_block,
                                                source=source))
        return True

    # -- blocks and events -------------------------------------------------------------------

    def block_hashes(self, conn: Connection, chain_id: int, since: int) -> dict[int, str]:
        rows = conn.execute(select(chain_blocks.c.number, chain_blocks.c.hash).where(and_(
            chain_blocks.c.chain_id == chain_id, chain_blocks.c.number >= since)))
        return {int(n): h for n, h in rows}

    def remember_blocks(self, conn: Connection, chain_id: int, blocks: dict[int, str],
                        keep_from: int) -> None:
        numbers = list(blocks)
        if numbers:
            conn.execute(delete(chain_blocks).where(and_(chain_blocks.c.chain_id == chain_id,
                                                         chain_blocks.c.number.in_(numbers))))
            conn.execute(insert(chain_blocks), [
                {"chain_id": chain_id, "number": n, "hash": h} for n, h in blocks.items()])
        conn.execute(delete(chain_blocks).where(and_(chain_blocks.c.chain_id == chain_id,
                                                     chain_blocks.c.number < keep_from)))

    def add_events(self, conn: Connection, events: Sequence[DecodedEvent],
                   block_times: dict[int, int]) -> int:
        """Insert events not yet stored (de-duplicated by chain, tx hash, log index)."""
        if not events:
            return 0
        chain_id = events[0].chain_id
        keys = {(e.tx_hash, e.log_index) for e in events}
        existing = {(r[0], int(r[1])) for r in conn.execute(
            select(chain_events.c.tx_hash, chain_events.c.log_index).where(and_(
                chain_events.c.chain_id == chain_id,
                chain_events.c.tx_hash.in_({k[0] for k in keys}))))}
        rows = [{
            "chain_id": e.chain_id, "block_number": e.block_number, "block_hash": e.block_hash,
            "block_time": block_times.get(e.block_number), "tx_hash": e.tx_hash,
            "log_index": e.log_index, "address": e.address, "contract": e.contract,
            "event": e.event, "ref_address": e.ref_address, "token_id": e.token_id,
            "args": e.args_json(),
        } for e in events if (e.tx_hash, e.log_index) not in existing]
        if rows:
            conn.execute(insert(chain_events), rows)
        return len(rows)

    def drop_from(self, conn: Connection, chain_id: int, block: int) -> int:
        """Forget events and block hashes from ``block`` on (a reorg replaced them)."""
        gone = conn.execute(delete(chain_events).where(and_(
            chain_events.c.chain_id == chain_id, chain_events.c.block_number >= block))).rowcount
        conn.execute(delete(chain_blocks).where(and_(
            chain_blocks.c.chain_id == chain_id, chain_blocks.c.number >= block)))
        return int(gone or 0)

    def events(self, conn: Connection, chain_id: int | None = None,
               contracts: Iterable[str] | None = None) -> list[dict[str, object]]:
        query = select(chain_events).order_by(chain_events.c.chain_id, chain_events.c.block_number,
                                              chain_events.c.log_index)
        if chain_id is not None:
            query = query.where(chain_events.c.chain_id == chain_id)
        if contracts is not None:
            query = query.where(chain_events.c.contract.in_(list(contracts)))
        return [dict(r._mapping) for r in conn.execute(query)]
