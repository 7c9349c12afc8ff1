"""Shared helpers of the marketplace family's contract tests.

``MarketWorld`` deploys a Marketplace (fee 2.5%, treasury a separate EOA) and the test doubles
(ERC-721 + ERC-2981 paying 5% to a RoyaltySplitter clone made by a SplitterFactory, ERC-1155, ERC-20,
identity registry).
Accounts are anvil's dev accounts: 0 admin, 1 seller, 2 buyer, 3 second buyer, 4 treasury,
5 risk operator, 6 arbitrator, 7 and 8 the splitter's recipients, 9 stranger. Orders are signed with the same keys through
``chain.orders`` (eth-account, standing in for the users' wallets).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from chain.devaccounts import dev_account
from chain.orders import (
    ETH,
    MarketDomain,
    Order,
    OrderSide,
    SignedOrder,
    TokenStandard,
    new_salt,
    sign_order,
)

FEE_BPS = 250
ROYALTY_BPS = 500
ETHER = 10**18
ACCEPT, REVERT, BURN_GAS, REENTER, REENTER_BUBBLE = range(5)
"""Modes of the adversary receiver contract (what it does when paid or handed a token)."""
REENTRANT_CALL = bytes.fromhex("3ee5aeb5")
"""Selector of OpenZeppelin's ReentrancyGuardReentrantCall()."""
DAY = 86_400
ZERO = ETH


def now() -> int:
    """Timestamp of the latest block."""
    import ape

    return int(ape.chain.blocks.head.timestamp)


def travel(seconds: int) -> None:
    """Move the chain's clock forward and mine a block."""
    import ape

    ape.chain.provider.make_request("evm_increaseTime", [seconds])
    ape.chain.provider.make_request("evm_mine", [])


def travel_to(timestamp: int) -> None:
    """Make the next block (the next transaction) land exactly at ``timestamp``."""
    import ape

    ape.chain.provider.make_request("evm_setNextBlockTimestamp", [timestamp])


@contextmanager
def chain_snapshot() -> Iterator[None]:
    """Run a block on a chain snapshot, reverted afterwards."""
    import ape

    snapshot = ape.chain.snapshot()
    try:
        yield
    finally:
        ape.chain.restore(snapshot)


@contextmanager
def reverts(name: str, **inputs: Any) -> Iterator[Any]:
    """Expect a revert with the custom error ``name`` (decoded by ape) and these inputs.

    Stricter than ``ape.reverts``: any other revert, or an undecoded one, fails the test.
    """
    from ape.exceptions import ContractLogicError

    with pytest.raises(ContractLogicError) as info:
        yield info
    err = info.value
    if type(err).__name__ == name:
        actual = dict(getattr(err, "inputs", {}) or {})
    else:  # bubbled up from a contract ape did not call directly: decode the raw revert data
        decoded = decode_error(err)
        assert decoded is not None and decoded[0] == name, f"expected {name}, got {decoded or err!r}"
        actual = decoded[1]
    for key, expected in inputs.items():
        assert key in actual, f"{name} has no input {key!r} (inputs: {actual})"
        assert _norm(actual[key]) == _norm(expected), f"{name}.{key}: expected {expected!r}, got {actual[key]!r}"


def _error_table() -> dict[bytes, tuple[str, list[str], list[str]]]:
    from eth_utils.crypto import keccak

    from chain.artifacts import Artifacts, abi_type

    artifacts = Artifacts.load()
    table: dict[bytes, tuple[str, list[str], list[str]]] = {}
    for contract in artifacts.names():
        for item in artifacts.get(contract).abi:
            if item.get("type") != "error":
                continue
            types = [abi_type(i) for i in item["inputs"]]
            selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
            table[selector] = (item["name"], [i["name"] for i in item["inputs"]], types)
    return table


_ERRORS: dict[bytes, tuple[str, list[str], list[str]]] = {}


