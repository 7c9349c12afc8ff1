"""Bridge contracts on one chain: lock, delivery (mint), burn and return (unlock) with the rights carried
unchanged; every custom error, role check and event; the attacks an auditor tries (replay, another
destination or deployment, too few signatures, a signer counted twice, forged and malleable signatures,
a removed validator, delivery while paused, look-alike source, custody not taken, re-entrancy).
The rate limits have their own file (test_bridge_rate_limits.py)."""

from __future__ import annotations

from dataclasses import replace

import ape
import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from bridge.message import SECP256K1_N, BridgeMessage, sign_digest, transfer_id, wrapped_id
from chain.devaccounts import dev_account
from tests.contracts import bridge_support, issuance_support
from tests.contracts.bridge_support import (
    LIMITS,
    ZERO,
    ZERO32,
    deliver,
    lock,
    mint_token,
    reverts,
    rights_of,
    sign,
    validators,
)
from tests.contracts.issuance_support import one_event, work

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

stack = issuance_support.stack
bridge = bridge_support.bridge

ADMIN_ROLE = b"\x00" * 32
GUARDIAN_ROLE = keccak(text="GUARDIAN_ROLE")


@pytest.fixture
def collection(stack, creator, operator):
    return stack.collection(creator, royalty_receiver=operator, bps=750)


@pytest.fixture
def locked(bridge, collection, creator, collector):
    """A token of `collector` locked for `collector` on the remote side: (token id, work, lock tx, message)."""
    token_id, w = mint_token(bridge, collection, creator, collector, "locked")
    collection.setApprovalForAll(bridge.lockbox, True, sender=collector)
    tx = lock(bridge, collection, token_id, w, collector)
    return token_id, w, tx, bridge.message_from_lock(tx)


@pytest.fixture
def arrived(bridge, locked, deployer):
    """`locked`, delivered: the collector holds the wrapped token. (token id, work, wrapped id, message)."""
    token_id, w, _, message = locked
    deliver(bridge.remote, message, deployer)
    return token_id, w, wrapped_id(message.collection, token_id), message


def _provenance(previous: bytes, chain_id: int, collection: str, token_id: int, sender: str, block: int) -> bytes:
    """A remote departure's provenance step (IHomeLockbox)."""
    return keccak(abi_encode(["bytes32", "uint256", "address", "uint256", "address", "uint256"],
                             [previous, chain_id, collection, token_id, sender, block]))


def _home_provenance(bridge, previous: bytes, collection: str, token_id: int, sender: str, tx, w) -> bytes:
    """A home lock's provenance step (IHomeLockbox), recomputed from the chain: the parent block's hash
    and the rights record's identifying fields are folded in."""
    record = bridge.stack.registry.recordOf(w.content_hash)
    parent = bytes(ape.chain.provider.web3.eth.get_block(tx.block_number - 1)["hash"])
    home = keccak(abi_encode(["bytes32", "bytes32", "address", "uint256", "uint64"],
                             [parent, w.content_hash, record.creator, record.tokenId, record.registeredAt]))
    return keccak(abi_encode(["bytes32", "uint256", "address", "uint256", "address", "uint256", "bytes32"],
                             [previous, bridge.chain_id, collection, token_id, sender, tx.block_number, home]))


# ---------------------------------------------------------------- the round trip


def test_lock_takes_custody_verifies_the_rights_and_announces_them(bridge, collection, creator, collector,
                                                                   operator, stranger):
    token_id, w = mint_token(bridge, collection, creator, collector, "lock")
    collection.setApprovalForAll(bridge.lockbox, True, sender=collector)
    tx = lock(bridge, collection, token_id, w, collector, recipient=stranger)

    ev = one_event(tx, "TokenLocked")
    assert ev.transferId == transfer_id(bridge.chain_id, bridge.lockbox.address, 1)
    assert (ev.collection, ev.tokenId, ev.sender, ev.recipient, ev.destChainId) == (
        collection.address, token_id, collector.address, stranger.address, bridge.chain_id)
    rights = rights_of(ev.rights)
    assert rights.token_uri == collection.tokenURI(token_id) == f"ipfs://{w.cid}"
    assert rights.cid == w.cid_bytes and rights.content_hash == w.content_hash
    assert (rights.royalty_receiver, rights.royalty_bps) == (operator.address, 750)
    assert rights.license_terms_hash == ZERO32
    assert rights.provenance_hash == _home_provenance(bridge, ZERO32, collection.address, token_id,
                                                      collector.address, tx, w)
    # The event comes after the transfer: the lockbox holds the token when it announces it.
    names = [log.event_name for log in tx.events]
    assert names.index("Transfer") < names.index("TokenLocked")
    assert collection.ownerOf(token_id) == bridge.lockbox.address
    assert bridge.lockbox.isLocked(collection, token_id)
    assert bytes(bridge.lockbox.provenanceOf(collection, token_id)) == rights.provenance_hash
    assert bridge.lockbox.departures() == 1 and bridge.lockbox.outstanding() == 1


def test_the_contract_digest_is_the_relayer_digest(bridge, locked):
    *_, message = locked
    assert bytes(bridge.remote.hashMessage(message.as_tuple())) == message.digest()
    returning = replace(message, source_bridge=bridge.remote.address, dest_bridge=bridge.lockbox.address)
    assert bytes(bridge.lockbox.hashMessage(returning.as_tuple())) == returning.digest()
    # The domain is the destination endpoint: the same message hashes differently elsewhere.
    assert bytes(bridge.lockbox.hashMessage(message.as_tuple())) != message.digest()


