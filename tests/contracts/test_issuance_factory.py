"""CollectionFactory: deterministic clones, one-shot initialization, locked implementations, and the
registry's refusal of collections the factory did not create."""

from __future__ import annotations

import pytest

from tests.contracts import issuance_support
from tests.contracts.issuance_support import ZERO, one_event, reverts, salt, work

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

# Shared fixtures (defined in issuance_support).
stack = issuance_support.stack


def _settings(account, **overrides):
    values = {"name": "Works", "symbol": "WRK", "owner": account.address, "royaltyReceiver": account.address,
              "royaltyBps": 500, "identityRegistry": ZERO, "requireVerifiedHolders": False}
    values.update(overrides)
    return tuple(values.values())


def test_a_collection_lands_at_the_predicted_address_fully_set_up(stack, creator):
    predicted = stack.factory.predictCollectionAddress(creator, salt("mine"))
    assert len(stack.project.provider.get_code(predicted)) == 0
    tx = stack.factory.createCollection(_settings(creator), salt("mine"), sender=creator)
    created = one_event(tx, "CollectionCreated")
    assert dict(created.event_arguments) == {"collection": predicted, "owner": creator.address,
                                             "deployer": creator.address, "salt": salt("mine")}
    added = one_event(tx, "CollectionAdded")
    assert (added.collection, added.factory, added.index) == (predicted, stack.factory.address, 1)
    collection = stack.project.CreatorCollection.at(predicted)
    assert collection.owner() == creator.address and collection.rightsRegistry() == stack.registry.address
    assert (collection.name(), collection.symbol(), collection.totalSupply()) == ("Works", "WRK", 0)
    assert collection.identityPolicy() == (ZERO, False) and not collection.paused()
    assert stack.registry.isCollection(predicted) and stack.registry.collectionCount() == 1


def test_editions_land_at_the_predicted_address_and_are_announced(stack, creator, collector):
    predicted = stack.factory.predictEditionsAddress(creator, salt("ed"))
    assert predicted != stack.factory.predictCollectionAddress(creator, salt("ed"))
    settings = ("Editions", "ED", collector.address, collector.address, 250)
    tx = stack.factory.createEditions1155(settings, salt("ed"), sender=creator)
    created = one_event(tx, "Editions1155Created")
    assert dict(created.event_arguments) == {"editions": predicted, "owner": collector.address,
                                             "deployer": creator.address, "salt": salt("ed")}
    added = one_event(tx, "CollectionAdded")
    assert (added.collection, added.factory, added.index) == (predicted, stack.factory.address, 1)
    editions = stack.project.Editions1155.at(predicted)
    assert editions.owner() == collector.address and editions.rightsRegistry() == stack.registry.address


def test_addresses_depend_on_the_caller_and_salt_and_a_salt_is_used_once(stack, creator, collector):
    mine = stack.factory.predictCollectionAddress(creator, salt("s"))
    assert stack.factory.predictCollectionAddress(collector, salt("s")) != mine
    assert stack.factory.predictCollectionAddress(creator, salt("t")) != mine
    assert stack.factory.predictEditionsAddress(creator, salt("s")) != mine
    stack.factory.createCollection(_settings(creator), salt("s"), sender=creator)
    with reverts("FactoryCloneExists", mine):
        stack.factory.createCollection(_settings(creator), salt("s"), sender=creator)
    # Another caller with the same salt gets its own address, even for a collection owned by creator.
    tx = stack.factory.createCollection(_settings(creator), salt("s"), sender=collector)
    assert one_event(tx, "CollectionCreated").collection == stack.factory.predictCollectionAddress(
        collector, salt("s"))


def test_clones_and_implementations_cannot_be_initialized_again(stack, creator, stranger):
    collection = stack.collection(creator)
    editions = stack.editions(creator)
    with reverts("CollectionAlreadyInitialized"):
        collection.initialize(_settings(stranger), stack.registry, sender=stranger)
    with reverts("CollectionAlreadyInitialized"):
        stack.collection_impl.initialize(_settings(stranger), stack.registry, sender=stranger)
    editions_settings = ("E", "E", stranger.address, stranger.address, 0)
    with reverts("EditionsAlreadyInitialized"):
        editions.initialize(editions_settings, stack.registry, sender=stranger)
    with reverts("EditionsAlreadyInitialized"):
        stack.editions_impl.initialize(editions_settings, stack.registry, sender=stranger)
    assert collection.owner() == creator.address and stack.collection_impl.owner() == ZERO


