"""Does anvil slow and grow with its history; which options bound it? (``python -m bench.anvil_history``)

One fresh anvil per option set, fed ``rounds`` rounds of ``per_round`` pre-signed transfers
(``bench.transfers``); after each round, the round's rate (transfers/s) and anvil's resident set
(VmRSS). The figures are compared within one run (the machine is shared): first round against
last, option set against option set. Never a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.soak import rss_mib
from bench.transfers import run_transfer_bench
from chain.errors import ChainError, ChainUnavailableError
from chain.ports import free_port
from chain.progress import quiet
from chain.rpc import chain_id_of
from devnet.anvil import HISTORY_BOUND, find_anvil, terminate

Say = Callable[[str], None]

OPTION_SETS: dict[str, tuple[str, ...]] = {
    "make up before (state file only)": ("--state", "{state}", "--state-interval", "5"),
    "make up now (state file + history bound)": ("--state", "{state}", "--state-interval", "5",
                                                 *HISTORY_BOUND),
    "state file + prune-history 256": ("--state", "{state}", "--state-interval", "5",
                                       "--prune-history", "256"),
    "state file + prune-history without a number": ("--state", "{state}", "--state-interval", "5",
                                                    "--prune-history"),
    "no state file, no bound": (),
    "transaction-block-keeper 64 (not chosen)": ("--state", "{state}", "--state-interval", "5",
                                                 "--transaction-block-keeper", "64"),
}


def measure(options: Sequence[str], *, rounds: int, per_round: int, say: Say = print,
            stall_s: float = 30.0) -> dict[str, Any]:
    """Rate and memory of one fresh anvil started with ``options``, round by round."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="anvil-history-") as tmp:
        state = str(Path(tmp) / "state.json")
        argv = [str(find_anvil()), "--port", str(port), "--chain-id", "31337", "--hardfork", "cancun",
                *(o.replace("{state}", state) for o in options)]
        with open(Path(tmp) / "anvil.log", "wb") as out:
            # HOME inside the temporary folder: anvil's scratch states go with it (devnet.anvil)
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env={**os.environ, "HOME": tmp})
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    chain_id_of(url, timeout=0.5)
                    break
                except ChainUnavailableError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    time.sleep(0.05)
            start_rss = rss_mib(proc.pid)
            rows = []
            stalled = None
            for n in range(1, rounds + 1):
                try:
                    result = run_transfer_bench([url], count=per_round, progress=quiet, timeout_s=stall_s)
                except ChainError as exc:  # the round did not finish: anvil stalled
                    stalled = f"round {n}: {exc}"
                    say(f"  round {n}: stalled ({exc}); anvil RSS {rss_mib(proc.pid)} MiB")
                    rows.append({"round": n, "transfers": n * per_round, "tx_per_s": 0.0,
                                 "rss_mib": rss_mib(proc.pid)})
                    break
                rows.append({"round": n, "transfers": n * per_round, "tx_per_s": round(result.tx_per_s, 1),
                             "rss_mib": rss_mib(proc.pid)})
                say(f"  round {n}: {result.tx_per_s:.0f} transfers/s, anvil RSS {rows[-1]['rss_mib']} MiB")
            old_receipt = _receipt_of_block(url, 1)
        finally:
            terminate(proc.pid, proc, what="anvil (history bench)", timeout=10)
    return {"options": list(options), "rss_start_mib": start_rss, "rounds": rows,
            "first_tx_per_s": rows[0]["tx_per_s"], "last_tx_per_s": rows[-1]["tx_per_s"],
            "rss_end_mib": rows[-1]["rss_mib"], "stalled": stalled, "block_1_receipts_readable": old_receipt}


def _receipt_of_block(url: str, number: int) -> bool:
    """Whether the receipts of an early block can still be read (provenance bundles need them)."""
    from chain.rpc import rpc_call

    try:
        block = rpc_call(url, "eth_getBlockByNumber", [hex(number), False])
        if not block or not block["transactions"]:
            return False
        return rpc_call(url, "eth_getTransactionReceipt", [block["transactions"][0]]) is not None
    except Exception:
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=1000)
    parser.add_argument("--only", nargs="*", help="option-set names (default: all)")
    args = parser.parse_args(argv)
    report = {}
    for name, options in OPTION_SETS.items():
        if args.only and not any(o in name for o in args.only):
            continue
        print(f"{name}: {' '.join(options) or '(none)'}", file=sys.stderr, flush=True)
        report[name] = measure(options, rounds=args.rounds, per_round=args.per_round,
                               say=lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
