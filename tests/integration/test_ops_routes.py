"""The operator's, the creator's-income and the bridge routes and commands against a running platform:
two anvils with every family deployed and linked, the API, and (for the bridge) the real relayer.

- Royalties: a sale pays the royalty into a real splitter; its balances per recipient (ETH and wei),
  the distribution and a recipient's withdrawal through the API's transactions; a stranger's
  withdrawal is refused; distributing nothing is refused with the revert's sentence.
- Fees: the treasury withdraws the platform fee; anyone else (even with the operator role) is refused.
- Operations: a non-operator cannot pause; an operator pauses the marketplace (the platform key sends
  it), new orders are refused with a problem saying so, /health lists the paused contract, unpause
  lets them in again; every family pauses and unpauses on every chain it is on.
- Roles: an admin grants a role at run time and the holder's open session has it at its next
  request; revoked, it is gone; a non-admin cannot grant; a settings role cannot be revoked here.
- Bridge: lock (approval first) through the API, follow it to delivered with the relayer, burn it
  back; a non-holder is refused; an unknown id is a 404.
- Holdings from the index; and every command on top of those routes (`chainright royalties`,
  `fees`, `ops`, `roles`, `bridge`, `holdings`).
"""

from __future__ import annotations

import json
import logging
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from api import create_app
from api.settings import ApiSettings
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.orders import MarketDomain, listing, sign_order
from did.settings import DidSettings
from tests.conftest import free_port
from tests.integration.bridge_env import COLLECTOR, CREATOR, DEPLOYER, BridgeEnv, make_env
from tests.support.api_flow import login, officer_grants, send, verified_login

pytestmark = pytest.mark.integration

ADMIN, OPERATOR, STRANGER = dev_account(15), dev_account(16), dev_account(9)
TREASURY = dev_account(DEPLOYER)  # the deploy makes the deployer the marketplace's treasury
RIGHTS, ISSUER, CHANNEL = dev_account(3), dev_account(4), dev_account(7)
PRICE = 10**18
HOME, REMOTE = 31337, 31338


def did(account: Any) -> str:
    return f"did:pkh:eip155:{HOME}:{account.address}"


@pytest.fixture(scope="module")
def platform(tmp_path_factory, artifacts) -> Iterator[BridgeEnv]:
    yield from make_env(tmp_path_factory.mktemp("ops-routes"), artifacts,
                        CHAINRIGHT_BRIDGE_RETRY_AFTER_S="0.2")


def _app(platform: BridgeEnv, database: Any, tmp_path: Any, port: int | None = None) -> Any:
    grants = officer_grants() | {did(ADMIN): ["admin"], did(TREASURY): ["treasury"]}
    port = port or free_port()
    settings = ApiSettings(environment="test", data_dir=tmp_path, siwe_domain=f"127.0.0.1:{port}",
                           siwe_uri=f"http://127.0.0.1:{port}", role_grants=grants, port=port)
    return create_app(settings, db=database, chain_settings=platform.chain,
                      did_settings=DidSettings(environment="test"))


@pytest.fixture
def api(platform, database, tmp_path) -> TestClient:
    port = free_port()
    app = _app(platform, database, tmp_path, port)
    return TestClient(app, raise_server_exceptions=False, base_url=f"http://127.0.0.1:{port}")


def _label(base: str) -> str:
    """A label no earlier test used on the module's chains (each test also runs on every database)."""
    return f"{base}-{secrets.token_hex(4)}"


@pytest.fixture
def sale(platform: BridgeEnv) -> dict[str, Any]:
    """A collection whose royalty (10%) goes to a 30/40/30 splitter, and one sale of a token through the
    marketplace on chain (royalty into the splitter, fee to the treasury)."""
    home = platform.home
    factory = platform.at(home, "SplitterFactory")
    salt = secrets.token_bytes(32)
    args = (RIGHTS.address, ISSUER.address, CHANNEL.address, salt)
    splitter = factory.functions.predictThreeWaySplitAddress(*args).call()
    platform.send(home, CREATOR, factory.functions.createThreeWaySplit(*args))
    label = _label("ops-sale")
    collection = platform.collection(label, bps=1000, receiver=splitter)
    first, _ = platform.mint_edition(collection, 2, label)
    market = platform.at(home, "Marketplace")
    platform.send(home, COLLECTOR, collection.functions.setApprovalForAll(market.address, True))
    seller = dev_account(COLLECTOR)
    now = int(home.eth.get_block("latest")["timestamp"])
    epoch = collection.functions.holdingEpoch(seller.address, first).call()
    order = listing(seller=seller.address, token=collection.address, token_id=first, unit_price=PRICE,
                    start=now - 60, expiry=now + 3600, counter=market.functions.counterOf(seller.address).call(),
                    holding_epoch=epoch)
    signed = sign_order(order, MarketDomain(HOME, market.address), seller)
    buyer = platform.sender(home, CREATOR)
    fill = market.functions.fillListing(order.as_tuple(), signed.signature, 1)
    buyer.transact(buyer.call_tx(fill, value=PRICE))
    assert collection.functions.ownerOf(first).call() == dev_account(CREATOR).address
    return {"splitter": splitter, "collection": collection, "token": first + 1, "sold": first}


