"""Development ETH for a new wallet: sent from an anvil development account, on local development
chains only (``chainright wallet fund``).

``funding_refusal`` is the whole policy, pure and table-tested: the local anvils (31337, 31338) or
the local consortium network, and never in the production environment.
"""

from __future__ import annotations

from typing import Any

from chain.devaccounts import dev_account

# anvil's last default account: funded on every anvil and in the consortium's genesis; no platform role
FAUCET_INDEX = 9
DEV_CHAIN_IDS = (31337, 31338)


def funding_refusal(environment: str, chain_id: int, consortium_chain_id: int | None) -> str | None:
    """Why development funding is refused on chain ``chain_id`` (as the node reports it), or None."""
    if environment not in ("development", "test"):
        return (f"the platform runs in the {environment} environment (CHAINRIGHT_CHAIN_ENVIRONMENT); "
                "development ETH exists only in development")
    if chain_id in DEV_CHAIN_IDS:
        return None
    if consortium_chain_id is not None and chain_id == consortium_chain_id:
        if environment == "development":
            return None
        return (f"chain {chain_id} is the consortium network, which hands out development ETH only with "
                "CHAINRIGHT_CHAIN_ENVIRONMENT=development")
    return (f"chain {chain_id} is not a local development chain (anvil 31337/31338 or the local consortium "
            f"network{f' {consortium_chain_id}' if consortium_chain_id else ''})")


def fund(web3: Any, address: str, wei: int) -> Any:
    """Send ``wei`` from the faucet account; returns the receipt."""
    from web3.types import Wei

    from chain.tx import TxSender

    return TxSender(web3, dev_account(FAUCET_INDEX)).transact({"to": address, "value": Wei(wei)})
