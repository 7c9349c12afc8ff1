"""The bridge's rate limits (IBridgeEndpoint): token buckets refilled hourly, a global ceiling per direction and
departure budgets per sender and per home collection.

The attacks: one sender floods the outbound ceiling with a junk edition so that everyone else's locks revert
(now its own budget stops it, from any number of collections, on either end); many senders flood through one
collection (its budget stops them); twice the limit passes around the edge of a fixed window (a bucket has no
edge); and what the ceiling is for, a drain by forged messages, is still stopped. Refusals name the bucket
and the second at which one more transfer fits, as the Python model of the bucket below computes it.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest

from bridge.message import wrapped_id
from tests.contracts import bridge_support, issuance_support
from tests.contracts.bridge_support import deliver, lock, mint_token, reverts
from tests.contracts.issuance_support import one_event, work

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

stack = issuance_support.stack
bridge = bridge_support.bridge

HOUR_US = 3600 * 10**6
WIDE = 1000  # a limit no test reaches


# ---------------------------------------------------------------- the model


class Bucket:
    """The contracts' bucket (BridgeEndpoint): full again at ``full_at`` (microseconds); a transfer costs an
    hour / limit (rounded up) and fits while the bucket would be full again within the hour."""

    def __init__(self, limit: int) -> None:
        self.limit, self.full_at = limit, 0
        self.cost = -(-HOUR_US // limit)

    def spend(self, timestamp: int) -> None:
        now = timestamp * 10**6
        start = max(self.full_at, now)
        assert start - now <= (self.limit - 1) * self.cost, "the model refuses a transfer the chain took"
        self.full_at = start + self.cost

    def retry_at(self) -> int:
        """The first second at which one more transfer fits."""
        return -(-(self.full_at - (self.limit - 1) * self.cost) // 10**6)


def _timestamp(tx: Any) -> int:
    return int(ape.chain.blocks[tx.block_number].timestamp)


def _junk(stack: Any, owner: Any, label: str, quantity: int) -> tuple[Any, list[int], bytes]:
    """A junk edition: ``quantity`` tokens of one work minted to ``owner`` in one transaction, approved for
    the lockbox later by the caller. (collection, token ids, content hash)."""
    collection = stack.collection(owner, label)
    w = work(label)
    collection.mintEdition(owner, quantity, w.content_hash, w.cid_bytes, sender=owner)
    return collection, list(range(1, quantity + 1)), w.content_hash


def _lock_raw(bridge: Any, collection: Any, token_id: int, content_hash: bytes, owner: Any) -> Any:
    return bridge.lockbox.lock(collection, token_id, owner, bridge.chain_id, content_hash, sender=owner)


def _creator_locks(bridge: Any, stack: Any, creator: Any, label: str) -> Any:
    """The creator's own collection and one lock of one of its works (must succeed)."""
    mine = stack.collection(creator, label)
    token_id, w = mint_token(bridge, mine, creator, creator, f"{label}-work")
    mine.setApprovalForAll(bridge.lockbox, True, sender=creator)
    tx = lock(bridge, mine, token_id, w, creator)
    assert mine.ownerOf(token_id) == bridge.lockbox.address
    return tx


# ---------------------------------------------------------------- one sender, one collection


