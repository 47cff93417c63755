"""Every query on ``verification_groups`` and ``verification_group_members``, and the one read of
control's ``verifications`` this family needs to stay deadlock-free (``lock_pending_skipping``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.database import rowcount
from vouch_server.models import Verification, VerificationGroup, VerificationGroupMember
from vouch_server.tenancy.service import Principal


async def get_scoped(
    session: AsyncSession, principal: Principal, id_: str
) -> VerificationGroup | None:
    return await session.scalar(
        select(VerificationGroup).where(
            VerificationGroup.id == id_,
            VerificationGroup.project_id == principal.project_id,
            VerificationGroup.environment == principal.environment,
        )
    )


async def lock(session: AsyncSession, id_: str) -> VerificationGroup | None:
    """The group row, locked until this transaction ends (``SELECT … FOR UPDATE`` on
    PostgreSQL; SQLite serialises writers already). Whoever decides the group holds it, so two
    channels completing at once in two transactions cannot both find the group undecided."""
    return await session.scalar(
        select(VerificationGroup)
        .where(VerificationGroup.id == id_)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def members(session: AsyncSession, group_id: str) -> list[VerificationGroupMember]:
    rows = await session.scalars(
        select(VerificationGroupMember)
        .where(VerificationGroupMember.group_id == group_id)
        .order_by(VerificationGroupMember.position)
    )
    return list(rows.all())


async def membership(session: AsyncSession, verification_id: str) -> VerificationGroupMember | None:
    return await session.get(VerificationGroupMember, verification_id)


async def decide(
    session: AsyncSession,
    id_: str,
    *,
    now: datetime,
    winner: str | None = None,
    channel: str | None = None,
    verified_at: datetime | None = None,
) -> bool:
    """A pending group becomes verified (with its winner) or, without one, expired: a
    conditional UPDATE, true for exactly one caller."""
    values: dict[str, Any] = {"status": "expired", "updated_at": now}
    if winner is not None:
        values.update(
            status="verified",
            winning_verification_id=winner,
            winning_channel=channel,
            verified_at=verified_at,
        )
    result = await session.execute(
        update(VerificationGroup)
        .where(VerificationGroup.id == id_, VerificationGroup.status == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def lock_pending_skipping(session: AsyncSession, ids: Sequence[str]) -> list[str]:
    """Those of ``ids`` still pending whose rows no other transaction holds, locked for this one
    (``FOR UPDATE SKIP LOCKED``; plain reads on SQLite, whose writers are serialised).

    The winner ends the other channels' verifications. A channel being completed at this very
    moment holds its verification row (control's conditional UPDATE) and is waiting for the
    group row the winner holds: waiting for its row here would deadlock, so it is skipped — it
    finds the group decided and rolls back (``service.on_verification_status``)."""
    if not ids:
        return []
    rows = await session.scalars(
        select(Verification.id)
        .where(Verification.id.in_(ids), Verification.status == "pending")
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())
