"""Content addressing, computed exactly as an IPFS node does with one fixed setup.

Chainright anchors CIDs on chain, so one chunking setup is used everywhere: CIDv1, raw leaves,
fixed-size 256 KiB chunks, balanced DAG of at most 174 links per node, sha2-256, base32
(``ipfs add --cid-version 1 --raw-leaves --chunker size-262144``). A file of one chunk is its
raw leaf (``bafkrei...``); a larger one is a dag-pb UnixFS file node (``bafybei...``). The
integration tests add the same bytes to a real node and check the CIDs agree.

The content hash anchored on chain is the sha2-256 of the file's bytes (a ``bytes32``).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174
RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12


def content_hash(data: bytes) -> str:
    """``0x`` + hex sha2-256 of ``data``: the bytes32 content hash anchored on chain."""
    return "0x" + hashlib.sha256(data).hexdigest()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire_type: int) -> bytes:
    return _varint((number << 3) | wire_type)


def _bytes_field(number: int, value: bytes) -> bytes:
    return _field(number, 2) + _varint(len(value)) + value


def _uint_field(number: int, value: int) -> bytes:
    return _field(number, 0) + _varint(value)


def cid_bytes(codec: int, block: bytes) -> bytes:
    """Binary CIDv1 of ``block`` under ``codec`` with a sha2-256 multihash."""
    digest = hashlib.sha256(block).digest()
    return _varint(1) + _varint(codec) + bytes([SHA2_256, len(digest)]) + digest


def cid_to_str(cid: bytes) -> str:
    """Multibase base32 (lowercase, no padding, ``b`` prefix) of a binary CIDv1."""
    return "b" + base64.b32encode(cid).decode().lower().rstrip("=")


def cid_from_str(text: str) -> bytes:
    """Binary CIDv1 from its base32 string; raises ValueError for anything else."""
    if not text.startswith("b") or len(text) < 8:
        raise ValueError(f"{text!r} is not a base32 CIDv1 (it must start with 'b')")
    body = text[1:].upper()
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not valid base32") from exc
    if raw[0] != 1 or raw[1] not in (RAW, DAG_PB) or raw[2] != SHA2_256 or raw[3] != 32 \
            or len(raw) != 36:
        raise ValueError(f"{text!r} is not a CIDv1 raw/dag-pb sha2-256 CID")
    return raw


@dataclass(frozen=True)
class _Node:
    cid: bytes
    tsize: int
    """Cumulative size of the serialised subtree (what dag-pb links record)."""
    filesize: int
    """Bytes of file content under this node."""


def _unixfs_file(filesize: int, blocksizes: list[int]) -> bytes:
    data = _uint_field(1, 2) + _uint_field(3, filesize)  # Type=File, filesize
    for size in blocksizes:  # proto2 repeated: not packed
        data += _uint_field(4, size)
    return data


def _dag_pb(children: list[_Node]) -> _Node:
    links = b""
    for child in children:
        link = _bytes_field(1, child.cid) + _bytes_field(2, b"") + _uint_field(3, child.tsize)
        links += _bytes_field(2, link)
    filesize = sum(c.filesize for c in children)
    block = links + _bytes_field(1, _unixfs_file(filesize, [c.filesize for c in children]))
    return _Node(cid_bytes(DAG_PB, block), len(block) + sum(c.tsize for c in children), filesize)


class ContentDigest:
    """The CID and content hash of a file fed in pieces of any size, in constant memory.

    Bytes are cut into the same 256 KiB chunks as ``cid_for`` cuts them: only the current partial
    chunk (at most 256 KiB) and one 36-byte CID per finished chunk are kept, never the file.
    """

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._pending = bytearray()
        self._leaves: list[_Node] = []
        self.size = 0

    def update(self, data: bytes) -> None:
        self._sha.update(data)
        self.size += len(data)
        view = memoryview(data)
        while view:
            room = CHUNK_SIZE - len(self._pending)
            self._pending += view[:room]
            view = view[room:]
            if len(self._pending) == CHUNK_SIZE:
                self._leaves.append(_leaf(bytes(self._pending)))
                self._pending.clear()

    @property
    def content_hash(self) -> str:
        """``0x`` + hex sha2-256 of every byte fed so far (``content_hash`` of the whole file)."""
        return "0x" + self._sha.hexdigest()

    def cid(self) -> str:
        """The CIDv1 string of every byte fed so far (``cid_for`` of the whole file)."""
        level = list(self._leaves)
        if self._pending or not level:
            level.append(_leaf(bytes(self._pending)))
        if len(level) == 1:
            return cid_to_str(level[0].cid)
        while len(level) > 1:
            level = [_dag_pb(level[i:i + MAX_LINKS]) for i in range(0, len(level), MAX_LINKS)]
        return cid_to_str(level[0].cid)


def _leaf(chunk: bytes) -> _Node:
    return _Node(cid_bytes(RAW, chunk), len(chunk), len(chunk))


def cid_for(data: bytes) -> str:
    """The CIDv1 string an IPFS node gives ``data`` with Chainright's fixed import setup."""
    digest = ContentDigest()
    digest.update(data)
    return digest.cid()


def raw_cid_digest(cid: str) -> bytes | None:
    """The sha2-256 digest inside a raw-leaf CID (equals the content hash), else None."""
    raw = cid_from_str(cid)
    return raw[4:] if raw[1] == RAW else None
