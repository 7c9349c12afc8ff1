"""explore filters: license terms attached to catalogued tokens (``catalog_licenses``, followed from
the index), a collection policy's ``identity_required`` as a column; the catalogue re-reads the index
once so terms attached before this migration are catalogued too

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_licenses",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("collection", sa.String(42), nullable=False),
        sa.Column("token_id", sa.String(80), nullable=False),
        sa.Column("terms_hash", sa.String(66), nullable=False),
        sa.Column("commercial", sa.Boolean, nullable=False),
        sa.Column("derivatives", sa.Boolean, nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_catalog_licenses_token", "catalog_licenses", ["chain_id", "collection", "token_id"])
    op.create_index("ix_catalog_licenses_event", "catalog_licenses", ["chain_id", "event_id"])
    with op.batch_alter_table("collection_policies") as batch:
        batch.add_column(sa.Column("identity_required", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    conn = op.get_bind()
    policies = sa.table("collection_policies", sa.column("chain_id", sa.Integer),
                        sa.column("collection", sa.String), sa.column("breaker", sa.Text),
                        sa.column("identity_required", sa.Boolean))
    for row in conn.execute(sa.select(policies.c.chain_id, policies.c.collection, policies.c.breaker)).all():
        try:
            required = bool(json.loads(row.breaker or "{}").get("identity_required", False))
        except ValueError:
            required = False
        if required:
            conn.execute(policies.update().where(policies.c.chain_id == row.chain_id,
                                                 policies.c.collection == row.collection)
                         .values(identity_required=True))
    conn.execute(sa.text("DELETE FROM catalog_sync"))  # re-read: existing rows are kept (idempotent)


def downgrade() -> None:
    with op.batch_alter_table("collection_policies") as batch:
        batch.drop_column("identity_required")
    op.drop_index("ix_catalog_licenses_event", table_name="catalog_licenses")
    op.drop_index("ix_catalog_licenses_token", table_name="catalog_licenses")
    op.drop_table("catalog_licenses")
