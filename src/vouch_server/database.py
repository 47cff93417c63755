"""Engine and sessions.

SQLite (the default, in the data directory) and PostgreSQL share one code path. Services ``flush()``;
the request or task boundary commits (``session_scope``), so a failed request leaves nothing behind.

SQLite runs in WAL mode with a busy timeout, so concurrent writers queue instead of failing, and
foreign keys on. One-time transitions (a code completing a verification, a revocation) are
conditional ``UPDATE … WHERE status = …`` statements, which are atomic on both engines.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from vouch_server.config import Settings
from vouch_server.errors import VouchError

log = logging.getLogger("vouch.database")


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        if url.database:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        return engine
    engine = create_async_engine(url, pool_size=10, max_overflow=20)
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """The pool's liveness check at checkout, without a round trip: a pooled connection the
    server has closed (a restart, an idle timeout, ``pg_terminate_backend``) is dropped and
    another is taken (SQLAlchemy's ``checkout`` event: raising ``DisconnectionError`` makes the
    pool retry). ``pool_pre_ping`` asked the server instead, at three round trips (BEGIN, a
    ping, ROLLBACK) on every checkout. A connection cut without the server's FIN is not seen
    here; its first statement fails, and SQLAlchemy then invalidates the pool."""
    driver = getattr(record, "driver_connection", None)
    is_closed = getattr(driver, "is_closed", None)
    if is_closed is not None and is_closed():
        raise DisconnectionError("connection closed by the server")


def rowcount(result: Any) -> int:
    """Rows a conditional ``UPDATE``/``DELETE`` touched (the CursorResult attribute is not on the
    generic ``Result`` type the async session returns)."""
    return int(result.rowcount)


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run ``callback`` after this session's unit of work commits (never on rollback)."""
    session.info.setdefault("after_commit", []).append(callback)


async def _run_after_commit(session: AsyncSession) -> None:
    callbacks: list[AfterCommit] = session.info.pop("after_commit", [])
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            log.exception("after-commit callback failed")


class Database:
    def __init__(self, settings: Settings) -> None:
        self.engine = create_engine(settings)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block succeeds, rolls back when it raises.

        Callbacks registered with ``after_commit`` run once the commit has succeeded (and are
        dropped on rollback), so nothing outside the database hears of uncommitted changes.
        """
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except VouchError as exc:
                if exc.keeps_changes:
                    await session.commit()
                    await _run_after_commit(session)
                else:
                    await session.rollback()
                raise
            except BaseException:
                await session.rollback()
                raise
            await _run_after_commit(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
