"""``/api/v1/verifications`` — proof.holdings' verification endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from vouch.control import service
from vouch.control.catalog import AssetType, Channel, Status
from vouch.control.schemas import CreateVerification, Submission, render_verification
from vouch.deps import ApiCaller, RuntimeDep, Session, TestCaller

router = APIRouter(prefix="/api/v1/verifications", tags=["verifications"])


@router.post("", status_code=201)
async def create_verification(
    body: CreateVerification, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    verification, challenge = await service.create(session, runtime, caller, body=body)
    response = render_verification(verification)
    response["challenge"] = challenge
    # The seed's create example carries the deep link at the top level as well.
    if "deep_link" in challenge:
        response["deep_link"] = challenge["deep_link"]
    return response


@router.get("")
async def list_verifications(
    session: Session,
    caller: ApiCaller,
    page: Annotated[int, Query(gt=0)] = 1,
    limit: Annotated[int, Query(gt=0, le=100)] = 20,
    status: Status | None = None,
    type: AssetType | None = None,
    channel: Channel | None = None,
    external_user_id: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, Any]:
    rows, total = await service.list_(
        session,
        caller,
        page=page,
        limit=limit,
        filters={
            "status": status.value if status else None,
            "type": type.value if type else None,
            "channel": channel.value if channel else None,
            "external_user_id": external_user_id,
        },
    )
    has_more = page * limit < total
    pagination: dict[str, Any] = {"hasMore": has_more, "total": total, "page": page, "limit": limit}
    if has_more and rows:
        pagination["nextCursor"] = rows[-1].id
        pagination["nextPage"] = page + 1
    return {"data": [render_verification(v) for v in rows], "pagination": pagination}


@router.get("/{verification_id}")
async def get_verification(
    verification_id: str, session: Session, caller: ApiCaller
) -> dict[str, Any]:
    return render_verification(await service.get(session, caller, verification_id))


@router.post("/{verification_id}/submit")
async def submit_verification(
    verification_id: str,
    body: Annotated[Submission, Body()],
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
) -> dict[str, Any]:
    payload = body.model_dump(exclude_none=True)
    verification = await service.submit(session, runtime, caller, verification_id, payload)
    return render_verification(verification)


@router.post("/{verification_id}/test-verify")
async def test_verify(
    verification_id: str, session: Session, runtime: RuntimeDep, caller: TestCaller
) -> dict[str, Any]:
    verification = await service.test_verify(session, runtime, caller, verification_id)
    return render_verification(verification)
