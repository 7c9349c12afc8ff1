"""RightsRegistry on its own: registration without minting, the factory and collection gates, and
the errors a collection cannot provoke (driven by accounts the owner allowed as a test factory)."""

from __future__ import annotations

import ape
import pytest

from tests.contracts import issuance_support
from tests.contracts.issuance_support import ZERO, one_event, reverts, work

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

# Shared fixtures (defined in issuance_support).
stack = issuance_support.stack


def _block_time(tx) -> int:
    return int(ape.chain.blocks[tx.block_number].timestamp)


def test_registering_without_minting_records_a_timestamped_claim(stack, collector):
    w = work("claim")
    assert not stack.registry.isRegistered(w.content_hash)
    tx = stack.registry.register(w.content_hash, w.cid_bytes, sender=collector)
    event = one_event(tx, "RightsRegistered")
    assert dict(event.event_arguments) == {"contentHash": w.content_hash, "creator": collector.address,
                                           "collection": ZERO, "tokenId": 0, "cid": w.cid_bytes}
    record = stack.registry.recordOf(w.content_hash)
    assert (record.collection, record.tokenId, record.creator) == (ZERO, 0, collector.address)
    assert record.registeredAt == _block_time(tx) and bytes(record.cid) == w.cid_bytes
    assert stack.registry.isRegistered(w.content_hash)


def test_registering_twice_reverts_with_the_first_record(stack, collector, stranger):
    w = work("twice")
    tx = stack.registry.register(w.content_hash, w.cid_bytes, sender=collector)
    # The error carries the first record, CID included, whatever CID the second claim names.
    for account, cid in ((collector, w.cid_bytes), (stranger, work("other-cid").cid_bytes)):
        with reverts("RightsAlreadyRegistered", w.content_hash, ZERO, 0, collector.address, _block_time(tx),
                     w.cid_bytes):
            stack.registry.register(w.content_hash, cid, sender=account)


def test_registering_minted_content_reverts_with_the_bound_record(stack, creator, stranger):
    collection = stack.collection(creator)
    w = work("minted")
    tx = collection.mintEdition(creator, 2, w.content_hash, w.cid_bytes, sender=creator)
    with reverts("RightsAlreadyRegistered", w.content_hash, collection.address, 1, creator.address,
                 _block_time(tx), w.cid_bytes):
        stack.registry.register(w.content_hash, work("another-cid").cid_bytes, sender=stranger)


def test_registration_needs_a_hash_and_a_supported_cid(stack, collector):
    w = work("bad")
    with reverts("RightsContentHashZero"):
        stack.registry.register(bytes(32), w.cid_bytes, sender=collector)
    with reverts("CidUnsupported", w.cid_bytes[:-1]):
        stack.registry.register(w.content_hash, w.cid_bytes[:-1], sender=collector)


def test_unregistered_hashes_have_an_all_zero_record(stack):
    record = stack.registry.recordOf(work("nothing").content_hash)
    assert (record.collection, record.tokenId, record.creator, record.registeredAt, bytes(record.cid)) == (
        ZERO, 0, ZERO, 0, b"")


def test_only_added_collections_record_mints(stack, stranger):
    w = work("gate")
    with reverts("RightsCollectionUnknown", stranger):
        stack.registry.recordMint(w.content_hash, stranger, 1, 0x5512, w.cid_bytes[4:], sender=stranger)


def test_only_allowed_factories_add_collections_and_only_the_owner_allows_them(stack, deployer, operator,
                                                                               stranger):
    with reverts("RightsFactoryUnknown", stranger):
        stack.registry.addCollection(stranger, sender=stranger)
    with reverts("OwnableUnauthorizedAccount", stranger):
        stack.registry.setFactory(stranger, True, sender=stranger)
    tx = stack.registry.setFactory(operator, True, sender=deployer)
    assert dict(one_event(tx, "FactoryUpdated").event_arguments) == {"factory": operator.address, "allowed": True}
    assert stack.registry.isFactory(operator)
    tx = stack.registry.addCollection(stranger, sender=operator)
    assert dict(one_event(tx, "CollectionAdded").event_arguments) == {
        "collection": stranger.address, "factory": operator.address, "index": 1}
    with reverts("RightsCollectionAlreadyAdded", stranger):
        stack.registry.addCollection(stranger, sender=operator)
    assert stack.registry.isCollection(stranger) and stack.registry.collectionCount() == 1


def test_records_keep_token_ids_in_32_bits(stack, deployer, operator, stranger):
    stack.registry.setFactory(operator, True, sender=deployer)
    stack.registry.addCollection(stranger, sender=operator)  # an account standing in for a collection
    w = work("large-id")
    with reverts("RightsTokenIdTooLarge", 2**32):
        stack.registry.recordMint(w.content_hash, stranger, 2**32, 0x5512, w.cid_bytes[4:], sender=stranger)
    with reverts("RightsContentHashZero"):
        stack.registry.recordMint(bytes(32), stranger, 1, 0x5512, w.cid_bytes[4:], sender=stranger)
    tx = stack.registry.recordMint(w.content_hash, stranger, 2**32 - 1, 0x5512, w.cid_bytes[4:], sender=stranger)
    event = one_event(tx, "RightsRegistered")
    assert event.tokenId == 2**32 - 1 and bytes(event.cid) == w.cid_bytes
