"""market: orders, circuit breaker decisions, collection policies

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "market_orders",
        sa.Column("order_hash", sa.String(66), primary_key=True),
        sa.Column("chain_id", sa.Integer, nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("signer", sa.String(42), nullable=False),
        sa.Column("token", sa.String(42), nullable=False),
        sa.Column("token_id", sa.String(80), nullable=False),
        sa.Column("standard", sa.Integer, nullable=False),
        sa.Column("quantity", sa.String(80), nullable=False),
        sa.Column("unit_price", sa.String(80), nullable=False),
        sa.Column("currency", sa.String(42), nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("expiry", sa.Integer, nullable=False),
        sa.Column("salt", sa.String(80), nullable=False),
        sa.Column("counter", sa.String(80), nullable=False),
        sa.Column("signature", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_market_orders_chain_id", "market_orders", ["chain_id"])
    op.create_index("ix_market_orders_signer", "market_orders", ["signer"])
    op.create_index("ix_market_orders_token", "market_orders", ["token"])
    op.create_index("ix_market_orders_status", "market_orders", ["status"])
    op.create_table(
        "breaker_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chain_id", sa.Integer, nullable=False),
        sa.Column("collection", sa.String(42), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("price", sa.String(80), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("halt_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_breaker_decisions_collection", "breaker_decisions", ["collection"])
    op.create_table(
        "collection_policies",
        sa.Column("chain_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("collection", sa.String(42), primary_key=True),
        sa.Column("breaker", sa.Text, nullable=False),
        sa.Column("secondary_sales", sa.Boolean, nullable=False),
        sa.Column("gift_holding_s", sa.Integer, nullable=False),
        sa.Column("halted_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("collection_policies")
    op.drop_index("ix_breaker_decisions_collection", "breaker_decisions")
    op.drop_table("breaker_decisions")
    for ix in ("status", "token", "signer", "chain_id"):
        op.drop_index(f"ix_market_orders_{ix}", "market_orders")
    op.drop_table("market_orders")
