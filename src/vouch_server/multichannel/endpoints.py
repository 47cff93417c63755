"""``/api/v1/verifications/multi-channel`` — proof.holdings' multi-channel phone verification.

Included before control's router, so ``/api/v1/verifications/multi-channel`` is matched here and
never read as the verification id ``multi-channel``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from vouch_server.deps import ApiCaller, RuntimeDep, Session
from vouch_server.multichannel import service
from vouch_server.multichannel.responses import GroupCreatedOut, GroupStatusOut
from vouch_server.multichannel.schemas import CreateGroup
from vouch_server.openapi import documented

router = APIRouter(prefix="/api/v1/verifications/multi-channel", tags=["verifications"])


@router.post("", **documented(GroupCreatedOut, 201))
async def create_group(
    body: CreateGroup, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    group, channels = await service.create(session, runtime, caller, body=body)
    return service.render_created(group, channels)


@router.get("/{group_id}/status", **documented(GroupStatusOut))
async def get_group_status(
    group_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return service.render_status(await service.get(session, runtime, caller, group_id))
