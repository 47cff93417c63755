"""Message templates (proof.holdings "Message Templates"): what vouch says to people.

Each (channel, message type) has a default; a project may replace it. Templates are rendered in
Jinja2's immutable sandbox with only the documented variables — ``code``, ``business_name``,
``expires_in``, ``user_identifier``, ``channel``, ``support_email`` — so a template cannot reach
attributes, call methods or read anything else. A template naming any other variable is refused
when it is saved.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.errors import NotFound, ValidationFailed
from vouch_server.kit.clock import truncate_ms, utcnow
from vouch_server.kit.ids import new_object_id
from vouch_server.models import MessageTemplate

VARIABLES = ("code", "business_name", "expires_in", "user_identifier", "channel", "support_email")
MAX_TEMPLATE_LENGTH = 2000

CHANNELS = ("telegram", "whatsapp", "sms", "email")

DEFAULTS: dict[str, str] = {
    "instruction": "Send {{ code }} via {{ channel }}",
    "deep_link_text": "{{ code }}",
    "welcome": "Welcome! Send the verification code shown by {{ business_name }} to verify.",
    "ask_contact": (
        "Thanks! Now tap the button below to share your phone number, so we can check it is "
        "the one being verified."
    ),
    "contact_saved": "Got your number. Now send the verification code shown by {{ business_name }}.",
    "verified": "✅ Verified. You can return to {{ business_name }}.",
    "wrong_sender": (
        "This code was issued for a different number. Send it from the number you are verifying."
    ),
    "unknown_code": "We could not find a pending verification for that code. Check it and try again.",
    "failed": "Too many wrong attempts; this verification has failed. Start a new one.",
    "expired": "This code has expired. Start a new verification.",
    "wait": "Please wait a few seconds before trying again.",
    "foreign_contact": "Please share your own contact, using the button below.",
    "bsuid_cannot_prove_phone": (
        "Your WhatsApp account does not share its phone number with us, so it cannot prove a "
        "phone number. Ask {{ business_name }} to verify your WhatsApp account instead."
    ),
    "email_subject": "Your verification code: {{ code }}",
    "email_body": (
        "Your verification code for {{ business_name }} is {{ code }}.\n"
        "It expires in {{ expires_in }}. If you did not ask for it, ignore this message."
    ),
}
MESSAGE_TYPES = tuple(DEFAULTS)


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def validate_template(body: str) -> None:
    """Refuse templates that do not parse, are too long, or use unknown variables."""
    if len(body) > MAX_TEMPLATE_LENGTH:
        raise ValidationFailed(
            details=[{"field": "body", "message": "Template too long", "code": "too_big"}]
        )
    try:
        parsed = _environment().parse(body)
    except TemplateSyntaxError as exc:
        raise ValidationFailed(
            details=[
                {
                    "field": "body",
                    "message": f"Template syntax: {exc.message}",
                    "code": "invalid_string",
                }
            ]
        ) from exc
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(VARIABLES))
    if not unknown:
        # A trial render with sample values catches what the sandbox forbids (attribute access,
        # method calls) before the template is stored.
        render_text(body, {name: "sample" for name in VARIABLES})
    if unknown:
        raise ValidationFailed(
            details=[
                {
                    "field": "body",
                    "message": f"Unknown variable(s): {', '.join(unknown)}; allowed: {', '.join(VARIABLES)}",
                    "code": "invalid_string",
                }
            ]
        )


def render_text(body: str, variables: dict[str, Any]) -> str:
    values = {name: variables.get(name, "") for name in VARIABLES}
    try:
        return _environment().from_string(body).render(**values)
    except (SecurityError, UndefinedError) as exc:
        raise ValidationFailed(
            details=[
                {
                    "field": "body",
                    "message": f"Template could not render: {exc}",
                    "code": "invalid_string",
                }
            ]
        ) from exc


def _check_key(channel: str, message_type: str) -> None:
    if channel not in CHANNELS or message_type not in MESSAGE_TYPES:
        raise NotFound(
            f"No template '{message_type}' for channel '{channel}'",
        )


async def get_override(
    session: AsyncSession, project_id: str | None, channel: str, message_type: str
) -> MessageTemplate | None:
    if project_id is None:
        return None
    return await session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.project_id == project_id,
            MessageTemplate.channel == channel,
            MessageTemplate.message_type == message_type,
        )
    )


async def render(
    session: AsyncSession,
    project_id: str | None,
    channel: str,
    message_type: str,
    variables: dict[str, Any],
) -> str:
    override = await get_override(session, project_id, channel, message_type)
    body = override.body if override is not None else DEFAULTS[message_type]
    return render_text(body, variables)


async def put(
    session: AsyncSession, project_id: str, channel: str, message_type: str, body: str
) -> MessageTemplate:
    _check_key(channel, message_type)
    validate_template(body)
    row = await get_override(session, project_id, channel, message_type)
    now = truncate_ms(utcnow())
    if row is None:
        row = MessageTemplate(
            id=new_object_id(),
            project_id=project_id,
            channel=channel,
            message_type=message_type,
            body=body,
            updated_at=now,
        )
        session.add(row)
    else:
        row.body = body
        row.updated_at = now
    await session.flush()
    return row


async def delete(session: AsyncSession, project_id: str, channel: str, message_type: str) -> bool:
    _check_key(channel, message_type)
    row = await get_override(session, project_id, channel, message_type)
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True


async def describe(
    session: AsyncSession, project_id: str, channel: str, message_type: str
) -> dict[str, Any]:
    _check_key(channel, message_type)
    row = await get_override(session, project_id, channel, message_type)
    return {
        "channel": channel,
        "message_type": message_type,
        "body": row.body if row is not None else DEFAULTS[message_type],
        "is_default": row is None,
        "variables": list(VARIABLES),
    }
