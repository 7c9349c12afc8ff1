"""The web app in a real browser (Debian's Chromium driven by Playwright) against the API on anvils
with every contract deployed. The wallet is an EIP-1193 provider injected into each page and
announced through EIP-6963; it forwards JSON-RPC to the local anvil, which signs for its unlocked
development accounts. The browser only ever reaches 127.0.0.1: every other request is aborted and
recorded, and a test fails if there was one.

The journey: a KYC officer approves the creator in the operator console; the creator signs in,
uploads, creates a collection, mints and lists (the first signature prompt is rejected: the page
says so and keeps the price typed); a collector finds the work on Explore, reads what the purchase
pays to whom, signs in and buys; the token moves on chain; the auditor page shows the bundle and the
exact `chainright verify` command. axe-core finds no serious or critical violation on the pages."""

from __future__ import annotations

import json
import os
import re
import secrets
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient
from web3 import Web3
from web3.logs import DISCARD

from api import create_app
from api.db import Database
from api.settings import ApiSettings
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.settings import ChainSettings
from did.settings import DidSettings
from record.index import EventDecoder, Indexer, IndexStore
from record.index.service import CHILD_RULES
from tests.conftest import free_port
from tests.support.api_flow import OFFICER, login, verified_login

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHAINRIGHT_CHROMIUM", "/usr/bin/chromium"))
BUNDLE = ROOT / "api" / "web" / "static" / "dist" / "app.js"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "tests" / "artifacts" / "webapp"
CREATOR, COLLECTOR, NEWCOMER = dev_account(1), dev_account(2), dev_account(8)
TREASURY, RIVAL = dev_account(0), dev_account(9)
"""The marketplace's treasury (the deployer, on a dev chain); a second bidder."""
OFFLINE_FLAGS = [
    "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--disable-background-networking", "--disable-component-update", "--disable-domain-reliability",
    "--disable-sync", "--no-first-run", "--no-default-browser-check", "--metrics-recording-only",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
]
STATE: dict[str, Any] = {}
"""What the journey made (the work page's address), for the accessibility test."""

WALLET_JS = """
(() => {
  const listeners = {};
  const provider = {
    isChainrightInjectedWallet: true,
    async request({ method, params }) {
      // What the page says, at the moment of the prompt, the prompt is for (#signing).
      const box = document.getElementById('signing');
      const words = box && !box.hidden ? box.textContent : '';
      const reply = await window.__testWalletRpc(method, params || [], words);
      if (reply.error) {
        const err = new Error(reply.error.message);
        err.code = reply.error.code;
        err.data = reply.error.data;
        throw err;
      }
      return reply.result;
    },
    on(event, listener) { (listeners[event] ||= []).push(listener); },
    removeListener(event, listener) { listeners[event] = (listeners[event] || []).filter((l) => l !== listener); },
  };
  window.__testWalletEmit = (event, data) => (listeners[event] || []).forEach((l) => l(data));
  const info = Object.freeze({ uuid: '0b8f7f3e-1c0e-4f43-9a53-7d2a55d0c6f1', name: 'Test Wallet',
    icon: 'data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22/%3E', rdns: 'org.chainright.testwallet' });
  const announce = () => window.dispatchEvent(new CustomEvent('eip6963:announceProvider',
    { detail: Object.freeze({ info, provider }) }));
  window.addEventListener('eip6963:requestProvider', announce);
  announce();
})();
"""


