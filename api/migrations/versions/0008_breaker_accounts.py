"""breaker_decisions.account and .counted: who an order decision was about, and whether its
refusal counts toward a halt (only executable orders, one per account, count)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("breaker_decisions", sa.Column("account", sa.String(42), nullable=True))
    # Refusals recorded before this revision carry no account: none of them counts.
    op.add_column("breaker_decisions",
                  sa.Column("counted", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("breaker_decisions") as batch:
        batch.drop_column("counted")
        batch.drop_column("account")
