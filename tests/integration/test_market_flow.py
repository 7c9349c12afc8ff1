"""Trading through the HTTP API against real anvils: the creator lists a work minted with a
30/40/30 split, a collector buys it with the transaction the API returns, the royalty lands in the
splitter, the indexer shows the sale; an unverified buyer is refused; a burst of outlier orders
trips the circuit breaker, the contract halts the collection, and trading resumes after the cooldown."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from api import create_app
from api.settings import ApiSettings
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.orders import MarketDomain, listing, sign_order
from chain.settings import ChainSettings
from did.settings import DidSettings
from record.index import EventDecoder, Indexer, IndexStore
from record.index.service import CHILD_RULES
from tests.support.api_flow import OFFICER, login, send, verified_login

pytestmark = pytest.mark.integration

CREATOR, COLLECTOR, STRANGER = dev_account(1), dev_account(2), dev_account(9)
RIGHTS, ISSUER, CHANNEL = dev_account(3), dev_account(4), dev_account(7)
PRICE = 10**18
BATCH_TABLES = ("market_orders", "collection_policies", "breaker_decisions")
"""The tables a batch of orders reads and writes (the caller's and the index's are counted elsewhere)."""


@pytest.fixture(scope="module")
def deployed(two_chains: ChainSettings, artifacts) -> ChainSettings:
    deploy_to_chains(two_chains, two_chains.specs("all"))
    return two_chains


@pytest.fixture
def market(deployed, database, tmp_path, artifacts):
    officer_did = f"did:pkh:eip155:31337:{OFFICER.address}"
    settings = ApiSettings(environment="test", data_dir=tmp_path, siwe_domain="testserver",
                           siwe_uri="http://testserver",
                           role_grants={officer_did: ["kyc_officer", "risk"]})
    app = create_app(settings, db=database, chain_settings=deployed, did_settings=DidSettings(environment="test"))
    client = TestClient(app, raise_server_exceptions=False)
    web3 = connect(deployed.spec("home"))
    creator = verified_login(client, CREATOR)
    work = f"a work for sale {tmp_path.name}".encode()
    cid = client.post("/assets", files={"file": ("w.png", work, "image/png")}, headers=creator).json()["cid"]
    split = client.post("/splits/tx", json={"chain_id": 31337, "rights_holder": RIGHTS.address,
                                            "issuer": ISSUER.address, "channel": CHANNEL.address},
                        headers=creator).json()
    if not split["already_exists"]:
        send(web3, CREATOR, split["transaction"])
    out = client.post("/collections/tx", json={"chain_id": 31337, "name": "Sale", "symbol": "SALE",
                                               "royalty_receiver": split["splitter"], "royalty_bps": 1000},
                      headers=creator).json()
    send(web3, CREATOR, out["transaction"])
    collection = out["predicted_address"]
    send(web3, CREATOR, client.post(f"/assets/{cid}/mint-tx", json={
        "chain_id": 31337, "collection": collection, "quantity": 3}, headers=creator).json())
    registry = DeploymentRegistry(deployed.deployments_file)
    marketplace = registry.address(31337, "Marketplace")
    nft = web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    from chain.tx import TxSender

    owner = TxSender(web3, CREATOR)
    owner.transact(owner.call_tx(nft.functions.setApprovalForAll(marketplace, True)))
    return {"client": client, "web3": web3, "creator": creator, "collection": collection, "nft": nft,
            "splitter": split["splitter"], "domain": MarketDomain(31337, marketplace), "database": database,
            "deployed": deployed, "artifacts": artifacts}


def _listing(m, token_id: int, price: int) -> dict:
    return _signed(m, token_id, price)[2]


def test_collector_buys_and_the_royalty_lands_in_the_splitter(market):
    m, client, web3 = market, market["client"], market["web3"]
    r = client.post("/market/orders", json=_listing(m, 1, PRICE), headers=m["creator"])
    assert r.status_code == 201, r.text
    order_hash = r.json()["order_hash"]
    listed = client.get("/market/orders", params={"token": m["collection"], "token_id": 1}).json()
    assert [o["order_hash"] for o in listed] == [order_hash]

    collector = verified_login(client, COLLECTOR)
    before = web3.eth.get_balance(m["splitter"])
    tx = client.post(f"/market/orders/{order_hash}/fill-tx", json={"amount": 1}, headers=collector)
    assert tx.status_code == 200, tx.text
    assert int(tx.json()["value"], 16) == PRICE
    receipt = send(web3, COLLECTOR, tx.json())
    assert receipt["status"] == 1
    assert m["nft"].functions.ownerOf(1).call() == COLLECTOR.address
    assert web3.eth.get_balance(m["splitter"]) - before == PRICE // 10  # 10% royalty, atomically

    deployed, artifacts = m["deployed"], m["artifacts"]
    registry = DeploymentRegistry(deployed.deployments_file)
    indexer = Indexer(web3, 31337, IndexStore(m["database"].engine),
                      EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()}), rules=CHILD_RULES)
    indexer.watch((d.address, d.artifact or d.contract, d.block) for d in registry.for_chain(31337).values())
    indexer.run_until_caught_up()
    fills = client.get("/market/fills", params={"chain_id": 31337, "token": m["collection"]}).json()
    assert len(fills) == 1 and fills[0]["orderHash"] == order_hash and int(fills[0]["royalty"]) == PRICE // 10


def test_an_unverified_buyer_is_refused(market):
    m, client = market, market["client"]
    order_hash = client.post("/market/orders", json=_listing(m, 2, PRICE), headers=m["creator"]).json()["order_hash"]
    r = client.post(f"/market/orders/{order_hash}/fill-tx", json={"amount": 1}, headers=login(client, STRANGER))
    assert r.status_code == 403 and "KYC" in r.json()["detail"]


def test_forged_and_foreign_orders_are_refused_on_receipt(market):
    m, client = market, market["client"]
    forged = _listing(m, 2, PRICE)
    forged["unit_price"] = 1  # the signature covers the price
    r = client.post("/market/orders", json=forged, headers=m["creator"])
    assert r.status_code == 422 and "signature" in r.json()["detail"]
    other = _listing(m, 2, PRICE)
    collector = verified_login(client, COLLECTOR)
    r = client.post("/market/orders", json=other, headers=collector)
    assert r.status_code == 403


def test_outlier_burst_trips_the_breaker_and_trading_resumes_after_the_cooldown(market):
    m, client, web3 = market, market["client"], market["web3"]
    officer = login(client, OFFICER)
    policy = {"operator_reference": PRICE, "band_bps": 1000, "max_rejections": 2, "rejection_window_s": 60,
              "cooldown_s": 15, "min_distinct_accounts": 1, "max_refusals_per_account": 2}  # one lister may halt
    # (15 s, not 3: on a loaded machine the halt ran out before the refused fill was asked for)
    r = client.put(f"/market/breaker/31337/{m['collection']}", json=policy, headers=officer)
    assert r.status_code == 200, r.text
    assert client.put(f"/market/breaker/31337/{m['collection']}", json=policy, headers=m["creator"]).status_code == 403
    good = client.post("/market/orders", json=_listing(m, 3, PRICE), headers=m["creator"]).json()["order_hash"]

    first = client.post("/market/orders", json=_listing(m, 2, 3 * PRICE), headers=m["creator"])
    assert first.status_code == 422 and "outside the band" in first.json()["detail"]
    assert first.json()["band"]["high"] == str(PRICE * 11 // 10)
    tripped = client.post("/market/orders", json=_listing(m, 2, 5 * PRICE), headers=m["creator"])
    assert tripped.status_code == 422 and "tripped" in tripped.json()["detail"]
    market_contract = web3.eth.contract(address=m["domain"].verifying_contract,
                                        abi=m["artifacts"].get("Marketplace").abi)
    assert market_contract.functions.collectionPolicy(m["collection"]).call()[0] is True  # the chain enforces it
    collector = verified_login(client, COLLECTOR)
    refused = client.post(f"/market/orders/{good}/fill-tx", json={"amount": 1}, headers=collector)
    assert refused.status_code == 422 and refused.json()["error"] == "CollectionHalted"
    assert "halted by the price circuit breaker" in refused.json()["detail"]
    assert "fast) until 20" in refused.json()["detail"]  # the breaker's end, as an ISO 8601 date
    halted = client.post("/market/orders", json=_listing(m, 2, PRICE), headers=m["creator"])
    assert halted.status_code == 422 and "halted" in halted.json()["detail"]

    until = client.get(f"/market/breaker/31337/{m['collection']}").json()["halted_until"]
    time.sleep(max(0.0, datetime.fromisoformat(until).timestamp() - time.time()) + 0.3)
    lifted = client.post(f"/market/orders/{good}/fill-tx", json={"amount": 1}, headers=collector)
    assert lifted.status_code == 200, lifted.text  # building a fill lifts the expired halt, on chain too
    assert market_contract.functions.collectionPolicy(m["collection"]).call()[0] is False
    resumed = client.post("/market/orders", json=_listing(m, 2, PRICE), headers=m["creator"])
    assert resumed.status_code == 201, resumed.text
    assert market_contract.functions.collectionPolicy(m["collection"]).call()[0] is False
    decisions = client.get(f"/market/breaker/31337/{m['collection']}").json()["decisions"]
    assert {d["action"] for d in decisions} >= {"accept", "reject", "halt", "resume"}


def test_jurisdiction_policy_forbids_secondary_listings(market):
    m, client, web3 = market, market["client"], market["web3"]
    officer = login(client, OFFICER)
    r = client.put(f"/market/breaker/31337/{m['collection']}",
                   json={"secondary_sales": False, "gift_holding_s": 86400}, headers=officer)
    assert r.status_code == 200 and r.json()["policy"]["secondary_sales"] is False
    primary = client.post("/market/orders", json=_listing(m, 1, PRICE), headers=m["creator"])
    assert primary.status_code == 201, primary.text  # the creator's first sale is allowed
    collector = verified_login(client, COLLECTOR)
    send(web3, COLLECTOR, client.post(f"/market/orders/{primary.json()['order_hash']}/fill-tx",
                                      json={"amount": 1}, headers=collector).json())
    now = int(time.time())
    epoch = _epoch(m, m["collection"], COLLECTOR.address, 1)
    order = listing(seller=COLLECTOR.address, token=m["collection"], token_id=1, unit_price=PRICE,
                    start=now - 60, expiry=now + 3600, counter=0, holding_epoch=epoch)
    signed = sign_order(order, m["domain"], COLLECTOR)
    resale = {"chain_id": 31337, "side": "listing", "signer": COLLECTOR.address, "token": m["collection"],
              "token_id": 1, "unit_price": PRICE, "start": order.start, "expiry": order.expiry,
              "salt": order.salt, "counter": 0, "holding_epoch": epoch,
              "signature": "0x" + signed.signature.hex()}
    r = client.post("/market/orders", json=resale, headers=collector)
    assert r.status_code == 422 and "forbids secondary sales" in r.json()["detail"]
    assert "86400" in r.json()["detail"]


def test_the_gateway_encodes_and_reads_exactly_as_web3_does(market):
    """The hot routes skip web3's per-call ABI validation: same calldata, same answers."""
    from api.gateway import ChainGateway

    m = market
    gateway = ChainGateway(m["deployed"])
    contract = m["web3"].eth.contract(address=m["domain"].verifying_contract,
                                      abi=m["artifacts"].get("Marketplace").abi)
    body = _listing(m, 2, PRICE)
    now = int(time.time())
    order = listing(seller=CREATOR.address, token=m["collection"], token_id=2, unit_price=PRICE,
                    start=now - 60, expiry=now + 3600, counter=0, salt=body["salt"],
                    holding_epoch=body["holding_epoch"])
    args = [order.as_tuple(), bytes.fromhex(body["signature"][2:]), 1]
    assert gateway.calldata("Marketplace", "fillListing", args) == contract.encode_abi("fillListing", args=args)
    assert gateway.calldata("Marketplace", "counterOf", [CREATOR.address]) == \
        contract.encode_abi("counterOf", args=[CREATOR.address])
    for who in (CREATOR.address, COLLECTOR.address):
        assert gateway.view(31337, contract.address, "Marketplace", "counterOf", [who]) == \
            contract.functions.counterOf(who).call()
    policy = gateway.view(31337, contract.address, "Marketplace", "collectionPolicy", [m["collection"]])
    assert tuple(policy) == tuple(contract.functions.collectionPolicy(m["collection"]).call())


