"""An anvil SIGKILLed (no chance to save on the way out) and restarted from its state file, as `chainright
up` runs it (``--state``, saved every 5 s, history bounded). While it is down, `/health` says so within
5 s: the bound is the operator's promise (a dead chain must not look ready), measured from the kill
to the first answer that reports it. Restarted, the chain comes back with everything the state file
held (blocks, balances, nonces, contracts), the history bound included, and `/health` is ready again."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from chain.connection import connect
from chain.devaccounts import dev_account
from chain.tx import TxSender
from devnet.anvil import HISTORY_BOUND, NodeManager
from tests.conftest import chain_settings_for
from tests.integration.kill_env import api_process

pytestmark = pytest.mark.integration

REPORTED_WITHIN_S = 5.0


def _saved_head(state_file: Path) -> int:
    try:
        return int(json.loads(state_file.read_text())["block"]["number"], 16)
    except (OSError, ValueError, KeyError):
        return -1


def test_a_sigkilled_anvil_is_reported_within_5s_and_comes_back_from_its_state_file(tmp_path):
    chains = chain_settings_for(tmp_path / "chains", persist_state=True)
    manager = NodeManager(chains)
    records = {r.name: r for r in manager.start(chains.specs("all"))}
    try:
        remote = chains.spec("remote")
        argv = open(f"/proc/{records['remote'].pid}/cmdline", "rb").read().decode().split("\0")
        assert all(option in argv for option in HISTORY_BOUND), argv  # as `up` runs it
        web3 = connect(remote)
        sender = TxSender(web3, dev_account(1))
        payee = dev_account(9).address
        before = web3.eth.get_balance(payee)
        for _ in range(3):
            sender.transact({"to": payee, "value": 10**15})
        head = web3.eth.block_number
        nonce = web3.eth.get_transaction_count(dev_account(1).address)
        state_file = Path(records["remote"].state_file or "")
        deadline = time.monotonic() + 20
        while _saved_head(state_file) < head:  # saved every 5 s: wait for the save that holds them
            assert time.monotonic() < deadline, "anvil never saved its state"
            time.sleep(0.2)

        with api_process(chains, tmp_path / "api") as (base, _):
            assert httpx.get(f"{base}/health", timeout=5).status_code == 200
            os.kill(records["remote"].pid, signal.SIGKILL)
            killed = time.monotonic()
            reported = None
            while time.monotonic() - killed < 3 * REPORTED_WITHIN_S:
                r = httpx.get(f"{base}/health", timeout=5)
                chain = next(c for c in r.json()["chains"] if c["name"] == "remote")
                if r.status_code == 503 and not chain["reachable"]:
                    reported = time.monotonic() - killed
                    break
                time.sleep(0.1)
            print(f"dead chain reported by /health after {reported}s")
            assert reported is not None and reported <= REPORTED_WITHIN_S, reported

            # Restarted as `up` does (NodeManager, same state file): everything saved is back.
            restarted = {r.name: r for r in manager.start(chains.specs("all"))}
            assert restarted["remote"].pid != records["remote"].pid
            assert restarted["home"].pid == records["home"].pid  # the live one is reused
            web3 = connect(remote)
            assert web3.eth.block_number >= head
            assert web3.eth.get_balance(payee) == before + 3 * 10**15
            assert web3.eth.get_transaction_count(dev_account(1).address) == nonce
            sender = TxSender(web3, dev_account(1))
            receipt = sender.transact({"to": payee, "value": 1})  # and it goes on from there
            assert receipt["status"] == 1 and receipt["blockNumber"] > head
            deadline = time.monotonic() + 15
            while httpx.get(f"{base}/health", timeout=5).status_code != 200:
                assert time.monotonic() < deadline, httpx.get(f"{base}/health", timeout=5).text
                time.sleep(0.2)
    finally:
        manager.stop(["home", "remote"])
