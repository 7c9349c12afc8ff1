"""Contract actions that had no route (issue #18), driven through the HTTP API against real anvils,
each transaction signed and sent by the party's wallet, and the same actions through the console:

- Licensing after the sale: the work's licensor revokes a grant (revocable terms only), its holder
  transfers it (transferable terms only, while active), a receiver whose fee push failed withdraws
  its credit; every other party, and every value the contract would refuse, is refused in words.
- Marketplace: a maker's cancel-all (the book stops serving every order of theirs at once, and the
  counter bump voids them on chain) and the withdrawal of ERC-20 credits.
- Milestone escrow paid in an ERC-20 (the chain's wrapped ETH): approval first, then created and
  released in it; a payout that failed is credited and withdrawn by its payee alone.
- Royalty splits with any recipients and shares (100% in all, no zero address, no duplicate).
- Deploy-time settings for the admin role, sent by the platform key and audited: the marketplace's
  platform fee and treasury, the bridge's rate limits (only the limits given change).
- The gap closed: an offer its buyer could not pay now is refused by POST /market/orders (and its
  batch) exactly as POST /offers refuses it (no balance, no allowance, a currency that is no ERC-20).
"""

from __future__ import annotations

import json
import logging
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from eth_utils import keccak
from fastapi.testclient import TestClient
from web3.exceptions import ContractCustomError, ContractLogicError

from api import create_app
from api.settings import ApiSettings
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.orders import MarketDomain, listing, offer, sign_order
from chain.settings import ChainSettings
from did.settings import DidSettings
from tests.support.api_flow import OFFICER, login, ok, refused, send, verified_login

pytestmark = pytest.mark.integration

CREATOR, COLLECTOR, BUYER, STRANGER = (dev_account(i) for i in (1, 2, 8, 9))
RECEIVER = dev_account(10)  # the collection's royalty receiver: license fees go there
ADMIN, ARBITER = dev_account(15), dev_account(4)
ETH = 10**18
ZERO = "0x" + "00" * 20
REVERTING_CODE = "0x60006000fd"  # PUSH1 0 PUSH1 0 REVERT: an account that refuses every payment


@pytest.fixture(scope="module")
def deployed(two_chains: ChainSettings, artifacts: Any) -> ChainSettings:
    deploy_to_chains(two_chains, two_chains.specs("all"))
    return two_chains


def _settings(tmp_path: Any, host: str = "testserver", port: int | None = None) -> ApiSettings:
    grants = {f"did:pkh:eip155:31337:{OFFICER.address}": ["kyc_officer", "risk"],
              f"did:pkh:eip155:31337:{ADMIN.address}": ["admin"]}
    extra: dict[str, Any] = {"port": port} if port else {}
    return ApiSettings(environment="test", data_dir=tmp_path, siwe_domain=host, siwe_uri=f"http://{host}",
                       role_grants=grants, **extra)


@pytest.fixture
def world(deployed: ChainSettings, database: Any, tmp_path: Any, artifacts: Any) -> dict[str, Any]:
    """The API, verified creator/collector/buyer sessions, and a fresh collection of four tokens held
    by the creator whose royalty (and so every license fee) goes to RECEIVER."""
    app = create_app(_settings(tmp_path), db=database, chain_settings=deployed,
                     did_settings=DidSettings(environment="test"))
    client = TestClient(app, raise_server_exceptions=False)
    web3 = connect(deployed.spec("home"))
    creator = verified_login(client, CREATOR)
    work = f"a work to reach {tmp_path.name}".encode()
    cid = client.post("/assets", files={"file": ("w.png", work, "image/png")}, headers=creator).json()["cid"]
    out = ok(client.post("/collections/tx", json={"chain_id": 31337, "name": "Reach", "symbol": "RCH",
                                                  "royalty_receiver": RECEIVER.address, "royalty_bps": 1000},
                         headers=creator))
    send(web3, CREATOR, out["transaction"])
    collection = out["predicted_address"]
    assert send(web3, CREATOR, ok(client.post(f"/assets/{cid}/mint-tx", json={
        "chain_id": 31337, "collection": collection, "quantity": 4}, headers=creator)))["status"] == 1
    web3.provider.make_request("anvil_setBalance", [RECEIVER.address, hex(10 * ETH)])  # gas for its withdrawals
    registry = DeploymentRegistry(deployed.deployments_file)
    market = registry.address(31337, "Marketplace")
    return {"client": client, "web3": web3, "creator": creator, "collector": verified_login(client, COLLECTOR),
            "buyer": verified_login(client, BUYER), "collection": collection, "cid": cid, "market": market,
            "weth": registry.address(31337, "WrappedEther"), "artifacts": artifacts, "deployed": deployed,
            "nft": web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi),
            "marketplace": web3.eth.contract(address=market, abi=artifacts.get("Marketplace").abi)}


def set_code(web3: Any, account: str, code: str) -> None:
    web3.provider.make_request("anvil_setCode", [account, code])


# -- licenses after the sale ----------------------------------------------------------------------------


def _offer_terms(w: dict[str, Any], token_id: int, template: str, fee: int) -> str:
    client, web3 = w["client"], w["web3"]
    out = ok(client.post("/licenses/tx", json={"chain_id": 31337, "collection": w["collection"],
                                               "token_ids": [token_id], "template": template, "fee_wei": fee},
                         headers=w["creator"]))
    for tx in [out["publish"], *out["attach"]]:
        if tx:
            send(web3, CREATOR, tx)
    return str(out["terms_hash"])


