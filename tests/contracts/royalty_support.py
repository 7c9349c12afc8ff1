"""Helpers shared by the royalty and licensing contract tests."""

from __future__ import annotations

from typing import Any

import ape

ETH = "0x0000000000000000000000000000000000000000"


def ascending(*accounts: Any) -> list[str]:
    """Addresses of ``accounts`` in the ascending order splits require."""
    return sorted((str(getattr(a, "address", a)) for a in accounts), key=lambda a: int(a, 16))


def balance(who: Any) -> int:
    return int(ape.chain.provider.get_balance(str(getattr(who, "address", who))))


def make_splitter(ape_project: Any, factory: Any, recipients: list[str], bps: list[int], salt: bytes,
                  sender: Any) -> Any:
    tx = factory.createSplitter(recipients, bps, salt, sender=sender)
    return ape_project.RoyaltySplitter.at(tx.return_value)
