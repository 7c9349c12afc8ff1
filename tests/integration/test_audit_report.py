"""The audit report on real anvils: a collection whose royalty goes to a 50/30/20 splitter sells in ETH
and in an ERC-20, licenses a work, is locked into the bridge, and one recipient withdraws from the
splitter; the indexer runs and ``chainright audit report`` (a real subprocess) writes the report.
Its totals must equal what the test sums itself from receipts and balance changes at each block.
Then the index is tampered with (a sale deleted, a license fee changed) and the report lists both
mismatches and exits 3; bad input and an unreachable chain give one-line errors and exit 1."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from chain.cid import cid_to_bytes, raw_cid
from chain.connection import connect
from chain.deploy import deploy_to_chains
from chain.deployments import DeploymentRegistry
from chain.devaccounts import dev_account
from chain.orders import ETH, MarketDomain, listing, sign_order
from chain.settings import ChainSettings
from chain.tx import TxSender
from record.index import EventDecoder, Indexer, IndexStore
from record.index.service import CHILD_RULES
from tests.conftest import free_port, settings_env

pytestmark = pytest.mark.integration

DEPLOYER = dev_account(0)  # also the marketplace's treasury in the default deployment
CREATOR, BUYER, BUYER2, LICENSEE = dev_account(1), dev_account(2), dev_account(6), dev_account(7)
RECIPIENTS = sorted([dev_account(3), dev_account(4), dev_account(5)], key=lambda a: a.address.lower())
SHARES = [5000, 3000, 2000]
ZERO = "0x" + "00" * 20
ROYALTY_BPS = 1000
COIN = 10**18


def _balance_delta(fn: Any, block: int) -> int:
    """What ``fn(block_identifier)`` gained over the block (anvil mines one transaction per block)."""
    return int(fn(block)) - int(fn(block - 1))


@pytest.fixture(scope="module")
def world(two_chains: ChainSettings, artifacts, tmp_path_factory) -> dict[str, Any]:
    from api.db import Database

    deploy_to_chains(two_chains, two_chains.specs("all"))
    web3 = connect(two_chains.spec("home"))
    registry = DeploymentRegistry(two_chains.deployments_file)

    def contract(name: str, address: str | None = None) -> Any:
        return web3.eth.contract(address=address or registry.address(31337, name), abi=artifacts.get(name).abi)

    def sender(account: Any) -> TxSender:
        return TxSender(web3, account)

    def send(account: Any, fn: Any, value: int = 0) -> Any:
        s = sender(account)
        receipt = s.transact(s.call_tx(fn, value=value))
        assert receipt["status"] == 1
        return receipt

    label = tmp_path_factory.mktemp("audit").name
    salt = hashlib.sha256(f"audit-{label}".encode()).digest()
    splitters = contract("SplitterFactory")
    recipients = [a.address for a in RECIPIENTS]
    send(CREATOR, splitters.functions.createSplitter(recipients, SHARES, salt))
    splitter = splitters.functions.predictSplitterAddress(recipients, SHARES, salt).call()
    factory = contract("CollectionFactory")
    send(CREATOR, factory.functions.createCollection(("Audit", "AUD", CREATOR.address, splitter, ROYALTY_BPS, ZERO,
                                                      False), salt))
    nft = contract("CreatorCollection", factory.functions.predictCollectionAddress(CREATOR.address, salt).call())
    hashes = []
    for i in range(6):
        work = f"audit work {label} {i}".encode()
        hashes.append(hashlib.sha256(work).digest())
        send(CREATOR, nft.functions.mintWork(CREATOR.address, hashes[-1], cid_to_bytes(raw_cid(work))))
    first = nft.functions.totalSupply().call() - 5
    market = contract("Marketplace")
    send(CREATOR, nft.functions.setApprovalForAll(market.address, True))
    coin_address, _ = sender(DEPLOYER).deploy(artifacts.get("MktTestERC20").abi,
                                              artifacts.get("MktTestERC20").bytecode)
    coin = contract("MktTestERC20", coin_address)
    send(DEPLOYER, coin.functions.mint(BUYER.address, 1_000 * COIN))
    send(BUYER, coin.functions.approve(market.address, 2**256 - 1))
    domain = MarketDomain(31337, market.address)

    def sell(token_id: int, price: int, buyer: Any, currency: str = ETH) -> Any:
        now = int(web3.eth.get_block("latest")["timestamp"])
        counter = market.functions.counterOf(CREATOR.address).call()  # another module may have bumped it
        order = listing(seller=CREATOR.address, token=nft.address, token_id=token_id, unit_price=price,
                        start=now - 60, expiry=now + 3600, counter=counter, currency=currency,
                        holding_epoch=nft.functions.holdingEpoch(CREATOR.address, token_id).call())
        signed = sign_order(order, domain, CREATOR)
        return send(buyer, market.functions.fillListing(order.as_tuple(), signed.signature, 1),
                    value=price if currency == ETH else 0)

    sell(first, 10**18, BUYER)  # before the window: must not count
    from_block = web3.eth.block_number + 1
    eth_sales = [sell(first + 1, 2 * 10**18, BUYER2), sell(first + 2, 3 * 10**17, BUYER)]
    coin_sales = [sell(first + 3, 250 * COIN, BUYER, coin.address)]
    now = int(web3.eth.get_block("latest")["timestamp"])
    send(CREATOR, market.functions.createAuction((nft.address, 0, first + 5, 1, 10**17, 0, 0, 0, now + 30, 0)))
    auction_id = market.functions.nextAuctionId().call() - 1
    bid = send(BUYER2, market.functions.bid(auction_id), value=5 * 10**17)
    web3.provider.make_request("evm_increaseTime", [40])  # type: ignore[arg-type]
    web3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    settled = send(DEPLOYER, market.functions.settleAuction(auction_id))

    licensing = contract("Licensing")
    fee = 10**16
    terms = (True, False, True, False, False, 0, 3600, fee, [], "bafkreiauditlegal")
    send(CREATOR, licensing.functions.publishTerms(terms))
    terms_hash = licensing.functions.hashTerms(terms).call()
    send(CREATOR, licensing.functions.attachTerms(nft.address, first + 4, terms_hash))
    license_receipt = send(LICENSEE, licensing.functions.buyLicense(nft.address, first + 4, terms_hash), value=fee)

    withdrawer = RECIPIENTS[0]
    split = contract("RoyaltySplitter", splitter)
    withdraw_receipt = send(withdrawer, split.functions.withdraw(ETH))

    lockbox = contract("HomeLockbox")
    send(BUYER, nft.functions.setApprovalForAll(lockbox.address, True))
    send(BUYER, lockbox.functions.lock(nft.address, first + 2, BUYER.address, two_chains.spec("remote").chain_id,
                                       hashes[2]))
    to_block = web3.eth.block_number

    # What the test knows on its own, from receipts and balances at each block.
    def paid_gas(r: Any) -> int:
        return int(r["gasUsed"]) * int(r["effectiveGasPrice"])

    pending = market.functions.pendingWithdrawals(DEPLOYER.address).call
    expected = {
        "eth_volume": sum(int(web3.eth.get_transaction(r["transactionHash"])["value"]) for r in [*eth_sales, bid]),
        "eth_royalties": sum(_balance_delta(lambda b: web3.eth.get_balance(splitter, b), r["blockNumber"])
                             for r in [*eth_sales, settled]),
        "eth_fees": sum(_balance_delta(lambda b: pending(block_identifier=b), r["blockNumber"])
                        for r in [*eth_sales, settled]),
        "coin_volume": -sum(_balance_delta(lambda b: coin.functions.balanceOf(BUYER.address).call(
            block_identifier=b), r["blockNumber"]) for r in coin_sales),
        "coin_royalties": sum(_balance_delta(lambda b: coin.functions.balanceOf(splitter).call(block_identifier=b),
                                             r["blockNumber"]) for r in coin_sales),
        "coin_fees": sum(_balance_delta(lambda b: coin.functions.balanceOf(DEPLOYER.address).call(
            block_identifier=b), r["blockNumber"]) for r in coin_sales),
        "license_income": -_balance_delta(lambda b: web3.eth.get_balance(LICENSEE.address, b),
                                          license_receipt["blockNumber"]) - paid_gas(license_receipt),
        "withdrawn": _balance_delta(lambda b: web3.eth.get_balance(withdrawer.address, b),
                                    withdraw_receipt["blockNumber"]) + paid_gas(withdraw_receipt),
    }

    db_path = tmp_path_factory.mktemp("audit-db") / "index.db"
    db = Database(f"sqlite:///{db_path}")
    db.migrate()
    indexer = Indexer(web3, 31337, IndexStore(db.engine),
                      EventDecoder({n: artifacts.get(n).abi for n in artifacts.names()}), rules=CHILD_RULES)
    indexer.watch((d.address, d.artifact or d.contract, d.block) for d in registry.for_chain(31337).values())
    indexer.run_until_caught_up()
    db.dispose()
    return {"settings": two_chains, "collection": nft.address, "splitter": splitter, "coin": coin.address,
            "from": from_block, "to": to_block, "expected": expected, "db": db_path, "withdrawer": withdrawer}


def _run(world: dict[str, Any], db: Path, out: Path, *extra: str, **env_over: str) -> subprocess.CompletedProcess[str]:
    env = settings_env(world["settings"])
    env["CHAINRIGHT_API_DATABASE_URL"] = f"sqlite:///{db}"
    env.update(env_over)
    args = ["--collection", world["collection"], "--from", str(world["from"]), "--to", str(world["to"]),
            "--out", str(out)]
    return subprocess.run([sys.executable, "-m", "chainright", "audit", "report", *args, *extra], env=env,
                          capture_output=True, text=True, timeout=180, cwd=os.getcwd())


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in ("src", "href")]


def test_report_totals_equal_the_sums_from_receipts_and_balances(world, tmp_path) -> None:
    done = _run(world, world["db"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reconciliation: ok" in done.stdout
    exp = world["expected"]
    summary = {r["key"]: r["value"] for r in _csv(tmp_path / "summary.csv")}
    assert int(summary["volume_ETH"]) == exp["eth_volume"] == 2 * 10**18 + 3 * 10**17 + 5 * 10**17
    assert int(summary["royalties_ETH"]) == exp["eth_royalties"] > 0
    assert int(summary["fees_ETH"]) == exp["eth_fees"] > 0
    assert int(summary["volume_MKTC"]) == exp["coin_volume"] == 250 * COIN
    assert int(summary["royalties_MKTC"]) == exp["coin_royalties"] > 0
    assert int(summary["fees_MKTC"]) == exp["coin_fees"] > 0
    assert int(summary["license_income_wei"]) == exp["license_income"] > 0
    assert summary["sales"] == "4" and summary["bridge_locks"] == "1" and summary["mismatches"] == "0"

    sales = _csv(tmp_path / "sales.csv")
    assert all(s["royalty_receiver"].lower() == world["splitter"].lower() for s in sales)
    assert [(s["side"], s["buyer"], s["price"]) for s in sales if s["side"] == "auction"] == [
        ("auction", BUYER2.address, str(5 * 10**17))]
    royalties = _csv(tmp_path / "royalties.csv")
    eth_lines = {r["recipient"]: r for r in royalties if r["currency"] == "ETH"}
    total = exp["eth_royalties"]
    parts = [total * bps // 10_000 for bps in SHARES]
    parts[0] = total - sum(parts[1:])
    fee_parts = [exp["license_income"] * bps // 10_000 for bps in SHARES]
    fee_parts[0] = exp["license_income"] - sum(fee_parts[1:])
    for account, part, fee_part in zip(RECIPIENTS, parts, fee_parts, strict=True):
        line = eth_lines[account.address.lower()]
        assert (int(line["royalties_due"]), int(line["license_fees_due"])) == (part, fee_part)
    assert int(eth_lines[world["withdrawer"].address.lower()]["withdrawn"]) == exp["withdrawn"] > 0
    assert sum(int(r["royalties_due"]) for r in royalties if r["currency"] == "MKTC") == exp["coin_royalties"]
    licenses = _csv(tmp_path / "licenses.csv")
    assert [(lic["licensee"], int(lic["price_wei"])) for lic in licenses] == [(LICENSEE.address, exp["license_income"])]
    assert [int(t["total_wei"]) for t in _csv(tmp_path / "license_totals.csv")] == [exp["license_income"]]
    (lock,) = _csv(tmp_path / "bridge.csv")
    assert lock["movement"] == "lock" and lock["transfer_id"] and lock["dest_chain_id"] == "31338"

    page = (tmp_path / "report.html").read_text()
    parser = _Page()
    parser.feed(page)
    assert "svg" in parser.tags and "rect" in parser.tags and parser.links == []
    assert "Reconciled" in page and world["collection"] in page


def test_a_tampered_index_is_listed_and_the_command_exits_3(world, tmp_path) -> None:
    db = tmp_path / "tampered.db"
    shutil.copy(world["db"], db)
    with sqlite3.connect(db) as conn:
        (sale_id,) = conn.execute("SELECT id FROM chain_events WHERE event = 'OrderFilled' AND block_number >= ? "
                                  "ORDER BY block_number LIMIT 1", (world["from"],)).fetchone()
        conn.execute("DELETE FROM chain_events WHERE id = ?", (sale_id,))
        grant_id, args = conn.execute("SELECT id, args FROM chain_events WHERE event = 'LicenseGranted' "
                                      "AND block_number >= ?", (world["from"],)).fetchone()
        conn.execute("UPDATE chain_events SET args = ? WHERE id = ?", (json.dumps({**json.loads(args), "fee": 1}),
                                                                       grant_id))
    done = _run(world, db, tmp_path / "out")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "reconciliation FAILED: 2 mismatch(es)" in done.stdout
    assert "missing_from_index" in done.stdout and "fee: index 1, chain 10000000000000000" in done.stdout
    kinds = sorted(m["kind"] for m in _csv(tmp_path / "out" / "mismatches.csv"))
    assert kinds == ["differs", "missing_from_index"]
    assert "Reconciliation FAILED" in (tmp_path / "out" / "report.html").read_text()


def test_an_index_behind_the_window_is_a_mismatch(world, tmp_path) -> None:
    db = tmp_path / "behind.db"
    shutil.copy(world["db"], db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE chain_checkpoints SET next_block = ? WHERE chain_id = 31337", (world["to"],))
    done = _run(world, db, tmp_path / "out", "--format", "csv")
    assert done.returncode == 3 and "index_lags" in done.stdout
    assert not (tmp_path / "out" / "report.html").exists()


@pytest.mark.parametrize(("args", "env", "message"), [
    (("--collection", "0x1234"), {}, "is not an address"),
    (("--from", "50", "--to", "40"), {}, "is after --to block"),
    (("--from", "22/11/2026"), {}, "neither a block number nor a date"),
    (("--collection", "0x" + "ab" * 20), {}, "unknown collection"),
    ((), {"CHAINRIGHT_CHAIN_HOME_PORT": "FREE"}, "does not answer"),
])
def test_bad_input_and_an_unreachable_chain_are_one_line_errors(world, tmp_path, args, env, message) -> None:
    env = {k: str(free_port()) if v == "FREE" else v for k, v in env.items()}
    done = _run(world, world["db"], tmp_path, *args, **env)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and message in lines[-1], done.stderr
    assert "Traceback" not in done.stderr


def test_a_window_of_dates_and_a_chain_id_resolve_to_the_blocks_they_cover(world, tmp_path) -> None:
    from datetime import UTC, datetime

    web3 = connect(world["settings"].spec("home"))

    def at(block: int) -> str:
        stamp = int(web3.eth.get_block(block)["timestamp"])
        return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    done = _run(world, world["db"], tmp_path, "--from", at(world["from"]), "--to", at(world["to"]),
                "--chain", "31337")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = {r["key"]: r["value"] for r in _csv(tmp_path / "summary.csv")}
    # blocks sharing the boundary seconds belong to the window too
    assert int(summary["from_block"]) <= world["from"] and int(summary["to_block"]) >= world["to"]
    assert summary["from_time"] == at(world["from"]) and summary["reconciliation"] == "ok"
