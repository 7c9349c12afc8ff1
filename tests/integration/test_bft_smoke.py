"""The BFT consortium engine (tools/bft, devnet/bft.py): four bftd validators on loopback.

A smoke test of the engine, not of the platform on it: the chain id, cancun's transient storage
(our re-entrancy guards), eth_getProof, and CometBFT's fault behaviour (1 of 4 stopped keeps
committing; 2 of 4 stopped halts without a fork and resumes when they return). Skipped when
.bin/bftd is not built (tools/bft/build.sh).
"""

from __future__ import annotations

import hashlib
import random
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from eth_account import Account
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

from chain.devaccounts import dev_account
from chain.errors import ChainUnavailableError, NodeBinaryMissingError
from chain.rpc import rpc_call
from devnet.bft import BftNetwork, BftSettings, find_bftd

pytestmark = [pytest.mark.integration, pytest.mark.bft]

CHAIN_ID = 1339
T = TypeVar("T")


def wait_for(what: str, fn: Callable[[], T | None], timeout: float, interval: float = 0.3) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def free_base_port(validators: int) -> int:
    """A base port with every port the network will use (10 per validator) free on loopback."""
    for _ in range(50):
        base = random.randrange(20000, 60000, 10)  # noqa: S311 (a port, not a secret)
        try:
            for port in range(base, base + 10 * validators):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free block of ports")


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BftNetwork]:
    try:
        find_bftd()
    except NodeBinaryMissingError:
        pytest.fail("bftd is not built: run 'make test-bft', which builds it (tools/bft/build.sh: 4 to 20 "
                    "minutes the first time, by load) before it runs these tests")
    settings = BftSettings(data_dir=tmp_path_factory.mktemp("bft"), chain_id=CHAIN_ID,
                           base_port=free_base_port(4), validators=4, block_time_s=0.5)
    net = BftNetwork(settings)
    net.create()
    try:
        net.up()
        yield net
    finally:
        net.down()


def rpc(net: BftNetwork, method: str, params: list[Any] | None = None, index: int = 0) -> Any:
    return rpc_call(net.node(index).rpc_url, method, params or [], timeout=15.0)


def receipt_of(net: BftNetwork, tx_hash: str, index: int) -> dict[str, Any] | None:
    try:
        receipt: dict[str, Any] | None = rpc(net, "eth_getTransactionReceipt", [tx_hash], index)
    except ChainUnavailableError:  # a busy validator; the next poll asks again
        return None
    return receipt


def send(net: BftNetwork, tx: dict[str, Any], index: int = 0, sender: int = 0) -> dict[str, Any]:
    """Sign ``tx`` as dev account ``sender``, send it to validator ``index`` and wait for its receipt."""
    account = dev_account(sender)
    nonce = int(rpc(net, "eth_getTransactionCount", [account.address, "pending"], index), 16)
    gas_price = int(rpc(net, "eth_gasPrice", [], index), 16)
    full = {"chainId": CHAIN_ID, "nonce": nonce, "gas": 3_000_000, "gasPrice": gas_price * 2,
            "value": 0, "data": "0x", **tx}
    if "to" in full:
        full["to"] = to_checksum_address(full["to"])
    raw = Account.sign_transaction(full, account.key).raw_transaction
    tx_hash = rpc(net, "eth_sendRawTransaction", ["0x" + raw.hex().removeprefix("0x")], index)
    return wait_for(f"receipt of {tx_hash}", lambda: receipt_of(net, tx_hash, index), 60)


def test_chain_id_is_the_configured_one_on_every_validator(network: BftNetwork) -> None:
    for n in network.nodes:
        assert int(rpc_call(n.rpc_url, "eth_chainId", []), 16) == CHAIN_ID
    assert int(rpc(network, "net_version"), 0) == CHAIN_ID


def test_client_version_names_the_engine(network: BftNetwork) -> None:
    """How a client tells this engine (final on commit) from geth Clique or anvil."""
    assert str(rpc(network, "web3_clientVersion")).startswith("Version bftd/")


def test_dev_accounts_are_funded_in_wei(network: BftNetwork) -> None:
    balance = int(rpc(network, "eth_getBalance", [dev_account(3).address, "latest"]), 16)
    assert balance == 10_000 * 10**18


# Runtime: TSTORE(0, 42); SSTORE(0, TLOAD(0)); return TLOAD(0) as one word.
#   602a 5f 5d  5f 5c 5f 55  5f 5c 5f 52  6020 5f f3
PROBE_RUNTIME = "602a5f5d5f5c5f555f5c5f5260205ff3"


