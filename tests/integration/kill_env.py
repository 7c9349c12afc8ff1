"""Shared setup of the kill-mid-operation tests: `chainright api run` / `indexer run` as real processes,
started plainly or armed to SIGKILL themselves at one exact point (``tests.support.killpoint``), and
restarted over the same database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from chain.settings import ChainSettings
from tests.conftest import free_port, settings_env
from tests.support.api_flow import officer_grants


@dataclass(frozen=True)
class KillAt:
    """Where the process kills itself: ``target`` (``module:qualname``), ``when`` (before/after), the n-th call."""

    target: str
    when: str = "before"
    nth: int = 1


def service_env(chains: ChainSettings, data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = settings_env(chains)
    env.pop("CHAINRIGHT_API_DATABASE_URL", None)
    env.pop("CHAINRIGHT_API_IPFS_API", None)
    env.update(CHAINRIGHT_API_DATA_DIR=str(data_dir), CHAINRIGHT_API_PORT=str(port),
               CHAINRIGHT_API_ENVIRONMENT="test", CHAINRIGHT_API_ROLE_GRANTS=json.dumps(officer_grants()),
               **extra)
    return env


def argv(command: list[str], kill: KillAt | None, marker: Path) -> list[str]:
    if kill is None:
        return [sys.executable, "-m", "chainright", *command]
    return [sys.executable, "-m", "tests.support.killpoint", kill.target, kill.when, str(kill.nth), str(marker),
            "--", *command]


@dataclass
class Service:
    proc: subprocess.Popen[bytes]
    log: Path
    marker: Path

    def killed_at_point(self, timeout: float = 60) -> bool:
        """Wait for the process to end; True when it SIGKILLed itself at its kill point."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return self.proc.returncode == -signal.SIGKILL and self.marker.exists()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start(command: list[str], env: dict[str, str], workdir: Path, name: str,
          kill: KillAt | None = None) -> Service:
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}.log"
    marker = workdir / f"{name}.killed"
    marker.unlink(missing_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv(command, kill, marker), env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    return Service(proc, log, marker)


def wait_ready(base: str, service: Service, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.proc.poll() is not None:
            raise AssertionError(f"the API exited ({service.proc.returncode}):\n{service.log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/health/live", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the API did not answer within {timeout:.0f}s:\n{service.log.read_text()[-2000:]}")


@contextmanager
def api_process(chains: ChainSettings, data_dir: Path, kill: KillAt | None = None, *,
                name: str = "api", **extra: str) -> Iterator[tuple[str, Service]]:
    """`chainright api run` over ``chains`` with its database in ``data_dir``; stopped at the end."""
    port = free_port()
    service = start(["api", "run"], service_env(chains, data_dir, port, **extra), data_dir, name, kill)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, service)
        yield base, service
    finally:
        service.stop()
