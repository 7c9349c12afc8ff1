"""The price circuit breaker's pure core: ``decide(state, price, policy, now, ...) -> Decision``.

Per collection (and currency): the reference price is the median of the last N fills between two
different wallets, the newest only of several between the same two (``priced``), or the
operator-set price when there are none; orders outside reference +/-
band are refused with the band in the answer. Trading halts for a cooldown when

- refusals that *count* reach K within a window and come from at least D distinct accounts. A
  refusal counts only if its order could execute (a listing from the holder, an offer the bidder's
  ERC-20 balance and allowance cover: the caller reads that on chain and says so), only while the
  collection is not halted and only after the last halt or lift, and each account contributes at
  most ``max_refusals_per_account`` of them: one wallet alone cannot halt a collection;
- or fills moving the price more than Y% against the fills of the window before them come from at
  least D distinct accounts (buyers and sellers together); a fill whose buyer is its seller is
  ignored (it moves neither the reference nor the breaker), and the fills between two wallets
  weigh as one.

Every decision carries its reason; the API records it and pushes halts to the marketplace contract
so the chain enforces them too.
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
    buyer: str | None = None
    seller: str | None = None

    @property
    def counts(self) -> bool:
        """A wallet trading with itself says nothing about the price."""
        return self.buyer is None or self.seller is None or self.buyer.lower() != self.seller.lower()

    def accounts(self) -> set[str]:
        return {a.lower() for a in (self.buyer, self.seller) if a is not None}

    def pair(self) -> frozenset[str] | None:
        return frozenset(self.accounts()) if self.buyer is not None and self.seller is not None else None


def priced(trades: Sequence[Trade]) -> list[Trade]:
    """The fills that say something about the price, oldest first: no wallet's fill with itself, and
    of the fills between the same two wallets (either way round) only the newest, so two wallets
    trading back and forth weigh as one fill."""
    seen: set[frozenset[str]] = set()
    kept: list[Trade] = []
    for t in reversed(trades):
        if not t.counts:
            continue
        pair = t.pair()
        if pair is not None:
            if pair in seen:
                continue
            seen.add(pair)
        kept.append(t)
    kept.reverse()
    return kept


@dataclass(frozen=True)
class Refusal:
    """An earlier refused order that counted toward a halt."""

    at: datetime
    account: str


@dataclass(frozen=True)
class BreakerPolicy:
    reference_fills: int = 20
    """N: the reference price is the median of the last N fills."""
    operator_reference: int | None = None
    """Used when there are no fills yet; with neither, every price is accepted."""
    band_bps: int = 2_000
    """X: orders must lie within reference +/- X (basis points)."""
    move_bps: int = 3_000
    """Y: fills moving the price more than this within ``move_window`` halt trading."""
    move_window: timedelta = timedelta(minutes=10)
    max_rejections: int = 5
    """K: this many counting refusals within ``rejection_window`` halt trading."""
    rejection_window: timedelta = timedelta(minutes=5)
    cooldown: timedelta = timedelta(minutes=15)
    """T: how long a halt lasts."""
    min_distinct_accounts: int = 3
    """D: a halt (by refusals or by fills) needs this many distinct accounts behind it."""
    max_refusals_per_account: int = 1
    """At most this many of one account's refusals count within ``rejection_window``."""

    def __post_init__(self) -> None:
        if not 0 < self.band_bps < BPS or not 0 < self.move_bps:
            raise ValueError("band_bps must be in (0, 10000) and move_bps positive")
        if self.reference_fills < 1 or self.max_rejections < 1:
            raise ValueError("reference_fills and max_rejections must be at least 1")
        if self.min_distinct_accounts < 1 or self.max_refusals_per_account < 1:
            raise ValueError("min_distinct_accounts and max_refusals_per_account must be at least 1")


@dataclass(frozen=True)
class BreakerState:
    trades: Sequence[Trade] = field(default_factory=tuple)
    """Fills, oldest first."""
    rejections: Sequence[Refusal] = field(default_factory=tuple)
    """Earlier refusals that counted (the caller may pass more: the window is applied here)."""
    halted_until: datetime | None = None
    counted_since: datetime | None = None
    """When the last halt began or was lifted: refusals up to then count toward no new halt."""