def test_a_junk_flood_by_one_sender_leaves_the_creators_lock_working(bridge, stack, creator, stranger, deployer):
    """Before: one sender's junk edition used up the whole outbound limit and the creator's lock reverted
    with BridgeRateLimitExceeded. Now the sender's budget stops it, whichever collections it floods from."""
    bridge.lockbox.setRateLimits(20, 20, 5, 10, sender=deployer)
    junk, tokens, content_hash = _junk(stack, stranger, "junk-a", 25)
    other, other_tokens, other_hash = _junk(stack, stranger, "junk-b", 5)
    junk.setApprovalForAll(bridge.lockbox, True, sender=stranger)
    other.setApprovalForAll(bridge.lockbox, True, sender=stranger)
    budget = Bucket(5)
    for token_id in tokens[:5]:
        budget.spend(_timestamp(_lock_raw(bridge, junk, token_id, content_hash, stranger)))
    ape.chain.pending_timestamp = int(ape.chain.pending_timestamp) + 30  # half a minute later: still empty
    with reverts("BridgeSenderRateLimitExceeded", stranger.address, 5, budget.retry_at()):
        _lock_raw(bridge, junk, tokens[5], content_hash, stranger)
    with reverts("BridgeSenderRateLimitExceeded", stranger.address, 5, budget.retry_at()):
        _lock_raw(bridge, other, other_tokens[0], other_hash, stranger)  # another collection: same sender
    assert tuple(bridge.lockbox.rateLimitAvailable(stranger, junk))[2:] == (0, 5)

    _creator_locks(bridge, stack, creator, "creator-after-flood")
    assert tuple(bridge.lockbox.rateLimitAvailable(creator, junk)) == (14, 20, 4, 5)
    # The budget refills at 5 per hour: one more junk lock at the second the refusal named, not before.
    ape.chain.pending_timestamp = budget.retry_at() - 1
    with reverts("BridgeSenderRateLimitExceeded", stranger.address, 5, budget.retry_at()):
        _lock_raw(bridge, junk, tokens[5], content_hash, stranger)
    ape.chain.pending_timestamp = budget.retry_at()
    _lock_raw(bridge, junk, tokens[5], content_hash, stranger)


def test_many_senders_cannot_use_up_the_bridge_through_one_collection(bridge, stack, creator, stranger,
                                                                      operator, deployer, accounts):
    """A junk edition handed out to several accounts: each stays within its own budget, the collection's
    budget stops them together, and other collections still cross."""
    bridge.lockbox.setRateLimits(20, 20, 3, 7, sender=deployer)
    junk, tokens, content_hash = _junk(stack, stranger, "junk-shared", 12)
    holders = [stranger, operator, accounts[5], accounts[6]]
    for i, token_id in enumerate(tokens):
        holder = holders[i % len(holders)]
        if holder != stranger:
            junk.transferFrom(stranger, holder, token_id, sender=stranger)
    for holder in holders:
        junk.setApprovalForAll(bridge.lockbox, True, sender=holder)
    budget = Bucket(7)
    for token_id in tokens[:7]:
        holder = holders[(token_id - 1) % len(holders)]
        budget.spend(_timestamp(_lock_raw(bridge, junk, token_id, content_hash, holder)))
    holder = holders[7 % len(holders)]  # accounts[6]: one lock so far, within its own budget of 3
    with reverts("BridgeCollectionRateLimitExceeded", junk.address, 7, budget.retry_at()):
        _lock_raw(bridge, junk, tokens[7], content_hash, holder)
    assert tuple(bridge.lockbox.rateLimitAvailable(holder, junk))[2:] == (2, 0)
    _creator_locks(bridge, stack, creator, "creator-other-collection")


def test_burns_home_are_budgeted_per_sender_and_per_collection_too(bridge, stack, creator, collector,
                                                                   operator, deployer):
    """The remote end applies the same budgets to `burnToHome` (the collection is the home collection)."""
    collection = stack.collection(creator, "burns")
    collection.setApprovalForAll(bridge.lockbox, True, sender=collector)
    collection.setApprovalForAll(bridge.lockbox, True, sender=operator)
    wids = []
    for i, owner in enumerate([collector] * 3 + [operator] * 2):
        token_id, w = mint_token(bridge, collection, creator, owner, f"burn-{i}")
        deliver(bridge.remote, bridge.message_from_lock(lock(bridge, collection, token_id, w, owner)), deployer)
        wids.append((owner, wrapped_id(collection.address, token_id)))
    bridge.remote.setRateLimits(WIDE, WIDE, 2, 3, sender=deployer)
    sender_budget, collection_budget = Bucket(2), Bucket(3)
    for owner, wid in wids[:2]:
        at = _timestamp(bridge.remote.burnToHome(wid, owner, sender=owner))
        sender_budget.spend(at)
        collection_budget.spend(at)
    with reverts("BridgeSenderRateLimitExceeded", collector.address, 2, sender_budget.retry_at()):
        bridge.remote.burnToHome(wids[2][1], collector, sender=collector)
    # The collection's third burn, by another sender; its fourth is refused.
    collection_budget.spend(_timestamp(bridge.remote.burnToHome(wids[3][1], operator, sender=operator)))
    with reverts("BridgeCollectionRateLimitExceeded", collection.address, 3, collection_budget.retry_at()):
        bridge.remote.burnToHome(wids[4][1], operator, sender=operator)


