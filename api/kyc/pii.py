"""Personal data encrypted at rest with AES-256-GCM; the key comes from settings, never logs.

Each record gets a fresh 96-bit nonce; the application id is bound as associated data, so a
ciphertext moved to another application does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"\x01"


class PiiKeyError(ValueError):
    """Raised when the configured KYC key is not base64 of 32 bytes."""


class PiiDecryptError(ValueError):
    """Raised when a stored record does not decrypt with the configured key."""


class PiiCipher:
    def __init__(self, key_b64: str) -> None:
        try:
            key = base64.b64decode(key_b64, validate=True)
        except (binascii.Error, ValueError):
            raise PiiKeyError("CHAINRIGHT_API_KYC_ENCRYPTION_KEY is not valid base64") from None
        if len(key) != 32:
            raise PiiKeyError("CHAINRIGHT_API_KYC_ENCRYPTION_KEY must be base64 of exactly 32 bytes")
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "PiiCipher(<key hidden>)"

    def encrypt(self, record: dict[str, Any], *, bound_to: str) -> bytes:
        nonce = os.urandom(12)
        plain = json.dumps(record, sort_keys=True).encode()
        return VERSION + nonce + self._aead.encrypt(nonce, plain, bound_to.encode())

    def decrypt(self, blob: bytes, *, bound_to: str) -> dict[str, Any]:
        if not blob or blob[:1] != VERSION or len(blob) < 1 + 12 + 16:
            raise PiiDecryptError("stored personal data has an unknown format")
        try:
            plain = self._aead.decrypt(blob[1:13], blob[13:], bound_to.encode())
        except InvalidTag:
            raise PiiDecryptError("stored personal data does not decrypt with the configured key "
                                  "(wrong key, or the record was tampered with)") from None
        data: dict[str, Any] = json.loads(plain)
        return data

    def encrypt_bytes(self, data: bytes, *, bound_to: str) -> bytes:
        nonce = os.urandom(12)
        return VERSION + nonce + self._aead.encrypt(nonce, data, bound_to.encode())

    def decrypt_bytes(self, blob: bytes, *, bound_to: str) -> bytes:
        if not blob or blob[:1] != VERSION:
            raise PiiDecryptError("stored document has an unknown format")
        try:
            return self._aead.decrypt(blob[1:13], blob[13:], bound_to.encode())
        except InvalidTag:
            raise PiiDecryptError("stored document does not decrypt with the configured key") from None
