"""A collector's token goes home -> remote -> home through the real relayer (`chainright relayer run
--role all`: three validator processes and the submitter). At every step the owner, token URI,
content hash, CID, ERC-2981 answers and license terms hash are those of the home token, and the
provenance hash is the accumulator recomputed from the lock and burn events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from web3.logs import DISCARD

from chain.devaccounts import dev_account
from tests.integration.bridge_env import COLLECTOR, CREATOR, DEPLOYER, BridgeEnv, make_env

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
    home_id, remote_id = env.chain.spec("home").chain_id, env.chain.spec("remote").chain_id

    uri = collection.functions.tokenURI(token).call()
    work_id, cid = collection.functions.workOf(token).call()
    royalties = [tuple(collection.functions.royaltyInfo(token, p).call()) for p in PRICES]
    assert royalties[0] == (dev_account(4).address, 750)

    env.start("all")
    (lock_receipt,) = env.lock_many(collection, [token], content_hash)
    (locked,) = env.locked_messages([lock_receipt])
    p1 = _provenance(b"\x00" * 32, home_id, collection.address, token, collector, lock_receipt["blockNumber"])
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
