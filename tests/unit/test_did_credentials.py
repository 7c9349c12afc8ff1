"""did.credentials and did.kyc: issuing, verifying, and every refusal didkit alone would miss."""

from __future__ import annotations

import asyncio
import copy
import json
import re
from datetime import UTC, datetime, timedelta

import didkit
import pytest
from eth_account import Account

from did.credentials import (
    build_presentation,
    issue_credential_sync,
    issue_presentation_sync,
    verify_credential_sync,
    verify_presentation_sync,
)
from did.errors import (
    ChallengeMismatchError,
    CredentialExpiredError,
    CredentialInvalidError,
    CredentialIssueError,
    CredentialNotYetValidError,
    CredentialTypeError,
    DomainMismatchError,
    HolderMismatchError,
    InvalidKycClaimError,
    PresentationInvalidError,
    ProofTypeError,
    UntrustedIssuerError,
)
from did.holder import sign_presentation
from did.keys import ed25519_jwk_from_seed
from did.kyc import (
    KYC_CONTEXT,
    issue_kyc_credential_sync,
    kyc_claims,
    verify_kyc_credential_sync,
    verify_kyc_presentation_sync,
)
from did.methods import did_key_from_jwk, did_pkh, verification_method_id
from did.settings import DidSettings

pytestmark = pytest.mark.unit

SETTINGS = DidSettings(environment="test")
PLATFORM = SETTINGS.issuer_did
ATTACKER_KEY = ed25519_jwk_from_seed(b"\x66" * 32)
ATTACKER = did_key_from_jwk(ATTACKER_KEY)
HOLDER_KEY = ed25519_jwk_from_seed(b"\x01" * 32)
HOLDER = did_key_from_jwk(HOLDER_KEY)
OTHER_KEY = ed25519_jwk_from_seed(b"\x02" * 32)
OTHER = did_key_from_jwk(OTHER_KEY)
WALLET = Account.from_key("0x" + "22" * 32)
WALLET_DID = did_pkh(WALLET.address, 31337)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)
CHALLENGE, DOMAIN = "c-7f3a9", "app.chainright.example"


def kyc(subject: str = HOLDER, **kw: object) -> dict:
    vc = issue_kyc_credential_sync(SETTINGS, subject, kw.pop("level", 2), kw.pop("country", "FR"),
                                   kw.pop("expires_at", LATER), now=kw.pop("now", NOW))
    assert isinstance(vc, dict) and not kw
    return vc


def present(credentials, holder_key=HOLDER_KEY, challenge=CHALLENGE, domain=DOMAIN) -> dict:
    vp = build_presentation(did_key_from_jwk(holder_key), credentials)
    return issue_presentation_sync(vp, holder_key=holder_key, challenge=challenge, domain=domain, created=NOW)


def verify(vp, **kw):
    args = {"challenge": CHALLENGE, "domain": DOMAIN, "trusted_issuers": {PLATFORM}, "now": NOW + timedelta(days=1)}
    args.update(kw)
    return verify_presentation_sync(vp if isinstance(vp, str) else json.dumps(vp), **args)


def raw_didkit_presentation(vp: dict, key: str, options: dict) -> dict:
    async def go() -> str:
        return await didkit.issue_presentation(json.dumps(vp), json.dumps(options), key)

    return json.loads(asyncio.run(go()))


# --- credentials --------------------------------------------------------------------------------


def test_generic_credential_issues_and_verifies_with_its_issuer_and_dates():
    vc = issue_credential_sync(
        {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
         "issuanceDate": "2026-01-01T00:00:00Z", "credentialSubject": {"id": HOLDER}},
        issuer_key=OTHER_KEY, created=NOW,
    )
    assert isinstance(vc, dict)
    assert vc["issuer"] == OTHER and vc["proof"]["type"] == "Ed25519Signature2018"
    assert vc["proof"]["verificationMethod"] == verification_method_id(OTHER)
    got = verify_credential_sync(vc, trusted_issuers=None, now=NOW)
    assert (got.issuer, got.subject, got.expires_at, got.proof_format) == (OTHER, HOLDER, None, "ldp")
    with pytest.raises(UntrustedIssuerError, match=f"issuer {OTHER} is not trusted"):
        verify_credential_sync(vc, trusted_issuers={PLATFORM}, now=NOW)


