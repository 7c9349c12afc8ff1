"""Start and stop the local anvil nodes that Chainright owns.

A node is owned through a PID file under ``<data_dir>/run/<name>.json`` written at start; stop
acts only on the PIDs it finds there, and only when the process behind the PID is still that
anvil (a reused PID is never signalled). With ``persist_state`` each anvil loads and saves its
chain under ``<data_dir>/chains/<name>.json``, so a restart resumes where the last run stopped.

Anvil moves the states of older blocks it keeps out of memory into a scratch folder under
``$HOME/.foundry/anvil/tmp`` and never deletes it, not even on a clean exit: over a day of test
and soak runs those folders filled the disk (65 GB). Each anvil we start gets its own ``HOME``
(``<data_dir>/run/anvil-<name>.home``), removed when the node is stopped and before it starts again.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from chain.errors import (
    ChainError,
    ChainUnavailableError,
    NodeBinaryMissingError,
    NodeError,
    NodeStartError,
    PortInUseError,
)
from chain.progress import Progress, quiet
from chain.rpc import chain_id_of
from chain.settings import PROJECT_ROOT, ChainSettings, ChainSpec

log = logging.getLogger(__name__)

R = TypeVar("R")

HISTORY_BOUND: tuple[str, ...] = ("--prune-history", "32")
"""Anvil's options when it keeps a state file (``persist_state``, as ``chainright up`` runs it).

