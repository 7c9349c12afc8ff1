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
- ``deps``         ``DbSession``, ``Settings``, ``CurrentUser``, ``require_role``
- ``routers/``     one module per resource
"""

from api.app import create_app
from api.errors import ApiError
from api.settings import ApiSettings

__all__ = ["ApiError", "ApiSettings", "create_app"]
