"""Deploys land on both chains through ape, are recorded, and are reused when unchanged."""

from __future__ import annotations

import json
import subprocess

import pytest

from chain.deployments import DeploymentRegistry
from chain.rpc import rpc_call
from chain.settings import PROJECT_ROOT, ChainSettings
from tests.conftest import settings_env

pytestmark = pytest.mark.chain


def _code_at(url: str, address: str) -> str:
    return str(rpc_call(url, "eth_getCode", [address, "latest"]))


def test_chainright_deploy_lands_on_each_chain_and_is_recorded(two_chains: ChainSettings, artifacts):
    env = settings_env(two_chains)
    out = subprocess.run(["chainright", "deploy", "--chain", "all"], capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    registry = DeploymentRegistry(two_chains.deployments_file)
    for spec in two_chains.specs("all"):
        deployed = registry.for_chain(spec.chain_id)
        assert deployed, f"nothing recorded for chain {spec.chain_id}"
        for dep in deployed.values():
            assert len(_code_at(spec.rpc_url, dep.address)) > 2
            receipt = rpc_call(spec.rpc_url, "eth_getTransactionReceipt", [dep.tx_hash])
            assert int(receipt["blockNumber"], 16) == dep.block
            assert receipt["contractAddress"].lower() == dep.address.lower()
    # Unchanged build, same args, code still there: reused, not redeployed.
    again = subprocess.run(["chainright", "deploy", "--chain", "home"], capture_output=True,
                           text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "reused" in again.stderr and "deployed at" not in again.stderr


def test_ape_run_deploy_takes_the_same_path(two_chains: ChainSettings, artifacts):
    env = settings_env(two_chains)
    out = subprocess.run(["ape", "run", "deploy", "--chain", "remote", "--force"],
                         capture_output=True, text=True, env=env, timeout=300, cwd=PROJECT_ROOT)
    assert out.returncode == 0, out.stderr
    lines = [line.split("\t") for line in out.stdout.splitlines() if line.startswith("remote\t")]
    assert lines, out.stdout
    recorded = json.loads(two_chains.deployments_file.read_text())["31338"]
    for _, contract, address in lines:
        assert recorded[contract]["address"] == address


def test_deploy_to_a_chain_that_is_down_says_so(tmp_path):
    from tests.conftest import chain_settings_for

    settings = chain_settings_for(tmp_path)
    out = subprocess.run(["chainright", "deploy", "--chain", "home"], capture_output=True,
                         text=True, env=settings_env(settings), timeout=300)
    assert out.returncode == 1
    assert "does not answer" in out.stderr and "chainright node up" in out.stderr
    assert "Traceback" not in out.stderr
