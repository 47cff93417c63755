"""The person's side of consent, as it arrives from the providers (registered with
``vouch_server.channels.dispatch`` at import time, so these run before the reverse-OTP dispatcher).

Telegram: ``/start auth_<token>`` (the deep link was opened: send the prompt), a press of Allow /
Deny (``callback_data`` ``ca:<key>`` / ``cd:<key>``), ``/stop``. WhatsApp: a press of the prompt's
reply buttons, ``STOP``. SMS: ``YES`` / ``NO`` to the prompt, ``STOP``.

Only the recipient the request names may answer it: the Telegram chat (and, for a private chat, the
user) the request was for, the phone number or business-scoped user id it was sent to. Anyone
else's press is refused and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.approval import messaging, payloads
from vouch_server.channels import dispatch
from vouch_server.config import Settings
from vouch_server.consent import service
from vouch_server.models.delegation import Authorization
from vouch_server.runtime import Runtime

log = logging.getLogger("vouch.consent")

ALLOW, DENY = "ca:", "cd:"


def _outcome_text(a: Authorization) -> str:
    if a.status == "active":
        return (
            f"✅ You allowed {a.business_name} to send you approval requests. "
            "Send /stop at any time to stop."
            if a.channel == "telegram"
            else f"✅ You allowed {a.business_name} to send you approval requests. "
            "Reply STOP at any time to stop."
        )
    if a.status == "denied":
        return f"You declined. {a.business_name} will not send you approval requests."
    if a.status == "expired":
        return "This request has expired."
    if a.status == "revoked":
        return "This authorization has been revoked."
    return "This request is still waiting for your answer."


def _stopped_text(changed: list[Authorization]) -> str:
    names = sorted({a.business_name for a in changed})
    if not names:
        return "You have no active authorizations."
    return "Stopped. You will no longer get approval requests from " + ", ".join(names) + "."


async def _say(
    session: AsyncSession,
    *,
    settings: Settings,
    channel: str,
    recipient: str,
    text: str,
    test_mode: bool,
    project_id: str | None,
    message_type: str,
) -> None:
    async def send() -> str | None:
        if channel == "telegram":
            return await messaging.telegram_send(settings, recipient, text)
        if channel == "whatsapp":
            return await messaging.whatsapp_text(settings, recipient, text)
        return await messaging.sms_send(settings, recipient, text)

    await messaging.deliver(
        session,
        test_mode=test_mode,
        channel=channel,
        recipient=recipient,
        message_type=message_type,
        text=text,
        send=send,
        project_id=project_id,
    )


def _belongs(a: Authorization | None, context: dispatch.InboundContext, channel: str) -> bool:
    """A project's own bot or number answers only that project's requests."""
    return (
        a is not None
        and a.channel == channel
        and (context.project_id is None or context.project_id == a.project_id)
    )


# -- Telegram --------------------------------------------------------------------------------------
async def _telegram(
    session: AsyncSession, runtime: Runtime, context: dispatch.InboundContext
) -> bool:
    press = payloads.telegram_press(context.payload)
    if press is not None:
        if press.data.startswith((ALLOW, DENY)):
            await _telegram_press(session, runtime, context, press)
            return True
        return False
    message = payloads.telegram_text(context.payload)
    if message is None:
        return False
    command = payloads.bot_command(message.text)
    if command is None:
        return False
    name, argument = command
    if name == "/start" and argument.startswith("auth_"):
        await _telegram_start(session, runtime, context, message, argument[len("auth_") :])
        return True
    if name == "/stop":
        changed = await service.stop(
            session,
            runtime,
            channel="telegram",
            recipients={message.chat_id},
            project_id=context.project_id,
        )
        await _say(
            session,
            settings=context.settings,
            channel="telegram",
            recipient=message.chat_id,
            text=_stopped_text(changed),
            test_mode=bool(changed) and all(a.environment == "test" for a in changed),
            project_id=context.project_id,
            message_type="consent_stopped",
        )
        return True
    return False


def _telegram_recipient_ok(a: Authorization, chat_id: str | None, user_id: str | None) -> bool:
    if chat_id is None or chat_id != a.recipient:
        return False
    # In a private chat the chat id is the user's id: only that user may answer.
    return not payloads.is_private_chat_id(a.recipient) or user_id == a.recipient


async def _telegram_start(
    session: AsyncSession,
    runtime: Runtime,
    context: dispatch.InboundContext,
    message: payloads.TelegramText,
    token: str,
) -> None:
    a = await service.by_start_token(session, token)
    test_mode = a is not None and a.environment == "test"
    if not _belongs(a, context, "telegram") or a is None:
        text = "This link is not valid. Ask for a new one."
    elif not _telegram_recipient_ok(a, message.chat_id, message.user_id):
        text = "This link was made for another Telegram account, so it cannot be used here."
    else:
        a = await service.expire_if_due(session, runtime, a)
        if a.status == "pending":
            await service.send_telegram_prompt(session, runtime, a, context.settings)
            return
        text = _outcome_text(a)
    await _say(
        session,
        settings=context.settings,
        channel="telegram",
        recipient=message.chat_id,
        text=text,
        test_mode=test_mode,
        project_id=context.project_id,
        message_type="consent_refused",
    )


async def _telegram_press(
    session: AsyncSession,
    runtime: Runtime,
    context: dispatch.InboundContext,
    press: payloads.TelegramPress,
) -> None:
    a = await service.by_callback_key(session, press.data[3:])
    answer: str
    edit: str | None = None
    if not _belongs(a, context, "telegram") or a is None:
        answer = "This request is not valid."
    elif not _telegram_recipient_ok(a, press.chat_id, press.user_id):
        answer = "Only the person this request was sent to can answer it."
    else:
        a = await service.expire_if_due(session, runtime, a)
        allow = press.data.startswith(ALLOW)
        if a.status == "pending":
            actor = service.actor_hash("telegram", press.user_id or press.chat_id or "")
            await service.decide(session, runtime, a, allow=allow, actor=actor)
        answer = _outcome_text(a)
        edit = answer
    settings = context.settings
    test_mode = a is not None and a.environment == "test"
    await _provider_call(
        session,
        test_mode=test_mode,
        recipient=press.chat_id or "",
        message_type="consent_answer",
        text=answer,
        call=lambda: messaging.telegram_answer(settings, press.callback_query_id, answer),
        project_id=a.project_id if a is not None else context.project_id,
    )
    if edit is not None and press.chat_id and press.message_id:
        chat_id, message_id = press.chat_id, press.message_id
        await _provider_call(
            session,
            test_mode=test_mode,
            recipient=chat_id,
            message_type="consent_outcome",
            text=edit,
            call=lambda: messaging.telegram_edit(settings, chat_id, message_id, edit),
            project_id=a.project_id if a is not None else None,
        )


async def _provider_call(
    session: AsyncSession,
    *,
    test_mode: bool,
    recipient: str,
    message_type: str,
    text: str,
    call: Callable[[], Awaitable[None]],
    project_id: str | None,
) -> None:
    async def send() -> str | None:
        await call()
        return None

    await messaging.deliver(
        session,
        test_mode=test_mode,
        channel="telegram",
        recipient=recipient,
        message_type=message_type,
        text=text,
        send=send,
        project_id=project_id,
    )


# -- WhatsApp --------------------------------------------------------------------------------------
async def _whatsapp(
    session: AsyncSession, runtime: Runtime, context: dispatch.InboundContext
) -> bool:
    inbound = payloads.whatsapp_inbound(context.payload)
    reply_to = inbound.reply_to
    if reply_to is None:
        return False
    if inbound.button_id is not None and inbound.button_id.startswith((ALLOW, DENY)):
        a = await service.by_callback_key(session, inbound.button_id[3:])
        if not _belongs(a, context, "whatsapp") or a is None:
            text = "This request is not valid."
        elif a.recipient not in inbound.senders:
            text = "Only the person this request was sent to can answer it."
        else:
            a = await service.expire_if_due(session, runtime, a)
            if a.status == "pending":
                actor = service.actor_hash("whatsapp", a.recipient)
                allow = inbound.button_id.startswith(ALLOW)
                await service.decide(session, runtime, a, allow=allow, actor=actor)
            text = _outcome_text(a)
        await _say(
            session,
            settings=context.settings,
            channel="whatsapp",
            recipient=reply_to,
            text=text,
            test_mode=a is not None and a.environment == "test",
            project_id=a.project_id if a is not None else context.project_id,
            message_type="consent_outcome",
        )
        return True
    if inbound.text is not None and inbound.text.strip().upper() == "STOP":
        return await _stop_by_text(session, runtime, context, "whatsapp", inbound.senders, reply_to)
    return False


async def _stop_by_text(
    session: AsyncSession,
    runtime: Runtime,
    context: dispatch.InboundContext,
    channel: str,
    senders: set[str],
    reply_to: str,
) -> bool:
    changed = await service.stop(
        session, runtime, channel=channel, recipients=senders, project_id=context.project_id
    )
    if not changed:
        return False  # not ours: the message goes on to the other handlers
    await _say(
        session,
        settings=context.settings,
        channel=channel,
        recipient=reply_to,
        text=_stopped_text(changed),
        test_mode=all(a.environment == "test" for a in changed),
        project_id=changed[0].project_id,
        message_type="consent_stopped",
    )
    return True


# -- SMS -------------------------------------------------------------------------------------------
async def _sms(session: AsyncSession, runtime: Runtime, context: dispatch.InboundContext) -> bool:
    from_raw = str(context.payload.get("From") or "")
    body = str(context.payload.get("Body") or "").strip()
    try:
        phone = service.normalize_recipient("sms", from_raw)
    except Exception:
        return False
    if body.upper() == "STOP":
        return await _stop_by_text(session, runtime, context, "sms", {phone}, phone)
    word = body.upper()
    if word not in ("YES", "NO"):
        return False
    pending = await service.pending_for(session, "sms", phone, context.project_id)
    if not pending:
        return False
    a = await service.expire_if_due(session, runtime, pending[0])  # the latest request
    await service.decide(
        session, runtime, a, allow=word == "YES", actor=service.actor_hash("sms", phone)
    )
    await _say(
        session,
        settings=context.settings,
        channel="sms",
        recipient=phone,
        text=_outcome_text(a),
        test_mode=a.environment == "test",
        project_id=a.project_id,
        message_type="consent_outcome",
    )
    return True


dispatch.register("telegram", _telegram)
dispatch.register("whatsapp", _whatsapp)
dispatch.register("sms", _sms)
