"""index: chain events, checkpoints, block hashes, watched contracts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("block_time", sa.BigInteger, nullable=True),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("log_index", sa.Integer, nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("contract", sa.String(64), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("ref_address", sa.String(42), nullable=False),
        sa.Column("token_id", sa.String(80), nullable=True),
        sa.Column("args", sa.Text, nullable=False),
        sa.UniqueConstraint("chain_id", "tx_hash", "log_index", name="uq_chain_events_log"),
    )
    op.create_index("ix_chain_events_token", "chain_events", ["chain_id", "ref_address", "token_id"])
    op.create_index("ix_chain_events_block", "chain_events", ["chain_id", "block_number"])
    op.create_index("ix_chain_events_event", "chain_events", ["chain_id", "contract", "event"])
    op.create_table(
        "chain_checkpoints",
        sa.Column("chain_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("next_block", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "chain_blocks",
        sa.Column("chain_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("number", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(66), nullable=False),
    )
    op.create_table(
        "chain_watch",
        sa.Column("chain_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("address", sa.String(42), primary_key=True),
        sa.Column("contract", sa.String(64), nullable=False),
        sa.Column("from_block", sa.BigInteger, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("chain_watch")
    op.drop_table("chain_blocks")
    op.drop_table("chain_checkpoints")
    op.drop_index("ix_chain_events_event", "chain_events")
    op.drop_index("ix_chain_events_block", "chain_events")
    op.drop_index("ix_chain_events_token", "chain_events")
    op.drop_table("chain_events")
