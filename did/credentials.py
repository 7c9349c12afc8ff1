"""Issue and verify W3C Verifiable Credentials and Presentations through didkit, plus the checks
didkit 0.3.3 leaves out (all observed):

- ``verify_presentation`` does not verify the credentials inside: we verify each one;
- it does not check that the holder is the subject of each credential: we do;
- no date checks at all (an expired credential verifies clean): we enforce issuanceDate and
  expirationDate against an explicit ``now``;
- challenge and domain are only checked when passed: they are required arguments here, always
  passed to didkit, and the proof's own fields are compared too;
- which issuers to trust is the caller's decision (``trusted_issuers``), checked per credential;
- no revocation: the caller may pass a ``status_check`` (the issuer's status register, keyed by
  the credential id) that every credential must pass;
- the proof type must match the holder's DID method (Ed25519Signature2018 for did:key,
  EthereumEip712Signature2021 / EthereumPersonalSignature2021 for did:pkh).

Credentials come in two forms: JSON-LD objects with an Ed25519Signature2018 proof (``ldp``,
strict JSON-LD: undefined terms fail, unknown context URLs are never fetched) and JWT strings
(``jwt``, needed inside EIP-712-signed presentations; didkit also checks a JWT's nbf/exp
against the system clock, so our date checks run first to report them precisely).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import didkit
from pydantic import SecretStr

from did._didkit import DIDKitException, awaited
from did._sync import run
from did.contexts import CREDENTIALS_V1_URL
from did.errors import (
    ChallengeMismatchError,
    CredentialExpiredError,
    CredentialInvalidError,
    CredentialIssueError,
    CredentialNotYetValidError,
    CredentialRevokedError,
    DidError,
    DomainMismatchError,
    HolderMismatchError,
    InvalidDidError,
    PresentationInvalidError,
    ProofTypeError,
    UntrustedIssuerError,
)
from did.holder import WALLET_PROOF_TYPES
from did.keys import parse_ed25519_jwk
from did.methods import Did, did_key_from_jwk, did_of_verification_method, parse_did, verification_method_id

ProofFormat = Literal["ldp", "jwt"]
ED25519_PROOF = "Ed25519Signature2018"
CREDENTIAL_PROOF_TYPES: tuple[str, ...] = (ED25519_PROOF,)
"""Linked-data proof types accepted on credentials (our issuers are Ed25519 did:key)."""
PRESENTATION_PROOF_TYPES: Mapping[str, tuple[str, ...]] = {
    "key": (ED25519_PROOF,),
    "pkh": WALLET_PROOF_TYPES,
}
"""Presentation proof types accepted per holder DID method."""
JWT_CARRYING_PROOF_TYPES: tuple[str, ...] = ("EthereumEip712Signature2021",)
"""Presentation proofs that sign JWT credentials. Linked-data proofs over RDF
(Ed25519Signature2018, EthereumPersonalSignature2021) do NOT: a JWT string under
``verifiableCredential`` expands to an empty graph, so it can be swapped without breaking the
presentation's signature (observed with didkit 0.3.3). We refuse JWTs under those proofs."""


StatusCheck = Callable[[str], str | None]
"""The issuer's status register, asked by credential id: None while the credential is in force,
else the reason it is not (e.g. "revoked on 2026-05-01: document withdrawn")."""


# --- small helpers ----------------------------------------------------------------------------


