"""A token's story from the index: every event about it, oldest first."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.engine import Connection

from did.methods import did_pkh
from record.index.store import chain_checkpoints, chain_events
from record.provenance.kyc import (
    IDENTITY_CONTRACT,
    IDENTITY_EVENTS,
    identity_evidence,
    kyc_status,
    latest_registry,
)

RANGE_EVENTS = ("ConsecutiveTransfer",)


def _covers(row: dict[str, Any], token_id: int) -> bool:
    args = json.loads(row["args"])
    return int(args["fromTokenId"]) <= token_id <= int(args["toTokenId"])


def story_rows(conn: Connection, chain_id: int, collection: str, token_id: int,
               work_id: int | None = None) -> list[dict[str, Any]]:
    """Indexed events about one token on one chain: those naming it (emitted by the collection
    or naming the collection, e.g. rights records, licenses, sales, bridge locks), editions'
    consecutive mints covering it, and its work's records (``work_id``: the edition's first token)."""
    ids = sorted({str(token_id)} | ({str(work_id)} if work_id is not None else set()))
    where = {"chain_id": chain_id, "collection": collection}
    found = {r.id: dict(r._mapping) for statement, extra in ((_TOKEN_ROWS, {"ids": ids}), (_RANGE_ROWS, {}))
             for r in conn.execute(statement, where | extra)}  # two index lookups, not one scan of an OR
    rows = sorted(found.values(), key=lambda r: (r["block_number"], r["log_index"]))
    keep = []
    for row in rows:
        if row["event"] in RANGE_EVENTS:
            if _covers(row, token_id):
                keep.append(row)
        elif row["token_id"] == str(token_id) or row["event"] in ("WorkMinted", "RightsRegistered",
                                                                 "RightsBound"):
            keep.append(row)
    return keep


DEPARTURES = ("TokenLocked", "TokenBurned")
"""Bridge events that send the token to the other chain (lock on home, burn on remote)."""
ARRIVALS = ("TokenMinted", "TokenUnlocked")
"""Bridge events that deliver it (mint of the wrapped token on remote, unlock on home)."""


def wrapped_token_id(collection: str, token_id: int) -> int:
    """The wrapped id of home token (collection, token id) on the remote chain."""
    return (int(collection, 16) << 96) | token_id


def token_story(conn: Connection, chain_id: int, collection: str, token_id: int,
                other_chains: Sequence[int] = (), work_id: int | None = None) -> list[dict[str, Any]]:
    """A home token's whole story: its events on its own chain, and on each of ``other_chains``
    the bridge's deliveries and departures of it (which name the home collection and token id)
    plus every event of its wrapped token (``collection << 96 | token_id``) in the collection
    that minted it on delivery; merged oldest first, each delivery after its departure."""
    home = story_rows(conn, chain_id, collection, token_id, work_id=work_id)
    registration = registration_of(home)
    if registration is not None:
        args = _args(registration)
        home += commission_rows(conn, chain_id, str(args["contentHash"]), str(args["creator"]))
        home += identity_rows(conn, chain_id, str(args["creator"]),
                              (int(registration["block_number"]), int(registration["log_index"])))
    stories = [home]
    wrapped_id = wrapped_token_id(collection, token_id)
    for other in other_chains:
        if other == chain_id:
            continue
        hops = story_rows(conn, other, collection, token_id)
        hops = [r for r in hops if r["event"] in DEPARTURES + ARRIVALS]
        mint_txs = {r["tx_hash"] for r in hops if r["event"] == "TokenMinted"}
        wrapped = {row.address for row in conn.execute(
            _WRAPPED_MINTS, {"chain_id": other, "token_id": str(wrapped_id), "txs": sorted(mint_txs)})}
        rows = list(hops)
        for address in sorted(wrapped):
            rows += story_rows(conn, other, address, wrapped_id)
        stories.append(rows)
    return merge_chains(stories)


REGISTRATIONS = ("RightsRegistered", "RightsBound")
"""Rights records naming the work's creator (``RightsBound`` when the record came before the mint)."""
ESCROW_CONTRACT = "MilestoneEscrow"
ESCROW_EVENTS = ("EscrowCreated", "MilestoneDelivered", "MilestoneDisputed", "MilestoneReleased",
                 "DisputeResolved")
"""The commission's events kept in a work's story: its funding, and the delivered milestone's
delivery, dispute, and release or resolution."""


