"""Keep the on-chain identity registry of every configured chain in step with KYC decisions.

The operator key (the chain settings' deployer key, which holds OPERATOR_ROLE after deploy) signs;
it is never logged. Writes are upserts (``batchSetIdentities``) and revocations; each returns the
transaction hash per chain, so the application records where its status was written. A write is
tried on every chain even when one fails; the failure (``RegistrySyncError``) names the chains that
failed and carries the writes that landed, so the caller can undo or retry exactly those.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from chain.errors import ChainError, TransactionRevertedError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainWrite:
    chain_id: int
    tx_hash: str


class RegistrySyncError(ChainError):
    """Raised when the identity registry could not be written on some chains (``failed``: chain id
    -> reason); ``writes`` are the writes that did land on the other chains."""

    def __init__(self, failed: dict[int, str], writes: list[ChainWrite]) -> None:
        self.failed = dict(failed)
        self.writes = list(writes)
        names = "; ".join(f"chain {cid}: {why}" for cid, why in sorted(self.failed.items()))
        super().__init__(f"identity registry not written on {names}")

    @property
    def chain_ids(self) -> list[int]:
        return sorted(self.failed)


class IdentityWriter(Protocol):
    """Writes identities to every configured chain; raises ChainError (``RegistrySyncError`` naming
    the chains) when any write fails."""

    def set_identity(self, address: str, level: int, country: str, expires_at: int) -> list[ChainWrite]: ...

    def revoke(self, address: str, chains: Collection[int] | None = None) -> list[ChainWrite]: ...

    def is_verified(self, address: str) -> dict[int, bool]: ...


@dataclass
class _Target:
    chain_id: int
    contract: Any
    sender: Any


class OnChainIdentityWriter:
    """The IdentityRegistry contract on each chain of the chain settings."""

    def __init__(self, targets: list[_Target]) -> None:
        self.targets = targets

    @classmethod
    def from_settings(cls, chain_settings: Any, which: str = "all") -> OnChainIdentityWriter:
        from eth_account import Account

        from chain.artifacts import Artifacts
        from chain.connection import connect
        from chain.deployments import DeploymentRegistry
        from chain.reverts import ErrorDecoder
        from chain.tx import TxSender

        artifacts = Artifacts.load()
        art = artifacts.get("IdentityRegistry")
        registry = DeploymentRegistry(chain_settings.deployments_file)
        account = Account.from_key(chain_settings.deployer_key.get_secret_value())
        targets = []
        for spec in chain_settings.specs(which):
            web3 = connect(spec)
            address = registry.address(spec.chain_id, "IdentityRegistry")
            sender = TxSender(web3, account, decoder=ErrorDecoder([art.abi]),
                              timeout_s=chain_settings.tx_timeout_s)
            contract = web3.eth.contract(address=address, abi=art.abi)  # type: ignore[call-overload]
            targets.append(_Target(spec.chain_id, contract,
                                   sender))
        return cls(targets)

    def _each(self, targets: list[_Target],
              write: Callable[[_Target], ChainWrite | None]) -> list[ChainWrite]:
        writes: list[ChainWrite] = []
        failed: dict[int, str] = {}
        for t in targets:
            try:
                done = write(t)
            except ChainError as exc:
                failed[t.chain_id] = str(exc) or type(exc).__name__
                continue
            if done is not None:
                writes.append(done)
        if failed:
            raise RegistrySyncError(failed, writes)
        return writes

    def set_identity(self, address: str, level: int, country: str, expires_at: int) -> list[ChainWrite]:
        def write(t: _Target) -> ChainWrite:
            fn = t.contract.functions.batchSetIdentities([address], [level], [country.encode()],
                                                         [expires_at])
            receipt = t.sender.transact(t.sender.call_tx(fn))
            return ChainWrite(t.chain_id, "0x" + bytes(receipt["transactionHash"]).hex())

        return self._each(self.targets, write)

    def revoke(self, address: str, chains: Collection[int] | None = None) -> list[ChainWrite]:
        """Revoke on every chain (or on ``chains``); a chain where it is already not verified is
        skipped, so a retry after a partial failure is safe."""

        def write(t: _Target) -> ChainWrite | None:
            try:
                receipt = t.sender.transact(t.sender.call_tx(t.contract.functions.revokeIdentity(address)))
            except TransactionRevertedError as exc:
                if exc.error_name in ("IdentityAlreadyRevoked", "IdentityNotRegistered"):
                    return None  # already not verified there: nothing to undo
                raise
            return ChainWrite(t.chain_id, "0x" + bytes(receipt["transactionHash"]).hex())

        targets = [t for t in self.targets if chains is None or t.chain_id in chains]
        return self._each(targets, write)

    def is_verified(self, address: str) -> dict[int, bool]:
        out = {}
        for t in self.targets:
            try:
                out[t.chain_id] = bool(t.contract.functions.isVerified(address).call())
            except Exception as exc:
                raise ChainError(f"cannot read the identity registry on chain {t.chain_id}: {exc}") from exc
        return out
