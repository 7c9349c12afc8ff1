"""Development role grants: which anvil account holds the platform's officer roles (``up`` and ``demo``).

``chainright up`` in development, with no ``CHAINRIGHT_API_ROLE_GRANTS`` set, gives these roles so
that a newcomer (and ``chainright demo``) can approve KYC applications on a plain ``make up``; the
demo gives the same grants to a platform it starts itself. Both import this table; neither imports
the other.
"""

from __future__ import annotations

OFFICER_INDEX = 6
"""The anvil development account (``chain.devaccounts.dev_account``) that acts as the KYC officer."""

OFFICER_ROLES = ("kyc_officer", "risk", "operator", "admin")
"""It approves KYC, sets a collection's circuit-breaker policy (risk), pauses and unpauses the contract
families (operator) and grants API roles to others (admin)."""

TREASURY_INDEX = 0
"""The development treasury: the deploy plan makes the deployer (account #0) the marketplace's treasury."""


def officer_grants(chain_id: int = 31337) -> dict[str, list[str]]:
    """The grants ``CHAINRIGHT_API_ROLE_GRANTS`` takes (as JSON): the officer's did:pkh on ``chain_id``
    -> its roles."""
    from chain.devaccounts import dev_account

    return {f"did:pkh:eip155:{chain_id}:{dev_account(OFFICER_INDEX).address}": list(OFFICER_ROLES),
            f"did:pkh:eip155:{chain_id}:{dev_account(TREASURY_INDEX).address}": ["treasury"]}
