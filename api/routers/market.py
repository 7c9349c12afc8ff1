"""Market: wallet-signed orders verified on receipt, listed and filtered, cancelled, filled by the
buyer's wallet; the price circuit breaker and the jurisdiction policy applied at order creation.
The book follows the index (api/market_sync.py): orders become filled, cancelled or stale, and
a fill that moves the price too far halts the collection.

A circuit-breaker halt is pushed to the marketplace contract (``setHalted``, RISK role held by
the operator key), so nobody can trade around the API; it is lifted there when the cooldown ends,
or at once by the risk role (``POST /market/breaker/{chain_id}/{collection}/lift``). The breaker's
checks and levers live in api/risk.py; who counts toward a halt is decided in api/breaker.py.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from web3 import Web3

from api.deps import Caller, CurrentUser, DbSession, KycVerifiedUser, require_role
from api.errors import ApiError, ConflictError, ForbiddenError, NotFoundError, UnprocessableError
from api.market_sync import PolicyIn, aware, follow_all, follow_chain, lift_expired_halt, policy_of
from api.models import BreakerDecisionRow, CollectionPolicyRow, MarketOrder
from api.pausing import refuse_when_paused
from api.risk import apply_policy, breaker_check, lift_halt
from api.routers.assets import UnsignedTx
from api.types import MAX_CHAIN_ID, Address, checksum_address
from chain.errors import OrderError
from chain.orders import ETH, MarketDomain, Order, OrderSide, SignedOrder, TokenStandard, verify_order
from record.index.store import chain_events

log = logging.getLogger(__name__)
router = APIRouter(prefix="/market", tags=["market"])
Risk = Annotated[Caller, Depends(require_role("risk"))]


class OrderIn(BaseModel):
    chain_id: int = Field(gt=0)
    side: Literal["listing", "offer"]
    signer: str
    token: str
    token_id: int = Field(ge=0)
    standard: Literal["erc721", "erc1155"] = "erc721"
    quantity: int = Field(default=1, gt=0)
    unit_price: int = Field(gt=0, description="Per unit, in the currency's smallest unit (wei)")
    currency: str = ETH
    start: int = Field(ge=0)
    expiry: int = Field(gt=0)
    salt: int = Field(ge=0)
    counter: int = Field(ge=0)
    holding_epoch: int = Field(default=0, ge=0, le=2**256 - 1,
                               description="Listings: the collection's holdingEpoch(seller, token_id) "
                               "when signed (the listing dies when the token leaves the seller)")
    signature: str = Field(pattern=r"^0x(?:[0-9a-fA-F]{2}){65,2048}$",
                           description="65 bytes from a key, or a contract wallet's (EIP-1271) bytes; hex")

    @field_validator("signer", "token", "currency")
    @classmethod
    def _addresses(cls, value: str) -> str:
        return checksum_address(value)

    def order(self) -> Order:
        return Order(
            OrderSide.LISTING if self.side == "listing" else OrderSide.OFFER,
            self.signer,
            self.token,
            self.token_id,
            TokenStandard.ERC721 if self.standard == "erc721" else TokenStandard.ERC1155,
            self.quantity,
            self.unit_price,
            self.currency,
            self.start,
            self.expiry,
            self.salt,
            self.counter,
            self.holding_epoch if self.side == "listing" else 0,
        )


class OrderOut(BaseModel):
    order_hash: str
    chain_id: int
    side: str
    signer: str
    token: str
    token_id: str
    standard: int
    quantity: str
    unit_price: str
    currency: str
    start: int
    expiry: int
    salt: str
    counter: str
    holding_epoch: str = "0"
    signature: str | None = Field(
        description="Only while the order is open: the signature of a filled, cancelled or stale "
        "order is never served (it must not be fillable by anyone who kept it)")
    status: str
    created_at: datetime

    @classmethod
    def of(cls, row: MarketOrder) -> OrderOut:
        """The served view of ``row``: its signature only while it is open."""
        out = cls.model_validate(row, from_attributes=True)
        if row.status != "open":
            out.signature = None
        return out


MAX_UINT256 = 2**256 - 1


class FillIn(BaseModel):
    amount: int = Field(default=1, gt=0, le=MAX_UINT256)


class BreakerView(BaseModel):
    policy: PolicyIn
    halted_until: datetime | None
    decisions: list[dict[str, Any]]


def _holds(request: Request, order: Order, chain_id: int, who: str, quantity: int, hint: str) -> bool:
    """Whether ``who`` holds ``quantity`` of the order's token on chain (``hint``: what to do when the
    token cannot be read)."""
    gateway = request.app.state.gateway
    try:
        if order.standard is TokenStandard.ERC721:
            owner = gateway.view(chain_id, order.token, "CreatorCollection", "ownerOf", [order.token_id])
            return bool(Web3.to_checksum_address(owner) == who)
        balance = gateway.view(chain_id, order.token, "Editions1155", "balanceOf", [who, order.token_id])
        return int(balance) >= quantity
    except ApiError:
        raise
    except Exception:
        raise UnprocessableError(
            f"could not read who holds token {order.token_id} of {order.token} on chain {chain_id}: "
            f"{hint}") from None


def _holding_epoch(request: Request, order: Order, chain_id: int) -> int:
    """The collection's ``holdingEpoch(signer, token_id)`` now (IHoldingEpoch)."""
    abi = "CreatorCollection" if order.standard is TokenStandard.ERC721 else "Editions1155"
    return int(request.app.state.gateway.view(chain_id, order.token, abi, "holdingEpoch",
                                              [order.signer, order.token_id]))


