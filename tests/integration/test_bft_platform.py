"""The platform on the BFT consortium: ``chainright consortium up --engine bft --validators 4
--detach`` starts four bftd validators (CometBFT + cosmos/evm), the platform is configured exactly
as ``consortium env --engine bft`` prints, every contract family is deployed by
``deploy_to_chains`` (what ``chainright deploy`` runs; a managed anvil is the remote chain), and the
API (in process) and the indexer (a thread) run on it. A creator mints through the API, a collector
buys a signed listing with the fill the API builds (the royalty lands in the split), the indexer
shows the sale at depth 0 although 3 confirmations are configured (finality by engine), a licensee
buys a license with the transaction the API builds (indexed: it is in the token's bundle), the real
relayer (``chainright relayer run --role all``) takes a token to the anvil and back, attesting the
BFT side at depth 0, and the
token's bundle from the API verifies as far as the engine allows: receipt proofs, events and story
pass, header and state proofs are "not available on this engine", and ``chainright verify`` says
PARTLY CHECKED (exit 2), never VERIFIED; the returned token's bundle carries the delivery's signed
transaction, rebuilt from the node's fields (the engine has no eth_getRawTransactionByHash) and
proven against the transactions root, so its bridge hops are checked. Stopped validators are
started again one by one with ``consortium start-node --engine bft``, which returns once the
validator has caught up. ``consortium down --engine bft`` then stops every validator by its PID
record."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
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
from chain.engines import BFT, engine_of_web3
from chain.errors import NodeBinaryMissingError
from chain.orders import MarketDomain, listing, sign_order
from chain.reverts import ErrorDecoder
from chain.settings import PROJECT_ROOT, ChainSettings
from chain.tx import TxSender
from devnet.anvil import NodeManager
from devnet.bft import find_bftd
from did.settings import DidSettings
from record.index.service import build_indexers, follow
from record.provenance import verify_bundle
from tests.conftest import free_port, settings_env
from tests.support.api_flow import APPLICATION, OFFICER
from tests.support.api_flow import send as wallet_send

pytestmark = [pytest.mark.integration, pytest.mark.bft]

HOME = 1341
CREATOR, COLLECTOR = dev_account(1), dev_account(2)
RIGHTS, ISSUER, CHANNEL = dev_account(3), dev_account(4), dev_account(7)
LICENSEE = dev_account(5)
PRICE = 10**17
LICENSE_FEE = 10**16
T = TypeVar("T")


def wait_for(what: str, fn: Callable[[], T | None], timeout: float, interval: float = 0.3) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def free_base_port(validators: int) -> int:
    """A base port below the ephemeral range whose 10 ports per validator are free now."""
    for base in range(21000, 30000, 97):
        try:
            for port in range(base, base + 10 * validators):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free block of ports")


def cli(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chainright", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=PROJECT_ROOT)


@dataclass
class Platform:
    chain: ChainSettings
    artifacts: Artifacts
    client: TestClient
    home: Web3
    addresses: dict[str, str]
    cli_env: dict[str, str]
    data_dir: Path
    indexer_confirmations: int
    indexer_lines: list[str]
    remote: Web3
    relayer_log: Path
    state: dict[str, Any] = field(default_factory=dict)

    def logs(self) -> str:
        relayer = self.relayer_log.read_text(errors="replace")[-4000:] if self.relayer_log.exists() else ""
        return f"--- relayer ---\n{relayer}\n--- indexer ---\n" + "\n".join(self.indexer_lines[-30:])


def login(client: TestClient, account: LocalAccount) -> dict[str, str]:
    r = client.post("/auth/siwe/nonce", json={"address": account.address, "chain_id": HOME})
    assert r.status_code == 200, r.text
    message = r.json()["message"]
    signature = "0x" + bytes(account.sign_message(encode_defunct(text=message)).signature).hex()
    r = client.post("/auth/siwe/login", json={"message": message, "signature": signature})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def verified_login(client: TestClient, account: LocalAccount) -> dict[str, str]:
    headers = login(client, account)
    r = client.post("/kyc/applications", json=APPLICATION, headers=headers)
    assert r.status_code == 201, r.text
    r = client.post(f"/kyc/applications/{r.json()['id']}/approve", json={"level": 2},
                    headers=login(client, OFFICER))
    assert r.status_code == 200, r.text
    return headers


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, artifacts: Artifacts) -> Iterator[Platform]:
    try:
        find_bftd()
    except NodeBinaryMissingError:
        pytest.fail("bftd is not built: run 'make test-bft', which builds it (tools/bft/build.sh)")
    tmp = tmp_path_factory.mktemp("bft-platform")
    data_dir = tmp / "bft"
    cli_env = {**os.environ, "CHAINRIGHT_BFT_DATA_DIR": str(data_dir), "CHAINRIGHT_BFT_CHAIN_ID": str(HOME),
               "CHAINRIGHT_BFT_BASE_PORT": str(free_base_port(4)), "CHAINRIGHT_BFT_BLOCK_TIME_S": "0.5"}
    manager: NodeManager | None = None
    relayer: subprocess.Popen[bytes] | None = None
    stop = threading.Event()
    follower: threading.Thread | None = None
    db: Database | None = None
    try:
        up = cli(cli_env, "consortium", "up", "--engine", "bft", "--validators", "4", "--detach")
        assert up.returncode == 0, up.stdout + up.stderr
        assert sorted(p.name for p in (data_dir / "run").iterdir()) == [f"validator{i}.json" for i in range(4)]
        status = cli(cli_env, "consortium", "status", "--engine", "bft", "--json")
        assert status.returncode == 0, status.stderr
        nodes = json.loads(status.stdout)["nodes"]
        assert len(nodes) == 4 and all(n["running"] and n["block"] >= 2 for n in nodes), nodes
        env_out = cli(cli_env, "consortium", "env", "--engine", "bft")
        assert env_out.returncode == 0, env_out.stderr
        exports = dict(line.removeprefix("export ").split("=", 1) for line in env_out.stdout.splitlines())
        assert exports["CHAINRIGHT_CHAIN_HOME_CHAIN_ID"] == str(HOME)
        assert exports["CHAINRIGHT_CHAIN_HOME_CONFIRMATIONS"] == "0"
        env_settings = {k.removeprefix("CHAINRIGHT_CHAIN_").lower(): v for k, v in exports.items()}
        env_settings["home_confirmations"] = "3"  # configured too deep: the engine makes it 0
        chain = ChainSettings(environment="test", data_dir=tmp / "platform", remote_port=free_port(),
                              persist_state=False, **env_settings)  # type: ignore[arg-type]
        manager = NodeManager(chain)
        manager.start([chain.spec("remote")])
        deploy_to_chains(chain, chain.specs("all"))
        registry = DeploymentRegistry(chain.deployments_file)
        addresses = {n: d.address for n, d in registry.for_chain(HOME).items()}

        db = Database(f"sqlite:///{tmp / 'api.db'}")
        db.migrate()
        api_settings = ApiSettings(environment="test", data_dir=tmp / "api", siwe_domain="testserver",
                                   siwe_uri="http://testserver",
                                   role_grants={f"did:pkh:eip155:{HOME}:{OFFICER.address}": ["kyc_officer"]})
        app = create_app(api_settings, db=db, chain_settings=chain, did_settings=DidSettings(environment="test"))
        client = TestClient(app, raise_server_exceptions=False)
        indexer_lines: list[str] = []
        indexers = build_indexers(chain, db.engine, artifacts, which="all", progress=indexer_lines.append)
        depth = indexers[0].confirmations
        follower = threading.Thread(target=follow, args=(indexers, stop), daemon=True,
                                    kwargs={"poll_s": 0.25,
                                            "on_error": lambda ix, exc: indexer_lines.append(f"{ix.tag}: {exc}")})
        follower.start()
        relayer_env = settings_env(chain)
        relayer_env.update(exports)  # what `chainright consortium env --engine bft` printed
        relayer_env["CHAINRIGHT_CHAIN_HOME_CONFIRMATIONS"] = "3"  # too deep on purpose, as for the indexer
        relayer_env.update({"CHAINRIGHT_BRIDGE_ENVIRONMENT": "test", "CHAINRIGHT_BRIDGE_POLL_INTERVAL_S": "0.2",
                            "CHAINRIGHT_CHAIN_REMOTE_PORT": str(chain.remote_port)})
        relayer_log = tmp / "relayer.log"
        with open(relayer_log, "ab") as out:
            relayer = subprocess.Popen([sys.executable, "-m", "chainright", "relayer", "run", "--role", "all"],
                                       env=relayer_env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, cwd=PROJECT_ROOT, start_new_session=True)
        yield Platform(chain, artifacts, client, connect(chain.spec("home")), addresses, cli_env, data_dir,
                       depth, indexer_lines, connect(chain.spec("remote")), relayer_log)
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
        if db is not None:
            db.dispose()
        down = cli(cli_env, "consortium", "down", "--engine", "bft", timeout=120)
        assert down.returncode == 0, down.stdout + down.stderr
        assert not list((data_dir / "run").glob("validator*.json")), "a validator's PID record is left"


def _listing(p: Platform, token_id: int, holding_epoch: int = 0) -> dict[str, Any]:
    now = int(time.time())
    order = listing(seller=CREATOR.address, token=p.state["collection"], token_id=token_id, unit_price=PRICE,
                    start=now - 60, expiry=now + 3600, counter=0, holding_epoch=holding_epoch)
    signed = sign_order(order, MarketDomain(HOME, p.addresses["Marketplace"]), CREATOR)
    return {"chain_id": HOME, "side": "listing", "signer": order.signer, "token": order.token,
            "token_id": token_id, "unit_price": PRICE, "start": order.start, "expiry": order.expiry,
            "salt": order.salt, "counter": 0, "holding_epoch": holding_epoch,
            "signature": "0x" + signed.signature.hex()}


def _fills(p: Platform) -> list[dict[str, Any]]:
    r = p.client.get("/market/fills", params={"chain_id": HOME, "token": p.state["collection"]})
    assert r.status_code == 200, r.text
    return list(r.json())


def test_the_node_is_taken_for_bft_and_the_indexer_reads_at_depth_zero(platform: Platform) -> None:
    assert engine_of_web3(platform.home) is BFT
    assert platform.chain.spec("home").confirmations == 3
    assert platform.indexer_confirmations == 0


def test_mint_license_sell_and_verify_a_bundle_on_the_bft_network(platform: Platform, tmp_path: Path) -> None:
    p, client, home = platform, platform.client, platform.home
    creator = verified_login(client, CREATOR)
    content = b"a work issued on the BFT consortium"
    cid = client.post("/assets", files={"file": ("w.png", content, "image/png")}, headers=creator).json()["cid"]
    split = client.post("/splits/tx", json={"chain_id": HOME, "rights_holder": RIGHTS.address,
                                            "issuer": ISSUER.address, "channel": CHANNEL.address},
                        headers=creator)
    assert split.status_code == 200, split.text
    wallet_send(home, CREATOR, split.json()["transaction"])
    splitter = split.json()["splitter"]
    out = client.post("/collections/tx", json={"chain_id": HOME, "name": "Bft", "symbol": "BFT",
                                               "royalty_receiver": splitter, "royalty_bps": 1000}, headers=creator)
    assert out.status_code == 200, out.text
    assert wallet_send(home, CREATOR, out.json()["transaction"])["status"] == 1
    collection = out.json()["predicted_address"]
    p.state.update(collection=collection)
    mint = client.post(f"/assets/{cid}/mint-tx", json={"chain_id": HOME, "collection": collection, "quantity": 2},
                       headers=creator)
    assert mint.status_code == 200, mint.text
    assert wallet_send(home, CREATOR, mint.json())["status"] == 1
    nft = home.eth.contract(address=collection, abi=p.artifacts.get("CreatorCollection").abi)
    assert nft.functions.ownerOf(2).call() == CREATOR.address

    # License: the creator offers terms for token 1 through the API; a KYC-verified licensee buys
    # with the transaction the API builds (exact fee, simulated on the BFT node); the fee goes to
    # the work's royalty receiver (the split).
    offer = client.post("/licenses/tx", json={"chain_id": HOME, "collection": collection, "token_ids": [1],
                                              "template": "commercial", "fee_wei": LICENSE_FEE}, headers=creator)
    assert offer.status_code == 200, offer.text
    if offer.json()["publish"]:
        assert wallet_send(home, CREATOR, offer.json()["publish"])["status"] == 1
    for tx in offer.json()["attach"]:
        assert wallet_send(home, CREATOR, tx)["status"] == 1
    offered = client.get(f"/licenses/offered/{HOME}/{collection}/1")
    assert offered.status_code == 200 and len(offered.json()) == 1, offered.text
    terms_hash = offered.json()[0]["terms_hash"]
    licensee = verified_login(client, LICENSEE)
    split_before = home.eth.get_balance(splitter)
    bought = client.post("/licenses/buy-tx", json={"chain_id": HOME, "collection": collection, "token_id": 1,
                                                   "terms_hash": terms_hash}, headers=licensee)
    assert bought.status_code == 200, bought.text
    assert int(bought.json()["transaction"]["value"], 16) == LICENSE_FEE
    assert wallet_send(home, LICENSEE, bought.json()["transaction"])["status"] == 1
    assert home.eth.get_balance(splitter) - split_before == LICENSE_FEE
    held = client.get("/licenses", params={"chain_id": HOME, "licensee": LICENSEE.address})
    assert held.status_code == 200, held.text
    assert [(g["token_id"], g["terms_hash"], g["active"]) for g in held.json()] == [("1", terms_hash, True)]

    decoder = ErrorDecoder(p.artifacts.get(n).abi for n in p.artifacts.names())
    sender = TxSender(home, CREATOR, decoder=decoder, timeout_s=90)
    approve = sender.transact(sender.call_tx(nft.functions.setApprovalForAll(p.addresses["Marketplace"], True)))
    assert approve["status"] == 1
    order = client.post("/market/orders", json=_listing(p, 1), headers=creator)
    assert order.status_code == 201, order.text
    collector = verified_login(client, COLLECTOR)
    split_before = home.eth.get_balance(splitter)
    fill = client.post(f"/market/orders/{order.json()['order_hash']}/fill-tx", json={"amount": 1},
                       headers=collector)
    assert fill.status_code == 200, fill.text
    assert wallet_send(home, COLLECTOR, fill.json())["status"] == 1
    assert nft.functions.ownerOf(1).call() == COLLECTOR.address
    assert home.eth.get_balance(splitter) - split_before == PRICE // 10

    fills = wait_for("the sale in the index", lambda: _fills(p), 60)
    assert len(fills) == 1 and int(fills[0]["royalty"]) == PRICE // 10

    r = client.get(f"/provenance/{HOME}/{collection}/1/bundle")
    assert r.status_code == 200, r.text
    bundle = r.json()
    assert bundle["header_proofs"][str(HOME)]["available"] is False
    assert bundle["state"][str(HOME)]["available"] is False
    assert "not available" not in bundle["state"][str(HOME)]["reason"]  # the verifier says that
    assert {"Transfer", "WorkMinted", "RightsRegistered"} <= {e["event"] for e in bundle["events"]}
    grants = [e for e in bundle["events"] if e["event"] == "LicenseGranted"]  # the index has the license
    assert [(g["args"]["licensee"], g["args"]["termsHash"]) for g in grants] == [(LICENSEE.address, terms_hash)]
    assert any(e["event"] == "LicenseTermsAttached" for e in bundle["events"])
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    verified = cli(p.cli_env, "verify", str(path), timeout=120)
    assert verified.returncode == 2, verified.stdout + verified.stderr
    assert "VERIFIED" not in verified.stdout
    assert "PARTLY CHECKED" in verified.stdout
    assert f"chain {HOME}: header proofs" not in verified.stdout or "not available" in verified.stdout
    assert f"not checked (not available on this engine): chain {HOME} (bft)" in verified.stdout
    assert "not available: on this engine (bft), eth_getProof" in verified.stdout


def test_a_token_goes_to_the_anvil_and_back_attested_at_depth_zero(platform: Platform) -> None:
    p, home = platform, platform.home
    if "collection" not in p.state:
        pytest.fail("needs the platform built by the previous test (run the module in order)")
    collection = p.state["collection"]
    decoder = ErrorDecoder(p.artifacts.get(n).abi for n in p.artifacts.names())

    def send(web3: Web3, fn: Any) -> Any:
        sender = TxSender(web3, CREATOR, decoder=decoder, timeout_s=90)
        receipt = sender.transact(sender.call_tx(fn))
        assert receipt["status"] == 1
        return receipt

    nft = home.eth.contract(address=collection, abi=p.artifacts.get("CreatorCollection").abi)
    lockbox = home.eth.contract(address=p.addresses["HomeLockbox"], abi=p.artifacts.get("HomeLockbox").abi)
    registry = DeploymentRegistry(p.chain.deployments_file)
    remote_dep = registry.get(31338, "RemoteBridge")
    wrapped_dep = registry.get(31338, "WrappedCollection")
    assert remote_dep is not None and wrapped_dep is not None
    remote_bridge = p.remote.eth.contract(address=remote_dep.address, abi=p.artifacts.get("RemoteBridge").abi)
    wrapped = p.remote.eth.contract(address=wrapped_dep.address, abi=p.artifacts.get("WrappedCollection").abi)
    send(home, nft.functions.setApprovalForAll(lockbox.address, True))
    locked = send(home, lockbox.functions.lock(collection, 2, CREATOR.address, 31338,
                                               hashlib.sha256(b"a work issued on the BFT consortium").digest()))
    (event,) = lockbox.events.TokenLocked().process_receipt(locked, errors=DISCARD)
    wait_for("the wrapped token on the anvil",
             lambda: remote_bridge.functions.processed(event["args"]["transferId"]).call(), 120)
    wid = wrapped_id(collection, 2)
    assert wrapped.functions.ownerOf(wid).call() == CREATOR.address
    send(p.remote, remote_bridge.functions.burnToHome(wid, CREATOR.address))
    wait_for("the token back home", lambda: nft.functions.ownerOf(2).call() == CREATOR.address, 180)
    text = p.relayer_log.read_text()
    assert f"relayer[validator-0 {HOME}->31338] scanning from block" in text, p.logs()
    line = next(x for x in text.splitlines() if f"relayer[validator-0 {HOME}->31338] scanning from block" in x)
    assert "confirmations 0" in line, line


def test_the_returned_tokens_bundle_carries_the_delivery_rebuilt_and_proven(platform: Platform,
                                                                             tmp_path: Path) -> None:
    """The engine has no eth_getRawTransactionByHash: the bundle rebuilds the delivery's signed
    transaction from the node's fields (hash- and root-checked), so the hop back is checked."""
    p = platform
    if "collection" not in p.state:
        pytest.fail("needs the platform built by the previous tests (run the module in order)")
    url = f"/provenance/{HOME}/{p.state['collection']}/2/bundle"

    def bundle_with_return() -> dict[str, Any] | None:
        r = p.client.get(url)
        assert r.status_code in (200, 404), r.text
        events = r.json().get("events", []) if r.status_code == 200 else []
        return r.json() if any(e["event"] == "TokenUnlocked" for e in events) else None

    bundle = wait_for("the return in the index", bundle_with_return, 60)
    unlocked = next(e for e in bundle["events"] if e["event"] == "TokenUnlocked")
    minted = next(e for e in bundle["events"] if e["event"] == "TokenMinted")
    assert unlocked["chain_id"] == HOME and "rebuilt" in unlocked["tx"]["source"], unlocked["tx"]
    assert minted["chain_id"] == 31338 and "raw" in minted["tx"] and "source" not in minted["tx"]
    verdict = verify_bundle(bundle)
    assert verdict.ok, verdict.first_break
    hops = [c for c in verdict.checks if c.what.endswith(": bridge hop") and c.detail.startswith("transfer")]
    assert [h.what.split(" ")[1] for h in hops] == ["31338", str(HOME)], hops  # there and back, both checked
    assert not any("signed message" in u for u in verdict.unavailable), verdict.unavailable
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    verified = cli(p.cli_env, "verify", str(path), timeout=120)
    assert verified.returncode == 2, verified.stdout + verified.stderr
    assert "PARTLY CHECKED" in verified.stdout and "BROKEN" not in verified.stdout


