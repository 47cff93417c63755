"""Telegram Bot API (https://core.telegram.org/bots/api).

Inbound: ``POST /inbound/telegram`` receives an ``Update``; Telegram sends the secret given to
``setWebhook`` in ``X-Telegram-Bot-Api-Secret-Token``, compared here in constant time.
Outbound: ``sendMessage`` (with a ``request_contact`` reply keyboard when vouch needs the
person's own phone number), ``setWebhook``, ``getMe``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vouch_server.channels.base import provider_request
from vouch_server.config import Settings
from vouch_server.errors import RetryLater

SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 (a header name)


@dataclass(frozen=True)
class TelegramUpdate:
    """The parts of an Update that matter here."""

    update_id: int | None
    user_id: str | None
    chat_id: str | None
    text: str | None
    contact_phone: str | None
    contact_user_id: str | None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_update(update: dict[str, Any]) -> TelegramUpdate:
    message = _object(update.get("message") or update.get("edited_message"))
    sender = _object(message.get("from"))
    chat = _object(message.get("chat"))
    contact = _object(message.get("contact"))
    text = message.get("text")
    return TelegramUpdate(
        update_id=update.get("update_id") if isinstance(update.get("update_id"), int) else None,
        user_id=str(sender["id"]) if sender.get("id") is not None else None,
        chat_id=str(chat["id"]) if chat.get("id") is not None else None,
        text=text if isinstance(text, str) else None,
        contact_phone=str(contact["phone_number"]) if contact.get("phone_number") else None,
        contact_user_id=str(contact["user_id"]) if contact.get("user_id") is not None else None,
    )


CONTACT_KEYBOARD = {
    "keyboard": [[{"text": "Share my phone number", "request_contact": True}]],
    "one_time_keyboard": True,
    "resize_keyboard": True,
}
REMOVE_KEYBOARD = {"remove_keyboard": True}


class TelegramBot:
    def __init__(self, settings: Settings, token: str) -> None:
        self.settings = settings
        self._token = token

    def _url(self, method: str) -> str:
        return f"{self.settings.telegram_api_base.rstrip('/')}/bot{self._token}/{method}"

    async def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = await provider_request(self.settings, "POST", self._url(method), json=payload)
        try:
            body = response.json()
        except ValueError as exc:
            raise RetryLater(f"Telegram {method}: unreadable answer") from exc
        if response.status_code != 200 or not body.get("ok"):
            # The description never contains the token; the URL (which does) is not logged.
            raise RetryLater(f"Telegram {method} failed: {str(body.get('description'))[:200]}")
        result = body.get("result")
        return result if isinstance(result, dict) else {"result": result}

    async def send_message(
        self, chat_id: str, text: str, reply_markup: dict[str, Any] | None = None
    ) -> None:
        payload: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if reply_markup is not None:
            payload["reply_markup"] = reply_markup
        await self.call("sendMessage", payload)

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.call(
            "setWebhook",
            {"url": url, "secret_token": secret, "allowed_updates": ["message", "callback_query"]},
        )

    async def get_me(self) -> dict[str, Any]:
        return await self.call("getMe", {})
