"""CreatorCollection features: ERC-4907 rentals, ERC-4906 metadata updates and freezing, the
verified-holder policy, and binding a creator's earlier registration to the token it mints."""

from __future__ import annotations

import ape
import pytest

from chain.cid import cid_to_bytes
from tests.contracts import issuance_support
from tests.contracts.issuance_support import DAG_PB_CID, ZERO, events, one_event, reverts, work

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

# Shared fixtures (defined in issuance_support).
stack = issuance_support.stack


@pytest.fixture
def collection(stack, creator):
    return stack.collection(creator)


@pytest.fixture
def minted(collection, creator):
    w = work("features")
    collection.mintEdition(creator, 3, w.content_hash, w.cid_bytes, sender=creator)
    return collection


def _now() -> int:
    return int(ape.chain.blocks.head.timestamp)


def _travel(seconds: int) -> None:
    ape.chain.mine(timestamp=_now() + seconds)


def _block_time(tx) -> int:
    return int(ape.chain.blocks[tx.block_number].timestamp)


# ---------------------------------------------------------------- ERC-4907 rentals


def test_a_user_holds_the_token_until_expiry(minted, creator, operator):
    expires = _now() + 3600
    tx = minted.setUser(2, operator, expires, sender=creator)
    assert dict(one_event(tx, "UpdateUser").event_arguments) == {"tokenId": 2, "user": operator.address,
                                                                 "expires": expires}
    assert minted.userOf(2) == operator.address and minted.userExpires(2) == expires
    assert minted.userOf(1) == ZERO and minted.ownerOf(2) == creator.address
    ape.chain.mine(timestamp=expires)  # the last second of the rental
    assert _now() == expires and minted.userOf(2) == operator.address
    ape.chain.mine(timestamp=expires + 1)
    assert minted.userOf(2) == ZERO and minted.userExpires(2) == expires


def test_approved_addresses_and_operators_may_set_the_user(minted, creator, collector, operator, stranger):
    expires = _now() + 100
    with reverts("ERC721InsufficientApproval", stranger, 1):
        minted.setUser(1, stranger, expires, sender=stranger)
    minted.approve(collector, 1, sender=creator)
    minted.setUser(1, stranger, expires, sender=collector)
    assert minted.userOf(1) == stranger.address
    minted.setApprovalForAll(operator, True, sender=creator)
    minted.setUser(3, operator, expires, sender=operator)
    assert minted.userOf(3) == operator.address
    with reverts("ERC721NonexistentToken", 4):
        minted.setUser(4, operator, expires, sender=creator)


def test_setting_the_zero_user_clears_the_rental(minted, creator, operator):
    minted.setUser(1, operator, _now() + 100, sender=creator)
    tx = minted.setUser(1, ZERO, _now() + 100, sender=creator)
    assert dict(one_event(tx, "UpdateUser").event_arguments) == {"tokenId": 1, "user": ZERO, "expires": 0}
    assert minted.userOf(1) == ZERO and minted.userExpires(1) == 0


def test_a_transfer_clears_the_user_but_a_self_transfer_does_not(minted, creator, collector, operator):
    expires = _now() + 1000
    minted.setUser(1, operator, expires, sender=creator)
    minted.setUser(2, operator, expires, sender=creator)
    tx = minted.transferFrom(creator, creator, 2, sender=creator)
    assert not events(tx, "UpdateUser") and minted.userOf(2) == operator.address
    tx = minted.transferFrom(creator, collector, 1, sender=creator)
    assert dict(one_event(tx, "UpdateUser").event_arguments) == {"tokenId": 1, "user": ZERO, "expires": 0}
    assert minted.userOf(1) == ZERO and minted.userExpires(1) == 0
    tx = minted.transferFrom(creator, collector, 3, sender=creator)  # no user: no event
    assert not events(tx, "UpdateUser")


def test_renting_is_blocked_while_paused(minted, creator, operator):
    minted.pause(sender=creator)
    with reverts("CollectionPaused"):
        minted.setUser(1, operator, _now() + 100, sender=creator)


# ---------------------------------------------------------------- ERC-4906 metadata


def test_changing_the_uri_prefix_announces_a_batch_metadata_update(collection, creator, stranger):
    w = work("prefix")
    tx = collection.setUriPrefix("https://gateway.example/ipfs/", sender=creator)
    assert one_event(tx, "UriPrefixUpdated").prefix == "https://gateway.example/ipfs/"
    assert not events(tx, "BatchMetadataUpdate")  # nothing minted yet
    collection.mintEdition(creator, 5, w.content_hash, w.cid_bytes, sender=creator)
    assert collection.tokenURI(4) == f"https://gateway.example/ipfs/{w.cid}"
    tx = collection.setUriPrefix("", sender=creator)
    assert dict(one_event(tx, "BatchMetadataUpdate").event_arguments) == {"_fromTokenId": 1, "_toTokenId": 5}
    assert collection.uriPrefix() == "" and collection.tokenURI(4) == f"ipfs://{w.cid}"
    with reverts("CollectionNotOwner", stranger):
        collection.setUriPrefix("https://evil.example/", sender=stranger)


