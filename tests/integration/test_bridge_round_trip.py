"""A collector's token goes home -> remote -> home through the real relayer (`chainright relayer run
--role all`: three validator processes and the submitter). At every step the owner, token URI,
content hash, CID, ERC-2981 answers and license terms hash are those of the home token, and the
provenance hash is the accumulator recomputed from the lock and burn events."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from web3.logs import DISCARD

from chain.devaccounts import dev_account
from chain.rpc import rpc_call
from tests.integration.bridge_env import COLLECTOR, CREATOR, DEPLOYER, ZERO, BridgeEnv, make_env

pytestmark = pytest.mark.integration

PRICES = (10_000, 1_000_000, 10**18)


@pytest.fixture(scope="module")
def env(tmp_path_factory, artifacts) -> Iterator[BridgeEnv]:
    yield from make_env(tmp_path_factory.mktemp("bridge-round-trip"), artifacts,
                        CHAINRIGHT_BRIDGE_RETRY_AFTER_S="0.2", CHAINRIGHT_BRIDGE_MAX_ATTEMPTS="2")


def _provenance(previous: bytes, chain_id: int, collection: str, token_id: int, sender: str, block: int) -> bytes:
    return keccak(abi_encode(["bytes32", "uint256", "address", "uint256", "address", "uint256"],
                             [previous, chain_id, collection, token_id, sender, block]))


def test_a_token_goes_to_the_remote_chain_and_back_with_its_rights(env: BridgeEnv):
    collection = env.collection("round-trip", bps=750)
    first, content_hash = env.mint_edition(collection, 2, "round-trip")
    token = first + 1  # the second token of the edition: its ownership slot is inherited, not written
    licensing = env.sender(env.home, DEPLOYER).deploy(env.artifacts.get("TestBridgeLicensing").abi,
                                                      env.artifacts.get("TestBridgeLicensing").bytecode)[0]
    terms = [keccak(text="cc-by-nc-4.0"), keccak(text="sync-licence")]
    lic = env.at(env.home, "TestBridgeLicensing", licensing)
    env.send(env.home, DEPLOYER, lic.functions.setTerms(collection.address, token, terms))
    env.send(env.home, DEPLOYER, env.lockbox.functions.setLicensing(licensing))
    terms_hash = keccak(abi_encode(["bytes32[]"], [terms]))
    collector = dev_account(COLLECTOR).address
    remote_id = env.chain.spec("remote").chain_id

    uri = collection.functions.tokenURI(token).call()
    work_id, cid = collection.functions.workOf(token).call()
    royalties = [tuple(collection.functions.royaltyInfo(token, p).call()) for p in PRICES]
    assert royalties[0] == (dev_account(4).address, 750)

    env.start("all")
    (lock_receipt,) = env.lock_many(collection, [token], content_hash)
    (locked,) = env.locked_messages([lock_receipt])
    p1 = env.home_provenance(b"\x00" * 32, collection.address, token, collector, lock_receipt, content_hash)
    assert locked.rights.provenance_hash == p1 and locked.rights.license_terms_hash == terms_hash
    assert collection.functions.ownerOf(token).call() == env.lockbox.address

    wid = env.wrapped_id(collection, token)
    wrapped = env.wrapped
    env.wait_for(lambda: env.remote_bridge.functions.processed(locked.transfer_id).call(), 60, "the mint")
    assert wrapped.functions.ownerOf(wid).call() == collector
    assert wrapped.functions.tokenURI(wid).call() == uri
    assert bytes(wrapped.functions.contentHashOf(wid).call()) == content_hash
    assert bytes(wrapped.functions.cidOf(wid).call()) == bytes(cid)
    assert [tuple(wrapped.functions.royaltyInfo(wid, p).call()) for p in PRICES] == royalties
    assert bytes(wrapped.functions.licenseTermsHashOf(wid).call()) == terms_hash
    assert bytes(wrapped.functions.provenanceHashOf(wid).call()) == p1
    assert env.lockbox.functions.outstanding().call() == env.remote_bridge.functions.outstanding().call() == 1

    burn = env.send(env.remote, COLLECTOR, env.remote_bridge.functions.burnToHome(wid, collector))
    (burned,) = env.remote_bridge.events.TokenBurned().process_receipt(burn, errors=DISCARD)
    p2 = _provenance(p1, remote_id, collection.address, token, collector, burn["blockNumber"])
    assert bytes(burned["args"]["rights"]["provenanceHash"]) == p2
    env.wait_for(lambda: collection.functions.ownerOf(token).call() == collector, 60, "the unlock")

    assert collection.functions.tokenURI(token).call() == uri
    assert tuple(collection.functions.workOf(token).call()) == (work_id, cid)
    assert [tuple(collection.functions.royaltyInfo(token, p).call()) for p in PRICES] == royalties
    assert bytes(env.lockbox.functions.licenseTermsHashOf(collection.address, token).call()) == terms_hash
    assert bytes(env.lockbox.functions.provenanceOf(collection.address, token).call()) == p2
    assert not env.lockbox.functions.isLocked(collection.address, token).call()
    assert env.lockbox.functions.outstanding().call() == env.remote_bridge.functions.outstanding().call() == 0
    assert env.minted() == {locked.transfer_id: 1}
    assert list(env.unlocked().values()) == [1]

    status = env.status()
    assert "route 31337->31338: 1 delivered" in status and "route 31338->31337: 1 delivered" in status
    logs = env.log_file("all").read_text()
    # 2 of 3 sign; the third may find the transfer already delivered before it gets to it.
    attested = [i for i in range(3) if f"relayer[validator-{i} 31337->31338] attested transfer 1" in logs]
    assert len(attested) >= 2, logs
    assert "relayer[submitter 31338->31337] delivered transfer 1" in logs
    for i in (10, 11, 12, 8):  # keys are never logged
        assert bytes(dev_account(i).key).hex() not in logs


def test_a_return_that_cannot_land_is_reported_with_its_reason_and_lands_later(env: BridgeEnv):
    """The home collection is paused while a token comes back: the delivery would revert, so it is not
    sent; status shows the transfer failed with `CollectionPaused()`; once unpaused it lands."""
    if not env.alive("all"):
        env.start("all")
    collection = env.collection("paused-return")
    token, content_hash = env.mint_edition(collection, 1, "paused-return")
    collector = dev_account(COLLECTOR).address
    (receipt,) = env.lock_many(collection, [token], content_hash)
    (locked,) = env.locked_messages([receipt])
    env.wait_for(lambda: env.remote_bridge.functions.processed(locked.transfer_id).call(), 60, "the mint")

    unlocked_before = len(env.unlocked())
    env.send(env.home, CREATOR, collection.functions.pause())
    env.send(env.remote, COLLECTOR, env.remote_bridge.functions.burnToHome(env.wrapped_id(collection, token),
                                                                            collector))
    env.wait_for(lambda: "CollectionPaused()" in env.status() and "failed" in env.status(), 60,
                 "the failed return to be reported")
    report = env.status()
    line = next(ln for ln in report.splitlines() if "CollectionPaused()" in ln)
    assert line.startswith("failed") and "31338->31337" in line and f"{collection.address}#{token}" in line
    assert collection.functions.ownerOf(token).call() == env.lockbox.address  # nothing half-done

    env.send(env.home, CREATOR, collection.functions.unpause())
    env.wait_for(lambda: collection.functions.ownerOf(token).call() == collector, 60, "the retried unlock")
    assert len(env.unlocked()) == unlocked_before + 1
    assert "failed" not in env.status()


def _open_line(env: BridgeEnv, collection: Any, token: int, reason: str) -> list[str] | None:
    """The status row of an open transfer of ``collection#token`` whose reason contains ``reason``."""
    for line in env.status().splitlines():
        if f"{collection.address}#{token}" in line and reason in line:
            return line.split()
    return None


