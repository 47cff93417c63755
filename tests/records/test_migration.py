"""Migration ``0003_records`` creates exactly the tables ``vouch_server.models.records`` declares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from vouch_server.models import Base
from vouch_server.models import records as models

TABLES = {
    models.Record.__tablename__,
    models.RecordVersion.__tablename__,
    models.RecordProof.__tablename__,
    models.RecordLabel.__tablename__,
    models.RecordTransition.__tablename__,
    models.RecordSignerKey.__tablename__,
}


def _table_of(diff: Any) -> str | None:
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item if isinstance(item, tuple) else (item,):
            name = getattr(part, "name", None)
            table = getattr(part, "table", None)
            if table is not None and getattr(table, "name", None):
                return str(table.name)
            if isinstance(part, str) and part in TABLES:
                return part
            if name in TABLES:
                return str(name)
    return None


class TestMigration:
    def test_migrated_schema_matches_the_models(self, sqlite_template: Path) -> None:
        engine = create_engine(f"sqlite:///{sqlite_template}")
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                diffs = compare_metadata(context, Base.metadata)
        finally:
            engine.dispose()
        mine = [d for d in diffs if _table_of(d) in TABLES]
        assert mine == []

    def test_every_records_table_exists_after_upgrade(self, sqlite_template: Path) -> None:
        from sqlalchemy import inspect

        engine = create_engine(f"sqlite:///{sqlite_template}")
        try:
            assert TABLES <= set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