class InjectedWallet:
    """The wallet behind the injected provider: one account, anvil signs; ``reject`` lists methods
    whose next prompt the user declines (EIP-1193 error 4001)."""

    PROMPTS = frozenset({"eth_requestAccounts", "personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"})

    def __init__(self, address: str, rpc_url: str) -> None:
        self.address = address
        self.rpc_url = rpc_url
        self.reject: list[str] = []
        self.prompts: list[str] = []
        self.words: list[tuple[str, str]] = []
        """(method, what the page said it was for) for every prompt."""
        self.signed_texts: list[str] = []

    def _forward(self, method: str, params: list[Any]) -> dict[str, Any]:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        request = urllib.request.Request(  # noqa: S310 (the loopback anvil)
            self.rpc_url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310
            reply = json.loads(r.read())
        return {"error": reply["error"]} if "error" in reply else {"result": reply.get("result")}

    def handle(self, method: str, params: list[Any], words: str = "") -> dict[str, Any]:
        if method in self.PROMPTS:
            self.prompts.append(method)
            self.words.append((method, words))
            if method in self.reject:
                self.reject.remove(method)
                return {"error": {"code": 4001, "message": "User rejected the request."}}
        if method in ("eth_requestAccounts", "eth_accounts"):
            return {"result": [self.address]}
        if method == "wallet_switchEthereumChain":
            return {"result": None}
        if method == "personal_sign":
            assert params[1].lower() == self.address.lower()
            self.signed_texts.append(bytes.fromhex(params[0][2:]).decode())
        if method == "eth_signTypedData_v4":
            assert params[0].lower() == self.address.lower()
            if isinstance(params[1], str):
                params = [params[0], json.loads(params[1])]
        if method == "eth_sendTransaction":
            assert params[0]["from"].lower() == self.address.lower()
        return self._forward(method, params)


def _png(seed: str) -> bytes:
    """A small valid PNG (a 24x24 gradient), unique through a text chunk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"".join(bytes((x * 10, y * 10, 160)) for x in range(24)) for y in range(24))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 24, 24, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", b"Comment\x00" + seed.encode()) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def deployed(two_chains: ChainSettings, artifacts: Any) -> ChainSettings:
    deploy_to_chains(two_chains, two_chains.specs("all"))
    return two_chains


@pytest.fixture(scope="module")
def bundle() -> Path:
    """The page script as `make setup` builds it (rebuilt here when a source is newer)."""
    sources = list((ROOT / "api" / "web" / "js").glob("*.js"))
    if not BUNDLE.exists() or max(s.stat().st_mtime for s in sources) > BUNDLE.stat().st_mtime:
        subprocess.run([str(ROOT / "tools" / "build-webapp.sh")], check=True, timeout=120)
    return BUNDLE


@pytest.fixture(scope="module")
def site(deployed: ChainSettings, bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The API (with the web app) served by uvicorn on a loopback port, as `chainright up` serves it."""
    import uvicorn

    data_dir = tmp_path_factory.mktemp("webapp")
    db = Database(f"sqlite:///{data_dir / 'web.db'}")
    db.migrate()
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    # The sign-in origin left at its default (localhost:<port>), as `make up` runs it; the browser opens
    # the address `chainright up` prints, http://127.0.0.1:<port>, and signs in there.
    settings = ApiSettings(environment="test", data_dir=data_dir, port=port,
                           role_grants={f"did:pkh:eip155:31337:{OFFICER.address}": ["kyc_officer", "risk"],
                                        f"did:pkh:eip155:31337:{TREASURY.address}": ["treasury"]})
    app = create_app(settings, db=db, chain_settings=deployed, did_settings=DidSettings(environment="test"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the API never started"
        time.sleep(0.05)
    try:
        yield {"origin": origin, "app": app, "client": TestClient(app, raise_server_exceptions=False), "db": db,
               "deployed": deployed, "rpc": deployed.spec("home").rpc_url}
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        db.dispose()


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run tools/ensure-chromium.sh (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=OFFLINE_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def open_as(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    """``open_as(account)``: a fresh browser profile whose wallet holds ``account``; returns
    (page, wallet). Requests beyond 127.0.0.1 are aborted and fail the test."""
    contexts: list[Any] = []
    offsite: list[str] = []
    wallets: list[InjectedWallet] = []

    def guard(route: Any) -> None:
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            offsite.append(route.request.url)
            route.abort()

    def make(account: Any, *, locale: str = "en-US") -> tuple[Any, InjectedWallet]:
        wallet = InjectedWallet(account.address, site["rpc"])
        wallets.append(wallet)
        context = browser.new_context(base_url=site["origin"], locale=locale,
                                      viewport={"width": 1280, "height": 900})
        context.set_default_timeout(60_000)  # a shared, busy machine
        context.route("**/*", guard)
        context.expose_binding("__testWalletRpc",
                               lambda source, method, params, words="": wallet.handle(method, params, words))
        context.add_init_script(WALLET_JS)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors  # type: ignore[attr-defined]
        return page, wallet

    yield make
    for context in contexts:
        context.close()
    assert not offsite, f"the browser tried to leave loopback: {offsite}"
    # Signing you can read: no wallet prompt in any test opened before the page said what it was for.
    unexplained = [method for w in wallets for method, words in w.words if not words.strip()]
    assert not unexplained, f"wallet prompts with no words on the page first: {unexplained}"


def short_address(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def _axe(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now (evaluated through the
    driver: the page's CSP forbids inline scripts, and stays on)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => (await axe.run(document)).violations"
                           ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))")
    return [f"{v['id']} ({v['impact']}, {v['nodes']} nodes)" for v in result if v["impact"] in ("serious", "critical")]


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


DOC_SHOTS = ROOT / "docs" / "screenshots"


def _doc_shot(page: Any, name: str) -> None:
    """A screenshot for README.md's Web app section (docs/screenshots/, committed): written only when
    CHAINRIGHT_DOC_SCREENSHOTS=1, so that a test run leaves the committed files alone; the first
    screen only (small PNGs)."""
    _shot(page, name)
    if os.environ.get("CHAINRIGHT_DOC_SCREENSHOTS") == "1":
        DOC_SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOC_SHOTS / f"{name}.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 760})


def _ready(page: Any, path: str) -> None:
    page.goto(path)
    page.wait_for_selector("body[data-ready=true]")


def _done(page: Any, selector: str) -> None:
    """Wait for ``selector``; an error notice instead fails at once, with its words."""
    page.wait_for_selector(f"{selector}, #notice.error")
    if page.is_visible("#notice.error") and not page.is_visible(selector):
        raise AssertionError(f"the page says: {page.text_content('#notice')}")


def _sign_in(page: Any) -> None:
    page.click("#connect")
    page.wait_for_selector("#signin:not([hidden])")
    page.click("#signin")
    page.wait_for_selector("#signout:not([hidden])")


def _index(site: dict[str, Any], artifacts: Any, chain: str = "home") -> None:
    """The platform's indexer, caught up once on ``chain`` (home: 31337, remote: 31338)."""
    deployed = site["deployed"]
    spec = deployed.spec(chain)
    web3 = connect(spec)
    registry = DeploymentRegistry(deployed.deployments_file)
    indexer = Indexer(web3, spec.chain_id, IndexStore(site["db"].engine),
                      EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()}), rules=CHILD_RULES)
    indexer.watch((d.address, d.artifact or d.contract, d.block) for d in registry.for_chain(spec.chain_id).values())
    indexer.run_until_caught_up()


def _apply_for_kyc(page: Any, name: str) -> None:
    """On /account, signed in: fill the KYC form and submit it."""
    page.wait_for_selector("#kyc-status:has-text('not applied')")
    page.fill("#legal-name", name)
    page.fill("#dob", "1990-04-01")
    page.fill("#country", "fr")
    page.select_option("#doc-type", "passport")
    page.fill("#doc-number", "AB123456")
    page.click("#apply-form button[type=submit]")
    page.wait_for_selector("#kyc-status:has-text('waiting for review')")


def _officer_queue(open_as: Any, applicant: str) -> tuple[Any, Any]:
    officer, _ = open_as(OFFICER)
    _ready(officer, "/operator/kyc")
    _sign_in(officer)
    item = officer.locator("section[data-application]", has_text=applicant)
    item.wait_for()
    return officer, item


def test_creator_lists_and_collector_buys_in_a_real_browser(site, open_as, artifacts, tmp_path):
    client = site["client"]
    # The creator signs in and applies for KYC; the officer approves it in the operator console.
    page, wallet = open_as(CREATOR)
    _ready(page, "/account")
    _sign_in(page)
    assert "personal_sign" in wallet.prompts
    _apply_for_kyc(page, "Alice Example")
    _shot(page, "account-applied")
    officer, item = _officer_queue(open_as, CREATOR.address)
    item.get_by_role("button", name="Show personal data").click()
    officer.wait_for_selector("section[data-application] dl:has-text('Alice Example')")
    _shot(officer, "operator-kyc-queue")
    assert _axe(officer) == []
    item.get_by_label("Level").fill("2")
    item.get_by_role("button", name="Approve").click()
    officer.wait_for_selector("#notice:has-text('Approved.')")
    assert client.get("/kyc/verified", headers=login(client, CREATOR)).status_code == 200
    _ready(page, "/account")
    page.wait_for_selector("#kyc-status:has-text('Verified: yes')")

    # The creator (still signed in): upload, collection, mint, list (the first prompt declined).
    _ready(page, "/studio")
    assert page.is_visible("#signout")
    title = f"harbour-at-dawn-{secrets.token_hex(3)}.png"
    page.set_input_files("#file", files=[{"name": title, "mimeType": "image/png",
                                          "buffer": _png(secrets.token_hex(8))}])
    page.click("#upload-form button[type=submit]")
    _done(page, "#upload-out:has-text('CID')")
    page.fill("#collection-name", "Harbour studies")
    page.fill("#collection-symbol", "HARB")
    page.fill("#royalty-pct", "10")
    page.click("#collection-form button[type=submit]")
    _done(page, "#collection-out:has-text('ready')")
    collection = page.input_value("#collection-address")
    page.click("#mint")
    _done(page, "#mint-out:has-text('Minted token')")
    token_id = int(page.text_content("#mint-out").split("token")[-1].strip(" ."))
    assert page.input_value("#token-id") == str(token_id)
    page.select_option("#license-template", "commercial")
    page.click("#license-form button[type=submit]")
    _done(page, "#license-out:has-text('attached')")
    assert "Commercial use allowed" in page.text_content("#license-terms")
    page.fill("#price", "0.5")
    wallet.reject.append("eth_signTypedData_v4")
    page.click("#list-form button[type=submit]")
    page.wait_for_selector("#notice.error:has-text('declined')")
    assert "Nothing was signed or sent" in page.text_content("#notice")
    assert page.input_value("#price") == "0.5", "the price typed was lost"
    terms = page.text_content("#list-terms")
    assert "0.5 ETH" in terms and "authorizes the marketplace" in terms and str(token_id) in terms
    assert f"10% royalty (0.05 ETH) goes to {CREATOR.address}" in terms and "; you receive 0." in terms
    assert wallet.words[-1] == ("eth_signTypedData_v4", "Before your wallet opens: " + terms)  # said first
    _shot(page, "studio-rejected-signature")
    page.click("#list-form button[type=submit]")
    _done(page, "#list-out:has-text('Listed')")
    _shot(page, "studio-listed")
    assert _axe(page) == []
    orders = client.get("/market/orders", params={"token": collection, "token_id": token_id}).json()
    assert len(orders) == 1 and orders[0]["unit_price"] == str(5 * 10**17)

    # A collector (KYC'd) finds it on Explore by words (the catalogue follows the index, as the
    # platform's indexer keeps it), reads the terms, signs in and buys.
    _index(site, artifacts)
    verified_login(client, COLLECTOR)
    buyer, buyer_wallet = open_as(COLLECTOR)
    _ready(buyer, "/")
    card = buyer.locator(f"#works li:has-text('{title}')")
    card.wait_for()
    assert "0.5 ETH" in card.text_content() and "royalty 10%" in card.text_content()
    buyer.fill("#q", "no such words here")
    buyer.click("#search button")
    buyer.wait_for_selector("#explore-status:has-text('No work for sale matches')")
    buyer.fill("#q", "harbour dawn")
    buyer.click("#search button")
    card.wait_for()
    buyer.wait_for_selector("#works img")
    _shot(buyer, "explore")
    card.get_by_role("link").click()
    buyer.wait_for_selector("body[data-ready=true]")
    buyer.wait_for_selector("#media img")
    assert "matches the registered content hash" in buyer.text_content("#media")
    assert "and the CID bafkrei" in buyer.text_content("#media")  # a one-block work: its CID checked too
    assert "10% of every sale goes to" in buyer.text_content("#royalty")
    licenses = buyer.text_content("#licenses")
    assert "Commercial use allowed" in licenses and "Lasts 365 days" in licenses and "Transferable" in licenses
    buyer.click("#listings button")
    terms = buyer.text_content("#buy-terms")
    stated = re.search(r"You pay ([0-9.]+) ETH .* ([0-9.]+) ETH royalty goes to (0x[0-9a-fA-F]{40}), "
                       r"([0-9.]+) ETH platform fee .* and ([0-9.]+) ETH to the seller", terms)
    assert stated, terms
    assert stated.group(1) == "0.5" and stated.group(2) == "0.05" and stated.group(3) == CREATOR.address
    assert buyer_wallet.prompts == [], "the wallet opened before the page said what the buyer pays"
    _shot(buyer, "work-buy-terms")
    assert _axe(buyer) == []
    buyer.click("#buy-confirm")
    _done(buyer, "#notice:has-text('Bought')")
    assert COLLECTOR.address in buyer.text_content("#rights")  # the page reads the new owner
    assert "Not for sale" in buyer.text_content("#listings")
    _shot(buyer, "work-bought")
    assert buyer_wallet.prompts[-1] == "eth_sendTransaction"
    web3 = connect(site["deployed"].spec("home"))
    # What the page said the purchase pays is what the chain paid.
    tx_hash = re.search(r"0x[0-9a-f]{64}", buyer.text_content("#notice")).group(0)
    market = web3.eth.contract(abi=artifacts.get("Marketplace").abi)
    receipt = web3.eth.get_transaction_receipt(tx_hash)
    filled = market.events.OrderFilled().process_receipt(receipt, errors=DISCARD)[0]["args"]
    assert (filled.unitPrice, filled.royaltyReceiver, filled.royalty, filled.fee) == (
        Web3.to_wei(stated.group(1), "ether"), stated.group(3), Web3.to_wei(stated.group(2), "ether"),
        Web3.to_wei(stated.group(4), "ether"))
    assert filled.unitPrice - filled.royalty - filled.fee == Web3.to_wei(stated.group(5), "ether")
    nft = web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    assert nft.functions.ownerOf(token_id).call() == COLLECTOR.address  # the token moved on chain
    assert not page.js_errors and not buyer.js_errors and not officer.js_errors  # type: ignore[attr-defined]

    # The auditor: the story, the bundle and the exact verify command.
    _index(site, artifacts)
    auditor, _ = open_as(NEWCOMER)
    _ready(auditor, f"/audit?chain_id=31337&collection={collection}&token_id={token_id}")
    auditor.wait_for_selector("#verify-command")
    command = auditor.text_content("#verify-command")
    registry = DeploymentRegistry(site["deployed"].deployments_file)
    cid = client.get(f"/catalog/works/31337/{collection}/{token_id}").json()["cid"] + ".png"
    bundle_file = f"provenance-31337-{collection}-{token_id}.json"
    assert command == (f"chainright verify {bundle_file} --content {cid} "
                       f"--rights-registry {registry.address(31337, 'RightsRegistry')} "
                       f"--identity-registry {registry.address(31337, 'IdentityRegistry')}")
    # The auditor saves both links under the names the page gives them and runs the command as shown.
    folder = tmp_path / "audit"
    folder.mkdir()
    for selector in ("#bundle-link", "#content-link"):
        with auditor.expect_download() as download:
            auditor.click(selector)
        saved = download.value
        saved.save_as(folder / saved.suggested_filename)
    assert sorted(p.name for p in folder.iterdir()) == sorted([bundle_file, cid])
    argv = command.split()
    assert argv[0] == "chainright"
    verdict = subprocess.run([sys.executable, "-m", "chainright", *argv[1:]], cwd=folder, capture_output=True,
                             text=True, timeout=300)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert "OrderFilled" in auditor.text_content("#audit-out")
    _shot(auditor, "audit")
    assert _axe(auditor) == []
    assert "KYC at registration: verified (level 2, country FR)" in auditor.text_content("#audit-creator")

    # The collector, now the owner, lists it again from the studio, then cancels on the work page.
    _ready(buyer, "/studio")
    buyer.fill("#collection-address", collection)
    buyer.fill("#token-id", str(token_id))
    buyer.fill("#price", "0.55")  # within the circuit breaker's band around the last sale
    buyer.click("#list-form button[type=submit]")
    _done(buyer, "#list-out:has-text('Listed')")
    resale = re.search(r"0x[0-9a-f]{64}", buyer.text_content("#list-out")).group(0)
    _ready(buyer, f"/work/31337/{collection}/{token_id}")
    buyer.click(f"button[data-cancel='{resale}']")
    _done(buyer, "#notice:has-text('cancelled here and on chain')")
    assert "Not for sale" in buyer.text_content("#listings")
    marketplace = web3.eth.contract(address=registry.address(31337, "Marketplace"), abi=artifacts.get("Marketplace").abi)
    assert marketplace.functions.orderStatus(resale).call()[0] is True  # cancelled on chain, not only here
    assert not buyer.js_errors and not auditor.js_errors  # type: ignore[attr-defined]
    STATE["work"] = f"/work/31337/{collection}/{token_id}"
    STATE["collection"] = collection
    STATE["audit"] = f"/audit?chain_id=31337&collection={collection}&token_id={token_id}"


def test_a_declined_sign_in_says_so_and_keeps_what_was_typed(open_as):
    page, wallet = open_as(NEWCOMER)
    _ready(page, "/studio")
    page.fill("#collection-name", "Nocturnes for a small boat")
    page.fill("#royalty-pct", "7.5")
    wallet.reject.append("personal_sign")
    page.click("#collection-form button[type=submit]")
    page.wait_for_selector("#notice.error")
    assert "declined the request in your wallet" in page.text_content("#notice")
    assert page.input_value("#collection-name") == "Nocturnes for a small boat"
    assert page.input_value("#royalty-pct") == "7.5"
    assert wallet.prompts == ["eth_requestAccounts", "personal_sign"]
    assert page.is_hidden("#signout")  # not signed in
    _shot(page, "studio-declined-sign-in")


@pytest.mark.parametrize("served", ["other bytes", "truncated"])
def test_media_that_does_not_match_the_registered_hash_is_not_shown(open_as, served):
    """Whatever serves the bytes (a tampered store, a proxy), the page shows them only when they hash
    to what the chain registered for the token."""
    if "work" not in STATE:
        pytest.skip("needs the work the journey made")
    page, _ = open_as(NEWCOMER)

    def tamper(route: Any) -> None:
        original = route.fetch().body()
        body = b"not the work" if served == "other bytes" else original[:-1]
        route.fulfill(status=200, body=body, headers={"content-type": "image/png"})

    page.route("**/assets/*/content", tamper)
    _ready(page, STATE["work"])
    page.wait_for_selector("#media .bad")
    assert "does not match the registered hash" in page.text_content("#media")
    assert page.locator("#media img").count() == 0


def test_an_officer_rejects_an_application_with_a_reason(open_as):
    applicant = dev_account(5)
    page, _ = open_as(applicant)
    _ready(page, "/account")
    _sign_in(page)
    _apply_for_kyc(page, "Bob Example")
    officer, item = _officer_queue(open_as, applicant.address)
    item.get_by_label("Reason").fill("document unreadable")
    item.get_by_role("button", name="Reject").click()
    officer.wait_for_selector("#notice:has-text('Rejected.')")
    officer.wait_for_selector(f"section[data-application]:has-text('{applicant.address}')", state="detached")
    _ready(page, "/account")
    page.wait_for_selector("#kyc-status:has-text('rejected')")


def test_a_page_away_from_the_sign_in_origin_says_where_to_go(site, open_as):
    """The SIWE messages name one origin; a page elsewhere (here: a sign-in origin of another port)
    links to it instead of letting the wallet sign a message the API would refuse."""
    app = site["app"]
    real = app.state.settings.siwe_uri
    app.state.settings.siwe_uri = "http://127.0.0.1:9"
    try:
        page, _ = open_as(NEWCOMER)
        _ready(page, "/studio")
        page.wait_for_selector("#notice a")
        assert "Sign-in works at http://127.0.0.1:9" in page.text_content("#notice")
        assert page.get_attribute("#notice a", "href") == "http://127.0.0.1:9/studio"
    finally:
        app.state.settings.siwe_uri = real


def test_the_catalog_says_what_is_not_a_token(site):
    client = site["client"]
    registry = DeploymentRegistry(site["deployed"].deployments_file)
    for collection, token_id in ((NEWCOMER.address, 1),  # no contract there
                                 (registry.address(31337, "Marketplace"), 1),  # not a collection
                                 *(((STATE["collection"], 999_999),) if "collection" in STATE else ())):  # no such token
        r = client.get(f"/catalog/works/31337/{collection}/{token_id}")
        assert r.status_code == 404, r.text
        assert r.headers["content-type"] == "application/problem+json"
    assert client.get(f"/catalog/works/999/{NEWCOMER.address}/1").status_code == 404  # a chain not served
    platform = client.get("/catalog/platform").json()
    home = next(c for c in platform["chains"] if c["chain_id"] == 31337)
    assert home["marketplace"] == registry.address(31337, "Marketplace")
    assert home["eip712_domain"] == {"name": "Chainright Marketplace", "version": "1", "chainId": 31337,
                                     "verifyingContract": home["marketplace"]}
    assert site["origin"] in platform["sign_in_origins"]  # the address `up` prints, with default settings


def test_the_page_script_stays_small(bundle):
    import gzip

    size = len(gzip.compress(bundle.read_bytes(), 9))
    assert size < 100_000, f"the page script is {size} bytes gzipped (budget: 100 KB)"


def test_the_operator_console_is_for_officers_only(open_as, site):
    page, _ = open_as(NEWCOMER)
    _ready(page, "/operator/kyc")
    assert "Connect your wallet and sign in first" in page.text_content("#operator-status")
    _sign_in(page)
    page.wait_for_selector("#operator-status:has-text('for KYC officers')")
    assert page.locator("section[data-application]").count() == 0
    # and the API, not the page, is what refuses: the same session gets a 403 from the queue
    token = page.evaluate("sessionStorage.getItem('chainright.session')")
    r = site["client"].get("/kyc/applications", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403


def test_the_session_follows_the_visitor_and_signing_out_ends_it(open_as, site):
    page, wallet = open_as(NEWCOMER)
    _ready(page, "/account")
    _sign_in(page)
    token = page.evaluate("sessionStorage.getItem('chainright.session')")
    me = site["client"].get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["address"] == NEWCOMER.address
    _ready(page, "/studio")  # another page: still signed in, no new prompt
    assert page.is_visible("#signout") and wallet.prompts == ["eth_requestAccounts", "personal_sign"]
    page.click("#signout")
    page.wait_for_selector("#signout", state="hidden")
    assert page.evaluate("sessionStorage.getItem('chainright.session')") is None
    assert site["client"].get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_wallet_that_switches_accounts_signs_the_visitor_out(open_as, site):
    page, wallet = open_as(NEWCOMER)
    _ready(page, "/account")
    _sign_in(page)
    token = page.evaluate("sessionStorage.getItem('chainright.session')")
    other = dev_account(7).address
    wallet.address = other
    page.evaluate(f"window.__testWalletEmit('accountsChanged', ['{other}'])")
    page.wait_for_selector("#notice:has-text('switched accounts')")
    assert page.is_hidden("#signout") and page.is_visible("#signin")
    assert page.evaluate("sessionStorage.getItem('chainright.session')") is None
    assert short_address(other) in page.text_content("#wallet-state")
    deadline = time.monotonic() + 10
    while site["client"].get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code != 401:
        assert time.monotonic() < deadline, "the previous account's session still works at the API"
        time.sleep(0.1)


def test_several_wallets_are_offered_and_the_chosen_one_signs(browser, site):
    """Two EIP-6963 wallets announce themselves: the page asks which, and only that one is used."""
    first, second = InjectedWallet(NEWCOMER.address, site["rpc"]), InjectedWallet(dev_account(7).address, site["rpc"])
    context = browser.new_context(base_url=site["origin"])
    try:
        context.route("**/*", lambda route: route.continue_() if urlparse(route.request.url).hostname == "127.0.0.1"
                      else route.abort())
        for name, wallet in (("Alpha", first), ("Beta", second)):
            binding = f"__wallet{name}"
            context.expose_binding(binding, lambda source, method, params, words="", w=wallet: w.handle(method, params, words))
            script = WALLET_JS.replace("__testWalletRpc", binding).replace("Test Wallet", f"{name} Wallet")
            script = script.replace("0b8f7f3e-1c0e-4f43-9a53-7d2a55d0c6f1", f"0b8f7f3e-1c0e-4f43-9a53-7d2a55d0c6f{len(name)}")
            context.add_init_script(script.replace("org.chainright.testwallet", f"org.chainright.{name.lower()}"))
        page = context.new_page()
        _ready(page, "/studio")
        page.click("#connect")
        page.get_by_role("button", name="Beta Wallet").click()
        page.wait_for_selector("#signin:not([hidden])")
        page.click("#signin")
        page.wait_for_selector("#signout:not([hidden])")
        assert first.prompts == [] and second.prompts == ["eth_requestAccounts", "personal_sign"]
        assert short_address(dev_account(7).address) in page.text_content("#wallet-state")
        _ready(page, "/account")  # the next page finds the same wallet again, without asking
        assert page.is_visible("#signout") and page.is_hidden("#connect")
        page.wait_for_selector("#kyc-status:has-text('not applied')")
        assert first.prompts == [] and second.prompts == ["eth_requestAccounts", "personal_sign"]
    finally:
        context.close()


def test_pages_switch_to_simplified_chinese(open_as):
    page, _ = open_as(NEWCOMER)
    _ready(page, "/?lang=zh")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.text_content("h1") == "在售作品"
    assert page.text_content("#connect") == "连接钱包"
    _ready(page, "/studio")  # the choice is remembered
    assert page.text_content("h1") == "创作者工作室"
    _shot(page, "studio-zh")
    _ready(page, "/studio?lang=en")
    assert page.text_content("h1") == "Creator studio"


def test_pages_have_no_serious_accessibility_violations(open_as):
    """axe-core (the project's npm package) on each page of the slice as a visitor first sees it (the
    journey checks the pages again in their signed-in, filled-in states)."""
    page, _ = open_as(NEWCOMER)
    paths = ["/", "/studio", "/audit", "/operator/kyc", "/operator/risk", "/operator/bridge", "/collector",
             "/commissions", "/commissions?lang=zh", "/account", "/?lang=zh", "/studio?lang=zh", "/collector?lang=zh", "/operator/risk?lang=zh",
             *(STATE[k] for k in ("work", "audit") if k in STATE)]
    found: dict[str, list[str]] = {}
    for path in paths:
        _ready(page, path)
        serious = _axe(page)
        if serious:
            found[path] = serious
    assert not found, found
    # The check can fail: an unlabelled field and an image without a text alternative are found.
    page.evaluate("document.querySelector('main').append(Object.assign(document.createElement('input'), {id: 'bare'}),"
                  " Object.assign(document.createElement('img'), {src: 'data:image/gif;base64,R0lGODlhAQABAAAAACw='}))")
    assert {v.split(" ")[0] for v in _axe(page)} >= {"label", "image-alt"}
    with pytest.raises(Exception, match="Content Security Policy"):  # the policy is enforced in the browser
        page.add_script_tag(content="window.injected = true")


# ---------------------------------------------------------------- the second slice: sign-in origin,
# signing words, the collector page, the operator console, the auditor page in Chinese


def test_the_printed_address_signs_in_with_the_default_sign_in_settings(site, open_as):
    """`chainright up` prints http://127.0.0.1:<port>; the sign-in origin is left at its default
    (localhost:<port>). A visitor at the printed address signs a message naming that address, after
    the page said it is a login that moves no funds."""
    settings = site["app"].state.settings
    assert settings.siwe_domain == f"localhost:{urlparse(site['origin']).port}"  # the default, not 127.0.0.1
    page, wallet = open_as(NEWCOMER)
    _ready(page, "/collector")
    assert page.is_hidden("#notice a")  # no "sign-in works elsewhere" link at the printed address
    _sign_in(page)
    host = urlparse(site["origin"]).netloc
    assert wallet.signed_texts[-1].startswith(f"{host} wants you to sign in")
    (_, connect_words), (_, siwe_words) = wallet.words
    assert f"share your address with {host}" in connect_words and "Nothing is signed" in connect_words
    assert f"You sign in to {host} as {NEWCOMER.address}" in siwe_words and "moves no funds" in siwe_words
    _shot(page, "signing-words-sign-in")


def _list_as(site: dict[str, Any], artifacts: Any, seller: Any, collection: str, token_id: int, price: int,
             currency: str | None = None) -> str:
    """The seller's wallet signs a listing in Python and posts it, as the studio page does."""
    from chain.orders import ETH, MarketDomain, Order, OrderSide, TokenStandard, sign_order

    registry = DeploymentRegistry(site["deployed"].deployments_file)
    web3 = connect(site["deployed"].spec("home"))
    market = web3.eth.contract(address=registry.address(31337, "Marketplace"), abi=artifacts.get("Marketplace").abi)
    nft = web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    now = int(time.time())
    order = Order(OrderSide.LISTING, seller.address, collection, token_id, TokenStandard.ERC721, 1, price,
                  currency or ETH, now - 60, now + 86_400, secrets.randbits(128), market.functions.counterOf(seller.address).call(),
                  nft.functions.holdingEpoch(seller.address, token_id).call())
    signed = sign_order(order, MarketDomain(31337, market.address), seller)
    r = site["client"].post("/market/orders", headers=login(site["client"], seller), json={
        "chain_id": 31337, "side": "listing", "signer": seller.address, "token": collection,
        "token_id": str(token_id), "unit_price": str(price), "start": order.start, "expiry": order.expiry,
        "salt": str(order.salt), "counter": str(order.counter), "holding_epoch": str(order.holding_epoch),
        "currency": order.currency, "signature": "0x" + bytes(signed.signature).hex()})
    assert r.status_code == 201, r.text
    return str(r.json()["order_hash"])


def test_the_collector_sees_holdings_and_cancels_an_open_order_on_chain(site, open_as, artifacts):
    if "work" not in STATE:
        pytest.skip("needs the work the journey made")
    _index(site, artifacts)
    collection = STATE["collection"]
    token_id = int(STATE["work"].rsplit("/", 1)[1])
    order_hash = _list_as(site, artifacts, COLLECTOR, collection, token_id, 55 * 10**16)
    page, wallet = open_as(COLLECTOR)
    _ready(page, "/collector")
    assert "Connect your wallet" in page.text_content("#collector-status")
    page.click("#connect")
    holding = page.locator(f"li[data-holding='31337/{collection}/{token_id}']")
    holding.wait_for()
    assert "harbour-at-dawn" in holding.text_content() and "not confirmed" not in holding.text_content()
    assert holding.get_by_role("link").get_attribute("href") == STATE["work"]
    row = page.locator(f"p[data-order='{order_hash}']")
    row.wait_for()
    assert f"Selling token {token_id}" in row.text_content() and "0.55 ETH" in row.text_content()
    _shot(page, "collector")
    assert _axe(page) == []
    row.get_by_role("button", name="Cancel").click()
    _done(page, "#notice:has-text('cancelled here and on chain')")
    method, words = wallet.words[-1]
    assert method == "eth_sendTransaction" and "cancels order" in words and "0.55 ETH" in words
    page.wait_for_selector(f"p[data-order='{order_hash}']", state="detached")
    registry = DeploymentRegistry(site["deployed"].deployments_file)
    web3 = connect(site["deployed"].spec("home"))
    market = web3.eth.contract(address=registry.address(31337, "Marketplace"), abi=artifacts.get("Marketplace").abi)
    assert market.functions.orderStatus(order_hash).call()[0] is True
    # Another wallet sees its own (empty) collection, not this one's.
    other, _ = open_as(NEWCOMER)
    _ready(other, "/collector")
    other.click("#connect")
    other.wait_for_selector("#holdings:has-text('holds no token')")


def test_the_operator_console_shows_halts_lifts_them_and_patches_a_policy(site, open_as):
    if "collection" not in STATE:
        pytest.skip("needs the collection the journey made")
    from datetime import UTC, datetime, timedelta

    from api.models import BreakerDecisionRow, CollectionPolicyRow

    collection = STATE["collection"]
    until = datetime.now(UTC) + timedelta(minutes=15)
    with site["db"].session() as db:  # as the breaker records a halt
        row = db.get(CollectionPolicyRow, (31337, collection))
        if row is None:
            row = CollectionPolicyRow(chain_id=31337, collection=collection, breaker="{}")
            db.add(row)
        row.halted_until = until
        db.add(BreakerDecisionRow(chain_id=31337, collection=collection, at=datetime.now(UTC), price="1",
                                  action="halt", reason="5 refused orders from 3 accounts within 5 minutes",
                                  account=None, counted=False))
        db.commit()
    # A visitor who is not in the risk role: told so, and the API refuses the same session.
    page, _ = open_as(NEWCOMER)
    _ready(page, "/operator/risk")
    assert "Connect your wallet and sign in first" in page.text_content("#risk-status")
    _sign_in(page)
    page.wait_for_selector("#risk-status:has-text('for the risk role')")
    token = page.evaluate("sessionStorage.getItem('chainright.session')")
    assert site["client"].get("/console/breakers", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    _ready(page, "/operator/bridge")
    page.wait_for_selector("#bridge-status:has-text('for the risk role')")
    # The officer (risk role) sees the halt with its reason, lifts it, and narrows the band.
    officer, _ = open_as(OFFICER)
    _ready(officer, "/operator/risk")
    _sign_in(officer)
    item = officer.locator(f"section[data-breaker='31337-{collection}']")
    item.wait_for()
    assert "Trading halted until" in item.text_content() and "5 refused orders from 3 accounts" in item.text_content()
    _shot(officer, "operator-risk-halted")
    assert _axe(officer) == []
    item.get_by_role("button", name="Lift the halt").click()
    _done(officer, "#notice:has-text('lifted')")
    item = officer.locator(f"section[data-breaker='31337-{collection}']")
    assert "Trading." in item.text_content() and "halt lifted by the operator" in item.text_content()
    assert site["client"].get(f"/market/breaker/31337/{collection}").json()["halted_until"] is None
    item.get_by_label("Band (bps)").fill("1500")
    item.get_by_role("button", name="Save policy").click()
    _done(officer, "#notice:has-text('saved')")
    assert "band_bps" in officer.text_content("#notice")
    assert site["client"].get(f"/market/breaker/31337/{collection}").json()["policy"]["band_bps"] == 1500
    assert not officer.js_errors  # type: ignore[attr-defined]


def test_the_operator_console_lists_the_bridges_undelivered_transfers_with_reasons(site, open_as, tmp_path):
    from sqlalchemy import insert

    from bridge.store import BridgeStore, bridge_held, bridge_transfers, make_engine, tid

    url = f"sqlite:///{tmp_path / 'bridge.db'}"
    store = BridgeStore(make_engine(url))
    store.create_tables()
    now = time.time()
    base = {"dest_chain_id": 31338, "source_bridge": NEWCOMER.address, "dest_bridge": NEWCOMER.address,
            "collection": NEWCOMER.address, "sender": COLLECTOR.address, "recipient": COLLECTOR.address,
            "log_index": 0, "block_number": 5, "block_hash": "0x" + "ab" * 32, "updated_at": now}
    with store.transaction() as conn:
        for n, (status, reason, age) in enumerate((
                ("pending", "waiting for 2 of 3 validator signatures", 30),
                ("failed", "delivery reverted: TransferAlreadyProcessed", 120),
                ("pending", "destination chain 31338 did not answer", 3600),
                ("delivered", None, 10))):
            conn.execute(insert(bridge_transfers).values(
                source_chain_id=31337, transfer_id=tid(n + 1), token_id=str(n), tx_hash="0x" + f"{n:02x}" * 32,
                status=status, reason=reason, attempts=n, observed_at=now - age, **base))
        conn.execute(insert(bridge_held).values(
            worker="validator-0", chain_id=31337, tx_hash="0x" + "cd" * 32, log_index=1, block_number=6,
            transfer_id=tid(9), reason="custody undecidable: the source block is not final yet", attempts=6,
            stuck=1, retry_at=now + 60, first_seen=now - 900, updated_at=now))
    probe = site["app"].state.health_probe
    real = probe.bridge_url
    probe.bridge_url = lambda: url
    try:
        officer, _ = open_as(OFFICER)
        _ready(officer, "/operator/bridge")
        _sign_in(officer)
        officer.wait_for_selector("#bridge-transfers")
        rows = officer.locator("#bridge-transfers tbody tr")
        assert rows.count() == 3  # the delivered one is not listed
        text = officer.text_content("#bridge-transfers")
        assert "waiting for 2 of 3 validator signatures" in text and "TransferAlreadyProcessed" in text
        assert officer.locator("#bridge-transfers tr.stuck").count() == 1  # pending for an hour
        assert "did not answer" in officer.text_content("#bridge-transfers tr.stuck")
        assert "failed" in officer.text_content("#bridge-transfers tr.failed")
        assert "custody undecidable" in officer.text_content("#bridge-held") and "stuck" in officer.text_content("#bridge-held")
        _shot(officer, "operator-bridge")
        assert _axe(officer) == []
        _ready(officer, "/operator/bridge?lang=zh")
        officer.wait_for_selector("#bridge-transfers")
        assert officer.text_content("h1") == "跨链转移" and "卡住" in officer.text_content("#bridge-transfers")
        _ready(officer, "/operator/bridge?lang=en")
    finally:
        probe.bridge_url = real


def test_an_officer_lists_approved_applications_and_revokes_one(site, open_as):
    applicant = dev_account(3)
    verified_login(site["client"], applicant)
    officer, _ = open_as(OFFICER)
    _ready(officer, "/operator/kyc")
    _sign_in(officer)
    officer.select_option("#kyc-state", "approved")
    item = officer.locator("section[data-application]", has_text=applicant.address)
    item.wait_for()
    assert "approved" in item.text_content()
    _shot(officer, "operator-kyc-approved")
    item.get_by_label("Reason for revoking").fill("document reported stolen")
    item.get_by_role("button", name="Revoke").click()
    _done(officer, "#notice:has-text('Revoked')")
    officer.wait_for_selector(f"section[data-application]:has-text('{applicant.address}')", state="detached")
    assert site["client"].get("/kyc/verified", headers=login(site["client"], applicant)).status_code == 403
    officer.select_option("#kyc-state", "revoked")
    officer.wait_for_selector("section[data-application]:has-text('document reported stolen')")


def test_the_auditor_page_and_an_api_error_in_simplified_chinese(site, open_as):
    if "audit" not in STATE:
        pytest.skip("needs the work the journey made")
    page, _ = open_as(NEWCOMER, locale="zh-CN")
    _ready(page, STATE["audit"])  # Accept-Language picks Chinese
    page.wait_for_selector("#verify-command")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.text_content("#verify-command").startswith("chainright verify provenance-31337-")
    _shot(page, "audit-zh")
    # An API refusal in Chinese, with what to do, and what was typed kept: a date of birth in the future.
    _ready(page, "/account")
    _sign_in(page)
    page.wait_for_selector("#kyc-status:has-text('尚未')")
    page.fill("#legal-name", "王小明")
    page.fill("#dob", "2100-01-01")
    page.fill("#country", "cn")
    page.fill("#doc-number", "E12345678")
    page.click("#apply-form button[type=submit]")
    page.wait_for_selector("#notice.error")
    said = page.text_content("#notice")
    assert said.startswith("部分数值无效") and "请修改后重试" in said, said
    assert page.input_value("#legal-name") == "王小明"
    _shot(page, "account-error-zh")


# ---------------------------------------------------------------- the third slice: auctions, offers,
# licenses, royalties, ERC-1155 holdings, the bridge. Each test makes its own work (no dependency on
# the journey), through the API as the studio would, signed by the creator's key in Python.


def _verified(client: TestClient, account: Any) -> dict[str, str]:
    headers = login(client, account)
    if client.get("/kyc/verified", headers=headers).status_code == 200:
        return headers
    return verified_login(client, account)


def _fresh_work(site: dict[str, Any], *, label: str, royalty_receiver: str | None = None,
                license_fee: int | None = None) -> tuple[str, int, str]:
    """A new collection of the creator's with one minted work (10% royalty): (collection, token id,
    title); with ``license_fee``, the commercial license terms at that fee attached to it."""
    from tests.support.api_flow import send

    client, web3, headers, title, cid = _uploaded(site, label)
    body: dict[str, Any] = {"chain_id": 31337, "name": label.title(), "symbol": "WEB", "royalty_bps": 1000}
    if royalty_receiver:
        body["royalty_receiver"] = royalty_receiver
    r = client.post("/collections/tx", json=body, headers=headers)
    assert r.status_code == 200, r.text
    send(web3, CREATOR, r.json()["transaction"])
    collection = r.json()["predicted_address"]
    r = client.post(f"/assets/{cid}/mint-tx", json={"chain_id": 31337, "collection": collection}, headers=headers)
    assert r.status_code == 200, r.text
    receipt = send(web3, CREATOR, r.json())
    transfer = next(log for log in receipt["logs"] if log["address"] == collection and len(log["topics"]) == 4)
    token_id = int.from_bytes(bytes(transfer["topics"][3]), "big")
    if license_fee is not None:
        r = client.post("/licenses/tx", json={"chain_id": 31337, "collection": collection, "token_ids": [token_id],
                                              "template": "commercial", "fee_wei": license_fee}, headers=headers)
        assert r.status_code == 200, r.text
        for tx in [r.json()["publish"], *r.json()["attach"]]:
            if tx:
                send(web3, CREATOR, tx)
    return collection, token_id, title


def _said(wallet: InjectedWallet, method: str = "eth_sendTransaction") -> str:
    """What the page said before the wallet's last prompt of ``method``."""
    return [words for m, words in wallet.words if m == method][-1]


def test_an_auction_is_started_bid_on_listed_live_and_settled_in_the_browser(site, open_as, artifacts):
    collection, token_id, title = _fresh_work(site, label="auctioned")
    _verified(site["client"], COLLECTOR)
    work = f"/work/31337/{collection}/{token_id}"
    # The creator starts an auction from the work page (the marketplace's approval first, said in words).
    seller, seller_wallet = open_as(CREATOR)
    _ready(seller, work)
    _sign_in(seller)
    seller.wait_for_selector("body[data-ready=true]")  # drawn anew for the connected owner
    seller.wait_for_selector("#auction-form")
    seller.fill("#auction-reserve", "0.2")
    seller.fill("#auction-hours", "0.015")  # 54 seconds
    seller.fill("#auction-extension", "0")
    seller.click("#auction-form button[type=submit]")
    _done(seller, "#notice:has-text('is open')")
    approve, create = [words for m, words in seller_wallet.words if m == "eth_sendTransaction"][-2:]
    assert "lets the marketplace" in approve and collection in approve
    assert "opens an auction: reserve 0.2 ETH (200000000000000000 wei)" in create and str(token_id) in create
    item = seller.locator("[data-auction]")
    assert "reserve 0.2 ETH (200000000000000000 wei)" in item.text_content() and "No bid yet" in item.text_content()
    assert re.search(r"ends 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", item.text_content())
    # A collector finds it among the live auctions on Explore, and bids below the minimum first: the
    # API's problem detail is shown in words, nothing is sent.
    buyer, buyer_wallet = open_as(COLLECTOR)
    _ready(buyer, "/")
    live = buyer.locator("#live-auctions li", has_text=title)
    live.wait_for()
    assert "reserve 0.2 ETH" in live.text_content()
    live.get_by_role("link").click()
    buyer.wait_for_selector("body[data-ready=true]")
    buyer.wait_for_selector("[data-auction] form")
    field = buyer.locator("[data-auction] input")
    assert field.input_value() == "0.2"  # the minimum bid now
    field.fill("0.1")
    buyer.locator("[data-auction] button[type=submit]").click()
    buyer.wait_for_selector("#notice.error")
    assert "below the minimum of 0.2 ETH" in buyer.text_content("#notice")
    assert "eth_sendTransaction" not in buyer_wallet.prompts
    buyer.wait_for_selector("body[data-ready=true]")  # drawn anew once the wallet connected
    field.fill("0.25")
    buyer.locator("[data-auction] button[type=submit]").click()
    _done(buyer, "#notice:has-text('is in')")
    said = _said(buyer_wallet)
    assert "0.25 ETH (250000000000000000 wei) to the marketplace as a bid" in said and "outbid" in said
    assert f"Highest bid 0.25 ETH (250000000000000000 wei) by {COLLECTOR.address}" in buyer.text_content("[data-auction]")
    _doc_shot(buyer, "work-auction-bid")
    assert _axe(buyer) == []
    # Once it has ended, the winner settles it: the token is theirs on chain.
    end = site["client"].get("/auctions", params={"chain_id": 31337, "token": collection, "status": "open"}).json()[0]["end"]
    from datetime import datetime

    wait = datetime.fromisoformat(end.replace("Z", "+00:00")).timestamp() - time.time() + 2
    time.sleep(max(0.0, wait))
    web3 = connect(site["deployed"].spec("home"))
    web3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]  # a live chain keeps making blocks; anvil mines on demand
    _ready(buyer, work)
    buyer.wait_for_selector("[data-settle]")
    buyer.click("[data-settle]")
    _done(buyer, "#notice:has-text('settled')")
    assert f"goes to {COLLECTOR.address}" in _said(buyer_wallet)
    nft = web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    assert nft.functions.ownerOf(token_id).call() == COLLECTOR.address
    assert COLLECTOR.address in buyer.text_content("#rights")
    assert not seller.js_errors and not buyer.js_errors  # type: ignore[attr-defined]


def test_an_offer_with_its_wrap_and_approve_steps_is_made_then_accepted_by_the_owner(site, open_as, artifacts):
    collection, token_id, _ = _fresh_work(site, label="offered")
    _verified(site["client"], RIVAL)
    work = f"/work/31337/{collection}/{token_id}"
    web3 = connect(site["deployed"].spec("home"))
    registry = DeploymentRegistry(site["deployed"].deployments_file)
    weth = web3.eth.contract(address=registry.address(31337, "WrappedEther"), abi=artifacts.get("WrappedEther").abi)
    before = weth.functions.balanceOf(RIVAL.address).call()
    buyer, wallet = open_as(RIVAL)
    _ready(buyer, work)
    buyer.wait_for_selector("#offer-form")
    buyer.fill("#offer-price", "not a price")
    buyer.click("#offer-form button[type=submit]")
    buyer.wait_for_selector("#notice.error:has-text('is not an amount in ETH')")
    assert wallet.prompts == []  # refused before the wallet was asked anything
    buyer.fill("#offer-price", "0.3")
    buyer.click("#offer-form button[type=submit]")
    _done(buyer, "#notice:has-text('offer of 0.3 ETH')")
    sends = [words for m, words in wallet.words if m == "eth_sendTransaction"]
    missing = 3 * 10**17 - before
    if missing > 0:  # a wallet with no wrapped ETH yet: wrap exactly what is missing, said first
        assert any(f"({missing} wei) to the wrapped-ETH contract" in w for w in sends), sends
    assert any("take up to 0.3 ETH (300000000000000000 wei) of your wrapped ETH" in w for w in sends), sends
    signed = _said(wallet, "eth_signTypedData_v4")
    assert "sign an offer (no transaction, no gas) of 0.3 ETH (300000000000000000 wei)" in signed
    row = buyer.locator("[data-offer]")
    assert RIVAL.address in row.text_content() and "0.3 ETH (300000000000000000 wei)" in row.text_content()
    assert row.get_by_role("button", name="Cancel my offer").count() == 1
    _shot(buyer, "work-offer-made")
    # The owner accepts it: the split in words, then the token moves and the price is paid in WETH.
    owner, owner_wallet = open_as(CREATOR)
    _ready(owner, work)
    _sign_in(owner)
    owner.wait_for_selector("body[data-ready=true]")
    accept = owner.locator("[data-offer] button", has_text="Accept")
    accept.wait_for()
    accept.click()
    _done(owner, "#notice:has-text('Offer accepted')")
    said = _said(owner_wallet)
    assert f"sells token {token_id} to {RIVAL.address} for 0.3 ETH (300000000000000000 wei)" in said
    assert "0.03 ETH (30000000000000000 wei) royalty" in said and "you receive" in said
    nft = web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    assert nft.functions.ownerOf(token_id).call() == RIVAL.address
    assert not owner.js_errors and not buyer.js_errors  # type: ignore[attr-defined]


def test_an_offer_is_cancelled_on_chain_by_its_buyer(site, open_as, artifacts):
    collection, token_id, _ = _fresh_work(site, label="withdrawn")
    _verified(site["client"], RIVAL)
    buyer, wallet = open_as(RIVAL)
    _ready(buyer, f"/work/31337/{collection}/{token_id}")
    buyer.wait_for_selector("#offer-form")
    buyer.fill("#offer-price", "0.01")
    buyer.click("#offer-form button[type=submit]")
    _done(buyer, "#notice:has-text('offer of 0.01 ETH')")
    order_hash = buyer.get_attribute("[data-offer]", "data-offer")
    buyer.click("[data-cancel-offer]")
    _done(buyer, "#notice:has-text('cancelled here and on chain')")
    assert "cancels your offer of 0.01 ETH (10000000000000000 wei)" in _said(wallet)
    buyer.wait_for_selector("#offers:has-text('No open offer')")
    registry = DeploymentRegistry(site["deployed"].deployments_file)
    web3 = connect(site["deployed"].spec("home"))
    market = web3.eth.contract(address=registry.address(31337, "Marketplace"), abi=artifacts.get("Marketplace").abi)
    assert market.functions.orderStatus(order_hash).call()[0] is True


def test_a_license_is_bought_from_the_work_page_and_listed_under_my_licenses(site, open_as):
    collection, token_id, title = _fresh_work(site, label="licensed", license_fee=2 * 10**15)
    _verified(site["client"], COLLECTOR)
    page, wallet = open_as(COLLECTOR)
    _ready(page, f"/work/31337/{collection}/{token_id}")
    buy = page.locator("[data-buy-license]")
    buy.wait_for()
    assert "0.002 ETH (2000000000000000 wei)" in buy.text_content()
    buy.click()
    _done(page, "#notice:has-text('License bought')")
    said = _said(wallet)
    assert said.startswith("Before your wallet opens: Your wallet will send 0.002 ETH (2000000000000000 wei)")
    assert "Commercial use allowed" in said and f"token {token_id} of {collection}" in said
    _ready(page, "/collector")
    mine = page.locator("#my-licenses li", has_text=title)
    mine.wait_for()
    assert "Commercial use allowed" in mine.text_content() and "Perpetual" not in mine.text_content()
    assert re.search(r"from 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ, until 20\d\d-", mine.text_content())
    _ready(page, "/collector?lang=zh")
    page.wait_for_selector("#my-licenses li a")
    assert page.text_content("#licenses-h") == "我的许可" and "允许商业使用" in page.text_content("#my-licenses")
    _ready(page, "/collector?lang=en")


def test_the_creator_distributes_and_withdraws_royalties_and_the_treasury_its_fee(site, open_as, artifacts):
    from tests.support.api_flow import send

    client = site["client"]
    web3 = connect(site["deployed"].spec("home"))
    headers = _verified(client, CREATOR)
    split = client.post("/splits/tx", json={"chain_id": 31337, "rights_holder": CREATOR.address,
                                            "issuer": RIVAL.address, "channel": NEWCOMER.address,
                                            "salt": "0x" + secrets.token_hex(32)}, headers=headers)
    assert split.status_code == 200, split.text
    send(web3, CREATOR, split.json()["transaction"])
    splitter = split.json()["splitter"]
    collection, token_id, _ = _fresh_work(site, label="shared", royalty_receiver=splitter)
    web3.eth.send_transaction({"from": RIVAL.address, "to": splitter, "value": 10**17})  # a royalty arrives
    page, wallet = open_as(CREATOR)
    _ready(page, f"/work/31337/{collection}/{token_id}")
    _sign_in(page)
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#splitter")
    assert "0.1 ETH (100000000000000000 wei)" in page.text_content("#undistributed")
    rows = page.locator("#splitter tbody tr")
    assert rows.count() == 3 and "30%" in page.text_content(f"tr[data-recipient='{CREATOR.address}']")
    _shot(page, "work-royalty-income")
    assert _axe(page) == []
    page.click("#distribute")
    _done(page, "#notice:has-text('Distributed')")
    assert f"credits each recipient of the splitter {splitter}" in _said(wallet)
    page.wait_for_selector("#withdraw-royalty")
    share = "0.03 ETH (30000000000000000 wei)"
    assert share in page.text_content(f"tr[data-recipient='{CREATOR.address}']")
    before = web3.eth.get_balance(CREATOR.address)
    page.click("#withdraw-royalty")
    _done(page, "#notice:has-text('Withdrawn')")
    assert f"pays your share, {share}" in _said(wallet)
    assert web3.eth.get_balance(CREATOR.address) > before  # 0.03 ETH in, less than that in gas
    # A creator is not the treasury: told so; the treasury sees the fee and withdraws it.
    _ready(page, "/studio")
    page.wait_for_selector("#fees-status:has-text('Only the treasury')")
    treasury, treasury_wallet = open_as(TREASURY)
    _ready(treasury, "/studio")
    _sign_in(treasury)
    line = treasury.locator("[data-fees='31337']")
    line.wait_for()
    assert "fee 2.5% of every sale" in line.text_content() and TREASURY.address in line.text_content()
    if line.get_by_role("button").count():
        accrued = re.search(r"accrued ([0-9.]+ ETH \([0-9]+ wei\))", line.text_content()).group(1)
        line.get_by_role("button").click()
        _done(treasury, "#notice:has-text('Withdrawn')")
        assert f"pays the accrued platform fee, {accrued}" in _said(treasury_wallet)


def test_the_collector_page_lists_erc1155_editions_with_their_quantity(site, open_as, artifacts):
    registry = DeploymentRegistry(site["deployed"].deployments_file)
    web3 = connect(site["deployed"].spec("home"))
    factory = web3.eth.contract(address=registry.address(31337, "CollectionFactory"),
                                abi=artifacts.get("CollectionFactory").abi)
    settings = ("Prints", "PRT", CREATOR.address, CREATOR.address, 500)
    tx = factory.functions.createEditions1155(settings, secrets.token_bytes(32)).transact({"from": CREATOR.address})
    created = factory.events.Editions1155Created().process_receipt(web3.eth.wait_for_transaction_receipt(tx))
    editions = web3.eth.contract(address=created[0]["args"]["editions"], abi=artifacts.get("Editions1155").abi)
    from chain.cid import cid_to_bytes, raw_cid

    content = f"a print {secrets.token_hex(4)}".encode()
    import hashlib

    mint = editions.functions.mintWork(COLLECTOR.address, 7, hashlib.sha256(content).digest(),
                                       cid_to_bytes(raw_cid(content)))
    web3.eth.wait_for_transaction_receipt(mint.transact({"from": CREATOR.address}))
    moved = editions.functions.safeTransferFrom(COLLECTOR.address, RIVAL.address, 1, 2, b"")
    web3.eth.wait_for_transaction_receipt(moved.transact({"from": COLLECTOR.address}))
    _index(site, artifacts)
    held = site["client"].get(f"/wallets/{COLLECTOR.address}/holdings").json()
    mine = [h for h in held if h["collection"] == editions.address]
    assert mine == [{**mine[0], "standard": "erc1155", "quantity": "5", "token_id": "1", "confirmed": True}]
    theirs = site["client"].get(f"/wallets/{RIVAL.address}/holdings").json()
    assert [h["quantity"] for h in theirs if h["collection"] == editions.address] == ["2"]
    page, _ = open_as(COLLECTOR)
    _ready(page, "/collector")
    page.click("#connect")
    item = page.locator(f"li[data-holding='31337/{editions.address}/1']")
    item.wait_for()
    assert "5 held (edition)" in item.text_content()
    _shot(page, "collector-editions")


def test_the_creator_mints_an_edition_in_the_studio_and_the_collector_page_counts_the_copies(
        site, open_as, artifacts):
    """Creator studio, editions: an ERC-1155 collection, 25 copies of one work, then 5 more of the same
    id. Before each prompt the page says what it mints (how many copies of which title into which
    collection); after it, the token id and the copies held; the collector page counts them. A number
    of copies that is none, and more copies asked under another work's id, never reach the wallet."""
    _verified(site["client"], CREATOR)
    page, wallet = open_as(CREATOR)
    _ready(page, "/studio")
    _sign_in(page)

    def upload(title: str) -> None:
        page.evaluate("document.getElementById('upload-out').textContent = ''")
        page.set_input_files("#file", files=[{"name": title, "mimeType": "image/png", "buffer": _png(title)}])
        page.click("#upload-form button[type=submit]")
        _done(page, "#upload-out:has-text('CID')")

    title = f"print-run-{secrets.token_hex(3)}.png"
    upload(title)
    page.fill("#collection-name", "Print runs")
    page.fill("#collection-symbol", "RUNS")
    page.select_option("#collection-kind", "erc1155")
    page.click("#collection-form button[type=submit]")
    _done(page, "#collection-out:has-text('ready')")
    assert "creates your editions collection “Print runs” (ERC-1155: several copies of each work)" in _said(wallet)
    collection = page.input_value("#collection-address")
    web3 = connect(site["deployed"].spec("home"))
    editions = web3.eth.contract(address=collection, abi=artifacts.get("Editions1155").abi)
    assert editions.functions.supportsInterface(bytes.fromhex("d9b67a26")).call()
    prompts = len(wallet.words)
    for wrong in ("0", "2.5", "10001"):
        page.fill("#mint-quantity", wrong)
        page.click("#mint")
        page.wait_for_selector(f"#notice.error:has-text('“{wrong}” is not a number of copies')")
    assert len(wallet.words) == prompts
    page.fill("#mint-quantity", "25")
    page.click("#mint")
    _done(page, "#mint-out:has-text('Minted 25 copies')")
    assert _said(wallet) == (f"Before your wallet opens: Your wallet will send a transaction that mints 25 copies of "
                             f"“{title}” into collection {collection} and registers your rights to its content hash.")
    token_id = page.input_value("#token-id")
    assert page.text_content("#mint-out") == f"Minted 25 copies of token {token_id}; you hold 25."
    page.fill("#mint-more-of", token_id)
    page.fill("#mint-quantity", "5")
    page.click("#mint")
    _done(page, "#mint-out:has-text('you hold 30')")
    assert (f"mints 5 more copies of “{title}” (token {token_id}) into collection {collection}; its rights are "
            "registered already") in _said(wallet)
    assert editions.functions.balanceOf(CREATOR.address, int(token_id)).call() == 30
    _shot(page, "studio-editions")
    assert _axe(page) == []
    # Listing copies: more than are held is refused in words before the wallet (the sale is its own test).
    prompts = len(wallet.words)
    page.fill("#price", "0.5")
    page.fill("#list-quantity", "31")
    page.click("#list-form button[type=submit]")
    page.wait_for_selector(f"#notice.error:has-text('You hold 30 copies of token {token_id}: you cannot list 31')")
    assert len(wallet.words) == prompts
    # Another upload cannot borrow the first work's id (its copies would carry the first work's rights).
    upload(f"other-{secrets.token_hex(3)}.png")
    prompts = len(wallet.words)
    page.fill("#mint-quantity", "3")
    page.click("#mint")
    page.wait_for_selector(f"#notice.error:has-text('token id {token_id} in {collection} is another work')")
    assert len(wallet.words) == prompts
    assert editions.functions.balanceOf(CREATOR.address, int(token_id)).call() == 30
    _index(site, artifacts)
    _ready(page, "/collector")
    item = page.locator(f"li[data-holding='31337/{collection}/{token_id}']")
    item.wait_for()
    assert "30 held (edition)" in item.text_content()
    # Its work page: the edition's kind and the copies this wallet holds, the media checked, no one owner.
    work = site["client"].get(f"/catalog/works/31337/{collection}/{token_id}").json()
    assert (work["standard"], work["owner"], work["title"]) == ("erc1155", None, title)
    assert work["rights"]["creator"] == CREATOR.address and work["rights"]["bound"]
    page.wait_for_selector(f"li[data-holding='31337/{collection}/{token_id}'] a:has-text('{title}')")
    item.get_by_role("link").click()
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#media img")
    rights = page.text_content("#rights")
    assert "Edition (ERC-1155)" in rights and "Copies you hold30" in rights
    assert page.is_hidden("#owner-actions")
    assert _axe(page) == []
    assert not page.js_errors  # type: ignore[attr-defined]


def _uploaded(site: dict[str, Any], label: str) -> tuple[Any, Any, dict[str, str], str, str]:
    """A new work uploaded by the verified creator: (client, web3 of home, headers, title, CID)."""
    client = site["client"]
    web3 = connect(site["deployed"].spec("home"))
    headers = _verified(client, CREATOR)
    title = f"{label}-{secrets.token_hex(3)}.png"
    r = client.post("/assets", files={"file": (title, _png(title), "image/png")}, headers=headers)
    assert r.status_code == 201, r.text
    return client, web3, headers, title, r.json()["cid"]


def _fresh_edition(site: dict[str, Any], artifacts: Any, *, label: str, copies: int) -> tuple[str, int, str]:
    """A new editions (ERC-1155) collection of the creator's (10% royalty to the creator) with
    ``copies`` copies of one work minted to the creator: (collection, token id, title)."""
    from tests.support.api_flow import send

    client, web3, headers, title, cid = _uploaded(site, label)
    r = client.post("/collections/tx", json={"chain_id": 31337, "name": label.title(), "symbol": "ED",
                                             "royalty_bps": 1000, "standard": "erc1155"}, headers=headers)
    assert r.status_code == 200, r.text
    send(web3, CREATOR, r.json()["transaction"])
    collection = r.json()["predicted_address"]
    r = client.post(f"/assets/{cid}/mint-tx", json={"chain_id": 31337, "collection": collection, "quantity": copies},
                    headers=headers)
    assert r.status_code == 200, r.text
    receipt = send(web3, CREATOR, r.json())
    editions = web3.eth.contract(address=collection, abi=artifacts.get("Editions1155").abi)
    (created,) = editions.events.WorkCreated().process_receipt(receipt, errors=DISCARD)
    return collection, int(created["args"]["id"]), title


def _eth(wei: int) -> str:
    """An amount as viem's formatEther writes it ("0.03")."""
    from decimal import Decimal

    return format((Decimal(wei) / 10**18).normalize(), "f")


def test_copies_of_an_edition_are_listed_in_the_studio_and_bought_on_the_work_page(site, open_as, artifacts):
    """The creator mints 10 copies and lists 4 at 0.01 ETH each from the studio (the marketplace's
    approval first; none and more than held refused before the wallet); the collector buys 3 of them on
    the work page (more than are left refused before the wallet); the words before each prompt state
    the copies, unit and total price and who gets what; the chain holds 7 and 3; the listing shows 1
    copy left and "Copies you hold" 3. The words exist in Simplified Chinese too."""
    collection, token_id, title = _fresh_edition(site, artifacts, label="edition-sale", copies=10)
    _index(site, artifacts)
    web3 = connect(site["deployed"].spec("home"))
    editions = web3.eth.contract(address=collection, abi=artifacts.get("Editions1155").abi)
    home = site["client"].get("/catalog/platform").json()["chains"][0]
    fee_bps, market = int(home["platform_fee_bps"]), home["marketplace"]
    unit = 10**16

    seller, seller_wallet = open_as(CREATOR)
    _ready(seller, "/studio")
    _sign_in(seller)
    seller.fill("#collection-address", collection)
    seller.fill("#token-id", str(token_id))
    seller.fill("#price", "0.01")
    seller.fill("#days", "7")
    for wrong, words in (("0", "“0” is not a number of copies to list"),
                         ("11", f"You hold 10 copies of token {token_id}: you cannot list 11")):
        seller.fill("#list-quantity", wrong)
        seller.click("#list-form button[type=submit]")
        seller.wait_for_selector(f"#notice.error:has-text('{words}')")
    assert [m for m, _ in seller_wallet.words if m != "personal_sign" and m != "eth_requestAccounts"] == []
    seller.fill("#list-quantity", "4")
    seller.click("#list-form button[type=submit]")
    _done(seller, "#list-out:has-text('Listed')")
    assert f"lets the marketplace {market} transfer tokens of this collection" in _said(seller_wallet)
    signed = _said(seller_wallet, "eth_signTypedData_v4")
    royalty, fee = unit * 1000 // 10_000, unit * fee_bps // 10_000
    assert (f"to sell 4 copies of “{title}” (token {token_id} of {collection}) at 0.01 ETH each, to anyone who "
            f"pays, until ") in signed, signed
    assert (f"Of each copy sold, 10% royalty ({_eth(royalty)} ETH) goes to {CREATOR.address} and "
            f"{fee_bps / 100:g}% platform fee ({_eth(fee)} ETH) to the platform; you receive "
            f"{_eth(unit - royalty - fee)} ETH per copy.") in signed, signed
    orders = site["client"].get("/market/orders", params={"token": collection, "token_id": token_id}).json()
    assert [(o["standard"], o["quantity"], o["unit_price"]) for o in orders] == [(1, "4", str(unit))]
    assert editions.functions.balanceOf(CREATOR.address, token_id).call() == 10  # a listing moves nothing

    _verified(site["client"], COLLECTOR)
    buyer, buyer_wallet = open_as(COLLECTOR)
    work = f"/work/31337/{collection}/{token_id}"
    _ready(buyer, work)
    _sign_in(buyer)
    buyer.wait_for_selector("body[data-ready=true]")
    row = buyer.locator(f"[data-listing='{orders[0]['order_hash']}']")
    row.wait_for()
    assert "4 of 4 copies left at 0.01 ETH each" in row.text_content()
    assert short_address(CREATOR.address) in row.text_content()
    prompts = len(buyer_wallet.words)
    for wrong in ("5", "0"):
        row.get_by_label("Copies to buy").fill(wrong)
        row.get_by_role("button", name="Buy copies").click()
        buyer.wait_for_selector(f"#notice.error:has-text('“{wrong}” copies: this listing has 4 left')")
    assert len(buyer_wallet.words) == prompts and buyer.is_hidden("#buy-panel")
    row.get_by_label("Copies to buy").fill("3")
    row.get_by_role("button", name="Buy copies").click()
    buyer.wait_for_selector("#buy-panel:not([hidden])")
    total = 3 * unit
    royalty, fee = total * 1000 // 10_000, total * fee_bps // 10_000
    terms = buyer.text_content("#buy-terms")
    assert terms == (f"You buy 3 copies of token {token_id} at 0.01 ETH each: you pay 0.03 ETH plus network gas. "
                     f"Out of it, {_eth(royalty)} ETH royalty goes to {CREATOR.address}, {_eth(fee)} ETH platform "
                     f"fee to the platform, and {_eth(total - royalty - fee)} ETH to the seller {CREATOR.address}. "
                     "Press “Confirm in wallet” to open your wallet."), terms
    buyer.click("#buy-confirm")
    _done(buyer, "#notice:has-text('Bought 3 copies')")
    assert _said(buyer_wallet) == "Before your wallet opens: " + terms
    assert editions.functions.balanceOf(CREATOR.address, token_id).call() == 7
    assert editions.functions.balanceOf(COLLECTOR.address, token_id).call() == 3
    buyer.wait_for_selector("#rights:has-text('Copies you hold3')")
    row.wait_for()
    assert "1 of 4 copies left at 0.01 ETH each" in row.text_content()
    # Only what is left can be bought: 2 of the 1 left is refused before the wallet.
    prompts = len(buyer_wallet.words)
    row.get_by_label("Copies to buy").fill("2")
    row.get_by_role("button", name="Buy copies").click()
    buyer.wait_for_selector("#notice.error:has-text('“2” copies: this listing has 1 left; buy 1 to 1')")
    assert len(buyer_wallet.words) == prompts
    _shot(buyer, "work-edition-copies")
    assert _axe(buyer) == []
    # The same page in Simplified Chinese names the listing and the button in its words.
    _ready(buyer, work + "?lang=zh")
    buyer.wait_for_selector("[data-listing]:has-text('剩余 1/4 份，每份 0.01 ETH')")  # noqa: RUF001
    assert buyer.get_by_role("button", name="购买多份").count() == 1
    # The seller sees their own listing with a cancel, not a buy; cancelling it takes the copy off sale.
    _ready(seller, work)
    own = seller.locator(f"[data-listing='{orders[0]['order_hash']}']")
    own.wait_for()
    assert own.get_by_role("button", name="Buy copies").count() == 0
    own.get_by_role("button", name="Cancel my listing").click()
    _done(seller, "#notice:has-text('Listing cancelled')")
    seller.wait_for_selector("#listings:has-text('Not for sale.')")
    # A listing dies when its seller receives more of the id (the holding epoch it signed moves on):
    # listed again, then one more copy minted to the seller, the page offers nothing to buy.
    _ready(seller, "/studio")
    seller.fill("#collection-address", collection)
    seller.fill("#token-id", str(token_id))
    seller.fill("#price", "0.01")
    seller.fill("#list-quantity", "2")
    seller.click("#list-form button[type=submit]")
    _done(seller, "#list-out:has-text('Listed')")
    _ready(buyer, work + "?lang=en")
    buyer.locator("[data-listing]:has-text('2 of 2 copies left')").wait_for()
    minted = editions.functions.mint(CREATOR.address, token_id, 1).transact({"from": CREATOR.address})
    assert web3.eth.wait_for_transaction_receipt(minted)["status"] == 1
    _ready(buyer, work)
    buyer.wait_for_selector("#listings:has-text('Not for sale.')")
    assert buyer.get_by_role("button", name="Buy copies").count() == 0
    assert not buyer.js_errors and not seller.js_errors  # type: ignore[attr-defined]


@pytest.fixture
def relayer(site: dict[str, Any], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The bridge relayer (validators and submitter in one process) on the site's chains, as `make up`
    runs it; stopped after the test."""
    from tests.conftest import settings_env

    env = settings_env(site["deployed"])
    env.update({"CHAINRIGHT_BRIDGE_ENVIRONMENT": "test", "CHAINRIGHT_BRIDGE_POLL_INTERVAL_S": "0.2",
                "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])})
    with open(tmp_path / "relayer.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "chainright", "relayer", "run", "--role", "all"], env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        if proc.returncode not in (0, -15):
            print((tmp_path / "relayer.log").read_text(errors="replace")[-4000:])


def test_a_token_is_sent_to_the_other_chain_from_the_collector_page_and_followed_until_it_lands(
        site, open_as, artifacts, relayer):
    from bridge.message import wrapped_id

    collection, token_id, _ = _fresh_work(site, label="travelling")
    _index(site, artifacts)
    page, wallet = open_as(CREATOR)
    _ready(page, "/collector")
    _sign_in(page)
    holding = page.locator(f"li[data-holding='31337/{collection}/{token_id}']")
    holding.wait_for()
    holding.get_by_role("button", name="Send to chain 31338").click()
    page.wait_for_selector("#notice:has-text('locked here')")
    approve, lock = [words for m, words in wallet.words if m == "eth_sendTransaction"][-2:]
    assert "lets the bridge" in approve and f"token {token_id} of {collection}" in approve
    assert "locks token" in lock and f"minted to {CREATOR.address} on chain 31338" in lock
    row = page.locator("#transfers li", has_text=f"Token {token_id} from chain 31337 to chain 31338")
    row.wait_for()
    _shot(page, "collector-bridge-pending")
    page.wait_for_selector("#notice:has-text('landed on chain 31338')", timeout=180_000)
    assert "delivered" in row.text_content() and re.search(r"Arrived 20\d\d-\d\d-\d\dT", row.text_content())
    _doc_shot(page, "collector-bridge-delivered")
    registry = DeploymentRegistry(site["deployed"].deployments_file)
    remote = connect(site["deployed"].spec("remote"))
    wrapped = remote.eth.contract(address=registry.address(31338, "WrappedCollection"),
                                  abi=artifacts.get("WrappedCollection").abi)
    assert wrapped.functions.ownerOf(wrapped_id(collection, token_id)).call() == CREATOR.address
    assert relayer.poll() is None


def test_a_commission_is_funded_delivered_accepted_and_disputed_in_the_browser(site, open_as, artifacts):
    client = site["client"]
    _verified(client, COLLECTOR)
    creator = _verified(client, CREATOR)
    cids = []
    for n in range(2):
        name = f"sketch-{n}-{secrets.token_hex(3)}.png"
        r = client.post("/assets", files={"file": (name, _png(name), "image/png")}, headers=creator)
        assert r.status_code == 201, r.text
        cids.append(r.json()["cid"])
    # The buyer commissions two milestones; the page says what the funding pays and when it comes back.
    buyer, buyer_wallet = open_as(COLLECTOR)
    _ready(buyer, "/commissions")
    buyer.fill("#escrow-seller", CREATOR.address)
    buyer.fill("#escrow-arbitrator", RIVAL.address)
    buyer.fill("#escrow-amounts", "0.1, 0.2")
    buyer.click("#escrow-form button[type=submit]")
    _done(buyer, "#notice:has-text('created and funded')")
    said = _said(buyer_wallet)
    assert "send 0.3 ETH (300000000000000000 wei) to the escrow contract, funding 2 milestone(s)" in said
    assert f"0.1 ETH (100000000000000000 wei), 0.2 ETH (200000000000000000 wei)) for the artist {CREATOR.address}" in said
    escrow_id = buyer.get_attribute("[data-escrow]", "data-escrow")
    # The artist accepts the terms and delivers both milestones.
    artist, artist_wallet = open_as(CREATOR)
    _ready(artist, "/commissions")
    _sign_in(artist)
    mine = artist.locator(f"[data-escrow='{escrow_id}']")
    mine.get_by_role("button", name="Accept the terms").click()
    _done(artist, "#notice:has-text('Terms accepted')")
    assert f"accepts the terms of escrow {escrow_id} from the buyer {COLLECTOR.address}" in _said(artist_wallet)
    for index, cid in enumerate(cids):
        artist.fill(f"#cid-{escrow_id}-{index}", cid)
        artist.locator(f"[data-escrow='{escrow_id}'] [data-milestone='{index}'] button").click()
        _done(artist, f"[data-escrow='{escrow_id}'] [data-milestone='{index}']:has-text(', delivered, due')")
        assert f"records the delivery of milestone {index} of escrow {escrow_id}" in _said(artist_wallet)
        assert cid in _said(artist_wallet)
    # The buyer accepts the first and disputes the second.
    _ready(buyer, "/commissions")
    first = buyer.locator(f"[data-escrow='{escrow_id}'] [data-milestone='0']")
    first.get_by_role("button", name="Accept the delivery").click()
    _done(buyer, f"[data-escrow='{escrow_id}'] [data-milestone='0']:has-text('released to the artist')")
    assert f"accepts milestone 0 of escrow {escrow_id}: 0.1 ETH (100000000000000000 wei) is released" in _said(buyer_wallet)
    second = buyer.locator(f"[data-escrow='{escrow_id}'] [data-milestone='1']")
    second.get_by_role("button", name="Dispute").click()
    _done(buyer, f"[data-escrow='{escrow_id}'] [data-milestone='1']:has-text(', disputed, due')")
    assert f"the arbitrator {RIVAL.address} decides" in _said(buyer_wallet)
    _shot(buyer, "commissions")
    assert _axe(buyer) == []
    # The chain agrees: one milestone released, one disputed.
    registry = DeploymentRegistry(site["deployed"].deployments_file)
    web3 = connect(site["deployed"].spec("home"))
    escrow = web3.eth.contract(address=registry.address(31337, "MilestoneEscrow"), abi=artifacts.get("MilestoneEscrow").abi)
    states = [escrow.functions.getMilestone(int(escrow_id), i).call()[3] for i in (0, 1)]
    assert states == [4, 3]  # released, disputed

    # Only the arbitrator decides, and only a disputed milestone: neither party's page offers it, the
    # API refuses it to them, and it refuses a milestone that is not in dispute.
    for page in (buyer, artist):
        _ready(page, "/commissions")
        page.wait_for_selector(f"[data-escrow='{escrow_id}'] [data-milestone='1']:has-text(', disputed, due')")
        assert page.locator(f"[data-escrow='{escrow_id}'] [data-milestone='1'] form").count() == 0
    decide = f"/escrows/31337/{escrow_id}/milestones/{{}}/arbitrate-tx"
    for party in (COLLECTOR, CREATOR):
        r = client.post(decide.format(1), json={"seller_bps": 10_000}, headers=login(client, party))
        assert r.status_code == 403 and "only the arbitrator" in r.json()["detail"], r.text
    judge_headers = login(client, RIVAL)
    assert client.post(decide.format(0), json={"seller_bps": 5000}, headers=judge_headers).status_code == 422
    # The arbitrator opens /commissions, sees the dispute, gives the artist 60%: the page says first
    # what each side receives (the platform fee out of the artist's part, as the contract computes it).
    terms = client.get(f"/escrows/31337/{escrow_id}").json()
    amount = 2 * 10**17
    to_artist = amount * 6000 // 10_000
    fee = to_artist * terms["fee_bps"] // 10_000
    royalty = to_artist * terms["royalty_bps"] // 10_000
    paid_artist, paid_buyer = to_artist - fee - royalty, amount - to_artist
    before = {a.address: web3.eth.get_balance(a.address) for a in (CREATOR, COLLECTOR)}
    judge, judge_wallet = open_as(RIVAL)
    _ready(judge, "/commissions")
    judge.click("#connect")
    disputed = judge.locator(f"[data-escrow='{escrow_id}'] [data-milestone='1']")
    disputed.wait_for()
    assert "You are the arbitrator" in judge.text_content(f"[data-escrow='{escrow_id}']")
    assert judge.locator(f"[data-escrow='{escrow_id}'] [data-milestone='0'] form").count() == 0  # released
    judge.fill(f"#share-{escrow_id}-1", "60")
    disputed.get_by_role("button", name="Decide").click()
    _done(judge, "#notice:has-text('Decided:')")
    said = _said(judge_wallet)
    assert (f"decides milestone 1 of escrow {escrow_id} ({_eth_wei(amount)}): 60% to the artist {CREATOR.address}, "
            f"who receives {_eth_wei(paid_artist)} after the platform fee ({_eth_wei(fee)}) and the royalty "
            f"({_eth_wei(royalty)}); 40% back to the buyer {COLLECTOR.address}, who receives {_eth_wei(paid_buyer)}") in said
    assert judge.text_content("#notice") == (f"Decided: {_eth_wei(paid_artist)} to the artist, "
                                             f"{_eth_wei(paid_buyer)} back to the buyer.")
    # After: the milestone is decided, the escrow holds nothing, each party was paid what the words said
    # (nothing left owed to either as a credit), and a second decision is refused.
    judge.wait_for_selector(f"[data-escrow='{escrow_id}'] [data-milestone='1']:has-text('decided by the arbitrator')")
    section = judge.locator(f"[data-escrow='{escrow_id}']")
    assert "The escrow holds 0 ETH (0 wei)" in section.text_content()
    credits = judge.locator(f"[data-credits='{escrow_id}']")
    credits.wait_for()
    judge.wait_for_selector(f"[data-credits='{escrow_id}']:has-text('buyer')")
    assert credits.text_content() == ("Held for withdrawal (payouts that failed): buyer 0 ETH (0 wei); "
                                      "artist 0 ETH (0 wei).")
    assert escrow.functions.getMilestone(int(escrow_id), 1).call()[3] == 6  # resolved
    assert web3.eth.get_balance(CREATOR.address) - before[CREATOR.address] == paid_artist
    assert web3.eth.get_balance(COLLECTOR.address) - before[COLLECTOR.address] == paid_buyer
    assert client.post(decide.format(1), json={"seller_bps": 0}, headers=judge_headers).status_code == 422
    _shot(judge, "commissions-arbitrated")
    assert _axe(judge) == []
    assert not buyer.js_errors and not artist.js_errors and not judge.js_errors  # type: ignore[attr-defined]


def _eth_wei(wei: int) -> str:
    """An amount as the pages write it: "0.117 ETH (117000000000000000 wei)"."""
    from decimal import Decimal

    return f"{format((Decimal(wei) / 10**18).normalize(), 'f')} ETH ({wei} wei)"


def _tagged_shop(site: dict[str, Any], artifacts: Any, run: str) -> dict[str, Any]:
    """A collection of the creator's (10% royalty to a three-way splitter) with three tagged works
    listed at 0.3, 0.1 and 0.2 ETH; the collector buys the first; the index follows."""
    from chain.tx import TxSender
    from tests.support.api_flow import send

    client = site["client"]
    web3 = connect(site["deployed"].spec("home"))
    creator = _verified(client, CREATOR)
    split = client.post("/splits/tx", json={"chain_id": 31337, "rights_holder": CREATOR.address,
                                            "issuer": RIVAL.address, "channel": NEWCOMER.address,
                                            "salt": "0x" + secrets.token_hex(32)}, headers=creator)
    assert split.status_code == 200, split.text
    send(web3, CREATOR, split.json()["transaction"])
    r = client.post("/collections/tx", json={"chain_id": 31337, "name": f"Tides {run}", "symbol": "TDE",
                                             "royalty_bps": 1000, "royalty_receiver": split.json()["splitter"]},
                    headers=creator)
    assert r.status_code == 200, r.text
    send(web3, CREATOR, r.json()["transaction"])
    collection = r.json()["predicted_address"]
    tokens: dict[str, int] = {}
    for name, tags in (("A", [run, "sea"]), ("B", [run, "sea"]), ("C", [run, "storm"])):
        title = f"Tide {name} {run}"
        asset = client.post("/assets", files={"file": (f"{name}.png", _png(title), "image/png")},
                            data={"title": title, "description": f"work {name}", "tags": tags}, headers=creator)
        assert asset.status_code == 201, asset.text
        mint = client.post(f"/assets/{asset.json()['cid']}/mint-tx", json={"chain_id": 31337, "collection": collection},
                           headers=creator)
        receipt = send(web3, CREATOR, mint.json())
        log = next(x for x in receipt["logs"] if x["address"] == collection and len(x["topics"]) == 4)
        tokens[name] = int.from_bytes(bytes(log["topics"][3]), "big")
    market = DeploymentRegistry(site["deployed"].deployments_file).address(31337, "Marketplace")
    nft = web3.eth.contract(address=collection, abi=artifacts.get("CreatorCollection").abi)
    owner = TxSender(web3, CREATOR)
    owner.transact(owner.call_tx(nft.functions.setApprovalForAll(market, True)))
    orders = {name: _list_as(site, artifacts, CREATOR, collection, tokens[name], price)
              for name, price in (("A", 3 * 10**17), ("B", 10**17), ("C", 2 * 10**17))}
    collector = _verified(client, COLLECTOR)
    fill = client.post(f"/market/orders/{orders['A']}/fill-tx", json={"amount": 1}, headers=collector)
    assert fill.status_code == 200, fill.text
    send(web3, COLLECTOR, fill.json())
    _index(site, artifacts)
    return {"collection": collection, "tokens": tokens, "nft": nft}


def test_explore_searches_by_words_tags_filters_and_pages_through_get_works(site, open_as, artifacts):
    """Explore asks GET /works (as the console does): words, tag chips, listed only, price range,
    sort and "more" by the cursor; each card shows its checked preview and price in ETH (wei); an
    empty result says so; the filters read in Simplified Chinese too."""
    run = f"t{secrets.token_hex(3)}"
    _tagged_shop(site, artifacts, run)
    page, _ = open_as(NEWCOMER)
    cards = page.locator("#works > li")
    _ready(page, f"/?q={run}&sort=price_asc")  # for sale only, by default: A is sold
    page.wait_for_selector("#explore-status:has-text('2 works shown')")
    assert [c.locator("h2").text_content() for c in cards.all()] == [f"Tide B {run}", f"Tide C {run}"]
    assert "0.1 ETH (100000000000000000 wei)" in cards.first.text_content()
    assert "royalty 10%" in cards.first.text_content() and "image/png" in cards.first.text_content()
    page.wait_for_selector("#works li:first-child .thumb img")  # the preview, its hash checked
    page.select_option("#f-sort", "price_desc")
    page.click("#search button[type=submit]")
    page.wait_for_selector(f"#works li:first-child h2:has-text('Tide C {run}')")
    # Not only works for sale: the sold one too, newest first, one per page through the cursor.
    _ready(page, f"/?q={run}&listed=0&limit=1")
    page.wait_for_selector("#explore-status:has-text('1 works shown')")
    assert cards.first.locator("h2").text_content() == f"Tide C {run}"
    page.click("#more")
    page.wait_for_selector("#explore-status:has-text('2 works shown')")
    page.click("#more")
    page.wait_for_selector("#explore-status:has-text('3 works shown')")
    assert page.is_hidden("#more")  # no further page
    assert "Not for sale" in page.locator("#works li", has_text=f"Tide A {run}").text_content()
    # A tag chip narrows the search; its remove button widens it again.
    _ready(page, f"/?q={run}&listed=0")
    page.locator("#works li", has_text=f"Tide C {run}").locator("[data-tag=storm]").click()
    page.wait_for_selector("#explore-status:has-text('1 works shown')")
    assert "tag=storm" in page.url and page.is_visible("[data-remove-tag=storm]")
    page.click("[data-remove-tag=storm]")
    page.wait_for_selector("#explore-status:has-text('3 works shown')")
    # A price range (in ETH) keeps to works for sale between the two prices.
    page.fill("#f-min", "0.15")
    page.fill("#f-max", "0.25")
    page.check("#f-listed")
    page.click("#search button[type=submit]")
    page.wait_for_selector("#explore-status:has-text('1 works shown')")
    assert cards.first.locator("h2").text_content() == f"Tide C {run}"
    _shot(page, "explore-filters")
    assert _axe(page) == []
    page.fill("#f-min", "0.5 ETH")  # refused in words, the API not asked
    page.click("#search button[type=submit]")
    page.wait_for_selector("#notice.error:has-text('0.5 ETH')")
    page.fill("#f-min", "")
    page.fill("#q", f"{run} nothing-like-this")
    page.click("#search button[type=submit]")
    page.wait_for_selector("#explore-status:has-text('No work for sale matches this search')")
    assert cards.count() == 0
    _ready(page, f"/?q={run}&lang=zh")
    page.wait_for_selector("#explore-status:has-text('已显示 2 件作品')")
    assert page.text_content("legend") == "筛选" and "仅显示在售" in page.text_content("#search")
    _ready(page, "/?lang=en")


def test_explore_filters_by_currency_license_and_jurisdiction(site, open_as, artifacts):
    """Issue #19: the three selects, labelled and reached by Tab after the price range, kept in the
    address: the collector lists A in WETH, B gets personal license terms, then the risk officer
    sets the collection's profile to no resale; each filter alone, and the three together."""
    from chain.tx import TxSender
    from tests.support.api_flow import send

    run = f"f{secrets.token_hex(3)}"
    shop = _tagged_shop(site, artifacts, run)
    client, web3 = site["client"], connect(site["deployed"].spec("home"))
    registry = DeploymentRegistry(site["deployed"].deployments_file)
    weth = registry.address(31337, "WrappedEther")
    holder = TxSender(web3, COLLECTOR)
    holder.transact(holder.call_tx(shop["nft"].functions.setApprovalForAll(registry.address(31337, "Marketplace"),
                                                                            True)))
    _list_as(site, artifacts, COLLECTOR, shop["collection"], shop["tokens"]["A"], 10**17, currency=weth)
    lic = client.post("/licenses/tx", json={"chain_id": 31337, "collection": shop["collection"],
                                            "token_ids": [shop["tokens"]["B"]], "template": "personal"},
                      headers=_verified(client, CREATOR))
    assert lic.status_code == 200, lic.text
    for tx in [lic.json()["publish"], *lic.json()["attach"]]:
        if tx:
            send(web3, CREATOR, tx)
    _index(site, artifacts)
    page, _ = open_as(NEWCOMER)
    titles = lambda: sorted(h.text_content() for h in page.locator("#works > li h2").all())  # noqa: E731

    def search(**selects: str) -> None:
        for name, value in selects.items():
            page.select_option(f"#f-{name}", value)
        page.click("#search button[type=submit]")

    _ready(page, f"/?q={run}&listed=0")
    page.wait_for_selector("#explore-status:has-text('3 works shown')")
    page.focus("#f-max")
    order = []
    for _ in range(3):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id"))
    assert order == ["f-chain", "f-media", "f-currency"], order
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-license"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-jurisdiction"
    assert page.locator("label[for=f-currency]").text_content() == "Currency"
    search(currency=weth)
    page.wait_for_selector("#explore-status:has-text('1 works shown')")
    assert titles() == [f"Tide A {run}"] and f"currency={weth}" in page.url
    assert "100000000000000000 (smallest units of" in page.locator("#works > li").first.text_content()
    search(currency="ETH")
    page.wait_for_selector(f"#works li h2:has-text('Tide C {run}')")
    assert titles() == [f"Tide B {run}", f"Tide C {run}"]
    search(currency="", license="personal")
    page.wait_for_selector("#explore-status:has-text('1 works shown')")
    assert titles() == [f"Tide B {run}"] and "license=personal" in page.url
    search(license="", jurisdiction="no_resale")
    page.wait_for_selector("#explore-status:has-text('No work matches this search')")
    officer = login(client, OFFICER)
    r = client.put(f"/market/breaker/31337/{shop['collection']}", json={"secondary_sales": False}, headers=officer)
    assert r.status_code == 200, r.text
    _ready(page, f"/?q={run}&listed=0&jurisdiction=no_resale&license=personal&currency=ETH")  # all three
    page.wait_for_selector("#explore-status:has-text('1 works shown')")
    assert titles() == [f"Tide B {run}"]
    assert [page.input_value(f"#f-{n}") for n in ("currency", "license", "jurisdiction")] == [
        "ETH", "personal", "no_resale"]
    search(license="", currency="")
    page.wait_for_selector("#explore-status:has-text('3 works shown')")
    _shot(page, "explore-currency-license-jurisdiction")
    assert _axe(page) == []
    _ready(page, f"/?q={run}&listed=0&jurisdiction=open&lang=zh")
    page.wait_for_selector("#explore-status:has-text('没有')")
    assert page.text_content("label[for=f-jurisdiction]") == "司法辖区规则"
    assert not page.js_errors  # type: ignore[attr-defined]
    _ready(page, "/?lang=en")


def test_the_price_history_chart_places_each_sale_at_its_date(site, open_as):
    """The chart's x axis is time: three sales, the second a day after the first and the third nine
    days after that, sit at 0, 1/10 and 10/10 of the axis (not evenly spaced), under which the first and
    last dates are written. The sales are put into the catalogue's reply (a route in the browser): the
    chart is drawn from whatever history the API gives."""
    collection, token_id, _ = _fresh_work(site, label="charted")
    page, _ = open_as(NEWCOMER)
    sales = [("2026-03-11T12:00:00Z", 3), ("2026-03-01T12:00:00Z", 1), ("2026-03-02T12:00:00Z", 2)]

    def with_history(route: Any) -> None:
        reply = route.fetch()
        work = reply.json()
        work["market"] = {**(work.get("market") or {}), "price_history": [
            {"at": at, "kind": "listing", "seller": CREATOR.address, "buyer": COLLECTOR.address, "quantity": "1",
             "unit_price": {"wei": str(n * 10**17), "eth": f"0.{n}", "text": f"0.{n} ETH ({n * 10**17} wei)"}}
            for at, n in sales]}
        route.fulfill(response=reply, json=work)

    page.route(f"**/catalog/works/31337/{collection}/{token_id}", with_history)
    _ready(page, f"/work/31337/{collection}/{token_id}")
    page.wait_for_selector("#history-chart circle")
    xs = [float(x) for x in page.eval_on_selector_all("#history-chart circle", "cs => cs.map(c => c.getAttribute('cx'))")]
    assert xs[0] == 10 and xs[2] == 310 and abs(xs[1] - (10 + 300 / 10)) < 1e-6, xs
    assert page.eval_on_selector_all("#history-chart text", "ts => ts.map(t => t.textContent)") == ["2026-03-01", "2026-03-11"]
    assert "3 sales" in page.get_attribute("#history-chart", "aria-label")


def test_explore_filters_by_chain_and_media_type_and_the_address_keeps_them(site, open_as, artifacts):
    """Explore's chain and media-type filters: four works (an image and a text on each chain), each
    filter alone and both together narrow the list to exactly the expected works; the filters go into
    the page's address, and a reload of that address shows the same list with the same choices."""
    from tests.support.api_flow import send

    run = f"f{secrets.token_hex(3)}"
    client = site["client"]
    creator = _verified(client, CREATOR)
    titles: dict[tuple[int, str], str] = {}
    for chain in ("home", "remote"):
        spec = site["deployed"].spec(chain)
        web3 = connect(spec)
        r = client.post("/collections/tx", json={"chain_id": spec.chain_id, "name": f"Shores {run}", "symbol": "SHR",
                                                 "royalty_bps": 500}, headers=creator)
        assert r.status_code == 200, r.text
        send(web3, CREATOR, r.json()["transaction"])
        collection = r.json()["predicted_address"]
        for kind, name, mime, content in (("image", "shore.png", "image/png", _png(f"{run}-{chain}")),
                                          ("text", "shore.txt", "text/plain", f"A poem, {run} on {chain}.".encode())):
            title = f"Shore {kind} {spec.chain_id} {run}"
            asset = client.post("/assets", files={"file": (name, content, mime)}, data={"title": title},
                                headers=creator)
            assert asset.status_code == 201, asset.text
            mint = client.post(f"/assets/{asset.json()['cid']}/mint-tx",
                               json={"chain_id": spec.chain_id, "collection": collection}, headers=creator)
            assert mint.status_code == 200, mint.text
            send(web3, CREATOR, mint.json())
            titles[(spec.chain_id, kind)] = title
    _index(site, artifacts, "home")
    _index(site, artifacts, "remote")
    page, _ = open_as(NEWCOMER)

    def shown(count: int) -> set[str]:
        page.wait_for_selector(f"#explore-status:has-text('{count} works shown')")
        return {str(c.locator("h2").text_content()) for c in page.locator("#works > li").all()}

    def search(chain_id: str, media: str) -> None:
        page.select_option("#f-chain", chain_id)
        page.select_option("#f-media", media)
        page.click("#search button[type=submit]")

    def expected(chains: tuple[int, ...], kinds: tuple[str, ...]) -> set[str]:
        return {titles[(c, k)] for c in chains for k in kinds}

    _ready(page, f"/?q={run}&listed=0")
    assert shown(4) == expected((31337, 31338), ("image", "text"))
    search("31338", "")
    page.wait_for_url(re.compile(r"[?&]chain_id=31338(&|$)"))
    assert shown(2) == expected((31338,), ("image", "text"))
    search("31338", "text")
    page.wait_for_url(re.compile(r"[?&]media_type=text(&|$)"))
    assert shown(1) == expected((31338,), ("text",))
    assert "chain_id=31338" in page.url and f"q={run}" in page.url and "listed=0" in page.url
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert shown(1) == expected((31338,), ("text",))
    assert page.input_value("#f-chain") == "31338" and page.input_value("#f-media") == "text"
    search("", "text")
    page.wait_for_function("() => !location.search.includes('chain_id=')")
    assert shown(2) == expected((31337, 31338), ("text",))
    search("31337", "image")
    assert shown(1) == expected((31337,), ("image",))
    page.wait_for_selector("#works li .thumb img")  # the image's preview, its hash checked
    search("", "image")
    assert shown(2) == expected((31337, 31338), ("image",))
    search("", "video")
    page.wait_for_selector("#explore-status:has-text('No work matches this search')")
    assert page.locator("#works > li").count() == 0
    _shot(page, "explore-chain-media")


def test_the_work_page_charts_prices_and_split_shows_related_works_and_the_owner_rents_and_gives(
        site, open_as, artifacts):
    """The work page draws the price history and the royalty split (inline SVG, in words too) and the
    related works with their reason; its owner rents it out (ERC-4907) and gives it away, each time
    the page saying what the wallet will sign before it opens; a mistyped address never reaches the
    wallet."""
    run = f"t{secrets.token_hex(3)}"
    shop = _tagged_shop(site, artifacts, run)
    collection, token = shop["collection"], shop["tokens"]["A"]
    page, wallet = open_as(COLLECTOR)
    _ready(page, f"/work/31337/{collection}/{token}")
    assert page.is_hidden("#owner-actions")  # not signed in: nobody's own actions
    history = page.get_attribute("#history-chart", "aria-label")
    assert "1 sales" in history and "highest 0.3 ETH (300000000000000000 wei)" in history
    assert "bought at the listed price, 0.3 ETH (300000000000000000 wei)" in page.text_content("#history")
    split = page.get_attribute("#split-chart", "aria-label")
    assert split.startswith("How the royalty is split:") and short_address(CREATOR.address) in split
    assert page.locator("#split-chart rect").count() == 3
    related = page.locator("#related li", has_text=f"Tide B {run}")
    related.wait_for()
    assert "shared tag" in related.locator(".reason").text_content()
    _sign_in(page)
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#owner-actions:not([hidden])")
    _shot(page, "work-owner-actions")
    assert _axe(page) == []
    # A mistyped address is refused in words; the wallet is not opened.
    prompts = len(wallet.words)
    page.fill("#gift-to", "0x1234")
    page.click("#gift-form button[type=submit]")
    page.wait_for_selector("#notice.error:has-text('is not an address')")
    page.fill("#rent-user", RIVAL.address)
    page.fill("#rent-days", "0")
    page.click("#rent-form button[type=submit]")
    page.wait_for_selector("#notice.error:has-text('is not a number of days')")
    assert len(wallet.words) == prompts
    # Rent to the rival for three days: the chain records the user and the end.
    page.fill("#rent-days", "3")
    page.click("#rent-form button[type=submit]")
    _done(page, "#notice:has-text('Rented')")
    said = _said(wallet)
    assert said.startswith("Before your wallet opens: Your wallet will send a transaction that lets "
                           f"{RIVAL.address} use token {token} of {collection} until ")
    assert shop["nft"].functions.userOf(token).call() == RIVAL.address
    page.wait_for_selector(f"#rental:has-text('In use by {RIVAL.address}')")
    # Give it to the newcomer: the token moves, and the page no longer offers the owner's actions.
    page.fill("#gift-to", NEWCOMER.address)
    page.click("#gift-form button[type=submit]")
    _done(page, "#notice:has-text('Given to')")
    assert f"gives token {token} of {collection} to {NEWCOMER.address} for nothing" in _said(wallet)
    assert shop["nft"].functions.ownerOf(token).call() == NEWCOMER.address
    page.wait_for_selector("#owner-actions[hidden]", state="attached")
    assert NEWCOMER.address in page.text_content("#rights")
