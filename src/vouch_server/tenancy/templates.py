"""Message templates (proof.holdings "Message Templates"): what vouch says to people.

Each (channel, message type) has a default; a project may store its own. The message types are
proof.holdings' vocabulary (``verification_request`` … ``confirmation_denied``), plus the replies
vouch's bots give in a conversation (``welcome``, ``ask_contact`` …), which proof.holdings has no
names for. A template has a ``body``; on email also a ``subject`` and an optional button
(``button_text``, ``button_url_template``).

Templates are rendered in Jinja2's immutable sandbox with only the documented variables —
``business_name``, ``code``, ``expires_in``, ``user_identifier``, ``channel``, ``callback_url``,
``support_email`` — so a template cannot reach attributes, call methods or read anything else.
A template naming any other variable, or one that does not parse, is refused when it is saved.

Where vouch uses which type:

* ``verification_request`` — Telegram/WhatsApp/SMS: the ``challenge.instruction`` of a new
  verification (``vouch_server.control.service``); email: the mail carrying the code.
* ``verification_success`` / ``verification_expired`` — the bot's answer to a code that proved
  control / arrived too late (internally the replies ``verified`` / ``expired``).
* the conversation types — the bot's other answers.
* ``login_*``, ``2fa_*``, ``confirmation_*`` — stored, served and rendered for proof.holdings
  clients; the sign-in and approval flows still word their messages themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.errors import NotFound, ValidationFailed
from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.ids import new_object_id
from vouch_server.models import MessageTemplate

VARIABLES: dict[str, str] = {
    "business_name": "The project's business name (its branding)",
    "code": "The verification code",
    "expires_in": "Time until the code expires, e.g. '10 minutes'",
    "user_identifier": "The asset being verified (phone number, email address, username)",
    "channel": "The channel the message goes out on",
    "callback_url": "The verification's callback URL, when it has one",
    "support_email": "The address people can write to for help",
}

MAX_BODY = 2000
MAX_SUBJECT = 200
MAX_BUTTON_TEXT = 50
MAX_BUTTON_URL = 500
# Kept for callers that knew the single limit.
MAX_TEMPLATE_LENGTH = MAX_BODY

CHANNELS = ("telegram", "whatsapp", "sms", "email")
# Channels whose template may carry a subject and a button (proof.holdings: email only).
RICH_CHANNELS = ("email",)

MESSAGE_TYPES = (
    "verification_request",
    "verification_success",
    "verification_expired",
    "login_request",
    "login_success",
    "2fa_request",
    "2fa_success",
    "confirmation_request",
    "confirmation_approved",
    "confirmation_denied",
)

# vouch's bots' other replies in a conversation, customisable under these names.
CONVERSATION_TYPES: dict[str, str] = {
    "welcome": "Welcome! Send the verification code shown by {{ business_name }} to verify.",
    "ask_contact": (
        "Thanks! Now tap the button below to share your phone number, so we can check it is "
        "the one being verified."
    ),
    "contact_saved": "Got your number. Now send the verification code shown by {{ business_name }}.",
    "wrong_sender": (
        "This code was issued for a different number. Send it from the number you are verifying."
    ),
    "unknown_code": "We could not find a pending verification for that code. Check it and try again.",
    "failed": "Too many wrong attempts; this verification has failed. Start a new one.",
    "wait": "Please wait a few seconds before trying again.",
    "foreign_contact": "Please share your own contact, using the button below.",
    "bsuid_cannot_prove_phone": (
        "Your WhatsApp account does not share its phone number with us, so it cannot prove a "
        "phone number. Ask {{ business_name }} to verify your WhatsApp account instead."
    ),
}

ALL_TYPES = MESSAGE_TYPES + tuple(CONVERSATION_TYPES)

# The names vouch's channel code uses for its replies, and the public type each one is.
INTERNAL_NAMES = {"verified": "verification_success", "expired": "verification_expired"}


@dataclass(frozen=True)
class Content:
    body: str
    subject: str | None = None
    button_text: str | None = None
    button_url_template: str | None = None


_DEFAULT_BODIES: dict[str, str] = {
    "verification_request": "Send {{ code }} via {{ channel }} to verify with {{ business_name }}.",
    "verification_success": "✅ Verified. You can return to {{ business_name }}.",
    "verification_expired": "This code has expired. Start a new verification.",
    "login_request": (
        "Your sign-in code for {{ business_name }} is {{ code }}. It expires in {{ expires_in }}."
    ),
    "login_success": "You are signed in to {{ business_name }}.",
    "2fa_request": (
        "Your {{ business_name }} security code is {{ code }}. Nobody from {{ business_name }} "
        "will ask you for it."
    ),
    "2fa_success": "Confirmed. You can return to {{ business_name }}.",
    "confirmation_request": "{{ business_name }} asks for your approval. Answer with the buttons.",
    "confirmation_approved": "Approved. {{ business_name }} has been told.",
    "confirmation_denied": "Denied. {{ business_name }} has been told.",
}

_EMAIL_SUBJECTS: dict[str, str] = {
    "verification_request": "Your verification code: {{ code }}",
    "verification_success": "Verified for {{ business_name }}",
    "verification_expired": "Your {{ business_name }} code has expired",
    "login_request": "Your {{ business_name }} sign-in code: {{ code }}",
    "login_success": "Signed in to {{ business_name }}",
    "2fa_request": "Your {{ business_name }} security code: {{ code }}",
    "2fa_success": "Confirmed for {{ business_name }}",
    "confirmation_request": "{{ business_name }} asks for your approval",
    "confirmation_approved": "You approved a request from {{ business_name }}",
    "confirmation_denied": "You denied a request from {{ business_name }}",
}

_CHANNEL_BODIES: dict[tuple[str, str], str] = {
    # proof.holdings' golden vector: a Telegram challenge's instruction is the bare code (the
    # deep link carries it to the bot).
    ("telegram", "verification_request"): "{{ code }}",
    ("email", "verification_request"): (
        "Your verification code for {{ business_name }} is {{ code }}.\n"
        "It expires in {{ expires_in }}. If you did not ask for it, ignore this message."
    ),
}


def default(channel: str, message_type: str) -> Content:
    if message_type in CONVERSATION_TYPES:
        return Content(body=CONVERSATION_TYPES[message_type])
    body = _CHANNEL_BODIES.get((channel, message_type), _DEFAULT_BODIES[message_type])
    subject = _EMAIL_SUBJECTS[message_type] if channel in RICH_CHANNELS else None
    return Content(body=body, subject=subject)


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def _refused(field: str, message: str, code: str = "invalid_string") -> ValidationFailed:
    return ValidationFailed(details=[{"field": field, "message": message, "code": code}])


def validate_template(text: str, field: str = "body", max_length: int = MAX_BODY) -> None:
    """Refuse a template text that is too long, does not parse, uses unknown variables or does
    what the sandbox forbids."""
    if len(text) > max_length:
        raise _refused(field, f"At most {max_length} characters", "too_big")
    try:
        parsed = _environment().parse(text)
    except TemplateSyntaxError as exc:
        raise _refused(field, f"Template syntax: {exc.message}") from exc
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(VARIABLES))
    if unknown:
        raise _refused(
            field,
            f"Unknown variable(s): {', '.join(unknown)}; allowed: {', '.join(VARIABLES)}",
        )
    # A trial render with sample values catches what the sandbox forbids (attribute access,
    # method calls) before the template is stored.
    render_text(text, {name: "sample" for name in VARIABLES}, field=field)


def validate_content(channel: str, content: Content) -> None:
    if not content.body:
        raise _refused("body", "A template needs a body", "too_small")
    validate_template(content.body)
    rich = {
        "subject": (content.subject, MAX_SUBJECT),
        "button_text": (content.button_text, MAX_BUTTON_TEXT),
        "button_url_template": (content.button_url_template, MAX_BUTTON_URL),
    }
    for field, (value, limit) in rich.items():
        if value is None:
            continue
        if channel not in RICH_CHANNELS:
            raise _refused(field, f"Only email templates have a {field}")
        validate_template(value, field, limit)


def render_text(body: str, variables: dict[str, Any], *, field: str = "body") -> str:
    values = {name: "" if variables.get(name) is None else variables[name] for name in VARIABLES}
    try:
        return _environment().from_string(body).render(**values)
    except (SecurityError, UndefinedError, TemplateSyntaxError) as exc:
        raise _refused(field, f"Template could not render: {exc}") from exc


def check_key(channel: str, message_type: str) -> None:
    if channel not in CHANNELS:
        raise NotFound(f"No channel '{channel}'; channels: {', '.join(CHANNELS)}")
    if message_type not in ALL_TYPES:
        raise NotFound(f"No message type '{message_type}' for channel '{channel}'")


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


def _content(row: MessageTemplate) -> Content:
    return Content(
        body=row.body,
        subject=row.subject,
        button_text=row.button_text,
        button_url_template=row.button_url_template,
    )


async def effective(
    session: AsyncSession, project_id: str | None, channel: str, message_type: str
) -> tuple[Content, bool]:
    """The content vouch sends for this channel and type, and whether it is the project's own
    (an inactive template of the project's leaves the default in force)."""
    message_type = INTERNAL_NAMES.get(message_type, message_type)
    row = await get_override(session, project_id, channel, message_type)
    if row is not None and row.is_active:
        return _content(row), True
    return default(channel, message_type), False


@dataclass(frozen=True)
class Rendered:
    body: str
    subject: str | None = None
    button_text: str | None = None
    button_url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"body": self.body}
        for name in ("subject", "button_text", "button_url"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


def render_content(content: Content, variables: dict[str, Any]) -> Rendered:
    def one(text: str | None, field: str) -> str | None:
        return None if text is None else render_text(text, variables, field=field)

    return Rendered(
        body=render_text(content.body, variables),
        subject=one(content.subject, "subject"),
        button_text=one(content.button_text, "button_text"),
        button_url=one(content.button_url_template, "button_url_template"),
    )


async def render(
    session: AsyncSession,
    project_id: str | None,
    channel: str,
    message_type: str,
    variables: dict[str, Any],
) -> str:
    """The body of the message vouch sends, from the project's template or the default."""
    content, _ = await effective(session, project_id, channel, message_type)
    return render_text(content.body, variables)


async def render_message(
    session: AsyncSession,
    project_id: str | None,
    channel: str,
    message_type: str,
    variables: dict[str, Any],
) -> Rendered:
    content, _ = await effective(session, project_id, channel, message_type)
    return render_content(content, variables)


async def put(
    session: AsyncSession,
    project_id: str,
    channel: str,
    message_type: str,
    content: Content,
    is_active: bool = True,
) -> MessageTemplate:
    check_key(channel, message_type)
    validate_content(channel, content)
    row = await get_override(session, project_id, channel, message_type)
    now = truncate_ms(utcnow())
    if row is None:
        row = MessageTemplate(
            id=new_object_id(),
            project_id=project_id,
            channel=channel,
            message_type=message_type,
            version=1,
        )
        session.add(row)
    else:
        row.version = row.version + 1
    row.body = content.body
    row.subject = content.subject
    row.button_text = content.button_text
    row.button_url_template = content.button_url_template
    row.is_active = is_active
    row.updated_at = now
    await session.flush()
    return row


async def delete(session: AsyncSession, project_id: str, channel: str, message_type: str) -> bool:
    check_key(channel, message_type)
    row = await get_override(session, project_id, channel, message_type)
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True


def _shape(channel: str, message_type: str, content: Content) -> dict[str, Any]:
    out: dict[str, Any] = {"channel": channel, "message_type": message_type}
    if content.subject is not None:
        out["subject"] = content.subject
    out["body"] = content.body
    if content.button_text is not None:
        out["button_text"] = content.button_text
    if content.button_url_template is not None:
        out["button_url_template"] = content.button_url_template
    return out


def describe_row(row: MessageTemplate) -> dict[str, Any]:
    """A stored template in the shape of proof.holdings' ``Template``."""
    out: dict[str, Any] = {"id": row.id, "profile_id": row.project_id}
    out.update(_shape(row.channel, row.message_type, _content(row)))
    out.update(
        is_active=row.is_active,
        is_custom=True,
        version=row.version,
        updated_at=isoformat_ms(row.updated_at),
    )
    return out


def describe_default(channel: str, message_type: str) -> dict[str, Any]:
    out = _shape(channel, message_type, default(channel, message_type))
    out.update(is_active=True, is_custom=False)
    return out


async def describe(
    session: AsyncSession, project_id: str, channel: str, message_type: str
) -> dict[str, Any]:
    """The project's own template when it has one (active or not), otherwise the default."""
    check_key(channel, message_type)
    row = await get_override(session, project_id, channel, message_type)
    return describe_row(row) if row is not None else describe_default(channel, message_type)


async def list_custom(session: AsyncSession, project_id: str) -> list[MessageTemplate]:
    rows = await session.scalars(
        select(MessageTemplate)
        .where(MessageTemplate.project_id == project_id)
        .order_by(MessageTemplate.channel, MessageTemplate.message_type)
    )
    return list(rows)


def variable_list() -> list[dict[str, str]]:
    return [{"name": name, "description": text} for name, text in VARIABLES.items()]
