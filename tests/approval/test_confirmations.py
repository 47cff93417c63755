"""Confirmations: consent before contact, requests on every channel (Telegram inline keyboards,
WhatsApp reply buttons, email links, the web link), decisions from the providers' exact callback
payloads with comments, first response wins, timeouts, long poll and live events, proofs."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from tests.approval.standins import (
    CHAT_ID,
    EMAIL,
    OTHER_CHAT_ID,
    OTHER_WA_ID,
    PHONE,
    WA_ID,
    consent_telegram,
    consent_whatsapp,
    create_confirmation,
    create_hitl,
    events_of,
    outbound_of,
    post_telegram,
    post_whatsapp,
    sent_to,
    tg_message,
    tg_press,
    verify_offline,
    wa_button,
    wa_text,
)
from tests.channels.email_standins import SmtpSink
from tests.fixtures.providers import FakeApi
from tests.fixtures.tenancy import Keys
from vouch_server.approval.endpoints import sweep
from vouch_server.kit.clock import utcnow
from vouch_server.models import Proof
from vouch_server.models.delegation import Confirmation

TELEGRAM = {"type": "telegram", "config": {"chat_id": str(CHAT_ID)}}
WHATSAPP = {"type": "whatsapp", "config": {"phone_number": PHONE}}
EMAIL_CHANNEL = {"type": "email", "config": {"address": EMAIL}}
WEB = {"type": "web"}
WAMID = "wamid.HBgLMzcwNjkxOTkxOTkVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


async def live_setup(
    dc: httpx.AsyncClient, dkeys: Keys, channels: list[dict[str, Any]]
) -> dict[str, Any]:
    """Consent on Telegram and WhatsApp, then a HITL config with ``channels``."""
    await consent_telegram(dc, dkeys.live_headers)
    await consent_whatsapp(dc, dkeys.live_headers)
    return await create_hitl(dc, dkeys.live_headers, channels)


def request_message(fake_api: FakeApi) -> dict[str, Any]:
    """The approval request as the Bot API received it (the last sendMessage with buttons)."""
    with_buttons = [m for m in sent_to(fake_api, "/sendMessage") if "reply_markup" in m]
    return with_buttons[-1]


def telegram_button(fake_api: FakeApi, label: str) -> str:
    keyboard = request_message(fake_api)["reply_markup"]["inline_keyboard"][0]
    return str(next(b["callback_data"] for b in keyboard if label in b["text"]))


def whatsapp_button(fake_api: FakeApi, title: str) -> str:
    interactive = [m for m in sent_to(fake_api, "/messages") if m.get("type") == "interactive"]
    buttons = interactive[-1]["interactive"]["action"]["buttons"]
    return str(next(b["reply"]["id"] for b in buttons if b["reply"]["title"] == title))


async def fetch(dc: httpx.AsyncClient, headers: dict[str, str], id_: str) -> dict[str, Any]:
    return (await dc.get(f"/api/v1/confirmations/{id_}", headers=headers)).json()  # type: ignore[no-any-return]


async def expire_now(app: FastAPI, id_: str) -> None:
    async with app.state.vouch.db.session() as session:
        await session.execute(
            update(Confirmation)
            .where(Confirmation.id == id_)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


class TestConsentFirst:
    async def test_nobody_consented_is_refused_and_sends_nothing(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi, dapp: FastAPI
    ) -> None:
        hitl = await create_hitl(dc, dkeys.live_headers, [TELEGRAM, WHATSAPP])
        response = await create_confirmation(dc, dkeys.live_headers, hitl["id"])
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "consent_required"
        assert [d["field"] for d in error["details"]] == ["channels.0", "channels.1"]
        assert fake_api.calls == []
        async with dapp.state.vouch.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(Confirmation)) == 0

    async def test_a_channel_without_consent_is_reported_not_skipped(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        await consent_telegram(dc, dkeys.live_headers)
        hitl = await create_hitl(dc, dkeys.live_headers, [TELEGRAM, WHATSAPP])
        response = await create_confirmation(dc, dkeys.live_headers, hitl["id"])
        assert response.status_code == 201
        channels = response.json()["channels"]
        assert channels[0]["type"] == "telegram" and channels[0]["status"] == "sent"
        assert channels[0]["authorization_id"]
        assert channels[1] == {
            "type": "whatsapp",
            "phone_number": PHONE,
            "status": "not_authorized",
            "error": channels[1]["error"],
        }
        assert "has not consented" in channels[1]["error"]
        assert [m for m in sent_to(fake_api, "/messages") if m.get("type") == "interactive"][
            1:
        ] == []  # only the consent prompt ever went to WhatsApp

    async def test_a_revoked_consent_stops_the_requests(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        authorization = await consent_telegram(dc, dkeys.live_headers)
        await dc.delete(f"/api/v1/authorizations/{authorization['id']}", headers=dkeys.live_headers)
        hitl = await create_hitl(dc, dkeys.live_headers, [TELEGRAM])
        response = await create_confirmation(dc, dkeys.live_headers, hitl["id"])
        assert response.status_code == 403

    async def test_test_mode_needs_no_consent_and_sends_nothing(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi, smtp: SmtpSink, dapp: FastAPI
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, [TELEGRAM, WHATSAPP, EMAIL_CHANNEL])
        response = await create_confirmation(dc, dkeys.test_headers, hitl["id"])
        assert response.status_code == 201
        assert [c["status"] for c in response.json()["channels"]] == ["recorded"] * 3
        assert fake_api.calls == [] and smtp.messages == []
        recorded = await outbound_of(dapp, "approval_request")
        assert {r.channel for r in recorded} == {"telegram", "whatsapp", "email"}
        assert all(r.status == "recorded" for r in recorded)


class TestRequests:
    async def test_every_channel_gets_the_request(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi, smtp: SmtpSink
    ) -> None:
        hitl = await live_setup(dc, dkeys, [TELEGRAM, WHATSAPP, EMAIL_CHANNEL, WEB])
        response = await create_confirmation(
            dc, dkeys.live_headers, hitl["id"], message="Deploy v2.1 to production?"
        )
        assert response.status_code == 201
        body = response.json()
        assert body["message_hash"] == hashlib.sha256(b"Deploy v2.1 to production?").hexdigest()
        statuses = {c["type"]: c["status"] for c in body["channels"]}
        assert statuses == {
            "telegram": "sent",
            "whatsapp": "sent",
            "email": "not_authorized",
            "web": "link",
        }
        assert body["approval_url"].startswith("https://vouch.test/approve/")

        telegram = request_message(fake_api)
        assert "Deploy v2.1 to production?" in telegram["text"]
        buttons = telegram["reply_markup"]["inline_keyboard"][0]
        assert [b["text"] for b in buttons] == ["✅ Approve", "❌ Deny"]
        assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
        assert all(body["id"] not in b["callback_data"] for b in buttons)

        interactive = [m for m in sent_to(fake_api, "/messages") if m.get("type") == "interactive"]
        request = interactive[-1]
        assert request["to"] == WA_ID and request["messaging_product"] == "whatsapp"
        assert request["interactive"]["type"] == "button"
        assert "Deploy v2.1 to production?" in request["interactive"]["body"]["text"]
        assert [b["reply"]["title"] for b in request["interactive"]["action"]["buttons"]] == [
            "Approve",
            "Deny",
        ]

    async def test_email_carries_approve_and_deny_links(
        self, dc: httpx.AsyncClient, dkeys: Keys, smtp: SmtpSink
    ) -> None:
        created = (
            await dc.post(
                "/api/v1/authorizations",
                json={"channel": "email", "recipient": EMAIL, "business_name": "Acme"},
                headers=dkeys.live_headers,
            )
        ).json()
        assert created["status"] == "pending"
        [(_, _, prompt)] = smtp.messages
        link = next(w for w in prompt.get_content().split() if "/approve/" in w)
        await dc.post(link.replace("https://vouch.test", ""), data={"action": "allow"})
        hitl = await create_hitl(dc, dkeys.live_headers, [EMAIL_CHANNEL])
        response = await create_confirmation(dc, dkeys.live_headers, hitl["id"])
        assert response.status_code == 201, response.text
        assert response.json()["channels"][0]["status"] == "sent"
        request = smtp.messages[-1][2]
        assert request["Subject"] == "Approval request: Production Deploys"
        content = request.get_content()
        assert "?action=approve" in content and "?action=deny" in content

    async def test_a_long_request_goes_out_as_text_then_buttons_on_whatsapp(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        hitl = await live_setup(dc, dkeys, [WHATSAPP])
        message = "Wire 120,000 EUR to the supplier? " + "Details. " * 150
        response = await create_confirmation(dc, dkeys.live_headers, hitl["id"], message=message)
        assert response.status_code == 201
        *_, text, buttons = sent_to(fake_api, "/messages")
        assert text["type"] == "text" and message.strip() in text["text"]["body"]
        assert len(buttons["interactive"]["body"]["text"]) <= 1024

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"message": ""}, "message"),
            ({"message": "x" * 2001}, "message"),
            ({"message": "ok", "proof_expiry_days": 0}, "proof_expiry_days"),
            ({"message": "ok", "timeout_seconds": 86401}, "timeout_seconds"),
        ],
    )
    async def test_invalid_requests_are_refused(
        self, dc: httpx.AsyncClient, dkeys: Keys, body: dict[str, Any], field: str
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        response = await dc.post(
            "/api/v1/confirmations",
            json={"hitl_id": hitl["id"], **body},
            headers=dkeys.test_headers,
        )
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["field"] == field

    async def test_unknown_hitl_is_404(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        response = await create_confirmation(dc, dkeys.test_headers, "0" * 24)
        assert response.status_code == 404


class TestTelegramDecision:
    async def test_approve_press_decides_and_the_proof_verifies_offline(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi, dapp: FastAPI
    ) -> None:
        hitl = await live_setup(dc, dkeys, [TELEGRAM, WHATSAPP])
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        message_id = 1  # what the Bot API stand-in answered for sendMessage
        press = tg_press(telegram_button(fake_api, "Approve"), message_id=message_id)
        assert (await post_telegram(dc, press)).status_code == 200

        final = await fetch(dc, dkeys.live_headers, created["id"])
        assert final["status"] == "approved"
        assert final["response"]["action"] == "approve"
        assert final["response"]["channel"] == "telegram"
        assert final["response"]["text"] is None
        claims = await verify_offline(dc, final["proof_token"])
        assert claims["type"] == "confirmation"
        assert claims["sub"] == claims["confirmation_id"] == created["id"]
        assert claims["hitl_id"] == hitl["id"]
        assert claims["message_hash"] == hashlib.sha256(created["message"].encode()).hexdigest()
        assert claims["decision"] == "approve"
        assert claims["comment_hash"] is None
        assert claims["channel"] == "telegram"
        assert claims["decided_at"] == final["decided_at"]
        who = hashlib.sha256(f"telegram:{CHAT_ID}".encode()).hexdigest()
        assert claims["decided_by_hash"] == who

        answer = sent_to(fake_api, "/answerCallbackQuery")[-1]
        assert answer["callback_query_id"] == press["callback_query"]["id"]
        assert answer["text"] == "✅ Approved."
        edits = sent_to(fake_api, "/editMessageText")
        assert edits[-1]["chat_id"] == str(CHAT_ID) and edits[-1]["message_id"] == message_id
        assert "✅ Approved via Telegram" in edits[-1]["text"]
        assert "reply_markup" not in edits[-1]
        # The other channel is told the outcome.
        assert "✅ Approved via Telegram" in sent_to(fake_api, "/messages")[-1]["text"]["body"]
        [event] = await events_of(dapp, "confirmation.")
        assert event["type"] == "confirmation.approved"
        assert event["data"]["proof_token"] == final["proof_token"]

    async def test_a_reply_decides_with_a_comment(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        hitl = await live_setup(dc, dkeys, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        await post_telegram(dc, tg_message("deny: not before the freeze ends", reply_to=1))
        final = await fetch(dc, dkeys.live_headers, created["id"])
        assert final["status"] == "denied"
        assert final["response"]["text"] == "not before the freeze ends"
        claims = await verify_offline(dc, final["proof_token"])
        expected = hashlib.sha256(b"not before the freeze ends").hexdigest()
        assert claims["comment_hash"] == expected and claims["decision"] == "deny"
        assert sent_to(fake_api, "/sendMessage")[-1]["text"].startswith("❌ Denied.")

    async def test_a_reply_without_a_decision_word_explains(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        hitl = await live_setup(dc, dkeys, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        await post_telegram(dc, tg_message("hmm, which build?", reply_to=1))
        assert (await fetch(dc, dkeys.live_headers, created["id"]))["status"] == "pending"
        assert "approve <comment>" in sent_to(fake_api, "/sendMessage")[-1]["text"]

    async def test_a_press_from_a_chat_that_is_not_a_recipient_is_refused(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi, dapp: FastAPI
    ) -> None:
        hitl = await live_setup(dc, dkeys, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        data = telegram_button(fake_api, "Approve")
        await post_telegram(dc, tg_press(data, chat_id=OTHER_CHAT_ID))
        # In the recipient's chat, but pressed by someone else (forwarded into a private chat?).
        await post_telegram(dc, tg_press(data, chat_id=CHAT_ID, user_id=OTHER_CHAT_ID))
        assert (await fetch(dc, dkeys.live_headers, created["id"]))["status"] == "pending"
        answers = [a["text"] for a in sent_to(fake_api, "/answerCallbackQuery")]
        assert answers[-2:] == ["Only a recipient of this request can answer it."] * 2
        assert await events_of(dapp, "confirmation.") == []

    async def test_a_forged_callback_key_is_refused(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        hitl = await live_setup(dc, dkeys, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        await post_telegram(dc, tg_press("ha:AAAAAAAAAAAAAAAA"))
        assert (await fetch(dc, dkeys.live_headers, created["id"]))["status"] == "pending"
        assert sent_to(fake_api, "/answerCallbackQuery")[-1]["text"] == "This request is not valid."

    async def test_a_later_press_is_told_who_decided(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi, dapp: FastAPI
    ) -> None:
        hitl = await live_setup(dc, dkeys, [TELEGRAM, WHATSAPP])
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        await post_whatsapp(dc, wa_button(whatsapp_button(fake_api, "Deny"), "Deny"))
        await post_telegram(dc, tg_press(telegram_button(fake_api, "Approve")))
        final = await fetch(dc, dkeys.live_headers, created["id"])
        assert final["status"] == "denied" and final["response"]["channel"] == "whatsapp"
        assert (
            sent_to(fake_api, "/answerCallbackQuery")[-1]["text"] == "Already denied via WhatsApp."
        )
        assert [e["type"] for e in await events_of(dapp, "confirmation.")] == [
            "confirmation.denied"
        ]
        async with dapp.state.vouch.db.session() as session:
            count = await session.scalar(
                select(func.count()).select_from(Proof).where(Proof.family == "confirmation")
            )
        assert count == 1


class TestWhatsAppDecision:
    async def test_the_approve_button_decides(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        hitl = await live_setup(dc, dkeys, [TELEGRAM, WHATSAPP])
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        button = whatsapp_button(fake_api, "Approve")
        assert (await post_whatsapp(dc, wa_button(button, context_id=WAMID))).status_code == 200
        final = await fetch(dc, dkeys.live_headers, created["id"])
        assert final["status"] == "approved" and final["response"]["channel"] == "whatsapp"
        claims = await verify_offline(dc, final["proof_token"])
        assert claims["decided_by_hash"] == hashlib.sha256(f"whatsapp:{PHONE}".encode()).hexdigest()
        # The Telegram request is edited to show the outcome; its buttons are gone.
        edit = sent_to(fake_api, "/editMessageText")[-1]
        assert "✅ Approved via WhatsApp" in edit["text"] and "reply_markup" not in edit
        assert sent_to(fake_api, "/messages")[-1]["text"]["body"] == "✅ Approved."

    async def test_a_reply_to_the_request_carries_a_comment(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        hitl = await live_setup(dc, dkeys, [WHATSAPP])
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        await post_whatsapp(dc, wa_text("Approve - ship it!", context_id=WAMID))
        final = await fetch(dc, dkeys.live_headers, created["id"])
        assert final["status"] == "approved" and final["response"]["text"] == "ship it!"

    async def test_a_press_from_another_number_is_refused(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        hitl = await live_setup(dc, dkeys, [WHATSAPP])
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        button = whatsapp_button(fake_api, "Approve")
        await post_whatsapp(dc, wa_button(button, wa_id=OTHER_WA_ID))
        assert (await fetch(dc, dkeys.live_headers, created["id"]))["status"] == "pending"
        reply = sent_to(fake_api, "/messages")[-1]
        assert reply["to"] == OTHER_WA_ID
        assert reply["text"]["body"] == "Only a recipient of this request can answer it."

    async def test_a_bad_signature_changes_nothing(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        hitl = await live_setup(dc, dkeys, [WHATSAPP])
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        raw = json.dumps(wa_button(whatsapp_button(fake_api, "Approve"))).encode()
        response = await dc.post(
            "/inbound/whatsapp",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": "sha256=" + "0" * 64,
            },
        )
        assert response.status_code == 401
        assert (await fetch(dc, dkeys.live_headers, created["id"]))["status"] == "pending"


class TestTimeout:
    async def test_no_answer_in_time_is_a_system_denial(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi, dapp: FastAPI
    ) -> None:
        hitl = await live_setup(dc, dkeys, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        await expire_now(dapp, created["id"])
        final = await fetch(dc, dkeys.live_headers, created["id"])
        assert final["status"] == "expired"
        assert final["response"] == {
            "action": "deny",
            "text": "timeout",
            "channel": "system",
            "responded_at": final["decided_at"],
        }
        [event] = await events_of(dapp, "confirmation.")
        assert event["type"] == "confirmation.denied"
        assert event["data"]["response"]["channel"] == "system"
        assert event["data"]["response"]["text"] == "timeout"
        claims = await verify_offline(dc, final["proof_token"])
        assert claims["confirmation_status"] == "expired" and claims["channel"] == "system"
        assert "⌛ Expired" in sent_to(fake_api, "/editMessageText")[-1]["text"]

    async def test_a_press_after_the_timeout_is_refused(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi, dapp: FastAPI
    ) -> None:
        hitl = await live_setup(dc, dkeys, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        await expire_now(dapp, created["id"])
        await post_telegram(dc, tg_press(telegram_button(fake_api, "Approve")))
        final = await fetch(dc, dkeys.live_headers, created["id"])
        assert final["status"] == "expired"
        assert sent_to(fake_api, "/answerCallbackQuery")[-1]["text"] == "This request has expired."

    async def test_test_respond_after_the_timeout_is_refused(
        self, dc: httpx.AsyncClient, dkeys: Keys, dapp: FastAPI
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.test_headers, hitl["id"])).json()
        await expire_now(dapp, created["id"])
        response = await dc.post(
            f"/api/v1/confirmations/{created['id']}/test-respond",
            json={"action": "approve"},
            headers=dkeys.test_headers,
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "confirmation_expired"

    async def test_the_background_sweep_times_out_unread_requests(
        self, dc: httpx.AsyncClient, dkeys: Keys, dapp: FastAPI
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.test_headers, hitl["id"])).json()
        await expire_now(dapp, created["id"])
        assert await sweep(dapp.state.vouch) == (1, 0)
        assert [e["type"] for e in await events_of(dapp, "confirmation.")] == [
            "confirmation.denied"
        ]
        assert await sweep(dapp.state.vouch) == (0, 0)


class TestBackgroundSweep:
    async def test_every_server_sweeps_at_its_sweep_interval(
        self, settings_factory: Any, fake_api: FakeApi, smtp: SmtpSink
    ) -> None:
        from tests.approval.standins import provider_settings
        from tests.fixtures.tenancy import make_keys
        from vouch_server.app import create_app

        app = create_app(
            settings_factory(**provider_settings(fake_api, smtp), expiry_sweep_seconds=0.2)
        )
        async with app.router.lifespan_context(app):
            keys = await make_keys(app.state.vouch)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
                hitl = await create_hitl(c, keys.test_headers, [TELEGRAM])
                created = (await create_confirmation(c, keys.test_headers, hitl["id"])).json()
                await expire_now(app, created["id"])
                for _ in range(50):
                    if await events_of(app, "confirmation."):
                        break
                    await asyncio.sleep(0.1)
                [event] = await events_of(app, "confirmation.")
                assert event["data"]["status"] == "expired"


class TestTestMode:
    async def test_test_respond_decides_with_a_comment(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.test_headers, hitl["id"])).json()
        url = f"/api/v1/confirmations/{created['id']}/test-respond"
        response = await dc.post(
            url, json={"action": "approve", "text": "Ship it!"}, headers=dkeys.test_headers
        )
        assert response.status_code == 200
        assert response.json()["response"]["text"] == "Ship it!"
        assert response.json()["response"]["channel"] == "test"
        again = await dc.post(url, json={"action": "deny"}, headers=dkeys.test_headers)
        assert again.status_code == 400
        assert again.json()["error"]["code"] == "already_decided"

    async def test_live_keys_cannot_test_respond(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        hitl = await live_setup(dc, dkeys, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        response = await dc.post(
            f"/api/v1/confirmations/{created['id']}/test-respond",
            json={"action": "approve"},
            headers=dkeys.live_headers,
        )
        assert response.status_code == 403


class TestReading:
    async def test_long_poll_returns_as_soon_as_it_is_decided(
        self, dc: httpx.AsyncClient, dkeys: Keys, dapp: FastAPI
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.test_headers, hitl["id"])).json()

        async def decide_soon() -> None:
            # Decide once the poll is waiting on the bus (not after a guessed delay).
            channel = f"confirmation:{created['id']}"
            await asyncio.wait_for(dapp.state.vouch.bus.hub.wait_for_subscriber(channel), 10)
            await dc.post(
                f"/api/v1/confirmations/{created['id']}/test-respond",
                json={"action": "deny", "text": "no"},
                headers=dkeys.test_headers,
            )

        started = asyncio.get_running_loop().time()
        poll, _ = await asyncio.gather(
            dc.get(f"/api/v1/confirmations/{created['id']}?wait=30", headers=dkeys.test_headers),
            decide_soon(),
        )
        assert poll.json()["status"] == "denied"
        assert asyncio.get_running_loop().time() - started < 10

    async def test_long_poll_gives_up_after_wait_seconds(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.test_headers, hitl["id"])).json()
        poll = await dc.get(
            f"/api/v1/confirmations/{created['id']}?wait=1", headers=dkeys.test_headers
        )
        assert poll.status_code == 200 and poll.json()["status"] == "pending"
        too_long = await dc.get(
            f"/api/v1/confirmations/{created['id']}?wait=61", headers=dkeys.test_headers
        )
        assert too_long.status_code == 400

    async def test_event_stream_reports_the_decision(
        self, dc: httpx.AsyncClient, dkeys: Keys, dapp: FastAPI
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.test_headers, hitl["id"])).json()
        events: list[tuple[str, dict[str, Any]]] = []

        async def listen() -> None:
            url = f"/api/v1/confirmations/{created['id']}/events"
            async with dc.stream("GET", url, headers=dkeys.test_headers) as response:
                name = None
                async for line in response.aiter_lines():
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: ") and name:
                        events.append((name, json.loads(line[6:])))

        listener = asyncio.create_task(listen())
        # Decide once the stream is subscribed to the bus (httpx's ASGI transport hands over the
        # body only when the response ends, so the first event cannot be awaited here).
        channel = f"confirmation:{created['id']}"
        await asyncio.wait_for(dapp.state.vouch.bus.hub.wait_for_subscriber(channel), 10)
        await dc.post(
            f"/api/v1/confirmations/{created['id']}/test-respond",
            json={"action": "approve"},
            headers=dkeys.test_headers,
        )
        await asyncio.wait_for(listener, 10)
        assert events[0] == ("connected", {"id": created["id"], "status": "pending"})
        assert events[-1][0] == "status_changed" and events[-1][1]["status"] == "approved"

    async def test_list_filters(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        first = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        second = await create_hitl(dc, dkeys.test_headers, [WEB])
        a = (await create_confirmation(dc, dkeys.test_headers, first["id"])).json()
        await create_confirmation(dc, dkeys.test_headers, second["id"])
        await dc.post(
            f"/api/v1/confirmations/{a['id']}/test-respond",
            json={"action": "approve"},
            headers=dkeys.test_headers,
        )

        async def ids(**params: str) -> list[str]:
            body = (
                await dc.get("/api/v1/confirmations", params=params, headers=dkeys.test_headers)
            ).json()
            return [c["id"] for c in body["data"]]

        assert await ids(status="approved") == [a["id"]]
        assert len(await ids(hitl_id=second["id"])) == 1
        assert len(await ids()) == 2
        assert await ids(**{"from": (utcnow() + timedelta(minutes=1)).isoformat()}) == []

    async def test_another_project_cannot_read_it(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.test_headers, hitl["id"])).json()
        other = dkeys.auth(dkeys.other_test)
        assert (
            await dc.get(f"/api/v1/confirmations/{created['id']}", headers=other)
        ).status_code == 404
        respond = await dc.post(
            f"/api/v1/confirmations/{created['id']}/test-respond",
            json={"action": "approve"},
            headers=other,
        )
        assert respond.status_code == 404


class TestApprovalLink:
    async def test_a_chat_config_gets_a_link_too_and_the_proof_says_web(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.test_headers, hitl["id"])).json()
        response = await dc.post(
            f"/api/v1/confirmations/{created['id']}/approval-link", headers=dkeys.test_headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["approval_url"] == body["url"]
        answered = await dc.post(
            body["url"].removeprefix("https://vouch.test"), data={"action": "approve"}
        )
        assert answered.status_code == 200, answered.text
        decided = (
            await dc.get(f"/api/v1/confirmations/{created['id']}", headers=dkeys.test_headers)
        ).json()
        assert decided["status"] == "approved"
        claims = jwt.decode(decided["proof_token"], options={"verify_signature": False})
        assert claims["channel"] == "web"

    async def test_gives_a_signed_single_use_link(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, [WEB])
        created = (await create_confirmation(dc, dkeys.test_headers, hitl["id"])).json()
        response = await dc.post(
            f"/api/v1/confirmations/{created['id']}/approval-link", headers=dkeys.test_headers
        )
        assert response.status_code == 200
        body = response.json()
        assert body["url"] == f"https://vouch.test/approve/{body['token']}"
        assert body["expires_at"][:19] == created["expires_at"][:19]
        assert body["single_use"] is True


class TestProofRevocation:
    async def test_revoking_a_decision_proof_shows_on_the_confirmation(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        created = (await create_confirmation(dc, dkeys.test_headers, hitl["id"])).json()
        await dc.post(
            f"/api/v1/confirmations/{created['id']}/test-respond",
            json={"action": "approve"},
            headers=dkeys.test_headers,
        )
        revoked = await dc.post(
            f"/api/v1/proofs/{created['id']}/revoke",
            json={"reason": "other"},
            headers=dkeys.test_headers,
        )
        assert revoked.status_code == 200
        final = await fetch(dc, dkeys.test_headers, created["id"])
        assert final["status"] == "approved" and final["revoked_reason"] == "other"
