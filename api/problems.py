"""RFC 9457 problem responses: the one place where exceptions become HTTP answers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import ApiError
from api.requestid import current_request_id
from chain.errors import ChainError, ProvenanceRangeError, TransactionRevertedError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, *, type_: str = "about:blank",
            instance: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        response = problem(exc.status, exc.title, exc.detail, type_=exc.type_,
                           instance=request.url.path, **exc.extra)
        if exc.status == 413:  # answered before the rest of the body was read (api.uploads)
            response.headers["connection"] = "close"
        return response

    @app.exception_handler(ChainError)
    async def _chain_error(request: Request, exc: ChainError) -> JSONResponse:
        if isinstance(exc, TransactionRevertedError):
            from chain.reverts import explain_exception

            return problem(422, "Transaction reverted", explain_exception(exc), type_="/problems/reverted",
                           instance=request.url.path, error=exc.error_name)
        if isinstance(exc, ProvenanceRangeError):
            return problem(422, "Story too long for a bundle", str(exc), type_="/problems/provenance-range",
                           instance=request.url.path)
        return problem(503, "Chain unavailable", str(exc), type_="/problems/chain-unavailable",
                       instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}" if first["loc"] else str(first["msg"])
        return problem(422, "Invalid request", detail, type_="/problems/validation",
                       instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail) if exc.status_code < 500 else "Error",
                       str(exc.detail), instance=request.url.path)


def too_large(limit: int, instance: str) -> JSONResponse:
    """413 for a request body over its route's cap (``api.limits``): answered before the rest of
    the body is read, so the connection is closed afterwards."""
    response = problem(413, "Request body too large",
                       f"the request body is larger than this route accepts ({limit} bytes)",
                       type_="/problems/too-large", instance=instance, limit=limit)
    response.headers["connection"] = "close"
    return response


def error_problem(exc: ApiError, instance: str) -> JSONResponse:
    """The problem document of an ``ApiError`` raised outside a route (by an ASGI middleware,
    e.g. a missing session found before the body is read): the same document the handler builds."""
    return problem(exc.status, exc.title, exc.detail, type_=exc.type_, instance=instance, **exc.extra)
