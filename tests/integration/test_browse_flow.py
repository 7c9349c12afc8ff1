"""Browse and search against real anvils, the index and the API (SQLite and PostgreSQL): a creator
mints four tagged works through the API (a royalty split, license terms on one), lists them, two
collectors buy some; the indexer follows the chain; then GET /works searches by words and tags,
filters (creator, media type, listed, price range), sorts (newest, price both ways) and pages; a
work's page holds its price history, listings and provenance summary; related works are ranked by
shared tags and buyers with their reason; another uploader of the same bytes cannot retitle or
retag the work. Then the console: ``chainright mint --tag``, ``works search|show|related``."""

from __future__ import annotations

import json
import secrets
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
from chain.orders import MarketDomain, listing, sign_order
from chain.settings import ChainSettings
from chainright.mint_license import minted_token_ids
from did.settings import DidSettings
from record.index import EventDecoder, Indexer, IndexStore
from record.index.service import CHILD_RULES
from tests.support.api_flow import OFFICER, login, ok, send, verified_login

pytestmark = pytest.mark.integration

CREATOR, COLLECTOR, SECOND = dev_account(1), dev_account(2), dev_account(8)
RIGHTS, ISSUER, CHANNEL = dev_account(3), dev_account(4), dev_account(7)
ETH = 10**18


@pytest.fixture(scope="module")
def deployed(two_chains: ChainSettings, artifacts) -> ChainSettings:
    deploy_to_chains(two_chains, two_chains.specs("all"))
    return two_chains


def _index(deployed: ChainSettings, database, web3, artifacts) -> None:  # type: ignore[no-untyped-def]
    registry = DeploymentRegistry(deployed.deployments_file)
    indexer = Indexer(web3, 31337, IndexStore(database.engine),
                      EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()}), rules=CHILD_RULES)
    indexer.watch((d.address, d.artifact or d.contract, d.block) for d in registry.for_chain(31337).values())
    indexer.run_until_caught_up()


def _list(client, web3, artifacts, market, seller, headers, collection, token_id: int,  # type: ignore[no-untyped-def]
          price: int, currency: str = "0x" + "00" * 20) -> str:
    marketplace = web3.eth.contract(address=market, abi=artifacts.get("Marketplace").abi)
    nft = web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    counter = marketplace.functions.counterOf(seller.address).call()
    epoch = int(nft.functions.holdingEpoch(seller.address, token_id).call())
    now = int(time.time())
    order = listing(seller=seller.address, token=collection, token_id=token_id, unit_price=price,
                    start=now - 60, expiry=now + 3600, counter=counter, holding_epoch=epoch, currency=currency)
    signed = sign_order(order, MarketDomain(31337, market), seller)
    body = {"chain_id": 31337, "side": "listing", "signer": order.signer, "token": order.token,
            "token_id": token_id, "unit_price": price, "start": order.start, "expiry": order.expiry,
            "salt": order.salt, "counter": counter, "holding_epoch": epoch, "currency": currency,
            "signature": "0x" + signed.signature.hex()}
    return str(ok(client.post("/market/orders", json=body, headers=headers), 201)["order_hash"])


def _buy(client, web3, buyer, headers, order_hash: str) -> None:  # type: ignore[no-untyped-def]
    tx = ok(client.post(f"/market/orders/{order_hash}/fill-tx", json={"amount": 1}, headers=headers))
    assert send(web3, buyer, tx)["status"] == 1


