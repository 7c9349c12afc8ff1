"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api.callers import CallerCache
from api.db import Database
from api.errors import ApiSettingsError
from api.gateway import ChainGateway
from api.health import HealthProbe
from api.idempotency import IdempotencyMiddleware, document_header
from api.ipfs import IpfsNodeStore, LocalContentStore
from api.kyc.pii import PiiCipher
from api.kyc.providers import KycProvider, UnknownProviderError, make_provider
from api.kyc.registry import IdentityWriter, OnChainIdentityWriter
from api.kyc.sanctions import SanctionsList
from api.limits import MULTIPART_OVERHEAD, BodyLimitMiddleware
from api.metrics import ApiMetrics, MetricsMiddleware, PlatformCollector
from api.metrics import router as metrics_router
from api.problems import install_problem_handlers
from api.requestid import RequestIdMiddleware, install_request_id_logging
from api.routers import (
    assets,
    auctions,
    auth,
    bridge,
    collections,
    console,
    escrow,
    health,
    kyc,
    licenses,
    market,
    offers,
    ops,
    provenance,
    rentals,
    roles,
    royalties,
    wallets,
    works,
)
from api.settings import ApiSettings
from api.web import router as web_router
from chain.settings import ChainSettings
from did.credentials import ProofFormat
from did.kyc import issue_kyc_credential_sync
from did.settings import DidSettings

log = logging.getLogger(__name__)

API_VERSION = "0.1.0"


@dataclass
class KycComponents:
    cipher: PiiCipher
    sanctions: SanctionsList
    provider: KycProvider
    did_settings: DidSettings
    chain_settings: ChainSettings
    validity_days: int
    identity_writer: IdentityWriter | None = None
    status_base: str = "http://localhost:8000"
    sanctions_file: Path | None = None
    request_stale_s: float = 300.0
    """An approval still writing to the chains after this long was interrupted (``sync_now`` undoes it)."""
    _sanctions_mtime: float | None = field(default=None, repr=False)

    def writer(self) -> IdentityWriter:
        """The identity registry writer, connected on first use (so the API starts without chains)."""
        if self.identity_writer is None:
            self.identity_writer = OnChainIdentityWriter.from_settings(self.chain_settings)
        return self.identity_writer

    def current_sanctions(self) -> SanctionsList:
        """The sanctions list, reloaded when its file changed (an entry added after a submission
        still blocks the approval)."""
        if self.sanctions_file is not None:
            mtime = self.sanctions_file.stat().st_mtime
            if self._sanctions_mtime is None:
                self._sanctions_mtime = mtime
            elif mtime != self._sanctions_mtime:
                self.sanctions = SanctionsList.load(self.sanctions_file)
                self._sanctions_mtime = mtime
                log.info("sanctions list reloaded")
        return self.sanctions

    def issue_credential(self, app_id: str, subject: str, level: int, country: str, expires_at: datetime,
                         now: datetime, proof_format: ProofFormat = "ldp") -> Any:
        """The KYCCredential of application ``app_id``: its id keys the status register."""
        from api.kyc.service import credential_id_for

        credential_id = credential_id_for(app_id)
        return issue_kyc_credential_sync(
            self.did_settings, subject, level, country, expires_at, now=now, proof_format=proof_format,
            credential_id=credential_id,
            status_id=f"{self.status_base}/kyc/credentials/status?id={credential_id}")


def _check_identity_settings(settings: ApiSettings, did_settings: DidSettings) -> None:
    if settings.environment == "production" and did_settings.uses_development_key:
        raise ApiSettingsError(
            "the API runs in production (CHAINRIGHT_API_ENVIRONMENT) but KYC credentials would be signed "
            "with the public development issuer key: set CHAINRIGHT_DID_ISSUER_KEY to your own Ed25519 JWK "
            "(and CHAINRIGHT_DID_ENVIRONMENT=production)")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from api.kyc.sync import sync_at_startup

    await run_in_threadpool(sync_at_startup, app.state.db, app.state.kyc)
    yield


