"""The price circuit breaker's pure core: ``decide(state, price, policy, now) -> Decision``.

Per collection (and currency): the reference price is the median of the last N fills, or the
operator-set price when there are none; orders outside reference +/- band are refused with the
band in the answer; K refusals within a window, or a fill that moves the price more than Y%
against the prices of the window before it, halt trading for a cooldown. Every decision carries
its reason; the API records it and pushes halts to the marketplace contract so the chain
enforces them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median_low
from typing import Literal

BPS = 10_000


@dataclass(frozen=True)
class Trade:
    at: datetime
    price: int
    """Unit price in the currency's smallest unit (wei)."""


@dataclass(frozen=True)
class BreakerPolicy:
    reference_fills: int = 20
    """N: the reference price is the median of the last N fills."""
    operator_reference: int | None = None
    """Used when there are no fills yet; with neither, every price is accepted."""
    band_bps: int = 2_000
    """X: orders must lie within reference +/- X (basis points)."""
    move_bps: int = 3_000
    """Y: a fill moving the price more than this within ``move_window`` halts trading."""
    move_window: timedelta = timedelta(minutes=10)
    max_rejections: int = 5
    """K: this many refused orders within ``rejection_window`` halt trading."""
    rejection_window: timedelta = timedelta(minutes=5)
    cooldown: timedelta = timedelta(minutes=15)
    """T: how long a halt lasts."""

    def __post_init__(self) -> None:
        if not 0 < self.band_bps < BPS or not 0 < self.move_bps:
            raise ValueError("band_bps must be in (0, 10000) and move_bps positive")
        if self.reference_fills < 1 or self.max_rejections < 1:
            raise ValueError("reference_fills and max_rejections must be at least 1")


@dataclass(frozen=True)
class BreakerState:
    trades: Sequence[Trade] = field(default_factory=tuple)
    """Fills, oldest first."""
    rejections: Sequence[datetime] = field(default_factory=tuple)
    halted_until: datetime | None = None


@dataclass(frozen=True)
class Decision:
    action: Literal["accept", "reject", "halt"]
    reason: str
    reference: int | None = None
    low: int | None = None
    high: int | None = None
    halt_until: datetime | None = None


def reference_price(trades: Sequence[Trade], policy: BreakerPolicy) -> int | None:
    recent = [t.price for t in trades[-policy.reference_fills:]]
    if recent:
        return int(median_low(recent))
    return policy.operator_reference


def band(reference: int, policy: BreakerPolicy) -> tuple[int, int]:
    return (reference * (BPS - policy.band_bps) // BPS,
            -(-reference * (BPS + policy.band_bps) // BPS))


def decide(state: BreakerState, price: int, policy: BreakerPolicy, now: datetime) -> Decision:
    """Whether an order at ``price`` may be placed now."""
    if price <= 0:
        return Decision("reject", "price must be positive")
    if state.halted_until is not None and now < state.halted_until:
        return Decision("reject", f"trading is halted until {state.halted_until.isoformat()}",
                        halt_until=state.halted_until)
    ref = reference_price(state.trades, policy)
    if ref is None:
        return Decision("accept", "no reference price yet: no band applies")
    low, high = band(ref, policy)
    if low <= price <= high:
        return Decision("accept", f"within the band [{low}, {high}] around {ref}", ref, low, high)
    recent = sum(1 for r in state.rejections if now - r <= policy.rejection_window) + 1
    if recent >= policy.max_rejections:
        until = now + policy.cooldown
        return Decision("halt", f"{recent} orders outside the band within "
                        f"{_fmt(policy.rejection_window)}: halted for {_fmt(policy.cooldown)}",
                        ref, low, high, until)
    return Decision("reject", f"price {price} is outside the band [{low}, {high}] around the "
                    f"reference {ref}", ref, low, high)


def after_fill(state: BreakerState, fill: Trade, policy: BreakerPolicy) -> Decision:
    """Whether a fill that just happened moved the price so far that trading must halt.

    The fill is compared with the median of the fills inside ``move_window`` before it (or the
    reference price when there were none).
    """
    window = [t.price for t in state.trades if fill.at - policy.move_window <= t.at <= fill.at]
    base = int(median_low(window)) if window else reference_price(state.trades, policy)
    if base is None or base == 0:
        return Decision("accept", "no earlier price to compare with")
    move = abs(fill.price - base) * BPS // base
    if move > policy.move_bps:
        until = fill.at + policy.cooldown
        return Decision("halt", f"a fill at {fill.price} moved the price {move / 100:.1f}% from "
                        f"{base} within {_fmt(policy.move_window)}: halted for "
                        f"{_fmt(policy.cooldown)}", base, halt_until=until)
    return Decision("accept", f"the fill moved the price {move / 100:.1f}%", base)


def _fmt(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes else f"{int(delta.total_seconds())} s"
