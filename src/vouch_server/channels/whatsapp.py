"""WhatsApp Cloud API (Meta Graph API).

Inbound: ``GET /inbound/whatsapp`` answers the verification handshake (``hub.mode=subscribe``,
``hub.verify_token``, ``hub.challenge``); ``POST /inbound/whatsapp`` must carry
``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``, checked on the raw bytes
in constant time before the JSON is even parsed.
Outbound: ``POST {base}/{version}/{phone-number-id}/messages`` with a bearer access token.

Senders: ``from`` is the sender's WhatsApp id (its phone number in digits). Accounts using
business-scoped user ids (BSUID, e.g. ``US.13491208655302741918``) may arrive with no phone
number at all; such a message proves the BSUID, never a phone number.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import phonenumbers

from vouch_server.channels.base import provider_request
from vouch_server.config import Settings
from vouch_server.errors import RetryLater

SIGNATURE_HEADER = "x-hub-signature-256"
GRAPH_VERSION = "v21.0"


def signature_valid(app_secret: str | None, raw_body: bytes, header: str | None) -> bool:
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len("sha256=") :].strip().lower().encode())


@dataclass(frozen=True)
class WhatsAppMessage:
    phone: str | None  # E.164
    bsuid: str | None
    text: str
    message_id: str | None
    handled: bool = False  # taken by another family's handler (see channels.dispatch)


def _e164(wa_id: str | None) -> str | None:
    if not wa_id:
        return None
    digits = wa_id.strip().lstrip("+")
    if not digits.isdigit():
        return None
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_messages(payload: dict[str, Any]) -> list[WhatsAppMessage]:
    """Text (and button/interactive reply) messages of a webhook notification."""
    out: list[WhatsAppMessage] = []
    for entry in payload.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            contacts = value.get("contacts") or []
            contact_ids = {
                c.get("wa_id"): c.get("user_id") for c in contacts if isinstance(c, dict)
            }
            for message in value.get("messages") or []:
                if not isinstance(message, dict):
                    continue
                text = ""
                if isinstance(message.get("text"), dict):
                    text = str(message["text"].get("body") or "")
                elif isinstance(message.get("button"), dict):
                    text = str(message["button"].get("text") or "")
                wa_id = message.get("from")
                bsuid = message.get("from_user_id") or contact_ids.get(wa_id)
                if bsuid is None and not wa_id and len(contacts) == 1:
                    bsuid = contacts[0].get("user_id")
                out.append(
                    WhatsAppMessage(
                        phone=_e164(str(wa_id)) if wa_id else None,
                        bsuid=str(bsuid) if bsuid else None,
                        text=text,
                        message_id=str(message.get("id")) if message.get("id") else None,
                        handled=bool(message.get("_handled")),
                    )
                )
    return out


class WhatsAppClient:
    def __init__(self, settings: Settings, phone_number_id: str, access_token: str) -> None:
        self.settings = settings
        self.phone_number_id = phone_number_id
        self._token = access_token

    async def send_text(self, to: str, body: str) -> None:
        base = self.settings.whatsapp_api_base.rstrip("/")
        url = f"{base}/{GRAPH_VERSION}/{self.phone_number_id}/messages"
        recipient: dict[str, Any] = (
            {"to": to.lstrip("+")} if to.lstrip("+").isdigit() else {"recipient": to}
        )
        response = await provider_request(
            self.settings,
            "POST",
            url,
            json={
                "messaging_product": "whatsapp",
                **recipient,
                "type": "text",
                "text": {"body": body},
            },
            headers={"Authorization": f"Bearer {self._token}"},
        )
        if response.status_code >= 300:
            raise RetryLater(f"WhatsApp send failed with HTTP {response.status_code}")
