"""Schema management: Alembic, configured in code so it works from an installed package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from vouch_server.config import Settings

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
