"""CreatorCollection: minting works with their rights records, editions, the ERC-721 core, roles,
pause, royalties and ERC-165 (rentals, metadata and the holder policy: test_issuance_features.py)."""

from __future__ import annotations

import ape
import pytest

from chain.cid import cid_to_bytes
from tests.contracts import issuance_support
from tests.contracts.issuance_support import DAG_PB_CID, ZERO, events, one_event, reverts, work

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

# Shared fixtures (defined in issuance_support).
stack = issuance_support.stack

MAX_NEXT_ID = 2**32 - 1


@pytest.fixture
def collection(stack, creator):
    return stack.collection(creator)


def _args(log):
    return dict(log.event_arguments)


def _block_time(tx) -> int:
    return int(ape.chain.blocks[tx.block_number].timestamp)


# ---------------------------------------------------------------- minting works


def test_mint_work_mints_one_token_and_writes_the_rights_record(stack, collection, creator, collector):
    w = work("single")
    tx = collection.mintWork(collector, w.content_hash, w.cid_bytes, sender=creator)

    assert _args(one_event(tx, "Transfer")) == {"from": ZERO, "to": collector.address, "tokenId": 1}
    minted = one_event(tx, "WorkMinted")
    assert (minted.workId, bytes(minted.contentHash), minted.quantity) == (1, w.content_hash, 1)
    registered = one_event(tx, "RightsRegistered")
    assert bytes(registered.contentHash) == w.content_hash
    assert registered.creator == creator.address and registered.collection == collection.address
    assert registered.tokenId == 1 and bytes(registered.cid) == w.cid_bytes
    assert not events(tx, "ConsecutiveTransfer")

    assert collection.ownerOf(1) == collector.address
    assert collection.balanceOf(collector) == 1 and collection.totalSupply() == 1
    assert collection.workOf(1) == (1, w.cid_bytes)
    record = stack.registry.recordOf(w.content_hash)
    assert (record.collection, record.tokenId, record.creator) == (collection.address, 1, creator.address)
    assert record.registeredAt == _block_time(tx) and bytes(record.cid) == w.cid_bytes


@pytest.mark.parametrize("cid", [work("raw-leaves").cid, DAG_PB_CID], ids=["raw-leaves", "dag-pb"])
def test_token_uri_renders_exactly_the_cid_string_given(stack, collection, creator, cid):
    assert cid.startswith(("bafkrei", "bafybei"))
    tx = collection.mintWork(creator, work(cid).content_hash, cid_to_bytes(cid), sender=creator)
    token = one_event(tx, "Transfer").tokenId
    assert collection.tokenURI(token) == f"ipfs://{cid}"
    assert bytes(stack.registry.recordOf(work(cid).content_hash).cid) == cid_to_bytes(cid)


def test_a_minter_mints_and_the_owner_is_recorded_as_creator(stack, collection, creator, operator):
    w = work("by-minter")
    tx = collection.setMinter(operator, True, sender=creator)
    assert _args(one_event(tx, "MinterUpdated")) == {"account": operator.address, "allowed": True}
    assert collection.isMinter(operator)
    collection.mintWork(operator, w.content_hash, w.cid_bytes, sender=operator)
    assert stack.registry.recordOf(w.content_hash).creator == creator.address


def test_only_the_owner_and_minters_may_mint(collection, creator, operator, stranger):
    w = work("roles")
    with reverts("CollectionNotMinter", stranger):
        collection.mintWork(stranger, w.content_hash, w.cid_bytes, sender=stranger)
    with reverts("CollectionNotMinter", stranger):
        collection.mintEdition(stranger, 2, w.content_hash, w.cid_bytes, sender=stranger)
    with reverts("CollectionNotOwner", stranger):
        collection.setMinter(stranger, True, sender=stranger)
    collection.setMinter(operator, True, sender=creator)
    tx = collection.setMinter(operator, False, sender=creator)
    assert _args(one_event(tx, "MinterUpdated")) == {"account": operator.address, "allowed": False}
    with reverts("CollectionNotMinter", operator):
        collection.mintWork(operator, w.content_hash, w.cid_bytes, sender=operator)


