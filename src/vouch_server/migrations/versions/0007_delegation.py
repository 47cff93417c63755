"""delegation: authorizations, HITL configs, confirmations, confirmation messages, approval links

Revision ID: 0007_delegation
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vouch_server.models.base

revision: str = "0007_delegation"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, vouch_server.models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "authorizations",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("environment", sa.String(length=4), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("recipient_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("business_name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("lifetime_seconds", sa.Integer(), nullable=False),
        sa.Column("start_token_hash", sa.String(length=64), nullable=True),
        sa.Column("callback_key", sa.String(length=24), nullable=False),
        sa.Column("prompt_message_id", sa.String(length=128), nullable=True),
        _instant("expires_at", False),
        _instant("decided_at", True),
        sa.Column("decided_by_hash", sa.String(length=64), nullable=True),
        sa.Column("proof_token", sa.Text(), nullable=True),
        _instant("proof_expires_at", True),
        _instant("revoked_at", True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.Column("revoked_by", sa.String(length=10), nullable=True),
        _instant("created_at", False),
        _instant("updated_at", False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_authorizations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorizations")),
        sa.UniqueConstraint("callback_key", name=op.f("uq_authorizations_callback_key")),
        sa.UniqueConstraint("start_token_hash", name=op.f("uq_authorizations_start_token_hash")),
    )
    with op.batch_alter_table("authorizations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_authorizations_recipient", ["channel", "recipient", "status"], unique=False
        )
        batch_op.create_index(
            "ix_authorizations_scope_created",
            ["project_id", "environment", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_authorizations_status_expiry", ["status", "expires_at"], unique=False
        )

    op.create_table(
        "hitl_configs",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("environment", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        _instant("archived_at", True),
        _instant("created_at", False),
        _instant("updated_at", False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_hitl_configs_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hitl_configs")),
    )
    with op.batch_alter_table("hitl_configs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hitl_configs_scope_created",
            ["project_id", "environment", "created_at"],
            unique=False,
        )

    op.create_table(
        "confirmations",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("environment", sa.String(length=4), nullable=False),
        sa.Column("hitl_id", sa.String(length=24), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("message_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        _instant("expires_at", False),
        sa.Column("proof_lifetime_seconds", sa.Integer(), nullable=False),
        sa.Column("callback_key", sa.String(length=24), nullable=False),
        sa.Column("channel_report", sa.JSON(), nullable=False),
        sa.Column("response_action", sa.String(length=10), nullable=True),
        sa.Column("response_text", sa.Text(), nullable=True),
        sa.Column("response_channel", sa.String(length=20), nullable=True),
        sa.Column("decided_by_hash", sa.String(length=64), nullable=True),
        _instant("decided_at", True),
        sa.Column("proof_token", sa.Text(), nullable=True),
        _instant("proof_expires_at", True),
        _instant("revoked_at", True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        _instant("created_at", False),
        _instant("updated_at", False),
        sa.ForeignKeyConstraint(
            ["hitl_id"], ["hitl_configs.id"], name=op.f("fk_confirmations_hitl_id_hitl_configs")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_confirmations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confirmations")),
        sa.UniqueConstraint("callback_key", name=op.f("uq_confirmations_callback_key")),
    )
    with op.batch_alter_table("confirmations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_confirmations_hitl_id"), ["hitl_id"], unique=False)
        batch_op.create_index(
            "ix_confirmations_scope_created",
            ["project_id", "environment", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_confirmations_status_expiry", ["status", "expires_at"], unique=False
        )

    op.create_table(
        "confirmation_messages",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("confirmation_id", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("provider_message_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        _instant("created_at", False),
        sa.ForeignKeyConstraint(
            ["confirmation_id"],
            ["confirmations.id"],
            name=op.f("fk_confirmation_messages_confirmation_id_confirmations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confirmation_messages")),
    )
    with op.batch_alter_table("confirmation_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_confirmation_messages_confirmation_id"),
            ["confirmation_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_confirmation_messages_provider",
            ["channel", "recipient", "provider_message_id"],
            unique=False,
        )

    op.create_table(
        "approval_links",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.String(length=24), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=True),
        _instant("expires_at", False),
        _instant("used_at", True),
        _instant("created_at", False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_links")),
    )
    with op.batch_alter_table("approval_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_approval_links_subject_id"), ["subject_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("approval_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_links_subject_id"))
    op.drop_table("approval_links")
    with op.batch_alter_table("confirmation_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_confirmation_messages_provider")
        batch_op.drop_index(batch_op.f("ix_confirmation_messages_confirmation_id"))
    op.drop_table("confirmation_messages")
    with op.batch_alter_table("confirmations", schema=None) as batch_op:
        batch_op.drop_index("ix_confirmations_status_expiry")
        batch_op.drop_index("ix_confirmations_scope_created")
        batch_op.drop_index(batch_op.f("ix_confirmations_hitl_id"))
    op.drop_table("confirmations")
    with op.batch_alter_table("hitl_configs", schema=None) as batch_op:
        batch_op.drop_index("ix_hitl_configs_scope_created")
    op.drop_table("hitl_configs")
    with op.batch_alter_table("authorizations", schema=None) as batch_op:
        batch_op.drop_index("ix_authorizations_status_expiry")
        batch_op.drop_index("ix_authorizations_scope_created")
        batch_op.drop_index("ix_authorizations_recipient")
    op.drop_table("authorizations")