def format_vc_time(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds), the form we write into credentials."""
    if moment.tzinfo is None:
        raise ValueError("credential times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any, what: str, label: str) -> datetime:
    if not isinstance(value, str):
        raise CredentialInvalidError(f"{label}: {what} must be an ISO 8601 date-time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CredentialInvalidError(f"{label}: {what} {value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise CredentialInvalidError(f"{label}: {what} {value!r} has no time zone")
    return moment.astimezone(UTC)


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _types(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return ()


def _didkit_errors(report_json: str) -> list[str]:
    report = json.loads(report_json)
    errors = report.get("errors") if isinstance(report, dict) else ["unreadable didkit report"]
    return [str(e) for e in errors or []]


def _scrub(message: str, secret: str) -> str:
    """didkit messages should not echo keys, but never let key material through."""
    try:
        jwk = json.loads(secret)
    except ValueError:
        return message
    for part in ("d", "x"):
        value = jwk.get(part) if isinstance(jwk, dict) else None
        if isinstance(value, str) and value and value in message:
            message = message.replace(value, "[redacted]")
    return message


def _check_did(value: Any, what: str, label: str, error: type[DidError]) -> Did:
    if isinstance(value, dict):
        value = value.get("id")
    if not isinstance(value, str):
        raise error(f"{label}: {what} must be a DID string")
    try:
        return parse_did(value).did
    except InvalidDidError as exc:
        raise error(f"{label}: {what} is not usable: {exc}") from None


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedCredential:
    """A credential that passed every check: proof, issuer trust, dates."""

    issuer: Did
    subject: Did
    types: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime | None
    claims: Mapping[str, Any]
    """The credentialSubject properties other than ``id``."""
    proof_format: ProofFormat
    credential_id: str | None = None
    document: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The credential as JSON-LD (for JWTs: the decoded ``vc`` claim)."""


@dataclass(frozen=True)
class VerifiedPresentation:
    """A presentation whose proof, challenge, domain, holder binding and credentials all verified."""

    holder: Did
    credentials: tuple[VerifiedCredential, ...]
    proof_type: str

    def credentials_of_type(self, credential_type: str) -> tuple[VerifiedCredential, ...]:
        return tuple(c for c in self.credentials if credential_type in c.types)


# --- issuing --------------------------------------------------------------------------------


async def issue_credential(
    credential: Mapping[str, Any],
    *,
    issuer_key: SecretStr | str,
    proof_format: ProofFormat = "ldp",
    created: datetime | None = None,
) -> dict[str, Any] | str:
    """Sign ``credential`` with an Ed25519 issuer key (its did:key is the issuer).

    Returns the credential with its proof (``ldp``) or a JWT string (``jwt``). The credential's
    ``issuer`` is set to the key's DID; a different issuer already in it is refused.
    """
    secret = issuer_key.get_secret_value() if isinstance(issuer_key, SecretStr) else issuer_key
    try:
        parse_ed25519_jwk(secret, private=True)
    except DidError as exc:
        raise CredentialIssueError(f"issuer key: {exc}") from None
    issuer = did_key_from_jwk(secret)
    document = dict(credential)
    if document.setdefault("issuer", issuer) != issuer:
        raise CredentialIssueError(
            f"the credential names issuer {document['issuer']!r} but the key belongs to {issuer}"
        )
    options: dict[str, Any] = {
        "proofPurpose": "assertionMethod",
        "verificationMethod": verification_method_id(issuer),
        "type": ED25519_PROOF,
        "created": format_vc_time(_now(created)),
    }
    if proof_format == "jwt":
        # A JWT carries no proof object: its time claims come from the credential's dates.
        options = {k: options[k] for k in ("proofPurpose", "verificationMethod")}
        options["proofFormat"] = "jwt"
    elif proof_format != "ldp":
        raise CredentialIssueError(f"proof format must be 'ldp' or 'jwt', not {proof_format!r}")
    try:
        signed = await awaited(didkit.issue_credential(json.dumps(document), json.dumps(options), secret))
    except DIDKitException as exc:
        raise CredentialIssueError(f"didkit refused the credential: {_scrub(str(exc), secret)}") from None
    if proof_format == "jwt":
        return signed
    result: dict[str, Any] = json.loads(signed)
    return result


def issue_credential_sync(
    credential: Mapping[str, Any],
    *,
    issuer_key: SecretStr | str,
    proof_format: ProofFormat = "ldp",
    created: datetime | None = None,
) -> dict[str, Any] | str:
    """Blocking ``issue_credential``."""
    return run(
        issue_credential(credential, issuer_key=issuer_key, proof_format=proof_format, created=created)
    )


