"""Throughput benchmarks measured in one run on a fresh local platform; figures, never timed tests.

The figures that matter are ratios measured in the same run (the machines are shared and
noisy): API reads against a bare FastAPI endpoint served the same way, end-to-end sales against
the same sales pre-signed and sent raw into the same anvil right before (``presigned_sales``:
``fillListing`` one by one, ``fillListings`` in carts), with the CPU each process spent per sale
(the API process, the chain, this client process) over every run and a verdict on what bounded it.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from hexbytes import HexBytes

from api import create_app
from api.db import Database
from api.settings import ApiSettings
from bench.cpu import CPU_BOUND_IDLE_PCT, IDLE, ONE_CORE, OTHER, SHARED_PCT, CpuMeter
from chain.artifacts import Artifacts
from chain.cid import cid_to_bytes, raw_cid
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.ports import free_port
from chain.reverts import ErrorDecoder
from chain.rpc import rpc_call
from chain.settings import ChainSettings
from chain.tx import TxSender
from devnet.anvil import NodeManager
from record.index import EventDecoder, Indexer, IndexStore
from record.index.service import CHILD_RULES

Say = Callable[[str], None]


class _Deployed:
    """A platform's chains (``settings``) and the addresses its registry records there."""

    settings: ChainSettings

    def address(self, name: str, chain_id: int | None = None) -> str:
        """The deployed ``name`` on ``chain_id`` (default: the home chain)."""
        chain = chain_id if chain_id is not None else self.settings.home_chain_id
        return DeploymentRegistry(self.settings.deployments_file).address(chain, name)


class LocalPlatform(_Deployed):
    """Two fresh anvils with every family deployed, in a temporary data directory."""

    def __init__(self, say: Say) -> None:
        self.say = say
        self.tmp = tempfile.TemporaryDirectory(prefix="chainright-bench-")
        self.data_dir = Path(self.tmp.name)
        self.settings = ChainSettings(environment="test", data_dir=self.data_dir,
                                      home_port=free_port(), remote_port=free_port(), persist_state=False)
        self.manager = NodeManager(self.settings, progress=say)

    def __enter__(self) -> LocalPlatform:
        self.manager.start(self.settings.specs("all"))
        deploy_to_chains(self.settings, self.settings.specs("all"), progress=self.say)
        return self

    def __exit__(self, *exc: object) -> None:
        self.manager.stop(["home", "remote"])
        self.tmp.cleanup()


@dataclass
class NetworkPlatform(_Deployed):
    """Chains someone else runs (a consortium network as home, say), the platform deployed to them
    with its registry in ``data_dir``: what the sale desk and the API process need of a platform."""

    settings: ChainSettings
    data_dir: Path


Platform = LocalPlatform | NetworkPlatform


MINT_CHUNK = 2000
"""Tokens per edition minted for a benchmark (one mint of 20,000 exceeds anvil's block gas limit)."""


def collection_with_tokens(platform: LocalPlatform, artifacts: Artifacts, count: int,
                           label: str, chain: str = "home") -> tuple[Any, int]:
    """A creator's collection with an edition of ``count`` tokens; returns (contract, first id)."""
    spec = platform.settings.spec(chain)  # type: ignore[arg-type]
    web3 = connect(spec)
    creator = TxSender(web3, dev_account(1),
                       decoder=ErrorDecoder(artifacts.get(n).abi for n in artifacts.names()))
    factory = web3.eth.contract(address=platform.address("CollectionFactory", spec.chain_id),  # type: ignore[call-overload]
                                abi=artifacts.get("CollectionFactory").abi)
    salt = hashlib.sha256(f"bench:{label}".encode()).digest()
    zero = "0x" + "00" * 20
    creator.transact(creator.call_tx(factory.functions.createCollection(
        ("Bench", "BEN", creator.address, creator.address, 500, zero, False), salt)))
    address = factory.functions.predictCollectionAddress(creator.address, salt).call()
    nft = web3.eth.contract(address=address, abi=artifacts.get("CreatorCollection").abi)
    for part, start in enumerate(range(0, count, MINT_CHUNK)):  # editions within the block gas limit
        work = f"bench work {label}" + (f" part {part}" if part else "")
        creator.transact(creator.call_tx(nft.functions.mintEdition(
            creator.address, min(MINT_CHUNK, count - start), hashlib.sha256(work.encode()).digest(),
            cid_to_bytes(raw_cid(work.encode())))))
    return nft, 1


def transfer_history(platform: LocalPlatform, artifacts: Artifacts, transfers: int, label: str, say: Say, *,
                     chain: str = "home", per_block: int = 1) -> int:
    """A history of ``transfers`` NFT transfers (one Transfer log each, beside the collection's own
    creation and mint events), ``per_block`` to a block: 1 gives a block per transaction (a sparse
    history, automine), more a dense one (many logs per block: mining paused, ``per_block``
    transfers sent, one block mined). Signed first, sent in JSON-RPC batches. Returns the chain's
    block height afterwards."""
    from bench.transfers import _batch

    spec = platform.settings.spec(chain)  # type: ignore[arg-type]
    web3 = connect(spec)
    nft, first = collection_with_tokens(platform, artifacts, transfers, label, chain)
    creator = TxSender(web3, dev_account(1))
    to = dev_account(2).address
    fees = creator.fees()
    say(f"indexer bench: signing {transfers} transfers on {chain}, {per_block} per block")
    gas = 120_000  # a dense block of 200 stays within anvil's 30M block gas limit
    signed: list[str] = []
    for i in range(transfers):
        tx: Any = creator.call_tx(nft.functions.transferFrom(creator.address, to, first + i))
        raw, last = creator.sign(tx | {"gas": gas, **fees})
        signed.append("0x" + bytes(raw).hex())
    url = spec.rpc_url
    say(f"indexer bench: sending {transfers} transfers on {chain}")
    if per_block <= 1:  # automine: a block per transaction; a small pool at a time (a large one slows anvil)
        for start in range(0, transfers, 50):
            hashes = _batch(url, [("eth_sendRawTransaction", [r]) for r in signed[start:start + 50]],
                            timeout=120)
            while rpc_call(url, "eth_getTransactionReceipt", [hashes[-1]], timeout=30) is None:
                time.sleep(0.005)
    else:
        rpc_call(url, "evm_setAutomine", [False])
        try:
            for start in range(0, transfers, per_block):
                _batch(url, [("eth_sendRawTransaction", [r]) for r in signed[start:start + per_block]],
                       timeout=120)
                rpc_call(url, "evm_mine", timeout=120)
        finally:
            rpc_call(url, "evm_setAutomine", [True])
    creator.timeout_s = 900  # automine takes them one block at a time
    if creator.wait(last, check=False)["status"] != 1 or \
            nft.functions.ownerOf(first + transfers - 1).call() != to:
        raise RuntimeError(f"indexer bench: the {chain} transfers were not all mined")
    return int(web3.eth.block_number)


