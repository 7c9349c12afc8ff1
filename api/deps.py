"""Dependencies every router takes through ``Annotated`` aliases: the database session, the
settings, the application's services (``GatewayDep``, ``DatabaseDep``, ``ContentStoreDep``,
``DidSettingsDep``, ``KycDep``), a streamed upload (``UploadDep``), and the caller (``CurrentUser``;
role checks through ``require_role``). A route says ``gateway: GatewayDep``; it never reaches into
``request.app.state``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import sessions
from api.callers import CallerCache
from api.db import Database
from api.errors import ForbiddenError, UnauthorizedError
from api.gateway import ChainGateway
from api.ipfs import ContentStore
from api.models import User
from api.roles import granted_roles
from api.settings import ApiSettings
from api.uploads import ReceivedUpload, receive_upload
from did.settings import DidSettings


async def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session. Opening one does no I/O, so it opens on the event loop; it is
    committed (or rolled back, when the route raised) in a worker thread, as the route ran."""
    db: Database = request.app.state.db
    scope = db.session()
    session = scope.__enter__()
    try:
        yield session
    except BaseException as exc:
        await run_in_threadpool(scope.__exit__, type(exc), exc, exc.__traceback__)
        raise
    await run_in_threadpool(scope.__exit__, None, None, None)


async def get_gateway(request: Request) -> ChainGateway:
    gateway: ChainGateway = request.app.state.gateway
    return gateway


async def get_content_store(request: Request) -> ContentStore:
    """The content store (local files or an IPFS node)."""
    store: ContentStore = request.app.state.content_store
    return store


async def get_did_settings(request: Request) -> DidSettings:
    did_settings: DidSettings = request.app.state.did_settings
    return did_settings


async def get_callers(request: Request) -> CallerCache:
    """The app's cache of resolved callers (``api.callers``)."""
    callers: CallerCache = request.app.state.callers
    return callers


async def get_kyc(request: Request) -> Any:
    """The KYC components (``api.app.KycComponents``: cipher, sanctions, provider, identity writer)."""
    return request.app.state.kyc


Settings = Annotated[ApiSettings, Depends(get_settings)]
GatewayDep = Annotated[ChainGateway, Depends(get_gateway)]
"""The API's one way to the chains (``api.gateway.ChainGateway``)."""
DatabaseDep = Annotated[Database, Depends(get_database)]
"""The database itself, for work that needs its own sessions or connections (``DbSession`` is the
request's session)."""
ContentStoreDep = Annotated[ContentStore, Depends(get_content_store)]
DidSettingsDep = Annotated[DidSettings, Depends(get_did_settings)]
KycDep = Annotated[Any, Depends(get_kyc)]


async def upload_body(request: Request, settings: Settings,
                      store: ContentStoreDep) -> AsyncIterator[ReceivedUpload]:
    """The request's multipart body read as it streams (``api.uploads``): the file staged on disk with
    its CID and hash, the cap enforced on the way; the staging file is removed after the request."""
    upload = await receive_upload(request.headers.get("content-type", ""), request.stream(),
                                  settings.max_upload_bytes, store.staging_dir)
    try:
        yield upload
    finally:
        upload.discard()


UploadDep = Annotated[ReceivedUpload, Depends(upload_body)]
"""A streamed upload; ``api.limits`` gives a route taking it the upload cap. Put it after the
caller's dependency, so that the caller is checked before a byte of the body is read."""
CallersDep = Annotated[CallerCache, Depends(get_callers)]
DbSession = Annotated[Session, Depends(get_session, scope="function")]
"""Committed when the route function returns, before the response is sent, so a client that
acts on the answer (e.g. logs in with the nonce it just got) always finds the write."""

_bearer = HTTPBearer(auto_error=False, description="A session token from /auth/*/login")


@dataclass(frozen=True)
class Caller:
    """The logged-in user behind a request."""

    did: str
    address: str | None
    roles: frozenset[str]
    session_id: str


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The session's caller, kept per token for ``caller_cache_ttl_s`` (``api.callers``): a kept
    caller is answered on the event loop, one to read is read in a worker thread. It takes the
    app's services from the request itself, not as dependencies of its own: every route with a
    caller runs it, and each dependency costs the framework a resolution per request."""
    state = request.app.state
    database: Database = state.db
    settings: ApiSettings = state.settings
    callers: CallerCache = state.callers
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise UnauthorizedError("this route needs a session: send 'Authorization: Bearer <token>' "
                                "from a login")
    token = credentials.credentials

    def load() -> tuple[Caller, float | None]:  # in its own session: the route's may never open
        with database.session() as db:
            info = sessions.resolve(db, settings, token)
            user = db.get(User, info.subject)
            roles = frozenset(r for r in (user.roles if user else "").split(",") if r)
            roles |= granted_roles(db, info.subject, user.address if user else None)  # grants, no restart
            return (Caller(did=info.subject, address=user.address if user else None, roles=roles,
                           session_id=info.session_id), info.expires_at.timestamp())

    kept = callers.peek("caller", token)
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    return await run_in_threadpool(callers.get, "caller", token, load)


CurrentUser = Annotated[Caller, Depends(current_user)]


async def optional_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller | None:
    """The caller when the request carries a session, None for anonymous reads (a bad token is
    still refused)."""
    if credentials is None:
        return None
    return await current_user(request, credentials)


OptionalUser = Annotated[Caller | None, Depends(optional_user)]


def require_role(role: str) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency admitting only callers holding ``role``."""

    async def check(caller: CurrentUser) -> Caller:  # no I/O: on the event loop
        if role not in caller.roles:
            raise ForbiddenError(f"this route needs the '{role}' role")
        return caller

    return check


@dataclass(frozen=True)
class VerifiedCaller(Caller):
    """A caller whose KYC is approved, unexpired and written on chain."""

    kyc_level: int
    country: str


async def kyc_verified_user(
    request: Request,
    caller: CurrentUser,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> VerifiedCaller:
    """The caller when its KYC is approved, kept per token like the caller and never past the
    approval's expiry; a refusal is never kept (the next request reads again)."""
    from api.kyc.service import verified_application

    database: Database = request.app.state.db
    callers: CallerCache = request.app.state.callers

    def load() -> tuple[VerifiedCaller, float | None]:
        with database.session() as db:
            app = verified_application(db, caller.did, address=caller.address)  # KYC is per wallet
            if app is None:
                raise ForbiddenError("this route needs a verified identity: complete KYC first "
                                     "(POST /kyc/applications)")
            expires, level, country = app.expires_at, int(app.level or 0), app.country
        until = None if expires is None else (expires if expires.tzinfo else expires.replace(tzinfo=UTC))
        return (VerifiedCaller(did=caller.did, address=caller.address, roles=caller.roles,
                               session_id=caller.session_id, kyc_level=level, country=country),
                None if until is None else until.timestamp())

    assert credentials is not None  # CurrentUser refused a request without one
    kept = callers.peek("verified", credentials.credentials)
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    return await run_in_threadpool(callers.get, "verified", credentials.credentials, load)


KycVerifiedUser = Annotated[VerifiedCaller, Depends(kyc_verified_user)]
