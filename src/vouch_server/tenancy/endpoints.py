"""``/api/v1/templates…`` (message templates) and ``/api/v1/channels/{channel}/credentials``
(bring your own channel)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.deps import ApiCaller, RuntimeDep, Session
from vouch_server.errors import Forbidden, NotFound, ValidationFailed
from vouch_server.openapi import documented
from vouch_server.tenancy import credentials, templates
from vouch_server.tenancy.responses import (
    ChannelCredentialsOut,
    TemplateDeletedOut,
    TemplateListOut,
    TemplateOut,
    TemplatePreviewOut,
    TemplateRenderOut,
)
from vouch_server.tenancy.service import Principal
from vouch_server.web.branding import load_branding

router = APIRouter(prefix="/api/v1", tags=["templates", "channels"])

SAMPLE = {
    "code": "X7K2M9",
    "expires_in": "10 minutes",
    "user_identifier": "+37069199199",
    "callback_url": "https://example.com/verified",
}

ProfileId = Query(
    default=None,
    max_length=64,
    description="The project (proof.holdings: sub-account) the template belongs to; a key may "
    "name only its own.",
)


class TemplateBody(BaseModel):
    """proof.holdings' ``TemplateContent`` (plus ``is_active``)."""

    model_config = ConfigDict(extra="ignore")
    body: str = Field(min_length=1, max_length=templates.MAX_BODY)
    subject: str | None = Field(default=None, max_length=templates.MAX_SUBJECT)
    button_text: str | None = Field(default=None, max_length=templates.MAX_BUTTON_TEXT)
    button_url_template: str | None = Field(default=None, max_length=templates.MAX_BUTTON_URL)
    is_active: bool = True

    def content(self) -> templates.Content:
        return templates.Content(
            body=self.body,
            subject=self.subject,
            button_text=self.button_text,
            button_url_template=self.button_url_template,
        )


class PreviewBody(BaseModel):
    """proof.holdings' ``TemplatePreviewRequest``; vouch also takes ``variables`` (sample values
    to use instead of its own) and, without a ``body``, previews the template in force."""

    model_config = ConfigDict(extra="ignore")
    channel: str = Field(max_length=32)
    message_type: str = Field(max_length=64)
    body: str | None = Field(default=None, min_length=1, max_length=templates.MAX_BODY)
    subject: str | None = Field(default=None, max_length=templates.MAX_SUBJECT)
    button_text: str | None = Field(default=None, max_length=templates.MAX_BUTTON_TEXT)
    button_url_template: str | None = Field(default=None, max_length=templates.MAX_BUTTON_URL)
    variables: dict[str, str | int | float] = Field(default_factory=dict)


class RenderBody(BaseModel):
    """proof.holdings' ``TemplateRenderRequest``."""

    model_config = ConfigDict(extra="ignore")
    channel: str = Field(max_length=32)
    message_type: str = Field(max_length=64)
    variables: dict[str, str | int | float | None] = Field(default_factory=dict)


def _project(caller: Principal, profile_id: str | None) -> str:
    if profile_id is not None and profile_id != caller.project_id:
        raise Forbidden("This API key belongs to another project", code="profile_mismatch")
    return caller.project_id


def _known(channel: str, message_type: str) -> None:
    """A request body naming an unknown channel or type is a bad request, not a missing page."""
    details = []
    if channel not in templates.CHANNELS:
        details.append(
            {
                "field": "channel",
                "message": f"One of: {', '.join(templates.CHANNELS)}",
                "code": "invalid_enum_value",
            }
        )
    if message_type not in templates.ALL_TYPES:
        details.append(
            {
                "field": "message_type",
                "message": f"One of: {', '.join(templates.ALL_TYPES)}",
                "code": "invalid_enum_value",
            }
        )
    if details:
        raise ValidationFailed(details=details)


def _check_variables(given: dict[str, Any]) -> dict[str, str]:
    unknown = sorted(set(given) - set(templates.VARIABLES))
    if unknown:
        raise ValidationFailed(
            details=[
                {
                    "field": "variables",
                    "message": f"Unknown variable(s): {', '.join(unknown)}; "
                    f"allowed: {', '.join(templates.VARIABLES)}",
                    "code": "unrecognized_keys",
                }
            ]
        )
    return {name: "" if value is None else str(value) for name, value in given.items()}


async def _branding_values(
    session: AsyncSession, runtime: Any, project_id: str, channel: str
) -> dict[str, str]:
    branding = await load_branding(session, project_id)
    effective = await credentials.effective_settings(session, runtime.settings, project_id)
    return {
        "business_name": branding.name,
        "support_email": effective.email_from,
        "channel": channel,
    }


