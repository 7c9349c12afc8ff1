"""Ed25519 JWKs for did:key issuers and holders. Messages never include key material."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, cast

import didkit
from Crypto.PublicKey import ECC  # pycryptodome, installed with eth-account (eth-keyfile)

from did.errors import DidSettingsError


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _ed25519_public(seed: bytes) -> bytes:
    # pycryptodome's stub types the seed as str | int; at run time it takes the 32 raw bytes.
    key = ECC.construct(curve="Ed25519", seed=cast(Any, seed))
    return bytes(key.public_key().export_key(format="raw"))


def generate_ed25519_jwk() -> str:
    """A new Ed25519 private JWK (JSON text) from didkit's generator."""
    return didkit.generate_ed25519_key()


def parse_ed25519_jwk(jwk_json: str, *, private: bool = True) -> dict[str, Any]:
    """Parse and check an Ed25519 JWK; with ``private``, ``d`` must be present and match ``x``.

    Raises DidSettingsError naming the problem (never the key itself).
    """
    try:
        jwk = json.loads(jwk_json)
    except ValueError:
        raise DidSettingsError("the Ed25519 key is not valid JSON (expected a JWK object)") from None
    if not isinstance(jwk, dict):
        raise DidSettingsError("the Ed25519 key must be a JWK object")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise DidSettingsError(
            f"the key must be an Ed25519 JWK (kty OKP, crv Ed25519); got kty {jwk.get('kty')!r}, "
            f"crv {jwk.get('crv')!r}"
        )
    try:
        x = _b64url_decode(str(jwk.get("x", "")))
    except (binascii.Error, ValueError):
        raise DidSettingsError("the Ed25519 JWK's public part 'x' is not base64url") from None
    if len(x) != 32:
        raise DidSettingsError(f"the Ed25519 JWK's public part 'x' must be 32 bytes, got {len(x)}")
    if private:
        if "d" not in jwk:
            raise DidSettingsError("the Ed25519 JWK has no private part 'd'")
        try:
            d = _b64url_decode(str(jwk["d"]))
        except (binascii.Error, ValueError):
            raise DidSettingsError("the Ed25519 JWK's private part 'd' is not base64url") from None
        if len(d) != 32:
            raise DidSettingsError(f"the Ed25519 JWK's private part 'd' must be 32 bytes, got {len(d)}")
        derived = _ed25519_public(d)
        if derived != x:
            raise DidSettingsError(
                "the Ed25519 JWK's public part 'x' does not belong to its private part 'd'"
            )
    return jwk


def public_jwk(jwk_json: str) -> str:
    """The public half (kty, crv, x) of an Ed25519 JWK, as JSON text."""
    jwk = parse_ed25519_jwk(jwk_json, private=False)
    return json.dumps({"kty": "OKP", "crv": "Ed25519", "x": jwk["x"]})


def ed25519_jwk_from_seed(seed: bytes) -> str:
    """An Ed25519 private JWK from a 32-byte seed (deterministic keys for tests and fixtures)."""
    if len(seed) != 32:
        raise DidSettingsError(f"an Ed25519 seed must be 32 bytes, got {len(seed)}")
    x = _ed25519_public(seed)
    return json.dumps({"kty": "OKP", "crv": "Ed25519", "x": _b64url_encode(x), "d": _b64url_encode(seed)})
