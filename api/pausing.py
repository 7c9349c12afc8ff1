"""The contract families an operator pauses and unpauses, read and sent through the gateway.

Each family is the platform's own contracts that have a ``pause()``: marketplace (Marketplace),
escrow (MilestoneEscrow), bridge (HomeLockbox on home, RemoteBridge on remote). The platform key
(``CHAINRIGHT_CHAIN_DEPLOYER_KEY``, which holds the pauser, guardian and admin roles the deploy
gives it) sends the transaction; the route that asks for it is gated to the ``operator`` role and
audited. Creators' own collections (CreatorCollection, Editions1155) are paused by their owner,
not by the platform: they are not a family here."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from api.errors import ContractPausedError, ServiceUnavailableError

log = logging.getLogger(__name__)

Family = Literal["marketplace", "escrow", "bridge"]
FAMILIES: dict[str, tuple[str, ...]] = {
    "marketplace": ("Marketplace",),
    "escrow": ("MilestoneEscrow",),
    "bridge": ("HomeLockbox", "RemoteBridge"),
}
CACHE_S = 1.0
"""How long a ``paused()`` answer is reused by the admission checks (cleared by a pause/unpause here)."""

_cache: dict[tuple[int, int, str], tuple[float, bool]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Member:
    """One deployed contract of a family on one chain."""

    family: str
    chain_id: int
    chain: str
    contract: str
    address: str


def members(gateway: Any, family: str | None = None) -> list[Member]:
    """The family's contracts deployed on the chains served (every family when None)."""
    out = []
    for spec in gateway.specs():
        for name, contracts in FAMILIES.items():
            if family is not None and name != family:
                continue
            for contract in contracts:
                try:
                    address = gateway.address(spec.chain_id, contract)
                except ServiceUnavailableError:  # not deployed on this chain
                    continue
                out.append(Member(name, spec.chain_id, spec.name, contract, address))
    return out


def is_paused(gateway: Any, member: Member, *, fresh: bool = False) -> bool:
    key = (id(gateway), member.chain_id, member.contract)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
    if cached is not None and not fresh and now - cached[0] < CACHE_S:
        return cached[1]
    paused = bool(gateway.view(member.chain_id, member.address, member.contract, "paused", []))
    with _lock:
        _cache[key] = (now, paused)
    return paused


def forget(gateway: Any, member: Member) -> None:
    with _lock:
        _cache.pop((id(gateway), member.chain_id, member.contract), None)


def refuse_when_paused(gateway: Any, chain_id: int, family: str, what: str) -> None:
    """Raise ``ContractPausedError`` (409, ``/problems/paused``) when ``family`` is paused on
    ``chain_id``; ``what`` names what is refused ("new listings")."""
    for member in members(gateway, family):
        if member.chain_id != chain_id:
            continue
        try:
            paused = is_paused(gateway, member)
        except ServiceUnavailableError:
            raise
        except Exception as exc:  # a chain that cannot answer: the transaction would not go either
            log.debug("paused() of %s on %d unreadable: %s", member.contract, chain_id, exc)
            continue
        if paused:
            raise ContractPausedError(
                f"the {family} is paused on chain {chain_id} ({member.contract} {member.address}): "
                f"{what} are refused until an operator unpauses it (chainright ops unpause {family})",
                family=family, chain_id=chain_id, contract=member.contract)


def send_pause(gateway: Any, member: Member, pause: bool) -> str:
    """``pause()``/``unpause()`` of ``member`` from the platform key; the transaction hash."""
    from eth_account import Account

    from chain.tx import TxSender

    gateway.require_progress(member.chain_id)
    contract = gateway.contract(member.chain_id, member.contract)
    key = Account.from_key(gateway.settings.deployer_key.get_secret_value())
    sender = TxSender(gateway.web3(member.chain_id), key)
    function = contract.functions.pause() if pause else contract.functions.unpause()
    try:
        receipt = sender.transact(sender.call_tx(function))
    finally:
        forget(gateway, member)
    return "0x" + bytes(receipt["transactionHash"]).hex()
