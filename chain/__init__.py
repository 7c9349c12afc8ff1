"""Chainright's chain layer: local nodes, ape networks, compiled contracts, deploys, transactions.

Modules:
- ``settings``    typed settings (``CHAINRIGHT_CHAIN_*``) and the per-chain ``ChainSpec``
- ``errors``      the ``ChainError`` tree
- ``types``       domain value types (ChainId, TokenId, Wei, Address, TxHash)
- ``nodes``       start/stop the anvil processes we own (by PID)
- ``rpc``         a tiny JSON-RPC client for health checks
- ``engines``     the consensus engine from ``web3_clientVersion``, and finality by engine
- ``connection``  web3 connections and ape network contexts, PoA headers handled
- ``artifacts``   compile through ape and load contract artifacts
- ``tx``          sign once, send raw, retry only what is safe, decode reverts
- ``reverts``     every custom error of our contracts as a sentence with what to do
- ``formatting``  amounts as ETH (wei) and times as ISO 8601, for every printed line
- ``faucet``      development ETH for a new wallet, on local development chains only
- ``deployments`` the deployment registry file
- ``deploy``      the deployment plan and its runner
"""

from chain.errors import (
    ArtifactMissingError,
    ChainError,
    ChainIdMismatchError,
    ChainSettingsError,
    ChainUnavailableError,
    CompileError,
    DeploymentError,
    NodeBinaryMissingError,
    NodeError,
    NodeStartError,
    PortInUseError,
    TransactionError,
    TransactionRevertedError,
    TransactionTimeoutError,
)
from chain.settings import ChainSettings, ChainSpec

__all__ = [
    "ArtifactMissingError",
    "ChainError",
    "ChainIdMismatchError",
    "ChainSettings",
    "ChainSettingsError",
    "ChainSpec",
    "ChainUnavailableError",
    "CompileError",
    "DeploymentError",
    "NodeBinaryMissingError",
    "NodeError",
    "NodeStartError",
    "PortInUseError",
    "TransactionError",
    "TransactionRevertedError",
    "TransactionTimeoutError",
]
