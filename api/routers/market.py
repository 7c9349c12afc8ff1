"""Market routes: wallet-signed orders verified on receipt, listed and filtered, cancelled, filled by
the buyer's wallet; gifts; the price circuit breaker's and jurisdiction policy's levers. The book
follows the index (api/market_sync.py): orders become filled, cancelled or stale, and a fill that
moves the price too far halts the collection.

This module only routes: the wire models are in api/schemas/market.py, whether an order is admitted
(signature, holder, holding epoch, jurisdiction) in api/admission.py, the circuit breaker's checks
and levers in api/risk.py around its pure ``decide`` (api/breaker.py), and gas estimation (a revert
becomes a 422) in api/simulate.py.

A circuit-breaker halt is pushed to the marketplace contract (``setHalted``, RISK role held by
the operator key), so nobody can trade around the API; it is lifted there when the cooldown ends,
or at once by the risk role (``POST /market/breaker/{chain_id}/{collection}/lift``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic_core import to_json
from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.admission import AdmitBatch, OrderReads, admit, dead_on_chain, gift_check, holder_check, order_of
from api.db import Database
from api.deps import Caller, CurrentUser, DatabaseDep, DbSession, GatewayDep, KycVerifiedUser, require_role
from api.errors import (
    ApiError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnprocessableError,
)
from api.gateway import ChainGateway
from api.idempotency import rerun_of_crashed
from api.market_sync import PolicyIn, aware, follow_all, follow_chain, lift_expired_halt, policy_of
from api.models import BreakerDecisionRow, CollectionPolicyRow, MarketOrder
from api.risk import apply_policy, lift_halt
from api.schemas.market import (
    MAX_BATCH_ORDERS,
    MAX_UINT256,
    BreakerView,
    CancelAllIn,
    CancelAllOut,
    CancelOut,
    CreditsOut,
    FillBatchIn,
    FillIn,
    GiftTxIn,
    OrderBatchIn,
    OrderBatchOut,
    OrderIn,
    OrderOut,
    OrderResult,
    UnsignedTx,
    WithdrawErc20In,
)
from api.simulate import estimate_gas, fill_gas_budget, simulate_at
from api.trading import amount, deployed, simulate, unsigned, wallet_of
from api.types import MAX_CHAIN_ID, Address
from chain.addresses import checksummed
from chain.errors import OrderError
from chain.formatting import format_wei
from chain.orders import ETH, Order, OrderSide, TokenStandard
from chain.orders import order_hash as order_digest
from record.index.store import chain_events

log = logging.getLogger(__name__)
router = APIRouter(prefix="/market", tags=["market"])
Risk = Annotated[Caller, Depends(require_role("risk"))]



@router.post(
    "/orders",
    status_code=201,
    response_model=OrderOut,
    summary="Submit a wallet-signed listing or offer (verified on receipt)",
)
async def create_order(body: OrderIn, user: KycVerifiedUser, gateway: GatewayDep, database: DatabaseDep,
                       request: Request) -> OrderOut:
    return await run_in_threadpool(_create_order, body, user.address, gateway, database,
                                   rerun_of_crashed(request))


def _create_order(body: OrderIn, caller: str | None, gateway: ChainGateway, database: Database,
                  rerun: bool) -> OrderOut:
    """The whole order in one worker thread and one transaction: the hot routes (an order, a fill,
    their batches) are async and hop to a thread once, instead of once per dependency."""
    follow_chain(database, gateway, body.chain_id)  # the breaker sees fills
    with database.session() as db:
        return OrderOut.of(admit(body, caller, db, OrderReads(gateway), rerun=rerun))


@router.post(
    "/orders/batch",
    response_model=OrderBatchOut,
    summary=f"Submit up to {MAX_BATCH_ORDERS} wallet-signed orders at once, each verified as POST "
    "/market/orders verifies one; per-order results",
)
async def create_orders(
    body: OrderBatchIn, user: KycVerifiedUser, gateway: GatewayDep, database: DatabaseDep, request: Request,
) -> OrderBatchOut:
    """Per item, not all or nothing: each order is admitted or refused on its own (a listing
    whose price the breaker refuses does not block the others, exactly as if it had been posted
    alone), in the order given; a later duplicate of an earlier item is refused with 409."""
    rerun = rerun_of_crashed(request)

    def run() -> OrderBatchOut:
        with database.session() as db:
            return _create_orders(body, user.address, db, gateway, database, rerun)

    return await run_in_threadpool(run)


def _create_orders(body: OrderBatchIn, caller: str | None, db: Session, gateway: ChainGateway,
                   database: Database, rerun: bool) -> OrderBatchOut:
    reads, batch = OrderReads(gateway), AdmitBatch()
    for chain_id in sorted({item.chain_id for item in body.orders}):
        follow_chain(database, gateway, chain_id)
        orders = _orders_of(item for item in body.orders if item.chain_id == chain_id)
        reads.prefetch(chain_id, orders)
        try:
            domain = reads.domain(chain_id)
        except ApiError:
            continue  # no marketplace on that chain: each of its orders is refused by admit, in words
        batch.prefetch(db, ("0x" + order_digest(order, domain).hex() for order in orders))
    results: list[OrderResult] = []
    with db.no_autoflush:  # the admitted rows go in together, one INSERT per table (batch.flush)
        for index, item in enumerate(body.orders):
            results.append(_admit_one(index, item, caller, db, reads, rerun, batch))
    batch.flush(db)
    created = sum(1 for r in results if r.status == "created")
    return OrderBatchOut(created=created, refused=len(results) - created, results=results)


def _admit_one(index: int, item: OrderIn, caller: str | None, db: Session, reads: OrderReads, rerun: bool,
               batch: AdmitBatch) -> OrderResult:
    """One item of a batch: admitted, or refused with the problem that says why."""
    try:
        row = admit(item, caller, db, reads, rerun=rerun, batch=batch)
    except ApiError as exc:
        return OrderResult(index=index, status="refused", error={
            "status": exc.status, "title": exc.title, "detail": exc.detail, **exc.extra})
    except SQLAlchemyError:
        raise  # the session is unusable: the request fails as a whole
    except Exception:  # one item's fault (e.g. a chain read) must not hide the others' answers
        log.exception("batch order %d: unexpected error", index)  # nothing of this item was added
        return OrderResult(index=index, status="refused", error={
            "status": 500, "title": "Internal error",
            "detail": "this order could not be checked because of an internal error; it was not "
                      "stored: submit it again, and report it if it persists"})
    return OrderResult(index=index, status="created", order=OrderOut.of(row))


def _orders_of(items: Iterable[OrderIn]) -> list[Order]:
    """The orders of the items that state one (the others are refused by ``admit``, one by one)."""
    orders = []
    for item in items:
        try:
            orders.append(item.order())
        except (OrderError, ValueError):
            continue
    return orders


_ORDER_COLUMNS = [MarketOrder.__table__.c[name] for name in OrderOut.model_fields]
"""The book's columns in the order ``OrderOut`` serves them."""
_ORDER_KEYS = tuple(OrderOut.model_fields)


