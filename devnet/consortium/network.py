"""A consortium network on loopback: geth (Clique proof of authority) validator nodes we own.

Each validator node is its own geth process with its own data directory, validator key, node key
and ports, peered with the others through static nodes (discovery off). The genesis, written
here, names the validator set in Clique's extraData and funds anvil's ten development accounts,
so the platform's test accounts work unchanged.

The client is go-ethereum v1.13.15 with our Clique Shanghai/Cancun patch (tools/geth/), built by
``make setup-consortium`` into ``.bin/geth``; see chain/README.md for why.

Layout under ``data_dir`` (``CHAINRIGHT_CONSORTIUM_DATA_DIR``)::

    network.json          chain id, block period, nodes (address, enode, ports); no secrets
    genesis.json
    node<i>/              geth data directory of node i
        keystore/UTC--*   the validator key, encrypted (0600)
        password          its keystore password (0600)
        geth/nodekey      the node's p2p key (0600)
        config.toml       static peers
    run/node<i>.json      PID record of a running node (stop acts only on these)
    logs/node<i>.log

Keys are generated here with ``secrets`` and written with 0600 permissions; they are never printed
or logged. Only addresses and enode URLs (public keys) appear in output.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_keys.datatypes import PrivateKey
from eth_utils.address import to_checksum_address
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chain.devaccounts import dev_account
from chain.errors import (
    ChainUnavailableError,
    NodeBinaryMissingError,
    NodeError,
    NodeStartError,
    PortInUseError,
)
from chain.progress import Progress, quiet
from chain.rpc import chain_id_of, rpc_call
from chain.settings import PROJECT_ROOT
from devnet.anvil import alive, port_is_free, read_pid_record, reap, terminate
from devnet.consortium.forks import Diagnosis, HeadView, diagnose

log = logging.getLogger(__name__)

GETH_VERSION = "1.13.15"
DEV_ACCOUNT_COUNT = 10
DEV_BALANCE_WEI = 10_000 * 10**18
"""What anvil gives each development account."""
PORTS_PER_NODE = 3
"""Node i uses base_port + 3i (HTTP JSON-RPC), + 3i + 1 (p2p, TCP) and + 3i + 2 (geth's engine API,
which geth 1.13 always opens; unused here)."""
_EXTRA_VANITY = 32
_EXTRA_SEAL = 65
_VANITY = b"chainright consortium".ljust(_EXTRA_VANITY, b"\0")
_HTTP_APIS = "eth,net,web3,clique,txpool,admin,miner,debug"
"""On loopback only; ``debug`` and ``admin`` serve the fork-deadlock recovery (setHead, export/import)."""


class ConsortiumError(NodeError):
    """Raised when the consortium network cannot be created, started, changed or stopped."""


class ConsortiumSettings(BaseSettings):
    """Settings of the local consortium network (environment prefix ``CHAINRIGHT_CONSORTIUM_``)."""

    model_config = SettingsConfigDict(env_prefix="CHAINRIGHT_CONSORTIUM_", extra="ignore")

    data_dir: Path = Field(default=PROJECT_ROOT / ".chainright" / "consortium")
    host: str = "127.0.0.1"
    chain_id: int = Field(default=1337, ge=1)
    """Distinct from the anvils' 31337 and 31338."""
    validators: int = Field(default=4, ge=1, le=32)
    """Validators created by ``up`` for a new network."""
    block_period_s: int = Field(default=1, ge=1, le=60)
    """Clique period: seconds between blocks (whole seconds, Clique's unit)."""
    base_port: int = Field(default=8600, ge=1024, le=65000)
    """Node i listens on base_port + 3i (HTTP RPC), + 3i + 1 (p2p) and + 3i + 2 (engine API)."""
    gas_limit: int = Field(default=30_000_000, ge=5_000_000)
    geth_bin: Path | None = None
    """Path of the geth binary; default: the project's .bin/geth (make setup-consortium)."""
    start_timeout_s: float = Field(default=60.0, gt=0)
    peer_timeout_s: float = Field(default=30.0, gt=0)
    """How long a starting validator waits to be peered with every running node before it seals."""
    verbosity: int = Field(default=3, ge=0, le=5)
    """geth log verbosity (3 = info) in logs/node<i>.log."""
    watchdog: bool = True
    """Run the fork watchdog beside the nodes (``up`` starts it, ``down`` stops it)."""
    watch_interval_s: float = Field(default=1.0, gt=0)
    """How often the watchdog looks at the nodes' heads."""

    @model_validator(mode="after")
    def _distinct_chain_id(self) -> ConsortiumSettings:
        if self.chain_id in (31337, 31338):
            raise ValueError("the consortium needs a chain id other than the anvils' 31337 and 31338")
        return self

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def network_file(self) -> Path:
        return self.data_dir / "network.json"

    @property
    def genesis_file(self) -> Path:
        return self.data_dir / "genesis.json"


@dataclass(frozen=True)
class ConsortiumNode:
    """One node of the network as recorded in network.json (public facts only)."""

    index: int
    address: str
    """The node's validator (sealing) address."""
    enode: str
    http_port: int
    p2p_port: int
    authrpc_port: int
    host: str = "127.0.0.1"

    @property
    def name(self) -> str:
        return f"node{self.index}"

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"


@dataclass(frozen=True)
class NetworkInfo:
    """What network.json records: the network's fixed facts and its nodes."""

    chain_id: int
    block_period_s: int
    genesis_validators: list[str]
    nodes: list[ConsortiumNode]
    created_at: float

    def node(self, index: int) -> ConsortiumNode:
        for node in self.nodes:
            if node.index == index:
                return node
        raise ConsortiumError(f"the network has no node {index} (nodes: "
                              f"{', '.join(str(n.index) for n in self.nodes)})")

    def by_address(self, address: str) -> ConsortiumNode | None:
        wanted = address.lower()
        return next((n for n in self.nodes if n.address.lower() == wanted), None)


