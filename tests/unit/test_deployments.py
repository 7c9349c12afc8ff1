from __future__ import annotations

import pytest

from chain.deployments import Deployment, DeploymentRegistry
from chain.errors import DeploymentError

pytestmark = pytest.mark.unit


def _dep(name: str, address: str) -> Deployment:
    return Deployment(contract=name, address=address, tx_hash="0x" + "ab" * 32, block=3,
                      code_hash="c0de", args=["x", 1])


def test_records_per_chain_id_and_reads_back(tmp_path):
    reg = DeploymentRegistry(tmp_path / "d" / "deployments.json")
    reg.record(31337, _dep("A", "0x" + "11" * 20))
    reg.record(31338, _dep("A", "0x" + "22" * 20))
    reg.record(31337, _dep("B", "0x" + "33" * 20))
    again = DeploymentRegistry(tmp_path / "d" / "deployments.json")
    assert again.address(31337, "A") == "0x" + "11" * 20
    assert again.address(31338, "A") == "0x" + "22" * 20
    assert sorted(again.for_chain(31337)) == ["A", "B"]
    assert again.get(31338, "B") is None
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["deployments.json"], "no temp files left"


def test_missing_contract_says_how_to_deploy(tmp_path):
    reg = DeploymentRegistry(tmp_path / "deployments.json")
    with pytest.raises(DeploymentError, match="chainright deploy"):
        reg.address(31337, "Nope")


def test_corrupt_registry_is_a_clear_error(tmp_path):
    path = tmp_path / "deployments.json"
    path.write_text("{truncated")
    with pytest.raises(DeploymentError, match="not valid JSON"):
        DeploymentRegistry(path).for_chain(31337)


def test_forget_chain_drops_only_that_chain(tmp_path):
    reg = DeploymentRegistry(tmp_path / "deployments.json")
    reg.record(1, _dep("A", "0x" + "11" * 20))
    reg.record(2, _dep("A", "0x" + "22" * 20))
    reg.forget_chain(1)
    assert reg.for_chain(1) == {} and "A" in reg.for_chain(2)
