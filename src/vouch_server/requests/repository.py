"""Every query on ``verification_requests`` and ``verification_request_assets``, and the read-only
"verified users" view over ``verifications`` (a grouping of control's rows by the integrator's
``external_user_id``; it never writes them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.database import rowcount
from vouch_server.kit.paging import Page, fetch_page
from vouch_server.models import Verification, VerificationRequest, VerificationRequestAsset
from vouch_server.tenancy.service import Principal

OPEN = ("pending", "partial")


def _scope(principal: Principal) -> list[Any]:
    return [
        VerificationRequest.project_id == principal.project_id,
        VerificationRequest.environment == principal.environment,
    ]


async def get_scoped(
    session: AsyncSession, principal: Principal, id_: str
) -> VerificationRequest | None:
    return await session.scalar(
        select(VerificationRequest).where(VerificationRequest.id == id_, *_scope(principal))
    )


async def get_by_reference(
    session: AsyncSession, principal: Principal, reference_id: str
) -> VerificationRequest | None:
    """The newest request carrying this reference (a reference is the integrator's, not unique)."""
    return await session.scalar(
        select(VerificationRequest)
        .where(VerificationRequest.reference_id == reference_id, *_scope(principal))
        .order_by(VerificationRequest.created_at.desc(), VerificationRequest.id.desc())
        .limit(1)
    )


async def lock(session: AsyncSession, id_: str) -> VerificationRequest | None:
    """The request row, locked until this transaction ends (``SELECT … FOR UPDATE`` on
    PostgreSQL; SQLite serialises writers already). Whoever settles a request's status holds
    this, so two assets completing at once in two transactions cannot both read the other as
    unfinished."""
    row = await session.scalar(
        select(VerificationRequest)
        .where(VerificationRequest.id == id_)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return row


async def list_scoped(
    session: AsyncSession,
    principal: Principal,
    *,
    page: int,
    limit: int,
    cursor: str | None,
    statuses: Sequence[str] | None,
    reference_id: str | None,
) -> Page:
    conditions = _scope(principal)
    if statuses:
        conditions.append(VerificationRequest.status.in_(statuses))
    if reference_id is not None:
        conditions.append(VerificationRequest.reference_id == reference_id)
    return await fetch_page(
        session, VerificationRequest, conditions, page=page, limit=limit, cursor=cursor
    )


async def assets_of(
    session: AsyncSession, request_ids: Sequence[str]
) -> dict[str, list[VerificationRequestAsset]]:
    out: dict[str, list[VerificationRequestAsset]] = {id_: [] for id_ in request_ids}
    if not request_ids:
        return out
    rows = await session.scalars(
        select(VerificationRequestAsset)
        .where(VerificationRequestAsset.request_id.in_(request_ids))
        .order_by(VerificationRequestAsset.request_id, VerificationRequestAsset.position)
        .execution_options(populate_existing=True)
    )
    for row in rows:
        out[row.request_id].append(row)
    return out


async def asset_for_verification(
    session: AsyncSession, verification_id: str
) -> VerificationRequestAsset | None:
    return await session.scalar(
        select(VerificationRequestAsset).where(
            VerificationRequestAsset.verification_id == verification_id
        )
    )


async def set_asset_outcome(
    session: AsyncSession,
    asset_id: str,
    verification_id: str,
    *,
    status: str,
    now: datetime,
    verified_identifier: str | None = None,
    verified_channel: str | None = None,
    verified_at: datetime | None = None,
) -> bool:
    """Record the backing verification's outcome on its asset, if that verification still backs
    it and the asset is not already verified (a verified asset only moves on to ``revoked``)."""
    allowed_from = ("verified",) if status == "revoked" else ("pending", "failed", "expired")
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if status == "verified":
        values.update(
            verified_identifier=verified_identifier,
            verified_channel=verified_channel,
            verified_at=verified_at,
        )
    result = await session.execute(
        update(VerificationRequestAsset)
        .where(
            VerificationRequestAsset.id == asset_id,
            VerificationRequestAsset.verification_id == verification_id,
            VerificationRequestAsset.status.in_(allowed_from),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def attach_verification(
    session: AsyncSession, asset_id: str, verification_id: str, now: datetime
) -> bool:
    """Back an unverified asset by a new verification (the person starts or restarts it)."""
    result = await session.execute(
        update(VerificationRequestAsset)
        .where(
            VerificationRequestAsset.id == asset_id,
            VerificationRequestAsset.status.in_(("pending", "failed", "expired")),
        )
        .values(verification_id=verification_id, status="pending", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def transition(
    session: AsyncSession,
    id_: str,
    *,
    to: str,
    now: datetime,
    from_: Sequence[str] = OPEN,
    **values: Any,
) -> bool:
    """A conditional status change of a request: true for exactly one caller."""
    result = await session.execute(
        update(VerificationRequest)
        .where(VerificationRequest.id == id_, VerificationRequest.status.in_(from_))
        .values(status=to, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def due_for_expiry(
    session: AsyncSession, now: datetime, *, principal: Principal | None = None, limit: int = 200
) -> list[str]:
    query = select(VerificationRequest.id).where(
        VerificationRequest.status.in_(OPEN), VerificationRequest.expires_at <= now
    )
    if principal is not None:
        query = query.where(*_scope(principal))
    return list((await session.scalars(query.limit(limit))).all())


# -- verified users (read-only over ``verifications``) --------------------------------------------
def _verified_scope(principal: Principal) -> list[Any]:
    return [
        Verification.project_id == principal.project_id,
        Verification.environment == principal.environment,
        Verification.external_user_id.is_not(None),
        Verification.verified_at.is_not(None),
    ]


async def verified_user_ids(
    session: AsyncSession, principal: Principal, *, offset: int, limit: int
) -> tuple[list[str], int]:
    """External user ids with at least one verification that succeeded, most recent first."""
    conditions = _verified_scope(principal)
    grouped = (
        select(Verification.external_user_id)
        .where(*conditions)
        .group_by(Verification.external_user_id)
    )
    total = await session.scalar(select(func.count()).select_from(grouped.subquery()))
    rows = await session.scalars(
        grouped.order_by(func.max(Verification.verified_at).desc(), Verification.external_user_id)
        .offset(offset)
        .limit(limit)
    )
    return [str(r) for r in rows.all()], int(total or 0)


async def verified_of_users(
    session: AsyncSession, principal: Principal, external_user_ids: Sequence[str]
) -> dict[str, list[Verification]]:
    out: dict[str, list[Verification]] = {uid: [] for uid in external_user_ids}
    if not external_user_ids:
        return out
    rows = await session.scalars(
        select(Verification)
        .where(
            *_verified_scope(principal),
            Verification.external_user_id.in_(external_user_ids),
        )
        .order_by(Verification.verified_at.desc(), Verification.id.desc())
    )
    for row in rows:
        if row.external_user_id is not None:
            out[row.external_user_id].append(row)
    return out
