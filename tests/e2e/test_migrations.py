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

    def test_the_history_is_one_line(self) -> None:
        """One head (the six first-wave siblings are joined by 0008's merge), and numbers that
        neither repeat nor skip: two migrations written side by side on branches would otherwise
        leave two heads, or two files claiming the same number."""
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        from vouch_server.db import MIGRATIONS

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        script = ScriptDirectory.from_config(config)
        assert script.get_heads() == [script.get_current_head()]
        revisions = list(script.walk_revisions())
        numbers = sorted(int(r.revision.split("_", 1)[0]) for r in revisions)
        assert numbers == list(range(1, len(numbers) + 1)), numbers
