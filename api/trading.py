"""What the trading routers share: the caller's wallet, amounts in ETH and wei, ISO 8601 times,
and the simulation that refuses a transaction which would revert, with the revert's sentence."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field
from web3 import Web3

from api.deps import Caller
from api.errors import UnprocessableError
from api.schemas.common import UnsignedTx
from api.simulate import MAX_UINT256, estimate_gas
from chain.formatting import WEI_PER_ETH, format_time, format_wei

__all__ = [
    "MAX_UINT256",
    "Amount",
    "ChainIn",
    "Moment",
    "UnsignedTx",
    "amount",
    "deployed",
    "iso",
    "simulate",
    "unsigned",
    "wallet_of",
]


class ChainIn(BaseModel):
    """A transaction route's body when the chain is all it needs."""

    chain_id: int = Field(gt=0, le=2**53 - 1)


class Amount(BaseModel):
    """An amount as a person reads it (ETH) and as a program copies it (wei, a decimal string)."""

    wei: str = Field(description="Exact, in wei (a decimal string: it may exceed 2^53)")
    eth: str = Field(description="The same amount in ETH, e.g. '1.5'")
    text: str = Field(description="'1.5 ETH (1500000000000000000 wei)'")


def amount(wei: int) -> Amount:
    eth = Decimal(int(wei)) / WEI_PER_ETH
    return Amount(wei=str(int(wei)), eth=format(eth.normalize(), "f") if eth else "0", text=format_wei(wei))


def iso(timestamp: int | None) -> str | None:
    """A unix time as ISO 8601 UTC; None stays None (and so does 0, which means 'never')."""
    return format_time(int(timestamp)) if timestamp else None


def _on_chain_moment(when: datetime) -> datetime:
    moment = when if when.tzinfo else when.replace(tzinfo=UTC)
    if not 0 <= moment.timestamp() < 2**40:
        raise ValueError("a date between 1970 and the year 36812 (a uint40 of seconds)")
    return moment


Moment = Annotated[datetime, AfterValidator(_on_chain_moment)]
"""An ISO 8601 date a contract can store (uint40 seconds); naive dates are UTC."""


def unix(when: datetime) -> int:
    """An aware or naive (UTC) datetime as a unix time."""
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())


def deployed(gateway: Any, chain_id: int, name: str) -> str:
    """The address of our contract ``name`` on ``chain_id``: a chain not served here is a 404 (not a
    missing deployment's 503)."""
    gateway.spec_for(chain_id)
    return str(gateway.address(chain_id, name))


def wallet_of(user: Caller) -> str:
    """The caller's wallet (checksummed); a login without one cannot be given transactions."""
    if user.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    return str(Web3.to_checksum_address(user.address))


def simulate(
    gateway: Any,
    chain_id: int,
    sender: str,
    to: str,
    data: str,
    value: int = 0,
    what: str = "the transaction",
) -> int:
    """Gas for the transaction exactly as the wallet will send it (from, to, data, value, at the
    chain's next block), by ``api.simulate.estimate_gas``: a revert becomes a 422 whose detail is the
    revert's sentence and whose ``error`` names the contract's custom error; a wallet that cannot pay
    is told its balance."""
    return estimate_gas(gateway, chain_id, sender, to, data, value, what=what, explain_refusal=True)


def unsigned(
    chain_id: int, sender: str, to: str, data: str, value: int = 0, gas: int | None = None
) -> UnsignedTx:
    return UnsignedTx.model_validate(
        {"chain_id": chain_id, "from": sender, "to": to, "data": data, "value": hex(value), "gas": gas}
    )


def token_abi(standard: str) -> str:
    """The artifact whose ABI reads a token of ``standard`` ('erc721' or 'erc1155')."""
    return "CreatorCollection" if standard == "erc721" else "Editions1155"


