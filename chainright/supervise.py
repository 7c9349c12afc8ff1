"""What ``chainright up`` does when one of its children dies: the pure supervision policy.

``decide(child, exits, now, policy) -> Decision`` has no I/O; ``chainright.supervisor`` polls the
children, records exit times and carries the decision out (the effects at the edge).

- a running child: keep running;
- a dead child whose kind cannot be restarted safely (the IPFS node, whose repository lock and ports
  the API depends on): stop the platform;
- a dead restartable child (a chain, restarted from its saved state; the API, the indexer, a bridge
  validator, the submitter): restart after an exponential backoff (``base * 2**(n-1)`` seconds for its
  n-th exit within ``window_s``, at most ``max_backoff_s``);
- a child that died more than ``max_restarts`` times within ``window_s`` (crash loop, or a chain whose
  restarts keep failing): give up and stop the platform, with a message saying why.

The status file (``<data_dir>/run/supervisor.json``) written by the supervisor is what ``/health``
reads to report children that are restarting or gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from chain.backoff import exponential_backoff

ChildKind = Literal["chain", "api", "indexer", "validator", "submitter", "ipfs"]

RESTARTABLE: frozenset[str] = frozenset({"chain", "api", "indexer", "validator", "submitter"})
"""Kinds that come back safely: a chain from its saved state, the workers from their checkpoints."""


@dataclass(frozen=True)
class RestartPolicy:
    base_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    max_restarts: int = 5
    """Restarts allowed within ``window_s``; one more exit gives up."""
    window_s: float = 300.0


@dataclass(frozen=True)
class Child:
    name: str
    kind: ChildKind
    running: bool
    exit_code: int | None = None


@dataclass(frozen=True)
class KeepRunning:
    pass


@dataclass(frozen=True)
class RestartAfter:
    delay_s: float
    attempt: int
    """1 for the first restart within the window."""


@dataclass(frozen=True)
class StopPlatform:
    reason: str


Decision = KeepRunning | RestartAfter | StopPlatform


def decide(child: Child, exits: Sequence[float], now: float,
           policy: RestartPolicy = RestartPolicy()) -> Decision:
    """The policy. ``exits`` are the times this child died (or failed to restart), this exit included."""
    if child.running:
        return KeepRunning()
    code = "" if child.exit_code is None else f" (exit code {child.exit_code})"
    if child.kind not in RESTARTABLE:
        return StopPlatform(f"{child.name} stopped{code} and is not restarted automatically "
                            f"(a {child.kind} child cannot be restarted safely)")
    recent = sum(1 for t in exits if 0 <= now - t <= policy.window_s)
    if recent > policy.max_restarts:
        what = ("the chain cannot come back from its saved state" if child.kind == "chain"
                else "it keeps crashing")
        return StopPlatform(f"{child.name} stopped{code} {recent} times within {policy.window_s:.0f}s: "
                            f"{what}; giving up")
    attempt = max(recent, 1)
    delay = exponential_backoff(attempt, base_s=policy.base_backoff_s, max_s=policy.max_backoff_s)
    return RestartAfter(delay_s=delay, attempt=attempt)
