"""Every query on the agent tables (``agents``, ``agent_keys``, ``agent_challenges``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.database import rowcount
from vouch_server.models.agents import Agent, AgentChallenge, AgentKey
from vouch_server.tenancy.service import Principal


# -- agents -----------------------------------------------------------------------------------
async def get_agent(session: AsyncSession, principal: Principal, agent_id: str) -> Agent | None:
    """The agent with this id in the caller's project and environment, deleted or not."""
    return await session.scalar(
        select(Agent).where(
            Agent.project_id == principal.project_id,
            Agent.environment == principal.environment,
            Agent.agent_id == agent_id,
        )
    )


async def list_agents(
    session: AsyncSession, principal: Principal, *, after: str | None, limit: int
) -> Sequence[Agent]:
    query = select(Agent).where(
        Agent.project_id == principal.project_id,
        Agent.environment == principal.environment,
        Agent.deleted_at.is_(None),
    )
    if after is not None:
        query = query.where(Agent.agent_id > after)
    return (await session.scalars(query.order_by(Agent.agent_id).limit(limit))).all()


async def mark_agent_deleted(session: AsyncSession, agent: Agent, now: datetime) -> bool:
    result = await session.execute(
        update(Agent)
        .where(Agent.id == agent.id, Agent.deleted_at.is_(None))
        .values(deleted_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def touch_agent(session: AsyncSession, agent: Agent, now: datetime) -> None:
    await session.execute(
        update(Agent)
        .where(Agent.id == agent.id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )


# -- keys -------------------------------------------------------------------------------------
async def keys_of(session: AsyncSession, agent: Agent) -> Sequence[AgentKey]:
    return (
        await session.scalars(
            select(AgentKey)
            .where(AgentKey.agent_pk == agent.id)
            .order_by(AgentKey.created_at, AgentKey.id)
        )
    ).all()


async def active_keys_of(session: AsyncSession, agent_pk: str) -> Sequence[AgentKey]:
    return (
        await session.scalars(
            select(AgentKey)
            .where(AgentKey.agent_pk == agent_pk, AgentKey.revoked_at.is_(None))
            .order_by(AgentKey.created_at.desc(), AgentKey.id)
        )
    ).all()


async def key_by_kid(session: AsyncSession, principal: Principal, kid: str) -> AgentKey | None:
    return await session.scalar(
        select(AgentKey).where(
            AgentKey.project_id == principal.project_id,
            AgentKey.environment == principal.environment,
            AgentKey.kid == kid,
        )
    )


async def set_directory_signature(
    session: AsyncSession,
    key: AgentKey,
    *,
    params: str,
    signature: str,
    expires_at: datetime,
) -> bool:
    """Store the key's signature of the directory, if the key is still active."""
    result = await session.execute(
        update(AgentKey)
        .where(AgentKey.id == key.id, AgentKey.revoked_at.is_(None))
        .values(
            directory_signature_params=params,
            directory_signature=signature,
            directory_signature_expires_at=expires_at,
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def directory_keys(session: AsyncSession, now: datetime) -> Sequence[AgentKey]:
    """Live, active keys of live agents with an unexpired directory signature, oldest first."""
    return (
        await session.scalars(
            select(AgentKey)
            .join(Agent, Agent.id == AgentKey.agent_pk)
            .where(
                AgentKey.environment == "live",
                AgentKey.revoked_at.is_(None),
                AgentKey.directory_signature_expires_at > now,
                Agent.deleted_at.is_(None),
            )
            .order_by(AgentKey.created_at, AgentKey.id)
        )
    ).all()


async def revoke_keys(
    session: AsyncSession, agent: Agent, now: datetime, *, kid: str | None = None
) -> int:
    """Revoke the agent's active keys (or only ``kid``); returns how many were revoked."""
    query = update(AgentKey).where(AgentKey.agent_pk == agent.id, AgentKey.revoked_at.is_(None))
    if kid is not None:
        query = query.where(AgentKey.kid == kid)
    result = await session.execute(
        query.values(revoked_at=now).execution_options(synchronize_session=False)
    )
    return rowcount(result)


# -- challenges -------------------------------------------------------------------------------
async def get_challenge(
    session: AsyncSession, principal: Principal, challenge_id: str
) -> AgentChallenge | None:
    return await session.scalar(
        select(AgentChallenge).where(
            AgentChallenge.id == challenge_id,
            AgentChallenge.project_id == principal.project_id,
            AgentChallenge.environment == principal.environment,
        )
    )


async def get_challenge_by_nonce(
    session: AsyncSession, principal: Principal, nonce: str
) -> AgentChallenge | None:
    return await session.scalar(
        select(AgentChallenge).where(
            AgentChallenge.nonce == nonce,
            AgentChallenge.project_id == principal.project_id,
            AgentChallenge.environment == principal.environment,
        )
    )


async def claim(session: AsyncSession, challenge_id: str, now: datetime, **values: Any) -> bool:
    """The one-time transition pending → verified|failed: exactly one concurrent caller wins.

    The ``WHERE status = 'pending' AND expires_at > now`` is evaluated by the database under the
    row's write lock, so of any number of simultaneous proofs for one challenge only one update
    matches; the others match nothing and learn the challenge is used.
    """
    result = await session.execute(
        update(AgentChallenge)
        .where(
            AgentChallenge.id == challenge_id,
            AgentChallenge.status == "pending",
            AgentChallenge.expires_at > now,
        )
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def expire(session: AsyncSession, challenge_id: str, now: datetime) -> bool:
    result = await session.execute(
        update(AgentChallenge)
        .where(
            AgentChallenge.id == challenge_id,
            AgentChallenge.status == "pending",
            AgentChallenge.expires_at <= now,
        )
        .values(status="expired", failure_reason="challenge_expired", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def attach_proof(session: AsyncSession, challenge_id: str, proof_id: str) -> None:
    await session.execute(
        update(AgentChallenge)
        .where(AgentChallenge.id == challenge_id)
        .values(proof_id=proof_id)
        .execution_options(synchronize_session=False)
    )


async def mark_proof_revoked(session: AsyncSession, proof_id: str, at: datetime) -> None:
    await session.execute(
        update(AgentChallenge)
        .where(AgentChallenge.proof_id == proof_id)
        .values(proof_revoked_at=at, updated_at=at)
        .execution_options(synchronize_session=False)
    )