# -- royalties ------------------------------------------------------------------------------------


def test_royalty_balances_distribute_and_withdraw_through_the_api(api, platform, sale):
    splitter = sale["splitter"]
    shown = api.get(f"/royalties/{HOME}/{splitter}")
    assert shown.status_code == 200, shown.text
    body = shown.json()
    royalty = PRICE // 10
    assert body["undistributed"] == {"eth": "0.1", "wei": str(royalty)}
    by_account = {r["account"]: r for r in body["recipients"]}
    assert {a: r["bps"] for a, r in by_account.items()} == {RIGHTS.address: 3000, ISSUER.address: 4000,
                                                            CHANNEL.address: 3000}
    assert int(by_account[ISSUER.address]["withdrawable"]["wei"]) == royalty * 4 // 10

    stranger = login(api, STRANGER)
    refused = api.post(f"/royalties/{HOME}/{splitter}/withdraw-tx", json={}, headers=stranger)
    assert refused.status_code == 403 and "not a recipient" in refused.json()["detail"]

    tx = api.post(f"/royalties/{HOME}/{splitter}/distribute-tx", json={}, headers=stranger)  # anyone may
    assert tx.status_code == 200 and tx.json()["gas"] > 0, tx.text
    send(platform.home, STRANGER, tx.json())
    assert api.get(f"/royalties/{HOME}/{splitter}").json()["undistributed"]["wei"] == "0"
    again = api.post(f"/royalties/{HOME}/{splitter}/distribute-tx", json={}, headers=stranger)
    assert again.status_code == 422 and "would revert" in again.json()["detail"]
    assert again.json()["error"] == "SplitterNothingToDistribute"

    issuer = login(api, ISSUER)
    before = platform.home.eth.get_balance(ISSUER.address)
    receipt = send(platform.home, ISSUER, api.post(f"/royalties/{HOME}/{splitter}/withdraw-tx", json={},
                                                   headers=issuer).json())
    paid = platform.home.eth.get_balance(ISSUER.address) - before + receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert paid == royalty * 4 // 10
    after = {r["account"]: r for r in api.get(f"/royalties/{HOME}/{splitter}").json()["recipients"]}
    assert after[ISSUER.address]["withdrawable"]["wei"] == "0"


def test_a_contract_that_is_not_a_splitter_is_a_404(api, platform):
    market = platform.addresses["home"]["Marketplace"]
    assert api.get(f"/royalties/{HOME}/{market}").status_code == 404
    assert api.get(f"/royalties/{HOME}/{STRANGER.address}").status_code == 404


def test_only_the_treasury_withdraws_the_platform_fee(api, platform, sale):
    treasury = login(api, TREASURY)
    fees = api.get("/fees", headers=treasury)
    assert fees.status_code == 200, fees.text
    home = next(f for f in fees.json() if f["chain_id"] == HOME)
    assert home["treasury"] == TREASURY.address and home["platform_fee_bps"] == 250
    assert int(home["accrued"]["wei"]) >= PRICE * 250 // 10_000

    assert api.get("/fees", headers=login(api, STRANGER)).status_code == 403
    admin = login(api, ADMIN)
    assert api.post("/admin/roles", json={"subject": OPERATOR.address, "role": "treasury"},
                    headers=admin).status_code == 201
    not_treasury = api.post("/fees/withdraw-tx", json={"chain_id": HOME}, headers=login(api, OPERATOR))
    assert not_treasury.status_code == 403 and TREASURY.address in not_treasury.json()["detail"]

    tx = api.post("/fees/withdraw-tx", json={"chain_id": HOME}, headers=treasury)
    assert tx.status_code == 200, tx.text
    send(platform.home, TREASURY, tx.json())
    left = next(f for f in api.get("/fees", headers=treasury).json() if f["chain_id"] == HOME)
    assert left["accrued"]["wei"] == "0"
    nothing = api.post("/fees/withdraw-tx", json={"chain_id": HOME}, headers=treasury)
    assert nothing.status_code == 422 and nothing.json()["error"] == "WithdrawalNothingOwed"


# -- operations -----------------------------------------------------------------------------------


