"""Keep the on-chain identity registry of every configured chain in step with KYC decisions.

The operator key (the chain settings' deployer key, which holds OPERATOR_ROLE after deploy) signs;
it is never logged. Writes are upserts (``batchSetIdentities``) and revocations; each returns the
transaction hash per chain, so the application records where its status was written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from chain.errors import ChainError, TransactionRevertedError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainWrite:
    chain_id: int
    tx_hash: str


class IdentityWriter(Protocol):
    """Writes identities to every configured chain; raises ChainError when any write fails."""

    def set_identity(self, address: str, level: int, country: str, expires_at: int) -> list[ChainWrite]: ...

    def revoke(self, address: str) -> list[ChainWrite]: ...

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
        from chain.tx import ErrorDecoder, TxSender

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

    def set_identity(self, address: str, level: int, country: str, expires_at: int) -> list[ChainWrite]:
        writes = []
        for t in self.targets:
            fn = t.contract.functions.batchSetIdentities([address], [level], [country.encode()],
                                                         [expires_at])
            receipt = t.sender.transact(t.sender.call_tx(fn))
            writes.append(ChainWrite(t.chain_id, "0x" + bytes(receipt["transactionHash"]).hex()))
        return writes

    def revoke(self, address: str) -> list[ChainWrite]:
        writes = []
        for t in self.targets:
            try:
                receipt = t.sender.transact(t.sender.call_tx(t.contract.functions.revokeIdentity(address)))
            except TransactionRevertedError as exc:
                if exc.error_name in ("IdentityAlreadyRevoked", "IdentityNotRegistered"):
                    continue  # already not verified there: nothing to undo
                raise
            writes.append(ChainWrite(t.chain_id, "0x" + bytes(receipt["transactionHash"]).hex()))
        return writes

    def is_verified(self, address: str) -> dict[int, bool]:
        out = {}
        for t in self.targets:
            try:
                out[t.chain_id] = bool(t.contract.functions.isVerified(address).call())
            except Exception as exc:
                raise ChainError(f"cannot read the identity registry on chain {t.chain_id}: {exc}") from exc
        return out