def test_delivery_mints_a_wrapped_token_that_answers_like_the_home_token(bridge, collection, locked, deployer,
                                                                         collector, operator):
    token_id, w, _, message = locked
    tx = deliver(bridge.remote, message, deployer)

    wid = wrapped_id(collection.address, token_id)
    ev = one_event(tx, "TokenMinted")
    assert (ev.transferId, ev.collection, ev.tokenId, ev.wrappedTokenId, ev.recipient) == (
        message.transfer_id, collection.address, token_id, wid, collector.address)
    assert dict(one_event(tx, "Transfer").event_arguments) == {"from": ZERO, "to": collector.address,
                                                               "tokenId": wid}
    wrapped = bridge.wrapped
    assert wrapped.ownerOf(wid) == collector.address and wrapped.balanceOf(collector) == 1
    assert wrapped.tokenURI(wid) == collection.tokenURI(token_id)
    for price in (10_000, 1_234_567, 10**18):
        assert tuple(wrapped.royaltyInfo(wid, price)) == tuple(collection.royaltyInfo(token_id, price))
    assert bytes(wrapped.contentHashOf(wid)) == w.content_hash
    assert bytes(wrapped.cidOf(wid)) == w.cid_bytes
    assert bytes(wrapped.licenseTermsHashOf(wid)) == ZERO32
    assert bytes(wrapped.provenanceHashOf(wid)) == message.rights.provenance_hash
    assert rights_of(wrapped.rightsOf(wid)) == message.rights
    assert tuple(wrapped.homeTokenOf(wid)) == (collection.address, token_id)
    assert bridge.remote.processed(message.transfer_id)
    assert bridge.remote.outstanding() == 1
    assert (wrapped.royaltyInfo(wid + 1, 10_000)) == (ZERO, 0)


def test_burn_and_return_release_the_token_with_its_rights_unchanged(bridge, collection, arrived, deployer,
                                                                     collector, stranger):
    token_id, w, wid, arrival = arrived
    wrapped, lockbox = bridge.wrapped, bridge.lockbox
    uri, royalty = collection.tokenURI(token_id), tuple(collection.royaltyInfo(token_id, 10_000))
    wrapped.transferFrom(collector, stranger, wid, sender=collector)

    burn = bridge.remote.burnToHome(wid, collector, sender=stranger)
    ev = one_event(burn, "TokenBurned")
    assert ev.transferId == transfer_id(bridge.chain_id, bridge.remote.address, 1)
    assert (ev.collection, ev.tokenId, ev.sender, ev.recipient, ev.destChainId, ev.wrappedTokenId) == (
        collection.address, token_id, stranger.address, collector.address, bridge.chain_id, wid)
    back = rights_of(ev.rights)
    assert back.same_except_provenance(arrival.rights)
    assert back.provenance_hash == _provenance(arrival.rights.provenance_hash, bridge.chain_id,
                                               collection.address, token_id, stranger.address, burn.block_number)
    assert dict(one_event(burn, "Transfer").event_arguments) == {"from": stranger.address, "to": ZERO,
                                                                 "tokenId": wid}
    with reverts("ERC721NonexistentToken", wid):
        wrapped.ownerOf(wid)
    assert bridge.remote.outstanding() == 0 and wrapped.balanceOf(stranger) == 0

    ret = bridge.message_from_burn(burn)
    tx = deliver(lockbox, ret, deployer)
    unlocked = one_event(tx, "TokenUnlocked")
    assert (unlocked.transferId, unlocked.collection, unlocked.tokenId, unlocked.recipient,
            bytes(unlocked.provenanceHash)) == (ret.transfer_id, collection.address, token_id, collector.address,
                                                back.provenance_hash)
    assert collection.ownerOf(token_id) == collector.address
    assert not lockbox.isLocked(collection, token_id) and lockbox.outstanding() == 0
    assert bytes(lockbox.provenanceOf(collection, token_id)) == back.provenance_hash
    assert collection.tokenURI(token_id) == uri and tuple(collection.royaltyInfo(token_id, 10_000)) == royalty

    # The next trip extends the history rather than restarting it.
    again = lock(bridge, collection, token_id, w, collector)
    assert rights_of(one_event(again, "TokenLocked").rights).provenance_hash == _home_provenance(
        bridge, back.provenance_hash, collection.address, token_id, collector.address, again, w)


def test_the_provenance_commits_to_the_home_history_before_the_lock(bridge, collection, creator, collector,
                                                                     stranger):
    """Two histories of one token that end in the same lock (same block number, locker, token and
    record) get different provenance hashes: the lock commits to the home state before it."""
    token_id, w = mint_token(bridge, collection, creator, collector, "history")
    collection.setApprovalForAll(bridge.lockbox, True, sender=collector)
    snapshot = ape.chain.snapshot()
    # History A: the token is sold away and bought back before the lock.
    collection.transferFrom(collector, stranger, token_id, sender=collector)
    collection.transferFrom(stranger, collector, token_id, sender=stranger)
    a = lock(bridge, collection, token_id, w, collector)
    expected_a = _home_provenance(bridge, ZERO32, collection.address, token_id, collector.address, a, w)
    ape.chain.restore(snapshot)
    # History B: two transactions that leave the token alone.
    stranger.transfer(creator, 1)
    stranger.transfer(creator, 2)
    b = lock(bridge, collection, token_id, w, collector)
    assert a.block_number == b.block_number
    ra, rb = rights_of(one_event(a, "TokenLocked").rights), rights_of(one_event(b, "TokenLocked").rights)
    assert ra.same_except_provenance(rb)
    assert ra.provenance_hash != rb.provenance_hash
    assert ra.provenance_hash == expected_a
    assert rb.provenance_hash == _home_provenance(bridge, ZERO32, collection.address, token_id,
                                                  collector.address, b, w)


