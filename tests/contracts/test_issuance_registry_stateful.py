"""Stateful property test of the rights registry: one content hash, one record.

Random accounts register random content (from a small pool, so collisions are frequent) and random
collections (two ERC-721 collections and one ERC-1155 editions contract, each with its own owner)
mint it, in random order. A reference model predicts which calls succeed; every step compares the
chain with it.

Invariants (checked after every step):
  1. A content hash has at most one record: it is registered at most once (one `RightsRegistered`
     event over the whole run) and every later attempt reverts with that record in the error.
  2. A record never changes owner: once written, its creator and registeredAt never change.
  3. A record is bound at most once, and only by its own creator minting the registered CID: once
     bound, its collection and token id never change.
"""

from __future__ import annotations

import hashlib
from typing import Any

import ape
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from chain.cid import cid_to_bytes, raw_cid
from tests.contracts import issuance_support
from tests.contracts.issuance_support import ZERO, events, reverts

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

# Shared fixtures (defined in issuance_support).
stack = issuance_support.stack

HASHES = [hashlib.sha256(f"stateful:{i}".encode()).digest() for i in range(3)]
CIDS = [cid_to_bytes(raw_cid(f"stateful-cid:{i}".encode())) for i in range(2)]


def test_one_content_hash_one_record(stack, creator, collector, operator, stranger):
    accounts = [creator, collector, operator, stranger]
    minters = [
        (stack.collection(creator, "stateful-a"), creator, "721"),
        (stack.collection(collector, "stateful-b"), collector, "721"),
        (stack.editions(operator, "stateful-e"), operator, "1155"),
    ]
    registry = stack.registry

    class OneHashOneRecord(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = ape.chain.snapshot()
            # model: hash -> [creator, registeredAt, collection, tokenId, cid]
            self.model: dict[bytes, list[Any]] = {}
            self.registered_events: dict[bytes, int] = {}
            self.first_seen: dict[bytes, tuple[str, int]] = {}
            self.first_bound: dict[bytes, tuple[str, int]] = {}

        def teardown(self) -> None:
            ape.chain.restore(self.snapshot)

        def _existing_error(self, content_hash: bytes) -> tuple[Any, ...]:
            creator_, at, collection, token, cid = self.model[content_hash]
            return (content_hash, collection, token, creator_, at, cid)

        def _count(self, tx: Any) -> None:
            for event in events(tx, "RightsRegistered"):
                key = bytes(event.contentHash)
                self.registered_events[key] = self.registered_events.get(key, 0) + 1

        @rule(account=st.sampled_from(accounts), h=st.sampled_from(HASHES), cid=st.sampled_from(CIDS))
        def register(self, account: Any, h: bytes, cid: bytes) -> None:
            if h in self.model:
                with reverts("RightsAlreadyRegistered", *self._existing_error(h)):
                    registry.register(h, cid, sender=account)
                return
            tx = registry.register(h, cid, sender=account)
            self._count(tx)
            self.model[h] = [account.address, int(ape.chain.blocks[tx.block_number].timestamp), ZERO, 0, cid]

        @rule(which=st.sampled_from(range(len(minters))), h=st.sampled_from(HASHES), cid=st.sampled_from(CIDS),
              quantity=st.integers(min_value=1, max_value=3))
        def mint(self, which: int, h: bytes, cid: bytes, quantity: int) -> None:
            contract, owner, kind = minters[which]
            token = (contract.totalSupply() if kind == "721" else contract.workCount()) + 1

            def send() -> Any:
                if kind == "721":
                    return contract.mintEdition(owner, quantity, h, cid, sender=owner)
                return contract.mintWork(owner, quantity, h, cid, sender=owner)

            record = self.model.get(h)
            if record is not None and (record[2] != ZERO or record[0] != owner.address):
                with reverts("RightsAlreadyRegistered", *self._existing_error(h)):
                    send()
                return
            if record is not None and record[4] != cid:
                with reverts("RightsCidMismatch", h, record[4], cid):
                    send()
                return
            tx = send()
            self._count(tx)
            if record is None:
                at = int(ape.chain.blocks[tx.block_number].timestamp)
                self.model[h] = [owner.address, at, contract.address, token, cid]
            else:
                assert len(events(tx, "RightsBound")) == 1
                record[2], record[3] = contract.address, token

        @invariant()
        def chain_matches_the_model_and_records_never_move(self) -> None:
            for h in HASHES:
                on_chain = registry.recordOf(h)
                assert self.registered_events.get(h, 0) <= 1
                if h not in self.model:
                    assert on_chain.creator == ZERO and not registry.isRegistered(h)
                    continue
                creator_, at, collection, token, cid = self.model[h]
                assert (on_chain.creator, on_chain.registeredAt) == (creator_, at)
                assert (on_chain.collection, on_chain.tokenId, bytes(on_chain.cid)) == (collection, token, cid)
                seen = self.first_seen.setdefault(h, (on_chain.creator, on_chain.registeredAt))
                assert seen == (on_chain.creator, on_chain.registeredAt)
                if on_chain.collection != ZERO:
                    bound = self.first_bound.setdefault(h, (on_chain.collection, on_chain.tokenId))
                    assert bound == (on_chain.collection, on_chain.tokenId)

    run_state_machine_as_test(
        OneHashOneRecord, settings=settings(max_examples=15, stateful_step_count=12, deadline=None))
