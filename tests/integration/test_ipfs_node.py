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
