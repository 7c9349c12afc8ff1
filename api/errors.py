"""Exceptions of the API. Each carries its HTTP status and a problem type; the mapping to
RFC 9457 problem responses happens in exactly one place (``api.problems``)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Root of every error the API answers with; ``status`` and ``title`` describe it."""

    status = 500
    title = "Internal error"
    type_ = "about:blank"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ApiSettingsError(ApiError):
    """Raised when the API cannot start with its settings (e.g. production with the public
    development issuer key, or an unknown KYC provider)."""


class BadRequestError(ApiError):
    """Raised when a request is well-formed JSON but semantically wrong."""

    status = 400
    title = "Bad request"
    type_ = "/problems/bad-request"


class UnauthorizedError(ApiError):
    """Raised when the caller is not logged in or the login proof is invalid."""

    status = 401
    title = "Unauthorized"
    type_ = "/problems/unauthorized"


class ForbiddenError(ApiError):
    """Raised when the caller is logged in but lacks the role or KYC status needed."""

    status = 403
    title = "Forbidden"
    type_ = "/problems/forbidden"


class NotFoundError(ApiError):
    """Raised when the named resource does not exist."""

    status = 404
    title = "Not found"
    type_ = "/problems/not-found"


class ConflictError(ApiError):
    """Raised when the request conflicts with the current state (e.g. reused nonce)."""

    status = 409
    title = "Conflict"
    type_ = "/problems/conflict"


class UnprocessableError(ApiError):
    """Raised when input passes the schema but breaks a rule (e.g. an order outside the band)."""

    status = 422
    title = "Unprocessable request"
    type_ = "/problems/unprocessable"


class ServiceUnavailableError(ApiError):
    """Raised when a dependency (a chain, the IPFS node, the database) is not reachable."""

    status = 503
    title = "Service unavailable"
    type_ = "/problems/service-unavailable"


class ChainStalledApiError(ServiceUnavailableError):
    """Raised when a route would build or send a transaction on a chain that makes no blocks."""

    title = "Chain stalled"
    type_ = "/problems/chain-stalled"


class ContractPausedError(ConflictError):
    """Raised when a request needs a contract family that an operator has paused (``/ops/pause``):
    nothing is built or accepted for it until it is unpaused."""

    title = "Contract paused"
    type_ = "/problems/paused"
