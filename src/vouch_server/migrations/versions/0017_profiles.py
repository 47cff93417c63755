"""profiles and public pages: a project's public profiles (display name, bio, avatar, theme,
links, username, the verified assets it shows with their mask level, one primary per project and
environment) — ``vouch_server.profiles``

Revision ID: 0017_profiles
Revises: 0016_hitl_lifecycle
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vouch_server.models.base

revision: str = "0017_profiles"
down_revision: str | Sequence[str] | None = "0016_hitl_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str) -> sa.Column[object]:
    return sa.Column(name, vouch_server.models.base.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("profile_id", sa.String(length=16), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("environment", sa.String(length=4), nullable=False),
        sa.Column("username", sa.String(length=30), nullable=True),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("bio", sa.String(length=500), nullable=True),
        sa.Column("avatar_url", sa.String(length=2048), nullable=True),
        sa.Column("business_name", sa.String(length=200), nullable=True),
        sa.Column("is_business", sa.Boolean(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("primary_marker", sa.String(length=1), nullable=True),
        sa.Column("show_verification_dates", sa.Boolean(), nullable=False),
        sa.Column("show_proof_channels", sa.Boolean(), nullable=False),
        sa.Column("show_delegations", sa.Boolean(), nullable=False),
        sa.Column("theme", sa.JSON(), nullable=False),
        sa.Column("custom_links", sa.JSON(), nullable=False),
        sa.Column("proofs", sa.JSON(), nullable=False),
        sa.Column("email_theme", sa.String(length=5), nullable=True),
        sa.Column("support_email", sa.String(length=320), nullable=True),
        _instant("created_at"),
        _instant("updated_at"),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_profiles_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profiles")),
        sa.UniqueConstraint("profile_id", name=op.f("uq_profiles_profile_id")),
        sa.UniqueConstraint("username", name=op.f("uq_profiles_username")),
    )
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_profiles_scope_created", ["project_id", "environment", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_profiles_primary", ["project_id", "environment", "primary_marker"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_index("ix_profiles_primary")
        batch_op.drop_index("ix_profiles_scope_created")
    op.drop_table("profiles")
