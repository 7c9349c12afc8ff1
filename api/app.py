"""The FastAPI application factory."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from api.db import Database
from api.idempotency import IdempotencyMiddleware
from api.problems import install_problem_handlers
from api.requestid import RequestIdMiddleware
from api.routers import health
from api.settings import ApiSettings

log = logging.getLogger(__name__)

API_VERSION = "0.1.0"


def create_app(settings: ApiSettings | None = None, *, db: Database | None = None) -> FastAPI:
    """Build the API: settings, migrated database, problem handlers, middleware, routers."""
    settings = settings or ApiSettings()
    if db is None:
        db = Database(settings.effective_database_url)
        db.migrate()
    app = FastAPI(
        title="Chainright API",
        version=API_VERSION,
        summary="Issue, license, trade and audit digital goods on EVM chains.",
        description="Errors are RFC 9457 problem documents (application/problem+json). "
                    "Every state-changing call accepts an Idempotency-Key header.",
    )
    app.state.settings = settings
    app.state.db = db
    install_problem_handlers(app)
    app.add_middleware(IdempotencyMiddleware, db=db)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    return app
