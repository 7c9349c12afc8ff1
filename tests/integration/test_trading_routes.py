"""The collector's trading job through the HTTP API against real anvils, every route of the trading
routers driven, each transaction it returns signed and sent by the party's wallet: English auctions,
offers in wrapped ETH, licenses, rentals and gifts, milestone escrow with its time-outs; and the
refusals: a bid below the minimum or on one's own auction, an offer the buyer's wrapped ETH could not
pay (no allowance, no balance), and every escrow action by a party the contract does not allow.
The console commands on top of the same routes are driven at the end (``chainright trade``/``escrow``)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from api import create_app
from api.settings import ApiSettings
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.formatting import format_time
from chain.orders import MarketDomain, Order, OrderSide, TokenStandard, sign_order
from chain.settings import ChainSettings
from did.settings import DidSettings
from tests.support.api_flow import OFFICER, login, ok, refused, send, verified_login

pytestmark = pytest.mark.integration

CREATOR, COLLECTOR, BIDDER, ARBITER, STRANGER = (dev_account(i) for i in (1, 2, 8, 4, 9))
ETH = 10**18


@pytest.fixture(scope="module")
def deployed(two_chains: ChainSettings, artifacts) -> ChainSettings:
    deploy_to_chains(two_chains, two_chains.specs("all"))
    return two_chains


@pytest.fixture
def world(deployed, database, tmp_path, artifacts):
    """The API, verified creator/collector/bidder sessions, and a fresh collection of four tokens
    held by the creator."""
    officer_did = f"did:pkh:eip155:31337:{OFFICER.address}"
    settings = ApiSettings(environment="test", data_dir=tmp_path, siwe_domain="testserver",
                           siwe_uri="http://testserver", role_grants={officer_did: ["kyc_officer", "risk"]})
    app = create_app(settings, db=database, chain_settings=deployed, did_settings=DidSettings(environment="test"))
    client = TestClient(app, raise_server_exceptions=False)
    web3 = connect(deployed.spec("home"))
    creator = verified_login(client, CREATOR)
    work = f"a work to trade {tmp_path.name}".encode()
    cid = client.post("/assets", files={"file": ("w.png", work, "image/png")}, headers=creator).json()["cid"]
    out = client.post("/collections/tx", json={"chain_id": 31337, "name": "Trade", "symbol": "TRD",
                                               "royalty_bps": 1000}, headers=creator).json()
    send(web3, CREATOR, out["transaction"])
    collection = out["predicted_address"]
    minted = send(web3, CREATOR, ok(client.post(f"/assets/{cid}/mint-tx", json={
        "chain_id": 31337, "collection": collection, "quantity": 4}, headers=creator)))
    assert minted["status"] == 1
    nft = web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    registry = DeploymentRegistry(deployed.deployments_file)
    return {"client": client, "web3": web3, "creator": creator, "collector": verified_login(client, COLLECTOR),
            "bidder": verified_login(client, BIDDER), "collection": collection, "nft": nft, "cid": cid,
            "market": registry.address(31337, "Marketplace"), "weth": registry.address(31337, "WrappedEther"),
            "artifacts": artifacts, "deployed": deployed}


def chain_now(web3) -> int:  # type: ignore[no-untyped-def]
    return int(web3.eth.get_block("latest")["timestamp"])


def wait_chain_past(web3, moment: int) -> None:  # type: ignore[no-untyped-def]
    """Let wall time carry the chain past ``moment`` (no time travel: the API compares with the clock)."""
    while chain_now(web3) <= moment:
        time.sleep(0.5)
        web3.provider.make_request("evm_mine", [])


# -- auctions ----------------------------------------------------------------------------------------


def test_an_english_auction_from_creation_to_settlement(world):
    w, client, web3 = world, world["client"], world["web3"]
    end = chain_now(web3) + 8
    body = {"chain_id": 31337, "token": w["collection"], "token_id": 1, "reserve_wei": ETH // 10,
            "min_increment_bps": 1000, "end": format_time(end), "extension_s": 0}
    created = ok(client.post("/auctions/tx", json=body, headers=w["creator"]))
    assert created["approval"] is not None and created["transaction"]["gas"] is None  # approve first
    send(web3, CREATOR, created["approval"])
    created = ok(client.post("/auctions/tx", json=body, headers=w["creator"]))
    assert created["approval"] is None and created["transaction"]["gas"] > 0
    assert send(web3, CREATOR, created["transaction"])["status"] == 1
    auction_id = created["auction_id"]
    assert w["nft"].functions.ownerOf(1).call() == w["market"]  # the lot is escrowed

    live = ok(client.get("/auctions", params={"chain_id": 31337, "token": w["collection"]}))
    assert [a["auction_id"] for a in live] == [auction_id]
    shown = live[0]
    assert shown["live"] and shown["end"] == format_time(end) and shown["reserve"]["eth"] == "0.1"
    assert shown["reserve"]["wei"] == str(ETH // 10) and shown["minimum_bid"]["text"] == "0.1 ETH (100000000000000000 wei)"

    low = refused(client.post(f"/auctions/31337/{auction_id}/bid-tx", json={"amount_wei": ETH // 20},
                              headers=w["collector"]), 422, "below the minimum of 0.1 ETH")
    assert low["error"] == "AuctionBidTooLow" and low["minimum"] == str(ETH // 10)
    refused(client.post(f"/auctions/31337/{auction_id}/bid-tx", json={"amount_wei": ETH}, headers=w["creator"]),
            422, "your own auction")
    send(web3, COLLECTOR, ok(client.post(f"/auctions/31337/{auction_id}/bid-tx", json={"amount_wei": ETH // 10},
                                         headers=w["collector"])))
    # 10% more than the high bid is the minimum now: 0.105 ETH is refused, 0.11 accepted
    refused(client.post(f"/auctions/31337/{auction_id}/bid-tx", json={"amount_wei": ETH * 105 // 1000},
                        headers=w["bidder"]), 422, "below the minimum of 0.11 ETH")
    send(web3, BIDDER, ok(client.post(f"/auctions/31337/{auction_id}/bid-tx", json={"amount_wei": ETH * 11 // 100},
                                      headers=w["bidder"])))
    state = ok(client.get(f"/auctions/31337/{auction_id}"))
    assert state["high_bidder"] == BIDDER.address and state["high_bid"]["wei"] == str(ETH * 11 // 100)
    refused(client.post(f"/auctions/31337/{auction_id}/cancel-tx", headers=w["collector"]), 403, "only the seller")
    refused(client.post(f"/auctions/31337/{auction_id}/cancel-tx", headers=w["creator"]), 422, "already has bids")
    early = refused(client.post(f"/auctions/31337/{auction_id}/settle-tx", headers=w["collector"]), 422,
                    "settle it after that")
    assert early["error"] == "AuctionNotEnded"
    credit = ok(client.get(f"/auctions/31337/credit/{COLLECTOR.address}"))
    assert credit["wei"] == str(ETH // 10)  # the outbid collector's bid waits for withdraw
    send(web3, COLLECTOR, ok(client.post("/auctions/withdraw-tx", json={"chain_id": 31337},
                                                  headers=w["collector"])))

    wait_chain_past(web3, end)
    assert ok(client.get("/auctions", params={"chain_id": 31337, "token": w["collection"]})) == []  # not live
    send(web3, COLLECTOR, ok(client.post(f"/auctions/31337/{auction_id}/settle-tx", headers=w["collector"])))
    assert w["nft"].functions.ownerOf(1).call() == BIDDER.address
    settled = ok(client.get("/auctions", params={"chain_id": 31337, "status": "settled", "token": w["collection"]}))
    assert [a["status"] for a in settled] == ["settled"]
    refused(client.post(f"/auctions/31337/{auction_id}/unwind-tx", headers=w["collector"]), 422, "not open")
    refused(client.post(f"/auctions/31337/{auction_id}/claim-lot-tx", json={}, headers=w["bidder"]), 422)
    refused(client.get("/auctions/31337/999999"), 404)


def test_an_auction_without_bids_is_cancelled_by_its_seller_and_unverified_users_cannot_create(world):
    w, client, web3 = world, world["client"], world["web3"]
    body = {"chain_id": 31337, "token": w["collection"], "token_id": 2, "reserve_wei": ETH,
            "end": format_time(chain_now(web3) + 3600)}
    created = ok(client.post("/auctions/tx", json=body, headers=w["creator"]))
    if created["approval"]:
        send(web3, CREATOR, created["approval"])
        created = ok(client.post("/auctions/tx", json=body, headers=w["creator"]))
    send(web3, CREATOR, created["transaction"])
    send(web3, CREATOR, ok(client.post(f"/auctions/31337/{created['auction_id']}/cancel-tx", headers=w["creator"])))
    assert w["nft"].functions.ownerOf(2).call() == CREATOR.address
    assert ok(client.get(f"/auctions/31337/{created['auction_id']}"))["status"] == "cancelled"
    refused(client.post("/auctions/tx", json=body, headers=w["collector"]), 422, "does not hold token 2")
    refused(client.post("/auctions/tx", json=body, headers=login(client, STRANGER)), 403, "KYC")
    refused(client.post("/auctions/tx", json={**body, "end": format_time(chain_now(web3) - 10)},
                        headers=w["creator"]), 422, "end in the future")


# -- offers ------------------------------------------------------------------------------------------


def _sign_offer(w, prepared: dict, account) -> dict:  # type: ignore[no-untyped-def]
    f = prepared["offer"]
    order = Order(OrderSide.OFFER, f["signer"], f["token"], int(f["token_id"]), TokenStandard.ERC721,
                  int(f["quantity"]), int(f["unit_price"]), f["currency"], f["start"], f["expiry"], int(f["salt"]),
                  int(f["counter"]))
    signed = sign_order(order, MarketDomain(31337, w["market"]), account)
    return {**f, "signature": "0x" + signed.signature.hex()}


def test_offers_in_wrapped_eth_are_refused_unfunded_then_accepted_by_the_holder(world):
    w, client, web3 = world, world["client"], world["web3"]
    weth = web3.eth.contract(address=w["weth"], abi=w["artifacts"].get("WrappedEther").abi)
    terms = {"chain_id": 31337, "token": w["collection"], "token_id": 3, "unit_price_wei": ETH // 2}
    prepared = ok(client.post("/offers/prepare", json=terms, headers=w["collector"]))
    assert prepared["offer"]["currency"] == w["weth"] and prepared["total"]["eth"] == "0.5"
    assert prepared["typed_data"]["primaryType"] == "Offer"
    held = weth.functions.balanceOf(COLLECTOR.address).call()
    assert (prepared["deposit"] is None) == (held >= ETH // 2)

    unfunded = refused(client.post("/offers", json=_sign_offer(w, prepared, COLLECTOR), headers=w["collector"]),
                       422, "offer refused")
    assert unfunded["error"] == "OfferUnfunded"
    if prepared["deposit"]:
        assert int(prepared["deposit"]["value"], 16) == ETH // 2 - held
        send(web3, COLLECTOR, prepared["deposit"])
    no_allowance = refused(client.post("/offers", json=_sign_offer(w, prepared, COLLECTOR), headers=w["collector"]),
                           422, "allows the marketplace to take only", "approve")
    assert no_allowance["error"] == "OfferUnfunded"
    send(web3, COLLECTOR, prepared["approve"])
    made = ok(client.post("/offers", json=_sign_offer(w, prepared, COLLECTOR), headers=w["collector"]), 201)
    assert made["funded"] is True and made["unit_price"]["eth"] == "0.5" and made["expiry"].endswith("Z")
    refused(client.post("/offers", json=_sign_offer(w, prepared, COLLECTOR), headers=w["collector"]), 409)
    forged = {**_sign_offer(w, prepared, COLLECTOR), "unit_price": "1"}
    refused(client.post("/offers", json=forged, headers=w["collector"]), 422, "signature")
    refused(client.post("/offers", json=_sign_offer(w, prepared, COLLECTOR), headers=w["bidder"]), 403)

    listed = ok(client.get("/offers", params={"chain_id": 31337, "token": w["collection"], "token_id": 3}))
    assert [o["order_hash"] for o in listed] == [made["order_hash"]]
    refused(client.post(f"/offers/{made['order_hash']}/accept-tx", json={}, headers=w["collector"]), 422,
            "your own offer")
    refused(client.post(f"/offers/{made['order_hash']}/accept-tx", json={}, headers=w["bidder"]), 403,
            "only its holder")
    accepted = ok(client.post(f"/offers/{made['order_hash']}/accept-tx", json={}, headers=w["creator"]))
    if accepted["approval"]:
        send(web3, CREATOR, accepted["approval"])
        accepted = ok(client.post(f"/offers/{made['order_hash']}/accept-tx", json={}, headers=w["creator"]))
    before = weth.functions.balanceOf(CREATOR.address).call()
    assert send(web3, CREATOR, accepted["transaction"])["status"] == 1
    assert w["nft"].functions.ownerOf(3).call() == COLLECTOR.address
    # no indexer runs here: the chain's word, not the book's lag, decides what is served as open
    assert ok(client.get("/offers", params={"chain_id": 31337, "token": w["collection"], "token_id": 3})) == []
    gone = ok(client.get("/offers", params={"chain_id": 31337, "token": w["collection"], "status": "all"}))
    assert [o["status"] for o in gone] == ["filled"] and gone[0]["signature"] is None
    refused(client.post(f"/offers/{made['order_hash']}/accept-tx", json={}, headers=w["creator"]), 409, "filled")
    # the creator is also the royalty receiver here: price less the 2.5% platform fee
    assert weth.functions.balanceOf(CREATOR.address).call() - before == ETH // 2 - ETH // 2 * 250 // 10_000

    # A second offer, then cancelled: withdrawn at once, and the on-chain cancel is handed over.
    second = ok(client.post("/offers/prepare", json={**terms, "token_id": 4, "unit_price_wei": ETH // 10},
                            headers=w["collector"]))
    for tx in (second["deposit"], second["approve"]):
        if tx:
            send(web3, COLLECTOR, tx)
    made = ok(client.post("/offers", json=_sign_offer(w, second, COLLECTOR), headers=w["collector"]), 201)
    refused(client.post(f"/offers/{made['order_hash']}/cancel", headers=w["creator"]), 403)
    cancelled = ok(client.post(f"/offers/{made['order_hash']}/cancel", headers=w["collector"]))
    assert cancelled["needs_transaction"] and send(web3, COLLECTOR, cancelled["tx"])["status"] == 1
    assert ok(client.get("/offers", params={"chain_id": 31337, "token": w["collection"], "token_id": 4})) == []
    refused(client.post(f"/offers/{made['order_hash']}/accept-tx", json={}, headers=w["creator"]), 409)

    mine = ok(client.get(f"/offers/weth/31337/{COLLECTOR.address}"))
    assert int(mine["balance"]["wei"]) == weth.functions.balanceOf(COLLECTOR.address).call()
    wrap = ok(client.post("/offers/weth/deposit-tx", json={"chain_id": 31337, "amount_wei": 1000},
                          headers=w["collector"]))
    send(web3, COLLECTOR, wrap)
    send(web3, COLLECTOR, ok(client.post("/offers/weth/withdraw-tx", json={"chain_id": 31337, "amount_wei": 1000},
                                         headers=w["collector"])))
    too_much = refused(client.post("/offers/weth/withdraw-tx", json={"chain_id": 31337, "amount_wei": 10**30},
                                   headers=w["collector"]), 422, "wrap more ETH")
    assert too_much["error"] == "WrappedEtherBalanceTooLow"


# -- licenses, rentals, gifts --------------------------------------------------------------------------


def test_a_collector_buys_a_license_and_reads_it_back(world):
    w, client, web3 = world, world["client"], world["web3"]
    published = ok(client.post("/licenses/tx", json={"chain_id": 31337, "collection": w["collection"],
                                                      "token_ids": [2], "template": "commercial",
                                                      "fee_wei": ETH // 100}, headers=w["creator"]))
    if published["publish"]:
        send(web3, CREATOR, published["publish"])
    for tx in published["attach"]:
        send(web3, CREATOR, tx)
    offered = ok(client.get(f"/licenses/offered/31337/{w['collection']}/2"))
    assert len(offered) == 1 and offered[0]["fee"]["eth"] == "0.01"
    assert "commercial use" in offered[0]["summary"] and "for 365 days" in offered[0]["summary"]
    terms_hash = offered[0]["terms_hash"]
    bought = ok(client.post("/licenses/buy-tx", json={"chain_id": 31337, "collection": w["collection"], "token_id": 2,
                                                      "terms_hash": terms_hash}, headers=w["collector"]))
    assert int(bought["transaction"]["value"], 16) == ETH // 100
    assert send(web3, COLLECTOR, bought["transaction"])["status"] == 1
    held = ok(client.get("/licenses", params={"chain_id": 31337, "licensee": COLLECTOR.address}))
    mine = [g for g in held if g["collection"] == w["collection"] and g["token_id"] == "2"]
    assert len(mine) == 1 and mine[0]["active"] and mine[0]["terms_hash"] == terms_hash
    assert mine[0]["expiry"].endswith("Z")
    refused(client.post("/licenses/buy-tx", json={"chain_id": 31337, "collection": w["collection"], "token_id": 4,
                                                  "terms_hash": terms_hash}, headers=w["collector"]),
            422, "does not offer terms")
    refused(client.post("/licenses/buy-tx", json={"chain_id": 31337, "collection": w["collection"], "token_id": 2,
                                                  "terms_hash": "0x" + "ab" * 32}, headers=w["collector"]), 404)


def test_the_holder_rents_a_token_out_ends_the_rental_and_gives_it_away(world):
    w, client, web3 = world, world["client"], world["web3"]
    until = format_time(chain_now(web3) + 3600)
    body = {"chain_id": 31337, "collection": w["collection"], "token_id": 4, "user": STRANGER.address, "until": until}
    refused(client.post("/rentals/tx", json=body, headers=w["collector"]), 403, "only its holder")
    send(web3, CREATOR, ok(client.post("/rentals/tx", json=body, headers=w["creator"])))
    rental = ok(client.get(f"/rentals/31337/{w['collection']}/4"))
    assert rental["user"] == STRANGER.address and rental["expires"] == until and rental["active"]
    refused(client.post("/rentals/tx", json={**body, "until": None}, headers=w["creator"]), 422, "needs an end")
    send(web3, CREATOR, ok(client.post("/rentals/tx", json={**body, "user": None}, headers=w["creator"])))
    assert ok(client.get(f"/rentals/31337/{w['collection']}/4"))["user"] is None

    gift = {"chain_id": 31337, "token": w["collection"], "token_id": 4, "to": COLLECTOR.address}
    send(web3, CREATOR, ok(client.post("/market/gift-tx", json=gift, headers=w["creator"])))
    assert w["nft"].functions.ownerOf(4).call() == COLLECTOR.address


# -- milestone escrow ---------------------------------------------------------------------------------


def _escrow(w, milestones: int, review_s: int = 2, arbitration_s: int = 2) -> int:  # type: ignore[no-untyped-def]
    client, web3 = w["client"], w["web3"]
    deadline = format_time(chain_now(web3) + 3600)
    created = ok(client.post("/escrows/tx", json={
        "chain_id": 31337, "seller": CREATOR.address, "arbitrator": ARBITER.address,
        "milestones": [{"amount_wei": ETH // 10, "deadline": deadline}] * milestones,
        "review_period_s": review_s, "arbitration_period_s": arbitration_s, "default_seller_bps": 2500},
        headers=w["collector"]))
    assert int(created["transaction"]["value"], 16) == milestones * ETH // 10
    assert created["total"]["wei"] == str(milestones * ETH // 10)
    assert send(web3, COLLECTOR, created["transaction"])["status"] == 1
    return int(created["escrow_id"])


def test_milestone_escrow_through_every_step_and_refusals_for_the_wrong_party(world):
    w, client, web3 = world, world["client"], world["web3"]
    arbiter = login(client, ARBITER)
    escrow_id = _escrow(w, 3)
    base = f"/escrows/31337/{escrow_id}"
    view = ok(client.get(base))
    assert view["buyer"] == COLLECTOR.address and view["seller"] == CREATOR.address and not view["seller_accepted"]
    assert view["open_amount"]["eth"] == "0.3" and [m["state"] for m in view["milestones"]] == ["funded"] * 3
    assert any(step.startswith("seller: accept the terms") for step in view["next_steps"])
    mine = ok(client.get("/escrows", params={"chain_id": 31337, "party": ARBITER.address}))
    assert mine[0]["escrow_id"] == escrow_id  # newest first
    content = {"cid": w["cid"], "content_hash": "0x" + "5a" * 32}
    # Wrong parties: 403 naming who may, before any simulation.
    refused(client.post(f"{base}/accept-terms-tx", headers=w["collector"]), 403, "only the seller")
    refused(client.post(f"{base}/milestones/0/deliver-tx", json=content, headers=w["collector"]), 403, "only the seller")
    late = refused(client.post(f"{base}/milestones/0/deliver-tx", json=content, headers=w["creator"]), 422,
                   "has not accepted")
    assert late["error"] == "EscrowNotAccepted"
    send(web3, CREATOR, ok(client.post(f"{base}/accept-terms-tx", headers=w["creator"])))

    send(web3, CREATOR, ok(client.post(f"{base}/milestones/0/deliver-tx", json={"cid": w["cid"]},
                                       headers=w["creator"])))  # the hash of the creator's own upload
    refused(client.post(f"{base}/milestones/0/accept-tx", headers=w["creator"]), 403, "only the buyer")
    refused(client.post(f"{base}/milestones/0/accept-tx", headers=arbiter), 403, "only the buyer")
    before = web3.eth.get_balance(CREATOR.address)
    send(web3, COLLECTOR, ok(client.post(f"{base}/milestones/0/accept-tx", headers=w["collector"])))
    assert web3.eth.get_balance(CREATOR.address) - before == ETH // 10 - ETH // 10 * 250 // 10_000

    send(web3, CREATOR, ok(client.post(f"{base}/milestones/1/deliver-tx", json=content, headers=w["creator"])))
    refused(client.post(f"{base}/milestones/1/dispute-tx", headers=w["creator"]), 403, "only the buyer")
    send(web3, COLLECTOR, ok(client.post(f"{base}/milestones/1/dispute-tx", headers=w["collector"])))
    refused(client.post(f"{base}/milestones/1/arbitrate-tx", json={"seller_bps": 6000}, headers=w["creator"]),
            403, "only the arbitrator")
    refused(client.post(f"{base}/milestones/1/arbitrate-tx", json={"seller_bps": 6000}, headers=w["collector"]),
            403, "only the arbitrator")
    send(web3, ARBITER, ok(client.post(f"{base}/milestones/1/arbitrate-tx", json={"seller_bps": 6000},
                                       headers=arbiter)))

    send(web3, CREATOR, ok(client.post(f"{base}/milestones/2/deliver-tx", json=content, headers=w["creator"])))
    early = refused(client.post(f"{base}/milestones/2/claim-tx", headers=w["creator"]), 422, "under review")
    assert early["error"] == "MilestoneReviewOpen"
    refused(client.post(f"{base}/milestones/2/claim-tx", headers=w["collector"]), 403, "only the seller")
    delivered_at = ok(client.get(base))["milestones"][2]["review_ends"]
    assert delivered_at and delivered_at.endswith("Z")
    wait_chain_past(web3, chain_now(web3) + 2)
    send(web3, CREATOR, ok(client.post(f"{base}/milestones/2/claim-tx", headers=w["creator"])))
    done = ok(client.get(base))
    assert [m["state"] for m in done["milestones"]] == ["released", "resolved", "released"]
    assert done["open_amount"]["wei"] == "0" and done["next_steps"] == []
    refused(client.post(f"{base}/milestones/2/dispute-tx", headers=w["collector"]), 422, "is released")


def test_escrow_time_outs_refund_the_buyer_and_settle_a_lapsed_dispute(world):
    w, client, web3 = world, world["client"], world["web3"]
    escrow_id = _escrow(w, 2)
    base = f"/escrows/31337/{escrow_id}"
    refused(client.post(f"{base}/milestones/0/reclaim-tx", headers=w["creator"]), 403, "only the buyer")
    before = web3.eth.get_balance(COLLECTOR.address)
    receipt = send(web3, COLLECTOR, ok(client.post(f"{base}/milestones/0/reclaim-tx", headers=w["collector"])))
    paid_gas = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert web3.eth.get_balance(COLLECTOR.address) - before + paid_gas == ETH // 10  # not accepted: refunded
    send(web3, CREATOR, ok(client.post(f"{base}/accept-terms-tx", headers=w["creator"])))
    send(web3, CREATOR, ok(client.post(f"{base}/milestones/1/deliver-tx", json={"cid": w["cid"]},
                                       headers=w["creator"])))
    send(web3, COLLECTOR, ok(client.post(f"{base}/milestones/1/dispute-tx", headers=w["collector"])))
    open_ = refused(client.post(f"{base}/milestones/1/settle-lapsed-tx", headers=login(client, STRANGER)), 422,
                    "with the arbiter until")
    assert open_["error"] == "DisputeArbitrationOpen"
    wait_chain_past(web3, chain_now(web3) + 2)
    send(web3, STRANGER, ok(client.post(f"{base}/milestones/1/settle-lapsed-tx", headers=login(client, STRANGER))))
    assert [m["state"] for m in ok(client.get(base))["milestones"]] == ["refunded", "resolved"]
    refused(client.get("/escrows/31337/999999"), 404)
    nothing = refused(client.post("/escrows/withdraw-tx", json={"chain_id": 31337}, headers=w["collector"]), 422)
    assert nothing["error"] == "WithdrawalNothingOwed"
    refused(client.post("/escrows/tx", json={"chain_id": 31337, "seller": CREATOR.address,
                                             "arbitrator": CREATOR.address, "milestones": [
                                                 {"amount_wei": 1, "deadline": format_time(chain_now(web3) + 60)}]},
                        headers=w["collector"]), 422, "three different accounts")


def test_every_trading_route_is_documented_with_a_summary(world):
    spec = ok(world["client"].get("/openapi.json"))
    ours = {p: ops for p, ops in spec["paths"].items()
            if p.startswith(("/auctions", "/offers", "/licenses/", "/licenses", "/rentals", "/escrows"))}
    assert len(ours) >= 25
    for path, ops in ours.items():
        for method, op in ops.items():
            assert op.get("summary"), f"{method.upper()} {path} has no summary"


# -- the console commands on top of the same routes ---------------------------------------------------


@pytest.fixture
def served(world, database, tmp_path):
    """The world's API served over HTTP (the commands are separate processes), with a wallet per role."""
    import threading

    import uvicorn

    from chain.wallet import Wallet
    from tests.conftest import free_port, settings_env

    port = free_port()
    officer_did = f"did:pkh:eip155:31337:{OFFICER.address}"
    settings = ApiSettings(environment="test", data_dir=tmp_path / "served", siwe_domain=f"127.0.0.1:{port}",
                           siwe_uri=f"http://127.0.0.1:{port}", role_grants={officer_did: ["kyc_officer"]},
                           port=port)
    app = create_app(settings, db=database, chain_settings=world["deployed"],
                     did_settings=DidSettings(environment="test"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    env = settings_env(world["deployed"]) | {"CHAINRIGHT_WALLET_PASSPHRASE": "trading passphrase"}
    suffix = str(free_port())
    names = {}
    for role, account in (("creator", CREATOR), ("collector", COLLECTOR), ("bidder", BIDDER), ("arbiter", ARBITER)):
        names[role] = f"{role}-{suffix}"
        Wallet.from_key("0x" + bytes(account.key).hex()).save(
            world["deployed"].data_dir / "wallets" / f"{names[role]}.json", env["CHAINRIGHT_WALLET_PASSPHRASE"])
    try:
        yield {**world, "api": f"http://127.0.0.1:{port}", "env": env, "names": names}
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def cli(s, role: str, *args: str, rc: int = 0) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]

    done = subprocess.run([sys.executable, "-m", "chainright", *args, "--wallet", s["names"][role], "--api", s["api"]],
                          env=s["env"], capture_output=True, text=True, timeout=180)
    assert done.returncode == rc, f"{args}: rc {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def cli_json(s, role: str, *args: str):  # type: ignore[no-untyped-def]
    return json.loads(cli(s, role, *args, "--json").stdout)


@pytest.mark.slow  # about fifty console processes; the routes' own tests run on both database backends
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_trading_and_escrow_commands_drive_the_same_routes(served):
    s, web3, collection = served, served["web3"], served["collection"]
    # Auctions: create (approves first), a bid below the minimum refused as a sentence, bids, settle.
    cli(s, "creator", "trade", "auction", "create", "--collection", collection, "--token-id", "1", "--reserve", "0.1",
        "--ends", "+150s", "--extension", "0")  # each command is a new process: seconds each, 10+ when the
    # machine is loaded (75 s ran out before the second bid in one run at load 15; the chain then refused it)
    (auction,) = cli_json(s, "creator", "trade", "auction", "list", "--collection", collection, "--status", "all")
    low = cli(s, "collector", "trade", "auction", "bid", str(auction["auction_id"]), "--amount", "0.01", rc=1)
    assert "error:" in low.stderr and "below the minimum of 0.1 ETH (100000000000000000 wei)" in low.stderr
    cli(s, "collector", "trade", "auction", "bid", str(auction["auction_id"]), "--amount", "0.1")
    cli(s, "bidder", "trade", "auction", "bid", str(auction["auction_id"]), "--amount", "0.2")
    shown = cli_json(s, "bidder", "trade", "auction", "show", str(auction["auction_id"]))
    assert shown["high_bidder"] == BIDDER.address and shown["high_bid"]["eth"] == "0.2"
    assert "withdrew 0.1 ETH" in cli(s, "collector", "trade", "auction", "withdraw").stderr
    wait_chain_past(web3, int(datetime_of(shown["end"])))
    cli(s, "collector", "trade", "auction", "settle", str(auction["auction_id"]))
    assert served["nft"].functions.ownerOf(1).call() == BIDDER.address
    cli(s, "creator", "trade", "auction", "create", "--collection", collection, "--token-id", "2", "--reserve", "1",
        "--ends", "+1d")
    (second, _) = cli_json(s, "creator", "trade", "auction", "list", "--collection", collection, "--status", "all")
    cli(s, "bidder", "trade", "auction", "cancel", str(second["auction_id"]), rc=1)  # not the seller
    cli(s, "creator", "trade", "auction", "cancel", str(second["auction_id"]))
    assert served["nft"].functions.ownerOf(2).call() == CREATOR.address
    usage = cli(s, "bidder", "trade", "auction", "bid", "1", "--amount", "lots", rc=2)
    assert "--amount" in usage.stderr

    # Offers in wrapped ETH: make (wraps and approves), list, accept; another cancelled; WETH itself.
    made = cli(s, "collector", "trade", "offer", "make", "--collection", collection, "--token-id", "3", "--price",
               "0.05").stdout.split()[-1]
    listed = cli_json(s, "creator", "trade", "offer", "list", "--collection", collection, "--token-id", "3")
    assert [o["order_hash"] for o in listed] == [made] and listed[0]["funded"]
    cli(s, "creator", "trade", "offer", "accept", made)
    assert served["nft"].functions.ownerOf(3).call() == COLLECTOR.address
    other = cli(s, "collector", "trade", "offer", "make", "--collection", collection, "--token-id", "4", "--price",
                "0.01").stdout.split()[-1]
    cli(s, "collector", "trade", "offer", "cancel", other)
    assert cli_json(s, "collector", "trade", "offer", "list", "--collection", collection) == []
    cli(s, "collector", "trade", "weth", "wrap", "0.001")
    cli(s, "collector", "trade", "weth", "unwrap", "0.001")
    assert cli_json(s, "collector", "trade", "weth", "balance")["account"] == COLLECTOR.address

    # Licenses: the creator attaches terms (mint --license does it too), the collector buys one.
    published = ok(s["client"].post("/licenses/tx", json={"chain_id": 31337, "collection": collection, "token_ids": [2],
                                                          "template": "remix", "fee_wei": 1000},
                                    headers=s["creator"]))
    for tx in [published["publish"], *published["attach"]]:
        if tx:
            send(web3, CREATOR, tx)
    (terms,) = cli_json(s, "collector", "trade", "license", "terms", "--collection", collection, "--token-id", "2")
    cli(s, "collector", "trade", "license", "buy", "--collection", collection, "--token-id", "2", "--terms",
        terms["terms_hash"])
    grants = cli_json(s, "collector", "trade", "license", "list")
    assert any(g["collection"] == collection and g["terms_hash"] == terms["terms_hash"] for g in grants)

    # Rentals and gifts.
    cli(s, "creator", "trade", "rent", "--collection", collection, "--token-id", "2", "--to", STRANGER.address,
        "--until", "+1h")
    assert cli_json(s, "creator", "trade", "rental", "--collection", collection, "--token-id", "2")["user"] == \
        STRANGER.address
    cli(s, "creator", "trade", "rent", "--collection", collection, "--token-id", "2", "--end")
    cli(s, "creator", "trade", "gift", "--collection", collection, "--token-id", "2", "--to", COLLECTOR.address)
    assert served["nft"].functions.ownerOf(2).call() == COLLECTOR.address

    # Escrow: every step by its party; a step by the wrong party is refused with who may.
    tiny = "0.0003"  # days: 25 seconds of review and of arbitration (each command takes seconds to start)
    create = ["escrow", "create", "--seller", CREATOR.address, "--arbitrator", ARBITER.address,
              "--review-days", tiny, "--arbitration-days", tiny]
    cli(s, "collector", *create, "--milestone", "0.01@+1h", "--milestone", "0.01@+1h", "--milestone", "0.01@+1h")
    escrow_id = str(cli_json(s, "arbiter", "escrow", "list")[0]["escrow_id"])
    wrong = cli(s, "creator", "escrow", "accept", escrow_id, "0", rc=1)
    assert "only the buyer" in wrong.stderr
    cli(s, "creator", "escrow", "accept-terms", escrow_id)
    cli(s, "creator", "escrow", "deliver", escrow_id, "0", "--cid", served["cid"])
    cli(s, "collector", "escrow", "accept", escrow_id, "0")
    cli(s, "creator", "escrow", "deliver", escrow_id, "1", "--cid", served["cid"])
    cli(s, "collector", "escrow", "dispute", escrow_id, "1")
    assert "only the arbitrator" in cli(s, "collector", "escrow", "arbitrate", escrow_id, "1", "--seller-share",
                                        "6000", rc=1).stderr
    cli(s, "arbiter", "escrow", "arbitrate", escrow_id, "1", "--seller-share", "6000")
    cli(s, "creator", "escrow", "deliver", escrow_id, "2", "--cid", served["cid"])
    wait_chain_past(web3, int(datetime_of(cli_json(s, "creator", "escrow", "show", escrow_id)["milestones"][2][
        "review_ends"])))
    cli(s, "creator", "escrow", "claim", escrow_id, "2")
    states = [m["state"] for m in cli_json(s, "creator", "escrow", "show", escrow_id)["milestones"]]
    assert states == ["released", "resolved", "released"]
    assert "released" in cli(s, "creator", "escrow", "show", escrow_id).stdout

    cli(s, "collector", *create, "--milestone", "0.01@+1h", "--milestone", "0.01@+1h")
    lapsing = str(cli_json(s, "collector", "escrow", "list")[0]["escrow_id"])
    cli(s, "collector", "escrow", "reclaim", lapsing, "0")
    cli(s, "creator", "escrow", "accept-terms", lapsing)
    cli(s, "creator", "escrow", "deliver", lapsing, "1", "--cid", served["cid"])
    cli(s, "collector", "escrow", "dispute", lapsing, "1")
    wait_chain_past(web3, int(datetime_of(cli_json(s, "bidder", "escrow", "show", lapsing)["milestones"][1][
        "arbitration_ends"])))
    cli(s, "bidder", "escrow", "settle-lapsed", lapsing, "1")
    assert [m["state"] for m in cli_json(s, "bidder", "escrow", "show", lapsing)["milestones"]] == \
        ["refunded", "resolved"]


def datetime_of(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
