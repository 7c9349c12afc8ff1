"""100 transfers while the relayer's processes are SIGKILLed at random moments and restarted: every
transfer is delivered exactly once (one mint per lock, one unlock per burn), and the tokens locked on
home always equal the wrapped supply on remote plus the transfers in flight.

Three validator processes and the submitter run as separate `chainright relayer run` processes
sharing one SQLite database. A chaos thread kills a random one every 0.3-1.2 s (sometimes two at
once) and restarts it after up to 0.8 s, while the collector locks 100 tokens of one edition in
batches and, once half of them arrived, sends 20 back home.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from web3.logs import DISCARD

from bridge.store import BridgeStore, bridge_deliveries, bridge_transfers
from chain.devaccounts import dev_account
from tests.integration.bridge_env import COLLECTOR, ROLES, BridgeEnv, make_env

pytestmark = pytest.mark.integration

TOTAL, BATCH, RETURNED = 100, 10, 20


@pytest.fixture(scope="module")
def env(tmp_path_factory, artifacts) -> Iterator[BridgeEnv]:
    yield from make_env(tmp_path_factory.mktemp("bridge-crash"), artifacts)


class Chaos(threading.Thread):
    """Kills random relayer processes (SIGKILL) and restarts them, until stopped."""

    def __init__(self, env: BridgeEnv, seed: int) -> None:
        super().__init__(daemon=True)
        self.env, self.rng, self.stop = env, random.Random(seed), threading.Event()  # noqa: S311
        self.kills: list[str] = []

    def run(self) -> None:
        while not self.stop.wait(self.rng.uniform(0.3, 1.2)):
            victims = self.rng.sample(ROLES, k=2 if self.rng.random() < 0.2 else 1)
            for name in victims:
                self.env.kill(name)
                self.kills.append(name)
            if self.stop.wait(self.rng.uniform(0.0, 0.8)):
                break
            for name in victims:
                self.env.start(name)
        for name in ROLES:
            if not self.env.alive(name):
                self.env.start(name)


def _conserved(env: BridgeEnv, collection: Any, locked: set[int], burned: set[int]) -> None:
    """Locked on home == wrapped supply on remote + in flight (both directions), from chain state read
    at one block per chain (every lock and burn of the test is mined before this is called). The
    figures are the tokens' own ledgers, not the bridge's counters: the home collection's balance of the
    lockbox and the wrapped collection's balance of the collector (every wrapped token of this test
    goes to the collector); the bridge's `outstanding()` counters must agree with them."""
    home_block, remote_block = env.home.eth.block_number, env.remote.eth.block_number
    minted, unlocked = env.minted(remote_block), env.unlocked(home_block)
    assert all(n == 1 for n in minted.values()) and all(n == 1 for n in unlocked.values()), "delivered twice"
    to_remote = len(locked - set(minted))
    to_home = len(burned - set(unlocked))
    home = collection.functions.balanceOf(env.lockbox.address).call(block_identifier=home_block)
    remote = env.wrapped.functions.balanceOf(dev_account(COLLECTOR).address).call(block_identifier=remote_block)
    assert home == remote + to_remote + to_home, (home, remote, to_remote, to_home)
    assert env.lockbox.functions.outstanding().call(block_identifier=home_block) == home
    assert env.remote_bridge.functions.outstanding().call(block_identifier=remote_block) == remote


def test_every_transfer_lands_exactly_once_while_processes_are_killed(env: BridgeEnv):
    collection = env.collection("crash")
    first, content_hash = env.mint_edition(collection, TOTAL, "crash")
    token_ids = list(range(first, first + TOTAL))
    collector = dev_account(COLLECTOR).address
    env.start_all()
    chaos = Chaos(env, seed=int(os.environ.get("CHAINRIGHT_TEST_CHAOS_SEED", "20251122")))
    chaos.start()
    locked: set[int] = set()
    burned: set[int] = set()
    started = time.monotonic()
    try:
        for i in range(0, TOTAL, BATCH):
            receipts = env.lock_many(collection, token_ids[i:i + BATCH], content_hash)
            locked |= {m.transfer_id for m in env.locked_messages(receipts)}
            _conserved(env, collection, locked, burned)
            time.sleep(0.3)
        assert len(locked) == TOTAL
        # Send some back once they have arrived, still under chaos.
        back = token_ids[:RETURNED]
        env.wait_for(lambda: all(env.remote_bridge.functions.processed(t).call()
                                 for t in sorted(locked)[:RETURNED]), 300, "the first arrivals")  # 120 s ran out at load 15
        bridge, s = env.remote_bridge, env.sender(env.remote, COLLECTOR)
        hashes = s.transact_many([s.call_tx(bridge.functions.burnToHome(env.wrapped_id(collection, t), collector))
                                  for t in back])
        for h in hashes:
            receipt = env.remote.eth.get_transaction_receipt(h)
            for ev in bridge.events.TokenBurned().process_receipt(receipt, errors=DISCARD):
                burned.add(ev["args"]["transferId"])
        _conserved(env, collection, locked, burned)
        time.sleep(2.0)
    finally:
        chaos.stop.set()
        chaos.join(timeout=60)
    assert len(chaos.kills) >= 5, f"too little chaos: {chaos.kills}"

    env.wait_for(lambda: set(env.minted()) == locked and set(env.unlocked()) == burned, 360,
                 "every transfer to land after the chaos")
    elapsed = time.monotonic() - started
    _conserved(env, collection, locked, burned)
    assert env.lockbox.functions.outstanding().call() == TOTAL - RETURNED
    assert env.remote_bridge.functions.outstanding().call() == TOTAL - RETURNED
    wrapped = env.wrapped
    for t in token_ids[RETURNED:]:
        assert wrapped.functions.ownerOf(env.wrapped_id(collection, t)).call() == collector
        assert collection.functions.ownerOf(t).call() == env.lockbox.address
    for t in token_ids[:RETURNED]:
        assert collection.functions.ownerOf(t).call() == collector

    # The relayer's own records agree: every transfer delivered once, no transfer left pending.
    store = BridgeStore.open(f"sqlite:///{env.chain.data_dir / 'bridge.db'}")
    with store.transaction() as conn:
        statuses = dict(conn.execute(select(bridge_transfers.c.status, func.count())
                                     .group_by(bridge_transfers.c.status)).all())
        mined = conn.execute(select(func.count()).select_from(bridge_deliveries)
                             .where(bridge_deliveries.c.status == "mined")).scalar_one()
    assert statuses == {"delivered": TOTAL + RETURNED}, statuses
    assert mined <= TOTAL + RETURNED
    print(f"{TOTAL} + {RETURNED} transfers in {elapsed:.1f}s with {len(chaos.kills)} kills "
          f"({env.starts} process starts); delivery transactions mined: {mined}")
