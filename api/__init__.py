"""Chainright's HTTP API (FastAPI): login, KYC, assets, market, circuit breakers, provenance.

Uses ``chain`` and ``did``. Modules:
- ``app``          ``create_app()``: settings, database, middleware, routers
- ``settings``     ``ApiSettings`` (``CHAINRIGHT_API_*``)
- ``errors``       the ``ApiError`` tree (each with its HTTP status)
- ``problems``     RFC 9457 problem responses: the one place errors become HTTP
- ``requestid``    request ids on responses and log lines
- ``metrics``      Prometheus ``/metrics``: requests per route template, platform gauges
- ``idempotency``  ``Idempotency-Key`` on every state-changing call
- ``db``, ``models``, ``migrations/``  SQLAlchemy 2 + Alembic (SQLite default, PostgreSQL)
- ``sessions``     signed bearer session tokens, revocable
- ``deps``         ``DbSession``, ``Settings``, ``GatewayDep`` and the other services, ``CurrentUser``,
                   ``require_role``: what routes take as ``Annotated`` dependencies
- ``schemas/``     wire models shared by routers (``UnsignedTx``) and each resource's own
- ``admission``    whether an order enters the book (pure rules over chain reads)
- ``breaker``, ``risk``  the circuit breaker's pure core and its effects
- ``simulate``     gas estimates; a revert becomes one 422
- ``routers/``     one module per resource
"""

from typing import TYPE_CHECKING, Any

from api.errors import ApiError
from api.settings import ApiSettings

if TYPE_CHECKING:
    from api.app import create_app

__all__ = ["ApiError", "ApiSettings", "create_app"]


def __getattr__(name: str) -> Any:
    """``create_app`` is imported on first use: the console commands that only talk to the API
    (``api.client``) start without loading the whole application (FastAPI, didkit, the routers)."""
    if name == "create_app":
        from api.app import create_app

        return create_app
    raise AttributeError(f"module 'api' has no attribute {name!r}")
