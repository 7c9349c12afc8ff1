"""CIDs computed in pure Python, checked against an independent implementation (multiformats)
and known vectors. (The integration tier checks them against a real IPFS node.)"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multiformats import CID, multihash

from api.content import CHUNK_SIZE, cid_for, cid_from_str, content_hash, raw_cid_digest
from api.ipfs import LocalContentStore

pytestmark = pytest.mark.unit


def test_empty_file_has_the_well_known_raw_cid():
    assert cid_for(b"") == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=4096))
def test_single_chunk_cid_equals_multiformats_raw_cid(data: bytes):
    expected = CID("base32", 1, "raw", multihash.wrap(hashlib.sha256(data).digest(), "sha2-256"))
    assert cid_for(data) == str(expected)
    assert raw_cid_digest(cid_for(data)) == hashlib.sha256(data).digest()


def test_chunk_boundary_switches_from_raw_leaf_to_dag_pb():
    assert cid_for(b"a" * CHUNK_SIZE).startswith("bafkrei")
    big = cid_for(b"a" * (CHUNK_SIZE + 1))
    assert big.startswith("bafybei")
    parsed = CID.decode(big)
    assert parsed.codec.name == "dag-pb" and parsed.version == 1
    assert raw_cid_digest(big) is None


def test_content_hash_is_sha256_of_the_bytes():
    assert content_hash(b"work") == "0x" + hashlib.sha256(b"work").hexdigest()


@pytest.mark.parametrize("bad", ["", "Qm123", "bafy", "zzzz", "b" + "a" * 40, "../etc/passwd"])
def test_malformed_cids_are_refused(bad: str):
    with pytest.raises(ValueError):
        cid_from_str(bad)


def test_local_store_round_trip_and_tamper_detection(tmp_path):
    store = LocalContentStore(tmp_path)
    stored = store.add(b"hello chainright")
    assert stored.cid == cid_for(b"hello chainright") and store.has(stored.cid)
    assert store.get(stored.cid) == b"hello chainright"
    (tmp_path / stored.cid).write_bytes(b"tampered")
    with pytest.raises(Exception, match="no longer match"):
        store.get(stored.cid)


def test_local_store_missing_cid_is_not_found(tmp_path):
    from api.errors import NotFoundError

    with pytest.raises(NotFoundError):
        LocalContentStore(tmp_path).get(cid_for(b"never stored"))