def test_issuing_refuses_an_issuer_that_is_not_the_key_and_undefined_terms():
    base = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
            "issuanceDate": "2026-01-01T00:00:00Z", "credentialSubject": {"id": HOLDER}}
    with pytest.raises(CredentialIssueError, match="names issuer"):
        issue_credential_sync({**base, "issuer": PLATFORM}, issuer_key=OTHER_KEY)
    undefined = copy.deepcopy(base)
    undefined["credentialSubject"]["favouriteColour"] = "blue"
    with pytest.raises(CredentialIssueError, match="didkit refused"):
        issue_credential_sync(undefined, issuer_key=OTHER_KEY)


def test_kyc_credential_round_trip():
    vc = kyc(WALLET_DID, level=3, country="DE")
    assert vc["@context"][1] == KYC_CONTEXT and vc["issuer"] == PLATFORM
    claims = verify_kyc_credential_sync(vc, settings=SETTINGS, now=NOW)
    assert (claims.subject, claims.level, claims.country, claims.issuer) == (WALLET_DID, 3, "DE", PLATFORM)
    assert (claims.issued_at, claims.expires_at) == (NOW, LATER)
    assert claims.credential_id is not None and claims.credential_id.startswith("urn:uuid:")


def test_kyc_credential_as_jwt_round_trip():
    now = datetime.now(UTC).replace(microsecond=0)  # didkit checks JWT nbf/exp by the system clock
    token = issue_kyc_credential_sync(SETTINGS, WALLET_DID, 1, "JP", now=now, proof_format="jwt")
    assert isinstance(token, str) and token.count(".") == 2
    claims = verify_kyc_credential_sync(token, settings=SETTINGS, now=now)
    assert (claims.subject, claims.level, claims.country) == (WALLET_DID, 1, "JP")
    assert claims.expires_at == now + SETTINGS.kyc_validity
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(CredentialInvalidError, match="JWT signature does not verify"):
        verify_kyc_credential_sync(forged, settings=SETTINGS, now=now)


@pytest.mark.parametrize(
    ("level", "country", "problem"),
    [(2, "fr", "ISO 3166-1"), (2, "XX", "ISO 3166-1"), (2, "FRA", "ISO 3166-1"), (0, "FR", "outside 1..3"),
     (4, "FR", "outside 1..3"), (True, "FR", "must be an integer")],
)
def test_kyc_claims_are_validated_at_issuance(level, country, problem):
    with pytest.raises(InvalidKycClaimError, match=problem):
        issue_kyc_credential_sync(SETTINGS, HOLDER, level, country, LATER, now=NOW)
    with pytest.raises(InvalidKycClaimError, match="not after issuance"):
        issue_kyc_credential_sync(SETTINGS, HOLDER, 2, "FR", NOW, now=NOW)


def test_kyc_from_another_issuer_is_refused_even_if_well_signed():
    fake = issue_credential_sync(
        {**{k: v for k, v in kyc().items() if k not in ("proof", "issuer")}}, issuer_key=ATTACKER_KEY, created=NOW
    )
    with pytest.raises(UntrustedIssuerError, match=f"issuer {ATTACKER} is not trusted"):
        verify_kyc_credential_sync(fake, settings=SETTINGS, now=NOW)
    verified = verify_credential_sync(fake, trusted_issuers=None, now=NOW)
    with pytest.raises(UntrustedIssuerError, match="must come from the platform issuer"):
        kyc_claims(verified, issuer=PLATFORM)


def test_credential_dates_are_enforced():
    vc = kyc()
    with pytest.raises(CredentialExpiredError, match="expired at 2026-03-31T12:00:00Z"):
        verify_kyc_credential_sync(vc, settings=SETTINGS, now=LATER)
    with pytest.raises(CredentialNotYetValidError, match="not valid before 2026-03-01T12:00:00Z"):
        verify_kyc_credential_sync(vc, settings=SETTINGS, now=NOW - timedelta(minutes=5))
    # within the issuer clock skew (60 s by default) it is accepted
    assert verify_kyc_credential_sync(vc, settings=SETTINGS, now=NOW - timedelta(seconds=30)).level == 2