def _epoch_check(request: Request, order: Order, chain_id: int) -> None:
    """A listing must carry its token's current holding epoch: the marketplace fills it only while
    that is unchanged (a wrong one could never fill)."""
    try:
        current = _holding_epoch(request, order, chain_id)
    except ApiError:
        raise
    except Exception:
        raise UnprocessableError(
            f"the collection {order.token} does not report holding epochs (IHoldingEpoch): the "
            "marketplace cannot fill listings of it; sell it by auction or accept an offer") from None
    if current != order.holding_epoch:
        raise UnprocessableError(
            f"the listing carries holding epoch {order.holding_epoch}, but token {order.token_id} of "
            f"{order.token} is at {current} for {order.signer}: sign it again with holding_epoch "
            f"{current} (read holdingEpoch(seller, tokenId) from the collection)")


def _holder_check(request: Request, order: Order, chain_id: int, holder: str | None = None,
                  amount: int | None = None) -> None:
    """A listing's signer must hold what it sells (``holder``/``amount``: the wallet that accepts an
    offer, and how many). Without this anyone verified could list other people's tokens at absurd
    prices and let the circuit breaker halt their collection."""
    who = holder or order.signer
    quantity = order.quantity if amount is None else amount
    if not _holds(request, order, chain_id, who, quantity,
                  "list a token that exists, in an ERC-721 or ERC-1155 collection"):
        verb = "list" if holder is None else "accept offers on"
        raise UnprocessableError(
            f"your wallet {who} does not hold token {order.token_id} of {order.token} "
            f"(quantity {quantity}): you can only {verb} what you hold")


def _jurisdiction_check(
    request: Request, order: Order, chain_id: int, row: CollectionPolicyRow | None
) -> None:
    """A collection that forbids secondary sales: only its creator sells, whether by listing or by
    accepting an offer (an offer on a token someone else holds would be a secondary sale)."""
    if row is None or row.secondary_sales:
        return
    gateway = request.app.state.gateway
    creator = Web3.to_checksum_address(
        gateway.contract(chain_id, "CreatorCollection", order.token).functions.owner().call())
    rule = ("this collection's jurisdiction policy forbids secondary sales: only the creator may sell; "
            f"holders may give the token away (POST /market/gift-tx) after {row.gift_holding_s} s of holding")
    if order.side is OrderSide.LISTING:
        if order.signer != creator:
            raise UnprocessableError(rule)
        return
    if not _holds(request, order, chain_id, creator, order.quantity, "make offers on a token that exists"):
        raise UnprocessableError(f"offer refused: the creator does not hold token {order.token_id}; {rule}")


MAX_BATCH_ORDERS = 50
"""Orders per POST /market/orders/batch and listings per fill-tx batch: the contract's
MAX_BATCH_FILLS, so every batch of accepted listings can be bought in one fillListings."""


