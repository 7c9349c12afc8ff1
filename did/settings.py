"""Typed settings of the identity layer (environment prefix ``CHAINRIGHT_DID_``).

The platform issuer signs KYC credentials with an Ed25519 key given as a JWK
(``CHAINRIGHT_DID_ISSUER_KEY='{"kty":"OKP","crv":"Ed25519","x":"...","d":"..."}'``); its DID is
the did:key of that key. A fixed development key is the default; it is public knowledge and
refused when ``CHAINRIGHT_DID_ENVIRONMENT=production``. The key is a SecretStr: never logged,
never in a repr, never in an error (input values are hidden from validation errors).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Literal

import didkit
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from did.errors import DidSettingsError
from did.keys import parse_ed25519_jwk
from did.methods import Did, verification_method_id

# Public development issuer key: accepted only when environment is development or test.
DEV_ISSUER_KEY = (
    '{"kty":"OKP","crv":"Ed25519","x":"o7qDqMDjkS5I2LoMj1hM0G8VUSQ1WPDf4Kp00unbsaY",'
    '"d":"yOf-r6uFZtO13JsmFV7Vj29DlRUyYReAZO36OIZZ278"}'
)


class DidSettings(BaseSettings):
    """Settings of the identity layer; every field can be set as ``CHAINRIGHT_DID_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="CHAINRIGHT_DID_", extra="ignore", hide_input_in_errors=True, frozen=True
    )

    environment: Literal["development", "test", "production"] = "development"
    issuer_key: SecretStr = SecretStr(DEV_ISSUER_KEY)
    """The platform issuer's Ed25519 private JWK (JSON text). Never logged."""
    kyc_validity_days: int = Field(default=365, ge=1, le=3650)
    """Default lifetime of a KYC credential when the caller gives no expiry."""
    clock_skew_seconds: int = Field(default=60, ge=0, le=3600)
    """Tolerance for an issuer clock running ahead: a credential issued up to this many seconds
    in the future still verifies. Expiry is never stretched."""

    @model_validator(mode="after")
    def _check_issuer_key(self) -> DidSettings:
        secret = self.issuer_key.get_secret_value()
        try:
            parse_ed25519_jwk(secret, private=True)
        except DidSettingsError as exc:
            raise ValueError(f"CHAINRIGHT_DID_ISSUER_KEY: {exc}") from None
        if self.environment == "production" and _same_jwk(secret, DEV_ISSUER_KEY):
            raise ValueError(
                "CHAINRIGHT_DID_ISSUER_KEY is the public development issuer key; "
                "set a real Ed25519 JWK for the production environment"
            )
        return self

    @property
    def uses_development_key(self) -> bool:
        """True when the issuer key is the public development key (never acceptable in production)."""
        return _same_jwk(self.issuer_key.get_secret_value(), DEV_ISSUER_KEY)

    @property
    def kyc_validity(self) -> timedelta:
        return timedelta(days=self.kyc_validity_days)

    @property
    def clock_skew(self) -> timedelta:
        return timedelta(seconds=self.clock_skew_seconds)

    @cached_property
    def issuer_did(self) -> Did:
        """The platform issuer's DID (did:key of the issuer key)."""
        return Did(didkit.key_to_did("key", self.issuer_key.get_secret_value()))

    @property
    def issuer_verification_method(self) -> str:
        """The verification method id the issuer signs with (did:key#fragment)."""
        return verification_method_id(self.issuer_did)


def _same_jwk(a: str, b: str) -> bool:
    ja, jb = parse_ed25519_jwk(a), parse_ed25519_jwk(b)
    return bool(ja["d"] == jb["d"])
