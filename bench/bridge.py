"""Relay latency and throughput on two throwaway anvils with the real relayer processes.

Latency: tokens are locked one at a time; for each, the time from the moment the lock's receipt is
in hand to the moment the mint's receipt is (polled every 20 ms). Throughput: a batch of locks is
signed and sent at once; transfers per second from the first lock sent to the last mint seen.
Block time (None: anvil mines one block per transaction), confirmations and counts are reported
with the figures. The relayer runs as separate processes (``argv(role)`` gives their command line,
so this module does not need to know the console command).
"""

from __future__ import annotations

import hashlib
import math
import os
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from bridge.errors import BridgeError
from chain.artifacts import Artifacts
from chain.cid import cid_to_bytes, raw_cid
from chain.connection import connect
from chain.deploy import BridgeOptions, deploy_all, link_all
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.ports import free_port
from chain.progress import Progress, quiet
from chain.reverts import ErrorDecoder
from chain.settings import ChainSettings
from chain.tx import TxSender
from devnet.anvil import NodeManager

ROLES = ("validator-0", "validator-1", "validator-2", "submitter")
ZERO = "0x" + "00" * 20


@dataclass(frozen=True)
class BridgeBenchResult:
    transfers_latency: int
    batch: int
    block_time_s: float | None
    confirmations: int
    validators: int
    threshold: int
    latency_p50_s: float
    latency_p95_s: float
    latency_min_s: float
    latency_max_s: float
    latency_mean_s: float
    batch_seconds: float
    batch_locks_seconds: float
    throughput_tps: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> str:
        block = "automine (1 block per tx)" if self.block_time_s is None else f"{self.block_time_s:g} s"
        return "\n".join([
            f"bridge relay, home -> remote, {self.validators} validators ({self.threshold} of them sign), "
            f"block time {block}, confirmations {self.confirmations}",
            f"  latency (lock receipt -> mint receipt), {self.transfers_latency} sequential transfers:",
            f"    p50 {self.latency_p50_s:.3f} s   p95 {self.latency_p95_s:.3f} s   "
            f"min {self.latency_min_s:.3f} s   max {self.latency_max_s:.3f} s",
            f"  throughput: {self.batch} transfers sent together (locks mined after "
            f"{self.batch_locks_seconds:.2f} s), all minted after {self.batch_seconds:.2f} s "
            f"= {self.throughput_tps:.1f} transfers/s",
        ])


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def check_bench_options(*, block_time: float | None, confirmations: int) -> None:
    """Refuse option combinations that could never finish (raises BridgeError naming the fix)."""
    if confirmations < 0:
        raise BridgeError(f"--confirmations must be 0 or more, not {confirmations}")
    if confirmations > 0 and block_time is None:
        raise BridgeError(
            f"--confirmations {confirmations} needs --block-time: without it the anvils mine one block per "
            "transaction, so nothing buries a lock and no transfer would ever become final; "
            f"add e.g. --block-time 1, or use --confirmations 0")


