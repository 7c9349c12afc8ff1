"""The platform on the consortium: a 4-validator geth Clique network (1 s blocks) is the home chain,
a managed anvil the remote one, configured exactly as ``chainright consortium env`` prints.

Every contract family is deployed by ``deploy_to_chains`` (what ``chainright deploy`` runs); the API
(in process), the indexer (``build_indexers``/``follow`` in a thread) and the real relayer
(``chainright relayer run --role all``: three validator processes and the submitter) run against it.
A creator mints through the API, a collector buys with a signed listing (the royalty lands in the
split), a licensee buys a license, and a token goes to the remote chain and back with its rights,
attested at the consortium's confirmation depth. Then two of the four validators are killed: the
relayer and indexer report the stall naming the chain, its last block and since when, the API
refuses writes with a 503 chain-stalled problem while reads answer, and a token burned on the anvil
during the stall is attested but its delivery home held; the validators come back and everything
resumes by itself: the held return lands, a sale listed during the stall settles and the index
catches up.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from web3 import Web3
from web3.logs import DISCARD

from api import create_app
from api.db import Database
from api.settings import ApiSettings
from bridge.message import wrapped_id
from chain.artifacts import Artifacts
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.orders import MarketDomain, listing, sign_order
from chain.reverts import ErrorDecoder
from chain.settings import PROJECT_ROOT, ChainSettings
from chain.tx import TxSender
from devnet.anvil import NodeManager
from devnet.consortium import Consortium, ConsortiumSettings, confirmations_for, find_free_base_port
from did.settings import DidSettings
from record.index.service import build_indexers, follow
from tests.conftest import free_port, settings_env
from tests.support.api_flow import APPLICATION, OFFICER
from tests.support.api_flow import send as wallet_send

pytestmark = pytest.mark.integration

HOME = 1337
PERIOD_S = 1
CREATOR, COLLECTOR, LICENSEE = dev_account(1), dev_account(2), dev_account(5)
RIGHTS, ISSUER, CHANNEL = dev_account(3), dev_account(4), dev_account(7)
WAKER = dev_account(9)
PRICE = 10**17
LICENSE_FEE = 10**16
YEAR = 365 * 24 * 3600
T = TypeVar("T")


def wait_for(what: str, fn: Callable[[], T | None], timeout: float, interval: float = 0.2,
             logs: Callable[[], str] | None = None) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{logs() if logs else ''}")


@dataclass
class Platform:
    net: Consortium
    chain: ChainSettings
    artifacts: Artifacts
    client: TestClient
    home: Web3
    remote: Web3
    relayer_log: Path
    relayer_env: dict[str, str]
    indexer_lines: list[str]
    addresses: dict[int, dict[str, str]]
    state: dict[str, Any] = field(default_factory=dict)

    def at(self, web3: Web3, name: str, address: str | None = None, artifact: str | None = None) -> Any:
        chain_id = int(web3.eth.chain_id)
        return web3.eth.contract(address=address or self.addresses[chain_id][name],  # type: ignore[call-overload]
                                 abi=self.artifacts.get(artifact or name).abi)

    def sender(self, web3: Web3, account: LocalAccount) -> TxSender:
        decoder = ErrorDecoder(self.artifacts.get(n).abi for n in self.artifacts.names())
        return TxSender(web3, account, decoder=decoder, timeout_s=60)

    def send(self, web3: Web3, account: LocalAccount, fn: Any, value: int = 0) -> Any:
        s = self.sender(web3, account)
        receipt = s.transact(s.call_tx(fn, value=value))
        assert receipt["status"] == 1
        return receipt

    def logs(self) -> str:
        relayer = self.relayer_log.read_text(errors="replace")[-4000:] if self.relayer_log.exists() else ""
        return f"--- relayer ---\n{relayer}\n--- indexer ---\n" + "\n".join(self.indexer_lines[-30:])

    def relayer_status(self) -> str:
        out = subprocess.run([sys.executable, "-m", "chainright", "relayer", "status"], env=self.relayer_env,
                             capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)
        assert out.returncode == 0, out.stderr
        return out.stdout


def login(client: TestClient, account: LocalAccount) -> dict[str, str]:
    r = client.post("/auth/siwe/nonce", json={"address": account.address, "chain_id": HOME})
    assert r.status_code == 200, r.text
    message = r.json()["message"]
    signature = "0x" + bytes(account.sign_message(encode_defunct(text=message)).signature).hex()
    r = client.post("/auth/siwe/login", json={"message": message, "signature": signature})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def verified_login(client: TestClient, account: LocalAccount) -> dict[str, str]:
    """Log in on the consortium and pass KYC (the officer's approval writes both chains' registries)."""
    headers = login(client, account)
    r = client.post("/kyc/applications", json=APPLICATION, headers=headers)
    assert r.status_code == 201, r.text
    r = client.post(f"/kyc/applications/{r.json()['id']}/approve", json={"level": 2},
                    headers=login(client, OFFICER))
    assert r.status_code == 200, r.text
    return headers


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, artifacts: Artifacts) -> Iterator[Platform]:
    tmp = tmp_path_factory.mktemp("consortium-platform")
    net = Consortium(ConsortiumSettings(data_dir=tmp / "net", base_port=find_free_base_port(4),
                                        block_period_s=PERIOD_S, validators=4))
    manager: NodeManager | None = None
    relayer: subprocess.Popen[bytes] | None = None
    stop = threading.Event()
    follower: threading.Thread | None = None
    db: Database | None = None
    try:
        net.up(4)
        exports = net.env("home")  # what `chainright consortium env` prints
        assert exports["CHAINRIGHT_CHAIN_HOME_CONFIRMATIONS"] == str(confirmations_for(4)) == "3"
        env_settings = {k.removeprefix("CHAINRIGHT_CHAIN_").lower(): v for k, v in exports.items()}
        chain = ChainSettings(environment="test", data_dir=tmp / "platform", remote_port=free_port(),
                              persist_state=False, **env_settings)  # type: ignore[arg-type]
        assert chain.spec("home").poa and chain.spec("home").max_block_age_s == 4.0
        manager = NodeManager(chain)
        manager.start([chain.spec("remote")])
        deploy_to_chains(chain, chain.specs("all"))
        registry = DeploymentRegistry(chain.deployments_file)
        addresses = {cid: {n: d.address for n, d in registry.for_chain(cid).items()} for cid in (HOME, 31338)}

        db = Database(f"sqlite:///{tmp / 'api.db'}")
        db.migrate()
        api_settings = ApiSettings(environment="test", data_dir=tmp / "api", siwe_domain="testserver",
                                   siwe_uri="http://testserver",
                                   role_grants={f"did:pkh:eip155:{HOME}:{OFFICER.address}": ["kyc_officer"]})
        app = create_app(api_settings, db=db, chain_settings=chain, did_settings=DidSettings(environment="test"))
        client = TestClient(app, raise_server_exceptions=False)

        indexer_lines: list[str] = []
        indexers = build_indexers(chain, db.engine, artifacts, which="home", progress=indexer_lines.append)
        assert indexers[0].confirmations == 3 and indexers[0].health is not None
        follower = threading.Thread(target=follow, args=(indexers, stop), daemon=True,
                                    kwargs={"poll_s": 0.25,
                                            "on_error": lambda ix, exc: indexer_lines.append(f"{ix.tag}: {exc}")})
        follower.start()

        relayer_env = settings_env(chain)
        relayer_env.update(exports)
        relayer_env.update({"CHAINRIGHT_BRIDGE_ENVIRONMENT": "test", "CHAINRIGHT_BRIDGE_POLL_INTERVAL_S": "0.2",
                            "CHAINRIGHT_CHAIN_REMOTE_PORT": str(chain.remote_port)})
        relayer_log = tmp / "relayer.log"
        with open(relayer_log, "ab") as out:
            relayer = subprocess.Popen([sys.executable, "-m", "chainright", "relayer", "run", "--role", "all"],
                                       env=relayer_env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, cwd=PROJECT_ROOT, start_new_session=True)
        yield Platform(net, chain, artifacts, client, connect(chain.spec("home")), connect(chain.spec("remote")),
                       relayer_log, relayer_env, indexer_lines, addresses)
    finally:
        stop.set()
        if relayer is not None and relayer.poll() is None:
            relayer.send_signal(signal.SIGTERM)
            try:
                relayer.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(relayer.pid, signal.SIGKILL)
                relayer.wait()
        if follower is not None:
            follower.join(timeout=10)
        if manager is not None:
            manager.stop(["remote"])
        net.down()
        if db is not None:
            db.dispose()


def _wake_sealers(p: Platform) -> None:
    """Send one plain transaction to the network, without waiting for it.

    geth's Clique worker re-tries sealing only on a new head or a new transaction. A validator
    that came back and tried to seal before it had caught up ("signed recently") therefore waits
    for traffic, which a member network has and this idle test network does not. The platform
    sends nothing to a stalled chain, so the test sends this one itself."""
    sender = TxSender(p.home, WAKER)
    raw, _ = sender.sign({"to": WAKER.address, "value": 0, "gas": 21_000})
    p.home.eth.send_raw_transaction(raw)


def _listing(p: Platform, token_id: int, price: int = PRICE) -> dict[str, Any]:
    now = int(time.time())
    order = listing(seller=CREATOR.address, token=p.state["collection"], token_id=token_id, unit_price=price,
                    start=now - 60, expiry=now + 3600, counter=0, holding_epoch=0)  # fresh mints
    signed = sign_order(order, MarketDomain(HOME, p.addresses[HOME]["Marketplace"]), CREATOR)
    return {"chain_id": HOME, "side": "listing", "signer": order.signer, "token": order.token,
            "token_id": token_id, "unit_price": price, "start": order.start, "expiry": order.expiry,
            "salt": order.salt, "counter": 0, "signature": "0x" + signed.signature.hex()}


def _fills(p: Platform) -> list[dict[str, Any]]:
    r = p.client.get("/market/fills", params={"chain_id": HOME, "token": p.state["collection"]})
    assert r.status_code == 200, r.text
    return list(r.json())


def _terms() -> tuple[Any, ...]:
    # (commercialUse, derivativesAllowed, attributionRequired, transferable, revocable,
    #  derivativeRevenueShareBps, duration, fee, territories, legalTextCid)
    return (True, False, True, True, False, 0, YEAR, LICENSE_FEE, [b"DE", b"FR"],
            "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")


def test_mint_sell_license_and_bridge_round_trip_on_the_consortium(platform: Platform):
    p, client, home = platform, platform.client, platform.home
    creator = verified_login(client, CREATOR)
    content = b"a work issued on the consortium"
    cid = client.post("/assets", files={"file": ("w.png", content, "image/png")}, headers=creator).json()["cid"]
    split = client.post("/splits/tx", json={"chain_id": HOME, "rights_holder": RIGHTS.address,
                                            "issuer": ISSUER.address, "channel": CHANNEL.address},
                        headers=creator)
    assert split.status_code == 200, split.text
    wallet_send(home, CREATOR, split.json()["transaction"])
    splitter = split.json()["splitter"]
    out = client.post("/collections/tx", json={"chain_id": HOME, "name": "Consortium", "symbol": "CONS",
                                               "royalty_receiver": splitter, "royalty_bps": 1000}, headers=creator)
    assert out.status_code == 200, out.text
    assert wallet_send(home, CREATOR, out.json()["transaction"])["status"] == 1
    collection = out.json()["predicted_address"]
    p.state.update(collection=collection, cid=cid, creator=creator, content=content)
    mint = client.post(f"/assets/{cid}/mint-tx", json={"chain_id": HOME, "collection": collection, "quantity": 4},
                       headers=creator)
    assert mint.status_code == 200, mint.text
    assert wallet_send(home, CREATOR, mint.json())["status"] == 1
    nft = p.at(home, "CreatorCollection", collection)
    assert nft.functions.ownerOf(4).call() == CREATOR.address

    # Sell: a signed listing, filled with the transaction the API builds; the royalty is paid atomically.
    market = p.addresses[HOME]["Marketplace"]
    p.send(home, CREATOR, nft.functions.setApprovalForAll(market, True))
    order = client.post("/market/orders", json=_listing(p, 1), headers=creator)
    assert order.status_code == 201, order.text
    collector = verified_login(client, COLLECTOR)
    p.state["collector"] = collector
    split_before = home.eth.get_balance(splitter)
    fill = client.post(f"/market/orders/{order.json()['order_hash']}/fill-tx", json={"amount": 1},
                       headers=collector)
    assert fill.status_code == 200, fill.text
    assert wallet_send(home, COLLECTOR, fill.json())["status"] == 1
    assert nft.functions.ownerOf(1).call() == COLLECTOR.address
    assert home.eth.get_balance(splitter) - split_before == PRICE // 10

    # License: the creator publishes terms and offers them for token 2; a licensee pays the fee, which
    # goes to the work's royalty receiver.
    licensing = p.at(home, "Licensing")
    p.send(home, CREATOR, licensing.functions.publishTerms(_terms()))
    terms_hash = licensing.functions.hashTerms(_terms()).call()
    p.send(home, CREATOR, licensing.functions.attachTerms(collection, 2, terms_hash))
    split_before = home.eth.get_balance(splitter)
    granted = p.send(home, LICENSEE, licensing.functions.buyLicense(collection, 2, terms_hash), value=LICENSE_FEE)
    (grant,) = licensing.events.LicenseGranted().process_receipt(granted, errors=DISCARD)
    assert grant["args"]["licensee"] == LICENSEE.address
    assert home.eth.get_balance(splitter) - split_before == LICENSE_FEE

    # Bridge token 2 to the anvil and back through the real relayer, at the consortium's depth.
    lockbox, remote_bridge = p.at(home, "HomeLockbox"), p.at(p.remote, "RemoteBridge")
    p.send(home, CREATOR, nft.functions.setApprovalForAll(lockbox.address, True))
    locked = p.send(home, CREATOR, lockbox.functions.lock(collection, 2, CREATOR.address, 31338,
                                                          hashlib.sha256(content).digest()))
    (event,) = lockbox.events.TokenLocked().process_receipt(locked, errors=DISCARD)
    transfer_id = event["args"]["transferId"]
    wait_for("the wrapped token on the anvil",
             lambda: remote_bridge.functions.processed(transfer_id).call(), 120, logs=p.logs)
    minted_at = home.eth.block_number
    # Attested only once 3 blocks (3 distinct signers) were on top of the lock.
    assert minted_at >= locked["blockNumber"] + 3
    wrapped = p.at(p.remote, "WrappedCollection")
    wid = wrapped_id(collection, 2)
    assert wrapped.functions.ownerOf(wid).call() == CREATOR.address
    assert wrapped.functions.tokenURI(wid).call() == nft.functions.tokenURI(2).call()
    home_terms = bytes(lockbox.functions.licenseTermsHashOf(collection, 2).call())
    assert home_terms != b"\0" * 32 and bytes(wrapped.functions.licenseTermsHashOf(wid).call()) == home_terms
    assert tuple(wrapped.functions.royaltyInfo(wid, PRICE).call()) == (splitter, PRICE // 10)
    p.send(p.remote, CREATOR, remote_bridge.functions.burnToHome(wid, CREATOR.address))
    wait_for("the token back home", lambda: nft.functions.ownerOf(2).call() == CREATOR.address, 120, logs=p.logs)
    assert lockbox.functions.outstanding().call() == remote_bridge.functions.outstanding().call() == 0
    wait_for("the submitter's delivery line",  # the owner changes a moment before the line is written
             lambda: f"relayer[submitter 31338->{HOME}] delivered transfer" in p.relayer_log.read_text(), 30,
             logs=p.logs)
    log_text = p.relayer_log.read_text()
    assert f"relayer[validator-0 {HOME}->31338] scanning from block" in log_text and "confirmations 3" in log_text

    # The indexer follows the consortium at its depth: the sale shows up.
    fills = wait_for("the sale in the index", lambda: _fills(p), 60, logs=p.logs)
    assert len(fills) == 1 and int(fills[0]["royalty"]) == PRICE // 10


def test_losing_quorum_is_reported_writes_get_503_reads_answer_and_all_recovers(platform: Platform):
    p, client, home = platform, platform.client, platform.home
    if "collection" not in p.state:
        pytest.fail("needs the platform built by the previous test (run the module in order)")
    creator, collector = p.state["creator"], p.state["collector"]
    listed = client.post("/market/orders", json=_listing(p, 3), headers=creator)
    assert listed.status_code == 201, listed.text
    order_hash = listed.json()["order_hash"]
    fills_before = len(_fills(p))
    # Token 4 goes to the anvil first; it comes back while home is stalled (below).
    nft = p.at(home, "CreatorCollection", p.state["collection"])
    lockbox, remote_bridge = p.at(home, "HomeLockbox"), p.at(p.remote, "RemoteBridge")
    locked = p.send(home, CREATOR, lockbox.functions.lock(p.state["collection"], 4, CREATOR.address, 31338,
                                                          hashlib.sha256(p.state["content"]).digest()))
    (event,) = lockbox.events.TokenLocked().process_receipt(locked, errors=DISCARD)
    wait_for("token 4 on the anvil", lambda: remote_bridge.functions.processed(event["args"]["transferId"]).call(),
             120, logs=p.logs)
    net = p.net.require_network()
    down = [net.node(2), net.node(3)]
    relayer_seen = len(p.relayer_log.read_text())
    indexer_seen = len(p.indexer_lines)
    for node in down:
        p.net.stop_node(node.index, kill=True)
    killed = time.monotonic()
    restarted: float | None = None
    try:
        relayer_line = wait_for(
            "the relayer to report the stall",
            lambda: next((ln for ln in p.relayer_log.read_text()[relayer_seen:].splitlines()
                          if f"chain {HOME} stalled: no block since block" in ln), None), 40, logs=p.logs)
        relayer_s = time.monotonic() - killed
        indexer_line = wait_for(
            "the indexer to report the stall",
            lambda: next((ln for ln in p.indexer_lines[indexer_seen:] if "stalled" in ln), None), 40, logs=p.logs)
        indexer_s = time.monotonic() - killed
        last_block = home.eth.block_number
        assert f"block {last_block} " in relayer_line and "Z, " in relayer_line and "s ago" in relayer_line
        assert indexer_line.startswith(f"indexer[{HOME}] chain {HOME} stalled") and f"block {last_block} " in indexer_line
        status = p.relayer_status()
        assert f"chain {HOME} (home): STALLED, no block since block {last_block}" in status, status
        # A return burned on the anvil during the stall is attested but held, not lost.
        p.send(p.remote, CREATOR, remote_bridge.functions.burnToHome(wrapped_id(p.state["collection"], 4),
                                                                      CREATOR.address))
        wait_for("the held return to be attested and pending",
                 lambda: f"route 31338->{HOME}: 1 pending" in p.relayer_status(), 30, logs=p.logs)
        assert nft.functions.ownerOf(4).call() == lockbox.address

        # Writes: a clear 503 naming the chain, its last block and what to do; nothing is built.
        for path, body in ((f"/assets/{p.state['cid']}/mint-tx", {"chain_id": HOME, "collection": p.state["collection"]}),
                           (f"/market/orders/{order_hash}/fill-tx", {"amount": 1}),
                           ("/collections/tx", {"chain_id": HOME, "name": "X", "symbol": "X", "royalty_bps": 0})):
            headers = creator if "fill" not in path else collector
            r = client.post(path, json=body, headers=headers)
            assert r.status_code == 503, (path, r.text)
            problem = r.json()
            assert r.headers["content-type"].startswith("application/problem+json")
            assert problem["type"] == "/problems/chain-stalled" and problem["chain_id"] == HOME
            assert problem["last_block"] == last_block
            assert f"chain {HOME} ('home') has made no block since block {last_block}" in problem["detail"]
            assert "validators" in problem["detail"] and "Reads still answer" in problem["detail"]
        # Reads answer from the last block.
        assert client.get(f"/assets/{p.state['cid']}").status_code == 200
        orders = client.get("/market/orders", params={"token": p.state["collection"], "token_id": 3})
        assert orders.status_code == 200 and [o["order_hash"] for o in orders.json()] == [order_hash]
        assert client.get(f"/provenance/{HOME}/{p.state['collection']}/1").status_code == 200
        assert len(_fills(p)) == fills_before
    finally:
        restarted = time.monotonic()
        for node in down:
            p.net.start_node(node.index)
    _wake_sealers(p)
    wait_for("the relayer to report the recovery",
             lambda: f"chain {HOME} resumed: block" in p.relayer_log.read_text()[relayer_seen:], 90, logs=p.logs)
    relayer_back_s = time.monotonic() - restarted

    def write_accepted() -> Any:
        r = client.post(f"/market/orders/{order_hash}/fill-tx", json={"amount": 1}, headers=collector)
        return r if r.status_code == 200 else None

    fill = wait_for("the API to accept writes again", write_accepted, 60, interval=0.5)
    api_back_s = time.monotonic() - restarted
    assert wallet_send(home, COLLECTOR, fill.json())["status"] == 1  # the sale settles
    assert nft.functions.ownerOf(3).call() == COLLECTOR.address
    wait_for("the held return delivered home", lambda: nft.functions.ownerOf(4).call() == CREATOR.address, 90,
             logs=p.logs)
    wait_for("the submitter's delivery line",
             lambda: f"relayer[submitter 31338->{HOME}] sent delivery" in p.relayer_log.read_text()[relayer_seen:], 30,
             logs=p.logs)
    after = p.relayer_log.read_text()[relayer_seen:].splitlines()
    resumed_at = next(i for i, ln in enumerate(after) if f"relayer[submitter] chain {HOME} resumed" in ln)
    sent_at = next(i for i, ln in enumerate(after) if f"relayer[submitter 31338->{HOME}] sent delivery" in ln)
    assert sent_at > resumed_at, "the submitter sent a delivery to the stalled chain"
    wait_for("the indexer to report the recovery",
             lambda: any("resumed" in ln for ln in p.indexer_lines[indexer_seen:]), 30, logs=p.logs)
    fills = wait_for("the index to catch up with the new sale",
                     lambda: (f := _fills(p)) and len(f) == fills_before + 1 and f, 60, logs=p.logs)
    assert order_hash in {f["orderHash"] for f in fills}
    status = p.relayer_status()
    assert f"chain {HOME} (home): head" in status and "(ok)" in status, status
    print(f"\nconsortium platform: stall reported by the relayer {relayer_s:.1f}s and the indexer "
          f"{indexer_s:.1f}s after killing 2 of 4 validators (max block age 4s); after the restart: "
          f"relayer saw blocks in {relayer_back_s:.1f}s, API accepted writes in {api_back_s:.1f}s")
