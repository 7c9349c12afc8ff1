"""Editions1155: each token id is a work whose first mint writes its rights record; copies, roles,
pause, royalties, ERC-165."""

from __future__ import annotations

import pytest

from chain.cid import cid_to_bytes
from tests.contracts import issuance_support
from tests.contracts.issuance_support import DAG_PB_CID, ZERO, events, one_event, reverts, work

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

# Shared fixtures (defined in issuance_support).
stack = issuance_support.stack


@pytest.fixture
def editions(stack, creator):
    return stack.editions(creator)


def test_minting_a_work_creates_an_id_with_its_record(stack, editions, creator, collector):
    w = work("1155")
    tx = editions.mintWork(collector, 25, w.content_hash, w.cid_bytes, sender=creator)
    created = one_event(tx, "WorkCreated")
    assert (created.id, bytes(created.contentHash)) == (1, w.content_hash)
    assert dict(one_event(tx, "URI").event_arguments) == {"value": f"ipfs://{w.cid}", "id": 1}
    single = one_event(tx, "TransferSingle")
    assert dict(single.event_arguments) == {"operator": creator.address, "from": ZERO, "to": collector.address,
                                            "id": 1, "value": 25}
    registered = one_event(tx, "RightsRegistered")
    assert (registered.creator, registered.collection, registered.tokenId) == (creator.address,
                                                                               editions.address, 1)
    assert editions.balanceOf(collector, 1) == 25 and editions.workCount() == 1
    assert editions.uri(1) == f"ipfs://{w.cid}" and bytes(editions.workCid(1)) == w.cid_bytes
    record = stack.registry.recordOf(w.content_hash)
    assert (record.collection, record.tokenId, bytes(record.cid)) == (editions.address, 1, w.cid_bytes)


def test_more_copies_of_a_work_write_no_new_record(editions, creator, collector):
    w = work("copies")
    editions.mintWork(creator, 1, w.content_hash, w.cid_bytes, sender=creator)
    tx = editions.mint(collector, 1, 9, sender=creator)
    assert not events(tx, "RightsRegistered") and not events(tx, "WorkCreated")
    assert editions.balanceOf(collector, 1) == 9 and editions.workCount() == 1
    for missing in (0, 2):
        with reverts("EditionsUnknownWork", missing):
            editions.mint(collector, missing, 1, sender=creator)
        with reverts("EditionsUnknownWork", missing):
            editions.uri(missing)
        with reverts("EditionsUnknownWork", missing):
            editions.workCid(missing)
    with reverts("EditionsAmountZero"):
        editions.mint(collector, 1, 0, sender=creator)
    with reverts("EditionsAmountZero"):
        editions.mintWork(collector, 0, work("zero").content_hash, w.cid_bytes, sender=creator)


def test_dag_pb_cids_render_as_given(editions, creator):
    editions.mintWork(creator, 1, work("dag-pb").content_hash, cid_to_bytes(DAG_PB_CID), sender=creator)
    assert editions.uri(1) == f"ipfs://{DAG_PB_CID}"
    with reverts("CidUnsupported", b"\x01"):
        editions.mintWork(creator, 1, work("bad").content_hash, b"\x01", sender=creator)


def test_content_is_registered_once_across_erc721_and_erc1155(stack, editions, creator, collector):
    w = work("cross")
    collection = stack.collection(collector)
    collection.mintWork(collector, w.content_hash, w.cid_bytes, sender=collector)
    with reverts("RightsAlreadyRegistered"):
        editions.mintWork(creator, 1, w.content_hash, w.cid_bytes, sender=creator)
    assert editions.workCount() == 0


def test_registering_an_edition_reverts_with_its_record_and_cid(stack, editions, creator, stranger):
    w = work("edition-record")
    tx = editions.mintWork(creator, 5, w.content_hash, w.cid_bytes, sender=creator)
    registered_at = stack.project.provider.get_block(tx.block_number).timestamp
    with reverts("RightsAlreadyRegistered", w.content_hash, editions.address, 1, creator.address, registered_at,
                 w.cid_bytes):
        stack.registry.register(w.content_hash, work("edition-other-cid").cid_bytes, sender=stranger)


def test_a_creators_registration_binds_to_its_edition(stack, editions, creator):
    w = work("bind-1155")
    stack.registry.register(w.content_hash, w.cid_bytes, sender=creator)
    tx = editions.mintWork(creator, 3, w.content_hash, w.cid_bytes, sender=creator)
    assert one_event(tx, "RightsBound").collection == editions.address
    assert stack.registry.recordOf(w.content_hash).tokenId == 1


