"""Creators' income: royalty splitter balances, distribute and withdraw; the treasury's platform fee.

A royalty splitter's balances per recipient, and the transactions that distribute it and withdraw a
recipient's share (by the recipient, to its wallet or to an address it names; or by anyone, to the
recipient's own address); the marketplace platform fee for the treasury.

Every transaction is returned unsigned for the caller's wallet and simulated first (a revert is a
422 with its sentence). Amounts are given in ETH with the exact wei beside them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from web3 import Web3

from api.deps import Caller, CurrentUser, GatewayDep
from api.errors import ForbiddenError, NotFoundError, ServiceUnavailableError, UnprocessableError
from api.gateway import ChainGateway
from api.schemas import UnsignedTx
from api.simulate import estimate_gas
from api.types import MAX_CHAIN_ID, Address

router = APIRouter(tags=["royalties"])
ETH = "0x" + "00" * 20
"""The splitter's token id of ETH."""


class Amount(BaseModel):
    """An amount of ETH (or of an ERC-20, in its smallest unit under ``wei``)."""

    eth: str
    wei: str

    @classmethod
    def of(cls, wei: int) -> Amount:
        eth = Decimal(int(wei)) / 10**18
        return cls(eth=format(eth.normalize(), "f") if eth else "0", wei=str(int(wei)))


class RecipientBalance(BaseModel):
    account: str
    bps: int
    withdrawable: Amount
    """Credited to it plus its part of what is not distributed yet."""


class SplitterOut(BaseModel):
    chain_id: int
    splitter: str
    token: str
    undistributed: Amount
    recipients: list[RecipientBalance]


class SplitterTxIn(BaseModel):
    token: Address = Field(default=ETH, description="0x00..00 for ETH, else an ERC-20.")


class FeesOut(BaseModel):
    chain_id: int
    marketplace: str
    treasury: str
    platform_fee_bps: int
    accrued: Amount
    """What the treasury can withdraw now (fees and any other credit it has)."""


class FeesTxIn(BaseModel):
    chain_id: int = Field(gt=0, le=MAX_CHAIN_ID)


def _any_role(*names: str) -> Callable[[Caller], Caller]:
    def check(caller: CurrentUser) -> Caller:
        if not caller.roles & set(names):
            raise ForbiddenError(f"this route needs one of the roles {', '.join(names)}")
        return caller

    return check


TreasuryOrOperator = Annotated[Caller, Depends(_any_role("treasury", "operator"))]


def _splitter(gateway: ChainGateway, chain_id: int, splitter: str) -> tuple[list[str], list[int]]:
    if len(gateway.web3(chain_id).eth.get_code(Web3.to_checksum_address(splitter))) == 0:
        raise NotFoundError(f"{splitter} on chain {chain_id} is not a contract (no royalty splitter there)")
    try:
        accounts, bps = gateway.view(chain_id, splitter, "RoyaltySplitter", "recipients", [])
    except Exception:
        raise NotFoundError(f"{splitter} on chain {chain_id} is not a royalty splitter") from None
    return [Web3.to_checksum_address(a) for a in accounts], [int(b) for b in bps]


def _wallet(caller: Caller) -> str:
    if caller.address is None:
        raise UnprocessableError("your login has no wallet address; log in with your wallet (SIWE)")
    return caller.address


@router.get("/royalties/{chain_id}/{splitter}", response_model=SplitterOut,
            summary="A royalty splitter's recipients, shares and what each can withdraw (ETH and wei)")
def splitter_balances(chain_id: int, splitter: Address, gateway: GatewayDep,
                      token: Annotated[Address, Query(description="0x00..00 (ETH) or an ERC-20.")] = ETH,
                      ) -> SplitterOut:
    accounts, bps = _splitter(gateway, chain_id, splitter)
    rows = [RecipientBalance(account=a, bps=b, withdrawable=Amount.of(
        gateway.view(chain_id, splitter, "RoyaltySplitter", "withdrawable", [token, a])))
        for a, b in zip(accounts, bps, strict=True)]
    left = gateway.view(chain_id, splitter, "RoyaltySplitter", "undistributed", [token])
    return SplitterOut(chain_id=chain_id, splitter=splitter, token=token, undistributed=Amount.of(left),
                       recipients=rows)


def _tx(gateway: ChainGateway, chain_id: int, sender: str, to: str, data: str, what: str) -> UnsignedTx:
    gateway.require_progress(chain_id)
    gas = estimate_gas(gateway, chain_id, sender, to, data, what=what)
    return UnsignedTx(chain_id=chain_id, **{"from": sender}, to=to, data=data, gas=gas)


@router.post("/royalties/{chain_id}/{splitter}/distribute-tx", response_model=UnsignedTx,
             summary="The transaction that credits every recipient its share of what the splitter received")
def distribute_tx(chain_id: int, splitter: Address, body: SplitterTxIn, caller: CurrentUser,
                  gateway: GatewayDep) -> UnsignedTx:
    sender = _wallet(caller)
    _splitter(gateway, chain_id, splitter)
    data = gateway.calldata("RoyaltySplitter", "distribute", [body.token])
    return _tx(gateway, chain_id, sender, splitter, data, "the distribution")