# ---------------------------------------------------------------- the window edge


@pytest.mark.parametrize("bucket", ["outbound", "sender", "collection"])
def test_twice_the_limit_cannot_pass_around_a_window_edge(bridge, stack, creator, deployer, bucket):
    """Before: the limit counted per fixed window, so C locks just before an hour boundary and C more just
    after it all passed. Now the bucket refills by C per hour: seconds after a burst of C nothing fits, and
    the next one fits an hour / C after the burst."""
    limits = {"outbound": (3, WIDE, WIDE, WIDE), "sender": (WIDE, WIDE, 3, WIDE),
              "collection": (WIDE, WIDE, WIDE, 3)}[bucket]
    bridge.lockbox.setRateLimits(*limits, sender=deployer)
    collection = stack.collection(creator, f"edge-{bucket}")
    tokens = [mint_token(bridge, collection, creator, creator, f"edge-{bucket}-{i}") for i in range(5)]
    collection.setApprovalForAll(bridge.lockbox, True, sender=creator)
    edge = (int(ape.chain.pending_timestamp) // 3600 + 2) * 3600  # an hour boundary ahead
    ape.chain.pending_timestamp = edge - 10
    model = Bucket(3)
    for token_id, w in tokens[:3]:
        model.spend(_timestamp(lock(bridge, collection, token_id, w, creator)))
    ape.chain.pending_timestamp = edge + 1
    error, args = {
        "outbound": ("BridgeRateLimitExceeded", (0, 3, model.retry_at())),
        "sender": ("BridgeSenderRateLimitExceeded", (creator.address, 3, model.retry_at())),
        "collection": ("BridgeCollectionRateLimitExceeded", (collection.address, 3, model.retry_at())),
    }[bucket]
    with reverts(error, *args):
        lock(bridge, collection, *tokens[3], creator)
    assert model.retry_at() >= edge - 10 + 1200  # an hour / 3 after the burst
    ape.chain.pending_timestamp = model.retry_at()
    model.spend(_timestamp(lock(bridge, collection, *tokens[3], creator)))
    with reverts(error, *args[:-1], model.retry_at()):
        lock(bridge, collection, *tokens[4], creator)


# ---------------------------------------------------------------- the ceiling


def test_the_outbound_ceiling_stops_a_flood_spread_over_senders_and_collections(bridge, stack, stranger,
                                                                                 operator, creator, deployer,
                                                                                 accounts):
    """Each sender and each collection within its budget, together over the ceiling: refused."""
    bridge.lockbox.setRateLimits(6, WIDE, 2, 3, sender=deployer)
    ceiling = Bucket(6)
    owners = [stranger, operator, accounts[5], accounts[6]]
    for index, owner in enumerate(owners):
        junk, tokens, content_hash = _junk(stack, owner, f"spread-{index}", 2)
        junk.setApprovalForAll(bridge.lockbox, True, sender=owner)
        for token_id in tokens:
            if index < 3:
                ceiling.spend(_timestamp(_lock_raw(bridge, junk, token_id, content_hash, owner)))
            else:
                with reverts("BridgeRateLimitExceeded", 0, 6, ceiling.retry_at()):
                    _lock_raw(bridge, junk, token_id, content_hash, owner)
    outbound, *_ = bridge.lockbox.rateLimitAvailable(creator, creator)
    assert outbound == 0


def test_the_inbound_ceiling_still_stops_a_drain_by_forged_messages(bridge, stack, creator, collector,
                                                                    deployer):
    """With the validators' keys (a compromise), return messages could release every locked token: the
    lockbox's inbound ceiling lets through at most its limit, whatever senders and collections the
    messages name; the remote's ceiling bounds mints the same way. The rest waits for the refill."""
    collection = stack.collection(creator, "drain")
    collection.setApprovalForAll(bridge.lockbox, True, sender=collector)
    bridge.remote.setRateLimits(WIDE, 3, WIDE, WIDE, sender=deployer)
    mints = Bucket(3)
    locked = []
    for i in range(4):
        token_id, w = mint_token(bridge, collection, creator, collector, f"drain-{i}")
        locked.append((token_id, bridge.message_from_lock(lock(bridge, collection, token_id, w, collector))))
    for _, message in locked[:3]:
        mints.spend(_timestamp(deliver(bridge.remote, message, deployer)))
    with reverts("BridgeRateLimitExceeded", 1, 3, mints.retry_at()):
        deliver(bridge.remote, locked[3][1], deployer)
    ape.chain.pending_timestamp = mints.retry_at()
    deliver(bridge.remote, locked[3][1], deployer)

    bridge.lockbox.setRateLimits(WIDE, 2, WIDE, WIDE, sender=deployer)
    returns = []
    for token_id, _ in locked:
        wid = wrapped_id(collection.address, token_id)
        returns.append(bridge.message_from_burn(bridge.remote.burnToHome(wid, collector, sender=collector)))
    unlocks = Bucket(2)
    for message in returns[:2]:
        unlocks.spend(_timestamp(deliver(bridge.lockbox, message, deployer)))
    for message in returns[2:]:
        with reverts("BridgeRateLimitExceeded", 1, 2, unlocks.retry_at()):
            deliver(bridge.lockbox, message, deployer)
        assert collection.ownerOf(message.token_id) == bridge.lockbox.address
    assert tuple(bridge.lockbox.rateLimitAvailable(collector, collection))[1] == 0


# ---------------------------------------------------------------- settings


def test_rate_limits_are_set_by_the_admin_with_an_event_and_zero_closes(bridge, stack, creator, deployer):
    tx = bridge.lockbox.setRateLimits(40, 30, 4, 8, sender=deployer)
    assert dict(one_event(tx, "RateLimitsUpdated").event_arguments) == {
        "outboundLimit": 40, "inboundLimit": 30, "senderLimit": 4, "collectionLimit": 8}
    assert tuple(bridge.lockbox.rateLimits()) == (40, 30, 4, 8)
    assert bridge.lockbox.RATE_PERIOD() == 3600
    collection = stack.collection(creator, "closed")
    token_id, w = mint_token(bridge, collection, creator, creator, "closed")
    collection.setApprovalForAll(bridge.lockbox, True, sender=creator)
    bridge.lockbox.setRateLimits(0, 30, 4, 8, sender=deployer)
    with reverts("BridgeRateLimitExceeded", 0, 0, 0):
        lock(bridge, collection, token_id, w, creator)
    bridge.lockbox.setRateLimits(40, 30, 0, 8, sender=deployer)
    with reverts("BridgeSenderRateLimitExceeded", creator.address, 0, 0):
        lock(bridge, collection, token_id, w, creator)
    bridge.lockbox.setRateLimits(40, 30, 4, 8, sender=deployer)
    lock(bridge, collection, token_id, w, creator)
    assert tuple(bridge.lockbox.rateLimitAvailable(creator, collection)) == (39, 30, 3, 7)


def test_a_changed_limit_keeps_the_share_of_each_bucket_in_use(bridge, stack, creator, deployer):
    """A limit change takes effect at once and keeps how much of each bucket is in use (a bucket is a time,
    not a count that a new limit would reset): three of four used, then the ceiling lowered to two, leaves
    one and a half of two in use, so the next lock waits; an emptied bucket stays empty. Raising the limit
    raises the room with it."""
    bridge.lockbox.setRateLimits(4, WIDE, WIDE, WIDE, sender=deployer)
    collection = stack.collection(creator, "changed")
    tokens = [mint_token(bridge, collection, creator, creator, f"changed-{i}") for i in range(5)]
    collection.setApprovalForAll(bridge.lockbox, True, sender=creator)
    before = Bucket(4)
    for token_id, w in tokens[:3]:
        before.spend(_timestamp(lock(bridge, collection, token_id, w, creator)))
    bridge.lockbox.setRateLimits(2, WIDE, WIDE, WIDE, sender=deployer)
    after = Bucket(2)
    after.full_at = before.full_at
    assert after.retry_at() > int(ape.chain.pending_timestamp)
    with reverts("BridgeRateLimitExceeded", 0, 2, after.retry_at()):
        lock(bridge, collection, *tokens[3], creator)
    bridge.lockbox.setRateLimits(8, WIDE, WIDE, WIDE, sender=deployer)  # still three quarters in use: 6 of 8
    outbound, *_ = bridge.lockbox.rateLimitAvailable(creator, collection)
    assert outbound == 2
    lock(bridge, collection, *tokens[3], creator)