@pytest.fixture
def shop(deployed, database, tmp_path, artifacts):
    """Four works of one fresh collection, tagged with this run's tag; A and C sold to the collector,
    B listed at 0.5 ETH, D listed at 3 ETH with commercial license terms."""
    officer_did = f"did:pkh:eip155:31337:{OFFICER.address}"
    settings = ApiSettings(environment="test", data_dir=tmp_path, siwe_domain="testserver",
                           siwe_uri="http://testserver", role_grants={officer_did: ["kyc_officer", "risk"]})
    app = create_app(settings, db=database, chain_settings=deployed, did_settings=DidSettings(environment="test"))
    client = TestClient(app, raise_server_exceptions=False)
    web3 = connect(deployed.spec("home"))
    creator = verified_login(client, CREATOR)
    run = f"run-{secrets.token_hex(4)}"
    split = ok(client.post("/splits/tx", json={"chain_id": 31337, "rights_holder": RIGHTS.address,
                                               "issuer": ISSUER.address, "channel": CHANNEL.address},
                           headers=creator))
    if not split["already_exists"]:
        send(web3, CREATOR, split["transaction"])
    out = ok(client.post("/collections/tx", json={"chain_id": 31337, "name": f"Browse {run}", "symbol": "BRW",
                                                  "royalty_receiver": split["splitter"], "royalty_bps": 1000},
                         headers=creator))
    send(web3, CREATOR, out["transaction"])
    collection = out["predicted_address"]
    works = {}
    for name, title, tags, media in (
            ("A", "Harbour at Dawn", [run, "Sea", "#dawn"], "image/png"),
            ("B", "Harbour at Dusk", [f"{run},sea"], "image/png"),
            ("C", "Fox Song", [run, "animal"], "audio/mpeg"),
            ("D", "Quiet Fox", [run, "animal"], "image/jpeg")):
        asset = ok(client.post("/assets", files={"file": (f"{name}.bin", f"{run} {title}".encode(), media)},
                               data={"title": title, "description": f"work {name} of {run}", "tags": tags},
                               headers=creator), 201)
        receipt = send(web3, CREATOR, ok(client.post(f"/assets/{asset['cid']}/mint-tx", json={
            "chain_id": 31337, "collection": collection}, headers=creator)))
        (works[name],) = minted_token_ids(web3, collection, receipt)
        works[name + "_asset"] = asset
    market = DeploymentRegistry(deployed.deployments_file).address(31337, "Marketplace")
    nft = web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    from chain.tx import TxSender

    owner = TxSender(web3, CREATOR)
    owner.transact(owner.call_tx(nft.functions.setApprovalForAll(market, True)))
    lic = ok(client.post("/licenses/tx", json={"chain_id": 31337, "collection": collection,
                                               "token_ids": [works["D"]], "template": "commercial",
                                               "fee_wei": 10**16}, headers=creator))
    for tx in ([lic["publish"]] if lic["publish"] else []) + lic["attach"]:
        send(web3, CREATOR, tx)
    collector, second = verified_login(client, COLLECTOR), verified_login(client, SECOND)
    orders = {name: _list(client, web3, artifacts, market, CREATOR, creator, collection, works[name], price)
              for name, price in (("A", ETH), ("B", ETH // 2), ("C", 2 * ETH), ("D", 3 * ETH))}
    _buy(client, web3, COLLECTOR, collector, orders["A"])
    _buy(client, web3, COLLECTOR, collector, orders["C"])
    _index(deployed, database, web3, artifacts)
    return {"client": client, "web3": web3, "creator": creator, "collector": collector, "second": second,
            "collection": collection, "works": works, "orders": orders, "run": run, "database": database,
            "deployed": deployed, "artifacts": artifacts, "tmp_path": tmp_path}


def _search(client, **params):  # type: ignore[no-untyped-def]
    return ok(client.get("/works", params=params))


def _names(shop, page) -> list[str]:  # type: ignore[no-untyped-def]
    by_id = {str(v): k for k, v in shop["works"].items() if not k.endswith("_asset")}
    return [by_id[w["token_id"]] for w in page["works"] if w["collection"] == shop["collection"]]


def _search_filters_sorting_pages_and_cards(shop):  # type: ignore[no-untyped-def]
    client, run, coll = shop["client"], shop["run"], shop["collection"]
    assert _names(shop, _search(client, tag=run)) == ["D", "C", "B", "A"]  # newest first
    assert _names(shop, _search(client, tag=[run, "SEA"])) == ["B", "A"]
    assert _names(shop, _search(client, tag=run, q="fox")) == ["D", "C"]
    assert _names(shop, _search(client, q=f"harbour dusk {run}")) == ["B"]  # description words count
    assert _names(shop, _search(client, tag=run, media_type="image")) == ["D", "B", "A"]
    assert _names(shop, _search(client, tag=run, media_type="audio/mpeg")) == ["C"]
    assert _names(shop, _search(client, tag=run, listed="true", sort="price_asc")) == ["B", "D"]
    assert _names(shop, _search(client, tag=run, min_price_wei=ETH)) == ["D"]
    assert _names(shop, _search(client, tag=run, max_price_wei=ETH)) == ["B"]
    assert _names(shop, _search(client, tag=run, creator=CREATOR.address)) == ["D", "C", "B", "A"]
    assert _names(shop, _search(client, tag=run, creator=COLLECTOR.address)) == []
    assert _names(shop, _search(client, collection=coll, sort="price_desc")) == ["D", "B", "C", "A"]
    for sort in ("newest", "price_asc", "price_desc"):
        whole = _names(shop, _search(client, tag=run, sort=sort, limit=100))
        seen, cursor = [], None
        while True:
            page = _search(client, tag=run, sort=sort, limit=1, **({"cursor": cursor} if cursor else {}))
            seen += _names(shop, page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == whole
    (d,) = _search(client, tag=run, min_price_wei=ETH)["works"]
    assert d["title"] == "Quiet Fox" and d["media_type"] == "image/jpeg" and d["tags"] == ["animal", run]
    assert d["price"]["text"] == "3 ETH (3000000000000000000 wei)" and d["listing"] == shop["orders"]["D"]
    assert d["creator"] == CREATOR.address and d["minted_at"].endswith("Z")
    assert d["royalty"].startswith("10% royalty on every sale, split 30% to") and len(d["split"]) == 3
    assert d["licenses"][0]["summary"].startswith("commercial use; no derivatives")
    assert d["licenses"][0]["fee"]["wei"] == str(10**16)
    refused = client.get("/works", params={"sort": "price_asc", "cursor": page["next_cursor"] or "bm90"})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    assert client.get("/works", params={"tag": "a%"}).status_code == 422


def _a_work_page_and_related_works(shop):  # type: ignore[no-untyped-def]
    client, coll, works, run = shop["client"], shop["collection"], shop["works"], shop["run"]
    page = ok(client.get(f"/catalog/works/31337/{coll}/{works['A']}"))
    m = page["market"]
    assert page["owner"] == COLLECTOR.address and m["card"]["title"] == "Harbour at Dawn"
    assert m["card"]["tags"] == ["dawn", run, "sea"] and m["card"]["price"] is None and m["listings"] == []
    (sale,) = m["price_history"]
    assert sale["buyer"] == COLLECTOR.address and sale["unit_price"]["wei"] == str(ETH) and sale["kind"] == "listing"
    assert sale["at"].endswith("Z")
    assert m["provenance"]["sales"] == 1 and m["provenance"]["transfers"] == 1
    assert m["provenance"]["story"] == f"/provenance/31337/{coll}/{works['A']}"
    d = ok(client.get(f"/catalog/works/31337/{coll}/{works['D']}"))["market"]
    assert [o["order_hash"] for o in d["listings"]] == [shop["orders"]["D"]]
    assert d["listings"][0]["unit_price"]["eth"] == "3"

    rel = ok(client.get(f"/works/31337/{coll}/{works['A']}/related", params={"limit": 50}))
    assert rel["subject"]["token_id"] == str(works["A"])
    mine = [(r["work"]["token_id"], r["reason"]) for r in rel["related"] if r["work"]["collection"] == coll]
    assert mine == [
        (str(works["C"]), f"1 shared tag ({run}); bought by 1 collector who bought this one too"),
        (str(works["B"]), f"2 shared tags ({run}, sea)"),
        (str(works["D"]), f"1 shared tag ({run})"),
    ]
    assert client.get(f"/works/31337/{coll}/999999/related").status_code == 404
    (mine_c,) = [c for c in ok(client.get("/works/collections", params={"creator": CREATOR.address, "limit": 100}))
                 if c["collection"] == coll]
    assert (mine_c["name"], mine_c["works"], mine_c["listed"]) == (f"Browse {run}", 4, 2)
    assert mine_c["floor"]["text"] == "0.5 ETH (500000000000000000 wei)"
    assert mine_c["royalty"].startswith("10% royalty on every sale, split 30% to")


def _another_uploader_cannot_retitle_or_retag(shop):  # type: ignore[no-untyped-def]
    client, run, asset = shop["client"], shop["run"], shop["works"]["A_asset"]
    again = ok(client.post("/assets", files={"file": ("x.bin", f"{run} Harbour at Dawn".encode(), "image/png")},
                           data={"title": "Stolen", "description": "spam", "tags": ["spam", "sea"]},
                           headers=shop["second"]), 201)
    assert again["cid"] == asset["cid"] and again["title"] == "Harbour at Dawn" and "spam" not in again["tags"]
    (a,) = _search(client, tag=[run, "dawn"])["works"]
    assert a["title"] == "Harbour at Dawn" and a["tags"] == ["dawn", run, "sea"]
    assert _names(shop, _search(client, tag="spam")) == [] and _names(shop, _search(client, q="stolen")) == []


def _license(shop, holder, headers, token: str, template: str) -> None:  # type: ignore[no-untyped-def]
    lic = ok(shop["client"].post("/licenses/tx", json={"chain_id": 31337, "collection": shop["collection"],
                                                       "token_ids": [shop["works"][token]], "template": template},
                                 headers=headers))
    for tx in ([lic["publish"]] if lic["publish"] else []) + lic["attach"]:
        send(shop["web3"], holder, tx)


def _explore_filters_currency_license_jurisdiction(shop):  # type: ignore[no-untyped-def]
    """Issue #19's Explore filters. Currency: the collector lists A in WETH at B's price (A and B then
    differ only in currency). License: B gets personal terms, C (the collector's) remix terms, D has
    commercial ones. Jurisdiction: a second collection's work E, whose policy the risk officer changes
    rule by rule. Each filter alone, combined, and an invalid value (a 422 problem naming it)."""
    client, web3, run, artifacts = shop["client"], shop["web3"], shop["run"], shop["artifacts"]
    registry = DeploymentRegistry(shop["deployed"].deployments_file)
    market, weth = registry.address(31337, "Marketplace"), registry.address(31337, "WrappedEther")
    from chain.tx import TxSender

    nft = web3.eth.contract(address=shop["collection"], abi=artifacts.get("CreatorCollection").abi)
    holder = TxSender(web3, COLLECTOR)
    holder.transact(holder.call_tx(nft.functions.setApprovalForAll(market, True)))
    weth_order = _list(client, web3, artifacts, market, COLLECTOR, shop["collector"], shop["collection"],
                       shop["works"]["A"], ETH // 2, currency=weth)
    _license(shop, CREATOR, shop["creator"], "B", "personal")
    _license(shop, COLLECTOR, shop["collector"], "C", "remix")
    other = ok(client.post("/collections/tx", json={"chain_id": 31337, "name": f"Ruled {run}", "symbol": "RUL"},
                           headers=shop["creator"]))
    send(web3, CREATOR, other["transaction"])
    ruled = other["predicted_address"]
    asset = ok(client.post("/assets", files={"file": ("E.bin", f"{run} Ruled".encode(), "image/png")},
                           data={"title": "Ruled Work", "tags": [run]}, headers=shop["creator"]), 201)
    send(web3, CREATOR, ok(client.post(f"/assets/{asset['cid']}/mint-tx", json={
        "chain_id": 31337, "collection": ruled}, headers=shop["creator"])))
    _index(shop["deployed"], shop["database"], web3, artifacts)

    def names(**params):  # type: ignore[no-untyped-def]
        page = _search(client, tag=run, limit=100, **params)
        return sorted(_names(shop, page) + ["E" for w in page["works"] if w["collection"] == ruled])

    assert names(currency=weth) == ["A"] and names(currency=weth.lower()) == ["A"]
    assert names(currency="ETH") == ["B", "D"] and names(currency="eth", max_price_wei=ETH) == ["B"]
    assert names(currency=weth, max_price_wei=ETH // 2, min_price_wei=ETH // 2) == ["A"]
    assert names(currency=weth, min_price_wei=ETH) == []
    assert names(max_price_wei=ETH) == ["A", "B"]  # no currency: the cheapest listing in any, as signed
    (a,) = _search(client, tag=run, currency=weth)["works"]
    assert (a["price"]["wei"], a["price_currency"], a["listing"]) == (str(ETH // 2), weth, weth_order)

    assert names(license="any") == ["B", "C", "D"]
    assert names(license="commercial") == ["C", "D"]
    assert names(license="personal") == ["B"]
    assert names(license="derivatives") == ["C"]

    assert names(jurisdiction="open") == ["A", "B", "C", "D", "E"]
    officer = login(client, OFFICER)
    for rules, profile in (({"secondary_sales": False}, "no_resale"),
                           ({"secondary_sales": True, "identity_required": True}, "verified_only"),
                           ({"identity_required": False, "gift_holding_s": 3600}, "holding_period")):
        ok(client.put(f"/market/breaker/31337/{ruled}", json=rules, headers=officer))
        assert names(jurisdiction=profile) == ["E"], profile
        assert names(jurisdiction="open") == ["A", "B", "C", "D"]
        others = {"no_resale", "verified_only", "holding_period"} - {profile}
        assert all(names(jurisdiction=p) == [] for p in others)

    assert names(currency="ETH", license="commercial", jurisdiction="open") == ["D"]
    assert names(currency="ETH", license="personal", jurisdiction="open", min_price_wei=ETH) == []
    assert names(license="any", jurisdiction="holding_period") == []
    for param, value in (("currency", "EUR"), ("currency", "0x1234"), ("license", "free"),
                         ("jurisdiction", "lawless")):
        refused = client.get("/works", params={param: value})
        assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
        assert param in refused.json()["detail"], refused.json()
    cancelled = ok(client.post(f"/market/orders/{weth_order}/cancel", headers=shop["collector"]))
    assert cancelled["status"] == "cancelled" and names(currency=weth) == []  # the console's checks: as before


def test_browse_search_work_page_related_and_the_console(shop):
    """One platform per database backend (minting and selling take minutes): search, filters,
    sorting and pages; a work's page; related works; an uploader of the same bytes; the Explore
    filters (currency, license, jurisdiction); then, on SQLite, the console commands."""
    _search_filters_sorting_pages_and_cards(shop)
    _a_work_page_and_related_works(shop)
    _another_uploader_cannot_retitle_or_retag(shop)
    _explore_filters_currency_license_jurisdiction(shop)
    if shop["database"].engine.dialect.name == "sqlite":
        _the_works_commands_and_mint_with_tags(shop)


def _the_works_commands_and_mint_with_tags(shop):  # type: ignore[no-untyped-def]
    import threading

    import uvicorn

    from chain.wallet import Wallet
    from tests.conftest import free_port, settings_env

    port = free_port()
    tmp_path, deployed = shop["tmp_path"], shop["deployed"]
    settings = ApiSettings(environment="test", data_dir=tmp_path / "served", siwe_domain=f"127.0.0.1:{port}",
                           siwe_uri=f"http://127.0.0.1:{port}", port=port)
    app = create_app(settings, db=shop["database"], chain_settings=deployed,
                     did_settings=DidSettings(environment="test"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    env = settings_env(deployed) | {"CHAINRIGHT_WALLET_PASSPHRASE": "browse passphrase"}
    wallet = f"browse-{port}"
    Wallet.from_key("0x" + bytes(CREATOR.key).hex()).save(deployed.data_dir / "wallets" / f"{wallet}.json",
                                                          env["CHAINRIGHT_WALLET_PASSPHRASE"])
    api = f"http://127.0.0.1:{port}"

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "chainright", *args, "--api", api], env=env,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, f"{args}: rc {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    try:
        run, coll, works = shop["run"], shop["collection"], shop["works"]
        work = tmp_path / "cli-work.txt"
        work.write_text(f"{run} minted from the console")
        cli("mint", str(work), "--collection", coll, "--tag", f"{run}-cli", "--tag", "Console Made",
            "--title", "From the Console", "--wallet", wallet)
        _index(deployed, shop["database"], shop["web3"], shop["artifacts"])
        found = json.loads(cli("works", "search", "--tag", f"{run}-cli", "--json"))["works"]
        assert [(w["title"], w["tags"]) for w in found] == [("From the Console", ["console-made", f"{run}-cli"])]
        out = cli("works", "search", "harbour", "--tag", run, "--listed", "--max-price", "1")
        assert "Harbour at Dusk" in out and "0.5 ETH (500000000000000000 wei)" in out and "Dawn" not in out
        ordered = json.loads(cli("works", "search", "--tag", run, "--sort", "price_desc", "--min-price", "0.1",
                                 "--json"))["works"]
        assert [w["title"] for w in ordered] == ["Quiet Fox", "Harbour at Dusk"]
        shown = cli("works", "show", "home", coll, str(works["A"]))
        assert "sold 20" in shown and "1 ETH (1000000000000000000 wei)" in shown and "provenance:" in shown
        assert f"owner {COLLECTOR.address}" in shown
        listed = cli("works", "collections", "--creator", CREATOR.address, "--limit", "100")
        assert f"Browse {run}  chain 31337  {coll}: 5 works, 2 listed, floor 0.5 ETH" in listed
        related = cli("works", "related", "home", coll, str(works["A"]), "--limit", "50")
        assert "why: 1 shared tag" in related and "bought by 1 collector" in related
        chosen = json.loads(cli("works", "search", "--tag", run, "--currency", "ETH", "--license", "commercial",
                                "--jurisdiction", "open", "--json"))["works"]
        assert [w["title"] for w in chosen] == ["Quiet Fox"]
        ruled = json.loads(cli("works", "search", "--tag", run, "--jurisdiction", "holding_period", "--json"))
        assert [w["title"] for w in ruled["works"]] == ["Ruled Work"]
        weth = DeploymentRegistry(deployed.deployments_file).address(31337, "WrappedEther")
        assert json.loads(cli("works", "search", "--tag", run, "--currency", weth, "--json"))["works"] == []
        personal = cli("works", "search", "--tag", run, "--license", "personal")
        assert "Harbour at Dusk" in personal and "Fox" not in personal and "Dawn" not in personal
    finally:
        server.should_exit = True
        thread.join(timeout=10)
