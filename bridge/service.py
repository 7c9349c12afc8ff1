"""Wire the relayer from settings and run one role until told to stop; the status report.

A role runs in its own process (``chainright relayer run --role validator --validator-index i`` or
``--role submitter``); ``--role all`` starts one process per validator key plus the submitter.
Chains that go away, a database that is busy or a bridge not deployed yet are reported and retried;
nothing is lost, since every step either commits whole or not at all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.exc import OperationalError
from web3.exceptions import Web3Exception

from bridge.chainio import Link, build_links
from bridge.errors import BridgeError, BridgeSettingsError
from bridge.relayer import SubmitterWorker, ValidatorWorker
from bridge.settings import BridgeSettings
from bridge.store import BridgeStore
from chain.artifacts import Artifacts
from chain.errors import ChainError
from chain.settings import ChainSettings
from chain.tx import ErrorDecoder

log = logging.getLogger("bridge.service")

Role = Literal["validator", "submitter"]


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
        return self.worker.step()

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
                message = f"relayer[{self.name}] {exc}; retrying in {backoff:.1f}s"
                (on_error or log.error)(message)
                stop.wait(backoff)
                backoff = min(max_backoff_s, backoff * 2)
                continue
            backoff = self.settings.poll_interval_s
            if not busy:
                stop.wait(self.settings.poll_interval_s)


def status_report(chain: ChainSettings, settings: BridgeSettings, *, limit: int = 50) -> str:
    """Pending, delivered and failed transfers (with reasons), rejected events and checkpoints."""
    store = BridgeStore.open(settings.effective_database_url(chain))
    lines = [f"database: {settings.effective_database_url(chain).split('@')[-1]}"]
    counts = store.counts()
    if not counts:
        lines.append("no transfers observed yet")
    for (src, dst, status), n in sorted(counts.items()):
        lines.append(f"route {src}->{dst}: {n} {status}")
    ops = store.delivery_counts()
    if ops:
        lines.append("delivery transactions: " + ", ".join(f"{n} {s}" for s, n in sorted(ops.items())))
    open_rows = store.transfers(["pending", "failed"], limit=limit)
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
    done = [r for r in store.transfers(["delivered"], limit=100_000)][-limit:]
    if done:
        lines.append("")
        lines.append(f"last {len(done)} delivered:")
        for r in done:
            latency = (r.delivered_at or r.observed_at) - r.observed_at
            lines.append(
                f"delivered {r.route:<12} {r.transfer_id & 0xFFFFFFFF:>8}  {r.collection}#{r.token_id} "
                f"tx {r.delivery_tx or '(by another submission)'} {latency:.2f}s after observation"
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
