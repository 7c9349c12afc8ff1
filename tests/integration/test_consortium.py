"""The consortium network: real geth (Clique) validator processes on loopback, owned by PID.

One 4-validator network (1 s blocks) serves the module, in order: start-up, deploy and use of the
platform's contracts, a crashed validator, a stall and its recovery, membership changes. Every
fault test restarts what it stopped; the fixture stops every node at the end.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
from web3 import Web3

from chain.connection import connect
from chain.devaccounts import dev_account
from chain.errors import NodeBinaryMissingError, PortInUseError
from chain.health import ChainStalledError, check_progress
from chain.rpc import rpc_call
from chain.settings import ChainSettings
from chain.tx import TxSender
from devnet.anvil import alive
from devnet.consortium import (
    Consortium,
    ConsortiumSettings,
    NodeProcess,
    confirmations_for,
    find_free_base_port,
)
from tests.conftest import free_port

pytestmark = pytest.mark.integration

PERIOD_S = 1
STALL_AGE_S = 4.0
"""A head older than this counts as stalled (4 block periods; out-of-turn signers seal within
1.5 s of their slot on a 4-signer network)."""

T = TypeVar("T")


def wait_for(what: str, fn: Callable[[], T | None], timeout: float, interval: float = 0.2) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _geth_pids_for(data_dir: Path) -> list[int]:
    """PIDs of live processes whose command line names a data directory under ``data_dir``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(str(data_dir).encode() in a for a in argv) and alive(int(entry)):
            found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consortium]:
    data_dir = tmp_path_factory.mktemp("consortium")
    settings = ConsortiumSettings(data_dir=data_dir, base_port=find_free_base_port(6),
                                  block_period_s=PERIOD_S, validators=4)
    network = Consortium(settings)
    started = time.monotonic()
    try:
        network.up(4)
        network.startup_s = time.monotonic() - started  # type: ignore[attr-defined]
        yield network
    finally:
        network.down()
        assert _geth_pids_for(data_dir) == [], "a consortium node outlived the test module"


@pytest.fixture(scope="module")
def web3(consortium: Consortium) -> Web3:
    """A web3 connection to node0, which no test stops."""
    return connect(home_settings(consortium).spec("home"))


def home_settings(consortium: Consortium, **overrides: Any) -> ChainSettings:
    env = consortium.env("home")
    values: dict[str, Any] = {
        "environment": "test", "data_dir": consortium.settings.data_dir / "platform",
        "home_rpc_url": env["CHAINRIGHT_CHAIN_HOME_RPC_URL"],
        "home_chain_id": int(env["CHAINRIGHT_CHAIN_HOME_CHAIN_ID"]),
        "home_poa": env["CHAINRIGHT_CHAIN_HOME_POA"] == "true",
        "home_confirmations": int(env["CHAINRIGHT_CHAIN_HOME_CONFIRMATIONS"]),
        "remote_port": free_port(),
    }
    values.update(overrides)
    return ChainSettings(**values)


def transfer(web3: Web3, sender_index: int = 5, to_index: int = 6) -> dict[str, Any]:
    sender = TxSender(web3, dev_account(sender_index), timeout_s=30)
    receipt = sender.transact({"to": dev_account(to_index).address, "value": 1})
    return dict(receipt)


# -- start-up ---------------------------------------------------------------------------------


def test_four_validators_start_peer_and_take_turns_sealing(consortium: Consortium):
    net = consortium.require_network()
    statuses = consortium.status()
    assert [s.node.name for s in statuses] == ["node0", "node1", "node2", "node3"]
    assert all(s.running and s.is_signer for s in statuses), statuses
    assert sorted(consortium.signers()) == sorted(net.genesis_validators)
    assert len({s.node.rpc_url for s in statuses}) == 4 and len({s.pid for s in statuses}) == 4
    wait_for("every node peered with the three others",
             lambda: all(s.peers == 3 for s in consortium.status()), timeout=20)
    # Clique rotates the in-turn signer: 8 consecutive blocks carry several distinct signers,
    # and each of them is a genesis validator.
    head = consortium.head()
    wait_for("8 more blocks", lambda: consortium.head() >= head + 8, timeout=30)
    recent = consortium.recent_signers(8)
    assert len(set(recent)) >= 3, recent
    assert set(recent) <= set(net.genesis_validators)
    # The start is sequential: the first blocks come from distinct validators, each imported by every
    # node before the next validator seals, and no node ever dropped a block as "syncing".
    first = [consortium.signer_of(n) for n in range(1, len(net.nodes))]
    assert len(set(first)) == len(first), first
    for node in net.nodes:
        logged = (consortium.settings.log_dir / f"{node.name}.log").read_text(errors="replace")
        assert "discarded propagated block" not in logged, node.name
    assert consortium.startup_s < 30  # type: ignore[attr-defined]
    print(f"\nconsortium: 4 validators up and sealing in {consortium.startup_s:.1f}s")  # type: ignore[attr-defined]


