"""`chainright up` (what `make up` runs): both chains, every contract, indexer, API and the bridge
relayer (2-of-3 validators and the submitter); Ctrl-C
stops every child; a second run resumes from the saved state (same contracts, same tokens)."""

from __future__ import annotations

import os
import re
import time
import urllib.request

import pytest

from devnet.anvil import alive
from tests.conftest import free_port
from tests.support.platform import start_up, stop_up

pytestmark = pytest.mark.integration


def test_up_runs_everything_stops_cleanly_and_resumes(tmp_path):
    api_port = free_port()
    env = dict(os.environ, CHAINRIGHT_CHAIN_DATA_DIR=str(tmp_path), CHAINRIGHT_API_DATA_DIR=str(tmp_path),
               CHAINRIGHT_CHAIN_HOME_PORT=str(free_port()), CHAINRIGHT_CHAIN_REMOTE_PORT=str(free_port()),
               CHAINRIGHT_API_PORT=str(api_port))
    proc, lines = start_up(env)
    text = "\n".join(lines)
    pids = [int(p) for p in re.findall(r"pid (\d+)", text)]
    assert len(pids) >= 8, text  # two anvils, indexer, API, three validators, the submitter
    assert "IdentityRegistry" in text and "CollectionFactory" in text and "HomeLockbox" in text
    assert "validator-2: running" in text and "submitter: running" in text
    with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/health", timeout=5) as r:
        assert r.status == 200
    first_addresses = sorted(set(re.findall(r"0x[0-9a-fA-F]{40}", text)))
    stop_up(proc, lines)
    time.sleep(0.5)
    assert not [p for p in pids if alive(p)], "a child outlived Ctrl-C"

    proc, lines2 = start_up(env)
    text2 = "\n".join(lines2)
    assert "reused" in text2 and " deployed at " not in text2, text2
    assert sorted(set(re.findall(r"0x[0-9a-fA-F]{40}", text2))) == first_addresses
    stop_up(proc, lines2)
