"""secp256k1 ECDSA as OpenZeppelin's ECDSA accepts it: low-s signatures and strict recovery (pure).

A signature is 65 bytes ``r || s || v`` with ``v`` in {27, 28}, ``0 < r < n`` and ``0 < s <= n/2``:
the high-s twin of a valid signature (same signer, ``n - s``, ``v`` flipped) is refused, as the
contracts refuse it, so a signature cannot be re-encoded into a second valid one. Used by the
marketplace orders (``chain.orders``) and the bridge's attestations (``bridge.message``).
"""

from __future__ import annotations

from eth_keys.datatypes import Signature
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError

from chain.errors import SignatureError

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""The order of the secp256k1 group."""
SECP256K1_HALF_N = SECP256K1_N // 2
"""The largest ``s`` OpenZeppelin's ECDSA accepts."""


def low_s(r: int, s: int, v: int) -> bytes:
    """The 65-byte ``r || s || v`` signature, with ``s`` moved to the lower half (and ``v`` flipped)
    when it is not there already: the same signer, in the only form the contracts accept."""
    if s > SECP256K1_HALF_N:
        s, v = SECP256K1_N - s, 55 - v
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


def recover_signer(digest: bytes, signature: bytes) -> str:
    """The checksummed address that signed the 32-byte ``digest``.

    Raises SignatureError for what OpenZeppelin's ECDSA refuses: a length other than 65 bytes, a
    high ``s`` (the malleable twin), ``v`` other than 27/28, ``r`` or ``s`` out of range, or a
    signature that recovers to no key."""
    if len(digest) != 32:
        raise SignatureError(f"digest must be 32 bytes, got {len(digest)}")
    if len(signature) != 65:
        raise SignatureError(f"signature must be 65 bytes (r, s, v), got {len(signature)}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if s > SECP256K1_HALF_N:
        raise SignatureError(
            "malleable signature: s is in the upper half of the curve order; the contracts refuse it "
            "(re-sign, or use n - s and flip v)")
    if v not in (27, 28):
        raise SignatureError(f"signature v must be 27 or 28, got {v}")
    if not (0 < r < SECP256K1_N and 0 < s):
        raise SignatureError("signature r or s is out of range")
    try:
        public_key = Signature(vrs=(v - 27, r, s)).recover_public_key_from_msg_hash(digest)
    except (BadSignature, ValidationError) as exc:
        raise SignatureError(f"signature does not recover to any key: {exc}") from exc
    return str(public_key.to_checksum_address())