def test_validator_keys_are_private_to_the_owner_and_never_logged(consortium: Consortium):
    for node in consortium.require_network().nodes:
        node_dir = consortium.node_dir(node.index)
        secrets_files = [node_dir / "password", node_dir / "geth" / "nodekey",
                         *sorted((node_dir / "keystore").iterdir())]
        assert len(secrets_files) == 3
        for path in secrets_files:
            assert path.stat().st_mode & 0o777 == 0o600, path
        password = (node_dir / "password").read_text()
        logged = (consortium.settings.log_dir / f"{node.name}.log").read_text(errors="replace")
        assert password not in logged
        assert (node_dir / "geth" / "nodekey").read_text() not in logged
        assert "password" not in (consortium.settings.network_file.read_text())
        assert node.address in logged, "the log should at least name the sealing address"


def test_a_taken_port_starts_nothing_and_creates_nothing(tmp_path):
    settings = ConsortiumSettings(data_dir=tmp_path / "net", base_port=find_free_base_port(4))
    taken = settings.base_port + 3 * 2 + 1  # node2's p2p port
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", taken))
        blocker.listen()
        with pytest.raises(PortInUseError) as err:
            Consortium(settings).up(4)
    assert str(taken) in str(err.value) and "node2" in str(err.value)
    assert "Nothing was started" in str(err.value)
    assert not settings.network_file.exists()
    assert _geth_pids_for(settings.data_dir) == []


def test_a_pid_record_pointing_at_another_process_is_never_signalled(tmp_path):
    settings = ConsortiumSettings(data_dir=tmp_path / "net", base_port=find_free_base_port(1))
    network = Consortium(settings)
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        settings.run_dir.mkdir(parents=True)
        fake = NodeProcess(name="node0", index=0, pid=stranger.pid, http_port=settings.base_port,
                           datadir=str(network.node_dir(0)), log_file="x", started_at=0.0)
        network._pid_file(0).write_text(json.dumps(fake.__dict__))
        assert network.running(0) is None  # not our geth: the record is dropped, not acted on
        assert network.stop_node(0) is False
        assert stranger.poll() is None, "a reused PID must never be signalled"
    finally:
        stranger.kill()
        stranger.wait()


def test_an_unbuilt_client_names_the_setup_command(tmp_path, monkeypatch):
    monkeypatch.setattr("devnet.consortium.process.PROJECT_ROOT", tmp_path)
    settings = ConsortiumSettings(data_dir=tmp_path / "net", base_port=find_free_base_port(1))
    with pytest.raises(NodeBinaryMissingError, match="make setup-consortium"):
        Consortium(settings).up(1)
    assert not settings.network_file.exists()


def test_a_validator_key_whose_iv_starts_with_a_zero_byte_still_unlocks(tmp_path, monkeypatch):
    """eth-keyfile writes the AES-CTR IV as an integer and so drops its leading zero bytes: one key
    in 256 had a 15-byte IV, and geth panicked at start ("bad IV length"; a loaded module run failed
    on it). Every random block here starts with a zero byte; both validators must still start."""
    import os as os_module

    import eth_keyfile.keyfile

    monkeypatch.setattr(eth_keyfile.keyfile.Random, "get_random_bytes",
                        lambda n: b"\0" + os_module.urandom(n - 1))
    settings = ConsortiumSettings(data_dir=tmp_path / "net", base_port=find_free_base_port(2), validators=2,
                                  watchdog=False)
    network = Consortium(settings)
    try:
        network.up(2)
        assert len(network.running_nodes()) == 2
        for index in range(2):
            keyfile = json.loads(next((network.node_dir(index) / "keystore").iterdir()).read_text())
            assert len(keyfile["crypto"]["cipherparams"]["iv"]) == 32
    finally:
        network.down()
    assert _geth_pids_for(settings.data_dir) == []