# --- verifying credentials ------------------------------------------------------------------


@dataclass(frozen=True)
class _CredentialView:
    """The fields we check, read from either form."""

    label: str
    document: Mapping[str, Any]
    issuer: Did
    subject: Did
    claims: Mapping[str, Any]
    types: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime | None
    credential_id: str | None


def _view(document: Mapping[str, Any], label: str) -> _CredentialView:
    context = document.get("@context")
    if not isinstance(context, list) or not context or context[0] != CREDENTIALS_V1_URL:
        raise CredentialInvalidError(f"{label}: @context must be a list starting with {CREDENTIALS_V1_URL}")
    types = _types(document.get("type"))
    if "VerifiableCredential" not in types:
        raise CredentialInvalidError(f"{label}: type must include VerifiableCredential")
    issuer = _check_did(document.get("issuer"), "issuer", label, CredentialInvalidError)
    subject = document.get("credentialSubject")
    if not isinstance(subject, dict):
        raise CredentialInvalidError(f"{label}: credentialSubject must be exactly one object")
    subject_did = _check_did(subject.get("id"), "credentialSubject.id", label, CredentialInvalidError)
    issued_at = _parse_time(document.get("issuanceDate"), "issuanceDate", label)
    expiry = document.get("expirationDate")
    expires_at = None if expiry is None else _parse_time(expiry, "expirationDate", label)
    credential_id = document.get("id")
    return _CredentialView(
        label=label,
        document=document,
        issuer=issuer,
        subject=subject_did,
        claims={k: v for k, v in subject.items() if k != "id"},
        types=types,
        issued_at=issued_at,
        expires_at=expires_at,
        credential_id=credential_id if isinstance(credential_id, str) else None,
    )


def _check_trust(view: _CredentialView, trusted_issuers: Collection[str] | None) -> None:
    if trusted_issuers is not None and view.issuer not in trusted_issuers:
        raise UntrustedIssuerError(
            f"{view.label}: issuer {view.issuer} is not trusted here "
            f"(trusted: {', '.join(sorted(trusted_issuers)) or 'none'})"
        )


def _check_dates(view: _CredentialView, now: datetime, clock_skew: timedelta) -> None:
    if view.issued_at > now + clock_skew:
        raise CredentialNotYetValidError(
            f"{view.label}: not valid before {format_vc_time(view.issued_at)} (now {format_vc_time(now)})"
        )
    if view.expires_at is not None and now >= view.expires_at:
        raise CredentialExpiredError(
            f"{view.label}: expired at {format_vc_time(view.expires_at)} (now {format_vc_time(now)})"
        )


def _b64url_json(part: str, what: str, label: str) -> dict[str, Any]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError):
        raise CredentialInvalidError(f"{label}: the JWT {what} is not base64url JSON") from None
    if not isinstance(decoded, dict):
        raise CredentialInvalidError(f"{label}: the JWT {what} is not a JSON object")
    return decoded


