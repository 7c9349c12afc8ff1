"""Sign-In with Ethereum (EIP-4361) core: build messages, verify signed ones. Pure: no chain,
no HTTP, no storage.

Single use of nonces is the API's job (it stores the nonces it issued); ``new_nonce`` makes them.
Smart-contract wallets (EIP-1271) are checked by a callable the caller supplies, because only the
API can reach the chain: ``contract_wallet_check(address, message_hash, signature) -> bool`` must
return True only when ``address`` has code and its ``isValidSignature(message_hash, signature)``
returns the EIP-1271 magic value; for an address without code it returns False. When it is
given it is asked first; when it says False, ecrecover decides (an EOA, or a refusal).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct
from eth_typing import ChecksumAddress
from eth_utils.address import is_hex_address, to_checksum_address
from pydantic import ValidationError
from siwe import SiweMessage

from did.errors import (
    SiweChainIdMismatchError,
    SiweDomainMismatchError,
    SiweExpiredError,
    SiweMessageError,
    SiweNonceMismatchError,
    SiweNotYetValidError,
    SiweSignatureError,
    SiweSignerMismatchError,
    SiweUriMismatchError,
)

ContractWalletCheck = Callable[[ChecksumAddress, bytes, bytes], bool]
"""``(address, EIP-191 message hash, signature) -> bool``: EIP-1271 check done by the caller."""

_NONCE_ALPHABET = string.ascii_letters + string.digits
NONCE_LENGTH = 22
"""22 characters from 62 symbols: about 131 bits of randomness (EIP-4361 asks for >= 8 alphanumerics)."""


def new_nonce() -> str:
    """A fresh alphanumeric nonce with about 131 bits of randomness."""
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(NONCE_LENGTH))


def _iso(moment: datetime, what: str) -> str:
    if moment.tzinfo is None:
        raise SiweMessageError(f"{what} must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _validation_summary(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in exc.errors())


def build_siwe_message(
    *,
    domain: str,
    uri: str,
    chain_id: int,
    address: str,
    nonce: str,
    issued_at: datetime,
    expiration_time: datetime | None,
    statement: str | None = None,
    not_before: datetime | None = None,
    request_id: str | None = None,
    resources: list[str] | None = None,
) -> str:
    """The EIP-4361 text a wallet signs with personal_sign (address checksummed for you)."""
    if not is_hex_address(address):
        raise SiweMessageError(f"{address!r} is not a 20-byte 0x-prefixed hex address")
    if not (len(nonce) >= 8 and nonce.isascii() and nonce.isalnum()):
        raise SiweMessageError("the nonce must be at least 8 alphanumeric characters (use new_nonce())")
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
        raise SiweMessageError(f"chain id must be a positive integer, got {chain_id!r}")
    fields: dict[str, object] = {
        "domain": domain,
        "address": to_checksum_address(address),
        "uri": uri,
        "version": "1",
        "chain_id": chain_id,
        "nonce": nonce,
        "issued_at": _iso(issued_at, "issued_at"),
        "statement": statement,
        "expiration_time": None if expiration_time is None else _iso(expiration_time, "expiration_time"),
        "not_before": None if not_before is None else _iso(not_before, "not_before"),
        "request_id": request_id,
        "resources": resources,
    }
    if expiration_time is not None and expiration_time <= issued_at:
        raise SiweMessageError("expiration_time must be after issued_at")
    try:
        return str(SiweMessage(**fields).prepare_message())
    except ValidationError as exc:
        raise SiweMessageError(f"invalid SIWE field: {_validation_summary(exc)}") from None


def parse_siwe_message(message_text: str) -> SiweMessage:
    """Parse EIP-4361 text (ABNF grammar); refuse text that is not in canonical form."""
    try:
        message = SiweMessage.from_message(message_text, abnf=True)
    except ValidationError as exc:
        raise SiweMessageError(f"not a valid EIP-4361 message: {_validation_summary(exc)}") from None
    except ValueError as exc:
        detail = str(exc) or "the text does not follow the EIP-4361 grammar"
        raise SiweMessageError(f"not a valid EIP-4361 message: {detail}") from None
    if message.prepare_message() != message_text:
        raise SiweMessageError("the message is not in canonical EIP-4361 form (extra or reordered text)")
    return message


def _signature_bytes(signature: bytes | str) -> bytes:
    if isinstance(signature, bytes | bytearray):
        return bytes(signature)
    text = signature.removeprefix("0x")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise SiweSignatureError("the signature is not hex") from None


def verify_siwe(
    message_text: str,
    signature: bytes | str,
    *,
    expected_domain: str,
    expected_uri: str,
    expected_chain_id: int,
    expected_nonce: str,
    now: datetime | None = None,
    contract_wallet_check: ContractWalletCheck | None = None,
    clock_skew: timedelta = timedelta(seconds=60),
) -> ChecksumAddress:
    """Verify a signed SIWE message; return the signer's checksummed address.

    Checks, in order: the text parses (ABNF) and is canonical; domain; URI; chain id; nonce;
    expiration (``now >= expiration`` refuses); not-before and issued-at (after ``now`` beyond
    ``clock_skew`` refuses); then the signature: EIP-1271 through ``contract_wallet_check``
    when given, else / then ecrecover of the EIP-191 hash of the exact text.
    """
    message = parse_siwe_message(message_text)
    if message.domain != expected_domain:
        raise SiweDomainMismatchError(
            f"message domain {message.domain!r} is not the expected {expected_domain!r}"
        )
    if message.uri != expected_uri:
        raise SiweUriMismatchError(f"message URI {message.uri!r} is not the expected {expected_uri!r}")
    if message.chain_id != expected_chain_id:
        raise SiweChainIdMismatchError(
            f"message chain id {message.chain_id} is not the expected {expected_chain_id}"
        )
    if message.nonce != expected_nonce:
        raise SiweNonceMismatchError(
            f"message nonce {message.nonce!r} is not the nonce issued for this sign-in"
        )
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    moment = datetime.now(UTC) if now is None else now.astimezone(UTC)
    if message.expiration_time is not None and moment >= message.expiration_time._datetime:
        raise SiweExpiredError(
            f"the message expired at {message.expiration_time} (now {_iso(moment, 'now')})"
        )
    if message.not_before is not None and moment + clock_skew < message.not_before._datetime:
        raise SiweNotYetValidError(
            f"the message is not valid before {message.not_before} (now {_iso(moment, 'now')})"
        )
    if moment + clock_skew < message.issued_at._datetime:
        raise SiweNotYetValidError(
            f"the message is issued in the future ({message.issued_at}, now {_iso(moment, 'now')})"
        )

    address: ChecksumAddress = to_checksum_address(message.address)
    raw = _signature_bytes(signature)
    message_hash = bytes(_hash_eip191_message(encode_defunct(text=message_text)))
    refused_by_contract = False
    if contract_wallet_check is not None:
        if contract_wallet_check(address, message_hash, raw):
            return address
        refused_by_contract = True
    if len(raw) != 65:
        raise SiweSignatureError(
            f"the signature is {len(raw)} bytes, not a 65-byte ECDSA signature"
            + (" (and the EIP-1271 check refused it)" if refused_by_contract else "")
        )
    try:
        signer = to_checksum_address(Account._recover_hash(message_hash, signature=raw))
    except Exception:  # eth-keys raises several types for out-of-range r, s or v
        raise SiweSignatureError(
            "the signature is not a valid ECDSA signature"
            + (" (and the EIP-1271 check refused it)" if refused_by_contract else "")
        ) from None
    if signer != address:
        raise SiweSignerMismatchError(
            f"the signature recovers to {signer}, not to the message's address {address}: signed by another "
            "key or the message was altered after signing"
            + (" (and the EIP-1271 check refused it)" if refused_by_contract else "")
        )
    return address
