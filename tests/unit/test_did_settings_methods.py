"""did.settings and did.methods: issuer key handling, DID parsing, creation and resolution."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from pydantic import ValidationError

from did.errors import DidSettingsError, InvalidDidError, UnsupportedDidMethodError
from did.keys import ed25519_jwk_from_seed, parse_ed25519_jwk, public_jwk
from did.methods import (
    SUPPORTED_METHODS,
    did_key_from_jwk,
    did_pkh,
    parse_did,
    pkh_account,
    resolve_did_sync,
    verification_method_id,
)
from did.settings import DEV_ISSUER_KEY, DidSettings

pytestmark = pytest.mark.unit

REAL_KEY = ed25519_jwk_from_seed(bytes(range(32)))
HOLDER = Account.from_key("0x" + "22" * 32)


# --- settings ---------------------------------------------------------------------------------


def test_development_issuer_key_is_refused_in_production():
    with pytest.raises(ValidationError, match="public development issuer key"):
        DidSettings(environment="production")
    ok = DidSettings(environment="production", issuer_key=REAL_KEY)
    assert ok.issuer_did == did_key_from_jwk(REAL_KEY)
    assert ok.issuer_did != DidSettings(environment="test").issuer_did


def test_issuer_key_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("CHAINRIGHT_DID_ENVIRONMENT", "production")
    monkeypatch.setenv("CHAINRIGHT_DID_ISSUER_KEY", REAL_KEY)
    monkeypatch.setenv("CHAINRIGHT_DID_KYC_VALIDITY_DAYS", "30")
    s = DidSettings()
    assert s.environment == "production" and s.kyc_validity.days == 30
    assert s.issuer_verification_method == f"{s.issuer_did}#{s.issuer_did.split(':')[2]}"


def test_issuer_key_never_appears_in_repr_dump_or_errors():
    s = DidSettings(environment="test", issuer_key=REAL_KEY)
    d = json.loads(REAL_KEY)["d"]
    assert d not in repr(s) and d not in str(s) and d not in str(s.model_dump())
    broken = REAL_KEY.replace(json.loads(REAL_KEY)["x"], "A" * 43)  # x no longer matches d
    with pytest.raises(ValidationError) as info:
        DidSettings(environment="test", issuer_key=broken)
    assert "does not belong to its private part" in str(info.value)
    assert d not in str(info.value)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("not json", "not valid JSON"),
        ('{"kty":"EC","crv":"secp256k1"}', "must be an Ed25519 JWK"),
        (public_jwk(REAL_KEY), "no private part"),
    ],
)
def test_unusable_issuer_keys_are_refused_with_the_reason(key, problem):
    with pytest.raises(ValidationError, match=problem):
        DidSettings(environment="test", issuer_key=key)
    with pytest.raises(DidSettingsError, match=problem):
        parse_ed25519_jwk(key)


def test_dev_key_is_a_valid_ed25519_jwk():
    assert parse_ed25519_jwk(DEV_ISSUER_KEY)["crv"] == "Ed25519"


# --- DID methods ------------------------------------------------------------------------------


def test_did_key_is_created_from_an_ed25519_jwk_and_resolves_offline():
    did = did_key_from_jwk(REAL_KEY)
    assert did.startswith("did:key:z6Mk")
    assert did_key_from_jwk(public_jwk(REAL_KEY)) == did
    parsed = parse_did(did)
    assert (parsed.method, parsed.identifier) == ("key", did.removeprefix("did:key:"))
    doc = resolve_did_sync(did)
    assert doc["id"] == did
    vm = doc["verificationMethod"][0]
    assert vm["id"] == verification_method_id(did)
    assert vm["publicKeyJwk"]["x"] == json.loads(REAL_KEY)["x"]


def test_did_pkh_is_created_checksummed_and_resolves_to_the_account():
    did = did_pkh(HOLDER.address.lower(), 31337)
    assert did == f"did:pkh:eip155:31337:{HOLDER.address}"
    assert pkh_account(did) == (31337, HOLDER.address)
    doc = resolve_did_sync(did)
    assert doc["id"] == did
    vm = doc["verificationMethod"][0]
    assert vm["id"] == verification_method_id(did) == f"{did}#blockchainAccountId"
    assert vm["blockchainAccountId"] == f"eip155:31337:{HOLDER.address}"


@pytest.mark.parametrize("did", ["did:web:example.com", "did:ethr:0xabc", "did:example:123"])
def test_unknown_method_fails_listing_the_supported_methods(did):
    with pytest.raises(UnsupportedDidMethodError) as info:
        parse_did(did)
    message = str(info.value)
    assert did.split(":")[1] in message
    assert all(f"did:{m}" in message for m in SUPPORTED_METHODS) and SUPPORTED_METHODS == ("key", "pkh")
    with pytest.raises(UnsupportedDidMethodError):
        resolve_did_sync(did)


@pytest.mark.parametrize(
    ("did", "problem"),
    [
        ("not-a-did", "is not a DID"),
        ("did:key:zQ3shjyJXUaRJC2GC43mX8aPrUhoTdoiongXhZjsdTzPKYZUM", "only Ed25519"),
        ("did:key:6MkqUPTJrqDHtTnwaWzGv12CHcMMYToMU9m8WQSG21v3Jq3", "multibase"),
        ("did:key:z6Mk0OIl", "base58btc"),
        (f"did:pkh:eip155:1:{HOLDER.address.lower()}", f"checksummed: {HOLDER.address}"),
        (f"did:pkh:bip122:000000000019d6689c085ae165831e93:{HOLDER.address}", "only eip155"),
        (f"did:pkh:eip155:01:{HOLDER.address}", "positive decimal"),
        ("did:pkh:eip155:1:0x1234", "not a 20-byte"),
        (f"did:pkh:eip155:1:{HOLDER.address}#blockchainAccountId", "DID URL"),
    ],
)
def test_malformed_dids_are_refused_naming_the_problem(did, problem):
    with pytest.raises(InvalidDidError, match=problem):
        parse_did(did)


def test_did_pkh_refuses_bad_chain_ids():
    with pytest.raises(InvalidDidError, match="positive integer"):
        did_pkh(HOLDER.address, 0)


def test_interpreter_exit_after_didkit_calls_is_clean():
    """didkit's tokio threads used to abort the interpreter at exit (rc 134) in ~6 of 10 runs."""
    import subprocess
    import sys

    script = (
        "from did import DidSettings, did_pkh, issue_kyc_credential_sync, verify_kyc_credential_sync\n"
        "s = DidSettings(environment='test')\n"
        "vc = issue_kyc_credential_sync(s, did_pkh('0x' + 'ab' * 20, 1), 2, 'FR')\n"
        "verify_kyc_credential_sync(vc, settings=s)\n"
    )
    codes = [subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60).returncode
             for _ in range(3)]
    assert codes == [0, 0, 0]
