"""Projects and API keys.

Keys look like ``pk_live_<32 base62>`` / ``pk_test_<32 base62>`` (≈190 bits). Only their SHA-256 is
stored: a key is high-entropy, so a fast hash is enough to make a leaked table useless, and lookup
by hash is an exact index probe that reveals nothing through timing about other keys.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vouch.kit.clock import utcnow
from vouch.kit.ids import new_object_id
from vouch.models import ApiKey, Project

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


async def get_or_create_project(session: AsyncSession, name: str) -> tuple[Project, bool]:
    project = await session.scalar(select(Project).where(Project.name == name))
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
    if not key.startswith(("pk_live_", "pk_test_")) or len(key) > 64:
        return None
    row = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None or row.revoked_at is not None:
        return None
    return Principal(project_id=row.project_id, environment=row.mode, api_key_id=row.id)


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
    return True


async def count_projects(session: AsyncSession) -> int:
    return len((await session.scalars(select(Project.id))).all())
