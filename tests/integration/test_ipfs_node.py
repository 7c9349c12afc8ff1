"""Our CIDs agree with a real IPFS node (js-ipfs, Kubo-compatible RPC) for every file shape."""

from __future__ import annotations

import os

import pytest

from api.content import CHUNK_SIZE, MAX_LINKS, cid_for
from api.ipfs import IpfsNodeStore, LocalContentStore
from devnet.ipfs import start_ipfs_node
from tests.conftest import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ipfs_node(tmp_path_factory):
    node = start_ipfs_node(tmp_path_factory.mktemp("ipfs") / "repo", free_port(), free_port(), free_port())
    try:
        yield node
    finally:
        node.stop()


@pytest.mark.parametrize("size", [
    0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 4 * CHUNK_SIZE,  # one level of links
    MAX_LINKS * CHUNK_SIZE, MAX_LINKS * CHUNK_SIZE + 1,  # the second level starts
])
def test_node_and_python_give_the_same_cid(ipfs_node, size, tmp_path):
    data = os.urandom(size)
    store = IpfsNodeStore(ipfs_node.multiaddr)
    stored = store.add(data)  # raises ContentMismatchError if the node disagrees
    assert stored.cid == cid_for(data) == LocalContentStore(tmp_path).add(data).cid
    assert store.get(stored.cid) == data


def test_unreachable_node_is_a_clear_503():
    from api.errors import ServiceUnavailableError

    with pytest.raises(ServiceUnavailableError, match="does not answer"):
        IpfsNodeStore(f"/ip4/127.0.0.1/tcp/{free_port()}", timeout_s=2).add(b"x")


@pytest.mark.parametrize("size", [CHUNK_SIZE + 1, MAX_LINKS * CHUNK_SIZE + 1])
def test_a_staged_upload_streams_to_the_node_under_the_cid_computed_as_it_arrived(ipfs_node, size, tmp_path):
    """What POST /assets does with an IPFS node: the staged file is sent from disk, the node's CID
    must equal the one computed piece by piece while the upload arrived, and the staging file goes."""
    from api.content import ContentDigest

    data = os.urandom(size)
    staged = tmp_path / ".upload.test"
    staged.write_bytes(data)
    digest = ContentDigest()
    for at in range(0, size, 65_536):
        digest.update(data[at:at + 65_536])
    store = IpfsNodeStore(ipfs_node.multiaddr, staging_dir=tmp_path)
    stored = store.add_staged(staged, digest)
    assert (stored.cid, stored.size) == (cid_for(data), size) and not staged.exists()
    assert store.get(stored.cid) == data
