"""Exceptions of the ``chain`` package: one root, a branch per concern.

Every message says what was wrong and what to do about it; callers at the edge (the console
command, the API) print the message, never a stack trace.
"""

from __future__ import annotations


class ChainError(Exception):
    """Root of every error raised by ``chain``."""


class ChainSettingsError(ChainError):
    """Raised when the chain settings are inconsistent or unsafe for the environment."""


class NodeError(ChainError):
    """Raised when a local node cannot be started, reached or stopped."""


class PortInUseError(NodeError):
    """Raised when a node's port is already taken by another process."""


class NodeBinaryMissingError(NodeError):
    """Raised when the anvil binary cannot be found."""


class NodeStartError(NodeError):
    """Raised when a node process exits or does not answer RPC in time."""


class ChainUnavailableError(ChainError):
    """Raised when a chain's JSON-RPC endpoint does not answer (it went away or never started)."""


class TransactionNotSentError(ChainUnavailableError):
    """Raised when signed transaction bytes could not be delivered after the retries; carries them
    (``raw_transaction``, ``tx_hash``) so the caller can send the very same bytes again."""

    def __init__(self, message: str, *, raw_transaction: bytes, tx_hash: str) -> None:
        super().__init__(message)
        self.raw_transaction = raw_transaction
        self.tx_hash = tx_hash


class ChainIdMismatchError(ChainError):
    """Raised when an endpoint answers with another chain id than the one configured."""


class CompileError(ChainError):
    """Raised when the contracts do not compile; the message carries file and line."""


class ArtifactMissingError(ChainError):
    """Raised when a contract has no compiled artifact (compile first)."""


class DeploymentError(ChainError):
    """Raised when a deployment step fails or the deployment registry is unreadable."""


class TransactionError(ChainError):
    """Raised when a transaction cannot be built, signed, sent or confirmed."""


class TransactionRevertedError(TransactionError):
    """Raised when a transaction or call reverted; carries the decoded custom error if known."""

    def __init__(self, message: str, *, tx_hash: str | None = None, error_name: str | None = None,
                 error_args: tuple[object, ...] = (), revert_data: bytes = b"") -> None:
        super().__init__(message)
        self.tx_hash = tx_hash
        self.error_name = error_name
        self.error_args = error_args
        self.revert_data = revert_data


class TransactionTimeoutError(TransactionError):
    """Raised when a sent transaction has no receipt within the wait limit."""


class CidError(ChainError):
    """Raised when a CID is not one the issuance contracts store (CIDv1, one-byte codec and hash)."""


class SignatureError(ChainError):
    """Raised when an ECDSA signature is malformed, malleable (high s) or recovers to no key."""


class OrderError(ChainError):
    """Raised when a marketplace order is malformed, wrongly signed, or cannot be filled now."""


class OrderInvalidError(OrderError):
    """Raised when an order's fields are out of range (zero price or quantity, ETH offers, ...)."""


class OrderSignatureError(OrderError):
    """Raised when an order's signature is malformed, malleable, or not by the order's signer."""


class OrderDomainError(OrderError):
    """Raised when an order was signed for another chain, marketplace deployment or domain version."""


class OrderCounterError(OrderError):
    """Raised when an order carries a counter other than its signer's current one (it was revoked)."""


class OrderNotActiveError(OrderError):
    """Raised when an order's time window does not contain the given time (not started or expired)."""


class AuditError(ChainError):
    """Raised when an audit report cannot be made: a bad address, window or collection."""


class ProvenanceRangeError(ChainError):
    """Raised when a token's story spans more blocks on one chain than a provenance bundle links."""
