"""``/api/v1/verification-requests`` and ``/api/v1/verifications/users`` — proof.holdings'
multi-asset requests and its verified-users view.

This router is included before control's, so ``/api/v1/verifications/users`` is matched here
and never read as the verification id ``users``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query

from vouch_server.deps import ApiCaller, RuntimeDep, Session, TestCaller
from vouch_server.kit.clock import isoformat_ms
from vouch_server.requests import service
from vouch_server.requests.schemas import CreateRequest, ListStatus, StartAsset

router = APIRouter(tags=["verification-requests"])

REQUESTS = "/api/v1/verification-requests"
USERS = "/api/v1/verifications/users"


def _pagination(page: int, limit: int, total: int) -> dict[str, Any]:
    has_more = page * limit < total
    body: dict[str, Any] = {
        "page": page,
        "limit": limit,
        "total": total,
        "total_pages": (total + limit - 1) // limit,
        "hasMore": has_more,
    }
    if has_more:
        body["nextPage"] = page + 1
    return body


@router.post(REQUESTS, status_code=201)
async def create_request(
    body: CreateRequest, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    request = await service.create(session, runtime, caller, body=body)
    return service.render_request(runtime, await service.view(session, runtime, request))


@router.get(REQUESTS)
async def list_requests(
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
    page: Annotated[int, Query(gt=0)] = 1,
    limit: Annotated[int, Query(gt=0, le=100)] = 20,
    status: ListStatus | None = None,
    reference_id: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    cursor: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> dict[str, Any]:
    listed, assets = await service.list_(
        session,
        runtime,
        caller,
        page=page,
        limit=limit,
        cursor=cursor,
        status=status.value if status else None,
        reference_id=reference_id,
    )
    pagination = listed.pagination()
    pagination["total_pages"] = (listed.total + limit - 1) // limit
    return {
        "data": [service.render_summary(r, assets[r.id]) for r in listed.rows],
        "pagination": pagination,
    }


@router.get(REQUESTS + "/by-reference/{reference_id}")
async def get_request_by_reference(
    reference_id: Annotated[str, Path(min_length=1, max_length=255)],
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
) -> dict[str, Any]:
    current = await service.get_by_reference(session, runtime, caller, reference_id)
    return service.render_request(runtime, current)


@router.get(REQUESTS + "/{request_id}")
async def get_request(
    request_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return service.render_request(runtime, await service.get(session, runtime, caller, request_id))


@router.delete(REQUESTS + "/{request_id}")
async def cancel_request(
    request_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    request = await service.cancel(session, runtime, caller, request_id)
    return {
        "id": request.id,
        "success": True,
        "status": request.status,
        "message": "Verification request cancelled",
        "cancelled_at": isoformat_ms(request.cancelled_at or request.updated_at),
    }


@router.get(REQUESTS + "/{request_id}/proofs")
async def get_request_proofs(
    request_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return service.render_proofs(await service.get(session, runtime, caller, request_id))


@router.post(REQUESTS + "/{request_id}/assets/{index}/test-verify")
async def test_verify_asset(
    request_id: str,
    index: Annotated[int, Path(ge=0, lt=10)],
    session: Session,
    runtime: RuntimeDep,
    caller: TestCaller,
    body: Annotated[StartAsset | None, Body()] = None,
) -> dict[str, Any]:
    """Test mode: complete one asset, as if the person had (an asset the person identifies takes
    ``identifier`` from the body). Fixed assets can equally be completed through
    ``POST /api/v1/verifications/{verification_id}/test-verify``."""
    given = body or StartAsset()
    current = await service.test_verify_asset(
        session,
        runtime,
        caller,
        request_id,
        index,
        identifier=given.identifier,
        channel=given.channel.value if given.channel else None,
    )
    return service.render_request(runtime, current)


@router.get(USERS)
async def list_verified_users(
    session: Session,
    caller: ApiCaller,
    page: Annotated[int, Query(gt=0)] = 1,
    limit: Annotated[int, Query(gt=0, le=100)] = 20,
) -> dict[str, Any]:
    users, total = await service.list_verified_users(session, caller, page=page, limit=limit)
    return {"data": users, "pagination": _pagination(page, limit, total)}


@router.get(USERS + "/{external_user_id}")
async def get_verified_user(
    external_user_id: Annotated[str, Path(min_length=1, max_length=255)],
    session: Session,
    caller: ApiCaller,
) -> dict[str, Any]:
    return await service.get_verified_user(session, caller, external_user_id)
