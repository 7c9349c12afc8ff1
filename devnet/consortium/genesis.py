"""The network's genesis (Clique extraData, funded dev accounts), node keys and keystores, static peers.

Keys are generated here with ``secrets`` and written with 0600 permissions; they are never printed
or logged. Only addresses and enode URLs (public keys) leave this module.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_keys.datatypes import PrivateKey
from eth_utils.address import to_checksum_address

from chain.devaccounts import dev_account
from devnet.consortium.settings import (
    DEV_ACCOUNT_COUNT,
    DEV_BALANCE_WEI,
    ConsortiumError,
    ConsortiumNode,
    ConsortiumSettings,
    NetworkInfo,
)

EXTRA_VANITY = 32
EXTRA_SEAL = 65
VANITY = b"chainright consortium".ljust(EXTRA_VANITY, b"\0")
FORK_BLOCKS = ("homestead", "eip150", "eip155", "eip158", "byzantium", "constantinople",
               "petersburg", "istanbul", "muirGlacier", "berlin", "london", "arrowGlacier",
               "grayGlacier")
"""Forks activated by block number, all at block 0 (Shanghai and Cancun go by time, also 0)."""


def clique_extra_data(signers: Sequence[str]) -> str:
    """Clique genesis extraData: 32 bytes vanity, the signer addresses (sorted), 65 zero bytes."""
    addresses = sorted(bytes.fromhex(a[2:]) for a in signers)
    return "0x" + (VANITY + b"".join(addresses) + b"\0" * EXTRA_SEAL).hex()


def genesis_document(chain_id: int, period_s: int, signers: Sequence[str], gas_limit: int) -> dict[str, Any]:
    """The genesis: every fork through Cancun at block 0 / time 0, Clique, dev accounts funded."""
    alloc = {dev_account(i).address: {"balance": hex(DEV_BALANCE_WEI)} for i in range(DEV_ACCOUNT_COUNT)}
    config: dict[str, Any] = {"chainId": chain_id}
    for fork in FORK_BLOCKS:
        config[f"{fork}Block"] = 0
    config.update({"shanghaiTime": 0, "cancunTime": 0,
                   "clique": {"period": period_s, "epoch": 30000}})
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": hex(int(time.time())),
        "extraData": clique_extra_data(signers),
        "gasLimit": hex(gas_limit),
        "difficulty": "0x1",
        "mixHash": "0x" + "00" * 32,
        "coinbase": "0x" + "00" * 20,
        "alloc": alloc,
    }


def write_secret(path: Path, data: str) -> None:
    """Write ``data`` to ``path`` readable by the owner only (0600 from creation)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def full_length_iv(keyfile: dict[str, Any]) -> dict[str, Any]:
    """The keystore with its AES-CTR IV padded back to 16 bytes (32 hex digits), in place.

    eth-keyfile writes the IV as an integer's big-endian bytes, dropping leading zero bytes: one key
    in 256 got a 15-byte IV, and geth then panics at start ("bad IV length"). The IV is a 128-bit
    counter block, so padding it back to 16 bytes is the same IV.
    """
    keyfile["crypto"]["cipherparams"]["iv"] = keyfile["crypto"]["cipherparams"]["iv"].rjust(32, "0")
    return keyfile


def make_keys(node_dir: Path) -> str:
    """Generate a node's validator key (encrypted keystore), its password and the p2p node key, all
    0600 in ``node_dir`` (created 0700, refused when it exists); returns the validator address."""
    if node_dir.exists():
        raise ConsortiumError(f"{node_dir} already exists; refusing to overwrite a node's keys")
    node_dir.mkdir(parents=True, mode=0o700)
    password = secrets.token_hex(32)
    # scrypt with geth's "light" cost (n = 4096): the keys never leave this machine, and
    # standard cost would add seconds and 256 MB per node at every start.
    keyfile = full_length_iv(Account.encrypt(secrets.token_bytes(32), password, kdf="scrypt",
                                             iterations=4096))
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S.%fZ")
    write_secret(node_dir / "keystore" / f"UTC--{stamp}--{keyfile['address']}", json.dumps(keyfile))
    write_secret(node_dir / "password", password)
    write_secret(node_dir / "geth" / "nodekey", secrets.token_bytes(32).hex())
    return to_checksum_address("0x" + str(keyfile["address"]))


def enode_url(node_key_hex: str, host: str, p2p_port: int) -> str:
    """The enode URL of the node whose p2p key is ``node_key_hex`` (discovery port 0: off)."""
    public = PrivateKey(bytes.fromhex(node_key_hex.strip())).public_key.to_bytes().hex()
    return f"enode://{public}@{host}:{p2p_port}?discport=0"


def enode_id(enode: str) -> str:
    """The node id (public key hex) of an enode URL, as ``admin_peers`` reports it."""
    return enode.removeprefix("enode://").split("@", 1)[0]


def init_node(settings: ConsortiumSettings, geth: Path, index: int, address: str) -> ConsortiumNode:
    """``geth init`` node ``index`` with the genesis; its public record."""
    node_dir = settings.node_dir(index)
    http, p2p, authrpc = settings.ports(index)
    host = settings.host
    enode = enode_url((node_dir / "geth" / "nodekey").read_text(), host, p2p)
    out = subprocess.run(
        [str(geth), "--datadir", str(node_dir), "--state.scheme", "hash", "init",
         str(settings.genesis_file)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False,
    )
    if out.returncode != 0:
        raise ConsortiumError(f"geth init failed for node{index}: {out.stderr.strip()[-800:]}")
    return ConsortiumNode(index=index, address=address, enode=enode,
                          http_port=http, p2p_port=p2p, authrpc_port=authrpc, host=host)


def peer_config(net: NetworkInfo, index: int) -> str:
    """Node ``index``'s config.toml: every other node as a static peer, discovery off."""
    peers = "".join(f'  "{n.enode}",\n' for n in net.nodes if n.index != index)
    return f"[Node.P2P]\nNoDiscovery = true\nStaticNodes = [\n{peers}]\n"


def write_peer_configs(settings: ConsortiumSettings, net: NetworkInfo) -> None:
    """Every node's config.toml lists every other node as a static peer (discovery is off)."""
    for node in net.nodes:
        (settings.node_dir(node.index) / "config.toml").write_text(peer_config(net, node.index))
