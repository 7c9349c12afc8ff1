"""KYCCredential: the platform issuer's statement that a DID passed KYC at a level, in a country,
until a date.

Its JSON-LD terms are defined by an inline, protected @context (no URL to fetch), so didkit's
strict expansion accepts exactly these properties and nothing else. The issuer is always the
platform's did:key (from ``DidSettings.issuer_key``); verification refuses any other issuer.

Levels run from ``KYC_MIN_LEVEL`` (1, basic) to ``KYC_MAX_LEVEL`` (3, full). Country is an
officially assigned ISO 3166-1 alpha-2 code in upper case. expirationDate is mandatory.

A credential issued with a ``status_id`` carries a ``credentialStatus`` entry of type
``KycRegisterStatus``: the issuer's register (the platform's KYC applications), asked by the
credential id, says whether it is still in force. Verifiers pass that register as ``status_check``;
a revoked or expired-early credential then fails with CredentialRevokedError.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from did._sync import run
from did.contexts import CREDENTIALS_V1_URL
from did.countries import is_country_code
from did.credentials import (
    ProofFormat,
    StatusCheck,
    VerifiedCredential,
    _now,
    check_status,
    format_vc_time,
    issue_credential,
    verify_credential,
    verify_presentation,
)
from did.errors import CredentialTypeError, InvalidDidError, InvalidKycClaimError, UntrustedIssuerError
from did.methods import Did, parse_did
from did.settings import DidSettings

KYC_CREDENTIAL_TYPE = "KYCCredential"
KYC_STATUS_TYPE = "KycRegisterStatus"
KYC_VOCAB = "urn:chainright:kyc#"
KYC_MIN_LEVEL = 1
KYC_MAX_LEVEL = 3
KYC_CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    "@protected": True,
    "KYCCredential": f"{KYC_VOCAB}KYCCredential",
    "KycRegisterStatus": f"{KYC_VOCAB}KycRegisterStatus",
    "kycLevel": {"@id": f"{KYC_VOCAB}kycLevel", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
    "country": {"@id": f"{KYC_VOCAB}country"},
}
_SUBJECT_KEYS = frozenset({"id", "kycLevel", "country"})


@dataclass(frozen=True)
class KycClaims:
    """What a verified KYCCredential says."""

    subject: Did
    level: int
    country: str
    issuer: Did
    issued_at: datetime
    expires_at: datetime
    credential_id: str | None


def _check_level(level: object) -> int:
    if isinstance(level, bool) or not isinstance(level, int):
        raise InvalidKycClaimError(f"KYC level must be an integer, got {type(level).__name__}")
    if not KYC_MIN_LEVEL <= level <= KYC_MAX_LEVEL:
        raise InvalidKycClaimError(f"KYC level {level} is outside {KYC_MIN_LEVEL}..{KYC_MAX_LEVEL}")
    return level


def _check_country(country: object) -> str:
    if not is_country_code(country):
        raise InvalidKycClaimError(
            f"country {country!r} is not an ISO 3166-1 alpha-2 code (two upper-case letters, e.g. FR)"
        )
    assert isinstance(country, str)
    return country


def kyc_credential_document(
    *,
    issuer: str,
    subject_did: str,
    level: int,
    country: str,
    issued_at: datetime,
    expires_at: datetime,
    credential_id: str | None = None,
    status_id: str | None = None,
) -> dict[str, Any]:
    """The unsigned KYCCredential (claims validated); with ``status_id``, a credentialStatus entry
    pointing at the issuer's register."""
    try:
        subject = parse_did(subject_did).did
    except InvalidDidError as exc:
        raise InvalidKycClaimError(f"KYC subject: {exc}") from None
    if expires_at <= issued_at:
        raise InvalidKycClaimError(
            f"KYC expiry {format_vc_time(expires_at)} is not after issuance {format_vc_time(issued_at)}"
        )
    document: dict[str, Any] = {
        "@context": [CREDENTIALS_V1_URL, dict(KYC_CONTEXT)],
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", KYC_CREDENTIAL_TYPE],
        "issuer": issuer,
        "issuanceDate": format_vc_time(issued_at),
        "expirationDate": format_vc_time(expires_at),
        "credentialSubject": {
            "id": subject,
            "kycLevel": _check_level(level),
            "country": _check_country(country),
        },
    }
    if status_id is not None:
        document["credentialStatus"] = {"id": status_id, "type": KYC_STATUS_TYPE}
    return document


async def issue_kyc_credential(
    settings: DidSettings,
    subject_did: str,
    level: int,
    country: str,
    expires_at: datetime | None = None,
    *,
    now: datetime | None = None,
    proof_format: ProofFormat = "ldp",
    credential_id: str | None = None,
    status_id: str | None = None,
) -> dict[str, Any] | str:
    """Issue a KYCCredential from the platform issuer (JSON-LD object, or JWT with ``jwt``).

    ``expires_at`` defaults to ``now + settings.kyc_validity``; ``credential_id`` to a fresh
    ``urn:uuid``; ``status_id`` (optional) adds the credentialStatus entry.
    """
    issued_at = _now(now)
    document = kyc_credential_document(
        issuer=settings.issuer_did,
        subject_did=subject_did,
        level=level,
        country=country,
        issued_at=issued_at,
        expires_at=expires_at if expires_at is not None else issued_at + settings.kyc_validity,
        credential_id=credential_id,
        status_id=status_id,
    )
    return await issue_credential(
        document, issuer_key=settings.issuer_key, proof_format=proof_format, created=issued_at
    )