@dataclass(frozen=True)
class ForkRecovery:
    """What one healing of a fork deadlock did (kept by the watchdog, shown by ``status``)."""

    at: float
    detail: str
    winning_head: int
    winners: tuple[str, ...]
    rewound: dict[str, int]
    """Node name -> the block it was rewound to (the common ancestor)."""
    transactions: int
    """Transactions found in the dropped blocks."""
    resent: int
    """Of those, how many the winning fork did not hold yet (mined afterwards)."""
    lagging: tuple[str, ...] = ()
    """Nodes not yet at the winning head when the healing ended (they sync by themselves)."""


@dataclass(frozen=True)
class NodeProcess:
    """A PID record: a node process we started."""

    name: str
    index: int
    pid: int
    http_port: int
    datadir: str
    log_file: str
    started_at: float


@dataclass(frozen=True)
class NodeStatus:
    node: ConsortiumNode
    pid: int | None
    block: int | None
    peers: int | None
    head_signer: str | None
    is_signer: bool | None
    head_age_s: float | None = None
    """Seconds since the timestamp of the node's head block."""
    error: str | None = None
    head_hash: str | None = None

    @property
    def running(self) -> bool:
        return self.pid is not None


def find_geth(configured: Path | None = None) -> Path:
    """The geth binary: the configured path, else the project's .bin/geth (built with our patch).

    A configured binary must be go-ethereum v1.13.15 with tools/geth/clique-shanghai-cancun.patch
    applied; an unpatched geth refuses the genesis' Shanghai/Cancun forks under Clique.
    """
    if configured is not None:
        if configured.is_file() and os.access(configured, os.X_OK):
            return configured
        raise NodeBinaryMissingError(f"CHAINRIGHT_CONSORTIUM_GETH_BIN={configured} is not an executable file")
    default = PROJECT_ROOT / ".bin" / "geth"
    stamp = PROJECT_ROOT / ".bin" / "geth.stamp"
    if default.is_file() and os.access(default, os.X_OK) and stamp.is_file() \
            and stamp.read_text().startswith(f"geth v{GETH_VERSION} patch "):
        return default
    raise NodeBinaryMissingError(
        f"the consortium client (patched geth v{GETH_VERSION}) is not built at {default}; run "
        "'make setup-consortium' in the project root (about 2 minutes, from the Go module proxy)"
    )


def confirmations_for(validators: int) -> int:
    """Blocks to wait on a Clique network of ``validators`` signers: floor(V/2) + 1.

    Clique lets a signer seal at most one of any floor(V/2) + 1 consecutive blocks, so that many
    blocks on top of a block come from that many distinct signers: a majority of the validator set
    has built on it. Clique has no finality; forks come from out-of-turn signers racing and are
    resolved within a block or two, well inside this depth.
    """
    return validators // 2 + 1


def stall_age_for(period_s: int) -> float:
    """Head age (s) after which a network of ``period_s`` blocks counts as stalled.

    Four periods, at least the period + 3 s: an in-turn signer that is down delays a block by at
    most about one period plus Clique's out-of-turn wiggle (up to 0.5 s per half of the signers),
    so a live network never looks stalled, and a stall is seen within a few seconds.
    """
    return float(max(4 * period_s, period_s + 3))


def clique_extra_data(signers: Sequence[str]) -> str:
    """Clique genesis extraData: 32 bytes vanity, the signer addresses (sorted), 65 zero bytes."""
    addresses = sorted(bytes.fromhex(a[2:]) for a in signers)
    return "0x" + (_VANITY + b"".join(addresses) + b"\0" * _EXTRA_SEAL).hex()


def genesis_document(chain_id: int, period_s: int, signers: Sequence[str], gas_limit: int) -> dict[str, Any]:
    """The genesis: every fork through Cancun at block 0 / time 0, Clique, dev accounts funded."""
    alloc = {dev_account(i).address: {"balance": hex(DEV_BALANCE_WEI)} for i in range(DEV_ACCOUNT_COUNT)}
    config: dict[str, Any] = {"chainId": chain_id}
    for fork in ("homestead", "eip150", "eip155", "eip158", "byzantium", "constantinople",
                 "petersburg", "istanbul", "muirGlacier", "berlin", "london", "arrowGlacier",
                 "grayGlacier"):
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


