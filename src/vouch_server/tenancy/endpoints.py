"""``/api/v1/templates…`` (message templates) and ``/api/v1/channels/{channel}/credentials``
(bring your own channel)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict, Field

from vouch_server.deps import ApiCaller, RuntimeDep, Session
from vouch_server.errors import NotFound
from vouch_server.kit.clock import isoformat_ms
from vouch_server.tenancy import credentials, templates

router = APIRouter(prefix="/api/v1", tags=["templates", "channels"])

SAMPLE = {
    "code": "X7K2M9",
    "business_name": "Acme",
    "expires_in": "10 minutes",
    "user_identifier": "+37069199199",
    "channel": "telegram",
    "support_email": "support@example.com",
}


class TemplateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    body: str = Field(min_length=1, max_length=templates.MAX_TEMPLATE_LENGTH)


class PreviewBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    body: str | None = Field(default=None, min_length=1, max_length=templates.MAX_TEMPLATE_LENGTH)
    channel: str | None = None
    message_type: str | None = None
    variables: dict[str, str] = Field(default_factory=dict)


@router.get("/templates")
async def list_templates(session: Session, caller: ApiCaller) -> dict[str, Any]:
    data = [
        await templates.describe(session, caller.project_id, channel, message_type)
        for channel in templates.CHANNELS
        for message_type in templates.MESSAGE_TYPES
    ]
    return {"data": data, "variables": list(templates.VARIABLES)}


@router.get("/templates/{channel}/{message_type}")
async def get_template(
    channel: str, message_type: str, session: Session, caller: ApiCaller
) -> dict[str, Any]:
    return await templates.describe(session, caller.project_id, channel, message_type)


@router.put("/templates/{channel}/{message_type}")
async def put_template(
    channel: str, message_type: str, body: TemplateBody, session: Session, caller: ApiCaller
) -> dict[str, Any]:
    row = await templates.put(session, caller.project_id, channel, message_type, body.body)
    described = await templates.describe(session, caller.project_id, channel, message_type)
    described["updated_at"] = isoformat_ms(row.updated_at)
    return described


@router.delete("/templates/{channel}/{message_type}", status_code=204)
async def delete_template(
    channel: str, message_type: str, session: Session, caller: ApiCaller
) -> Response:
    if not await templates.delete(session, caller.project_id, channel, message_type):
        raise NotFound("No custom template to delete")
    return Response(status_code=204)


@router.post("/templates/preview")
async def preview_template(
    body: PreviewBody, session: Session, caller: ApiCaller
) -> dict[str, Any]:
    """Render a template body (or the stored one for channel + message type) with sample values
    overridden by ``variables``."""
    if body.body is not None:
        templates.validate_template(body.body)
        source = body.body
    elif body.channel and body.message_type:
        source = (
            await templates.describe(session, caller.project_id, body.channel, body.message_type)
        )["body"]
    else:
        raise NotFound("Give a body, or a channel and message_type")
    variables = {**SAMPLE, **{k: v for k, v in body.variables.items() if k in templates.VARIABLES}}
    return {"rendered": templates.render_text(source, variables), "variables": variables}


INBOUND_PATHS = {
    "telegram": "/inbound/telegram/{id}",
    "whatsapp": "/inbound/whatsapp/{id}",
    "sms": "/inbound/twilio/sms/{id}",
}


def _with_webhook(runtime: Any, described: dict[str, Any]) -> dict[str, Any]:
    path = INBOUND_PATHS.get(described["channel"])
    if path and described.get("configured"):
        described["webhook_url"] = runtime.settings.public_url + path.format(id=described["id"])
    return described


@router.put("/channels/{channel}/credentials")
async def put_credentials(
    channel: str,
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
    body: dict[str, Any] = Body(...),
) -> dict[str, Any]:
    row = await credentials.put(session, runtime.settings, caller.project_id, channel, body)
    return _with_webhook(runtime, credentials.describe(row))


@router.get("/channels/{channel}/credentials")
async def get_credentials(
    channel: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return _with_webhook(
        runtime, await credentials.get_description(session, caller.project_id, channel)
    )


@router.delete("/channels/{channel}/credentials", status_code=204)
async def delete_credentials(channel: str, session: Session, caller: ApiCaller) -> Response:
    if not await credentials.delete(session, caller.project_id, channel):
        raise NotFound("No credentials stored for this channel")
    return Response(status_code=204)