def test_a_splitter_receiver_travels_as_its_split_and_the_remote_split_pays_the_same_recipients(
        bridge, stack, creator, collector, operator, stranger, deployer):
    factory = bridge.splitter_factory
    recipients = sorted((operator.address, stranger.address), key=lambda a: int(a, 16))
    bps = [4_000, 6_000]
    home_salt = keccak(text="home split")
    factory.createSplitter(recipients, bps, home_salt, sender=creator)
    home_splitter = factory.predictSplitterAddress(recipients, bps, home_salt)
    collection = stack.collection(creator, "split", royalty_receiver=home_splitter, bps=1_000)
    collection.setApprovalForAll(bridge.lockbox, True, sender=collector)

    token_id, w = mint_token(bridge, collection, creator, collector, "split-1")
    message = bridge.message_from_lock(lock(bridge, collection, token_id, w, collector))
    assert (message.rights.royalty_receiver, message.rights.royalty_bps) == (home_splitter, 1_000)
    assert (list(message.rights.split_recipients), list(message.rights.split_bps)) == (recipients, bps)
    first = deliver(bridge.remote, message, deployer)
    remote_splitter = factory.predictSplitterAddress(recipients, bps, ZERO32)
    assert remote_splitter != home_splitter
    assert [e.splitter for e in first.decode_logs(factory.SplitterCreated)] == [remote_splitter]
    wid = bridge.wrapped_id(collection, token_id)
    assert tuple(bridge.wrapped.royaltyInfo(wid, 10_000)) == (remote_splitter, 1_000)
    assert bridge.wrapped.royaltySplitterOf(wid) == remote_splitter
    splitter = bridge.project.RoyaltySplitter.at(remote_splitter)
    assert [list(x) for x in splitter.recipients()] == [recipients, bps]

    # A royalty paid to the remote split is withdrawable by the home split's recipients, by their shares.
    deployer.transfer(remote_splitter, 10**18)
    for account, share in zip(recipients, bps, strict=True):
        assert splitter.withdrawable(ZERO, account) == 10**18 * share // 10_000
    before = operator.balance
    tx = splitter.withdraw(ZERO, sender=operator)
    share = bps[recipients.index(operator.address)]
    assert operator.balance == before + 10**18 * share // 10_000 - tx.total_fees_paid

    # A second token with the same split reuses the remote splitter.
    token_2, w2 = mint_token(bridge, collection, creator, collector, "split-2")
    again = deliver(bridge.remote, bridge.message_from_lock(lock(bridge, collection, token_2, w2, collector)),
                    deployer)
    assert list(again.decode_logs(factory.SplitterCreated)) == []
    assert tuple(bridge.wrapped.royaltyInfo(bridge.wrapped_id(collection, token_2), 100)) == (remote_splitter, 10)
    print(f"bridge_deliver with a split: first (creates the splitter) {first.gas_used}, reused {again.gas_used}")

    # The split goes home with the token and matches the lockbox's custody record.
    burn = bridge.remote.burnToHome(wid, collector, sender=collector)
    back = bridge.message_from_burn(burn)
    assert back.rights.same_except_provenance(message.rights)
    deliver(bridge.lockbox, back, deployer)
    assert collection.ownerOf(token_id) == collector.address


def test_a_split_delivery_waits_until_the_remote_splitter_factory_is_set(bridge, stack, creator, collector,
                                                                         operator, stranger, deployer):
    """No token is minted whose royalties would go to an address with no code on this chain: the delivery
    reverts (nothing recorded, so the relayer retries) until the admin sets the factory."""
    factory = bridge.splitter_factory
    recipients = sorted((operator.address, stranger.address), key=lambda a: int(a, 16))
    bps = [2_500, 7_500]
    salt = keccak(text="factory unset")
    factory.createSplitter(recipients, bps, salt, sender=creator)
    collection = stack.collection(creator, "factory-unset",
                                  royalty_receiver=factory.predictSplitterAddress(recipients, bps, salt), bps=500)
    collection.setApprovalForAll(bridge.lockbox, True, sender=collector)
    token_id, w = mint_token(bridge, collection, creator, collector, "factory-unset")
    message = bridge.message_from_lock(lock(bridge, collection, token_id, w, collector))
    bridge.remote.setSplitterFactory(ZERO, sender=deployer)
    try:
        with reverts("RemoteSplitterFactoryNotSet"):
            deliver(bridge.remote, message, deployer)
        assert not bridge.remote.processed(message.transfer_id)
    finally:
        bridge.remote.setSplitterFactory(factory.address, sender=deployer)
    deliver(bridge.remote, message, deployer)
    assert bridge.remote.processed(message.transfer_id)
    wid = bridge.wrapped_id(collection, token_id)
    assert bridge.wrapped.royaltySplitterOf(wid) == factory.predictSplitterAddress(recipients, bps, ZERO32)


def test_a_receiver_that_is_not_a_splitter_clone_travels_without_a_split(bridge, stack, creator, collector,
                                                                        deployer):
    """Code that merely answers like a splitter (here the implementation itself) is not trusted."""
    impl = bridge.splitter_factory.implementation()
    collection = stack.collection(creator, "not-a-clone", royalty_receiver=impl, bps=500)
    collection.setApprovalForAll(bridge.lockbox, True, sender=collector)
    token_id, w = mint_token(bridge, collection, creator, collector, "not-a-clone")
    message = bridge.message_from_lock(lock(bridge, collection, token_id, w, collector))
    assert (message.rights.split_recipients, message.rights.split_bps) == ((), ())
    deliver(bridge.remote, message, deployer)
    wid = bridge.wrapped_id(collection, token_id)
    assert tuple(bridge.wrapped.royaltyInfo(wid, 10_000)) == (impl, 500)
    assert bridge.wrapped.royaltySplitterOf(wid) == ZERO


