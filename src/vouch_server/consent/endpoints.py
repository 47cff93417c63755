"""``/api/v1/authorizations`` — Proof of Delegation (seed "Authorization Endpoints")."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from vouch_server.consent import inbound as _inbound  # noqa: F401  (registers the inbound handlers)
from vouch_server.consent import service
from vouch_server.consent.responses import (
    AuthorizationExportOut,
    AuthorizationListOut,
    AuthorizationOut,
)
from vouch_server.consent.schemas import (
    AuthorizationStatus,
    ConsentChannel,
    CreateAuthorization,
    RevokeAuthorization,
    TestRespondAuthorization,
    render_authorization,
)
from vouch_server.deps import ApiCaller, RuntimeDep, Session, TestCaller
from vouch_server.errors import ValidationFailed
from vouch_server.kit.clock import isoformat_ms, parse_instant, utcnow
from vouch_server.kit.paging import PageNumber
from vouch_server.openapi import documented

router = APIRouter(prefix="/api/v1/authorizations", tags=["authorizations"])


@router.post("", **documented(AuthorizationOut, 201))
async def create_authorization(
    body: CreateAuthorization, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    authorization, deep_link = await service.create(session, runtime, caller, body=body)
    return render_authorization(authorization, deep_link=deep_link)


@router.get("", **documented(AuthorizationListOut))
async def list_authorizations(
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
    page: PageNumber = 1,
    limit: Annotated[int, Query(gt=0, le=100)] = 20,
    status: AuthorizationStatus | None = None,
    channel: ConsentChannel | None = None,
    recipient: Annotated[str | None, Query(min_length=1, max_length=320)] = None,
) -> dict[str, Any]:
    rows, total = await service.list_(
        session,
        runtime,
        caller,
        page=page,
        limit=limit,
        filters={
            "status": status.value if status else None,
            "channel": channel.value if channel else None,
            "recipient": recipient,
        },
    )
    has_more = page * limit < total
    pagination: dict[str, Any] = {"hasMore": has_more, "total": total, "page": page, "limit": limit}
    if has_more and rows:
        pagination["nextCursor"] = rows[-1].id
        pagination["nextPage"] = page + 1
    return {"data": [render_authorization(a) for a in rows], "pagination": pagination}


def _instant(name: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise ValidationFailed(
            details=[{"field": name, "message": "Invalid ISO 8601 instant", "code": "invalid_date"}]
        ) from exc


CSV_COLUMNS = (
    "id",
    "status",
    "channel",
    "recipient",
    "recipient_hash",
    "scope",
    "business_name",
    "created_at",
    "decided_at",
    "expires_at",
    "revoked_at",
    "revoked_reason",
    "revoked_by",
    "test_mode",
    "proof_token",
)


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    # Free text a caller chose could be read as a formula by a spreadsheet (CSV injection).
    if name in ("business_name", "scope") and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@router.get("/export", **documented(AuthorizationExportOut))
async def export_authorizations(
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
    format: Literal["json", "csv"] = "json",
    status: AuthorizationStatus | None = None,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
) -> Response | dict[str, Any]:
    """Consent records for audits (GDPR): at most 10,000, oldest first; ``truncated`` says more
    matched (continue with ``from`` = the last record's ``created_at``)."""
    records, truncated = await service.export(
        session,
        runtime,
        caller,
        filters={
            "status": status.value if status else None,
            "from": _instant("from", from_),
            "to": _instant("to", to),
        },
    )
    exported_at = isoformat_ms(utcnow())
    if format == "json":
        return {
            "data": records,
            "count": len(records),
            "truncated": truncated,
            "exported_at": exported_at,
        }
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow([_cell(c, record.get(c)) for c in CSV_COLUMNS])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="authorizations.csv"',
            "X-Export-Truncated": "true" if truncated else "false",
            "X-Export-Count": str(len(records)),
        },
    )


@router.get("/{authorization_id}", **documented(AuthorizationOut))
async def get_authorization(
    authorization_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return render_authorization(await service.get(session, runtime, caller, authorization_id))


@router.delete("/{authorization_id}", **documented(AuthorizationOut))
async def revoke_authorization(
    authorization_id: str,
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
    body: Annotated[RevokeAuthorization | None, Body()] = None,
    reason: Annotated[str | None, Query(min_length=1, max_length=500)] = None,
) -> dict[str, Any]:
    """Revoke with a reason (JSON body ``{"reason"}`` or ``?reason=``; default
    ``user_request``). The authorization's proof is revoked with it."""
    chosen = reason or (body.reason if body is not None else "user_request")
    authorization = await service.revoke(session, runtime, caller, authorization_id, reason=chosen)
    return render_authorization(authorization)


@router.post("/{authorization_id}/test-respond", **documented(AuthorizationOut))
async def test_respond(
    authorization_id: str,
    body: TestRespondAuthorization,
    session: Session,
    runtime: RuntimeDep,
    caller: TestCaller,
) -> dict[str, Any]:
    """Test mode: answer the consent request as the person would (``allow`` or ``deny``)."""
    authorization = await service.test_respond(
        session, runtime, caller, authorization_id, allow=body.action == "allow"
    )
    return render_authorization(authorization)
