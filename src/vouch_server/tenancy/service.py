"""Projects and API keys.

Keys look like ``pk_live_<32 base62>`` / ``pk_test_<32 base62>`` (≈190 bits). Only their SHA-256 is
stored: a key is high-entropy, so a fast hash is enough to make a leaked table useless, and lookup
by hash is an exact index probe that reveals nothing through timing about other keys.

Authenticated keys are cached per process for a few seconds under their hash; every revocation
changes the revocation epoch (``kit.epoch``), which drops them from every cache at once
(``key_cache``).
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.database import after_commit
from vouch_server.kit.clock import utcnow
from vouch_server.kit.epoch import advance_epoch, read_epoch
from vouch_server.kit.ids import new_object_id
from vouch_server.models import ApiKey, Project
from vouch_server.tenancy.key_cache import cache_for

KEY_ALPHABET = string.ascii_letters + string.digits
KEY_BODY_LENGTH = 32
MODES = ("test", "live")
DEFAULT_PROJECT = "default"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a project, in one environment, through one key."""

    project_id: str
    environment: str
    api_key_id: str

    @property
    def is_test(self) -> bool:
        return self.environment == "test"


@dataclass(frozen=True)
class IssuedKey:
    key: str
    api_key: ApiKey
    project: Project


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key(mode: str) -> str:
    body = "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_BODY_LENGTH))
    return f"pk_{mode}_{body}"


async def find_project(session: AsyncSession, name: str) -> Project | None:
    return await session.scalar(select(Project).where(Project.name == name))


async def get_or_create_project(session: AsyncSession, name: str) -> tuple[Project, bool]:
    project = await find_project(session, name)
    if project is not None:
        return project, False
    project = Project(id=new_object_id(), name=name, created_at=utcnow())
    session.add(project)
    await session.flush()
    return project, True


async def create_api_key(
    session: AsyncSession, project: Project, *, mode: str, name: str | None = None
) -> IssuedKey:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    key = generate_key(mode)
    row = ApiKey(
        id=new_object_id(),
        project_id=project.id,
        mode=mode,
        name=name,
        prefix=key[:12],
        key_hash=hash_key(key),
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return IssuedKey(key, row, project)


async def authenticate(session: AsyncSession, key: str) -> Principal | None:
    """The caller a key authenticates, or None for an unknown or revoked key.

    A key seen in the last few seconds is answered from the process's cache (``key_cache``)
    with one read of the API-key epoch instead of the ``api_keys`` lookup; the epoch is read
    before the key, so a revocation committed by any process is never missed."""
    if not _may_be_key(key):
        return None
    key_hash = hash_key(key)
    cache = cache_for(session.get_bind().engine)
    epoch = await read_epoch(session)
    cached = cache.get(key_hash, epoch)
    if cached is not None:
        return cached
    row = (
        await session.execute(
            select(ApiKey.id, ApiKey.project_id, ApiKey.mode, ApiKey.revoked_at).where(
                ApiKey.key_hash == key_hash
            )
        )
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None  # unknown and revoked keys are not cached: each try reads the table
    principal = Principal(project_id=row.project_id, environment=row.mode, api_key_id=row.id)
    cache.put(key_hash, epoch, principal)
    return principal


def cached_principal(engine: Engine, key: str, epoch: int | None) -> Principal | None:
    """``authenticate`` from this process's cache alone, under an epoch the caller has just read
    (``kit.epoch.current_epoch``): the caller, or None when only the database can tell (a key
    not seen under ``epoch``, an unknown or a revoked key)."""
    if not _may_be_key(key):
        return None
    return cache_for(engine).get(hash_key(key), epoch)


def _may_be_key(key: str) -> bool:
    return key.startswith(("pk_live_", "pk_test_")) and len(key) <= 64


async def list_api_keys(
    session: AsyncSession, project_name: str | None = None
) -> list[dict[str, object]]:
    query = select(ApiKey, Project.name).join(Project, Project.id == ApiKey.project_id)
    if project_name is not None:
        query = query.where(Project.name == project_name)
    rows = (await session.execute(query.order_by(ApiKey.created_at))).all()
    return [
        {
            "id": key.id,
            "project": name,
            "mode": key.mode,
            "prefix": key.prefix,
            "name": key.name,
            "created_at": key.created_at,
            "revoked_at": key.revoked_at,
        }
        for key, name in rows
    ]


async def revoke_api_key(session: AsyncSession, key_id_or_prefix: str) -> bool:
    """Revoke by id or by the displayed prefix; it stops working on the next request."""
    row = await session.scalar(
        select(ApiKey).where(
            (ApiKey.id == key_id_or_prefix) | (ApiKey.prefix == key_id_or_prefix),
            ApiKey.revoked_at.is_(None),
        )
    )
    if row is None:
        return False
    row.revoked_at = utcnow()
    await session.flush()
    await advance_epoch(session)
    # The epoch already invalidates every cache; this process need not even read it again.
    cache = cache_for(session.get_bind().engine)
    key_hash = row.key_hash

    async def forget() -> None:
        cache.discard(key_hash)

    after_commit(session, forget)
    return True


async def count_projects(session: AsyncSession) -> int:
    return len((await session.scalars(select(Project.id))).all())


async def list_projects(session: AsyncSession) -> list[dict[str, object]]:
    """Every project, oldest first, with how many of its API keys still work."""
    active = (
        select(ApiKey.project_id, func.count(ApiKey.id).label("active_keys"))
        .where(ApiKey.revoked_at.is_(None))
        .group_by(ApiKey.project_id)
        .subquery()
    )
    query = (
        select(Project, active.c.active_keys)
        .outerjoin(active, active.c.project_id == Project.id)
        .order_by(Project.created_at, Project.name)
    )
    return [
        {
            "id": project.id,
            "name": project.name,
            "created_at": project.created_at,
            "active_keys": count or 0,
        }
        for project, count in (await session.execute(query)).all()
    ]