def test_ownership_transfer_moves_owner_powers_and_the_creator_of_later_records(stack, collection, creator,
                                                                                 collector, stranger):
    with reverts("CollectionNotOwner", stranger):
        collection.transferOwnership(stranger, sender=stranger)
    with reverts("CollectionInvalidOwner", ZERO):
        collection.transferOwnership(ZERO, sender=creator)
    tx = collection.transferOwnership(collector, sender=creator)
    assert _args(one_event(tx, "OwnershipTransferred")) == {"previousOwner": creator.address,
                                                            "newOwner": collector.address}
    assert collection.owner() == collector.address
    w = work("new-owner")
    with reverts("CollectionNotMinter", creator):
        collection.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)
    collection.mintWork(collector, w.content_hash, w.cid_bytes, sender=collector)
    assert stack.registry.recordOf(w.content_hash).creator == collector.address


@pytest.mark.parametrize("cid", [
    b"",
    bytes.fromhex("1220") + bytes(32),                       # CIDv0 multihash
    bytes.fromhex("01551220") + bytes(31),                   # digest too short
    bytes.fromhex("01551220") + bytes(33),                   # too long
    bytes.fromhex("00551220") + bytes(32),                   # version 0
    bytes.fromhex("01a9021220") + bytes(31),                 # two-byte codec varint (dag-json)
    bytes.fromhex("01551214") + bytes(32),                   # digest length byte is not 32
], ids=["empty", "v0", "short", "long", "version", "varint-codec", "length-byte"])
def test_mint_rejects_cids_that_are_not_compact_cidv1(collection, creator, cid):
    with reverts("CidUnsupported", cid):
        collection.mintWork(creator, work("bad-cid").content_hash, cid, sender=creator)


def test_minting_registered_content_again_reverts_with_the_existing_record(stack, collection, creator, collector):
    w = work("duplicate")
    tx = collection.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)
    expected = (w.content_hash, collection.address, 1, creator.address, _block_time(tx), w.cid_bytes)
    with reverts("RightsAlreadyRegistered", *expected):
        collection.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)
    other = stack.collection(collector, "other")
    with reverts("RightsAlreadyRegistered", *expected):
        other.mintEdition(collector, 3, w.content_hash, w.cid_bytes, sender=collector)
    assert collection.totalSupply() == 1 and other.totalSupply() == 0


def test_mint_reverts_for_a_zero_content_hash_or_recipient(collection, creator):
    w = work("zero")
    with reverts("RightsContentHashZero"):
        collection.mintWork(creator, bytes(32), w.cid_bytes, sender=creator)
    with reverts("ERC721InvalidReceiver", ZERO):
        collection.mintWork(ZERO, w.content_hash, w.cid_bytes, sender=creator)


# ---------------------------------------------------------------- editions


def test_an_edition_mints_consecutive_tokens_announced_by_one_event(stack, collection, creator, collector):
    w = work("edition")
    tx = collection.mintEdition(collector, 40, w.content_hash, w.cid_bytes, sender=creator)
    assert _args(one_event(tx, "ConsecutiveTransfer")) == {
        "fromTokenId": 1, "toTokenId": 40, "fromAddress": ZERO, "toAddress": collector.address}
    assert not events(tx, "Transfer")
    assert one_event(tx, "WorkMinted").quantity == 40
    assert one_event(tx, "RightsRegistered").tokenId == 1  # the record is written once, for the work
    assert collection.balanceOf(collector) == 40 and collection.totalSupply() == 40
    for token in (1, 2, 16, 17, 18, 33, 39, 40):
        assert collection.ownerOf(token) == collector.address
        assert collection.workOf(token) == (1, w.cid_bytes)
        assert collection.tokenURI(token) == f"ipfs://{w.cid}"
    with reverts("ERC721NonexistentToken", 41):
        collection.ownerOf(41)


def test_an_edition_of_one_emits_a_plain_transfer(collection, creator):
    w = work("edition-of-one")
    tx = collection.mintEdition(creator, 1, w.content_hash, w.cid_bytes, sender=creator)
    assert one_event(tx, "Transfer").tokenId == 1 and not events(tx, "ConsecutiveTransfer")


def test_edition_quantity_must_be_positive_and_fit_32_bit_ids(collection, creator):
    w = work("quantity")
    with reverts("CollectionQuantityZero"):
        collection.mintEdition(creator, 0, w.content_hash, w.cid_bytes, sender=creator)
    with reverts("CollectionSupplyExhausted", MAX_NEXT_ID, MAX_NEXT_ID - 1):
        collection.mintEdition(creator, MAX_NEXT_ID, w.content_hash, w.cid_bytes, sender=creator)


