"""verification requests: multi-asset requests and their asset slots

Revision ID: 0011_verification_requests
Revises: 0010_api_key_epoch
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vouch_server.models.base

revision: str = "0011_verification_requests"
down_revision: str | Sequence[str] | None = "0010_api_key_epoch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, vouch_server.models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "verification_requests",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("environment", sa.String(length=4), nullable=False),
        sa.Column("reference_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("action_type", sa.String(length=20), nullable=False),
        sa.Column("action_context", sa.JSON(), nullable=True),
        sa.Column("client_metadata", sa.JSON(), nullable=True),
        sa.Column("partial_ok", sa.Boolean(), nullable=False),
        sa.Column("validity_requirement", sa.String(length=16), nullable=True),
        sa.Column("redirect_url", sa.String(length=2048), nullable=True),
        sa.Column("callback_url", sa.String(length=2048), nullable=True),
        sa.Column("public_profile_id", sa.String(length=64), nullable=True),
        sa.Column("proof_expiry_days", sa.Integer(), nullable=True),
        _instant("expires_at", False),
        _instant("completed_at", True),
        _instant("cancelled_at", True),
        _instant("created_at", False),
        _instant("updated_at", False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_verification_requests_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_requests")),
    )
    with op.batch_alter_table("verification_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_verification_requests_scope_created",
            ["project_id", "environment", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_verification_requests_reference",
            ["project_id", "environment", "reference_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_verification_requests_status_expiry", ["status", "expires_at"], unique=False
        )

    op.create_table(
        "verification_request_assets",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("request_id", sa.String(length=24), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("identifier", sa.String(length=500), nullable=True),
        sa.Column("channel", sa.String(length=30), nullable=True),
        sa.Column("allowed_channels", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("verification_id", sa.String(length=24), nullable=True),
        sa.Column("verified_identifier", sa.String(length=500), nullable=True),
        sa.Column("verified_channel", sa.String(length=30), nullable=True),
        _instant("verified_at", True),
        _instant("updated_at", False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["verification_requests.id"],
            name=op.f("fk_verification_request_assets_request_id_verification_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["verifications.id"],
            name=op.f("fk_verification_request_assets_verification_id_verifications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_request_assets")),
        sa.UniqueConstraint(
            "request_id", "position", name=op.f("uq_verification_request_assets_request_id")
        ),
    )
    with op.batch_alter_table("verification_request_assets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_verification_request_assets_verification", ["verification_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("verification_request_assets", schema=None) as batch_op:
        batch_op.drop_index("ix_verification_request_assets_verification")
    op.drop_table("verification_request_assets")
    with op.batch_alter_table("verification_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_verification_requests_status_expiry")
        batch_op.drop_index("ix_verification_requests_reference")
        batch_op.drop_index("ix_verification_requests_scope_created")
    op.drop_table("verification_requests")