def issue_kyc_credential_sync(
    settings: DidSettings,
    subject_did: str,
    level: int,
    country: str,
    expires_at: datetime | None = None,
    *,
    now: datetime | None = None,
    proof_format: ProofFormat = "ldp",
    credential_id: str | None = None,
    status_id: str | None = None,
) -> dict[str, Any] | str:
    """Blocking ``issue_kyc_credential``."""
    return run(
        issue_kyc_credential(
            settings, subject_did, level, country, expires_at, now=now, proof_format=proof_format,
            credential_id=credential_id, status_id=status_id,
        )
    )


def kyc_claims(credential: VerifiedCredential, *, issuer: str) -> KycClaims:
    """Read a verified credential as a KYCCredential issued by ``issuer``; refuse anything else."""
    if credential.issuer != issuer:
        raise UntrustedIssuerError(
            f"a KYCCredential must come from the platform issuer {issuer}, not {credential.issuer}"
        )
    if KYC_CREDENTIAL_TYPE not in credential.types:
        raise CredentialTypeError(
            f"credential types {list(credential.types)} do not include {KYC_CREDENTIAL_TYPE}"
        )
    document: Mapping[str, Any] = credential.document
    if document.get("@context") != [CREDENTIALS_V1_URL, KYC_CONTEXT]:
        raise CredentialTypeError(
            "a KYCCredential must use the credentials v1 context and the KYC inline context"
        )
    status = document.get("credentialStatus")
    if status is not None and (
        not isinstance(status, Mapping) or status.get("type") != KYC_STATUS_TYPE
        or not isinstance(status.get("id"), str)
    ):
        raise CredentialTypeError(
            f"a KYCCredential's credentialStatus must be a {KYC_STATUS_TYPE} with an id"
        )
    subject = document.get("credentialSubject", {})
    if set(subject) != _SUBJECT_KEYS:
        raise CredentialTypeError(
            f"KYCCredential subject must have exactly {sorted(_SUBJECT_KEYS)}, got {sorted(subject)}"
        )
    if credential.expires_at is None:
        raise CredentialTypeError("a KYCCredential must have an expirationDate")
    try:
        level = _check_level(subject["kycLevel"])
        country = _check_country(subject["country"])
    except InvalidKycClaimError as exc:
        raise CredentialTypeError(f"KYCCredential claims: {exc}") from None
    return KycClaims(
        subject=credential.subject,
        level=level,
        country=country,
        issuer=credential.issuer,
        issued_at=credential.issued_at,
        expires_at=credential.expires_at,
        credential_id=credential.credential_id,
    )


async def verify_kyc_credential(
    credential: Mapping[str, Any] | str,
    *,
    settings: DidSettings,
    now: datetime | None = None,
    status_check: StatusCheck | None = None,
) -> KycClaims:
    """Verify a KYCCredential (either form): platform issuer only, proof, dates, claims, and
    (with ``status_check``, the issuer's register) that it is still in force."""
    verified = await verify_credential(
        credential, trusted_issuers={settings.issuer_did}, now=now, clock_skew=settings.clock_skew
    )
    claims = kyc_claims(verified, issuer=settings.issuer_did)
    check_status(verified, status_check, "KYCCredential")
    return claims


def verify_kyc_credential_sync(
    credential: Mapping[str, Any] | str,
    *,
    settings: DidSettings,
    now: datetime | None = None,
    status_check: StatusCheck | None = None,
) -> KycClaims:
    """Blocking ``verify_kyc_credential``."""
    return run(verify_kyc_credential(credential, settings=settings, now=now, status_check=status_check))


async def verify_kyc_presentation(
    vp_json: str | Mapping[str, Any],
    *,
    settings: DidSettings,
    challenge: str,
    domain: str,
    now: datetime | None = None,
    status_check: StatusCheck | None = None,
) -> KycClaims:
    """Verify a presentation that must carry exactly one KYCCredential about its holder (still in
    force by ``status_check`` when given)."""
    presentation = await verify_presentation(
        vp_json,
        challenge=challenge,
        domain=domain,
        trusted_issuers={settings.issuer_did},
        now=now,
        clock_skew=settings.clock_skew,
        status_check=status_check,
    )
    found = presentation.credentials_of_type(KYC_CREDENTIAL_TYPE)
    if len(found) != 1:
        raise CredentialTypeError(
            f"the presentation must carry exactly one {KYC_CREDENTIAL_TYPE}, got {len(found)}"
        )
    return kyc_claims(found[0], issuer=settings.issuer_did)


def verify_kyc_presentation_sync(
    vp_json: str | Mapping[str, Any],
    *,
    settings: DidSettings,
    challenge: str,
    domain: str,
    now: datetime | None = None,
    status_check: StatusCheck | None = None,
) -> KycClaims:
    """Blocking ``verify_kyc_presentation``."""
    return run(
        verify_kyc_presentation(
            vp_json, settings=settings, challenge=challenge, domain=domain, now=now, status_check=status_check
        )
    )


def default_kyc_expiry(settings: DidSettings, now: datetime | None = None) -> datetime:
    """``now + settings.kyc_validity``."""
    return _now(now) + timedelta(days=settings.kyc_validity_days)
