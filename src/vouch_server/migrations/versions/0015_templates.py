"""message templates in proof.holdings' vocabulary: email subject and button, ``is_active`` and a
version per template; stored rows renamed to the public message types

* ``instruction`` (Telegram/WhatsApp/SMS) → ``verification_request``
* ``verified`` → ``verification_success``, ``expired`` → ``verification_expired``
* email ``email_body`` + ``email_subject`` → one email ``verification_request`` with a subject
* email ``instruction`` and ``deep_link_text`` rows are dropped: nothing renders them any more

Revision ID: 0015_templates
Revises: 0014_authorization_fields
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_templates"
down_revision: str | Sequence[str] | None = "0014_authorization_fields"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The default email body at this revision, for a project that had changed only the subject.
_EMAIL_BODY = (
    "Your verification code for {{ business_name }} is {{ code }}.\n"
    "It expires in {{ expires_in }}. If you did not ask for it, ignore this message."
)
_RENAMES = (("verified", "verification_success"), ("expired", "verification_expired"))
_NEW_TYPES = (
    "login_request",
    "login_success",
    "2fa_request",
    "2fa_success",
    "confirmation_request",
    "confirmation_approved",
    "confirmation_denied",
)


def _rename(old: str, new: str) -> None:
    op.get_bind().execute(
        sa.text("UPDATE message_templates SET message_type = :new WHERE message_type = :old"),
        {"old": old, "new": new},
    )


def upgrade() -> None:
    with op.batch_alter_table("message_templates") as batch:
        batch.add_column(sa.Column("subject", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("button_text", sa.String(length=50), nullable=True))
        batch.add_column(sa.Column("button_url_template", sa.String(length=500), nullable=True))
        batch.add_column(
            sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    run = op.execute
    run(
        "DELETE FROM message_templates WHERE message_type = 'deep_link_text' "
        "OR (channel = 'email' AND message_type = 'instruction')"
    )
    run(
        "UPDATE message_templates SET message_type = 'verification_request' "
        "WHERE message_type = 'instruction'"
    )
    for old, new in _RENAMES:
        _rename(old, new)
    # The mail's body row becomes the template, taking the same project's subject row along.
    run(
        "UPDATE message_templates SET message_type = 'verification_request', subject = ("
        " SELECT substr(s.body, 1, 200) FROM message_templates s"
        " WHERE s.project_id = message_templates.project_id AND s.channel = 'email'"
        " AND s.message_type = 'email_subject')"
        " WHERE channel = 'email' AND message_type = 'email_body'"
    )
    # A subject without a body of its own keeps the default body.
    op.get_bind().execute(
        sa.text(
            "UPDATE message_templates SET message_type = 'verification_request',"
            " subject = substr(body, 1, 200), body = :body"
            " WHERE channel = 'email' AND message_type = 'email_subject' AND NOT EXISTS ("
            " SELECT 1 FROM message_templates b WHERE b.project_id = message_templates.project_id"
            " AND b.channel = 'email' AND b.message_type = 'verification_request')"
        ),
        {"body": _EMAIL_BODY},
    )
    run("DELETE FROM message_templates WHERE channel = 'email' AND message_type = 'email_subject'")


def downgrade() -> None:
    run = op.execute
    for name in _NEW_TYPES:
        op.get_bind().execute(
            sa.text("DELETE FROM message_templates WHERE message_type = :name"), {"name": name}
        )
    # The email template splits back into a subject row and a body row.
    bind = op.get_bind()
    subjects = bind.execute(
        sa.text(
            "SELECT project_id, subject, updated_at FROM message_templates"
            " WHERE channel = 'email' AND message_type = 'verification_request'"
            " AND subject IS NOT NULL"
        )
    ).all()
    for project_id, subject, updated_at in subjects:
        bind.execute(
            sa.text(
                "INSERT INTO message_templates"
                " (id, project_id, channel, message_type, body, updated_at, is_active, version)"
                " VALUES (:id, :project_id, 'email', 'email_subject', :body, :updated_at,"
                " :is_active, 1)"
            ),
            {
                "id": secrets.token_hex(12),
                "project_id": project_id,
                "body": subject,
                "updated_at": updated_at,
                "is_active": True,
            },
        )
    run(
        "UPDATE message_templates SET message_type = 'email_body'"
        " WHERE channel = 'email' AND message_type = 'verification_request'"
    )
    run(
        "UPDATE message_templates SET message_type = 'instruction'"
        " WHERE message_type = 'verification_request'"
    )
    for old, new in _RENAMES:
        _rename(new, old)
    with op.batch_alter_table("message_templates") as batch:
        batch.drop_column("version")
        batch.drop_column("is_active")
        batch.drop_column("button_url_template")
        batch.drop_column("button_text")
        batch.drop_column("subject")
