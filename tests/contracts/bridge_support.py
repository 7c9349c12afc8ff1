"""Shared fixtures and helpers of the bridge contract tests (tests/contracts/test_bridge_*.py).

Both ends are deployed on the one test anvil, as the gas bench does: the lockbox and the remote
bridge name each other as peers with the same chain id, which the contracts allow. Validators are
anvil dev accounts 10, 11 and 12 (2 of 3); they only sign, through ``bridge.message``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import pytest

from bridge.message import BridgeMessage, Rights, sign_digest
from chain.deploy import BridgeOptions
from chain.devaccounts import dev_account
from tests.contracts.issuance_support import Stack, Work, _decoder, _norm, addr, one_event, work

ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
VALIDATOR_INDEXES = (10, 11, 12)
LIMITS = BridgeOptions().rate_limits
"""The deployed rate limits, per hour: outbound, inbound, per sender, per collection."""


@contextmanager
def reverts(name: str, *args: Any) -> Iterator[None]:
    """Expect custom error ``name`` (and exactly ``args`` when given), from a transaction or a view.

    Like issuance_support.reverts, and also reads the form anvil gives reverted view calls whose
    arguments are not text (``custom error 0x<selector>: <hex>``, raised as ProviderError).
    """
    from ape.exceptions import ContractLogicError, CustomError, ProviderError

    from chain.artifacts import Artifacts

    with pytest.raises((ContractLogicError, ProviderError)) as info:
        yield
    exc = info.value
    if isinstance(exc, CustomError):
        actual_name, actual_args = exc.abi.name, tuple(exc.inputs.values())
    else:
        message = str(getattr(exc, "revert_message", None) or exc)
        text = re.search(r"custom error 0x([0-9a-f]{8}):? ?(.*)", message, re.S)
        if message.startswith("0x"):
            data = bytes.fromhex(message[2:])
        elif text is not None:
            payload = text.group(2)
            if len(payload) % 64 == 0 and re.fullmatch(r"[0-9a-f]*", payload):
                data = bytes.fromhex(text.group(1) + payload)
            else:
                assert all(ord(ch) < 256 for ch in payload), f"lossy revert text: {message!r}"
                data = bytes.fromhex(text.group(1)) + payload.encode("latin-1")
        else:
            raise AssertionError(f"expected {name}, got a revert without custom error data: {message!r}")
        decoded = _decoder(Artifacts.load()).decode(data)
        assert decoded is not None, f"expected {name}, got an undecodable revert: {message!r}"
        actual_name, actual_args = decoded
    assert actual_name == name, f"expected {name}, got {actual_name}{actual_args}"
    if args:
        assert _norm(actual_args) == _norm(args), f"{name}: expected args {args}, got {actual_args}"


def validators() -> list[Any]:
    """The validator accounts (eth_account LocalAccount), ascending by address."""
    return sorted((dev_account(i) for i in VALIDATOR_INDEXES), key=lambda a: int(a.address, 16))


def rights_of(value: Any) -> Rights:
    """Rights from an ape-decoded struct (event argument or call result)."""
    return Rights.from_fields(value)


@dataclass
class Bridge:
    """The issuance stack plus both bridge ends on one chain."""

    stack: Stack
    project: Any
    lockbox: Any
    wrapped: Any
    remote: Any
    chain_id: int
    splitter_factory: Any

    def message_from_lock(self, tx: Any) -> BridgeMessage:
        ev = one_event(tx, "TokenLocked")
        return BridgeMessage(
            source_chain_id=self.chain_id, dest_chain_id=self.chain_id, source_bridge=self.lockbox.address,
            dest_bridge=self.remote.address, transfer_id=ev.transferId, collection=ev.collection,
            token_id=ev.tokenId, sender=ev.sender, recipient=ev.recipient, rights=rights_of(ev.rights))

    def message_from_burn(self, tx: Any) -> BridgeMessage:
        ev = one_event(tx, "TokenBurned")
        return BridgeMessage(
            source_chain_id=self.chain_id, dest_chain_id=self.chain_id, source_bridge=self.remote.address,
            dest_bridge=self.lockbox.address, transfer_id=ev.transferId, collection=ev.collection,
            token_id=ev.tokenId, sender=ev.sender, recipient=ev.recipient, rights=rights_of(ev.rights))

    def wrapped_id(self, collection: Any, token_id: int) -> int:
        return int(self.wrapped.wrappedIdOf(addr(collection), token_id))


def sign(message: BridgeMessage, signers: Sequence[Any] | None = None) -> list[bytes]:
    """Signatures of ``message``'s digest by ``signers`` (default: the first two validators), in the
    order given (callers wanting a valid delivery pass them ascending)."""
    chosen = list(signers) if signers is not None else validators()[:2]
    digest = message.digest()
    return [sign_digest(digest, a.key) for a in chosen]


def deliver(endpoint: Any, message: BridgeMessage, sender: Any, signers: Sequence[Any] | None = None) -> Any:
    return endpoint.deliver(message.as_tuple(), sign(message, signers), sender=sender)


def mint_token(bridge: Bridge, collection: Any, creator: Any, owner: Any, label: str) -> tuple[int, Work]:
    w = work(label)
    tx = collection.mintWork(owner, w.content_hash, w.cid_bytes, sender=creator)
    return int(one_event(tx, "Transfer").tokenId), w


def lock(bridge: Bridge, collection: Any, token_id: int, w: Work, owner: Any, recipient: Any = None) -> Any:
    return bridge.lockbox.lock(collection, token_id, recipient or owner, bridge.chain_id, w.content_hash,
                               sender=owner)


def forged(message: BridgeMessage, **changes: Any) -> BridgeMessage:
    return replace(message, **changes)


@pytest.fixture(scope="module")
def bridge(stack: Stack, ape_project: Any, deployer: Any, home_ape: Any) -> Bridge:
    import ape

    chain_id = int(ape.chain.chain_id)
    vals = [v.address for v in validators()]
    lockbox = ape_project.HomeLockbox.deploy(stack.registry, ZERO, deployer, vals, 2, *LIMITS, sender=deployer)
    wrapped = ape_project.WrappedCollection.deploy("Chainright Wrapped", "CRWRAP", deployer, sender=deployer)
    remote = ape_project.RemoteBridge.deploy(wrapped, deployer, vals, 2, *LIMITS, sender=deployer)
    wrapped.setBridge(remote, sender=deployer)
    lockbox.setPeer(chain_id, remote, sender=deployer)
    remote.setPeer(chain_id, lockbox, sender=deployer)
    # Royalty splits travel: the lockbox recognises clones of this implementation, the remote side
    # creates the same split through this factory (one chain here, so one factory serves both ends).
    splitter_impl = ape_project.RoyaltySplitter.deploy(sender=deployer)
    splitter_factory = ape_project.SplitterFactory.deploy(splitter_impl, sender=deployer)
    lockbox.setSplitterImplementation(splitter_impl, sender=deployer)
    remote.setSplitterFactory(splitter_factory, sender=deployer)
    return Bridge(stack, ape_project, lockbox, wrapped, remote, chain_id, splitter_factory)
