"""assets: uploaded works by CID

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assets",
        sa.Column("cid", sa.String(100), primary_key=True),
        sa.Column("content_hash", sa.String(66), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("media_type", sa.String(127), nullable=False),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("uploader", sa.String(255), nullable=False),
        sa.Column("store", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_assets_content_hash", "assets", ["content_hash"])
    op.create_index("ix_assets_uploader", "assets", ["uploader"])


def downgrade() -> None:
    op.drop_index("ix_assets_uploader", "assets")
    op.drop_index("ix_assets_content_hash", "assets")
    op.drop_table("assets")
