"""The consortium's settings, constants and error, and the network's recorded facts (network.json).

Layout under ``data_dir`` (``CHAINRIGHT_CONSORTIUM_DATA_DIR``)::

    network.json          chain id, block period, nodes (address, enode, ports); no secrets
    genesis.json
    node<i>/              geth data directory of node i
        keystore/UTC--*   the validator key, encrypted (0600)
        password          its keystore password (0600)
        geth/nodekey      the node's p2p key (0600)
        config.toml       static peers
    run/node<i>.json      PID record of a running node (stop acts only on these)
    run/watchdog.json     the fork watchdog's pid, state and recoveries
    logs/node<i>.log
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chain.errors import NodeError
from chain.settings import PROJECT_ROOT

GETH_VERSION = "1.13.15"
DEV_ACCOUNT_COUNT = 10
DEV_BALANCE_WEI = 10_000 * 10**18
"""What anvil gives each development account."""
PORTS_PER_NODE = 3
"""Node i uses base_port + 3i (HTTP JSON-RPC), + 3i + 1 (p2p, TCP) and + 3i + 2 (geth's engine API,
which geth 1.13 always opens; unused here)."""
HTTP_APIS = "eth,net,web3,clique,txpool,admin,miner,debug"
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

    def node_dir(self, index: int) -> Path:
        """The geth data directory of node ``index``."""
        return self.data_dir / f"node{index}"

    def pid_file(self, index: int) -> Path:
        """The PID record of node ``index`` while it runs."""
        return self.run_dir / f"node{index}.json"

    def log_file(self, name: str) -> Path:
        """The log of node (or process) ``name``."""
        return self.log_dir / f"{name}.log"

    @property
    def watchdog_file(self) -> Path:
        return self.run_dir / "watchdog.json"

    def ports(self, index: int) -> tuple[int, int, int]:
        """Node ``index``'s HTTP RPC, p2p and engine API ports."""
        return node_ports(self.base_port, index)


def node_ports(base_port: int, index: int) -> tuple[int, int, int]:
    """HTTP RPC, p2p and engine API ports of node ``index``: base + 3i, + 1, + 2."""
    base = base_port + PORTS_PER_NODE * index
    return base, base + 1, base + 2


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


def planned_node(settings: ConsortiumSettings, index: int) -> ConsortiumNode:
    """Node ``index`` before its keys exist: only its ports (for checking them)."""
    http, p2p, authrpc = settings.ports(index)
    return ConsortiumNode(index=index, address="", enode="", http_port=http, p2p_port=p2p,
                          authrpc_port=authrpc, host=settings.host)


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


def load_network(settings: ConsortiumSettings) -> NetworkInfo | None:
    """The network recorded in network.json, or None when none was created here."""
    path = settings.network_file
    try:
        raw = json.loads(path.read_text())
        nodes = [ConsortiumNode(**n) for n in raw.pop("nodes")]
        return NetworkInfo(nodes=nodes, **raw)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, KeyError) as exc:
        raise ConsortiumError(f"unreadable {path} ({exc}); remove {settings.data_dir} "
                              "and start afresh") from exc


def save_network(settings: ConsortiumSettings, net: NetworkInfo) -> None:
    """Write network.json atomically."""
    tmp = settings.network_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(net), indent=2))
    tmp.replace(settings.network_file)
