"""api key epoch: a one-row value changed by every API-key revocation, which invalidates the
authenticated-key caches of every process (``vouch_server.tenancy.service``)

Revision ID: 0010_api_key_epoch
Revises: 0009_agent_directory
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_api_key_epoch"
down_revision: str | Sequence[str] | None = "0009_agent_directory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_key_epoch",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key_epoch")),
    )


def downgrade() -> None:
    op.drop_table("api_key_epoch")