def _index_from_scratch(platform: LocalPlatform, artifacts: Artifacts, chain_id: int, name: str,
                        batch: int = 2000) -> tuple[int, float, float]:
    """Index a chain into a fresh SQLite database from block 0: (events, seconds, the indexer's
    own CPU seconds: the node's time and other processes' are not in it)."""
    spec = next(s for s in platform.settings.specs("all") if s.chain_id == chain_id)
    db = Database(f"sqlite:///{platform.data_dir / f'index-bench-{name}.db'}")
    db.migrate()
    registry = DeploymentRegistry(platform.settings.deployments_file)
    decoder = EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()})
    indexer = Indexer(connect(spec), chain_id, IndexStore(db.engine), decoder, rules=CHILD_RULES,
                      batch=batch)
    indexer.watch((d.address, d.artifact or d.contract, d.block)
                  for d in registry.for_chain(chain_id).values())
    started, cpu = time.perf_counter(), time.process_time()
    events = indexer.run_until_caught_up()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    db.dispose()
    return events, elapsed, cpu


def indexer_events_per_s(platform: LocalPlatform, artifacts: Artifacts, transfers: int,
                         say: Say, dense_per_block: int = 200) -> dict[str, Any]:
    """Backfill speed: ``transfers`` transfers of a real collection, then indexed from scratch
    (events per second). Twice: a sparse history on home (a block per transaction) and a dense one
    on remote (``dense_per_block`` transfers per block)."""
    transfer_history(platform, artifacts, transfers, "indexer", say)
    transfer_history(platform, artifacts, transfers, "indexer-dense", say, chain="remote",
                     per_block=dense_per_block)
    say("indexer bench: indexing home from block 0")
    events, elapsed, cpu = _index_from_scratch(platform, artifacts, 31337, "sparse")
    say("indexer bench: indexing remote (dense) from block 0")
    dense, dense_elapsed, dense_cpu = _index_from_scratch(platform, artifacts, 31338, "dense")
    return {"indexer_events": events, "indexer_seconds": round(elapsed, 3),
            "indexer_events_per_s": round(events / elapsed, 1),
            "indexer_events_per_cpu_s": round(events / max(cpu, 1e-6), 1),
            "indexer_dense_events": dense, "indexer_dense_seconds": round(dense_elapsed, 3),
            "indexer_dense_events_per_s": round(dense / dense_elapsed, 1),
            "indexer_dense_events_per_cpu_s": round(dense / max(dense_cpu, 1e-6), 1),
            "indexer_dense_logs_per_block": dense_per_block}


def _run_concurrently(worker: Callable[[int], None], n: int) -> float:
    """Run ``worker(0..n-1)`` in ``n`` threads at once; the wall-clock seconds until all are done."""
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


BOOK_SIZE = 200
"""Open listings seeded before the read benchmark: GET /market/orders answers a full page (100)."""


def _seed_order_book(db: Database, nft: Any, first: int, count: int, chain_id: int, market: str) -> int:
    """``count`` signed listings by the holder, stored as POST /market/orders stores them (the
    receipt checks are what the write benchmark measures; here only the reads count)."""
    from datetime import UTC, datetime

    from api.models import MarketOrder
    from chain.orders import MarketDomain, listing, sign_order

    seller = dev_account(1)
    domain = MarketDomain(chain_id, market)
    now = int(time.time())
    with db.session() as session:
        for token_id in range(first, first + count):
            order = listing(seller=seller.address, token=nft.address, token_id=token_id, unit_price=10**15,
                            start=now - 60, expiry=now + 86_400, counter=0, holding_epoch=0)  # fresh mints
            signed = sign_order(order, domain, seller)
            session.add(MarketOrder(
                order_hash="0x" + signed.order_hash.hex(), chain_id=chain_id, side="listing",
                signer=order.signer,
                token=order.token, token_id=str(token_id), standard=int(order.standard), quantity="1",
                unit_price=str(order.unit_price), currency=order.currency, start=order.start,
                expiry=order.expiry, salt=str(order.salt), counter="0",
                signature="0x" + signed.signature.hex(), status="open", created_at=datetime.now(UTC)))
    return count


class _NoStore(dict[Any, Any]):
    """A provenance cache that never keeps anything: every read builds the story."""

    def __setitem__(self, key: Any, value: Any) -> None:
        return None


READ_RUNS = 3
"""Each read figure is the median of this many runs, the runs of all configurations interleaved."""


