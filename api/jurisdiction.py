"""A collection's jurisdiction profile, pushed to the chain's TransferPolicy.

The profile (``secondary_sales``, ``gift_holding_s``, ``identity_required`` of a collection policy)
is enforced by the collection itself: once the TransferPolicy holds rules for it, the collection asks
the policy on every mint and transfer (contracts/compliance/TransferPolicy.sol), so a buyer who fills
a holder's listing directly on the marketplace, or a holder who transfers straight away, is refused
on chain. The API's own checks (market.py) stay as early, readable refusals.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

from api.errors import ServiceUnavailableError, UnprocessableError

log = logging.getLogger(__name__)

MAX_HOLDING_S = 2**32 - 1
"""The policy keeps holding periods in 32 bits (136 years)."""


@dataclass(frozen=True)
class Rules:
    """ITransferPolicy.Rules as the contract takes them."""

    active: bool
    no_resale: bool
    verified_only: bool
    holding_period: int

    def as_tuple(self) -> tuple[bool, bool, bool, int]:
        return (self.active, self.no_resale, self.verified_only, self.holding_period)


def rules_for(secondary_sales: bool, gift_holding_s: int, identity_required: bool) -> Rules:
    """The on-chain rules of a profile (inactive when it asks nothing: the collection stays free)."""
    if gift_holding_s > MAX_HOLDING_S:
        raise UnprocessableError(f"gift_holding_s is at most {MAX_HOLDING_S} seconds")
    no_resale = not secondary_sales
    return Rules(no_resale or gift_holding_s > 0 or identity_required, no_resale, identity_required,
                 gift_holding_s)


def push_jurisdiction(gateway: Any, chain_id: int, collection: str, secondary_sales: bool,
                      gift_holding_s: int, identity_required: bool) -> str | None:
    """Set ``collection``'s rules on the TransferPolicy (operator key, POLICY_ADMIN_ROLE) unless the
    chain already holds them and the policy is attached; returns the transaction hash, or None."""
    from eth_account import Account

    from chain.tx import TxSender

    wanted = rules_for(secondary_sales, gift_holding_s, identity_required)
    try:
        policy = gateway.contract(chain_id, "TransferPolicy")
    except ServiceUnavailableError:
        if not wanted.active:
            return None  # an older deployment without the policy: nothing asked, nothing to push
        raise ServiceUnavailableError(
            f"chain {chain_id} has no TransferPolicy deployed, so this jurisdiction profile could not "
            "be enforced on chain: deploy it (chainright deploy) and set the policy again") from None
    current = tuple(policy.functions.rulesOf(collection).call())
    if not current[0] and not wanted.active:
        return None  # no rules wanted, none held: the collection moves freely
    try:
        host = gateway.contract(chain_id, "CreatorCollection", collection)
        attached = Web3.to_checksum_address(host.functions.transferPolicy().call())
    except (ContractLogicError, BadFunctionCallOutput, ValueError):
        raise UnprocessableError(
            f"{collection} is not a platform collection that consults the transfer policy, so its "
            "jurisdiction profile could not be enforced on chain") from None
    if current == wanted.as_tuple() and (attached == policy.address) == wanted.active:
        return None
    gateway.require_progress(chain_id)
    operator = Account.from_key(gateway.settings.deployer_key.get_secret_value())
    sender = TxSender(gateway.web3(chain_id), operator)
    receipt = sender.transact(sender.call_tx(policy.functions.setRules(collection, wanted.as_tuple())))
    log.info("jurisdiction rules of %s on chain %d set to %s", collection, chain_id, wanted)
    return "0x" + bytes(receipt["transactionHash"]).hex()
