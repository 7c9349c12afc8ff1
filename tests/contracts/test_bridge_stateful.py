"""Stateful property test of the bridge: tokens go back and forth in random order, messages are
delivered late, out of order and replayed.

Three tokens of one collection, two holders. Rules: lock a home token (to a random holder), deliver a
random pending message (either direction), burn a wrapped token home, move a wrapped token to the
other holder, replay an already delivered message. A model tracks where each token is.

Invariants (after every step):
  1. One chain at a time: a token is usable on exactly one side. Either a holder owns it at home and
     no wrapped token exists, or the lockbox holds it and its wrapped token exists on the remote side
     or a message carrying it is in flight (never both).
  2. Conservation: the lockbox's outstanding count equals the tokens in custody, which equals the
     wrapped tokens plus the messages in flight to the remote side plus those in flight home; the
     remote bridge's outstanding count equals the wrapped tokens.
  3. Exactly once: a delivered message is never accepted again (the replay rule expects
     `BridgeAlreadyProcessed`), and every wrapped token answers with the rights it left home with.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bridge.message import BridgeMessage, wrapped_id
from tests.contracts import bridge_support, issuance_support
from tests.contracts.bridge_support import deliver, lock, mint_token, reverts, rights_of

pytestmark = [pytest.mark.contracts, pytest.mark.usefixtures("isolated")]

stack = issuance_support.stack
bridge = bridge_support.bridge


def test_a_token_lives_on_one_chain_and_every_message_lands_once(bridge, stack, creator, collector, stranger,
                                                                 deployer):
    collection = stack.collection(creator, "bridge-stateful")
    holders = [collector, stranger]
    tokens = []
    for i in range(3):
        token_id, w = mint_token(bridge, collection, creator, holders[i % 2], f"stateful-{i}")
        tokens.append((token_id, w))
    for h in holders:
        collection.setApprovalForAll(bridge.lockbox, True, sender=h)
    rights_at_home = {}

    class OneChainAtATime(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = ape.chain.snapshot()
            # where[token] = ("home", holder) | ("to-remote", None) | ("remote", holder) | ("to-home", None)
            self.where: dict[int, tuple[str, Any]] = {t: ("home", holders[i % 2]) for i, (t, _) in enumerate(tokens)}
            self.pending: list[BridgeMessage] = []
            self.delivered: list[BridgeMessage] = []

        def teardown(self) -> None:
            ape.chain.restore(self.snapshot)

        def _on(self, side: str) -> list[int]:
            return [t for t, (s, _) in self.where.items() if s == side]

        @precondition(lambda self: bool(self._on("home")))
        @rule(pick=st.integers(min_value=0, max_value=10), to=st.sampled_from(holders))
        def lock_token(self, pick: int, to: Any) -> None:
            token_id = self._on("home")[pick % len(self._on("home"))]
            w = dict(tokens)[token_id]
            owner = self.where[token_id][1]
            message = bridge.message_from_lock(lock(bridge, collection, token_id, w, owner, recipient=to))
            rights_at_home[token_id] = message.rights
            self.pending.append(message)
            self.where[token_id] = ("to-remote", None)

        @precondition(lambda self: bool(self.pending))
        @rule(pick=st.integers(min_value=0, max_value=10))
        def deliver_one(self, pick: int) -> None:
            message = self.pending.pop(pick % len(self.pending))
            to_remote = message.dest_bridge == bridge.remote.address
            deliver(bridge.remote if to_remote else bridge.lockbox, message, deployer)
            holder = next(h for h in holders if h.address == message.recipient)
            self.where[message.token_id] = ("remote" if to_remote else "home", holder)
            self.delivered.append(message)

        @precondition(lambda self: bool(self._on("remote")))
        @rule(pick=st.integers(min_value=0, max_value=10), to=st.sampled_from(holders))
        def burn_home(self, pick: int, to: Any) -> None:
            token_id = self._on("remote")[pick % len(self._on("remote"))]
            holder = self.where[token_id][1]
            tx = bridge.remote.burnToHome(wrapped_id(collection.address, token_id), to, sender=holder)
            self.pending.append(bridge.message_from_burn(tx))
            self.where[token_id] = ("to-home", None)

        @precondition(lambda self: bool(self._on("remote")))
        @rule(pick=st.integers(min_value=0, max_value=10))
        def move_wrapped(self, pick: int) -> None:
            token_id = self._on("remote")[pick % len(self._on("remote"))]
            holder = self.where[token_id][1]
            other = holders[1 - holders.index(holder)]
            bridge.wrapped.transferFrom(holder, other, wrapped_id(collection.address, token_id), sender=holder)
            self.where[token_id] = ("remote", other)

        @precondition(lambda self: bool(self.delivered))
        @rule(pick=st.integers(min_value=0, max_value=10))
        def replay(self, pick: int) -> None:
            message = self.delivered[pick % len(self.delivered)]
            endpoint = bridge.remote if message.dest_bridge == bridge.remote.address else bridge.lockbox
            with reverts("BridgeAlreadyProcessed", message.transfer_id):
                deliver(endpoint, message, deployer)

        @invariant()
        def one_chain_at_a_time_and_counts_conserved(self) -> None:
            in_custody = wrapped = 0
            for token_id, (side, holder) in self.where.items():
                wid = wrapped_id(collection.address, token_id)
                home_owner = collection.ownerOf(token_id)
                exists = bridge.wrapped.royaltyInfo(wid, 10_000)[0] != bridge_support.ZERO
                if side == "home":
                    assert home_owner == holder.address and not exists
                    assert not bridge.lockbox.isLocked(collection, token_id)
                    continue
                in_custody += 1
                assert home_owner == bridge.lockbox.address and bridge.lockbox.isLocked(collection, token_id)
                assert exists == (side == "remote")
                if side == "remote":
                    wrapped += 1
                    assert bridge.wrapped.ownerOf(wid) == holder.address
                    assert rights_of(bridge.wrapped.rightsOf(wid)).same_except_provenance(rights_at_home[token_id])
            assert bridge.lockbox.outstanding() == in_custody
            assert bridge.remote.outstanding() == wrapped
            assert in_custody == wrapped + len(self.pending)

    run_state_machine_as_test(
        OneChainAtATime, settings=settings(max_examples=15, stateful_step_count=12, deadline=None))
