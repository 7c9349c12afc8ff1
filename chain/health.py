"""Is a chain still making blocks? A typed answer the relayer, indexer and API can act on.

The decision is pure (``assess``: a head, the clock and the allowed age give progress or a
``Stall``; ``track``: the previous stall and the new assessment give the change to report) and
table-tested; the effects sit at the edges: ``read_head`` reads the node, ``check_progress`` raises
``ChainStalledError``, and ``StallWatch`` keeps one chain's state between checks and reports each
change once (a stall: the chain, its last block and since when; a recovery: the block it resumed
at and how long it was down).

A head older than ``max_block_age_s`` means the chain stalled (a Clique network that lost more
than half of its signers, a node cut off from its peers, an anvil that was stopped...). A chain
that only makes blocks on demand (anvil's automine) has no block age to watch: its settings leave
``max_block_age_s`` unset and nothing watches it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from web3 import Web3

from chain.errors import ChainUnavailableError
from chain.tx import retry_read

log = logging.getLogger(__name__)

WAITING = "waiting for blocks (nothing is lost: work resumes from the last block when the validators return)"


@dataclass(frozen=True)
class Head:
    """The newest block a node knows."""

    chain_id: int
    number: int
    hash: str
    timestamp: int


@dataclass(frozen=True)
class ChainProgress:
    """The head of a chain that is making progress."""

    chain_id: int
    block_number: int
    block_hash: str
    age_s: float
    """Seconds since the head block's timestamp (never negative)."""


