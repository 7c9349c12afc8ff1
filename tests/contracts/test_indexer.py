"""The indexer on a real anvil, on each database backend: decodes events of watched contracts,
discovers factory children, never duplicates on a re-scan, and rewinds after a reorg."""

from __future__ import annotations

import json

import pytest
from web3 import Web3

from chain.connection import connect
from chain.devaccounts import dev_account
from chain.index import EventDecoder, Indexer, IndexStore
from chain.index.indexer import ChildRule
from chain.rpc import rpc_call
from chain.settings import ChainSettings
from chain.tx import TxSender

pytestmark = pytest.mark.contracts

RULES = [ChildRule("TestEventFactory", "ChildCreated", "child", "TestEventChild")]


@pytest.fixture
def env(two_chains: ChainSettings, artifacts, database):
    spec = two_chains.spec("home")
    web3 = connect(spec)
    sender = TxSender(web3, dev_account(4))
    fac = artifacts.get("TestEventFactory")
    address, receipt = sender.deploy(fac.abi, fac.bytecode)
    factory = web3.eth.contract(address=address, abi=fac.abi)
    decoder = EventDecoder({n: artifacts.get(n).abi for n in ("TestEventFactory", "TestEventChild")})
    store = IndexStore(database.engine)
    indexer = Indexer(web3, spec.chain_id, store, decoder, rules=RULES)
    indexer.watch([(address, "TestEventFactory", int(receipt["blockNumber"]))])
    return web3, sender, factory, indexer, store, artifacts


def _new_child(web3: Web3, sender: TxSender, factory, artifacts):
    receipt = sender.transact(sender.call_tx(factory.functions.create()))
    child = factory.events.ChildCreated().process_receipt(receipt)[0]["args"]["child"]
    return web3.eth.contract(address=child, abi=artifacts.get("TestEventChild").abi)


def test_indexes_factory_children_and_their_events(env):
    web3, sender, factory, indexer, store, artifacts = env
    child = _new_child(web3, sender, factory, artifacts)
    for token in (1, 2, 2):
        sender.transact(sender.call_tx(child.functions.ping(token, f"note {token}")))
    assert indexer.run_until_caught_up() == 4
    with store.engine.connect() as conn:
        events = [e for e in store.events(conn, chain_id=31337) if e["address"] in (factory.address, child.address)]
    assert [e["event"] for e in events] == ["ChildCreated", "Pinged", "Pinged", "Pinged"]
    ping = events[1]
    assert ping["contract"] == "TestEventChild" and ping["token_id"] == "1"
    assert json.loads(ping["args"]) == {"tokenId": 1, "who": sender.address, "note": "note 1"}
    assert ping["block_time"] and ping["tx_hash"].startswith("0x") and len(ping["tx_hash"]) == 66


def test_rescan_never_duplicates(env):
    web3, sender, factory, indexer, store, artifacts = env
    child = _new_child(web3, sender, factory, artifacts)
    sender.transact(sender.call_tx(child.functions.ping(7, "x")))
    first = indexer.run_until_caught_up()
    with store.engine.begin() as conn:  # force a re-scan of everything
        store.set_next_block(conn, 31337, 0)
    assert indexer.run_until_caught_up() == 0
    with store.engine.connect() as conn:
        assert len(store.events(conn, chain_id=31337)) == first == 2


def test_reorg_drops_the_replaced_events(env):
    web3, sender, factory, indexer, store, artifacts = env
    child = _new_child(web3, sender, factory, artifacts)
    indexer.run_until_caught_up()
    snapshot = rpc_call(web3.provider.endpoint_uri, "evm_snapshot")  # type: ignore[attr-defined]
    sender.transact(sender.call_tx(child.functions.ping(1, "doomed")))
    indexer.run_until_caught_up()
    rpc_call(web3.provider.endpoint_uri, "evm_revert", [snapshot])  # type: ignore[attr-defined]
    sender.resync()
    rpc_call(web3.provider.endpoint_uri, "evm_mine")  # type: ignore[attr-defined]
    sender.transact(sender.call_tx(child.functions.ping(2, "survivor")))
    steps = [indexer.step() for _ in range(6)]
    assert any(s.rewound_to is not None for s in steps), "the reorg must be detected"
    with store.engine.connect() as conn:
        notes = [json.loads(e["args"])["note"] for e in store.events(conn, chain_id=31337)
                 if e["event"] == "Pinged"]
    assert notes == ["survivor"]


def test_unwatched_contracts_are_ignored(env):
    web3, sender, _factory, indexer, store, artifacts = env
    art = artifacts.get("TestEventChild")
    stray, _ = sender.deploy(art.abi, art.bytecode)  # same events, not created by our factory
    sender.transact(sender.call_tx(web3.eth.contract(address=stray, abi=art.abi).functions.ping(1, "x")))
    indexer.run_until_caught_up()
    with store.engine.connect() as conn:
        assert all(e["address"] != stray for e in store.events(conn))