def test_the_same_token_comes_back_under_the_same_wrapped_id(bridge, collection, arrived, deployer, collector):
    token_id, w, wid, _ = arrived
    ret = bridge.message_from_burn(bridge.remote.burnToHome(wid, collector, sender=collector))
    deliver(bridge.lockbox, ret, deployer)
    second = bridge.message_from_lock(lock(bridge, collection, token_id, w, collector))
    deliver(bridge.remote, second, deployer)
    assert bridge.wrapped.ownerOf(wid) == collector.address
    assert bytes(bridge.wrapped.provenanceHashOf(wid)) == second.rights.provenance_hash


def test_a_gateway_uri_prefix_travels_and_comes_back(bridge, collection, creator, collector, deployer):
    collection.setUriPrefix("https://gateway.example/ipfs/", sender=creator)
    token_id, w = mint_token(bridge, collection, creator, collector, "gateway")
    collection.setApprovalForAll(bridge.lockbox, True, sender=collector)
    message = bridge.message_from_lock(lock(bridge, collection, token_id, w, collector))
    assert message.rights.token_uri == f"https://gateway.example/ipfs/{w.cid}"
    deliver(bridge.remote, message, deployer)
    wid = wrapped_id(collection.address, token_id)
    assert bridge.wrapped.tokenURI(wid) == collection.tokenURI(token_id)
    ret = bridge.message_from_burn(bridge.remote.burnToHome(wid, collector, sender=collector))
    assert ret.rights.token_uri == message.rights.token_uri
    deliver(bridge.lockbox, ret, deployer)
    assert collection.ownerOf(token_id) == collector.address


def test_license_terms_are_hashed_when_licensing_is_set(bridge, collection, creator, collector, deployer,
                                                       ape_project):
    licensing = ape_project.TestBridgeLicensing.deploy(sender=deployer)
    tx = bridge.lockbox.setLicensing(licensing, sender=deployer)
    assert dict(one_event(tx, "LicensingUpdated").event_arguments) == {"licensing": licensing.address}
    assert bridge.lockbox.licensing() == licensing.address
    token_id, w = mint_token(bridge, collection, creator, collector, "licensed")
    terms = [keccak(text="cc-by-4.0"), keccak(text="commercial")]
    licensing.setTerms(collection, token_id, terms, sender=creator)
    expected = keccak(abi_encode(["bytes32[]"], [terms]))
    assert bytes(bridge.lockbox.licenseTermsHashOf(collection, token_id)) == expected
    other, _ = mint_token(bridge, collection, creator, collector, "no-terms")
    assert bytes(bridge.lockbox.licenseTermsHashOf(collection, other)) == ZERO32  # none attached

    collection.setApprovalForAll(bridge.lockbox, True, sender=collector)
    message = bridge.message_from_lock(lock(bridge, collection, token_id, w, collector))
    assert message.rights.license_terms_hash == expected
    deliver(bridge.remote, message, deployer)
    wid = wrapped_id(collection.address, token_id)
    assert bytes(bridge.wrapped.licenseTermsHashOf(wid)) == expected
    ret = bridge.message_from_burn(bridge.remote.burnToHome(wid, collector, sender=collector))
    assert ret.rights.license_terms_hash == expected
    deliver(bridge.lockbox, ret, deployer)


def test_more_signatures_than_the_threshold_are_accepted_when_all_are_valid(bridge, locked, deployer):
    *_, message = locked
    deliver(bridge.remote, message, deployer, signers=validators())
    assert bridge.remote.processed(message.transfer_id)


# ---------------------------------------------------------------- attacks on delivery


def test_a_delivered_message_cannot_be_replayed(bridge, arrived, deployer, stranger):
    *_, message = arrived
    with reverts("BridgeAlreadyProcessed", message.transfer_id):
        deliver(bridge.remote, message, stranger)


def test_a_message_for_another_destination_chain_is_refused(bridge, locked, deployer):
    *_, message = locked
    other = replace(message, dest_chain_id=message.dest_chain_id + 1)
    with reverts("BridgeWrongDestination", other.dest_chain_id, bridge.remote.address):
        deliver(bridge.remote, other, deployer)


def test_a_message_for_another_bridge_deployment_is_refused(bridge, locked, deployer, ape_project):
    *_, message = locked
    vals = [v.address for v in validators()]
    twin_wrapped = ape_project.WrappedCollection.deploy("Twin", "TWN", deployer, sender=deployer)
    twin = ape_project.RemoteBridge.deploy(twin_wrapped, deployer, vals, 2, *LIMITS, sender=deployer)
    twin_wrapped.setBridge(twin, sender=deployer)
    twin.setPeer(bridge.chain_id, bridge.lockbox, sender=deployer)
    # Signed for the real remote bridge, submitted to the twin: refused by address ...
    with reverts("BridgeWrongDestination", message.dest_chain_id, bridge.remote.address):
        twin.deliver(message.as_tuple(), sign(message), sender=deployer)
    # ... and with the destination rewritten, the signatures no longer recover to validators (domain).
    rewritten = replace(message, dest_bridge=twin.address)
    digest = rewritten.digest()
    assert digest != message.digest()
    with reverts("BridgeSignerNotValidator"):
        twin.deliver(rewritten.as_tuple(), sign(message), sender=deployer)
    assert not twin.processed(message.transfer_id)


def test_a_message_from_a_source_other_than_the_peer_is_refused(bridge, locked, deployer, stranger):
    *_, message = locked
    lookalike = replace(message, source_bridge=stranger.address)
    with reverts("BridgeWrongSource", lookalike.source_chain_id, stranger.address):
        deliver(bridge.remote, lookalike, deployer)  # even with valid validator signatures
    elsewhere = replace(message, source_chain_id=message.source_chain_id + 1)
    with reverts("BridgeWrongSource", elsewhere.source_chain_id, message.source_bridge):
        deliver(bridge.remote, elsewhere, deployer)