def test_frozen_metadata_cannot_change(collection, creator, stranger):
    with reverts("CollectionNotOwner", stranger):
        collection.freezeMetadata(sender=stranger)
    tx = collection.freezeMetadata(sender=creator)
    assert one_event(tx, "MetadataFrozen") is not None and collection.metadataFrozen()
    with reverts("CollectionMetadataFrozen"):
        collection.setUriPrefix("https://gateway.example/ipfs/", sender=creator)
    with reverts("CollectionMetadataFrozen"):
        collection.freezeMetadata(sender=creator)


# ---------------------------------------------------------------- verified-holder policy


@pytest.fixture
def identity(ape_project, deployer):
    return ape_project.TestIdentityRegistry.deploy(sender=deployer)


@pytest.fixture
def kyc_collection(stack, creator, identity):
    return stack.collection(creator, "kyc", identity=identity, require_verified=True)


def test_only_verified_recipients_may_receive_when_the_policy_is_on(kyc_collection, identity, creator, collector,
                                                                     deployer):
    w = work("kyc")
    assert kyc_collection.identityPolicy() == (identity.address, True)
    with reverts("CollectionRecipientNotVerified", creator):
        kyc_collection.mintEdition(creator, 2, w.content_hash, w.cid_bytes, sender=creator)
    identity.setVerified(creator, True, sender=deployer)
    kyc_collection.mintEdition(creator, 2, w.content_hash, w.cid_bytes, sender=creator)
    with reverts("CollectionRecipientNotVerified", collector):
        kyc_collection.transferFrom(creator, collector, 1, sender=creator)
    with reverts("CollectionRecipientNotVerified", collector):
        kyc_collection.safeTransferFrom(creator, collector, 1, sender=creator)
    identity.setVerified(collector, True, sender=deployer)
    kyc_collection.transferFrom(creator, collector, 1, sender=creator)
    # A holder whose verification lapses may still send, but no longer receive.
    identity.setVerified(creator, False, sender=deployer)
    kyc_collection.transferFrom(creator, collector, 2, sender=creator)
    with reverts("CollectionRecipientNotVerified", creator):
        kyc_collection.transferFrom(collector, creator, 2, sender=collector)
    assert kyc_collection.balanceOf(collector) == 2


def test_the_owner_sets_the_policy_and_it_needs_a_registry(stack, kyc_collection, identity, creator, collector,
                                                            stranger):
    with reverts("CollectionIdentityRegistryMissing"):
        stack.collection(creator, "no-registry", require_verified=True)
    with reverts("CollectionIdentityRegistryMissing"):
        kyc_collection.setIdentityPolicy(ZERO, True, sender=creator)
    with reverts("CollectionNotOwner", stranger):
        kyc_collection.setIdentityPolicy(identity, False, sender=stranger)
    tx = kyc_collection.setIdentityPolicy(identity, False, sender=creator)
    assert dict(one_event(tx, "IdentityPolicyUpdated").event_arguments) == {
        "identityRegistry": identity.address, "requireVerifiedHolders": False}
    w = work("policy-off")
    kyc_collection.mintWork(collector, w.content_hash, w.cid_bytes, sender=creator)
    assert kyc_collection.ownerOf(1) == collector.address


# ---------------------------------------------------------------- registration, then mint


def test_a_creator_binds_an_earlier_registration_to_the_token_once(stack, collection, creator):
    w = work("registered-first")
    tx = stack.registry.register(w.content_hash, w.cid_bytes, sender=creator)
    registered_at = _block_time(tx)
    _travel(500)
    tx = collection.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)
    assert not events(tx, "RightsRegistered")
    bound = one_event(tx, "RightsBound")
    assert (bytes(bound.contentHash), bound.creator, bound.collection, bound.tokenId) == (
        w.content_hash, creator.address, collection.address, 1)
    record = stack.registry.recordOf(w.content_hash)
    assert (record.collection, record.tokenId, record.creator, record.registeredAt) == (
        collection.address, 1, creator.address, registered_at)  # the original claim time is kept
    assert bytes(record.cid) == w.cid_bytes
    with reverts("RightsAlreadyRegistered", w.content_hash, collection.address, 1, creator.address,
                 registered_at, w.cid_bytes):
        collection.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)


def test_binding_needs_the_cid_that_was_registered(stack, collection, creator):
    w = work("cid-changed")
    stack.registry.register(w.content_hash, w.cid_bytes, sender=creator)
    other = cid_to_bytes(DAG_PB_CID)
    with reverts("RightsCidMismatch", w.content_hash, w.cid_bytes, other):
        collection.mintWork(creator, w.content_hash, other, sender=creator)


def test_content_registered_by_someone_else_cannot_be_minted(stack, collection, creator, stranger):
    w = work("someone-elses")
    tx = stack.registry.register(w.content_hash, w.cid_bytes, sender=stranger)
    with reverts("RightsAlreadyRegistered", w.content_hash, ZERO, 0, stranger.address, _block_time(tx),
                 w.cid_bytes):
        collection.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)
    record = stack.registry.recordOf(w.content_hash)
    assert (record.creator, record.collection) == (stranger.address, ZERO)
