"""widen chain_watch.source: factory rules name "Contract.Event" (PostgreSQL enforces lengths)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chain_watch") as batch:
        batch.alter_column("source", existing_type=sa.String(32), type_=sa.String(128),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("chain_watch") as batch:
        batch.alter_column("source", existing_type=sa.String(128), type_=sa.String(32),
                           existing_nullable=False)
