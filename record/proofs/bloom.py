"""The 2048-bit logs bloom of a receipt or a block header (yellow paper, section 4.3.1).

Each log adds its emitter's address and each of its topics: keccak256 of the item, and of the
hash the low 11 bits of its first three byte pairs, set three of the 2048 bits. A bloom that
lacks one of those bits proves that no log in the block holds the item; a bloom that has all
three only says it may (false positives grow with the block's logs).
"""

from __future__ import annotations

from eth_hash.auto import keccak

BLOOM_BYTES = 256


def bloom_bits(item: bytes) -> tuple[int, int, int]:
    """The three bit positions (0 = least significant) ``item`` sets in a bloom."""
    digest = keccak(item)
    a, b, c = ((digest[i] << 8 | digest[i + 1]) & 2047 for i in (0, 2, 4))
    return a, b, c


def bloom_may_contain(bloom: bytes, item: bytes) -> bool:
    """False when ``bloom`` proves that no log added ``item`` (an address or a 32-byte topic)."""
    if len(bloom) != BLOOM_BYTES:
        raise ValueError(f"a logs bloom has {BLOOM_BYTES} bytes, not {len(bloom)}")
    value = int.from_bytes(bloom, "big")
    return all(value >> bit & 1 for bit in bloom_bits(item))
