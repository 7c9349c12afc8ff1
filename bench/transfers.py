"""Sustained simple-transfer rate of a network: pre-signed ETH transfers, sent raw, timed to the last.

Every transaction is signed before the clock starts (the figure is the network's, not the
signer's); they are sent in JSON-RPC batches, each sender's transactions to one node (members of
a consortium submit through their own node), and the clock stops when the last transaction of
every sender has a receipt. All of them are then checked to be mined.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from bench.cpu import CpuMeter
from chain.devaccounts import dev_account
from chain.errors import ChainUnavailableError, TransactionError
from chain.progress import Progress, quiet
from chain.rpc import rpc_call

TRANSFER_GAS = 21_000
TIP_WEI = 10**9


@dataclass(frozen=True)
class TransferBench:
    transactions: int
    senders: int
    nodes: int
    elapsed_s: float
    """From the first send to the receipt of the last transaction."""
    tx_per_s: float
    first_block: int
    last_block: int
    blocks: int
    max_tx_per_block: int
    chain_tx_per_s: float
    """Transactions over the block-timestamp span of the blocks that carried them (+1 period)."""
    sign_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _batch(url: str, calls: Sequence[tuple[str, list[Any]]], *, timeout: float = 30.0) -> list[Any]:
    body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
                       for i, (m, p) in enumerate(calls)]).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"},  # noqa: S310
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http URL of our node)
            replies = json.loads(response.read())
    except OSError as exc:
        raise ChainUnavailableError(f"no answer from {url} to a batch of {len(calls)} calls ({exc})") from exc
    errors = [r["error"] for r in replies if "error" in r]
    if errors:
        raise TransactionError(f"{url} refused {len(errors)} of {len(calls)} calls, first: {errors[0]}")
    return [r.get("result") for r in sorted(replies, key=lambda r: int(r["id"]))]


def run_transfer_bench(urls: Sequence[str], *, count: int = 2000, senders: int = 10, batch: int = 100,
                       period_s: float = 1.0, timeout_s: float = 300.0,
                       progress: Progress = quiet, meter: CpuMeter | None = None) -> TransferBench:
    """Send ``count`` pre-signed 1-wei transfers from ``senders`` dev accounts; measure tx/s.
    ``meter``, when given, samples CPU when the clock starts and when it stops."""
    if count < 1 or not 1 <= senders <= 10:
        raise ValueError("count must be positive and senders between 1 and 10 (the funded dev accounts)")
    url0 = urls[0]
    chain_id = int(rpc_call(url0, "eth_chainId"), 16)
    head = rpc_call(url0, "eth_getBlockByNumber", ["latest", False])
    base_fee = int(head.get("baseFeePerGas") or "0x0", 16)
    accounts: list[LocalAccount] = [dev_account(i) for i in range(senders)]
    nonces = [int(rpc_call(url0, "eth_getTransactionCount", [a.address, "pending"]), 16) for a in accounts]
    start_nonces = list(nonces)
    fee_cap = 4 * base_fee + TIP_WEI  # room for the base fee to rise while the blocks fill
    per_sender: list[list[str]] = [[] for _ in accounts]
    last_hash: list[str] = ["" for _ in accounts]
    first_hash = ""
    t_sign = time.perf_counter()
    for i in range(count):
        k = i % senders
        account = accounts[k]
        signed = account.sign_transaction({
            "chainId": chain_id, "nonce": nonces[k], "to": accounts[(k + 1) % senders].address,
            "value": 1, "gas": TRANSFER_GAS, "maxFeePerGas": fee_cap, "maxPriorityFeePerGas": TIP_WEI,
            "type": 2,
        })
        nonces[k] += 1
        per_sender[k].append("0x" + bytes(signed.raw_transaction).hex())
        last_hash[k] = "0x" + bytes(signed.hash).hex()
        if i == 0:
            first_hash = last_hash[k]
    sign_s = time.perf_counter() - t_sign
    progress(f"signed {count} transfers from {senders} accounts in {sign_s:.1f}s; sending to "
             f"{len(urls)} node(s) in batches of {batch}")

    if meter is not None:
        meter.start()
    t0 = time.perf_counter()
    for k, raws in enumerate(per_sender):
        url = urls[k % len(urls)]
        for offset in range(0, len(raws), batch):
            _batch(url, [("eth_sendRawTransaction", [raw]) for raw in raws[offset:offset + batch]])
    t_sent = time.perf_counter() - t0
    progress(f"sent {count} in {t_sent:.1f}s; waiting for the last of each sender")

    pending = {h for h in last_hash if h}
    receipts: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout_s
    wait_mined(url0, {a.address: n for a, n in zip(accounts, nonces, strict=True)}, deadline)
    while pending and time.monotonic() < deadline:
        ordered = sorted(pending)
        replies = _batch(url0, [("eth_getTransactionReceipt", [h]) for h in ordered])
        for h, r in zip(ordered, replies, strict=True):
            if r is not None:
                receipts[h] = r
                pending.discard(h)
        if pending:
            time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    if meter is not None:
        meter.stop()
    if pending:
        raise TransactionError(
            f"{len(pending)} senders' last transfers were not mined within {timeout_s:.0f}s")
    for account, start, end in zip(accounts, start_nonces, nonces, strict=True):
        mined = int(rpc_call(url0, "eth_getTransactionCount", [account.address, "latest"]), 16)
        if mined != end:
            raise TransactionError(f"{account.address}: {mined - start} of {end - start} transfers mined")

    # From the first transfer's receipt, not from historical state: a node that prunes its
    # history (anvil --prune-history, as `make up` runs it) no longer answers nonces at old blocks.
    first_block = int(rpc_call(url0, "eth_getTransactionReceipt", [first_hash])["blockNumber"], 16)
    last_block = max(int(r["blockNumber"], 16) for r in receipts.values())
    counts, stamps = [], []
    for number in range(first_block, last_block + 1):
        block = rpc_call(url0, "eth_getBlockByNumber", [hex(number), False])
        counts.append(len(block["transactions"]))
        stamps.append(int(block["timestamp"], 16))
    span = (stamps[-1] - stamps[0]) + period_s
    return TransferBench(
        transactions=count, senders=senders, nodes=len(urls), elapsed_s=round(elapsed, 3),
        tx_per_s=round(count / elapsed, 1), first_block=first_block, last_block=last_block,
        blocks=last_block - first_block + 1, max_tx_per_block=max(counts),
        chain_tx_per_s=round(count / span, 1), sign_s=round(sign_s, 3),
    )


def wait_mined(url: str, next_nonces: dict[str, int], deadline: float, poll_s: float = 0.05) -> None:
    """Wait until every address's mined nonce (``latest``) reached ``next_nonces[address]``, or the
    monotonic ``deadline``, asking every ``poll_s``. Polled by nonce, not receipt: a cosmos/evm node
    (our BFT chain) holds an ``eth_getTransactionReceipt`` of a pending transaction open for up to
    about 50 s."""
    pending = dict(next_nonces)
    while pending and time.monotonic() < deadline:
        ordered = sorted(pending)
        counts = _batch(url, [("eth_getTransactionCount", [a, "latest"]) for a in ordered])
        for address, count in zip(ordered, counts, strict=True):
            if int(count, 16) >= pending[address]:
                del pending[address]
        if pending:
            time.sleep(poll_s)