def _buy(w: dict[str, Any], token_id: int, terms_hash: str) -> int:
    client = w["client"]
    bought = ok(client.post("/licenses/buy-tx", json={"chain_id": 31337, "collection": w["collection"],
                                                      "token_id": token_id, "terms_hash": terms_hash},
                            headers=w["collector"]))
    receipt = send(w["web3"], COLLECTOR, bought["transaction"])
    licensing = w["web3"].eth.contract(address=bought["transaction"]["to"],
                                       abi=w["artifacts"].get("Licensing").abi)
    (granted,) = licensing.events.LicenseGranted().process_receipt(receipt)
    return int(granted["args"]["grantId"])


def test_the_licensor_revokes_the_holder_transfers_and_every_other_party_is_refused(world):
    w, client, web3 = world, world["client"], world["web3"]
    personal = _offer_terms(w, 1, "personal", 1000)  # revocable, not transferable
    commercial = _offer_terms(w, 1, "commercial", 2000)  # transferable, irrevocable
    revocable, transferable = _buy(w, 1, personal), _buy(w, 1, commercial)
    shown = ok(client.get(f"/licenses/grants/31337/{revocable}"))
    assert shown["licensee"] == COLLECTOR.address and shown["active"] and shown["terms_hash"] == personal
    refused(client.get("/licenses/grants/31337/999999"), 404, "no license grant")

    # Revoke: only the work's licensor (its owner now), only revocable terms, only once.
    base = "/licenses/grants/31337"
    refused(client.post(f"{base}/{revocable}/revoke-tx", headers=w["collector"]), 403, "only the work's licensor")
    refused(client.post(f"{base}/{revocable}/revoke-tx", headers=login(client, STRANGER)), 403, CREATOR.address)
    irrevocable = refused(client.post(f"{base}/{transferable}/revoke-tx", headers=w["creator"]), 422, "irrevocable")
    assert irrevocable["error"] == "LicenseNotRevocable"
    out = ok(client.post(f"{base}/{revocable}/revoke-tx", headers=w["creator"]))
    assert out["grant"]["active"] and out["transaction"]["gas"] > 0
    assert send(web3, CREATOR, out["transaction"])["status"] == 1
    after = ok(client.get(f"{base}/{revocable}"))
    assert after["revoked"] and not after["active"]
    refused(client.post(f"{base}/{revocable}/revoke-tx", headers=w["creator"]), 422, "already revoked")

    # Transfer: only its holder, only transferable terms, to another real wallet.
    refused(client.post(f"{base}/{revocable}/transfer-tx", json={"to": BUYER.address}, headers=w["collector"]),
            422, "personal terms")
    refused(client.post(f"{base}/{transferable}/transfer-tx", json={"to": BUYER.address}, headers=w["creator"]),
            403, "only the holder")
    for bad in (ZERO, COLLECTOR.address):
        invalid = refused(client.post(f"{base}/{transferable}/transfer-tx", json={"to": bad},
                                      headers=w["collector"]), 422, "another wallet")
        assert invalid["error"] == "LicenseRecipientInvalid"
    refused(client.post(f"{base}/{transferable}/transfer-tx", json={"to": "0x12"}, headers=w["collector"]), 422)
    refused(client.post(f"{base}/{transferable}/transfer-tx", json={"to": BUYER.address},
                        headers=login(client, STRANGER)), 403, "KYC")
    send(web3, COLLECTOR, ok(client.post(f"{base}/{transferable}/transfer-tx", json={"to": BUYER.address},
                                         headers=w["collector"]))["transaction"])
    assert ok(client.get(f"{base}/{transferable}"))["licensee"] == BUYER.address
    held = ok(client.get("/licenses", params={"chain_id": 31337, "licensee": BUYER.address}))
    assert transferable in [g["grant_id"] for g in held]
    refused(client.post(f"{base}/{transferable}/transfer-tx", json={"to": STRANGER.address},
                        headers=w["collector"]), 403, "only the holder")


def test_a_fee_the_receiver_could_not_take_is_credited_and_only_it_withdraws_it(world):
    w, client, web3 = world, world["client"], world["web3"]
    terms = _offer_terms(w, 2, "personal", 1234)
    set_code(web3, RECEIVER.address, REVERTING_CODE)  # the fee push fails: the fee is credited
    try:
        _buy(w, 2, terms)
    finally:
        set_code(web3, RECEIVER.address, "0x")
    credit = ok(client.get(f"/licenses/credit/31337/{RECEIVER.address}"))
    assert credit["credit"]["wei"] == "1234" and "wei" in credit["credit"]["text"]

    nothing = refused(client.post("/licenses/withdraw-credit-tx", json={"chain_id": 31337},
                                  headers=login(client, STRANGER)), 422, "nothing to withdraw")
    assert nothing["error"] == "LicenseNoCredit"
    receiver = login(client, RECEIVER)  # no KYC needed to take back what is yours
    refused(client.post("/licenses/withdraw-credit-tx", json={"chain_id": 31337, "to": ZERO}, headers=receiver),
            422, "zero address")
    before = web3.eth.get_balance(STRANGER.address)
    tx = ok(client.post("/licenses/withdraw-credit-tx", json={"chain_id": 31337, "to": STRANGER.address},
                        headers=receiver))
    assert send(web3, RECEIVER, tx)["status"] == 1
    assert web3.eth.get_balance(STRANGER.address) - before == 1234
    assert ok(client.get(f"/licenses/credit/31337/{RECEIVER.address}"))["credit"]["wei"] == "0"


# -- the marketplace: cancel-all, ERC-20 credits ---------------------------------------------------------