def _init_code(runtime_hex: str) -> str:
    """Init code that returns ``runtime_hex`` as the contract's code.

    PUSH1 size, DUP1, PUSH1 9 (this prefix's length), PUSH0, CODECOPY, PUSH0, RETURN.
    """
    size = len(runtime_hex) // 2
    return "0x" + f"60{size:02x}8060095f395ff3" + runtime_hex


def test_transient_storage_runs_in_a_transaction_and_a_call(network: BftNetwork) -> None:
    receipt = send(network, {"data": _init_code(PROBE_RUNTIME)})
    assert int(receipt["status"], 16) == 1
    probe = receipt["contractAddress"]
    assert rpc(network, "eth_getCode", [probe, "latest"]) == "0x" + PROBE_RUNTIME
    assert int(rpc(network, "eth_call", [{"to": probe}, "latest"]), 16) == 42

    receipt = send(network, {"to": probe})
    assert int(receipt["status"], 16) == 1
    slot0 = rpc(network, "eth_getStorageAt", [probe, "0x0", receipt["blockNumber"]])
    assert int(slot0, 16) == 42


def test_chainid_opcode_is_the_network_chain_id(network: BftNetwork) -> None:
    """EIP-712 domains built on-chain (block.chainid) match the id wallets sign for."""
    runtime = "465f5260205ff3"  # CHAINID, PUSH0, MSTORE, PUSH1 32, PUSH0, RETURN
    receipt = send(network, {"data": _init_code(runtime)})
    assert int(rpc(network, "eth_call", [{"to": receipt["contractAddress"]}, "latest"]), 16) == CHAIN_ID


@pytest.mark.parametrize("where", ["call", "transaction"])
def test_the_ethereum_precompiles_answer(network: BftNetwork, where: str) -> None:
    """ecrecover (0x01: every signed order and EIP-712 check), sha256 (0x02) and identity (0x04).
    cosmos/evm counts them active and looks them up in the keeper's map; a build that does not
    fill it panics "precompiled contract not stored in memory" on the first ecrecover."""
    signer = dev_account(4)
    digest = bytes(range(32))
    sig = keys.PrivateKey(bytes(signer.key)).sign_msg_hash(digest)  # a raw hash, as ecrecover takes
    payload = digest + (sig.v + 27).to_bytes(32, "big") + sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big")
    if where == "call":
        out = rpc(network, "eth_call", [{"to": "0x" + "00" * 19 + "01", "data": "0x" + payload.hex()}, "latest"])
        assert int(out, 16) == int(signer.address, 16)
        sha = rpc(network, "eth_call", [{"to": "0x" + "00" * 19 + "02", "data": "0x" + payload.hex()}, "latest"])
        assert sha == "0x" + hashlib.sha256(payload).hexdigest()
        return
    # Runtime: CALLDATACOPY the input, STATICCALL ecrecover, SSTORE slot 0 := the recovered word.
    #   36 5f 5f 37  6020 5f 36 5f 6001 5a fa 50  5f 51 5f 55 00
    runtime = "365f5f3760205f365f60015afa505f515f5500"
    created = send(network, {"data": _init_code(runtime)})
    receipt = send(network, {"to": created["contractAddress"], "data": "0x" + payload.hex()})
    assert int(receipt["status"], 16) == 1
    slot0 = rpc(network, "eth_getStorageAt", [created["contractAddress"], "0x0", receipt["blockNumber"]])
    assert int(slot0, 16) == int(signer.address, 16)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes | str | int) -> bytes:
    """One protobuf field: a varint for ints, length-delimited for bytes and strings."""
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def test_native_cosmos_transactions_are_refused(network: BftNetwork) -> None:
    """A bank send in a native Cosmos transaction, with a signature nobody checks, must not move
    coins: the chain admits signed Ethereum transactions only. (A build whose ante handler let
    native transactions through moved the coins, and replayed the send in 4 blocks.)"""
    from devnet.bft import BASE_DENOM, BECH32_PREFIX, bech32_encode

    victim, thief = dev_account(4).address, dev_account(9).address
    before = int(rpc(network, "eth_getBalance", [thief, "latest"]), 16)
    coin = _field(1, BASE_DENOM) + _field(2, str(10**18))
    send_msg = (_field(1, bech32_encode(BECH32_PREFIX, bytes.fromhex(victim[2:])))
                + _field(2, bech32_encode(BECH32_PREFIX, bytes.fromhex(thief[2:]))) + _field(3, coin))
    body = _field(1, _field(1, "/cosmos.bank.v1beta1.MsgSend") + _field(2, send_msg))
    # One signer (an eth_secp256k1 key, SIGN_MODE_DIRECT, sequence 0) and a fee with a gas limit:
    # a well-formed transaction whose signature is garbage.
    public_key = _field(1, "/cosmos.evm.crypto.v1.ethsecp256k1.PubKey") + _field(2, _field(1, b"\x02" + b"\x11" * 32))
    signer = _field(1, public_key) + _field(2, _field(1, _field(1, 1))) + _field(3, 0)
    auth_info = _field(1, signer) + _field(2, _field(2, 200_000))
    tx = _field(1, body) + _field(2, auth_info) + _field(3, b"\x01" * 65)
    import base64
    import json
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 (loopback http)
        network.node(0).comet_url, method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "broadcast_tx_sync",
                         "params": {"tx": base64.b64encode(tx).decode()}}).encode())
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 (loopback http)
        answer = json.loads(response.read())
    result = answer.get("result") or {}
    assert result.get("code", 0) != 0 or "error" in answer, answer
    start = network.height(0)
    network.wait_height(start + 3, timeout=30)
    assert int(rpc(network, "eth_getBalance", [thief, "latest"]), 16) == before


