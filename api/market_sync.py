"""The order book and the fill circuit breaker follow the index.

``sync_market`` applies the indexed events of one chain that it has not applied yet (a watermark
per chain, ``market_sync``), in the order they were indexed:

- ``OrderFilled``: the order is ``filled`` (ERC-1155: once the chain says every unit is), and the
  fill goes through ``breaker.after_fill``: fills moving the price more than Y% within the window,
  by enough distinct buyers and sellers (a wallet's fill with itself is ignored), halt the
  collection (decision recorded with its reason, ``setHalted(true)`` on chain);
- ``OrderCancelled`` and ``CounterIncremented``: the order (or every older order of the signer)
  is ``cancelled``;
- a ``Transfer`` / ``TransferSingle`` out of a listing's signer: the listing is ``stale`` when the
  chain confirms the signer no longer holds what it lists (it is not served as open, and fill-tx
  refuses it);
- a ``TransferSingle`` / ``TransferBatch`` of an id *to* the signer of an ERC-1155 listing: the
  listing is ``stale`` for good (the receipt moved the holder's holding epoch the listing was
  signed at, so the marketplace refuses it on chain).

Only an ``open`` order's signature is ever served (``OrderOut.of``).

It runs after every indexer step of ``chainright indexer run`` and, so that a fill indexed is
applied before the breaker or a fill-tx reads the book, in the market routes too; there
``follow_chain`` first compares what the index holds (its newest event id, the chain's checkpoint,
the book's watermark row: one select) with what this process saw at its last sync of the chain, and
does nothing more when they are unchanged. ``lift_expired_halt`` ends a halt whose
cooldown is over, on chain too, wherever a trade is prepared.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3 import Web3

from api.breaker import BreakerPolicy, BreakerState, Trade, after_fill
from api.models import BreakerDecisionRow, CollectionPolicyRow, MarketOrder, MarketSyncRow
from record.index.store import chain_checkpoints, chain_events

log = logging.getLogger(__name__)

MAX_REFERENCE_PRICE = 2**240 - 1
"""The marketplace stores a band's reference price in 240 bits."""


class PolicyIn(BaseModel):
    reference_fills: int = Field(default=20, ge=1, le=1000)
    operator_reference: int | None = Field(default=None, gt=0, le=MAX_REFERENCE_PRICE)
    band_bps: int = Field(default=2000, gt=0, lt=10_000)
    move_bps: int = Field(default=3000, gt=0)
    move_window_s: int = Field(default=600, gt=0)
    max_rejections: int = Field(default=5, ge=1)
    rejection_window_s: int = Field(default=300, gt=0)
    cooldown_s: int = Field(default=900, gt=0)
    min_distinct_accounts: int = Field(
        default=3, ge=1, description="A halt (by refused orders or by fills) needs this many distinct "
        "accounts")
    max_refusals_per_account: int = Field(
        default=1, ge=1, description="At most this many of one account's refused orders count toward a halt "
        "within the rejection window")
    secondary_sales: bool = True
    gift_holding_s: int = Field(default=0, ge=0)
    identity_required: bool = Field(
        default=False, description="Only identity-verified wallets may buy or sell (enforced on chain)")
    enforce_band_on_chain: bool = Field(
        default=True, description="With an operator reference, the marketplace refuses fills outside "
        "reference +/- band (ETH) on chain too")


def policy_of(row: CollectionPolicyRow | None) -> tuple[PolicyIn, BreakerPolicy]:
    data = PolicyIn(**json.loads(row.breaker)) if row else PolicyIn()
    if row is not None:
        data.secondary_sales, data.gift_holding_s = row.secondary_sales, row.gift_holding_s
    return data, BreakerPolicy(
        reference_fills=data.reference_fills,
        operator_reference=data.operator_reference,
        band_bps=data.band_bps,
        move_bps=data.move_bps,
        move_window=timedelta(seconds=data.move_window_s),
        max_rejections=data.max_rejections,
        rejection_window=timedelta(seconds=data.rejection_window_s),
        cooldown=timedelta(seconds=data.cooldown_s),
        min_distinct_accounts=data.min_distinct_accounts,
        max_refusals_per_account=data.max_refusals_per_account,
    )


def aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else (moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def send_operator_tx(gateway: Any, chain_id: int, build: Callable[[Any], Any]) -> str:
    """Send ``build(marketplace)`` from the operator key (it holds the marketplace's RISK and
    POLICY_ADMIN roles); returns the transaction hash."""
    from eth_account import Account

    from chain.tx import TxSender

    gateway.require_progress(chain_id)
    market = gateway.contract(chain_id, "Marketplace")
    operator = Account.from_key(gateway.settings.deployer_key.get_secret_value())
    sender = TxSender(gateway.web3(chain_id), operator)
    receipt = sender.transact(sender.call_tx(build(market.functions)))
    return "0x" + bytes(receipt["transactionHash"]).hex()


def set_halted_on_chain(gateway: Any, chain_id: int, collection: str, halted: bool) -> str:
    return send_operator_tx(gateway, chain_id, lambda f: f.setHalted(collection, halted))


def lift_expired_halt(gateway: Any, db: Session, chain_id: int, collection: str,
                      row: CollectionPolicyRow | None, now: datetime | None = None) -> bool:
    """End the collection's halt if its cooldown is over (here and on chain); True when lifted."""
    now = now or datetime.now(UTC)
    halted_until = aware(row.halted_until) if row else None
    if row is None or halted_until is None or now < halted_until:
        return False
    set_halted_on_chain(gateway, chain_id, collection, False)
    row.halted_until = None
    db.add(BreakerDecisionRow(chain_id=chain_id, collection=collection, at=now, price="0", action="resume",
                              reason="cooldown over: trading resumed (contract halt lifted)"))
    return True


@dataclass
class SyncReport:
    events: int = 0
    filled: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    halts: list[str] = field(default_factory=list)
    last_event_id: int | None = None
    """The book's watermark after the sync (the last event id of the chain it has applied)."""


TERMINAL = {"filled"}
_LOCKS: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
Probe = tuple[int | None, int | None, int | None]
_SEEN: dict[tuple[int, int], Probe] = {}
"""Per (database, chain): the index's state at this process's last completed sync (``index_probe``)."""


def index_probe(conn: Any, chain_id: int) -> Probe:
    """What decides whether the book may be behind the index, in one select of primary keys: the
    newest event id (any chain: ``max`` of the primary key is one index lookup), the chain's
    checkpoint (moves on every indexer step that stored anything, including events committed
    after a higher id of another chain) and the book's watermark row (gone when the tables are
    emptied, so a reset is never mistaken for \"nothing new\")."""
    row = conn.execute(_PROBE, {"chain_id": chain_id}).one()
    return (row[0], row[1], row[2])


def _probe_statement() -> Any:
    """``index_probe``'s select, built once (building it costs more than running it)."""
    chain: Any = bindparam("chain_id")
    sync = MarketSyncRow.__table__.c
    newest = select(func.max(chain_events.c.id)).scalar_subquery()
    checkpoint = select(chain_checkpoints.c.next_block).where(chain_checkpoints.c.chain_id == chain)
    mark = select(sync.last_event_id).where(sync.chain_id == chain)
    return select(newest, checkpoint.scalar_subquery(), mark.scalar_subquery())


_PROBE = _probe_statement()


def follow_chain(database: Any, gateway: Any, chain_id: int) -> SyncReport:
    """``sync_market`` in its own transaction, committed before the lock is released: concurrent
    requests of this process apply each event once (across processes, the watermark row is
    locked FOR UPDATE on PostgreSQL). Nothing is done when ``index_probe`` reads what it read
    before this process's last sync of the chain (with the watermark that sync left): no event
    was indexed since."""
    key = (id(database), chain_id)
    with database.engine.connect() as conn:
        probe = index_probe(conn, chain_id)
    if probe[0] is None or _SEEN.get(key) == probe:
        return SyncReport()  # nothing indexed at all, or nothing since the last sync
    with _LOCKS[chain_id]:
        with database.session() as session:
            report = sync_market(session, gateway, chain_id)
        _SEEN[key] = (probe[0], probe[1], report.last_event_id)
        return report


def follow_all(database: Any, gateway: Any) -> SyncReport:
    """``follow_chain`` for every chain the indexer follows."""
    with database.session() as session:
        chain_ids = [int(c) for c in session.execute(select(chain_checkpoints.c.chain_id)).scalars()]
    total = SyncReport()
    for chain_id in chain_ids:
        part = follow_chain(database, gateway, chain_id)
        total.events += part.events
        for name in ("filled", "cancelled", "stale", "halts"):
            getattr(total, name).extend(getattr(part, name))
    return total


def sync_market(db: Session, gateway: Any, chain_id: int, *, batch: int = 2000,
                now: datetime | None = None) -> SyncReport:
    """Apply the chain's indexed events not applied yet (see the module's docstring)."""
    report = SyncReport()
    if db.get(MarketSyncRow, chain_id) is None:
        try:
            with db.begin_nested():
                db.add(MarketSyncRow(chain_id=chain_id, last_event_id=0, updated_at=datetime.now(UTC)))
        except IntegrityError:
            pass  # another process made it
    mark = db.execute(select(MarketSyncRow).where(MarketSyncRow.chain_id == chain_id)
                      .with_for_update()).scalar_one()
    last = mark.last_event_id
    while True:
        rows = db.execute(
            select(chain_events.c.id, chain_events.c.contract, chain_events.c.event, chain_events.c.address,
                   chain_events.c.ref_address, chain_events.c.args, chain_events.c.block_time,
                   chain_events.c.tx_hash)
            .where(chain_events.c.chain_id == chain_id, chain_events.c.id > last)
            .order_by(chain_events.c.id).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            last = row.id
            report.events += 1
            try:
                _apply(db, gateway, chain_id, row, report, now)
            except Exception:  # one event's chain read must not stop the book from following
                log.exception("market sync: event %s on chain %d could not be applied", row.id, chain_id)
        if len(rows) < batch:
            break
    if report.events:
        mark.last_event_id, mark.updated_at = last, datetime.now(UTC)
        db.flush()
    report.last_event_id = last
    return report


def _apply(db: Session, gateway: Any, chain_id: int, row: Any, report: SyncReport,
           now: datetime | None) -> None:
    args = json.loads(row.args)
    if row.contract == "Marketplace" and row.event == "OrderFilled":
        _on_fill(db, gateway, chain_id, row, args, report)
        _fill_breaker(db, gateway, chain_id, row, args, report, now)
    elif row.contract == "Marketplace" and row.event == "OrderCancelled":
        order = db.get(MarketOrder, str(args["orderHash"]).lower())
        if order is not None and order.status not in TERMINAL and order.status != "cancelled":
            order.status = "cancelled"
            report.cancelled.append(order.order_hash)
    elif row.contract == "Marketplace" and row.event == "CounterIncremented":
        signer, counter = Web3.to_checksum_address(args["signer"]), int(args["newCounter"])
        for order in db.execute(select(MarketOrder).where(
                MarketOrder.chain_id == chain_id, MarketOrder.signer == signer,
                MarketOrder.status.in_(("open", "stale")))).scalars():
            if int(order.counter) < counter:
                order.status = "cancelled"
                report.cancelled.append(order.order_hash)
    elif row.event == "Transfer" and "tokenId" in args:
        _on_transfer(db, gateway, chain_id, row.address, args["from"], [int(args["tokenId"])], report)
    elif row.event == "TransferSingle":
        _on_transfer(db, gateway, chain_id, row.address, args["from"], [int(args["id"])], report)
        _on_receipt(db, chain_id, row.address, args["to"], [int(args["id"])], report)
    elif row.event == "TransferBatch":
        _on_transfer(db, gateway, chain_id, row.address, args["from"], [int(i) for i in args["ids"]], report)
        _on_receipt(db, chain_id, row.address, args["to"], [int(i) for i in args["ids"]], report)


def _on_fill(db: Session, gateway: Any, chain_id: int, row: Any, args: dict[str, Any],
             report: SyncReport) -> None:
    order = db.get(MarketOrder, str(args["orderHash"]).lower())
    if order is None or order.status in TERMINAL:
        return
    if order.standard != 0:  # ERC-1155: filled once every unit is
        market = gateway.contract(chain_id, "Marketplace").address
        _, filled = gateway.view(chain_id, market, "Marketplace", "orderStatus",
                                 [bytes.fromhex(order.order_hash[2:])])
        if int(filled) < int(order.quantity):
            return
    order.status = "filled"
    report.filled.append(order.order_hash)


def _on_transfer(db: Session, gateway: Any, chain_id: int, token: str, sender: str, token_ids: Iterable[int],
                 report: SyncReport) -> None:
    signer = Web3.to_checksum_address(sender)
    ids = [str(i) for i in token_ids]
    listings = db.execute(select(MarketOrder).where(
        MarketOrder.chain_id == chain_id, MarketOrder.token == Web3.to_checksum_address(token),
        MarketOrder.signer == signer, MarketOrder.side == "listing", MarketOrder.token_id.in_(ids),
        MarketOrder.status == "open")).scalars().all()
    for order in listings:
        if order.standard == 0:
            owner = gateway.view(chain_id, order.token, "CreatorCollection", "ownerOf", [int(order.token_id)])
            holds = Web3.to_checksum_address(owner) == signer
        else:
            balance = gateway.view(chain_id, order.token, "Editions1155", "balanceOf",
                                   [signer, int(order.token_id)])
            holds = int(balance) >= int(order.quantity)
        if not holds:
            order.status = "stale"
            report.stale.append(order.order_hash)


def _on_receipt(db: Session, chain_id: int, token: str, recipient: str, token_ids: Iterable[int],
                report: SyncReport) -> None:
    """ERC-1155 units of an id reaching a listing's signer end its open listings of that id: the
    edition counts each receipt in the holder's holding epoch, which the listings were signed at."""
    listings = db.execute(select(MarketOrder).where(
        MarketOrder.chain_id == chain_id, MarketOrder.token == Web3.to_checksum_address(token),
        MarketOrder.signer == Web3.to_checksum_address(recipient), MarketOrder.side == "listing",
        MarketOrder.standard == 1, MarketOrder.token_id.in_([str(i) for i in token_ids]),
        MarketOrder.status == "open")).scalars().all()
    for order in listings:
        order.status = "stale"
        report.stale.append(order.order_hash)


def _fill_breaker(db: Session, gateway: Any, chain_id: int, row: Any, args: dict[str, Any],
                  report: SyncReport, now: datetime | None) -> None:
    collection = Web3.to_checksum_address(row.ref_address)
    currency = str(args.get("currency", "")).lower()
    policy_row = db.get(CollectionPolicyRow, (chain_id, collection))
    _, policy = policy_of(policy_row)
    earlier = db.execute(
        select(chain_events.c.args, chain_events.c.block_time)
        .where(chain_events.c.chain_id == chain_id, chain_events.c.contract == "Marketplace",
               chain_events.c.event == "OrderFilled", chain_events.c.ref_address == row.ref_address,
               chain_events.c.id < row.id)
        .order_by(chain_events.c.id.desc()).limit(max(policy.reference_fills, 50))
    ).all()
    trades = [Trade(datetime.fromtimestamp(t or 0, UTC), int(e["unitPrice"]), e.get("buyer"), e.get("seller"))
              for e, t in ((json.loads(a), t) for a, t in reversed(earlier))
              if str(e.get("currency", "")).lower() == currency]
    fill = Trade(datetime.fromtimestamp(row.block_time or 0, UTC), int(args["unitPrice"]), args.get("buyer"),
                 args.get("seller"))
    decision = after_fill(BreakerState(trades=trades), fill, policy)
    moment = now or datetime.now(UTC)
    reason = f"fill {row.tx_hash}: {decision.reason}"
    if decision.action != "halt" or decision.halt_until is None:
        db.add(BreakerDecisionRow(chain_id=chain_id, collection=collection, at=moment, price=str(fill.price),
                                  action="accept", reason=reason))
        return
    if decision.halt_until <= moment:
        db.add(BreakerDecisionRow(chain_id=chain_id, collection=collection, at=moment, price=str(fill.price),
                                  action="accept", reason=f"{reason} (seen after its cooldown: no halt)"))
        return
    if policy_row is None:
        policy_row = CollectionPolicyRow(chain_id=chain_id, collection=collection,
                                         breaker=PolicyIn().model_dump_json(), secondary_sales=True,
                                         gift_holding_s=0)
        db.add(policy_row)
    current = aware(policy_row.halted_until)
    policy_row.halted_until = max(current, decision.halt_until) if current else decision.halt_until
    tx = set_halted_on_chain(gateway, chain_id, collection, True)
    db.add(BreakerDecisionRow(chain_id=chain_id, collection=collection, at=moment, price=str(fill.price),
                              action="halt", reason=f"{reason} (halt tx {tx})",
                              halt_until=decision.halt_until))
    report.halts.append(collection)
    log.warning("circuit breaker: %s on chain %d halted until %s after a fill moved the price",
                collection, chain_id, decision.halt_until.isoformat())


def indexer_follower(db: Any, gateway: Any) -> Callable[[int], None]:
    """For ``chainright indexer run``: after each step of a chain's indexer, follow its events."""

    def follow(chain_id: int) -> None:
        follow_chain(db, gateway, chain_id)

    return follow
