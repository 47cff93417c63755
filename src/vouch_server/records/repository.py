"""Every query on the records tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.database import rowcount
from vouch_server.models.records import (
    Record,
    RecordLabel,
    RecordProof,
    RecordTransition,
    RecordVersion,
)
from vouch_server.tenancy.service import Principal


def _scope(principal: Principal, resource: str) -> list[ColumnElement[bool]]:
    return [
        Record.project_id == principal.project_id,
        Record.environment == principal.environment,
        Record.resource == resource,
    ]


async def find(
    session: AsyncSession, principal: Principal, resource: str, id_or_handle: str
) -> Record | None:
    """By luid (``$…``) or by handle, within the caller's project, environment and resource."""
    column = Record.luid if id_or_handle.startswith("$") else Record.handle
    return await session.scalar(
        select(Record).where(*_scope(principal, resource), column == id_or_handle)
    )


async def find_by_public(session: AsyncSession, principal: Principal, public: str) -> Record | None:
    return await session.scalar(
        select(Record).where(*_scope(principal, "signers"), Record.public == public)
    )


async def lock(session: AsyncSession, record_id: str) -> bool:
    """Take the record's row lock for the rest of the transaction.

    An UPDATE is the one locking statement both engines share: PostgreSQL locks the row until
    commit (a concurrent writer waits, then sees what this one committed), SQLite takes its
    database write lock (writers queue on the busy timeout). Every writer of a record's status,
    labels, data or proofs takes this lock first, so their read-decide-write steps never overlap.
    """
    result = await session.execute(
        update(Record)
        .where(Record.id == record_id)
        .values(proof_count=Record.proof_count)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def advance_version(
    session: AsyncSession,
    record_id: str,
    *,
    parent: str,
    new_hash: str,
    data: dict[str, Any],
    handle: str | None,
    public: str | None,
    now: datetime,
) -> bool:
    """Replace the record's data if, and only if, its hash is still ``parent`` (and lock it)."""
    result = await session.execute(
        update(Record)
        .where(Record.id == record_id, Record.hash == parent)
        .values(
            hash=new_hash,
            data=data,
            handle=handle,
            public=public,
            version=Record.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def scope_records(
    session: AsyncSession, principal: Principal, resources: Sequence[str]
) -> Sequence[Record]:
    return (
        await session.scalars(
            select(Record).where(
                Record.project_id == principal.project_id,
                Record.environment == principal.environment,
                Record.resource.in_(resources),
            )
        )
    ).all()


async def proofs_since(
    session: AsyncSession, record_id: str, record_hash: str, after_seq: int
) -> Sequence[RecordProof]:
    return (
        await session.scalars(
            select(RecordProof)
            .where(
                RecordProof.record_id == record_id,
                RecordProof.hash == record_hash,
                RecordProof.seq > after_seq,
            )
            .order_by(RecordProof.seq)
        )
    ).all()


async def has_proof(session: AsyncSession, record_id: str, public: str, digest: str) -> bool:
    found = await session.scalar(
        select(RecordProof.id).where(
            RecordProof.record_id == record_id,
            RecordProof.public == public,
            RecordProof.digest == digest,
        )
    )
    return found is not None


async def current_proofs(
    session: AsyncSession, records: Sequence[Record]
) -> dict[str, list[RecordProof]]:
    """Each record's proofs over its current hash, in order."""
    out: dict[str, list[RecordProof]] = {r.id: [] for r in records}
    if not records:
        return out
    rows = await session.scalars(
        select(RecordProof)
        .join(Record, and_(Record.id == RecordProof.record_id, Record.hash == RecordProof.hash))
        .where(RecordProof.record_id.in_(list(out)))
        .order_by(RecordProof.record_id, RecordProof.seq)
    )
    for row in rows:
        out[row.record_id].append(row)
    return out


async def latest_transitions(
    session: AsyncSession, records: Sequence[Record]
) -> dict[str, RecordTransition]:
    if not records:
        return {}
    rows = await session.scalars(
        select(RecordTransition)
        .where(RecordTransition.record_id.in_([r.id for r in records]))
        .order_by(RecordTransition.issued_at, RecordTransition.id)
    )
    return {row.record_id: row for row in rows}


async def versions(session: AsyncSession, record_id: str) -> Sequence[RecordVersion]:
    return (
        await session.scalars(
            select(RecordVersion)
            .where(RecordVersion.record_id == record_id)
            .order_by(RecordVersion.version)
        )
    ).all()


async def all_proofs(session: AsyncSession, record_id: str) -> Sequence[RecordProof]:
    return (
        await session.scalars(
            select(RecordProof).where(RecordProof.record_id == record_id).order_by(RecordProof.seq)
        )
    ).all()


async def replace_labels(session: AsyncSession, record_id: str, labels: Sequence[str]) -> None:
    await session.execute(delete(RecordLabel).where(RecordLabel.record_id == record_id))
    session.add_all(RecordLabel(record_id=record_id, label=label) for label in labels)


def _json_text(session: AsyncSession, path: Sequence[str]) -> ColumnElement[Any]:
    """``data`` at ``path`` as text, the same on both engines (``"5"``, ``"true"``, ``"abc"``)."""
    if session.get_bind().dialect.name == "postgresql":
        text: ColumnElement[Any] = Record.data[tuple(path)].as_string()
        return text
    json_path = "$" + "".join(f'."{p}"' for p in path)
    kind = func.json_type(Record.data, json_path)
    return case(
        (kind == "true", "true"),
        (kind == "false", "false"),
        else_=cast(func.json_extract(Record.data, json_path), String),
    )


@dataclass(frozen=True)
class ListFilter:
    statuses: Sequence[str] = ()
    labels: Sequence[str] = ()
    data: Sequence[tuple[Sequence[str], Sequence[str]]] = ()  # (path, accepted values)


async def list_records(
    session: AsyncSession,
    principal: Principal,
    resource: str,
    where: ListFilter,
    *,
    offset: int,
    limit: int,
) -> Sequence[Record]:
    conditions = _scope(principal, resource)
    if where.statuses:
        conditions.append(Record.status.in_(list(where.statuses)))
    for label in where.labels:
        conditions.append(
            exists().where(RecordLabel.record_id == Record.id, RecordLabel.label == label)
        )
    for path, accepted in where.data:
        conditions.append(_json_text(session, path).in_(list(accepted)))
    return (
        await session.scalars(
            select(Record)
            .where(*conditions)
            .order_by(Record.created_at, Record.id)
            .offset(offset)
            .limit(limit)
        )
    ).all()


async def mark_transition_revoked(
    session: AsyncSession, transition_id: str, at: datetime, reason: str
) -> None:
    await session.execute(
        update(RecordTransition)
        .where(RecordTransition.id == transition_id)
        .values(revoked_at=at, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
