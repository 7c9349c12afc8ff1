"""EIP-55 checksummed addresses, kept: checksumming hashes the address (keccak), and a hot route
checksums the same few addresses (its caller, the marketplace, a collection) many times."""

from __future__ import annotations

from functools import lru_cache

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

__all__ = ["checksummed"]


@lru_cache(maxsize=1 << 16)
def checksummed(address: str) -> ChecksumAddress:
    """``address`` (any case) in EIP-55 form; raises ValueError when it is not an address."""
    return to_checksum_address(address)
