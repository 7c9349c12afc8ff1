"""Send transactions: build, sign once, send the raw bytes, wait for the receipt.

Only calls that are safe to repeat are retried: re-sending the same signed bytes cannot execute
twice (same hash, same nonce), and reads have no effect. A transaction is never re-signed on
retry. Reverts are decoded against the ABIs we know, so the caller sees ``PriceOutsideBand(...)``
rather than raw bytes.

One account's sends on one node are serialized in the process: every ``TxSender`` of that account
and node shares one lock and one nonce counter (``_NonceBook``), and ``transact``/``transact_many``
re-read the account's pending nonce under the lock before they sign. Two parts of the platform that
sign with the same key (the KYC registry writer and the circuit breaker's ``setHalted``, both the
operator) therefore never pick the same nonce or a stale one, however their calls interleave.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import TxParams, TxReceipt

from chain.errors import (
    ChainUnavailableError,
    TransactionError,
    TransactionNotSentError,
    TransactionRevertedError,
    TransactionTimeoutError,
)
from chain.reverts import ErrorDecoder, revert_data

log = logging.getLogger(__name__)

T = TypeVar("T")

_TRANSIENT = (ConnectionError, TimeoutError, OSError)


def retry_read(fn: Callable[[], T], *, attempts: int = 4, delay: float = 0.2, what: str = "call") -> T:
    """Run a side-effect-free RPC ``fn`` with retries on connection errors."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except _TRANSIENT as exc:
            if attempt == attempts:
                raise ChainUnavailableError(
                    f"{what} failed after {attempts} attempts: {exc}; is the chain running?"
                ) from exc
            time.sleep(delay * attempt)
    raise AssertionError("unreachable")


@dataclass
class _NonceBook:
    """The next nonce of one account on one node, and the lock its sends take, shared by every
    ``TxSender`` of that account and node in the process."""

    next: int | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)


_BOOKS: dict[tuple[str, int, str], _NonceBook] = {}
_BOOKS_LOCK = threading.Lock()


def _nonce_book(web3: Web3, chain_id: int, address: str) -> _NonceBook:
    node = getattr(web3.provider, "endpoint_uri", None) or f"provider-{id(web3.provider)}"
    key = (str(node), chain_id, address.lower())
    with _BOOKS_LOCK:
        return _BOOKS.setdefault(key, _NonceBook())


