"""API fixtures: one behaviour suite, several database backends (SQLite and PostgreSQL).

``CHAINRIGHT_TEST_DATABASES`` (comma-separated, default ``sqlite,postgresql``) picks them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.db import Base, Database
from api.settings import ApiSettings
from tests.support.postgres import postgres_server

BACKENDS = [b.strip() for b in os.environ.get("CHAINRIGHT_TEST_DATABASES", "sqlite,postgresql").split(",")
            if b.strip()]


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'chainright.db'}"
    elif request.param == "postgresql":
        with postgres_server() as url:
            yield url
    else:
        raise ValueError(f"unknown test database backend {request.param!r}")


@pytest.fixture(scope="session")
def migrated(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def database(migrated: Database) -> Iterator[Database]:
    """The migrated database, emptied after each test."""
    yield migrated
    with migrated.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def api_settings(tmp_path: Path) -> ApiSettings:
    return ApiSettings(environment="test", data_dir=tmp_path, siwe_domain="testserver",
                       siwe_uri="http://testserver")