def test_a_royalty_split_travels_and_pays_the_same_recipients_on_the_remote_chain(env: BridgeEnv):
    """The home receiver is a RoyaltySplitter clone: on remote, royaltyInfo names the remote factory's
    splitter of the same split, and a royalty paid there is withdrawn by the same recipients."""
    if not env.alive("all"):
        env.start("all")
    recipients = sorted((dev_account(5).address, dev_account(6).address), key=lambda a: int(a, 16))
    bps = [2_500, 7_500]
    home_factory = env.at(env.home, "SplitterFactory")
    salt = keccak(text="home split of the round trip")
    env.send(env.home, CREATOR, home_factory.functions.createSplitter(recipients, bps, salt))
    home_splitter = home_factory.functions.predictSplitterAddress(recipients, bps, salt).call()
    collection = env.collection("split-trip", bps=1_000, receiver=home_splitter)
    token, content_hash = env.mint_edition(collection, 1, "split-trip")
    collector = dev_account(COLLECTOR).address

    (receipt,) = env.lock_many(collection, [token], content_hash)
    (locked,) = env.locked_messages([receipt])
    assert (list(locked.rights.split_recipients), list(locked.rights.split_bps)) == (recipients, bps)
    env.wait_for(lambda: env.remote_bridge.functions.processed(locked.transfer_id).call(), 60, "the mint")

    wid = env.wrapped_id(collection, token)
    receiver, amount = env.wrapped.functions.royaltyInfo(wid, 10**18).call()
    remote_factory = env.at(env.remote, "SplitterFactory")
    assert receiver == remote_factory.functions.predictSplitterAddress(recipients, bps, b"\x00" * 32).call()
    assert amount == 10**17 and tuple(collection.functions.royaltyInfo(token, 10**18).call()) == (
        home_splitter, 10**17)
    splitter = env.at(env.remote, "RoyaltySplitter", receiver)
    assert [list(x) for x in splitter.functions.recipients().call()] == [recipients, bps]

    # A sale's royalty, paid on remote, is withdrawn by each home recipient for its share.
    env.remote.eth.send_transaction({"from": dev_account(DEPLOYER).address, "to": receiver, "value": amount})
    for index in (5, 6):
        account = dev_account(index).address
        share = amount * bps[recipients.index(account)] // 10_000
        before = env.remote.eth.get_balance(account)
        paid = env.send(env.remote, index, splitter.functions.withdraw(ZERO))
        fee = paid["gasUsed"] * paid["effectiveGasPrice"]
        assert env.remote.eth.get_balance(account) == before + share - fee

    # The split goes home with the token (the lockbox's custody record includes it).
    env.send(env.remote, COLLECTOR, env.remote_bridge.functions.burnToHome(wid, collector))
    env.wait_for(lambda: collection.functions.ownerOf(token).call() == collector, 60, "the unlock")


