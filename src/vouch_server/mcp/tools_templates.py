"""MCP tools for message templates (``/api/v1/templates…``), named as proof.holdings' MCP server
names them: ``list_templates``, ``get_default_templates``, ``get_template``, ``update_template``,
``delete_template``, ``preview_template``, ``render_template``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from vouch_server.mcp.models import Result
from vouch_server.mcp.tools import _drop_none, call, seg, tool

TemplateChannel = Literal["telegram", "whatsapp", "sms", "email"]
MessageType = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="verification_request, verification_success, verification_expired, "
        "login_request, login_success, 2fa_request, 2fa_success, confirmation_request, "
        "confirmation_approved, confirmation_denied, or one of the bot's conversation replies "
        "(welcome, ask_contact, …; see list_templates).",
    ),
]
Body = Annotated[str, Field(min_length=1, max_length=2000, description="Text with {{variables}}.")]
Subject = Annotated[str | None, Field(max_length=200, description="Email only.")]
ButtonText = Annotated[str | None, Field(max_length=50, description="Email only.")]
ButtonUrl = Annotated[str | None, Field(max_length=500, description="Email only; {{variables}}.")]


def _path(channel: str, message_type: str) -> str:
    return f"/api/v1/templates/{seg(channel)}/{seg(message_type)}"


@tool("templates", read_only=True, routes=("GET /api/v1/templates",))
async def list_templates(ctx: Context) -> Result:
    """The project's own templates, plus the channels, message types and `{{variables}}` there
    are."""
    return Result.model_validate(await call(ctx, "GET", "/api/v1/templates"))


@tool("templates", read_only=True, routes=("GET /api/v1/templates/defaults",))
async def get_default_templates(ctx: Context) -> Result:
    """vouch's default text for every channel and message type (what applies where the project
    has none of its own)."""
    return Result.model_validate(await call(ctx, "GET", "/api/v1/templates/defaults"))


@tool("templates", read_only=True, routes=("GET /api/v1/templates/{channel}/{message_type}",))
async def get_template(ctx: Context, channel: TemplateChannel, message_type: MessageType) -> Result:
    """Read the template for one channel and message type: the project's own (`is_custom`) or
    the default."""
    return Result.model_validate(await call(ctx, "GET", _path(channel, message_type)))


@tool("templates", idempotent=True, routes=("PUT /api/v1/templates/{channel}/{message_type}",))
async def update_template(
    ctx: Context,
    channel: TemplateChannel,
    message_type: MessageType,
    body: Body,
    subject: Subject = None,
    button_text: ButtonText = None,
    button_url_template: ButtonUrl = None,
    is_active: Annotated[
        bool | None, Field(description="false keeps it stored but sends the default.")
    ] = None,
) -> Result:
    """Set the text sent for one channel and message type. Try it first with
    `preview_template`; a template that does not parse or names an unknown variable is
    refused."""
    payload = _drop_none(
        body=body,
        subject=subject,
        button_text=button_text,
        button_url_template=button_url_template,
        is_active=is_active,
    )
    return Result.model_validate(await call(ctx, "PUT", _path(channel, message_type), body=payload))


@tool("templates", destructive=True, routes=("DELETE /api/v1/templates/{channel}/{message_type}",))
async def delete_template(
    ctx: Context, channel: TemplateChannel, message_type: MessageType
) -> Result:
    """Drop the project's template for one channel and message type; the default applies
    again."""
    return Result.model_validate(await call(ctx, "DELETE", _path(channel, message_type)))


@tool("templates", read_only=True, routes=("POST /api/v1/templates/preview",))
async def preview_template(
    ctx: Context,
    channel: TemplateChannel,
    message_type: MessageType,
    body: Annotated[
        str | None,
        Field(min_length=1, max_length=2000, description="Omit to preview the one in force."),
    ] = None,
    subject: Subject = None,
    button_text: ButtonText = None,
    button_url_template: ButtonUrl = None,
    variables: Annotated[
        dict[str, Any] | None, Field(description="Sample values to use instead of vouch's.")
    ] = None,
) -> Result:
    """Render a template text with sample values and the project's branding, without storing or
    sending anything. Returns `rendered` ({body, subject?, button_text?, button_url?})."""
    payload = _drop_none(
        channel=channel,
        message_type=message_type,
        body=body,
        subject=subject,
        button_text=button_text,
        button_url_template=button_url_template,
        variables=variables,
    )
    return Result.model_validate(await call(ctx, "POST", "/api/v1/templates/preview", body=payload))


@tool("templates", read_only=True, routes=("POST /api/v1/templates/render",))
async def render_template(
    ctx: Context,
    channel: TemplateChannel,
    message_type: MessageType,
    variables: Annotated[
        dict[str, Any] | None,
        Field(description="Values for code, expires_in, user_identifier, callback_url, …"),
    ] = None,
) -> Result:
    """Render the template in force for the project (its own or the default) with the values
    given. Returns `rendered` and whether the template is the project's own (`is_custom`)."""
    payload = _drop_none(channel=channel, message_type=message_type, variables=variables)
    return Result.model_validate(await call(ctx, "POST", "/api/v1/templates/render", body=payload))
