"""Offers in wrapped ETH: what a buyer signs (EIP-712, like listings) and the wrap/approve
transactions it needs, the signed offer verified and kept, the offers on a token, the accept
transaction for the token's holder, cancel; and wrapping or unwrapping ETH."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3

from api.deps import CurrentUser, DatabaseDep, DbSession, GatewayDep, KycVerifiedUser
from api.errors import ConflictError, ForbiddenError, NotFoundError, UnprocessableError
from api.gateway import ChainGateway
from api.market_sync import follow_chain
from api.models import CollectionPolicyRow, MarketOrder
from api.risk import breaker_check
from api.trading import (
    MAX_UINT256,
    Amount,
    UnsignedTx,
    amount,
    approval_tx,
    deployed,
    holds,
    iso,
    offer_currency,
    offer_shortfall,
    require_funded_offer,
    require_secondary_sales,
    simulate,
    unsigned,
    wallet_of,
)
from api.types import MAX_CHAIN_ID, Address
from chain.errors import OrderError
from chain.orders import (
    MarketDomain,
    Order,
    OrderSide,
    SignedOrder,
    TokenStandard,
    new_salt,
    typed_data,
    verify_order,
)

router = APIRouter(prefix="/offers", tags=["offers"])
ChainId = Annotated[int, Path(gt=0, le=MAX_CHAIN_ID)]


class OfferTerms(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    token: Address
    token_id: int = Field(ge=0, le=MAX_UINT256)
    standard: Literal["erc721", "erc1155"] = "erc721"
    quantity: int = Field(default=1, ge=1, le=2**248 - 1)
    unit_price_wei: int = Field(gt=0, le=MAX_UINT256, description="Per unit, in wrapped ETH's wei")


class PrepareIn(OfferTerms):
    hours: float = Field(default=72.0, gt=0, le=24 * 365, description="How long the offer stays valid")


class OfferFields(BaseModel):
    """The offer to sign, field by field (what POST /offers takes back with the signature)."""

    chain_id: int
    signer: str
    token: str
    token_id: str
    standard: Literal["erc721", "erc1155"]
    quantity: str
    unit_price: str
    currency: str
    start: int
    expiry: int
    salt: str
    counter: str


class PrepareOut(BaseModel):
    offer: OfferFields
    typed_data: dict[str, Any] = Field(description="For the wallet's eth_signTypedData_v4")
    total: Amount
    deposit: UnsignedTx | None = Field(description="Send first when present: wraps the ETH still missing")
    approve: UnsignedTx | None = Field(description="Send when present: lets the marketplace take the price")


class OfferIn(BaseModel):
    """A signed offer: the fields of POST /offers/prepare's ``offer`` (numbers as numbers or decimal
    strings) and the wallet's signature."""

    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    signer: Address
    token: Address
    token_id: int = Field(ge=0, le=MAX_UINT256)
    standard: Literal["erc721", "erc1155"] = "erc721"
    quantity: int = Field(gt=0, le=2**248 - 1)
    unit_price: int = Field(gt=0, le=MAX_UINT256)
    currency: Address
    start: int = Field(ge=0, le=2**64 - 1)
    expiry: int = Field(gt=0, le=2**64 - 1)
    salt: int = Field(ge=0, le=MAX_UINT256)
    counter: int = Field(ge=0, le=MAX_UINT256)
    signature: str = Field(pattern=r"^0x(?:[0-9a-fA-F]{2}){65,2048}$")


class OfferOut(BaseModel):
    order_hash: str
    chain_id: int
    buyer: str
    token: str
    token_id: str
    standard: Literal["erc721", "erc1155"]
    quantity: str
    unit_price: Amount
    total: Amount
    currency: str
    start: str | None
    expiry: str | None = Field(description="ISO 8601: the first second it can no longer be accepted")
    status: str
    funded: bool | None = Field(
        description="Whether the buyer could pay it now (balance and allowance); "
        "only computed for open offers"
    )
    signature: str | None = Field(description="Only while open")
    created_at: datetime


