"""Migration ``0002_agents`` mirrors ``vouch_server.models.agents`` exactly, on SQLite and PostgreSQL, and
its downgrade removes what its upgrade made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from tests.conftest import base_settings
from vouch_server.db import alembic_config
from vouch_server.models import Base
from vouch_server.runtime import Runtime

TABLES = {"agents", "agent_keys", "agent_challenges"}


def _diff(connection: Connection) -> list[Any]:
    metadata = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for name in sorted(TABLES | {"projects"}):
        Base.metadata.tables[name].to_metadata(metadata)
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    inspector = sa.inspect(connection)
    assert TABLES <= set(inspector.get_table_names())
    diffs = compare_metadata(context, metadata)
    # Only this family's tables: the others are compared by their own migrations' tests.
    return [d for d in diffs if _table_of(d) in TABLES]


def _table_of(diff: Any) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None:
            return str(table.name)
        if isinstance(part, str) and part in TABLES:
            return part
        if name in TABLES:
            return str(name)
    return None


class TestSchema:
    async def test_migrated_schema_matches_the_models(self, runtime: Runtime) -> None:
        async with runtime.db.engine.connect() as connection:
            diffs = await connection.run_sync(_diff)
        assert diffs == []


class TestDowngrade:
    def test_upgrade_then_downgrade_on_its_own_branch(self, tmp_path: Path) -> None:
        settings = base_settings(tmp_path)
        config = alembic_config(settings)
        command.upgrade(config, "0002_agents")
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'vouch.db'}")
        try:
            assert TABLES <= set(sa.inspect(engine).get_table_names())
            command.downgrade(config, "0001")
            remaining = set(sa.inspect(engine).get_table_names())
        finally:
            engine.dispose()
        assert not TABLES & remaining
        assert "projects" in remaining
