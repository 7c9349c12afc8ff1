"""The consortium's parts without geth: settings and network.json, genesis and keys, process
identification, and Clique's start and healing against a scripted fake network."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from pydantic import ValidationError

from chain.devaccounts import dev_account
from chain.errors import ChainUnavailableError, NodeBinaryMissingError, PortInUseError
from devnet.consortium import (
    Consortium,
    ConsortiumError,
    ConsortiumSettings,
    clique,
    find_free_base_port,
    genesis,
    process,
)
from devnet.consortium.forks import Diagnosis, HeadView
from devnet.consortium.settings import (
    ConsortiumNode,
    NetworkInfo,
    load_network,
    node_ports,
    planned_node,
    save_network,
)

pytestmark = pytest.mark.unit

ADDRESSES = [f"0x{i:040x}" for i in (3, 1, 2, 4)]


def node(index: int, address: str | None = None) -> ConsortiumNode:
    return ConsortiumNode(index=index, address=address or f"0x{index + 1:040x}", enode=f"enode://{index:0128x}@"
                          f"127.0.0.1:{30000 + index}?discport=0", http_port=8600 + 3 * index,
                          p2p_port=8601 + 3 * index, authrpc_port=8602 + 3 * index)


def network_of(count: int, period: int = 1) -> NetworkInfo:
    nodes = [node(i) for i in range(count)]
    return NetworkInfo(chain_id=1337, block_period_s=period, genesis_validators=[n.address for n in nodes],
                       nodes=nodes, created_at=0.0)


# -- settings and network.json -------------------------------------------------------------------


@pytest.mark.parametrize("chain_id", [31337, 31338])
def test_settings_refuse_the_anvils_chain_ids(chain_id: int, tmp_path: Path):
    with pytest.raises(ValidationError, match="other than the anvils"):
        ConsortiumSettings(data_dir=tmp_path, chain_id=chain_id)


def test_node_i_uses_three_consecutive_ports_from_base_plus_3i(tmp_path: Path):
    settings = ConsortiumSettings(data_dir=tmp_path, base_port=9000)
    assert [node_ports(9000, i) for i in range(3)] == [(9000, 9001, 9002), (9003, 9004, 9005), (9006, 9007, 9008)]
    planned = planned_node(settings, 2)
    assert (planned.http_port, planned.p2p_port, planned.authrpc_port) == (9006, 9007, 9008)
    assert planned.name == "node2" and planned.rpc_url == "http://127.0.0.1:9006"
    assert settings.pid_file(2) == tmp_path / "run" / "node2.json"
    assert settings.log_file("node2") == tmp_path / "logs" / "node2.log"


def test_network_json_round_trips_and_an_unreadable_one_is_named(tmp_path: Path):
    settings = ConsortiumSettings(data_dir=tmp_path)
    assert load_network(settings) is None
    net = network_of(3)
    save_network(settings, net)
    assert load_network(settings) == net
    assert "password" not in settings.network_file.read_text()
    settings.network_file.write_text("{not json")
    with pytest.raises(ConsortiumError, match="unreadable"):
        load_network(settings)


def test_network_info_finds_nodes_by_index_and_address():
    net = network_of(3)
    assert net.node(1).name == "node1"
    assert net.by_address(net.nodes[2].address.upper().replace("0X", "0x")) == net.nodes[2]
    assert net.by_address("0x" + "ee" * 20) is None
    with pytest.raises(ConsortiumError, match="no node 7"):
        net.node(7)


# -- genesis and keys ------------------------------------------------------------------------------


def test_clique_extra_data_is_vanity_sorted_signers_and_an_empty_seal():
    extra = bytes.fromhex(genesis.clique_extra_data(ADDRESSES)[2:])
    assert len(extra) == 32 + 20 * len(ADDRESSES) + 65
    assert extra[:32] == genesis.VANITY and extra[-65:] == b"\0" * 65
    signers = [extra[32 + 20 * i:52 + 20 * i] for i in range(len(ADDRESSES))]
    assert signers == sorted(bytes.fromhex(a[2:]) for a in ADDRESSES)


def test_genesis_activates_every_fork_at_zero_and_funds_the_dev_accounts():
    doc = genesis.genesis_document(1337, 2, ADDRESSES, 30_000_000)
    config = doc["config"]
    assert config["chainId"] == 1337 and config["clique"] == {"period": 2, "epoch": 30000}
    assert all(config[f"{fork}Block"] == 0 for fork in genesis.FORK_BLOCKS)
    assert config["shanghaiTime"] == 0 and config["cancunTime"] == 0
    assert set(doc["alloc"]) == {dev_account(i).address for i in range(10)}
    assert {a["balance"] for a in doc["alloc"].values()} == {hex(10_000 * 10**18)}
    assert doc["gasLimit"] == hex(30_000_000) and doc["extraData"] == genesis.clique_extra_data(ADDRESSES)


@pytest.mark.parametrize("iv", ["00" * 16, "0" * 30, "ab" * 16, "1"])
def test_a_keystore_iv_is_always_sixteen_bytes_and_the_same_counter(iv: str):
    keyfile = {"crypto": {"cipherparams": {"iv": iv}}}
    padded = genesis.full_length_iv(keyfile)["crypto"]["cipherparams"]["iv"]
    assert len(padded) == 32 and int(padded, 16) == int(iv, 16)


def test_keys_with_a_zero_leading_iv_byte_are_written_full_length_private_and_decryptable(tmp_path: Path,
                                                                                          monkeypatch):
    """eth-keyfile drops an IV's leading zero bytes (geth then panics, "bad IV length"): every
    random block starts with a zero byte here, and the keystore written must still hold 16 bytes."""
    import eth_keyfile.keyfile

    monkeypatch.setattr(eth_keyfile.keyfile.Random, "get_random_bytes", lambda n: b"\0" + os.urandom(n - 1))
    node_dir = tmp_path / "node0"
    address = genesis.make_keys(node_dir)
    keystore = next((node_dir / "keystore").iterdir())
    keyfile = json.loads(keystore.read_text())
    assert len(keyfile["crypto"]["cipherparams"]["iv"]) == 32
    key = Account.decrypt(keyfile, (node_dir / "password").read_text())
    assert Account.from_key(key).address == address
    for path in (keystore, node_dir / "password", node_dir / "geth" / "nodekey"):
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert node_dir.stat().st_mode & 0o777 == 0o700
    with pytest.raises(ConsortiumError, match="refusing to overwrite"):
        genesis.make_keys(node_dir)


def test_enode_url_carries_the_public_key_and_peers_list_every_other_node():
    key = "11" * 32
    url = genesis.enode_url(key + "\n", "127.0.0.1", 30303)
    assert url.endswith("@127.0.0.1:30303?discport=0") and len(genesis.enode_id(url)) == 128
    net = network_of(3)
    toml = genesis.peer_config(net, 1)
    assert "NoDiscovery = true" in toml
    assert net.nodes[0].enode in toml and net.nodes[2].enode in toml and net.nodes[1].enode not in toml


# -- processes -------------------------------------------------------------------------------------


def test_geth_runs_on_loopback_without_mining_with_its_own_datadir(tmp_path: Path):
    settings = ConsortiumSettings(data_dir=tmp_path)
    argv = process.geth_argv(settings, Path("/x/geth"), node(1))
    assert "--mine" not in argv  # sealing is started one validator at a time
    assert argv[argv.index("--datadir") + 1] == str(tmp_path / "node1")
    assert argv[argv.index("--http.addr") + 1] == "127.0.0.1"
    assert "personal" not in argv[argv.index("--http.api") + 1]
    assert argv[argv.index("--unlock") + 1] == node(1).address


def test_an_unbuilt_or_unstamped_geth_names_the_setup_command(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("devnet.consortium.process.PROJECT_ROOT", tmp_path)
    with pytest.raises(NodeBinaryMissingError, match="make setup-consortium"):
        process.find_geth()
    (tmp_path / ".bin").mkdir()
    (tmp_path / ".bin" / "geth").write_text("#!/bin/sh\n")
    (tmp_path / ".bin" / "geth").chmod(0o755)
    with pytest.raises(NodeBinaryMissingError, match="make setup-consortium"):
        process.find_geth()  # built, but not stamped as our patched version
    (tmp_path / ".bin" / "geth.stamp").write_text("geth v1.13.15 patch abc\n")
    assert process.find_geth() == tmp_path / ".bin" / "geth"
    with pytest.raises(NodeBinaryMissingError, match="not an executable"):
        process.find_geth(tmp_path / "missing")


def test_a_taken_port_is_named_before_anything_starts():
    base = find_free_base_port(2)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", base + 4))
        blocker.listen()
        nodes = [ConsortiumNode(index=i, address="", enode="", http_port=h, p2p_port=p, authrpc_port=a)
                 for i in range(2) for h, p, a in [node_ports(base, i)]]
        with pytest.raises(PortInUseError, match=f"port {base + 4} .*p2p of consortium node1.*Nothing was started"):
            process.check_ports("127.0.0.1", nodes)


def test_a_free_base_port_leaves_every_port_of_every_node_free_below_the_ephemeral_range():
    base = find_free_base_port(4)
    assert 20000 <= base and base + 12 <= max(20000 + 13, process.ephemeral_low())


@pytest.fixture
def stranger() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_only_our_geth_and_our_watchdog_count_as_ours(tmp_path: Path, stranger: subprocess.Popen[bytes]):
    record = process.NodeProcess(name="node0", index=0, pid=stranger.pid, http_port=1, datadir=str(tmp_path),
                                 log_file="x", started_at=0.0)
    assert process.is_our_geth(record) is False
    assert process.is_watchdog(stranger.pid, tmp_path) is False
    assert process.is_watchdog(0, tmp_path) is False


def test_stopping_a_node_whose_record_names_another_process_signals_nothing(tmp_path: Path,
                                                                           stranger: subprocess.Popen[bytes]):
    settings = ConsortiumSettings(data_dir=tmp_path)
    settings.run_dir.mkdir(parents=True)
    record = process.NodeProcess(name="node0", index=0, pid=stranger.pid, http_port=1,
                                 datadir=str(settings.node_dir(0)), log_file="x", started_at=0.0)
    settings.pid_file(0).write_text(json.dumps(record.__dict__))
    assert process.stop_node(settings, 0, None, lambda _m: None) is False
    assert stranger.poll() is None and not settings.pid_file(0).exists()
    assert process.watchdog_status(settings) is None
    process.stop_watchdog(settings, None)  # nothing recorded, nothing to stop


def test_a_crash_line_comes_first_in_a_log_tail(tmp_path: Path):
    settings = ConsortiumSettings(data_dir=tmp_path)
    assert "missing" in process.log_tail(settings, node(0))
    settings.log_dir.mkdir()
    settings.log_file("node0").write_text("INFO start\npanic: bad IV length\n" + "INFO more\n" * 500)
    tail = process.log_tail(settings, node(0), chars=100)
    assert tail.splitlines()[1] == "panic: bad IV length" and len(tail) < 300


# -- Clique's pure rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(("validators", "depth"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (7, 4)])
def test_confirmation_depth_is_a_majority_of_signers(validators: int, depth: int):
    assert clique.confirmations_for(validators) == depth == clique.votes_needed(validators)


@pytest.mark.parametrize(("period", "age"), [(1, 4.0), (2, 8.0), (5, 20.0)])
def test_stall_age_is_four_periods_at_least_period_plus_three(period: int, age: float):
    assert clique.stall_age_for(period) == age


def test_validators_that_sealed_the_newest_blocks_start_sealing_last():
    nodes = [node(i) for i in range(4)]
    order = clique.sealing_order(nodes, {nodes[0].address, nodes[2].address})
    assert [n.index for n in order] == [1, 3, 0, 2]
    assert clique.sealing_patience(4, 1) == 21.0 and clique.sealing_patience(2, 3) == 29.0


def view(name: str, number: int, block_hash: str, td: int) -> HeadView:
    return HeadView(node=name, node_id=name, number=number, hash=block_hash, timestamp=0, total_difficulty=td)


def test_the_diagnosis_picks_the_winners_and_a_forced_heal_picks_the_heaviest_head():
    views = [view("node0", 5, "0xbb", 9), view("node1", 6, "0xcc", 9), view("node2", 5, "0xaa", 9)]
    chosen = Diagnosis("deadlock", "", winners=("node0",), losers=("node1", "node2"))
    assert clique.choose_sides(views, chosen) == (["node0"], ["node1", "node2"])
    # no winner named (a race healed by force): heaviest, then longest, then the lowest hash
    assert clique.choose_sides(views, Diagnosis("forked", "")) == (["node1"], ["node0", "node2"])
    views[1] = view("node1", 6, "0xcc", 8)
    assert clique.choose_sides(views, Diagnosis("forked", "")) == (["node2"], ["node0", "node1"])


def test_a_vote_is_refused_for_a_present_signer_an_absent_one_and_without_a_majority():
    current = ["0xA", "0xB", "0xC", "0xD"]
    assert "already a signer" in (clique.membership_refusal(current, "0xA", True) or "")
    assert "is not a signer" in (clique.membership_refusal(current, "0xE", False) or "")
    assert clique.membership_refusal(current, "0xE", True) is None
    assert "needs 3 votes" in (clique.quorum_refusal(current, "0xE", True, 2) or "")
    assert clique.quorum_refusal(current, "0xE", True, 3) is None
    assert clique.proposal_timeout(4, 1) == 46.0


@pytest.mark.parametrize(("message", "benign"), [("already known", True), ("nonce too low", True),
                                                 ("replacement transaction underpriced", True),
                                                 ("insufficient funds", False)])
def test_only_refusals_of_transactions_the_winner_holds_are_quiet(message: str, benign: bool):
    assert clique.is_benign_refusal(message) is benign


# -- Clique against a scripted network --------------------------------------------------------------


class FakeClique:
    """Nodes with their own chains of (hash, signer, transactions); a block a node seals reaches the
    others only after a few more RPC calls (propagation), and ``miner_start`` seals one block."""

    def __init__(self, nodes: list[ConsortiumNode], *, delay: int = 5, seal_on_start: bool = True) -> None:
        genesis_block = ("0x" + "00" * 32, "0x" + "00" * 20, ())
        self.nodes = {n.rpc_url: n for n in nodes}
        self.chains: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {u: [genesis_block] for u in self.nodes}
        self.mining: dict[str, bool] = {u: False for u in self.nodes}
        self.delay = delay
        self.seal_on_start = seal_on_start
        self.in_flight: list[tuple[int, str, tuple[str, str, tuple[str, ...]]]] = []
        self.calls: list[tuple[str, str, list[Any]]] = []
        self.started_in_step: list[bool] = []
        self.exported: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
        self.pool: list[str] = []
        self.timestamp = 1000

    def seal(self, url: str, block_hash: str, txs: tuple[str, ...] = (), *, propagate: bool = True) -> None:
        block = (block_hash, self.nodes[url].address, txs)
        self.chains[url].append(block)
        if propagate:
            for other in self.nodes:
                if other != url:
                    self.in_flight.append((len(self.calls) + self.delay, other, block))

    def block(self, url: str, number: int) -> dict[str, Any] | None:
        chain = self.chains[url]
        if number >= len(chain):
            return None
        block_hash, _signer, txs = chain[number]
        return {"number": hex(number), "hash": block_hash, "timestamp": hex(self.timestamp),
                "totalDifficulty": hex(2 * number), "transactions": list(txs)}

    def __call__(self, url: str, method: str, params: list[Any] | None = None, *, timeout: float = 2.0) -> Any:
        params = params or []
        self.calls.append((url, method, params))
        for due, target, block in [f for f in self.in_flight if f[0] <= len(self.calls)]:
            self.in_flight.remove((due, target, block))
            self.chains[target].append(block)
        chain = self.chains[url]
        if method == "eth_blockNumber":
            return hex(len(chain) - 1)
        if method == "eth_getBlockByNumber":
            number = len(chain) - 1 if params[0] == "latest" else int(params[0], 16)
            return self.block(url, number)
        if method == "clique_getSigner":
            return chain[int(params[0], 16)][1]
        if method == "net_peerCount":
            return hex(len(self.nodes) - 1)
        if method == "admin_peers":
            return [{"enode": n.enode} for u, n in self.nodes.items() if u != url]
        if method == "eth_mining":
            return self.mining[url]
        if method == "miner_start":
            heads = {c[-1][0] for c in self.chains.values()}
            self.started_in_step.append(len(heads) == 1 and not self.in_flight)
            self.mining[url] = True
            if self.seal_on_start:
                self.seal(url, f"0x{len(chain):02x}{self.nodes[url].index:062x}")
            return None
        if method == "miner_stop":
            self.mining[url] = False
            return None
        if method == "eth_getRawTransactionByHash":
            return "0xraw" + params[0][2:]
        if method == "debug_setHead":
            del chain[int(params[0], 16) + 1:]
            return None
        if method == "admin_exportChain":
            self.exported[params[0]] = chain[params[1]:params[2] + 1]
            return True
        if method == "admin_importChain":
            chain.extend(self.exported[params[0]])
            return True
        if method == "eth_sendRawTransaction":
            tx = "0x" + params[0].removeprefix("0xraw")
            if any(tx in b[2] for b in chain):
                raise ChainUnavailableError("already known")
            self.pool.append(tx)
            return tx
        raise AssertionError(f"unexpected call {method}")


def test_the_start_seals_one_validator_at_a_time_each_block_imported_everywhere_first(monkeypatch):
    nodes = [node(i) for i in range(4)]
    fake = FakeClique(nodes)
    monkeypatch.setattr(clique, "rpc_call", fake)
    said: list[str] = []
    clique.start_sealing(network_of(4), nodes, nodes, 5.0, said.append, heal=lambda: None)
    starts = [u for u, m, _ in fake.calls if m == "miner_start"]
    assert starts == [n.rpc_url for n in nodes]
    assert fake.started_in_step == [True] * 4, "a validator started sealing before the last block reached everyone"
    assert [b[1] for b in fake.chains[nodes[0].rpc_url][1:]] == [n.address for n in nodes]
    assert len({tuple(c) for c in fake.chains.values()}) == 1
    assert sum("imported by every node" in line for line in said) == 4


def test_a_restart_puts_the_validators_that_sealed_the_newest_blocks_last(monkeypatch):
    nodes = [node(i) for i in range(4)]
    fake = FakeClique(nodes)
    for url in fake.chains:  # block 1 by node1, block 2 by node0, already everywhere
        fake.chains[url] += [("0x01", nodes[1].address, ()), ("0x02", nodes[0].address, ())]
    monkeypatch.setattr(clique, "rpc_call", fake)
    clique.start_sealing(network_of(4), nodes, nodes, 5.0, lambda _m: None, heal=lambda: None)
    starts = [fake.nodes[u].index for u, m, _ in fake.calls if m == "miner_start"]
    assert starts == [2, 3, 0, 1]


def test_heads_apart_at_the_start_are_healed_before_anyone_seals(monkeypatch):
    nodes = [node(i) for i in range(2)]
    fake = FakeClique(nodes)
    fake.seal(nodes[1].rpc_url, "0x" + "ee" * 32, propagate=False)
    monkeypatch.setattr(clique, "rpc_call", fake)
    healed: list[int] = []

    def heal() -> None:
        healed.append(len([c for c in fake.calls if c[1] == "miner_start"]))
        fake.chains[nodes[0].rpc_url] = list(fake.chains[nodes[1].rpc_url])

    said: list[str] = []
    clique.start_sealing(network_of(2), nodes, nodes, 0.3, said.append, heal=heal)
    assert healed == [0]
    assert any("heads still differ" in line for line in said)  # heal() reported nothing healed


def test_healing_rewinds_the_losers_keeps_every_transaction_and_resumes_only_sealing_that_ran(monkeypatch,
                                                                                             tmp_path: Path):
    nodes = [node(i) for i in range(4)]
    fake = FakeClique(nodes, seal_on_start=False)
    urls = [n.rpc_url for n in nodes]
    for url in urls:  # a common block 1
        fake.chains[url].append(("0x" + "01" * 32, nodes[3].address, ("0xaa",)))
    for url in urls[:3]:  # winning fork (three nodes): blocks 2, 3
        fake.chains[url] += [("0x" + "a2" * 32, nodes[0].address, ("0xb1", "0xb2")),
                             ("0x" + "a3" * 32, nodes[1].address, ())]
    fake.chains[urls[3]] += [("0x" + "c2" * 32, nodes[3].address, ("0xb1", "0xc1"))]  # losing fork: block 2
    fake.mining = {urls[0]: True, urls[1]: True, urls[2]: True, urls[3]: True}
    fake.timestamp = 1  # every head long old: a deadlock, not a race
    monkeypatch.setattr(clique, "rpc_call", fake)
    net = network_of(4)
    report = clique.heal(net, clique.observe(nodes), tmp_path, lambda _m: None)
    assert report is not None
    assert report.winners == ("node0", "node1", "node2") and report.rewound == {"node3": 1}
    assert fake.chains[urls[3]] == fake.chains[urls[0]]
    assert report.transactions == 2 and report.resent == 1 and fake.pool == ["0xc1"]
    assert [u for u, m, _ in fake.calls if m == "miner_start"] == [urls[3]]
    assert report.lagging == ()


def test_a_loser_an_operator_had_stopped_stays_stopped_after_healing(monkeypatch, tmp_path: Path):
    nodes = [node(i) for i in range(3)]
    fake = FakeClique(nodes, seal_on_start=False)
    urls = [n.rpc_url for n in nodes]
    for url in urls[:2]:
        fake.chains[url] += [("0x" + "a1" * 32, nodes[0].address, ())]
    fake.chains[urls[2]] += [("0x" + "c1" * 32, nodes[2].address, ())]
    fake.mining[urls[2]] = False
    fake.timestamp = 1
    monkeypatch.setattr(clique, "rpc_call", fake)
    report = clique.heal(network_of(3), clique.observe(nodes), tmp_path, lambda _m: None)
    assert report is not None and report.rewound == {"node2": 0}
    assert not any(m == "miner_start" for _u, m, _p in fake.calls)


def test_no_heal_while_blocks_still_arrive_unless_forced(monkeypatch, tmp_path: Path):
    nodes = [node(i) for i in range(2)]
    fake = FakeClique(nodes, seal_on_start=False)
    fake.seal(nodes[1].rpc_url, "0x" + "ee" * 32, propagate=False)
    fake.timestamp = 10**12  # young heads: a race Clique settles itself
    monkeypatch.setattr(clique, "rpc_call", fake)
    assert clique.heal(network_of(2), clique.observe(nodes), tmp_path, lambda _m: None) is None
    report = clique.heal(network_of(2), clique.observe(nodes), tmp_path, lambda _m: None, force=True)
    assert report is not None and report.winners == ("node1",)
    assert report.rewound == {} and fake.chains[nodes[0].rpc_url] == fake.chains[nodes[1].rpc_url]


# -- the facade without a network ----------------------------------------------------------------


def test_the_facade_without_a_network_says_how_to_start_one(tmp_path: Path):
    consortium = Consortium(ConsortiumSettings(data_dir=tmp_path / "none"))
    assert consortium.network() is None and consortium.running_nodes() == [] and consortium.down() == []
    with pytest.raises(ConsortiumError, match="chainright consortium up"):
        consortium.require_network()
    with pytest.raises(ConsortiumError, match="choose home or remote"):
        consortium.env("elsewhere")
    assert consortium.stop_node(0) is False
    assert Consortium(ConsortiumSettings(data_dir=tmp_path, watchdog=False)).start_watchdog() is None


def test_env_points_the_platform_at_the_recorded_network_when_nothing_runs(tmp_path: Path):
    settings = ConsortiumSettings(data_dir=tmp_path)
    save_network(settings, network_of(4, period=2))
    env = Consortium(settings).env("remote")
    assert env == {"CHAINRIGHT_CHAIN_REMOTE_RPC_URL": "http://127.0.0.1:8600",
                   "CHAINRIGHT_CHAIN_REMOTE_CHAIN_ID": "1337", "CHAINRIGHT_CHAIN_REMOTE_POA": "true",
                   "CHAINRIGHT_CHAIN_REMOTE_CONFIRMATIONS": "3", "CHAINRIGHT_CHAIN_REMOTE_MAX_BLOCK_AGE_S": "8"}
