"""The bridge message: EIP-712 typed data, as the contracts hash it (pure, no chain).

A message moves one token from ``source_bridge`` on ``source_chain_id`` to ``dest_bridge`` on
``dest_chain_id``. Validators sign its EIP-712 digest in the domain of the destination endpoint
(name "Chainright Bridge", version "1", the destination chain id and endpoint address), so a
signature is good for one endpoint only.

Transfer ids are ``source_chain_id << 192 | source_bridge << 32 | nonce`` (see IBridgeEndpoint).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from bridge.errors import BridgeMessageError
from chain.errors import SignatureError
from chain.signatures import SECP256K1_N as SECP256K1_N
from chain.signatures import low_s
from chain.signatures import recover_signer as recover_ecdsa

DOMAIN_NAME = "Chainright Bridge"
DOMAIN_VERSION = "1"

RIGHTS_TYPE = (
    "Rights(string tokenURI,bytes cid,bytes32 contentHash,address royaltyReceiver,uint96 royaltyBps,"
    "address[] splitRecipients,uint16[] splitBps,bytes32 licenseTermsHash,bytes32 provenanceHash)"
)
MESSAGE_TYPE = (
    "BridgeMessage(uint256 sourceChainId,uint256 destChainId,address sourceBridge,address destBridge,"
    "uint256 transferId,address collection,uint256 tokenId,address sender,address recipient,Rights rights)"
    + RIGHTS_TYPE
)
RIGHTS_TYPEHASH = keccak(text=RIGHTS_TYPE)
MESSAGE_TYPEHASH = keccak(text=MESSAGE_TYPE)
DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")

CID_TEXT_LENGTH = 59
"""A 36-byte binary CIDv1 rendered as base32 text (``b`` + 58 characters)."""


def _b32(value: bytes) -> bytes:
    if len(value) != 32:
        raise BridgeMessageError(f"expected 32 bytes, got {len(value)}")
    return value


RIGHTS_FIELDS = ("tokenURI", "cid", "contentHash", "royaltyReceiver", "royaltyBps", "splitRecipients",
                 "splitBps", "licenseTermsHash", "provenanceHash")
"""The ABI names of the Rights fields, in order."""


@dataclass(frozen=True)
class Rights:
    """The rights metadata a token carries across the bridge (IBridgeEndpoint.Rights).

    ``split_recipients``/``split_bps`` are the home royalty splitter's split (empty when the home
    receiver is not a splitter clone); the remote side pays the same split's remote splitter.
    """

    token_uri: str
    cid: bytes
    content_hash: bytes
    royalty_receiver: str
    royalty_bps: int
    license_terms_hash: bytes
    provenance_hash: bytes
    split_recipients: tuple[str, ...] = ()
    split_bps: tuple[int, ...] = ()

    def as_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple (contract call argument order)."""
        return (self.token_uri, self.cid, self.content_hash, self.royalty_receiver, self.royalty_bps,
                list(self.split_recipients), list(self.split_bps), self.license_terms_hash,
                self.provenance_hash)

    @classmethod
    def from_tuple(cls, value: Any) -> Rights:
        uri, cid, content, receiver, bps, recipients, shares, terms, provenance = value
        return cls(str(uri), bytes(cid), _b32(bytes(content)), to_checksum_address(receiver), int(bps),
                   _b32(bytes(terms)), _b32(bytes(provenance)),
                   tuple(to_checksum_address(a) for a in recipients), tuple(int(b) for b in shares))

    @classmethod
    def from_fields(cls, value: Any) -> Rights:
        """Rights from a mapping or attribute object keyed by the ABI names (decoded events, calls)."""
        if hasattr(value, "keys"):
            return cls.from_tuple(tuple(value[f] for f in RIGHTS_FIELDS))
        if hasattr(value, RIGHTS_FIELDS[0]):
            return cls.from_tuple(tuple(getattr(value, f) for f in RIGHTS_FIELDS))
        return cls.from_tuple(tuple(value))

    def struct_hash(self) -> bytes:
        recipients = b"".join(abi_encode(["address"], [a]) for a in self.split_recipients)
        shares = b"".join(abi_encode(["uint16"], [b]) for b in self.split_bps)
        return keccak(abi_encode(
            ["bytes32", "bytes32", "bytes32", "bytes32", "address", "uint96", "bytes32", "bytes32", "bytes32",
             "bytes32"],
            [RIGHTS_TYPEHASH, keccak(text=self.token_uri), keccak(self.cid), self.content_hash,
             self.royalty_receiver, self.royalty_bps, keccak(recipients), keccak(shares),
             self.license_terms_hash, self.provenance_hash],
        ))

    def same_except_provenance(self, other: Rights) -> bool:
        return self.as_tuple()[:-1] == other.as_tuple()[:-1]


