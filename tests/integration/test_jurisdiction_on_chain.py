"""The API pushes a collection's jurisdiction profile to the TransferPolicy, and the collection then
refuses what the API refuses even when nobody asks the API: a buyer who fills a holder's signed
listing directly on the marketplace, a holder who transfers before the holding period. Clearing the
profile detaches the policy."""

from __future__ import annotations

import time

import pytest
from web3.exceptions import ContractLogicError

from chain.deployments import DeploymentRegistry
from chain.orders import listing, sign_order
from tests.integration.test_market_flow import (  # noqa: F401  (fixtures)
    COLLECTOR,
    PRICE,
    STRANGER,
    _listing,
    deployed,
    market,
)
from tests.support.api_flow import OFFICER, login, send, verified_login

pytestmark = pytest.mark.integration

ZERO = "0x" + "00" * 20


def _contract(m, name: str, address: str | None = None):
    registry = DeploymentRegistry(m["deployed"].deployments_file)
    return m["web3"].eth.contract(address=address or registry.address(31337, name),
                                  abi=m["artifacts"].get(name).abi)


def test_the_profile_is_pushed_on_chain_and_a_direct_fill_or_early_transfer_reverts(market):  # noqa: F811
    m, client, web3 = market, market["client"], market["web3"]
    officer = login(client, OFFICER)
    policy, marketplace = _contract(m, "TransferPolicy"), _contract(m, "Marketplace")
    # The deploy wired it: the marketplace is its sale venue, the lockbox a bridge, the registry names it.
    assert policy.functions.venueOf(marketplace.address).call() == 1
    assert policy.functions.venueOf(_contract(m, "HomeLockbox").address).call() == 2
    assert _contract(m, "RightsRegistry").functions.transferPolicy().call() == policy.address
    r = client.put(f"/market/breaker/31337/{m['collection']}",
                   json={"secondary_sales": False, "gift_holding_s": 3600}, headers=officer)
    assert r.status_code == 200, r.text
    assert tuple(policy.functions.rulesOf(m["collection"]).call()) == (True, True, False, 3600)
    assert m["nft"].functions.transferPolicy().call() == policy.address
    again = client.put(f"/market/breaker/31337/{m['collection']}",
                       json={"secondary_sales": False, "gift_holding_s": 3600}, headers=officer)
    assert again.status_code == 200  # nothing to send the second time (read first)

    sale = client.post("/market/orders", json=_listing(m, 1, PRICE), headers=m["creator"]).json()["order_hash"]
    collector = verified_login(client, COLLECTOR)
    send(web3, COLLECTOR, client.post(f"/market/orders/{sale}/fill-tx", json={"amount": 1},
                                      headers=collector).json())  # the creator's primary sale
    assert m["nft"].functions.ownerOf(1).call() == COLLECTOR.address

    from chain.tx import TxSender

    holder = TxSender(web3, COLLECTOR)
    holder.transact(holder.call_tx(m["nft"].functions.setApprovalForAll(marketplace.address, True)))
    now = int(time.time())
    order = listing(seller=COLLECTOR.address, token=m["collection"], token_id=1, unit_price=PRICE,
                    start=now - 60, expiry=now + 3600, counter=0,
                    holding_epoch=m["nft"].functions.holdingEpoch(COLLECTOR.address, 1).call())
    signed = sign_order(order, m["domain"], COLLECTOR)
    fill = marketplace.functions.fillListing(order.as_tuple(), signed.signature, 1)
    with pytest.raises(ContractLogicError):  # the API would say 422; the chain now says no as well
        fill.call({"from": STRANGER.address, "value": PRICE})
    gift = m["nft"].functions.transferFrom(COLLECTOR.address, STRANGER.address, 1)
    with pytest.raises(ContractLogicError):  # within the holding period
        gift.call({"from": COLLECTOR.address})

    cleared = client.put(f"/market/breaker/31337/{m['collection']}",
                         json={"secondary_sales": True, "gift_holding_s": 0}, headers=officer)
    assert cleared.status_code == 200, cleared.text
    assert policy.functions.rulesOf(m["collection"]).call()[0] is False
    assert m["nft"].functions.transferPolicy().call() == ZERO
    fill.call({"from": STRANGER.address, "value": PRICE})  # the same fill passes once the profile is gone
    gift.call({"from": COLLECTOR.address})
