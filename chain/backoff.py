"""Exponential backoff, pure: how long to wait before the n-th retry (the supervisor and the relayer)."""

from __future__ import annotations

__all__ = ["exponential_backoff"]


def exponential_backoff(attempt: int, *, base_s: float, max_s: float) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first): ``base_s * 2**(attempt-1)``,
    at most ``max_s``. An attempt below 1 counts as the first; a huge one is simply ``max_s``."""
    exponent = max(1, attempt) - 1
    try:
        wait = base_s * 2.0**exponent
    except OverflowError:  # 2.0**1024 and beyond: far past any cap
        return max_s
    return min(max_s, wait)