def serve_main(argv: list[str]) -> None:
    """``python -m bench.platform serve api|bare PORT [--no-cache | PAYLOAD]``: one server
    process of the read benchmark (one uvicorn worker, as ``chainright api run`` serves).

    - ``api``: the API from the environment's settings (``CHAINRIGHT_API_*``, ``CHAINRIGHT_CHAIN_*``);
      ``--no-cache``: the provenance cache keeps nothing (every read builds the story).
    - ``bare``: a bare FastAPI app answering the same two paths with the same payloads (read from
      the JSON file ``PAYLOAD``) through the same response models, and nothing else."""
    kind, port = argv[0], int(argv[1])
    if kind == "api":
        from api.routers import provenance

        if "--no-cache" in argv:
            provenance._CACHE = _NoStore()
        app = create_app(ApiSettings())
    else:
        app = _bare_app(json.loads(Path(argv[2]).read_text()))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _bare_app(payload: dict[str, Any]) -> FastAPI:
    """The same answers as the API's two read paths, through the same models, with no work behind."""
    from api.routers.provenance import Story
    from api.schemas.market import OrderOut

    orders = payload["orders"]
    story = payload["story"]
    bare = FastAPI()

    @bare.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @bare.get("/market/orders", response_model=list[OrderOut])
    def list_orders(chain_id: int | None = None, token: str | None = None, status: str | None = None
                    ) -> list[dict[str, Any]]:
        return orders  # type: ignore[no-any-return]

    @bare.get("/provenance/{chain_id}/{collection}/{token_id}", response_model=Story)
    def token_story(chain_id: int, collection: str, token_id: int) -> dict[str, Any]:
        return story  # type: ignore[no-any-return]

    return bare