class WithdrawIn(SplitterTxIn):
    to: Address | None = Field(default=None, description="Where your share goes; default: your wallet.")


class WithdrawForIn(SplitterTxIn):
    recipient: Address = Field(description="The recipient whose share is paid, to its own address.")


def _owed(gateway: ChainGateway, chain_id: int, splitter: str, token: str, account: str) -> int:
    owed = int(gateway.view(chain_id, splitter, "RoyaltySplitter", "withdrawable", [token, account]))
    if owed == 0:
        what = "ETH" if token == ETH else f"token {token}"
        raise UnprocessableError(f"{account} has no {what} to withdraw from splitter {splitter} on chain "
                                 f"{chain_id}: nothing to withdraw", error="SplitterNothingToWithdraw")
    return owed


@router.post("/royalties/{chain_id}/{splitter}/withdraw-tx", response_model=UnsignedTx,
             summary="The transaction that pays a recipient its share, to its wallet or to an address it "
                     "names (only a recipient of the split)")
def withdraw_tx(chain_id: int, splitter: Address, body: WithdrawIn, caller: CurrentUser,
                gateway: GatewayDep) -> UnsignedTx:
    sender = _wallet(caller)
    accounts, _ = _splitter(gateway, chain_id, splitter)
    if sender not in accounts:
        raise ForbiddenError(f"{sender} is not a recipient of splitter {splitter} (its recipients: "
                             f"{', '.join(accounts)}); only a recipient withdraws its share")
    if body.to == ETH:
        raise UnprocessableError("your share cannot go to the zero address: it would be lost",
                                 error="SplitterPayeeZero")
    _owed(gateway, chain_id, splitter, body.token, sender)
    if body.to is None or body.to == sender:
        data = gateway.calldata("RoyaltySplitter", "withdraw", [body.token])
    else:
        data = gateway.calldata("RoyaltySplitter", "withdrawTo", [body.token, body.to])
    return _tx(gateway, chain_id, sender, splitter, data, "the withdrawal")


@router.post("/royalties/{chain_id}/{splitter}/withdraw-for-tx", response_model=UnsignedTx,
             summary="The transaction that pays a recipient its share to the recipient's own address "
                     "(anyone may send it, e.g. for a recipient without gas)")
def withdraw_for_tx(chain_id: int, splitter: Address, body: WithdrawForIn, caller: CurrentUser,
                    gateway: GatewayDep) -> UnsignedTx:
    """The contract lets anyone trigger it: the share goes only to the recipient, never to the sender."""
    sender = _wallet(caller)
    accounts, _ = _splitter(gateway, chain_id, splitter)
    if body.recipient not in accounts:
        raise NotFoundError(f"{body.recipient} is not a recipient of splitter {splitter} (its recipients: "
                            f"{', '.join(accounts)})")
    _owed(gateway, chain_id, splitter, body.token, body.recipient)
    data = gateway.calldata("RoyaltySplitter", "withdrawFor", [body.token, body.recipient])
    return _tx(gateway, chain_id, sender, splitter, data, f"paying {body.recipient} its share")


def _fees(gateway: ChainGateway, chain_id: int) -> FeesOut:
    market = gateway.address(chain_id, "Marketplace")
    treasury = Web3.to_checksum_address(gateway.view(chain_id, market, "Marketplace", "treasury", []))
    bps = int(gateway.view(chain_id, market, "Marketplace", "platformFeeBps", []))
    accrued = int(gateway.view(chain_id, market, "Marketplace", "pendingWithdrawals", [treasury]))
    return FeesOut(chain_id=chain_id, marketplace=market, treasury=treasury, platform_fee_bps=bps,
                   accrued=Amount.of(accrued))


@router.get("/fees", response_model=list[FeesOut],
            summary="The marketplace platform fee on each chain: treasury, rate and what it can withdraw "
                    "(treasury or operator role)")
def fees(caller: TreasuryOrOperator, gateway: GatewayDep) -> list[FeesOut]:
    out: list[FeesOut] = []
    for spec in gateway.specs():
        try:
            gateway.address(spec.chain_id, "Marketplace")
        except ServiceUnavailableError:  # no marketplace deployed on this chain
            continue
        out.append(_fees(gateway, spec.chain_id))
    return out


@router.post("/fees/withdraw-tx", response_model=UnsignedTx,
             summary="The transaction that pays the accrued platform fee to the treasury (treasury role; "
                     "signed by the treasury's wallet)")
def fees_withdraw_tx(body: FeesTxIn, caller: Annotated[Caller, Depends(_any_role("treasury"))],
                     gateway: GatewayDep) -> UnsignedTx:
    sender = _wallet(caller)
    state = _fees(gateway, body.chain_id)
    if sender != state.treasury:
        raise ForbiddenError(f"the platform fee is paid to the treasury {state.treasury}; log in with that "
                             f"wallet (you are {sender})")
    data = gateway.calldata("Marketplace", "withdraw", [])
    return _tx(gateway, body.chain_id, sender, state.marketplace, data, "the fee withdrawal")