def test_our_transient_reentrancy_guard_runs(network: BftNetwork, artifacts: Any) -> None:
    """MilestoneEscrow's nonReentrant (OpenZeppelin's ReentrancyGuardTransient: TLOAD, TSTORE) runs:
    a call on an unknown escrow gets past the guard and reverts with the contract's own error."""
    escrow = artifacts.get("MilestoneEscrow")
    from eth_abi import encode

    admin = dev_account(0).address
    args = encode(["address", "address", "uint16"], [admin, dev_account(1).address, 100]).hex()
    receipt = send(network, {"data": escrow.bytecode + args, "gas": 8_000_000})
    assert int(receipt["status"], 16) == 1, receipt
    address = receipt["contractAddress"]

    selector = keccak(text="acceptEscrow(uint256)")[:4].hex()
    call = {"from": dev_account(2).address, "to": address, "data": "0x" + selector + f"{999:064x}"}
    with pytest.raises(Exception) as revert:
        rpc(network, "eth_call", [call, "latest"])
    message = str(revert.value)
    errors = {keccak(text=f"{e['name']}({','.join(i['type'] for i in e['inputs'])})")[:4].hex()
              for e in escrow.abi if e["type"] == "error"}
    assert any(sel in message for sel in errors), message
    assert "invalid opcode" not in message.lower()


def test_every_platform_contract_deploys_and_wires(network: BftNetwork, artifacts: Any,
                                                   tmp_path: Path) -> None:
    """``deploy_all`` (what ``chainright deploy`` runs) puts every family on the BFT chain."""
    from web3 import Web3

    from chain.deploy import deploy_all
    from chain.deployments import DeploymentRegistry
    from chain.tx import TxSender

    web3 = Web3(Web3.HTTPProvider(network.node(1).rpc_url, request_kwargs={"timeout": 30}))
    sender = TxSender(web3, dev_account(6))
    results = deploy_all(sender, artifacts, DeploymentRegistry(tmp_path / "deployments.json"),
                         chain_name="home")
    assert len(results) >= 12
    for result in results:
        assert len(web3.eth.get_code(Web3.to_checksum_address(result.deployment.address))) > 0


def test_eth_get_proof_answers_for_an_account(network: BftNetwork) -> None:
    address = dev_account(5).address
    block = rpc(network, "eth_blockNumber")
    proof = rpc(network, "eth_getProof", [address, ["0x0"], block])
    assert proof["address"].lower() == address.lower()
    assert int(proof["balance"], 16) == 10_000 * 10**18
    assert proof["accountProof"], proof
    assert len(proof["storageProof"]) == 1


def test_committed_blocks_are_reported_final(network: BftNetwork) -> None:
    """The engine answers "finalized" and "safe" with its head: a committed block is final."""
    for tag in ("finalized", "safe"):
        block = rpc(network, "eth_getBlockByNumber", [tag, False])
        head = int(rpc(network, "eth_blockNumber"), 16)
        assert head - int(block["number"], 16) <= 1, (tag, block["number"], head)