def test_roles_owner_and_minters(stack, editions, creator, operator, stranger):
    w = work("roles-1155")
    with reverts("EditionsNotMinter", stranger):
        editions.mintWork(stranger, 1, w.content_hash, w.cid_bytes, sender=stranger)
    with reverts("EditionsNotOwner", stranger):
        editions.setMinter(stranger, True, sender=stranger)
    tx = editions.setMinter(operator, True, sender=creator)
    assert dict(one_event(tx, "MinterUpdated").event_arguments) == {"account": operator.address, "allowed": True}
    editions.mintWork(operator, 2, w.content_hash, w.cid_bytes, sender=operator)
    assert stack.registry.recordOf(w.content_hash).creator == creator.address
    editions.setMinter(operator, False, sender=creator)
    with reverts("EditionsNotMinter", operator):
        editions.mint(operator, 1, 1, sender=operator)
    with reverts("EditionsNotOwner", stranger):
        editions.transferOwnership(stranger, sender=stranger)
    with reverts("EditionsInvalidOwner", ZERO):
        editions.transferOwnership(ZERO, sender=creator)
    tx = editions.transferOwnership(operator, sender=creator)
    assert dict(one_event(tx, "OwnershipTransferred").event_arguments) == {"previousOwner": creator.address,
                                                                           "newOwner": operator.address}
    assert editions.owner() == operator.address
    editions.mint(operator, 1, 1, sender=operator)


def test_pause_stops_minting_and_transfers(editions, creator, collector, stranger):
    w = work("pause-1155")
    editions.mintWork(creator, 5, w.content_hash, w.cid_bytes, sender=creator)
    with reverts("EditionsNotOwner", stranger):
        editions.pause(sender=stranger)
    with reverts("EditionsNotPaused"):
        editions.unpause(sender=creator)
    tx = editions.pause(sender=creator)
    assert one_event(tx, "Paused").account == creator.address and editions.paused()
    with reverts("EditionsPaused"):
        editions.pause(sender=creator)
    with reverts("EditionsPaused"):
        editions.mint(creator, 1, 1, sender=creator)
    with reverts("EditionsPaused"):
        editions.mintWork(creator, 1, work("other").content_hash, w.cid_bytes, sender=creator)
    with reverts("EditionsPaused"):
        editions.safeTransferFrom(creator, collector, 1, 1, b"", sender=creator)
    with reverts("EditionsNotOwner", stranger):
        editions.unpause(sender=stranger)
    tx = editions.unpause(sender=creator)
    assert one_event(tx, "Unpaused").account == creator.address
    editions.safeTransferFrom(creator, collector, 1, 2, b"", sender=creator)
    assert editions.balanceOf(collector, 1) == 2


def test_minting_to_a_contract_that_is_no_1155_receiver_reverts(ape_project, editions, creator, deployer):
    not_a_receiver = ape_project.TestIdentityRegistry.deploy(sender=deployer)
    w = work("no-receiver")
    with reverts("ERC1155InvalidReceiver", not_a_receiver):
        editions.mintWork(not_a_receiver, 1, w.content_hash, w.cid_bytes, sender=creator)


def test_royalties_and_names(editions, creator, collector, stranger):
    assert (editions.name(), editions.symbol()) == ("Editions", "ED")
    assert editions.royaltyInfo(1, 10_000) == (creator.address, 500)
    tx = editions.setDefaultRoyalty(collector, 1_000, sender=creator)
    assert dict(one_event(tx, "DefaultRoyaltyUpdated").event_arguments) == {"receiver": collector.address,
                                                                            "bps": 1_000}
    assert editions.royaltyInfo(1, 10_000) == (collector.address, 1_000)
    with reverts("EditionsNotOwner", stranger):
        editions.setDefaultRoyalty(stranger, 1, sender=stranger)


@pytest.mark.parametrize(("interface_id", "supported"), [
    ("01ffc9a7", True),   # ERC-165
    ("d9b67a26", True),   # ERC-1155
    ("0e89341c", True),   # ERC-1155 metadata URI
    ("2a55205a", True),   # ERC-2981
    ("80ac58cd", False),  # ERC-721
    ("ffffffff", False),
])
def test_erc165_answers(editions, interface_id, supported):
    assert editions.supportsInterface(bytes.fromhex(interface_id)) is supported
