"""The BFT network's PID records without bftd: a record is ours only while /proc names that bftd
with that --home, so stopping never signals another process; the platform's env for the network."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet.bft import BftNetwork, BftNetworkError, BftSettings
from devnet.consortium.process import NodeProcess, write_record

pytestmark = pytest.mark.unit


def _sleeper(argv0: str, *args: str) -> subprocess.Popen[bytes]:
    """A Python process whose /proc cmdline starts with ``argv0`` and carries ``args``."""
    proc = subprocess.Popen([argv0, "-c", "import time; time.sleep(30)", *args], executable=sys.executable)
    # until the child has exec'd, /proc shows the parent's command line (a loaded machine takes a while)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")[0] == argv0.encode():
                break
        except OSError:
            pass
        time.sleep(0.01)
    return proc


@pytest.fixture
def network(tmp_path: Path) -> BftNetwork:
    net = BftNetwork(BftSettings(data_dir=tmp_path / "bft", validators=4, base_port=18900))
    for n in net.nodes:
        (n.home / "config").mkdir(parents=True)
    (net.node(0).home / "config" / "genesis.json").write_text("{}")
    net.run_dir.mkdir(parents=True)
    return net


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait()


def _record(net: BftNetwork, index: int, proc: subprocess.Popen[bytes]) -> None:
    n = net.node(index)
    write_record(net.pid_file(index), NodeProcess(name=n.name, index=index, pid=proc.pid,
                                                  http_port=n.ports.json_rpc, datadir=str(n.home),
                                                  log_file="x", started_at=0.0), proc)


@pytest.mark.parametrize("who", ["another program", "a bftd of another home", "a bftd without --home"])
def test_stopping_a_validator_whose_record_names_another_process_signals_nothing(
        network: BftNetwork, processes: list[subprocess.Popen[bytes]], tmp_path: Path, who: str) -> None:
    argv0, args = {"another program": ("python3", ["--home", str(network.node(0).home)]),
                   "a bftd of another home": ("/x/bftd", ["start", "--home", str(tmp_path / "other")]),
                   "a bftd without --home": ("bftd", ["start"])}[who]
    stranger = _sleeper(argv0, *args)
    processes.append(stranger)
    _record(network, 0, stranger)
    assert network.pid_of(0) is None
    assert not network.pid_file(0).exists()  # the stale record is dropped, not trusted
    _record(network, 0, stranger)
    assert network.stop(0) is False
    assert network.down() == []
    assert stranger.poll() is None, "a process that is not our validator was signalled"


def test_a_recorded_bftd_with_its_home_is_found_and_stopped_by_a_later_process(
        network: BftNetwork, processes: list[subprocess.Popen[bytes]]) -> None:
    ours = _sleeper("/somewhere/bftd", "start", "--home", str(network.node(2).home))
    processes.append(ours)
    _record(network, 2, ours)
    later = BftNetwork(network.settings)  # another chainright process: nothing in memory
    assert later.running() == [2]
    assert later.down() == ["validator2"]
    assert ours.wait(timeout=10) is not None
    assert not later.pid_file(2).exists()


def test_env_points_the_platform_at_the_network_with_confirmations_zero(network: BftNetwork) -> None:
    env = network.env("remote")
    assert env["CHAINRIGHT_CHAIN_REMOTE_RPC_URL"] == network.node(0).rpc_url
    assert env["CHAINRIGHT_CHAIN_REMOTE_CHAIN_ID"] == "1339"
    assert env["CHAINRIGHT_CHAIN_REMOTE_CONFIRMATIONS"] == "0"
    assert float(env["CHAINRIGHT_CHAIN_REMOTE_MAX_BLOCK_AGE_S"]) >= 5
    with pytest.raises(BftNetworkError):
        network.env("elsewhere")
    with pytest.raises(BftNetworkError):
        BftNetwork(BftSettings(data_dir=network.settings.data_dir / "none")).env()


def test_a_configured_binary_of_another_name_is_still_recognised(tmp_path: Path,
                                                                processes: list[subprocess.Popen[bytes]]) -> None:
    net = BftNetwork(BftSettings(data_dir=tmp_path / "bft", validators=1, bftd_bin=tmp_path / "bftd-v2"))
    net.run_dir.mkdir(parents=True)
    ours = _sleeper(str(tmp_path / "bftd-v2"), "start", "--home", str(net.node(0).home))
    processes.append(ours)
    _record(net, 0, ours)
    assert net.pid_of(0) == ours.pid
    assert net.stop(0) is True and ours.wait(timeout=10) is not None


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "CHAINRIGHT_BFT_DATA_DIR": str(data_dir), "CHAINRIGHT_BFT_BASE_PORT": "18900"}
    return subprocess.run([sys.executable, "-m", "chainright", "consortium", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("args", [["add-node"], ["propose", "--add", "0x" + "11" * 20],
                                  ["propose", "--remove", "0x" + "11" * 20]], ids=["add-node", "propose add",
                                                                                  "propose remove"])
def test_changing_the_bft_validator_set_is_refused_with_the_reason(network: BftNetwork, args: list[str]) -> None:
    """bftd wires no staking or governance module: a member joins or leaves only with a new genesis."""
    before = sorted(p.relative_to(network.settings.data_dir) for p in network.settings.data_dir.rglob("*"))
    out = _cli(network.settings.data_dir, *args, "--engine", "bft")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "not available on the bft engine" in out.stderr and "fixed in its genesis" in out.stderr
    assert "new genesis" in out.stderr
    assert sorted(p.relative_to(network.settings.data_dir) for p in network.settings.data_dir.rglob("*")) == before


def test_start_node_names_a_missing_network_or_validator(network: BftNetwork, tmp_path: Path) -> None:
    missing = _cli(tmp_path / "nowhere", "start-node", "1", "--engine", "bft")
    assert missing.returncode == 1 and "no BFT network" in missing.stderr, missing.stderr
    beyond = _cli(network.settings.data_dir, "start-node", "7", "--engine", "bft")
    assert beyond.returncode == 1 and "no validator7" in beyond.stderr, beyond.stderr
    assert not list(network.run_dir.iterdir())  # nothing was started
