"""The indexer's effects: read final blocks over RPC, decode, write rows in one transaction.

Reorg safety: only blocks at least ``confirmations`` deep are read; the hashes of indexed blocks
are remembered for a bounded window and compared with the chain before every step, and on a
mismatch the events from the fork point on are dropped and indexed again; rows are unique by
(chain id, tx hash, log index), so a re-scan never duplicates them.

Which contracts are ours: those in the deployment registry, plus children their factories
announce (``ChildRule``), from the block they appear in.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from web3 import Web3

from chain.blocks import BlockRange, plan_range
from chain.errors import ChainError, ChainUnavailableError
from chain.health import WAITING, HealthChange, Stall, StallWatch
from record.index.core import RangePolicy, next_range_size, rewind_point
from record.index.decoder import DecodedEvent, EventDecoder, checksum
from record.index.rpc import JsonRpc, LogRangeRefusedError
from record.index.store import IndexStore, Lease

log = logging.getLogger(__name__)

LEASE_TTL_S = 60
"""How long an indexer's lease outlives its last step (a crashed indexer blocks a new one this long)."""


class IndexerAlreadyRunningError(ChainError):
    """Raised when another indexer holds this chain's lease in the same database."""


def _utc(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_gone(holder: str) -> bool:
    """True when lease holder ``holder`` (``host:pid:tag``) was a process on this host that no longer
    runs (a zombie counts as gone). A holder on another host, or one that cannot be read, is never
    gone: its lease must expire."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # this very process (another indexer in it): alive; a reused pid's lease expires
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True
    except (OSError, IndexError):
        return False


@dataclass(frozen=True)
class ChildRule:
    """When ``parent`` emits ``event``, the address in argument ``arg`` is a new ``child``."""

    parent: str
    event: str
    arg: str
    child: str


@dataclass(frozen=True)
class IndexerStep:
    range: BlockRange | None
    head: int
    events_added: int = 0
    rewound_to: int | None = None
    discovered: tuple[str, ...] = field(default_factory=tuple)
    stalled: Stall | None = None
    """Set when the chain makes no blocks (``watch_progress``): the index holds up to its last block."""

    @property
    def idle(self) -> bool:
        return self.range is None and self.rewound_to is None


class Indexer:
    """Indexes one chain into the store."""

    def __init__(self, web3: Web3, chain_id: int, store: IndexStore, decoder: EventDecoder, *,
                 confirmations: int = 0, batch: int = 500, rescan: int = 64,
                 rules: Sequence[ChildRule] = (), start_block: int = 0,
                 progress: Callable[[str], None] | None = None, ranges: RangePolicy | None = None,
                 rpc: JsonRpc | None = None) -> None:
        self.web3 = web3
        self.rpc = rpc if rpc is not None else JsonRpc(str(web3.provider.endpoint_uri))  # type: ignore[attr-defined]
        self.ranges = ranges if ranges is not None else RangePolicy(max_blocks=max(batch, 10_000),
                                                                             target_logs=10_000)
        self.range_size = max(self.ranges.min_blocks, min(batch, self.ranges.max_blocks))
        """Blocks per ``eth_getLogs``: starts at ``batch``, then adapts (``next_range_size``)."""
        self.refused_size: int | None = None
        """The smallest range the node refused: the range never grows back to it."""
        self.chain_id = chain_id
        self.store = store
        self.decoder = decoder
        self.confirmations = confirmations
        self.batch = batch
        self.rescan = rescan
        self.rules = {(r.parent, r.event): r for r in rules}
        self.start_block = start_block
        self.progress = progress
        self.tag = f"indexer[{chain_id}]"
        self.health: StallWatch | None = None
        self.holder = _holder_id()
        """This indexer's name in the lease (host, pid, a random tag)."""
        self.lease_ttl_s = LEASE_TTL_S
        self._holding = False
        """Whether the last claim or step found the lease ours (a step then only renews it)."""

    def watch_progress(self, max_block_age_s: float) -> None:
        """Check on every step that the chain makes blocks; a stall and the recovery are reported
        once each (through ``progress`` when given, else the log), naming the last block and since when."""
        self.health = StallWatch(self.web3, max_block_age_s, tag=self.tag, report=self._report,
                                 min_interval_s=1.0)

    def _report(self, change: HealthChange) -> None:
        if change.kind == "stalled":
            line = f"{self.tag} {change.describe()}; the index holds up to its last final block; {WAITING}"
            log.warning("%s", line)
        else:
            line = f"{self.tag} {change.describe()}; indexing resumes from its checkpoint"
            log.info("%s", line)
        if self.progress is not None:
            self.progress(line)

    # -- one indexer per chain and database -------------------------------------------------

    @property
    def lease_name(self) -> str:
        return f"indexer:{self.chain_id}"

    def claim(self) -> None:
        """Take this chain's indexer lease in the database (or renew ours); raise
        ``IndexerAlreadyRunningError`` while another indexer's lease has not expired."""
        now = int(time.time())
        with self.store.engine.begin() as conn:
            lease = self.store.take_lease(conn, self.lease_name, self.holder, now, self.lease_ttl_s)
            if lease.holder != self.holder and holder_gone(lease.holder):
                # Its process died (SIGKILL, a crash) without giving the lease back: waiting for it
                # to expire would stall the index for a minute, and a supervised restart that exits
                # here would count as a crash loop.
                if self.store.take_over_lease(conn, self.lease_name, lease.holder, self.holder, now,
                                              self.lease_ttl_s):
                    log.warning("%s took over the lease of %s, whose process is gone", self.tag,
                                lease.holder)
                    lease = Lease(lease.name, self.holder, now, now + self.lease_ttl_s)
        self._holding = lease.holder == self.holder
        if not self._holding:
            raise IndexerAlreadyRunningError(
                f"{self.tag} another indexer already indexes chain {self.chain_id} into this database "
                f"({lease.holder}, since {_utc(lease.acquired_at)}); stop it first. If it is gone, its "
                f"lease expires at {_utc(lease.expires_at)} ({max(0, lease.expires_at - now)}s from now).")

    def release(self) -> None:
        """Give the lease back (a clean stop: the next indexer need not wait for it to expire)."""
        self._holding = False
        with self.store.engine.begin() as conn:
            self.store.release_lease(conn, self.lease_name, self.holder)

    def _hold_lease(self, conn: Any) -> None:
        """Inside the step's transaction: our lease is renewed with the writes, or nothing is written."""
        if not self.store.still_holds(conn, self.lease_name, self.holder, int(time.time()), self.lease_ttl_s):
            self._holding = False
            raise IndexerAlreadyRunningError(
                f"{self.tag} lost its lease on chain {self.chain_id} to another indexer; stopping its writes")

    def watch(self, contracts: Iterable[tuple[str, str, int]], source: str = "registry") -> int:
        """Watch (address, contract name, from block) entries; returns how many were new."""
        added = 0
        with self.store.engine.begin() as conn:
            for address, contract, from_block in contracts:
                added += self.store.watch(conn, self.chain_id, Web3.to_checksum_address(address),
                                          contract, from_block, source)
        return added

    def _hashes_of(self, numbers: Iterable[int]) -> dict[int, str | None]:
        """The chain's hash of each block now (None: the block no longer exists); one round trip."""
        return {n: (h["hash"].lower() if h else None) for n, h in self.rpc.headers(sorted(numbers)).items()}

    def _fetch_logs(self, head: int, next_block: int) -> tuple[BlockRange | None, list[dict[str, Any]]]:
        """The next final range and its logs, the range shrunk while the node refuses it as too
        large (or times out) and resized after each answer to the density it shows."""
        while True:
            span = plan_range(head, self.confirmations, next_block, self.range_size)
            if span is None:
                return None, []
            try:
                logs = self.rpc.logs(span.start, span.end)
            except LogRangeRefusedError as exc:
                if len(span) <= self.ranges.min_blocks:
                    raise ChainUnavailableError(f"{self.tag} the node refuses the logs of blocks "
                                                f"{span.start}-{span.end}: {exc}") from exc
                self.refused_size = min(len(span), self.refused_size or len(span))
                self.range_size = next_range_size(self.range_size, len(span), None, self.ranges)
                log.info("%s %s; asking for %d blocks at a time", self.tag, exc, self.range_size)
                continue
            self.range_size = next_range_size(self.range_size, len(span), len(logs), self.ranges,
                                              self.refused_size)
            return span, logs

    def step(self) -> IndexerStep:
        """Index the next final range (or rewind after a reorg); one database transaction.

        The cyclic garbage collector is paused for the step: a range's logs are tens of thousands
        of short-lived acyclic objects, and its collections, triggered by their allocation, scan
        every live object each time (measured: a quarter of the step's time)."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._step()
        finally:
            if collecting:
                gc.enable()

    def _step(self) -> IndexerStep:
        stalled = self.health.check() if self.health is not None else None
        head = self.rpc.block_number()
        if not self._holding:
            self.claim()
        with self.store.engine.begin() as conn:
            self._hold_lease(conn)  # renewed first: the row stays locked by this transaction to its end
            watched = self.store.watched(conn, self.chain_id)
            default_start = min((w.from_block for w in watched.values()), default=self.start_block)
            next_block = self.store.next_block(conn, self.chain_id, default=default_start)

            floor = max(0, next_block - self.rescan)
            stored = self.store.block_hashes(conn, self.chain_id, since=floor)
            if stored:
                restart = rewind_point(stored, self._hashes_of(stored), floor)
                if restart is not None:
                    dropped = self.store.drop_from(conn, self.chain_id, restart)
                    self.store.set_next_block(conn, self.chain_id, restart)
                    log.warning("%s reorg: dropped %d events from block %d on", self.tag, dropped,
                                restart)
                    return IndexerStep(range=None, head=head, rewound_to=restart, stalled=stalled)

            span, logs = self._fetch_logs(head, next_block)
            if span is None:
                return IndexerStep(range=None, head=head, stalled=stalled)
            events, discovered = self._decode(conn, logs, watched)
            times: dict[int, int] = {}
            log_hashes: dict[int, str] = {}
            for raw in logs:  # nodes that put the block time in logs save a header fetch per block
                number = int(raw["blockNumber"], 16)
                log_hashes[number] = raw["blockHash"].lower()
                stamp: Any = raw.get("blockTimestamp")
                if stamp is not None:
                    times[number] = int(stamp, 16) if isinstance(stamp, str) else int(stamp)
            kept = {e.block_number for e in events} | {span.end}
            wanted = sorted(n for n in kept if n not in times or n not in log_hashes)
            for number, header in self.rpc.headers(wanted).items():
                if header is None:
                    raise ChainUnavailableError(f"{self.tag} block {number} vanished while indexing it "
                                                "(a reorg); the next step looks again")
                times[number] = int(header["timestamp"], 16)
                # The logs' own block hash wins: if the header differs (a reorg in between), the
                # next step sees the stored hash no longer matches and indexes the block again.
                log_hashes.setdefault(number, header["hash"].lower())
            hashes = {n: log_hashes[n] for n in kept}
            added = self.store.add_events(conn, events, times, span=(span.start, span.end))
            self.store.remember_blocks(conn, self.chain_id, hashes, keep_from=span.end - self.rescan)
            self.store.set_next_block(conn, self.chain_id, span.end + 1)
        step = IndexerStep(range=span, head=head, events_added=added, discovered=tuple(discovered),
                           stalled=stalled)
        if self.progress is not None:
            self.progress(f"{self.tag} blocks {span.start}-{span.end} of head {head}: "
                          f"{added} events" + (f", {len(discovered)} new contracts" if discovered else ""))
        return step

    def _decode(self, conn: Any, logs: Sequence[Mapping[str, Any]],
                watched: dict[str, Any]) -> tuple[list[DecodedEvent], list[str]]:
        events: list[DecodedEvent] = []
        discovered: list[str] = []
        by_lower = {address.lower(): entry for address, entry in watched.items()}
        ordered = sorted(((int(lg["blockNumber"], 16), int(lg["logIndex"], 16), lg) for lg in logs),
                         key=lambda t: (t[0], t[1]))
        decode = self.decoder.decode
        for number, _index, raw in ordered:
            entry = by_lower.get(raw["address"].lower())
            if entry is None or number < entry.from_block:
                continue
            event = decode(entry.contract, raw, self.chain_id)
            if event is None:
                continue
            events.append(event)
            rule = self.rules.get((entry.contract, event.event))
            if rule is not None:
                child = checksum(str(event.args[rule.arg]))
                if self.store.watch(conn, self.chain_id, child, rule.child, event.block_number,
                                    f"{entry.contract}.{event.event}"):
                    fresh = type(entry)(child, rule.child, event.block_number, "factory")
                    watched[child] = fresh
                    by_lower[child.lower()] = fresh
                    discovered.append(child)
        return events, discovered

    def run_until_caught_up(self, max_steps: int = 10_000) -> int:
        """Step until nothing final is left to index; returns events added."""
        total = 0
        self.claim()
        try:
            for _ in range(max_steps):
                step = self.step()
                total += step.events_added
                if step.idle:
                    return total
            return total
        finally:
            self.release()
