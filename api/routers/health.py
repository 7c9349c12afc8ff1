"""Health routes: liveness (``/health/live``) and the readiness report (``/health``, built by
``api.health.HealthProbe``)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from api.health import Health, HealthProbeDep

router = APIRouter(tags=["health"])


class Live(BaseModel):
    status: str


@router.get("/health/live", response_model=Live, summary="Is the API process up? (liveness: always 200)")
def live() -> Live:
    return Live(status="ok")


@router.get("/health", response_model=Health, summary="Is the platform ready? (200 ok/degraded, 503 down)",
            responses={503: {"model": Health,
                             "description": "Down: a chain or the database does not answer."}})
def health(probe: HealthProbeDep, response: Response) -> Health:
    report = probe.report()
    if report.status == "down":
        response.status_code = 503
    return report
