"""``/inbound/*``: provider webhooks. Each request is authenticated with the provider's own
mechanism before anything is parsed or changed; then the dispatcher (``control.inbound``) decides
and the reply goes back through the same provider (recorded instead in test mode).

Server-wide accounts use ``/inbound/<provider>``; a project's own account (bring your own
channel) uses ``/inbound/<provider>/<credential id>``, is authenticated with that account's
secrets, and completes only that project's verifications.

No message is acknowledged and forgotten. Anything that fails before the outcome is decided (a
database error) rolls back and answers 5xx, so the provider redelivers the message. When the
outcome is decided but the reply could not be sent, the outcome is kept (``keeps_changes``) and
the webhook answers 503 so the provider redelivers: the dispatcher answers a redelivered message
the same way without changing anything again (a completed verification is "verified" again). The
one exception is a message that counted a failed attempt: it answers 200 (the failed send is
recorded in ``outbound_messages``), because evaluating it again would count it twice.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from vouch_server.channels import dispatch, outbound, sms, telegram, whatsapp
from vouch_server.channels.base import InboundMessage, Reply, constant_time_equals
from vouch_server.config import Settings
from vouch_server.control import inbound
from vouch_server.deps import RuntimeDep, Session
from vouch_server.errors import BadRequest, Forbidden, RetryLater, Unauthorized
from vouch_server.models import Project, Verification
from vouch_server.runtime import Runtime
from vouch_server.tenancy import credentials, templates

log = logging.getLogger("vouch.inbound")
router = APIRouter(prefix="/inbound", include_in_schema=False)


async def _render(
    session: AsyncSession, runtime: Runtime, channel: str, reply: Reply, v: Verification | None
) -> str:
    project = await session.get(Project, v.project_id) if v is not None else None
    variables = inbound.reply_variables(v, project.name if project else None, runtime.settings)
    variables.update(reply.variables)
    return await templates.render(
        session, v.project_id if v else None, channel, reply.message_type, variables
    )


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadRequest("Body is not JSON", code="invalid_json") from exc
    if not isinstance(body, dict):
        raise BadRequest("Body is not a JSON object", code="invalid_json")
    return body


# -- the body limit -------------------------------------------------------------------------------
# Provider webhooks may be larger than the 10 KB every unauthenticated caller is held to (a long
# Telegram message, a batched WhatsApp notification), but only once the request head shows the
# provider's credentials: Telegram's secret token is compared here, before the body is read;
# WhatsApp's and Twilio's signatures cover the body itself, so here their header must be present
# and well formed for an account that has a secret, and the handler checks the signature itself.
_CHANNEL_OF = {"telegram": "telegram", "whatsapp": "whatsapp", "twilio": "sms"}


def _head(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def body_gate(runtime: Runtime, scope: Scope) -> bool:
    """Whether this webhook request may carry the larger ``/inbound/`` body limit."""
    parts = scope.get("path", "").split("/")[2:]  # "", "inbound", provider, …
    if not parts or parts[0] not in _CHANNEL_OF:
        return False
    provider, rest = parts[0], parts[1:]
    if provider == "twilio":
        if not rest or rest[0] != "sms":
            return False
        rest = rest[1:]
    if len(rest) > 1:
        return False
    settings = runtime.settings
    if rest:
        async with runtime.db.session() as session:
            found = await credentials.settings_for_credential(
                session, runtime.settings, rest[0], _CHANNEL_OF[provider]
            )
        if found is None:
            return False
        settings = found[0]
    if provider == "telegram":
        given = _head(scope, telegram.SECRET_HEADER.encode())
        return constant_time_equals(settings.telegram_webhook_secret, given)
    if provider == "whatsapp":
        given = _head(scope, whatsapp.SIGNATURE_HEADER.encode()) or ""
        return (
            bool(settings.whatsapp_app_secret) and _WHATSAPP_SIGNATURE.fullmatch(given) is not None
        )
    given = _head(scope, sms.SIGNATURE_256_HEADER.encode()) or _head(
        scope, sms.SIGNATURE_HEADER.encode()
    )
    return bool(settings.twilio_auth_token) and bool(given)


_WHATSAPP_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")


def _missing(setting: str) -> RetryLater:
    return RetryLater(f"{setting} is not configured")


async def _project_settings(
    session: AsyncSession, runtime: Runtime, credential_id: str, channel: str
) -> tuple[Settings, str]:
    found = await credentials.settings_for_credential(
        session, runtime.settings, credential_id, channel
    )
    if found is None:
        raise Unauthorized("Unknown channel credential")
    return found


def _test_mode(verification: Verification | None) -> bool:
    return verification is not None and verification.environment == "test"


def _undelivered(channel: str) -> RetryLater:
    """The reply could not be sent: keep the outcome and have the provider redeliver."""
    return RetryLater(f"{channel} reply could not be delivered", keeps_changes=True)


# -- Telegram ------------------------------------------------------------------------------------------
@router.post("/telegram")
async def telegram_webhook(
    request: Request, session: Session, runtime: RuntimeDep
) -> dict[str, bool]:
    return await _telegram(
        request, session, runtime, runtime.settings, bot="default", project_id=None
    )


@router.post("/telegram/{credential_id}")
async def project_telegram_webhook(
    credential_id: str, request: Request, session: Session, runtime: RuntimeDep
) -> dict[str, bool]:
    settings, project_id = await _project_settings(session, runtime, credential_id, "telegram")
    return await _telegram(
        request, session, runtime, settings, bot=credential_id, project_id=project_id
    )


async def _telegram(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    settings: Settings,
    *,
    bot: str,
    project_id: str | None,
) -> dict[str, bool]:
    if not constant_time_equals(
        settings.telegram_webhook_secret, request.headers.get(telegram.SECRET_HEADER)
    ):
        raise Unauthorized("Invalid or missing X-Telegram-Bot-Api-Secret-Token")
    raw_update = _json_object(await request.body())
    if await dispatch.offer(
        session,
        runtime,
        dispatch.InboundContext("telegram", settings, project_id, bot, raw_update),
    ):
        return {"ok": True}
    update = telegram.parse_update(raw_update)
    reply, verification = await inbound.handle_telegram(
        session, runtime, update, bot=bot, project_id=project_id
    )
    if update.chat_id is None:
        return {"ok": True}
    text = await _render(session, runtime, "telegram", reply, verification)
    token = settings.telegram_bot_token
    chat_id = update.chat_id
    markup = reply.extra.get("reply_markup")

    async def send() -> None:
        if not token:
            raise _missing("VOUCH_TELEGRAM_BOT_TOKEN")
        await telegram.TelegramBot(settings, token).send_message(chat_id, text, markup)

    sent = await outbound.deliver(
        session,
        test_mode=_test_mode(verification),
        channel="telegram",
        recipient=chat_id,
        message_type=reply.message_type,
        text=text,
        transport=send,
        project_id=verification.project_id if verification else project_id,
        verification_id=verification.id if verification else None,
        payload={"reply_markup": markup},
    )
    if sent.status == "failed" and not inbound.counted_attempt(reply):
        raise _undelivered("telegram")
    return {"ok": True}


# -- WhatsApp ------------------------------------------------------------------------------------------
@router.get("/whatsapp")
async def whatsapp_handshake(request: Request, runtime: RuntimeDep) -> Response:
    return _handshake(request, runtime.settings)


@router.get("/whatsapp/{credential_id}")
async def project_whatsapp_handshake(
    credential_id: str, request: Request, session: Session, runtime: RuntimeDep
) -> Response:
    settings, _ = await _project_settings(session, runtime, credential_id, "whatsapp")
    return _handshake(request, settings)


def _handshake(request: Request, settings: Settings) -> Response:
    params = request.query_params
    if params.get("hub.mode") == "subscribe" and constant_time_equals(
        settings.whatsapp_verify_token, params.get("hub.verify_token")
    ):
        return Response(params.get("hub.challenge", ""), media_type="text/plain")
    raise Forbidden("Verification token mismatch")


@router.post("/whatsapp")
async def whatsapp_webhook(
    request: Request, session: Session, runtime: RuntimeDep
) -> dict[str, bool]:
    return await _whatsapp(request, session, runtime, runtime.settings, project_id=None)


@router.post("/whatsapp/{credential_id}")
async def project_whatsapp_webhook(
    credential_id: str, request: Request, session: Session, runtime: RuntimeDep
) -> dict[str, bool]:
    settings, project_id = await _project_settings(session, runtime, credential_id, "whatsapp")
    return await _whatsapp(request, session, runtime, settings, project_id=project_id)


async def _whatsapp(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    settings: Settings,
    *,
    project_id: str | None,
) -> dict[str, bool]:
    raw = await request.body()
    if not whatsapp.signature_valid(
        settings.whatsapp_app_secret, raw, request.headers.get(whatsapp.SIGNATURE_HEADER)
    ):
        raise Unauthorized("Invalid or missing X-Hub-Signature-256")
    notification = _json_object(raw)
    for entry in notification.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            for item in value.get("messages") or []:
                context = dispatch.InboundContext(
                    "whatsapp", settings, project_id, "default", {"message": item, "value": value}
                )
                if isinstance(item, dict) and await dispatch.offer(session, runtime, context):
                    item["_handled"] = True
    undelivered = False
    for message in whatsapp.parse_messages(notification):
        if message.handled:
            continue
        reply, verification = await inbound.handle_message(
            session,
            runtime,
            InboundMessage(
                channel="whatsapp",
                sender=message.phone,
                sender_alt=message.bsuid,
                text=message.text,
                provider_message_id=message.message_id,
            ),
            project_id=project_id,
        )
        recipient = message.phone or message.bsuid
        if recipient is None:
            continue
        text = await _render(session, runtime, "whatsapp", reply, verification)

        async def send(to: str = recipient, body: str = text) -> None:
            if not (settings.whatsapp_phone_number_id and settings.whatsapp_access_token):
                raise _missing("VOUCH_WHATSAPP_PHONE_NUMBER_ID / VOUCH_WHATSAPP_ACCESS_TOKEN")
            client = whatsapp.WhatsAppClient(
                settings, settings.whatsapp_phone_number_id, settings.whatsapp_access_token
            )
            await client.send_text(to, body)

        sent = await outbound.deliver(
            session,
            test_mode=_test_mode(verification),
            channel="whatsapp",
            recipient=recipient,
            message_type=reply.message_type,
            text=text,
            transport=send,
            project_id=verification.project_id if verification else project_id,
            verification_id=verification.id if verification else None,
        )
        if sent.status == "failed" and not inbound.counted_attempt(reply):
            undelivered = True
    if undelivered:
        raise _undelivered("whatsapp")
    return {"ok": True}


# -- SMS (Twilio) --------------------------------------------------------------------------------------
def _public_url(runtime: Runtime, request: Request) -> str:
    """The URL the provider called, as it was configured with it (behind any proxy)."""
    query = request.url.query
    return runtime.settings.public_url + request.url.path + (f"?{query}" if query else "")


@router.post("/twilio/sms")
async def twilio_sms_webhook(request: Request, session: Session, runtime: RuntimeDep) -> Response:
    return await _twilio(request, session, runtime, runtime.settings, project_id=None)


@router.post("/twilio/sms/{credential_id}")
async def project_twilio_sms_webhook(
    credential_id: str, request: Request, session: Session, runtime: RuntimeDep
) -> Response:
    settings, project_id = await _project_settings(session, runtime, credential_id, "sms")
    return await _twilio(request, session, runtime, settings, project_id=project_id)


async def _twilio(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    settings: Settings,
    *,
    project_id: str | None,
) -> Response:
    raw = await request.body()
    url = _public_url(runtime, request)
    is_json = request.headers.get("content-type", "").startswith("application/json")
    params: list[tuple[str, str]] = (
        [] if is_json else parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    )
    signed = sms.signature_valid(
        settings.twilio_auth_token,
        url,
        params,
        sha1_header=request.headers.get(sms.SIGNATURE_HEADER),
        sha256_header=request.headers.get(sms.SIGNATURE_256_HEADER),
    )
    if not signed or (is_json and not sms.body_hash_valid(url, raw)):
        raise Unauthorized("Invalid or missing X-Twilio-Signature")
    fields: dict[str, Any] = _json_object(raw) if is_json else dict(params)
    if await dispatch.offer(
        session, runtime, dispatch.InboundContext("sms", settings, project_id, "default", fields)
    ):
        return Response(
            '<?xml version="1.0" encoding="UTF-8"?><Response/>', media_type="application/xml"
        )
    from_raw = str(fields.get("From") or "")
    sender = inbound.normalize_phone(from_raw)
    reply, verification = await inbound.handle_message(
        session,
        runtime,
        InboundMessage(
            channel="sms",
            sender=sender,
            text=str(fields.get("Body") or ""),
            provider_message_id=str(fields.get("MessageSid") or "") or None,
        ),
        project_id=project_id,
    )
    text = await _render(session, runtime, "sms", reply, verification)
    test_mode = _test_mode(verification)

    async def answered_by_twiml() -> None:
        return None  # the reply rides on this HTTP response (TwiML)

    await outbound.deliver(
        session,
        test_mode=test_mode,
        channel="sms",
        recipient=sender or from_raw[:32],
        message_type=reply.message_type,
        text=text,
        transport=answered_by_twiml,
        project_id=verification.project_id if verification else project_id,
        verification_id=verification.id if verification else None,
    )
    twiml = (
        "<Response/>" if test_mode else f"<Response><Message>{escape(text)}</Message></Response>"
    )
    return Response('<?xml version="1.0" encoding="UTF-8"?>' + twiml, media_type="application/xml")
