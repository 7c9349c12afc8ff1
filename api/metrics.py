"""Prometheus metrics at ``/metrics`` (prometheus-client, text exposition format).

- ``chainright_http_requests_total{method, route, status}`` and
  ``chainright_http_request_duration_seconds{method, route}``: per route *template*
  (``/assets/{cid}``, never the raw path, so ids do not explode the label set; unmatched paths
  count as ``<unmatched>``);
- ``chainright_chain_up``, ``chainright_chain_head_age_seconds``, ``chainright_indexer_lag_blocks``
  per chain, ``chainright_relayer_backlog`` and ``chainright_relayer_oldest_pending_seconds``: from
  the ``/health`` probe (cached a second, so scrapes cost no extra RPC);
- ``chainright_breaker_halted_collections`` (collections whose trading is halted now) and
  ``chainright_kyc_queue_length`` (applications waiting for review): two COUNT queries per scrape.

Each app has its own registry (tests build many apps in one process).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.db import Database

router = APIRouter(tags=["health"])
access = logging.getLogger("api.access")
UNMATCHED = "<unmatched>"


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("chainright_http_requests", "HTTP requests answered, per route template.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("chainright_http_request_duration_seconds",
                                 "Time to answer an HTTP request, per route template.", ["method", "route"],
                                 registry=self.registry)

    def add_platform_collector(self, collector: Collector) -> None:
        self.registry.register(collector)


class MetricsMiddleware:
    """Pure ASGI: counts and times each request under its route template (read after routing)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = str(getattr(route, "path", UNMATCHED)) if route is not None else UNMATCHED
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, template, str(status[0])).inc()
            elapsed = time.perf_counter() - started
            self.metrics.latency.labels(method, template).observe(elapsed)
            # The template, not the path: paths carry DIDs and addresses, which stay out of the logs.
            access.info("%s %s %d %.1fms", method, template, status[0], elapsed * 1000)


class PlatformCollector(Collector):
    """Gauges read at scrape time: the cached health report and two counts from the database."""

    def __init__(self, db: Database, report: Callable[[], Any]) -> None:
        self.db = db
        self.report = report

    def collect(self) -> Iterable[Metric]:
        health = self.report()
        up = GaugeMetricFamily("chainright_chain_up", "1 when the chain answers its RPC endpoint.",
                               labels=["chain_id", "chain"])
        age = GaugeMetricFamily("chainright_chain_head_age_seconds", "Age of the chain's newest block.",
                                labels=["chain_id", "chain"])
        for c in health.chains:
            up.add_metric([str(c.chain_id), c.name], 1.0 if c.reachable else 0.0)
            if c.head_age_s is not None:
                age.add_metric([str(c.chain_id), c.name], c.head_age_s)
        lag = GaugeMetricFamily("chainright_indexer_lag_blocks", "Blocks between the chain head and the "
                                "indexer's checkpoint.", labels=["chain_id"])
        for ix in health.indexer:
            if ix.lag_blocks is not None:
                lag.add_metric([str(ix.chain_id)], float(ix.lag_blocks))
        backlog = GaugeMetricFamily("chainright_relayer_backlog", "Bridge transfers not yet delivered.")
        oldest = GaugeMetricFamily("chainright_relayer_oldest_pending_seconds",
                                   "Age of the oldest bridge transfer not yet delivered (0 when none).")
        if health.relayer is not None:
            backlog.add_metric([], float(health.relayer.pending))
            oldest.add_metric([], float(health.relayer.oldest_pending_age_s or 0.0))
        paused = GaugeMetricFamily("chainright_paused_contracts", "Deployed contracts that are paused.")
        paused.add_metric([], float(len(health.paused)))
        status = GaugeMetricFamily("chainright_ready", "1 ok, 0.5 degraded, 0 down (as /health says).")
        status.add_metric([], {"ok": 1.0, "degraded": 0.5}.get(health.status, 0.0))
        yield from (up, age, lag, backlog, oldest, paused, status)
        halted, queue = self._counts()
        if halted is not None:
            g = GaugeMetricFamily("chainright_breaker_halted_collections",
                                  "Collections whose trading the price circuit breaker halts now.")
            g.add_metric([], float(halted))
            yield g
        if queue is not None:
            g = GaugeMetricFamily("chainright_kyc_queue_length", "KYC applications waiting for review.")
            g.add_metric([], float(queue))
            yield g

    def _counts(self) -> tuple[int | None, int | None]:
        from api.kyc.states import KycState
        from api.models import CollectionPolicyRow, KycApplication

        try:
            with self.db.engine.connect() as conn:
                halted = conn.execute(select(func.count()).select_from(CollectionPolicyRow).where(
                    CollectionPolicyRow.halted_until > datetime.now(UTC))).scalar_one()
                queue = conn.execute(select(func.count()).select_from(KycApplication).where(
                    KycApplication.state == KycState.SUBMITTED.value)).scalar_one()
        except Exception:  # the database is down: /health says so; the scrape still answers
            return None, None
        return int(halted), int(queue)


@router.get("/metrics", summary="Prometheus metrics (text exposition format).", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