def test_the_locked_implementation_mints_nothing(stack, stranger):
    w = work("impl")
    with reverts("CollectionNotMinter", stranger):
        stack.collection_impl.mintWork(stranger, w.content_hash, w.cid_bytes, sender=stranger)


def test_bad_settings_revert_the_creation(stack, creator):
    with reverts("CollectionInvalidOwner", ZERO):
        stack.factory.createCollection(_settings(creator, owner=ZERO), salt("x"), sender=creator)
    with reverts("ERC2981InvalidDefaultRoyalty", 10_001, 10_000):
        stack.factory.createCollection(_settings(creator, royaltyBps=10_001), salt("x"), sender=creator)
    with reverts("EditionsInvalidOwner", ZERO):
        stack.factory.createEditions1155(("E", "E", ZERO, creator.address, 0), salt("x"), sender=creator)
    assert stack.registry.collectionCount() == 0


def test_the_factory_needs_its_three_addresses(ape_project, stack, deployer):
    with reverts("FactoryZeroAddress"):
        ape_project.CollectionFactory.deploy(ZERO, stack.collection_impl, stack.editions_impl, sender=deployer)
    with reverts("FactoryZeroAddress"):
        ape_project.CollectionFactory.deploy(stack.registry, ZERO, stack.editions_impl, sender=deployer)
    with reverts("FactoryZeroAddress"):
        ape_project.CollectionFactory.deploy(stack.registry, stack.collection_impl, ZERO, sender=deployer)
    assert stack.factory.rightsRegistry() == stack.registry.address
    assert stack.factory.collectionImplementation() == stack.collection_impl.address
    assert stack.factory.editionsImplementation() == stack.editions_impl.address


def test_the_registry_refuses_records_from_a_clone_the_factory_did_not_make(ape_project, stack, deployer,
                                                                            stranger):
    cloner = ape_project.TestCloner.deploy(sender=deployer)
    tx = cloner.clone(stack.collection_impl, sender=stranger)
    rogue = ape_project.CreatorCollection.at(one_event(tx, "Cloned").clone)
    # An ERC-721 clone reads its registry from its own code, where only the factory puts it: a plain
    # clone has none and cannot even be initialized, whatever registry it is told.
    for registry in (ZERO, stack.registry):
        with reverts("CollectionRightsRegistryMissing"):
            rogue.initialize(_settings(stranger), registry, sender=stranger)
    w = work("rogue")
    # The registry itself refuses anyone it did not add (here an account calling it directly).
    with reverts("RightsCollectionUnknown", stranger):
        stack.registry.recordMint(w.content_hash, stranger, 1, 0x0155, bytes(32), sender=stranger)
    tx = cloner.clone(stack.editions_impl, sender=stranger)
    rogue_editions = ape_project.Editions1155.at(one_event(tx, "Cloned").clone)
    with reverts("EditionsRightsRegistryMissing"):
        rogue_editions.initialize(("E", "E", stranger.address, stranger.address, 0), ZERO, sender=stranger)
    rogue_editions.initialize(("E", "E", stranger.address, stranger.address, 0), stack.registry, sender=stranger)
    with reverts("RightsCollectionUnknown", rogue_editions):
        rogue_editions.mintWork(stranger, 1, w.content_hash, w.cid_bytes, sender=stranger)
    assert not stack.registry.isRegistered(w.content_hash)


def test_a_disallowed_factory_creates_nothing_but_its_collections_keep_minting(stack, creator, deployer):
    collection = stack.collection(creator)
    tx = stack.registry.setFactory(stack.factory, False, sender=deployer)
    assert dict(one_event(tx, "FactoryUpdated").event_arguments) == {"factory": stack.factory.address,
                                                                     "allowed": False}
    with reverts("RightsFactoryUnknown", stack.factory):
        stack.factory.createCollection(_settings(creator), salt("late"), sender=creator)
    w = work("after-revocation")
    collection.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)
    assert stack.registry.recordOf(w.content_hash).collection == collection.address
