"""What one wallet holds and has open, across the chains the platform serves: the collector page's
read routes. Public, as the chain and the order book already are: tokens come from the index's
Transfer events and each is confirmed with ``ownerOf`` on its chain (the index may lag a block);
ERC-1155 editions from TransferSingle/TransferBatch, each confirmed with ``balanceOf``;
orders are the ones the wallet signed, their status following the chain as ``/market/orders`` does."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select
from web3 import Web3

from api.deps import DatabaseDep, DbSession, GatewayDep
from api.market_sync import follow_all
from api.models import MarketOrder
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
    """The block time of the Transfer that brought the token to this wallet."""
    confirmed: bool
    """True when ``ownerOf`` on the chain names this wallet now (False: the chain did not answer)."""
    standard: Literal["erc721", "erc1155"] = "erc721"
    quantity: str = "1"
    """How many of the token the wallet holds (ERC-1155: its ``balanceOf``; ERC-721: 1)."""


class WalletOrder(BaseModel):
    order_hash: str
    chain_id: int
    side: str
    token: str
    token_id: str
    quantity: str
    unit_price: str
    currency: str
    expiry: int
    status: str
    created_at: datetime


@router.get("/{address}/holdings", response_model=list[Holding],
            summary="The ERC-721 tokens and ERC-1155 editions this wallet holds on every chain served "
                    "(index + ownerOf / balanceOf)")
def holdings(address: Address, db: DbSession, gateway: GatewayDep) -> list[Holding]:
    """Only the tokens whose Transfer history names this wallet are looked at (a LIKE on the stored
    arguments narrows, the decoded ``to`` decides), at most ``MAX_TOKENS`` of them, each with one
    ``ownerOf``: the cost follows the wallet's own history, not the size of the index."""
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
    return out + _editions(address, db, gateway)


def _editions(address: str, db: Any, gateway: Any) -> list[Holding]:
    """The ERC-1155 ids whose TransferSingle/TransferBatch history names this wallet as receiver, each
    kept only while ``balanceOf`` on its chain is above zero (the balance is the quantity)."""
    rows = db.execute(
        select(chain_events.c.chain_id, chain_events.c.address, chain_events.c.args,
               chain_events.c.block_number, chain_events.c.block_time)
        .where(chain_events.c.event.in_(("TransferSingle", "TransferBatch")),
               func.lower(chain_events.c.args).like(f"%{address.lower()}%"))
        .order_by(chain_events.c.block_number.desc(), chain_events.c.log_index.desc())
        .limit(MAX_TOKENS)).all()
    received: dict[tuple[int, str, str], tuple[int, int | None]] = {}
    for chain_id, collection, args_json, block, block_time in rows:
        args = json.loads(args_json)
        if Web3.to_checksum_address(str(args.get("to", "0x" + "00" * 20))) != address:
            continue
        ids = args["ids"] if "ids" in args else [args.get("id")]
        for token_id in ids:
            key = (int(chain_id), Web3.to_checksum_address(collection), str(int(token_id)))
            received.setdefault(key, (int(block), block_time))  # newest first: the latest arrival
    out = []
    for (chain_id, collection, token_id), (block, block_time) in sorted(received.items()):
        try:
            balance = int(gateway.view(chain_id, collection, "Editions1155", "balanceOf",
                                       [address, int(token_id)]))
        except Exception:  # the chain did not answer: shown as the index has it, marked unconfirmed
            balance = None
        if balance == 0:
            continue  # all of it moved on since
        out.append(Holding(chain_id=chain_id, collection=collection, token_id=token_id,
                           acquired_block=block, acquired_at=block_time, confirmed=balance is not None,
                           standard="erc1155", quantity=str(balance) if balance is not None else "?"))
    return out


@router.get("/{address}/orders", response_model=list[WalletOrder],
            summary="The orders this wallet signed (open by default), status following the chain")
def orders(address: Address, db: DbSession, database: DatabaseDep, gateway: GatewayDep,
           status: Literal["open", "cancelled", "filled", "stale"] | None = "open",
           limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[WalletOrder]:
    follow_all(database, gateway)
    query = (select(MarketOrder).where(MarketOrder.signer == address)
             .order_by(MarketOrder.created_at.desc()).limit(limit))
    if status is not None:
        query = query.where(MarketOrder.status == status)
    db.expire_all()  # follow_all committed in its own session
    return [WalletOrder.model_validate(r, from_attributes=True) for r in db.execute(query).scalars()]
