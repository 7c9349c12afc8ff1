"""What must never become a mint, with the relayer running as real processes (3 confirmations on home):
a lock that a reorg drops before it is final, and a `TokenLocked` event from a look-alike contract
that is not the lockbox (and moved no token). Each case ends with a real lock that is minted, so a
relayer that is simply not working cannot pass."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bridge.chainio import Endpoint, Link
from bridge.core import Checkpoint, Reject, Route, ScanBatch, plan
from bridge.message import transfer_id
from bridge.store import BridgeStore, bridge_attestations, bridge_observations
from chain.devaccounts import dev_account
from chain.rpc import rpc_call
from tests.integration.bridge_env import COLLECTOR, DEPLOYER, BridgeEnv, make_env

pytestmark = pytest.mark.integration

CONFIRMATIONS = 3


@pytest.fixture(scope="module")
def env(tmp_path_factory, artifacts) -> Iterator[BridgeEnv]:
    yield from make_env(tmp_path_factory.mktemp("bridge-safety"), artifacts,
                        CHAINRIGHT_BRIDGE_HOME_CONFIRMATIONS=str(CONFIRMATIONS))


@pytest.fixture(scope="module")
def running(env: BridgeEnv) -> BridgeEnv:
    env.start_all()
    return env


def _store(env: BridgeEnv) -> BridgeStore:
    return BridgeStore.open(f"sqlite:///{env.chain.data_dir / 'bridge.db'}")


def _seen_tx(env: BridgeEnv, tx_hash: str) -> list[object]:
    with _store(env).transaction() as conn:
        return list(conn.execute(select(bridge_observations).where(bridge_observations.c.tx_hash == tx_hash)))


def _mint_arrives(env: BridgeEnv, collection, token: int, content_hash: bytes) -> None:  # type: ignore[no-untyped-def]
    env.lock_many(collection, [token], content_hash)
    env.mine(env.home, CONFIRMATIONS)
    wid = env.wrapped_id(collection, token)
    env.wait_for(lambda: env.wrapped.functions.royaltyInfo(wid, 10_000).call()[0] != "0x" + "00" * 20, 60,
                 f"the mint of token {token}")
    assert env.wrapped.functions.ownerOf(wid).call() == dev_account(COLLECTOR).address


def test_a_lock_dropped_by_a_reorg_before_finality_produces_no_mint(running: BridgeEnv):
    env = running
    collection = env.collection("reorg")
    first, content_hash = env.mint_edition(collection, 2, "reorg")
    dropped, kept = first, first + 1
    url = str(env.home.provider.endpoint_uri)  # type: ignore[attr-defined]
    snapshot = rpc_call(url, "evm_snapshot")

    (receipt,) = env.lock_many(collection, [dropped], content_hash)
    (message,) = env.locked_messages([receipt])
    env.mine(env.home, CONFIRMATIONS - 1)  # one block short of final
    head = env.home.eth.block_number
    env.wait_scanned("home", head - CONFIRMATIONS)  # they read everything final: not the lock
    time.sleep(0.5)
    assert rpc_call(url, "evm_revert", [snapshot]) is True
    env.mine(env.home, CONFIRMATIONS + 3)  # the chain moves on without the lock
    assert collection.functions.ownerOf(dropped).call() == dev_account(COLLECTOR).address
    env.wait_scanned("home", receipt["blockNumber"])  # the block the lock was in, now without it
    time.sleep(0.5)

    assert not _seen_tx(env, "0x" + bytes(receipt["transactionHash"]).hex())
    with _store(env).transaction() as conn:
        assert not list(conn.execute(select(bridge_attestations)))  # nothing was ever signed
    assert env.remote_bridge.functions.outstanding().call() == 0

    # The same nonce, a real lock of another token: minted, and the dropped token never is.
    _mint_arrives(env, collection, kept, content_hash)
    (again,) = env.locked_messages([env.home.eth.get_transaction_receipt(
        env.lockbox.events.TokenLocked().get_logs(from_block=0)[-1]["transactionHash"])])
    assert again.transfer_id == message.transfer_id and again.token_id == kept
    wid = env.wrapped_id(collection, dropped)
    assert env.wrapped.functions.royaltyInfo(wid, 10_000).call()[0] == "0x" + "00" * 20
    assert env.lockbox.functions.outstanding().call() == env.remote_bridge.functions.outstanding().call() == 1


def test_a_lookalike_deposit_event_produces_no_mint(running: BridgeEnv):
    env = running
    collection = env.collection("lookalike")
    first, content_hash = env.mint_edition(collection, 2, "lookalike")
    victim, real = first, first + 1
    before = env.remote_bridge.functions.outstanding().call()
    minted_before = env.minted()
    abi = env.artifacts.get("TestLookalikeLockbox")
    fake_address, _ = env.sender(env.home, DEPLOYER).deploy(abi.abi, abi.bytecode)
    fake = env.at(env.home, "TestLookalikeLockbox", fake_address)
    collector = dev_account(COLLECTOR).address
    _, cid = collection.functions.workOf(victim).call()
    rights = (collection.functions.tokenURI(victim).call(), cid, content_hash, dev_account(4).address, 500,
              [], [], b"\x00" * 32, b"\x07" * 32)  # no royalty split travels with it
    # A transfer id that encodes the look-alike itself, so that only custody can give it away below.
    next_id = transfer_id(env.chain.spec("home").chain_id, fake_address, 1)
    receipt = env.send(env.home, DEPLOYER, fake.functions.fakeLock(
        next_id, collection.address, victim, collector, env.chain.spec("remote").chain_id, rights))
    env.mine(env.home, CONFIRMATIONS + 1)
    env.wait_scanned("home", receipt["blockNumber"])
    time.sleep(0.5)

    assert not _seen_tx(env, "0x" + bytes(receipt["transactionHash"]).hex())  # never even read
    assert env.remote_bridge.functions.outstanding().call() == before and env.minted() == minted_before
    assert collection.functions.ownerOf(victim).call() == collector

    # Even a relayer pointed at the look-alike refuses: no token moved, so custody does not verify.
    home, remote = env.chain.spec("home"), env.chain.spec("remote")
    lookalike_ep = Endpoint("home", home.chain_id, env.home, env.at(env.home, "HomeLockbox", fake_address), 0, 0)
    remote_ep = Endpoint("remote", remote.chain_id, env.remote, env.remote_bridge, 0, 0)
    misled = Link(Route(home.chain_id, fake_address, remote.chain_id, env.remote_bridge.address), lookalike_ep,
                  remote_ep, "TokenLocked", env.wrapped.address)
    block = receipt["blockNumber"]
    (event,) = misled.fetch(block, block)
    assert event.message is not None and not event.custody
    assert "no transfer of token" in event.custody_note
    actions, _ = plan(ScanBatch(block, block, (event,)), Checkpoint(block), frozenset(), route=misled.route)
    assert isinstance(actions[0], Reject) and "custody not verified" in actions[0].reason

    _mint_arrives(env, collection, real, content_hash)
    assert env.remote_bridge.functions.outstanding().call() == before + 1
    assert env.wrapped.functions.royaltyInfo(env.wrapped_id(collection, victim), 10_000).call()[0] == "0x" + "00" * 20
