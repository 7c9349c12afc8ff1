"""Observability against real processes: a killed chain shows in /health within 5 s, the indexer's
lag is a metric that moves, CHAINRIGHT_LOG_FORMAT=json makes the API log JSON lines (with request ids
and its role), and `chainright up` restarts a killed chain from its saved state and stops the platform
when a chain cannot come back."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.db import Database
from devnet.anvil import NodeManager
from record.index.store import IndexStore
from tests.conftest import chain_settings_for, free_port, settings_env
from tests.support.platform import start_up

pytestmark = pytest.mark.integration


def rpc(url: str, method: str, *params: object) -> object:
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=5)
    return r.json()["result"]


def gauge(body: str, name: str, **labels: str) -> float | None:
    for line in body.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def wait_for(check, timeout: float, step: float = 0.2):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


@pytest.fixture
def api_over_two_chains(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Two anvils of our own (the test kills one) and `chainright api run` over them, logging JSON."""
    chains = chain_settings_for(tmp_path / "chains")
    manager = NodeManager(chains)
    records = {r.name: r for r in manager.start(chains.specs("all"))}
    port = free_port()
    env = settings_env(chains)
    env.update(CHAINRIGHT_API_DATA_DIR=str(tmp_path / "api"), CHAINRIGHT_API_PORT=str(port),
               CHAINRIGHT_LOG_FORMAT="json", CHAINRIGHT_LOG_LEVEL="INFO")
    log = tmp_path / "api.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "chainright", "api", "run"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return proc.poll() is not None

    try:
        assert wait_for(ready, 60) and proc.poll() is None, log.read_text()
        yield base, chains, records, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        manager.stop(["home", "remote"])


def test_a_killed_chain_shows_in_health_within_5s_and_metrics_follow(api_over_two_chains, tmp_path):
    base, chains, records, log = api_over_two_chains
    first = httpx.get(f"{base}/health", headers={"X-Request-ID": "obs-req-000001"}).json()
    assert first["status"] == "ok", first
    assert {c["name"]: c["reachable"] for c in first["chains"]} == {"home": True, "remote": True}
    assert all(c["head_age_s"] is not None for c in first["chains"])

    # The indexer's lag per chain: a checkpoint behind the head shows, and grows with the chain.
    db = Database(f"sqlite:///{tmp_path / 'api' / 'chainright.db'}")
    store = IndexStore(db.engine)
    store.create_tables()
    home = chains.spec("home")
    with db.engine.begin() as conn:
        store.set_next_block(conn, home.chain_id, 1)
    rpc(home.rpc_url, "anvil_mine", "0xa")

    def lag() -> float | None:
        return gauge(httpx.get(f"{base}/metrics").text, "chainright_indexer_lag_blocks",
                     chain_id=str(home.chain_id))

    head = int(str(rpc(home.rpc_url, "eth_blockNumber")), 16)
    assert wait_for(lambda: lag() == head, 5), (lag(), head)
    rpc(home.rpc_url, "anvil_mine", "0x5")
    assert wait_for(lambda: lag() == head + 5, 5), (lag(), head)

    # Kill the remote chain under the running API: /health says down (503) within 5 s.
    os.kill(records["remote"].pid, signal.SIGKILL)
    killed = time.monotonic()

    def down() -> dict | None:
        r = httpx.get(f"{base}/health", timeout=5)
        body = r.json()
        remote = next(c for c in body["chains"] if c["name"] == "remote")
        return body if r.status_code == 503 and not remote["reachable"] else None

    body = wait_for(down, 5.0, step=0.1)
    elapsed = time.monotonic() - killed
    assert body is not None and elapsed <= 5.0, f"not reported within 5 s ({elapsed:.1f}s)"
    assert body["status"] == "down" and any("'remote'" in p for p in body["problems"])
    assert next(c for c in body["chains"] if c["name"] == "home")["reachable"]
    metrics = httpx.get(f"{base}/metrics").text
    assert gauge(metrics, "chainright_chain_up", chain="remote") == 0.0
    assert gauge(metrics, "chainright_chain_up", chain="home") == 1.0
    assert gauge(metrics, "chainright_http_requests_total", route="/health", status="503") is not None

    # CHAINRIGHT_LOG_FORMAT=json: every line the API wrote is a JSON object with the fields, uvicorn's
    # own lines included (a malformed request makes it log a warning).
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        raw.recv(1024)
    assert wait_for(lambda: "Invalid HTTP request" in log.read_text(), 5), log.read_text()
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # fails on any plain-text line
    assert entries and all({"time", "level", "logger", "message"} <= e.keys() for e in entries)
    assert all(e.get("role") == "api" for e in entries)
    mine = [e for e in entries if e.get("request_id") == "obs-req-000001"]
    assert mine and mine[0]["logger"] == "api.access" and "GET /health 200" in mine[0]["message"]


