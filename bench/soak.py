"""`chainright bench soak`: mixed traffic through a running platform; what was lost, how memory moved.

The soak acts as the platform's users do, through the HTTP API with their own wallets (the demo's
anvil accounts: creator #1, buyers #2 and #3, KYC officer #6, which ``chainright up`` grants the
officer role in development), against the API ``chainright up`` serves. One round, repeated until
the time is up:

- mint: the creator uploads a small work and mints three tokens of it (``POST /assets``,
  ``POST /assets/{cid}/mint-tx``), and offers a license on them (``POST /licenses/tx``);
- sale: the creator lists a token (``POST /market/orders``), a buyer fills it
  (``POST /market/orders/{hash}/fill-tx``, signed and sent by the buyer's wallet);
- cancel (every third round): a listing withdrawn (``POST /market/orders/{hash}/cancel``, with the
  on-chain cancel when the answer asks for it);
- license: a buyer buys a license on a licensed token (``Licensing.buyLicense``, the buyer's wallet);
- KYC (every second round): a new wallet logs in, applies, the officer approves (two chain writes),
  and the wallet's status says verified;
- bridge (every third round, at most two in flight): the creator locks a token for the remote chain;
  each round moves the trips in flight on (minted remote: burn it home; home again: done). A trip
  starts only while the bridge's rate limits (departures per hour per sender and per collection,
  both ways) leave room for both legs; otherwise it is counted as deferred, not failed;
- provenance: two story reads (``GET /provenance/...``) of the token sold last, each until the story
  shows its sale to the buyer (the indexer follows the chain a poll behind; a 404 or a story without
  the sale is read again, for at most ``PROVENANCE_WAIT_S``, then counted as failed).

Offers are not driven: they need an ERC-20 currency and allowance that ``chainright up`` does not
deploy; there are no auction routes.

Nothing lost, checked at the end (after waiting for the indexer and the relayer): every order the
API accepted is filled, cancelled or stale (none still open), and every lock came back home.
Memory is the resident set (``/proc/<pid>/status`` VmRSS) of every process of the platform: the
``chainright up`` process named in ``<data_dir>/run/supervisor.json`` and all its descendants (the
anvils, the API, the indexer, the validators, the submitter, the IPFS node), at start and end.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.cpu import cpu_of

Say = Callable[[str], None]

PRICE_WEI = 10**15
MINT_QUANTITY = 3
"""Tokens per mint: two are sold in the round, one is left for a cancelled listing or a bridge trip."""
LICENSE_FEE_WEI = 10**13
CREATOR, BUYERS, OFFICER = 1, (2, 3), 6
PROGRESS_EVERY_S = 15.0
CALIBRATE_EVERY_S = 5.0
"""How often the soak times its fixed CPU workload (``calibration_seconds``): the machine's speed as
the soak saw it, minute by minute, to tell a platform that slows down from a machine that got busier."""
CALIBRATION_BYTES = 1 << 20
CALIBRATION_ROUNDS = 24
SETTLE_TIMEOUT_S = 180.0
PROVENANCE_WAIT_S = 30.0
"""How long a sold token's story may take to show the sale (the indexer's lag behind the chain)."""


class SoakError(RuntimeError):
    """Raised when the soak cannot start (no platform answers, no officer role) or set itself up."""


class DeferredError(SoakError):
    """Raised when an operation would break one of the platform's own limits (the bridge's departures
    per sender and per collection per hour): not done, not failed, counted as deferred."""


# --------------------------------------------------------------------------------------------
# the platform's processes and their memory


def _argv(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        return []


def rss_mib(pid: int) -> float | None:
    """The resident set of ``pid`` in MiB (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _children_of() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out.setdefault(ppid, []).append(int(entry))
    return out


def process_name(argv: list[str], anvil_ports: dict[str, str]) -> str:
    """A readable role for one of the platform's processes, from its command line."""
    if not argv:
        return "?"
    exe = Path(argv[0]).name
    if exe == "anvil":
        port = argv[argv.index("--port") + 1] if "--port" in argv[:-1] else "?"
        return f"anvil-{anvil_ports.get(port, port)}"
    if "chainright" in argv:
        rest = argv[argv.index("chainright") + 1:]
        if rest[:2] == ["relayer", "run"]:
            if "--validator-index" in rest[:-1]:
                return f"validator-{rest[rest.index('--validator-index') + 1]}"
            return "submitter"
        if rest[:2] == ["api", "run"]:
            return "api"
        if rest[:2] == ["indexer", "run"]:
            return "indexer"
        return "chainright " + " ".join(rest[:1]) if rest else "chainright"
    if any("ipfs" in a for a in argv[:3]):
        return "ipfs"
    return exe


def platform_processes(chain_settings: Any) -> dict[str, int]:
    """``{role: pid}`` of every process of the running platform (the ``up`` process first)."""
    anvil_ports = {str(s.port): s.name for s in chain_settings.specs("all") if s.port is not None}
    found: dict[str, int] = {}
    status = chain_settings.run_dir / "supervisor.json"
    try:
        root = int(json.loads(status.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        root = None
    if root is not None and _argv(root):
        found["up"] = root
        tree = _children_of()
        todo = list(tree.get(root, []))
        while todo:
            pid = todo.pop()
            todo.extend(tree.get(pid, []))
            name = process_name(_argv(pid), anvil_ports)
            if name in found:
                name = f"{name} ({pid})"
            found[name] = pid
    # Anvils are also recorded in their PID files (a platform started without `up`, say).
    for spec in chain_settings.specs("all"):
        try:
            pid = int(json.loads((chain_settings.run_dir / f"{spec.name}.json").read_text())["pid"])
        except (OSError, ValueError, KeyError):
            continue
        if f"anvil-{spec.name}" not in found and _argv(pid):
            found[f"anvil-{spec.name}"] = pid
    return found


def memory(processes: dict[str, int]) -> dict[str, float | None]:
    return {name: rss_mib(pid) for name, pid in processes.items()}


def cpu_ms_per_sale(marks: list[tuple[int, dict[str, float | None]]]) -> dict[str, list[float | None]]:
    """Per process, the CPU milliseconds it used per sale between consecutive ``(sales so far, CPU
    seconds per process)`` marks: work done per sale, which a busier machine does not inflate the way
    it inflates wall time, so a figure that grows is the process itself getting heavier."""
    out: dict[str, list[float | None]] = {}
    for (sales_a, cpu_a), (sales_b, cpu_b) in itertools.pairwise(marks):
        for name in cpu_b:
            a, b = cpu_a.get(name), cpu_b.get(name)
            sold = sales_b - sales_a
            out.setdefault(name, []).append(
                round((b - a) * 1000 / sold, 1) if a is not None and b is not None and sold > 0 else None)
    return out


# --------------------------------------------------------------------------------------------
# the soak


@dataclass
class Trip:
    """One bridge round trip in flight."""

    transfer_id: int
    token_id: int
    started: float
    wrapped_id: int | None = None


@dataclass
class Soak:
    api_url: str
    chain_settings: Any
    say: Say
    done: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    listed: list[int] = field(default_factory=list)
    sales_at: list[float] = field(default_factory=list)
    trips: list[Trip] = field(default_factory=list)
    trips_done: int = 0
    deferred: dict[str, int] = field(default_factory=dict)
    timings: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """Per kind: (when it started, monotonic; how long it took, s) of each operation that succeeded."""

    # -- set-up --------------------------------------------------------------------------------

    def setup(self) -> None:
        from web3 import Web3

        from api.client import ChainrightClient, ClientError
        from chain.artifacts import Artifacts
        from chain.connection import connect
        from chain.deployments import DeploymentRegistry
        from chain.devaccounts import dev_account
        from chain.orders import MarketDomain
        from chain.reverts import ErrorDecoder
        from chain.wallet import Wallet

        self.home_spec = self.chain_settings.spec("home")
        self.remote_spec = self.chain_settings.spec("remote")
        self.home, self.remote = connect(self.home_spec), connect(self.remote_spec)
        self.artifacts = Artifacts.load()
        self.decoder = ErrorDecoder(self.artifacts.get(n).abi for n in self.artifacts.names())
        registry = DeploymentRegistry(self.chain_settings.deployments_file)
        chain_id = self.home_spec.chain_id

        def contract(web3: Any, name: str, address: str | None = None, artifact: str | None = None) -> Any:
            cid = chain_id if web3 is self.home else self.remote_spec.chain_id
            return web3.eth.contract(address=Web3.to_checksum_address(address or registry.address(cid, name)),
                                     abi=self.artifacts.get(artifact or name).abi)

        self.contract = contract
        self.market = contract(self.home, "Marketplace")
        self.licensing = contract(self.home, "Licensing")
        self.lockbox = contract(self.home, "HomeLockbox")
        self.remote_bridge = contract(self.remote, "RemoteBridge")
        self.wrapped_collection = registry.address(self.remote_spec.chain_id, "WrappedCollection")
        self.domain = MarketDomain(chain_id, self.market.address)
        self.accounts = {i: dev_account(i) for i in (CREATOR, *BUYERS, OFFICER)}
        self.clients: dict[int, Any] = {}
        for i in (OFFICER, CREATOR, *BUYERS):
            client = ChainrightClient(self.api_url, Wallet(self.accounts[i]), chain_id)
            client.login()
            self.clients[i] = client
        if "kyc_officer" not in self.clients[OFFICER].me().get("roles", []):
            raise SoakError("anvil account #6 holds no kyc_officer role on this platform (chainright up "
                            "grants it in development when CHAINRIGHT_API_ROLE_GRANTS is unset)")
        for i in (CREATOR, *BUYERS):
            if self.clients[i].kyc_status()["verified"]:
                continue
            try:
                application = self.clients[i].kyc_apply(self._application(f"SOAK-{i}"))
            except ClientError as exc:
                if exc.extra.get("status_code") != 409:
                    raise
                application = self.clients[i].get("/kyc/applications/mine")
            self.clients[OFFICER].kyc_approve(application["id"], 2)
        creator = self.clients[CREATOR]
        out = creator.collection_tx(f"Soak {secrets.token_hex(3)}", "SOAK", None, 500)
        self._send_unsigned(CREATOR, out["transaction"])
        self.collection = Web3.to_checksum_address(out["predicted_address"])
        self.nft = contract(self.home, "", self.collection, "CreatorCollection")
        self._send(CREATOR, self.nft.functions.setApprovalForAll(self.market.address, True))
        self._send(CREATOR, self.nft.functions.setApprovalForAll(self.lockbox.address, True))
        self.for_sale: list[int] = []
        self.licensed: list[int] = []
        self.sold: list[int] = []
        self.buyer_of: dict[int, str] = {}
        self.content_hash: dict[int, bytes] = {}
        self.terms_hash: bytes | None = None
        self.round = 0
        self.workdir = Path(tempfile.mkdtemp(prefix="chainright-soak-"))

    @staticmethod
    def _application(document: str) -> dict[str, str]:
        return {"legal_name": "Sam Soak", "date_of_birth": "1990-01-01", "country": "FR",
                "document_type": "passport", "document_number": document}

    def _send(self, who: int, fn: Any, value: int = 0, web3: Any = None) -> Any:
        from chain.tx import TxSender

        sender = TxSender(web3 or self.home, self.accounts[who], decoder=self.decoder)
        return sender.transact(sender.call_tx(fn, value=value))

    def _send_unsigned(self, who: int, unsigned: dict[str, Any]) -> Any:
        from chain.wallet import Wallet

        return Wallet(self.accounts[who]).send(self.home, unsigned, self.decoder)

    # -- operations ----------------------------------------------------------------------------

    def _op(self, kind: str, fn: Callable[[], None]) -> None:
        started = time.monotonic()
        try:
            fn()
        except DeferredError:
            self.deferred[kind] = self.deferred.get(kind, 0) + 1
            return
        except Exception as exc:  # counted and reported; the soak goes on
            self.failed[kind] = self.failed.get(kind, 0) + 1
            if len(self.errors) < 20:
                self.errors.append(f"{kind}: {type(exc).__name__}: {str(exc)[:300]}")
            return
        self.done[kind] = self.done.get(kind, 0) + 1
        self.timings.setdefault(kind, []).append((started, time.monotonic() - started))

    def mint(self) -> None:
        from web3.logs import DISCARD

        creator = self.clients[CREATOR]
        work = self.workdir / "work.bin"
        work.write_bytes(f"soak work {time.time()}\n".encode() + secrets.token_bytes(512))
        asset = creator.upload(work)
        unsigned = creator.mint_tx(asset["cid"], self.collection, quantity=MINT_QUANTITY)
        receipt = self._send_unsigned(CREATOR, unsigned)
        minted = [int(e["args"]["tokenId"]) for e in
                  self.nft.events.Transfer().process_receipt(receipt, errors=DISCARD)]
        for batch in self.nft.events.ConsecutiveTransfer().process_receipt(receipt, errors=DISCARD):
            minted += range(int(batch["args"]["fromTokenId"]), int(batch["args"]["toTokenId"]) + 1)
        if len(minted) != MINT_QUANTITY:
            raise SoakError(f"the mint made tokens {minted}, not {MINT_QUANTITY}")
        content = bytes.fromhex(asset["content_hash"][2:])
        for token_id in minted:
            self.content_hash[token_id] = content
        license = creator.license_tx(self.collection, minted, "personal", fee_wei=LICENSE_FEE_WEI)
        if license["publish"] is not None:
            self._send_unsigned(CREATOR, license["publish"])
            license = creator.license_tx(self.collection, minted, "personal", fee_wei=LICENSE_FEE_WEI)
        for attach in license["attach"]:
            self._send_unsigned(CREATOR, attach)
        self.terms_hash = bytes.fromhex(license["terms_hash"][2:])
        self.for_sale.extend(minted)
        self.licensed.extend(minted)

    def _list(self, token_id: int) -> str:
        from chain.orders import listing, sign_order

        seller = self.accounts[CREATOR]
        now = int(time.time())
        order = listing(seller=seller.address, token=self.collection, token_id=token_id, unit_price=PRICE_WEI,
                        start=now - 60, expiry=now + 3600,
                        counter=self.market.functions.counterOf(seller.address).call(),
                        holding_epoch=self.nft.functions.holdingEpoch(seller.address, token_id).call())
        signed = sign_order(order, self.domain, seller)
        posted = self.clients[CREATOR].submit_order({
            "chain_id": self.home_spec.chain_id, "side": "listing", "signer": order.signer,
            "token": order.token, "token_id": token_id, "unit_price": order.unit_price, "start": order.start,
            "expiry": order.expiry, "salt": order.salt, "counter": order.counter,
            "holding_epoch": order.holding_epoch, "signature": "0x" + bytes(signed.signature).hex()})
        self.accepted.append(str(posted["order_hash"]).lower())
        self.listed.append(token_id)
        return str(posted["order_hash"])

    def sale(self) -> None:
        from chain.wallet import Wallet

        if not self.for_sale:
            raise SoakError("no token left to sell (the mints failed)")
        token_id = self.for_sale.pop(0)
        buyer = BUYERS[len(self.sales_at) % len(BUYERS)]
        order_hash = self._list(token_id)
        tx = self.clients[buyer].fill_tx(order_hash)
        Wallet(self.accounts[buyer]).send(self.home, tx, self.decoder)
        owner = self.nft.functions.ownerOf(token_id).call()
        if owner != self.accounts[buyer].address:
            raise SoakError(f"token {token_id} belongs to {owner} after the fill, not the buyer")
        self.sold.append(token_id)
        self.buyer_of[token_id] = self.accounts[buyer].address
        self.sales_at.append(time.monotonic())

    def cancel(self) -> None:
        if not self.for_sale:
            raise SoakError("no token left to list")
        token_id = self.for_sale[-1]  # stays the creator's: it is sold in a later round
        order_hash = self._list(token_id)
        answer = self.clients[CREATOR].post(f"/market/orders/{order_hash}/cancel")
        if answer["status"] != "cancelled":
            raise SoakError(f"the cancelled order is {answer['status']}")
        if answer["needs_transaction"]:
            self._send_unsigned(CREATOR, answer["tx"])

    def license(self) -> None:
        if not self.licensed or self.terms_hash is None:
            raise SoakError("no licensed token (the mints failed)")
        token_id = self.licensed[len(self.licensed) // 2]
        buyer = BUYERS[self.round % len(BUYERS)]
        self._send(buyer, self.licensing.functions.buyLicense(self.collection, token_id, self.terms_hash),
                   value=LICENSE_FEE_WEI)
        if not self.licensing.functions.isLicensed(self.accounts[buyer].address, self.collection, token_id,
                                                   0).call():
            raise SoakError(f"the buyer holds no license on token {token_id} after buying one")

    def kyc(self) -> None:
        from api.client import ChainrightClient
        from chain.wallet import Wallet

        client = ChainrightClient(self.api_url, Wallet.create(), self.home_spec.chain_id)
        try:
            client.login()
            application = client.kyc_apply(self._application(f"SOAK-{secrets.token_hex(6)}"))
            self.clients[OFFICER].kyc_approve(application["id"], 1)
            status = client.kyc_status()
            if not status["verified"]:
                raise SoakError(f"KYC status after approval: {status}")
        finally:
            client.close()

    def provenance(self) -> None:
        from api.client import ClientError

        token_id = self.sold[-1] if self.sold else (self.for_sale[0] if self.for_sale else 1)
        buyer = self.buyer_of.get(token_id)
        path = f"/provenance/{self.home_spec.chain_id}/{self.collection}/{token_id}"
        deadline = time.monotonic() + PROVENANCE_WAIT_S
        while True:
            try:
                story = self.clients[BUYERS[0]].get(path)
            except ClientError as exc:
                if exc.extra.get("status_code") != 404 or time.monotonic() > deadline:
                    raise
                time.sleep(0.25)  # not indexed yet
                continue
            if not story or not story.get("entries"):
                raise SoakError(f"empty provenance story for token {token_id}")
            if buyer is None or any(_sold_to(e, buyer) for e in story["entries"]):
                return
            if time.monotonic() > deadline:
                raise SoakError(f"token {token_id}'s provenance story still shows no transfer to its buyer "
                                f"{buyer} {PROVENANCE_WAIT_S:g} s after the sale")
            time.sleep(0.25)

    def lock(self) -> None:
        from web3.logs import DISCARD

        if not self.for_sale:
            raise SoakError("no token left to send across")
        creator = self.accounts[CREATOR].address
        # The bridge allows 50 departures an hour per sender and 100 per collection (both ways): a
        # trip starts only when both legs fit, so a long soak paces its trips instead of failing them.
        home = self.lockbox.functions.rateLimitAvailable(creator, self.collection).call()
        remote = self.remote_bridge.functions.rateLimitAvailable(creator, self.wrapped_collection).call()
        in_flight = len(self.trips)
        if min(home[0], home[2], home[3]) < 1 or min(remote[0], remote[2], remote[3]) < 1 + in_flight:
            raise DeferredError(f"bridge rate limits: home {home}, remote {remote}")
        token_id = self.for_sale.pop()
        receipt = self._send(CREATOR, self.lockbox.functions.lock(
            self.collection, token_id, creator, self.remote_spec.chain_id, self.content_hash[token_id]))
        (locked,) = self.lockbox.events.TokenLocked().process_receipt(receipt, errors=DISCARD)
        self.trips.append(Trip(int(locked["args"]["transferId"]), token_id, time.monotonic()))

    def move_trips(self) -> None:
        """Move each round trip in flight one step on (never waits)."""
        from bridge.message import wrapped_id

        creator = self.accounts[CREATOR].address
        for trip in list(self.trips):
            if trip.wrapped_id is None:
                if not self.remote_bridge.functions.processed(trip.transfer_id).call():
                    continue
                trip.wrapped_id = wrapped_id(self.collection, trip.token_id)
                self._op("bridge_out", lambda: None)
                burn = self.remote_bridge.functions.burnToHome(trip.wrapped_id, creator)

                def back(burn: Any = burn) -> None:
                    self._send(CREATOR, burn, web3=self.remote)

                self._op("bridge_back", back)
                continue
            if self.nft.functions.ownerOf(trip.token_id).call() == creator:
                self.trips.remove(trip)
                self.trips_done += 1
                self.for_sale.append(trip.token_id)

    # -- the run -------------------------------------------------------------------------------

    def one_round(self) -> None:
        self.round += 1
        self._op("mint", self.mint)
        self._op("sale", self.sale)
        self._op("sale", self.sale)
        if self.round % 3 == 1:
            self._op("cancel", self.cancel)
        self._op("license", self.license)
        if self.round % 2 == 1:
            self._op("kyc", self.kyc)
        if self.round % 3 == 2 and len(self.trips) < 2:
            self._op("bridge_lock", self.lock)
        self._op("provenance", self.provenance)
        self._op("provenance", self.provenance)
        self.move_trips()

    def settle(self, timeout_s: float) -> dict[str, Any]:
        """Wait for the relayer to bring every trip home and the order book to follow the chain;
        what is still not so is lost."""
        deadline = time.monotonic() + timeout_s
        last = 0.0
        open_ours: list[str] = []
        while True:
            self.move_trips()
            open_now = self.clients[CREATOR].get("/market/orders", chain_id=self.home_spec.chain_id,
                                                 token=self.collection, status="open", limit=500)
            mine = set(self.accepted)
            open_ours = [o["order_hash"] for o in open_now if o["order_hash"].lower() in mine]
            if not self.trips and not open_ours:
                break
            if time.monotonic() > deadline:
                break
            if time.monotonic() - last > 10:
                self.say(f"soak: settling: {len(self.trips)} bridge trip(s) in flight, {len(open_ours)} "
                         "accepted order(s) still open")
                last = time.monotonic()
            time.sleep(1.0)
        return {**self.order_states(), "orders_open": len(open_ours),
                "locks": self.trips_done + len(self.trips), "locks_delivered": self.trips_done,
                "locks_undelivered": len(self.trips), "lost": len(open_ours) + len(self.trips)}

    def order_states(self) -> dict[str, int]:
        """How many of the accepted orders ended filled, cancelled or stale, as the API says. One
        query per state (500 rows at most); past that, one query per token the soak listed."""
        mine = set(self.accepted)
        query = {"chain_id": self.home_spec.chain_id, "token": self.collection}
        counts: dict[str, int] = {}
        capped = False
        for status in ("filled", "cancelled", "stale"):
            rows = self.clients[CREATOR].get("/market/orders", status=status, limit=500, **query)
            capped |= len(rows) >= 500
            counts[status] = sum(1 for o in rows if o["order_hash"].lower() in mine)
        if capped:
            counts = dict.fromkeys(counts, 0)
            for token_id in sorted(set(self.listed)):
                for status in counts:
                    rows = self.clients[CREATOR].get("/market/orders", status=status, token_id=token_id,
                                                     limit=500, **query)
                    counts[status] += sum(1 for o in rows if o["order_hash"].lower() in mine)
        return {"orders_accepted": len(self.accepted), **{f"orders_{k}": v for k, v in counts.items()}}

    def close(self) -> None:
        for client in getattr(self, "clients", {}).values():
            client.close()
        if hasattr(self, "workdir"):
            shutil.rmtree(self.workdir, ignore_errors=True)


def _head(web3: Any) -> int | None:
    try:
        return int(web3.eth.block_number)
    except Exception:
        return None


def run_soak(api_url: str, chain_settings: Any, *, minutes: float, say: Say,
             settle_timeout_s: float = SETTLE_TIMEOUT_S) -> dict[str, Any]:
    """Drive the mixed traffic for ``minutes`` against the platform at ``api_url``; the report."""
    import httpx

    try:
        httpx.get(f"{api_url}/health", timeout=5)
    except httpx.HTTPError:
        raise SoakError(f"no Chainright API answers at {api_url}: start the platform with 'chainright up' "
                        "(the soak uses the same CHAINRIGHT_* settings)") from None
    processes = platform_processes(chain_settings)
    start_mem = memory(processes)
    soak = Soak(api_url, chain_settings, say)
    try:
        soak.setup()
        heads_start = {"home": _head(soak.home), "remote": _head(soak.remote)}
        say(f"soak: {minutes:g} min of mixed traffic against {api_url}, collection {soak.collection}; "
            f"{len(processes)} platform processes: {', '.join(processes)}")
        started = time.monotonic()
        until = started + minutes * 60
        next_progress = started + PROGRESS_EVERY_S
        calibrations: list[tuple[float, float]] = []
        next_calibration = started
        watched = {**processes, "soak (this client)": os.getpid()}
        cpu_marks = [(0, cpu_of(watched))]
        next_cpu_mark = started + 60
        while time.monotonic() < until:
            soak.one_round()
            now = time.monotonic()
            if now >= next_calibration:
                next_calibration = now + CALIBRATE_EVERY_S
                calibrations.append((now - started, calibration_seconds()))
            if now >= next_cpu_mark:
                next_cpu_mark += 60
                cpu_marks.append((len(soak.sales_at), cpu_of(watched)))
            if now >= next_progress:
                next_progress = now + PROGRESS_EVERY_S
                mem = memory(processes)
                anvils = ", ".join(f"{k} {v} MiB" for k, v in mem.items() if k.startswith("anvil"))
                rate = len(soak.sales_at) / max(now - started, 1e-9) * 60
                say(f"soak {(now - started) / 60:.1f}/{minutes:g} min: {_ops(soak.done)}; failed "
                    f"{sum(soak.failed.values())}; {len(soak.trips)} trip(s) in flight; "
                    f"{rate:.0f} sales/min; RSS {anvils}, api {mem.get('api')} MiB")
        elapsed = time.monotonic() - started
        say(f"soak: traffic stopped after {elapsed / 60:.1f} min; waiting for the relayer and the order book")
        settled = soak.settle(settle_timeout_s)
        end_mem = memory(processes)
        heads_end = {"home": _head(soak.home), "remote": _head(soak.remote)}
    finally:
        soak.close()
    per_minute = sales_per_minute([t - started for t in soak.sales_at], elapsed)
    calibration = per_minute_median(calibrations, len(per_minute))
    grown = [_blocks_added(heads_start[c], heads_end[c]) for c in ("home", "remote")]
    kinds = sorted(set(soak.done) | set(soak.failed))
    return {
        "minutes": round(elapsed / 60, 2), "api_url": api_url, "collection": soak.collection,
        "rounds": soak.round,
        "operations": {k: {"done": soak.done.get(k, 0), "failed": soak.failed.get(k, 0)} for k in kinds},
        "done": sum(soak.done.values()), "failed": sum(soak.failed.values()), "errors": soak.errors,
        "deferred": soak.deferred,
        **settled,
        "sales": len(soak.sales_at), "sales_per_minute": per_minute,
        "calibration_ms_per_minute": [round(c * 1000, 1) if c else None for c in calibration],
        "sales_per_minute_at_first_minute_speed": speed_adjusted(per_minute, calibration),
        "cpu_ms_per_sale_per_minute": cpu_ms_per_sale(cpu_marks),
        "blocks_added": dict(zip(("home", "remote"), grown, strict=True)),
        "op_seconds_first_last_minute": first_and_last_minute(soak.timings, started, elapsed),
        "memory_mib": {name: {"start": start_mem.get(name), "end": end_mem.get(name)} for name in processes},
        "anvil_memory_mib": {name: {"start": start_mem.get(name), "end": end_mem.get(name)}
                             for name in processes if name.startswith("anvil")},
        "heads": {"start": heads_start, "end": heads_end},
        "not_driven": "offers (need an ERC-20 currency the platform does not deploy); no auction routes",
    }


def sales_per_minute(offsets_s: list[float], elapsed_s: float) -> list[float]:
    """Sales in each whole minute of the run. A last partial minute counts only when it is at least
    half a minute long (scaled to a rate per minute); a run shorter than a minute is one scaled figure."""
    whole = int(elapsed_s // 60)
    tail = elapsed_s - 60 * whole
    counts = [0] * (whole + 1)
    for t in offsets_s:
        counts[min(int(t // 60), whole)] += 1
    out = [float(c) for c in counts[:whole]]
    if tail >= 30 or (whole == 0 and tail > 0):
        out.append(round(counts[whole] * 60 / tail, 1))
    return out


def first_and_last_minute(timings: dict[str, list[tuple[float, float]]], started: float,
                          elapsed_s: float) -> dict[str, list[float | None]]:
    """Per kind, the mean seconds an operation took in the first and in the last minute of the run:
    where a falling sale rate comes from (the platform slowing, or the soak's own calls)."""
    out: dict[str, list[float | None]] = {}
    last_from = started + max(0.0, elapsed_s - 60)
    for kind, rows in sorted(timings.items()):
        first = [d for t, d in rows if t < started + 60]
        last = [d for t, d in rows if t >= last_from]
        out[kind] = [round(sum(first) / len(first), 3) if first else None,
                     round(sum(last) / len(last), 3) if last else None]
    return out


def calibration_seconds() -> float:
    """Seconds one fixed CPU workload takes now (SHA-256 over 24 MiB in 1 MiB pieces, about 30 ms on an
    idle core): a slower answer means the machine is busier, not the platform heavier."""
    import hashlib

    block = b"\x5a" * CALIBRATION_BYTES
    began = time.perf_counter()
    digest = hashlib.sha256()
    for _ in range(CALIBRATION_ROUNDS):
        digest.update(block)
    digest.digest()
    return time.perf_counter() - began


def per_minute_median(samples: list[tuple[float, float]], minutes: int) -> list[float | None]:
    """The median of ``(offset_s, value)`` samples in each of the first ``minutes`` whole minutes."""
    out: list[float | None] = []
    for m in range(minutes):
        values = sorted(v for t, v in samples if m * 60 <= t < (m + 1) * 60)
        out.append(values[len(values) // 2] if values else None)
    return out


def speed_adjusted(sales: list[float], calibration: list[float | None]) -> list[float | None]:
    """Sales per minute at the first minute's machine speed: each minute's count times how much slower
    the calibration ran in that minute than in the first. Flat while the raw rate falls = the machine
    got busier; falling too = the platform itself slowed down."""
    base = calibration[0] if calibration else None
    out: list[float | None] = []
    for count, cal in zip(sales, calibration, strict=False):
        out.append(round(count * cal / base, 1) if base and cal else None)
    return out


def _blocks_added(start: int | None, end: int | None) -> int | None:
    return None if start is None or end is None else end - start


def _sold_to(entry: dict[str, Any], buyer: str) -> bool:
    to = str(entry.get("args", {}).get("to", ""))
    return entry.get("event") == "Transfer" and to.lower() == buyer.lower()


def _ops(done: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(done.items())) or "nothing yet"


def summary(report: dict[str, Any]) -> list[str]:
    """The report as lines for the console."""
    lines = [f"soak: {report['minutes']} min, {report['rounds']} rounds, {report['done']} operations done, "
             f"{report['failed']} failed, {report['lost']} lost"]
    for kind, n in report["operations"].items():
        lines.append(f"  {kind:<12} {n['done']:>6} done {n['failed']:>4} failed")
    lines.append(f"  orders: {report['orders_accepted']} accepted: {report['orders_filled']} filled, "
                 f"{report['orders_cancelled']} cancelled, {report['orders_stale']} stale, "
                 f"{report['orders_open']} still open")
    lines.append(f"  bridge: {report['locks']} locks, {report['locks_delivered']} back home, "
                 f"{report['locks_undelivered']} not delivered; deferred by the bridge's rate limits: "
                 f"{report['deferred'].get('bridge_lock', 0)}")
    lines.append(f"  sales per minute: {report['sales_per_minute']}")
    lines.append(f"  the machine's speed (ms for a fixed CPU workload, per minute): "
                 f"{report['calibration_ms_per_minute']}")
    lines.append("  sales per minute at the first minute's speed: "
                 f"{report['sales_per_minute_at_first_minute_speed']}")
    lines.append("  CPU ms per sale (all the traffic of a minute / its sales), first minute -> last minute:")
    for name, row in report["cpu_ms_per_sale_per_minute"].items():
        if row:
            lines.append(f"    {name:<14} {row[0]} -> {row[-1]}")
    lines.append("  seconds per operation, first minute -> last minute:")
    for kind, (first, last) in report["op_seconds_first_last_minute"].items():
        lines.append(f"    {kind:<12} {first} -> {last}")
    lines.append("  memory (RSS MiB, start -> end):")
    for name, m in report["memory_mib"].items():
        lines.append(f"    {name:<14} {m['start']} -> {m['end']}")
    for error in report["errors"][:5]:
        lines.append(f"  error: {error}")
    return lines
