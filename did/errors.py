"""Exceptions of the ``did`` package: one root, a branch per concern.

Every message names what was wrong (which DID, which field, which credential) and never carries
key material. Callers at the edge (the API, the console command) show the message as it is.
"""

from __future__ import annotations


class DidError(Exception):
    """Root of every error raised by ``did``."""


# --- settings -------------------------------------------------------------------------------


class DidSettingsError(DidError):
    """Raised when the identity settings cannot be used (e.g. the issuer key is not an Ed25519 JWK)."""


# --- DIDs -----------------------------------------------------------------------------------


class InvalidDidError(DidError):
    """Raised when a string is not a well-formed DID of a method we support (bad syntax, bad key
    encoding, non-checksummed address, unsupported did:pkh namespace)."""


class UnsupportedDidMethodError(InvalidDidError):
    """Raised when a DID uses a method outside the registry; the message lists the supported ones."""


class DidResolutionError(DidError):
    """Raised when a well-formed DID cannot be resolved to a DID document."""


# --- credentials ----------------------------------------------------------------------------


class CredentialError(DidError):
    """Root of the errors about one verifiable credential."""


class CredentialIssueError(CredentialError):
    """Raised when a credential cannot be issued (bad claims, didkit refused the document)."""


class InvalidKycClaimError(CredentialIssueError):
    """Raised when KYC claims are out of range: unknown country code, level outside the scale,
    expiry not after issuance, subject not a supported DID."""


class CredentialInvalidError(CredentialError):
    """Raised when a credential is malformed or its proof does not verify (altered content, wrong
    key, undefined JSON-LD term, proof by someone other than the issuer)."""


class UntrustedIssuerError(CredentialInvalidError):
    """Raised when a credential verifies but was issued by a DID the caller does not trust."""


class CredentialTypeError(CredentialInvalidError):
    """Raised when a credential is not of the type the caller asked for, or its claims do not fit
    that type (e.g. a KYCCredential without a valid country)."""


class CredentialExpiredError(CredentialError):
    """Raised when a credential's expirationDate is at or before the verification time."""


class CredentialRevokedError(CredentialError):
    """Raised when the issuer's status register says a credential is no longer in force (revoked,
    expired early, or unknown to the register), or it carries no id to ask the register about."""


class CredentialNotYetValidError(CredentialError):
    """Raised when a credential's issuanceDate is after the verification time (beyond the allowed
    clock skew)."""


# --- presentations --------------------------------------------------------------------------


class PresentationError(DidError):
    """Root of the errors about a verifiable presentation as a whole."""


class PresentationInvalidError(PresentationError):
    """Raised when a presentation is malformed or its proof does not verify (tampered content,
    signature by another key, missing proof)."""


class ProofTypeError(PresentationInvalidError):
    """Raised when a presentation's proof type is not one we accept for its holder's DID method."""


class HolderMismatchError(PresentationError):
    """Raised when the presentation's holder is not the subject of a credential it carries, or the
    proof was made by a key that is not the holder's."""


class ChallengeMismatchError(PresentationError):
    """Raised when the presentation proof's challenge is missing or differs from the expected one."""


class DomainMismatchError(PresentationError):
    """Raised when the presentation proof's domain is missing or differs from the expected one."""


class HolderSigningError(PresentationError):
    """Raised when a wallet proof cannot be built: the holder is not the signing account, or the
    presentation cannot be expressed in the chosen proof type's signing input."""


# --- Sign-In with Ethereum ------------------------------------------------------------------


class SiweError(DidError):
    """Root of the errors about a Sign-In with Ethereum (EIP-4361) message."""


class SiweMessageError(SiweError):
    """Raised when a SIWE message cannot be built or parsed (not EIP-4361 text, bad field)."""


class SiweNonceMismatchError(SiweError):
    """Raised when the message's nonce is not the one the server issued."""


class SiweDomainMismatchError(SiweError):
    """Raised when the message's domain is not the expected one (possible phishing relay)."""


class SiweUriMismatchError(SiweError):
    """Raised when the message's URI is not the expected one."""


class SiweChainIdMismatchError(SiweError):
    """Raised when the message's chain id is not the expected one."""


class SiweExpiredError(SiweError):
    """Raised when the message's expiration time is at or before the verification time."""


class SiweNotYetValidError(SiweError):
    """Raised when the message's not-before (or issued-at) time is after the verification time."""


class SiweSignatureError(SiweError):
    """Raised when the signature is malformed or does not verify for the message's address."""


class SiweSignerMismatchError(SiweSignatureError):
    """Raised when the signature recovers to another address than the message's: signed by
    another key, or the message text was altered after signing."""