def _listing_body(platform: BridgeEnv, collection: Any, token_id: int, seller: Any) -> dict[str, Any]:
    market = platform.at(platform.home, "Marketplace")
    now = int(time.time())
    counter = market.functions.counterOf(seller.address).call()
    epoch = collection.functions.holdingEpoch(seller.address, token_id).call()
    order = listing(seller=seller.address, token=collection.address, token_id=token_id, unit_price=PRICE,
                    start=now - 60, expiry=now + 3600, counter=counter, holding_epoch=epoch)
    signed = sign_order(order, MarketDomain(HOME, market.address), seller)
    return {"chain_id": HOME, "side": "listing", "signer": order.signer, "token": order.token,
            "token_id": token_id, "unit_price": PRICE, "start": order.start, "expiry": order.expiry,
            "salt": order.salt, "counter": counter, "holding_epoch": epoch,
            "signature": "0x" + signed.signature.hex()}


def test_pausing_the_marketplace_refuses_listings_and_shows_in_health(api, platform, sale, caplog):
    admin, collector = login(api, ADMIN), verified_login(api, dev_account(COLLECTOR))
    operator = login(api, OPERATOR)
    assert api.post("/ops/marketplace/pause", json={}, headers=login(api, STRANGER)).status_code == 403
    assert api.post("/ops/marketplace/pause", json={}, headers=operator).status_code == 403  # no role yet
    api.post("/admin/roles", json={"subject": OPERATOR.address, "role": "operator"}, headers=admin)

    with caplog.at_level(logging.INFO, logger="api.routers.ops"):
        paused = api.post("/ops/marketplace/pause", json={"chain_id": HOME}, headers=operator)
    assert paused.status_code == 200, paused.text
    (change,) = paused.json()["contracts"]
    assert change["changed"] and change["tx_hash"] and change["contract"] == "Marketplace"
    assert f"audit: {did(OPERATOR)} paused marketplace Marketplace on chain {HOME}" in caplog.text
    market = platform.at(platform.home, "Marketplace")
    assert market.functions.paused().call()
    try:
        state = {(s["family"], s["chain_id"]): s["paused"] for s in api.get("/ops/paused").json()}
        assert state[("marketplace", HOME)] and not state[("bridge", HOME)]
        refused = api.post("/market/orders", json=_listing_body(platform, sale["collection"], sale["token"],
                                                                dev_account(COLLECTOR)), headers=collector)
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"] == "/problems/paused" and "paused" in refused.json()["detail"]
        batch = api.post("/market/orders/batch", json={"orders": [_listing_body(
            platform, sale["collection"], sale["token"], dev_account(COLLECTOR))]}, headers=collector)
        assert batch.json()["results"][0]["error"]["status"] == 409
        time.sleep(1.1)  # /health is cached a second
        health = api.get("/health").json()
        assert any(p["contract"] == "Marketplace" and p["chain_id"] == HOME for p in health["paused"])
        assert health["status"] in ("degraded", "down")
        again = api.post("/ops/marketplace/pause", json={"chain_id": HOME}, headers=operator)
        assert again.json()["contracts"][0]["changed"] is False  # already paused: nothing sent
    finally:
        unpaused = api.post("/ops/marketplace/unpause", json={}, headers=operator)
    assert unpaused.status_code == 200 and not market.functions.paused().call()
    accepted = api.post("/market/orders", json=_listing_body(platform, sale["collection"], sale["token"],
                                                             dev_account(COLLECTOR)), headers=collector)
    assert accepted.status_code == 201, accepted.text


def test_every_family_pauses_and_unpauses_on_every_chain(api, platform):
    api.post("/admin/roles", json={"subject": did(OPERATOR), "role": "operator"}, headers=login(api, ADMIN))
    operator = login(api, OPERATOR)
    for family, contracts in (("escrow", {(HOME, "MilestoneEscrow"), (REMOTE, "MilestoneEscrow")}),
                              ("bridge", {(HOME, "HomeLockbox"), (REMOTE, "RemoteBridge")})):
        out = api.post(f"/ops/{family}/pause", json={}, headers=operator)
        assert out.status_code == 200, out.text
        assert {(c["chain_id"], c["contract"]) for c in out.json()["contracts"]} == contracts
        assert all(s["paused"] for s in api.get("/ops/paused").json() if s["family"] == family)
        out = api.post(f"/ops/{family}/unpause", json={}, headers=operator)
        assert out.status_code == 200, out.text
        assert not any(s["paused"] for s in api.get("/ops/paused").json() if s["family"] == family)
    assert api.post("/ops/nothing/pause", json={}, headers=operator).status_code == 422