def holds(
    gateway: Any, chain_id: int, token: str, standard: str, token_id: int, who: str, quantity: int = 1
) -> bool:
    """Whether ``who`` holds ``quantity`` of the token now (a token that cannot be read: a 422)."""
    try:
        if standard == "erc721":
            owner = gateway.view(chain_id, token, "CreatorCollection", "ownerOf", [token_id])
            return bool(Web3.to_checksum_address(owner) == who)
        return int(gateway.view(chain_id, token, "Editions1155", "balanceOf", [who, token_id])) >= quantity
    except Exception:
        raise UnprocessableError(
            f"token {token_id} of {token} cannot be read on chain {chain_id}: "
            "give a token that exists, in an ERC-721 or ERC-1155 collection"
        ) from None


def approval_tx(
    gateway: Any, chain_id: int, holder: str, token: str, standard: str, operator: str
) -> UnsignedTx | None:
    """``setApprovalForAll(operator, true)`` for the holder's wallet, or None when ``operator`` may
    already move the holder's tokens of this collection."""
    abi = token_abi(standard)
    if gateway.view(chain_id, token, abi, "isApprovedForAll", [holder, operator]):
        return None
    data = gateway.calldata(abi, "setApprovalForAll", [operator, True])
    return unsigned(chain_id, holder, token, data, 0, simulate(gateway, chain_id, holder, token, data))


def require_secondary_sales(gateway: Any, db: Any, chain_id: int, token: str, seller: str) -> None:
    """A collection whose jurisdiction policy forbids secondary sales: only its creator sells, by
    any means (a listing, an auction, accepting an offer)."""
    from api.models import CollectionPolicyRow

    row = db.get(CollectionPolicyRow, (chain_id, token))
    if row is None or row.secondary_sales:
        return
    creator = Web3.to_checksum_address(gateway.view(chain_id, token, "CreatorCollection", "owner", []))
    if seller != creator:
        raise UnprocessableError(
            "this collection's jurisdiction policy forbids secondary sales: only the creator may sell "
            f"(by listing, auction or accepting an offer); holders may give the token away (POST "
            f"/market/gift-tx) after {row.gift_holding_s} s of holding"
        )


def offer_currency(gateway: Any, chain_id: int) -> str:
    """The chain's wrapped ETH: the currency offers are made in (deployed by the plan everywhere)."""
    return deployed(gateway, chain_id, "WrappedEther")


def offer_shortfall(gateway: Any, chain_id: int, buyer: str, currency: str, total: int) -> str | None:
    """Why the buyer's ``currency`` could not pay ``total`` to the marketplace now (balance or
    allowance short), or None when it could."""
    market = deployed(gateway, chain_id, "Marketplace")
    unreadable = f"the offer's currency {currency} cannot be read as an ERC-20 on chain {chain_id}"
    if not gateway.web3(chain_id).eth.get_code(currency):
        return unreadable + " (no contract there)"
    try:
        balance = int(gateway.view(chain_id, currency, "WrappedEther", "balanceOf", [buyer]))
        allowed = int(gateway.view(chain_id, currency, "WrappedEther", "allowance", [buyer, market]))
    except Exception:
        return unreadable
    if balance < total:
        return (
            f"your wallet {buyer} holds {format_wei(balance)} of the offer's currency but the offer is "
            f"for {format_wei(total)}: wrap more ETH first (POST /offers/weth/deposit-tx)"
        )
    if allowed < total:
        return (
            f"your wallet {buyer} allows the marketplace to take only {format_wei(allowed)} of the "
            f"offer's currency, less than the {format_wei(total)} offered: approve it first (POST "
            "/offers/prepare returns the approve transaction)"
        )
    return None


def require_funded_offer(gateway: Any, chain_id: int, order: Any) -> None:
    """An offer enters the book only when its buyer could pay it now: the marketplace pulls the
    price by transferFrom when the holder accepts, so an unfunded offer would only waste the holder's
    gas (and feed the price breaker an offer nobody can pay)."""
    total = int(order.unit_price) * int(order.quantity)
    reason = offer_shortfall(gateway, chain_id, order.signer, order.currency, total)
    if reason is not None:
        raise UnprocessableError(f"offer refused: {reason}", error="OfferUnfunded")