def _cursor_of(created_at: datetime, order_hash: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{order_hash}".encode()).decode().rstrip("=")


def _cursor_position(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, _, order_hash = raw.partition("|")
        return datetime.fromisoformat(created), order_hash
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError("the cursor is not one this API gave (take it from X-Next-Cursor)") from None


@router.get("/orders", response_model=list[OrderOut],
            summary="Orders, filtered, newest first; their status follows the chain (filled, cancelled, "
            "stale: the seller no longer holds the token). Pages: pass the X-Next-Cursor answer header "
            "as `cursor`; an ETag answers If-None-Match with 304")
def list_orders(
    request: Request,
    gateway: GatewayDep,
    database: DatabaseDep,
    chain_id: Annotated[int | None, Query(gt=0, le=MAX_CHAIN_ID)] = None,
    token: Address | None = None,
    token_id: Annotated[int | None, Query(ge=0)] = None,
    side: Literal["listing", "offer"] | None = None,
    status: Literal["open", "cancelled", "filled", "stale"] | None = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """One Core select, serialized once (no ORM objects, no model validation: the row's columns
    are ``OrderOut``'s, and only an open order's signature is served)."""
    if chain_id is not None:
        follow_chain(database, gateway, chain_id)
    else:
        follow_all(database, gateway)
    table = MarketOrder.__table__.c
    query = (select(*_ORDER_COLUMNS).order_by(table.created_at.desc(), table.order_hash.desc())
             .limit(limit + 1))
    if chain_id is not None:
        query = query.where(table.chain_id == chain_id)
    if token is not None:
        query = query.where(table.token == token)
    if token_id is not None:
        query = query.where(table.token_id == str(token_id))
    if side is not None:
        query = query.where(table.side == side)
    if status is not None:
        query = query.where(table.status == status)
    if cursor is not None:
        created, order_hash = _cursor_position(cursor)
        query = query.where(or_(table.created_at < created,
                                and_(table.created_at == created, table.order_hash < order_hash)))
    with database.engine.connect() as conn:
        rows = [dict(zip(_ORDER_KEYS, r, strict=True)) for r in conn.execute(query).all()]  # one fetchall
    headers: dict[str, str] = {}
    if len(rows) > limit:
        rows.pop()
        headers["X-Next-Cursor"] = _cursor_of(rows[-1]["created_at"], rows[-1]["order_hash"])
    for row in rows:
        if row["status"] != "open":
            row["signature"] = None
        if row["created_at"].tzinfo is None:  # SQLite's: the same instant, served as OrderOut.of serves it
            row["created_at"] = row["created_at"].replace(tzinfo=UTC)
    body = to_json(rows)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers["ETag"] = etag
    if etag in (request.headers.get("if-none-match") or "").replace("W/", "").split(", "):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)


def _order_row(db: Session, order_hash: str) -> MarketOrder:
    row = db.get(MarketOrder, order_hash.lower())
    if row is None:
        raise NotFoundError(f"no order {order_hash}")
    return row


def _order_rows(db: Session, order_hashes: Sequence[str]) -> list[MarketOrder]:
    """The book rows of these hashes, in their order, read in one SELECT (404 naming a missing one)."""
    wanted = [h.lower() for h in order_hashes]
    found = {row.order_hash: row for row in db.scalars(
        select(MarketOrder).where(MarketOrder.order_hash.in_(set(wanted))))}
    for lowered, given in zip(wanted, order_hashes, strict=True):
        if lowered not in found:
            raise NotFoundError(f"no order {given}")
    return [found[h] for h in wanted]


@router.post(
    "/orders/{order_hash}/cancel",
    response_model=CancelOut,
    summary="Cancel your order: its signature stops being served at once; the answer says whether "
    "it could still be filled on chain, and then carries the cancel transaction to sign",
)
def cancel_order(order_hash: str, caller: CurrentUser, db: DbSession, gateway: GatewayDep,
                 database: DatabaseDep) -> CancelOut:
    """Withdrawing an order from the book is not enough: its signature was public while it was
    open, and anyone who kept it can fill it on chain. So the order is withdrawn here at once
    (never served again), and unless the chain already refuses it, the answer carries the
    unsigned ``cancel([order])`` for the signer's wallet (``needs_transaction``)."""
    row = _order_row(db, order_hash)
    if caller.address is None or checksummed(caller.address) != row.signer:
        raise ForbiddenError("only the order's signer can cancel it")
    follow_chain(database, gateway, row.chain_id)  # a fill may have landed
    db.refresh(row)
    if row.status == "filled":
        raise ConflictError(f"order {row.order_hash} is already filled", order_status="filled")
    row.status = "cancelled"
    db.commit()  # stop serving the signature before anything else can fail
    order = order_of(row)
    reason = dead_on_chain(OrderReads(gateway), row, order)
    if reason is not None:
        return CancelOut(order_hash=row.order_hash, status=row.status, needs_transaction=False, tx=None,
                         detail=f"cancelled; no transaction needed: {reason}, so nobody can fill it")
    market = gateway.contract(row.chain_id, "Marketplace")
    data = market.encode_abi("cancel", args=[[order.as_tuple()]])
    tx = UnsignedTx.model_validate(
        {"chain_id": row.chain_id, "from": row.signer, "to": market.address, "data": data})
    return CancelOut(order_hash=row.order_hash, status=row.status, needs_transaction=True, tx=tx,
                     detail="withdrawn from the book; its signature was public while it was open, so "
                     "until you sign and send `tx` anyone who kept it can still fill it on chain")


@router.post(
    "/orders/{order_hash}/fill-tx",
    response_model=UnsignedTx,
    summary="The transaction that fills a listing (for the buyer's wallet) or accepts an offer (for "
    "the holder's wallet)",
)
async def fill_tx(
    order_hash: str, body: FillIn, user: KycVerifiedUser, gateway: GatewayDep, database: DatabaseDep,
) -> UnsignedTx:
    def run() -> UnsignedTx:
        with database.session() as db:
            return _fill_tx(order_hash, body, user, db, gateway, database)

    return await run_in_threadpool(run)


def _fill_tx(order_hash: str, body: FillIn, user: Caller, db: Session, gateway: ChainGateway,
             database: Database) -> UnsignedTx:
    row = _order_row(db, order_hash)
    _prepare_fill(gateway, database, db, [row])
    if user.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    gateway.require_progress(row.chain_id)
    order = order_of(row)
    sender = checksummed(user.address)
    market = gateway.contract(row.chain_id, "Marketplace")
    if row.side == "offer":
        # The holder accepts: the token moves to the bidder, who pays in the offer's ERC-20. The
        # jurisdiction policy was applied when the offer was posted; the holder is checked now.
        if sender == order.signer:
            raise UnprocessableError("this is your own offer: the token's holder accepts it")
        holder_check(OrderReads(gateway), order, row.chain_id, holder=sender, amount=body.amount)
        function, value = "fillOffer", 0
    else:
        if sender == order.signer:
            raise UnprocessableError("this is your own listing: buying from yourself is refused (on "
                                     "chain too: OrderSelfFill); cancel it instead")
        function = "fillListing"
        value = order.total_price(body.amount) if order.currency == ETH else 0
    data = gateway.calldata(
        "Marketplace", function, [order.as_tuple(), bytes.fromhex(row.signature[2:]), body.amount]
    )
    _check_value(value)
    gas = _estimate(gateway, database, row.chain_id, sender, market.address, data, value,
                    budget=fill_gas_budget(1, offer=row.side == "offer"))
    return UnsignedTx(
        chain_id=row.chain_id, **{"from": sender}, to=market.address, data=data, value=hex(value), gas=gas
    )


@router.post(
    "/fill-tx/batch",
    response_model=UnsignedTx,
    summary=f"One transaction (fillListings) that buys up to {MAX_BATCH_ORDERS} listings at once, for "
    "the buyer's wallet",
)
async def fill_tx_batch(body: FillBatchIn, user: KycVerifiedUser, gateway: GatewayDep,
                        database: DatabaseDep) -> UnsignedTx:
    """All or nothing, like the contract's cart: every listing must be open and on one chain, and
    the whole transaction is simulated; any item that would revert refuses the batch (422 naming
    the contract's error), so the buyer never signs a cart that cannot settle."""
    def run() -> UnsignedTx:
        with database.session() as db:
            return _fill_tx_batch(body, user, db, gateway, database)

    return await run_in_threadpool(run)


def _fill_tx_batch(body: FillBatchIn, user: Caller, db: Session, gateway: ChainGateway,
                   database: Database) -> UnsignedTx:
    if user.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    rows = _order_rows(db, [item.order_hash for item in body.items])
    _prepare_fill(gateway, database, db, rows, batch=True)
    for item, row in zip(body.items, rows, strict=True):
        if row.side != "listing":
            raise UnprocessableError(f"order {item.order_hash} is an offer: a batch buys listings only")
    chains = {row.chain_id for row in rows}
    if len(chains) != 1:
        raise UnprocessableError(
            f"the batch mixes chains {sorted(chains)}: one transaction buys on one chain; split it"
        )
    chain_id = rows[0].chain_id
    orders = [order_of(row) for row in rows]
    buyer = checksummed(user.address)
    for item, order in zip(body.items, orders, strict=True):
        if order.signer == buyer:
            raise UnprocessableError(f"order {item.order_hash} is your own listing: buying from yourself "
                                     "is refused (on chain too: OrderSelfFill); remove it from the batch")
    gateway.require_progress(chain_id)
    market = gateway.contract(chain_id, "Marketplace")
    data = gateway.calldata("Marketplace", "fillListings", [
        [order.as_tuple() for order in orders],
        [bytes.fromhex(row.signature[2:]) for row in rows],
        [item.amount for item in body.items],
    ])
    value = sum(order.total_price(item.amount) for order, item in zip(orders, body.items, strict=True)
                if order.currency == ETH)
    _check_value(value)
    sender = checksummed(user.address)
    gas = _estimate(gateway, database, chain_id, sender, market.address, data, value,
                    budget=fill_gas_budget(len(rows)))
    return UnsignedTx(
        chain_id=chain_id, **{"from": sender}, to=market.address, data=data, value=hex(value), gas=gas
    )


def _prepare_fill(gateway: ChainGateway, database: Any, db: Session, rows: list[MarketOrder],
                  batch: bool = False) -> None:
    """Before building a fill: the book follows the chain (a sold, cancelled or stale order is
    refused), and a halt whose cooldown is over is lifted on chain, so buying an existing listing
    works again without waiting for a new order."""
    for chain_id in sorted({row.chain_id for row in rows}):
        follow_chain(database, gateway, chain_id)
    # the rows as the book holds them now that it followed the chain: one read for all of them
    db.scalars(select(MarketOrder).where(MarketOrder.order_hash.in_({row.order_hash for row in rows}))
               .execution_options(populate_existing=True)).all()
    for row in rows:
        tail = ": remove it from the batch" if batch else ""
        if row.status == "stale":
            raise ConflictError(
                f"order {row.order_hash} is stale: the seller {row.signer} no longer holds token "
                f"{row.token_id} of {row.token}, so it cannot be filled{tail}; pick another listing",
                order_status="stale")
        if row.status != "open":
            raise ConflictError(f"order {row.order_hash} is {row.status}{tail}")
    now = datetime.now(UTC)
    for chain_id, token in sorted({(row.chain_id, row.token) for row in rows}):
        until = aware(db.execute(_HALTED_UNTIL, {"chain_id": chain_id, "collection": token}).scalar())
        if until is not None and until <= now:  # a halt to lift: only then the policy row is loaded
            lift_expired_halt(gateway, db, chain_id, token, db.get(CollectionPolicyRow, (chain_id, token)),
                              now)


_POLICY = CollectionPolicyRow.__table__.c
_HALTED_UNTIL = select(_POLICY.halted_until).where(_POLICY.chain_id == bindparam("chain_id"),
                                                   _POLICY.collection == bindparam("collection"))
"""A collection's halt, read without loading its policy row (most fills find none to lift)."""


def _check_value(value: int) -> None:
    if value > MAX_UINT256:
        raise UnprocessableError(
            f"the ETH to pay ({value} wei) does not fit a transaction's value: lower the amounts")


def _estimate(gateway: ChainGateway, database: Any, chain_id: int, sender: str, to: str, data: str,
              value: int, budget: int | None = None) -> int:
    """Gas for the buyer's transaction (``budget``: a fill's limit from the gas snapshot, simulated
    with one ``eth_call``); a revert becomes a 422 naming the contract's error (a halt says until
    when, from the breaker's record)."""

    def halted_until(name: str, args: Sequence[Any]) -> dict[str, str]:
        if name != "CollectionHalted":
            return {}
        from chain.formatting import format_time

        with database.session() as db:
            row = db.get(CollectionPolicyRow, (chain_id, checksummed(args[0])))
            until = aware(row.halted_until) if row else None
        return {"until": f"until {format_time(until)}"} if until is not None else {}

    if budget is not None:
        return simulate_at(gateway, chain_id, sender, to, data, value, budget, what="the fill",
                           context=halted_until)
    return estimate_gas(gateway, chain_id, sender, to, data, value, what="the fill", context=halted_until)


@router.get("/fills", summary="Fills seen by the indexer")
def fills(
    db: DbSession,
    chain_id: Annotated[int, Query(gt=0, le=MAX_CHAIN_ID)],
    token: Address | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    query = select(chain_events).where(
        chain_events.c.chain_id == chain_id,
        chain_events.c.contract == "Marketplace",
        chain_events.c.event == "OrderFilled",
    )
    if token is not None:
        query = query.where(chain_events.c.ref_address == token)
    rows = db.execute(query.order_by(chain_events.c.block_number.desc()).limit(limit)).mappings()
    return [
        {
            "chain_id": r["chain_id"],
            "block_number": r["block_number"],
            "tx_hash": r["tx_hash"],
            "log_index": r["log_index"],
            **json.loads(r["args"]),
        }
        for r in rows
    ]


@router.patch(
    "/breaker/{chain_id}/{collection}",
    response_model=BreakerView,
    summary="Change a collection's circuit-breaker and jurisdiction policy: only the fields given "
    "(risk role)",
)
@router.put(
    "/breaker/{chain_id}/{collection}",
    response_model=BreakerView,
    summary="Same as PATCH: only the fields given change (an omitted field keeps its value) (risk role)",
)
def set_policy(
    chain_id: Annotated[int, Path(gt=0, le=MAX_CHAIN_ID)],
    collection: Address,
    body: PolicyIn,
    risk: Risk,
    db: DbSession,
    gateway: GatewayDep,
) -> BreakerView:
    apply_policy(gateway, db, chain_id, collection, body)  # Address: checksummed
    return get_policy(chain_id, collection, db)


@router.post(
    "/breaker/{chain_id}/{collection}/lift",
    response_model=BreakerView,
    summary="Lift a collection's halt now, here and on chain (setHalted(false)) (risk role)",
)
def lift(
    chain_id: Annotated[int, Path(gt=0, le=MAX_CHAIN_ID)],
    collection: Address,
    risk: Risk,
    db: DbSession,
    gateway: GatewayDep,
) -> BreakerView:
    lift_halt(gateway, db, chain_id, collection, risk.address or risk.did)
    return get_policy(chain_id, collection, db)


@router.get(
    "/breaker/{chain_id}/{collection}",
    response_model=BreakerView,
    summary="A collection's policy, halt and recent decisions (with reasons)",
)
def get_policy(
    chain_id: Annotated[int, Path(gt=0, le=MAX_CHAIN_ID)], collection: Address, db: DbSession
) -> BreakerView:
    address = collection  # Address: already checksummed at the edge
    row = db.get(CollectionPolicyRow, (chain_id, address))
    policy, _ = policy_of(row)
    decisions = db.execute(
        select(BreakerDecisionRow)
        .where(BreakerDecisionRow.chain_id == chain_id, BreakerDecisionRow.collection == address)
        .order_by(BreakerDecisionRow.id.desc())
        .limit(50)
    ).scalars()
    return BreakerView(
        policy=policy,
        halted_until=aware(row.halted_until) if row else None,
        decisions=[
            {"at": d.at.isoformat(), "price": d.price, "action": d.action, "reason": d.reason,
             "account": d.account, "counted": d.counted}
            for d in decisions
        ],
    )


@router.post(
    "/gift-tx",
    response_model=UnsignedTx,
    summary="The transaction that gives a token away, for the holder's wallet (the collection's "
    "holding period applies)",
)
def gift_tx(body: GiftTxIn, user: KycVerifiedUser, db: DbSession, gateway: GatewayDep,
            database: DatabaseDep) -> UnsignedTx:
    """A gift is a transfer without a sale. On a collection whose jurisdiction policy sets a
    holding period, a holder other than the creator may give a token only once it has held it
    that long (from the transfer that brought it, as indexed)."""
    if user.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    holder = checksummed(user.address)
    standard = TokenStandard.ERC721 if body.standard == "erc721" else TokenStandard.ERC1155
    probe = Order(OrderSide.LISTING, holder, body.token, body.token_id, standard, body.quantity, 1, ETH,
                  0, 1, 0, 0)
    gateway.require_progress(body.chain_id)
    reads = OrderReads(gateway)
    holder_check(reads, probe, body.chain_id)
    gift_check(reads, db, body.chain_id, body.token, body.token_id, holder,
               db.get(CollectionPolicyRow, (body.chain_id, body.token)))
    contract = gateway.contract(body.chain_id, "CreatorCollection" if standard is TokenStandard.ERC721
                                else "Editions1155", body.token)
    args: list[Any] = [holder, body.to, body.token_id]
    if standard is TokenStandard.ERC1155:
        args += [body.quantity, b""]
    data = contract.encode_abi("safeTransferFrom", args=args)
    gas = _estimate(gateway, database, body.chain_id, holder, body.token, data, 0)
    return UnsignedTx(chain_id=body.chain_id, **{"from": holder}, to=body.token, data=data, value="0x0",
                      gas=gas)


# --------------------------------------------------------------------- a maker's cancel-all, ERC-20 credits

ZERO_ADDRESS = "0x" + "00" * 20


@router.post(
    "/cancel-all-tx",
    response_model=CancelAllOut,
    summary="Cancel every order you signed on a chain: the book stops serving them at once, and the "
    "answer carries incrementCounter() for your wallet, which makes them unfillable on chain",
)
def cancel_all_tx(body: CancelAllIn, caller: CurrentUser, db: DbSession, gateway: GatewayDep) -> CancelAllOut:
    """Works while the marketplace is paused (the contract allows it: nobody is ever kept from
    revoking their orders). Orders signed after this answer but before the transaction lands carry
    the old counter too: the book drops them when the index sees ``CounterIncremented``."""
    maker = wallet_of(caller)
    market = deployed(gateway, body.chain_id, "Marketplace")
    counter = int(gateway.view(body.chain_id, market, "Marketplace", "counterOf", [maker]))
    rows = db.execute(select(MarketOrder).where(
        MarketOrder.chain_id == body.chain_id, MarketOrder.signer == maker,
        MarketOrder.status.in_(("open", "stale")))).scalars().all()
    for row in rows:
        row.status = "cancelled"
    db.commit()  # stop serving the signatures before anything else can fail
    log.info("cancel-all: %s withdrew %d orders on chain %d", maker, len(rows), body.chain_id)
    gateway.require_progress(body.chain_id)
    data = gateway.calldata("Marketplace", "incrementCounter", [])
    gas = simulate(gateway, body.chain_id, maker, market, data, 0, "cancelling all your orders")
    return CancelAllOut(chain_id=body.chain_id, maker=maker, counter=counter, new_counter=counter + 1,
                        withdrawn=sorted(r.order_hash for r in rows),
                        transaction=unsigned(body.chain_id, maker, market, data, 0, gas))


@router.get(
    "/credits/{chain_id}/{account}",
    response_model=CreditsOut,
    summary="What the marketplace holds for an account: ETH credits and an ERC-20's credits (payouts "
    "the token refused)",
)
def credits(chain_id: Annotated[int, Path(gt=0, le=MAX_CHAIN_ID)], account: Address, gateway: GatewayDep,
            currency: Address | None = None) -> CreditsOut:
    market = deployed(gateway, chain_id, "Marketplace")
    token = currency or deployed(gateway, chain_id, "WrappedEther")
    eth = int(gateway.view(chain_id, market, "Marketplace", "pendingWithdrawals", [account]))
    erc20 = int(gateway.view(chain_id, market, "Marketplace", "pendingErc20", [token, account]))
    return CreditsOut(chain_id=chain_id, account=account, eth=amount(eth), currency=token,
                      erc20=amount(erc20))


@router.post(
    "/withdraw-erc20-tx",
    response_model=UnsignedTx,
    summary="The transaction that withdraws the ERC-20 the marketplace credited to your wallet (payouts "
    "the token refused)",
)
def withdraw_erc20_tx(body: WithdrawErc20In, caller: CurrentUser, gateway: GatewayDep) -> UnsignedTx:
    """Anyone's own credits (a seller, a royalty receiver, the treasury for fees): works while paused."""
    payee = wallet_of(caller)
    market = deployed(gateway, body.chain_id, "Marketplace")
    token = body.currency or deployed(gateway, body.chain_id, "WrappedEther")
    to = body.to or payee
    if to == ZERO_ADDRESS:
        raise UnprocessableError("the credit cannot go to the zero address: give a wallet",
                                 error="RecipientInvalid")
    owed = int(gateway.view(body.chain_id, market, "Marketplace", "pendingErc20", [token, payee]))
    if owed == 0:
        raise UnprocessableError(f"the marketplace holds no {token} for your wallet {payee} on chain "
                                 f"{body.chain_id}: nothing to withdraw", error="WithdrawalNothingOwed")
    gateway.require_progress(body.chain_id)
    data = gateway.calldata("Marketplace", "withdrawErc20", [token, to])
    what = f"withdrawing {format_wei(owed)} of {token}"
    gas = simulate(gateway, body.chain_id, payee, market, data, 0, what)
    return unsigned(body.chain_id, payee, market, data, 0, gas)