def test_a_retried_pause_with_its_idempotency_key_sends_nothing_twice(api, platform):
    api.post("/admin/roles", json={"subject": OPERATOR.address, "role": "operator"}, headers=login(api, ADMIN))
    operator = login(api, OPERATOR) | {"Idempotency-Key": "pause-escrow-once"}
    escrow = platform.at(platform.home, "MilestoneEscrow")
    first = api.post("/ops/escrow/pause", json={"chain_id": HOME}, headers=operator)
    assert first.status_code == 200 and first.json()["contracts"][0]["changed"], first.text
    try:
        replay = api.post("/ops/escrow/pause", json={"chain_id": HOME}, headers=operator)
        assert replay.headers.get("idempotent-replayed") == "true" and replay.json() == first.json()
        assert escrow.functions.paused().call()
    finally:
        api.post("/ops/escrow/unpause", json={"chain_id": HOME}, headers=login(api, OPERATOR))
    assert not escrow.functions.paused().call()


def test_a_creator_pauses_and_unpauses_only_their_own_collection(api, platform):
    label = _label("ops-own")
    collection = platform.collection(label)
    creator = login(api, dev_account(CREATOR))
    path = f"/ops/collections/{HOME}/{collection.address}"
    assert api.post(f"{path}/pause-tx", json={}, headers=login(api, STRANGER)).status_code == 403
    assert api.post(f"{path}/pause-tx", json={}, headers=login(api, OPERATOR)).status_code == 403
    market = platform.addresses["home"]["Marketplace"]
    assert api.post(f"/ops/collections/{HOME}/{market}/pause-tx", json={}, headers=creator).status_code == 404
    out = api.post(f"{path}/pause-tx", json={}, headers=creator)
    assert out.status_code == 200 and out.json()["paused"] is False, out.text
    send(platform.home, dev_account(CREATOR), out.json()["transaction"])
    assert collection.functions.paused().call()
    again = api.post(f"{path}/pause-tx", json={}, headers=creator)
    assert again.status_code == 422 and again.json()["error"] == "CollectionPaused"  # simulated: refused
    assert "paused by its owner" in again.json()["detail"]
    send(platform.home, dev_account(CREATOR),
         api.post(f"{path}/unpause-tx", json={}, headers=creator).json()["transaction"])
    assert not collection.functions.paused().call()


# -- roles ----------------------------------------------------------------------------------------