@dataclass(frozen=True)
class Decision:
    action: Literal["accept", "reject", "halt"]
    reason: str
    reference: int | None = None
    low: int | None = None
    high: int | None = None
    halt_until: datetime | None = None
    counts: bool = False
    """For a refusal: whether it counts toward a halt (the caller records it)."""


def reference_price(trades: Sequence[Trade], policy: BreakerPolicy) -> int | None:
    recent = [t.price for t in priced(trades)[-policy.reference_fills:]]
    if recent:
        return int(median_low(recent))
    return policy.operator_reference


def band(reference: int, policy: BreakerPolicy) -> tuple[int, int]:
    return (reference * (BPS - policy.band_bps) // BPS,
            -(-reference * (BPS + policy.band_bps) // BPS))


def decide(state: BreakerState, price: int, policy: BreakerPolicy, now: datetime, *,
           account: str, executable: bool) -> Decision:
    """Whether an order at ``price`` by ``account`` may be placed now; ``executable``: whether the
    order could fill as signed (the holder's listing, a funded and approved offer)."""
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
    refused = (f"price {price} is outside the band [{low}, {high}] around the reference {ref}")
    if not executable:
        return Decision("reject", f"{refused} (not counted toward a halt: the order could not execute)",
                        ref, low, high)
    me = account.lower()
    per_account: dict[str, int] = {}
    for r in state.rejections:
        after_last_halt = state.counted_since is None or r.at > state.counted_since
        if now - r.at <= policy.rejection_window and after_last_halt:
            per_account[r.account.lower()] = per_account.get(r.account.lower(), 0) + 1
    if per_account.get(me, 0) >= policy.max_refusals_per_account:
        return Decision("reject", f"{refused} (not counted toward a halt: this account's "
                        f"{policy.max_refusals_per_account} within {_fmt(policy.rejection_window)} "
                        "already count)", ref, low, high)
    per_account[me] = per_account.get(me, 0) + 1
    counted = sum(min(n, policy.max_refusals_per_account) for n in per_account.values())
    if counted >= policy.max_rejections and len(per_account) >= policy.min_distinct_accounts:
        until = now + policy.cooldown
        return Decision("halt", f"{counted} orders outside the band from {len(per_account)} accounts "
                        f"within {_fmt(policy.rejection_window)}: halted for {_fmt(policy.cooldown)}",
                        ref, low, high, until, counts=True)
    return Decision("reject", refused, ref, low, high, counts=True)


def after_fill(state: BreakerState, fill: Trade, policy: BreakerPolicy) -> Decision:
    """Whether a fill that just happened moved the price so far that trading must halt.

    The fill is compared with the median of the fills inside ``move_window`` before it (or the
    reference price when there were none). It halts only when the fills of the window that moved
    the price that far the same way (this one included) involve ``min_distinct_accounts``
    distinct buyers and sellers. Fills of a wallet with itself are ignored throughout.
    """
    if not fill.counts:
        return Decision("accept", "the buyer is the seller: the fill is ignored")
    before = [t for t in priced(state.trades) if fill.at - policy.move_window <= t.at <= fill.at
              and t.pair() != fill.pair()]
    window = [t.price for t in before]
    base = int(median_low(window)) if window else reference_price(state.trades, policy)
    if base is None or base == 0:
        return Decision("accept", "no earlier price to compare with")
    move = abs(fill.price - base) * BPS // base
    if move <= policy.move_bps:
        return Decision("accept", f"the fill moved the price {move / 100:.1f}%", base)
    up = fill.price > base
    accounts = set(fill.accounts())
    for t in before:
        if (t.price > base) == up and abs(t.price - base) * BPS // base > policy.move_bps:
            accounts |= t.accounts()
    moved = (f"a fill at {fill.price} moved the price {move / 100:.1f}% from {base} within "
             f"{_fmt(policy.move_window)}")
    if len(accounts) < policy.min_distinct_accounts:
        return Decision("accept", f"{moved}, but such fills involve only {len(accounts)} accounts "
                        f"(a halt needs {policy.min_distinct_accounts})", base)
    until = fill.at + policy.cooldown
    return Decision("halt", f"{moved} by {len(accounts)} accounts: halted for {_fmt(policy.cooldown)}",
                    base, halt_until=until)


def _fmt(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes else f"{int(delta.total_seconds())} s"
