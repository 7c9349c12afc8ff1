"""Typed settings of the relayer (environment prefix ``CHAINRIGHT_BRIDGE_``).

Chains, their RPC URLs and the deployment registry come from the chain settings
(``CHAINRIGHT_CHAIN_*``); this adds the relayer's own keys, confirmations, database and pacing.

Keys are ``SecretStr`` and never logged. The development defaults are anvil's public dev keys
(validators 10, 11, 12; submitter 8) and are refused in production.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chain.devaccounts import dev_account
from chain.settings import ChainSettings

if TYPE_CHECKING:
    from bridge.core import RetryPolicy

DEV_VALIDATOR_INDEXES = (10, 11, 12)
DEV_SUBMITTER_INDEX = 8


def _dev_key(index: int) -> str:
    return "0x" + bytes(dev_account(index).key).hex()


def dev_validator_keys() -> list[SecretStr]:
    return [SecretStr(_dev_key(i)) for i in DEV_VALIDATOR_INDEXES]


def _is_dev_key(key: SecretStr) -> bool:
    known = {_dev_key(i) for i in range(20)}
    return key.get_secret_value().lower() in known


class BridgeSettings(BaseSettings):
    """Settings of the relayer; every field can be set as ``CHAINRIGHT_BRIDGE_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CHAINRIGHT_BRIDGE_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = None
    """SQLAlchemy URL; default: SQLite at ``<chain data dir>/bridge.db`` (WAL, shared by the
    relayer's processes). The relayer's own database: its tables (BRIDGE_METADATA) are created by the
    store, not by the API's Alembic history."""

    validator_keys: list[SecretStr] = Field(default_factory=dev_validator_keys)
    """Validator keys (JSON list); ``--validator-index i`` picks one. Never logged."""
    submitter_key: SecretStr = SecretStr(_dev_key(DEV_SUBMITTER_INDEX))
    """The key that pays for deliveries. Never logged."""

    home_confirmations: int | None = Field(default=None, ge=0)
    """Blocks a home event must be buried under before validators sign it; default: the chain
    settings' CHAINRIGHT_CHAIN_HOME_CONFIRMATIONS."""
    remote_confirmations: int | None = Field(default=None, ge=0)

    poll_interval_s: float = Field(default=0.25, gt=0)
    rescan_blocks: int = Field(default=64, ge=0)
    """On (re)start, scan again this many blocks before the checkpoint (de-duplicated)."""
    batch_blocks: int = Field(default=500, ge=1)
    max_attempts: int = Field(default=5, ge=1)
    """Deliveries that revert for a reason other than pause or rate limit are tried this often."""
    retry_after_s: float = Field(default=2.0, ge=0)
    """Wait before trying a reverted delivery again."""
    hold_retry_s: float = Field(default=5.0, gt=0)
    """A departure whose custody cannot be decided on this node (state gone, token moved since) is
    looked at again after this long, doubling each time up to ``hold_max_wait_s``."""
    hold_max_wait_s: float = Field(default=3600.0, gt=0)
    hold_stuck_after: int = Field(default=5, ge=1)
    """Looks after which a held departure shows as stuck in ``relayer status`` (still looked at)."""
    delivery_batch: int = Field(default=50, ge=1)
    """Deliveries the submitter signs and sends before waiting for their receipts."""

    @model_validator(mode="after")
    def _refuse_dev_keys_in_production(self) -> BridgeSettings:
        if not self.validator_keys:
            raise ValueError("CHAINRIGHT_BRIDGE_VALIDATOR_KEYS is empty; give at least one key")
        values = [k.get_secret_value().lower() for k in self.validator_keys]
        if len(set(values)) != len(values):
            raise ValueError(
                "CHAINRIGHT_BRIDGE_VALIDATOR_KEYS lists a key twice; each validator needs its own"
            )
        if self.environment == "production":
            if any(_is_dev_key(k) for k in self.validator_keys):
                raise ValueError(
                    "CHAINRIGHT_BRIDGE_VALIDATOR_KEYS holds anvil's public development keys; "
                    "set real validator keys for the production environment"
                )
            if _is_dev_key(self.submitter_key):
                raise ValueError(
                    "CHAINRIGHT_BRIDGE_SUBMITTER_KEY is anvil's public development key; set a "
                    "real key for the production environment"
                )
        return self

    def hold_schedule(self, attempts: int) -> tuple[float, bool]:
        from bridge.core import hold_schedule

        return hold_schedule(attempts, base_s=self.hold_retry_s, max_wait_s=self.hold_max_wait_s,
                             stuck_after=self.hold_stuck_after)

    def retry_policy(self) -> RetryPolicy:
        """When a delivery that did not land is tried again (``core.transfer_step``)."""
        from bridge.core import RetryPolicy

        return RetryPolicy(retry_after_s=self.retry_after_s, max_attempts=self.max_attempts)

    def effective_database_url(self, chain: ChainSettings) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(chain.data_dir) / 'bridge.db'}"

    def confirmations(self, chain: ChainSettings, name: str) -> int:
        own: int | None = getattr(self, f"{name}_confirmations")
        return own if own is not None else int(chain.spec(name).confirmations)  # type: ignore[arg-type]
