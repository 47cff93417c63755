"""``/api/v1/sessions`` — proof.holdings' phone-first sessions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from vouch_server.deps import ApiCaller, RuntimeDep, Session
from vouch_server.openapi import documented
from vouch_server.sessions import inbound as _inbound  # noqa: F401  (registers the inbound handlers)
from vouch_server.sessions import service
from vouch_server.sessions.responses import SessionCreatedOut, SessionOut
from vouch_server.sessions.schemas import CreateSession

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


@router.post("", **documented(SessionCreatedOut, 201))
async def create_session(
    body: CreateSession, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    row, setup = await service.create(session, runtime, caller, body=body)
    return service.render_created(row, setup)


@router.get("/{session_id}", **documented(SessionOut))
async def get_session(
    session_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return service.render(*await service.get(session, runtime, caller, session_id))