def create_app(settings: ApiSettings | None = None, *, db: Database | None = None,
               chain_settings: ChainSettings | None = None, did_settings: DidSettings | None = None,
               identity_writer: IdentityWriter | None = None) -> FastAPI:
    """Build the API: settings, migrated database, problem handlers, middleware, routers."""
    settings = settings or ApiSettings()
    install_request_id_logging()  # every log line written during a request carries its id
    chain_settings = chain_settings or ChainSettings()
    did_settings = did_settings or DidSettings()
    _check_identity_settings(settings, did_settings)
    try:
        provider = make_provider(settings.kyc_provider)
    except UnknownProviderError as exc:
        raise ApiSettingsError(str(exc)) from None
    if db is None:
        db = Database(settings.effective_database_url)
        db.migrate()
    app = FastAPI(
        title="Chainright API",
        version=API_VERSION,
        summary="Issue, license, trade and audit digital goods on EVM chains.",
        description="Errors are RFC 9457 problem documents (application/problem+json). "
                    "Every state-changing call accepts an Idempotency-Key header.",
        lifespan=_lifespan,
        docs_url=None, redoc_url=None,  # served by _install_docs from the project's own assets
    )
    app.state.settings = settings
    app.state.db = db
    app.state.callers = CallerCache(settings.caller_cache_ttl_s)
    app.state.gateway = ChainGateway(chain_settings)
    app.state.did_settings = did_settings
    app.state.content_store = (IpfsNodeStore(settings.ipfs_api) if settings.ipfs_api
                               else LocalContentStore(settings.data_dir / "content"))
    app.state.kyc = KycComponents(
        cipher=PiiCipher(settings.kyc_encryption_key.get_secret_value()),
        sanctions=SanctionsList.load(settings.sanctions_file),
        provider=provider, did_settings=did_settings, chain_settings=chain_settings,
        validity_days=did_settings.kyc_validity_days, identity_writer=identity_writer,
        status_base=settings.siwe_uri.rstrip("/"), sanctions_file=settings.sanctions_file,
        request_stale_s=float(settings.idempotency_stale_s),
    )
    install_problem_handlers(app)
    # Outermost first: request id -> body limit and session-before-body -> idempotency -> routes.
    app.add_middleware(IdempotencyMiddleware, db=db, settings=settings, cipher=app.state.kyc.cipher,
                       ttl_s=settings.idempotency_ttl_s, stale_s=settings.idempotency_stale_s,
                       max_body=settings.max_upload_bytes + MULTIPART_OVERHEAD, callers=app.state.callers)
    app.add_middleware(BodyLimitMiddleware, api=app, db=db, settings=settings, callers=app.state.callers)
    # Observability: /health (readiness, cached a second) and /metrics (counts every request by route,
    # inside the request id's middleware so that its access line carries the id).
    app.state.health_probe = HealthProbe(db, chain_settings)
    app.state.metrics = ApiMetrics()
    app.state.metrics.add_platform_collector(PlatformCollector(db, app.state.health_probe.report))
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(RequestIdMiddleware)
    # The router tries routes in this order: the market's (the busiest: orders and fills) and the
    # provenance reads first. No route of another router starts with /market or /provenance
    # (tests/unit/api/test_api_shape.py checks), so the order changes no answer, only its cost.
    app.include_router(market.router)
    app.include_router(provenance.router)
    app.include_router(health.router)
    app.include_router(metrics_router)
    app.include_router(auth.router)
    app.include_router(kyc.router)
    app.include_router(assets.router)
    app.include_router(console.router)
    app.include_router(wallets.router)
    app.include_router(auctions.router)
    app.include_router(offers.router)
    app.include_router(licenses.router)
    app.include_router(rentals.router)
    app.include_router(escrow.router)
    app.include_router(royalties.router)
    app.include_router(bridge.router)
    app.include_router(ops.router)
    app.include_router(collections.router)
    app.include_router(roles.router)
    app.include_router(works.router)
    app.include_router(web_router)  # the web app's pages and the read routes they need (api/web/)
    document_header(app)
    _install_docs(app)
    return app


DOCS_ASSETS = "/docs-assets"


def _install_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc with their JavaScript and CSS served by the API itself, from the
    bundles of the fastapi-offline package: the pages work with no network (FastAPI's defaults load
    them from a CDN and stay blank offline)."""
    from importlib.resources import files

    from fastapi.openapi.docs import (
        get_redoc_html,
        get_swagger_ui_html,
        get_swagger_ui_oauth2_redirect_html,
    )
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    static = Path(str(files("fastapi_offline") / "static"))
    app.mount(DOCS_ASSETS, StaticFiles(directory=static), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{title} - Swagger UI",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png")

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=f"{title} - ReDoc",
                              redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png", with_google_fonts=False)
