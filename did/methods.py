"""DID methods we support, as a registry: did:key (Ed25519) and did:pkh (eip155 accounts).

Both resolve offline through didkit. Anything else fails with UnsupportedDidMethodError, whose
message lists the supported methods. DIDs are plain strings typed as ``Did`` once validated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NewType

import didkit
from eth_utils.address import is_checksum_address, is_hex_address, to_checksum_address

from did._didkit import DIDKitException, awaited
from did.errors import DidResolutionError, InvalidDidError, UnsupportedDidMethodError

Did = NewType("Did", str)
"""A validated DID of a supported method (``did:key:z6Mk...`` or ``did:pkh:eip155:<id>:0x...``)."""

_DID_SYNTAX = re.compile(r"^did:([a-z0-9]+):(.+)$")
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ED25519_PUB_MULTICODEC = b"\xed\x01"
_CHAIN_ID = re.compile(r"^[1-9][0-9]{0,31}$")


def _b58decode(text: str) -> bytes:
    num = 0
    for ch in text:
        idx = _B58_ALPHABET.find(ch)
        if idx < 0:
            raise ValueError(f"{ch!r} is not a base58btc character")
        num = num * 58 + idx
    raw = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + raw


def _validate_key(did: str, identifier: str) -> None:
    if not identifier.startswith("z"):
        raise InvalidDidError(f"{did}: a did:key identifier must be multibase base58btc (start with 'z')")
    try:
        raw = _b58decode(identifier[1:])
    except ValueError as exc:
        raise InvalidDidError(f"{did}: the did:key identifier is not base58btc ({exc})") from None
    if raw[:2] != _ED25519_PUB_MULTICODEC:
        raise InvalidDidError(f"{did}: only Ed25519 did:key identifiers (z6Mk...) are supported")
    if len(raw) != 34:
        raise InvalidDidError(f"{did}: an Ed25519 did:key must carry a 32-byte key, got {len(raw) - 2}")


def _key_fragment(identifier: str) -> str:
    return identifier


def _validate_pkh(did: str, identifier: str) -> None:
    parts = identifier.split(":")
    if len(parts) != 3:
        raise InvalidDidError(f"{did}: expected did:pkh:eip155:<chain id>:<address>")
    namespace, chain_id, address = parts
    if namespace != "eip155":
        raise InvalidDidError(
            f"{did}: only eip155 (EVM) accounts are supported by did:pkh, not {namespace!r}"
        )
    if not _CHAIN_ID.match(chain_id):
        raise InvalidDidError(f"{did}: the chain id {chain_id!r} must be a positive decimal integer")
    if not is_hex_address(address):
        raise InvalidDidError(f"{did}: {address!r} is not a 20-byte 0x-prefixed hex address")
    if not is_checksum_address(address):
        raise InvalidDidError(
            f"{did}: the address must be EIP-55 checksummed: {to_checksum_address(address)}"
        )


def _pkh_fragment(identifier: str) -> str:
    return "blockchainAccountId"


@dataclass(frozen=True)
class DidMethod:
    """One entry of the registry: how to validate an identifier and name its verification method."""

    name: str
    description: str
    validate: Callable[[str, str], None]
    """``validate(did, method_specific_id)`` raises InvalidDidError when malformed."""
    fragment: Callable[[str], str]
    """The fragment of the DID's (only) verification method."""


METHODS: Mapping[str, DidMethod] = {
    "key": DidMethod("key", "did:key with an Ed25519 public key", _validate_key, _key_fragment),
    "pkh": DidMethod("pkh", "did:pkh for an eip155 (EVM) account", _validate_pkh, _pkh_fragment),
}
SUPPORTED_METHODS: tuple[str, ...] = tuple(METHODS)


@dataclass(frozen=True)
class ParsedDid:
    did: Did
    method: str
    identifier: str


def parse_did(text: str) -> ParsedDid:
    """Validate ``text`` as a DID of a supported method.

    Raises UnsupportedDidMethodError (listing the supported methods) or InvalidDidError.
    """
    if not isinstance(text, str):
        raise InvalidDidError(f"a DID must be a string, got {type(text).__name__}")
    match = _DID_SYNTAX.match(text)
    if match is None:
        raise InvalidDidError(f"{text!r} is not a DID (expected did:<method>:<identifier>)")
    if "#" in text or "?" in text or "/" in text:
        raise InvalidDidError(f"{text!r} is a DID URL, not a DID (no path, query or fragment allowed)")
    method_name, identifier = match.group(1), match.group(2)
    method = METHODS.get(method_name)
    if method is None:
        supported = ", ".join(f"did:{m}" for m in SUPPORTED_METHODS)
        raise UnsupportedDidMethodError(
            f"{text}: DID method did:{method_name} is not supported; supported methods: {supported}"
        )
    method.validate(text, identifier)
    return ParsedDid(Did(text), method_name, identifier)


def validate_did(text: str) -> Did:
    """``text`` as a ``Did`` if it is a valid DID of a supported method, else raise."""
    return parse_did(text).did


def did_method(did: str) -> str:
    """The method name (``key`` or ``pkh``) of a valid DID."""
    return parse_did(did).method


def verification_method_id(did: str) -> str:
    """The id of the DID's verification method (``did#fragment``)."""
    parsed = parse_did(did)
    return f"{parsed.did}#{METHODS[parsed.method].fragment(parsed.identifier)}"


def did_of_verification_method(vm: str) -> str:
    """The DID part of a verification method id (everything before ``#``)."""
    return vm.split("#", 1)[0]


# --- creation ---------------------------------------------------------------------------------


def did_key_from_jwk(jwk_json: str) -> Did:
    """The did:key of an Ed25519 JWK (public or private)."""
    from did.keys import parse_ed25519_jwk

    parse_ed25519_jwk(jwk_json, private=False)
    return validate_did(didkit.key_to_did("key", jwk_json))


def did_pkh(address: str, chain_id: int) -> Did:
    """``did:pkh:eip155:<chain_id>:<checksummed address>`` for an EVM account."""
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
        raise InvalidDidError(f"chain id must be a positive integer, got {chain_id!r}")
    if not is_hex_address(address):
        raise InvalidDidError(f"{address!r} is not a 20-byte 0x-prefixed hex address")
    return validate_did(f"did:pkh:eip155:{chain_id}:{to_checksum_address(address)}")


def pkh_account(did: str) -> tuple[int, str]:
    """``(chain_id, checksummed address)`` of a did:pkh DID."""
    parsed = parse_did(did)
    if parsed.method != "pkh":
        raise InvalidDidError(f"{did}: not a did:pkh DID")
    _, chain_id, address = parsed.identifier.split(":")
    return int(chain_id), address


# --- resolution -------------------------------------------------------------------------------


async def resolve_did(did: str) -> dict[str, Any]:
    """Resolve a supported DID to its DID document (offline, through didkit)."""
    parsed = parse_did(did)
    try:
        raw = await awaited(didkit.resolve_did(parsed.did, "{}"))
    except DIDKitException as exc:
        raise DidResolutionError(f"{did}: didkit could not resolve it: {exc}") from None
    document = json.loads(raw)
    if not isinstance(document, dict) or document.get("id") != parsed.did:
        raise DidResolutionError(f"{did}: the resolved document is for another DID")
    return document


def resolve_did_sync(did: str) -> dict[str, Any]:
    """Blocking ``resolve_did`` for the console and tests (not inside a running event loop)."""
    from did._sync import run

    return run(resolve_did(did))