@contextmanager
def _server_process(argv: list[str], env: dict[str, str], log: Path, what: str) -> Iterator[str]:
    """``serve_main(argv)`` in its own process, until the block ends; yields its base URL."""
    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bench.platform", "serve", argv[0], str(port),
                                 *argv[1:]], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {what} server did not start: {log.read_text()[-800:]}")
            time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _load(base: str, paths: list[str], seconds: float, clients: int = 4) -> dict[str, Any]:
    """Requests per second that ``clients`` kept-alive connections of a load generator in its own
    process (``bench.httpload``) get over ``seconds``."""
    argv = [sys.executable, "-m", "bench.httpload", base, *paths, "--seconds", str(seconds),
            "--clients", str(clients)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark request failed: {done.stderr.strip().splitlines()[-1:]}")
    return dict(json.loads(done.stdout))


def api_reads_per_s(platform: LocalPlatform, artifacts: Artifacts, say: Say,
                    seconds: float = 5.0, runs: int = READ_RUNS) -> dict[str, Any]:
    """Reads of the real API beside a bare FastAPI app, each server in its own process (uvicorn,
    one worker), loaded from a third (``bench.httpload``: 4 kept-alive connections).

    The bare app answers the same paths with the same payloads (the API's own answers, fetched
    once) through the same response models: what the ratio leaves out is exactly the API's work
    (query, middleware, checks). Paths: the order book (``BOOK_SIZE`` open listings; a page of
    100), a token's provenance served from the process cache (a hit: one checkpoint query) and
    with the cache off (the story built from the index every time). ``api_reads_per_s``
    alternates the order book and the uncached story, ``bare_fastapi_per_s`` the same two on the
    bare app. Every figure is the median of ``runs`` runs of ``seconds``, interleaved.
    ``api_ratio_<path>``: the API over the bare app on that path alone."""
    nft, token = collection_with_tokens(platform, artifacts, BOOK_SIZE + 1, "api")
    web3 = connect(platform.settings.spec("home"))
    creator = TxSender(web3, dev_account(1))
    buyer = dev_account(2).address
    creator.transact(creator.call_tx(nft.functions.transferFrom(creator.address, buyer, token)))
    data_dir = platform.data_dir / "api"
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = ApiSettings(environment="test", data_dir=data_dir)
    db = Database(settings.effective_database_url)
    db.migrate()
    registry = DeploymentRegistry(platform.settings.deployments_file)
    decoder = EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()})
    indexer = Indexer(web3, 31337, IndexStore(db.engine), decoder, rules=CHILD_RULES)
    indexer.watch((d.address, d.artifact or d.contract, d.block) for d in registry.for_chain(31337).values())
    indexer.run_until_caught_up()
    book = _seed_order_book(db, nft, token + 1, BOOK_SIZE, 31337, platform.address("Marketplace"))
    db.dispose()

    story = f"/provenance/31337/{nft.address}/{token}"
    orders = f"/market/orders?chain_id=31337&token={nft.address}&status=open"
    home, remote = platform.settings.spec("home"), platform.settings.spec("remote")
    env = dict(os.environ, CHAINRIGHT_CHAIN_ENVIRONMENT="test",
               CHAINRIGHT_CHAIN_DATA_DIR=str(platform.data_dir),
               CHAINRIGHT_CHAIN_HOME_RPC_URL=home.rpc_url, CHAINRIGHT_CHAIN_REMOTE_RPC_URL=remote.rpc_url,
               CHAINRIGHT_API_ENVIRONMENT="test", CHAINRIGHT_API_DATA_DIR=str(data_dir))
    for name in ("CHAINRIGHT_API_DATABASE_URL", "CHAINRIGHT_API_IPFS_API"):
        env.pop(name, None)
    log = data_dir / "servers.log"
    say("api bench: the API (cached and uncached provenance) and the bare app, each in its own process")
    with _server_process(["api"], env, log, "API") as api, \
            _server_process(["api", "--no-cache"], env, log, "API (no cache)") as api_nocache:
        payload = {"orders": httpx.get(api + orders, timeout=30).json(),
                   "story": httpx.get(api + story, timeout=30).json()}
        if len(payload["orders"]) != 100 or not payload["story"].get("entries"):
            raise RuntimeError("api bench: the API does not answer a full order page and a story")
        payload_file = data_dir / "bare-payload.json"
        payload_file.write_text(json.dumps(payload))
        with _server_process(["bare", str(payload_file)], env, log, "bare FastAPI") as bare:
            for path, expected in ((orders, payload["orders"]), (story, payload["story"])):
                if httpx.get(bare + path, timeout=30).json() != expected:  # the same answer, or no ratio
                    raise RuntimeError(f"api bench: the bare app's answer to {path} is not the API's")
            configs: list[tuple[str, str, list[str]]] = [
                ("bare_fastapi_per_s", bare, [orders, story]),
                ("bare_orders_per_s", bare, [orders]),
                ("bare_provenance_per_s", bare, [story]),
                ("api_orders_per_s", api, [orders]),
                ("api_provenance_cached_per_s", api, [story]),
                ("api_provenance_uncached_per_s", api_nocache, [story]),
                ("api_reads_per_s", api_nocache, [orders, story]),
            ]
            samples: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in configs}
            for run in range(1, runs + 1):
                for name, base, paths in configs:
                    say(f"api bench: {name} run {run}/{runs} ({seconds:g}s)")
                    samples[name].append(_load(base, paths, seconds))
    results: dict[str, Any] = {}
    for name, taken in samples.items():
        ordered = sorted(taken, key=lambda r: float(r["per_s"]))
        middle = ordered[len(ordered) // 2]
        results[name] = middle["per_s"]
        results[name.replace("_per_s", "_p50_ms")] = middle["latency_p50_ms"]
    bare_rate = results["bare_fastapi_per_s"]
    for name in ("api_orders", "api_provenance_cached", "api_provenance_uncached"):
        results[f"{name}_ratio"] = round(results[f"{name}_per_s"] / bare_rate, 3)
    results["api_ratio"] = round(results["api_reads_per_s"] / bare_rate, 3)
    results["api_ratio_orders"] = round(results["api_orders_per_s"] / results["bare_orders_per_s"], 3)
    for kind in ("cached", "uncached"):
        results[f"api_ratio_provenance_{kind}"] = round(
            results[f"api_provenance_{kind}_per_s"] / results["bare_provenance_per_s"], 3)
    results["api_read_paths"] = [orders, story]
    results["api_read_runs"] = runs
    results["api_order_book_open"] = book
    return results


@dataclass
class _SalesDesk:
    """What both sale runs share: the API process, KYC-verified clients, the creator's collection
    (approved to the marketplace) and the buyers' senders."""

    base: str
    web3: Any
    creator_account: Any
    creator: Any
    buyer_accounts: list[Any]
    clients: dict[str, Any]
    collection: str
    nft: Any
    domain: Any
    senders: list[TxSender]
    fees: dict[str, int]
    api_pid: int
    bases: list[str] | None = None
    """When set, buyer k and its seller connection talk to ``bases[k % len(bases)]`` (API processes
    sharing one database); else all to ``base``."""


@contextmanager
def _sales_desk(platform: Platform, tokens: int, buyers: int, say: Say,
                serve: Callable[[int], list[str]] | None = None,
                database_url: str | None = None) -> Iterator[_SalesDesk]:
    from api.client import ChainrightClient
    from chain.orders import MarketDomain
    from chain.wallet import Wallet

    officer = dev_account(6)
    chain_id = platform.settings.home_chain_id
    grants = {f"did:pkh:eip155:{chain_id}:{officer.address}": ["kyc_officer"]}
    web3 = connect(platform.settings.spec("home"))
    with _api_process(platform, grants, say, serve, database_url) as (base, api_pid):
        officer_client = ChainrightClient(base, Wallet(officer), chain_id)
        officer_client.login()
        creator_account = dev_account(1)
        buyer_accounts = [dev_account(i) for i in (2, 3, 4, 5)[:buyers]]
        clients: dict[str, Any] = {}
        for n, account in enumerate([creator_account, *buyer_accounts]):
            client = ChainrightClient(base, Wallet(account), chain_id)
            client.login()
            application = client.kyc_apply({"legal_name": f"Bench User {n}", "date_of_birth": "1990-01-01",
                                            "country": "FR", "document_type": "passport",
                                            "document_number": f"BENCH-{n:04d}"})
            officer_client.post(f"/kyc/applications/{application['id']}/approve", {"level": 2})
            clients[account.address] = client
        creator = clients[creator_account.address]
        say(f"e2e bench: creator and {buyers} buyers KYC-verified; minting {tokens} tokens")
        out = creator.collection_tx("Bench Sales", "BSAL", None, 500)
        Wallet(creator_account).send(web3, out["transaction"])
        collection = out["predicted_address"]
        cid = _upload(creator, f"bench sales {time.time()}".encode())
        Wallet(creator_account).send(web3, creator.mint_tx(cid, collection, quantity=tokens))
        nft = web3.eth.contract(address=collection, abi=Artifacts.load().get("CreatorCollection").abi)
        market = platform.address("Marketplace")
        seller = TxSender(web3, creator_account)
        seller.transact(seller.call_tx(nft.functions.setApprovalForAll(market, True)))
        senders = [TxSender(web3, a) for a in buyer_accounts]
        try:
            yield _SalesDesk(base, web3, creator_account, creator, buyer_accounts, clients, collection, nft,
                             MarketDomain(chain_id, market), senders, dict(senders[0].fees()), api_pid)
        finally:
            for client in clients.values():
                client.close()
            officer_client.close()


def _sell(desk: _SalesDesk, token_ids: list[int], batch: int, say: Say) -> dict[str, Any]:
    """Sell ``token_ids`` through the API, ``batch`` listings per request and per transaction
    (1: the single routes and fillListing; more: the batch routes and fillListings). Buyer k takes
    every ``buyers``-th token; returns the time, the time split and the gas per sale."""
    from api.client import ChainrightClient
    from chain.orders import listing, sign_order
    from chain.wallet import Wallet

    buyers = len(desk.buyer_accounts)
    price = 10**15
    hashes: list[list[HexBytes]] = [[] for _ in range(buyers)]
    errors: list[str] = []
    timings = {"sign_listing": 0.0, "post_order": 0.0, "fill_tx": 0.0, "sign_fill": 0.0, "send": 0.0}
    lock = threading.Lock()
    seller_address = desk.creator_account.address

    def order_body(token_id: int) -> dict[str, Any]:
        now = int(time.time())
        order = listing(seller=seller_address, token=desk.collection, token_id=token_id, unit_price=price,
                        start=now - 60, expiry=now + 3600, counter=0, holding_epoch=0)  # fresh mints
        signed = sign_order(order, desk.domain, desk.creator_account)
        return {"chain_id": desk.domain.chain_id, "side": "listing", "signer": order.signer,
                "token": order.token, "token_id": token_id, "unit_price": price, "start": order.start,
                "expiry": order.expiry, "salt": order.salt, "counter": 0,
                "signature": "0x" + signed.signature.hex()}

    def worker(k: int) -> None:
        buyer, sender = desk.clients[desk.buyer_accounts[k].address], desk.senders[k]
        base = desk.bases[k % len(desk.bases)] if desk.bases else desk.base
        seller_client = ChainrightClient(base, Wallet(desk.creator_account), desk.domain.chain_id)
        seller_client.token = desk.creator.token
        if base != desk.base:  # the same session, through another API process
            own = buyer
            buyer = ChainrightClient(base, own.wallet, desk.domain.chain_id)
            buyer.token = own.token
        spent = dict.fromkeys(timings, 0.0)
        mine = token_ids[k::buyers]
        try:
            for start in range(0, len(mine), batch):
                chunk = mine[start:start + batch]
                t0 = time.perf_counter()
                bodies = [order_body(token_id) for token_id in chunk]
                t1 = time.perf_counter()
                if batch == 1:
                    order_hashes = [seller_client.submit_order(bodies[0])["order_hash"]]
                else:
                    posted = seller_client.submit_orders(bodies)
                    if posted["refused"]:
                        refused = next(r for r in posted["results"] if r["status"] == "refused")
                        raise RuntimeError(f"listing refused: {refused['error']['detail']}")
                    order_hashes = [r["order"]["order_hash"] for r in posted["results"]]
                t2 = time.perf_counter()
                tx = buyer.fill_tx(order_hashes[0]) if batch == 1 else buyer.fill_tx_batch(order_hashes)
                t3 = time.perf_counter()
                fill: dict[str, Any] = {"to": tx["to"], "data": tx["data"], "value": int(tx["value"], 16),
                                        "gas": int(tx["gas"] * 1.2) + 10_000, **desk.fees}
                raw, tx_hash = sender.sign(fill)  # type: ignore[arg-type]
                t4 = time.perf_counter()
                sender.send_raw(raw, tx_hash)
                t5 = time.perf_counter()
                hashes[k].append(tx_hash)
                for key, dt in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
                    spent[key] += dt
        except Exception as exc:  # reported after the join, with the sale that failed
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            seller_client.close()
            if buyer is not desk.clients[desk.buyer_accounts[k].address]:
                buyer.close()
            with lock:
                for key, dt in spent.items():
                    timings[key] += dt

    how = "one sale per request and transaction" if batch == 1 else f"carts of up to {batch}"
    say(f"e2e bench: {len(token_ids)} sales through the API by {buyers} concurrent buyers ({how})")
    started = time.perf_counter()
    _run_concurrently(worker, buyers)  # fills are sent without waiting: the clock stops at the receipts
    if errors:
        raise RuntimeError(f"e2e sale failed: {errors[0]}")
    gas = 0
    for k, sender in enumerate(desk.senders):
        for tx_hash in hashes[k]:
            gas += int(sender.wait(tx_hash)["gasUsed"])
    elapsed = time.perf_counter() - started
    owners = {desk.nft.functions.ownerOf(t).call() for t in (token_ids[0], token_ids[-1])}
    if owners - {a.address for a in desk.buyer_accounts}:
        raise RuntimeError(f"e2e bench: tokens not delivered to the buyers ({owners})")
    thread_seconds = sum(timings.values())
    return {"seconds": round(elapsed, 3), "sales_per_s": round(len(token_ids) / elapsed, 1),
            "gas_per_sale": gas // len(token_ids),
            "time_split": {k: round(v / thread_seconds, 3) for k, v in timings.items()}}


API, CHAIN, CLIENT = "api", "chain", "client"
"""The process groups whose CPU a sale run measures: the API process, the chain's node (the home
anvil), and this bench process (the client: the seller's listing signatures, the buyers' threads
signing, sending and polling; in a pre-signed run only the sending and polling)."""


def cpu_per_sale(window: Mapping[str, Any] | None, *, prefix: str = "", suffix: str = "") -> dict[str, Any]:
    """``{prefix}{group}_cpu_ms_per_sale{suffix}``: each group's CPU milliseconds per sale over a
    window (``bench.cpu.window_report`` with the sales as operations); nothing without a window."""
    if window is None:
        return {}
    return {f"{prefix}{group}_cpu_ms_per_sale{suffix}": ms for group, ms in window["cpu_ms_per_op"].items()}


def bound_verdict(window: Mapping[str, Any], sales_per_s: float) -> str:
    """What bounded a sale run, from its CPU window (pure): a process that kept ``ONE_CORE`` of a core
    busy (one Python process, or anvil mining one block at a time, cannot go faster), the machine
    (idle under ``CPU_BOUND_IDLE_PCT``), or neither (latency: requests and receipts waited for in
    turn); then every group's CPU ms per sale and the rate the cores would carry at that cost."""
    ms = {g: float(v) for g, v in window["cpu_ms_per_op"].items() if v}
    if not ms:
        return "no CPU measured"
    cores = int(window["cores"])
    idle = float(window["share_pct"].get(IDLE, 0.0))
    other = float(window["share_pct"].get(OTHER, 0.0))
    busiest, used = max(window["cores_used"].items(), key=lambda kv: kv[1])
    parts = []
    if used >= ONE_CORE and busiest in ms:
        parts.append(f"{busiest}-bound: the {busiest} process kept {used:.2f} of a core busy (one core "
                     f"carries {1000 / ms[busiest]:.0f} sales/s at its {ms[busiest]:.2f} ms per sale)")
    if idle < CPU_BOUND_IDLE_PCT:
        parts.append(f"CPU-bound: {cores} cores, idle {idle:.0f}%")
    if not parts:
        parts.append(f"not CPU-bound (idle {idle:.0f}%, no process near a full core): latency, requests "
                     "and receipts waited for in turn, sets the rate")
    total = sum(ms.values())
    split = ", ".join(f"{g} {v:.2f}" for g, v in sorted(ms.items(), key=lambda kv: -kv[1]))
    text = (f"{'; '.join(parts)}; CPU ms per sale: {split} (total {total:.2f}: {cores} cores carry at most "
            f"{cores * 1000 / total:.0f} sales/s at that cost; measured {sales_per_s:.1f})")
    if other >= SHARED_PCT:
        text += f"; other processes took {other:.0f}% of the machine (shared)"
    return text


def sale_ratios(e2e: Mapping[str, Any], presigned: Mapping[str, Any],
                raw_tx_per_s: float) -> dict[str, float]:
    """End-to-end sales over the same sales pre-signed on the same chain (``e2e_ratio``: carts over
    pre-signed carts; ``e2e_single_ratio``: one by one over pre-signed ``fillListing``s), and over
    raw ETH transfers as before (``*_vs_transfers``)."""
    rates = {"presigned_cart_sales_per_s": presigned["presigned_cart_sales_per_s"],
             "presigned_sales_per_s": presigned["presigned_sales_per_s"], "raw_tx_per_s": raw_tx_per_s}
    for name, rate in rates.items():
        if not rate > 0:
            raise ValueError(f"{name} must be positive to divide by it, not {rate!r}")
    return {"e2e_ratio": round(e2e["e2e_sales_per_s"] / rates["presigned_cart_sales_per_s"], 4),
            "e2e_single_ratio": round(e2e["e2e_single_sales_per_s"] / rates["presigned_sales_per_s"], 4),
            "e2e_ratio_vs_transfers": round(e2e["e2e_sales_per_s"] / raw_tx_per_s, 4),
            "e2e_single_ratio_vs_transfers": round(e2e["e2e_single_sales_per_s"] / raw_tx_per_s, 4)}


PRESIGNED_MIN_SALES = 1000
"""Pre-signed sales per run at least (one by one, then in carts): anvil settles 1,000 in about a second
one by one and in a fraction of it in carts, so fewer would time the receipt polling and /proc's 10 ms
ticks more than the chain."""
PRESIGNED_POLL_S = 0.005
"""How often the pre-signed runs ask for mined nonces and receipts (the clock stops up to one poll late)."""


def presigned_sales(platform: Platform, artifacts: Artifacts, sales: int, cart: int, say: Say,
                    chain_pids: Mapping[str, int]) -> dict[str, Any]:
    """The chain's own sale rate on the platform's home chain (``bench.sales.run_sale_bench``):
    ``sales`` listings signed, then filled by pre-signed transactions sent raw in JSON-RPC batches
    by 8 buyers, the clock from the first send to the last receipt; once one ``fillListing`` per
    sale (``presigned_*``), once ``fillListings`` carts of ``cart`` (``presigned_cart_*``). Over each
    run the CPU per sale of the chain (``chain_pids``) and of this process (``presigned_cpu``: the
    windows)."""
    from bench.sales import BUYERS, run_sale_bench

    if sales < 1 or not 2 <= cart <= 50:
        raise ValueError("sales must be positive and the cart between 2 and 50")
    spec = platform.settings.spec("home")
    web3 = connect(spec)
    addresses = {name: platform.address(name) for name in ("CollectionFactory", "Marketplace")}
    out: dict[str, Any] = {"presigned_sales": sales, "presigned_buyers": len(BUYERS),
                           "presigned_batch_size": cart}
    windows: dict[str, Any] = {}
    for key, suffix, size in (("presigned", "", 1), ("presigned_cart", "_cart", cart)):
        meter = CpuMeter({CHAIN: dict(chain_pids), CLIENT: {"bench": os.getpid()}})
        say(f"presigned bench: {sales} sales, {'one fillListing each' if size == 1 else f'carts of {size}'}")
        run = run_sale_bench(web3, [spec.rpc_url], artifacts, addresses, count=sales, cart=size, progress=say,
                             meter=meter, poll_s=PRESIGNED_POLL_S)
        out[f"{key}_seconds"] = run.elapsed_s
        out[f"{key}_sales_per_s"] = run.sales_per_s
        out[f"{key}_gas_per_sale"] = run.gas_per_sale
        window = meter.report(sales)
        if window is not None:
            window["verdict"] = bound_verdict(window, run.sales_per_s)
            windows[key] = window
            out.update(cpu_per_sale(window, prefix="presigned_", suffix=suffix))
    out["presigned_cpu"] = windows
    return out


def e2e_sales_per_s(platform: Platform, sales: int, say: Say, buyers: int = 4,
                    cart: int = 10, chain_pids: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Sales end to end through the real API (its own process, served by uvicorn) and the chain,
    measured twice in one run on the same collection, ``sales`` each:

    - single (``e2e_single_*``): every sale is its own listing ``POST /market/orders``, its own
      ``POST /market/orders/{hash}/fill-tx`` and its own ``fillListing`` transaction;
    - batched (``e2e_*``): the creator posts ``cart`` signed listings in one
      ``POST /market/orders/batch``, the buyer gets one ``fillListings`` transaction for them from
      ``POST /market/fill-tx/batch``: one request each and one transaction per ``cart`` sales.

    The clock runs from the first listing signature to the last fill receipt. ``buyers`` wallets
    buy concurrently (one thread each, each with its own tokens); each buyer signs its fills with a
    local nonce and sends them without waiting for the previous receipt (pipelined); HTTP
    connections are kept alive. Every fill is then checked to be mined and successful, and the gas
    per sale is read from the receipts. Over each run, the CPU (user + system, ``/proc``) per sale
    of the API process (``api_cpu_ms_per_sale``, ``_cart`` in carts), of this process (the client:
    ``client_cpu_ms_per_sale[_cart]``) and, given ``chain_pids`` (the chain's node processes), of
    the chain (``chain_cpu_ms_per_sale[_cart]``); ``e2e_single_bound``/``e2e_bound``: what bounded
    each run (``bound_verdict``); ``e2e_cpu``: both windows (``bench.cpu.window_report``).
    """
    if sales < 1 or not 1 <= buyers <= 4 or not 2 <= cart <= 50:
        raise ValueError("sales must be positive, buyers between 1 and 4 and the cart between 2 and 50")
    out: dict[str, Any] = {"e2e_sales": sales, "e2e_buyers": buyers, "e2e_batch_size": cart}
    windows: dict[str, Any] = {}
    with _sales_desk(platform, 2 * sales, buyers, say) as desk:
        groups = {API: {"api": desk.api_pid}, CLIENT: {"bench": os.getpid()}}
        if chain_pids:
            groups[CHAIN] = dict(chain_pids)
        for key, suffix, batch, first in (("e2e_single", "", 1, 1), ("e2e", "_cart", cart, sales + 1)):
            meter = CpuMeter(groups)
            meter.start()
            run = _sell(desk, list(range(first, first + sales)), batch, say)
            meter.stop()
            out.update({f"{key}_seconds": run["seconds"], f"{key}_sales_per_s": run["sales_per_s"],
                        f"{key}_gas_per_sale": run["gas_per_sale"], f"{key}_time_split": run["time_split"]})
            window = meter.report(sales)
            if window is None:
                raise RuntimeError("e2e bench: the CPU window was not sampled")
            window["verdict"] = out[f"{key}_bound"] = bound_verdict(window, run["sales_per_s"])
            windows["single" if batch == 1 else "cart"] = window
            out.update(cpu_per_sale(window, suffix=suffix))
    out["e2e_cpu"] = windows
    return out


def scale_out(platform: LocalPlatform, sales: int, database_url: str, say: Say, buyers: int = 4,
              cart: int = 10) -> dict[str, Any]:
    """Sales through 1, then 2 API processes (``chainright api run`` each, one uvicorn worker)
    sharing one database (``database_url``, PostgreSQL), ``buyers`` concurrent buyers spread over
    them, ``sales`` one by one and ``sales`` in carts of ``cart`` for each; the rate and every API
    process's CPU per sale (``/proc``). On a machine with fewer cores than processes the rate is
    bounded by the cores: the CPU per sale says whether a second process costs anything."""
    officer = dev_account(6)
    grants = {f"did:pkh:eip155:{platform.settings.home_chain_id}:{officer.address}": ["kyc_officer"]}
    report: dict[str, Any] = {"scale_sales": sales, "scale_buyers": buyers, "scale_database":
                              database_url.split("://", 1)[0], "cores": os.cpu_count()}
    with _sales_desk(platform, 4 * sales, buyers, say, database_url=database_url) as desk, \
            _api_process(platform, grants, say, database_url=database_url) as (second, second_pid):
        first = 1
        for processes in (1, 2):
            desk.bases = [desk.base, second][:processes]
            pids = [desk.api_pid, second_pid][:processes]
            for kind, batch in (("single", 1), ("cart", cart)):
                cpu = [process_cpu_s(pid) for pid in pids]
                run = _sell(desk, list(range(first, first + sales)), batch, say)
                spent = sum(process_cpu_s(pid) - c for pid, c in zip(pids, cpu, strict=True))
                first += sales
                report[f"scale_{processes}p_{kind}_sales_per_s"] = run["sales_per_s"]
                report[f"scale_{processes}p_{kind}_api_cpu_ms_per_sale"] = round(spent * 1000 / sales, 2)
    return report


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has spent so far, from ``/proc/<pid>/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _api_process(platform: Platform, grants: dict[str, list[str]], say: Say,
                 serve: Callable[[int], list[str]] | None = None,
                 database_url: str | None = None) -> Iterator[tuple[str, int]]:
    """The API as users run it (``chainright api run``, its own process) on the platform's chains;
    yields its base URL and process id. ``serve(port)``: the interpreter's arguments that serve it
    instead (e.g. the profiled server of ``bench.profile``); ``database_url``: its database (else
    SQLite in the bench's data directory)."""
    port = free_port()
    data_dir = platform.data_dir / "api-e2e"
    data_dir.mkdir(parents=True, exist_ok=True)
    home, remote = platform.settings.spec("home"), platform.settings.spec("remote")
    env = dict(os.environ, CHAINRIGHT_CHAIN_ENVIRONMENT="test",
               CHAINRIGHT_CHAIN_DATA_DIR=str(platform.data_dir),
               CHAINRIGHT_API_ENVIRONMENT="test", CHAINRIGHT_API_DATA_DIR=str(data_dir),
               CHAINRIGHT_API_ROLE_GRANTS=json.dumps(grants))
    for spec in (home, remote):  # the chains as the bench sees them (a consortium's id and PoA headers too)
        prefix = f"CHAINRIGHT_CHAIN_{spec.name.upper()}_"
        env.update({prefix + "RPC_URL": spec.rpc_url, prefix + "CHAIN_ID": str(spec.chain_id),
                    prefix + "POA": "true" if spec.poa else "false",
                    prefix + "CONFIRMATIONS": str(spec.confirmations)})
    env.pop("CHAINRIGHT_API_DATABASE_URL", None)
    env.pop("CHAINRIGHT_API_IPFS_API", None)
    if database_url:
        env["CHAINRIGHT_API_DATABASE_URL"] = database_url
    log = data_dir / f"api-{port}.log"
    with open(log, "ab") as out:
        argv = serve(port) if serve is not None else ["-m", "chainright", "api", "run", "--port", str(port)]
        proc = subprocess.Popen([sys.executable, *argv], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start for the e2e bench: {log.read_text()[-800:]}")
            time.sleep(0.2)
        say(f"e2e bench: API process {proc.pid} on {base}")
        yield base, proc.pid
    finally:
        if proc.poll() is None:  # an API that died at start-up: its own error above says why
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _upload(client: Any, data: bytes) -> str:
    return str(client._call("POST", "/assets", files={"file": ("work.bin", data)})["cid"])


def relayer_argv(role: str) -> list[str]:
    """How the bridge bench starts one relayer process (as ``chainright relayer run`` does)."""
    base = [sys.executable, "-m", "chainright", "relayer", "run", "--role"]
    return [*base, "submitter"] if role == "submitter" else \
        [*base, "validator", "--validator-index", role.rsplit("-", 1)[1]]


def run_report(*, transfers: int, seconds: float, sales: int, buyers: int, bridge_count: int,
               bridge_batch: int, say: Say, cart: int = 10,
               index_events: int | None = None) -> dict[str, Any]:
    """Every figure of ``chainright bench`` measured in one run, with the conditions they hold for."""
    from bench.bridge import run_bridge_bench
    from bench.gas import run_gas_bench
    from bench.transfers import run_transfer_bench
    from chain.artifacts import compile_project

    artifacts = compile_project()
    report: dict[str, Any] = {"gas": run_gas_bench(artifacts, progress=say)}
    with LocalPlatform(say) as platform:
        spec = platform.settings.spec("home")
        raw = run_transfer_bench([spec.rpc_url], count=transfers, progress=say)
        report["raw_tx_per_s"] = round(raw.tx_per_s, 1)
        anvil = platform.manager.running("home")
        if anvil is None:
            raise RuntimeError("e2e bench: the home anvil is not running")
        chain_pids = {"anvil home": anvil.pid}
        presigned = presigned_sales(platform, artifacts, max(sales, PRESIGNED_MIN_SALES), cart, say,
                                    chain_pids)
        report.update(presigned)
        e2e = e2e_sales_per_s(platform, sales, say, buyers=buyers, cart=cart, chain_pids=chain_pids)
        report.update(e2e)
        report.update(sale_ratios(e2e, presigned, report["raw_tx_per_s"]))
        index_events = index_events if index_events is not None else transfers
        report.update(indexer_events_per_s(platform, artifacts, index_events, say))
        report.update(api_reads_per_s(platform, artifacts, say, seconds=seconds))
    say(f"bridge bench: {bridge_count} sequential transfers, then {bridge_batch} together")
    bridge = run_bridge_bench(artifacts, relayer_argv, count=bridge_count, batch=bridge_batch, progress=say)
    report["relay_latency_p50_s"] = round(bridge.latency_p50_s, 3)
    report["relay_latency_p95_s"] = round(bridge.latency_p95_s, 3)
    report["bridge_transfers_per_s"] = round(bridge.throughput_tps, 1)
    report["conditions"] = {
        "chain": "anvil, automine (one block per transaction)", "block_time_s": None, "confirmations": 0,
        "raw_transfers": transfers, "raw_senders": raw.senders,
        "e2e_sales": sales, "e2e_buyers": buyers, "e2e_batch_size": cart,
        "e2e_path": f"batched: POST /market/orders/batch ({cart} listings) + POST /market/fill-tx/batch "
                    "(one fillListings per cart); single (e2e_single_*): POST /market/orders + POST "
                    "/market/orders/{hash}/fill-tx (one fillListing per sale); API in its own process, "
                    "fills signed by the buyer's wallet and sent raw, clock to the last receipt",
        "presigned_sales": presigned["presigned_sales"], "presigned_buyers": presigned["presigned_buyers"],
        "presigned_path": f"the same sales on the same home anvil right before the e2e run: N = "
                          f"{presigned['presigned_sales']} listings (the e2e count, at least "
                          f"{PRESIGNED_MIN_SALES}) signed and N fillListing, then N more in fillListings "
                          f"carts of {cart}, transactions signed before the clock, sent raw in JSON-RPC "
                          f"batches by {presigned['presigned_buyers']} buyers, clock from the first send to "
                          "the last receipt; e2e_ratio = e2e_sales_per_s / presigned_cart_sales_per_s, "
                          "e2e_single_ratio = e2e_single_sales_per_s / presigned_sales_per_s",
        "cpu_processes": "api: the API process; chain: the home anvil; client: this bench process (signing "
                         "listings and fills, HTTP, sending, polling receipts); user + system CPU from "
                         "/proc over each run, per sale",
        "indexer_transfers": index_events,
        "indexer_dense_logs_per_block": report["indexer_dense_logs_per_block"],
        "indexer_database": "sqlite", "api_read_seconds": seconds, "api_read_runs": report["api_read_runs"],
        "api_read_clients": 4, "api_servers": "API and bare FastAPI each in its own process (uvicorn, one "
                                              "worker); load from a third process (bench.httpload)",
        "bridge_latency_transfers": bridge.transfers_latency, "bridge_batch": bridge.batch,
        "bridge_validators": bridge.validators, "bridge_threshold": bridge.threshold,
        "bridge_confirmations": bridge.confirmations, "cores": os.cpu_count(),
    }
    return report


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve_main(sys.argv[2:])
    else:
        raise SystemExit("usage: python -m bench.platform serve api|bare PORT [--no-cache | PAYLOAD]")