# -- the platform on the consortium -------------------------------------------------------------


def test_platform_contracts_deploy_and_take_a_transaction(consortium: Consortium, web3: Web3, artifacts):
    from chain.deploy import default_plan, deploy_to_chains

    settings = home_settings(consortium)
    assert settings.home_confirmations == confirmations_for(4) == 3
    results = deploy_to_chains(settings, [settings.spec("home")])["home"]
    assert results, "the deploy plan deployed nothing"
    signers = set(consortium.signers())
    for result in results:
        dep = result.deployment
        assert len(web3.eth.get_code(dep.address)) > 0, f"{dep.contract} has no code"
        block = dep.block
        assert consortium.signer_of(block) in signers
    # A transaction on a deployed contract, whatever the families are: an ownership or admin
    # call the deployer is entitled to, through the same sender the platform uses.
    sender = TxSender(web3, dev_account(0), timeout_s=30)
    contract_of = {step.name: step.contract for step in default_plan()}
    receipt = None
    for result in results:
        abi = artifacts.get(contract_of[result.deployment.contract]).abi
        contract = web3.eth.contract(address=result.deployment.address, abi=abi)
        names = {item.get("name") for item in abi if item.get("type") == "function"}
        if "transferOwnership" in names and contract.functions.owner().call() == sender.address:
            receipt = sender.transact(sender.call_tx(contract.functions.transferOwnership(sender.address)))
        elif "grantRole" in names and contract.functions.hasRole(b"\0" * 32, sender.address).call():
            receipt = sender.transact(sender.call_tx(contract.functions.grantRole(b"\0" * 32, sender.address)))
        if receipt is not None:
            break
    assert receipt is not None, "no deployed contract offers an owner/admin call to exercise"
    assert receipt["status"] == 1
    # Final by the configured depth: that many blocks on top, sealed by distinct signers.
    depth = settings.home_confirmations
    wait_for(f"{depth} confirmations", lambda: web3.eth.block_number >= receipt["blockNumber"] + depth,
             timeout=20)
    on_top = [consortium.signer_of(n) for n in range(receipt["blockNumber"] + 1,
                                                     receipt["blockNumber"] + depth + 1)]
    assert len(set(on_top)) == depth, on_top


