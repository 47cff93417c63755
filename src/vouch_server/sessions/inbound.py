"""The person's side of a phone-first session, as it arrives from the providers (registered with
``vouch_server.channels.dispatch``, so these run before the reverse-OTP dispatcher; a message
that carries no session code is left to the others).

Each payload reaches these handlers only after its provider's own authentication (Telegram's
secret token, WhatsApp's ``X-Hub-Signature-256``, Twilio's ``X-Twilio-Signature``), so the
sender it names is what the provider vouches for:

- WhatsApp: ``from`` (the sender's number in digits). A message carrying only a business-scoped
  user id proves no number and completes nothing.
- SMS: Twilio's ``From``.
- Telegram: a user's number is known only from a contact they share whose ``user_id`` is their
  own (Bot API ``Contact``). ``/start <code>`` from the deep link binds the session to that user
  and asks for the contact (``request_contact`` keyboard); the contact completes it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.approval import messaging, payloads
from vouch_server.channels import dispatch, telegram
from vouch_server.control.inbound import normalize_phone
from vouch_server.kit.clock import truncate_ms, utcnow
from vouch_server.models import PhoneSession
from vouch_server.runtime import Runtime
from vouch_server.sessions import repository, service

ASK_CONTACT = "Tap “Share my phone number” below to verify your number."
FOREIGN_CONTACT = "Please share your own contact, with the button below."
VERIFIED = "✅ Your phone number is verified. You can go back to where you started."
EXPIRED = "This verification has expired. Please start again."
NO_NUMBER = (
    "WhatsApp did not include your phone number with this message, so it cannot be verified "
    "here. Please verify over SMS or Telegram instead."
)


def _outcome(row: PhoneSession) -> str:
    return VERIFIED if row.status == "verified" else EXPIRED


async def _say(
    session: AsyncSession,
    context: dispatch.InboundContext,
    row: PhoneSession,
    recipient: str,
    text: str,
    *,
    message_type: str,
    reply_markup: dict[str, Any] | None = None,
) -> None:
    """Reply through the provider that brought the message (recorded, not sent, in test mode)."""
    settings, channel = context.settings, context.provider

    async def send() -> str | None:
        if channel == "telegram":
            return await messaging.telegram_send(settings, recipient, text, reply_markup)
        if channel == "whatsapp":
            return await messaging.whatsapp_text(settings, recipient, text)
        return await messaging.sms_send(settings, recipient, text)

    await messaging.deliver(
        session,
        test_mode=row.environment == "test",
        channel=channel,
        recipient=recipient,
        message_type=message_type,
        text=text,
        send=send,
        project_id=row.project_id,
        payload={"reply_markup": reply_markup} if reply_markup is not None else None,
    )


async def _telegram(
    session: AsyncSession, runtime: Runtime, context: dispatch.InboundContext
) -> bool:
    update = telegram.parse_update(context.payload)
    if update.user_id is None or update.chat_id is None:
        return False
    now = utcnow()
    if update.contact_phone is not None:
        row = await repository.bound_to_telegram_user(
            session, context.bot, update.user_id, now, project_id=context.project_id
        )
        if row is None:
            return False  # not a session's contact: control's dispatcher may want it
        phone = normalize_phone(update.contact_phone)
        if update.contact_user_id != update.user_id or phone is None:
            await _say(
                session,
                context,
                row,
                update.chat_id,
                FOREIGN_CONTACT,
                message_type="session_foreign_contact",
                reply_markup=telegram.CONTACT_KEYBOARD,
            )
            return True
        row = await service.complete(session, runtime, row, phone)
        await _say(
            session,
            context,
            row,
            update.chat_id,
            _outcome(row),
            message_type=f"session_{row.status}",
            reply_markup=telegram.REMOVE_KEYBOARD,
        )
        return True
    text = (update.text or "").strip()
    if text.startswith("/start"):
        text = text[len("/start") :].strip()
    row = await repository.open_by_codes(
        session,
        service.codes_in(runtime, text),
        "telegram",
        now,
        project_id=context.project_id,
    )
    if row is None:
        return False
    await repository.bind_telegram(
        session, row.id, bot=context.bot, user_id=update.user_id, now=truncate_ms(now)
    )
    await _say(
        session,
        context,
        row,
        update.chat_id,
        ASK_CONTACT,
        message_type="session_ask_contact",
        reply_markup=telegram.CONTACT_KEYBOARD,
    )
    return True


async def _by_code(
    session: AsyncSession,
    runtime: Runtime,
    context: dispatch.InboundContext,
    text: str | None,
    phone: str | None,
    reply_to: str | None,
) -> bool:
    """WhatsApp and SMS: the code and the sender's number arrive in the same message."""
    row = await repository.open_by_codes(
        session,
        service.codes_in(runtime, text),
        context.provider,
        utcnow(),
        project_id=context.project_id,
    )
    if row is None:
        return False
    if phone is None:
        if reply_to is not None:
            await _say(session, context, row, reply_to, NO_NUMBER, message_type="session_no_number")
        return True
    row = await service.complete(session, runtime, row, phone)
    if row.status == "verified" and row.phone_number != phone:
        return True  # someone else's message got there first; this one proves nothing
    await _say(session, context, row, phone, _outcome(row), message_type=f"session_{row.status}")
    return True


async def _whatsapp(
    session: AsyncSession, runtime: Runtime, context: dispatch.InboundContext
) -> bool:
    message = payloads.whatsapp_inbound(context.payload)
    return await _by_code(session, runtime, context, message.text, message.phone, message.reply_to)


async def _sms(session: AsyncSession, runtime: Runtime, context: dispatch.InboundContext) -> bool:
    phone = normalize_phone(str(context.payload.get("From") or ""))
    text = str(context.payload.get("Body") or "")
    return await _by_code(session, runtime, context, text, phone, phone)


dispatch.register("telegram", _telegram)
dispatch.register("whatsapp", _whatsapp)
dispatch.register("sms", _sms)
