"""The circuit breaker cannot be weaponized by one account, through the real API on anvil.

- A verified stranger holding nothing posts outlier offers, unfunded (refused before the breaker,
  as unfunded) and then funded and approved: its refusals are recorded, at most one of them counts, and the collection is never halted,
  neither in the API nor on chain. Three distinct funded bidders still halt it.
- The risk role lifts a halt (here and ``setHalted(false)`` on chain); nobody else can.
- Two wallets of one attacker trading a token back and forth at an outlier price, directly on the
  marketplace contract, neither halt the collection nor move its reference price; a fill by
  further accounts that confirms the move still halts it.
- ``PUT``/``PATCH`` of a policy change only the fields given.
"""

from __future__ import annotations

import time

import pytest
from eth_account import Account

from chain.devaccounts import dev_account
from chain.orders import offer
from chain.tx import TxSender
from tests.integration import test_market_flow as flow
from tests.integration.test_market_flow import CREATOR, PRICE, _index, _marketplace, _signed
from tests.support.api_flow import OFFICER, login, verified_login

pytestmark = pytest.mark.integration

deployed, market = flow.deployed, flow.market  # the market flow's fixtures: a fresh collection per test

GRIEF_POLICY = {"operator_reference": PRICE, "band_bps": 1000, "max_rejections": 3, "rejection_window_s": 600,
                "cooldown_s": 600, "enforce_band_on_chain": False}
"""K = 3 refusals within ten minutes halt for ten minutes; D (``min_distinct_accounts``) is the default 3."""


def _fresh(m, eth: int = 5):
    """A new wallet with ``eth`` ETH for gas (anvil's own accounts are shared by the module)."""
    account = Account.create()
    web3 = m["web3"]
    funder = TxSender(web3, dev_account(0))
    funder.transact({"to": account.address, "value": eth * 10**18})
    return account


def _coin(m):
    art = m["artifacts"].get("MktTestERC20")
    address, _ = TxSender(m["web3"], dev_account(0)).deploy(art.abi, art.bytecode)
    return m["web3"].eth.contract(address=address, abi=art.abi)


def _fund(m, coin, bidder, amount: int) -> None:
    payer = TxSender(m["web3"], bidder)
    payer.transact(payer.call_tx(coin.functions.mint(bidder.address, amount)))
    payer.transact(payer.call_tx(coin.functions.approve(m["domain"].verifying_contract, amount)))


def _offer(m, headers, bidder, currency: str, price: int, token_id: int = 2):
    return m["client"].post("/market/orders", headers=headers,
                            json=_offer_body(m, bidder, currency, price, token_id))


def _offer_body(m, bidder, currency: str, price: int, token_id: int = 2) -> dict:
    now = int(time.time())
    order = offer(buyer=bidder.address, token=m["collection"], token_id=token_id, unit_price=price,
                  currency=currency, start=now - 60, expiry=now + 3600,
                  counter=_marketplace(m).functions.counterOf(bidder.address).call())
    from chain.orders import sign_order

    signed = sign_order(order, m["domain"], bidder)
    return {"chain_id": 31337, "side": "offer", "signer": bidder.address, "token": m["collection"],
            "token_id": token_id, "unit_price": price, "currency": currency, "start": order.start,
            "expiry": order.expiry, "salt": order.salt, "counter": order.counter,
            "signature": "0x" + signed.signature.hex()}


def _halted_on_chain(m) -> bool:
    return bool(_marketplace(m).functions.collectionPolicy(m["collection"]).call()[0])


def _view(m):
    return m["client"].get(f"/market/breaker/31337/{m['collection']}").json()


