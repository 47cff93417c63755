"""Sending consent prompts and approval requests to people, on every channel.

Shared by consent (``vouch_server.consent``) and approvals: Telegram messages with inline keyboards
(Bot API ``sendMessage``, ``editMessageText``, ``answerCallbackQuery``), WhatsApp interactive reply
buttons (Cloud API ``type: interactive``, ``interactive.type: button``), SMS (Twilio Messages API)
and email (SMTP through ``vouch_server.channels.email``). Every send goes through ``outbound.deliver``:
recorded instead of sent in test mode, and its outcome written to ``outbound_messages``.

Limits that shape the messages: Telegram ``callback_data`` is at most 64 bytes, so buttons carry a
short opaque key (``ha:<key>``); a WhatsApp interactive body is at most 1,024 characters and a
button title at most 20, so a longer request goes out as a text message followed by the buttons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.channels import outbound, telegram
from vouch_server.channels.base import provider_request
from vouch_server.channels.whatsapp import GRAPH_VERSION
from vouch_server.config import Settings
from vouch_server.errors import RetryLater

WHATSAPP_BODY_MAX = 1024
WHATSAPP_TITLE_MAX = 20

Send = Callable[[], Awaitable[str | None]]


@dataclass(frozen=True)
class Sent:
    status: str  # sent | failed | recorded
    provider_message_id: str | None
    error: str | None


async def deliver(
    session: AsyncSession,
    *,
    test_mode: bool,
    channel: str,
    recipient: str,
    message_type: str,
    text: str,
    send: Send,
    project_id: str | None,
    payload: dict[str, Any] | None = None,
) -> Sent:
    """``outbound.deliver`` that also keeps the provider's message id (for later edits)."""
    holder: dict[str, str | None] = {}

    async def transport() -> None:
        holder["id"] = await send()

    row = await outbound.deliver(
        session,
        test_mode=test_mode,
        channel=channel,
        recipient=recipient,
        message_type=message_type,
        text=text,
        transport=transport,
        project_id=project_id,
        payload=payload,
    )
    return Sent(row.status, holder.get("id"), row.error)


# -- Telegram ----------------------------------------------------------------------------------
def _bot(settings: Settings) -> telegram.TelegramBot:
    if not settings.telegram_bot_token:
        raise RetryLater("VOUCH_TELEGRAM_BOT_TOKEN is not configured")
    return telegram.TelegramBot(settings, settings.telegram_bot_token)


def inline_keyboard(buttons: list[tuple[str, str]]) -> dict[str, Any]:
    """One row of inline buttons, ``(label, callback_data)``."""
    return {"inline_keyboard": [[{"text": t, "callback_data": d} for t, d in buttons]]}


async def telegram_send(
    settings: Settings, chat_id: str, text: str, reply_markup: dict[str, Any] | None = None
) -> str | None:
    payload: dict[str, Any] = {"chat_id": chat_id, "text": text}
    if reply_markup is not None:
        payload["reply_markup"] = reply_markup
    result = await _bot(settings).call("sendMessage", payload)
    message_id = result.get("message_id")
    return str(message_id) if message_id is not None else None


async def telegram_edit(settings: Settings, chat_id: str, message_id: str, text: str) -> None:
    """Replace a message's text; leaving out ``reply_markup`` removes its inline keyboard."""
    payload: dict[str, Any] = {"chat_id": chat_id, "text": text}
    payload["message_id"] = int(message_id) if message_id.isdigit() else message_id
    await _bot(settings).call("editMessageText", payload)


async def telegram_answer(settings: Settings, callback_query_id: str, text: str) -> None:
    """Stop the button's spinner and show ``text`` (Bot API ``answerCallbackQuery``)."""
    await _bot(settings).call(
        "answerCallbackQuery", {"callback_query_id": callback_query_id, "text": text[:200]}
    )


# -- WhatsApp ----------------------------------------------------------------------------------
def _whatsapp_target(to: str) -> dict[str, str]:
    # A phone number goes in "to" as digits; a business-scoped user id in "recipient".
    digits = to.lstrip("+")
    return {"to": digits} if digits.isdigit() else {"recipient": to}


async def _whatsapp_post(settings: Settings, body: dict[str, Any]) -> str | None:
    if not (settings.whatsapp_phone_number_id and settings.whatsapp_access_token):
        raise RetryLater(
            "VOUCH_WHATSAPP_PHONE_NUMBER_ID / VOUCH_WHATSAPP_ACCESS_TOKEN not configured"
        )
    base = settings.whatsapp_api_base.rstrip("/")
    url = f"{base}/{GRAPH_VERSION}/{settings.whatsapp_phone_number_id}/messages"
    response = await provider_request(
        settings,
        "POST",
        url,
        json=body,
        headers={"Authorization": f"Bearer {settings.whatsapp_access_token}"},
    )
    if response.status_code >= 300:
        raise RetryLater(f"WhatsApp send failed with HTTP {response.status_code}")
    try:
        messages = response.json().get("messages") or []
        return str(messages[0]["id"]) if messages else None
    except (ValueError, AttributeError, KeyError, IndexError, TypeError):
        return None


async def whatsapp_text(settings: Settings, to: str, text: str) -> str | None:
    return await _whatsapp_post(
        settings,
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **_whatsapp_target(to),
            "type": "text",
            "text": {"body": text},
        },
    )


async def whatsapp_buttons(
    settings: Settings, to: str, text: str, buttons: list[tuple[str, str]]
) -> str | None:
    """Interactive reply buttons, ``(reply id, title)``; returns the message id of the buttons.

    A text longer than an interactive body may be is sent first as its own message."""
    body = text
    if len(text) > WHATSAPP_BODY_MAX:
        await whatsapp_text(settings, to, text)
        body = "Please answer the request above."
    return await _whatsapp_post(
        settings,
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **_whatsapp_target(to),
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": body},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": id_, "title": title[:WHATSAPP_TITLE_MAX]}}
                        for id_, title in buttons
                    ]
                },
            },
        },
    )


# -- SMS ---------------------------------------------------------------------------------------
async def sms_send(settings: Settings, to: str, text: str) -> str | None:
    from vouch_server.channels.sms import TwilioClient

    if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_numbers):
        raise RetryLater("VOUCH_TWILIO_ACCOUNT_SID / _AUTH_TOKEN / _NUMBERS not configured")
    # The first configured number sends ("US=+13125550100,EU=…").
    first = settings.twilio_numbers.split(",")[0]
    sender = first.partition("=")[2].strip() or first.strip()
    client = TwilioClient(settings, settings.twilio_account_sid, settings.twilio_auth_token)
    await client.send_sms(sender, to, text)
    return None


# -- email -------------------------------------------------------------------------------------
async def email_send(
    server: Settings, effective: Settings, to: str, subject: str, text: str
) -> str | None:
    """Hand a plain-text mail to the SMTP relay (a project's own relay gets the SSRF guard,
    as the URL was typed into the API; the operator's ``VOUCH_SMTP_URL`` may be local)."""
    from vouch_server.channels import email as mail

    message = mail.build_message(
        sender=effective.email_from, recipient=to, subject=subject, text=text
    )
    await mail.send_mail(server, effective, message)
    return str(message["Message-ID"])
