"""The price circuit breaker's effects around its pure core (api/breaker.py): what an order's check
reads (``breaker_state``: the last fills, the refusals that count; ``executable``: whether the
order could execute, read on chain), what it records (``record_decision``: every decision with its
reason and account, a halt pushed on chain), the 422 it answers (``refusal``, pure), and the
operators' levers: the policy (changed field by field) and lifting a halt (here and with
``setHalted(false)`` on chain). ``breaker_check`` runs those steps in order for one order.

Who counts toward a halt is decided in ``breaker.decide``; this module only gathers its inputs:

- a listing is executable: the holder check ran before (only the holder may list);
- an offer is executable when the bidder's ERC-20 balance and allowance to the marketplace cover
  the whole offer, read on chain now (an ETH offer, or a currency that cannot be read, is not).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session
from web3 import Web3

from api.breaker import BreakerPolicy, BreakerState, Decision, Refusal, Trade, decide
from api.errors import ApiError, ConflictError, UnprocessableError
from api.jurisdiction import push_jurisdiction
from api.market_sync import (
    PolicyIn,
    aware,
    lift_expired_halt,
    policy_of,
    send_operator_tx,
    set_halted_on_chain,
)
from api.models import BreakerDecisionRow, CollectionPolicyRow
from chain.orders import ETH, Order, OrderSide
from record.index.store import chain_events

log = logging.getLogger(__name__)

MAX_UINT256 = 2**256 - 1

_ERC20_ABI = [
    {"type": "function", "name": "balanceOf", "stateMutability": "view",
     "inputs": [{"name": "account", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "allowance", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
     "outputs": [{"name": "", "type": "uint256"}]},
]


# The breaker's reads, built once with their parameters bound at each call (building a statement
# costs more than SQLite takes to run it).
_EVENTS, _DECISIONS = chain_events.c, BreakerDecisionRow.__table__.c
_FILLS = (
    select(_EVENTS.args, _EVENTS.block_time)
    .where(_EVENTS.chain_id == bindparam("chain_id"), _EVENTS.contract == "Marketplace",
           _EVENTS.event == "OrderFilled", _EVENTS.ref_address == bindparam("collection"))
    .order_by(_EVENTS.block_number.desc(), _EVENTS.log_index.desc())
)
_LAST_HALT_OR_LIFT = (
    select(_DECISIONS.at)
    .where(_DECISIONS.chain_id == bindparam("chain_id"), _DECISIONS.collection == bindparam("collection"),
           _DECISIONS.action.in_(("halt", "lift")))
    .order_by(_DECISIONS.at.desc()).limit(1)
)
_COUNTED_REFUSALS = select(_DECISIONS.at, _DECISIONS.account).where(
    _DECISIONS.chain_id == bindparam("chain_id"), _DECISIONS.collection == bindparam("collection"),
    _DECISIONS.action.in_(("reject", "halt")), _DECISIONS.counted.is_(True),
    _DECISIONS.at >= bindparam("since"),
)


def trades(db: Session, chain_id: int, collection: str, currency: str, limit: int) -> list[Trade]:
    """The last ``limit`` fills of ``collection`` in ``currency`` between two different wallets,
    oldest first: all that ``decide`` reads (the median of the last N fills), so an order's check
    costs the same on a collection with ten fills or ten thousand. Rows are read newest first and
    the scan stops at ``limit`` (the currency sits in the event's JSON arguments, so it is filtered
    here); a wallet's fills with itself are skipped, and of several fills between the same two
    wallets only the newest is kept (``breaker.priced``)."""
    rows = db.execute(_FILLS, {"chain_id": chain_id, "collection": collection},
                      execution_options={"yield_per": max(limit, 20)})
    found: list[Trade] = []
    pairs: set[frozenset[str]] = set()
    for args_text, block_time in rows:
        args = json.loads(args_text)
        if str(args.get("currency", "")).lower() != currency.lower():
            continue
        trade = Trade(datetime.fromtimestamp(block_time or 0, UTC), int(args["unitPrice"]),
                      buyer=args.get("buyer"), seller=args.get("seller"))
        pair = trade.pair()
        if trade.counts and (pair is None or pair not in pairs):
            if pair is not None:
                pairs.add(pair)
            found.append(trade)
            if len(found) >= limit:
                break
    rows.close()
    found.reverse()
    return found


def offer_funded(gateway: Any, chain_id: int, order: Order) -> bool:
    """Whether the bidder's balance of the offer's ERC-20 and its allowance to the marketplace
    both cover the whole offer, on chain now (False when the currency cannot be read)."""
    if order.currency == ETH:
        return False  # the marketplace takes offers in ERC-20 only
    need = order.total_price(order.quantity)
    try:
        market = gateway.contract(chain_id, "Marketplace").address
        coin = gateway.web3(chain_id).eth.contract(address=Web3.to_checksum_address(order.currency),
                                                   abi=_ERC20_ABI)
        if int(coin.functions.balanceOf(order.signer).call()) < need:
            return False
        return bool(int(coin.functions.allowance(order.signer, market).call()) >= need)
    except ApiError:
        raise
    except Exception:  # no code, not an ERC-20, a reverting token: the offer cannot execute
        return False


def executable(gateway: Any, chain_id: int, order: Order) -> bool:
    """Whether the order could fill as signed (a listing's holder was checked before the breaker)."""
    return order.side is OrderSide.LISTING or offer_funded(gateway, chain_id, order)


def _counted_since(db: Session, chain_id: int, collection: str) -> datetime | None:
    """When the collection's last halt began or was lifted by an operator."""
    return aware(db.execute(_LAST_HALT_OR_LIFT, {"chain_id": chain_id, "collection": collection}).scalar())


def _policy_row(db: Session, chain_id: int, collection: str) -> CollectionPolicyRow:
    row = db.get(CollectionPolicyRow, (chain_id, collection))
    if row is None:
        row = CollectionPolicyRow(chain_id=chain_id, collection=collection,
                                  breaker=PolicyIn().model_dump_json(), secondary_sales=True,
                                  gift_holding_s=0)
        db.add(row)
    return row


def breaker_state(db: Session, order: Order, chain_id: int, row: CollectionPolicyRow | None,
                  policy: BreakerPolicy, now: datetime) -> BreakerState:
    """What ``decide`` reads about the order's collection, from the database: the last fills in the
    order's currency, the refusals that count within the window, the halt, and when the last halt
    began or was lifted."""
    refusals = db.execute(_COUNTED_REFUSALS, {"chain_id": chain_id, "collection": order.token,
                                              "since": now - policy.rejection_window}).all()
    return BreakerState(
        trades=trades(db, chain_id, order.token, order.currency, policy.reference_fills),
        rejections=tuple(Refusal(at, account) for at, account in
                         ((aware(a), acc) for a, acc in refusals) if at is not None and account),
        halted_until=aware(row.halted_until) if row else None,
        counted_since=_counted_since(db, chain_id, order.token),
    )


def record_decision(gateway: Any, db: Session, order: Order, chain_id: int, decision: Decision,
                    now: datetime, accepted: list[dict[str, Any]] | None = None) -> str | None:
    """The effects of a decision: its row (with the account and whether it counts); for a halt the
    collection's ``halted_until`` and ``setHalted(true)`` on chain (returns that transaction's hash).
    A refusal is committed here, so that it outlives the request it fails. ``accepted`` (a batch's):
    an accept's row is kept there for the batch to insert with the others (``insert_decisions``)."""
    values = {"chain_id": chain_id, "collection": order.token, "at": now, "price": str(order.unit_price),
              "action": decision.action, "reason": decision.reason, "halt_until": decision.halt_until,
              "account": order.signer, "counted": decision.counts}
    if decision.action == "accept":
        if accepted is not None:
            accepted.append(values)
        else:
            insert_decisions(db, [values])  # a plain INSERT: nothing reads the row back
        return None
    db.add(BreakerDecisionRow(**values))
    insert_decisions(db, accepted)  # the batch's accepts so far are committed with this refusal
    tx = None
    if decision.action == "halt":
        _policy_row(db, chain_id, order.token).halted_until = decision.halt_until
        tx = set_halted_on_chain(gateway, chain_id, order.token, True)
        log.warning("circuit breaker: %s on chain %d halted until %s: %s", order.token, chain_id,
                    decision.halt_until.isoformat() if decision.halt_until else "?", decision.reason)
    db.commit()
    return tx


def insert_decisions(db: Session, accepted: list[dict[str, Any]] | None) -> None:
    """A batch's accepted decisions, in one INSERT (the list is emptied)."""
    if accepted:
        db.execute(insert(BreakerDecisionRow), accepted)
        accepted.clear()


def refusal(decision: Decision, halt_tx: str | None = None) -> UnprocessableError | None:
    """The 422 that names a refusal or a halt, with the band (None when the order is accepted)."""
    if decision.action == "accept":
        return None
    band = (
        {"low": str(decision.low), "high": str(decision.high), "reference": str(decision.reference)}
        if decision.low is not None
        else {}
    )
    if decision.action == "halt":
        return UnprocessableError(
            f"circuit breaker tripped: {decision.reason}",
            band=band,
            halt_tx=halt_tx,
            halted_until=decision.halt_until.isoformat() if decision.halt_until else None,
        )
    return UnprocessableError(f"order refused by the circuit breaker: {decision.reason}", band=band)


BreakerMemo = dict[tuple[Any, ...], BreakerState]
"""Breaker states read during one request (a batch of orders), per collection, currency and halt."""


def breaker_check(
    gateway: Any, db: Session, order: Order, chain_id: int, row: CollectionPolicyRow | None,
    memo: BreakerMemo | None = None, accepted: list[dict[str, Any]] | None = None,
) -> None:
    """The circuit breaker on an incoming order (``row``: the collection's policy row as just read,
    None when it has none): an expired halt lifted, the state read, ``decide`` (pure), the decision
    recorded (a halt pushed on chain first); raises the 422 that names a refusal or a halt.

    ``memo`` (a batch's, empty at its start): the state is read once per collection and currency
    and reused by the batch's next orders while every decision is an accept, which changes nothing
    the state holds (fills come from the index, accepts are not refusals); any other decision, or a
    halt lifted or set, drops the collection's states, so the next order reads afresh, exactly as
    if it had been posted alone. ``accepted``: see ``record_decision``."""
    now = datetime.now(UTC)
    _, policy = policy_of(row)
    lift_expired_halt(gateway, db, chain_id, order.token, row, now)
    key = (chain_id, order.token, order.currency, row.halted_until if row else None)
    state = memo.get(key) if memo is not None else None
    if state is None:
        state = breaker_state(db, order, chain_id, row, policy, now)
    halted = state.halted_until is not None and now < state.halted_until
    can_fill = not halted and executable(gateway, chain_id, order)  # no chain read while halted
    decision = decide(state, order.unit_price, policy, now, account=order.signer, executable=can_fill)
    if memo is not None:
        if decision.action == "accept":
            memo[key] = state
        else:
            for stale in [k for k in memo if k[:2] == (chain_id, order.token)]:
                del memo[stale]
    error = refusal(decision, record_decision(gateway, db, order, chain_id, decision, now, accepted))
    if error is not None:
        raise error


def apply_policy(gateway: Any, db: Session, chain_id: int, collection: str, changes: PolicyIn) -> None:
    """Change only the fields ``changes`` sets (an omitted field keeps its value; ``null`` clears
    ``operator_reference``), push what the chain enforces, store the rest."""
    row = db.get(CollectionPolicyRow, (chain_id, collection))
    current, _ = policy_of(row)
    merged = PolicyIn.model_validate({**current.model_dump(), **changes.model_dump(exclude_unset=True)})
    _push_policy(gateway, chain_id, collection, merged)
    row = _policy_row(db, chain_id, collection)
    row.breaker = merged.model_dump_json()
    row.secondary_sales = merged.secondary_sales
    row.gift_holding_s = merged.gift_holding_s
    row.identity_required = merged.identity_required
    db.flush()


def _push_policy(gateway: Any, chain_id: int, collection: str, body: PolicyIn) -> None:
    """What the chain enforces of a policy: the identity requirement, the ETH price band around
    the operator's reference (cleared without one), and the jurisdiction profile, which the
    collection itself enforces through the TransferPolicy (api/jurisdiction.py). Only changes are sent."""
    push_jurisdiction(gateway, chain_id, collection, body.secondary_sales, body.gift_holding_s,
                      body.identity_required)
    market = gateway.contract(chain_id, "Marketplace")
    _, identity_required = gateway.view(chain_id, market.address, "Marketplace", "collectionPolicy",
                                        [collection])
    required = body.identity_required
    if bool(identity_required) != required:
        send_operator_tx(gateway, chain_id, lambda f: f.setIdentityRequired(collection, required))
    reference = body.operator_reference if body.enforce_band_on_chain and body.operator_reference else 0
    width = body.band_bps if reference else 0
    wanted = (0, MAX_UINT256) if not reference else (
        reference * (10_000 - width) // 10_000, reference * (10_000 + width) // 10_000)
    if tuple(int(v) for v in gateway.view(chain_id, market.address, "Marketplace", "priceBand",
                                          [collection, ETH])) != wanted:
        send_operator_tx(gateway, chain_id, lambda f: f.setPriceBand(collection, ETH, reference, width))


def lift_halt(gateway: Any, db: Session, chain_id: int, collection: str, operator: str) -> str | None:
    """An operator ends the collection's halt now, here and on chain (``setHalted(false)``, sent
    only when the chain holds the halt); refusals before the lift count toward no later halt.
    Returns the transaction hash (None when the chain was not halted). 409 when nothing is halted."""
    market = gateway.contract(chain_id, "Marketplace")
    policy = gateway.view(chain_id, market.address, "Marketplace", "collectionPolicy", [collection])
    on_chain = bool(policy[0])
    row = db.get(CollectionPolicyRow, (chain_id, collection))
    now = datetime.now(UTC)
    halted_until = aware(row.halted_until) if row else None
    here = halted_until is not None and now < halted_until
    if not on_chain and not here:
        raise ConflictError(f"collection {collection} on chain {chain_id} is not halted")
    tx = set_halted_on_chain(gateway, chain_id, collection, False) if on_chain else None
    if row is not None:
        row.halted_until = None
    db.add(BreakerDecisionRow(chain_id=chain_id, collection=collection, at=now, price="0", action="lift",
                              reason=f"halt lifted by the operator {operator}"
                                     + (f" (contract halt lifted: tx {tx})" if tx else ""),
                              account=None, counted=False))
    db.flush()
    log.warning("circuit breaker: %s on chain %d: halt lifted by %s", collection, chain_id, operator)
    return tx
