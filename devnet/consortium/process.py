"""The consortium's processes: finding geth, starting, identifying and stopping validators and the watchdog.

A process is ours only while ``/proc/<pid>/cmdline`` still names it: a geth with that node's
``--datadir`` (PID records in ``run/node<i>.json``), or the watchdog with that data directory
(``run/watchdog.json``). Nothing else is ever signalled.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from chain.errors import ChainUnavailableError, NodeBinaryMissingError, NodeStartError, PortInUseError
from chain.progress import Progress
from chain.rpc import chain_id_of
from chain.settings import PROJECT_ROOT
from devnet.anvil import alive, port_is_free, read_pid_record, reap, terminate
from devnet.consortium.settings import (
    GETH_VERSION,
    HTTP_APIS,
    PORTS_PER_NODE,
    ConsortiumError,
    ConsortiumNode,
    ConsortiumSettings,
)


@dataclass(frozen=True)
class NodeProcess:
    """A PID record: a node process we started."""

    name: str
    index: int
    pid: int
    http_port: int
    datadir: str
    log_file: str
    started_at: float


def find_geth(configured: Path | None = None) -> Path:
    """The geth binary: the configured path, else the project's .bin/geth (built with our patch).

    A configured binary must be go-ethereum v1.13.15 with tools/geth/clique-shanghai-cancun.patch
    applied; an unpatched geth refuses the genesis' Shanghai/Cancun forks under Clique.
    """
    if configured is not None:
        if configured.is_file() and os.access(configured, os.X_OK):
            return configured
        raise NodeBinaryMissingError(f"CHAINRIGHT_CONSORTIUM_GETH_BIN={configured} is not an executable file")
    default = PROJECT_ROOT / ".bin" / "geth"
    stamp = PROJECT_ROOT / ".bin" / "geth.stamp"
    if default.is_file() and os.access(default, os.X_OK) and stamp.is_file() \
            and stamp.read_text().startswith(f"geth v{GETH_VERSION} patch "):
        return default
    raise NodeBinaryMissingError(
        f"the consortium client (patched geth v{GETH_VERSION}) is not built at {default}; run "
        "'make setup-consortium' in the project root (about 2 minutes, from the Go module proxy)"
    )


# -- whose process is it ------------------------------------------------------------------------


def is_our_process(record: NodeProcess, binary: str, home_flag: str) -> bool:
    """True when record.pid is still a live ``binary`` started with ``home_flag`` record.datadir.

    Shared by the Clique nodes (geth ``--datadir``) and the BFT validators (bftd ``--home``): a PID
    that the kernel handed to another program since is never taken for ours.
    """
    try:
        with open(f"/proc/{record.pid}/cmdline", "rb") as fh:
            argv = [a.decode(errors="replace") for a in fh.read().split(b"\0")]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    if not argv or Path(argv[0]).name != binary:
        return False
    try:
        datadir = argv[argv.index(home_flag) + 1]
    except (ValueError, IndexError):
        return False
    return datadir == record.datadir and alive(record.pid)


def is_our_geth(record: NodeProcess) -> bool:
    """True when record.pid is still the geth we started for that data directory."""
    return is_our_process(record, "geth", "--datadir")


def write_record(path: Path, record: NodeProcess, proc: subprocess.Popen[bytes]) -> None:
    """Write ``record`` to PID file ``path``; kill ``proc`` when that fails (nothing could stop it later)."""
    try:
        path.write_text(json.dumps(asdict(record), indent=2))
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def is_watchdog(pid: int, data_dir: Path) -> bool:
    """True when ``pid`` is a live fork watchdog of the network in ``data_dir``."""
    if pid <= 0 or not alive(pid):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"devnet.consortium.watch" in argv and any(str(data_dir).encode() in a for a in argv)


def read_record(settings: ConsortiumSettings, index: int) -> NodeProcess | None:
    """The PID record of node ``index``, or None."""
    return read_pid_record(settings.pid_file(index), NodeProcess, ConsortiumError)


# -- ports --------------------------------------------------------------------------------------


def check_ports(host: str, nodes: Sequence[ConsortiumNode]) -> None:
    """Raise ``PortInUseError`` naming the first taken port of ``nodes`` (before anything starts)."""
    for node in nodes:
        for what, port in (("HTTP RPC", node.http_port), ("p2p", node.p2p_port),
                           ("engine API", node.authrpc_port)):
            if not port_is_free(host, port):
                raise PortInUseError(
                    f"port {port} on {host} ({what} of consortium {node.name}) is already in "
                    "use; stop whatever listens there or choose other ports with "
                    "CHAINRIGHT_CONSORTIUM_BASE_PORT (node i uses base + 3i .. base + 3i + 2). "
                    "Nothing was started."
                )


def ephemeral_low(default: int = 32768) -> int:
    """The lowest port the kernel hands out for outgoing connections and port-0 binds."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def find_free_base_port(nodes: int, *, host: str = "127.0.0.1", low: int = 20000, high: int | None = None,
                        attempts: int = 200) -> int:
    """A base port such that the ports of ``nodes`` nodes (3 each) are all free right now.

    The range ends below the kernel's ephemeral ports (``ip_local_port_range``): a port found free
    there can be taken a moment later by any outgoing connection or port-0 bind (another test's
    anvil), and geth then exits at start with "address already in use"."""
    span = PORTS_PER_NODE * nodes
    top = high if high is not None else max(low + span + 1, ephemeral_low())
    for _ in range(attempts):
        base = low + secrets.randbelow(top - low - span)
        if all(port_is_free(host, p) for p in range(base, base + span)):
            return base
    raise PortInUseError(f"found no {span} consecutive free ports between {low} and {top}")