def test_roles_are_granted_and_revoked_without_a_restart_and_audited(api, caplog):
    admin, operator = login(api, ADMIN), login(api, OPERATOR)
    assert api.get("/auth/me", headers=operator).json()["roles"] == []
    refused = api.post("/admin/roles", json={"subject": OPERATOR.address, "role": "operator"}, headers=operator)
    assert refused.status_code == 403
    assert api.post("/admin/roles", json={"subject": STRANGER.address, "role": "admin"},
                    headers=login(api, STRANGER)).status_code == 403  # nobody grants themselves admin

    with caplog.at_level(logging.INFO, logger="api.roles"):
        granted = api.post("/admin/roles", json={"subject": OPERATOR.address.lower(), "role": "operator"},
                           headers=admin)
    assert granted.status_code == 201, granted.text
    assert granted.json()["subject"] == OPERATOR.address and granted.json()["granted_by"] == did(ADMIN)
    assert f"audit: {did(ADMIN)} granted role operator to {OPERATOR.address}" in caplog.text
    assert api.get("/auth/me", headers=operator).json()["roles"] == ["operator"]  # same session, no restart
    listed = api.get("/admin/roles", headers=admin).json()
    assert [(g["subject"], g["role"]) for g in listed] == [(OPERATOR.address, "operator")]
    assert api.get("/admin/roles", headers=operator).status_code == 403

    revoked = api.post("/admin/roles/revoke", json={"subject": OPERATOR.address, "role": "operator"},
                       headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_by"] == did(ADMIN)
    assert api.get("/auth/me", headers=operator).json()["roles"] == []
    assert api.post("/ops/marketplace/pause", json={}, headers=operator).status_code == 403
    history = api.get("/admin/roles", params={"history": "true"}, headers=admin).json()
    assert history[0]["revoked_at"] is not None and api.get("/admin/roles", headers=admin).json() == []
    assert api.post("/admin/roles/revoke", json={"subject": OPERATOR.address, "role": "operator"},
                    headers=admin).status_code == 404
    settings_role = api.post("/admin/roles/revoke", json={"subject": did(ADMIN), "role": "admin"}, headers=admin)
    assert settings_role.status_code == 409 and "CHAINRIGHT_API_ROLE_GRANTS" in settings_role.json()["detail"]
    assert api.post("/admin/roles", json={"subject": "nobody", "role": "operator"}, headers=admin).status_code == 422
    assert api.post("/admin/roles", json={"subject": OPERATOR.address, "role": "root"},
                    headers=admin).status_code == 422


# -- bridge ---------------------------------------------------------------------------------------


def _transfer_id(receipt: Any, bridge: str) -> int:
    (entry,) = [e for e in receipt["logs"] if e["address"].lower() == bridge.lower()]
    return int.from_bytes(bytes(entry["topics"][1]), "big")


def _wait_status(api: TestClient, transfer_id: int, status: str, platform: BridgeEnv) -> dict[str, Any]:
    seen: list[str] = []

    def landed() -> bool:
        body = api.get(f"/bridge/transfers/{transfer_id}").json()
        seen.append(body.get("status", str(body)))
        # "delivered" is read from the chain (processed()); the relayer's store records when a moment
        # later: wait for both, the answer a person reads once it has landed
        return body.get("status") == status and (status != "delivered" or body.get("delivered_at") is not None)

    platform.wait_for(landed, 90, f"transfer {transfer_id} to be {status} (seen {seen[-3:]})")
    return dict(api.get(f"/bridge/transfers/{transfer_id}").json())


def test_a_token_is_bridged_and_followed_until_it_lands_and_back(api, platform):
    label = _label("ops-bridge")
    collection = platform.collection(label)
    token, _ = platform.mint_edition(collection, 1, label)
    holder = dev_account(COLLECTOR)
    platform.send(platform.home, COLLECTOR, collection.functions.setApprovalForAll(platform.lockbox.address, False))
    session = login(api, holder)
    body = {"chain_id": HOME, "collection": collection.address, "token_id": token}

    assert api.post("/bridge/send-tx", json=body, headers=login(api, STRANGER)).status_code == 403
    first = api.post("/bridge/send-tx", json=body, headers=session)
    assert first.status_code == 200, first.text
    assert first.json()["approval_needed"] and first.json()["direction"] == "lock"
    (approval,) = first.json()["transactions"]
    assert approval["to"] == collection.address and approval["gas"] > 0
    send(platform.home, holder, approval)
    second = api.post("/bridge/send-tx", json=body, headers=session).json()
    assert not second["approval_needed"] and second["dest_chain_id"] == REMOTE
    (lock,) = second["transactions"]
    receipt = send(platform.home, holder, lock)
    transfer = _transfer_id(receipt, second["bridge"])

    waiting = api.get(f"/bridge/transfers/{transfer}").json()
    assert waiting["status"] == "pending" and waiting["source_chain_id"] == HOME, waiting
    assert api.get(f"/bridge/transfers/{transfer + 999}").status_code == 404
    assert api.get("/bridge/transfers/not-an-id").status_code == 422

    if not platform.alive("all"):  # the relayer of the module (a run on another database started it)
        platform.start("all")
    landed = _wait_status(api, transfer, "delivered", platform)
    assert landed["dest_chain_id"] == REMOTE and landed["recipient"] == holder.address
    assert landed["delivered_at"].endswith("Z") and landed["attestations"] >= 2
    mine = api.get("/bridge/transfers", params={"wallet": holder.address}).json()
    assert str(transfer) in [t["transfer_id"] for t in mine]

    wid = platform.wrapped_id(collection, token)
    assert platform.wrapped.functions.ownerOf(wid).call() == holder.address
    back = api.post("/bridge/send-tx", json=body | {"chain_id": REMOTE}, headers=session)
    assert back.status_code == 200, back.text
    assert back.json()["direction"] == "burn" and back.json()["dest_chain_id"] == HOME
    receipt = send(platform.remote, holder, back.json()["transactions"][0])
    home_again = _wait_status(api, _transfer_id(receipt, back.json()["bridge"]), "delivered", platform)
    assert home_again["source_chain_id"] == REMOTE
    assert collection.functions.ownerOf(token).call() == holder.address


def test_a_paused_bridge_builds_no_transfer(api, platform):
    label = _label("ops-bridge-paused")
    collection = platform.collection(label)
    token, _ = platform.mint_edition(collection, 1, label)
    api.post("/admin/roles", json={"subject": OPERATOR.address, "role": "operator"}, headers=login(api, ADMIN))
    operator = login(api, OPERATOR)
    api.post("/ops/bridge/pause", json={"chain_id": HOME}, headers=operator)
    try:
        r = api.post("/bridge/send-tx", json={"chain_id": HOME, "collection": collection.address, "token_id": token},
                     headers=login(api, dev_account(COLLECTOR)))
        assert r.status_code == 409 and r.json()["type"] == "/problems/paused"
    finally:
        api.post("/ops/bridge/unpause", json={"chain_id": HOME}, headers=operator)


def test_transfer_status_decides_every_state_from_its_evidence():
    from api.routers.bridge import Evidence, transfer_status

    assert transfer_status(Evidence()) is None
    assert transfer_status(Evidence(departed=True, age_s=5))[0] == "pending"
    assert transfer_status(Evidence(departed=True, age_s=5000))[0] == "stuck"
    assert transfer_status(Evidence(stored_status="pending", attestations=1, threshold=2, age_s=1))[0] == "pending"
    assert transfer_status(Evidence(stored_status="pending", attestations=2, threshold=2, age_s=1))[0] == "attested"
    stuck = transfer_status(Evidence(stored_status="pending", stored_reason="the destination is paused",
                                     attestations=2, threshold=2, age_s=5000))
    assert stuck == ("stuck", "the destination is paused")
    assert transfer_status(Evidence(stored_status="failed", stored_reason="reverted"))[0] == "failed"
    assert transfer_status(Evidence(rejected_reason="rights mismatch", departed=True))[0] == "failed"
    assert transfer_status(Evidence(held_reason="custody unknown", held_stuck=True))[0] == "stuck"
    assert transfer_status(Evidence(held_reason="custody unknown", departed=True, age_s=1))[0] == "pending"
    assert transfer_status(Evidence(stored_status="pending", delivered_on_chain=True))[0] == "delivered"


# -- holdings -------------------------------------------------------------------------------------


def _index(platform: BridgeEnv, database: Any, chain: str) -> None:
    from record.index import EventDecoder, Indexer, IndexStore
    from record.index.service import CHILD_RULES

    web3 = platform.home if chain == "home" else platform.remote
    chain_id = HOME if chain == "home" else REMOTE
    registry = DeploymentRegistry(platform.chain.deployments_file)
    artifacts = platform.artifacts
    indexer = Indexer(web3, chain_id, IndexStore(database.engine),
                      EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()}), rules=CHILD_RULES)
    indexer.watch((d.address, d.artifact or d.contract, d.block) for d in registry.for_chain(chain_id).values())
    indexer.run_until_caught_up()


