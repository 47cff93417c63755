"""sessions and groups: multi-channel verification groups (``vg_…``) with their member
verifications, and phone-first sessions (``sess_…``)

Revision ID: 0013_sessions_and_groups
Revises: 0012_record_jwt_uses
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vouch_server.models.base

revision: str = "0013_sessions_and_groups"
down_revision: str | Sequence[str] | None = "0012_record_jwt_uses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, vouch_server.models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "verification_groups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("environment", sa.String(length=4), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("identifier", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("winning_verification_id", sa.String(length=24), nullable=True),
        sa.Column("winning_channel", sa.String(length=30), nullable=True),
        sa.Column("external_user_id", sa.String(length=255), nullable=True),
        sa.Column("client_metadata", sa.JSON(), nullable=True),
        _instant("expires_at", False),
        _instant("verified_at", True),
        _instant("created_at", False),
        _instant("updated_at", False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_verification_groups_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["winning_verification_id"],
            ["verifications.id"],
            name=op.f("fk_verification_groups_winning_verification_id_verifications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_groups")),
    )
    with op.batch_alter_table("verification_groups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_verification_groups_scope_created",
            ["project_id", "environment", "created_at"],
            unique=False,
        )

    op.create_table(
        "verification_group_members",
        sa.Column("verification_id", sa.String(length=24), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["verification_groups.id"],
            name=op.f("fk_verification_group_members_group_id_verification_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["verifications.id"],
            name=op.f("fk_verification_group_members_verification_id_verifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("verification_id", name=op.f("pk_verification_group_members")),
    )
    with op.batch_alter_table("verification_group_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_verification_group_members_group", ["group_id", "position"], unique=False
        )

    op.create_table(
        "phone_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("environment", sa.String(length=4), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("telegram_bot", sa.String(length=32), nullable=True),
        sa.Column("telegram_user_id", sa.String(length=32), nullable=True),
        sa.Column("phone_number", sa.String(length=32), nullable=True),
        sa.Column("verification_id", sa.String(length=24), nullable=True),
        sa.Column("client_metadata", sa.JSON(), nullable=True),
        sa.Column("context", sa.JSON(), nullable=True),
        _instant("expires_at", False),
        _instant("verified_at", True),
        _instant("created_at", False),
        _instant("updated_at", False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_phone_sessions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["verifications.id"],
            name=op.f("fk_phone_sessions_verification_id_verifications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_sessions")),
    )
    with op.batch_alter_table("phone_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_phone_sessions_code", ["code_digest"], unique=False)
        batch_op.create_index(
            "ix_phone_sessions_telegram_user", ["telegram_bot", "telegram_user_id"], unique=False
        )
        batch_op.create_index(
            "ix_phone_sessions_scope_created",
            ["project_id", "environment", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("phone_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_phone_sessions_scope_created")
        batch_op.drop_index("ix_phone_sessions_telegram_user")
        batch_op.drop_index("ix_phone_sessions_code")
    op.drop_table("phone_sessions")
    with op.batch_alter_table("verification_group_members", schema=None) as batch_op:
        batch_op.drop_index("ix_verification_group_members_group")
    op.drop_table("verification_group_members")
    with op.batch_alter_table("verification_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_verification_groups_scope_created")
    op.drop_table("verification_groups")
