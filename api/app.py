"""The FastAPI application factory."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import FastAPI

from api.db import Database
from api.gateway import ChainGateway
from api.idempotency import IdempotencyMiddleware, document_header
from api.ipfs import IpfsNodeStore, LocalContentStore
from api.kyc.pii import PiiCipher
from api.kyc.providers import PROVIDERS, KycProvider
from api.kyc.registry import IdentityWriter, OnChainIdentityWriter
from api.kyc.sanctions import SanctionsList
from api.problems import install_problem_handlers
from api.requestid import RequestIdMiddleware, install_request_id_logging
from api.routers import assets, auth, health, kyc, market, provenance
from api.settings import ApiSettings
from chain.settings import ChainSettings
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

    def writer(self) -> IdentityWriter:
        """The identity registry writer, connected on first use (so the API starts without chains)."""
        if self.identity_writer is None:
            self.identity_writer = OnChainIdentityWriter.from_settings(self.chain_settings)
        return self.identity_writer

    def issue_credential(self, subject: str, level: int, country: str, expires_at: datetime,
                         now: datetime) -> Any:
        return issue_kyc_credential_sync(self.did_settings, subject, level, country, expires_at, now=now)


def create_app(settings: ApiSettings | None = None, *, db: Database | None = None,
               chain_settings: ChainSettings | None = None, did_settings: DidSettings | None = None,
               identity_writer: IdentityWriter | None = None) -> FastAPI:
    """Build the API: settings, migrated database, problem handlers, middleware, routers."""
    settings = settings or ApiSettings()
    install_request_id_logging()  # every log line written during a request carries its id
    chain_settings = chain_settings or ChainSettings()
    did_settings = did_settings or DidSettings()
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
    app.state.gateway = ChainGateway(chain_settings)
    app.state.did_settings = did_settings
    app.state.content_store = (IpfsNodeStore(settings.ipfs_api) if settings.ipfs_api
                               else LocalContentStore(settings.data_dir / "content"))
    app.state.kyc = KycComponents(
        cipher=PiiCipher(settings.kyc_encryption_key.get_secret_value()),
        sanctions=SanctionsList.load(settings.sanctions_file),
        provider=PROVIDERS[settings.kyc_provider](),
        did_settings=did_settings, chain_settings=chain_settings,
        validity_days=did_settings.kyc_validity_days, identity_writer=identity_writer,
    )
    install_problem_handlers(app)
    app.add_middleware(IdempotencyMiddleware, db=db, cipher=app.state.kyc.cipher,
                       ttl_s=settings.idempotency_ttl_s, stale_s=settings.idempotency_stale_s,
                       max_body=settings.max_upload_bytes + 1024 * 1024)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(kyc.router)
    app.include_router(assets.router)
    app.include_router(market.router)
    app.include_router(provenance.router)
    document_header(app)
    return app