# -- validator processes ------------------------------------------------------------------------


def geth_argv(settings: ConsortiumSettings, geth: Path, node: ConsortiumNode) -> list[str]:
    """The command line of node ``node``'s geth (not ``--mine``: sealing is started one at a time)."""
    d = settings.node_dir(node.index)
    s = settings
    return [
        str(geth), "--datadir", str(d), "--config", str(d / "config.toml"),
        "--networkid", str(s.chain_id), "--syncmode", "full", "--gcmode", "archive",
        "--state.scheme", "hash",
        "--port", str(node.p2p_port), "--nat", "none", "--nodiscover", "--ipcdisable",
        "--http", "--http.addr", s.host, "--http.port", str(node.http_port),
        "--http.api", HTTP_APIS,
        "--authrpc.addr", "127.0.0.1", "--authrpc.port", str(node.authrpc_port),
        "--miner.etherbase", node.address, "--miner.gasprice", "1",
        "--unlock", node.address, "--password", str(d / "password"), "--allow-insecure-unlock",
        "--txpool.globalslots", "16384", "--txpool.accountslots", "1024",
        "--txpool.globalqueue", "4096", "--txpool.accountqueue", "1024",
        "--cache", "128", "--verbosity", str(s.verbosity),
    ]


def spawn(settings: ConsortiumSettings, geth: Path, node: ConsortiumNode,
          progress: Progress) -> subprocess.Popen[bytes]:
    """Start node ``node``'s geth in its own session and write its PID record; the child."""
    s = settings
    for d in (s.run_dir, s.log_dir):
        d.mkdir(parents=True, exist_ok=True)
    log_file = s.log_file(node.name)
    progress(f"{node.name}: starting geth ({node.address}) on {node.rpc_url}, p2p {node.p2p_port}")
    with open(log_file, "ab") as out:
        proc = subprocess.Popen(
            geth_argv(s, geth, node), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    record = NodeProcess(name=node.name, index=node.index, pid=proc.pid, http_port=node.http_port,
                         datadir=str(s.node_dir(node.index)), log_file=str(log_file),
                         started_at=time.time())
    write_record(s.pid_file(node.index), record, proc)
    return proc


def crash_summary(text: str, chars: int = 1200) -> str:
    """The end of a log; for a Go crash, its ``panic:``/``fatal error:`` line first."""
    crash = next((line for line in text.splitlines() if line.startswith(("panic:", "fatal error:"))), "")
    return (f"{crash}\n...\n" if crash else "") + text[-chars:].strip()


def log_tail(settings: ConsortiumSettings, node: ConsortiumNode, chars: int = 1200) -> str:
    """The end of the node's log; for a Go crash, its ``panic:``/``fatal error:`` line first."""
    log_file = settings.log_file(node.name)
    try:
        text = log_file.read_text(errors="replace")
    except FileNotFoundError:
        return f"({log_file} missing)"
    return f"({log_file})\n" + crash_summary(text, chars)


def wait_ready(settings: ConsortiumSettings, node: ConsortiumNode, proc: subprocess.Popen[bytes] | None,
               progress: Progress) -> None:
    """Wait until node ``node`` answers RPC with our chain id; raise when its geth exits first."""
    deadline = time.monotonic() + settings.start_timeout_s
    log_file = settings.log_file(node.name)
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log_tail(settings, node)
            if "address already in use" in tail:
                raise PortInUseError(
                    f"geth {node.name} could not bind its ports (another process took one after they "
                    f"were checked); choose other ports with CHAINRIGHT_CONSORTIUM_BASE_PORT. {tail}")
            raise NodeStartError(f"geth {node.name} exited with code {proc.returncode} before "
                                 f"answering; last log lines {tail}")
        try:
            got = chain_id_of(node.rpc_url, timeout=0.5)
        except ChainUnavailableError:
            time.sleep(0.1)
            continue
        if got != settings.chain_id:
            raise NodeStartError(f"{node.rpc_url} answers with chain id {got}, expected "
                                 f"{settings.chain_id}: another node is listening there")
        progress(f"{node.name}: answering RPC")
        return
    raise NodeStartError(f"geth {node.name} did not answer on {node.rpc_url} within "
                         f"{settings.start_timeout_s:.0f}s; see {log_file}")


def stop_node(settings: ConsortiumSettings, index: int, child: subprocess.Popen[bytes] | None,
              progress: Progress, *, kill: bool = False, timeout: float = 20.0) -> bool:
    """Stop node ``index`` if its record names the geth we started; True when a process was stopped.

    SIGTERM (geth flushes its database), SIGKILL after ``timeout``; ``kill`` sends SIGKILL at once.
    ``child`` (our Popen of it, if this process started it) is reaped either way; the record goes.
    """
    rec = read_record(settings, index)
    stopped = False
    if rec is not None and is_our_geth(rec):
        progress(f"{rec.name}: {'killing' if kill else 'stopping'} geth (pid {rec.pid})")
        terminate(rec.pid, child, what=f"geth {rec.name}", timeout=timeout, kill=kill)
        stopped = True
    elif child is not None:
        reap(child, timeout)
    settings.pid_file(index).unlink(missing_ok=True)
    return stopped


# -- the fork watchdog --------------------------------------------------------------------------


def watchdog_status(settings: ConsortiumSettings) -> dict[str, Any] | None:
    """What the watchdog last wrote (pid, state, recoveries), or None when none ran here."""
    try:
        data: dict[str, Any] = json.loads(settings.watchdog_file.read_text())
    except (FileNotFoundError, ValueError):
        return None
    data["running"] = is_watchdog(int(data.get("pid", 0)), settings.data_dir)
    return data


def spawn_watchdog(settings: ConsortiumSettings, progress: Progress) -> subprocess.Popen[bytes]:
    """Start ``python -m devnet.consortium.watch`` with these settings; the child."""
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    settings_file = settings.run_dir / "watchdog-settings.json"
    settings_file.write_text(settings.model_dump_json())
    with open(settings.log_file("watchdog"), "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devnet.consortium.watch", str(settings_file)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            cwd=str(PROJECT_ROOT),
        )
    settings.watchdog_file.write_text(json.dumps({"pid": proc.pid, "state": "starting",
                                                  "started_at": time.time(), "recoveries": []}))
    progress(f"fork watchdog running (pid {proc.pid}, log {settings.log_file('watchdog')})")
    return proc


def stop_watchdog(settings: ConsortiumSettings, child: subprocess.Popen[bytes] | None) -> None:
    """Stop the watchdog the state file names, only while it is that network's watchdog."""
    status = watchdog_status(settings)
    if status is not None and status["running"]:
        terminate(int(status["pid"]), child, what="consortium watchdog", timeout=10)
    elif child is not None:
        reap(child, 5)