def test_transfers_inside_an_edition_keep_every_other_tokens_owner(collection, creator, collector, operator):
    w = work("split")
    collection.mintEdition(creator, 40, w.content_hash, w.cid_bytes, sender=creator)
    collection.transferFrom(creator, collector, 5, sender=creator)    # inside the first chunk
    collection.transferFrom(creator, operator, 16, sender=creator)    # next token is a checkpoint
    collection.transferFrom(creator, collector, 40, sender=creator)   # the last token
    collection.transferFrom(creator, operator, 6, sender=creator)     # right after a moved token
    expected = {t: creator.address for t in range(1, 41)}
    expected.update({5: collector.address, 16: operator.address, 40: collector.address, 6: operator.address})
    assert {t: collection.ownerOf(t) for t in range(1, 41)} == expected
    assert collection.balanceOf(creator) == 36
    assert collection.balanceOf(collector) == 2 and collection.balanceOf(operator) == 2
    assert all(collection.workOf(t) == (1, w.cid_bytes) for t in (5, 6, 7, 16, 17, 40))


def test_ownership_never_bleeds_across_works(collection, creator, collector):
    a, b = work("first-work"), work("second-work")
    collection.mintEdition(creator, 3, a.content_hash, a.cid_bytes, sender=creator)
    collection.mintWork(collector, b.content_hash, b.cid_bytes, sender=creator)
    collection.transferFrom(creator, collector, 3, sender=creator)
    assert [collection.ownerOf(t) for t in (1, 2, 3, 4)] == [creator.address] * 2 + [collector.address] * 2
    assert collection.workOf(3) == (1, a.cid_bytes) and collection.workOf(4) == (4, b.cid_bytes)
    assert collection.tokenURI(4) == f"ipfs://{b.cid}"


# ---------------------------------------------------------------- ERC-721 core


@pytest.fixture
def minted(collection, creator):
    w = work("core")
    collection.mintEdition(creator, 3, w.content_hash, w.cid_bytes, sender=creator)
    return collection


def test_an_approved_address_may_transfer_once(minted, creator, collector, operator):
    tx = minted.approve(operator, 2, sender=creator)
    assert _args(one_event(tx, "Approval")) == {"owner": creator.address, "approved": operator.address,
                                                "tokenId": 2}
    assert minted.getApproved(2) == operator.address
    tx = minted.transferFrom(creator, collector, 2, sender=operator)
    assert _args(one_event(tx, "Transfer")) == {"from": creator.address, "to": collector.address, "tokenId": 2}
    assert minted.getApproved(2) == ZERO and minted.ownerOf(2) == collector.address
    with reverts("ERC721IncorrectOwner", creator, 2, collector):
        minted.transferFrom(creator, operator, 2, sender=operator)
    with reverts("ERC721InsufficientApproval", operator, 2):
        minted.transferFrom(collector, operator, 2, sender=operator)


def test_an_operator_may_transfer_and_approve_every_token(minted, creator, collector, operator):
    tx = minted.setApprovalForAll(operator, True, sender=creator)
    assert _args(one_event(tx, "ApprovalForAll")) == {"owner": creator.address, "operator": operator.address,
                                                      "approved": True}
    assert minted.isApprovedForAll(creator, operator)
    minted.approve(collector, 3, sender=operator)
    assert minted.getApproved(3) == collector.address
    minted.safeTransferFrom(creator, collector, 1, sender=operator)
    assert minted.ownerOf(1) == collector.address
    minted.setApprovalForAll(operator, False, sender=creator)
    with reverts("ERC721InsufficientApproval", operator, 2):
        minted.transferFrom(creator, collector, 2, sender=operator)


