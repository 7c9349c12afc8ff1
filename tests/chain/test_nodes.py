"""The node manager: owns its anvils by PID, checks ports first, fails with clear messages."""

from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest

from chain.errors import NodeBinaryMissingError, PortInUseError
from chain.rpc import chain_id_of, rpc_call
from devnet.anvil import NodeManager, alive
from tests.conftest import chain_settings_for, free_port, settings_env

pytestmark = pytest.mark.chain


def test_both_anvils_start_with_their_chain_ids_and_stop_by_pid(tmp_path):
    settings = chain_settings_for(tmp_path)
    manager = NodeManager(settings)
    records = manager.start(settings.specs("all"))
    try:
        assert {r.name: chain_id_of(r.rpc_url) for r in records} == {"home": 31337, "remote": 31338}
        assert all(alive(r.pid) for r in records)
        assert manager.running("home") is not None
    finally:
        assert sorted(manager.stop(["home", "remote"])) == ["home", "remote"]
    assert not any(alive(r.pid) for r in records)
    assert list((tmp_path / "run").iterdir()) == []


def test_anvils_scratch_states_stay_in_its_own_home_and_go_with_it(tmp_path):
    """Anvil writes old states to $HOME/.foundry/anvil/tmp and never removes them; ours go with the node."""
    settings = chain_settings_for(tmp_path)
    manager = NodeManager(settings)
    (home,) = manager.start(settings.specs("home"))
    scratch = manager.scratch_home("home")
    try:
        rpc_call(home.rpc_url, "anvil_mine", [hex(600)], timeout=120)  # more states than it keeps in memory
        assert list(scratch.glob(".foundry/anvil/tmp/anvil-state-*")), "anvil did not use its own HOME"
    finally:
        manager.stop(["home"])
    assert not scratch.exists()
    scratch.mkdir(parents=True)  # left by an anvil that was killed and never stopped
    (scratch / "stale").write_text("x")
    manager.start(settings.specs("home"))
    try:
        assert not (scratch / "stale").exists()
    finally:
        manager.stop(["home"])


def test_taken_port_starts_nothing(tmp_path):
    settings = chain_settings_for(tmp_path)
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", settings.remote_port))
        blocker.listen()
        manager = NodeManager(settings)
        with pytest.raises(PortInUseError) as err:
            manager.start(settings.specs("all"))
    message = str(err.value)
    assert str(settings.remote_port) in message and "CHAINRIGHT_CHAIN_REMOTE_PORT" in message
    assert "Nothing was started" in message
    assert manager.running("home") is None, "home must not be left running half-way"
    with pytest.raises(Exception):
        chain_id_of(settings.spec("home").rpc_url, timeout=0.3)


def test_missing_anvil_names_the_setup_command(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("devnet.anvil.PROJECT_ROOT", tmp_path)
    settings = chain_settings_for(tmp_path, anvil_bin=tmp_path / "no-anvil")
    with pytest.raises(NodeBinaryMissingError, match="make setup"):
        NodeManager(settings).start(settings.specs("home"))


def test_persisted_state_survives_a_restart(tmp_path):
    settings = chain_settings_for(tmp_path, persist_state=True)
    manager = NodeManager(settings)
    (home,) = manager.start(settings.specs("home"))
    try:
        rpc_call(home.rpc_url, "evm_mine")
        rpc_call(home.rpc_url, "evm_mine")
        mined = int(rpc_call(home.rpc_url, "eth_blockNumber"), 16)
    finally:
        manager.stop(["home"])
    (home,) = manager.start(settings.specs("home"))
    try:
        assert int(rpc_call(home.rpc_url, "eth_blockNumber"), 16) == mined == 2
    finally:
        manager.stop(["home"])


def test_stop_never_signals_a_pid_that_is_not_our_anvil(tmp_path):
    settings = chain_settings_for(tmp_path)
    manager = NodeManager(settings)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        settings.run_dir.mkdir(parents=True)
        record = {"name": "home", "pid": sleeper.pid, "port": settings.home_port,
                  "chain_id": 31337, "rpc_url": "x", "log_file": "x", "state_file": None,
                  "started_at": 0}
        (settings.run_dir / "home.json").write_text(json.dumps(record))
        assert manager.stop(["home"]) == []
        assert sleeper.poll() is None, "a foreign process must survive 'node down'"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_cli_port_in_use_is_one_readable_line(tmp_path):
    settings = chain_settings_for(tmp_path)
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", settings.home_port))
        blocker.listen()
        out = subprocess.run(["chainright", "node", "up", "--detach"], capture_output=True,
                             text=True, env=settings_env(settings), timeout=60)
    assert out.returncode == 1
    assert out.stderr.startswith("error: port ") and "Traceback" not in out.stderr
    assert not (settings.run_dir / "remote.json").exists()


def test_cli_up_detach_status_down_leaves_no_process(tmp_path):
    settings = chain_settings_for(tmp_path)
    env = settings_env(settings)
    up = subprocess.run(["chainright", "node", "up", "--detach"], capture_output=True, text=True,
                        env=env, timeout=60)
    assert up.returncode == 0, up.stderr
    pids = [int(line.split("pid ")[1]) for line in up.stdout.splitlines()]
    status = subprocess.run(["chainright", "node", "status"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert status.stdout.count("answering") == 2
    down = subprocess.run(["chainright", "node", "down"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert down.returncode == 0 and "stopped: home, remote" in down.stderr
    assert not any(alive(p) for p in pids)
    assert free_port() and os.listdir(settings.run_dir) == []
