"""`chainright demo` against a platform started the way users start it (`chainright up`, with the
demo's KYC officer granted its role): every step passes and prints its transactions and amounts; a
second run against the same platform passes too (identities already verified, splitter reused);
against a platform that does not answer it exits 1 naming the step and what to do."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import free_port
from tests.support.platform import start_up, stop_up

pytestmark = pytest.mark.integration


def _demo(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chainright", "demo", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def platform_env(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo-platform")
    env = dict(os.environ, CHAINRIGHT_CHAIN_DATA_DIR=str(data), CHAINRIGHT_API_DATA_DIR=str(data),
               CHAINRIGHT_CHAIN_HOME_PORT=str(free_port()), CHAINRIGHT_CHAIN_REMOTE_PORT=str(free_port()),
               CHAINRIGHT_API_PORT=str(free_port()))
    env.pop("CHAINRIGHT_API_ROLE_GRANTS", None)  # a plain `make up`: development grants the dev officer
    env.pop("CHAINRIGHT_API_IPFS_API", None)
    running = {"up": start_up(env)}  # the test restarts it: teardown stops whichever runs
    try:
        yield env, running
    finally:
        stop_up(*running["up"])


def test_demo_walks_the_whole_mission_against_the_running_platform_twice(platform_env, tmp_path):
    env, running = platform_env
    up_output = "\n".join(running["up"][1])
    result = _demo(env, "--attach", "--out-dir", str(tmp_path))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "demo complete: 11 steps passed" in out
    assert re.search(r"creator did:pkh:eip155:31337:0x[0-9a-fA-F]{40} signed a verifiable presentation", out)
    assert "officer approved at level 2: identity registry written (chain 31337 tx 0x" in out
    store = "ipfs" if "content store    IPFS node" in up_output else "local"
    assert re.search(rf"uploaded \d+ bytes to {store}: CID bafk", out)
    assert "30%" in out and "40%" in out
    assert "royalty 0.1 ETH (100000000000000000 wei) landed in the splitter" in out
    assert "fee to the splitter: 0.01 ETH (10000000000000000 wei)" in out
    paid = {who: int(w) for who, w in re.findall(r"(rights holder|issuer|channel)\s+\(\d+%\) withdrew "
                                                 r"[\d.]+ ETH \((\d+) wei\)", out)}
    assert paid == {"rights holder": 33 * 10**15, "issuer": 44 * 10**15, "channel": 33 * 10**15}
    assert re.search(r"relayed in [\d.]+s: wrapped token \d+ on chain 31338 belongs to the collector", out)
    assert re.search(r"relayed back in [\d.]+s: token 1 is the collector's again on chain 31337", out)
    assert re.search(r"verified offline: (\d+) of \1 checks passed", out)
    bundle = json.loads((tmp_path / "provenance-bundle.json").read_text())
    assert {"TokenLocked", "TokenUnlocked", "OrderFilled", "LicenseGranted"} <= {e["event"] for e in bundle["events"]}
    assert "refused: order refused by the circuit breaker" in out
    assert "refused: circuit breaker tripped" in out and "collectionPolicy.halted = True" in out
    assert len(re.findall(r"tx 0x[0-9a-f]{64}", out)) >= 15

    result = _demo(env, "--attach", "--out-dir", str(tmp_path / "again"))  # the same platform again
    assert result.returncode == 0, result.stdout + result.stderr
    assert "creator is already KYC-verified" in result.stdout
    assert "already exists" in result.stdout  # the same 30/40/30 splitter
    assert "demo complete: 11 steps passed" in result.stdout

    # Ctrl-C and `make up` again: the platform resumes with both runs' works and sales.
    stop_up(*running["up"])
    running["up"] = start_up(env)
    state = next(line for line in running["up"][1] if line.strip().startswith("state"))
    sales = re.search(r"(\d+) sales", state)
    assert sales is not None and int(sales.group(1)) >= 2, state
    assert re.search(r"\b[1-9]\d* registered", state), state


def test_demo_against_an_unreachable_platform_exits_1_naming_the_step(tmp_path):
    port = free_port()
    env = dict(os.environ, CHAINRIGHT_CHAIN_DATA_DIR=str(tmp_path), CHAINRIGHT_API_DATA_DIR=str(tmp_path),
               CHAINRIGHT_API_PORT=str(port))
    result = _demo(env, "--attach", timeout=120)
    assert result.returncode == 1
    assert f"error: step 0 'reach the platform' failed: no Chainright API answers at http://127.0.0.1:{port}" \
        in result.stderr
    assert "chainright up" in result.stderr and "Traceback" not in result.stderr