def test_a_batch_of_orders_is_verified_item_by_item_and_bought_in_one_transaction(market):
    m, client, web3 = market, market["client"], market["web3"]
    good = [_listing(m, token_id, PRICE) for token_id in (1, 2, 3)]
    forged = dict(_listing(m, 3, PRICE), unit_price=1)  # the signature covers the price
    r = client.post("/market/orders/batch", json={"orders": [*good, forged, good[0]]}, headers=m["creator"])
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["created"], out["refused"]) == (3, 2)
    assert [x["status"] for x in out["results"]] == ["created"] * 3 + ["refused"] * 2
    assert out["results"][3]["error"]["status"] == 422 and "signature" in out["results"][3]["error"]["detail"]
    assert out["results"][4]["error"]["status"] == 409  # a duplicate of item 0
    hashes = [x["order"]["order_hash"] for x in out["results"][:3]]
    listed = client.get("/market/orders", params={"token": m["collection"]}).json()
    assert sorted(o["order_hash"] for o in listed) == sorted(hashes)

    collector = verified_login(client, COLLECTOR)
    before = web3.eth.get_balance(m["splitter"])
    tx = client.post("/market/fill-tx/batch", json={"items": [{"order_hash": h} for h in hashes]},
                     headers=collector)
    assert tx.status_code == 200, tx.text
    assert int(tx.json()["value"], 16) == 3 * PRICE
    assert send(web3, COLLECTOR, tx.json())["status"] == 1
    assert [m["nft"].functions.ownerOf(t).call() for t in (1, 2, 3)] == [COLLECTOR.address] * 3
    assert web3.eth.get_balance(m["splitter"]) - before == 3 * PRICE // 10  # every item paid its royalty

    again = client.post("/market/fill-tx/batch", json={"items": [{"order_hash": hashes[0]}]}, headers=collector)
    assert again.status_code == 422 and again.json()["error"] == "OrderFillExceedsRemaining"
    assert "remain, not 1; buy fewer" in again.json()["detail"]


