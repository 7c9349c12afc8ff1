"""ERC-1155 editions through the API and the console (issue #18), against real anvils, every
transaction signed and sent by the party's own wallet:

- POST /collections/tx with ``standard: "erc1155"`` creates the creator's editions collection
  (royalty receiver and bps as the ERC-721 one); POST /assets/{cid}/mint-tx on an editions
  collection mints N copies of the work under one token id (``token_id`` adds copies of it).
- The copies show in GET /wallets/{addr}/holdings with their quantity, one is listed for sale through
  POST /market/orders (standard erc1155) and a buyer fills it.
- Refusals in words: a wallet that is not the collection's owner or minter (through the API and on
  chain), a quantity of 0 or above the platform's bound, no KYC, more copies for another work or a
  work that does not exist, an editions request on an ERC-721 collection and the reverse.
- ``chainright mint FILE --editions N --new-collection NAME --json`` prints the collection, token id
  and quantity; ``--editions`` against an ERC-721 collection is refused before anything is sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import DISCARD

from api import create_app
from api.settings import ApiSettings
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.orders import MarketDomain, TokenStandard, listing, sign_order
from chain.settings import ChainSettings
from did.settings import DidSettings
from tests.support.api_flow import OFFICER, login, ok, refused, send, verified_login

pytestmark = pytest.mark.integration

CREATOR, COLLECTOR, BUYER, STRANGER = (dev_account(i) for i in (1, 2, 8, 9))
RECEIVER = dev_account(10)
ETH = 10**18


@pytest.fixture(scope="module")
def deployed(two_chains: ChainSettings, artifacts: Any) -> ChainSettings:
    deploy_to_chains(two_chains, two_chains.specs("all"))
    return two_chains


def _settings(tmp_path: Any, host: str = "testserver", port: int | None = None) -> ApiSettings:
    grants = {f"did:pkh:eip155:31337:{OFFICER.address}": ["kyc_officer", "risk"]}
    extra: dict[str, Any] = {"port": port} if port else {}
    return ApiSettings(environment="test", data_dir=tmp_path, siwe_domain=host, siwe_uri=f"http://{host}",
                       role_grants=grants, **extra)


@pytest.fixture
def world(deployed: ChainSettings, database: Any, tmp_path: Any, artifacts: Any) -> dict[str, Any]:
    """The API, a verified creator with an uploaded work and a fresh editions collection of theirs
    (royalty 10% to RECEIVER), a verified collector and buyer."""
    app = create_app(_settings(tmp_path), db=database, chain_settings=deployed,
                     did_settings=DidSettings(environment="test"))
    client = TestClient(app, raise_server_exceptions=False)
    web3 = connect(deployed.spec("home"))
    creator = verified_login(client, CREATOR)
    cid = ok(client.post("/assets", files={"file": ("e.png", f"editions {tmp_path.name}".encode(), "image/png")},
                         headers=creator), 201)["cid"]
    out = ok(client.post("/collections/tx", json={
        "chain_id": 31337, "name": "Prints", "symbol": "PRT", "standard": "erc1155",
        "royalty_receiver": RECEIVER.address, "royalty_bps": 1000}, headers=creator))
    assert send(web3, CREATOR, out["transaction"])["status"] == 1
    editions = out["predicted_address"]
    registry = DeploymentRegistry(deployed.deployments_file)
    return {"client": client, "web3": web3, "creator": creator, "cid": cid, "editions": editions,
            "collector": verified_login(client, COLLECTOR), "buyer": verified_login(client, BUYER),
            "artifacts": artifacts, "deployed": deployed, "database": database,
            "market": registry.address(31337, "Marketplace"),
            "contract": web3.eth.contract(address=editions, abi=artifacts.get("Editions1155").abi),
            "marketplace": web3.eth.contract(address=registry.address(31337, "Marketplace"),
                                             abi=artifacts.get("Marketplace").abi)}


def _mint(w: dict[str, Any], quantity: int, **extra: Any) -> Any:
    return w["client"].post(f"/assets/{w['cid']}/mint-tx", json={
        "chain_id": 31337, "collection": w["editions"], "quantity": quantity, **extra}, headers=w["creator"])


def _index(w: dict[str, Any]) -> None:
    from record.index import EventDecoder, Indexer, IndexStore
    from record.index.service import CHILD_RULES

    artifacts = w["artifacts"]
    registry = DeploymentRegistry(w["deployed"].deployments_file)
    indexer = Indexer(w["web3"], 31337, IndexStore(w["database"].engine),
                      EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()}), rules=CHILD_RULES)
    indexer.watch((d.address, d.artifact or d.contract, d.block) for d in registry.for_chain(31337).values())
    indexer.run_until_caught_up()


def test_a_creator_creates_editions_mints_five_copies_and_sells_one(world):
    w, client, web3, editions = world, world["client"], world["web3"], world["contract"]
    assert editions.functions.supportsInterface(bytes.fromhex("d9b67a26")).call()
    assert editions.functions.owner().call() == CREATOR.address
    assert editions.functions.royaltyInfo(1, 10_000).call() == [RECEIVER.address, 1000]

    receipt = send(web3, CREATOR, ok(_mint(w, 5)))
    assert receipt["status"] == 1
    (created,) = editions.events.WorkCreated().process_receipt(receipt, errors=DISCARD)
    token_id = int(created["args"]["id"])
    assert editions.functions.balanceOf(CREATOR.address, token_id).call() == 5
    assert bytes(editions.functions.workCid(token_id).call()).hex() != ""
    # more copies of the same work, under the same id
    assert send(web3, CREATOR, ok(_mint(w, 2, token_id=token_id)))["status"] == 1
    assert editions.functions.balanceOf(CREATOR.address, token_id).call() == 7
    send(web3, CREATOR, {"chain_id": 31337, "to": w["editions"],
                         "data": editions.encode_abi("safeTransferFrom",
                                                     args=[CREATOR.address, STRANGER.address, token_id, 2, b""])})

    _index(w)
    held = ok(client.get(f"/wallets/{CREATOR.address}/holdings"))
    mine = [h for h in held if h["collection"] == w["editions"]]
    assert [(h["token_id"], h["standard"], h["quantity"], h["confirmed"]) for h in mine] == [
        (str(token_id), "erc1155", "5", True)]

    # one copy for sale through the order book, and one fill
    send(web3, CREATOR, {"chain_id": 31337, "to": w["editions"],
                         "data": editions.encode_abi("setApprovalForAll", args=[w["market"], True])})
    now = int(time.time())
    counter = w["marketplace"].functions.counterOf(CREATOR.address).call()
    epoch = editions.functions.holdingEpoch(CREATOR.address, token_id).call()
    order = listing(seller=CREATOR.address, token=w["editions"], token_id=token_id, unit_price=ETH // 10,
                    start=now - 60, expiry=now + 3600, counter=counter, holding_epoch=epoch, quantity=1,
                    standard=TokenStandard.ERC1155)
    signed = sign_order(order, MarketDomain(31337, w["market"]), CREATOR)
    body = {"chain_id": 31337, "side": "listing", "signer": order.signer, "token": order.token,
            "token_id": token_id, "standard": "erc1155", "quantity": 1, "unit_price": ETH // 10,
            "start": order.start, "expiry": order.expiry, "salt": order.salt, "counter": counter,
            "holding_epoch": epoch, "signature": "0x" + signed.signature.hex()}
    order_hash = ok(client.post("/market/orders", json=body, headers=w["creator"]), 201)["order_hash"]
    fill = ok(client.post(f"/market/orders/{order_hash}/fill-tx", json={"amount": 1}, headers=w["buyer"]))
    assert send(web3, BUYER, fill)["status"] == 1
    assert editions.functions.balanceOf(BUYER.address, token_id).call() == 1
    assert editions.functions.balanceOf(CREATOR.address, token_id).call() == 4


def test_editions_mints_are_refused_in_words_to_all_but_the_owner_and_for_bad_quantities(world):
    w, client, web3, editions = world, world["client"], world["web3"], world["contract"]
    # Not the owner: a verified collector minting their own work into the creator's editions.
    theirs = ok(client.post("/assets", files={"file": ("c.png", b"the collector's own work", "image/png")},
                            headers=w["collector"]), 201)["cid"]
    refused(client.post(f"/assets/{theirs}/mint-tx", json={"chain_id": 31337, "collection": w["editions"],
                                                          "quantity": 3}, headers=w["collector"]),
            422, "may not mint these editions")
    # ... nor the creator's work (only its uploader may mint it) ...
    refused(client.post(f"/assets/{w['cid']}/mint-tx", json={"chain_id": 31337, "collection": w["editions"],
                                                            "quantity": 3}, headers=w["collector"]),
            403, "only the uploader")
    # ... and the contract itself refuses a wallet that goes around the API, for both mints.
    minted = send(web3, CREATOR, ok(_mint(w, 1)))
    token_id = int(editions.events.WorkCreated().process_receipt(minted, errors=DISCARD)[0]["args"]["id"])
    for call in (editions.functions.mintWork(STRANGER.address, 5, b"\x11" * 32, b"\x01"),
                 editions.functions.mint(STRANGER.address, token_id, 5)):
        with pytest.raises((ContractCustomError, ContractLogicError)):
            call.call({"from": STRANGER.address})
    # Quantities: at least 1, at most the platform's bound (the contract has none).
    refused(_mint(w, 0), 422, "quantity")
    refused(_mint(w, 10_001), 422, "quantity")
    refused(_mint(w, 1, token_id=0), 422, "token_id")
    # More copies only of a work that exists in this collection, and only of this work.
    refused(_mint(w, 2, token_id=token_id + 50), 422, f"no work has token id {token_id + 50}")
    other = ok(client.post("/assets", files={"file": ("o.png", b"another work of the creator", "image/png")},
                           headers=w["creator"]), 201)["cid"]
    refused(client.post(f"/assets/{other}/mint-tx", json={
        "chain_id": 31337, "collection": w["editions"], "quantity": 2, "token_id": token_id},
        headers=w["creator"]), 422, "is another work")
    # No KYC: neither the collection nor the mint.
    unverified = login(client, STRANGER)
    refused(client.post("/collections/tx", json={"chain_id": 31337, "name": "X", "symbol": "X",
                                                 "standard": "erc1155"}, headers=unverified), 403)
    refused(client.post(f"/assets/{w['cid']}/mint-tx", json={"chain_id": 31337, "collection": w["editions"],
                                                            "quantity": 1}, headers=unverified), 403)
    # The kinds do not mix: editions options on an ERC-721 collection, and the reverse.
    out = ok(client.post("/collections/tx", json={"chain_id": 31337, "name": "Single", "symbol": "ONE"},
                         headers=w["creator"]))
    send(web3, CREATOR, out["transaction"])
    single = out["predicted_address"]
    refused(client.post(f"/assets/{other}/mint-tx", json={
        "chain_id": 31337, "collection": single, "quantity": 2, "standard": "erc1155"}, headers=w["creator"]),
        422, "is not an editions (ERC-1155) collection")
    refused(client.post(f"/assets/{other}/mint-tx", json={
        "chain_id": 31337, "collection": single, "quantity": 2, "token_id": 1}, headers=w["creator"]),
        422, "is not one")
    refused(_mint(w, 1, standard="erc721"), 422, "it holds ERC-1155 editions")
    refused(client.post("/collections/tx", json={"chain_id": 31337, "name": "V", "symbol": "V",
                                                 "standard": "erc1155", "require_verified_holders": True},
                        headers=w["creator"]), 422, "no verified-holders setting")
    assert editions.functions.balanceOf(STRANGER.address, token_id).call() == 0


# -- the console ------------------------------------------------------------------------------------


@pytest.fixture
def served(world: dict[str, Any], database: Any, tmp_path: Any) -> Iterator[dict[str, Any]]:
    """The world's API served over HTTP, with the creator's wallet saved for the console."""
    import threading

    import uvicorn

    from chain.wallet import Wallet
    from tests.conftest import free_port, settings_env

    port = free_port()
    app = create_app(_settings(tmp_path / "served", f"127.0.0.1:{port}", port), db=database,
                     chain_settings=world["deployed"], did_settings=DidSettings(environment="test"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    env = settings_env(world["deployed"]) | {"CHAINRIGHT_WALLET_PASSPHRASE": "editions passphrase"}
    name = f"creator-{free_port()}"
    Wallet.from_key("0x" + bytes(CREATOR.key).hex()).save(
        world["deployed"].data_dir / "wallets" / f"{name}.json", env["CHAINRIGHT_WALLET_PASSPHRASE"])
    try:
        yield {**world, "api": f"http://127.0.0.1:{port}", "env": env, "wallet": name}
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _cli(s: dict[str, Any], *args: str, rc: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "chainright", *args, "--wallet", s["wallet"], "--api", s["api"]],
                          env=s["env"], capture_output=True, text=True, timeout=180)
    assert done.returncode == rc, f"{args}: rc {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_chainright_mint_editions_creates_the_collection_and_prints_token_and_quantity(served, tmp_path):
    s, web3 = served, served["web3"]
    work = tmp_path / "print.png"
    work.write_bytes(b"a print in editions " + tmp_path.name.encode())
    out = json.loads(_cli(s, "mint", str(work), "--editions", "5", "--new-collection", "Prints CLI",
                          "--symbol", "PCL", "--json").stdout)
    assert out["standard"] == "erc1155" and out["quantity"] == 5 and out["token_id"] == 1
    editions = web3.eth.contract(address=out["collection"], abi=s["artifacts"].get("Editions1155").abi)
    assert editions.functions.balanceOf(CREATOR.address, 1).call() == 5
    assert editions.functions.owner().call() == CREATOR.address

    second = tmp_path / "second.png"
    second.write_bytes(b"a second print " + tmp_path.name.encode())
    text = _cli(s, "mint", str(second), "--editions", "3", "--collection", out["collection"]).stdout
    assert text.strip().split("\t")[:3] == [out["collection"], "token 2", "quantity 3"]
    assert editions.functions.balanceOf(CREATOR.address, 2).call() == 3

    # --editions on an ERC-721 collection: refused by the API before the wallet signs anything
    single = ok(s["client"].post("/collections/tx", json={"chain_id": 31337, "name": "One", "symbol": "ONE"},
                                 headers=s["creator"]))
    send(web3, CREATOR, single["transaction"])
    nonce = web3.eth.get_transaction_count(CREATOR.address)
    third = tmp_path / "third.png"
    third.write_bytes(b"a third work " + tmp_path.name.encode())
    failed = _cli(s, "mint", str(third), "--editions", "2", "--collection", single["predicted_address"], rc=1)
    assert "is not an editions (ERC-1155) collection" in failed.stderr
    assert web3.eth.get_transaction_count(CREATOR.address) == nonce
    assert "not both" in _cli(s, "mint", str(third), "--editions", "2", "--quantity", "2",
                              "--collection", out["collection"], rc=1).stderr


def test_custom_license_terms_attach_to_an_edition_and_a_copy_holder_is_not_its_licensor(world):
    """Licensing takes editions: the licensor of an editions work is the collection's owner, not
    whoever holds a copy; the route decides as the contract does."""
    w, client, web3, editions = world, world["client"], world["web3"], world["contract"]
    minted = send(web3, CREATOR, ok(_mint(w, 3)))
    token_id = int(editions.events.WorkCreated().process_receipt(minted, errors=DISCARD)[0]["args"]["id"])
    send(web3, CREATOR, {"chain_id": 31337, "to": w["editions"], "data": editions.encode_abi(
        "safeTransferFrom", args=[CREATOR.address, COLLECTOR.address, token_id, 1, b""])})
    terms = {"chain_id": 31337, "fee_wei": 777, "duration_s": 86_400, "commercial_use": True,
             "legal_text": f"Edition license {token_id} {time.time_ns()}", "collection": w["editions"],
             "token_ids": [token_id]}
    # A holder of a copy is not the work's licensor: refused before anything reaches the chain ...
    refused(client.post("/licenses/terms-tx", json=terms, headers=w["collector"]), 403, "licensor",
            CREATOR.address)
    # ... and a token id the collection does not know is not a work.
    refused(client.post("/licenses/terms-tx", json=terms | {"token_ids": [token_id + 90]}, headers=w["creator"]),
            422, "is not a work")
    out = ok(client.post("/licenses/terms-tx", json=terms, headers=w["creator"]))
    assert out["publish"] is not None and len(out["attach"]) == 1
    for tx in [out["publish"], *out["attach"]]:
        assert send(web3, CREATOR, tx)["status"] == 1
    offered = ok(client.get(f"/licenses/offered/31337/{w['editions']}/{token_id}"))
    assert [t["terms_hash"] for t in offered] == [out["terms_hash"]]
    bought = ok(client.post("/licenses/buy-tx", json={"chain_id": 31337, "collection": w["editions"],
                                                      "token_id": token_id, "terms_hash": out["terms_hash"]},
                            headers=w["buyer"]))
    assert int(bought["transaction"]["value"], 16) == 777
    assert send(web3, BUYER, bought["transaction"])["status"] == 1
    grants = ok(client.get("/licenses", params={"chain_id": 31337, "licensee": BUYER.address}))
    assert any(g["collection"] == w["editions"] and g["token_id"] == str(token_id) for g in grants)
