"""Pure decisions of the indexer (no I/O): what to scan next, and where to rewind after a reorg."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class BlockRange:
    start: int
    end: int
    """Inclusive."""

    def __len__(self) -> int:
        return self.end - self.start + 1


def plan_range(head: int, confirmations: int, next_block: int, batch: int) -> BlockRange | None:
    """The next range to index: from ``next_block`` up to the last final block
    (``head - confirmations``), at most ``batch`` blocks; None when nothing is final yet."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    final = head - confirmations
    if next_block > final:
        return None
    return BlockRange(next_block, min(final, next_block + batch - 1))


def rewind_point(stored: Mapping[int, str], on_chain: Mapping[int, str | None],
                 floor: int) -> int | None:
    """Where to restart after comparing stored block hashes with the chain's.

    ``stored`` maps block numbers we indexed to the hash we saw; ``on_chain`` maps the same
    numbers to the chain's hash now (None: the block no longer exists). Returns None when every
    stored hash still matches; otherwise the block after the highest block that still matches
    (or ``floor`` when none does): everything from there on must be indexed again.
    """
    diverged = [n for n, h in stored.items() if on_chain.get(n) != h]
    if not diverged:
        return None
    first_bad = min(diverged)
    good = [n for n, h in stored.items() if n < first_bad and on_chain.get(n) == h]
    return max(good) + 1 if good else floor
