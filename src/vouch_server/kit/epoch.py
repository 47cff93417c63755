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

import mmap
import os
import secrets
import weakref
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.database import after_commit
from vouch_server.models import ApiKeyEpoch

EPOCH_ROW = 1  # the one row of ``api_key_epoch``
_WORD = 8


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