def _catalogue() -> dict[str, Any]:
    return {
        "channels": list(templates.CHANNELS),
        "message_types": list(templates.MESSAGE_TYPES),
        "conversation_types": list(templates.CONVERSATION_TYPES),
        "variables": templates.variable_list(),
    }


@router.get("/templates", **documented(TemplateListOut))
async def list_templates(
    session: Session, caller: ApiCaller, profile_id: str | None = ProfileId
) -> dict[str, Any]:
    """The project's own templates, and the channels, message types and variables there are."""
    project_id = _project(caller, profile_id)
    rows = await templates.list_custom(session, project_id)
    return {"templates": [templates.describe_row(row) for row in rows], **_catalogue()}


@router.get("/templates/defaults", **documented(TemplateListOut))
async def default_templates(caller: ApiCaller) -> dict[str, Any]:
    """vouch's default template for every channel and message type."""
    data = [
        templates.describe_default(channel, message_type)
        for channel in templates.CHANNELS
        for message_type in templates.ALL_TYPES
    ]
    return {"templates": data, **_catalogue()}


@router.get("/templates/{channel}/{message_type}", **documented(TemplateOut))
async def get_template(
    channel: str,
    message_type: str,
    session: Session,
    caller: ApiCaller,
    profile_id: str | None = ProfileId,
) -> dict[str, Any]:
    project_id = _project(caller, profile_id)
    return await templates.describe(session, project_id, channel, message_type)


@router.put("/templates/{channel}/{message_type}", **documented(TemplateOut))
async def put_template(
    channel: str,
    message_type: str,
    body: TemplateBody,
    session: Session,
    caller: ApiCaller,
    profile_id: str | None = ProfileId,
) -> dict[str, Any]:
    project_id = _project(caller, profile_id)
    row = await templates.put(
        session, project_id, channel, message_type, body.content(), is_active=body.is_active
    )
    return templates.describe_row(row)


@router.delete("/templates/{channel}/{message_type}", **documented(TemplateDeletedOut))
async def delete_template(
    channel: str,
    message_type: str,
    session: Session,
    caller: ApiCaller,
    profile_id: str | None = ProfileId,
) -> dict[str, Any]:
    """Drop the project's template; the default applies again (404 when there was none)."""
    project_id = _project(caller, profile_id)
    if not await templates.delete(session, project_id, channel, message_type):
        raise NotFound("No custom template to delete")
    return {
        "deleted": True,
        "channel": channel,
        "message_type": message_type,
        "template": templates.describe_default(channel, message_type),
    }


@router.post("/templates/preview", **documented(TemplatePreviewOut))
async def preview_template(
    body: PreviewBody,
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
    profile_id: str | None = ProfileId,
) -> dict[str, Any]:
    """Render a template text with sample values and the project's branding, without storing or
    sending anything."""
    project_id = _project(caller, profile_id)
    _known(body.channel, body.message_type)
    if body.body is not None:
        content = templates.Content(
            body=body.body,
            subject=body.subject,
            button_text=body.button_text,
            button_url_template=body.button_url_template,
        )
        templates.validate_content(body.channel, content)
    else:
        content, _ = await templates.effective(session, project_id, body.channel, body.message_type)
    variables = {
        **SAMPLE,
        **await _branding_values(session, runtime, project_id, body.channel),
        **_check_variables(body.variables),
    }
    return {
        "channel": body.channel,
        "message_type": body.message_type,
        "rendered": templates.render_content(content, variables).as_dict(),
        "variables": variables,
    }


@router.post("/templates/render", **documented(TemplateRenderOut))
async def render_template(
    body: RenderBody,
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
    profile_id: str | None = ProfileId,
) -> dict[str, Any]:
    """Render the template in force for the project (its own or the default) with the given
    variables; the project's branding fills ``business_name``, ``support_email`` and
    ``channel`` when they are not given, any other variable left out is empty."""
    project_id = _project(caller, profile_id)
    _known(body.channel, body.message_type)
    content, custom = await templates.effective(
        session, project_id, body.channel, body.message_type
    )
    variables = {
        **{name: "" for name in templates.VARIABLES},
        **await _branding_values(session, runtime, project_id, body.channel),
        **_check_variables(body.variables),
    }
    return {
        "channel": body.channel,
        "message_type": body.message_type,
        "is_custom": custom,
        "rendered": templates.render_content(content, variables).as_dict(),
        "variables": variables,
    }


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


@router.put("/channels/{channel}/credentials", **documented(ChannelCredentialsOut))
async def put_credentials(
    channel: str,
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
    body: dict[str, Any] = Body(...),
) -> dict[str, Any]:
    row = await credentials.put(session, runtime.settings, caller.project_id, channel, body)
    return _with_webhook(runtime, credentials.describe(row))


@router.get("/channels/{channel}/credentials", **documented(ChannelCredentialsOut))
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