class _Verifier:
    """Receipt checks of one request's orders, with what they share read once: the marketplace
    address and EIP-712 domain per chain, and each signer's on-chain counter."""

    def __init__(self, request: Request) -> None:
        self.gateway = request.app.state.gateway
        self._domains: dict[int, MarketDomain] = {}
        self._counters: dict[tuple[int, str], int] = {}

    def domain(self, chain_id: int) -> MarketDomain:
        if chain_id not in self._domains:
            market = self.gateway.contract(chain_id, "Marketplace")
            self._domains[chain_id] = MarketDomain(chain_id, market.address)
        return self._domains[chain_id]

    def counter(self, chain_id: int, signer: str) -> int:
        key = (chain_id, signer)
        if key not in self._counters:
            market = self.domain(chain_id).verifying_contract
            counter = self.gateway.view(chain_id, market, "Marketplace", "counterOf", [signer])
            self._counters[key] = int(counter)
        return self._counters[key]


def _admit(
    body: OrderIn, signer: str | None, db: Session, request: Request, verifier: _Verifier
) -> MarketOrder:
    """Every check of an incoming order (wallet, signature, domain, expiry, counter, duplicate,
    jurisdiction, circuit breaker), then its row, flushed. Raises the ApiError that names what
    was wrong."""
    if signer is None or Web3.to_checksum_address(signer) != body.signer:
        raise ForbiddenError("you can only submit orders your own wallet signed (log in with that wallet)")
    refuse_when_paused(request.app.state.gateway, body.chain_id, "marketplace", "new listings and offers")
    domain = verifier.domain(body.chain_id)
    try:
        order = body.order()
        signed = SignedOrder(order, bytes.fromhex(body.signature[2:]), domain)
        counter = verifier.counter(body.chain_id, order.signer)
        digest = verify_order(signed, expected_domain=domain, now=int(time.time()), current_counter=counter)
    except OrderError as exc:
        raise UnprocessableError(f"order refused: {exc}") from None
    order_hash = "0x" + digest.hex()
    if db.get(MarketOrder, order_hash) is not None:
        raise ConflictError(f"order {order_hash} was already submitted")
    if order.side is OrderSide.LISTING:
        _holder_check(request, order, body.chain_id)  # before the breaker: only holders count there
        _epoch_check(request, order, body.chain_id)
    policy_row = db.get(CollectionPolicyRow, (body.chain_id, order.token))  # read once for both checks
    _jurisdiction_check(request, order, body.chain_id, policy_row)
    breaker_check(request.app.state.gateway, db, order, body.chain_id, policy_row)
    row = MarketOrder(
        order_hash=order_hash,
        chain_id=body.chain_id,
        side=body.side,
        signer=order.signer,
        token=order.token,
        token_id=str(order.token_id),
        standard=int(order.standard),
        quantity=str(order.quantity),
        unit_price=str(order.unit_price),
        currency=order.currency,
        start=order.start,
        expiry=order.expiry,
        salt=str(order.salt),
        counter=str(order.counter),
        holding_epoch=str(order.holding_epoch),
        signature=body.signature,
        status="open",
        created_at=datetime.now(UTC),
    )
    db.add(row)
    db.flush()
    return row


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderOut,
    summary="Submit a wallet-signed listing or offer (verified on receipt)",
)
def create_order(body: OrderIn, user: KycVerifiedUser, db: DbSession, request: Request) -> OrderOut:
    follow_chain(request.app.state.db, request.app.state.gateway, body.chain_id)  # the breaker sees fills
    row = _admit(body, user.address, db, request, _Verifier(request))
    return OrderOut.of(row)


class OrderBatchIn(BaseModel):
    orders: list[OrderIn] = Field(min_length=1, max_length=MAX_BATCH_ORDERS)


class OrderResult(BaseModel):
    index: int
    status: Literal["created", "refused"]
    order: OrderOut | None = None
    error: dict[str, Any] | None = None
    """For a refused order: the problem the single route would answer (status, title, detail)."""


class OrderBatchOut(BaseModel):
    created: int
    refused: int
    results: list[OrderResult]


