"""``chainright demo``: the mission, scripted, against a running platform (or one it starts).

Creator, collector and auditor act as real users do: through the HTTP API with their own wallets
(the platform never signs for them), on the real chains, the real IPFS node and the real relayer.
Each step prints what happened with transaction hashes and amounts; the first failure stops the
demo with an error naming the step.

Where it runs: the platform ``chainright up`` runs with the same settings (``CHAINRIGHT_API_*``,
``CHAINRIGHT_CHAIN_*``), or, with ``--self-start`` or when nothing answers there, a platform the
demo starts itself (``chainright up`` in a temporary data directory, on free ports) and stops at
the end.

Who is who (anvil development accounts, so the demo needs no wallet set-up): creator #1,
collector #2, royalty recipients #3 (rights holder), #4 (issuer), #5 (channel), KYC officer #6.
The officer must hold the ``kyc_officer`` role on the platform (``CHAINRIGHT_API_ROLE_GRANTS``);
``chainright up`` in development grants it when no grants are set, and a self-started platform is
given it.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.logs import DISCARD

from chain.errors import ChainError
from chain.ports import free_port
from chainright.roles import OFFICER_INDEX, officer_grants

Say = Callable[[str], None]

CREATOR_INDEX, COLLECTOR_INDEX = 1, 2
RIGHTS_INDEX, ISSUER_INDEX, CHANNEL_INDEX = 3, 4, 5
PRICE_WEI = 10**18
ROYALTY_BPS = 1_000
LICENSE_FEE_WEI = 10**16
LICENSE_DAYS = 30
OUTLIER_FACTOR = 10
ETH = "0x" + "00" * 20
APPLICATIONS = {
    "creator": {"legal_name": "Camille Creator", "date_of_birth": "1988-02-14", "country": "FR",
                "document_type": "passport", "document_number": "DEMO-CR-001"},
    "collector": {"legal_name": "Colin Collector", "date_of_birth": "1979-09-30", "country": "DE",
                  "document_type": "id_card", "document_number": "DEMO-CO-002"},
}


class DemoStepError(ChainError):
    """Raised when a demo step fails; the message names the step and what went wrong."""


def eth(wei: int) -> str:
    from chain.formatting import format_wei

    return format_wei(wei)


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()


# --------------------------------------------------------------------------------------------
# where the platform is


@dataclass
class Target:
    """A running platform: its API URL and the settings that reach its chains and database."""

    api_url: str
    chain_settings: Any
    database_url: str
    self_started: bool = False
    data_dir: Path | None = None


def api_answers(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as r:  # noqa: S310 (our API)
            return bool(r.status == 200)
    except OSError:
        return False


@contextmanager
def self_started_platform(say: Say, timeout_s: float = 600.0) -> Iterator[Target]:
    """``chainright up`` in a temporary data directory on free ports, stopped (Ctrl-C) at the end."""
    from api.settings import ApiSettings
    from chain.settings import ChainSettings

    with tempfile.TemporaryDirectory(prefix="chainright-demo-") as tmp:
        ports = {"CHAINRIGHT_CHAIN_HOME_PORT": free_port(), "CHAINRIGHT_CHAIN_REMOTE_PORT": free_port(),
                 "CHAINRIGHT_API_PORT": free_port()}
        env = dict(os.environ, CHAINRIGHT_CHAIN_DATA_DIR=tmp, CHAINRIGHT_API_DATA_DIR=tmp,
                   CHAINRIGHT_API_ROLE_GRANTS=json.dumps(officer_grants()),
                   **{k: str(v) for k, v in ports.items()})
        env.pop("CHAINRIGHT_API_IPFS_API", None)  # its own IPFS node, started by `up`
        say(f"starting a platform of its own: chainright up (data directory {tmp})")
        proc = subprocess.Popen([sys.executable, "-m", "chainright", "up"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        log_lines: list[str] = []
        ready = threading.Event()

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                log_lines.append(line.rstrip())
                if line.startswith("ready."):
                    ready.set()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            started, shown = time.monotonic(), 0
            while not ready.wait(0.5):
                for line in log_lines[shown:]:
                    say(f"  up: {line}")
                shown = len(log_lines)
                if proc.poll() is not None:
                    raise DemoStepError(f"step 0 'start the platform' failed: chainright up exited with code "
                                        f"{proc.returncode}:\n" + "\n".join(log_lines[-15:]))
                if time.monotonic() - started > timeout_s:
                    raise DemoStepError(f"step 0 'start the platform' failed: chainright up was not ready "
                                        f"within {timeout_s:.0f}s")
            for line in log_lines[shown:]:
                say(f"  up: {line}")
            say(f"platform ready after {time.monotonic() - started:.0f}s")
            chain_settings = ChainSettings(data_dir=Path(tmp), home_port=ports["CHAINRIGHT_CHAIN_HOME_PORT"],
                                           remote_port=ports["CHAINRIGHT_CHAIN_REMOTE_PORT"])
            api_settings = ApiSettings(data_dir=Path(tmp), port=ports["CHAINRIGHT_API_PORT"])
            yield Target(f"http://127.0.0.1:{ports['CHAINRIGHT_API_PORT']}", chain_settings,
                         api_settings.effective_database_url, self_started=True, data_dir=Path(tmp))
        finally:
            if proc.poll() is None:
                say("stopping the platform the demo started")
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=90)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            reader.join(timeout=5)


# --------------------------------------------------------------------------------------------
# the actors and their tools


@dataclass
class Demo:
    target: Target
    out: Say
    """Where the story goes (stdout)."""
    say: Say
    """Progress and waiting (stderr)."""
    bridge_timeout_s: float = 180.0
    index_timeout_s: float = 120.0
    out_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="chainright-demo-out-")))
    state: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from chain.artifacts import Artifacts
        from chain.connection import connect
        from chain.deployments import DeploymentRegistry
        from chain.devaccounts import dev_account

        self.accounts = {name: dev_account(i) for name, i in (
            ("creator", CREATOR_INDEX), ("collector", COLLECTOR_INDEX), ("rights holder", RIGHTS_INDEX),
            ("issuer", ISSUER_INDEX), ("channel", CHANNEL_INDEX), ("officer", OFFICER_INDEX))}
        self.home_spec = self.target.chain_settings.spec("home")
        self.remote_spec = self.target.chain_settings.spec("remote")
        self.home = connect(self.home_spec)
        self.remote = connect(self.remote_spec)
        self.artifacts = Artifacts.load()
        self.registry = DeploymentRegistry(self.target.chain_settings.deployments_file)

    # -- helpers -------------------------------------------------------------------------------

    def contract(self, web3: Web3, name: str, address: str | None = None, artifact: str | None = None) -> Any:
        chain_id = self.home_spec.chain_id if web3 is self.home else self.remote_spec.chain_id
        where = address or self.registry.address(chain_id, name)
        return web3.eth.contract(address=Web3.to_checksum_address(where),
                                 abi=self.artifacts.get(artifact or name).abi)

    def _holding_epoch(self, collection: str, holder: str, token_id: int) -> int:
        """The token's holding epoch a listing binds (it dies when the token leaves ``holder``)."""
        nft = self.contract(self.home, "CreatorCollection", collection)
        return int(nft.functions.holdingEpoch(holder, token_id).call())

    def client(self, who: str) -> Any:
        from api.client import ChainrightClient
        from chain.wallet import Wallet

        return ChainrightClient(self.target.api_url, Wallet(self.accounts[who]), self.home_spec.chain_id)

    def send(self, web3: Web3, who: str, fn: Any, value: int = 0) -> Any:
        """A contract call signed by ``who``'s own wallet."""
        from chain.reverts import ErrorDecoder
        from chain.tx import TxSender

        sender = TxSender(web3, self.accounts[who],
                          decoder=ErrorDecoder(self.artifacts.get(n).abi for n in self.artifacts.names()))
        return sender.transact(sender.call_tx(fn, value=value))

    def send_unsigned(self, who: str, unsigned: dict[str, Any]) -> Any:
        """An unsigned transaction from the API, signed and sent by ``who``'s wallet."""
        from chain.reverts import ErrorDecoder
        from chain.wallet import Wallet

        return Wallet(self.accounts[who]).send(
            self.home, unsigned, ErrorDecoder(self.artifacts.get(n).abi for n in self.artifacts.names()))

    def wait_for(self, what: str, predicate: Callable[[], bool], timeout_s: float) -> float:
        started = time.monotonic()
        last = started
        while not predicate():
            now = time.monotonic()
            if now - started > timeout_s:
                raise ChainError(f"gave up waiting for {what} after {timeout_s:.0f}s")
            if now - last >= 5:
                self.say(f"  ... waiting for {what} ({now - started:.0f}s)")
                last = now
            time.sleep(0.25)
        return time.monotonic() - started

    # -- steps ---------------------------------------------------------------------------------

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("creator logs in with a DID", self.creator_login),
            ("creator passes KYC", lambda: self.pass_kyc("creator")),
            ("creator uploads the work to IPFS", self.upload),
            ("creator registers and mints the work (30/40/30 split, license offer)", self.mint),
            ("collector logs in with a wallet (SIWE) and passes KYC", self.collector_login),
            ("collector buys the work through a signed order", self.sale),
            ("a license is bought", self.license),
            ("royalty recipients withdraw", self.withdraw),
            ("the token crosses to the remote chain and back", self.bridge),
            ("auditor exports the provenance bundle and verifies it offline", self.audit),
            ("a burst of outlier orders trips the price circuit breaker", self.breaker),
        ]

    def run(self) -> None:
        steps = self.steps()
        home, remote = self.home_spec, self.remote_spec
        self.out(f"Chainright demo against {self.target.api_url} (home chain {home.chain_id} "
                 f"{home.rpc_url}, remote chain {remote.chain_id} {remote.rpc_url})")
        if not api_answers(self.target.api_url):
            raise DemoStepError(f"step 0 'reach the platform' failed: no API answers at "
                                f"{self.target.api_url}; start it with 'chainright up' (or run "
                                "'chainright demo --self-start')")
        for n, (name, step) in enumerate(steps, start=1):
            self.out(f"\n[{n}/{len(steps)}] {name}")
            started = time.monotonic()
            try:
                step()
            except Exception as exc:  # any failure ends the demo, named by its step
                raise DemoStepError(f"step {n} '{name}' failed: {exc}") from exc
            self.say(f"  ({time.monotonic() - started:.1f}s)")
        self.out(f"\ndemo complete: {len(steps)} steps passed")

    def creator_login(self) -> None:
        from did.credentials import build_presentation
        from did.holder import sign_presentation

        creator = self.accounts["creator"]
        client = self.client("creator")
        holder = f"did:pkh:eip155:{self.home_spec.chain_id}:{creator.address}"
        challenge = client.post("/auth/did/challenge")
        vp = sign_presentation(build_presentation(holder), creator, "EthereumEip712Signature2021",
                               challenge["challenge"], challenge["domain"], datetime.now(UTC))
        session = client.post("/auth/did/login", {"presentation": vp})
        client.token = session["token"]
        me = client.me()
        self.state["creator"] = client
        self.out(f"  creator {me['did']} signed a verifiable presentation (EIP-712) over challenge "
                 f"{challenge['challenge'][:16]}...; session opened (address {me['address']})")

    def _officer(self) -> Any:
        if "officer" not in self.state:
            officer = self.client("officer")
            officer.login()
            if "kyc_officer" not in officer.me().get("roles", []):
                grant = json.dumps(officer_grants(self.home_spec.chain_id))
                raise ChainError("the demo's KYC officer (anvil account #6) holds no kyc_officer role on "
                                 f"this platform: start it with CHAINRIGHT_API_ROLE_GRANTS='{grant}', or run "
                                 "'chainright demo --self-start'")
            self.state["officer"] = officer
        return self.state["officer"]

    def pass_kyc(self, who: str) -> None:
        from api.client import ClientError

        client = self.state[who]
        status = client.kyc_status()
        if status["verified"]:
            self.out(f"  {who} is already KYC-verified (level {status['level']}, "
                     f"on chain {status['on_chain']})")
            return
        try:
            application = client.kyc_apply(APPLICATIONS[who])
        except ClientError as exc:
            if exc.extra.get("status_code") != 409:
                raise
            application = client.get("/kyc/applications/mine")
        self.out(f"  {who} applied: application {application['id']} is {application['state']} "
                 f"(manual review provider; personal data encrypted at rest)")
        approved = self._officer().post(f"/kyc/applications/{application['id']}/approve", {"level": 2})
        writes = ", ".join(f"chain {w['chain_id']} tx {w['tx_hash']}" for w in approved["chain_writes"])
        self.out(f"  officer approved at level 2: identity registry written ({writes})")
        status = client.kyc_status()
        if not status["verified"]:
            raise ChainError(f"KYC status after approval is {status}")
        self.out(f"  {who} verified: on chain {status['on_chain']}")

    def upload(self) -> None:
        creator = self.state["creator"]
        stamp = f"{datetime.now(UTC).isoformat()} {secrets.token_hex(8)}"
        work = self.out_dir / "work.txt"
        work.write_bytes(f"A demo work by Camille Creator\n{stamp}\n".encode() + secrets.token_bytes(4096))
        legal = self.out_dir / "license.txt"
        legal.write_text(f"Chainright demo license: commercial use, attribution, {LICENSE_DAYS} days. "
                         f"{stamp}\n")
        asset = creator.upload(work)
        terms_asset = creator.upload(legal)
        if asset["store"] != "ipfs":
            self.out("  note: this platform has no IPFS node (uploads go to its local content folder); "
                     "'chainright up' starts one when js-ipfs is installed ('make setup-ipfs')")
        back = creator.http.get(f"/assets/{asset['cid']}/content",  # unminted: only its uploader reads it
                                headers={"Authorization": f"Bearer {creator.token}"})
        if back.status_code != 200 or back.content != work.read_bytes():
            raise ChainError(f"the work read back from the store differs ({back.status_code})")
        self.state.update(work=work, asset=asset, legal_cid=terms_asset["cid"])
        self.out(f"  uploaded {asset['size']} bytes to {asset['store']}: CID {asset['cid']}, "
                 f"sha-256 {asset['content_hash']}")
        self.out(f"  license text: CID {terms_asset['cid']}")

    def mint(self) -> None:
        from chain.cid import cid_to_bytes

        creator = self.state["creator"]
        rights, issuer, channel = (self.accounts[n].address for n in ("rights holder", "issuer", "channel"))
        split = creator.split_tx(rights, issuer, channel)
        if split["already_exists"]:
            self.out(f"  royalty splitter {split['splitter']} (30/40/30) already exists")
        else:
            receipt = self.send_unsigned("creator", split["transaction"])
            self.out(f"  royalty splitter {split['splitter']} created: rights holder {rights} 30%, "
                     f"issuer {issuer} 40%, channel {channel} 30% (tx {_hex(receipt['transactionHash'])})")
        out = creator.collection_tx("Demo Works", "DEMO", split["splitter"], ROYALTY_BPS)
        receipt = self.send_unsigned("creator", out["transaction"])
        collection = out["predicted_address"]
        self.out(f"  collection {collection} created, royalty {ROYALTY_BPS / 100:g}% to the splitter "
                 f"(tx {_hex(receipt['transactionHash'])})")
        asset = self.state["asset"]
        receipt = self.send_unsigned("creator", creator.mint_tx(asset["cid"], collection, quantity=3))
        self.out(f"  minted an edition of 3 (tokens 1-3) with its rights record: content hash and CID on "
                 f"chain (tx {_hex(receipt['transactionHash'])}, gas {receipt['gasUsed']})")
        nft = self.contract(self.home, "", collection, "CreatorCollection")
        work_id, cid = nft.functions.workOf(1).call()
        if _hex(cid) != _hex(cid_to_bytes(asset["cid"])):
            raise ChainError(f"the chain records CID {_hex(cid)} for token 1, not the uploaded work's")
        licensing = self.contract(self.home, "Licensing")
        terms: tuple[Any, ...] = (True, False, True, False, False, 0, LICENSE_DAYS * 86400,
                                  LICENSE_FEE_WEI, [], self.state["legal_cid"])
        terms_hash = bytes(licensing.functions.hashTerms(terms).call())
        if not licensing.functions.isPublished(terms_hash).call():
            receipt = self.send(self.home, "creator", licensing.functions.publishTerms(terms))
            self.out(f"  license terms {_hex(terms_hash)} published: commercial use, attribution, "
                     f"{LICENSE_DAYS} days, fee {eth(LICENSE_FEE_WEI)} "
                     f"(tx {_hex(receipt['transactionHash'])})")
        receipt = self.send(self.home, "creator", licensing.functions.attachTerms(collection, 1, terms_hash))
        self.out(f"  license offered on token 1 (tx {_hex(receipt['transactionHash'])})")
        market = self.registry.address(self.home_spec.chain_id, "Marketplace")
        receipt = self.send(self.home, "creator", nft.functions.setApprovalForAll(market, True))
        self.out(f"  creator approved the marketplace {market} (tx {_hex(receipt['transactionHash'])})")
        self.state.update(collection=collection, splitter=split["splitter"], nft=nft, terms_hash=terms_hash,
                          work_id=int(work_id))

    def collector_login(self) -> None:
        collector = self.client("collector")
        session = collector.login()
        self.state["collector"] = collector
        self.out(f"  collector signed the SIWE message with wallet {self.accounts['collector'].address}: "
                 f"session for {session['did']}")
        self.pass_kyc("collector")

    def sale(self) -> None:
        from chain.orders import MarketDomain, listing, sign_order

        creator, collector = self.state["creator"], self.state["collector"]
        collection, splitter = self.state["collection"], self.state["splitter"]
        market = self.contract(self.home, "Marketplace")
        seller = self.accounts["creator"]
        now = int(time.time())
        order = listing(seller=seller.address, token=collection, token_id=1, unit_price=PRICE_WEI,
                        start=now - 60, expiry=now + 3600,
                        counter=market.functions.counterOf(seller.address).call(),
                        holding_epoch=self._holding_epoch(collection, seller.address, 1))
        signed = sign_order(order, MarketDomain(self.home_spec.chain_id, market.address), seller)
        posted = creator.submit_order(_order_body(order, self.home_spec.chain_id, signed.signature))
        self.out(f"  creator signed an EIP-712 listing of token 1 for {eth(PRICE_WEI)}: "
                 f"order {posted['order_hash']}")
        tx = collector.fill_tx(posted["order_hash"])
        balances = {a: self.home.eth.get_balance(a) for a in (splitter, seller.address)}
        receipt = self.send_unsigned("collector", tx)
        royalty = self.home.eth.get_balance(splitter) - balances[splitter]
        proceeds = self.home.eth.get_balance(seller.address) - balances[seller.address]
        owner = self.state["nft"].functions.ownerOf(1).call()
        if owner != self.accounts["collector"].address:
            raise ChainError(f"token 1 belongs to {owner} after the fill, not the collector")
        if royalty != PRICE_WEI * ROYALTY_BPS // 10_000:
            raise ChainError(f"the splitter received {royalty} wei, not {ROYALTY_BPS} bps of the price")
        self.out(f"  collector signed the API's fill transaction: tx {_hex(receipt['transactionHash'])} "
                 f"(block {receipt['blockNumber']}, gas {receipt['gasUsed']}) "
                 f"paid {eth(int(tx['value'], 16))}")
        self.out(f"  token 1 now belongs to the collector; royalty {eth(royalty)} landed in the splitter "
                 f"{splitter}; seller received {eth(proceeds)} (platform fee credited on chain)")
        self.state.update(order_hash=posted["order_hash"], sale_block=receipt["blockNumber"])

    def license(self) -> None:
        licensing = self.contract(self.home, "Licensing")
        splitter, collection = self.state["splitter"], self.state["collection"]
        before = self.home.eth.get_balance(splitter)
        receipt = self.send(self.home, "collector", licensing.functions.buyLicense(
            collection, 1, self.state["terms_hash"]), value=LICENSE_FEE_WEI)
        (granted,) = licensing.events.LicenseGranted().process_receipt(receipt, errors=DISCARD)
        fee = self.home.eth.get_balance(splitter) - before
        licensed = licensing.functions.isLicensed(self.accounts["collector"].address, collection, 1, 1).call()
        if not licensed:
            raise ChainError("the buyer holds no commercial license after buying one")
        from chain.formatting import format_time

        expiry = format_time(granted["args"]["expiry"])
        self.out(f"  collector bought license grant {granted['args']['grantId']} for {eth(LICENSE_FEE_WEI)} "
                 f"(tx {_hex(receipt['transactionHash'])}), valid until {expiry}; commercial use licensed: "
                 f"{licensed}; fee to the splitter: {eth(fee)}")

    def withdraw(self) -> None:
        splitter = self.contract(self.home, "", self.state["splitter"], "RoyaltySplitter")
        held = self.home.eth.get_balance(splitter.address)
        self.out(f"  the splitter holds {eth(held)}")
        paid: dict[str, int] = {}
        for who, share in (("rights holder", 30), ("issuer", 40), ("channel", 30)):
            account = self.accounts[who].address
            due = splitter.functions.withdrawable(ETH, account).call()
            before = self.home.eth.get_balance(account)
            receipt = self.send(self.home, who, splitter.functions.withdraw(ETH))
            gas_cost = receipt["gasUsed"] * receipt["effectiveGasPrice"]
            paid[who] = self.home.eth.get_balance(account) - before + gas_cost
            self.out(f"  {who:<13} ({share}%) withdrew {eth(paid[who])} "
                     f"(tx {_hex(receipt['transactionHash'])})")
            if paid[who] != due or due == 0:
                raise ChainError(f"{who} was paid {paid[who]} wei, {due} wei was due")
        if not paid["rights holder"] * 4 // 3 - 1 <= paid["issuer"] <= paid["rights holder"] * 4 // 3 + 1:
            raise ChainError(f"the shares are not 30/40/30: {paid}")
        self.out(f"  total paid out {eth(sum(paid.values()))}; the splitter now holds "
                 f"{eth(self.home.eth.get_balance(splitter.address))}")

    def bridge(self) -> None:
        from bridge.message import wrapped_id

        collection, nft = self.state["collection"], self.state["nft"]
        collector = self.accounts["collector"].address
        lockbox = self.contract(self.home, "HomeLockbox")
        remote_bridge = self.contract(self.remote, "RemoteBridge")
        wrapped = self.contract(self.remote, "WrappedCollection")
        content_hash = bytes.fromhex(self.state["asset"]["content_hash"][2:])
        self.send(self.home, "collector", nft.functions.setApprovalForAll(lockbox.address, True))
        receipt = self.send(self.home, "collector", lockbox.functions.lock(
            collection, 1, collector, self.remote_spec.chain_id, content_hash))
        (locked,) = lockbox.events.TokenLocked().process_receipt(receipt, errors=DISCARD)
        transfer_id = locked["args"]["transferId"]
        self.out(f"  collector locked token 1 in the lockbox: transfer {transfer_id}, "
                 f"tx {_hex(receipt['transactionHash'])} (chain {self.home_spec.chain_id})")
        took = self.wait_for(f"the relayer to mint transfer {transfer_id} on chain "
                             f"{self.remote_spec.chain_id}",
                             lambda: bool(remote_bridge.functions.processed(transfer_id).call()),
                             self.bridge_timeout_s)
        wid = wrapped_id(collection, 1)
        owner = wrapped.functions.ownerOf(wid).call()
        if owner != collector:
            raise ChainError(f"the wrapped token belongs to {owner}, not the collector")
        self.out(f"  relayed in {took:.1f}s: wrapped token {wid} on chain {self.remote_spec.chain_id} "
                 f"belongs to the collector; same content hash: "
                 f"{bytes(wrapped.functions.contentHashOf(wid).call()) == content_hash}")
        burn = self.send(self.remote, "collector", remote_bridge.functions.burnToHome(wid, collector))
        self.out(f"  collector burned it to come home: tx {_hex(burn['transactionHash'])} "
                 f"(chain {self.remote_spec.chain_id})")
        took = self.wait_for("the relayer to unlock the token at home",
                             lambda: nft.functions.ownerOf(1).call() == collector, self.bridge_timeout_s)
        unlock_block = self.home.eth.block_number
        self.out(f"  relayed back in {took:.1f}s: token 1 is the collector's again on chain "
                 f"{self.home_spec.chain_id}; provenance hash "
                 f"{_hex(lockbox.functions.provenanceOf(collection, 1).call())}")
        self.state["unlock_block"] = unlock_block

    def audit(self) -> None:
        from api.db import Database
        from did.credentials import build_presentation, issue_presentation_sync
        from did.keys import generate_ed25519_jwk
        from did.methods import did_key_from_jwk
        from record.index.store import IndexStore
        from record.provenance import build_bundle, final_blocks, rpcs_for, token_story, verify_bundle

        jwk = generate_ed25519_jwk()
        holder = did_key_from_jwk(jwk)
        auditor = self.client("officer")  # any HTTP client: the auditor's identity is the did:key
        challenge = auditor.post("/auth/did/challenge")
        vp = issue_presentation_sync(build_presentation(holder), holder_key=jwk,
                                     challenge=challenge["challenge"], domain=challenge["domain"])
        session = auditor.post("/auth/did/login", {"presentation": vp})
        self.out(f"  auditor logged in with a did:key presentation: {session['did']}")
        collection = self.state["collection"]
        chain_id = self.home_spec.chain_id
        db = Database(self.target.database_url)
        rows: list[dict[str, Any]] = []
        proven_at: dict[int, int] = {}

        def indexed() -> bool:
            nonlocal rows, proven_at
            chain_ids = [s.chain_id for s in self.target.chain_settings.specs("all")]
            with IndexStore(db.engine).engine.connect() as conn:
                rows = token_story(conn, chain_id, collection, 1, chain_ids, work_id=self.state["work_id"])
                proven_at = final_blocks(conn, chain_ids)  # state proofs where the index has finished
            home = [int(r["block_number"]) for r in rows if int(r["chain_id"]) == chain_id]
            events = [r["event"] for r in rows]
            # Both chains indexed: every return home has its burn, every lock its mint, in the story.
            both = events.count("TokenUnlocked") == events.count("TokenBurned") and \
                events.count("TokenLocked") == events.count("TokenMinted")
            return bool(home) and max(home) >= self.state["unlock_block"] and both

        try:
            self.wait_for("the indexer to record the token's return", indexed, self.index_timeout_s)
        finally:
            db.dispose()
        rpcs = rpcs_for({s.chain_id: s.rpc_url for s in self.target.chain_settings.specs("all")})
        bundle = build_bundle({"chain_id": chain_id, "collection": collection, "token_id": 1}, rows, rpcs,
                              {n: self.artifacts.get(n).abi for n in self.artifacts.names()},
                              state_blocks=proven_at)
        path = self.out_dir / "provenance-bundle.json"
        path.write_text(json.dumps(bundle, indent=1))
        headers = sum(len(h) for h in bundle["headers"].values())
        self.out(f"  exported {path}: {len(bundle['events'])} events "
                 f"({', '.join(sorted({e['event'] for e in bundle['events']}))}), {headers} headers")
        offline = json.loads(path.read_text())  # verified from the file alone: no network below
        verdict = verify_bundle(offline, content=Path(self.state["work"]).read_bytes())
        passed = sum(c.ok for c in verdict.checks)
        if not verdict.ok:
            broken = verdict.first_break
            raise ChainError(f"the bundle does not verify: {broken.what if broken else '?'}: "
                             f"{broken.detail if broken else ''}")
        story = next((c.detail for c in verdict.checks if c.what == "story" and c.ok), "")
        self.out(f"  verified offline: {passed} of {len(verdict.checks)} checks passed (headers, receipt "
                 f"proofs, events, content hash){'; story: ' + story if story else ''}")

    def breaker(self) -> None:
        from api.client import ClientError
        from chain.orders import MarketDomain, listing, sign_order

        creator, collection = self.state["creator"], self.state["collection"]
        self.wait_for("the indexer to record the sale (the breaker's reference price)",
                      lambda: any(f["orderHash"] == self.state["order_hash"] for f in creator.get(
                          "/market/fills", chain_id=self.home_spec.chain_id, token=collection)),
                      self.index_timeout_s)
        market = self.contract(self.home, "Marketplace")
        seller = self.accounts["creator"]
        domain = MarketDomain(self.home_spec.chain_id, market.address)
        price = OUTLIER_FACTOR * PRICE_WEI
        # By default a halt needs three distinct accounts, one counting refusal each, so that no single
        # wallet can halt a collection; the demo has one seller, so its operator lets one account halt.
        officer = self._officer()
        if "risk" in officer.me().get("roles", []):
            officer.patch(f"/market/breaker/{self.home_spec.chain_id}/{collection}",
                          {"min_distinct_accounts": 1, "max_refusals_per_account": 10})
            self.out("  the risk operator lets one account's refusals halt this collection (by default a "
                     "halt needs 3 distinct accounts, one counting refusal each)")
        self.out(f"  reference price: the last sale, {eth(PRICE_WEI)}; the creator now lists token 2 at "
                 f"{eth(price)} again and again")
        for attempt in range(1, 11):
            now = int(time.time())
            order = listing(seller=seller.address, token=collection, token_id=2, unit_price=price,
                            start=now - 60, expiry=now + 3600,
                            counter=market.functions.counterOf(seller.address).call(),
                            holding_epoch=self._holding_epoch(collection, seller.address, 2))
            signed = sign_order(order, domain, seller)
            try:
                creator.submit_order(_order_body(order, self.home_spec.chain_id, signed.signature))
            except ClientError as exc:
                if exc.extra.get("status_code") != 422:
                    raise
                self.out(f"  order {attempt}: refused: {str(exc).split(': ', 1)[-1]}")
                if "tripped" in str(exc):
                    break
                continue
            raise ChainError(f"outlier order {attempt} at {price} wei was accepted")
        else:
            raise ChainError("ten outlier orders did not trip the circuit breaker")
        halted = market.functions.collectionPolicy(collection).call()[0]
        if not halted:
            raise ChainError("the breaker tripped in the API but the collection is not halted on chain")
        self.out(f"  the marketplace contract halts collection {collection} too: "
                 f"collectionPolicy.halted = {halted}")


