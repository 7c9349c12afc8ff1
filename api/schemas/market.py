"""The market's wire models: orders, batches, fills, cancels, gifts and the breaker's view.

An order's signature is served only while it is open (``OrderOut.of``); a batch answers per item."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from api.market_sync import PolicyIn
from api.models import MarketOrder
from api.schemas.common import UnsignedTx
from api.trading import Amount
from api.types import MAX_CHAIN_ID, Address, checksum_address
from chain.orders import ETH, Order, OrderSide, TokenStandard

__all__ = [
    "MAX_BATCH_ORDERS",
    "MAX_UINT256",
    "BreakerView",
    "CancelAllIn",
    "CancelAllOut",
    "CancelOut",
    "CreditsOut",
    "FillBatchIn",
    "FillIn",
    "FillItemIn",
    "GiftTxIn",
    "OrderBatchIn",
    "OrderBatchOut",
    "OrderIn",
    "OrderOut",
    "OrderResult",
    "PolicyIn",
    "UnsignedTx",
    "WithdrawErc20In",
]


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
        if out.created_at.tzinfo is None:  # as SQLite gives it back: the same instant, as created
            out.created_at = out.created_at.replace(tzinfo=UTC)
        return out


MAX_UINT256 = 2**256 - 1


class FillIn(BaseModel):
    amount: int = Field(default=1, gt=0, le=MAX_UINT256)


class BreakerView(BaseModel):
    policy: PolicyIn
    halted_until: datetime | None
    decisions: list[dict[str, Any]]


MAX_BATCH_ORDERS = 50
"""Orders per POST /market/orders/batch and listings per fill-tx batch: the contract's
MAX_BATCH_FILLS, so every batch of accepted listings can be bought in one fillListings."""


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


class CancelOut(BaseModel):
    order_hash: str
    status: str
    needs_transaction: bool = Field(description="Whether the order could still be filled on chain "
                                    "by someone who kept its signature: then sign and send `tx`")
    detail: str
    tx: UnsignedTx | None = Field(description="The marketplace's cancel([order]) for your wallet, "
                                  "when needs_transaction")


class FillItemIn(BaseModel):
    order_hash: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")
    amount: int = Field(default=1, gt=0, le=MAX_UINT256)


class FillBatchIn(BaseModel):
    items: list[FillItemIn] = Field(min_length=1, max_length=MAX_BATCH_ORDERS)


class GiftTxIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    token: Address
    token_id: int = Field(ge=0, le=MAX_UINT256)
    to: Address
    standard: Literal["erc721", "erc1155"] = "erc721"
    quantity: int = Field(default=1, gt=0, le=MAX_UINT256)


class CancelAllIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)


class CancelAllOut(BaseModel):
    chain_id: int
    maker: str
    counter: int = Field(description="Your counter now: every order you signed so far carries it or less")
    new_counter: int = Field(description="The counter your orders must carry once the transaction lands")
    withdrawn: list[str] = Field(description="Your orders the book stopped serving at once")
    transaction: UnsignedTx = Field(description="incrementCounter(): until it lands, anyone who kept one "
                                    "of your signatures can still fill it on chain")


class CreditsOut(BaseModel):
    chain_id: int
    account: str
    eth: Amount = Field(description="ETH credited (failed payouts, outbid refunds; the treasury's fees)")
    currency: str = Field(description="The ERC-20 asked about (default: the chain's wrapped ETH)")
    erc20: Amount = Field(description="That ERC-20 credited because the token refused a payout")


class WithdrawErc20In(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)
    currency: Address | None = Field(default=None, description="Default: the chain's wrapped ETH")
    to: Address | None = Field(default=None, description="Where it goes; default: your wallet")