def test_one_validator_down_keeps_going_two_halt_it_reported_and_all_resumes(platform: Platform) -> None:
    """1 of 4 stopped: blocks and sales go on. 2 of 4 stopped: no block (CometBFT needs more than
    two thirds of the votes), reported by the relayer and the indexer as a stall, the API refuses
    writes with a 503; the stopped validators start again (``consortium up`` starts only those not
    running), catch up, and the listed sale settles."""
    p, client, home = platform, platform.client, platform.home
    if "collection" not in p.state:
        pytest.fail("needs the platform built by the previous tests (run the module in order)")
    creator, collector = login(client, CREATOR), login(client, COLLECTOR)
    nft = home.eth.contract(address=p.state["collection"], abi=p.artifacts.get("CreatorCollection").abi)
    epoch = int(nft.functions.holdingEpoch(CREATOR.address, 2).call())  # token 2 came back by the bridge
    listed = client.post("/market/orders", json=_listing(p, 2, epoch), headers=creator)
    assert listed.status_code == 201, listed.text
    order_hash = listed.json()["order_hash"]

    one = cli(p.cli_env, "consortium", "down", "--engine", "bft", "--node", "3", timeout=60)
    assert one.returncode == 0 and "validator3" in one.stderr + one.stdout, one.stderr
    height = home.eth.block_number
    wait_for("blocks with 1 of 4 validators stopped", lambda: home.eth.block_number >= height + 3, 30)

    relayer_seen, indexer_seen = len(p.relayer_log.read_text()), len(p.indexer_lines)
    two = cli(p.cli_env, "consortium", "down", "--engine", "bft", "--node", "2", timeout=60)
    assert two.returncode == 0, two.stderr
    try:
        wait_for("the relayer to report the stall",
                 lambda: f"chain {HOME} stalled: no block since block" in p.relayer_log.read_text()[relayer_seen:],
                 40)
        wait_for("the indexer to report the stall",
                 lambda: any("stalled" in ln for ln in p.indexer_lines[indexer_seen:]), 40)
        last = home.eth.block_number
        time.sleep(3)
        assert home.eth.block_number == last  # halted, not forked: validators 0 and 1 agree
        heads = [json.loads(cli(p.cli_env, "consortium", "status", "--engine", "bft", "--json").stdout)["nodes"]]
        running = [n for n in heads[0] if n["running"]]
        assert len(running) == 2 and len({n["block"] for n in running}) == 1, running
        r = client.post(f"/market/orders/{order_hash}/fill-tx", json={"amount": 1}, headers=collector)
        assert r.status_code == 503 and r.json()["type"] == "/problems/chain-stalled", r.text
    finally:
        back = cli(p.cli_env, "consortium", "start-node", "2", "--engine", "bft", timeout=180)
    assert back.returncode == 0 and back.stdout.startswith("validator2\tpid "), back.stdout + back.stderr
    wait_for("the relayer to report the recovery",
             lambda: f"chain {HOME} resumed: block" in p.relayer_log.read_text()[relayer_seen:], 90)

    def write_accepted() -> Any:
        r = client.post(f"/market/orders/{order_hash}/fill-tx", json={"amount": 1}, headers=collector)
        return r if r.status_code == 200 else None

    fill = wait_for("the API to accept writes again", write_accepted, 60, interval=0.5)
    assert wallet_send(home, COLLECTOR, fill.json())["status"] == 1
    assert nft.functions.ownerOf(2).call() == COLLECTOR.address
    # validator3 has been down the longest: start-node returns once it has caught up with the others
    target = home.eth.block_number
    late = cli(p.cli_env, "consortium", "start-node", "3", "--engine", "bft", timeout=180)
    assert late.returncode == 0, late.stdout + late.stderr
    assert int(late.stdout.strip().rsplit("block ", 1)[1]) >= target, late.stdout
    status = json.loads(cli(p.cli_env, "consortium", "status", "--engine", "bft", "--json").stdout)["nodes"]
    assert all(n["running"] for n in status), status
    again = cli(p.cli_env, "consortium", "up", "--engine", "bft", "--detach", timeout=180)  # starts nothing
    assert again.returncode == 0, again.stdout + again.stderr

    def caught_up() -> bool:
        nodes = json.loads(cli(p.cli_env, "consortium", "status", "--engine", "bft", "--json").stdout)["nodes"]
        return all((n["block"] or 0) >= target for n in nodes)

    wait_for("the restarted validators to catch up", caught_up, 60, interval=1.0)
    fills = wait_for("the index to catch up with the new sale", lambda: len(_fills(p)) == 2 or None, 60)
    assert fills