# The story's reads, built once with their parameters bound at each call (building a select cost
# more than SQLite took to run it). Each one is answerable from an index of its own (the token's,
# or the contract's events), never by walking the chain's events in block order: an OR across two
# columns, or a block bound beside the event index, made SQLite scan the whole chain (a story took
# 49 ms on an index of 25,000 events). The rows are put in order here.
# tests/unit/test_provenance_story_plans.py checks the plans.
_E = chain_events.c
_TOKEN_ROWS = select(chain_events).where(
    _E.chain_id == bindparam("chain_id"), _E.ref_address == bindparam("collection"),
    _E.token_id.in_(bindparam("ids", expanding=True)))
_RANGE_ROWS = select(chain_events).where(
    _E.chain_id == bindparam("chain_id"), _E.ref_address == bindparam("collection"),
    _E.event.in_(RANGE_EVENTS))
_WRAPPED_MINTS = select(_E.address).where(and_(
    _E.chain_id == bindparam("chain_id"), _E.event == "Transfer", _E.token_id == bindparam("token_id"),
    _E.tx_hash.in_(bindparam("txs", expanding=True))))
_DELIVERIES = select(chain_events).where(and_(
    _E.chain_id == bindparam("chain_id"), _E.contract == ESCROW_CONTRACT, _E.event == "MilestoneDelivered",
    _E.args.contains(bindparam("needle"))))
_ESCROW_ROWS = select(chain_events).where(and_(
    _E.chain_id == bindparam("chain_id"), _E.contract == ESCROW_CONTRACT, _E.event.in_(ESCROW_EVENTS),
    _E.address == bindparam("address")))
_IDENTITY_ROWS = select(chain_events).where(and_(
    _E.chain_id == bindparam("chain_id"), _E.contract == IDENTITY_CONTRACT, _E.event.in_(IDENTITY_EVENTS),
    _E.args.contains(bindparam("needle"))))


def _args(row: dict[str, Any]) -> dict[str, Any]:
    args = row["args"]
    return dict(json.loads(args) if isinstance(args, str) else args)


