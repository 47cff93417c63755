"""signed records: records, versions, proofs, labels, status transitions, the system signer

Revision ID: 0003_records
Revises: 0001
Create Date: 2026-11-22 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vouch_server.models.base

revision: str = "0003_records"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("project_id", sa.String(length=24), nullable=False),
        sa.Column("environment", sa.String(length=4), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("luid", sa.String(length=32), nullable=False),
        sa.Column("handle", sa.String(length=255), nullable=True),
        sa.Column("public", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("owners", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("proof_count", sa.Integer(), nullable=False),
        sa.Column("status_seq", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_records_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.UniqueConstraint("luid", name=op.f("uq_records_luid")),
        sa.UniqueConstraint(
            "project_id", "environment", "resource", "handle", name="uq_records_scope_handle"
        ),
        sa.UniqueConstraint("project_id", "environment", "public", name="uq_records_scope_public"),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_records_scope_created",
            ["project_id", "environment", "resource", "created_at"],
            unique=False,
        )

    op.create_table(
        "record_versions",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("record_id", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_record_versions_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_versions")),
        sa.UniqueConstraint("record_id", "version", name="uq_record_versions_record_version"),
    )

    op.create_table(
        "record_proofs",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("record_id", sa.String(length=24), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("public", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=128), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_record_proofs_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_proofs")),
        sa.UniqueConstraint("record_id", "seq", name="uq_record_proofs_record_seq"),
    )
    with op.batch_alter_table("record_proofs", schema=None) as batch_op:
        batch_op.create_index("ix_record_proofs_record_hash", ["record_id", "hash"], unique=False)

    op.create_table(
        "record_labels",
        sa.Column("record_id", sa.String(length=24), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_record_labels_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", "label", name=op.f("pk_record_labels")),
    )
    with op.batch_alter_table("record_labels", schema=None) as batch_op:
        batch_op.create_index("ix_record_labels_label", ["label"], unique=False)

    op.create_table(
        "record_transitions",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("record_id", sa.String(length=24), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("from_status", sa.String(length=64), nullable=False),
        sa.Column("to_status", sa.String(length=64), nullable=False),
        sa.Column("signers", sa.JSON(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "expires_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("revoked_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_record_transitions_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_transitions")),
    )
    with op.batch_alter_table("record_transitions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_transitions_record", ["record_id", "issued_at"], unique=False
        )

    op.create_table(
        "record_signer_keys",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("public", sa.String(length=64), nullable=False),
        sa.Column("private_sealed", sa.Text(), nullable=False),
        sa.Column(
            "created_at", vouch_server.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_record_signer_keys")),
    )


def downgrade() -> None:
    op.drop_table("record_signer_keys")
    with op.batch_alter_table("record_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_record_transitions_record")
    op.drop_table("record_transitions")
    with op.batch_alter_table("record_labels", schema=None) as batch_op:
        batch_op.drop_index("ix_record_labels_label")
    op.drop_table("record_labels")
    with op.batch_alter_table("record_proofs", schema=None) as batch_op:
        batch_op.drop_index("ix_record_proofs_record_hash")
    op.drop_table("record_proofs")
    op.drop_table("record_versions")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_scope_created")
    op.drop_table("records")
