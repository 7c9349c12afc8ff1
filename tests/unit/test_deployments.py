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
    names = sorted(p.name for p in (tmp_path / "d").iterdir())
    assert names == ["deployments.json", "deployments.json.bak"], "no temp files left"


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


def test_every_write_keeps_the_previous_version_and_a_corrupt_registry_names_it(tmp_path):
    path = tmp_path / "deployments.json"
    reg = DeploymentRegistry(path)
    reg.record(31337, _dep("A", "0x" + "11" * 20))
    assert not reg.backup_path.exists()  # nothing to keep yet
    reg.record(31337, _dep("B", "0x" + "22" * 20))
    assert sorted(DeploymentRegistry(reg.backup_path).for_chain(31337)) == ["A"]
    path.write_text('{"31337": {"A": {"contr')  # a crash of another writer, a bad edit, a full disk
    with pytest.raises(DeploymentError, match=r"previous version is kept at .*deployments\.json\.bak"):
        reg.for_chain(31337)
    path.write_text(reg.backup_path.read_text())  # the advice works
    assert reg.address(31337, "A") == "0x" + "11" * 20


def test_a_corrupt_version_never_replaces_the_backup(tmp_path):
    path = tmp_path / "deployments.json"
    reg = DeploymentRegistry(path)
    reg.record(1, _dep("A", "0x" + "11" * 20))
    reg.record(1, _dep("B", "0x" + "22" * 20))
    good = reg.backup_path.read_text()
    path.write_text("{truncated")
    reg._write({})  # a write over a corrupt file keeps the last good backup
    assert reg.backup_path.read_text() == good


@pytest.mark.parametrize(("nonce", "expected"), [
    # anvil's dev account 0 at several nonces (as `cast compute-address` computes them)
    (0, "0x5FbDB2315678afecb367f032d93F642f64180aa3"),
    (1, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"),
    (127, "0x5fc748f1FEb28d7b76fa1c6B07D8ba2d5535177c"),  # the last one-byte nonce
    (200, "0x56D13Eb21a625EdA8438F55DF2C31dC3632034f5"),  # RLP length prefix (as `cast compute-address`)
    (70000, "0x3808BBF68110240E59B12334b301d8F31ab36363"),
])
def test_create_addresses_follow_the_deployer_and_its_nonce(nonce, expected):
    from chain.deploy import create_address

    assert create_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", nonce) == expected