def _order_body(order: Any, chain_id: int, signature: bytes) -> dict[str, Any]:
    return {"chain_id": chain_id, "side": "listing", "signer": order.signer, "token": order.token,
            "token_id": order.token_id, "unit_price": order.unit_price, "start": order.start,
            "expiry": order.expiry, "salt": order.salt, "counter": order.counter,
            "holding_epoch": order.holding_epoch, "signature": "0x" + bytes(signature).hex()}


def run_demo(chain_settings: Any, api_url: str, database_url: str, *, mode: str, out: Say, say: Say,
             out_dir: Path | None = None, bridge_timeout_s: float = 180.0) -> None:
    """Run every step against the platform at ``api_url`` (``mode`` "attach"), one the demo starts
    ("self-start"), or the running one if it answers and else a new one ("auto")."""
    if mode not in ("auto", "attach", "self-start"):
        raise DemoStepError(f"unknown mode {mode!r}: auto, attach or self-start")
    running = mode != "self-start" and api_answers(api_url)
    if mode == "attach" and not running:
        raise DemoStepError(f"step 0 'reach the platform' failed: no Chainright API answers at {api_url}; "
                            "start the platform with 'chainright up' (same CHAINRIGHT_* settings), or run "
                            "'chainright demo --self-start' to let the demo start and stop one")
    extra: dict[str, Any] = {"bridge_timeout_s": bridge_timeout_s}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        extra["out_dir"] = out_dir
    if running:
        say(f"using the running platform at {api_url}")
        Demo(Target(api_url, chain_settings, database_url), out, say, **extra).run()
        return
    if mode == "auto":
        say(f"no platform answers at {api_url}: the demo starts its own")
    with self_started_platform(say) as target:
        Demo(target, out, say, **extra).run()
