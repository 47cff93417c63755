"""What consent and approvals read from provider payloads (already authenticated by the inbound
route): Telegram ``Update`` objects (Bot API "Update", "CallbackQuery", "Message") and WhatsApp
Cloud API message objects (``type: interactive`` with ``interactive.button_reply``, ``type:
button``, ``type: text`` with an optional ``context`` naming the message replied to)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vouch_server.consent import recipients


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: Any) -> str | None:
    return str(value) if isinstance(value, int | str) and not isinstance(value, bool) else None


# -- Telegram ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TelegramPress:
    """A ``callback_query``: someone pressed an inline button."""

    callback_query_id: str
    data: str
    user_id: str | None
    chat_id: str | None
    message_id: str | None


def telegram_press(update: dict[str, Any]) -> TelegramPress | None:
    query = _object(update.get("callback_query"))
    query_id = _id(query.get("id"))
    data = query.get("data")
    if query_id is None or not isinstance(data, str):
        return None
    message = _object(query.get("message"))
    return TelegramPress(
        callback_query_id=query_id,
        data=data,
        user_id=_id(_object(query.get("from")).get("id")),
        chat_id=_id(_object(message.get("chat")).get("id")),
        message_id=_id(message.get("message_id")),
    )


@dataclass(frozen=True)
class TelegramText:
    chat_id: str
    user_id: str | None
    text: str
    reply_to_message_id: str | None


def telegram_text(update: dict[str, Any]) -> TelegramText | None:
    message = _object(update.get("message"))
    text = message.get("text")
    chat_id = _id(_object(message.get("chat")).get("id"))
    if not isinstance(text, str) or chat_id is None:
        return None
    return TelegramText(
        chat_id=chat_id,
        user_id=_id(_object(message.get("from")).get("id")),
        text=text,
        reply_to_message_id=_id(_object(message.get("reply_to_message")).get("message_id")),
    )


def bot_command(text: str) -> tuple[str, str] | None:
    """``/start@my_bot auth_x`` → ``("/start", "auth_x")`` (Bot API "Commands")."""
    if not text.startswith("/"):
        return None
    head, _, rest = text.strip().partition(" ")
    return head.split("@", 1)[0].lower(), rest.strip()


def is_private_chat_id(chat_id: str) -> bool:
    """Users' (private) chat ids are positive; groups and channels are negative."""
    return not chat_id.startswith("-")


# -- WhatsApp ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WhatsAppInbound:
    phone: str | None  # E.164
    bsuid: str | None
    button_id: str | None
    text: str | None
    context_id: str | None  # the message this one replies to

    @property
    def senders(self) -> set[str]:
        return {s for s in (self.phone, self.bsuid) if s}

    @property
    def reply_to(self) -> str | None:
        return self.phone or self.bsuid


def _e164(wa_id: str | None) -> str | None:
    if not wa_id:
        return None
    digits = wa_id.strip().lstrip("+")
    if not digits.isdigit():
        return None
    try:
        return recipients.phone("+" + digits)
    except recipients.BadRecipient:
        return None


def whatsapp_inbound(payload: dict[str, Any]) -> WhatsAppInbound:
    """``payload`` is ``{"message": <message object>, "value": <its change value>}``."""
    message = _object(payload.get("message"))
    value = _object(payload.get("value"))
    wa_id = _id(message.get("from"))
    bsuid = _id(message.get("from_user_id"))
    if bsuid is None:
        for contact in value.get("contacts") or []:
            contact = _object(contact)
            if contact.get("user_id") and (wa_id is None or _id(contact.get("wa_id")) == wa_id):
                bsuid = _id(contact.get("user_id"))
                break
    button_id = None
    text = None
    kind = message.get("type")
    if kind == "interactive":
        interactive = _object(message.get("interactive"))
        reply = _object(interactive.get("button_reply") or interactive.get("list_reply"))
        button_id = _id(reply.get("id"))
    elif kind == "button":
        button_id = _id(_object(message.get("button")).get("payload"))
    elif kind == "text" or "text" in message:
        body = _object(message.get("text")).get("body")
        text = body if isinstance(body, str) else None
    return WhatsAppInbound(
        phone=_e164(wa_id),
        bsuid=bsuid,
        button_id=button_id,
        text=text,
        context_id=_id(_object(message.get("context")).get("id")),
    )


# -- words people answer with ----------------------------------------------------------------------
_APPROVE = {"approve", "approved", "yes", "y", "ok", "allow", "✅", "👍"}
_DENY = {"deny", "denied", "no", "n", "reject", "rejected", "❌", "👎"}


def decision_in(text: str) -> tuple[str, str] | None:
    """``"approve ship it"`` → ``("approve", "ship it")``; None if it does not start with one."""
    stripped = text.strip()
    if not stripped:
        return None
    head, _, rest = stripped.partition(" ")
    word = head.rstrip(":,.!-").lower()
    if word in _APPROVE:
        return "approve", rest.strip(" :,-\n")
    if word in _DENY:
        return "deny", rest.strip(" :,-\n")
    return None
