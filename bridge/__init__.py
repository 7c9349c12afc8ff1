"""Chainright's bridge: the lock-mint-burn relayer with M-of-N validator attestations.

Uses ``chain``; nothing here yet beyond the package (see bridge/README.md).
"""

__all__: list[str] = []
