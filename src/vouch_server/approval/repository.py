"""Every query on ``hitl_configs``, ``confirmations`` and ``confirmation_messages``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from vouch_server.database import rowcount
from vouch_server.models.delegation import Confirmation, ConfirmationMessage, HitlConfig
from vouch_server.tenancy.service import Principal


# -- HITL configs -------------------------------------------------------------------------------
async def get_config(session: AsyncSession, principal: Principal, id_: str) -> HitlConfig | None:
    return await session.scalar(
        select(HitlConfig).where(
            HitlConfig.id == id_,
            HitlConfig.project_id == principal.project_id,
            HitlConfig.environment == principal.environment,
        )
    )


async def get_config_by_id(session: AsyncSession, id_: str) -> HitlConfig | None:
    return await session.get(HitlConfig, id_)


async def list_configs(
    session: AsyncSession, principal: Principal, *, offset: int, limit: int, status: str | None
) -> tuple[Sequence[HitlConfig], int]:
    conditions: list[ColumnElement[bool]] = [
        HitlConfig.project_id == principal.project_id,
        HitlConfig.environment == principal.environment,
    ]
    if status is not None:
        conditions.append(HitlConfig.status == status)
    total = await session.scalar(select(func.count()).select_from(HitlConfig).where(*conditions))
    rows = await session.scalars(
        select(HitlConfig)
        .where(*conditions)
        .order_by(HitlConfig.created_at.desc(), HitlConfig.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return rows.all(), int(total or 0)


# -- confirmations ------------------------------------------------------------------------------
async def get_scoped(session: AsyncSession, principal: Principal, id_: str) -> Confirmation | None:
    return await session.scalar(
        select(Confirmation).where(
            Confirmation.id == id_,
            Confirmation.project_id == principal.project_id,
            Confirmation.environment == principal.environment,
        )
    )


async def get_by_id(session: AsyncSession, id_: str) -> Confirmation | None:
    return await session.get(Confirmation, id_)


async def by_callback_key(session: AsyncSession, key: str) -> Confirmation | None:
    return await session.scalar(select(Confirmation).where(Confirmation.callback_key == key))


async def list_scoped(
    session: AsyncSession,
    principal: Principal,
    *,
    offset: int,
    limit: int,
    filters: dict[str, Any],
) -> tuple[Sequence[Confirmation], int]:
    conditions: list[ColumnElement[bool]] = [
        Confirmation.project_id == principal.project_id,
        Confirmation.environment == principal.environment,
    ]
    if filters.get("status") is not None:
        conditions.append(Confirmation.status == filters["status"])
    if filters.get("hitl_id") is not None:
        conditions.append(Confirmation.hitl_id == filters["hitl_id"])
    if filters.get("from") is not None:
        conditions.append(Confirmation.created_at >= filters["from"])
    if filters.get("to") is not None:
        conditions.append(Confirmation.created_at <= filters["to"])
    total = await session.scalar(select(func.count()).select_from(Confirmation).where(*conditions))
    rows = await session.scalars(
        select(Confirmation)
        .where(*conditions)
        .order_by(Confirmation.created_at.desc(), Confirmation.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return rows.all(), int(total or 0)


async def claim_decision(
    session: AsyncSession,
    id_: str,
    *,
    status: str,
    action: str,
    text: str | None,
    channel: str,
    decided_by_hash: str | None,
    now: datetime,
    require_unexpired: bool = True,
) -> bool:
    """pending → approved | denied | expired, once. This UPDATE is the whole of "first response
    wins": on PostgreSQL a concurrent one waits for the row lock and then finds the row no longer
    pending; on SQLite writers are serialized. Exactly one caller sees a row count of 1."""
    conditions: list[ColumnElement[bool]] = [
        Confirmation.id == id_,
        Confirmation.status == "pending",
    ]
    # A human answer counts only before the timeout; the timeout itself only after it.
    conditions.append(
        Confirmation.expires_at > now if require_unexpired else Confirmation.expires_at <= now
    )
    result = await session.execute(
        update(Confirmation)
        .where(*conditions)
        .values(
            status=status,
            response_action=action,
            response_text=text,
            response_channel=channel,
            decided_by_hash=decided_by_hash,
            decided_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def attach_proof(session: AsyncSession, id_: str, token: str, expires_at: datetime) -> None:
    await session.execute(
        update(Confirmation)
        .where(Confirmation.id == id_)
        .values(proof_token=token, proof_expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )


async def due_for_timeout(session: AsyncSession, now: datetime, *, limit: int = 500) -> list[str]:
    rows = await session.scalars(
        select(Confirmation.id)
        .where(Confirmation.status == "pending", Confirmation.expires_at <= now)
        .order_by(Confirmation.expires_at)
        .limit(limit)
    )
    return list(rows.all())


async def mark_revoked(session: AsyncSession, id_: str, at: datetime, reason: str) -> None:
    await session.execute(
        update(Confirmation)
        .where(Confirmation.id == id_)
        .values(revoked_at=at, revoked_reason=reason, updated_at=at)
        .execution_options(synchronize_session=False)
    )


# -- messages sent for a confirmation ---------------------------------------------------------
async def messages_of(session: AsyncSession, confirmation_id: str) -> Sequence[ConfirmationMessage]:
    rows = await session.scalars(
        select(ConfirmationMessage)
        .where(ConfirmationMessage.confirmation_id == confirmation_id)
        .order_by(ConfirmationMessage.created_at, ConfirmationMessage.id)
    )
    return rows.all()


async def message_by_provider_id(
    session: AsyncSession, channel: str, recipients: Collection[str], provider_message_id: str
) -> ConfirmationMessage | None:
    if not recipients:
        return None
    return await session.scalar(
        select(ConfirmationMessage).where(
            ConfirmationMessage.channel == channel,
            ConfirmationMessage.recipient.in_(tuple(recipients)),
            ConfirmationMessage.provider_message_id == provider_message_id,
        )
    )


async def pending_for_recipient(
    session: AsyncSession, channel: str, recipients: Collection[str], now: datetime
) -> Sequence[Confirmation]:
    """Open confirmations whose request went to one of ``recipients`` on ``channel``."""
    if not recipients:
        return []
    rows = await session.scalars(
        select(Confirmation)
        .join(ConfirmationMessage, ConfirmationMessage.confirmation_id == Confirmation.id)
        .where(
            ConfirmationMessage.channel == channel,
            ConfirmationMessage.recipient.in_(tuple(recipients)),
            Confirmation.status == "pending",
            Confirmation.expires_at > now,
        )
        .order_by(Confirmation.created_at.desc())
        .limit(10)
    )
    return list(dict.fromkeys(rows.all()))