def test_json_log_lines_of_a_worker_carry_its_role(tmp_path):
    chains = chain_settings_for(tmp_path)
    env = settings_env(chains)
    env.update(CHAINRIGHT_LOG_FORMAT="json", CHAINRIGHT_LOG_LEVEL="INFO",
               CHAINRIGHT_API_DATA_DIR=str(tmp_path / "api"))
    # Nothing is deployed here: the validator says so and retries, in JSON, until it is stopped.
    proc = subprocess.Popen([sys.executable, "-m", "chainright", "relayer", "run", "--role", "validator",
                             "--validator-index", "1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(8)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) >= 2, stderr
    entries = [json.loads(line) for line in lines]  # fails on any plain-text line
    assert all(e["role"] == "relayer[validator-1]" for e in entries), entries
    assert all({"time", "level", "logger", "message"} <= e.keys() for e in entries)
    assert "request_id" not in entries[0]  # outside a request: no id
    assert not re.findall(r"[0-9a-fA-F]{64}", stderr)  # never a private key (or anything key-sized)


def test_up_restarts_a_killed_chain_from_its_state_and_stops_when_it_cannot_come_back(tmp_path):
    api_port = free_port()
    remote_port = free_port()
    env = dict(os.environ, CHAINRIGHT_CHAIN_DATA_DIR=str(tmp_path), CHAINRIGHT_API_DATA_DIR=str(tmp_path),
               CHAINRIGHT_CHAIN_HOME_PORT=str(free_port()), CHAINRIGHT_CHAIN_REMOTE_PORT=str(remote_port),
               CHAINRIGHT_API_PORT=str(api_port))
    proc, lines = start_up(env)
    text = "\n".join(lines)
    base = f"http://127.0.0.1:{api_port}"
    remote_pid = int(re.search(r"remote\s+chain \d+\s+\S+\s+pid (\d+)", text).group(1))  # type: ignore[union-attr]
    remote_url = f"http://127.0.0.1:{remote_port}"
    remote_block = re.search(r"^\s+remote\s+chain .*?\n((?:\s{8,}\w+\s+0x[0-9a-fA-F]{40}\n?)+)", text, re.M)
    assert remote_block is not None, text
    address = re.findall(r"0x[0-9a-fA-F]{40}", remote_block.group(1))[0]  # a contract deployed on remote
    assert rpc(remote_url, "eth_getCode", address, "latest") not in ("0x", None)
    try:
        # 0. The workers come back too: kill the indexer, then the API itself.
        def child(name: str) -> dict:
            try:
                body = httpx.get(f"{base}/health", timeout=3).json()
            except (httpx.HTTPError, ValueError):
                return {}
            return next((c for c in body["children"] if c["name"] == name), {})

        for name in ("indexer", "api"):
            pid = int(re.search(rf"^{name}: running \(pid (\d+)", text, re.M).group(1))  # type: ignore[union-attr]
            os.killpg(pid, signal.SIGKILL)
            assert wait_for(lambda name=name: child(name).get("state") == "running"
                            and child(name).get("restarts") == 1, 60), (name, child(name))

        # 1. A user kills the remote chain: noticed, reported in /health, restarted from its state.
        os.kill(remote_pid, signal.SIGTERM)
        killed = time.monotonic()

        def reported() -> bool:
            try:
                r = httpx.get(f"{base}/health", timeout=3)
            except httpx.HTTPError:
                return False
            body = r.json()
            remote = next(c for c in body["chains"] if c["name"] == "remote")
            child = next((c for c in body["children"] if c["name"] == "remote"), None)
            return r.status_code == 503 or not remote["reachable"] or (child or {}).get("state") == "restarting"

        assert wait_for(reported, 5.0, step=0.1), "the dead chain did not show in /health within 5 s"
        assert time.monotonic() - killed <= 5.0

        def back() -> bool:
            try:
                body = httpx.get(f"{base}/health", timeout=3).json()
            except httpx.HTTPError:
                return False
            child = next((c for c in body["children"] if c["name"] == "remote"), {})
            return bool(child.get("state") == "running" and child.get("restarts") == 1
                        and all(c["reachable"] for c in body["chains"]))

        assert wait_for(back, 60), httpx.get(f"{base}/health").text
        # its saved state came back with it: the contracts are still there
        assert rpc(remote_url, "eth_getCode", address, "latest") not in ("0x", None)
        assert proc.poll() is None

        # 2. It dies again and cannot come back (its port is taken): up stops everything and says why.
        record = json.loads((tmp_path / "run" / "remote.json").read_text())
        os.kill(int(record["pid"]), signal.SIGKILL)
        squatter = socket.socket()
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 5
        while True:
            try:
                squatter.bind(("127.0.0.1", remote_port))
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        squatter.listen()
        try:
            out, _ = proc.communicate(timeout=150)
        finally:
            squatter.close()
        lines.extend(out.splitlines())
        final = "\n".join(lines)
        assert proc.returncode == 1, final
        assert "remote: stopped unexpectedly" in final and "restarting in" in final
        assert re.search(r"error: remote stopped .* times within \d+s: the chain cannot come back from its "
                         r"saved state; giving up; stopping the platform", final), final
        assert "api: stopped" in final and "submitter: stopped" in final
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=90)
