"""``/api/v1/webhook-endpoints`` (our registration API) and ``/api/v1/webhook-deliveries``
(proof.holdings' delivery log)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from vouch_server.deps import ApiCaller, RuntimeDep, Session
from vouch_server.kit.clock import iso_or_none
from vouch_server.kit.paging import PageNumber
from vouch_server.openapi import documented
from vouch_server.webhooks import service
from vouch_server.webhooks.responses import (
    WebhookCallbackSecretOut,
    WebhookDeliveryDetailOut,
    WebhookDeliveryListOut,
    WebhookDeliveryRetriedOut,
    WebhookDeliveryStatsOut,
    WebhookEndpointListOut,
    WebhookEndpointOut,
    WebhookEndpointRotatedOut,
    WebhookEndpointWithSecretOut,
)
from vouch_server.webhooks.service import render_delivery, render_endpoint

router = APIRouter(prefix="/api/v1", tags=["webhooks"])


class CreateEndpoint(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {"url": "https://example.com/webhooks/vouch", "events": ["verification.completed"]}
            ]
        },
    )
    url: str = Field(min_length=1, max_length=2048)
    events: list[str] = Field(default_factory=list, max_length=50)
    description: str | None = Field(default=None, max_length=255)
    enabled: bool = True


class UpdateEndpoint(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: list[str] | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=255)
    enabled: bool | None = None


@router.post("/webhook-endpoints", **documented(WebhookEndpointWithSecretOut, 201))
async def create_endpoint(
    body: CreateEndpoint, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    row, secret = await service.create_endpoint(
        session,
        runtime,
        caller,
        url=body.url,
        events=body.events,
        description=body.description,
        enabled=body.enabled,
    )
    return render_endpoint(row, secret)


@router.get("/webhook-endpoints", **documented(WebhookEndpointListOut))
async def list_endpoints(session: Session, caller: ApiCaller) -> dict[str, Any]:
    rows = await service.list_endpoints(session, caller)
    return {"data": [render_endpoint(r) for r in rows]}


@router.get("/webhook-endpoints/{endpoint_id}", **documented(WebhookEndpointOut))
async def get_endpoint(endpoint_id: str, session: Session, caller: ApiCaller) -> dict[str, Any]:
    return render_endpoint(await service.get_endpoint(session, caller, endpoint_id))


@router.patch("/webhook-endpoints/{endpoint_id}", **documented(WebhookEndpointOut))
async def update_endpoint(
    endpoint_id: str,
    body: UpdateEndpoint,
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    row = await service.update_endpoint(session, runtime, caller, endpoint_id, changes)
    return render_endpoint(row)


@router.delete("/webhook-endpoints/{endpoint_id}", status_code=204)
async def delete_endpoint(endpoint_id: str, session: Session, caller: ApiCaller) -> Response:
    await service.delete_endpoint(session, caller, endpoint_id)
    return Response(status_code=204)


@router.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret", **documented(WebhookEndpointRotatedOut)
)
async def rotate_endpoint_secret(
    endpoint_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    row = await service.get_endpoint(session, caller, endpoint_id)
    secret = await service.rotate_secret(session, runtime, row)
    body = render_endpoint(row, secret)
    body["previous_secret_expires_at"] = iso_or_none(row.previous_secret_expires_at)
    return body


@router.post("/webhook-endpoints/callback-secret/rotate", **documented(WebhookCallbackSecretOut))
async def rotate_callback_secret(
    session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    """The secret that signs deliveries to verifications' own ``callback_url`` (shown once)."""
    row, secret = await service.callback_endpoint(
        session, runtime, caller.project_id, caller.environment
    )
    if secret is None:
        secret = await service.rotate_secret(session, runtime, row)
    return {
        "secret": secret,
        "previous_secret_expires_at": iso_or_none(row.previous_secret_expires_at),
    }


DeliveryStatus = Literal["pending", "delivered", "failed"]


@router.get("/webhook-deliveries", **documented(WebhookDeliveryListOut))
async def list_deliveries(
    session: Session,
    caller: ApiCaller,
    page: PageNumber = 1,
    limit: Annotated[int, Query(gt=0, le=100)] = 20,
    status: DeliveryStatus | None = None,
    event_type: Annotated[str | None, Query(max_length=64)] = None,
    verification_id: Annotated[str | None, Query(max_length=64)] = None,
    verification_request_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    rows, total = await service.list_deliveries(
        session,
        caller,
        page=page,
        limit=limit,
        status=status,
        event_type=event_type,
        verification_id=verification_id or verification_request_id,
    )
    has_more = page * limit < total
    pagination: dict[str, Any] = {"hasMore": has_more, "total": total, "page": page, "limit": limit}
    if has_more and rows:
        pagination["nextCursor"] = rows[-1].id
    return {"data": [render_delivery(r) for r in rows], "pagination": pagination}


@router.get("/webhook-deliveries/stats", **documented(WebhookDeliveryStatsOut))
async def delivery_stats(session: Session, caller: ApiCaller) -> dict[str, Any]:
    return await service.stats(session, caller)


@router.get("/webhook-deliveries/{delivery_id}", **documented(WebhookDeliveryDetailOut))
async def get_delivery(delivery_id: str, session: Session, caller: ApiCaller) -> dict[str, Any]:
    row, event = await service.get_delivery(session, caller, delivery_id)
    return render_delivery(row, detail=True, event=event)


@router.post("/webhook-deliveries/{delivery_id}/retry", **documented(WebhookDeliveryRetriedOut))
async def retry_delivery(delivery_id: str, session: Session, caller: ApiCaller) -> dict[str, Any]:
    row = await service.retry(session, caller, delivery_id)
    return {"success": True, "delivery": render_delivery(row)}