def _utc(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Stall:
    """A chain whose head is older than allowed: no new blocks are coming."""

    chain_id: int
    block_number: int
    block_hash: str
    since: float
    """Unix time of the last block (the chain has made none since)."""
    age_s: float
    max_block_age_s: float

    @property
    def since_utc(self) -> str:
        return _utc(self.since)

    def describe(self) -> str:
        """One line naming the chain, its last block and since when (for logs, status and errors)."""
        return (f"chain {self.chain_id} stalled: no block since block {self.block_number} "
                f"({self.block_hash}) at {self.since_utc}, {self.age_s:.1f}s ago "
                f"(more than the {self.max_block_age_s:g}s allowed)")


Assessment = ChainProgress | Stall


def assess(head: Head, now: float, max_block_age_s: float) -> Assessment:
    """Progress, or a ``Stall`` when the head is older than ``max_block_age_s`` (pure)."""
    if max_block_age_s <= 0:
        raise ValueError("max_block_age_s must be positive")
    age = max(0.0, now - head.timestamp)
    if age > max_block_age_s:
        return Stall(chain_id=head.chain_id, block_number=head.number, block_hash=head.hash,
                     since=float(head.timestamp), age_s=age, max_block_age_s=max_block_age_s)
    return ChainProgress(chain_id=head.chain_id, block_number=head.number, block_hash=head.hash, age_s=age)


@dataclass(frozen=True)
class HealthChange:
    """What changed between two checks of one chain."""

    kind: Literal["stalled", "resumed"]
    stall: Stall
    """The stall that began (``stalled``) or ended (``resumed``)."""
    resumed_at: int | None = None
    """The head block when the chain resumed."""
    down_s: float | None = None
    """Seconds between the last block before the stall and the check that saw it resume."""

    def describe(self) -> str:
        if self.kind == "stalled":
            return self.stall.describe()
        return (f"chain {self.stall.chain_id} resumed: block {self.resumed_at} after block "
                f"{self.stall.block_number}; {self.down_s:.1f}s without a new block")


def track(previous: Stall | None, current: Assessment,
          now: float) -> tuple[Stall | None, HealthChange | None]:
    """The stall to remember and the change to report, given the last one and a new assessment (pure).

    A stall is reported once when it begins; while it lasts, its ``since`` stays that of the first
    stalled head, even if a lone signer adds a block that is itself too old to count as progress.
    """
    if isinstance(current, Stall):
        if previous is None:
            return current, HealthChange("stalled", current)
        if previous.chain_id == current.chain_id:
            kept = Stall(chain_id=current.chain_id, block_number=current.block_number,
                         block_hash=current.block_hash, since=min(previous.since, current.since),
                         age_s=max(0.0, now - min(previous.since, current.since)),
                         max_block_age_s=current.max_block_age_s)
            return kept, None
        return current, HealthChange("stalled", current)
    if previous is None:
        return None, None
    return None, HealthChange("resumed", previous, resumed_at=current.block_number,
                              down_s=max(0.0, now - previous.since))


class ChainStalledError(ChainUnavailableError):
    """Raised when the head block of a chain is older than allowed: no new blocks are coming."""

    def __init__(self, message: str, *, chain_id: int, block_number: int, block_hash: str,
                 age_s: float, since: float | None = None) -> None:
        super().__init__(message)
        self.chain_id = chain_id
        self.block_number = block_number
        self.block_hash = block_hash
        self.age_s = age_s
        self.since = since

    @classmethod
    def of(cls, stall: Stall) -> ChainStalledError:
        return cls(
            f"chain {stall.chain_id} stalled: its last block {stall.block_number} ({stall.block_hash}) "
            f"is {stall.age_s:.1f}s old (made at {stall.since_utc}), more than the "
            f"{stall.max_block_age_s:g}s allowed; check that enough of its validators run and are "
            "peered (a Clique network needs more than half of its signers)",
            chain_id=stall.chain_id, block_number=stall.block_number, block_hash=stall.block_hash,
            age_s=stall.age_s, since=stall.since,
        )


def read_head(web3: Web3) -> Head:
    """The node's chain id and head block. Raises ChainUnavailableError when it does not answer."""
    chain_id = retry_read(lambda: web3.eth.chain_id, what="eth_chainId")
    block = retry_read(lambda: web3.eth.get_block("latest"), what="eth_getBlockByNumber")
    return Head(chain_id=int(chain_id), number=int(block["number"]),
                hash="0x" + bytes(block["hash"]).hex(), timestamp=int(block["timestamp"]))


def check_progress(web3: Web3, max_block_age_s: float, *, now: float | None = None) -> ChainProgress:
    """The chain's head, or ``ChainStalledError`` when it is older than ``max_block_age_s``.

    Raises ChainUnavailableError when the node does not answer at all (which is a different
    failure: the endpoint is gone, not the chain).
    """
    if max_block_age_s <= 0:
        raise ValueError("max_block_age_s must be positive")
    result = assess(read_head(web3), time.time() if now is None else now, max_block_age_s)
    if isinstance(result, Stall):
        raise ChainStalledError.of(result)
    return result


class StallWatch:
    """Watches one chain: ``check()`` returns the current stall (or None) and reports each change once.

    Reads at most every ``min_interval_s`` (the API checks on every write request); a node that does
    not answer raises ChainUnavailableError and leaves the state as it was. Changes go to ``report``
    when given (the relayer's and indexer's own log lines), else to this module's logger.
    """

    def __init__(self, web3: Web3, max_block_age_s: float, *, tag: str,
                 report: Callable[[HealthChange], None] | None = None, min_interval_s: float = 0.0,
                 clock: Callable[[], float] = time.time) -> None:
        if max_block_age_s <= 0:
            raise ValueError("max_block_age_s must be positive")
        self.web3 = web3
        self.max_block_age_s = max_block_age_s
        self.tag = tag
        self.report = report
        self.min_interval_s = min_interval_s
        self.clock = clock
        self.stall: Stall | None = None
        self.last: Assessment | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()  # the API checks from its thread pool

    def check(self) -> Stall | None:
        with self._lock:
            now = self.clock()
            if now - self._checked_at < self.min_interval_s:
                return self.stall
            current = assess(read_head(self.web3), now, self.max_block_age_s)
            self._checked_at, self.last = now, current
            self.stall, change = track(self.stall, current, now)
            if change is not None:
                (self.report or self._log)(change)
            return self.stall

    def _log(self, change: HealthChange) -> None:
        if change.kind == "stalled":
            log.warning("%s %s; %s", self.tag, change.describe(), WAITING)
        else:
            log.info("%s %s", self.tag, change.describe())