def test_a_transfer_id_that_does_not_encode_the_source_is_refused(bridge, locked, deployer):
    *_, message = locked
    bad = replace(message, transfer_id=transfer_id(bridge.chain_id, bridge.remote.address, 7))
    with reverts("BridgeTransferIdInvalid", bad.transfer_id):
        deliver(bridge.remote, bad, deployer)


def test_m_minus_one_signatures_are_not_enough(bridge, locked, deployer):
    *_, message = locked
    with reverts("BridgeThresholdNotMet", 1, 2):
        deliver(bridge.remote, message, deployer, signers=validators()[:1])
    with reverts("BridgeThresholdNotMet", 0, 2):
        bridge.remote.deliver(message.as_tuple(), [], sender=deployer)


def test_one_signer_counted_twice_is_refused(bridge, locked, deployer):
    *_, message = locked
    v = validators()[0]
    with reverts("BridgeSignersNotAscending", 1, v.address, v.address):
        deliver(bridge.remote, message, deployer, signers=[v, v])


def test_signatures_out_of_order_are_refused(bridge, locked, deployer):
    *_, message = locked
    low, high = validators()[:2]
    with reverts("BridgeSignersNotAscending", 1, high.address, low.address):
        deliver(bridge.remote, message, deployer, signers=[high, low])


def test_a_forged_signature_is_refused(bridge, locked, deployer, stranger):
    *_, message = locked
    forger = dev_account(9)  # the stranger's key: not a validator
    signers = sorted([validators()[0], forger], key=lambda a: int(a.address, 16))
    index = signers.index(forger)
    with reverts("BridgeSignerNotValidator", index, forger.address):
        deliver(bridge.remote, message, deployer, signers=signers)
    # Signatures over a tampered message recover to unrelated addresses.
    tampered = replace(message, recipient=stranger.address)
    with reverts("BridgeSignerNotValidator"):
        bridge.remote.deliver(tampered.as_tuple(), sign(message), sender=deployer)


def test_a_malleable_signature_is_refused(bridge, locked, deployer):
    *_, message = locked
    sigs = sign(message)
    r, s, v = sigs[1][:32], int.from_bytes(sigs[1][32:64], "big"), sigs[1][64]
    flipped = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # same signer, high s
    with reverts("BridgeSignatureInvalid", 1):
        bridge.remote.deliver(message.as_tuple(), [sigs[0], flipped], sender=deployer)
    with reverts("BridgeSignatureInvalid", 0):
        bridge.remote.deliver(message.as_tuple(), [sigs[0][:64], sigs[1]], sender=deployer)  # 64 bytes
    with reverts("BridgeSignatureInvalid", 0):
        bridge.remote.deliver(message.as_tuple(), [sigs[0][:64] + b"\x05", sigs[1]], sender=deployer)  # bad v


def test_a_removed_validator_no_longer_counts(bridge, locked, deployer):
    *_, message = locked
    vals = validators()
    removed = vals[2]
    newcomer = dev_account(13)
    new_set = sorted([vals[0].address, vals[1].address, newcomer.address], key=lambda a: int(a, 16))
    tx = bridge.remote.setValidators(new_set, 2, sender=deployer)
    ev = one_event(tx, "ValidatorSetUpdated")
    assert list(ev.validators) == new_set and ev.threshold == 2
    assert not bridge.remote.isValidator(removed.address) and bridge.remote.isValidator(newcomer.address)
    assert list(bridge.remote.validatorSet()[0]) == new_set
    signers = sorted([vals[0], removed], key=lambda a: int(a.address, 16))
    with reverts("BridgeSignerNotValidator", signers.index(removed), removed.address):
        deliver(bridge.remote, message, deployer, signers=signers)
    deliver(bridge.remote, message, deployer, signers=sorted([vals[0], newcomer], key=lambda a: int(a.address, 16)))


def test_delivery_lock_and_burn_are_refused_while_paused(bridge, collection, arrived, creator, collector,
                                                        deployer, operator):
    _, _, wid, _ = arrived
    other_id, other = mint_token(bridge, collection, creator, collector, "paused")
    second = bridge.message_from_lock(lock(bridge, collection, other_id, other, collector))
    bridge.remote.grantRole(GUARDIAN_ROLE, operator, sender=deployer)
    bridge.lockbox.grantRole(GUARDIAN_ROLE, operator, sender=deployer)
    assert dict(one_event(bridge.remote.pause(sender=operator), "Paused").event_arguments) == {
        "account": operator.address}
    bridge.lockbox.pause(sender=operator)
    assert bridge.remote.paused() and bridge.lockbox.paused()
    with reverts("BridgePaused"):
        deliver(bridge.remote, second, deployer)
    with reverts("BridgePaused"):
        bridge.remote.burnToHome(wid, collector, sender=collector)
    third_id, third = mint_token(bridge, collection, creator, collector, "paused-lock")
    with reverts("BridgePaused"):
        lock(bridge, collection, third_id, third, collector)
    with reverts("BridgePaused"):
        bridge.lockbox.deliver(second.as_tuple(), sign(second), sender=deployer)
    with reverts("BridgePaused"):
        bridge.remote.pause(sender=operator)
    # A guardian stops; only the admin restarts.
    with reverts("AccessControlUnauthorizedAccount", operator.address, ADMIN_ROLE):
        bridge.remote.unpause(sender=operator)
    tx = bridge.remote.unpause(sender=deployer)
    assert dict(one_event(tx, "Unpaused").event_arguments) == {"account": deployer.address}
    with reverts("BridgeNotPaused"):
        bridge.remote.unpause(sender=deployer)
    deliver(bridge.remote, second, deployer)
    assert bridge.wrapped.ownerOf(wrapped_id(collection.address, other_id)) == collector.address


# ---------------------------------------------------------------- lock refusals


