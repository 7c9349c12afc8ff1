"""The indexer's effects: read final blocks over RPC, decode, write rows in one transaction.

Reorg safety: only blocks at least ``confirmations`` deep are read; the hashes of indexed blocks
are remembered for a bounded window and compared with the chain before every step, and on a
mismatch the events from the fork point on are dropped and indexed again; rows are unique by
(chain id, tx hash, log index), so a re-scan never duplicates them.

Which contracts are ours: those in the deployment registry, plus children their factories
announce (``ChildRule``), from the block they appear in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import BlockNotFound

from chain.health import WAITING, HealthChange, Stall, StallWatch
from chain.index.core import BlockRange, plan_range, rewind_point
from chain.index.decoder import DecodedEvent, EventDecoder
from chain.index.store import IndexStore
from chain.tx import retry_read

log = logging.getLogger(__name__)


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
                 progress: Callable[[str], None] | None = None) -> None:
        self.web3 = web3
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

    def watch(self, contracts: Iterable[tuple[str, str, int]], source: str = "registry") -> int:
        """Watch (address, contract name, from block) entries; returns how many were new."""
        added = 0
        with self.store.engine.begin() as conn:
            for address, contract, from_block in contracts:
                added += self.store.watch(conn, self.chain_id, Web3.to_checksum_address(address),
                                          contract, from_block, source)
        return added

    def _hash_of(self, number: int) -> str | None:
        try:
            block = retry_read(lambda: self.web3.eth.get_block(number), what="eth_getBlockByNumber")
        except BlockNotFound:  # a block beyond the new head no longer exists
            return None
        return "0x" + bytes(HexBytes(block["hash"])).hex()

    def step(self) -> IndexerStep:
        """Index the next final range (or rewind after a reorg); one database transaction."""
        stalled = self.health.check() if self.health is not None else None
        head = retry_read(lambda: self.web3.eth.block_number, what="eth_blockNumber")
        with self.store.engine.begin() as conn:
            watched = self.store.watched(conn, self.chain_id)
            default_start = min((w.from_block for w in watched.values()), default=self.start_block)
            next_block = self.store.next_block(conn, self.chain_id, default=default_start)

            floor = max(0, next_block - self.rescan)
            stored = self.store.block_hashes(conn, self.chain_id, since=floor)
            if stored:
                on_chain = {n: self._hash_of(n) for n in stored}
                restart = rewind_point(stored, on_chain, floor)
                if restart is not None:
                    dropped = self.store.drop_from(conn, self.chain_id, restart)
                    self.store.set_next_block(conn, self.chain_id, restart)
                    log.warning("%s reorg: dropped %d events from block %d on", self.tag, dropped,
                                restart)
                    return IndexerStep(range=None, head=head, rewound_to=restart, stalled=stalled)

            span = plan_range(head, self.confirmations, next_block, self.batch)
            if span is None:
                return IndexerStep(range=None, head=head, stalled=stalled)
            logs = retry_read(lambda: self.web3.eth.get_logs(
                {"fromBlock": span.start, "toBlock": span.end}), what="eth_getLogs")
            events, discovered = self._decode(conn, logs, watched)
            times: dict[int, int] = {}
            hashes: dict[int, str] = {}
            for raw in logs:  # nodes that put the block time in logs save a header fetch per block
                number = int(raw["blockNumber"])
                hashes[number] = "0x" + bytes(HexBytes(raw["blockHash"])).hex()
                stamp: Any = raw.get("blockTimestamp")
                if stamp is not None:
                    times[number] = int(stamp, 16) if isinstance(stamp, str) else int(stamp)
            wanted = {e.block_number for e in events if e.block_number not in times} | {span.end}
            for number in sorted(wanted):
                block = retry_read(lambda n=number: self.web3.eth.get_block(n),  # type: ignore[misc]
                                   what="eth_getBlockByNumber")
                times[number] = int(block["timestamp"])
                hashes[number] = "0x" + bytes(HexBytes(block["hash"])).hex()
            hashes = {n: h for n, h in hashes.items() if n in {e.block_number for e in events} | {span.end}}
            added = self.store.add_events(conn, events, times)
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
        for raw in sorted(logs, key=lambda lg: (int(lg["blockNumber"]), int(lg["logIndex"]))):
            address = Web3.to_checksum_address(raw["address"])
            entry = watched.get(address)
            if entry is None or int(raw["blockNumber"]) < entry.from_block:
                continue
            event = self.decoder.decode(entry.contract, raw, self.chain_id)
            if event is None:
                continue
            events.append(event)
            rule = self.rules.get((entry.contract, event.event))
            if rule is not None:
                child = Web3.to_checksum_address(str(event.args[rule.arg]))
                if self.store.watch(conn, self.chain_id, child, rule.child, event.block_number,
                                    f"{entry.contract}.{event.event}"):
                    watched[child] = type(entry)(child, rule.child, event.block_number, "factory")
                    discovered.append(child)
        return events, discovered

    def run_until_caught_up(self, max_steps: int = 10_000) -> int:
        """Step until nothing final is left to index; returns events added."""
        total = 0
        for _ in range(max_steps):
            step = self.step()
            total += step.events_added
            if step.idle:
                return total
        return total
