"""The last contract actions without a route (issue #18, second part), driven through the HTTP API
against real anvils, each transaction signed and sent by the party's wallet, then through the console:

- Licensing: terms of one's own (any fee, duration, uses, territories, legal text) published and
  attached to one's works; every value the contract would refuse, and a few it would take but that
  mean nothing (a derivative share with derivatives forbidden), refused in words first.
- RoyaltySplitter: a recipient withdraws its share to an address it names (``withdrawTo``); anyone
  pays a recipient its share to the recipient's own address (``withdrawFor``), never to themselves.
- MilestoneEscrow: its platform fee and treasury set by the admin role, sent by the platform key,
  audited, as the marketplace's are.
- Marketplace: one ETH credit per account whatever earned it; a sale's royalty the receiver refused
  is withdrawn through the same route as an outbid refund, to the payee or an address it names.

The world (API, anvils, a collection of four tokens whose royalty goes to RECEIVER) is the one
test_reach_routes builds.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

import pytest

from chain.devaccounts import dev_account
from chain.orders import MarketDomain, listing, sign_order
from tests.integration import test_reach_routes as reach
from tests.integration.test_reach_routes import (
    ADMIN,
    BUYER,
    COLLECTOR,
    CREATOR,
    ETH,
    RECEIVER,
    REVERTING_CODE,
    STRANGER,
    ZERO,
    cli,
    ok,
    refused,
    set_code,
)
from tests.support.api_flow import OFFICER, login, send

pytestmark = pytest.mark.integration
deployed, world, served = reach.deployed, reach.world, reach.served  # the same fixtures, this module's chains

LEGAL = "Chainright custom license: the terms in this text govern; the on-chain terms summarise them."


def _terms(**fields: Any) -> dict[str, Any]:
    return {"chain_id": 31337, "fee_wei": 4321, "duration_s": 30 * 86_400, "commercial_use": True,
            "derivatives_allowed": True, "derivative_revenue_share_bps": 750, "attribution_required": False,
            "transferable": True, "revocable": True, "territories": ["US", "FR", "DE"],
            "legal_text": LEGAL + secrets.token_hex(4)} | fields


# -- licensing: terms of one's own ------------------------------------------------------------------------


def test_custom_terms_are_published_attached_bought_and_bad_terms_are_refused_in_words(world):
    w, client, web3 = world, world["client"], world["web3"]
    body = _terms(collection=w["collection"], token_ids=[1, 2])
    out = ok(client.post("/licenses/terms-tx", json=body, headers=w["creator"]))
    terms = out["terms"]
    assert terms["territories"] == ["DE", "FR", "US"]  # sorted for the contract (strictly ascending)
    assert terms["fee"]["wei"] == "4321" and terms["duration_s"] == 30 * 86_400
    assert "commercial use" in terms["summary"] and "7.5% of their revenue" in terms["summary"]
    assert "no credit required" in terms["summary"] and "for 30 days" in terms["summary"]
    assert "in DE, FR, US" in terms["summary"] and "revocable by the licensor" in terms["summary"]
    assert out["publish"]["gas"] > 0 and len(out["attach"]) == 2
    for tx in [out["publish"], *out["attach"]]:
        assert send(web3, CREATOR, tx)["status"] == 1
    offered = ok(client.get(f"/licenses/offered/31337/{w['collection']}/1"))
    (shown,) = [t for t in offered if t["terms_hash"] == out["terms_hash"]]
    assert shown == terms  # what the chain holds is what the route said

    again = ok(client.post("/licenses/terms-tx", json=body, headers=w["creator"]))
    assert again["publish"] is None and again["attach"] == [] and again["terms_hash"] == out["terms_hash"]
    # Published terms are anyone's to attach: the same terms by CID, on another work of the creator's.
    by_cid = ok(client.post("/licenses/terms-tx", json=_terms(
        legal_text=None, legal_text_cid=terms["legal_text_cid"], collection=w["collection"], token_ids=[3],
        territories=["FR", "DE", "US"]), headers=w["creator"]))
    assert by_cid["terms_hash"] == out["terms_hash"] and by_cid["publish"] is None
    assert by_cid["attach"][0]["gas"] > 0 and send(web3, CREATOR, by_cid["attach"][0])["status"] == 1

    bought = ok(client.post("/licenses/buy-tx", json={"chain_id": 31337, "collection": w["collection"],
                                                      "token_id": 1, "terms_hash": out["terms_hash"]},
                            headers=w["collector"]))
    assert int(bought["transaction"]["value"], 16) == 4321
    assert send(web3, COLLECTOR, bought["transaction"])["status"] == 1
    (grant,) = ok(client.get("/licenses", params={"chain_id": 31337, "licensee": COLLECTOR.address}))[:1]
    assert grant["terms_hash"] == out["terms_hash"] and grant["expiry"] is not None

    def bad(status: int, *words: str, headers: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
        return refused(client.post("/licenses/terms-tx", json=_terms(**fields),
                                   headers=w["creator"] if headers is None else headers), status, *words)

    for code in ("fr", "FRA", "F1", "", "Fr"):
        assert bad(422, "two capital letters", territories=["DE", code])["error"] == "LicenseTermsTerritoryInvalid"
    bad(422, "DE is named more than once", territories=["DE", "FR", "DE"])
    bad(422, "means nothing when derivatives are not allowed", derivatives_allowed=False)
    bad(422, legal_text=None)  # no legal text at all
    bad(422, "not both", legal_text_cid=terms["legal_text_cid"])
    bad(422, legal_text=None, legal_text_cid="not-a-cid")
    bad(422, derivative_revenue_share_bps=10_001)
    bad(422, duration_s=2**64)
    bad(422, fee_wei=-1)
    bad(422, fee_wei=2**256)
    bad(422, territories=["AA"] * 251)
    bad(422, "give the collection too", token_ids=[1])
    bad(422, "is not a work", collection=w["collection"], token_ids=[99])
    bad(403, "only the work's licensor", collection=w["collection"], token_ids=[1], headers=w["collector"])
    bad(403, "KYC", headers=login(client, STRANGER))
    bad(401, headers={})
    # Nothing refused above reached the chain: the terms the collector tried are not published.
    assert not any(t["terms_hash"] != out["terms_hash"] for t in ok(
        client.get(f"/licenses/offered/31337/{w['collection']}/1")))


# -- royalty splitter: withdrawTo, withdrawFor ------------------------------------------------------------


def _split(w: dict[str, Any], *recipients: Any) -> str:
    share = 10_000 // len(recipients)
    body = {"chain_id": 31337, "salt": "0x" + secrets.token_hex(32),
            "recipients": [{"account": r.address, "bps": share} for r in recipients]}
    out = ok(w["client"].post("/splits/custom-tx", json=body, headers=w["creator"]))
    send(w["web3"], CREATOR, out["transaction"])
    return str(out["splitter"])


def test_a_recipient_withdraws_to_an_address_it_names_and_anyone_pays_a_recipient_its_own(world):
    w, client, web3 = world, world["client"], world["web3"]
    rights, issuer = dev_account(3), dev_account(4)
    splitter = _split(w, rights, issuer)
    web3.provider.make_request("anvil_setBalance", [splitter, hex(2 * ETH)])  # royalties received
    base = f"/royalties/31337/{splitter}"
    as_rights, as_stranger = login(client, rights), login(client, STRANGER)

    refused(client.post(f"{base}/withdraw-tx", json={"to": STRANGER.address}, headers=as_stranger), 403,
            "not a recipient")  # a stranger cannot send anyone's share anywhere
    zero = refused(client.post(f"{base}/withdraw-tx", json={"to": ZERO}, headers=as_rights), 422, "zero address")
    assert zero["error"] == "SplitterPayeeZero"
    refused(client.post(f"{base}/withdraw-tx", json={"to": "0x1234"}, headers=as_rights), 422)
    before = web3.eth.get_balance(STRANGER.address)
    tx = ok(client.post(f"{base}/withdraw-tx", json={"to": STRANGER.address}, headers=as_rights))
    assert tx["from"] == rights.address and send(web3, rights, tx)["status"] == 1
    assert web3.eth.get_balance(STRANGER.address) - before == ETH  # the share went where rights said
    nothing = refused(client.post(f"{base}/withdraw-tx", json={}, headers=as_rights), 422, "nothing to withdraw")
    assert nothing["error"] == "SplitterNothingToWithdraw"

    # withdrawFor: anyone sends it, the share goes to the recipient's own address only.
    refused(client.post(f"{base}/withdraw-for-tx", json={"recipient": STRANGER.address}, headers=as_stranger),
            404, "not a recipient")
    refused(client.post(f"{base}/withdraw-for-tx", json={"recipient": issuer.address}), 401)
    issuer_before, stranger_before = web3.eth.get_balance(issuer.address), web3.eth.get_balance(STRANGER.address)
    tx = ok(client.post(f"{base}/withdraw-for-tx", json={"recipient": issuer.address}, headers=as_stranger))
    receipt = send(web3, STRANGER, tx)
    assert web3.eth.get_balance(issuer.address) - issuer_before == ETH
    assert web3.eth.get_balance(STRANGER.address) == stranger_before - receipt["gasUsed"] * receipt[
        "effectiveGasPrice"]  # the sender paid gas and received nothing
    refused(client.post(f"{base}/withdraw-for-tx", json={"recipient": issuer.address}, headers=as_stranger),
            422, "nothing to withdraw")
    refused(client.post(f"{base}/withdraw-for-tx", json={"recipient": issuer.address, "token": "0x12"},
                        headers=as_stranger), 422)
    assert web3.eth.get_balance(splitter) == 0


# -- milestone escrow: platform fee and treasury, admin role ----------------------------------------------


def test_an_admin_sets_the_escrow_fee_and_treasury_and_nobody_else_can(world, caplog):
    w, client, web3 = world, world["client"], world["web3"]
    admin = login(client, ADMIN)
    from chain.deployments import DeploymentRegistry

    address = DeploymentRegistry(w["deployed"].deployments_file).address(31337, "MilestoneEscrow")
    escrow = web3.eth.contract(address=address, abi=w["artifacts"].get("MilestoneEscrow").abi)
    for headers in ({}, w["creator"], login(client, OFFICER)):
        assert client.post("/ops/escrow/fee", json={"fee_bps": 300}, headers=headers).status_code in (401, 403)
        assert client.post("/ops/escrow/treasury", json={"treasury": STRANGER.address},
                           headers=headers).status_code in (401, 403)
    before = ok(client.get("/ops/admin/settings", headers=admin))
    home = next(e for e in before["escrow"] if e["chain_id"] == 31337)
    assert home["platform_fee_bps"] == escrow.functions.platformFeeBps().call() and home["max_fee_bps"] == 1000
    assert home["treasury"] == escrow.functions.treasury().call()

    high = refused(client.post("/ops/escrow/fee", json={"fee_bps": 1001}, headers=admin), 422,
                   "1001 bps (10.01%) is above the most the escrow accepts, 1000 bps (10%)")
    assert high["error"] == "PlatformFeeTooHigh"
    refused(client.post("/ops/escrow/fee", json={"fee_bps": 2**16}, headers=admin), 422)
    zero = refused(client.post("/ops/escrow/treasury", json={"treasury": ZERO}, headers=admin), 422, "zero")
    assert zero["error"] == "TreasuryZeroAddress"
    refused(client.post("/ops/escrow/fee", json={"chain_id": 999, "fee_bps": 1}, headers=admin), 404)
    try:
        with caplog.at_level(logging.INFO, logger="api.routers.ops"):
            changed = ok(client.post("/ops/escrow/fee", json={"chain_id": 31337, "fee_bps": 300}, headers=admin))
            ok(client.post("/ops/escrow/treasury", json={"chain_id": 31337, "treasury": STRANGER.address},
                           headers=admin))
        assert [c["contract"] for c in changed] == ["MilestoneEscrow"] and changed[0]["changed"]
        assert escrow.functions.platformFeeBps().call() == 300
        assert escrow.functions.treasury().call() == STRANGER.address
        audit = [r.getMessage() for r in caplog.records if "audit:" in r.getMessage()]
        assert any(ADMIN.address in line and "platform fee to 300 bps on MilestoneEscrow" in line for line in audit)
        assert any(f"treasury to {STRANGER.address} on MilestoneEscrow" in line for line in audit), audit
        (same,) = ok(client.post("/ops/escrow/fee", json={"chain_id": 31337, "fee_bps": 300}, headers=admin))
        assert not same["changed"] and same["tx_hash"] is None
        for family in ("escrow", "marketplace"):  # the treasury it has already: nothing sent, either family
            now = ok(client.get("/ops/admin/settings", headers=admin))[family][0]
            (kept,) = ok(client.post(f"/ops/{family}/treasury", json={"chain_id": now["chain_id"],
                                                                       "treasury": now["treasury"]}, headers=admin))
            assert not kept["changed"] and kept["tx_hash"] is None, family
        # the marketplace's settings are apart: untouched
        assert ok(client.get("/ops/admin/settings", headers=admin))["marketplace"] == before["marketplace"]
    finally:
        ok(client.post("/ops/escrow/fee", json={"chain_id": 31337, "fee_bps": home["platform_fee_bps"]},
                       headers=admin))
        ok(client.post("/ops/escrow/treasury", json={"chain_id": 31337, "treasury": home["treasury"]},
                       headers=admin))
    assert ok(client.get("/ops/admin/settings", headers=admin)) == before


# -- marketplace: one ETH credit, whatever earned it ------------------------------------------------------


def _sell(w: dict[str, Any], token_id: int, price: int) -> None:
    """CREATOR sells ``token_id`` to BUYER on chain (the listing filled directly)."""
    web3, market, nft = w["web3"], w["marketplace"], w["nft"]
    send(web3, CREATOR, {"chain_id": 31337, "to": w["collection"],
                         "data": nft.encode_abi("setApprovalForAll", args=[w["market"], True])})
    now = int(time.time())
    order = listing(seller=CREATOR.address, token=w["collection"], token_id=token_id, unit_price=price,
                    start=now - 60, expiry=now + 3600, counter=market.functions.counterOf(CREATOR.address).call(),
                    holding_epoch=nft.functions.holdingEpoch(CREATOR.address, token_id).call())
    signed = sign_order(order, MarketDomain(31337, w["market"]), CREATOR)
    data = market.encode_abi("fillListing", args=[order.as_tuple(), signed.signature, 1])
    assert send(web3, BUYER, {"chain_id": 31337, "to": w["market"], "data": data, "value": hex(price)})["status"] == 1


def test_a_sale_royalty_the_receiver_refused_is_withdrawn_through_the_one_eth_credit_route(world):
    w, client, web3 = world, world["client"], world["web3"]
    receiver = login(client, RECEIVER)
    nothing = refused(client.post("/auctions/withdraw-tx", json={"chain_id": 31337}, headers=receiver), 422,
                      "nothing to withdraw")
    assert nothing["error"] == "WithdrawalNothingOwed"
    set_code(web3, RECEIVER.address, REVERTING_CODE)  # the royalty push fails: the marketplace credits it
    try:
        _sell(w, 4, ETH)
    finally:
        set_code(web3, RECEIVER.address, "0x")
    royalty = ETH // 10
    assert ok(client.get(f"/auctions/31337/credit/{RECEIVER.address}"))["wei"] == str(royalty)
    assert ok(client.get(f"/market/credits/31337/{RECEIVER.address}"))["eth"]["wei"] == str(royalty)
    refused(client.post("/auctions/withdraw-tx", json={"chain_id": 31337}, headers=login(client, STRANGER)),
            422, "nothing to withdraw")  # a credit is its payee's alone
    refused(client.post("/auctions/withdraw-tx", json={"chain_id": 31337, "to": ZERO}, headers=receiver), 422,
            "zero address")
    before = web3.eth.get_balance(STRANGER.address)
    tx = ok(client.post("/auctions/withdraw-tx", json={"chain_id": 31337, "to": STRANGER.address},
                        headers=receiver))
    assert send(web3, RECEIVER, tx)["status"] == 1
    assert web3.eth.get_balance(STRANGER.address) - before == royalty
    assert ok(client.get(f"/auctions/31337/credit/{RECEIVER.address}"))["wei"] == "0"


# -- the console on top of the same routes ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_last_commands_drive_the_same_routes(served, tmp_path):
    s, web3 = served, served["web3"]
    legal = tmp_path / "legal.txt"
    legal.write_text(LEGAL + secrets.token_hex(4))
    published = cli(s, "creator", "trade", "license", "publish", "--fee", "0.001", "--legal-text", str(legal),
                    "--days", "7", "--commercial", "--territory", "FR", "--territory", "BE",
                    "--collection", s["collection"], "--token", "2")
    terms_hash = published.stdout.split()[-1]
    assert "terms published" in published.stderr and "terms attached" in published.stderr
    assert "in BE, FR" in published.stderr and "for 7 days" in published.stderr
    offered = ok(s["client"].get(f"/licenses/offered/31337/{s['collection']}/2"))
    assert terms_hash in [t["terms_hash"] for t in offered]
    bad = cli(s, "creator", "trade", "license", "publish", "--fee", "0", "--legal-text", str(legal),
              "--territory", "fr", rc=1)
    assert "two capital letters" in bad.stderr

    rights, issuer = dev_account(3), dev_account(4)
    splitter = _split(s, rights, issuer)
    web3.provider.make_request("anvil_setBalance", [splitter, hex(ETH)])
    before = web3.eth.get_balance(issuer.address)
    assert "not a recipient" in cli(s, "stranger", "royalties", "withdraw", splitter, "--to", BUYER.address,
                                    rc=1).stderr
    cli(s, "stranger", "royalties", "withdraw", splitter, "--for", issuer.address)
    assert web3.eth.get_balance(issuer.address) - before == ETH // 2
    assert "--for" in cli(s, "stranger", "royalties", "withdraw", splitter, "--for", issuer.address, "--to",
                          BUYER.address, rc=2).stderr

    set_code(web3, RECEIVER.address, REVERTING_CODE)
    try:
        _sell(s, 3, ETH // 100)
    finally:
        set_code(web3, RECEIVER.address, "0x")
    before = web3.eth.get_balance(BUYER.address)
    cli(s, "receiver", "trade", "auction", "withdraw", "--to", BUYER.address)
    assert web3.eth.get_balance(BUYER.address) - before == ETH // 1000

    assert "escrow" in cli(s, "admin", "ops", "settings").stdout
    before_settings = json.loads(cli(s, "admin", "ops", "settings", "--json").stdout)
    fee = next(e for e in before_settings["escrow"] if e["chain_id"] == 31337)
    assert "admin" in cli(s, "creator", "ops", "set-escrow-fee", "300", rc=1).stderr
    assert "above the most the escrow accepts" in cli(s, "admin", "ops", "set-escrow-fee", "5000", rc=1).stderr
    try:
        cli(s, "admin", "ops", "set-escrow-fee", "300", "--chain", "home")
        cli(s, "admin", "ops", "set-escrow-treasury", STRANGER.address, "--chain", "home")
        now = json.loads(cli(s, "admin", "ops", "settings", "--json").stdout)
        assert next(e for e in now["escrow"] if e["chain_id"] == 31337) == {
            **fee, "platform_fee_bps": 300, "treasury": STRANGER.address}
    finally:
        cli(s, "admin", "ops", "set-escrow-fee", str(fee["platform_fee_bps"]), "--chain", "home")
        cli(s, "admin", "ops", "set-escrow-treasury", fee["treasury"], "--chain", "home")
    assert json.loads(cli(s, "admin", "ops", "settings", "--json").stdout) == before_settings


def test_every_route_added_here_is_in_the_openapi_schema_with_a_summary(world):
    paths = ok(world["client"].get("/openapi.json"))["paths"]
    for path in ("/licenses/terms-tx", "/royalties/{chain_id}/{splitter}/withdraw-for-tx", "/ops/escrow/fee",
                 "/ops/escrow/treasury"):
        assert paths[path]["post"]["summary"], path


# -- milestone escrow: a failed payout withdrawn to an address its payee names (withdrawTo) ----------------


def test_an_escrow_credit_is_withdrawn_to_an_address_its_payee_names_and_only_its_own(world):
    w, client, web3 = world, world["client"], world["web3"]
    created = ok(client.post("/escrows/tx", json=reach._escrow_body(w, "ETH", [ETH // 10]), headers=w["collector"]))
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
    owed = int(ok(client.get(f"/escrows/credit/31337/{CREATOR.address}"))["credit"]["wei"])
    assert owed > 0
    refused(client.post("/escrows/withdraw-tx", json={"chain_id": 31337, "to": ZERO}, headers=w["creator"]), 422,
            "zero address")
    stranger = refused(client.post("/escrows/withdraw-tx", json={"chain_id": 31337, "to": STRANGER.address},
                                   headers=login(client, STRANGER)), 422)  # naming a payee takes nobody's credit
    assert stranger["error"] == "WithdrawalNothingOwed"
    before = web3.eth.get_balance(BUYER.address)
    tx = ok(client.post("/escrows/withdraw-tx", json={"chain_id": 31337, "to": BUYER.address}, headers=w["creator"]))
    assert send(web3, CREATOR, tx)["status"] == 1
    assert web3.eth.get_balance(BUYER.address) - before == owed
    assert ok(client.get(f"/escrows/credit/31337/{CREATOR.address}"))["credit"]["wei"] == "0"