def test_only_the_owner_may_lock(bridge, collection, creator, collector, stranger):
    token_id, w = mint_token(bridge, collection, creator, collector, "not-owner")
    collection.setApprovalForAll(bridge.lockbox, True, sender=collector)
    with reverts("LockboxNotTokenOwner", stranger.address, collector.address):
        lock(bridge, collection, token_id, w, stranger)


def test_lock_needs_the_rights_record_of_the_tokens_own_work(bridge, collection, creator, collector):
    token_id, _ = mint_token(bridge, collection, creator, collector, "rights")
    _, other = mint_token(bridge, collection, creator, collector, "other-work")
    collection.setApprovalForAll(bridge.lockbox, True, sender=collector)
    with reverts("LockboxRightsMismatch", other.content_hash, collection.address, token_id):
        bridge.lockbox.lock(collection, token_id, collector, bridge.chain_id, other.content_hash, sender=collector)
    with reverts("LockboxRightsMismatch", ZERO32, collection.address, token_id):
        bridge.lockbox.lock(collection, token_id, collector, bridge.chain_id, ZERO32, sender=collector)
    unregistered = work("never-minted")
    with reverts("LockboxRightsMismatch", unregistered.content_hash, collection.address, token_id):
        bridge.lockbox.lock(collection, token_id, collector, bridge.chain_id, unregistered.content_hash,
                            sender=collector)


def test_lock_checks_destination_recipient_and_token_id(bridge, collection, creator, collector):
    token_id, w = mint_token(bridge, collection, creator, collector, "args")
    collection.setApprovalForAll(bridge.lockbox, True, sender=collector)
    with reverts("BridgeDestinationUnsupported", 31_338_999):
        bridge.lockbox.lock(collection, token_id, collector, 31_338_999, w.content_hash, sender=collector)
    with reverts("BridgeRecipientZero"):
        bridge.lockbox.lock(collection, token_id, ZERO, bridge.chain_id, w.content_hash, sender=collector)
    with reverts("LockboxTokenIdTooLarge", 2**96):
        bridge.lockbox.lock(collection, 2**96, collector, bridge.chain_id, w.content_hash, sender=collector)
    with reverts("ERC721InsufficientApproval", bridge.lockbox.address, token_id):
        collection.setApprovalForAll(bridge.lockbox, False, sender=collector)
        lock(bridge, collection, token_id, w, collector)


def test_nothing_moves_before_the_peer_is_set(stack, ape_project, deployer, collector):
    vals = [v.address for v in validators()]
    fresh = ape_project.HomeLockbox.deploy(stack.registry, ZERO, deployer, vals, 2, *LIMITS,
                                           sender=deployer)
    assert tuple(fresh.peer()) == (0, ZERO)
    with reverts("BridgePeerNotSet"):
        fresh.lock(stack.registry, 1, collector, 31338, ZERO32, sender=collector)
    message = BridgeMessage(31338, int(ape.chain.chain_id), collector.address, fresh.address, 1, ZERO, 1,
                            collector.address, collector.address, rights_of(["", b"", ZERO32, ZERO, 0, [], [], ZERO32,
                                                                              ZERO32]))
    with reverts("BridgePeerNotSet"):
        deliver(fresh, message, deployer)


def _rogue(bridge, ape_project, deployer, creator, collector, label):
    """A rogue collection with a real registry record, its token 1 owned by `collector`."""
    factory = ape_project.TestRogueFactory.deploy(sender=deployer)
    bridge.stack.registry.setFactory(factory, True, sender=deployer)
    rogue = ape_project.TestRogueCollection.deploy(bridge.stack.registry, sender=deployer)
    factory.add(bridge.stack.registry, rogue, sender=deployer)
    w = work(label)
    rogue.mint(collector, 1, w.content_hash, w.cid_bytes, sender=creator)
    return rogue, w


def test_a_token_uri_that_does_not_end_with_the_cid_is_refused(bridge, ape_project, deployer, creator, collector):
    rogue, w = _rogue(bridge, ape_project, deployer, creator, collector, "rogue-uri")
    rogue.setUriOverride("https://example.com/token/1", sender=deployer)
    with reverts("LockboxTokenUriUnsupported", "https://example.com/token/1"):
        lock(bridge, rogue, 1, w, collector)


def test_a_royalty_above_100_percent_is_refused(bridge, ape_project, deployer, creator, collector):
    rogue, w = _rogue(bridge, ape_project, deployer, creator, collector, "rogue-royalty")
    rogue.setRoyaltyBps(10_001, sender=deployer)
    with reverts("LockboxRoyaltyUnsupported", 10_001):
        lock(bridge, rogue, 1, w, collector)


def test_no_event_when_no_token_moved(bridge, ape_project, deployer, creator, collector):
    rogue, w = _rogue(bridge, ape_project, deployer, creator, collector, "rogue-still")
    rogue.setMoveTokens(False, sender=deployer)
    with reverts("LockboxCustodyNotTaken", rogue.address, 1):
        lock(bridge, rogue, 1, w, collector)
    assert bridge.lockbox.departures() == 0 and not bridge.lockbox.isLocked(rogue, 1)


def test_a_collection_calling_back_into_the_lockbox_is_refused(bridge, ape_project, deployer, creator, collector):
    rogue, w = _rogue(bridge, ape_project, deployer, creator, collector, "rogue-reenter")
    again = bridge.lockbox.lock.encode_input(rogue, 1, collector, bridge.chain_id, w.content_hash)
    rogue.setReenter(bridge.lockbox, again, sender=deployer)
    with reverts("ReentrancyGuardReentrantCall"):
        lock(bridge, rogue, 1, w, collector)


