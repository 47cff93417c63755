"""``/api/v1/verification-requests`` and ``/api/v1/verifications/users`` — proof.holdings'
multi-asset requests and its verified-users view.

This router is included before control's, so ``/api/v1/verifications/users`` is matched here
and never read as the verification id ``users``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response

from vouch_server.deps import ApiCaller, RuntimeDep, Session, TestCaller, client_ip
from vouch_server.errors import NotFound, RateLimited, Unauthorized, UnsupportedMediaType
from vouch_server.kit.clock import isoformat_ms
from vouch_server.kit.ids import is_object_id
from vouch_server.kit.paging import PageNumber
from vouch_server.models import VerificationRequest
from vouch_server.openapi import documented
from vouch_server.requests import repository, reuse, service
from vouch_server.requests.responses import (
    VerificationRequestCancelledOut,
    VerificationRequestListOut,
    VerificationRequestOut,
    VerificationRequestProofsOut,
    VerifiedUserListOut,
    VerifiedUserOut,
)
from vouch_server.requests.schemas import AutoVerify, CreateRequest, ListStatus, StartAsset
from vouch_server.web import person

router = APIRouter(tags=["verification-requests"])

REQUESTS = "/api/v1/verification-requests"
USERS = "/api/v1/verifications/users"
# The hosted page's own reads and Smart Reuse, for the person's browser (no API key: the request
# id is the capability and the person is the hosted pages' signed cookie). Not part of the
# integrator's API, so outside the OpenAPI document and without MCP tools: an agent holds no
# person cookie, and a reuse must never happen on an integrator's word.
PUBLIC_REQUEST = "/api/v1/verify/request/{request_id}"


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


@router.post(REQUESTS, **documented(VerificationRequestOut, 201))
async def create_request(
    body: CreateRequest, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    request = await service.create(session, runtime, caller, body=body)
    return service.render_request(runtime, await service.view(session, runtime, request))


@router.get(REQUESTS, **documented(VerificationRequestListOut))
async def list_requests(
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
    page: PageNumber = 1,
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


@router.get(REQUESTS + "/by-reference/{reference_id}", **documented(VerificationRequestOut))
async def get_request_by_reference(
    reference_id: Annotated[str, Path(min_length=1, max_length=255)],
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
) -> dict[str, Any]:
    current = await service.get_by_reference(session, runtime, caller, reference_id)
    return service.render_request(runtime, current)


@router.get(REQUESTS + "/{request_id}", **documented(VerificationRequestOut))
async def get_request(
    request_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return service.render_request(runtime, await service.get(session, runtime, caller, request_id))


@router.delete(REQUESTS + "/{request_id}", **documented(VerificationRequestCancelledOut))
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


@router.get(REQUESTS + "/{request_id}/proofs", **documented(VerificationRequestProofsOut))
async def get_request_proofs(
    request_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return service.render_proofs(await service.get(session, runtime, caller, request_id))


@router.post(
    REQUESTS + "/{request_id}/assets/{index}/test-verify", **documented(VerificationRequestOut)
)
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


@router.get(USERS, **documented(VerifiedUserListOut))
async def list_verified_users(
    session: Session,
    caller: ApiCaller,
    page: PageNumber = 1,
    limit: Annotated[int, Query(gt=0, le=100)] = 20,
) -> dict[str, Any]:
    users, total = await service.list_verified_users(session, caller, page=page, limit=limit)
    return {"data": users, "pagination": _pagination(page, limit, total)}


@router.get(USERS + "/{external_user_id}", **documented(VerifiedUserOut))
async def get_verified_user(
    external_user_id: Annotated[str, Path(min_length=1, max_length=255, examples=["cust_42"])],
    session: Session,
    caller: ApiCaller,
) -> dict[str, Any]:
    return await service.get_verified_user(session, caller, external_user_id)


# -- Smart Reuse (the person's browser) ------------------------------------------------------------
async def _public_request(
    request: Request, session: Session, runtime: RuntimeDep, request_id: str
) -> VerificationRequest:
    state = await runtime.limiter.hit(
        runtime.settings.approval_page_rate_limit, "verify-page", client_ip(request)
    )
    if not state.allowed:
        raise RateLimited(state.retry_after)
    row = await session.get(VerificationRequest, request_id) if is_object_id(request_id) else None
    if row is None:
        raise NotFound("Verification request not found")
    return row


@router.get(PUBLIC_REQUEST + "/proofs", include_in_schema=False)
async def reusable_proofs(
    request_id: str, request: Request, session: Session, runtime: RuntimeDep
) -> dict[str, Any]:
    """Which of the request's assets the person (this browser) could complete from a proof they
    already hold; anonymous → no assets."""
    row = await _public_request(request, session, runtime, request_id)
    current = await service.view(session, runtime, row)
    ids = person.completed_ids(runtime, request)
    judged = await reuse.candidates(session, current.request, ids) if ids else []
    open_ = current.request.status in service.OPEN
    assets = []
    for c in judged:
        original = c.original
        first = reuse.first_verified_at(original) if original is not None else None
        assets.append(
            {
                "asset_index": c.asset.position,
                "type": c.asset.type,
                "identifier": (
                    service.mask_identifier(original.type, original.identifier)
                    if original is not None
                    else None
                ),
                "verified_at": isoformat_ms(first) if first is not None else None,
                "channel": original.channel if original is not None else None,
                "can_reuse": c.can_reuse and open_,
                "reason": c.reason if open_ else "request_closed",
            }
        )
    return {
        "request_id": row.id,
        "user_logged_in": bool(ids),
        "assets": assets,
        "reusable_count": sum(a["can_reuse"] for a in assets),
        "total_required": sum(a.required for a in current.assets),
    }


@router.post(PUBLIC_REQUEST + "/assets/{index}/auto-verify", include_in_schema=False)
async def auto_verify(
    request_id: str,
    index: Annotated[int, Path(ge=0, lt=10)],
    body: AutoVerify,
    request: Request,
    response: Response,
    session: Session,
    runtime: RuntimeDep,
) -> dict[str, Any]:
    """Complete one asset from a proof the person holds (Smart Reuse). JSON only, so that no
    cross-site form can post it; the person cookie is SameSite=Lax besides."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise UnsupportedMediaType("Send the body as application/json")
    row = await _public_request(request, session, runtime, request_id)
    ids = person.completed_ids(runtime, request)
    if not ids:
        raise Unauthorized("No verified person: complete a verification on this device first")
    await service.view(session, runtime, row)  # an overdue request expires first
    asset, verification, original = await reuse.reuse_asset(
        session, runtime, row, index, ids, identifier=body.identifier
    )
    person.remember(runtime, request, response, [verification.id])
    await session.refresh(row)
    assets = (await repository.assets_of(session, [row.id]))[row.id]
    counts = service.progress(assets)
    first = reuse.first_verified_at(original)
    return {
        "status": "verified",
        "asset_index": asset.position,
        "verified_at": isoformat_ms(verification.verified_at or verification.updated_at),
        "method": "reused_proof",
        "original_verified_at": isoformat_ms(first) if first is not None else None,
        "request_status": row.status,
        "progress": {
            "verified": counts["verified"],
            "total": counts["total"],
            "required": counts["required"],
        },
    }
