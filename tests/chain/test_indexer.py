"""The indexer on a real anvil, on each database backend: decodes events of watched contracts,
discovers factory children, never duplicates on a re-scan, rewinds after a reorg, narrows its
log ranges when the node refuses them, and runs once per chain and database (a lease)."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import create_engine
from web3 import Web3

from chain.connection import connect
from chain.devaccounts import dev_account
from chain.errors import ChainUnavailableError
from chain.rpc import rpc_call
from chain.settings import ChainSettings
from chain.tx import TxSender
from record.index import DecodedEvent, EventDecoder, Indexer, IndexStore
from record.index.indexer import ChildRule, IndexerAlreadyRunningError
from record.index.rpc import JsonRpc, RpcError, RpcTimeoutError
from record.index.service import follow
from record.index.store import chain_leases

pytestmark = pytest.mark.chain

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


class CappedNode(JsonRpc):
    """A node that refuses log queries wider than ``cap`` blocks, the way public RPCs do
    ("query returned more than 10000 results", or no answer in time); ``refusals`` counts them."""

    def __init__(self, url: str, cap: int, how: str) -> None:
        super().__init__(url)
        self.cap, self.how, self.refusals, self.asked = cap, how, 0, []

    def call(self, method, params=()):
        if method == "eth_getLogs":
            start, end = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            self.asked.append(end - start + 1)
            if end - start + 1 > self.cap:
                self.refusals += 1
                if self.how == "timeout":
                    raise RpcTimeoutError("eth_getLogs timed out after 30s")
                raise RpcError(method, -32005, "query returned more than 10000 results")
        return super().call(method, params)


@pytest.mark.parametrize("how", ["too many results", "timeout"])
def test_a_node_that_refuses_wide_ranges_gets_narrower_ones_and_nothing_is_missed(env, how):
    web3, sender, factory, indexer, store, artifacts = env
    child = _new_child(web3, sender, factory, artifacts)
    for token in range(5):
        sender.transact(sender.call_tx(child.functions.ping(token, "x")))
    node = CappedNode(web3.provider.endpoint_uri, cap=3, how=how)  # type: ignore[attr-defined]
    capped = Indexer(web3, indexer.chain_id, store, indexer.decoder, rules=RULES, batch=500, rpc=node)
    assert capped.run_until_caught_up() == 6
    assert node.refusals > 0 and capped.range_size <= 3
    assert node.refusals <= 3  # halving, and never growing back into a refused size: few refusals


def test_a_node_that_refuses_even_one_block_is_reported_not_skipped(env):
    web3, sender, factory, indexer, store, artifacts = env
    _new_child(web3, sender, factory, artifacts)
    node = CappedNode(web3.provider.endpoint_uri, cap=0, how="too many results")  # type: ignore[attr-defined]
    stubborn = Indexer(web3, indexer.chain_id, store, indexer.decoder, rules=RULES, rpc=node)
    with pytest.raises(ChainUnavailableError, match="refuses the logs of blocks"):
        stubborn.run_until_caught_up()
    with store.engine.connect() as conn:
        assert store.next_block(conn, indexer.chain_id, default=-1) == -1  # no checkpoint moved past them


def test_sparse_history_grows_the_range(env):
    web3, _sender, _factory, indexer, store, _artifacts = env
    for _ in range(3):
        rpc_call(web3.provider.endpoint_uri, "evm_mine")  # type: ignore[attr-defined]
    small = Indexer(web3, indexer.chain_id, store, indexer.decoder, rules=RULES, batch=2)
    small.run_until_caught_up()
    assert small.range_size > 2


# -- one indexer per chain and database -------------------------------------------------------

def test_a_second_indexer_for_the_same_chain_and_database_refuses_to_start(env):
    web3, _sender, _factory, indexer, store, _artifacts = env
    indexer.claim()
    second = Indexer(web3, indexer.chain_id, store, indexer.decoder, rules=RULES)
    with pytest.raises(IndexerAlreadyRunningError, match="another indexer already indexes chain 31337") as refused:
        second.claim()
    assert indexer.holder in str(refused.value) and "stop it first" in str(refused.value)
    with pytest.raises(IndexerAlreadyRunningError):
        second.run_until_caught_up()
    with pytest.raises(IndexerAlreadyRunningError):
        second.step()
    stop = threading.Event()
    with pytest.raises(IndexerAlreadyRunningError):  # the service loop refuses before its first step
        follow([second], stop, poll_s=0.01, on_error=lambda ix, exc: stop.set())
    with store.engine.connect() as conn:
        assert store.next_block(conn, indexer.chain_id, default=-1) == -1  # the refused ones wrote nothing
    indexer.release()  # a clean stop: the next one starts at once
    assert second.run_until_caught_up() >= 0


def test_an_expired_lease_is_taken_over_and_the_old_holder_writes_nothing(env):
    web3, sender, factory, indexer, store, artifacts = env
    indexer.lease_ttl_s = -1  # as if it crashed long ago
    indexer.claim()
    successor = Indexer(web3, indexer.chain_id, store, indexer.decoder, rules=RULES)
    successor.claim()
    _new_child(web3, sender, factory, artifacts)
    with pytest.raises(IndexerAlreadyRunningError):
        indexer.step()  # the old holder comes back: refused, nothing written
    with store.engine.connect() as conn:
        assert store.events(conn, chain_id=indexer.chain_id) == []
    assert successor.run_until_caught_up() == 1


def test_another_chain_or_another_database_is_not_blocked(env, tmp_path):
    web3, _sender, _factory, indexer, store, _artifacts = env
    indexer.claim()
    other_chain = Indexer(web3, 99, store, indexer.decoder, rules=RULES)
    other_chain.claim()  # chain 99's lease: no conflict
    other_chain.release()
    elsewhere = IndexStore(create_engine(f"sqlite:///{tmp_path / 'other.db'}"))
    elsewhere.create_tables()
    Indexer(web3, indexer.chain_id, elsewhere, indexer.decoder, rules=RULES).claim()
    indexer.release()


def _event(block: int, tx: int, log_index: int = 0) -> DecodedEvent:
    return DecodedEvent(31337, block, "0x" + "ab" * 32, "0x" + f"{tx:064x}", log_index,
                        "0x5FbDB2315678afecb367f032d93F642f64180aa3", "TestEventChild", "Pinged",
                        {"tokenId": tx, "who": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "note": "x"})


def test_bulk_insert_never_duplicates_even_outside_the_scanned_range(database):
    """A transaction stored at another block (a reorg deeper than the rescan window moved it) is
    not found by the range's own lookup: the insert itself must skip it (PostgreSQL: the COPY
    collides and the rows go in again skipping collisions; SQLite: ON CONFLICT DO NOTHING)."""
    store = IndexStore(database.engine)
    with database.engine.begin() as conn:
        assert store.add_events(conn, [_event(10, 1)], {10: 1_700_000_000}, span=(10, 10)) == 1
    moved = [_event(20, 1), *(_event(20 + i, 100 + i) for i in range(50))]
    with database.engine.begin() as conn:
        store.add_events(conn, moved, {}, span=(20, 80))
    with database.engine.begin() as conn:  # a re-scan of the same range finds the range's own stored
        assert store.add_events(conn, moved, {}, span=(20, 80)) <= 1
    with database.engine.connect() as conn:
        rows = store.events(conn, chain_id=31337)
    assert len(rows) == 51 and len({(r["tx_hash"], r["log_index"]) for r in rows}) == 51
    assert [r["block_number"] for r in rows if r["tx_hash"] == "0x" + f"{1:064x}"] == [10]


def test_an_idle_indexer_keeps_its_lease(env):
    web3, _sender, _factory, indexer, store, _artifacts = env
    indexer.run_until_caught_up()
    indexer.claim()
    with store.engine.begin() as conn:  # as if its last renewal were long ago
        conn.execute(chain_leases.update().values(expires_at=0))
    assert indexer.step().idle  # nothing to index: the step still renews the lease
    with pytest.raises(IndexerAlreadyRunningError):
        Indexer(web3, indexer.chain_id, store, indexer.decoder, rules=RULES).claim()
