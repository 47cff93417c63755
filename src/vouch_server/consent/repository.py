"""Every query on the ``authorizations`` table."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from vouch_server.database import rowcount
from vouch_server.models.delegation import Authorization
from vouch_server.tenancy.service import Principal


async def get_scoped(session: AsyncSession, principal: Principal, id_: str) -> Authorization | None:
    return await session.scalar(
        select(Authorization).where(
            Authorization.id == id_,
            Authorization.project_id == principal.project_id,
            Authorization.environment == principal.environment,
        )
    )


async def get_by_id(session: AsyncSession, id_: str) -> Authorization | None:
    return await session.get(Authorization, id_)


async def by_callback_key(session: AsyncSession, key: str) -> Authorization | None:
    return await session.scalar(select(Authorization).where(Authorization.callback_key == key))


async def by_start_token_hash(session: AsyncSession, digest: str) -> Authorization | None:
    return await session.scalar(
        select(Authorization).where(Authorization.start_token_hash == digest)
    )


def _filters(principal: Principal, filters: dict[str, Any]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Authorization.project_id == principal.project_id,
        Authorization.environment == principal.environment,
    ]
    for name in ("status", "channel", "recipient"):
        if filters.get(name) is not None:
            conditions.append(getattr(Authorization, name) == filters[name])
    if filters.get("from") is not None:
        conditions.append(Authorization.created_at >= filters["from"])
    if filters.get("to") is not None:
        conditions.append(Authorization.created_at <= filters["to"])
    return conditions


async def list_scoped(
    session: AsyncSession,
    principal: Principal,
    *,
    offset: int,
    limit: int,
    filters: dict[str, Any],
) -> tuple[Sequence[Authorization], int]:
    conditions = _filters(principal, filters)
    total = await session.scalar(select(func.count()).select_from(Authorization).where(*conditions))
    rows = await session.scalars(
        select(Authorization)
        .where(*conditions)
        .order_by(Authorization.created_at.desc(), Authorization.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return rows.all(), int(total or 0)


async def export_rows(
    session: AsyncSession, principal: Principal, *, filters: dict[str, Any], limit: int
) -> Sequence[Authorization]:
    """Oldest first, so that a capped export can be continued with ``from``."""
    rows = await session.scalars(
        select(Authorization)
        .where(*_filters(principal, filters))
        .order_by(Authorization.created_at, Authorization.id)
        .limit(limit)
    )
    return rows.all()


async def claim_decision(
    session: AsyncSession,
    id_: str,
    *,
    status: str,
    now: datetime,
    decided_by_hash: str,
    expires_at: datetime,
) -> bool:
    """pending → active | denied, once: of concurrent answers exactly one counts."""
    result = await session.execute(
        update(Authorization)
        .where(
            Authorization.id == id_,
            Authorization.status == "pending",
            Authorization.expires_at > now,
        )
        .values(
            status=status,
            decided_at=now,
            decided_by_hash=decided_by_hash,
            expires_at=expires_at,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def attach_proof(session: AsyncSession, id_: str, token: str, expires_at: datetime) -> None:
    await session.execute(
        update(Authorization)
        .where(Authorization.id == id_)
        .values(proof_token=token, proof_expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )


async def set_prompt_message(session: AsyncSession, id_: str, message_id: str | None) -> None:
    await session.execute(
        update(Authorization)
        .where(Authorization.id == id_)
        .values(prompt_message_id=message_id)
        .execution_options(synchronize_session=False)
    )


async def expire_due(
    session: AsyncSession, now: datetime, *, ids: Sequence[str] | None = None
) -> list[str]:
    """Pending requests nobody answered in time, and consents past their lifetime, expire."""
    query = select(Authorization.id).where(
        Authorization.status.in_(("pending", "active")), Authorization.expires_at <= now
    )
    if ids is not None:
        query = query.where(Authorization.id.in_(ids))
    due = list((await session.scalars(query.limit(1000))).all())
    if not due:
        return []
    await session.execute(
        update(Authorization)
        .where(
            Authorization.id.in_(due),
            Authorization.status.in_(("pending", "active")),
            Authorization.expires_at <= now,
        )
        .values(status="expired", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return due


async def mark_revoked(
    session: AsyncSession, id_: str, at: datetime, reason: str, *, from_statuses: Collection[str]
) -> bool:
    result = await session.execute(
        update(Authorization)
        .where(Authorization.id == id_, Authorization.status.in_(tuple(from_statuses)))
        .values(
            status="revoked",
            revoked_at=at,
            revoked_reason=reason,
            # Who asked is set before the revocation when it was the person (STOP).
            revoked_by=case(
                (Authorization.revoked_by.is_(None), "api"), else_=Authorization.revoked_by
            ),
            updated_at=at,
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def set_revoked_by(session: AsyncSession, id_: str, who: str) -> None:
    await session.execute(
        update(Authorization)
        .where(Authorization.id == id_)
        .values(revoked_by=who)
        .execution_options(synchronize_session=False)
    )


async def active_for(
    session: AsyncSession,
    *,
    project_id: str,
    environment: str,
    channel: str,
    recipients: Collection[str],
    scope: str,
    now: datetime,
) -> Authorization | None:
    if not recipients:
        return None
    return await session.scalar(
        select(Authorization)
        .where(
            Authorization.project_id == project_id,
            Authorization.environment == environment,
            Authorization.channel == channel,
            Authorization.recipient.in_(tuple(recipients)),
            Authorization.scope == scope,
            Authorization.status == "active",
            Authorization.expires_at > now,
        )
        .order_by(Authorization.expires_at.desc())
        .limit(1)
    )


async def for_recipient(
    session: AsyncSession,
    *,
    channel: str,
    recipients: Collection[str],
    statuses: Collection[str],
    project_id: str | None,
) -> Sequence[Authorization]:
    if not recipients:
        return []
    query = select(Authorization).where(
        Authorization.channel == channel,
        Authorization.recipient.in_(tuple(recipients)),
        Authorization.status.in_(tuple(statuses)),
    )
    if project_id is not None:
        query = query.where(Authorization.project_id == project_id)
    rows = await session.scalars(query.order_by(Authorization.created_at.desc()))
    return rows.all()


async def note_use(session: AsyncSession, id_: str, at: datetime) -> None:
    await session.execute(
        update(Authorization)
        .where(Authorization.id == id_)
        .values(confirmations_sent=Authorization.confirmations_sent + 1, last_used_at=at)
        .execution_options(synchronize_session=False)
    )