Measured (``python -m bench.anvil_history``, 4 rounds of 1,500 transfers, one fresh anvil per
option set): with ``--state`` and anvil's default history (the state of every block) the chain
stalled in the fourth round, nothing mined for 30 s while anvil's memory rose from 83 to 620 MiB
(its state file no longer rewritten); with ``--prune-history 256`` it stalled in one of two runs (718 MiB);
with ``--prune-history 32`` it ran through in 3 runs of 3 (650-4,400 transfers/s a round on the
shared machine), 95-108 MiB after 6,000 transfers (without a state file: 85 MiB). 32 states keep
the recent past readable (state proofs at the indexer's final block, reads a few blocks back); a
call further back answers ``BlockOutOfRange``, as after a restart from the state file (which keeps
no historical state at all), and the bridge's custody check then proves custody from the current
state (``bridge.chainio``). Blocks, transactions and receipts are all kept
(``--transaction-block-keeper`` would drop the old receipts that provenance bundles prove). Test
and benchmark chains without a state file run unbounded."""


@dataclass(frozen=True)
class NodeRecord:
    """What a PID file says about a running node."""

    name: str
    pid: int
    port: int
    chain_id: int
    rpc_url: str
    log_file: str
    state_file: str | None
    started_at: float


def find_anvil(configured: Path | None = None) -> Path:
    """Locate the anvil binary: the configured path, the project's .bin/anvil, then PATH."""
    candidates: list[Path] = []
    if configured is not None:
        candidates.append(configured)
    candidates.append(PROJECT_ROOT / ".bin" / "anvil")
    on_path = shutil.which("anvil")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    where = ", ".join(str(c) for c in candidates) or "PATH"
    raise NodeBinaryMissingError(
        f"anvil binary not found (looked in {where}); run 'make setup' in the project root "
        "to install it from npm, or set CHAINRIGHT_CHAIN_ANVIL_BIN"
    )


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port and it can be bound.

    SO_REUSEADDR is set as servers set it, so connections of a node that just stopped
    (TIME_WAIT) do not count as a taken port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def read_pid_record(path: Path, record_type: type[R], error: type[ChainError]) -> R | None:
    """The record in PID file ``path`` (None when there is none); ``error`` names an unreadable one."""
    try:
        return record_type(**json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        raise error(f"unreadable PID file {path} ({exc}); delete it and retry") from exc


def terminate(pid: int, child: subprocess.Popen[bytes] | None, *, what: str, timeout: float,
              kill: bool = False) -> None:
    """Stop process ``pid`` (ours: the caller checked it is the process it started).

    SIGTERM (or SIGKILL at once with ``kill``: a crash, for fault tests), then SIGKILL when it is
    still alive after ``timeout``; ``child``, when we hold its handle, is reaped.
    """
    os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and child.poll() is not None:
            break
        if child is None and not alive(pid):
            break
        time.sleep(0.05)
    else:
        log.warning("%s (pid %s) still runs %.0fs after %s; killing it", what, pid, timeout,
                    "SIGKILL" if kill else "SIGTERM")
        os.kill(pid, signal.SIGKILL)
    if child is not None:
        reap(child, timeout)


def reap(child: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for a child process we started to exit (SIGKILL after ``timeout``), so no zombie stays."""
    try:
        child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def stop_signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends, then deliver them to the handlers that
    were in place, so that no handler interrupts the block half-way. Handlers are swapped (not the
    signal mask, which children would inherit); outside the main thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, _frame: object) -> None:
        pending.append(signum)

    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for s in STOP_SIGNALS:
        signal.signal(s, hold)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)


def _is_our_anvil(record: NodeRecord) -> bool:
    """True when record.pid is still the anvil we started (guards against PID reuse)."""
    try:
        with open(f"/proc/{record.pid}/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return False
    return (
        bool(argv)
        and Path(argv[0].decode(errors="replace")).name == "anvil"
        and str(record.port).encode() in argv
        and alive(record.pid)
    )


class NodeManager:
    """Owns the local anvil processes of the chains in ``settings``."""

    def __init__(self, settings: ChainSettings, progress: Progress = quiet) -> None:
        self.settings = settings
        self.progress = progress
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    # -- records -----------------------------------------------------------------------------

    def _pid_file(self, name: str) -> Path:
        return self.settings.run_dir / f"{name}.json"

    def record(self, name: str) -> NodeRecord | None:
        """The PID-file record of node ``name``, or None when there is none."""
        return read_pid_record(self._pid_file(name), NodeRecord, NodeError)

    def running(self, name: str) -> NodeRecord | None:
        """The record of node ``name`` when its process is alive; stale records are removed."""
        rec = self.record(name)
        if rec is None:
            return None
        if _is_our_anvil(rec):
            return rec
        self._pid_file(name).unlink(missing_ok=True)
        return None

    # -- start -------------------------------------------------------------------------------

    def start(self, specs: Sequence[ChainSpec]) -> list[NodeRecord]:
        """Start an anvil for each managed spec and wait until each answers with its chain id.

        All ports are checked before anything starts, so a taken port starts nothing; if a later
        node fails, the ones started by this call are stopped again. Nodes already running
        under our PID files are reused.
        """
        managed = [s for s in specs if s.managed]
        binary = find_anvil(self.settings.anvil_bin) if managed else None
        to_start: list[ChainSpec] = []
        records: list[NodeRecord] = []
        for spec in managed:
            existing = self.running(spec.name)
            if existing is not None:
                if existing.port != spec.port or existing.chain_id != spec.chain_id:
                    raise NodeError(
                        f"node '{spec.name}' already runs on port {existing.port} with chain id "
                        f"{existing.chain_id} (pid {existing.pid}), not as configured "
                        f"({spec.port}, {spec.chain_id}); run 'chainright node down' first"
                    )
                self.progress(f"{spec.name}: already running (pid {existing.pid}, port {existing.port})")
                records.append(existing)
                continue
            assert spec.port is not None
            if not port_is_free(self.settings.host, spec.port):
                raise PortInUseError(
                    f"port {spec.port} on {self.settings.host} is already in use, so the "
                    f"'{spec.name}' chain (id {spec.chain_id}) cannot start there; stop whatever "
                    f"listens on it, or choose another port with "
                    f"CHAINRIGHT_CHAIN_{spec.name.upper()}_PORT. Nothing was started."
                )
            to_start.append(spec)
        started: list[str] = []
        try:
            for spec in to_start:
                assert binary is not None
                records.append(self._start_one(binary, spec))
                started.append(spec.name)
        except BaseException:
            for name in started:
                self.stop_one(name)
            raise
        return records

    def _start_one(self, binary: Path, spec: ChainSpec) -> NodeRecord:
        assert spec.port is not None
        s = self.settings
        for d in (s.run_dir, s.log_dir, s.state_dir):
            d.mkdir(parents=True, exist_ok=True)
        log_file = s.log_dir / f"anvil-{spec.name}.log"
        home = self.scratch_home(spec.name)
        shutil.rmtree(home, ignore_errors=True)  # a previous anvil's, killed before it was stopped
        home.mkdir(parents=True)
        state_file = s.state_dir / f"{spec.name}.json" if s.persist_state else None
        argv = [
            str(binary), "--host", s.host, "--port", str(spec.port),
            "--chain-id", str(spec.chain_id), "--hardfork", "cancun",
        ]
        if state_file is not None:
            argv += ["--state", str(state_file), "--state-interval", "5", *HISTORY_BOUND]
        if s.block_time is not None:
            argv += ["--block-time", str(s.block_time)]
        self.progress(f"{spec.name}: starting anvil (chain id {spec.chain_id}) on {spec.rpc_url}")
        proc: subprocess.Popen[bytes] | None = None
        try:
            # A stop signal handled in the middle of spawning (say, raising KeyboardInterrupt) would
            # leave a process nobody knows of: stop signals wait until its PID is recorded.
            with stop_signals_deferred():
                with open(log_file, "ab") as out:
                    proc = subprocess.Popen(
                        argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                        start_new_session=True, env={**os.environ, "HOME": str(home)},
                    )
                self._children[spec.name] = proc
                record = NodeRecord(
                    name=spec.name, pid=proc.pid, port=spec.port, chain_id=spec.chain_id,
                    rpc_url=spec.rpc_url, log_file=str(log_file),
                    state_file=str(state_file) if state_file else None, started_at=time.time(),
                )
                self._pid_file(spec.name).write_text(json.dumps(asdict(record), indent=2))
            self._wait_ready(proc, spec, log_file)
        except BaseException:
            if proc is not None:
                if self.record(spec.name) is None:  # spawned, but its PID file was not written
                    proc.kill()
                self.stop_one(spec.name)
            raise
        self.progress(f"{spec.name}: ready (pid {proc.pid})")
        return record

    def _wait_ready(self, proc: subprocess.Popen[bytes], spec: ChainSpec, log_file: Path) -> None:
        deadline = time.monotonic() + self.settings.start_timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = log_file.read_text(errors="replace")[-800:].strip()
                raise NodeStartError(
                    f"anvil for '{spec.name}' exited with code {proc.returncode} before answering; "
                    f"last log lines ({log_file}):\n{tail}"
                )
            try:
                got = chain_id_of(spec.rpc_url, timeout=0.5)
            except ChainUnavailableError:
                time.sleep(0.05)
                continue
            if got != spec.chain_id:
                raise NodeStartError(
                    f"{spec.rpc_url} answers with chain id {got}, expected {spec.chain_id}: another "
                    "node is listening there"
                )
            return
        raise NodeStartError(
            f"anvil for '{spec.name}' did not answer on {spec.rpc_url} within "
            f"{self.settings.start_timeout_s:.0f}s; see {log_file}"
        )

    # -- stop --------------------------------------------------------------------------------

    def stop_one(self, name: str, *, timeout: float = 10.0) -> bool:
        """Stop node ``name`` if we own it; True when a process was stopped.

        SIGTERM first (anvil saves its state on the way out), SIGKILL after ``timeout``.
        """
        rec = self.record(name)
        child = self._children.pop(name, None)
        stopped = False
        if rec is not None and _is_our_anvil(rec):
            self.progress(f"{name}: stopping anvil (pid {rec.pid})")
            terminate(rec.pid, child, what=f"anvil {name}", timeout=timeout)
            stopped = True
        elif child is not None:
            reap(child, timeout)
        shutil.rmtree(self.scratch_home(name), ignore_errors=True)  # no anvil of ours runs in it now
        self._pid_file(name).unlink(missing_ok=True)
        return stopped

    def scratch_home(self, name: str) -> Path:
        """The ``HOME`` node ``name`` runs with: anvil's scratch folder for old states lives in it."""
        return self.settings.run_dir / f"anvil-{name}.home"

    def stop(self, names: Sequence[str]) -> list[str]:
        """Stop every named node we own; returns the names that were running."""
        return [n for n in names if self.stop_one(n)]
