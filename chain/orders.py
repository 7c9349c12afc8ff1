"""Marketplace orders: EIP-712 typed data, hashes, signatures and off-chain verification.

Pure functions mirroring ``contracts/marketplace/Marketplace.sol`` exactly:

- an order is signed as EIP-712 ``Listing(address seller,...)`` (the seller sells) or
  ``Offer(address buyer,...)`` (the buyer bids, ERC-20 only) in the domain
  ``{name: "Chainright Marketplace", version: "1", chainId, verifyingContract}``, so a signature
  is only good on one chain and one marketplace deployment;
- an order's id (``order_hash``) is the EIP-712 digest the wallet signs: the contract's
  ``hashOrder`` returns the same bytes;
- prices are per unit: filling ``amount`` units costs ``unit_price * amount``;
- a listing carries the collection's ``holdingEpoch(seller, tokenId)`` at signing and fills only
  while it is unchanged (it dies when the token leaves the seller); offers do not carry it;
- a signature is 65 bytes ``r || s || v`` with ``v`` in {27, 28} and ``s`` in the lower half of
  the curve order (OpenZeppelin's ECDSA refuses the malleable twin); contract signers are
  checked by EIP-1271, which needs the chain (pass ``erc1271`` to ``verify_order``).

``sign_order`` signs with an eth-account ``LocalAccount``, standing in for the user's wallet;
``typed_data`` is the dict a wallet's ``eth_signTypedData_v4`` takes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from typing import Any

from eth_abi.abi import encode
from eth_utils.address import is_address, is_checksum_address
from eth_utils.crypto import keccak

from chain.abiwords import encode_words
from chain.addresses import checksummed
from chain.errors import (
    OrderCounterError,
    OrderDomainError,
    OrderInvalidError,
    OrderNotActiveError,
    OrderSignatureError,
    SignatureError,
)
from chain.signatures import SECP256K1_HALF_N as SECP256K1_HALF_N
from chain.signatures import SECP256K1_N as SECP256K1_N
from chain.signatures import low_s
from chain.signatures import recover_signer as recover_ecdsa

DOMAIN_NAME = "Chainright Marketplace"
DOMAIN_VERSION = "1"
ETH = "0x0000000000000000000000000000000000000000"
"""The currency address that means native ETH (listings only)."""

UINT64_MAX = 2**64 - 1
UINT248_MAX = 2**248 - 1
UINT256_MAX = 2**256 - 1

_FIELDS: tuple[tuple[str, str], ...] = (
    ("token", "address"),
    ("tokenId", "uint256"),
    ("standard", "uint8"),
    ("quantity", "uint256"),
    ("unitPrice", "uint256"),
    ("currency", "address"),
    ("start", "uint64"),
    ("expiry", "uint64"),
    ("salt", "uint256"),
    ("counter", "uint256"),
)
_LISTING_FIELDS: tuple[tuple[str, str], ...] = (*_FIELDS, ("holdingEpoch", "uint256"))
"""A listing also binds the collection's ``holdingEpoch(seller, tokenId)`` at signing: the
marketplace fills it only while that is unchanged, so a listing dies when its token leaves the
seller (and stays dead if it comes back). Offers do not carry it."""
DOMAIN_FIELDS: list[dict[str, str]] = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


class OrderSide(IntEnum):
    """Who signed: the seller (a listing) or the buyer (an offer)."""

    LISTING = 0
    OFFER = 1

    @property
    def primary_type(self) -> str:
        return "Listing" if self is OrderSide.LISTING else "Offer"

    @property
    def signer_field(self) -> str:
        return "seller" if self is OrderSide.LISTING else "buyer"


class TokenStandard(IntEnum):
    ERC721 = 0
    ERC1155 = 1


def _fields(side: OrderSide) -> tuple[tuple[str, str], ...]:
    return _LISTING_FIELDS if side is OrderSide.LISTING else _FIELDS


def _type_string(side: OrderSide) -> str:
    fields = [f"address {side.signer_field}", *(f"{kind} {name}" for name, kind in _fields(side))]
    return f"{side.primary_type}({','.join(fields)})"


LISTING_TYPE = _type_string(OrderSide.LISTING)
OFFER_TYPE = _type_string(OrderSide.OFFER)
TYPEHASHES: dict[OrderSide, bytes] = {side: keccak(text=_type_string(side)) for side in OrderSide}
_STRUCT_TYPES: dict[OrderSide, list[str]] = {
    side: ["bytes32", "address", *(kind for _, kind in _fields(side))] for side in OrderSide}
"""The ABI types of each side's hashStruct encoding (its typehash, the signer, then its fields)."""
DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