class AcceptIn(BaseModel):
    amount: int = Field(default=1, gt=0, le=MAX_UINT256)


class AcceptOut(BaseModel):
    approval: UnsignedTx | None = Field(description="Send first when present (setApprovalForAll)")
    transaction: UnsignedTx = Field(description="fillOffer; simulated once no approval is missing")
    proceeds: Amount = Field(description="The price before royalty and platform fee")


class CancelOut(BaseModel):
    order_hash: str
    status: str
    needs_transaction: bool
    detail: str
    tx: UnsignedTx | None


class WethIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    amount_wei: int = Field(gt=0, le=MAX_UINT256)


class WethOut(BaseModel):
    chain_id: int
    currency: str
    account: str
    balance: Amount
    allowance_to_marketplace: Amount


def _standard(value: str) -> TokenStandard:
    return TokenStandard.ERC721 if value == "erc721" else TokenStandard.ERC1155


def _domain(gateway: ChainGateway, chain_id: int) -> MarketDomain:
    return MarketDomain(chain_id, deployed(gateway, chain_id, "Marketplace"))


def _counter(gateway: ChainGateway, chain_id: int, signer: str) -> int:
    return int(
        gateway.view(
            chain_id, deployed(gateway, chain_id, "Marketplace"), "Marketplace", "counterOf", [signer]
        )
    )


def _order(fields: OfferIn) -> Order:
    return Order(
        OrderSide.OFFER,
        fields.signer,
        fields.token,
        fields.token_id,
        _standard(fields.standard),
        fields.quantity,
        fields.unit_price,
        fields.currency,
        fields.start,
        fields.expiry,
        fields.salt,
        fields.counter,
    )


def _row_order(row: MarketOrder) -> Order:
    return Order(
        OrderSide.OFFER,
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
    )


def _status_on_chain(gateway: ChainGateway, row: MarketOrder) -> str:
    """The offer's status with the chain's word first: the book follows the index, which may lag
    (or not run), and a filled or cancelled offer must never be served as open."""
    if row.status != "open":
        return row.status
    market = deployed(gateway, row.chain_id, "Marketplace")
    cancelled, filled = gateway.view(
        row.chain_id, market, "Marketplace", "orderStatus", [bytes.fromhex(row.order_hash[2:])]
    )
    if cancelled:
        return "cancelled"
    return "filled" if int(filled) >= int(row.quantity) else "open"


def _out(gateway: ChainGateway, row: MarketOrder) -> OfferOut:
    price = int(row.unit_price)
    total = price * int(row.quantity)
    funded = None
    status = _status_on_chain(gateway, row)
    if status == "open":
        funded = offer_shortfall(gateway, row.chain_id, row.signer, row.currency, total) is None
    return OfferOut(
        order_hash=row.order_hash,
        chain_id=row.chain_id,
        buyer=row.signer,
        token=row.token,
        token_id=row.token_id,
        standard="erc721" if row.standard == 0 else "erc1155",
        quantity=row.quantity,
        unit_price=amount(price),
        total=amount(total),
        currency=row.currency,
        start=iso(row.start),
        expiry=iso(row.expiry),
        status=status,
        funded=funded,
        signature=row.signature if status == "open" else None,
        created_at=row.created_at,
    )


