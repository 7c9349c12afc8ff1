"""A minimal wallet: holds one key locally, signs and sends the unsigned transactions the API
returns (so the platform never holds user keys), and signs messages (SIWE, typed data).

Stands in for a browser wallet in tests and behind ``chainright wallet``. The keystore is the
standard encrypted JSON (scrypt + AES-128-CTR) that geth and MetaMask import.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from chain.errors import ChainError
from chain.reverts import ErrorDecoder
from chain.tx import TxSender


class WalletError(ChainError):
    """Raised when the keystore is missing, unreadable or the passphrase is wrong."""


class Wallet:
    def __init__(self, account: LocalAccount) -> None:
        self.account = account

    @property
    def address(self) -> str:
        return str(self.account.address)

    @classmethod
    def create(cls) -> Wallet:
        return cls(Account.create())

    @classmethod
    def from_key(cls, key: str) -> Wallet:
        try:
            return cls(Account.from_key(key))
        except (ValueError, TypeError) as exc:
            raise WalletError(f"not a valid private key ({type(exc).__name__})") from None

    @classmethod
    def load(cls, path: Path, passphrase: str) -> Wallet:
        try:
            keystore = json.loads(path.read_text())
        except FileNotFoundError:
            raise WalletError(f"no wallet at {path}; create one with 'chainright wallet new'") from None
        except ValueError:
            raise WalletError(f"{path} is not a keystore file") from None
        try:
            return cls(Account.from_key(Account.decrypt(keystore, passphrase)))
        except ValueError:
            raise WalletError(f"wrong passphrase for {path}") from None

    @staticmethod
    def address_at(path: Path) -> str:
        """The address of the keystore at ``path``, read without its passphrase (a keystore states
        its address in the clear; nothing is decrypted)."""
        try:
            keystore = json.loads(path.read_text())
            return str(Web3.to_checksum_address("0x" + str(keystore["address"]).removeprefix("0x")))
        except FileNotFoundError:
            raise WalletError(f"no wallet at {path}; create one with 'chainright wallet new'") from None
        except (ValueError, KeyError, TypeError):
            raise WalletError(f"{path} is not a keystore file with an address") from None

    def save(self, path: Path, passphrase: str) -> None:
        if path.exists():
            raise WalletError(f"{path} exists; refusing to overwrite a wallet")
        path.parent.mkdir(parents=True, exist_ok=True)
        keystore = Account.encrypt(self.account.key, passphrase)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(keystore, fh)

    def sign_text(self, text: str) -> str:
        """personal_sign (EIP-191) of ``text``; 0x-prefixed hex."""
        signature = self.account.sign_message(encode_defunct(text=text)).signature
        return "0x" + bytes(signature).hex()

    def send(self, web3: Web3, unsigned: Mapping[str, Any], decoder: ErrorDecoder | None = None) -> TxReceipt:
        """Sign and send an unsigned transaction from the API (to, data, value, chain_id)."""
        if Web3.to_checksum_address(str(unsigned.get("from", self.address))) != self.address:
            raise WalletError(f"this transaction is for {unsigned.get('from')}, not this wallet "
                              f"({self.address})")
        chain_id = int(unsigned.get("chain_id") or unsigned.get("chainId") or 0)
        sender = TxSender(web3, self.account, decoder=decoder)
        if chain_id and sender.chain_id != chain_id:
            raise WalletError(f"the transaction is for chain {chain_id}, the wallet is connected to "
                              f"chain {sender.chain_id}")
        value = unsigned.get("value", 0)
        tx: dict[str, Any] = {"to": Web3.to_checksum_address(str(unsigned["to"])), "data": unsigned["data"],
                              "value": int(value, 16) if isinstance(value, str) else int(value)}
        return sender.transact(tx)  # type: ignore[arg-type]