def decode_error(err: Any) -> tuple[str, dict[str, Any]] | None:
    """(name, inputs) of a raw custom-error revert, looked up in every ABI of the build."""
    import re

    from eth_abi.abi import decode

    raw = str(getattr(err, "revert_message", None) or err)
    wrapped = re.fullmatch(r"custom error 0x([0-9a-fA-F]{8}):\s*([0-9a-fA-F]*)", raw.strip())
    if wrapped:  # how eth_call reverts are reported
        data = bytes.fromhex(wrapped.group(1) + wrapped.group(2))
    elif raw.startswith("0x") and len(raw) >= 10:
        data = bytes.fromhex(raw[2:])
    else:
        return None
    if not _ERRORS:
        _ERRORS.update(_error_table())
    entry = _ERRORS.get(data[:4])
    if entry is None:
        return None
    name, names, types = entry
    values = decode(types, data[4:])
    return name, dict(zip(names, values, strict=True))


def _norm(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, str) and value.startswith("0x"):
        return value[2:].lower()
    if hasattr(value, "address"):
        return str(value.address).lower()
    return value


def events(tx: Any, name: str) -> list[Any]:
    return [log for log in tx.events if log.event_name == name]


def one_event(tx: Any, name: str) -> Any:
    found = events(tx, name)
    assert len(found) == 1, f"expected one {name} event, got {len(found)}: {[e.event_name for e in tx.events]}"
    return found[0]


def key_of(account: Any) -> Any:
    """The eth-account LocalAccount of an ape test account (anvil's dev keys)."""
    for index in range(20):
        local = dev_account(index)
        if local.address.lower() == str(account.address).lower():
            return local
    raise AssertionError(f"{account.address} is not one of anvil's dev accounts")


def balance(account: Any) -> int:
    import ape

    address = account if isinstance(account, str) else account.address
    return int(ape.chain.provider.get_balance(address))


