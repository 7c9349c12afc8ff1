"""The story's index reads are each answered from an index that narrows them to the token, or to
the events of one contract: never by walking the whole chain's events in block order (SQLite chose
that plan for an OR across two columns, or for a block bound beside the event index, and a story
then cost time in proportion to the chain's history)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine

from record.index.store import chain_events
from record.provenance import story

pytestmark = pytest.mark.unit

STATEMENTS = ["_TOKEN_ROWS", "_RANGE_ROWS", "_WRAPPED_MINTS", "_DELIVERIES", "_ESCROW_ROWS", "_IDENTITY_ROWS"]
NARROW = {
    "_TOKEN_ROWS": "ix_chain_events_token (chain_id=? AND ref_address=? AND token_id=?)",
    "_RANGE_ROWS": "ix_chain_events_token (chain_id=? AND ref_address=?)",
    "_WRAPPED_MINTS": "(chain_id=? AND tx_hash=?)",  # the unique key of (chain, tx, log)
    "_DELIVERIES": "ix_chain_events_event (chain_id=? AND contract=? AND event=?)",
    "_ESCROW_ROWS": "ix_chain_events_event (chain_id=? AND contract=? AND event=?)",
    "_IDENTITY_ROWS": "ix_chain_events_event (chain_id=? AND contract=? AND event=?)",
}


@pytest.mark.parametrize("name", STATEMENTS)
def test_each_story_read_uses_a_narrow_index(tmp_path, name):
    engine = create_engine(f"sqlite:///{tmp_path / 'index.db'}")
    chain_events.metadata.create_all(engine)
    sql = re.sub(r"\(__\[POSTCOMPILE_\w+\]\)", "(?)", getattr(story, name).compile(dialect=engine.dialect).string)
    with engine.connect() as conn:
        plan = " | ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}",
                                                               tuple("1" for _ in range(sql.count("?")))))
    assert "ix_chain_events_block" not in plan and "SCAN chain_events" not in plan, plan
    assert NARROW[name] in plan, plan
