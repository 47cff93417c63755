"""HITL lifecycle: when a config became active, whether a confirmation's message is a ciphertext
envelope, the configs' end-to-end encryption keypairs and approver keys, and Telegram chat-id
discoveries (``vouch_server.approval``). Existing configs stay ``active``.

Revision ID: 0016_hitl_lifecycle
Revises: 0015_templates
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vouch_server.models.base

revision: str = "0016_hitl_lifecycle"
down_revision: str | Sequence[str] | None = "0015_templates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = vouch_server.models.base.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("hitl_configs") as batch:
        batch.add_column(sa.Column("activated_at", _UTC(timezone=True), nullable=True))
    with op.batch_alter_table("confirmations") as batch:
        batch.add_column(
            sa.Column("encrypted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "hitl_keypairs",
        sa.Column("hitl_id", sa.String(length=24), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("encrypted_private_key", sa.Text(), nullable=False),
        sa.Column("kdf_salt", sa.String(length=200), nullable=False),
        sa.Column("wrapped_dek", sa.Text(), nullable=True),
        sa.Column("dek_iv", sa.String(length=200), nullable=True),
        sa.Column("dek_tag", sa.String(length=200), nullable=True),
        sa.Column("backup_wrapped_dek", sa.Text(), nullable=True),
        sa.Column("backup_dek_iv", sa.String(length=200), nullable=True),
        sa.Column("backup_dek_tag", sa.String(length=200), nullable=True),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("updated_at", _UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["hitl_id"], ["hitl_configs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hitl_id"),
    )
    op.create_table(
        "hitl_approver_keys",
        sa.Column("hitl_id", sa.String(length=24), nullable=False),
        sa.Column("authorization_id", sa.String(length=24), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["authorization_id"], ["authorizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["hitl_id"], ["hitl_configs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hitl_id", "authorization_id"),
    )
    op.create_table(
        "chat_id_discoveries",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("environment", sa.String(length=4), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("bot", sa.String(length=64), nullable=True),
        sa.Column("chat_id", sa.String(length=32), nullable=True),
        sa.Column("expires_at", _UTC(timezone=True), nullable=False),
        sa.Column("completed_at", _UTC(timezone=True), nullable=True),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_chat_id_discoveries_expiry", "chat_id_discoveries", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_chat_id_discoveries_expiry", table_name="chat_id_discoveries")
    op.drop_table("chat_id_discoveries")
    op.drop_table("hitl_approver_keys")
    op.drop_table("hitl_keypairs")
    with op.batch_alter_table("confirmations") as batch:
        batch.drop_column("encrypted")
    with op.batch_alter_table("hitl_configs") as batch:
        batch.drop_column("activated_at")
