"""Anvil's development accounts (mnemonic "test test ... junk"): public keys for local chains only."""

from __future__ import annotations

from functools import lru_cache

from eth_account import Account
from eth_account.signers.local import LocalAccount

DEV_MNEMONIC = "test test test test test test test test test test test junk"


@lru_cache(maxsize=64)
def dev_account(index: int) -> LocalAccount:
    """Development account ``index`` (0 is the default deployer); funded on every local anvil."""
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return account