@dataclass(frozen=True)
class BridgeMessage:
    """One token moving between the endpoints (IBridgeEndpoint.BridgeMessage)."""

    source_chain_id: int
    dest_chain_id: int
    source_bridge: str
    dest_bridge: str
    transfer_id: int
    collection: str
    token_id: int
    sender: str
    recipient: str
    rights: Rights

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.source_chain_id, self.dest_chain_id, self.source_bridge, self.dest_bridge,
                self.transfer_id, self.collection, self.token_id, self.sender, self.recipient,
                self.rights.as_tuple())

    def struct_hash(self) -> bytes:
        return keccak(abi_encode(
            ["bytes32", "uint256", "uint256", "address", "address", "uint256", "address", "uint256",
             "address", "address", "bytes32"],
            [MESSAGE_TYPEHASH, self.source_chain_id, self.dest_chain_id, self.source_bridge,
             self.dest_bridge, self.transfer_id, self.collection, self.token_id, self.sender,
             self.recipient, self.rights.struct_hash()],
        ))

    def digest(self) -> bytes:
        """The EIP-712 digest validators sign (domain: the destination endpoint)."""
        domain = domain_separator(self.dest_chain_id, self.dest_bridge)
        return keccak(b"\x19\x01" + domain + self.struct_hash())

    @property
    def nonce(self) -> int:
        return self.transfer_id & 0xFFFFFFFF

    def to_json(self) -> str:
        data = asdict(self)
        rights = data.pop("rights")
        for key in ("cid", "content_hash", "license_terms_hash", "provenance_hash"):
            rights[key] = "0x" + rights[key].hex()
        data["rights"] = rights
        data["transfer_id"] = str(self.transfer_id)
        data["token_id"] = str(self.token_id)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BridgeMessage:
        data = json.loads(text)
        r = data["rights"]
        rights = Rights(
            token_uri=r["token_uri"], cid=bytes.fromhex(r["cid"][2:]),
            content_hash=bytes.fromhex(r["content_hash"][2:]),
            royalty_receiver=r["royalty_receiver"], royalty_bps=int(r["royalty_bps"]),
            license_terms_hash=bytes.fromhex(r["license_terms_hash"][2:]),
            provenance_hash=bytes.fromhex(r["provenance_hash"][2:]),
            split_recipients=tuple(r.get("split_recipients", ())),
            split_bps=tuple(int(b) for b in r.get("split_bps", ())),
        )
        return cls(
            source_chain_id=int(data["source_chain_id"]), dest_chain_id=int(data["dest_chain_id"]),
            source_bridge=data["source_bridge"], dest_bridge=data["dest_bridge"],
            transfer_id=int(data["transfer_id"]), collection=data["collection"],
            token_id=int(data["token_id"]), sender=data["sender"], recipient=data["recipient"],
            rights=rights,
        )


def domain_separator(chain_id: int, verifying_contract: str) -> bytes:
    return keccak(abi_encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [DOMAIN_TYPEHASH, keccak(text=DOMAIN_NAME), keccak(text=DOMAIN_VERSION), chain_id,
         verifying_contract],
    ))


def transfer_id(chain_id: int, bridge: str, nonce: int) -> int:
    """The transfer id of departure ``nonce`` from ``bridge`` on ``chain_id``."""
    if not 0 < nonce < 2**32 or not 0 < chain_id < 2**64:
        raise BridgeMessageError(f"nonce {nonce} or chain id {chain_id} out of range")
    return (chain_id << 192) | (int(bridge, 16) << 32) | nonce


def split_transfer_id(value: int) -> tuple[int, str, int]:
    """(source chain id, source bridge, nonce) encoded in a transfer id."""
    return value >> 192, to_checksum_address(f"0x{(value >> 32) & (2**160 - 1):040x}"), value & 0xFFFFFFFF


def wrapped_id(collection: str, token_id: int) -> int:
    """The WrappedCollection id of home token (``collection``, ``token_id``)."""
    if not 0 <= token_id < 2**96:
        raise BridgeMessageError(f"token id {token_id} does not fit 96 bits")
    return (int(collection, 16) << 96) | token_id


def sign_digest(digest: bytes, private_key: str) -> bytes:
    """A 65-byte (r, s, v) signature of ``digest``; deterministic (RFC 6979), low s."""
    signed = Account.unsafe_sign_hash(digest, private_key)
    return low_s(int(signed.r), int(signed.s), int(signed.v))


def recover_signer(digest: bytes, signature: bytes) -> str:
    """The address that signed ``digest`` (``chain.signatures``: low s only); raises
    BridgeMessageError for malformed or high-s signatures."""
    try:
        return recover_ecdsa(digest, signature)
    except SignatureError as exc:
        raise BridgeMessageError(str(exc)) from exc


def sorted_signatures(digest: bytes, signatures: list[bytes]) -> list[bytes]:
    """Signatures ordered by signer address, ascending (as the contracts require), duplicates removed."""
    by_signer: dict[int, bytes] = {}
    for sig in signatures:
        by_signer.setdefault(int(recover_signer(digest, sig), 16), sig)
    return [by_signer[k] for k in sorted(by_signer)]
