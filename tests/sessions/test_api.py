"""``POST /api/v1/sessions`` and ``GET /api/v1/sessions/{id}``: the person's number is learnt from
the provider's authenticated message carrying the session's code (Telegram: the user's own shared
contact; WhatsApp: ``from``; SMS: Twilio's ``From``), never from the API caller; the completed
session carries an ordinary verification and its proof."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from twilio.request_validator import RequestValidator

from tests.channels.conftest import TWILIO_TOKEN
from tests.channels.test_sms import URL as TWILIO_URL
from tests.channels.test_sms import form
from tests.channels.test_sms import post as post_sms
from tests.channels.test_telegram import USER_ID
from tests.channels.test_telegram import post as post_telegram
from tests.channels.test_telegram import update as tg_update
from tests.channels.test_whatsapp import notification
from tests.channels.test_whatsapp import post as post_whatsapp
from tests.fixtures.providers import FakeApi
from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import PHONE
from vouch_server.kit.clock import utcnow
from vouch_server.models import OutboundMessage, PhoneSession, Proof, Verification

URL = "/api/v1/sessions"


async def create(cc: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await cc.post(URL, json=body, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def get(cc: httpx.AsyncClient, headers: dict[str, str], id_: str) -> dict[str, Any]:
    response = await cc.get(f"{URL}/{id_}", headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def code_of(created: dict[str, Any]) -> str:
    link = created["deep_link"]
    if link.startswith("https://t.me/"):
        return str(parse_qs(link.split("?", 1)[1])["start"][0])
    if link.startswith("https://wa.me/"):
        return str(parse_qs(link.split("?", 1)[1])["text"][0])
    return str(created["sms_code"])


def contact(phone: str = PHONE.lstrip("+"), user_id: int = USER_ID) -> dict[str, Any]:
    return {"phone_number": phone, "first_name": "Ona", "user_id": user_id}


async def counts(capp: FastAPI) -> tuple[int, int]:
    async with capp.state.vouch.db.session() as session:
        verifications = await session.scalar(select(func.count()).select_from(Verification))
        proofs = await session.scalar(select(func.count()).select_from(Proof))
    return int(verifications or 0), int(proofs or 0)


def _png(data_url: str) -> bytes:
    assert data_url.startswith("data:image/png;base64,")
    return base64.b64decode(data_url.split(",", 1)[1])


class TestCreate:
    async def test_telegram_session_gives_a_deep_link_and_its_qr_code(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        created = await create(cc, ckeys.live_headers, client_metadata={"order": 1})
        assert created["id"].startswith("sess_") and len(created["id"]) == 29
        assert created["channel"] == "telegram" and created["status"] == "pending"
        assert created["deep_link"].startswith("https://t.me/vouch_test_bot?start=")
        assert len(code_of(created)) == 8
        assert created["qr_text"] == created["deep_link"]
        assert _png(created["qr_code"]).startswith(b"\x89PNG\r\n\x1a\n")
        assert created["instructions"] and created["expires_at"]
        assert "sms_code" not in created
        polled = await get(cc, ckeys.live_headers, created["id"])
        assert polled["status"] == "pending"
        assert "phone_number" not in polled and "proof" not in polled

    async def test_sms_session_gives_the_code_and_every_number(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        created = await create(cc, ckeys.live_headers, channel="sms")
        code = created["sms_code"]
        assert created["sms_message"] == code
        assert created["deep_link"] == f"sms:+13125550100?body={code}"
        americas = created["sms_dids"]["americas"]
        assert americas["did"] == "+13125550100"
        assert americas["qr_text"] == created["deep_link"]
        assert _png(americas["qr_code"]).startswith(b"\x89PNG")

    async def test_whatsapp_session_links_to_the_business_number(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        created = await create(cc, ckeys.live_headers, channel="whatsapp")
        assert created["deep_link"] == f"https://wa.me/15550001111?text={code_of(created)}"

    @pytest.mark.parametrize("body", [{"channel": "email"}, {"channel": "viber"}, {"context": 3}])
    async def test_bad_input_is_a_validation_error_with_details(
        self, cc: httpx.AsyncClient, ckeys: Keys, body: dict[str, Any]
    ) -> None:
        response = await cc.post(URL, json=body, headers=ckeys.live_headers)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "validation_error" and error["details"]

    async def test_an_unconfigured_channel_is_refused(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.post(URL, json={"channel": "whatsapp"}, headers=keys.live_headers)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "channel_not_configured"

    async def test_needs_a_key_and_other_projects_see_nothing(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        created = await create(cc, ckeys.test_headers)
        assert (await cc.post(URL, json={})).status_code == 401
        assert (await cc.get(f"{URL}/{created['id']}")).status_code == 401
        other = await cc.get(f"{URL}/{created['id']}", headers=ckeys.auth(ckeys.other_test))
        assert other.status_code == 404
        assert (
            await cc.get(f"{URL}/{created['id']}", headers=ckeys.live_headers)
        ).status_code == 404
        assert (await cc.get(f"{URL}/sess_nope", headers=ckeys.test_headers)).status_code == 404


class TestTelegram:
    async def test_start_then_own_contact_verifies_the_contacts_number(
        self, cc: httpx.AsyncClient, ckeys: Keys, fake_api: FakeApi, capp: FastAPI
    ) -> None:
        # A number in the body is not the caller's to give: it is ignored.
        created = await create(cc, ckeys.live_headers, phone_number="+14155550100")
        started = await post_telegram(cc, tg_update(f"/start {code_of(created)}"))
        assert started.status_code == 200
        asked = fake_api.calls_to("/sendMessage")[-1].json()
        assert asked["chat_id"] == str(USER_ID)
        assert asked["reply_markup"]["keyboard"][0][0]["request_contact"] is True
        assert (await get(cc, ckeys.live_headers, created["id"]))["status"] == "pending"

        shared = await post_telegram(cc, tg_update(contact=contact()))
        assert shared.status_code == 200
        done = await get(cc, ckeys.live_headers, created["id"])
        assert done["status"] == "verified"
        assert done["phone_number"] == PHONE
        assert done["verified_at"]
        assert "✅" in fake_api.calls_to("/sendMessage")[-1].json()["text"]

        verification = (
            await cc.get(
                f"/api/v1/verifications/{done['verification_id']}", headers=ckeys.live_headers
            )
        ).json()
        assert verification["status"] == "verified"
        assert verification["identifier"] == PHONE and verification["channel"] == "telegram"
        assert done["proof"]["token"] == verification["proof_token"]
        claims = jwt.decode(done["proof"]["token"], options={"verify_signature": False})
        assert claims["sub"] == done["verification_id"]
        assert claims["identifier_hash"] == hashlib.sha256(PHONE.encode()).hexdigest()
        assert await counts(capp) == (1, 1)

    async def test_someone_elses_contact_is_refused(
        self, cc: httpx.AsyncClient, ckeys: Keys, fake_api: FakeApi, capp: FastAPI
    ) -> None:
        created = await create(cc, ckeys.live_headers)
        await post_telegram(cc, tg_update(f"/start {code_of(created)}"))
        await post_telegram(cc, tg_update(contact=contact("447700900123", user_id=777)))
        assert (await get(cc, ckeys.live_headers, created["id"]))["status"] == "pending"
        assert "own contact" in fake_api.calls_to("/sendMessage")[-1].json()["text"]
        assert await counts(capp) == (0, 0)

    async def test_a_contact_from_a_user_who_did_not_open_the_session_completes_nothing(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI
    ) -> None:
        created = await create(cc, ckeys.live_headers)
        await post_telegram(cc, tg_update(f"/start {code_of(created)}"))
        stranger = tg_update(contact=contact("447700900123", user_id=999), user_id=999)
        assert (await post_telegram(cc, stranger)).status_code == 200
        assert (await get(cc, ckeys.live_headers, created["id"]))["status"] == "pending"
        assert await counts(capp) == (0, 0)

    async def test_the_contact_again_after_completion_changes_nothing(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI
    ) -> None:
        created = await create(cc, ckeys.live_headers)
        await post_telegram(cc, tg_update(f"/start {code_of(created)}"))
        await post_telegram(cc, tg_update(contact=contact()))
        await post_telegram(cc, tg_update(contact=contact()))
        await post_telegram(cc, tg_update(f"/start {code_of(created)}"))
        assert (await get(cc, ckeys.live_headers, created["id"]))["status"] == "verified"
        assert await counts(capp) == (1, 1)

    async def test_test_mode_replies_are_recorded_not_sent(
        self, cc: httpx.AsyncClient, ckeys: Keys, fake_api: FakeApi, capp: FastAPI
    ) -> None:
        created = await create(cc, ckeys.test_headers)
        await post_telegram(cc, tg_update(f"/start {code_of(created)}"))
        await post_telegram(cc, tg_update(contact=contact()))
        done = await get(cc, ckeys.test_headers, created["id"])
        assert done["status"] == "verified" and done["test_mode"] is True
        assert jwt.decode(done["proof"]["token"], options={"verify_signature": False})["test"]
        assert fake_api.calls_to("/sendMessage") == []
        async with capp.state.vouch.db.session() as session:
            recorded = await session.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.status == "recorded")
            )
        assert recorded == 2


class TestWhatsAppAndSms:
    async def test_whatsapp_message_verifies_its_senders_number(
        self, cc: httpx.AsyncClient, ckeys: Keys, fake_api: FakeApi
    ) -> None:
        created = await create(cc, ckeys.live_headers, channel="whatsapp")
        response = await post_whatsapp(cc, notification(code_of(created), wa_id="14155550100"))
        assert response.status_code == 200
        done = await get(cc, ckeys.live_headers, created["id"])
        assert done["status"] == "verified" and done["phone_number"] == "+14155550100"
        assert done["proof"]["token"]
        sent = fake_api.calls_to("/messages")[-1].json()
        assert sent["to"] == "+14155550100" or sent["to"] == "14155550100"

    async def test_whatsapp_message_without_a_number_proves_nothing(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI
    ) -> None:
        created = await create(cc, ckeys.live_headers, channel="whatsapp")
        message = notification(code_of(created), wa_id=None, bsuid="US.13491208655302741918")
        assert (await post_whatsapp(cc, message)).status_code == 200
        assert (await get(cc, ckeys.live_headers, created["id"]))["status"] == "pending"
        assert await counts(capp) == (0, 0)

    async def test_unsigned_whatsapp_message_changes_nothing(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        created = await create(cc, ckeys.live_headers, channel="whatsapp")
        response = await post_whatsapp(cc, notification(code_of(created)), signature="sha256=00")
        assert response.status_code == 401
        assert (await get(cc, ckeys.live_headers, created["id"]))["status"] == "pending"

    async def test_signed_sms_verifies_the_senders_number(
        self, cc: httpx.AsyncClient, ckeys: Keys, fake_api: FakeApi
    ) -> None:
        created = await create(cc, ckeys.live_headers, channel="sms")
        fields = form(f"code {created['sms_code']}", sender="+447700900123")
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, fields)
        assert (await post_sms(cc, fields, signature)).status_code == 200
        done = await get(cc, ckeys.live_headers, created["id"])
        assert done["status"] == "verified" and done["phone_number"] == "+447700900123"
        assert fake_api.calls_to("/Messages.json"), "the reply goes out through Twilio"

    async def test_a_wrong_code_completes_nothing(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI
    ) -> None:
        created = await create(cc, ckeys.live_headers, channel="sms")
        wrong = "AAAAAAAA" if created["sms_code"] != "AAAAAAAA" else "BBBBBBBB"
        fields = form(wrong)
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, fields)
        assert (await post_sms(cc, fields, signature)).status_code == 200
        assert (await get(cc, ckeys.live_headers, created["id"]))["status"] == "pending"
        assert await counts(capp) == (0, 0)


class TestExpiry:
    async def test_an_expired_session_is_expired_and_its_code_completes_nothing(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI
    ) -> None:
        created = await create(cc, ckeys.live_headers, channel="whatsapp")
        async with capp.state.vouch.db.session() as session:
            await session.execute(
                update(PhoneSession)
                .where(PhoneSession.id == created["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        await post_whatsapp(cc, notification(code_of(created)))
        assert (await get(cc, ckeys.live_headers, created["id"]))["status"] == "expired"
        assert await counts(capp) == (0, 0)


class TestOnce:
    async def test_the_same_message_delivered_twice_at_once_verifies_once(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI
    ) -> None:
        """A provider redelivering while the first delivery is still being handled: the session
        row is locked by whoever completes it, so one verification and one proof."""
        for _ in range(3):
            created = await create(cc, ckeys.live_headers, channel="whatsapp")
            message = notification(code_of(created))
            responses = await asyncio.gather(*(post_whatsapp(cc, message) for _ in range(2)))
            assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
            done = await get(cc, ckeys.live_headers, created["id"])
            assert done["status"] == "verified"
        assert await counts(capp) == (3, 3)