class TxSender:
    """Signs and sends transactions for one local account on one chain.

    Tracks the account's nonce so many transactions can be signed and sent without a round trip
    each (``sign``); ``resync()`` re-reads it from the chain. The count and a send lock are shared
    with every other sender of the same account and node in the process (see the module docstring).
    """

    def __init__(self, web3: Web3, account: LocalAccount, *, decoder: ErrorDecoder | None = None,
                 timeout_s: float = 60.0, gas_margin: float = 1.2) -> None:
        self.web3 = web3
        self.account = account
        self.decoder = decoder or ErrorDecoder()
        self.timeout_s = timeout_s
        self.gas_margin = gas_margin
        self.chain_id = retry_read(lambda: web3.eth.chain_id, what="eth_chainId")
        self._book = _nonce_book(web3, self.chain_id, str(account.address))

    @property
    def _nonce(self) -> int | None:
        return self._book.next

    @_nonce.setter
    def _nonce(self, value: int | None) -> None:
        self._book.next = value

    @property
    def address(self) -> str:
        return str(self.account.address)

    def resync(self) -> None:
        self._nonce = retry_read(
            lambda: self.web3.eth.get_transaction_count(self.account.address, "pending"),
            what="eth_getTransactionCount",
        )

    def _next_nonce(self) -> int:
        with self._book.lock:
            if self._book.next is None:
                self.resync()
            assert self._book.next is not None
            nonce = self._book.next
            self._book.next = nonce + 1
            return nonce

    def fees(self) -> dict[str, int]:
        """Current fee fields (EIP-1559, or a legacy gas price before London); put them in many
        transactions to skip one block read per ``build``."""
        return self._fees()

    def _fees(self) -> dict[str, int]:
        block = retry_read(lambda: self.web3.eth.get_block("latest"), what="eth_getBlockByNumber")
        base = block.get("baseFeePerGas")
        if base is None:  # pre-London chain (some consortium networks): legacy gas price
            return {"gasPrice": retry_read(lambda: self.web3.eth.gas_price, what="eth_gasPrice")}
        tip = 10**9 if base > 0 else 0
        return {"maxFeePerGas": 2 * int(base) + tip, "maxPriorityFeePerGas": tip}

    def build(self, tx: TxParams) -> TxParams:
        """Fill chain id, sender, fees and gas (estimated, with margin) into ``tx``."""
        full: dict[str, Any] = dict(tx)
        full.setdefault("from", self.account.address)
        full.setdefault("chainId", self.chain_id)
        full.setdefault("value", 0)
        if "gasPrice" not in full and "maxFeePerGas" not in full:
            full.update(self._fees())
        if "gas" not in full:
            try:  # a read: retried on connection errors
                estimate = retry_read(partial(self.web3.eth.estimate_gas, full),  # type: ignore[arg-type]
                                      what="eth_estimateGas")
            except (ContractLogicError, ContractCustomError) as exc:
                raise self._reverted(exc, None) from None
            full["gas"] = int(estimate * self.gas_margin) + 21_000 // 10
        return full  # type: ignore[return-value]

    def sign(self, tx: TxParams) -> tuple[HexBytes, HexBytes]:
        """Build and sign ``tx`` once; returns (raw bytes, tx hash)."""
        full = dict(self.build(tx))
        full["nonce"] = self._next_nonce()
        full.pop("from", None)
        signed = self.account.sign_transaction(full)  # type: ignore[arg-type]
        return HexBytes(signed.raw_transaction), HexBytes(signed.hash)

    def send_raw(self, raw: HexBytes, tx_hash: HexBytes, *, attempts: int = 4) -> HexBytes:
        """Send signed bytes; safe to repeat, so retried on connection errors."""
        for attempt in range(1, attempts + 1):
            try:
                return HexBytes(self.web3.eth.send_raw_transaction(raw))
            except _TRANSIENT as exc:
                if attempt == attempts:
                    # The node may never have seen this nonce: forget our count, or every later
                    # transaction would sit behind the gap until it times out.
                    self._nonce = None
                    raise TransactionNotSentError(
                        f"could not send transaction 0x{tx_hash.hex()} after {attempts} attempts "
                        f"({exc}); is the chain running? The same signed bytes (on this error) can "
                        "be sent again safely",
                        raw_transaction=bytes(raw), tx_hash=f"0x{tx_hash.hex()}",
                    ) from exc
                time.sleep(0.2 * attempt)
            except (ValueError, Web3RPCError) as exc:
                text = str(exc).lower()
                if ("already known" in text or "nonce too low" in text
                        or "already imported" in text) and self._known(tx_hash):
                    # A previous attempt reached the node: this very transaction is pending
                    # or mined, so the retry is done.
                    return tx_hash
                self._nonce = None  # the node refused it: our nonce view may be stale
                raise TransactionError(f"the node refused the transaction: {exc}") from exc
        raise AssertionError("unreachable")

    def _known(self, tx_hash: HexBytes) -> bool:
        try:
            self.web3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            return False
        return True

    @staticmethod
    def call_tx(fn: Any, *, value: int = 0) -> TxParams:
        """The transaction for a bound contract function, with no gas estimation yet."""
        return {"to": fn.address, "data": fn._encode_transaction_data(), "value": value}  # type: ignore[typeddict-item]

    def wait(self, tx_hash: HexBytes, *, check: bool = True, attempts: int = 4) -> TxReceipt:
        """Wait for the receipt of ``tx_hash``; raise on revert when ``check``.

        Polling is a read, so connection errors are retried (up to ``attempts`` in a row) within
        the same overall timeout.
        """
        deadline = time.monotonic() + self.timeout_s
        failures = 0
        while True:
            try:
                receipt = self.web3.eth.wait_for_transaction_receipt(
                    tx_hash, timeout=max(0.1, deadline - time.monotonic()), poll_latency=0.05
                )
                break
            except TimeExhausted as exc:
                raise TransactionTimeoutError(
                    f"no receipt for 0x{tx_hash.hex()} within {self.timeout_s:.0f}s; it may still be "
                    "mined: look it up before sending again"
                ) from exc
            except _TRANSIENT as exc:
                failures += 1
                if failures >= attempts or time.monotonic() >= deadline:
                    raise ChainUnavailableError(
                        f"lost the chain while waiting for 0x{tx_hash.hex()} ({exc}, {failures} "
                        "attempts); is the chain running? The transaction may still be mined"
                    ) from exc
                log.debug("receipt poll for 0x%s failed (%s); retrying", tx_hash.hex(), exc)
                time.sleep(0.2 * failures)
        if check and receipt["status"] != 1:
            raise self._explain_failure(tx_hash, receipt)
        return receipt

    def transact(self, tx: TxParams) -> TxReceipt:
        """Build, sign once, send, and wait for one transaction. Signing and sending hold the
        account's send lock, at the pending nonce read afresh (another sender, or another tool, may
        have used the key since); the wait does not."""
        built = self.build(tx)
        with self._book.lock:
            self.resync()
            raw, tx_hash = self.sign(built)
            self.send_raw(raw, tx_hash)
        log.debug("sent %s nonce-based tx 0x%s", self.address, tx_hash.hex())
        return self.wait(tx_hash)

    def transact_many(self, txs: Iterable[TxParams]) -> list[HexBytes]:
        """Sign and send many transactions, waiting only for the last; returns their hashes.

        Every receipt is then checked; a failure raises naming the first failed transaction.
        """
        hashes: list[HexBytes] = []
        with self._book.lock:
            self.resync()
            for tx in txs:
                raw, tx_hash = self.sign(tx)
                self.send_raw(raw, tx_hash)
                hashes.append(tx_hash)
        for tx_hash in hashes:
            self.wait(tx_hash)
        return hashes

    def deploy(self, abi: list[dict[str, Any]], bytecode: str, *args: Any) -> tuple[str, TxReceipt]:
        """Deploy a contract; returns (checksummed address, receipt)."""
        contract = self.web3.eth.contract(abi=abi, bytecode=bytecode)
        tx = contract.constructor(*args).build_transaction({"from": self.account.address,
                                                            "chainId": self.chain_id,
                                                            "gas": 1, "nonce": 0})
        tx.pop("gas", None)
        tx.pop("nonce", None)
        self.decoder.add(abi)
        receipt = self.transact(tx)
        address = receipt["contractAddress"]
        if address is None:
            raise TransactionError("deployment receipt has no contract address")
        return to_checksum_address(address), receipt

    # -- failures ------------------------------------------------------------------------------

    def _reverted(self, exc: Exception, tx_hash: HexBytes | None) -> TransactionRevertedError:
        data = revert_data(exc)
        decoded = self.decoder.decode(data)
        reason = self.decoder.describe(data) if data else str(exc)
        where = f" (tx 0x{tx_hash.hex()})" if tx_hash is not None else ""
        return TransactionRevertedError(
            f"reverted: {reason}{where}",
            tx_hash=f"0x{tx_hash.hex()}" if tx_hash is not None else None,
            error_name=decoded[0] if decoded else None,
            error_args=decoded[1] if decoded else (),
            revert_data=data,
        )

    def _explain_failure(self, tx_hash: HexBytes, receipt: TxReceipt) -> TransactionRevertedError:
        """Replay a failed transaction as a call at its block to learn the revert reason."""
        tx = self.web3.eth.get_transaction(tx_hash)
        call: dict[str, Any] = {"from": tx["from"], "to": tx.get("to"), "data": tx["input"],
                                "value": tx["value"], "gas": tx["gas"]}
        try:
            self.web3.eth.call(call, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
        except (ContractLogicError, ContractCustomError) as exc:
            return self._reverted(exc, tx_hash)
        return TransactionRevertedError(
            f"transaction 0x{tx_hash.hex()} failed (status 0, gas used {receipt['gasUsed']}) "
            "with no reason on replay",
            tx_hash=f"0x{tx_hash.hex()}",
        )
