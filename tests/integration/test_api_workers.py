"""``chainright api run --workers 2`` against real anvils: two API processes share the port and the
database, a session made through one is honoured by both, a logout reaches both within the caller
cache's time, and a bad worker count is a usage error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chain.devaccounts import dev_account
from chain.settings import ChainSettings
from tests.conftest import free_port, settings_env
from tests.support.api_flow import login

pytestmark = pytest.mark.integration

COLLECTOR = dev_account(2)
CACHE_TTL_S = 2


def _children(pid: int) -> list[int]:
    """The worker processes uvicorn spawned under ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture
def two_workers(two_chains: ChainSettings, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = settings_env(two_chains)
    env.update(CHAINRIGHT_API_DATA_DIR=str(tmp_path / "api"), CHAINRIGHT_API_ENVIRONMENT="test",
               CHAINRIGHT_API_CALLER_CACHE_TTL_S=str(CACHE_TTL_S))
    log = tmp_path / "api.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "chainright", "api", "run", "--port", str(port),
                                 "--workers", "2"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while len(_children(proc.pid)) < 2 or not _answers(base):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.3)
        yield base, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False


def _me(base: str, headers: dict[str, str]) -> int:
    """``GET /auth/me`` on a connection of its own, so the kernel may hand it to either process."""
    with httpx.Client(base_url=base, timeout=30) as fresh:
        return fresh.get("/auth/me", headers=headers).status_code


def test_two_api_processes_share_sessions_and_a_logout_reaches_both(two_workers):
    base, proc = two_workers
    workers = _children(proc.pid)
    assert len(workers) == 2, workers
    with httpx.Client(base_url=base, timeout=30) as client:
        headers = login(client, COLLECTOR)  # type: ignore[arg-type]
    # Both processes answer for the one session (it lives in the shared database).
    assert [_me(base, headers) for _ in range(20)] == [200] * 20
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.post("/auth/logout", headers=headers).status_code in (200, 204)
    # The process that logged out forgets at once; the other within the caller cache's time.
    time.sleep(CACHE_TTL_S + 0.5)
    assert [_me(base, headers) for _ in range(20)] == [401] * 20
    assert proc.poll() is None and sorted(_children(proc.pid)) == sorted(workers)


def test_a_worker_count_below_one_is_a_usage_error():
    out = subprocess.run([sys.executable, "-m", "chainright", "api", "run", "--workers", "0"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out
    assert "--workers" in out.stderr and "Traceback" not in out.stderr + out.stdout