@dataclass(frozen=True)
class MarketDomain:
    """The EIP-712 domain of one marketplace deployment on one chain."""

    chain_id: int
    verifying_contract: str
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    def __post_init__(self) -> None:
        if not is_address(self.verifying_contract):
            raise OrderDomainError(f"verifying contract {self.verifying_contract!r} is not an address")
        object.__setattr__(self, "verifying_contract", checksummed(self.verifying_contract))
        if not 0 < self.chain_id <= UINT256_MAX:
            raise OrderDomainError(f"chain id {self.chain_id} is not a positive uint256")

    def as_typed_data(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "chainId": self.chain_id,
                "verifyingContract": self.verifying_contract}

    def separator(self) -> bytes:
        """The domain separator (the contract's ``domainSeparator()``)."""
        return _separator(self.chain_id, self.verifying_contract, self.name, self.version)


@lru_cache(maxsize=256)
def _separator(chain_id: int, verifying_contract: str, name: str, version: str) -> bytes:
    """Memoised: every order hash needs it, and it depends only on the domain's four fields."""
    return keccak(encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [DOMAIN_TYPEHASH, keccak(text=name), keccak(text=version), chain_id, verifying_contract],
    ))


@dataclass(frozen=True)
class Order:
    """A listing or an offer, as signed. ``unit_price`` is per unit, in ``currency`` (ETH = zero address)."""

    side: OrderSide
    signer: str
    token: str
    token_id: int
    standard: TokenStandard
    quantity: int
    unit_price: int
    currency: str
    start: int
    expiry: int
    salt: int
    counter: int
    holding_epoch: int = 0
    """Listings: the collection's ``holdingEpoch(seller, tokenId)`` when signed (read it from the
    chain; 0 only for a token that never moved, or for an offer, which ignores it)."""

    def __post_init__(self) -> None:
        for name in ("signer", "token", "currency"):
            value = getattr(self, name)
            checksummed = _checksummed(value) if isinstance(value, str) else None
            if checksummed is None:
                raise OrderInvalidError(f"order {name} {value!r} is not an address")
            object.__setattr__(self, name, checksummed)
        object.__setattr__(self, "side", OrderSide(self.side))
        object.__setattr__(self, "standard", TokenStandard(self.standard))
        for name, top in (("token_id", UINT256_MAX), ("quantity", UINT256_MAX), ("unit_price", UINT256_MAX),
                          ("start", UINT64_MAX), ("expiry", UINT64_MAX), ("salt", UINT256_MAX),
                          ("counter", UINT256_MAX), ("holding_epoch", UINT256_MAX)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                raise OrderInvalidError(f"order {name} must be an integer in [0, {top}], got {value!r}")

    def total_price(self, amount: int) -> int:
        """What filling ``amount`` units costs."""
        return self.unit_price * amount

    def as_tuple(self) -> tuple[Any, ...]:
        """The ``Order`` struct as a contract call argument (field order of IMarketplace.Order)."""
        return (int(self.side), self.signer, self.token, self.token_id, int(self.standard), self.quantity,
                self.unit_price, self.currency, self.start, self.expiry, self.salt, self.counter,
                self.holding_epoch)

    def message(self) -> dict[str, Any]:
        """The EIP-712 message; unsigned integers as decimal strings (JSON-safe for wallets)."""
        message = {
            self.side.signer_field: self.signer,
            "token": self.token,
            "tokenId": str(self.token_id),
            "standard": str(int(self.standard)),
            "quantity": str(self.quantity),
            "unitPrice": str(self.unit_price),
            "currency": self.currency,
            "start": str(self.start),
            "expiry": str(self.expiry),
            "salt": str(self.salt),
            "counter": str(self.counter),
        }
        if self.side is OrderSide.LISTING:
            message["holdingEpoch"] = str(self.holding_epoch)
        return message


@dataclass(frozen=True)
class SignedOrder:
    """An order, its signature, and the domain it was signed for."""

    order: Order
    signature: bytes
    domain: MarketDomain

    @property
    def order_hash(self) -> bytes:
        return order_hash(self.order, self.domain)


def new_salt() -> int:
    """A random 256-bit salt, so that otherwise identical orders get distinct ids."""
    return secrets.randbits(256)


def listing(*, seller: str, token: str, token_id: int, unit_price: int, start: int, expiry: int,
            counter: int, holding_epoch: int, quantity: int = 1,
            standard: TokenStandard = TokenStandard.ERC721, currency: str = ETH,
            salt: int | None = None) -> Order:
    """A listing (the seller signs); checked by ``check_order_fields``. ``holding_epoch`` is the
    collection's ``holdingEpoch(seller, token_id)`` now (required: a wrong one never fills)."""
    order = Order(OrderSide.LISTING, seller, token, token_id, standard, quantity, unit_price, currency,
                  start, expiry, new_salt() if salt is None else salt, counter, holding_epoch)
    check_order_fields(order)
    return order


def offer(*, buyer: str, token: str, token_id: int, unit_price: int, currency: str, start: int, expiry: int,
          counter: int, quantity: int = 1, standard: TokenStandard = TokenStandard.ERC721,
          salt: int | None = None) -> Order:
    """An offer (the buyer signs, ERC-20 only); checked by ``check_order_fields``."""
    order = Order(OrderSide.OFFER, buyer, token, token_id, standard, quantity, unit_price, currency,
                  start, expiry, new_salt() if salt is None else salt, counter)
    check_order_fields(order)
    return order


def check_order_fields(order: Order) -> None:
    """The contract's field checks (quantity, price, offer currency); raises OrderInvalidError."""
    if order.quantity == 0 or order.quantity > UINT248_MAX or (
            order.standard is TokenStandard.ERC721 and order.quantity != 1):
        raise OrderInvalidError(
            f"quantity {order.quantity} is invalid for {order.standard.name}: ERC-721 orders are for "
            "exactly 1, ERC-1155 orders for at least 1")
    if order.unit_price == 0:
        raise OrderInvalidError(
            "unit price is zero: a zero-price order would give the token away; set a price")
    if order.side is OrderSide.OFFER and order.currency == ETH:
        raise OrderInvalidError("offers are paid in an ERC-20 (the marketplace pulls it from the buyer); "
                                "name a token as the currency, not ETH")
    if order.expiry <= order.start:
        raise OrderInvalidError(
            f"expiry {order.expiry} is not after start {order.start}: the order could never fill")


def struct_hash(order: Order) -> bytes:
    """EIP-712 hashStruct of the order (Listing or Offer by its side)."""
    values = [TYPEHASHES[order.side], order.signer, order.token, order.token_id, int(order.standard),
              order.quantity, order.unit_price, order.currency, order.start, order.expiry, order.salt,
              order.counter]
    if order.side is OrderSide.LISTING:
        values.append(order.holding_epoch)
    return keccak(encode_words(_STRUCT_TYPES[order.side], values))


@lru_cache(maxsize=4096)
def order_hash(order: Order, domain: MarketDomain) -> bytes:
    """The order's id: the EIP-712 digest (``0x1901 || domainSeparator || hashStruct``), as ``hashOrder``.
    Memoised (both are frozen values): a batch hashes each order once to look it up, once to verify it."""
    return keccak(b"\x19\x01" + domain.separator() + struct_hash(order))


@lru_cache(maxsize=4096)
def _checksummed(value: str) -> str | None:
    """``value`` as a checksummed address, or None when it is not an address (a mixed-case one
    whose checksum is wrong included). Memoised: an order names the same few addresses again and
    again, and each check costs two keccaks."""
    if not is_address(value):
        return None
    digits = value[2:]
    if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(value):
        return None  # mixed case is a checksum, and this one is wrong: a typo, not an address
    return checksummed(value)


def typed_data(order: Order, domain: MarketDomain) -> dict[str, Any]:
    """The dict a wallet's ``eth_signTypedData_v4`` takes (also eth-account's ``full_message``)."""
    side = order.side
    fields = [{"name": side.signer_field, "type": "address"},
              *({"name": n, "type": t} for n, t in _fields(side))]
    return {
        "types": {"EIP712Domain": list(DOMAIN_FIELDS), side.primary_type: fields},
        "primaryType": side.primary_type,
        "domain": domain.as_typed_data(),
        "message": order.message(),
    }


def sign_order(order: Order, domain: MarketDomain, account: Any) -> SignedOrder:
    """Sign ``order`` with an eth-account ``LocalAccount`` (a stand-in for the user's wallet).

    Raises OrderSignatureError when the account is not the order's signer.
    """
    if checksummed(account.address) != order.signer:
        raise OrderSignatureError(
            f"account {account.address} cannot sign for {order.signer}: the order's "
            f"{order.side.signer_field} must sign it")
    signed = account.sign_typed_data(full_message=typed_data(order, domain))
    signature = low_s(int(signed.r), int(signed.s), int(signed.v))  # the form the contract accepts
    return SignedOrder(order, signature, domain)


def recover_signer(digest: bytes, signature: bytes) -> str:
    """Recover the address that signed ``digest``, refusing what OpenZeppelin's ECDSA refuses
    (``chain.signatures``); raises OrderSignatureError."""
    try:
        return recover_ecdsa(digest, signature)
    except SignatureError as exc:
        raise OrderSignatureError(str(exc)) from exc


Erc1271Check = Callable[[str, bytes, bytes], bool]
"""``(signer, digest, signature) -> bool``: asks a contract signer (EIP-1271 ``isValidSignature``)."""


def verify_order(
    signed: SignedOrder,
    *,
    expected_domain: MarketDomain,
    now: int,
    current_counter: int,
    erc1271: Erc1271Check | None = None,
) -> bytes:
    """Check a signed order as the contract will when it is filled at time ``now``; returns its hash.

    Checks the domain (chain id, marketplace address, name, version), the fields, the time window
    ``start <= now < expiry``, the signer's counter, and the signature: ECDSA (low s, v in
    {27, 28}, recovered == signer), or, when ``erc1271`` is given (the signer is a contract),
    that check. On-chain state (cancelled, filled, ownership) is the contract's to check.
    """
    order, domain = signed.order, signed.domain
    if domain.chain_id != expected_domain.chain_id:
        raise OrderDomainError(
            f"order was signed for chain {domain.chain_id}, not {expected_domain.chain_id}: it cannot be "
            "filled here (replay protection); ask the signer to sign for this chain")
    if domain.verifying_contract != expected_domain.verifying_contract:
        raise OrderDomainError(
            f"order was signed for the marketplace at {domain.verifying_contract}, not "
            f"{expected_domain.verifying_contract}: it cannot be filled on this deployment")
    if (domain.name, domain.version) != (expected_domain.name, expected_domain.version):
        raise OrderDomainError(
            f"order was signed for domain {domain.name!r} v{domain.version}, not "
            f"{expected_domain.name!r} v{expected_domain.version}")
    check_order_fields(order)
    if now < order.start:
        raise OrderNotActiveError(f"order starts at {order.start}, it is {now}: wait until it starts")
    if now >= order.expiry:
        raise OrderNotActiveError(f"order expired at {order.expiry}, it is {now}: ask for a new order")
    if order.counter != current_counter:
        raise OrderCounterError(
            f"order carries counter {order.counter} but {order.signer}'s counter is {current_counter}: "
            "the signer revoked it (incrementCounter); ask for a new order")
    digest = order_hash(order, domain)
    if erc1271 is not None:
        if not erc1271(order.signer, digest, signed.signature):
            raise OrderSignatureError(
                f"contract signer {order.signer} does not accept this signature (EIP-1271)")
        return digest
    recovered = recover_signer(digest, signed.signature)
    if recovered != order.signer:
        raise OrderSignatureError(
            f"signature is by {recovered}, not by the order's {order.side.signer_field} {order.signer}")
    return digest