def test_a_locked_rogue_token_goes_through_when_it_behaves(bridge, ape_project, deployer, creator, collector):
    rogue, w = _rogue(bridge, ape_project, deployer, creator, collector, "rogue-fine")
    message = bridge.message_from_lock(lock(bridge, rogue, 1, w, collector))
    assert (message.rights.royalty_receiver, message.rights.royalty_bps) == (rogue.address, 500)


# ---------------------------------------------------------------- return refusals


def test_a_return_for_a_token_not_in_custody_is_refused(bridge, collection, arrived, deployer, collector):
    token_id, _, wid, _ = arrived
    ret = bridge.message_from_burn(bridge.remote.burnToHome(wid, collector, sender=collector))
    ghost = replace(ret, token_id=token_id + 100)
    with reverts("LockboxNotLocked", collection.address, token_id + 100):
        deliver(bridge.lockbox, ghost, deployer)


def test_a_return_with_changed_rights_is_refused(bridge, collection, arrived, deployer, collector, stranger):
    token_id, _, wid, _ = arrived
    ret = bridge.message_from_burn(bridge.remote.burnToHome(wid, collector, sender=collector))
    for changed in (replace(ret.rights, token_uri="ipfs://elsewhere" + ret.rights.token_uri[-59:]),
                    replace(ret.rights, royalty_receiver=stranger.address),
                    replace(ret.rights, royalty_bps=1),
                    replace(ret.rights, license_terms_hash=b"\x01" * 32),
                    replace(ret.rights, content_hash=b"\x02" * 32)):
        with reverts("LockboxRightsChanged", collection.address, token_id):
            deliver(bridge.lockbox, replace(ret, rights=changed), deployer)
    with reverts("BridgeRecipientZero"):
        deliver(bridge.lockbox, replace(ret, recipient=ZERO), deployer)
    deliver(bridge.lockbox, ret, deployer)


def test_only_the_wrapped_owner_may_send_it_home(bridge, arrived, collector, stranger):
    _, _, wid, _ = arrived
    with reverts("RemoteNotTokenOwner", stranger.address, wid):
        bridge.remote.burnToHome(wid, stranger, sender=stranger)
    with reverts("BridgeRecipientZero"):
        bridge.remote.burnToHome(wid, ZERO, sender=collector)
    with reverts("ERC721NonexistentToken", wid + 1):
        bridge.remote.burnToHome(wid + 1, collector, sender=collector)


def test_remote_delivery_refuses_bad_recipients_ids_and_rights(bridge, locked, deployer):
    *_, message = locked
    with reverts("BridgeRecipientZero"):
        deliver(bridge.remote, replace(message, recipient=ZERO), deployer)
    with reverts("RemoteTokenIdTooLarge", 2**96):
        deliver(bridge.remote, replace(message, token_id=2**96), deployer)
    wid = wrapped_id(message.collection, message.token_id)
    with reverts("WrappedRightsInvalid", wid):
        deliver(bridge.remote, replace(message, rights=replace(message.rights, token_uri="ipfs://short")), deployer)
    with reverts("WrappedRightsInvalid", wid):
        deliver(bridge.remote, replace(message, rights=replace(message.rights, royalty_bps=10_001)), deployer)
    with reverts("CidUnsupported", b"\x01\x55"):
        deliver(bridge.remote, replace(message, rights=replace(message.rights, cid=b"\x01\x55")), deployer)


def test_two_messages_for_one_token_cannot_both_mint(bridge, locked, deployer):
    """Validators signing a second message for a token already wrapped still mint it only once."""
    *_, message = locked
    deliver(bridge.remote, message, deployer)
    duplicate = replace(message, transfer_id=message.transfer_id + 1)
    with reverts("WrappedTokenExists", wrapped_id(message.collection, message.token_id)):
        deliver(bridge.remote, duplicate, deployer)


# ---------------------------------------------------------------- admin and roles


def test_admin_functions_need_the_admin_role(bridge, stranger, deployer):
    vals = [v.address for v in validators()]
    for endpoint in (bridge.lockbox, bridge.remote):
        with reverts("AccessControlUnauthorizedAccount", stranger.address, ADMIN_ROLE):
            endpoint.setValidators(vals, 1, sender=stranger)
        with reverts("AccessControlUnauthorizedAccount", stranger.address, ADMIN_ROLE):
            endpoint.setPeer(1, stranger, sender=stranger)
        with reverts("AccessControlUnauthorizedAccount", stranger.address, ADMIN_ROLE):
            endpoint.setRateLimits(1, 1, 1, 1, sender=stranger)
        with reverts("AccessControlUnauthorizedAccount", stranger.address, GUARDIAN_ROLE):
            endpoint.pause(sender=stranger)
        assert endpoint.hasRole(ADMIN_ROLE, deployer) and endpoint.hasRole(GUARDIAN_ROLE, deployer)
    with reverts("AccessControlUnauthorizedAccount", stranger.address, ADMIN_ROLE):
        bridge.lockbox.setLicensing(stranger, sender=stranger)
    with reverts("OwnableUnauthorizedAccount", stranger.address):
        bridge.wrapped.setBridge(stranger, sender=stranger)


def test_only_the_bridge_mints_and_burns_wrapped_tokens(bridge, locked, arrived, stranger, deployer):
    *_, message = locked
    _, _, wid, _ = arrived
    with reverts("WrappedNotBridge", stranger.address):
        bridge.wrapped.mint(stranger, 1, message.rights.as_tuple(), ZERO, sender=stranger)
    with reverts("WrappedNotBridge", stranger.address):
        bridge.wrapped.burn(stranger, wid, sender=stranger)
    tx = bridge.wrapped.setBridge(stranger, sender=deployer)
    assert dict(one_event(tx, "BridgeUpdated").event_arguments) == {"bridge": stranger.address}
    assert bridge.wrapped.bridge() == stranger.address
    with reverts("ERC721IncorrectOwner", stranger.address, wid, message.recipient):
        bridge.wrapped.burn(stranger, wid, sender=stranger)


