"""`chainright up` (what `make up` runs): both chains, every contract, indexer, API and the bridge
relayer (2-of-3 validators and the submitter); Ctrl-C
stops every child; a second run resumes from the saved state (same contracts, same tokens)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest

from chain.nodes import _alive
from tests.conftest import free_port

pytestmark = pytest.mark.integration


def _run_until_ready(env: dict[str, str], timeout: float = 240) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(["chainright", "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("ready."):
            return proc, lines
    proc.kill()
    raise AssertionError("chainright up never became ready:\n" + "\n".join(lines))


def _stop(proc: subprocess.Popen[str], lines: list[str]) -> None:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    lines.extend(out.splitlines())
    assert proc.returncode == 0, "\n".join(lines)


def test_up_runs_everything_stops_cleanly_and_resumes(tmp_path):
    api_port = free_port()
    env = dict(os.environ, CHAINRIGHT_CHAIN_DATA_DIR=str(tmp_path), CHAINRIGHT_API_DATA_DIR=str(tmp_path),
               CHAINRIGHT_CHAIN_HOME_PORT=str(free_port()), CHAINRIGHT_CHAIN_REMOTE_PORT=str(free_port()),
               CHAINRIGHT_API_PORT=str(api_port))
    proc, lines = _run_until_ready(env)
    text = "\n".join(lines)
    pids = [int(p) for p in re.findall(r"pid (\d+)", text)]
    assert len(pids) >= 8, text  # two anvils, indexer, API, three validators, the submitter
    assert "IdentityRegistry" in text and "CollectionFactory" in text and "HomeLockbox" in text
    assert "validator-2: running" in text and "submitter: running" in text
    with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/health", timeout=5) as r:
        assert r.status == 200
    first_addresses = sorted(set(re.findall(r"0x[0-9a-fA-F]{40}", text)))
    _stop(proc, lines)
    time.sleep(0.5)
    assert not [p for p in pids if _alive(p)], "a child outlived Ctrl-C"

    proc, lines2 = _run_until_ready(env)
    text2 = "\n".join(lines2)
    assert "reused" in text2 and " deployed at " not in text2, text2
    assert sorted(set(re.findall(r"0x[0-9a-fA-F]{40}", text2))) == first_addresses
    _stop(proc, lines2)