def test_altered_credential_content_fails_its_proof():
    vc = kyc()
    vc["credentialSubject"]["kycLevel"] = 3
    with pytest.raises(CredentialInvalidError, match="proof does not verify"):
        verify_kyc_credential_sync(vc, settings=SETTINGS, now=NOW)


# --- presentations ----------------------------------------------------------------------------


def test_presentation_with_kyc_credential_verifies():
    vp = present([kyc()])
    got = verify(vp)
    assert got.holder == HOLDER and got.proof_type == "Ed25519Signature2018"
    assert [c.subject for c in got.credentials] == [HOLDER]
    claims = verify_kyc_presentation_sync(json.dumps(vp), settings=SETTINGS, challenge=CHALLENGE,
                                          domain=DOMAIN, now=NOW)
    assert (claims.level, claims.country) == (2, "FR")


def test_presentation_without_credentials_is_did_auth():
    got = verify(present([]))
    assert got.holder == HOLDER and got.credentials == ()
    with pytest.raises(CredentialTypeError, match="exactly one KYCCredential, got 0"):
        verify_kyc_presentation_sync(present([]), settings=SETTINGS, challenge=CHALLENGE, domain=DOMAIN, now=NOW)


def test_forged_inner_credential_with_altered_signature_is_refused():
    vc = kyc()
    jws = vc["proof"]["jws"]
    vc["proof"]["jws"] = jws[:-6] + ("AAAAAA" if not jws.endswith("AAAAAA") else "BBBBBB")
    vp = present([vc])  # the holder's own signature over it is valid
    with pytest.raises(CredentialInvalidError, match=r"presentation credential #0: the proof does not verify"):
        verify(vp)


def test_forged_inner_credential_with_altered_claims_is_refused():
    vc = kyc()
    vc["credentialSubject"]["country"] = "US"
    with pytest.raises(CredentialInvalidError, match="proof does not verify"):
        verify(present([vc]))


def test_inner_credential_issued_by_an_untrusted_key_is_refused():
    fake = issue_credential_sync({k: v for k, v in kyc().items() if k not in ("proof", "issuer")},
                                 issuer_key=ATTACKER_KEY, created=NOW)
    with pytest.raises(UntrustedIssuerError, match=f"issuer {ATTACKER} is not trusted"):
        verify(present([fake]))
    # claiming the platform as issuer while signed by the attacker's key
    fake["issuer"] = PLATFORM
    with pytest.raises(CredentialInvalidError, match="not by issuer"):
        verify(present([fake]))


def test_holder_who_is_not_the_subject_is_refused():
    vp = present([kyc(subject=OTHER)])
    with pytest.raises(HolderMismatchError, match=f"its subject is {OTHER}, but the presentation's holder is {HOLDER}"):
        verify(vp)


def test_presentation_signed_by_a_key_that_is_not_the_holders_is_refused():
    # didkit will not sign for a holder that is not the key's DID, so relabel the holder afterwards
    signed = present([kyc(subject=HOLDER)], holder_key=OTHER_KEY)
    signed["holder"] = HOLDER
    with pytest.raises(HolderMismatchError, match=f"made by .*{OTHER}.*, not by the holder {HOLDER}"):
        verify(signed)


def test_expired_and_not_yet_valid_inner_credentials_are_refused():
    vp = present([kyc()])
    with pytest.raises(CredentialExpiredError, match="presentation credential #0: expired"):
        verify(vp, now=LATER + timedelta(seconds=1))
    with pytest.raises(CredentialNotYetValidError, match="presentation credential #0: not valid before"):
        verify(vp, now=NOW - timedelta(hours=1))


