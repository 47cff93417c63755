"""authorization fields: free-text revocation reasons (up to 500 characters), the HITL config a
consent was asked for, and how many approval requests it has carried (``vouch_server.consent``)

Revision ID: 0014_authorization_fields
Revises: 0013_sessions_and_groups
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vouch_server.models.base

revision: str = "0014_authorization_fields"
down_revision: str | Sequence[str] | None = "0013_sessions_and_groups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite changes a column's type by rebuilding the table.
    with op.batch_alter_table("authorizations") as batch:
        batch.alter_column(
            "revoked_reason",
            existing_type=sa.String(length=32),
            type_=sa.String(length=500),
            existing_nullable=True,
        )
        batch.add_column(sa.Column("hitl_id", sa.String(length=24), nullable=True))
        batch.add_column(
            sa.Column("confirmations_sent", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column(
                "last_used_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("authorizations") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("confirmations_sent")
        batch.drop_column("hitl_id")
        batch.alter_column(
            "revoked_reason",
            existing_type=sa.String(length=500),
            type_=sa.String(length=32),
            existing_nullable=True,
        )