@router.post(
    "/orders/batch",
    response_model=OrderBatchOut,
    summary=f"Submit up to {MAX_BATCH_ORDERS} wallet-signed orders at once, each verified as POST "
    "/market/orders verifies one; per-order results",
)
def create_orders(
    body: OrderBatchIn, user: KycVerifiedUser, db: DbSession, request: Request
) -> OrderBatchOut:
    """Per item, not all or nothing: each order is admitted or refused on its own (a listing
    whose price the breaker refuses does not block the others, exactly as if it had been posted
    alone), in the order given; a later duplicate of an earlier item is refused with 409."""
    verifier = _Verifier(request)
    for chain_id in sorted({item.chain_id for item in body.orders}):
        follow_chain(request.app.state.db, request.app.state.gateway, chain_id)
    results: list[OrderResult] = []
    for index, item in enumerate(body.orders):
        try:
            row = _admit(item, user.address, db, request, verifier)
        except ApiError as exc:
            results.append(OrderResult(index=index, status="refused", error={
                "status": exc.status, "title": exc.title, "detail": exc.detail, **exc.extra}))
            continue
        except SQLAlchemyError:
            raise  # the session is unusable: the request fails as a whole
        except Exception:  # one item's fault (e.g. a chain read) must not hide the others' answers
            log.exception("batch order %d: unexpected error", index)  # nothing of this item was added
            results.append(OrderResult(index=index, status="refused", error={
                "status": 500, "title": "Internal error",
                "detail": "this order could not be checked because of an internal error; it was not "
                          "stored: submit it again, and report it if it persists"}))
            continue
        results.append(OrderResult(index=index, status="created",
                                   order=OrderOut.of(row)))
    created = sum(1 for r in results if r.status == "created")
    return OrderBatchOut(created=created, refused=len(results) - created, results=results)


@router.get("/orders", response_model=list[OrderOut],
            summary="Orders, filtered; their status follows the chain (filled, cancelled, stale: the "
            "seller no longer holds the token)")
def list_orders(
    db: DbSession,
    request: Request,
    chain_id: Annotated[int | None, Query(gt=0, le=MAX_CHAIN_ID)] = None,
    token: Address | None = None,
    token_id: Annotated[int | None, Query(ge=0)] = None,
    side: Literal["listing", "offer"] | None = None,
    status: Literal["open", "cancelled", "filled", "stale"] | None = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OrderOut]:
    gateway = request.app.state.gateway
    if chain_id is not None:
        follow_chain(request.app.state.db, gateway, chain_id)
    else:
        follow_all(request.app.state.db, gateway)
    query = select(MarketOrder).order_by(MarketOrder.created_at.desc()).limit(limit)
    if chain_id is not None:
        query = query.where(MarketOrder.chain_id == chain_id)
    if token is not None:
        query = query.where(MarketOrder.token == token)
    if token_id is not None:
        query = query.where(MarketOrder.token_id == str(token_id))
    if side is not None:
        query = query.where(MarketOrder.side == side)
    if status is not None:
        query = query.where(MarketOrder.status == status)
    return [OrderOut.of(r) for r in db.execute(query).scalars()]


def _order_row(db: Session, order_hash: str) -> MarketOrder:
    row = db.get(MarketOrder, order_hash.lower())
    if row is None:
        raise NotFoundError(f"no order {order_hash}")
    return row


def _as_order(row: MarketOrder) -> Order:
    return Order(
        OrderSide.LISTING if row.side == "listing" else OrderSide.OFFER,
        row.signer,
        row.token,
        int(row.token_id),
        TokenStandard(row.standard),
        int(row.quantity),
        int(row.unit_price),
        row.currency,
        row.start,
        row.expiry,
        int(row.salt),
        int(row.counter),
        int(row.holding_epoch),
    )


class CancelOut(BaseModel):
    order_hash: str
    status: str
    needs_transaction: bool = Field(description="Whether the order could still be filled on chain "
                                    "by someone who kept its signature: then sign and send `tx`")
    detail: str
    tx: UnsignedTx | None = Field(description="The marketplace's cancel([order]) for your wallet, "
                                  "when needs_transaction")


