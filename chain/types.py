"""Domain value types shared by the platform (NewTypes: no runtime cost, checked by mypy)."""

from __future__ import annotations

from typing import NewType

ChainId = NewType("ChainId", int)
TokenId = NewType("TokenId", int)
Wei = NewType("Wei", int)
Address = NewType("Address", str)
"""A checksummed 0x-prefixed 20-byte address."""
TxHash = NewType("TxHash", str)
"""A 0x-prefixed 32-byte transaction hash."""
