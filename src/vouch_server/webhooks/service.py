"""Webhook endpoints, the outbox (``emit``) and the delivery log.

``emit`` writes the event and one delivery row per destination in the caller's transaction: a
rolled-back change sends nothing, a committed one is delivered even if the process dies right
after (the delivery worker finds the rows). Secrets are sealed at rest (AES-256-GCM, HKDF purpose
``webhook-secrets``, the endpoint id as associated data) and shown once: at creation and rotation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.database import after_commit
from vouch_server.errors import BadRequest, NotFound, ValidationFailed
from vouch_server.kit.clock import iso_or_none, isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.ids import is_object_id, new_object_id
from vouch_server.kit.secretbox import SecretBox, derive_key
from vouch_server.kit.urls import UnsafeUrl, check_callback_url
from vouch_server.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from vouch_server.runtime import Runtime
from vouch_server.tenancy.service import Principal
from vouch_server.webhooks import delivery as delivery_worker
from vouch_server.webhooks.signing import generate_secret

EVENT_TYPES = (
    "verification.completed",
    "verification.failed",
    "verification.expired",
    "proof.revoked",
    "authorization.approved",
    "authorization.denied",
    "authorization.revoked",
    "confirmation.approved",
    "confirmation.denied",
    "confirmation.expired",
    "verification_request.completed",
    "verification_request.partial",
    "verification_request.expired",
)


def secret_box(runtime: Runtime) -> SecretBox:
    box = runtime.extras.get("webhook_box")
    if not isinstance(box, SecretBox):
        box = SecretBox(derive_key(runtime.settings.master_key, "webhook-secrets"))
        runtime.extras["webhook_box"] = box
    return box


def retry_schedule(runtime: Runtime) -> list[float]:
    return [float(x) for x in runtime.settings.webhook_retry_schedule.split(",") if x.strip()]


def _check_url(runtime: Runtime, url: str, field: str = "url") -> None:
    try:
        check_callback_url(url, allow_private=runtime.settings.allow_private_targets)
    except UnsafeUrl as exc:
        raise ValidationFailed(
            details=[{"field": field, "message": str(exc), "code": "invalid_string"}]
        ) from exc


def _check_events(events: Sequence[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(
            details=[
                {
                    "field": "events",
                    "message": f"Unknown event type(s): {', '.join(unknown)}",
                    "code": "invalid_enum_value",
                }
            ]
        )
    return list(dict.fromkeys(events))


# -- endpoints -------------------------------------------------------------------------------------
def render_endpoint(row: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "url": row.url,
        "description": row.description,
        "events": row.events,
        "enabled": row.enabled,
        "disabled_reason": row.disabled_reason,
        "test_mode": row.environment == "test",
        "created_at": isoformat_ms(row.created_at),
        "updated_at": isoformat_ms(row.updated_at),
    }
    if secret is not None:
        body["secret"] = secret
    return body


async def create_endpoint(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    *,
    url: str,
    events: Sequence[str],
    description: str | None,
    enabled: bool,
) -> tuple[WebhookEndpoint, str]:
    _check_url(runtime, url)
    now = truncate_ms(utcnow())
    secret = generate_secret()
    row = WebhookEndpoint(
        id=new_object_id(),
        project_id=principal.project_id,
        environment=principal.environment,
        kind="endpoint",
        url=url,
        description=description,
        events=_check_events(events),
        enabled=enabled,
        created_at=now,
        updated_at=now,
    )
    row.secret_sealed = secret_box(runtime).seal(secret.encode(), row.id.encode())
    session.add(row)
    await session.flush()
    return row, secret


async def get_endpoint(session: AsyncSession, principal: Principal, id_: str) -> WebhookEndpoint:
    row = await session.get(WebhookEndpoint, id_) if is_object_id(id_) else None
    if (
        row is None
        or row.kind != "endpoint"
        or row.project_id != principal.project_id
        or row.environment != principal.environment
    ):
        raise NotFound("Webhook endpoint not found")
    return row


async def list_endpoints(session: AsyncSession, principal: Principal) -> Sequence[WebhookEndpoint]:
    rows = await session.scalars(
        select(WebhookEndpoint)
        .where(
            WebhookEndpoint.project_id == principal.project_id,
            WebhookEndpoint.environment == principal.environment,
            WebhookEndpoint.kind == "endpoint",
        )
        .order_by(WebhookEndpoint.created_at)
    )
    return rows.all()


async def update_endpoint(
    session: AsyncSession, runtime: Runtime, principal: Principal, id_: str, changes: dict[str, Any]
) -> WebhookEndpoint:
    row = await get_endpoint(session, principal, id_)
    if "url" in changes and changes["url"] is not None:
        _check_url(runtime, changes["url"])
        row.url = changes["url"]
    if "events" in changes and changes["events"] is not None:
        row.events = _check_events(changes["events"])
    if "description" in changes:
        row.description = changes["description"]
    if "enabled" in changes and changes["enabled"] is not None:
        row.enabled = bool(changes["enabled"])
        if row.enabled:
            row.disabled_reason = None
    row.updated_at = truncate_ms(utcnow())
    await session.flush()
    return row


async def delete_endpoint(session: AsyncSession, principal: Principal, id_: str) -> None:
    row = await get_endpoint(session, principal, id_)
    await session.delete(row)
    await session.flush()


async def rotate_secret(session: AsyncSession, runtime: Runtime, row: WebhookEndpoint) -> str:
    """New secret now; the previous one keeps signing alongside for the overlap window."""
    box = secret_box(runtime)
    now = truncate_ms(utcnow())
    secret = generate_secret()
    row.previous_secret_sealed = row.secret_sealed
    row.previous_secret_expires_at = now + timedelta(
        seconds=runtime.settings.webhook_secret_overlap_seconds
    )
    row.secret_sealed = box.seal(secret.encode(), row.id.encode())
    row.updated_at = now
    await session.flush()
    return secret


async def callback_endpoint(
    session: AsyncSession, runtime: Runtime, project_id: str, environment: str
) -> tuple[WebhookEndpoint, str | None]:
    """The project's signing identity for ``callback_url`` deliveries (created on first use)."""
    row = await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.project_id == project_id,
            WebhookEndpoint.environment == environment,
            WebhookEndpoint.kind == "callback",
        )
    )
    if row is not None:
        return row, None
    now = truncate_ms(utcnow())
    secret = generate_secret()
    row = WebhookEndpoint(
        id=new_object_id(),
        project_id=project_id,
        environment=environment,
        kind="callback",
        url="",
        events=[],
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    row.secret_sealed = secret_box(runtime).seal(secret.encode(), row.id.encode())
    session.add(row)
    await session.flush()
    return row, secret


def signing_secrets(runtime: Runtime, row: WebhookEndpoint) -> list[str]:
    box = secret_box(runtime)
    out = [box.open(row.secret_sealed, row.id.encode()).decode()]
    if (
        row.previous_secret_sealed
        and row.previous_secret_expires_at is not None
        and row.previous_secret_expires_at > utcnow()
    ):
        out.append(box.open(row.previous_secret_sealed, row.id.encode()).decode())
    return out


# -- the outbox ------------------------------------------------------------------------------------
async def emit(
    session: AsyncSession,
    runtime: Runtime,
    *,
    project_id: str,
    environment: str,
    type: str,
    data: dict[str, Any],
    subject_id: str | None = None,
    callback_url: str | None = None,
    top_level: dict[str, Any] | None = None,
) -> WebhookEvent:
    """Record an event and its deliveries in the current transaction. ``top_level`` fields are
    also set beside ``data``, for payloads proof.holdings' receivers read flat
    (``verification_request.*``); they never replace the envelope's own keys."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    now = truncate_ms(utcnow())
    event_id = "evt_" + new_object_id()
    event = WebhookEvent(
        id=event_id,
        project_id=project_id,
        environment=environment,
        type=type,
        subject_id=subject_id,
        payload={
            **(top_level or {}),
            "id": event_id,
            "event": type,
            "type": type,
            "created_at": isoformat_ms(now),
            "test": environment == "test",
            "data": data,
        },
        created_at=now,
    )
    session.add(event)
    destinations: list[tuple[WebhookEndpoint, str]] = []
    endpoints = await session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.project_id == project_id,
            WebhookEndpoint.environment == environment,
            WebhookEndpoint.kind == "endpoint",
            WebhookEndpoint.enabled.is_(True),
        )
    )
    for endpoint in endpoints:
        if not endpoint.events or type in endpoint.events:
            destinations.append((endpoint, endpoint.url))
    if callback_url:
        endpoint, _ = await callback_endpoint(session, runtime, project_id, environment)
        destinations.append((endpoint, callback_url))
    max_attempts = len(retry_schedule(runtime)) + 1
    for endpoint, url in destinations:
        session.add(
            WebhookDelivery(
                id=new_object_id(),
                event_id=event_id,
                endpoint_id=endpoint.id,
                project_id=project_id,
                environment=environment,
                event_type=type,
                subject_id=subject_id,
                url=url,
                status="pending",
                attempts=0,
                max_attempts=max_attempts,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    await session.flush()
    if destinations:

        async def wake() -> None:
            delivery_worker.wake()

        after_commit(session, wake)
    return event


# -- the delivery log --------------------------------------------------------------------------------
def render_delivery(
    row: WebhookDelivery, *, detail: bool = False, event: WebhookEvent | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "verification_id": row.subject_id,
        "endpoint_id": row.endpoint_id,
        "url": row.url,
        "status": row.status,
        "attempts": row.attempts,
        "max_attempts": row.max_attempts,
        "last_attempt_at": iso_or_none(row.last_attempt_at),
        "next_retry_at": iso_or_none(row.next_attempt_at) if row.status == "pending" else None,
        "delivered_at": iso_or_none(row.last_attempt_at) if row.status == "delivered" else None,
        "verification_request_id": (
            row.subject_id if row.event_type.startswith("verification_request.") else None
        ),
        "response_status": row.response_status,
        "error_message": row.error_message,
        "test_mode": row.environment == "test",
        "created_at": isoformat_ms(row.created_at),
        "updated_at": isoformat_ms(row.updated_at),
    }
    if detail:
        body["request"] = {
            "headers": row.request_headers,
            "payload": event.payload if event is not None else None,
        }
        body["response_body"] = row.response_body
        # SDK 1.2.0 reads the payload at the top level of a delivery's detail.
        body["payload"] = event.payload if event is not None else None
    return body


def _scope(principal: Principal) -> list[Any]:
    return [
        WebhookDelivery.project_id == principal.project_id,
        WebhookDelivery.environment == principal.environment,
    ]


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    *,
    page: int,
    limit: int,
    status: str | None,
    event_type: str | None,
    verification_id: str | None,
) -> tuple[Sequence[WebhookDelivery], int]:
    conditions = _scope(principal)
    if status:
        conditions.append(WebhookDelivery.status == status)
    if event_type:
        conditions.append(WebhookDelivery.event_type == event_type)
    if verification_id:
        conditions.append(WebhookDelivery.subject_id == verification_id)
    total = await session.scalar(
        select(func.count()).select_from(WebhookDelivery).where(*conditions)
    )
    rows = await session.scalars(
        select(WebhookDelivery)
        .where(*conditions)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .offset((page - 1) * limit)
        .limit(limit)
    )
    return rows.all(), int(total or 0)


async def get_delivery(
    session: AsyncSession, principal: Principal, id_: str
) -> tuple[WebhookDelivery, WebhookEvent | None]:
    row = await session.get(WebhookDelivery, id_) if is_object_id(id_) else None
    if (
        row is None
        or row.project_id != principal.project_id
        or row.environment != principal.environment
    ):
        raise NotFound("Webhook delivery not found")
    return row, await session.get(WebhookEvent, row.event_id)


async def stats(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    """Delivery figures as proof.holdings' SDK reads them (``WebhookDeliveryStats``).

    A delivery whose last attempt failed and that waits for its next retry is still
    ``pending``, but it is not a success: it counts against the rate (``retrying``) and, when
    that attempt was in the last 24 hours, among ``recent_failures_24h`` with the deliveries
    that gave up."""
    since = utcnow() - timedelta(hours=24)
    retrying = and_(WebhookDelivery.status == "pending", WebhookDelivery.attempts > 0)
    last_failed = or_(WebhookDelivery.status == "failed", retrying)
    rows = await session.execute(
        select(
            WebhookDelivery.status,
            func.count(),
            func.sum(case((retrying, 1), else_=0)),
            func.sum(
                case((and_(last_failed, WebhookDelivery.last_attempt_at >= since), 1), else_=0)
            ),
        )
        .where(*_scope(principal))
        .group_by(WebhookDelivery.status)
    )
    counts: dict[str, int] = {}
    waiting = recent = 0
    for status, n, r, f in rows.all():
        counts[status] = int(n)
        waiting += int(r or 0)
        recent += int(f or 0)
    delivered, failed, pending = (counts.get(k, 0) for k in ("delivered", "failed", "pending"))
    total = delivered + failed + pending
    tried = delivered + failed + waiting
    rate = 100 * delivered / tried if tried else 0.0
    return {
        "total": total,
        "by_status": {"pending": pending, "delivered": delivered, "failed": failed},
        "delivery_rate": f"{rate:.1f}%",
        "recent_failures_24h": recent,
        "retrying": waiting,
        "delivered": delivered,
        "failed": failed,
        "pending": pending,
        "success_rate": round(rate, 2),
    }


async def retry(session: AsyncSession, principal: Principal, id_: str) -> WebhookDelivery:
    row, _ = await get_delivery(session, principal, id_)
    if row.status != "failed":
        raise BadRequest("Only failed deliveries can be retried", code="invalid_status")
    now = truncate_ms(utcnow())
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == row.id, WebhookDelivery.status == "failed")
        .values(
            status="pending",
            next_attempt_at=now,
            max_attempts=WebhookDelivery.attempts + 1,
            locked_until=None,
            lease=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(row)

    async def wake() -> None:
        delivery_worker.wake()

    after_commit(session, wake)
    return row