def _listing(w: dict[str, Any], token_id: int, seller: Any = CREATOR, price: int = ETH) -> dict[str, Any]:
    now = int(time.time())
    counter = w["marketplace"].functions.counterOf(seller.address).call()
    epoch = w["nft"].functions.holdingEpoch(seller.address, token_id).call()
    order = listing(seller=seller.address, token=w["collection"], token_id=token_id, unit_price=price,
                    start=now - 60, expiry=now + 3600, counter=counter, holding_epoch=epoch)
    signed = sign_order(order, MarketDomain(31337, w["market"]), seller)
    return {"chain_id": 31337, "side": "listing", "signer": order.signer, "token": order.token,
            "token_id": token_id, "unit_price": price, "start": order.start, "expiry": order.expiry,
            "salt": order.salt, "counter": counter, "holding_epoch": epoch,
            "signature": "0x" + signed.signature.hex()}


def _offer(w: dict[str, Any], token_id: int, buyer: Any, price: int, currency: str | None = None) -> dict[str, Any]:
    now = int(time.time())
    counter = w["marketplace"].functions.counterOf(buyer.address).call()
    order = offer(buyer=buyer.address, token=w["collection"], token_id=token_id, unit_price=price,
                  currency=currency or w["weth"], start=now - 60, expiry=now + 3600, counter=counter)
    signed = sign_order(order, MarketDomain(31337, w["market"]), buyer)
    return {"chain_id": 31337, "side": "offer", "signer": order.signer, "token": order.token,
            "token_id": token_id, "unit_price": price, "currency": order.currency, "start": order.start,
            "expiry": order.expiry, "salt": order.salt, "counter": counter,
            "signature": "0x" + signed.signature.hex()}


def _fund(w: dict[str, Any], account: Any, total: int) -> None:
    """Wrap and approve what ``account`` needs for an offer of ``total``."""
    weth = w["web3"].eth.contract(address=w["weth"], abi=w["artifacts"].get("WrappedEther").abi)
    held = weth.functions.balanceOf(account.address).call()
    if held < total:
        send(w["web3"], account, {"chain_id": 31337, "to": w["weth"], "value": hex(total - held),
                                  "data": weth.encode_abi("deposit", args=[])})
    send(w["web3"], account, {"chain_id": 31337, "to": w["weth"],
                              "data": weth.encode_abi("approve", args=[w["market"], total])})


def _open(w: dict[str, Any]) -> list[str]:
    return [o["order_hash"] for o in ok(w["client"].get("/market/orders", params={
        "chain_id": 31337, "token": w["collection"], "status": "open"}))]


