"""Migration ``0015_templates`` renames stored templates to proof.holdings' message types (the
email subject and body rows become one email ``verification_request``), and its downgrade puts
them back under vouch's old names."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from tests.conftest import base_settings
from vouch_server.db import alembic_config

PROJECT = "a" * 24
OTHER = "b" * 24
NOW = "2026-01-01 00:00:00.000000"

BEFORE = [
    # project, channel, message_type, body
    (PROJECT, "telegram", "instruction", "Send {{ code }} now"),
    (PROJECT, "sms", "verified", "Done, {{ business_name }}"),
    (PROJECT, "whatsapp", "expired", "Too late"),
    (PROJECT, "telegram", "welcome", "Hello"),
    (PROJECT, "telegram", "deep_link_text", "{{ code }}"),
    (PROJECT, "email", "instruction", "Check your inbox"),
    (PROJECT, "email", "email_subject", "Code {{ code }}"),
    (PROJECT, "email", "email_body", "Your code is {{ code }}"),
    (OTHER, "email", "email_subject", "Only a subject {{ code }}"),
]


def _rows(engine: sa.Engine) -> set[tuple[str, str, str, str, str | None]]:
    with engine.connect() as connection:
        result = connection.execute(
            sa.text(
                "SELECT project_id, channel, message_type, body, subject FROM message_templates"
            )
        )
        return {tuple(row) for row in result}  # type: ignore[misc]


def _rows_without_subject(engine: sa.Engine) -> set[tuple[str, str, str, str]]:
    with engine.connect() as connection:
        result = connection.execute(
            sa.text("SELECT project_id, channel, message_type, body FROM message_templates")
        )
        return {tuple(row) for row in result}  # type: ignore[misc]


def test_upgrade_renames_and_downgrade_restores(tmp_path: Path) -> None:
    config = alembic_config(base_settings(tmp_path))
    command.upgrade(config, "0014_authorization_fields")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'vouch.db'}")
    try:
        with engine.begin() as connection:
            for project in (PROJECT, OTHER):
                connection.execute(
                    sa.text("INSERT INTO projects (id, name, created_at) VALUES (:id, :id, :now)"),
                    {"id": project, "now": NOW},
                )
            for index, (project, channel, message_type, body) in enumerate(BEFORE):
                connection.execute(
                    sa.text(
                        "INSERT INTO message_templates (id, project_id, channel, message_type,"
                        " body, updated_at) VALUES (:id, :p, :c, :t, :b, :now)"
                    ),
                    {
                        "id": f"{index:024d}",
                        "p": project,
                        "c": channel,
                        "t": message_type,
                        "b": body,
                        "now": NOW,
                    },
                )
        command.upgrade(config, "0015_templates")
        default_body = (
            "Your verification code for {{ business_name }} is {{ code }}.\n"
            "It expires in {{ expires_in }}. If you did not ask for it, ignore this message."
        )
        assert _rows(engine) == {
            (PROJECT, "telegram", "verification_request", "Send {{ code }} now", None),
            (PROJECT, "sms", "verification_success", "Done, {{ business_name }}", None),
            (PROJECT, "whatsapp", "verification_expired", "Too late", None),
            (PROJECT, "telegram", "welcome", "Hello", None),
            (
                PROJECT,
                "email",
                "verification_request",
                "Your code is {{ code }}",
                "Code {{ code }}",
            ),
            (OTHER, "email", "verification_request", default_body, "Only a subject {{ code }}"),
        }
        with engine.connect() as connection:
            flags = connection.execute(
                sa.text("SELECT DISTINCT is_active, version FROM message_templates")
            ).all()
        assert {(bool(active), version) for active, version in flags} == {(True, 1)}

        command.downgrade(config, "0014_authorization_fields")
        assert _rows_without_subject(engine) == {
            (PROJECT, "telegram", "instruction", "Send {{ code }} now"),
            (PROJECT, "sms", "verified", "Done, {{ business_name }}"),
            (PROJECT, "whatsapp", "expired", "Too late"),
            (PROJECT, "telegram", "welcome", "Hello"),
            (PROJECT, "email", "email_subject", "Code {{ code }}"),
            (PROJECT, "email", "email_body", "Your code is {{ code }}"),
            (OTHER, "email", "email_subject", "Only a subject {{ code }}"),
            (OTHER, "email", "email_body", default_body),
        }
        columns = {c["name"] for c in sa.inspect(engine).get_columns("message_templates")}
        assert "subject" not in columns and "is_active" not in columns
    finally:
        engine.dispose()
