"""The readiness report's rules (api.health.HealthProbe) against fake JSON-RPC nodes: which
findings make the platform ok, degraded (200) or down (503), paused contracts read on chain, the
one-second cache, and `up`'s children. The real-node case is in tests/integration/test_observability.py."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import httpx
import pytest

from api.health import HealthProbe
from chain.deployments import Deployment, DeploymentRegistry
from tests.conftest import chain_settings_for

pytestmark = pytest.mark.unit

MARKET = "0x" + "aa" * 20
ESCROW = "0x" + "bb" * 20


class FakeNodes:
    """JSON-RPC batches answered per port: head age, paused contracts, or no answer at all."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.head_age: dict[int, float] = {}
        self.paused: set[str] = set()
        self.dead: set[int] = set()
        self.requests = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        port = request.url.port or 0
        if port in self.dead:
            raise httpx.ConnectError("connection refused", request=request)
        out: list[dict[str, Any]] = []
        for call in json.loads(request.content):
            if call["method"] == "eth_getBlockByNumber":
                stamp = int(self.now - self.head_age.get(port, 0.0))
                out.append({"id": call["id"], "result": {"number": hex(100), "timestamp": hex(stamp)}})
            else:
                to = call["params"][0]["to"]
                out.append({"id": call["id"], "result": "0x" + f"{int(to in self.paused):064x}"})
        return httpx.Response(200, json=out)


@pytest.fixture
def rig(tmp_path, database):
    now = [time.time()]
    chains = chain_settings_for(tmp_path, home_max_block_age_s=10.0)
    registry = DeploymentRegistry(chains.deployments_file)
    for name, address in (("Marketplace", MARKET), ("MilestoneEscrow", ESCROW)):
        registry.record(31337, Deployment(contract=name, address=address, tx_hash="0x", block=1, code_hash="x"))
    nodes = FakeNodes(now[0])
    probe = HealthProbe(database, chains, bridge_url=lambda: None, clock=lambda: now[0])
    probe._http = httpx.Client(transport=httpx.MockTransport(nodes.handler))
    return probe, nodes, chains, now


def fresh(probe, now, step: float = 1.0):  # type: ignore[no-untyped-def]
    now[0] += step
    return probe.report()


def test_all_answering_is_ok(rig):
    probe, _, _, now = rig
    report = fresh(probe, now)
    assert report.status == "ok" and report.problems == [] and report.paused == []
    assert [(c.name, c.reachable, c.head) for c in report.chains] == [("home", True, 100), ("remote", True, 100)]


@pytest.mark.parametrize(("finding", "status", "problem"), [
    ("remote dead", "down", "chain 31338 ('remote') does not answer"),
    ("home stalled", "degraded", "chain 31337 ('home') makes no blocks"),
    ("remote old head without a limit", "ok", None),  # anvil's automine: an old head is no stall
    ("market paused", "degraded", "Marketplace on chain 31337 is paused"),
])
def test_findings_decide_the_status(rig, finding, status, problem):
    probe, nodes, chains, now = rig
    home, remote = chains.home_port, chains.remote_port
    if finding == "remote dead":
        nodes.dead.add(remote)
    elif finding == "home stalled":
        nodes.head_age[home] = 30.0
    elif finding == "remote old head without a limit":
        nodes.head_age[remote] = 3600.0
    elif finding == "market paused":
        nodes.paused.add(MARKET)
    report = fresh(probe, now)
    assert report.status == status, report
    if problem:
        assert any(problem in p for p in report.problems), report.problems
    if finding == "market paused":
        assert [(p.contract, p.address) for p in report.paused] == [("Marketplace", MARKET)]


def test_the_report_is_cached_for_a_second(rig):
    probe, nodes, _, now = rig
    fresh(probe, now)
    seen = nodes.requests
    for _ in range(50):
        probe.report()
    assert nodes.requests == seen  # no RPC per request
    now[0] += 0.99
    probe.report()
    assert nodes.requests == seen
    now[0] += 0.02
    probe.report()
    assert nodes.requests == seen + 2  # one batch per chain


def test_children_of_up_restarting_or_given_up(rig):
    probe, _, chains, now = rig
    status = chains.run_dir / "supervisor.json"
    status.parent.mkdir(parents=True, exist_ok=True)

    def write(state: str, pid: int = os.getpid()) -> None:
        status.write_text(json.dumps({"pid": pid, "children": {
            "indexer": {"kind": "indexer", "state": state, "restarts": 2}}}))

    write("restarting")
    report = fresh(probe, now)
    assert report.status == "degraded" and "indexer died and is being restarted" in report.problems
    write("stopped")
    assert fresh(probe, now).status == "down"
    write("stopped", pid=2**22 + 12345)  # left behind by an `up` that is gone: ignored
    report = fresh(probe, now)
    assert report.status == "ok" and report.children == []
