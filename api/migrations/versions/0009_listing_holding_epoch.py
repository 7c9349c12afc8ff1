"""market_orders.holding_epoch: the token's holding epoch a listing is bound to

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("market_orders",
                  sa.Column("holding_epoch", sa.String(80), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("market_orders", "holding_epoch")