def test_core_erc721_errors(minted, creator, collector, stranger):
    with reverts("ERC721InsufficientApproval", stranger, 1):
        minted.transferFrom(creator, stranger, 1, sender=stranger)
    with reverts("ERC721InvalidReceiver", ZERO):
        minted.transferFrom(creator, ZERO, 1, sender=creator)
    with reverts("ERC721InvalidApprover", stranger):
        minted.approve(stranger, 1, sender=stranger)
    with reverts("ERC721InvalidOperator", ZERO):
        minted.setApprovalForAll(ZERO, True, sender=creator)
    with reverts("ERC721InvalidOwner", ZERO):
        minted.balanceOf(ZERO)
    for missing in (0, 4):
        with reverts("ERC721NonexistentToken", missing):
            minted.ownerOf(missing)
        with reverts("ERC721NonexistentToken", missing):
            minted.tokenURI(missing)
        with reverts("ERC721NonexistentToken", missing):
            minted.getApproved(missing)
        with reverts("ERC721NonexistentToken", missing):
            minted.transferFrom(creator, collector, missing, sender=creator)


def test_a_self_transfer_keeps_the_balance(minted, creator):
    minted.transferFrom(creator, creator, 2, sender=creator)
    assert minted.ownerOf(2) == creator.address and minted.balanceOf(creator) == 3


# ---------------------------------------------------------------- receivers (attack tests)


@pytest.fixture
def receiver(ape_project, deployer):
    return ape_project.TestERC721Receiver.deploy(sender=deployer)


def _mode(receiver, name):
    return ["Accept", "ReturnWrongValue", "RevertWithError", "RevertEmpty", "ReenterTransfer",
            "ReenterMint"].index(name)


def test_safe_transfer_to_an_accepting_contract(minted, creator, receiver):
    minted.safeTransferFrom(creator, receiver, 2, b"hello", sender=creator)
    assert minted.ownerOf(2) == receiver.address and receiver.receivedCount() == 1


@pytest.mark.parametrize("mode", ["ReturnWrongValue", "RevertEmpty"])
def test_safe_transfer_to_a_refusing_contract_reverts(minted, creator, receiver, mode):
    receiver.configure(_mode(receiver, mode), ZERO, bytes(32), b"", sender=creator)
    with reverts("ERC721InvalidReceiver", receiver):
        minted.safeTransferFrom(creator, receiver, 2, sender=creator)
    assert minted.ownerOf(2) == creator.address


def test_a_receivers_own_error_bubbles_up(minted, creator, receiver):
    receiver.configure(_mode(receiver, "RevertWithError"), ZERO, bytes(32), b"", sender=creator)
    with reverts("TestReceiverRejected", 2):
        minted.safeTransferFrom(creator, receiver, 2, sender=creator)


def test_safe_transfer_to_a_contract_without_the_hook_reverts(stack, minted, creator):
    with reverts("ERC721InvalidReceiver", stack.registry):
        minted.safeTransferFrom(creator, stack.registry, 1, sender=creator)


def test_a_plain_transfer_does_not_ask_the_recipient(minted, creator, receiver):
    receiver.configure(_mode(receiver, "RevertEmpty"), ZERO, bytes(32), b"", sender=creator)
    minted.transferFrom(creator, receiver, 1, sender=creator)
    assert minted.ownerOf(1) == receiver.address


def test_a_refused_mint_leaves_no_token_and_no_record(stack, collection, creator, receiver):
    receiver.configure(_mode(receiver, "ReturnWrongValue"), ZERO, bytes(32), b"", sender=creator)
    w = work("refused")
    with reverts("ERC721InvalidReceiver", receiver):
        collection.mintEdition(receiver, 3, w.content_hash, w.cid_bytes, sender=creator)
    assert collection.totalSupply() == 0 and not stack.registry.isRegistered(w.content_hash)


def test_a_receiver_forwarding_the_token_while_receiving_leaves_consistent_state(minted, creator, collector,
                                                                                 receiver):
    receiver.configure(_mode(receiver, "ReenterTransfer"), collector, bytes(32), b"", sender=creator)
    tx = minted.safeTransferFrom(creator, receiver, 2, sender=creator)
    transfers = [(e.event_arguments["from"], e.event_arguments["to"]) for e in events(tx, "Transfer")]
    assert transfers == [(creator.address, receiver.address), (receiver.address, collector.address)]
    # The state was complete when the hook ran: the receiver already owned the token.
    assert one_event(tx, "Received").ownerAtReceipt == receiver.address
    assert minted.ownerOf(2) == collector.address
    assert [minted.balanceOf(a) for a in (creator, receiver, collector)] == [2, 0, 1]


