"""A live phone ``submit`` that relays the provider's own signed message: WhatsApp notifications
signed with X-Hub-Signature-256 (HMAC-SHA256 of the raw body), Twilio form posts signed by
Twilio's own library. vouch checks the signature itself; the proof says ``relayed: true``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import pytest
from twilio.request_validator import RequestValidator

from tests.channels.conftest import TWILIO_TOKEN, WA_APP_SECRET
from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import create_verification

PHONE = "+37069199199"
INTEGRATOR_URL = "https://integrator.example/hooks/twilio"


def wa_notification(text: str, *, wa_id: str = "37069199199", sent: int | None = None) -> bytes:
    message = {
        "from": wa_id,
        "id": "wamid.HBgLMzcwNjkxOTkxOTkVAgASGBQzQUI0",
        "timestamp": str(int(time.time()) if sent is None else sent),
        "text": {"body": text},
        "type": "text",
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1098765"},
        "contacts": [{"profile": {"name": "Ona"}, "wa_id": wa_id}],
        "messages": [message],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1022", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body, indent=1).encode()  # not compact: the signature is over these bytes


def wa_signature(raw: bytes, secret: str = WA_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def twilio_form(code: str, sender: str = PHONE) -> dict[str, str]:
    return {
        "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "AccountSid": "AC123",
        "From": sender,
        "To": "+13125550100",
        "Body": code,
        "NumMedia": "0",
    }


async def submit(
    cc: httpx.AsyncClient, keys: Keys, id_: str, relay: dict[str, Any]
) -> httpx.Response:
    return await cc.post(
        f"/api/v1/verifications/{id_}/submit", json={"relay": relay}, headers=keys.live_headers
    )


async def state(cc: httpx.AsyncClient, keys: Keys, id_: str) -> dict[str, Any]:
    response = await cc.get(f"/api/v1/verifications/{id_}", headers=keys.live_headers)
    return response.json()  # type: ignore[no-any-return]


async def live(cc: httpx.AsyncClient, keys: Keys, channel: str) -> dict[str, Any]:
    return await create_verification(cc, keys.live_headers, channel=channel, identifier=PHONE)


class TestWhatsAppRelay:
    async def test_signed_message_from_the_phone_completes_and_says_relayed(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await live(cc, ckeys, "whatsapp")
        raw = wa_notification(f"my code is {v['challenge']['code']}")
        response = await submit(
            cc,
            ckeys,
            v["id"],
            {"body": raw.decode(), "headers": {"X-Hub-Signature-256": wa_signature(raw)}},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "verified"
        claims = jwt.decode(body["proof_token"], options={"verify_signature": False})
        assert claims["relayed"] is True and claims["channel"] == "whatsapp"
        assert "test" not in claims

    async def test_a_direct_webhook_proof_does_not_say_relayed(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await live(cc, ckeys, "whatsapp")
        raw = wa_notification(v["challenge"]["code"])
        response = await cc.post(
            "/inbound/whatsapp",
            content=raw,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": wa_signature(raw)},
        )
        assert response.status_code == 200
        after = await state(cc, ckeys, v["id"])
        assert after["status"] == "verified"
        claims = jwt.decode(after["proof_token"], options={"verify_signature": False})
        assert "relayed" not in claims

    @pytest.mark.parametrize(
        "signature",
        [None, "sha256=" + "0" * 64, wa_signature(b"other bytes"), "signed-by-me"],
    )
    async def test_without_a_valid_signature_nothing_changes(
        self, cc: httpx.AsyncClient, ckeys: Keys, signature: str | None
    ) -> None:
        v = await live(cc, ckeys, "whatsapp")
        raw = wa_notification(v["challenge"]["code"])
        headers = {} if signature is None else {"X-Hub-Signature-256": signature}
        response = await submit(cc, ckeys, v["id"], {"body": raw.decode(), "headers": headers})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_signature"
        after = await state(cc, ckeys, v["id"])
        assert after["status"] == "pending" and after["attempts"] == 0

    async def test_a_message_signed_with_another_secret_is_refused(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await live(cc, ckeys, "whatsapp")
        raw = wa_notification(v["challenge"]["code"])
        forged = wa_signature(raw, "the-integrators-guess")
        response = await submit(
            cc, ckeys, v["id"], {"body": raw.decode(), "headers": {"x-hub-signature-256": forged}}
        )
        assert response.json()["error"]["code"] == "invalid_signature"

    async def test_signed_message_from_another_number_is_a_failed_attempt(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await live(cc, ckeys, "whatsapp")
        raw = wa_notification(v["challenge"]["code"], wa_id="447700900123")
        response = await submit(
            cc,
            ckeys,
            v["id"],
            {"body": raw.decode(), "headers": {"X-Hub-Signature-256": wa_signature(raw)}},
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "source_mismatch"
        after = await state(cc, ckeys, v["id"])
        assert after["status"] == "pending" and after["attempts"] == 1

    async def test_a_message_sent_before_the_verification_existed_is_refused(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await live(cc, ckeys, "whatsapp")
        raw = wa_notification(v["challenge"]["code"], sent=int(time.time()) - 3600)
        response = await submit(
            cc,
            ckeys,
            v["id"],
            {"body": raw.decode(), "headers": {"X-Hub-Signature-256": wa_signature(raw)}},
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_code"
        assert (await state(cc, ckeys, v["id"]))["status"] == "pending"

    @pytest.mark.parametrize(
        "relay",
        [
            "a string",
            {"headers": {}},
            {"body": "", "headers": {}},
            {"body": "{}", "headers": "x"},
            {"body": "{}", "headers": {}, "url": 5},
        ],
    )
    async def test_malformed_relay_is_a_validation_error(
        self, cc: httpx.AsyncClient, ckeys: Keys, relay: Any
    ) -> None:
        v = await live(cc, ckeys, "whatsapp")
        response = await submit(cc, ckeys, v["id"], relay)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"
        assert (await state(cc, ckeys, v["id"]))["attempts"] == 0


class TestTwilioRelay:
    def signed(self, fields: dict[str, str], url: str = INTEGRATOR_URL) -> dict[str, Any]:
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, fields)
        return {"body": urlencode(fields), "url": url, "headers": {"X-Twilio-Signature": signature}}

    async def test_signed_form_from_the_phone_completes_and_says_relayed(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await live(cc, ckeys, "sms")
        response = await submit(
            cc, ckeys, v["id"], self.signed(twilio_form(v["challenge"]["code"]))
        )
        assert response.status_code == 200, response.text
        claims = jwt.decode(response.json()["proof_token"], options={"verify_signature": False})
        assert claims["relayed"] is True and claims["channel"] == "sms"

    async def test_signature_for_another_url_is_refused(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await live(cc, ckeys, "sms")
        relay = self.signed(twilio_form(v["challenge"]["code"]))
        relay["url"] = "https://integrator.example/other"
        response = await submit(cc, ckeys, v["id"], relay)
        assert response.json()["error"]["code"] == "invalid_signature"

    async def test_edited_body_is_refused(self, cc: httpx.AsyncClient, ckeys: Keys) -> None:
        v = await live(cc, ckeys, "sms")
        # Signed for another sender, then the sender edited to the phone being verified.
        relay = self.signed(twilio_form(v["challenge"]["code"], sender="+447700900123"))
        relay["body"] = urlencode(twilio_form(v["challenge"]["code"]))
        response = await submit(cc, ckeys, v["id"], relay)
        assert response.json()["error"]["code"] == "invalid_signature"
        assert (await state(cc, ckeys, v["id"]))["status"] == "pending"

    async def test_url_is_required(self, cc: httpx.AsyncClient, ckeys: Keys) -> None:
        v = await live(cc, ckeys, "sms")
        relay = self.signed(twilio_form(v["challenge"]["code"]))
        del relay["url"]
        response = await submit(cc, ckeys, v["id"], relay)
        assert response.json()["error"]["code"] == "validation_error"


class TestTelegramRelay:
    async def test_telegram_relay_is_not_accepted(self, cc: httpx.AsyncClient, ckeys: Keys) -> None:
        v = await live(cc, ckeys, "telegram")
        response = await submit(
            cc, ckeys, v["id"], {"body": "{}", "headers": {"X-Telegram-Bot-Api-Secret-Token": "x"}}
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unsupported_for_type"
