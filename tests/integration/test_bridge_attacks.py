"""Attacks on two real anvils with real signed messages (no relayer running, so nothing races them):
a message signed for the remote chain replayed at the home lockbox (and a return message replayed at
the remote bridge), a delivery with M-1 signatures, and a replay of a delivered message. Each is
refused with the exact custom error; the honest delivery of the same message then succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from web3.logs import DISCARD

from bridge.message import BridgeMessage, Rights
from chain.devaccounts import dev_account
from tests.integration.bridge_env import COLLECTOR, BridgeEnv, make_env

pytestmark = pytest.mark.integration

SUBMITTER = 8
TWO_OF_THREE, ONE = (10, 11), (10,)


@pytest.fixture(scope="module")
def env(tmp_path_factory, artifacts) -> Iterator[BridgeEnv]:
    yield from make_env(tmp_path_factory.mktemp("bridge-attacks"), artifacts)


def _deliver(env: BridgeEnv, web3, message: BridgeMessage) -> None:  # type: ignore[no-untyped-def]
    assert env.deliver_call(web3, message, TWO_OF_THREE) == ("ok", ())
    name = "HomeLockbox" if web3 is env.home else "RemoteBridge"
    endpoint = env.at(web3, name)
    env.send(web3, SUBMITTER, endpoint.functions.deliver(message.as_tuple(), env.signatures(message, TWO_OF_THREE)))


def test_real_messages_are_refused_at_the_wrong_chain_with_too_few_signatures_and_when_replayed(env: BridgeEnv):
    home_id, remote_id = env.chain.spec("home").chain_id, env.chain.spec("remote").chain_id
    lockbox, remote = env.lockbox, env.remote_bridge
    collection = env.collection("attacks")
    token, content_hash = env.mint_edition(collection, 1, "attacks")
    collector = dev_account(COLLECTOR).address

    (receipt,) = env.lock_many(collection, [token], content_hash)
    (out,) = env.locked_messages([receipt])
    assert (out.source_chain_id, out.dest_chain_id) == (home_id, remote_id)

    # The message validators signed for 31338, submitted to the home lockbox on 31337.
    assert env.deliver_call(env.home, out, TWO_OF_THREE) == ("BridgeWrongSource", (home_id, lockbox.address))
    # ... and rewritten to name the home lockbox as its destination: the signatures no longer match the
    # digest in the lockbox's domain, so they recover to strangers.
    readdressed = replace(out, dest_chain_id=home_id, dest_bridge=lockbox.address)
    name, _ = env.deliver_call(env.home, readdressed, TWO_OF_THREE)
    assert name == "BridgeWrongSource"
    # M-1 signatures at the right endpoint.
    assert env.deliver_call(env.remote, out, ONE) == ("BridgeThresholdNotMet", (1, 2))
    assert not remote.functions.processed(out.transfer_id).call()
    # The honest delivery, then its replay.
    _deliver(env, env.remote, out)
    assert env.wrapped.functions.ownerOf(env.wrapped_id(collection, token)).call() == collector
    assert env.deliver_call(env.remote, out, TWO_OF_THREE) == ("BridgeAlreadyProcessed", (out.transfer_id,))

    # The way back: the return message signed for 31337, submitted to the remote bridge.
    burn = env.send(env.remote, COLLECTOR, remote.functions.burnToHome(env.wrapped_id(collection, token), collector))
    (burned,) = remote.events.TokenBurned().process_receipt(burn, errors=DISCARD)
    a = burned["args"]
    back = BridgeMessage(remote_id, home_id, remote.address, lockbox.address, a["transferId"], a["collection"],
                         a["tokenId"], a["sender"], a["recipient"], Rights.from_fields(a["rights"]))
    assert env.deliver_call(env.remote, back, TWO_OF_THREE) == ("BridgeWrongSource", (remote_id, remote.address))
    assert env.deliver_call(env.home, back, ONE) == ("BridgeThresholdNotMet", (1, 2))
    _deliver(env, env.home, back)
    assert collection.functions.ownerOf(token).call() == collector
    assert env.deliver_call(env.home, back, TWO_OF_THREE) == ("BridgeAlreadyProcessed", (back.transfer_id,))
