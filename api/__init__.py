"""Chainright's HTTP API (FastAPI): login, KYC, assets, market, circuit breakers, provenance.

Uses ``chain`` and ``did``; nothing here yet beyond the package (see api/README.md).
"""

__all__: list[str] = []