def test_a_batch_reads_and_writes_the_database_a_fixed_number_of_times_whatever_its_size(market):
    """The batch's book rows are read in one SELECT, each collection's policy once, and the
    admitted rows (orders, breaker decisions) go in together: on the tables a batch works on, six
    orders cost the database what two do (each order cost four more statements before), and a
    cart of three listings what a cart of one does (each listing cost two more)."""
    from sqlalchemy import event

    m, client = market, market["client"]
    engine = m["database"].engine

    def statements(orders: list[dict]) -> tuple[int, dict]:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            if any(table in statement for table in BATCH_TABLES):
                seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            r = client.post("/market/orders/batch", json={"orders": orders}, headers=m["creator"])
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert r.status_code == 200, r.text
        return len(seen), r.json()

    two, out2 = statements([_listing(m, t, PRICE) for t in (1, 2)])
    six, out6 = statements([_listing(m, t, PRICE) for t in (1, 2, 3, 1, 2, 3)])
    assert (out2["created"], out6["created"]) == (2, 6)
    assert six == two, (two, six)
    listed = client.get("/market/orders", params={"token": m["collection"]}).json()
    assert len(listed) == 8  # every admitted row was stored

    # A cart's fill reads its listings in one SELECT too: three cost what one does.
    collector = verified_login(client, COLLECTOR)
    hashes = [r["order"]["order_hash"] for r in out6["results"][:3]]

    def cart(items: list[str]) -> int:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            if any(table in statement for table in BATCH_TABLES):
                seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            r = client.post("/market/fill-tx/batch", json={"items": [{"order_hash": h} for h in items]},
                            headers=collector)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert r.status_code == 200, r.text
        return len(seen)

    assert cart(hashes) == cart(hashes[:1])