def test_receipts_root_is_the_ethereum_trie_of_the_receipts(network: BftNetwork) -> None:
    """Receipt proofs (provenance bundles) work: the header's receiptsRoot is the Ethereum trie
    root of the block's receipts. (The block hash is CometBFT's, not keccak of an RLP header.)"""
    from record.proofs.receipts import receipts_root

    receipt = send(network, {"to": dev_account(8).address, "value": 1})
    block = rpc(network, "eth_getBlockByNumber", [receipt["blockNumber"], False])
    receipts = [rpc(network, "eth_getTransactionReceipt", [h]) for h in block["transactions"]]
    assert block["receiptsRoot"] == "0x" + receipts_root(receipts).hex()


def test_the_bench_meters_the_cpu_of_every_validator_during_its_window(network: BftNetwork) -> None:
    """What ``chainright bench consortium --engine bft`` measures for "what the 2 cores limit": a
    metered transfer window on the real validators finds CPU spent by every bftd (their pids are
    the ones doing the work), and the window's figures are consistent (shares non-negative and
    summing to about 100 %, CPU ms per transfer = CPU s / transfers); no timing is asserted."""
    from bench.consortium import cpu_groups
    from bench.cpu import IDLE, LOAD_GENERATOR, OTHER, VALIDATORS, CpuMeter
    from bench.transfers import run_transfer_bench

    groups = cpu_groups({n.name: network.pid_of(n.index) for n in network.nodes})
    assert len(groups[VALIDATORS]) == 4
    meter = CpuMeter(groups)
    run_transfer_bench([n.rpc_url for n in network.nodes], count=200, period_s=0.5, meter=meter)
    report = meter.report(200)
    assert report is not None
    assert set(report["cpu_s_per_process"]) == {*groups[VALIDATORS], "bench"}
    assert all(used is not None and used > 0 for name, used in report["cpu_s_per_process"].items()
               if name in groups[VALIDATORS])
    assert {VALIDATORS, LOAD_GENERATOR, OTHER, IDLE} <= set(report["share_pct"])
    assert all(v >= 0 for v in [*report["share_pct"].values(), *report["runqueue_wait_s"].values()])
    assert 0 <= report["waited_pct"][VALIDATORS] <= 100
    assert sum(report["share_pct"].values()) == pytest.approx(100, abs=10)  # separate /proc counters
    assert report["cpu_ms_per_op"][VALIDATORS] == pytest.approx(report["cpu_s"][VALIDATORS] * 5, abs=0.02)
    assert report["verdict"].split(":")[0] in ("CPU-bound", "not CPU-bound", "bound by the load generator")


def _hash_at(net: BftNetwork, index: int, height: int) -> str:
    block = rpc(net, "eth_getBlockByNumber", [hex(height), False], index)
    return str(block["hash"])


def test_one_of_four_stopped_keeps_blocks_coming_and_it_catches_up(network: BftNetwork) -> None:
    network.stop(3)
    try:
        start = network.height(0)
        network.wait_height(start + 5, timeout=30, indices=[0, 1, 2])
        receipt = send(network, {"to": dev_account(7).address, "value": 1}, index=1)
        assert int(receipt["status"], 16) == 1
    finally:
        network.start(3)
    network.wait_rpc(3, 60)
    target = network.height(0)
    network.wait_height(target, timeout=60, indices=[3])
    assert _hash_at(network, 3, target) == _hash_at(network, 0, target)


def test_two_of_four_stopped_halts_without_fork_and_resumes(network: BftNetwork) -> None:
    network.stop(2)
    network.stop(3)
    try:
        time.sleep(2)  # a height that already had its votes may still commit
        halted_at = max(network.height(0), network.height(1))
        time.sleep(6)
        assert network.height(0) == halted_at
        assert network.height(1) == halted_at
        assert _hash_at(network, 0, halted_at) == _hash_at(network, 1, halted_at)
    finally:
        network.start(2)
        network.start(3)
    network.wait_rpc(2, 60)
    network.wait_rpc(3, 60)
    network.wait_height(halted_at + 3, timeout=60, indices=[0, 1, 2, 3])
    for height in range(max(1, halted_at - 2), halted_at + 3):
        hashes = {_hash_at(network, i, height) for i in range(4)}
        assert len(hashes) == 1, (height, hashes)


def test_network_layout_keeps_to_loopback(network: BftNetwork) -> None:
    for n in network.nodes:
        config = (Path(n.home) / "config" / "config.toml").read_text()
        assert 'laddr = "tcp://127.0.0.1:' in config
        json_rpc = (Path(n.home) / "config" / "app.toml").read_text().split("[json-rpc]")[1]
        assert f'address = "127.0.0.1:{n.ports.json_rpc}"' in json_rpc