def test_a_transfer_waits_while_the_remote_bridge_is_paused_and_lands_once_after(env: BridgeEnv):
    if not env.alive("all"):
        env.start("all")
    collection = env.collection("bridge-paused")
    token, content_hash = env.mint_edition(collection, 1, "bridge-paused")
    bridge = env.remote_bridge
    env.send(env.remote, DEPLOYER, bridge.functions.pause())
    try:
        (receipt,) = env.lock_many(collection, [token], content_hash)
        (locked,) = env.locked_messages([receipt])
        env.wait_for(lambda: _open_line(env, collection, token, "BridgePaused()") is not None, 60,
                     "the paused transfer to be reported")
        row = _open_line(env, collection, token, "BridgePaused()")
        assert row is not None and row[0] == "pending" and row[1] == "31337->31338", row
        assert row[4] == "0", f"a pause must not count as an attempt: {row}"
        time.sleep(1.0)  # several retries at 0.2 s: still waiting, still no attempt counted
        row = _open_line(env, collection, token, "BridgePaused()")
        assert row is not None and row[0] == "pending" and row[4] == "0", row
        assert not bridge.functions.processed(locked.transfer_id).call()
    finally:
        env.send(env.remote, DEPLOYER, bridge.functions.unpause())
    env.wait_for(lambda: bridge.functions.processed(locked.transfer_id).call(), 60, "the mint after unpause")
    time.sleep(1.0)
    assert env.minted()[locked.transfer_id] == 1
    assert env.wrapped.functions.ownerOf(env.wrapped_id(collection, token)).call() == dev_account(COLLECTOR).address
    assert _open_line(env, collection, token, "BridgePaused()") is None


def test_a_transfer_over_the_inbound_rate_limit_waits_for_the_refill_and_lands_once(env: BridgeEnv):
    if not env.alive("all"):
        env.start("all")
    collection = env.collection("rate-limited")
    first, content_hash = env.mint_edition(collection, 2, "rate-limited")
    bridge = env.remote_bridge
    limits = bridge.functions.rateLimits().call()
    outbound, _, per_sender, per_collection = limits
    # One delivery per hour. A limit change keeps the share of the bucket in use, so earlier tests'
    # deliveries would leave a bucket of one less than full: let it refill first (an hour on remote).
    url = str(env.remote.provider.endpoint_uri)  # type: ignore[attr-defined]
    rpc_call(url, "evm_increaseTime", [3600])
    rpc_call(url, "evm_mine", [])
    env.send(env.remote, DEPLOYER, bridge.functions.setRateLimits(outbound, 1, per_sender, per_collection))
    try:
        receipts = env.lock_many(collection, [first, first + 1], content_hash)
        messages = env.locked_messages(receipts)
        env.wait_for(lambda: any(_open_line(env, collection, t, "BridgeRateLimitExceeded") is not None
                                 for t in (first, first + 1)), 60, "the limited transfer to be reported")
        waiting = [t for t in (first, first + 1)
                   if _open_line(env, collection, t, "BridgeRateLimitExceeded") is not None]
        assert len(waiting) == 1
        row = _open_line(env, collection, waiting[0], "BridgeRateLimitExceeded")
        assert row is not None and row[0] == "pending" and row[4] == "0", row
        assert sum(bridge.functions.processed(m.transfer_id).call() for m in messages) == 1
        # An hour later the bucket has room again: the waiting transfer lands without anyone touching it.
        rpc_call(url, "evm_increaseTime", [3600])
        rpc_call(url, "evm_mine", [])
        env.wait_for(lambda: all(bridge.functions.processed(m.transfer_id).call() for m in messages), 60,
                     "the limited transfer after the refill")
    finally:
        env.send(env.remote, DEPLOYER, bridge.functions.setRateLimits(*limits))
    time.sleep(1.0)
    minted = env.minted()
    assert [minted[m.transfer_id] for m in messages] == [1, 1]
