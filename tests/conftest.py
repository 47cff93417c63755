"""Shared fixtures: a migrated database per test (SQLite always; PostgreSQL + Redis when
``VOUCH_TEST_DATABASE_URL`` / ``VOUCH_TEST_REDIS_URL`` are set), the real app, and API keys."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from tests.fixtures.services import PG_URL, REDIS_URL, create_database, drop_database
from tests.fixtures.tenancy import Keys, make_keys
from vouch_server import db as vouch_db
from vouch_server.app import create_app
from vouch_server.config import Settings
from vouch_server.models import Base
from vouch_server.runtime import Runtime
from vouch_server.signing import keys as signing_keys

TEST_SECRET = "test-master-secret-not-for-production"

# The test tree mirrors src/vouch_server; a test file elsewhere is a mistake (warehouse's habit).
KNOWN_TEST_DIRS = {
    "kit",
    "signing",
    "control",
    "proofs",
    "cli",
    "e2e",
    "tenancy",
    "http",
    "bench",
    "agents",
    "records",
    "location",
    "webhooks",
    "channels",
    "consent",
    "approval",
    "web",
    "mcp",
    "requests",
    "multichannel",
    "sessions",
    "profiles",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        path = Path(str(item.fspath))
        if root not in path.parents:
            continue
        rel = path.relative_to(root)
        if len(rel.parts) > 1 and rel.parts[0] not in KNOWN_TEST_DIRS:
            raise pytest.UsageError(f"test file outside the known test folders: {rel}")


# RSA-2048 keys made by earlier tests of this worker, handed out again in the same order. Every
# app start creates four signing keys, and finding RSA primes is most of a small test's setup
# (~60 ms a key). Within one test each call still gets a different, real key; only the search
# for primes is skipped. Other algorithms are cheap and generated as usual.
_RSA_KEYS: list[Any] = []
_generate_private_key = signing_keys.generate_private_key


@pytest.fixture(autouse=True)
def _reused_rsa_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    handed = 0

    def generate(alg: str) -> Any:
        nonlocal handed
        if alg != "RS256":
            return _generate_private_key(alg)
        if handed == len(_RSA_KEYS):
            _RSA_KEYS.append(_generate_private_key(alg))
        handed += 1
        return _RSA_KEYS[handed - 1]

    monkeypatch.setattr(signing_keys, "generate_private_key", generate)


def _backends() -> list[Any]:
    params: list[Any] = ["sqlite"]
    if PG_URL:
        params.append(pytest.param("postgres", marks=pytest.mark.postgres))
    return params


def base_settings(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp,
        "secret_key": TEST_SECRET,
        "public_url": "https://vouch.test",
        "expiry_sweep_seconds": 0,
        "key_publish_lead_seconds": 0,
        # A configured Telegram bot, as most tests drive Telegram; an unconfigured server has
        # none (tests/control/test_unconfigured_telegram.py).
        "telegram_bot_username": "vouch_verify_bot",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("template")
    vouch_db.upgrade(base_settings(tmp))
    return tmp / "vouch.db"


@pytest.fixture(scope="session")
def postgres_migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This process's own PostgreSQL database, migrated once (``tests/fixtures/services.py``)."""
    assert PG_URL
    asyncio.run(create_database())
    try:
        vouch_db.upgrade(base_settings(tmp_path_factory.mktemp("pg"), database_url=PG_URL))
        yield PG_URL
    finally:
        asyncio.run(drop_database())


# Children before parents, so no foreign key is ever violated on the way.
_EMPTY_TABLES = ";".join(
    f'DELETE FROM "{t.name}"'  # noqa: S608 - table names from the models, not input
    for t in reversed(Base.metadata.sorted_tables)
)


async def _truncate_postgres(url: str) -> None:
    """Empty every table for the next test. ``DELETE`` rather than ``TRUNCATE``: on a few dozen
    almost empty tables TRUNCATE (new files for every table) took ~0.3 s a test, DELETE ~15 ms,
    and it was most of a PostgreSQL test's setup. Sequences are left as they are either way."""
    # asyncpg itself: with no arguments it sends the statements as one simple query.
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        async with conn.transaction():
            await conn.execute(_EMPTY_TABLES)
    finally:
        await conn.close()


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings_factory(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Build settings on a fresh, migrated database of the current backend."""
    if backend == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / "vouch.db")
        extra: dict[str, Any] = {}
    else:
        url = request.getfixturevalue("postgres_migrated")
        asyncio.run(_truncate_postgres(url))
        extra = {"database_url": url}
        if REDIS_URL:
            extra["redis_url"] = REDIS_URL

    def make(**overrides: Any) -> Settings:
        return base_settings(tmp_path, **{**extra, **overrides})

    yield make


@pytest.fixture
def settings(settings_factory: Any) -> Settings:
    return settings_factory()  # type: ignore[no-any-return]


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    await application.state.vouch.limiter.reset()
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    return app.state.vouch  # type: ignore[no-any-return]


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
        yield c


@pytest.fixture
async def keys(runtime: Runtime) -> Keys:
    return await make_keys(runtime)