def registration_of(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The story's first rights record (``RightsRegistered``, else ``RightsBound``) naming a creator."""
    for name in REGISTRATIONS:
        found = next((r for r in rows if r["event"] == name and _args(r).get("creator")), None)
        if found is not None:
            return found
    return None


def commission_rows(conn: Connection, chain_id: int, content_hash: str, creator: str) -> list[dict[str, Any]]:
    """The commissions that produced a work: milestones of ``MilestoneEscrow`` escrows whose seller is
    the work's registered ``creator`` delivered with its ``content_hash``; per such milestone the
    escrow's creation, the delivery, and its dispute and release or resolution. (Anyone can be a
    seller and deliver any hash: an escrow of someone else is not the creator's commission.)"""
    wanted = content_hash.lower()
    deliveries = [dict(r._mapping) for r in conn.execute(
        _DELIVERIES, {"chain_id": chain_id, "needle": wanted[2:]})]
    deliveries = [r for r in deliveries if str(_args(r).get("contentHash", "")).lower() == wanted]
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for delivery in deliveries:
        escrow_id, index = str(_args(delivery)["escrowId"]), str(_args(delivery)["index"])
        rows = [dict(r._mapping) for r in conn.execute(
            _ESCROW_ROWS, {"chain_id": chain_id, "address": delivery["address"]})]
        rows = [r for r in rows if str(_args(r).get("escrowId")) == escrow_id]
        created = next((r for r in rows if r["event"] == "EscrowCreated"), None)
        if created is None or str(_args(created).get("seller", "")).lower() != creator.lower():
            continue
        for row in rows:
            if row["event"] == "EscrowCreated" or str(_args(row).get("index")) == index:
                out[(row["tx_hash"], int(row["log_index"]))] = row
    return list(out.values())


def identity_rows(conn: Connection, chain_id: int, account: str, at: tuple[int, int]) -> list[dict[str, Any]]:
    """The IdentityRegistry events that determine ``account``'s KYC status at position ``at``
    (block, log index) on ``chain_id`` (``record.provenance.kyc.identity_evidence``)."""
    found = conn.execute(_IDENTITY_ROWS, {"chain_id": chain_id, "needle": account[2:]})
    rows = [dict(r._mapping) for r in found if r.block_number <= at[0]]  # bounded here, not in the select
    return [dict(r) for r in identity_evidence(rows, account, at, latest_registry(rows, account, at))]


def creator_view(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The work's creator as the story states it: address, did:pkh, and KYC status at the time of
    the registration (from the identity events among ``rows``)."""
    registration = registration_of(rows)
    if registration is None:
        return None
    creator = str(_args(registration)["creator"])
    chain_id = int(registration["chain_id"])
    identity = [r for r in rows if r["event"] in IDENTITY_EVENTS and int(r["chain_id"]) == chain_id]
    at = (int(registration["block_number"]), int(registration["log_index"]))
    return {"address": creator, "did": did_pkh(creator, chain_id),
            "kyc": kyc_status(identity, creator, at, registration.get("block_time"),
                              latest_registry(identity, creator, at))}


def story_views(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The story's entries as the API shows them (``entry_view``); the rights registration entries
    (``RightsRegistered``, ``RightsBound``, ``WorkMinted``) also state the creator (``creator_view``)."""
    creator = creator_view(rows)
    views = []
    for row in rows:
        view = entry_view(row)
        if creator is not None and row["event"] in (*REGISTRATIONS, "WorkMinted"):
            view["creator"] = creator
        views.append(view)
    return views


def _transfer_id(row: dict[str, Any]) -> str | None:
    if row["event"] not in DEPARTURES + ARRIVALS:
        return None
    args = json.loads(row["args"]) if isinstance(row["args"], str) else row["args"]
    return str(args.get("transferId"))


def merge_chains(stories: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Several chains' stories as one, oldest first: by block time, chain order kept within a
    chain, a transaction's events kept together, and a bridge delivery never before the departure
    it delivers (two chains' clocks may agree to the second, or disagree)."""
    queues: list[list[list[dict[str, Any]]]] = []
    for story in stories:
        groups: list[list[dict[str, Any]]] = []
        for row in sorted(story, key=lambda r: (r["block_number"], r["log_index"])):
            if groups and groups[-1][0]["tx_hash"] == row["tx_hash"] and \
                    groups[-1][0]["chain_id"] == row["chain_id"]:
                groups[-1].append(row)
            else:
                groups.append([row])
        queues.append(groups)
    pending_departures = {_transfer_id(r) for q in queues for g in q for r in g
                          if r["event"] in DEPARTURES}
    merged: list[dict[str, Any]] = []

    def waits(group: list[dict[str, Any]]) -> bool:
        return any(r["event"] in ARRIVALS and _transfer_id(r) in pending_departures for r in group)

    def when(group: list[dict[str, Any]]) -> tuple[int, int, int, int]:
        first = group[0]
        return (first.get("block_time") or 0, first["chain_id"], first["block_number"], first["log_index"])

    while any(queues):
        heads = [q for q in queues if q]
        ready = [q for q in heads if not waits(q[0])] or heads
        chosen = min(ready, key=lambda q: when(q[0]))
        group = chosen.pop(0)
        merged += group
        pending_departures -= {_transfer_id(r) for r in group if r["event"] in DEPARTURES}
    return merged


def entry_view(row: dict[str, Any]) -> dict[str, Any]:
    """One story entry as the API shows it; a bridge event also shows its hop: the transfer id
    (the message id, the same on both chains), its side, and the source and destination chains."""
    args = json.loads(row["args"]) if isinstance(row["args"], str) else row["args"]
    view = {
        "chain_id": row["chain_id"], "block_number": row["block_number"], "block_time": row["block_time"],
        "tx_hash": row["tx_hash"], "log_index": row["log_index"], "contract": row["contract"],
        "address": row["address"], "event": row["event"], "args": args, "bridge": None, "creator": None,
    }
    if row["event"] in DEPARTURES + ARRIVALS:
        transfer_id = int(args["transferId"])
        departure = row["event"] in DEPARTURES
        view["bridge"] = {
            "transfer_id": str(transfer_id), "side": "departure" if departure else "delivery",
            "source_chain_id": transfer_id >> 192,
            "dest_chain_id": int(args["destChainId"]) if departure else int(row["chain_id"]),
        }
    return view


def final_blocks(conn: Connection, chain_ids: Sequence[int]) -> dict[int, int]:
    """The last block the index has finished (final) on each of ``chain_ids`` that has a
    checkpoint: where a bundle's state proofs agree with the indexed story."""
    rows = conn.execute(select(chain_checkpoints.c.chain_id, chain_checkpoints.c.next_block)
                        .where(chain_checkpoints.c.chain_id.in_([int(c) for c in chain_ids]))).all()
    return {int(chain_id): int(next_block) - 1 for chain_id, next_block in rows if int(next_block) > 0}