def test_holdings_list_a_wallets_tokens_from_the_index(api, platform, database, sale):
    _index(platform, database, "home")
    buyer = dev_account(CREATOR).address
    held = api.get(f"/wallets/{buyer}/holdings")
    assert held.status_code == 200, held.text
    assert {(h["chain_id"], h["collection"], h["token_id"]) for h in held.json()} >= {
        (HOME, sale["collection"].address, str(sale["sold"]))}
    assert all(h["confirmed"] for h in held.json())
    assert (HOME, sale["collection"].address, str(sale["sold"])) not in {
        (h["chain_id"], h["collection"], h["token_id"])
        for h in api.get(f"/wallets/{dev_account(COLLECTOR).address}/holdings").json()}


# -- the commands ---------------------------------------------------------------------------------


@pytest.fixture
def served(platform, database, tmp_path) -> Iterator[str]:
    port = free_port()
    app = _app(platform, database, tmp_path, port)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _cli(platform: BridgeEnv, *args: str, ok: bool = True, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = platform.env | {"CHAINRIGHT_WALLET_PASSPHRASE": "ops passphrase"}
    out = subprocess.run(["chainright", *args], env=env, capture_output=True, text=True, timeout=timeout)
    if ok:
        assert out.returncode == 0, f"{args}: {out.stderr}"
    return out


def _wallet(platform: BridgeEnv, account: Any) -> str:
    name = f"w{account.address[2:10].lower()}-{free_port()}"
    env = platform.env | {"CHAINRIGHT_WALLET_PASSPHRASE": "ops passphrase",
                          "CHAINRIGHT_WALLET_KEY": "0x" + bytes(account.key).hex()}
    subprocess.run(["chainright", "wallet", "import", "--wallet", name], env=env, capture_output=True, timeout=120,
                   check=True)
    return name


def test_every_command_against_a_running_platform(served, platform, database, sale):
    api = ["--api", served]
    admin, operator, stranger = _wallet(platform, ADMIN), _wallet(platform, OPERATOR), _wallet(platform, STRANGER)
    issuer, treasury = _wallet(platform, RIGHTS), _wallet(platform, TREASURY)
    collector = _wallet(platform, dev_account(COLLECTOR))

    # roles
    refused = _cli(platform, "roles", "grant", OPERATOR.address, "operator", "--wallet", stranger, *api, ok=False)
    assert refused.returncode == 1 and "403" in refused.stderr and "Traceback" not in refused.stderr
    assert _cli(platform, "roles", "grant", OPERATOR.address, "operator", "--wallet", admin, *api).stdout.strip()
    listed = json.loads(_cli(platform, "roles", "list", "--json", "--wallet", admin, *api).stdout)
    assert [(g["subject"], g["role"], g["granted_by"]) for g in listed] == [(OPERATOR.address, "operator", did(ADMIN))]

    # ops
    _cli(platform, "ops", "pause", "marketplace", "--chain", "home", "--wallet", operator, *api)
    status = json.loads(_cli(platform, "ops", "status", "--json", *api).stdout)
    assert {(s["family"], s["chain_id"]): s["paused"] for s in status}[("marketplace", HOME)] is True
    assert "PAUSED" in _cli(platform, "ops", "status", *api).stdout
    _cli(platform, "ops", "unpause", "marketplace", "--wallet", operator, *api)
    assert not any(s["paused"] for s in json.loads(_cli(platform, "ops", "status", "--json", *api).stdout))
    nope = _cli(platform, "ops", "pause", "marketplace", "--wallet", stranger, *api, ok=False)
    assert nope.returncode == 1 and "operator" in nope.stderr
    _cli(platform, "roles", "revoke", OPERATOR.address, "operator", "--wallet", admin, *api)
    assert json.loads(_cli(platform, "roles", "list", "--json", "--wallet", admin, *api).stdout) == []

    creator = _wallet(platform, dev_account(CREATOR))
    own = platform.collection(_label("ops-cli-own"))
    _cli(platform, "ops", "pause-collection", own.address, "--wallet", creator, *api)
    assert own.functions.paused().call()
    _cli(platform, "ops", "unpause-collection", own.address, "--wallet", creator, *api)
    assert not own.functions.paused().call()

    # royalties (the splitter of the module's sale; an earlier test may have distributed and withdrawn)
    splitter = sale["splitter"]
    shown = json.loads(_cli(platform, "royalties", "show", splitter, "--json", *api).stdout)
    assert {r["account"] for r in shown["recipients"]} == {RIGHTS.address, ISSUER.address, CHANNEL.address}
    assert "ETH (" in _cli(platform, "royalties", "show", splitter, *api).stdout
    if shown["undistributed"]["wei"] != "0":
        _cli(platform, "royalties", "distribute", splitter, "--wallet", stranger, *api)
    mine = next(r for r in shown["recipients"] if r["account"] == RIGHTS.address)
    if mine["withdrawable"]["wei"] != "0":
        done = _cli(platform, "royalties", "withdraw", splitter, "--wallet", issuer, *api)
        assert "paid" in done.stderr
    late = json.loads(_cli(platform, "royalties", "show", splitter, "--json", *api).stdout)
    assert next(r for r in late["recipients"] if r["account"] == RIGHTS.address)["withdrawable"]["wei"] == "0"
    not_mine = _cli(platform, "royalties", "withdraw", splitter, "--wallet", stranger, *api, ok=False)
    assert not_mine.returncode == 1 and "not a recipient" in not_mine.stderr

    # fees
    fees = json.loads(_cli(platform, "fees", "show", "--json", "--wallet", treasury, *api).stdout)
    assert {f["chain_id"] for f in fees} == {HOME, REMOTE}
    if next(f for f in fees if f["chain_id"] == HOME)["accrued"]["wei"] != "0":
        _cli(platform, "fees", "withdraw", "--wallet", treasury, *api)
    empty = _cli(platform, "fees", "withdraw", "--wallet", treasury, *api, ok=False)
    assert empty.returncode == 1 and "would revert" in empty.stderr and "WithdrawalNothingOwed" not in empty.stderr

    # bridge
    label = _label("ops-cli-bridge")
    collection = platform.collection(label)
    token, _ = platform.mint_edition(collection, 1, label)
    platform.send(platform.home, COLLECTOR, collection.functions.setApprovalForAll(platform.lockbox.address, False))
    if not platform.alive("all"):
        platform.start("all")
    sent = _cli(platform, "bridge", "send", "--collection", collection.address, "--token-id", str(token),
                "--to", "remote", "--wallet", collector, *api)
    assert "approving the lockbox" in sent.stderr
    transfer = sent.stdout.strip().splitlines()[-1]
    followed = _cli(platform, "bridge", "status", transfer, "--timeout", "90", *api)
    assert followed.stdout.strip() == "delivered" and "delivered:" in followed.stderr
    now = json.loads(_cli(platform, "bridge", "status", transfer, "--no-wait", "--json", *api).stdout)
    assert now["status"] == "delivered"
    mine_t = json.loads(_cli(platform, "bridge", "list", "--json", "--wallet", collector, *api).stdout)
    assert transfer in [t["transfer_id"] for t in mine_t]
    back = _cli(platform, "bridge", "send", "--collection", collection.address, "--token-id", str(token),
                "--to", "home", "--wallet", collector, *api)
    _cli(platform, "bridge", "status", back.stdout.strip().splitlines()[-1], "--timeout", "90", *api)
    assert collection.functions.ownerOf(token).call() == dev_account(COLLECTOR).address

    # holdings
    _index(platform, database, "home")
    held = json.loads(_cli(platform, "holdings", dev_account(CREATOR).address, "--json", *api).stdout)
    assert (sale["collection"].address, str(sale["sold"])) in {(h["collection"], h["token_id"]) for h in held}
    assert all(h["acquired_at_iso"] is None or h["acquired_at_iso"].endswith("Z") for h in held)
    mine_h = _cli(platform, "holdings", "--wallet", collector, *api)
    assert collection.address in mine_h.stdout


def test_the_breaker_commands_show_change_only_what_is_given_and_lift_a_halt(served, platform, sale):
    """`ops breaker`, `ops set-breaker` and `ops lift` drive GET/PATCH /market/breaker and its lift:
    only the options given change, a reference reads as ETH, the jurisdiction rules reach the chain's
    TransferPolicy (setRules, sent by the platform key), and only the risk role may change anything."""
    api = ["--api", served]
    admin, risk, stranger = _wallet(platform, ADMIN), _wallet(platform, OPERATOR), _wallet(platform, STRANGER)
    collection = platform.collection(_label("ops-cli-breaker")).address
    shown = json.loads(_cli(platform, "ops", "breaker", collection, "--json", *api).stdout)
    assert shown["policy"]["band_bps"] == 2000 and shown["halted_until"] is None
    assert "not halted" in _cli(platform, "ops", "breaker", collection, *api).stdout

    refused = _cli(platform, "ops", "set-breaker", collection, "--band-pct", "15", "--wallet", risk, *api, ok=False)
    assert refused.returncode == 1 and "risk" in refused.stderr and "Traceback" not in refused.stderr
    _cli(platform, "roles", "grant", OPERATOR.address, "risk", "--wallet", admin, *api)
    try:
        changed = _cli(platform, "ops", "set-breaker", collection, "--band-pct", "15", "--reference", "1.5",
                       "--no-secondary-sales", "--gift-holding", "3600", "--wallet", risk, *api)
        assert "band: +/-15% around the operator's reference 1.5 ETH (1500000000000000000 wei)" in changed.stdout
        assert "no resale (only the creator sells); gifts after 3600 s of holding" in changed.stdout
        policy = json.loads(_cli(platform, "ops", "breaker", collection, "--json", *api).stdout)["policy"]
        assert (policy["band_bps"], policy["operator_reference"], policy["secondary_sales"],
                policy["gift_holding_s"], policy["reference_fills"]) == (1500, 10**18 * 3 // 2, False, 3600, 20)
        rules = platform.at(platform.home, "TransferPolicy").functions.rulesOf(collection).call()
        assert tuple(rules) == (True, True, False, 3600)  # active, no resale, not verified-only, holding

        _cli(platform, "ops", "set-breaker", collection, "--clear-reference", "--wallet", risk, *api)
        policy = json.loads(_cli(platform, "ops", "breaker", collection, "--json", *api).stdout)["policy"]
        assert policy["operator_reference"] is None and policy["band_bps"] == 1500  # the rest kept

        not_halted = _cli(platform, "ops", "lift", collection, "--wallet", risk, *api, ok=False)
        assert not_halted.returncode == 1 and "is not halted" in not_halted.stderr
        market = platform.at(platform.home, "Marketplace")
        platform.send(platform.home, DEPLOYER, market.functions.setHalted(collection, True))  # the breaker's key
        assert market.functions.collectionPolicy(collection).call()[0] is True
        lifted = _cli(platform, "ops", "lift", collection, "--json", "--wallet", risk, *api)
        assert json.loads(lifted.stdout)["decisions"][0]["action"] == "lift"
        assert market.functions.collectionPolicy(collection).call()[0] is False
        for bad in (("--band-pct", "0"), ("--reference", "abc"), ("--cooldown", "-5"), ()):
            usage = _cli(platform, "ops", "set-breaker", collection, *bad, "--wallet", risk, *api, ok=False)
            assert usage.returncode == 2 and "Traceback" not in usage.stderr, usage.stderr
        outside = _cli(platform, "ops", "set-breaker", collection, "--band-pct", "100", "--wallet", risk, *api,
                       ok=False)
        assert outside.returncode == 1 and "band_bps" in outside.stderr
        assert _cli(platform, "ops", "lift", collection, "--wallet", stranger, *api, ok=False).returncode == 1
    finally:
        _cli(platform, "roles", "revoke", OPERATOR.address, "risk", "--wallet", admin, *api)