def _jwt_view(token: str, label: str) -> _CredentialView:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise CredentialInvalidError(f"{label}: not a compact JWS (header.payload.signature)")
    header = _b64url_json(parts[0], "header", label)
    payload = _b64url_json(parts[1], "payload", label)
    if header.get("alg") != "EdDSA":
        raise CredentialInvalidError(f"{label}: JWT alg must be EdDSA, not {header.get('alg')!r}")
    vc = payload.get("vc")
    if not isinstance(vc, dict):
        raise CredentialInvalidError(f"{label}: the JWT has no 'vc' claim object")
    document = dict(vc)
    # Registered claims stand for VC fields; when both are present they must agree.
    for claim, key in (("iss", "issuer"), ("jti", "id")):
        if claim in payload:
            if key in document and document[key] != payload[claim]:
                raise CredentialInvalidError(f"{label}: JWT {claim} disagrees with vc.{key}")
            document.setdefault(key, payload[claim])
    subject = document.get("credentialSubject")
    if "sub" in payload and isinstance(subject, dict) and subject.get("id", payload["sub"]) != payload["sub"]:
        raise CredentialInvalidError(f"{label}: JWT sub disagrees with vc.credentialSubject.id")
    for claim, key in (("nbf", "issuanceDate"), ("exp", "expirationDate")):
        if claim in payload:
            stamp = payload[claim]
            if isinstance(stamp, bool) or not isinstance(stamp, int | float):
                raise CredentialInvalidError(f"{label}: JWT {claim} must be a number")
            moment = datetime.fromtimestamp(stamp, UTC)
            if key in document:
                if _parse_time(document[key], key, label) != moment:
                    raise CredentialInvalidError(f"{label}: JWT {claim} disagrees with vc.{key}")
            else:
                document[key] = format_vc_time(moment)
    view = _view(document, label)
    kid = header.get("kid")
    if not isinstance(kid, str) or did_of_verification_method(kid) != view.issuer:
        raise CredentialInvalidError(f"{label}: the JWT key id {kid!r} is not a key of issuer {view.issuer}")
    return view


async def _verify_view(
    credential: Mapping[str, Any] | str,
    *,
    trusted_issuers: Collection[str] | None,
    now: datetime | None,
    clock_skew: timedelta,
    label: str,
) -> VerifiedCredential:
    moment = _now(now)
    if isinstance(credential, str):
        view = _jwt_view(credential, label)
        _check_trust(view, trusted_issuers)
        _check_dates(view, moment, clock_skew)
        try:
            report = await awaited(
                didkit.verify_credential(
                    credential, json.dumps({"proofPurpose": "assertionMethod", "proofFormat": "jwt"})
                )
            )
        except DIDKitException as exc:
            raise CredentialInvalidError(f"{label}: didkit cannot read the JWT credential: {exc}") from None
        errors = _didkit_errors(report)
        if errors:
            raise CredentialInvalidError(
                f"{label}: the JWT signature does not verify for {view.issuer}: {'; '.join(errors)} "
                "(didkit also refuses JWTs outside nbf/exp by the system clock)"
            )
        proof_format: ProofFormat = "jwt"
    elif isinstance(credential, Mapping):
        view = _view(credential, label)
        proof = credential.get("proof")
        if not isinstance(proof, dict):
            raise CredentialInvalidError(f"{label}: the credential must carry exactly one proof object")
        if proof.get("type") not in CREDENTIAL_PROOF_TYPES:
            raise CredentialInvalidError(
                f"{label}: proof type {proof.get('type')!r} is not accepted on credentials "
                f"(accepted: {', '.join(CREDENTIAL_PROOF_TYPES)})"
            )
        if proof.get("proofPurpose") != "assertionMethod":
            raise CredentialInvalidError(f"{label}: proof purpose must be assertionMethod")
        vm = proof.get("verificationMethod")
        if not isinstance(vm, str) or did_of_verification_method(vm) != view.issuer:
            raise CredentialInvalidError(f"{label}: proof made by {vm!r}, not by issuer {view.issuer}")
        _check_trust(view, trusted_issuers)
        try:
            report = await awaited(
                didkit.verify_credential(
                    json.dumps(credential), json.dumps({"proofPurpose": "assertionMethod"})
                )
            )
        except DIDKitException as exc:
            raise CredentialInvalidError(f"{label}: didkit cannot read the credential: {exc}") from None
        errors = _didkit_errors(report)
        if errors:
            raise CredentialInvalidError(
                f"{label}: the proof does not verify for issuer {view.issuer}: {'; '.join(errors)}"
            )
        _check_dates(view, moment, clock_skew)
        proof_format = "ldp"
    else:
        raise CredentialInvalidError(f"{label}: a credential is a JSON object or a JWT string")
    return VerifiedCredential(
        issuer=view.issuer,
        subject=view.subject,
        types=view.types,
        issued_at=view.issued_at,
        expires_at=view.expires_at,
        claims=view.claims,
        proof_format=proof_format,
        credential_id=view.credential_id,
        document=view.document,
    )