def test_wrong_or_missing_challenge_is_refused():
    vp = present([kyc()])
    with pytest.raises(ChallengeMismatchError, match="'c-7f3a9' is not the expected 'other'"):
        verify(vp, challenge="other")
    unchallenged = raw_didkit_presentation(build_presentation(HOLDER, [kyc()]), HOLDER_KEY, {
        "proofPurpose": "authentication", "verificationMethod": verification_method_id(HOLDER), "domain": DOMAIN})
    with pytest.raises(ChallengeMismatchError, match="has no challenge"):
        verify(unchallenged)
    with pytest.raises(ValueError, match="non-empty"):
        verify(vp, challenge="")


def test_wrong_or_missing_domain_is_refused():
    vp = present([kyc()])
    with pytest.raises(DomainMismatchError, match=re.escape("'app.chainright.example' is not the expected 'evil.example'")):
        verify(vp, domain="evil.example")
    no_domain = raw_didkit_presentation(build_presentation(HOLDER, [kyc()]), HOLDER_KEY, {
        "proofPurpose": "authentication", "verificationMethod": verification_method_id(HOLDER),
        "challenge": CHALLENGE})
    with pytest.raises(DomainMismatchError, match="has no domain"):
        verify(no_domain)


@pytest.mark.parametrize("tamper", ["credential", "created", "extra-field", "jws"])
def test_tampered_presentation_is_refused(tamper):
    vp = present([kyc()])
    if tamper == "credential":
        vp["verifiableCredential"][0] = kyc(level=3)  # another valid credential swapped in
    elif tamper == "created":
        vp["proof"]["created"] = "2026-03-01T12:00:01Z"
    elif tamper == "extra-field":
        vp["id"] = "urn:uuid:00000000-0000-0000-0000-000000000000"
    else:
        jws = vp["proof"]["jws"]
        vp["proof"]["jws"] = jws[:-6] + ("AAAAAA" if not jws.endswith("AAAAAA") else "BBBBBB")
    with pytest.raises(PresentationInvalidError, match="does not verify for holder"):
        verify(vp)


def test_wrong_proof_type_is_refused():
    # did:pkh holder, proof type left to didkit's default (EcdsaSecp256k1Signature2019)
    import base64

    from coincurve import PrivateKey

    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    priv = PrivateKey(bytes(WALLET.key))
    pub = priv.public_key.format(compressed=False)
    jwk = json.dumps({"kty": "EC", "crv": "secp256k1", "x": b64(pub[1:33]), "y": b64(pub[33:]), "d": b64(priv.secret)})
    vp = raw_didkit_presentation(build_presentation(WALLET_DID), jwk, {
        "proofPurpose": "authentication", "verificationMethod": verification_method_id(WALLET_DID),
        "challenge": CHALLENGE, "domain": DOMAIN})
    assert vp["proof"]["type"] == "EcdsaSecp256k1Signature2019"
    with pytest.raises(ProofTypeError, match="EcdsaSecp256k1Signature2019' is not accepted for a did:pkh holder"):
        verify(vp)
    # an accepted wallet proof type the caller excluded
    personal = sign_presentation(build_presentation(WALLET_DID), WALLET, "EthereumPersonalSignature2021",
                                 CHALLENGE, DOMAIN, NOW)
    assert verify(personal).holder == WALLET_DID
    with pytest.raises(ProofTypeError, match="accepted: EthereumEip712Signature2021"):
        verify(personal, accepted_proof_types={"EthereumEip712Signature2021"})
    # relabelling a valid proof's type breaks its signature
    relabelled = copy.deepcopy(personal)
    relabelled["proof"]["type"] = "EthereumEip712Signature2021"
    with pytest.raises(PresentationInvalidError):
        verify(relabelled)


def test_jwt_credentials_are_refused_under_an_ed25519_presentation_proof():
    now = datetime.now(UTC).replace(microsecond=0)
    token = issue_kyc_credential_sync(SETTINGS, HOLDER, 2, "FR", now=now, proof_format="jwt")
    vp = build_presentation(HOLDER, [token])
    with pytest.raises(PresentationInvalidError, match="would not cover JWT credentials"):
        issue_presentation_sync(vp, holder_key=HOLDER_KEY, challenge=CHALLENGE, domain=DOMAIN)
    signed = raw_didkit_presentation(vp, HOLDER_KEY, {
        "proofPurpose": "authentication", "verificationMethod": verification_method_id(HOLDER),
        "challenge": CHALLENGE, "domain": DOMAIN})
    with pytest.raises(PresentationInvalidError, match="does not cover JWT credentials"):
        verify(signed, now=now)


