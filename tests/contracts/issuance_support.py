"""Shared fixtures and helpers of the issuance tests (imported by tests/contracts/test_issuance_*.py).

`stack` deploys the family as the deploy plan does (registry, locked implementations, factory
allowed by the registry); `isolated` (in `conftest.py`) reverts the chain after each test so tests never see each
other's state. `reverts(name, *args)` checks the exact custom error and its arguments, decoding
errors that bubble up from a nested call (the registry behind a collection) by selector.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from chain.cid import cid_to_bytes, raw_cid
from chain.reverts import ErrorDecoder

ZERO = "0x" + "00" * 20
DAG_PB_CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"  # the IPFS docs' example


@dataclass(frozen=True)
class Work:
    """A made-up work: its content, content hash (sha256), raw-leaves CID string and binary CID."""

    content: bytes
    content_hash: bytes
    cid: str
    cid_bytes: bytes


def work(label: str) -> Work:
    content = f"work:{label}".encode()
    cid = raw_cid(content)
    return Work(content, hashlib.sha256(content).digest(), cid, cid_to_bytes(cid))


def salt(label: str) -> bytes:
    return hashlib.sha256(f"salt:{label}".encode()).digest()


def addr(value: Any) -> str:
    return str(getattr(value, "address", value))


def _norm(value: Any) -> Any:
    if hasattr(value, "address"):
        value = value.address
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return tuple(_norm(v) for v in value)
    return value


class _Decoder:
    instance: ErrorDecoder | None = None


def _decoder(artifacts: Any) -> ErrorDecoder:
    if _Decoder.instance is None:
        _Decoder.instance = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
    return _Decoder.instance


@contextmanager
def reverts(name: str, *args: Any) -> Iterator[None]:
    """Expect a revert with custom error ``name`` (and, when given, exactly ``args``)."""
    from ape.exceptions import ContractLogicError, CustomError

    from chain.artifacts import Artifacts

    with pytest.raises(ContractLogicError) as info:
        yield
    exc = info.value
    if isinstance(exc, CustomError):
        actual_name, actual_args = exc.abi.name, tuple(exc.inputs.values())
    else:
        message = str(exc.revert_message or "")
        if message.startswith("0x"):
            data = bytes.fromhex(message[2:])
        elif (text := re.fullmatch(r"custom error 0x([0-9a-f]{8}): (.*)", message, re.S)) is not None:
            # A reverted view call: anvil prints the selector and the argument bytes as characters.
            payload = text.group(2)
            assert all(ord(ch) < 256 for ch in payload), f"lossy revert text: {message!r}"
            data = bytes.fromhex(text.group(1)) + payload.encode("latin-1")
            assert len(data) % 32 == 4, f"truncated revert text: {message!r}"
        else:
            raise AssertionError(f"expected {name}, got a revert without custom error data: {message!r}")
        decoded = _decoder(Artifacts.load()).decode(data)
        assert decoded is not None, f"expected {name}, got an undecodable revert: {message!r}"
        actual_name, actual_args = decoded
    assert actual_name == name, f"expected {name}, got {actual_name}{actual_args}"
    if args:
        assert _norm(actual_args) == _norm(args), f"{name}: expected args {args}, got {actual_args}"


def events(tx: Any, name: str) -> list[Any]:
    return [log for log in tx.events if log.event_name == name]


def one_event(tx: Any, name: str) -> Any:
    found = events(tx, name)
    assert len(found) == 1, f"expected one {name}, got {len(found)}: {[e.event_name for e in tx.events]}"
    return found[0]


@dataclass
class Stack:
    """The deployed issuance family."""

    project: Any
    registry: Any
    collection_impl: Any
    editions_impl: Any
    factory: Any

    def collection(self, owner: Any, label: str = "c", *, royalty_receiver: Any = None, bps: int = 500,
                   identity: Any = ZERO, require_verified: bool = False, name: str = "Works",
                   symbol: str = "WRK") -> Any:
        """A CreatorCollection created by ``owner`` through the factory."""
        settings = (name, symbol, addr(owner), addr(royalty_receiver or owner), bps, addr(identity),
                    require_verified)
        self.factory.createCollection(settings, salt(label), sender=owner)
        return self.project.CreatorCollection.at(self.factory.predictCollectionAddress(owner, salt(label)))

    def editions(self, owner: Any, label: str = "e", *, bps: int = 500) -> Any:
        settings = ("Editions", "ED", addr(owner), addr(owner), bps)
        self.factory.createEditions1155(settings, salt(label), sender=owner)
        return self.project.Editions1155.at(self.factory.predictEditionsAddress(owner, salt(label)))


@pytest.fixture(scope="module")
def stack(ape_project: Any, deployer: Any) -> Stack:
    registry = ape_project.RightsRegistry.deploy(deployer, sender=deployer)
    collection_impl = ape_project.CreatorCollection.deploy(sender=deployer)
    editions_impl = ape_project.Editions1155.deploy(sender=deployer)
    factory = ape_project.CollectionFactory.deploy(registry, collection_impl, editions_impl, sender=deployer)
    registry.setFactory(factory, True, sender=deployer)
    return Stack(ape_project, registry, collection_impl, editions_impl, factory)