def _write_secret(path: Path, data: str) -> None:
    """Write ``data`` to ``path`` readable by the owner only (0600 from creation)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def _enode_id(enode: str) -> str:
    """The node id (public key hex) of an enode URL, as ``admin_peers`` reports it."""
    return enode.removeprefix("enode://").split("@", 1)[0]


def _is_watchdog(pid: int, data_dir: Path) -> bool:
    """True when ``pid`` is a live fork watchdog of the network in ``data_dir``."""
    if pid <= 0 or not alive(pid):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"devnet.consortium.watch" in argv and any(str(data_dir).encode() in a for a in argv)


def _is_our_geth(record: NodeProcess) -> bool:
    """True when record.pid is still the geth we started for that data directory."""
    try:
        with open(f"/proc/{record.pid}/cmdline", "rb") as fh:
            argv = [a.decode(errors="replace") for a in fh.read().split(b"\0")]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    if not argv or Path(argv[0]).name != "geth":
        return False
    try:
        datadir = argv[argv.index("--datadir") + 1]
    except (ValueError, IndexError):
        return False
    return datadir == record.datadir and alive(record.pid)


class Consortium:
    """Creates, starts, inspects, changes and stops the local consortium network."""

    def __init__(self, settings: ConsortiumSettings | None = None, progress: Progress = quiet) -> None:
        self.settings = settings or ConsortiumSettings()
        self.progress = progress
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._watchdog: subprocess.Popen[bytes] | None = None

    # -- layout and records -------------------------------------------------------------------

    def node_dir(self, index: int) -> Path:
        return self.settings.data_dir / f"node{index}"

    def _pid_file(self, index: int) -> Path:
        return self.settings.run_dir / f"node{index}.json"

    def network(self) -> NetworkInfo | None:
        """The network recorded in network.json, or None when none was created here."""
        path = self.settings.network_file
        try:
            raw = json.loads(path.read_text())
            nodes = [ConsortiumNode(**n) for n in raw.pop("nodes")]
            return NetworkInfo(nodes=nodes, **raw)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError, KeyError) as exc:
            raise ConsortiumError(f"unreadable {path} ({exc}); remove {self.settings.data_dir} "
                                  "and start afresh") from exc

    def require_network(self) -> NetworkInfo:
        net = self.network()
        if net is None:
            raise ConsortiumError(f"no consortium network in {self.settings.data_dir}; start one "
                                  "with 'chainright consortium up'")
        return net

    def _save_network(self, net: NetworkInfo) -> None:
        tmp = self.settings.network_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(net), indent=2))
        tmp.replace(self.settings.network_file)

    def record(self, index: int) -> NodeProcess | None:
        """The PID record of node ``index``, or None."""
        return read_pid_record(self._pid_file(index), NodeProcess, ConsortiumError)

    def running(self, index: int) -> NodeProcess | None:
        """The PID record of node ``index`` when that geth still runs; stale records are removed."""
        rec = self.record(index)
        if rec is None:
            return None
        if _is_our_geth(rec):
            return rec
        child = self._children.pop(index, None)
        if child is not None:
            child.poll()
        self._pid_file(index).unlink(missing_ok=True)
        return None

    def running_nodes(self) -> list[ConsortiumNode]:
        net = self.network()
        return [n for n in net.nodes if self.running(n.index)] if net else []

    def rpc_url(self) -> str:
        """The HTTP RPC URL of the first running node."""
        nodes = self.running_nodes()
        if not nodes:
            raise ConsortiumError("no consortium node is running; start them with 'chainright consortium up'")
        return nodes[0].rpc_url

    # -- creation -----------------------------------------------------------------------------

    def _ports(self, index: int) -> tuple[int, int, int]:
        base = self.settings.base_port + PORTS_PER_NODE * index
        return base, base + 1, base + 2

    def _make_keys(self, index: int) -> str:
        """Generate node ``index``'s validator key (encrypted keystore), its password and the p2p
        node key, all 0600 in the node's directory; returns the validator address."""
        node_dir = self.node_dir(index)
        if node_dir.exists():
            raise ConsortiumError(f"{node_dir} already exists; refusing to overwrite a node's keys")
        node_dir.mkdir(parents=True, mode=0o700)
        password = secrets.token_hex(32)
        # scrypt with geth's "light" cost (n = 4096): the keys never leave this machine, and
        # standard cost would add seconds and 256 MB per node at every start.
        keyfile = Account.encrypt(secrets.token_bytes(32), password, kdf="scrypt", iterations=4096)
        # eth-keyfile writes the AES-CTR IV as an integer's big-endian bytes, dropping leading zero
        # bytes: one key in 256 got a 15-byte IV, and geth then panics at start ("bad IV length").
        # The IV is a 128-bit counter block, so padding it back to 16 bytes is the same IV.
        keyfile["crypto"]["cipherparams"]["iv"] = keyfile["crypto"]["cipherparams"]["iv"].rjust(32, "0")
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S.%fZ")
        _write_secret(node_dir / "keystore" / f"UTC--{stamp}--{keyfile['address']}", json.dumps(keyfile))
        _write_secret(node_dir / "password", password)
        _write_secret(node_dir / "geth" / "nodekey", secrets.token_bytes(32).hex())
        return to_checksum_address("0x" + str(keyfile["address"]))

    def _init_node(self, geth: Path, index: int, address: str) -> ConsortiumNode:
        """``geth init`` node ``index`` with the genesis; its public record."""
        node_dir = self.node_dir(index)
        node_key = bytes.fromhex((node_dir / "geth" / "nodekey").read_text().strip())
        public = PrivateKey(node_key).public_key.to_bytes().hex()
        http, p2p, authrpc = self._ports(index)
        host = self.settings.host
        out = subprocess.run(
            [str(geth), "--datadir", str(node_dir), "--state.scheme", "hash", "init",
             str(self.settings.genesis_file)],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False,
        )
        if out.returncode != 0:
            raise ConsortiumError(f"geth init failed for node{index}: {out.stderr.strip()[-800:]}")
        return ConsortiumNode(index=index, address=address,
                              enode=f"enode://{public}@{host}:{p2p}?discport=0",
                              http_port=http, p2p_port=p2p, authrpc_port=authrpc, host=host)

    def _write_peer_config(self, net: NetworkInfo) -> None:
        """Every node's config.toml lists every other node as a static peer (discovery is off)."""
        for node in net.nodes:
            peers = "".join(f'  "{n.enode}",\n' for n in net.nodes if n.index != node.index)
            toml = f"[Node.P2P]\nNoDiscovery = true\nStaticNodes = [\n{peers}]\n"
            (self.node_dir(node.index) / "config.toml").write_text(toml)

    def _check_ports(self, nodes: Sequence[ConsortiumNode]) -> None:
        host = self.settings.host
        for node in nodes:
            for what, port in (("HTTP RPC", node.http_port), ("p2p", node.p2p_port),
                               ("engine API", node.authrpc_port)):
                if not port_is_free(host, port):
                    raise PortInUseError(
                        f"port {port} on {host} ({what} of consortium {node.name}) is already in "
                        "use; stop whatever listens there or choose other ports with "
                        "CHAINRIGHT_CONSORTIUM_BASE_PORT (node i uses base + 3i .. base + 3i + 2). "
                        "Nothing was started."
                    )

    def create(self, validators: int) -> NetworkInfo:
        """Create a network of ``validators`` validator nodes: keys, genesis, initialised data dirs.

        Starts nothing. The genesis names the validators, so all keys are made first.
        """
        s = self.settings
        if s.network_file.exists():
            raise ConsortiumError(f"a network already exists in {s.data_dir}")
        if validators < 1:
            raise ConsortiumError("a network needs at least one validator")
        geth = find_geth(s.geth_bin)
        planned = [ConsortiumNode(index=i, address="", enode="", http_port=h, p2p_port=p, authrpc_port=a,
                                  host=s.host)
                   for i in range(validators) for h, p, a in [self._ports(i)]]
        self._check_ports(planned)
        s.data_dir.mkdir(parents=True, exist_ok=True)
        for i in range(validators):
            if self.node_dir(i).exists():
                raise ConsortiumError(f"{self.node_dir(i)} exists but {s.network_file} does not; "
                                      f"remove {s.data_dir} or choose another CHAINRIGHT_CONSORTIUM_DATA_DIR")
        self.progress(f"creating a {validators}-validator network (chain id {s.chain_id}, "
                      f"{s.block_period_s}s blocks) in {s.data_dir}")
        addresses = [self._make_keys(i) for i in range(validators)]
        genesis = genesis_document(s.chain_id, s.block_period_s, addresses, s.gas_limit)
        s.genesis_file.write_text(json.dumps(genesis, indent=2))
        nodes = [self._init_node(geth, i, a) for i, a in enumerate(addresses)]
        net = NetworkInfo(chain_id=s.chain_id, block_period_s=s.block_period_s,
                          genesis_validators=addresses, nodes=nodes, created_at=time.time())
        self._write_peer_config(net)
        self._save_network(net)
        return net

    def add_node(self) -> ConsortiumNode:
        """Create one more node (new keys, same genesis) and start it, not yet a signer.

        It syncs from the others and tries to seal, which Clique refuses until a majority of the
        current signers voted it in (``propose(address, add=True)``).
        """
        net = self.require_network()
        geth = find_geth(self.settings.geth_bin)
        index = max(n.index for n in net.nodes) + 1
        http, p2p, authrpc = self._ports(index)
        self._check_ports([ConsortiumNode(index=index, address="", enode="", http_port=http,
                                          p2p_port=p2p, authrpc_port=authrpc, host=self.settings.host)])
        address = self._make_keys(index)
        node = self._init_node(geth, index, address)
        net = NetworkInfo(chain_id=net.chain_id, block_period_s=net.block_period_s,
                          genesis_validators=net.genesis_validators, nodes=[*net.nodes, node],
                          created_at=net.created_at)
        self._write_peer_config(net)
        self._save_network(net)
        self.progress(f"{node.name}: created ({node.address}), starting")
        self.start_node(index)
        for other in net.nodes:
            if other.index != index and self.running(other.index):
                try:
                    rpc_call(other.rpc_url, "admin_addPeer", [node.enode], timeout=5)
                except ChainUnavailableError as exc:
                    log.warning("could not tell %s about %s: %s", other.name, node.name, exc)
        return node

    # -- start and stop -----------------------------------------------------------------------

    def up(self, validators: int | None = None, *, wait: bool = True) -> list[NodeProcess]:
        """Create the network if there is none, start every node not running, wait until sealing.

        Every port is checked before anything starts, so a taken port starts nothing; if a node
        fails to come up, the nodes this call started are stopped again.
        """
        s = self.settings
        net = self.network()
        if net is None:
            net = self.create(validators if validators is not None else s.validators)
        else:
            if net.chain_id != s.chain_id:
                raise ConsortiumError(
                    f"the network in {s.data_dir} is chain {net.chain_id}, but the settings say "
                    f"{s.chain_id}; fix CHAINRIGHT_CONSORTIUM_CHAIN_ID or use another data dir"
                )
            if validators is not None and validators != len(net.genesis_validators):
                self.progress(f"reusing the existing network in {s.data_dir} ({len(net.nodes)} nodes); "
                              "remove that directory for a new one")
        geth = find_geth(s.geth_bin)
        to_start = [n for n in net.nodes if self.running(n.index) is None]
        self._check_ports(to_start)
        started: list[int] = []
        started_at = time.monotonic()
        try:
            for node in to_start:
                self._spawn(geth, node)
                started.append(node.index)
            for node in to_start:
                self._wait_ready(node)
            self._start_sealing(to_start)
            if wait:
                self.wait_until_sealing()
            for node in to_start:
                if self.running(node.index) is None:
                    raise NodeStartError(f"geth {node.name} exited after starting; last log lines:\n"
                                         f"{self._log_tail(node)}")
        except BaseException:
            for index in started:
                self.stop_node(index)
            raise
        self.start_watchdog()
        self.progress(f"network up in {time.monotonic() - started_at:.1f}s")
        return [r for n in net.nodes if (r := self.running(n.index)) is not None]

    def _start_sealing(self, nodes: Sequence[ConsortiumNode]) -> None:
        """Start sealing on ``nodes`` one validator at a time, so that the start cannot fork.

        Validators that start sealing together each build their own block on the same parent; with
        equal difficulty Clique can then stall for good (see devnet/consortium/forks.py). So: wait until every
        starting node is peered with every running node and all running nodes agree on the head;
        then start one validator's miner, wait until a block it sealed is imported by every running
        node, and only then start the next. While a validator waits for its block, the validators
        already started can only extend the block everybody has, so no two blocks compete for the
        same height (the argument is in chain/README.md). Validators that signed the newest blocks
        (and so may not seal the next one) go last. A validator that cannot seal within a few
        periods (quorum lost, or it signed too recently) is started anyway and reported.
        """
        if not nodes:
            return
        net = self.require_network()
        running = [n for n in net.nodes if self.running(n.index) is not None]
        self._wait_peered(nodes, running)
        self._wait_in_step(running)
        recent = self._recent_sealers(running[0].rpc_url, len(net.nodes) // 2)
        order = sorted(nodes, key=lambda n: (n.address in recent, n.index))
        patience = 4 * len(net.nodes) * net.block_period_s + 5.0
        for node in order:
            before = self.head(node.rpc_url)
            rpc_call(node.rpc_url, "miner_start", [])
            sealed = self._wait_sealed_everywhere(node, before, running, patience)
            if sealed is None:
                self.progress(f"{node.name}: sealing started; no block of its own within {patience:.0f}s "
                              "(it signed too recently, or too few validators run)")
            else:
                self.progress(f"{node.name}: sealed block {sealed}, imported by every node")

    def _wait_peered(self, nodes: Sequence[ConsortiumNode], running: Sequence[ConsortiumNode]) -> None:
        others = {n.index for n in running}
        deadline = time.monotonic() + self.settings.peer_timeout_s
        for node in nodes:
            want = len(others - {node.index})
            peers = 0
            while True:
                peers = int(rpc_call(node.rpc_url, "net_peerCount"), 16)
                if peers >= want or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            if peers < want:
                self.progress(f"{node.name}: {peers} of {want} peers after "
                              f"{self.settings.peer_timeout_s:.0f}s; starting anyway")

    def _wait_in_step(self, running: Sequence[ConsortiumNode]) -> None:
        """Wait until every running node has the same head (a restarted node syncs first).

        Heads that stay apart at the start are a fork left from before (a deadlock the previous run
        ended in): it is healed here, before anyone seals on top of it."""
        deadline = time.monotonic() + self.settings.peer_timeout_s
        while True:
            heads = {self._head_hash(n.rpc_url) for n in running}
            if len(heads) <= 1:
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.3)
        report = self.heal(force=True)
        if report is None:
            self.progress("the nodes' heads still differ; sealing starts anyway and the watchdog "
                          "resolves what remains")

    def _head_hash(self, url: str) -> str:
        return str(rpc_call(url, "eth_getBlockByNumber", ["latest", False])["hash"])

    def _recent_sealers(self, url: str, count: int) -> set[str]:
        """Signers of the newest ``count`` blocks (they may not seal the next one)."""
        head = self.head(url)
        return {self.signer_of(n, url) for n in range(max(1, head - count + 1), head + 1)}

    def _wait_sealed_everywhere(self, node: ConsortiumNode, after: int,
                                running: Sequence[ConsortiumNode], timeout: float) -> int | None:
        """The number of the first block above ``after`` sealed by ``node`` once every running node
        has that very block; None after ``timeout``."""
        deadline = time.monotonic() + timeout
        mine: tuple[int, str] | None = None
        checked = after
        while time.monotonic() < deadline:
            if mine is None:
                head = self.head(node.rpc_url)
                for number in range(checked + 1, head + 1):
                    if self.signer_of(number, node.rpc_url) == node.address:
                        block = rpc_call(node.rpc_url, "eth_getBlockByNumber", [hex(number), False])
                        mine = (number, str(block["hash"]))
                        break
                    checked = number
            if mine is not None:
                number, block_hash = mine
                seen = [rpc_call(n.rpc_url, "eth_getBlockByNumber", [hex(number), False]) for n in running]
                if all(b is not None and b["hash"] == block_hash for b in seen):
                    return number
                if any(b is not None and b["hash"] != block_hash for b in seen):
                    mine = None  # its block lost a race after all: wait for another of its own
                    checked = number
            time.sleep(0.1)
        return None

    def start_node(self, index: int) -> NodeProcess:
        """Start node ``index`` (again) and wait until it answers RPC; it then syncs by itself."""
        net = self.require_network()
        node = net.node(index)
        existing = self.running(index)
        if existing is not None:
            return existing
        self._check_ports([node])
        self._spawn(find_geth(self.settings.geth_bin), node)
        try:
            self._wait_ready(node)
            self._start_sealing([node])
        except BaseException:
            self.stop_node(index)
            raise
        record = self.record(index)
        assert record is not None
        return record

    def _argv(self, geth: Path, node: ConsortiumNode) -> list[str]:
        d = self.node_dir(node.index)
        s = self.settings
        return [
            str(geth), "--datadir", str(d), "--config", str(d / "config.toml"),
            "--networkid", str(s.chain_id), "--syncmode", "full", "--gcmode", "archive",
            "--state.scheme", "hash",
            "--port", str(node.p2p_port), "--nat", "none", "--nodiscover", "--ipcdisable",
            "--http", "--http.addr", s.host, "--http.port", str(node.http_port),
            "--http.api", _HTTP_APIS,
            "--authrpc.addr", "127.0.0.1", "--authrpc.port", str(node.authrpc_port),
            "--miner.etherbase", node.address, "--miner.gasprice", "1",
            "--unlock", node.address, "--password", str(d / "password"), "--allow-insecure-unlock",
            "--txpool.globalslots", "16384", "--txpool.accountslots", "1024",
            "--txpool.globalqueue", "4096", "--txpool.accountqueue", "1024",
            "--cache", "128", "--verbosity", str(s.verbosity),
        ]

    def _spawn(self, geth: Path, node: ConsortiumNode) -> None:
        s = self.settings
        for d in (s.run_dir, s.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        log_file = s.log_dir / f"{node.name}.log"
        self.progress(f"{node.name}: starting geth ({node.address}) on {node.rpc_url}, p2p {node.p2p_port}")
        with open(log_file, "ab") as out:
            proc = subprocess.Popen(
                self._argv(geth, node), stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        self._children[node.index] = proc
        record = NodeProcess(name=node.name, index=node.index, pid=proc.pid, http_port=node.http_port,
                             datadir=str(self.node_dir(node.index)), log_file=str(log_file),
                             started_at=time.time())
        self._pid_file(node.index).write_text(json.dumps(asdict(record), indent=2))

    def _log_tail(self, node: ConsortiumNode, chars: int = 1200) -> str:
        """The end of the node's log; for a Go crash, its ``panic:``/``fatal error:`` line first."""
        log_file = self.settings.log_dir / f"{node.name}.log"
        try:
            text = log_file.read_text(errors="replace")
        except FileNotFoundError:
            return f"({log_file} missing)"
        crash = next((line for line in text.splitlines() if line.startswith(("panic:", "fatal error:"))), "")
        return f"({log_file})\n" + (f"{crash}\n...\n" if crash else "") + text[-chars:].strip()

    def _wait_ready(self, node: ConsortiumNode) -> None:
        deadline = time.monotonic() + self.settings.start_timeout_s
        proc = self._children.get(node.index)
        log_file = self.settings.log_dir / f"{node.name}.log"
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                tail = self._log_tail(node)
                if "address already in use" in tail:
                    raise PortInUseError(
                        f"geth {node.name} could not bind its ports (another process took one after they "
                        f"were checked); choose other ports with CHAINRIGHT_CONSORTIUM_BASE_PORT. {tail}")
                raise NodeStartError(f"geth {node.name} exited with code {proc.returncode} before "
                                     f"answering; last log lines {tail}")
            try:
                got = chain_id_of(node.rpc_url, timeout=0.5)
            except ChainUnavailableError:
                time.sleep(0.1)
                continue
            if got != self.settings.chain_id:
                raise NodeStartError(f"{node.rpc_url} answers with chain id {got}, expected "
                                     f"{self.settings.chain_id}: another node is listening there")
            self.progress(f"{node.name}: answering RPC")
            return
        raise NodeStartError(f"geth {node.name} did not answer on {node.rpc_url} within "
                             f"{self.settings.start_timeout_s:.0f}s; see {log_file}")

    def stop_node(self, index: int, *, kill: bool = False, timeout: float = 20.0) -> bool:
        """Stop node ``index`` if it is the geth we started; True when a process was stopped.

        SIGTERM (geth flushes its database), SIGKILL after ``timeout``; ``kill`` sends SIGKILL
        at once (a crash, for fault tests).
        """
        rec = self.record(index)
        child = self._children.pop(index, None)
        stopped = False
        if rec is not None and _is_our_geth(rec):
            self.progress(f"{rec.name}: {'killing' if kill else 'stopping'} geth (pid {rec.pid})")
            terminate(rec.pid, child, what=f"geth {rec.name}", timeout=timeout, kill=kill)
            stopped = True
        elif child is not None:
            reap(child, timeout)
        self._pid_file(index).unlink(missing_ok=True)
        return stopped

    def down(self, indices: Sequence[int] | None = None) -> list[str]:
        """Stop the named nodes (default: all) that we started; returns the names stopped."""
        net = self.network()
        if net is None:
            return []
        wanted = [n for n in net.nodes if indices is None or n.index in indices]
        if indices is None:
            self.stop_watchdog()
        return [n.name for n in wanted if self.stop_node(n.index)]

    def destroy(self) -> None:
        """Stop every node and delete the network's data directory (keys included)."""
        self.down()
        if self.settings.data_dir.exists():
            shutil.rmtree(self.settings.data_dir)

    # -- chain queries ------------------------------------------------------------------------

    def head(self, url: str | None = None) -> int:
        return int(rpc_call(url or self.rpc_url(), "eth_blockNumber"), 16)

    def signers(self, url: str | None = None) -> list[str]:
        """The current Clique signer set (checksummed), as node ``url`` sees it."""
        return [to_checksum_address(a) for a in rpc_call(url or self.rpc_url(), "clique_getSigners", [None])]

    def signer_of(self, number: int, url: str | None = None) -> str:
        """The address that sealed block ``number`` (recovered by geth from the header seal)."""
        return to_checksum_address(rpc_call(url or self.rpc_url(), "clique_getSigner", [hex(number)]))

    def recent_signers(self, count: int, url: str | None = None) -> list[str]:
        """Signers of the last ``count`` blocks, oldest first."""
        url = url or self.rpc_url()
        head = self.head(url)
        return [self.signer_of(n, url) for n in range(max(1, head - count + 1), head + 1)]

    def wait_until_sealing(self, min_signers: int | None = None, *, timeout: float | None = None) -> set[str]:
        """Wait until blocks sealed by ``min_signers`` distinct validators arrive (default: 2, or 1
        for a one-validator network); returns the signers seen."""
        net = self.require_network()
        url = self.rpc_url()
        wanted = min_signers if min_signers is not None else min(2, len(self.signers(url)))
        limit = timeout if timeout is not None else self.settings.start_timeout_s
        deadline = time.monotonic() + limit
        seen: set[str] = set()
        last = self.head(url)
        start = last
        while time.monotonic() < deadline:
            head = self.head(url)
            for number in range(last + 1, head + 1):
                signer = self.signer_of(number, url)
                node = net.by_address(signer)
                if signer not in seen:
                    seen.add(signer)
                    self.progress(f"block {number} sealed by {signer} ({node.name if node else 'unknown'}); "
                                  f"{len(seen)} distinct signer(s)")
            last = head
            if len(seen) >= wanted:
                return seen
            time.sleep(0.2)
        raise NodeStartError(
            f"blocks {start + 1}..{last} were sealed by {len(seen)} distinct validator(s) within "
            f"{limit:.0f}s, expected {wanted}; check peering in {self.settings.log_dir}"
        )

    def status(self) -> list[NodeStatus]:
        """Every node: running or not, head block, peer count, signer of its head, signer or not."""
        net = self.require_network()
        out: list[NodeStatus] = []
        for node in net.nodes:
            rec = self.running(node.index)
            if rec is None:
                out.append(NodeStatus(node=node, pid=None, block=None, peers=None, head_signer=None,
                                      is_signer=None))
                continue
            try:
                block = rpc_call(node.rpc_url, "eth_getBlockByNumber", ["latest", False])
                head = int(block["number"], 16)
                peers = int(rpc_call(node.rpc_url, "net_peerCount"), 16)
                head_signer = self.signer_of(head, node.rpc_url) if head > 0 else None
                is_signer = node.address in self.signers(node.rpc_url)
                age = max(0.0, time.time() - int(block["timestamp"], 16))
                out.append(NodeStatus(node=node, pid=rec.pid, block=head, peers=peers,
                                      head_signer=head_signer, is_signer=is_signer, head_age_s=age,
                                      head_hash=str(block["hash"])))
            except ChainUnavailableError as exc:
                out.append(NodeStatus(node=node, pid=rec.pid, block=None, peers=None, head_signer=None,
                                      is_signer=None, error=str(exc)))
        return out

    # -- forks: observe, heal, watch ----------------------------------------------------------

    def observe(self) -> list[HeadView]:
        """Every running node's head, total difficulty and peers, as one observation."""
        net = self.require_network()
        views: list[HeadView] = []
        for node in net.nodes:
            if self.running(node.index) is None:
                continue
            try:
                block = rpc_call(node.rpc_url, "eth_getBlockByNumber", ["latest", False])
                peers = rpc_call(node.rpc_url, "admin_peers") or []
            except ChainUnavailableError:
                continue
            views.append(HeadView(
                node=node.name, node_id=_enode_id(node.enode), number=int(block["number"], 16),
                hash=str(block["hash"]), timestamp=int(block["timestamp"], 16),
                total_difficulty=int(block.get("totalDifficulty") or "0x0", 16),
                peers=frozenset(_enode_id(str(p.get("enode", ""))) for p in peers)))
        return views

    def diagnose(self) -> Diagnosis:
        """What the nodes' heads say right now (see devnet/consortium/forks.py)."""
        return diagnose(self.observe(), time.time(), stall_age_for(self.require_network().block_period_s))

    def heal(self, *, force: bool = False) -> ForkRecovery | None:
        """Resolve a fork deadlock, keeping every transaction; None when there is none to resolve.

        Each node off the winning fork stops sealing, hands over the raw bytes of every transaction in
        its own blocks above the common ancestor, is rewound there (``debug_setHead``), imports the
        winning blocks (exported by a winning node), and seals again. The transactions are then sent
        to the winning fork again: those it already holds are refused as known (same hash, same
        nonce), the others are mined, so each is included exactly once. ``force`` acts on differing
        heads even while blocks still arrive (used at start, before any validator seals)."""
        views = self.observe()
        verdict = diagnose(views, time.time(), stall_age_for(self.require_network().block_period_s))
        if verdict.kind != "deadlock" and not (force and verdict.kind == "forked"):
            return None
        net = self.require_network()
        by_name = {n.name: n for n in net.nodes}
        head_of = {v.node: v for v in views}
        if not verdict.winners:
            ranked = sorted(views, key=lambda v: (-v.total_difficulty, -v.number, v.hash))
            win_hash = ranked[0].hash
            winners = [v.node for v in views if v.hash == win_hash]
            losers = [v.node for v in views if v.hash != win_hash]
        else:
            winners, losers = list(verdict.winners), list(verdict.losers)
        source = by_name[winners[0]]
        win_head = head_of[source.name]
        self.progress(f"fork deadlock: {verdict.detail}; rewinding {', '.join(losers)}")
        raws: list[str] = []
        rewound: dict[str, int] = {}
        was_sealing: set[str] = set()
        for name in losers:
            node = by_name[name]
            ancestor = self._common_ancestor(node.rpc_url, source.rpc_url, head_of[name].number)
            if ancestor < head_of[name].number:
                if rpc_call(node.rpc_url, "eth_mining"):
                    was_sealing.add(name)
                rpc_call(node.rpc_url, "miner_stop", [])
                raws.extend(self._raw_transactions(node.rpc_url, ancestor + 1, head_of[name].number))
                rpc_call(node.rpc_url, "debug_setHead", [hex(ancestor)], timeout=30)
                rewound[name] = ancestor
            self._import_blocks(source, node, ancestor + 1, win_head.number)
        deadline = time.monotonic() + 30
        pending = set(losers)
        while pending and time.monotonic() < deadline:
            pending = {n for n in pending if self._head_hash(by_name[n].rpc_url) == head_of[n].hash
                       or self.head(by_name[n].rpc_url) < win_head.number}
            time.sleep(0.2)
        for name in rewound:  # sealing resumes where it ran: a validator an operator stopped stays stopped
            if name in was_sealing:
                rpc_call(by_name[name].rpc_url, "miner_start", [])
        resent = 0
        for raw in raws:
            try:
                rpc_call(source.rpc_url, "eth_sendRawTransaction", [raw], timeout=5)
                resent += 1
            except ChainUnavailableError as exc:
                if not any(word in str(exc) for word in ("known", "nonce too low", "underpriced")):
                    log.warning("a transaction of the rewound fork was refused: %s", exc)
        report = ForkRecovery(at=time.time(), detail=verdict.detail, winning_head=win_head.number,
                              winners=tuple(winners), rewound=rewound, transactions=len(raws),
                              resent=resent, lagging=tuple(sorted(pending)))
        what = ", ".join(f"{n} rewound to {b}" for n, b in rewound.items()) or "no rewind"
        self.progress(f"fork healed: {what}; "
                      f"{len(raws)} transaction(s) of the dropped blocks sent again ({resent} new to the "
                      f"winning fork)")
        return report

    def _common_ancestor(self, url: str, winner_url: str, start: int) -> int:
        number = start
        while number > 0:
            mine = rpc_call(url, "eth_getBlockByNumber", [hex(number), False])
            theirs = rpc_call(winner_url, "eth_getBlockByNumber", [hex(number), False])
            if mine is not None and theirs is not None and mine["hash"] == theirs["hash"]:
                return number
            number -= 1
        return 0

    def _raw_transactions(self, url: str, first: int, last: int) -> list[str]:
        raws: list[str] = []
        for number in range(first, last + 1):
            block = rpc_call(url, "eth_getBlockByNumber", [hex(number), False])
            for tx_hash in (block or {}).get("transactions", []):
                raw = rpc_call(url, "eth_getRawTransactionByHash", [tx_hash])
                if raw:
                    raws.append(str(raw))
        return raws

    def _import_blocks(self, source: ConsortiumNode, target: ConsortiumNode, first: int, last: int) -> None:
        """Copy blocks ``first..last`` from ``source`` to ``target`` (same machine: an RLP file)."""
        if last < first:
            return
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.settings.run_dir / f"blocks-{source.name}-{first}-{last}-{secrets.token_hex(4)}.rlp"
        try:
            rpc_call(source.rpc_url, "admin_exportChain", [str(path), first, last], timeout=60)
            rpc_call(target.rpc_url, "admin_importChain", [str(path)], timeout=60)
        except ChainUnavailableError as exc:
            log.warning("copying blocks %d..%d from %s to %s failed (%s); it syncs them from its peers",
                        first, last, source.name, target.name, exc)
        finally:
            path.unlink(missing_ok=True)

    def _watchdog_file(self) -> Path:
        return self.settings.run_dir / "watchdog.json"

    def watchdog_status(self) -> dict[str, Any] | None:
        """What the watchdog last wrote (pid, state, recoveries), or None when none ran here."""
        try:
            data: dict[str, Any] = json.loads(self._watchdog_file().read_text())
        except (FileNotFoundError, ValueError):
            return None
        data["running"] = _is_watchdog(int(data.get("pid", 0)), self.settings.data_dir)
        return data

    def start_watchdog(self) -> int | None:
        """Start the fork watchdog (``python -m devnet.consortium.watch``) unless one runs; its pid."""
        if not self.settings.watchdog:
            return None
        current = self.watchdog_status()
        if current is not None and current["running"]:
            return int(current["pid"])
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        settings_file = self.settings.run_dir / "watchdog-settings.json"
        settings_file.write_text(self.settings.model_dump_json())
        with open(self.settings.log_dir / "watchdog.log", "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "devnet.consortium.watch", str(settings_file)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                cwd=str(PROJECT_ROOT),
            )
        self._watchdog = proc
        self._watchdog_file().write_text(json.dumps({"pid": proc.pid, "state": "starting",
                                                     "started_at": time.time(), "recoveries": []}))
        self.progress(f"fork watchdog running (pid {proc.pid}, log {self.settings.log_dir / 'watchdog.log'})")
        return proc.pid

    def stop_watchdog(self) -> None:
        status = self.watchdog_status()
        child = getattr(self, "_watchdog", None)
        if status is not None and status["running"]:
            terminate(int(status["pid"]), child, what="consortium watchdog", timeout=10)
        elif child is not None:
            reap(child, 5)
        self._watchdog = None

    # -- membership ---------------------------------------------------------------------------

    def propose(self, address: str, *, add: bool, wait: bool = True,
                timeout: float | None = None) -> list[str]:
        """Vote ``address`` in (``add``) or out on every running signer node; returns the voters.

        A change needs the votes of more than half of the current signers (Clique counts one vote
        per signer, cast in the blocks it seals). With ``wait``, waits until the signer set shows
        the change, then discards the spent proposal on every voter.
        """
        net = self.require_network()
        target = to_checksum_address(address)
        url = self.rpc_url()
        current = self.signers(url)
        if add and target in current:
            raise ConsortiumError(f"{target} is already a signer")
        if not add and target not in current:
            raise ConsortiumError(f"{target} is not a signer (signers: {', '.join(current)})")
        voters = [n for n in net.nodes if n.address in current and self.running(n.index)]
        needed = len(current) // 2 + 1
        if len(voters) < needed:
            raise ConsortiumError(
                f"only {len(voters)} of the {len(current)} signers run here; "
                f"{'adding' if add else 'removing'} a signer needs {needed} votes. Start more signer "
                f"nodes, or have the other members vote with clique_propose(\"{target}\", "
                f"{'true' if add else 'false'}) on theirs"
            )
        for node in voters:
            rpc_call(node.rpc_url, "clique_propose", [target, add], timeout=5)
        self.progress(f"{'add' if add else 'remove'} {target}: voted on "
                      f"{', '.join(n.name for n in voters)} "
                      f"({len(voters)} of {len(current)} signers, {needed} needed)")
        if not wait:
            return [n.name for n in voters]
        limit = timeout if timeout is not None else 30.0 + 4 * len(current) * net.block_period_s
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if (target in self.signers(url)) == add:
                break
            time.sleep(0.25)
        else:
            raise ConsortiumError(f"the signer set did not change within {limit:.0f}s after the votes; "
                                  "check that the voting nodes seal blocks ('chainright consortium status')")
        for node in voters:
            try:
                rpc_call(node.rpc_url, "clique_discard", [target], timeout=5)
            except ChainUnavailableError as exc:
                log.warning("could not discard the spent proposal on %s: %s", node.name, exc)
        self.progress(f"{target} is {'now a signer' if add else 'no longer a signer'} "
                      f"(block {self.head(url)})")
        return [n.name for n in voters]

    # -- the platform's view ------------------------------------------------------------------

    def confirmations(self) -> int:
        """Confirmation depth for the current signer count (see ``confirmations_for``)."""
        try:
            count = len(self.signers())
        except (ChainUnavailableError, ConsortiumError):
            count = len(self.require_network().genesis_validators)
        return confirmations_for(count)

    def env(self, chain_name: str = "home") -> dict[str, str]:
        """The CHAINRIGHT_CHAIN_* variables that point chain ``chain_name`` at this network."""
        if chain_name not in ("home", "remote"):
            raise ConsortiumError(f"unknown chain {chain_name!r}; choose home or remote")
        net = self.require_network()
        running = self.running_nodes()
        node = running[0] if running else net.nodes[0]
        prefix = f"CHAINRIGHT_CHAIN_{chain_name.upper()}"
        return {
            f"{prefix}_RPC_URL": node.rpc_url,
            f"{prefix}_CHAIN_ID": str(net.chain_id),
            f"{prefix}_POA": "true",
            f"{prefix}_CONFIRMATIONS": str(self.confirmations() if running else
                                           confirmations_for(len(net.genesis_validators))),
            f"{prefix}_MAX_BLOCK_AGE_S": f"{stall_age_for(net.block_period_s):g}",
        }



def _ephemeral_low(default: int = 32768) -> int:
    """The lowest port the kernel hands out for outgoing connections and port-0 binds."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def find_free_base_port(nodes: int, *, host: str = "127.0.0.1", low: int = 20000, high: int | None = None,
                        attempts: int = 200) -> int:
    """A base port such that the ports of ``nodes`` nodes (3 each) are all free right now.

    The range ends below the kernel's ephemeral ports (``ip_local_port_range``): a port found free
    there can be taken a moment later by any outgoing connection or port-0 bind (another test's
    anvil), and geth then exits at start with "address already in use"."""
    span = PORTS_PER_NODE * nodes
    top = high if high is not None else max(low + span + 1, _ephemeral_low())
    for _ in range(attempts):
        base = low + secrets.randbelow(top - low - span)
        if all(port_is_free(host, p) for p in range(base, base + span)):
            return base
    raise PortInUseError(f"found no {span} consecutive free ports between {low} and {top}")
