"""Alembic environment: runs migrations on the connection or URL handed over by api.db."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import api.models  # noqa: F401  (registers every table on Base.metadata)
from api.db import Base
from record.index.store import INDEX_METADATA

config = context.config
target_metadata = [Base.metadata, INDEX_METADATA]


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.attributes["connection_url"])
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
