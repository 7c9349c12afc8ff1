"""A story's content check hashes the stored content once per stored version: a second read of
unchanged content neither re-reads nor re-hashes it, and any change to what is stored under the
CID (rewritten, corrupted, replaced, removed) is seen by the next read."""

from __future__ import annotations

import hashlib
import os

import pytest

from api.ipfs import ContentMismatchError, LocalContentStore
from api.routers import provenance
from api.routers.provenance import _content_check, content_digest
from chain.cid import cid_to_bytes

pytestmark = pytest.mark.unit

WORK = b"the creator's work, version 1"


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "_DIGESTS", {})
    local = LocalContentStore(tmp_path / "content")
    reads: list[str] = []
    real_get = local.get

    def counted(cid: str) -> bytes:
        reads.append(cid)
        return real_get(cid)

    monkeypatch.setattr(local, "get", counted)
    return local, reads


def _entries(cid: str) -> list[dict]:
    return [{"event": "RightsRegistered", "args": {"cid": "0x" + cid_to_bytes(cid).hex()}}]


def test_unchanged_content_is_hashed_once(store):
    local, reads = store
    cid = local.add(WORK).cid
    want = "0x" + hashlib.sha256(WORK).hexdigest()
    assert content_digest(local, cid) == want
    assert content_digest(local, cid) == want
    assert reads == [cid]
    assert _content_check(local, _entries(cid), want) == "match"
    assert _content_check(local, _entries(cid), "0x" + "00" * 32).startswith("mismatch: the content hashes to")
    assert reads == [cid]


def test_corrupted_content_is_seen_on_the_next_read(store):
    local, reads = store
    cid = local.add(WORK).cid
    content_digest(local, cid)
    path = local.root / cid
    path.write_bytes(b"someone else's bytes")  # rewritten in place: size and mtime move
    with pytest.raises(ContentMismatchError):
        content_digest(local, cid)
    assert reads == [cid, cid]  # read again, not answered from the kept digest
    check = _content_check(local, _entries(cid), "0x" + hashlib.sha256(WORK).hexdigest())
    assert check == f"content {cid} not available here (ContentMismatchError)"


def test_same_size_same_mtime_replacement_is_seen(store):
    local, reads = store
    cid = local.add(WORK).cid
    content_digest(local, cid)
    path = local.root / cid
    st = path.stat()
    forged = local.root / "forged"
    forged.write_bytes(WORK[:-1] + b"2")  # same size
    os.utime(forged, ns=(st.st_atime_ns, st.st_mtime_ns))  # same modification time
    os.replace(forged, path)  # another inode
    with pytest.raises(ContentMismatchError):
        content_digest(local, cid)
    assert reads == [cid, cid]


def test_removed_content_is_not_available(store):
    local, reads = store
    cid = local.add(WORK).cid
    content_digest(local, cid)
    (local.root / cid).unlink()
    check = _content_check(local, _entries(cid), "0x" + hashlib.sha256(WORK).hexdigest())
    assert check.startswith(f"content {cid} not available here")
    assert reads == [cid]  # the kept digest is not served for content that is gone


def test_a_store_that_cannot_tell_is_read_every_time(monkeypatch):
    monkeypatch.setattr(provenance, "_DIGESTS", {})

    class Node:  # an IPFS node: no stored version to key on
        name = "ipfs"
        reads = 0

        def get(self, cid: str) -> bytes:
            Node.reads += 1
            return WORK

    node = Node()
    content_digest(node, "bafy")  # type: ignore[arg-type]
    content_digest(node, "bafy")  # type: ignore[arg-type]
    assert Node.reads == 2