@dataclass
class MarketWorld:
    project: Any
    market: Any
    domain: MarketDomain
    nft: Any
    nft1155: Any
    coin: Any
    splitter: Any
    identity: Any
    admin: Any
    seller: Any
    buyer: Any
    buyer2: Any
    treasury: Any
    risk: Any
    arbitrator: Any
    stranger: Any

    @classmethod
    def deploy(cls, project: Any, accounts: Any) -> MarketWorld:
        admin, seller, buyer, buyer2 = accounts[0], accounts[1], accounts[2], accounts[3]
        treasury, risk, arbitrator, stranger = accounts[4], accounts[5], accounts[6], accounts[9]
        market = project.Marketplace.deploy(admin, treasury, FEE_BPS, sender=admin)
        nft = project.MktTestERC721.deploy(sender=admin)
        nft1155 = project.MktTestERC1155.deploy(sender=admin)
        # The collections' royalty receiver is a real RoyaltySplitter clone (SplitterFactory, EIP-1167
        # with immutable args): receiving ETH costs it more than 2,300 gas (a delegatecall to a cold
        # implementation), as on the platform. Its recipients (dev accounts 7 and 8) only pull.
        implementation = project.RoyaltySplitter.deploy(sender=admin)
        splitters = project.SplitterFactory.deploy(implementation, sender=admin)
        recipients = sorted((accounts[7].address, accounts[8].address), key=lambda a: int(a, 16))
        created = splitters.createSplitter(recipients, [6_000, 4_000], b"\x00" * 32, sender=admin)
        splitter = project.RoyaltySplitter.at(created.return_value)
        coin = project.MktTestERC20.deploy(sender=admin)
        identity = project.MktTestIdentity.deploy(sender=admin)
        nft.setDefaultRoyalty(splitter, ROYALTY_BPS, sender=admin)
        nft1155.setDefaultRoyalty(splitter, ROYALTY_BPS, sender=admin)
        for who in (seller, buyer, buyer2, stranger):
            nft.setApprovalForAll(market, True, sender=who)
            nft1155.setApprovalForAll(market, True, sender=who)
            coin.mint(who, 1_000 * ETHER, sender=admin)
            coin.approve(market, 2**256 - 1, sender=who)
        import ape

        domain = MarketDomain(chain_id=ape.chain.chain_id, verifying_contract=str(market.address))
        return cls(project, market, domain, nft, nft1155, coin, splitter, identity, admin, seller, buyer,
                   buyer2, treasury, risk, arbitrator, stranger)

    # -- orders ---------------------------------------------------------------------------

    def order(self, *, side: OrderSide = OrderSide.LISTING, signer: Any = None, token: Any = None,
              token_id: int = 1, standard: TokenStandard = TokenStandard.ERC721, quantity: int = 1,
              unit_price: int = ETHER, currency: Any = ZERO, start: int | None = None,
              expiry: int | None = None, salt: int | None = None, counter: int | None = None,
              holding_epoch: int | None = None) -> Order:
        """An order with sensible defaults (a listing of nft #1 by the seller, for 1 ETH, open now;
        a listing carries the token's current holding epoch, read from the collection)."""
        if signer is None:
            signer = self.seller if side is OrderSide.LISTING else self.buyer
        signer_address = str(getattr(signer, "address", signer))
        t = now()
        return Order(
            side=side, signer=signer_address, token=str(getattr(token or self.nft, "address", token)),
            token_id=token_id, standard=standard, quantity=quantity, unit_price=unit_price,
            currency=str(getattr(currency, "address", currency)),
            start=t - 60 if start is None else start, expiry=t + 30 * DAY if expiry is None else expiry,
            salt=new_salt() if salt is None else salt,
            counter=int(self.market.counterOf(signer_address)) if counter is None else counter,
            holding_epoch=(self.holding_epoch(token or self.nft, signer_address, token_id)
                           if holding_epoch is None and side is OrderSide.LISTING else holding_epoch or 0),
        )

    def holding_epoch(self, token: Any, holder: str, token_id: int) -> int:
        """The collection's holdingEpoch(holder, token_id), or 0 when it has none (or reverts)."""
        from ape.exceptions import ApeException

        contract = token if hasattr(token, "holdingEpoch") else None
        if contract is None:
            return 0
        try:
            return int(contract.holdingEpoch(holder, token_id))
        except ApeException:
            return 0

    def sign(self, order: Order, by: Any = None, domain: MarketDomain | None = None) -> SignedOrder:
        """Sign ``order`` with ``by``'s key (default: the order's signer), for ``domain``."""
        key = key_of(by) if by is not None else key_of_address(order.signer)
        if by is not None and key.address != order.signer:
            # Sign as someone else: bypass sign_order's own signer check on purpose.
            signed = key.sign_typed_data(full_message=_typed(order, domain or self.domain))
            return SignedOrder(order, bytes(signed.signature), domain or self.domain)
        return sign_order(order, domain or self.domain, key)

    def listing(self, **kwargs: Any) -> SignedOrder:
        return self.sign(self.order(**kwargs))

    def offer(self, **kwargs: Any) -> SignedOrder:
        kwargs.setdefault("currency", self.coin)
        return self.sign(self.order(side=OrderSide.OFFER, **kwargs))

    def fill_listing(self, signed: SignedOrder, *, amount: int = 1, by: Any = None, value: int | None = None) -> Any:
        order = signed.order
        if value is None:
            value = order.unit_price * amount if order.currency == ZERO else 0
        return self.market.fillListing(order.as_tuple(), signed.signature, amount, sender=by or self.buyer,
                                       value=value)

    def fill_offer(self, signed: SignedOrder, *, amount: int = 1, by: Any = None) -> Any:
        return self.market.fillOffer(signed.order.as_tuple(), signed.signature, amount, sender=by or self.seller)

    def mint(self, to: Any, token_id: int = 1) -> None:
        self.nft.mint(to, token_id, sender=self.admin)

    def mint1155(self, to: Any, token_id: int = 1, amount: int = 10) -> None:
        self.nft1155.mint(to, token_id, amount, sender=self.admin)

    def credit(self, account: Any) -> int:
        return int(self.market.pendingWithdrawals(getattr(account, "address", account)))


def key_of_address(address: str) -> Any:
    for index in range(20):
        local = dev_account(index)
        if local.address.lower() == address.lower():
            return local
    raise AssertionError(f"{address} is not one of anvil's dev accounts")


def _typed(order: Order, domain: MarketDomain) -> dict[str, Any]:
    from chain.orders import typed_data

    return typed_data(order, domain)


def split(price: int, royalty_bps: int = ROYALTY_BPS, fee_bps: int = FEE_BPS) -> tuple[int, int, int]:
    """(royalty, fee, seller proceeds) of a sale at ``price``."""
    fee = price * fee_bps // 10_000
    royalty = price * royalty_bps // 10_000
    return royalty, fee, price - fee - royalty