def test_a_minting_receiver_reentering_an_edition_mint_gets_fresh_ids(stack, collection, creator, receiver):
    outer, inner = work("outer"), work("inner")
    collection.setMinter(receiver, True, sender=creator)
    receiver.configure(_mode(receiver, "ReenterMint"), ZERO, inner.content_hash, inner.cid_bytes, sender=creator)
    collection.mintEdition(receiver, 3, outer.content_hash, outer.cid_bytes, sender=creator)
    assert [receiver.received(i) for i in range(4)] == [1, 4, 2, 3]
    assert collection.totalSupply() == 4 and collection.balanceOf(receiver) == 4
    assert [collection.workOf(t)[0] for t in (1, 2, 3, 4)] == [1, 1, 1, 4]
    assert stack.registry.recordOf(outer.content_hash).tokenId == 1
    assert stack.registry.recordOf(inner.content_hash).tokenId == 4


def test_a_reentrant_mint_of_the_same_content_cannot_register_it_twice(stack, collection, creator, receiver):
    w = work("same-content")
    collection.setMinter(receiver, True, sender=creator)
    receiver.configure(_mode(receiver, "ReenterMint"), ZERO, w.content_hash, w.cid_bytes, sender=creator)
    # The record is written before the hook runs, so the nested mint finds it and everything reverts.
    with reverts("RightsAlreadyRegistered"):
        collection.mintWork(receiver, w.content_hash, w.cid_bytes, sender=creator)
    assert collection.totalSupply() == 0 and not stack.registry.isRegistered(w.content_hash)


# ---------------------------------------------------------------- pause, royalties, ERC-165


def test_pause_stops_minting_and_transfers_until_lifted(minted, creator, collector, stranger):
    w = work("paused")
    with reverts("CollectionNotOwner", stranger):
        minted.pause(sender=stranger)
    with reverts("CollectionNotPaused"):
        minted.unpause(sender=creator)
    tx = minted.pause(sender=creator)
    assert one_event(tx, "Paused").account == creator.address and minted.paused()
    with reverts("CollectionPaused"):
        minted.pause(sender=creator)
    with reverts("CollectionPaused"):
        minted.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)
    with reverts("CollectionPaused"):
        minted.transferFrom(creator, collector, 1, sender=creator)
    with reverts("CollectionPaused"):
        minted.safeTransferFrom(creator, collector, 1, sender=creator)
    minted.approve(collector, 1, sender=creator)  # approvals are not transfers: allowed
    with reverts("CollectionNotOwner", stranger):
        minted.unpause(sender=stranger)
    tx = minted.unpause(sender=creator)
    assert one_event(tx, "Unpaused").account == creator.address and not minted.paused()
    minted.transferFrom(creator, collector, 1, sender=collector)
    minted.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)


def test_royalty_info_follows_the_default_royalty(collection, creator, collector, stranger):
    assert collection.royaltyInfo(1, 10_000) == (creator.address, 500)
    tx = collection.setDefaultRoyalty(collector, 750, sender=creator)
    assert _args(one_event(tx, "DefaultRoyaltyUpdated")) == {"receiver": collector.address, "bps": 750}
    assert collection.royaltyInfo(7, 2_000_000) == (collector.address, 150_000)
    with reverts("CollectionNotOwner", stranger):
        collection.setDefaultRoyalty(stranger, 1, sender=stranger)
    with reverts("ERC2981InvalidDefaultRoyalty", 10_001, 10_000):
        collection.setDefaultRoyalty(collector, 10_001, sender=creator)
    with reverts("ERC2981InvalidDefaultRoyaltyReceiver", ZERO):
        collection.setDefaultRoyalty(ZERO, 100, sender=creator)


@pytest.mark.parametrize(("interface_id", "supported"), [
    ("01ffc9a7", True),   # ERC-165
    ("80ac58cd", True),   # ERC-721
    ("5b5e139f", True),   # ERC-721 metadata
    ("2a55205a", True),   # ERC-2981
    ("49064906", True),   # ERC-4906
    ("ad092b5c", True),   # ERC-4907
    ("780e9d63", False),  # ERC-721 enumerable
    ("d9b67a26", False),  # ERC-1155
    ("ffffffff", False),  # never
])
def test_erc165_answers(collection, interface_id, supported):
    assert collection.supportsInterface(bytes.fromhex(interface_id)) is supported


def test_name_and_symbol(collection):
    assert (collection.name(), collection.symbol()) == ("Works", "WRK")
