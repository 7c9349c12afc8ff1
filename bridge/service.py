"""Wire the relayer from settings and run one role until told to stop; the status report.

A role runs in its own process (``chainright relayer run --role validator --validator-index i`` or
``--role submitter``); ``--role all`` starts one process per validator key plus the submitter.
Chains that go away, a database that is busy or a bridge not deployed yet are reported and retried;
nothing is lost, since every step either commits whole or not at all.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.exc import OperationalError
from web3.exceptions import Web3Exception

from bridge.chainio import Link, build_links
from bridge.core import TransferStatus, WorkerState
from bridge.errors import BridgeError, BridgeSettingsError, SubmitterAlreadyRunningError
from bridge.relayer import SubmitterWorker, ValidatorWorker
from bridge.settings import BridgeSettings
from bridge.store import BridgeStore
from chain.artifacts import Artifacts
from chain.errors import ChainError
from chain.health import WAITING, ChainProgress, Head, HealthChange, StallWatch, assess, read_head
from chain.reverts import ErrorDecoder
from chain.settings import ChainSettings

log = logging.getLogger("bridge.service")

Role = Literal["validator", "submitter"]

SUBMITTER_LEASE_TTL_S = 60.0
"""How long a submitter's lease on a destination chain outlives its last step (a submitter that
stopped without giving it back, on another host, blocks a new one this long)."""


def process_gone(holder: str) -> bool:
    """True when lease holder ``holder`` (``host:pid:tag``) was a process on this host that no longer
    runs (a zombie counts as gone). A holder on another host, this very process, or one that
    cannot be read is never gone: its lease must expire. (The indexer's ``holder_gone`` is the
    same rule; ``bridge`` sits beside ``record``, not above it.)"""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        with open(f"/proc/{int(pid_text)}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True
    except (OSError, IndexError):
        return False


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


@dataclass
class Relayer:
    """Everything one role needs, built lazily so a chain that is not up yet is waited for."""

    role: Role
    chain: ChainSettings
    settings: BridgeSettings
    validator_index: int = 0

    def __post_init__(self) -> None:
        if self.role == "validator" and not 0 <= self.validator_index < len(self.settings.validator_keys):
            count = len(self.settings.validator_keys)
            raise BridgeSettingsError(
                f"--validator-index {self.validator_index} is out of range: CHAINRIGHT_BRIDGE_VALIDATOR_KEYS "
                f"holds {count} key(s) (indexes 0..{count - 1})"
            )
        self.name = f"validator-{self.validator_index}" if self.role == "validator" else "submitter"
        self.store = BridgeStore.open(self.settings.effective_database_url(self.chain))
        self.worker: ValidatorWorker | SubmitterWorker | None = None
        self.watches: dict[int, StallWatch] = {}
        self._ok = False
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        """This process's name in the submitter leases (host, pid, a random tag)."""
        self.lease_ttl_s = SUBMITTER_LEASE_TTL_S
        self._leases: list[str] = []

    def _build(self) -> ValidatorWorker | SubmitterWorker:
        artifacts = Artifacts.load()
        confirmations = {n: self.settings.confirmations(self.chain, n) for n in ("home", "remote")}
        links: list[Link] = build_links(self.chain, artifacts, confirmations)
        if self.role == "validator":
            return ValidatorWorker(
                self.validator_index,
                self.settings.validator_keys[self.validator_index],
                links,
                self.store,
                self.settings,
            )
        decoder = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
        return SubmitterWorker(self.settings.submitter_key, links, self.store, self.settings, decoder)

    def step(self) -> int:
        if self.worker is None:
            self.worker = self._build()
            log.info(
                "relayer[%s] ready as %s: routes %s",
                self.name,
                self.worker.address,
                ", ".join(link.route.name for link in self.worker.links),
            )
            self.watches = self._watches(self.worker.links)
        stalled = self.check_chains()
        if isinstance(self.worker, SubmitterWorker):
            self.hold_leases(sorted({link.dest.chain_id for link in self.worker.links}))
            self.worker.stalled_chains = stalled
        return self.worker.step()

    def hold_leases(self, chain_ids: list[int]) -> None:
        """One submitter per destination chain and database: take or renew the lease of every chain
        this submitter delivers to, or raise ``SubmitterAlreadyRunningError`` (and deliver nothing)
        while another live submitter holds one. ``run`` retries, so a second submitter waits as a
        standby and takes over when the first stops (or its process is gone, or its lease expires)."""
        now = time.time()
        for chain_id in chain_ids:
            name = f"submitter:{chain_id}"
            lease = self.store.take_lease(name, self.holder, now, self.lease_ttl_s, gone=process_gone)
            if lease.holder != self.holder:
                raise SubmitterAlreadyRunningError(
                    f"another submitter delivers to chain {chain_id} from this database ({lease.holder}, "
                    f"since {_utc(lease.acquired_at)}): this one delivers nothing and waits as a standby; "
                    f"stop one of them. If it is gone, its lease expires at {_utc(lease.expires_at)} "
                    f"({max(0.0, lease.expires_at - now):.0f}s from now).")
            if name not in self._leases:
                self._leases.append(name)

    def release_leases(self) -> None:
        """Give the submitter leases back (a clean stop: a standby need not wait for them to expire)."""
        for name in self._leases:
            try:
                self.store.release_lease(name, self.holder)
            except (OperationalError, OSError):  # the database went away: the lease expires by itself
                log.warning("relayer[%s] could not give back %s; it expires by itself", self.name, name)
        self._leases = []

    def routes(self) -> str:
        """The routes this process relays (``home<->remote`` until its links are built)."""
        if self.worker is None:
            return "home<->remote"
        return ",".join(link.route.name for link in self.worker.links)

    def _watches(self, links: list[Link]) -> dict[int, StallWatch]:
        """A stall watch per chain whose settings give a maximum block age (the consortium's)."""
        watches: dict[int, StallWatch] = {}
        for link in links:
            for ep in (link.source, link.dest):
                limit = self.chain.spec(ep.name).max_block_age_s  # type: ignore[arg-type]
                if limit is not None and ep.chain_id not in watches:
                    watches[ep.chain_id] = StallWatch(ep.web3, limit, tag=f"relayer[{self.name}]",
                                                      report=self._report, min_interval_s=1.0)
        return watches

    def _report(self, change: HealthChange) -> None:
        if change.kind == "stalled":
            log.warning("relayer[%s] %s; %s", self.name, change.describe(),
                        "transfers from it are not attested and deliveries to it are held; " + WAITING)
        else:
            log.info("relayer[%s] %s; relaying resumes from the checkpoints", self.name, change.describe())

    def check_chains(self) -> frozenset[int]:
        """Chain ids that are stalled now (a chain that does not answer is left to the step to report)."""
        stalled = set()
        for chain_id, watch in self.watches.items():
            try:
                if watch.check() is not None:
                    stalled.add(chain_id)
            except ChainError:
                continue
        return frozenset(stalled)

    def run(
        self,
        stop: threading.Event,
        *,
        max_backoff_s: float = 5.0,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Step until ``stop`` is set; errors are reported and retried with a growing pause."""
        backoff = self.settings.poll_interval_s
        while not stop.is_set():
            try:
                busy = self.step()
            except (ChainError, BridgeError, OperationalError, OSError, Web3Exception) as exc:
                message = f"relayer[{self.name} {self.routes()}] {exc}; retrying in {backoff:.1f}s"
                (on_error or log.error)(message)
                self._note(str(exc))
                stop.wait(backoff)
                backoff = min(max_backoff_s, backoff * 2)
                continue
            self._note(None)
            backoff = self.settings.poll_interval_s
            if not busy:
                stop.wait(self.settings.poll_interval_s)
        self.release_leases()


    def _note(self, error: str | None) -> None:
        """Tell ``relayer status`` whether this process's steps succeed (best effort: the database
        may be what fails). A good step after a good step writes nothing."""
        if error is None and self._ok:
            return
        try:
            self.store.note_worker(self.name, error[:500] if error else None)
            self._ok = error is None
        except (OperationalError, OSError) as exc:
            log.debug("relayer[%s] could not record its state: %s", self.name, exc)


STUCK_HINT = (
    "what to do: point this chain's RPC URL (CHAINRIGHT_CHAIN_<HOME|REMOTE>_RPC_URL) at a node that "
    "keeps the state of that block (an archive node) and the validator decides it on its next look; "
    "if the token really left the lockbox (or the wrapped token was minted again) without a bridge "
    "transfer, this departure must not be bridged: settle it with the collector by hand"
)


def chain_lines(chain: ChainSettings, *, now: float | None = None) -> list[str]:
    """One line per chain: its head and age, or STALLED naming the last block and since when."""
    from chain.connection import connect

    lines = []
    for spec in chain.specs("all"):
        name = f"chain {spec.chain_id} ({spec.name})"
        try:
            head: Head = read_head(connect(spec, timeout=5.0))
        except (ChainError, OSError, Web3Exception) as exc:
            lines.append(f"{name}: not answering ({exc})")
            continue
        if spec.max_block_age_s is None:
            lines.append(f"{name}: head {head.number} (blocks on demand; not watched for stalls)")
            continue
        state = assess(head, time.time() if now is None else now, spec.max_block_age_s)
        if isinstance(state, ChainProgress):
            lines.append(f"{name}: head {head.number}, {state.age_s:.1f}s old (ok)")
        else:
            detail = state.describe().removeprefix(f"chain {spec.chain_id} stalled: ")
            lines.append(f"{name}: STALLED, {detail}")
    return lines


def status_report(chain: ChainSettings, settings: BridgeSettings, *, limit: int = 50) -> str:
    """Chains (head, or stalled since when), pending, delivered and failed transfers (with reasons),
    rejected events and checkpoints."""
    store = BridgeStore.open(settings.effective_database_url(chain))
    lines = [f"database: {settings.effective_database_url(chain).split('@')[-1]}", *chain_lines(chain)]
    counts = store.counts()
    if not counts:
        lines.append("no transfers observed yet")
    for (src, dst, status), n in sorted(counts.items()):
        lines.append(f"route {src}->{dst}: {n} {status}")
    ops = store.delivery_counts()
    if ops:
        lines.append("delivery transactions: " + ", ".join(f"{n} {s}" for s, n in sorted(ops.items())))
    open_rows = store.transfers([TransferStatus.PENDING, TransferStatus.FAILED], limit=limit)
    if open_rows:
        lines.append("")
        lines.append(
            "status    route        transfer  token                                          attempts  reason"
        )
        for r in open_rows:
            lines.append(
                f"{r.status:<9} {r.route:<12} {r.transfer_id & 0xFFFFFFFF:>8}  "
                f"{r.collection}#{r.token_id:<4} {r.attempts:>8}  {r.reason or '-'}"
            )
    done = [r for r in store.transfers([TransferStatus.DELIVERED], limit=100_000)][-limit:]
    if done:
        lines.append("")
        lines.append(f"last {len(done)} delivered:")
        for r in done:
            latency = (r.delivered_at or r.observed_at) - r.observed_at
            lines.append(
                f"delivered {r.route:<12} {r.transfer_id & 0xFFFFFFFF:>8}  {r.collection}#{r.token_id} "
                f"tx {r.delivery_tx or '(by another submission)'} {latency:.2f}s after observation"
            )
    held = store.held(limit=limit)
    if held:
        lines.append("")
        lines.append("held departures (custody not decided on this node; neither signed nor rejected):")
        for h in held:
            state = "STUCK" if h.stuck else "held"
            nxt = max(0.0, h.retry_at - time.time())
            lines.append(
                f"  {state:<5} {h.worker} chain {h.chain_id} tx {h.key.tx_hash} log {h.key.log_index} "
                f"block {h.block_number}"
                + (f" transfer {h.transfer_id & 0xFFFFFFFF}" if h.transfer_id is not None else "")
                + f": {h.attempts} look(s), next in {nxt:.0f}s: {h.reason}"
            )
        if any(h.stuck for h in held):
            lines.append("  " + STUCK_HINT)
    workers = store.workers()
    failing = [w for w in workers if w["state"] == WorkerState.ERROR]
    if failing:
        lines.append("")
        for w in failing:
            lines.append(
                f"process {w['worker']}: FAILING for {time.time() - w['since']:.0f}s "
                f"({w['failures']} step(s) in a row; still retrying, at most every 5s): {w['error']}"
            )
    rejected = store.rejections(limit=limit)
    if rejected:
        lines.append("")
        lines.append("rejected events (never signed):")
        for obs in rejected:
            lines.append(
                f"  {obs['worker']} chain {obs['chain_id']} tx {obs['tx_hash']} log {obs['log_index']}: "
                f"{obs['reason']}"
            )
    checkpoints = store.checkpoints()
    if checkpoints:
        lines.append("")
        lines.append(
            "checkpoints: "
            + ", ".join(
                f"{c['worker']}@{c['chain_id']}={c['next_block']} ({time.time() - c['updated_at']:.0f}s ago)"
                for c in checkpoints
            )
        )
    return "\n".join(lines)