def _dead_on_chain(request: Request, row: MarketOrder, order: Order) -> str | None:
    """Why ``order`` can no longer be filled on chain whoever holds its signature (filled,
    cancelled, expired, counter bumped, listing's token moved), or None when it still can."""
    gateway = request.app.state.gateway
    market = gateway.contract(row.chain_id, "Marketplace").address
    cancelled, filled = gateway.view(row.chain_id, market, "Marketplace", "orderStatus",
                                     [bytes.fromhex(row.order_hash[2:])])
    if cancelled:
        return "it is already cancelled on chain"
    if int(filled) >= order.quantity:
        return "it is already filled on chain"
    if order.expiry <= int(time.time()):
        return "it has expired"
    if int(gateway.view(row.chain_id, market, "Marketplace", "counterOf", [order.signer])) != order.counter:
        return "you bumped your counter since signing it"
    listing = order.side is OrderSide.LISTING
    if listing and _holding_epoch(request, order, row.chain_id) != order.holding_epoch:
        return "the token left your wallet since you signed it (its holding epoch moved)"
    return None


@router.post(
    "/orders/{order_hash}/cancel",
    response_model=CancelOut,
    summary="Cancel your order: its signature stops being served at once; the answer says whether "
    "it could still be filled on chain, and then carries the cancel transaction to sign",
)
def cancel_order(order_hash: str, caller: CurrentUser, db: DbSession, request: Request) -> CancelOut:
    """Withdrawing an order from the book is not enough: its signature was public while it was
    open, and anyone who kept it can fill it on chain. So the order is withdrawn here at once
    (never served again), and unless the chain already refuses it, the answer carries the
    unsigned ``cancel([order])`` for the signer's wallet (``needs_transaction``)."""
    row = _order_row(db, order_hash)
    if caller.address is None or Web3.to_checksum_address(caller.address) != row.signer:
        raise ForbiddenError("only the order's signer can cancel it")
    follow_chain(request.app.state.db, request.app.state.gateway, row.chain_id)  # a fill may have landed
    db.refresh(row)
    if row.status == "filled":
        raise ConflictError(f"order {row.order_hash} is already filled", order_status="filled")
    row.status = "cancelled"
    db.commit()  # stop serving the signature before anything else can fail
    order = _as_order(row)
    reason = _dead_on_chain(request, row, order)
    if reason is not None:
        return CancelOut(order_hash=row.order_hash, status=row.status, needs_transaction=False, tx=None,
                         detail=f"cancelled; no transaction needed: {reason}, so nobody can fill it")
    market = request.app.state.gateway.contract(row.chain_id, "Marketplace")
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
def fill_tx(
    order_hash: str, body: FillIn, user: KycVerifiedUser, db: DbSession, request: Request
) -> UnsignedTx:
    row = _order_row(db, order_hash)
    _prepare_fill(request, db, [row])
    if user.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    request.app.state.gateway.require_progress(row.chain_id)
    order = _as_order(row)
    sender = Web3.to_checksum_address(user.address)
    market = request.app.state.gateway.contract(row.chain_id, "Marketplace")
    if row.side == "offer":
        # The holder accepts: the token moves to the bidder, who pays in the offer's ERC-20. The
        # jurisdiction policy was applied when the offer was posted; the holder is checked now.
        if sender == order.signer:
            raise UnprocessableError("this is your own offer: the token's holder accepts it")
        _holder_check(request, order, row.chain_id, holder=sender, amount=body.amount)
        function, value = "fillOffer", 0
    else:
        if sender == order.signer:
            raise UnprocessableError("this is your own listing: buying from yourself is refused (on "
                                     "chain too: OrderSelfFill); cancel it instead")
        function = "fillListing"
        value = order.total_price(body.amount) if order.currency == ETH else 0
    data = request.app.state.gateway.calldata(
        "Marketplace", function, [order.as_tuple(), bytes.fromhex(row.signature[2:]), body.amount]
    )
    _check_value(value)
    gas = _estimate(request, row.chain_id, sender, market.address, data, value)
    return UnsignedTx(
        chain_id=row.chain_id, **{"from": sender}, to=market.address, data=data, value=hex(value), gas=gas
    )


class FillItemIn(BaseModel):
    order_hash: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")
    amount: int = Field(default=1, gt=0, le=MAX_UINT256)


