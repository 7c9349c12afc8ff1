"""Run a real local IPFS node (js-ipfs from tools/ipfs-node, Kubo-compatible ``/api/v0``)
for integration tests and ``make up``: its own repository folder, loopback ports, offline,
owned by PID and stopped by it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from chain.errors import NodeStartError
from chain.settings import PROJECT_ROOT

JSIPFS = PROJECT_ROOT / "tools" / "ipfs-node" / "node_modules" / ".bin" / "jsipfs"


@dataclass
class IpfsNode:
    repo: Path
    api_port: int
    process: subprocess.Popen[bytes]

    @property
    def multiaddr(self) -> str:
        return f"/ip4/127.0.0.1/tcp/{self.api_port}"

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_ipfs_node(repo: Path, api_port: int, gateway_port: int, rpc_port: int,
                    timeout_s: float = 60.0) -> IpfsNode:
    """Initialise ``repo`` if needed and start an offline daemon answering on ``api_port``."""
    if not JSIPFS.exists():
        raise NodeStartError(
            f"js-ipfs is not installed ({JSIPFS} missing); run 'make setup-ipfs'")
    env = dict(os.environ, IPFS_PATH=str(repo))
    log_file = repo.parent / f"{repo.name}.log"
    if not (repo / "config").exists():
        repo.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(JSIPFS), "init", "--profile", "test"], env=env, check=True,
                       capture_output=True, timeout=120)
    config_path = repo / "config"
    config = json.loads(config_path.read_text())
    config["Addresses"].update({
        "API": f"/ip4/127.0.0.1/tcp/{api_port}",
        "Gateway": f"/ip4/127.0.0.1/tcp/{gateway_port}",
        "RPC": f"/ip4/127.0.0.1/tcp/{rpc_port}",
        "Swarm": [],
    })
    config_path.write_text(json.dumps(config, indent=2))
    with open(log_file, "ab") as out:
        proc = subprocess.Popen([str(JSIPFS), "daemon", "--offline"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    node = IpfsNode(repo=repo, api_port=api_port, process=proc)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NodeStartError(
                f"the IPFS node exited with code {proc.returncode}; see {log_file}")
        if "Daemon is ready" in log_file.read_text(errors="replace"):
            return node
        time.sleep(0.2)
    node.stop()
    raise NodeStartError(f"the IPFS node did not start within {timeout_s:.0f}s; see {log_file}")
