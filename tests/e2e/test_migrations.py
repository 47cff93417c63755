"""The Alembic migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from vouch_server.models import Base


class TestMigrations:
    async def test_models_and_migrations_agree(self, settings: Any) -> None:
        engine = create_async_engine(settings.effective_database_url)

        def diff(connection: Any) -> list[Any]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))

        try:
            async with engine.connect() as connection:
                differences = await connection.run_sync(diff)
        finally:
            await engine.dispose()
        assert differences == []
