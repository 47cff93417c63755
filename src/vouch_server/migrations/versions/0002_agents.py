"""agent proofs: agents, their Ed25519 keys, challenges

Revision ID: 0002_agents
Revises: 0001
Create Date: 2026-11-22 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vouch_server.models.base

revision: str = "0002_agents"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("environment", sa.String(length=4), nullable=False),
        sa.Column("agent_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("deleted_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_agents_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint(
            "project_id", "environment", "agent_id", name="uq_agents_scope_agent_id"
        ),
    )
    op.create_table(
        "agent_keys",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("agent_pk", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("environment", sa.String(length=4), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("revoked_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_pk"],
            ["agents.id"],
            name=op.f("fk_agent_keys_agent_pk_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_agent_keys_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_keys")),
        sa.UniqueConstraint("project_id", "environment", "kid", name="uq_agent_keys_scope_kid"),
    )
    with op.batch_alter_table("agent_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_keys_agent_pk"), ["agent_pk"], unique=False)

    op.create_table(
        "agent_challenges",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("environment", sa.String(length=4), nullable=False),
        sa.Column("agent_pk", sa.String(length=24), nullable=False),
        sa.Column("agent_id", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=128), nullable=False),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("context_sha256", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=True),
        sa.Column("key_kid", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "verified_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "updated_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("proof_id", sa.String(length=24), nullable=True),
        sa.Column(
            "proof_revoked_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["agent_pk"],
            ["agents.id"],
            name=op.f("fk_agent_challenges_agent_pk_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_agent_challenges_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_challenges")),
        sa.UniqueConstraint("nonce", name=op.f("uq_agent_challenges_nonce")),
        sa.UniqueConstraint("proof_id", name=op.f("uq_agent_challenges_proof_id")),
    )
    with op.batch_alter_table("agent_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_challenges_agent_pk"), ["agent_pk"], unique=False
        )
        batch_op.create_index(
            "ix_agent_challenges_scope_created",
            ["project_id", "environment", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_challenges", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_challenges_scope_created")
        batch_op.drop_index(batch_op.f("ix_agent_challenges_agent_pk"))

    op.drop_table("agent_challenges")
    with op.batch_alter_table("agent_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_keys_agent_pk"))

    op.drop_table("agent_keys")
    op.drop_table("agents")
