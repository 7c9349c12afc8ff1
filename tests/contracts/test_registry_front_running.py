"""Front-running a creator's claim: with her mint pending, an attacker copies the content hash and CID
from the pool and sends her own claim (a registration, or a mint in her own collection) with a higher
tip, in the same block. A creator who committed first (`commit(commitmentOf(hash, creator))`, mined in
an earlier block) keeps the work: her mint takes the younger record back in that very block. Real
races on anvil: automine off, raw transactions, one block mined with both."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ape
import pytest

from tests.contracts import issuance_support
from tests.contracts.issuance_support import reverts, work
from tests.support.marketplace import key_of, travel

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

stack = issuance_support.stack

GWEI = 10**9


@contextmanager
def one_block() -> Iterator[list[Any]]:
    """Queue raw transactions (automine off), then mine them in one block; yields the receipt list."""
    provider = ape.chain.provider
    receipts: list[Any] = []
    hashes: list[Any] = []
    provider.make_request("evm_setAutomine", [False])
    try:
        yield hashes
        provider.make_request("evm_mine", [])
    finally:
        provider.make_request("evm_setAutomine", [True])
    web3 = provider.web3
    receipts.extend(web3.eth.get_transaction_receipt(h) for h in hashes)
    hashes[:] = receipts


def send_raw(account: Any, contract: Any, method: str, *args: Any, tip: int) -> Any:
    """Sign and broadcast ``contract.method(*args)`` from ``account`` with priority fee ``tip``."""
    web3 = ape.chain.provider.web3
    key = key_of(account)
    base = int(web3.eth.get_block("latest")["baseFeePerGas"])
    data = getattr(contract, method).encode_input(*args)
    tx = {"to": str(contract.address), "data": bytes(data), "value": 0, "gas": 600_000, "type": 2,
          "nonce": web3.eth.get_transaction_count(key.address, "pending"), "chainId": ape.chain.chain_id,
          "maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}
    return web3.eth.send_raw_transaction(key.sign_transaction(tx).raw_transaction)


def committed(stack, creator, content_hash: bytes) -> None:
    stack.registry.commit(stack.registry.commitmentOf(content_hash, creator), sender=creator)
    travel(12)  # the next block is later than the commitment's


@pytest.mark.parametrize("copy", ["register", "mint_in_own_collection"])
def test_a_copied_claim_in_the_same_block_does_not_displace_a_committed_creator(stack, creator, stranger, copy):
    mine = stack.collection(creator, "mine")
    theirs = stack.collection(stranger, "theirs")
    w = work("front-run")
    committed(stack, creator, w.content_hash)
    with one_block() as sent:
        sent.append(send_raw(creator, mine, "mintWork", creator.address, w.content_hash, w.cid_bytes, tip=1 * GWEI))
        if copy == "register":
            sent.append(send_raw(stranger, stack.registry, "register", w.content_hash, w.cid_bytes, tip=50 * GWEI))
        else:
            sent.append(send_raw(stranger, theirs, "mintWork", stranger.address, w.content_hash, w.cid_bytes,
                                 tip=50 * GWEI))
    honest, attack = sent
    assert honest["blockNumber"] == attack["blockNumber"]
    assert attack["transactionIndex"] < honest["transactionIndex"]  # the copy did land first
    assert attack["status"] == 1 and honest["status"] == 1
    record = stack.registry.recordOf(w.content_hash)
    assert (record.creator, record.collection, record.tokenId) == (creator.address, mine.address, 1)
    assert record.registeredAt == stack.registry.committedAt(w.content_hash, creator)
    # The attacker can neither take it back (her commitment would be younger) nor mint it again.
    stack.registry.commit(stack.registry.commitmentOf(w.content_hash, stranger), sender=stranger)
    travel(12)
    other = stack.collection(stranger, "other")
    with reverts("RightsAlreadyRegistered"):
        other.mintWork(stranger, w.content_hash, w.cid_bytes, sender=stranger)
    with reverts("RightsAlreadyRegistered"):
        stack.registry.register(w.content_hash, w.cid_bytes, sender=stranger)


def test_a_commitment_and_its_claim_copied_into_one_block_do_not_outrank_the_creator(stack, creator, stranger):
    mine = stack.collection(creator, "mine2")
    w = work("same-block")
    committed(stack, creator, w.content_hash)
    with one_block() as sent:
        sent.append(send_raw(creator, mine, "mintWork", creator.address, w.content_hash, w.cid_bytes, tip=GWEI))
        sent.append(send_raw(stranger, stack.registry, "commit",
                             stack.registry.commitmentOf(w.content_hash, stranger), tip=60 * GWEI))
        sent.append(send_raw(stranger, stack.registry, "register", w.content_hash, w.cid_bytes, tip=50 * GWEI))
    assert [r["status"] for r in sent] == [1, 1, 1]
    assert stack.registry.recordOf(w.content_hash).creator == creator.address


def test_without_a_commitment_the_first_record_wins(stack, creator, stranger):
    """The residual risk the README states: a creator who skips the commitment can be raced."""
    mine = stack.collection(creator, "mine3")
    w = work("uncommitted")
    with one_block() as sent:
        sent.append(send_raw(creator, mine, "mintWork", creator.address, w.content_hash, w.cid_bytes, tip=GWEI))
        sent.append(send_raw(stranger, stack.registry, "register", w.content_hash, w.cid_bytes, tip=50 * GWEI))
    honest, attack = sent
    assert (honest["status"], attack["status"]) == (0, 1)
    assert stack.registry.recordOf(w.content_hash).creator == stranger.address


def test_a_commitment_cannot_displace_an_older_record_a_stale_one_nothing(stack, creator, collector, stranger):
    mine = stack.collection(creator, "mine4")
    older = work("older")
    stack.registry.register(older.content_hash, older.cid_bytes, sender=collector)
    committed(stack, creator, older.content_hash)  # committed after the record: too late
    with reverts("RightsAlreadyRegistered"):
        mine.mintWork(creator, older.content_hash, older.cid_bytes, sender=creator)
    stale = work("stale")
    committed(stack, creator, stale.content_hash)
    travel(int(stack.registry.COMMIT_WINDOW()) + 12)
    stack.registry.register(stale.content_hash, stale.cid_bytes, sender=stranger)
    with reverts("RightsAlreadyRegistered"):
        mine.mintWork(creator, stale.content_hash, stale.cid_bytes, sender=creator)


def test_a_committed_creator_cannot_claim_her_own_work_twice(stack, creator):
    mine = stack.collection(creator, "mine5")
    w = work("twice")
    committed(stack, creator, w.content_hash)
    mine.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)
    with reverts("RightsAlreadyRegistered"):
        mine.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)
    with reverts("RightsAlreadyRegistered"):
        stack.registry.register(w.content_hash, w.cid_bytes, sender=creator)


def test_a_repeated_commitment_keeps_its_first_time(stack, creator, stranger):
    w = work("repeat")
    commitment = stack.registry.commitmentOf(w.content_hash, creator)
    stack.registry.commit(commitment, sender=creator)
    first = stack.registry.committedAt(w.content_hash, creator)
    travel(60)
    stack.registry.commit(commitment, sender=stranger)  # anyone may send it; nothing changes
    assert stack.registry.committedAt(w.content_hash, creator) == first


def test_someone_holding_the_content_who_copies_the_commitment_into_its_block_only_ties(stack, creator, stranger):
    """The commitment names the work only to someone who already has it; copying it into the same
    block gives the same time, and a tie never takes a record back."""
    mine = stack.collection(creator, "mine6")
    w = work("tie")
    with one_block() as sent:
        sent.append(send_raw(creator, stack.registry, "commit", stack.registry.commitmentOf(w.content_hash, creator),
                             tip=GWEI))
        sent.append(send_raw(stranger, stack.registry, "commit",
                             stack.registry.commitmentOf(w.content_hash, stranger), tip=50 * GWEI))
    assert stack.registry.committedAt(w.content_hash, creator) == stack.registry.committedAt(w.content_hash, stranger)
    travel(12)
    mine.mintWork(creator, w.content_hash, w.cid_bytes, sender=creator)
    with reverts("RightsAlreadyRegistered"):
        stack.registry.register(w.content_hash, w.cid_bytes, sender=stranger)
    assert stack.registry.recordOf(w.content_hash).creator == creator.address
