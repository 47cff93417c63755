"""record jwt uses: Minka SDK bearer JWTs already spent, kept until they expire
(``vouch_server.records.auth``)

Revision ID: 0012_record_jwt_uses
Revises: 0011_verification_requests
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vouch_server.models.base

revision: str = "0012_record_jwt_uses"
down_revision: str | Sequence[str] | None = "0011_verification_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_jwt_uses",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column(
            "expires_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_record_jwt_uses")),
    )
    with op.batch_alter_table("record_jwt_uses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_record_jwt_uses_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("record_jwt_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_jwt_uses_expires_at"))
    op.drop_table("record_jwt_uses")
