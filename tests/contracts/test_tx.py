"""The transaction helper: sign once, send raw, retry only what is safe, decode reverts."""

from __future__ import annotations

import hashlib

import pytest
from eth_account import Account

from chain.cid import cid_to_bytes, raw_cid
from chain.connection import connect
from chain.errors import ChainUnavailableError, TransactionRevertedError
from chain.settings import DEV_DEPLOYER_KEY, ChainSettings
from chain.tx import ErrorDecoder, TxSender

pytestmark = pytest.mark.contracts


@pytest.fixture(scope="module")
def sender(two_chains: ChainSettings, artifacts) -> TxSender:
    web3 = connect(two_chains.spec("home"))
    decoder = ErrorDecoder(artifacts.get(n).abi for n in artifacts.names())
    return TxSender(web3, Account.from_key(DEV_DEPLOYER_KEY), decoder=decoder)


@pytest.fixture(scope="module")
def registry(sender: TxSender, artifacts):
    art = artifacts.get("RightsRegistry")
    address, _ = sender.deploy(art.abi, art.bytecode, sender.address)
    return sender.web3.eth.contract(address=address, abi=art.abi)


def _hash(label: str) -> bytes:
    return hashlib.sha256(f"test_tx:{label}".encode()).digest()


CID = cid_to_bytes(raw_cid(b"test_tx"))


def test_resending_the_same_signed_bytes_executes_once(sender: TxSender, registry):
    content = _hash("resend")
    tx = sender.call_tx(registry.functions.register(content, CID))
    raw, tx_hash = sender.sign(tx)
    assert sender.send_raw(raw, tx_hash) == tx_hash
    assert sender.send_raw(raw, tx_hash) == tx_hash  # a retry: same hash, no second registration
    receipt = sender.wait(tx_hash)
    assert receipt["status"] == 1
    logs = registry.events.RightsRegistered().process_receipt(receipt)
    assert len(logs) == 1 and logs[0]["args"]["contentHash"] == content
    assert registry.functions.recordOf(content).call()[2] == sender.address
    # Executing the same registration twice is impossible anyway: a second one reverts.
    with pytest.raises(TransactionRevertedError) as err:
        sender.transact(sender.call_tx(registry.functions.register(content, CID)))
    assert err.value.error_name == "RightsAlreadyRegistered"


def test_revert_is_decoded_to_the_custom_error(sender: TxSender, registry):
    tx = sender.call_tx(registry.functions.register(_hash("empty-cid"), b""))
    with pytest.raises(TransactionRevertedError) as err:
        sender.transact(tx)
    assert err.value.error_name == "CidUnsupported"
    assert "CidUnsupported(0x)" in str(err.value)


def test_a_mined_revert_is_explained_by_replay(sender: TxSender, registry):
    tx = sender.call_tx(registry.functions.register(_hash("mined-revert"), b""))
    tx["gas"] = 200_000  # skip estimation, so the failing transaction is mined
    with pytest.raises(TransactionRevertedError) as err:
        sender.transact(tx)
    assert err.value.tx_hash is not None and err.value.error_name == "CidUnsupported"


def test_many_transactions_wait_only_once(sender: TxSender, registry):
    contents = [_hash(f"many-{i}") for i in range(5)]
    assert not any(registry.functions.isRegistered(c).call() for c in contents)
    txs = [sender.call_tx(registry.functions.register(c, CID)) for c in contents]
    hashes = sender.transact_many(txs)
    assert len(set(hashes)) == 5
    assert all(registry.functions.isRegistered(c).call() for c in contents)


def test_a_chain_that_went_away_is_a_clear_error(two_chains: ChainSettings):
    from web3 import Web3

    dead = Web3(Web3.HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 0.5}))
    with pytest.raises(ChainUnavailableError, match="is the chain running"):
        TxSender(dead, Account.from_key(DEV_DEPLOYER_KEY))
