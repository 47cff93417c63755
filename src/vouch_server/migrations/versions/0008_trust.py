"""trust: test/live signing keys with purposes and windows, Token Status List slots; joins the
family branches into one head

Revision ID: 0008_trust
Revises: 0002_agents, 0003_records, 0004_location, 0005_webhooks, 0006_channels, 0007_delegation
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vouch_server.models.base

revision: str = "0008_trust"
down_revision: str | Sequence[str] | None = (
    "0002_agents",
    "0003_records",
    "0004_location",
    "0005_webhooks",
    "0006_channels",
    "0007_delegation",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(
            sa.Column("environment", sa.String(length=4), server_default="live", nullable=False)
        )
        batch.add_column(
            sa.Column("purpose", sa.String(length=16), server_default="proof", nullable=False)
        )
        batch.add_column(
            sa.Column(
                "not_after", vouch_server.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("proofs") as batch:
        batch.add_column(sa.Column("status_idx", sa.BigInteger(), nullable=True))
        batch.create_index("ix_proofs_status_idx", ["environment", "status_idx"], unique=True)
    op.create_table(
        "status_list_counters",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("next_idx", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_status_list_counters")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Drawn outside transactions: concurrent issuers never wait on each other, and a rolled
        # back transaction leaves a gap rather than a reused index.
        op.execute("CREATE SEQUENCE IF NOT EXISTS proof_status_idx START 0 MINVALUE 0")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS proof_status_idx")
    op.drop_table("status_list_counters")
    with op.batch_alter_table("proofs") as batch:
        batch.drop_index("ix_proofs_status_idx")
        batch.drop_column("status_idx")
    with op.batch_alter_table("signing_keys") as batch:
        batch.drop_column("not_after")
        batch.drop_column("purpose")
        batch.drop_column("environment")