def test_batch_routes_refuse_oversized_and_unfillable_batches(market):
    m, client = market, market["client"]
    listing_body = _listing(m, 1, PRICE)
    r = client.post("/market/orders/batch", json={"orders": [listing_body] * 51}, headers=m["creator"])
    assert r.status_code == 422 and "50" in r.text
    r = client.post("/market/orders/batch", json={"orders": []}, headers=m["creator"])
    assert r.status_code == 422
    collector = verified_login(client, COLLECTOR)
    r = client.post("/market/fill-tx/batch", json={"items": [{"order_hash": "0x" + "ab" * 32}] * 51},
                    headers=collector)
    assert r.status_code == 422 and "50" in r.text
    r = client.post("/market/fill-tx/batch", json={"items": [{"order_hash": "0x" + "ab" * 32}]}, headers=collector)
    assert r.status_code == 404
    created = client.post("/market/orders/batch", json={"orders": [listing_body]}, headers=m["creator"]).json()
    order_hash = created["results"][0]["order"]["order_hash"]
    assert client.post(f"/market/orders/{order_hash}/cancel", headers=m["creator"]).status_code == 200
    r = client.post("/market/fill-tx/batch", json={"items": [{"order_hash": order_hash}]}, headers=collector)
    assert r.status_code == 409 and "cancelled" in r.json()["detail"]
    stranger = login(client, STRANGER)
    r = client.post("/market/fill-tx/batch", json={"items": [{"order_hash": order_hash}]}, headers=stranger)
    assert r.status_code == 403


def test_a_batch_replayed_with_its_idempotency_key_runs_once(market):
    m, client = market, market["client"]
    body = {"orders": [_listing(m, 1, PRICE), _listing(m, 2, PRICE)]}
    headers = {**m["creator"], "Idempotency-Key": f"batch-{time.time_ns()}"}
    first = client.post("/market/orders/batch", json=body, headers=headers)
    second = client.post("/market/orders/batch", json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and first.json()["created"] == 2
    fresh = client.post("/market/orders/batch", json=body, headers=m["creator"]).json()
    assert fresh["refused"] == 2  # without the key, a repeat is a duplicate
    listed = client.get("/market/orders", params={"token": m["collection"]}).json()
    assert len(listed) == 2


def test_malformed_signatures_and_impossible_amounts_are_422s_not_500s(market):
    m, client = market, market["client"]
    odd = _listing(m, 2, PRICE)
    odd["signature"] = odd["signature"] + "0"  # odd-length hex: not bytes
    r = client.post("/market/orders", json=odd, headers=m["creator"])
    assert r.status_code == 422 and "signature" in r.text
    r = client.post("/market/orders/batch", json={"orders": [odd]}, headers=m["creator"])
    assert r.status_code == 422 and "signature" in r.text
    order_hash = client.post("/market/orders", json=_listing(m, 3, PRICE), headers=m["creator"]).json()["order_hash"]
    collector = verified_login(client, COLLECTOR)
    r = client.post(f"/market/orders/{order_hash}/fill-tx", json={"amount": 2**256}, headers=collector)
    assert r.status_code == 422 and "amount" in r.text
    # An amount that fits but whose price does not: refused with what to do, before any encoding.
    r = client.post(f"/market/orders/{order_hash}/fill-tx", json={"amount": 2**255}, headers=collector)
    assert r.status_code == 422 and "does not fit" in r.json()["detail"]
    r = client.post("/market/fill-tx/batch", json={"items": [{"order_hash": order_hash, "amount": 2**255}]},
                    headers=collector)
    assert r.status_code == 422 and "does not fit" in r.json()["detail"]


def test_only_a_holder_can_list_so_strangers_cannot_halt_a_collection(market):
    m, client = market, market["client"]
    collector = verified_login(client, COLLECTOR)  # verified, but holds none of the creator's tokens
    now = int(time.time())
    for price in (100 * PRICE, 200 * PRICE, 300 * PRICE, 400 * PRICE, 500 * PRICE, 600 * PRICE):
        order = listing(seller=COLLECTOR.address, token=m["collection"], token_id=2, unit_price=price,
                        start=now - 60, expiry=now + 3600, counter=0, holding_epoch=0)
        signed = sign_order(order, m["domain"], COLLECTOR)
        body = {"chain_id": 31337, "side": "listing", "signer": order.signer, "token": order.token,
                "token_id": 2, "unit_price": price, "start": order.start, "expiry": order.expiry,
                "salt": order.salt, "counter": 0, "signature": "0x" + signed.signature.hex()}
        r = client.post("/market/orders", json=body, headers=collector)
        assert r.status_code == 422 and "does not hold token 2" in r.json()["detail"], r.text
    missing = _listing(m, 10**6, PRICE)  # a token that does not exist
    r = client.post("/market/orders", json=missing, headers=m["creator"])
    assert r.status_code == 422 and "token 1000000" in r.json()["detail"]
    # The breaker saw none of it: the holder still lists at the going price.
    r = client.post("/market/orders", json=_listing(m, 2, PRICE), headers=m["creator"])
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------- the book and the breaker follow the chain


def _signed(m, token_id: int, price: int, counter: int | None = None, seller=CREATOR,
            collection: str | None = None):
    """A listing signed by ``seller`` (by default at its current on-chain counter: the chain is shared
    by the module's tests, and one of them bumps the creator's counter)."""
    if counter is None:
        counter = _marketplace(m).functions.counterOf(seller.address).call()
    now = int(time.time())
    token = collection or m["collection"]
    epoch = _epoch(m, token, seller.address, token_id)
    order = listing(seller=seller.address, token=token, token_id=token_id,
                    unit_price=price, start=now - 60, expiry=now + 3600, counter=counter, holding_epoch=epoch)
    signed = sign_order(order, m["domain"], seller)
    body = {"chain_id": 31337, "side": "listing", "signer": order.signer, "token": order.token,
            "token_id": token_id, "unit_price": price, "start": order.start, "expiry": order.expiry,
            "salt": order.salt, "counter": counter, "holding_epoch": epoch,
            "signature": "0x" + signed.signature.hex()}
    return order, signed, body


def _epoch(m, collection: str, holder: str, token_id: int) -> int:
    """The token's holding epoch a listing binds (0 for a token that does not exist yet)."""
    nft = m["web3"].eth.contract(address=collection, abi=m["artifacts"].get("CreatorCollection").abi)
    try:
        return int(nft.functions.holdingEpoch(holder, token_id).call())
    except Exception:  # a token that does not exist: the API refuses the listing for that first
        return 0


def _index(m) -> None:
    registry = DeploymentRegistry(m["deployed"].deployments_file)
    artifacts = m["artifacts"]
    indexer = Indexer(m["web3"], 31337, IndexStore(m["database"].engine),
                      EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()}), rules=CHILD_RULES)
    indexer.watch((d.address, d.artifact or d.contract, d.block) for d in registry.for_chain(31337).values())
    indexer.run_until_caught_up()


