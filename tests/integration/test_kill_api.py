"""The API SIGKILLed while an order is being posted, at every point of the request that writes: before
the order is admitted, after its row is flushed (not committed). After a
restart over the same database, the client's retry with an Idempotency-Key converges: it gets the
one order (created now, or by the crashed attempt), never a second order and never a conflict about
its own order. Posting orders is idempotent by content (a signed order is its own key), so no
idempotency record is kept for it: a keyed retry is answered with the order the caller stored."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.client import ChainrightClient
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.orders import MarketDomain, listing, order_hash, sign_order
from chain.settings import ChainSettings
from chain.tx import TxSender
from chain.wallet import Wallet
from tests.integration.kill_env import KillAt, api_process
from tests.support.api_flow import APPLICATION, OFFICER

pytestmark = pytest.mark.integration

CREATOR = dev_account(1)
STALE_S = "1"
"""An in-progress idempotency record older than this belongs to a request that died."""


@pytest.fixture(scope="module")
def platform(two_chains: ChainSettings, artifacts, tmp_path_factory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Contracts deployed, the creator KYC-verified with eight minted tokens approved to the market."""
    deploy_to_chains(two_chains, two_chains.specs("all"))
    data = tmp_path_factory.mktemp("api-kill")
    home = connect(two_chains.spec("home"))
    with api_process(two_chains, data, name="setup") as (base, _):
        officer = ChainrightClient(base, Wallet(OFFICER), 31337)
        officer.login()
        creator = ChainrightClient(base, Wallet(CREATOR), 31337)
        creator.login()
        application = creator.kyc_apply(APPLICATION | {"document_number": f"KILL-{uuid.uuid4().hex[:8]}"})
        officer.kyc_approve(application["id"], 2)
        out = creator.collection_tx("Kill Works", "KILL", None, 500)
        Wallet(CREATOR).send(home, out["transaction"])
        collection = out["predicted_address"]
        work = data / "work.txt"
        work.write_bytes(b"a work posted while the API dies " + uuid.uuid4().bytes)
        cid = creator.upload(work)["cid"]
        Wallet(CREATOR).send(home, creator.mint_tx(cid, collection, quantity=8))
    nft = home.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    market = DeploymentRegistry(two_chains.deployments_file).address(31337, "Marketplace")
    sender = TxSender(home, CREATOR)
    sender.transact(sender.call_tx(nft.functions.setApprovalForAll(market, True)))
    # the session's chains are shared with other modules: the creator's order counter may have moved
    counter = int(home.eth.contract(address=market, abi=artifacts.get("Marketplace").abi)
                  .functions.counterOf(CREATOR.address).call())
    return {"chains": two_chains, "data": data, "collection": collection, "domain": MarketDomain(31337, market),
            "counter": counter}


def _body(platform: dict[str, Any], token_id: int) -> tuple[dict[str, Any], str]:
    now = int(time.time())
    order = listing(seller=CREATOR.address, token=platform["collection"], token_id=token_id, unit_price=10**15,
                    start=now - 60, expiry=now + 3600, counter=platform["counter"], holding_epoch=0)
    signed = sign_order(order, platform["domain"], CREATOR)
    body = {"chain_id": 31337, "side": "listing", "signer": order.signer, "token": order.token,
            "token_id": token_id, "unit_price": order.unit_price, "start": order.start, "expiry": order.expiry,
            "salt": order.salt, "counter": platform["counter"], "holding_epoch": 0,
            "signature": "0x" + bytes(signed.signature).hex()}
    return body, "0x" + order_hash(order, platform["domain"]).hex()


def _token(base: str) -> str:
    client = ChainrightClient(base, Wallet(CREATOR), 31337)
    client.login()
    assert client.token is not None
    return client.token


KILL_POINTS = {
    "before the order is admitted": (KillAt("api.routers.market:admit", "before"), 1),
    "after its row is flushed, before the commit": (KillAt("api.routers.market:admit", "after"), 2),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_an_order_posted_while_the_api_is_killed_is_created_once_and_its_key_converges(platform, point):
    kill, token_id = KILL_POINTS[point]
    body, expected = _body(platform, token_id)
    key = f"kill-{uuid.uuid4().hex}"
    data: Path = platform["data"]
    with api_process(platform["chains"], data, kill, name="armed") as (base, armed):
        headers = {"Authorization": f"Bearer {_token(base)}", "Idempotency-Key": key}
        try:
            first = httpx.post(f"{base}/market/orders", json=body, headers=headers, timeout=30)
            answered = first.status_code
        except httpx.HTTPError:
            answered = None  # the connection died with the process
        assert armed.killed_at_point(), (answered, armed.log.read_text()[-2000:])

    with api_process(platform["chains"], data, name="restarted", CHAINRIGHT_API_IDEMPOTENCY_STALE_S=STALE_S) \
            as (base, _):
        headers = {"Authorization": f"Bearer {_token(base)}", "Idempotency-Key": key}
        time.sleep(float(STALE_S) + 0.5)
        retry = httpx.post(f"{base}/market/orders", json=body, headers=headers, timeout=30)
        assert retry.status_code == 201, (point, retry.status_code, retry.text)
        assert retry.json()["order_hash"] == expected
        again = httpx.post(f"{base}/market/orders", json=body, headers=headers, timeout=30)
        assert again.status_code == 201 and again.json() == retry.json(), again.text
        book = httpx.get(f"{base}/market/orders", params={"chain_id": 31337, "token": platform["collection"],
                                                          "token_id": token_id, "status": "open"}).json()
        assert [o["order_hash"] for o in book] == [expected]
        # Without a key, the same signed order is a duplicate.
        other = httpx.post(f"{base}/market/orders", json=body, timeout=30,
                           headers={"Authorization": headers["Authorization"]})
        assert other.status_code == 409, other.text