@router.post(
    "/prepare",
    response_model=PrepareOut,
    summary="The offer to sign (EIP-712 typed data) in wrapped ETH, with the wrap and approve "
    "transactions still missing",
)
def prepare(body: PrepareIn, user: KycVerifiedUser, gateway: GatewayDep) -> PrepareOut:
    buyer = wallet_of(user)
    currency = offer_currency(gateway, body.chain_id)
    market = deployed(gateway, body.chain_id, "Marketplace")
    now = int(time.time())
    order = Order(
        OrderSide.OFFER,
        buyer,
        body.token,
        body.token_id,
        _standard(body.standard),
        body.quantity,
        body.unit_price_wei,
        currency,
        now - 60,
        now + int(body.hours * 3600),
        new_salt(),
        _counter(gateway, body.chain_id, buyer),
    )
    total = body.unit_price_wei * body.quantity
    balance = int(gateway.view(body.chain_id, currency, "WrappedEther", "balanceOf", [buyer]))
    allowed = int(gateway.view(body.chain_id, currency, "WrappedEther", "allowance", [buyer, market]))
    deposit = approve = None
    if balance < total:
        data = gateway.calldata("WrappedEther", "deposit", [])
        missing = total - balance
        deposit = unsigned(
            body.chain_id,
            buyer,
            currency,
            data,
            missing,
            simulate(gateway, body.chain_id, buyer, currency, data, missing, "wrapping ETH"),
        )
    if allowed < total:
        data = gateway.calldata("WrappedEther", "approve", [market, total])
        approve = unsigned(
            body.chain_id,
            buyer,
            currency,
            data,
            0,
            simulate(gateway, body.chain_id, buyer, currency, data, 0, "the approval"),
        )
    fields = OfferFields(
        chain_id=body.chain_id,
        signer=buyer,
        token=body.token,
        token_id=str(body.token_id),
        standard=body.standard,
        quantity=str(body.quantity),
        unit_price=str(body.unit_price_wei),
        currency=currency,
        start=order.start,
        expiry=order.expiry,
        salt=str(order.salt),
        counter=str(order.counter),
    )
    return PrepareOut(
        offer=fields,
        typed_data=typed_data(order, _domain(gateway, body.chain_id)),
        total=amount(total),
        deposit=deposit,
        approve=approve,
    )


@router.post(
    "",
    status_code=201,
    response_model=OfferOut,
    summary="Make an offer: your wallet's EIP-712 signature over it, verified; refused unless your "
    "wrapped ETH could pay it now",
)
def make_offer(
    body: OfferIn, user: KycVerifiedUser, db: DbSession, gateway: GatewayDep, database: DatabaseDep
) -> OfferOut:
    buyer = wallet_of(user)
    if Web3.to_checksum_address(body.signer) != buyer:
        raise ForbiddenError("you can only make offers your own wallet signed (log in with that wallet)")
    follow_chain(database, gateway, body.chain_id)  # the breaker sees recent fills
    domain = _domain(gateway, body.chain_id)
    try:
        order = _order(body)
        digest = verify_order(
            SignedOrder(order, bytes.fromhex(body.signature[2:]), domain),
            expected_domain=domain,
            now=int(time.time()),
            current_counter=_counter(gateway, body.chain_id, buyer),
        )
    except (OrderError, ValueError) as exc:
        raise UnprocessableError(f"offer refused: {exc}") from None
    order_hash = "0x" + digest.hex()
    if db.get(MarketOrder, order_hash) is not None:
        raise ConflictError(f"offer {order_hash} was already made")
    holder_known = holds(
        gateway, body.chain_id, order.token, body.standard, order.token_id, buyer, order.quantity
    )
    if holder_known:
        raise UnprocessableError("you already hold this token: an offer on it would buy from yourself")
    require_funded_offer(gateway, body.chain_id, order)
    policy = db.get(CollectionPolicyRow, (body.chain_id, order.token))
    if policy is not None and not policy.secondary_sales:
        creator = Web3.to_checksum_address(
            gateway.view(body.chain_id, order.token, "CreatorCollection", "owner", [])
        )
        if not holds(
            gateway, body.chain_id, order.token, body.standard, order.token_id, creator, order.quantity
        ):
            raise UnprocessableError(
                "offer refused: this collection's jurisdiction policy forbids secondary "
                f"sales and its creator no longer holds token {order.token_id}"
            )
    breaker_check(gateway, db, order, body.chain_id, policy)
    row = MarketOrder(
        order_hash=order_hash,
        chain_id=body.chain_id,
        side="offer",
        signer=buyer,
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
        holding_epoch="0",
        signature=body.signature,
        status="open",
        created_at=datetime.now(UTC),
    )
    db.add(row)
    db.flush()
    return _out(gateway, row)


