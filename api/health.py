"""Readiness: ``/health`` reports whether the platform can serve, and why not.

What it checks (at most once a second, whatever the request rate: the report is cached):

- the database answers;
- each chain answers (one JSON-RPC batch per chain, 1 s timeout) and how old its head is; a chain with
  ``max_block_age_s`` set whose head is older is *stalled*; the same batch reads ``paused()`` of every
  contract deployed on it;
- the indexer's lag per chain (head minus its checkpoint);
- the relayer's backlog (transfers not yet delivered, age of the oldest), from the bridge's store;
- the children of ``chainright up`` (its supervisor's status file): restarting or stopped ones.

Overall: ``down`` (HTTP 503) when the database or a chain does not answer or ``up`` gave a child up;
``degraded`` (HTTP 200: still serving) when a chain is stalled, the indexer lags, a contract is paused,
a child is restarting or a transfer waits too long; else ``ok``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from fastapi import Depends, Request
from pydantic import BaseModel
from sqlalchemy import select, text

from api.db import Database
from chain.settings import ChainSettings

log = logging.getLogger(__name__)

CACHE_S = 1.0
"""A report is reused for this long: /health and /metrics cost at most one probe a second."""
RPC_TIMEOUT_S = 1.0
INDEXER_LAG_BLOCKS = 64
"""Blocks behind the head (beyond the chain's confirmations) before the indexer counts as lagging."""
RELAYER_OLDEST_S = 600.0
"""A transfer waiting longer than this makes the platform degraded."""
PAUSED_SELECTOR = "0x5c975abb"  # paused()

Status = Literal["ok", "degraded", "down"]


class ChainHealth(BaseModel):
    name: str
    chain_id: int
    reachable: bool
    head: int | None = None
    head_age_s: float | None = None
    stalled: bool = False
    error: str | None = None


class IndexerHealth(BaseModel):
    chain_id: int
    next_block: int | None
    lag_blocks: int | None
    lagging: bool = False


class RelayerHealth(BaseModel):
    pending: int
    oldest_pending_age_s: float | None


class PausedContract(BaseModel):
    chain_id: int
    contract: str
    address: str


class ChildHealth(BaseModel):
    name: str
    kind: str
    state: str
    restarts: int


class Health(BaseModel):
    status: Status
    database: str
    chains: list[ChainHealth] = []
    indexer: list[IndexerHealth] = []
    relayer: RelayerHealth | None = None
    paused: list[PausedContract] = []
    children: list[ChildHealth] = []
    problems: list[str] = []
    checked_at: float = 0.0


class HealthProbe:
    """Builds the report; ``report()`` returns a cached one younger than ``CACHE_S``."""

    def __init__(self, db: Database, chain_settings: ChainSettings, *,
                 bridge_url: Callable[[], str | None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.chain_settings = chain_settings
        self.bridge_url = bridge_url or (lambda: _bridge_url(chain_settings))
        self.clock = clock
        self._cached: Health | None = None
        self._lock = threading.Lock()
        self._bridge_store: Any = None
        self._http = httpx.Client(timeout=RPC_TIMEOUT_S, trust_env=False)

    def report(self) -> Health:
        with self._lock:
            now = self.clock()
            if self._cached is None or now - self._cached.checked_at >= CACHE_S:
                self._cached = self._probe(now)
            return self._cached

    # -- the probe ------------------------------------------------------------------------------

    def _probe(self, now: float) -> Health:
        problems: list[str] = []
        down = degraded = False
        database = "ok"
        try:
            with self.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # the report says what failed instead of failing itself
            database, down = f"error: {type(exc).__name__}", True
            problems.append("the database does not answer")
        chains, paused = self._chains(now)
        for c in chains:
            if not c.reachable:
                down = True
                problems.append(f"chain {c.chain_id} ('{c.name}') does not answer at its RPC endpoint")
            elif c.stalled:
                degraded = True
                problems.append(f"chain {c.chain_id} ('{c.name}') makes no blocks "
                                f"(head {c.head_age_s:.0f}s old)")
        if paused:
            degraded = True
            problems += [f"{p.contract} on chain {p.chain_id} is paused" for p in paused]
        indexer = self._indexer(chains) if database == "ok" else []
        for ix in indexer:
            if ix.lagging:
                degraded = True
                problems.append(f"the indexer is {ix.lag_blocks} blocks behind on chain {ix.chain_id}")
        relayer = self._relayer(now)
        if relayer is not None and relayer.oldest_pending_age_s is not None \
                and relayer.oldest_pending_age_s > RELAYER_OLDEST_S:
            degraded = True
            problems.append(f"a bridge transfer has waited {relayer.oldest_pending_age_s:.0f}s")
        children = self._children()
        for child in children:
            if child.state == "stopped":
                down = True
                problems.append(f"{child.name} stopped and was not restarted")
            elif child.state == "restarting":
                degraded = True
                problems.append(f"{child.name} died and is being restarted")
        status: Status = "down" if down else "degraded" if degraded else "ok"
        return Health(status=status, database=database, chains=chains, indexer=indexer, relayer=relayer,
                      paused=paused, children=children, problems=problems, checked_at=now)

    def _chains(self, now: float) -> tuple[list[ChainHealth], list[PausedContract]]:
        from chain.deployments import DeploymentRegistry

        chains: list[ChainHealth] = []
        paused: list[PausedContract] = []
        try:
            deployed = DeploymentRegistry(self.chain_settings.deployments_file)
        except Exception:
            deployed = None
        for spec in self.chain_settings.specs("all"):
            try:
                contracts = sorted(deployed.for_chain(spec.chain_id).items()) if deployed else []
            except Exception:
                contracts = []
            batch: list[dict[str, Any]] = [
                {"jsonrpc": "2.0", "id": 0, "method": "eth_getBlockByNumber", "params": ["latest", False]}]
            batch += [{"jsonrpc": "2.0", "id": i + 1, "method": "eth_call",
                       "params": [{"to": d.address, "data": PAUSED_SELECTOR}, "latest"]}
                      for i, (_, d) in enumerate(contracts)]
            try:
                answer = self._http.post(spec.rpc_url, json=batch)
                answer.raise_for_status()
                by_id = {r.get("id"): r for r in answer.json()}
                block = by_id[0]["result"]
                head, stamp = int(block["number"], 16), int(block["timestamp"], 16)
            except Exception as exc:
                chains.append(ChainHealth(name=spec.name, chain_id=spec.chain_id, reachable=False,
                                          error=type(exc).__name__))
                continue
            age = max(0.0, now - stamp)
            stalled = spec.max_block_age_s is not None and age > spec.max_block_age_s
            chains.append(ChainHealth(name=spec.name, chain_id=spec.chain_id, reachable=True, head=head,
                                      head_age_s=round(age, 3), stalled=stalled))
            for i, (name, d) in enumerate(contracts):
                result = by_id.get(i + 1, {}).get("result")
                if isinstance(result, str) and len(result) == 66 and int(result, 16) == 1:
                    paused.append(PausedContract(chain_id=spec.chain_id, contract=name, address=d.address))
        return chains, paused

    def _indexer(self, chains: list[ChainHealth]) -> list[IndexerHealth]:
        from record.index.store import chain_checkpoints

        try:
            with self.db.engine.connect() as conn:
                rows = {int(c): int(n) for c, n in conn.execute(
                    select(chain_checkpoints.c.chain_id, chain_checkpoints.c.next_block))}
        except Exception:  # no index tables yet (an API without indexer)
            return []
        specs = self.chain_settings.specs("all")
        confirmations: dict[int, int] = {int(s.chain_id): s.confirmations for s in specs}
        out = []
        for c in chains:
            next_block = rows.get(c.chain_id)
            lag = None if next_block is None or c.head is None else max(0, c.head - (next_block - 1))
            lagging = lag is not None and lag > confirmations.get(c.chain_id, 0) + INDEXER_LAG_BLOCKS
            out.append(IndexerHealth(chain_id=c.chain_id, next_block=next_block, lag_blocks=lag,
                                     lagging=lagging))
        return out

    def _relayer(self, now: float) -> RelayerHealth | None:
        """The bridge's backlog through its store's read functions; None when it has no database yet."""
        try:
            if self._bridge_store is None:
                url = self.bridge_url()
                if url is None or (url.startswith("sqlite:///")
                                   and not Path(url.removeprefix("sqlite:///")).exists()):
                    return None
                from bridge.store import BridgeStore, make_engine

                self._bridge_store = BridgeStore(make_engine(url))
            store = self._bridge_store
            counts = store.counts()
            waiting = sorted({status for (_, _, status) in counts if status != "delivered"})
            pending = sum(n for (_, _, status), n in counts.items() if status != "delivered")
            oldest = store.transfers(waiting, limit=1) if waiting else []
        except Exception as exc:  # e.g. the relayer has not created its tables yet
            log.debug("bridge store not readable: %s", type(exc).__name__)
            return None
        age = round(max(0.0, now - oldest[0].observed_at), 3) if oldest else None
        return RelayerHealth(pending=pending, oldest_pending_age_s=age)

    def _children(self) -> list[ChildHealth]:
        """What ``chainright up``'s supervisor last wrote (nothing when ``up`` is not running)."""
        path = self.chain_settings.run_dir / "supervisor.json"
        try:
            data = json.loads(path.read_text())
            os.kill(int(data["pid"]), 0)  # a file left by an `up` that is gone says nothing
        except (OSError, ValueError, KeyError, TypeError):
            return []
        return [ChildHealth(name=name, kind=str(c.get("kind")), state=str(c.get("state")),
                            restarts=int(c.get("restarts") or 0))
                for name, c in sorted(data.get("children", {}).items())]


def _bridge_url(chain_settings: ChainSettings) -> str | None:
    try:
        from bridge.settings import BridgeSettings

        return str(BridgeSettings().effective_database_url(chain_settings))
    except Exception:
        return None


def probe_of(request: Request) -> HealthProbe:
    """The application's health probe (made on first use when the app was built without one)."""
    probe: HealthProbe | None = getattr(request.app.state, "health_probe", None)
    if probe is None:
        probe = HealthProbe(request.app.state.db, request.app.state.gateway.settings)
        request.app.state.health_probe = probe
    return probe


HealthProbeDep = Annotated[HealthProbe, Depends(probe_of)]
"""The readiness probe as a route dependency (the health and console routers take it)."""