def check_status(credential: VerifiedCredential, status_check: StatusCheck | None, label: str) -> None:
    """Ask the status register about a verified credential; raise CredentialRevokedError if it
    says the credential is no longer in force (or the credential has no id to ask about)."""
    if status_check is None:
        return
    if credential.credential_id is None:
        raise CredentialRevokedError(f"{label}: it carries no id, so its status cannot be checked")
    reason = status_check(credential.credential_id)
    if reason is not None:
        raise CredentialRevokedError(f"{label}: {credential.credential_id} is no longer valid: {reason}")


async def verify_credential(
    credential: Mapping[str, Any] | str,
    *,
    trusted_issuers: Collection[str] | None,
    now: datetime | None = None,
    clock_skew: timedelta = timedelta(0),
    status_check: StatusCheck | None = None,
) -> VerifiedCredential:
    """Verify one credential (JSON-LD object, JSON text of one, or JWT): proof, issuer, dates,
    and (with ``status_check``) that the issuer's register still has it in force.

    ``trusted_issuers=None`` accepts any issuer whose proof verifies; pass the set you trust.
    Raises CredentialInvalidError (and UntrustedIssuerError), CredentialExpiredError,
    CredentialNotYetValidError, CredentialRevokedError.
    """
    if isinstance(credential, str) and credential.lstrip().startswith("{"):
        credential = _load_json(credential, "credential", CredentialInvalidError)
    verified = await _verify_view(
        credential, trusted_issuers=trusted_issuers, now=now, clock_skew=clock_skew, label="credential"
    )
    check_status(verified, status_check, "credential")
    return verified


def verify_credential_sync(
    credential: Mapping[str, Any] | str,
    *,
    trusted_issuers: Collection[str] | None,
    now: datetime | None = None,
    clock_skew: timedelta = timedelta(0),
    status_check: StatusCheck | None = None,
) -> VerifiedCredential:
    """Blocking ``verify_credential``."""
    return run(verify_credential(credential, trusted_issuers=trusted_issuers, now=now, clock_skew=clock_skew,
                                 status_check=status_check))


