"""The transaction helper: sign once, send raw, retry only what is safe, decode reverts."""

from __future__ import annotations

import pytest
from eth_account import Account

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
def collection(sender: TxSender, artifacts):
    art = artifacts.get("CreatorCollection")
    address, _ = sender.deploy(art.abi, art.bytecode, "T", "T", sender.address)
    return sender.web3.eth.contract(address=address, abi=art.abi)



def test_resending_the_same_signed_bytes_executes_once(sender: TxSender, collection):
    tx = sender.call_tx(collection.functions.mint(sender.address, "bafy1"))
    before = collection.functions.nextTokenId().call()
    raw, tx_hash = sender.sign(tx)
    assert sender.send_raw(raw, tx_hash) == tx_hash
    assert sender.send_raw(raw, tx_hash) == tx_hash  # a retry: same hash, no second mint
    receipt = sender.wait(tx_hash)
    assert receipt["status"] == 1
    assert collection.functions.nextTokenId().call() == before + 1


def test_revert_is_decoded_to_the_custom_error(sender: TxSender, collection):
    tx = sender.call_tx(collection.functions.mint(sender.address, ""))
    with pytest.raises(TransactionRevertedError) as err:
        sender.transact(tx)
    assert err.value.error_name == "CollectionEmptyCid"
    assert "CollectionEmptyCid()" in str(err.value)


def test_a_mined_revert_is_explained_by_replay(sender: TxSender, collection):
    tx = sender.call_tx(collection.functions.mint(sender.address, ""))
    tx["gas"] = 200_000  # skip estimation, so the failing transaction is mined
    with pytest.raises(TransactionRevertedError) as err:
        sender.transact(tx)
    assert err.value.tx_hash is not None and err.value.error_name == "CollectionEmptyCid"


def test_many_transactions_wait_only_once(sender: TxSender, collection):
    before = collection.functions.nextTokenId().call()
    txs = []
    for i in range(5):
        txs.append(sender.call_tx(collection.functions.mint(sender.address, f"bafy{i}")))
    hashes = sender.transact_many(txs)
    assert len(set(hashes)) == 5
    assert collection.functions.nextTokenId().call() == before + 5


def test_a_chain_that_went_away_is_a_clear_error(two_chains: ChainSettings):
    from web3 import Web3

    dead = Web3(Web3.HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 0.5}))
    with pytest.raises(ChainUnavailableError, match="is the chain running"):
        TxSender(dead, Account.from_key(DEV_DEPLOYER_KEY))
