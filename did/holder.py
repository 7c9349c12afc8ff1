"""Wallet-held Ethereum keys signing presentations (did:pkh holders).

didkit 0.3.3's Python API cannot sign with a key it does not hold (no prepare/complete split), so
we build the proof ourselves, exactly as didkit/ssi would, and didkit's ``verify_presentation``
accepts it:

- ``EthereumEip712Signature2021``: EIP-712 typed data generated from the presentation plus the
  proof (see ``did.eip712``); the wallet signs the typed-data digest.
- ``EthereumPersonalSignature2021``: personal_sign (EIP-191) over
  ``canonical N-Quads(proof options) + "\\n" + canonical N-Quads(presentation)`` (URDNA2015,
  the proof expanded with the presentation's @context as expandContext).

Limits of EIP-712 in didkit 0.3.3 (generated types): arrays of objects, mixed arrays and nulls
cannot be typed, so a presentation carrying credentials as JSON-LD objects (their @context mixes
a URL and our inline context, and their own ``proof`` struct would collide with the
presentation's) cannot be signed that way by didkit either. Carry credentials as JWT strings for
EIP-712 (``issue_kyc_credential(..., proof_format="jwt")``), or use personal_sign with JSON-LD
credentials. personal_sign (like any RDF-based proof) does NOT cover JWT credentials: a JWT
string under ``verifiableCredential`` expands to an empty graph, so it could be swapped without
breaking the signature; both sides refuse that combination.

``prepare_presentation_proof`` / ``complete_presentation_proof`` split the work for a remote
wallet (a browser); ``sign_presentation`` does both with an eth-account ``LocalAccount`` (the
stand-in wallet of tests and the console).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct
from eth_account.signers.local import LocalAccount
from eth_typing import Hash32
from eth_utils.address import to_checksum_address

from did.contexts import EIP712SIG_V1_URL, EPSIG_PROOF_CONTEXT
from did.eip712 import typed_data, typed_data_digest
from did.errors import HolderSigningError, InvalidDidError
from did.jsonld import canonical_nquads
from did.methods import parse_did, pkh_account, verification_method_id

WalletProofType = Literal["EthereumEip712Signature2021", "EthereumPersonalSignature2021"]
EIP712_PROOF: WalletProofType = "EthereumEip712Signature2021"
PERSONAL_SIGN_PROOF: WalletProofType = "EthereumPersonalSignature2021"
WALLET_PROOF_TYPES: tuple[WalletProofType, ...] = (EIP712_PROOF, PERSONAL_SIGN_PROOF)


def format_proof_time(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC, whole seconds (what ssi re-serializes unchanged)."""
    if moment.tzinfo is None:
        raise HolderSigningError("proof time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PreparedProof:
    """Everything a wallet needs to sign, and what to attach its signature to."""

    presentation: dict[str, Any]
    """The presentation, without proof."""
    proof: dict[str, Any]
    """The proof object, without proofValue."""
    proof_type: WalletProofType
    holder_address: str
    signing_input: dict[str, Any] | str
    """EIP-712: the typed data (types, primaryType, domain, message); personal_sign: the text."""
    digest: bytes
    """The 32-byte hash the signature is over (EIP-712 digest, or the EIP-191 message hash)."""


def _holder_address(presentation: Mapping[str, Any]) -> str:
    holder = presentation.get("holder")
    if not isinstance(holder, str):
        raise HolderSigningError("the presentation has no holder DID")
    try:
        parsed = parse_did(holder)
    except InvalidDidError as exc:
        raise HolderSigningError(f"the presentation's holder is not a usable DID: {exc}") from None
    if parsed.method != "pkh":
        raise HolderSigningError(f"{holder}: wallet proofs need a did:pkh holder, not did:{parsed.method}")
    return pkh_account(holder)[1]


def prepare_presentation_proof(
    presentation: Mapping[str, Any],
    *,
    proof_type: WalletProofType,
    challenge: str,
    domain: str,
    created: datetime,
) -> PreparedProof:
    """Build the proof options and the exact signing input for the presentation's did:pkh holder."""
    if proof_type not in WALLET_PROOF_TYPES:
        raise HolderSigningError(f"proof type {proof_type!r} is not one of {', '.join(WALLET_PROOF_TYPES)}")
    if not challenge or not domain:
        raise HolderSigningError("a wallet proof needs a non-empty challenge and domain")
    if "proof" in presentation:
        raise HolderSigningError("the presentation already carries a proof")
    address = _holder_address(presentation)
    document = copy.deepcopy(dict(presentation))
    holder: str = document["holder"]
    options: dict[str, Any] = {
        "type": proof_type,
        "proofPurpose": "authentication",
        "verificationMethod": verification_method_id(holder),
        "created": format_proof_time(created),
        "challenge": challenge,
        "domain": domain,
    }
    raw = document.get("verifiableCredential", [])
    credentials = raw if isinstance(raw, list) else [raw]
    if proof_type == EIP712_PROOF:
        if any(not isinstance(c, str) for c in credentials):
            raise HolderSigningError(
                "EthereumEip712Signature2021 (types generated by didkit 0.3.3) cannot carry JSON-LD "
                "credentials: their @context mixes a URL and an inline object and their proof struct "
                "collides with the presentation's; carry them as JWT strings or use personal_sign"
            )
        proof = {"@context": EIP712SIG_V1_URL, **options}
        data = typed_data(document, proof)
        return PreparedProof(document, proof, proof_type, address, data, typed_data_digest(data))
    if any(isinstance(c, str) for c in credentials):
        raise HolderSigningError(
            "EthereumPersonalSignature2021 signs the presentation's RDF, where a JWT credential is an "
            "empty graph: the signature would not cover it; use EIP-712 for JWT credentials"
        )
    proof = {"@context": [copy.deepcopy(EPSIG_PROOF_CONTEXT)], **options}
    text = (
        canonical_nquads(proof, expand_context=document.get("@context")) + "\n" + canonical_nquads(document)
    )
    digest = _hash_eip191_message(encode_defunct(text=text))
    return PreparedProof(document, proof, proof_type, address, text, bytes(digest))


def complete_presentation_proof(prepared: PreparedProof, signature: bytes | str) -> dict[str, Any]:
    """Attach a wallet's 65-byte signature; refuse one that is not by the holder's address."""
    raw = bytes.fromhex(signature.removeprefix("0x")) if isinstance(signature, str) else bytes(signature)
    if len(raw) != 65:
        raise HolderSigningError(f"a wallet signature is 65 bytes (r, s, v), got {len(raw)}")
    if raw[64] in (0, 1):
        raw = raw[:64] + bytes([raw[64] + 27])
    try:
        signer = Account._recover_hash(prepared.digest, signature=raw)
    except Exception as exc:  # eth-keys raises several types for malformed signatures
        raise HolderSigningError(f"the wallet signature is malformed: {exc}") from None
    if to_checksum_address(signer) != prepared.holder_address:
        raise HolderSigningError(
            f"the signature is by {signer}, not by the holder's address {prepared.holder_address}"
        )
    signed = copy.deepcopy(prepared.presentation)
    signed["proof"] = {**prepared.proof, "proofValue": "0x" + raw.hex()}
    return signed


def sign_presentation(
    vp: Mapping[str, Any],
    account: LocalAccount,
    proof_type: WalletProofType,
    challenge: str,
    domain: str,
    created: datetime,
) -> dict[str, Any]:
    """Sign ``vp`` (holder = did:pkh of ``account``) with a wallet proof of ``proof_type``."""
    prepared = prepare_presentation_proof(
        vp, proof_type=proof_type, challenge=challenge, domain=domain, created=created
    )
    if to_checksum_address(account.address) != prepared.holder_address:
        raise HolderSigningError(
            f"account {account.address} is not the presentation's holder ({prepared.holder_address})"
        )
    if proof_type == EIP712_PROOF:
        signed = account.unsafe_sign_hash(Hash32(prepared.digest))
    else:
        assert isinstance(prepared.signing_input, str)
        signed = account.sign_message(encode_defunct(text=prepared.signing_input))
    return complete_presentation_proof(prepared, bytes(signed.signature))