def _marketplace(m):
    return m["web3"].eth.contract(address=m["domain"].verifying_contract, abi=m["artifacts"].get("Marketplace").abi)


def _revert_name(m, call) -> str:
    """Run a direct contract call that must revert; the contract error's description."""
    from web3.exceptions import ContractCustomError, ContractLogicError

    from chain.reverts import ErrorDecoder, revert_data

    artifacts = m["artifacts"]
    try:
        call()
    except (ContractCustomError, ContractLogicError) as exc:
        return ErrorDecoder(artifacts.get(n).abi for n in artifacts.names()).describe(revert_data(exc))
    raise AssertionError("the call did not revert")


def test_a_fill_that_moves_the_price_halts_and_a_fill_lifts_the_halt_after_the_cooldown(market):
    m, client, web3 = market, market["client"], market["web3"]
    officer = login(client, OFFICER)
    r = client.put(f"/market/breaker/31337/{m['collection']}", json={"move_bps": 1000, "cooldown_s": 15,  # not 4: slack for a loaded machine
                                                                       "min_distinct_accounts": 2},
                   headers=officer)
    assert r.status_code == 200, r.text
    hashes = [client.post("/market/orders", json=_signed(m, t, p)[2], headers=m["creator"]).json()["order_hash"]
              for t, p in ((1, PRICE), (2, 2 * PRICE), (3, PRICE))]
    collector = verified_login(client, COLLECTOR)
    for order_hash in hashes[:2]:  # a sale at the price, then one at twice the price
        tx = client.post(f"/market/orders/{order_hash}/fill-tx", json={"amount": 1}, headers=collector)
        assert tx.status_code == 200, tx.text
        assert send(web3, COLLECTOR, tx.json())["status"] == 1
    marketplace = _marketplace(m)
    assert marketplace.functions.collectionPolicy(m["collection"]).call()[0] is False  # not indexed yet

    _index(m)
    filled = client.get("/market/orders", params={"token": m["collection"], "status": "filled"}).json()
    assert sorted(o["order_hash"] for o in filled) == sorted(hashes[:2])
    assert marketplace.functions.collectionPolicy(m["collection"]).call()[0] is True  # halted on chain
    view = client.get(f"/market/breaker/31337/{m['collection']}").json()
    halt = [d for d in view["decisions"] if d["action"] == "halt"]
    assert len(halt) == 1 and "moved the price 100.0%" in halt[0]["reason"]
    refused = client.post(f"/market/orders/{hashes[2]}/fill-tx", json={"amount": 1}, headers=collector)
    assert refused.status_code == 422 and refused.json()["error"] == "CollectionHalted"
    assert "halted by the price circuit breaker" in refused.json()["detail"]
    assert "fast) until 20" in refused.json()["detail"]  # the breaker's end, as an ISO 8601 date

    until = datetime.fromisoformat(view["halted_until"])
    time.sleep(max(0.0, until.timestamp() - time.time()) + 0.3)
    resumed = client.post(f"/market/orders/{hashes[2]}/fill-tx", json={"amount": 1}, headers=collector)
    assert resumed.status_code == 200, resumed.text  # the fill route lifted the halt, no new order needed
    assert marketplace.functions.collectionPolicy(m["collection"]).call()[0] is False
    assert send(web3, COLLECTOR, resumed.json())["status"] == 1
    actions = [d["action"] for d in client.get(f"/market/breaker/31337/{m['collection']}").json()["decisions"]]
    assert "resume" in actions


