"""A token's story from the index: every event about it, oldest first."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from chain.index.store import chain_events

RANGE_EVENTS = ("ConsecutiveTransfer",)


def _covers(row: dict[str, Any], token_id: int) -> bool:
    args = json.loads(row["args"])
    return int(args["fromTokenId"]) <= token_id <= int(args["toTokenId"])


def story_rows(conn: Connection, chain_id: int, collection: str, token_id: int,
               work_id: int | None = None) -> list[dict[str, Any]]:
    """Indexed events about one token on one chain: those naming it (emitted by the collection
    or naming the collection, e.g. rights records, licenses, sales, bridge locks), editions'
    consecutive mints covering it, and its work's records (``work_id``: the edition's first token)."""
    ids = {str(token_id)} | ({str(work_id)} if work_id is not None else set())
    query = select(chain_events).where(and_(
        chain_events.c.chain_id == chain_id,
        chain_events.c.ref_address == collection,
        or_(chain_events.c.token_id.in_(ids), chain_events.c.event.in_(RANGE_EVENTS)),
    )).order_by(chain_events.c.block_number, chain_events.c.log_index)
    rows = [dict(r._mapping) for r in conn.execute(query)]
    keep = []
    for row in rows:
        if row["event"] in RANGE_EVENTS:
            if _covers(row, token_id):
                keep.append(row)
        elif row["token_id"] == str(token_id) or row["event"] in ("WorkMinted", "RightsRegistered",
                                                                 "RightsBound"):
            keep.append(row)
    return keep


def merge_chains(stories: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Several chains' stories as one, ordered by block time (chain order kept within a chain)."""
    merged = [row for story in stories for row in story]
    return sorted(merged, key=lambda r: (r.get("block_time") or 0, r["chain_id"], r["block_number"],
                                         r["log_index"]))


def entry_view(row: dict[str, Any]) -> dict[str, Any]:
    """One story entry as the API shows it."""
    return {
        "chain_id": row["chain_id"], "block_number": row["block_number"], "block_time": row["block_time"],
        "tx_hash": row["tx_hash"], "log_index": row["log_index"], "contract": row["contract"],
        "address": row["address"], "event": row["event"], "args": json.loads(row["args"]),
    }