def test_a_lone_stranger_posting_outlier_offers_never_halts_the_collection_funded_or_not(market):
    m, client = market, market["client"]
    r = client.put(f"/market/breaker/31337/{m['collection']}", json=GRIEF_POLICY, headers=login(client, OFFICER))
    assert r.status_code == 200, r.text
    stranger = _fresh(m)
    headers = verified_login(client, stranger)  # verified, holds no token, no coin
    coin = _coin(m)
    nowhere = "0x" + "ee" * 20  # not a contract at all

    for price in (1, 2, 3, 100 * PRICE, 200 * PRICE):  # unfunded, in a real coin and in no coin
        for currency in (coin.address, nowhere):
            r = _offer(m, headers, stranger, currency, price)  # refused before the breaker sees it
            assert r.status_code == 422 and r.json()["error"] == "OfferUnfunded", r.text
            assert "tripped" not in r.json()["detail"] and not _halted_on_chain(m)
    _fund(m, coin, stranger, 1_000 * PRICE)  # now every offer below is funded and approved
    for price in (1, 2, 3, 4, 100 * PRICE, 200 * PRICE, 300 * PRICE):
        r = _offer(m, headers, stranger, coin.address, price)
        assert r.status_code == 422 and "outside the band" in r.json()["detail"], r.text
        assert "tripped" not in r.json()["detail"]
    batch = client.post("/market/orders/batch", headers=headers, json={"orders": [
        _offer_body(m, stranger, coin.address, p) for p in (5, 6, 7, 500 * PRICE, 600 * PRICE)]})
    assert batch.status_code == 200 and batch.json()["refused"] == 5, batch.text
    assert not any("tripped" in r["error"]["detail"] for r in batch.json()["results"])

    view = _view(m)
    assert view["halted_until"] is None and not _halted_on_chain(m)
    mine = [d for d in view["decisions"] if d["account"] == stranger.address]
    assert len(mine) == 12 and {d["action"] for d in mine} == {"reject"}  # the funded ones only
    assert sum(d["counted"] for d in mine) == 1  # its first funded outlier, and only that one
    # The collection still trades: the holder lists at the going price.
    r = client.post("/market/orders", json=_signed(m, 2, PRICE)[2], headers=m["creator"])
    assert r.status_code == 201, r.text


def test_distinct_funded_bidders_still_halt_and_only_the_risk_role_lifts_the_halt(market):
    m, client = market, market["client"]
    officer = login(client, OFFICER)
    assert client.put(f"/market/breaker/31337/{m['collection']}", json=GRIEF_POLICY,
                      headers=officer).status_code == 200
    coin = _coin(m)
    bidders = [_fresh(m) for _ in range(3)]
    heads = []
    for bidder in bidders:
        heads.append(verified_login(client, bidder))
        _fund(m, coin, bidder, 10 * PRICE)
    first = _offer(m, heads[0], bidders[0], coin.address, 1)
    again = _offer(m, heads[0], bidders[0], coin.address, 2)  # the same bidder twice: one counts
    second = _offer(m, heads[1], bidders[1], coin.address, 5 * PRICE)
    assert [r.status_code for r in (first, again, second)] == [422, 422, 422]
    assert not _halted_on_chain(m)
    third = _offer(m, heads[2], bidders[2], coin.address, 3)
    assert third.status_code == 422 and "tripped" in third.json()["detail"], third.text
    assert "3 orders outside the band from 3 accounts" in third.json()["detail"]
    assert _halted_on_chain(m) and _view(m)["halted_until"] is not None

    for outsider in (m["creator"], heads[0]):
        assert client.post(f"/market/breaker/31337/{m['collection']}/lift", headers=outsider).status_code == 403
    assert _halted_on_chain(m)
    lifted = client.post(f"/market/breaker/31337/{m['collection']}/lift", headers=officer)
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["halted_until"] is None and not _halted_on_chain(m)
    assert lifted.json()["decisions"][0]["action"] == "lift" and OFFICER.address in lifted.json()["decisions"][0]["reason"]
    assert client.post(f"/market/breaker/31337/{m['collection']}/lift", headers=officer).status_code == 409
    # The refusals that made the halt do not count toward the next one: one more outlier does not halt.
    r = _offer(m, heads[0], bidders[0], coin.address, 7)
    assert r.status_code == 422 and "tripped" not in r.json()["detail"] and not _halted_on_chain(m)
    assert client.post("/market/orders", json=_signed(m, 2, PRICE)[2], headers=m["creator"]).status_code == 201


