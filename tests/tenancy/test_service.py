"""``tenancy.service.authenticate``: cached keys, and revocation that no cache outlives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from tests.fixtures.tenancy import Keys
from vouch_server.config import Settings
from vouch_server.runtime import Runtime
from vouch_server.tenancy import service as tenancy
from vouch_server.tenancy.key_cache import cache_for

AUTHENTICATED = "/api/v1/templates"


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    """The SQL statements the runtime's engine sends while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def authenticate(runtime: Runtime, key: str) -> tenancy.Principal | None:
    async with runtime.db.session() as session:
        return await tenancy.authenticate(session, key)


async def revoke(runtime: Runtime, key: str) -> None:
    async with runtime.db.session() as session:
        assert await tenancy.revoke_api_key(session, key[:12])


class TestAuthenticate:
    async def test_revoked_key_fails_on_the_very_next_request(
        self, client: httpx.AsyncClient, runtime: Runtime, keys: Keys
    ) -> None:
        for _ in range(2):  # the second answer comes from the cache
            assert (await client.get(AUTHENTICATED, headers=keys.test_headers)).status_code == 200
        await revoke(runtime, keys.test)
        assert (await client.get(AUTHENTICATED, headers=keys.test_headers)).status_code == 401

    async def test_key_revoked_by_another_process_fails_on_the_very_next_request(
        self, client: httpx.AsyncClient, settings: Settings, keys: Keys
    ) -> None:
        for _ in range(2):
            assert (await client.get(AUTHENTICATED, headers=keys.test_headers)).status_code == 200
        # Another process (the CLI, a second server) has its own engine and its own cache.
        other = Runtime.build(settings)
        try:
            await revoke(other, keys.test)
        finally:
            await other.close()
        assert (await client.get(AUTHENTICATED, headers=keys.test_headers)).status_code == 401
        # Other keys keep working.
        assert (await client.get(AUTHENTICATED, headers=keys.live_headers)).status_code == 200

    async def test_cache_hit_does_not_query_the_key_table(
        self, runtime: Runtime, keys: Keys
    ) -> None:
        with statements(runtime) as first:
            principal = await authenticate(runtime, keys.test)
        assert principal is not None
        assert any("api_keys" in s for s in first)
        with statements(runtime) as second:
            assert await authenticate(runtime, keys.test) == principal
        assert [s for s in second if "api_keys" in s] == []
        selects = [s for s in second if s.lstrip().upper().startswith("SELECT")]
        if runtime.db.engine.dialect.name == "sqlite":
            assert selects == []  # the epoch is a memory load from the shared file
        else:
            assert len(selects) == 1 and "api_key_epoch" in selects[0]

    async def test_raw_key_is_never_a_cache_key(self, runtime: Runtime, keys: Keys) -> None:
        assert await authenticate(runtime, keys.test) is not None
        assert await authenticate(runtime, keys.live) is not None
        cached = cache_for(runtime.db.engine.sync_engine).keys()
        assert sorted(cached) == sorted([tenancy.hash_key(keys.test), tenancy.hash_key(keys.live)])
        assert keys.test not in cached and keys.live not in cached

    async def test_unknown_key_is_not_cached(self, runtime: Runtime, keys: Keys) -> None:
        unknown = "pk_test_" + "x" * 32
        assert await authenticate(runtime, unknown) is None
        assert cache_for(runtime.db.engine.sync_engine).keys() == []

    async def test_revoked_key_is_refused_again_after_the_epoch_row_is_gone(
        self, runtime: Runtime, keys: Keys
    ) -> None:
        # A truncated table (as the PostgreSQL tests do between tests) re-creates the row at a
        # random value, so a cached entry never matches a re-created epoch by chance.
        assert await authenticate(runtime, keys.test) is not None
        await revoke(runtime, keys.test)
        assert await authenticate(runtime, keys.test) is None
        assert await authenticate(runtime, keys.live) is not None
        await revoke(runtime, keys.live)
        assert await authenticate(runtime, keys.live) is None


class TestRevocationEpochAcrossProcesses:
    """A real second process (not only a second engine in this one) revokes; the first process,
    its caches warm, refuses on its very next request."""

    async def test_key_revoked_by_the_cli_process_fails_on_the_next_request(
        self, client: httpx.AsyncClient, settings: Settings, keys: Keys
    ) -> None:
        import asyncio
        import os
        import sys

        for _ in range(2):
            assert (await client.get(AUTHENTICATED, headers=keys.test_headers)).status_code == 200
        env = {**os.environ, "VOUCH_DATA_DIR": str(settings.data_dir)}
        if settings.database_url:
            env["VOUCH_DATABASE_URL"] = settings.database_url
        env["VOUCH_SECRET_KEY"] = str(settings.secret_key)
        vouch = str(Path(sys.executable).with_name("vouch"))
        cli = await asyncio.create_subprocess_exec(
            vouch, "apikeys", "revoke", keys.test[:12], env=env, stdout=asyncio.subprocess.DEVNULL
        )
        assert await cli.wait() == 0
        assert (await client.get(AUTHENTICATED, headers=keys.test_headers)).status_code == 401
        assert (await client.get(AUTHENTICATED, headers=keys.live_headers)).status_code == 200
