"""A wallet's holdings on every chain the platform serves, from the index.

Tokens from ``chain_events`` confirmed with ``ownerOf``: the same route and answer as the web app's
wallets router (``GET /wallets/{address}/holdings``), kept here for ``chainright holdings`` until
both meet."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import func, select
from web3 import Web3

from api.deps import DbSession
from api.types import Address
from record.index.store import chain_events

router = APIRouter(prefix="/wallets", tags=["wallets"])
MAX_TOKENS = 500
"""The most tokens one holdings answer looks at (each costs one ownerOf)."""


class Holding(BaseModel):
    chain_id: int
    collection: str
    token_id: str
    acquired_block: int
    acquired_at: int | None
    """The block time (Unix seconds) of the Transfer that brought the token to this wallet."""
    confirmed: bool
    """True when ``ownerOf`` on the chain names this wallet now (False: the chain did not answer)."""


@router.get("/{address}/holdings", response_model=list[Holding],
            summary="The ERC-721 tokens this wallet holds on every chain served (index + ownerOf)")
def holdings(address: Address, db: DbSession, request: Request) -> list[Holding]:
    """Only the tokens whose Transfer history names this wallet are looked at, at most
    ``MAX_TOKENS``, each confirmed with one ``ownerOf`` (the index may lag a block)."""
    gateway = request.app.state.gateway
    transfer = (chain_events.c.event == "Transfer", chain_events.c.token_id.is_not(None))
    touched = db.execute(
        select(chain_events.c.chain_id, chain_events.c.address, chain_events.c.token_id).distinct()
        .where(*transfer, func.lower(chain_events.c.args).like(f"%{address.lower()}%"))
        .limit(MAX_TOKENS)).all()
    last: dict[tuple[int, str, str], tuple[str, int, int | None]] = {}
    for chain_id, collection, token_id in touched:
        row = db.execute(
            select(chain_events.c.args, chain_events.c.block_number, chain_events.c.block_time)
            .where(*transfer, chain_events.c.chain_id == chain_id, chain_events.c.address == collection,
                   chain_events.c.token_id == token_id)
            .order_by(chain_events.c.block_number.desc(), chain_events.c.log_index.desc()).limit(1)).first()
        to = json.loads(row.args).get("to") if row is not None else None
        if row is not None and to is not None:
            last[(int(chain_id), Web3.to_checksum_address(collection), str(token_id))] = (
                Web3.to_checksum_address(to), int(row.block_number), row.block_time)
    out = []
    for (chain_id, collection, token_id), (to, block, block_time) in sorted(last.items()):
        if to != address:
            continue
        try:
            owner = gateway.view(chain_id, collection, "CreatorCollection", "ownerOf", [int(token_id)])
            if Web3.to_checksum_address(owner) != address:
                continue  # moved since the index last looked
            confirmed = True
        except Exception:  # the chain did not answer: shown as the index has it, marked unconfirmed
            confirmed = False
        out.append(Holding(chain_id=chain_id, collection=collection, token_id=token_id,
                           acquired_block=block, acquired_at=block_time, confirmed=confirmed))
    return out
