"""kyc: applications (personal data encrypted) and their audit trail

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kyc_applications",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("address", sa.String(42), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("level", sa.Integer, nullable=True),
        sa.Column("pii", sa.LargeBinary, nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=True),
        sa.Column("document_type", sa.String(64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer", sa.String(255), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("credential", sa.Text, nullable=True),
        sa.Column("sanctions_hits", sa.Text, nullable=True),
        sa.Column("sync_status", sa.String(24), nullable=False),
        sa.Column("sync_detail", sa.Text, nullable=True),
        sa.Column("chain_writes", sa.Text, nullable=True),
    )
    op.create_index("ix_kyc_applications_subject", "kyc_applications", ["subject"])
    op.create_index("ix_kyc_applications_state", "kyc_applications", ["state"])
    op.create_table(
        "kyc_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("application_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("ix_kyc_events_application_id", "kyc_events", ["application_id"])


def downgrade() -> None:
    op.drop_index("ix_kyc_events_application_id", "kyc_events")
    op.drop_table("kyc_events")
    op.drop_index("ix_kyc_applications_state", "kyc_applications")
    op.drop_index("ix_kyc_applications_subject", "kyc_applications")
    op.drop_table("kyc_applications")
