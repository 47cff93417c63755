"""The revocation epoch: one number that changes whenever something a process may have cached
about a caller or a proof stops being true (an API key or a proof revoked).

Caches (``tenancy.key_cache``, the proof facts ``/proofs/validate`` reads) store each entry with
the epoch read *before* the entry was read from the database, and use it only while the epoch is
unchanged. A revocation changes the epoch after its transaction commits, so any read that starts
after the revocation was acknowledged misses every older entry, in every process.

Where the epoch lives:

- **SQLite** (every process that opens the database runs on the same host): an 8-byte word in a
  small file beside the database (``vouch.db-epoch``), mapped into memory by each process —
  the same shared-memory mechanism SQLite's own WAL index (``-shm``) relies on. Reading it is a
  memory load, so an authenticated request with a warm cache sends no SQL at all.
- **PostgreSQL** (processes may run on several hosts): the ``api_key_epoch`` row, read with one
  ``SELECT`` per request and changed inside the revoking transaction.

Every change writes a fresh random value rather than ``+1``, so two revocations racing in two
processes can never both write the value a reader already cached under. A process that dies
between its commit and the change leaves entries in other processes stale for at most their
time to live (5 s); the change is also made before the commit, which closes the window for
entries cached before the revocation began.
"""

from __future__ import annotations

import asyncio
import mmap
import os
import secrets
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from vouch_server.database import after_commit
from vouch_server.models import ApiKeyEpoch

EPOCH_ROW = 1  # the one row of ``api_key_epoch``
_WORD = 8
_EPOCH_SQL = "SELECT value FROM api_key_epoch WHERE id = $1"  # ApiKeyEpoch, in asyncpg's form


class FileEpoch:
    """An 8-byte epoch in a memory-mapped file shared by the processes of one host."""

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _WORD:
                # Two processes may both get here; either random start is as good.
                os.pwrite(fd, secrets.token_bytes(_WORD), 0)
            self._map = mmap.mmap(fd, _WORD, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        self.path = path

    def read(self) -> int:
        return int.from_bytes(self._map[:_WORD], "little")

    def advance(self) -> None:
        self._map[:_WORD] = secrets.token_bytes(_WORD)


_FILES: weakref.WeakKeyDictionary[Engine, FileEpoch | None] = weakref.WeakKeyDictionary()


def file_epoch(engine: Engine) -> FileEpoch | None:
    """The shared epoch file of a SQLite database file, or None (PostgreSQL, in-memory SQLite:
    the epoch row is used)."""
    try:
        return _FILES[engine]
    except KeyError:
        pass
    found: FileEpoch | None = None
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        found = FileEpoch(Path(database).with_name(Path(database).name + "-epoch"))
    _FILES[engine] = found
    return found


async def read_epoch(session: AsyncSession) -> int | None:
    """The current epoch, read before anything it guards is read. Kept on the session, so every
    cache consulted in the same unit of work uses the same reading."""
    engine = session.get_bind().engine
    shared = file_epoch(engine)
    if shared is not None:
        value: int | None = shared.read()
    else:
        value = await session.scalar(select(ApiKeyEpoch.value).where(ApiKeyEpoch.id == EPOCH_ROW))
    session.info["revocation_epoch"] = value
    return value


async def current_epoch(engine: AsyncEngine) -> int | None:
    """The current epoch outside any unit of work, for a reader that answers from caches alone:
    a memory load on SQLite; on PostgreSQL one ``SELECT`` (no ``BEGIN``/``COMMIT``) shared by
    the requests that asked while the previous one was in flight (``FreshReads``)."""
    shared = file_epoch(engine.sync_engine)
    if shared is not None:
        return shared.read()
    reads = _READS.get(engine.sync_engine)
    if reads is None:
        reads = _READS[engine.sync_engine] = FreshReads(lambda: _select_epoch(engine))
    return await reads.read()


async def _select_epoch(engine: AsyncEngine) -> int | None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        fetchval = getattr(raw.driver_connection, "fetchval", None)
        if fetchval is not None:
            # Straight to asyncpg: one Bind/Execute of a prepared statement, outside any
            # transaction (SQLAlchemy begins one only at its own first statement; none is made).
            value = await fetchval(_EPOCH_SQL, EPOCH_ROW)
        else:  # another driver: the same SELECT, in autocommit
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            value = await autocommit.scalar(
                select(ApiKeyEpoch.value).where(ApiKeyEpoch.id == EPOCH_ROW)
            )
    return value if value is None else int(value)


T = TypeVar("T")


class FreshReads(Generic[T]):
    """Concurrent reads of one value coalesced without ever answering with a stale one.

    A caller never joins a read already sent: it waits for the next one, which is sent only
    after the read in flight has finished, so it starts after every caller it answers asked.
    Under PostgreSQL's READ COMMITTED a statement sees every transaction committed before it
    began, so whatever was committed (a revocation acknowledged to anyone) before a caller
    asked is in the value that caller gets — the guarantee of one ``SELECT`` per caller, at
    one ``SELECT`` per round trip instead: with N requests in flight, about 1/N of the cost.
    """

    def __init__(self, fetch: Callable[[], Awaitable[T]]) -> None:
        self._fetch = fetch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next: asyncio.Future[T] | None = None  # the read not yet sent, and its callers
        self._runner: asyncio.Task[None] | None = None

    async def read(self) -> T:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests, tools): nothing carries over
            self._loop, self._next, self._runner = loop, None, None
        waiter = self._next
        if waiter is None:
            waiter = self._next = loop.create_future()
            if self._runner is None:
                self._runner = loop.create_task(self._run())
        # Shielded: a caller that goes away does not cancel the read the others wait for.
        return await asyncio.shield(waiter)

    async def _run(self) -> None:
        try:
            while self._next is not None:
                waiter, self._next = self._next, None
                try:
                    value = await self._fetch()
                except Exception as exc:
                    if not waiter.done():
                        waiter.set_exception(exc)
                        waiter.exception()  # retrieved here too: every caller may have left
                else:
                    if not waiter.done():
                        waiter.set_result(value)
        finally:
            self._runner = None
            if self._next is not None and not self._next.done():
                self._next.cancel()  # the runner itself was cancelled (the loop is closing)
                self._next = None


_READS: weakref.WeakKeyDictionary[Engine, FreshReads[int | None]] = weakref.WeakKeyDictionary()


def epoch_read_by(session: AsyncSession) -> tuple[bool, int | None]:
    """``(True, epoch)`` when this unit of work has already read the epoch."""
    if "revocation_epoch" in session.info:
        return True, session.info["revocation_epoch"]
    return False, None


async def advance_epoch(session: AsyncSession) -> None:
    """Change the epoch for a revocation made in this session's transaction: the row inside the
    transaction (a truncated table re-creates it at a random value), the shared file both now
    and once the transaction has committed."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(ApiKeyEpoch)
        .values(id=EPOCH_ROW, value=secrets.randbits(62))
        .on_conflict_do_update(
            index_elements=[ApiKeyEpoch.id], set_={"value": ApiKeyEpoch.value + 1}
        )
    )
    session.info.pop("revocation_epoch", None)
    shared = file_epoch(session.get_bind().engine)
    if shared is not None:
        shared.advance()

        async def again() -> None:
            shared.advance()

        after_commit(session, again)
