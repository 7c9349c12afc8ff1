"""A creator's collection admin (issue #18): royalty, URI prefix, metadata freeze, identity policy,
minters and owner, through ``POST /collections/{chain_id}/{collection}/admin-tx`` and
``chainright collection set``, against real anvils, each transaction signed by the owner's wallet.

Only the owner (``owner()`` on chain) gets the transactions: anyone else is a 403 for every setting,
and the contract refuses them the same calls. The world is the one test_reach_routes builds."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from web3.exceptions import ContractCustomError

from tests.integration import test_reach_routes as reach
from tests.integration.test_reach_routes import COLLECTOR, CREATOR, RECEIVER, STRANGER, ZERO, cli, ok, refused
from tests.support.api_flow import login, send

pytestmark = pytest.mark.integration
deployed, world, served = reach.deployed, reach.world, reach.served  # the same fixtures, this module's chains

EVERY_SETTING: list[dict[str, Any]] = [
    {"royalty_receiver": STRANGER.address, "royalty_bps": 9000},
    {"uri_prefix": "https://evil.example/"},
    {"freeze_metadata": True},
    {"identity_registry": STRANGER.address, "require_verified_holders": False},
    {"minter": STRANGER.address, "minter_allowed": True},
    {"new_owner": STRANGER.address},
]


def _admin(w: dict[str, Any], headers: dict[str, str], body: dict[str, Any]) -> Any:
    return w["client"].post(f"/collections/31337/{w['collection']}/admin-tx", json=body, headers=headers)


def _apply(w: dict[str, Any], body: dict[str, Any], account: Any = CREATOR,
           headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    out = ok(_admin(w, headers or w["creator"], body))
    for item in out["transactions"]:
        assert send(w["web3"], account, item["transaction"])["status"] == 1, item["setting"]
    return list(out["transactions"])


def test_the_owner_changes_royalty_prefix_freeze_and_minters_and_the_chain_reflects_it(world):
    w, nft = world, world["nft"]
    _apply(w, {"royalty_receiver": COLLECTOR.address, "royalty_bps": 250})
    assert nft.functions.royaltyInfo(1, 10_000).call() == [COLLECTOR.address, 250]

    _apply(w, {"uri_prefix": "https://meta.example/"})
    assert nft.functions.tokenURI(1).call().startswith("https://meta.example/")

    # a named minter then mints a work of its own in the creator's collection; before, it could not
    cid = ok(w["client"].post("/assets", files={"file": ("m.png", b"the minter's own work " + secrets.token_bytes(8), "image/png")},
                              headers=w["collector"]), 201)["cid"]
    mint = {"chain_id": 31337, "collection": w["collection"]}
    refused(w["client"].post(f"/assets/{cid}/mint-tx", json=mint, headers=w["collector"]), 422, "may not mint")
    _apply(w, {"minter": COLLECTOR.address, "minter_allowed": True})
    assert nft.functions.isMinter(COLLECTOR.address).call()
    supply = nft.functions.totalSupply().call()
    assert send(w["web3"], COLLECTOR, ok(w["client"].post(f"/assets/{cid}/mint-tx", json=mint,
                                                          headers=w["collector"])))["status"] == 1
    assert nft.functions.totalSupply().call() == supply + 1
    _apply(w, {"minter": COLLECTOR.address, "minter_allowed": False})
    assert not nft.functions.isMinter(COLLECTOR.address).call()

    (frozen,) = _apply(w, {"freeze_metadata": True})
    assert frozen["setting"] == "freeze_metadata" and nft.functions.metadataFrozen().call()
    refused(_admin(w, w["creator"], {"uri_prefix": "https://other.example/"}), 422, "frozen")
    refused(_admin(w, w["creator"], {"freeze_metadata": True}), 422, "frozen")  # the contract's words
    assert nft.functions.tokenURI(1).call().startswith("https://meta.example/")


def test_the_owner_sets_the_identity_policy_with_the_platform_registry_by_default(world):
    w, nft = world, world["nft"]
    registry = reach.DeploymentRegistry(w["deployed"].deployments_file).address(31337, "IdentityRegistry")
    (tx,) = _apply(w, {"require_verified_holders": True})
    assert tx["setting"] == "identity_policy"
    assert nft.functions.identityPolicy().call() == [registry, True]
    _apply(w, {"require_verified_holders": False, "identity_registry": ZERO})
    assert nft.functions.identityPolicy().call() == [ZERO, False]


def test_an_editions_collection_takes_royalty_minter_and_owner_and_refuses_the_rest_in_words(world):
    w = world
    out = ok(w["client"].post("/collections/tx", json={"chain_id": 31337, "name": "Ed", "symbol": "ED",
                                                       "standard": "erc1155"}, headers=w["creator"]))
    assert send(w["web3"], CREATOR, out["transaction"])["status"] == 1
    editions = out["predicted_address"]
    post = w["client"].post
    for body in ({"uri_prefix": "https://x/"}, {"freeze_metadata": True}, {"require_verified_holders": False}):
        refused(post(f"/collections/31337/{editions}/admin-tx", json=body, headers=w["creator"]), 422,
                "editions (ERC-1155)")
    refused(post(f"/collections/31337/{editions}/admin-tx", json={"new_owner": STRANGER.address},
                 headers=w["collector"]), 403, "only the collection's owner")
    done = ok(post(f"/collections/31337/{editions}/admin-tx", json={
        "royalty_receiver": RECEIVER.address, "royalty_bps": 700, "minter": COLLECTOR.address,
        "minter_allowed": True}, headers=w["creator"]))["transactions"]
    for item in done:
        assert send(w["web3"], CREATOR, item["transaction"])["status"] == 1
    contract = w["web3"].eth.contract(address=editions, abi=w["artifacts"].get("Editions1155").abi)
    assert contract.functions.royaltyInfo(1, 10_000).call() == [RECEIVER.address, 700]
    assert contract.functions.isMinter(COLLECTOR.address).call()


def test_several_settings_in_one_request_come_back_in_sending_order_with_the_new_owner_last(world):
    w, nft = world, world["nft"]
    done = _apply(w, {"new_owner": COLLECTOR.address, "royalty_receiver": RECEIVER.address, "royalty_bps": 100,
                      "minter": STRANGER.address, "minter_allowed": True})
    assert [t["setting"] for t in done] == ["royalty", "minter", "owner"]
    assert "no acceptance step" in done[-1]["summary"]
    assert nft.functions.owner().call() == COLLECTOR.address  # one-step: at once
    # the old owner is now refused, the new one served
    refused(_admin(w, w["creator"], {"royalty_receiver": CREATOR.address, "royalty_bps": 0}), 403,
            COLLECTOR.address)
    _apply(w, {"royalty_receiver": COLLECTOR.address, "royalty_bps": 0}, COLLECTOR, w["collector"])
    assert nft.functions.royaltyInfo(1, 10_000).call() == [COLLECTOR.address, 0]


@pytest.mark.parametrize("body", EVERY_SETTING, ids=lambda b: next(iter(b)))
def test_anyone_but_the_owner_is_refused_every_setting_by_the_api_and_by_the_contract(world, body):
    w, nft = world, world["nft"]
    for headers in (w["collector"], login(w["client"], STRANGER)):
        refused(_admin(w, headers, body), 403, "only the collection's owner", CREATOR.address)
    # the same call sent straight to the contract, past the API, reverts on chain
    tx = ok(_admin(w, w["creator"], body))["transactions"][0]["transaction"]
    with pytest.raises(ContractCustomError):
        w["web3"].eth.call({"from": STRANGER.address, "to": tx["to"], "data": tx["data"]})
    assert nft.functions.owner().call() == CREATOR.address


@pytest.mark.parametrize(("body", "words"), [
    ({"royalty_receiver": RECEIVER.address, "royalty_bps": 10_001}, "10000"),
    ({"royalty_receiver": ZERO, "royalty_bps": 100}, "zero address"),
    ({"minter": ZERO, "minter_allowed": True}, "zero address"),
    ({"new_owner": ZERO}, "zero address"),
    ({"royalty_bps": 100}, "together"),
    ({"minter": STRANGER.address}, "together"),
    ({"require_verified_holders": True, "identity_registry": ZERO}, "identity_registry"),
    ({}, "no setting"),
])
def test_values_the_contract_would_refuse_are_refused_in_words_first(world, body, words):
    w = world
    problem = refused(_admin(w, w["creator"], body), 422)
    assert words in str(problem), problem
    assert w["nft"].functions.owner().call() == CREATOR.address


def test_an_address_that_is_not_a_collection_is_a_404(world):
    refused(world["client"].post(f"/collections/31337/{STRANGER.address}/admin-tx", json={"freeze_metadata": True},
                                 headers=world["creator"]), 404, "not a creator's collection")


@pytest.mark.slow  # console processes
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_collection_set_command_drives_the_same_route(served):
    s, nft = served, served["nft"]
    refusal = cli(s, "stranger", "collection", "set", "--collection", s["collection"], "--royalty-bps", "9000",
                  "--royalty-receiver", STRANGER.address, rc=1)
    assert "only the collection's owner" in refusal.stderr
    cli(s, "creator", "collection", "set", "--collection", s["collection"], "--royalty-bps", "300",
        "--royalty-receiver", RECEIVER.address, "--uri-prefix", "https://cli.example/",
        "--minter", COLLECTOR.address, "--allow")
    assert nft.functions.royaltyInfo(1, 10_000).call() == [RECEIVER.address, 300]
    assert nft.functions.tokenURI(1).call().startswith("https://cli.example/")
    assert nft.functions.isMinter(COLLECTOR.address).call()
    cli(s, "creator", "collection", "set", "--collection", s["collection"], "--minter", COLLECTOR.address, "--deny",
        "--freeze-metadata")
    assert not nft.functions.isMinter(COLLECTOR.address).call() and nft.functions.metadataFrozen().call()
    assert "frozen" in cli(s, "creator", "collection", "set", "--collection", s["collection"], "--uri-prefix",
                           "x", rc=1).stderr
    assert "together" in cli(s, "creator", "collection", "set", "--collection", s["collection"], "--royalty-bps",
                             "1", rc=2).stderr
    cli(s, "creator", "collection", "set", "--collection", s["collection"], "--transfer-owner", COLLECTOR.address)
    assert nft.functions.owner().call() == COLLECTOR.address
