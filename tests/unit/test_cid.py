"""chain.cid: CID strings to the binary form the issuance contracts take, and back."""

from __future__ import annotations

import hashlib

import pytest

from chain.cid import cid_from_bytes, cid_to_bytes, raw_cid, to_v1
from chain.errors import CidError

pytestmark = pytest.mark.unit

DAG_PB = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"


def test_raw_leaves_cid_of_content_is_the_sha256_multihash():
    cid = raw_cid(b"hello")
    assert cid == "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
    assert cid_to_bytes(cid) == bytes.fromhex("01551220") + hashlib.sha256(b"hello").digest()


@pytest.mark.parametrize("cid", [raw_cid(b"x"), DAG_PB])
def test_binary_round_trip(cid):
    data = cid_to_bytes(cid)
    assert len(data) == 36 and data[0] == 1 and data[3] == 0x20
    assert cid_from_bytes(data) == cid


def test_cidv0_is_refused_until_converted():
    v0 = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
    with pytest.raises(CidError, match="to_v1"):
        cid_to_bytes(v0)
    v1 = to_v1(v0)
    assert v1.startswith("bafybei") and cid_from_bytes(cid_to_bytes(v1)) == v1


@pytest.mark.parametrize("bad", ["", "not-a-cid", "bafy"])
def test_garbage_is_a_cid_error(bad):
    with pytest.raises(CidError):
        cid_to_bytes(bad)
    with pytest.raises(CidError):
        to_v1(bad)


def test_garbage_bytes_are_a_cid_error():
    with pytest.raises(CidError):
        cid_from_bytes(b"\xff\xff")
