"""Typed settings of the chain layer (environment prefix ``CHAINRIGHT_CHAIN_``).

Two chains are known by name: ``home`` (chain id 31337) and ``remote`` (chain id 31338). Each is
either a local anvil that Chainright starts and owns (the default) or an external JSON-RPC
endpoint (``CHAINRIGHT_CHAIN_HOME_RPC_URL=...``), for instance a consortium network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chain.errors import ChainSettingsError
from chain.types import ChainId

ChainName = Literal["home", "remote"]
CHAIN_NAMES: tuple[ChainName, ...] = ("home", "remote")

# Anvil's well-known development key #0 (mnemonic "test test ... junk"). Public knowledge:
# accepted only when environment is development or test.
DEV_DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ChainSpec:
    """Everything needed to reach one chain; derived from settings, immutable."""

    name: ChainName
    chain_id: ChainId
    rpc_url: str
    port: int | None
    """The loopback port of a managed anvil; None for an external endpoint."""
    managed: bool
    """True when Chainright starts and stops this chain's node itself."""
    poa: bool
    """True when block headers carry proof-of-authority extraData (Clique, QBFT, IBFT)."""
    confirmations: int
    """Blocks to wait before an event counts as final on this chain."""
    max_block_age_s: float | None = None
    """A head older than this means the chain stalled (``chain.health``); None: not watched (a chain
    that makes blocks only on demand, like anvil's automine, has no block age to watch)."""


class ChainSettings(BaseSettings):
    """Settings of the chain layer; every field can be set as ``CHAINRIGHT_CHAIN_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CHAINRIGHT_CHAIN_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=PROJECT_ROOT / ".chainright")
    host: str = "127.0.0.1"

    home_chain_id: int = 31337
    home_port: int = Field(default=8545, ge=1, le=65535)
    home_rpc_url: str | None = None
    home_poa: bool = False
    home_confirmations: int = Field(default=0, ge=0)
    home_max_block_age_s: float | None = Field(default=None, gt=0)

    remote_chain_id: int = 31338
    remote_port: int = Field(default=8546, ge=1, le=65535)
    remote_rpc_url: str | None = None
    remote_poa: bool = False
    remote_confirmations: int = Field(default=0, ge=0)
    remote_max_block_age_s: float | None = Field(default=None, gt=0)

    anvil_bin: Path | None = None
    """Path of the anvil binary; default: the project's .bin/anvil, then anvil on PATH."""
    block_time: float | None = Field(default=None, gt=0)
    """Seconds between blocks for managed anvils; None mines one block per transaction."""
    persist_state: bool = True
    """Managed anvils load and save their state under data_dir/chains, so restarts resume."""
    start_timeout_s: float = Field(default=15.0, gt=0)

    bridge_validators: list[str] = Field(default_factory=list)
    """Addresses the bridge contracts accept signatures from (JSON list); empty: anvil dev accounts
    10, 11, 12, refused when deploying in production."""
    bridge_threshold: int = Field(default=2, ge=1, le=255)
    """Validator signatures a bridge message needs."""
    bridge_rate_limit: int = Field(default=1000, ge=0, lt=2**32)
    """Bridge transfers per hour and direction (per endpoint): the global ceiling."""
    bridge_rate_per_sender: int = Field(default=50, ge=0, lt=2**32)
    """Bridge departures per hour by one sender."""
    bridge_rate_per_collection: int = Field(default=100, ge=0, lt=2**32)
    """Bridge departures per hour of one home collection."""

    deployer_key: SecretStr = SecretStr(DEV_DEPLOYER_KEY)
    """Key that deploys contracts and signs operator transactions. Never logged."""
    tx_timeout_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _refuse_dev_key_outside_development(self) -> ChainSettings:
        dev = self.deployer_key.get_secret_value().lower() == DEV_DEPLOYER_KEY
        if dev and self.environment == "production":
            raise ValueError(
                "CHAINRIGHT_CHAIN_DEPLOYER_KEY is anvil's public development key; "
                "set a real key for the production environment"
            )
        if self.bridge_validators and self.bridge_threshold > len(self.bridge_validators):
            raise ValueError(
                f"CHAINRIGHT_CHAIN_BRIDGE_THRESHOLD ({self.bridge_threshold}) exceeds the number of "
                f"bridge validators ({len(self.bridge_validators)})"
            )
        if self.home_chain_id == self.remote_chain_id:
            raise ValueError("home and remote chains need different chain ids")
        if self.home_rpc_url is None and self.remote_rpc_url is None \
                and self.home_port == self.remote_port:
            raise ValueError("home and remote anvils need different ports")
        return self

    def spec(self, name: ChainName) -> ChainSpec:
        """The connection spec of chain ``name`` (``home`` or ``remote``)."""
        if name not in CHAIN_NAMES:
            raise ChainSettingsError(f"unknown chain {name!r}; choose one of {', '.join(CHAIN_NAMES)}")
        url: str | None = getattr(self, f"{name}_rpc_url")
        port: int = getattr(self, f"{name}_port")
        managed = url is None
        return ChainSpec(
            name=name,
            chain_id=ChainId(getattr(self, f"{name}_chain_id")),
            rpc_url=url if url is not None else f"http://{self.host}:{port}",
            port=port if managed else None,
            managed=managed,
            poa=getattr(self, f"{name}_poa"),
            confirmations=getattr(self, f"{name}_confirmations"),
            max_block_age_s=getattr(self, f"{name}_max_block_age_s"),
        )

    def specs(self, which: str = "all") -> list[ChainSpec]:
        """Specs for ``home``, ``remote`` or ``all``."""
        if which == "all":
            return [self.spec(n) for n in CHAIN_NAMES]
        if which not in CHAIN_NAMES:
            raise ChainSettingsError(
                f"unknown chain {which!r}; choose home, remote or all"
            )
        return [self.spec(which)]

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "chains"

    @property
    def deployments_file(self) -> Path:
        return self.data_dir / "deployments.json"