def run_bridge_bench(artifacts: Artifacts, argv: Callable[[str], list[str]], *, count: int = 30,
                     batch: int = 50, block_time: float | None = None, confirmations: int = 0,
                     progress: Progress = quiet) -> BridgeBenchResult:
    """Start two anvils, deploy, start the relayer processes, measure, stop everything."""
    check_bench_options(block_time=block_time, confirmations=confirmations)
    with tempfile.TemporaryDirectory(prefix="chainright-bridge-bench-") as tmp:
        settings = ChainSettings(environment="test", data_dir=Path(tmp), home_port=free_port(),
                                 remote_port=free_port(), persist_state=False, block_time=block_time)
        manager = NodeManager(settings, progress=progress)
        manager.start(settings.specs("all"))
        procs: list[subprocess.Popen[bytes]] = []
        try:
            bench = _Bench(settings, artifacts, progress)
            env = dict(os.environ)
            env.update({
                "CHAINRIGHT_CHAIN_ENVIRONMENT": "test", "CHAINRIGHT_CHAIN_DATA_DIR": str(settings.data_dir),
                "CHAINRIGHT_CHAIN_HOME_PORT": str(settings.home_port),
                "CHAINRIGHT_CHAIN_REMOTE_PORT": str(settings.remote_port),
                "CHAINRIGHT_BRIDGE_ENVIRONMENT": "test", "CHAINRIGHT_BRIDGE_POLL_INTERVAL_S": "0.05",
                "CHAINRIGHT_BRIDGE_HOME_CONFIRMATIONS": str(confirmations),
                "CHAINRIGHT_BRIDGE_REMOTE_CONFIRMATIONS": str(confirmations),
                "CHAINRIGHT_LOG_LEVEL": "WARNING",
            })
            progress(f"starting the relayer: {', '.join(ROLES)}")
            for role in ROLES:
                with open(settings.data_dir / f"{role}.log", "ab") as out:
                    procs.append(subprocess.Popen(argv(role), env=env, stdout=out, stderr=subprocess.STDOUT,
                                                  stdin=subprocess.DEVNULL))
            return bench.measure(count, batch, block_time, confirmations, procs)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            manager.stop(["home", "remote"])