def _load_json(text: str, what: str, error: type[DidError]) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise error(f"the {what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise error(f"the {what} must be a JSON object")
    return value


# --- presentations --------------------------------------------------------------------------


def build_presentation(
    holder: str,
    credentials: Sequence[Mapping[str, Any] | str] = (),
    *,
    presentation_id: str | None = None,
) -> dict[str, Any]:
    """An unsigned presentation by ``holder`` carrying ``credentials`` (objects or JWT strings)."""
    vp: dict[str, Any] = {
        "@context": [CREDENTIALS_V1_URL],
        "type": ["VerifiablePresentation"],
        "holder": _check_did(holder, "holder", "presentation", PresentationInvalidError),
    }
    if presentation_id is not None:
        vp["id"] = presentation_id
    if credentials:
        vp["verifiableCredential"] = [c if isinstance(c, str) else dict(c) for c in credentials]
    return vp


async def issue_presentation(
    vp: Mapping[str, Any],
    *,
    holder_key: SecretStr | str,
    challenge: str,
    domain: str,
    created: datetime | None = None,
) -> dict[str, Any]:
    """Sign a presentation whose holder is the did:key of ``holder_key`` (Ed25519Signature2018).

    did:pkh holders sign with their wallet instead: ``did.holder.sign_presentation``.
    """
    secret = holder_key.get_secret_value() if isinstance(holder_key, SecretStr) else holder_key
    if not challenge or not domain:
        raise ValueError("challenge and domain must be non-empty")
    try:
        holder = did_key_from_jwk(secret)
    except DidError as exc:
        raise PresentationInvalidError(f"holder key: {exc}") from None
    if vp.get("holder") != holder:
        raise HolderMismatchError(
            f"the presentation's holder {vp.get('holder')!r} is not the key's DID {holder}"
        )
    credentials = vp.get("verifiableCredential", [])
    if any(isinstance(c, str) for c in (credentials if isinstance(credentials, list) else [credentials])):
        raise PresentationInvalidError(
            f"an {ED25519_PROOF} presentation proof would not cover JWT credentials; present them as JSON-LD"
        )
    options = {
        "proofPurpose": "authentication",
        "verificationMethod": verification_method_id(holder),
        "type": ED25519_PROOF,
        "challenge": challenge,
        "domain": domain,
        "created": format_vc_time(_now(created)),
    }
    try:
        signed = await awaited(didkit.issue_presentation(json.dumps(dict(vp)), json.dumps(options), secret))
    except DIDKitException as exc:
        raise PresentationInvalidError(
            f"didkit refused the presentation: {_scrub(str(exc), secret)}"
        ) from None
    result: dict[str, Any] = json.loads(signed)
    return result


def issue_presentation_sync(
    vp: Mapping[str, Any],
    *,
    holder_key: SecretStr | str,
    challenge: str,
    domain: str,
    created: datetime | None = None,
) -> dict[str, Any]:
    """Blocking ``issue_presentation``."""
    return run(
        issue_presentation(vp, holder_key=holder_key, challenge=challenge, domain=domain, created=created)
    )


def _check_presentation_proof(
    vp: Mapping[str, Any],
    holder: Did,
    *,
    challenge: str,
    domain: str,
    accepted_proof_types: Collection[str] | None,
) -> str:
    proof = vp.get("proof")
    if not isinstance(proof, dict):
        raise PresentationInvalidError("the presentation must carry exactly one proof object")
    method = parse_did(holder).method
    allowed = [
        t
        for t in PRESENTATION_PROOF_TYPES[method]
        if accepted_proof_types is None or t in accepted_proof_types
    ]
    proof_type = proof.get("type")
    if proof_type not in allowed:
        raise ProofTypeError(
            f"presentation proof type {proof_type!r} is not accepted for a did:{method} holder "
            f"(accepted: {', '.join(allowed) or 'none'})"
        )
    if "eip712" in proof or "eip712Domain" in proof:
        raise PresentationInvalidError(
            "presentation proofs with their own EIP-712 types (eip712 / eip712Domain) are not accepted; "
            "sign the generated types"
        )
    if proof.get("proofPurpose") != "authentication":
        raise PresentationInvalidError(
            f"presentation proof purpose must be authentication, not {proof.get('proofPurpose')!r}"
        )
    got_challenge = proof.get("challenge")
    if got_challenge is None:
        raise ChallengeMismatchError(f"the presentation proof has no challenge (expected {challenge!r})")
    if got_challenge != challenge:
        raise ChallengeMismatchError(
            f"presentation challenge {got_challenge!r} is not the expected {challenge!r}"
        )
    got_domain = proof.get("domain")
    if got_domain is None:
        raise DomainMismatchError(f"the presentation proof has no domain (expected {domain!r})")
    if got_domain != domain:
        raise DomainMismatchError(f"presentation domain {got_domain!r} is not the expected {domain!r}")
    vm = proof.get("verificationMethod")
    if not isinstance(vm, str) or did_of_verification_method(vm) != holder:
        raise HolderMismatchError(f"the presentation proof was made by {vm!r}, not by the holder {holder}")
    return str(proof_type)


async def verify_presentation(
    vp_json: str | Mapping[str, Any],
    *,
    challenge: str,
    domain: str,
    trusted_issuers: Collection[str] | None,
    now: datetime | None = None,
    accepted_proof_types: Collection[str] | None = None,
    clock_skew: timedelta = timedelta(0),
    status_check: StatusCheck | None = None,
) -> VerifiedPresentation:
    """Verify a presentation and every credential in it (each also against ``status_check``).

    Checks, in order: structure and holder DID; proof type for the holder's method (optionally
    narrowed by ``accepted_proof_types``); proof purpose; challenge; domain; proof made by the
    holder; the proof itself (didkit, with challenge and domain); then each credential (proof,
    issuer in ``trusted_issuers`` unless None, dates at ``now``) and that the holder is its
    subject. Raises the matching PresentationError / CredentialError branch.
    """
    if not challenge or not domain:
        raise ValueError("challenge and domain must be non-empty: always verify both")
    vp = (
        _load_json(vp_json, "presentation", PresentationInvalidError)
        if isinstance(vp_json, str)
        else dict(vp_json)
    )
    context = vp.get("@context")
    if not isinstance(context, list) or not context or context[0] != CREDENTIALS_V1_URL:
        raise PresentationInvalidError(
            f"presentation @context must be a list starting with {CREDENTIALS_V1_URL}"
        )
    if "VerifiablePresentation" not in _types(vp.get("type")):
        raise PresentationInvalidError("presentation type must include VerifiablePresentation")
    holder = _check_did(vp.get("holder"), "holder", "presentation", PresentationInvalidError)
    proof_type = _check_presentation_proof(
        vp, holder, challenge=challenge, domain=domain, accepted_proof_types=accepted_proof_types
    )
    options = {"proofPurpose": "authentication", "challenge": challenge, "domain": domain}
    try:
        report = await awaited(didkit.verify_presentation(json.dumps(vp), json.dumps(options)))
    except DIDKitException as exc:
        raise PresentationInvalidError(f"didkit cannot read the presentation: {exc}") from None
    errors = _didkit_errors(report)
    if errors:
        raise PresentationInvalidError(
            f"the presentation proof ({proof_type}) does not verify for holder {holder}: {'; '.join(errors)}"
        )
    raw = vp.get("verifiableCredential", [])
    items = raw if isinstance(raw, list) else [raw]
    if proof_type not in JWT_CARRYING_PROOF_TYPES and any(isinstance(item, str) for item in items):
        raise PresentationInvalidError(
            f"a {proof_type} presentation proof does not cover JWT credentials (they expand to an empty "
            f"JSON-LD graph); JWT credentials are accepted only under {', '.join(JWT_CARRYING_PROOF_TYPES)}"
        )
    verified: list[VerifiedCredential] = []
    for index, item in enumerate(items):
        label = f"presentation credential #{index}"
        if not isinstance(item, Mapping | str):
            raise CredentialInvalidError(f"{label}: a credential is a JSON object or a JWT string")
        credential = await _verify_view(
            item, trusted_issuers=trusted_issuers, now=now, clock_skew=clock_skew, label=label
        )
        if credential.subject != holder:
            raise HolderMismatchError(
                f"{label}: its subject is {credential.subject}, but the presentation's holder is {holder}"
            )
        check_status(credential, status_check, label)
        verified.append(credential)
    return VerifiedPresentation(holder=holder, credentials=tuple(verified), proof_type=proof_type)


def verify_presentation_sync(
    vp_json: str | Mapping[str, Any],
    *,
    challenge: str,
    domain: str,
    trusted_issuers: Collection[str] | None,
    now: datetime | None = None,
    accepted_proof_types: Collection[str] | None = None,
    clock_skew: timedelta = timedelta(0),
    status_check: StatusCheck | None = None,
) -> VerifiedPresentation:
    """Blocking ``verify_presentation``."""
    return run(
        verify_presentation(
            vp_json,
            challenge=challenge,
            domain=domain,
            trusted_issuers=trusted_issuers,
            now=now,
            accepted_proof_types=accepted_proof_types,
            clock_skew=clock_skew,
            status_check=status_check,
        )
    )
