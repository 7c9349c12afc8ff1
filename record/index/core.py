"""Pure decisions of the indexer (no I/O): what to scan next (``chain.blocks.plan_range``), and where
to rewind after a reorg."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


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


@dataclass(frozen=True)
class RangePolicy:
    """How far one ``eth_getLogs`` may reach: between ``min_blocks`` and ``max_blocks``, sized so a
    range brings about ``target_logs`` logs at the density just seen."""

    min_blocks: int = 1
    max_blocks: int = 10_000
    target_logs: int = 5_000

    def __post_init__(self) -> None:
        if not 1 <= self.min_blocks <= self.max_blocks or self.target_logs < 1:
            raise ValueError("need 1 <= min_blocks <= max_blocks and target_logs >= 1")


def next_range_size(current: int, scanned: int, logs: int | None, policy: RangePolicy,
                    refused: int | None = None) -> int:
    """The next range size after a range of ``scanned`` blocks (planned at ``current``) returned
    ``logs`` logs, or was refused (``logs`` None: the node said too many results, or timed out).

    Refused: half the refused range. Answered: the size that would have brought
    ``policy.target_logs`` at that density, at most twice ``current`` (grow step by step when sparse)
    and below ``refused``, the smallest size the node has refused so far (no growing back into a
    refusal). Always within the policy's bounds."""
    if logs is None:
        wanted = min(current, scanned) // 2
    elif logs == 0:
        wanted = 2 * current
    else:
        wanted = min(2 * current, scanned * policy.target_logs // logs)
    if refused is not None:
        wanted = min(wanted, refused - 1)
    return max(policy.min_blocks, min(policy.max_blocks, wanted))