def test_malformed_presentations_are_refused_naming_the_problem():
    with pytest.raises(PresentationInvalidError, match="not valid JSON"):
        verify("{not json")
    vp = present([])
    no_proof = {k: v for k, v in vp.items() if k != "proof"}
    with pytest.raises(PresentationInvalidError, match="exactly one proof"):
        verify(no_proof)
    with pytest.raises(PresentationInvalidError, match="holder is not usable"):
        verify({**vp, "holder": "did:web:example.com"})


# --- the issuer's status register (revocation) ---------------------------------------------------

_SUBJECT_PKH = "did:pkh:eip155:31337:0x8626f6940E2eb28930eFb4CeF49B2d1F2C9C1199"


def _registered_kyc(proof_format="ldp"):
    from did.settings import DidSettings

    settings = DidSettings(environment="test")
    vc = issue_kyc_credential_sync(settings, _SUBJECT_PKH, 2, "FR", datetime.now(UTC) + timedelta(days=1),
                                   proof_format=proof_format, credential_id="urn:chainright:kyc:ab12",
                                   status_id="https://platform.example/kyc/credentials/status?id=urn:chainright:kyc:ab12")
    return settings, vc


@pytest.mark.parametrize("proof_format", ["ldp", "jwt"])
def test_kyc_credential_with_status_verifies_while_in_force_and_fails_once_revoked(proof_format):
    from did.errors import CredentialRevokedError

    settings, vc = _registered_kyc(proof_format)
    asked: list[str] = []

    def register(credential_id: str) -> str | None:
        asked.append(credential_id)
        return None if len(asked) == 1 else "revoked: document withdrawn"

    claims = verify_kyc_credential_sync(vc, settings=settings, status_check=register)
    assert claims.credential_id == "urn:chainright:kyc:ab12" and asked == ["urn:chainright:kyc:ab12"]
    with pytest.raises(CredentialRevokedError, match="urn:chainright:kyc:ab12 is no longer valid: revoked"):
        verify_kyc_credential_sync(vc, settings=settings, status_check=register)
    assert verify_kyc_credential_sync(vc, settings=settings).level == 2  # without a register: no opinion
    if proof_format == "ldp":
        assert vc["credentialStatus"] == {
            "id": "https://platform.example/kyc/credentials/status?id=urn:chainright:kyc:ab12",
            "type": "KycRegisterStatus"}


def test_presentation_credential_refused_by_the_status_register():
    from did.errors import CredentialRevokedError

    settings = SETTINGS
    wallet = Account.from_key("0x" + "11" * 32)
    holder = did_pkh(wallet.address, 31337)
    vc = issue_kyc_credential_sync(settings, holder, 1, "FR", datetime.now(UTC) + timedelta(days=1),
                                   proof_format="jwt", credential_id="urn:chainright:kyc:cd34")
    vp = sign_presentation(build_presentation(holder, [vc]), wallet, "EthereumEip712Signature2021",
                           "c-1", "example.org", datetime.now(UTC))
    with pytest.raises(CredentialRevokedError, match=r"credential #0: urn:chainright:kyc:cd34 .*expired"):
        verify_presentation_sync(vp, challenge="c-1", domain="example.org",
                                 trusted_issuers={settings.issuer_did}, status_check=lambda _: "expired")
    ok = verify_presentation_sync(vp, challenge="c-1", domain="example.org",
                                  trusted_issuers={settings.issuer_did}, status_check=lambda _: None)
    assert ok.holder == holder


def test_didkit_exception_on_the_jwt_path_is_a_credential_error(monkeypatch):
    from did._didkit import DIDKitException

    _, vc = _registered_kyc("jwt")

    def explode(*_args):
        raise DIDKitException("crafted input")

    monkeypatch.setattr(didkit, "verify_credential", explode)
    with pytest.raises(CredentialInvalidError, match="didkit cannot read the JWT credential: crafted input"):
        verify_credential_sync(vc, trusted_issuers=None)