class _Bench:
    def __init__(self, settings: ChainSettings, artifacts: Artifacts, progress: Progress) -> None:
        self.settings, self.artifacts, self.progress = settings, artifacts, progress
        decoder = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
        registry = DeploymentRegistry(settings.deployments_file)
        self.home, self.remote = connect(settings.spec("home")), connect(settings.spec("remote"))
        deployers = {"home": TxSender(self.home, dev_account(0), decoder=decoder),
                     "remote": TxSender(self.remote, dev_account(0), decoder=decoder)}
        progress("deploying both chains")
        # One collector sends every transfer: its and its collection's budgets are the whole ceiling.
        options = BridgeOptions(per_sender=BridgeOptions.limit, per_collection=BridgeOptions.limit)
        for name, sender in deployers.items():
            deploy_all(sender, artifacts, registry, chain_name=name, bridge=options)
        chain_ids: dict[str, int] = {s.name: int(s.chain_id) for s in settings.specs("all")}
        for name, sender in deployers.items():
            link_all(sender, artifacts, registry, chain_name=name, chain_ids=chain_ids)
        home_id, remote_id = chain_ids["home"], chain_ids["remote"]
        self.remote_id = remote_id
        self.lockbox = self._at(self.home, "HomeLockbox", registry.address(home_id, "HomeLockbox"))
        self.bridge = self._at(self.remote, "RemoteBridge", registry.address(remote_id, "RemoteBridge"))
        factory = self._at(self.home, "CollectionFactory", registry.address(home_id, "CollectionFactory"))
        self.creator = TxSender(self.home, dev_account(1), decoder=decoder)
        self.collector = TxSender(self.home, dev_account(2), decoder=decoder)
        salt = hashlib.sha256(b"bridge-bench").digest()
        self.creator.transact(self.creator.call_tx(factory.functions.createCollection(
            ("Bench", "BNC", self.creator.address, self.creator.address, 500, ZERO, False), salt)))
        address = factory.functions.predictCollectionAddress(self.creator.address, salt).call()
        self.collection = self._at(self.home, "CreatorCollection", address)
        self.collector.transact(self.collector.call_tx(
            self.collection.functions.setApprovalForAll(self.lockbox.address, True)))
        self.minted_works = 0
        self.expected = 0

    def _at(self, web3: Web3, name: str, address: str) -> Any:
        return web3.eth.contract(address=address, abi=self.artifacts.get(name).abi)  # type: ignore[call-overload]

    def _mint(self, quantity: int) -> tuple[list[int], bytes]:
        content = f"bridge-bench-{self.minted_works}".encode()
        self.minted_works += 1
        content_hash = hashlib.sha256(content).digest()
        first = self.collection.functions.totalSupply().call() + 1
        self.creator.transact(self.creator.call_tx(self.collection.functions.mintEdition(
            self.collector.address, quantity, content_hash, cid_to_bytes(raw_cid(content)))))
        return list(range(first, first + quantity)), content_hash

    def _lock_tx(self, token: int, content_hash: bytes, fees: dict[str, int] | None = None) -> Any:
        tx = self.collector.call_tx(self.lockbox.functions.lock(
            self.collection.address, token, self.collector.address, self.remote_id, content_hash))
        if fees is not None:  # batch: no estimate per transaction (a lock costs about 210,000 gas)
            tx.update({"gas": 400_000, **fees})  # type: ignore[typeddict-item]
        return tx

    def _transfer_id(self, receipt: Any) -> int:
        from web3.logs import DISCARD

        (event,) = self.lockbox.events.TokenLocked().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["transferId"])

    def _wait_minted(self, transfer_ids: set[int], procs: list[subprocess.Popen[bytes]],
                     timeout: float) -> float:
        """Poll (one call per 20 ms: the wrapped supply) until every transfer is minted; returns when."""
        deadline = time.monotonic() + timeout
        target = self.expected + len(transfer_ids)
        while self.bridge.functions.outstanding().call() < target:
            if time.monotonic() > deadline:
                raise BridgeError(f"transfers not minted within {timeout:.0f}s; see the relayer logs in "
                                  f"{self.settings.data_dir}")
            if any(p.poll() is not None for p in procs):
                raise BridgeError("a relayer process exited during the benchmark")
            time.sleep(0.02)
        done = time.monotonic()
        missing = [t for t in transfer_ids if not self.bridge.functions.processed(t).call()]
        if missing:
            raise BridgeError(f"the wrapped supply grew but {len(missing)} transfer(s) are not processed")
        self.expected = target
        return done

    def measure(self, count: int, batch: int, block_time: float | None, confirmations: int,
                procs: list[subprocess.Popen[bytes]]) -> BridgeBenchResult:
        tokens, content_hash = self._mint(count + batch + 1)
        timeout = 60 + 10 * (block_time or 0) * (confirmations + 1)
        self.progress("warming up (first transfer, relayer start-up)")
        warm = self.collector.transact(self._lock_tx(tokens[0], content_hash))
        self._wait_minted({self._transfer_id(warm)}, procs, timeout + 60)
        latencies: list[float] = []
        self.progress(f"latency: {count} transfers one after the other")
        for token in tokens[1:count + 1]:
            receipt = self.collector.transact(self._lock_tx(token, content_hash))
            start = time.monotonic()
            end = self._wait_minted({self._transfer_id(receipt)}, procs, timeout)
            latencies.append(end - start)
        self.progress(f"throughput: {batch} transfers sent together")
        fees = self.collector.fees()
        start = time.monotonic()
        txs = [self._lock_tx(t, content_hash, fees) for t in tokens[count + 1:]]
        hashes = self.collector.transact_many(txs)
        locks_done = time.monotonic()
        ids = {self._transfer_id(self.home.eth.get_transaction_receipt(h)) for h in hashes}
        end = self._wait_minted(ids, procs, timeout + batch)
        validators, threshold = self.bridge.functions.validatorSet().call()
        return BridgeBenchResult(
            transfers_latency=count, batch=batch, block_time_s=block_time, confirmations=confirmations,
            validators=len(validators), threshold=int(threshold),
            latency_p50_s=round(statistics.median(latencies), 4),
            latency_p95_s=round(percentile(latencies, 95), 4),
            latency_min_s=round(min(latencies), 4), latency_max_s=round(max(latencies), 4),
            latency_mean_s=round(statistics.fmean(latencies), 4),
            batch_seconds=round(end - start, 3), batch_locks_seconds=round(locks_done - start, 3),
            throughput_tps=round(batch / (end - start), 2),
        )
