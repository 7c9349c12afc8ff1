"""IPFS CIDs in the form the issuance contracts take and render.

The contracts store a CID compactly as its binary CIDv1: version 1, a one-byte codec, a one-byte
multihash code, digest length 32, and the 32-byte digest (36 bytes), e.g. raw-leaves ``bafkrei...``
and dag-pb ``bafybei...`` CIDs with sha2-256. ``tokenURI`` renders it back as the base32 string IPFS
prints (``b`` + RFC 4648 lower case, no padding). CIDv0 (``Qm...``) must be converted to CIDv1 first
(:func:`to_v1`), and then renders as its CIDv1 string.
"""

from __future__ import annotations

import hashlib

from multiformats import CID, multihash

from chain.errors import CidError

BINARY_LENGTH = 36


def cid_to_bytes(cid: str) -> bytes:
    """The binary CID the contracts take (``mintWork(..., cid)``) for a CIDv1 string."""
    try:
        parsed = CID.decode(cid)
    except Exception as exc:
        raise CidError(f"{cid!r} is not a CID: {exc}") from exc
    data = bytes(parsed)
    if parsed.version != 1 or len(data) != BINARY_LENGTH or data[1] >= 0x80 or data[2] >= 0x80:
        raise CidError(
            f"{cid!r} is not supported on chain: it must be a CIDv1 with a one-byte codec and hash code "
            "and a 32-byte digest (e.g. bafkrei... or bafybei...); convert CIDv0 with to_v1()"
        )
    return data


def cid_from_bytes(data: bytes) -> str:
    """The base32 CIDv1 string of a binary CID (what ``tokenURI`` shows after ``ipfs://``)."""
    try:
        return str(CID.decode(bytes(data)).encode("base32"))
    except Exception as exc:
        raise CidError(f"0x{bytes(data).hex()} is not a binary CID: {exc}") from exc


def to_v1(cid: str) -> str:
    """The CIDv1 base32 string of any CID (CIDv0 ``Qm...`` included)."""
    try:
        return str(CID.decode(cid).set(version=1).encode("base32"))
    except Exception as exc:
        raise CidError(f"{cid!r} is not a CID: {exc}") from exc


def raw_cid(content: bytes) -> str:
    """The raw-leaves CIDv1 (sha2-256) of ``content`` stored as one IPFS block (``bafkrei...``)."""
    digest = hashlib.sha256(content).digest()
    return str(CID("base32", 1, "raw", multihash.wrap(digest, "sha2-256")))
