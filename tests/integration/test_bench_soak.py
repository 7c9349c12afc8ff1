"""`chainright bench soak` against a started platform (`chainright up`), for a fraction of a minute:
every kind of operation ran, none failed, nothing was lost (every accepted order filled or cancelled,
every lock back home), and the report carries the memory of every process and the sale rate. A
check of the report, not a timed test."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import free_port
from tests.support.platform import start_up, stop_up

pytestmark = pytest.mark.integration

KINDS = {"mint", "sale", "cancel", "license", "kyc", "bridge_lock", "bridge_out", "bridge_back", "provenance"}


def test_a_short_soak_loses_nothing_and_reports_memory_and_sale_rate(tmp_path):
    env = dict(os.environ, CHAINRIGHT_CHAIN_DATA_DIR=str(tmp_path), CHAINRIGHT_API_DATA_DIR=str(tmp_path),
               CHAINRIGHT_CHAIN_HOME_PORT=str(free_port()), CHAINRIGHT_CHAIN_REMOTE_PORT=str(free_port()),
               CHAINRIGHT_API_PORT=str(free_port()))
    env.pop("CHAINRIGHT_API_IPFS_API", None)
    proc, lines = start_up(env)
    try:
        soak = subprocess.run([sys.executable, "-m", "chainright", "bench", "soak", "--minutes", "0.35", "--json"],
                              env=env, capture_output=True, text=True, timeout=600)
    finally:
        stop_up(proc, lines)
    assert soak.returncode == 0, soak.stderr[-3000:] + "\n" + soak.stdout[-3000:]
    report = json.loads(soak.stdout)
    assert "soak 0." in soak.stderr or "traffic stopped" in soak.stderr  # progress lines while it runs
    assert KINDS <= set(report["operations"]), report["operations"]
    assert all(n["done"] > 0 and n["failed"] == 0 for n in report["operations"].values()), report
    assert report["failed"] == 0 and report["errors"] == []
    assert report["lost"] == 0 and report["orders_open"] == 0 and report["locks_undelivered"] == 0
    assert report["orders_accepted"] == report["orders_filled"] + report["orders_cancelled"] + report["orders_stale"]
    assert report["orders_filled"] == report["sales"] > 0
    assert report["locks"] == report["locks_delivered"] > 0
    speed = report["calibration_ms_per_minute"]
    assert len(speed) == len(report["sales_per_minute"]) == len(report["sales_per_minute_at_first_minute_speed"])
    assert speed[0] > 0 and report["blocks_added"]["home"] > 0
    processes = set(report["memory_mib"])
    assert {"up", "api", "indexer", "submitter", "validator-0", "anvil-home", "anvil-remote"} <= processes
    assert all(m["start"] and m["end"] for m in report["memory_mib"].values()), report["memory_mib"]
    assert set(report["anvil_memory_mib"]) == {"anvil-home", "anvil-remote"}
    assert len(report["sales_per_minute"]) == 1 and report["sales_per_minute"][0] > 0
    first, last = report["op_seconds_first_last_minute"]["sale"]
    assert first is not None and first > 0 and last is not None  # shorter than a minute: the same sales
