"""location proofs: the EAS attester key

Revision ID: 0004_location
Revises: 0001
Create Date: 2026-11-21 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vouch_server.models.base

revision: str = "0004_location"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "location_attesters",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("private_key_sealed", sa.Text(), nullable=False),
        sa.Column(
            "created_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location_attesters")),
    )


def downgrade() -> None:
    op.drop_table("location_attesters")
