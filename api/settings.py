"""Typed settings of the API (environment prefix ``CHAINRIGHT_API_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Public development secrets: accepted only outside production.
DEV_SESSION_SECRET = "chainright-development-session-secret-do-not-use-in-production"  # noqa: S105
LOOPBACK_TWINS = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}
"""Two names of this machine: a sign-in origin on one also answers on the other."""
DEV_KYC_KEY = "Y2hhaW5yaWdodC1kZXYta3ljLWtleS0zMi1ieXRlcyE="  # base64 of 32 bytes, public


class ApiSettings(BaseSettings):
    """Settings of the HTTP API; every field can be set as ``CHAINRIGHT_API_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CHAINRIGHT_API_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: str | None = None
    """SQLAlchemy URL; default: SQLite at ``<data_dir>/chainright.db``. PostgreSQL:
    ``postgresql+psycopg://user:pass@host/db``."""
    data_dir: Path = Field(default=PROJECT_ROOT / ".chainright")

    session_secret: SecretStr = SecretStr(DEV_SESSION_SECRET)
    """HMAC key of bearer session tokens. Never logged."""
    session_ttl_s: int = Field(default=3600, gt=0)
    caller_cache_ttl_s: float = Field(default=2.0, ge=0, le=30)
    """Seconds a token's caller (session, user, roles, KYC) is kept in memory (``api.callers``): a
    logout, KYC revocation or role change made in another process takes effect here within this
    long (in this process at once). 0: read on every request."""

    siwe_domain: str = "localhost:8000"
    """The domain a Sign-In with Ethereum message must name (EIP-4361). Unset: ``localhost:<port>``."""
    siwe_uri: str = "http://localhost:8000"
    """The origin that domain is served at. Unset: ``http://<siwe_domain>``. On a loopback host the
    twin origin (``127.0.0.1`` for ``localhost`` and back, same port) signs in too (``sign_in_origins``)."""
    login_nonce_ttl_s: int = Field(default=300, gt=0)

    kyc_encryption_key: SecretStr = SecretStr(DEV_KYC_KEY)
    """base64 of a 32-byte AES-256-GCM key that encrypts KYC personal data at rest."""

    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    """The largest file an upload route takes (its body may add the form's framing, api.limits)."""
    max_json_bytes: int = Field(default=256 * 1024, gt=0)
    """The largest body of every other route (the biggest legitimate one, a 50-order batch with
    contract-wallet signatures, is about 220 KiB)."""

    idempotency_ttl_s: int = Field(default=86_400, gt=0)
    """How long an Idempotency-Key's stored answer is replayed; afterwards the key is free again."""
    idempotency_stale_s: int = Field(default=300, gt=0)
    """A keyed request still in progress after this long crashed: its key may run again."""

    role_grants: dict[str, list[str]] = Field(default_factory=dict)
    """Roles granted at login, by DID or address, as JSON:
    ``{"did:pkh:eip155:31337:0xAbc...": ["kyc_officer", "operator"]}``."""

    sanctions_file: Path = Field(default=PROJECT_ROOT / "api" / "kyc" / "sanctions-sample.txt")
    """The sanctions list (format in api/kyc/sanctions.py). The sample ships for development."""
    kyc_provider: str = Field(default="manual", pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    """Who assesses applications: a name registered in api.kyc.providers (``manual`` by default)."""

    ipfs_api: str | None = None
    """Multiaddr of a Kubo-compatible node (``/ip4/127.0.0.1/tcp/5001``); unset: local store."""

    @model_validator(mode="after")
    def _sign_in_follows_the_port(self) -> ApiSettings:
        if "siwe_domain" not in self.model_fields_set:
            self.siwe_domain = f"localhost:{self.port}"
        if "siwe_uri" not in self.model_fields_set:
            self.siwe_uri = f"http://{self.siwe_domain}"
        return self

    def sign_in_origins(self) -> list[tuple[str, str]]:
        """The (domain, origin) pairs a Sign-In with Ethereum message may name, the configured one
        first. A loopback origin brings its twin: ``localhost:P`` and ``127.0.0.1:P`` are the same
        server on the same machine, and no other site can be reached at either, so the address
        ``chainright up`` prints signs in as well as the configured one. Nothing else is added: a
        message naming any other domain is refused (a phishing page cannot borrow our name)."""
        domain, uri = self.siwe_domain, self.siwe_uri.rstrip("/")
        pairs = [(domain, uri)]
        scheme, _, rest = uri.partition("://")
        host, _, port = rest.partition(":")
        if rest == domain and host in LOOPBACK_TWINS:
            twin = LOOPBACK_TWINS[host] + (f":{port}" if port else "")
            pairs.append((twin, f"{scheme}://{twin}"))
        return pairs

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> ApiSettings:
        if self.environment == "production":
            if self.session_secret.get_secret_value() == DEV_SESSION_SECRET:
                raise ValueError("CHAINRIGHT_API_SESSION_SECRET must be set in production")
            if self.kyc_encryption_key.get_secret_value() == DEV_KYC_KEY:
                raise ValueError("CHAINRIGHT_API_KYC_ENCRYPTION_KEY must be set in production")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'chainright.db'}"