def test_validator_sets_must_be_ascending_nonzero_and_meet_the_threshold(bridge, deployer):
    a, b, c = (v.address for v in validators())
    with reverts("BridgeValidatorInvalid", 1, a):
        bridge.remote.setValidators([b, a], 1, sender=deployer)
    with reverts("BridgeValidatorInvalid", 1, a):
        bridge.remote.setValidators([a, a], 1, sender=deployer)
    with reverts("BridgeValidatorInvalid", 0, ZERO):
        bridge.remote.setValidators([ZERO, a], 1, sender=deployer)
    with reverts("BridgeThresholdInvalid", 0, 3):
        bridge.remote.setValidators([a, b, c], 0, sender=deployer)
    with reverts("BridgeThresholdInvalid", 4, 3):
        bridge.remote.setValidators([a, b, c], 4, sender=deployer)
    tx = bridge.remote.setValidators([a, c], 1, sender=deployer)
    assert dict(one_event(tx, "ValidatorSetUpdated").event_arguments) == {"validators": [a, c], "threshold": 1}
    assert tuple(bridge.remote.validatorSet()) == ([a, c], 1) and not bridge.remote.isValidator(b)


def test_peer_settings_are_checked(bridge, deployer, stranger):
    with reverts("BridgePeerInvalid", 0, stranger.address):
        bridge.remote.setPeer(0, stranger, sender=deployer)
    with reverts("BridgePeerInvalid", 7, ZERO):
        bridge.remote.setPeer(7, ZERO, sender=deployer)
    with reverts("BridgePeerInvalid", 2**64, stranger.address):
        bridge.remote.setPeer(2**64, stranger, sender=deployer)
    tx = bridge.remote.setPeer(7, stranger, sender=deployer)
    assert dict(one_event(tx, "PeerUpdated").event_arguments) == {"chainId": 7, "bridge": stranger.address}
    assert tuple(bridge.remote.peer()) == (7, stranger.address)


def test_constructors_refuse_zero_addresses_and_bad_sets(stack, ape_project, deployer):
    vals = [v.address for v in validators()]
    with reverts("LockboxRegistryZero"):
        ape_project.HomeLockbox.deploy(ZERO, ZERO, deployer, vals, 2, *LIMITS, sender=deployer)
    with reverts("RemoteWrappedZero"):
        ape_project.RemoteBridge.deploy(ZERO, deployer, vals, 2, *LIMITS, sender=deployer)
    with reverts("BridgeThresholdInvalid", 3, 2):
        ape_project.RemoteBridge.deploy(stack.registry, deployer, vals[:2], 3, *LIMITS,
                                        sender=deployer)


# ---------------------------------------------------------------- the wrapped ERC-721


def test_wrapped_tokens_transfer_and_approve_like_erc721(bridge, arrived, collector, stranger, operator,
                                                         ape_project, deployer):
    _, _, wid, _ = arrived
    w = bridge.wrapped
    assert (w.name(), w.symbol()) == ("Chainright Wrapped", "CRWRAP")
    assert w.supportsInterface(bytes.fromhex("80ac58cd")) and w.supportsInterface(bytes.fromhex("2a55205a"))
    assert w.supportsInterface(bytes.fromhex("5b5e139f")) and not w.supportsInterface(bytes.fromhex("ffffffff"))
    with reverts("ERC721InsufficientApproval", stranger.address, wid):
        w.transferFrom(collector, stranger, wid, sender=stranger)
    tx = w.approve(operator, wid, sender=collector)
    assert dict(one_event(tx, "Approval").event_arguments) == {"owner": collector.address,
                                                               "approved": operator.address, "tokenId": wid}
    assert w.getApproved(wid) == operator.address
    w.transferFrom(collector, stranger, wid, sender=operator)
    assert w.ownerOf(wid) == stranger.address and w.getApproved(wid) == ZERO
    with reverts("ERC721InvalidApprover", collector.address):
        w.approve(collector, wid, sender=collector)
    w.setApprovalForAll(operator, True, sender=stranger)
    assert w.isApprovedForAll(stranger, operator)
    with reverts("ERC721InvalidOperator", ZERO):
        w.setApprovalForAll(ZERO, True, sender=stranger)
    with reverts("ERC721IncorrectOwner", collector.address, wid, stranger.address):
        w.transferFrom(collector, stranger, wid, sender=operator)
    with reverts("ERC721InvalidReceiver", ZERO):
        w.transferFrom(stranger, ZERO, wid, sender=stranger)
    receiver = ape_project.TestERC721Receiver.deploy(sender=deployer)
    w.safeTransferFrom(stranger, receiver, wid, sender=operator)
    assert w.ownerOf(wid) == receiver.address
    with reverts("ERC721InvalidOwner", ZERO):
        w.balanceOf(ZERO)
    with reverts("ERC721NonexistentToken", wid + 1):
        w.tokenURI(wid + 1)
    for view in (w.contentHashOf, w.cidOf, w.licenseTermsHashOf, w.provenanceHashOf, w.rightsOf, w.getApproved):
        with reverts("ERC721NonexistentToken", wid + 1):
            view(wid + 1)


def test_signing_helpers_agree_with_ecdsa(bridge, locked):
    """The relayer's helpers sign and recover exactly what the contract checks (low s, v 27/28)."""
    from bridge.message import recover_signer, sorted_signatures

    *_, message = locked
    digest = message.digest()
    sigs = [sign_digest(digest, v.key) for v in reversed(validators())]
    ordered = sorted_signatures(digest, sigs + sigs[:1])
    assert [recover_signer(digest, s) for s in ordered] == [v.address for v in validators()]
    assert all(int.from_bytes(s[32:64], "big") <= SECP256K1_N // 2 for s in ordered)
