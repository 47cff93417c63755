"""agent directory: each agent key's deposited signature of the Web Bot Auth key directory
(draft-meunier-http-message-signatures-directory), served with
/.well-known/http-message-signatures-directory

Revision ID: 0009_agent_directory
Revises: 0008_trust
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vouch_server.models.base

revision: str = "0009_agent_directory"
down_revision: str | Sequence[str] | None = "0008_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_keys") as batch:
        batch.add_column(sa.Column("directory_signature_params", sa.String(length=512)))
        batch.add_column(sa.Column("directory_signature", sa.String(length=128)))
        batch.add_column(
            sa.Column(
                "directory_signature_expires_at",
                vouch_server.models.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_keys") as batch:
        batch.drop_column("directory_signature_expires_at")
        batch.drop_column("directory_signature")
        batch.drop_column("directory_signature_params")
