"""catalog: works' title, description and tags; the catalogue of minted works and their sales
(followed from the index, api/works_index.py); the order book indexed per token

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("assets", sa.Column("title", sa.String(200), nullable=True))
    op.add_column("assets", sa.Column("description", sa.Text, nullable=True))
    op.create_table(
        "asset_tags",
        sa.Column("cid", sa.String(100), primary_key=True),
        sa.Column("tag", sa.String(32), primary_key=True),
    )
    op.create_index("ix_asset_tags_tag", "asset_tags", ["tag", "cid"])
    op.create_table(
        "catalog_works",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("collection", sa.String(42), nullable=False),
        sa.Column("collection_name", sa.String(128), nullable=True),
        sa.Column("token_id", sa.String(80), nullable=False),
        sa.Column("work_id", sa.String(80), nullable=False),
        sa.Column("edition_size", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(66), nullable=False),
        sa.Column("cid", sa.String(100), nullable=True),
        sa.Column("creator", sa.String(42), nullable=True),
        sa.Column("minted_at", sa.BigInteger, nullable=True),
        sa.Column("royalty_receiver", sa.String(42), nullable=True),
        sa.Column("royalty_bps", sa.Integer, nullable=True),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.UniqueConstraint("chain_id", "collection", "token_id", name="uq_catalog_works_token"),
    )
    op.create_index("ix_catalog_works_event", "catalog_works", ["chain_id", "event_id"])
    op.create_index("ix_catalog_works_newest", "catalog_works", ["minted_at", "id"])
    op.create_index("ix_catalog_works_creator", "catalog_works", ["creator"])
    op.create_index("ix_catalog_works_cid", "catalog_works", ["cid"])
    op.create_table(
        "catalog_sales",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("collection", sa.String(42), nullable=False),
        sa.Column("token_id", sa.String(80), nullable=False),
        sa.Column("buyer", sa.String(42), nullable=False),
        sa.Column("seller", sa.String(42), nullable=False),
        sa.Column("unit_price", sa.String(80), nullable=False),
        sa.Column("quantity", sa.String(80), nullable=False),
        sa.Column("currency", sa.String(42), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("block_time", sa.BigInteger, nullable=True),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_catalog_sales_event", "catalog_sales", ["chain_id", "event_id"])
    op.create_index("ix_catalog_sales_token", "catalog_sales", ["chain_id", "collection", "token_id"])
    op.create_index("ix_catalog_sales_buyer", "catalog_sales", ["buyer"])
    op.create_table(
        "catalog_sync",
        sa.Column("chain_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_market_orders_token_book", "market_orders",
                    ["chain_id", "token", "token_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_market_orders_token_book", table_name="market_orders")
    op.drop_table("catalog_sync")
    op.drop_index("ix_catalog_sales_event", table_name="catalog_sales")
    op.drop_index("ix_catalog_sales_buyer", table_name="catalog_sales")
    op.drop_index("ix_catalog_sales_token", table_name="catalog_sales")
    op.drop_table("catalog_sales")
    op.drop_index("ix_catalog_works_event", table_name="catalog_works")
    op.drop_index("ix_catalog_works_cid", table_name="catalog_works")
    op.drop_index("ix_catalog_works_creator", table_name="catalog_works")
    op.drop_index("ix_catalog_works_newest", table_name="catalog_works")
    op.drop_table("catalog_works")
    op.drop_index("ix_asset_tags_tag", table_name="asset_tags")
    op.drop_table("asset_tags")
    op.drop_column("assets", "description")
    op.drop_column("assets", "title")
