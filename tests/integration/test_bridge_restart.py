"""The bridge survives restarts of everything, including a chain restarted from its saved state.

anvil restarted from its ``--state`` file (as `make up` runs it) has every block, log and receipt but no
historical state: ``ownerOf`` at the block of an earlier lock fails with ``BlockOutOfRangeError``, as on
a pruned node. Validators must then prove custody from the lock's receipt and the current state (the
lockbox still owns the token, no Transfer of it since) instead of retrying without end; a departure
whose custody cannot be proven either way is held, shown as stuck in `chainright relayer status`, and
looked at again with a growing pause, while other transfers flow. Real anvils, real relayer processes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from web3.logs import DISCARD

from bridge.store import BridgeStore, bridge_attestations, bridge_held
from chain.devaccounts import dev_account
from chain.rpc import rpc_call
from tests.integration.bridge_env import COLLECTOR, BridgeEnv, make_env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env(tmp_path_factory, artifacts) -> Iterator[BridgeEnv]:
    yield from make_env(tmp_path_factory.mktemp("bridge-restart"), artifacts, persist_state=True,
                        CHAINRIGHT_BRIDGE_HOLD_RETRY_S="0.5", CHAINRIGHT_BRIDGE_HOLD_MAX_WAIT_S="2",
                        CHAINRIGHT_BRIDGE_HOLD_STUCK_AFTER="3")


def _store(env: BridgeEnv) -> BridgeStore:
    return BridgeStore.open(f"sqlite:///{env.chain.data_dir / 'bridge.db'}")


def _lock(env: BridgeEnv, collection: Any, token_id: int, content_hash: bytes) -> tuple[int, int]:
    """Lock one token for the collector on remote: (transfer id, block of the lock)."""
    (receipt,) = env.lock_many(collection, [token_id], content_hash)
    (message,) = env.locked_messages([receipt])
    return message.transfer_id, int(receipt["blockNumber"])


def _history_is_gone(contract: Any, token_id: int, block: int) -> None:
    """The restarted chain answers about its head, not about ``block`` (what the bug report saw)."""
    with pytest.raises(Exception, match=r"(?i)BlockOutOfRange|block height"):
        contract.functions.ownerOf(token_id).call(block_identifier=block)


def _attested_by(env: BridgeEnv, transfer_id: int) -> int:
    store = _store(env)
    try:
        with store.transaction() as conn:
            rows = conn.execute(bridge_attestations.select().where(
                bridge_attestations.c.transfer_id == f"0x{transfer_id:064x}")).all()
        return len(rows)
    finally:
        store.engine.dispose()


def _looks(env: BridgeEnv) -> dict[str, int]:
    store = _store(env)
    try:
        with store.transaction() as conn:
            return {r.worker: int(r.attempts) for r in conn.execute(bridge_held.select()).all()}
    finally:
        store.engine.dispose()


def test_a_lock_in_flight_lands_once_after_the_home_chain_and_the_relayer_restart(env: BridgeEnv):
    collection = env.collection("restart-a")
    first, content_hash = env.mint_edition(collection, 2, "restart-a")
    env.start_all()
    delivered, lock_block = _lock(env, collection, first, content_hash)
    env.wait_for(lambda: delivered in env.minted(), 60, "the first lock to land")
    # Two validators down: the next lock gets one attestation of the two it needs and stays in flight.
    env.kill("validator-1")
    env.kill("validator-2")
    in_flight, in_flight_block = _lock(env, collection, first + 1, content_hash)
    env.wait_for(lambda: _attested_by(env, in_flight) == 1, 60, "validator-0 to attest")
    assert in_flight not in env.minted()
    env.stop_all()
    env.mine(env.home, 2)  # the lock's block is history, not the head

    env.restart_chain("home")
    _history_is_gone(collection, first, lock_block)
    _history_is_gone(collection, first + 1, in_flight_block)
    env.start_all()  # validators 1 and 2 re-scan both locks' blocks, whose state is gone
    env.wait_for(lambda: in_flight in env.minted(), 90, "the lock in flight to land after the restart")
    time.sleep(1.0)
    assert env.minted() == {delivered: 1, in_flight: 1}
    assert "held departures" not in env.status()
    env.stop_all()


def test_a_departure_made_while_the_relayer_was_down_lands_once_after_either_chain_restarts(env: BridgeEnv):
    collection = env.collection("restart-b")
    token, content_hash = env.mint_edition(collection, 1, "restart-b")
    collector = dev_account(COLLECTOR).address
    locked, lock_block = _lock(env, collection, token, content_hash)
    env.mine(env.home, 2)
    env.restart_chain("home")
    _history_is_gone(collection, token, lock_block)
    before = env.minted()
    env.start_all()
    env.wait_for(lambda: locked in env.minted(), 90, "the lock to land after the home restart")

    # And back: burned on remote while the relayer is down, then the remote chain restarts from state.
    env.stop_all()
    bridge, wrapped_id = env.remote_bridge, env.wrapped_id(collection, token)
    receipt = env.send(env.remote, COLLECTOR, bridge.functions.burnToHome(wrapped_id, collector))
    (burn,) = bridge.events.TokenBurned().process_receipt(receipt, errors=DISCARD)
    burned = burn["args"]["transferId"]
    env.mine(env.remote, 2)
    env.restart_chain("remote")
    with pytest.raises(Exception, match=r"(?i)BlockOutOfRange|block height"):
        env.wrapped.functions.ownerOf(wrapped_id).call(block_identifier=int(receipt["blockNumber"]) - 1)
    env.start_all()
    env.wait_for(lambda: burned in env.unlocked(), 90, "the burn to land after the remote restart")
    time.sleep(1.0)
    assert env.minted() == {**before, locked: 1}
    assert env.unlocked().get(burned) == 1
    assert collection.functions.ownerOf(token).call() == collector
    env.stop_all()


def test_a_departure_whose_custody_cannot_be_proven_shows_as_stuck_and_does_not_block_others(env: BridgeEnv):
    collection = env.collection("restart-c")
    first, content_hash = env.mint_edition(collection, 2, "restart-c")
    collector = dev_account(COLLECTOR).address
    stuck, _ = _lock(env, collection, first, content_hash)
    env.mine(env.home, 2)
    env.restart_chain("home")  # the state at the lock's block is gone ...
    # ... and the token leaves the lockbox without any bridge transfer (a broken or hostile lockbox):
    # nothing this node still knows can show the lockbox held it when the event was emitted.
    url, lockbox = env.chain.spec("home").rpc_url, env.lockbox.address
    rpc_call(url, "anvil_impersonateAccount", [lockbox])
    rpc_call(url, "anvil_setBalance", [lockbox, hex(10**18)])
    data = collection.functions.transferFrom(lockbox, collector, first)._encode_transaction_data()
    rpc_call(url, "eth_sendTransaction", [{"from": lockbox, "to": collection.address, "data": data}])
    rpc_call(url, "anvil_stopImpersonatingAccount", [lockbox])
    assert collection.functions.ownerOf(first).call() == collector

    env.start_all()
    env.wait_for(lambda: "STUCK" in env.status(), 60, "the departure to show as stuck")
    status = env.status()
    assert "is not available on this node" in status and "what to do" in status, status
    # Other transfers are not held up behind it.
    other, _ = _lock(env, collection, first + 1, content_hash)
    env.wait_for(lambda: other in env.minted(), 60, "a later lock to land")
    # It is looked at again at the slowest pace (0.5, 1, 2, 2, ... s here), not in a loop.
    before, started = _looks(env), time.monotonic()
    assert len(before) == 3, before  # one row per validator
    env.wait_for(lambda: all(n > before[w] for w, n in _looks(env).items()), 60, "another look at it")
    time.sleep(4.0)
    after, elapsed = _looks(env), time.monotonic() - started
    assert all(after[w] - before[w] <= elapsed / 2 + 2 for w in after), (before, after, elapsed)
    assert stuck not in env.minted()
    env.stop_all()