def test_a_gated_collection_refuses_an_unverified_buyers_direct_fill_and_the_band_holds_on_chain(market):
    m, client, web3 = market, market["client"], market["web3"]
    from chain.tx import TxSender

    marketplace = _marketplace(m)
    registry = DeploymentRegistry(m["deployed"].deployments_file).address(31337, "IdentityRegistry")
    if marketplace.functions.identityRegistry().call() != registry:  # this tree's deploy does not wire it
        from eth_account import Account

        admin = TxSender(web3, Account.from_key(m["deployed"].deployer_key.get_secret_value()))
        admin.transact(admin.call_tx(marketplace.functions.setIdentityRegistry(registry)))
    out = client.post("/collections/tx", json={"chain_id": 31337, "name": "Gated", "symbol": "GATE",
                                               "royalty_receiver": m["splitter"], "royalty_bps": 1000,
                                               "require_verified_holders": True}, headers=m["creator"]).json()
    send(web3, CREATOR, out["transaction"])
    gated = out["predicted_address"]
    cid = client.post("/assets", files={"file": ("g.png", f"gated {time.time_ns()}".encode(), "image/png")},
                      headers=m["creator"]).json()["cid"]
    send(web3, CREATOR, client.post(f"/assets/{cid}/mint-tx", json={
        "chain_id": 31337, "collection": gated, "quantity": 2}, headers=m["creator"]).json())
    nft = web3.eth.contract(address=gated, abi=m["artifacts"].get("CreatorCollection").abi)
    owner = TxSender(web3, CREATOR)
    owner.transact(owner.call_tx(nft.functions.setApprovalForAll(marketplace.address, True)))
    r = client.put(f"/market/breaker/31337/{gated}", headers=login(client, OFFICER),
                   json={"identity_required": True, "operator_reference": PRICE, "band_bps": 1000})
    assert r.status_code == 200 and r.json()["policy"]["identity_required"] is True, r.text
    assert marketplace.functions.collectionPolicy(gated).call() == [False, True]
    assert marketplace.functions.priceBand(gated, "0x" + "00" * 20).call() == [PRICE * 9 // 10, PRICE * 11 // 10]

    order, signed, body = _signed(m, 1, PRICE, collection=gated)
    assert client.post("/market/orders", json=body, headers=m["creator"]).status_code == 201
    args = (order.as_tuple(), signed.signature, 1)
    # The unverified stranger skips the API and calls the marketplace itself: the chain refuses.
    why = _revert_name(m, lambda: marketplace.functions.fillListing(*args).call(
        {"from": STRANGER.address, "value": PRICE}))
    assert "IdentityNotVerified" in why and STRANGER.address.lower() in why.lower(), why
    # Outside the band, even a verified buyer's direct fill reverts on chain.
    high, high_signed, _ = _signed(m, 2, 2 * PRICE, collection=gated)
    verified_login(client, COLLECTOR)
    why = _revert_name(m, lambda: marketplace.functions.fillListing(high.as_tuple(), high_signed.signature, 1)
                       .call({"from": COLLECTOR.address, "value": 2 * PRICE}))
    assert "PriceOutsideBand" in why, why
    # The verified buyer at the band's price goes through: the gate is what refused the stranger.
    buyer = TxSender(web3, COLLECTOR)
    receipt = buyer.transact(buyer.call_tx(marketplace.functions.fillListing(*args), value=PRICE))
    assert receipt["status"] == 1 and nft.functions.ownerOf(1).call() == COLLECTOR.address


def test_the_book_follows_the_chain_filled_cancelled_and_stale(market):
    m, client, web3 = market, market["client"], market["web3"]
    from chain.tx import TxSender

    made = {t: _signed(m, t, PRICE) for t in (1, 2, 3)}
    hashes = {t: client.post("/market/orders", json=body, headers=m["creator"]).json()["order_hash"]
              for t, (_, _, body) in made.items()}
    collector = verified_login(client, COLLECTOR)
    send(web3, COLLECTOR, client.post(f"/market/orders/{hashes[1]}/fill-tx", json={"amount": 1},
                                      headers=collector).json())
    marketplace = _marketplace(m)
    creator = TxSender(web3, CREATOR)
    creator.transact(creator.call_tx(marketplace.functions.cancel([made[2][0].as_tuple()])))  # on chain only
    creator.transact(creator.call_tx(m["nft"].functions.transferFrom(CREATOR.address, STRANGER.address, 3)))
    _index(m)

    def listed(status: str) -> list[str]:
        return [o["order_hash"] for o in client.get("/market/orders", params={
            "token": m["collection"], "status": status}).json()]

    assert listed("open") == []
    assert (listed("filled"), listed("cancelled"), listed("stale")) == ([hashes[1]], [hashes[2]], [hashes[3]])
    r = client.post(f"/market/orders/{hashes[3]}/fill-tx", json={"amount": 1}, headers=collector)
    assert r.status_code == 409 and "stale" in r.json()["detail"] and "no longer holds" in r.json()["detail"]
    r = client.post("/market/fill-tx/batch", json={"items": [{"order_hash": hashes[3]}]}, headers=collector)
    assert r.status_code == 409 and "stale" in r.json()["detail"]

    fresh = client.post("/market/orders", json=_signed(m, 2, PRICE)[2], headers=m["creator"]).json()["order_hash"]
    assert listed("open") == [fresh]
    creator.transact(creator.call_tx(marketplace.functions.incrementCounter()))  # voids every older order
    _index(m)
    assert listed("open") == [] and fresh in listed("cancelled")


def test_a_stale_order_is_served_without_its_signature_and_its_token_coming_back_revives_nothing(market):
    """The attack: a listing went stale when its token left the seller, yet ?status=stale served
    its signature; when the token came back anyone filled it at the old price. Now the signature
    of an order that is not open is never served, and the chain refuses the fill anyway (the
    listing is bound to the token's holding epoch)."""
    m, client, web3 = market, market["client"], market["web3"]
    from chain.tx import TxSender

    order, signed, body = _signed(m, 3, PRICE)
    order_hash = client.post("/market/orders", json=body, headers=m["creator"]).json()["order_hash"]
    served = client.get("/market/orders", params={"token": m["collection"], "status": "open"}).json()
    assert [o["signature"] for o in served] == [body["signature"]]  # open: served, so it can be bought
    creator, stranger = TxSender(web3, CREATOR), TxSender(web3, STRANGER)
    creator.transact(creator.call_tx(m["nft"].functions.transferFrom(CREATOR.address, STRANGER.address, 3)))
    _index(m)
    for status in ("stale", None):
        params = {"token": m["collection"], **({"status": status} if status else {})}
        rows = [o for o in client.get("/market/orders", params=params).json() if o["order_hash"] == order_hash]
        assert all(o["signature"] is None for o in rows), rows
    stale = client.get("/market/orders", params={"token": m["collection"], "status": "stale"}).json()
    assert [(o["order_hash"], o["signature"]) for o in stale] == [(order_hash, None)]
    stranger.transact(stranger.call_tx(m["nft"].functions.transferFrom(STRANGER.address, CREATOR.address, 3)))
    why = _revert_name(m, lambda: _marketplace(m).functions.fillListing(order.as_tuple(), signed.signature, 1)
                       .call({"from": COLLECTOR.address, "value": PRICE}))
    assert "ListingHoldingEpochStale" in why, why
    r = client.post("/market/orders", json=body, headers=m["creator"])  # re-posting the old one: refused
    assert r.status_code in (409, 422)


def test_cancel_stops_serving_at_once_and_hands_over_the_transaction_that_kills_the_order(market):
    m, client, web3 = market, market["client"], market["web3"]
    from chain.tx import TxSender

    order, signed, body = _signed(m, 1, PRICE)
    order_hash = client.post("/market/orders", json=body, headers=m["creator"]).json()["order_hash"]
    r = client.post(f"/market/orders/{order_hash}/cancel", headers=m["creator"])
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "cancelled" and out["needs_transaction"] is True
    assert out["tx"]["to"] == m["domain"].verifying_contract and out["tx"]["from"] == CREATOR.address
    cancelled = client.get("/market/orders", params={"token": m["collection"], "status": "cancelled"}).json()
    assert [(o["order_hash"], o["signature"]) for o in cancelled] == [(order_hash, None)]
    assert client.get("/market/orders", params={"token": m["collection"]}).json() == []
    # Until the transaction is sent, a kept signature still fills: that is why it is handed over.
    marketplace = _marketplace(m)
    fill = marketplace.functions.fillListing(order.as_tuple(), signed.signature, 1)
    assert fill.estimate_gas({"from": COLLECTOR.address, "value": PRICE}) > 0
    send(web3, CREATOR, out["tx"])
    why = _revert_name(m, lambda: fill.call({"from": COLLECTOR.address, "value": PRICE}))
    assert "OrderIsCancelled" in why, why

    # An order the chain already refuses needs no transaction: its token left the seller.
    _, _, body2 = _signed(m, 2, PRICE)
    hash2 = client.post("/market/orders", json=body2, headers=m["creator"]).json()["order_hash"]
    creator = TxSender(web3, CREATOR)
    creator.transact(creator.call_tx(m["nft"].functions.transferFrom(CREATOR.address, STRANGER.address, 2)))
    out2 = client.post(f"/market/orders/{hash2}/cancel", headers=m["creator"]).json()
    assert out2["needs_transaction"] is False and out2["tx"] is None and "holding epoch" in out2["detail"]

    # A filled order cannot be cancelled.
    _, _, body3 = _signed(m, 3, PRICE)
    hash3 = client.post("/market/orders", json=body3, headers=m["creator"]).json()["order_hash"]
    collector = verified_login(client, COLLECTOR)
    send(web3, COLLECTOR, client.post(f"/market/orders/{hash3}/fill-tx", json={"amount": 1},
                                      headers=collector).json())
    _index(m)
    r = client.post(f"/market/orders/{hash3}/cancel", headers=m["creator"])
    assert r.status_code == 409 and "filled" in r.json()["detail"]


def test_a_seller_cannot_buy_their_own_listing_through_the_api(market):
    m, client = market, market["client"]
    order_hash = client.post("/market/orders", json=_listing(m, 1, PRICE), headers=m["creator"]).json()["order_hash"]
    r = client.post(f"/market/orders/{order_hash}/fill-tx", json={"amount": 1}, headers=m["creator"])
    assert r.status_code == 422 and "your own listing" in r.json()["detail"]
    r = client.post("/market/fill-tx/batch", json={"items": [{"order_hash": order_hash}]}, headers=m["creator"])
    assert r.status_code == 422 and "your own listing" in r.json()["detail"]


def test_jurisdiction_applies_to_offers_and_gifts_wait_for_the_holding_period(market):
    from datetime import datetime

    from chain.orders import offer

    m, client, web3 = market, market["client"], market["web3"]
    r = client.put(f"/market/breaker/31337/{m['collection']}", headers=login(client, OFFICER),
                   json={"secondary_sales": False, "gift_holding_s": 15})  # room for a loaded machine
    assert r.status_code == 200, r.text
    sale = client.post("/market/orders", json=_signed(m, 1, PRICE)[2], headers=m["creator"]).json()["order_hash"]
    collector = verified_login(client, COLLECTOR)
    send(web3, COLLECTOR, client.post(f"/market/orders/{sale}/fill-tx", json={"amount": 1}, headers=collector).json())
    _index(m)

    bidder = dev_account(8)
    bidder_headers = verified_login(client, bidder)
    from chain.tx import TxSender

    coin_art = m["artifacts"].get("MktTestERC20")  # the offers are funded: an unfunded one is refused first
    payer = TxSender(web3, bidder)
    coin, _ = payer.deploy(coin_art.abi, coin_art.bytecode)
    token = web3.eth.contract(address=coin, abi=coin_art.abi)
    payer.transact(payer.call_tx(token.functions.mint(bidder.address, 10 * PRICE)))
    payer.transact(payer.call_tx(token.functions.approve(m["domain"].verifying_contract, 10 * PRICE)))

    def bid(token_id: int):
        now = int(time.time())
        order = offer(buyer=bidder.address, token=m["collection"], token_id=token_id, unit_price=PRICE,
                      currency=coin, start=now - 60, expiry=now + 3600, counter=0)
        signed = sign_order(order, m["domain"], bidder)
        return client.post("/market/orders", headers=bidder_headers, json={
            "chain_id": 31337, "side": "offer", "signer": bidder.address, "token": m["collection"],
            "token_id": token_id, "unit_price": PRICE, "currency": coin, "start": order.start,
            "expiry": order.expiry, "salt": order.salt, "counter": 0, "signature": "0x" + signed.signature.hex()})

    secondary = bid(1)  # the collector holds token 1: accepting would be a secondary sale
    assert secondary.status_code == 422 and "forbids secondary sales" in secondary.json()["detail"]
    assert bid(2).status_code == 201  # the creator still holds token 2: a primary sale

    gift = {"chain_id": 31337, "token": m["collection"], "token_id": 1, "to": STRANGER.address}
    early = client.post("/market/gift-tx", json=gift, headers=collector)
    assert early.status_code == 422 and "only after 15 s of holding" in early.json()["detail"], early.text
    wait = datetime.fromisoformat(early.json()["gift_allowed_from"]).timestamp() - time.time()
    time.sleep(max(0.0, wait) + 1.1)
    web3.provider.make_request("evm_mine", [])  # the collection checks the period too, at the chain's time
    later = client.post("/market/gift-tx", json=gift, headers=collector)
    assert later.status_code == 200, later.text
    assert send(web3, COLLECTOR, later.json())["status"] == 1
    assert m["nft"].functions.ownerOf(1).call() == STRANGER.address
    not_mine = client.post("/market/gift-tx", json=gift, headers=collector)
    assert not_mine.status_code == 422 and "does not hold token 1" in not_mine.json()["detail"]


def test_the_holder_accepts_an_offer_and_the_royalty_reaches_the_splitter_in_the_offers_coin(market):
    from chain.orders import offer
    from chain.tx import TxSender

    m, client, web3 = market, market["client"], market["web3"]
    marketplace = m["domain"].verifying_contract
    bidder = dev_account(8)
    coin_art = m["artifacts"].get("MktTestERC20")
    coin_address, _ = TxSender(web3, bidder).deploy(coin_art.abi, coin_art.bytecode)
    coin = web3.eth.contract(address=coin_address, abi=coin_art.abi)
    payer = TxSender(web3, bidder)
    payer.transact(payer.call_tx(coin.functions.mint(bidder.address, 10 * PRICE)))
    payer.transact(payer.call_tx(coin.functions.approve(marketplace, 10 * PRICE)))

    now = int(time.time())
    order = offer(buyer=bidder.address, token=m["collection"], token_id=2, unit_price=PRICE, currency=coin_address,
                  start=now - 60, expiry=now + 3600, counter=_marketplace(m).functions.counterOf(bidder.address).call())
    signed = sign_order(order, m["domain"], bidder)
    bidder_headers = verified_login(client, bidder)
    posted = client.post("/market/orders", headers=bidder_headers, json={
        "chain_id": 31337, "side": "offer", "signer": bidder.address, "token": m["collection"], "token_id": 2,
        "unit_price": PRICE, "currency": coin_address, "start": order.start, "expiry": order.expiry,
        "salt": order.salt, "counter": order.counter, "signature": "0x" + signed.signature.hex()})
    assert posted.status_code == 201, posted.text
    offer_hash = posted.json()["order_hash"]

    own = client.post(f"/market/orders/{offer_hash}/fill-tx", json={"amount": 1}, headers=bidder_headers)
    assert own.status_code == 422 and "your own offer" in own.json()["detail"]
    outsider = client.post(f"/market/orders/{offer_hash}/fill-tx", json={"amount": 1},
                           headers=verified_login(client, COLLECTOR))
    assert outsider.status_code == 422 and "you can only accept offers on what you hold" in outsider.json()["detail"]

    before = {a: coin.functions.balanceOf(a).call() for a in (CREATOR.address, m["splitter"])}
    tx = client.post(f"/market/orders/{offer_hash}/fill-tx", json={"amount": 1}, headers=m["creator"])
    assert tx.status_code == 200, tx.text
    assert int(tx.json()["value"], 16) == 0 and tx.json()["from"] == CREATOR.address
    assert send(web3, CREATOR, tx.json())["status"] == 1
    assert m["nft"].functions.ownerOf(2).call() == bidder.address
    royalty, fee = PRICE // 10, PRICE * 250 // 10_000  # the collection's 10% royalty, the market's 2.5% fee
    assert coin.functions.balanceOf(m["splitter"]).call() - before[m["splitter"]] == royalty
    assert coin.functions.balanceOf(CREATOR.address).call() - before[CREATOR.address] == PRICE - royalty - fee
    _index(m)
    again = client.post(f"/market/orders/{offer_hash}/fill-tx", json={"amount": 1}, headers=m["creator"])
    assert again.status_code == 409 and "filled" in again.json()["detail"]
