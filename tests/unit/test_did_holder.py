"""did.holder: a wallet key (eth-account) signs presentations that didkit verifies, byte for byte
the proofs didkit itself makes with the same key; tampered copies fail."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from datetime import UTC, datetime, timedelta

import didkit
import pytest
from coincurve import PrivateKey
from eth_account import Account

from did.credentials import build_presentation, verify_presentation_sync
from did.errors import HolderMismatchError, HolderSigningError, PresentationInvalidError
from did.holder import (
    EIP712_PROOF,
    PERSONAL_SIGN_PROOF,
    complete_presentation_proof,
    prepare_presentation_proof,
    sign_presentation,
)
from did.kyc import issue_kyc_credential_sync, verify_kyc_presentation_sync
from did.methods import did_pkh, verification_method_id
from did.settings import DidSettings

pytestmark = pytest.mark.unit

SETTINGS = DidSettings(environment="test")
WALLET = Account.from_key("0x" + "11" * 32)
WALLET_DID = did_pkh(WALLET.address, 1)
OTHER_WALLET = Account.from_key("0x" + "44" * 32)
# didkit checks a JWT credential's nbf/exp by the system clock: JWT tests run at the real time.
NOW = datetime.now(UTC).replace(microsecond=0)
CHALLENGE, DOMAIN = "n-93b1", "app.chainright.example"


def secp256k1_jwk(account) -> str:
    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    priv = PrivateKey(bytes(account.key))
    pub = priv.public_key.format(compressed=False)
    return json.dumps({"kty": "EC", "crv": "secp256k1", "x": b64(pub[1:33]), "y": b64(pub[33:]),
                       "d": b64(priv.secret)})


def didkit_signed(vp: dict, proof_type: str, created: datetime) -> dict:
    """The reference: didkit signing the same presentation with the same private key."""
    options = {"proofPurpose": "authentication", "verificationMethod": verification_method_id(vp["holder"]),
               "challenge": CHALLENGE, "domain": DOMAIN, "type": proof_type,
               "created": created.strftime("%Y-%m-%dT%H:%M:%SZ")}

    async def go() -> str:
        return await didkit.issue_presentation(json.dumps(vp), json.dumps(options), secp256k1_jwk(WALLET))

    return json.loads(asyncio.run(go()))


def verify(vp: dict, **kw):
    args = {"challenge": CHALLENGE, "domain": DOMAIN, "trusted_issuers": {SETTINGS.issuer_did}, "now": NOW}
    args.update(kw)
    return verify_presentation_sync(json.dumps(vp), **args)


@pytest.fixture(scope="module")
def kyc_jwt() -> str:
    token = issue_kyc_credential_sync(SETTINGS, WALLET_DID, 2, "FR", now=NOW, proof_format="jwt")
    assert isinstance(token, str)
    return token


@pytest.fixture(scope="module")
def kyc_ldp() -> dict:
    vc = issue_kyc_credential_sync(SETTINGS, WALLET_DID, 2, "FR", now=NOW)
    assert isinstance(vc, dict)
    return vc


@pytest.mark.parametrize("proof_type", [EIP712_PROOF, PERSONAL_SIGN_PROOF])
def test_wallet_proof_equals_didkits_own_proof_for_did_auth(proof_type):
    vp = build_presentation(WALLET_DID)
    ours = sign_presentation(vp, WALLET, proof_type, CHALLENGE, DOMAIN, NOW)
    reference = didkit_signed(vp, proof_type, NOW)
    assert ours["proof"] == reference["proof"]
    assert ours == reference
    assert verify(ours).holder == WALLET_DID


def test_eip712_proof_over_a_jwt_kyc_credential_matches_didkit_and_verifies(kyc_jwt):
    vp = build_presentation(WALLET_DID, [kyc_jwt], presentation_id="urn:uuid:4b7a2c55-1d0e-4c39-9a57-0c1f9f0d2b11")
    ours = sign_presentation(vp, WALLET, EIP712_PROOF, CHALLENGE, DOMAIN, NOW)
    assert ours["proof"] == didkit_signed(vp, EIP712_PROOF, NOW)["proof"]
    claims = verify_kyc_presentation_sync(json.dumps(ours), settings=SETTINGS, challenge=CHALLENGE,
                                          domain=DOMAIN, now=NOW)
    assert (claims.subject, claims.level, claims.country) == (WALLET_DID, 2, "FR")


def test_personal_sign_does_not_cover_jwt_credentials_so_both_sides_refuse_them(kyc_jwt):
    vp = build_presentation(WALLET_DID, [kyc_jwt])
    with pytest.raises(HolderSigningError, match="would not cover it"):
        sign_presentation(vp, WALLET, PERSONAL_SIGN_PROOF, CHALLENGE, DOMAIN, NOW)
    # didkit signs it, and still accepts it after the JWT is swapped: the signature ignores JWTs
    signed = didkit_signed(vp, PERSONAL_SIGN_PROOF, NOW)
    swapped = copy.deepcopy(signed)
    swapped["verifiableCredential"] = [
        issue_kyc_credential_sync(SETTINGS, WALLET_DID, 3, "DE", now=NOW, proof_format="jwt")]

    async def didkit_verify(doc: dict) -> dict:
        options = {"proofPurpose": "authentication", "challenge": CHALLENGE, "domain": DOMAIN}
        return json.loads(await didkit.verify_presentation(json.dumps(doc), json.dumps(options)))

    assert asyncio.run(didkit_verify(swapped))["errors"] == []
    for doc in (signed, swapped):
        with pytest.raises(PresentationInvalidError, match="does not cover JWT credentials"):
            verify(doc)


def test_eip712_types_for_integers_booleans_arrays_and_objects_match_didkit():
    vp = build_presentation(WALLET_DID)
    vp.update({"round": 7, "flag": True, "tags": ["a", "b"], "nested": {"n": 3, "ok": False}, "big": 2**40})
    ours = sign_presentation(vp, WALLET, EIP712_PROOF, CHALLENGE, DOMAIN, NOW)
    assert ours["proof"] == didkit_signed(vp, EIP712_PROOF, NOW)["proof"]
    assert verify(ours).holder == WALLET_DID
    with pytest.raises(HolderSigningError, match="not an integer"):
        sign_presentation({**vp, "ratio": 0.5}, WALLET, EIP712_PROOF, CHALLENGE, DOMAIN, NOW)
    with pytest.raises(HolderSigningError, match="mixes types"):
        sign_presentation({**vp, "tags": ["a", 1]}, WALLET, EIP712_PROOF, CHALLENGE, DOMAIN, NOW)


def test_personal_sign_proof_over_a_json_ld_kyc_credential_matches_didkit_and_verifies(kyc_ldp):
    vp = build_presentation(WALLET_DID, [kyc_ldp])
    ours = sign_presentation(vp, WALLET, PERSONAL_SIGN_PROOF, CHALLENGE, DOMAIN, NOW)
    assert ours["proof"] == didkit_signed(vp, PERSONAL_SIGN_PROOF, NOW)["proof"]
    got = verify(ours)
    assert got.proof_type == PERSONAL_SIGN_PROOF and got.credentials[0].claims["kycLevel"] == 2


def test_eip712_cannot_carry_json_ld_credentials_and_says_why(kyc_ldp):
    vp = build_presentation(WALLET_DID, [kyc_ldp])
    with pytest.raises(HolderSigningError, match="cannot carry JSON-LD credentials"):
        sign_presentation(vp, WALLET, EIP712_PROOF, CHALLENGE, DOMAIN, NOW)
    # didkit itself cannot either
    with pytest.raises(Exception, match="EIP-712"):
        didkit_signed(vp, EIP712_PROOF, NOW)


@pytest.mark.parametrize("proof_type", [EIP712_PROOF, PERSONAL_SIGN_PROOF])
@pytest.mark.parametrize("tamper", ["credential", "proof-value", "challenge", "created", "extra-field"])
def test_tampered_wallet_presentations_fail(proof_type, tamper, kyc_jwt, kyc_ldp):
    credential = kyc_jwt if proof_type == EIP712_PROOF else kyc_ldp
    fmt = "jwt" if proof_type == EIP712_PROOF else "ldp"
    signed = sign_presentation(build_presentation(WALLET_DID, [credential]), WALLET, proof_type, CHALLENGE,
                               DOMAIN, NOW)
    assert verify(signed).holder == WALLET_DID
    bad = copy.deepcopy(signed)
    expected_challenge = CHALLENGE
    if tamper == "credential":  # another valid credential of the same holder swapped in
        bad["verifiableCredential"] = [
            issue_kyc_credential_sync(SETTINGS, WALLET_DID, 3, "FR", now=NOW, proof_format=fmt)]
    elif tamper == "proof-value":
        value = bad["proof"]["proofValue"]
        bad["proof"]["proofValue"] = value[:10] + ("0" if value[10] != "0" else "1") + value[11:]
    elif tamper == "challenge":
        bad["proof"]["challenge"] = expected_challenge = "n-other"
    elif tamper == "created":
        bad["proof"]["created"] = (NOW + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        bad["id"] = "urn:uuid:00000000-0000-0000-0000-000000000000"
    with pytest.raises(PresentationInvalidError, match="does not verify for holder"):
        verify(bad, challenge=expected_challenge)


def test_holder_relabelled_to_another_wallet_fails():
    signed = sign_presentation(build_presentation(WALLET_DID), WALLET, EIP712_PROOF, CHALLENGE, DOMAIN, NOW)
    other_did = did_pkh(OTHER_WALLET.address, 1)
    relabelled = {**signed, "holder": other_did}
    with pytest.raises(HolderMismatchError):
        verify(relabelled)
    relabelled["proof"] = {**signed["proof"], "verificationMethod": verification_method_id(other_did)}
    with pytest.raises(PresentationInvalidError, match="does not verify"):
        verify(relabelled)


def test_proofs_with_their_own_eip712_types_are_refused():
    signed = sign_presentation(build_presentation(WALLET_DID), WALLET, EIP712_PROOF, CHALLENGE, DOMAIN, NOW)
    custom = copy.deepcopy(signed)
    custom["proof"]["eip712"] = {"types": {}, "primaryType": "Document", "domain": {}}
    with pytest.raises(PresentationInvalidError, match="their own EIP-712 types"):
        verify(custom)


def test_signing_refuses_an_account_that_is_not_the_holder():
    vp = build_presentation(WALLET_DID)
    with pytest.raises(HolderSigningError, match="is not the presentation's holder"):
        sign_presentation(vp, OTHER_WALLET, PERSONAL_SIGN_PROOF, CHALLENGE, DOMAIN, NOW)


def test_prepare_and_complete_split_for_a_remote_wallet():
    prepared = prepare_presentation_proof(build_presentation(WALLET_DID), proof_type=EIP712_PROOF,
                                          challenge=CHALLENGE, domain=DOMAIN, created=NOW)
    assert isinstance(prepared.signing_input, dict)
    assert prepared.signing_input["primaryType"] == "Document" and prepared.signing_input["domain"] == {}
    assert prepared.holder_address == WALLET.address
    with pytest.raises(HolderSigningError, match=f"not by the holder's address {WALLET.address}"):
        complete_presentation_proof(prepared, OTHER_WALLET.unsafe_sign_hash(prepared.digest).signature)
    with pytest.raises(HolderSigningError, match="65 bytes"):
        complete_presentation_proof(prepared, b"\x01" * 64)
    signature = WALLET.unsafe_sign_hash(prepared.digest).signature.hex()
    assert verify(complete_presentation_proof(prepared, signature)).holder == WALLET_DID


def test_prepare_refuses_non_wallet_holders_and_signed_presentations():
    from did.keys import ed25519_jwk_from_seed
    from did.methods import did_key_from_jwk

    with pytest.raises(HolderSigningError, match="need a did:pkh holder"):
        prepare_presentation_proof(build_presentation(did_key_from_jwk(ed25519_jwk_from_seed(b"\x05" * 32))),
                                   proof_type=EIP712_PROOF, challenge=CHALLENGE, domain=DOMAIN, created=NOW)
    signed = sign_presentation(build_presentation(WALLET_DID), WALLET, EIP712_PROOF, CHALLENGE, DOMAIN, NOW)
    with pytest.raises(HolderSigningError, match="already carries a proof"):
        prepare_presentation_proof(signed, proof_type=EIP712_PROOF, challenge=CHALLENGE, domain=DOMAIN, created=NOW)