def test_chainright_deploy_home_reaches_the_consortium_through_its_env(consortium: Consortium):
    # What an operator runs: eval "$(chainright consortium env)"; chainright deploy --chain home.
    consortium_env = dict(os.environ, CHAINRIGHT_CONSORTIUM_DATA_DIR=str(consortium.settings.data_dir),
                          CHAINRIGHT_CONSORTIUM_BASE_PORT=str(consortium.settings.base_port))
    exports = subprocess.run([sys.executable, "-m", "chainright", "consortium", "env"],
                             capture_output=True, text=True, env=consortium_env, timeout=60)
    assert exports.returncode == 0, exports.stderr
    env = dict(os.environ, CHAINRIGHT_CHAIN_ENVIRONMENT="test",
               CHAINRIGHT_CHAIN_DATA_DIR=str(consortium.settings.data_dir / "platform"))
    for line in exports.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value
    assert env["CHAINRIGHT_CHAIN_HOME_CHAIN_ID"] == "1337" and env["CHAINRIGHT_CHAIN_HOME_POA"] == "true"
    out = subprocess.run([sys.executable, "-m", "chainright", "deploy", "--chain", "home"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    # The previous test deployed into the same registry: same build, code on chain, so reused.
    assert "reused" in out.stderr and "deployed at" not in out.stderr, out.stderr
    assert out.stdout.startswith("home\t"), out.stdout


# -- faults -------------------------------------------------------------------------------------


def test_one_crashed_validator_does_not_stop_the_chain_and_catches_up_on_restart(
        consortium: Consortium, web3: Web3):
    victim = consortium.require_network().node(3)
    assert consortium.stop_node(victim.index, kill=True)  # SIGKILL: a crash, no clean shutdown
    try:
        head = web3.eth.block_number
        wait_for("6 blocks without node3", lambda: web3.eth.block_number >= head + 6, timeout=20)
        sealed = {consortium.signer_of(n) for n in range(head + 2, head + 7)}
        assert victim.address not in sealed and len(sealed) >= 2
        receipt = transfer(web3)
        assert receipt["status"] == 1
        check_progress(web3, STALL_AGE_S)
    finally:
        restarted = time.monotonic()
        consortium.start_node(victim.index)
    wait_for("node3 at the others' head",
             lambda: consortium.head(victim.rpc_url) >= web3.eth.block_number - 1, timeout=30)
    caught_up = time.monotonic() - restarted
    wait_for("node3 sealing again", lambda: victim.address in consortium.recent_signers(4), timeout=30)
    print(f"\nconsortium: crashed validator restarted and caught up in {caught_up:.1f}s")


def test_losing_half_the_validators_stalls_detectably_and_recovers_with_nothing_lost(
        consortium: Consortium, web3: Web3):
    net = consortium.require_network()
    down = [net.node(2), net.node(3)]
    sender = TxSender(web3, dev_account(7), timeout_s=30)
    nonce_before = web3.eth.get_transaction_count(sender.address)
    for node in down:
        consortium.stop_node(node.index, kill=True)
    killed = time.monotonic()
    restarted = None
    try:
        # Two signers of four can seal at most two blocks (each may seal one of any three in a
        # row), then nothing: the head ages until check_progress calls it a stall.
        def stalled() -> ChainStalledError | None:
            try:
                check_progress(web3, STALL_AGE_S)
            except ChainStalledError as exc:
                return exc
            return None

        error = wait_for("the stall to be detected", stalled, timeout=30, interval=0.25)
        detected_s = time.monotonic() - killed
        stalled_head = web3.eth.get_block("latest")
        # Clique finality is by depth (floor(V/2)+1 = 3 blocks for 4 validators): the blocks
        # above that depth may be replaced when the returning signers' out-of-turn blocks compete.
        final_before = web3.eth.get_block(max(0, stalled_head["number"] - 3))
        assert error.block_number == stalled_head["number"]
        assert f"last block {error.block_number}" in str(error) and "s old" in str(error)
        assert error.age_s > STALL_AGE_S
        # A transaction signed and sent during the stall waits in the pool.
        raw, tx_hash = sender.sign({"to": dev_account(8).address, "value": 12345})
        sender.send_raw(raw, tx_hash)
        time.sleep(2 * PERIOD_S)
        assert web3.eth.block_number == stalled_head["number"], "the chain moved while stalled"
    finally:
        restarted = time.monotonic()
        for node in down:
            consortium.start_node(node.index)
    wait_for("a new block after the restart",
             lambda: web3.eth.block_number > stalled_head["number"], timeout=60)
    recovered_s = time.monotonic() - restarted
    check_progress(web3, STALL_AGE_S)
    # Nothing lost: every block that was final (3 deep) before the stall is still canonical, and
    # the transaction sent during the stall is mined exactly once (re-sending the same bytes is
    # safe if a node lost it).
    assert web3.eth.get_block(final_before["number"])["hash"] == final_before["hash"]
    try:
        receipt = sender.wait(tx_hash)
    except Exception:
        sender.send_raw(raw, tx_hash)
        receipt = sender.wait(tx_hash)
    assert receipt["status"] == 1
    sender.send_raw(raw, tx_hash)  # a late retry of the same bytes changes nothing
    time.sleep(2 * PERIOD_S)
    assert web3.eth.get_transaction_count(sender.address) == nonce_before + 1
    wait_for("all four signers sealing again",
             lambda: len(set(consortium.recent_signers(8))) == 4, timeout=60)
    print(f"\nconsortium: stall detected {detected_s:.1f}s after losing 2 of 4 validators "
          f"(limit {STALL_AGE_S:g}s); first block {recovered_s:.1f}s after restarting them")


# -- forks ----------------------------------------------------------------------------------------


def _link(a: Any, b: Any, *, up: bool) -> None:
    method = "admin_addPeer" if up else "admin_removePeer"
    rpc_call(a.rpc_url, method, [b.enode])
    rpc_call(b.rpc_url, method, [a.enode])


def _block(url: str, number: int | str) -> dict[str, Any]:
    tag = hex(number) if isinstance(number, int) else number
    block: dict[str, Any] = rpc_call(url, "eth_getBlockByNumber", [tag, False])
    return block


def _heads_still(nodes: list[Any], seconds: float) -> bool:
    before = [_block(n.rpc_url, "latest")["hash"] for n in nodes]
    time.sleep(seconds)
    return before == [_block(n.rpc_url, "latest")["hash"] for n in nodes]


def _one_block_everywhere(nodes: list[Any], number: int) -> bool:
    blocks = [_block(n.rpc_url, number) for n in nodes]
    return all(blocks) and len({b["hash"] for b in blocks}) == 1


def test_a_deadlock_of_two_partitioned_pairs_heals_by_itself_keeping_every_transaction(
        consortium: Consortium, web3: Web3):
    """The wedge, made on purpose. Four signers may each seal one of any three blocks in a row. From a
    head H sealed by X (H-1 by Y), the validators are cut into pairs {P, Y} and {R, X}, where R is the
    in-turn signer of H+1 and P the other one allowed to seal it. Pair A seals H+1 (P, out of turn)
    and H+2 (Y, out of turn): difficulty 1 + 1. Pair B seals H+1 (R, in turn): difficulty 2. The
    forks weigh the same, and on each both of its own signers "signed recently" while the two who may
    seal sit on the other fork. Linked again with every miner running, nobody seals and geth never
    switches (equal difficulty, no new block). The watchdog must see it and resume the chain, with
    every transaction sent during the split mined exactly once."""
    net = consortium.require_network()
    nodes = list(net.nodes[:4])
    by_address = {n.address: n for n in nodes}
    signers = sorted(consortium.signers(), key=lambda a: int(a, 16))  # Clique's in-turn order
    assert len(signers) == 4 and set(signers) == set(by_address)
    plan = None
    for _attempt in range(10):
        for _settle in range(2):  # the watchdog may heal a race the stop left, and restart a miner
            for node in nodes:
                rpc_call(node.rpc_url, "miner_stop", [])
            # A seal already scheduled (out-of-turn delay up to 1.5 s after the period) still lands
            # after miner_stop: wait until no node's head has moved for 3 periods.
            wait_for("the heads to stand still", partial(_heads_still, nodes, 3 * PERIOD_S), timeout=30,
                     interval=0)
            wait_for("one head on every node",
                     lambda: len({_block(n.rpc_url, "latest")["hash"] for n in nodes}) == 1, timeout=30)
        height = int(_block(nodes[0].rpc_url, "latest")["number"], 16)
        x, y = consortium.signer_of(height), consortium.signer_of(height - 1)
        allowed = [a for a in signers if a not in (x, y)]
        r = signers[(height + 1) % 4]
        if r in allowed and y != signers[(height + 2) % 4]:
            p = next(a for a in allowed if a != r)
            plan = (height, [by_address[p], by_address[y]], [by_address[r], by_address[x]])
            break
        for node in nodes:  # not a head the wedge can be built on: let the chain move on a little
            rpc_call(node.rpc_url, "miner_start", [])
        time.sleep(2.5 * PERIOD_S)
    assert plan is not None, "no head in 10 tries had an in-turn rotation to build the wedge on"
    height, side_a, side_b = plan
    def peer_counts() -> list[int]:
        return [int(rpc_call(n.rpc_url, "net_peerCount"), 16) for n in nodes]

    def cut() -> bool:
        for a in side_a:  # again each time: a redial that raced the first removal is cut too
            for b in side_b:
                _link(a, b, up=False)
        time.sleep(0.5)
        return peer_counts() == [1, 1, 1, 1]

    try:
        wait_for("the two pairs cut apart", cut, timeout=30, interval=0.5)

        senders = {"a": TxSender(web3, dev_account(3), timeout_s=60), "b": TxSender(web3, dev_account(4), timeout_s=60),
                   "both": TxSender(web3, dev_account(5), timeout_s=60)}
        nonces = {k: web3.eth.get_transaction_count(s.address) for k, s in senders.items()}
        sent: dict[str, Any] = {}
        for key, entry in (("a", [side_a[0]]), ("b", [side_b[0]]), ("both", [side_a[0], side_b[0]])):
            raw, tx_hash = senders[key].sign({"to": dev_account(9).address, "value": 1000 + len(sent)})
            for node in entry:
                rpc_call(node.rpc_url, "eth_sendRawTransaction", ["0x" + bytes(raw).hex()])
            sent[key] = tx_hash

        def seal_one(node: Any, number: int) -> dict[str, Any]:
            rpc_call(node.rpc_url, "miner_start", [])
            wait_for(f"{node.name} to seal block {number}",
                     lambda: int(_block(node.rpc_url, "latest")["number"], 16) >= number, timeout=20)
            rpc_call(node.rpc_url, "miner_stop", [])
            block = _block(node.rpc_url, number)
            assert consortium.signer_of(number, node.rpc_url) == node.address
            return block

        seal_one(side_a[0], height + 1)
        seal_one(side_a[1], height + 2)
        seal_one(side_b[0], height + 1)
        head_a, head_b = _block(side_a[0].rpc_url, "latest"), _block(side_b[0].rpc_url, "latest")
        assert int(head_a["number"], 16) == height + 2 and int(head_b["number"], 16) == height + 1
        assert head_a["totalDifficulty"] == head_b["totalDifficulty"], "the forks must weigh the same"
        assert consortium.diagnose().kind in ("forked", "partitioned")

        recoveries_before = len((consortium.watchdog_status() or {}).get("recoveries", []))
        for node in nodes:
            rpc_call(node.rpc_url, "miner_start", [])
        for a in side_a:
            for b in side_b:
                _link(a, b, up=True)
        linked = time.monotonic()
        wait_for("the network sealing again past the forks",
                 lambda: all(int(_block(n.rpc_url, "latest")["number"], 16) >= height + 4 for n in nodes)
                 and len({_block(n.rpc_url, height + 3)["hash"] for n in nodes}) == 1, timeout=90, interval=0.5)
        healed_s = time.monotonic() - linked
        status = consortium.watchdog_status()
        assert status is not None and status["running"]
        assert len(status["recoveries"]) > recoveries_before, status
        last = status["recoveries"][-1]
        assert sorted(last["rewound"]) in (sorted(n.name for n in side_a), sorted(n.name for n in side_b))
        # Every transaction of the split is mined exactly once, on the one chain every node agrees on.
        for key, tx_hash in sent.items():
            receipt = senders[key].wait(tx_hash)
            assert receipt["status"] == 1
            assert web3.eth.get_transaction_count(senders[key].address) == nonces[key] + 1, key
            wait_for(f"every node holding the same block {receipt['blockNumber']}",
                     partial(_one_block_everywhere, nodes, receipt["blockNumber"]), timeout=20)
        check_progress(web3, STALL_AGE_S)
        print(f"\nconsortium: a 2+2 deadlock at block {height + 2} healed {healed_s:.1f}s after the pairs "
              f"were linked again (rewound {last['rewound']}, {last['transactions']} transaction(s) sent again)")
    finally:  # whatever happened, the next tests get four linked, sealing validators
        for a in side_a:
            for b in side_b:
                _link(a, b, up=True)
        for node in nodes:
            rpc_call(node.rpc_url, "miner_start", [])


# -- membership ---------------------------------------------------------------------------------


def test_a_fifth_validator_is_voted_in_and_seals_then_one_is_voted_out_and_stops(
        consortium: Consortium, web3: Web3):
    fifth = consortium.add_node()
    assert fifth.index == 4 and fifth.address not in consortium.signers()
    voters = consortium.propose(fifth.address, add=True)
    assert len(voters) == 4
    assert fifth.address in consortium.signers()
    wait_for("the fifth validator to seal a block",
             lambda: fifth.address in consortium.recent_signers(6), timeout=40)

    # Voted out through the console command, as an operator would.
    leaving = consortium.require_network().node(1)
    env = dict(os.environ, CHAINRIGHT_CONSORTIUM_DATA_DIR=str(consortium.settings.data_dir),
               CHAINRIGHT_CONSORTIUM_BASE_PORT=str(consortium.settings.base_port),
               CHAINRIGHT_CONSORTIUM_CHAIN_ID=str(consortium.settings.chain_id))
    cli = [sys.executable, "-m", "chainright", "consortium"]
    out = subprocess.run([*cli, "propose", "--remove", leaving.address],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert leaving.address not in consortium.signers()
    removed_at = web3.eth.block_number
    wait_for("8 blocks after the removal", lambda: web3.eth.block_number >= removed_at + 8, timeout=30)
    after = [consortium.signer_of(n) for n in range(removed_at + 1, removed_at + 9)]
    assert leaving.address not in after, after
    wait_for("the fifth validator still sealing",
             lambda: fifth.address in consortium.recent_signers(6), timeout=30)
    status = subprocess.run([*cli, "status"], capture_output=True, text=True, env=env, timeout=60)
    assert status.returncode == 0, status.stderr
    line = next(x for x in status.stdout.splitlines() if x.startswith("node1\t"))
    assert "not a signer" in line and "pid" in line  # still running, as a follower
    assert "signers (4)" in status.stdout