def test_two_wallets_of_one_attacker_trading_at_an_outlier_price_neither_halt_nor_move_the_reference(market):
    m, client, web3 = market, market["client"], market["web3"]
    assert client.put(f"/market/breaker/31337/{m['collection']}", json={"move_bps": 1000, "cooldown_s": 600},
                      headers=login(client, OFFICER)).status_code == 200
    marketplace = _marketplace(m)
    honest, mallory, mallory2, third = (_fresh(m) for _ in range(4))
    nft = m["nft"]

    def buy(buyer, seller, token_id: int, price: int) -> None:
        order, signed, _ = _signed(m, token_id, price, seller=seller)
        tx = TxSender(web3, buyer)
        receipt = tx.transact(tx.call_tx(marketplace.functions.fillListing(order.as_tuple(), signed.signature, 1),
                                         value=price))
        assert receipt["status"] == 1

    def approve(holder) -> None:
        tx = TxSender(web3, holder)
        tx.transact(tx.call_tx(nft.functions.setApprovalForAll(marketplace.address, True)))

    buy(honest, CREATOR, 3, PRICE)   # two sales at the price between distinct wallets
    buy(mallory, CREATOR, 1, PRICE)
    approve(mallory)
    approve(mallory2)
    low = PRICE // 100
    for _ in range(2):  # mallory's two wallets pass token 1 back and forth at 1% of the price
        buy(mallory2, mallory, 1, low)
        buy(mallory, mallory2, 1, low)
    _index(m)
    client.get("/market/orders", params={"chain_id": 31337})  # the book and the fill breaker follow
    view = _view(m)
    assert view["halted_until"] is None and not _halted_on_chain(m), view["decisions"][:4]
    assert any("only 2 accounts" in d["reason"] for d in view["decisions"])
    # The reference is still the price: the creator lists at it, and an order at 1% is an outlier.
    assert client.post("/market/orders", json=_signed(m, 2, PRICE)[2], headers=m["creator"]).status_code == 201
    r = client.post("/market/orders", json=_signed(m, 2, low)[2], headers=m["creator"])
    assert r.status_code == 422 and "outside the band" in r.json()["detail"]

    buy(third, CREATOR, 2, low)  # another seller and buyer confirm the move: now it halts
    _index(m)
    client.get("/market/orders", params={"chain_id": 31337})
    view = _view(m)
    assert view["halted_until"] is not None and _halted_on_chain(m)
    halt = [d for d in view["decisions"] if d["action"] == "halt"]
    assert len(halt) == 1 and "by 4 accounts" in halt[0]["reason"]


def test_put_and_patch_change_only_the_fields_given(market):
    m, client = market, market["client"]
    officer = login(client, OFFICER)
    url = f"/market/breaker/31337/{m['collection']}"
    band = _marketplace(m).functions.priceBand
    r = client.put(url, json={"operator_reference": PRICE, "band_bps": 1000, "max_rejections": 4,
                              "secondary_sales": False}, headers=officer)
    assert r.status_code == 200, r.text
    on_chain = band(m["collection"], "0x" + "00" * 20).call()
    assert on_chain == [PRICE * 9 // 10, PRICE * 11 // 10]
    r = client.patch(url, json={"cooldown_s": 7, "min_distinct_accounts": 2}, headers=officer)
    assert r.status_code == 200, r.text
    policy = r.json()["policy"]
    assert (policy["operator_reference"], policy["band_bps"], policy["max_rejections"], policy["secondary_sales"],
            policy["cooldown_s"], policy["min_distinct_accounts"]) == (PRICE, 1000, 4, False, 7, 2)
    assert band(m["collection"], "0x" + "00" * 20).call() == on_chain  # the chain's band was not cleared
    r = client.put(url, json={"max_refusals_per_account": 2}, headers=officer)  # PUT is a patch too
    policy = r.json()["policy"]
    assert (policy["operator_reference"], policy["cooldown_s"], policy["max_refusals_per_account"]) == (PRICE, 7, 2)
    r = client.patch(url, json={"operator_reference": None}, headers=officer)  # null clears a field
    assert r.status_code == 200 and r.json()["policy"]["operator_reference"] is None
    assert r.json()["policy"]["band_bps"] == 1000
    assert band(m["collection"], "0x" + "00" * 20).call() == [0, 2**256 - 1]
    assert client.patch(url, json={"cooldown_s": 9}, headers=m["creator"]).status_code == 403
    assert client.patch(url, json={"min_distinct_accounts": 0}, headers=officer).status_code == 422
