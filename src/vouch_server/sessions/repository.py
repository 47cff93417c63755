"""Every query on ``phone_sessions``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.database import rowcount
from vouch_server.models import PhoneSession
from vouch_server.tenancy.service import Principal


async def get_scoped(session: AsyncSession, principal: Principal, id_: str) -> PhoneSession | None:
    return await session.scalar(
        select(PhoneSession).where(
            PhoneSession.id == id_,
            PhoneSession.project_id == principal.project_id,
            PhoneSession.environment == principal.environment,
        )
    )


async def open_by_codes(
    session: AsyncSession,
    digests: Sequence[str],
    channel: str,
    now: datetime,
    *,
    project_id: str | None,
) -> PhoneSession | None:
    """The newest pending, unexpired session of this channel with one of these code digests (a
    project's own provider account only ever reaches that project's sessions)."""
    if not digests:
        return None
    query = select(PhoneSession).where(
        PhoneSession.code_digest.in_(digests),
        PhoneSession.channel == channel,
        PhoneSession.status == "pending",
        PhoneSession.expires_at > now,
    )
    if project_id is not None:
        query = query.where(PhoneSession.project_id == project_id)
    return await session.scalar(query.order_by(PhoneSession.created_at.desc()).limit(1))


async def bound_to_telegram_user(
    session: AsyncSession, bot: str, user_id: str, now: datetime, *, project_id: str | None
) -> PhoneSession | None:
    """The newest pending session this Telegram user opened (through this bot)."""
    query = select(PhoneSession).where(
        PhoneSession.telegram_bot == bot,
        PhoneSession.telegram_user_id == user_id,
        PhoneSession.channel == "telegram",
        PhoneSession.status == "pending",
        PhoneSession.expires_at > now,
    )
    if project_id is not None:
        query = query.where(PhoneSession.project_id == project_id)
    return await session.scalar(query.order_by(PhoneSession.updated_at.desc()).limit(1))


async def _set(session: AsyncSession, id_: str, **values: Any) -> bool:
    result = await session.execute(
        update(PhoneSession)
        .where(PhoneSession.id == id_, PhoneSession.status == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def bind_telegram(
    session: AsyncSession, id_: str, *, bot: str, user_id: str, now: datetime
) -> bool:
    return await _set(session, id_, telegram_bot=bot, telegram_user_id=user_id, updated_at=now)


async def claim(session: AsyncSession, id_: str, *, phone: str, now: datetime) -> bool:
    """Mark a pending, unexpired session verified by ``phone``: a conditional UPDATE and the
    completing transaction's first write, so of any number of messages completing it at once
    (on SQLite, whose writers queue, as on PostgreSQL, which re-checks the row) exactly one
    gets true and goes on to create the verification."""
    result = await session.execute(
        update(PhoneSession)
        .where(
            PhoneSession.id == id_,
            PhoneSession.status == "pending",
            PhoneSession.expires_at > now,
        )
        .values(status="verified", phone_number=phone, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def attach_verification(
    session: AsyncSession, id_: str, *, verification_id: str, verified_at: datetime | None
) -> None:
    await session.execute(
        update(PhoneSession)
        .where(PhoneSession.id == id_)
        .values(verification_id=verification_id, verified_at=verified_at)
        .execution_options(synchronize_session=False)
    )


async def expire(session: AsyncSession, id_: str, now: datetime) -> bool:
    return await _set(session, id_, status="expired", updated_at=now)
