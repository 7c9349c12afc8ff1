"""Throughput benchmarks measured in one run on a fresh local platform; figures, never timed tests.

The figures that matter are ratios measured in the same run (the machines are shared and
noisy): API reads against a bare FastAPI endpoint served the same way, end-to-end sales against
raw pre-signed transfers into the same anvil.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from api import create_app
from api.db import Database
from api.settings import ApiSettings
from chain.artifacts import Artifacts
from chain.cid import cid_to_bytes, raw_cid
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.index import EventDecoder, Indexer, IndexStore
from chain.index.service import CHILD_RULES
from chain.nodes import NodeManager
from chain.settings import ChainSettings
from chain.tx import ErrorDecoder, TxSender

Say = Callable[[str], None]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalPlatform:
    """Two fresh anvils with every family deployed, in a temporary data directory."""

    def __init__(self, say: Say) -> None:
        self.say = say
        self.tmp = tempfile.TemporaryDirectory(prefix="chainright-bench-")
        self.settings = ChainSettings(environment="test", data_dir=Path(self.tmp.name),
                                      home_port=_free_port(), remote_port=_free_port(), persist_state=False)
        self.manager = NodeManager(self.settings, progress=say)

    def __enter__(self) -> LocalPlatform:
        self.manager.start(self.settings.specs("all"))
        deploy_to_chains(self.settings, self.settings.specs("all"), progress=self.say)
        return self

    def __exit__(self, *exc: object) -> None:
        self.manager.stop(["home", "remote"])
        self.tmp.cleanup()

    def address(self, name: str, chain_id: int = 31337) -> str:
        return DeploymentRegistry(self.settings.deployments_file).address(chain_id, name)


def collection_with_tokens(platform: LocalPlatform, artifacts: Artifacts, count: int,
                           label: str) -> tuple[Any, int]:
    """A creator's collection with an edition of ``count`` tokens; returns (contract, first id)."""
    web3 = connect(platform.settings.spec("home"))
    creator = TxSender(web3, dev_account(1),
                       decoder=ErrorDecoder(artifacts.get(n).abi for n in artifacts.names()))
    factory = web3.eth.contract(address=platform.address("CollectionFactory"),  # type: ignore[call-overload]
                                abi=artifacts.get("CollectionFactory").abi)
    salt = hashlib.sha256(f"bench:{label}".encode()).digest()
    zero = "0x" + "00" * 20
    creator.transact(creator.call_tx(factory.functions.createCollection(
        ("Bench", "BEN", creator.address, creator.address, 500, zero, False), salt)))
    address = factory.functions.predictCollectionAddress(creator.address, salt).call()
    nft = web3.eth.contract(address=address, abi=artifacts.get("CreatorCollection").abi)
    work = f"bench work {label}".encode()
    creator.transact(creator.call_tx(nft.functions.mintEdition(
        creator.address, count, hashlib.sha256(work).digest(), cid_to_bytes(raw_cid(work)))))
    return nft, 1


def indexer_events_per_s(platform: LocalPlatform, artifacts: Artifacts, transfers: int,
                         say: Say) -> dict[str, Any]:
    """Transfers of a real collection sent raw, then indexed from scratch: events per second."""
    web3 = connect(platform.settings.spec("home"))
    nft, first = collection_with_tokens(platform, artifacts, transfers, "indexer")
    creator = TxSender(web3, dev_account(1))
    say(f"indexer bench: sending {transfers} transfers")
    txs = [creator.call_tx(nft.functions.transferFrom(creator.address, dev_account(2).address, first + i))
           | {"gas": 120_000} for i in range(transfers)]
    creator.transact_many(txs)
    db = Database(f"sqlite:///{Path(platform.tmp.name) / 'index-bench.db'}")
    db.migrate()
    registry = DeploymentRegistry(platform.settings.deployments_file)
    decoder = EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()})
    indexer = Indexer(web3, 31337, IndexStore(db.engine), decoder, rules=CHILD_RULES, batch=2000)
    indexer.watch((d.address, d.artifact or d.contract, d.block) for d in registry.for_chain(31337).values())
    say("indexer bench: indexing from block 0")
    started = time.perf_counter()
    events = indexer.run_until_caught_up()
    elapsed = time.perf_counter() - started
    db.dispose()
    return {"indexer_events": events, "indexer_seconds": round(elapsed, 3),
            "indexer_events_per_s": round(events / elapsed, 1)}


def _serve(app: FastAPI) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def _hammer(base: str, paths: list[str], seconds: float, clients: int = 4) -> float:
    """Requests per second that ``clients`` keep-alive clients get over ``seconds``."""
    counts = [0] * clients
    errors: list[str] = []
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        with httpx.Client(base_url=base, timeout=10) as http:
            n = 0
            while time.perf_counter() < stop:
                r = http.get(paths[n % len(paths)])
                if r.status_code != 200:
                    errors.append(f"{paths[n % len(paths)]} -> {r.status_code}")
                    return
                n += 1
            counts[i] = n

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"benchmark request failed: {errors[0]}")
    return sum(counts) / (time.perf_counter() - started)


def api_reads_per_s(platform: LocalPlatform, artifacts: Artifacts, say: Say,
                    seconds: float = 5.0) -> dict[str, Any]:
    """Provenance and listing reads of the real API (alternating) beside a bare FastAPI endpoint,
    measured in one run with the same clients."""
    nft, token = collection_with_tokens(platform, artifacts, 5, "api")
    web3 = connect(platform.settings.spec("home"))
    creator = TxSender(web3, dev_account(1))
    buyer = dev_account(2).address
    creator.transact(creator.call_tx(nft.functions.transferFrom(creator.address, buyer, token)))
    data_dir = Path(platform.tmp.name) / "api"
    db = Database(f"sqlite:///{data_dir / 'api.db'}")
    db.migrate()
    registry = DeploymentRegistry(platform.settings.deployments_file)
    decoder = EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()})
    indexer = Indexer(web3, 31337, IndexStore(db.engine), decoder, rules=CHILD_RULES)
    indexer.watch((d.address, d.artifact or d.contract, d.block) for d in registry.for_chain(31337).values())
    indexer.run_until_caught_up()
    app = create_app(ApiSettings(environment="test", data_dir=data_dir), db=db,
                     chain_settings=platform.settings)
    bare = FastAPI()

    @bare.get("/ping")
    def ping() -> dict[str, str]:
        return {"status": "ok"}

    reads = [f"/provenance/31337/{nft.address}/{token}",
             f"/market/orders?chain_id=31337&token={nft.address}&status=open"]
    results: dict[str, Any] = {}
    for name, target, paths in (("bare_fastapi_per_s", bare, ["/ping"]), ("api_reads_per_s", app, reads)):
        server, thread, base = _serve(target)
        try:
            say(f"api bench: {name} for {seconds:g}s")
            results[name] = round(_hammer(base, paths, seconds), 1)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    results["api_ratio"] = round(results["api_reads_per_s"] / results["bare_fastapi_per_s"], 3)
    results["api_read_paths"] = reads
    db.dispose()
    return results

