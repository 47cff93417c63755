"""Schema management: Alembic, configured in code so it works from an installed package."""

from __future__ import annotations

import logging
from pathlib import Path

# Alembic (1.18+) logs "setup plugin …" at INFO for each of its built-in autogenerate plugins
# as they are imported, which `vouch serve` (logging already configured) printed seven times on
# every start. Only that logger is quietened, before alembic is imported: "Running upgrade …"
# comes from alembic.runtime.migration and stays. The logging set-up (dictConfig with
# disable_existing_loggers=False, no "alembic" entry) leaves this level alone.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from vouch_server.config import Settings  # noqa: E402

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["vouch_settings"] = settings
    return config


def upgrade(settings: Settings, revision: str = "heads") -> None:
    """Bring the database to ``revision``; safe to run on every start."""
    command.upgrade(alembic_config(settings), revision)


def revision(settings: Settings, message: str) -> None:
    command.revision(alembic_config(settings), message=message, autogenerate=True)


async def upgrade_async(settings: Settings, revision: str = "heads") -> None:
    """``upgrade`` from inside an event loop (Alembic runs its own loop, so in a thread)."""
    import asyncio

    await asyncio.to_thread(upgrade, settings, revision)
