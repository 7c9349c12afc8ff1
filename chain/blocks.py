"""Block ranges and finality, pure: which blocks are final and the next range to read."""

from __future__ import annotations

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


__all__ = ["BlockRange", "plan_range"]