@router.get(
    "",
    response_model=list[OfferOut],
    summary="Offers on a token (or a collection, or by a buyer), newest first; open ones by default, "
    "amounts in ETH and wei, expiry in ISO 8601",
)
def list_offers(
    db: DbSession,
    gateway: GatewayDep,
    database: DatabaseDep,
    chain_id: Annotated[int, Query(gt=0, le=MAX_CHAIN_ID)],
    token: Address | None = None,
    token_id: Annotated[int | None, Query(ge=0, le=MAX_UINT256)] = None,
    buyer: Address | None = None,
    status: Literal["open", "cancelled", "filled", "stale", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OfferOut]:
    follow_chain(database, gateway, chain_id)
    now = int(time.time())
    query = select(MarketOrder).where(MarketOrder.chain_id == chain_id, MarketOrder.side == "offer")
    if token is not None:
        query = query.where(MarketOrder.token == token)
    if token_id is not None:
        query = query.where(MarketOrder.token_id == str(token_id))
    if buyer is not None:
        query = query.where(MarketOrder.signer == buyer)
    if status != "all":
        query = query.where(MarketOrder.status == status)
    if status == "open":  # an expired offer is never served as open
        query = query.where(MarketOrder.expiry > now, MarketOrder.start <= now)
    rows = db.execute(query.order_by(MarketOrder.created_at.desc()).limit(limit)).scalars()
    offers = [_out(gateway, r) for r in rows]
    return [o for o in offers if status in ("all", o.status)]


def _offer_row(db: Session, order_hash: str) -> MarketOrder:
    row = db.get(MarketOrder, order_hash.lower())
    if row is None or row.side != "offer":
        raise NotFoundError(f"no offer {order_hash}")
    return row


@router.post(
    "/{order_hash}/accept-tx",
    response_model=AcceptOut,
    summary="The transaction that accepts an offer on your token (fillOffer), for the holder's wallet",
)
def accept_tx(
    order_hash: str,
    body: AcceptIn,
    user: KycVerifiedUser,
    db: DbSession,
    gateway: GatewayDep,
    database: DatabaseDep,
) -> AcceptOut:
    holder = wallet_of(user)
    row = _offer_row(db, order_hash)
    follow_chain(database, gateway, row.chain_id)
    db.refresh(row)
    status = _status_on_chain(gateway, row)
    if status != "open":
        raise ConflictError(f"offer {row.order_hash} is {status}", order_status=status)
    if row.expiry <= int(time.time()):
        raise ConflictError(f"offer {row.order_hash} expired at {iso(row.expiry)}", order_status="expired")
    gateway.require_progress(row.chain_id)
    order = _row_order(row)
    if holder == order.signer:
        raise UnprocessableError("this is your own offer: the token's holder accepts it")
    standard = "erc721" if row.standard == 0 else "erc1155"
    if not holds(gateway, row.chain_id, order.token, standard, order.token_id, holder, body.amount):
        raise ForbiddenError(
            f"your wallet {holder} does not hold token {order.token_id} of {order.token} "
            f"(quantity {body.amount}): only its holder can accept offers on it"
        )
    require_secondary_sales(gateway, db, row.chain_id, order.token, holder)
    market = deployed(gateway, row.chain_id, "Marketplace")
    approval = approval_tx(gateway, row.chain_id, holder, order.token, standard, market)
    data = gateway.calldata(
        "Marketplace", "fillOffer", [order.as_tuple(), bytes.fromhex(row.signature[2:]), body.amount]
    )
    gas = (
        None if approval else simulate(gateway, row.chain_id, holder, market, data, 0, "accepting the offer")
    )
    return AcceptOut(
        approval=approval,
        transaction=unsigned(row.chain_id, holder, market, data, 0, gas),
        proceeds=amount(order.unit_price * body.amount),
    )


@router.post(
    "/{order_hash}/cancel",
    response_model=CancelOut,
    summary="Cancel your offer: withdrawn from the book at once; the answer carries the on-chain "
    "cancel while someone who kept the signature could still fill it",
)
def cancel(
    order_hash: str, caller: CurrentUser, db: DbSession, gateway: GatewayDep, database: DatabaseDep
) -> CancelOut:
    row = _offer_row(db, order_hash)
    if caller.address is None or Web3.to_checksum_address(caller.address) != row.signer:
        raise ForbiddenError("only the offer's buyer can cancel it")
    follow_chain(database, gateway, row.chain_id)
    db.refresh(row)
    if row.status == "filled":
        raise ConflictError(f"offer {row.order_hash} is already accepted", order_status="filled")
    row.status = "cancelled"
    db.commit()  # stop serving the signature before anything else can fail
    order = _row_order(row)
    market = deployed(gateway, row.chain_id, "Marketplace")
    cancelled, filled = gateway.view(
        row.chain_id, market, "Marketplace", "orderStatus", [bytes.fromhex(row.order_hash[2:])]
    )
    reason = None
    if cancelled or int(filled) >= order.quantity:
        reason = "it is already cancelled or filled on chain"
    elif order.expiry <= int(time.time()):
        reason = "it has expired"
    elif _counter(gateway, row.chain_id, order.signer) != order.counter:
        reason = "you bumped your counter since signing it"
    if reason is not None:
        return CancelOut(
            order_hash=row.order_hash,
            status=row.status,
            needs_transaction=False,
            tx=None,
            detail=f"cancelled; no transaction needed: {reason}, so nobody can fill it",
        )
    data = gateway.calldata("Marketplace", "cancel", [[order.as_tuple()]])
    tx = unsigned(
        row.chain_id,
        row.signer,
        market,
        data,
        0,
        simulate(gateway, row.chain_id, row.signer, market, data, 0, "cancelling"),
    )
    return CancelOut(
        order_hash=row.order_hash,
        status=row.status,
        needs_transaction=True,
        tx=tx,
        detail="withdrawn from the book; until you sign and send `tx`, anyone who kept its "
        "signature could still fill it on chain (while your wrapped ETH and allowance last)",
    )


@router.get(
    "/weth/{chain_id}/{account}",
    response_model=WethOut,
    summary="An account's wrapped ETH (the offers' currency) and what the marketplace may take of it",
)
def weth(chain_id: ChainId, account: Address, gateway: GatewayDep) -> WethOut:
    currency = offer_currency(gateway, chain_id)
    market = deployed(gateway, chain_id, "Marketplace")
    return WethOut(
        chain_id=chain_id,
        currency=currency,
        account=account,
        balance=amount(gateway.view(chain_id, currency, "WrappedEther", "balanceOf", [account])),
        allowance_to_marketplace=amount(
            gateway.view(chain_id, currency, "WrappedEther", "allowance", [account, market])
        ),
    )


@router.post(
    "/weth/deposit-tx",
    response_model=UnsignedTx,
    summary="The transaction that wraps ETH (value) into wrapped ETH, for your wallet",
)
def deposit_tx(body: WethIn, user: CurrentUser, gateway: GatewayDep) -> UnsignedTx:
    sender = wallet_of(user)
    gateway.require_progress(body.chain_id)
    currency = offer_currency(gateway, body.chain_id)
    data = gateway.calldata("WrappedEther", "deposit", [])
    return unsigned(
        body.chain_id,
        sender,
        currency,
        data,
        body.amount_wei,
        simulate(gateway, body.chain_id, sender, currency, data, body.amount_wei, "wrapping ETH"),
    )


@router.post(
    "/weth/withdraw-tx",
    response_model=UnsignedTx,
    summary="The transaction that unwraps wrapped ETH back into ETH, for your wallet",
)
def withdraw_tx(body: WethIn, user: CurrentUser, gateway: GatewayDep) -> UnsignedTx:
    sender = wallet_of(user)
    gateway.require_progress(body.chain_id)
    currency = offer_currency(gateway, body.chain_id)
    data = gateway.calldata("WrappedEther", "withdraw", [body.amount_wei])
    return unsigned(
        body.chain_id,
        sender,
        currency,
        data,
        0,
        simulate(gateway, body.chain_id, sender, currency, data, 0, "unwrapping"),
    )