class FillBatchIn(BaseModel):
    items: list[FillItemIn] = Field(min_length=1, max_length=MAX_BATCH_ORDERS)


@router.post(
    "/fill-tx/batch",
    response_model=UnsignedTx,
    summary=f"One transaction (fillListings) that buys up to {MAX_BATCH_ORDERS} listings at once, for "
    "the buyer's wallet",
)
def fill_tx_batch(body: FillBatchIn, user: KycVerifiedUser, db: DbSession, request: Request) -> UnsignedTx:
    """All or nothing, like the contract's cart: every listing must be open and on one chain, and
    the whole transaction is simulated; any item that would revert refuses the batch (422 naming
    the contract's error), so the buyer never signs a cart that cannot settle."""
    if user.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    rows = [_order_row(db, item.order_hash) for item in body.items]
    _prepare_fill(request, db, rows, batch=True)
    for item, row in zip(body.items, rows, strict=True):
        if row.side != "listing":
            raise UnprocessableError(f"order {item.order_hash} is an offer: a batch buys listings only")
    chains = {row.chain_id for row in rows}
    if len(chains) != 1:
        raise UnprocessableError(
            f"the batch mixes chains {sorted(chains)}: one transaction buys on one chain; split it"
        )
    chain_id = rows[0].chain_id
    orders = [_as_order(row) for row in rows]
    buyer = Web3.to_checksum_address(user.address)
    for item, order in zip(body.items, orders, strict=True):
        if order.signer == buyer:
            raise UnprocessableError(f"order {item.order_hash} is your own listing: buying from yourself "
                                     "is refused (on chain too: OrderSelfFill); remove it from the batch")
    gateway = request.app.state.gateway
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
    sender = Web3.to_checksum_address(user.address)
    gas = _estimate(request, chain_id, sender, market.address, data, value)
    return UnsignedTx(
        chain_id=chain_id, **{"from": sender}, to=market.address, data=data, value=hex(value), gas=gas
    )


def _prepare_fill(request: Request, db: Session, rows: list[MarketOrder], batch: bool = False) -> None:
    """Before building a fill: the book follows the chain (a sold, cancelled or stale order is
    refused), and a halt whose cooldown is over is lifted on chain, so buying an existing listing
    works again without waiting for a new order."""
    gateway = request.app.state.gateway
    for chain_id in sorted({row.chain_id for row in rows}):
        follow_chain(request.app.state.db, gateway, chain_id)
    for row in rows:
        db.refresh(row)
        tail = ": remove it from the batch" if batch else ""
        if row.status == "stale":
            raise ConflictError(
                f"order {row.order_hash} is stale: the seller {row.signer} no longer holds token "
                f"{row.token_id} of {row.token}, so it cannot be filled{tail}; pick another listing",
                order_status="stale")
        if row.status != "open":
            raise ConflictError(f"order {row.order_hash} is {row.status}{tail}")
    for chain_id, token in sorted({(row.chain_id, row.token) for row in rows}):
        lift_expired_halt(gateway, db, chain_id, token, db.get(CollectionPolicyRow, (chain_id, token)))


def _check_value(value: int) -> None:
    if value > MAX_UINT256:
        raise UnprocessableError(
            f"the ETH to pay ({value} wei) does not fit a transaction's value: lower the amounts")


def _estimate(request: Request, chain_id: int, sender: str, to: str, data: str, value: int) -> int:
    """Gas for the buyer's transaction; a revert becomes a 422 naming the contract's error."""
    from web3.exceptions import ContractCustomError, ContractLogicError

    from chain.reverts import ErrorDecoder, revert_data

    gateway = request.app.state.gateway
    try:
        return int(
            gateway.web3(chain_id).eth.estimate_gas({"from": sender, "to": to, "data": data, "value": value})
        )
    except (ContractLogicError, ContractCustomError) as exc:
        decoder = ErrorDecoder(gateway.artifacts.get(n).abi for n in gateway.artifacts.names())
        revert = revert_data(exc)
        decoded = decoder.decode(revert)
        context = {}
        if decoded and decoded[0] == "CollectionHalted":  # the breaker knows until when
            from eth_utils.address import to_checksum_address

            from chain.formatting import format_time

            with request.app.state.db.session() as db:
                row = db.get(CollectionPolicyRow, (chain_id, to_checksum_address(decoded[1][0])))
                until = aware(row.halted_until) if row else None
            if until is not None:
                context["until"] = f"until {format_time(until)}"
        raise UnprocessableError(f"the fill would revert: {decoder.explain(revert, **context)}",
                                 error=decoded[0] if decoded else None) from None


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
    request: Request,
) -> BreakerView:
    apply_policy(request.app.state.gateway, db, chain_id, collection, body)  # Address: checksummed
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
    request: Request,
) -> BreakerView:
    lift_halt(request.app.state.gateway, db, chain_id, collection, risk.address or risk.did)
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


class GiftTxIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    token: Address
    token_id: int = Field(ge=0, le=MAX_UINT256)
    to: Address
    standard: Literal["erc721", "erc1155"] = "erc721"
    quantity: int = Field(default=1, gt=0, le=MAX_UINT256)


def _acquired_at(db: Session, chain_id: int, token: str, token_id: int, holder: str) -> datetime | None:
    """When ``holder`` last received the token, as the index saw it (None: not indexed yet)."""
    rows = db.execute(
        select(chain_events.c.args, chain_events.c.block_time)
        .where(chain_events.c.chain_id == chain_id, chain_events.c.ref_address == token,
               chain_events.c.token_id == str(token_id),
               chain_events.c.event.in_(("Transfer", "TransferSingle")))
        .order_by(chain_events.c.block_number.desc(), chain_events.c.log_index.desc())
    )
    for args_text, block_time in rows:
        if Web3.to_checksum_address(json.loads(args_text)["to"]) == holder:
            return datetime.fromtimestamp(block_time or 0, UTC)
    return None


@router.post(
    "/gift-tx",
    response_model=UnsignedTx,
    summary="The transaction that gives a token away, for the holder's wallet (the collection's "
    "holding period applies)",
)
def gift_tx(body: GiftTxIn, user: KycVerifiedUser, db: DbSession, request: Request) -> UnsignedTx:
    """A gift is a transfer without a sale. On a collection whose jurisdiction policy sets a
    holding period, a holder other than the creator may give a token only once it has held it
    that long (from the transfer that brought it, as indexed)."""
    if user.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    holder = Web3.to_checksum_address(user.address)
    standard = TokenStandard.ERC721 if body.standard == "erc721" else TokenStandard.ERC1155
    probe = Order(OrderSide.LISTING, holder, body.token, body.token_id, standard, body.quantity, 1, ETH,
                  0, 1, 0, 0)
    gateway = request.app.state.gateway
    gateway.require_progress(body.chain_id)
    _holder_check(request, probe, body.chain_id)
    row = db.get(CollectionPolicyRow, (body.chain_id, body.token))
    if row is not None and row.gift_holding_s > 0:
        creator = Web3.to_checksum_address(
            gateway.contract(body.chain_id, "CreatorCollection", body.token).functions.owner().call())
        if holder != creator:
            since = _acquired_at(db, body.chain_id, body.token, body.token_id, holder)
            if since is None:
                raise ConflictError(
                    f"the index has not seen your wallet receive token {body.token_id} yet, so its holding "
                    "period cannot be checked: try again in a moment")
            free_at = since + timedelta(seconds=row.gift_holding_s)
            if datetime.now(UTC) < free_at:
                raise UnprocessableError(
                    f"this collection allows gifts only after {row.gift_holding_s} s of holding: you "
                    f"received token {body.token_id} at {since.isoformat()}, so you can give it from "
                    f"{free_at.isoformat()}",
                    gift_allowed_from=free_at.isoformat())
    contract = gateway.contract(body.chain_id, "CreatorCollection" if standard is TokenStandard.ERC721
                                else "Editions1155", body.token)
    args: list[Any] = [holder, body.to, body.token_id]
    if standard is TokenStandard.ERC1155:
        args += [body.quantity, b""]
    data = contract.encode_abi("safeTransferFrom", args=args)
    gas = _estimate(request, body.chain_id, holder, body.token, data, 0)
    return UnsignedTx(chain_id=body.chain_id, **{"from": holder}, to=body.token, data=data, value="0x0",
                      gas=gas)
