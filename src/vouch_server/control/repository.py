"""Every query on the ``verifications`` table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.control.catalog import BACKOFF_SECONDS
from vouch_server.database import rowcount
from vouch_server.kit.paging import Page, fetch_page
from vouch_server.models import Verification
from vouch_server.models.base import UTCDateTime
from vouch_server.tenancy.service import Principal


async def get_scoped(session: AsyncSession, principal: Principal, id_: str) -> Verification | None:
    return await session.scalar(
        select(Verification).where(
            Verification.id == id_,
            Verification.project_id == principal.project_id,
            Verification.environment == principal.environment,
        )
    )


async def get_by_id(session: AsyncSession, id_: str) -> Verification | None:
    return await session.get(Verification, id_)


async def list_scoped(
    session: AsyncSession,
    principal: Principal,
    *,
    page: int,
    limit: int,
    cursor: str | None,
    filters: dict[str, Any],
) -> Page:
    conditions = [
        Verification.project_id == principal.project_id,
        Verification.environment == principal.environment,
    ]
    for name, value in filters.items():
        if value is not None:
            conditions.append(getattr(Verification, name) == value)
    return await fetch_page(
        session, Verification, conditions, page=page, limit=limit, cursor=cursor
    )


async def pending_for(
    session: AsyncSession, pairs: Sequence[tuple[str, str]], now: datetime, *, limit: int
) -> Sequence[Verification]:
    """Pending, unexpired verifications of the given (type, channel) pairs, oldest first."""
    if not pairs:
        return []
    conditions = [(Verification.type == t) & (Verification.channel == c) for t, c in pairs]
    rows = await session.scalars(
        select(Verification)
        .where(
            Verification.status == "pending",
            Verification.challenge_expires_at > now,
            or_(*conditions),
        )
        .order_by(Verification.created_at)
        .limit(limit)
    )
    return rows.all()


async def claim_completion(session: AsyncSession, id_: str, now: datetime) -> bool:
    """The one-time transition pending → verified; exactly one concurrent caller wins."""
    result = await session.execute(
        update(Verification)
        .where(
            Verification.id == id_,
            Verification.status == "pending",
            Verification.challenge_expires_at > now,
            Verification.attempts < Verification.max_attempts,
        )
        .values(status="verified", verified_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def attach_proof(session: AsyncSession, id_: str, token: str, expires_at: datetime) -> None:
    await session.execute(
        update(Verification)
        .where(Verification.id == id_)
        .values(proof_token=token, proof_expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )


async def record_failed_attempt(
    session: AsyncSession, id_: str, now: datetime, reason: str, *, within_backoff: bool = False
) -> bool:
    """Count one failed attempt atomically: backoff grows 1, 2, 4, 8, 16 s; the last allowed
    attempt fails the verification. False when another attempt got there first (backoff), or
    when the verification is no longer pending or has no attempts left.

    ``within_backoff=True`` counts the attempt even inside the backoff window (still never past
    ``max_attempts``): a provider-signed inbound message is evidence that arrived, not a guess
    to be throttled, so it is evaluated and counted instead of being dropped."""
    backoff = case(
        *[
            (Verification.attempts == n, _plus_seconds(now, seconds))
            for n, seconds in enumerate(BACKOFF_SECONDS)
        ],
        else_=_plus_seconds(now, BACKOFF_SECONDS[-1]),
    )
    exhausted = Verification.attempts + 1 >= Verification.max_attempts
    backoff_over = (
        []
        if within_backoff
        else [(Verification.next_attempt_at.is_(None)) | (Verification.next_attempt_at <= now)]
    )
    result = await session.execute(
        update(Verification)
        .where(
            Verification.id == id_,
            Verification.status == "pending",
            Verification.attempts < Verification.max_attempts,
            *backoff_over,
        )
        .values(
            attempts=Verification.attempts + 1,
            next_attempt_at=backoff,
            status=case((exhausted, "failed"), else_=Verification.status),
            failure_reason=case((exhausted, "max_attempts_exceeded"), else_=reason),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def expire_due(
    session: AsyncSession, now: datetime, *, ids: Sequence[str] | None = None
) -> list[str]:
    """Mark pending verifications whose challenge has run out as expired; returns their ids."""
    query = select(Verification.id).where(
        Verification.status == "pending", Verification.challenge_expires_at <= now
    )
    if ids is not None:
        query = query.where(Verification.id.in_(ids))
    due = list((await session.scalars(query.limit(1000))).all())
    return await expire_pending(session, due, now, reason="challenge_expired")


async def expire_pending(
    session: AsyncSession, ids: Sequence[str], now: datetime, *, reason: str
) -> list[str]:
    """Expire those of ``ids`` that are still pending, with ``reason``; returns the ones this
    call expired (a verification completed meanwhile keeps its outcome)."""
    if not ids:
        return []
    result = await session.execute(
        update(Verification)
        .where(Verification.id.in_(ids), Verification.status == "pending")
        .values(status="expired", failure_reason=reason, updated_at=now)
        .returning(Verification.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars().all())


async def delete_unproven(
    session: AsyncSession, principal: Principal, id_: str, *, statuses: Sequence[str]
) -> bool:
    """Delete the caller's verification ``id_`` if its status is one of ``statuses`` and it never
    minted a proof; one statement, so a check completing at the same moment either wins (the row
    stays, verified) or finds nothing."""
    result = await session.execute(
        delete(Verification)
        .where(
            Verification.id == id_,
            Verification.project_id == principal.project_id,
            Verification.environment == principal.environment,
            Verification.status.in_(statuses),
            Verification.proof_token.is_(None),
            Verification.verified_at.is_(None),
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def mark_revoked(session: AsyncSession, id_: str, at: datetime, reason: str) -> None:
    await session.execute(
        update(Verification)
        .where(Verification.id == id_)
        .values(status="revoked", revoked_at=at, revoked_reason=reason, updated_at=at)
        .execution_options(synchronize_session=False)
    )


def _plus_seconds(now: datetime, seconds: int) -> Any:
    return literal(now + timedelta(seconds=seconds), type_=UTCDateTime())