def test_cancel_all_stops_serving_every_order_of_the_maker_and_voids_them_on_chain(world):
    w, client, web3 = world, world["client"], world["web3"]
    first, second = _listing(w, 3), _listing(w, 4, price=2 * ETH)
    hashes = [ok(client.post("/market/orders", json=body, headers=w["creator"]), 201)["order_hash"]
              for body in (first, second)]
    _fund(w, COLLECTOR, ETH // 10)
    kept = ok(client.post("/market/orders", json=_offer(w, 1, COLLECTOR, ETH // 10), headers=w["collector"]),
              201)["order_hash"]
    assert set(_open(w)) == {*hashes, kept}

    refused(client.post("/market/cancel-all-tx", json={"chain_id": 31337}), 401)
    refused(client.post("/market/cancel-all-tx", json={"chain_id": 999}, headers=w["creator"]), 404)
    counter = w["marketplace"].functions.counterOf(CREATOR.address).call()
    out = ok(client.post("/market/cancel-all-tx", json={"chain_id": 31337}, headers=w["creator"]))
    assert sorted(out["withdrawn"]) == sorted(hashes) and out["new_counter"] == counter + 1
    assert _open(w) == [kept]  # at once, before the transaction is even sent: no signature is served
    served = ok(client.get("/market/orders", params={"chain_id": 31337, "token": w["collection"],
                                                     "status": "cancelled"}))
    assert {o["order_hash"] for o in served} == set(hashes) and all(o["signature"] is None for o in served)
    refused(client.post(f"/market/orders/{hashes[0]}/fill-tx", json={"amount": 1}, headers=w["buyer"]), 409)

    assert send(web3, CREATOR, out["transaction"])["status"] == 1
    assert w["marketplace"].functions.counterOf(CREATOR.address).call() == counter + 1
    # On chain too: whoever kept a signature cannot fill it any more.
    from chain.orders import Order, OrderSide, TokenStandard

    order = Order(OrderSide.LISTING, first["signer"], first["token"], 3, TokenStandard.ERC721, 1, ETH,
                  "0x" + "00" * 20, first["start"], first["expiry"], first["salt"], first["counter"],
                  first["holding_epoch"])
    fill = w["marketplace"].functions.fillListing(order.as_tuple(), bytes.fromhex(first["signature"][2:]), 1)
    with pytest.raises((ContractCustomError, ContractLogicError)) as reverted:
        fill.call({"from": BUYER.address, "value": ETH})
    assert "0x" + keccak(text="OrderCounterStale(bytes32,uint256,uint256)")[:4].hex() in str(reverted.value.data)
    refused(client.post("/market/orders", json=first, headers=w["creator"]), 422, "incrementCounter")
    resigned = _listing(w, 3)
    ok(client.post("/market/orders", json=resigned, headers=w["creator"]), 201)  # new orders at the new counter


def _credit_erc20(w: dict[str, Any], payee: str, amount: int) -> None:
    """Give ``payee`` an ERC-20 credit of wrapped ETH at the marketplace, as a payout the token refused
    leaves (the marketplace holds the tokens; its credits mapping says whose they are)."""
    web3, market = w["web3"], w["marketplace"]
    _fund(w, STRANGER, amount)
    weth = web3.eth.contract(address=w["weth"], abi=w["artifacts"].get("WrappedEther").abi)
    send(web3, STRANGER, {"chain_id": 31337, "to": w["weth"],
                          "data": weth.encode_abi("transfer", args=[w["market"], amount])})
    value = "0x" + amount.to_bytes(32, "big").hex()
    for slot in range(200):  # find the nested mapping's slot: credits[currency][payee]
        inner = keccak(bytes.fromhex(w["weth"][2:].rjust(64, "0")) + slot.to_bytes(32, "big"))
        key = "0x" + keccak(bytes.fromhex(payee[2:].rjust(64, "0")) + inner).hex()
        before = web3.eth.get_storage_at(market.address, key)
        web3.provider.make_request("anvil_setStorageAt", [market.address, key, value])
        if market.functions.pendingErc20(w["weth"], payee).call() == amount:
            return
        web3.provider.make_request("anvil_setStorageAt", [market.address, key, "0x" + bytes(before).hex()])
    raise AssertionError("the marketplace's ERC-20 credits slot was not found")


def test_erc20_credits_are_read_and_withdrawn_by_their_payee_only(world):
    w, client, web3 = world, world["client"], world["web3"]
    payee = login(client, RECEIVER)
    empty = ok(client.get(f"/market/credits/31337/{RECEIVER.address}"))
    assert empty["currency"] == w["weth"] and empty["erc20"]["wei"] == "0" and "eth" in empty
    nothing = refused(client.post("/market/withdraw-erc20-tx", json={"chain_id": 31337}, headers=payee), 422,
                      "nothing to withdraw")
    assert nothing["error"] == "WithdrawalNothingOwed"
    _credit_erc20(w, RECEIVER.address, 5555)
    assert ok(client.get(f"/market/credits/31337/{RECEIVER.address}"))["erc20"]["wei"] == "5555"
    refused(client.post("/market/withdraw-erc20-tx", json={"chain_id": 31337}, headers=login(client, STRANGER)),
            422, "nothing to withdraw")  # a credit is its payee's alone
    refused(client.post("/market/withdraw-erc20-tx", json={"chain_id": 31337, "to": ZERO}, headers=payee), 422,
            "zero address")
    refused(client.post("/market/withdraw-erc20-tx", json={"chain_id": 31337}), 401)
    weth = web3.eth.contract(address=w["weth"], abi=w["artifacts"].get("WrappedEther").abi)
    before = weth.functions.balanceOf(RECEIVER.address).call()
    tx = ok(client.post("/market/withdraw-erc20-tx", json={"chain_id": 31337}, headers=payee))
    assert tx["gas"] > 0 and send(web3, RECEIVER, tx)["status"] == 1
    assert weth.functions.balanceOf(RECEIVER.address).call() - before == 5555
    assert ok(client.get(f"/market/credits/31337/{RECEIVER.address}"))["erc20"]["wei"] == "0"


# -- the gap closed: unfunded offers through POST /market/orders -----------------------------------------


def test_an_offer_its_buyer_cannot_pay_is_refused_on_every_route_that_takes_offers(world):
    w, client, web3 = world, world["client"], world["web3"]
    weth = web3.eth.contract(address=w["weth"], abi=w["artifacts"].get("WrappedEther").abi)
    price = weth.functions.balanceOf(BUYER.address).call() + 3 * ETH + 7  # more than BUYER holds now

    def refusals(body: dict[str, Any], *words: str) -> None:
        single = refused(client.post("/market/orders", json=body, headers=w["buyer"]), 422, "offer refused", *words)
        assert single["error"] == "OfferUnfunded"
        batch = ok(client.post("/market/orders/batch", json={"orders": [body]}, headers=w["buyer"]))
        assert batch["created"] == 0 and batch["results"][0]["error"]["error"] == "OfferUnfunded"
        offers = {**{k: v for k, v in body.items() if k != "side"}, "quantity": 1}
        alone = refused(client.post("/offers", json=offers, headers=w["buyer"]), 422, "offer refused", *words)
        assert alone["error"] == "OfferUnfunded"

    refusals(_offer(w, 2, BUYER, price), "holds", "wrap more ETH")  # no balance
    held = weth.functions.balanceOf(BUYER.address).call()
    send(web3, BUYER, {"chain_id": 31337, "to": w["weth"], "value": hex(price - held),
                       "data": weth.encode_abi("deposit", args=[])})
    send(web3, BUYER, {"chain_id": 31337, "to": w["weth"],
                       "data": weth.encode_abi("approve", args=[w["market"], price - 1])})
    refusals(_offer(w, 2, BUYER, price), "allows the marketplace to take only")  # allowance one wei short
    refusals(_offer(w, 2, BUYER, price, currency=STRANGER.address), "cannot be read as an ERC-20")
    assert _open(w) == []
    send(web3, BUYER, {"chain_id": 31337, "to": w["weth"],
                       "data": weth.encode_abi("approve", args=[w["market"], price])})
    made = ok(client.post("/market/orders", json=_offer(w, 2, BUYER, price), headers=w["buyer"]), 201)
    assert _open(w) == [made["order_hash"]]


# -- milestone escrow in an ERC-20, and its pull payments -------------------------------------------------


def _escrow_body(w: dict[str, Any], currency: str, amounts: list[int]) -> dict[str, Any]:
    deadline = datetime.fromtimestamp(int(w["web3"].eth.get_block("latest")["timestamp"]) + 3600, UTC)
    return {"chain_id": 31337, "seller": CREATOR.address, "arbitrator": ARBITER.address, "currency": currency,
            "milestones": [{"amount_wei": a, "deadline": deadline.isoformat()} for a in amounts],
            "review_period_s": 60, "arbitration_period_s": 60}


def test_an_escrow_paid_in_wrapped_eth_from_approval_to_release(world):
    w, client, web3 = world, world["client"], world["web3"]
    weth = web3.eth.contract(address=w["weth"], abi=w["artifacts"].get("WrappedEther").abi)
    escrow = DeploymentRegistry(w["deployed"].deployments_file).address(31337, "MilestoneEscrow")
    held = weth.functions.balanceOf(COLLECTOR.address).call()
    body = _escrow_body(w, "WETH", [held + ETH // 10, ETH // 10])
    short = refused(client.post("/escrows/tx", json=body, headers=w["collector"]), 422, "holds", "wrap ETH first")
    assert short["error"] == "EscrowUnderfunded"
    refused(client.post("/escrows/tx", json={**body, "currency": STRANGER.address}, headers=w["collector"]), 422,
            "not a contract")
    refused(client.post("/escrows/tx", json={**body, "currency": "BTC"}, headers=w["collector"]), 422)

    body = _escrow_body(w, "weth", [ETH // 10, ETH // 5])
    total = 3 * ETH // 10
    send(web3, COLLECTOR, {"chain_id": 31337, "to": w["weth"], "value": hex(total),
                           "data": weth.encode_abi("deposit", args=[])})
    first = ok(client.post("/escrows/tx", json=body, headers=w["collector"]))
    assert first["approval"] is not None and first["transaction"]["gas"] is None
    assert first["currency"] == w["weth"] and int(first["transaction"]["value"], 16) == 0
    send(web3, COLLECTOR, first["approval"])
    created = ok(client.post("/escrows/tx", json=body, headers=w["collector"]))
    assert created["approval"] is None and created["transaction"]["gas"] > 0
    before = weth.functions.balanceOf(escrow).call()
    assert send(web3, COLLECTOR, created["transaction"])["status"] == 1
    assert weth.functions.balanceOf(escrow).call() - before == total
    base = f"/escrows/31337/{created['escrow_id']}"
    shown = ok(client.get(base))
    assert shown["currency"] == w["weth"] and shown["open_amount"]["wei"] == str(total)

    send(web3, CREATOR, ok(client.post(f"{base}/accept-terms-tx", headers=w["creator"])))
    send(web3, CREATOR, ok(client.post(f"{base}/milestones/0/deliver-tx", json={"cid": w["cid"]},
                                       headers=w["creator"])))
    paid = weth.functions.balanceOf(CREATOR.address).call()
    send(web3, COLLECTOR, ok(client.post(f"{base}/milestones/0/accept-tx", headers=w["collector"])))
    assert weth.functions.balanceOf(CREATOR.address).call() - paid == ETH // 10 - ETH // 10 * 250 // 10_000
    assert ok(client.get(base))["open_amount"]["wei"] == str(ETH // 5)


def test_a_payout_the_seller_could_not_take_is_withdrawn_by_the_seller_only(world):
    w, client, web3 = world, world["client"], world["web3"]
    created = ok(client.post("/escrows/tx", json=_escrow_body(w, "ETH", [ETH // 10]), headers=w["collector"]))
    send(web3, COLLECTOR, created["transaction"])
    base = f"/escrows/31337/{created['escrow_id']}"
    send(web3, CREATOR, ok(client.post(f"{base}/accept-terms-tx", headers=w["creator"])))
    send(web3, CREATOR, ok(client.post(f"{base}/milestones/0/deliver-tx", json={"cid": w["cid"]},
                                       headers=w["creator"])))
    accept = ok(client.post(f"{base}/milestones/0/accept-tx", headers=w["collector"]))
    set_code(web3, CREATOR.address, REVERTING_CODE)  # the seller's payout fails: it is credited
    try:
        send(web3, COLLECTOR, accept)
    finally:
        set_code(web3, CREATOR.address, "0x")
    owed = ETH // 10 - ETH // 10 * 250 // 10_000
    credit = ok(client.get(f"/escrows/credit/31337/{CREATOR.address}"))
    assert credit == {"chain_id": 31337, "account": CREATOR.address, "currency": "ETH",
                      "credit": {"wei": str(owed), "eth": "0.0975", "text": "0.0975 ETH (97500000000000000 wei)"}}
    assert ok(client.get(f"/escrows/credit/31337/{CREATOR.address}", params={"currency": "WETH"}))[
        "credit"]["wei"] == "0"
    stranger = login(client, STRANGER)
    nothing = refused(client.post("/escrows/withdraw-tx", json={"chain_id": 31337}, headers=stranger), 422)
    assert nothing["error"] == "WithdrawalNothingOwed"
    in_weth = refused(client.post("/escrows/withdraw-tx", json={"chain_id": 31337, "currency": "WETH"},
                                  headers=w["creator"]), 422)
    assert in_weth["error"] == "WithdrawalNothingOwed"
    before = web3.eth.get_balance(CREATOR.address)
    receipt = send(web3, CREATOR, ok(client.post("/escrows/withdraw-tx", json={"chain_id": 31337},
                                                 headers=w["creator"])))
    gas = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert web3.eth.get_balance(CREATOR.address) - before + gas == owed
    assert ok(client.get(f"/escrows/credit/31337/{CREATOR.address}"))["credit"]["wei"] == "0"


# -- royalty splits with any recipients ------------------------------------------------------------------


def _shares(*pairs: tuple[Any, int]) -> list[dict[str, Any]]:
    return [{"account": account if isinstance(account, str) else account.address, "bps": bps}
            for account, bps in pairs]


def test_a_split_with_any_recipients_and_shares_is_created_and_bad_splits_are_refused_in_words(world):
    w, client, web3 = world, world["client"], world["web3"]
    rights, issuer, channel, fourth = (dev_account(i) for i in (3, 4, 7, 5))
    salt = "0x" + secrets.token_hex(32)
    body = {"chain_id": 31337, "salt": salt,
            "recipients": _shares((issuer, 5000), (rights, 2000), (channel, 1500), (fourth, 1500))}
    out = ok(client.post("/splits/custom-tx", json=body, headers=w["creator"]))
    assert not out["already_exists"] and out["transaction"]["gas"] > 0
    assert send(web3, CREATOR, out["transaction"])["status"] == 1
    shown = ok(client.get(f"/royalties/31337/{out['splitter']}"))
    assert {r["account"]: r["bps"] for r in shown["recipients"]} == {
        issuer.address: 5000, rights.address: 2000, channel.address: 1500, fourth.address: 1500}
    again = ok(client.post("/splits/custom-tx", json=body, headers=w["creator"]))
    assert again["already_exists"] and again["splitter"] == out["splitter"]
    one = ok(client.post("/splits/custom-tx", json={"chain_id": 31337, "recipients": _shares((rights, 10_000))},
                         headers=w["creator"]))
    assert one["splitter"] != out["splitter"]

    def bad(recipients: list[dict[str, Any]], *words: str) -> None:
        refused(client.post("/splits/custom-tx", json={"chain_id": 31337, "recipients": recipients},
                            headers=w["creator"]), 422, *words)

    bad(_shares((issuer, 5000), (rights, 4999)), "add up to 9999 bps", "not 10000")
    bad(_shares((issuer, 5000), (rights, 5001)), "add up to 10001 bps")
    bad(_shares((issuer, 5000), (ZERO, 5000)), "zero address")
    bad(_shares((issuer, 5000), (issuer.address.lower(), 5000)), "more than once")
    bad(_shares((issuer, 10_000), (rights, 0)), "greater than 0")
    bad([], "at least 1")
    bad(_shares(*((dev_account(i).address, 1) for i in range(20, 121))), "at most 100")
    bad(_shares((issuer, 5000), ("0x1234", 5000)))
    refused(client.post("/splits/custom-tx", json=body, headers=login(client, STRANGER)), 403, "KYC")


# -- deploy-time settings: the admin role, sent by the platform key ---------------------------------------


def test_an_admin_sets_fee_treasury_and_bridge_limits_and_nobody_else_can(world, caplog):
    w, client = world, world["client"]
    admin = login(client, ADMIN)
    market = w["marketplace"]
    for headers in ({}, w["creator"], login(client, OFFICER)):
        assert client.get("/ops/admin/settings", headers=headers).status_code in (401, 403)
        assert client.post("/ops/marketplace/fee", json={"fee_bps": 300}, headers=headers).status_code in (401, 403)
        assert client.post("/ops/marketplace/treasury", json={"treasury": STRANGER.address},
                           headers=headers).status_code in (401, 403)
        assert client.patch("/ops/bridge/rate-limits", json={"sender": 1}, headers=headers).status_code in (401, 403)
    before = ok(client.get("/ops/admin/settings", headers=admin))
    home = next(m for m in before["marketplace"] if m["chain_id"] == 31337)
    assert home["platform_fee_bps"] == market.functions.platformFeeBps().call() and home["max_fee_bps"] == 1000
    assert {b["contract"] for b in before["bridge"]} == {"HomeLockbox", "RemoteBridge"}

    high = refused(client.post("/ops/marketplace/fee", json={"fee_bps": 1001}, headers=admin), 422,
                   "1001 bps (10.01%) is above the most the marketplace accepts, 1000 bps (10%)")
    assert high["error"] == "PlatformFeeTooHigh"
    refused(client.post("/ops/marketplace/fee", json={"fee_bps": -1}, headers=admin), 422)
    zero = refused(client.post("/ops/marketplace/treasury", json={"treasury": ZERO}, headers=admin), 422, "zero")
    assert zero["error"] == "TreasuryZeroAddress"
    refused(client.patch("/ops/bridge/rate-limits", json={"outbound": 2**32}, headers=admin), 422)
    refused(client.patch("/ops/bridge/rate-limits", json={}, headers=admin), 422, "at least one limit")
    refused(client.post("/ops/marketplace/fee", json={"chain_id": 999, "fee_bps": 1}, headers=admin), 404)
    try:
        with caplog.at_level(logging.INFO, logger="api.routers.ops"):
            (fee,) = ok(client.post("/ops/marketplace/fee", json={"chain_id": 31337, "fee_bps": 300}, headers=admin))
        assert fee["changed"] and market.functions.platformFeeBps().call() == 300
        audit = [r.getMessage() for r in caplog.records if "audit:" in r.getMessage()]
        assert any(ADMIN.address in line and "platform fee to 300 bps" in line for line in audit), audit
        (same,) = ok(client.post("/ops/marketplace/fee", json={"chain_id": 31337, "fee_bps": 300}, headers=admin))
        assert not same["changed"] and same["tx_hash"] is None
        ok(client.post("/ops/marketplace/treasury", json={"chain_id": 31337, "treasury": STRANGER.address},
                       headers=admin))
        assert market.functions.treasury().call() == STRANGER.address
        changed = ok(client.patch("/ops/bridge/rate-limits", json={"sender": 7}, headers=admin))
        assert [c["changed"] for c in changed] == [True, True]
        after = ok(client.get("/ops/admin/settings", headers=admin))["bridge"]
        for old, new in zip(before["bridge"], after, strict=True):
            assert new == {**old, "sender": 7}  # only the limit given changed
    finally:
        ok(client.post("/ops/marketplace/fee", json={"chain_id": 31337, "fee_bps": home["platform_fee_bps"]},
                       headers=admin))
        ok(client.post("/ops/marketplace/treasury", json={"chain_id": 31337, "treasury": home["treasury"]},
                       headers=admin))
        for old in before["bridge"]:
            ok(client.patch("/ops/bridge/rate-limits", json={"chain_id": old["chain_id"], "sender": old["sender"]},
                            headers=admin))
    assert ok(client.get("/ops/admin/settings", headers=admin)) == before


# -- the console commands on top of the same routes -------------------------------------------------------


@pytest.fixture
def served(world: dict[str, Any], database: Any, tmp_path: Any) -> Any:
    """The world's API served over HTTP (the commands are separate processes), with a wallet per role."""
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
    env = settings_env(world["deployed"]) | {"CHAINRIGHT_WALLET_PASSPHRASE": "reach passphrase"}
    suffix = str(free_port())
    names = {}
    for role, account in (("creator", CREATOR), ("collector", COLLECTOR), ("buyer", BUYER),
                          ("receiver", RECEIVER), ("admin", ADMIN), ("stranger", STRANGER)):
        names[role] = f"{role}-{suffix}"
        Wallet.from_key("0x" + bytes(account.key).hex()).save(
            world["deployed"].data_dir / "wallets" / f"{names[role]}.json", env["CHAINRIGHT_WALLET_PASSPHRASE"])
    try:
        yield {**world, "api": f"http://127.0.0.1:{port}", "env": env, "names": names}
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def cli(s: dict[str, Any], role: str, *args: str, rc: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "chainright", *args, "--wallet", s["names"][role], "--api", s["api"]],
                          env=s["env"], capture_output=True, text=True, timeout=180)
    assert done.returncode == rc, f"{args}: rc {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def cli_json(s: dict[str, Any], role: str, *args: str) -> Any:
    return json.loads(cli(s, role, *args, "--json").stdout)


@pytest.mark.slow  # a few dozen console processes; the routes' own tests run on both database backends
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_license_and_market_commands_drive_the_same_routes(served):
    s, web3 = served, served["web3"]
    personal, commercial = _offer_terms(s, 1, "personal", 1000), _offer_terms(s, 1, "commercial", 0)
    revocable, transferable = _buy(s, 1, personal), _buy(s, 1, commercial)
    shown = cli_json(s, "collector", "trade", "license", "show", str(revocable))
    assert shown["licensee"] == COLLECTOR.address and shown["active"]
    assert "only the work's licensor" in cli(s, "collector", "trade", "license", "revoke", str(revocable),
                                             rc=1).stderr
    cli(s, "creator", "trade", "license", "revoke", str(revocable))
    assert "revoked" in cli(s, "creator", "trade", "license", "show", str(revocable)).stdout
    assert "personal terms" in cli(s, "collector", "trade", "license", "transfer", str(revocable), "--to",
                                   BUYER.address, rc=1).stderr
    cli(s, "collector", "trade", "license", "transfer", str(transferable), "--to", BUYER.address)
    assert cli_json(s, "buyer", "trade", "license", "show", str(transferable))["licensee"] == BUYER.address

    set_code(web3, RECEIVER.address, REVERTING_CODE)
    try:
        _buy(s, 1, personal)
    finally:
        set_code(web3, RECEIVER.address, "0x")
    assert cli_json(s, "receiver", "trade", "license", "credit")["credit"]["wei"] == "1000"
    assert "nothing to withdraw" in cli(s, "stranger", "trade", "license", "withdraw-credit", rc=1).stderr
    cli(s, "receiver", "trade", "license", "withdraw-credit")
    assert "0 ETH" in cli(s, "receiver", "trade", "license", "credit").stdout

    # Cancel-all: both listings leave the book; the counter moved on chain.
    for token_id in (3, 4):
        ok(s["client"].post("/market/orders", json=_listing(s, token_id), headers=s["creator"]), 201)
    assert len(_open(s)) == 2
    counter = s["marketplace"].functions.counterOf(CREATOR.address).call()
    assert "2 orders withdrawn" in cli(s, "creator", "trade", "cancel-all").stderr
    assert _open(s) == [] and s["marketplace"].functions.counterOf(CREATOR.address).call() == counter + 1

    # ERC-20 credits: read, refused when there is none, withdrawn when there is.
    assert cli_json(s, "receiver", "trade", "credits")["erc20"]["wei"] == "0"
    assert "nothing to withdraw" in cli(s, "receiver", "trade", "withdraw-erc20", rc=1).stderr
    _credit_erc20(s, RECEIVER.address, 777)
    cli(s, "receiver", "trade", "withdraw-erc20")
    assert cli_json(s, "receiver", "trade", "credits")["erc20"]["wei"] == "0"


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_escrow_split_and_admin_commands_drive_the_same_routes(served):
    s, web3 = served, served["web3"]
    # An escrow in wrapped ETH: approval first, then funded in WETH.
    cli(s, "collector", "trade", "weth", "wrap", "0.02")
    create = ["escrow", "create", "--seller", CREATOR.address, "--arbitrator", ARBITER.address, "--currency", "WETH",
              "--milestone", "0.01@+1h", "--milestone", "0.01@+1h"]
    made = cli(s, "collector", *create)
    assert "approved the escrow" in made.stderr
    (escrow,) = [e for e in cli_json(s, "collector", "escrow", "list") if e["currency"] == s["weth"]][:1]
    assert escrow["open_amount"]["wei"] == str(2 * 10**16)
    short = cli(s, "collector", *create[:-4], "--milestone", "100000@+1h", rc=1)
    assert "wrap ETH first" in short.stderr
    # A payout the seller could not take, withdrawn through the console.
    escrow_id = str(escrow["escrow_id"])
    cli(s, "creator", "escrow", "accept-terms", escrow_id)
    cli(s, "creator", "escrow", "deliver", escrow_id, "0", "--cid", s["cid"])
    eth_escrow = ok(s["client"].post("/escrows/tx", json=_escrow_body(s, "ETH", [10**16]), headers=s["collector"]))
    send(web3, COLLECTOR, eth_escrow["transaction"])
    base = f"/escrows/31337/{eth_escrow['escrow_id']}"
    send(web3, CREATOR, ok(s["client"].post(f"{base}/accept-terms-tx", headers=s["creator"])))
    send(web3, CREATOR, ok(s["client"].post(f"{base}/milestones/0/deliver-tx", json={"cid": s["cid"]},
                                            headers=s["creator"])))
    accept = ok(s["client"].post(f"{base}/milestones/0/accept-tx", headers=s["collector"]))
    set_code(web3, CREATOR.address, REVERTING_CODE)
    try:
        send(web3, COLLECTOR, accept)
    finally:
        set_code(web3, CREATOR.address, "0x")
    assert cli_json(s, "creator", "escrow", "credit")["credit"]["wei"] == str(10**16 - 10**16 * 250 // 10_000)
    assert "would revert" in cli(s, "stranger", "escrow", "withdraw", rc=1).stderr
    cli(s, "creator", "escrow", "withdraw")
    assert cli_json(s, "creator", "escrow", "credit")["credit"]["wei"] == "0"

    # A custom split.
    rights, issuer = dev_account(3), dev_account(4)
    splitter = cli(s, "creator", "royalties", "create-split", "--recipient", f"{rights.address}:3333",
                   "--recipient", f"{issuer.address}:6667", "--salt", "0x" + secrets.token_hex(32)).stdout.split()[-1]
    shown = ok(s["client"].get(f"/royalties/31337/{splitter}"))
    assert {r["account"]: r["bps"] for r in shown["recipients"]} == {rights.address: 3333, issuer.address: 6667}
    bad = cli(s, "creator", "royalties", "create-split", "--recipient", f"{rights.address}:5000", rc=1)
    assert "add up to 5000 bps" in bad.stderr
    assert "ADDRESS:BPS" in cli(s, "creator", "royalties", "create-split", "--recipient", "nope", rc=2).stderr

    # Deploy-time settings: the admin changes them, anyone else is refused.
    before = cli_json(s, "admin", "ops", "settings")
    fee = next(m for m in before["marketplace"] if m["chain_id"] == 31337)["platform_fee_bps"]
    assert cli(s, "creator", "ops", "set-fee", "300", rc=1).stderr.count("admin") >= 1
    assert "above the most" in cli(s, "admin", "ops", "set-fee", "5000", rc=1).stderr
    try:
        cli(s, "admin", "ops", "set-fee", "300", "--chain", "home")
        assert s["marketplace"].functions.platformFeeBps().call() == 300
        cli(s, "admin", "ops", "set-treasury", STRANGER.address, "--chain", "home")
        assert s["marketplace"].functions.treasury().call() == STRANGER.address
        cli(s, "admin", "ops", "set-rate-limits", "--collection", "9")
        assert {b["collection"] for b in cli_json(s, "admin", "ops", "settings")["bridge"]} == {9}
        assert "--outbound" in cli(s, "admin", "ops", "set-rate-limits", rc=2).stderr
    finally:
        treasury = next(m for m in before["marketplace"] if m["chain_id"] == 31337)["treasury"]
        cli(s, "admin", "ops", "set-fee", str(fee), "--chain", "home")
        cli(s, "admin", "ops", "set-treasury", treasury, "--chain", "home")
        for b in before["bridge"]:
            cli(s, "admin", "ops", "set-rate-limits", "--collection", str(b["collection"]), "--chain",
                "home" if b["chain_id"] == 31337 else "remote")
    assert cli_json(s, "admin", "ops", "settings") == before


def test_every_new_route_is_in_the_openapi_schema_with_a_summary(world):
    paths = ok(world["client"].get("/openapi.json"))["paths"]
    for path, method in (("/licenses/grants/{chain_id}/{grant_id}", "get"),
                         ("/licenses/grants/{chain_id}/{grant_id}/revoke-tx", "post"),
                         ("/licenses/grants/{chain_id}/{grant_id}/transfer-tx", "post"),
                         ("/licenses/credit/{chain_id}/{account}", "get"),
                         ("/licenses/withdraw-credit-tx", "post"),
                         ("/market/cancel-all-tx", "post"),
                         ("/market/credits/{chain_id}/{account}", "get"),
                         ("/market/withdraw-erc20-tx", "post"),
                         ("/escrows/credit/{chain_id}/{account}", "get"),
                         ("/splits/custom-tx", "post"),
                         ("/ops/admin/settings", "get"),
                         ("/ops/marketplace/fee", "post"),
                         ("/ops/marketplace/treasury", "post"),
                         ("/ops/bridge/rate-limits", "patch")):
        assert paths[path][method]["summary"], path
